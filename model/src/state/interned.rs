//! Equal shared parts of states made one, and the changes to them remembered.
//!
//! A search makes far fewer distinct engine devices and maps of written contents
//! than states: the same write to the same device happens on many paths. Each thread
//! keeps every device and every written-content map its states made once, by digest
//! (an equal one made later is replaced by the kept one, so the states share it), and
//! for each change applied to a kept one (a block write to a device, a content noted
//! in a map) what it made. A change seen before is then a lookup: no copy, no digest,
//! nothing to free when the state drops, and the few parts the states point at stay
//! in the cache. What a state holds is unchanged (shared parts equal to the ones it
//! held before), so its identity, its hash and every count are too.
//!
//! Bounded: at [`KEPT_MAX`] kept parts of one kind, that kind's maps are emptied
//! (states keep their parts; later equal ones are made again and kept anew).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hash};
use std::sync::Arc;

use engine::{Device, IoCost, MemStore, Phase, Vlun};

use super::{Mix64, BLOCK_BYTES_MAX};

/// Parts of one kind kept per thread before its maps are emptied: a device is about
/// 1.3 KiB with its allocations, so at most about 20 MiB per thread.
const KEPT_MAX: usize = 1 << 14;

/// A state's map of written contents ([`super::State::written`]).
pub(crate) type WrittenMap = BTreeMap<(u64, u64), u8>;

/// A block write applied to a kept device (named by its address, which stays valid
/// while the device is kept).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct WriteKey {
    from: usize,
    block: u64,
    vlun: u8,
    len: u8,
    bytes: [u8; BLOCK_BYTES_MAX],
}

/// The device a write made, its digest and phase, and the write's cost.
#[derive(Clone)]
pub(crate) struct Written {
    pub(crate) device: Arc<Device<MemStore>>,
    pub(crate) key: u64,
    pub(crate) phase: Phase,
    pub(crate) cost: IoCost,
}

/// A content noted in a kept map: (the map's address, block, digest, mark).
type NoteKey = (usize, u64, u64, u8);

type Mixed = BuildHasherDefault<Mix64>;

/// The kept parts of one kind by digest (distinct parts of one digest side by side),
/// and what each change applied to a kept part made.
struct Kept<T, K, V> {
    by_key: HashMap<u64, Vec<Arc<T>>, Mixed>,
    count: usize,
    changes: HashMap<K, V, Mixed>,
}

impl<T, K, V> Default for Kept<T, K, V> {
    fn default() -> Self {
        Kept {
            by_key: HashMap::default(),
            count: 0,
            changes: HashMap::default(),
        }
    }
}

impl<T: PartialEq, K: Hash + Eq, V> Kept<T, K, V> {
    /// The kept part equal to `part` (of digest `key`) when it is another one; `None`
    /// after keeping `part` itself.
    fn intern(&mut self, part: &Arc<T>, key: u64) -> Option<Arc<T>> {
        if let Some(same) = self
            .by_key
            .get(&key)
            .and_then(|same| same.iter().find(|d| Arc::ptr_eq(d, part) || ***d == **part))
        {
            return (!Arc::ptr_eq(same, part)).then(|| Arc::clone(same));
        }
        if self.count >= KEPT_MAX {
            self.by_key.clear();
            self.changes.clear();
            self.count = 0;
        }
        self.count += 1;
        self.by_key.entry(key).or_default().push(Arc::clone(part));
        None
    }

    /// Remembers that change `change` made `to` from `from` (of digest `from_key`);
    /// only when `from` is kept, since its address names it in `change`.
    fn remember(&mut self, from: &Arc<T>, from_key: u64, change: K, to: V) {
        let kept = self
            .by_key
            .get(&from_key)
            .is_some_and(|same| same.iter().any(|d| Arc::ptr_eq(d, from)));
        if kept {
            self.changes.insert(change, to);
        }
    }
}

thread_local! {
    static DEVICES: RefCell<Kept<Device<MemStore>, WriteKey, Written>> =
        RefCell::new(Kept::default());
    static MAPS: RefCell<Kept<WrittenMap, NoteKey, Arc<WrittenMap>>> =
        RefCell::new(Kept::default());
}

/// Runs `f` on this thread's kept parts of one kind; `None` while they are
/// unavailable (borrowed, or the thread being torn down).
fn with<T, K, V, R>(
    kind: &'static std::thread::LocalKey<RefCell<Kept<T, K, V>>>,
    f: impl FnOnce(&mut Kept<T, K, V>) -> Option<R>,
) -> Option<R> {
    kind.try_with(|k| f(&mut *k.try_borrow_mut().ok()?))
        .ok()
        .flatten()
}

fn write_key(
    from: &Arc<Device<MemStore>>,
    vlun: Vlun,
    block: u64,
    data: &[u8],
) -> Option<WriteKey> {
    let mut bytes = [0u8; BLOCK_BYTES_MAX];
    bytes.get_mut(..data.len())?.copy_from_slice(data);
    Some(WriteKey {
        from: Arc::as_ptr(from) as usize,
        block,
        vlun: vlun as u8,
        len: data.len() as u8,
        bytes,
    })
}

/// The device writing `data` to `block` through `vlun` made from `from`, if that
/// write was applied to it before on this thread.
pub(crate) fn written(
    from: &Arc<Device<MemStore>>,
    vlun: Vlun,
    block: u64,
    data: &[u8],
) -> Option<Written> {
    let wk = write_key(from, vlun, block, data)?;
    with(&DEVICES, |k| k.changes.get(&wk).cloned())
}

/// Remembers that writing `data` to `block` through `vlun` made `to` from `from` (of
/// digest `from_key`).
pub(crate) fn remember_write(
    from: &Arc<Device<MemStore>>,
    from_key: u64,
    vlun: Vlun,
    block: u64,
    data: &[u8],
    to: Written,
) {
    if let Some(wk) = write_key(from, vlun, block, data) {
        with(&DEVICES, |k| {
            k.remember(from, from_key, wk, to);
            Some(())
        });
    }
}

/// The kept device equal to `device` (of digest `key`) when it is another one; `None`
/// after keeping `device` itself (or when the thread's maps are unavailable).
pub(crate) fn intern_device(
    device: &Arc<Device<MemStore>>,
    key: u64,
) -> Option<Arc<Device<MemStore>>> {
    with(&DEVICES, |k| k.intern(device, key))
}

/// The map noting `(block, digest)` with mark `via` made from `from`, if that was noted
/// in it before on this thread.
pub(crate) fn noted(
    from: &Arc<WrittenMap>,
    block: u64,
    digest: u64,
    via: u8,
) -> Option<Arc<WrittenMap>> {
    let nk = (Arc::as_ptr(from) as usize, block, digest, via);
    with(&MAPS, |k| k.changes.get(&nk).cloned())
}

/// Remembers that noting `(block, digest)` with mark `via` made `to` from `from` (of
/// digest `from_key`).
pub(crate) fn remember_note(
    from: &Arc<WrittenMap>,
    from_key: u64,
    block: u64,
    digest: u64,
    via: u8,
    to: Arc<WrittenMap>,
) {
    let nk = (Arc::as_ptr(from) as usize, block, digest, via);
    with(&MAPS, |k| {
        k.remember(from, from_key, nk, to);
        Some(())
    });
}

/// The kept map equal to `map` (of digest `key`) when it is another one; `None` after
/// keeping `map` itself (or when the thread's maps are unavailable).
pub(crate) fn intern_map(map: &Arc<WrittenMap>, key: u64) -> Option<Arc<WrittenMap>> {
    with(&MAPS, |k| k.intern(map, key))
}
