# -*- coding: utf-8 -*-
"""A stand-in for the `vllm` package, for tests only (nothing it reports measures anything).

llm_fakes.fake_vllm_pythonpath(dir) writes a `vllm` package shell into dir whose modules re-export
what is defined here, with the names vllm_bench's worker and /tmp/vbundle/bench_tp.py use:
`vllm.LLM`, `vllm.SamplingParams`, `vllm.__version__`, `vllm.inputs.TokensPrompt`,
`vllm.benchmarks.throughput.add_cli_args/main`, `vllm.utils.argparse_utils.FlexibleArgumentParser`.
Like vLLM, making an `LLM` starts an "EngineCore" child process, so the tests can prove that
nothing is left running.

Environment knobs: FAKE_VLLM_STEP_S (simulated seconds per decode step, default 0.002),
FAKE_VLLM_FAIL (import, engine_start, kv_cache, oom, crash, hang, short), FAKE_VLLM_STUBBORN=1
(the EngineCore child ignores SIGTERM and starts a helper in its own session that does too),
FAKE_VLLM_RECORD (a file that receives the engine and sampling arguments as JSON; the helper's
PID goes to FILE.helper), FAKE_VLLM_ANSWERS (JSON {prompt: answer} for text prompts),
FAKE_VLLM_NO_METRICS=1.
"""
import argparse
import atexit
import json
import os
import signal
import subprocess
import sys
import time

if os.environ.get("FAKE_VLLM_FAIL") == "import":
    raise ImportError("libcudart.so.13: cannot open shared object file: No such file or directory")

__version__ = "0.0.0+fake"
FlexibleArgumentParser = argparse.ArgumentParser


def TokensPrompt(**kwargs):  # noqa: N802 - same name as vLLM's TypedDict
    return dict(kwargs)


def TextPrompt(**kwargs):  # noqa: N802
    return dict(kwargs)


_CORE = r"""
import os, signal, subprocess, sys, time
if os.environ.get("FAKE_VLLM_STUBBORN") == "1":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    helper = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"],
                              start_new_session=True)
    print("EngineCore helper pid=%d" % helper.pid, file=sys.stderr, flush=True)
    if os.environ.get("FAKE_VLLM_RECORD"):
        with open(os.environ["FAKE_VLLM_RECORD"] + ".helper", "w") as handle:
            handle.write(str(helper.pid))
print("EngineCore pid=%d ready" % os.getpid(), file=sys.stderr, flush=True)
while True:
    time.sleep(0.5)
"""


def _log(text):
    # vLLM's logger writes to stdout (VLLM_LOGGING_STREAM); Python's tracebacks go to stderr.
    sys.stdout.write("INFO 11-28 10:00:00 [fake.py:1] %s\n" % text)
    sys.stdout.flush()


def _record(key, value):
    path = os.environ.get("FAKE_VLLM_RECORD")
    if not path:
        return
    data = {}
    if os.path.exists(path):
        with open(path) as handle:
            data = json.load(handle)
    data.setdefault(key, []).append(value)
    with open(path, "w") as handle:
        json.dump(data, handle)


class SamplingParams(object):
    def __init__(self, n=1, temperature=1.0, top_p=1.0, ignore_eos=False, max_tokens=16, detokenize=True, **kwargs):
        self.n = n
        self.temperature = temperature
        self.top_p = top_p
        self.ignore_eos = ignore_eos
        self.max_tokens = max_tokens
        self.detokenize = detokenize
        self.extra = kwargs

    def as_dict(self):
        return {"n": self.n, "temperature": self.temperature, "top_p": self.top_p, "ignore_eos": self.ignore_eos,
                "max_tokens": self.max_tokens, "detokenize": self.detokenize}


class _Obj(object):
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class _Core(object):
    def __init__(self, proc):
        self.proc = proc

    def shutdown(self, timeout=None):
        if os.environ.get("FAKE_VLLM_STUBBORN") == "1":
            return  # leaves its processes behind, like a wedged engine
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout or 5)


class LLM(object):
    def __init__(self, model, **kwargs):
        fail = os.environ.get("FAKE_VLLM_FAIL")
        _record("llm_kwargs", dict(kwargs, model=model))
        self.core_proc = subprocess.Popen([sys.executable, "-c", _CORE])
        _record("core_pid", self.core_proc.pid)
        atexit.register(self._at_exit)  # vLLM stops its engine processes when the interpreter exits normally
        if fail == "engine_start":
            _log("Traceback (most recent call last):")
            sys.stdout.write("(EngineCore pid=%d) ERROR 11-28 10:00:01 [core.py:1] RuntimeError: Cannot find a model "
                             "architecture named FooForCausalLM\n" % self.core_proc.pid)
            raise RuntimeError("Engine core initialization failed. See root cause above. Failed core proc(s): {}")
        if fail == "kv_cache":
            sys.stdout.write("(EngineCore pid=%d) ValueError: To serve at least one request with the model's max seq len (4096), "
                             "(2.00 GiB KV cache is needed, which is larger than the available KV cache memory (1.00 GiB). "
                             "Try increasing `gpu_memory_utilization`.\n" % self.core_proc.pid)
            raise RuntimeError("Engine core initialization failed. See root cause above. Failed core proc(s): {}")
        if fail == "oom":
            sys.stderr.write("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
                             "of 139.81 GiB of which 1.20 GiB is free.\n")
            raise RuntimeError("Engine core initialization failed. See root cause above.")
        with open(os.path.join(model, "config.json")) as handle:
            config = json.load(handle)
        max_len = kwargs.get("max_model_len") or config.get("max_position_embeddings", 2048)
        backend = (kwargs.get("attention_config") or {}).get("backend") or "FLASH_ATTN"
        _log("Using %s attention backend out of potential backends: ['FLASH_ATTN', 'TRITON_ATTN']." % backend)
        _log("Model loading took 12.55 GiB memory and 3.100000 seconds")
        _log("GPU KV cache size: 123,456 tokens")
        hf = _Obj(vocab_size=config["vocab_size"], bos_token_id=config.get("bos_token_id"),
                  eos_token_id=config.get("eos_token_id"), pad_token_id=config.get("pad_token_id"))
        model_config = _Obj(hf_config=hf, max_model_len=max_len, dtype="torch.bfloat16",
                            get_vocab_size=lambda: config["vocab_size"])
        vllm_config = _Obj(attention_config=_Obj(backend=backend if kwargs.get("attention_config") else None),
                           compilation_config=_Obj(mode="CompilationMode.VLLM_COMPILE", cudagraph_mode="FULL_AND_PIECEWISE"),
                           scheduler_config=_Obj(max_num_seqs=256, max_num_batched_tokens=8192))
        self.llm_engine = _Obj(model_config=model_config, vllm_config=vllm_config, engine_core=_Core(self.core_proc))
        self.skip_tokenizer_init = kwargs.get("skip_tokenizer_init", False)
        self.stats = not kwargs.get("disable_log_stats", True) and os.environ.get("FAKE_VLLM_NO_METRICS") != "1"

    def get_tokenizer(self):
        if self.skip_tokenizer_init:
            raise ValueError("no tokenizer (skip_tokenizer_init)")
        return _Obj(all_special_ids=[0, 1, 2])

    def _at_exit(self):
        if os.environ.get("FAKE_VLLM_STUBBORN") != "1" and self.core_proc.poll() is None:
            self.core_proc.kill()
            self.core_proc.wait()

    def chat(self, messages, sampling_params, use_tqdm=True):
        """LLM.chat: the model's chat template around the messages (here: the roles and contents)."""
        _record("chat", messages)
        return self.generate([" ".join("<%s> %s" % (m["role"], m["content"]) for m in messages)], sampling_params, use_tqdm)

    def generate(self, prompts, sampling_params, use_tqdm=True):
        fail = os.environ.get("FAKE_VLLM_FAIL")
        if not isinstance(sampling_params, list):
            sampling_params = [sampling_params] * len(prompts)
        _record("sampling", sampling_params[0].as_dict())
        _record("prompt_lengths", [len(p["prompt_token_ids"]) if isinstance(p, dict) else len(p.split()) for p in prompts])
        if fail == "hang":
            time.sleep(3600)
        if fail == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        step = float(os.environ.get("FAKE_VLLM_STEP_S", "0.002"))
        steps = max(p.max_tokens for p in sampling_params)
        arrival = time.time()
        t0 = time.monotonic()
        time.sleep(step * 2)  # "prefill"
        first = time.monotonic()
        time.sleep(step * steps)
        last = time.monotonic()
        answers = json.loads(os.environ.get("FAKE_VLLM_ANSWERS", "{}"))
        outs = []
        for index, (prompt, params) in enumerate(zip(prompts, sampling_params)):
            count = params.max_tokens - (1 if fail == "short" and index == 0 else 0)
            if isinstance(prompt, dict):
                ids = list(prompt["prompt_token_ids"])
                text_in = None
            else:
                ids = list(range(len(prompt.split())))
                text_in = prompt
            metrics = None
            if self.stats:
                metrics = _Obj(arrival_time=arrival, first_token_latency=(first - t0) + 0.0001 * index,
                               first_token_ts=first, last_token_ts=last, num_generation_tokens=count)
            text = answers.get(text_in, " lorem ipsum") if params.detokenize and not self.skip_tokenizer_init else ""
            outs.append(_Obj(prompt_token_ids=ids, metrics=metrics,
                             outputs=[_Obj(token_ids=list(range(count)), text=text)]))
        return outs


# --- vllm.benchmarks.throughput (what tests/gpu/vllm_bench.sh's dry run calls) ---


def add_cli_args(parser):
    parser.add_argument("--model", required=True)
    parser.add_argument("--load-format", default="auto")
    parser.add_argument("--dataset-name", default="sharegpt")
    parser.add_argument("--random-input-len", type=int, default=1024)
    parser.add_argument("--random-output-len", type=int, default=128)
    parser.add_argument("--num-prompts", type=int, default=1000)
    parser.add_argument("--output-json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--enforce-eager", action="store_true")
    parser.add_argument("--attention-backend")


def main(args):
    llm = LLM(model=args.model, load_format=args.load_format, seed=args.seed, disable_log_stats=False)
    prompts = [{"prompt_token_ids": [5] * args.random_input_len} for _prompt in range(args.num_prompts)]
    params = [SamplingParams(n=1, temperature=1.0, top_p=1.0, ignore_eos=True, max_tokens=args.random_output_len)
              for _prompt in prompts]
    start = time.perf_counter()
    outs = llm.generate(prompts, params, use_tqdm=True)
    elapsed = time.perf_counter() - start
    out_tok = sum(len(o.outputs[0].token_ids) for o in outs)
    total = out_tok + sum(len(o.prompt_token_ids) for o in outs)
    print("Throughput: %.2f requests/s, %.2f total tokens/s, %.2f output tokens/s" % (
        len(outs) / elapsed, total / elapsed, out_tok / elapsed))
    print("Total num prompt tokens:  %d" % (total - out_tok))
    print("Total num output tokens:  %d" % out_tok)
    if args.output_json:
        with open(args.output_json, "w") as handle:
            json.dump({"elapsed_time": elapsed, "num_requests": len(outs), "total_num_tokens": total,
                       "requests_per_second": len(outs) / elapsed, "tokens_per_second": total / elapsed}, handle, indent=4)
    llm.llm_engine.engine_core.shutdown()
