# -*- coding: utf-8 -*-
"""The ddp_benchmark module end to end, with torch and NVML replaced at their boundaries: the probe's
answer is given, torchrun is played by fake_torchrun.py (real child processes that crash, hang, run
out of memory or succeed) and NVML by fake_nvml. Its logic alone is tested in
tests/unit/plugins/module_utils/test_ddp.py; real torch runs are the integration target's job."""

import json
import os
import re
import sys
import time

import pytest
from ansible.module_utils.testing import patch_module_args
from ddp_fakes import CPU_PROBE, DEFAULTS, GPU_PROBE, two_h200s
from deprecation import alias_deprecated, deprecations, forget_deprecations

from ansible_collections.vaultcube.demobox.plugins.module_utils import _ddp as D
from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml, _proc
from ansible_collections.vaultcube.demobox.plugins.modules import ddp_benchmark as M

FAKE = os.path.join(os.path.dirname(__file__), "..", "..", "fake_torchrun.py")
REAL_BUILD_COMMAND = D.build_command


def test_the_shared_defaults_are_the_modules():
    """tests/unit/ddp_fakes.py writes the module's defaults out for the tests of _ddp.py."""
    assert DEFAULTS == {key: spec.get("default") for key, spec in M.argument_spec().items()}


def processes_with(token):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                if token.encode() in handle.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


@pytest.fixture
def launch(monkeypatch, capsys, tmp_path):
    """Run the module with a given probe answer and a fake torchrun scenario; returns (rc, out, token)."""

    def _launch(args, scenario="ok", probe=None, nvml=None, world_sizes=None):
        token = "vaultcube-fake-%s-%d" % (scenario, time.time_ns())
        calls = {"launched": False}
        seen = {}

        def fake_probe(interpreter, worker, workdir):
            seen["interpreter"] = interpreter
            assert os.path.isfile(worker) and open(worker).read().startswith("# -*- coding: utf-8 -*-")
            info = dict(probe or GPU_PROBE)
            info["python"] = interpreter
            return info

        def fake_command(p, plan, interpreter, worker, config_path, out_dir):
            calls["real"] = REAL_BUILD_COMMAND(p, plan, interpreter, worker, config_path, out_dir)
            calls["launched"] = True
            calls["config"] = json.load(open(config_path))
            return [sys.executable, FAKE, scenario, out_dir, token, json.dumps(world_sizes or plan["world_sizes"])]

        monkeypatch.setattr(D, "run_probe", fake_probe)
        if scenario is not None:
            monkeypatch.setattr(D, "build_command", fake_command)
        monkeypatch.setattr(_nvml, "load_binding", lambda paths: (nvml, None if nvml else "no pynvml here"))
        args = dict({"worker_python": sys.executable}, **args)
        if args["worker_python"] is None:
            del args["worker_python"]
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                M.main()
        out = json.loads(capsys.readouterr().out)
        out["_calls"] = calls
        out["_probe"] = seen
        return exc.value.code, out, token

    return _launch


# --- parameters: one sentence, nothing run ----------------------------------------------------

@pytest.mark.parametrize("args,msg", [
    ({"batch_size": 0}, "batch_size must be 1 or more, got 0."),
    ({"steps": 0}, "steps must be 1 or more, got 0."),
    ({"warmup": -1}, "warmup must be 0 or more, got -1."),
    ({"num_classes": 1}, "num_classes must be 2 or more, got 1."),
    ({"bucket_cap_mb": 0}, "bucket_cap_mb must be more than 0, got 0.0."),
    ({"model": "resnet50; rm -rf /"}, "model must be a model name such as resnet50 or small_cnn, got 'resnet50; rm -rf /'."),
    ({"world_sizes": []}, "world_sizes must list at least one world size."),
    ({"world_sizes": [0, 2]}, "world_sizes must be 1 or more each, got [0, 2]."),
    ({"world_sizes": [2, 2]}, "world_sizes must not repeat a size, got [2, 2]."),
    ({"device": "cpu", "backend": "nccl"}, "backend nccl needs GPUs (device: cuda); a CPU run uses gloo (backend: auto or gloo)."),
    ({"device": "cpu", "precision": "fp16"}, "precision fp16 needs device cuda; a CPU run supports fp32 and bf16."),
    ({"device": "cpu", "cuda_graphs": True}, "cuda_graphs needs device cuda."),
    ({"device": "cpu", "input_pipeline": "host"}, "input_pipeline host (a copy to the GPU every step) needs device cuda."),
    ({"cuda_graphs": True, "precision": "fp16"}, "cuda_graphs cannot be used with precision fp16"),
    ({"cuda_graphs": True, "compile": True}, "cuda_graphs and compile cannot be combined; choose one."),
    ({"nnodes": 2}, "nnodes 2 needs a rendezvous: set rdzv_endpoint (host:port of a c10d rendezvous) or master_addr."),
    ({"nnodes": 2, "node_rank": 2, "master_addr": "n0"}, "node_rank must be between 0 and nnodes - 1 (1), got 2."),
    ({"master_port": 70000}, "master_port must be a TCP port (1-65535), got 70000."),
    ({"rdzv_endpoint": "node0"}, "rdzv_endpoint must look like host:port, got 'node0'."),
    ({"nnodes": 2, "rdzv_endpoint": "n0:29400", "master_addr": "n0"}, "Set either rdzv_endpoint"),
    ({"min_scaling_efficiency": 180}, "min_scaling_efficiency is a percentage (0-100), got 180.0."),
    ({"min_throughput": -1}, "min_throughput must be 0 or more, got -1.0."),
    ({"precision": "int8"}, "value of precision must be one of"),
    ({"batch_size": "many"}, "batch_size"),
])
def test_bad_parameters_fail_with_one_sentence_and_run_nothing(launch, args, msg):
    code, out, dummy = launch(args)
    assert code == 1 and msg in out["msg"]
    assert not out["_calls"]["launched"]
    assert "Traceback" not in out["msg"]


def test_missing_interpreter_is_named(launch):
    code, out, dummy = launch({"worker_python": "/nonexistent/bin/python"})
    assert code == 1 and out["msg"] == (
        "worker_python /nonexistent/bin/python is not an executable file: set worker_python to the AI venv's python "
        "(/opt/vaultcube/venv/bin/python, made by the ai_frameworks role) or to another interpreter that has what the "
        "worker imports.")


# --- plan: device, backend, world sizes ------------------------------------------------------


def test_plan_refusal_ends_the_task_before_launching(launch):
    code, out, dummy = launch({}, probe=CPU_PROBE)
    assert code == 1 and out["msg"].startswith("No GPU for device cuda: ")
    assert not out["_calls"]["launched"]


# --- the launcher command -------------------------------------------------------------------


def test_an_eager_run_failure_does_not_mention_cuda_graphs(launch):
    code, out, dummy = launch({"cuda_graphs": False}, "crash")
    assert code == 1 and out["msg"].startswith("The DDP training worker failed on rank 1") and "CUDA graph" not in out["msg"]
    assert out["_calls"]["config"]["cuda_graphs"] is False


# --- statistics -----------------------------------------------------------------------------


# --- judging ---------------------------------------------------------------------------------


# --- whole runs through fake launchers --------------------------------------------------------

def test_a_gpu_run_returns_the_contract_tables_and_plot(launch):
    code, out, token = launch({"min_scaling_efficiency": 80, "min_gpu_utilization": 90, "max_temperature_c": 85,
                               "steps": 10}, "ok", nvml=two_h200s())
    assert code == 0 and out["changed"] is False and out["passed"] is True, out["msg"]
    assert out["msg"] == "resnet50 trained at 160.0 samples/s on world size 1 and 301.9 on 2 (94.3% scaling efficiency)."
    m = out["metrics"]
    assert m["world_sizes"] == [1, 2] and m["samples_per_second"] == out["metrics"]["runs"][1]["samples_per_second"]
    assert m["gpu_utilization_percent"] == 97.0 and m["gpu_temperature_max_c"] == 64
    cfg = m["config"]
    assert (cfg["model"], cfg["batch_size"], cfg["precision"], cfg["gradient_as_bucket_view"], cfg["sync_buffers"]) == (
        "resnet50", 32, "bf16", True, False)
    assert cfg["batched_grad_copy"] == "unavailable in torch 2.11.0+cu130 (ignored)"
    # unset cuda_graphs = on for a bf16 GPU run; the worker is told so and the report says it was the default
    assert (cfg["cuda_graphs"], cfg["cuda_graphs_choice"], out["_calls"]["config"]["cuda_graphs"]) == (True, "default", True)
    # the configuration records the command that ran (here the fake launcher in torchrun's place)
    assert cfg["command"] == " ".join(out["command"]) and "fake_torchrun.py ok" in cfg["command"]
    assert out["_calls"]["real"][:8] == [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
                                         "--nproc-per-node", "2"]
    assert out["_calls"]["config"]["world_sizes"] == [1, 2] and out["_calls"]["config"]["backend"] == "nccl"
    env = out["environment"]
    assert env["torch"] == "2.11.0+cu130" and env["nccl"] == "2.27.7" and env["gpu_names"] == ["NVIDIA H200"]
    assert env["interconnect"]["pairs"][0]["link"] == "NVLink"
    scaling, configuration = out["tables"]
    assert scaling["title"] == "Scaling: resnet50, batch 32 per GPU, bf16, nccl on cuda"
    assert scaling["rows"][1][:4] == [2, 301.9, 150.9, 94.3]
    assert ["nproc_per_node", 2] in configuration["rows"]
    plot = out["plots"][0]
    assert plot["series"] == {"measured": [[1, 160.0], [2, 301.9]], "ideal (linear from world size 1)": [[1, 160.0], [2, 320.0]]}
    assert processes_with(token) == []


def test_a_failed_threshold_fails_the_task_unless_told_not_to(launch):
    code, out, dummy = launch({"min_scaling_efficiency": 99, "steps": 10}, "ok", nvml=two_h200s())
    assert code == 1 and out["msg"] == "Scaling efficiency from world size 1 to 2 is 94.3%, below the minimum of 99%."
    code, out, dummy = launch({"min_scaling_efficiency": 99, "steps": 10, "fail_on_threshold": False}, "ok", nvml=two_h200s())
    assert code == 0 and out["passed"] is False and out["failures"]


def test_check_mode_says_the_command_and_launches_nothing(launch):
    code, out, token = launch({"_ansible_check_mode": True}, None)
    assert code == 0 and out["changed"] is False and out["passed"] is None
    assert [c["status"] for c in out["checks"]] == ["skipped"]
    assert re.match(r"^Check mode: would run %s -m torch\.distributed\.run --standalone --nnodes 1 --nproc-per-node 2 "
                    r"--max-restarts 0 /\S+/ddp_worker\.py --config /\S+/config\.json --out /\S+ "
                    r"\(world sizes 1, 2, nccl on cuda\)\.$" % re.escape(sys.executable), out["msg"]), out["msg"]
    assert out["command"] == out["msg"][len("Check mode: would run "):].split(" (world")[0].split(" ")
    assert out["metrics"]["config"]["world_sizes"] == [1, 2]
    assert processes_with(token) == []


def test_crashed_rank_is_one_sentence_with_its_last_lines_and_nothing_is_left(launch):
    code, out, token = launch({}, "crash")
    assert code == 1
    assert out["msg"] == ("The DDP training worker failed on rank 1 (fakehost): RuntimeError: NCCL error in: "
                          "ProcessGroupNCCL.cpp:123, unhandled system error. Last error lines: "
                          "loss = step() | File \"ddp_worker.py\", line 199, in eager_step | loss.backward(). "
                          "The training step ran as a CUDA graph (cuda_graphs); cuda_graphs: false runs it eagerly.")
    assert any("exitcode  : 1" in line for line in out["worker_output"])
    # rank 0 was left running by the launcher, in a session of its own: swept all the same
    assert processes_with(token) == []


def test_out_of_memory_names_the_batch_size(launch):
    code, out, token = launch({"batch_size": 4096}, "oom")
    assert code == 1
    assert out["msg"].startswith("The DDP benchmark ran out of GPU memory at batch size 4096 per GPU (rank 0: "
                                 "OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.")
    assert out["msg"].endswith("; lower batch_size or image_size.")
    assert processes_with(token) == []


def test_a_hang_is_stopped_at_the_timeout_with_nothing_left(launch):
    started = time.time()
    code, out, token = launch({"timeout": 3, "cuda_graphs": False}, "hang")
    assert code == 1 and time.time() - started < 60
    assert out["msg"] == ("The DDP benchmark did not finish within its timeout of 3s and was stopped with every process it "
                          "started (last progress: world size 1: warm-up done (2 steps), timing 1000000 steps).")
    assert processes_with(token) == []


def test_a_rank_killed_by_a_signal(launch):
    code, out, token = launch({"cuda_graphs": False}, "killed")
    assert code == 1
    assert out["msg"] == "The DDP training worker of rank 1 was killed by SIGKILL (often the kernel's out-of-memory killer)."
    assert processes_with(token) == []


def test_a_known_worker_refusal_is_passed_on(launch):
    code, out, dummy = launch({"model": "resnet5000"}, "known")
    assert code == 1
    assert out["msg"] == ("ddp_benchmark could not run: torchvision 0.26.0 has no classification model named resnet5000 "
                          "(it has e.g. alexnet).")


def test_a_launcher_that_fails_on_its_own(launch):
    code, out, token = launch({}, "silent")
    assert code == 1
    assert out["msg"] == ("The DDP benchmark launcher exited with status 2: torchrun: error: unrecognized arguments: "
                          "--frobnicate.")
    assert processes_with(token) == []


def test_cpu_run_reports_no_gpu_figures(launch):
    code, out, dummy = launch({"device": "cpu", "model": "small_cnn", "steps": 10}, "ok", probe=CPU_PROBE)
    assert code == 0 and out["passed"] is None
    assert out["environment"]["nvml"] == "not used (CPU run)" and out["environment"]["gpu_names"] == []
    assert out["tables"][0]["columns"][2] == "samples/s per process"
    assert out["plots"][0]["x_label"] == "world size (processes)"
    assert out["metrics"]["config"]["cpu_threads"] == 2


def test_interpreter_defaults_to_the_ai_venv_else_the_modules_own(launch):
    code, out, dummy = launch({"worker_python": None, "_ansible_check_mode": True}, None)
    assert code == 0 and out["_probe"]["interpreter"] == _proc.default_interpreter()
    assert out["_probe"]["interpreter"] in ("/opt/vaultcube/venv/bin/python", sys.executable)


def test_the_old_name_python_interpreter_works_and_is_deprecated(launch):
    forget_deprecations()
    code, out, dummy = launch({"worker_python": None, "python_interpreter": sys.executable, "_ansible_check_mode": True}, None)
    assert code == 0 and out["_probe"]["interpreter"] == sys.executable
    assert deprecations(out) == [alias_deprecated("python_interpreter")]
