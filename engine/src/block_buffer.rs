//! The engine's whole-block buffers: asked for fallibly, so that a system short of
//! memory fails the call with [`Error::OutOfMemory`] (a store's call with
//! [`StoreError::OutOfMemory`]) instead of aborting the process.

use crate::error::{Error, Result};
use crate::store::StoreError;

/// `len` zero bytes, or [`Error::OutOfMemory`] (naming `purpose`) when the system
/// refuses the memory: the engine's whole-block buffers never abort the process.
pub(crate) fn block_buffer(len: usize, purpose: &'static str) -> Result<Vec<u8>> {
    zeroed(len).map_err(|Refused { bytes }| Error::OutOfMemory { purpose, bytes })
}

/// The system refused `bytes` bytes of memory for a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) bytes: usize,
}

impl Refused {
    /// [`StoreError::OutOfMemory`] of store `store` (its name), at block `block`, for
    /// `purpose`.
    pub(crate) fn in_store(self, store: String, block: u64, purpose: &'static str) -> StoreError {
        StoreError::OutOfMemory {
            store,
            block,
            bytes: self.bytes,
            purpose,
        }
    }
}

/// `len` zero bytes, or [`Refused`].
pub(crate) fn zeroed(len: usize) -> Result<Vec<u8>, Refused> {
    let mut v = Vec::new();
    room(&mut v, len)?;
    v.resize(len, 0);
    Ok(v)
}

/// `data` copied into an allocation of its own length, or [`Refused`].
pub(crate) fn copied(data: &[u8]) -> Result<Vec<u8>, Refused> {
    let mut v = Vec::new();
    room(&mut v, data.len())?;
    v.extend_from_slice(data);
    Ok(v)
}

/// Makes `v` able to hold `len` bytes in all (its capacity at least `len`) without
/// another allocation, or [`Refused`] with `v` as it was. Nothing is asked of the
/// system when it already can, so a reused buffer costs a comparison.
#[inline]
pub(crate) fn room(v: &mut Vec<u8>, len: usize) -> Result<(), Refused> {
    if v.capacity() >= len {
        return Ok(());
    }
    let refused = Refused { bytes: len };
    #[cfg(test)]
    if test_limit::refuses(len) {
        return Err(refused);
    }
    v.try_reserve_exact(len - v.len()).map_err(|_| refused)
}

/// Makes room in `v` for one more element, or [`Refused`] with `v` as it was: a
/// vector with room costs a comparison; a full one asks fallibly for twice its
/// capacity (at least 4 elements), the growth a `push` would make.
#[inline(always)]
pub(crate) fn room_for_one<T>(v: &mut Vec<T>) -> Result<(), Refused> {
    if v.len() < v.capacity() {
        return Ok(());
    }
    grow_for_one(v)
}

/// [`room_for_one`]'s growth, out of the callers' way.
#[cold]
#[inline(never)]
fn grow_for_one<T>(v: &mut Vec<T>) -> Result<(), Refused> {
    let capacity = v.capacity().saturating_mul(2).max(4);
    let refused = Refused {
        bytes: capacity.saturating_mul(std::mem::size_of::<T>()),
    };
    #[cfg(test)]
    if test_limit::refuses(refused.bytes) {
        return Err(refused);
    }
    v.try_reserve_exact(capacity - v.len()).map_err(|_| refused)
}

/// Tests: a per-thread cap on the buffers of this module, standing in for a system
/// that refuses memory.
#[cfg(test)]
pub(crate) mod test_limit {
    use std::cell::Cell;

    thread_local! {
        static CAP: Cell<usize> = const { Cell::new(usize::MAX) };
    }

    /// Refuses every buffer longer than `cap` bytes that needs an allocation, on this
    /// thread (until [`lift`]).
    pub(crate) fn cap(cap: usize) {
        CAP.with(|c| c.set(cap));
    }

    /// Lifts the cap of [`cap`].
    pub(crate) fn lift() {
        CAP.with(|c| c.set(usize::MAX));
    }

    pub(crate) fn refuses(len: usize) -> bool {
        CAP.with(|c| len > c.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A buffer with room already is never refused; one that needs an allocation
    /// past the cap is, and is left as it was.
    #[test]
    fn room_asks_only_when_the_buffer_is_short() {
        let mut v = vec![1u8, 2, 3];
        v.reserve_exact(100);
        test_limit::cap(10);
        assert_eq!(room(&mut v, 100), Ok(()));
        let cap = v.capacity();
        assert_eq!(room(&mut v, cap + 1), Err(Refused { bytes: cap + 1 }));
        assert_eq!((v.as_slice(), v.capacity()), (&[1u8, 2, 3][..], cap));
        assert_eq!(zeroed(11), Err(Refused { bytes: 11 }));
        assert_eq!(copied(&[7; 11]), Err(Refused { bytes: 11 }));
        assert_eq!(zeroed(10), Ok(vec![0; 10]));
        test_limit::lift();
        assert_eq!(copied(&[7; 11]), Ok(vec![7; 11]));
        // What no system can give: refused, not an abort.
        assert_eq!(zeroed(usize::MAX), Err(Refused { bytes: usize::MAX }));
    }

    /// Room for one more element is asked for only when the vector is full: twice its
    /// capacity (at least four), refused past the cap with the vector as it was.
    #[test]
    fn room_for_one_doubles_a_full_vector_or_leaves_it() {
        let mut v: Vec<u32> = Vec::new();
        test_limit::cap(15);
        assert_eq!(room_for_one(&mut v), Err(Refused { bytes: 16 }));
        assert_eq!(v.capacity(), 0);
        test_limit::cap(16);
        assert_eq!(room_for_one(&mut v), Ok(()));
        assert_eq!(v.capacity(), 4);
        v.extend([1, 2, 3]);
        test_limit::cap(0);
        assert_eq!(room_for_one(&mut v), Ok(()), "room for a fourth already");
        v.push(4);
        assert_eq!(room_for_one(&mut v), Err(Refused { bytes: 32 }));
        assert_eq!((v.as_slice(), v.capacity()), (&[1, 2, 3, 4][..], 4));
        test_limit::lift();
        assert_eq!(room_for_one(&mut v), Ok(()));
        assert_eq!(v.capacity(), 8);
    }
}
