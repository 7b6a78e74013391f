//! A list of entries by key (a transaction attempt's block copies, before-images and
//! locks; a trace transaction's blocks): insertion order kept, each key once, found by a
//! search of the list while it is short and through an index of positions once it
//! is long. A transaction of a generated load holds a few entries; one replaying a
//! trace I/O of 2^16 blocks holds that many, and a search of the list per block would
//! be quadratic in them.

use rustc_hash::FxHashMap;

/// Entries searched through one by one, below which an index costs more than it saves.
const LINEAR_ENTRIES_MAX: usize = 32;

/// Entries `(key, value)` in insertion order, each key once.
#[derive(Debug)]
pub(crate) struct Keyed<V> {
    list: Vec<(u64, V)>,
    /// Key → position in `list`, kept while `list` is longer than
    /// [`LINEAR_ENTRIES_MAX`] (boxed: most lists never have one, and an attempt
    /// holds three lists).
    index: Option<Box<FxHashMap<u64, usize>>>,
}

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Self {
            list: Vec::new(),
            index: None,
        }
    }
}

impl<V> Keyed<V> {
    /// Where `key`'s entry is in insertion order.
    #[inline]
    pub fn position(&self, key: u64) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(&key).copied(),
            None => self.list.iter().position(|(k, _)| *k == key),
        }
    }

    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        self.position(key).is_some()
    }

    /// Adds `key`'s entry last. `key` must not be held (debug-checked).
    #[inline]
    pub fn push(&mut self, key: u64, value: V) {
        debug_assert!(!self.contains(key), "key {key} held twice");
        let at = self.list.len();
        if self.index.is_none() && at < LINEAR_ENTRIES_MAX {
            self.list.push((key, value));
            return;
        }
        self.push_indexed(key, value);
    }

    #[cold]
    fn push_indexed(&mut self, key: u64, value: V) {
        let at = self.list.len();
        match &mut self.index {
            Some(index) => {
                index.insert(key, at);
            }
            None if at >= LINEAR_ENTRIES_MAX => {
                let mut index: FxHashMap<u64, usize> = FxHashMap::default();
                index.reserve(at + 1);
                index.extend(self.list.iter().enumerate().map(|(i, (k, _))| (*k, i)));
                index.insert(key, at);
                self.index = Some(Box::new(index));
            }
            None => {}
        }
        self.list.push((key, value));
    }

    /// Takes the last entry off. The index goes with the last entry past
    /// [`LINEAR_ENTRIES_MAX`].
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, V)> {
        let (key, value) = self.list.pop()?;
        if self.index.is_some() {
            self.unindex(key);
        }
        Some((key, value))
    }

    #[cold]
    fn unindex(&mut self, key: u64) {
        if self.list.len() <= LINEAR_ENTRIES_MAX {
            self.index = None;
        } else if let Some(index) = &mut self.index {
            index.remove(&key);
        }
    }

    #[inline]
    pub fn get_mut(&mut self, at: usize) -> Option<&mut V> {
        self.list.get_mut(at).map(|(_, v)| v)
    }

    #[inline]
    pub fn get(&self, at: usize) -> Option<&V> {
        self.list.get(at).map(|(_, v)| v)
    }

    /// `key`'s value.
    #[inline]
    pub fn find_mut(&mut self, key: u64) -> Option<&mut V> {
        let at = self.position(key)?;
        self.get_mut(at)
    }

    /// `key`'s value.
    #[inline]
    pub fn find(&self, key: u64) -> Option<&V> {
        self.get(self.position(key)?)
    }

    /// The entries in insertion order.
    #[inline]
    pub fn as_slice(&self) -> &[(u64, V)] {
        &self.list
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Takes every entry off, last first.
    pub fn drain(&mut self) -> impl Iterator<Item = (u64, V)> + '_ {
        if self.index.is_some() {
            self.index = None;
        }
        self.list.drain(..).rev()
    }

    pub fn clear(&mut self) {
        self.list.clear();
        if self.index.is_some() {
            self.index = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Against a plain list searched one by one, over pushes of new keys, pops and
        /// lookups, across the length where the index is built and dropped.
        #[test]
        fn finds_what_a_plain_list_finds(steps in proptest::collection::vec((0u8..3, 0u64..100), 1..400)) {
            let mut keyed: Keyed<u64> = Keyed::default();
            let mut plain: Vec<(u64, u64)> = Vec::new();
            for (i, (what, key)) in steps.into_iter().enumerate() {
                match what {
                    0 | 1 if !plain.iter().any(|(k, _)| *k == key) => {
                        keyed.push(key, i as u64);
                        plain.push((key, i as u64));
                    }
                    2 => prop_assert_eq!(keyed.pop(), plain.pop()),
                    _ => {}
                }
                for probe in [key, key + 1] {
                    prop_assert_eq!(keyed.position(probe), plain.iter().position(|(k, _)| *k == probe));
                    prop_assert_eq!(keyed.find(probe), plain.iter().find(|(k, _)| *k == probe).map(|(_, v)| v));
                }
                prop_assert_eq!(keyed.as_slice(), &plain[..]);
            }
        }
    }

    /// Non-vacuous: the index is built past [`LINEAR_ENTRIES_MAX`] entries, answers
    /// for every key, and goes when the list is short again.
    #[test]
    fn the_index_is_built_past_the_linear_length_and_dropped_below_it() {
        let mut keyed: Keyed<()> = Keyed::default();
        for key in 0..100u64 {
            keyed.push(key * 7, ());
        }
        assert!(keyed.index.is_some());
        assert!((0..100u64).all(|key| keyed.position(key * 7) == Some(key as usize)));
        assert_eq!(keyed.position(1), None);
        while keyed.as_slice().len() > LINEAR_ENTRIES_MAX {
            keyed.pop();
        }
        assert!(keyed.index.is_none());
        assert_eq!(keyed.position(7 * 31), Some(31));
    }
}
