#!/usr/bin/env bash
# A wrapper for one call on a lent GPU machine without network (docs/gpu-runs.md):
#   bash tests/gpu/run-on-device.sh foundation ddp_benchmark ...
# Brings what that machine lacks - ansible-core from wheels carried in .whl/ into /tmp/ans, this
# checkout's collection built and installed into /tmp/coll (with ansible.posix carried in
# .devcarry/) - then runs `make gpu-test GPU_TESTS="<names>"`, the same as on any GPU machine.
# Its results go to a work folder packed into one $OUT/gpu-results.tgz at the end (the device
# tool returns few files; the summaries also stay readable in the command's output).
set -u
: "${OUT:?OUT must be set}"
FINAL_OUT=$OUT
OUT=$(mktemp -d /tmp/gpu-out.XXXX)
export OUT
# shellcheck disable=SC2329  # called by the EXIT trap
pack() { tar -czf "$FINAL_OUT/gpu-results.tgz" -C "$OUT" . 2>/dev/null; }
trap pack EXIT
start=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/ans .whl/*.whl || exit 1
export PYTHONPATH=/tmp/ans${PYTHONPATH:+:$PYTHONPATH} PATH=/tmp/ans/bin:$PATH  # keeps a vLLM bundle's /tmp/site
export ANSIBLE_COLLECTIONS_PATH=/tmp/coll ANSIBLE_NOCOLOR=1 PYTHONUNBUFFERED=1
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
rm -rf /tmp/coll /tmp/build && mkdir -p /tmp/coll/ansible_collections /tmp/build
[ -d .devcarry/ansible_collections ] && cp -r .devcarry/ansible_collections/* /tmp/coll/ansible_collections/
ansible-galaxy collection build --force --output-path /tmp/build . >/dev/null || exit 1
ansible-galaxy collection install --no-deps -p /tmp/coll /tmp/build/vaultcube-demobox-*.tar.gz >/dev/null || exit 1
{
  echo "setup: $(( $(date +%s) - start ))s; $(ansible --version | head -1); $(python3 --version)"
  nvidia-smi --query-gpu=index,name,driver_version,pcie.link.gen.max,temperature.gpu,power.draw --format=csv,noheader
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpus", torch.cuda.device_count())'
} 2>&1 | tee "$OUT/device-setup.txt"
make -s gpu-test GPU_TESTS="$*" GPU_OUT="$OUT" GPU_COLLECTIONS=/tmp/coll
rc_all=$?
echo "total: $(( $(date +%s) - start ))s"
exit $rc_all
