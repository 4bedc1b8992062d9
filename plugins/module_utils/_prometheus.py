# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus text format (exposition format 0.0.4) for node_exporter's textfile collector.

Two writers use this file:

* the validation report (``validation_report`` with format ``prometheus``):
  ``report_textfile(report)`` gives one series per check - its value, its threshold (one series
  per bound) and passed 1/0 - labelled host, module, check and, for a check about one GPU, gpu;
* vaultcube-monitor ``--prometheus PATH`` (the monitoring role runs it as a service):
  ``gpu_textfile(rows, ...)`` gives per-GPU NVML telemetry named by Prometheus conventions (base
  units: celsius, watts, hertz, bytes, ratios 0-1).

``write_atomically`` writes atomically (a temporary file not ending in .prom, then a rename), as
node_exporter's documentation asks, so a scrape never reads half a file. Nothing here imports
Ansible: vaultcube-monitor imports this file from beside it.
"""

from __future__ import absolute_import, division, print_function

import datetime
import math
import os
import re
import tempfile

_GPU_IN_NAME = re.compile(r"^(?P<head>.*?)\.gpu(?P<gpu>\d+)(?P<tail>\..*)?$")
_BOUNDS = ("min", "max", "equals", "duration", "max_rel_error")


# --- the exposition format ----------------------------------------------------------------------

def escape_label(value):
    """A label value as the text format writes it (backslash, double quote and newline escaped)."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text):
    return str(text).replace("\\", "\\\\").replace("\n", "\\n")


def number(value):
    """The sample value of ``value``, or None when it is not a number (text, None, NaN, a list)."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return None


def _value_text(value):
    if isinstance(value, float):
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return repr(value)
    return str(value)


def render(families):
    """Text of ``families``: a list of (name, type, help, [(labels, value), ...]).

    A sample that is not a number (None, NaN, text) and a family left without samples are left
    out. A second sample with the same labels is dropped (a
    textfile with a duplicate series makes node_exporter fail the whole scrape).
    """
    lines = []
    for name, kind, help_text, samples in families:
        seen = set()
        body = []
        for labels, value in samples:
            value = number(value)
            key = tuple(sorted(labels.items()))
            if value is None or key in seen:
                continue
            seen.add(key)
            label_text = ",".join('%s="%s"' % (k, escape_label(v)) for k, v in key)
            body.append("%s%s %s" % (name, "{%s}" % label_text if label_text else "", _value_text(value)))
        if body:
            lines.append("# HELP %s %s" % (name, _escape_help(help_text)))
            lines.append("# TYPE %s %s" % (name, kind))
            lines.extend(body)
    return "\n".join(lines) + "\n" if lines else ""


def write_atomically(path, data, mode=0o644, unless_same=False):
    """The collection's one file writer: ``data`` (text or bytes) to ``path`` through a temporary file
    in the same directory (not ending in .prom, so node_exporter never reads half a file), then a rename.
    ``unless_same``: leave a file that already holds ``data`` alone and return False. Returns True when
    written; raises OSError with nothing half-written left behind. Used for the textfile collector
    (vaultcube-monitor, the validation report's .prom) and for every report file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if unless_same:
        try:
            with open(path, "rb") as handle:
                if handle.read() == data:
                    return False
        except OSError:
            pass
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


# --- the validation report ----------------------------------------------------------------------

def unix_time(iso_text):
    """Unix time of an ISO 8601 timestamp with an offset (the report's generated_at), or None."""
    try:
        moment = datetime.datetime.fromisoformat(str(iso_text))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int((moment - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds())


def split_check_name(name):
    """(check, gpu): ``stress_gpu.gpu1.tflops`` -> (``stress_gpu.tflops``, ``1``); no GPU -> (name, None)."""
    match = _GPU_IN_NAME.match(name or "")
    if not match:
        return name, None
    return match.group("head") + (match.group("tail") or ""), match.group("gpu")


def _check_values(check):
    """(gpu, value) pairs of one check: a number, or one number per GPU when the value is a list."""
    value = check.get("value")
    name, gpu = split_check_name(check.get("name"))
    if isinstance(value, (list, tuple)):
        if gpu is None and value and all(number(v) is not None for v in value):
            return [(str(index), number(v)) for index, v in enumerate(value)]
        return []
    return [(gpu, number(value))]


def report_textfile(report):
    """The validation report (the JSON form that ``_report.build`` makes) in Prometheus text format."""
    host = report.get("host") or "unknown"
    values, thresholds, passed = [], [], []
    for check in report.get("checks") or []:
        name, gpu = split_check_name(check.get("name"))
        base = {"host": host, "module": check.get("module") or "unknown", "check": name}
        if gpu is not None:
            base["gpu"] = gpu
        unit = check.get("unit")
        for index, value in _check_values(check):
            labels = dict(base)
            if index is not None:
                labels["gpu"] = index
            if unit:
                labels["unit"] = unit
            values.append((labels, value))
        threshold = check.get("threshold")
        if isinstance(threshold, dict):
            for bound in _BOUNDS:
                if number(threshold.get(bound)) is not None:
                    labels = dict(base, bound=bound)
                    if unit:
                        labels["unit"] = unit
                    thresholds.append((labels, number(threshold[bound])))
        status = check.get("status")
        if status in ("passed", "failed", "error"):
            passed.append((base, 1 if status == "passed" else 0))
    summary = report.get("summary") or {}
    counts = [({"host": host, "status": status}, summary.get(status, 0))
              for status in ("passed", "failed", "error", "skipped", "info")]
    families = [
        ("vaultcube_validation_check_value", "gauge",
         "Value a validation check measured (one series per GPU for per-GPU checks); unit label as the report shows it.",
         values),
        ("vaultcube_validation_check_threshold", "gauge",
         "Threshold a validation check was judged against; bound is min, max, equals, duration or max_rel_error.",
         thresholds),
        ("vaultcube_validation_check_passed", "gauge",
         "1 when a judged validation check passed, 0 when it failed or could not measure.", passed),
        ("vaultcube_validation_checks", "gauge", "Number of validation checks by status in the last report.", counts),
        ("vaultcube_validation_passed", "gauge", "1 when the last validation report passed, else 0.",
         [({"host": host}, 1 if report.get("passed") else 0)]),
        ("vaultcube_validation_interrupted", "gauge", "1 when the last validation run was interrupted before it ended.",
         [({"host": host}, 1 if report.get("interrupted") else 0)]),
        ("vaultcube_validation_last_run_timestamp_seconds", "gauge",
         "Unix time at which the last validation report was generated.",
         [({"host": host}, unix_time(report.get("generated_at")))]),
    ]
    return render(families)


# --- GPU telemetry (vaultcube-monitor --prometheus) ---------------------------------------------

def _scaled(value, factor):
    return None if number(value) is None else number(value) * factor


# (metric, row key, factor, help)
GPU_GAUGES = (
    ("vaultcube_gpu_temperature_celsius", "temperature_c", 1, "GPU core temperature."),
    ("vaultcube_gpu_power_watts", "power_w", 1, "GPU board power draw."),
    ("vaultcube_gpu_power_limit_watts", "power_limit_w", 1, "GPU enforced power limit."),
    ("vaultcube_gpu_sm_clock_hertz", "sm_clock_mhz", 1e6, "GPU streaming multiprocessor clock."),
    ("vaultcube_gpu_memory_clock_hertz", "memory_clock_mhz", 1e6, "GPU memory clock."),
    ("vaultcube_gpu_utilization_ratio", "utilization_gpu_percent", 0.01,
     "Share of the last sample period during which a kernel ran on the GPU (0-1)."),
    ("vaultcube_gpu_memory_utilization_ratio", "utilization_memory_percent", 0.01,
     "Share of the last sample period during which GPU memory was read or written (0-1)."),
    ("vaultcube_gpu_memory_used_bytes", "memory_used_mib", 1024 * 1024, "GPU memory in use."),
    ("vaultcube_gpu_memory_total_bytes", "memory_total_mib", 1024 * 1024, "GPU memory in total."),
    ("vaultcube_gpu_fan_speed_ratio", "fan_speed_percent", 0.01, "GPU fan speed as a share of its maximum (0-1)."),
    ("vaultcube_gpu_performance_state", "performance_state", 1, "GPU performance state (0 = P0, the fastest)."),
)


def gpu_textfile(rows, host, driver=None, cuda=None, reason=None, timestamp=None):
    """Per-GPU telemetry rows (``_nvml.monitor_sample`` plus ``name``) in Prometheus text format.

    Without NVML (``reason`` set) only vaultcube_gpu_nvml_up 0 and a count of 0 are written, so an
    alert can tell "no GPU seen" from "exporter not running".
    """
    families = []
    info, events, up, count = [], [], [], []
    up.append(({"host": host}, 0 if reason else 1))
    count.append(({"host": host}, len(rows or [])))
    for row in rows or []:
        labels = {"host": host, "gpu": str(row.get("gpu"))}
        info.append((dict(labels, name=row.get("name") or "", driver=driver or "", cuda=cuda or ""), 1))
        for reason_name in row.get("clocks_event_reasons") or []:
            events.append((dict(labels, reason=reason_name), 1))
    families.append(("vaultcube_gpu_nvml_up", "gauge", "1 when NVML could be read, 0 when not (no driver or binding).", up))
    families.append(("vaultcube_gpu_devices", "gauge", "Number of GPUs NVML reports.", count))
    families.append(("vaultcube_gpu_info", "gauge", "GPU name, driver and CUDA driver version (value always 1).", info))
    for metric, key, factor, help_text in GPU_GAUGES:
        samples = [({"host": host, "gpu": str(row.get("gpu"))}, _scaled(row.get(key), factor))
                   for row in rows or [] if not row.get("error")]
        families.append((metric, "gauge", help_text, samples))
    families.append(("vaultcube_gpu_clocks_event_active", "gauge",
                     "1 for each clock-event (throttle) reason active at the last sample.", events))
    families.append(("vaultcube_gpu_last_sample_timestamp_seconds", "gauge",
                     "Unix time of the last telemetry sample.", [({"host": host}, timestamp)]))
    return render(families)
