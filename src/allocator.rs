//! The C library allocator's one setting `owm` changes: blocks of 128 KiB or more are
//! mapped on their own and given back to the kernel when freed.
//!
//! glibc's malloc raises its mapping threshold each time a mapped block is freed (up
//! to 32 MiB), so a table that grows in steps of a few MiB (the judge's and the
//! stores' parts below 2 MiB pages, a run's lists) ends up in the heap, and the
//! steps it outgrew stay resident to the run's end. A fixed threshold of 128 KiB
//! (glibc's default starting value, `mallopt(M_MMAP_THRESHOLD)`, glibc manual
//! "Malloc Tunable Parameters") keeps them out of the heap: the 1 TiB benchmark at
//! 10^7 transactions with history and timeline on peaks about 70 MiB lower
//! (BENCHMARKS.md, "A quiet sitting on main `871ed8c` and `6a3ed53`"). Other C libraries
//! are left as they are.

/// Fixes glibc's mapping threshold at 128 KiB (see the module doc); does nothing
/// elsewhere. Call once, first thing in `main`, before anything large is allocated.
pub fn map_large_blocks_alone() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes the allocator's parameters; called before any
    // thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
