# -*- coding: utf-8 -*-
"""ddp_benchmark's logic, with torch and NVML replaced at their boundaries: the probe's answer is
given, torchrun is played by fake_torchrun.py (real child processes that crash, hang, run out of
memory or succeed) and NVML by fake_nvml. Real torch runs are the integration target's job."""

import json
import os
import re
import sys
import time

import pytest
from ansible.module_utils.testing import patch_module_args
from deprecation import alias_deprecated, deprecations, forget_deprecations
from fake_nvml import FakeNVML, h200

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml
from ansible_collections.vaultcube.demobox.plugins.modules import ddp_benchmark as M

FAKE = os.path.join(os.path.dirname(__file__), "..", "..", "fake_torchrun.py")
REAL_BUILD_COMMAND = M.build_command

CPU_PROBE = {"python": "/ai/bin/python", "python_version": "3.11.7", "hostname": "h", "cpu_count": 4,
             "torch": "2.13.0+cpu", "torch_error": None, "cuda_build": None, "cuda_available": False, "device_count": 0,
             "distributed_available": True, "nccl_available": False, "gloo_available": True, "torchvision": None}
GPU_PROBE = dict(CPU_PROBE, torch="2.11.0+cu130", cuda_build="13.0", cuda_available=True, device_count=2,
                 nccl_available=True, torchvision="0.26.0", cpu_count=16)


def params(**over):
    """The module's defaults, as AnsibleModule would fill them in, with overrides."""
    p = {}
    for key, spec in M.argument_spec().items():
        p[key] = spec.get("default")
    p.update(over)
    return p


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

        monkeypatch.setattr(M, "run_probe", fake_probe)
        if scenario is not None:
            monkeypatch.setattr(M, "build_command", fake_command)
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


def two_h200s(util=(97, 60)):
    return FakeNVML([h200(uuid="GPU-H200-0", util=util, temperature=61, power=650000),
                     h200(uuid="GPU-H200-1", bus_id="00000000:02:00.0", util=util, temperature=64, power=640000)])


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

def test_default_plan_on_two_gpus_is_one_and_two():
    plan = M.plan_run(params(), GPU_PROBE)
    assert plan == {"device": "cuda", "backend": "nccl", "world_sizes": [1, 2], "nproc_per_node": 2, "nnodes": 1,
                    "world": 2, "cpu_threads": 8}


def test_default_plan_on_one_gpu_is_just_one():
    assert M.plan_run(params(), dict(GPU_PROBE, device_count=1))["world_sizes"] == [1]


def test_default_plan_on_cpu_is_one_and_two_processes_with_gloo():
    plan = M.plan_run(params(device="cpu", model="small_cnn"), CPU_PROBE)
    assert (plan["backend"], plan["world_sizes"], plan["nproc_per_node"], plan["cpu_threads"]) == ("gloo", [1, 2], 2, 2)


def test_multi_node_plan():
    plan = M.plan_run(params(nnodes=2, world_sizes=[8, 1, 4], rdzv_endpoint="n0:29400"), dict(GPU_PROBE, device_count=4))
    assert (plan["world_sizes"], plan["nproc_per_node"], plan["world"]) == ([1, 4, 8], 4, 8)
    plan = M.plan_run(params(nnodes=2, master_addr="n0"), dict(GPU_PROBE, device_count=4))
    assert plan["world_sizes"] == [1, 8]


@pytest.mark.parametrize("over,info,msg", [
    ({}, dict(CPU_PROBE, torch=None, torch_error="ModuleNotFoundError: No module named 'torch'"),
     "PyTorch is not importable by /ai/bin/python (ModuleNotFoundError: No module named 'torch'); install torch there"),
    ({}, CPU_PROBE, "No GPU for device cuda: torch 2.13.0+cpu (a CPU-only build) in /ai/bin/python sees no CUDA device; "
                    "for a run without a GPU set device: cpu (gloo)."),
    ({}, dict(GPU_PROBE, cuda_available=False, device_count=0), "torch 2.11.0+cu130 (built for CUDA 13.0)"),
    ({}, dict(GPU_PROBE, nccl_available=False), "backend nccl is not available in torch 2.11.0+cu130 in /ai/bin/python"),
    ({}, dict(GPU_PROBE, distributed_available=False), "was built without torch.distributed"),
    ({"device": "cpu"}, CPU_PROBE, "model resnet50 comes from torchvision, which /ai/bin/python does not have"),
    ({"world_sizes": [1, 4]}, GPU_PROBE, "4 processes per node need 4 GPUs on this node, but torch in /ai/bin/python sees 2."),
    ({"world_sizes": [1, 4], "nproc_per_node": 1}, GPU_PROBE, "world size 4 is more than the 1 processes launched"),
])
def test_plan_refusals(over, info, msg):
    with pytest.raises(M.PlanError) as exc:
        M.plan_run(params(**over), info)
    assert msg in str(exc.value)


def test_plan_refusal_ends_the_task_before_launching(launch):
    code, out, dummy = launch({}, probe=CPU_PROBE)
    assert code == 1 and out["msg"].startswith("No GPU for device cuda: ")
    assert not out["_calls"]["launched"]


# --- the launcher command -------------------------------------------------------------------

def test_single_node_command_uses_a_standalone_rendezvous():
    plan = M.plan_run(params(), GPU_PROBE)
    argv = M.build_command(params(), plan, "/py", "/w/ddp_worker.py", "/w/c.json", "/w/out")
    assert argv == ["/py", "-m", "torch.distributed.run", "--standalone", "--nnodes", "1", "--nproc-per-node", "2",
                    "--max-restarts", "0", "/w/ddp_worker.py", "--config", "/w/c.json", "--out", "/w/out"]


def test_c10d_and_static_rendezvous_commands():
    p = params(nnodes=2, rdzv_endpoint="n0:29400", rdzv_id="job7")
    argv = M.build_command(p, M.plan_run(p, GPU_PROBE), "/py", "w", "c", "o")
    assert argv[3:11] == ["--nnodes", "2", "--rdzv-backend", "c10d", "--rdzv-endpoint", "n0:29400", "--rdzv-id", "job7"]
    p = params(nnodes=2, node_rank=1, master_addr="10.0.0.21", master_port=29511)
    argv = M.build_command(p, M.plan_run(p, GPU_PROBE), "/py", "w", "c", "o")
    assert argv[3:11] == ["--nnodes", "2", "--node-rank", "1", "--master-addr", "10.0.0.21", "--master-port", "29511"]
    assert "--nproc-per-node" in argv and argv[argv.index("--nproc-per-node") + 1] == "2"


@pytest.mark.parametrize("over,probe,want", [
    ({}, GPU_PROBE, (True, "default")),
    ({"precision": "fp16"}, GPU_PROBE, (False, "default")),
    ({"compile": True}, GPU_PROBE, (False, "default")),
    ({"device": "cpu", "model": "small_cnn"}, CPU_PROBE, (False, "default")),
    ({"cuda_graphs": False}, GPU_PROBE, (False, "set")),
    ({"cuda_graphs": True}, GPU_PROBE, (True, "set")),
])
def test_cuda_graphs_unset_means_on_where_it_applies(over, probe, want):
    p = params(**over)
    assert M.resolve_cuda_graphs(p, M.plan_run(p, probe)) == want


def test_an_eager_run_failure_does_not_mention_cuda_graphs(launch):
    code, out, dummy = launch({"cuda_graphs": False}, "crash")
    assert code == 1 and out["msg"].startswith("The DDP training worker failed on rank 1") and "CUDA graph" not in out["msg"]
    assert out["_calls"]["config"]["cuda_graphs"] is False


def test_child_environment():
    env = M.child_env(params(device="cpu"), {"device": "cpu", "cpu_threads": 3, "nnodes": 1})
    assert env["OMP_NUM_THREADS"] == "3" and env["GLOO_SOCKET_IFNAME"] == "lo"
    env = M.child_env(params(cuda_graphs=True), {"device": "cuda", "cpu_threads": 8, "nnodes": 2})
    assert env["TORCH_NCCL_ASYNC_ERROR_HANDLING"] == "0" and env.get("GLOO_SOCKET_IFNAME") != "lo"


# --- statistics -----------------------------------------------------------------------------

def test_percentile_interpolates():
    assert M.percentile([1, 2, 3, 4], 50) == 2.5
    assert M.percentile([10], 90) == 10
    assert M.percentile(list(range(101)), 90) == 90
    assert M.percentile([], 50) is None


def test_step_statistics_take_the_slowest_rank_per_step():
    stats = M.step_statistics([[10, 10, 30, 10], [12, 11, 10, 10]])
    assert stats["count"] == 4 and stats["min"] == 10 and stats["max"] == 30
    assert stats["mean"] == (12 + 11 + 30 + 10) / 4.0
    assert stats["p50"] == 11.5
    assert M.step_statistics([[], []]) is None


def fake_result(walls=((2.0,), (2.1, 2.12)), batch=32, steps=10, uuids=("GPU-H200-0", "GPU-H200-1")):
    now = time.time()
    runs = []
    for per_rank in walls:
        k = len(per_rank)
        runs.append({"world_size": k, "ranks": [
            {"rank": r, "local_rank": r, "host": "h", "node_rank": 0, "wall_s": w, "window": [now - 30, now + 30],
             "step_ms": [w * 100.0] * steps, "loss_first": 6.9, "loss_last": 6.1, "memory_allocated_peak_mib": 100 + r}
            for r, w in enumerate(per_rank)]})
    devices = [{"rank": r, "host": "h", "node_rank": 0, "name": "NVIDIA H200", "uuid": u} for r, u in enumerate(uuids)]
    return {"runs": runs, "devices": devices, "host": "h", "node_rank": 0}


def test_throughput_uses_the_slowest_rank_and_efficiency_the_smallest_world():
    runs = M.analyse(fake_result(), params(batch_size=32, steps=10))
    one, two = runs
    assert one["samples_per_second"] == 160.0          # 1 x 32 x 10 / 2.0
    assert two["samples_per_second"] == round(2 * 32 * 10 / 2.12, 1)
    assert two["per_gpu_samples_per_second"] == round(32 * 10 / 2.12, 1)
    assert two["scaling_efficiency_percent"] == round(2.0 / 2.12 * 100, 1)
    assert one["scaling_efficiency_percent"] == 100.0
    assert two["step_time_ms"]["p50"] == 212.0 and two["torch_memory_allocated_peak_mib"] == 101
    assert two["gpu_utilization_mean_percent"] is None  # no sampler: a CPU run


def test_efficiency_without_world_size_one_is_relative_to_the_smallest():
    runs = M.analyse(fake_result(walls=((2.0, 2.0), (2.0, 2.0, 2.0, 2.0))), params(batch_size=8, steps=10),
                     host="h", node_rank=0)
    assert [r["world_size"] for r in runs] == [2, 4]
    assert runs[1]["scaling_efficiency_percent"] == 100.0


def test_inconsistent_worker_output_is_refused():
    bad = fake_result()
    bad["runs"][1]["ranks"].pop()
    with pytest.raises(M.PlanError, match="reported 1 ranks for world size 2"):
        M.analyse(bad, params())


def sampler_with(fake, ticks=3):
    sampler = _nvml.TelemetrySampler(fake, interval=0)
    assert sampler.open() is None
    for _tick in range(ticks):
        sampler.tick()
    return sampler


def test_nvml_figures_are_matched_to_each_ranks_gpu_by_uuid():
    # NVML lists the GPUs in the other order than CUDA: the UUID decides.
    fake = FakeNVML([h200(uuid="GPU-H200-1", util=(50, 10), temperature=70), h200(uuid="GPU-H200-0", util=(99, 50))])
    runs = M.analyse(fake_result(), params(), sampler_with(fake), "h", 0)
    one, two = runs
    assert one["per_gpu"] == [{"rank": 0, "host": "h", "nvml_index": 1, "gpu": "NVIDIA H200",
                               "utilization_mean_percent": 99.0, "memory_used_max_mib": 15, "temperature_max_c": 34,
                               "power_mean_w": 21.5, "samples": 3}]
    assert one["gpu_utilization_min_percent"] == 99.0
    assert (two["gpu_utilization_mean_percent"], two["gpu_utilization_min_percent"]) == (74.5, 50.0)
    assert two["gpu_temperature_max_c"] == 70 and two["nvml_samples"] == 3


def test_samples_outside_the_timed_window_do_not_count():
    fake = two_h200s()
    sampler = sampler_with(fake)
    result = fake_result()
    for run in result["runs"]:
        for r in run["ranks"]:
            r["window"] = [0, 1]   # 1970: no sample falls inside
    runs = M.analyse(result, params(), sampler, "h", 0)
    assert runs[1]["gpu_utilization_min_percent"] is None and runs[1]["nvml_samples"] == 0


# --- judging ---------------------------------------------------------------------------------

def judged(checks):
    return {c["name"]: c["status"] for c in checks}


def test_thresholds_pass_and_fail():
    runs = M.analyse(fake_result(), params(), sampler_with(two_h200s(util=(97, 60))), "h", 0)
    plan = {"device": "cuda", "nproc_per_node": 2}
    checks = M.judge(runs, params(min_scaling_efficiency=80, min_gpu_utilization=90, max_temperature_c=85,
                                  min_throughput=100), plan)
    assert judged(checks) == {"ddp_benchmark.throughput": "passed", "ddp_benchmark.scaling_efficiency": "passed",
                              "ddp_benchmark.gpu_utilization": "passed", "ddp_benchmark.gpu_temperature": "passed"}
    checks = M.judge(runs, params(min_scaling_efficiency=95, min_gpu_utilization=98), plan)
    failed = [c["message"] for c in checks if c["status"] == "failed"]
    assert failed == ["Scaling efficiency from world size 1 to 2 is 94.3%, below the minimum of 95%.",
                      "Mean NVML utilisation of the least busy GPU at world size 2 is 97%, below the minimum of 98%."]


def test_one_world_size_skips_scaling_and_cpu_skips_gpu_checks():
    runs = M.analyse(fake_result(walls=((2.0,),)), params())
    checks = M.judge(runs, params(min_scaling_efficiency=80, min_gpu_utilization=90), {"device": "cpu", "nproc_per_node": 1})
    assert judged(checks) == {"ddp_benchmark.throughput": "info", "ddp_benchmark.scaling_efficiency": "skipped",
                              "ddp_benchmark.gpu_utilization": "skipped", "ddp_benchmark.gpu_temperature": "skipped"}
    assert "only world size 1 was measured" in checks[1]["message"]
    assert "CPU run" in checks[2]["message"]


def test_gpu_run_without_nvml_says_why():
    runs = M.analyse(fake_result(), params())
    checks = M.judge(runs, params(min_gpu_utilization=90), {"device": "cuda", "nproc_per_node": 2},
                     "NVML could not be read (no pynvml)")
    util = [c for c in checks if c["name"] == "ddp_benchmark.gpu_utilization"][0]
    assert util["status"] == "skipped" and util["message"].endswith("could not be measured: NVML could not be read (no pynvml).")


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


def test_probe_runs_the_real_worker_under_an_interpreter_without_torch(tmp_path):
    # The unit tests' interpreter has no torch: the probe must say so, not fail.
    worker = tmp_path / "ddp_worker.py"
    worker.write_text(open(M._ddp_worker.__file__).read())
    info = M.run_probe(sys.executable, str(worker), str(tmp_path))
    assert info["python"] == sys.executable
    if info["torch"] is None:
        assert info["torch_error"].startswith("ModuleNotFoundError") or info["torch_error"].startswith("ImportError")
    with pytest.raises(M.PlanError, match="could not run the worker's probe"):
        M.run_probe("/bin/false", str(worker), str(tmp_path))


def test_interpreter_defaults_to_the_ai_venv_else_the_modules_own(launch):
    code, out, dummy = launch({"worker_python": None, "_ansible_check_mode": True}, None)
    assert code == 0 and out["_probe"]["interpreter"] == M._proc.default_interpreter()
    assert out["_probe"]["interpreter"] in ("/opt/vaultcube/venv/bin/python", sys.executable)


def test_the_old_name_python_interpreter_works_and_is_deprecated(launch):
    forget_deprecations()
    code, out, dummy = launch({"worker_python": None, "python_interpreter": sys.executable, "_ansible_check_mode": True}, None)
    assert code == 0 and out["_probe"]["interpreter"] == sys.executable
    assert deprecations(out) == [alias_deprecated("python_interpreter")]
