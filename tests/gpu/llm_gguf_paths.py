# -*- coding: utf-8 -*-
"""GPU measurement for issue 20's choice: vLLM on the GGUF file itself (its GGUF loader, Q4_1 kernels)
versus vLLM on the folder llm_quality converts it into (float16 safetensors), same machine, same run.

  python3 tests/gpu/llm_gguf_paths.py GGUF_FILE CONVERTED_FOLDER OUT.json

Each path runs in its own process (one engine at a time): engine start-up, the five quality prompts
with greedy decoding (answers and output tokens), and 30 prompts x 32 in / 50 out with ignore_eos
(output tokens/s). The JSON holds both and the token agreement of the two paths' greedy outputs.
Needs vLLM (the bundle's env.sh) and, for the GGUF path, the gguf package.
"""
import json
import os
import signal
import subprocess
import sys
import time

PROMPTS = ["The capital of France is", "1, 2, 3, 4, 5, 6,", "Monday, Tuesday, Wednesday,", "The opposite of hot is",
           "Water is made of hydrogen and"]


def child(kind, model, tokenizer, out_path):
    from vllm import LLM, SamplingParams  # pylint: disable=import-error,import-outside-toplevel
    start = time.perf_counter()
    kwargs = {"model": model, "max_model_len": 2048, "gpu_memory_utilization": 0.3, "seed": 0}
    if tokenizer:
        # The GGUF path: weights from the .gguf, the model config and tokenizer from the folder
        # (vLLM 0.25 otherwise hands the .gguf to transformers as if it were a config.json).
        kwargs["tokenizer"] = tokenizer
        kwargs["hf_config_path"] = tokenizer
    llm = LLM(**kwargs)
    load_s = time.perf_counter() - start
    greedy = llm.generate(PROMPTS, SamplingParams(temperature=0.0, max_tokens=24), use_tqdm=False)
    answers = [{"prompt": p, "answer": o.outputs[0].text, "token_ids": list(o.outputs[0].token_ids)} for p, o in zip(PROMPTS, greedy)]
    prompts = [{"prompt_token_ids": [100 + (i * 37 + j) % 40000 for j in range(32)]} for i in range(30)]
    llm.generate(prompts[:2], SamplingParams(max_tokens=8, ignore_eos=True), use_tqdm=False)  # warm-up
    start = time.perf_counter()
    outs = llm.generate(prompts, SamplingParams(temperature=1.0, top_p=1.0, max_tokens=50, ignore_eos=True), use_tqdm=False)
    elapsed = time.perf_counter() - start
    tokens = sum(len(o.outputs[0].token_ids) for o in outs)
    with open(out_path, "w") as handle:
        json.dump({"path": kind, "model": model, "load_s": round(load_s, 2), "answers": answers, "output_tokens": tokens,
                   "output_tokens_per_s": round(tokens / elapsed, 1), "dtype": str(llm.llm_engine.model_config.dtype)}, handle)
    os._exit(0)


def agreement(a, b):
    agreeing = compared = 0
    for x, y in zip(a, b):
        n = 0
        while n < min(len(x), len(y)) and x[n] == y[n]:
            n += 1
        agreeing += n
        compared += max(len(x), len(y))
    return round(agreeing / float(compared), 3) if compared else None


def main(argv):
    if argv[1] == "--child":
        return child(argv[2], argv[3], argv[4] or None, argv[5])
    gguf, folder, out = argv[1], argv[2], argv[3]
    results = {}
    for kind, model, tokenizer in (("converted_folder", folder, ""), ("gguf", gguf, folder)):
        path = out + "." + kind
        t0 = time.time()
        # A session of its own and a log file, not pipes: vLLM's EngineCore outlives the child's
        # os._exit and would hold a pipe open; the whole group is killed once the child is done.
        with open(path + ".log", "w") as log:
            proc = subprocess.Popen([sys.executable, __file__, "--child", kind, model, tokenizer, path], stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            try:
                rc = proc.wait(timeout=300)
            except subprocess.TimeoutExpired:
                rc = "timeout"
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(3)  # let the driver release the killed engine's memory
        if rc != 0 or not os.path.exists(path):
            with open(path + ".log") as log:
                results[kind] = {"error": log.read()[-3000:], "rc": rc}
        else:
            with open(path) as handle:
                results[kind] = json.load(handle)
        results[kind]["wall_s"] = round(time.time() - t0, 1)
    if "answers" in results.get("gguf", {}) and "answers" in results.get("converted_folder", {}):
        results["greedy_token_agreement"] = agreement([a["token_ids"] for a in results["converted_folder"]["answers"]],
                                                      [a["token_ids"] for a in results["gguf"]["answers"]])
    with open(out, "w") as handle:
        json.dump(results, handle, indent=1)
    for kind in ("converted_folder", "gguf"):
        r = results[kind]
        print(kind, {k: r.get(k) for k in ("load_s", "output_tokens_per_s", "dtype", "wall_s", "rc")},
              [a["answer"][:40] for a in r.get("answers", [])] or r.get("error", "")[-800:])
    print("greedy token agreement:", results.get("greedy_token_agreement"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
