#!/usr/bin/env bash
# GPU run for issue 6 (vllm_bench): the module (through ansible-playbook) and vLLM's own throughput
# benchmark (/tmp/vbundle/bench_tp.py = `vllm bench throughput`) side by side on the same
# dummy-weight Llama-2-7B-shaped model and workloads, then the validation role's vllm_bench check
# (the spec's 30 x 50 on the llama-2-7b preset), then serve mode against `vllm serve` if the bundle
# can import it and time remains.
#
# EXPECTED RUN TIME: about 5 minutes on one H200; never more than 410 s (VLLM_BENCH_BUDGET_S):
#   preflight ~15 s; module, both workloads on one engine ~75 s (one engine start: ~40 s, 16 s of it
#   torch.compile); vLLM's benchmark 30x32/50 ~55 s and 500x128/128 ~60 s (one start each);
#   validation role ~80 s (one start; the preset is float16, as Llama-2-7B's config.json says, so
#   torch.compile runs again); serve ~90 s, only if >= 150 s remain (usually not in the same call) and
#   `import vllm.entrypoints.openai.api_server` works (the stock bundle lacks uvicorn etc.: then
#   it is skipped with the missing module named). Each step is capped by what is left.
#
# Needs: the vLLM bundle (/tmp/vbundle + /tmp/site, ../shared/device/vllm/README.md), and
# tests/gpu/run-on-device.sh's setup (ansible in /tmp/ans, this collection in /tmp/coll, $OUT).
# Writes to $OUT (5 files; with run-on-device.sh's two and the lead's vbundle.log, 8 in all):
#   vllm_bench-compare.json  every figure, settings, versions, % differences, serve mode's full
#                            result or what blocked it (machine)
#   vllm_bench-compare.md    the side-by-side table for docs/benchmarks.md (humans)
#   vllm_bench-module.json   the module's full result (both workloads)
#   vllm_bench-report.md     the validation report with the vllm_bench check (spec workload, preset)
#   vllm_bench-steps.log     every step's full output (vLLM's logs included)
# Exit status: 0 both workloads measured and the module within 3% of vLLM's output tokens/s;
# 2 measured but not within 3%; 1 a step that the comparison needs failed.
# VLLM_BENCH_STEPS picks steps (default "module,bench,validate,serve"); e.g. a later call with a
# bundle that has the server's dependencies: VLLM_BENCH_STEPS=serve (about 2 minutes).
#
# Dry run here (no GPU, no vLLM; tests the script's logic with tests/unit's fake vllm and fake
# OpenAI server; its figures mean nothing):
#   PATH=$PWD/.venv/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$PWD/build/collections VLLM_BENCH_DRY_RUN=1 \
#     OUT=/tmp/vb-out bash tests/gpu/vllm_bench.sh
set -u
: "${OUT:?OUT must be set}"
mkdir -p "$OUT"
T0=$SECONDS
BUDGET=${VLLM_BENCH_BUDGET_S:-410}
DRY=${VLLM_BENCH_DRY_RUN:-0}
STEPS_WANTED=",${VLLM_BENCH_STEPS:-module,bench,validate,serve},"
want() { [[ "$STEPS_WANTED" == *",$1,"* ]]; }
WORK=$(mktemp -d /tmp/vllm-bench-gpu.XXXXXX)
STEPS="$OUT/vllm_bench-steps.log"
: > "$STEPS"
PY=$(command -v python3)
SERVE_PID=""

log() { echo "[$(date +%T) +$((SECONDS - T0))s] $*" | tee -a "$STEPS"; }
left() { echo $(( BUDGET - (SECONDS - T0) )); }
cap() {  # cap SECONDS RESERVE -> SECONDS, or what is left after keeping RESERVE for later steps
  local want=$1 reserve=$2 l
  l=$(( $(left) - reserve ))
  (( l < want )) && want=$l
  (( want < 0 )) && want=0
  echo "$want"
}

# Every process this script starts inherits this tag (ansible, the module, its worker, vLLM's
# engine processes, bench_tp, the server); sweep() stops what still carries it between steps, as a
# second net behind the module's own sweep and run_capped's session kill. Only this run's tag.
export VLLM_BENCH_RUN_TAG="vllm-bench-$$-$RANDOM$RANDOM"
sweep() {
  local f pid
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}
    pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    grep -qsa "VLLM_BENCH_RUN_TAG=$VLLM_BENCH_RUN_TAG" "$f" && kill -KILL "$pid" 2>/dev/null
  done
  if [ -n "$SERVE_PID" ]; then
    kill -TERM -- "-$SERVE_PID" 2>/dev/null; sleep 3; kill -KILL -- "-$SERVE_PID" 2>/dev/null; SERVE_PID=""
  fi
  return 0
}
# shellcheck disable=SC2317,SC2329  # called by the EXIT trap
cleanup() { sweep; rm -rf "$WORK"; }
trap cleanup EXIT

run_capped() {  # run_capped SECONDS COMMAND...: in its own session; the whole session is stopped at the limit
  local limit=$1 pid end rc
  shift
  setsid "$@" &
  pid=$!
  end=$(( SECONDS + limit ))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < end )); do sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "time limit of ${limit}s reached: stopping $1"
    kill -TERM -- "-$pid" 2>/dev/null; sleep 5; kill -KILL -- "-$pid" 2>/dev/null
  fi
  wait "$pid"; rc=$?
  kill -KILL -- "-$pid" 2>/dev/null   # anything of that session still running (an engine process)
  return $rc
}

wait_gpu_free() {  # vLLM reserves 90% of the GPU: the next engine needs the last one gone
  [ "$DRY" = 1 ] && return 0
  local used
  for _ in $(seq 30); do
    used=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | sort -n | tail -1)
    [ -n "$used" ] && [ "$used" -lt 2048 ] && return 0
    sleep 1
  done
  log "warning: GPU memory still in use ($used MiB) before the next step"
}

# --- where things are -------------------------------------------------------------------------
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 VLLM_USE_FLASHINFER_SAMPLER=0
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export ANSIBLE_NOCOLOR=1 ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default
VB=${VB:-/tmp/vbundle}
SITE=${VB_SITE:-/tmp/site}
MODEL=${VLLM_BENCH_MODEL:-$VB/models/llama2-7b-shape}
BENCH_TP=$VB/bench_tp.py
WPP=$SITE                      # PYTHONPATH of every process that imports vLLM
REQUIRE_GPU=true
SERVER_CMD=()
if [ "$DRY" = 1 ]; then
  log "DRY RUN: fake vllm, fake OpenAI server; the figures below mean nothing"
  WPP=$("$PY" tests/unit/llm_fakes.py "$WORK/fakevllm")
  MODEL=$WORK/llama2-7b-shape
  "$PY" -c "import sys; sys.path.insert(0, 'plugins/module_utils'); import _llm_bench as B; B.write_preset('llama-2-7b', sys.argv[1])" "$MODEL"
  echo '{}' > "$MODEL/tokenizer.json"
  BENCH_TP=$WORK/bench_tp.py
  cat > "$BENCH_TP" <<'PYEOF'
import sys
from vllm.benchmarks.throughput import add_cli_args, main
from vllm.utils.argparse_utils import FlexibleArgumentParser
parser = FlexibleArgumentParser()
add_cli_args(parser)
main(parser.parse_args(sys.argv[1:]))
PYEOF
  export FAKE_VLLM_STEP_S=0.001
  REQUIRE_GPU=false
fi
SERVED_NAME=llama2-7b-shape
PORT=${VLLM_BENCH_PORT:-8011}

inventory="$WORK/inventory.yml"
cat > "$inventory" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: $PY
INV

# --- 0. preflight -----------------------------------------------------------------------------
log "preflight: model $MODEL, worker PYTHONPATH $WPP, python $PY"
[ "$DRY" = 1 ] || nvidia-smi --query-gpu=index,name,driver_version,memory.total,memory.used --format=csv >> "$STEPS" 2>&1
VERSIONS=$(PYTHONPATH=$WPP timeout 120 "$PY" -c '
import importlib, vllm
try:
    torch = importlib.import_module("torch").__version__
except ImportError:
    torch = "(none)"
print(vllm.__version__, torch)' 2>>"$STEPS")
if [ -z "$VERSIONS" ] || [ ! -f "$MODEL/config.json" ] || [ ! -f "$BENCH_TP" ]; then
  log "preflight FAILED: vLLM imports: '${VERSIONS:-no}'; model config: $( [ -f "$MODEL/config.json" ] && echo yes || echo no ); bench_tp: $( [ -f "$BENCH_TP" ] && echo yes || echo no )"
  tail -20 "$STEPS"
  exit 1
fi
NGPU=0
[ "$DRY" = 1 ] || NGPU=$(nvidia-smi -L | wc -l)
log "preflight ok: vllm/torch $VERSIONS, $NGPU GPU(s), $(left)s left"

# --- 1. the module, both workloads on one engine ------------------------------------------------
# 30x32/50 first: it is the first generate() after start-up, as in vLLM's own run of it.
t=$(cap 150 260)
if want module && (( t < 40 )); then
  log "step 1 skipped: only ${t}s left"
elif want module; then
log "step 1: vllm_bench (ansible-playbook), 30x32/50 then 500x128/128 on one engine, limit ${t}s"
"$PY" - "$WORK/module-vars.json" "$MODEL" "$PY" "$WPP" "$((t - 20))" "$WORK/module.json" "$REQUIRE_GPU" <<'PYEOF'
import json, sys
path, model, py, wpp, timeout, out, gpu = sys.argv[1:]
json.dump({"model": model, "worker_python": py, "worker_env": {"PYTHONPATH": wpp}, "timeout": max(30, int(timeout)),
           "result_file": out, "require_gpu": gpu == "true",
           "workloads": [{"num_prompts": 30, "input_len": 32, "output_len": 50},
                         {"num_prompts": 500, "input_len": 128, "output_len": 128}]}, open(path, "w"))
PYEOF
cat > "$WORK/module.yml" <<'YML'
- name: vllm_bench next to vLLM's own benchmark.
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Measure both workloads with the module, on one engine.
      vaultcube.demobox.vllm_bench:
        model: "{{ model }}"
        load_format: dummy
        python: "{{ worker_python }}"
        env: "{{ worker_env }}"
        workloads: "{{ workloads }}"
        timeout: "{{ timeout }}"
        require_gpu: "{{ require_gpu }}"
        min_output_tokens_per_s: 10
        fail_on_threshold: false
      register: vllm_bench_result
      ignore_errors: true
    - name: Save the module's result.
      ansible.builtin.copy:
        content: "{{ vllm_bench_result | to_nice_json }}"
        dest: "{{ result_file }}"
        mode: "0644"
YML
run_capped "$t" ansible-playbook -i "$inventory" -e "@$WORK/module-vars.json" "$WORK/module.yml" >> "$STEPS" 2>&1
log "step 1 done (rc $?)"
[ -f "$WORK/module.json" ] && cp "$WORK/module.json" "$OUT/vllm_bench-module.json"
sweep; wait_gpu_free
fi

# --- 2, 3. vLLM's own throughput benchmark, one engine per workload ---------------------------
bench() {  # bench NAME INPUT OUTPUT PROMPTS RESERVE
  local name=$1 t
  t=$(cap 120 "$5")
  if (( t < 40 )); then log "step: vLLM's benchmark $name skipped: only ${t}s left"; return; fi
  log "step: vLLM's benchmark (bench_tp.py) $name, limit ${t}s"
  {
    echo "== bench_tp.py --model $MODEL --load-format dummy --dataset-name random --random-input-len $2 --random-output-len $3 --num-prompts $4"
    PYTHONPATH=$WPP run_capped "$t" "$PY" "$BENCH_TP" --model "$MODEL" --load-format dummy --dataset-name random \
      --random-input-len "$2" --random-output-len "$3" --num-prompts "$4" --output-json "$WORK/tp_$name.json"
    echo "== exit $?"
  } > "$WORK/tp_$name.log" 2>&1
  cat "$WORK/tp_$name.log" >> "$STEPS"
  log "$(grep -h 'Throughput:' "$WORK/tp_$name.log" | tail -1 || echo "no Throughput line")"
  sweep; wait_gpu_free
}
if want bench; then
  bench 30x32_50 32 50 30 200
  bench 500x128_128 128 128 500 140
fi

# --- 4. the validation role's vllm_bench check (spec workload, llama-2-7b preset) ------------------
t=$(cap 130 10)
if ! want validate; then
  :
elif (( t >= 60 )); then
  log "step 4: validate playbook with validation_checks [vllm_bench] (llama-2-7b preset, 30x32/50), limit ${t}s"
  "$PY" - "$WORK/validate-vars.json" "$NGPU" "$PY" "$WPP" "$((t - 20))" <<'PYEOF'
import json, sys
path, ngpu, py, wpp, timeout = sys.argv[1:]
json.dump({"validation_checks": ["vllm_bench"], "validation_expected_gpu_count": int(ngpu) if ngpu != "0" else None,
           "validation_min_driver_version": "570" if ngpu != "0" else None,
           "validation_worker_python": py, "validation_vllm_env": {"PYTHONPATH": wpp}, "validation_vllm_timeout": max(30, int(timeout))},
          open(path, "w"))
PYEOF
  VAULTCUBE_REPORT_DIR="$WORK/reports" run_capped "$t" ansible-playbook vaultcube.demobox.validate -i "$inventory" \
    -e "@$WORK/validate-vars.json" >> "$STEPS" 2>&1
  log "step 4 done (rc $?)"
  cp "$WORK/reports/localhost/validation-report.md" "$OUT/vllm_bench-report.md" 2>/dev/null
  sweep; wait_gpu_free
else
  log "step 4 skipped: only ${t}s left"
fi

# --- 5. serve mode against `vllm serve`, if it can start -------------------------------------------
serve_blocker=""
if ! want serve; then
  serve_blocker="not asked for (VLLM_BENCH_STEPS)"
elif (( $(left) < 150 )); then
  serve_blocker="not tried: only $(left)s of the time budget were left"
elif [ "$DRY" = 1 ]; then
  SERVER_CMD=("$PY" tests/integration/targets/vllm_bench/files/fake_openai_server.py --port "$PORT" --port-file "$WORK/port"
              --model "$SERVED_NAME" --ttft 0.02 --itl 0.002)
else
  err=$(PYTHONPATH=$WPP timeout 90 "$PY" -c 'import vllm.entrypoints.openai.api_server' 2>&1 | grep -E "Error|error" | tail -1)
  if [ -n "$err" ]; then
    serve_blocker="vllm.entrypoints.openai.api_server cannot be imported from the bundle: $err"
  else
    SERVER_CMD=("$PY" -m vllm.entrypoints.openai.api_server --model "$MODEL" --load-format dummy --host 127.0.0.1
                --port "$PORT" --served-model-name "$SERVED_NAME")
  fi
fi
if [ ${#SERVER_CMD[@]} -gt 0 ]; then
  log "step 5: starting the server: ${SERVER_CMD[*]}"
  PYTHONPATH=$WPP setsid "${SERVER_CMD[@]}" > "$WORK/serve.log" 2>&1 &
  SERVE_PID=$!
  ready=0
  deadline=$(( SECONDS + $(cap 150 45) ))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$SERVE_PID" 2>/dev/null; then break; fi
    if "$PY" -c "import urllib.request as u, sys; u.urlopen('http://127.0.0.1:$PORT/v1/models', timeout=2)" 2>/dev/null; then ready=1; break; fi
    sleep 2
  done
  if [ "$ready" = 1 ]; then
    log "server ready after $((SECONDS - T0))s; serve mode: 30x32/50 and 200x128/128, all requests at once"
    "$PY" - "$WORK/serve-vars.json" "http://127.0.0.1:$PORT/v1" "$WORK/serve.json" <<'PYEOF'
import json, sys
path, url, out = sys.argv[1:]
json.dump({"endpoint": url, "result_file": out, "workloads": [{"num_prompts": 30, "input_len": 32, "output_len": 50},
                                                              {"num_prompts": 200, "input_len": 128, "output_len": 128}]}, open(path, "w"))
PYEOF
    cat > "$WORK/serve.yml" <<'YML'
- name: vllm_bench against the running server.
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Benchmark the OpenAI-compatible endpoint with streaming requests.
      vaultcube.demobox.vllm_bench:
        mode: serve
        endpoint: "{{ endpoint }}"
        workloads: "{{ workloads }}"
        prompt_format: token_ids
        timeout: 60
        min_output_tokens_per_s: 10
        fail_on_threshold: false
      register: vllm_bench_serve
      ignore_errors: true
    - name: Save the serve-mode result.
      ansible.builtin.copy:
        content: "{{ vllm_bench_serve | to_nice_json }}"
        dest: "{{ result_file }}"
        mode: "0644"
YML
    run_capped "$(cap 90 10)" ansible-playbook -i "$inventory" -e "@$WORK/serve-vars.json" "$WORK/serve.yml" >> "$STEPS" 2>&1
    log "step 5 done (rc $?)"
  else
    serve_blocker="the server did not answer on port $PORT: $("$PY" -c "
import sys; sys.path.insert(0, 'plugins/module_utils'); import _llm_bench as B
lines = open(sys.argv[1], errors='replace').read().splitlines()
print(B.root_cause(lines[-200:]) or (lines[-1] if lines else 'no output'))" "$WORK/serve.log")"
  fi
  { echo "== server log (tail)"; tail -80 "$WORK/serve.log"; } >> "$STEPS"
  sweep
fi
[ -n "$serve_blocker" ] && log "serve mode skipped: $serve_blocker"

# --- 6. side by side --------------------------------------------------------------------------------
"$PY" - "$WORK" "$OUT" "$serve_blocker" "$DRY" "$((SECONDS - T0))" "$STEPS_WANTED" <<'PYEOF'
import glob, json, os, re, sys
work, out, serve_blocker, dry, elapsed, steps = sys.argv[1:]
sys.path.insert(0, "plugins/module_utils")
import _llm_bench as B

REFERENCE = {"30x32/50": 4334.9, "500x128/128": 11818.5}   # the issue's figures (vLLM's benchmark, same bundle)
def load(path):
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return None

module = load(os.path.join(work, "module.json")) or {}
mod_w = {w["name"]: w for w in (module.get("metrics") or {}).get("workloads", [])}
rows, ok = [], True
for name, tag in (("30x32/50", "30x32_50"), ("500x128/128", "500x128_128")):
    text = open(os.path.join(work, "tp_%s.log" % tag), errors="replace").read() if os.path.exists(os.path.join(work, "tp_%s.log" % tag)) else ""
    ref = B.parse_vllm_throughput(text) or {}
    m = mod_w.get(name, {})
    diff = B.percent_difference(m.get("output_tokens_per_s"), ref.get("output_tokens_per_s"))
    within = diff is not None and abs(diff) <= 3.0
    ok = ok and within
    rows.append({"workload": name,
                 "module": {k: m.get(k) for k in ("output_tokens_per_s", "total_tokens_per_s", "requests_per_s", "elapsed_s",
                                                  "output_tokens", "prompt_tokens", "latency_ms", "ttft_ms", "tpot_ms")},
                 "vllm_bench_throughput": ref or None,
                 "output_tokens_per_s_difference_pct": diff, "within_3pct": within,
                 "issue_reference_output_tokens_per_s": REFERENCE[name],
                 "module_vs_issue_reference_pct": B.percent_difference(m.get("output_tokens_per_s"), REFERENCE[name]),
                 "vllm_vs_issue_reference_pct": B.percent_difference(ref.get("output_tokens_per_s"), REFERENCE[name])})

report = None
for path in glob.glob(os.path.join(work, "reports", "*", "validation-report.json")):
    report = load(path)
spec = (report or {}).get("modules", {}).get("vllm_bench") if report else None
serve = load(os.path.join(work, "serve.json"))
env = module.get("environment") or {}
metrics = module.get("metrics") or {}
result = {
    "dry_run": dry == "1", "elapsed_s": int(elapsed),
    "settings": {"model": "Llama-2-7B-shaped config (/tmp/vbundle/models/llama2-7b-shape), load_format dummy (random weights)",
                 "dtype": env.get("dtype"), "attention_backend": env.get("attention_backend"),
                 "compilation_mode": env.get("compilation_mode"), "cudagraph_mode": env.get("cudagraph_mode"),
                 "gpu_memory_utilization": 0.9, "max_model_len": env.get("max_model_len"),
                 "max_num_seqs": env.get("max_num_seqs"), "max_num_batched_tokens": env.get("max_num_batched_tokens"),
                 "module": "vaultcube.demobox.vllm_bench offline, both workloads on one engine (30x32/50 first), token-id prompts, "
                           "SamplingParams(n=1, temperature=1.0, top_p=1.0, ignore_eos=True), detokenize on",
                 "vllm": "bench_tp.py = vllm.benchmarks.throughput (vllm bench throughput), --dataset-name random, one engine per workload"},
    "versions": {k: env.get(k) for k in ("vllm_version", "torch_version", "torch_cuda", "python", "gpu_names", "driver_version")},
    "module_msg": module.get("msg"), "module_failed": bool(module.get("failed")) or not mod_w,
    "module_extra": {k: metrics.get(k) for k in ("load_time_s", "import_time_s", "gpu_memory_peak_mib", "gpu_memory_engine_peak_mib",
                                                 "kv_cache_tokens", "model_weights_gib", "torch_compile_s")},
    "workloads": rows, "all_within_3pct": ok,
    "validation_check": {"passed": spec.get("passed") if spec else None, "msg": spec.get("msg") if spec else "did not run",
                         "metrics": {k: (spec.get("metrics") or {}).get(k) for k in ("output_tokens_per_s", "total_tokens_per_s",
                                                                                     "requests_per_s", "load_time_s", "gpu_memory_peak_mib")}
                         if spec else None},
    "serve": {"blocked": serve_blocker or None, "msg": (serve or {}).get("msg"),
              "workloads": ((serve or {}).get("metrics") or {}).get("workloads"), "result": serve},
}
json.dump(result, open(os.path.join(out, "vllm_bench-compare.json"), "w"), indent=1)

def f(v, d=1):
    return "n/a" if v is None else "{:,.{d}f}".format(v, d=d)
md = ["# vllm_bench vs `vllm bench throughput`%s" % (" (DRY RUN: fake vLLM, meaningless figures)" if dry == "1" else ""), "",
      "vLLM %s, torch %s, %s, driver %s; %s; attention %s, compilation %s, CUDA graphs %s." % (
          env.get("vllm_version"), env.get("torch_version"), ", ".join(env.get("gpu_names") or []) or "?", env.get("driver_version"),
          result["settings"]["model"], env.get("attention_backend"), env.get("compilation_mode"), env.get("cudagraph_mode")), "",
      "| workload | module output tok/s | vLLM output tok/s | difference | module total tok/s | vLLM total tok/s | module req/s | vLLM req/s | issue's reference |",
      "|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    v = r["vllm_bench_throughput"] or {}
    md.append("| %s | %s | %s | %s%% %s | %s | %s | %s | %s | %s |" % (
        r["workload"], f(r["module"]["output_tokens_per_s"]), f(v.get("output_tokens_per_s")), f(r["output_tokens_per_s_difference_pct"], 2),
        "(within 3%)" if r["within_3pct"] else "(NOT within 3%)", f(r["module"]["total_tokens_per_s"]), f(v.get("total_tokens_per_s")),
        f(r["module"]["requests_per_s"], 2), f(v.get("requests_per_s"), 2), f(r["issue_reference_output_tokens_per_s"])))
md += ["", "Module extras (first workload): latency p50/p99 %s/%s ms, TTFT p50 %s ms, TPOT p50 %s ms; engine start %s s; "
       "peak GPU memory %s MiB; KV cache %s tokens." % (
           f((rows[0]["module"]["latency_ms"] or {}).get("p50")), f((rows[0]["module"]["latency_ms"] or {}).get("p99")),
           f((rows[0]["module"]["ttft_ms"] or {}).get("p50")), f((rows[0]["module"]["tpot_ms"] or {}).get("p50"), 2),
           f(metrics.get("load_time_s")), f(metrics.get("gpu_memory_peak_mib"), 0), f(metrics.get("kv_cache_tokens"), 0)),
       "", "Validation role (llama-2-7b preset, no tokenizer, 30x32/50): %s" % result["validation_check"]["msg"], "",
       "Serve mode: %s" % (serve_blocker or (serve or {}).get("msg") or "no result")]
open(os.path.join(out, "vllm_bench-compare.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
if ",module," not in steps or ",bench," not in steps:
    sys.exit(0 if (serve or not serve_blocker) else 1)  # no comparison asked for
sys.exit(0 if ok else (1 if result["module_failed"] or any(r["vllm_bench_throughput"] is None for r in rows) else 2))
PYEOF
rc=$?
log "done in $((SECONDS - T0))s, exit $rc"
exit $rc
