#!/usr/bin/env bash
# GPU run for layer 4 (issue 8): expected run time about 1 min on the 16-core H200 machine (3 min 53 s
# here on a 2-core CPU machine at load 18, without a GPU); each step has a hard limit (verify 90 s,
# validate 60 s, monitor 20 s: at most about 3 min in all). Installs nothing, needs no network,
# changes no GPU setting.
#  1. verify: the ai_frameworks role's verify path (tasks_from: verify) through ansible-playbook
#     against localhost, pointed at the machine's own venv (python3's, /opt/torch/.venv with torch
#     2.11.0+cu130): it reads NVML, plans the variant (driver 580 + this GPU -> cu130), then checks
#     that torch imports, is the pinned 2.11.0+cu130 build for CUDA 13.0, sees every GPU, carries
#     code for each, and gets a 1024^2 fp32 matmul right on each. Also shows the same planner
#     choosing cu130 for four RTX 5090s on this driver and refusing cu126 for them.
#  2. validate: the validate playbook with only the `frameworks` check (report JSON + Markdown).
#  3. monitor: vaultcube-monitor for 5 refreshes 1 s apart with its CSV (the sample for
#     docs/samples/), and vaultcube-gpu-log (nvidia-smi's CSV) for about 3 s.
# Writes to $OUT: layer4-verify.json, layer4-report.json, layer4-report.md, layer4-monitor.csv,
# layer4-gpu-log.csv (and everything it prints goes to $OUT/layer4.log through the wrapper).
# Run from the repo root by tests/gpu/run-on-device.sh (ansible in /tmp/ans, collection in /tmp/coll).
# LAYER4_EXTRA_VARS (JSON) is added to step 1 and 2's variables: only for trying the script on a
# CPU machine (e.g. a matrix override for its torch), never needed on the GPU machine.
set -u
: "${OUT:?OUT must be set}"
export ANSIBLE_NOCOLOR=1 PYTHONUNBUFFERED=1
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
py=$(command -v python3)
venv=$(cd "$(dirname "$py")/.." && pwd)
extra=${LAYER4_EXTRA_VARS:-"{}"}
scale=${LAYER4_TIME_SCALE:-1}   # multiplies the step limits: only for a slow CPU machine, never on the GPU one
n=$("$py" -c 'import pynvml as n; n.nvmlInit(); print(n.nvmlDeviceGetCount())' 2>/dev/null || echo 0)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -a rows=()
step() {  # step NAME COMMAND... : run, time, remember
  local name=$1 t0 rc ms; shift
  echo; echo "=== $name ==="
  t0=$(date +%s%N)
  "$@"; rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  rows+=("$(printf '%-10s rc=%-3s %4d.%01ds' "$name" "$rc" $((ms / 1000)) $((ms % 1000 / 100)))")
  return $rc
}
echo "layer4: python3 $py (venv $venv), $n GPU(s) by NVML"

cat > "$work/verify.yml" <<'YML'
---
- name: Verify the AI frameworks venv of this machine (installs nothing).
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the ai_frameworks role's verify path.
      ansible.builtin.include_role:
        name: vaultcube.demobox.ai_frameworks
        tasks_from: verify
    - name: Keep the result.
      ansible.builtin.copy:
        content: "{{ {'plan': ai_frameworks_plan, 'verify': ai_frameworks_verified} | to_nice_json }}"
        dest: "{{ layer4_out }}/layer4-verify.json"
        mode: "0644"
    - name: The planner on this machine's driver for four RTX 5090s, auto and cu126.
      vars:
        demo_box:
          gpu_count: 4
          gpus:
            - {index: 0, name: NVIDIA GeForce RTX 5090, compute_capability: "12.0"}
            - {index: 1, name: NVIDIA GeForce RTX 5090, compute_capability: "12.0"}
            - {index: 2, name: NVIDIA GeForce RTX 5090, compute_capability: "12.0"}
            - {index: 3, name: NVIDIA GeForce RTX 5090, compute_capability: "12.0"}
          nvidia_driver_version: "{{ ansible_facts.nvidia_driver_version }}"
          nvidia_cuda_driver_version: "{{ ansible_facts.nvidia_cuda_driver_version }}"
      ansible.builtin.debug:
        msg:
          - "This machine: {{ ai_frameworks_plan.variant }} ({{ ai_frameworks_plan.reason }})"
          - "4x RTX 5090 on driver {{ ansible_facts.nvidia_driver_version }}:
             {{ (demo_box | vaultcube.demobox.ai_frameworks_plan(ai_frameworks_effective_matrix)).variant }}"
          - "4x RTX 5090 with cu126: {{ (demo_box | vaultcube.demobox.ai_frameworks_plan(ai_frameworks_effective_matrix, 'cu126')).error }}"
YML

verify() {
  timeout -k 5 $((90 * scale)) ansible-playbook -i localhost, -c local "$work/verify.yml" \
    -e "ansible_python_interpreter=$py" -e "layer4_out=$OUT" \
    -e "{\"ai_frameworks_venv\": \"$venv\", \"ai_frameworks_verify_python\": \"$py\",
         \"ai_frameworks_verify_frameworks\": [\"torch\"], \"ai_frameworks_tensorflow\": false,
         \"ai_frameworks_vllm\": false, \"ai_frameworks_verify_timeout\": 75}" -e "$extra"
}

validate() {
  VAULTCUBE_REPORT_DIR="$work/reports" timeout -k 5 $((60 * scale)) ansible-playbook vaultcube.demobox.validate -i localhost, -c local \
    -e "{\"ansible_python_interpreter\": \"$py\", \"validation_expected_gpu_count\": $n,
         \"validation_min_driver_version\": \"570\", \"validation_checks\": [\"frameworks\"],
         \"validation_worker_python\": \"$py\", \"validation_frameworks_torch_cuda\": \"13.0\"}" -e "$extra"
  local rc=$?
  cp "$work/reports/localhost/validation-report.json" "$OUT/layer4-report.json" 2>/dev/null
  cp "$work/reports/localhost/validation-report.md" "$OUT/layer4-report.md" 2>/dev/null
  return $rc
}

monitor() {
  timeout -k 2 $((15 * scale)) "$py" plugins/module_utils/_monitor.py --count 5 --interval 1 --plain --csv "$OUT/layer4-monitor.csv" || return
  echo "--- vaultcube-gpu-log 1 s for 3 s"
  timeout 3 sh roles/monitoring/files/vaultcube-gpu-log 1 "$OUT/layer4-gpu-log.csv"
  local rc=$?
  [ "$rc" = 124 ] || [ "$rc" = 0 ] || return $rc
  cat "$OUT/layer4-gpu-log.csv"
}

step verify verify; v=$?
step validate validate; r=$?
step monitor monitor; m=$?

echo; echo "=== summary ==="
printf '%s\n' "${rows[@]}"
"$py" - "$OUT" <<'PY'
import csv, json, os, sys
out = sys.argv[1]
try:
    data = json.load(open(os.path.join(out, "layer4-verify.json")))
    plan, ver = data["plan"], data["verify"]
    print("plan: variant %s (CUDA %s) for %s on driver %s" % (plan["variant"], plan["cuda"],
          ", ".join(g["name"] for g in plan["gpus"]) or "no GPU", plan["driver_version"]))
    for row in (ver.get("tables") or [{}])[-1].get("rows", []):
        print("matmul: %-8s %-8s %-6s rel.err %s  %s ms" % tuple(str(v) for v in row[:5]))
    print("verify: passed=%s  %s" % (ver.get("passed"), ver.get("msg")))
except Exception as exc:  # the log above says why
    print("verify: no result (%s)" % exc)
try:
    rep = json.load(open(os.path.join(out, "layer4-report.json")))
    print("report: passed=%s  %s" % (rep["passed"], "; ".join(c["name"] + "=" + c["status"] for c in rep["checks"]
                                                               if c["name"].startswith("frameworks"))))
except Exception as exc:
    print("report: none (%s)" % exc)
try:
    rows = list(csv.DictReader(open(os.path.join(out, "layer4-monitor.csv"))))
    print("monitor: %d CSV rows, GPUs %s, max temp %s C, max power %s W" % (
        len(rows), sorted(set(r["gpu"] for r in rows)), max((r["temperature_c"] for r in rows), default="-"),
        max((r["power_w"] for r in rows), default="-")))
except Exception as exc:
    print("monitor: no CSV (%s)" % exc)
PY
[ "$v" = 0 ] && [ "$r" = 0 ] && [ "$m" = 0 ]
