# -*- coding: utf-8 -*-
"""Start the test suite's OpenAI-compatible SSE server (a real process on a real socket).

The server itself lives with the integration target that also uses it:
tests/integration/targets/vllm_bench/files/fake_openai_server.py.
"""

import contextlib
import os
import subprocess
import sys
import time

SERVER = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "integration", "targets", "vllm_bench", "files",
                                      "fake_openai_server.py"))
FAKE_VLLM = os.path.abspath(os.path.join(os.path.dirname(__file__), "fake_vllm"))


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
