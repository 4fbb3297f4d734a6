#!/usr/bin/env bash
# Fuzzes the HTTP API with schemathesis against its own OpenAPI document (functions/api/openapi.json):
# the real `api --listen` binary, DynamoDB / Secrets Manager / Scheduler on moto, both simulators. Fails
# on any 5xx, any answer whose status is not declared for its operation, any error answer that is not
# an application/problem+json problem (scripts/fuzz_api_checks.py, undeclared statuses such as 405
# included), any body that does not match its declared schema, and any request that violates the
# schema but is accepted. Bounded by FUZZ_MAX_TIME seconds of fuzzing (default 60).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
: "${AWS_ENDPOINT_URL:?run under scripts/with-moto.sh}"
CARGO="${CARGO:-cargo}"
venv="$root/.venv/schemathesis"
python="$root/.venv/bin/python"
run_dir="$root/.run/fuzz-api"
max_time="${FUZZ_MAX_TIME:-60}"
rm -rf "$run_dir" && mkdir -p "$run_dir"

pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ "$status" -eq 0 ] || echo "fuzz-api: failed (exit $status); logs in $run_dir" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# wait_for NAME URL PID: polls until the server answers (any HTTP status) or its process died.
wait_for() {
  for _ in $(seq 1 300); do
    if "$python" - "$2" <<'PY' 2>/dev/null; then return 0; fi
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
PY
    kill -0 "$3" 2>/dev/null || { echo "fuzz-api: $1 exited; its log:" >&2; cat "$run_dir/$1.log" >&2; return 1; }
    sleep 0.2
  done
  echo "fuzz-api: $1 did not become ready; see $run_dir/$1.log" >&2
  return 1
}

"$CARGO" build --quiet --bin api --bin simulators --bin demo

personio_port=$(free_port)
timetrack_port=$(free_port)
api_port=$(free_port)
today=$(TZ=Europe/Berlin date +%F)
target/debug/simulators --personio-port "$personio_port" --timetrack-port "$timetrack_port" --today "$today" \
  >"$run_dir/simulators.log" 2>&1 &
pids+=($!)
wait_for simulators "http://127.0.0.1:$timetrack_port/_sim/state" "${pids[-1]}"

# What a deployment creates (table, secret, settings, schedule group), as the demo does.
export TABLE_NAME=personio-timetrack-sync-fuzz SECRET_PREFIX=personio-timetrack-sync-fuzz
export PERSONIO_BASE_URL="http://127.0.0.1:$personio_port"
export TIMETRACK_BASE_URL="http://127.0.0.1:$timetrack_port/{account}/api/v2/ext"
export SCHEDULE_GROUP=personio-timetrack-sync-fuzz
export SCHEDULER_ROLE_ARN=arn:aws:iam::123456789012:role/personio-timetrack-sync-fuzz-scheduler
export EMPLOYEES_FUNCTION_ARN=arn:aws:lambda:eu-central-1:123456789012:function:fuzz-employees
export TIME_ENTRIES_FUNCTION_ARN=arn:aws:lambda:eu-central-1:123456789012:function:fuzz-time-entries
export ABSENCES_FUNCTION_ARN=arn:aws:lambda:eu-central-1:123456789012:function:fuzz-absences
export DEMO_INTEGRATION_ID=fuzz FUZZ_INTEGRATION_ID=fuzz
export SIM_PERSONIO_URL="$PERSONIO_BASE_URL" SIM_TIMETRACK_URL="http://127.0.0.1:$timetrack_port"
export RUST_LOG="${RUST_LOG:-warn}"
target/debug/demo setup >"$run_dir/setup.log" 2>&1 || { cat "$run_dir/setup.log" >&2; exit 1; }

target/debug/api --listen "127.0.0.1:$api_port" >"$run_dir/api.log" 2>&1 &
pids+=($!)
wait_for api "http://127.0.0.1:$api_port/openapi.json" "${pids[-1]}"

echo "fuzz-api: schemathesis against http://127.0.0.1:$api_port (integration fuzz, ${max_time}s)"
# Run from the run directory: schemathesis keeps a cache of failures there (.schemathesis/), replayed
# first by a later run; the run directory is fresh every time, so each run stands on its own.
cd "$run_dir"
set +e
SCHEMATHESIS_HOOKS="$root/scripts/fuzz_api_checks.py" "$venv/bin/schemathesis" --config-file "$root/scripts/schemathesis.toml" run \
  "http://127.0.0.1:$api_port/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,errors_are_problems \
  --max-time "$max_time" --request-timeout 30 --workers 1 --seed "${FUZZ_SEED:-20261207}" \
  --generation-allow-x00 false \
  --report junit,ndjson --report-dir "$run_dir" --no-color 2>&1 | tee "$run_dir/schemathesis.log"
status=${PIPESTATUS[0]}
set -e
# The answers schemathesis recorded, by status (its summary counts test cases, not requests).
"$python" - "$run_dir" <<'PY'
import collections, glob, re, sys
counts = collections.Counter()
for path in glob.glob(sys.argv[1] + "/ndjson-*.ndjson"):
    with open(path) as f:
        counts.update(int(s) for s in re.findall(r'"status_code":\s*(\d+)', f.read()))
print("fuzz-api: %d answers recorded: %s" % (
    sum(counts.values()), ", ".join("%d×%d" % (k, v) for k, v in sorted(counts.items()))))
PY
exit "$status"
