# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The measuring side of ``gpu_bandwidth``: copies and collectives, run in child processes under
the AI venv's python. It imports nothing from Ansible, and torch only inside functions, so
``ansible-test sanity``'s import test passes without torch.

The module writes this file (as ``_bandwidth_worker.py``, beside ``_ddp_worker.py`` whose probe it
reuses) into a private temporary directory and starts it three ways:

* ``bandwidth_main.py probe``: one JSON line about the interpreter (torch, CUDA, NCCL, gloo).
* ``bandwidth_main.py copies CONFIG OUT``: one process, every GPU in turn. Per GPU: host-to-device
  and device-to-host copies from/to pinned host memory over the size sweep, pageable host memory at
  the largest size, a copy inside GPU memory, and the latency of a small synchronous copy. Per GPU
  pair: whether peer access is possible, peer copies each way and both ways at once with peer
  access on, and each way again with peer access off (the control: CUDA then stages the copy
  through host memory). Each figure is appended to ``OUT/copies.jsonl`` as soon as it is measured.
* ``torchrun ... bandwidth_main.py collectives CONFIG OUT``: one process per rank. all_reduce,
  all_gather and reduce_scatter over the message sizes; every size is first run once on values
  whose correct result is known bit for bit and compared element by element, then timed. Each rank
  appends what it starts and finishes to ``OUT/progress-rank<R>.jsonl`` (so a hang can be named:
  the collective, the size, the ranks that entered it and those that never did) and writes
  ``OUT/result-rank<R>.json`` at the end; a rank that fails writes ``OUT/error-rank<R>.json``.

Timing. Copies: CUDA events around ``iters`` back-to-back ``copy_`` calls on one stream, the median
of ``repeats`` such loops (pageable copies and the two-way pair copy: wall clock with device
synchronisation, as their host side is part of the copy). Collectives, as nccl-tests does it: wall
clock around ``iters`` back-to-back calls after ``warmup`` untimed ones, the device synchronised
before and after; the module takes the slowest rank's time.

Fault injection (tests only): ``VAULTCUBE_BANDWIDTH_FAULT=stall,rank=1,op=all_reduce,bytes=4096``
makes that rank stop before that collective (the timeout path); ``corrupt,...`` makes it add 1 to
the first element it contributes to that collective's checked run (the exact-check path).
"""

from __future__ import absolute_import, division, print_function

import json
import os
import socket
import sys
import time
import traceback

FAULT_VAR = "VAULTCUBE_BANDWIDTH_FAULT"
OPS = ("all_reduce", "all_gather", "reduce_scatter")
ELEMENT_BYTES = 4  # float32
# Check values: position pattern (1..modulus) plus the rank, exact in float32 for the sums below.
DEFAULT_MODULUS = 65521


def log(message):
    sys.stdout.write("[bandwidth_worker] %s\n" % message)
    sys.stdout.flush()


def append_jsonl(path, record):
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle)
    os.rename(tmp, path)


def parse_fault(text):
    """``stall,rank=1,op=all_reduce,bytes=4096`` -> {kind, rank, op, bytes}; None when unset."""
    if not text:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    fault = {"kind": parts[0]}
    for part in parts[1:]:
        key, _sep, value = part.partition("=")
        fault[key] = int(value) if key in ("rank", "bytes") else value
    return fault


def iterations(size, target_bytes, low, high):
    """Back-to-back operations per timed loop: enough bytes to time well, within [low, high]."""
    wanted = -(-int(target_bytes) // max(1, int(size)))
    return max(int(low), min(int(high), wanted))


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


# --------------------------------------------------------------------------------------------
# copies (one process, every GPU)


def _event_loop(torch, copy, iters, repeats, warmup):
    """Median seconds per copy: CUDA events around ``iters`` back-to-back copies."""
    for _step in range(warmup):
        copy()
    torch.cuda.synchronize()
    times = []
    for _step in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _step in range(iters):
            copy()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000.0 / iters)
    return median(times)


def _wall_loop(torch, copy, iters, repeats, warmup, devices):
    """Median seconds per copy by the wall clock, every device synchronised before and after."""
    def sync():
        for device in devices:
            torch.cuda.synchronize(device)
    for _step in range(warmup):
        copy()
    sync()
    times = []
    for _step in range(repeats):
        t0 = time.perf_counter()
        for _step in range(iters):
            copy()
        sync()
        times.append((time.perf_counter() - t0) / iters)
    return median(times)


def _cudart(torch):
    """The CUDA runtime torch loaded (ctypes), to switch peer access off for the control."""
    import ctypes  # pylint: disable=import-outside-toplevel

    torch.cuda.init()
    try:
        with open("/proc/self/maps") as handle:
            paths = sorted({line.split()[-1] for line in handle if "libcudart.so" in line})
    except OSError:
        paths = []
    for path in paths:
        try:
            return ctypes.CDLL(path), None
        except OSError:
            continue
    return None, "the CUDA runtime library torch uses could not be found in this process"


def measure_gpu(torch, cfg, device_index, out):
    """Host<->device, in-memory and small-copy figures of one GPU, appended to ``out``."""
    dev = torch.device("cuda", device_index)
    torch.cuda.set_device(dev)
    props = torch.cuda.get_device_properties(dev)
    record = {"type": "gpu", "gpu": device_index, "name": props.name, "uuid": str(getattr(props, "uuid", "") or "")}
    append_jsonl(out, record)
    largest = max(cfg["sizes"])
    device_buf = torch.empty(largest, dtype=torch.uint8, device=dev)
    device_dst = torch.empty(largest, dtype=torch.uint8, device=dev)
    pinned = torch.empty(largest, dtype=torch.uint8, pin_memory=True)
    pageable = torch.empty(largest, dtype=torch.uint8)
    device_buf.fill_(1)
    pinned.fill_(2)
    pageable.fill_(3)
    reps, warm = cfg["repeats"], cfg["warmup"]
    for size in cfg["sizes"]:
        iters = iterations(size, cfg["target_bytes"], cfg["min_iters"], cfg["max_iters"])
        d, d2, h = device_buf[:size], device_dst[:size], pinned[:size]
        h2d = _event_loop(torch, lambda d=d, h=h: d.copy_(h, non_blocking=True), iters, reps, warm)
        d2h = _event_loop(torch, lambda d=d, h=h: h.copy_(d, non_blocking=True), iters, reps, warm)
        d2d = _event_loop(torch, lambda d=d, d2=d2: d2.copy_(d, non_blocking=True), iters, reps, warm)
        for kind, seconds in (("h2d", h2d), ("d2h", d2h), ("device_copy", d2d)):
            append_jsonl(out, {"type": "copy", "gpu": device_index, "kind": kind, "memory": "pinned" if kind != "device_copy" else "device",
                               "bytes": size, "iters": iters, "repeats": reps, "seconds": seconds})
    iters = iterations(largest, cfg["target_bytes"], cfg["min_iters"], cfg["max_iters"])
    d, h = device_buf, pageable
    for kind, copy in (("h2d", lambda: d.copy_(h)), ("d2h", lambda: h.copy_(d))):
        seconds = _wall_loop(torch, copy, iters, reps, 1, [dev])
        append_jsonl(out, {"type": "copy", "gpu": device_index, "kind": kind, "memory": "pageable",
                           "bytes": largest, "iters": iters, "repeats": reps, "seconds": seconds})
    small = cfg["latency_bytes"]
    d, h = device_buf[:small], pinned[:small]
    for kind, copy in (("h2d", lambda: d.copy_(h)), ("d2h", lambda: h.copy_(d))):
        times = []
        for _step in range(cfg["latency_iters"]):
            t0 = time.perf_counter()
            copy()
            torch.cuda.synchronize(dev)
            times.append(time.perf_counter() - t0)
        append_jsonl(out, {"type": "latency", "gpu": device_index, "kind": kind, "bytes": small,
                           "iters": cfg["latency_iters"], "seconds": median(times)})
    del device_buf, device_dst, pinned, pageable
    torch.cuda.empty_cache()


def measure_pair(torch, cfg, a, b, cudart, out):
    """Peer copies between GPUs a and b: each way, both ways at once, and the control without peer access."""
    size = max(cfg["sizes"])
    dev_a, dev_b = torch.device("cuda", a), torch.device("cuda", b)
    possible = bool(torch.cuda.can_device_access_peer(a, b)) and bool(torch.cuda.can_device_access_peer(b, a))
    append_jsonl(out, {"type": "pair", "gpus": [a, b], "peer_access": possible})
    buf = {a: torch.empty(size, dtype=torch.uint8, device=dev_a), b: torch.empty(size, dtype=torch.uint8, device=dev_b)}
    dst = {a: torch.empty(size, dtype=torch.uint8, device=dev_a), b: torch.empty(size, dtype=torch.uint8, device=dev_b)}
    iters = iterations(size, cfg["target_bytes"], cfg["min_iters"], cfg["max_iters"])
    reps, warm = cfg["repeats"], cfg["warmup"]

    def one_way(src, to):
        with torch.cuda.device(src):
            return _event_loop(torch, lambda: dst[to].copy_(buf[src], non_blocking=True), iters, reps, warm)

    if possible:
        for src, to in ((a, b), (b, a)):
            seconds = one_way(src, to)
            append_jsonl(out, {"type": "p2p", "gpus": [src, to], "mode": "peer", "bytes": size, "iters": iters,
                               "repeats": reps, "seconds": seconds})
        streams = {a: torch.cuda.Stream(dev_a), b: torch.cuda.Stream(dev_b)}

        def both():
            with torch.cuda.stream(streams[a]):
                dst[b].copy_(buf[a], non_blocking=True)
            with torch.cuda.stream(streams[b]):
                dst[a].copy_(buf[b], non_blocking=True)
        seconds = _wall_loop(torch, both, iters, reps, warm, [dev_a, dev_b])
        append_jsonl(out, {"type": "p2p", "gpus": [a, b], "mode": "bidirectional", "bytes": size, "iters": iters,
                           "repeats": reps, "seconds": seconds})
    # The control: peer access off, so CUDA stages each copy through host memory.
    reason = None
    if cudart is None:
        reason = "the CUDA runtime could not be reached to switch peer access off"
    else:
        for src, peer in ((a, b), (b, a)):
            torch.cuda.synchronize(src)
            with torch.cuda.device(src):
                code = cudart.cudaDeviceDisablePeerAccess(int(peer))
            # 0: disabled now; 705 (cudaErrorPeerAccessNotEnabled): it was never on.
            if code not in (0, 705):
                reason = "cudaDeviceDisablePeerAccess(%d) on GPU %d returned CUDA error %d" % (peer, src, code)
    if reason is None:
        try:
            for src, to in ((a, b), (b, a)):
                seconds = one_way(src, to)
                append_jsonl(out, {"type": "p2p", "gpus": [src, to], "mode": "no_peer", "bytes": size, "iters": iters,
                                   "repeats": reps, "seconds": seconds})
        except RuntimeError as exc:  # the copy itself refused without peer access: say so, keep the rest
            reason = "a copy with peer access off failed: %s" % str(exc).splitlines()[0]
        if possible:
            for src, peer in ((a, b), (b, a)):
                with torch.cuda.device(src):
                    cudart.cudaDeviceEnablePeerAccess(int(peer), 0)
    if reason is not None:
        append_jsonl(out, {"type": "p2p_control_skipped", "gpus": [a, b], "reason": reason})
    buf.clear()
    dst.clear()
    torch.cuda.empty_cache()


def run_copies(cfg, out_dir):
    import torch  # pylint: disable=import-outside-toplevel

    out = os.path.join(out_dir, "copies.jsonl")
    append_jsonl(out, {"type": "start", "torch": torch.__version__, "cuda": torch.version.cuda,
                       "devices": torch.cuda.device_count(), "time": time.time()})
    for index in cfg["gpus"]:
        measure_gpu(torch, cfg, index, out)
    if cfg.get("pairs") and len(cfg["gpus"]) > 1:
        cudart, reason = _cudart(torch)
        if reason:
            log(reason)
        gpus = cfg["gpus"]
        for i, a in enumerate(gpus):
            for b in gpus[i + 1:]:
                measure_pair(torch, cfg, a, b, cudart, out)
    append_jsonl(out, {"type": "end", "time": time.time()})
    return 0


# --------------------------------------------------------------------------------------------
# collectives (one process per rank, under torch.distributed.run)


def element_counts(op, size, world):
    """(input elements, output elements, bytes as nccl-tests counts them) of one collective.

    nccl-tests' size: all_reduce the buffer each rank reduces; all_gather the gathered output;
    reduce_scatter the input each rank reduces. Sizes are rounded down to whole float32 elements
    (all_gather/reduce_scatter: a whole number per rank), with at least one element per rank.
    """
    if op == "all_reduce":
        count = max(1, size // ELEMENT_BYTES)
        return count, count, count * ELEMENT_BYTES
    per_rank = max(1, size // (ELEMENT_BYTES * world))
    if op == "all_gather":
        return per_rank, per_rank * world, per_rank * world * ELEMENT_BYTES
    return per_rank * world, per_rank, per_rank * world * ELEMENT_BYTES


def check_modulus(world):
    """Largest modulus whose check sums stay exact in float32 (< 2**24) at this world size."""
    limit = (2 ** 24 - world * world) // max(1, world) - 1
    return max(3, min(DEFAULT_MODULUS, limit))


def check_values(torch, op, rank, world, n_in, device, modulus):
    """(input, expected output) whose exact result is known: a position pattern plus the rank."""
    def pattern(start, count):
        return (torch.arange(start, start + count, device=device, dtype=torch.int64) % modulus + 1).to(torch.float32)
    if op == "all_reduce":
        base = pattern(0, n_in)
        return base + rank, base * world + (world * (world - 1) // 2)
    if op == "all_gather":
        return pattern(rank * n_in, n_in), pattern(0, n_in * world)
    per_rank = n_in // world
    return pattern(0, n_in) + rank, pattern(rank * per_rank, per_rank) * world + (world * (world - 1) // 2)


def compare(torch, got, expected):
    """Exact comparison: {elements, mismatches, first_index, expected, got}."""
    wrong = got != expected
    count = int(wrong.sum().item())
    out = {"elements": int(expected.numel()), "mismatches": count, "first_index": None, "expected": None, "got": None}
    if count:
        first = int(torch.nonzero(wrong.flatten())[0].item())
        out.update({"first_index": first, "expected": float(expected.flatten()[first].item()),
                    "got": float(got.flatten()[first].item())})
    return out


def _nccl_version(torch):
    version = torch.cuda.nccl.version()
    return ".".join(str(v) for v in version) if isinstance(version, (tuple, list)) else str(version)


def _collective(dist, op):
    if op == "all_reduce":
        return lambda out, inp: dist.all_reduce(out)
    if op == "all_gather":
        return getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor
    return getattr(dist, "reduce_scatter_single", None) or dist.reduce_scatter_tensor


def run_collectives(cfg, out_dir):
    import datetime  # pylint: disable=import-outside-toplevel

    import torch  # pylint: disable=import-outside-toplevel
    import torch.distributed as dist  # pylint: disable=import-outside-toplevel

    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    progress = os.path.join(out_dir, "progress-rank%d.jsonl" % rank)
    fault = parse_fault(os.environ.get(FAULT_VAR))
    cuda = cfg["device"] == "cuda"
    if cuda:
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        torch.set_num_threads(max(1, int(cfg.get("cpu_threads") or 1)))
        device = torch.device("cpu")
    dist.init_process_group(cfg["backend"], timeout=datetime.timedelta(seconds=cfg["timeout"]))
    world = dist.get_world_size()
    modulus = check_modulus(world)
    info = {"rank": rank, "local_rank": local, "world_size": world, "host": socket.gethostname(),
            "backend": cfg["backend"], "device": cfg["device"], "torch": torch.__version__,
            "nccl": _nccl_version(torch) if cuda else None}
    if cuda:
        props = torch.cuda.get_device_properties(device)
        info.update({"name": props.name, "uuid": str(getattr(props, "uuid", "") or "")})
    append_jsonl(progress, {"event": "ready", "t": time.time()})

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    records = []
    for op in cfg["ops"]:
        run = _collective(dist, op)
        for size in cfg["sizes"]:
            n_in, n_out, nbytes = element_counts(op, size, world)
            step = {"op": op, "bytes": nbytes, "requested_bytes": size}
            hit = fault if (fault and fault.get("rank") == rank and fault.get("op") == op
                            and fault.get("bytes") == size) else None
            if hit and hit["kind"] == "stall":
                log("rank %d stalls before %s of %d bytes (%s)" % (rank, op, size, FAULT_VAR))
                while True:
                    time.sleep(3600)
            append_jsonl(progress, dict(step, event="enter", t=time.time()))
            inp, expected = check_values(torch, op, rank, world, n_in, device, modulus)
            if hit and hit["kind"] == "corrupt":
                inp[0] += 1
            out = inp.clone() if op == "all_reduce" else torch.empty(n_out, dtype=torch.float32, device=device)
            run(out, inp)
            sync()
            check = compare(torch, out, expected)
            del expected
            # The timed loop reuses the buffers; all_reduce works in place, so its values grow (the
            # speed of a collective does not depend on them) - only the checked run above is compared.
            iters = iterations(nbytes, cfg["target_bytes"], cfg["min_iters"], cfg["max_iters"])
            for _step in range(min(cfg["warmup"], iters)):
                run(out, inp)
            sync()
            t0 = time.perf_counter()
            for _step in range(iters):
                run(out, inp)
            sync()
            seconds = (time.perf_counter() - t0) / iters
            del inp, out
            records.append(dict(step, iters=iters, seconds=seconds, check=check))
            append_jsonl(progress, dict(step, event="done", t=time.time(), mismatches=check["mismatches"]))
    # Every node's module reads every rank's figures: local rank 0 of each node writes them all.
    gathered = [None] * world
    dist.all_gather_object(gathered, {"info": info, "records": records})
    if local == 0:
        for item in gathered:
            write_json(os.path.join(out_dir, "result-rank%d.json" % item["info"]["rank"]), item)
    dist.barrier()
    dist.destroy_process_group()
    return 0


# --------------------------------------------------------------------------------------------
# entry point


def main(argv):
    if argv[:1] == ["probe"]:
        import _ddp_worker  # pylint: disable=import-outside-toplevel,import-error
        info = _ddp_worker.probe()
        sys.stdout.write(json.dumps(info) + "\n")
        return 0
    if len(argv) != 3 or argv[0] not in ("copies", "collectives"):
        sys.stderr.write("usage: bandwidth_main.py probe | copies CONFIG OUT | collectives CONFIG OUT\n")
        return 2
    mode, config_path, out_dir = argv
    with open(config_path) as handle:
        cfg = json.load(handle)
    rank = os.environ.get("RANK", "0")
    try:
        if mode == "copies":
            return run_copies(cfg, out_dir)
        return run_collectives(cfg, out_dir)
    except Exception as exc:  # pylint: disable=broad-except
        lines = traceback.format_exc().splitlines()
        write_json(os.path.join(out_dir, "error-%s%s.json" % ("copies" if mode == "copies" else "rank", "" if mode == "copies" else rank)),
                   {"rank": rank, "mode": mode, "sentence": "%s: %s" % (type(exc).__name__, exc), "lines": lines[-12:],
                    "time": time.time()})
        sys.stderr.write("\n".join(lines[-12:]) + "\n")
        return 1


MAIN_SOURCE = """# gpu_bandwidth's entry point, written by the module beside _bandwidth_worker.py and _ddp_worker.py.
import sys
import _bandwidth_worker
sys.exit(_bandwidth_worker.main(sys.argv[1:]))
"""
