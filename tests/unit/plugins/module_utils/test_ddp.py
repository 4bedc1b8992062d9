# -*- coding: utf-8 -*-
"""ddp_benchmark's logic (plugins/module_utils/_ddp.py) without the module: planning, the launcher
command, statistics, NVML matching and judging, with the probe's answer given and NVML replaced by
fake_nvml; the probe itself runs for real under an interpreter without torch."""

import json
import sys
import time

import pytest
from ddp_fakes import CPU_PROBE, GPU_PROBE, params, two_h200s
from fake_nvml import FakeNVML, h200

from ansible_collections.vaultcube.demobox.plugins.module_utils import _ddp as D
from ansible_collections.vaultcube.demobox.plugins.module_utils import _ddp_worker, _nvml, _util


def test_the_plan_error_and_percentile_are_the_collections_one():
    assert D.PlanError is _util.PlanError and D.percentile is _util.percentile


def test_default_plan_on_two_gpus_is_one_and_two():
    plan = D.plan_run(params(), GPU_PROBE)
    assert plan == {"device": "cuda", "backend": "nccl", "world_sizes": [1, 2], "nproc_per_node": 2, "nnodes": 1,
                    "world": 2, "cpu_threads": 8}


def test_default_plan_on_one_gpu_is_just_one():
    assert D.plan_run(params(), dict(GPU_PROBE, device_count=1))["world_sizes"] == [1]


def test_default_plan_on_cpu_is_one_and_two_processes_with_gloo():
    plan = D.plan_run(params(device="cpu", model="small_cnn"), CPU_PROBE)
    assert (plan["backend"], plan["world_sizes"], plan["nproc_per_node"], plan["cpu_threads"]) == ("gloo", [1, 2], 2, 2)


def test_multi_node_plan():
    plan = D.plan_run(params(nnodes=2, world_sizes=[8, 1, 4], rdzv_endpoint="n0:29400"), dict(GPU_PROBE, device_count=4))
    assert (plan["world_sizes"], plan["nproc_per_node"], plan["world"]) == ([1, 4, 8], 4, 8)
    plan = D.plan_run(params(nnodes=2, master_addr="n0"), dict(GPU_PROBE, device_count=4))
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
    with pytest.raises(D.PlanError) as exc:
        D.plan_run(params(**over), info)
    assert msg in str(exc.value)


def test_single_node_command_uses_a_standalone_rendezvous():
    plan = D.plan_run(params(), GPU_PROBE)
    argv = D.build_command(params(), plan, "/py", "/w/ddp_worker.py", "/w/c.json", "/w/out")
    assert argv == ["/py", "-m", "torch.distributed.run", "--standalone", "--nnodes", "1", "--nproc-per-node", "2",
                    "--max-restarts", "0", "/w/ddp_worker.py", "--config", "/w/c.json", "--out", "/w/out"]


def test_c10d_and_static_rendezvous_commands():
    p = params(nnodes=2, rdzv_endpoint="n0:29400", rdzv_id="job7")
    argv = D.build_command(p, D.plan_run(p, GPU_PROBE), "/py", "w", "c", "o")
    assert argv[3:11] == ["--nnodes", "2", "--rdzv-backend", "c10d", "--rdzv-endpoint", "n0:29400", "--rdzv-id", "job7"]
    p = params(nnodes=2, node_rank=1, master_addr="10.0.0.21", master_port=29511)
    argv = D.build_command(p, D.plan_run(p, GPU_PROBE), "/py", "w", "c", "o")
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
    assert D.resolve_cuda_graphs(p, D.plan_run(p, probe)) == want


def test_child_environment():
    env = D.child_env(params(device="cpu"), {"device": "cpu", "cpu_threads": 3, "nnodes": 1})
    assert env["OMP_NUM_THREADS"] == "3" and env["GLOO_SOCKET_IFNAME"] == "lo"
    env = D.child_env(params(cuda_graphs=True), {"device": "cuda", "cpu_threads": 8, "nnodes": 2})
    assert env["TORCH_NCCL_ASYNC_ERROR_HANDLING"] == "0" and env.get("GLOO_SOCKET_IFNAME") != "lo"


def test_percentile_interpolates():
    assert D.percentile([1, 2, 3, 4], 50) == 2.5
    assert D.percentile([10], 90) == 10
    assert D.percentile(list(range(101)), 90) == 90
    assert D.percentile([], 50) is None


def test_step_statistics_take_the_slowest_rank_per_step():
    stats = D.step_statistics([[10, 10, 30, 10], [12, 11, 10, 10]])
    assert stats["count"] == 4 and stats["min"] == 10 and stats["max"] == 30
    assert stats["mean"] == (12 + 11 + 30 + 10) / 4.0
    assert stats["p50"] == 11.5
    assert D.step_statistics([[], []]) is None


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
    runs = D.analyse(fake_result(), params(batch_size=32, steps=10))
    one, two = runs
    assert one["samples_per_second"] == 160.0          # 1 x 32 x 10 / 2.0
    assert two["samples_per_second"] == round(2 * 32 * 10 / 2.12, 1)
    assert two["per_gpu_samples_per_second"] == round(32 * 10 / 2.12, 1)
    assert two["scaling_efficiency_percent"] == round(2.0 / 2.12 * 100, 1)
    assert one["scaling_efficiency_percent"] == 100.0
    assert two["step_time_ms"]["p50"] == 212.0 and two["torch_memory_allocated_peak_mib"] == 101
    assert two["gpu_utilization_mean_percent"] is None  # no sampler: a CPU run


def test_efficiency_without_world_size_one_is_relative_to_the_smallest():
    runs = D.analyse(fake_result(walls=((2.0, 2.0), (2.0, 2.0, 2.0, 2.0))), params(batch_size=8, steps=10),
                     host="h", node_rank=0)
    assert [r["world_size"] for r in runs] == [2, 4]
    assert runs[1]["scaling_efficiency_percent"] == 100.0


def test_inconsistent_worker_output_is_refused():
    bad = fake_result()
    bad["runs"][1]["ranks"].pop()
    with pytest.raises(D.PlanError, match="reported 1 ranks for world size 2"):
        D.analyse(bad, params())


def sampler_with(fake, ticks=3):
    sampler = _nvml.TelemetrySampler(fake, interval=0)
    assert sampler.open() is None
    for _tick in range(ticks):
        sampler.tick()
    return sampler


def test_nvml_figures_are_matched_to_each_ranks_gpu_by_uuid():
    # NVML lists the GPUs in the other order than CUDA: the UUID decides.
    fake = FakeNVML([h200(uuid="GPU-H200-1", util=(50, 10), temperature=70), h200(uuid="GPU-H200-0", util=(99, 50))])
    runs = D.analyse(fake_result(), params(), sampler_with(fake), "h", 0)
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
    runs = D.analyse(result, params(), sampler, "h", 0)
    assert runs[1]["gpu_utilization_min_percent"] is None and runs[1]["nvml_samples"] == 0


def judged(checks):
    return {c["name"]: c["status"] for c in checks}


def test_thresholds_pass_and_fail():
    runs = D.analyse(fake_result(), params(), sampler_with(two_h200s(util=(97, 60))), "h", 0)
    plan = {"device": "cuda", "nproc_per_node": 2}
    checks = D.judge(runs, params(min_scaling_efficiency=80, min_gpu_utilization=90, max_temperature_c=85,
                                  min_throughput=100), plan)
    assert judged(checks) == {"ddp_benchmark.throughput": "passed", "ddp_benchmark.scaling_efficiency": "passed",
                              "ddp_benchmark.gpu_utilization": "passed", "ddp_benchmark.gpu_temperature": "passed"}
    checks = D.judge(runs, params(min_scaling_efficiency=95, min_gpu_utilization=98), plan)
    failed = [c["message"] for c in checks if c["status"] == "failed"]
    assert failed == ["Scaling efficiency from world size 1 to 2 is 94.3%, below the minimum of 95%.",
                      "Mean NVML utilisation of the least busy GPU at world size 2 is 97%, below the minimum of 98%."]


def test_one_world_size_skips_scaling_and_cpu_skips_gpu_checks():
    runs = D.analyse(fake_result(walls=((2.0,),)), params())
    checks = D.judge(runs, params(min_scaling_efficiency=80, min_gpu_utilization=90), {"device": "cpu", "nproc_per_node": 1})
    assert judged(checks) == {"ddp_benchmark.throughput": "info", "ddp_benchmark.scaling_efficiency": "skipped",
                              "ddp_benchmark.gpu_utilization": "skipped", "ddp_benchmark.gpu_temperature": "skipped"}
    assert "only world size 1 was measured" in checks[1]["message"]
    assert "CPU run" in checks[2]["message"]


def test_gpu_run_without_nvml_says_why():
    runs = D.analyse(fake_result(), params())
    checks = D.judge(runs, params(min_gpu_utilization=90), {"device": "cuda", "nproc_per_node": 2},
                     "NVML could not be read (no pynvml)")
    util = [c for c in checks if c["name"] == "ddp_benchmark.gpu_utilization"][0]
    assert util["status"] == "skipped" and util["message"].endswith("could not be measured: NVML could not be read (no pynvml).")


def test_probe_runs_the_real_worker_under_an_interpreter_without_torch(tmp_path):
    # The unit tests' interpreter has no torch: the probe must say so, not fail.
    worker = tmp_path / "ddp_worker.py"
    worker.write_text(open(_ddp_worker.__file__).read())
    info = D.run_probe(sys.executable, str(worker), str(tmp_path))
    assert info["python"] == sys.executable
    if info["torch"] is None:
        assert info["torch_error"].startswith("ModuleNotFoundError") or info["torch_error"].startswith("ImportError")
    with pytest.raises(D.PlanError, match="could not run the worker's probe"):
        D.run_probe("/bin/false", str(worker), str(tmp_path))


class _DeadPeerRun(object):
    """A finished launch as failure_message sees it (no timeout, nothing left over)."""
    timed_out = False
    leftover = []

    def __init__(self, stderr):
        self._stderr = stderr

    def stderr_tail(self, count):
        return self._stderr[-count:]

    def stdout_tail(self, count):
        return []


def test_failure_message_names_a_lost_node(tmp_path):
    # What rank 0 wrote on node0 when node1's container was killed mid-run (gloo on the CPU).
    sentence = ("RuntimeError: [/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection closed "
                "by peer [172.21.0.3]:35974. This is typically caused by a remote worker crashing.")
    (tmp_path / "error-rank0.json").write_text(json.dumps({"rank": 0, "host": "node0", "sentence": sentence,
                                                           "lines": ["Traceback ...", sentence], "time": 1}))
    params = {"cuda_graphs": False, "timeout": 300, "batch_size": 16}
    msg = D.failure_message(_DeadPeerRun([]), 1, str(tmp_path), params, {"nnodes": 2, "device": "cpu"})
    assert msg == ("The DDP benchmark lost another node of its 2-node job mid-run: rank 0 on node0 saw 'Connection closed "
                   "by peer' from 172.21.0.3. The other node stopped, died or became unreachable (its own result or the "
                   "play's output says which); every process started here was stopped.")
    # on one node the same words are another rank's crash, said as before
    single = D.failure_message(_DeadPeerRun([]), 1, str(tmp_path), params, {"nnodes": 1, "device": "cpu"})
    assert single.startswith("The DDP training worker failed on rank 0 (node0)")


def test_failure_message_rendezvous_gone():
    run = _DeadPeerRun(["torch.distributed.elastic.rendezvous.api.RendezvousConnectionError: The connection to the C10d store has failed."])
    msg = D.failure_message(run, 1, "/nonexistent", {"cuda_graphs": False, "timeout": 300, "batch_size": 16},
                            {"nnodes": 2, "device": "cpu"})
    assert msg.startswith("The DDP benchmark lost another node of its 2-node job mid-run: this node's launcher saw "
                          "'RendezvousConnectionError'.")
