#!/usr/bin/env bash
# Creates the project-local Python virtualenv (.venv) with the pinned tools the Make targets use:
# moto_server (local AWS), cfn-lint (template checks), cargo-lambda + ziglang (Lambda builds); and for the
# console's browser tests Debian's chromium + chromium-driver (when missing) and axe-core (npm ci).
# Idempotent: a stamp file records the requirements it was built from, so a second run is instant.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
REQ=scripts/requirements.txt
STAMP="$VENV/.requirements.sha256"

# The console's browser tests: Debian's Chromium and chromedriver, and the pinned axe-core
# (tests/console/package-lock.json) they inject into every page.
# npm only when there is none: a machine whose Node.js comes from elsewhere (NodeSource ships npm inside
# its nodejs package) cannot take Debian's npm beside it (apt refuses: "nodejs : Conflicts: npm").
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    pkgs="chromium chromium-driver"
    command -v npm >/dev/null || pkgs="$pkgs npm"
    echo "setup: installing $pkgs (Debian packages)"
    apt-get update -qq
    # shellcheck disable=SC2086 # the package list is meant to split
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
  else
    echo "setup: the console's browser tests need: sudo apt-get install chromium chromium-driver npm" >&2
  fi
fi
CONSOLE=tests/console
CONSOLE_STAMP="$CONSOLE/node_modules/.package-lock.sha256"
console_want=$(sha256sum "$CONSOLE/package-lock.json" | cut -d' ' -f1)
if command -v npm >/dev/null && { [ ! -f "$CONSOLE_STAMP" ] || [ "$(cat "$CONSOLE_STAMP")" != "$console_want" ]; }; then
  echo "setup: npm ci in $CONSOLE (axe-core for the accessibility checks)"
  npm ci --prefix "$CONSOLE" --no-audit --no-fund --silent
  echo "$console_want" > "$CONSOLE_STAMP"
fi

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
