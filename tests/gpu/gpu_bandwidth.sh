#!/usr/bin/env bash
# GPU run for gpu_bandwidth (issue 17), ONE call. About 2 min on nvidia-h200 (1 GPU), about 3 min on
# nvidia-h200-x2; the full sweep (step 5) is left out once BUDGET_S (default 200 s) is nearly spent.
#
#   bash tests/gpu/run-on-device.sh gpu_bandwidth          # the lead's wrapper (Ansible, collection)
#
#   1. the plain reference (tests/gpu/bandwidth_reference.py): pinned H2D, D2H and a copy inside GPU
#      memory at 256 MiB with CUDA events (and GPU 0 <-> GPU 1 with two GPUs);
#   2. the default validation check: `ansible-playbook vaultcube.demobox.validate` with
#      validation_checks [bandwidth] and the role's defaults (sweep quick, thresholds 70 % of the
#      PCIe and memory limits), timed;
#   3. the reference again (the GPU's state on both sides of the module);
#   4. with two GPUs: a plain torch.distributed all_reduce loop (NCCL) at 256 MiB and 1 GiB;
#   5. the burn-in sweep (sweep: full) through Ansible (tests/gpu/gpu_bandwidth.yml).
# Writes to $OUT: gpu_bandwidth-summary.md/.json (side by side, verdicts: module within 3 % of the
# reference at the largest copy size and for all_reduce busbw at >= 256 MiB, default check < 60 s),
# gpu_bandwidth-report.md/.html (the validation report of step 2), gpu_bandwidth-full.json.
# Exit status 0 when every verdict holds and no process is left.
set -u
: "${OUT:?OUT must be set}"
cd "$(dirname "$0")/../.." || exit 1
start=$(date +%s)
budget=${BUDGET_S:-200}
work=$(mktemp -d /tmp/bw-gpu-XXXXXX)
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
elapsed() { echo $(( $(date +%s) - start )); }
say() { echo "[$(elapsed)s] $*"; }
py=$(command -v python3)
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')
say "machine: $gpus GPU(s); $(nvidia-smi --query-gpu=name,pcie.link.gen.max,pcie.link.width.max,memory.total --format=csv,noheader | head -1)"
nvidia-smi topo -m > "$work/topo.txt" 2>&1; cat "$work/topo.txt"

timeout 120 "$py" tests/gpu/bandwidth_reference.py copies --bytes 268435456 > "$work/ref-before.jsonl" 2> "$work/ref-before.err"
say "reference before: rc=$? $(tr '\n' ' ' < "$work/ref-before.jsonl")"

cat > "$work/inventory.yml" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "$py"
      validation_checks: [bandwidth]
      validation_expected_gpu_count: null
      validation_worker_python: "$py"
INV
t0=$(date +%s.%N)
VAULTCUBE_REPORT_DIR="$work/report" timeout 300 ansible-playbook vaultcube.demobox.validate -i "$work/inventory.yml" \
  > "$work/validate.log" 2>&1
rc=$?
t1=$(date +%s.%N)
echo "$t0 $t1 $rc" > "$work/validate-times.txt"
say "validate playbook (bandwidth check only): rc=$rc in $(python3 -c "print(round($t1 - $t0, 1))") s"
grep -E "^(TASK|ok|changed|failed|fatal)|\[ERROR\]" "$work/validate.log" | cut -c1-240 | tail -12

timeout 120 "$py" tests/gpu/bandwidth_reference.py copies --bytes 268435456 > "$work/ref-after.jsonl" 2> "$work/ref-after.err"
say "reference after: rc=$? $(tr '\n' ' ' < "$work/ref-after.jsonl")"

if [ "$gpus" -ge 2 ]; then
  timeout 120 "$py" -m torch.distributed.run --standalone --nnodes 1 --nproc-per-node "$gpus" \
    tests/gpu/bandwidth_reference.py allreduce --bytes 268435456 1073741824 > "$work/ref-allreduce.jsonl" 2> "$work/ref-allreduce.err"
  say "reference all_reduce: rc=$? $(grep '^{' "$work/ref-allreduce.jsonl" | tr '\n' ' ')"
fi

left=$(( start + budget - $(date +%s) ))
if [ "$left" -gt 60 ]; then
  timeout $(( left + 20 )) ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$py" \
    -e "bw_out=$work/full.json" -e "bw_timeout=$(( left - 10 ))" tests/gpu/gpu_bandwidth.yml > "$work/full.log" 2>&1
  say "full sweep: rc=$?"
else
  say "full sweep left out: ${left}s of the budget left"
fi

python3 tests/gpu/bandwidth_summary.py "$work" "$OUT/gpu_bandwidth-summary"
rc=$?
cp "$work/report/localhost/validation-report.md" "$OUT/gpu_bandwidth-report.md" 2>/dev/null
cp "$work/report/localhost/validation-report.html" "$OUT/gpu_bandwidth-report.html" 2>/dev/null
cp "$work/full.json" "$OUT/gpu_bandwidth-full.json" 2>/dev/null
if pgrep -af 'bandwidth_main.py|bandwidth_reference.py'; then echo "LEFTOVER PROCESSES"; rc=1; fi
say "done: summary rc=$rc"
rm -rf "$work"
exit $rc
