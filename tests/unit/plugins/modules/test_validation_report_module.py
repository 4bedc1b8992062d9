# -*- coding: utf-8 -*-
"""The module behind the validation_report action: what it runs on a host (json, junit,
prometheus). The action and the controller's templated formats: tests/unit/plugins/action/."""
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args
from report_entries import MALFORMED, results

from ansible_collections.vaultcube.demobox.plugins.module_utils import _prometheus, _report
from ansible_collections.vaultcube.demobox.plugins.modules import validation_report


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            validation_report.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


HOST_FORMATS = ["json", "junit", "prometheus"]


def test_writes_every_host_format(tmp_path, capsys):
    dest = tmp_path / "reports" / "box1"
    code, out = run({"results": results(), "dest": str(dest), "host": "box1", "formats": HOST_FORMATS}, capsys)
    assert code == 0 and out["changed"] is True and out["passed"] is True
    assert sorted(os.listdir(dest)) == ["validation-report.json", "validation-report.prom", "validation-report.xml"]
    data = json.loads((dest / "validation-report.json").read_text())
    assert data["host"] == "box1" and data["summary"]["skipped"] == 1
    assert 'vaultcube_validation_check_passed{' in (dest / "validation-report.prom").read_text()
    assert oct(os.stat(dest / "validation-report.xml").st_mode & 0o777) == "0o644"
    assert out["files"]["prometheus"] == str(dest / "validation-report.prom")


@pytest.mark.parametrize("fmt", ["markdown", "html", "pdf"])
def test_controller_formats_are_refused_on_a_host(tmp_path, capsys, fmt):
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "formats": ["json", fmt]}, capsys)
    assert code == 1 and out["msg"] == _report.CONTROLLER_ONLY
    assert not (tmp_path / "r").exists()


def test_failed_check_is_reported_not_raised(tmp_path, capsys):
    code, out = run({"results": results(ok=False), "dest": str(tmp_path), "host": "h", "formats": ["json"]}, capsys)
    assert code == 0 and out["passed"] is False
    assert out["failures"] == ["GPU count: expected 3, found 2."]
    assert os.listdir(tmp_path) == ["validation-report.json"]


def test_check_mode_writes_nothing(tmp_path, capsys):
    dest = tmp_path / "r"
    code, out = run({"results": results(), "dest": str(dest), "host": "h", "formats": HOST_FORMATS, "_ansible_check_mode": True}, capsys)
    assert code == 0 and out["changed"] is False and not dest.exists()
    assert out["report"]["summary"]["total"] == 2


@pytest.mark.parametrize("entry,msg", MALFORMED)
def test_malformed_entries_are_refused(tmp_path, capsys, entry, msg):
    code, out = run({"results": [entry], "dest": str(tmp_path / "r"), "host": "h"}, capsys)
    assert code == 1 and out["msg"] == msg
    assert not (tmp_path / "r").exists()


def test_unwritable_destination(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out = run({"results": results(), "dest": str(blocker / "sub"), "host": "h", "formats": ["json"]}, capsys)
    assert code == 1 and out["msg"].startswith("Cannot create the report directory")


def test_nothing_measured_is_not_passed(tmp_path, capsys):
    entries = [{"module": "stress_gpu", "skipped_reason": "No NVIDIA GPU."}]
    code, out = run({"results": entries, "dest": str(tmp_path), "host": "h", "formats": ["json"]}, capsys)
    assert code == 0 and out["passed"] is None and out["verdict"] == "NOTHING MEASURED"
    assert out["msg"].startswith("Report NOTHING MEASURED for h: 0 passed, 0 failed, 0 errors, 1 skipped, 0 info.")
    assert out["skipped_checks"] == [{"check": "stress_gpu", "module": "stress_gpu", "reason": "No NVIDIA GPU."}]


def test_unwritable_dest_is_one_sentence_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(_prometheus.tempfile, "mkstemp", refuse)
    code, out = run({"results": results(), "dest": str(tmp_path), "host": "h", "formats": ["json"]}, capsys)
    assert code == 1 and out["msg"] == "Cannot write the report %s/validation-report.json: Permission denied." % tmp_path
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("mode", ["rw-r--r--", "0999", "77777"])
def test_invalid_mode_is_refused_before_writing(tmp_path, capsys, mode):
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "mode": mode, "formats": ["json"]}, capsys)
    assert code == 1 and out["msg"] == "mode must be an octal file mode such as 0644, not %s." % mode
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("basename", ["../escape", "reports/x", "..", ""])
def test_a_basename_with_a_slash_is_refused_before_writing(tmp_path, capsys, basename):
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "basename": basename, "formats": ["json"]}, capsys)
    assert code == 1
    assert out["msg"] == "basename must be a file name without a slash, such as validation-report, not '%s'." % basename
    assert not (tmp_path / "r").exists() and not (tmp_path / "escape.json").exists()
