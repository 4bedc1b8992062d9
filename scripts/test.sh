#!/usr/bin/env bash
# Runs the project's tests by stage and prints the time of each at the end.
#   scripts/test.sh all | lint | sanity | unit | integration | browser | packer | release | molecule | molecule-heavy
# `make test` = scripts/preflight.sh test, then `scripts/test.sh all`: everything that fits CI's budget.
# The stage list with each stage's expected time comes first, the summary with the real ones last.
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

# Expected seconds of each stage on the 2-core development machine: the clean-clone `.ci/run` of
# 2026-11-29 18:35 UTC (commit 80137d5, README), the HEAVY scenarios' runs (README), and this
# script's later stages as first measured (release: 2026-12-03, load ~15; browser: 57 s, 2026-12-03, load ~5).
declare -A EXPECTED=(
  [lint]=155 [sanity]=127 ["unit + coverage"]=171 [integration]=470 ["integration (heavy/)"]=930 ["packer validate"]=13
  ["browser (report)"]=60 [changelog]=20 [galaxy-importer]=90 [ansible-builder]=10 ["molecule images"]=190
  ["molecule apt_cache"]=198 ["molecule layer1"]=613 ["molecule monitoring"]=121
  ["molecule nvidia_precheck"]=201 ["molecule nvidia_repo_sources"]=273
  ["molecule base"]=364 ["molecule security"]=802 ["molecule hardening"]=667 ["molecule docker"]=355 ["molecule ai_frameworks"]=328
  ["molecule ai_frameworks_torch"]=506 ["molecule demo_tools"]=113 ["molecule nvidia_driver_distro_open"]=391
  ["molecule nvidia_cuda_distro_proprietary"]=726 ["molecule layer1_safety"]=1134
)
plan() {  # plan STAGE...: print the stages about to run with their expected times
  local name total=0 unknown=0 t
  echo "=== plan (expected times on 2 cores) ==="
  for name in "$@"; do
    t=${EXPECTED[$name]:-}
    if [ -n "$t" ]; then total=$((total + t)); printf '%-38s ~%5ss\n' "$name" "$t"
    else unknown=$((unknown + 1)); printf '%-38s %7s\n' "$name" "?"; fi
  done
  printf '%-38s ~%5ss (~%d min)%s\n' "total" "$total" $(( (total + 59) / 60 )) "$([ $unknown = 0 ] || echo ", plus $unknown not yet measured")"
}

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
  # Targets with the alias heavy/ (docker hosts, minutes each) run in make test-heavy, not make test.
  [ ${#targets[@]} -gt 0 ] || targets=(--exclude heavy/)
  (cd "$SRC" && ansible-test integration --python "$PYVER" --local --color no "${targets[@]}")
}

run_browser() {
  # The HTML report as a browser shows it (tests/browser/README.md): headless Chromium, driven
  # through its DevTools protocol, opens the reports of two validate runs on this machine (one
  # passed, one failed; PDF requested) and the real GPU reports in docs/reports, and checks the
  # rendered pages. Screenshots and PDFs stay in build/browser.
  local chromium
  chromium=$(command -v chromium || command -v chromium-browser || true)
  if [ -z "$chromium" ]; then
    if [ -n "${CI:-}" ]; then
      echo "Chromium is not installed, and CI must run the browser test: apt-get install chromium fonts-dejavu-core"
      return 1
    fi
    echo "SKIPPED: Chromium is not installed here (apt-get install chromium fonts-dejavu-core runs this stage)."
    return 0
  fi
  make -s collection
  sync_src
  local out="$ROOT/build/browser" verdict count
  rm -rf "$out" && mkdir -p "$out/runs"
  printf 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n      validation_min_driver_version: null\n' \
    "$(command -v python)" > "$out/inventory.yml"
  for verdict in passed failed; do
    count=null; [ "$verdict" = failed ] && count=999
    VAULTCUBE_REPORT_DIR="$out/runs/$verdict" ansible-playbook vaultcube.demobox.validate -i "$out/inventory.yml" \
      -e "{\"validation_checks\": [], \"validation_expected_gpu_count\": $count, \"validation_fail_on_failure\": false,
           \"validation_report_formats\": [\"json\", \"markdown\", \"junit\", \"html\", \"pdf\"]}" > "$out/runs/$verdict.log" 2>&1 \
      || { cat "$out/runs/$verdict.log"; return 1; }
    # PDF on request, made by the role through the action plugin with this Chromium
    head -c 5 "$out/runs/$verdict/localhost/validation-report.pdf" | grep -q '%PDF-' \
      || { echo "The $verdict run wrote no PDF report:"; cat "$out/runs/$verdict.log"; return 1; }
  done
  python "$ROOT/tests/browser/report_browser.py" --collection "$SRC" --out "$out" --chromium "$chromium" --hostile \
    --json "$ROOT"/docs/reports/*/validation-report*.json --html "$out"/runs/*/localhost/validation-report.html
}

run_packer_validate() {
  # The golden image template: `packer fmt -check` and `packer validate` with the inputs
  # packer/build.sh prepares (collection from HEAD, keys, rendered user-data). No VM is started.
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

release_venv() {
  # galaxy-importer, ansible-builder and antsibull-changelog pin versions that differ from .venv's.
  local stamp
  stamp=$(sha256sum "$ROOT/requirements-release.txt" | cut -d' ' -f1)
  if [ "$(cat "$ROOT/.venv-release/.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "release: creating .venv-release from requirements-release.txt (about a minute)"
    rm -rf "$ROOT/.venv-release"
    "$(readlink -f "$ROOT/$VENV/bin/python")" -m venv "$ROOT/.venv-release"
    "$ROOT/.venv-release/bin/pip" install -q -r "$ROOT/requirements-release.txt"
    echo "$stamp" > "$ROOT/.venv-release/.stamp"
  fi
}

run_changelog() {
  # Fragments valid, changelog.yaml valid, CHANGELOG.md exactly what changelog.yaml generates.
  local rel="$ROOT/.venv-release/bin"
  release_venv
  "$rel/antsibull-changelog" lint || return 1
  "$rel/antsibull-changelog" lint-changelog-yaml changelogs/changelog.yaml || return 1
  sync_src
  (cd "$SRC" && PATH="$rel:$PATH" "$rel/antsibull-changelog" generate) || return 1
  diff -u "$ROOT/CHANGELOG.md" "$SRC/CHANGELOG.md" \
    || { echo "CHANGELOG.md is not what changelogs/changelog.yaml generates: run antsibull-changelog generate"; return 1; }
  echo "changelog: fragments $(find changelogs/fragments -name '*.y*ml' | wc -l) pending, CHANGELOG.md current"
}

run_galaxy_importer() {
  # Galaxy's own import checks on the tarball `make collection` builds (config: scripts/galaxy-importer.cfg).
  local rel="$ROOT/.venv-release/bin" tarball log="$ROOT/build/galaxy-importer.log"
  release_venv
  make -s collection >/dev/null
  tarball=$(ls "$ROOT"/build/vaultcube-demobox-*.tar.gz)
  # (it writes importer_result.json where it runs: build/)
  (cd "$ROOT/build" && GALAXY_IMPORTER_CONFIG="$ROOT/scripts/galaxy-importer.cfg" PATH="$rel:$PATH" \
    "$rel/python" -m galaxy_importer.main "$tarball" > "$log" 2>&1)
  local rc=$?
  cat "$log"
  [ $rc = 0 ] || return $rc
  grep -q "^Importer processing completed successfully" "$log" || return 1
  if grep -E "WARNING|ERROR|Traceback" "$log"; then echo "galaxy-importer: the report above is not clean"; return 1; fi
  echo "galaxy-importer: $(basename "$tarball") imports clean"
}

run_ansible_builder() {
  # execution-environment.yml renders, and introspection of the installed collection finds the
  # dependencies meta/execution-environment.yml declares (requirements.txt, bindep.txt).
  local rel="$ROOT/.venv-release/bin" deps
  release_venv
  make -s collection >/dev/null
  rm -rf "$ROOT/build/ee"
  "$rel/ansible-builder" create -f execution-environment.yml -c "$ROOT/build/ee" --output-filename Containerfile || return 1
  local f
  for f in Containerfile _build/requirements.txt _build/bindep.txt _build/requirements.yml; do
    [ -s "$ROOT/build/ee/$f" ] || { echo "ansible-builder create: build/ee/$f is missing"; return 1; }
  done
  deps=$("$rel/ansible-builder" introspect --sanitize "$ROOT/build/collections") || return 1
  echo "$deps"
  local want
  for want in "nvidia-ml-py" "openssh-client \[platform:dpkg\]"; do
    grep -q "$want.*# from collection vaultcube.demobox" <<<"$deps" \
      || { echo "ansible-builder introspect: no '$want' from vaultcube.demobox"; return 1; }
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
  browser) stage "browser (report)" run_browser ;;
  packer) stage "packer validate" run_packer_validate ;;
  release)
    plan changelog galaxy-importer ansible-builder
    stage changelog run_changelog
    stage galaxy-importer run_galaxy_importer
    stage ansible-builder run_ansible_builder ;;
  molecule)
    mapfile -t scen < <(molecule_scenarios light)
    plan "molecule images" "${scen[@]/#/molecule }"
    run_molecule light ;;
  molecule-heavy)
    mapfile -t scen < <(molecule_scenarios heavy)
    plan "integration (heavy/)" "molecule images" "${scen[@]/#/molecule }"
    INTEGRATION_TARGETS=heavy/ stage "integration (heavy/)" run_integration
    run_molecule heavy ;;
  all)
    mapfile -t scen < <(molecule_scenarios light)
    plan lint sanity "unit + coverage" integration "browser (report)" "packer validate" changelog galaxy-importer ansible-builder \
      "molecule images" "${scen[@]/#/molecule }"
    stage lint run_lint
    stage sanity run_sanity
    stage "unit + coverage" run_unit
    stage integration run_integration
    stage "browser (report)" run_browser
    stage "packer validate" run_packer_validate
    stage changelog run_changelog
    stage galaxy-importer run_galaxy_importer
    stage ansible-builder run_ansible_builder
    run_molecule light
    ;;
  *) echo "usage: $0 all|lint|sanity|unit|integration|browser|packer|release|molecule|molecule-heavy" >&2; exit 2 ;;
esac
summary
