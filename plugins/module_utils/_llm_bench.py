# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LLM benchmark helpers shared by the vllm_bench module and its vLLM worker.

Nothing here imports Ansible (or vLLM): the module writes a copy of this file beside the worker
script, which runs under the AI venv's interpreter. It holds:

* the architecture presets (public ``config.json`` facts of Llama-2-7B and OPT-1.3B, no weights),
  run with random weights (``load_format: dummy``) on boxes that cannot download a model;
* the prompt builder, which follows vLLM's own random dataset (``vllm bench throughput
  --dataset-name random``): every prompt is a run of consecutive vocabulary ids starting at a
  random offset, with exactly ``input_len`` tokens, special tokens left out;
* the metric math (percentiles as numpy's default linear interpolation, throughput split into
  requests/s, output tokens/s and total tokens/s);
* the output-quality judging and the one-sentence error messages;
* the parameter checks, judging, tables and thresholds both vllm_bench and llm_endpoint_bench use
  (``validate_common``, ``judge_workloads``, ``quality_check``, ``workload_table``), which build
  the collection's result contract with a copy of _result.py the worker never calls.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import random
import re

try:
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_models as M
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
    from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError, percentile
except ImportError:  # a copy beside the worker script
    import _llm_models as M  # pylint: disable=import-error
    import _result as R  # pylint: disable=import-error
    from _util import PlanError, percentile  # pylint: disable=import-error

# --- Architecture presets ----------------------------------------------------------------------
# Only public architecture facts, as published in each model's config.json on the Hugging Face
# Hub (meta-llama/Llama-2-7b-hf, facebook/opt-1.3b). They contain no weights: vLLM fills the
# layers with random values (load_format "dummy"), which measures the same arithmetic and memory
# traffic as the real model but produces meaningless text.
PRESETS = {
    "llama-2-7b": {
        "source": "meta-llama/Llama-2-7b-hf",
        "parameters": "6.7B",
        "aliases": ["llama2-7b", "meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b"],
        "config": {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "bos_token_id": 1,
            "eos_token_id": 2,
            "hidden_act": "silu",
            "hidden_size": 4096,
            "initializer_range": 0.02,
            "intermediate_size": 11008,
            "max_position_embeddings": 4096,
            "num_attention_heads": 32,
            "num_hidden_layers": 32,
            "num_key_value_heads": 32,
            "pretraining_tp": 1,
            "rms_norm_eps": 1e-05,
            "rope_scaling": None,
            "rope_theta": 10000.0,
            "tie_word_embeddings": False,
            "torch_dtype": "float16",
            "use_cache": True,
            "vocab_size": 32000,
        },
    },
    "opt-1.3b": {
        "source": "facebook/opt-1.3b",
        "parameters": "1.3B",
        "aliases": ["facebook/opt-1.3b", "opt1.3b"],
        "config": {
            "architectures": ["OPTForCausalLM"],
            "model_type": "opt",
            "activation_dropout": 0.0,
            "activation_function": "relu",
            "attention_dropout": 0.0,
            "bos_token_id": 2,
            "do_layer_norm_before": True,
            "dropout": 0.1,
            "eos_token_id": 2,
            "ffn_dim": 8192,
            "hidden_size": 2048,
            "init_std": 0.02,
            "layerdrop": 0.0,
            "max_position_embeddings": 2048,
            "num_attention_heads": 32,
            "num_hidden_layers": 24,
            "pad_token_id": 1,
            "prefix": "</s>",
            "torch_dtype": "float16",
            "use_cache": True,
            "vocab_size": 50272,
            "word_embed_proj_dim": 2048,
        },
    },
}

TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tiktoken.model")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def preset_name(model):
    """The architecture preset a model name refers to (its name or an alias, any case), else None."""
    return M.preset_name(model, PRESETS)


def write_preset(name, directory):
    """Write the preset's config.json (and generation_config.json) into ``directory``."""
    config = PRESETS[name]["config"]
    if not os.path.isdir(directory):
        os.makedirs(directory)
    with open(os.path.join(directory, "config.json"), "w") as handle:
        json.dump(config, handle, indent=1, sort_keys=True)
        handle.write("\n")
    generation = {k: config[k] for k in ("bos_token_id", "eos_token_id", "pad_token_id") if k in config}
    with open(os.path.join(directory, "generation_config.json"), "w") as handle:
        json.dump(generation, handle, indent=1, sort_keys=True)
        handle.write("\n")
    return directory


def looks_like_path(model):
    return model.startswith(("/", "./", "../"))


def has_tokenizer(directory):
    return any(os.path.isfile(os.path.join(directory, name)) for name in TOKENIZER_FILES)


def has_weights(directory):
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    return any(name.endswith(WEIGHT_SUFFIXES) for name in names)


def read_config(directory):
    with open(os.path.join(directory, "config.json")) as handle:
        return json.load(handle)


def special_token_ids(config):
    """Token ids a random prompt must avoid (BOS/EOS/PAD/UNK and friends) from a config.json."""
    ids = set()
    for key in ("bos_token_id", "eos_token_id", "pad_token_id", "unk_token_id", "decoder_start_token_id"):
        value = config.get(key)
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list):
            ids.update(v for v in value if isinstance(v, int))
    return ids


# --- Workloads and prompts ---------------------------------------------------------------------

def workload_name(workload):
    return "%dx%d/%d" % (workload["num_prompts"], workload["input_len"], workload["output_len"])


def normalize_workloads(workloads, num_prompts, input_len, output_len):
    """The list of workloads to run: the given list, or the single one the three numbers make.

    Returns (workloads, error): error is one sentence for the first bad entry.
    """
    if not workloads:
        workloads = [{"num_prompts": num_prompts, "input_len": input_len, "output_len": output_len}]
    result = []
    for index, item in enumerate(workloads):
        if not isinstance(item, dict):
            return None, "workloads[%d] must be a mapping with num_prompts, input_len and output_len." % index
        unknown = sorted(set(item) - set(("num_prompts", "input_len", "output_len", "name")))
        if unknown:
            return None, "workloads[%d] has unknown keys: %s." % (index, ", ".join(unknown))
        entry = {}
        for key in ("num_prompts", "input_len", "output_len"):
            value = item.get(key)
            try:
                value = int(value)
            except (TypeError, ValueError):
                return None, "workloads[%d].%s must be a whole number, got %r." % (index, key, value)
            if value < 1:
                return None, "workloads[%d].%s must be 1 or more, got %d." % (index, key, value)
            entry[key] = value
        entry["name"] = str(item.get("name") or workload_name(entry))
        result.append(entry)
    return result, None


def random_token_prompts(num_prompts, input_len, vocab_size, special_ids=(), seed=0):
    """Token-id prompts built like vLLM's random dataset (vllm/benchmarks/datasets).

    For prompt i: ``allowed[(offset_i + i + j) % len(allowed)]`` for j in range(input_len), where
    ``allowed`` is the vocabulary without special tokens and ``offset_i`` is drawn from a seeded
    generator. vLLM then decodes and re-encodes the text to fix the length; token-id prompts have
    exactly ``input_len`` tokens without that step (and need no tokenizer).
    """
    special = set(special_ids)
    allowed = [t for t in range(vocab_size) if t not in special]
    if not allowed:
        raise ValueError("the vocabulary has no token that is not a special token")
    rng = random.Random(seed)
    size = len(allowed)
    prompts = []
    for index in range(num_prompts):
        offset = rng.randrange(vocab_size)
        start = offset + index
        prompts.append([allowed[(start + j) % size] for j in range(input_len)])
    return prompts


# Plain English words; most are one token in the tokenizers of common LLMs (with a leading space).
WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but "
    "have an they you were her she there one all we their has been would when more will who if out "
    "so no what up about into than them can only other new some could time these two may then do "
    "first any my now such like our over man me even most made after also did many before must "
    "through back years where much your way well down should because each just those people how too "
    "little state good very make world still own see men work long get here between both life being "
    "under never day same another know while last might us great old year off come since against go "
    "came right used take three"
).split()


def text_prompts(num_prompts, input_len, seed=0):
    """Text prompts of ``input_len`` common English words (about as many tokens), seeded."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _word in range(input_len)) for _prompt in range(num_prompts)]


def serve_token_prompts(num_prompts, input_len, seed=0):
    """Token-id prompts for an endpoint whose vocabulary is unknown: ids 1000-29999, valid for any
    vocabulary of 32,000 tokens or more and clear of the usual special-token ids."""
    prompts = random_token_prompts(num_prompts, input_len, 29000, (), seed)
    return [[t + 1000 for t in prompt] for prompt in prompts]


# --- Metric math -------------------------------------------------------------------------------

def distribution(values, scale=1.0, digits=2):
    """mean, p50, p90, p99, min, max of ``values`` times ``scale`` (e.g. 1000 for s -> ms)."""
    data = [v * scale for v in values if v is not None]
    if not data:
        return None

    def rnd(value):
        return round(value, digits)

    return {
        "mean": rnd(sum(data) / len(data)),
        "p50": rnd(percentile(data, 50)),
        "p90": rnd(percentile(data, 90)),
        "p99": rnd(percentile(data, 99)),
        "min": rnd(min(data)),
        "max": rnd(max(data)),
        "count": len(data),
    }


def throughput(num_requests, prompt_tokens, output_tokens, elapsed_s):
    """requests/s, output tokens/s and total (prompt + output) tokens/s, kept apart.

    vLLM's ``--output-json`` calls the total figure ``tokens_per_second``; the spec's
    "tokens per second" is the output (generated) figure.
    """
    if not elapsed_s or elapsed_s <= 0:
        return {"requests_per_s": None, "output_tokens_per_s": None, "total_tokens_per_s": None}
    return {
        "requests_per_s": round(num_requests / elapsed_s, 3),
        "output_tokens_per_s": round(output_tokens / elapsed_s, 2),
        "total_tokens_per_s": round((prompt_tokens + output_tokens) / elapsed_s, 2),
    }


def request_timings(first_token_latency, first_token_ts, last_token_ts, output_tokens):
    """(ttft_s, e2e_s, tpot_s) of one request from vLLM's per-request stats.

    vLLM's RequestStateStats holds ``first_token_latency`` (front-end clock: arrival to first
    token) and the engine core's timestamps of the first and last token; decode time is the gap
    between those, so end-to-end latency = time to first token + decode time.
    """
    if first_token_latency is None or first_token_ts is None or last_token_ts is None:
        return None, None, None
    decode = max(0.0, last_token_ts - first_token_ts)
    tpot = decode / (output_tokens - 1) if output_tokens and output_tokens > 1 else None
    return first_token_latency, first_token_latency + decode, tpot


_THROUGHPUT_LINE = re.compile(
    r"Throughput:\s*([\d.]+)\s*requests/s,\s*([\d.]+)\s*total tokens/s,\s*([\d.]+)\s*output tokens/s")


def parse_vllm_throughput(text):
    """Parse the line vLLM's own throughput benchmark prints (``vllm bench throughput``)."""
    found = _THROUGHPUT_LINE.findall(text or "")
    if not found:
        return None
    req, total, out = found[-1]
    return {"requests_per_s": float(req), "total_tokens_per_s": float(total), "output_tokens_per_s": float(out)}


def percent_difference(value, reference):
    if value is None or not reference:
        return None
    return round((value - reference) / reference * 100.0, 2)


# --- Output quality ----------------------------------------------------------------------------
# Easy continuations that any working base model of 1B+ parameters gets right with greedy decoding.
# A broken model (wrong weights, a broken kernel, random weights) gets them wrong.
DEFAULT_QUALITY_PROMPTS = [
    {"prompt": "The capital of France is", "expect": ["Paris"]},
    {"prompt": "1, 2, 3, 4, 5, 6,", "expect": ["7"]},
    {"prompt": "Monday, Tuesday, Wednesday,", "expect": ["Thursday"]},
    {"prompt": "The opposite of hot is", "expect": ["cold"]},
    {"prompt": "Water is made of hydrogen and", "expect": ["oxygen"]},
]


def normalize_quality_prompts(items):
    """Validate a user list of {prompt, expect}; expect may be a string or a list of strings."""
    if not items:
        return [dict(p) for p in DEFAULT_QUALITY_PROMPTS], None
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("prompt"), str) or not item["prompt"]:
            return None, "quality_prompts[%d] must be a mapping with a non-empty prompt." % index
        expect = item.get("expect")
        if isinstance(expect, str):
            expect = [expect]
        if not expect or not all(isinstance(e, str) and e for e in expect):
            return None, "quality_prompts[%d].expect must be a string or a list of strings." % index
        result.append({"prompt": item["prompt"], "expect": list(expect)})
    return result, None


def judge_answer(answer, expect):
    """True when the answer contains any of the expected substrings (case-insensitive)."""
    text = (answer or "").lower()
    return any(e.lower() in text for e in expect)


def quality_summary(items):
    """items: [{prompt, expect, answer}] -> (passed_count, total, rows)."""
    rows = []
    passed = 0
    for item in items:
        ok = judge_answer(item.get("answer"), item["expect"])
        passed += 1 if ok else 0
        rows.append([item["prompt"], " | ".join(item["expect"]), (item.get("answer") or "").strip()[:120],
                     "passed" if ok else "failed"])
    return passed, len(items), rows


# --- One sentence per failure ------------------------------------------------------------------
KV_CACHE_PATTERNS = (
    "No available memory for the cache blocks",
    "larger than the available KV cache memory",
    "is less than desired GPU memory utilization",
)
OOM_PATTERNS = (
    "CUDA out of memory",
    "OutOfMemoryError",
    "CUBLAS_STATUS_ALLOC_FAILED",
    "cudaErrorMemoryAllocation",
    "out of memory",
)
_ERROR_LINE = re.compile(r"^(?:\S*\.)?([A-Z][A-Za-z]*(?:Error|Exception|Exit))\b:?\s*(.*)$")
_GENERIC = ("Engine core initialization failed", "EngineDeadError", "See root cause above",
            "EngineCore failed to start", "Traceback")


def strip_log_prefix(line):
    """Drop vLLM's log prefix: ``(EngineCore pid=1) ERROR 11-28 10:00:00 [core.py:1] ``."""
    line = re.sub(r"^\(\w+(?:_\w+)*(?: pid=\d+)?\)\s*", "", line.strip())
    line = re.sub(r"^(?:INFO|WARNING|ERROR|DEBUG|CRITICAL)\s+\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\s+\[[^\]]*\]\s*", "", line)
    return line.strip()


def root_cause(lines):
    """The most telling error line of a vLLM log tail: the last ``SomethingError: text`` line that
    is not one of vLLM's generic wrappers ("Engine core initialization failed...")."""
    best = None
    for raw in lines or []:
        line = strip_log_prefix(raw)
        match = _ERROR_LINE.match(line)
        if not match or any(g in line for g in _GENERIC):
            continue
        best = line
    return best


def find_pattern(lines, patterns):
    text = "\n".join(lines or [])
    return any(p in text for p in patterns)


def _clip(text, limit=300):
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def failure_sentence(phase, error, log_lines, interpreter, settings):
    """One plain sentence for a worker failure.

    phase: import | engine_start | generate | quality | crash; error: the worker's own message
    (may be None after a crash); log_lines: the worker's stderr tail; settings: a dict with
    gpu_memory_utilization, max_model_len, tensor_parallel_size.
    """
    lines = list(log_lines or [])
    if error:
        lines.append(error)
    if phase == "import":
        return "vLLM cannot be imported by %s (%s): install vLLM in that interpreter's environment or " \
               "point the worker_python option at one that has it." % (interpreter, _clip(error or root_cause(lines) or "import failed", 200))
    if find_pattern(lines, KV_CACHE_PATTERNS):
        cause = root_cause([ln for ln in lines if find_pattern([ln], KV_CACHE_PATTERNS)]) or "not enough GPU memory"
        return "vLLM has not enough GPU memory for the model and its KV cache (gpu_memory_utilization %s, " \
               "max_model_len %s): %s" % (settings.get("gpu_memory_utilization"), settings.get("max_model_len") or "the model's",
                                          _clip(cause).rstrip(".") + ".")
    if find_pattern(lines, OOM_PATTERNS):
        where = "while starting the engine" if phase == "engine_start" else "while generating"
        return "vLLM ran out of GPU memory %s (gpu_memory_utilization %s, max_model_len %s, tensor_parallel_size %s): " \
               "lower max_model_len, num_prompts or gpu_memory_utilization, or use more GPUs." % (
                   where, settings.get("gpu_memory_utilization"), settings.get("max_model_len") or "the model's",
                   settings.get("tensor_parallel_size"))
    cause = root_cause(lines) or _clip(error) or "no error message; see the worker log"
    if phase == "engine_start":
        return "vLLM's engine failed to start: %s" % (_clip(cause).rstrip(".") + ".")
    if phase in ("generate", "quality"):
        return "vLLM failed while generating: %s" % (_clip(cause).rstrip(".") + ".")
    return "The vLLM worker failed: %s" % (_clip(cause).rstrip(".") + ".")


_BACKEND_LINE = re.compile(r"Using (\w+) (?:attention )?backend")
_KV_TOKENS = re.compile(r"GPU KV cache size: ([\d,]+) tokens")
_MODEL_MEM = re.compile(r"Model loading took ([\d.]+) GiB")
_GRAPHS = re.compile(r"Graph capturing finished in (\d+) secs?, took ([\d.]+) GiB")
_COMPILE = re.compile(r"torch\.compile takes ([\d.]+) s in total")


def engine_log_facts(lines):
    """Facts vLLM only logs: the attention backend it chose, KV cache size, memory of weights."""
    facts = {}
    for raw in lines or []:
        line = strip_log_prefix(raw)
        match = _BACKEND_LINE.search(line)
        if match and match.group(1) not in ("V1",):
            facts["attention_backend"] = match.group(1)
        match = _KV_TOKENS.search(line)
        if match:
            facts["kv_cache_tokens"] = int(match.group(1).replace(",", ""))
        match = _MODEL_MEM.search(line)
        if match:
            facts["model_weights_gib"] = float(match.group(1))
        match = _GRAPHS.search(line)
        if match:
            facts["cuda_graphs_gib"] = float(match.group(2))
        match = _COMPILE.search(line)
        if match:
            facts["torch_compile_s"] = float(match.group(1))
    return facts


# --- Judging and reporting (vllm_bench and llm_endpoint_bench) --------------------------------
# Check names start with the module's name (``prefix``); vllm_bench's serve mode keeps its own.

def fmt_num(value, digits=1):
    if value is None:
        return "n/a"
    return "{:,.{d}f}".format(value, d=digits)


def validate_common(params):
    """The workloads and quality prompts, or PlanError for the first bad option.

    Used by vllm_bench (both modes) and llm_endpoint_bench; an option the calling module does not
    have (the engine's, in llm_endpoint_bench) is not checked.
    """
    workloads, error = normalize_workloads(params["workloads"], params["num_prompts"], params["input_len"], params["output_len"])
    if error:
        raise PlanError(error)
    if "gpu_memory_utilization" in params:
        if not 0 < params["gpu_memory_utilization"] <= 1:
            raise PlanError("gpu_memory_utilization must be more than 0 and at most 1, got %s." % params["gpu_memory_utilization"])
        if params["tensor_parallel_size"] < 1:
            raise PlanError("tensor_parallel_size must be 1 or more, got %d." % params["tensor_parallel_size"])
        if params["max_model_len"] is not None and params["max_model_len"] < 2:
            raise PlanError("max_model_len must be 2 or more, got %d." % params["max_model_len"])
    if params["timeout"] < 1:
        raise PlanError("timeout must be 1 second or more, got %d." % params["timeout"])
    if "num_warmups" in params and params["num_warmups"] < 0:
        raise PlanError("num_warmups must be 0 or more, got %d." % params["num_warmups"])
    if not 0 <= params["min_quality_pass_rate"] <= 1:
        raise PlanError("min_quality_pass_rate must be between 0 and 1, got %s." % params["min_quality_pass_rate"])
    if params["quality_max_tokens"] < 1:
        raise PlanError("quality_max_tokens must be 1 or more, got %d." % params["quality_max_tokens"])
    if params["concurrency"] is not None and params["concurrency"] < 1:
        raise PlanError("concurrency must be 1 or more, got %d." % params["concurrency"])
    if params["request_rate"] is not None and params["request_rate"] <= 0:
        raise PlanError("request_rate must be more than 0 (leave it unset to send all requests at once), got %s." % params["request_rate"])
    quality_prompts, error = normalize_quality_prompts(params["quality_prompts"])
    if error:
        raise PlanError(error)
    return workloads, quality_prompts


def describe_workloads(workloads):
    return ", ".join("%d prompts x %d in / %d out" % (w["num_prompts"], w["input_len"], w["output_len"]) for w in workloads)


def _suffix(workload, many):
    return "[%s]" % workload["name"] if many else ""


def judge_workloads(workloads, params, mode, prefix="vllm_bench."):
    checks = []
    many = len(workloads) > 1
    for w in workloads:
        sfx = _suffix(w, many)
        label = label_of(w)
        checks.append(R.judge_min(prefix + "output_tokens_per_s" + sfx, "Output tokens/s" + label, w.get("output_tokens_per_s"),
                                  params["min_output_tokens_per_s"], "tokens/s"))
        checks.append(R.judge_min(prefix + "requests_per_s" + sfx, "Requests/s" + label, w.get("requests_per_s"),
                                  params["min_requests_per_s"], "requests/s"))
        checks.append(R.judge_min(prefix + "total_tokens_per_s" + sfx, "Total (prompt + output) tokens/s" + label,
                                  w.get("total_tokens_per_s"), None, "tokens/s"))
        expected = w["num_prompts"] * w["output_len"] if mode == "offline" else None
        if expected is not None:
            got = w.get("output_tokens")
            if got == expected:
                checks.append(R.make_check(prefix + "output_tokens" + sfx, R.PASSED, got, {"equals": expected}, "tokens",
                                           "All %d requests of %s generated their %d tokens." % (w["num_prompts"], w["name"], w["output_len"])))
            else:
                checks.append(R.make_check(prefix + "output_tokens" + sfx, R.FAILED, got, {"equals": expected}, "tokens",
                                           "The %s workload generated %s of the %d tokens it asked for." % (w["name"], got, expected)))
        for key, text, param, unit in (
            ("latency_ms", "99th-percentile request latency", "max_latency_p99_ms", "ms"),
            ("ttft_ms", "99th-percentile time to first token", "max_ttft_p99_ms", "ms"),
            ("tpot_ms", "99th-percentile time per output token", "max_tpot_p99_ms", "ms"),
        ):
            dist = w.get(key) or {}
            name = prefix + key.replace("_ms", "_p99_ms") + sfx
            check = R.judge_max(name, text + label, dist.get("p99"), params[param], unit)
            if dist.get("p99") is None and w.get("timing_note"):
                check["message"] = w["timing_note"]
            checks.append(check)
        if mode == "serve":
            checks.append(R.judge_max(prefix + "failed_requests" + sfx, "Failed requests" + label, w.get("failed"),
                                      params["max_failed_requests"], "requests"))
    return checks


def label_of(workload):
    return " (%s)" % workload["name"]


def quality_check(items, min_rate, skip_reason, prefix="vllm_bench."):
    if skip_reason:
        return R.skipped(prefix + "quality", skip_reason), None, []
    passed, total, rows = quality_summary(items)
    rate = round(passed / float(total), 3) if total else None
    summary = {"passed": passed, "total": total, "rate": rate}
    threshold = {"min": min_rate}
    if rate is not None and rate >= min_rate:
        check = R.make_check(prefix + "quality", R.PASSED, rate, threshold, None,
                             "Output quality: %d of %d answers contain their expected text (minimum rate %s)." % (passed, total, min_rate))
    else:
        wrong = [r[0] for r in rows if r[3] == "failed"][:3]
        check = R.make_check(prefix + "quality", R.FAILED, rate, threshold, None,
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


def thresholds_of(params):
    """The thresholds a run is judged against (those of the calling module's options)."""
    keys = ("min_output_tokens_per_s", "min_requests_per_s", "max_latency_p99_ms", "max_ttft_p99_ms", "max_tpot_p99_ms",
            "max_failed_requests", "max_load_time_s", "max_gpu_memory_mib", "min_quality_pass_rate")
    return {k: params[k] for k in keys if k in params}


def quality_table(rows):
    return {"title": "Output quality (greedy decoding)", "columns": ["prompt", "expected", "answer", "result"], "rows": rows}
