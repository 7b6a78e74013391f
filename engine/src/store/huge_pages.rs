//! A zeroed, fixed-length array that the kernel is asked to back with 2 MiB pages:
//! the sparse store's largest table parts (tens of MiB at 10^7 written blocks of a
//! 1 TiB volume), where a uniform load misses the TLB on nearly every probe with
//! 4 KiB pages (BENCHMARKS.md, "A 1 TiB volume").
//!
//! On Linux the array is its own anonymous mapping, aligned to 2 MiB, advised with
//! `madvise(MADV_HUGEPAGE)` (transparent huge pages in `madvise` mode, the common
//! default, apply only to advised memory) before any page of it is touched; the
//! kernel's zero pages make it zeroed without a write. Elsewhere, or when the mapping
//! fails, it is a plain vector. Either way only the pages touched are resident.

/// Bytes of a huge page (x86-64 and most 64-bit Linux targets: 2 MiB).
pub const HUGE_PAGE_BYTES: usize = 2 << 20;

/// A type whose value of all zero bytes is valid (and equals its `Default`).
///
/// # Safety
/// Every bit pattern of all zeros must be a valid value of the type.
pub unsafe trait Zeroable: Copy + Default {}

/// A zeroed array of `T` (see the module doc): dereferences to `[T]`; its length is
/// fixed when made. Used by the sparse store's table and by callers outside the engine
/// that hold tables of the same kind (the simulator's judge).
pub struct HugeArray<T: Zeroable> {
    mem: Mem<T>,
}

enum Mem<T> {
    Vec(Vec<T>),
    #[cfg(target_os = "linux")]
    Mapped(mapped::Mapping<T>),
}

impl<T: Zeroable> HugeArray<T> {
    /// `len` zeroed elements, mapped and advised onto 2 MiB pages when the array is at
    /// least one huge page long (else, or if the mapping fails, a vector).
    pub fn zeroed(len: usize) -> Self {
        #[cfg(target_os = "linux")]
        if len * std::mem::size_of::<T>() >= HUGE_PAGE_BYTES {
            if let Some(m) = mapped::Mapping::new(len) {
                return HugeArray {
                    mem: Mem::Mapped(m),
                };
            }
        }
        HugeArray {
            mem: Mem::Vec(vec![T::default(); len]),
        }
    }

    /// Whether the array is its own mapping advised onto huge pages (the kernel may
    /// still back it with 4 KiB pages: the advice is a hint).
    pub fn is_mapped(&self) -> bool {
        !matches!(self.mem, Mem::Vec(_))
    }
}

impl<T: Zeroable> std::ops::Deref for HugeArray<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match &self.mem {
            Mem::Vec(v) => v,
            #[cfg(target_os = "linux")]
            Mem::Mapped(m) => m.as_slice(),
        }
    }
}

impl<T: Zeroable> std::ops::DerefMut for HugeArray<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.mem {
            Mem::Vec(v) => v,
            #[cfg(target_os = "linux")]
            Mem::Mapped(m) => m.as_mut_slice(),
        }
    }
}

impl<T: Zeroable> Default for HugeArray<T> {
    fn default() -> Self {
        HugeArray {
            mem: Mem::Vec(Vec::new()),
        }
    }
}

#[cfg(target_os = "linux")]
mod mapped {
    use super::{Zeroable, HUGE_PAGE_BYTES};
    use std::ptr::NonNull;

    /// An anonymous private mapping holding `len` elements from a 2 MiB boundary.
    pub(super) struct Mapping<T> {
        /// The mapping as the kernel gave it (for `munmap`).
        base: NonNull<libc::c_void>,
        map_bytes: usize,
        /// The first element: `base` rounded up to [`HUGE_PAGE_BYTES`].
        data: NonNull<T>,
        len: usize,
    }

    // SAFETY: the mapping is owned memory, like a `Box<[T]>`.
    unsafe impl<T: Send> Send for Mapping<T> {}
    // SAFETY: shared access gives only `&[T]`.
    unsafe impl<T: Sync> Sync for Mapping<T> {}

    impl<T: Zeroable> Mapping<T> {
        pub(super) fn new(len: usize) -> Option<Self> {
            debug_assert!(std::mem::align_of::<T>() <= HUGE_PAGE_BYTES);
            let bytes = len.checked_mul(std::mem::size_of::<T>())?;
            let advised = bytes.div_ceil(HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES;
            // One huge page more, so a 2 MiB boundary lies inside; never touched.
            let map_bytes = advised.checked_add(HUGE_PAGE_BYTES)?;
            // SAFETY: a new anonymous mapping; no existing memory is affected.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    map_bytes,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if base == libc::MAP_FAILED {
                return None;
            }
            let base = NonNull::new(base)?;
            let offset =
                (base.as_ptr() as usize).next_multiple_of(HUGE_PAGE_BYTES) - base.as_ptr() as usize;
            // SAFETY: `offset` < one huge page, inside the mapping.
            let start = unsafe { base.as_ptr().cast::<u8>().add(offset) };
            // A hint only: if refused, the array is on 4 KiB pages, still correct.
            // SAFETY: `start..start + advised` lies inside the mapping just made.
            unsafe { libc::madvise(start.cast(), advised, libc::MADV_HUGEPAGE) };
            Some(Mapping {
                base,
                map_bytes,
                data: NonNull::new(start.cast::<T>())?,
                len,
            })
        }

        pub(super) fn as_slice(&self) -> &[T] {
            // SAFETY: `data` is aligned (2 MiB ≥ T's alignment), points at `len`
            // elements inside the mapping, zero-initialised by the kernel (a valid
            // `T`: `Zeroable`), and borrowed for as long as `self`.
            unsafe { std::slice::from_raw_parts(self.data.as_ptr(), self.len) }
        }

        pub(super) fn as_mut_slice(&mut self) -> &mut [T] {
            // SAFETY: as `as_slice`, with the exclusive borrow of `self`.
            unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) }
        }
    }

    impl<T> Drop for Mapping<T> {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new`, unmapped once; `T: Copy` has no drop.
            unsafe { libc::munmap(self.base.as_ptr(), self.map_bytes) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Default, PartialEq, Debug)]
    #[repr(C, align(64))]
    struct Line([u64; 8]);
    // SAFETY: eight integers.
    unsafe impl Zeroable for Line {}

    #[test]
    fn a_large_array_is_mapped_zeroed_and_writable() {
        let n = 3 * HUGE_PAGE_BYTES / 64 + 5;
        let mut a = HugeArray::<Line>::zeroed(n);
        assert_eq!(a.len(), n);
        #[cfg(target_os = "linux")]
        {
            assert!(a.is_mapped());
            assert_eq!(a.as_ptr() as usize % HUGE_PAGE_BYTES, 0);
        }
        assert!(a.iter().all(|l| *l == Line::default()));
        a[n - 1].0[7] = 9;
        a[0].0[0] = 1;
        assert_eq!((a[0].0[0], a[n - 1].0[7]), (1, 9));
        let small = HugeArray::<Line>::zeroed(10);
        assert!(!small.is_mapped());
        assert!(small.iter().all(|l| *l == Line::default()));
        assert!(HugeArray::<Line>::default().is_empty());
    }
}
