# -*- coding: utf-8 -*-
"""Synthetic stress_gpu run records, shaped like the orchestrator (_stress_worker.py) writes them."""

T0 = 1000.0


def make_run(gpus=2, duration=20, interval=5, temps=None, reasons=None, tflops=None, mismatches=None,
             exits=None, xids=(), ecc=None, device="cuda", end="completed", telemetry=True, sample_errors=()):
    """Records of a run, shaped like the orchestrator writes them."""
    temps = temps or {}
    reasons = reasons or {}
    tflops = tflops or {}
    mismatches = mismatches or {}
    exits = exits or {}
    ecc = ecc or {}
    k_final = duration // interval
    records = [{"type": "meta", "started": T0 - 12, "device": device, "duration": float(duration),
                "interval": float(interval), "dtype": "bf16", "matrix_size": 8192, "memory_fraction": 0.9,
                "check_every": 16, "tolerance": 0.0, "csv_path": "/tmp/x.csv", "python": "/venv/bin/python",
                "telemetry": telemetry, "telemetry_reason": None if telemetry else "NVML binding missing",
                "xid_supported": dict((str(i), True) for i in range(gpus)), "xid_reason": None,
                "gpus": [{"index": i, "uuid": "GPU-%d" % i, "name": "NVIDIA H200"} for i in range(gpus)]}]

    def sample(i, phase, k, t):
        temp = temps.get(i, [40] * (k_final + 2))
        base_ecc = ecc.get(i, (0, 0))
        return {"type": "sample", "phase": phase, "k": k, "gpu": i, "t": t, "temperature_c": temp[min(k + 1, len(temp) - 1)],
                "power_w": 650.0 if phase == "load" else 90.0, "sm_clock_mhz": 1700 if phase == "load" else 345,
                "utilization_gpu_percent": 100 if phase == "load" else 0,
                "clocks_event_reasons": reasons.get((i, k), ["sw_power_cap"] if phase == "load" else ["gpu_idle"]),
                "ecc_enabled": True, "ecc_uncorrected_volatile": base_ecc[1] if k == k_final else 0,
                "ecc_corrected_volatile": base_ecc[0] if k == k_final else 0,
                "pcie_replay_counter": 3, "power_violation_s": 1.0 + k, "thermal_violation_s": 0.0}

    if telemetry:
        records += [sample(i, "idle", -1, T0 - 11) for i in range(gpus)]
    records += [{"type": "ready", "gpu": i, "device_name": "NVIDIA H200", "torch": "2.11.0", "cuda": "13.0",
                 "ring_buffers": 990, "ring_gib": 123.8, "memory_used_fraction": 0.9, "matmul_ms": 1.47,
                 "startup_mismatches": 0} for i in range(gpus)]
    records.append({"type": "load", "t0": T0, "deadline": T0 + duration, "startup_s": 12.0})
    if telemetry:
        records += [sample(i, "start", 0, T0) for i in range(gpus)]
    for i in range(gpus):
        total = 0
        died_at = exits.get(i, {}).get("elapsed")
        for k in range(1, k_final + 1):
            t = T0 + k * interval
            if died_at is not None and t > T0 + died_at:
                break
            if telemetry:
                if (i, k) in sample_errors:
                    records.append({"type": "sample_error", "gpu": i, "k": k, "t": t, "error": "GPU is lost"})
                else:
                    records.append(sample(i, "load", k, t))
            rate = tflops.get(i, [700.0] * k_final)[k - 1]
            bad = mismatches.get(i, {}).get(k, 0)
            total += bad
            records.append({"type": "window", "gpu": i, "index": k, "t_end": t + 0.06, "seconds": float(interval),
                            "flops": rate * 1e12 * interval, "tflops": rate, "matmuls": 100 * k, "checks": 10,
                            "mismatches": bad, "mismatches_total": total, "matmuls_total": 100 * k,
                            "checks_total": 10 * k})
        state = exits.get(i, {}).get("state", "completed")
        if state == "completed":
            records.append({"type": "done", "gpu": i, "matmuls_total": 100 * k_final, "checks_total": 10 * k_final,
                            "mismatches_total": total})
        records.append({"type": "worker_exit", "gpu": i, "state": state, "rc": exits.get(i, {}).get("rc", 0),
                        "elapsed": died_at if died_at is not None else duration + 0.2,
                        "message": exits.get(i, {}).get("message", "ran to the end")})
    for gpu, xid, t in xids:
        records.append({"type": "xid", "gpu": gpu, "xid": xid, "t": T0 + t})
    if end:
        records.append({"type": "end", "reason": end, "t": T0 + duration + 1, "signal": 15 if end == "interrupted" else None})
    return records
