#!/usr/bin/env bash
# The one-command demo (`make demo`): the real function binaries, run by `cargo lambda watch` and invoked
# the way AWS would, against moto_server (DynamoDB, Secrets Manager, Scheduler) and the Personio and
# TimeTrack simulators seeded with the demo company — all on 127.0.0.1, offline.
#
#   1. make setup; build the simulators, the demo helper and the function binaries (debug)
#   2. start moto_server and the simulators on free ports
#   3. `demo setup`: table, secret, settings, schedule group and schedules, the webhook queues (SQS FIFO
#      with DLQs) — what a deployment creates
#   4. `cargo lambda watch`, then invoke: scheduled employees → time-entries → absences, a manual payroll
#      push of last month's time entries (API Gateway event); `demo edit` changes records in both systems
#      (one each way and a conflict); an absences dry run shows the plan, a second scheduled round applies
#      it, and a third finds nothing left to do
#   5. a webhook: the api function serves the receiver (`api --listen`), `PUT .../webhooks` registers it
#      with the Personio simulator, an attendance period is changed in Personio, the simulator delivers,
#      the receiver enqueues on the FIFO queue on moto, and the queued batch is handed to the time-entries
#      function as an event source mapping would; `demo webhook report` tells the story and the latency
#   6. `demo report`: every run record, and what changed in both systems
#   7. with CONSOLE=1 (`make console`): a Cognito user pool on moto with an admin user, and the api
#      function serving the web console on 127.0.0.1 against this stack until Ctrl-C
#
# Repeatable: every run starts fresh processes on new ports and a fresh .run/demo/. Everything started
# here runs in its own process group and is stopped by that id on exit, whatever the exit status.
# Exits non-zero when an invocation failed (the report is printed anyway).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$root/.venv/bin:$PATH"
CARGO="${CARGO:-cargo}"

run_dir="$root/.run/demo"
integration=demo
functions=(employees time-entries absences)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# ------------------------------------------------------------------------------------------- cleanup
pids=()
watch_started=0
cleanup() {
  local status=$?
  # cargo lambda watch runs each function in a process group of its own and logs its id: stop those too.
  if [ "$watch_started" = 1 ] && [ -f "$run_dir/watch.log" ]; then
    for pgid in $(grep -o 'pgid=[0-9]*' "$run_dir/watch.log" | cut -d= -f2 | sort -u); do
      kill -TERM -- "-$pgid" 2>/dev/null || true
    done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM -- "-${pids[i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [ "$status" -eq 0 ] || echo "demo: failed (exit $status); logs in $run_dir" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: runs CMD in its own process group (setsid), output to $run_dir/NAME.log
start() {
  local name=$1
  shift
  setsid "$@" >"$run_dir/$name.log" 2>&1 &
  pids+=($!)
}

free_port() {
  python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for NAME URL|tcp:PORT PID [TRIES]: polls until the server answers (any HTTP status) or its process died
wait_for() {
  local name=$1 target=$2 pid=$3 tries=${4:-300}
  for _ in $(seq 1 "$tries"); do
    if python - "$target" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys, urllib.request, urllib.error
t = sys.argv[1]
if t.startswith("tcp:"):
    socket.create_connection(("127.0.0.1", int(t[4:])), timeout=1).close()
else:
    try:
        urllib.request.urlopen(t, timeout=1)
    except urllib.error.HTTPError:
        pass
PY
    kill -0 "$pid" 2>/dev/null || { echo "demo: $name exited; its log:" >&2; cat "$run_dir/$name.log" >&2; return 1; }
    sleep 0.2
  done
  echo "demo: $name did not become ready; see $run_dir/$name.log" >&2
  return 1
}

# --------------------------------------------------------------------------------------- 1. build
say "1/6 setup and build"
make --no-print-directory setup
rm -rf "$run_dir"
mkdir -p "$run_dir/events"

present=()
for f in "${functions[@]}"; do
  if [ -f "functions/$f/Cargo.toml" ]; then present+=("$f"); else echo "demo: functions/$f does not exist yet; its steps are skipped"; fi
done
bin_args=(--bin simulators --bin demo --bin api)
for f in "${present[@]}"; do bin_args+=(--bin "$f"); done
"$CARGO" build --quiet "${bin_args[@]}"

# ------------------------------------------------------------------------------ 2. moto + simulators
say "2/6 start moto_server and the simulators"
moto_port=$(free_port)
personio_port=$(free_port)
timetrack_port=$(free_port)
watch_port=$(free_port)
today=$(TZ=Europe/Berlin date +%F)

start moto moto_server -H 127.0.0.1 -p "$moto_port"
wait_for moto "http://127.0.0.1:$moto_port/moto-api/" "${pids[-1]}"
start simulators "$root/target/debug/simulators" --personio-port "$personio_port" --timetrack-port "$timetrack_port" --today "$today"
wait_for simulators "http://127.0.0.1:$timetrack_port/_sim/state" "${pids[-1]}"
echo "moto_server http://127.0.0.1:$moto_port · Personio sim http://127.0.0.1:$personio_port · TimeTrack sim http://127.0.0.1:$timetrack_port · today $today"

# The environment of a deployed function (infra/template.yaml Globals), pointed at the local services.
cat >"$run_dir/functions.env" <<EOF
AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port
AWS_ACCESS_KEY_ID=test
AWS_SECRET_ACCESS_KEY=test
AWS_REGION=eu-central-1
AWS_DEFAULT_REGION=eu-central-1
AWS_EC2_METADATA_DISABLED=true
TABLE_NAME=personio-timetrack-sync-demo
SECRET_PREFIX=personio-timetrack-sync
PERSONIO_BASE_URL=http://127.0.0.1:$personio_port
TIMETRACK_BASE_URL=http://127.0.0.1:$timetrack_port/{account}/api/v2/ext
SCHEDULE_GROUP=personio-timetrack-sync-demo
SCHEDULER_ROLE_ARN=arn:aws:iam::123456789012:role/personio-timetrack-sync-demo-scheduler
EMPLOYEES_FUNCTION_ARN=arn:aws:lambda:eu-central-1:123456789012:function:personio-timetrack-sync-demo-employees
TIME_ENTRIES_FUNCTION_ARN=arn:aws:lambda:eu-central-1:123456789012:function:personio-timetrack-sync-demo-time-entries
ABSENCES_FUNCTION_ARN=arn:aws:lambda:eu-central-1:123456789012:function:personio-timetrack-sync-demo-absences
RUST_LOG=info
EOF
set -a
# shellcheck disable=SC1091
. "$run_dir/functions.env"
set +a
export DEMO_INTEGRATION_ID=$integration
export SIM_PERSONIO_URL="http://127.0.0.1:$personio_port" SIM_TIMETRACK_URL="http://127.0.0.1:$timetrack_port"

# ------------------------------------------------------------------------------ 3. deployment state
say "3/6 create what a deployment would (demo setup)"
"$root/target/debug/demo" setup "$run_dir/queues.env"
# The webhook queues' URLs, as the template passes them to the functions and the api.
cat "$run_dir/queues.env" >>"$run_dir/functions.env"
set -a
# shellcheck disable=SC1091
. "$run_dir/queues.env"
set +a
"$root/target/debug/demo" snapshot "$run_dir/before.json"

# ------------------------------------------------------------------------- 4. functions and invokes
say "4/6 run the function binaries under cargo lambda watch and invoke them"
watch_started=1
start watch cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
  --env-file "$run_dir/functions.env" --timeout 900
wait_for watch "tcp:$watch_port" "${pids[-1]}" 600

# Event fixtures: the dates of the payroll push are last month's, filled in here.
month_start=$(TZ=Europe/Berlin date +%Y-%m-01)
last_from=$(date -d "$month_start -1 month" +%F)
last_to=$(date -d "$month_start -1 day" +%F)
sed -e "s/@FROM@/$last_from/" -e "s/@TO@/$last_to/" tests/fixtures/events/demo-apigw-time-entries-push.json \
  >"$run_dir/events/time-entries-push.json"

failures=0
step=0
# invoke FUNCTION EVENT_FILE TITLE
invoke() {
  local fn=$1 file=$2 title=$3
  step=$((step + 1))
  if [[ ! " ${present[*]} " == *" $fn "* ]]; then
    printf '  [%02d] %-44s skipped (functions/%s not built yet)\n' "$step" "$title" "$fn"
    return 0
  fi
  local out="$run_dir/invoke-$step-$fn.json"
  if cargo lambda invoke "$fn" --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
    --data-file "$file" --output-format json >"$out" 2>"$run_dir/invoke-$step-$fn.err"; then
    printf '  [%02d] %-44s %s\n' "$step" "$title" "$(python - "$out" <<'PY'
import json, sys
try:
    v = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"unreadable answer: {e}"); sys.exit()
if isinstance(v, dict) and "batchItemFailures" in v:
    print(f"queue batch handled, {len(v['batchItemFailures'])} message(s) reported failed")
elif isinstance(v, dict) and "statusCode" in v:
    body = v.get("body") or ""
    try:
        b = json.loads(body)
    except Exception:
        b = {}
    print(f"HTTP {v['statusCode']} run {b.get('run_id', '-')} {b.get('status', b.get('title', ''))}")
elif isinstance(v, dict):
    print(f"run {v.get('run_id', '-')} {v.get('status', '')}")
else:
    print(str(v)[:120])
PY
)"
  else
    failures=$((failures + 1))
    printf '  [%02d] %-44s FAILED: %s\n' "$step" "$title" "$(tr '\n' ' ' <"$run_dir/invoke-$step-$fn.err" | cut -c1-300)"
  fi
}

scheduled=tests/fixtures/events/demo-scheduled.json
invoke employees "$scheduled" "scheduled employees"
invoke time-entries "$scheduled" "scheduled time entries"
invoke absences "$scheduled" "scheduled absences"
invoke time-entries "$run_dir/events/time-entries-push.json" "manual payroll push $last_from..$last_to"
echo "  edits between runs, through both systems' APIs:"
"$root/target/debug/demo" edit
invoke absences tests/fixtures/events/demo-apigw-absences-dry-run.json "manual absences dry run (shows the plan)"
invoke employees "$scheduled" "scheduled employees (2nd round)"
invoke time-entries "$scheduled" "scheduled time entries (2nd round)"
invoke absences "$scheduled" "scheduled absences (2nd round: the edits)"
invoke absences "$scheduled" "scheduled absences (3rd round: nothing left)"

# ------------------------------------------------------------------------------ 5. a webhook (issue 14)
# The api function serves the receiver locally (as `make console` does); the Personio simulator delivers
# to it, it enqueues on the FIFO queue on moto, and the queued batch goes to the time-entries function the
# way Lambda's event source mapping hands it over.
say "5/6 a change in Personio, carried to TimeTrack by a webhook"
api_port=$(free_port)
WEBHOOK_RECEIVER_BASE_URL="http://127.0.0.1:$api_port" start api "$root/target/debug/api" --listen "127.0.0.1:$api_port"
wait_for api "http://127.0.0.1:$api_port/integrations/$integration/webhooks" "${pids[-1]}"
webhook_dir="$run_dir/webhook"
mkdir -p "$webhook_dir"
if "$root/target/debug/demo" webhook register "http://127.0.0.1:$api_port" &&
  "$root/target/debug/demo" webhook edit "$webhook_dir" &&
  "$root/target/debug/demo" webhook wait "$webhook_dir"; then
  invoke time-entries "$webhook_dir/sqs-event.json" "the queued webhook batch (SQS event)"
  if ! "$root/target/debug/demo" webhook report "$webhook_dir" "$run_dir/invoke-$step-time-entries.json" |
    tee "$webhook_dir/report.txt"; then
    failures=$((failures + 1))
  fi
else
  failures=$((failures + 1))
  echo "demo: the webhook step failed; see $run_dir/api.log and $run_dir/watch.log" >&2
fi

# ---------------------------------------------------------------------------------------- 6. report
say "6/6 report"
"$root/target/debug/demo" report "$run_dir/before.json" | tee "$run_dir/report.txt"

if [ "$failures" -gt 0 ]; then
  echo "demo: $failures invocation(s) failed; see $run_dir/invoke-*.err and $run_dir/watch.log" >&2
  exit 1
fi
if [ "${CONSOLE:-0}" != 1 ]; then
  echo "demo: done (logs and the report in $run_dir)"
  echo "demo: 'make console' runs this demo and then leaves the web console serving on 127.0.0.1"
  exit 0
fi

# ------------------------------------------------------------------------------------ 6. the console
say "7/7 the web console (Cognito on moto)"
"$root/target/debug/demo" console-users "$run_dir/console.env"
console_port=${CONSOLE_PORT:-$(free_port)}
set -a
# shellcheck disable=SC1091
. "$run_dir/console.env"
set +a
export CONSOLE_INTEGRATIONS=$integration
start console "$root/target/debug/api" --listen "127.0.0.1:$console_port"
wait_for console "http://127.0.0.1:$console_port/console/sign-in" "${pids[-1]}"
printf '\n  The console: http://127.0.0.1:%s/console\n' "$console_port"
printf '  Sign in as hr.admin with the temporary password Demo-Start-2026!\n'
printf '  (the first sign-in asks for a new password). The demo runs are on the Runs page;\n'
printf '  try Sync now -> Preview. Ctrl-C stops everything.\n'
wait "${pids[-1]}"
