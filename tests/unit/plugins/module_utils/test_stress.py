# -*- coding: utf-8 -*-
"""stress_gpu's summary, judging and report material (_stress.py), from synthetic run records."""
import json

import pytest
from stress_records import T0, make_run

from ansible_collections.vaultcube.demobox.plugins.module_utils import _stress

THRESHOLDS = {"max_temperature_c": 85.0, "forbidden_clocks_event_reasons": list(_stress.FORBIDDEN_DEFAULT),
              "max_mismatches": 0, "max_xid_errors": 0, "max_ecc_uncorrected": 0, "min_tflops": None,
              "min_gpu_utilization": None}


def judged(records, **over):
    th = dict(THRESHOLDS)
    th.update(over)
    summary = _stress.summarize(records)
    return summary, _stress.judge(summary, th)


def by_name(checks):
    return dict((c["name"], c) for c in checks)


def failures(checks):
    return [c["message"] for c in checks if c["status"] == "failed"]


def test_a_clean_run_passes_with_the_figures():
    summary, checks = judged(make_run(temps={0: [33, 41, 55, 60, 62, 61], 1: [35, 44, 57, 64, 66, 65]}))
    gpu0 = summary["gpus"][0]
    assert gpu0["tflops_mean"] == 700.0 and gpu0["tflops_min"] == 700.0 and gpu0["windows"] == 4
    assert gpu0["temperature_idle_c"] == 33 and gpu0["temperature_max_c"] == 62
    assert gpu0["throttle_s"] == {"sw_power_cap": 20.0}
    assert gpu0["power_violation_s"] == 5.0 and gpu0["thermal_violation_s"] == 0.0
    assert gpu0["mismatches"] == 0 and gpu0["checks"] == 40 and gpu0["worker"]["state"] == "completed"
    assert summary["load_s"] == 20.06 and summary["startup_s"] == 12.0
    assert failures(checks) == []
    checks = by_name(checks)
    assert checks["stress_gpu.run"]["status"] == "passed"
    assert checks["stress_gpu.run"]["message"] == "The load ran on 2 GPU(s) for 20.1 s of the 20 s asked (startup 12 s)."
    assert checks["stress_gpu.gpu1.temperature"]["message"] == (
        "GPU 1 (NVIDIA H200) reached 66 C (mean 59.2 C, idle 35 C), within the maximum of 85 C.")
    assert checks["stress_gpu.gpu0.clocks_events"]["status"] == "passed"
    assert "sw_power_cap for about 20 s (reported only)" in checks["stress_gpu.gpu0.clocks_events"]["message"]
    assert checks["stress_gpu.gpu0.tflops"]["status"] == "info"  # no minimum set
    assert checks["stress_gpu.gpu0.mismatches"]["message"] == (
        "GPU 0 (NVIDIA H200) reproduced the reference 8192x8192 bf16 product in all 40 checks (0 mismatching elements).")
    assert checks["stress_gpu.gpu0.xid_errors"]["status"] == "passed"
    assert checks["stress_gpu.gpu0.ecc_errors"]["status"] == "passed"
    assert checks["stress_gpu.gpu0.telemetry"]["message"] == "NVML read GPU 0 (NVIDIA H200) 5 times, every 5 s, without an error."


def test_each_fault_is_one_sentence_naming_the_gpu():
    records = make_run(
        temps={1: [35, 50, 70, 88, 90, 86]},
        reasons={(1, 3): ["sw_power_cap", "hw_thermal_slowdown"], (1, 4): ["hw_thermal_slowdown"]},
        mismatches={0: {3: 5}},
        xids=[(1, 79, 12.0)],
        ecc={0: (2, 1)},
    )
    _summary, checks = judged(records)
    assert failures(checks) == [
        "GPU 0 (NVIDIA H200) returned 5 mismatching result element(s) in 40 checks of its 8192x8192 bf16 product "
        "(first 15.1 s into the run; the maximum is 0): silent data corruption.",
        "GPU 0 (NVIDIA H200) counted 1 new uncorrectable ECC error(s) during the run, above the maximum of 0.",
        "GPU 1 (NVIDIA H200) reached 90 C (mean 76.8 C, idle 35 C), above the maximum of 85 C.",
        "GPU 1 (NVIDIA H200) was slowed by hw_thermal_slowdown for about 10 s.",
        "GPU 1 (NVIDIA H200) reported 1 XID error(s) during the run: XID 79 at 12 s.",
    ]


def test_power_brake_is_forbidden_but_power_cap_only_reported():
    records = make_run(gpus=1, reasons={(0, 2): ["sw_power_cap", "hw_power_brake_slowdown"]})
    _s, checks = judged(records)
    assert failures(checks) == ["GPU 0 (NVIDIA H200) was slowed by hw_power_brake_slowdown for about 5 s."]
    _s, checks = judged(records, forbidden_clocks_event_reasons=None)
    assert failures(checks) == []
    assert by_name(checks)["stress_gpu.gpu0.clocks_events"]["status"] == "info"


def test_sustained_minimum_is_judged_on_the_lowest_window():
    records = make_run(gpus=1, tflops={0: [710.0, 712.0, 650.5, 711.0]})
    summary, checks = judged(records, min_tflops=700.0)
    assert summary["gpus"][0]["tflops_min"] == 650.5
    assert summary["gpus"][0]["tflops_mean"] == pytest.approx(695.875, abs=1e-3)
    assert failures(checks) == ["Sustained throughput of GPU 0 (NVIDIA H200) fell to 650.5 TFLOP/s in its lowest 5 s "
                                "window, below the minimum of 700 TFLOP/s (mean 695.9 TFLOP/s)."]
    _s, checks = judged(records, min_tflops=600.0)
    assert by_name(checks)["stress_gpu.gpu0.tflops"]["status"] == "passed"


def test_a_short_final_window_does_not_count_as_the_lowest():
    records = make_run(gpus=1)
    records.insert(-3, {"type": "window", "gpu": 0, "index": 5, "t_end": T0 + 20.6, "seconds": 0.5,
                        "flops": 100e12 * 0.5, "tflops": 100.0, "mismatches": 0, "mismatches_total": 0,
                        "matmuls_total": 500, "checks_total": 50})
    summary, _c = judged(records)
    assert summary["gpus"][0]["tflops_min"] == 700.0 and summary["gpus"][0]["windows"] == 5


def test_a_dead_worker_fails_naming_the_gpu_and_the_others_are_reported_stopped():
    records = make_run(exits={1: {"state": "died", "elapsed": 8.1, "rc": -9, "message": "was killed by SIGKILL"},
                              0: {"state": "stopped", "elapsed": 8.3, "rc": -15,
                                  "message": "stopped early because the stress worker on GPU 1 failed"}},
                       end="worker_failed")
    summary, checks = judged(records)
    assert failures(checks) == ["The stress worker on GPU 1 (NVIDIA H200) died 8.1 s into the 20 s run: was killed by SIGKILL."]
    checks = by_name(checks)
    assert checks["stress_gpu.gpu0.worker"]["status"] == "info"
    assert checks["stress_gpu.run"]["status"] == "info"
    assert "stopped after 5.06 s of the 20 s asked because a stress worker failed" in checks["stress_gpu.run"]["message"]


@pytest.mark.parametrize("state,message,sentence", [
    ("hung", "reported no progress for 120 s and was killed",
     "The stress worker on GPU 0 (NVIDIA H200) hung 130 s into the 20 s run: it reported no progress for 120 s and was killed."),
    ("startup_failed", "OutOfMemoryError: CUDA out of memory.",
     "The stress worker on GPU 0 (NVIDIA H200) could not start: OutOfMemoryError: CUDA out of memory."),
])
def test_hung_and_unstartable_workers(state, message, sentence):
    records = make_run(gpus=1, exits={0: {"state": state, "elapsed": 130, "message": message}}, end="worker_failed")
    _s, checks = judged(records)
    assert failures(checks) == [sentence]


def test_an_interrupted_run_and_a_lost_orchestrator_fail_the_run_check():
    _s, checks = judged(make_run(gpus=1, end="interrupted"))
    assert failures(checks) == ["The stress run was interrupted by signal 15 after 20.1 s of the 20 s asked."]
    records = [r for r in make_run(gpus=1, end=None) if r["type"] != "worker_exit"]
    _s, checks = judged(records)
    assert failures(checks) == [
        "The stress orchestrator stopped without its final record after 20.1 s of the 20 s asked.",
        "The stress worker on GPU 0 (NVIDIA H200) left no exit record: the orchestrator stopped unexpectedly."]


def test_nvml_errors_during_the_run_fail_the_telemetry_check():
    _s, checks = judged(make_run(gpus=1, sample_errors={(0, 2), (0, 3)}))
    assert failures(checks) == ["NVML could not read GPU 0 (NVIDIA H200) 2 time(s) during the run (first: GPU is lost)."]


def test_no_telemetry_on_a_gpu_run_is_a_failure():
    _s, checks = judged(make_run(gpus=1, telemetry=False))
    assert failures(checks) == ["No NVML telemetry was recorded for GPU 0 (NVIDIA H200), so its temperature, clocks "
                                "events and errors were not watched: NVML binding missing."]


def test_null_thresholds_report_without_judging():
    records = make_run(gpus=1, temps={0: [30, 95, 95, 95, 95, 95]}, mismatches={0: {1: 2}}, xids=[(0, 13, 3.0)])
    _s, checks = judged(records, max_temperature_c=None, max_mismatches=None, max_xid_errors=None,
                        max_ecc_uncorrected=None, forbidden_clocks_event_reasons=[])
    assert failures(checks) == []
    statuses = dict((c["name"], c["status"]) for c in checks)
    for kind in ("temperature", "mismatches", "xid_errors", "ecc_errors", "clocks_events", "tflops", "utilization"):
        assert statuses["stress_gpu.gpu0." + kind] == "info", kind


def test_utilization_minimum():
    _s, checks = judged(make_run(gpus=1), min_gpu_utilization=90)
    assert by_name(checks)["stress_gpu.gpu0.utilization"]["status"] == "passed"
    _s, checks = judged(make_run(gpus=1), min_gpu_utilization=100.5)
    assert by_name(checks)["stress_gpu.gpu0.utilization"]["status"] == "failed"


def test_gpu_without_ecc_or_xid_events():
    records = make_run(gpus=1)
    for record in records:
        if record["type"] == "sample":
            record.update({"ecc_enabled": False, "ecc_uncorrected_volatile": None, "ecc_corrected_volatile": None})
        if record["type"] == "meta":
            record.update({"xid_supported": {"0": False}, "xid_reason": "the driver offers no XID events for these GPUs"})
    _s, checks = judged(records)
    checks = by_name(checks)
    assert checks["stress_gpu.gpu0.ecc_errors"]["status"] == "info"
    assert checks["stress_gpu.gpu0.xid_errors"]["status"] == "skipped"
    assert "offers no XID events" in checks["stress_gpu.gpu0.xid_errors"]["message"]


def test_cpu_path_is_labelled_and_not_judged_on_telemetry():
    records = make_run(gpus=1, device="cpu", telemetry=False)
    summary, checks = judged(records, min_tflops=1000.0)
    names = [c["name"] for c in checks]
    assert names == ["stress_gpu.device", "stress_gpu.run", "stress_gpu.gpu0.worker", "stress_gpu.gpu0.tflops",
                     "stress_gpu.gpu0.mismatches", "stress_gpu.gpu0.telemetry"]
    checks = by_name(checks)
    assert checks["stress_gpu.device"]["message"].startswith("CPU test run")
    assert checks["stress_gpu.gpu0.tflops"]["status"] == "info"  # never judged on the CPU
    assert "not a GPU figure" in checks["stress_gpu.gpu0.tflops"]["message"]
    assert checks["stress_gpu.gpu0.telemetry"]["status"] == "skipped"
    tables = _stress.tables(summary)
    assert tables[0]["title"].endswith("(CPU test path, not a GPU result)")


def test_tables_plots_and_metrics():
    records = make_run(temps={0: [33, 41, 55, 60, 62, 61]})
    summary = _stress.summarize(records)
    tables = _stress.tables(summary)
    assert tables[0]["rows"][0][:5] == [0, "NVIDIA H200", 700.0, 700.0, 62]
    assert tables[0]["rows"][0][10:] == ["sw_power_cap 20 s", "0 / 40", 0, 0.0, "completed"]
    assert len(tables[0]["columns"]) == len(tables[0]["rows"][0])
    assert dict(tables[1]["rows"])["duration asked / loaded"] == "20 s / 20.1 s"
    plots = _stress.plots(records, summary)
    assert [p["title"].split(":")[1].split("(")[0].strip() for p in plots] == [
        "TFLOP/s per window", "GPU temperature", "GPU power draw", "SM clock"]
    assert plots[0]["series"]["GPU 0"] == [[5.1, 700.0], [10.1, 700.0], [15.1, 700.0], [20.1, 700.0]]
    assert plots[1]["series"]["GPU 0"][0] == [0.0, 41] and len(plots[1]["series"]["GPU 0"]) == 5
    metrics = _stress.metrics(summary)
    assert metrics["gpu_count"] == 2 and metrics["tflops_min"] == 700.0 and metrics["tflops_total"] == 1400.0
    assert metrics["mismatches"] == 0 and metrics["ecc_uncorrected_new"] == 0 and metrics["max_temperature_c"] == 62
    json.dumps(metrics)  # the result must be JSON


def test_downsample_keeps_the_extremes_per_bucket():
    points = [[i, float(i % 7)] for i in range(1000)]
    out = _stress.downsample(points, limit=100, pick=max)
    assert len(out) == 100 and all(p[1] == 6.0 for p in out)
    assert _stress.downsample([[0, 1], [1, None]]) == [[0, 1]]


def test_read_records_skips_a_line_cut_short(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_text('{"type": "meta"}\n\n{"type": "load", "t0": 1}\n{"type": "win')
    assert _stress.read_records(str(path)) == [{"type": "meta"}, {"type": "load", "t0": 1}]
    assert _stress.read_records(str(tmp_path / "missing")) == []


def test_summary_without_a_load_record():
    summary = _stress.summarize([{"type": "meta", "gpus": [{"index": 0, "name": "NVIDIA H200"}], "interval": 5}])
    assert summary["t0"] is None and summary["gpus"][0]["loaded_s"] is None
    assert _stress.plots([], summary) == []
