//! From a simulator result to a timing diagram in the patent's style: Fig 3A (no
//! backup), Fig 3B (quiesce), Fig 3C (one-way mirror) for the fig3 workload, Fig 4 for
//! fig4-5 (one row per process, 503/504 then 507/508, its transactions a bar each; at most
//! [`ROWS_MAX`] rows), and a window of transactions
//! around the backup request for the bigger workloads.
//!
//! Colour rule: a running stretch before the split is the single volume; after the
//! split it takes the colour of the VLUN the transaction used (`TxnTimeline::vlun`,
//! which the simulator sets to B for the in-flight transactions of a crash-consistent
//! snapshot). Waiting is everything between arrival and the end that is not running.

use std::collections::BTreeMap;

use engine::Vlun;
use sim::{Outcome, Policy, RunResult, TxnTimeline, WaitKind};

use crate::tables::NamedRun;
use crate::timing::{Bar, Diagram, Fill, Mark, MarkKind, Row, Segment};

/// Bars at most in one transaction diagram; a bigger run shows a window around the
/// backup request (the title says which).
pub const ROWS_MAX: usize = 40;

/// The diagram's title: the patent figure it corresponds to, when there is one.
pub fn title(run: &NamedRun) -> String {
    let r = &run.result;
    let backup = r.marks.request.is_some();
    let what = match (backup, r.policy) {
        (false, _) | (_, Policy::None) => "no backup".to_string(),
        (true, Policy::Quiesce) => {
            "quiesce (prior art): hold new transactions, copy, resume".to_string()
        }
        (true, Policy::CrashConsistent) => "crash-consistent snapshot at the request".to_string(),
        (true, Policy::Owm(v)) => format!("one-way mirror, {v} variant"),
    };
    let fig = match (r.workload.as_str(), backup, r.policy) {
        ("fig3", false, _) => Some("Fig 3A"),
        ("fig3", true, Policy::Quiesce) => Some("Fig 3B"),
        ("fig3", true, Policy::Owm(_)) => Some("Fig 3C"),
        // Every panel of fig4-5 is a Fig 4 (one row per process), the prior art and
        // `none` beside the one-way mirror, as fig3's are Fig 3A/3B/3C.
        ("fig4-5", _, _) => Some("Fig 4"),
        _ => None,
    };
    match fig {
        Some(f) => format!("{f} — {what} (scenario {}, seed {})", r.scenario, r.seed),
        None => format!(
            "{} — {what} (policy {}, seed {})",
            r.scenario, run.name, r.seed
        ),
    }
}

fn wait_text(k: WaitKind) -> &'static str {
    match k {
        WaitKind::Queue => "queue",
        WaitKind::Lock => "lock",
        WaitKind::TypeB => "type b",
        WaitKind::Gate => "gate",
        WaitKind::Backoff => "backoff",
    }
}

/// When an attempt's bar ends: its end, or the run's for one still running.
fn bar_end(t: &TxnTimeline, r: &RunResult) -> u64 {
    t.ended_ticks.unwrap_or(r.end_ticks).max(t.arrived_ticks)
}

/// Where an aborted attempt's bar ends (its × in the diagram), none for any other.
fn aborted_end(t: &TxnTimeline, r: &RunResult) -> Option<u64> {
    (t.outcome == Outcome::Aborted).then(|| bar_end(t, r))
}

/// The stretches of one transaction: waits, and running split at the split time.
/// `with_queue` false leaves out waits in queue 502 (a process row does not wait for
/// its own next transaction): the bar then starts when a process took the
/// transaction, the end of its last queue wait (its arrival without one), and the
/// waits from then on (at quiesce's gate, for a lock) are on the process's row.
fn segments(t: &TxnTimeline, r: &RunResult, with_queue: bool) -> Vec<Segment> {
    let end = bar_end(t, r);
    let start = t.admitted_ticks.unwrap_or(end).clamp(t.arrived_ticks, end);
    let taken = t
        .waits
        .iter()
        .filter(|w| w.kind == WaitKind::Queue)
        .map(|w| w.until_ticks)
        .max()
        .unwrap_or(t.arrived_ticks)
        .clamp(t.arrived_ticks, start);
    let mut waits: Vec<(u64, u64, Option<WaitKind>)> = t
        .waits
        .iter()
        .filter(|w| with_queue || w.kind != WaitKind::Queue)
        .map(|w| (w.from_ticks, w.until_ticks.max(w.from_ticks), Some(w.kind)))
        .collect();
    waits.sort_by_key(|w| (w.0, w.1));
    let mut out = Vec::new();
    // Uncovered time before admission is waiting too (unlabelled); on a process's row
    // from when the process took the transaction.
    let mut cursor = if with_queue { t.arrived_ticks } else { taken };
    let push_gap = |from: u64, until: u64, out: &mut Vec<Segment>| {
        if until <= from {
            return;
        }
        if until <= start {
            out.push(Segment {
                from,
                until,
                fill: Fill::Wait,
                text: None,
            });
            return;
        }
        let from_run = from.max(start);
        if from < from_run {
            out.push(Segment {
                from,
                until: from_run,
                fill: Fill::Wait,
                text: None,
            });
        }
        run_pieces(from_run, until, t, r, out);
    };
    for &(from, until, kind) in &waits {
        let from = from.max(cursor);
        if until <= from {
            continue;
        }
        push_gap(cursor, from, &mut out);
        out.push(Segment {
            from,
            until,
            fill: Fill::Wait,
            text: kind.map(|k| wait_text(k).to_string()),
        });
        cursor = until;
    }
    push_gap(cursor, end, &mut out);
    out
}

/// A running stretch, cut at the split into single-volume and VLUN parts.
fn run_pieces(from: u64, until: u64, t: &TxnTimeline, r: &RunResult, out: &mut Vec<Segment>) {
    let after = match t.vlun {
        Some(Vlun::A) => Fill::VlunA,
        Some(Vlun::B) => Fill::VlunB,
        None => Fill::Single,
    };
    let (cut, before) = cut_of(t, r);
    match cut {
        Some(s) if s <= from => out.push(Segment {
            from,
            until,
            fill: after,
            text: None,
        }),
        Some(s) if s < until => {
            out.push(Segment {
                from,
                until: s,
                fill: before,
                text: None,
            });
            out.push(Segment {
                from: s,
                until,
                fill: after,
                text: None,
            });
        }
        _ => out.push(Segment {
            from,
            until,
            fill: before,
            text: None,
        }),
    }
}

/// Where a transaction's running stretch changes colour, and its colour before: at the
/// first split for one begun on the single volume; with backups on a schedule, a
/// transaction begun on VLUN B after a retire and still running at the next split
/// goes on on VLUN A (an OLD one of that cycle: `TxnTimeline::vlun` is then A).
fn cut_of(t: &TxnTimeline, r: &RunResult) -> (Option<u64>, Fill) {
    let first = r.marks.split;
    let admitted = t.admitted_ticks.unwrap_or(u64::MAX);
    match first {
        Some(s1) if admitted >= s1 && t.vlun == Some(Vlun::A) => {
            let next = r
                .cycles
                .iter()
                .filter_map(|c| c.marks.split)
                .find(|&s| s > admitted);
            (next, Fill::VlunB)
        }
        _ => (first, Fill::Single),
    }
}

/// Every cycle's milestones; the patent's numerals on the first cycle's only, and
/// each mark labelled with its cycle when there are several.
fn marks(r: &RunResult) -> Vec<Mark> {
    if r.cycles.len() <= 1 {
        return cycle_marks(r, &r.marks, None);
    }
    r.cycles
        .iter()
        .flat_map(|c| cycle_marks(r, &c.marks, Some(c.cycle)))
        .collect()
}

/// The name of a quiesce attempt's missed deadline (the gate reopened, the backup
/// not lost: a retry follows).
const QUIESCE_MISSED: &str = "quiesce deadline missed, gate reopened";

/// The milestones at which a run's extra space is given back or its backup lost, as
/// the timing diagram names them: each cycle's retire (`A retired`), an abandoned
/// backup's abandon (`backup abandoned (data area full)`, a full data area under
/// `break-snapshot` or a rollback's write) and VLUN A's drop that follows it (`A
/// dropped, no archive`), and a backup given up (`backup given up`); not a quiesce
/// attempt's missed deadline, which a retry follows. The extra space plots mark them
/// so that a drop of extra space reads as what it is.
pub fn space_marks(r: &RunResult) -> Vec<Mark> {
    marks(r)
        .into_iter()
        .filter(|m| match m.kind {
            MarkKind::Retire => true,
            MarkKind::Failed => m.name != QUIESCE_MISSED,
            _ => false,
        })
        .collect()
}

fn cycle_marks(r: &RunResult, m: &sim::Marks, cycle: Option<u32>) -> Vec<Mark> {
    let (req, ready, cons) = match r.workload.as_str() {
        "fig3" if r.policy == Policy::Quiesce => (Some(350), None, Some(351)),
        "fig3" => (Some(350), Some(450), Some(451)),
        "fig4-5" => (Some(521), None, Some(522)),
        _ => (None, None, None),
    };
    let (req, ready, cons) = if cycle.is_some_and(|k| k > 1) {
        (None, None, None)
    } else {
        (req, ready, cons)
    };
    let (ready_name, cons_name) = match r.policy {
        Policy::None => ("", ""),
        Policy::Quiesce => ("copy taken, new transactions resume", "point-in-time copy"),
        Policy::CrashConsistent => ("VLUN B ready", "A copied as is (not consistent)"),
        Policy::Owm(_) => ("VLUN B ready", "A consistent"),
    };
    // Quiesce's missed deadlines, its retries and a backup given up.
    let failed = m
        .quiesce_timeouts
        .iter()
        .map(|&t| (Some(t), MarkKind::Failed, None, QUIESCE_MISSED))
        .chain(
            m.quiesce_retries
                .iter()
                .map(|&t| (Some(t), MarkKind::Request, None, "quiesce retried")),
        )
        .chain([
            (m.given_up, MarkKind::Failed, None, "backup given up"),
            // A full data area under `break-snapshot`, or a rollback's write that
            // needed a slot of it: A dropped with no archive.
            (
                m.abandoned,
                MarkKind::Failed,
                None,
                if m.abandoned_for_rollback {
                    "backup abandoned (data area full: a rollback needed a slot)"
                } else {
                    "backup abandoned (data area full)"
                },
            ),
            (m.a_dropped, MarkKind::Retire, None, "A dropped, no archive"),
        ]);
    let list = [
        (m.request, MarkKind::Request, req, "backup request"),
        (m.vlun_b_ready, MarkKind::BReady, ready, ready_name),
        (m.a_consistent, MarkKind::AConsistent, cons, cons_name),
        (
            m.archive_copy,
            MarkKind::ArchiveCopy,
            None,
            "archive copy done",
        ),
        (m.retire, MarkKind::Retire, None, "A retired"),
        (m.detach_end, MarkKind::DetachEnd, None, "B copied to B'"),
    ];
    list.into_iter()
        .chain(failed)
        .filter_map(|(at, kind, numeral, name)| {
            at.map(|at| Mark {
                at,
                kind,
                numeral,
                name: name.to_string(),
                cycle,
            })
        })
        .collect()
}

/// The timing diagram of one run (a run without a request, `none`, centred on half
/// its length: [`diagram_of`] takes the scenario's requests).
pub fn diagram(run: &NamedRun) -> Diagram {
    diagram_of(run, run.result.transactions.len(), &[], true)
}

/// What a diagram's title says of a run whose timeline was not kept: it draws the
/// milestones alone.
pub const TIMELINE_OFF: &str = "transactions not drawn: keep_timeline = false";

/// The timing diagram of one run whose `transactions` may be a selection already made
/// as the run went ([`crate::diagram_rows::DiagramRows`]) of `attempts` in all.
/// `scheduled`: the ticks the scenario requests its backups at, which the window of a
/// run that requested none (`none`) centres on, as the selection made as it went does,
/// so that its diagram shows the same stretch of the load as the backup policies'.
/// `timeline`: whether the scenario kept the transactions' timeline
/// (`keep_timeline`); without it the diagram draws the milestones alone and its title
/// says why ([`TIMELINE_OFF`]).
pub fn diagram_of(run: &NamedRun, attempts: usize, scheduled: &[u64], timeline: bool) -> Diagram {
    let r = &run.result;
    let by_process = r.workload == "fig4-5"
        && r.transactions.iter().any(|t| t.process.is_some())
        && r.transactions
            .iter()
            .all(|t| t.process.is_some() || t.admitted_ticks.is_none());
    let mut d = if by_process {
        process_rows(r, scheduled)
    } else {
        transaction_rows(r, attempts, scheduled)
    };
    d.title = format!("{}{}", title(run), d.title);
    if !timeline {
        d.title.push_str(&format!(" — {TIMELINE_OFF}"));
    }
    d.marks = marks(r);
    if !by_process && attempts.max(r.transactions.len()) > ROWS_MAX {
        d.marks.extend(scheduled_marks(r, scheduled));
    }
    d
}

/// In a run that made no request (`none`) whose diagram shows the transactions around
/// the requests the scenario schedules (`scheduled`), a request mark at each of them,
/// named as one no backup followed, so the panel shows where the others' requests
/// fall; nothing in a run that made one.
fn scheduled_marks(r: &RunResult, scheduled: &[u64]) -> Vec<Mark> {
    if r.marks.request.is_some() || !r.cycles.is_empty() {
        return Vec::new();
    }
    let several = scheduled.len() > 1;
    (1u32..)
        .zip(scheduled)
        .map(|(k, &at)| Mark {
            at,
            kind: MarkKind::Request,
            numeral: None,
            name: "request scheduled (no backup in this run)".to_string(),
            cycle: several.then_some(k),
        })
        .collect()
}

fn label_of(r: &RunResult, t: &TxnTimeline) -> String {
    if r.workload == "fig3" {
        t.label.to_string()
    } else {
        format!("#{}", t.label)
    }
}

/// The requests a diagram's window of transactions centres on: the first cycle's, or
/// every cycle's with several; in a run that requested none (`none`), those the
/// scenario schedules (`scheduled`), else half the run.
pub(crate) fn window_requests(r: &RunResult, scheduled: &[u64]) -> Vec<u64> {
    match r.cycles.len() {
        0 | 1 => match r.marks.request {
            Some(at) => vec![at],
            None if !scheduled.is_empty() => scheduled.to_vec(),
            None => vec![r.end_ticks / 2],
        },
        _ => r.cycles.iter().filter_map(|c| c.marks.request).collect(),
    }
}

/// The requests a diagram's [`ROWS_MAX`] rows are shared among, and each one's share:
/// every request, in equal shares, while there are at most [`ROWS_MAX`]; beyond, the
/// first [`ROWS_MAX`] (the earliest: `requests` ascend), one row each, so a run of
/// many cycles still draws transactions.
pub(crate) fn shared_requests(requests: &[u64]) -> (&[u64], usize) {
    let shown = &requests[..requests.len().min(ROWS_MAX)];
    (shown, ROWS_MAX / shown.len().max(1))
}

/// The first of the `share` positions shown around a request, `k` of the `n`
/// transactions (in arrival order) arriving before it.
pub(crate) fn window_start(k: usize, n: usize, share: usize) -> usize {
    k.saturating_sub(share / 2).min(n - share)
}

fn transaction_rows(r: &RunResult, attempts: usize, scheduled: &[u64]) -> Diagram {
    let mut ts: Vec<&TxnTimeline> = r.transactions.iter().collect();
    ts.sort_by_key(|t| (t.arrived_ticks, t.txn));
    let n = attempts.max(ts.len());
    let mut suffix = String::new();
    if n > ROWS_MAX {
        let requests = window_requests(r, scheduled);
        // Every attempt held: pick the window here (fewer held than attempted means
        // the run already chose it as it went). The window: the transactions arriving
        // around the backup request (around each cycle's request, an equal share
        // each, when there are several; one around each of the first ROWS_MAX when
        // there are more: `shared_requests`).
        let (shown, share) = shared_requests(&requests);
        if ts.len() == n {
            let mut picked: Vec<usize> = Vec::new();
            for &at in shown {
                let k = ts.partition_point(|t| t.arrived_ticks < at);
                let lo = window_start(k, n, share);
                picked.extend(lo..lo + share);
            }
            picked.sort_unstable();
            picked.dedup();
            ts = picked.into_iter().map(|i| ts[i]).collect();
        }
        suffix = if requests.len() > shown.len() {
            format!(
                " — {} of {n} transactions, one around each of the first {} of {} cycles' \
                 requests",
                ts.len(),
                shown.len(),
                requests.len()
            )
        } else if requests.len() > 1 {
            format!(
                " — {} of {n} transactions, around each cycle's request",
                ts.len()
            )
        } else {
            format!(" — {ROWS_MAX} of {n} transactions, around the request")
        };
        // The run's aborted attempts, most of them perhaps outside the window.
        let shown = ts.iter().filter(|t| t.outcome == Outcome::Aborted).count();
        if r.costs.aborted > 0 {
            suffix.push_str(&format!(
                "; {} aborted in the run, {shown} shown",
                sim::number_text::counted(r.costs.aborted, "attempt", "attempts")
            ));
        }
    }
    let rows = ts
        .into_iter()
        .map(|t| Row {
            label: label_of(r, t),
            segments: segments(t, r, true),
            aborted: aborted_end(t, r).into_iter().collect(),
            bars: Vec::new(),
        })
        .collect();
    Diagram {
        title: suffix,
        rows,
        marks: Vec::new(),
        y_label: "transaction".into(),
    }
}

/// One row per process, its transactions a bar each. With more than [`ROWS_MAX`]
/// processes, only those of the [`ROWS_MAX`] transactions arriving around the backup
/// request (as [`transaction_rows`] chooses them) are drawn, and the title says how
/// many of how many: a row a process would make the picture as tall as the pool.
fn process_rows(r: &RunResult, scheduled: &[u64]) -> Diagram {
    let mut rows: BTreeMap<u32, Row> = BTreeMap::new();
    let mut ts: Vec<&TxnTimeline> = r
        .transactions
        .iter()
        .filter(|t| t.process.is_some())
        .collect();
    let processes: std::collections::BTreeSet<u32> = ts.iter().filter_map(|t| t.process).collect();
    let mut suffix = String::new();
    if processes.len() > ROWS_MAX {
        ts.sort_by_key(|t| (t.arrived_ticks, t.txn));
        let requests = window_requests(r, scheduled);
        let (shown, share) = shared_requests(&requests);
        let n = ts.len();
        let mut drawn: std::collections::BTreeSet<u32> = std::collections::BTreeSet::new();
        for &at in shown {
            let k = ts.partition_point(|t| t.arrived_ticks < at);
            let lo = window_start(k, n, share.min(n));
            drawn.extend(ts[lo..lo + share.min(n)].iter().filter_map(|t| t.process));
        }
        ts.retain(|t| t.process.is_some_and(|p| drawn.contains(&p)));
        let around = if shown.len() > 1 {
            "each cycle's request"
        } else {
            "the request"
        };
        suffix = format!(
            " — {} of {} processes, those whose transactions arrive around {around}",
            drawn.len(),
            processes.len()
        );
    }
    ts.sort_by_key(|t| (t.admitted_ticks, t.txn));
    for t in ts {
        let p = t.process.unwrap_or_default();
        let row = rows.entry(p).or_insert_with(|| Row {
            label: p.to_string(),
            segments: Vec::new(),
            aborted: Vec::new(),
            bars: Vec::new(),
        });
        // Each transaction its own bar, its id inside (or under the axis).
        let first = row.segments.len();
        row.segments.extend(segments(t, r, false));
        row.bars.push(Bar {
            segments: first..row.segments.len(),
            id: Some(label_of(r, t)),
        });
        row.aborted.extend(aborted_end(t, r));
    }
    let rows = rows.into_values().collect();
    Diagram {
        title: format!(" — bars: transaction ids{suffix}"),
        rows,
        marks: Vec::new(),
        y_label: "process".into(),
    }
}
