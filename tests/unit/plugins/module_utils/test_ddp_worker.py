# -*- coding: utf-8 -*-
"""The torch-free parts of the DDP worker. Its training loop runs for real in the ddp_benchmark
integration target (CPU, gloo) and on the GPU machine (tests/gpu/ddp_benchmark.yml)."""
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.vaultcube.demobox.plugins.module_utils import _ddp_worker as W

HAS_TORCH = subprocess.call([sys.executable, "-c", "import torch"], stderr=subprocess.DEVNULL) == 0


@pytest.mark.skipif(HAS_TORCH, reason="this interpreter has torch")
def test_probe_without_torch_says_why():
    info = W.probe()
    assert info["torch"] is None and info["python"] == sys.executable
    assert info["torch_error"] == "ModuleNotFoundError: No module named 'torch'"


def test_probe_prints_one_json_line(capsys):
    assert W.main(["--probe"]) == 0
    line = capsys.readouterr().out.strip()
    assert json.loads(line)["python_version"] == "%d.%d.%d" % sys.version_info[:3]


class OldDDP:  # torch <= 2.12: broadcast_buffers, no batched_grad_copy
    def __init__(self, module, device_ids=None, broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 gradient_as_bucket_view=False, static_graph=False):
        pass


class NewDDP:  # torch 2.13: forward_sync_buffers and batched_grad_copy
    def __init__(self, module, device_ids=None, broadcast_buffers=None, process_group=None, bucket_cap_mb=None,
                 gradient_as_bucket_view=False, static_graph=False, batched_grad_copy=False, forward_sync_buffers=None):
        pass


CFG = {"bucket_cap_mb": 25.0, "gradient_as_bucket_view": True, "static_graph": False, "sync_buffers": False,
       "batched_grad_copy": True}


def test_ddp_arguments_follow_the_installed_torch():
    old = W.ddp_arguments(OldDDP, CFG, "group", [0])
    assert old == {"process_group": "group", "device_ids": [0], "bucket_cap_mb": 25.0, "gradient_as_bucket_view": True,
                   "static_graph": False, "broadcast_buffers": False}
    new = W.ddp_arguments(NewDDP, CFG, None, None)
    assert new["forward_sync_buffers"] is False and new["batched_grad_copy"] is True and "broadcast_buffers" not in new
    assert "batched_grad_copy" not in W.ddp_arguments(NewDDP, dict(CFG, batched_grad_copy=False), None, None)
    assert OldDDP(None, **old) and NewDDP(None, **new)  # the arguments are accepted


def test_report_error_writes_a_sentence_and_the_last_lines(tmp_path, capsys):
    try:
        raise RuntimeError("CUDA error: an illegal memory access was encountered\nCompile with TORCH_USE_CUDA_DSA")
    except RuntimeError as exc:
        W.report_error(str(tmp_path), 3, exc)
    err = capsys.readouterr().err
    assert err.startswith("VAULTCUBE_DDP_ERROR rank=3: RuntimeError: CUDA error: an illegal memory access")
    data = json.load(open(tmp_path / "error-rank3.json"))
    assert data["known"] is False and data["rank"] == 3
    assert data["sentence"] == ("RuntimeError: CUDA error: an illegal memory access was encountered "
                                "Compile with TORCH_USE_CUDA_DSA")
    assert data["lines"][0] == "Traceback (most recent call last):"
    W.report_error(str(tmp_path), 0, W.WorkerError("world size 4 is larger than the 2 ranks launched"))
    data = json.load(open(tmp_path / "error-rank0.json"))
    assert data["known"] is True and data["lines"] == ["world size 4 is larger than the 2 ranks launched"]


@pytest.mark.skipif(HAS_TORCH, reason="this interpreter has torch")
def test_a_rank_that_cannot_start_reports_and_exits_nonzero(tmp_path):
    """The worker as torchrun starts it, under an interpreter without torch."""
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"device": "cpu"}))
    env = dict(os.environ, RANK="1", WORLD_SIZE="2", LOCAL_RANK="1")
    proc = subprocess.run([sys.executable, W.__file__, "--config", str(cfg), "--out", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert "VAULTCUBE_DDP_ERROR rank=1: ModuleNotFoundError: No module named 'torch'" in proc.stderr
    data = json.load(open(tmp_path / "error-rank1.json"))
    assert data["sentence"] == "ModuleNotFoundError: No module named 'torch'" and data["known"] is False


AI_PYTHON = os.environ.get("VAULTCUBE_AI_PYTHON")
COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not AI_PYTHON, reason="VAULTCUBE_AI_PYTHON (the CPU torch venv that scripts/test.sh makes) is not set")
def test_real_worker_trains_two_ranks_on_the_cpu(tmp_path):
    """Both ranks of a world of two, started the way torchrun starts them (env:// rendezvous), under
    the CPU torch venv and coverage.py, whose data pytest-cov merges into this run's report."""
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _ddp as D

    cfg = {"model": "small_cnn", "num_classes": 10, "image_size": 16, "batch_size": 4, "precision": "bf16",
           "channels_last": True, "cudnn_benchmark": True, "input_pipeline": "device", "device": "cpu", "backend": "gloo",
           "bucket_cap_mb": 1.0, "gradient_as_bucket_view": True, "batched_grad_copy": True, "static_graph": True,
           "sync_buffers": True, "cuda_graphs": False, "compile": False, "warmup": 2, "steps": 4, "world_sizes": [1, 2],
           "cpu_threads": 1, "timeout": 120}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    port = str(free_port())
    procs = []
    for rank in (0, 1):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", LOCAL_WORLD_SIZE="2", GROUP_RANK="0",
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=port, OMP_NUM_THREADS="1")
        argv = [AI_PYTHON, "-m", "coverage", "run", "--parallel-mode", "--source", os.path.join(COLLECTION_ROOT, "plugins"),
                "--data-file", os.path.join(COLLECTION_ROOT, ".coverage"), W.__file__,
                "--config", str(tmp_path / "config.json"), "--out", str(tmp_path)]
        procs.append(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert "[ddp_worker] world size 2: 4 steps in" in outputs[0][0]
    result = json.load(open(tmp_path / "result-node0.json"))
    assert [r["world_size"] for r in result["runs"]] == [1, 2]
    assert [len(r["ranks"]) for r in result["runs"]] == [1, 2]
    assert result["versions"]["torch"].startswith("2.") and len(result["devices"]) == 2
    for run in result["runs"]:
        for r in run["ranks"]:
            assert len(r["step_ms"]) == 4 and all(v > 0 for v in r["step_ms"])
            assert r["window"][0] < r["window"][1] and r["wall_s"] > 0
            assert r["warmup_steps"] == 2 and r["loss_first"] > 0
    params = {"batch_size": 4, "steps": 4}
    runs = D.analyse(result, params)
    assert runs[1]["samples_per_second"] > 0 and runs[0]["scaling_efficiency_percent"] == 100.0


def test_log_writes_the_phase_and_keeps_the_last_figure_for_job_progress(tmp_path, monkeypatch, capsys):
    path = tmp_path / "progress.json"
    monkeypatch.setattr(W, "_LAST_FIGURE", {})
    monkeypatch.delenv(W.PROGRESS_VAR, raising=False)
    W.log("no file asked for")
    assert not path.exists()
    monkeypatch.setenv(W.PROGRESS_VAR, str(path))
    W.log("world size 1: building small_cnn, warming up")
    assert json.loads(path.read_text())["phase"] == "world size 1: building small_cnn, warming up"
    assert "figure" not in json.loads(path.read_text())
    W.log("world size 1: 40 steps in 2.000 s (slowest rank), 160.0 samples/s", 160.0, "samples/s")
    W.log("world size 2: building small_cnn, warming up")
    data = json.loads(path.read_text())
    assert data["phase"] == "world size 2: building small_cnn, warming up"
    assert data["figure"] == {"value": 160.0, "unit": "samples/s"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["progress.json"]
    assert capsys.readouterr().out.count("[ddp_worker] ") == 4
    monkeypatch.setenv(W.PROGRESS_VAR, str(tmp_path / "missing-dir" / "p.json"))
    W.log("an unwritable progress file does not stop the run")
