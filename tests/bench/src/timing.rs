//! Wall-clock measurement: a stopwatch and the median of repeated runs. The median, not the mean, so
//! that one iteration disturbed by another process on this shared 2-core machine does not move the
//! figure. Reported, never asserted.
use std::time::{Duration, Instant};

/// A started wall-clock measurement.
pub(crate) struct Stopwatch(Instant);

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Self(Instant::now())
    }
    pub(crate) fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// CPU time this thread has run so far, from `/proc/thread-self/schedstat` (nanoseconds; Linux).
/// On a machine shared with other builds the wall time of a single-threaded section grows with the
/// load; its CPU time much less, so the planner's target ("< 0.5 s of CPU") is read from this.
pub(crate) fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Runs `once` `iterations` times (at least once) and returns the median of the durations it reports.
pub(crate) fn median_of(iterations: usize, mut once: impl FnMut() -> Duration) -> Duration {
    let mut samples: Vec<Duration> = (0..iterations.max(1)).map(|_| once()).collect();
    median(&mut samples)
}

/// The median of `samples` (the mean of the middle two for an even count); zero for none.
pub(crate) fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    match samples.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => samples[n / 2],
        n => (samples[n / 2 - 1] + samples[n / 2]) / 2,
    }
}

/// A duration for the tables: µs below a millisecond, ms below ten seconds, else seconds.
pub(crate) fn human(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1_000.0 {
        format!("{micros:.1} µs")
    } else if micros < 10_000_000.0 {
        format!("{:.2} ms", micros / 1_000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// Bytes for the tables, in KiB/MiB.
pub(crate) fn bytes(n: u64) -> String {
    if n < 1024 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn median_ignores_one_outlier_and_averages_the_middle_pair() {
        assert_eq!(median(&mut [ms(5), ms(900), ms(4), ms(6), ms(3)]), ms(5));
        assert_eq!(median(&mut [ms(8), ms(2), ms(4), ms(6)]), ms(5));
        assert_eq!(median(&mut []), Duration::ZERO);
    }

    #[test]
    fn median_of_runs_the_closure_the_requested_times() {
        let mut calls = 0;
        let m = median_of(3, || {
            calls += 1;
            ms(calls)
        });
        assert_eq!((calls, m), (3, ms(2)));
        let mut calls = 0;
        median_of(0, || {
            calls += 1;
            ms(1)
        });
        assert_eq!(calls, 1);
    }

    #[test]
    fn human_units() {
        assert_eq!(human(Duration::from_nanos(1_500)), "1.5 µs");
        assert_eq!(human(ms(12)), "12.00 ms");
        assert_eq!(human(ms(12_500)), "12.50 s");
        assert_eq!(bytes(2048), "2.0 KiB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
