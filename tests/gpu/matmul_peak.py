# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plain-matmul peak stress_gpu is held to (tests/gpu/stress_gpu.yml, steps 1 and 3): torch.matmul
into one output buffer, timed with CUDA events, per GPU; half the time settles clocks, half is timed.

    matmul_peak.py OUT_JSON SECONDS DEVICE N DTYPE GPUS     (GPUS: comma-separated indexes)

Writes {"<gpu index>": TFLOP/s, ...} to OUT_JSON and prints one line per GPU. DEVICE cpu times
the same loop on the CPU (a rehearsal of the playbook, not a GPU figure).
"""

import json
import sys
import time

import torch


def block(a, b, c, count, device):
    """Seconds for COUNT matmuls of a x b into c."""
    if device == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _rep in range(count):
            torch.matmul(a, b, out=c)
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000.0
    t = time.perf_counter()
    for _rep in range(count):
        torch.matmul(a, b, out=c)
    return time.perf_counter() - t


def peak(index, seconds, device, n, dtype):
    """TFLOP/s of one GPU (or the CPU) and the seconds timed."""
    dt = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
    dev = torch.device("cuda", index) if device == "cuda" else torch.device("cpu")
    if device == "cuda":
        torch.cuda.set_device(dev)
    a = torch.randn(n, n, device=dev).to(dt)
    b = torch.randn(n, n, device=dev).to(dt)
    c = torch.empty(n, n, device=dev, dtype=dt)
    one = block(a, b, c, 3, device) / 3  # warm-up, and the size of a timed block
    count = max(1, int(0.5 / one))
    end = time.time() + seconds / 2
    while time.time() < end:  # settle clocks
        block(a, b, c, count, device)
    total_t, total_n = 0.0, 0
    end = time.time() + seconds / 2
    while time.time() < end:
        total_t += block(a, b, c, count, device)
        total_n += count
    return round(2.0 * n ** 3 * total_n / total_t / 1e12, 3), total_t


def main():
    out, seconds, device, n, dtype, gpus = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
    result = {}
    for index in [int(g) for g in gpus.split(",")]:
        result[str(index)], timed = peak(index, seconds, device, n, dtype)
        print("plain matmul %s %dx%d on %s %d: %.1f TFLOP/s over %.1f s" % (dtype, n, n, device, index, result[str(index)], timed))
    with open(out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
