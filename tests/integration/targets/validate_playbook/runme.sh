#!/usr/bin/env bash
# End to end: `ansible-playbook vaultcube.demobox.validate` against this machine, as `make demo`
# runs it, then read the report it wrote. On a machine without a GPU the report must say 0 GPUs
# with the reason and mark the GPU checks skipped; a threshold the host cannot meet must fail the
# play only after the report is written; report.yml judges each report.
set -eux
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
INV

VAULTCUBE_REPORT_DIR="$out/reports" ansible-playbook vaultcube.demobox.validate -i "$inv" "$@"
ansible-playbook -i "$inv" report.yml -e "report_dir=$out/reports/localhost case=passed"

# One GPU more than the host has: the play fails, and the report is there first, saying why.
rm -rf "$out/reports"
set +e
VAULTCUBE_REPORT_DIR="$out/reports" ansible-playbook vaultcube.demobox.validate -i "$inv" \
  -e '{"validation_expected_gpu_count": 999}' > "$out/fail.log" 2>&1
rc=$?
set -e
cat "$out/fail.log"
[ "$rc" = 2 ]
grep -q "Validation of localhost failed: Expected 999 GPUs, found" "$out/fail.log"
ansible-playbook -i "$inv" report.yml -e "report_dir=$out/reports/localhost case=failed"

# A wrong type is refused by the role's argument spec before anything runs.
set +e
ansible-playbook vaultcube.demobox.validate -i "$inv" -e '{"validation_expected_gpu_count": "four"}' > "$out/type.log" 2>&1
rc=$?
set -e
[ "$rc" = 2 ]
grep -q "validation_expected_gpu_count" "$out/type.log"
echo "validate playbook: all good"
