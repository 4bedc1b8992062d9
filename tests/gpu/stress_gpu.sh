#!/usr/bin/env bash
# GPU run for stress_gpu (issue 5). Expected run time: about 3.5 minutes on 1 or 2 H200s
# (plain-matmul peak ~20 s; the module through ansible-playbook for 120 s ~150 s; plain peak again
# while hot ~15 s; an impossible temperature threshold, 10 s of load, ~30 s; a worker SIGKILLed
# mid-run ~30 s; plot ~5 s). Every step has its own time limit.
#
# Run by tests/gpu/run-on-device.sh (ansible-core on PATH, this collection in
# ANSIBLE_COLLECTIONS_PATH, $OUT set), from the repository root:
#   bash tests/gpu/run-on-device.sh stress_gpu
# STRESS_DEVICE=cpu runs the same flow on the CPU test path (no GPU, small fp32 matrices, no
# plot without matplotlib), to check the script itself; its figures are not GPU results.
#
# 1. peak: plain torch.matmul bf16 8192^3 into one output buffer, timed with CUDA events, per GPU;
# 2. ansible-playbook vaultcube.demobox.stress for 120 s on every GPU (NVML every 5 s), judged with
#    min_tflops = 95 % of the lower GPU's peak; the script also checks each GPU's lowest window
#    against 95 % of its own peak;
# 3. peak again right after, while the GPUs are hot (tells loop overhead from power/thermal
#    behaviour if 2 misses);
# 4. max_temperature_c below the idle temperature: must fail naming every GPU and the reason;
# 5. a 30 s run whose GPU 0 worker is SIGKILLed (PID from the CSV): must fail naming GPU 0, and
#    no stress process may be left (ps) and no compute process on the GPUs (nvidia-smi).
# Writes to $OUT (6 files with the wrapper's log): stress_gpu-summary.json, stress_gpu-summary.md,
# stress_gpu-telemetry.csv (the 120 s run), stress_gpu-telemetry.png, stress_gpu-details.log.
set -u
: "${OUT:?OUT must be set}"
DEVICE=${STRESS_DEVICE:-cuda}
py=$(command -v python3)
WORK=$(mktemp -d /tmp/stress-gpu.XXXXXX)
DETAILS=$OUT/stress_gpu-details.log
start=$(date +%s)
: > "$DETAILS"
export ANSIBLE_NOCOLOR=1 PYTHONUNBUFFERED=1 ANSIBLE_CALLBACK_RESULT_FORMAT=json
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export CUDA_DEVICE_ORDER=PCI_BUS_ID  # torch's GPU indices = NVML's (the module does the same per worker)

say() { echo "[$(( $(date +%s) - start ))s] $*"; echo "[$(( $(date +%s) - start ))s] $*" >> "$DETAILS"; }

if [ "$DEVICE" = cpu ]; then
  N=256 DTYPE=fp32 PEAK_S=2 MAIN_S=${STRESS_MAIN_S:-12} MEM=0.5
  gpus=$($py -c 'print(",".join(map(str, range(2))))')
else
  N=8192 DTYPE=bf16 PEAK_S=3 MAIN_S=${STRESS_MAIN_S:-120} MEM=0.9
  gpus=$(nvidia-smi --query-gpu=index --format=csv,noheader | paste -sd,)
  nvidia-smi --query-gpu=index,name,temperature.gpu,power.draw,power.limit,clocks.sm,clocks.max.sm,memory.used \
    --format=csv >> "$DETAILS" 2>&1
fi
say "device=$DEVICE gpus=$gpus python=$py dtype=$DTYPE n=$N main=${MAIN_S}s"
cat > "$WORK/inventory.yml" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: $py
INV

# --- 1 / 3: plain matmul peak per GPU -----------------------------------------------------------
peak() {  # peak OUTFILE SECONDS
  timeout 90 "$py" - "$1" "$2" "$DEVICE" "$N" "$DTYPE" "$gpus" >> "$DETAILS" 2>&1 <<'PY'
import json, sys, time
import torch
out, seconds, device, n, dtype, gpus = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
dt = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
result = {}
for index in [int(g) for g in gpus.split(",")]:
    dev = torch.device("cuda", index) if device == "cuda" else torch.device("cpu")
    if device == "cuda":
        torch.cuda.set_device(dev)
    a = torch.randn(n, n, device=dev).to(dt)
    b = torch.randn(n, n, device=dev).to(dt)
    c = torch.empty(n, n, device=dev, dtype=dt)
    flops = 2.0 * n ** 3
    def block(count):
        if device == "cuda":
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            for _ in range(count):
                torch.matmul(a, b, out=c)
            e.record(); e.synchronize()
            return s.elapsed_time(e) / 1000.0
        t = time.perf_counter()
        for _ in range(count):
            torch.matmul(a, b, out=c)
        return time.perf_counter() - t
    one = block(3) / 3  # warm-up, and the size of a timed block
    count = max(1, int(0.5 / one))
    end = time.time() + seconds / 2
    while time.time() < end:  # settle clocks
        block(count)
    total_t, total_n = 0.0, 0
    end = time.time() + seconds / 2
    while time.time() < end:
        total_t += block(count)
        total_n += count
    result[str(index)] = round(flops * total_n / total_t / 1e12, 3)
    print("plain matmul %s %dx%d on %s %d: %.1f TFLOP/s over %.1f s" % (dtype, n, n, device, index, result[str(index)], total_t))
    del a, b, c
json.dump(result, open(out, "w"))
PY
}
say "step 1: plain matmul peak per GPU (${PEAK_S} s each)"
peak "$WORK/peak.json" "$PEAK_S"; say "peak: $(cat "$WORK/peak.json" 2>/dev/null || echo FAILED)"
min_peak=$("$py" -c 'import json,sys; print(min(json.load(open(sys.argv[1])).values()))' "$WORK/peak.json" 2>/dev/null || echo 0)
min_tflops=$("$py" -c 'import sys; print(round(0.95 * float(sys.argv[1]), 1))' "$min_peak")
if [ "$DEVICE" = cpu ]; then min_tflops=null; fi

# --- 2: the module through ansible-playbook -----------------------------------------------------
say "step 2: ansible-playbook vaultcube.demobox.stress for ${MAIN_S} s on GPUs $gpus (min_tflops $min_tflops)"
VAULTCUBE_REPORT_DIR=$WORK/reports timeout $(( MAIN_S + 150 )) ansible-playbook vaultcube.demobox.stress \
  -i "$WORK/inventory.yml" -e "{\"stress_duration\": $MAIN_S, \"stress_sample_interval\": 5, \"stress_poll\": 5,
  \"stress_dtype\": \"$DTYPE\", \"stress_matrix_size\": $N, \"stress_memory_fraction\": $MEM,
  \"stress_min_tflops\": $min_tflops, \"stress_worker_python\": \"$py\", \"stress_device\": \"$DEVICE\",
  \"stress_csv_path\": \"$WORK/main.csv\"}" >> "$DETAILS" 2>&1
main_rc=$?
say "step 2 done: ansible-playbook exit $main_rc"
cp "$WORK/main.csv" "$OUT/stress_gpu-telemetry.csv" 2>/dev/null

say "step 3: plain matmul peak again, GPUs hot"
peak "$WORK/peak-hot.json" "$PEAK_S"; say "hot peak: $(cat "$WORK/peak-hot.json" 2>/dev/null || echo FAILED)"

# --- 4: an impossible threshold -----------------------------------------------------------------
idle=$(nvidia-smi --query-gpu=temperature.gpu --format=csv,noheader 2>/dev/null | sort -n | head -1)
limit=$(( ${idle:-30} - 10 )); [ "$limit" -lt 1 ] && limit=1
say "step 4: max_temperature_c $limit (coolest GPU idles at ${idle:-?} C), 10 s"
timeout 120 ansible localhost -i "$WORK/inventory.yml" -m vaultcube.demobox.stress_gpu -a "{\"duration\": 10,
  \"max_temperature_c\": $limit, \"memory_fraction\": 0.3, \"dtype\": \"$DTYPE\", \"matrix_size\": $N,
  \"device\": \"$DEVICE\", \"gpus\": [${gpus}], \"worker_python\": \"$py\", \"csv_path\": \"$WORK/hot.csv\"}" \
  > "$WORK/impossible.out" 2>&1
impossible_rc=$?
cat "$WORK/impossible.out" >> "$DETAILS"
say "step 4 done: exit $impossible_rc; $(grep -o '"msg": "[^"]*' "$WORK/impossible.out" | head -1 | cut -c9-)"

# --- 5: SIGKILL one worker mid-run --------------------------------------------------------------
say "step 5: 30 s run, SIGKILL the GPU 0 worker once it is loading"
timeout 150 ansible localhost -i "$WORK/inventory.yml" -m vaultcube.demobox.stress_gpu -a "{\"duration\": 30,
  \"memory_fraction\": 0.3, \"dtype\": \"$DTYPE\", \"matrix_size\": $N, \"sample_interval\": 1,
  \"device\": \"$DEVICE\", \"gpus\": [${gpus}], \"worker_python\": \"$py\", \"csv_path\": \"$WORK/kill.csv\"}" \
  > "$WORK/kill.out" 2>&1 &
ansible_pid=$!
victim=""
for _ in $(seq 1 900); do
  victim=$(awk -F, '$3 == "load" && $4 == "0" && $5 != "" {print $5; exit}' "$WORK/kill.csv" 2>/dev/null)
  [ -n "$victim" ] && break
  sleep 0.1
done
if [ -n "$victim" ]; then
  sleep 2
  say "step 5: kill -9 $victim (the GPU 0 worker: $(tr '\0' ' ' < /proc/"$victim"/cmdline 2>/dev/null | cut -c1-120))"
  kill -9 "$victim"
else
  say "step 5: no worker PID appeared in the CSV"
fi
wait "$ansible_pid"
kill_rc=$?
cat "$WORK/kill.out" >> "$DETAILS"
sleep 1
left=$(pgrep -a -f '[s]tress_main[.]py' || true)
apps=""
[ "$DEVICE" = cuda ] && apps=$(nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv,noheader 2>&1)
say "step 5 done: exit $kill_rc; $(grep -o '"msg": "[^"]*' "$WORK/kill.out" | head -1 | cut -c9-)"
say "ps after the kill run (stress_main.py processes): ${left:-none}"
say "nvidia-smi compute apps after: ${apps:-none}"

# --- plot and summary ---------------------------------------------------------------------------
"$py" - "$WORK" "$OUT" "$DEVICE" "$main_rc" "$impossible_rc" "$kill_rc" "${victim:-}" "${left:-}" "${apps:-}" "$limit" \
  "$(( $(date +%s) - start ))" >> "$DETAILS" 2>&1 <<'PY'
import csv, json, os, sys
work, out, device, main_rc, imp_rc, kill_rc, victim, left, apps, limit, elapsed = sys.argv[1:12]

def load(path, default=None):
    try:
        return json.load(open(path))
    except Exception as exc:  # noqa
        return default

peak, hot = load(os.path.join(work, "peak.json"), {}), load(os.path.join(work, "peak-hot.json"), {})
report = load(os.path.join(work, "reports", "localhost", "stress-report.json"), {})
module = (report.get("modules") or {}).get("stress_gpu") or {}
metrics = module.get("metrics") or {}
gpus = metrics.get("per_gpu") or []

def ansible_result(path):
    text = open(path).read() if os.path.exists(path) else ""
    start = text.find("=> {")
    try:
        return json.JSONDecoder().raw_decode(text[start + 3:])[0] if start >= 0 else {"msg": text[-2000:]}
    except ValueError:
        return {"msg": text[-2000:]}

impossible, killed = ansible_result(os.path.join(work, "impossible.out")), ansible_result(os.path.join(work, "kill.out"))
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
md += ["", "## Checks of the 120 s run", ""] + ["- %s %s: %s" % (c.get("status"), c.get("name"), c.get("message"))
                                                 for c in report.get("checks", [])]
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
            for gpu, p in peak.items():
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
PY
say "summary: $(tail -1 "$DETAILS")"
echo
sed -n '1,/^## Checks/p' "$OUT/stress_gpu-summary.md" 2>/dev/null
rm -rf "$WORK"
grep -q '"passed": true' "$OUT/stress_gpu-summary.json" 2>/dev/null
