# -*- coding: utf-8 -*-
"""The offline worker run in this process against the fake vllm package (tests/unit/fake_vllm_engine.py),
which stands in for vLLM at its boundary. What is checked is the worker's method and bookkeeping
(arguments, prompts, token counting, timing fields, error phases), not any speed."""
import json
import os
import sys
import time

import pytest
from fake_nvml import h200
from llm_fakes import fake_vllm_pythonpath
from test_nvml_memory import MIB, Proc, WithProcesses

from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_bench as B
from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml, _proc
from ansible_collections.vaultcube.demobox.plugins.module_utils import _vllm_worker as W


@pytest.fixture
def fake_vllm(monkeypatch, tmp_path):
    for path in reversed(fake_vllm_pythonpath(tmp_path / "fakevllm").split(os.pathsep)):
        monkeypatch.syspath_prepend(path)
    monkeypatch.setenv("FAKE_VLLM_RECORD", str(tmp_path / "record.json"))
    yield tmp_path
    for name in [m for m in sys.modules if m in ("vllm", "fake_vllm_engine") or m.startswith("vllm.")]:
        del sys.modules[name]


def spec_for(tmp_path, **over):
    model = B.write_preset("llama-2-7b", str(tmp_path / "model"))
    spec = {
        "llm_kwargs": {"model": model, "load_format": "dummy", "skip_tokenizer_init": True, "disable_log_stats": False},
        "workloads": [{"name": "3x8/5", "num_prompts": 3, "input_len": 8, "output_len": 5},
                      {"name": "2x4/3", "num_prompts": 2, "input_len": 4, "output_len": 3}],
        "seed": 0, "detokenize": False, "num_warmups": 0, "quality": None,
        "nvml": {"enabled": True, "search_paths": [], "interval": 0.1},
        "result_path": str(tmp_path / "result.json"), "progress_path": str(tmp_path / "progress.log"),
    }
    spec.update(over)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return str(path), spec


def run(tmp_path, **over):
    path, spec = spec_for(tmp_path, **over)
    code = W.main(["worker_main.py", path])
    with open(spec["result_path"]) as handle:
        return code, json.load(handle)


def record(tmp_path):
    return json.loads((tmp_path / "record.json").read_text())


def test_measures_each_workload_like_vllm_bench_throughput(fake_vllm):
    code, result = run(fake_vllm)
    assert code == W.EXIT_OK and result["ok"] and result["phase"] == "done"
    first, second = result["workloads"]
    assert (first["num_outputs"], first["prompt_tokens"], first["output_tokens"]) == (3, 24, 15)
    assert (second["prompt_tokens"], second["output_tokens"], second["requests_with_other_length"]) == (8, 6, 0)
    assert first["output_tokens_per_s"] == pytest.approx(15 / first["elapsed_s"], rel=0.01)
    assert first["total_tokens_per_s"] == pytest.approx(39 / first["elapsed_s"], rel=0.01)
    assert first["latency_ms"]["count"] == 3 and first["ttft_ms"]["p50"] > 0 and first["tpot_ms"]["p50"] > 0
    rec = record(fake_vllm)
    # The sampling method of vllm/benchmarks/throughput.py, and statistics on as in its CLI defaults.
    assert rec["sampling"][0] == {"n": 1, "temperature": 1.0, "top_p": 1.0, "ignore_eos": True, "max_tokens": 5, "detokenize": False}
    assert rec["llm_kwargs"][0]["disable_log_stats"] is False
    assert rec["prompt_lengths"] == [[8, 8, 8], [4, 4]]
    assert result["environment"]["vllm_version"] == "0.0.0+fake" and result["environment"]["max_model_len"] == 4096
    assert result["times"]["engine_start_s"] >= 0 and result["times"]["import_s"] >= 0
    progress = [line.split()[0] for line in (fake_vllm / "progress.log").read_text().splitlines()]
    assert progress == ["import", "engine_start", "generate", "shutdown", "exit"]
    assert "gpus" in result["gpu_memory"]


def test_warmups_are_not_counted(fake_vllm):
    code, result = run(fake_vllm, num_warmups=2)
    assert code == 0 and result["workloads"][0]["output_tokens"] == 15 and result["workloads"][0]["warmup_prompts"] == 2
    assert record(fake_vllm)["prompt_lengths"][:2] == [[8, 8], [8, 8, 8]]


def test_quality_prompts_are_answered_greedily(fake_vllm, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_ANSWERS", json.dumps({"The capital of France is": " Paris."}))
    quality = {"prompts": [{"prompt": "The capital of France is", "expect": ["Paris"]}], "max_tokens": 8}
    code, result = run(fake_vllm, quality=quality, detokenize=True,
                       llm_kwargs={"model": B.write_preset("opt-1.3b", str(fake_vllm / "opt")), "load_format": "auto"})
    assert code == 0 and result["quality"] == [{"prompt": "The capital of France is", "expect": ["Paris"], "answer": " Paris.",
                                                "token_ids": list(range(8)), "prompt_token_ids": list(range(5))}]
    assert record(fake_vllm)["sampling"][-1]["temperature"] == 0.0


def test_import_failure_is_reported_as_such(fake_vllm, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_FAIL", "import")
    code, result = run(fake_vllm)
    assert code == W.EXIT_IMPORT and result["phase"] == "import"
    assert result["error"] == "ImportError: libcudart.so.13: cannot open shared object file: No such file or directory"


def test_engine_start_failure_keeps_its_phase(fake_vllm, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_FAIL", "engine_start")
    code, result = run(fake_vllm)
    assert code == W.EXIT_FAILED and result["phase"] == "engine_start" and result["error"].startswith("RuntimeError: Engine core")
    pid = record(fake_vllm)["core_pid"][0]
    os.kill(pid, 9)  # the module's sweep does this in real use; here the test cleans up its own fake
    os.waitpid(pid, 0)


def test_a_workload_longer_than_the_model_allows_fails_in_generate(fake_vllm):
    code, result = run(fake_vllm, workloads=[{"name": "big", "num_prompts": 1, "input_len": 4000, "output_len": 200}])
    assert code == W.EXIT_FAILED and result["phase"] == "generate"
    assert result["error"] == ("ValueError: workload big needs 4200 tokens per request (input_len + output_len), "
                               "more than max_model_len 4096")


class _Ns(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


def test_special_ids_vocab_and_length_come_from_the_engine():
    hf = _Ns(bos_token_id=1, eos_token_id=[2, 3], pad_token_id=None, vocab_size=99)
    llm = _Ns(llm_engine=_Ns(model_config=_Ns(hf_config=hf, max_model_len=2048, get_vocab_size=lambda: 32000)),
              get_tokenizer=lambda: _Ns(all_special_ids=[0, 1]))
    assert W.special_ids_of(llm) == {0, 1, 2, 3}
    assert W.vocab_size_of(llm) == 32000 and W.max_model_len_of(llm) == 2048

    def no_tokenizer():
        raise ValueError("skip_tokenizer_init")

    def broken():
        raise RuntimeError("x")

    bare = _Ns(llm_engine=_Ns(model_config=_Ns(hf_config=hf, get_vocab_size=broken)), get_tokenizer=no_tokenizer)
    assert W.special_ids_of(bare) == {1, 2, 3} and W.vocab_size_of(bare) == 99 and W.max_model_len_of(bare) is None


def test_progress_and_json_helpers(tmp_path):
    progress = W.Progress(str(tmp_path / "p.log"))
    progress("generate")
    assert progress.phase == "generate" and (tmp_path / "p.log").read_text().startswith("generate ")
    W.write_json(str(tmp_path / "r.json"), {"a": 1})
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": 1} and not (tmp_path / "r.json.tmp").exists()
    W.Progress(None)("x")  # no file: nothing to write


class _Loading(WithProcesses):
    """Device memory in use grows by 10 GiB per reading, as while an engine loads."""

    def nvmlDeviceGetMemoryInfo(self, h):
        self.gpus[h]["memory_used"] = min(self.gpus[h]["memory_used"] + 10240 * MIB, self.gpus[h]["memory_total"])
        return WithProcesses.nvmlDeviceGetMemoryInfo(self, h)


def test_memory_sampler_keeps_the_peaks(monkeypatch):
    me = os.getpid()
    fake = _Loading([h200(memory_used=512 * MIB), h200(uuid="GPU-1", memory_used=100 * MIB)],
                    {0: [Proc(me, 90000 * MIB), Proc(424242, 7 * MIB)], 1: []})
    monkeypatch.setattr(_nvml, "load_binding", lambda paths: (fake, None))
    monkeypatch.setenv(_proc.MARKER_VAR, "test-marker-not-on-any-process")
    sampler = W.MemorySampler(_nvml, _proc, [], 0.01)
    sampler.start()
    assert sampler.ready.wait(5)
    sampler.refresh_pids()
    assert sampler.pids == {me}
    time.sleep(0.1)
    memory = sampler.finish()
    gpu0, gpu1 = memory["gpus"]
    assert memory["reason"] is None and memory["samples"] >= 2
    assert gpu0["name"] == "NVIDIA H200" and gpu0["total_mib"] == 143771 and gpu0["baseline_used_mib"] == 512 + 10240
    assert gpu0["peak_used_mib"] == fake.gpus[0]["memory_used"] // MIB  # rising memory: the last reading is the peak
    assert gpu0["engine_peak_mib"] == 90000  # only this run's processes count, not PID 424242
    assert gpu1["engine_peak_mib"] is None and gpu1["peak_used_mib"] > gpu1["baseline_used_mib"]
    assert fake.shutdowns == 1


def test_memory_sampler_without_nvml_says_why(monkeypatch):
    monkeypatch.setattr(_nvml, "load_binding", lambda paths: (None, "no pynvml here"))
    sampler = W.MemorySampler(_nvml, _proc, [], 0.01)
    sampler.start()
    assert sampler.finish() == {"gpus": [], "reason": "no pynvml here", "samples": 0}
