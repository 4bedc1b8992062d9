#!/usr/bin/env bash
# GPU run for the foundation (issue 2), about 30 s: the validate playbook (gpu_facts only) against the GPU
# machine itself, once with expected_count equal to its GPU count (must pass) and once with one
# more (must fail with one sentence, after writing its report). Reports and the task timings
# (ansible.posix.profile_tasks) go to $OUT.
set -u
py=$(command -v python3)
n=$(nvidia-smi -L | wc -l)
export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
inv=$(mktemp --suffix .yml)
cat > "$inv" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: $py
INV
echo "== expected_count=$n (must pass)"
VAULTCUBE_REPORT_DIR=/tmp/reports-pass ansible-playbook vaultcube.demobox.validate -i "$inv" \
  -e "{\"validation_expected_gpu_count\": $n, \"validation_min_driver_version\": \"570\", \"validation_checks\": []}" | tee "$OUT/foundation-pass.txt"
pass_rc=${PIPESTATUS[0]}
echo "== expected_count=$((n + 1)) (must fail)"
VAULTCUBE_REPORT_DIR=/tmp/reports-fail ansible-playbook vaultcube.demobox.validate -i "$inv" \
  -e "{\"validation_expected_gpu_count\": $((n + 1)), \"validation_checks\": []}" > /tmp/foundation-fail.txt 2>&1
fail_rc=$?
grep -E "fatal|Validation of|Report " /tmp/foundation-fail.txt
cp /tmp/reports-pass/localhost/validation-report.json "$OUT/foundation-report.json"
cp /tmp/reports-pass/localhost/validation-report.md "$OUT/foundation-report.md"
cp /tmp/reports-fail/localhost/validation-report.md "$OUT/foundation-report-fail.md"
echo "pass run rc=$pass_rc (want 0); fail run rc=$fail_rc (want 2)"
[ "$pass_rc" = 0 ] && [ "$fail_rc" = 2 ]
