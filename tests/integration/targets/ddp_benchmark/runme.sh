#!/usr/bin/env bash
# ddp_benchmark for real, on this machine's CPU with gloo and a small model:
#  1. through `ansible-playbook vaultcube.demobox.validate` (validation_ddp_device: cpu), then
#     report.yml judges the report it wrote: structure, figures positive and consistent with each
#     other (never their speed);
#  2. the module's own error paths (module.yml): bad parameters, no torch, no GPU, check mode,
#     a run past its timeout and a run out of memory, each leaving no process behind.
# The torch interpreter is the stand-in AI venv, checked and handed over by setup_ai_python
# (vaultcube_ai_python from tests/integration/integration_config.yml, which scripts/test.sh writes).
set -eux
export ANSIBLE_ROLES_PATH=..  # setup_ai_python (needs/target/setup_ai_python in aliases)
config=(-e @../../integration_config.yml)
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
      validation_worker_python: "{{ vaultcube_ai_python }}"
      validation_ddp_device: cpu
      validation_ddp_model: small_cnn
      validation_ddp_image_size: 32
      validation_ddp_num_classes: 10
      validation_ddp_batch_size: 8
      validation_ddp_precision: fp32
      validation_ddp_steps: 12
      validation_ddp_warmup: 2
      validation_ddp_world_sizes: [1, 2]
      validation_ddp_timeout: 300
      validation_min_scaling_efficiency: null
INV

# The module's own paths first: its play starts with setup_ai_python, which says it in one
# sentence when the AI test interpreter is missing.
start=$(date +%s)
ansible-playbook -i "$inv" module.yml "${config[@]}" "$@"
echo "module error paths: $(( $(date +%s) - start ))s"

start=$(date +%s)
VAULTCUBE_REPORT_DIR="$out/reports" ansible-playbook vaultcube.demobox.validate -i "$inv" "${config[@]}" "$@"
echo "validate playbook with ddp_benchmark on the CPU: $(( $(date +%s) - start ))s"
ansible-playbook -i "$inv" report.yml -e "report_dir=$out/reports/localhost" "$@"

# Nothing the module started is still running (its workers run from vaultcube-ddp-* folders).
if pgrep -af 'vaultcube-ddp-[^/]*/ddp_worker.py'; then
  echo "leftover ddp_benchmark processes" >&2
  exit 1
fi
echo "ddp_benchmark: all good"
