//! Keys that have no effect on a run: a value the scenario carries that nothing in the
//! runs of the given policies reads, because another key or the policy set turns off
//! what it tunes (`backup.quiesce_retries_max` without `backup.quiesce_deadline_ticks`:
//! no attempt ever fails, so none is retried).
//!
//! The simulator cannot tell a key a file sets from a default, so it lists every key
//! that is inert in the scenario ([`inert_keys`]); the command line refuses each one
//! the file sets, at its line (exit 2). A sweep refuses a key only when it is inert at
//! every point of its grid (a sweep of `backup.data_area_fraction` up to 1.0 beside
//! `backup.on_data_area_full` is a documented use: the other points use the key).

use crate::policy::Policy;
use crate::scenario::Scenario;
use crate::workload::trace::{Grouping, TraceFormat};
use crate::workload::{HotSpot, WorkloadConfig as W};

/// One key with no effect, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inert {
    /// The dotted key (`backup.quiesce_retries_max`), or a table (`archive`) when the
    /// whole table has no effect: then every key under it does.
    pub key: &'static str,
    /// What turns it off, in the file's words: `has no effect without
    /// backup.quiesce_deadline_ticks (...)`.
    pub why: String,
}

fn inert(out: &mut Vec<Inert>, keys: &[&'static str], why: &str) {
    for &key in keys {
        if !out.iter().any(|i| i.key == key) {
            out.push(Inert {
                key,
                why: why.to_string(),
            });
        }
    }
}

/// The keys of `s` that no run of `policies` reads, each with the reason, in a fixed
/// order (when a key has several reasons, the first listed: the policy set's before
/// another key's). Sources of truth: the policies' own predicates
/// ([`Policy::backs_up`], [`Policy::is_owm`], [`Policy::has_data_area`]) and the run's uses of each key
/// (`world/`); the rules are listed in `scenarios/README.md` ("Keys without effect").
pub fn inert_keys(s: &Scenario, policies: &[Policy]) -> Vec<Inert> {
    let mut out = Vec::new();
    let b = &s.backup;
    let f = &s.faults;
    let any = |pred: &dyn Fn(Policy) -> bool| policies.iter().any(|&p| pred(p));

    // What the policy set leaves out.
    if !any(&|p| p.backs_up()) {
        inert(
            &mut out,
            &[
                "archive",
                "detach",
                "backup.setup_window_ticks",
                "backup.baseline_variant",
                "backup.quiesce_deadline_ticks",
                "backup.quiesce_retries_max",
                "backup.quiesce_retry_backoff_ticks",
                "backup.data_area_blocks",
                "backup.data_area_fraction",
                "backup.on_data_area_full",
                "locking.type_b_blocks",
                "faults.backup_read_error_probability",
                "faults.archive_write_error_probability",
                "device.sequential_read_bytes_per_s",
            ],
            "has no effect: no policy of the run backs up (`none` takes no backup, makes no \
             split and no copy); add a backup policy to `policies` or remove the key",
        );
    }
    if !any(&|p| p.backs_up()) {
        // `none` runs a plain volume that never splits: no call reaches the engine's
        // flush barriers or journal syncs (the phase change, copy-on-write's durable
        // copy, write logging's slot, the mirror's dirty mark, a dropped entry).
        if !s.workload.flush_at_commit() {
            inert(
                &mut out,
                &["device.flush_latency_ticks"],
                "has no effect: no policy of the run backs up, and `none`'s plain volume \
                 never splits, so no call waits for a flush barrier (nor does the workload \
                 flush at commit: workload.flush_at_commit is off); add a backup policy to \
                 `policies` or remove the key",
            );
        }
        inert(
            &mut out,
            &[
                "device.journaled",
                "device.journal_sync_latency_ticks",
                "device.journal_lane",
                "faults.power_safe",
            ],
            "has no effect: no policy of the run backs up, and `none`'s plain volume \
             never splits, so no call waits for the engine's flush barriers or journal \
             syncs; add a backup policy to `policies` or remove the key",
        );
    }
    if !any(&|p| p.is_owm()) {
        inert(
            &mut out,
            &["locking.type_b_blocks"],
            "has no effect: only the one-way mirror's policies (`mirroring`, `logging`, \
             `cow`) lock type (b) blocks, from the split until the old transactions end \
             (`quiesce` splits when none is active, `crash-consistent` moves them all to \
             VLUN B); add one to `policies` or remove the key",
        );
    }
    if !any(&|p| p == Policy::Quiesce) {
        inert(
            &mut out,
            &[
                "backup.quiesce_deadline_ticks",
                "backup.quiesce_retries_max",
                "backup.quiesce_retry_backoff_ticks",
            ],
            "has no effect: no policy of the run quiesces (only `quiesce` does); add \
             `quiesce` to `policies` or remove the key",
        );
    }
    if !any(&|p| matches!(p, Policy::Quiesce | Policy::CrashConsistent)) {
        inert(
            &mut out,
            &["backup.baseline_variant"],
            "has no effect: only `quiesce` and `crash-consistent` run on the baseline \
             variant, and the run has neither; add one to `policies` or remove the key",
        );
    }
    if !any(&|p| p.has_data_area(b.baseline_variant)) {
        inert(
            &mut out,
            &[
                "backup.data_area_blocks",
                "backup.data_area_fraction",
                "backup.on_data_area_full",
            ],
            "has no effect: no policy of the run has a data area (only `logging` and `cow` \
             do, and `quiesce` / `crash-consistent` with backup.baseline_variant \
             \"logging\" or \"cow\"); add one to `policies` or remove the key",
        );
    }
    if !any(&|p| p.has_data_area(b.baseline_variant)) {
        inert(
            &mut out,
            &[
                "device.table_update_latency_ticks",
                "device.table_lookup_latency_ticks",
            ],
            "has no effect: no policy of the run keeps a lookup table (only `logging` and \
             `cow` do, and `quiesce` / `crash-consistent` with backup.baseline_variant \
             \"logging\" or \"cow\"), so no call creates, drops or probes an entry; add \
             one to `policies` or remove the key",
        );
    }

    // What another key turns off.
    if !f.power_safe {
        if !s.workload.flush_at_commit() {
            inert(
                &mut out,
                &["device.flush_latency_ticks"],
                "has no effect under faults.power_safe = false: the engine issues no flush \
                 barrier (nor does the workload flush at commit: workload.flush_at_commit \
                 is off); set power_safe = true or remove the key",
            );
        }
        inert(
            &mut out,
            &[
                "device.journaled",
                "device.journal_sync_latency_ticks",
                "device.journal_lane",
            ],
            "has no effect under faults.power_safe = false: the engine syncs its journal \
             only in its power-safe order, so no call waits for a journal sync; set \
             power_safe = true or remove the key",
        );
    }
    if f.active() {
        inert(
            &mut out,
            &["device.journaled"],
            "has no effect under active [faults]: the engine keeps its journal anyway (a \
             crash is recovered from it), so the calls pay its syncs either way; remove \
             the key",
        );
    }
    if b.quiesce_deadline_ticks.is_none() {
        inert(
            &mut out,
            &[
                "backup.quiesce_retries_max",
                "backup.quiesce_retry_backoff_ticks",
            ],
            "has no effect without backup.quiesce_deadline_ticks (no deadline: no quiesce \
             attempt ever fails, so none is retried); set the deadline or remove the key",
        );
    }
    if b.quiesce_retries_max == 0 {
        inert(
            &mut out,
            &["backup.quiesce_retry_backoff_ticks"],
            "has no effect with backup.quiesce_retries_max = 0 (a missed deadline gives \
             the backup up: no retry waits for the back-off); raise quiesce_retries_max or \
             remove the key",
        );
    }
    if b.cycles == Some(1) && b.schedule_at_ticks.is_empty() {
        inert(
            &mut out,
            &["backup.period_ticks"],
            "has no effect with backup.cycles = 1 (one request: no period between two); \
             raise cycles, or remove the key and backup.cycles",
        );
    }
    let detach_extent = s.detach.as_ref().map(|d| d.extent_blocks);
    if s.archive.extent_blocks <= 1 && detach_extent.is_none_or(|e| e <= 1) {
        let detach = match detach_extent {
            None => "no [detach]",
            Some(_) => "detach.extent_blocks = 1",
        };
        inert(
            &mut out,
            &["device.sequential_read_bytes_per_s"],
            &format!(
                "has no effect with archive.extent_blocks = 1 and {detach}: only a read of a \
                 copy's extent after the block before it continues a run (a user's read costs \
                 its latency wherever it lies), and each extent is one block; raise \
                 extent_blocks or remove the key"
            ),
        );
    }
    if let Ok(layout) = s.layout() {
        let volume = layout.volume_blocks;
        if b.data_area_slots(volume) >= volume {
            inert(
                &mut out,
                &["backup.on_data_area_full"],
                &format!(
                    "has no effect: the data area holds the whole volume ({}) \
                     and never fills; make it smaller with backup.data_area_blocks or \
                     backup.data_area_fraction, or remove the key",
                    crate::number_text::counted(volume, "block", "blocks")
                ),
            );
        }
    }
    if s.locking.discipline == crate::scenario::Discipline::Conservative {
        inert(
            &mut out,
            &["retry_backoff_ticks"],
            "has no effect under locking.discipline = \"conservative\" (deadlock-free: no \
             deadlock victim is ever retried); set discipline = \"incremental\" or remove \
             the key",
        );
    }
    if f.crash_at_ticks.is_empty() {
        inert(
            &mut out,
            &[
                "faults.torn_write_probability",
                "faults.lost_write_probability",
            ],
            "has no effect without faults.crash_at_ticks (writes are torn or lost only at \
             a crash); add a crash or remove the key",
        );
    }
    if f.latency_spike_probability == 0.0 {
        inert(
            &mut out,
            &["faults.latency_spike_ticks_max"],
            "has no effect without faults.latency_spike_probability above 0 (no spike \
             happens); set it or remove the key",
        );
    }
    if f.read_error_probability == 0.0
        && f.write_error_probability == 0.0
        && f.backup_read_error_probability == 0.0
        && f.archive_write_error_probability == 0.0
    {
        inert(
            &mut out,
            &["faults.io_retry_ticks"],
            "has no effect without an I/O error to retry (faults.read_error_probability, \
             write_error_probability, backup_read_error_probability or \
             archive_write_error_probability above 0); set one or remove the key",
        );
    }
    if !f.active() {
        inert(
            &mut out,
            &["faults.heal_at_ticks"],
            "has no effect: no fault is injected (no crash, every probability 0), so \
             there is nothing to heal; inject a fault or remove the key",
        );
    }
    if s.archive.sparse && (f.active() || s.device.integrity) {
        inert(
            &mut out,
            &["archive.sparse"],
            "has no effect under active [faults] or device.integrity: the stores cannot \
             tell which blocks hold data, so the archive copy reads every block, as a dense \
             one does; remove the key (or the faults, or integrity)",
        );
    }
    if !s.device.journaled && !f.active() {
        inert(
            &mut out,
            &["device.journal_sync_latency_ticks"],
            "has no effect without a journal (device.journaled = true, or [faults]): the \
             engine keeps none, so no call pays a journal sync; set journaled = true or \
             remove the key",
        );
    }
    // A key whose own value decides whether it acts is judged against the value the
    // run would have without it: the profile's (`[device] profile = "nvme-ssd"` sets
    // 1 write slot), else the plain default. Raising a profile's bound back to "no
    // bound" acts on the run; repeating "no bound" where there is none does not.
    if let Some(w) = s.device.write_channels {
        let bounds = |w: u32| w < s.device.channels;
        let without = s.device.profile.and_then(|p| p.config().write_channels);
        if !bounds(w) && !without.is_some_and(bounds) {
            inert(
                &mut out,
                &["device.write_channels"],
                &format!(
                    "has no effect: {w} write slots, at or above device.channels = {}, \
                     never hold a write back (a call needs a channel first){}; lower it or \
                     remove the key",
                    s.device.channels,
                    match without {
                        Some(p) => format!(", nor do the profile's {p} it replaces"),
                        None => String::new(),
                    }
                ),
            );
        }
    }
    for (key, a) in [("archive", Some(&s.archive)), ("detach", s.detach.as_ref())] {
        let Some(a) = a else { continue };
        let bandwidth = a.bandwidth_bytes_per_s.max(1);
        let bounds = |r: u64| r > 0 && r < bandwidth;
        let without = a
            .profile
            .map_or_else(crate::archive::ArchiveConfig::default, |p| p.config())
            .rate_limit_bytes_per_s;
        if a.rate_limit_bytes_per_s > 0 && !bounds(a.rate_limit_bytes_per_s) && !bounds(without) {
            inert(
                &mut out,
                &[if key == "archive" {
                    "archive.rate_limit_bytes_per_s"
                } else {
                    "detach.rate_limit_bytes_per_s"
                }],
                &format!(
                    "has no effect: {} is at or above the target's bandwidth \
                     ({key}.bandwidth_bytes_per_s = {bandwidth}), which already bounds the \
                     copy; lower it or remove the key",
                    a.rate_limit_bytes_per_s
                ),
            );
        }
    }
    match &s.workload {
        W::Generated(c) if c.hot_spot == HotSpot::Uniform => inert(
            &mut out,
            &["workload.hot_spot.exponent"],
            "has no effect with shape = \"uniform\" (every record equally likely); set \
             shape = \"zipf\" or remove the key",
        ),
        W::Trace(c) => {
            if c.format != TraceFormat::Blkparse {
                inert(
                    &mut out,
                    &["workload.blkparse_event"],
                    "has no effect: only format = \"blkparse\" reads it; remove the key",
                );
            }
            if c.grouping == Grouping::Io {
                inert(
                    &mut out,
                    &[
                        "workload.idle_gap_ticks",
                        "workload.ios_per_transaction_max",
                    ],
                    "has no effect with grouping = \"io\" (one I/O, one transaction); set \
                     grouping = \"stream\" or remove the key",
                );
            }
        }
        _ => {}
    }
    out
}
