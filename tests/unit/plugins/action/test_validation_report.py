# -*- coding: utf-8 -*-
"""The validation_report action plugin, run for real (no Ansible task around it: the task is a
stand-in that carries the arguments, as the executor's would)."""
import contextlib
import io
import json
import os
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.module_utils.testing import patch_module_args
from report_entries import MALFORMED, results

from ansible_collections.vaultcube.demobox.plugins.action import validation_report
from ansible_collections.vaultcube.demobox.plugins.module_utils import _prometheus, _report
from ansible_collections.vaultcube.demobox.plugins.modules import validation_report as validation_report_module
from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _report_render


def run(args, check_mode=False, transport="local", calls=None):
    """Run the action; a module it runs on the host is the real module, run in this process."""
    task = mock.MagicMock(args=args, check_mode=check_mode, async_val=0, action="vaultcube.demobox.validation_report")
    connection = mock.MagicMock(transport=transport)
    connection._shell.tmpdir = None
    action = validation_report.ActionModule(task, connection, mock.MagicMock(), None, None, None)

    def execute_module(module_name, module_args, task_vars):
        del task_vars
        if calls is not None:
            calls.append((module_name, module_args))
        out = io.StringIO()
        with patch_module_args(dict(module_args, _ansible_check_mode=check_mode)), contextlib.redirect_stdout(out):
            with pytest.raises(SystemExit):
                validation_report_module.main()
        return json.loads(out.getvalue())

    action._execute_module = execute_module
    out = action.run(task_vars={})
    return (1 if out.get("failed") else 0), out


def test_writes_every_format(tmp_path):
    dest = tmp_path / "reports" / "box1"
    code, out = run({"results": results(), "dest": str(dest), "host": "box1"})
    assert code == 0 and out["changed"] is True and out["passed"] is True
    assert sorted(os.listdir(dest)) == ["validation-report.html", "validation-report.json",
                                        "validation-report.md", "validation-report.xml"]
    data = json.loads((dest / "validation-report.json").read_text())
    assert data["host"] == "box1" and data["summary"]["skipped"] == 1
    assert oct(os.stat(dest / "validation-report.md").st_mode & 0o777) == "0o644"
    assert out["files"]["html"] == str(dest / "validation-report.html")
    assert out["msg"] == "Report PASSED for box1: 1 passed, 0 failed, 0 errors, 1 skipped, 0 info. 1 check(s) passed; 1 skipped (stress_gpu)."


def test_failed_check_is_reported_not_raised(tmp_path):
    code, out = run({"results": results(ok=False), "dest": str(tmp_path), "host": "h", "formats": ["json"]})
    assert code == 0 and out["passed"] is False
    assert out["failures"] == ["GPU count: expected 3, found 2."]
    assert os.listdir(tmp_path) == ["validation-report.json"]


def test_check_mode_writes_nothing(tmp_path):
    dest = tmp_path / "r"
    code, out = run({"results": results(), "dest": str(dest), "host": "h"}, check_mode=True)
    assert code == 0 and out["changed"] is False and not dest.exists()
    assert out["report"]["summary"]["total"] == 2


@pytest.mark.parametrize("entry,msg", MALFORMED)
def test_malformed_entries_are_refused(tmp_path, entry, msg):
    code, out = run({"results": [entry], "dest": str(tmp_path / "r"), "host": "h"})
    assert code == 1 and out["msg"] == msg
    assert not (tmp_path / "r").exists()


def test_unwritable_destination(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out = run({"results": results(), "dest": str(blocker / "sub"), "host": "h"})
    assert code == 1 and out["msg"].startswith("Cannot create the report directory")


def test_unknown_format_is_refused_by_the_argument_spec(tmp_path):
    with pytest.raises(AnsibleActionFail, match="formats"):
        run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "formats": ["docx"]})
    assert not (tmp_path / "r").exists()


def test_nothing_measured_is_not_passed(tmp_path):
    entries = [{"module": "stress_gpu", "skipped_reason": "No NVIDIA GPU."}]
    code, out = run({"results": entries, "dest": str(tmp_path), "host": "h", "formats": ["json"]})
    assert code == 0 and out["passed"] is None and out["verdict"] == "NOTHING MEASURED"
    assert out["msg"].startswith("Report NOTHING MEASURED for h: 0 passed, 0 failed, 0 errors, 1 skipped, 0 info.")
    assert out["skipped_checks"] == [{"check": "stress_gpu", "module": "stress_gpu", "reason": "No NVIDIA GPU."}]


def test_unwritable_dest_is_one_sentence_and_leaves_nothing(tmp_path, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(_prometheus.tempfile, "mkstemp", refuse)
    code, out = run({"results": results(), "dest": str(tmp_path), "host": "h", "formats": ["json"]})
    assert code == 1 and out["msg"] == "Cannot write the report %s/validation-report.json: Permission denied." % tmp_path
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("mode", ["rw-r--r--", "0999", "77777"])
def test_invalid_mode_is_refused_before_writing(tmp_path, mode):
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "mode": mode})
    assert code == 1 and out["msg"] == "mode must be an octal file mode such as 0644, not %s." % mode
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("basename", ["../escape", "reports/x", "..", ""])
def test_a_basename_with_a_slash_is_refused_before_writing(tmp_path, basename):
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "basename": basename})
    assert code == 1
    assert out["msg"] == "basename must be a file name without a slash, such as validation-report, not '%s'." % basename
    assert not (tmp_path / "r").exists() and not (tmp_path / "escape.json").exists()


def test_same_content_is_not_changed(tmp_path):
    args = {"results": results(), "dest": str(tmp_path), "host": "h", "formats": ["junit"]}
    assert run(args)[1]["changed"] is True
    assert run(args)[1]["changed"] is False  # JUnit carries the timestamp only to the second
    # (the same second is likely here; if not, the file changed and that is right too)


def test_pdf_without_chromium_warns_and_writes_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "formats": ["json", "html", "pdf"]})
    assert code == 0 and sorted(out["files"]) == ["html", "json"]
    assert sorted(os.listdir(tmp_path / "r")) == ["validation-report.html", "validation-report.json"]
    assert out["warnings"] == [
        "No PDF written: Chromium is not installed on the controller (looked for chromium, chromium-browser, "
        "google-chrome, google-chrome-stable in PATH); install it (Debian/Ubuntu: apt-get install chromium) or "
        "set validation_report_chromium to its path. The other formats are written."]


def test_pdf_with_a_chromium_that_is_not_there(tmp_path):
    code, out = run({"results": results(), "dest": str(tmp_path), "host": "h", "formats": ["pdf"],
                     "chromium": str(tmp_path / "no-such-chromium")})
    assert code == 0 and out["files"] == {} and os.listdir(tmp_path) == []
    assert out["warnings"][0].startswith("No PDF written: chromium is set to %s, which is not an executable" % (
        tmp_path / "no-such-chromium"))


def test_pdf_from_a_chromium_that_fails(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    fake.chmod(0o755)
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "formats": ["pdf"],
                     "chromium": str(fake)})
    assert code == 0 and out["files"] == {}
    assert out["warnings"] == ["No PDF written: %s exited with 3: cannot open display." % fake]


def test_pdf_is_printed_from_the_html(tmp_path):
    # A stand-in that does what Chromium's --print-to-pdf does with its arguments: proves the
    # HTML it is handed is the rendered report and the PDF lands under dest (the real Chromium
    # is exercised by tests/browser).
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nfor a; do case $a in --print-to-pdf=*) out=${a#--print-to-pdf=};; file://*) src=${a#file://};; "
                    "--user-data-dir=*) test -d ${a#--user-data-dir=} || exit 9;; esac; done\n"
                    "grep -q 'Validation report: h' \"$src\" || exit 8\nprintf '%%PDF-1.4 fake' > \"$out\"\n")
    fake.chmod(0o755)
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "formats": ["json", "pdf"],
                     "chromium": str(fake)})
    assert code == 0 and "warnings" not in out, out
    assert sorted(os.listdir(tmp_path / "r")) == ["validation-report.json", "validation-report.pdf"]
    assert (tmp_path / "r" / "validation-report.pdf").read_bytes() == b"%PDF-1.4 fake"


def test_template_dir_overrides_by_name(tmp_path):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "validation-report.md.j2").write_text("{{ report.host }} is {{ 'ok' if report.passed else 'not ok' }}\n")
    (tpl / "_style.css.j2").write_text("body{color:rebeccapurple}")
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "formats": ["markdown", "html"],
                     "template_dir": str(tpl)})
    assert code == 0
    assert (tmp_path / "r" / "validation-report.md").read_text() == "h is ok\n"
    html = (tmp_path / "r" / "validation-report.html").read_text()
    assert "body{color:rebeccapurple}" in html and "Validation report: h" in html


def test_template_that_extends_the_shipped_one(tmp_path):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "validation-report.html.j2").write_text(
        '{% extends "builtin/validation-report.html.j2" %}{% block run %}<p id="mine">Prepared by ACME</p>{% endblock %}')
    code, out = run({"results": results(), "dest": str(tmp_path), "host": "h", "formats": ["html"], "template_dir": str(tpl)})
    html = (tmp_path / "validation-report.html").read_text()
    assert code == 0 and '<p id="mine">Prepared by ACME</p>' in html and 'data-check="gpu_facts.count"' in html


@pytest.mark.parametrize("source,msg", [
    ("x\n{% if %}", "has a syntax error at line 2: Expected an expression, got 'end of statement block'."),
    ("{{ report.host | no_such_filter }}", "has a syntax error at line 1: No filter named 'no_such_filter'."),
    ("x\ny\n{{ 1 / 0 }}", "could not be rendered at line 3: ZeroDivisionError: division by zero."),
])
def test_broken_template_changes_nothing(tmp_path, source, msg):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "validation-report.md.j2").write_text(source)
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "template_dir": str(tpl)})
    assert code == 1 and out["msg"] == "The report template %s %s" % (tpl / "validation-report.md.j2", msg)
    assert not (tmp_path / "r").exists()


def test_template_dir_that_is_not_a_directory(tmp_path):
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "template_dir": str(tmp_path / "nope")})
    assert code == 1 and out["msg"] == (
        "template_dir %s is not a directory on the controller; name a directory holding templates such as "
        "validation-report.html.j2, or leave it unset for the shipped templates." % (tmp_path / "nope"))
    assert not (tmp_path / "r").exists()


def test_argument_spec_matches_the_documentation():
    import yaml

    from ansible_collections.vaultcube.demobox.plugins.modules import validation_report as doc
    options = yaml.safe_load(doc.DOCUMENTATION)["options"]
    spec = _report_render.ARGUMENT_SPEC
    assert sorted(options) == sorted(spec)
    for name, option in options.items():
        assert option.get("type", "str") == spec[name]["type"], name
        assert option.get("default") == spec[name].get("default"), name
        assert option.get("choices") == spec[name].get("choices"), name
        assert bool(option.get("required")) == bool(spec[name].get("required")), name


def test_host_formats_run_the_module_on_the_host(tmp_path):
    """Only json, junit, prometheus: the module runs on the task's host (here: in this process),
    which is how the role writes the Prometheus textfile on the validated host, with become."""
    calls = []
    code, out = run({"results": results(), "dest": str(tmp_path), "host": "box1", "basename": "vaultcube_validation",
                     "formats": ["prometheus"]}, transport="ssh", calls=calls)
    assert code == 0 and out["changed"] is True and out["verdict"] == "PASSED"
    assert [name for name, _args in calls] == ["vaultcube.demobox.validation_report"]
    assert calls[0][1]["formats"] == ["prometheus"]
    assert os.listdir(tmp_path) == ["vaultcube_validation.prom"]
    assert 'vaultcube_validation_check_passed{check="gpu_facts.count",host="box1"' in (
        tmp_path / "vaultcube_validation.prom").read_text()


@pytest.mark.parametrize("fmt", ["markdown", "html", "pdf"])
def test_controller_formats_on_another_host_are_refused(tmp_path, fmt):
    calls = []
    code, out = run({"results": results(), "dest": str(tmp_path / "r"), "host": "h", "formats": ["json", fmt]},
                    transport="ssh", calls=calls)
    assert code == 1 and out["msg"] == _report.CONTROLLER_ONLY
    assert calls == [] and not (tmp_path / "r").exists()


def test_on_the_controller_every_format_is_written_in_one_go(tmp_path):
    calls = []
    code, out = run({"results": results(), "dest": str(tmp_path), "host": "h",
                     "formats": ["json", "markdown", "junit", "html", "prometheus"]}, calls=calls)
    assert code == 0 and calls == []
    assert sorted(os.listdir(tmp_path)) == ["validation-report.html", "validation-report.json", "validation-report.md",
                                            "validation-report.prom", "validation-report.xml"]
    assert (tmp_path / "validation-report.prom").read_text() == _report.RENDERERS["prometheus"][1](out["report"])
