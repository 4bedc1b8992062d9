#!/usr/bin/env bash
# End to end: `ansible-playbook vaultcube.demobox.validate` against this machine, as `make demo`
# runs it, then read the report it wrote. On a machine without a GPU the report must say 0 GPUs
# with the reason and mark the GPU checks skipped; a threshold the host cannot meet must fail the
# play only after the report is written; report.yml judges each report.
set -eux
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inv="$out/inventory.yml"
cat > "$inv" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "$(command -v python)"
      validation_expected_gpu_count: null
      validation_min_driver_version: null
INV

VAULTCUBE_REPORT_DIR="$out/reports" ansible-playbook vaultcube.demobox.validate -i "$inv" "$@"
<<<<<<< HEAD
python - "$out/reports/localhost" <<'PY'
import json, os, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
assert sorted(os.listdir(d)) == ["validation-report.html", "validation-report.json", "validation-report.md", "validation-report.xml"], os.listdir(d)
rep = json.load(open(os.path.join(d, "validation-report.json")))
checks = {c["name"]: c for c in rep["checks"]}
count = checks["gpu_facts.count"]
assert count["status"] == "info", count
gpus = rep["modules"]["gpu_facts"]["metrics"]["gpu_count"]
# Without a GPU only the count (0, not judged: expected_count is null) was read: never PASSED.
verdict = "PASSED" if gpus else "NOT JUDGED"
assert rep["host"] == "localhost" and rep["verdict"] == verdict, (rep["verdict"], rep["failures"])
assert [s["check"] for s in rep["skipped_checks"]] == [c["name"] for c in rep["checks"] if c["status"] == "skipped"]
if gpus == 0:
    assert "GPU count is 0: " in count["message"], count
    for name in ("gpu_facts.temperature", "gpu_facts.ecc_errors", "gpu_facts.clocks_events"):
        assert checks[name]["status"] == "skipped", checks[name]
    # GPU checks of validation_checks (default: ddp_benchmark) are skipped with the reason
    assert checks["ddp_benchmark"]["status"] == "skipped", checks["ddp_benchmark"]
    assert checks["ddp_benchmark"]["message"].startswith("No NVIDIA GPU on this host ("), checks["ddp_benchmark"]
cases = ET.parse(os.path.join(d, "validation-report.xml")).getroot().findall("testsuite/testcase")
assert len(cases) == len(rep["checks"])
md = open(os.path.join(d, "validation-report.md")).read()
assert md.startswith("# Validation report: localhost") and "**%s**" % verdict in md
print("report ok: %d checks, %d GPUs" % (len(cases), gpus))
PY
=======
ansible-playbook -i "$inv" report.yml -e "report_dir=$out/reports/localhost case=passed"
>>>>>>> 1cc3196 (Issues 25 and 15 (tests, release): make test checks the machine first (scripts/preflight.sh; .ci/run is make test) and prints its stage plan; release checks (antsibull-changelog, galaxy-importer, ansible-builder) in .venv-release; setup_ai_python and assert-based report checks in integration targets; GPU tests as playbooks with an inventory and vars, run by make gpu-test)

# One GPU more than the host has: the play fails, and the report is there first, saying why.
rm -rf "$out/reports"
set +e
VAULTCUBE_REPORT_DIR="$out/reports" ansible-playbook vaultcube.demobox.validate -i "$inv" \
  -e '{"validation_expected_gpu_count": 999}' > "$out/fail.log" 2>&1
rc=$?
set -e
cat "$out/fail.log"
[ "$rc" = 2 ]
grep -q "Validation of localhost failed: Expected 999 GPUs, found" "$out/fail.log"
ansible-playbook -i "$inv" report.yml -e "report_dir=$out/reports/localhost case=failed"

# A wrong type is refused by the role's argument spec before anything runs.
set +e
ansible-playbook vaultcube.demobox.validate -i "$inv" -e '{"validation_expected_gpu_count": "four"}' > "$out/type.log" 2>&1
rc=$?
set -e
[ "$rc" = 2 ]
grep -q "validation_expected_gpu_count" "$out/type.log"
echo "validate playbook: all good"
