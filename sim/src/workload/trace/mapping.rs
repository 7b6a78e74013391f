//! From trace I/Os to transactions over blocks: the rules of the module docs of
//! [`super`], as code. Pure: the same trace and parameters give the same
//! transactions.

use std::collections::BTreeMap;

use super::{Addresses, Grouping, Trace, TraceConfig, TraceIo};
use crate::clock::Tick;
use crate::scenario::FIELD_TICKS_MAX;

/// Blocks one I/O may span at most.
pub const BLOCKS_PER_IO_MAX: u64 = 1 << 16;

/// One transaction of a mapped trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceTxn {
    /// When it arrives (recorded timing), in ticks.
    pub arrival_ticks: Tick,
    /// The stream that issued it.
    pub stream: u32,
    /// Its block accesses in first-touch order, each block once: (block, writes).
    pub blocks: Vec<(u64, bool)>,
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
}

/// Maps `trace` with `c`'s rules onto blocks of `block_size_bytes`. Errors: an I/O
/// past 2^64 bytes, a scaled time past [`FIELD_TICKS_MAX`] (message names the line).
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
                "line {}: offset {} + length {} overflows",
                io.line, io.offset_bytes, io.length_bytes
            ))?;
        let (first, last) = (io.offset_bytes / block_size_bytes, end / block_size_bytes);
        if last - first >= BLOCKS_PER_IO_MAX {
            return Err(format!(
                "line {}: an I/O of {} bytes spans more than {BLOCKS_PER_IO_MAX} blocks",
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
    let arrival = |io: &TraceIo| -> Result<Tick, String> {
        let t = (io.time_us as f64 * c.time_scale).round();
        if t > FIELD_TICKS_MAX as f64 {
            return Err(format!(
                "line {}: time {} µs × time_scale {} exceeds {FIELD_TICKS_MAX} ticks",
                io.line, io.time_us, c.time_scale
            ));
        }
        Ok(t as Tick)
    };
    // I/Os in time order (stable: ties keep file order).
    let mut order: Vec<&TraceIo> = trace.ios.iter().collect();
    order.sort_by_key(|io| io.time_us);
    let mut txns: Vec<TraceTxn> = Vec::new();
    // Per stream: its open transaction (index into txns), the time of its last I/O
    // and the I/Os in it.
    let mut open: BTreeMap<u32, (usize, u64, u32)> = BTreeMap::new();
    let mut blocks = 0u64;
    for io in order {
        let (first, last) = range(io)?;
        let joins = match (c.grouping, open.get(&io.stream)) {
            (Grouping::Stream, Some(&(i, t, n))) => {
                (io.time_us - t <= c.idle_gap_ticks && n < c.ios_per_transaction_max).then_some(i)
            }
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
                open.insert(io.stream, (txns.len() - 1, io.time_us, 0));
                txns.len() - 1
            }
        };
        let t = &mut txns[i];
        t.lines.1 = io.line;
        for b in first..=last {
            let b = block(b);
            blocks = blocks.max(b + 1);
            match t.blocks.iter_mut().find(|(x, _)| *x == b) {
                Some((_, w)) => *w |= io.write,
                None => t.blocks.push((b, io.write)),
            }
        }
        let entry = open.get_mut(&io.stream).expect("opened above");
        entry.1 = io.time_us;
        entry.2 += 1;
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
    })
}
