#!/usr/bin/env bash
# GPU run for issue 7 (layer 2), expected run time about 45 s (budget 60 s); every step has a
# timeout, so the worst case is about 4 minutes.
#
# Runs `ansible-playbook vaultcube.demobox.site --tags layer2` (the nvidia_driver and cuda roles)
# against the GPU machine itself, in their "already present" path: the machine has driver 580
# (read-only, mounted from the host) and a CUDA 13.0 toolkit, and no network. It must:
#   * pass the precheck for the Hopper GPU(s) (H200, compute capability 9.0, branch 580, CUDA 13.0),
#   * keep the driver and the toolkit and change nothing: zero changed in the play recap,
#   * leave every GPU setting alone: nvidia_driver_tuning is false, and an nvidia-smi shim first on
#     PATH refuses any setting option (-pm, -pl, clocks, compute mode, reset, ECC, MIG).
# A check-mode run (also zero changes expected) comes first; the real run happens only if the
# check run proposes no change, else it is run with nvidia_driver_existing/cuda_existing: keep and
# the log says what auto would have changed. Then the nvidia_tuning module runs in check mode only,
# to show what the demo box's tuning would do on this GPU (it changes nothing). The precheck's
# verdict (the nvidia_driver role's nvidia_compat result) is saved with the roles' results.
# Files in $OUT: layer2.log (this output, written by the wrapper), layer2-recap.txt (the play
# recaps), layer2-result.json (the roles' results and the module outputs), layer2-summary.md.
set -u
: "${OUT:?OUT must be set}"
start=$(date +%s)
py=$(command -v python3)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ANSIBLE_NOCOLOR=1 ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_CALLBACK_RESULT_FORMAT=yaml
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

step() { echo; echo "== $* ($(( $(date +%s) - start ))s)"; }

step "environment"
real_smi=$(command -v nvidia-smi || ls /usr/local/nvidia/bin/nvidia-smi 2>/dev/null || true)
echo "nvidia-smi: ${real_smi:-none}"
[ -n "$real_smi" ] && timeout 20 "$real_smi" --query-gpu=index,name,pci.device_id,driver_version,persistence_mode,power.limit,power.max_limit --format=csv
cat /proc/driver/nvidia/version 2>/dev/null | head -1
echo "dpkg NVIDIA packages installed: $(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' 'nvidia-*' 'libnvidia-*' 'cuda-*' 2>/dev/null | awk '$2 ~ /^ii/' | wc -l)"
nvcc=$(command -v nvcc || true)
[ -n "$nvcc" ] || nvcc=$(ls /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc 2>/dev/null | head -1)
[ -n "$nvcc" ] || nvcc=$(timeout 20 find / -xdev -name nvcc -type f -perm -u+x 2>/dev/null | head -1)
echo "nvcc: ${nvcc:-none} $([ -n "$nvcc" ] && "$nvcc" --version | tail -2 | head -1)"
echo "host C++ compiler: $(command -v g++ || command -v c++ || echo none); uid $(id -u); sudo: $(command -v sudo || echo none)"
# In a container the PCI bus (sysfs) shows every GPU of the host, while the driver shows the ones
# given to this container: tell the roles how many nvidia-smi lists (both figures are logged).
visible=$([ -n "$real_smi" ] && timeout 20 "$real_smi" -L 2>/dev/null | grep -c '^GPU ' || echo 0)
pci=$(for d in /sys/bus/pci/devices/*; do [ "$(cat "$d/vendor" 2>/dev/null)" = 0x10de ] && case "$(cat "$d/class")" in 0x03*) echo x;; esac; done | wc -l)
echo "NVIDIA GPUs: $visible listed by nvidia-smi, $pci on the PCI bus (sysfs)"

# Defence in depth: whatever runs below sees an nvidia-smi that refuses to change GPU settings.
mkdir -p "$work/shim"
cat > "$work/shim/nvidia-smi" <<SHIM
#!/bin/sh
for a in "\$@"; do
  case "\$a" in
    -pm|-pl|-ac|-rac|-lgc|-rgc|-lmc|-rmc|-c|-r|-e|-mig|-am|-acp|--persistence-mode*|--power-limit*|--compute-mode*|\
    --gpu-reset*|--applications-clocks*|--reset-applications-clocks|--lock-gpu-clocks*|--reset-gpu-clocks|\
    --lock-memory-clocks*|--reset-memory-clocks|--ecc-config*|--multi-instance-gpu*|--auto-boost*)
      echo "layer2.sh: refusing to change a GPU setting (nvidia-smi \$*)" >&2; exit 99 ;;
  esac
done
[ -n "$real_smi" ] || { echo "layer2.sh: no nvidia-smi on this machine" >&2; exit 127; }
exec "$real_smi" "\$@"
SHIM
chmod +x "$work/shim/nvidia-smi"
export PATH="$work/shim:$PATH"

cat > "$work/inventory.yml" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: $py
INV
become=()
[ "$(id -u)" = 0 ] && become=(-e ansible_become=false)
cat > "$work/vars.json" <<VARS
{"nvidia_driver_tuning": false, "nvidia_driver_reboot": false, "nvidia_driver_expected_gpu_count": $visible,
 "cuda_search_paths": ["${nvcc:-/nonexistent/nvcc}"], "cuda_version": "13.0", "nvidia_driver_branch": "580"}
VARS
# The roles' results, written by a last play that runs after layer 2.
cat > "$work/results.yml" <<'PLAY'
- name: Write the layer 2 roles' results.
  hosts: localhost
  gather_facts: false
  tags: [always]
  tasks:
    - name: Save them (with the driver role's precheck verdict).
      ansible.builtin.copy:
        content: >-
          {{ {'nvidia_driver': nvidia_driver_result | default(none), 'cuda': cuda_result | default(none),
              'precheck': nvidia_driver__compat | default(none)} | to_nice_json }}
        dest: "{{ lookup('ansible.builtin.env', 'RESULTS_FILE') }}"
        mode: "0644"
      check_mode: false
      changed_when: false  # a file of this script's, not a change to the machine
PLAY
cat > "$work/both.yml" <<PLAYS
- name: Layer 2 of the site playbook.
  ansible.builtin.import_playbook: vaultcube.demobox.site
- name: Results.
  ansible.builtin.import_playbook: $work/results.yml
PLAYS

run_site() {  # run_site LABEL EXTRA_ARGS...
  local label=$1; shift
  step "ansible-playbook site --tags layer2 ($label)"
  RESULTS_FILE="$work/results-$label.json" timeout 90 ansible-playbook "$work/both.yml" -i "$work/inventory.yml" \
    --tags layer2,always "${become[@]}" -e "@$work/vars.json" "$@" > "$work/$label.out" 2>&1
  local rc=$?
  cat "$work/$label.out"
  { echo "### $label (exit $rc)"; sed -n '/PLAY RECAP/,$p' "$work/$label.out"; } >> "$OUT/layer2-recap.txt"
  return $rc
}
changed_of() { sed -n '/PLAY RECAP/,$p' "$1" | grep -o 'changed=[0-9]*' | awk -F= '{s += $2} END {print (NR ? s : "?")}'; }

: > "$OUT/layer2-recap.txt"
run_site check --check -e cuda_verify_compile=false
check_rc=$?
check_changed=$(changed_of "$work/check.out")
mode=auto
if [ "$check_rc" != 0 ] || [ "$check_changed" != 0 ]; then
  echo "layer2.sh: the check run proposed $check_changed change(s) (exit $check_rc); the real run keeps everything explicitly."
  echo '{"nvidia_driver_existing": "keep", "cuda_existing": "keep"}' > "$work/keep.json"
  mode=keep
  run_site real -e "@$work/keep.json"
else
  run_site real
fi
real_rc=$?
real_changed=$(changed_of "$work/real.out")

step "nvidia_tuning in check mode (what the demo box's tuning would do here; nothing is set)"
ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=ansible.builtin.json timeout 30 \
  ansible localhost -i "$work/inventory.yml" "${become[@]}" --check -m vaultcube.demobox.nvidia_tuning \
  -a '{"persistence_mode": true, "power_limit": "max", "cpu_governor": "performance"}' > "$work/tuning.out" 2>"$work/tuning.err"
tuning_rc=$?
cat "$work/tuning.out" "$work/tuning.err"

"$py" - "$work" "$OUT" "$check_rc" "$check_changed" "$real_rc" "$real_changed" "$tuning_rc" "$mode" <<'PY'
import json, os, re, sys
work, out = sys.argv[1], sys.argv[2]
check_rc, check_changed, real_rc, real_changed, tuning_rc = sys.argv[3:8]
mode = sys.argv[8]
def load(name):
    try:
        return json.load(open(os.path.join(work, name)))
    except (OSError, ValueError):
        return None
def adhoc_json(name):
    """The module result from `ansible -m` with the json stdout callback."""
    try:
        doc = json.load(open(os.path.join(work, name)))
        return doc["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (OSError, ValueError, KeyError, IndexError):
        return None
result = {"check": {"rc": int(check_rc), "changed": check_changed, "roles": load("results-check.json")},
          "real": {"rc": int(real_rc), "changed": real_changed, "roles": load("results-real.json"), "existing": mode},
          "tuning_check_mode": adhoc_json("tuning.out")}
json.dump(result, open(os.path.join(out, "layer2-result.json"), "w"), indent=2, sort_keys=True)
roles = result["real"]["roles"] or {}
drv, cuda = roles.get("nvidia_driver") or {}, roles.get("cuda") or {}
compat = roles.get("precheck") or {}
tuning = result["tuning_check_mode"] or {}
rows = [
    ("check run (--check)", "exit %s, changed=%s" % (check_rc, check_changed), check_rc == "0" and check_changed == "0"),
    ("real run", "exit %s, changed=%s (existing: %s)" % (real_rc, real_changed, mode), real_rc == "0" and real_changed == "0"),
    ("nvidia_driver", "%s: %s" % (drv.get("action"), (drv.get("reason") or "").strip()), drv.get("action") == "kept"),
    ("cuda", "%s: %s" % (cuda.get("action"), (cuda.get("reason") or "").strip()), cuda.get("action") == "kept"),
    ("precheck (Hopper)", compat.get("msg", "?"), compat.get("compatible") is True and any(
        g.get("architecture") == "hopper" for g in compat.get("gpus", []))),
    ("tuning (check mode)", tuning.get("msg", "?"), tuning_rc == "0" and not tuning.get("failed")),
]
lines = ["# layer 2 on the GPU machine", "", "| step | result | ok |", "| --- | --- | --- |"]
lines += ["| %s | %s | %s |" % (a, b.replace("|", "/").replace("\n", " "), "yes" if ok else "NO") for a, b, ok in rows]
lines += ["", "Device query (cuda role): %s" % " / ".join(cuda.get("device_query") or [])]
open(os.path.join(out, "layer2-summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(0 if all(ok for _a, _b, ok in rows) else 1)
PY
rc=$?
step "done: exit $rc"
exit $rc
