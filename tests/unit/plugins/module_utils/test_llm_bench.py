# -*- coding: utf-8 -*-
import json

import pytest

from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_bench as B


def test_presets_carry_the_public_architectures():
    llama = B.PRESETS["llama-2-7b"]["config"]
    assert (llama["hidden_size"], llama["intermediate_size"], llama["num_hidden_layers"], llama["num_attention_heads"],
            llama["num_key_value_heads"], llama["vocab_size"], llama["max_position_embeddings"]) == (4096, 11008, 32, 32, 32, 32000, 4096)
    assert llama["architectures"] == ["LlamaForCausalLM"]
    opt = B.PRESETS["opt-1.3b"]["config"]
    assert (opt["hidden_size"], opt["ffn_dim"], opt["num_hidden_layers"], opt["num_attention_heads"], opt["vocab_size"],
            opt["max_position_embeddings"], opt["word_embed_proj_dim"]) == (2048, 8192, 24, 32, 50272, 2048, 2048)
    assert opt["architectures"] == ["OPTForCausalLM"]


@pytest.mark.parametrize("name,preset", [
    ("llama-2-7b", "llama-2-7b"), ("LLAMA-2-7B", "llama-2-7b"), ("meta-llama/Llama-2-7b-hf", "llama-2-7b"),
    ("facebook/opt-1.3b", "opt-1.3b"), ("opt-1.3b", "opt-1.3b"), ("gpt2", None), ("", None), (None, None),
])
def test_preset_names_and_aliases(name, preset):
    assert B.preset_name(name) == preset


def test_write_preset(tmp_path):
    path = B.write_preset("opt-1.3b", str(tmp_path / "m"))
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config == B.PRESETS["opt-1.3b"]["config"]
    assert json.loads((tmp_path / "m" / "generation_config.json").read_text()) == {"bos_token_id": 2, "eos_token_id": 2, "pad_token_id": 1}
    assert not B.has_tokenizer(path) and not B.has_weights(path)
    assert B.special_token_ids(config) == {1, 2}


def test_model_folder_probes(tmp_path):
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "model-00001-of-00002.safetensors").write_text("")
    assert B.has_tokenizer(str(tmp_path)) and B.has_weights(str(tmp_path))
    assert not B.has_weights(str(tmp_path / "missing"))
    assert B.looks_like_path("/opt/m") and B.looks_like_path("./m") and B.looks_like_path("../m")
    assert not B.looks_like_path("facebook/opt-1.3b")


def test_special_token_ids_from_lists():
    assert B.special_token_ids({"bos_token_id": 1, "eos_token_id": [2, 7], "pad_token_id": None}) == {1, 2, 7}


# --- workloads and prompts -----------------------------------------------------------------------

def test_single_workload_from_the_three_numbers():
    workloads, error = B.normalize_workloads(None, 30, 32, 50)
    assert error is None and workloads == [{"num_prompts": 30, "input_len": 32, "output_len": 50, "name": "30x32/50"}]


def test_workload_list_keeps_names_and_checks_values():
    workloads, error = B.normalize_workloads([{"num_prompts": "500", "input_len": 128, "output_len": 128},
                                              {"num_prompts": 2, "input_len": 3, "output_len": 4, "name": "tiny"}], 1, 1, 1)
    assert error is None and [w["name"] for w in workloads] == ["500x128/128", "tiny"] and workloads[0]["num_prompts"] == 500


@pytest.mark.parametrize("items,message", [
    ([{"num_prompts": 0, "input_len": 1, "output_len": 1}], "workloads[0].num_prompts must be 1 or more, got 0."),
    ([{"num_prompts": 1, "input_len": "x", "output_len": 1}], "workloads[0].input_len must be a whole number, got 'x'."),
    ([{"num_prompts": 1, "input_len": 1}], "workloads[0].output_len must be a whole number, got None."),
    ([{"num_prompts": 1, "input_len": 1, "output_len": 1, "prompts": 3}], "workloads[0] has unknown keys: prompts."),
    (["30x50"], "workloads[0] must be a mapping with num_prompts, input_len and output_len."),
])
def test_bad_workloads_are_one_sentence(items, message):
    assert B.normalize_workloads(items, 1, 1, 1) == (None, message)


def test_random_token_prompts_follow_vllms_random_dataset():
    prompts = B.random_token_prompts(50, 128, 32000, {0, 1, 2}, seed=0)
    assert len(prompts) == 50 and all(len(p) == 128 for p in prompts)
    assert all(t not in (0, 1, 2) and 0 <= t < 32000 for p in prompts for t in p)
    # each prompt is a run of consecutive ids (wrapping around the vocabulary without specials)
    allowed = [t for t in range(32000) if t not in (0, 1, 2)]
    for p in prompts:
        start = allowed.index(p[0])
        assert p == [allowed[(start + j) % len(allowed)] for j in range(128)]
    assert len({tuple(p[:16]) for p in prompts}) == 50  # no shared prefixes for the prefix cache
    assert B.random_token_prompts(50, 128, 32000, {0, 1, 2}, seed=0) == prompts
    assert B.random_token_prompts(50, 128, 32000, {0, 1, 2}, seed=1) != prompts


def test_random_token_prompts_need_a_usable_vocabulary():
    with pytest.raises(ValueError):
        B.random_token_prompts(1, 4, 2, {0, 1})


def test_text_and_serve_prompts():
    texts = B.text_prompts(3, 40, seed=5)
    assert len(texts) == 3 and all(len(t.split()) == 40 for t in texts) and texts == B.text_prompts(3, 40, seed=5)
    ids = B.serve_token_prompts(4, 64, seed=2)
    assert all(len(p) == 64 and all(1000 <= t < 30000 for t in p) for p in ids)


# --- metric math -----------------------------------------------------------------------------------

def test_percentile_is_numpys_linear_interpolation():
    data = list(range(1, 11))
    assert B.percentile(data, 50) == 5.5
    assert B.percentile(data, 90) == pytest.approx(9.1)
    assert B.percentile(data, 99) == pytest.approx(9.91)
    assert B.percentile(data, 0) == 1 and B.percentile(data, 100) == 10
    assert B.percentile([4.0], 99) == 4.0
    assert B.percentile([], 50) is None and B.percentile([None], 50) is None
    assert B.percentile([3, 1, 2], 50) == 2  # order does not matter


def test_distribution_scales_and_ignores_missing_values():
    dist = B.distribution([0.010, 0.020, None, 0.030, 0.040], 1000.0)
    assert dist == {"mean": 25.0, "p50": 25.0, "p90": 37.0, "p99": 39.7, "min": 10.0, "max": 40.0, "count": 4}
    assert B.distribution([None]) is None


def test_throughput_keeps_output_and_total_apart():
    # vLLM's reference run: 500 prompts x 128 in / 128 out in 5.4155 s
    got = B.throughput(500, 64000, 64000, 5.4155)
    assert got["output_tokens_per_s"] == 11817.93  # 64000 / 5.4155
    assert got["total_tokens_per_s"] == pytest.approx(2 * got["output_tokens_per_s"], abs=0.02)
    assert got["requests_per_s"] == pytest.approx(92.33, abs=0.01)
    assert B.throughput(1, 1, 1, 0) == {"requests_per_s": None, "output_tokens_per_s": None, "total_tokens_per_s": None}


def test_request_timings_from_vllm_stats():
    ttft, e2e, tpot = B.request_timings(0.050, 100.0, 100.49, 50)
    assert ttft == 0.050 and e2e == pytest.approx(0.540) and tpot == pytest.approx(0.01)
    assert B.request_timings(0.05, 1.0, 1.0, 1) == (0.05, 0.05, None)
    assert B.request_timings(None, 1.0, 2.0, 5) == (None, None, None)


def test_parse_vllm_throughput_line():
    text = ("Processed prompts: 100%|##########| 500/500\n"
            "Throughput: 92.33 requests/s, 23640.90 total tokens/s, 11818.50 output tokens/s\n"
            "Total num prompt tokens:  64000\nTotal num output tokens:  64000\n")
    assert B.parse_vllm_throughput(text) == {"requests_per_s": 92.33, "total_tokens_per_s": 23640.9, "output_tokens_per_s": 11818.5}
    assert B.parse_vllm_throughput("nothing here") is None and B.parse_vllm_throughput(None) is None
    assert B.percent_difference(11700.0, 11818.5) == -1.0
    assert B.percent_difference(None, 1.0) is None and B.percent_difference(1.0, 0) is None


# --- quality ---------------------------------------------------------------------------------------

def test_quality_prompts_default_and_user_lists():
    prompts, error = B.normalize_quality_prompts(None)
    assert error is None and len(prompts) == 5 and prompts[0] == {"prompt": "The capital of France is", "expect": ["Paris"]}
    prompts, error = B.normalize_quality_prompts([{"prompt": "2 + 2 =", "expect": "4"}])
    assert prompts == [{"prompt": "2 + 2 =", "expect": ["4"]}]
    assert B.normalize_quality_prompts([{"prompt": ""}])[1] == "quality_prompts[0] must be a mapping with a non-empty prompt."
    assert B.normalize_quality_prompts([{"prompt": "x", "expect": []}])[1] == "quality_prompts[0].expect must be a string or a list of strings."


def test_quality_judging_is_case_insensitive_substring():
    items = [{"prompt": "The capital of France is", "expect": ["Paris"], "answer": " paris, of course"},
             {"prompt": "1, 2, 3,", "expect": ["4", "four"], "answer": " five"},
             {"prompt": "x", "expect": ["y"], "answer": None}]
    passed, total, rows = B.quality_summary(items)
    assert (passed, total) == (1, 3)
    assert [r[3] for r in rows] == ["passed", "failed", "failed"] and rows[1][1] == "4 | four"


# --- failures in one sentence ----------------------------------------------------------------------

ENGINE_LOG = [
    "INFO 11-28 10:00:00 [core.py:93] Initializing a V1 LLM engine",
    "(EngineCore pid=4242) ERROR 11-28 10:00:03 [core.py:1012] EngineCore failed to start.",
    "(EngineCore pid=4242) ERROR 11-28 10:00:03 [core.py:1012] Traceback (most recent call last):",
    "(EngineCore pid=4242) ERROR 11-28 10:00:03 [core.py:1012] ValueError: Free memory on device cuda:0 (10.2/139.8 GiB) on "
    "startup is less than desired GPU memory utilization (0.9, 125.8 GiB). Decrease GPU memory utilization or reduce GPU memory "
    "used by other processes.",
    "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
]


def test_root_cause_skips_vllms_generic_wrappers():
    assert B.root_cause(ENGINE_LOG).startswith("ValueError: Free memory on device cuda:0")
    assert B.root_cause(["nothing", "RuntimeError: Engine core initialization failed. See root cause above."]) is None
    assert B.strip_log_prefix("(EngineCore_DP0 pid=1) WARNING 11-28 10:00:00 [x.py:2] hello") == "hello"


SETTINGS = {"gpu_memory_utilization": 0.9, "max_model_len": None, "tensor_parallel_size": 1}


def test_sentence_for_missing_vllm_names_the_interpreter():
    msg = B.failure_sentence("import", "ModuleNotFoundError: No module named 'vllm'", [], "/opt/vaultcube/venv/bin/python", SETTINGS)
    assert msg == ("vLLM cannot be imported by /opt/vaultcube/venv/bin/python (ModuleNotFoundError: No module named 'vllm'): "
                   "install vLLM in that interpreter's environment or point the worker_python option at one that has it.")


def test_sentence_for_too_little_memory_for_the_kv_cache():
    msg = B.failure_sentence("engine_start", "RuntimeError: Engine core initialization failed.", ENGINE_LOG, "py", SETTINGS)
    assert msg.startswith("vLLM has not enough GPU memory for the model and its KV cache (gpu_memory_utilization 0.9, "
                          "max_model_len the model's): ValueError: Free memory on device cuda:0")
    assert msg.endswith(".") and msg.count("\n") == 0


def test_sentence_for_cuda_oom():
    log = ["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB."]
    msg = B.failure_sentence("generate", "RuntimeError: boom", log, "py", dict(SETTINGS, max_model_len=4096))
    assert msg == ("vLLM ran out of GPU memory while generating (gpu_memory_utilization 0.9, max_model_len 4096, tensor_parallel_size 1): "
                   "lower max_model_len, num_prompts or gpu_memory_utilization, or use more GPUs.")
    assert "while starting the engine" in B.failure_sentence("engine_start", None, log, "py", SETTINGS)


def test_sentence_for_engine_start_and_generation_failures():
    log = ["(EngineCore pid=1) ERROR 11-28 10:00:01 [core.py:1] RuntimeError: Cannot find a model architecture named FooForCausalLM"]
    assert B.failure_sentence("engine_start", "RuntimeError: Engine core initialization failed. See root cause above.", log, "py",
                              SETTINGS) == "vLLM's engine failed to start: RuntimeError: Cannot find a model architecture named FooForCausalLM."
    assert B.failure_sentence("generate", "ValueError: too long", [], "py", SETTINGS) == "vLLM failed while generating: ValueError: too long."
    assert B.failure_sentence("crash", None, [], "py", SETTINGS) == "The vLLM worker failed: no error message; see the worker log."


def test_engine_log_facts():
    log = [
        "(EngineCore pid=9) INFO 11-28 10:00:00 [cuda.py:477] Using FLASH_ATTN attention backend out of potential backends: ['FLASH_ATTN'].",
        "(EngineCore pid=9) INFO 11-28 10:00:05 [gpu_model_runner.py:5307] Model loading took 12.55 GiB memory and 3.2 seconds",
        "(EngineCore pid=9) INFO 11-28 10:00:21 [backends.py:1] torch.compile takes 16.48 s in total",
        "(EngineCore pid=9) INFO 11-28 10:00:22 [kv_cache_utils.py:2146] GPU KV cache size: 1,012,224 tokens",
        "(EngineCore pid=9) INFO 11-28 10:00:30 [gpu_model_runner.py:6708] Graph capturing finished in 6 secs, took 0.52 GiB",
    ]
    assert B.engine_log_facts(log) == {"attention_backend": "FLASH_ATTN", "model_weights_gib": 12.55, "torch_compile_s": 16.48,
                                       "kv_cache_tokens": 1012224, "cuda_graphs_gib": 0.52}
    assert B.engine_log_facts(["INFO [cuda.py:416] Using TRITON_ATTN backend."]) == {"attention_backend": "TRITON_ATTN"}
