#!/usr/bin/env bash
# GPU run for issue 18: progress lines and a clean Ctrl-C, as a user sees them.
# EXPECTED RUN TIME: about 5 minutes on one H200 (validate ~2.5 min; stress_gpu stopped after
# ~45 s; validate stopped in ddp_benchmark after ~40 s; each cleanup a few seconds).
# Run by tests/gpu/run-on-device.sh (ansible-core on PATH, this collection in
# ANSIBLE_COLLECTIONS_PATH, $OUT set), from the repository root:
#   bash tests/gpu/run-on-device.sh progress
#
# 1. ansible-playbook vaultcube.demobox.validate (frameworks, ddp_benchmark, stress_gpu 60 s) with
#    validation_progress_interval=10: the progress lines as they appeared -> progress-validate.log;
# 2. ansible-playbook vaultcube.demobox.validate with stress_gpu only, 600 s, progress every 10 s,
#    ONE SIGINT after the first line under load: ansible-playbook must end within 60 s, then no
#    process carrying the run's VAULTCUBE_JOB marker, no compute process on any GPU and no GPU
#    memory in use beyond idle (nvidia-smi), and the report says interrupted, with the windows
#    stress_gpu measured before it was stopped;
# 3. the same with the validation role stopped in ddp_benchmark (steps far beyond the test).
# Writes $OUT/progress-*.log, progress-*-report.{json,md}, progress-summary.txt; exit 0 = all held.
set -u
: "${OUT:?OUT must be set}"
py=$(command -v python3)
n=$(nvidia-smi -L | wc -l)
WORK=$(mktemp -d /tmp/progress.XXXXXX)
SUMMARY=$OUT/progress-summary.txt
: > "$SUMMARY"
fail=0
say() { echo "$*" | tee -a "$SUMMARY"; }
inv=$WORK/inventory.yml
printf 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n' "$py" > "$inv"
common=$(printf '"validation_expected_gpu_count": %d, "validation_worker_python": "%s"' "$n" "$py")

marked() {  # processes of a run: they carry VAULTCUBE_JOB=<marker>
  for d in /proc/[0-9]*; do
    if grep -qz '^VAULTCUBE_JOB=' "$d/environ" 2>/dev/null; then
      echo "${d#/proc/} $(tr '\0' ' ' < "$d/cmdline" 2>/dev/null | cut -c1-100)"
    fi
  done
}
gpu_state() {
  echo "compute apps: [$(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader | tr '\n' ';')]"
  nvidia-smi --query-gpu=index,memory.used,utilization.gpu,power.draw --format=csv,noheader
}

# PROGRESS_STEPS picks steps (default all): validate,stress,ddp,stress-playbook
steps=",${PROGRESS_STEPS:-validate,stress,ddp,stress-playbook},"
want() { [[ $steps == *",$1,"* ]]; }

# 1. A full validation run with progress lines.
if want validate; then
t0=$SECONDS
VAULTCUBE_REPORT_DIR=$WORK/validate timeout 420 ansible-playbook vaultcube.demobox.validate -i "$inv" \
  -e "{$common, \"validation_checks\": [\"frameworks\", \"ddp_benchmark\", \"stress_gpu\"], \"validation_stress_duration\": 60, \"validation_progress_interval\": 10}" \
  > "$OUT/progress-validate.log" 2>&1
rc=$?
lines=$(grep -cE '^(ddp_benchmark|stress_gpu) on localhost: ' "$OUT/progress-validate.log")
say "1. validate: rc=$rc in $((SECONDS - t0)) s, $lines progress lines:"
grep -E '^(ddp_benchmark|stress_gpu) on localhost: ' "$OUT/progress-validate.log" | tee -a "$SUMMARY"
[ "$lines" -ge 4 ] || fail=1
cp "$WORK/validate/localhost/validation-report.md" "$OUT/progress-validate-report.md" 2>/dev/null
fi

# 2 and 3: one SIGINT mid-run.
interrupt() {  # interrupt NAME PATTERN_OF_THE_LINE_TO_WAIT_FOR PLAYBOOK REPORT_BASENAME EXTRA_VARS
  local name=$1 pattern=$2 playbook=$3 base=$4 extra=$5 log=$OUT/progress-$1.log pid rc t1 left
  PYTHONUNBUFFERED=1 VAULTCUBE_REPORT_DIR=$WORK/$name ansible-playbook "$playbook" -i "$inv" -e "$extra" > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do grep -qE "$pattern" "$log" && break; sleep 1; done
  say "$name: before the signal:"; marked | tee -a "$SUMMARY"; gpu_state | tee -a "$SUMMARY"
  t1=$(date +%s.%N)
  kill -INT "$pid"
  wait "$pid"
  rc=$?
  say "$name: ansible-playbook exited $rc, $(awk -v a="$(date +%s.%N)" -v b="$t1" 'BEGIN { printf "%.1f", a - b }') s after ONE SIGINT"
  sleep 2
  left=$(marked)
  say "$name: 2 s later: processes left: [${left}]"
  gpu_state | tee -a "$SUMMARY"
  [ -z "$left" ] || fail=1
  [ -z "$(nvidia-smi --query-compute-apps=pid --format=csv,noheader)" ] || fail=1
  cp "$WORK/$name/localhost/$base.json" "$OUT/progress-$name-report.json" 2>/dev/null
  cp "$WORK/$name/localhost/$base.md" "$OUT/progress-$name-report.md" 2>/dev/null
  "$py" - "$WORK/$name/localhost/$base.json" <<'PY' | tee -a "$SUMMARY" || fail=1
import json, sys
rep = json.load(open(sys.argv[1]))
print("report: interrupted=%s passed=%s" % (rep.get("interrupted"), rep["passed"]))
for c in rep["checks"]:
    print("  %-8s %-36s %s" % (c["status"], c["name"], (c.get("message") or "")[:160]))
assert rep.get("interrupted") is True
PY
  grep -E ' on localhost: ' "$log" | tee -a "$SUMMARY"
}
want stress && interrupt stress '^stress_gpu on localhost: load' vaultcube.demobox.validate validation-report \
  "{$common, \"validation_checks\": [\"stress_gpu\"], \"validation_stress_duration\": 600, \"validation_progress_interval\": 10}"
want ddp && interrupt validate-ddp '^ddp_benchmark on localhost: world size 1: warm-up done' vaultcube.demobox.validate validation-report \
  "{$common, \"validation_checks\": [\"ddp_benchmark\"], \"validation_ddp_steps\": 100000, \"validation_ddp_timeout\": 900, \"validation_progress_interval\": 10}"
# 4. playbooks/stress.yml: a short burn-in with its progress lines, then one with ONE SIGINT.
if want stress-playbook; then
  t0=$SECONDS
  VAULTCUBE_REPORT_DIR=$WORK/stress-playbook timeout 300 ansible-playbook vaultcube.demobox.stress -i "$inv" \
    -e "{\"stress_duration\": 60, \"stress_poll\": 10, \"stress_worker_python\": \"$py\"}" > "$OUT/progress-stress-playbook.log" 2>&1
  rc=$?
  lines=$(grep -cE '^stress_gpu on localhost: ' "$OUT/progress-stress-playbook.log")
  say "4. stress.yml 60 s: rc=$rc in $((SECONDS - t0)) s, $lines progress lines:"
  grep -E '^stress_gpu on localhost: ' "$OUT/progress-stress-playbook.log" | tee -a "$SUMMARY"
  [ "$rc" = 0 ] && [ "$lines" -ge 4 ] || fail=1
  cp "$WORK/stress-playbook/localhost/stress-report.md" "$OUT/progress-stress-playbook-report.md" 2>/dev/null
  interrupt stress-playbook-int '^stress_gpu on localhost: load' vaultcube.demobox.stress stress-report \
    "{\"stress_duration\": 600, \"stress_poll\": 10, \"stress_worker_python\": \"$py\"}"
fi
say "progress: $([ $fail = 0 ] && echo 'all held' || echo 'SOMETHING DID NOT HOLD')"
rm -rf "$WORK"
exit $fail
