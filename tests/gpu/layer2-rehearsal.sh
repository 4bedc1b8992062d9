#!/usr/bin/env bash
# Rehearsal of tests/gpu/layer2.yml on a machine WITHOUT a GPU (the project's build machines), so
# that the one GPU call is not wasted on a script bug. It is not a GPU result and proves nothing
# about a driver: it checks the script's logic and the roles' "already present" path against a
# stand-in of the GPU machine, in a Debian 13 container (local/debian13-systemd):
#   * sysfs: a fake /sys/bus/pci/devices with one H200 (10de:2335, class 0x030200), bind-mounted;
#   * a fake nvidia-smi at /usr/local/nvidia/bin (read-only mount, as on the GPU machine) that
#     answers the queries the roles make with driver 580.159.04 and refuses anything else;
#   * a fake nvcc 13.0 at /usr/local/cuda-13.0/bin with /usr/local/cuda pointing at it;
#   * no systemd running as PID 1, no lspci, mokutil, dkms or docker, no network (--network none).
# /proc/driver/nvidia/version cannot be faked in a container (the module then reads the version
# from nvidia-smi, so the flavour is unknown); there is no libcuda, so the cuda role's device query
# finds no device and the run is given cuda_expected_gpu_count=0 through layer2_extra_vars.
# ansible-core is this checkout's .venv (2.21.5, like the GPU machine's), mounted read-only.
# Usage: bash tests/gpu/layer2-rehearsal.sh   (about 2-3 minutes on 2 busy cores)
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=$(readlink -f "$repo/.venv")   # .venv may be a link to a venv elsewhere: mounted where it lies
venv_python=$(readlink -f "$repo/.venv/bin/python")
pyhome=$(dirname "$(dirname "$venv_python")")
fake=$(mktemp -d /tmp/layer2-rehearsal.XXXX)
out="$fake/out"
mkdir -p "$fake/pci/0000:00:06.0" "$fake/nvbin" "$fake/cuda/bin" "$out"
printf '0x10de\n' > "$fake/pci/0000:00:06.0/vendor"
printf '0x2335\n' > "$fake/pci/0000:00:06.0/device"
printf '0x030200\n' > "$fake/pci/0000:00:06.0/class"
cat > "$fake/nvbin/nvidia-smi" <<'SMI'
#!/bin/sh
# Stand-in for the GPU machine's nvidia-smi (driver 580.159.04, one H200). Read-only answers.
case "$*" in
  -L) echo "GPU 0: NVIDIA H200 (UUID: GPU-00000000-0000-0000-0000-rehearsal000)" ;;
  *--query-gpu=driver_version*) echo "580.159.04" ;;
  *--query-gpu=index,uuid,name,persistence_mode,power.limit,power.default_limit,power.min_limit,power.max_limit*)
    echo "0, GPU-00000000-0000-0000-0000-rehearsal000, NVIDIA H200, Enabled, 700.00, 700.00, 200.00, 700.00" ;;
  *--query-gpu=*) echo "0, NVIDIA H200, 0x233510DE, 580.159.04, Enabled, 700.00 W, 700.00 W" ;;
  *) echo "fake nvidia-smi: unexpected arguments: $*" >&2; exit 3 ;;
esac
SMI
cat > "$fake/cuda/bin/nvcc" <<'NVCC'
#!/bin/sh
if [ "$1" = --version ]; then
  printf 'nvcc: NVIDIA (R) Cuda compiler driver\nCuda compilation tools, release 13.0, V13.0.88\nBuild cuda_13.0.r13.0/compiler.36424714_0\n'
  exit 0
fi
echo "fake nvcc: cannot compile ($*)" >&2; exit 1
NVCC
chmod +x "$fake/nvbin/nvidia-smi" "$fake/cuda/bin/nvcc"

name="layer2-rehearsal-$$"
# The collection as the wrapper installs it: built from this checkout.
"$repo/.venv/bin/ansible-galaxy" collection build --force --output-path "$fake" "$repo" >/dev/null || exit 1
"$repo/.venv/bin/ansible-galaxy" collection install --force --no-deps -p "$fake/coll" "$fake"/vaultcube-demobox-*.tar.gz >/dev/null || exit 1
start=$(date +%s)
docker run --rm --name "$name" --network none \
  -v "$pyhome:$pyhome:ro" -v "$venv:$venv:ro" -v "$repo:$repo:ro" -v "$fake/coll:/coll:ro" -v "$out:/out" \
  -v "$fake/pci:/sys/bus/pci/devices:ro" -v "$fake/nvbin:/usr/local/nvidia/bin:ro" \
  -v "$fake/cuda:/usr/local/cuda-13.0:ro" \
  -e OUT=/out -e ANSIBLE_COLLECTIONS_PATH=/coll \
  -e PATH="$repo/.venv/bin:/usr/local/nvidia/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  -w "$repo" local/debian13-systemd:latest \
  bash -c 'ln -s /usr/local/cuda-13.0 /usr/local/cuda
           ansible-playbook -i tests/gpu/inventory tests/gpu/layer2.yml -e gpu_out=/out \
             -e "{\"layer2_extra_vars\": {\"cuda_expected_gpu_count\": 0}, \"layer2_deadline_s\": 1200, \"layer2_step_s\": 360}" \
             > /out/layer2.log 2>&1; rc=$?; tail -30 /out/layer2.log; exit $rc'
rc=$?
echo "rehearsal: exit $rc in $(( $(date +%s) - start ))s; files in $out:"
ls -l "$out"
exit $rc
