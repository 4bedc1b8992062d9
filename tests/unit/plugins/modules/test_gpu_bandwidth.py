# -*- coding: utf-8 -*-
"""The gpu_bandwidth module: parameters, the no-GPU, check-mode and one-GPU paths with NVML
replaced by fake_nvml, and what it builds from workers' records. The collectives and their exact
checks run for real in tests/integration/targets/gpu_bandwidth (gloo, world size 2)."""
import json
import sys

import pytest
from ansible.module_utils.testing import patch_module_args
from fake_nvml import FakeNVML, h200

from ansible_collections.vaultcube.demobox.plugins.module_utils import _bandwidth as B
from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml
from ansible_collections.vaultcube.demobox.plugins.modules import gpu_bandwidth as M

FACTS = dict(bus_width=6144, mem_max=3201, nvlinks=18)


def run_module(args, capsys, monkeypatch, fake=None, reason=None):
    monkeypatch.setattr(_nvml, "load_binding", lambda paths: (fake, reason))
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            M.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def params(**overrides):
    p = {"gpus": None, "sweep": "quick", "copy_max_bytes": None, "collective_max_bytes": None, "pairs": True,
         "collectives": True, "device": "cuda", "backend": "auto", "nproc_per_node": None, "nnodes": 1, "node_rank": 0,
         "master_addr": None, "master_port": 29500, "rdzv_endpoint": None, "rdzv_id": "x", "min_h2d": None,
         "min_d2h": None, "min_device_copy": None, "min_p2p": None, "min_busbw": None, "max_copy_latency_us": None,
         "max_collective_latency_us": None, "timeout": 600}
    p.update(overrides)
    return p


@pytest.mark.parametrize("overrides,sentence", [
    ({"timeout": 5}, "timeout must be at least 10 seconds, got 5."),
    ({"copy_max_bytes": 2}, "copy_max_bytes must be at least 4 bytes, got 2."),
    ({"gpus": [0, 0]}, "gpus must be distinct GPU indices of 0 or more, got [0, 0]."),
    ({"gpus": []}, "gpus must name at least one GPU index when it is set."),
    ({"device": "cpu", "backend": "nccl"}, "backend nccl needs GPUs (device: cuda); the CPU collectives use gloo (backend: auto or gloo)."),
    ({"nnodes": 2, "node_rank": 2}, "node_rank must be between 0 and nnodes - 1 (1), got 2."),
    ({"max_copy_latency_us": 0.0}, "max_copy_latency_us must be more than 0, got 0.0."),
])
def test_bad_parameters_are_one_sentence(overrides, sentence):
    assert M.check_params(params(**overrides)) == sentence


def test_collective_plan():
    probe = {"nccl_available": True, "gloo_available": True, "torch": "2.11", "python": "/py"}
    one = [{"index": 0}]
    two = [{"index": 0}, {"index": 1}]
    assert M.collective_plan(params(), one, probe) == (
        None, "Only one GPU takes part: there is no collective to run (collectives need 2 or more ranks).")
    assert M.collective_plan(params(), two, probe) == ({"per_node": 2, "world": 2, "backend": "nccl"}, None)
    two_nodes = M.collective_plan(params(nnodes=2, master_addr="n0"), one, probe)[0]
    assert two_nodes == {"per_node": 1, "world": 2, "backend": "nccl"}
    assert M.collective_plan(params(device="cpu"), [], probe)[0]["backend"] == "gloo"
    assert M.collective_plan(params(), two, dict(probe, nccl_available=False))[1] == (
        "NCCL is not available in torch 2.11 in /py: no collective on the GPUs.")
    assert M.collective_plan(params(nproc_per_node=3), two, probe)[1] == (
        "nproc_per_node 3 needs as many GPUs, but 2 are measured on this node.")
    assert M.collective_plan(params(collectives=False), two, probe)[1].endswith("(collectives: false).")


def test_no_gpu_fails_with_one_sentence(capsys, monkeypatch):
    code, out = run_module({"worker_python": sys.executable}, capsys, monkeypatch, FakeNVML([], init_error=12))
    assert code == 1 and out["changed"] is False
    assert out["msg"] == ("No NVIDIA GPU to measure on this host: the NVML library (libnvidia-ml.so.1) was not found: "
                          "no NVIDIA driver is installed; device: cpu measures the collectives on the CPU with gloo.")


def test_missing_gpu_index_is_named(capsys, monkeypatch):
    code, out = run_module({"worker_python": sys.executable, "gpus": [3]}, capsys, monkeypatch, FakeNVML([h200()]))
    assert code == 1 and out["msg"] == "GPU 3 was asked for, but this host has 1 GPU(s), indices 0."


def test_check_mode_says_what_it_would_measure_with_the_limits(capsys, monkeypatch):
    fake = FakeNVML([h200(**FACTS), h200(uuid="GPU-H200-1", bus_id="00000000:02:00.0", **FACTS)])
    code, out = run_module({"worker_python": sys.executable, "_ansible_check_mode": True, "min_h2d": "80%"},
                           capsys, monkeypatch, fake)
    assert code == 0 and out["passed"] is None and out["changed"] is False
    assert out["msg"] == ("Check mode: would measure copies 4 KiB to 256 MiB on GPU 0, 1 and their pairs, collectives "
                          "4 B to 1 GiB (sweep quick) under %s." % sys.executable)
    assert out["metrics"]["limits"]["pairs"]["0-1"]["gbps"] == 450.0  # 18 NVLinks x Hopper's 25 GB/s
    assert out["thresholds"]["min_h2d"] == "80%"


def test_bad_threshold_is_refused_before_anything_runs(capsys, monkeypatch):
    code, out = run_module({"worker_python": sys.executable, "min_p2p": "half"}, capsys, monkeypatch, FakeNVML([h200()]))
    assert code == 1 and out["msg"].startswith("min_p2p must be a bandwidth in GB/s")


def test_one_gpu_result_skips_pairs_and_collectives_with_sentences():
    fake = FakeNVML([h200(**FACTS)])
    inv = _nvml.inventory(fake, with_paths=True)
    lims = B.limits(inv)
    recs = [{"type": "gpu", "gpu": 0, "name": "NVIDIA H200"}]
    for kind, secs in (("h2d", 4.9e-3), ("d2h", 4.8e-3), ("device_copy", 1.3e-4)):
        recs.append({"type": "copy", "gpu": 0, "kind": kind, "memory": "device" if kind == "device_copy" else "pinned",
                     "bytes": 256 << 20, "seconds": secs})
    recs += [{"type": "latency", "gpu": 0, "kind": k, "bytes": 4, "seconds": 1e-5} for k in ("h2d", "d2h")]
    copies = B.analyse_copies(recs, lims["gpus"])
    phase = [M.R.skipped("gpu_bandwidth.pairs", "Only one GPU is measured: there is no GPU pair to copy between."),
             M.R.skipped("gpu_bandwidth.collectives", "Only one GPU takes part: there is no collective to run.")]
    p = params(min_h2d="80%", min_d2h="80%", min_device_copy="70%")
    result = M.build(p, inv, lims, copies, None, None, phase, M.parse_thresholds(p),
                     {"plan": B.plan(p), "elapsed_s": 12.0})
    names = [c["name"] for c in result["checks"]]
    assert names == ["gpu_bandwidth.gpu0.h2d", "gpu_bandwidth.gpu0.d2h", "gpu_bandwidth.gpu0.device_copy",
                     "gpu_bandwidth.gpu0.copy_latency", "gpu_bandwidth.pairs", "gpu_bandwidth.collectives"]
    assert result["passed"] is True
    assert result["metrics"]["slowest_path"]["path"] == "host -> GPU 0"
    assert result["metrics"]["gpus"][0]["device_copy_percent"] == 84.0
    assert result["msg"].startswith("GPU 0 H2D 54.8 / D2H 55.9 / in memory 4130 GB/s; the slowest path")
