//! `trace.csv` written as the run goes: one row per transaction event (arrive, wait
//! begin/end, admit, end) and per backup milestone, in time order; ties keep
//! milestones first, then transaction id order, then the order of the events within a
//! transaction; several policies one after the other.
//!
//! Each policy's run streams into a [`TraceStream`] (a [`sim::TimelineSink`]): an
//! ended attempt's rows wait in a reorder buffer until no attempt still open, nor any
//! attempt yet to arrive, can have an earlier row, then go, formatted, straight into
//! the file that becomes `trace.csv`: a temporary file beside it, its header written
//! first, the policies' rows one after the other ([`TraceStream::after`]). The buffer
//! holds the rows of the attempts that ended while an earlier-arrived attempt was
//! still open (a few per attempt in flight; a transaction held open for the whole run
//! holds every later row back). The milestones are known at the policy's end
//! ([`TraceStream::finish`]): each is placed by an index of the rows' offsets, and
//! the rows after the first of them are moved along in the file to make room (the
//! rows before it are written once); [`TracePart::persist`] makes the file durable
//! and renames it to `trace.csv`. Memory: the reorder buffer and one index entry per
//! MiB of output; nothing grows with the run.
//!
//! The reorder buffer holds each attempt's rows as one entry (their times and events,
//! and the cells they share, formatted once: id, label, process, VLUN, old) and keeps
//! the next row of each attempt on a heap: an attempt's rows are already in order, so
//! the heap merges attempts, not rows. A transaction row is formatted straight into
//! the output buffer (`encode_row`): its time as decimal digits, its names as they
//! are, its policy cell as the csv writer quoted it once for the stream, the shared
//! cells as formatted; the bytes are the csv writer's for the same cells (tested
//! against it over generated rows).

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use engine::Vlun;
use sim::{Outcome, RunResult, TimelineSink, TxnTimeline, WaitKind};

use crate::csv_field::csv_field;
use crate::Error;

/// The header of `trace.csv`.
pub const TRACE_HEADER: [&str; 9] = [
    "policy",
    "time_ticks",
    "event",
    "txn",
    "label",
    "process",
    "vlun",
    "old",
    "detail",
];

/// Bytes of output between two entries of a part's offset index.
const INDEX_EVERY_BYTES: u64 = 1 << 20;

/// Bytes of rows gathered before they are written to the part's file.
const OUT_BUFFER_BYTES: usize = 1 << 16;

/// The most bytes of a transaction row after its policy cell: eight cells of at most
/// 20 digits or 10 letters, their commas and the newline.
const ROW_BYTES_MAX: usize = 8 * 21 + 1;

/// A transaction event of `trace.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Arrive,
    WaitBegin(WaitKind),
    WaitEnd(WaitKind),
    Admit,
    End(Outcome),
}

/// The most bytes of the cells an attempt's rows share ([`shared_cells`]).
const SHARED_BYTES_MAX: usize = 48;

/// One attempt's rows waiting in the reorder buffer: (time, event) in the order they
/// happened ([`rows_of`]), and the cells they share as written ([`shared_cells`]).
struct Held {
    rows: Vec<(u64, Kind)>,
    shared: [u8; SHARED_BYTES_MAX],
    shared_len: u8,
}

/// The next row of a held attempt, on the reorder buffer's heap (24 bytes): its
/// sort key (time, transaction id, then the row's place in the attempt's list, which
/// is in time order), and where the attempt is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Next {
    time: u64,
    txn: u32,
    nth: u32,
    slot: u32,
}

impl Next {
    fn key(&self) -> (u64, u32, u32) {
        (self.time, self.txn, self.nth)
    }
}

impl PartialOrd for Next {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Next {
    /// Reversed: the heap is a max-heap, the earliest row on top.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.key().cmp(&self.key())
    }
}

/// The rows of one attempt, in the order they happened: arrive, each wait's begin
/// and end (an attempt waits for one thing at a time, each wait at least a tick), the
/// admission where it fell among them (after the waits before it, the gate's
/// included; before the lock waits of incremental 2PL that follow it), end. Rows of
/// one tick keep that order, so a wait that ends at the tick the next begins ends
/// first. The one definition of a transaction's `trace.csv` rows.
fn rows_of(t: &TxnTimeline, mut row: impl FnMut(u64, Kind)) {
    row(t.arrived_ticks, Kind::Arrive);
    let mut admit = t.admitted_ticks;
    for w in &t.waits {
        if let Some(a) = admit.filter(|&a| a <= w.from_ticks) {
            row(a, Kind::Admit);
            admit = None;
        }
        row(w.from_ticks, Kind::WaitBegin(w.kind));
        row(w.until_ticks, Kind::WaitEnd(w.kind));
    }
    if let Some(a) = admit {
        row(a, Kind::Admit);
    }
    if let Some(e) = t.ended_ticks {
        row(e, Kind::End(t.outcome));
    }
}

fn wait_name(k: WaitKind) -> &'static str {
    match k {
        WaitKind::Queue => "queue",
        WaitKind::Lock => "lock",
        WaitKind::TypeB => "type-b",
        WaitKind::Gate => "gate",
        WaitKind::Backoff => "backoff",
    }
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Committed => "committed",
        Outcome::Aborted => "aborted",
        Outcome::Unfinished => "unfinished",
    }
}

/// The event and detail cells of a transaction row (none needs quoting).
fn event_detail(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Arrive => ("arrive", ""),
        Kind::WaitBegin(k) => ("wait-begin", wait_name(k)),
        Kind::WaitEnd(k) => ("wait-end", wait_name(k)),
        Kind::Admit => ("admit", ""),
        Kind::End(o) => ("end", outcome_name(o)),
    }
}

/// The VLUN cell (no quoting needed).
fn vlun_name(v: Vlun) -> &'static str {
    match v {
        Vlun::A => "VLUN A",
        Vlun::B => "VLUN B",
    }
}

/// Writes the cells every row of an attempt shares, each followed by a comma: its
/// id, label, process (empty for none), VLUN (empty for none) and whether it is old;
/// returns the bytes written (at most [`SHARED_BYTES_MAX`]: three numbers of at most
/// 10 digits, `VLUN A`, `false`, five commas).
fn shared_cells(
    txn: u32,
    label: u32,
    process: Option<u32>,
    vlun: Option<Vlun>,
    old: bool,
    buf: &mut [u8; SHARED_BYTES_MAX],
) -> usize {
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        buf[n..n + bytes.len()].copy_from_slice(bytes);
        buf[n + bytes.len()] = b',';
        n += bytes.len() + 1;
    };
    let mut digits = itoa::Buffer::new();
    put(digits.format(txn).as_bytes());
    put(digits.format(label).as_bytes());
    put(process.map_or(&b""[..], |x| digits.format(x).as_bytes()));
    put(vlun.map_or("", vlun_name).as_bytes());
    put(if old { b"true" } else { b"false" });
    n
}

/// Appends a transaction row to `out`: `policy_field` ([`csv_field`] of the policy),
/// the time, the event, the attempt's `shared` cells ([`shared_cells`]), the detail
/// and a newline; the bytes the csv writer writes for [`cells`].
fn encode_row(policy_field: &[u8], time: u64, kind: Kind, shared: &[u8], out: &mut Vec<u8>) {
    let (event, detail) = event_detail(kind);
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(policy_field);
    out.push(b',');
    out.extend_from_slice(digits.format(time).as_bytes());
    out.push(b',');
    out.extend_from_slice(event.as_bytes());
    out.push(b',');
    out.extend_from_slice(shared);
    out.extend_from_slice(detail.as_bytes());
    out.push(b'\n');
}

/// A cycle's milestones `m` in the order they happen within a tick: (event, time,
/// detail); `deferred` the ticks its start was deferred by (a cycle requested while the
/// one before it still ran). Quiesce's missed deadlines and retries, numbered within
/// the cycle, come after the request and before the split (a retry that finds no
/// transaction active splits at its own tick), each missed deadline before the retry it
/// causes (a retry and its own deadline are at least a tick apart).
fn milestones(m: &sim::Marks, deferred: u64) -> Vec<(&'static str, Option<u64>, String)> {
    // A deferred cycle's start: when it began (quiesce: its gate closed). A request
    // that never began has none.
    let start = m
        .request
        .filter(|_| deferred > 0 && !m.not_begun)
        .map(|at| at.saturating_add(deferred));
    let timeouts = m.quiesce_timeouts.iter().enumerate();
    let retries = m.quiesce_retries.iter().enumerate();
    let mut marks: Vec<(&str, Option<u64>, String)> = vec![
        ("backup-request", m.request, String::new()),
        ("cycle-start", start, String::new()),
    ];
    marks.extend(
        timeouts.map(|(n, &at)| ("quiesce-timeout", Some(at), format!("attempt {}", n + 1))),
    );
    marks.extend(retries.map(|(n, &at)| ("quiesce-retry", Some(at), format!("attempt {}", n + 2))));
    marks.extend([
        ("split", m.split, String::new()),
        ("split-done", m.split_done, String::new()),
        ("vlun-b-ready", m.vlun_b_ready, String::new()),
        ("a-consistent", m.a_consistent, String::new()),
        ("archive-copy", m.archive_copy, String::new()),
        ("retire", m.retire, String::new()),
        ("backup-abandoned", m.abandoned, String::new()),
        ("a-dropped", m.a_dropped, "no archive".to_string()),
        ("detach-start", m.detach_start, String::new()),
        ("detach-end", m.detach_end, String::new()),
        // After the missed deadline that gives it up.
        (
            "backup-given-up",
            m.given_up,
            if m.not_begun {
                "never begun".to_string()
            } else {
                String::new()
            },
        ),
    ]);
    marks
}

/// The milestone rows of a run, sorted: (time, cycle, rank, cells). Every cycle's
/// milestones; with several cycles the detail names the cycle. Each crash
/// (`[faults] crash_at_ticks`) is a row too, with the attempts it aborted, placed
/// among its tick's milestones after those its cycle had reached when it struck.
fn mark_rows(policy: &str, r: &RunResult) -> Vec<(u64, u32, u16, [String; 9])> {
    let several = r.cycles.len() > 1;
    // Each cycle's number, marks and the ticks its start was deferred by.
    let cycles: Vec<(u32, &sim::Marks, u64)> = if several {
        r.cycles
            .iter()
            .map(|c| (c.cycle, &c.marks, c.request_deferred_ticks))
            .collect()
    } else {
        let deferred = r.cycles.first().map_or(0, |c| c.request_deferred_ticks);
        vec![(1, &r.marks, deferred)]
    };
    let row_of = |at: u64, name: &str, detail: String| {
        let mut row: [String; 9] = Default::default();
        row[0] = policy.to_string();
        row[1] = at.to_string();
        row[2] = name.to_string();
        row[8] = detail;
        row
    };
    let mut rows = Vec::new();
    for &(k, m, deferred) in &cycles {
        for (i, (name, at, detail)) in milestones(m, deferred).into_iter().enumerate() {
            if let Some(at) = at {
                let detail = match (several, detail.is_empty()) {
                    (true, true) => format!("cycle {k}"),
                    (true, false) => format!("cycle {k}, {detail}"),
                    (false, _) => detail,
                };
                // Ranks 2, 4, …: a crash between two of them takes the odd one.
                rows.push((at, k, 2 * (i as u16 + 1), row_of(at, name, detail)));
            }
        }
    }
    for c in &r.costs.crash_ticks {
        // The cycle in progress when it struck (0: none), and the last of that
        // cycle's milestones of this tick it had reached then.
        let k = c.cycle;
        let deferred = cycles
            .iter()
            .find(|(n, _, _)| *n == k)
            .map_or(0, |(_, _, d)| *d);
        let reached = milestones(&c.marks, deferred)
            .iter()
            .rposition(|(_, at, _)| *at == Some(c.at))
            .map_or(0, |i| i as u16 + 1);
        let detail = format!(
            "{} aborted",
            sim::number_text::counted(c.aborted, "attempt", "attempts")
        );
        rows.push((c.at, k, 2 * reached + 1, row_of(c.at, "crash", detail)));
    }
    rows.sort_by_key(|(at, k, i, _)| (*at, *k, *i));
    rows
}

/// One policy's `trace.csv` rows as the run goes ([`sim::TimelineSink`]): see the
/// module doc. Errors are kept and returned by [`TraceStream::finish`] (the sink
/// cannot fail the run); they name `trace.csv`.
pub struct TraceStream {
    policy: String,
    /// The policy's cell as written ([`csv_field`]).
    policy_field: Vec<u8>,
    /// The final file's path, for errors.
    path: PathBuf,
    /// The file that becomes `trace.csv` (header and the policies before this one
    /// already in it), the byte offset of this policy's first row in it, the rows not
    /// yet written to it, and the bytes of this policy's rows written to it.
    file: tempfile::NamedTempFile,
    base: u64,
    out: Vec<u8>,
    written: u64,
    /// The reorder buffer: the attempts held (`free` the slots to reuse), the next
    /// row of each on a heap, and the rows held in all.
    held: Vec<Held>,
    free: Vec<u32>,
    heap: BinaryHeap<Next>,
    held_rows: usize,
    /// Arrival of each ended attempt from id `open_from` on (`None`: still open).
    ended: std::collections::VecDeque<Option<u64>>,
    open_from: u64,
    /// Rows earlier than this are final: no open or future attempt has one.
    final_before: u64,
    /// (time, byte offset from `base`) of a row every `index_every` bytes
    /// ([`INDEX_EVERY_BYTES`]).
    index: Vec<(u64, u64)>,
    index_every: u64,
    error: Option<Error>,
    /// Bytes of rows the part may hold ([`TraceStream::set_bytes_max`]), and whether
    /// a row was refused for passing it.
    bytes_max: u64,
    over: bool,
}

/// `cells` as the csv writer writes them (one record, its newline included).
fn record(path: &Path, cells: &[String]) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cells).map_err(|source| Error::Csv {
        path: path.to_path_buf(),
        source,
    })?;
    w.into_inner().map_err(|e| Error::io(path, e.into_error()))
}

impl TraceStream {
    /// A stream for `policy`'s rows of the `trace.csv` at `path`, the first policy's:
    /// a temporary file beside `path` (removed when dropped unless
    /// [`TracePart::persist`]ed) with the header written, once the temporary files a
    /// killed writer of `path` left are removed
    /// ([`engine::atomic::remove_stale_temporaries`]).
    ///
    /// # Errors
    /// [`Error::Io`] naming `path` when the temporary file cannot be made or written.
    pub fn new(path: &Path, policy: &str) -> Result<Self, Error> {
        Self::indexed_every(path, policy, INDEX_EVERY_BYTES)
    }

    fn indexed_every(path: &Path, policy: &str, every: u64) -> Result<Self, Error> {
        engine::atomic::remove_stale_temporaries(path);
        let mut file = engine::atomic::temporary_beside(path).map_err(|e| Error::io(path, e))?;
        let header: Vec<String> = TRACE_HEADER.iter().map(|s| s.to_string()).collect();
        let header = record(path, &header)?;
        file.write_all(&header).map_err(|e| Error::io(path, e))?;
        let part = TracePart {
            path: path.to_path_buf(),
            file,
            end: header.len() as u64,
            bytes: 0,
        };
        Ok(Self::after_every(part, policy, every))
    }

    /// A stream for `policy`'s rows after those of the policies in `part` (a
    /// [`TraceStream::finish`]ed stream of the same `trace.csv`).
    pub fn after(part: TracePart, policy: &str) -> Self {
        Self::after_every(part, policy, INDEX_EVERY_BYTES)
    }

    fn after_every(part: TracePart, policy: &str, every: u64) -> Self {
        TraceStream {
            policy: policy.to_string(),
            policy_field: csv_field(policy),
            path: part.path,
            file: part.file,
            base: part.end,
            out: Vec::with_capacity(OUT_BUFFER_BYTES),
            written: 0,
            held: Vec::new(),
            free: Vec::new(),
            heap: BinaryHeap::new(),
            held_rows: 0,
            ended: std::collections::VecDeque::new(),
            open_from: 0,
            final_before: 0,
            index: Vec::new(),
            index_every: every,
            error: None,
            bytes_max: u64::MAX,
            over: false,
        }
    }

    /// Writes the gathered rows to the file.
    fn write_out(&mut self) {
        if let Err(e) = self.file.write_all(&self.out) {
            self.error = Some(Error::io(&self.path, e));
        }
        self.written += self.out.len() as u64;
        self.out.clear();
    }

    /// Writes the buffered rows earlier than `before`: the earliest next row of the
    /// attempts held, each time.
    fn drain(&mut self, before: u64) {
        while self.error.is_none() {
            // Written out before a row could pass the buffer's capacity (a row is
            // the policy's cell and at most ROW_BYTES_MAX more).
            if self.out.len() + self.policy_field.len() + ROW_BYTES_MAX > OUT_BUFFER_BYTES {
                self.write_out();
            }
            let Some(mut top) = self.heap.peek_mut() else {
                return;
            };
            if top.time >= before {
                return;
            }
            let held = &self.held[top.slot as usize];
            let (time, kind) = held.rows[top.nth as usize];
            let last = self.index.last().map_or(0, |&(_, at)| at);
            // The offset of this row in the part.
            let here = self.written + self.out.len() as u64;
            if self.index.is_empty() || here >= last + self.index_every {
                self.index.push((time, here));
            }
            let len = self.out.len();
            let shared = &held.shared[..usize::from(held.shared_len)];
            encode_row(&self.policy_field, time, kind, shared, &mut self.out);
            if self.written + self.out.len() as u64 > self.bytes_max {
                // The row would pass the bound: not written, and no row after it.
                self.out.truncate(len);
                self.over = true;
                drop(top);
                self.heap.clear();
                self.held.clear();
                self.free.clear();
                self.held_rows = 0;
                return;
            }
            self.held_rows -= 1;
            let nth = top.nth + 1;
            if let Some(&(next, _)) = held.rows.get(nth as usize) {
                // The attempt's next row takes its place (sifted down when dropped).
                top.time = next;
                top.nth = nth;
            } else {
                let slot = top.slot;
                std::collections::binary_heap::PeekMut::pop(top);
                self.free.push(slot);
            }
        }
    }

    /// Bounds the rows this part holds to `bytes_max` bytes: a row that would pass it
    /// is not written, nor any after it, and [`TraceStream::passed_bytes_max`] turns
    /// true (the run should stop: its `trace.csv` cannot be whole). Unbounded by
    /// default.
    pub fn set_bytes_max(&mut self, bytes_max: u64) {
        self.bytes_max = bytes_max;
    }

    /// Writes the rows still held back, the run having ended (every attempt ended):
    /// after it, [`TraceStream::passed_bytes_max`] tells whether the part is whole.
    /// [`TraceStream::finish`] does it too.
    pub fn end_of_run(&mut self) {
        self.drain(u64::MAX);
    }

    /// Whether a row was refused for passing [`TraceStream::set_bytes_max`].
    pub fn passed_bytes_max(&self) -> bool {
        self.over
    }

    /// The first error writing the file met, taken ([`Error::Io`] naming
    /// `trace.csv`): nothing is written after it, so a run can stop as soon as it
    /// comes (a full disk) rather than at its end, where [`TraceStream::finish`]
    /// would return it.
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    /// Whether writing the file met an error ([`TraceStream::take_error`]).
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Bytes of rows formatted so far (written to the part's file or gathered for it).
    pub fn bytes(&self) -> u64 {
        self.written + self.out.len() as u64
    }

    /// The rows held back in the reorder buffer now.
    pub fn buffered_rows(&self) -> usize {
        self.held_rows
    }

    /// The rest of the rows written, then the run's milestones placed among them
    /// (the rows from the first milestone on moved along to make room): the file
    /// holds the header and every policy's rows so far, for [`TraceStream::after`] or
    /// [`TracePart::persist`].
    ///
    /// # Errors
    /// The first error writing the temporary file met ([`Error::Io`], [`Error::Csv`],
    /// naming `trace.csv`).
    pub fn finish(mut self, result: &RunResult) -> Result<TracePart, Error> {
        self.drain(u64::MAX);
        self.write_out();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let io = |e| Error::io(&self.path, e);
        // The policy's cell as written (its length locates the time cell).
        let name_len = record(&self.path, std::slice::from_ref(&self.policy))?.len() - 1;
        let mut inserts = Vec::new();
        let mut at = 0;
        for (time, _, _, cells) in mark_rows(&self.policy, result) {
            at = self.offset_of(time, at, name_len).map_err(io)?;
            inserts.push((at, record(&self.path, &cells)?));
        }
        let file = self.file.as_file_mut();
        let added = insert_rows(file, self.base, self.written, &inserts, MOVE_BYTES).map_err(io)?;
        Ok(TracePart {
            path: self.path,
            file: self.file,
            end: self.base + self.written + added,
            bytes: self.written,
        })
    }

    /// The byte offset (from `base`) of the first row at or after `time` (milestones
    /// go before the transaction rows of their tick), at or after `from`; the rows
    /// written whole to the file.
    fn offset_of(&self, time: u64, from: u64, name_len: usize) -> std::io::Result<u64> {
        let k = self.index.partition_point(|&(t, _)| t < time);
        let start = match k {
            0 => from,
            _ => self.index[k - 1].1.max(from),
        };
        let mut file = self.file.as_file().try_clone()?;
        file.seek(SeekFrom::Start(self.base + start))?;
        let mut reader = BufReader::new(file.take(self.written - start));
        let mut at = start;
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 {
                return Ok(at);
            }
            let rest = line.get(name_len + 1..).unwrap_or_default();
            let end = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
            let t: u64 = std::str::from_utf8(&rest[..end])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| std::io::Error::other("trace row without a time"))?;
            if t >= time {
                return Ok(at);
            }
            at += n as u64;
        }
    }
}

impl TimelineSink for TraceStream {
    fn attempt(&mut self, t: &TxnTimeline) {
        if self.error.is_some() || self.over {
            return;
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.held.push(Held {
                    rows: Vec::new(),
                    shared: [0; SHARED_BYTES_MAX],
                    shared_len: 0,
                });
                (self.held.len() - 1) as u32
            }
        };
        let held = &mut self.held[slot as usize];
        held.rows.clear();
        rows_of(t, |time, kind| held.rows.push((time, kind)));
        let shared = &mut held.shared;
        held.shared_len = shared_cells(t.txn, t.label, t.process, t.vlun, t.old, shared) as u8;
        self.held_rows += held.rows.len();
        self.heap.push(Next {
            time: held.rows[0].0,
            txn: t.txn,
            nth: 0,
            slot,
        });
        // Attempt ids arrive in order: once every attempt up to id i has ended, no
        // open or future attempt has a row before attempt i's arrival.
        let id = u64::from(t.txn);
        if id >= self.open_from {
            let i = (id - self.open_from) as usize;
            if self.ended.len() <= i {
                self.ended.resize(i + 1, None);
            }
            self.ended[i] = Some(t.arrived_ticks);
        }
        while let Some(&Some(arrived)) = self.ended.front() {
            self.ended.pop_front();
            self.open_from += 1;
            self.final_before = self.final_before.max(arrived);
        }
        self.drain(self.final_before);
    }
}

/// Bytes moved at a time when rows are moved along in the file.
const MOVE_BYTES: usize = 1 << 20;

/// Inserts `inserts` (offset from `base` in the `len` bytes there, ascending; the
/// bytes to insert before the byte at that offset) into `file`, moving the bytes
/// after each along `move_bytes` at a time, the last span first, each from its end
/// (no byte is overwritten before it is read); returns the bytes inserted. The
/// file's cursor is left at its new end.
fn insert_rows(
    file: &mut File,
    base: u64,
    len: u64,
    inserts: &[(u64, Vec<u8>)],
    move_bytes: usize,
) -> std::io::Result<u64> {
    let total: u64 = inserts.iter().map(|(_, b)| b.len() as u64).sum();
    let moved = len - inserts.first().map_or(len, |&(at, _)| at);
    let mut buf = vec![0u8; (moved as usize).min(move_bytes.max(1))];
    // The span [at, span_end) moves by `shift`: the bytes inserted before its end.
    let (mut shift, mut span_end) = (total, len);
    for (at, bytes) in inserts.iter().rev() {
        let mut hi = span_end;
        while hi > *at {
            let lo = (*at).max(hi.saturating_sub(buf.len() as u64));
            let chunk = &mut buf[..(hi - lo) as usize];
            file.seek(SeekFrom::Start(base + lo))?;
            file.read_exact(chunk)?;
            file.seek(SeekFrom::Start(base + lo + shift))?;
            file.write_all(chunk)?;
            hi = lo;
        }
        shift -= bytes.len() as u64;
        file.seek(SeekFrom::Start(base + at + shift))?;
        file.write_all(bytes)?;
        span_end = *at;
    }
    file.seek(SeekFrom::Start(base + len + total))?;
    Ok(total)
}

/// The file that becomes `trace.csv`: its header and the rows and milestones of the
/// policies finished so far ([`TraceStream::finish`]).
pub struct TracePart {
    path: PathBuf,
    file: tempfile::NamedTempFile,
    /// Bytes in the file.
    end: u64,
    /// Bytes of the last policy's transaction rows (its milestones come besides).
    bytes: u64,
}

impl TracePart {
    /// Bytes of the last policy's transaction rows (its milestones come besides).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Makes the file `trace.csv` at the path its streams were given: made durable,
    /// then renamed over it (a reader never sees a half-written file).
    ///
    /// # Errors
    /// [`Error::Io`] naming the path; the temporary file is removed.
    pub fn persist(self) -> Result<(), Error> {
        engine::atomic::persist(self.file, &self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// Writes `trace.csv` for runs held whole (their `transactions`), through the same
/// streams as a run that hands its timeline over as it goes.
///
/// # Errors
/// As [`TraceStream::finish`] and [`TracePart::persist`].
pub fn write_trace(path: &Path, runs: &[crate::NamedRun]) -> Result<(), Error> {
    let mut part: Option<TracePart> = None;
    for run in runs {
        let mut s = match part.take() {
            None => TraceStream::new(path, &run.name)?,
            Some(p) => TraceStream::after(p, &run.name),
        };
        for t in &run.result.transactions {
            s.attempt(t);
        }
        part = Some(s.finish(&run.result)?);
    }
    match part {
        Some(p) => p.persist(),
        // No run: the header alone.
        None => {
            let s = TraceStream::new(path, "")?;
            let (end, bytes) = (s.base, 0);
            let (path, file) = (s.path, s.file);
            TracePart {
                path,
                file,
                end,
                bytes,
            }
            .persist()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NamedRun;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use sim::{Policy, Scenario};

    /// A transaction row, as the encoding test generates it.
    #[derive(Debug, Clone, Copy)]
    struct Pending {
        time: u64,
        txn: u32,
        kind: Kind,
        label: u32,
        process: Option<u32>,
        vlun: Option<Vlun>,
        old: bool,
    }

    /// The cells of a transaction row (what [`encode_row`] writes, for its test).
    fn cells(policy: &str, p: &Pending) -> [String; 9] {
        let (event, detail) = event_detail(p.kind);
        [
            policy.to_string(),
            p.time.to_string(),
            event.to_string(),
            p.txn.to_string(),
            p.label.to_string(),
            p.process.map(|x| x.to_string()).unwrap_or_default(),
            p.vlun.map(|v| v.to_string()).unwrap_or_default(),
            p.old.to_string(),
            detail.to_string(),
        ]
    }

    /// `trace.csv` rows as they were built whole before the stream (the reference):
    /// every row of every run, sorted by (time, milestones first, txn, event order);
    /// a transaction's events of one tick in the only order they can happen in
    /// (arrive, a wait's end, admit, the next wait's begin, end).
    fn reference_rows(runs: &[NamedRun]) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for run in runs {
            let r = &run.result;
            let mut rows: Vec<(u64, u8, u32, u16, Vec<String>)> = Vec::new();
            for (at, k, i, cells) in mark_rows(&run.name, r) {
                rows.push((at, 0, k, i, cells.to_vec()));
            }
            for t in &r.transactions {
                let base = |time: u64, event: &str, detail: String| {
                    vec![
                        run.name.clone(),
                        time.to_string(),
                        event.to_string(),
                        t.txn.to_string(),
                        t.label.to_string(),
                        t.process.map(|p| p.to_string()).unwrap_or_default(),
                        t.vlun.map(|v| v.to_string()).unwrap_or_default(),
                        t.old.to_string(),
                        detail,
                    ]
                };
                rows.push((
                    t.arrived_ticks,
                    1,
                    t.txn,
                    0,
                    base(t.arrived_ticks, "arrive", String::new()),
                ));
                for w in &t.waits {
                    let k = wait_name(w.kind).to_string();
                    rows.push((
                        w.from_ticks,
                        1,
                        t.txn,
                        3,
                        base(w.from_ticks, "wait-begin", k.clone()),
                    ));
                    rows.push((
                        w.until_ticks,
                        1,
                        t.txn,
                        1,
                        base(w.until_ticks, "wait-end", k),
                    ));
                }
                if let Some(a) = t.admitted_ticks {
                    rows.push((a, 1, t.txn, 2, base(a, "admit", String::new())));
                }
                if let Some(e) = t.ended_ticks {
                    let outcome = format!("{:?}", t.outcome).to_lowercase();
                    rows.push((e, 1, t.txn, 4, base(e, "end", outcome)));
                }
            }
            rows.sort_by_key(|(time, group, txn, seq, _)| (*time, *group, *txn, *seq));
            out.extend(rows.into_iter().map(|(.., row)| row));
        }
        out
    }

    fn reference_bytes(runs: &[NamedRun]) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(TRACE_HEADER).unwrap();
        for row in reference_rows(runs) {
            w.write_record(&row).unwrap();
        }
        w.into_inner().unwrap()
    }

    /// Bank transfers with deadlock retries and three backup cycles, so the trace has
    /// waits, aborts, several cycles' milestones and attempts ending out of order.
    fn scenario() -> Scenario {
        let mut s = Scenario::with_workload(sim::WorkloadConfig::Bank(sim::BankConfig {
            transactions: 400,
            arrival_ticks_mean: 20,
            ..sim::BankConfig::default()
        }));
        s.backup.schedule_at_ticks = vec![20_000, 60_000, 100_000];
        s.abort_probability = 0.05;
        s
    }

    const POLICIES: [Policy; 3] = [
        Policy::Owm(engine::Variant::CopyOnWrite),
        Policy::Quiesce,
        Policy::None,
    ];

    /// Streamed as the run goes, `trace.csv` is byte for byte the file built whole,
    /// for several policies one after the other; the reorder buffer was used, the
    /// milestones fell among the rows, and the offset index had several entries.
    #[test]
    fn streamed_trace_is_the_whole_one_byte_for_byte() {
        let s = scenario();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace.csv");
        let (mut part, mut whole) = (None, Vec::new());
        let (mut held_max, mut index_max) = (0, 0);
        for p in POLICIES {
            /// Records the reorder buffer's size after each attempt.
            struct Probe<'a>(&'a mut TraceStream, usize);
            impl TimelineSink for Probe<'_> {
                fn attempt(&mut self, t: &TxnTimeline) {
                    self.0.attempt(t);
                    self.1 = self.1.max(self.0.buffered_rows());
                }
            }
            let mut stream = match part.take() {
                None => TraceStream::indexed_every(&path, p.as_str(), 256).unwrap(),
                Some(before) => TraceStream::after_every(before, p.as_str(), 256),
            };
            let mut probe = Probe(&mut stream, 0);
            let streamed = sim::run_with_sink(&s, p, 5, None, &mut probe)
                .unwrap()
                .result;
            held_max = held_max.max(probe.1);
            assert!(streamed.transactions.is_empty(), "the timeline was held");
            index_max = index_max.max(stream.index.len());
            part = Some(stream.finish(&streamed).unwrap());
            whole.push(NamedRun {
                name: p.as_str().to_string(),
                result: sim::run(&s, p, 5).unwrap().result,
            });
        }
        part.unwrap().persist().unwrap();
        let got = std::fs::read(&path).unwrap();
        let want = reference_bytes(&whole);
        assert!(got == want, "streamed trace differs from the whole one");
        assert!(held_max > 0, "no attempt ended out of order");
        assert!(index_max > 3, "the offset index was not exercised");
        let text = String::from_utf8(got).unwrap();
        for needle in ["cycle 3", "wait-begin", "aborted", "retire"] {
            assert!(text.contains(needle), "no {needle} in the trace");
        }
        // Milestones (their txn cell is empty) between two transaction rows: a run of
        // one or more, as the split and its split-done may be.
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
        let txn_row = |l: &Vec<&str>| !l[3].is_empty() && l[3] != "txn";
        let kinds: Vec<bool> = lines.iter().skip(1).map(txn_row).collect();
        let among = kinds
            .iter()
            .enumerate()
            .filter(|&(i, &t)| t && i + 1 < kinds.len() && !kinds[i + 1])
            .any(|(i, _)| kinds[i + 1..].iter().any(|&t| t));
        assert!(among, "no milestone among the rows");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().count() == 1,
            "a temporary file was left"
        );
    }

    /// A bounded part holds at most its bound, and what it holds is the unbounded
    /// part's first bytes, whole rows: the rows up to the one that would pass it.
    #[test]
    fn a_bounded_part_is_a_prefix_of_whole_rows_within_the_bound() {
        let s = scenario();
        let p = Policy::Owm(engine::Variant::CopyOnWrite);
        let result = sim::run(&s, p, 3).unwrap().result;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace.csv");
        let part = |bytes_max: u64| {
            let mut stream = TraceStream::new(&path, "cow").unwrap();
            stream.set_bytes_max(bytes_max);
            for t in &result.transactions {
                stream.attempt(t);
            }
            stream.end_of_run();
            let over = stream.passed_bytes_max();
            let bytes = stream.bytes();
            // The rows as written (before `finish` places the milestones).
            stream.write_out();
            let mut text = Vec::new();
            let file = stream.file.as_file_mut();
            file.seek(SeekFrom::Start(stream.base)).unwrap();
            file.read_to_end(&mut text).unwrap();
            assert_eq!(text.len() as u64, bytes);
            (over, text)
        };
        let (over, whole) = part(u64::MAX);
        assert!(!over && whole.len() > 10_000, "{}", whole.len());
        for bytes_max in [
            0,
            1,
            100,
            4_096,
            whole.len() as u64 / 2,
            whole.len() as u64 - 1,
        ] {
            let (over, text) = part(bytes_max);
            assert!(over, "{bytes_max}");
            assert!(
                text.len() as u64 <= bytes_max,
                "{bytes_max}: {}",
                text.len()
            );
            assert!(whole.starts_with(&text), "{bytes_max}: not a prefix");
            assert!(text.is_empty() || text.ends_with(b"\n"), "{bytes_max}");
            // The next row would have passed the bound.
            let next = whole[text.len()..]
                .iter()
                .position(|&b| b == b'\n')
                .unwrap()
                + 1;
            assert!((text.len() + next) as u64 > bytes_max, "{bytes_max}");
        }
        assert_eq!(part(whole.len() as u64), (false, whole));
    }

    /// Attempts handed over in any order give the same file (the stream's order rests
    /// only on ids arriving in time order).
    #[test]
    fn any_end_order_gives_the_same_file() {
        let s = scenario();
        let p = Policy::Owm(engine::Variant::WriteLogging);
        let result = sim::run(&s, p, 9).unwrap().result;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace.csv");
        let mut order: Vec<&TxnTimeline> = result.transactions.iter().collect();
        order.reverse();
        let third = order.len() / 3;
        order.rotate_left(third);
        let mut stream = TraceStream::new(&path, "logging").unwrap();
        for t in order {
            stream.attempt(t);
        }
        stream.finish(&result).unwrap().persist().unwrap();
        let whole = [NamedRun {
            name: "logging".into(),
            result,
        }];
        assert!(std::fs::read(&path).unwrap() == reference_bytes(&whole));
    }

    /// Any transaction row, of any policy name (commas, quotes, CR, LF, spaces,
    /// non-ASCII, empty), every kind of event and outcome, any numbers.
    fn rows() -> impl Strategy<Value = (String, Pending)> {
        let kind = prop_oneof![
            Just(Kind::Arrive),
            Just(Kind::Admit),
            wait_kind().prop_map(Kind::WaitBegin),
            wait_kind().prop_map(Kind::WaitEnd),
            prop_oneof![
                Just(Outcome::Committed),
                Just(Outcome::Aborted),
                Just(Outcome::Unfinished)
            ]
            .prop_map(Kind::End),
        ];
        let vlun = proptest::option::of(prop_oneof![Just(Vlun::A), Just(Vlun::B)]);
        let policy = prop_oneof!["[a-z-]{0,12}", "[ ,\"\r\na-zé#'\t]{0,10}", ".{0,8}"];
        (
            policy,
            (any::<u64>(), any::<u32>(), any::<u32>(), kind),
            (
                any::<u32>(),
                proptest::option::of(any::<u32>()),
                vlun,
                any::<bool>(),
            ),
        )
            .prop_map(
                |(policy, (time, txn, _nth, kind), (label, process, vlun, old))| {
                    let row = Pending {
                        time,
                        txn,
                        kind,
                        label,
                        process,
                        vlun,
                        old,
                    };
                    (policy, row)
                },
            )
    }

    fn wait_kind() -> impl Strategy<Value = WaitKind> {
        prop_oneof![
            Just(WaitKind::Queue),
            Just(WaitKind::Lock),
            Just(WaitKind::TypeB),
            Just(WaitKind::Gate),
            Just(WaitKind::Backoff),
        ]
    }

    /// [`encode_row`] writes the csv writer's bytes for the row's cells, over 2,000
    /// generated rows; the rows reached policies that need quoting and every event.
    #[test]
    fn encoded_rows_are_the_csv_writers() {
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            proptest::test_runner::Config::default(),
            proptest::test_runner::TestRng::deterministic_rng(
                proptest::test_runner::RngAlgorithm::ChaCha,
            ),
        );
        let (mut quoted, mut events) = (0, std::collections::BTreeSet::new());
        for _ in 0..2_000 {
            let (policy, row) = rows().new_tree(&mut runner).unwrap().current();
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            w.write_record(cells(&policy, &row)).unwrap();
            let want = w.into_inner().unwrap();
            let field = csv_field(&policy);
            let mut got = Vec::new();
            let mut shared = [0; SHARED_BYTES_MAX];
            let n = shared_cells(
                row.txn,
                row.label,
                row.process,
                row.vlun,
                row.old,
                &mut shared,
            );
            encode_row(&field, row.time, row.kind, &shared[..n], &mut got);
            assert!(got == want, "{policy:?} {row:?}: {got:?} != {want:?}");
            assert!(got.len() <= field.len() + ROW_BYTES_MAX);
            quoted += usize::from(field.first() == Some(&b'"'));
            events.insert(format!("{:?}", row.kind));
        }
        assert!(quoted > 100, "{quoted} policies quoted");
        assert_eq!(events.len(), 1 + 1 + 5 + 5 + 3, "{events:?}");
    }

    /// Rows inserted in place are the bytes spliced in, with the bytes before `base`
    /// untouched, for inserts at the start, the end, one offset twice, none, and
    /// moves of 1 to 9 bytes at a time (spans longer than a move, and shorter).
    #[test]
    fn inserted_rows_are_the_bytes_spliced_in() {
        let mut x: u64 = 7;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % m
        };
        for case in 0..300 {
            let base = next(5);
            let len = next(60);
            let data: Vec<u8> = (0..base + len).map(|i| b'a' + (i % 26) as u8).collect();
            let mut offsets: Vec<u64> = (0..next(5)).map(|_| next(len + 1)).collect();
            if case % 7 == 0 {
                offsets.extend([0, len, len]);
            }
            offsets.sort_unstable();
            let inserts: Vec<(u64, Vec<u8>)> = offsets
                .iter()
                .enumerate()
                .map(|(k, &at)| (at, vec![b'0' + k as u8; 1 + next(4) as usize]))
                .collect();
            let mut want = data[..base as usize].to_vec();
            let mut from = 0;
            for (at, bytes) in &inserts {
                want.extend_from_slice(&data[(base + from) as usize..(base + at) as usize]);
                want.extend_from_slice(bytes);
                from = *at;
            }
            want.extend_from_slice(&data[(base + from) as usize..]);
            let mut file = tempfile::tempfile().unwrap();
            file.write_all(&data).unwrap();
            let added = insert_rows(&mut file, base, len, &inserts, 1 + case % 9).unwrap();
            assert_eq!(added as usize, want.len() - data.len(), "case {case}");
            assert_eq!(file.stream_position().unwrap(), want.len() as u64);
            let mut got = Vec::new();
            file.seek(SeekFrom::Start(0)).unwrap();
            file.read_to_end(&mut got).unwrap();
            assert!(got == want, "case {case}: {inserts:?}");
        }
    }

    /// A directory that cannot hold the file is an error naming `trace.csv`.
    #[test]
    fn an_unwritable_directory_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/trace.csv");
        let e = TraceStream::new(&path, "cow").err().expect("refused");
        assert!(e.to_string().contains("trace.csv"), "{e}");
    }
}
