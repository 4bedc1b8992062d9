# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Worker of llm_quality (and of vllm_bench's real-weight presets): prepares a preset's model folder
and, on request, answers prompts with transformers.

The module writes this file (as worker_main.py) with a copy of _llm_models.py into a private
directory and starts it with ``python worker_main.py SPEC.json`` under the AI venv's interpreter
(_proc.ChildRun). The spec says what to do:

* ``prepare``: {preset, cache_dir, sources}: find the preset's GGUF (model_source, else this
  interpreter's site-packages, else the wheelhouse), and convert it into ``cache_dir/<preset>``
  unless a complete conversion is already there (_llm_models.prepare);
* ``generate``: {model (a folder), prompts, max_tokens, device, dtype}: greedy decoding with
  transformers, one prompt at a time, recording the text, the output token ids (for the comparison
  with vLLM), the prompt's token ids and the time.

Only the standard library is imported at the top, so the module and ``ansible-test sanity`` can
import this file. The result goes to the spec's result_path as JSON, the phase to progress_path.
"""

from __future__ import absolute_import, division, print_function

import importlib
import json
import os
import sys
import time

EXIT_OK = 0
EXIT_FAILED = 4


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle)
    os.rename(tmp, path)


def phase_writer(path):
    def phase(name):
        if path:
            with open(path, "a") as handle:
                handle.write("%s %.3f\n" % (name, time.time()))
    return phase


def pick_device(torch, wanted):
    if wanted in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("device %s was asked for, but this torch (%s) sees no CUDA GPU" % (wanted, torch.__version__))
    return wanted


def pick_dtype(torch, wanted, device):
    if wanted in (None, "auto"):
        return torch.float16 if device.startswith("cuda") else torch.float32
    return {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[wanted]


def generate(spec, result):
    torch = importlib.import_module("torch")
    transformers = importlib.import_module("transformers")
    device = pick_device(torch, spec.get("device"))
    dtype = pick_dtype(torch, spec.get("dtype"), device)
    started = time.perf_counter()
    tokenizer = transformers.AutoTokenizer.from_pretrained(spec["model"])
    model = transformers.AutoModelForCausalLM.from_pretrained(spec["model"], dtype=dtype).to(device)
    model.eval()
    load_s = time.perf_counter() - started
    items = []
    tokens = 0
    gen_s = 0.0
    for item in spec["prompts"]:
        encoded = tokenizer(item["prompt"], return_tensors="pt").to(device)
        prompt_len = encoded["input_ids"].shape[1]
        started = time.perf_counter()
        with torch.no_grad():
            output = model.generate(**encoded, max_new_tokens=spec["max_tokens"], do_sample=False, num_beams=1,
                                    pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id)
        gen_s += time.perf_counter() - started
        # Like vLLM's output token_ids, these keep the end-of-sequence token generate() stopped at
        # (the text leaves it out), so the two engines' lists compare one to one.
        ids = [int(t) for t in output[0][prompt_len:]]
        tokens += len(ids)
        items.append({"prompt": item["prompt"], "expect": item["expect"],
                      "answer": tokenizer.decode(ids, skip_special_tokens=True), "token_ids": ids,
                      "prompt_token_ids": [int(t) for t in encoded["input_ids"][0]]})
    result["generate"] = {
        "items": items, "device": device, "dtype": str(dtype).replace("torch.", ""), "load_s": round(load_s, 2),
        "generate_s": round(gen_s, 3), "output_tokens": tokens,
        "output_tokens_per_s": round(tokens / gen_s, 1) if gen_s > 0 else None,
        "gpu_name": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
    }
    result["environment"].update({"torch_version": torch.__version__, "transformers_version": transformers.__version__})


def main(argv):
    with open(argv[1]) as handle:
        spec = json.load(handle)
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    models = importlib.import_module("_llm_models")
    phase = phase_writer(spec.get("progress_path"))
    environment = {"python": sys.version.split()[0], "python_executable": sys.executable}
    result = {"ok": False, "phase": None, "error": None, "environment": environment}
    current = "start"
    try:
        if spec.get("prepare"):
            current = "prepare"
            phase(current)
            prep = spec["prepare"]
            result["prepare"] = models.prepare(prep["preset"], prep["cache_dir"], prep.get("sources"),
                                               search_path=[p for p in sys.path if p != here])
            spec.setdefault("generate", None)
            if spec["generate"] is not None:
                spec["generate"]["model"] = result["prepare"]["folder"]
        if spec.get("generate"):
            current = "generate"
            phase(current)
            generate(spec["generate"], result)
        result["ok"] = True
        result["phase"] = "done"
    except models.ModelError as exc:
        result.update({"phase": current, "error": str(exc), "model_error": True})
    except Exception as exc:  # pylint: disable=broad-except
        result.update({"phase": current, "error": "%s: %s" % (type(exc).__name__, exc)})
    write_json(spec["result_path"], result)
    phase("exit")
    return EXIT_OK if result["ok"] else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv))  # pylint: disable=ansible-bad-function
