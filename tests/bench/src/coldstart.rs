//! Cold start of each function binary: the time from spawning the process to its first
//! `GET /2018-06-01/runtime/invocation/next`, against a minimal fake Lambda Runtime API on 127.0.0.1.
//! That request is the moment a function is ready for its first event: tracing set up, the AWS config
//! loaded, the context built. The fake API never answers it; the process is killed once it has asked.
//!
//! The binaries are the native release builds in `target/release/` (`scripts/bench.sh` builds them).
//! The environment is the one the SAM template gives, with placeholder values: nothing is contacted
//! before the first event, so no AWS endpoint is needed (the AWS region is set; credentials are looked
//! up lazily and none are given).
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::timing::median;

/// The function binaries measured.
pub(crate) const FUNCTIONS: [&str; 4] = ["employees", "time-entries", "absences", "api"];

/// One function's figures.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ColdStart {
    pub function: String,
    pub binary_bytes: u64,
    pub samples: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
}

/// Where cargo put the release binaries (honours `CARGO_TARGET_DIR`).
pub(crate) fn release_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_string());
    Path::new(&target).join("release")
}

/// The environment the template gives the functions, with placeholders.
fn function_env(command: &mut Command, runtime_api: &str, name: &str) {
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "eu-central-1")
        .env("TABLE_NAME", "bench")
        .env("SCHEDULE_GROUP", "bench")
        .env("SCHEDULER_ROLE_ARN", "arn:aws:iam::000000000000:role/bench")
        .env(
            "EMPLOYEES_FUNCTION_ARN",
            "arn:aws:lambda:eu-central-1:000000000000:function:employees",
        )
        .env(
            "TIME_ENTRIES_FUNCTION_ARN",
            "arn:aws:lambda:eu-central-1:000000000000:function:time-entries",
        )
        .env(
            "ABSENCES_FUNCTION_ARN",
            "arn:aws:lambda:eu-central-1:000000000000:function:absences",
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
}

/// Time from spawn to the first `invocation/next` of one process; `None` if it never asked within 10 s.
fn once(binary: &Path, name: &str) -> anyhow::Result<Option<Duration>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut line = String::new();
            if BufReader::new(&stream).read_line(&mut line).is_ok()
                && line.starts_with("GET ")
                && line.contains("/runtime/invocation/next")
            {
                let _ = tx.send(Instant::now());
                // Hold the connection open until the process is killed.
                std::thread::sleep(Duration::from_secs(2));
                return;
            }
        }
    });
    let mut command = Command::new(binary);
    function_env(&mut command, &addr, name);
    let started = Instant::now();
    let mut child = command.spawn()?;
    let asked = rx.recv_timeout(Duration::from_secs(10)).ok();
    let _ = child.kill();
    let _ = child.wait();
    Ok(asked.map(|at| at.duration_since(started)))
}

/// Measures every function binary found, `samples` times each.
pub(crate) fn measure(samples: usize) -> anyhow::Result<Vec<ColdStart>> {
    let dir = release_dir();
    let mut out = Vec::new();
    for name in FUNCTIONS {
        let binary = dir.join(name);
        let Ok(meta) = std::fs::metadata(&binary) else {
            eprintln!("bench: {} not built, skipped", binary.display());
            continue;
        };
        // One unmeasured start warms the page cache, as a Lambda's image is local before it starts.
        once(&binary, name)?;
        let mut times = Vec::new();
        for _ in 0..samples {
            match once(&binary, name)? {
                Some(t) => times.push(t),
                None => anyhow::bail!("{name} never asked for an invocation within 10 s"),
            }
        }
        let min = times.iter().min().copied().unwrap_or_default();
        let max = times.iter().max().copied().unwrap_or_default();
        let mid = median(&mut times);
        out.push(ColdStart {
            function: name.to_string(),
            binary_bytes: meta.len(),
            samples,
            median_ms: mid.as_secs_f64() * 1e3,
            min_ms: min.as_secs_f64() * 1e3,
            max_ms: max.as_secs_f64() * 1e3,
        });
    }
    Ok(out)
}
