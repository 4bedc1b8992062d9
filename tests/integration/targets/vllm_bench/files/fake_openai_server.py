# -*- coding: utf-8 -*-
"""A small OpenAI-compatible server for tests: streams server-sent events with controlled delays.

    python fake_openai_server.py --port-file PORTFILE [--ttft 0.05] [--itl 0.01] [--fail-every N]

It speaks the parts of the protocol vllm_bench's serve mode and demobox-chat use: GET /v1/models,
GET /version, GET /health, POST /v1/completions and /v1/chat/completions with "stream": true
(chunked transfer, "data: {...}" events, a usage chunk when stream_options.include_usage is set,
then "data: [DONE]") or false. Each streamed request waits --ttft seconds, sends its first token,
then one token every --itl seconds, max_tokens tokens in all (fewer for the canned answers below
when ignore_eos is not set). GET /stats says how many requests came and the most in flight at once.
Standard library only; the chosen port is written to --port-file once it listens.
"""

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {
    "The capital of France is": " Paris. It is also the largest city",
    "1, 2, 3, 4, 5, 6,": " 7, 8, 9, 10",
    "Monday, Tuesday, Wednesday,": " Thursday, Friday",
    "The opposite of hot is": " cold.",
    "Water is made of hydrogen and": " oxygen.",
}


class State(object):
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # listen() backlog: a benchmark opens hundreds of connections at once


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenAI/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    @property
    def state(self):
        return self.server.state

    def send_json(self, status, data):
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        if self.path == "/v1/models":
            self.send_json(200, {"object": "list", "data": [{"id": self.state.args.model, "object": "model"}]})
        elif self.path == "/version":
            self.send_json(200, {"version": "fake-1.0"})
        elif self.path == "/health":
            self.send_json(200, {})
        elif self.path == "/stats":
            with self.state.lock:
                self.send_json(200, {"requests": self.state.requests, "max_in_flight": self.state.max_in_flight})
        else:
            self.send_json(404, {"error": {"message": "Not Found", "code": 404}})

    def chunk(self, data):
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def event(self, obj):
        self.chunk(b"data: " + json.dumps(obj).encode() + b"\n\n")

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.send_json(400, {"error": {"message": "body is not JSON"}})
        chat = self.path == "/v1/chat/completions"
        if self.path not in ("/v1/completions", "/v1/chat/completions"):
            return self.send_json(404, {"error": {"message": "Not Found"}})
        if body.get("model") != self.state.args.model:
            return self.send_json(404, {"error": {"message": "The model `%s` does not exist." % body.get("model")}})
        with self.state.lock:
            self.state.requests += 1
            number = self.state.requests
            self.state.in_flight += 1
            self.state.max_in_flight = max(self.state.max_in_flight, self.state.in_flight)
        try:
            every = self.state.args.fail_every
            if every and number % every == 0:
                return self.send_json(500, {"error": {"message": "injected failure of request %d" % number}})
            self.answer(body, chat)
        finally:
            with self.state.lock:
                self.state.in_flight -= 1

    def answer(self, body, chat):
        args = self.state.args
        prompt = body["messages"][-1]["content"] if chat else body.get("prompt")
        prompt_tokens = len(prompt) if isinstance(prompt, list) else len(str(prompt).split())
        max_tokens = int(body.get("max_tokens") or 16)
        canned = ANSWERS.get(prompt) if isinstance(prompt, str) else None
        if canned and not body.get("ignore_eos"):
            pieces = [w + " " for w in canned.split(" ")][:max_tokens]
        else:
            pieces = ["tok%d " % i for i in range(max_tokens)]
        if not body.get("stream"):
            text = "".join(pieces)
            time.sleep(args.ttft + args.itl * (len(pieces) - 1))
            choice = {"index": 0, "message": {"role": "assistant", "content": text}} if chat else {"index": 0, "text": text}
            return self.send_json(200, {"choices": [choice], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(pieces)}})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        time.sleep(args.ttft)
        for index, piece in enumerate(pieces):
            if index:
                time.sleep(args.itl)
            choice = {"index": 0, "delta": {"content": piece}} if chat else {"index": 0, "text": piece}
            self.event({"id": "cmpl-1", "choices": [choice]})
        if (body.get("stream_options") or {}).get("include_usage") and not args.no_usage:
            self.event({"id": "cmpl-1", "choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(pieces)}})
        self.chunk(b"data: [DONE]\n\n")
        self.chunk(b"")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--model", default="fake-model")
    parser.add_argument("--ttft", type=float, default=0.05)
    parser.add_argument("--itl", type=float, default=0.01)
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--no-usage", action="store_true")
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(args)
    with open(args.port_file + ".tmp", "w") as handle:
        handle.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
