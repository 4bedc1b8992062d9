# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the validation report from module results and render it as JSON, Markdown, JUnit XML
and HTML (with inline SVG plots, so the file needs nothing else to be read).

Input: a list of entries, one per module run by the ``validation`` role::

    {"module": "gpu_facts", "result": <the registered module result>}
    {"module": "stress_gpu", "skipped_reason": "no NVIDIA GPU: ..."}

A module result follows the contract in ``_result.py``; it may also carry ``tables``
(``[{title, columns, rows}]``) and ``plots`` (``[{title, kind: line|bar, x_label, y_label,
series: {name: [[x, y], ...]}}]``) that the Markdown and HTML renderings show.
"""

from __future__ import absolute_import, division, print_function

import json
import math
import os
import tempfile
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


def _md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _flatten(prefix, value, out):
    if isinstance(value, dict):
        for key in sorted(value):
            _flatten("%s.%s" % (prefix, key) if prefix else str(key), value[key], out)
    else:
        out.append((prefix, value))
    return out


def to_markdown(report):
    lines = []
    verdict = report["verdict"]
    s = report["summary"]
    lines.append("# Validation report: %s" % report["host"])
    lines.append("")
    lines.append("**%s** - %d checks: %d passed, %d failed, %d errors, %d skipped, %d reported without a threshold." % (
        verdict, s["total"], s["passed"], s["failed"], s[ERROR], s["skipped"], s["info"]))
    lines.append("")
    lines.append(report["verdict_reason"])
    lines.append("")
    lines.append("Generated %s." % report["generated_at"])
    meta = report.get("metadata") or {}
    if meta:
        lines.append("")
        for key in sorted(meta):
            lines.append("- %s: %s" % (key, _value_text(meta[key])))
    if report["failures"]:
        lines.append("")
        lines.append("## Failures")
        lines.append("")
        for failure in report["failures"]:
            lines.append("- %s" % failure)
    lines.append("")
    lines.append("## Checks")
    lines.append("")
    lines.append("| status | check | value | threshold | detail |")
    lines.append("| --- | --- | --- | --- | --- |")
    for check in report["checks"]:
        lines.append("| %s | %s | %s | %s | %s |" % (
            ICONS.get(check["status"], check["status"]), _md_cell(check["name"]),
            _md_cell(_value_text(check.get("value"), check.get("unit"))),
            _md_cell(_threshold_text(check.get("threshold"))), _md_cell(check.get("message") or "")))
    for name, module in report["modules"].items():
        lines.append("")
        lines.append("## %s" % name)
        lines.append("")
        if module.get("msg"):
            lines.append(module["msg"])
            lines.append("")
        for table in module.get("tables") or []:
            lines.append("### %s" % table.get("title", "Table"))
            lines.append("")
            cols = table.get("columns") or []
            lines.append("| %s |" % " | ".join(_md_cell(c) for c in cols))
            lines.append("| %s |" % " | ".join(["---"] * len(cols)))
            for row in table.get("rows") or []:
                lines.append("| %s |" % " | ".join(_md_cell(_value_text(v)) for v in row))
            lines.append("")
        for title, data in (("Metrics", module.get("metrics")), ("Environment", module.get("environment"))):
            flat = _flatten("", data or {}, [])
            if not flat:
                continue
            lines.append("<details><summary>%s</summary>" % title)
            lines.append("")
            lines.append("| key | value |")
            lines.append("| --- | --- |")
            for key, value in flat:
                lines.append("| %s | %s |" % (_md_cell(key), _md_cell(_value_text(value))))
            lines.append("")
            lines.append("</details>")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


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


# --- HTML with inline SVG plots -------------------------------------------------------------

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _nice_max(value):
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10 ** exp
        if top >= value:
            return float(top)
    return float(10 ** (exp + 1))


def svg_plot(plot, width=640, height=320):
    """Render one plot spec as an SVG string (line or bar chart)."""
    kind = plot.get("kind", "line")
    series = plot.get("series") or {}
    left, right, top, bottom = 60, 20, 30, 45
    pw, ph = width - left - right, height - top - bottom
    # A bar chart's x values are labels (a GPU, a pair); a line chart's are numbers.
    points = [(x if kind == "bar" else float(x), float(y)) for values in series.values() for x, y in values
              if y is not None]
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">' % (
        width, height, width, height)]
    parts.append('<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>' % (left, escape(plot.get("title", ""))))
    if not points:
        parts.append('<text x="%d" y="%d">no data</text></svg>' % (left, top + ph // 2))
        return "".join(parts)
    ymax = _nice_max(max(p[1] for p in points))
    ymin = min(0.0, min(p[1] for p in points))
    if kind == "bar":
        labels = []
        for values in series.values():
            for point in values:
                x = point[0]
                if x not in labels:
                    labels.append(x)
        xmin, xmax = 0.0, float(len(labels))
    else:
        xmin = min(p[0] for p in points)
        xmax = max(p[0] for p in points)
        if xmax == xmin:
            xmax = xmin + 1.0

    def sx(x):
        return left + (x - xmin) / (xmax - xmin) * pw

    def sy(y):
        return top + ph - (y - ymin) / (ymax - ymin) * ph

    parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>' % (left, top, pw, ph))
    for i in range(5):
        yv = ymin + (ymax - ymin) * i / 4.0
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>' % (left, left + pw, sy(yv), sy(yv)))
        parts.append('<text x="%d" y="%.1f" font-size="10" text-anchor="end">%s</text>' % (left - 4, sy(yv) + 3, _value_text(yv)))
    parts.append('<text x="%d" y="%d" font-size="11" text-anchor="middle">%s</text>' % (
        left + pw // 2, height - 8, escape(plot.get("x_label", ""))))
    parts.append('<text x="12" y="%d" font-size="11" transform="rotate(-90 12 %d)" text-anchor="middle">%s</text>' % (
        top + ph // 2, top + ph // 2, escape(plot.get("y_label", ""))))
    names = list(series)
    if kind == "bar":
        group = pw / max(1.0, xmax)
        bar_width = group * 0.8 / max(1, len(names))
        for si, name in enumerate(names):
            color = _PALETTE[si % len(_PALETTE)]
            for x, y in series[name]:
                if y is None:
                    continue
                xi = labels.index(x)
                x0 = left + xi * group + group * 0.1 + si * bar_width
                parts.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>' % (
                    x0, sy(y), bar_width, max(0.0, sy(ymin) - sy(y)), color, escape(name), escape(str(x)), _value_text(y)))
        for xi, label in enumerate(labels):
            parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>' % (
                left + (xi + 0.5) * group, top + ph + 14, escape(str(label))))
    else:
        for i in range(5):
            xv = xmin + (xmax - xmin) * i / 4.0
            parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>' % (
                sx(xv), top + ph + 14, _value_text(xv)))
        for si, name in enumerate(names):
            color = _PALETTE[si % len(_PALETTE)]
            pts = " ".join("%.1f,%.1f" % (sx(float(x)), sy(float(y))) for x, y in series[name] if y is not None)
            parts.append('<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>' % (color, pts))
    for si, name in enumerate(names):
        color = _PALETTE[si % len(_PALETTE)]
        lx = left + 10 + (si % 4) * 140
        ly = top + 12 + (si // 4) * 14
        parts.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>' % (
            lx, ly - 9, color, lx + 14, ly, escape(name)))
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.passed{background:#e6f4ea}.failed,.error{background:#fce8e6}.skipped{background:#f1f3f4}.info{background:#e8f0fe}
.verdict-pass{color:#137333}.verdict-fail{color:#c5221f}details{margin:.5em 0}
"""


def to_html(report):
    s = report["summary"]
    verdict = report["verdict"]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>Validation report: %s</title><style>%s</style></head><body>" % (escape(report["host"]), _CSS)]
    out.append("<h1>Validation report: %s</h1>" % escape(report["host"]))
    out.append('<p class="%s"><strong>%s</strong> - %d checks: %d passed, %d failed, %d errors, %d skipped, %d info.</p>' % (
        "verdict-pass" if report["passed"] else "verdict-fail", verdict, s["total"], s["passed"], s["failed"],
        s[ERROR], s["skipped"], s["info"]))
    out.append("<p>%s</p>" % escape(report["verdict_reason"]))
    out.append("<p>Generated %s.</p>" % escape(str(report["generated_at"])))
    if report["failures"]:
        out.append("<h2>Failures</h2><ul>%s</ul>" % "".join("<li>%s</li>" % escape(f) for f in report["failures"]))
    out.append("<h2>Checks</h2><table><tr><th>status</th><th>check</th><th>value</th><th>threshold</th><th>detail</th></tr>")
    for check in report["checks"]:
        out.append('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            check["status"], ICONS.get(check["status"], check["status"]), escape(check["name"]),
            escape(_value_text(check.get("value"), check.get("unit"))), escape(_threshold_text(check.get("threshold"))),
            escape(check.get("message") or "")))
    out.append("</table>")
    for name, module in report["modules"].items():
        out.append("<h2>%s</h2>" % escape(name))
        if module.get("msg"):
            out.append("<p>%s</p>" % escape(module["msg"]))
        for table in module.get("tables") or []:
            out.append("<h3>%s</h3><table><tr>%s</tr>" % (
                escape(table.get("title", "")), "".join("<th>%s</th>" % escape(str(c)) for c in table.get("columns") or [])))
            for row in table.get("rows") or []:
                out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % escape(_value_text(v)) for v in row))
            out.append("</table>")
        for plot in module.get("plots") or []:
            out.append("<div>%s</div>" % svg_plot(plot))
        for title, data in (("Metrics", module.get("metrics")), ("Environment", module.get("environment"))):
            flat = _flatten("", data or {}, [])
            if flat:
                out.append("<details><summary>%s</summary><table>%s</table></details>" % (title, "".join(
                    "<tr><td>%s</td><td>%s</td></tr>" % (escape(k), escape(_value_text(v))) for k, v in flat)))
    meta = report.get("metadata") or {}
    if meta:
        out.append("<h2>Run</h2><table>%s</table>" % "".join(
            "<tr><td>%s</td><td>%s</td></tr>" % (escape(k), escape(_value_text(meta[k]))) for k in sorted(meta)))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


RENDERERS = {
    "json": ("json", to_json),
    "markdown": ("md", to_markdown),
    "junit": ("xml", to_junit),
    "html": ("html", to_html),
    # node_exporter's textfile collector (not among the default formats: it belongs on the host).
    "prometheus": ("prom", _prometheus.report_textfile),
}
DEFAULT_FORMATS = ["json", "markdown", "junit", "html"]


def _same_content(path, data):
    try:
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def write(report, dest, basename, formats, mode=0o644, dry_run=False):
    """Write ``report`` in each of ``formats`` into ``dest`` (made if missing), each file atomically.

    Returns (files by format, changed). A file whose content would not change is not rewritten.
    Used by the validation_report module and by the job_progress action (the report of an
    interrupted run). Raises OSError when ``dest`` cannot be made or written.
    """
    files, changed = {}, False
    if not dry_run and not os.path.isdir(dest):
        os.makedirs(dest)
    for fmt in formats:
        suffix, render = RENDERERS[fmt]
        path = os.path.join(dest, "%s.%s" % (basename, suffix))
        files[fmt] = path
        data = render(report).encode("utf-8")
        if dry_run or _same_content(path, data):
            continue
        fd, tmp = tempfile.mkstemp(dir=dest, prefix=".%s." % basename)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
        changed = True
    return files, changed
