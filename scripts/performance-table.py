#!/usr/bin/env python3
"""The company-scale table of docs/performance.md, from the JSON `make bench` wrote under bench/.

One row per workflow, company size and run kind. Requests, minimum, ratio, writes, CPU and memory come
from the unpaced run (full size, no latency, no limits); wall time and wall / bound from the paced run
(20 ms per request, Personio's limits on and advertised, the clients' defaults) where one was measured.

    usage: scripts/performance-table.py [bench-dir]
"""
import json
import pathlib
import sys

WORKFLOWS = ["time-entries", "absences", "employees"]
SIZES = [100, 1000, 5000]


def load(directory, workflow, mode, people):
    path = directory / f"{workflow}-{mode}-{people}.json"
    if not path.exists():
        return None, {}
    data = json.loads(path.read_text())
    runs = {}
    for run in data["runs"]:
        runs.setdefault(run["kind"], run)
    return data, runs


def seconds(ms):
    if ms is None:
        return "–"
    s = ms / 1000
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 120:
        return f"{s / 60:.1f} min"
    if s >= 10:
        return f"{s:.0f} s"
    if s >= 1:
        return f"{s:.1f} s"
    return f"{ms:.0f} ms"


def mib(n):
    return "–" if n is None else f"{n / 2**20:.1f} MiB"


def writes(run):
    parts = []
    for side, actions in sorted(run["writes"].items()):
        for action, n in sorted(actions.items()):
            parts.append(f"{'P' if side == 'personio' else 'T'} {action} {n:,}")
    return ", ".join(parts) or "none"


def label(run):
    text = run["label"]
    for prefix in ("absences: ", "employees: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text


def main():
    directory = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench")
    print(
        "| workflow | people | run | requests | minimum | ratio | API writes | bound | paced wall | "
        "wall / bound | CPU (unpaced) | function heap peak | whole-process heap peak |"
    )
    print("|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    sources = []
    for workflow in WORKFLOWS:
        for people in SIZES:
            unpaced_file, unpaced = load(directory, workflow, "unpaced", people)
            paced_file, paced = load(directory, workflow, "paced", people)
            for name, data in (("unpaced", unpaced_file), ("paced", paced_file)):
                if data:
                    sources.append(f"{workflow}-{name}-{people}: {data['measured_at'][:16]} UTC")
            for kind, run in unpaced.items():
                fast = paced.get(kind)
                ratio_over = fast.get("wall_over_bound") if fast else None
                print(
                    "| {} | {:,} | {} | {:,} | {:,} | {:.3f} | {} | {} | {} | {} | {} | {} | {} |".format(
                        workflow,
                        people,
                        label(run),
                        run["requests"],
                        run["minimum_total"],
                        run["ratio"],
                        writes(run),
                        seconds(run["rate_limit_bound_ms"]),
                        seconds(fast["wall_ms"]) if fast else "not run",
                        f"{ratio_over:.2f}" if ratio_over is not None else "–",
                        seconds(run["cpu_ms"]),
                        mib(run.get("own_heap_peak_bytes")),
                        mib(run["heap_peak_bytes"]),
                    )
                )
    print()
    print("Measured: " + "; ".join(sources) + ".")


if __name__ == "__main__":
    main()
