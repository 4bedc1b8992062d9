#!/usr/bin/env bash
# End to end: `ansible-playbook vaultcube.demobox.stress`, as a user runs it, against this machine.
# 1. On the CPU test path (torch from the AI test venv, setup_ai_python): the async task passes and the report
#    (JSON, Markdown, JUnit, HTML with the throughput plot) is written.
# 2. Ctrl-C on the playbook stops the burn-in (the watchdog), and the result says interrupted.
# 3. On a host without a GPU, the real path: the play fails with the no-GPU sentence, after the
#    report (one error testcase carrying that sentence) is written. report.yml judges the results.
set -eux
export ANSIBLE_ROLES_PATH=..  # setup_ai_python (needs/target/setup_ai_python in aliases)
# The AI test venv's python: vaultcube_ai_python from integration_config.yml, checked by
# setup_ai_python (its playbook runs first, so a missing interpreter is said in one sentence).
config=(-e @../../integration_config.yml)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inv="$out/inventory.yml"
cat > "$inv" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "$(command -v python)"
INV

ansible-playbook -i "$inv" ../setup_ai_python/playbook.yml "${config[@]}"
VAULTCUBE_REPORT_DIR="$out/reports" ansible-playbook vaultcube.demobox.stress -i "$inv" "${config[@]}" -e "{
  \"stress_device\": \"cpu\", \"stress_duration\": 4, \"stress_sample_interval\": 1, \"stress_matrix_size\": 128,
  \"stress_dtype\": \"fp32\", \"stress_poll\": 2, \"stress_worker_python\": \"{{ vaultcube_ai_python }}\",
  \"stress_csv_path\": \"$out/stress.csv\"}" "$@" | tee "$out/cpu.log"
ansible-playbook -i "$inv" report.yml -e "report_dir=$out/reports/localhost case=cpu csv_path=$out/stress.csv"
grep -q "CPU test run (not a GPU result): Stressed 1 CPU worker(s)" "$out/cpu.log"

# Progress lines while it runs, and Ctrl-C on the playbook stops the burn-in at once (job_progress
# signals the run's orchestrator): every process of the run is gone soon after, the job's result
# says it was interrupted, and the report of what was measured is written, saying so.
# Unbuffered: ansible-playbook does not flush its stdout, and into a file the lines would wait for a
# full buffer (minutes at one line per poll on a loaded machine) before the loop below sees them.
PYTHONUNBUFFERED=1 VAULTCUBE_REPORT_DIR="$out/reports-ctrl-c" setsid ansible-playbook vaultcube.demobox.stress -i "$inv" "${config[@]}" -e "{
  \"stress_device\": \"cpu\", \"stress_duration\": 600, \"stress_sample_interval\": 1, \"stress_matrix_size\": 128,
  \"stress_dtype\": \"fp32\", \"stress_poll\": 2, \"stress_watch_grace\": 10, \"stress_worker_python\": \"{{ vaultcube_ai_python }}\",
  \"stress_csv_path\": \"$out/ctrl-c.csv\"}" > "$out/ctrl-c.log" 2>&1 &
pb=$!
for _ in $(seq 300); do grep -q "Follow the run" "$out/ctrl-c.log" && break; sleep 1; done
grep -q "Stop: Ctrl-C here (the run stops and the report of what it measured is written); should the playbook die unseen, the watchdog on the host stops the run within 10 s." "$out/ctrl-c.log"
run=$(grep -o 'Stress run stress-[0-9T-]*' "$out/ctrl-c.log" | head -1 | cut -d' ' -f3)
jid=$(grep -o 'async job j[0-9.]*' "$out/ctrl-c.log" | head -1 | cut -d' ' -f3)
[ -n "$run" ] && [ -n "$jid" ]
# Interrupt it under load (rows of the load phase in its CSV), as a user watching it would.
for _ in $(seq 300); do grep -q '^stress_gpu on localhost: load, ' "$out/ctrl-c.log" && break; sleep 1; done
grep '^stress_gpu on localhost: load, [0-9]*s of 10m00s ([0-9]*%), [0-9.]* TFLOP/s' "$out/ctrl-c.log"
t0=$(date +%s)
kill -INT -- "-$pb"
wait "$pb" || true
echo "ansible-playbook ended $(( $(date +%s) - t0 )) s after one SIGINT"
[ $(( $(date +%s) - t0 )) -le 60 ]
left=1
for _ in $(seq 180); do
  left=$(grep -lx -F -z "VAULTCUBE_STRESS_RUN=$run" /proc/[0-9]*/environ 2>/dev/null | wc -l)
  [ "$left" = 0 ] && break
  sleep 1
done
[ "$left" = 0 ]
for _ in $(seq 60); do grep -q '"started"' ~/.ansible_async/"$jid" || break; sleep 1; done
ansible-playbook -i "$inv" report.yml -e "job_file=$HOME/.ansible_async/$jid case=interrupted report_dir=$out/reports-ctrl-c/localhost"

# Without a GPU the real path fails, but only after its report is written.
if ! nvidia-smi -L >/dev/null 2>&1; then
  set +e
  VAULTCUBE_REPORT_DIR="$out/reports-nogpu" ansible-playbook vaultcube.demobox.stress -i "$inv" \
    -e '{"stress_duration": 5, "stress_poll": 2}' > "$out/nogpu.log" 2>&1
  rc=$?
  set -e
  cat "$out/nogpu.log"
  [ "$rc" = 2 ]
  grep -q "Stress run on localhost failed: No NVIDIA GPU to stress on this host: " "$out/nogpu.log"
  ansible-playbook -i "$inv" report.yml -e "report_dir=$out/reports-nogpu/localhost case=no_gpu"
fi
echo "stress playbook: all good"
