#!/usr/bin/env bash
# ai_frameworks_facts against a real torch (the CPU build in .venv-ai), the ai_frameworks_plan and
# pip_failure filters through Ansible, and the validate playbook's `frameworks` check end to end.
set -eux
# The checkout this copy was made from holds .venv-ai (ansible-test runs a copy of the collection).
root=$PWD
while [ "$root" != / ]; do
  case "$root" in
    */ansible_collections/*|*/tests/output/*) ;;
    *) [ -x "$root/scripts/ai-venv.sh" ] && break ;;
  esac
  root=$(dirname "$root")
done
[ -x "$root/scripts/ai-venv.sh" ] || { echo "cannot find the checkout's scripts/ai-venv.sh above $PWD" >&2; exit 1; }
ai_python=$("$root/scripts/ai-venv.sh" | tail -1)

# The role's defaults as installed with the collection (the matrix the filters are given).
dir=$PWD
until [ -f "$dir/roles/ai_frameworks/defaults/main.yml" ] || [ "$dir" = / ]; do dir=$(dirname "$dir"); done
export VAULTCUBE_AI_FRAMEWORKS_DEFAULTS=$dir/roles/ai_frameworks/defaults/main.yml
ansible-playbook main.yml -i localhost, -c local -e "ai_python=$ai_python" -e "ansible_python_interpreter=$(command -v python)" "$@"

# The validate playbook with the frameworks check under that interpreter: torch on the CPU, passed.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
VAULTCUBE_REPORT_DIR="$out" ansible-playbook vaultcube.demobox.validate -i localhost, -c local \
  -e "{\"ansible_python_interpreter\": \"$(command -v python)\", \"validation_expected_gpu_count\": null,
       \"validation_min_driver_version\": null, \"validation_checks\": [\"frameworks\"],
       \"validation_worker_python\": \"$ai_python\"}"
python - "$out/localhost/validation-report.json" "$out/localhost/validation-report.md" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
assert rep["passed"] is True, rep["failures"]
checks = {c["name"]: c for c in rep["checks"]}
assert checks["frameworks.torch.import"]["status"] == "passed", checks
assert checks["frameworks.torch.matmul"]["status"] == "passed", checks
gpus = rep["modules"]["gpu_facts"]["metrics"]["gpu_count"]
if gpus == 0:
    assert "runs on the CPU" in checks["frameworks.torch.gpus"]["message"], checks["frameworks.torch.gpus"]
md = open(sys.argv[2]).read()
assert "AI frameworks" in md and "PyTorch" in md, md
print("validate + frameworks: ok")
PY

# Without the venv and without a GPU the check is skipped with the reason, not failed.
VAULTCUBE_REPORT_DIR="$out/none" ansible-playbook vaultcube.demobox.validate -i localhost, -c local \
  -e "{\"ansible_python_interpreter\": \"$(command -v python)\", \"validation_expected_gpu_count\": null,
       \"validation_min_driver_version\": null, \"validation_checks\": [\"frameworks\"],
       \"validation_ai_venv\": \"/nonexistent/venv\"}"
python - "$out/none/localhost/validation-report.json" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
module = rep["modules"]["frameworks"]
if rep["modules"]["gpu_facts"]["metrics"]["gpu_count"] == 0:
    assert module["skipped_reason"].startswith("No AI frameworks venv at /nonexistent/venv (the ai_frameworks role makes it) and No NVIDIA GPU"), module
print("frameworks without venv: ok")
PY
