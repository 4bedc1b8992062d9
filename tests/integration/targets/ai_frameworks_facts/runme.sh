#!/usr/bin/env bash
# ai_frameworks_facts against a real torch (the CPU build in .venv-ai, through setup_ai_python),
# the ai_frameworks_plan and pip_failure filters through Ansible, and the validate playbook's
# `frameworks` check end to end, its report judged by report.yml.
set -eux
export ANSIBLE_ROLES_PATH=..  # setup_ai_python (needs/target/setup_ai_python in aliases)
config=(-e @../../integration_config.yml -e "ansible_python_interpreter=$(command -v python)")
# The role's defaults as installed with the collection (the matrix the filters are given).
dir=$PWD
until [ -f "$dir/roles/ai_frameworks/defaults/main.yml" ] || [ "$dir" = / ]; do dir=$(dirname "$dir"); done
export VAULTCUBE_AI_FRAMEWORKS_DEFAULTS=$dir/roles/ai_frameworks/defaults/main.yml
ansible-playbook main.yml -i localhost, -c local "${config[@]}" "$@"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
validate() {  # validate REPORT_DIR EXTRA_VARS_JSON: the validate playbook with only the frameworks check
  VAULTCUBE_REPORT_DIR="$1" ansible-playbook vaultcube.demobox.validate -i localhost, -c local "${config[@]}" \
    -e '{"validation_expected_gpu_count": null, "validation_min_driver_version": null, "validation_checks": ["frameworks"]}' \
    -e "$2"
}
# The frameworks check under the AI test venv: torch on the CPU, passed.
validate "$out/venv" '{"validation_worker_python": "{{ vaultcube_ai_python }}"}'
ansible-playbook report.yml -i localhost, -c local "${config[@]}" -e "report_dir=$out/venv/localhost case=venv"
# Without the venv (and without a GPU): skipped with the reason.
validate "$out/none" '{"validation_ai_venv": "/nonexistent/venv"}'
ansible-playbook report.yml -i localhost, -c local "${config[@]}" -e "report_dir=$out/none/localhost case=no_venv"
