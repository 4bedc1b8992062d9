"""Fake vLLM for tests (see ../README.md). Not a measurement of anything."""
import os

if os.environ.get("FAKE_VLLM_FAIL") == "import":
    raise ImportError("libcudart.so.13: cannot open shared object file: No such file or directory")

from vllm._fake import LLM, SamplingParams  # noqa: E402,F401

__version__ = "0.0.0+fake"
