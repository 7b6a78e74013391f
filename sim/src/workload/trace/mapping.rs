//! From trace I/Os to transactions over blocks: the rules of the module docs of
//! [`super`], as code. Pure: the same trace and parameters give the same
//! transactions.

use std::collections::BTreeMap;

use super::time::{us_text, TimeScale, NS_PER_US};
use super::{Addresses, Grouping, Trace, TraceConfig, TraceIo};
use crate::clock::Tick;
use crate::keyed::Keyed;
use crate::scenario::FIELD_TICKS_MAX;
use crate::workload::WriteKind;

/// Blocks one I/O may span at most.
pub const BLOCKS_PER_IO_MAX: u64 = 1 << 16;

/// How a transaction accesses one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Reads the block.
    Read,
    /// Reads the block, then writes it back changed (a read-modify-write).
    Write,
    /// Writes the whole block without reading it: under `workload.write_kind =
    /// "blind"`, a block whose first touch in the transaction is a write covering all
    /// of it.
    BlindWrite,
}

impl Access {
    /// True for a write, read-modify-write or blind.
    pub fn writes(self) -> bool {
        self != Access::Read
    }

    /// True when the access reads the block from the device.
    pub fn reads(self) -> bool {
        self != Access::BlindWrite
    }
}

/// One transaction of a mapped trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceTxn {
    /// When it arrives (recorded timing), in ticks.
    pub arrival_ticks: Tick,
    /// The stream that issued it.
    pub stream: u32,
    /// Its block accesses in first-touch order, each block once: (block, access).
    pub blocks: Vec<(u64, Access)>,
    /// The trace lines of its I/Os (first and last).
    pub lines: (u64, u64),
}

/// A trace mapped onto blocks of one size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MappedTrace {
    /// Transactions in arrival order (ties in file order).
    pub txns: Vec<TraceTxn>,
    /// The geometry it was mapped onto: block size, records per block (a block
    /// access reads and writes the block's first record).
    pub block_size_bytes: u64,
    pub records_per_block: u64,
    /// Blocks the volume needs: the highest block touched + 1.
    pub blocks: u64,
    /// The last arrival, in ticks.
    pub span_ticks: Tick,
    /// I/Os mapped, and lines skipped by the parser.
    pub ios: u64,
    pub skipped: u64,
    /// Bytes of the trace file's text (set by [`crate::Scenario::load_trace`]; 0 for
    /// a trace mapped from text in memory).
    pub text_bytes: u64,
    /// Whether its blocks were renumbered (`addresses = "dense"`).
    pub dense: bool,
    /// The file line of the I/O that touches the highest block (the first such in
    /// time order), which sets the volume's size; 0 for a trace of no I/O.
    pub highest_line: u64,
    /// The trace file as it was read (set by [`crate::Scenario::load_trace`]; empty
    /// for a trace mapped from text in memory).
    pub path: std::path::PathBuf,
}

/// Bytes a parsed I/O holds: [`TraceIo`], three `u64` fields, the line (`u64`), the
/// stream (`u32`) and the write flag (`bool`), padded to 40.
pub const IO_BYTES: u64 = std::mem::size_of::<TraceIo>() as u64;
/// Bytes a mapped transaction holds in the list: [`TraceTxn`], its arrival (`u64`),
/// stream (`u32`), blocks (a `Vec`: pointer, capacity, length) and lines (two `u64`),
/// padded to 56.
pub const TXN_BYTES: u64 = std::mem::size_of::<TraceTxn>() as u64;
/// Bytes of one block access of a transaction: `(u64, Access)`, padded to 16.
pub const ACCESS_BYTES: u64 = std::mem::size_of::<(u64, Access)>() as u64;
/// Bytes an allocation costs beyond what it holds (the allocator's header).
pub const HEAP_OVERHEAD_BYTES: u64 = 16;
/// Bytes per distinct block of the renumbering of `addresses = "dense"` (a
/// `BTreeMap<u64, u64>`: 16 bytes an entry in nodes of 11, at least half full, each
/// with its header).
pub const DENSE_BYTES_PER_BLOCK: u64 = 48;

impl MappedTrace {
    /// The span of a closed-loop replay on `device`, in ticks, as expected without
    /// queueing: each stream starts at its first transaction's arrival and runs its
    /// transactions back to back, each taking `compute_ticks` and, per block access,
    /// the device's read latency (and its write latency for a write: a
    /// read-modify-write; a blind write, its write latency alone); the last stream's
    /// end. Queueing, jitter and a backup's
    /// own I/O only lengthen a replay, so half of this falls inside it.
    pub fn closed_span_ticks(
        &self,
        device: &crate::DeviceModelConfig,
        compute_ticks: Tick,
    ) -> Tick {
        let mut end: BTreeMap<u32, Tick> = BTreeMap::new();
        for t in &self.txns {
            let cost = t.blocks.iter().fold(compute_ticks, |a, &(_, access)| {
                a.saturating_add(if access.reads() {
                    device.read_latency_ticks
                } else {
                    0
                })
                .saturating_add(if access.writes() {
                    device.write_latency_ticks
                } else {
                    0
                })
            });
            let e = end.entry(t.stream).or_insert(t.arrival_ticks);
            *e = e.saturating_add(cost);
        }
        end.values().copied().max().unwrap_or(0)
    }

    /// What loading and holding this trace costs in memory at most, in bytes: an
    /// upper-bound-minded sum of what [`crate::Scenario::load_trace`] holds while it
    /// reads, parses and maps the file, and the mapped trace the run holds to its end:
    ///
    /// - the file's text, held whole while it is parsed ([`Self::text_bytes`]);
    /// - the parsed I/Os ([`IO_BYTES`] each, in a list grown by doubling: twice
    ///   that) and their time-ordered view (a pointer each);
    /// - the transactions ([`TXN_BYTES`] each, in a list grown by doubling: twice
    ///   that), each with its block accesses on the heap ([`ACCESS_BYTES`] each, in a
    ///   list of at least 4 grown by doubling, and [`HEAP_OVERHEAD_BYTES`]);
    /// - under `addresses = "dense"`, the renumbering ([`DENSE_BYTES_PER_BLOCK`] per
    ///   block).
    ///
    /// The parts are added although the text and the parsed I/Os are freed before the
    /// run starts. Measured: a 2,000,000-I/O CSV trace of 50 MB is estimated
    /// 582 MiB and its run (history and timeline off) peaked at 357 MiB resident.
    pub fn held_bytes(&self) -> u64 {
        let pointer = std::mem::size_of::<usize>() as u64;
        let txns = self.txns.len() as u64;
        let accesses: u64 = self
            .txns
            .iter()
            .map(|t| {
                let capacity = (t.blocks.len() as u64).next_power_of_two().max(4);
                capacity * ACCESS_BYTES + HEAP_OVERHEAD_BYTES
            })
            .sum();
        let dense = if self.dense {
            self.blocks.saturating_mul(DENSE_BYTES_PER_BLOCK)
        } else {
            0
        };
        self.text_bytes
            .saturating_add(self.ios.saturating_mul(2 * IO_BYTES + pointer))
            .saturating_add(txns.saturating_mul(2 * TXN_BYTES))
            .saturating_add(accesses)
            .saturating_add(dense)
    }
}

/// Bytes the transactions [`map`] makes of `trace` (with `c`'s rules, on blocks of
/// `block_size_bytes`) can hold at most, computed from the I/Os before they are
/// mapped: per I/O, a transaction ([`TXN_BYTES`], twice: the list grows by doubling)
/// and its allocation of at least 4 accesses ([`ACCESS_BYTES`] each, and
/// [`HEAP_OVERHEAD_BYTES`]); per block it spans, two accesses (a transaction's list
/// of accesses grows by doubling), and under `addresses = "dense"` a renumbering entry
/// ([`DENSE_BYTES_PER_BLOCK`]). An I/O past 2^64 bytes or spanning more than
/// [`BLOCKS_PER_IO_MAX`] blocks counts that many (the mapping refuses it).
pub fn map_bound_bytes(trace: &Trace, c: &TraceConfig, block_size_bytes: u64) -> u64 {
    let block = block_size_bytes.max(1);
    let spanned: u64 = trace
        .ios
        .iter()
        .map(|io| {
            let end = io.offset_bytes.saturating_add(io.length_bytes.max(1) - 1);
            (end / block - io.offset_bytes / block + 1).min(BLOCKS_PER_IO_MAX)
        })
        .fold(0u64, |a, b| a.saturating_add(b));
    let ios = trace.ios.len() as u64;
    let per_io = 2 * TXN_BYTES + 4 * ACCESS_BYTES + HEAP_OVERHEAD_BYTES;
    let per_block = 2 * ACCESS_BYTES
        + if c.addresses == Addresses::Dense {
            DENSE_BYTES_PER_BLOCK
        } else {
            0
        };
    ios.saturating_mul(per_io)
        .saturating_add(spanned.saturating_mul(per_block))
}

/// A stream's transaction still open to its next I/O.
struct OpenTxn {
    /// Its index in the transactions.
    txn: usize,
    /// The recorded time of its last I/O, in ns.
    time_ns: u64,
    ios: u32,
    /// Its blocks, in the order of its list (`TraceTxn::blocks`): a block's position
    /// here is its position there (an I/O may span 2^16 blocks: a search of the list
    /// per block would be quadratic in them).
    positions: Keyed<()>,
}

/// Maps `trace` with `c`'s rules onto blocks of `block_size_bytes`: under
/// `c.write_kind = Blind` a block whose first touch in its transaction is a write
/// covering the whole block is a [`Access::BlindWrite`]; any other block written is a
/// read-modify-write ([`Access::Write`]: a partial write needs the rest of the block,
/// and a block read first was read anyway). Arrivals: [`TimeScale::ticks`] of each
/// transaction's first I/O. Errors: an I/O past 2^64 bytes, a scaled time past
/// [`FIELD_TICKS_MAX`] (the message begins with the line number and a colon, `N: …`);
/// a `time_scale` that is not finite and at least 0 (`0: …`, no line: a scenario's is
/// refused at its key before the trace is read).
pub fn map(
    trace: &Trace,
    c: &TraceConfig,
    block_size_bytes: u64,
    records_per_block: u64,
) -> Result<MappedTrace, String> {
    assert!(block_size_bytes > 0 && records_per_block > 0);
    let range = |io: &TraceIo| -> Result<(u64, u64), String> {
        let end = io
            .offset_bytes
            .checked_add(io.length_bytes - 1)
            .ok_or(format!(
                "{}: offset {} + length {} overflows",
                io.line, io.offset_bytes, io.length_bytes
            ))?;
        let (first, last) = (io.offset_bytes / block_size_bytes, end / block_size_bytes);
        if last - first >= BLOCKS_PER_IO_MAX {
            return Err(format!(
                "{}: an I/O of {} bytes spans more than {BLOCKS_PER_IO_MAX} blocks",
                io.line, io.length_bytes
            ));
        }
        Ok((first, last))
    };
    // Dense addresses: every block touched, renumbered in ascending order.
    let mut dense: BTreeMap<u64, u64> = BTreeMap::new();
    if c.addresses == Addresses::Dense {
        for io in &trace.ios {
            let (first, last) = range(io)?;
            for b in first..=last {
                dense.insert(b, 0);
            }
        }
        for (i, v) in dense.values_mut().enumerate() {
            *v = i as u64;
        }
    }
    let block = |b: u64| match c.addresses {
        Addresses::AsRecorded => b,
        Addresses::Dense => dense[&b],
    };
    // The one rule from recorded time to ticks ([`super::time`]).
    let scale = TimeScale::new(c.time_scale).ok_or(format!(
        "0: time_scale {} is not finite and at least 0",
        c.time_scale
    ))?;
    let arrival = |io: &TraceIo| -> Result<Tick, String> {
        scale.ticks(io.time_ns).ok_or_else(|| {
            format!(
                "{}: time {} µs after the trace's first I/O × time_scale {} exceeds \
                 {FIELD_TICKS_MAX} ticks",
                io.line,
                us_text(io.time_ns),
                crate::number_text::float_text(c.time_scale)
            )
        })
    };
    // A longer pause (recorded µs) ends a stream's transaction: compared in ns.
    let idle_gap_ns = u128::from(c.idle_gap_ticks) * u128::from(NS_PER_US);
    // Whether an I/O writes all of (recorded) block `b`.
    let blind = c.write_kind == WriteKind::Blind;
    let covers = |io: &TraceIo, b: u64| {
        let start = b as u128 * block_size_bytes as u128;
        let end = io.offset_bytes as u128 + io.length_bytes as u128;
        io.offset_bytes as u128 <= start && end >= start + block_size_bytes as u128
    };
    // I/Os in time order (stable: ties keep file order).
    let mut order: Vec<&TraceIo> = trace.ios.iter().collect();
    order.sort_by_key(|io| io.time_ns);
    let mut txns: Vec<TraceTxn> = Vec::new();
    // Per stream: its transaction still open to the stream's next I/O.
    let mut open: BTreeMap<u32, OpenTxn> = BTreeMap::new();
    let (mut blocks, mut highest_line) = (0u64, 0u64);
    for io in order {
        let (first, last) = range(io)?;
        let joins = match (c.grouping, open.get(&io.stream)) {
            (Grouping::Stream, Some(o)) => (u128::from(io.time_ns - o.time_ns) <= idle_gap_ns
                && o.ios < c.ios_per_transaction_max)
                .then_some(o.txn),
            _ => None,
        };
        let i = match joins {
            Some(i) => i,
            None => {
                txns.push(TraceTxn {
                    arrival_ticks: arrival(io)?,
                    stream: io.stream,
                    blocks: Vec::new(),
                    lines: (io.line, io.line),
                });
                let o = OpenTxn {
                    txn: txns.len() - 1,
                    time_ns: io.time_ns,
                    ios: 0,
                    positions: Keyed::default(),
                };
                open.insert(io.stream, o);
                txns.len() - 1
            }
        };
        let t = &mut txns[i];
        t.lines.1 = io.line;
        let o = open.get_mut(&io.stream).expect("opened above");
        for recorded in first..=last {
            let b = block(recorded);
            if b + 1 > blocks {
                (blocks, highest_line) = (b + 1, io.line);
            }
            match o.positions.position(b) {
                Some(k) => {
                    if io.write && t.blocks[k].1 == Access::Read {
                        t.blocks[k].1 = Access::Write;
                    }
                }
                None => {
                    o.positions.push(b, ());
                    let access = if !io.write {
                        Access::Read
                    } else if blind && covers(io, recorded) {
                        Access::BlindWrite
                    } else {
                        Access::Write
                    };
                    t.blocks.push((b, access));
                }
            }
        }
        o.time_ns = io.time_ns;
        o.ios += 1;
    }
    let span_ticks = txns.iter().map(|t| t.arrival_ticks).max().unwrap_or(0);
    Ok(MappedTrace {
        txns,
        block_size_bytes,
        records_per_block,
        blocks,
        span_ticks,
        ios: trace.ios.len() as u64,
        skipped: trace.skipped,
        text_bytes: 0,
        dense: c.addresses == Addresses::Dense,
        highest_line,
        path: std::path::PathBuf::new(),
    })
}
