#!/usr/bin/env bash
# End to end: `ansible-playbook vaultcube.demobox.stress`, as a user runs it, against this machine.
# 1. On the CPU test path (torch from VAULTCUBE_AI_PYTHON): the async task passes and the report
#    (JSON, Markdown, JUnit, HTML with the throughput plot) is written.
# 2. Ctrl-C on the playbook stops the burn-in (the watchdog), and the result says interrupted.
# 3. On a host without a GPU, the real path: the play fails with the no-GPU sentence, after the
#    report (one error testcase carrying that sentence) is written.
set -eux
# scripts/test.sh hands the AI test venv's python over in integration_config.yml (ansible-test
# passes no environment through); VAULTCUBE_AI_PYTHON serves a direct run.
ai_python=$(sed -n 's/^vaultcube_ai_python: *//p' ../../integration_config.yml 2>/dev/null || true)
ai_python=${ai_python:-${VAULTCUBE_AI_PYTHON:-}}
[ -n "$ai_python" ] || { echo "no AI test venv: run scripts/ai-venv.sh and set VAULTCUBE_AI_PYTHON" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inv="$out/inventory.yml"
cat > "$inv" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "$(command -v python)"
INV

VAULTCUBE_REPORT_DIR="$out/reports" ansible-playbook vaultcube.demobox.stress -i "$inv" -e "{
  \"stress_device\": \"cpu\", \"stress_duration\": 4, \"stress_sample_interval\": 1, \"stress_matrix_size\": 128,
  \"stress_dtype\": \"fp32\", \"stress_poll\": 2, \"stress_worker_python\": \"$ai_python\",
  \"stress_csv_path\": \"$out/stress.csv\"}" "$@" | tee "$out/cpu.log"
python - "$out/reports/localhost" "$out/stress.csv" <<'PY'
import csv, json, os, sys
d, csv_path = sys.argv[1:]
assert sorted(os.listdir(d)) == ["stress-report.html", "stress-report.json", "stress-report.md", "stress-report.xml"], os.listdir(d)
rep = json.load(open(os.path.join(d, "stress-report.json")))
assert rep["passed"] is True, rep["failures"]
mod = rep["modules"]["stress_gpu"]
assert mod["metrics"]["device"] == "cpu" and mod["metrics"]["gpu_count"] == 1
assert [p["title"] for p in mod["plots"]] == ["stress_gpu: TFLOP/s per window (lowest per point)"]
html = open(os.path.join(d, "stress-report.html")).read()
assert "<svg" in html and "TFLOP/s per window" in html
md = open(os.path.join(d, "stress-report.md")).read()
assert "not a GPU result" in md
rows = list(csv.DictReader(open(csv_path)))
assert len([r for r in rows if r["phase"] == "load"]) >= 2, rows
print("stress playbook on the CPU test path: report ok, %d checks" % len(rep["checks"]))
PY
grep -q "CPU test run (not a GPU result): Stressed 1 CPU worker(s)" "$out/cpu.log"

# Ctrl-C on the playbook stops the burn-in: the watchdog on the host signals the run's
# orchestrator once the playbook has stopped watching for stress_watch_grace seconds; every
# process of the run is gone soon after, and the job's result says it was interrupted.
setsid ansible-playbook vaultcube.demobox.stress -i "$inv" -e "{
  \"stress_device\": \"cpu\", \"stress_duration\": 600, \"stress_sample_interval\": 1, \"stress_matrix_size\": 128,
  \"stress_dtype\": \"fp32\", \"stress_poll\": 2, \"stress_watch_grace\": 10, \"stress_worker_python\": \"$ai_python\",
  \"stress_csv_path\": \"$out/ctrl-c.csv\"}" > "$out/ctrl-c.log" 2>&1 &
pb=$!
for _ in $(seq 300); do grep -q "Wait for the run" "$out/ctrl-c.log" && break; sleep 1; done
grep -q "Stop: Ctrl-C here; the watchdog on the host stops the run within 10 s" "$out/ctrl-c.log"
run=$(grep -o 'Stress run stress-[0-9T-]*' "$out/ctrl-c.log" | head -1 | cut -d' ' -f3)
jid=$(grep -o 'async job j[0-9.]*' "$out/ctrl-c.log" | head -1 | cut -d' ' -f3)
[ -n "$run" ] && [ -n "$jid" ]
# Interrupt it under load (rows of the load phase in its CSV), as a user watching it would.
for _ in $(seq 300); do grep -q '^[^,]*,[^,]*,load,' "$out/ctrl-c.csv" 2>/dev/null && break; sleep 1; done
kill -INT -- "-$pb"
wait "$pb" || true
left=1
for _ in $(seq 180); do
  left=$(grep -lx -F -z "VAULTCUBE_STRESS_RUN=$run" /proc/[0-9]*/environ 2>/dev/null | wc -l)
  [ "$left" = 0 ] && break
  sleep 1
done
[ "$left" = 0 ]
for _ in $(seq 60); do grep -q '"started"' ~/.ansible_async/"$jid" || break; sleep 1; done
python - ~/.ansible_async/"$jid" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r.get("metrics", {}).get("end_reason") == "interrupted", r.get("msg")
assert r["msg"].startswith("The stress run was interrupted by signal 15 after "), r["msg"]
print("Ctrl-C: " + r["msg"])
PY

# Without a GPU the real path fails, but only after its report is written.
if ! nvidia-smi -L >/dev/null 2>&1; then
  set +e
  VAULTCUBE_REPORT_DIR="$out/reports-nogpu" ansible-playbook vaultcube.demobox.stress -i "$inv" \
    -e '{"stress_duration": 5, "stress_poll": 2}' > "$out/nogpu.log" 2>&1
  rc=$?
  set -e
  cat "$out/nogpu.log"
  [ "$rc" = 2 ]
  grep -q "Stress run on localhost failed: No NVIDIA GPU to stress on this host: " "$out/nogpu.log"
  python - "$out/reports-nogpu/localhost/stress-report.json" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
assert rep["passed"] is False and rep["summary"]["error"] == 1, rep["summary"]
assert rep["checks"][0]["message"].startswith("No NVIDIA GPU to stress on this host: "), rep["checks"]
PY
fi
echo "stress playbook: all good"
