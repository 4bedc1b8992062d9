# -*- coding: utf-8 -*-
"""job_progress's stop script, run for real against a process tree shaped like an async job:
async_wrapper.py -> AnsiballZ_fake.py (the module) -> sleep (its worker), each carrying the marker,
plus a process with another marker that must never be touched. (The polling, the lines and the
interrupt end to end: tests/integration/targets/job_progress.)"""
import os
import subprocess
import sys
import time
import uuid

import pytest

from ansible_collections.vaultcube.demobox.plugins.action import job_progress as J

WRAPPER = """import subprocess, sys, time
child = subprocess.Popen([sys.executable, sys.argv[1]])
child.wait()
time.sleep(60)
"""
MODULE = """import subprocess, time
subprocess.Popen(["sleep", "60"])
time.sleep(60)
"""


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _marked(marker):
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as handle:
                env = handle.read().split(b"\0")
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmd = handle.read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if ("%s=%s" % (J.MARKER_VAR, marker)).encode() in env and _alive(int(entry)):
            found[int(entry)] = cmd
    return found


def _stop(marker, sig, which):
    out = subprocess.run(["sh", "-c", J._STOP_SCRIPT, "sh", marker, sig, which], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip())


@pytest.fixture
def job(tmp_path):
    (tmp_path / "async_wrapper.py").write_text(WRAPPER)
    module = tmp_path / "AnsiballZ_fake.py"
    module.write_text(MODULE)
    marker = uuid.uuid4().hex
    env = dict(os.environ, **{J.MARKER_VAR: marker})
    wrapper = subprocess.Popen([sys.executable, str(tmp_path / "async_wrapper.py"), str(module)], env=env)
    other = subprocess.Popen(["sleep", "60"], env=dict(os.environ, **{J.MARKER_VAR: marker + "x"}))
    for _attempt in range(100):
        if len(_marked(marker)) == 3:
            break
        time.sleep(0.05)
    yield marker
    _stop(marker, "KILL", "ALL")
    other.kill()
    other.wait()
    wrapper.wait()


def test_stop_script_picks_workers_then_module_then_everything(job):
    procs = _marked(job)
    assert len(procs) == 3, procs
    worker = [pid for pid, cmd in procs.items() if cmd.startswith("sleep")]
    module = [pid for pid, cmd in procs.items() if "AnsiballZ_fake.py" in cmd and "async_wrapper" not in cmd]
    assert _stop(job, "0", "ROOTS") == 1                    # signal 0: who would be told
    assert _stop(job, "0", "MODULE") == 2                   # not the async wrapper
    assert _stop(job, "0", "ALL") == 3
    assert _stop(job, "TERM", "ROOTS") == 1
    for _attempt in range(100):
        if not _alive(worker[0]):
            break
        time.sleep(0.05)
    assert not _alive(worker[0]) and _alive(module[0])      # the module is left to report
    assert _stop(job, "KILL", "ALL") >= 1                   # the module and the wrapper, as far as still there
    for _attempt in range(100):
        if not _marked(job):
            break
        time.sleep(0.05)
    assert _marked(job) == {}
    assert _stop(job + "x", "0", "ALL") == 1                # another run's process was never touched


def test_signals_remembers_the_first_and_restores():
    import signal
    before = signal.getsignal(signal.SIGTERM)
    signals = J._Signals()
    signals.install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert signals.received == signal.SIGTERM and signals.name == "SIGTERM"
    finally:
        signals.restore()
    assert signal.getsignal(signal.SIGTERM) == before


def test_the_interrupted_report_is_the_normal_report(tmp_path):
    """The report of an interrupted run comes from validation_report's own writer: the same
    templates, the same files, the interrupt shown as the error it is."""
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _progress
    from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _report_render

    entry = _progress.interrupted_entry("stress_gpu", "SIGINT", 95.2, 600, "stress_gpu on box1: load")
    spec = {"dest": str(tmp_path / "box1"), "host": "box1", "basename": "validation-report", "results": [],
            "formats": ["json", "markdown", "junit", "html"], "metadata": {}, "template_dir": None, "chromium": None}
    written = J.ActionModule._write_report(None, {"report": spec}, entry)
    assert not written.get("failed") and written["verdict"] == "FAILED"
    assert sorted(written["files"]) == ["html", "json", "junit", "markdown"]
    md = (tmp_path / "box1" / "validation-report.md").read_text()
    html = (tmp_path / "box1" / "validation-report.html").read_text()
    # What the template renders for this report, apart from the time it was made.
    expected = _report_render.render(written["report"], "markdown")
    assert md == expected and "Interrupted by SIGINT after 1m35s" in md
    assert "Content-Security-Policy" in html and "Interrupted by SIGINT after 1m35s" in html
    assert J.ActionModule._write_report(None, {"report": None}, entry) is None


def test_an_interrupted_report_that_cannot_be_written_says_why(tmp_path):
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _progress

    blocker = tmp_path / "file"
    blocker.write_text("x")
    entry = _progress.interrupted_entry("stress_gpu", "SIGTERM", 3, None)
    spec = {"dest": str(blocker / "sub"), "host": "h", "basename": "validation-report", "results": [],
            "formats": ["json"], "metadata": {}}
    written = J.ActionModule._write_report(None, {"report": spec}, entry)
    assert written["failed"] and written["msg"].startswith("Cannot create the report directory %s" % (blocker / "sub"))
