//! The one validator of a scenario: every range check a run relies on, each failure a
//! [`SimError::Config`] naming the dotted key at fault (`workload.write_fraction`), so
//! the CLI only has to find that key's line in the file. [`Scenario::validate`] calls
//! it; the CLI, the sweep grid and the fuzz tests all go through it, so the library
//! refuses exactly what the command line refuses.

use crate::error::SimError;
use crate::faults::{FaultsConfig, CRASHES_MAX};
use crate::history::{Layout, RECORD_HEADER_BYTES};
use crate::number_text::counted;
use crate::policy::Policy;
use crate::scenario::{Discipline, OnDataAreaFull, Scenario, FIELD_TICKS_MAX};
use crate::workload::{Arrivals, HotSpot, TraceConfig, WorkloadConfig as W, WriteKind};
use engine::shown::ShowName as _;

fn bad(key: &str, message: String) -> SimError {
    SimError::Config {
        key: key.to_string(),
        message,
    }
}

fn in_unit(key: &str, x: f64) -> Result<(), SimError> {
    if (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(bad(key, format!("{x:?} is out of range 0..=1")))
    }
}

/// The copies that read and send every block of the volume, holes included, in every
/// cycle: the archive copy when it is dense (`archive.sparse = false`, or hole-aware
/// under active `[faults]` or `[device] integrity`, where the stores cannot tell which
/// blocks hold data: `World::touched_blocks`), and the copy of VLUN B to
/// B' (`[detach]`, always every block). Only the policies of `policies` that back up
/// make them ([`Policy::backs_up`]): runs of `none` alone copy nothing and pass. Refused
/// before the run when their blocks, all cycles together, are more than
/// `limits.archive_blocks_max`, with the policies that copy, the count, its bytes, the
/// virtual time the targets' bandwidths alone would take, and what to change. A failed
/// archive pass under `[faults]` copies again: the count is a floor.
fn dense_copies(s: &Scenario, layout: &Layout, policies: &[Policy]) -> Result<(), SimError> {
    let copying: Vec<String> = policies
        .iter()
        .filter(|p| p.backs_up())
        .map(|p| format!("`{}`", p.as_str()))
        .collect();
    if copying.is_empty() {
        return Ok(());
    }
    let volume = layout.volume_blocks;
    let block_bytes = layout.block_size as u64;
    // (what, bytes per second, what to change)
    let mut copies: Vec<(&str, u64, &str)> = Vec::new();
    if !s.archive.sparse {
        copies.push((
            "a dense archive copy (archive.sparse = false)",
            s.archive.effective_bytes_per_s(),
            "set `archive.sparse = true` to copy only the blocks holding data",
        ));
    } else if s.faults.active() {
        copies.push((
            "a hole-aware archive copy made dense by [faults] (a crash-capable disk \
             cannot tell which blocks hold data)",
            s.archive.effective_bytes_per_s(),
            "remove [faults] (or shrink the volume)",
        ));
    } else if s.device.integrity {
        copies.push((
            "a hole-aware archive copy made dense by [device] integrity (a checksum \
             block read with a data block may refuse it)",
            s.archive.effective_bytes_per_s(),
            "set `device.integrity = false` (or shrink the volume)",
        ));
    }
    if let Some(d) = &s.detach {
        copies.push((
            "the copy of VLUN B to B' ([detach]: B' is a whole volume)",
            d.effective_bytes_per_s(),
            "remove [detach]",
        ));
    }
    let cycles = u64::from(s.backup.cycle_count());
    let per_copy = volume.saturating_mul(cycles);
    let blocks = per_copy.saturating_mul(copies.len() as u64);
    if blocks <= s.limits.archive_blocks_max {
        return Ok(());
    }
    let bytes = blocks.saturating_mul(block_bytes);
    let seconds: f64 = copies
        .iter()
        .map(|&(_, per_s, _)| per_copy.saturating_mul(block_bytes) as f64 / per_s.max(1) as f64)
        .sum();
    let what: Vec<&str> = copies.iter().map(|c| c.0).collect();
    let change: Vec<&str> = copies.iter().map(|c| c.2).collect();
    let makers = if copying.len() == 1 {
        "policy"
    } else {
        "policies"
    };
    let make = if copying.len() == 1 {
        "makes"
    } else {
        "each make"
    };
    Err(bad(
        "limits.archive_blocks_max",
        format!(
            "{makers} {} of the run {make} {}, reading and sending every block of the \
             volume, holes included: {} ({}) over {} per run, \
             {seconds:.0} s of virtual time at the targets' bandwidth alone, more than \
             limits.archive_blocks_max = {}; {}, or raise `limits.archive_blocks_max` \
             (policy `none`, no backup, makes no copy)",
            copying.join(", "),
            what.join(" and "),
            counted(blocks, "block", "blocks"),
            crate::footprint::human_bytes(bytes),
            counted(cycles, "backup cycle", "backup cycles"),
            s.limits.archive_blocks_max,
            change.join("; "),
        ),
    ))
}

/// The run limits a scenario's own numbers pass before it runs, refused up front
/// instead of after the run has worked up to them (exit 3): every transaction is an
/// attempt and its arrival an event, so more transactions than `limits.attempts_max`
/// or `limits.events_max` (refused at the key that sets the transactions,
/// `workload.transactions` or a trace's `workload.path`; fig3's six at the limit), and
/// a compute time every transaction takes (`workload.compute_ticks_min`), a crash
/// (`faults.crash_at_ticks`: the run goes on to every crash), a trace's arrival (at
/// `workload.path`: under recorded timing every transaction's, under closed timing
/// each stream's first) or a backup request (of a policy of `policies` that backs
/// up) past `limits.time_ticks_max` (refused at that key), or VLUN B ready past it (the
/// first request and `backup.setup_window_ticks`, refused at the key of the request
/// when the file sets it and it is no shorter than the window, else at the window's;
/// when the split is certain: no crash, no quiesce deadline), are certain to stop the
/// run. A `faults.heal_at_ticks` past it is not: the run does not wait for it.
fn limits_reached(s: &Scenario, policies: &[Policy]) -> Result<(), SimError> {
    let (transactions, _) = s.workload.size();
    let l = &s.limits;
    for (limit, bound, one, many) in [
        ("limits.attempts_max", l.attempts_max, "attempt", "attempts"),
        (
            "limits.events_max",
            l.events_max,
            "event (its arrival)",
            "events (one arrival each)",
        ),
    ] {
        if transactions <= bound {
            continue;
        }
        let key = match s.workload {
            W::Fig3(_) => limit,
            _ => transactions_key(&s.workload),
        };
        return Err(bad(
            key,
            format!(
                "{} make{} at least {}, more than {limit} = {bound}: the run would stop at \
                 that limit (exit 3); raise `{limit}` or give fewer transactions",
                counted(transactions, "transaction", "transactions"),
                if transactions == 1 { "s" } else { "" },
                counted(transactions, one, many),
            ),
        ));
    }
    // Every transaction computes at least `compute_ticks_min` after it arrives (at tick
    // 0 or later): one whose compute alone passes the limit stops every run.
    let compute_min = match &s.workload {
        W::Fig45(c) => Some(c.compute_ticks_min),
        W::Bank(c) => Some(c.compute_ticks_min),
        W::Generated(c) => Some(c.compute_ticks_min),
        W::Fig3(_) | W::Trace(_) => None,
    };
    if let Some(t) = compute_min.filter(|&t| t > l.time_ticks_max) {
        return Err(bad(
            "workload.compute_ticks_min",
            format!(
                "every transaction computes at least {t} ticks, past limits.time_ticks_max \
                 = {}: the run would stop at that limit (exit 3); raise \
                 `limits.time_ticks_max` or give a shorter compute time",
                l.time_ticks_max
            ),
        ));
    }
    if let Some(&t) = s
        .faults
        .crash_at_ticks
        .iter()
        .max()
        .filter(|&&t| t > l.time_ticks_max)
    {
        return Err(bad(
            "faults.crash_at_ticks",
            format!(
                "the crash at tick {t} is past limits.time_ticks_max = {}: the run goes on \
                 to every crash and would stop at that limit (exit 3); raise \
                 `limits.time_ticks_max` or crash earlier",
                l.time_ticks_max
            ),
        ));
    }
    if let W::Trace(c) = &s.workload {
        if let Some((t, line)) = certain_trace_arrival(c).filter(|&(t, _)| t > l.time_ticks_max) {
            return Err(bad(
                "workload.path",
                format!(
                    "the transaction of trace line {line} arrives at tick {t}, past \
                     limits.time_ticks_max = {}: the run would stop at that limit (exit 3); \
                     raise `limits.time_ticks_max` or replay the trace faster \
                     (`workload.time_scale`)",
                    l.time_ticks_max
                ),
            ));
        }
    }
    if !policies.iter().any(|p| p.backs_up()) {
        return Ok(());
    }
    // The default request (none given): half the arrivals' mean span, which a large
    // load can put past every time limit a file can give (an `i64`'s largest), where
    // raising the limit cannot help.
    let b = &s.backup;
    let default = s.workload.default_request_ticks_exact(&s.device);
    let limit_largest = i64::MAX as u128;
    if b.request_at_ticks.is_none() && b.schedule_at_ticks.is_empty() && default > limit_largest {
        return Err(bad(
            "backup.request_at_ticks",
            format!(
                "the default request, half the arrivals' mean span ({} × {} ticks / 2), \
                 would come at tick {default}, past {limit_largest}, the largest \
                 limits.time_ticks_max: the run would stop at that limit (exit 3); set \
                 `backup.request_at_ticks`, or give fewer transactions or a shorter time \
                 between arrivals",
                counted(s.workload.size().0, "transaction", "transactions"),
                s.workload.arrival_ticks_mean().unwrap_or(0),
            ),
        ));
    }
    let requests = b.request_times(s.workload.default_request_ticks(&s.device));
    if let Some(&last) = requests.iter().max().filter(|&&t| t > l.time_ticks_max) {
        return Err(bad(
            "limits.time_ticks_max",
            format!(
                "the backup request at tick {last} is past limits.time_ticks_max = {}: the \
                 run would stop at that limit (exit 3); raise `limits.time_ticks_max` or \
                 request the backup earlier",
                l.time_ticks_max
            ),
        ));
    }
    // VLUN B is ready a setup window after the first split, which comes at the first
    // request or later; the split is certain unless a quiesce deadline can give the
    // backup up first or a crash can strike before it.
    let split_certain = |p: &Policy| {
        p.backs_up() && !(*p == Policy::Quiesce && s.backup.quiesce_deadline_ticks.is_some())
    };
    let first = requests.iter().min().copied().unwrap_or(0);
    let ready = first.saturating_add(s.backup.setup_window_ticks);
    if s.faults.crash_at_ticks.is_empty()
        && policies.iter().any(split_certain)
        && ready > l.time_ticks_max
    {
        // At the larger share's key: the request's, where it is set and no earlier
        // than the window is long.
        let request_key = match (&s.backup.schedule_at_ticks, s.backup.request_at_ticks) {
            (times, _) if !times.is_empty() => Some("backup.schedule_at_ticks"),
            (_, Some(_)) => Some("backup.request_at_ticks"),
            _ => None,
        };
        let key = request_key
            .filter(|_| first >= s.backup.setup_window_ticks)
            .unwrap_or("backup.setup_window_ticks");
        return Err(bad(
            key,
            format!(
                "VLUN B would be ready at tick {ready} (the first request at {first} and a \
                 setup window of {} ticks), past limits.time_ticks_max = {}: the run would \
                 stop at that limit (exit 3); raise `limits.time_ticks_max`, request the \
                 backup earlier or give a shorter setup window",
                s.backup.setup_window_ticks, l.time_ticks_max
            ),
        ));
    }
    Ok(())
}

/// The latest arrival a trace's replay is certain to reach, with the trace line of
/// its first I/O: under recorded timing the last transaction's (each arrives at its
/// recorded time or later), under closed timing the latest of each stream's first
/// (a stream's later transactions follow its previous one's end).
fn certain_trace_arrival(c: &TraceConfig) -> Option<(u64, u64)> {
    let m = c.loaded.as_ref()?;
    let mut firsts = std::collections::HashSet::new();
    m.txns
        .iter()
        .filter(|t| c.timing == crate::workload::trace::Timing::Recorded || firsts.insert(t.stream))
        .map(|t| (t.arrival_ticks, t.lines.0))
        .max_by_key(|&(t, line)| (t, std::cmp::Reverse(line)))
}

fn at_least(key: &str, x: u64, min: u64) -> Result<(), SimError> {
    if x >= min {
        Ok(())
    } else {
        Err(bad(
            key,
            format!("{x} is out of range: must be at least {min}"),
        ))
    }
}

fn at_most(key: &str, x: u64, max: u64) -> Result<(), SimError> {
    if x <= max {
        Ok(())
    } else {
        Err(bad(
            key,
            format!("{x} is out of range: must be at most {max}"),
        ))
    }
}

fn ordered(min_key: &str, min: u64, max_key: &str, max: u64) -> Result<(), SimError> {
    if min <= max {
        Ok(())
    } else {
        Err(bad(
            min_key,
            format!("{min} is greater than {max_key} = {max}"),
        ))
    }
}

/// The longest scenario `name`, in bytes: it is written in every row of `summary.csv`,
/// in every plot title and verdict case, so a longer one would make those outputs (and
/// the time to draw them) grow with it, outside the output estimate.
pub const NAME_BYTES_MAX: usize = 256;

/// Why a name printed in the outputs (a scenario's `name`, a sweep's `title`) is
/// refused: a control character, which would break the table, CSV, SVG and JUnit lines
/// it is written in, or more than [`NAME_BYTES_MAX`] bytes. Shown, it is the first words
/// of the refusal (`holds the control character U+0007 at byte 3`, `is 300 bytes long,
/// more than 256`); each caller says where its name is printed and ends with
/// [`PrintedNameFault::remedy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintedNameFault {
    /// No character but white space (or none): a blank scenario column, an untitled
    /// table.
    Empty,
    /// The first control character, at its byte offset.
    Control { at_byte: usize, character: char },
    /// The name's length in bytes, over [`NAME_BYTES_MAX`].
    Long { bytes: usize },
}

impl PrintedNameFault {
    /// The fault of `name`, if it has one (a control character first).
    pub fn of(name: &str) -> Option<Self> {
        if name.trim().is_empty() {
            return Some(Self::Empty);
        }
        if let Some((at_byte, character)) = name.char_indices().find(|(_, c)| c.is_control()) {
            return Some(Self::Control { at_byte, character });
        }
        (name.len() > NAME_BYTES_MAX).then_some(Self::Long { bytes: name.len() })
    }

    /// What to give instead.
    pub fn remedy(&self) -> &'static str {
        match self {
            Self::Empty => "give one, or leave it out to be named by the file's stem",
            Self::Control { .. } => "give printable characters",
            Self::Long { .. } => "give a shorter one",
        }
    }
}

impl std::fmt::Display for PrintedNameFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::Empty => write!(f, "is empty"),
            Self::Control { at_byte, character } => write!(
                f,
                "holds the control character U+{:04X} at byte {at_byte}",
                character as u32
            ),
            Self::Long { bytes } => {
                write!(f, "is {bytes} bytes long, more than {NAME_BYTES_MAX}")
            }
        }
    }
}

/// Checks `s` for runs of `policies` and returns the volume layout it needs.
/// `run`: the memory bound judged on `owm run`'s estimate of the policies together
/// ([`crate::footprint::estimate`]: its timeline and pictures besides); else on the
/// largest of each policy's own simulation ([`crate::footprint::estimate_point`]: a
/// sweep's grid point, the simulator's own check).
pub(crate) fn scenario(s: &Scenario, policies: &[Policy], run: bool) -> Result<Layout, SimError> {
    in_unit("abort_probability", s.abort_probability)?;
    if let Some(fault) = PrintedNameFault::of(&s.name) {
        return Err(bad(
            "name",
            format!(
                "{fault}: the name is printed in every row of summary.csv, in tables, plot \
                 titles and the verdict files; {}",
                fault.remedy()
            ),
        ));
    }
    let layout = layout(s)?;
    at_least("device.channels", u64::from(s.device.channels), 1)?;
    at_most(
        "device.channels",
        u64::from(s.device.channels),
        u64::from(crate::device_model::CHANNELS_MAX),
    )?;
    if let Some(w) = s.device.write_channels {
        at_least("device.write_channels", u64::from(w), 1)?;
    }
    if s.device.journal_lane && !s.device.journaled && !s.faults.active() {
        return Err(bad(
            "device.journal_lane",
            "prices journal syncs, but the device keeps no journal: set device.journaled = true (or add [faults])".into(),
        ));
    }
    at_least("limits.events_max", s.limits.events_max, 1)?;
    at_least("limits.attempts_max", s.limits.attempts_max, 1)?;
    if s.backup.quiesce_deadline_ticks == Some(0) {
        // A freeze limit of 0 ticks fails every attempt the tick it starts, and its
        // retries spin until a limit stops the run.
        return Err(bad(
            "backup.quiesce_deadline_ticks",
            "0 is out of range: must be at least 1 (a freeze limit of 0 fails every attempt at once; leave the key out for no limit)".into(),
        ));
    }
    workload(&s.workload)?;
    blind_writes(s)?;
    faults(&s.faults)?;
    tick_fields(s)?;
    device_rates(s)?;
    crate::schedule::validate(&s.backup, s.workload.default_request_ticks(&s.device))?;
    limits_reached(s, policies)?;
    // After the run limits: a count they refuse is said at theirs, which are the
    // nearer bound.
    values_stay_in_range(&s.workload)?;
    // The key that sets the workload's records: a trace's come from its file.
    let records_key = match s.workload {
        W::Bank(_) => "workload.accounts",
        W::Trace(_) => "workload.path",
        _ => "workload.records",
    };
    if layout.records() > u64::from(u32::MAX) {
        if let Some(at) = trace_volume(s) {
            // A trace's records come from its offsets: the line that sets them, and
            // the way out a trace has.
            return Err(bad(
                records_key,
                format!(
                    "{at} hold {} records ({} a block): at most {} (lock ids are 32-bit); \
                     {DENSE_ADVICE}",
                    layout.records(),
                    s.geometry.records_per_block,
                    u32::MAX
                ),
            ));
        }
        // The most records whose whole blocks stay within the 32-bit lock ids: the
        // volume holds whole blocks of `records_per_block` records each.
        let per_block = s.geometry.records_per_block.max(1);
        let largest = u64::from(u32::MAX) / per_block * per_block;
        let why = match per_block {
            1 => "lock ids are 32-bit".to_string(),
            n => format!(
                "lock ids are 32-bit, and the volume holds whole blocks of {n} records: \
                 {} blocks",
                largest / n
            ),
        };
        return Err(bad(
            records_key,
            format!(
                "{} is out of range: must be at most {largest} ({why})",
                s.workload.records()
            ),
        ));
    }
    if policies
        .iter()
        .any(|p| p.has_data_area(s.backup.baseline_variant))
    {
        data_area_size(
            &s.backup,
            layout.volume_blocks,
            records_key,
            trace_volume(s),
        )?;
    }
    if layout.image_bytes() as u64 > s.limits.volume_bytes_max {
        if let Some(at) = trace_volume(s) {
            return Err(bad(
                "limits.volume_bytes_max",
                format!(
                    "{at} make a volume of {} bytes, more than limits.volume_bytes_max = {}; \
                     {DENSE_ADVICE}, or raise limits.volume_bytes_max",
                    layout.image_bytes(),
                    s.limits.volume_bytes_max
                ),
            ));
        }
        // A trace has no record count: its volume is the blocks it touches.
        let less = match trace_blocks(s) {
            Some(touched) => format!("or replay a shorter trace ({touched}) or smaller blocks"),
            None => "or give fewer records or smaller blocks".to_string(),
        };
        return Err(bad(
            "limits.volume_bytes_max",
            format!(
                "the volume of {} bytes exceeds limits.volume_bytes_max = {}; raise \
                 limits.volume_bytes_max ({less})",
                layout.image_bytes(),
                s.limits.volume_bytes_max
            ),
        ));
    }
    let (footprint, estimated) = if run {
        (
            crate::footprint::estimate(s, &layout, policies),
            policies.to_vec(),
        )
    } else {
        let all = if policies.is_empty() {
            &Policy::ALL[..]
        } else {
            policies
        };
        all.iter()
            .map(|&p| (crate::footprint::estimate_point(s, &layout, p), vec![p]))
            .max_by_key(|(f, _)| f.total_bytes())
            .unwrap_or_default()
    };
    if footprint.total_bytes() > s.limits.memory_bytes_max {
        let (part, part_bytes) = footprint.largest_part();
        let (words, advice, _) = crate::footprint::part_advice(s, part, run);
        return Err(SimError::TooLarge {
            estimate_bytes: footprint.total_bytes(),
            bound_bytes: s.limits.memory_bytes_max,
            estimate: footprint.describe(),
            policies: estimated.iter().map(|p| p.as_str()).collect(),
            part: words,
            part_bytes,
            advice,
            largest: part,
        });
    }
    at_least(
        "archive.bandwidth_bytes_per_s",
        s.archive.bandwidth_bytes_per_s,
        1,
    )?;
    at_least("archive.extent_blocks", s.archive.extent_blocks, 1)?;
    for (key, set) in [
        (
            "archive.skip_block_for_mutant_test",
            s.archive.skip_block_for_mutant_test.is_some(),
        ),
        (
            "archive.drop_mirrored_writes_for_mutant_test",
            s.archive.drop_mirrored_writes_for_mutant_test,
        ),
    ] {
        if set {
            return Err(bad(
                key,
                "only the copy to B' ([detach]) has this test mutant (remove the key)".to_string(),
            ));
        }
    }
    if let Some(d) = &s.detach {
        if let Some(b) = d.skip_block_for_mutant_test {
            if b >= layout.volume_blocks {
                return Err(bad(
                    "detach.skip_block_for_mutant_test",
                    format!(
                        "block {b} is past the volume ({})",
                        crate::number_text::counted(layout.volume_blocks, "block", "blocks")
                    ),
                ));
            }
        }
        at_least("detach.bandwidth_bytes_per_s", d.bandwidth_bytes_per_s, 1)?;
        at_least("detach.extent_blocks", d.extent_blocks, 1)?;
        // Only a policy that backs up copies B to B' (`none` never retires VLUN A).
        if s.faults.active() && policies.iter().any(|p| p.backs_up()) {
            return Err(bad(
                "detach",
                "the copy to B' is not modelled under injected faults (remove [detach] or [faults])"
                    .to_string(),
            ));
        }
        if d.sparse {
            return Err(bad(
                "detach.sparse",
                "B' is a whole new volume: every block is copied (remove the key)".to_string(),
            ));
        }
    }
    dense_copies(s, &layout, policies)?;
    data_area(&s.backup)?;
    blind_writes_full_area(s, policies, layout.volume_blocks)?;
    if let Some(&b) = s
        .locking
        .type_b_blocks
        .iter()
        .find(|&&b| b >= layout.volume_blocks)
    {
        return Err(bad(
            "locking.type_b_blocks",
            format!(
                "block {b} is past the volume ({})",
                crate::number_text::counted(layout.volume_blocks, "block", "blocks")
            ),
        ));
    }
    // A block listed twice is a slip in the list: a block is type (b) or it is not.
    let mut listed = s.locking.type_b_blocks.clone();
    listed.sort_unstable();
    if let Some(w) = listed.windows(2).find(|w| w[0] == w[1]) {
        return Err(bad(
            "locking.type_b_blocks",
            format!(
                "block {} is given twice: a block holds type (b) data or not; list it once",
                w[0]
            ),
        ));
    }
    Ok(layout)
}

/// The largest block, in bytes (16 MiB): a run holds whole blocks in buffers that no
/// limit prices.
pub const BLOCK_BYTES_MAX: usize = 1 << 24;

/// The largest volume any limit may allow, in bytes (2^62): its byte offsets and sizes
/// fit `u64` and `usize` with room for a sum of two, whatever `limits.volume_bytes_max`.
pub const VOLUME_BYTES_LIMIT: u64 = 1 << 62;

/// The volume layout the workload needs: enough blocks for its records; refused when
/// its blocks would pass [`BLOCK_BYTES_MAX`] or its bytes [`VOLUME_BYTES_LIMIT`]
/// (`geometry.block_size_bytes`).
/// The way out of a volume too large for a trace's offsets.
const DENSE_ADVICE: &str = "replay it with workload.addresses = \"dense\" (the blocks the \
                            trace touches renumbered 0, 1, 2 …, gaps removed)";

/// For a trace replayed with `addresses = "as-recorded"`, the start of a refusal of the
/// volume its offsets set: `FILE:LINE: the I/O at this line reaches block N: N + 1
/// blocks of B bytes`, naming the line of the highest block touched. `None` for other
/// workloads, a dense trace or one not loaded.
fn trace_volume(s: &Scenario) -> Option<String> {
    let W::Trace(c) = &s.workload else {
        return None;
    };
    let m = c.loaded.as_ref().filter(|m| !m.dense && m.blocks > 0)?;
    Some(format!(
        "{}:{}: the I/O at this line reaches block {} of {}-byte blocks (offset / \
         block_size_bytes, addresses = \"as-recorded\"): its {} blocks",
        m.path.shown(),
        m.highest_line,
        m.blocks - 1,
        m.block_size_bytes,
        m.blocks
    ))
}

/// For a trace replayed with `addresses = "dense"`, what sets its volume: `FILE
/// touches N distinct blocks of B bytes`.
fn trace_blocks(s: &Scenario) -> Option<String> {
    let W::Trace(c) = &s.workload else {
        return None;
    };
    let m = c.loaded.as_ref().filter(|m| m.dense)?;
    Some(format!(
        "{} touches {} of {} bytes",
        m.path.shown(),
        crate::number_text::counted(m.blocks, "distinct block", "distinct blocks"),
        m.block_size_bytes
    ))
}

pub(crate) fn layout(s: &Scenario) -> Result<Layout, SimError> {
    let g = &s.geometry;
    at_least("geometry.records_per_block", g.records_per_block, 1)?;
    if g.block_size_bytes == 0 || !g.block_size_bytes.is_multiple_of(8) {
        return Err(bad(
            "geometry.block_size_bytes",
            format!(
                "{} is out of range: must be a positive multiple of 8",
                g.block_size_bytes
            ),
        ));
    }
    if g.block_size_bytes > BLOCK_BYTES_MAX {
        return Err(bad(
            "geometry.block_size_bytes",
            format!(
                "{} is out of range: must be at most {BLOCK_BYTES_MAX} (16 MiB; a run holds \
                 whole blocks in memory)",
                g.block_size_bytes
            ),
        ));
    }
    let record_size = g.block_size_bytes / g.records_per_block as usize;
    let layout = Layout {
        block_size: g.block_size_bytes,
        volume_blocks: s.workload.records().div_ceil(g.records_per_block).max(1),
        record_size,
    };
    if (g.block_size_bytes as u64)
        .checked_mul(layout.volume_blocks)
        .is_none_or(|bytes| bytes > VOLUME_BYTES_LIMIT)
    {
        if let Some(at) = trace_volume(s) {
            return Err(bad(
                "workload.path",
                format!(
                    "{at} make a volume of more than {VOLUME_BYTES_LIMIT} bytes (2^62), past \
                     what byte offsets can address; {DENSE_ADVICE}"
                ),
            ));
        }
        // The record count is what reaches 2^62 (a block is at most 2^32 bytes, so
        // at least 2^30 blocks are needed): named at its key.
        let records_key = match s.workload {
            W::Bank(_) => "workload.accounts",
            _ => "workload.records",
        };
        return Err(bad(
            records_key,
            format!(
                "{} records in {} blocks of {} bytes make a volume of more than \
                 {VOLUME_BYTES_LIMIT} bytes (2^62), past what byte offsets can address; give \
                 fewer records or smaller blocks (geometry.block_size_bytes)",
                s.workload.records(),
                layout.volume_blocks,
                g.block_size_bytes
            ),
        ));
    }
    if !layout.is_valid()
        || !g
            .block_size_bytes
            .is_multiple_of(g.records_per_block as usize)
    {
        return Err(bad(
            "geometry.records_per_block",
            format!(
                "{} per {}-byte block leaves {record_size} bytes per record; \
                 need at least {RECORD_HEADER_BYTES} and an exact fit",
                counted(g.records_per_block, "record", "records"),
                g.block_size_bytes
            ),
        ));
    }
    Ok(layout)
}

/// The workload's parameters: per kind, the keys with a least value and the
/// `_min`/`_max` pairs (`min` at least `least`, at most `max`), then what is special.
fn workload(w: &W) -> Result<(), SimError> {
    type Least = (&'static str, u64, u64);
    type Range = (&'static str, u64, u64, u64);
    let (least, ranges): (Vec<Least>, Vec<Range>) = match w {
        W::Fig3(c) => (
            vec![("records", c.records, 1)],
            vec![("updates", c.updates_min.into(), c.updates_max.into(), 1)],
        ),
        W::Fig45(c) => (
            vec![
                ("records", c.records, 1),
                ("transactions", c.transactions, 1),
                ("processes", c.processes.into(), 1),
                ("arrival_ticks_mean", c.arrival_ticks_mean, 1),
            ],
            vec![
                ("updates", c.updates_min.into(), c.updates_max.into(), 1),
                ("compute_ticks", c.compute_ticks_min, c.compute_ticks_max, 0),
            ],
        ),
        W::Bank(c) => (
            vec![
                ("accounts", c.accounts, 2),
                ("transactions", c.transactions, 1),
                ("arrival_ticks_mean", c.arrival_ticks_mean, 1),
            ],
            vec![("compute_ticks", c.compute_ticks_min, c.compute_ticks_max, 0)],
        ),
        W::Trace(_) => (Vec::new(), Vec::new()),
        W::Generated(c) => (
            vec![
                ("records", c.records, 1),
                ("transactions", c.transactions, 1),
            ],
            vec![
                ("length", c.length_min.into(), c.length_max.into(), 1),
                ("compute_ticks", c.compute_ticks_min, c.compute_ticks_max, 0),
            ],
        ),
    };
    for (name, x, min) in least {
        at_least(&format!("workload.{name}"), x, min)?;
    }
    // A transfer's largest amount is signed in the file: said as written.
    if let W::Bank(c) = w {
        if c.amount_max < 1 {
            return Err(bad(
                "workload.amount_max",
                format!("{} is out of range: must be at least 1", c.amount_max),
            ));
        }
    }
    for (stem, min, max, lowest) in ranges {
        let min_key = format!("workload.{stem}_min");
        at_least(&min_key, min, lowest)?;
        ordered(&min_key, min, &format!("{stem}_max"), max)?;
    }
    if let W::Fig45(c) = w {
        at_most(
            "workload.processes",
            c.processes.into(),
            crate::workload::PROCESSES_MAX.into(),
        )?;
    }
    if let W::Trace(c) = w {
        return trace(c);
    }
    let W::Generated(c) = w else {
        return Ok(());
    };
    in_unit("workload.write_fraction", c.write_fraction)?;
    match c.arrivals {
        Arrivals::Open {
            interarrival_ticks_mean,
        } => at_least(
            "workload.arrivals.interarrival_ticks_mean",
            interarrival_ticks_mean,
            1,
        )?,
        Arrivals::Closed { clients, .. } => {
            at_least("workload.arrivals.clients", clients.into(), 1)?
        }
    }
    if let HotSpot::Zipf { exponent } = c.hot_spot {
        if !(exponent.is_finite() && exponent >= 0.0) {
            return Err(bad(
                "workload.hot_spot.exponent",
                format!("{exponent:?} is out of range: must be finite and at least 0"),
            ));
        }
    }
    Ok(())
}

/// Every record's value stays an `i64` all run, so none wraps: a transaction changes
/// a record by at most its largest step (1..=9 an update of fig3, fig4-5 and a
/// generated load; `amount_max` a bank transfer), so a value reaches at most
/// |initial value| + largest step × transactions. When the steps alone pass an `i64`,
/// or move more than the initial value holds, refused at a key of the work where a
/// value of 1 or more fits beside the initial value as written, with its largest: the
/// step's (`workload.amount_max`) and `workload.transactions`, the one set further
/// from its default first. Otherwise, the steps alone passing an `i64`, at the step's
/// key (else the count's) with what both need; else at the initial value's key. Each
/// "must be at most" is the largest that passes with the file's other values. A
/// trace's transactions come from its file (a few billion at most). Checked after the
/// run limits (`limits.attempts_max` refuses a count past it first).
fn values_stay_in_range(w: &W) -> Result<(), SimError> {
    let (initial_key, initial, step_key, step) = match w {
        W::Fig3(c) => ("workload.initial_value", c.initial_value, None, 9),
        W::Fig45(c) => ("workload.initial_value", c.initial_value, None, 9),
        W::Bank(c) => (
            "workload.initial_balance",
            c.initial_balance,
            Some("workload.amount_max"),
            c.amount_max.max(1).unsigned_abs(),
        ),
        W::Generated(_) => ("", 0, None, 9),
        W::Trace(_) => return Ok(()),
    };
    let (transactions, _) = w.size();
    let max = i64::MAX.unsigned_abs();
    let moved = u128::from(step) * u128::from(transactions);
    if u128::from(initial.unsigned_abs()) + moved <= u128::from(max) {
        return Ok(());
    }
    let range = format!("a record's value outside -{max} to {max}");
    let room = max - initial.unsigned_abs().min(max);
    let from = match initial_key {
        "" => String::new(),
        key => format!(" from {key} = {initial}"),
    };
    let updates = match step_key {
        Some(_) => format!("transfers of up to {step}"),
        None => format!("updates of up to {step}"),
    };
    // The work's keys, each refused where a value of 1 or more fits beside the initial
    // value as written, with its largest: the step's (a bank transfer's `amount_max`)
    // and the count, the one set further from its default first.
    let (step_default, count_default) = match w {
        W::Bank(_) => {
            let d = crate::workload::BankConfig::default();
            (d.amount_max.unsigned_abs(), d.transactions)
        }
        W::Fig45(_) => (step, crate::workload::Fig45Config::default().transactions),
        _ => (step, transactions),
    };
    let step_refusal = step_key
        .filter(|_| room / transactions.max(1) >= 1)
        .map(|key| {
            bad(
                key,
                format!(
                    "{step} is out of range: {transactions} {updates}{from} could leave \
                     {range}: must be at most {}",
                    room / transactions.max(1)
                ),
            )
        });
    let count_refusal = (room / step >= 1).then(|| {
        bad(
            transactions_key(w),
            format!(
                "{transactions} is out of range: as many {updates}{from} could leave \
                 {range}: must be at most {}",
                room / step
            ),
        )
    });
    let step_first = step as f64 / step_default.max(1) as f64
        >= transactions as f64 / count_default.max(1) as f64;
    let work_refusal = match step_first {
        true => step_refusal.or(count_refusal),
        false => count_refusal.or(step_refusal),
    };
    // The work alone past an `i64`, or moving more than the initial value holds: the
    // work's key that fits.
    if moved > u128::from(max) || moved > u128::from(initial.unsigned_abs()) {
        if let Some(refusal) = work_refusal {
            return Err(refusal);
        }
    }
    if moved > u128::from(max) {
        // No one key fits beside the initial value: the step's (else the count's),
        // with what both need.
        let (key, value, alone) = match step_key {
            Some(key) => (key, step, max / transactions.max(1)),
            None => (transactions_key(w), transactions, max / step),
        };
        return Err(bad(
            key,
            format!(
                "{value} is out of range: {transactions} {updates}{from} could leave {range}, \
                 and no value of this key alone fits beside that {initial_key}: at most \
                 {alone} from 0, with {initial_key} nearer 0 by as much as they move"
            ),
        ));
    }
    let room = u128::from(max).saturating_sub(moved);
    Err(bad(
        initial_key,
        format!(
            "{initial} is out of range: {} changing a record by up to {step} each could \
             leave {range}: must be -{room} to {room}",
            counted(transactions, "transaction", "transactions"),
        ),
    ))
}

/// Blind writes replace a whole block and keep no before-image: one record per
/// block, nothing that rolls a write back, and every lock taken before the begin.
fn blind_writes(s: &Scenario) -> Result<(), SimError> {
    if s.workload.write_kind() != WriteKind::Blind {
        return Ok(());
    }
    let key = "workload.write_kind";
    let why = if s.geometry.records_per_block != 1 {
        format!(
            "a blind write replaces its whole block: geometry.records_per_block must be 1, not {}",
            s.geometry.records_per_block
        )
    } else if s.abort_probability > 0.0 || s.faults.active() {
        "a blind write keeps no before-image to roll back: abort_probability must be 0 \
         and [faults] off"
            .to_string()
    } else if s.locking.discipline != Discipline::Conservative {
        "blind writes need locking.discipline = \"conservative\" (incremental locks are \
         taken by the reads)"
            .to_string()
    } else {
        return Ok(());
    };
    Err(bad(key, why))
}

/// A data area smaller than the volume fills, and under `backup.on_data_area_full =
/// "break-guest-write"` the write refused then aborts its transaction: another abort
/// that a blind write, keeping no before-image, cannot roll back. Refused at
/// `workload.write_kind` for runs of `policies` where one has a data area (a volume of
/// `volume_blocks` blocks; validated sizes); `break-snapshot` aborts nothing.
fn blind_writes_full_area(
    s: &Scenario,
    policies: &[Policy],
    volume_blocks: u64,
) -> Result<(), SimError> {
    let b = &s.backup;
    let (key, value) = match (b.data_area_blocks, b.data_area_fraction) {
        (Some(n), _) => ("backup.data_area_blocks", n.to_string()),
        (None, Some(f)) => ("backup.data_area_fraction", f.to_string()),
        (None, None) => return Ok(()),
    };
    let slots = b.data_area_slots(volume_blocks);
    if s.workload.write_kind() != WriteKind::Blind
        || b.on_data_area_full != OnDataAreaFull::BreakGuestWrite
        || slots >= volume_blocks
    {
        return Ok(());
    }
    let Some(p) = policies
        .iter()
        .find(|p| p.has_data_area(b.baseline_variant))
    else {
        return Ok(());
    };
    Err(bad(
        "workload.write_kind",
        format!(
            "a blind write keeps no before-image to roll back, but under policy `{p}` the \
             data area ({key} = {value}: {} for the volume's {}) can fill, and \
             backup.on_data_area_full = \"break-guest-write\" then aborts the transaction \
             whose write it refuses: set \
             backup.on_data_area_full = \"break-snapshot\", remove {key} (the data area \
             then holds the whole volume), or set workload.write_kind = \
             \"read-modify-write\"",
            counted(slots, "slot", "slots"),
            counted(volume_blocks, "block", "blocks"),
        ),
    ))
}

/// A trace's `workload.time_scale`: finite and at least 0 (checked before the trace
/// is read too, so that no line's time is scaled by it first).
pub(crate) fn time_scale(c: &TraceConfig) -> Result<(), SimError> {
    if !(c.time_scale.is_finite() && c.time_scale >= 0.0) {
        return Err(bad(
            "workload.time_scale",
            format!(
                "{:?} is out of range: must be finite and at least 0",
                c.time_scale
            ),
        ));
    }
    Ok(())
}

/// A trace workload: its knobs, and the trace must have been loaded
/// (`Scenario::load_trace`).
fn trace(c: &TraceConfig) -> Result<(), SimError> {
    time_scale(c)?;
    at_least(
        "workload.ios_per_transaction_max",
        c.ios_per_transaction_max.into(),
        1,
    )?;
    if c.loaded.is_none() {
        return Err(bad(
            "workload.path",
            format!(
                "the trace {} is not loaded (Scenario::load_trace)",
                c.path.shown()
            ),
        ));
    }
    Ok(())
}

/// The `[faults]` section.
fn faults(f: &FaultsConfig) -> Result<(), SimError> {
    for (name, p, below_one) in [
        ("read_error_probability", f.read_error_probability, true),
        ("write_error_probability", f.write_error_probability, true),
        (
            "backup_read_error_probability",
            f.backup_read_error_probability,
            true,
        ),
        (
            "archive_write_error_probability",
            f.archive_write_error_probability,
            true,
        ),
        (
            "misdirected_write_probability",
            f.misdirected_write_probability,
            true,
        ),
        (
            "corrupt_block_probability",
            f.corrupt_block_probability,
            true,
        ),
        ("torn_write_probability", f.torn_write_probability, false),
        ("lost_write_probability", f.lost_write_probability, false),
        (
            "latency_spike_probability",
            f.latency_spike_probability,
            false,
        ),
    ] {
        let ok = if below_one {
            (0.0..1.0).contains(&p)
        } else {
            (0.0..=1.0).contains(&p)
        };
        if !ok {
            let range = if below_one {
                "must be at least 0 and below 1 (at 1 every try would meet the fault)"
            } else {
                "must be at least 0 and at most 1"
            };
            return Err(bad(
                &format!("faults.{name}"),
                format!("{p:?} is out of range: {range}"),
            ));
        }
    }
    if f.torn_write_probability + f.lost_write_probability > 1.0 {
        return Err(bad(
            "faults.lost_write_probability",
            "torn_write_probability + lost_write_probability exceeds 1".into(),
        ));
    }
    if f.crash_at_ticks.len() > CRASHES_MAX {
        return Err(bad(
            "faults.crash_at_ticks",
            format!("{} crashes, at most {CRASHES_MAX}", f.crash_at_ticks.len()),
        ));
    }
    // A second crash at a tick finds the device just restarted, nothing unflushed: a
    // repeated tick is a slip in the list, and would count as a crash that did nothing.
    let mut ticks = f.crash_at_ticks.clone();
    ticks.sort_unstable();
    if let Some(w) = ticks.windows(2).find(|w| w[0] == w[1]) {
        return Err(bad(
            "faults.crash_at_ticks",
            format!(
                "tick {} is given twice: the device crashes once at a tick (a second crash \
                 there would find nothing unflushed)",
                w[0]
            ),
        ));
    }
    if let (Some(heal), Some(&late)) = (
        f.heal_at_ticks,
        f.crash_at_ticks
            .iter()
            .find(|&&c| Some(c) >= f.heal_at_ticks),
    ) {
        return Err(bad(
            "faults.heal_at_ticks",
            format!("crash at {late} is not before heal_at_ticks {heal}"),
        ));
    }
    Ok(())
}

/// The data area (copy-on-write's, write logging's) of a volume of `volume_blocks`
/// blocks has at most [`engine::table::AREA_SLOTS_MAX`] slots; it defaults to the
/// volume's size, so a volume larger than that needs a smaller `data_area_blocks` or
/// `data_area_fraction`. Errors name the key that sets the size (`records_key`, the
/// workload's records or accounts, when none does).
fn data_area_size(
    b: &crate::scenario::BackupConfig,
    volume_blocks: u64,
    records_key: &str,
    trace_at: Option<String>,
) -> Result<(), SimError> {
    let slots = b.data_area_slots(volume_blocks);
    let max = engine::table::AREA_SLOTS_MAX;
    if slots <= max {
        return Ok(());
    }
    let (key, set) = if b.data_area_blocks.is_some() {
        ("backup.data_area_blocks", "")
    } else if b.data_area_fraction.is_some() {
        ("backup.data_area_fraction", "")
    } else {
        (
            records_key,
            " (the data area defaults to the volume's size)",
        )
    };
    // A trace's volume comes from its offsets: the line that sets it, and the way
    // out a trace has besides a smaller area.
    let (at, or) = match trace_at {
        Some(at) => (format!("{at}: "), format!(", or {DENSE_ADVICE}")),
        None => (String::new(), " (or fewer records)".to_string()),
    };
    Err(bad(
        key,
        format!(
            "{at}the data area would have {slots} slots{set}, at most {max}: \
             set backup.data_area_blocks to at most {max}{or}"
        ),
    ))
}

/// The data area's size: one of blocks (at least 1) or a fraction in (0, 1].
fn data_area(b: &crate::scenario::BackupConfig) -> Result<(), SimError> {
    if let Some(n) = b.data_area_blocks {
        at_least("backup.data_area_blocks", n, 1)?;
        if b.data_area_fraction.is_some() {
            return Err(bad(
                "backup.data_area_fraction",
                "give the data area as data_area_blocks or as data_area_fraction, not both".into(),
            ));
        }
    }
    match b.data_area_fraction {
        Some(f) if !(f > 0.0 && f <= 1.0) => Err(bad(
            "backup.data_area_fraction",
            format!("{f:?} is out of range: must be above 0 and at most 1"),
        )),
        _ => Ok(()),
    }
}

/// Every duration and time a scenario gives is at most [`FIELD_TICKS_MAX`], so no sum
/// or product of them in a run can overflow (a typed error, not a panic).
fn tick_fields(s: &Scenario) -> Result<(), SimError> {
    let d = &s.device;
    let b = &s.backup;
    let f = &s.faults;
    let mut fields = d.latencies().to_vec();
    fields.extend([
        ("device.jitter_ticks_max", d.jitter_ticks_max),
        ("backup.request_at_ticks", b.request_at_ticks.unwrap_or(0)),
        ("backup.setup_window_ticks", b.setup_window_ticks),
        (
            "backup.quiesce_deadline_ticks",
            b.quiesce_deadline_ticks.unwrap_or(0),
        ),
        (
            "backup.quiesce_retry_backoff_ticks",
            b.quiesce_retry_backoff_ticks,
        ),
        ("archive.latency_ticks", s.archive.latency_ticks),
        (
            "detach.latency_ticks",
            s.detach.as_ref().map_or(0, |d| d.latency_ticks),
        ),
        ("retry_backoff_ticks", s.retry_backoff_ticks),
        ("faults.latency_spike_ticks_max", f.latency_spike_ticks_max),
        ("faults.io_retry_ticks", f.io_retry_ticks),
        ("faults.heal_at_ticks", f.heal_at_ticks.unwrap_or(0)),
    ]);
    fields.extend(
        f.crash_at_ticks
            .iter()
            .map(|&t| ("faults.crash_at_ticks", t)),
    );
    match &s.workload {
        W::Fig3(c) => fields.push(("workload.jitter_ticks", c.jitter_ticks)),
        W::Fig45(c) => fields.extend([
            ("workload.arrival_ticks_mean", c.arrival_ticks_mean),
            ("workload.compute_ticks_max", c.compute_ticks_max),
            ("workload.compute_ticks_min", c.compute_ticks_min),
        ]),
        W::Bank(c) => fields.extend([
            ("workload.arrival_ticks_mean", c.arrival_ticks_mean),
            ("workload.compute_ticks_max", c.compute_ticks_max),
            ("workload.compute_ticks_min", c.compute_ticks_min),
        ]),
        W::Generated(c) => {
            fields.extend([
                ("workload.compute_ticks_max", c.compute_ticks_max),
                ("workload.compute_ticks_min", c.compute_ticks_min),
            ]);
            fields.push(match c.arrivals {
                Arrivals::Open {
                    interarrival_ticks_mean,
                } => (
                    "workload.arrivals.interarrival_ticks_mean",
                    interarrival_ticks_mean,
                ),
                Arrivals::Closed {
                    think_ticks_mean, ..
                } => ("workload.arrivals.think_ticks_mean", think_ticks_mean),
            });
        }
        W::Trace(c) => fields.extend([
            ("workload.compute_ticks", c.compute_ticks),
            ("workload.idle_gap_ticks", c.idle_gap_ticks),
        ]),
    }
    match fields.iter().find(|(_, t)| *t > FIELD_TICKS_MAX) {
        Some((name, t)) => {
            // The back-off's key is a scale, not a wait: say what it scales.
            let what = if *name == "retry_backoff_ticks" {
                " (the scale of a deadlock victim's random back-off: its k-th retry waits \
                 a uniform 1..=this × 2^min(k, 10) ticks)"
            } else {
                ""
            };
            Err(bad(
                name,
                format!("{t} exceeds {FIELD_TICKS_MAX} ticks{what}"),
            ))
        }
        None => Ok(()),
    }
}

/// A device's rates (`transfer_bytes_per_s`, `sequential_read_bytes_per_s`) move one
/// block in at most [`FIELD_TICKS_MAX`] ticks, as every other duration (0: none).
fn device_rates(s: &Scenario) -> Result<(), SimError> {
    let block = s.geometry.block_size_bytes;
    let rates = [
        (
            "device.transfer_bytes_per_s",
            s.device.transfer_bytes_per_s,
            s.device.block_transfer_ticks(block as u64),
            "moves",
            "no transfer time",
        ),
        (
            "device.sequential_read_bytes_per_s",
            s.device.sequential_read_bytes_per_s,
            s.device.block_sequential_read_ticks(block as u64),
            "reads",
            "a continuing read costs its latency",
        ),
    ];
    for (key, rate, ticks, verb, zero) in rates {
        if rate != 0 && ticks > FIELD_TICKS_MAX {
            return Err(bad(
                key,
                format!(
                    "{rate} bytes per second {verb} a block of {block} bytes in {ticks} \
                     ticks, more than {FIELD_TICKS_MAX}: give a faster rate (or 0: {zero})"
                ),
            ));
        }
    }
    Ok(())
}

/// The key that sets a workload's transactions: a trace's come from its file.
fn transactions_key(w: &W) -> &'static str {
    match w {
        W::Trace(_) => "workload.path",
        _ => "workload.transactions",
    }
}

/// The keys whose values drive a check on `key`, most direct first: when a file leaves
/// `key` at its default, its refusal belongs at the first of these the file sets (a
/// large `workload.records` with no `[limits]` is refused at `workload.records`,
/// naming `limits.volume_bytes_max` to raise). A dotted key or a table (`faults`,
/// `detach`). Empty for a key no other key drives.
/// The keys that space a workload's arrivals (so place its default request).
const ARRIVAL_KEYS: [&str; 2] = [
    "workload.arrival_ticks_mean",
    "workload.arrivals.interarrival_ticks_mean",
];

pub(crate) fn drivers(s: &Scenario, key: &str) -> Vec<&'static str> {
    let records = s.workload.records_key();
    let work = s.workload.work_keys();
    let mut out = match key {
        "limits.volume_bytes_max" => vec![
            records,
            "workload.addresses",
            "geometry.block_size_bytes",
            "geometry.records_per_block",
        ],
        "limits.archive_blocks_max" => vec![
            records,
            "workload.addresses",
            "geometry.records_per_block",
            "backup.cycles",
            "backup.schedule_at_ticks",
            "detach",
            "archive.sparse",
            "device.integrity",
            "faults",
        ],
        "limits.memory_bytes_max" => [
            &work[..],
            &[
                records,
                "workload.addresses",
                "keep_history",
                "keep_timeline",
                "device.integrity",
            ],
        ]
        .concat(),
        "limits.output_bytes_max" => [
            &work[..],
            &["keep_timeline", "backup.cycles", "backup.schedule_at_ticks"],
        ]
        .concat(),
        "workload.transactions" => vec!["limits.attempts_max", "limits.events_max"],
        // The default request: the workload's own time, its count and arrivals.
        "backup.request_at_ticks" => work.iter().copied().chain(ARRIVAL_KEYS).collect(),
        // The request (its default the workload's own time: its count and arrivals).
        "limits.time_ticks_max" => vec![
            "backup.request_at_ticks",
            "backup.schedule_at_ticks",
            "backup.period_ticks",
            "backup.cycles",
        ]
        .into_iter()
        .chain(work.iter().copied())
        .chain(ARRIVAL_KEYS)
        .collect(),
        // VLUN B ready past the time limit: the limit, then the request's keys.
        "backup.setup_window_ticks" => vec![
            "limits.time_ticks_max",
            "backup.request_at_ticks",
            "backup.schedule_at_ticks",
        ]
        .into_iter()
        .chain(work.iter().copied())
        .chain(ARRIVAL_KEYS)
        .collect(),
        // What the transactions move a record by, and how many there are.
        "workload.initial_balance" => vec!["workload.amount_max", "workload.transactions"],
        "workload.initial_value" => vec!["workload.transactions"],
        "geometry.records_per_block" => vec!["geometry.block_size_bytes"],
        "device.transfer_bytes_per_s" => vec!["geometry.block_size_bytes"],
        "device.sequential_read_bytes_per_s" => vec!["geometry.block_size_bytes"],
        "faults.lost_write_probability" => vec!["faults.torn_write_probability"],
        "workload.updates_min" => vec!["workload.updates_max"],
        "workload.compute_ticks_min" => vec!["workload.compute_ticks_max", "limits.time_ticks_max"],
        "workload.length_min" => vec!["workload.length_max"],
        _ => Vec::new(),
    };
    if !matches!(s.workload, W::Trace(_)) {
        out.retain(|k| *k != "workload.addresses");
    }
    out
}
