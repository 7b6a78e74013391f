//! A hint to the processor that a cache line will be read soon: the simulator knows
//! which block a transaction's next step touches before the step runs, and a table
//! far larger than the cache costs a DRAM miss per probe otherwise
//! (BENCHMARKS.md, "A 1 TiB volume").

/// Asks the processor to bring the cache line holding `p` into its caches. Only a
/// hint: nothing is read architecturally, an address that is not mapped is ignored,
/// and on a target without a prefetch instruction it does nothing.
#[inline(always)]
pub(crate) fn line<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` (SSE, part of every x86_64) reads nothing architecturally
    // and never faults, whatever the address.
    unsafe {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A word that only aims a hint ([`line`]): where a table's memory is, read without
/// the table's lock. It orders nothing (a stale value aims the hint elsewhere, which
/// is harmless), so, like the engine's statistics counters, it is a plain `std`
/// atomic even under loom (`crate::sync`'s doc).
pub(crate) type HintWord = std::sync::atomic::AtomicUsize;
