//! CPU time of the calling thread, for the simulator's timings (the runs are
//! single-threaded): the time on one core, which a machine shared with other builds
//! does not inflate as it does wall time. Shared by `benches/simulator.rs` (a criterion
//! measurement) and `examples/scale.rs` (included there with `#[path]`).

/// Nanoseconds the calling thread has run on a CPU
/// (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`, exact to the nanosecond, unlike
/// `/proc/thread-self/schedstat`, which lags by up to a scheduler tick).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub fn thread_cpu_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock_id: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec (two 64-bit fields on 64-bit Linux)
    // through a pointer to a live local of that layout, and keeps no reference to it.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// Elsewhere: wall time since the first call (the figures are then wall-clock ones).
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub fn thread_cpu_ns() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}
