#!/usr/bin/env bash
# Creates the project-local Python virtualenv (.venv) with the pinned tools the Make targets use:
# moto_server (local AWS), cfn-lint (template checks), cargo-lambda + ziglang (Lambda builds).
# Idempotent: a stamp file records the requirements it was built from, so a second run is instant.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
REQ=scripts/requirements.txt
STAMP="$VENV/.requirements.sha256"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi
echo "setup: creating $VENV from $REQ"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
echo "$want" > "$STAMP"
echo "setup: done ($("$VENV/bin/moto_server" --version 2>/dev/null || echo moto), $("$VENV/bin/cfn-lint" --version), $("$VENV/bin/cargo-lambda" lambda --version 2>/dev/null || echo cargo-lambda))"
