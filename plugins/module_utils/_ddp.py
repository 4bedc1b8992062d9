# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ddp_benchmark's logic: everything but the module's documentation, argument spec and orchestration.

The module (plugins/modules/ddp_benchmark.py) resolves the interpreter, then calls, in order:
``validate`` (one sentence for the first bad parameter), ``run_probe`` (what the interpreter's
torch offers), ``plan_run`` (device, backend, world sizes, processes per node), ``settings``
(the parameters with ``cuda_graphs`` resolved, a new dict: the module's parameters are never
written to), ``worker_config`` and ``build_command`` (the torchrun command line), then launches
it through _proc.ChildRun while ``open_sampler``'s NVML sampler ticks, and turns what came back
into the result with ``analyse``, ``judge`` and ``build_result`` - or, when the launch failed,
into one sentence with ``failure_message``. All of it can be tested without importing the module.
"""

from __future__ import absolute_import, division, print_function

import glob
import json
import math
import os
import re
import socket

from ansible_collections.vaultcube.demobox.plugins.module_utils import _ddp_worker, _launch, _nvml, _proc
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError, percentile

BUILTIN_MODELS = _ddp_worker.BUILTIN_MODELS
ERROR_TAG = _ddp_worker.ERROR_TAG
PROGRESS_TAG = "[ddp_worker]"
PROBE_TIMEOUT = 180
SAMPLE_INTERVAL = 0.2
# NVML's utilisation covers the driver's last sample period, up to 1 s on current GPUs: readings
# in the first second of a timed window also cover the set-up before it, so they do not count.
UTIL_SETTLE_S = 1.0
MODEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
# What torchrun's failure summary says about each failed rank.
TORCHRUN_FAILURE = re.compile(r"rank\s*:\s*(\d+).*?exitcode\s*:\s*(-?\d+)", re.S)
MEMORY_PATTERNS = tuple(_proc.OOM_PATTERNS) + ("can't allocate memory", "Cannot allocate memory")
# What a rank or torchrun says when another node of a multi-node job goes away mid-run (gloo,
# NCCL, the c10d rendezvous store).
PEER_LOST_PATTERNS = ("Connection closed by peer", "Connection reset by peer", "Broken pipe", "RendezvousConnectionError",
                      "RendezvousClosedError", "remote process exited", "NCCL communicator was aborted")
PEER_ADDRESS = re.compile(r"(?:by peer|peer) \[?([0-9A-Fa-f:.]+?)\]?:(\d+)")


# --------------------------------------------------------------------------------------------
# parameters and plan


def validate(params):
    """One sentence about the first bad parameter, or None. Nothing runs before this passes."""
    for key in ("batch_size", "image_size", "steps", "timeout", "nnodes"):
        if params[key] < 1:
            return "%s must be 1 or more, got %d." % (key, params[key])
    if params["num_classes"] < 2:
        return "num_classes must be 2 or more, got %d." % params["num_classes"]
    if params["warmup"] < 0:
        return "warmup must be 0 or more, got %d." % params["warmup"]
    if params["bucket_cap_mb"] <= 0:
        return "bucket_cap_mb must be more than 0, got %s." % params["bucket_cap_mb"]
    if not MODEL_NAME.match(params["model"] or ""):
        return "model must be a model name such as resnet50 or small_cnn, got '%s'." % params["model"]
    sizes = params["world_sizes"]
    if sizes is not None:
        if not sizes:
            return "world_sizes must list at least one world size."
        if any(k < 1 for k in sizes):
            return "world_sizes must be 1 or more each, got %s." % sizes
        if len(set(sizes)) != len(sizes):
            return "world_sizes must not repeat a size, got %s." % sizes
    if params["nproc_per_node"] is not None and params["nproc_per_node"] < 1:
        return "nproc_per_node must be 1 or more, got %d." % params["nproc_per_node"]
    if params["device"] == "cpu":
        if params["backend"] == "nccl":
            return "backend nccl needs GPUs (device: cuda); a CPU run uses gloo (backend: auto or gloo)."
        if params["precision"] in ("tf32", "fp16"):
            return "precision %s needs device cuda; a CPU run supports fp32 and bf16." % params["precision"]
        if params["cuda_graphs"]:
            return "cuda_graphs needs device cuda."
        if params["input_pipeline"] == "host":
            return "input_pipeline host (a copy to the GPU every step) needs device cuda."
    if params["cuda_graphs"] and params["precision"] == "fp16":
        return "cuda_graphs cannot be used with precision fp16 (its gradient scaler reads the GPU every step); use bf16."
    if params["cuda_graphs"] and params["compile"]:
        return "cuda_graphs and compile cannot be combined; choose one."
    problem = _launch.rendezvous_problem(params)
    if problem:
        return problem
    for key in ("min_scaling_efficiency", "min_gpu_utilization"):
        if params[key] is not None and not 0 <= params[key] <= 100:
            return "%s is a percentage (0-100), got %s." % (key, params[key])
    if params["min_throughput"] is not None and params["min_throughput"] < 0:
        return "min_throughput must be 0 or more, got %s." % params["min_throughput"]
    return None


def torch_missing_sentence(interpreter, error):
    return ("PyTorch is not importable by %s (%s); install torch there (the ai_frameworks role's venv) or point "
            "worker_python at an interpreter that has it." % (interpreter, error))


def plan_run(params, info):
    """Resolve device, backend, world sizes and processes per node from the parameters and the probe."""
    interpreter = info.get("python")
    if not info.get("torch"):
        raise PlanError(torch_missing_sentence(interpreter, info.get("torch_error") or "no torch"))
    if not info.get("distributed_available"):
        raise PlanError("torch %s in %s was built without torch.distributed, which DDP needs." % (info["torch"], interpreter))
    device = params["device"]
    cuda_gpus = int(info.get("device_count") or 0)
    if device == "cuda" and not (info.get("cuda_available") and cuda_gpus):
        build = ("a CPU-only build" if not info.get("cuda_build") else "built for CUDA %s" % info["cuda_build"])
        raise PlanError("No GPU for device cuda: torch %s (%s) in %s sees no CUDA device; for a run without a GPU "
                        "set device: cpu (gloo)." % (info["torch"], build, interpreter))
    backend = params["backend"]
    if backend == "auto":
        backend = "nccl" if device == "cuda" else "gloo"
    if backend == "nccl" and not info.get("nccl_available"):
        raise PlanError("backend nccl is not available in torch %s in %s; use backend gloo." % (info["torch"], interpreter))
    if backend == "gloo" and not info.get("gloo_available"):
        raise PlanError("backend gloo is not available in torch %s in %s." % (info["torch"], interpreter))
    if params["model"] not in BUILTIN_MODELS and not info.get("torchvision"):
        raise PlanError("model %s comes from torchvision, which %s does not have; install torchvision there or use a "
                        "built-in model (%s)." % (params["model"], interpreter, ", ".join(BUILTIN_MODELS)))
    nnodes = params["nnodes"]
    per_node = params["nproc_per_node"]
    if params["world_sizes"]:
        sizes = sorted(params["world_sizes"])
        if per_node is None:
            per_node = int(math.ceil(sizes[-1] / float(nnodes)))
    else:
        if per_node is None:
            per_node = cuda_gpus if device == "cuda" else 2
        sizes = sorted({1, per_node * nnodes})
    world = per_node * nnodes
    if sizes[-1] > world:
        raise PlanError("world size %d is more than the %d processes launched (nproc_per_node %d x nnodes %d)." % (
            sizes[-1], world, per_node, nnodes))
    if device == "cuda" and per_node > cuda_gpus:
        raise PlanError("%d processes per node need %d GPUs on this node, but torch in %s sees %d." % (
            per_node, per_node, interpreter, cuda_gpus))
    cpu_threads = max(1, int(info.get("cpu_count") or 1) // per_node)
    return {"device": device, "backend": backend, "world_sizes": sizes, "nproc_per_node": per_node, "nnodes": nnodes,
            "world": world, "cpu_threads": cpu_threads}


def ddp_options(params):
    keys = ("gradient_as_bucket_view", "batched_grad_copy", "static_graph", "sync_buffers", "bucket_cap_mb")
    return {key: params[key] for key in keys}


def settings(params, plan):
    """The parameters as the run uses them: a copy with ``cuda_graphs`` resolved for this plan and
    ``cuda_graphs_choice`` saying whether it was set or defaulted."""
    cuda_graphs, choice = resolve_cuda_graphs(params, plan)
    return dict(params, cuda_graphs=cuda_graphs, cuda_graphs_choice=choice)


def resolve_cuda_graphs(params, plan):
    """cuda_graphs unset: on where it applies (GPUs, not fp16, no compile); an explicit choice is kept."""
    if params["cuda_graphs"] is not None:
        return bool(params["cuda_graphs"]), "set"
    applies = plan["device"] == "cuda" and params["precision"] != "fp16" and not params["compile"]
    return applies, "default"


def worker_config(params, plan):
    cfg = {key: params[key] for key in ("model", "batch_size", "image_size", "num_classes", "precision", "channels_last",
                                        "cudnn_benchmark", "input_pipeline", "cuda_graphs", "compile", "steps", "warmup",
                                        "timeout")}
    cfg.update(ddp_options(params))
    cfg.update({"device": plan["device"], "backend": plan["backend"], "world_sizes": plan["world_sizes"],
                "cpu_threads": plan["cpu_threads"]})
    return cfg


def build_command(params, plan, interpreter, worker, config_path, out_dir):
    argv = [interpreter, "-m", "torch.distributed.run"]
    if plan["nnodes"] == 1 and not params["rdzv_endpoint"] and not params["master_addr"]:
        argv += ["--standalone", "--nnodes", "1"]
    elif params["rdzv_endpoint"]:
        argv += ["--nnodes", str(plan["nnodes"]), "--rdzv-backend", "c10d", "--rdzv-endpoint", params["rdzv_endpoint"],
                 "--rdzv-id", params["rdzv_id"]]
    else:
        argv += ["--nnodes", str(plan["nnodes"]), "--node-rank", str(params["node_rank"]),
                 "--master-addr", params["master_addr"], "--master-port", str(params["master_port"])]
    argv += ["--nproc-per-node", str(plan["nproc_per_node"]), "--max-restarts", "0",
             worker, "--config", config_path, "--out", out_dir]
    return argv


def child_env(params, plan):
    env = dict(os.environ)
    if plan["device"] == "cpu":
        env["OMP_NUM_THREADS"] = str(plan["cpu_threads"])
    else:
        env.setdefault("OMP_NUM_THREADS", "1")
    if plan["nnodes"] == 1:
        # The ranks' control group (gloo) stays on the loopback interface on a single node, even
        # where the host name does not resolve.
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    if params["cuda_graphs"]:
        # Collectives captured in a CUDA graph must not be watched by NCCL's async error handler
        # (PyTorch's CUDA-graph notes for DDP); the module's own timeout still applies.
        env["TORCH_NCCL_ASYNC_ERROR_HANDLING"] = "0"
        env["NCCL_ASYNC_ERROR_HANDLING"] = "0"
    return env


# --------------------------------------------------------------------------------------------
# statistics and judging


def step_statistics(per_rank_steps):
    """Step-time statistics over the steps, each step taking its slowest rank's time."""
    lists = [s for s in per_rank_steps if s]
    if not lists:
        return None
    count = min(len(s) for s in lists)
    steps = [max(s[i] for s in lists) for i in range(count)]
    mean = sum(steps) / count
    var = sum((v - mean) ** 2 for v in steps) / count
    return {"mean": round(mean, 3), "p50": round(percentile(steps, 50), 3), "p90": round(percentile(steps, 90), 3),
            "p99": round(percentile(steps, 99), 3), "min": round(min(steps), 3), "max": round(max(steps), 3),
            "stdev": round(math.sqrt(var), 3), "count": count}


def match_gpus(ranks, sampler_devices):
    """NVML index of each rank's GPU: by UUID, then by PCI bus id (None when neither matches)."""
    by_uuid = {d["uuid"]: d["index"] for d in sampler_devices if d.get("uuid")}
    by_bus = {(d.get("pci_bus_id") or "").lower()[-12:]: d["index"] for d in sampler_devices if d.get("pci_bus_id")}
    out = {}
    for r in ranks:
        index = by_uuid.get(r.get("uuid"))
        if index is None and r.get("pci_bus_id"):
            index = by_bus.get(r["pci_bus_id"].lower()[-12:])
        out[r["rank"]] = index
    return out


def analyse(result, params, sampler=None, host=None, node_rank=None):
    """Per world size: throughput, efficiency, step times, NVML figures for this node's GPUs."""
    batch = params["batch_size"]
    steps = params["steps"]
    devices = {d["rank"]: d for d in result.get("devices") or []}
    local = [d for d in devices.values() if (node_rank is None or d.get("node_rank") == node_rank)
             and (host is None or d.get("host") == host)]
    gpu_of = match_gpus(local, sampler.devices) if sampler is not None else {}
    runs = []
    base = None
    for run in sorted(result["runs"], key=lambda r: r["world_size"]):
        k = run["world_size"]
        ranks = run["ranks"]
        if len(ranks) != k:
            raise PlanError("the worker reported %d ranks for world size %d." % (len(ranks), k))
        wall = max(r["wall_s"] for r in ranks)
        if wall <= 0:
            raise PlanError("the worker reported a wall time of %s s for world size %d." % (wall, k))
        samples = k * batch * steps / wall
        if base is None:
            base = (k, samples)
        efficiency = (samples / k) / (base[1] / base[0]) * 100.0
        entry = {
            "world_size": k,
            "samples_per_second": round(samples, 1),
            "per_gpu_samples_per_second": round(samples / k, 1),
            "scaling_efficiency_percent": round(efficiency, 1),
            "wall_s": round(wall, 4),
            "step_time_ms": step_statistics([r["step_ms"] for r in ranks]),
            "loss_first": next((r["loss_first"] for r in ranks if r["rank"] == 0), None),
            "loss_last": next((r["loss_last"] for r in ranks if r["rank"] == 0), None),
            "torch_memory_allocated_peak_mib": max([r["memory_allocated_peak_mib"] for r in ranks
                                                    if r.get("memory_allocated_peak_mib") is not None] or [None]),
            "gpu_utilization_mean_percent": None,
            "gpu_utilization_min_percent": None,
            "gpu_memory_used_max_mib": None,
            "gpu_temperature_max_c": None,
            "gpu_power_mean_w": None,
            "nvml_samples": 0,
            "per_gpu": [],
        }
        mine = [r for r in ranks if r["rank"] in gpu_of]
        if sampler is not None and mine:
            start = min(r["window"][0] for r in mine)
            end = max(r["window"][1] for r in mine)
            indices = {gpu_of[r["rank"]] for r in mine if gpu_of[r["rank"]] is not None}
            stats = sampler.window(start, end, indices, util_settle=UTIL_SETTLE_S)
            for r in sorted(mine, key=lambda x: x["rank"]):
                index = gpu_of[r["rank"]]
                s = stats.get(index) or {}
                entry["per_gpu"].append({"rank": r["rank"], "host": r.get("host"), "nvml_index": index,
                                         "gpu": devices.get(r["rank"], {}).get("name"),
                                         "utilization_mean_percent": s.get("utilization_mean_percent"),
                                         "memory_used_max_mib": s.get("memory_used_max_mib"),
                                         "temperature_max_c": s.get("temperature_max_c"),
                                         "power_mean_w": s.get("power_mean_w"), "samples": s.get("samples", 0)})
            utils = [s["utilization_mean_percent"] for s in stats.values() if s["utilization_mean_percent"] is not None]
            if utils:
                entry["gpu_utilization_mean_percent"] = round(sum(utils) / len(utils), 1)
                entry["gpu_utilization_min_percent"] = min(utils)
            mems = [s["memory_used_max_mib"] for s in stats.values() if s["memory_used_max_mib"] is not None]
            temps = [s["temperature_max_c"] for s in stats.values() if s["temperature_max_c"] is not None]
            powers = [s["power_mean_w"] for s in stats.values() if s["power_mean_w"] is not None]
            entry["gpu_memory_used_max_mib"] = max(mems) if mems else None
            entry["gpu_temperature_max_c"] = max(temps) if temps else None
            entry["gpu_power_mean_w"] = round(sum(powers) / len(powers), 1) if powers else None
            entry["nvml_samples"] = min([s["samples"] for s in stats.values()] or [0])
        runs.append(entry)
    return runs


def judge(runs, params, plan, nvml_reason=None):
    last = runs[-1]
    k = last["world_size"]
    checks = [R.judge_min("ddp_benchmark.throughput", "Training throughput at world size %d" % k,
                          last["samples_per_second"], params["min_throughput"], "samples/s")]
    if len(runs) > 1:
        checks.append(R.judge_min("ddp_benchmark.scaling_efficiency", "Scaling efficiency from world size %d to %d" % (
            runs[0]["world_size"], k), last["scaling_efficiency_percent"], params["min_scaling_efficiency"], "%"))
    else:
        checks.append(R.skipped("ddp_benchmark.scaling_efficiency", "Scaling efficiency needs two world sizes; only world "
                                "size %d was measured (this node has %d GPU(s) for it)." % (k, plan["nproc_per_node"])))
    if plan["device"] == "cpu":
        why = "This was a CPU run (device: cpu), so there is no GPU %s to report."
        checks.append(R.skipped("ddp_benchmark.gpu_utilization", why % "utilisation"))
        checks.append(R.skipped("ddp_benchmark.gpu_temperature", why % "temperature"))
        return checks
    util = R.judge_min("ddp_benchmark.gpu_utilization", "Mean NVML utilisation of the least busy GPU at world size %d" % k,
                       last["gpu_utilization_min_percent"], params["min_gpu_utilization"], "%")
    temps = [r["gpu_temperature_max_c"] for r in runs if r["gpu_temperature_max_c"] is not None]
    temp = R.judge_max("ddp_benchmark.gpu_temperature", "Hottest GPU temperature during the timed steps",
                       max(temps) if temps else None, params["max_temperature_c"], "C")
    for check in (util, temp):
        if check["status"] == R.SKIPPED:
            check["message"] = check["message"].rstrip(".") + ": %s." % (
                nvml_reason or "no NVML sample fell inside the timed steps (raise steps for a longer window)")
    checks += [util, temp]
    return checks


def _fmt(value, digits=1):
    if value is None:
        return None
    return round(value, digits)


def report_tables(runs, config, plan):
    unit = "GPU" if plan["device"] == "cuda" else "process"
    rows = []
    for r in runs:
        st = r["step_time_ms"] or {}
        rows.append([r["world_size"], _fmt(r["samples_per_second"]), _fmt(r["per_gpu_samples_per_second"]),
                     _fmt(r["scaling_efficiency_percent"]), _fmt(st.get("p50"), 2), _fmt(st.get("p90"), 2),
                     r["gpu_utilization_mean_percent"], r["gpu_memory_used_max_mib"]])
    title = "Scaling: %s, batch %d per %s, %s, %s" % (config["model"], config["batch_size"], unit, config["precision"],
                                                      "%s on %s" % (config["backend"], config["device"]))
    scaling = {"title": title,
               "columns": ["world size", "samples/s", "samples/s per %s" % unit, "scaling efficiency %",
                           "step time p50 ms", "step time p90 ms", "GPU utilisation %", "GPU memory peak MiB"],
               "rows": rows}
    keys = ("model", "image_size", "num_classes", "batch_size", "precision", "channels_last", "cudnn_benchmark",
            "input_pipeline", "gradient_as_bucket_view", "batched_grad_copy", "static_graph", "sync_buffers",
            "bucket_cap_mb", "cuda_graphs", "cuda_graphs_choice", "compile", "optimizer", "warmup", "steps", "world_sizes", "nproc_per_node",
            "nnodes", "device", "backend", "launcher", "torch", "cuda", "nccl", "python_interpreter")
    configuration = {"title": "Configuration", "columns": ["setting", "value"],
                     "rows": [[key, config.get(key)] for key in keys if key in config]}
    return [scaling, configuration]


def report_plots(runs, plan):
    unit = "GPUs" if plan["device"] == "cuda" else "processes"
    k0 = runs[0]["world_size"]
    per = runs[0]["samples_per_second"] / k0
    return [{
        "title": "Training throughput vs world size",
        "kind": "line",
        "x_label": "world size (%s)" % unit,
        "y_label": "samples/s",
        "series": {
            "measured": [[r["world_size"], r["samples_per_second"]] for r in runs],
            "ideal (linear from world size %d)" % k0: [[r["world_size"], round(per * r["world_size"], 1)] for r in runs],
        },
    }]


# --------------------------------------------------------------------------------------------
# running


def run_probe(interpreter, worker, workdir):
    """Ask the interpreter what it offers (torch, CUDA, NCCL, torchvision). Returns a dict."""
    run = _proc.ChildRun([interpreter, worker, "--probe"], timeout=PROBE_TIMEOUT, grace=5,
                         workdir=os.path.join(workdir, "probe"))
    os.makedirs(run.workdir, exist_ok=True)
    rc = run.start().wait(poll_interval=0.05)
    lines = [line for line in run.stdout().splitlines() if line.startswith("{")]
    if rc != 0 or not lines:
        tail = run.stderr_tail(3) or run.stdout_tail(3)
        raise PlanError("%s could not run the worker's probe: it %s%s." % (
            interpreter, _proc.describe_exit(rc, run.timed_out, PROBE_TIMEOUT), (" (%s)" % " / ".join(tail)) if tail else ""))
    info = json.loads(lines[-1])
    info["python"] = interpreter
    return info


def read_errors(out_dir):
    errors = []
    for path in glob.glob(os.path.join(out_dir, "error-rank*.json")):
        try:
            with open(path) as handle:
                errors.append(json.load(handle))
        except (OSError, ValueError):
            continue
    return sorted(errors, key=lambda e: e.get("time") or 0)


def clean_tail(lines):
    """The launcher's and workers' last lines without torchrun's banner decoration."""
    out = []
    for line in lines:
        text = line.strip()
        if not text or set(text) <= set("=-*^~") or text.startswith("To enable traceback see"):
            continue
        out.append(text)
    return out


def failure_message(run, rc, out_dir, params, plan):
    """One sentence (with the worker's last error lines) for a launch that did not succeed."""
    errors = read_errors(out_dir)
    tail = clean_tail(run.stderr_tail(40)) or clean_tail(run.stdout_tail(10))
    error_lines = []
    for err in errors:
        error_lines += err.get("lines") or []
    leftover = ""
    if run.leftover:
        leftover = " %d process(es) could not be stopped: %s." % (len(run.leftover), ", ".join(str(p) for p in run.leftover))
    # A worker that crashed or hung while replaying a captured step: say how to run it eagerly.
    graph = " The training step ran as a CUDA graph (cuda_graphs); cuda_graphs: false runs it eagerly." if params["cuda_graphs"] else ""
    if run.timed_out:
        progress = [line for line in run.stdout_tail(20) if line.startswith(PROGRESS_TAG)][-1:]
        last = (progress[0][len(PROGRESS_TAG):].strip() if progress else "the workers had not started training")
        return ("The DDP benchmark did not finish within its timeout of %ds and was stopped with every process it "
                "started (last progress: %s).%s%s" % (params["timeout"], last, graph, leftover))
    if any(p in "\n".join(error_lines + tail) for p in MEMORY_PATTERNS):
        first = errors[0] if errors else None
        what = ("rank %s: %s" % (first["rank"], first["sentence"])) if first else " / ".join(
            [line for line in tail if any(p in line for p in MEMORY_PATTERNS)][-1:])
        where = "GPU" if plan["device"] == "cuda" else "host"
        return ("The DDP benchmark ran out of %s memory at batch size %d per %s (%s); lower batch_size or image_size.%s" % (
            where, params["batch_size"], "GPU" if plan["device"] == "cuda" else "process", _short(what), leftover))
    text = "\n".join(error_lines + tail + [str(e.get("sentence") or "") for e in errors])
    lost = [p for p in PEER_LOST_PATTERNS if p in text]
    if plan.get("nnodes", 1) > 1 and lost:
        peer = PEER_ADDRESS.search(text)
        where = ("rank %s on %s" % (errors[0]["rank"], errors[0].get("host"))) if errors else "this node's launcher"
        source = " from %s" % peer.group(1) if peer else ""
        return ("The DDP benchmark lost another node of its %d-node job mid-run: %s saw '%s'%s. The other node stopped, "
                "died or became unreachable (its own result or the play's output says which); every process started "
                "here was stopped.%s" % (plan["nnodes"], where, lost[0], source, leftover))
    if errors:
        first = errors[0]
        if first.get("known"):
            return "ddp_benchmark could not run: %s.%s" % (first["sentence"].rstrip("."), leftover)
        context = [line.strip() for line in first.get("lines") or [] if line.strip() and line.strip() != first["sentence"]][-3:]
        return ("The DDP training worker failed on rank %s (%s): %s%s%s" % (
            first["rank"], first.get("host"), _short(first["sentence"]).rstrip("."),
            (". Last error lines: %s" % " | ".join(context)) if context else "", ".") + graph + leftover)
    killed = [(int(r), int(c)) for r, c in TORCHRUN_FAILURE.findall("\n".join(run.stderr_tail(80)))]
    signalled = [(r, c) for r, c in killed if c < 0]
    if signalled:
        r, c = signalled[0]
        return "The DDP training worker of rank %d %s.%s%s" % (r, _proc.describe_exit(c), graph, leftover)
    last = tail[-3:]
    return "The DDP benchmark launcher %s%s.%s" % (
        _proc.describe_exit(rc), (": %s" % " / ".join(last)) if last else "", leftover)


def _short(text, limit=400):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_mode_result(argv, config, plan, params):
    cmd = " ".join(argv)
    check = R.skipped("ddp_benchmark", "Check mode: would run %s (world sizes %s, %s on %s)." % (
        cmd, ", ".join(str(k) for k in plan["world_sizes"]), plan["backend"], plan["device"]))
    result = R.build_result([check], {"config": config}, thresholds(params), {}, msg=check["message"], command=argv)
    return result


def thresholds(params):
    return {key: params[key] for key in ("min_scaling_efficiency", "min_gpu_utilization", "max_temperature_c",
                                         "min_throughput")}


def effective_config(params, plan, cfg, info, versions, interpreter, argv):
    config = dict(cfg)
    config.update({
        "optimizer": "SGD(lr=%(lr)s, momentum=%(momentum)s, weight_decay=%(weight_decay)s), zero_grad(set_to_none=True)"
                     % _ddp_worker.SGD_SETTINGS,
        "nproc_per_node": plan["nproc_per_node"], "nnodes": plan["nnodes"], "launcher": "torch.distributed.run",
        "torch": versions.get("torch") or info.get("torch"), "cuda": versions.get("cuda"), "nccl": versions.get("nccl"),
        "python_interpreter": interpreter, "command": " ".join(argv),
    })
    if cfg.get("batched_grad_copy") and versions.get("ddp_batched_grad_copy") is False:
        config["batched_grad_copy"] = "unavailable in torch %s (ignored)" % versions.get("torch")
    config["cuda_graphs_choice"] = params.get("cuda_graphs_choice", "set")
    config.pop("timeout", None)
    if plan["device"] == "cuda":
        config.pop("cpu_threads", None)
    return config


def open_sampler(params, plan):
    """The NVML sampler for a GPU run, and why NVML could not be read (or None).

    The sampler runs in the module's process, ticked by ChildRun.wait while the ranks train, so the
    measured processes run nothing extra. A CPU run has no sampler.
    """
    if plan["device"] != "cuda":
        return None, None
    nvml, reason = _nvml.load_binding(params["binding_search_paths"])
    sampler = _nvml.TelemetrySampler(nvml, SAMPLE_INTERVAL)
    reason = sampler.open() or reason
    return sampler, ("NVML could not be read (%s)" % reason) if reason else None


def read_result(out_dir):
    """Rank 0's result file of this node, or None when the launch wrote none."""
    results = sorted(glob.glob(os.path.join(out_dir, "result-node*.json")))
    if not results:
        return None
    with open(results[0]) as handle:
        return json.load(handle)


def build_result(params, plan, info, cfg, result, runs, sampler, nvml_reason, interpreter, argv, elapsed_s):
    """The module's answer for a launch that measured: checks, metrics, environment, tables, plot, msg."""
    versions = result.get("versions") or {}
    config = effective_config(params, plan, cfg, info, versions, interpreter, argv)
    checks = judge(runs, params, plan, nvml_reason)
    last = runs[-1]
    temps = [r["gpu_temperature_max_c"] for r in runs if r["gpu_temperature_max_c"] is not None]
    metrics = {
        "runs": runs,
        "world_sizes": [r["world_size"] for r in runs],
        "samples_per_second": last["samples_per_second"],
        "scaling_efficiency_percent": last["scaling_efficiency_percent"] if len(runs) > 1 else None,
        "gpu_utilization_percent": last["gpu_utilization_min_percent"],
        "gpu_temperature_max_c": max(temps) if temps else None,
        "elapsed_s": round(elapsed_s, 2),
        "config": config,
    }
    devices = result.get("devices") or []
    environment = {
        "python_interpreter": interpreter,
        "python": versions.get("python") or info.get("python_version"),
        "torch": versions.get("torch"),
        "cuda": versions.get("cuda"),
        "cudnn": versions.get("cudnn"),
        "nccl": versions.get("nccl"),
        "torchvision": versions.get("torchvision") or info.get("torchvision"),
        "hosts": sorted({d.get("host") for d in devices if d.get("host")}),
        "module_host": socket.gethostname(),
        "gpu_names": sorted({d["name"] for d in devices if d.get("name")}) if plan["device"] == "cuda" else [],
        "devices": devices,
        "interconnect": sampler.interconnect() if sampler is not None else None,
        "nvml": nvml_reason or ("sampled every %.1f s" % SAMPLE_INTERVAL if sampler is not None else "not used (CPU run)"),
    }
    out = R.build_result(checks, metrics, thresholds(params), environment, msg=None,
                         tables=report_tables(runs, config, plan), plots=report_plots(runs, plan), command=argv)
    out["msg"] = " ".join(out["failures"]) if out["failures"] else success_message(config, runs)
    return out


def success_message(config, runs):
    base, last = runs[0], runs[-1]
    if len(runs) > 1:
        return "%s trained at %s samples/s on world size %d and %s on %d (%s%% scaling efficiency)." % (
            config["model"], _fmt(base["samples_per_second"]), base["world_size"], _fmt(last["samples_per_second"]),
            last["world_size"], _fmt(last["scaling_efficiency_percent"]))
    return "%s trained at %s samples/s on world size %d." % (
        config["model"], _fmt(last["samples_per_second"]), last["world_size"])
