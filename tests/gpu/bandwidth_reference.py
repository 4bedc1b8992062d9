# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plain references gpu_bandwidth is held to, written by hand with nothing of the collection:

    python3 tests/gpu/bandwidth_reference.py copies --bytes 268435456
        pinned host -> GPU 0, GPU 0 -> pinned host, a copy inside GPU 0's memory (counted read +
        write, 2 x bytes), and with two GPUs GPU 0 -> GPU 1 and back with peer access on: CUDA
        events around 16 back-to-back copies, the median of 3 such loops, after 2 untimed copies.
    python3 -m torch.distributed.run --standalone --nproc-per-node 2 tests/gpu/bandwidth_reference.py \
        allreduce --bytes 268435456 1073741824
        a float32 all_reduce (NCCL): 5 untimed calls, then the wall time of 20 calls between two
        device synchronisations, the slowest rank's; busbw = bytes / time x 2(n-1)/n (nccl-tests).

Prints one JSON line per figure (GB/s = 1e9 bytes/s).
"""

import argparse
import json
import os
import statistics
import time

import torch


def timed(copy, iters=16, repeats=3, warmup=2):
    for _step in range(warmup):
        copy()
    torch.cuda.synchronize()
    times = []
    for _step in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _step in range(iters):
            copy()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000.0 / iters)
    return statistics.median(times)


def copies(nbytes):
    dev = torch.device("cuda", 0)
    torch.cuda.set_device(dev)
    host = torch.empty(nbytes, dtype=torch.uint8, pin_memory=True).fill_(1)
    a = torch.empty(nbytes, dtype=torch.uint8, device=dev).fill_(2)
    b = torch.empty(nbytes, dtype=torch.uint8, device=dev)
    out = {"h2d": nbytes / timed(lambda: a.copy_(host, non_blocking=True)) / 1e9,
           "d2h": nbytes / timed(lambda: host.copy_(a, non_blocking=True)) / 1e9,
           "device_copy": 2 * nbytes / timed(lambda: b.copy_(a, non_blocking=True)) / 1e9}
    if torch.cuda.device_count() > 1:
        c = torch.empty(nbytes, dtype=torch.uint8, device=torch.device("cuda", 1))
        out["p2p_0_to_1"] = nbytes / timed(lambda: c.copy_(a, non_blocking=True)) / 1e9
        with torch.cuda.device(1):
            out["p2p_1_to_0"] = nbytes / timed(lambda: b.copy_(c, non_blocking=True)) / 1e9
    for key, value in out.items():
        print(json.dumps({"reference": key, "bytes": nbytes, "gbps": round(value, 3)}))


def allreduce(sizes):
    import torch.distributed as dist  # pylint: disable=import-outside-toplevel

    dist.init_process_group("nccl")
    local = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local)
    world = dist.get_world_size()
    for nbytes in sizes:
        x = torch.ones(nbytes // 4, dtype=torch.float32, device="cuda")
        for _step in range(5):
            dist.all_reduce(x)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _step in range(20):
            dist.all_reduce(x)
        torch.cuda.synchronize()
        seconds = torch.tensor([(time.perf_counter() - t0) / 20], device="cuda")
        dist.all_reduce(seconds, op=dist.ReduceOp.MAX)
        alg = nbytes / seconds.item() / 1e9
        if dist.get_rank() == 0:
            print(json.dumps({"reference": "all_reduce", "bytes": nbytes, "world": world, "time_us": round(seconds.item() * 1e6, 1),
                              "algbw_gbps": round(alg, 3), "busbw_gbps": round(alg * 2 * (world - 1) / world, 3)}))
        del x
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("mode", choices=["copies", "allreduce"])
    ap.add_argument("--bytes", type=int, nargs="+", default=[256 << 20])
    args = ap.parse_args()
    if args.mode == "copies":
        for nbytes in args.bytes:
            copies(nbytes)
    else:
        allreduce(args.bytes)


if __name__ == "__main__":
    main()
