# -*- coding: utf-8 -*-
"""Where the stand-in AI venv (torch CPU build, made by scripts/ai-venv.sh) lives, for the tests
that run real torch workers on the CPU. scripts/test.sh exports VAULTCUBE_AI_PYTHON; a direct
pytest run finds the checkout's .venv-ai from the source copy under build/src."""

import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def ai_python():
    path = os.environ.get("VAULTCUBE_AI_PYTHON")
    if path:
        return path
    for root in (COLLECTION_ROOT, os.path.join(COLLECTION_ROOT, "..", "..", "..", "..", "..")):
        candidate = os.path.abspath(os.path.join(root, ".venv-ai", "bin", "python"))
        if os.access(candidate, os.X_OK):
            return candidate
    return None


AI_PYTHON = ai_python()
needs_torch = pytest.mark.skipif(
    AI_PYTHON is None, reason="no AI test venv: run scripts/ai-venv.sh or set VAULTCUBE_AI_PYTHON (scripts/test.sh does)")
