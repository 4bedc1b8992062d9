# -*- coding: utf-8 -*-
"""llm_endpoint_bench against a real local server (tests/unit/llm_fakes.py): the figures, the
judging under the module's own check names, one sentence per unusable endpoint, check mode."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from deprecation import deprecations, forget_deprecations
from llm_fakes import closed_port, fake_server

from ansible_collections.vaultcube.demobox.plugins.modules import llm_endpoint_bench


def run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            llm_endpoint_bench.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def by_name(out):
    return {c["name"]: c for c in out["checks"]}


def test_measures_two_workloads_and_judges_them_under_its_own_names(tmp_path, capsys):
    forget_deprecations()
    with fake_server(tmp_path, "--ttft", 0.05, "--itl", 0.005) as url:
        code, out = run_module({"endpoint": url, "concurrency": 4, "min_output_tokens_per_s": 1, "max_ttft_p99_ms": 5000,
                                "quality_check": True, "workloads": [{"num_prompts": 8, "input_len": 16, "output_len": 10},
                                                                     {"num_prompts": 2, "input_len": 4, "output_len": 2,
                                                                      "name": "tiny"}]}, capsys)
    assert code == 0 and out["passed"] is True and out["changed"] is False
    w = out["metrics"]["workloads"][0]
    assert (w["completed"], w["failed"], w["output_tokens"], w["prompt_tokens"]) == (8, 0, 80, 128)
    assert w["ttft_ms"]["p50"] >= 50
    checks = by_name(out)
    assert checks["llm_endpoint_bench.failed_requests[tiny]"]["status"] == "passed"
    assert checks["llm_endpoint_bench.ttft_p99_ms[8x16/10]"]["status"] == "passed"
    assert checks["llm_endpoint_bench.quality"]["status"] == "passed" and out["metrics"]["quality"]["passed"] == 5
    assert not any(name.startswith("vllm_bench.") for name in checks)
    assert checks["llm_endpoint_bench.weights"]["message"] == (
        "llm_endpoint_bench cannot tell whether the endpoint's weights are real or random.")
    assert out["msg"].startswith(url + " (fake-model): 8x16/10 at ")
    assert deprecations(out) == []


def test_failed_requests_fail_the_task_and_quality_is_skipped_by_default(tmp_path, capsys):
    with fake_server(tmp_path, "--ttft", 0.01, "--itl", 0.001, "--fail-every", 3) as url:
        code, out = run_module({"endpoint": url, "num_prompts": 6, "input_len": 4, "output_len": 3,
                                "prompt_format": "text", "api": "chat"}, capsys)
    assert code == 1
    assert "Failed requests (6x4/3) is 2 requests, above the maximum of 0 requests." in out["failures"]
    assert by_name(out)["llm_endpoint_bench.quality"]["message"] == (
        "The quality check was skipped: llm_endpoint_bench cannot tell whether the endpoint's weights are real; "
        "set quality_check: true to run it.")


def test_an_unusable_endpoint_is_one_sentence(tmp_path, capsys):
    port = closed_port()
    code, out = run_module({"endpoint": "http://127.0.0.1:%d/v1" % port}, capsys)
    assert code == 1 and out["msg"] == ("The endpoint http://127.0.0.1:%d/v1 is not answering: connection refused (is the server "
                                        "running on 127.0.0.1:%d?)." % (port, port))
    code, out = run_module({"endpoint": "127.0.0.1:8000"}, capsys)
    assert code == 1 and "must be an http:// or https:// URL" in out["msg"]
    code, out = run_module({"endpoint": "http://127.0.0.1:9/v1", "concurrency": 0}, capsys)
    assert code == 1 and out["msg"] == "concurrency must be 1 or more, got 0."


def test_check_mode_says_what_it_would_send(capsys):
    code, out = run_module({"endpoint": "http://127.0.0.1:9/v1", "_ansible_check_mode": True, "request_rate": 4,
                            "concurrency": 8}, capsys)
    assert code == 0 and out["passed"] is None and out["checks"][0]["name"] == "llm_endpoint_bench.run"
    assert out["msg"] == ("Check mode: would send 30 prompts x 32 in / 50 out as streaming completions requests to "
                          "http://127.0.0.1:9/v1 (concurrency 8, request rate 4.0/s).")
    assert set(out["thresholds"]) == {"min_output_tokens_per_s", "min_requests_per_s", "max_latency_p99_ms",
                                      "max_ttft_p99_ms", "max_tpot_p99_ms", "max_failed_requests", "min_quality_pass_rate"}
