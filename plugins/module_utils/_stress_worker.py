# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The processes behind stress_gpu: one orchestrator, one load worker per GPU.

The module writes this file, ``_nvml.py`` and ``_proc.py`` into a private directory and starts
``stress_main.py orchestrate CONFIG`` there through ``_proc.ChildRun`` under the AI venv's
python. The orchestrator then

* samples NVML for every GPU (idle, at the start, then every ``interval`` seconds): telemetry,
  ECC/PCIe-replay/violation counters, and XID critical errors through an NVML event set;
* starts ``stress_main.py worker CONFIG SLOT`` per GPU (``CUDA_VISIBLE_DEVICES`` = the GPU's UUID,
  parent-death signal SIGKILL, so a worker never outlives its orchestrator), waits until every
  worker has allocated its matrices, and gives them all the same start time and deadline;
* merges the workers' per-window throughput records with the telemetry into a CSV written row
  by row (so a 24 h run can be watched and survives a crash) and a JSON-lines record file the
  module summarises;
* stops every worker when one dies or hangs, or when it is itself told to stop (SIGTERM).

A worker keeps its GPU busy with ``torch.matmul(A, B, out=ring[i % M])`` in the chosen dtype;
the ring of ``M`` output buffers fills the requested share of GPU memory. Every ``check_every``
products it compares one ring buffer with the reference product computed at start (gpu-burn's
idea: a healthy GPU reproduces the same product bit for bit, so any difference is silent data
corruption) and counts the mismatching elements on the GPU, without a host synchronisation.
Work is queued in chunks of about 50 ms, each closed by a CUDA event; the host only waits for the
oldest chunk while the next ones are queued, so the GPU never idles, and each window's
throughput is timed with those events.

This file imports nothing from Ansible and imports torch only inside functions, so the module
and ``ansible-test sanity`` can import it without torch.
"""

from __future__ import absolute_import, division, print_function

import collections
import csv
import json
import math
import os
import select
import signal
import subprocess
import sys
import time

try:
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml, _proc
except ImportError:  # run as a script beside copies of _nvml.py and _proc.py
    import _nvml  # pylint: disable=import-error
    import _proc  # pylint: disable=import-error

# dtype name -> (torch dtype attribute, allow TF32 tensor cores for float32 matmuls)
DTYPES = {
    "bf16": ("bfloat16", False),
    "fp16": ("float16", False),
    "tf32": ("float32", True),
    "fp32": ("float32", False),
    "fp64": ("float64", False),
}

CSV_COLUMNS = (
    "time_utc", "elapsed_s", "phase", "gpu", "worker_pid",
    "temperature_c", "power_w", "sm_clock_mhz", "memory_clock_mhz",
    "utilization_gpu_percent", "utilization_memory_percent", "memory_used_mib",
    "clocks_event_reasons", "power_violation_s", "thermal_violation_s",
    "ecc_corrected_volatile", "ecc_uncorrected_volatile", "pcie_replay_counter", "xid_events",
    "window_tflops", "window_s", "matmuls_total", "checks_total", "mismatches_total", "note",
)

PARENT_VAR = "VAULTCUBE_STRESS_PARENT"
DEFAULT_CHUNK_S = 0.05
RESERVE_BYTES = 256 * 1024 * 1024


def one_line(exc):
    text = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, text[0] if text else "(no message)")


def is_oom(exc):
    return _proc.looks_like_oom([one_line(exc), type(exc).__name__])


# --- The load loop (pure logic; the backend does the device work) ----------------------------

class LoadLoop:
    """Keep a device busy until a deadline and report one record per time window.

    The backend offers ``start()`` (a mark at the current point of the work queue),
    ``launch(number)`` (queue one chunk, return its end mark with ``matmuls``, ``checks`` and
    ``flops``), ``wait(mark)``, ``elapsed(mark_a, mark_b)`` in seconds of device time and
    ``mismatches(mark)`` (cumulative mismatching elements when the mark was reached). Up to
    ``depth`` chunks are queued; the host waits only for the oldest one.
    """

    def __init__(self, backend, interval, depth=3, clock=time.time):
        self.backend = backend
        self.interval = float(interval)
        self.depth = max(1, int(depth))
        self.clock = clock

    @staticmethod
    def _window(index, now, window, totals, seconds, mismatches, mismatches_before, final):
        return {
            "event": "window", "index": index, "t_end": now, "seconds": round(seconds, 6),
            "matmuls": window["matmuls"], "checks": window["checks"], "flops": window["flops"],
            "tflops": round(window["flops"] / seconds / 1e12, 6) if seconds > 0 else None,
            "mismatches": mismatches - mismatches_before, "mismatches_total": mismatches,
            "matmuls_total": totals["matmuls"], "checks_total": totals["checks"], "final": final,
        }

    def run(self, t0, deadline, emit):
        backend = self.backend
        estimate = max(1e-4, float(getattr(backend, "chunk_estimate_s", DEFAULT_CHUNK_S)))
        inflight = collections.deque()
        start_mark = backend.start()
        window_start = previous = start_mark
        window = {"matmuls": 0, "checks": 0, "flops": 0.0}
        totals = {"matmuls": 0, "checks": 0, "flops": 0.0}
        mismatches_before = 0
        next_boundary = t0 + self.interval
        number = 0
        launching = True
        last_mark = start_mark
        windows = 0
        while True:
            if launching and self.clock() + (len(inflight) + 1) * estimate > deadline + estimate / 2.0:
                launching = False
            if launching:
                inflight.append(backend.launch(number))
                number += 1
                if len(inflight) < self.depth:
                    continue
            if not inflight:
                break
            mark = inflight.popleft()
            backend.wait(mark)
            now = self.clock()
            chunk_s = backend.elapsed(previous, mark)
            if chunk_s > 0:
                estimate = 0.8 * estimate + 0.2 * chunk_s
            previous = last_mark = mark
            for key in window:
                window[key] += getattr(mark, key)
                totals[key] += getattr(mark, key)
            if now >= next_boundary:
                index = max(1, int((now - t0) // self.interval))
                emit(self._window(index, now, window, totals, backend.elapsed(window_start, mark),
                                  backend.mismatches(mark), mismatches_before, False))
                windows += 1
                mismatches_before = backend.mismatches(mark)
                window_start = mark
                window = {"matmuls": 0, "checks": 0, "flops": 0.0}
                next_boundary = t0 + (index + 1) * self.interval
        if window["matmuls"]:
            # The last, partial window: from the last boundary to the last chunk.
            now = self.clock()
            index = max(1, int((now - t0) // self.interval) + (0 if now >= next_boundary else 1))
            emit(self._window(index, now, window, totals, backend.elapsed(window_start, last_mark),
                              backend.mismatches(last_mark), mismatches_before, True))
            windows += 1
        load_s = backend.elapsed(start_mark, last_mark)
        return {
            "matmuls_total": totals["matmuls"], "checks_total": totals["checks"], "flops_total": totals["flops"],
            "mismatches_total": backend.mismatches(last_mark) if last_mark is not start_mark else 0,
            "device_seconds": round(load_s, 6), "windows": windows, "t_end": self.clock(),
        }


class Mark:
    """A point in a worker's queue of work (a CUDA event, or a time on the CPU path)."""

    def __init__(self, event=None, t=None, slot=None, value=0, matmuls=0, checks=0, flops=0.0):
        self.event = event
        self.t = t
        self.slot = slot
        self.value = value
        self.matmuls = matmuls
        self.checks = checks
        self.flops = flops


class TorchBackend:
    """The device work of one worker: matrices, reference product, ring buffers, checks."""

    def __init__(self, cfg, slot):
        import torch  # pylint: disable=import-outside-toplevel

        self.torch = torch
        self.cfg = cfg
        self.cuda = cfg["device"] == "cuda"
        n = int(cfg["matrix_size"])
        self.n = n
        dtype_name, tf32 = DTYPES[cfg["dtype"]]
        dtype = getattr(torch, dtype_name)
        self.check_every = max(1, int(cfg["check_every"]))
        self.tolerance = float(cfg.get("tolerance") or 0.0)
        self.flops_per_matmul = 2.0 * n * n * n
        inject = (cfg.get("inject_mismatches") or {}).get(str(slot))
        self.inject = dict(inject) if inject else None
        if self.cuda:
            if not torch.cuda.is_available():
                raise RuntimeError("torch %s (built for CUDA %s) sees no CUDA device" % (
                    torch.__version__, torch.version.cuda))
            torch.cuda.set_device(0)
            device = torch.device("cuda", 0)
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = tf32
            self.depth = int(cfg.get("queue_depth") or 3)
        else:
            torch.set_num_threads(int(cfg.get("cpu_threads") or 1))
            device = torch.device("cpu")
            self.depth = 1
        torch.set_float32_matmul_precision("high" if tf32 else "highest")
        self.device = device

        generator = torch.Generator(device=device)
        generator.manual_seed(int(cfg.get("seed", 20261128)))
        scale = n ** -0.25  # entries ~N(0, n^-1/2): products ~N(0, 1), safe in fp16
        self.a = (torch.randn(n, n, generator=generator, device=device) * scale).to(dtype)
        self.b = (torch.randn(n, n, generator=generator, device=device) * scale).to(dtype)
        self.ref = torch.empty((n, n), dtype=dtype, device=device)
        torch.matmul(self.a, self.b, out=self.ref)
        self.flags = torch.empty((n, n), dtype=torch.bool, device=device)
        self.diff = torch.empty_like(self.ref) if self.tolerance > 0 else None
        self.mism = torch.zeros((), dtype=torch.int64, device=device)

        # The same product twice must agree before the load starts (a first sign of trouble,
        # or of a non-deterministic BLAS, reported with the worker's details).
        probe = torch.empty_like(self.ref)
        torch.matmul(self.a, self.b, out=probe)
        self.startup_mismatches = int(self._count(probe))
        del probe

        matmul_s = self._time_matmul()
        target = float(cfg.get("chunk_seconds") or min(DEFAULT_CHUNK_S * 2, max(0.01, float(cfg["interval"]) / 10.0)))
        self.chunk_matmuls = max(1, int(round(target / matmul_s)))
        self.chunk_estimate_s = self.chunk_matmuls * matmul_s

        element = self.ref.element_size()
        matrix_bytes = n * n * element
        if self.cuda:
            free, total = torch.cuda.mem_get_info()
            wanted = float(cfg["memory_fraction"]) * total - (total - free)
            budget = min(wanted, free - RESERVE_BYTES)
            buffers = max(1, int(budget // matrix_bytes))
        else:
            total = None
            buffers = max(1, int(cfg.get("cpu_ring_buffers") or 4))
        self.buffers = buffers
        self.ring = torch.empty((buffers, n, n), dtype=dtype, device=device)
        self.ring.copy_(self.ref.unsqueeze(0).expand(buffers, n, n))
        if self.cuda:
            self.slots = torch.zeros(self.depth + 2, dtype=torch.int64, pin_memory=True)
            torch.cuda.synchronize()
            free_after, total = torch.cuda.mem_get_info()
            used_fraction = (total - free_after) / float(total)
            name = torch.cuda.get_device_name(0)
        else:
            self.slots = None
            used_fraction = None
            name = "CPU"
        self.iteration = 0
        self.check_number = 0
        self.info = {
            "device_name": name, "torch": torch.__version__, "cuda": torch.version.cuda,
            "matrix_size": n, "dtype": cfg["dtype"], "ring_buffers": buffers,
            "ring_gib": round(buffers * matrix_bytes / 2.0 ** 30, 2),
            "memory_total_gib": round(total / 2.0 ** 30, 2) if total else None,
            "memory_used_fraction": round(used_fraction, 4) if used_fraction is not None else None,
            "matmul_ms": round(matmul_s * 1000.0, 4), "chunk_matmuls": self.chunk_matmuls,
            "check_every": self.check_every, "tolerance": self.tolerance,
            "startup_mismatches": self.startup_mismatches, "pid": os.getpid(),
        }

    def _sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def _time_matmul(self, warmup=3, timed=10):
        torch = self.torch
        out = torch.empty_like(self.ref)
        for _i in range(warmup):
            torch.matmul(self.a, self.b, out=out)
        self._sync()
        begin = self.start()
        for _i in range(timed):
            torch.matmul(self.a, self.b, out=out)
        end = self._mark(None)
        self.wait(end)
        seconds = self.elapsed(begin, end) / timed
        del out
        return max(seconds, 1e-6)

    def _count(self, buffer):
        torch = self.torch
        if self.tolerance > 0:
            torch.sub(buffer, self.ref, out=self.diff)
            self.diff.abs_()
            torch.gt(self.diff, self.tolerance, out=self.flags)
        else:
            torch.ne(buffer, self.ref, out=self.flags)
        return self.flags.sum()

    def _check(self):
        buffer = self.ring[self.check_number % self.buffers]
        if self.inject and self.check_number >= int(self.inject.get("check", 0)) and not self.inject.get("done"):
            # Testing only: corrupt elements of the buffer about to be checked (see the tests).
            buffer.view(-1)[:int(self.inject["elements"])].add_(1)
            self.inject["done"] = True
        self.mism.add_(self._count(buffer))
        self.check_number += 1

    def _mark(self, number):
        if self.cuda:
            slot = None
            if number is not None:
                slot = number % len(self.slots)
                self.slots[slot].copy_(self.mism, non_blocking=True)
            event = self.torch.cuda.Event(enable_timing=True, blocking=True)
            event.record()
            return Mark(event=event, slot=slot)
        return Mark(t=time.perf_counter(), value=int(self.mism))

    # -- the LoadLoop interface
    def start(self):
        return self._mark(None)

    def launch(self, number):
        torch = self.torch
        checks = 0
        for _i in range(self.chunk_matmuls):
            if self.iteration % self.check_every == 0:
                self._check()
                checks += 1
            torch.matmul(self.a, self.b, out=self.ring[self.iteration % self.buffers])
            self.iteration += 1
        mark = self._mark(number)
        mark.matmuls = self.chunk_matmuls
        mark.checks = checks
        mark.flops = self.chunk_matmuls * self.flops_per_matmul
        return mark

    def wait(self, mark):
        if mark.event is not None:
            mark.event.synchronize()

    def elapsed(self, first, second):
        if first.event is not None:
            return first.event.elapsed_time(second.event) / 1000.0
        return second.t - first.t

    def mismatches(self, mark):
        if mark.event is not None:
            return int(self.slots[mark.slot]) if mark.slot is not None else 0
        return mark.value


def worker_main(cfg, slot, stdin=None, stdout=None):
    """One worker: allocate, say ready, wait for the start time, load the device until the deadline."""
    _proc.set_parent_death_signal(signal.SIGKILL)
    parent = os.environ.get(PARENT_VAR)
    if parent and os.getppid() != int(parent):
        return 3  # the orchestrator died before the death signal was armed
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout

    def emit(obj):
        stdout.write(json.dumps(obj) + "\n")
        stdout.flush()

    try:
        backend = TorchBackend(cfg, slot)
    except Exception as exc:  # pylint: disable=broad-except
        emit({"event": "error", "stage": "startup", "message": one_line(exc), "oom": is_oom(exc)})
        return 2
    ready = {"event": "ready"}
    ready.update(backend.info)
    emit(ready)
    line = stdin.readline()
    if not line.startswith("go "):
        return 0
    _word, t0, deadline = line.split()
    t0, deadline = float(t0), float(deadline)
    delay = t0 - time.time()
    if delay > 0:
        time.sleep(delay)
    loop = LoadLoop(backend, cfg["interval"], backend.depth)
    try:
        totals = loop.run(t0, deadline, emit)
    except Exception as exc:  # pylint: disable=broad-except
        emit({"event": "error", "stage": "load", "message": one_line(exc), "oom": is_oom(exc)})
        return 2
    done = {"event": "done"}
    done.update(totals)
    emit(done)
    return 0


# --- The orchestrator -------------------------------------------------------------------------

class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__("signal %d" % signum)
        self.signum = signum


def _utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, float):
        return ("%.4f" % value).rstrip("0").rstrip(".")
    return value


class Recorder:
    """The JSON-lines record (for the module) and the CSV (for people), both flushed per write."""

    def __init__(self, jsonl_path, csv_path):
        self.jsonl = open(jsonl_path, "a")
        self.csv_file = open(csv_path, "w", newline="") if csv_path else None
        self.csv = csv.DictWriter(self.csv_file, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n") if csv_path else None
        if self.csv is not None:
            self.csv.writeheader()
            self.csv_file.flush()

    def record(self, obj):
        self.jsonl.write(json.dumps(obj, sort_keys=True) + "\n")
        self.jsonl.flush()

    def row(self, row):
        if self.csv is not None:
            self.csv.writerow(dict((k, _cell(v)) for k, v in row.items()))
            self.csv_file.flush()

    def sync(self):
        for handle in (self.jsonl, self.csv_file):
            if handle is not None:
                try:
                    os.fsync(handle.fileno())
                except OSError:
                    pass

    def close(self):
        self.sync()
        self.jsonl.close()
        if self.csv_file is not None:
            self.csv_file.close()


class Telemetry:
    """NVML samples of the stressed GPUs, plus their XID events."""

    def __init__(self, nvml, indices):
        self.nvml = nvml
        nvml.nvmlInit()
        self.reader = _nvml.Reader(nvml)
        self.handles = [(i, nvml.nvmlDeviceGetHandleByIndex(i)) for i in indices]
        self.xid = _nvml.XidWatcher(nvml, self.handles)

    def sample(self):
        out = []
        for index, handle in self.handles:
            try:
                row = _nvml.telemetry_sample(self.reader, handle, index)
                row.update(_nvml.health_counters(self.reader, handle))
                out.append((index, row, None))
            except Exception as exc:  # pylint: disable=broad-except
                out.append((index, None, str(exc) or type(exc).__name__))
        return out

    def close(self):
        self.xid.close()
        try:
            self.nvml.nvmlShutdown()
        except Exception:  # pylint: disable=broad-except
            pass


class WorkerHandle:
    def __init__(self, slot, gpu, proc, stderr_path):
        self.slot = slot
        self.gpu = gpu
        self.index = gpu["index"]
        self.proc = proc
        self.stderr_path = stderr_path
        self.fd = proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = b""
        self.ready = None
        self.done = None
        self.error = None
        self.exit = None
        self.last_progress = time.time()
        self.windows = {}
        self.xids = 0
        self.totals = {}

    def read(self):
        """Complete JSON messages available now (the fd is closed at EOF)."""
        messages = []
        while self.fd is not None:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                self.close_fd()
                break
            self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            try:
                messages.append(json.loads(line.decode("utf-8", "replace")))
            except ValueError:
                messages.append({"event": "log", "line": line.decode("utf-8", "replace")[:500]})
        return messages

    def close_fd(self):
        if self.fd is not None:
            try:
                self.proc.stdout.close()
            except OSError:
                pass
            self.fd = None

    def send(self, text):
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            return False


class Orchestrator:
    def __init__(self, cfg, nvml=None):
        self.cfg = cfg
        self.gpus = cfg["gpus"]
        self.interval = float(cfg["interval"])
        self.duration = float(cfg["duration"])
        self.workdir = cfg["workdir"]
        self.recorder = Recorder(cfg["jsonl_path"], cfg.get("csv_path"))
        self.stall_timeout = float(cfg.get("stall_timeout") or max(120.0, 6 * self.interval))
        self.stop_grace = float(cfg.get("stop_grace") or 30.0)
        self.startup_timeout = float(cfg.get("startup_timeout") or 600)
        self.merge_grace = min(3.0, self.interval / 2.0)
        self.workers = []
        self._old_handlers = {}
        self.t0 = None
        self.deadline = None
        self.pending = {}
        self.end = {"type": "end", "reason": "completed"}
        self.telemetry = None
        self.telemetry_reason = None
        if cfg["device"] == "cuda" or nvml is not None:  # (tests hand in a fake NVML with CPU workers)
            reason = None
            if nvml is None:
                nvml, reason = _nvml.load_binding(cfg.get("binding_search_paths"))
            if nvml is None:
                self.telemetry_reason = reason
            else:
                try:
                    self.telemetry = Telemetry(nvml, [g["index"] for g in self.gpus])
                except Exception as exc:  # pylint: disable=broad-except
                    self.telemetry_reason = "NVML could not be initialised by the stress orchestrator: %s" % (
                        str(exc) or type(exc).__name__)
        else:
            self.telemetry_reason = "the CPU test path has no NVML telemetry"

    # -- signals
    def _on_signal(self, signum, frame):  # pylint: disable=unused-argument
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum)

    def _install_signals(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            try:
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)
            except (ValueError, OSError):
                pass

    def _restore_signals(self):
        for sig, handler in self._old_handlers.items():
            try:
                signal.signal(sig, handler)
            except (ValueError, OSError):
                pass
        self._old_handlers = {}

    # -- workers
    def _start_worker(self, slot, gpu):
        env = dict(os.environ)
        env[PARENT_VAR] = str(os.getpid())
        env.update(_proc.SAFE_MULTI_GPU_ENV)
        env["PYTHONUNBUFFERED"] = "1"
        if self.cfg["device"] == "cuda":
            env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
            env["CUDA_VISIBLE_DEVICES"] = gpu.get("uuid") or str(gpu["index"])
        stderr_path = os.path.join(self.workdir, "worker-%d.stderr" % gpu["index"])
        with open(stderr_path, "wb") as err:
            # Popen, not run_command: the worker's pipes are read while it runs, and it gets a
            # parent-death signal of its own (worker_main arms it first thing).
            proc = subprocess.Popen(  # pylint: disable=consider-using-with,ansible-bad-function
                [self.cfg.get("python") or sys.executable, self.cfg["main_script"], "worker", self.cfg["config_path"], str(slot)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env, close_fds=True,
                cwd=self.workdir)
        return WorkerHandle(slot, gpu, proc, stderr_path)

    def _pump(self, timeout):
        fds = dict((w.fd, w) for w in self.workers if w.fd is not None)
        if not fds:
            time.sleep(max(0.0, timeout))
            return
        try:
            ready, _w, _x = select.select(list(fds), [], [], max(0.0, timeout))
        except InterruptedError:
            ready = []
        for fd in ready:
            worker = fds[fd]
            for message in worker.read():
                self._handle(worker, message)

    def _drain(self, worker):
        for message in worker.read():
            self._handle(worker, message)

    def _handle(self, worker, message):
        event = message.get("event")
        now = time.time()
        record = dict(message)
        record.pop("event", None)
        record.update({"gpu": worker.index, "t": now})
        if event == "ready":
            worker.ready = message
            record["type"] = "ready"
        elif event == "window":
            worker.last_progress = now
            worker.windows[message["index"]] = message
            worker.totals = message
            record["type"] = "window"
            self._merge_window(worker, message)
        elif event == "done":
            worker.done = message
            record["type"] = "done"
        elif event == "error":
            worker.error = message
            record["type"] = "worker_error"
        else:
            record["type"] = "worker_log"
        self.recorder.record(record)

    def _exit_record(self, worker, state, message, rc=None):
        now = time.time()
        if worker.exit is not None:
            return
        worker.exit = {
            "type": "worker_exit", "gpu": worker.index, "slot": worker.slot, "pid": worker.proc.pid,
            "rc": rc, "state": state, "t": now,
            "elapsed": round(now - self.t0, 3) if self.t0 else None,
            "message": message, "stderr_tail": _proc.tail_lines(worker.stderr_path, 15),
        }
        self.recorder.record(worker.exit)
        self.recorder.row({"time_utc": _utc(now), "elapsed_s": round(now - self.t0, 3) if self.t0 else None,
                           "phase": "event", "gpu": worker.index, "worker_pid": worker.proc.pid,
                           "note": "worker %s: %s" % (state, message)})

    def _death_message(self, worker, rc):
        if worker.error:
            return worker.error.get("message")
        tail = _proc.tail_lines(worker.stderr_path, 3)
        text = _proc.describe_exit(rc)
        if tail:
            text += " (%s)" % tail[-1][:300]
        return text

    def _check_workers(self, now, phase):
        """Record exits and hangs; True when a worker failed."""
        failed = False
        for worker in self.workers:
            if worker.exit is not None:
                continue
            rc = worker.proc.poll()
            if rc is not None:
                self._drain(worker)
                if phase == "load" and worker.done is not None and rc == 0:
                    self._exit_record(worker, "completed", "ran to the end", rc)
                elif phase == "startup":
                    self._exit_record(worker, "startup_failed", self._death_message(worker, rc), rc)
                    failed = True
                else:
                    self._exit_record(worker, "died", self._death_message(worker, rc), rc)
                    failed = True
            elif phase == "load" and worker.done is None and now - worker.last_progress > self.stall_timeout:
                _kill(worker.proc, signal.SIGKILL)
                worker.proc.wait()
                self._exit_record(worker, "hung", "reported no progress for %.0f s and was killed" % (
                    now - worker.last_progress), worker.proc.returncode)
                failed = True
        return failed

    def _stop_workers(self, why):
        # A worker that said "done" is on its way out (CUDA teardown): let it exit by itself.
        end = time.time() + 10
        while time.time() < end and any(w.done is not None and w.proc.poll() is None for w in self.workers):
            self._pump(0.05)
        alive = [w for w in self.workers if w.proc.poll() is None]
        for worker in alive:
            _kill(worker.proc, signal.SIGTERM)
        end = time.time() + 5
        while time.time() < end and any(w.proc.poll() is None for w in alive):
            time.sleep(0.05)
        for worker in alive:
            if worker.proc.poll() is None:
                _kill(worker.proc, signal.SIGKILL)
            try:
                worker.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for worker in self.workers:
            self._drain(worker)
            if worker.exit is None:
                if worker.done is not None and worker.proc.returncode == 0:
                    self._exit_record(worker, "completed", "ran to the end", 0)
                else:
                    self._exit_record(worker, "stopped", why, worker.proc.returncode)
            worker.close_fd()
            for pipe in (worker.proc.stdin,):
                try:
                    pipe.close()
                except (OSError, ValueError):
                    pass

    # -- telemetry and CSV
    def _worker_pid(self, index):
        for worker in self.workers:
            if worker.index == index:
                return worker.proc.pid
        return None

    def _sample_round(self, phase, k):
        if self.telemetry is None:
            return
        now = time.time()
        elapsed = round(now - self.t0, 3) if self.t0 else None
        for index, row, error in self.telemetry.sample():
            worker = self._worker(index)
            csv_row = {"time_utc": _utc(now), "elapsed_s": elapsed, "phase": phase, "gpu": index,
                       "worker_pid": self._worker_pid(index),
                       "xid_events": worker.xids if worker else 0}
            if error is not None:
                self.recorder.record({"type": "sample_error", "phase": phase, "k": k, "gpu": index, "t": now,
                                      "error": error})
                csv_row["note"] = "NVML error: %s" % error
            else:
                row = dict(row)
                row.pop("time", None)
                row.pop("gpu", None)
                record = {"type": "sample", "phase": phase, "k": k, "gpu": index, "t": now, "elapsed": elapsed}
                record.update(row)
                self.recorder.record(record)
                csv_row.update(row)
            if phase == "load" and worker is not None:
                window = worker.windows.get(k)
                if window is None:
                    self.pending[(k, index)] = (csv_row, now + self.merge_grace)
                    continue
                _fill_window(csv_row, window)
            self.recorder.row(csv_row)
        self.recorder.sync()

    def _worker(self, index):
        for worker in self.workers:
            if worker.index == index:
                return worker
        return None

    def _merge_window(self, worker, window):
        key = (window["index"], worker.index)
        if key in self.pending:
            row, _due = self.pending.pop(key)
            _fill_window(row, window)
            self.recorder.row(row)
        elif self.telemetry is None:
            now = time.time()
            row = {"time_utc": _utc(now), "elapsed_s": round(now - self.t0, 3), "phase": "load",
                   "gpu": worker.index, "worker_pid": worker.proc.pid}
            _fill_window(row, window)
            self.recorder.row(row)

    def _flush_pending(self, now, everything=False):
        for key in sorted(self.pending):
            row, due = self.pending[key]
            if everything or now >= due:
                del self.pending[key]
                self.recorder.row(row)

    def _poll_xid(self):
        if self.telemetry is None:
            return
        for event in self.telemetry.xid.poll(0):
            record = {"type": "xid", "gpu": event.get("gpu"), "xid": event.get("xid"), "t": event["time"]}
            if event.get("error"):
                record["error"] = event["error"]
            self.recorder.record(record)
            worker = self._worker(event.get("gpu"))
            if worker is not None and event.get("xid") is not None:
                worker.xids += 1
            self.recorder.row({"time_utc": _utc(event["time"]),
                               "elapsed_s": round(event["time"] - self.t0, 3) if self.t0 else None,
                               "phase": "event", "gpu": event.get("gpu"),
                               "note": ("XID %s" % event["xid"]) if event.get("xid") is not None else event.get("error")})

    # -- the run
    def _wait_ready(self):
        deadline = time.time() + self.startup_timeout
        while True:
            self._pump(0.2)
            if all(w.ready is not None for w in self.workers):
                return True
            if self._check_workers(time.time(), "startup"):
                # Workers usually fail for a shared reason (no torch, no memory): give the others
                # a moment to fail too, so the sentence names every GPU concerned.
                end = time.time() + 3
                while time.time() < end and any(w.ready is None and w.exit is None for w in self.workers):
                    self._pump(0.1)
                    self._check_workers(time.time(), "startup")
                return False
            if time.time() > deadline:
                for worker in self.workers:
                    if worker.ready is None:
                        self._exit_record(worker, "startup_failed",
                                          "was not ready within the startup timeout of %.0f s" % self.startup_timeout)
                return False

    def _load_phase(self):
        final_k = max(1, int(math.ceil(self.duration / self.interval - 1e-9)))
        k = 1
        next_sample = min(self.t0 + self.interval, self.deadline)
        while True:
            now = time.time()
            wake = min(next_sample if k <= final_k else now + 0.5, now + 0.5)
            self._pump(wake - now)
            now = time.time()
            self._poll_xid()
            if self._check_workers(now, "load"):
                failed = [w for w in self.workers if w.exit and w.exit["state"] in ("died", "hung")]
                names = ", ".join("GPU %d" % w.index for w in failed)
                self.end.update({"reason": "worker_failed", "message": "the stress worker on %s failed" % names})
                return
            if k <= final_k and now >= next_sample:
                self._sample_round("load", k)
                k += 1
                next_sample = min(self.t0 + k * self.interval, self.deadline)
            self._flush_pending(now)
            if k > final_k and all(w.exit is not None or w.done is not None for w in self.workers):
                return
            if now > self.deadline + self.stop_grace:
                for worker in self.workers:
                    if worker.done is None and worker.proc.poll() is None:
                        _kill(worker.proc, signal.SIGKILL)
                        worker.proc.wait()
                        self._exit_record(worker, "hung", "did not stop within %.0f s of the end of the run" % (
                            self.stop_grace), worker.proc.returncode)
                        self.end.update({"reason": "worker_failed"})
                return

    def run(self):
        cfg = self.cfg
        started = time.time()
        self._install_signals()
        xid = self.telemetry.xid if self.telemetry else None
        self.recorder.record({
            "type": "meta", "started": started, "pid": os.getpid(), "python": sys.executable,
            "device": cfg["device"], "gpus": self.gpus, "duration": self.duration, "interval": self.interval,
            "dtype": cfg["dtype"], "matrix_size": cfg["matrix_size"], "memory_fraction": cfg["memory_fraction"],
            "check_every": cfg["check_every"], "tolerance": cfg.get("tolerance"), "csv_path": cfg.get("csv_path"),
            "telemetry": self.telemetry is not None, "telemetry_reason": self.telemetry_reason,
            "xid_supported": dict((str(k), v) for k, v in xid.supported.items()) if xid else None,
            "xid_reason": xid.reason if xid else None,
        })
        rc = 0
        try:
            self._sample_round("idle", -1)
            for slot, gpu in enumerate(self.gpus):
                self.workers.append(self._start_worker(slot, gpu))
            if not self._wait_ready():
                self.end.update({"reason": "startup_failed"})
                self._stop_workers("stopped because another worker could not start")
                return 2
            self.t0 = time.time() + 0.5
            self.deadline = self.t0 + self.duration
            for worker in self.workers:
                worker.send("go %.6f %.6f\n" % (self.t0, self.deadline))
                worker.last_progress = self.t0
            self.recorder.record({"type": "load", "t0": self.t0, "deadline": self.deadline,
                                  "startup_s": round(self.t0 - started, 3)})
            while time.time() < self.t0:
                self._pump(self.t0 - time.time())
            self._sample_round("start", 0)
            self._load_phase()
            if self.end["reason"] != "completed":
                rc = 1
        except Interrupted as exc:
            self.end.update({"reason": "interrupted", "signal": exc.signum})
            rc = 128 + exc.signum
        finally:
            why = {"completed": "stopped at the end of the run",
                   "worker_failed": "stopped early because %s" % self.end.get("message", "another worker failed"),
                   "interrupted": "stopped because the run was interrupted (signal %s)" % self.end.get("signal"),
                   "startup_failed": "stopped because another worker could not start"}.get(self.end["reason"], "stopped")
            self._stop_workers(why)
            self._flush_pending(time.time(), everything=True)
            now = time.time()
            self.end.update({"t": now, "load_s": round(now - self.t0, 3) if self.t0 else None})
            self.recorder.record(self.end)
            if self.telemetry is not None:
                self.telemetry.close()
            self.recorder.close()
            self._restore_signals()
        return rc


def _fill_window(row, window):
    row.update({"window_tflops": window.get("tflops"), "window_s": window.get("seconds"),
                "matmuls_total": window.get("matmuls_total"), "checks_total": window.get("checks_total"),
                "mismatches_total": window.get("mismatches_total")})
    if window.get("mismatches"):
        row["note"] = "%d mismatching elements in this window" % window["mismatches"]


def _kill(proc, sig):
    try:
        proc.send_signal(sig)
    except OSError:
        pass


def main(argv):
    if len(argv) < 2 or argv[0] not in ("orchestrate", "worker"):
        sys.stderr.write("usage: stress_main.py orchestrate CONFIG | worker CONFIG SLOT\n")
        return 64
    with open(argv[1]) as handle:
        cfg = json.load(handle)
    if argv[0] == "worker":
        return worker_main(cfg, int(argv[2]))
    return Orchestrator(cfg).run()


MAIN_SOURCE = """# stress_gpu's entry point, written by the module beside _stress_worker.py, _nvml.py, _proc.py.
import sys
import _stress_worker
sys.exit(_stress_worker.main(sys.argv[1:]))
"""
