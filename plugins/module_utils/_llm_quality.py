# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""llm_quality without the module: the plan, the model's preparation, the two engines' runs, and
the judging (quality pass rate, and the agreement of vLLM and transformers on the same weights).

``plan`` checks every option and resolves the model (a real-weight preset of _llm_models, or a
folder). ``prepare`` runs _llm_quality_worker.py under the worker interpreter to find and convert
a preset's weights (cached, checked, rebuilt when damaged); vllm_bench uses it for the same
presets. ``run_transformers`` answers the prompts with transformers in the same kind of worker;
``run_vllm`` reuses vllm_bench's worker (_vllm.run_worker) with one tiny workload and the quality
prompts. ``result`` judges and builds the result contract. Nothing here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

import inspect
import json
import os

from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_bench as B
from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_models as M
from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_quality_worker, _proc
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.module_utils import _vllm as V
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError

PREFIX = "llm_quality."
ENGINES = ("vllm", "transformers")
STOP_GRACE_S = 5.0


def worker_environment(params):
    """The workers' environment: vllm_bench's (offline: no Hugging Face downloads) plus ``env``."""
    return V.worker_environment(dict(params, offline=True))


def resolve_model(model):
    """{preset, folder} for a real-weight preset or a model folder; PlanError otherwise."""
    model = (model or "").strip()
    if not model:
        raise PlanError("model is required: a real-weight preset (%s) or a model folder." % ", ".join(sorted(M.PRESETS)))
    preset = M.preset_name(model)
    if preset:
        return {"preset": preset, "folder": None, "model": model}
    if B.preset_name(model):
        raise PlanError("The preset '%s' holds only an architecture (random weights), so its answers mean nothing: use a "
                        "real-weight preset (%s) or a downloaded model's folder." % (model, ", ".join(sorted(M.PRESETS))))
    if not (B.looks_like_path(model) or os.path.isdir(model)):
        raise PlanError("The model '%s' is neither a real-weight preset (%s) nor a folder: the quality check runs offline "
                        "on weights already on this host." % (model, ", ".join(sorted(M.PRESETS))))
    path = os.path.abspath(model)
    if not os.path.isdir(path):
        raise PlanError("The model folder %s does not exist." % path)
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise PlanError("The model folder %s has no config.json." % path)
    if not B.has_weights(path):
        raise PlanError("The model folder %s has no weight files (*.safetensors, *.bin, *.pt)." % path)
    if not B.has_tokenizer(path):
        raise PlanError("The model folder %s has no tokenizer, so prompts cannot be turned into tokens." % path)
    return {"preset": None, "folder": path, "model": model}


def plan(params):
    resolved = resolve_model(params["model"])
    try:
        sources, cache_dir = M.model_options(params)
    except M.ModelError as exc:
        raise PlanError(str(exc))
    quality_prompts, error = B.normalize_quality_prompts(params["quality_prompts"])
    if error:
        raise PlanError(error)
    for key in ("min_quality_pass_rate", "min_token_agreement"):
        if not 0 <= params[key] <= 1:
            raise PlanError("%s must be between 0 and 1, got %s." % (key, params[key]))
    if params["quality_max_tokens"] < 1:
        raise PlanError("quality_max_tokens must be 1 or more, got %d." % params["quality_max_tokens"])
    if params["timeout"] < 1:
        raise PlanError("timeout must be 1 second or more, got %d." % params["timeout"])
    if not 0 < params["gpu_memory_utilization"] <= 1:
        raise PlanError("gpu_memory_utilization must be more than 0 and at most 1, got %s." % params["gpu_memory_utilization"])
    engines = [params["engine"]]
    if params["cross_check"]:
        engines.append([e for e in ENGINES if e != params["engine"]][0])
    out = dict(resolved)
    out.update(sources=sources, cache_dir=cache_dir, prompts=quality_prompts, engines=engines,
               python=_proc.worker_interpreter(params["worker_python"])[0])
    return out


def describe(plan_):
    model = "the %s preset (%s, real weights)" % (plan_["preset"], M.PRESETS[plan_["preset"]]["source"]) if plan_["preset"] \
        else plan_["folder"]
    return model


def _run(plan_, spec, timeout, env=None):
    """Run _llm_quality_worker.py with ``spec``; (result dict or None, log lines, sentence or None)."""
    with _proc.work_dir("llm-quality") as workdir:
        main_path = _proc.write_bundle(workdir, [M], inspect.getsource(_llm_quality_worker))
        spec = dict(spec, result_path=os.path.join(workdir, "result.json"), progress_path=os.path.join(workdir, "progress.log"))
        spec_path = os.path.join(workdir, "spec.json")
        with open(spec_path, "w") as handle:
            json.dump(spec, handle)
        run = _proc.ChildRun([plan_["python"], main_path, spec_path], env=env, cwd=workdir, timeout=timeout,
                             grace=STOP_GRACE_S, workdir=workdir)
        try:
            rc = run.start().wait()
        except OSError as exc:
            return None, [], "The worker interpreter %s could not be started: %s." % (plan_["python"], exc)
        log = run.stdout_tail(20) + run.stderr_tail(20)
        try:
            with open(spec["result_path"]) as handle:
                result = json.load(handle)
        except (OSError, ValueError):
            result = None
    if run.timed_out:
        return result, log, "The model worker did not finish within its timeout of %ss and was stopped." % timeout
    if result is None:
        return None, log, "The model worker %s before writing a result: %s" % (
            _proc.describe_exit(rc, run.timed_out, timeout), (log or ["no output"])[-1])
    if not result.get("ok"):
        error = result.get("error") or "no reason given"
        if result.get("model_error"):
            return result, log, error
        if "No module named" in error:
            error += " (the worker interpreter %s needs torch, transformers, safetensors and gguf)" % plan_["python"]
        what = "preparing the model" if result.get("phase") == "prepare" else "answering the prompts with transformers"
        return result, log, "The model worker failed while %s: %s." % (what, error.rstrip("."))
    return result, log, None


def prepare(preset, cache_dir, sources, python, timeout, env=None):
    """The converted folder of a real-weight preset: (prepare dict, log, sentence or None)."""
    spec = {"prepare": {"preset": preset, "cache_dir": cache_dir, "sources": sources}}
    result, log, problem = _run({"python": python}, spec, timeout, env)
    return (result or {}).get("prepare"), log, problem


def run_transformers(plan_, folder, params, timeout, env=None):
    spec = {"generate": {"model": folder, "prompts": plan_["prompts"], "max_tokens": params["quality_max_tokens"],
                         "device": params["device"], "dtype": params["dtype"]}}
    result, log, problem = _run(plan_, spec, timeout, env)
    if problem:
        return None, log, problem
    generated = dict(result["generate"])
    generated["environment"] = result.get("environment") or {}
    return generated, log, None


def vllm_params(params, folder):
    """vllm_bench's offline parameters for a quality-only run of ``folder`` (one tiny workload)."""
    return {
        "model": folder, "load_format": "auto", "dtype": "auto" if params["dtype"] == "auto" else params["dtype"],
        "tensor_parallel_size": 1, "max_model_len": params["max_model_len"],
        "gpu_memory_utilization": params["gpu_memory_utilization"], "skip_tokenizer_init": False, "detokenize": True,
        "attention_backend": params["attention_backend"], "enforce_eager": params["enforce_eager"], "num_warmups": 0,
        "engine_args": {}, "env": params["env"], "offline": True, "require_gpu": True, "quality_check": True,
        "workloads": [{"num_prompts": 1, "input_len": 8, "output_len": 8, "name": "warm-up"}], "num_prompts": 1,
        "input_len": 8, "output_len": 8, "seed": 0, "quality_prompts": params["quality_prompts"],
        "quality_max_tokens": params["quality_max_tokens"], "min_quality_pass_rate": params["min_quality_pass_rate"],
        "timeout": params["timeout"], "worker_python": params["worker_python"],
        "binding_search_paths": params["binding_search_paths"], "concurrency": None, "request_rate": None,
    }


def vllm_precheck(params, python):
    """The sentence a vLLM run would end with before it starts (no GPU, no vLLM), or None: checked
    before the model is converted, so a box that cannot run vLLM learns it in seconds."""
    vparams = vllm_params(params, "unused")
    problem = V.gpu_precheck(vparams)[1]
    if problem:
        return problem.replace("vllm_bench's offline mode", "llm_quality's vLLM engine")
    return V.import_problem(vparams, python)


def run_vllm(params, folder):
    """Answer the prompts with vLLM's offline engine (vllm_bench's worker): (run dict, sentence or None)."""
    vparams = vllm_params(params, folder)
    try:
        vplan = V.plan_offline(vparams)
    except PlanError as exc:
        return None, str(exc)
    env_extra, problem = V.gpu_precheck(vparams)
    if problem:
        return None, problem
    with _proc.work_dir("vllm") as workdir:
        out, run, rc, phase = V.run_worker(vparams, vplan, workdir)
        problem = V.offline_failure(vparams, vplan, out, run, rc, phase)
        leftover = list(run.leftover)
    if problem:
        return None, problem + (V.leftover_sentence(leftover, failed=True) if leftover else "")
    environment = dict(out.get("environment") or {})
    environment.update(env_extra)
    items = out.get("quality") or []
    tokens = sum(len(i.get("token_ids") or []) for i in items)
    return {"items": items, "device": "cuda", "dtype": environment.get("dtype"), "output_tokens": tokens,
            "load_s": (out.get("times") or {}).get("engine_start_s"), "environment": environment,
            "gpu_name": (environment.get("gpu_names") or [None])[0]}, None


def agreement_check(reference, other, names, min_rate):
    """The check comparing two engines' output tokens, and its table."""
    first, second = names
    agreement = M.token_agreement([i.get("token_ids") for i in reference], [i.get("token_ids") for i in other])
    rows = []
    for a, b, where in zip(reference, other, agreement["divergence"]):
        rows.append([a["prompt"], len(a.get("token_ids") or []), len(b.get("token_ids") or []),
                     "identical" if where is None else "token %d" % where, (a.get("answer") or "").strip()[:80],
                     (b.get("answer") or "").strip()[:80]])
    table = {"title": "Engine agreement on the same weights (greedy decoding): %s vs %s" % (first, second),
             "columns": ["prompt", "%s tokens" % first, "%s tokens" % second, "first difference", first, second], "rows": rows}
    rate = None if agreement["rate"] is None else round(agreement["rate"], 3)
    detail = "%s of %s output tokens agree up to the first difference (%d of %d prompts identical)" % (
        agreement["agreeing_tokens"], agreement["compared_tokens"], agreement["identical"], agreement["prompts"])
    if rate is not None and rate >= min_rate:
        check = R.make_check(PREFIX + "engine_agreement", R.PASSED, rate, {"min": min_rate}, None,
                             "%s and %s agree: %s." % (first, second, detail))
    else:
        check = R.make_check(PREFIX + "engine_agreement", R.FAILED, rate, {"min": min_rate}, None,
                             "%s and %s disagree on the same weights: %s, below the minimum rate %s; a broken conversion, "
                             "kernel or tokenizer on one side." % (first, second, detail, min_rate))
    summary = dict(agreement, rate=rate, engines=[first, second])
    return check, summary, table


def result(params, plan_, prep, runs, env_extra):
    """The result contract from the runs: ``runs`` is [(engine, {items, ...})] in plan order."""
    engine, first = runs[0]
    qcheck, qsummary, qrows = B.quality_check(first["items"], params["min_quality_pass_rate"], None, PREFIX)
    qcheck["message"] = "%s (engine %s)." % (qcheck["message"].rstrip("."), engine)
    checks = [qcheck]
    tables = [dict(B.quality_table(qrows), title="Output quality (greedy decoding, %s)" % engine)]
    metrics = {"model": plan_["model"], "model_path": (prep or {}).get("folder") or plan_["folder"], "preset": plan_["preset"],
               "engine": engine, "quality": qsummary, "engines": {}}
    for name, run in runs:
        metrics["engines"][name] = {k: run.get(k) for k in ("device", "dtype", "output_tokens_per_s", "load_s", "generate_s",
                                                            "output_tokens", "gpu_name") if k in run}
        metrics["engines"][name]["answers"] = [{"prompt": i["prompt"], "answer": i.get("answer")} for i in run["items"]]
    if len(runs) > 1:
        other_name, other = runs[1]
        osummary, orows = B.quality_check(other["items"], params["min_quality_pass_rate"], None, PREFIX)[1:]
        metrics["quality_" + other_name] = osummary
        tables.append(dict(B.quality_table(orows), title="Output quality (greedy decoding, %s)" % other_name))
        acheck, asummary, atable = agreement_check(first["items"], other["items"], (engine, other_name),
                                                   params["min_token_agreement"])
        checks.append(acheck)
        metrics["engine_agreement"] = asummary
        tables.append(atable)
    if prep:
        built = "converted in %s s (%s)" % (prep.get("seconds"), prep.get("reason")) if prep.get("built") else "re-used (checked)"
        checks.append(R.make_check(PREFIX + "model", R.INFO, plan_["preset"], None, None,
                                   "Real weights of %s from %s, %s, at %s." % (
                                       M.PRESETS[plan_["preset"]]["source"], os.path.basename(prep.get("source") or "?"),
                                       built, prep["folder"])))
    environment = dict(env_extra)
    for run in runs:
        environment.update(run[1].get("environment") or {})
    environment.update(model_source="preset" if plan_["preset"] else "path", worker_python=plan_["python"],
                       engines=[run[0] for run in runs])
    out = R.build_result(checks, metrics, {"min_quality_pass_rate": params["min_quality_pass_rate"],
                                           "min_token_agreement": params["min_token_agreement"]}, environment, tables=tables)
    summary = "Quality check of %s with %s: %s of %s answers right" % (
        describe(plan_), engine, qsummary["passed"], qsummary["total"])
    if metrics.get("engine_agreement"):
        summary += "; %s vs %s token agreement %s" % (engine, runs[1][0], metrics["engine_agreement"]["rate"])
    summary += "."
    out["msg"] = (" ".join(out["failures"]) + " " + summary) if out["failures"] else summary
    return out


def check_mode_result(params, plan_):
    message = "Check mode: would run the quality check of %s with %s under %s." % (
        describe(plan_), " and ".join(plan_["engines"]), plan_["python"])
    return R.build_result([R.skipped(PREFIX + "quality", message)], {"model": plan_["model"]},
                          {"min_quality_pass_rate": params["min_quality_pass_rate"]}, {"worker_python": plan_["python"]},
                          msg=message, tables=[])
