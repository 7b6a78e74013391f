//! A wrapped store answers as the store it wraps: every method of `BlockStore`, the
//! provided ones included (leading-bytes reads and writes, shared and exclusive,
//! prefetch hints, flush times, brevity, written blocks), reaches the inner store through `Box`, `FaultyStore` and
//! `CrashStore`, so a wrapper never silently falls back to a default that answers
//! differently (a `Box` once answered `None` for the written blocks of a sparse
//! store).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use engine::latency::LatencySummary;
use engine::{BlockStore, CrashStore, FaultyStore, StoreError};

const BS: usize = 64;
const BLOCKS: u64 = 8;
/// The bytes the probe's blocks hold: the leading ones only, the rest zeros.
const HELD: usize = 3;

/// A store whose every answer differs from the trait's default: leading-bytes reads
/// give exactly the bytes held (the default gives a whole block), leading-bytes
/// writes are counted apart, flush times, brevity and written blocks are its own.
struct Probe {
    blocks: Mutex<Vec<Vec<u8>>>,
    prefix_writes: AtomicU64,
    exclusive_calls: AtomicU64,
    prefetches: Arc<AtomicU64>,
    flushes: AtomicU64,
}

impl Probe {
    fn new() -> Self {
        let blocks = (0..BLOCKS).map(|b| vec![b as u8 + 1; HELD]).collect();
        Probe {
            blocks: Mutex::new(blocks),
            prefix_writes: AtomicU64::new(0),
            exclusive_calls: AtomicU64::new(0),
            prefetches: Arc::new(AtomicU64::new(0)),
            flushes: AtomicU64::new(0),
        }
    }
}

fn times() -> LatencySummary {
    LatencySummary {
        count: 7,
        latency_us_sum: 70.0,
        ..LatencySummary::default()
    }
}

impl BlockStore for Probe {
    fn block_size(&self) -> usize {
        BS
    }
    fn block_count(&self) -> u64 {
        BLOCKS
    }
    fn name(&self) -> String {
        "probe".into()
    }
    fn read_block(&self, block: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        let held = &self.blocks.lock().unwrap()[block as usize];
        buf.fill(0);
        buf[..held.len()].copy_from_slice(held);
        Ok(())
    }
    fn write_block(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        let end = data.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
        self.blocks.lock().unwrap()[block as usize] = data[..end].to_vec();
        Ok(())
    }
    fn read_block_prefix(&self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        out.clear();
        out.extend_from_slice(&self.blocks.lock().unwrap()[block as usize]);
        Ok(())
    }
    fn write_block_prefix(&self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        self.prefix_writes.fetch_add(1, Ordering::SeqCst);
        let mut whole = data.to_vec();
        whole.resize(BS, 0);
        self.write_block(block, &whole)
    }
    fn read_block_prefix_mut(&mut self, block: u64, out: &mut Vec<u8>) -> Result<(), StoreError> {
        self.exclusive_calls.fetch_add(1, Ordering::SeqCst);
        self.read_block_prefix(block, out)
    }
    fn write_block_prefix_mut(&mut self, block: u64, data: &[u8]) -> Result<(), StoreError> {
        self.exclusive_calls.fetch_add(1, Ordering::SeqCst);
        self.write_block_prefix(block, data)
    }
    fn prefetch_block(&self, _block: u64) {
        self.prefetches.fetch_add(1, Ordering::SeqCst);
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn take_flush_times(&self, _samples: bool) -> Option<LatencySummary> {
        Some(times())
    }
    fn calls_are_brief(&self) -> bool {
        true
    }
    fn written_blocks(&self) -> Option<Vec<u64>> {
        Some(vec![1, 5])
    }
}

/// The queries every wrapper must answer as the probe does; `written` is what the
/// wrapper says of its written blocks (the probe's, plus any it caches). `prefetches`
/// counts the probe's prefetch hints: one more must reach it.
fn answers_as_the_probe(s: &dyn BlockStore, written: &[u64], prefetches: &AtomicU64) {
    let before = prefetches.load(Ordering::SeqCst);
    s.prefetch_block(4);
    assert_eq!(
        prefetches.load(Ordering::SeqCst),
        before + 1,
        "prefetch_block"
    );
    assert_eq!(s.block_size(), BS);
    assert_eq!(s.block_count(), BLOCKS);
    assert_eq!(s.name(), "probe");
    assert!(s.calls_are_brief(), "calls_are_brief not forwarded");
    assert_eq!(s.take_flush_times(false), Some(times()), "take_flush_times");
    assert_eq!(
        s.written_blocks().as_deref(),
        Some(written),
        "written_blocks"
    );
    let mut out = vec![9u8; 40];
    s.read_block_prefix(6, &mut out).unwrap();
    assert_eq!(out, [7u8; HELD], "read_block_prefix not forwarded");
}

/// `Box<Probe>` and `Box<dyn BlockStore>` answer as the probe, and a leading-bytes
/// write reaches it as one.
#[test]
fn a_boxed_store_answers_as_the_store() {
    let boxed: Box<Probe> = Box::new(Probe::new());
    answers_as_the_probe(&boxed, &[1, 5], &boxed.prefetches);
    boxed.write_block_prefix(2, &[4, 4]).unwrap();
    assert_eq!(boxed.prefix_writes.load(Ordering::SeqCst), 1);
    let mut boxed = boxed;
    boxed.write_block_prefix_mut(2, &[4, 4]).unwrap();
    boxed.read_block_prefix_mut(2, &mut Vec::new()).unwrap();
    assert_eq!(boxed.exclusive_calls.load(Ordering::SeqCst), 2);
    let prefetches = Arc::clone(&boxed.prefetches);
    let dynamic: Box<dyn BlockStore> = boxed;
    answers_as_the_probe(&dynamic, &[1, 5], &prefetches);
    dynamic.write_block_prefix(3, &[4]).unwrap();
    let mut out = Vec::new();
    dynamic.read_block_prefix(3, &mut out).unwrap();
    assert_eq!(out, [4]);
}

/// `FaultyStore` answers as the probe; a leading-bytes read or write is an operation
/// of its kind, so an armed fault refuses it (and the probe never sees the write).
#[test]
fn a_faulty_store_answers_as_the_store_and_injects_into_leading_bytes_calls() {
    let probe = Probe::new();
    let prefetches = Arc::clone(&probe.prefetches);
    let s = FaultyStore::new(probe);
    answers_as_the_probe(&s, &[1, 5], &prefetches);
    s.write_block_prefix(2, &[4, 4]).unwrap();
    assert_eq!(s.inner().prefix_writes.load(Ordering::SeqCst), 1);
    s.fail_after(engine::FaultKind::Write, 0);
    let e = s.write_block_prefix(2, &[5]).unwrap_err();
    assert!(matches!(e, StoreError::Injected { op: "write", .. }), "{e}");
    assert_eq!(s.inner().prefix_writes.load(Ordering::SeqCst), 1);
    s.fail_after(engine::FaultKind::Read, 0);
    let e = s.read_block_prefix(2, &mut Vec::new()).unwrap_err();
    assert!(matches!(e, StoreError::Injected { op: "read", .. }), "{e}");
    s.heal();
    let mut out = Vec::new();
    s.read_block_prefix(2, &mut out).unwrap();
    assert_eq!(out, [4, 4]);
    let mut s = s;
    s.write_block_prefix_mut(3, &[6]).unwrap();
    s.read_block_prefix_mut(3, &mut out).unwrap();
    assert_eq!(out, [6]);
    assert_eq!(s.inner().exclusive_calls.load(Ordering::SeqCst), 2);
    s.fail_after(engine::FaultKind::Read, 0);
    let e = s.read_block_prefix_mut(3, &mut out).unwrap_err();
    assert!(matches!(e, StoreError::Injected { op: "read", .. }), "{e}");
}

/// `CrashStore` answers as the probe beneath it; its written blocks add those of its
/// unflushed writes, a cached block reads as the cached write, and a flush reaches
/// the probe.
#[test]
fn a_crash_store_answers_as_the_store_and_adds_its_cache() {
    let probe = Probe::new();
    let prefetches = Arc::clone(&probe.prefetches);
    let s = CrashStore::new(probe, 16);
    answers_as_the_probe(&s, &[1, 5], &prefetches);
    s.write_block_prefix(2, &[4, 4]).unwrap();
    answers_as_the_probe(&s, &[1, 2, 5], &prefetches);
    let mut out = Vec::new();
    s.read_block_prefix(2, &mut out).unwrap();
    out.resize(BS, 0);
    let mut want = vec![0u8; BS];
    want[..2].copy_from_slice(&[4, 4]);
    assert_eq!(out, want, "the unflushed write, not the durable block");
    let mut s = s;
    let mut cached = Vec::new();
    s.read_block_prefix_mut(2, &mut cached).unwrap();
    assert_eq!(&cached[..2], [4, 4], "the exclusive read misses the cache");
    assert_eq!(s.durable().exclusive_calls.load(Ordering::SeqCst), 0);
    s.read_block_prefix_mut(6, &mut cached).unwrap();
    assert_eq!(cached, [7u8; HELD]);
    assert_eq!(s.durable().exclusive_calls.load(Ordering::SeqCst), 1);
    s.flush().unwrap();
    assert_eq!(s.durable().flushes.load(Ordering::SeqCst), 1);
    let mut out = Vec::new();
    s.durable().read_block_prefix(2, &mut out).unwrap();
    assert_eq!(out, [4, 4]);
}
