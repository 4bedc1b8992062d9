#!/usr/bin/env bash
# GPU run: the validation playbook as a user runs it, with every check that needs no vLLM bundle
# (frameworks, ddp_benchmark, stress_gpu; vllm_bench has its own script, tests/gpu/vllm_bench.sh),
# the role's default thresholds, and the expected GPU count set to what nvidia-smi lists.
# EXPECTED RUN TIME: about 2.5 minutes on one H200 (ddp ~45 s, stress 60 s + start-up).
# Needs tests/gpu/run-on-device.sh's setup (ansible in /tmp/ans, the collection in /tmp/coll, $OUT).
# Writes $OUT/validate-all-report.{md,json} and $OUT/validate-all.log; exit = the playbook's.
set -u
: "${OUT:?OUT must be set}"
py=$(command -v python3)
n=$(nvidia-smi -L | wc -l)
export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
inv=$(mktemp --suffix .yml)
printf 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n' "$py" > "$inv"
extra=$(printf '{"validation_expected_gpu_count": %d, "validation_worker_python": "%s", "validation_checks": ["frameworks", "ddp_benchmark", "stress_gpu"]}' "$n" "$py")
start=$SECONDS
VAULTCUBE_REPORT_DIR=/tmp/reports-all timeout 300 ansible-playbook vaultcube.demobox.validate -i "$inv" -e "$extra" > "$OUT/validate-all.log" 2>&1
rc=$?
cp /tmp/reports-all/localhost/validation-report.md "$OUT/validate-all-report.md" 2>/dev/null
cp /tmp/reports-all/localhost/validation-report.json "$OUT/validate-all-report.json" 2>/dev/null
grep -E "PLAY RECAP|localhost +:|Validation of|fatal" "$OUT/validate-all.log" | tail -5
head -40 "$OUT/validate-all-report.md" 2>/dev/null
echo "validate (frameworks, ddp_benchmark, stress_gpu) on $n GPU(s): rc=$rc in $((SECONDS - start)) s"
exit "$rc"
