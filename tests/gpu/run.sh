#!/usr/bin/env bash
# `make gpu-test`: run the GPU tests named, each `ansible-playbook -i tests/gpu/inventory
# tests/gpu/<name>.yml`, its output in OUT_DIR/<name>.log, and a line per test with its exit
# status and time (then the log's last lines). Exit status: the last failing test's, else 0.
#   tests/gpu/run.sh OUT_DIR NAME...     (GPU_VARS=FILE adds a YAML file of variables)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: tests/gpu/run.sh OUT_DIR NAME...}; shift
[ $# -gt 0 ] || { echo "gpu-test: name at least one test: $(cd tests/gpu && ls -- *.yml *.sh | grep -v -e '^run' -e rehearsal | sed 's/[.][a-z]*$//' | sort -u | paste -sd' ')" >&2; exit 2; }
command -v ansible-playbook >/dev/null || { echo "gpu-test: ansible-playbook is not on PATH (docs/gpu-runs.md says how to bring it)." >&2; exit 2; }
for name in "$@"; do
  [ -f "tests/gpu/$name.yml" ] || [ -f "tests/gpu/$name.sh" ] || { echo "gpu-test: no test '$name' (tests/gpu/$name.yml)." >&2; exit 2; }
done
mkdir -p "$out"
export OUT=$out ANSIBLE_NOCOLOR=1 PYTHONUNBUFFERED=1
extra=()
[ -n "${GPU_VARS:-}" ] && extra=(-e "@$GPU_VARS")
rc_all=0
for name in "$@"; do
  t0=$(date +%s)
  if [ -f "tests/gpu/$name.sh" ]; then  # not yet a playbook: its script (docs/gpu-runs.md lists which)
    bash "tests/gpu/$name.sh" > "$out/$name.log" 2>&1
  else
    ansible-playbook -i tests/gpu/inventory "tests/gpu/$name.yml" "${extra[@]}" > "$out/$name.log" 2>&1
  fi
  rc=$?
  echo "== $name: exit $rc in $(( $(date +%s) - t0 ))s (log: $out/$name.log)"
  tail -25 "$out/$name.log"
  [ $rc = 0 ] || rc_all=$rc
done
exit $rc_all
