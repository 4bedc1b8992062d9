# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of a long measurement, as the ``job_progress`` action shows it while it waits.

A long module (stress_gpu, ddp_benchmark, vllm_bench) runs as an ``async`` job; the
``job_progress`` action polls it every interval and prints one line built here::

    stress_gpu on box1: measuring, 2m30s of 10m00s (25%), 655.2 TFLOP/s | GPU0 61C 540W, GPU1 58C 530W | errors 0

The figures come from two places: the GPUs' temperature and power from an NVML read on the host
(``gpu_facts``), and - where the worker writes one - a progress file (JSON, rewritten atomically)
with ``phase``, ``figure`` ``{value, unit}`` and ``errors``. Nothing here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

import csv
import datetime
import io
import json


def duration_text(seconds):
    """``2m30s``, ``1h02m03s``, ``45s``."""
    seconds = int(round(max(0.0, float(seconds))))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%dh%02dm%02ds" % (hours, minutes, secs)
    if minutes:
        return "%dm%02ds" % (minutes, secs)
    return "%ds" % secs


def parse_progress(text):
    """The progress file's content as a dict; {} when it is missing, empty or not JSON."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _utc_seconds(text):
    try:
        moment = datetime.datetime.strptime(text or "", "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return (moment - datetime.datetime(1970, 1, 1)).total_seconds()


def progress_from_stress_csv(text, since=None):
    """Progress from the head and tail of stress_gpu's telemetry CSV (its header, then last rows).

    The CSV is appended to run after run: rows stamped before ``since`` (Unix time) are not this run's.

    The latest row of each GPU gives the phase, its temperature and power, and its TFLOP/s of the
    last window (summed over the GPUs); mismatching results and XID events so far are the errors.
    """
    lines = (text or "").splitlines()
    if len(lines) < 2:
        return {}
    header = lines[0]
    rows = list(csv.DictReader(io.StringIO("\n".join([header] + [ln for ln in lines[1:] if ln != header]))))
    latest = {}
    for row in rows:
        stamp = _utc_seconds(row.get("time_utc"))
        if since is not None and (stamp is None or stamp < since):
            continue
        # "event" rows (a worker started or ended) carry no figures.
        if row.get("gpu") not in (None, "") and row.get("phase") != "event":
            latest[row["gpu"]] = row
    if not latest:
        return {}
    ordered = [latest[key] for key in sorted(latest, key=lambda k: (len(k), k))]
    tflops = [_float(r.get("window_tflops")) for r in ordered]
    errors = 0
    for row in ordered:
        errors += int(_float(row.get("mismatches_total")) or 0) + int(_float(row.get("xid_events")) or 0)
    progress = {"phase": ordered[-1].get("phase") or None, "errors": errors,
                "gpus": [(r["gpu"], _float(r.get("temperature_c")), _float(r.get("power_w"))) for r in ordered]}
    if any(t is not None for t in tflops):
        progress["figure"] = {"value": sum(t for t in tflops if t is not None), "unit": "TFLOP/s"}
    return progress


def gpus_from_facts(result):
    """[(index, temperature C, power W)] from a gpu_facts result (empty when it has no GPU)."""
    gpus = []
    for gpu in ((result or {}).get("ansible_facts") or {}).get("gpus") or []:
        gpus.append((gpu.get("index"), gpu.get("temperature_c"), gpu.get("power_draw_w")))
    return gpus


def _number(value, fmt):
    return "-" if value is None else fmt % value


def line(module, host, elapsed, expected=None, progress=None, gpus=None):
    """One progress line."""
    progress = progress or {}
    parts = [progress.get("phase") or "running"]
    if expected:
        parts.append("%s of %s (%d%%)" % (duration_text(elapsed), duration_text(expected),
                                          min(100, int(100.0 * elapsed / expected))))
    else:
        parts.append(duration_text(elapsed))
    figure = progress.get("figure") or {}
    if figure.get("value") is not None:
        parts.append("%s %s" % (_number(figure["value"], "%.1f"), figure.get("unit") or ""))
    text = "%s on %s: %s" % (module, host, ", ".join(p.strip() for p in parts))
    if gpus:
        text += " | " + ", ".join("GPU%s %s %s" % (index, _number(temp, "%dC"), _number(power, "%.0fW"))
                                  for index, temp, power in gpus)
    if progress.get("errors") is not None:
        text += " | errors %s" % progress["errors"]
    return text


def interrupted_entry(module, signal_name, elapsed, expected=None, last_line=None, result=None):
    """The report entry of a module stopped by Ctrl-C or SIGTERM: an error row saying so.

    ``result`` is whatever the stopped job returned; its checks (what it had measured) are kept.
    """
    result = dict(result or {})
    ran = duration_text(elapsed) + (" of %s" % duration_text(expected) if expected else "")
    msg = "Interrupted by %s after %s; the run was stopped and its workers ended." % (signal_name, ran)
    if last_line:
        msg += " Last progress: %s." % last_line
    checks = [c for c in result.get("checks") or [] if isinstance(c, dict)]
    checks.append({"name": "%s.interrupted" % module, "status": "error", "value": round(elapsed, 1),
                   "threshold": None, "unit": "s", "message": msg})
    result.update({"checks": checks, "msg": msg, "interrupted": True, "passed": False})
    return {"module": module, "result": result, "duration_s": round(elapsed, 3)}
