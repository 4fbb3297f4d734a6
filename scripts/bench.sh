#!/usr/bin/env bash
# `make bench`: builds the benchmark in release mode and runs it (planner, fingerprints, end-to-end
# time-entries sync against the in-process simulators). Prints Markdown tables; the figures recorded in
# docs/performance.md ("## Benchmarks") come from this script. No moto and no network needed.
#   usage: scripts/bench.sh [--quick] [--only planner|fingerprint|e2e]
#   sizes: BENCH_E2E_PEOPLE (200), BENCH_E2E_DAYS (20), BENCH_E2E_THROTTLED_PEOPLE (10)
#   output is also written to .run/bench-<UTC timestamp>.md
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo="${CARGO:-cargo}"
mkdir -p .run
out=".run/bench-$(date -u +%Y%m%dT%H%M%SZ).md"
"$cargo" build --release -p bench
{
  echo "<!-- $(rustc --version); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//') -->"
  "$cargo" run --release --quiet -p bench -- "$@"
} | tee "$out"
echo "bench: written to $out" >&2
