#!/usr/bin/env bash
# `make bench`: builds the benchmark and the function binaries in release mode and runs it: cold start of
# each function, planner, fingerprints, the time-entries sync at company scale (100 / 1,000 / 5,000
# people; unpaced and paced), the absences sync with a year of absences and the employees sync (100 /
# 1,000 people unpaced, 100 paced; 5,000 and larger paced sizes when asked for). Prints Markdown tables; writes JSON to bench/ (checked in) and the tables
# to .run/bench-<UTC timestamp>.md. The figures in docs/performance.md come from this script.
# Under scripts/with-moto.sh the 100-person runs use DynamoStore on moto (BENCH_MOTO_MAX_PEOPLE).
#   usage: scripts/bench.sh [--quick] [--only cold-start|planner|fingerprint|scale|scale-N|paced-N|absences-N|absences-paced-N|employees-N|employees-paced-N|e2e|webhooks]
#   (the -N parts: any company size, e.g. --only scale-300 for the cost curve, --only employees-5000)
# `--only webhooks` (issue 14: Personio requests per webhook-driven change and change-to-write latency for
# a 300-person company, receiver → SQS FIFO → consumer) needs moto: started here when AWS_ENDPOINT_URL is
# not set.
#   --quick: smoke sizes, no JSON written
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo="${CARGO:-cargo}"
mkdir -p .run
out=".run/bench-$(date -u +%Y%m%dT%H%M%SZ).md"
# The benchmark is built with the previous release settings ("s", thin LTO, unwind): a fat-LTO build of
# the benchmark takes most of an hour on a 2-core machine. docs/performance.md says which figures this
# affects (CPU and cold start are of this build, sizes of `make build`).
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-s}"
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-thin}"
export CARGO_PROFILE_RELEASE_PANIC="${CARGO_PROFILE_RELEASE_PANIC:-unwind}"
# Two builds: the benchmark alone (as `cargo run -p bench` resolves its features) and the functions.
"$cargo" build --release -p employees -p time-entries -p absences -p api
"$cargo" build --release -p bench
runner=()
for arg in "$@"; do
  if [ "$arg" = webhooks ] && [ -z "${AWS_ENDPOINT_URL:-}" ]; then runner=(scripts/with-moto.sh); fi
done
{
  echo "<!-- $(rustc --version); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//') -->"
  "${runner[@]}" "$cargo" run --release --quiet -p bench -- "$@"
} | tee "$out"
echo "bench: written to $out" >&2
