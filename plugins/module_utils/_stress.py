# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Summarise and judge a stress_gpu run: pure functions over the orchestrator's records.

The orchestrator (``_stress_worker.py``) writes one JSON object per line: ``meta``, ``sample``
(NVML telemetry per GPU, phases ``idle``, ``start``, ``load``), ``sample_error``, ``ready``,
``load`` (start time and deadline), ``window`` (throughput and result checks per GPU and time
window), ``xid``, ``worker_error``, ``done``, ``worker_exit`` and ``end``. ``summarize`` turns
them into per-GPU figures, ``judge`` into the result contract's checks (one sentence per fault,
naming the GPU), and ``tables``/``plots`` into what the validation report renders.
"""

from __future__ import absolute_import, division, print_function

import json

from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R

FORBIDDEN_DEFAULT = ("hw_slowdown", "hw_thermal_slowdown", "sw_thermal_slowdown", "hw_power_brake_slowdown")
MAX_PLOT_POINTS = 600


def read_records(path):
    """The records of a run; a line cut short (a crash mid-write) is skipped."""
    records = []
    try:
        with open(path) as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue
    except OSError:
        pass
    return records


def _first(records, kind, gpu=None):
    for record in records:
        if record.get("type") == kind and (gpu is None or record.get("gpu") == gpu):
            return record
    return None


def _all(records, kind, gpu=None):
    return [r for r in records if r.get("type") == kind and (gpu is None or r.get("gpu") == gpu)]


def _mean(values):
    values = [v for v in values if v is not None]
    return round(sum(values) / float(len(values)), 2) if values else None


def _max(values):
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _min(values):
    values = [v for v in values if v is not None]
    return min(values) if values else None


def _delta(first, last, key):
    if first is None or last is None or first.get(key) is None or last.get(key) is None:
        return None
    return round(last[key] - first[key], 3)


def _gpu_summary(records, gpu, meta, t0):
    index = gpu["index"]
    interval = float(meta.get("interval") or 5)
    windows = sorted(_all(records, "window", index), key=lambda w: (w.get("index", 0), w.get("t_end", 0)))
    samples = sorted(_all(records, "sample", index), key=lambda s: s.get("t", 0))
    ready = _first(records, "ready", index) or {}
    done = _first(records, "done", index)
    exit_record = _first(records, "worker_exit", index)
    errors = _all(records, "worker_error", index)
    sample_errors = _all(records, "sample_error", index)
    xids = [x for x in _all(records, "xid") if x.get("gpu") == index and x.get("xid") is not None]

    timed = [w for w in windows if w.get("tflops") is not None and w.get("seconds")]
    full = [w for w in timed if w["seconds"] >= 0.5 * interval] or timed
    seconds = sum(w["seconds"] for w in timed)
    flops = sum(w.get("flops") or 0 for w in timed)
    last_window = windows[-1] if windows else {}
    totals = done or last_window

    idle = [s for s in samples if s.get("phase") == "idle"]
    loaded = [s for s in samples if s.get("phase") in ("start", "load")]
    busy = [s for s in samples if s.get("phase") == "load"]
    baseline = idle[0] if idle else (loaded[0] if loaded else None)
    last = loaded[-1] if loaded else None

    throttle = {}
    for before, after in zip(loaded, loaded[1:]):
        step = max(0.0, after["t"] - before["t"])
        for reason in after.get("clocks_event_reasons") or []:
            throttle[reason] = round(throttle.get(reason, 0.0) + step, 1)
    throttle_samples = {}
    for sample in busy:
        for reason in sample.get("clocks_event_reasons") or []:
            throttle_samples[reason] = throttle_samples.get(reason, 0) + 1

    first_mismatch = next((w for w in windows if w.get("mismatches")), None)
    ecc_enabled = _first([s for s in samples if s.get("ecc_enabled") is not None], "sample")
    worker = {"state": "unknown", "message": None, "rc": None, "elapsed_s": None}
    if exit_record:
        worker = {"state": exit_record.get("state"), "message": exit_record.get("message"),
                  "rc": exit_record.get("rc"), "elapsed_s": exit_record.get("elapsed"),
                  "stderr_tail": exit_record.get("stderr_tail") or []}
    if errors and not worker.get("message"):
        worker["message"] = errors[-1].get("message")

    return {
        "index": index,
        "name": ready.get("device_name") or gpu.get("name"),
        "uuid": gpu.get("uuid"),
        "windows": len(windows),
        "tflops_mean": round(flops / seconds / 1e12, 3) if seconds else None,
        "tflops_min": round(min(w["tflops"] for w in full), 3) if full else None,
        "tflops_max": round(max(w["tflops"] for w in full), 3) if full else None,
        "loaded_s": round(last_window["t_end"] - t0, 3) if (last_window and t0) else None,
        "device_busy_s": round(seconds, 3),
        "matmuls": totals.get("matmuls_total") or 0,
        "checks": totals.get("checks_total") or 0,
        "mismatches": totals.get("mismatches_total") or 0,
        "first_mismatch_s": round(first_mismatch["t_end"] - t0, 1) if (first_mismatch and t0) else None,
        "startup_mismatches": ready.get("startup_mismatches"),
        "ring_buffers": ready.get("ring_buffers"),
        "ring_gib": ready.get("ring_gib"),
        "memory_used_fraction": ready.get("memory_used_fraction"),
        "matmul_ms": ready.get("matmul_ms"),
        "samples": len(loaded),
        "sample_errors": len(sample_errors),
        "sample_error": sample_errors[0].get("error") if sample_errors else None,
        "temperature_idle_c": idle[0].get("temperature_c") if idle else None,
        "temperature_max_c": _max(s.get("temperature_c") for s in loaded),
        "temperature_mean_c": _mean(s.get("temperature_c") for s in loaded),
        "power_max_w": _max(s.get("power_w") for s in loaded),
        "power_mean_w": _mean(s.get("power_w") for s in busy),
        "sm_clock_mean_mhz": _mean(s.get("sm_clock_mhz") for s in busy),
        "sm_clock_min_mhz": _min(s.get("sm_clock_mhz") for s in busy),
        "utilization_mean_percent": _mean(s.get("utilization_gpu_percent") for s in busy),
        "throttle_s": throttle,
        "throttle_samples": throttle_samples,
        "power_violation_s": _delta(baseline, last, "power_violation_s"),
        "thermal_violation_s": _delta(baseline, last, "thermal_violation_s"),
        "ecc_enabled": ecc_enabled.get("ecc_enabled") if ecc_enabled else None,
        "ecc_uncorrected_new": _delta(baseline, last, "ecc_uncorrected_volatile"),
        "ecc_corrected_new": _delta(baseline, last, "ecc_corrected_volatile"),
        "pcie_replay_new": _delta(baseline, last, "pcie_replay_counter"),
        "xid_errors": len(xids),
        "xids": [{"xid": x["xid"], "elapsed_s": round(x["t"] - t0, 1) if t0 else None} for x in xids],
        "worker": worker,
    }


def summarize(records):
    """Per-GPU and run figures of one run (see the module's RETURN for the keys)."""
    meta = _first(records, "meta") or {}
    load = _first(records, "load")
    end = _first(records, "end")
    t0 = load["t0"] if load else None
    gpus = [_gpu_summary(records, gpu, meta, t0) for gpu in meta.get("gpus") or []]
    ends = [g["loaded_s"] for g in gpus if g["loaded_s"] is not None]
    ready = _first(records, "ready") or {}
    return {
        "device": meta.get("device"),
        "dtype": meta.get("dtype"),
        "matrix_size": meta.get("matrix_size"),
        "memory_fraction": meta.get("memory_fraction"),
        "check_every": meta.get("check_every"),
        "tolerance": meta.get("tolerance"),
        "duration_s": meta.get("duration"),
        "interval_s": meta.get("interval"),
        "startup_s": load.get("startup_s") if load else None,
        "load_s": max(ends) if ends else None,
        "end_reason": end.get("reason") if end else None,
        "end_signal": end.get("signal") if end else None,
        "end_message": end.get("message") if end else None,
        "telemetry": meta.get("telemetry"),
        "telemetry_reason": meta.get("telemetry_reason"),
        "xid_supported": meta.get("xid_supported"),
        "xid_reason": meta.get("xid_reason"),
        "python": meta.get("python"),
        "torch": ready.get("torch"),
        "cuda": ready.get("cuda"),
        "csv_path": meta.get("csv_path"),
        "t0": t0,
        "gpus": gpus,
    }


def _num(value):
    """A figure for a sentence: 20.0 -> '20', 712.34 -> '712.3', 0.00412 -> '0.00412'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        text = ("%.1f" % value) if abs(value) >= 10 else ("%.3g" % value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def _subject(summary, gpu):
    if summary.get("device") == "cpu":
        return "CPU worker %d" % gpu["index"]
    return "GPU %d (%s)" % (gpu["index"], gpu.get("name") or "unknown")


def _throttle_text(seconds, reasons):
    return " and ".join("%s for about %s s" % (r, _num(seconds.get(r, 0.0))) for r in reasons)


def judge(summary, thresholds):
    """The contract's checks: a run check, then per GPU one check per kind of fault."""
    checks = []
    cpu = summary.get("device") == "cpu"
    duration = summary.get("duration_s")
    load_s = summary.get("load_s")
    reason = summary.get("end_reason")
    ran = "%s s of the %s s asked" % (_num(load_s), _num(duration))
    if cpu:
        checks.append(R.make_check("stress_gpu.device", R.INFO, "cpu", None, None,
                                   "CPU test run: these figures come from the CPU test path, not from a GPU."))
    if reason == "completed":
        checks.append(R.make_check("stress_gpu.run", R.PASSED, load_s, {"duration": duration}, "s",
                                   "The load ran on %d %s for %s (startup %s s)." % (
                                       len(summary["gpus"]), "worker(s)" if cpu else "GPU(s)", ran,
                                       _num(summary.get("startup_s")))))
    elif reason == "worker_failed":
        checks.append(R.make_check("stress_gpu.run", R.INFO, load_s, {"duration": duration}, "s",
                                   "The run was stopped after %s because a stress worker failed." % ran))
    elif reason == "startup_failed":
        checks.append(R.make_check("stress_gpu.run", R.INFO, None, {"duration": duration}, "s",
                                   "The load never started because a stress worker could not start."))
    elif reason == "interrupted":
        checks.append(R.make_check("stress_gpu.run", R.FAILED, load_s, {"duration": duration}, "s",
                                   "The stress run was interrupted by signal %s after %s." % (
                                       summary.get("end_signal"), ran)))
    else:
        checks.append(R.make_check("stress_gpu.run", R.FAILED, load_s, {"duration": duration}, "s",
                                   "The stress orchestrator stopped without its final record after %s." % ran))
    for gpu in summary["gpus"]:
        checks.extend(_gpu_checks(summary, gpu, thresholds))
    return checks


def _gpu_checks(summary, gpu, th):
    cpu = summary.get("device") == "cpu"
    who = _subject(summary, gpu)
    prefix = "stress_gpu.gpu%d." % gpu["index"]
    interval = summary.get("interval_s")
    checks = [_worker_check(summary, gpu, who, prefix)]

    # Throughput over the whole run: the lowest full window is the sustained figure.
    minimum = None if cpu else th.get("min_tflops")
    low, mean = gpu["tflops_min"], gpu["tflops_mean"]
    name = prefix + "tflops"
    if low is None:
        checks.append(R.make_check(name, R.SKIPPED, None, minimum, "TFLOP/s",
                                   "No throughput window was completed on %s." % who))
    else:
        figures = "lowest %s s window %s TFLOP/s, mean %s TFLOP/s over %d windows" % (
            _num(interval), _num(low), _num(mean), gpu["windows"])
        if cpu:
            checks.append(R.make_check(name, R.INFO, low, None, "TFLOP/s",
                                       "Throughput of %s: %s (CPU test path, not a GPU figure)." % (who, figures)))
        elif minimum is None:
            checks.append(R.make_check(name, R.INFO, low, None, "TFLOP/s",
                                       "Sustained throughput of %s: %s (no minimum set)." % (who, figures)))
        elif low >= minimum:
            checks.append(R.make_check(name, R.PASSED, low, {"min": minimum}, "TFLOP/s",
                                       "Sustained throughput of %s: %s, at or above the minimum of %s TFLOP/s." % (
                                           who, figures, _num(minimum))))
        else:
            checks.append(R.make_check(name, R.FAILED, low, {"min": minimum}, "TFLOP/s",
                                       "Sustained throughput of %s fell to %s TFLOP/s in its lowest %s s window, "
                                       "below the minimum of %s TFLOP/s (mean %s TFLOP/s)." % (
                                           who, _num(low), _num(interval), _num(minimum), _num(mean))))

    checks.append(_mismatch_check(summary, gpu, who, prefix, th.get("max_mismatches")))

    if cpu:
        checks.append(R.skipped(prefix + "telemetry", "Temperature, clocks events, XID and ECC errors and utilisation "
                                "are not judged on %s: the CPU test path has no NVML telemetry." % who))
        return checks
    if not summary.get("telemetry"):
        checks.append(R.make_check(prefix + "telemetry", R.FAILED, None, None, None,
                                   "No NVML telemetry was recorded for %s, so its temperature, clocks events and "
                                   "errors were not watched: %s." % (who, summary.get("telemetry_reason") or "unknown reason")))
        return checks

    hottest, limit = gpu["temperature_max_c"], th.get("max_temperature_c")
    name = prefix + "temperature"
    if hottest is None:
        checks.append(R.skipped(name, "NVML reported no temperature for %s." % who))
    else:
        text = "%s reached %s C (mean %s C, idle %s C)" % (who, _num(hottest), _num(gpu["temperature_mean_c"]),
                                                           _num(gpu["temperature_idle_c"]))
        if limit is None:
            checks.append(R.make_check(name, R.INFO, hottest, None, "C", text + " (no maximum set)."))
        elif hottest <= limit:
            checks.append(R.make_check(name, R.PASSED, hottest, {"max": limit}, "C",
                                       text + ", within the maximum of %s C." % _num(limit)))
        else:
            checks.append(R.make_check(name, R.FAILED, hottest, {"max": limit}, "C",
                                       text + ", above the maximum of %s C." % _num(limit)))

    forbidden = list(th.get("forbidden_clocks_event_reasons") or [])
    seen = gpu["throttle_s"]
    bad = [r for r in sorted(seen) if r in forbidden]
    other = [r for r in sorted(seen) if r not in forbidden and r != "gpu_idle"]
    name = prefix + "clocks_events"
    if bad:
        checks.append(R.make_check(name, R.FAILED, seen, {"forbidden": forbidden}, "s",
                                   "%s was slowed by %s." % (who, _throttle_text(seen, bad))))
    else:
        text = ("%s was never slowed by a forbidden clocks-event reason (%s)" % (who, ", ".join(forbidden))
                if forbidden else "Clocks-event reasons of %s reported without judging" % who)
        if other:
            text += "; seen: %s (reported only)" % _throttle_text(seen, other)
        checks.append(R.make_check(name, R.PASSED if forbidden else R.INFO, seen,
                                   {"forbidden": forbidden} if forbidden else None, "s", text + "."))

    name = prefix + "xid_errors"
    supported = (summary.get("xid_supported") or {}).get(str(gpu["index"]))
    limit = th.get("max_xid_errors")
    if gpu["xid_errors"]:
        listed = ", ".join("XID %s at %s s" % (x["xid"], _num(x["elapsed_s"])) for x in gpu["xids"][:10])
        status = R.FAILED if (limit is not None and gpu["xid_errors"] > limit) else R.INFO
        checks.append(R.make_check(name, status, gpu["xid_errors"], {"max": limit} if limit is not None else None, None,
                                   "%s reported %d XID error(s) during the run: %s." % (who, gpu["xid_errors"], listed)))
    elif not supported:
        checks.append(R.skipped(name, "XID errors of %s were not watched: %s." % (
            who, summary.get("xid_reason") or "NVML offers no XID events here")))
    else:
        checks.append(R.make_check(name, R.PASSED if limit is not None else R.INFO, 0,
                                   {"max": limit} if limit is not None else None, None,
                                   "%s reported no XID error during the run." % who))

    name = prefix + "ecc_errors"
    new = gpu["ecc_uncorrected_new"]
    limit = th.get("max_ecc_uncorrected")
    if not gpu["ecc_enabled"] or new is None:
        checks.append(R.make_check(name, R.INFO, None, None, None,
                                   "%s has no ECC enabled, so there are no ECC errors to count." % who))
    elif limit is not None and new > limit:
        checks.append(R.make_check(name, R.FAILED, new, {"max": limit}, None,
                                   "%s counted %s new uncorrectable ECC error(s) during the run, above the maximum of %s." % (
                                       who, _num(new), _num(limit))))
    else:
        checks.append(R.make_check(name, R.PASSED if limit is not None else R.INFO, new,
                                   {"max": limit} if limit is not None else None, None,
                                   "%s counted %s new uncorrectable and %s new correctable ECC error(s) during the run." % (
                                       who, _num(new), _num(gpu["ecc_corrected_new"]))))

    checks.append(R.judge_min(prefix + "utilization", "Mean GPU utilisation under load", gpu["utilization_mean_percent"],
                              th.get("min_gpu_utilization"), "%", subject=who))

    name = prefix + "telemetry"
    if gpu["sample_errors"]:
        checks.append(R.make_check(name, R.FAILED, gpu["sample_errors"], {"max": 0}, None,
                                   "NVML could not read %s %d time(s) during the run (first: %s)." % (
                                       who, gpu["sample_errors"], gpu["sample_error"])))
    else:
        checks.append(R.make_check(name, R.PASSED, gpu["samples"], None, None,
                                   "NVML read %s %d times, every %s s, without an error." % (
                                       who, gpu["samples"], _num(interval))))
    return checks


def _worker_check(summary, gpu, who, prefix):
    worker = gpu["worker"]
    state = worker.get("state")
    name = prefix + "worker"
    duration = summary.get("duration_s")
    at = worker.get("elapsed_s")
    message = (worker.get("message") or "no reason given").rstrip(".")
    if state == "completed":
        return R.make_check(name, R.PASSED, gpu["loaded_s"], None, "s",
                            "The stress worker on %s ran to the end of the %s s run." % (who, _num(duration)))
    if state == "died":
        return R.make_check(name, R.FAILED, at, None, "s",
                            "The stress worker on %s died %s s into the %s s run: %s." % (
                                who, _num(at), _num(duration), message))
    if state == "hung":
        return R.make_check(name, R.FAILED, at, None, "s",
                            "The stress worker on %s hung %s s into the %s s run: it %s." % (
                                who, _num(at), _num(duration), message))
    if state == "startup_failed":
        return R.make_check(name, R.FAILED, None, None, None,
                            "The stress worker on %s could not start: %s." % (who, message))
    if state == "stopped":
        return R.make_check(name, R.INFO, at, None, "s",
                            "The stress worker on %s was %s after %s s." % (who, message, _num(at)))
    return R.make_check(name, R.FAILED, None, None, None,
                        "The stress worker on %s left no exit record: the orchestrator stopped unexpectedly." % who)


def _mismatch_check(summary, gpu, who, prefix, limit):
    name = prefix + "mismatches"
    count, checked = gpu["mismatches"], gpu["checks"]
    what = "%sx%s %s product" % (summary.get("matrix_size"), summary.get("matrix_size"), summary.get("dtype"))
    if not checked:
        return R.skipped(name, "No result of %s was checked." % who)
    if limit is None:
        return R.make_check(name, R.INFO, count, None, None,
                            "%s returned %d mismatching element(s) in %d checks of its %s (no maximum set)." % (
                                who, count, checked, what))
    if count > limit:
        return R.make_check(name, R.FAILED, count, {"max": limit}, None,
                            "%s returned %d mismatching result element(s) in %d checks of its %s "
                            "(first %s s into the run; the maximum is %d): silent data corruption." % (
                                who, count, checked, what, _num(gpu["first_mismatch_s"]), limit))
    return R.make_check(name, R.PASSED, count, {"max": limit}, None,
                        "%s reproduced the reference %s in all %d checks (%d mismatching elements)." % (
                            who, what, checked, count))


# --- Report material ------------------------------------------------------------------------

def _throttle_cell(gpu):
    seen = dict((r, s) for r, s in gpu["throttle_s"].items() if r != "gpu_idle")
    if not seen:
        return "none"
    return ", ".join("%s %s s" % (r, _num(s)) for r, s in sorted(seen.items()))


def tables(summary):
    cpu = summary.get("device") == "cpu"
    rows = []
    for gpu in summary["gpus"]:
        rows.append([
            gpu["index"], gpu["name"], gpu["tflops_mean"], gpu["tflops_min"], gpu["temperature_max_c"],
            gpu["temperature_mean_c"], gpu["power_mean_w"], gpu["power_max_w"], gpu["sm_clock_mean_mhz"],
            gpu["utilization_mean_percent"], _throttle_cell(gpu), "%d / %d" % (gpu["mismatches"], gpu["checks"]),
            gpu["xid_errors"], gpu["ecc_uncorrected_new"], gpu["worker"].get("state"),
        ])
    title = "stress_gpu: per-GPU summary" + (" (CPU test path, not a GPU result)" if cpu else "")
    first = summary["gpus"][0] if summary["gpus"] else {}
    settings = [
        ["dtype, matrix size", "%s, %s x %s" % (summary.get("dtype"), summary.get("matrix_size"), summary.get("matrix_size"))],
        ["duration asked / loaded", "%s s / %s s" % (_num(summary.get("duration_s")), _num(summary.get("load_s")))],
        ["startup", "%s s" % _num(summary.get("startup_s"))],
        ["sample interval", "%s s" % _num(summary.get("interval_s"))],
        ["result check", "one buffer every %s products, tolerance %s" % (summary.get("check_every"), summary.get("tolerance"))],
        ["ring buffers per GPU", "%s (%s GiB; GPU memory in use %s)" % (
            first.get("ring_buffers"), first.get("ring_gib"), first.get("memory_used_fraction"))],
        ["worker python, torch, CUDA", "%s, %s, %s" % (summary.get("python"), summary.get("torch"), summary.get("cuda"))],
        ["telemetry CSV", summary.get("csv_path")],
    ]
    return [
        {"title": title,
         "columns": ["GPU", "name", "TFLOP/s mean", "TFLOP/s min window", "max C", "mean C", "mean W", "max W",
                     "mean SM MHz", "util %", "clocks events", "mismatches / checks", "XID", "new ECC uncorr.",
                     "worker"],
         "rows": rows},
        {"title": "stress_gpu: run", "columns": ["setting", "value"], "rows": settings},
    ]


def downsample(points, limit=MAX_PLOT_POINTS, pick=max):
    """At most ``limit`` points: consecutive buckets reduced by ``pick`` (x = bucket's last x)."""
    points = [p for p in points if p[1] is not None]
    if len(points) <= limit:
        return points
    size = int(-(-len(points) // limit))
    out = []
    for start in range(0, len(points), size):
        bucket = points[start:start + size]
        out.append([bucket[-1][0], round(pick(p[1] for p in bucket), 3)])
    return out


def _mean_of(values):
    values = list(values)
    return sum(values) / float(len(values))


def plots(records, summary):
    t0 = summary.get("t0")
    if t0 is None:
        return []
    series = {"temperature_c": {}, "power_w": {}, "sm_clock_mhz": {}, "tflops": {}}
    label = "CPU worker %d" if summary.get("device") == "cpu" else "GPU %d"
    for record in records:
        kind = record.get("type")
        if kind == "sample" and record.get("phase") in ("start", "load"):
            x = round(record["t"] - t0, 1)
            for key in ("temperature_c", "power_w", "sm_clock_mhz"):
                series[key].setdefault(label % record["gpu"], []).append([x, record.get(key)])
        elif kind == "window" and record.get("tflops") is not None:
            series["tflops"].setdefault(label % record["gpu"], []).append(
                [round(record["t_end"] - t0, 1), record["tflops"]])
    out = []
    specs = (
        ("tflops", "stress_gpu: TFLOP/s per window (lowest per point)", "TFLOP/s", min),
        ("temperature_c", "stress_gpu: GPU temperature (highest per point)", "C", max),
        ("power_w", "stress_gpu: GPU power draw (mean per point)", "W", _mean_of),
        ("sm_clock_mhz", "stress_gpu: SM clock (lowest per point)", "MHz", min),
    )
    for key, title, unit, pick in specs:
        data = dict((name, downsample(sorted(points), pick=pick)) for name, points in sorted(series[key].items()))
        data = dict((name, points) for name, points in data.items() if points)
        if data:
            out.append({"title": title, "kind": "line", "x_label": "elapsed (s)", "y_label": unit, "series": data})
    return out


def metrics(summary):
    gpus = summary["gpus"]
    ecc = [g["ecc_uncorrected_new"] for g in gpus if g["ecc_uncorrected_new"] is not None]
    keep = dict((k, v) for k, v in summary.items() if k not in ("gpus", "t0"))
    keep.update({
        "gpu_count": len(gpus),
        "tflops_min": _min(g["tflops_min"] for g in gpus),
        "tflops_mean": _mean(g["tflops_mean"] for g in gpus),
        "tflops_total": round(sum(g["tflops_mean"] or 0 for g in gpus), 3) if gpus else None,
        "max_temperature_c": _max(g["temperature_max_c"] for g in gpus),
        "mismatches": sum(g["mismatches"] for g in gpus),
        "xid_errors": sum(g["xid_errors"] for g in gpus),
        "ecc_uncorrected_new": sum(ecc) if ecc else None,
        "per_gpu": gpus,
    })
    return keep
