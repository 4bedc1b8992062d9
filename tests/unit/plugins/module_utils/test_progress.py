# -*- coding: utf-8 -*-
"""The progress line of job_progress, its sources, and the report entry of an interrupted run."""
import os

import pytest

from ansible_collections.vaultcube.demobox.plugins.module_utils import _progress as G
from ansible_collections.vaultcube.demobox.plugins.module_utils import _report
from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _report_render

HERE = os.path.dirname(__file__)
RECORDED_CSV = os.path.join(HERE, "..", "..", "..", "..", "docs", "reports", "h200-2gpu", "stress_gpu-telemetry.csv")


@pytest.mark.parametrize("seconds,text", [(0, "0s"), (45.4, "45s"), (150, "2m30s"), (3723, "1h02m03s"),
                                          (86400, "24h00m00s"), (-3, "0s")])
def test_duration_text(seconds, text):
    assert G.duration_text(seconds) == text


def test_line_with_everything():
    progress = {"phase": "load", "figure": {"value": 1310.4567, "unit": "TFLOP/s"}, "errors": 0}
    gpus = [("0", 61.0, 540.4), ("1", None, 530.0)]
    assert G.line("stress_gpu", "box1", 150, 600, progress, gpus) == (
        "stress_gpu on box1: load, 2m30s of 10m00s (25%), 1310.5 TFLOP/s | GPU0 61C 540W, GPU1 - 530W | errors 0")


def test_line_without_figures_or_expectation():
    assert G.line("ddp_benchmark", "box1", 42, None, {}, []) == "ddp_benchmark on box1: running, 42s"
    assert G.line("x", "h", 700, 600) == "x on h: running, 11m40s of 10m00s (100%)"


def test_parse_progress():
    assert G.parse_progress('{"phase": "warmup", "errors": 2}') == {"phase": "warmup", "errors": 2}
    assert G.parse_progress("") == {} and G.parse_progress("[1]") == {} and G.parse_progress("{half") == {}


def test_gpus_from_facts():
    facts = {"ansible_facts": {"gpus": [{"index": 0, "temperature_c": 40, "power_draw_w": 75.5},
                                        {"index": 1, "temperature_c": None, "power_draw_w": None}]}}
    assert G.gpus_from_facts(facts) == [(0, 40, 75.5), (1, None, None)]
    assert G.gpus_from_facts({"ansible_facts": {"gpu_count": 0}}) == [] and G.gpus_from_facts(None) == []


def _tail(path, count=64):
    lines = open(path).read().splitlines()
    return "\n".join([lines[0]] + lines[-count:])


def test_progress_from_the_recorded_stress_csv():
    # Two H200s at the end of a 120 s run: the last rows are "event" rows (worker completed),
    # which carry no figures; the load rows before them give the line.
    progress = G.progress_from_stress_csv(_tail(RECORDED_CSV))
    assert progress["phase"] == "load" and progress["errors"] == 0
    assert progress["gpus"] == [("0", 59.0, 680.3), ("1", 55.0, 682.1)]
    assert progress["figure"]["unit"] == "TFLOP/s" and progress["figure"]["value"] == pytest.approx(661.3799 + 669.9673)


def test_progress_from_a_stress_csv_under_load_and_with_errors():
    header = ("time_utc,elapsed_s,phase,gpu,worker_pid,temperature_c,power_w,window_tflops,"
              "mismatches_total,xid_events")
    text = "\n".join([header,
                      "2026-12-03T18:00:00Z,1,idle,0,,30,70,,,0",          # an older run: dropped
                      header,                                                # head and tail overlap
                      "2026-12-03T18:10:00Z,5,load,0,11,60,500,650.5,0,0",
                      "2026-12-03T18:10:00Z,5,load,1,12,58,490,640.25,1,0",
                      "2026-12-03T18:10:05Z,10,load,0,11,62,510,655.5,0,1"])
    since = G._utc_seconds("2026-12-03T18:09:00Z")
    progress = G.progress_from_stress_csv(text, since)
    assert progress == {"phase": "load", "errors": 2, "figure": {"value": 1295.75, "unit": "TFLOP/s"},
                        "gpus": [("0", 62.0, 510.0), ("1", 58.0, 490.0)]}
    assert G.progress_from_stress_csv(text, G._utc_seconds("2026-12-03T19:00:00Z")) == {}
    assert G.progress_from_stress_csv(header) == {} and G.progress_from_stress_csv("") == {}


def test_interrupted_entry_keeps_what_was_measured_and_says_so():
    partial = {"checks": [{"name": "stress_gpu.gpu0.tflops", "status": "info", "value": 650.0, "threshold": None,
                           "unit": "TFLOP/s", "message": "650 TFLOP/s"}], "metrics": {"gpu_count": 1}}
    entry = G.interrupted_entry("stress_gpu", "SIGINT", 95.2, 600, "stress_gpu on box1: load, 1m30s of 10m00s (15%)",
                                partial)
    result = entry["result"]
    assert entry["module"] == "stress_gpu" and entry["duration_s"] == 95.2
    assert result["interrupted"] is True and result["passed"] is False and result["metrics"] == {"gpu_count": 1}
    assert [c["name"] for c in result["checks"]] == ["stress_gpu.gpu0.tflops", "stress_gpu.interrupted"]
    assert result["msg"] == ("Interrupted by SIGINT after 1m35s of 10m00s; the run was stopped and its workers ended. "
                             "Last progress: stress_gpu on box1: load, 1m30s of 10m00s (15%).")
    report = _report.build([{"module": "gpu_facts", "result": {"checks": [
        {"name": "gpu_facts.count", "status": "passed", "value": 1, "threshold": {"equals": 1}, "unit": None,
         "message": "1 GPU"}]}}, entry], "box1", "2026-12-03T18:00:00+00:00")
    assert report["interrupted"] is True and report["passed"] is False
    assert report["summary"]["error"] == 1 and report["summary"]["passed"] == 1 and report["summary"]["info"] == 1
    assert report["failures"] == [result["msg"]]
    assert "Interrupted by SIGINT" in _report_render.render(report, "markdown")
    assert _report.build([entry["result"] and {"module": "a", "result": {"checks": []}}], "h", "t")["interrupted"] is False


def test_interrupted_entry_without_any_result():
    entry = G.interrupted_entry("ddp_benchmark", "SIGTERM", 3, None, None, None)
    assert entry["result"]["msg"] == "Interrupted by SIGTERM after 3s; the run was stopped and its workers ended."
    assert [c["status"] for c in entry["result"]["checks"]] == ["error"]


def test_write_report_files(tmp_path):
    report = _report.build([G.interrupted_entry("x", "SIGINT", 1, None)], "h", "2026-12-03T18:00:00+00:00")
    files, changed = _report.write(report, str(tmp_path / "new"), "r", ["json", "junit"])
    assert changed and sorted(os.listdir(str(tmp_path / "new"))) == ["r.json", "r.xml"]
    assert files == {"json": str(tmp_path / "new" / "r.json"), "junit": str(tmp_path / "new" / "r.xml")}
    assert _report.write(report, str(tmp_path / "new"), "r", ["json", "junit"]) == (files, False)
    assert _report.write(report, str(tmp_path / "dry"), "r", ["json"], dry_run=True)[1] is False
    assert not os.path.exists(str(tmp_path / "dry"))
