#!/usr/bin/env bash
# The corpus of bad inputs, end to end on this machine (no GPU needed: every case must be refused
# before gpu_facts, so nothing here measures).
# 1. role_cases.yml: each case becomes one play that includes the validation role with the case's
#    variables; check.yml then asserts that every case was refused with its sentence, that
#    gpu_facts never ran and that no report directory appeared.
# 2. The validate and stress playbooks as a user runs them (ansible-playbook vaultcube.demobox.*):
#    a misspelt check, an unwritable report directory, an impossible threshold, bad poll values;
#    each exits 2 within seconds with its sentence, before any measuring task.
# 3. No "Traceback" in any of the logs. The sentences land in $CORPUS_DIR/*.txt (and the log).
set -eux
here=$(cd "$(dirname "$0")" && pwd)
CORPUS_DIR=$(mktemp -d)
export CORPUS_DIR
trap 'rm -rf "$CORPUS_DIR"' EXIT
touch "$CORPUS_DIR/not-executable"
printf '#!/bin/sh\necho "broken-python: cannot start" >&2\nexit 3\n' > "$CORPUS_DIR/broken-python"
# An interpreter without site-packages: it runs, but has no torch.
printf '#!/bin/sh\nexec %s -I -S "$@"\n' "$(command -v python3)" > "$CORPUS_DIR/bare-python"
chmod +x "$CORPUS_DIR/broken-python" "$CORPUS_DIR/bare-python"
inv="$CORPUS_DIR/inventory.yml"
cat > "$inv" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "$(command -v python)"
INV

# --- 1. the role corpus, one play per case ----------------------------------------------------
python - "$here/role_cases.yml" "$CORPUS_DIR" > "$CORPUS_DIR/corpus.yml" <<'PY'
import json, sys, yaml
cases = yaml.safe_load(open(sys.argv[1]))
corpus = sys.argv[2]
def fill(value):
    return json.loads(json.dumps(value).replace("CORPUS_DIR", corpus))
plays = []
for index, case in enumerate(cases):
    case = fill(case)
    play_vars = {"validation_report_dir": corpus + "/reports"}
    play_vars.update(case["vars"])
    play_vars.update({"corpus_index": index, "corpus_vars": case["vars"], "corpus_expect": case["expect"]})
    plays.append({"name": "Case %d" % index, "hosts": "localhost", "gather_facts": index == 0, "vars": play_vars,
                  "tasks": [{"name": "Run the case.", "ansible.builtin.include_tasks": "%s/role_case.yml" % sys.argv[1].rsplit("/", 1)[0]}]})
plays.append({"ansible.builtin.import_playbook": sys.argv[1].rsplit("/", 1)[0] + "/check.yml"})
print(yaml.safe_dump(plays, sort_keys=False))
PY
CORPUS_CASES=$(python -c 'import sys, yaml; print(len(yaml.safe_load(open(sys.argv[1]))))' "$here/role_cases.yml")
export CORPUS_CASES
start=$(date +%s)
ansible-playbook -i "$inv" "$CORPUS_DIR/corpus.yml" "$@" > "$CORPUS_DIR/role.log" 2>&1 || { cat "$CORPUS_DIR/role.log"; exit 1; }
echo "role corpus: $CORPUS_CASES cases refused in $(( $(date +%s) - start )) s"
cat "$CORPUS_DIR/role-sentences.txt"

# --- 2. the playbooks as a user runs them -----------------------------------------------------
: > "$CORPUS_DIR/playbook-sentences.txt"
refused() {  # refused PLAYBOOK EXTRA_VARS_JSON SENTENCE FIRST_MEASURING_TASK
  local log="$CORPUS_DIR/pb.log" rc t0
  t0=$(date +%s)
  set +e
  VAULTCUBE_REPORT_DIR="$CORPUS_DIR/pb-reports" ansible-playbook "vaultcube.demobox.$1" -i "$inv" -e "$2" > "$log" 2>&1
  rc=$?
  set -e
  cat "$log" >> "$CORPUS_DIR/playbooks.log"
  [ "$rc" = 2 ] || { cat "$log"; echo "expected rc 2, got $rc for $1 $2"; exit 1; }
  grep -qF -- "$3" "$log" || { cat "$log"; echo "no sentence '$3' for $1 $2"; exit 1; }
  ! grep -qF -- "$4" "$log" || { cat "$log"; echo "$1 reached '$4' for $2"; exit 1; }
  [ ! -e "$CORPUS_DIR/pb-reports" ] || { echo "a report directory appeared for $1 $2"; exit 1; }
  echo "$1 $2 -> refused in $(( $(date +%s) - t0 )) s: $3" >> "$CORPUS_DIR/playbook-sentences.txt"
}
gpu_facts="Read every NVIDIA GPU through NVML"
refused validate '{"validation_checks": ["frameworks", "ddp_bench"]}' \
  "value of validation_checks must be one or more of: frameworks, bandwidth, ddp_benchmark, vllm_bench, stress_gpu. Got no match for: ddp_bench" "$gpu_facts"
refused validate "{\"validation_report_dir\": \"$CORPUS_DIR/not-executable/reports\"}" \
  "validation_report_dir $CORPUS_DIR/not-executable/reports cannot be made on the controller" "$gpu_facts"
refused validate '{"validation_min_scaling_efficiency": 120}' \
  "validation_min_scaling_efficiency is 120, but it must be a scaling efficiency from 0 to 100 %" "$gpu_facts"
refused validate "{\"validation_worker_python\": \"$CORPUS_DIR\"}" "validation_worker_python is $CORPUS_DIR, which is a directory" "$gpu_facts"
load="Load every GPU with checked matrix multiplications"
refused stress '{"stress_poll": -5}' "stress_poll is -5, but it must be a whole number of seconds, 0 or more" "$load"
refused stress '{"stress_poll": "soon"}' "stress_poll is soon, but it must be a whole number of seconds, 0 or more" "$load"
refused stress '{"stress_duration": -60}' "stress_duration is -60, but it must be a whole number of seconds, 1 or more." "$load"
refused stress '{"stress_async_margin": -1}' "stress_async_margin is -1, but it must be a whole number of seconds, 0 or more." "$load"
refused stress '{"stress_watch_grace": 5}' "stress_watch_grace is 5, but it must be a whole number of seconds, at least 10" "$load"
cat "$CORPUS_DIR/playbook-sentences.txt"

# --- 3. no traceback anywhere -----------------------------------------------------------------
tracebacks=$(cat "$CORPUS_DIR/role.log" "$CORPUS_DIR/playbooks.log" | grep -c Traceback || true)
echo "Traceback lines over the corpus: $tracebacks"
[ "$tracebacks" = 0 ]
echo "bad inputs: $CORPUS_CASES role cases and $(wc -l < "$CORPUS_DIR/playbook-sentences.txt") playbook runs refused, no traceback"
