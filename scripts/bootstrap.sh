#!/usr/bin/env bash
# Create (or refresh) the development venv .venv from requirements-dev.txt with a Python 3.12+.
# Idempotent: does nothing when .venv already matches requirements-dev.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
stamp="$VENV/.requirements.sha256"
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
py=$(scripts/find-python.sh)
echo "bootstrap: creating $VENV with $py ($("$py" --version 2>&1))"
rm -rf "$VENV"
"$py" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements-dev.txt
echo "$want" > "$stamp"
echo "bootstrap: $VENV ready ($("$VENV/bin/ansible" --version | head -1))"
