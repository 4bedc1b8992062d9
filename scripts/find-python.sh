#!/usr/bin/env bash
# Print the path of a Python 3.12+ interpreter (ansible-core 2.21 needs 3.12), looking where a
# user's machine would have one: python3.12 on PATH, then pyenv's 3.12.x, then any newer Python
# (python3.13, python3.14, python3, pyenv). $VAULTCUBE_PYTHON, when set, wins.
# Exit 1 with one clear sentence when there is none.
set -u
# pyenv shims exist for versions that are not selected and refuse to run: ok() skips them.
ok() { "$1" -c "import sys, venv; sys.exit(0 if sys.version_info[:2] ${2:->=} (3, 12) else 1)" >/dev/null 2>&1; }
pyenv_pythons() {
  command -v pyenv >/dev/null 2>&1 || return 0
  local root v; root=$(pyenv root)
  for v in $(pyenv versions --bare 2>/dev/null | grep -E "^$1" | sort -V -r); do
    echo "$root/versions/$v/bin/python3"
  done
}
try() {  # try CMP CANDIDATE...
  local cmp=$1 cand path; shift
  for cand in "$@"; do
    [ -n "$cand" ] || continue
    path=$(command -v "$cand" 2>/dev/null) || continue
    # realpath: under `make`, .venv/bin comes first on PATH, and bootstrap.sh deletes .venv before
    # it makes a new one - so name the interpreter the venv links to, never the venv's own.
    if ok "$path" "$cmp"; then "$path" -c 'import os, sys; print(os.path.realpath(sys.executable))'; exit 0; fi
  done
}
try ">=" "${VAULTCUBE_PYTHON:-}"
mapfile -t pyenv312 < <(pyenv_pythons '3\.12(\.[0-9]+)?$')
mapfile -t pyenv_newer < <(pyenv_pythons '3\.(1[3-9])(\.[0-9]+)?$')
try "==" python3.12 "${pyenv312[@]}"
try ">=" python3.13 python3.14 python3 "${pyenv_newer[@]}"
echo "No Python 3.12 or newer was found (ansible-core 2.21 needs it): install python3.12 with python3.12-venv (Ubuntu 24.04 ships it), or 'pyenv install 3.12', or set VAULTCUBE_PYTHON to one." >&2
exit 1
