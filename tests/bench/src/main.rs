//! `make bench`: the project's speed and memory figures, measured here and never asserted in tests.
//!
//! 1. planner throughput and memory (`shared::engine::plan` over the testkit's fake kind, 1k–50k pairs);
//! 2. fingerprint cost per record of the three real canonical values;
//! 3. an end-to-end scheduled time-entries sync against the in-process simulators, with the clients'
//!    default rate limit and without it;
//! 4. each workflow at company scale, run kind after run kind, against the minimum requests and the
//!    rate-limit bound (issue 16): time entries ([`scale`]: `scale-N`, `paced-N`), absences
//!    ([`absence_scale`]: `absences-N`, `absences-paced-N`) and employees ([`employee_scale`]:
//!    `employees-N`, `employees-paced-N`), for any company size N.
//!
//! Prints Markdown tables (readable in a terminal, pasteable into `docs/performance.md`). Run it as a
//! release build: `cargo run --release -p bench` (`scripts/bench.sh` does). Options:
//! `--quick` (small sizes, a smoke run), `--only planner|fingerprint|e2e|e2e-default|e2e-unthrottled`;
//! sizes of the end-to-end part from `BENCH_E2E_PEOPLE` (default 200), `BENCH_E2E_DAYS` (20) and
//! `BENCH_E2E_THROTTLED_PEOPLE` (10). Each part runs in a child process of its own (`--part`, internal).
mod absence_scale;
mod coldstart;
mod e2e;
mod employee_scale;
mod fingerprint_bench;
mod memory;
mod planner_bench;
mod scale;
mod timing;
mod webhooks;
mod workflow_run;

use std::time::Duration;

use memory::CountingAllocator;
use timing::{bytes, human};

/// Counts every allocation of the process (see [`memory`]).
#[global_allocator]
pub static ALLOCATOR: CountingAllocator = CountingAllocator::new();

/// The measured parts, in the order they run. Each runs in a child process of its own (`--part`), so that
/// its peak RSS is not raised by memory an earlier part left in the allocator's free lists.
const PARTS: [&str; 20] = [
    "cold-start",
    "planner",
    "fingerprint",
    "scale-100",
    "scale-1000",
    "scale-5000",
    "paced-100",
    "absences-100",
    "absences-1000",
    "absences-5000",
    "absences-paced-100",
    "employees-100",
    "employees-1000",
    "employees-5000",
    "employees-paced-100",
    "e2e-default",
    "e2e-unthrottled",
    "webhooks",
    "absences-paced-1000",
    "employees-paced-1000",
];

/// The parts `make bench` runs when no `--only` is given: the old end-to-end parts (a fixed 10 req/s
/// client against a 200-person company) are covered by the scale parts and run only when asked for;
/// the 5,000-person parts only when asked for (`--only scale-5000`, `--only absences-5000`, …): they run
/// for many minutes on a shared 2-core machine and their processes hold hundreds of megabytes (both
/// simulators keep every record and every request of a run), see docs/performance.md; the paced
/// absences and employees parts above 100 people (read-only kinds) likewise.
fn default_part(part: &str) -> bool {
    !part.starts_with("e2e-")
        && !part.ends_with("-5000")
        && part != "webhooks"
        && !matches!(part, "absences-paced-1000" | "employees-paced-1000")
}

/// Which workflow a company-scale part measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScaleWorkflow {
    TimeEntries,
    Absences,
    Employees,
}

impl ScaleWorkflow {
    /// The name in the JSON file (`bench/<name>-<mode>-<people>.json`).
    fn name(self) -> &'static str {
        match self {
            ScaleWorkflow::TimeEntries => "time-entries",
            ScaleWorkflow::Absences => "absences",
            ScaleWorkflow::Employees => "employees",
        }
    }
}

/// A company-scale part: `scale-N` / `paced-N` (time entries), `absences-N` / `absences-paced-N`,
/// `employees-N` / `employees-paced-N`, for any company size N > 0.
fn scale_part(name: &str) -> Option<(ScaleWorkflow, scale::Mode, usize)> {
    let size = |n: &str| n.parse::<usize>().ok().filter(|n| *n > 0);
    let sized = |workflow, rest: &str| match rest.strip_prefix("paced-") {
        Some(n) => size(n).map(|n| (workflow, scale::Mode::Paced, n)),
        None => size(rest).map(|n| (workflow, scale::Mode::Unpaced, n)),
    };
    if let Some(rest) = name.strip_prefix("absences-") {
        return sized(ScaleWorkflow::Absences, rest);
    }
    if let Some(rest) = name.strip_prefix("employees-") {
        return sized(ScaleWorkflow::Employees, rest);
    }
    match name.split_once('-') {
        Some(("scale", n)) => {
            size(n).map(|n| (ScaleWorkflow::TimeEntries, scale::Mode::Unpaced, n))
        }
        Some(("paced", n)) => size(n).map(|n| (ScaleWorkflow::TimeEntries, scale::Mode::Paced, n)),
        _ => None,
    }
}

/// Any company-scale part, of any size (e.g. `--only scale-300` for the cost curve).
fn sized_scale_part(name: &str) -> bool {
    scale_part(name).is_some()
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    quick: bool,
    /// `--only`: a part name, or `e2e` for both end-to-end parts.
    only: Option<String>,
    /// `--part` (internal): this process is the child that measures exactly this part.
    part: Option<String>,
}

impl Options {
    fn parse(args: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut options = Options {
            quick: false,
            only: None,
            part: None,
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--only" | "--part" => {
                    let name = args
                        .next()
                        .ok_or_else(|| anyhow::anyhow!("{arg} needs a part name"))?;
                    let known = PARTS.contains(&name.as_str())
                        || sized_scale_part(&name)
                        || (arg == "--only" && (name == "e2e" || name == "scale"));
                    if !known {
                        anyhow::bail!(
                            "{arg} {name}: expected one of {}{}",
                            PARTS.join(", "),
                            if arg == "--only" { ", e2e, scale" } else { "" }
                        );
                    }
                    if arg == "--only" {
                        options.only = Some(name);
                    } else {
                        options.part = Some(name);
                    }
                }
                other => anyhow::bail!(
                    "unknown argument {other}; usage: bench [--quick] [--only {}|e2e]",
                    PARTS.join("|")
                ),
            }
        }
        Ok(options)
    }

    /// Whether the parent runs `part`.
    fn runs(&self, part: &str) -> bool {
        match self.only.as_deref() {
            None => default_part(part),
            Some("e2e") => part.starts_with("e2e-"),
            Some("scale") => scale_part(part).is_some(),
            Some(only) => only == part,
        }
    }
}

fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={v}: {e}")),
        _ => Ok(default),
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn kib(v: Option<u64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |k| bytes(k * 1024))
}

fn per_second(records: usize, wall: Duration) -> String {
    let secs = wall.as_secs_f64();
    if secs > 0.0 {
        format!("{:.0}", records as f64 / secs)
    } else {
        "n/a".to_string()
    }
}

fn planner_heading() {
    println!("## 1. Planner (`shared::engine::plan`, FakeKind, direction both)\n");
    println!("| pairs | mix | median wall | median CPU | pairs/s | heap peak (plan) | allocations | peak RSS | plan |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---|");
}

fn planner(quick: bool) {
    let sizes: &[(usize, usize)] = if quick {
        &[(1_000, 3), (5_000, 3)]
    } else {
        &[(1_000, 15), (10_000, 9), (50_000, 5), (100_000, 3)]
    };
    for &(n, iterations) in sizes {
        for mix in planner_bench::Mix::ALL {
            let r = planner_bench::measure(mix, n, iterations);
            println!(
                "| {} | {} | {} (of {}) | {} | {} | {} | {} | {} | {} |",
                r.pairs,
                r.mix.label(),
                human(r.median),
                r.iterations,
                r.median_cpu.map_or_else(|| "n/a".to_string(), human),
                per_second(r.pairs, r.median),
                bytes(r.heap.peak_bytes as u64),
                r.heap.allocations,
                kib(r.peak_rss_kib),
                r.summary.describe()
            );
        }
    }
}

const FINGERPRINT_PER_ROUND: usize = 20_000;
const FINGERPRINT_ROUNDS: usize = 7;

fn fingerprint_heading() {
    println!("## 2. Fingerprint per record (`shared::engine::fingerprint`)\n");
    println!("| canonical value | canonical JSON | time per record | records/s | allocations per record |");
    println!("|---|---:|---:|---:|---:|");
}

fn fingerprints(quick: bool) -> anyhow::Result<()> {
    let (per_round, rounds) = if quick {
        (FINGERPRINT_PER_ROUND / 10, 3)
    } else {
        (FINGERPRINT_PER_ROUND, FINGERPRINT_ROUNDS)
    };
    for r in fingerprint_bench::measure(per_round, rounds)? {
        println!(
            "| `{}` | {} B | {} | {} | {:.1} |",
            r.value,
            r.canonical_bytes,
            human(r.per_record),
            per_second(1, r.per_record),
            r.allocations_per_record
        );
    }
    Ok(())
}

fn end_to_end_heading() {
    println!(
        "## 3. End to end: scheduled time-entries sync (WorkflowService + TimeEntriesBinding, simulators, {})\n",
        e2e::store_label()
    );
    println!("Attendances exist in TimeTrack only; run 1 creates them in Personio, run 2 finds all in sync.\n");
    println!("| clients | people × days = entries | run | wall | entries/s | Personio requests | TimeTrack requests | writes | status | heap peak | peak RSS |");
    println!("|---|---|---|---:|---:|---:|---:|---|---|---:|---:|");
}

fn end_to_end(quick: bool, throttled: bool) -> anyhow::Result<()> {
    let days = env_usize("BENCH_E2E_DAYS", 20)?;
    let people = if throttled {
        env_usize("BENCH_E2E_THROTTLED_PEOPLE", if quick { 2 } else { 10 })?
    } else {
        env_usize("BENCH_E2E_PEOPLE", if quick { 20 } else { 200 })?
    };
    let config = e2e::E2eConfig {
        people,
        days,
        throttled,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let r = runtime.block_on(e2e::measure(config))?;
    for (name, run) in [("1 (create)", &r.first), ("2 (no-op)", &r.second)] {
        println!(
            "| {} | {} × {} = {} | {} | {} | {} | {} | {} | {} | {:?} | {} | {} |",
            config.label(),
            config.people,
            config.days,
            r.entries,
            name,
            human(run.wall),
            per_second(r.entries, run.wall),
            run.personio_requests,
            run.timetrack_requests,
            run.describe_writes(),
            run.status,
            bytes(run.heap.peak_bytes as u64),
            kib(r.peak_rss_kib)
        );
    }
    if r.personio_work_periods != r.entries || r.first.failures > 0 {
        println!(
            "\n**warning**: {} of {} entries arrived in Personio, {} failures in run 1\n",
            r.personio_work_periods, r.entries, r.first.failures
        );
    }
    Ok(())
}

fn scale_heading() {
    println!("## 3. Company scale: scheduled time-entries, absences and employees syncs, run after run (issue 16)\n");
    println!("Minimum = pages at the maximum page size + 1 token + one write per needed change + one confirmation GET per record missing from a listing; bound = the minimum at the advertised rates (Personio attendance and absence periods 10 req/s, persons 30 req/s, TimeTrack 10 req/s; bursts of the same size). Unpaced: no latency, no limits (bound computed). Paced: 20 ms per request, Personio limits on, client defaults. Rows labelled `absences:` / `employees:` are those workflows (records: absences / people), the others time entries. Heap peak: the whole process; function heap peak: the function's threads only (the simulators run on threads of their own), the in-memory store included.\n");
    println!("| people | mode | run | entries P / T | requests | minimum | ratio | writes | wall | bound | wall/bound | CPU | heap peak | function heap peak | peak RSS | store |");
    println!("|---:|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|");
}

fn describe_writes(
    writes: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
) -> String {
    let parts: Vec<String> = writes
        .iter()
        .flat_map(|(side, actions)| actions.iter().map(move |(a, n)| format!("{side} {a} {n}")))
        .collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

/// One company size in one mode; prints the rows and writes `bench/time-entries-<mode>-<people>.json`.
fn scale(part: &str, quick: bool) -> anyhow::Result<()> {
    let (workflow, mode, people) =
        scale_part(part).ok_or_else(|| anyhow::anyhow!("unknown part {part}"))?;
    let people = if quick { (people / 50).max(2) } else { people };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let results = match workflow {
        ScaleWorkflow::TimeEntries => runtime.block_on(scale::measure(people, mode))?,
        ScaleWorkflow::Absences => runtime.block_on(absence_scale::measure(people, mode))?,
        ScaleWorkflow::Employees => runtime.block_on(employee_scale::measure(people, mode))?,
    };
    for r in &results {
        println!(
            "| {} | {:?} | {} | {} / {} | {} | {} | {:.3} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.people,
            r.mode,
            r.label,
            r.personio_entries,
            r.timetrack_entries,
            r.requests,
            r.minimum_total,
            r.ratio,
            describe_writes(&r.writes),
            human(Duration::from_secs_f64(r.wall_ms / 1e3)),
            human(Duration::from_secs_f64(r.rate_limit_bound_ms / 1e3)),
            r.wall_over_bound.map_or_else(|| "–".to_string(), |x| format!("{x:.2}")),
            human(Duration::from_secs_f64(r.cpu_ms / 1e3)),
            bytes(r.heap_peak_bytes),
            r.own_heap_peak_bytes.map_or_else(|| "–".to_string(), bytes),
            kib(r.peak_rss_kib),
            scale::store_label(r.people),
        );
    }
    let dir = std::env::var("BENCH_JSON_DIR").unwrap_or_else(|_| "bench".to_string());
    if !quick && !dir.trim().is_empty() {
        std::fs::create_dir_all(&dir)?;
        let mode = match mode {
            scale::Mode::Unpaced => "unpaced",
            scale::Mode::Paced => "paced",
        };
        let path = format!("{dir}/{}-{mode}-{people}.json", workflow.name());
        let document = serde_json::json!({
            "measured_at": jiff::Timestamp::now().to_string(),
            "cpu": cpu_model(),
            "store": scale::store_label(people),
            "runs": results,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&document)? + "\n")?;
        eprintln!("bench: written {path}");
    }
    Ok(())
}

fn cold_start(quick: bool) -> anyhow::Result<()> {
    println!("## 0. Cold start: process start to the first `GET /runtime/invocation/next` (native release build, fake Runtime API)\n");
    println!("| function | binary (x86_64) | median | min | max | samples |");
    println!("|---|---:|---:|---:|---:|---:|");
    let samples = if quick { 3 } else { 21 };
    let results = coldstart::measure(samples)?;
    for r in &results {
        println!(
            "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
            r.function,
            bytes(r.binary_bytes),
            r.median_ms,
            r.min_ms,
            r.max_ms,
            r.samples
        );
    }
    let dir = std::env::var("BENCH_JSON_DIR").unwrap_or_else(|_| "bench".to_string());
    if !quick && !dir.trim().is_empty() && !results.is_empty() {
        std::fs::create_dir_all(&dir)?;
        let document = serde_json::json!({
            "measured_at": jiff::Timestamp::now().to_string(),
            "cpu": cpu_model(),
            "functions": results,
        });
        let path = format!("{dir}/cold-start.json");
        std::fs::write(&path, serde_json::to_string_pretty(&document)? + "\n")?;
        eprintln!("bench: written {path}");
    }
    println!();
    Ok(())
}

/// Measures one part in this process (the child's job).
fn run_part(part: &str, quick: bool) -> anyhow::Result<()> {
    match part {
        "cold-start" => cold_start(quick)?,
        "planner" => planner(quick),
        "fingerprint" => fingerprints(quick)?,
        "e2e-default" => end_to_end(quick, true)?,
        "e2e-unthrottled" => end_to_end(quick, false)?,
        "webhooks" => webhooks::run(quick)?,
        p if scale_part(p).is_some() => scale(p, quick)?,
        other => anyhow::bail!("unknown part {other}"),
    }
    Ok(())
}

/// Runs one part in a fresh child process whose output goes straight to ours.
fn spawn_part(part: &str, quick: bool) -> anyhow::Result<()> {
    use std::io::Write;
    std::io::stdout().flush()?;
    let mut child = std::process::Command::new(std::env::current_exe()?);
    child.args(["--part", part]);
    if quick {
        child.arg("--quick");
    }
    let status = child.status()?;
    if !status.success() {
        anyhow::bail!("part {part} failed ({status})");
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse(std::env::args().skip(1))?;
    if let Some(part) = &options.part {
        memory::reset_peak_rss();
        return run_part(part, options.quick);
    }
    let profile = if cfg!(debug_assertions) {
        "DEBUG build — figures are not representative, use --release"
    } else {
        "release"
    };
    println!("# Benchmark of the Personio ⇄ TimeTrack sync\n");
    println!(
        "- date: {}\n- cpu: {} ({} logical cores available)\n- build: {profile}\n- peak-RSS reset per section: {}\n",
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC"),
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if memory::reset_peak_rss() {
            "yes (/proc/self/clear_refs); each part runs in its own process"
        } else {
            "no (figures are the process peak so far); each part runs in its own process"
        }
    );
    if options.runs("cold-start") {
        spawn_part("cold-start", options.quick)?;
    }
    if options.runs("planner") {
        planner_heading();
        spawn_part("planner", options.quick)?;
        println!();
    }
    if options.runs("fingerprint") {
        fingerprint_heading();
        spawn_part("fingerprint", options.quick)?;
        println!("\n(median round of {FINGERPRINT_ROUNDS} rounds; {FINGERPRINT_PER_ROUND} records per round, --quick: a tenth)\n");
    }
    let mut scale_parts: Vec<&str> = PARTS
        .iter()
        .copied()
        .filter(|p| scale_part(p).is_some() && options.runs(p))
        .collect();
    if let Some(only) = options.only.as_deref() {
        if sized_scale_part(only) && !PARTS.contains(&only) {
            scale_parts.push(only);
        }
    }
    if !scale_parts.is_empty() {
        scale_heading();
        for part in scale_parts {
            spawn_part(part, options.quick)?;
        }
        println!("\n(CPU, heap and RSS: the whole process, both simulators included; function heap peak: the function's threads; each size in a process of its own)\n");
    }
    if options.runs("e2e-default") || options.runs("e2e-unthrottled") {
        end_to_end_heading();
        for part in ["e2e-default", "e2e-unthrottled"] {
            if options.runs(part) {
                spawn_part(part, options.quick)?;
            }
        }
        println!("\n(peak RSS: the whole process of the part over both runs, both simulators included)\n");
    }
    if options.runs("webhooks") {
        spawn_part("webhooks", options.quick)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Options> {
        Options::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn options() {
        let o = parse(&["--quick", "--only", "e2e"]).unwrap();
        assert!(o.quick && o.runs("e2e-default") && o.runs("e2e-unthrottled"));
        assert!(!o.runs("planner") && !o.runs("fingerprint"));
        let all = parse(&[]).unwrap();
        assert!(!all.quick && PARTS.iter().all(|p| all.runs(p) == default_part(p)));
        assert!(all.runs("scale-1000") && all.runs("paced-100") && !all.runs("e2e-default"));
        assert!(
            !all.runs("scale-5000") && parse(&["--only", "scale-5000"]).unwrap().runs("scale-5000")
        );
        let scale = parse(&["--only", "scale"]).unwrap();
        assert!(scale.runs("scale-100") && scale.runs("paced-100") && !scale.runs("planner"));
        let one = parse(&["--only", "fingerprint"]).unwrap();
        assert!(one.runs("fingerprint") && !one.runs("planner"));
        let child = parse(&["--part", "e2e-default"]).unwrap();
        assert_eq!(child.part.as_deref(), Some("e2e-default"));
        assert!(parse(&["--part", "e2e"]).is_err());
        assert!(parse(&["--only"]).is_err());
        assert!(parse(&["--only", "everything"]).is_err());
        assert!(parse(&["--fast"]).is_err());
        let sized = parse(&["--only", "scale-300"]).unwrap();
        assert!(sized.runs("scale-300") && !sized.runs("scale-100"));
        assert!(parse(&["--only", "scale-x"]).is_err() && parse(&["--only", "scale-0"]).is_err());
    }

    /// The absences and employees parts: 100 and 1,000 unpaced and paced 100 by default, 5,000 and the
    /// larger paced sizes when asked for, any size by name.
    #[test]
    fn workflow_scale_parts() {
        let all = parse(&[]).unwrap();
        for part in [
            "absences-100",
            "absences-1000",
            "absences-paced-100",
            "employees-100",
            "employees-1000",
            "employees-paced-100",
        ] {
            assert!(all.runs(part), "{part}");
        }
        for part in [
            "absences-5000",
            "employees-5000",
            "absences-paced-1000",
            "employees-paced-1000",
        ] {
            assert!(!all.runs(part), "{part}");
            assert!(parse(&["--only", part]).unwrap().runs(part), "{part}");
        }
        let sized = parse(&["--only", "employees-paced-5000"]).unwrap();
        assert!(sized.runs("employees-paced-5000") && !sized.runs("employees-paced-100"));
        let scale_only = parse(&["--only", "scale"]).unwrap();
        assert!(scale_only.runs("employees-100") && scale_only.runs("absences-paced-100"));
        assert!(!scale_only.runs("webhooks"));
        for bad in [
            "employees",
            "employees-0",
            "employees-paced-x",
            "absences-paced-",
        ] {
            assert!(parse(&["--only", bad]).is_err(), "{bad}");
        }
        assert_eq!(
            scale_part("employees-paced-300"),
            Some((ScaleWorkflow::Employees, scale::Mode::Paced, 300))
        );
        assert_eq!(
            scale_part("absences-5000"),
            Some((ScaleWorkflow::Absences, scale::Mode::Unpaced, 5000))
        );
        assert_eq!(
            scale_part("paced-100"),
            Some((ScaleWorkflow::TimeEntries, scale::Mode::Paced, 100))
        );
        assert_eq!(
            scale_part("scale-1000"),
            Some((ScaleWorkflow::TimeEntries, scale::Mode::Unpaced, 1000))
        );
    }

    #[test]
    fn throughput_formatting() {
        assert_eq!(per_second(500, Duration::from_millis(250)), "2000");
        assert_eq!(per_second(1, Duration::ZERO), "n/a");
        assert_eq!(kib(Some(2048)), "2.0 MiB");
        assert_eq!(kib(None), "n/a");
    }
}
