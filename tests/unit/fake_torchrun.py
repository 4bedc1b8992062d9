# -*- coding: utf-8 -*-
"""A stand-in for ``python -m torch.distributed.run`` in ddp_benchmark's unit tests.

    fake_torchrun.py SCENARIO OUT_DIR TOKEN [WORLD_SIZES]

It starts two "ranks" (python children that carry TOKEN on their command line, one of them in a
session of its own, as torchrun's workers are), then plays SCENARIO:

  ok        ranks write a result file in the worker's format, all exit 0
  crash     rank 1 writes an error file with a traceback and exits 1; rank 0 is left running;
            the launcher prints torchrun's failure summary and exits 1
  oom       rank 0 writes a CUDA out-of-memory error; launcher exits 1
  known     rank 0 writes a WorkerError (a sentence the worker chose); launcher exits 1
  killed    rank 1 is SIGKILLed; the launcher prints the summary with exitcode -9 and exits 1
  hang      everything sleeps (the module's timeout has to stop it)
  silent    the launcher exits 2 with a message of its own and no error file
"""

import json
import os
import signal
import subprocess
import sys
import time

scenario, out_dir, token = sys.argv[1], sys.argv[2], sys.argv[3]
world_sizes = json.loads(sys.argv[4]) if len(sys.argv) > 4 else [1, 2]
SLEEPER = "import sys, time; time.sleep(120)  # %s" % token


def rank(session=False):
    return subprocess.Popen([sys.executable, "-c", SLEEPER], start_new_session=session)


def write_error(rank_id, sentence, lines, known=False):
    with open(os.path.join(out_dir, "error-rank%d.json" % rank_id), "w") as handle:
        json.dump({"rank": rank_id, "host": "fakehost", "sentence": sentence, "lines": lines, "known": known,
                   "time": time.time()}, handle)
    sys.stderr.write("VAULTCUBE_DDP_ERROR rank=%d: %s\n" % (rank_id, sentence))


def summary(rank_id, code):
    sys.stderr.write("=" * 40 + "\n/tmp/x/ddp_worker.py FAILED\n" + "-" * 40 + "\nFailures:\n  <NO_OTHER_FAILURES>\n"
                     + "-" * 40 + "\nRoot Cause (first observed failure):\n[0]:\n  time      : 2026-11-29_07:42:57\n"
                     + "  host      : fakehost\n  rank      : %d (local_rank: %d)\n  exitcode  : %d (pid: 4242)\n" % (
                         rank_id, rank_id, code)
                     + "  error_file: <N/A>\n  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html\n"
                     + "=" * 40 + "\n")


def result():
    now = time.time()
    devices = [{"rank": r, "local_rank": r, "host": "fakehost", "node_rank": 0, "device": "cuda:%d" % r,
                "name": "NVIDIA H200", "uuid": "GPU-H200-%d" % r, "pci_bus_id": None, "total_memory_mib": 143000}
               for r in range(2)]
    runs = []
    for k in world_sizes:
        ranks = []
        for r in range(k):
            wall = 2.0 if k == 1 else 2.1 + 0.02 * r
            ranks.append({"rank": r, "local_rank": r, "host": "fakehost", "node_rank": 0, "wall_s": wall,
                          "window": [now - 60, now + 60], "step_ms": [wall * 1000 / 10.0] * 9 + [wall * 1000 / 10.0 + 1],
                          "warmup_steps": 2, "loss_first": 6.9, "loss_last": 6.5,
                          "memory_allocated_peak_mib": 20000 + r, "memory_reserved_peak_mib": 22000})
        runs.append({"world_size": k, "ranks": ranks})
    return {"config": {}, "world": 2, "local_world_size": 2, "node_rank": 0, "host": "fakehost",
            "versions": {"python": "3.12.3", "torch": "2.11.0+cu130", "cuda": "13.0", "cudnn": 91900, "nccl": "2.27.7",
                         "torchvision": "0.26.0", "ddp_batched_grad_copy": False},
            "devices": devices, "runs": runs}


children = [rank(), rank(session=True)]
sys.stdout.write("[ddp_worker] 2 rank(s) on fakehost, world sizes %s\n" % world_sizes)
sys.stdout.flush()

if scenario == "ok":
    with open(os.path.join(out_dir, "result-node0.json"), "w") as handle:
        json.dump(result(), handle)
    for child in children:
        child.kill()
    sys.exit(0)
if scenario == "crash":
    write_error(1, "RuntimeError: NCCL error in: ProcessGroupNCCL.cpp:123, unhandled system error",
                ["Traceback (most recent call last):", '  File "ddp_worker.py", line 250, in measure',
                 "    loss = step()", '  File "ddp_worker.py", line 199, in eager_step', "    loss.backward()",
                 "RuntimeError: NCCL error in: ProcessGroupNCCL.cpp:123, unhandled system error"])
    children[1].kill()
    summary(1, 1)
    sys.exit(1)
if scenario == "oom":
    text = "OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 139.8 GiB"
    write_error(0, text, ["Traceback (most recent call last):", "torch.OutOfMemoryError: " + text[len("OutOfMemoryError: "):]])
    summary(0, 1)
    sys.exit(1)
if scenario == "known":
    write_error(0, "torchvision 0.26.0 has no classification model named resnet5000 (it has e.g. alexnet)",
                ["torchvision 0.26.0 has no classification model named resnet5000 (it has e.g. alexnet)"], known=True)
    sys.exit(1)
if scenario == "killed":
    children[1].send_signal(signal.SIGKILL)
    summary(1, -9)
    sys.exit(1)
if scenario == "hang":
    sys.stdout.write("[ddp_worker] world size 1: warm-up done (2 steps), timing 1000000 steps\n")
    sys.stdout.flush()
    time.sleep(120)
if scenario == "silent":
    sys.stderr.write("torchrun: error: unrecognized arguments: --frobnicate\n")
    sys.exit(2)
sys.exit(5)
