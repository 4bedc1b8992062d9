# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the validation report from module results and write its machine formats (JSON, JUnit
XML). The formats people read (Markdown, HTML, PDF) are rendered on the controller from Jinja2
templates (``plugins/plugin_utils/_report_render.py``); the helpers here (value text, plot
geometry) are what those templates are given as filters.

Input: a list of entries, one per module run by the ``validation`` role::

    {"module": "gpu_facts", "result": <the registered module result>}
    {"module": "stress_gpu", "skipped_reason": "no NVIDIA GPU: ..."}

A module result follows the contract in ``_result.py``; it may also carry ``tables``
(``[{title, columns, rows}]``) and ``plots`` (``[{title, kind: line|bar, x_label, y_label,
series: {name: [[x, y], ...]}}]``) that the Markdown and HTML templates show.
"""

from __future__ import absolute_import, division, print_function

import json
import math
import os
from xml.sax.saxutils import escape, quoteattr

from ansible_collections.vaultcube.demobox.plugins.module_utils import _prometheus

SCHEMA_VERSION = 1
ERROR = "error"
ORDER = ("failed", ERROR, "passed", "info", "skipped")
ICONS = {"passed": "PASS", "failed": "FAIL", ERROR: "ERROR", "skipped": "SKIP", "info": "INFO"}
# Verdicts: a report is PASSED only when something was judged and nothing failed; a report in
# which no check ran says so instead of passing.
PASSED = "PASSED"
FAILED = "FAILED"
NOT_JUDGED = "NOT JUDGED"
NOTHING_MEASURED = "NOTHING MEASURED"


def _module_checks(entry):
    module = entry.get("module") or "unknown"
    if entry.get("skipped_reason"):
        return [{"name": module, "status": "skipped", "value": None, "threshold": None, "unit": None,
                 "message": entry["skipped_reason"]}]
    result = entry.get("result") or {}
    checks = list(result.get("checks") or [])
    if checks:
        return checks
    if result.get("skipped"):
        return [{"name": module, "status": "skipped", "value": None, "threshold": None, "unit": None,
                 "message": result.get("skip_reason") or "The task was skipped."}]
    # Every module of the contract returns at least one check when it ran; none means it could
    # not measure at all (bad parameter, crashed worker, missing framework). The role registers
    # results with failed_when: false, so the message, not the 'failed' flag, is what is left.
    return [{"name": module, "status": ERROR, "value": None, "threshold": None, "unit": None,
             "message": result.get("msg") or "The module returned no result."}]


SCALING_CHECK = "ddp_benchmark.scaling_efficiency"


def point_scaling_at_slowest_path(checks, modules):
    """A failed DDP scaling check names the slowest path gpu_bandwidth measured: on a box without
    NVLink every byte of the gradient all-reduce crosses it, so that is where to look first."""
    slowest = ((modules.get("gpu_bandwidth") or {}).get("metrics") or {}).get("slowest_path")
    if not slowest or not slowest.get("sentence"):
        return
    for check in checks:
        if check.get("name") == SCALING_CHECK and check.get("status") == "failed":
            text = slowest["sentence"]
            where = text[0].upper() + text[1:].rstrip(".")
            check["message"] = "%s Where to look: %s." % ((check.get("message") or "").rstrip(), where)


def build(entries, host, generated_at, metadata=None):
    """The report document (a dict, the JSON form)."""
    checks = []
    modules = {}
    for entry in entries:
        module = entry.get("module") or "unknown"
        result = entry.get("result") or {}
        for check in _module_checks(entry):
            row = dict(check)
            row["module"] = module
            checks.append(row)
        modules[module] = {
            "passed": result.get("passed"),
            "msg": entry.get("skipped_reason") or result.get("msg"),
            "skipped_reason": entry.get("skipped_reason"),
            "metrics": result.get("metrics") or {},
            "thresholds": result.get("thresholds") or {},
            "environment": result.get("environment") or {},
            "failures": result.get("failures") or [],
            "tables": result.get("tables") or [],
            "plots": result.get("plots") or [],
            "duration_s": entry.get("duration_s"),
        }
    point_scaling_at_slowest_path(checks, modules)
    summary = {status: 0 for status in ORDER}
    for check in checks:
        summary[check["status"]] = summary.get(check["status"], 0) + 1
    summary["total"] = len(checks)
    skipped = [{"check": c["name"], "module": c["module"], "reason": c.get("message") or "no reason given"}
               for c in checks if c["status"] == "skipped"]
    verdict, reason = judge(summary, skipped)
    return {
        "schema_version": SCHEMA_VERSION,
        "host": host,
        "generated_at": generated_at,
        "passed": {PASSED: True, FAILED: False}.get(verdict),
        "verdict": verdict,
        "verdict_reason": reason,
        "skipped_checks": skipped,
        # A run stopped by Ctrl-C or SIGTERM (the job_progress action writes that report).
        "interrupted": any(bool((entry.get("result") or {}).get("interrupted")) for entry in entries),
        "summary": summary,
        "failures": [c["message"] for c in checks if c["status"] in ("failed", ERROR)],
        "checks": checks,
        "modules": modules,
        "metadata": metadata or {},
    }


def judge(summary, skipped):
    """(verdict, one sentence): what the checks add up to, saying what was and was not measured.

    passed: something judged, nothing failed. failed: a check failed or could not run. not judged:
    figures measured but every threshold null. nothing measured: no check ran at all; the
    sentence names each skipped check and why.
    """
    if summary["failed"] or summary[ERROR]:
        return FAILED, "%d check(s) failed and %d could not run." % (summary["failed"], summary[ERROR])
    if summary["passed"]:
        text = "%d check(s) passed" % summary["passed"]
        if skipped:
            text += "; %d skipped (%s)" % (len(skipped), ", ".join(s["check"] for s in skipped))
        return PASSED, text + "."
    if summary["info"]:
        return NOT_JUDGED, "%d figure(s) measured, none judged: every threshold of the checks that ran is null." % summary["info"]
    if not skipped:
        return NOTHING_MEASURED, "Nothing was measured: no check ran."
    return NOTHING_MEASURED, "Nothing was measured: every check was skipped (%s)." % "; ".join(
        "%s: %s" % (s["check"], s["reason"].rstrip(".")) for s in skipped)


def to_json(report):
    return json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"


def _value_text(value, unit=None):
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.01:
            text = "%.3g" % value  # a relative error of 1.3e-06 is not 0.00
        else:
            text = "%.2f" % value if abs(value) < 1000 else "{:,.1f}".format(value)
    elif isinstance(value, (list, tuple)):
        text = ", ".join(_value_text(v) for v in value)
    elif isinstance(value, dict):
        text = ", ".join("%s=%s" % (k, _value_text(v)) for k, v in sorted(value.items()))
    else:
        text = str(value)
    if unit and value is not None:
        text += "" if unit == "%" else " "
        text += unit
    return text


def _threshold_text(threshold):
    if threshold is None:
        return "-"
    if isinstance(threshold, dict):
        names = {"min": ">=", "max": "<=", "equals": "==", "pattern": "~"}
        return ", ".join("%s %s" % (names.get(k, k), _value_text(v)) for k, v in sorted(threshold.items()))
    return _value_text(threshold)


def _flatten(prefix, value, out):
    if isinstance(value, dict):
        for key in sorted(value):
            _flatten("%s.%s" % (prefix, key) if prefix else str(key), value[key], out)
    else:
        out.append((prefix, value))
    return out


def to_junit(report):
    """One testsuite per host, one testcase per check (skipped/info carry their message)."""
    s = report["summary"]
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    out.append('<testsuites name="vaultcube.demobox.validation" tests="%d" failures="%d" errors="%d" skipped="%d">' % (
        s["total"], s["failed"], s[ERROR], s["skipped"]))
    out.append('  <testsuite name=%s tests="%d" failures="%d" errors="%d" skipped="%d" timestamp=%s>' % (
        quoteattr("validation.%s" % report["host"]), s["total"], s["failed"], s[ERROR], s["skipped"],
        quoteattr(str(report["generated_at"]))))
    for check in report["checks"]:
        duration = (report["modules"].get(check["module"]) or {}).get("duration_s")
        attrs = 'classname=%s name=%s' % (quoteattr("%s.%s" % (report["host"], check["module"])), quoteattr(check["name"]))
        if duration is not None:
            attrs += ' time="%.3f"' % float(duration)
        message = check.get("message") or ""
        status = check["status"]
        if status == "passed":
            out.append("    <testcase %s><system-out>%s</system-out></testcase>" % (attrs, escape(message)))
        elif status == "info":
            out.append("    <testcase %s><system-out>%s</system-out></testcase>" % (attrs, escape("[no threshold] " + message)))
        elif status == "skipped":
            out.append("    <testcase %s><skipped message=%s/></testcase>" % (attrs, quoteattr(message)))
        elif status == "failed":
            out.append("    <testcase %s><failure message=%s type=\"threshold\">%s</failure></testcase>" % (
                attrs, quoteattr(message), escape("value: %s; threshold: %s" % (
                    _value_text(check.get("value"), check.get("unit")), _threshold_text(check.get("threshold"))))))
        else:
            out.append("    <testcase %s><error message=%s type=\"error\"/></testcase>" % (attrs, quoteattr(message)))
    out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


# --- Plots: the geometry in Python, the drawing in the templates ----------------------------

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _nice_max(value):
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10 ** exp
        if top >= value:
            return float(top)
    return float(10 ** (exp + 1))


def _number(value):
    """A float for a plotted coordinate, or None for what cannot be drawn (null, NaN, text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _nice_ticks(low, high):
    """Round tick values (steps of 1, 2, 2.5 or 5 x 10^k) from ``low`` to ``high``, four to seven."""
    raw = (high - low) / 6.0
    exp = math.floor(math.log10(raw))
    step = next(m * 10 ** exp for m in (1, 2, 2.5, 5, 10) if m * 10 ** exp >= raw)
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


def _tick_labels(values):
    """Axis labels with as many decimals as the step between ticks needs (2,500 / 0.25 / 1e-05)."""
    step = round(min((abs(b - a) for a, b in zip(values, values[1:]) if b != a), default=1.0), 10)
    decimals = 0
    while decimals < 6 and not round(step * 10 ** decimals, 6).is_integer():
        decimals += 1
    return ["{:,.{prec}f}".format(v, prec=decimals) for v in values]


def plot_layout(plot, width=640, height=320):
    """Where everything of one plot spec goes, in SVG user units (a template draws it).

    ``plot`` is ``{title, kind: line|bar, x_label, y_label, series: {name: [[x, y], ...]}}``.
    The result holds plain numbers and strings only: ``frame`` (the plot area), ``yticks`` and
    ``xticks`` (``{pos, label}``), ``lines`` (``{name, color, points, markers}``), ``bars``
    (``{x, y, w, h, color, tip}``), ``legend`` (``{x, y, color, name}``) and ``empty`` when no
    point can be drawn.
    """
    kind = plot.get("kind") or "line"
    series = plot.get("series") or {}
    if not isinstance(series, dict):
        series = {}
    names = [str(name) for name in series]
    clean = {}
    for name, values in series.items():
        pts = []
        for point in values or []:
            if isinstance(point, (list, tuple)) and len(point) == 2 and _number(point[1]) is not None:
                pts.append((point[0], _number(point[1])))
        clean[str(name)] = pts
    # The legend sits between the title and the plot area, wrapping into rows.
    legend, lx, ly, left, right = [], 60, 36, 60, 20
    for index, name in enumerate(names):
        item_w = 18 + 6.5 * len(name) + 14
        if lx + item_w > width - right and lx > left:
            lx, ly = left, ly + 15
        legend.append({"x": lx, "y": ly, "color": PALETTE[index % len(PALETTE)], "name": name})
        lx += item_w
    top = (ly + 10) if names else 30
    bottom = 45
    frame = {"x": left, "y": top, "w": width - left - right, "h": max(40, height - top - bottom)}
    height = frame["y"] + frame["h"] + bottom
    layout = {"width": width, "height": height, "title": str(plot.get("title") or ""),
              "x_label": str(plot.get("x_label") or ""), "y_label": str(plot.get("y_label") or ""),
              "kind": kind, "frame": frame, "legend": legend, "yticks": [], "xticks": [], "lines": [],
              "bars": [], "empty": False}
    ys = [y for pts in clean.values() for _x, y in pts]
    xs = [_number(x) for pts in clean.values() for x, _y in pts]
    if not ys or (kind != "bar" and None in xs):
        layout["empty"] = True
        return layout
    ymax = _nice_max(max(ys))
    ymin = min([0.0] + ys)
    if ymax <= ymin:
        ymax = ymin + 1.0

    def sy(y):
        return round(frame["y"] + frame["h"] - (y - ymin) / (ymax - ymin) * frame["h"], 1)

    yvals = _nice_ticks(ymin, ymax)
    layout["yticks"] = [{"pos": sy(v), "label": label} for v, label in zip(yvals, _tick_labels(yvals))]
    if kind == "bar":
        labels = []
        for pts in clean.values():
            for x, _y in pts:
                if x not in labels:
                    labels.append(x)
        group = frame["w"] / float(max(1, len(labels)))
        bar_w = group * 0.8 / max(1, len(names))
        for si, name in enumerate(names):
            for x, y in clean[name]:
                x0 = frame["x"] + labels.index(x) * group + group * 0.1 + si * bar_w
                layout["bars"].append({
                    "x": round(x0, 1), "y": min(sy(y), sy(0.0)), "w": round(bar_w, 1), "h": round(abs(sy(0.0) - sy(y)), 1),
                    "color": PALETTE[si % len(PALETTE)], "tip": "%s %s: %s" % (name, x, _value_text(y))})
        layout["xticks"] = [{"pos": round(frame["x"] + (i + 0.5) * group, 1), "label": str(label)}
                            for i, label in enumerate(labels)]
        return layout
    xmin, xmax = min(xs), max(xs)
    if xmax == xmin:
        xmax = xmin + 1.0

    def sx(x):
        return round(frame["x"] + (x - xmin) / (xmax - xmin) * frame["w"], 1)

    distinct = sorted(set(xs))
    if len(distinct) <= 12 and xmax - xmin <= 16 and all(x.is_integer() for x in distinct):
        xvals = distinct  # world sizes, GPU counts: label the values that were measured
    else:
        xvals = _nice_ticks(xmin, xmax)
    layout["xticks"] = [{"pos": sx(v), "label": label} for v, label in zip(xvals, _tick_labels(xvals))]
    for si, name in enumerate(names):
        pts = [(sx(_number(x)), sy(y)) for x, y in clean[name]]
        layout["lines"].append({
            "name": name, "color": PALETTE[si % len(PALETTE)],
            "points": " ".join("%.1f,%.1f" % p for p in pts),
            # A few points are easier to read with a dot on each.
            "markers": [{"x": x, "y": y} for x, y in pts] if len(pts) <= 16 else []})
    return layout


# The formats rendered here, wherever this runs (the module on a host, the action on the controller).
RENDERERS = {
    "json": ("json", to_json),
    "junit": ("xml", to_junit),
    # node_exporter's textfile collector (not among the default formats: it belongs on the host).
    "prometheus": ("prom", _prometheus.report_textfile),
}
# Every format and its file suffix. Markdown and HTML are rendered from the collection's Jinja2
# templates and the PDF printed from the HTML by Chromium, all on the controller
# (plugins/plugin_utils/_report_render.py): a module on a host has neither the templates nor Chromium.
FORMATS = {"json": "json", "markdown": "md", "junit": "xml", "html": "html", "prometheus": "prom", "pdf": "pdf"}
CONTROLLER_FORMATS = ("markdown", "html", "pdf")
DEFAULT_FORMATS = ["json", "markdown", "junit", "html"]
CONTROLLER_ONLY = ("markdown, html and pdf are rendered on the controller: write them with the task delegated to "
                   "localhost (as the validation role does); json, junit and prometheus can be written on any host.")

# The options of validation_report (the module and its action; documented in plugins/modules/validation_report.py).
ARGUMENT_SPEC = dict(
    results=dict(type="list", elements="dict", required=True),
    dest=dict(type="path", required=True),
    host=dict(type="str", required=True),
    basename=dict(type="str", default="validation-report"),
    formats=dict(type="list", elements="str", choices=list(FORMATS), default=DEFAULT_FORMATS),
    metadata=dict(type="dict", default={}),
    mode=dict(type="str", default="0644"),
    template_dir=dict(type="path"),
    chromium=dict(type="str"),
)


def check_entries(results):
    """None, or the sentence about the first malformed entry of ``results``."""
    for index, entry in enumerate(results):
        if not entry.get("module"):
            return "results[%d] has no 'module' name." % index
        if "result" not in entry and "skipped_reason" not in entry:
            return "results[%d] (%s) needs either 'result' or 'skipped_reason'." % (index, entry["module"])
        if "result" in entry and not isinstance(entry["result"], dict):
            return "results[%d] (%s): 'result' must be a module result (a dict)." % (index, entry["module"])
    return None


def check_options(params):
    """(file mode as an int, None) or (None, the sentence about the first bad option)."""
    if "/" in params["basename"] or params["basename"].strip(".") == "":
        return None, ("basename must be a file name without a slash, such as validation-report, not '%s'."
                      % params["basename"])
    try:
        mode = int(str(params["mode"]), 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        return None, "mode must be an octal file mode such as 0644, not %s." % params["mode"]
    return mode, None


def summary_msg(report):
    s = report["summary"]
    return "Report %s for %s: %d passed, %d failed, %d errors, %d skipped, %d info. %s" % (
        report["verdict"], report["host"], s["passed"], s["failed"], s[ERROR], s["skipped"], s["info"],
        report["verdict_reason"])


def task_result(report, files, changed):
    """What validation_report returns (the module and the action alike)."""
    return {"changed": changed, "passed": report["passed"], "verdict": report["verdict"],
            "verdict_reason": report["verdict_reason"], "skipped_checks": report["skipped_checks"],
            "summary": report["summary"], "failures": report["failures"], "files": files, "report": report,
            "msg": summary_msg(report)}


def write(report, dest, basename, formats, mode=0o644, dry_run=False):
    """Write ``report`` in each of ``formats`` (those of RENDERERS) into ``dest`` (made if missing).

    Returns (files by format, changed). A file whose content would not change is not rewritten.
    Used by the validation_report module (on the host it runs on) and by the controller's writer
    for these formats. Raises OSError (its filename the directory or the file) when ``dest``
    cannot be made or a file cannot be written.
    """
    files, changed = {}, False
    if not dry_run and not os.path.isdir(dest):
        os.makedirs(dest)
    for fmt in formats:
        suffix, render = RENDERERS[fmt]
        path = os.path.join(dest, "%s.%s" % (basename, suffix))
        files[fmt] = path
        data = render(report).encode("utf-8")
        if not dry_run:
            try:
                changed |= _prometheus.write_atomically(path, data, mode, unless_same=True)
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, path)  # say which file
    return files, changed
