#!/usr/bin/env bash
# GPU run (issue 16): the validation playbook refuses bad settings of its own before it measures
# anything, on a real GPU host. Three runs of `ansible-playbook vaultcube.demobox.validate`:
#   1. a misspelt name in validation_checks (ddp_bench);
#   2. a report directory that cannot be made (under a regular file);
#   3. a report directory the kernel refuses (/proc/vaultcube-reports).
# Each must exit 2 within seconds with its one sentence, before gpu_facts (the log never shows the
# task "Read every NVIDIA GPU through NVML"), with no report written and no process left on a GPU.
# EXPECTED RUN TIME: about 30 s (three playbook starts).
# Needs tests/gpu/run-on-device.sh's setup (ansible in /tmp/ans, the collection in /tmp/coll, $OUT):
#   bash tests/gpu/run-on-device.sh fail_early
# Writes $OUT/fail-early.txt (one line per run: seconds, exit status, sentence); exit 0 = all refused.
set -u
: "${OUT:?OUT must be set}"
py=$(command -v python3)
work=$(mktemp -d)
inv="$work/inventory.yml"
printf 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n' "$py" > "$inv"
touch "$work/a-file"
n=$(nvidia-smi -L | wc -l)
echo "GPUs: $n; compute processes before: $(nvidia-smi --query-compute-apps=pid --format=csv,noheader | wc -l)" | tee "$OUT/fail-early.txt"
fails=0
# The checks this machine can run (no vLLM here) with its python, so the report directory is what is refused.
base='"validation_checks": ["frameworks", "ddp_benchmark", "stress_gpu"], "validation_worker_python": "'"$py"'"'
case_run() {  # case_run NAME EXTRA_VARS_JSON SENTENCE
  local log="$OUT/fail-early-$1.log" t0 t1 rc
  t0=$(date +%s%N)
  VAULTCUBE_REPORT_DIR="$work/reports" timeout 120 ansible-playbook vaultcube.demobox.validate -i "$inv" -e "$2" > "$log" 2>&1
  rc=$?
  t1=$(date +%s%N)
  local verdict=refused
  [ "$rc" = 2 ] || verdict="WRONG: exit $rc"
  grep -qF -- "$3" "$log" || verdict="WRONG: no sentence"
  ! grep -q "Read every NVIDIA GPU through NVML" "$log" || verdict="WRONG: gpu_facts ran"
  [ ! -e "$work/reports" ] || verdict="WRONG: a report directory appeared"
  ! grep -q Traceback "$log" || verdict="WRONG: a traceback"
  [ "$verdict" = refused ] || fails=$((fails + 1))
  printf '%s: %s in %d.%01d s (exit %s): %s\n' "$1" "$verdict" $(( (t1 - t0) / 1000000000 )) $(( (t1 - t0) / 100000000 % 10 )) "$rc" \
    "$(grep -oF -- "$3" "$log" | head -1)" | tee -a "$OUT/fail-early.txt"
  grep -E '^\[ERROR\]' "$log" | tail -1 | cut -c1-400 | tee -a "$OUT/fail-early.txt"
}
case_run misspelt-check '{"validation_checks": ["frameworks", "ddp_bench"], "validation_expected_gpu_count": '"$n"'}' \
  "value of validation_checks must be one or more of: frameworks, bandwidth, ddp_benchmark, vllm_bench, stress_gpu. Got no match for: ddp_bench"
case_run report-dir-under-a-file '{"validation_report_dir": "'"$work"'/a-file/reports", "validation_expected_gpu_count": '"$n"', '"$base"'}' \
  "validation_report_dir $work/a-file/reports cannot be made on the controller"
case_run report-dir-in-proc '{"validation_report_dir": "/proc/vaultcube-reports", "validation_expected_gpu_count": '"$n"', '"$base"'}' \
  "validation_report_dir /proc/vaultcube-reports cannot be made on the controller"
echo "compute processes after: $(nvidia-smi --query-compute-apps=pid --format=csv,noheader | wc -l)" | tee -a "$OUT/fail-early.txt"
rm -rf "$work"
[ "$fails" = 0 ]
