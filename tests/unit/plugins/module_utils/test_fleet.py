# -*- coding: utf-8 -*-
"""The fleet aggregation: outliers (direction-aware, median and baseline), version drift,
unreachable and failed hosts, history, calibration and bad inputs."""
import xml.etree.ElementTree as ET

import pytest
from fleet_synth import fleet, host_report

from ansible_collections.vaultcube.demobox.plugins.module_utils import _fleet

NOW = "2026-12-04T06:00:00+00:00"


def test_direction_from_threshold_then_unit():
    assert _fleet.direction({"threshold": {"min": 1}, "unit": "C"}) == _fleet.HIGHER
    assert _fleet.direction({"threshold": {"max": 85}}) == _fleet.LOWER
    assert _fleet.direction({"threshold": None, "unit": "samples/s"}) == _fleet.HIGHER
    assert _fleet.direction({"threshold": None, "unit": "ms"}) == _fleet.LOWER
    assert _fleet.direction({"threshold": {"equals": 4}, "unit": None}) is None


def test_headline_keeps_numbers_with_a_direction():
    heads = _fleet.headline(host_report("a"))
    assert "ddp_benchmark.throughput" in heads and heads["ddp_benchmark.throughput"]["direction"] == "higher"
    assert "gpu_facts.count" not in heads          # equals: no better side
    assert "frameworks.torch.import" not in heads  # a version string
    assert heads["stress_gpu.gpu0.temperature"]["direction"] == "lower"


def test_slow_host_is_an_outlier_with_figure_and_percent():
    hosts = fleet(5, odd={"box003": {"throughput": 3300.0 * 0.8}}, jitter=0.0)
    doc = _fleet.aggregate(hosts, NOW)
    outliers = [o for o in doc["outliers"] if o["check"] == "ddp_benchmark.throughput"]
    assert [o["host"] for o in outliers] == ["box003"]
    assert outliers[0]["deviation_pct"] == pytest.approx(-20.0)
    assert "box003 ddp_benchmark.throughput is 2640 samples/s, 20.0% below the fleet median (3300 samples/s" in outliers[0]["sentence"]
    assert doc["verdict"] == "FAILED" and "outlier" in doc["verdict_reason"]


def test_faster_host_and_cooler_host_are_not_outliers():
    hosts = fleet(4, odd={"box001": {"throughput": 3300.0 * 1.5}}, jitter=0.0)
    hosts[1]["report"]["checks"] = [dict(c, value=30) if c["name"] == "ddp_benchmark.gpu_temperature" else c
                                    for c in hosts[1]["report"]["checks"]]
    doc = _fleet.aggregate(hosts, NOW)
    assert doc["outliers"] == [] and doc["passed"] is True


def test_hotter_host_is_an_outlier():
    hosts = fleet(4, jitter=0.0)
    hosts[2]["report"]["checks"] = [dict(c, value=80) if c["name"] == "ddp_benchmark.gpu_temperature" else c
                                    for c in hosts[2]["report"]["checks"]]
    doc = _fleet.aggregate(hosts, NOW)
    assert [(o["host"], o["check"], o["deviation_pct"] > 0) for o in doc["outliers"]] == [
        ("box003", "ddp_benchmark.gpu_temperature", True)]


def test_baseline_judges_even_two_hosts_and_per_check_tolerance():
    hosts = fleet(2, jitter=0.0)
    base = {"figures": {"ddp_benchmark.throughput": 4000.0}, "source": "box9", "date": NOW}
    doc = _fleet.aggregate(hosts, NOW, baseline=base)
    assert doc["figures"]["ddp_benchmark.throughput"]["median"] is None  # two hosts: no median
    assert {o["host"] for o in doc["outliers"]} == {"box001", "box002"}
    assert all(o["reference_kind"] == "baseline" for o in doc["outliers"])
    doc = _fleet.aggregate(hosts, NOW, baseline=base, tolerances={"ddp_benchmark.throughput": 25})
    assert doc["outliers"] == []


def test_version_drift_names_the_odd_host():
    doc = _fleet.aggregate(fleet(4, odd={"box002": {"torch": "2.10.0", "driver": "570.1"}}), NOW)
    drift = dict((d["component"], d) for d in doc["drift"])
    assert drift["torch"]["hosts"] == ["box002"] and drift["torch"]["expected"] == "2.11.0+cu130"
    assert drift["torch"]["sentence"] == "torch: box002 runs 2.10.0 where most of the fleet runs 2.11.0+cu130."
    assert drift["driver"]["hosts"] == ["box002"]
    assert "cuda" not in drift


def test_failed_and_unreachable_hosts_are_in_it():
    hosts = fleet(3) + [{"host": "down", "status": "unreachable"},
                        {"host": "bad", "status": "failed", "message": "Validation of bad failed: Expected 4 GPUs, found 0."}]
    doc = _fleet.aggregate(hosts, NOW)
    rows = dict((r["host"], r) for r in doc["hosts"])
    assert rows["down"]["verdict"] == "UNREACHABLE" and rows["bad"]["message"].startswith("Validation of bad failed")
    assert doc["counts"]["unreachable"] == 1 and doc["counts"]["failed"] == 1
    junit = ET.fromstring(_fleet.to_junit(doc, dict((h["host"], h.get("report")) for h in hosts)))
    suites = dict((s.get("name"), s) for s in junit.findall("testsuite"))
    assert set(suites) == {"fleet.box001", "fleet.box002", "fleet.box003", "fleet.down", "fleet.bad"}
    assert suites["fleet.down"].get("errors") == "1"
    assert suites["fleet.box001"].find("testcase").get("classname") == "box001.gpu_facts"


def test_change_since_previous_run():
    hosts = fleet(1, jitter=0.0)
    previous = _fleet.history_record("box001", "ok", host_report("box001", throughput=4000.0, torch="2.10.0", jitter=0.0),
                                     {"image": "1.0.0"}, generated_at="2026-12-01T00:00:00+00:00")
    doc = _fleet.aggregate(hosts, NOW, histories={"box001": [previous]})
    row = doc["hosts"][0]
    change = [c for c in row["changes"] if c["check"] == "ddp_benchmark.throughput"][0]
    assert change["previous"] == 4000.0 and change["change_pct"] == pytest.approx(-17.5)
    assert {"component": "torch", "previous": "2.10.0", "value": "2.11.0+cu130"} in row["version_changes"]
    assert row["previous_run"] == "2026-12-01T00:00:00+00:00"


def test_history_is_bounded(tmp_path):
    for day in range(1, 6):
        record = _fleet.history_record("h", "ok", host_report("h"), generated_at="2026-12-0%dT00:00:00+00:00" % day)
        _fleet.write_history(str(tmp_path), record, keep=3)
    runs = _fleet.read_history(str(tmp_path))
    assert [r["generated_at"][:10] for r in runs] == ["2026-12-03", "2026-12-04", "2026-12-05"]
    (tmp_path / "history" / "run-garbage.json").write_text("{not json")
    assert len(_fleet.read_history(str(tmp_path))) == 3


@pytest.mark.parametrize("kwargs, sentence", [
    ({"tolerance_pct": -5}, "tolerance_pct must be more than 0 and at most 1000 percent, not -5."),
    ({"tolerance_pct": 5000}, "tolerance_pct must be more than 0 and at most 1000 percent, not 5000."),
    ({"tolerance_pct": "ten"}, "tolerance_pct must be a number of percent such as 10, not 'ten'."),
    ({"tolerance_pct": [10]}, "tolerance_pct must be a number of percent such as 10, not list."),
    ({"tolerances": {"x": 0}}, "tolerances[x] must be more than 0 and at most 1000 percent, not 0."),
    ({"tolerances": [1]}, "tolerances must be a mapping of check name to percent"),
    ({"baseline": {"figures": {"x": "fast"}}}, "baseline.figures[x] must be a number, not 'fast'."),
    ({"baseline": "yes"}, "baseline must be a mapping with 'figures'"),
])
def test_bad_inputs_say_one_sentence(kwargs, sentence):
    with pytest.raises(_fleet.FleetError) as err:
        _fleet.aggregate(fleet(1), NOW, **kwargs)
    assert str(err.value).startswith(sentence)


@pytest.mark.parametrize("hosts, sentence", [
    ("box1", "hosts must be a list of host entries, not str."),
    ([{"host": ""}], "hosts[0] must be a mapping with a host name under 'host'."),
    ([{"host": "a"}, {"host": "a"}], "hosts[1]: a is listed twice."),
    ([{"host": "a", "status": "down"}], "hosts[0] (a): status must be one of ok, failed, unreachable, not 'down'."),
    ([{"host": "a", "report": "x"}], "hosts[0] (a): report must be a validation report (a mapping)."),
])
def test_bad_host_entries(hosts, sentence):
    with pytest.raises(_fleet.FleetError, match=r"^" + __import__("re").escape(sentence) + "$"):
        _fleet.aggregate(hosts, NOW)


def test_calibrate_from_host_and_median_and_what_moved():
    doc = _fleet.aggregate(fleet(3, odd={"box002": {"throughput": 3000.0}}, jitter=0.0), NOW)
    base = _fleet.calibrate(doc, source="box001", margin_pct=10, date=NOW)
    assert base["figures"]["ddp_benchmark.throughput"] == 3300.0
    assert base["thresholds"]["validation_ddp_min_throughput"] == pytest.approx(2970.0)
    row = [r for r in base["rows"] if r["check"] == "ddp_benchmark.gpu_temperature"][0]
    assert row["threshold"] == pytest.approx(66.0) and row["direction"] == "lower"
    median = _fleet.calibrate(doc, source="median", margin_pct=5, date=NOW, previous=base)
    assert median["figures"]["ddp_benchmark.throughput"] == 3300.0
    assert median["versions"]["torch"] == "2.11.0+cu130"
    text = _fleet.baseline_yaml(base, "0.2.0")
    assert "validation_ddp_min_throughput: 2970.0" in text and "# source: host box001" in text
    moved = _fleet.calibrate(_fleet.aggregate(fleet(3, throughput=3600.0, jitter=0.0), NOW), "box001", 10, NOW, previous=base)
    assert {"check": "ddp_benchmark.throughput", "previous": 3300.0, "value": 3600.0, "change_pct": pytest.approx(9.09)} in moved["moved"]


@pytest.mark.parametrize("source, margin, sentence", [
    ("nope", 10, "source must be 'median' or a host of this run (box001), not 'nope'."),
    ("box001", 150, "margin_pct must be more than 0 and at most 100 percent, not 150."),
    ("box001", "x", "margin_pct must be a number of percent such as 10, not 'x'."),
])
def test_calibrate_bad_inputs(source, margin, sentence):
    doc = _fleet.aggregate(fleet(1), NOW)
    with pytest.raises(_fleet.FleetError, match="^" + __import__("re").escape(sentence) + "$"):
        _fleet.calibrate(doc, source=source, margin_pct=margin)


def test_calibrate_refuses_a_failed_host():
    doc = _fleet.aggregate([{"host": "a", "status": "failed", "message": "No GPU."}], NOW)
    with pytest.raises(_fleet.FleetError, match="^a cannot be the baseline: its validation is FAILED"):
        _fleet.calibrate(doc, source="a")
