# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A streaming benchmark client for OpenAI-compatible endpoints, standard library only.

Used by llm_endpoint_bench (and vllm_bench's deprecated serve mode) against ``vllm serve`` or any server that speaks the OpenAI
``/v1/completions`` (or ``/v1/chat/completions``) protocol with ``stream: true`` (server-sent
events). The measurements follow vLLM's own ``vllm bench serve`` (vllm/benchmarks/serve.py and
lib/endpoint_request_func.py):

* TTFT: from sending the request to the first chunk that carries text;
* ITL: the gap between successive chunks that carry text;
* TPOT per request: (end-to-end latency - TTFT) / (output tokens - 1);
* end-to-end latency: from sending the request to the end of the stream;
* output tokens: ``usage.completion_tokens`` of the final chunk (the client asks for it with
  ``stream_options.include_usage``), else the number of chunks that carried text;
* throughput: completed requests, output tokens and prompt + output tokens over the wall time
  from the first request sent to the last one finished;
* arrivals: all at once (``request_rate`` None) or a Poisson process at ``request_rate``
  requests/s; at most ``concurrency`` requests in flight.

One thread per in-flight request (``http.client``), timestamps from ``time.perf_counter()``.
Nothing here imports Ansible. The end of this file is the benchmark as the modules run it
(``plan_serve``, ``check_mode_result``, ``run_serve``): every failure is an ``EndpointError`` or a
``PlanError`` with one sentence, which the module turns into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

import http.client as httplib
import json
import random
import socket
import ssl
import threading
import time
from urllib.parse import urlparse

from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_bench as B
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError


class EndpointError(Exception):
    """The endpoint cannot be used at all; the message is one sentence."""


class Endpoint(object):
    """Where to send requests: ``http(s)://host:port/v1`` (the base URL of the OpenAI API)."""

    def __init__(self, base_url, api_key=None, timeout=300.0):
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise EndpointError("The endpoint must be an http:// or https:// URL such as http://127.0.0.1:8000/v1, got '%s'." % base_url)
        self.base_url = base_url.rstrip("/")
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.path = parsed.path.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def connection(self, timeout=None):
        timeout = self.timeout if timeout is None else timeout
        if self.scheme == "https":
            return httplib.HTTPSConnection(self.host, self.port, timeout=timeout, context=ssl.create_default_context())
        return httplib.HTTPConnection(self.host, self.port, timeout=timeout)

    def headers(self, extra=None):
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream, application/json"}
        if self.api_key:
            headers["Authorization"] = "Bearer %s" % self.api_key
        headers.update(extra or {})
        return headers

    def url(self, route):
        return "%s%s" % (self.path, route)


def describe_connection_error(endpoint, exc):
    """One sentence for a request that could not be sent or answered at all."""
    where = endpoint.base_url
    if isinstance(exc, ConnectionRefusedError):
        return "The endpoint %s is not answering: connection refused (is the server running on %s:%s?)." % (
            where, endpoint.host, endpoint.port)
    if isinstance(exc, socket.timeout):
        return "The endpoint %s did not answer within %s s." % (where, endpoint.timeout)
    if isinstance(exc, socket.gaierror):
        return "The endpoint %s cannot be reached: the host name '%s' does not resolve." % (where, endpoint.host)
    if isinstance(exc, ssl.SSLError):
        return "The endpoint %s failed the TLS handshake: %s." % (where, exc)
    return "The endpoint %s cannot be reached: %s." % (where, exc or type(exc).__name__)


def get_json(endpoint, route, timeout=10.0):
    """GET a JSON document; returns (status, data or None). Raises EndpointError when unreachable."""
    conn = endpoint.connection(timeout)
    try:
        conn.request("GET", endpoint.url(route), headers=endpoint.headers())
        resp = conn.getresponse()
        body = resp.read()
        try:
            return resp.status, json.loads(body.decode("utf-8", "replace"))
        except ValueError:
            return resp.status, None
    except (OSError, httplib.HTTPException) as exc:
        raise EndpointError(describe_connection_error(endpoint, exc))
    finally:
        conn.close()


def list_models(endpoint):
    """Model ids the endpoint serves (GET /models); [] when it does not list them."""
    status, data = get_json(endpoint, "/models")
    if status != 200 or not isinstance(data, dict):
        return []
    return [m.get("id") for m in data.get("data") or [] if isinstance(m, dict) and m.get("id")]


def server_version(endpoint):
    """vLLM answers GET /version (outside /v1); other servers may not. None when unknown."""
    base = endpoint.path[:-3] if endpoint.path.endswith("/v1") else endpoint.path
    probe = Endpoint("%s://%s:%s%s" % (endpoint.scheme, endpoint.host, endpoint.port, base), endpoint.api_key, 5.0)
    try:
        status, data = get_json(probe, "/version", 5.0)
    except EndpointError:
        return None
    if status == 200 and isinstance(data, dict):
        return data.get("version")
    return None


def build_body(api, model, prompt, max_tokens, ignore_eos=True, extra=None, temperature=None, stream=True):
    body = {"model": model, "max_tokens": max_tokens, "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    if api == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if ignore_eos:
        body["ignore_eos"] = True  # vLLM's extension: generate exactly max_tokens tokens
    if temperature is not None:
        body["temperature"] = temperature
    body.update(extra or {})
    return body


def chunk_text(obj, api):
    """The text a streamed chunk carries ('' for none)."""
    choices = obj.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return ""
    if api == "chat":
        delta = choices[0].get("delta") or {}
        return delta.get("content") or delta.get("reasoning_content") or ""
    return choices[0].get("text") or ""


def parse_sse_line(raw):
    """One line of a server-sent event stream -> ('data', payload) | ('done', None) | (None, None)."""
    line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    line = line.strip()
    if not line or line.startswith(":"):
        return None, None
    if not line.startswith("data:"):
        return None, None
    payload = line[5:].strip()
    if payload == "[DONE]":
        return "done", None
    return "data", payload


def _error_text(status, body):
    try:
        data = json.loads(body.decode("utf-8", "replace"))
        message = data.get("error", {}).get("message") if isinstance(data.get("error"), dict) else data.get("message") or data.get("detail")
    except (ValueError, AttributeError):
        message = None
    message = message or body.decode("utf-8", "replace")[:200].strip() or "no body"
    return "HTTP %d: %s" % (status, " ".join(str(message).split())[:300])


def stream_request(endpoint, route, body, api, clock=time.perf_counter):
    """Send one streaming request; return its record (never raises)."""
    record = {"ok": False, "error": None, "ttft": None, "itl": [], "latency": None, "output_tokens": 0,
              "prompt_tokens": None, "chunks": 0, "text": "", "start": None, "end": None}
    conn = endpoint.connection()
    pieces = []
    try:
        data = json.dumps(body).encode("utf-8")
        start = clock()
        record["start"] = start
        conn.request("POST", endpoint.url(route), body=data, headers=endpoint.headers())
        resp = conn.getresponse()
        if resp.status != 200:
            record["error"] = _error_text(resp.status, resp.read())
            return record
        last = start
        usage = None
        while True:
            raw = resp.readline()
            if not raw:
                break
            kind, payload = parse_sse_line(raw)
            if kind == "done":
                break
            if kind != "data":
                continue
            try:
                obj = json.loads(payload)
            except ValueError:
                record["error"] = "The endpoint sent a chunk that is not JSON: %s" % payload[:120]
                return record
            if isinstance(obj, dict) and obj.get("error"):
                err = obj["error"]
                record["error"] = "stream error: %s" % (err.get("message") if isinstance(err, dict) else err)
                return record
            if isinstance(obj, dict) and obj.get("usage"):
                usage = obj["usage"]
            text = chunk_text(obj, api) if isinstance(obj, dict) else ""
            if text:
                now = clock()
                if record["ttft"] is None:
                    record["ttft"] = now - start
                else:
                    record["itl"].append(now - last)
                last = now
                record["chunks"] += 1
                pieces.append(text)
        end = clock()
        record["end"] = end
        record["latency"] = end - start
        record["text"] = "".join(pieces)
        if usage and usage.get("completion_tokens") is not None:
            record["output_tokens"] = int(usage["completion_tokens"])
        else:
            record["output_tokens"] = record["chunks"]
        if usage and usage.get("prompt_tokens") is not None:
            record["prompt_tokens"] = int(usage["prompt_tokens"])
        if record["ttft"] is None:
            record["error"] = "the stream ended without any text"
            return record
        record["ok"] = True
        return record
    except (OSError, httplib.HTTPException) as exc:
        record["error"] = describe_connection_error(endpoint, exc)
        return record
    finally:
        conn.close()


def complete(endpoint, api, model, prompt, max_tokens, temperature=0.0):
    """One non-benchmark request (the quality check), streamed the same way; returns its record."""
    route = "/chat/completions" if api == "chat" else "/completions"
    body = build_body(api, model, prompt, max_tokens, ignore_eos=False, temperature=temperature)
    return stream_request(endpoint, route, body, api)


def arrival_offsets(count, request_rate, seed=0):
    """Send times (s from the start): all 0 for an unlimited rate, else a Poisson process."""
    if not request_rate:
        return [0.0] * count
    rng = random.Random(seed)
    offsets = []
    now = 0.0
    for _request in range(count):
        offsets.append(now)
        now += rng.expovariate(request_rate)
    return offsets


def run_benchmark(endpoint, api, model, prompts, output_len, concurrency=None, request_rate=None, seed=0,
                  ignore_eos=True, extra_body=None, deadline_s=None):
    """Send every prompt, at most ``concurrency`` at a time; returns (records, duration_s)."""
    route = "/chat/completions" if api == "chat" else "/completions"
    limit = concurrency or len(prompts)
    gate = threading.BoundedSemaphore(max(1, limit))
    offsets = arrival_offsets(len(prompts), request_rate, seed)
    records = [None] * len(prompts)
    threads = []
    start = time.perf_counter()
    give_up = (start + deadline_s) if deadline_s else None

    def worker(index, prompt):
        try:
            body = build_body(api, model, prompt, output_len, ignore_eos, extra_body)
            records[index] = stream_request(endpoint, route, body, api)
        finally:
            gate.release()

    for index, prompt in enumerate(prompts):
        wait = start + offsets[index] - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        if give_up is not None and time.perf_counter() > give_up:
            records[index] = {"ok": False, "error": "not sent: the benchmark ran out of time", "ttft": None, "itl": [],
                              "latency": None, "output_tokens": 0, "prompt_tokens": None, "chunks": 0, "text": "",
                              "start": None, "end": None}
            continue
        gate.acquire()
        thread = threading.Thread(target=worker, args=(index, prompt))
        thread.daemon = True
        thread.start()
        threads.append(thread)
    for thread in threads:
        remaining = None if give_up is None else max(0.1, give_up - time.perf_counter() + endpoint.timeout)
        thread.join(remaining)
    duration = time.perf_counter() - start
    for index, record in enumerate(records):
        if record is None:
            records[index] = {"ok": False, "error": "no answer before the benchmark's deadline", "ttft": None, "itl": [],
                              "latency": None, "output_tokens": 0, "prompt_tokens": None, "chunks": 0, "text": "",
                              "start": None, "end": None}
    return records, duration


def summarize(records, duration_s, input_len, distribution, throughput_fn):
    """The serve-mode metrics (as vllm bench serve reports them) from the request records."""
    done = [r for r in records if r["ok"]]
    failed = [r for r in records if not r["ok"]]
    output_tokens = sum(r["output_tokens"] for r in done)
    prompt_tokens = sum(r["prompt_tokens"] if r["prompt_tokens"] is not None else input_len for r in done)
    elapsed = duration_s
    itl = [gap for r in done for gap in r["itl"]]
    tpot = [(r["latency"] - r["ttft"]) / (r["output_tokens"] - 1) for r in done if r["output_tokens"] > 1]
    metrics = {
        "completed": len(done),
        "failed": len(failed),
        "duration_s": round(elapsed, 4),
        "prompt_tokens": prompt_tokens,
        "output_tokens": output_tokens,
        "ttft_ms": distribution([r["ttft"] for r in done], 1000.0),
        "tpot_ms": distribution(tpot, 1000.0, 3),
        "itl_ms": distribution(itl, 1000.0, 3),
        "latency_ms": distribution([r["latency"] for r in done], 1000.0),
    }
    metrics.update(throughput_fn(len(done), prompt_tokens, output_tokens, elapsed))
    errors = {}
    for r in failed:
        errors[r["error"]] = errors.get(r["error"], 0) + 1
    metrics["errors"] = [{"error": k, "count": v} for k, v in sorted(errors.items(), key=lambda kv: -kv[1])][:5]
    return metrics


# --- The benchmark as llm_endpoint_bench and vllm_bench's serve mode run it ----------------------
# ``prefix`` starts the check names (the module's name); ``who`` names the benchmark in sentences.

def serve_prompts(params, workload, seed):
    if params["prompt_format"] == "text":
        return B.text_prompts(workload["num_prompts"], workload["input_len"], seed)
    return B.serve_token_prompts(workload["num_prompts"], workload["input_len"], seed)


def plan_serve(params):
    """(workloads, quality prompts, Endpoint); PlanError or EndpointError for a bad option."""
    workloads, quality_prompts = B.validate_common(params)
    if not params["endpoint"]:
        raise PlanError("Serve mode needs endpoint, the base URL of an OpenAI-compatible API such as http://127.0.0.1:8000/v1.")
    return workloads, quality_prompts, Endpoint(params["endpoint"], params["api_key"], params["request_timeout"])


def check_mode_result(params, plan, prefix):
    workloads, dummy, endpoint = plan
    message = "Check mode: would send %s as streaming %s requests to %s (concurrency %s, request rate %s)." % (
        B.describe_workloads(workloads), params["api"], endpoint.base_url, params["concurrency"] or "unlimited",
        ("%s/s" % params["request_rate"]) if params["request_rate"] else "unlimited")
    return R.build_result([R.skipped(prefix + "run", message)], {"mode": "serve"}, B.thresholds_of(params),
                          {"endpoint": endpoint.base_url}, msg=message, tables=[])


def choose_model(endpoint, wanted):
    """(model to request, models the endpoint lists); EndpointError when it cannot be used."""
    models = list_models(endpoint)
    model = wanted or (models[0] if models else None)
    if not model:
        raise EndpointError("The endpoint %s lists no model: set model to the name it serves." % endpoint.base_url)
    if models and model not in models:
        raise EndpointError("The endpoint %s serves %s, not '%s'." % (endpoint.base_url, ", ".join(models), model))
    return model, models


def first_request(endpoint, params, model, workload):
    """One request first, as vllm bench serve does: a wrong route, model or protocol shows up here."""
    probe = serve_prompts(params, dict(workload, num_prompts=1), params["seed"] + 999)[0]
    route = "/chat/completions" if params["api"] == "chat" else "/completions"
    test = stream_request(endpoint, route, build_body(params["api"], model, probe, min(workload["output_len"], 16),
                                                      params["ignore_eos"]), params["api"])
    if not test["ok"]:
        error = test["error"]
        if not error.startswith("The endpoint"):
            error = "The endpoint %s did not stream an answer to a test request: %s." % (endpoint.base_url, error.rstrip("."))
        raise EndpointError(error)


def run_serve(params, plan, prefix, who="Serve mode"):
    """Measure every workload against the endpoint and judge it; returns the result contract."""
    workloads, quality_prompts, endpoint = plan
    model, models = choose_model(endpoint, params["model"])
    first_request(endpoint, params, model, workloads[0])
    # timeout covers all workloads together: each gets what is left of it.
    end = time.time() + float(params["timeout"])
    results = []
    for index, workload in enumerate(workloads):
        prompts = serve_prompts(params, workload, params["seed"] + 1000 * index)
        left = max(end - time.time(), 0.001)
        records, duration = run_benchmark(endpoint, params["api"], model, prompts, workload["output_len"], params["concurrency"],
                                          params["request_rate"], params["seed"], params["ignore_eos"], None, left)
        metrics = summarize(records, duration, workload["input_len"], B.distribution, B.throughput)
        metrics.update({"name": workload["name"], "num_prompts": workload["num_prompts"], "input_len": workload["input_len"],
                        "output_len": workload["output_len"], "concurrency": params["concurrency"], "request_rate": params["request_rate"]})
        results.append(metrics)

    checks = B.judge_workloads(results, params, "serve", prefix)
    checks.append(R.make_check(prefix + "weights", R.INFO, "unknown", None, None,
                               "%s cannot tell whether the endpoint's weights are real or random." % who))
    if params["quality_check"]:
        items = []
        for item in quality_prompts:
            record = complete(endpoint, params["api"], model, item["prompt"], params["quality_max_tokens"])
            items.append({"prompt": item["prompt"], "expect": item["expect"], "answer": record["text"] if record["ok"] else ""})
        qcheck, qsummary, qrows = B.quality_check(items, params["min_quality_pass_rate"], None, prefix)
    else:
        reason = ("The quality check is turned off (quality_check: false)." if params["quality_check"] is False else
                  "The quality check was skipped: %s cannot tell whether the endpoint's weights are real; "
                  "set quality_check: true to run it." % ("in serve mode the module" if who == "Serve mode" else who))
        qcheck, qsummary, qrows = R.skipped(prefix + "quality", reason), None, []
    checks.append(qcheck)
    first = results[0]
    metrics = {"mode": "serve", "model": model, "weights": "unknown", "endpoint": endpoint.base_url,
               "output_tokens_per_s": first.get("output_tokens_per_s"), "total_tokens_per_s": first.get("total_tokens_per_s"),
               "requests_per_s": first.get("requests_per_s"), "workloads": results, "quality": qsummary}
    environment = {"endpoint": endpoint.base_url, "served_model": model, "served_models": models, "server_version": server_version(endpoint),
                   "api": params["api"], "prompt_format": params["prompt_format"], "client": "vaultcube.demobox _llm_serve (Python standard library)"}
    tables = [B.workload_table(results, "serve")]
    if qrows:
        tables.append(B.quality_table(qrows))
    out = R.build_result(checks, metrics, B.thresholds_of(params), environment, tables=tables)
    summary = "%s (%s): %s." % (endpoint.base_url, model, "; ".join(
        "%s at %s output tokens/s, TTFT p50 %s ms, TPOT p50 %s ms, %d failed" % (
            w["name"], B.fmt_num(w.get("output_tokens_per_s")), B.fmt_num((w.get("ttft_ms") or {}).get("p50")),
            B.fmt_num((w.get("tpot_ms") or {}).get("p50"), 2), w["failed"]) for w in results))
    out["msg"] = (" ".join(out["failures"]) + " " + summary) if out["failures"] else summary
    return out
