# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the fleet report on the controller (the fleet_report action) and the baseline file
(the fleet_calibrate action).

The aggregation is ``module_utils/_fleet.py``; this file reads each host's validation report
JSON and history from the report directory, renders Markdown and HTML from
``templates/report/fleet-report.{md,html}.j2`` with the validation report's renderer
(``_report_render``: same filters, same plot macros), and writes every file atomically with
``_prometheus.write_atomically``.
"""

from __future__ import absolute_import, division, print_function

import datetime
import json
import os

from ansible.plugins.action import ActionBase

from ansible_collections.vaultcube.demobox.plugins.module_utils import _fleet, _prometheus
from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _report_render

FORMATS = _fleet.FORMATS
BASENAME = "fleet-report"
ARGUMENT_SPEC = _fleet.ARGUMENT_SPEC
CALIBRATE_SPEC = _fleet.CALIBRATE_SPEC


def collection_version():
    """The version of the collection doing the validation (MANIFEST.json when installed, else galaxy.yml)."""
    root = _report_render.COLLECTION_ROOT
    try:
        with open(os.path.join(root, "MANIFEST.json")) as handle:
            return json.load(handle)["collection_info"]["version"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        with open(os.path.join(root, "galaxy.yml")) as handle:
            for line in handle:
                if line.startswith("version:"):
                    return line.split(":", 1)[1].strip().strip("\"'")
    except OSError:
        pass
    return None


def _read_json(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        return None, "its report %s could not be read (%s)" % (path, getattr(exc, "strerror", None) or exc)
    if not isinstance(data, dict) or "checks" not in data:
        return None, "%s is not a validation report" % path
    return data, None


def _stale(report, since):
    """True when ``report`` was generated before this run started (an earlier run's file)."""
    if not since:
        return False
    return str(report.get("generated_at") or "") < str(since)


def host_entries(params):
    """The host entries for ``_fleet.aggregate``, each report read from its JSON file, and the
    report directory of each host ({host: dir}) for its history."""
    reachable = params.get("reachable")
    info = params.get("host_info") or {}
    entries, dirs = [], {}
    version = collection_version()
    for host in params["hosts"]:
        item = info.get(host) or {}
        if not isinstance(item, dict):
            raise _fleet.FleetError("host_info[%s] must be a mapping (status, message, report, image_version)." % host)
        extra = {"image": item.get("image_version"), "collection": version}
        report_path = item.get("report")
        status = item.get("status") or "ok"
        message = item.get("message")
        if reachable is not None and host not in reachable:
            status = "unreachable"
            message = message or "%s could not be reached (it dropped out of the play: see the play's output)." % host
        report = None
        if report_path:
            dirs[host] = os.path.dirname(report_path)
            if os.path.exists(report_path):
                report, why = _read_json(report_path)
                if report is not None and _stale(report, params.get("since")):
                    report = None
                    why = "its report %s is from an earlier run" % report_path
                if report is None and status == "ok":
                    status, message = "failed", "%s wrote no usable report: %s." % (host, why)
            elif status == "ok":
                status, message = "failed", "%s wrote no JSON report (%s is missing: keep json in validation_report_formats)." % (
                    host, report_path)
        elif status == "ok":
            status, message = "failed", "%s wrote no report." % host
        entries.append({"host": host, "status": status, "message": message, "report": report, "extra_versions": extra})
    return entries, dirs


def _previous_runs(host_dir, report):
    runs = _fleet.read_history(host_dir)
    stamp = (report or {}).get("generated_at")
    return [r for r in runs if r.get("generated_at") != stamp]


def write_fleet(params, check_mode=False, now=None):
    """Aggregate, render and write the fleet report; record each host's run in its history."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    generated = now.replace(microsecond=0).isoformat()
    if params["history_keep"] < 1:
        return {"failed": True, "msg": "history_keep must be 1 or more runs, not %d." % params["history_keep"]}
    try:
        entries, dirs = host_entries(params)
        reports = dict((e["host"], e["report"]) for e in entries)
        histories = dict((h, _previous_runs(d, reports[h])) for h, d in dirs.items())
        doc = _fleet.aggregate(entries, generated, tolerance_pct=params["tolerance_pct"],
                               tolerances=params["tolerances"], baseline=params.get("baseline") or None,
                               histories=histories, metadata={"collection_version": collection_version(),
                                                              "hosts": len(entries)})
    except _fleet.FleetError as exc:
        return {"failed": True, "msg": str(exc)}
    formats = list(dict.fromkeys(params["formats"]))
    rendered = {}
    try:
        env = _report_render.template_env(params.get("template_dir"))
        env.filters.update(_fleet.FILTERS)
        for fmt in formats:
            if fmt == "json":
                rendered[fmt] = _fleet.to_json(doc)
            elif fmt == "junit":
                rendered[fmt] = _fleet.to_junit(doc, reports)
            else:
                rendered[fmt] = _report_render.render(doc, fmt, stem=BASENAME, template_dir=params.get("template_dir"),
                                                      env=env)
    except _report_render.ReportError as exc:
        return {"failed": True, "msg": str(exc)}
    dest = params["dest"]
    files = dict((fmt, os.path.join(dest, "%s.%s" % (BASENAME, FORMATS[fmt]))) for fmt in formats)
    changed = False
    history_files = {}
    if not check_mode:
        try:
            if not os.path.isdir(dest):
                os.makedirs(dest)
            for fmt in formats:
                changed |= _prometheus.write_atomically(files[fmt], rendered[fmt], unless_same=True)
            for entry in entries:
                if entry["report"] is None or entry["host"] not in dirs:
                    continue
                record = _fleet.history_record(entry["host"], entry["status"], entry["report"], entry["extra_versions"])
                history_files[entry["host"]] = _fleet.write_history(dirs[entry["host"]], record, params["history_keep"])
                changed = True
        except OSError as exc:
            return {"failed": True, "msg": "Cannot write the fleet report in %s: %s." % (
                getattr(exc, "filename", None) or dest, exc.strerror or exc)}
    return {"changed": changed, "passed": doc["passed"], "verdict": doc["verdict"], "verdict_reason": doc["verdict_reason"],
            "counts": doc["counts"], "outliers": doc["outliers"], "drift": doc["drift"], "files": files,
            "history": history_files, "report": doc, "msg": _fleet.summary_msg(doc)}


def _load_yaml_baseline(path):
    """The vaultcube_fleet_baseline of an earlier baseline file, or None."""
    try:
        import yaml
        with open(path) as handle:
            data = yaml.safe_load(handle)
    except (OSError, ImportError, ValueError):
        return None
    except Exception:  # yaml.YAMLError: an unreadable earlier file is simply not compared
        return None
    return (data or {}).get("vaultcube_fleet_baseline") if isinstance(data, dict) else None


def write_baseline(params, check_mode=False, now=None):
    """Read the fleet report JSON, calibrate and write the group_vars file; say what moved."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        with open(params["fleet_report"]) as handle:
            doc = json.load(handle)
    except (OSError, ValueError) as exc:
        return {"failed": True, "msg": "The fleet report %s could not be read (%s): run the validation first "
                "(the calibrate playbook does)." % (params["fleet_report"], getattr(exc, "strerror", None) or exc)}
    previous = _load_yaml_baseline(params["dest"])
    try:
        base = _fleet.calibrate(doc, source=params["source"], margin_pct=params["margin_pct"],
                                date=now.replace(microsecond=0).isoformat(), previous=previous)
    except _fleet.FleetError as exc:
        return {"failed": True, "msg": str(exc)}
    text = _fleet.baseline_yaml(base, collection_version())
    changed = False
    if not check_mode:
        folder = os.path.dirname(os.path.abspath(params["dest"]))
        try:
            if not os.path.isdir(folder):
                os.makedirs(folder)
            changed = _prometheus.write_atomically(params["dest"], text, unless_same=True)
        except OSError as exc:
            return {"failed": True, "msg": "Cannot write the baseline %s: %s." % (params["dest"], exc.strerror or exc)}
    moved = ["%s: %s -> %s%s" % (m["check"], m["previous"], m["value"],
                                 " (%+.1f%%)" % m["change_pct"] if m["change_pct"] is not None else "")
             for m in base["moved"]] if previous else []
    msg = "Baseline from %s written to %s: %d figure(s), %d threshold variable(s), margin %g%%." % (
        "the fleet median" if base["source"] == "median" else base["source"], params["dest"], len(base["figures"]),
        len(base["thresholds"]), base["margin_pct"])
    if previous:
        msg += " Moved since the previous baseline: %s." % ("; ".join(moved) if moved else "nothing")
    return {"changed": changed, "baseline": base, "moved": moved, "file": params["dest"], "msg": msg}


class ControllerAction(ActionBase):
    """The fleet actions (fleet_report, fleet_calibrate): check the arguments, refuse to run anywhere
    but on the controller (they read every host's report there), then call the writer.
    A subclass sets ARGUMENT_SPEC, CONTROLLER_ONLY (the refusal) and WRITER (params, check_mode)."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC = None
    CONTROLLER_ONLY = None
    WRITER = None

    def run(self, tmp=None, task_vars=None):
        result = super(ControllerAction, self).run(tmp, task_vars)
        del tmp
        params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)[1]
        if self._connection.transport != "local":
            result.update(failed=True, msg=self.CONTROLLER_ONLY)
            return result
        result.update(self.WRITER(params, check_mode=bool(self._task.check_mode)))
        return result
