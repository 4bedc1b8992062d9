# -*- coding: utf-8 -*-
"""The serve-mode client against a real local server process (tests/unit/llm_fakes.py) on a real
socket: its delays are known, so the client's timing and parsing can be checked."""
import json
import statistics
import urllib.request

import pytest
from llm_fakes import closed_port, fake_server

from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_bench as B
from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_serve as S


def stats(url):
    with urllib.request.urlopen(url.replace("/v1", "/stats"), timeout=10) as resp:
        return json.load(resp)


def test_streamed_request_timing_matches_the_servers_delays(tmp_path):
    with fake_server(tmp_path, "--ttft", 0.3, "--itl", 0.05) as url:
        ep = S.Endpoint(url)
        body = S.build_body("completions", "fake-model", list(range(1000, 1016)), 10)
        rec = S.stream_request(ep, "/completions", body, "completions")
    assert rec["ok"] and rec["error"] is None
    assert rec["output_tokens"] == 10 and rec["chunks"] == 10 and rec["prompt_tokens"] == 16
    # Lower bounds are the server's own delays; upper bounds are loose (a busy CI machine) but still
    # tell TTFT from end-to-end latency: after the first token come 9 more, 0.05 s apart.
    assert 0.3 <= rec["ttft"] < 0.7
    assert len(rec["itl"]) == 9 and all(g >= 0.045 for g in rec["itl"])
    assert statistics.median(rec["itl"]) < 0.15
    assert rec["latency"] - rec["ttft"] >= 9 * 0.045
    assert rec["latency"] >= 0.3 + 9 * 0.05
    assert rec["text"] == "".join("tok%d " % i for i in range(10))


def test_benchmark_respects_concurrency_and_summarizes_like_vllm(tmp_path):
    with fake_server(tmp_path, "--ttft", 0.05, "--itl", 0.01) as url:
        ep = S.Endpoint(url)
        prompts = B.serve_token_prompts(12, 8)
        records, duration = S.run_benchmark(ep, "completions", "fake-model", prompts, 5, concurrency=3)
        server = stats(url)
    assert server["requests"] == 12 and server["max_in_flight"] <= 3
    metrics = S.summarize(records, duration, 8, B.distribution, B.throughput)
    assert metrics["completed"] == 12 and metrics["failed"] == 0 and metrics["errors"] == []
    assert metrics["output_tokens"] == 60 and metrics["prompt_tokens"] == 96
    # 12 requests, 3 at a time, each >= 0.05 + 4 * 0.01 s
    assert duration >= 4 * 0.09
    assert metrics["output_tokens_per_s"] == pytest.approx(60 / metrics["duration_s"], rel=0.01)
    assert metrics["total_tokens_per_s"] == pytest.approx(156 / metrics["duration_s"], rel=0.01)
    assert metrics["ttft_ms"]["p50"] >= 50 and metrics["itl_ms"]["count"] == 12 * 4
    assert 9 <= metrics["tpot_ms"]["p50"] < 60
    assert metrics["latency_ms"]["p99"] >= metrics["latency_ms"]["p50"] >= 90


def test_failed_requests_are_counted_with_their_error(tmp_path):
    with fake_server(tmp_path, "--ttft", 0.01, "--itl", 0.001, "--fail-every", 4) as url:
        records, duration = S.run_benchmark(S.Endpoint(url), "completions", "fake-model", B.serve_token_prompts(8, 4), 3,
                                            concurrency=1)
    metrics = S.summarize(records, duration, 4, B.distribution, B.throughput)
    assert metrics["completed"] == 6 and metrics["failed"] == 2
    assert {e["error"] for e in metrics["errors"]} == {"HTTP 500: injected failure of request 4", "HTTP 500: injected failure of request 8"}


def test_without_usage_the_client_counts_chunks(tmp_path):
    with fake_server(tmp_path, "--ttft", 0.01, "--itl", 0.001, "--no-usage") as url:
        rec = S.stream_request(S.Endpoint(url), "/completions", S.build_body("completions", "fake-model", "a b c", 7), "completions")
    assert rec["ok"] and rec["output_tokens"] == 7 and rec["prompt_tokens"] is None


def test_chat_api_and_text_prompts(tmp_path):
    with fake_server(tmp_path, "--ttft", 0.01, "--itl", 0.001) as url:
        ep = S.Endpoint(url)
        records, duration = S.run_benchmark(ep, "chat", "fake-model", B.text_prompts(3, 6), 4)
        answer = S.complete(ep, "chat", "fake-model", "The capital of France is", 16)
    assert all(r["ok"] and r["output_tokens"] == 4 for r in records)
    assert answer["ok"] and "Paris" in answer["text"]


def test_models_version_and_wrong_model(tmp_path):
    with fake_server(tmp_path, "--model", "served-one") as url:
        ep = S.Endpoint(url)
        assert S.list_models(ep) == ["served-one"]
        assert S.server_version(ep) == "fake-1.0"
        rec = S.stream_request(ep, "/completions", S.build_body("completions", "other", "hi", 3), "completions")
    assert not rec["ok"] and rec["error"] == "HTTP 404: The model `other` does not exist."


def test_endpoint_down_is_one_sentence():
    port = closed_port()
    ep = S.Endpoint("http://127.0.0.1:%d/v1" % port, timeout=5)
    with pytest.raises(S.EndpointError) as exc:
        S.list_models(ep)
    assert str(exc.value) == ("The endpoint http://127.0.0.1:%d/v1 is not answering: connection refused "
                              "(is the server running on 127.0.0.1:%d?)." % (port, port))
    rec = S.stream_request(ep, "/completions", S.build_body("completions", "m", "x", 1), "completions")
    assert not rec["ok"] and "connection refused" in rec["error"]
    assert S.server_version(ep) is None


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://x/v1", "http:///v1"])
def test_bad_endpoint_urls(url):
    with pytest.raises(S.EndpointError, match="must be an http:// or https:// URL"):
        S.Endpoint(url)


def test_sse_parsing_and_bodies():
    assert S.parse_sse_line(b"data: {\"a\": 1}\n") == ("data", "{\"a\": 1}")
    assert S.parse_sse_line("data: [DONE]") == ("done", None)
    assert S.parse_sse_line(b": keep-alive") == (None, None)
    assert S.parse_sse_line(b"event: x") == (None, None) and S.parse_sse_line(b"\n") == (None, None)
    assert S.chunk_text({"choices": [{"text": "hi"}]}, "completions") == "hi"
    assert S.chunk_text({"choices": [{"delta": {"content": "yo"}}]}, "chat") == "yo"
    assert S.chunk_text({"choices": []}, "completions") == ""
    body = S.build_body("completions", "m", [1, 2], 5, extra={"top_p": 1.0})
    assert body == {"model": "m", "max_tokens": 5, "stream": True, "stream_options": {"include_usage": True}, "prompt": [1, 2],
                    "ignore_eos": True, "top_p": 1.0}
    chat = S.build_body("chat", "m", "hi", 5, ignore_eos=False, temperature=0.0, stream=False)
    assert chat == {"model": "m", "max_tokens": 5, "stream": False, "messages": [{"role": "user", "content": "hi"}], "temperature": 0.0}
    ep = S.Endpoint("https://gpu.example:8443/v1/", api_key="k")
    assert (ep.scheme, ep.host, ep.port, ep.path, ep.url("/models")) == ("https", "gpu.example", 8443, "/v1", "/v1/models")
    assert ep.headers()["Authorization"] == "Bearer k"


def test_arrival_offsets_are_a_seeded_poisson_process():
    assert S.arrival_offsets(3, None) == [0.0, 0.0, 0.0]
    offsets = S.arrival_offsets(2000, 10.0, seed=1)
    gaps = [b - a for a, b in zip(offsets, offsets[1:])]
    assert offsets[0] == 0.0 and all(g > 0 for g in gaps)
    assert statistics.mean(gaps) == pytest.approx(0.1, rel=0.1)
    assert S.arrival_offsets(5, 10.0, seed=1) == offsets[:5]


def test_request_rate_spreads_the_requests(tmp_path):
    with fake_server(tmp_path, "--ttft", 0.001, "--itl", 0.001) as url:
        records, duration = S.run_benchmark(S.Endpoint(url), "completions", "fake-model", B.serve_token_prompts(6, 4), 2,
                                            request_rate=20.0, seed=3)
    assert all(r["ok"] for r in records)
    assert duration >= S.arrival_offsets(6, 20.0, seed=3)[-1]


def test_summarize_math_on_synthetic_records():
    rec = {"ok": True, "error": None, "ttft": 0.1, "itl": [0.02, 0.04], "latency": 0.16, "output_tokens": 3, "prompt_tokens": 10,
           "chunks": 3, "text": "", "start": 0.0, "end": 0.16}
    bad = {"ok": False, "error": "HTTP 500: x", "ttft": None, "itl": [], "latency": None, "output_tokens": 0, "prompt_tokens": None,
           "chunks": 0, "text": "", "start": 0.0, "end": None}
    metrics = S.summarize([rec, dict(rec, prompt_tokens=None), bad], 2.0, 7, B.distribution, B.throughput)
    assert metrics["tpot_ms"]["mean"] == pytest.approx(30.0)  # (0.16 - 0.1) / (3 - 1)
    assert metrics["itl_ms"]["count"] == 4 and metrics["itl_ms"]["mean"] == pytest.approx(30.0)
    assert metrics["prompt_tokens"] == 17 and metrics["output_tokens"] == 6
    assert metrics["output_tokens_per_s"] == 3.0 and metrics["requests_per_s"] == 1.0 and metrics["failed"] == 1
