#!/usr/bin/env bash
# Progress lines and a clean Ctrl-C, on this machine's CPU (ddp_benchmark with gloo, through
# `ansible-playbook vaultcube.demobox.validate`, as a user runs it):
#  1. a run that ends by itself prints "ddp_benchmark on localhost: ..." lines every
#     validation_progress_interval seconds, and its report passes as before;
#  2. a long run gets SIGINT once, mid-run: ansible-playbook ends ("User interrupted execution"),
#     within seconds no process carrying the run's VAULTCUBE_JOB marker is left (module, torchrun,
#     ranks), and the report written says interrupted, keeping gpu_facts measured before;
#  3. the same with SIGTERM to ansible-playbook.
set -eux
config=../../integration_config.yml
ai_python=$(python -c 'import sys, yaml; print((yaml.safe_load(open(sys.argv[1])) or {}).get("vaultcube_ai_python") or "")' "$config" 2>/dev/null || true)
ai_python=${ai_python:-${VAULTCUBE_AI_PYTHON:-}}
if [ -z "$ai_python" ] || [ ! -x "$ai_python" ]; then
  echo "No torch interpreter: run this target through 'make integration' (scripts/test.sh creates .venv-ai with scripts/ai-venv.sh)." >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inv="$out/inventory.yml"
cat > "$inv" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "$(command -v python)"
      validation_expected_gpu_count: null
      validation_min_driver_version: null
      validation_checks: [ddp_benchmark]
      validation_worker_python: "$ai_python"
      validation_ddp_device: cpu
      validation_ddp_model: small_cnn
      validation_ddp_image_size: 32
      validation_ddp_num_classes: 10
      validation_ddp_batch_size: 8
      validation_ddp_precision: fp32
      validation_ddp_warmup: 2
      validation_ddp_world_sizes: [1, 2]
      validation_ddp_timeout: 600
      validation_min_scaling_efficiency: null
      validation_min_gpu_utilization: null
      validation_progress_interval: 2
INV

# Processes of a validation run: every one carries VAULTCUBE_JOB=validation-<random> in its environment.
marked() (  # a subshell without tracing: it reads every /proc entry
  set +x
  for d in /proc/[0-9]*; do
    if grep -qz '^VAULTCUBE_JOB=validation-' "$d/environ" 2>/dev/null; then
      echo "${d#/proc/} $(tr '\0' ' ' < "$d/cmdline" 2>/dev/null | cut -c1-120)"
    fi
  done
)
[ -z "$(marked)" ] || { echo "processes of an earlier run are still there:"; marked; exit 1; }

# 1. A short run: progress lines, then the usual report.
VAULTCUBE_REPORT_DIR="$out/short" ansible-playbook vaultcube.demobox.validate -i "$inv" \
  -e validation_ddp_steps=80 | tee "$out/short.log"
grep -E '^ddp_benchmark on localhost: ' "$out/short.log"
# rank 0's progress file: the phase, then the samples/s of the world size measured last
grep -qE '^ddp_benchmark on localhost: world size [12]: .*, [0-9hms]+, [0-9.]+ samples/s' "$out/short.log"
[ -z "$(ls /tmp/vaultcube-progress-validation-* 2>/dev/null)" ]   # removed when the job ended
python - "$out/short/localhost/validation-report.json" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
# no threshold is set on this CPU run: nothing fails, nothing errs, and nothing was interrupted
assert rep["interrupted"] is False and not rep["failures"] and rep["summary"]["error"] == 0, rep["summary"]
ddp = rep["modules"]["ddp_benchmark"]
assert ddp["metrics"], ddp
print("short run: report ok, %d checks" % len(rep["checks"]))
PY

# 2 and 3. A run far longer than the test: one signal mid-run.
interrupt() {  # interrupt SIGNAL NAME
  local sig=$1 name=$2 log="$out/$2.log" pid rc start
  # Unbuffered: ansible-playbook writes to a file here, and the lines are waited for as they come.
  PYTHONUNBUFFERED=1 VAULTCUBE_REPORT_DIR="$out/$name" ansible-playbook vaultcube.demobox.validate -i "$inv" \
    -e validation_ddp_steps=100000 > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 180); do
    grep -q '^ddp_benchmark on localhost: ' "$log" && [ -n "$(marked | grep torch.distributed.run || true)" ] && break
    sleep 1
  done
  grep -q '^ddp_benchmark on localhost: ' "$log" || { cat "$log"; exit 1; }
  marked
  start=$(date +%s)
  kill "-$sig" "$pid"
  set +e
  wait "$pid"
  rc=$?
  set -e
  cat "$log"
  echo "ansible-playbook ended with $rc, $(( $(date +%s) - start )) s after SIG$sig"
  [ $(( $(date +%s) - start )) -le 60 ]
  if [ "$sig" = INT ]; then
    [ "$rc" = 99 ] && grep -q 'User interrupted execution' "$log"
  else
    [ "$rc" = 143 ]
  fi
  # The worker that stopped the job writes the report a moment after ansible-playbook is gone
  # when the signal was SIGTERM (ansible-playbook does not wait for it then).
  for _ in $(seq 1 60); do
    [ -z "$(marked)" ] && [ -f "$out/$name/localhost/validation-report.json" ] && break
    sleep 1
  done
  [ -z "$(marked)" ] || { echo "left behind:"; marked; exit 1; }
  python - "$out/$name/localhost/validation-report.json" "SIG$sig" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
assert rep["interrupted"] is True and rep["passed"] is False, rep
checks = {c["name"]: c for c in rep["checks"]}
assert "gpu_facts.count" in checks, sorted(checks)          # measured before: kept
row = checks["ddp_benchmark.interrupted"]
assert row["status"] == "error" and row["message"].startswith("Interrupted by %s after " % sys.argv[2]), row
assert "Last progress: ddp_benchmark on localhost: " in row["message"], row
print("interrupted by %s: report says so: %s" % (sys.argv[2], row["message"]))
PY
}
interrupt INT sigint
interrupt TERM sigterm
echo "job_progress: progress lines and clean interrupts ok"
