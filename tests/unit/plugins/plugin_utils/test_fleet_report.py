# -*- coding: utf-8 -*-
"""The fleet report on the controller: reports read from the report directory, every format
written, history kept and shown, the baseline file written and re-calibrated."""
import datetime
import importlib
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from unittest import mock

import pytest
import yaml
from fleet_synth import fleet, write_reports

from ansible_collections.vaultcube.demobox.plugins.module_utils import _fleet
from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _fleet_report


def params(root, info, hosts, **extra):
    out = {"hosts": hosts, "reachable": None, "host_info": info, "dest": str(root / "fleet"),
           "formats": list(_fleet.FORMATS), "tolerance_pct": 10, "tolerances": {}, "baseline": None,
           "history_keep": 10, "since": None, "template_dir": None}
    out.update(extra)
    return out


class Parse(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.text = []
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_writes_every_format_with_outlier_drift_and_unreachable(tmp_path):
    entries = fleet(4, odd={"box003": {"throughput": 2500.0}, "box004": {"torch": "2.10.0"}}, jitter=0.0)
    info = write_reports(str(tmp_path), entries)
    hosts = [e["host"] for e in entries] + ["box005"]
    result = _fleet_report.write_fleet(params(tmp_path, info, hosts, reachable=hosts[:4]))
    assert result["changed"] and not result.get("failed"), result.get("msg")
    assert result["counts"]["unreachable"] == 1
    md = open(result["files"]["markdown"]).read()
    assert "| box003 | ddp_benchmark.throughput | 2,500.0 samples/s | median 3,300.0 samples/s | -24.2 % |" in md
    assert "- torch: box004 runs 2.10.0 where most of the fleet runs 2.11.0+cu130." in md
    assert "| box005 | UNREACHABLE | UNREACHABLE |" in md
    html = Parse()
    html.feed(open(result["files"]["html"]).read())
    assert html.tags.count("svg") == len(result["report"]["plots"]) > 0
    assert "box005 could not be reached" in "".join(html.text)
    junit = ET.parse(result["files"]["junit"]).getroot()
    assert len(junit.findall("testsuite")) == 5
    assert json.load(open(result["files"]["json"]))["verdict"] == "FAILED"


def test_history_shows_the_change_since_the_previous_run(tmp_path):
    info = write_reports(str(tmp_path), fleet(3, jitter=0.0))
    first = _fleet_report.write_fleet(params(tmp_path, info, sorted(info)))
    assert first["report"]["hosts"][0]["previous_run"] is None
    later = fleet(3, odd={"box002": {"throughput": 3000.0}}, jitter=0.0, generated_at="2026-12-05T06:00:00+00:00")
    write_reports(str(tmp_path), later)
    second = _fleet_report.write_fleet(params(tmp_path, info, sorted(info), history_keep=2))
    row = [r for r in second["report"]["hosts"] if r["host"] == "box002"][0]
    assert row["previous_run"] == "2026-12-04T06:00:00+00:00"
    change = [c for c in row["changes"] if c["check"] == "ddp_benchmark.throughput"][0]
    assert round(change["change_pct"], 1) == -9.1
    assert "| box002 | 2026-12-04T06:00:00+00:00 | ddp_benchmark.throughput | 3,300.0 samples/s | 3,000.0 samples/s | -9.1 % |" in open(
        second["files"]["markdown"]).read()
    # the same run written again does not count as its own previous run
    again = _fleet_report.write_fleet(params(tmp_path, info, sorted(info), history_keep=2))
    assert [r["previous_run"] for r in again["report"]["hosts"]] == ["2026-12-04T06:00:00+00:00"] * 3
    assert len(_fleet.read_history(str(tmp_path / "box002"))) == 2


def test_missing_stale_and_failed_reports(tmp_path):
    info = write_reports(str(tmp_path), fleet(2))
    info["box003"] = {"report": str(tmp_path / "box003" / "validation-report.json")}
    info["box002"]["status"] = "failed"
    info["box002"]["message"] = "Validation of box002 failed: Expected 4 GPUs, found 3."
    result = _fleet_report.write_fleet(params(tmp_path, info, ["box001", "box002", "box003"], since="2026-12-04T07:00:00"))
    rows = dict((r["host"], r) for r in result["report"]["hosts"])
    assert rows["box001"]["status"] == "failed" and "is from an earlier run" in rows["box001"]["message"]
    assert rows["box002"]["message"].startswith("Validation of box002 failed")
    assert "wrote no JSON report" in rows["box003"]["message"]


def test_bad_options_fail_with_one_sentence_and_write_nothing(tmp_path):
    info = write_reports(str(tmp_path), fleet(1))
    for extra, sentence in (({"tolerance_pct": 0}, "tolerance_pct must be more than 0 and at most 1000 percent, not 0."),
                            ({"history_keep": 0}, "history_keep must be 1 or more runs, not 0."),
                            ({"host_info": {"box001": "x"}}, "host_info[box001] must be a mapping")):
        result = _fleet_report.write_fleet(params(tmp_path, info if "host_info" not in extra else extra["host_info"],
                                                  ["box001"], **dict((k, v) for k, v in extra.items() if k != "host_info")))
        assert result["failed"] and result["msg"].startswith(sentence)
    assert not (tmp_path / "fleet").exists()


def test_check_mode_writes_nothing(tmp_path):
    info = write_reports(str(tmp_path), fleet(2))
    result = _fleet_report.write_fleet(params(tmp_path, info, sorted(info)), check_mode=True)
    assert not result["changed"] and result["verdict"] and not (tmp_path / "fleet").exists()


def test_calibrate_writes_group_vars_and_says_what_moved(tmp_path):
    info = write_reports(str(tmp_path), fleet(3, jitter=0.0))
    _fleet_report.write_fleet(params(tmp_path, info, sorted(info)))
    dest = tmp_path / "group_vars" / "all" / "vaultcube_baseline.yml"
    cal = {"fleet_report": str(tmp_path / "fleet" / "fleet-report.json"), "dest": str(dest), "source": "box001", "margin_pct": 10}
    now = datetime.datetime(2026, 12, 4, 6, 30, tzinfo=datetime.timezone.utc)
    first = _fleet_report.write_baseline(cal, now=now)
    assert first["changed"] and "Moved" not in first["msg"], first["msg"]
    data = yaml.safe_load(dest.read_text())
    assert data["validation_ddp_min_throughput"] == 2970.0
    assert data["vaultcube_fleet_baseline"]["figures"]["ddp_benchmark.throughput"] == 3300.0
    assert data["vaultcube_fleet_baseline"]["thresholds"]["ddp_benchmark.gpu_temperature"] == {"max": 66.0, "margin_pct": 10.0}
    assert "# date: 2026-12-04T06:30:00+00:00" in dest.read_text()
    # the baseline is what the next fleet report compares with
    faster = fleet(3, throughput=3700.0, jitter=0.0, generated_at="2026-12-05T06:00:00+00:00")
    write_reports(str(tmp_path), faster)
    judged = _fleet_report.write_fleet(params(tmp_path, info, sorted(info), baseline=data["vaultcube_fleet_baseline"]))
    assert judged["report"]["figures"]["ddp_benchmark.throughput"]["baseline"] == 3300.0
    second = _fleet_report.write_baseline(dict(cal, source="median"), now=now)
    assert "ddp_benchmark.throughput: 3300.0 -> 3700.0 (+12.1%)" in second["msg"]


def test_calibrate_without_a_fleet_report(tmp_path):
    result = _fleet_report.write_baseline({"fleet_report": str(tmp_path / "none.json"), "dest": str(tmp_path / "b.yml"),
                                           "source": "median", "margin_pct": 10})
    assert result["failed"] and result["msg"].startswith("The fleet report %s could not be read" % (tmp_path / "none.json"))


def _action(module, transport, writer_calls):
    task = mock.MagicMock(args={}, check_mode=True, async_val=0)
    connection = mock.MagicMock(transport=transport)
    action = module.ActionModule(task, connection, mock.MagicMock(), None, None, None)
    action.validate_argument_spec = lambda argument_spec: (None, {"spec": argument_spec})
    action.WRITER = lambda params, check_mode: writer_calls.append((params, check_mode)) or {"changed": False, "msg": "written"}
    return action


@pytest.mark.parametrize("name,spec", [("fleet_report", "ARGUMENT_SPEC"), ("fleet_calibrate", "CALIBRATE_SPEC")])
def test_fleet_actions_run_on_the_controller_only(name, spec):
    module = importlib.import_module("ansible_collections.vaultcube.demobox.plugins.action." + name)
    calls = []
    out = _action(module, "ssh", calls).run(task_vars={})
    assert out["failed"] and out["msg"] == module.CONTROLLER_ONLY and not calls
    out = _action(module, "local", calls).run(task_vars={})
    assert out["msg"] == "written" and calls == [({"spec": getattr(_fleet_report, spec)}, True)]
