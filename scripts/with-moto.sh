#!/usr/bin/env bash
# Runs a command with a fresh moto_server (local AWS: DynamoDB, Secrets Manager, Scheduler) on a free
# 127.0.0.1 port, and the AWS environment pointing at it. moto is stopped by its PID when the command
# ends, whatever its exit status.
#   usage: scripts/with-moto.sh COMMAND [ARGS...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
[ -x "$venv/bin/moto_server" ] || { echo "with-moto: $venv/bin/moto_server missing; run 'make setup'" >&2; exit 2; }
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$root/.run"
log="$root/.run/moto-$port.log"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
cleanup() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$moto_pid" 2>/dev/null || { echo "with-moto: moto_server exited; see $log" >&2; cat "$log" >&2; exit 2; }
  sleep 0.2
done
echo "with-moto: moto_server pid $moto_pid on http://127.0.0.1:$port"
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION="${AWS_REGION:-eu-central-1}"
export AWS_DEFAULT_REGION="$AWS_REGION" AWS_EC2_METADATA_DISABLED=true
set +e
"$@"
status=$?
set -e
exit $status
