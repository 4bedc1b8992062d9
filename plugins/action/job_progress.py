# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Follow an async job to its end, print a progress line every interval, stop it on Ctrl-C.

Documentation: plugins/modules/job_progress.py. The lines are printed through Ansible's Display,
which a worker process forwards to ansible-playbook's output, so they show with any stdout
callback and at the default verbosity.

On Ctrl-C or SIGTERM, ansible-playbook forwards the signal to this worker and ends the play; the
worker keeps this action alive (ansible-playbook waits for its workers before it exits) long
enough to stop the job on the host, sweep every process that carries the job's marker, and
write the report of what was measured so far.
"""

from __future__ import absolute_import, division, print_function

import signal
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.vaultcube.demobox.plugins.module_utils import _progress, _report
from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _report_render

display = Display()

MARKER_VAR = "VAULTCUBE_JOB"

# Signal the processes that carry the job's marker in their environment:
#   ROOTS  - the module's workers (children of the AnsiballZ module process): stress_gpu's
#            orchestrator, torchrun, the vLLM worker. Told SIGTERM they stop their work and the
#            module returns a result with what was measured (stress_gpu records "interrupted");
#   MODULE - every process but the async wrapper (which writes the job's result when the module
#            ends): the module's own handler then stops its worker groups;
#   ALL    - everything left, the async wrapper included (the last sweep, with SIGKILL).
_STOP_SCRIPT = r"""
marker="$1"; sig="$2"; which="$3"; n=0
marked() { grep -qz "^%s=$marker\$" "/proc/$1/environ" 2>/dev/null; }
cmd() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null; }
wrapper() { cmd "$1" | grep -q async_wrapper; }  # its arguments name the AnsiballZ file too
module() { marked "$1" && ! wrapper "$1" && cmd "$1" | grep -q AnsiballZ_; }
for d in /proc/[0-9]*; do
  pid=${d#/proc/}
  [ "$pid" = "$$" ] && continue
  marked "$pid" || continue
  case "$which" in
    ROOTS)
      ppid=$(sed 's/.*) //' "$d/stat" 2>/dev/null | cut -d' ' -f2)
      module "$ppid" || continue ;;
    MODULE)
      wrapper "$pid" && continue ;;
  esac
  kill "-$sig" "$pid" 2>/dev/null && n=$((n+1))
done
echo "$n"
""" % MARKER_VAR

ARGUMENT_SPEC = dict(
    jid=dict(type="str", required=True),
    name=dict(type="str", required=True),
    interval=dict(type="float", default=30.0),
    expected_s=dict(type="float"),
    marker=dict(type="str"),
    progress_file=dict(type="path"),
    csv_file=dict(type="path"),
    gpu_telemetry=dict(type="bool", default=True),
    gpu_facts_args=dict(type="dict", default={}),
    stop_grace=dict(type="float", default=30.0),
    heartbeat=dict(type="path"),
    report=dict(type="dict", options=dict(
        dest=dict(type="path", required=True),
        host=dict(type="str", required=True),
        basename=dict(type="str", default="validation-report"),
        results=dict(type="list", elements="dict", default=[]),
        formats=dict(type="list", elements="str", default=list(_report.DEFAULT_FORMATS),
                     choices=list(_report.FORMATS)),
        metadata=dict(type="dict", default={}),
        template_dir=dict(type="path"),
        chromium=dict(type="str"),
    )),
)


class _Signals(object):
    """Catch SIGINT and SIGTERM in this worker: remember the first, ignore the rest."""

    def __init__(self):
        self.received = None
        self._old = {}

    def _on_signal(self, signum, frame):  # pylint: disable=unused-argument
        if self.received is None:
            self.received = signum

    def install(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._on_signal)

    def restore(self):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)

    @property
    def name(self):
        return signal.Signals(self.received).name if self.received else None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def _module(self, name, args, task_vars):
        return self._execute_module(module_name=name, module_args=args, task_vars=task_vars)

    def _status(self, jid, task_vars, mode="status"):
        # As ansible.builtin.async_status's own action plugin calls its module.
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        return self._module("ansible.legacy.async_status", {"jid": jid, "mode": mode, "_async_dir": async_dir}, task_vars)

    def _gpus(self, params, task_vars):
        if not params["gpu_telemetry"]:
            return []
        args = dict(params["gpu_facts_args"])
        args.update({"interconnect": False, "fail_on_threshold": False})
        return _progress.gpus_from_facts(self._module("vaultcube.demobox.gpu_facts", args, task_vars))

    def _progress_file(self, params, task_vars):
        if not params["progress_file"]:
            return {}
        result = self._module("ansible.builtin.slurp", {"src": params["progress_file"]}, task_vars)
        if result.get("failed") or "content" not in result:
            return {}
        import base64  # pylint: disable=import-outside-toplevel
        return _progress.parse_progress(base64.b64decode(result["content"]).decode("utf-8", "replace"))

    def _remove_progress_file(self, params, task_vars):
        if params["progress_file"]:
            self._module("ansible.builtin.file", {"path": params["progress_file"], "state": "absent"}, task_vars)

    def _stress_csv(self, params, task_vars, since):
        if not params["csv_file"]:
            return {}
        result = self._module("ansible.builtin.command", {
            "argv": ["sh", "-c", 'head -n 1 "$1" && tail -n 64 "$1"', "sh", params["csv_file"]]}, task_vars)
        if result.get("rc") != 0:
            return {}
        return _progress.progress_from_stress_csv(result.get("stdout", ""), since)

    def _signal_marked(self, marker, sig, which, task_vars):
        result = self._module("ansible.builtin.command", {
            "argv": ["sh", "-c", _STOP_SCRIPT, "sh", marker, sig, which]}, task_vars)
        try:
            return int(result.get("stdout", "").strip() or 0)
        except ValueError:
            return 0

    def _wait_finished(self, jid, seconds, task_vars):
        end = time.time() + seconds
        while True:
            status = self._status(jid, task_vars)
            if status.get("finished") or time.time() >= end:
                return status
            time.sleep(0.5)

    def _stop(self, params, task_vars):
        """Stop the job: its workers first (they report what they measured), then the module,
        then SIGKILL to whatever is left. Returns (the job's result or {}, processes killed)."""
        marker, jid, grace = params["marker"], params["jid"], params["stop_grace"]
        status = {}
        if marker:
            if not self._signal_marked(marker, "TERM", "ROOTS", task_vars):
                self._signal_marked(marker, "TERM", "MODULE", task_vars)
            # The workers get a short while to report (stress_gpu's orchestrator stops in a few
            # seconds); then the module's own handler stops whatever they left.
            first = min(10.0, grace / 2.0)
            status = self._wait_finished(jid, first, task_vars)
            if not status.get("finished"):
                self._signal_marked(marker, "TERM", "MODULE", task_vars)
                status = self._wait_finished(jid, grace - first, task_vars)
            leftover = self._signal_marked(marker, "KILL", "ALL", task_vars)
        else:
            status, leftover = self._wait_finished(jid, grace, task_vars), 0
        return (status if status.get("finished") else {}), leftover

    def _write_report(self, params, entry):
        """The report so far, written on the controller by validation_report's own writer (same
        templates, same files). Returns its result, or None when no report was asked for."""
        spec = params["report"]
        if not spec:
            return None
        return _report_render.write_report(dict(spec, results=list(spec["results"]) + [entry], mode="0644"))

    def run(self, tmp=None, task_vars=None):
        super(ActionModule, self).run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if params["interval"] <= 0:
            raise AnsibleActionFail("job_progress: interval is %s: it must be more than 0 seconds." % params["interval"])
        host = self._task.delegate_to or task_vars.get("inventory_hostname")
        signals = _Signals()
        signals.install()
        start = time.time()
        last_line = None
        try:
            ticks = 0
            while True:
                status = self._status(params["jid"], task_vars)
                if params["heartbeat"]:  # a watchdog on the host stops the job when this goes stale
                    self._module("ansible.builtin.command", {"argv": ["touch", "--", params["heartbeat"]]}, task_vars)
                if status.get("finished") or (status.get("failed") and not status.get("started")):
                    self._status(params["jid"], task_vars, "cleanup")
                    self._remove_progress_file(params, task_vars)
                    for key in ("ansible_job_id", "started", "finished", "results_file"):
                        status.pop(key, None)
                    status["progress_lines"] = ticks
                    return status
                # Sleep to the next tick in short steps, so a signal is acted on at once.
                ticks += 1
                while not signals.received and time.time() < start + ticks * params["interval"]:
                    time.sleep(0.2)
                if signals.received:
                    break
                elapsed = time.time() - start
                progress = self._stress_csv(params, task_vars, start - 2) or self._progress_file(params, task_vars)
                gpus = progress.get("gpus") or self._gpus(params, task_vars)
                last_line = _progress.line(params["name"], host, elapsed, params["expected_s"], progress, gpus)
                display.display(last_line)
            # Interrupted: stop the job and every worker, then write what was measured so far.
            elapsed = time.time() - start
            reason = signals.name
            display.display("%s on %s: %s received, stopping the job and its workers." % (params["name"], host, reason))
            job_result, leftover = self._stop(params, task_vars)
            entry = _progress.interrupted_entry(params["name"], reason, elapsed, params["expected_s"], last_line,
                                                job_result if job_result.get("checks") else None)
            self._remove_progress_file(params, task_vars)
            written = self._write_report(params, entry) or {}
            msg = entry["result"]["msg"]
            if leftover:
                msg += " %d process(es) had to be killed with SIGKILL." % leftover
            if written.get("failed"):
                msg += " The report could not be written: %s" % written["msg"]
            out = dict(entry["result"], failed=True, changed=False, msg=msg, report_files=written.get("files") or {},
                       killed_after_grace=leftover)
            if written.get("warnings"):
                out["warnings"] = written["warnings"]
            return out
        finally:
            signals.restore()
