# -*- coding: utf-8 -*-
import json
import xml.etree.ElementTree as ET

from ansible_collections.vaultcube.demobox.plugins.module_utils import _report
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _report_render


def to_markdown(rep):
    return _report_render.render(rep, "markdown")


def to_html(rep):
    return _report_render.render(rep, "html")


def gpu_result(count=2, expected=2):
    checks = [R.judge_equal("gpu_facts.count", "GPU count", count, expected)]
    return R.build_result(checks, {"gpu_count": count}, {"expected_count": expected},
                          {"driver_version": "580.159.04"})


def ddp_result():
    checks = [R.judge_min("ddp_benchmark.scaling_efficiency", "Scaling efficiency", 0.72, 0.8),
              R.judge_min("ddp_benchmark.gpu_utilization", "Mean GPU utilisation", 97.0, 90, "%")]
    result = R.build_result(checks, {"efficiency": 0.72}, {"min_scaling_efficiency": 0.8}, {"torch": "2.11.0"})
    result["tables"] = [{"title": "Scaling", "columns": ["world size", "samples/s"], "rows": [[1, 1319.0], [2, 2383.5]]}]
    result["plots"] = [{"title": "Throughput", "kind": "bar", "x_label": "GPUs", "y_label": "img/s",
                        "series": {"measured": [[1, 1319.0], [2, 2383.5]], "ideal": [[1, 1319.0], [2, 2638.0]]}},
                       {"title": "Temperature", "kind": "line", "x_label": "s", "y_label": "C",
                        "series": {"GPU 0": [[0, 40], [5, 61], [10, 70]]}}]
    return result


ENTRIES = [
    {"module": "gpu_facts", "result": gpu_result(), "duration_s": 0.5},
    {"module": "ddp_benchmark", "result": ddp_result()},
    {"module": "stress_gpu", "skipped_reason": "No NVIDIA GPU on this host."},
    {"module": "vllm_bench",
     "result": {"changed": False, "failed_when_result": False, "msg": "vLLM is not installed for /opt/vaultcube/venv/bin/python."}},
]


def report():
    return _report.build(ENTRIES, "box1", "2026-11-29T00:00:00+00:00", {"ansible_version": "2.21.5"})


def test_build_flattens_checks_and_counts():
    rep = report()
    assert rep["passed"] is False
    assert rep["summary"] == {"passed": 2, "failed": 1, "error": 1, "skipped": 1, "info": 0, "total": 5}
    assert [c["module"] for c in rep["checks"]] == ["gpu_facts", "ddp_benchmark", "ddp_benchmark", "stress_gpu", "vllm_bench"]
    assert rep["failures"] == ["Scaling efficiency is 0.72, below the minimum of 0.8.",
                               "vLLM is not installed for /opt/vaultcube/venv/bin/python."]
    assert rep["checks"][3]["status"] == "skipped"
    assert rep["checks"][3]["message"] == "No NVIDIA GPU on this host."


def test_all_passed_or_skipped_is_a_pass():
    rep = _report.build(ENTRIES[:1] + ENTRIES[2:3], "box1", "t")
    assert rep["passed"] is True and rep["failures"] == []


def test_all_passed_or_skipped_names_the_skipped():
    rep = _report.build(ENTRIES[:1] + ENTRIES[2:3], "box1", "t")
    assert rep["verdict"] == "PASSED"
    assert rep["verdict_reason"] == "1 check(s) passed; 1 skipped (stress_gpu)."


def test_info_only_is_not_judged_not_passed():
    checks = [R.judge_min("x.y", "Y", 3.0, None)]
    rep = _report.build([{"module": "x", "result": R.build_result(checks, {}, {}, {})}], "h", "t")
    assert rep["passed"] is None and rep["summary"]["info"] == 1
    assert rep["verdict"] == "NOT JUDGED"


def test_nothing_measured_is_not_passed_and_says_why():
    entries = [{"module": "ddp_benchmark", "skipped_reason": "No NVIDIA GPU on this host (NVML: no driver)."},
               {"module": "stress_gpu", "result": {"skipped": True, "skip_reason": "Conditional result was False"}}]
    rep = _report.build(entries, "h", "t")
    assert rep["passed"] is None and rep["verdict"] == "NOTHING MEASURED"
    assert rep["verdict_reason"] == ("Nothing was measured: every check was skipped (ddp_benchmark: No NVIDIA GPU on "
                                     "this host (NVML: no driver); stress_gpu: Conditional result was False).")
    assert [s["check"] for s in rep["skipped_checks"]] == ["ddp_benchmark", "stress_gpu"]
    md = to_markdown(rep)
    assert "**NOTHING MEASURED** - 2 checks: 0 passed" in md and rep["verdict_reason"] in md
    html = to_html(rep)
    assert 'data-verdict="NOTHING MEASURED"' in html and ">NOTHING MEASURED</div>" in html
    assert '<header class="verdict none"' in html and rep["verdict_reason"] in html


def test_no_entries_is_nothing_measured():
    rep = _report.build([], "h", "t")
    assert (rep["passed"], rep["verdict"], rep["verdict_reason"]) == (None, "NOTHING MEASURED", "Nothing was measured: no check ran.")


def test_json_roundtrip():
    rep = report()
    assert json.loads(_report.to_json(rep)) == json.loads(json.dumps(rep))


def test_junit_one_testcase_per_check():
    root = ET.fromstring(_report.to_junit(report()))
    suite = root.find("testsuite")
    assert suite.get("tests") == "5" and suite.get("failures") == "1" and suite.get("errors") == "1"
    assert suite.get("skipped") == "1"
    cases = suite.findall("testcase")
    names = ["gpu_facts.count", "ddp_benchmark.scaling_efficiency", "ddp_benchmark.gpu_utilization", "stress_gpu", "vllm_bench"]
    assert [c.get("name") for c in cases] == names
    assert cases[0].get("classname") == "box1.gpu_facts" and cases[0].get("time") == "0.500"
    assert cases[1].find("failure").get("message") == "Scaling efficiency is 0.72, below the minimum of 0.8."
    assert cases[3].find("skipped").get("message") == "No NVIDIA GPU on this host."
    assert cases[4].find("error") is not None


def test_junit_escapes_markup():
    checks = [R.make_check("a<b", "failed", message='bad "quote" & <tag>')]
    xml = _report.to_junit(_report.build([{"module": "m&n", "result": R.build_result(checks, {}, {}, {})}], "h", "t"))
    case = ET.fromstring(xml).find("testsuite/testcase")
    assert case.get("name") == "a<b" and case.find("failure").get("message") == 'bad "quote" & <tag>'


def test_markdown_has_verdict_checks_and_tables():
    md = to_markdown(report())
    assert md.startswith("# Validation report: box1\n")
    assert "**FAILED** - 5 checks: 2 passed, 1 failed, 1 errors, 1 skipped" in md
    assert "| FAIL | ddp_benchmark.scaling_efficiency | 0.72 | >= 0.80 |" in md
    assert "| SKIP | stress_gpu | - | - | No NVIDIA GPU on this host. |" in md
    assert "### Scaling" in md and "| 2 | 2,383.5 |" in md or "| 2 | 2383.50 |" in md
    assert "- ansible_version: 2.21.5" in md


def test_html_is_self_contained_with_plots():
    html = to_html(report())
    assert html.count("<svg") == 2
    assert "<polyline" in html and "<rect x=" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert 'class="failed"' in html and "FAILED" in html


def test_svg_plot_without_data():
    plot = _report_render.template_env().get_template("_macros.html.j2").module.plot
    assert "no data" in str(plot({"title": "t", "series": {}}))
    assert _report.plot_layout({"title": "t", "series": {"a": [[0, None], [1, float("nan")]]}})["empty"] is True


def test_values_are_formatted():
    assert _report._value_text(None) == "-"
    assert _report._value_text(0.5, "%") == "0.50%"
    assert _report._value_text(12345.678) == "12,345.7"
    assert _report._value_text([1, 2]) == "1, 2"
    assert _report._threshold_text({"min": 0.8}) == ">= 0.80"
