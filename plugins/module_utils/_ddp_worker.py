# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The training worker of ``ddp_benchmark``: one process per rank, started by PyTorch's own
launcher (``python -m torch.distributed.run``, i.e. torchrun).

The module writes this file into a private temporary directory and starts it under the chosen
interpreter (the AI venv's python). It imports nothing from Ansible, and torch only inside
functions, so ``ansible-test sanity``'s import test passes without torch.

Two ways to run it:

* ``ddp_worker.py --probe``: print one JSON line describing the interpreter (torch, CUDA, NCCL,
  torchvision, device count) without starting CUDA; the module calls this first so that a missing
  framework or GPU ends as one clear sentence before anything is launched.
* ``torchrun ... ddp_worker.py --config CONFIG.json --out DIR``: the benchmark. All world sizes are
  measured in one launch: for a world size ``k`` smaller than the launch, ranks ``0..k-1`` train in
  a process group of their own while the other ranks wait (on a CPU-side gloo group, so they load
  neither the GPUs nor the CPUs). Each world size gets a fresh model, optimizer and DDP wrapper.
  The timed steps of every rank are bracketed by a barrier and a device synchronisation; the step
  boundaries are timed with CUDA events (no synchronisation inside the loop). Local rank 0 of
  every node writes ``DIR/result-node<N>.json``; a rank that fails writes
  ``DIR/error-rank<R>.json`` and prints ``VAULTCUBE_DDP_ERROR rank=R: <sentence>`` to stderr.
"""

from __future__ import absolute_import, division, print_function

import gc
import json
import os
import socket
import sys
import time
import traceback

ERROR_TAG = "VAULTCUBE_DDP_ERROR"
BUILTIN_MODELS = ("small_cnn", "mlp")
# Optimiser of every run (plain SGD, as the hand-written reference loop uses).
SGD_SETTINGS = {"lr": 0.01, "momentum": 0.9, "weight_decay": 1e-4}


class WorkerError(Exception):
    """A failure the worker can explain in one sentence."""


# The job_progress action reads this file while the module runs as an async job (the validation
# role sets the variable). Only rank 0 writes it, at phase boundaries, never inside a timed window.
PROGRESS_VAR = "VAULTCUBE_PROGRESS_FILE"
_LAST_FIGURE = {}


def log(message, figure=None, unit=None):
    """A line on stdout (the module keeps the tail), and the phase in the progress file, if any.

    The last figure (samples/s of the last world size measured) stays in the file until the next."""
    sys.stdout.write("[ddp_worker] %s\n" % message)
    sys.stdout.flush()
    path = os.environ.get(PROGRESS_VAR)
    if not path:
        return
    if figure is not None:
        _LAST_FIGURE.update(value=figure, unit=unit)
    data = {"phase": message, "time": time.time()}
    if _LAST_FIGURE:
        data["figure"] = dict(_LAST_FIGURE)
    try:
        with open(path + ".tmp", "w") as handle:
            json.dump(data, handle)
        os.rename(path + ".tmp", path)
    except OSError:
        pass  # progress is a courtesy; the measurement goes on


# --------------------------------------------------------------------------------------------
# probe


def probe():
    """What this interpreter offers, without initialising CUDA. Always returns a dict."""
    import importlib.util  # pylint: disable=import-outside-toplevel

    info = {
        "python": sys.executable,
        "python_version": "%d.%d.%d" % sys.version_info[:3],
        "hostname": socket.gethostname(),
        "cpu_count": os.cpu_count(),
        "torch": None,
        "torch_error": None,
    }
    try:
        import torch  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        info["torch_error"] = "%s: %s" % (type(exc).__name__, exc)
        return info
    import torch.distributed as dist  # pylint: disable=import-outside-toplevel

    info["torch"] = torch.__version__
    info["cuda_build"] = torch.version.cuda
    info["cuda_available"] = bool(torch.cuda.is_available())
    info["device_count"] = torch.cuda.device_count() if info["cuda_available"] else 0
    info["distributed_available"] = bool(dist.is_available())
    info["nccl_available"] = bool(dist.is_available() and dist.is_nccl_available())
    info["gloo_available"] = bool(dist.is_available() and dist.is_gloo_available())
    info["torchvision"] = None
    if importlib.util.find_spec("torchvision") is not None:
        try:
            from importlib.metadata import version  # pylint: disable=import-outside-toplevel
            info["torchvision"] = version("torchvision")
        except Exception:  # pylint: disable=broad-except
            info["torchvision"] = "unknown"
    return info


# --------------------------------------------------------------------------------------------
# models


def build_model(torch, cfg):
    """A fresh model on the CPU: a built-in one, or any torchvision classification model."""
    name = cfg["model"]
    classes = cfg["num_classes"]
    nn = torch.nn
    if name == "small_cnn":
        # A small ResNet-like CNN (convolutions, batch norm, pooling, a linear head): enough to
        # exercise DDP's buckets and buffers on a CPU in a few seconds. Works for any image size.
        def block(cin, cout, stride):
            return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        layers = block(3, 32, 1) + block(32, 64, 2) + block(64, 64, 1) + block(64, 128, 2)
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, classes))
    if name == "mlp":
        size = 3 * cfg["image_size"] * cfg["image_size"]
        return nn.Sequential(nn.Flatten(), nn.Linear(size, 512), nn.ReLU(inplace=True), nn.Linear(512, 512),
                             nn.ReLU(inplace=True), nn.Linear(512, classes))
    try:
        import torchvision  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise WorkerError("model %s comes from torchvision, which %s cannot import; install torchvision there or use "
                          "one of the built-in models (%s)" % (name, sys.executable, ", ".join(BUILTIN_MODELS)))
    try:
        known = torchvision.models.list_models(module=torchvision.models)
    except Exception:  # pylint: disable=broad-except
        known = None
    if known is not None and name not in known:
        raise WorkerError("torchvision %s has no classification model named %s (it has e.g. %s)" % (
            torchvision.__version__, name, ", ".join(sorted(known)[:8])))
    return torchvision.models.get_model(name, weights=None, num_classes=classes)


# --------------------------------------------------------------------------------------------
# one measurement


def _autocast(torch, cfg, device_type, cache_enabled=True):
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg["precision"])
    if dtype is None:
        return torch.autocast(device_type, enabled=False)
    return torch.autocast(device_type, dtype=dtype, cache_enabled=cache_enabled)


def set_precision(torch, cfg):
    """fp32 is strict fp32; tf32 lets matmuls and convolutions use TF32; bf16/fp16 autocast."""
    if cfg["device"] != "cuda":
        return
    if cfg["precision"] == "fp32":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    elif cfg["precision"] == "tf32":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = bool(cfg["cudnn_benchmark"])


def ddp_supports(ddp_class, name):
    import inspect  # pylint: disable=import-outside-toplevel

    try:
        return name in inspect.signature(ddp_class.__init__).parameters
    except (TypeError, ValueError):
        return False


def ddp_arguments(ddp_class, cfg, group, device_ids):
    """DDP keyword arguments for this torch: newer releases renamed broadcast_buffers to
    forward_sync_buffers and added batched_grad_copy."""
    kwargs = dict(process_group=group, device_ids=device_ids, bucket_cap_mb=cfg["bucket_cap_mb"],
                  gradient_as_bucket_view=cfg["gradient_as_bucket_view"], static_graph=cfg["static_graph"])
    if ddp_supports(ddp_class, "forward_sync_buffers"):
        kwargs["forward_sync_buffers"] = cfg["sync_buffers"]
    else:
        kwargs["broadcast_buffers"] = cfg["sync_buffers"]
    if cfg.get("batched_grad_copy") and ddp_supports(ddp_class, "batched_grad_copy"):
        kwargs["batched_grad_copy"] = True
    return kwargs


def measure(torch, dist, cfg, ctx, world_size, group, ctrl):
    """Train ``world_size`` ranks for warmup + timed steps; return this rank's figures."""
    from torch.nn.parallel import DistributedDataParallel as DDP  # pylint: disable=import-outside-toplevel

    cuda = cfg["device"] == "cuda"
    device = ctx["device"]
    batch = cfg["batch_size"]
    if ctx["rank"] == 0:
        log("world size %d: building %s, warming up" % (world_size, cfg["model"]))
    torch.manual_seed(1234 + ctx["rank"])
    model = build_model(torch, cfg).to(device)
    fmt = torch.channels_last if cfg["channels_last"] else torch.contiguous_format
    if cfg["channels_last"]:
        model = model.to(memory_format=torch.channels_last)

    # Synthetic data, made once: on the device (input_pipeline=device) or in pinned host memory
    # copied to the device every step (input_pipeline=host, the cost of feeding from the CPU).
    shape = (batch, 3, cfg["image_size"], cfg["image_size"])
    labels = torch.randint(0, cfg["num_classes"], (batch,), device=device)
    if cfg["input_pipeline"] == "host" and cuda:
        host_x = torch.randn(shape).contiguous(memory_format=fmt).pin_memory()
        x = torch.empty(shape, device=device).contiguous(memory_format=fmt)
    else:
        host_x = None
        x = torch.randn(shape, device=device).contiguous(memory_format=fmt)

    side = torch.cuda.Stream() if (cuda and cfg["cuda_graphs"]) else None
    ddp_kwargs = ddp_arguments(DDP, cfg, group, [ctx["local_rank"]] if cuda else None)
    if side is not None:
        # CUDA graphs with DDP: construct DDP and warm up on a side stream (PyTorch's CUDA
        # semantics notes, "Usage with DistributedDataParallel").
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            ddp = DDP(model, **ddp_kwargs)
    else:
        ddp = DDP(model, **ddp_kwargs)
    net = ddp
    if cfg["compile"]:
        net = torch.compile(ddp)
    optimizer = torch.optim.SGD(ddp.parameters(), **SGD_SETTINGS)
    criterion = torch.nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler("cuda") if (cuda and cfg["precision"] == "fp16") else None
    device_type = "cuda" if cuda else "cpu"

    def eager_step():
        if host_x is not None:
            x.copy_(host_x, non_blocking=True)
        with _autocast(torch, cfg, device_type, cache_enabled=side is None):
            loss = criterion(net(x), labels)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    warmup = cfg["warmup"]
    step = eager_step
    if side is not None:
        # At least 11 eager DDP iterations before capture (DDP's own requirement: it collects
        # runtime statistics with CUDA timers in iterations 1-10 and every 100th, which must not
        # fall into the capture), then capture forward, backward (with its all-reduces) and the
        # optimizer step as one graph.
        eager = max(warmup, 11)
        if (eager + 1) % 100 == 0:
            eager += 1
        with torch.cuda.stream(side):
            for _step in range(eager):
                loss = eager_step()
        torch.cuda.current_stream().wait_stream(side)
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        optimizer.zero_grad(set_to_none=True)
        # thread_local: only this thread's calls are checked during capture, so the NCCL
        # watchdog thread polling older work does not invalidate the capture.
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            if host_x is not None:
                x.copy_(host_x, non_blocking=True)
            with _autocast(torch, cfg, device_type, cache_enabled=False):
                static_loss = criterion(net(x), labels)
            static_loss.backward()
            optimizer.step()

        def step():
            graph.replay()
            return static_loss
        warmup_done = eager + 1
        loss = step()  # one replay so that the first timed step is not the graph's first launch
    else:
        loss = None
        for _step in range(warmup):
            loss = eager_step()
        warmup_done = warmup
    loss_first = float(loss.detach().float().item()) if loss is not None else None
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()

    steps = cfg["steps"]
    if ctx["rank"] == 0:
        log("world size %d: warm-up done (%d steps), timing %d steps" % (world_size, warmup_done, steps))
    dist.barrier(group=ctrl)
    if cuda:
        torch.cuda.synchronize()
        events = [torch.cuda.Event(enable_timing=True) for _step in range(steps + 1)]
    marks = [0.0] * (steps + 1)
    wall_start = time.time()
    t0 = time.perf_counter()
    for i in range(steps):
        if cuda:
            events[i].record()
        else:
            marks[i] = time.perf_counter()
        loss = step()
    if cuda:
        events[steps].record()
        torch.cuda.synchronize()
    t1 = time.perf_counter()
    wall_end = time.time()
    if cuda:
        step_ms = [events[i].elapsed_time(events[i + 1]) for i in range(steps)]
    else:
        marks[steps] = t1
        step_ms = [(marks[i + 1] - marks[i]) * 1000.0 for i in range(steps)]
    figures = {
        "rank": ctx["rank"],
        "local_rank": ctx["local_rank"],
        "host": ctx["host"],
        "node_rank": ctx["node_rank"],
        "wall_s": t1 - t0,
        "window": [wall_start, wall_end],
        "step_ms": [round(v, 4) for v in step_ms],
        "warmup_steps": warmup_done,
        "loss_first": loss_first,
        "loss_last": float(loss.detach().float().item()),
        "memory_allocated_peak_mib": None,
        "memory_reserved_peak_mib": None,
    }
    if cuda:
        figures["memory_allocated_peak_mib"] = int(torch.cuda.max_memory_allocated() // (1024 * 1024))
        figures["memory_reserved_peak_mib"] = int(torch.cuda.max_memory_reserved() // (1024 * 1024))
    return figures


# --------------------------------------------------------------------------------------------
# the run


def device_info(torch, cfg, ctx):
    info = {"rank": ctx["rank"], "local_rank": ctx["local_rank"], "host": ctx["host"], "node_rank": ctx["node_rank"],
            "device": str(ctx["device"]), "name": None, "uuid": None, "pci_bus_id": None, "total_memory_mib": None}
    if cfg["device"] == "cuda":
        props = torch.cuda.get_device_properties(ctx["local_rank"])
        info["name"] = props.name
        info["total_memory_mib"] = int(props.total_memory // (1024 * 1024))
        uuid = getattr(props, "uuid", None)
        info["uuid"] = ("GPU-%s" % uuid) if uuid is not None else None
        try:
            info["pci_bus_id"] = "%08x:%02x:%02x.0" % (props.pci_domain_id, props.pci_bus_id, props.pci_device_id)
        except (AttributeError, TypeError, ValueError):
            pass  # older torch: the UUID alone matches the GPU to NVML
    else:
        info["name"] = "CPU (%d threads)" % torch.get_num_threads()
    return info


def versions(torch):
    out = {"python": "%d.%d.%d" % sys.version_info[:3], "torch": torch.__version__, "cuda": torch.version.cuda,
           "cudnn": None, "nccl": None, "torchvision": None}
    try:
        out["cudnn"] = torch.backends.cudnn.version()
    except Exception:  # pylint: disable=broad-except
        pass
    if torch.cuda.is_available():
        try:
            nccl = torch.cuda.nccl.version()
            out["nccl"] = ".".join(str(p) for p in nccl) if isinstance(nccl, tuple) else str(nccl)
        except Exception:  # pylint: disable=broad-except
            pass
    from torch.nn.parallel import DistributedDataParallel as DDP  # pylint: disable=import-outside-toplevel

    out["ddp_batched_grad_copy"] = ddp_supports(DDP, "batched_grad_copy")
    mod = sys.modules.get("torchvision")
    if mod is not None:
        out["torchvision"] = getattr(mod, "__version__", None)
    return out


def run(cfg, out_dir):
    import datetime  # pylint: disable=import-outside-toplevel

    import torch  # pylint: disable=import-outside-toplevel
    import torch.distributed as dist  # pylint: disable=import-outside-toplevel

    rank = int(os.environ["RANK"])
    world = int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    node_rank = int(os.environ.get("GROUP_RANK", "0"))
    cuda = cfg["device"] == "cuda"
    if cuda:
        if not torch.cuda.is_available():
            raise WorkerError("torch %s in %s sees no CUDA device" % (torch.__version__, sys.executable))
        if local_rank >= torch.cuda.device_count():
            raise WorkerError("local rank %d needs GPU %d, but torch sees only %d GPU(s) on %s" % (
                local_rank, local_rank, torch.cuda.device_count(), socket.gethostname()))
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
        torch.set_num_threads(max(1, cfg.get("cpu_threads") or 1))
    set_precision(torch, cfg)
    ctx = {"rank": rank, "local_rank": local_rank, "node_rank": node_rank, "host": socket.gethostname(), "device": device}
    timeout = datetime.timedelta(seconds=max(60, int(cfg.get("timeout") or 1800)))
    dist.init_process_group(backend=cfg["backend"], timeout=timeout)
    # Control traffic (barriers, gathering the figures) goes over gloo on the CPU, so that waiting
    # ranks neither spin on a GPU nor touch the measured process group.
    ctrl_world = dist.new_group(backend="gloo", timeout=timeout)
    info = device_info(torch, cfg, ctx)
    devices = [None] * world
    dist.all_gather_object(devices, info, group=ctrl_world)
    if rank == 0:
        log("%d rank(s) on %s, world sizes %s" % (world, ", ".join(sorted({d["host"] for d in devices})), cfg["world_sizes"]))

    runs = []
    for k in cfg["world_sizes"]:
        if k > world:
            raise WorkerError("world size %d is larger than the %d ranks launched" % (k, world))
        if k == world:
            group, ctrl = None, ctrl_world
        else:
            group = dist.new_group(ranks=list(range(k)), backend=cfg["backend"], timeout=timeout)
            ctrl = dist.new_group(ranks=list(range(k)), backend="gloo", timeout=timeout)
        figures = measure(torch, dist, cfg, ctx, k, group, ctrl) if rank < k else None
        # The model, optimizer, DDP wrapper (and CUDA graph) of this world size are gone with
        # measure()'s frame; give their memory back before the next world size.
        gc.collect()
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
        gathered = [None] * world
        dist.all_gather_object(gathered, figures, group=ctrl_world)
        ranks = [g for g in gathered if g is not None]
        runs.append({"world_size": k, "ranks": ranks})
        if rank == 0:
            slowest = max(r["wall_s"] for r in ranks)
            rate = k * cfg["batch_size"] * cfg["steps"] / slowest
            log("world size %d: %d steps in %.3f s (slowest rank), %.1f samples/s" % (k, cfg["steps"], slowest, rate),
                round(rate, 1), "samples/s")
    if local_rank == 0:
        result = {"config": cfg, "world": world, "local_world_size": local_world, "node_rank": node_rank,
                  "host": ctx["host"], "versions": versions(torch), "devices": devices, "runs": runs}
        path = os.path.join(out_dir, "result-node%d.json" % node_rank)
        with open(path + ".tmp", "w") as handle:
            json.dump(result, handle)
        os.rename(path + ".tmp", path)
    dist.barrier(group=ctrl_world)
    dist.destroy_process_group()


def report_error(out_dir, rank, exc):
    """One sentence (and the traceback's last lines) for the module to show."""
    if isinstance(exc, WorkerError):
        sentence = str(exc)
        lines = [sentence]
    else:
        text = "%s: %s" % (type(exc).__name__, exc)
        sentence = " ".join(text.split())
        lines = [line for line in traceback.format_exc().splitlines() if line.strip()][-12:]
    sys.stderr.write("%s rank=%s: %s\n" % (ERROR_TAG, rank, sentence))
    sys.stderr.flush()
    try:
        with open(os.path.join(out_dir, "error-rank%s.json" % rank), "w") as handle:
            json.dump({"rank": rank, "host": socket.gethostname(), "sentence": sentence, "lines": lines,
                       "known": isinstance(exc, WorkerError), "time": time.time()}, handle)
    except OSError:
        pass


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if "--probe" in args:
        sys.stdout.write(json.dumps(probe()) + "\n")
        return 0
    cfg_path = args[args.index("--config") + 1]
    out_dir = args[args.index("--out") + 1]
    with open(cfg_path) as handle:
        cfg = json.load(handle)
    rank = os.environ.get("RANK", "?")
    try:
        run(cfg, out_dir)
    except BaseException as exc:  # pylint: disable=broad-except
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        report_error(out_dir, rank, exc)
        sys.stdout.flush()
        # Skip interpreter shutdown: a process group with a failed peer may block in its
        # destructor; torchrun stops the other ranks when this one exits.
        os._exit(3 if isinstance(exc, WorkerError) else 1)
    return 0


if __name__ == "__main__":
    # A plain script started by torchrun, not an Ansible module: its exit status is its answer.
    sys.exit(main())  # pylint: disable=ansible-bad-function
