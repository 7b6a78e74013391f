//! Timing diagrams in the style of the patent's Fig 3A/3B/3C and Fig 4: one horizontal
//! bar per transaction (or process) on a virtual-time axis, coloured by the volume it
//! uses, waiting drawn pale and hatched, and vertical marks for the backup's milestones.
//!
//! The picture is described by plain data ([`Diagram`]) so the drawing knows nothing of
//! the simulator; [`crate::figure::diagram`] builds a `Diagram` from a run. Layout is
//! computed first from the embedded font's metrics (text never overlaps: mark labels
//! are stacked in rows, segment texts are drawn only where they fit, the legend wraps),
//! then the same layout is drawn on an SVG or a bitmap backend.

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

/// One stretch of one bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub from: u64,
    pub until: u64,
    pub fill: Fill,
    /// Drawn inside the segment when it fits (a transaction id, "gate", "lock"...).
    pub text: Option<String>,
}

/// One bar: a transaction or a process.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The label at the left (301, 503, an id).
    pub label: String,
    pub segments: Vec<Segment>,
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

const SINGLE: RGBColor = RGBColor(127, 135, 150);
const VLUN_A: RGBColor = RGBColor(31, 119, 180);
const VLUN_B: RGBColor = RGBColor(255, 127, 14);
const WAIT_FILL: RGBColor = RGBColor(236, 236, 236);
const WAIT_HATCH: RGBColor = RGBColor(150, 150, 150);

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

fn mark_color(k: MarkKind) -> RGBColor {
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

/// Where everything goes, computed before drawing.
struct Layout {
    left: i32,
    range: (u64, u64),
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
}

enum Swatch {
    Fill(Fill),
    Mark(MarkKind),
}

struct LegendItem {
    swatch: Swatch,
    text: String,
    x: i32,
    y: i32,
}

fn x_pixel(layout_left: i32, range: (u64, u64), t: u64) -> i32 {
    let plot_w = f64::from(WIDTH as i32 - layout_left - RIGHT);
    let frac = (t.saturating_sub(range.0)) as f64 / (range.1 - range.0).max(1) as f64;
    layout_left + (frac * plot_w).round() as i32
}

fn layout(diagrams: &[Diagram], range: (u64, u64)) -> Result<Layout, Error> {
    fonts::ensure()?;
    let mut label_w = 0;
    for r in diagrams.iter().flat_map(|d| d.rows.iter()) {
        label_w = label_w.max(text_w(&r.label, FONT_PX)?);
    }
    // Row labels, a gap, and the rotated y-axis description.
    let left = (label_w + 16 + 24).max(70);
    let range = widen_for_labels(diagrams, left, range)?;
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
            let lx = x_pixel(left, range, m.at) + MARK_TEXT_GAP;
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
        let height =
            TITLE_H + mark_rows * MARK_ROW_H + 8 + d.rows.len().max(1) as i32 * ROW_H + AXIS_H;
        panels.push(PanelLayout {
            top,
            mark_slots: slots,
            mark_rows,
        });
        top += height;
    }
    let (legend, legend_h) = legend_layout(diagrams, top + 6)?;
    Ok(Layout {
        left,
        range,
        panels,
        legend,
        height: (top + 6 + legend_h + 8) as u32,
    })
}

/// Widens the time range until every mark label, drawn right of its line, fits in the
/// picture: the last milestone (the retire) is often the last event of a run.
fn widen_for_labels(
    diagrams: &[Diagram],
    left: i32,
    range: (u64, u64),
) -> Result<(u64, u64), Error> {
    let (t0, mut t1) = range;
    let plot_w = f64::from(WIDTH as i32 - left - RIGHT);
    for m in diagrams.iter().flat_map(|d| d.marks.iter()) {
        let room =
            f64::from(WIDTH as i32 - 4 - MARK_TEXT_GAP - text_w(&m.label(), FONT_PX)? - left);
        if room > 1.0 && x_pixel(left, (t0, t1), m.at) > left + room as i32 {
            let need = t0 as f64 + (m.at.saturating_sub(t0)) as f64 * plot_w / room;
            t1 = t1.max(need.ceil() as u64);
        }
    }
    Ok((t0, t1))
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
    let kinds = [
        MarkKind::Request,
        MarkKind::BReady,
        MarkKind::AConsistent,
        MarkKind::ArchiveCopy,
        MarkKind::Retire,
        MarkKind::Failed,
        MarkKind::DetachEnd,
    ];
    for k in kinds {
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

/// Renders the diagrams stacked top to bottom on one time scale, as SVG text.
pub fn render_svg(diagrams: &[Diagram], range: (u64, u64)) -> Result<String, Error> {
    fonts::ensure()?;
    let l = layout(diagrams, range)?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, l.height)).into_drawing_area();
        draw(&root, diagrams, &l).map_err(|e| Error::draw("timing diagram (SVG)", e))?;
        root.present()
            .map_err(|e| Error::draw("timing diagram (SVG)", e))?;
    }
    Ok(out)
}

/// Renders the diagrams as a PNG image (bytes).
pub fn render_png(diagrams: &[Diagram], range: (u64, u64)) -> Result<Vec<u8>, Error> {
    fonts::ensure()?;
    let l = layout(diagrams, range)?;
    let mut buf = vec![0u8; WIDTH as usize * l.height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, l.height)).into_drawing_area();
        draw(&root, diagrams, &l).map_err(|e| Error::draw("timing diagram (PNG)", e))?;
        root.present()
            .map_err(|e| Error::draw("timing diagram (PNG)", e))?;
    }
    crate::png_bytes(&buf, WIDTH, l.height)
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

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &Diagram,
    p: &PanelLayout,
    l: &Layout,
) -> DrawResult<DB> {
    let title = TextStyle::from(font(TITLE_PX).style(FontStyle::Bold)).color(&BLACK);
    root.draw(&Text::new(d.title.clone(), (12, p.top + 8), title))?;
    let chart_top = p.top + TITLE_H + p.mark_rows * MARK_ROW_H + 8;
    let rows = d.rows.len().max(1);
    let area = root.clone().shrink(
        (0, chart_top),
        (WIDTH, (rows as i32 * ROW_H + AXIS_H) as u32),
    );
    let (t0, t1) = l.range;
    let mut chart = ChartBuilder::on(&area)
        .margin_right(RIGHT)
        .x_label_area_size(AXIS_H)
        .y_label_area_size(l.left)
        .build_cartesian_2d(t0 as f64..t1 as f64, 0f64..rows as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(12)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc("virtual time (ticks; 1 tick = 1 µs)")
        .label_style(font(FONT_PX))
        .axis_desc_style(font(FONT_PX))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()?;
    let small = TextStyle::from(font(FONT_PX)).color(&BLACK);
    // The y-axis description, rotated, at the far left.
    let (_, mid_y) = chart.backend_coord(&(t0 as f64, rows as f64 / 2.0));
    root.draw(&Text::new(
        d.y_label.clone(),
        (6, mid_y),
        small
            .clone()
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let mark_xs: Vec<i32> = d
        .marks
        .iter()
        .map(|m| chart.backend_coord(&(m.at as f64, 0.0)).0)
        .collect();
    for (i, row) in d.rows.iter().enumerate() {
        let y_hi = (rows - i) as f64 - 0.18;
        let y_lo = (rows - i - 1) as f64 + 0.18;
        let (lx, ly) = chart.backend_coord(&(t0 as f64, (y_hi + y_lo) / 2.0));
        root.draw(&Text::new(
            row.label.clone(),
            (lx - 8, ly),
            small.clone().pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
        for s in &row.segments {
            let a = chart.backend_coord(&(s.from as f64, y_hi));
            let b = chart.backend_coord(&(s.until.max(s.from) as f64, y_lo));
            let b = (b.0.max(a.0 + 1), b.1);
            draw_segment(root, s, a, b, &mark_xs)?;
        }
    }
    for (m, &(row, lx)) in d.marks.iter().zip(&p.mark_slots) {
        let c = mark_color(m.kind);
        let (x, y_bottom) = chart.backend_coord(&(m.at as f64, 0.0));
        let ty = p.top + TITLE_H + row * MARK_ROW_H;
        let line_top = if row < MARK_ROWS_MAX as i32 {
            root.draw(&Text::new(m.label(), (lx, ty), small.clone().color(&c)))?;
            ty + MARK_ROW_H - 3
        } else {
            // Unlabelled (every label row is taken): from the chart's top.
            p.top + TITLE_H + p.mark_rows * MARK_ROW_H + 8
        };
        root.draw(&PathElement::new(
            vec![(x, line_top), (x, y_bottom)],
            c.stroke_width(2),
        ))?;
    }
    Ok(())
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
    mark_xs: &[i32],
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
    if s.fill != Fill::Wait && s.text.is_some() && b.0 - a.0 > 2 {
        // A labelled running stretch starts a new transaction on a process row: a thin
        // white edge keeps back-to-back transactions apart.
        root.draw(&PathElement::new(vec![(a.0, a.1), (a.0, b.1)], WHITE))?;
    }
    if let Some(t) = &s.text {
        let w = text_w(t, FONT_PX - 2).unwrap_or(i32::MAX);
        let (f0, f1) = widest_free(a.0, b.0, mark_xs);
        if w + 6 <= f1 - f0 {
            let color = text_color(s.fill);
            let style = TextStyle::from(font(FONT_PX - 2))
                .color(&color)
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new(
                t.clone(),
                ((f0 + f1) / 2, (a.1 + b.1) / 2),
                style,
            ))?;
        }
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
                draw_segment(root, &seg, (item.x, cy - 6), (item.x + 20, cy + 6), &[])?;
            }
            Swatch::Mark(k) => {
                root.draw(&PathElement::new(
                    vec![(item.x + 10, cy - 8), (item.x + 10, cy + 8)],
                    mark_color(k).stroke_width(2),
                ))?;
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
    use super::*;

    /// The memory estimate's bound on a panel's picture (`sim::footprint`) is this
    /// module's tallest panel: every mark label row and every transaction row.
    #[test]
    fn the_memory_estimate_bounds_the_tallest_panel() {
        let tallest = TITLE_H
            + MARK_ROWS_MAX as i32 * MARK_ROW_H
            + 8
            + crate::figure::ROWS_MAX as i32 * ROW_H
            + AXIS_H;
        assert_eq!(
            sim::footprint::PANEL_PIXELS_MAX,
            u64::from(WIDTH) * tallest as u64
        );
        assert!(
            sim::footprint::PICTURE_BYTES_PER_POLICY
                >= 3 * u64::from(WIDTH) * (tallest + LEGEND_ROW_H) as u64
        );
    }

    fn sample() -> Diagram {
        Diagram {
            title: "Fig 3C".into(),
            y_label: "transaction".into(),
            rows: vec![Row {
                label: "301".into(),
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

    #[test]
    fn close_marks_get_separate_label_rows() {
        let d = sample();
        let l = layout(
            std::slice::from_ref(&d),
            shared_range(std::slice::from_ref(&d)),
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
                shared_range(std::slice::from_ref(&d)),
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
        let range = shared_range(std::slice::from_ref(&d));
        assert!(!render_png(std::slice::from_ref(&d), range)
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
        let r = shared_range(&d);
        let a = render_svg(&d, r).unwrap();
        assert_eq!(a, render_svg(&d, r).unwrap());
        assert!(
            a.contains("301\n</text>") || a.contains(">301<"),
            "row label missing:\n{a}"
        );
        assert!(a.contains("350 request"));
    }

    #[test]
    fn png_has_the_signature() {
        let d = vec![sample()];
        let png = render_png(&d, shared_range(&d)).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
