# -*- coding: utf-8 -*-
"""Test doubles for vllm_bench and demobox-chat, at their boundaries.

* fake_server(): the OpenAI-compatible SSE server (a real process on a real socket); its source
  lives with the integration target that also uses it,
  tests/integration/targets/vllm_bench/files/fake_openai_server.py.
* fake_vllm_pythonpath(): a `vllm` package shell over fake_vllm_engine.py, for PYTHONPATH.
"""

import contextlib
import os
import subprocess
import sys
import time

SERVER = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "integration", "targets", "vllm_bench", "files",
                                      "fake_openai_server.py"))
HERE = os.path.abspath(os.path.dirname(__file__))

# The `vllm` package shell: each module re-exports names from fake_vllm_engine.py (which holds all
# the logic, so that it is linted and covered like any test helper).
_SHELL = {
    "vllm/__init__.py": "from fake_vllm_engine import LLM, SamplingParams, __version__  # noqa: F401\n",
    "vllm/inputs.py": "from fake_vllm_engine import TextPrompt, TokensPrompt  # noqa: F401\n",
    "vllm/utils/__init__.py": "",
    "vllm/utils/argparse_utils.py": "from fake_vllm_engine import FlexibleArgumentParser  # noqa: F401\n",
    "vllm/benchmarks/__init__.py": "",
    "vllm/benchmarks/throughput.py": "from fake_vllm_engine import add_cli_args, main  # noqa: F401\n",
}


def fake_vllm_pythonpath(directory):
    """Write the fake `vllm` package into ``directory``; return the PYTHONPATH that imports it."""
    for name, text in _SHELL.items():
        path = os.path.join(str(directory), name)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, "w") as handle:
            handle.write(text)
    return os.pathsep.join([str(directory), HERE])


@contextlib.contextmanager
def fake_server(directory, *args):
    """Yield the base URL (http://127.0.0.1:PORT/v1) of a fresh server; stop it afterwards."""
    port_file = os.path.join(str(directory), "port-%d" % time.time_ns())
    proc = subprocess.Popen([sys.executable, SERVER, "--port-file", port_file] + [str(a) for a in args])
    try:
        deadline = time.time() + 20
        while not os.path.exists(port_file):
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.05)
        with open(port_file) as handle:
            yield "http://127.0.0.1:%s/v1" % handle.read().strip()
    finally:
        proc.terminate()
        proc.wait(10)


def closed_port():
    """A TCP port on 127.0.0.1 that nothing listens on."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


if __name__ == "__main__":  # python llm_fakes.py DIR -> prints the PYTHONPATH (tests/gpu/vllm_bench.sh's dry run)
    print(fake_vllm_pythonpath(sys.argv[1]))
