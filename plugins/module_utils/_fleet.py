# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: many hosts' validation reports judged as one.

Pure functions on data (no Ansible, no Jinja2), so the fleet_report and fleet_calibrate actions,
the unit tests and the aggregation benchmark (scripts/fleet_bench.py) share them:

- ``headline(report)``: the figures of one host report that can be compared across hosts (a
  number, with a direction: higher is better or lower is better);
- ``versions(report, extra)``: driver, CUDA, torch, vLLM, kernel, OS, image and collection versions;
- ``aggregate(hosts, ...)``: the fleet document (host x check matrix, outliers against the fleet
  median and the baseline, version drift, change since each host's previous run, plots);
- ``history_record`` / ``read_history`` / ``write_history``: each host's earlier runs, a bounded
  number of small JSON files under its report directory;
- ``to_junit``: one testsuite per host;
- ``calibrate``: a baseline (figures and thresholds with margins) from one host or the median.

A host entry given to ``aggregate`` is ``{host, status: ok|failed|unreachable, message, report,
extra_versions}``; ``report`` is the host's validation report document (``_report.build``) or None.
"""

from __future__ import absolute_import, division, print_function

import json
import math
import os
import re
from xml.sax.saxutils import escape, quoteattr

SCHEMA_VERSION = 1
STATUSES = ("ok", "failed", "unreachable")
HIGHER, LOWER = "higher", "lower"
# Units whose figures are better when higher / lower, for checks that carry no min/max threshold.
HIGHER_UNITS = ("samples/s", "tokens/s", "tok/s", "TFLOP/s", "GB/s", "GiB/s", "MB/s", "requests/s", "req/s")
LOWER_UNITS = ("C", "ms", "us", "\u00b5s")
# Version drift: component -> where it is read, first found wins (module environment keys, then
# the report's metadata).
VERSION_SOURCES = (
    ("driver", (("gpu_facts", "driver_version"), ("frameworks", "driver_version"), ("stress_gpu", "driver_version"))),
    ("cuda", (("gpu_facts", "cuda_driver_version"), ("frameworks", "cuda_driver_version"), ("ddp_benchmark", "cuda"))),
    ("torch", (("frameworks", "frameworks.torch.version"), ("ddp_benchmark", "torch"), ("stress_gpu", "torch"),
               ("gpu_bandwidth", "torch"))),
    ("vllm", (("frameworks", "frameworks.vllm.version"), ("vllm_bench", "vllm"))),
)
METADATA_VERSIONS = (("kernel", "kernel"), ("os", "os"))
DEFAULT_TOLERANCE_PCT = 10.0
DEFAULT_HISTORY_KEEP = 10
MIN_HOSTS_FOR_MEDIAN = 3
FORMATS = {"json": "json", "markdown": "md", "junit": "xml", "html": "html"}
CONTROLLER_ONLY = "%s runs on the controller only, through its action plugin: delegate the task to localhost."

# The options of fleet_report and fleet_calibrate (documented in plugins/modules/fleet_*.py).
ARGUMENT_SPEC = dict(
    hosts=dict(type="list", elements="str", required=True),
    reachable=dict(type="list", elements="str"),
    host_info=dict(type="dict", default={}),
    dest=dict(type="path", required=True),
    formats=dict(type="list", elements="str", choices=list(FORMATS), default=list(FORMATS)),
    tolerance_pct=dict(type="raw", default=DEFAULT_TOLERANCE_PCT),
    tolerances=dict(type="raw", default={}),
    baseline=dict(type="raw"),
    history_keep=dict(type="int", default=DEFAULT_HISTORY_KEEP),
    since=dict(type="str"),
    template_dir=dict(type="path"),
)
CALIBRATE_SPEC = dict(
    fleet_report=dict(type="path", required=True),
    dest=dict(type="path", required=True),
    source=dict(type="str", default="median"),
    margin_pct=dict(type="raw", default=10),
)


class FleetError(Exception):
    """One sentence: the input cannot be aggregated as asked."""


# --- Inputs ------------------------------------------------------------------------------------

def check_percent(name, value, low=0.0, high=1000.0):
    """The value as a float, or FleetError with one sentence (a type or an impossible %)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FleetError("%s must be a number of percent such as 10, not %s." % (name, type(value).__name__))
    try:
        number = float(str(value).strip().rstrip("%"))
    except ValueError:
        raise FleetError("%s must be a number of percent such as 10, not '%s'." % (name, value))
    if math.isnan(number) or not low < number <= high:
        raise FleetError("%s must be more than %g and at most %g percent, not %s." % (name, low, high, value))
    return number


def check_tolerances(tolerance_pct, tolerances):
    """(default %, {check: %}) checked; FleetError names the first bad one."""
    default = check_percent("tolerance_pct", tolerance_pct)
    if tolerances is None:
        return default, {}
    if not isinstance(tolerances, dict):
        raise FleetError("tolerances must be a mapping of check name to percent, such as "
                         "{ddp_benchmark.throughput: 5}, not %s." % type(tolerances).__name__)
    return default, dict((str(k), check_percent("tolerances[%s]" % k, v)) for k, v in tolerances.items())


def check_hosts(hosts):
    """FleetError with one sentence about the first malformed host entry."""
    if not isinstance(hosts, list):
        raise FleetError("hosts must be a list of host entries, not %s." % type(hosts).__name__)
    seen = set()
    for index, entry in enumerate(hosts):
        if not isinstance(entry, dict) or not isinstance(entry.get("host"), str) or not entry.get("host"):
            raise FleetError("hosts[%d] must be a mapping with a host name under 'host'." % index)
        if entry["host"] in seen:
            raise FleetError("hosts[%d]: %s is listed twice." % (index, entry["host"]))
        seen.add(entry["host"])
        if entry.get("status", "ok") not in STATUSES:
            raise FleetError("hosts[%d] (%s): status must be one of %s, not '%s'." % (
                index, entry["host"], ", ".join(STATUSES), entry.get("status")))
        if entry.get("report") is not None and not isinstance(entry.get("report"), dict):
            raise FleetError("hosts[%d] (%s): report must be a validation report (a mapping)." % (index, entry["host"]))


# --- One host's figures and versions ------------------------------------------------------------

def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def direction(check):
    """HIGHER, LOWER or None: which way a check's figure is better."""
    threshold = check.get("threshold")
    if isinstance(threshold, dict):
        keys = set(threshold) & {"min", "max"}
        if keys == {"min"}:
            return HIGHER
        if keys == {"max"}:
            return LOWER
    unit = check.get("unit")
    if unit in HIGHER_UNITS:
        return HIGHER
    if unit in LOWER_UNITS:
        return LOWER
    return None


def headline(report):
    """{check name: {value, unit, direction, status}} of the figures that compare across hosts."""
    out = {}
    for check in (report or {}).get("checks") or []:
        value = _number(check.get("value"))
        way = direction(check)
        if value is None or way is None or check.get("status") not in ("passed", "failed", "info"):
            continue
        out[check["name"]] = {"value": value, "unit": check.get("unit"), "direction": way, "status": check["status"]}
    return out


def _dig(data, dotted):
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def versions(report, extra=None):
    """{component: version string or None}."""
    modules = (report or {}).get("modules") or {}
    out = {}
    for component, sources in VERSION_SOURCES:
        out[component] = None
        for module, key in sources:
            found = _dig((modules.get(module) or {}).get("environment") or {}, key)
            if found not in (None, ""):
                out[component] = str(found)
                break
    metadata = (report or {}).get("metadata") or {}
    for component, key in METADATA_VERSIONS:
        out[component] = str(metadata[key]).strip() if metadata.get(key) not in (None, "") else None
    for key, value in (extra or {}).items():
        out[key] = None if value in (None, "") else str(value)
    return out


# --- Statistics ---------------------------------------------------------------------------------

def median(values):
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def deviation_pct(value, reference):
    """Percent from ``reference`` (signed), or None when the reference is 0 (no percent exists)."""
    if reference is None or reference == 0:
        return None
    return (value - reference) / abs(reference) * 100.0


def _is_bad(way, pct, tolerance):
    return pct is not None and ((way == HIGHER and pct < -tolerance) or (way == LOWER and pct > tolerance))


def _fmt(value, unit=None):
    text = ("%.4g" % value) if abs(value) < 10000 else "{:,.0f}".format(value)
    return text + ((" " + unit) if unit and unit != "%" else (unit or ""))


# --- History ------------------------------------------------------------------------------------

HISTORY_DIR = "history"
_HISTORY_NAME = re.compile(r"^run-[0-9TZ:+.-]+\.json$")


def history_record(host, status, report, extra_versions=None, generated_at=None):
    """What a host keeps of one run: verdict, headline figures and versions (a few hundred bytes)."""
    return {"schema_version": SCHEMA_VERSION, "host": host, "status": status,
            "generated_at": generated_at or (report or {}).get("generated_at"),
            "verdict": (report or {}).get("verdict"),
            "figures": dict((k, v["value"]) for k, v in headline(report).items()),
            "versions": versions(report, extra_versions) if report else dict(extra_versions or {})}


def _safe_stamp(stamp):
    return re.sub(r"[^0-9A-Za-z:+.-]", "-", str(stamp))


def read_history(host_dir):
    """The host's earlier runs, oldest first (unreadable files are passed over)."""
    folder = os.path.join(host_dir, HISTORY_DIR)
    try:
        names = sorted(n for n in os.listdir(folder) if _HISTORY_NAME.match(n))
    except OSError:
        return []
    runs = []
    for name in names:
        try:
            with open(os.path.join(folder, name)) as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            runs.append(data)
    return runs


def write_history(host_dir, record, keep=DEFAULT_HISTORY_KEEP):
    """Add ``record`` to the host's history and drop the oldest beyond ``keep``; the path written."""
    folder = os.path.join(host_dir, HISTORY_DIR)
    if not os.path.isdir(folder):
        os.makedirs(folder)
    path = os.path.join(folder, "run-%s.json" % _safe_stamp(record.get("generated_at") or "unknown"))
    with open(path + ".tmp", "w") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
    os.rename(path + ".tmp", path)
    names = sorted(n for n in os.listdir(folder) if _HISTORY_NAME.match(n))
    for name in names[:max(0, len(names) - keep)]:
        os.unlink(os.path.join(folder, name))
    return path


def changes_since(previous, current_figures, current_versions):
    """[{check, previous, value, change_pct}] and [{component, previous, value}] against ``previous``."""
    if not previous:
        return [], []
    figures = []
    old = previous.get("figures") or {}
    for name in sorted(set(old) & set(current_figures)):
        before, now = _number(old[name]), current_figures[name]["value"]
        if before is None:
            continue
        figures.append({"check": name, "previous": before, "value": now, "unit": current_figures[name]["unit"],
                        "change_pct": deviation_pct(now, before)})
    moved = []
    for component, before in sorted((previous.get("versions") or {}).items()):
        now = current_versions.get(component)
        if before != now and now is not None:
            moved.append({"component": component, "previous": before, "value": now})
    return figures, moved


# --- The fleet document -------------------------------------------------------------------------

def _drift(host_versions, baseline_versions):
    """Components whose version differs between hosts (or from the baseline's)."""
    drift = []
    for component in _components(host_versions):
        by_host = dict((h, v.get(component)) for h, v in host_versions.items() if v.get(component) is not None)
        if not by_host:
            continue
        counts = {}
        for value in by_host.values():
            counts[value] = counts.get(value, 0) + 1
        # the baseline's version when a host runs it, else the most common one (the first seen of a tie)
        expected = (baseline_versions or {}).get(component)
        if expected is None or expected not in counts:
            expected = max(counts, key=lambda v: counts[v])  # the first seen of the most common
        odd = sorted(h for h, v in by_host.items() if v != expected)
        if not odd:
            continue
        against = "the baseline" if (baseline_versions or {}).get(component) == expected else "most of the fleet"
        drift.append({"component": component, "expected": expected, "versions": by_host, "hosts": odd,
                      "sentence": "%s: %s %s %s where %s runs %s." % (
                          component, ", ".join(odd), "runs" if len(odd) == 1 else "run",
                          " / ".join(sorted(set(by_host[h] for h in odd))), against, expected)})
    return drift


def _components(host_versions):
    seen = {}
    for versions_of in host_versions.values():
        for key in versions_of:
            seen.setdefault(key, None)
    return list(seen)


def aggregate(hosts, generated_at, tolerance_pct=DEFAULT_TOLERANCE_PCT, tolerances=None, baseline=None,
              histories=None, metadata=None):
    """The fleet report document.

    ``baseline`` is ``{figures: {check: value}, versions: {component: version}, source, date}``
    (what fleet_calibrate writes as vaultcube_fleet_baseline) or None. ``histories`` maps a host
    to its earlier runs (``read_history``), oldest first; the newest is "the previous run".
    """
    check_hosts(hosts)
    default_tol, per_check = check_tolerances(tolerance_pct, tolerances)
    if baseline is not None and not isinstance(baseline, dict):
        raise FleetError("baseline must be a mapping with 'figures' (check: value), as fleet_calibrate writes it, "
                         "not %s." % type(baseline).__name__)
    baseline = baseline or {}
    base_figures = baseline.get("figures") or {}
    if not isinstance(base_figures, dict):
        raise FleetError("baseline.figures must be a mapping of check name to figure.")
    for name, value in base_figures.items():
        if _number(value) is None:
            raise FleetError("baseline.figures[%s] must be a number, not %r." % (name, value))
    histories = histories or {}

    rows, figures, host_versions, checks_order = [], {}, {}, {}  # checks_order: a dict kept in insertion order
    matrix = {}
    for entry in hosts:
        host, report = entry["host"], entry.get("report")
        status = entry.get("status", "ok")
        if status == "ok" and report is None:
            status = "failed"
        verdict = (report or {}).get("verdict")
        if not verdict and report is not None and report.get("passed") is not None:  # a report from before verdicts
            verdict = "PASSED" if report["passed"] else "FAILED"
        verdict = verdict or {"unreachable": "UNREACHABLE", "failed": "FAILED"}.get(status, "NO REPORT")
        message = entry.get("message") or (report or {}).get("verdict_reason") or (
            "The host could not be reached." if status == "unreachable" else
            ("The host wrote no report." if report is None else " ".join((report.get("failures") or [])[:3])))
        matrix[host] = {}
        for check in (report or {}).get("checks") or []:
            checks_order.setdefault(check["name"], None)
            matrix[host][check["name"]] = check["status"]
        heads = headline(report)
        for name, fig in heads.items():
            slot = figures.setdefault(name, {"unit": fig["unit"], "direction": fig["direction"], "values": {}})
            slot["values"][host] = fig["value"]
        vers = versions(report, entry.get("extra_versions")) if report else dict(
            (k, v) for k, v in (entry.get("extra_versions") or {}).items())
        if report or entry.get("extra_versions"):
            host_versions[host] = vers
        history = histories.get(host) or []
        previous = history[-1] if history else None
        changed_figures, changed_versions = changes_since(previous, heads, vers)
        rows.append({"host": host, "status": status, "verdict": verdict, "message": message,
                     "summary": (report or {}).get("summary"), "versions": vers if (report or entry.get("extra_versions")) else {},
                     "previous_run": (previous or {}).get("generated_at"), "changes": changed_figures,
                     "version_changes": changed_versions, "figures": dict((k, v["value"]) for k, v in heads.items())})

    outliers = []
    for name in sorted(figures):
        slot = figures[name]
        values = slot["values"]
        slot["median"] = median(list(values.values())) if len(values) >= MIN_HOSTS_FOR_MEDIAN else None
        slot["baseline"] = _number(base_figures.get(name))
        slot["tolerance_pct"] = per_check.get(name, default_tol)
        for host in sorted(values):
            value = values[host]
            for kind in ("baseline", "median"):
                reference = slot[kind]
                pct = deviation_pct(value, reference) if reference is not None else None
                if not _is_bad(slot["direction"], pct, slot["tolerance_pct"]):
                    continue
                outliers.append({
                    "host": host, "check": name, "value": value, "unit": slot["unit"], "reference": reference,
                    "reference_kind": kind, "deviation_pct": round(pct, 2), "direction": slot["direction"],
                    "tolerance_pct": slot["tolerance_pct"],
                    "sentence": "%s %s is %s, %.1f%% %s the fleet %s (%s; %s is better, tolerance %g%%)." % (
                        host, name, _fmt(value, slot["unit"]), abs(pct), "below" if pct < 0 else "above",
                        kind if kind == "median" else "baseline", _fmt(reference, slot["unit"]),
                        slot["direction"], slot["tolerance_pct"])})
    drift = _drift(host_versions, baseline.get("versions"))

    counts = dict((s, 0) for s in STATUSES)
    for row in rows:
        counts[row["status"]] += 1
    bad_hosts = [r["host"] for r in rows if r["status"] != "ok" or r["verdict"] in ("FAILED", "NOTHING MEASURED")]
    passed = not bad_hosts and not outliers and not drift
    reasons = []
    if bad_hosts:
        reasons.append("%d of %d host(s) failed or were unreachable (%s)" % (len(bad_hosts), len(rows), ", ".join(bad_hosts)))
    if outliers:
        reasons.append("%d outlier figure(s) on %s" % (len(outliers), ", ".join(sorted(set(o["host"] for o in outliers)))))
    if drift:
        reasons.append("version drift in %s" % ", ".join(d["component"] for d in drift))
    reason = ("; ".join(reasons) + ".") if reasons else "%d host(s) passed, no outlier, no version drift." % len(rows)
    doc = {
        "schema_version": SCHEMA_VERSION, "kind": "fleet", "generated_at": generated_at,
        "verdict": "PASSED" if passed else "FAILED", "passed": passed, "verdict_reason": reason[0].upper() + reason[1:],
        "counts": dict(counts, total=len(rows), outliers=len(outliers), drift=len(drift)),
        "hosts": rows, "checks": list(checks_order), "components": _components(host_versions), "matrix": matrix, "figures": figures, "outliers": outliers,
        "drift": drift, "baseline": {"source": baseline.get("source"), "date": baseline.get("date"),
                                     "figures": base_figures} if baseline else None,
        "tolerance_pct": default_tol, "tolerances": per_check, "metadata": metadata or {},
    }
    doc["plots"] = plots(doc)
    return doc


def plots(doc):
    """Per check, bars of each host's figure beside the fleet median and the baseline."""
    out = []
    for name in sorted(doc["figures"]):
        slot = doc["figures"][name]
        hosts = sorted(slot["values"])
        series = {"host": [[h, slot["values"][h]] for h in hosts]}
        if slot.get("median") is not None:
            series["fleet median"] = [[h, slot["median"]] for h in hosts]
        if slot.get("baseline") is not None:
            series["baseline"] = [[h, slot["baseline"]] for h in hosts]
        out.append({"title": "%s (%s is better)" % (name, slot["direction"]), "kind": "bar", "x_label": "host",
                    "y_label": slot.get("unit") or "", "series": series})
    return out


def summary_msg(doc):
    c = doc["counts"]
    return "Fleet report %s: %d host(s), %d ok, %d failed, %d unreachable, %d outlier(s), %d drift. %s" % (
        doc["verdict"], c["total"], c["ok"], c["failed"], c["unreachable"], c["outliers"], c["drift"],
        doc["verdict_reason"])


def to_json(doc):
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"


def to_junit(doc, reports=None):
    """One testsuite per host: its checks (from its report), its outliers and drift as failures,
    an unreachable or report-less host as one error."""
    reports = reports or {}
    suites = []
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for row in doc["hosts"]:
        host = row["host"]
        cases = []
        for check in (reports.get(host) or {}).get("checks") or []:
            kind = {"failed": "failure", "error": "error", "skipped": "skipped"}.get(check["status"])
            cases.append((kind, "%s.%s" % (host, check.get("module", "check")), check["name"], check.get("message") or ""))
        if not cases or row["status"] != "ok":
            cases.append(("error" if row["status"] != "ok" or not cases else None, "%s.fleet" % host, "host." + row["status"],
                          row["message"]))
        for item in doc["outliers"]:
            if item["host"] == host:
                cases.append(("failure", "%s.fleet" % host, "outlier.%s.%s" % (item["reference_kind"], item["check"]), item["sentence"]))
        for item in doc["drift"]:
            if host in item["hosts"]:
                cases.append(("failure", "%s.fleet" % host, "drift.%s" % item["component"], item["sentence"]))
        counts = {"tests": len(cases), "failures": sum(1 for c in cases if c[0] == "failure"),
                  "errors": sum(1 for c in cases if c[0] == "error"), "skipped": sum(1 for c in cases if c[0] == "skipped")}
        for key in totals:
            totals[key] += counts[key]
        lines = ['  <testsuite name=%s tests="%d" failures="%d" errors="%d" skipped="%d" timestamp=%s>' % (
            quoteattr("fleet.%s" % host), counts["tests"], counts["failures"], counts["errors"], counts["skipped"],
            quoteattr(str(doc["generated_at"])))]
        for kind, classname, name, message in cases:
            attrs = "classname=%s name=%s" % (quoteattr(classname), quoteattr(name))
            if kind == "failure":
                lines.append('    <testcase %s><failure message=%s type="fleet"/></testcase>' % (attrs, quoteattr(message)))
            elif kind == "error":
                lines.append('    <testcase %s><error message=%s type="error"/></testcase>' % (attrs, quoteattr(message)))
            elif kind == "skipped":
                lines.append("    <testcase %s><skipped message=%s/></testcase>" % (attrs, quoteattr(message)))
            else:
                lines.append("    <testcase %s><system-out>%s</system-out></testcase>" % (attrs, escape(message)))
        lines.append("  </testsuite>")
        suites.extend(lines)
    head = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<testsuites name="vaultcube.demobox.fleet" tests="%d" failures="%d" errors="%d" skipped="%d">' % (
                totals["tests"], totals["failures"], totals["errors"], totals["skipped"])]
    return "\n".join(head + suites + ["</testsuites>"]) + "\n"


# --- Calibration --------------------------------------------------------------------------------

# check name -> (validation role variable, its direction); these thresholds are written with a margin.
THRESHOLD_VARS = {
    "ddp_benchmark.throughput": "validation_ddp_min_throughput",
    "ddp_benchmark.scaling_efficiency": "validation_min_scaling_efficiency",
    "vllm_bench.output_tokens_per_s": "validation_vllm_min_output_tokens_per_s",
    "gpu_bandwidth.all_reduce.busbw": "validation_bandwidth_min_busbw",
}


def calibrate(doc, source="median", margin_pct=10.0, date=None, previous=None):
    """The baseline from a fleet document: {figures, versions, thresholds, source, date, rows, moved}.

    ``source`` is ``median`` (the fleet median of each figure, every host that reported it) or a
    host name (a known-good box). Each threshold is the figure less (higher is better) or plus
    (lower is better) ``margin_pct``. ``previous`` is the baseline written before; ``moved`` says
    what changed since.
    """
    margin = check_percent("margin_pct", margin_pct, high=100.0)
    names = [r["host"] for r in doc["hosts"]]
    if source != "median":
        if source not in names:
            raise FleetError("source must be 'median' or a host of this run (%s), not '%s'." % (", ".join(names), source))
        row = [r for r in doc["hosts"] if r["host"] == source][0]
        if row["status"] != "ok" or row["verdict"] in ("FAILED", "NOTHING MEASURED"):
            raise FleetError("%s cannot be the baseline: its validation is %s (%s)." % (
                source, row["verdict"], row["message"].rstrip(".")))
    passing = set(r["host"] for r in doc["hosts"] if r["status"] == "ok" and r["verdict"] not in ("FAILED", "NOTHING MEASURED"))
    figures, thresholds, rows = {}, {}, []
    for name in sorted(doc["figures"]):
        slot = doc["figures"][name]
        if source == "median":  # hosts that passed (a failed host is no reference)
            good = dict((h, v) for h, v in slot["values"].items() if h in passing)
            value = median(list(good.values()))
            hosts = sorted(good)
        else:
            value = slot["values"].get(source)
            hosts = [source]
        if value is None:
            continue
        figures[name] = round(value, 4)
        factor = (1 - margin / 100.0) if slot["direction"] == HIGHER else (1 + margin / 100.0)
        limit = round(value * factor, 4)
        var = THRESHOLD_VARS.get(name)
        rows.append({"check": name, "value": figures[name], "unit": slot.get("unit"), "direction": slot["direction"],
                     "threshold": limit, "margin_pct": margin, "variable": var, "hosts": hosts})
        if var:
            thresholds[var] = limit
    if not figures:
        raise FleetError("No figure to calibrate from: %s reported no comparable figure (a number with a "
                         "direction, such as samples/s or a temperature)." % (
                             "no host" if source == "median" else source))
    if source == "median":
        vers = {}
        for row in doc["hosts"]:
            for key, value in (row.get("versions") or {}).items():
                vers.setdefault(key, {}).setdefault(value, 0)
                vers[key][value] += 1
        base_versions = dict((k, max(v, key=v.get)) for k, v in vers.items() if v)
    else:
        base_versions = [r for r in doc["hosts"] if r["host"] == source][0].get("versions") or {}
    moved = []
    old = (previous or {}).get("figures") or {}
    for name in sorted(set(old) | set(figures)):
        before, now = _number(old.get(name)), figures.get(name)
        if before is None and now is None:
            continue
        pct = deviation_pct(now, before) if before is not None and now is not None else None
        if before != now:
            moved.append({"check": name, "previous": before, "value": now, "change_pct": round(pct, 2) if pct is not None else None})
    return {"source": source, "date": date, "margin_pct": margin, "figures": figures,
            "versions": dict((k, v) for k, v in base_versions.items() if v is not None),
            "thresholds": thresholds, "rows": rows, "moved": moved}


def _yaml_scalar(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


def baseline_yaml(base, collection_version=None):
    """The group_vars file: every threshold with its margin and, in comments, source, date, figures."""
    out = ["---",
           "# Written by vaultcube.demobox.calibrate (fleet_calibrate)%s. Do not edit by hand: re-run" % (
               " of collection %s" % collection_version if collection_version else ""),
           "# the calibrate playbook; it says what moved since this file.",
           "# source: %s" % ("the fleet median" if base["source"] == "median" else "host %s" % base["source"]),
           "# date: %s" % base["date"],
           "# margin: %g%% (a threshold is the figure less the margin where higher is better, plus it where lower is)" % (
               base["margin_pct"]), ""]
    for row in base["rows"]:
        if not row["variable"]:
            continue
        out.append("# %s: %s %s from %s; %s is better; margin %g%%" % (
            row["check"], _yaml_scalar(row["value"]), row["unit"] or "", ", ".join(row["hosts"]), row["direction"],
            row["margin_pct"]))
        out.append("%s: %s" % (row["variable"], _yaml_scalar(row["threshold"])))
    out.append("")
    out.append("# The figures the fleet report compares each host with (outliers against the baseline).")
    out.append("vaultcube_fleet_baseline:")
    out.append("  source: %s" % _yaml_scalar(base["source"]))
    out.append("  date: %s" % _yaml_scalar(base["date"]))
    out.append("  margin_pct: %s" % _yaml_scalar(base["margin_pct"]))
    out.append("  figures:")
    for row in base["rows"]:
        out.append("    # %s %s, threshold %s (%s is better) from %s" % (
            _yaml_scalar(row["value"]), row["unit"] or "", _yaml_scalar(row["threshold"]), row["direction"],
            ", ".join(row["hosts"])))
        out.append("    %s: %s" % (json.dumps(row["check"]), _yaml_scalar(row["value"])))
    out.append("  thresholds:")
    for row in base["rows"]:
        out.append("    %s: {%s: %s, margin_pct: %s}" % (json.dumps(row["check"]), "min" if row["direction"] == HIGHER else "max",
                                                         _yaml_scalar(row["threshold"]), _yaml_scalar(row["margin_pct"])))
    out.append("  versions:" + ("" if base["versions"] else " {}"))
    for key in sorted(base["versions"]):
        out.append("    %s: %s" % (key, _yaml_scalar(base["versions"][key])))
    return "\n".join(out) + "\n"


# --- Table rows for the templates (filters fleet_host_row, fleet_outlier_row, fleet_change_rows) --

def host_row(row):
    summary = row.get("summary") or {}
    return [row["host"], row["status"].upper(), row["verdict"], summary.get("passed"), summary.get("failed"),
            summary.get("error"), summary.get("skipped"), row.get("previous_run"), row.get("message")]


def outlier_row(item):
    return [item["host"], item["check"], _fmt(item["value"], item.get("unit")),
            "%s %s" % (item["reference_kind"], _fmt(item["reference"], item.get("unit"))),
            "%+.1f" % item["deviation_pct"], item["sentence"]]


def change_rows(row):
    out = [[row["host"], row.get("previous_run"), c["check"], _fmt(c["previous"], c.get("unit")),
            _fmt(c["value"], c.get("unit")), "%+.1f" % c["change_pct"] if c["change_pct"] is not None else "-"]
           for c in row.get("changes") or []]
    out += [[row["host"], row.get("previous_run"), "version " + v["component"], v["previous"], v["value"], "changed"]
            for v in row.get("version_changes") or []]
    return out


def change_table(rows):
    """Every host's change rows, in host order."""
    out = []
    for row in rows:
        out.extend(change_rows(row))
    return out


FILTERS = {"fleet_host_row": host_row, "fleet_outlier_row": outlier_row, "fleet_change_table": change_table}
