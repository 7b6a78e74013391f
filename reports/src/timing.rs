//! Timing diagrams in the style of the patent's Fig 3A/3B/3C and Fig 4: one horizontal
//! bar per transaction on a virtual-time axis (in Fig 4 a row per process, its
//! transactions one after another, [`BAR_GAP_PX`] apart where they meet, each named),
//! coloured by the volume it uses, waiting drawn pale and hatched, an aborted attempt
//! ended by a red ×, and vertical marks for the backup's milestones, drawn beneath the
//! bars (a bar is never hidden by a line, and is at least [`MIN_BAR_PX`] wide). When the backup's later
//! milestones (a retire after a long archive copy) lie far from everything else, the
//! empty stretch is cut out of the time axis (an axis break, drawn `//`;
//! [`BREAK_RATIO`]), so the transactions around the request keep the width; every
//! stretch drawn has at least one tick label.
//!
//! The picture is described by plain data ([`Diagram`]) so the drawing knows nothing of
//! the simulator; [`crate::figure::diagram`] builds a `Diagram` from a run. Layout is
//! computed first from the embedded font's metrics (text never overlaps: mark labels
//! are stacked in rows, texts in the bars are drawn only where they fit, the ids that
//! fit nowhere listed under the axis, the legend wraps), then the same layout is drawn
//! on an SVG or a bitmap backend.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{fonts, Error};

/// What a bar segment shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Running on the single volume, before the split.
    Single,
    /// Running on VLUN A (an old transaction after the split).
    VlunA,
    /// Running on VLUN B (a new transaction, or any after A retired).
    VlunB,
    /// Waiting (admission gate, lock, queue 502, backoff): pale and hatched.
    Wait,
}

/// A milestone of the backup, drawn as a vertical line across the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// The backup request (350 in Fig 3, 521 in Fig 4).
    Request,
    /// VLUN B set up, new transactions may begin (450).
    BReady,
    /// VLUN A consistent (451 / 522).
    AConsistent,
    /// The archive (tape) copy of A finished.
    ArchiveCopy,
    /// VLUN A retired.
    Retire,
    /// The backup failed: a quiesce attempt missed its deadline, or the backup was
    /// given up.
    Failed,
    /// VLUN B copied to B' (`[detach]`, \[0048\]): the copy and its mirrored writes
    /// landed.
    DetachEnd,
}

impl MarkKind {
    /// Every kind, in the order a legend lists them.
    pub const ALL: [MarkKind; 7] = [
        MarkKind::Request,
        MarkKind::BReady,
        MarkKind::AConsistent,
        MarkKind::ArchiveCopy,
        MarkKind::Retire,
        MarkKind::Failed,
        MarkKind::DetachEnd,
    ];
}

/// One stretch of one bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub from: u64,
    pub until: u64,
    pub fill: Fill,
    /// Drawn inside the segment when it fits (a transaction id, "gate", "lock"...).
    pub text: Option<String>,
}

/// One row: a transaction, or a process running transactions one after another.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The label at the left (301, 503, an id).
    pub label: String,
    /// In time order.
    pub segments: Vec<Segment>,
    /// When each aborted attempt drawn on this row ended (ticks; the `until` of its
    /// last segment): a red × there.
    pub aborted: Vec<u64>,
    /// The transactions of a process row, in time order, each a run of `segments`
    /// drawn as one bar: bars that meet are drawn [`BAR_GAP_PX`] apart, and each id
    /// is drawn inside its bar where it fits ([`Bar::id`]). Empty: the row's segments
    /// are one bar, its id the row's label.
    pub bars: Vec<Bar>,
}

/// One transaction of a row that carries several.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Its segments: indices into [`Row::segments`].
    pub segments: std::ops::Range<usize>,
    /// Its id ("#3"): drawn inside the bar; where it does not fit, without its `#`
    /// ("3"); where that does not fit either, listed under the panel's time axis with
    /// its span ("too short to label: 507 #16 (4124-4275)"). No transaction is left
    /// unnamed.
    pub id: Option<String>,
}

/// One vertical mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub at: u64,
    pub kind: MarkKind,
    /// The patent's reference numeral for the moment, when it has one (350, 451, 522).
    pub numeral: Option<u32>,
    /// What happened, e.g. "backup request" (the legend's text).
    pub name: String,
    /// The backup cycle it belongs to, when the run has several (labelled `#2`).
    pub cycle: Option<u32>,
}

impl Mark {
    /// The text above the panel: cycle (when several), numeral, name and time, e.g.
    /// "350 backup request (t=350)", "#2 A retired (t=9120)".
    pub fn label(&self) -> String {
        let cycle = self.cycle.map(|k| format!("#{k} ")).unwrap_or_default();
        match self.numeral {
            Some(n) => format!("{cycle}{n} {} (t={})", self.name, self.at),
            None => format!("{cycle}{} (t={})", self.name, self.at),
        }
    }
}

/// One panel: a title, bars top to bottom, marks.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagram {
    pub title: String,
    pub rows: Vec<Row>,
    pub marks: Vec<Mark>,
    /// The y-axis description ("transaction", "process").
    pub y_label: String,
}

impl Diagram {
    /// The diagram as it is drawn: every text of it (title, row labels, segments'
    /// texts, bars' ids, marks' names, the y label) shown as [`crate::shown_text`], a
    /// control character as `\xHH`. [`render_svg`] and [`render_png`] draw this.
    pub fn shown(&self) -> Diagram {
        let t = |s: &String| crate::shown_text(s);
        Diagram {
            title: t(&self.title),
            rows: self
                .rows
                .iter()
                .map(|r| Row {
                    label: t(&r.label),
                    segments: r
                        .segments
                        .iter()
                        .map(|g| Segment {
                            text: g.text.as_ref().map(t),
                            ..g.clone()
                        })
                        .collect(),
                    aborted: r.aborted.clone(),
                    bars: r
                        .bars
                        .iter()
                        .map(|b| Bar {
                            segments: b.segments.clone(),
                            id: b.id.as_ref().map(t),
                        })
                        .collect(),
                })
                .collect(),
            marks: self
                .marks
                .iter()
                .map(|m| Mark {
                    name: t(&m.name),
                    ..m.clone()
                })
                .collect(),
            y_label: t(&self.y_label),
        }
    }

    /// The time span the diagram covers: (earliest start, latest end or mark).
    pub fn extent(&self) -> (u64, u64) {
        let times = self
            .rows
            .iter()
            .flat_map(|r| r.segments.iter().flat_map(|s| [s.from, s.until]))
            .chain(self.marks.iter().map(|m| m.at));
        let (lo, hi) = times.fold((u64::MAX, 0), |(lo, hi), t| (lo.min(t), hi.max(t)));
        if lo > hi {
            (0, 1)
        } else {
            (lo, hi.max(lo + 1))
        }
    }
}

/// The time span covering every diagram, padded 3 % on the right so the last bar does
/// not touch the frame; from 0 unless everything happens late (a window of a long
/// run). Panels drawn with one range compare at a glance.
pub fn shared_range(diagrams: &[Diagram]) -> (u64, u64) {
    let lo = diagrams.iter().map(|d| d.extent().0).min().unwrap_or(0);
    let hi = diagrams.iter().map(|d| d.extent().1).max().unwrap_or(1);
    let pad = (hi - lo).div_ceil(33).max(1);
    let lo = if lo.saturating_mul(10) < hi {
        0
    } else {
        lo.saturating_sub(pad)
    };
    (lo, hi + pad)
}

const WIDTH: u32 = 1100;
const RIGHT: i32 = 30;
const TITLE_H: i32 = 30;
const MARK_ROW_H: i32 = 17;
/// Rows of mark labels a panel has at most: a later mark that fits on none of them
/// keeps its line but no label, so a run of many backup cycles (five marks each) draws
/// a picture of bounded height (and memory: a PNG's pixels are held while it is drawn).
pub const MARK_ROWS_MAX: usize = 24;
const ROW_H: i32 = 26;
const AXIS_H: i32 = 50;
const LEGEND_ROW_H: i32 = 22;
const FONT_PX: u32 = 13;
const MARK_TEXT_GAP: i32 = 4;
const TITLE_PX: u32 = 16;
/// The narrowest a bar segment is drawn (pixels): a 600-tick transaction on a
/// 400,000-tick axis (1.5 px at scale) is still seen.
pub const MIN_BAR_PX: i32 = 3;
/// The background left between two bars of one row that meet (pixels): a process's
/// back-to-back transactions read as two bars, not one. The earlier bar gives up its
/// last pixels (down to [`MIN_BAR_PX`]); past that the later one starts later.
pub const BAR_GAP_PX: i32 = 2;
/// The most a bar is drawn right of its start for the gap before it (pixels): a
/// row of transactions shorter than [`MIN_BAR_PX`] + [`BAR_GAP_PX`] does not drift off
/// its times (see `row_boxes`).
const SHIFT_MAX_PX: i32 = 4;
/// The line under a panel's time axis listing the ids too short to draw in their bars.
const NOTE_H: i32 = 18;
/// The pixels an axis break takes.
const BREAK_W: i32 = 16;
/// Stretches of time in which no bar runs and no milestone falls are cut out of the
/// axis when together they are at least this many times the rest of the diagrams'
/// span (the bars and marks would fill less than a sixth of the width).
pub const BREAK_RATIO: u64 = 5;
/// Axis breaks at most (the longest empty stretches).
const BREAKS_MAX: usize = 3;

const SINGLE: RGBColor = RGBColor(127, 135, 150);
const VLUN_A: RGBColor = RGBColor(31, 119, 180);
const VLUN_B: RGBColor = RGBColor(255, 127, 14);
const WAIT_FILL: RGBColor = RGBColor(236, 236, 236);
const WAIT_HATCH: RGBColor = RGBColor(150, 150, 150);
/// The × at the end of an aborted attempt, and its half width (pixels).
const ABORT: RGBColor = RGBColor(178, 0, 0);
const ABORT_R: i32 = 5;
const GRID_LIGHT: RGBColor = RGBColor(240, 240, 240);
const GRID_BOLD: RGBColor = RGBColor(225, 225, 225);
const BREAK_LINE: RGBColor = RGBColor(170, 170, 170);

fn fill_color(f: Fill) -> RGBColor {
    match f {
        Fill::Single => SINGLE,
        Fill::VlunA => VLUN_A,
        Fill::VlunB => VLUN_B,
        Fill::Wait => WAIT_FILL,
    }
}

fn text_color(f: Fill) -> RGBColor {
    match f {
        Fill::VlunA | Fill::Single => WHITE,
        Fill::VlunB | Fill::Wait => BLACK,
    }
}

pub(crate) fn mark_color(k: MarkKind) -> RGBColor {
    match k {
        MarkKind::Request => RGBColor(214, 39, 40),
        MarkKind::BReady => RGBColor(148, 103, 189),
        MarkKind::AConsistent => RGBColor(44, 160, 44),
        MarkKind::ArchiveCopy => RGBColor(140, 86, 75),
        MarkKind::Retire => RGBColor(60, 60, 60),
        MarkKind::Failed => RGBColor(255, 127, 14),
        MarkKind::DetachEnd => RGBColor(23, 190, 207),
    }
}

fn font(px: u32) -> FontDesc<'static> {
    FontDesc::new(
        FontFamily::Name(fonts::FAMILY),
        f64::from(px),
        FontStyle::Normal,
    )
}

/// Width in pixels of `text` in the embedded font.
fn text_w(text: &str, px: u32) -> Result<i32, Error> {
    let (w, _) = font(px)
        .box_size(text)
        .map_err(|e| Error::draw("text", e))?;
    Ok(w as i32)
}

/// One piece of the time axis: ticks `t0..=t1` drawn on pixels `x0..=x1`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Piece {
    t0: u64,
    t1: u64,
    x0: f64,
    x1: f64,
}

/// The time axis: pieces of one scale (pixels per tick) left to right, a break of
/// [`BREAK_W`] pixels between two pieces where an empty stretch of time is left out.
#[derive(Debug, Clone, PartialEq)]
struct TimeAxis {
    pieces: Vec<Piece>,
}

impl TimeAxis {
    /// The axis showing the time spans `kept` (ascending, disjoint, at least one) on
    /// the plot right of `left`.
    fn new(kept: &[(u64, u64)], left: i32) -> Self {
        let breaks = kept.len().saturating_sub(1) as i32;
        let plot_w = f64::from(WIDTH as i32 - left - RIGHT - breaks * BREAK_W);
        let total = kept.iter().map(|(a, b)| b - a).sum::<u64>().max(1);
        let scale = plot_w / total as f64;
        let mut x = f64::from(left);
        let mut pieces = Vec::with_capacity(kept.len());
        for &(t0, t1) in kept {
            let x1 = x + (t1 - t0) as f64 * scale;
            pieces.push(Piece { t0, t1, x0: x, x1 });
            x = x1 + f64::from(BREAK_W);
        }
        TimeAxis { pieces }
    }

    /// The pixel column of time `t`; a time left out (in a break) is drawn in the
    /// break's middle, a time past the axis's end beyond the last piece at its scale.
    fn x(&self, t: u64) -> i32 {
        let n = self.pieces.len();
        for (i, p) in self.pieces.iter().enumerate() {
            if t < p.t0 {
                let x = if i == 0 {
                    p.x0
                } else {
                    p.x0 - f64::from(BREAK_W) / 2.0
                };
                return x.round() as i32;
            }
            if t <= p.t1 || i + 1 == n {
                let frac = (t - p.t0) as f64 / (p.t1 - p.t0).max(1) as f64;
                return (p.x0 + frac * (p.x1 - p.x0)).round() as i32;
            }
        }
        0
    }

    /// The stretches left out, each with the pixel column of its break.
    fn breaks(&self) -> Vec<(u64, u64, i32)> {
        self.pieces
            .windows(2)
            .map(|w| {
                let x = (w[0].x1 + f64::from(BREAK_W) / 2.0).round() as i32;
                (w[0].t1, w[1].t0, x)
            })
            .collect()
    }
}

/// The time spans an axis shared by `diagrams` shows ([`shared_range`], with the
/// long empty stretches left out: see `kept_spans`): every picture drawn over them
/// compares with the others at a glance, on the same scale and the same breaks.
pub fn shared_spans(diagrams: &[Diagram]) -> Vec<(u64, u64)> {
    kept_spans(diagrams, shared_range(diagrams))
}

/// The time spans the axis shows: `range` whole, unless stretches in which no bar
/// runs and no milestone falls are together at least [`BREAK_RATIO`] times the rest
/// of what the diagrams span (a retire after a long archive copy, with the
/// transactions around the request): then the fewest of the longest such stretches
/// that are (at most [`BREAKS_MAX`], each at least a quarter of the rest) are left
/// out, and each remaining cluster is padded by 1/33 of the time shown (the axis
/// starts at 0 unless the first cluster happens late, as [`shared_range`] does).
fn kept_spans(diagrams: &[Diagram], range: (u64, u64)) -> Vec<(u64, u64)> {
    let mut spans: Vec<(u64, u64)> = diagrams
        .iter()
        .flat_map(|d| {
            d.rows
                .iter()
                .flat_map(|r| r.segments.iter().map(|s| (s.from, s.until.max(s.from))))
                .chain(d.marks.iter().map(|m| (m.at, m.at)))
        })
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(m) if a <= m.1 => m.1 = m.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let (Some(first), Some(last)) = (merged.first(), merged.last()) else {
        return vec![range];
    };
    let (lo, hi) = (first.0, last.1);
    let mut gaps: Vec<(u64, u64)> = merged.windows(2).map(|w| (w[0].1, w[1].0)).collect();
    gaps.sort_by_key(|g| (std::cmp::Reverse(g.1 - g.0), g.0));
    // The fewest of the longest stretches that together are BREAK_RATIO times what is
    // left, each at least a quarter of what is left (a break is worth its pixels).
    let span = hi - lo;
    let mut sum = 0u64;
    let mut chosen = None;
    for (k, g) in gaps.iter().take(BREAKS_MAX).enumerate() {
        let len = g.1 - g.0;
        sum += len;
        let rest = span - sum;
        if len == 0 || len.saturating_mul(4) < rest {
            break;
        }
        if sum >= BREAK_RATIO.saturating_mul(rest) {
            chosen = Some(k + 1);
            break;
        }
    }
    let Some(k) = chosen else {
        return vec![range];
    };
    let shown = span - sum;
    if shown == 0 {
        // Two instants and nothing between: no scale to keep.
        return vec![range];
    }
    let mut cut = gaps[..k].to_vec();
    cut.sort_unstable();
    let pad = shown.div_ceil(33).max(1);
    let mut kept = Vec::with_capacity(cut.len() + 1);
    let first_end = cut[0].0;
    let mut from = if lo.saturating_mul(10) < first_end {
        0
    } else {
        lo.saturating_sub(pad)
    };
    for (g0, g1) in cut {
        kept.push((from, g0 + pad));
        from = g1 - pad;
    }
    kept.push((from, hi.saturating_add(pad)));
    kept
}

/// Where everything goes, computed before drawing.
struct Layout {
    left: i32,
    axis: TimeAxis,
    panels: Vec<PanelLayout>,
    legend: Vec<LegendItem>,
    height: u32,
}

struct PanelLayout {
    top: i32,
    /// Per mark (in `Diagram::marks` order): label row and left pixel; row
    /// [`MARK_ROWS_MAX`]: no label (the line only).
    mark_slots: Vec<(i32, i32)>,
    mark_rows: i32,
    /// The ids too short to draw in their bars, listed under the time axis (a line of
    /// [`NOTE_H`] pixels more); none on a panel of transaction rows, whose ids are
    /// the row labels.
    note: Option<String>,
}

impl PanelLayout {
    /// The chart's top pixel row (the first bar's row starts here).
    fn chart_top(&self) -> i32 {
        self.top + TITLE_H + self.mark_rows * MARK_ROW_H + 8
    }
}

enum Swatch {
    Fill(Fill),
    Mark(MarkKind),
    Aborted,
}

struct LegendItem {
    swatch: Swatch,
    text: String,
    x: i32,
    y: i32,
}

fn layout(diagrams: &[Diagram], spans: &[(u64, u64)]) -> Result<Layout, Error> {
    fonts::ensure()?;
    let mut label_w = 0;
    for r in diagrams.iter().flat_map(|d| d.rows.iter()) {
        label_w = label_w.max(text_w(&r.label, FONT_PX)?);
    }
    // Row labels, a gap, and the rotated y-axis description.
    let left = (label_w + 16 + 24).max(70);
    let whole = [shared_range(diagrams)];
    let spans = if spans.is_empty() { &whole[..] } else { spans };
    let axis = widen_for_labels(diagrams, left, spans)?;
    let mut panels = Vec::with_capacity(diagrams.len());
    let mut top = 0;
    for d in diagrams {
        // A staircase: marks in time order, each label left-anchored just right of its
        // line, on the current row if it fits after the previous label there, else one
        // row lower (nearer the chart). A line only runs down from its own row, and
        // every label lower down belongs to a later mark (further right), so no line
        // crosses a label and no two labels overlap.
        let mut order: Vec<usize> = (0..d.marks.len()).collect();
        order.sort_by_key(|&i| (d.marks[i].at, i));
        let mut row_right: Vec<i32> = Vec::new();
        let mut slots = vec![(0, 0); d.marks.len()];
        for i in order {
            let m = &d.marks[i];
            let w = text_w(&m.label(), FONT_PX)?;
            let lx = axis.x(m.at) + MARK_TEXT_GAP;
            let full = row_right.len() >= MARK_ROWS_MAX;
            match row_right.last_mut() {
                Some(r) if *r + 10 <= lx => *r = lx + w,
                _ if full => {
                    // No row left: the line only, from below the label rows.
                    slots[i] = (MARK_ROWS_MAX as i32, lx);
                    continue;
                }
                _ => row_right.push(lx + w),
            }
            slots[i] = (row_right.len() as i32 - 1, lx);
        }
        let mark_rows = row_right.len() as i32;
        let note = unlabelled_note(d, &axis)?;
        let height = TITLE_H
            + mark_rows * MARK_ROW_H
            + 8
            + d.rows.len().max(1) as i32 * ROW_H
            + AXIS_H
            + if note.is_some() { NOTE_H } else { 0 };
        panels.push(PanelLayout {
            top,
            mark_slots: slots,
            mark_rows,
            note,
        });
        top += height;
    }
    let (legend, legend_h) = legend_layout(diagrams, top + 6)?;
    Ok(Layout {
        left,
        axis,
        panels,
        legend,
        height: (top + 6 + legend_h + 8) as u32,
    })
}

/// The line naming the ids of `d` too short to draw in their bars, row by row, with
/// their spans ("too short to label: 507 #3 (621-855), #4 (855-1088)"), cut to the
/// picture's width with the count of those left out ("… and 12 more"); none when
/// every id is drawn.
fn unlabelled_note(d: &Diagram, axis: &TimeAxis) -> Result<Option<String>, Error> {
    let mark_xs: Vec<i32> = d.marks.iter().map(|m| axis.x(m.at)).collect();
    let mut groups: Vec<(String, Vec<Unlabelled>)> = Vec::new();
    for (i, row) in d.rows.iter().enumerate() {
        let ids = row_boxes(row, i, 0, axis, &mark_xs).unlabelled;
        if !ids.is_empty() {
            groups.push((row.label.clone(), ids));
        }
    }
    let total: usize = groups.iter().map(|g| g.1.len()).sum();
    if total == 0 {
        return Ok(None);
    }
    let head = "too short to label:";
    let room = WIDTH as i32 - 24;
    let mut text = head.to_string();
    let mut listed = 0;
    'rows: for (k, (label, ids)) in groups.iter().enumerate() {
        for (j, (id, from, until)) in ids.iter().enumerate() {
            let id = format!("{id} ({from}-{until})");
            let piece = match (j, k) {
                (0, 0) => format!(" {label} {id}"),
                (0, _) => format!("; {label} {id}"),
                _ => format!(", {id}"),
            };
            let rest = total - listed - 1;
            let tail = if rest > 0 {
                format!(" … and {rest} more")
            } else {
                String::new()
            };
            if text_w(&format!("{text}{piece}{tail}"), FONT_PX)? > room && listed > 0 {
                break 'rows;
            }
            text.push_str(&piece);
            listed += 1;
        }
    }
    if listed < total {
        text.push_str(&format!(" … and {} more", total - listed));
    }
    Ok(Some(text))
}

/// The axis over `kept`, its last piece lengthened until every mark label, drawn right
/// of its line, fits in the picture: the last milestone (the retire) is often the last
/// event of a run.
fn widen_for_labels(
    diagrams: &[Diagram],
    left: i32,
    kept: &[(u64, u64)],
) -> Result<TimeAxis, Error> {
    let breaks = kept.len().saturating_sub(1) as i32;
    let plot_w = f64::from(WIDTH as i32 - left - RIGHT - breaks * BREAK_W);
    let total = kept.iter().map(|(a, b)| b - a).sum::<u64>();
    let mut need = total;
    for m in diagrams.iter().flat_map(|d| d.marks.iter()) {
        // The time shown left of the mark and the breaks there.
        let mut before = 0u64;
        let mut breaks_before = 0;
        for (i, &(a, b)) in kept.iter().enumerate() {
            if m.at < a {
                break;
            }
            before += m.at.min(b) - a;
            breaks_before = i as i32;
        }
        let room = f64::from(
            WIDTH as i32
                - 4
                - MARK_TEXT_GAP
                - text_w(&m.label(), FONT_PX)?
                - left
                - breaks_before * BREAK_W,
        );
        if room > 1.0 {
            need = need.max((before as f64 * plot_w / room).ceil() as u64);
        }
    }
    let mut kept = kept.to_vec();
    if let Some(last) = kept.last_mut() {
        last.1 += need - total;
    }
    Ok(TimeAxis::new(&kept, left))
}

/// The legend lists only what the figure shows, wrapped to the width.
fn legend_layout(diagrams: &[Diagram], top: i32) -> Result<(Vec<LegendItem>, i32), Error> {
    let mut items: Vec<(Swatch, String)> = Vec::new();
    let fills: [(Fill, &str); 4] = [
        (Fill::Single, "running, single volume (before split)"),
        (Fill::VlunA, "running on VLUN A (old)"),
        (Fill::VlunB, "running on VLUN B (new)"),
        (Fill::Wait, "waiting (gate, lock, queue)"),
    ];
    let segs = || {
        diagrams
            .iter()
            .flat_map(|d| d.rows.iter().flat_map(|r| r.segments.iter()))
    };
    for (f, text) in fills {
        if segs().any(|s| s.fill == f) {
            items.push((Swatch::Fill(f), text.to_string()));
        }
    }
    if diagrams
        .iter()
        .flat_map(|d| d.rows.iter())
        .any(|r| !r.aborted.is_empty())
    {
        items.push((
            Swatch::Aborted,
            "aborted attempt (red × at its end)".to_string(),
        ));
    }
    for k in MarkKind::ALL {
        // The legend says what the marks of this kind are called in these panels
        // (quiesce names its milestones differently), without reference numbers
        // or times.
        let mut names: Vec<String> = Vec::new();
        for m in diagrams
            .iter()
            .flat_map(|d| d.marks.iter())
            .filter(|m| m.kind == k)
        {
            let n = m.name.clone();
            if !names.contains(&n) {
                names.push(n);
            }
        }
        if !names.is_empty() {
            items.push((Swatch::Mark(k), names.join(" / ")));
        }
    }
    let mut out = Vec::with_capacity(items.len());
    let (mut x, mut y) = (12, top);
    for (swatch, text) in items {
        let w = 26 + text_w(&text, FONT_PX)? + 22;
        if x + w > WIDTH as i32 - 8 && x > 12 {
            x = 12;
            y += LEGEND_ROW_H;
        }
        out.push(LegendItem { swatch, text, x, y });
        x += w;
    }
    let h = if out.is_empty() {
        0
    } else {
        y - top + LEGEND_ROW_H
    };
    Ok((out, h))
}

/// The diagrams as they are drawn ([`Diagram::shown`]).
fn shown(diagrams: &[Diagram]) -> Vec<Diagram> {
    diagrams.iter().map(Diagram::shown).collect()
}

/// Renders the diagrams stacked top to bottom on one time axis showing `spans`
/// ([`shared_spans`]; none: [`shared_range`] whole), as SVG text.
pub fn render_svg(diagrams: &[Diagram], spans: &[(u64, u64)]) -> Result<String, Error> {
    fonts::ensure()?;
    let diagrams = &shown(diagrams);
    let l = layout(diagrams, spans)?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, l.height)).into_drawing_area();
        draw(&root, diagrams, &l).map_err(|e| Error::draw("timing diagram (SVG)", e))?;
        root.present()
            .map_err(|e| Error::draw("timing diagram (SVG)", e))?;
    }
    // A name with a control character (from a file name) must not make the file
    // unreadable.
    Ok(crate::xml_text::xml_safe(out))
}

/// Renders the diagrams as a PNG image (bytes), as [`render_svg`].
pub fn render_png(diagrams: &[Diagram], spans: &[(u64, u64)]) -> Result<Vec<u8>, Error> {
    let (l, buf) = render_rgb(diagrams, spans)?;
    crate::png_bytes(&buf, WIDTH, l.height)
}

/// The layout and the pixels (RGB, row-major, [`WIDTH`] wide) of the PNG.
fn render_rgb(diagrams: &[Diagram], spans: &[(u64, u64)]) -> Result<(Layout, Vec<u8>), Error> {
    fonts::ensure()?;
    let diagrams = &shown(diagrams);
    let l = layout(diagrams, spans)?;
    let mut buf = vec![0u8; WIDTH as usize * l.height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, l.height)).into_drawing_area();
        draw(&root, diagrams, &l).map_err(|e| Error::draw("timing diagram (PNG)", e))?;
        root.present()
            .map_err(|e| Error::draw("timing diagram (PNG)", e))?;
    }
    Ok((l, buf))
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    diagrams: &[Diagram],
    l: &Layout,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    for (d, p) in diagrams.iter().zip(&l.panels) {
        draw_panel(root, d, p, l)?;
    }
    draw_legend(root, l)
}

/// One bar segment as drawn: top-left and bottom-right pixels (the right column
/// excluded, as the backends fill).
struct SegmentBox<'a> {
    seg: &'a Segment,
    a: (i32, i32),
    b: (i32, i32),
}

/// A text drawn on a bar, centred at column `x`, `w` pixels wide.
struct RowText {
    text: String,
    x: i32,
    w: i32,
    color: RGBColor,
}

/// An id drawn nowhere in its bar, and the bar's span (ticks).
type Unlabelled = (String, u64, u64);

/// One row as drawn.
struct RowBoxes<'a> {
    boxes: Vec<SegmentBox<'a>>,
    /// The centres of the aborted attempts' × marks.
    aborts: Vec<(i32, i32)>,
    /// Columns `[x0, x1)` painted in the background between two bars that meet or
    /// nearly meet.
    gaps: Vec<(i32, i32)>,
    /// The ids and wait names drawn inside the bars.
    texts: Vec<RowText>,
    /// The ids drawn nowhere in their bars, with their bars' spans (ticks): the
    /// panel's note lists them.
    unlabelled: Vec<Unlabelled>,
}

/// Row `i`'s segments as drawn: each at least [`MIN_BAR_PX`] wide (widened to the
/// right; one transaction's stretches meet, none hiding the next), two bars of
/// the row that meet [`BAR_GAP_PX`] apart (the earlier one giving up its last
/// pixels, down to [`MIN_BAR_PX`], then the later one starting later, by at most
/// [`SHIFT_MAX_PX`]; where that is not enough, 1 px apart, the earlier down to 1 px;
/// a row denser still overlaps, its hidden ids listed under the axis); the centres
/// of its aborted attempts' × marks (just right of the drawn segment that ends the
/// attempt, so the × hides no bar of its own row's attempt); the texts inside the
/// bars, clear of the milestone lines at `mark_xs` where they can be.
fn row_boxes<'a>(
    row: &'a Row,
    i: usize,
    chart_top: i32,
    axis: &TimeAxis,
    mark_xs: &[i32],
) -> RowBoxes<'a> {
    let y0 = chart_top
        + (f64::from(i as i32) * f64::from(ROW_H) + 0.18 * f64::from(ROW_H)).round() as i32;
    let y1 = chart_top
        + (f64::from(i as i32) * f64::from(ROW_H) + 0.82 * f64::from(ROW_H)).round() as i32;
    let whole = [Bar {
        segments: 0..row.segments.len(),
        id: None,
    }];
    let bars: &[Bar] = if row.bars.is_empty() {
        &whole
    } else {
        &row.bars
    };
    // Which bar each segment belongs to (none: its own).
    let mut bar_of: Vec<usize> = (bars.len()..bars.len() + row.segments.len()).collect();
    for (k, b) in bars.iter().enumerate() {
        for j in b.segments.clone() {
            if let Some(x) = bar_of.get_mut(j) {
                *x = k;
            }
        }
    }
    let mut boxes: Vec<SegmentBox> = Vec::with_capacity(row.segments.len());
    let mut gaps = Vec::new();
    for (j, s) in row.segments.iter().enumerate() {
        let mut x0 = axis.x(s.from);
        if let Some(prev) = boxes.last_mut() {
            if bar_of[j] == bar_of[j - 1] {
                x0 = x0.max(prev.b.0);
            } else if x0 < prev.b.0 + BAR_GAP_PX + 3 {
                // Bars that meet, or nearly: a line beneath (a failed backup's is
                // orange) must not join them.
                if x0 < prev.b.0 + BAR_GAP_PX {
                    let mut end = (x0 - BAR_GAP_PX).max(prev.a.0 + MIN_BAR_PX);
                    let mut start = end + BAR_GAP_PX;
                    if start - x0 > SHIFT_MAX_PX {
                        // Too dense for both: the earlier bar down to a pixel, the gap
                        // one pixel, the later no later than SHIFT_MAX_PX (past that
                        // they overlap: the ids are then too short to draw, and listed).
                        end = (x0 - 1).max(prev.a.0 + 1);
                        start = (end + 1).min(x0 + SHIFT_MAX_PX);
                    }
                    prev.b.0 = prev.b.0.min(end);
                    x0 = x0.max(start);
                }
                if x0 > prev.b.0 {
                    gaps.push((prev.b.0, x0));
                }
            }
        }
        let x1 = axis.x(s.until.max(s.from)).max(x0 + MIN_BAR_PX);
        boxes.push(SegmentBox {
            seg: s,
            a: (x0, y0),
            b: (x1, y1),
        });
    }
    let aborts = row
        .aborted
        .iter()
        .map(|&t| {
            let x = boxes
                .iter()
                .filter(|b| b.seg.until == t)
                .map(|b| b.b.0)
                .max()
                .unwrap_or_else(|| axis.x(t));
            (x + ABORT_R + 1, (y0 + y1) / 2)
        })
        .collect();
    let mut texts: Vec<RowText> = Vec::new();
    let mut unlabelled = Vec::new();
    for b in bars {
        let Some(id) = &b.id else { continue };
        let bs = boxes
            .get(b.segments.start.min(boxes.len())..b.segments.end.min(boxes.len()))
            .unwrap_or(&[]);
        match place_id(id, bs, mark_xs) {
            Some(t) => texts.push(t),
            None => unlabelled.push((
                id.clone(),
                bs.first().map_or(0, |b| b.seg.from),
                bs.last().map_or(0, |b| b.seg.until),
            )),
        }
    }
    let ids = texts.len();
    for bx in &boxes {
        let Some(t) = &bx.seg.text else { continue };
        let w = text_w(t, FONT_PX - 2).unwrap_or(i32::MAX / 2);
        let (f0, f1) = widest_free(bx.a.0, bx.b.0, mark_xs);
        let x = (f0 + f1) / 2;
        let clear = texts[..ids]
            .iter()
            .all(|o| x + w / 2 + 3 < o.x - o.w / 2 || x - w / 2 - 3 > o.x + o.w / 2);
        if w + 6 <= f1 - f0 && clear {
            texts.push(RowText {
                text: t.clone(),
                x,
                w,
                color: text_color(bx.seg.fill),
            });
        }
    }
    RowBoxes {
        boxes,
        aborts,
        gaps,
        texts,
        unlabelled,
    }
}

/// Where a bar's `id` is drawn, given the bar's boxes `bs`: the whole id on a running
/// stretch clear of the milestone lines (as a wait's name is); else over the lines
/// (they run beneath the bars), on a running stretch, then anywhere on the bar; else
/// the same for the id without its `#`; none when neither fits.
fn place_id(id: &str, bs: &[SegmentBox], mark_xs: &[i32]) -> Option<RowText> {
    let (first, last) = (bs.first()?, bs.last()?);
    let (lo, hi) = (first.a.0, last.b.0);
    // The bar's running stretches (boxes that meet), widest first.
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for b in bs.iter().filter(|b| b.seg.fill != Fill::Wait) {
        match runs.last_mut() {
            Some(r) if b.a.0 <= r.1 => r.1 = r.1.max(b.b.0),
            _ => runs.push((b.a.0, b.b.0)),
        }
    }
    runs.sort_by_key(|r| std::cmp::Reverse(r.1 - r.0));
    let short = id.trim_start_matches('#');
    let texts: &[&str] = if short.is_empty() || short == id {
        &[id]
    } else {
        &[id, short]
    };
    for &text in texts {
        let w = text_w(text, FONT_PX - 2).unwrap_or(i32::MAX / 2);
        let free = runs.iter().find_map(|&(r0, r1)| {
            let (f0, f1) = widest_free(r0, r1, mark_xs);
            (w + 6 <= f1 - f0).then_some((f0 + f1) / 2)
        });
        let x = free
            .or_else(|| {
                runs.iter()
                    .find(|&&(r0, r1)| w + 2 <= r1 - r0)
                    .map(|&(r0, r1)| (r0 + r1) / 2)
            })
            .or_else(|| (w + 2 <= hi - lo).then_some((lo + hi) / 2));
        if let Some(x) = x {
            let under = bs.iter().find(|b| b.a.0 <= x && x < b.b.0).unwrap_or(first);
            return Some(RowText {
                text: text.to_string(),
                x,
                w,
                color: text_color(under.seg.fill),
            });
        }
    }
    None
}

/// The × of an aborted attempt centred on `c`, `r` pixels from the centre to a corner.
fn draw_abort<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: (i32, i32),
    r: i32,
) -> DrawResult<DB> {
    let style = ABORT.stroke_width(2);
    root.draw(&PathElement::new(
        vec![(c.0 - r, c.1 - r), (c.0 + r, c.1 + r)],
        style,
    ))?;
    root.draw(&PathElement::new(
        vec![(c.0 - r, c.1 + r), (c.0 + r, c.1 - r)],
        style,
    ))
}

/// A tick step of 1, 2 or 5 × 10^k ticks, the smallest at least `min` (≥ 1).
fn nice_step(min: f64) -> u64 {
    let mut step = 1u64;
    loop {
        for f in [1, 2, 5] {
            let s = step.saturating_mul(f);
            if s as f64 >= min || s == u64::MAX {
                return s;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// A labelled tick of the time axis: its time, its pixel column, and where its text
/// (centred) is drawn: over the tick, or moved into its piece when it would cross an
/// edge.
#[derive(Debug, Clone, PartialEq)]
struct TickLabel {
    t: u64,
    x: i32,
    text_x: i32,
    text: String,
}

/// The grid lines of the time axis (pixel column, major) and its labelled ticks, piece
/// by piece: majors every 1, 2 or 5 × 10^k ticks, at least a label's width apart, a
/// label kept inside its piece where a break follows or precedes it. A piece too
/// short for a major of that step (the stretch after a second break, a few thousand
/// ticks wide) still gets one label: its roundest time whose text fits between its
/// edges and the middles of the breaks beside it, the one nearest the piece's middle;
/// one whose text fits nowhere is centred on the piece, and the labels of other pieces
/// it would cross are dropped while each of those pieces keeps one.
fn axis_ticks(axis: &TimeAxis) -> (Vec<(i32, bool)>, Vec<TickLabel>) {
    let label_w = axis
        .pieces
        .iter()
        .map(|q| text_w(&q.t1.to_string(), FONT_PX).unwrap_or(60))
        .max()
        .unwrap_or(60);
    let width = |text: &str| text_w(text, FONT_PX).unwrap_or(label_w);
    let last = axis.pieces.len().saturating_sub(1);
    let half_break = f64::from(BREAK_W) / 2.0;
    let mut grid = Vec::new();
    let mut labels = Vec::new();
    for (k, q) in axis.pieces.iter().enumerate() {
        let per_tick = (q.x1 - q.x0) / (q.t1 - q.t0).max(1) as f64;
        let step = nice_step(f64::from((label_w + 24).max(80)) / per_tick.max(1e-12));
        let minor = (step / 5).max(1);
        let lo = if k == 0 { q.x0 - 40.0 } else { q.x0 };
        let hi = if k == last {
            q.x1 + f64::from(RIGHT)
        } else {
            q.x1
        };
        let fits = |x: i32, w: i32, lo: f64, hi: f64| {
            f64::from(x - w / 2) >= lo && f64::from(x + w / 2) <= hi
        };
        let before = labels.len();
        let mut t = q.t0.div_ceil(minor).saturating_mul(minor);
        while t <= q.t1 {
            let x = axis.x(t);
            let major = t % step == 0;
            grid.push((x, major));
            if major {
                let text = t.to_string();
                if fits(x, width(&text), lo, hi) {
                    labels.push(TickLabel {
                        t,
                        x,
                        text_x: x,
                        text,
                    });
                }
            }
            t = match t.checked_add(minor) {
                Some(n) => n,
                None => break,
            };
        }
        if labels.len() > before {
            continue;
        }
        // No major fell in the piece, or none fitted: a finer step, down to 1 tick,
        // its times within the piece whose texts fit (into half the breaks beside).
        let lo = if k == 0 { lo } else { lo - half_break };
        let hi = if k == last { hi } else { hi + half_break };
        let middle = (q.x0 + q.x1) / 2.0;
        let mut s = step;
        let mut roundest = None;
        let chosen = loop {
            let first = q.t0.div_ceil(s).saturating_mul(s);
            if first <= q.t1 {
                roundest.get_or_insert(first);
                let candidates = (0..)
                    .map_while(|i: u64| first.checked_add(i.checked_mul(s)?).filter(|&t| t <= q.t1))
                    .take(64);
                let best = candidates
                    .filter(|&t| fits(axis.x(t), width(&t.to_string()), lo, hi))
                    .min_by(|&a, &b| {
                        let d = |t: u64| (f64::from(axis.x(t)) - middle).abs();
                        d(a).total_cmp(&d(b)).then(a.cmp(&b))
                    });
                if let Some(t) = best {
                    break Some((t, false));
                }
            }
            if s == 1 {
                break roundest.map(|t| (t, true));
            }
            s = finer_step(s);
        };
        if let Some((t, centred)) = chosen {
            let x = axis.x(t);
            labels.push(TickLabel {
                t,
                x,
                text_x: if centred { middle.round() as i32 } else { x },
                text: t.to_string(),
            });
        }
    }
    // A label centred on a piece narrower than its text: the labels of other pieces
    // it crosses go, each while its piece keeps another.
    let centred: Vec<(i32, i32)> = labels
        .iter()
        .filter(|l| l.text_x != l.x)
        .map(|l| (l.text_x, width(&l.text)))
        .collect();
    let piece = |l: &TickLabel| axis.pieces.iter().position(|q| l.t <= q.t1);
    for (cx, cw) in centred {
        let mut i = labels.len();
        while i > 0 {
            i -= 1;
            let l = &labels[i];
            let crosses = l.text_x != cx && (l.text_x - cx).abs() < (cw + width(&l.text)) / 2 + 4;
            if crosses && labels.iter().filter(|o| piece(o) == piece(l)).count() > 1 {
                labels.remove(i);
            }
        }
    }
    (grid, labels)
}

/// The 1, 2 or 5 × 10^k step below `step` (one of them, > 1): 5 → 2 → 1 → 0.5 ….
fn finer_step(step: u64) -> u64 {
    let mut p = 1u64;
    while p.saturating_mul(10) <= step && p < u64::MAX / 10 {
        p *= 10;
    }
    match step / p {
        5 => 2 * p,
        2 => p,
        _ => (p / 2).max(1),
    }
}

/// The size (pixels) a diagram's title is set in, left-aligned 12 pixels in: the
/// usual size while it fits in the picture less 12 pixels either side, else the
/// largest that fits (1 pixel at the least).
fn title_px(title: &str) -> u32 {
    let mut px = TITLE_PX;
    while px > 1 && title_width(title, px) > WIDTH as i32 - 24 {
        px -= 1;
    }
    px
}

/// The width (pixels) of a diagram's title at `px`, by the embedded font's metrics.
fn title_width(title: &str, px: u32) -> i32 {
    font(px)
        .style(FontStyle::Bold)
        .box_size(title)
        .map_or(0, |(w, _)| w as i32)
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &Diagram,
    p: &PanelLayout,
    l: &Layout,
) -> DrawResult<DB> {
    // A title too wide for the picture is drawn smaller, until it fits between the
    // margins: never cut at the right edge.
    let title_px = title_px(&d.title);
    let title = TextStyle::from(font(title_px).style(FontStyle::Bold)).color(&BLACK);
    root.draw(&Text::new(d.title.clone(), (12, p.top + 8), title))?;
    let chart_top = p.chart_top();
    let rows = d.rows.len().max(1);
    let y_axis = chart_top + rows as i32 * ROW_H;
    let small = TextStyle::from(font(FONT_PX)).color(&BLACK);
    let axis = &l.axis;
    // Grid and tick labels, piece by piece.
    let (grid, labels) = axis_ticks(axis);
    for (x, major) in grid {
        let c = if major { GRID_BOLD } else { GRID_LIGHT };
        root.draw(&PathElement::new(vec![(x, chart_top), (x, y_axis)], c))?;
    }
    // The milestone lines, beneath the bars: a bar is never hidden by a line. The
    // unlabelled ones too dense to tell apart across the rows (thousands of cycles) are
    // ticks above the chart instead, so they never read as a bar.
    let unlabelled_dense = dense_unlabelled(p, l.left);
    for (m, &(row, lx)) in d.marks.iter().zip(&p.mark_slots) {
        let c = mark_color(m.kind);
        let x = axis.x(m.at);
        let ty = p.top + TITLE_H + row * MARK_ROW_H;
        let (line_top, line_bottom) = if row < MARK_ROWS_MAX as i32 {
            root.draw(&Text::new(m.label(), (lx, ty), small.clone().color(&c)))?;
            (ty + MARK_ROW_H - 3, y_axis)
        } else if unlabelled_dense.is_some() {
            (chart_top - UNLABELLED_TICK_PX, chart_top)
        } else {
            // Unlabelled (every label row is taken): from the chart's top.
            (chart_top, y_axis)
        };
        root.draw(&PathElement::new(
            vec![(x, line_top), (x, line_bottom)],
            c.stroke_width(2),
        ))?;
    }
    // The y-axis description, rotated, at the far left.
    root.draw(&Text::new(
        d.y_label.clone(),
        (6, (chart_top + y_axis) / 2),
        small
            .clone()
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let mark_xs: Vec<i32> = d.marks.iter().map(|m| axis.x(m.at)).collect();
    let in_bar = TextStyle::from(font(FONT_PX - 2)).pos(Pos::new(HPos::Center, VPos::Center));
    for (i, row) in d.rows.iter().enumerate() {
        let rb = row_boxes(row, i, chart_top, axis, &mark_xs);
        let ly = chart_top + i as i32 * ROW_H + ROW_H / 2;
        root.draw(&Text::new(
            row.label.clone(),
            (l.left - 8, ly),
            small.clone().pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
        for b in &rb.boxes {
            draw_segment(root, b.seg, b.a, b.b)?;
        }
        if let Some(b) = rb.boxes.first() {
            // Between two bars that met: the background, over any line beneath.
            for &(x0, x1) in &rb.gaps {
                root.draw(&Rectangle::new([(x0, b.a.1), (x1, b.b.1)], WHITE.filled()))?;
            }
        }
        let ty = rb.boxes.first().map_or(ly, |b| (b.a.1 + b.b.1) / 2);
        for t in rb.texts {
            root.draw(&Text::new(
                t.text,
                (t.x, ty),
                in_bar.clone().color(&t.color),
            ))?;
        }
        for c in rb.aborts {
            draw_abort(root, c, ABORT_R)?;
        }
    }
    // The axes: the y axis, the time axis piece by piece, a break drawn as // on the
    // axis and a dashed line through the chart.
    root.draw(&PathElement::new(
        vec![(l.left, chart_top), (l.left, y_axis)],
        BLACK,
    ))?;
    for q in &axis.pieces {
        root.draw(&PathElement::new(
            vec![(q.x0.round() as i32, y_axis), (q.x1.round() as i32, y_axis)],
            BLACK,
        ))?;
    }
    let tick_style = small.clone().pos(Pos::new(HPos::Center, VPos::Top));
    for l in labels {
        root.draw(&PathElement::new(
            vec![(l.x, y_axis), (l.x, y_axis + 5)],
            BLACK,
        ))?;
        root.draw(&Text::new(
            l.text,
            (l.text_x, y_axis + 8),
            tick_style.clone(),
        ))?;
    }
    let breaks = axis.breaks();
    for &(_, _, x) in &breaks {
        let mut y = chart_top;
        while y < y_axis {
            root.draw(&PathElement::new(
                vec![(x, y), (x, (y + 4).min(y_axis))],
                BREAK_LINE,
            ))?;
            y += 8;
        }
        for dx in [-3, 3] {
            root.draw(&PathElement::new(
                vec![(x + dx - 3, y_axis + 6), (x + dx + 3, y_axis - 6)],
                BLACK.stroke_width(2),
            ))?;
        }
    }
    let mut desc = "virtual time (ticks; 1 tick = 1 µs)".to_string();
    // "nothing drawn": a break may hold what the diagram does not draw (the
    // transactions outside a window of the run, the archive copy between two marks).
    if !breaks.is_empty() {
        let spans: Vec<String> = breaks
            .iter()
            .map(|(a, b, _)| format!("{a} to {b}"))
            .collect();
        desc.push_str(&format!(
            "; axis broken at // where nothing drawn happens: {} left out",
            spans.join(", ")
        ));
    }
    if let Some(n) = unlabelled_dense {
        desc.push_str(&format!(
            "; {n} milestones unlabelled, ticks above the chart (trace.csv has each)"
        ));
    }
    root.draw(&Text::new(
        desc,
        ((l.left + WIDTH as i32 - RIGHT) / 2, y_axis + 30),
        small.clone().pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    if let Some(note) = &p.note {
        root.draw(&Text::new(
            note.clone(),
            (12, y_axis + AXIS_H),
            small.clone().pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
    }
    Ok(())
}

/// Pixels of the tick above the chart that marks an unlabelled milestone where they are
/// too dense to draw across the rows ([`dense_unlabelled`]).
const UNLABELLED_TICK_PX: i32 = 5;

/// How many of panel `p`'s milestones are unlabelled (past [`MARK_ROWS_MAX`] label
/// rows), where they are more than one for every 4 pixels of the chart's width (`left`
/// to the right margin): lines that close, across the rows, would fill them like a
/// bar. `None` where they are fewer.
fn dense_unlabelled(p: &PanelLayout, left: i32) -> Option<usize> {
    let unlabelled = p
        .mark_slots
        .iter()
        .filter(|&&(row, _)| row >= MARK_ROWS_MAX as i32)
        .count();
    let width = (WIDTH as i32 - RIGHT - left).max(1) as usize;
    (unlabelled * 4 > width).then_some(unlabelled)
}

/// The widest stretch of `[x0, x1]` that no mark line (± 3 px) crosses.
fn widest_free(x0: i32, x1: i32, mark_xs: &[i32]) -> (i32, i32) {
    let mut cuts: Vec<i32> = mark_xs
        .iter()
        .copied()
        .filter(|&x| x + 3 > x0 && x - 3 < x1)
        .collect();
    cuts.sort_unstable();
    let mut best = (x0, x0);
    let mut from = x0;
    for x in cuts.into_iter().chain(std::iter::once(x1 + 3)) {
        let to = (x - 3).min(x1);
        if to - from > best.1 - best.0 {
            best = (from, to);
        }
        from = from.max(x + 3);
    }
    best
}

fn draw_segment<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Segment,
    a: (i32, i32),
    b: (i32, i32),
) -> DrawResult<DB> {
    let c = fill_color(s.fill);
    root.draw(&Rectangle::new([a, b], c.filled()))?;
    if s.fill == Fill::Wait {
        // Vertical hatching at a fixed pixel pitch: waiting must read as "not running"
        // even in greyscale print.
        let mut x = a.0 + 3;
        while x < b.0 - 1 {
            root.draw(&PathElement::new(
                vec![(x, a.1 + 1), (x, b.1 - 1)],
                WAIT_HATCH,
            ))?;
            x += 5;
        }
        root.draw(&Rectangle::new([a, b], WAIT_HATCH))?;
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, l: &Layout) -> DrawResult<DB> {
    let style = TextStyle::from(font(FONT_PX))
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for item in &l.legend {
        let cy = item.y + LEGEND_ROW_H / 2;
        match item.swatch {
            Swatch::Fill(f) => {
                let seg = Segment {
                    from: 0,
                    until: 0,
                    fill: f,
                    text: None,
                };
                draw_segment(root, &seg, (item.x, cy - 6), (item.x + 20, cy + 6))?;
            }
            Swatch::Mark(k) => {
                root.draw(&PathElement::new(
                    vec![(item.x + 10, cy - 8), (item.x + 10, cy + 8)],
                    mark_color(k).stroke_width(2),
                ))?;
            }
            Swatch::Aborted => {
                let seg = Segment {
                    from: 0,
                    until: 0,
                    fill: Fill::VlunB,
                    text: None,
                };
                draw_segment(root, &seg, (item.x, cy - 6), (item.x + 12, cy + 6))?;
                draw_abort(root, (item.x + 12 + ABORT_R + 1, cy), ABORT_R)?;
            }
        }
        root.draw(&Text::new(
            item.text.clone(),
            (item.x + 26, cy),
            style.clone(),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A diagram's title of any length is set at a size at which it fits in the
    /// picture, by the font's metrics: the usual size when short.
    #[test]
    fn long_titles_shrink_until_they_fit() {
        assert_eq!(title_px("Fig 3C"), TITLE_PX);
        for n in [10, 40, 80, 200, 600] {
            let title = format!(
                "Fig 4 — {}",
                "transaction bars of a long run ".repeat(n / 10)
            );
            let px = title_px(&title);
            assert!((1..=TITLE_PX).contains(&px));
            assert!(title_width(&title, px) <= WIDTH as i32 - 24, "{n}: {px} px");
        }
    }

    /// The memory estimate's bound on a panel's picture (`sim::footprint`) is this
    /// module's tallest panel: every mark label row, every transaction row and the
    /// line of ids too short to label.
    #[test]
    fn the_memory_estimate_bounds_the_tallest_panel() {
        let tallest = TITLE_H
            + MARK_ROWS_MAX as i32 * MARK_ROW_H
            + 8
            + crate::figure::ROWS_MAX as i32 * ROW_H
            + AXIS_H
            + NOTE_H;
        assert_eq!(
            sim::footprint::PANEL_PIXELS_MAX,
            u64::from(WIDTH) * tallest as u64
        );
        assert!(
            sim::footprint::PICTURE_BYTES_PER_POLICY
                >= 3 * u64::from(WIDTH) * (tallest + LEGEND_ROW_H) as u64
        );
    }

    /// A scenario's name with a line feed, a tab or an ESC (the title, a row's label,
    /// a mark's name) is drawn with them as `\xHH`, as messages show it, in SVG and PNG
    /// alike.
    #[test]
    fn user_text_in_a_diagram_shows_control_characters_escaped() {
        let mut d = sample();
        d.title = "Fig 3C (scenario a\nb\tc\u{1b})".into();
        d.rows[0].label = "3\n01".into();
        d.marks[0].name = "re\tquest".into();
        let q = d.shown();
        assert_eq!(q.title, "Fig 3C (scenario a\\x0ab\\x09c\\x1b)");
        assert_eq!(q.rows[0].label, "3\\x0a01");
        assert_eq!(q.marks[0].name, "re\\x09quest");
        assert_eq!(q.rows[0].segments, d.rows[0].segments);
        let spans = shared_spans(std::slice::from_ref(&d));
        let svg = render_svg(std::slice::from_ref(&d), &spans).unwrap();
        assert!(svg.contains("a\\x0ab\\x09c\\x1b"), "{svg}");
        assert!(!svg.contains("a\nb") && !svg.contains('\u{FFFD}'), "{svg}");
        assert_eq!(
            render_png(std::slice::from_ref(&d), &spans).unwrap(),
            render_png(std::slice::from_ref(&q), &spans).unwrap()
        );
    }

    fn sample() -> Diagram {
        Diagram {
            title: "Fig 3C".into(),
            y_label: "transaction".into(),
            rows: vec![Row {
                label: "301".into(),
                aborted: Vec::new(),
                bars: Vec::new(),
                segments: vec![
                    Segment {
                        from: 40,
                        until: 350,
                        fill: Fill::Single,
                        text: None,
                    },
                    Segment {
                        from: 350,
                        until: 420,
                        fill: Fill::Wait,
                        text: Some("gate".into()),
                    },
                ],
            }],
            marks: vec![
                Mark {
                    at: 350,
                    kind: MarkKind::Request,
                    numeral: Some(350),
                    name: "request".into(),
                    cycle: None,
                },
                Mark {
                    at: 351,
                    kind: MarkKind::BReady,
                    numeral: Some(450),
                    name: "B ready".into(),
                    cycle: None,
                },
            ],
        }
    }

    /// A window of 40 transactions around a request at 150,000 (each 200 to 600 ticks,
    /// one of them on VLUN A across the three close milestones, the last one aborted),
    /// with the archive copy and the retire at 412,827 and 413,075: the shape of a long
    /// backup.
    fn long_backup() -> Diagram {
        let mut rows: Vec<Row> = (0..40u64)
            .map(|i| {
                let from = 145_500 + 160 * i;
                let until = from + 200 + (i * 37) % 400;
                let fill = if from >= 150_000 {
                    Fill::VlunB
                } else {
                    Fill::Single
                };
                Row {
                    label: format!("#{}", 768 + i),
                    segments: vec![Segment {
                        from,
                        until,
                        fill,
                        text: None,
                    }],
                    aborted: Vec::new(),
                    bars: Vec::new(),
                }
            })
            .collect();
        rows[20].segments = vec![
            Segment {
                from: 149_700,
                until: 150_000,
                fill: Fill::Single,
                text: None,
            },
            Segment {
                from: 150_000,
                until: 150_400,
                fill: Fill::VlunA,
                text: None,
            },
        ];
        let last_from = rows[39].segments[0].from;
        rows[39].segments.insert(
            0,
            Segment {
                from: 151_500,
                until: last_from,
                fill: Fill::Wait,
                text: Some("gate".into()),
            },
        );
        rows[39].aborted = vec![rows[39].segments[1].until];
        let mark = |at, kind, name: &str| Mark {
            at,
            kind,
            numeral: None,
            name: name.into(),
            cycle: None,
        };
        Diagram {
            title: "long backup".into(),
            y_label: "transaction".into(),
            rows,
            marks: vec![
                mark(150_000, MarkKind::Request, "backup request"),
                mark(150_041, MarkKind::AConsistent, "A consistent"),
                mark(150_100, MarkKind::BReady, "VLUN B ready"),
                mark(412_827, MarkKind::ArchiveCopy, "archive copy done"),
                mark(413_075, MarkKind::Retire, "A retired"),
            ],
        }
    }

    fn pixel(buf: &[u8], x: i32, y: i32) -> RGBColor {
        let i = (y as usize * WIDTH as usize + x as usize) * 3;
        RGBColor(buf[i], buf[i + 1], buf[i + 2])
    }

    /// Every bar of the long backup is drawn at least [`MIN_BAR_PX`] wide and shows its
    /// own colour all along its middle, also where a milestone line crosses it; the
    /// empty stretch before the archive copy is cut out of the axis, so the bars take
    /// most of the width; the aborted attempt ends in its red ×.
    #[test]
    fn bars_are_never_hidden_and_a_long_copy_breaks_the_axis() {
        let d = long_backup();
        let ds = std::slice::from_ref(&d);
        let (l, buf) = render_rgb(ds, &shared_spans(ds)).unwrap();
        assert_eq!(l.axis.pieces.len(), 2, "{:?}", l.axis);
        let (gap_from, gap_until, _) = l.axis.breaks()[0];
        assert!(
            gap_from < 153_000 && gap_until > 412_000,
            "{gap_from}..{gap_until}"
        );
        let mark_xs: Vec<i32> = d.marks.iter().map(|m| l.axis.x(m.at)).collect();
        let (bars_x0, bars_x1) = (l.axis.x(145_500), l.axis.x(152_000));
        assert!(
            bars_x1 - bars_x0 > 600,
            "the bars take {} px",
            bars_x1 - bars_x0
        );
        let chart_top = l.panels[0].chart_top();
        let mut crossed = 0;
        for (i, row) in d.rows.iter().enumerate() {
            let rb = row_boxes(row, i, chart_top, &l.axis, &mark_xs);
            let (boxes, aborts) = (rb.boxes, rb.aborts);
            for b in &boxes {
                assert!(b.b.0 - b.a.0 >= MIN_BAR_PX, "row {i}: {}..{}", b.a.0, b.b.0);
                if b.seg.fill == Fill::Wait {
                    continue;
                }
                let y = (b.a.1 + b.b.1) / 2;
                for x in b.a.0 + 1..b.b.0 {
                    assert_eq!(
                        pixel(&buf, x, y),
                        fill_color(b.seg.fill),
                        "row {i} at x = {x}"
                    );
                }
                crossed += mark_xs.iter().filter(|&&m| m > b.a.0 && m < b.b.0).count();
            }
            assert_eq!(aborts.len(), row.aborted.len());
            for (x, y) in aborts {
                assert_eq!(pixel(&buf, x, y), ABORT, "row {i}: no × at {x},{y}");
            }
        }
        assert!(
            crossed >= 3,
            "the test needs bars under the lines: {crossed}"
        );
        assert!(l
            .legend
            .iter()
            .any(|i| i.text.starts_with("aborted attempt")));
    }

    /// Milestones past the label rows cross the rows as lines while they are few, and
    /// are ticks above the chart when there are more than the chart's width can tell
    /// apart (thousands of cycles): the rows beneath stay empty, never a dark bar.
    #[test]
    fn dense_unlabelled_milestones_are_ticks_above_the_chart() {
        let with_marks = |n: u64| {
            let mut d = sample();
            d.marks = (0..n)
                .map(|i| Mark {
                    at: 1_000 + i * (1_000_000 / n),
                    kind: MarkKind::Request,
                    numeral: None,
                    name: "backup request".into(),
                    cycle: Some(i as u32 + 1),
                })
                .collect();
            d
        };
        let request = mark_color(MarkKind::Request);
        for (n, dense) in [(30, false), (2_000, true)] {
            let d = with_marks(n);
            let ds = std::slice::from_ref(&d);
            let (l, buf) = render_rgb(ds, &shared_spans(ds)).unwrap();
            let p = &l.panels[0];
            assert_eq!(dense_unlabelled(p, l.left).is_some(), dense, "{n} marks");
            let chart_top = p.chart_top();
            let row_y = chart_top + ROW_H / 2;
            let xs = |labelled: bool| -> Vec<i32> {
                d.marks
                    .iter()
                    .zip(&p.mark_slots)
                    .filter(|(_, s)| (s.0 < MARK_ROWS_MAX as i32) == labelled)
                    .map(|(m, _)| l.axis.x(m.at))
                    .collect()
            };
            // Those clear of a labelled mark's line (2 px wide), which crosses the rows.
            let labelled = xs(true);
            let unlabelled: Vec<i32> = xs(false)
                .into_iter()
                .filter(|x| labelled.iter().all(|y| (x - y).abs() > 2))
                .collect();
            assert!(!unlabelled.is_empty(), "{n} marks: none unlabelled");
            let across = unlabelled
                .iter()
                .filter(|&&x| pixel(&buf, x, row_y) == request)
                .count();
            let ticked = unlabelled
                .iter()
                .filter(|&&x| pixel(&buf, x, chart_top - 2) == request)
                .count();
            if dense {
                assert_eq!(across, 0, "{n} marks: a line crosses the row");
                assert_eq!(ticked, unlabelled.len(), "{n} marks: ticks missing");
            } else {
                assert_eq!(across, unlabelled.len(), "{n} marks: lines missing");
            }
        }
    }

    /// Without a long empty stretch the axis is not broken, and a 600-tick bar on a
    /// 400,000-tick axis (1.5 px at scale) is still drawn [`MIN_BAR_PX`] wide.
    #[test]
    fn a_short_bar_on_a_long_axis_keeps_the_minimum_width() {
        let mut d = long_backup();
        for (i, r) in d.rows.iter_mut().enumerate() {
            let from = 10_000 * i as u64;
            r.segments = vec![Segment {
                from,
                until: from + 600,
                fill: Fill::Single,
                text: None,
            }];
            r.aborted.clear();
        }
        let ds = std::slice::from_ref(&d);
        let range = shared_range(ds);
        assert_eq!(shared_spans(ds), vec![range]);
        let l = layout(ds, &[range]).unwrap();
        assert_eq!(l.axis.pieces.len(), 1);
        assert!(!l.legend.iter().any(|i| i.text.starts_with("aborted")));
        for (i, row) in d.rows.iter().enumerate() {
            let boxes = row_boxes(row, i, l.panels[0].chart_top(), &l.axis, &[]).boxes;
            assert!(boxes.iter().all(|b| b.b.0 - b.a.0 >= MIN_BAR_PX));
        }
        // The picture of Fig 3 (transactions to 750, the retire at 3,100) keeps its
        // axis whole.
        let mut fig3 = sample();
        fig3.rows[0].segments.push(Segment {
            from: 420,
            until: 750,
            fill: Fill::VlunB,
            text: None,
        });
        fig3.marks[1].at = 3_100;
        let ds = std::slice::from_ref(&fig3);
        assert_eq!(shared_spans(ds).len(), 1);
    }

    #[test]
    fn close_marks_get_separate_label_rows() {
        let d = sample();
        let l = layout(
            std::slice::from_ref(&d),
            &shared_spans(std::slice::from_ref(&d)),
        )
        .unwrap();
        let rows: Vec<i32> = l.panels[0].mark_slots.iter().map(|s| s.0).collect();
        assert_eq!(rows, vec![0, 1]);
        let (lx0, lx1) = (l.panels[0].mark_slots[0].1, l.panels[0].mark_slots[1].1);
        assert!(lx0 < lx1, "labels start right of their own lines");
    }

    /// A thousand cycles' marks (five each, close together) no longer grow the picture
    /// a label row each: the height stops at [`MARK_ROWS_MAX`] label rows.
    #[test]
    fn many_marks_draw_a_picture_of_bounded_height() {
        let with_marks = |n: u64| {
            let mut d = sample();
            d.marks = (0..n)
                .map(|k| Mark {
                    at: 300 + k % 200,
                    kind: MarkKind::Request,
                    numeral: None,
                    name: "backup request".into(),
                    cycle: Some(k as u32 + 1),
                })
                .collect();
            let l = layout(
                std::slice::from_ref(&d),
                &shared_spans(std::slice::from_ref(&d)),
            )
            .unwrap();
            (d, l)
        };
        let (_, few) = with_marks(5);
        let (d, many) = with_marks(5_000);
        assert!(few.panels[0].mark_rows < MARK_ROWS_MAX as i32);
        assert_eq!(many.panels[0].mark_rows, MARK_ROWS_MAX as i32);
        let unlabelled = many.panels[0]
            .mark_slots
            .iter()
            .filter(|s| s.0 == MARK_ROWS_MAX as i32)
            .count();
        assert!(unlabelled > 4_000, "{unlabelled} marks without a label");
        let bound = few.height + MARK_ROWS_MAX as u32 * MARK_ROW_H as u32;
        assert!(many.height <= bound, "{} > {bound}", many.height);
        let spans = shared_spans(std::slice::from_ref(&d));
        assert!(!render_png(std::slice::from_ref(&d), &spans)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn the_time_axis_starts_at_zero_unless_everything_is_late() {
        let d = sample();
        assert_eq!(shared_range(std::slice::from_ref(&d)).0, 0);
        let mut late = d.clone();
        for s in late.rows.iter_mut().flat_map(|r| r.segments.iter_mut()) {
            s.from += 10_000;
            s.until += 10_000;
        }
        for m in &mut late.marks {
            m.at += 10_000;
        }
        let (lo, hi) = shared_range(&[late]);
        assert!(lo > 9_000 && lo <= 10_040 && hi > 10_420, "{lo}..{hi}");
    }

    #[test]
    fn labels_give_numeral_name_and_time() {
        let d = sample();
        assert_eq!(d.marks[0].label(), "350 request (t=350)");
        let m = Mark {
            numeral: None,
            name: "A retired".into(),
            ..d.marks[0].clone()
        };
        assert_eq!(m.label(), "A retired (t=350)");
        let m = Mark {
            cycle: Some(2),
            ..m
        };
        assert_eq!(m.label(), "#2 A retired (t=350)");
    }

    #[test]
    fn segment_text_avoids_mark_lines() {
        assert_eq!(widest_free(0, 100, &[]), (0, 100));
        assert_eq!(widest_free(0, 100, &[30]), (33, 100));
        assert_eq!(widest_free(0, 100, &[70]), (0, 67));
    }

    #[test]
    fn svg_is_deterministic_and_names_the_rows() {
        let d = vec![sample()];
        let r = shared_spans(&d);
        let a = render_svg(&d, &r).unwrap();
        assert_eq!(a, render_svg(&d, &r).unwrap());
        assert!(
            a.contains("301\n</text>") || a.contains(">301<"),
            "row label missing:\n{a}"
        );
        assert!(a.contains("350 request"));
    }

    /// The numbers an SVG's texts read as (the time axis's tick labels).
    fn tick_numbers(svg: &str) -> Vec<u64> {
        svg.split('>')
            .filter_map(|t| t.split('<').next())
            .filter_map(|t| t.trim().parse().ok())
            .collect()
    }

    /// The long backup, its archive copy and retire a little earlier, with one more
    /// milestone far after them: the axis is broken twice, and the stretches after the
    /// breaks (a few hundred ticks each, no multiple of the 1,000-tick step of the first
    /// in the middle one) are labelled too, as the first.
    #[test]
    fn every_stretch_of_a_twice_broken_axis_has_a_tick_label() {
        let mut d = long_backup();
        d.marks[3].at = 412_327;
        d.marks[4].at = 412_575;
        d.marks.push(Mark {
            at: 560_709,
            kind: MarkKind::DetachEnd,
            numeral: None,
            name: "B copied to B'".into(),
            cycle: None,
        });
        let d = vec![d];
        let spans = shared_spans(&d);
        assert_eq!(spans.len(), 3, "{spans:?}");
        let svg = render_svg(&d, &spans).unwrap();
        let ticks = tick_numbers(&svg);
        // The stretches as drawn (the last one lengthened for its mark's label).
        let pieces = layout(&d, &spans).unwrap().axis.pieces;
        assert_eq!(pieces.len(), 3);
        for q in pieces {
            assert!(
                ticks.iter().any(|t| (q.t0..=q.t1).contains(t)),
                "no tick label in {}..={}: {ticks:?}",
                q.t0,
                q.t1
            );
        }
    }

    proptest::proptest! {
        /// Whatever the stretches an axis shows (one to four, of 1 to 10^9 ticks, up
        /// to 10^12 in), each has a tick label at a time within it; and when each is
        /// drawn wider than the widest label, no two labels' texts overlap.
        #[test]
        fn every_piece_of_an_axis_has_a_label(
            parts in proptest::collection::vec((1u64..1_000_000_000, 1u64..1_000_000_000), 1..5),
            start in 0u64..1_000_000_000_000,
        ) {
            crate::fonts::ensure().unwrap();
            let mut kept = Vec::new();
            let mut t = start;
            for (len, gap) in parts {
                kept.push((t, t + len));
                t += len + gap;
            }
            let axis = TimeAxis::new(&kept, 80);
            let (_, labels) = axis_ticks(&axis);
            for q in &axis.pieces {
                proptest::prop_assert!(
                    labels.iter().any(|l| (q.t0..=q.t1).contains(&l.t)),
                    "{:?}: {:?}", q, labels
                );
            }
            let w = |l: &TickLabel| text_w(&l.text, FONT_PX).unwrap();
            let widest = labels.iter().map(w).max().unwrap_or(0);
            if axis.pieces.iter().all(|q| q.x1 - q.x0 >= f64::from(widest + 8)) {
                for (a, b) in labels.iter().zip(labels.iter().skip(1)) {
                    proptest::prop_assert!(
                        a.text_x + w(a) / 2 <= b.text_x - w(b) / 2,
                        "{:?} overlaps {:?}", a, b
                    );
                }
            }
        }
    }

    #[test]
    fn png_has_the_signature() {
        let d = vec![sample()];
        let png = render_png(&d, &shared_spans(&d)).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }

    /// A Fig 4 process row as `scenarios/fig4-5.toml` runs it (507: #3 621-855, #4
    /// 855-1088 and #6 1088-1721 back to back), with bars of 151 ticks and of one
    /// tick, a bar of a lock wait and a run, and 504's #2 across three milestones.
    fn fig4_like() -> Diagram {
        let seg = |from, until, fill| Segment {
            from,
            until,
            fill,
            text: None,
        };
        let process = |label: &str, bars: Vec<(&str, Vec<Segment>)>| {
            let mut row = Row {
                label: label.into(),
                segments: Vec::new(),
                aborted: Vec::new(),
                bars: Vec::new(),
            };
            for (id, segs) in bars {
                let first = row.segments.len();
                row.segments.extend(segs);
                row.bars.push(Bar {
                    segments: first..row.segments.len(),
                    id: Some(id.into()),
                });
            }
            row
        };
        let b = |id, from, until| (id, vec![seg(from, until, Fill::VlunB)]);
        let mark = |at, kind| Mark {
            at,
            kind,
            numeral: None,
            name: format!("{kind:?}"),
            cycle: None,
        };
        let mut lock = seg(2_068, 2_500, Fill::Wait);
        lock.text = Some("lock".into());
        Diagram {
            title: "Fig 4".into(),
            y_label: "process".into(),
            rows: vec![
                process(
                    "504",
                    vec![(
                        "#2",
                        vec![seg(196, 521, Fill::Single), seg(521, 860, Fill::VlunA)],
                    )],
                ),
                process(
                    "507",
                    vec![
                        b("#3", 621, 855),
                        b("#4", 855, 1_088),
                        b("#6", 1_088, 1_721),
                        b("#8", 1_857, 2_068),
                        ("#10", vec![lock, seg(2_500, 2_867, Fill::VlunB)]),
                        b("#16", 4_124, 4_275),
                        b("#90", 5_000, 5_001),
                        b("#91", 5_001, 5_002),
                        b("#92", 5_002, 6_000),
                        b("#40", 11_000, 11_340),
                    ],
                ),
            ],
            marks: vec![
                mark(521, MarkKind::Request),
                mark(621, MarkKind::BReady),
                mark(860, MarkKind::AConsistent),
                mark(1_542, MarkKind::ArchiveCopy),
                mark(1_554, MarkKind::Retire),
            ],
        }
    }

    /// Every bar of a row with several (a process's transactions) is drawn apart from
    /// the next, in the SVG (its rectangles, merged where they touch, make as many
    /// pieces as the row has bars) and in the PNG (as many runs of bar colours along
    /// the row, background between); every id is drawn in the SVG, whole or without
    /// its `#`, or listed with its span in the note under the axis. Returns the note.
    fn assert_bars_apart_and_named(ds: &[Diagram], gap_min: i32) -> Vec<String> {
        let spans = shared_spans(ds);
        let svg = render_svg(ds, &spans).unwrap();
        let (l, buf) = render_rgb(ds, &spans).unwrap();
        let attr = |tag: &str, name: &str| -> Option<String> {
            let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(tag[at..].split('"').next()?.to_string())
        };
        let bar_fills = ["#7F8796", "#1F77B4", "#FF7F0E", "#ECECEC"];
        let mut rects: BTreeMap<i32, Vec<(i32, i32)>> = BTreeMap::new();
        for tag in svg.split("<rect").skip(1) {
            let tag = tag.split('>').next().unwrap_or_default();
            let fill = attr(tag, "fill").unwrap_or_default();
            if !bar_fills.contains(&fill.as_str()) {
                continue;
            }
            let n = |k| attr(tag, k).and_then(|v| v.parse::<i32>().ok()).unwrap();
            rects
                .entry(n("y"))
                .or_default()
                .push((n("x"), n("x") + n("width")));
        }
        let texts: Vec<String> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| {
                Some(
                    t.split_once('>')?
                        .1
                        .split("</text>")
                        .next()?
                        .trim()
                        .to_string(),
                )
            })
            .collect();
        let notes: Vec<String> = texts
            .iter()
            .filter(|t| t.starts_with("too short to label:"))
            .cloned()
            .collect();
        for (d, p) in ds.iter().zip(&l.panels) {
            let mark_xs: Vec<i32> = d.marks.iter().map(|m| l.axis.x(m.at)).collect();
            for (i, row) in d.rows.iter().enumerate() {
                if row.bars.is_empty() {
                    continue;
                }
                let (y0, y1) = {
                    let rb = row_boxes(row, i, p.chart_top(), &l.axis, &mark_xs);
                    (rb.boxes[0].a.1, rb.boxes[0].b.1)
                };
                let mut xs = rects.get(&y0).cloned().unwrap_or_default();
                xs.sort_unstable();
                let mut pieces: Vec<(i32, i32)> = Vec::new();
                for (a, b) in xs {
                    match pieces.last_mut() {
                        Some(q) if a <= q.1 => q.1 = q.1.max(b),
                        _ => pieces.push((a, b)),
                    }
                }
                assert_eq!(
                    pieces.len(),
                    row.bars.len(),
                    "row {}: {pieces:?}",
                    row.label
                );
                for w in pieces.windows(2) {
                    assert!(w[1].0 - w[0].1 >= gap_min, "row {}: {w:?}", row.label);
                }
                // 1 px where a row is too dense for both (SHIFT_MAX_PX).
                let width_min = if gap_min >= BAR_GAP_PX { MIN_BAR_PX } else { 1 };
                assert!(pieces.iter().all(|q| q.1 - q.0 >= width_min), "{pieces:?}");
                // The PNG, along the bars' top pixel row (above any text).
                let mut runs = 0;
                let mut inside = false;
                for x in 0..WIDTH as i32 {
                    let c = pixel(&buf, x, y0 + 1);
                    let bar = [SINGLE, VLUN_A, VLUN_B, WAIT_FILL, WAIT_HATCH].contains(&c);
                    runs += usize::from(bar && !inside);
                    inside = bar;
                }
                assert_eq!(runs, row.bars.len(), "row {} in the PNG", row.label);
                assert!(y1 > y0 + 2);
                for b in &row.bars {
                    let id = b.id.as_deref().unwrap();
                    let (from, until) = (
                        row.segments[b.segments.start].from,
                        row.segments[b.segments.end - 1].until,
                    );
                    let listed = format!("{id} ({from}-{until})");
                    assert!(
                        texts
                            .iter()
                            .any(|t| t == id || t == id.trim_start_matches('#'))
                            || notes.iter().any(|n| n.contains(&listed)),
                        "row {}: {id} is neither drawn nor listed ({notes:?})",
                        row.label
                    );
                }
            }
        }
        notes
    }

    /// Fig 4's back-to-back transactions are drawn as separate bars, each named: 507's
    /// #3 and #4 in their bars (they once merged with #6 into one bar labelled #6), 504's
    /// #2 across its milestones, the one-tick bars in the note with their spans.
    #[test]
    fn back_to_back_bars_are_apart_and_every_id_is_named() {
        let d = fig4_like();
        // The one-tick bars #90-#92 are drawn 1 px apart (2 px would move #92 more
        // than SHIFT_MAX_PX from its time).
        let notes = assert_bars_apart_and_named(std::slice::from_ref(&d), 1);
        let svg = render_svg(
            std::slice::from_ref(&d),
            &shared_spans(std::slice::from_ref(&d)),
        )
        .unwrap();
        for id in ["#2", "#3", "#4", "#6"] {
            assert!(
                svg.contains(&format!(">\n{id}\n</text>"))
                    || svg.contains(&format!(">\n{}\n</text>", &id[1..])),
                "{id} not drawn in its bar"
            );
        }
        assert!(
            svg.contains(">\nlock\n</text>"),
            "the lock wait keeps its name"
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("too short to label: 507 #")
                && notes[0].contains("#90 (5000-5001), #91 (5001-5002)"),
            "{notes:?}"
        );
        // A panel of transaction rows (ids at the left) has no note.
        let ds = [long_backup()];
        let svg = render_svg(&ds, &shared_spans(&ds)).unwrap();
        assert!(!svg.contains("too short to label"));
    }

    /// A row far denser than a bar and a gap per transaction (2,000 transactions of 5
    /// ticks, about half a pixel each) keeps its times: no bar starts more than
    /// [`SHIFT_MAX_PX`] right of its time or leaves the picture, and the note names
    /// the ids (the first ones, and how many more).
    #[test]
    fn a_dense_row_keeps_its_times() {
        let mut d = fig4_like();
        let row = &mut d.rows[1];
        row.segments.clear();
        row.bars.clear();
        for k in 0..2_000usize {
            let from = 1_000 + 5 * k as u64;
            row.segments.push(Segment {
                from,
                until: from + 5,
                fill: Fill::VlunB,
                text: None,
            });
            row.bars.push(Bar {
                segments: k..k + 1,
                id: Some(format!("#{k}")),
            });
        }
        let ds = std::slice::from_ref(&d);
        let l = layout(ds, &shared_spans(ds)).unwrap();
        let mark_xs: Vec<i32> = d.marks.iter().map(|m| l.axis.x(m.at)).collect();
        let rb = row_boxes(&d.rows[1], 1, l.panels[0].chart_top(), &l.axis, &mark_xs);
        for b in &rb.boxes {
            let shift = b.a.0 - l.axis.x(b.seg.from);
            assert!((0..=SHIFT_MAX_PX).contains(&shift), "{shift} px");
            assert!(b.b.0 <= WIDTH as i32 - RIGHT / 2, "{}", b.b.0);
        }
        assert_eq!(rb.unlabelled.len(), 2_000);
        let note = l.panels[0].note.as_deref().unwrap_or_default();
        assert!(
            note.starts_with("too short to label: 507 #0 (1000-1005), #1 (1005-1010)")
                && note.ends_with(" more"),
            "{note}"
        );
    }

    /// The same of the shipped `scenarios/fig4-5.toml`'s workload run under every
    /// one-way mirror and quiesce, stacked as `timing.png` draws them.
    #[test]
    fn the_fig4_5_scenario_draws_every_transaction_apart_and_named() {
        let mut s = sim::Scenario::with_workload(sim::WorkloadConfig::Fig45(sim::Fig45Config {
            records: 256,
            transactions: 40,
            arrival_ticks_mean: 100,
            processes: 2,
            compute_ticks_min: 20,
            compute_ticks_max: 800,
            ..sim::Fig45Config::default()
        }));
        s.name = "fig4-5".into();
        s.backup.request_at_ticks = Some(521);
        let policies = [
            sim::Policy::Quiesce,
            sim::Policy::Owm(engine::Variant::WriteMirroring),
            sim::Policy::Owm(engine::Variant::WriteLogging),
            sim::Policy::Owm(engine::Variant::CopyOnWrite),
        ];
        let ds: Vec<Diagram> = policies
            .iter()
            .map(|&p| {
                crate::figure::diagram(&crate::NamedRun {
                    name: p.to_string(),
                    result: sim::run(&s, p, 1).unwrap().result,
                })
            })
            .collect();
        assert!(ds.iter().all(|d| d.rows.iter().all(|r| !r.bars.is_empty())));
        let bars: usize = ds.iter().flat_map(|d| &d.rows).map(|r| r.bars.len()).sum();
        assert!(bars >= 4 * 40, "{bars} bars");
        assert_bars_apart_and_named(&ds, BAR_GAP_PX);
        for d in &ds {
            assert_bars_apart_and_named(std::slice::from_ref(d), BAR_GAP_PX);
        }
    }
}
