# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Summary and verdicts of tests/gpu/stress_gpu.yml: per GPU the plain peak, the hot peak and the
stress run's figures side by side, the fault tests, the verdicts, and the telemetry plot.

    stress_summary.py WORK OUT DEVICE MAIN_RC IMPOSSIBLE_RC KILL_RC VICTIM LEFT APPS LIMIT ELAPSED

WORK holds peak.json, peak-hot.json, reports/localhost/stress-report.json, main.csv and the
registered module results impossible.json and kill.json. Writes OUT/stress_gpu-summary.json
(with "passed"), OUT/stress_gpu-summary.md and OUT/stress_gpu-telemetry.png (with matplotlib).
"""
import csv
import json
import os
import sys


def load(path, default=None):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return default


def main():
    work, out, device, main_rc, imp_rc, kill_rc, victim, left, apps, limit, elapsed = sys.argv[1:12]

    peak, hot = load(os.path.join(work, "peak.json"), {}), load(os.path.join(work, "peak-hot.json"), {})
    report = load(os.path.join(work, "reports", "localhost", "stress-report.json"), {})
    module = (report.get("modules") or {}).get("stress_gpu") or {}
    metrics = module.get("metrics") or {}
    gpus = metrics.get("per_gpu") or []

    impossible, killed = load(os.path.join(work, "impossible.json"), {}), load(os.path.join(work, "kill.json"), {})
    rows, verdicts = [], []
    for g in gpus:
        p, h = peak.get(str(g["index"])), hot.get(str(g["index"]))
        ratio = (g["tflops_min"] / p) if (p and g.get("tflops_min")) else None
        rows.append({"gpu": g["index"], "name": g["name"], "peak_tflops": p, "hot_peak_tflops": h,
                     "sustained_min_window_tflops": g.get("tflops_min"), "mean_tflops": g.get("tflops_mean"),
                     "min_over_peak": round(ratio, 4) if ratio else None,
                     "max_temperature_c": g.get("temperature_max_c"), "mean_power_w": g.get("power_mean_w"),
                     "mean_sm_clock_mhz": g.get("sm_clock_mean_mhz"), "throttle_s": g.get("throttle_s"),
                     "power_violation_s": g.get("power_violation_s"), "thermal_violation_s": g.get("thermal_violation_s"),
                     "mismatches": g.get("mismatches"), "checks": g.get("checks"), "xid_errors": g.get("xid_errors"),
                     "ecc_uncorrected_new": g.get("ecc_uncorrected_new"), "windows": g.get("windows"),
                     "ring_gib": g.get("ring_gib"), "memory_used_fraction": g.get("memory_used_fraction")})
        if device == "cuda":
            verdicts.append(("GPU %d sustained >= 95%% of its plain peak" % g["index"], bool(ratio and ratio >= 0.95)))
    verdicts.insert(0, ("120 s run passed every judged check", main_rc == "0" and report.get("passed") is True))
    imp_msg = impossible.get("msg") or ""
    kill_msg = killed.get("msg") or ""
    if device == "cuda":
        verdicts.append(("impossible threshold fails naming every GPU", imp_rc != "0" and all(
            ("GPU %d (" % g["index"]) in imp_msg and "above the maximum of %s C" % limit in imp_msg for g in gpus)))
    verdicts.append(("killed worker fails naming GPU 0", kill_rc != "0" and bool(victim) and
                     kill_msg.startswith("The stress worker on %s 0 " % ("GPU" if device == "cuda" else "CPU worker"))
                     and "SIGKILL" in kill_msg))
    verdicts.append(("no process left after the kill", not left and (device != "cuda" or not apps.strip() or "No running" in apps)))
    summary = {"device": device, "elapsed_s": int(elapsed), "dtype": metrics.get("dtype"), "matrix_size": metrics.get("matrix_size"),
               "duration_s": metrics.get("duration_s"), "load_s": metrics.get("load_s"), "startup_s": metrics.get("startup_s"),
               "min_tflops_judged": (module.get("thresholds") or {}).get("min_tflops"), "gpus": rows,
               "checks": [{k: c.get(k) for k in ("name", "status", "message")} for c in report.get("checks", [])],
               "impossible_threshold": {"rc": int(imp_rc), "msg": imp_msg, "limit_c": int(limit)},
               "kill": {"rc": int(kill_rc), "victim_pid": victim, "msg": kill_msg, "ps_left": left, "nvidia_smi_apps": apps},
               "verdicts": [{"what": w, "ok": ok} for w, ok in verdicts], "passed": all(ok for _w, ok in verdicts)}
    json.dump(summary, open(os.path.join(out, "stress_gpu-summary.json"), "w"), indent=2)

    def cell(v):
        if isinstance(v, dict):
            return ", ".join("%s %s s" % kv for kv in sorted(v.items())) or "none"
        return "-" if v is None else str(v)
    cols = ["gpu", "name", "peak_tflops", "hot_peak_tflops", "sustained_min_window_tflops", "mean_tflops", "min_over_peak",
            "max_temperature_c", "mean_power_w", "mean_sm_clock_mhz", "throttle_s", "power_violation_s",
            "thermal_violation_s", "mismatches", "checks", "xid_errors", "ecc_uncorrected_new"]
    md = ["# stress_gpu on %s (%s)" % (device, "not a GPU result" if device == "cpu" else "GPU run"), "",
          "%s %sx%s, %s s asked, %s s loaded, startup %s s, script %s s." % (
              metrics.get("dtype"), metrics.get("matrix_size"), metrics.get("matrix_size"), metrics.get("duration_s"),
              metrics.get("load_s"), metrics.get("startup_s"), elapsed), "",
          "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in rows]
    md += ["", "## Fault tests", "", "- impossible threshold (max %s C): exit %s: %s" % (limit, imp_rc, imp_msg),
           "- worker SIGKILLed (PID %s): exit %s: %s" % (victim or "-", kill_rc, kill_msg),
           "- stress processes left after it: %s; GPU compute apps: %s" % (left or "none", (apps or "none").strip()), "",
           "## Verdicts", ""] + ["- %s: %s" % ("ok" if ok else "FAILED", w) for w, ok in verdicts]
    md += ["", "## Checks of the 120 s run", ""]
    md += ["- %s %s: %s" % (c.get("status"), c.get("name"), c.get("message")) for c in report.get("checks", [])]
    open(os.path.join(out, "stress_gpu-summary.md"), "w").write("\n".join(md) + "\n")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib here: no plot")
    else:
        data = [r for r in csv.DictReader(open(os.path.join(work, "main.csv"))) if r["phase"] in ("start", "load")]
        panels = [("temperature_c", "temperature (C)"), ("power_w", "power (W)"), ("sm_clock_mhz", "SM clock (MHz)"),
                  ("window_tflops", "TFLOP/s per 5 s window")]
        fig, axes = plt.subplots(len(panels), 1, figsize=(10, 11), sharex=True)
        for ax, (key, label) in zip(axes, panels):
            for gpu in sorted(set(r["gpu"] for r in data), key=int):
                pts = [(float(r["elapsed_s"]), float(r[key])) for r in data if r["gpu"] == gpu and r[key] not in ("", None)]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label="GPU %s" % gpu)
            if key == "window_tflops":
                for p in peak.values():
                    ax.axhline(0.95 * p, linestyle="--", linewidth=0.8, color="grey")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            ax.legend(loc="lower right", fontsize=8)
        reasons = sorted(set(x for r in data for x in r["clocks_event_reasons"].split(";") if x))
        axes[0].set_title("stress_gpu %s %sx%s, %s s; clocks-event reasons seen: %s" % (
            metrics.get("dtype"), metrics.get("matrix_size"), metrics.get("matrix_size"), metrics.get("duration_s"),
            ", ".join(reasons) or "none"), fontsize=10)
        axes[-1].set_xlabel("elapsed (s)")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "stress_gpu-telemetry.png"), dpi=90)
    print("summary written; passed=%s" % summary["passed"])


if __name__ == "__main__":
    main()
