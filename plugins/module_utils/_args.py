# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options the collection's GPU modules share, declared once.

As community.docker does with ``DOCKER_COMMON_ARGS`` and ``common_compose_argspec_ex()``, each
module merges these into its own argument spec, and documents them by extending the one doc
fragment ``vaultcube.demobox.validation`` (plugins/doc_fragments/validation.py):

==========================  =====================================  ===============================
option                      argument spec                          doc fragment section
==========================  =====================================  ===============================
``fail_on_threshold``       ``RESULT_ARGS``                        ``vaultcube.demobox.validation``
``binding_search_paths``    ``NVML_ARGS``                          ``vaultcube.demobox.validation.nvml``
``worker_python``           ``WORKER_ARGS``                        ``vaultcube.demobox.validation.worker``
``timeout``                 ``common_argspec(timeout=<default>)``  the module's own (its default and
                                                                   what the run covers differ)
==========================  =====================================  ===============================

``common_argspec()`` merges the sets a module needs. ``meta/runtime.yml`` groups the modules the same
way: ``group/vaultcube.demobox.gpu`` (every module with ``RESULT_ARGS`` and ``NVML_ARGS``) and
``group/vaultcube.demobox.gpu_workers`` (every module with ``worker_python``), so a play sets them
once with ``module_defaults``.

The two LLM benchmarks (vllm_bench, llm_endpoint_bench) share their workload, quality and
threshold options (``LLM_ARGS``) and the streaming client's (``SERVE_ARGS``) the same way, with the
doc fragment ``vaultcube.demobox.llm_bench`` (sections ``DOCUMENTATION`` and ``SERVE``).

``worker_python`` was called ``python`` (ai_frameworks_facts, cuda_facts, vllm_bench) and
``python_interpreter`` (ddp_benchmark); both names stay as deprecated aliases, so Ansible warns
when they are used, until ``ALIASES_REMOVED_IN``.
"""

from __future__ import absolute_import, division, print_function

import copy

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml, _proc

COLLECTION_NAME = "vaultcube.demobox"
ALIASES_REMOVED_IN = "1.0.0"
OLD_WORKER_PYTHON_NAMES = ("python", "python_interpreter")

# Every module that judges what it measured (the result contract).
RESULT_ARGS = dict(
    fail_on_threshold=dict(type="bool", default=True),
)

# Every module that reads NVML; with RESULT_ARGS, the options of group/vaultcube.demobox.gpu.
NVML_ARGS = dict(
    binding_search_paths=dict(type="list", elements="str", default=list(_nvml.DEFAULT_BINDING_SEARCH)),
)

# Every module that runs a worker process (group/vaultcube.demobox.gpu_workers).
WORKER_ARGS = dict(
    worker_python=dict(
        type="path",
        aliases=list(OLD_WORKER_PYTHON_NAMES),
        deprecated_aliases=[dict(name=name, version=ALIASES_REMOVED_IN, collection_name=COLLECTION_NAME)
                            for name in OLD_WORKER_PYTHON_NAMES],
    ),
)


def common_argspec(worker=True, nvml=True, timeout=None):
    """The shared options for one module, as a fresh dict to merge into its own argument spec.

    Always ``fail_on_threshold``. ``nvml``: the module reads NVML (adds ``binding_search_paths``).
    ``worker``: the module runs a worker (adds ``worker_python``). ``timeout``: the default of the
    module's whole-run limit in seconds (adds ``timeout``); other limits keep their own names
    (``startup_timeout``, ``request_timeout``, ``probe_timeout``, ``query_timeout``).
    """
    spec = copy.deepcopy(RESULT_ARGS)
    if nvml:
        spec.update(copy.deepcopy(NVML_ARGS))
    if worker:
        spec.update(copy.deepcopy(WORKER_ARGS))
    if timeout is not None:
        spec["timeout"] = dict(type="int", default=timeout)
    return spec


def worker_argspec():
    """Only ``worker_python``, for a module that runs a worker but judges nothing (cuda_facts)."""
    return copy.deepcopy(WORKER_ARGS)


def worker_python(module):
    """The worker interpreter from ``worker_python`` (or the default); fails the task with the one
    sentence of ``_proc.worker_interpreter`` when it cannot run anything."""
    python, problem = _proc.worker_interpreter(module.params["worker_python"])
    if problem:
        module.fail_json(msg=problem, changed=False)
    return python


# The LLM benchmarks (vllm_bench, llm_endpoint_bench): workloads, quality check and thresholds,
# documented in the doc fragment vaultcube.demobox.llm_bench.
LLM_ARGS = dict(
    num_prompts=dict(type="int", default=30),
    input_len=dict(type="int", default=32),
    output_len=dict(type="int", default=50),
    workloads=dict(type="list", elements="dict"),
    seed=dict(type="int", default=0),
    quality_prompts=dict(type="list", elements="dict"),
    quality_max_tokens=dict(type="int", default=24, no_log=False),
    min_quality_pass_rate=dict(type="float", default=0.6, no_log=False),
    min_output_tokens_per_s=dict(type="float", no_log=False),
    min_requests_per_s=dict(type="float"),
    max_latency_p99_ms=dict(type="float"),
    max_ttft_p99_ms=dict(type="float"),
    max_tpot_p99_ms=dict(type="float"),
)

# The streaming client (llm_endpoint_bench; vllm_bench with mode=serve), documented in
# vaultcube.demobox.llm_bench.serve. ``endpoint`` is each module's own (required in one only).
SERVE_ARGS = dict(
    api=dict(type="str", choices=["completions", "chat"], default="completions"),
    api_key=dict(type="str", no_log=True),
    concurrency=dict(type="int"),
    request_rate=dict(type="float"),
    prompt_format=dict(type="str", choices=["token_ids", "text"], default="token_ids"),
    ignore_eos=dict(type="bool", default=True),
    request_timeout=dict(type="float", default=300),
    max_failed_requests=dict(type="int", default=0),
)


# Where a real-weight preset's weights come from and where their converted folder is kept
# (vllm_bench, llm_quality), documented in vaultcube.demobox.llm_bench.models.
MODEL_ARGS = dict(
    model_source=dict(type="list", elements="path"),
    model_cache_dir=dict(type="path"),
)


def model_argspec():
    return copy.deepcopy(MODEL_ARGS)


def llm_argspec(serve=True):
    """LLM_ARGS (and SERVE_ARGS), as a fresh dict to merge into a module's argument spec."""
    spec = copy.deepcopy(LLM_ARGS)
    if serve:
        spec.update(copy.deepcopy(SERVE_ARGS))
    return spec
