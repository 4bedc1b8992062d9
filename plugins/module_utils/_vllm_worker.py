# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Worker of vllm_bench's offline mode: runs vLLM's ``LLM`` engine and measures it.

The module writes this file (as worker_main.py) with copies of _llm_bench.py, _nvml.py, _proc.py
and _util.py into a private directory and starts it with ``python worker_main.py SPEC.json`` under
the chosen interpreter (the AI venv's python), through _proc.ChildRun. Only the standard library
is imported at the top, so the module (and ``ansible-test sanity``) can import this file too.

Method, the same as vLLM's own ``vllm bench throughput`` (vllm/benchmarks/throughput.py,
run_vllm): one ``LLM`` engine; per workload, ``num_prompts`` prompts of exactly ``input_len``
tokens (vLLM's random-dataset recipe, as token ids), one ``SamplingParams(n=1, temperature=1.0,
top_p=1.0, ignore_eos=True, max_tokens=output_len)`` each, and one ``llm.generate()`` over all
of them, timed with ``time.perf_counter()``; throughput counts the prompt and output tokens of
the returned outputs. Like ``vllm bench throughput`` the engine keeps its statistics on
(``disable_log_stats=False``), which also gives per-request timings.

It writes its result as JSON to the path in the spec and progress phases (import, engine_start,
generate, quality, done) to another file, so a crash still says where it happened.
"""

from __future__ import absolute_import, division, print_function

import importlib
import json
import os
import sys
import threading
import time

EXIT_OK = 0
EXIT_IMPORT = 3
EXIT_FAILED = 4


# Where job_progress reads the phase and the last figure (the validation role sets it), as
# ddp_benchmark's rank 0 writes it: {"phase": text, "time": s, "figure": {"value", "unit"}}.
PROGRESS_VAR = "VAULTCUBE_PROGRESS_FILE"
PHASE_TEXT = {"import": "importing vLLM", "engine_start": "starting the engine", "generate": "generating",
              "quality": "quality check", "shutdown": "shutting the engine down", "exit": "done"}


class Progress(object):
    def __init__(self, path):
        self.path = path
        self.phase = "start"
        self.json_path = os.environ.get(PROGRESS_VAR)
        self.figure = None

    def __call__(self, phase, detail=None, figure=None, unit=None):
        changed, self.phase = phase != self.phase, phase
        if self.path and changed:  # one line per phase
            with open(self.path, "a") as handle:
                handle.write("%s %.3f\n" % (phase, time.time()))
        if figure is not None:
            self.figure = {"value": figure, "unit": unit}
        if self.json_path:
            data = {"phase": PHASE_TEXT.get(phase, phase) + (" %s" % detail if detail else ""), "time": time.time()}
            if self.figure:
                data["figure"] = self.figure
            try:
                write_json(self.json_path, data)
            except OSError:
                pass  # progress is a courtesy; the measurement goes on


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle)
    os.rename(tmp, path)


class MemorySampler(threading.Thread):
    """Samples device memory (and the engine processes' share of it) through NVML.

    The engine's processes are found once, after start-up, by the run marker _proc puts in every
    descendant's environment; after that each sample is a few NVML calls (ctypes releases the GIL,
    so the engine's front-end loop in this process is not held up).
    """

    def __init__(self, nvml_mod, proc_mod, binding_paths, interval):
        threading.Thread.__init__(self)
        self.daemon = True
        self.nvml_mod = nvml_mod
        self.proc_mod = proc_mod
        self.binding_paths = binding_paths
        self.interval = interval
        self.stop_event = threading.Event()
        self.pids = set()
        self.reason = None
        self.gpus = []
        self.samples = 0
        self.ready = threading.Event()

    def refresh_pids(self):
        marker = os.environ.get(self.proc_mod.MARKER_VAR)
        if marker:
            self.pids = set(self.proc_mod.processes_with_marker(marker)) | set([os.getpid()])

    def run(self):
        nvml, reason = self.nvml_mod.load_binding(self.binding_paths)
        if nvml is None:
            self.reason = reason
            self.ready.set()
            return
        try:
            nvml.nvmlInit()
        except Exception as exc:  # pylint: disable=broad-except
            self.reason = "NVML could not be initialised: %s" % exc
            self.ready.set()
            return
        try:
            reader = self.nvml_mod.Reader(nvml)
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
            for index, handle in enumerate(handles):
                used, total = self.nvml_mod.memory_used_mib(reader, handle)
                name = reader.get("nvmlDeviceGetName", handle)
                if isinstance(name, bytes):
                    name = name.decode("utf-8", "replace")
                self.gpus.append({"index": index, "name": name, "total_mib": total, "baseline_used_mib": used,
                                  "peak_used_mib": used, "engine_peak_mib": None})
            self.ready.set()
            while True:
                self.sample(reader, handles)
                if self.stop_event.wait(self.interval):
                    self.sample(reader, handles)
                    break
        except Exception as exc:  # pylint: disable=broad-except
            self.reason = "NVML sampling stopped: %s" % exc
        finally:
            self.ready.set()
            try:
                nvml.nvmlShutdown()
            except Exception:  # pylint: disable=broad-except
                pass

    def sample(self, reader, handles):
        self.samples += 1
        for gpu, handle in zip(self.gpus, handles):
            used, _total = self.nvml_mod.memory_used_mib(reader, handle)
            if used is not None and (gpu["peak_used_mib"] is None or used > gpu["peak_used_mib"]):
                gpu["peak_used_mib"] = used
            if self.pids:
                per_pid = self.nvml_mod.process_memory_mib(reader, handle)
                mine = [mib for pid, mib in per_pid.items() if pid in self.pids]
                if mine:
                    total = sum(mine)
                    if gpu["engine_peak_mib"] is None or total > gpu["engine_peak_mib"]:
                        gpu["engine_peak_mib"] = total

    def finish(self):
        self.stop_event.set()
        self.join(10)
        return {"gpus": self.gpus, "reason": self.reason, "samples": self.samples}


def special_ids_of(llm):
    ids = set()
    try:
        hf_config = llm.llm_engine.model_config.hf_config
        for key in ("bos_token_id", "eos_token_id", "pad_token_id", "unk_token_id", "decoder_start_token_id"):
            value = getattr(hf_config, key, None)
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, (list, tuple)):
                ids.update(v for v in value if isinstance(v, int))
    except Exception:  # pylint: disable=broad-except
        pass
    try:
        tokenizer = llm.get_tokenizer()
        ids.update(getattr(tokenizer, "all_special_ids", None) or [])
    except Exception:  # pylint: disable=broad-except
        pass
    return ids


def vocab_size_of(llm):
    model_config = llm.llm_engine.model_config
    try:
        return int(model_config.get_vocab_size())
    except Exception:  # pylint: disable=broad-except
        return int(model_config.hf_config.vocab_size)


def max_model_len_of(llm):
    try:
        return int(llm.llm_engine.model_config.max_model_len)
    except Exception:  # pylint: disable=broad-except
        return None


def run_workload(llm, vllm_api, bench, workload, seed, detokenize, num_warmups, vocab, special):
    sampling_params_cls, tokens_prompt = vllm_api
    out = {"name": workload["name"], "num_prompts": workload["num_prompts"], "input_len": workload["input_len"],
           "output_len": workload["output_len"]}

    def requests(count, request_seed):
        prompts = bench.random_token_prompts(count, workload["input_len"], vocab, special, request_seed)
        return ([tokens_prompt(prompt_token_ids=p) for p in prompts],
                [sampling_params_cls(n=1, temperature=1.0, top_p=1.0, ignore_eos=True,
                                     max_tokens=workload["output_len"], detokenize=detokenize)
                 for _prompt in prompts])

    if num_warmups:
        # As vllm bench throughput --num-warmups: same shape, seed + 1, not timed.
        warm_prompts, warm_params = requests(num_warmups, seed + 1)
        llm.generate(warm_prompts, warm_params, use_tqdm=False)
    prompts, params = requests(workload["num_prompts"], seed)
    start = time.perf_counter()
    outputs = llm.generate(prompts, params, use_tqdm=False)
    elapsed = time.perf_counter() - start

    prompt_tokens = 0
    output_tokens = 0
    ttft, e2e, tpot = [], [], []
    short = 0
    for output in outputs:
        prompt_tokens += len(output.prompt_token_ids or [])
        produced = sum(len(o.token_ids) for o in output.outputs if o is not None and o.token_ids is not None)
        output_tokens += produced
        if produced != workload["output_len"]:
            short += 1
        stats = getattr(output, "metrics", None)
        if stats is not None:
            first, end, per_token = bench.request_timings(
                getattr(stats, "first_token_latency", None), getattr(stats, "first_token_ts", None),
                getattr(stats, "last_token_ts", None), produced)
            ttft.append(first)
            e2e.append(end)
            tpot.append(per_token)
    out.update({
        "elapsed_s": round(elapsed, 4),
        "num_outputs": len(outputs),
        "prompt_tokens": prompt_tokens,
        "output_tokens": output_tokens,
        "expected_output_tokens": workload["num_prompts"] * workload["output_len"],
        "requests_with_other_length": short,
        "latency_ms": bench.distribution(e2e, 1000.0),
        "ttft_ms": bench.distribution(ttft, 1000.0),
        "tpot_ms": bench.distribution(tpot, 1000.0, 3),
        "warmup_prompts": num_warmups,
    })
    out.update(bench.throughput(len(outputs), prompt_tokens, output_tokens, elapsed))
    return out


def run_quality(llm, sampling_params_cls, quality):
    params = sampling_params_cls(n=1, temperature=0.0, max_tokens=quality["max_tokens"])
    outputs = llm.generate([q["prompt"] for q in quality["prompts"]], params, use_tqdm=False)
    items = []
    for item, output in zip(quality["prompts"], outputs):
        items.append({"prompt": item["prompt"], "expect": item["expect"], "answer": output.outputs[0].text,
                      "token_ids": list(output.outputs[0].token_ids or []),
                      "prompt_token_ids": list(getattr(output, "prompt_token_ids", None) or [])})
    return items


def shutdown(llm, timeout=15.0):
    """Stop the engine's processes politely; the module's sweep handles anything left over."""
    def stop():
        try:
            core = getattr(llm.llm_engine, "engine_core", None)
            if core is not None and hasattr(core, "shutdown"):
                try:
                    core.shutdown(timeout=timeout)
                except TypeError:
                    core.shutdown()
        except Exception:  # pylint: disable=broad-except
            pass

    thread = threading.Thread(target=stop)
    thread.daemon = True
    thread.start()
    thread.join(timeout + 5)


def main(argv):
    with open(argv[1]) as handle:
        spec = json.load(handle)
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    bench = importlib.import_module("_llm_bench")
    nvml_mod = importlib.import_module("_nvml")
    proc_mod = importlib.import_module("_proc")
    progress = Progress(spec.get("progress_path"))
    result = {"ok": False, "phase": None, "error": None, "workloads": [], "environment": {}}
    times = {}

    progress("import")
    started = time.perf_counter()
    try:
        vllm = importlib.import_module("vllm")
        from vllm import LLM, SamplingParams  # pylint: disable=import-error,import-outside-toplevel
        try:
            from vllm.inputs import TokensPrompt  # pylint: disable=import-error,import-outside-toplevel
        except ImportError:
            TokensPrompt = dict  # older vLLM: a plain {"prompt_token_ids": [...]} mapping
    except Exception as exc:  # pylint: disable=broad-except
        result.update({"phase": "import", "error": "%s: %s" % (type(exc).__name__, exc)})
        write_json(spec["result_path"], result)
        return EXIT_IMPORT
    times["import_s"] = round(time.perf_counter() - started, 2)
    env = {"vllm_version": getattr(vllm, "__version__", None), "python": sys.version.split()[0],
           "python_executable": sys.executable}
    try:
        torch = importlib.import_module("torch")
        env["torch_version"] = torch.__version__
        env["torch_cuda"] = getattr(torch.version, "cuda", None)
    except Exception:  # pylint: disable=broad-except
        pass
    result["environment"] = env

    sampler = None
    if spec.get("nvml", {}).get("enabled", True):
        sampler = MemorySampler(nvml_mod, proc_mod, spec.get("nvml", {}).get("search_paths"),
                                spec.get("nvml", {}).get("interval", 0.5))
        sampler.start()
        sampler.ready.wait(10)

    llm = None
    try:
        progress("engine_start")
        started = time.perf_counter()
        llm = LLM(**spec["llm_kwargs"])
        times["engine_start_s"] = round(time.perf_counter() - started, 2)
        if sampler is not None:
            sampler.refresh_pids()
        vocab = vocab_size_of(llm)
        special = special_ids_of(llm)
        max_len = max_model_len_of(llm)
        env["max_model_len"] = max_len
        env["vocab_size"] = vocab
        try:
            vllm_config = llm.llm_engine.vllm_config
            env["attention_backend_setting"] = str(getattr(vllm_config.attention_config, "backend", None))
            compilation = vllm_config.compilation_config
            env["compilation_mode"] = str(getattr(compilation, "mode", getattr(compilation, "level", None)))
            env["cudagraph_mode"] = str(getattr(compilation, "cudagraph_mode", None))
            env["dtype"] = str(llm.llm_engine.model_config.dtype).replace("torch.", "")
            env["max_num_seqs"] = getattr(vllm_config.scheduler_config, "max_num_seqs", None)
            env["max_num_batched_tokens"] = getattr(vllm_config.scheduler_config, "max_num_batched_tokens", None)
        except Exception:  # pylint: disable=broad-except
            pass

        progress("generate")
        for workload in spec["workloads"]:
            needed = workload["input_len"] + workload["output_len"]
            if max_len is not None and needed > max_len:
                raise ValueError("workload %s needs %d tokens per request (input_len + output_len), more than "
                                 "max_model_len %d" % (workload["name"], needed, max_len))
            progress("generate", workload["name"])
            result["workloads"].append(run_workload(
                llm, (SamplingParams, TokensPrompt), bench, workload, spec.get("seed", 0) + 1000 * len(result["workloads"]),
                spec.get("detokenize", True), spec.get("num_warmups", 0), vocab, special))
            progress("generate", "%s done" % workload["name"], result["workloads"][-1].get("output_tokens_per_s"), "output tok/s")

        if spec.get("quality"):
            progress("quality")
            result["quality"] = run_quality(llm, SamplingParams, spec["quality"])
        result["ok"] = True
        result["phase"] = "done"
    except Exception as exc:  # pylint: disable=broad-except
        result.update({"phase": progress.phase, "error": "%s: %s" % (type(exc).__name__, exc)})
    finally:
        if sampler is not None:
            result["gpu_memory"] = sampler.finish()
        result["times"] = times
        write_json(spec["result_path"], result)
        progress("shutdown")
        if llm is not None:
            shutdown(llm)
        progress("exit")
    return EXIT_OK if result["ok"] else EXIT_FAILED


if __name__ == "__main__":
    sys.stdout.flush()
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # vLLM's atexit hooks can wait on its engine processes; the result is written, so leave now.
    # The module's ChildRun sweeps whatever is still running with this run's marker.
    os._exit(code)
