//! Memory measurement, two ways, because each alone misleads:
//!
//! - [`CountingAllocator`], the binary's global allocator, counts allocations and tracks live and peak
//!   heap bytes. It sees exactly what Rust code allocates (so the planner's own working set can be told
//!   apart from its input), but not the allocator's overhead, stacks or mapped code.
//! - [`peak_rss_kib`] reads `VmHWM` (the kernel's resident-set high-water mark, or `VmRSS` where that is
//!   momentarily higher) from `/proc/self/status`: what a Lambda's memory setting must cover. It is process-wide and only grows, so
//!   [`reset_peak_rss`] asks the kernel to restart it (`echo 5 > /proc/self/clear_refs`, Linux ≥ 4.0)
//!   before each measured section; where that is not allowed the figure is the process peak so far and
//!   the report says so.
//!
//! The company benchmarks run both simulators in the same process. Their threads are marked
//! ([`mark_thread_foreign`]), and the allocator keeps a second count of what the *other* threads (the
//! function's) allocate: the function's own heap, which a Lambda would hold, apart from the simulators'
//! records and request work, which it would not (issue 16, 128 MB at 5,000 people).
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicU64, AtomicUsize, Ordering};

thread_local! {
    /// Whether this thread works for something other than the function under test (a simulator).
    /// `const`-initialised `Cell<bool>`: no allocation and no destructor, so the allocator may read it.
    static FOREIGN: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as not the function's: its allocations and frees leave the "own" count
/// ([`HeapUse::own_peak_bytes`]). For `tokio::runtime::Builder::on_thread_start` of the simulators'
/// runtime.
pub(crate) fn mark_thread_foreign() {
    FOREIGN.with(|f| f.set(true));
}

fn on_own_thread() -> bool {
    FOREIGN.try_with(|f| !f.get()).unwrap_or(true)
}

/// Wraps the system allocator with relaxed atomic counters (a few ns per call, the same for every
/// section, so comparisons between sections stay fair).
pub struct CountingAllocator {
    allocations: AtomicU64,
    live: AtomicUsize,
    peak: AtomicUsize,
    /// Live bytes allocated minus freed on unmarked threads. Signed: a block allocated on one kind of
    /// thread and freed on the other moves it by the other kind's share (rare here: the simulators
    /// talk to the function only through sockets).
    own_live: AtomicIsize,
    own_peak: AtomicIsize,
}

impl CountingAllocator {
    pub const fn new() -> Self {
        Self {
            allocations: AtomicU64::new(0),
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            own_live: AtomicIsize::new(0),
            own_peak: AtomicIsize::new(0),
        }
    }

    fn grow(&self, bytes: usize) {
        let live = self.live.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.peak.fetch_max(live, Ordering::Relaxed);
        if on_own_thread() {
            let bytes = isize::try_from(bytes).unwrap_or(isize::MAX);
            let own = self.own_live.fetch_add(bytes, Ordering::Relaxed) + bytes;
            self.own_peak.fetch_max(own, Ordering::Relaxed);
        }
    }

    fn shrink(&self, bytes: usize) {
        self.live.fetch_sub(bytes, Ordering::Relaxed);
        if on_own_thread() {
            let bytes = isize::try_from(bytes).unwrap_or(isize::MAX);
            self.own_live.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    /// Starts a measured section: the peak restarts from the bytes live now.
    pub fn start(&'static self) -> HeapProbe {
        let live = self.live.load(Ordering::Relaxed);
        self.peak.store(live, Ordering::Relaxed);
        let own = self.own_live.load(Ordering::Relaxed);
        self.own_peak.store(own, Ordering::Relaxed);
        HeapProbe {
            allocator: self,
            allocations_at_start: self.allocations.load(Ordering::Relaxed),
            live_at_start: live,
            own_live_at_start: own,
        }
    }
}

impl Default for CountingAllocator {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counters have no
// effect on the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged (the caller upholds `GlobalAlloc::alloc`'s contract).
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            self.allocations.fetch_add(1, Ordering::Relaxed);
            self.grow(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            self.allocations.fetch_add(1, Ordering::Relaxed);
            self.grow(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) };
        self.shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            self.allocations.fetch_add(1, Ordering::Relaxed);
            self.shrink(layout.size());
            self.grow(new_size);
        }
        new
    }
}

/// A running heap measurement (see [`CountingAllocator::start`]).
pub struct HeapProbe {
    allocator: &'static CountingAllocator,
    allocations_at_start: u64,
    live_at_start: usize,
    own_live_at_start: isize,
}

/// What a section allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapUse {
    /// Allocation calls (realloc counts as one).
    pub allocations: u64,
    /// The highest live heap above what was live when the section started.
    pub peak_bytes: usize,
    /// The same, counting only the threads not marked foreign ([`mark_thread_foreign`]): the
    /// function's own heap when the simulators run on marked threads, else the same as `peak_bytes`.
    pub own_peak_bytes: usize,
    /// The heap the unmarked threads still held at the end above the start: what the section left
    /// behind on the function's side (the in-memory store's new mappings, for a company run).
    pub own_retained_bytes: usize,
}

impl HeapProbe {
    pub fn finish(self) -> HeapUse {
        let a = self.allocator;
        HeapUse {
            allocations: a.allocations.load(Ordering::Relaxed) - self.allocations_at_start,
            peak_bytes: a
                .peak
                .load(Ordering::Relaxed)
                .saturating_sub(self.live_at_start),
            own_peak_bytes: usize::try_from(
                a.own_peak.load(Ordering::Relaxed) - self.own_live_at_start,
            )
            .unwrap_or(0),
            own_retained_bytes: usize::try_from(
                a.own_live.load(Ordering::Relaxed) - self.own_live_at_start,
            )
            .unwrap_or(0),
        }
    }
}

/// Restarts the kernel's peak-RSS counter for this process. `false` when the kernel refused (old kernel,
/// restricted /proc): `VmHWM` then keeps the peak of the whole process so far.
pub(crate) fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident set of this process in KiB: `VmHWM`, or `VmRSS` when that is higher — the kernel
/// folds its per-thread RSS counters into `VmHWM` lazily, so right after growth `VmHWM` can lag behind
/// the current `VmRSS` (seen on this machine: 6,772 vs 7,672 KiB). `None` where `/proc/self/status` is not
/// available (not Linux).
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    peak_of_status(&status)
}

fn peak_of_status(status: &str) -> Option<u64> {
    let hwm = parse_status_kib(status, "VmHWM:");
    let rss = parse_status_kib(status, "VmRSS:");
    hwm.max(rss)
}

/// The KiB value of a `Name:   1234 kB` line of `/proc/<pid>/status`.
fn parse_status_kib(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kib_fields_of_proc_status() {
        let status =
            "Name:\tbench\nVmPeak:\t  123456 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   20480 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(40960));
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(20480));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
        assert_eq!(parse_status_kib("VmHWM:\tlots kB\n", "VmHWM:"), None);
    }

    #[test]
    fn peak_is_the_higher_of_high_water_mark_and_current_rss() {
        let lagging = "VmHWM:\t    6772 kB\nVmRSS:\t    7672 kB\n";
        assert_eq!(peak_of_status(lagging), Some(7672));
        let usual = "VmHWM:\t   90000 kB\nVmRSS:\t    7672 kB\n";
        assert_eq!(peak_of_status(usual), Some(90000));
        assert_eq!(peak_of_status("Name:\tbench\n"), None);
    }

    #[test]
    fn own_process_has_a_peak_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_kib().is_some_and(|kib| kib > 0));
        }
    }

    #[test]
    fn probe_sees_allocations_and_peak_of_its_section_only() {
        static A: CountingAllocator = CountingAllocator::new();
        // A separate instance driven by hand, so the test harness's own allocations do not interfere.
        A.grow(1_000);
        let probe = A.start();
        A.allocations.fetch_add(3, Ordering::Relaxed);
        A.grow(500);
        A.grow(200);
        A.shrink(700);
        A.grow(100);
        let used = probe.finish();
        assert_eq!(used.allocations, 3);
        assert_eq!(used.peak_bytes, 700);
        assert_eq!(used.own_peak_bytes, 700);
        assert_eq!(used.own_retained_bytes, 100);
    }

    #[test]
    fn foreign_threads_count_in_the_total_but_not_in_the_own_heap() {
        static A: CountingAllocator = CountingAllocator::new();
        let probe = A.start();
        A.grow(300);
        std::thread::spawn(|| {
            mark_thread_foreign();
            A.grow(5_000);
            A.shrink(1_000);
        })
        .join()
        .unwrap();
        A.grow(200);
        A.shrink(100);
        let used = probe.finish();
        assert_eq!(used.peak_bytes, 5_300);
        assert_eq!(used.own_peak_bytes, 500);
        assert_eq!(used.own_retained_bytes, 400);
    }
}
