#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: vllm_bench
short_description: Measure LLM inference throughput and latency with vLLM, offline or against an OpenAI-compatible endpoint
version_added: "0.1.0"
description:
  - B(Offline mode) (the default) runs vLLM's Python engine (C(vllm.LLM)) in a child process under
    the AI venv's interpreter and measures it the way vLLM's own C(vllm bench throughput) does - one
    engine, prompts of exactly O(input_len) tokens built like vLLM's random dataset, sampling with
    C(ignore_eos) so every request generates exactly O(output_len) tokens, and one timed
    C(generate) call over all prompts. It reports requests/s, B(output) tokens/s and total (prompt +
    output) tokens/s separately, per-request latency, time to first token and time per output token
    percentiles, the engine's start-up time, peak GPU memory (NVML) and the versions used.
  - O(model) is a local model folder, a Hugging Face model id, or an architecture preset
    (V(llama-2-7b), V(opt-1.3b)) - only the public C(config.json) of that model, shipped with the
    collection and run with random weights (O(load_format=dummy)), so a box without internet can
    benchmark the spec's models. Results say so whenever the weights were random.
  - A folder without a tokenizer is run with O(skip_tokenizer_init=true) and token-id prompts.
  - With real weights and a tokenizer, an output-quality check sends a small fixed set of prompts
    (or O(quality_prompts)) with greedy decoding and passes when enough answers contain their
    expected text. With random weights it is skipped, with that reason.
  - B(Serve mode) benchmarks any OpenAI-compatible endpoint (C(vllm serve) or another server) with
    streaming C(/v1/completions) (or C(/v1/chat/completions)) requests at a chosen concurrency and
    request rate, and reports time to first token (TTFT), time per output token (TPOT), inter-token
    latency (ITL) and end-to-end latency (mean, p50, p90, p99), output tokens/s and failed requests.
    The client uses the Python standard library only and runs in the module's process.
  - Missing vLLM, a missing model path, running out of GPU memory, an engine that fails to start and
    an endpoint that does not answer each fail the task with one sentence; the engine's processes
    (vLLM starts EngineCore and worker processes) are stopped and swept in every case.
  - The module measures only and never reports C(changed).
extends_documentation_fragment:
  - vaultcube.demobox.validation
  - vaultcube.demobox.validation.worker
options:
  mode:
    description:
      - V(offline) runs vLLM's engine in a child process; V(serve) benchmarks O(endpoint).
    type: str
    choices: [offline, serve]
    default: offline
  model:
    description:
      - "Offline: a local model folder (with C(config.json)), a Hugging Face model id, or a preset:
        V(llama-2-7b) (Llama-2-7B architecture) or V(opt-1.3b) (OPT-1.3B). A preset, or its Hugging Face
        id with O(load_format) unset or V(dummy), runs the shipped architecture with random weights."
      - "Serve: the model name to request; default the first model the endpoint lists."
    type: str
  load_format:
    description:
      - How vLLM loads weights. V(dummy) fills the model with random weights (no download, no files
        needed; the figures measure the architecture, the text means nothing).
      - Default V(dummy) for a preset, else V(auto).
    type: str
  dtype:
    description: Weight and activation data type passed to vLLM (V(auto), V(bfloat16), V(float16), ...).
    type: str
    default: auto
  tensor_parallel_size:
    description: Number of GPUs the model is split across.
    type: int
    default: 1
  max_model_len:
    description: Longest sequence (prompt + output) the engine accepts; default the model's own limit.
    type: int
  gpu_memory_utilization:
    description: Fraction of each GPU's memory vLLM may use for weights, activations and KV cache.
    type: float
    default: 0.9
  num_prompts:
    description: Number of prompts (requests). The spec's batch is 30.
    type: int
    default: 30
  input_len:
    description: Tokens per prompt.
    type: int
    default: 32
  output_len:
    description: Tokens generated per prompt. The spec asks for 50.
    type: int
    default: 50
  workloads:
    description:
      - Several workloads to run one after the other on the same engine (or endpoint), each a mapping
        with C(num_prompts), C(input_len), C(output_len) and an optional C(name). When set, it
        replaces O(num_prompts), O(input_len) and O(output_len). The engine starts once, which
        saves its start-up time (torch.compile and CUDA graph capture) for each further workload.
    type: list
    elements: dict
  seed:
    description: Seed of the engine and of the prompt generator.
    type: int
    default: 0
  skip_tokenizer_init:
    description:
      - Start vLLM without a tokenizer and send token-id prompts. Default V(true) when the model folder
        (or preset) has no tokenizer, else V(false).
    type: bool
  detokenize:
    description:
      - Turn generated tokens into text during the benchmark, as C(vllm bench throughput) does by
        default. Ignored without a tokenizer.
    type: bool
    default: true
  attention_backend:
    description:
      - vLLM attention backend, for example V(FLASH_ATTN) or V(TRITON_ATTN); default vLLM's choice for the GPU.
    type: str
  enforce_eager:
    description: Run the model eagerly (no torch.compile, no CUDA graphs). Starts faster, runs slower.
    type: bool
    default: false
  num_warmups:
    description:
      - Prompts of the same shape generated before each timed run and not counted, like
        C(vllm bench throughput --num-warmups). vLLM's default is 0.
    type: int
    default: 0
  engine_args:
    description:
      - "Further keyword arguments for C(vllm.LLM), for example C({enable_prefix_caching: false,
        max_num_seqs: 128}). They override the options above. C(disable_log_stats) is V(false) by
        default, as in C(vllm bench throughput) (it also gives the per-request timings)."
    type: dict
    default: {}
  env:
    description:
      - Environment variables added to (or replacing those in) the worker's environment, which
        otherwise inherits the module's. The worker always gets C(VLLM_NO_USAGE_STATS=1).
    type: dict
    default: {}
  offline:
    description:
      - Set C(HF_HUB_OFFLINE=1) and C(TRANSFORMERS_OFFLINE=1) for the worker, so vLLM never tries to
        reach the Hugging Face Hub (an air-gapped box). Set V(false) to let it download O(model).
    type: bool
    default: true
  require_gpu:
    description:
      - Before starting the engine, check through NVML that there are at least O(tensor_parallel_size)
        NVIDIA GPUs and fail with one sentence if not. Set V(false) for a vLLM build for another device.
    type: bool
    default: true
  timeout:
    description:
      - Seconds the whole measurement may take (offline - the worker, including engine start-up;
        serve - all requests). The worker and every process it started are stopped when it passes.
    type: int
    default: 1200
  endpoint:
    description: "Serve mode: base URL of the OpenAI-compatible API, for example V(http://127.0.0.1:8000/v1)."
    type: str
  api:
    description: "Serve mode: V(completions) (C(/v1/completions)) or V(chat) (C(/v1/chat/completions))."
    type: str
    choices: [completions, chat]
    default: completions
  api_key:
    description: "Serve mode: bearer token sent as C(Authorization: Bearer ...)."
    type: str
  concurrency:
    description: "Serve mode: most requests in flight at once; default all of them (as C(vllm bench serve))."
    type: int
  request_rate:
    description:
      - "Serve mode: requests per second, sent as a Poisson process; default all at once (as C(vllm bench serve))."
    type: float
  prompt_format:
    description:
      - "Serve mode: V(token_ids) sends prompts as token ids (exact lengths; vLLM accepts them), V(text)
        sends common English words (about O(input_len) tokens; any server accepts them)."
    type: str
    choices: [token_ids, text]
    default: token_ids
  ignore_eos:
    description:
      - "Serve mode: send C(ignore_eos: true) (vLLM's extension) so every request generates exactly
        O(output_len) tokens. Servers that do not know it may ignore it or refuse the request."
    type: bool
    default: true
  request_timeout:
    description: "Serve mode: seconds one request may take."
    type: float
    default: 300
  quality_check:
    description:
      - Run the output-quality check. Default (null) - offline with real weights and a tokenizer,
        not in serve mode (the module cannot tell whether the endpoint's weights are real). With
        random weights it is always skipped.
    type: bool
  quality_prompts:
    description:
      - Prompts of the quality check, each C({prompt, expect}) where C(expect) is a string or a list
        of strings, one of which the answer must contain (case-insensitive). Default five easy
        continuations (capital of France, counting, weekdays, opposites, water).
    type: list
    elements: dict
  quality_max_tokens:
    description: Tokens generated per quality prompt (greedy decoding).
    type: int
    default: 24
  min_quality_pass_rate:
    description: Fraction of quality prompts (0-1) whose answer must contain its expected text.
    type: float
    default: 0.6
  min_output_tokens_per_s:
    description: Lowest acceptable output (generated) tokens per second of each workload. The spec asks for more than 10.
    type: float
  min_requests_per_s:
    description: Lowest acceptable requests per second of each workload.
    type: float
  max_latency_p99_ms:
    description: Highest acceptable 99th-percentile end-to-end request latency, in ms.
    type: float
  max_ttft_p99_ms:
    description: Highest acceptable 99th-percentile time to first token, in ms.
    type: float
  max_tpot_p99_ms:
    description: Highest acceptable 99th-percentile time per output token, in ms.
    type: float
  max_failed_requests:
    description: "Serve mode: most requests that may fail."
    type: int
    default: 0
  max_load_time_s:
    description: "Offline mode: longest acceptable engine start-up (model load, compile, CUDA graphs), in s."
    type: float
  max_gpu_memory_mib:
    description:
      - "Offline mode: highest acceptable peak GPU memory in use on any GPU during the run, in MiB.
        vLLM reserves O(gpu_memory_utilization) of each GPU up front, so this mostly reflects that setting."
    type: float
notes:
  - Offline mode needs vLLM in the interpreter given by O(worker_python) and an NVIDIA GPU (unless
    O(require_gpu=false)). vLLM reserves most of each GPU's memory; nothing else should run on them.
  - "The figures match C(vllm bench throughput --dataset-name random) on the same model and workload
    to within a few percent (docs/vllm_bench.md has the side-by-side measurement)."
seealso:
  - name: vLLM benchmark CLI
    description: vLLM's own throughput and serving benchmarks, which this module follows.
    link: https://docs.vllm.ai/en/latest/cli/bench/throughput.html
attributes:
  action_group:
    support: full
    membership:
      - vaultcube.demobox.gpu
      - vaultcube.demobox.gpu_workers
    description: Set its shared options once with C(module_defaults) and C(group/vaultcube.demobox.gpu) or C(group/vaultcube.demobox.gpu_workers).
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: The spec's workload (30 prompts, 50 tokens each) on the Llama-2-7B architecture, random weights.
  vaultcube.demobox.vllm_bench:
    model: llama-2-7b
    min_output_tokens_per_s: 10

- name: A downloaded model with its quality check, two workloads on one engine.
  vaultcube.demobox.vllm_bench:
    model: /opt/models/opt-1.3b
    dtype: float16
    workloads:
      - {num_prompts: 30, input_len: 32, output_len: 50}
      - {num_prompts: 500, input_len: 128, output_len: 128}

- name: Four GPUs, Triton attention (GPUs other than Hopper with a vLLM build without FlashAttention 2).
  vaultcube.demobox.vllm_bench:
    model: /opt/models/Llama-2-7b-hf
    tensor_parallel_size: 4
    attention_backend: TRITON_ATTN

- name: A running `vllm serve`, 200 requests, 32 at a time.
  vaultcube.demobox.vllm_bench:
    mode: serve
    endpoint: http://127.0.0.1:8000/v1
    num_prompts: 200
    input_len: 128
    output_len: 128
    concurrency: 32
    max_ttft_p99_ms: 2000
"""

RETURN = r"""
changed:
  description: Always V(false); the module only measures.
  returned: always
  type: bool
passed:
  description: V(true) when every threshold set was met, V(false) when one was not, V(null) when none was judged.
  returned: always
  type: bool
checks:
  description:
    - One entry per judged or reported figure - C(vllm_bench.output_tokens_per_s), C(vllm_bench.requests_per_s),
      C(vllm_bench.total_tokens_per_s), C(vllm_bench.output_tokens), C(vllm_bench.latency_p99_ms),
      C(vllm_bench.ttft_p99_ms), C(vllm_bench.tpot_p99_ms), C(vllm_bench.failed_requests) (serve),
      C(vllm_bench.load_time_s), C(vllm_bench.gpu_memory_peak_mib) (offline), C(vllm_bench.weights),
      C(vllm_bench.quality). With several workloads the per-workload names end in C([name]).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "vllm_bench.output_tokens_per_s", "status": "passed", "value": 4334.9,
            "threshold": {"min": 10}, "unit": "tokens/s",
            "message": "Output tokens/s (30x32/50) is 4334.9 tokens/s, at or above the minimum of 10 tokens/s."}]
metrics:
  description: The figures.
  returned: always
  type: dict
  contains:
    mode:
      description: V(offline) or V(serve).
      type: str
    model:
      description: The model as given, and as run (C(model_path)) for offline mode.
      type: str
    weights:
      description: V(random) (O(load_format=dummy)), V(loaded), or V(unknown) (serve mode).
      type: str
    output_tokens_per_s:
      description: Generated tokens per second of the first workload.
      type: float
    total_tokens_per_s:
      description: Prompt plus generated tokens per second of the first workload (vLLM's C(tokens_per_second)).
      type: float
    requests_per_s:
      description: Requests per second of the first workload.
      type: float
    workloads:
      description:
        - Per workload - C(name), C(num_prompts), C(input_len), C(output_len), C(elapsed_s) (offline) or
          C(duration_s) (serve), C(requests_per_s), C(output_tokens_per_s), C(total_tokens_per_s),
          C(prompt_tokens), C(output_tokens), and distributions (C(mean), C(p50), C(p90), C(p99), C(min),
          C(max), C(count)) C(latency_ms), C(ttft_ms), C(tpot_ms), plus C(itl_ms), C(completed) and
          C(failed) in serve mode.
      type: list
      elements: dict
    load_time_s:
      description: "Offline: seconds to start the engine (load or create weights, torch.compile, KV cache, CUDA graphs)."
      type: float
    import_time_s:
      description: "Offline: seconds to import vLLM in the worker."
      type: float
    gpu_memory_peak_mib:
      description: "Offline: highest device memory in use on any GPU during the run (NVML), in MiB."
      type: int
    gpu_memory_engine_peak_mib:
      description: "Offline: highest memory held by the engine's own processes, summed over GPUs, where NVML can attribute it."
      type: int
    gpu_memory:
      description: "Offline: per GPU - index, name, total_mib, baseline_used_mib, peak_used_mib, engine_peak_mib."
      type: list
      elements: dict
    kv_cache_tokens:
      description: "Offline: the KV cache's size in tokens, as vLLM logged it."
      type: int
    quality:
      description: C(passed), C(total) and C(rate) of the quality check, when it ran.
      type: dict
thresholds:
  description: What the figures were judged against (V(null) = reported without judging).
  returned: always
  type: dict
failures:
  description: One sentence per failed check.
  returned: always
  type: list
  elements: str
environment:
  description:
    - "Offline: vLLM, torch and CUDA versions, the worker's Python, the GPUs and driver, the attention backend vLLM
      chose, compilation and CUDA graph modes, dtype, max_model_len, and how the model was given (preset, path, name)."
    - "Serve: the endpoint, the served model, the server's version (where it says), the API used."
  returned: always
  type: dict
tables:
  description: Throughput and latency per workload, GPU memory, quality answers - rendered by the validation report.
  returned: always
  type: list
  elements: dict
worker_log_tail:
  description: "Offline, on failure: the last lines the worker and vLLM wrote (stdout, then stderr)."
  returned: failure
  type: list
  elements: str
"""

import inspect
import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args, _nvml, _proc, _util, _vllm_worker
from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_bench as B
from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_serve as S
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R

PREFIX = "vllm_bench."
PHASE_WORDS = {"import": "importing vLLM", "engine_start": "starting the engine", "generate": "generating",
               "quality": "running the quality check", "shutdown": "shutting the engine down", "exit": "exiting"}
# Seconds the engine's processes get to stop after SIGTERM before they are killed.
STOP_GRACE_S = 5.0


class PlanError(Exception):
    """A parameter or the model cannot be used; the message is one sentence."""


def _fmt_num(value, digits=1):
    if value is None:
        return "n/a"
    return "{:,.{d}f}".format(value, d=digits)


# --- Planning (shared by check mode and the real run) ------------------------------------------

def validate_common(params):
    workloads, error = B.normalize_workloads(params["workloads"], params["num_prompts"], params["input_len"], params["output_len"])
    if error:
        raise PlanError(error)
    if not 0 < params["gpu_memory_utilization"] <= 1:
        raise PlanError("gpu_memory_utilization must be more than 0 and at most 1, got %s." % params["gpu_memory_utilization"])
    if params["tensor_parallel_size"] < 1:
        raise PlanError("tensor_parallel_size must be 1 or more, got %d." % params["tensor_parallel_size"])
    if params["max_model_len"] is not None and params["max_model_len"] < 2:
        raise PlanError("max_model_len must be 2 or more, got %d." % params["max_model_len"])
    if params["timeout"] < 1:
        raise PlanError("timeout must be 1 second or more, got %d." % params["timeout"])
    if params["num_warmups"] < 0:
        raise PlanError("num_warmups must be 0 or more, got %d." % params["num_warmups"])
    if not 0 <= params["min_quality_pass_rate"] <= 1:
        raise PlanError("min_quality_pass_rate must be between 0 and 1, got %s." % params["min_quality_pass_rate"])
    if params["quality_max_tokens"] < 1:
        raise PlanError("quality_max_tokens must be 1 or more, got %d." % params["quality_max_tokens"])
    if params["concurrency"] is not None and params["concurrency"] < 1:
        raise PlanError("concurrency must be 1 or more, got %d." % params["concurrency"])
    if params["request_rate"] is not None and params["request_rate"] <= 0:
        raise PlanError("request_rate must be more than 0 (leave it unset to send all requests at once), got %s." % params["request_rate"])
    quality_prompts, error = B.normalize_quality_prompts(params["quality_prompts"])
    if error:
        raise PlanError(error)
    return workloads, quality_prompts


def plan_offline(params):
    workloads, quality_prompts = validate_common(params)
    model = (params["model"] or "").strip()
    if not model:
        raise PlanError("Offline mode needs a model: a model folder, a Hugging Face id, or a preset (%s)." % ", ".join(sorted(B.PRESETS)))
    load_format = params["load_format"]
    plan = {"model": model, "preset": None, "model_path": None, "source": None, "tokenizer": None}
    preset = B.preset_name(model)
    exact_preset = model.lower() in B.PRESETS
    if preset and (exact_preset or load_format in (None, "dummy")):
        if load_format not in (None, "dummy"):
            raise PlanError("The preset '%s' holds only the architecture of %s, no weights: use load_format dummy, or give the folder "
                            "of a downloaded model." % (preset, B.PRESETS[preset]["source"]))
        plan.update(preset=preset, source="preset", tokenizer=False, load_format="dummy")
        config = B.PRESETS[preset]["config"]
    elif B.looks_like_path(model) or os.path.isdir(model):
        path = os.path.abspath(model)
        if not os.path.exists(path):
            raise PlanError("The model path %s does not exist." % path)
        if not os.path.isdir(path):
            raise PlanError("The model path %s is not a folder (vLLM needs a Hugging Face model folder with config.json)." % path)
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise PlanError("The model folder %s has no config.json, so vLLM cannot load it." % path)
        load_format = load_format or "auto"
        if load_format in ("auto", "safetensors", "pt") and not B.has_weights(path):
            raise PlanError("The model folder %s has no weight files (*.safetensors, *.bin, *.pt): set load_format dummy to benchmark "
                            "its architecture with random weights." % path)
        try:
            config = B.read_config(path)
        except (OSError, ValueError) as exc:
            raise PlanError("The config.json in %s cannot be read: %s." % (path, exc))
        plan.update(model_path=path, source="path", tokenizer=B.has_tokenizer(path), load_format=load_format)
    else:
        config = {}
        plan.update(model_path=model, source="name", tokenizer=None, load_format=load_format or "auto")

    limit = params["max_model_len"] or config.get("max_position_embeddings")
    for w in workloads:
        needed = w["input_len"] + w["output_len"]
        if limit and needed > limit:
            raise PlanError("The workload %s needs %d tokens per request (input_len + output_len), more than the %s of %d." % (
                w["name"], needed, "max_model_len" if params["max_model_len"] else "model's max_position_embeddings", limit))

    skip_tok = params["skip_tokenizer_init"]
    if skip_tok is None:
        skip_tok = plan["tokenizer"] is False
    plan["skip_tokenizer_init"] = skip_tok
    plan["detokenize"] = bool(params["detokenize"]) and not skip_tok
    plan["random_weights"] = plan["load_format"] == "dummy"
    plan["workloads"] = workloads

    quality = params["quality_check"]
    if quality is False:
        plan["quality_skip"] = "The quality check is turned off (quality_check: false)."
    elif plan["random_weights"]:
        plan["quality_skip"] = "The quality check was skipped: the weights are random (load_format dummy), so the text means nothing."
    elif skip_tok:
        plan["quality_skip"] = "The quality check was skipped: there is no tokenizer to turn its prompts into tokens (skip_tokenizer_init)."
    else:
        plan["quality_skip"] = None
    plan["quality_prompts"] = quality_prompts

    kwargs = {
        "model": plan["model_path"],
        "dtype": params["dtype"],
        "tensor_parallel_size": params["tensor_parallel_size"],
        "gpu_memory_utilization": params["gpu_memory_utilization"],
        "seed": params["seed"],
        "load_format": plan["load_format"],
        "skip_tokenizer_init": skip_tok,
        "enforce_eager": params["enforce_eager"],
        # vllm bench throughput builds its engine from the CLI defaults, where statistics are on.
        "disable_log_stats": False,
    }
    if params["max_model_len"]:
        kwargs["max_model_len"] = params["max_model_len"]
    if params["attention_backend"]:
        kwargs["attention_config"] = {"backend": params["attention_backend"]}
    kwargs.update(params["engine_args"] or {})
    plan["llm_kwargs"] = kwargs
    plan["python"] = _proc.worker_interpreter(params["worker_python"])[0]
    return plan


def describe_model(plan):
    if plan["source"] == "preset":
        return "the %s preset (%s architecture, random weights)" % (plan["preset"], B.PRESETS[plan["preset"]]["source"])
    weights = "random weights" if plan["random_weights"] else "weights loaded with load_format %s" % plan["load_format"]
    return "%s (%s)" % (plan["model"], weights)


def describe_workloads(workloads):
    return ", ".join("%d prompts x %d in / %d out" % (w["num_prompts"], w["input_len"], w["output_len"]) for w in workloads)


# --- Judging -----------------------------------------------------------------------------------

def _suffix(workload, many):
    return "[%s]" % workload["name"] if many else ""


def judge_workloads(workloads, params, mode):
    checks = []
    many = len(workloads) > 1
    for w in workloads:
        sfx = _suffix(w, many)
        label = label_of(w)
        checks.append(R.judge_min(PREFIX + "output_tokens_per_s" + sfx, "Output tokens/s" + label, w.get("output_tokens_per_s"),
                                  params["min_output_tokens_per_s"], "tokens/s"))
        checks.append(R.judge_min(PREFIX + "requests_per_s" + sfx, "Requests/s" + label, w.get("requests_per_s"),
                                  params["min_requests_per_s"], "requests/s"))
        checks.append(R.judge_min(PREFIX + "total_tokens_per_s" + sfx, "Total (prompt + output) tokens/s" + label,
                                  w.get("total_tokens_per_s"), None, "tokens/s"))
        expected = w["num_prompts"] * w["output_len"] if mode == "offline" else None
        if expected is not None:
            got = w.get("output_tokens")
            if got == expected:
                checks.append(R.make_check(PREFIX + "output_tokens" + sfx, R.PASSED, got, {"equals": expected}, "tokens",
                                           "All %d requests of %s generated their %d tokens." % (w["num_prompts"], w["name"], w["output_len"])))
            else:
                checks.append(R.make_check(PREFIX + "output_tokens" + sfx, R.FAILED, got, {"equals": expected}, "tokens",
                                           "The %s workload generated %s of the %d tokens it asked for." % (w["name"], got, expected)))
        for key, text, param, unit in (
            ("latency_ms", "99th-percentile request latency", "max_latency_p99_ms", "ms"),
            ("ttft_ms", "99th-percentile time to first token", "max_ttft_p99_ms", "ms"),
            ("tpot_ms", "99th-percentile time per output token", "max_tpot_p99_ms", "ms"),
        ):
            dist = w.get(key) or {}
            name = PREFIX + key.replace("_ms", "_p99_ms") + sfx
            check = R.judge_max(name, text + label, dist.get("p99"), params[param], unit)
            if dist.get("p99") is None and w.get("timing_note"):
                check["message"] = w["timing_note"]
            checks.append(check)
        if mode == "serve":
            checks.append(R.judge_max(PREFIX + "failed_requests" + sfx, "Failed requests" + label, w.get("failed"),
                                      params["max_failed_requests"], "requests"))
    return checks


def label_of(workload):
    return " (%s)" % workload["name"]


def quality_check(items, min_rate, skip_reason):
    if skip_reason:
        return R.skipped(PREFIX + "quality", skip_reason), None, []
    passed, total, rows = B.quality_summary(items)
    rate = round(passed / float(total), 3) if total else None
    summary = {"passed": passed, "total": total, "rate": rate}
    threshold = {"min": min_rate}
    if rate is not None and rate >= min_rate:
        check = R.make_check(PREFIX + "quality", R.PASSED, rate, threshold, None,
                             "Output quality: %d of %d answers contain their expected text (minimum rate %s)." % (passed, total, min_rate))
    else:
        wrong = [r[0] for r in rows if r[3] == "failed"][:3]
        check = R.make_check(PREFIX + "quality", R.FAILED, rate, threshold, None,
                             "Output quality: only %d of %d answers contain their expected text (minimum rate %s); wrong: %s." % (
                                 passed, total, min_rate, "; ".join("'%s'" % p for p in wrong)))
    return check, summary, rows


def workload_table(workloads, mode):
    columns = ["workload", "requests/s", "output tokens/s", "total tokens/s", "latency p50 ms", "latency p99 ms",
               "TTFT p50 ms", "TTFT p99 ms", "TPOT p50 ms"]
    if mode == "serve":
        columns += ["ITL p50 ms", "failed"]
    rows = []
    for w in workloads:
        row = [w["name"], w.get("requests_per_s"), w.get("output_tokens_per_s"), w.get("total_tokens_per_s")]
        for key, pct in (("latency_ms", "p50"), ("latency_ms", "p99"), ("ttft_ms", "p50"), ("ttft_ms", "p99"), ("tpot_ms", "p50")):
            row.append((w.get(key) or {}).get(pct))
        if mode == "serve":
            row += [(w.get("itl_ms") or {}).get("p50"), w.get("failed")]
        rows.append(row)
    title = "vLLM offline engine throughput and latency" if mode == "offline" else "Endpoint throughput and latency (streaming)"
    return {"title": title, "columns": columns, "rows": rows}


# --- Offline mode --------------------------------------------------------------------------------

def gpu_precheck(params):
    """(environment bits, failure sentence or None) from NVML before starting the engine."""
    nvml, reason = _nvml.load_binding(params["binding_search_paths"])
    if nvml is None:
        return {"gpu_check": "not done: %s" % reason}, None
    inv = _nvml.inventory(nvml, with_interconnect=False)
    env = {"gpu_names": [g["name"] for g in inv["gpus"]], "driver_version": inv["system"].get("driver_version"),
           "cuda_driver_version": inv["system"].get("cuda_driver_version"), "gpu_count": inv["count"]}
    if inv["count"] == 0:
        return env, "vllm_bench's offline mode needs an NVIDIA GPU and found none: %s." % (inv.get("reason") or "NVML reports no GPU")
    if params["tensor_parallel_size"] > inv["count"]:
        return env, "tensor_parallel_size %d needs %d GPUs; this host has %d." % (
            params["tensor_parallel_size"], params["tensor_parallel_size"], inv["count"])
    return env, None


def worker_environment(params):
    env = dict(os.environ)
    env.setdefault("VLLM_NO_USAGE_STATS", "1")
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    if params["offline"]:
        env["HF_HUB_OFFLINE"] = "1"
        env["TRANSFORMERS_OFFLINE"] = "1"
    for key, value in (params["env"] or {}).items():
        env[str(key)] = "" if value is None else str(value)
    return env


def read_progress(path):
    try:
        with open(path) as handle:
            lines = [ln.split()[0] for ln in handle if ln.strip()]
        return lines[-1] if lines else None
    except OSError:
        return None


def run_worker(params, plan, workdir):
    """Start the worker, wait, and return (result dict or None, ChildRun, last phase)."""
    main_path = _proc.write_bundle(workdir, [_nvml, _proc, _util, B], inspect.getsource(_vllm_worker))
    if plan["preset"]:
        plan["llm_kwargs"]["model"] = B.write_preset(plan["preset"], os.path.join(workdir, "model-" + plan["preset"]))
    spec = {
        "llm_kwargs": plan["llm_kwargs"],
        "workloads": plan["workloads"],
        "seed": params["seed"],
        "detokenize": plan["detokenize"],
        "num_warmups": params["num_warmups"],
        "quality": None if plan["quality_skip"] else {"prompts": plan["quality_prompts"], "max_tokens": params["quality_max_tokens"]},
        "nvml": {"enabled": True, "search_paths": params["binding_search_paths"], "interval": 0.5},
        "result_path": os.path.join(workdir, "result.json"),
        "progress_path": os.path.join(workdir, "progress.log"),
    }
    spec_path = os.path.join(workdir, "spec.json")
    with open(spec_path, "w") as handle:
        json.dump(spec, handle)
    run = _proc.ChildRun([plan["python"], main_path, spec_path], env=worker_environment(params), cwd=workdir,
                         timeout=params["timeout"], grace=STOP_GRACE_S, workdir=workdir).start()
    rc = run.wait()
    result = None
    try:
        with open(spec["result_path"]) as handle:
            result = json.load(handle)
    except (OSError, ValueError):
        result = None
    return result, run, rc, read_progress(spec["progress_path"])


def worker_log(run, count, max_bytes=65536):
    """The worker's output, stdout then stderr: vLLM logs (its errors included) to stdout,
    Python tracebacks go to stderr."""
    return (_proc.tail_lines(run.stdout_path, count, max_bytes) + _proc.tail_lines(run.stderr_path, count, max_bytes))


def offline_failure(params, plan, result, run, rc, phase):
    """One sentence for a worker that did not measure, or None when it did."""
    settings = {"gpu_memory_utilization": params["gpu_memory_utilization"], "max_model_len": params["max_model_len"],
                "tensor_parallel_size": params["tensor_parallel_size"]}
    log = worker_log(run, 80)
    if run.timed_out:
        return "The vLLM worker did not finish within its timeout of %ss (it was at '%s') and was stopped with all its " \
               "processes: raise timeout or shorten the workload." % (params["timeout"], phase or "start")
    if result is None:
        if rc == 1 and not phase and any("No such file" in ln or "can't open file" in ln for ln in log):
            return "The worker interpreter %s could not run the worker: %s" % (plan["python"], (log or ["no output"])[-1])
        how = _proc.describe_exit(rc, run.timed_out, params["timeout"])
        if B.root_cause(log) or B.find_pattern(log, B.OOM_PATTERNS + B.KV_CACHE_PATTERNS):
            return B.failure_sentence(phase or "crash", None, log, plan["python"], settings)[:-1] + "; the worker %s." % how
        return "The vLLM worker %s while %s." % (how, PHASE_WORDS.get(phase, "starting"))
    if not result.get("ok"):
        return B.failure_sentence(result.get("phase") or phase or "crash", result.get("error"), log, plan["python"], settings)
    return None


def offline_result(params, plan, result, run, env_extra):
    workloads = result["workloads"]
    for w in workloads:
        if not w.get("latency_ms"):
            w["timing_note"] = "vLLM returned no per-request timings for %s (its statistics were off), so latency was not measured." % w["name"]
    facts = B.engine_log_facts(worker_log(run, 20000, 4 * 1024 * 1024))
    memory = result.get("gpu_memory") or {}
    gpus = memory.get("gpus") or []
    peaks = [g["peak_used_mib"] for g in gpus if g.get("peak_used_mib") is not None]
    engine = [g["engine_peak_mib"] for g in gpus if g.get("engine_peak_mib") is not None]
    first = workloads[0]
    times = result.get("times") or {}
    metrics = {
        "mode": "offline",
        "model": plan["model"],
        "model_path": plan["llm_kwargs"]["model"] if plan["source"] != "preset" else "preset:%s" % plan["preset"],
        "weights": "random" if plan["random_weights"] else "loaded",
        "load_format": plan["load_format"],
        "skip_tokenizer_init": plan["skip_tokenizer_init"],
        "output_tokens_per_s": first.get("output_tokens_per_s"),
        "total_tokens_per_s": first.get("total_tokens_per_s"),
        "requests_per_s": first.get("requests_per_s"),
        "workloads": workloads,
        "load_time_s": times.get("engine_start_s"),
        "import_time_s": times.get("import_s"),
        "gpu_memory_peak_mib": max(peaks) if peaks else None,
        "gpu_memory_engine_peak_mib": sum(engine) if engine else None,
        "gpu_memory": gpus,
        "kv_cache_tokens": facts.get("kv_cache_tokens"),
        "model_weights_gib": facts.get("model_weights_gib"),
        "torch_compile_s": facts.get("torch_compile_s"),
    }
    checks = judge_workloads(workloads, params, "offline")
    checks.append(R.judge_max(PREFIX + "load_time_s", "Engine start-up time", metrics["load_time_s"], params["max_load_time_s"], "s"))
    mem_check = R.judge_max(PREFIX + "gpu_memory_peak_mib", "Peak GPU memory in use", metrics["gpu_memory_peak_mib"],
                            params["max_gpu_memory_mib"], "MiB")
    if metrics["gpu_memory_peak_mib"] is None:
        mem_check["message"] = "Peak GPU memory could not be read through NVML: %s." % (memory.get("reason") or "no sample")
    checks.append(mem_check)
    if plan["random_weights"]:
        checks.append(R.make_check(PREFIX + "weights", R.INFO, "random", None, None,
                                   "Weights were random (load_format dummy): the figures measure the %s architecture's speed; "
                                   "the generated text means nothing." % (B.PRESETS[plan["preset"]]["source"] if plan["preset"] else plan["model"])))
    else:
        checks.append(R.make_check(PREFIX + "weights", R.INFO, "loaded", None, None,
                                   "Weights were loaded from %s (load_format %s)." % (plan["model"], plan["load_format"])))
    qcheck, qsummary, qrows = quality_check(result.get("quality") or [], params["min_quality_pass_rate"], plan["quality_skip"])
    checks.append(qcheck)
    metrics["quality"] = qsummary

    environment = dict(result.get("environment") or {})
    environment.update(env_extra)
    if not environment.get("gpu_names") and gpus:
        environment["gpu_names"] = [g["name"] for g in gpus]
    environment["attention_backend"] = facts.get("attention_backend") or environment.get("attention_backend_setting")
    environment["model_source"] = plan["source"]
    environment["preset"] = plan["preset"]
    environment["weights"] = metrics["weights"]
    environment["worker_python"] = plan["python"]

    tables = [workload_table(workloads, "offline")]
    if gpus:
        tables.append({"title": "GPU memory during the run (NVML, MiB)",
                       "columns": ["GPU", "name", "total", "in use before", "peak in use", "engine processes peak"],
                       "rows": [[g["index"], g["name"], g["total_mib"], g["baseline_used_mib"], g["peak_used_mib"], g["engine_peak_mib"]]
                                for g in gpus]})
    if qrows:
        tables.append({"title": "Output quality (greedy decoding)", "columns": ["prompt", "expected", "answer", "result"], "rows": qrows})

    out = R.build_result(checks, metrics, thresholds_of(params), environment, tables=tables)
    summary = "vLLM %s on %s, %s: %s; engine start %s s." % (
        environment.get("vllm_version") or "?",
        ", ".join(sorted(set(environment.get("gpu_names") or []))) or "the GPU",
        describe_model(plan),
        "; ".join("%s at %s output tokens/s (%s total tokens/s, %s requests/s)" % (
            w["name"], _fmt_num(w.get("output_tokens_per_s")), _fmt_num(w.get("total_tokens_per_s")),
            _fmt_num(w.get("requests_per_s"), 2)) for w in workloads),
        _fmt_num(metrics["load_time_s"]))
    out["msg"] = (" ".join(out["failures"]) + " " + summary) if out["failures"] else summary
    return out


def thresholds_of(params):
    keys = ("min_output_tokens_per_s", "min_requests_per_s", "max_latency_p99_ms", "max_ttft_p99_ms", "max_tpot_p99_ms",
            "max_failed_requests", "max_load_time_s", "max_gpu_memory_mib", "min_quality_pass_rate")
    return {k: params[k] for k in keys}


def run_offline(module, params):
    try:
        plan = plan_offline(params)
    except PlanError as exc:
        module.fail_json(msg=str(exc), changed=False)
    if module.check_mode:
        message = "Check mode: would run vLLM's offline engine under %s with %s, tensor_parallel_size %d: %s." % (
            plan["python"], describe_model(plan), params["tensor_parallel_size"], describe_workloads(plan["workloads"]))
        checks = [R.skipped(PREFIX + "run", message)]
        R.exit_with(module, R.build_result(checks, {"mode": "offline", "model": plan["model"]}, thresholds_of(params),
                                           {"worker_python": plan["python"]}, msg=message, tables=[]), False)
    _args.worker_python(module)
    env_extra = {}
    if params["require_gpu"]:
        env_extra, problem = gpu_precheck(params)
        if problem:
            module.fail_json(msg=problem, changed=False, environment=env_extra)
    workdir = tempfile.mkdtemp(prefix="vaultcube-vllm-")
    try:
        result, run, rc, phase = run_worker(params, plan, workdir)
        problem = offline_failure(params, plan, result, run, rc, phase)
        leftover = list(run.leftover)
        if problem:
            extra = {"worker_log_tail": run.stdout_tail(20) + run.stderr_tail(20), "changed": False}
            if leftover:
                problem += " %d of its processes could not be stopped (PIDs %s)." % (len(leftover), ", ".join(map(str, leftover)))
            module.fail_json(msg=problem, **extra)
        out = offline_result(params, plan, result, run, env_extra)
        if leftover:
            out["msg"] += " Warning: %d engine processes could not be stopped (PIDs %s)." % (len(leftover), ", ".join(map(str, leftover)))
            out["leftover_pids"] = leftover
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    R.exit_with(module, out, params["fail_on_threshold"])


# --- Serve mode ----------------------------------------------------------------------------------

def serve_prompts(params, workload, seed):
    if params["prompt_format"] == "text":
        return B.text_prompts(workload["num_prompts"], workload["input_len"], seed)
    return B.serve_token_prompts(workload["num_prompts"], workload["input_len"], seed)


def run_serve(module, params):
    try:
        workloads, quality_prompts = validate_common(params)
        if not params["endpoint"]:
            raise PlanError("Serve mode needs endpoint, the base URL of an OpenAI-compatible API such as http://127.0.0.1:8000/v1.")
        endpoint = S.Endpoint(params["endpoint"], params["api_key"], params["request_timeout"])
    except (PlanError, S.EndpointError) as exc:
        module.fail_json(msg=str(exc), changed=False)
    if module.check_mode:
        message = "Check mode: would send %s as streaming %s requests to %s (concurrency %s, request rate %s)." % (
            describe_workloads(workloads), params["api"], endpoint.base_url, params["concurrency"] or "unlimited",
            ("%s/s" % params["request_rate"]) if params["request_rate"] else "unlimited")
        R.exit_with(module, R.build_result([R.skipped(PREFIX + "run", message)], {"mode": "serve"}, thresholds_of(params),
                                           {"endpoint": endpoint.base_url}, msg=message, tables=[]), False)
    try:
        models = S.list_models(endpoint)
    except S.EndpointError as exc:
        module.fail_json(msg=str(exc), changed=False)
    model = params["model"] or (models[0] if models else None)
    if not model:
        module.fail_json(msg="The endpoint %s lists no model: set model to the name it serves." % endpoint.base_url, changed=False)
    if models and model not in models:
        module.fail_json(msg="The endpoint %s serves %s, not '%s'." % (endpoint.base_url, ", ".join(models), model), changed=False)

    # One request first, as vllm bench serve does: a wrong route, model or protocol shows up here.
    probe = serve_prompts(params, dict(workloads[0], num_prompts=1), params["seed"] + 999)[0]
    route = "/chat/completions" if params["api"] == "chat" else "/completions"
    test = S.stream_request(endpoint, route, S.build_body(params["api"], model, probe, min(workloads[0]["output_len"], 16),
                                                          params["ignore_eos"]), params["api"])
    if not test["ok"]:
        error = test["error"]
        if not error.startswith("The endpoint"):
            error = "The endpoint %s did not stream an answer to a test request: %s." % (endpoint.base_url, error.rstrip("."))
        module.fail_json(msg=error, changed=False)

    deadline = float(params["timeout"])
    results = []
    for index, workload in enumerate(workloads):
        prompts = serve_prompts(params, workload, params["seed"] + 1000 * index)
        records, duration = S.run_benchmark(endpoint, params["api"], model, prompts, workload["output_len"], params["concurrency"],
                                            params["request_rate"], params["seed"], params["ignore_eos"], None, deadline)
        metrics = S.summarize(records, duration, workload["input_len"], B.distribution, B.throughput)
        metrics.update({"name": workload["name"], "num_prompts": workload["num_prompts"], "input_len": workload["input_len"],
                        "output_len": workload["output_len"], "concurrency": params["concurrency"], "request_rate": params["request_rate"]})
        results.append(metrics)

    checks = judge_workloads(results, params, "serve")
    checks.append(R.make_check(PREFIX + "weights", R.INFO, "unknown", None, None,
                               "Serve mode cannot tell whether the endpoint's weights are real or random."))
    if params["quality_check"]:
        items = []
        for item in quality_prompts:
            record = S.complete(endpoint, params["api"], model, item["prompt"], params["quality_max_tokens"])
            items.append({"prompt": item["prompt"], "expect": item["expect"], "answer": record["text"] if record["ok"] else ""})
        qcheck, qsummary, qrows = quality_check(items, params["min_quality_pass_rate"], None)
    else:
        reason = ("The quality check is turned off (quality_check: false)." if params["quality_check"] is False else
                  "The quality check was skipped: in serve mode the module cannot tell whether the endpoint's weights are real; "
                  "set quality_check: true to run it.")
        qcheck, qsummary, qrows = R.skipped(PREFIX + "quality", reason), None, []
    checks.append(qcheck)
    first = results[0]
    metrics = {"mode": "serve", "model": model, "weights": "unknown", "endpoint": endpoint.base_url,
               "output_tokens_per_s": first.get("output_tokens_per_s"), "total_tokens_per_s": first.get("total_tokens_per_s"),
               "requests_per_s": first.get("requests_per_s"), "workloads": results, "quality": qsummary}
    environment = {"endpoint": endpoint.base_url, "served_model": model, "served_models": models, "server_version": S.server_version(endpoint),
                   "api": params["api"], "prompt_format": params["prompt_format"], "client": "vaultcube.demobox _llm_serve (Python standard library)"}
    tables = [workload_table(results, "serve")]
    if qrows:
        tables.append({"title": "Output quality (greedy decoding)", "columns": ["prompt", "expected", "answer", "result"], "rows": qrows})
    out = R.build_result(checks, metrics, thresholds_of(params), environment, tables=tables)
    summary = "%s (%s): %s." % (endpoint.base_url, model, "; ".join(
        "%s at %s output tokens/s, TTFT p50 %s ms, TPOT p50 %s ms, %d failed" % (
            w["name"], _fmt_num(w.get("output_tokens_per_s")), _fmt_num((w.get("ttft_ms") or {}).get("p50")),
            _fmt_num((w.get("tpot_ms") or {}).get("p50"), 2), w["failed"]) for w in results))
    out["msg"] = (" ".join(out["failures"]) + " " + summary) if out["failures"] else summary
    R.exit_with(module, out, params["fail_on_threshold"])


def main():
    argument_spec = dict(
        mode=dict(type="str", choices=["offline", "serve"], default="offline"),
        model=dict(type="str"),
        load_format=dict(type="str"),
        dtype=dict(type="str", default="auto"),
        tensor_parallel_size=dict(type="int", default=1),
        max_model_len=dict(type="int"),
        gpu_memory_utilization=dict(type="float", default=0.9),
        num_prompts=dict(type="int", default=30),
        input_len=dict(type="int", default=32),
        output_len=dict(type="int", default=50),
        workloads=dict(type="list", elements="dict"),
        seed=dict(type="int", default=0),
        skip_tokenizer_init=dict(type="bool"),
        detokenize=dict(type="bool", default=True),
        attention_backend=dict(type="str"),
        enforce_eager=dict(type="bool", default=False),
        num_warmups=dict(type="int", default=0),
        engine_args=dict(type="dict", default={}),
        env=dict(type="dict", default={}),
        offline=dict(type="bool", default=True),
        require_gpu=dict(type="bool", default=True),
        endpoint=dict(type="str"),
        api=dict(type="str", choices=["completions", "chat"], default="completions"),
        api_key=dict(type="str", no_log=True),
        concurrency=dict(type="int"),
        request_rate=dict(type="float"),
        prompt_format=dict(type="str", choices=["token_ids", "text"], default="token_ids"),
        ignore_eos=dict(type="bool", default=True),
        request_timeout=dict(type="float", default=300),
        quality_check=dict(type="bool"),
        quality_prompts=dict(type="list", elements="dict"),
        quality_max_tokens=dict(type="int", default=24, no_log=False),
        min_quality_pass_rate=dict(type="float", default=0.6, no_log=False),
        min_output_tokens_per_s=dict(type="float", no_log=False),
        min_requests_per_s=dict(type="float"),
        max_latency_p99_ms=dict(type="float"),
        max_ttft_p99_ms=dict(type="float"),
        max_tpot_p99_ms=dict(type="float"),
        max_failed_requests=dict(type="int", default=0),
        max_load_time_s=dict(type="float"),
        max_gpu_memory_mib=dict(type="float"),
    )
    argument_spec.update(_args.gpu_argspec(timeout=1200))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["mode"] == "serve":
        run_serve(module, module.params)
    else:
        run_offline(module, module.params)


if __name__ == "__main__":
    main()
