#!/usr/bin/env bash
# Runs the project's tests by stage and prints the time of each at the end.
#   scripts/test.sh all | lint | sanity | unit | integration | packer | molecule | molecule-heavy
# `make test` = `scripts/test.sh all`: everything that fits CI's budget.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-.venv}
export PATH="$ROOT/$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
SRC="$ROOT/build/src/ansible_collections/vaultcube/demobox"
PYVER=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
declare -a SUMMARY=()

stage() {  # stage NAME COMMAND...
  local name=$1 start rc; shift
  echo; echo "=== $name ==="
  start=$(date +%s)
  set +e; "$@"; rc=$?; set -e
  SUMMARY+=("$(printf '%-28s %5ss  %s' "$name" "$(( $(date +%s) - start ))" "$([ $rc = 0 ] && echo ok || echo "FAILED ($rc)")")")
  if [ $rc != 0 ]; then summary; exit $rc; fi
}

summary() {
  echo; echo "=== summary ==="
  printf '%s\n' "${SUMMARY[@]}"
  if [ -f "$ROOT/build/coverage.xml" ] && [ -n "$(find "$ROOT/build/coverage.xml" -newer "$ROOT/scripts/test.sh" -mmin -600 2>/dev/null)" ]; then
    python - "$ROOT/build/coverage.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print("coverage of plugins/ (unit tests): %.1f %% of lines" % (float(root.get("line-rate")) * 100))
PY
  fi
}

sync_src() {
  # The copy lives under build/, which the checkout's git ignores; ansible-test asks git which
  # files exist, so the copy gets a repository of its own.
  make -s src
  (cd "$SRC" && git init -q . && git add -A)
}

run_lint() {
  make -s collection >/dev/null  # ansible-lint resolves our FQCNs; keep the installed copy current
  yamllint -s . && ruff check . && ansible-lint --profile production
}

sanity_venv() {
  # ansible-test's own sanity requirements (pylint, voluptuous, ...) pin versions that differ
  # from .venv's, so they get a venv of their own.
  local req="$ROOT/$VENV/lib/python$PYVER/site-packages/ansible_test/_data/requirements" stamp
  stamp=$(cat "$ROOT/requirements-dev.txt" "$req"/sanity.*.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$ROOT/.venv-sanity/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$ROOT/.venv-sanity"
    "$ROOT/$VENV/bin/python" -c 'import sys; print(sys.executable)' >/dev/null
    "$(readlink -f "$ROOT/$VENV/bin/python")" -m venv "$ROOT/.venv-sanity"
    local reqargs=() f
    for f in "$req"/sanity.*.txt; do reqargs+=(-r "$f"); done
    "$ROOT/.venv-sanity/bin/pip" install -q "$(grep '^ansible-core==' "$ROOT/requirements-dev.txt")" "${reqargs[@]}"
    echo "$stamp" > "$ROOT/.venv-sanity/.stamp"
  fi
  # ansible-test bootstraps pip in the venvs it makes with a script it downloads from a host we
  # cannot reach; ours does the same with ensurepip (see the script's docstring).
  local pipver
  pipver=$(sed -n "s/.*pip='\([0-9.]*\)'.*/\1/p" "$ROOT/.venv-sanity/lib/python$PYVER/site-packages/ansible_test/_internal/python_requirements.py" | head -1)
  mkdir -p ~/.ansible/test/cache
  cp "$ROOT/scripts/ansible-test-get-pip.py" ~/.ansible/test/cache/get_pip_"${pipver//./_}".py
  {
    echo "[global]"
    local var key
    for var in PIP_CERT PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_TRUSTED_HOST PIP_DEFAULT_TIMEOUT; do
      key=${var#PIP_}; key=${key,,}; key=${key//_/-}
      [ -n "${!var:-}" ] && echo "$key = ${!var}"
    done
    [ -z "${PIP_CERT:-}" ] && [ -n "${SSL_CERT_FILE:-}" ] && echo "cert = $SSL_CERT_FILE"
    true
  } > ~/.ansible/test/cache/get_pip_settings.ini
}

run_sanity() {
  sanity_venv
  sync_src
  (cd "$SRC" && "$ROOT/.venv-sanity/bin/ansible-test" sanity --local --python "$PYVER" --color no)
}

ai_python() {
  # The stand-in AI venv (torch CPU build) that the GPU modules' tests run real workers under.
  [ -n "${VAULTCUBE_AI_PYTHON:-}" ] || VAULTCUBE_AI_PYTHON=$("$ROOT/scripts/ai-venv.sh") || return 1
  export VAULTCUBE_AI_PYTHON
}

run_unit() {
  # Some unit tests run the torch worker scripts for real on the CPU (under coverage) with the
  # stand-in AI venv; it is made here on first use (about a minute).
  ai_python
  sync_src
  (cd "$SRC" && python -m pytest -q tests/unit -p no:cacheprovider \
     --cov=plugins --cov-report=term-missing:skip-covered --cov-report=xml:"$ROOT/build/coverage.xml" \
     --cov-fail-under="${COVERAGE_MIN:-80}")
}

run_integration() {
  ai_python
  make -s collection
  sync_src
  # ansible-test passes no environment through; integration_config.yml is its way to hand tests variables.
  echo "vaultcube_ai_python: $VAULTCUBE_AI_PYTHON" > "$SRC/tests/integration/integration_config.yml"
  local targets=()
  read -r -a targets <<<"${INTEGRATION_TARGETS:-}"
  (cd "$SRC" && ansible-test integration --python "$PYVER" --local --color no "${targets[@]}")
}

run_packer_validate() {
  # The golden image template: `packer fmt -check` and `packer validate` with the inputs
  # packer/build.sh prepares (collection from HEAD, keys, rendered user-data). No VM is started.
  command -v packer >/dev/null || { echo "packer is not installed (apt-get install packer; .ci/run does)"; return 1; }
  packer/build.sh --validate
}

molecule_scenarios() {  # list scenarios; heavy ones carry a file named HEAVY
  local want=$1 d
  for d in molecule/*/; do
    d=${d%/}; [ -f "$d/molecule.yml" ] || continue
    case "$(basename "$d")" in shared|default) continue ;; esac
    if [ -f "$d/HEAVY" ]; then [ "$want" = heavy ] && basename "$d"; else [ "$want" = light ] && basename "$d"; fi
  done
}

run_molecule() {
  local kind=$1 s
  make -s collection
  [ -n "$(molecule_scenarios "$kind")" ] || return 0
  stage "molecule images" bash -c 'molecule/shared/build-image.sh bookworm && molecule/shared/build-image.sh trixie'
  for s in $(molecule_scenarios "$kind"); do
    stage "molecule $s" molecule test -s "$s"
  done
}

case "${1:-all}" in
  lint) stage lint run_lint ;;
  sanity) stage sanity run_sanity ;;
  unit) stage "unit + coverage" run_unit ;;
  integration) stage integration run_integration ;;
  packer) stage "packer validate" run_packer_validate ;;
  molecule) run_molecule light ;;
  molecule-heavy) run_molecule heavy ;;
  all)
    stage lint run_lint
    stage sanity run_sanity
    stage "unit + coverage" run_unit
    stage integration run_integration
    stage "packer validate" run_packer_validate
    run_molecule light
    ;;
  *) echo "usage: $0 all|lint|sanity|unit|integration|packer|molecule|molecule-heavy" >&2; exit 2 ;;
esac
summary
