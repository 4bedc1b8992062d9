# -*- coding: utf-8 -*-
"""vllm_bench end to end in this process: offline mode starts the real worker (a child process)
with the fake vllm package (tests/unit/fake_vllm_engine.py) on its PYTHONPATH; serve mode talks to the real
local SSE server (tests/unit/llm_fakes.py). NVML is replaced at the boundary (fake_nvml) where
the GPU check is the subject."""
import json
import os
import re
import sys
import time

import pytest
from ansible.module_utils.testing import patch_module_args
from deprecation import alias_deprecated, deprecations, forget_deprecations
from fake_nvml import FakeNVML, h200
from llm_fakes import closed_port, fake_server, fake_vllm_pythonpath

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml
from ansible_collections.vaultcube.demobox.plugins.modules import vllm_bench


def run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            vllm_bench.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False


def offline_args(tmp_path, env=None, **over):
    args = {"model": "llama-2-7b", "worker_python": sys.executable, "require_gpu": False,
            "env": dict({"PYTHONPATH": fake_vllm_pythonpath(tmp_path / "fakevllm"), "FAKE_VLLM_RECORD": str(tmp_path / "record.json")},
                        **(env or {})),
            "binding_search_paths": []}
    args.update(over)
    return args


def record(tmp_path):
    return json.loads((tmp_path / "record.json").read_text())


def by_name(out):
    return {c["name"]: c for c in out["checks"]}


def real_model(tmp_path, tokenizer=True):
    folder = tmp_path / "opt-1.3b"
    folder.mkdir()
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_bench as B
    B.write_preset("opt-1.3b", str(folder))
    (folder / "model.safetensors").write_text("")
    if tokenizer:
        (folder / "tokenizer.json").write_text("{}")
    return str(folder)


# --- offline: the measurement ------------------------------------------------------------------

def test_preset_runs_with_random_weights_and_says_so(tmp_path, capsys):
    code, out = run_module(offline_args(tmp_path, min_output_tokens_per_s=10), capsys)
    assert code == 0 and out["changed"] is False and out["passed"] is True
    checks = by_name(out)
    assert checks["vllm_bench.output_tokens_per_s"]["status"] == "passed"
    assert checks["vllm_bench.output_tokens"]["message"] == "All 30 requests of 30x32/50 generated their 50 tokens."
    assert checks["vllm_bench.weights"]["message"].startswith("Weights were random (load_format dummy): the figures measure the "
                                                              "meta-llama/Llama-2-7b-hf architecture's speed")
    assert checks["vllm_bench.quality"]["status"] == "skipped" and "the weights are random" in checks["vllm_bench.quality"]["message"]
    metrics = out["metrics"]
    assert metrics["weights"] == "random" and metrics["model_path"] == "preset:llama-2-7b" and metrics["skip_tokenizer_init"] is True
    assert metrics["workloads"][0]["output_tokens"] == 1500 and metrics["output_tokens_per_s"] > 0
    assert metrics["kv_cache_tokens"] == 123456 and metrics["model_weights_gib"] == 12.55
    assert out["environment"]["attention_backend"] == "FLASH_ATTN" and out["environment"]["model_source"] == "preset"
    assert "the llama-2-7b preset (meta-llama/Llama-2-7b-hf architecture, random weights)" in out["msg"]
    assert out["tables"][0]["columns"][:4] == ["workload", "requests/s", "output tokens/s", "total tokens/s"]
    kwargs = record(tmp_path)["llm_kwargs"][0]
    assert kwargs["load_format"] == "dummy" and kwargs["skip_tokenizer_init"] is True and kwargs["disable_log_stats"] is False
    assert kwargs["seed"] == 0 and kwargs["gpu_memory_utilization"] == 0.9 and "max_model_len" not in kwargs
    assert os.path.basename(kwargs["model"]) == "model-llama-2-7b"
    assert not os.path.exists(os.path.dirname(kwargs["model"]))  # the private work folder is gone


def test_the_worker_writes_its_phase_and_last_figure_for_the_progress_lines(tmp_path, capsys, monkeypatch):
    progress = tmp_path / "progress.json"
    monkeypatch.setenv("VAULTCUBE_PROGRESS_FILE", str(progress))
    code, out = run_module(offline_args(tmp_path, workloads=[{"num_prompts": 4, "input_len": 8, "output_len": 4},
                                                             {"num_prompts": 2, "input_len": 8, "output_len": 2}]), capsys)
    assert code == 0
    data = json.loads(progress.read_text())
    assert data["phase"] == "done"  # the last phase, with the last workload's figure kept
    assert data["figure"] == {"value": out["metrics"]["workloads"][1]["output_tokens_per_s"], "unit": "output tok/s"}


def test_engine_options_reach_vllm(tmp_path, capsys):
    args = offline_args(tmp_path, attention_backend="TRITON_ATTN", enforce_eager=True, max_model_len=1024, dtype="bfloat16",
                        engine_args={"enable_prefix_caching": False, "disable_log_stats": True}, seed=7,
                        workloads=[{"num_prompts": 4, "input_len": 16, "output_len": 8},
                                   {"num_prompts": 2, "input_len": 8, "output_len": 4, "name": "small"}])
    code, out = run_module(args, capsys)
    assert code == 0
    kwargs = record(tmp_path)["llm_kwargs"][0]
    assert kwargs["attention_config"] == {"backend": "TRITON_ATTN"} and kwargs["enforce_eager"] is True
    assert kwargs["max_model_len"] == 1024 and kwargs["dtype"] == "bfloat16" and kwargs["seed"] == 7
    assert kwargs["enable_prefix_caching"] is False and kwargs["disable_log_stats"] is True  # engine_args win
    names = [c["name"] for c in out["checks"]]
    assert "vllm_bench.output_tokens_per_s[4x16/8]" in names and "vllm_bench.output_tokens_per_s[small]" in names
    # statistics were turned off, so vLLM gave no per-request timings: said, not invented
    latency = by_name(out)["vllm_bench.latency_p99_ms[small]"]
    assert latency["status"] == "skipped" and "returned no per-request timings" in latency["message"]
    assert out["environment"]["attention_backend"] == "TRITON_ATTN"


def test_real_weights_run_the_quality_check(tmp_path, capsys):
    answers = {"The capital of France is": " Paris.", "1, 2, 3, 4, 5, 6,": " 7, 8", "Monday, Tuesday, Wednesday,": " Thursday",
               "The opposite of hot is": " warm", "Water is made of hydrogen and": " oxygen"}
    code, out = run_module(offline_args(tmp_path, {"FAKE_VLLM_ANSWERS": json.dumps(answers)}, model=real_model(tmp_path)), capsys)
    assert code == 0
    quality = by_name(out)["vllm_bench.quality"]
    assert quality["status"] == "passed" and quality["value"] == 0.8
    assert out["metrics"]["quality"] == {"passed": 4, "total": 5, "rate": 0.8}
    assert out["metrics"]["weights"] == "loaded" and record(tmp_path)["llm_kwargs"][0]["load_format"] == "auto"
    assert record(tmp_path)["llm_kwargs"][0]["skip_tokenizer_init"] is False
    assert record(tmp_path)["sampling"][0]["detokenize"] is True
    assert out["tables"][-1]["title"] == "Output quality (greedy decoding)"


def test_a_model_that_answers_nonsense_fails_the_quality_check(tmp_path, capsys):
    code, out = run_module(offline_args(tmp_path, model=real_model(tmp_path), min_quality_pass_rate=0.6), capsys)
    assert code == 1 and out["passed"] is False
    assert out["failures"] == ["Output quality: only 0 of 5 answers contain their expected text (minimum rate 0.6); wrong: "
                               "'The capital of France is'; '1, 2, 3, 4, 5, 6,'; 'Monday, Tuesday, Wednesday,'."]
    assert out["msg"].startswith("Output quality: only 0 of 5")


def test_without_a_tokenizer_the_quality_check_is_skipped(tmp_path, capsys):
    code, out = run_module(offline_args(tmp_path, model=real_model(tmp_path, tokenizer=False)), capsys)
    assert code == 0 and record(tmp_path)["llm_kwargs"][0]["skip_tokenizer_init"] is True
    assert "no tokenizer" in by_name(out)["vllm_bench.quality"]["message"]


def test_threshold_failure_and_fail_on_threshold_false(tmp_path, capsys):
    code, out = run_module(offline_args(tmp_path, min_output_tokens_per_s=1e9, num_prompts=2, output_len=4), capsys)
    assert code == 1 and out["failed"] is True and out["changed"] is False
    assert re.match(r"^Output tokens/s \(2x32/4\) is [\d.]+ tokens/s, below the minimum of 1000000000.0 tokens/s\.$", out["failures"][0])
    code, out = run_module(offline_args(tmp_path, min_output_tokens_per_s=1e9, num_prompts=2, output_len=4, fail_on_threshold=False), capsys)
    assert code == 0 and out["passed"] is False and "failed" not in out


def test_missing_tokens_fail_the_output_check(tmp_path, capsys):
    code, out = run_module(offline_args(tmp_path, {"FAKE_VLLM_FAIL": "short"}, num_prompts=3, output_len=5), capsys)
    assert code == 1 and out["failures"] == ["The 3x32/5 workload generated 14 of the 15 tokens it asked for."]


# --- offline: errors, one sentence each, nothing left running ----------------------------------

def test_missing_vllm_names_the_interpreter(tmp_path, capsys):
    code, out = run_module(offline_args(tmp_path, env={"PYTHONPATH": str(tmp_path)}), capsys)
    assert code == 1 and out["changed"] is False
    assert out["msg"] == ("vLLM cannot be imported by %s (ModuleNotFoundError: No module named 'vllm'): install vLLM in that "
                          "interpreter's environment or point the worker_python option at one that has it." % sys.executable)


@pytest.mark.parametrize("mode,expected", [
    ("engine_start", "vLLM's engine failed to start: RuntimeError: Cannot find a model architecture named FooForCausalLM."),
    ("kv_cache", "vLLM has not enough GPU memory for the model and its KV cache (gpu_memory_utilization 0.9, max_model_len the model's): "
                 "ValueError: To serve at least one request with the model's max seq len (4096), (2.00 GiB KV cache is needed, which is "
                 "larger than the available KV cache memory (1.00 GiB). Try increasing `gpu_memory_utilization`."),
    ("oom", "vLLM ran out of GPU memory while starting the engine (gpu_memory_utilization 0.9, max_model_len the model's, "
            "tensor_parallel_size 1): lower max_model_len, num_prompts or gpu_memory_utilization, or use more GPUs."),
])
def test_engine_start_failures_are_one_sentence_and_leave_nothing(tmp_path, capsys, mode, expected):
    code, out = run_module(offline_args(tmp_path, {"FAKE_VLLM_FAIL": mode}), capsys)
    assert code == 1 and out["msg"] == expected
    assert out["worker_log_tail"]
    assert not alive(record(tmp_path)["core_pid"][0])


def test_a_worker_killed_mid_run_is_reported_and_swept(tmp_path, capsys):
    code, out = run_module(offline_args(tmp_path, {"FAKE_VLLM_FAIL": "crash"}), capsys)
    assert code == 1
    assert out["msg"] == "The vLLM worker was killed by SIGKILL (often the kernel's out-of-memory killer) while generating."
    assert not alive(record(tmp_path)["core_pid"][0])


def test_timeout_stops_the_worker_and_its_engine(tmp_path, capsys):
    started = time.time()
    code, out = run_module(offline_args(tmp_path, {"FAKE_VLLM_FAIL": "hang"}, timeout=4), capsys)
    assert code == 1 and time.time() - started < 30
    assert out["msg"] == ("The vLLM worker did not finish within its timeout of 4s (it was at 'generate') and was stopped with all its "
                          "processes: raise timeout or shorten the workload.")
    assert not alive(record(tmp_path)["core_pid"][0])


def test_an_engine_that_ignores_sigterm_is_still_swept(tmp_path, capsys):
    code, out = run_module(offline_args(tmp_path, {"FAKE_VLLM_STUBBORN": "1", "FAKE_VLLM_STEP_S": "0.03"}, num_prompts=2,
                                        output_len=40), capsys)
    assert code == 0 and "leftover_pids" not in out
    core = record(tmp_path)["core_pid"][0]
    helper = int((tmp_path / "record.json.helper").read_text())
    assert not alive(core) and not alive(helper)


def test_missing_interpreter(tmp_path, capsys):
    code, out = run_module(offline_args(tmp_path, worker_python=str(tmp_path / "nope" / "python")), capsys)
    assert code == 1 and out["msg"] == (
        "worker_python %s is not an executable file: set worker_python to the AI venv's python "
        "(/opt/vaultcube/venv/bin/python, made by the ai_frameworks role) or to another interpreter that has what the "
        "worker imports." % (tmp_path / "nope" / "python"))


@pytest.mark.parametrize("setup,args,message", [
    (None, {"model": "/nonexistent/model"}, "The model path /nonexistent/model does not exist."),
    ("file", {}, "is not a folder (vLLM needs a Hugging Face model folder with config.json)."),
    ("empty", {}, "has no config.json, so vLLM cannot load it."),
    ("config", {}, "has no weight files (*.safetensors, *.bin, *.pt): set load_format dummy to benchmark its architecture with random weights."),
    (None, {"model": "llama-2-7b", "load_format": "auto"},
     "The preset 'llama-2-7b' holds only the architecture of meta-llama/Llama-2-7b-hf, no weights: use load_format dummy, or give the "
     "folder of a downloaded model."),
    (None, {"model": "opt-1.3b", "input_len": 2000, "output_len": 100},
     "The workload 30x2000/100 needs 2100 tokens per request (input_len + output_len), more than the model's max_position_embeddings of 2048."),
    (None, {"max_model_len": 64}, "The workload 30x32/50 needs 82 tokens per request (input_len + output_len), more than the max_model_len of 64."),
    (None, {"model": ""}, "Offline mode needs a model: a model folder, a Hugging Face id, or a preset (llama-2-7b, opt-1.3b)."),
    (None, {"gpu_memory_utilization": 1.5}, "gpu_memory_utilization must be more than 0 and at most 1, got 1.5."),
    (None, {"workloads": [{"num_prompts": 1, "input_len": 1}]}, "workloads[0].output_len must be a whole number, got None."),
    (None, {"quality_prompts": [{"prompt": "x"}]}, "quality_prompts[0].expect must be a string or a list of strings."),
    (None, {"tensor_parallel_size": 0}, "tensor_parallel_size must be 1 or more, got 0."),
    (None, {"request_rate": 0}, "request_rate must be more than 0 (leave it unset to send all requests at once), got 0.0."),
])
def test_bad_models_and_parameters_fail_before_anything_runs(tmp_path, capsys, setup, args, message):
    target = tmp_path / "m"
    if setup == "file":
        target.write_text("x")
    elif setup in ("empty", "config"):
        target.mkdir()
        if setup == "config":
            (target / "config.json").write_text("{}")
    full = offline_args(tmp_path, model=str(target) if setup else "llama-2-7b")
    full.update(args)
    code, out = run_module(full, capsys)
    assert code == 1 and out["msg"].endswith(message) and not (tmp_path / "record.json").exists()


def test_no_gpu_and_too_few_gpus(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_nvml, "load_binding", lambda paths: (FakeNVML([]), None))
    code, out = run_module(offline_args(tmp_path, require_gpu=True), capsys)
    assert code == 1 and out["msg"] == ("vllm_bench's offline mode needs an NVIDIA GPU and found none: the NVIDIA driver is loaded but "
                                        "reports no GPU.")
    monkeypatch.setattr(_nvml, "load_binding", lambda paths: (FakeNVML([h200()]), None))
    code, out = run_module(offline_args(tmp_path, require_gpu=True, tensor_parallel_size=2), capsys)
    assert code == 1 and out["msg"] == "tensor_parallel_size 2 needs 2 GPUs; this host has 1."
    code, out = run_module(offline_args(tmp_path, require_gpu=True, num_prompts=2, output_len=3), capsys)
    assert code == 0 and out["environment"]["gpu_names"] == ["NVIDIA H200"] and "on NVIDIA H200" in out["msg"]


def test_check_mode_says_what_it_would_run(tmp_path, capsys):
    args = offline_args(tmp_path, _ansible_check_mode=True)
    code, out = run_module(args, capsys)
    assert code == 0 and out["changed"] is False and out["passed"] is None
    assert out["msg"] == ("Check mode: would run vLLM's offline engine under %s with the llama-2-7b preset "
                          "(meta-llama/Llama-2-7b-hf architecture, random weights), tensor_parallel_size 1: 30 prompts x 32 in / 50 out."
                          % sys.executable)
    assert out["checks"][0]["status"] == "skipped" and not (tmp_path / "record.json").exists()


def test_check_mode_refuses_what_a_run_would(tmp_path, capsys):
    """No interpreter, no vLLM in it, no GPU: check mode says the same sentence as the run, and runs nothing."""
    code, out = run_module(offline_args(tmp_path, _ansible_check_mode=True, worker_python=str(tmp_path / "nope")), capsys)
    assert code == 1 and out["msg"].startswith("worker_python %s is not an executable file: " % (tmp_path / "nope"))
    real = run_module(offline_args(tmp_path, env={"PYTHONPATH": ""}), capsys)[1]["msg"]
    code, out = run_module(offline_args(tmp_path, _ansible_check_mode=True, env={"PYTHONPATH": ""}), capsys)
    assert code == 1 and "vllm" in out["msg"] and out["msg"] == real
    assert not (tmp_path / "record.json").exists()


# --- serve mode against a real local server ----------------------------------------------------

def test_serve_mode_measures_the_endpoint(tmp_path, capsys):
    with fake_server(tmp_path, "--ttft", 0.05, "--itl", 0.005) as url:
        code, out = run_module({"mode": "serve", "endpoint": url, "num_prompts": 8, "input_len": 16, "output_len": 10,
                                "concurrency": 4, "min_output_tokens_per_s": 1, "max_ttft_p99_ms": 5000, "quality_check": True}, capsys)
    assert code == 0 and out["passed"] is True and out["changed"] is False
    w = out["metrics"]["workloads"][0]
    assert (w["completed"], w["failed"], w["output_tokens"], w["prompt_tokens"]) == (8, 0, 80, 128)
    assert w["ttft_ms"]["p50"] >= 50 and w["itl_ms"]["count"] == 8 * 9 and w["tpot_ms"]["p50"] >= 4.5
    checks = by_name(out)
    assert checks["vllm_bench.failed_requests"]["status"] == "passed" and checks["vllm_bench.ttft_p99_ms"]["status"] == "passed"
    assert checks["vllm_bench.quality"]["status"] == "passed" and out["metrics"]["quality"]["passed"] == 5
    assert out["environment"]["server_version"] == "fake-1.0" and out["environment"]["served_model"] == "fake-model"
    assert "ITL p50 ms" in out["tables"][0]["columns"]
    assert out["msg"].startswith(url + " (fake-model): 8x16/10 at ")


def test_serve_mode_counts_failures_against_the_threshold(tmp_path, capsys):
    with fake_server(tmp_path, "--ttft", 0.01, "--itl", 0.001, "--fail-every", 3) as url:
        code, out = run_module({"mode": "serve", "endpoint": url, "num_prompts": 6, "input_len": 4, "output_len": 3,
                                "prompt_format": "text", "api": "chat"}, capsys)
    assert code == 1
    assert "Failed requests (6x4/3) is 2 requests, above the maximum of 0 requests." in out["failures"]
    assert by_name(out)["vllm_bench.quality"]["status"] == "skipped"


def test_serve_mode_endpoint_down_and_wrong_model(tmp_path, capsys):
    port = closed_port()
    code, out = run_module({"mode": "serve", "endpoint": "http://127.0.0.1:%d/v1" % port}, capsys)
    assert code == 1 and out["msg"] == ("The endpoint http://127.0.0.1:%d/v1 is not answering: connection refused (is the server "
                                        "running on 127.0.0.1:%d?)." % (port, port))
    with fake_server(tmp_path) as url:
        code, out = run_module({"mode": "serve", "endpoint": url, "model": "llama"}, capsys)
        assert code == 1 and out["msg"] == "The endpoint %s serves fake-model, not 'llama'." % url
    code, out = run_module({"mode": "serve"}, capsys)
    assert code == 1 and out["msg"].startswith("Serve mode needs endpoint")
    code, out = run_module({"mode": "serve", "endpoint": "127.0.0.1:8000"}, capsys)
    assert code == 1 and "must be an http:// or https:// URL" in out["msg"]


def test_serve_check_mode(tmp_path, capsys):
    code, out = run_module({"mode": "serve", "endpoint": "http://127.0.0.1:9/v1", "_ansible_check_mode": True, "request_rate": 4,
                            "concurrency": 8}, capsys)
    assert code == 0 and out["msg"] == ("Check mode: would send 30 prompts x 32 in / 50 out as streaming completions requests to "
                                        "http://127.0.0.1:9/v1 (concurrency 8, request rate 4.0/s).")


def test_the_old_name_python_works_and_is_deprecated(tmp_path, capsys):
    forget_deprecations()
    args = offline_args(tmp_path, _ansible_check_mode=True, python=sys.executable)
    del args["worker_python"]
    code, out = run_module(args, capsys)
    assert code == 0 and out["msg"].startswith("Check mode: would run vLLM's offline engine under %s " % sys.executable)
    assert deprecations(out) == [alias_deprecated("python")]


def test_serve_mode_still_works_and_is_deprecated(capsys):
    """mode=serve became llm_endpoint_bench; here it still runs, with Ansible's deprecation."""
    forget_deprecations()
    code, out = run_module({"mode": "serve", "endpoint": "http://127.0.0.1:9/v1", "_ansible_check_mode": True}, capsys)
    assert code == 0 and out["msg"].startswith("Check mode: would send 30 prompts x 32 in / 50 out as streaming ")
    assert deprecations(out) == [(
        "mode=serve is deprecated: use the module vaultcube.demobox.llm_endpoint_bench, which takes the same serve "
        "options and measures the same way.", "1.0.0", "vaultcube.demobox")]
