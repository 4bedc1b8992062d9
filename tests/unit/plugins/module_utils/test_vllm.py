# -*- coding: utf-8 -*-
"""vllm_bench's offline planning and the judging it shares with llm_endpoint_bench, without the
modules (plugins/module_utils/_vllm.py, _llm_bench.py)."""

import pytest

from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_bench as B
from ansible_collections.vaultcube.demobox.plugins.module_utils import _vllm as V
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError

# The options both modules share, at their defaults.
COMMON = {"workloads": None, "num_prompts": 30, "input_len": 32, "output_len": 50, "timeout": 1200,
          "min_quality_pass_rate": 0.6, "quality_max_tokens": 24, "concurrency": None, "request_rate": None,
          "quality_prompts": None, "quality_check": None, "seed": 0, "min_output_tokens_per_s": None,
          "min_requests_per_s": None, "max_latency_p99_ms": None, "max_ttft_p99_ms": None, "max_tpot_p99_ms": None,
          "max_failed_requests": 0}
# vllm_bench's engine options, at their defaults.
ENGINE = {"model": None, "load_format": None, "dtype": "auto", "tensor_parallel_size": 1, "max_model_len": None,
          "gpu_memory_utilization": 0.9, "skip_tokenizer_init": None, "detokenize": True, "attention_backend": None,
          "enforce_eager": False, "num_warmups": 0, "engine_args": {}, "worker_python": "/venv/bin/python",
          "max_load_time_s": None, "max_gpu_memory_mib": None}


def offline(**over):
    return dict(COMMON, **dict(ENGINE, **over))


def test_a_preset_plans_random_weights_without_a_tokenizer():
    plan = V.plan_offline(offline(model="llama-2-7b"))
    assert (plan["source"], plan["load_format"], plan["random_weights"], plan["skip_tokenizer_init"]) == (
        "preset", "dummy", True, True)
    assert plan["python"] == "/venv/bin/python"
    assert plan["quality_skip"].startswith("The quality check was skipped: the weights are random")
    assert V.describe_model(plan) == "the llama-2-7b preset (meta-llama/Llama-2-7b-hf architecture, random weights)"


@pytest.mark.parametrize("over,msg", [
    ({"model": None}, "Offline mode needs a model: a model folder, a Hugging Face id, or a preset"),
    ({"model": "/nonexistent/m"}, "The model path /nonexistent/m does not exist."),
    ({"model": "llama-2-7b", "load_format": "safetensors"}, "The preset 'llama-2-7b' holds only the architecture"),
    ({"model": "opt-1.3b", "input_len": 2040, "output_len": 50}, "needs 2090 tokens per request (input_len + output_len), more "
                                                                 "than the model's max_position_embeddings of 2048."),
    ({"model": "opt-1.3b", "gpu_memory_utilization": 1.5}, "gpu_memory_utilization must be more than 0 and at most 1, got 1.5."),
])
def test_offline_refusals_are_one_sentence(over, msg):
    with pytest.raises(PlanError) as exc:
        V.plan_offline(offline(**over))
    assert msg in str(exc.value)


def test_the_plan_leaves_the_parameters_alone(tmp_path):
    params = offline(model="opt-1.3b")
    before = repr(params)
    plan = V.plan_offline(params)
    assert repr(params) == before and plan["llm_kwargs"]["load_format"] == "dummy"


def test_the_endpoint_module_has_no_engine_options_to_check():
    workloads, prompts = B.validate_common(dict(COMMON, num_prompts=3))
    assert workloads[0]["num_prompts"] == 3 and len(prompts) == 5
    with pytest.raises(PlanError, match="timeout must be 1 second or more, got 0."):
        B.validate_common(dict(COMMON, timeout=0))
    assert "max_load_time_s" not in B.thresholds_of(COMMON) and "max_load_time_s" in B.thresholds_of(offline())


def test_check_names_carry_the_modules_prefix():
    workload = {"name": "w", "num_prompts": 2, "output_len": 3, "output_tokens": 6, "output_tokens_per_s": 5.0,
                "requests_per_s": 1.0, "total_tokens_per_s": 9.0, "failed": 0}
    names = [c["name"] for c in B.judge_workloads([workload], COMMON, "serve", "llm_endpoint_bench.")]
    assert names[0] == "llm_endpoint_bench.output_tokens_per_s" and "llm_endpoint_bench.failed_requests" in names
    names = [c["name"] for c in B.judge_workloads([workload], offline(), "offline", V.PREFIX)]
    assert "vllm_bench.output_tokens" in names and "vllm_bench.failed_requests" not in names
