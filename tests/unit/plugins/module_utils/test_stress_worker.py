# -*- coding: utf-8 -*-
"""stress_gpu's orchestrator and workers (_stress_worker.py).

* LoadLoop's windowing and deadline logic with a simulated device queue (pure, fast);
* the orchestrator in this process with stand-in worker scripts (plain Python) for stalls,
  deaths and protocol faults, and NVML replaced by fake_nvml;
* real torch workers on the CPU (the AI test venv) for a whole run, a worker SIGKILLed mid-run,
  and the orchestrator SIGKILLed / SIGTERMed: what is checked is that nothing survives.
"""
import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from ai_python import AI_PYTHON, needs_torch
from fake_nvml import FakeNVML, h200

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml, _proc, _stress, _stress_worker

THRESHOLDS = {"max_temperature_c": 85.0, "forbidden_clocks_event_reasons": list(_stress.FORBIDDEN_DEFAULT),
              "max_mismatches": 0, "max_xid_errors": 0, "max_ecc_uncorrected": 0, "min_tflops": None,
              "min_gpu_utilization": None}


# --- LoadLoop with a simulated device --------------------------------------------------------

class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


class SimulatedDevice:
    """A device that runs queued chunks one after another; the host clock only moves on waits."""

    def __init__(self, clock, chunk_s=0.1, matmuls=10, slow=None, bad=None):
        self.clock = clock
        self.chunk_s = chunk_s
        self.matmuls = matmuls
        self.slow = slow or {}      # chunk number -> seconds
        self.bad = bad or {}        # chunk number -> mismatching elements
        self.free_at = None
        self.total_bad = 0
        self.chunk_estimate_s = chunk_s
        self.launched = 0

    def start(self):
        self.free_at = self.clock()
        return _stress_worker.Mark(t=self.free_at)

    def launch(self, number):
        self.clock.t += 0.0005  # launch overhead on the host
        begin = max(self.free_at, self.clock())
        self.free_at = begin + self.slow.get(number, self.chunk_s)
        self.total_bad += self.bad.get(number, 0)
        self.launched += 1
        return _stress_worker.Mark(t=self.free_at, value=self.total_bad, matmuls=self.matmuls, checks=1,
                                   flops=self.matmuls * 2e12)

    def wait(self, mark):
        self.clock.t = max(self.clock.t, mark.t)

    def elapsed(self, first, second):
        return second.t - first.t

    def mismatches(self, mark):
        return mark.value


def run_loop(duration=12.0, interval=5.0, depth=3, **device):
    clock = Clock(100.0)
    sim = SimulatedDevice(clock, **device)
    windows = []
    totals = _stress_worker.LoadLoop(sim, interval, depth, clock=clock).run(100.0, 100.0 + duration, windows.append)
    return windows, totals, clock, sim


def test_windows_cover_the_run_and_the_load_stops_at_the_deadline():
    windows, totals, clock, sim = run_loop()
    assert [w["index"] for w in windows] == [1, 2, 3]
    assert [w["final"] for w in windows] == [False, False, True]
    assert abs(clock.t - 112.0) <= 0.05 + 1e-9  # within half a chunk of the deadline
    assert sum(w["seconds"] for w in windows) == pytest.approx(totals["device_seconds"])
    assert totals["matmuls_total"] == sim.launched * 10 == sum(w["matmuls"] for w in windows)
    assert windows[0]["tflops"] == pytest.approx(200.0, rel=1e-3)  # 10 x 2 TFLOP per 0.1 s
    assert windows[0]["t_end"] >= 105.0 and windows[1]["t_end"] >= 110.0
    assert windows[-1]["matmuls_total"] == totals["matmuls_total"]


def test_mismatches_are_counted_per_window():
    windows, totals, _clock, _sim = run_loop(bad={3: 2, 70: 5})
    assert [w["mismatches"] for w in windows] == [2, 5, 0]
    assert [w["mismatches_total"] for w in windows] == [2, 7, 7]
    assert totals["mismatches_total"] == 7


def test_a_stalled_chunk_shows_as_a_slow_window_that_skips_indices():
    windows, _totals, _clock, _sim = run_loop(duration=20.0, slow={10: 9.0})
    assert [w["index"] for w in windows] == [2, 3, 4]
    assert windows[0]["seconds"] == pytest.approx(10.0, abs=0.2)
    assert windows[0]["tflops"] < 0.2 * windows[1]["tflops"]


def test_a_cpu_like_device_without_a_queue():
    windows, totals, clock, _sim = run_loop(duration=3.0, interval=1.0, depth=1, chunk_s=0.3)
    assert [w["index"] for w in windows] == [1, 2, 3]
    assert abs(clock.t - 103.0) <= 0.15 + 1e-9
    assert totals["windows"] == 3


# --- the orchestrator with stand-in workers --------------------------------------------------

def write_config(tmp_path, gpus=1, python=None, main_script=None, **over):
    main = _proc.write_bundle(str(tmp_path), [_nvml, _proc, _stress_worker], _stress_worker.MAIN_SOURCE,
                              "stress_main.py")
    cfg = {
        "device": "cpu", "gpus": [{"index": i, "uuid": "GPU-%d" % i, "name": "CPU"} for i in range(gpus)],
        "duration": 3, "interval": 1.0, "dtype": "fp32", "matrix_size": 128, "memory_fraction": 0.9,
        "check_every": 2, "tolerance": 0.0, "csv_path": str(tmp_path / "stress.csv"),
        "jsonl_path": str(tmp_path / "run.jsonl"), "workdir": str(tmp_path), "main_script": main_script or main,
        "config_path": str(tmp_path / "config.json"), "startup_timeout": 120, "stop_grace": 10,
        "python": python or AI_PYTHON or sys.executable, "cpu_ring_buffers": 3,
    }
    cfg.update(over)
    with open(cfg["config_path"], "w") as handle:
        json.dump(cfg, handle)
    return cfg


def stand_in(tmp_path, body):
    """A worker script speaking the worker protocol, without torch."""
    path = tmp_path / "fake_worker.py"
    path.write_text(textwrap.dedent("""
        import json, sys, time
        def emit(**obj):
            sys.stdout.write(json.dumps(obj) + "\\n"); sys.stdout.flush()
        slot = int(sys.argv[3])
    """) + textwrap.dedent(body))
    return str(path)


def records_of(cfg):
    return _stress.read_records(cfg["jsonl_path"])


def of_type(records, kind):
    return [r for r in records if r["type"] == kind]


def csv_rows(cfg):
    with open(cfg["csv_path"]) as handle:
        return list(csv.DictReader(handle))


def gone(pids, within=10.0):
    end = time.time() + within
    while time.time() < end:
        alive = [p for p in pids if os.path.exists("/proc/%d" % p)
                 and open("/proc/%d/stat" % p).read().split(")")[-1].split()[0] != "Z"]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_a_worker_that_stops_reporting_is_killed_as_hung(tmp_path):
    script = stand_in(tmp_path, """
        emit(event="ready", pid=0)
        sys.stdin.readline()
        time.sleep(60)
    """)
    cfg = write_config(tmp_path, gpus=2, python=sys.executable, main_script=script, duration=30, stall_timeout=1.5)
    started = time.time()
    rc = _stress_worker.Orchestrator(cfg).run()
    assert rc == 1 and time.time() - started < 15
    exits = dict((r["gpu"], r) for r in of_type(records_of(cfg), "worker_exit"))
    assert exits[0]["state"] == "hung" and exits[0]["message"].startswith("reported no progress for ")
    assert of_type(records_of(cfg), "end")[0]["reason"] == "worker_failed"
    assert gone([e["pid"] for e in exits.values()])


def test_a_worker_that_exits_without_saying_done_died(tmp_path):
    script = stand_in(tmp_path, """
        emit(event="ready", pid=0)
        sys.stdin.readline()
        print("not json at all", flush=True)
        if slot == 1:
            sys.stderr.write("Traceback ...\\nRuntimeError: CUDA error: an illegal memory access was encountered\\n")
            sys.exit(1)
        time.sleep(60)
    """)
    cfg = write_config(tmp_path, gpus=2, python=sys.executable, main_script=script, duration=30)
    rc = _stress_worker.Orchestrator(cfg).run()
    records = records_of(cfg)
    exits = dict((r["gpu"], r) for r in of_type(records, "worker_exit"))
    assert rc == 1
    assert exits[1]["state"] == "died" and exits[1]["rc"] == 1
    assert exits[1]["message"] == "exited with status 1 (RuntimeError: CUDA error: an illegal memory access was encountered)"
    assert exits[0]["state"] == "stopped" and "because the stress worker on GPU 1 failed" in exits[0]["message"]
    assert of_type(records, "worker_log")[0]["line"] == "not json at all"
    notes = [r["note"] for r in csv_rows(cfg) if r["phase"] == "event"]
    assert any(n.startswith("worker died: exited with status 1") for n in notes)


def test_a_worker_that_overruns_the_end_is_stopped_as_hung(tmp_path):
    script = stand_in(tmp_path, """
        emit(event="ready", pid=0)
        t0, deadline = [float(x) for x in sys.stdin.readline().split()[1:]]
        k = 0
        while True:
            time.sleep(0.2)
            k += 1
            emit(event="window", index=k, t_end=time.time(), seconds=0.2, flops=1e9, tflops=0.005, matmuls=1,
                 checks=1, mismatches=0, mismatches_total=0, matmuls_total=k, checks_total=k)
    """)
    cfg = write_config(tmp_path, python=sys.executable, main_script=script, duration=1, stop_grace=1)
    assert _stress_worker.Orchestrator(cfg).run() == 1
    exit_record = of_type(records_of(cfg), "worker_exit")[0]
    assert exit_record["state"] == "hung" and exit_record["message"] == "did not stop within 1 s of the end of the run"


def test_startup_failure_names_the_reason_and_nvml_errors_are_recorded(tmp_path):
    # The test's own python has no torch: the workers cannot start. NVML is the fake, with GPU 1 lost.
    cfg = write_config(tmp_path, gpus=2, python=sys.executable)
    fake = FakeNVML([h200(events=0x8), h200(uuid="GPU-1", lost=True)])
    rc = _stress_worker.Orchestrator(cfg, nvml=fake).run()
    records = records_of(cfg)
    assert rc == 2
    failed = [r for r in of_type(records, "worker_exit") if r["state"] == "startup_failed"]
    assert failed and all(r["message"] == "ModuleNotFoundError: No module named 'torch'" for r in failed)
    assert of_type(records, "end")[0]["reason"] == "startup_failed"
    assert not of_type(records, "load")
    errors = of_type(records, "sample_error")
    assert [(e["gpu"], e["phase"]) for e in errors] == [(1, "idle")] and "15" in errors[0]["error"]
    assert of_type(records, "meta")[0]["xid_supported"] == {"0": True, "1": False}
    assert fake.shutdowns == 1


def test_startup_timeout(tmp_path):
    script = stand_in(tmp_path, "time.sleep(60)\n")
    cfg = write_config(tmp_path, python=sys.executable, main_script=script, startup_timeout=1)
    assert _stress_worker.Orchestrator(cfg).run() == 2
    exit_record = of_type(records_of(cfg), "worker_exit")[0]
    assert exit_record["message"] == "was not ready within the startup timeout of 1 s"


def test_main_usage():
    assert _stress_worker.main([]) == 64


# --- real torch workers on the CPU ------------------------------------------------------------

@needs_torch
def test_a_whole_run_with_telemetry_csv_windows_and_mismatch_counting(tmp_path):
    fake = FakeNVML([h200(events=0x8, violation={0: 0, 1: 0}),
                     h200(uuid="GPU-1", events=0x8, reasons=0x4 | 0x40, temperature=71, violation={0: 0, 1: 0})])
    fake.queue_xid(1, 79)
    cfg = write_config(tmp_path, gpus=2, duration=4, inject_mismatches={"1": {"check": 3, "elements": 4}})
    rc = _stress_worker.Orchestrator(cfg, nvml=fake).run()
    records = records_of(cfg)
    assert rc == 0, of_type(records, "worker_exit")
    assert [r["reason"] for r in of_type(records, "end")] == ["completed"]
    ready = dict((r["gpu"], r) for r in of_type(records, "ready"))
    assert ready[0]["ring_buffers"] == 3 and ready[0]["startup_mismatches"] == 0 and ready[0]["device_name"] == "CPU"
    samples = of_type(records, "sample")
    assert [s["phase"] for s in samples if s["gpu"] == 0] == ["idle", "start", "load", "load", "load", "load"]
    assert [s["k"] for s in samples if s["gpu"] == 0 and s["phase"] == "load"] == [1, 2, 3, 4]

    summary = _stress.summarize(records)
    gpu0, gpu1 = summary["gpus"]
    assert gpu0["mismatches"] == 0 and gpu1["mismatches"] == 4
    assert gpu0["checks"] > 10 and gpu0["windows"] >= 3 and gpu0["tflops_mean"] > 0
    assert abs(summary["load_s"] - 4) < 3.0
    assert gpu1["xid_errors"] == 1 and gpu1["throttle_s"]["hw_thermal_slowdown"] > 3
    summary["device"] = "cuda"  # judge the telemetry as on a GPU
    fails = [c["message"] for c in _stress.judge(summary, THRESHOLDS) if c["status"] == "failed"]
    assert len(fails) == 3 and all(f.startswith("GPU 1 (CPU)") for f in fails)
    assert "4 mismatching result element(s)" in fails[0]

    rows = csv_rows(cfg)
    with open(cfg["csv_path"]) as handle:
        assert handle.readline().strip().split(",") == list(_stress_worker.CSV_COLUMNS)
    load_rows = [r for r in rows if r["phase"] == "load" and r["gpu"] == "1"]
    assert len(load_rows) == 4 and all(r["worker_pid"] == str(ready[1]["pid"]) for r in load_rows)
    # A window that reaches the orchestrator later than half an interval after its sample is only
    # in the record, not in the CSV row (a loaded 2-core machine can delay one).
    filled = [r for r in load_rows if r["window_tflops"]]
    assert len(filled) >= 2 and filled[-1]["mismatches_total"] == "4"
    assert load_rows[-1]["xid_events"] == "1"
    assert load_rows[0]["clocks_event_reasons"] == "sw_power_cap;hw_thermal_slowdown"
    assert [r["note"] for r in rows if r["phase"] == "event" and r["note"].startswith("XID")] == ["XID 79"]
    assert gone([r["pid"] for r in ready.values()])


@needs_torch
def test_a_worker_killed_mid_run_fails_naming_it_and_the_others_are_stopped(tmp_path):
    cfg = write_config(tmp_path, gpus=2, duration=60)
    orchestrator = _stress_worker.Orchestrator(cfg)
    killed = {}

    def killer():
        end = time.time() + 120
        while time.time() < end:
            workers = list(orchestrator.workers)
            if workers and workers[0].windows:
                killed["pid"] = workers[0].proc.pid
                os.kill(killed["pid"], signal.SIGKILL)
                return
            time.sleep(0.05)
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    started = time.time()
    rc = orchestrator.run()
    thread.join(5)
    records = records_of(cfg)
    assert rc == 1 and killed and time.time() - started < 55
    exits = dict((r["gpu"], r) for r in of_type(records, "worker_exit"))
    assert exits[0]["state"] == "died" and exits[0]["message"].startswith("was killed by SIGKILL")
    assert exits[1]["state"] == "stopped"
    summary = _stress.summarize(records)
    fails = [c["message"] for c in _stress.judge(summary, THRESHOLDS) if c["status"] == "failed"]
    assert len(fails) == 1 and fails[0].startswith("The stress worker on CPU worker 0 died ")
    assert gone([e["pid"] for e in exits.values()])


def start_orchestrator(cfg):
    proc = subprocess.Popen([cfg["python"], cfg["main_script"], "orchestrate", cfg["config_path"]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.time() + 120
    while time.time() < end:
        records = records_of(cfg)
        if of_type(records, "load"):
            return proc, [r["pid"] for r in of_type(records, "ready")]
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the workers never became ready")


@needs_torch
def test_workers_die_with_a_sigkilled_orchestrator(tmp_path):
    cfg = write_config(tmp_path, gpus=1, duration=60)
    orchestrator, pids = start_orchestrator(cfg)
    assert len(pids) == 1 and not gone(pids, within=0.5)
    orchestrator.kill()
    orchestrator.wait()
    assert gone(pids, within=5)


@needs_torch
def test_sigterm_stops_the_run_and_records_why(tmp_path):
    cfg = write_config(tmp_path, gpus=1, duration=60)
    orchestrator, pids = start_orchestrator(cfg)
    time.sleep(3)
    orchestrator.send_signal(signal.SIGTERM)
    assert orchestrator.wait(timeout=20) == 128 + signal.SIGTERM
    assert gone(pids, within=1)
    records = records_of(cfg)
    assert of_type(records, "end")[0]["reason"] == "interrupted"
    assert of_type(records, "worker_exit")[0]["state"] == "stopped"
    assert of_type(records, "window")  # what was measured until then is kept
