#!/usr/bin/env bash
# gpu_bandwidth for real, on this machine's CPU: the collectives with gloo at world size 2 under
# torch's own launcher, each result checked exactly.
#  1. module.yml - the module on its own: figures consistent with nccl-tests' definitions, a rank
#     that corrupts one element (the exact check fails naming collective, size, ranks, element),
#     a rank that stalls (the timeout path names collective, size and ranks; no process is left),
#     check mode, bad parameters, no torch, no GPU;
#  2. the validate playbook with the bandwidth check on the CPU, then report.yml reads the report
#     it wrote (tables, the bus bandwidth plot, the checks).
# The torch interpreter is the stand-in AI venv (.venv-ai, CPU torch) that scripts/test.sh makes
# and names in tests/integration/integration_config.yml.
set -euxo pipefail
config=../../integration_config.yml
ai_python=$(python -c 'import sys, yaml; print((yaml.safe_load(open(sys.argv[1])) or {}).get("vaultcube_ai_python") or "")' "$config" 2>/dev/null || true)
if [ -z "$ai_python" ] || [ ! -x "$ai_python" ]; then
  echo "No torch interpreter: run this target through 'make integration' (scripts/test.sh creates .venv-ai with scripts/ai-venv.sh)." >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

start=$(date +%s)
ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$(command -v python)" \
  -e "ai_python=$ai_python" module.yml "$@"
echo "gpu_bandwidth module paths: $(( $(date +%s) - start ))s"

inv="$out/inventory.yml"
cat > "$inv" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "$(command -v python)"
      validation_expected_gpu_count: null
      validation_min_driver_version: null
      validation_checks: [bandwidth]
      validation_worker_python: "$ai_python"
      validation_bandwidth_device: cpu
      validation_bandwidth_collective_max_bytes: 65536
      validation_bandwidth_timeout: 240
      validation_progress_interval: 1
INV
start=$(date +%s)
VAULTCUBE_REPORT_DIR="$out/reports" ansible-playbook vaultcube.demobox.validate -i "$inv" "$@" | tee "$out/validate.log"
# It ran in the background, followed by job_progress: a progress line per second.
grep -E '^gpu_bandwidth on localhost: running, [0-9]+s' "$out/validate.log"
echo "validate playbook with the bandwidth check on the CPU: $(( $(date +%s) - start ))s"
ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$(command -v python)" \
  -e "report_dir=$out/reports/localhost" report.yml "$@"

# Nothing the module started is still running (its workers run from vaultcube-bandwidth-* folders).
if pgrep -af 'vaultcube-bandwidth-[^/]*/bandwidth_main.py'; then
  echo "leftover gpu_bandwidth processes" >&2
  exit 1
fi
echo "gpu_bandwidth: all good"
