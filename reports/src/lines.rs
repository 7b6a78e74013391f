//! Line plots for sweeps: one line per policy, a metric against a swept parameter. The x
//! axis is linear, logarithmic, or a row of named categories ([`XScale`]): on categories
//! each policy is a marker per category (side by side, with its error bar), no line.
//! A plot may ask for its series to be split by scale ([`LinePlot::split_scales`]):
//! then curves whose peaks are orders of magnitude apart are drawn in panels stacked
//! over one x axis, each with its own y axis (the extra space plots of a run, and a
//! sweep's plots of a metric whose policies lie orders of magnitude apart).

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::timing::{mark_color, MarkKind};
use crate::{fonts, Error};

/// One line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// (x, y), in x order.
    pub points: Vec<(f64, f64)>,
    /// Error bars: (x, low, high), e.g. a 95 % confidence interval of the mean
    /// (empty: none drawn).
    pub intervals: Vec<(f64, f64, f64)>,
    /// What the legend says after the name, in parentheses: e.g. where the series has
    /// no point and why (`no value at hdd-7200: every seed's backup abandoned`).
    pub note: Option<String>,
    /// The points drawn from fewer replications than ran: `(x, failed, run)`, the
    /// point at `x` the mean of the `run − failed` seeds left after `failed` of `run`
    /// failed (a limit cut them, an error stopped them). Each is boxed (a square
    /// around it) and the legend says how many of how many failed; empty: none.
    pub seeds_failed: Vec<(f64, usize, usize)>,
}

impl Series {
    /// The legend's text: the name, and the note when there is one.
    fn legend(&self) -> String {
        match &self.note {
            Some(n) => format!("{} ({n})", self.name),
            None => self.name.clone(),
        }
    }
}

/// How the x axis is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum XScale {
    /// Linear, ticks where plotters puts them.
    Linear,
    /// Logarithmic (every x > 0), a tick at each of these values.
    Log(Vec<f64>),
    /// Named categories at x = 0, 1, 2, …, evenly spaced, each tick labelled with its
    /// name; each series is drawn as markers (with error bars), side by side within a
    /// category, never joined by a line.
    Categories(Vec<String>),
}

impl XScale {
    /// The scale of a swept axis: categories when any value is not a number; else log
    /// when asked (`Some(true)`) or, unasked (`None`), when the values are positive and
    /// span two decades or more (max / min ≥ 100); linear otherwise (a log axis needs
    /// every value positive).
    pub fn of(values: &[String], log: Option<bool>) -> XScale {
        let nums: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
        let Some(nums) = nums.filter(|n| n.iter().all(|x| x.is_finite())) else {
            return XScale::Categories(values.to_vec());
        };
        let positive = nums.iter().all(|&x| x > 0.0);
        let (lo, hi) = nums
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        if positive && log.unwrap_or(spans_two_decades(lo, hi)) {
            XScale::Log(log_ticks(nums, lo, hi))
        } else {
            XScale::Linear
        }
    }
}

/// Whether values from `lo` to `hi`, all above 0, span two decades or more (largest /
/// smallest ≥ 100): when an axis is drawn log unasked, x ([`XScale::of`]) as y
/// ([`y_log_of`]).
fn spans_two_decades(lo: f64, hi: f64) -> bool {
    lo > 0.0 && hi / lo >= 100.0
}

/// Ticks a log axis labels at most: more would print over each other.
pub const LOG_TICKS_MAX: usize = 12;

/// The ticks of a log axis over the values `nums` (from `lo` to `hi`, all positive):
/// the values themselves when there are at most [`LOG_TICKS_MAX`]; else the 1-2-5
/// steps of each decade within them, or, when those are too many, every decade (or
/// every second, third … decade) from the one at or below `lo`.
fn log_ticks(nums: Vec<f64>, lo: f64, hi: f64) -> Vec<f64> {
    if nums.len() <= LOG_TICKS_MAX {
        return nums;
    }
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let within = |t: &f64| *t >= lo * (1.0 - 1e-12) && *t <= hi * (1.0 + 1e-12);
    let steps: Vec<f64> = (first..=last)
        .flat_map(|d| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(d)))
        .filter(within)
        .collect();
    if steps.len() <= LOG_TICKS_MAX {
        return steps;
    }
    let decades = (last - first + 1) as usize;
    let stride = decades.div_ceil(LOG_TICKS_MAX).max(1);
    (first..=last)
        .step_by(stride)
        .map(|d| 10f64.powi(d))
        .collect()
}

/// One plot.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// The x axis; with [`XScale::Categories`] a point's x is its category's index.
    pub x_scale: XScale,
    pub series: Vec<Series>,
    /// A marker at every point (a sweep's few points); off for a time series of many.
    pub markers: bool,
    /// When given, the legend entry of a ring drawn around every point of a series
    /// that has no interval at that point's x (e.g. a mean of one seed, or of seeds
    /// that all gave the same value), saying why (e.g. "ringed: one seed, no 95 % CI",
    /// "ringed: no spread across seeds, no 95 % CI"); `None`: no rings, no entry.
    pub no_interval: Option<String>,
    /// When given, a line of text drawn in the middle of the frame when no series has
    /// a point (e.g. "no value at any point: …"), saying why the frame is empty;
    /// `None`: nothing drawn.
    pub no_value: Option<String>,
    /// When set, series whose peaks (largest magnitude) are more than [`SCALE_RATIO`]
    /// apart are drawn in separate panels stacked over one shared x axis, each on its
    /// own linear y axis, so that a curve of thousands is not flattened on the axis a
    /// curve of millions needs ([`panels`]); unset: one panel, whatever the scales.
    pub split_scales: bool,
    /// The y axis is logarithmic: values spanning decades (a disk's million ticks
    /// beside a flash device's thousand) each read at their own scale, one panel
    /// ([`y_log_of`] says when a sweep's values want it). A point of 0 or less is not
    /// drawn (a log axis has no place for it: the caller says so in its series' note)
    /// and an error bar reaching 0 or below ends at the axis' foot; `split_scales` has
    /// no effect.
    pub y_log: bool,
    /// With [`LinePlot::split_scales`] on a linear plot: each panel by scale whose own
    /// series want a log y axis ([`y_log_of`]: all above 0 with their intervals' feet,
    /// spanning two decades) is drawn on one, the others linear; so a policy's means of
    /// 425 to 1.28 M in a panel of their own are read at their scale although another
    /// policy's 0 keeps the plot as a whole linear. Never set for a difference.
    pub y_log_panels: bool,
    /// The y label of each panel by scale, in [`panels`] order, when they differ from
    /// [`LinePlot::y_label`] (a panel's own number of seeds); empty, or fewer than the
    /// panels: `y_label` for the panels without one.
    pub panel_y_labels: Vec<String>,
    /// Milestones drawn as vertical lines, each in the panel of its series, in the
    /// style of the timing diagram's marks ([`Milestone`]); none: no line, no legend
    /// entry.
    pub marks: Vec<Milestone>,
}

impl LinePlot {
    /// The plot as it is drawn: every text of it (title, axis labels, category names,
    /// series names and notes, the rings' and empty frame's notes, milestones' names
    /// and labels) shown as [`crate::shown_text`], a control character as `\xHH`.
    /// [`render_svg`] and [`render_png`] draw this.
    pub fn shown(&self) -> LinePlot {
        let t = |s: &String| crate::shown_text(s);
        LinePlot {
            title: t(&self.title),
            x_label: t(&self.x_label),
            y_label: t(&self.y_label),
            x_scale: match &self.x_scale {
                XScale::Categories(names) => XScale::Categories(names.iter().map(t).collect()),
                other => other.clone(),
            },
            series: self
                .series
                .iter()
                .map(|s| Series {
                    name: t(&s.name),
                    note: s.note.as_ref().map(t),
                    ..s.clone()
                })
                .collect(),
            no_interval: self.no_interval.as_ref().map(t),
            no_value: self.no_value.as_ref().map(t),
            marks: self
                .marks
                .iter()
                .map(|m| Milestone {
                    name: t(&m.name),
                    label: t(&m.label),
                    ..m.clone()
                })
                .collect(),
            ..self.clone()
        }
    }
}

/// A moment of one series drawn as a vertical line across the panel that holds the
/// series, in its kind's colour as in the timing diagrams
/// ([`crate::timing::MarkKind`]: a retire dark grey, a backup abandoned or given up
/// orange), its label in a band over the chart where it overlaps no other; the
/// legend names each kind drawn in the panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    /// Where (x, in the axis's units).
    pub at: f64,
    /// The series it belongs to (an index into [`LinePlot::series`]).
    pub series: usize,
    pub kind: MarkKind,
    /// What happened, the legend's text for its kind (`A retired`, `backup abandoned
    /// (data area full)`).
    pub name: String,
    /// The text along the line (`cow: #2 A retired (t=9120)`).
    pub label: String,
}

/// The picture of one panel; each further panel ([`LinePlot::split_scales`]) makes it
/// [`PANEL_H`] taller.
const SIZE: (u32, u32) = (900, 560);
/// The height each panel after the first adds (pixels).
const PANEL_H: u32 = 340;

/// Series whose peaks differ more than this many times are drawn in separate panels
/// ([`LinePlot::split_scales`]): within a panel the smallest curve with a non-zero peak
/// rises at least 1/[`SCALE_RATIO`] of its tallest (about 7 % of the panel's height,
/// with the headroom the legend takes).
pub const SCALE_RATIO: f64 = 10.0;

/// The series of each panel of `p`, as indices into `p.series` in their order: one
/// panel of all of them unless `p.split_scales`; else, largest peak (the largest
/// magnitude of a finite point) first, a series joins the panel before it when its
/// peak is at least 1/[`SCALE_RATIO`] of that panel's largest and opens a new one
/// otherwise; a series that is 0 throughout (or has no point) joins the last panel,
/// that of the smallest non-zero curves, where it reads as flat beside them.
pub fn panels(p: &LinePlot) -> Vec<Vec<usize>> {
    let all: Vec<usize> = (0..p.series.len()).collect();
    if !p.split_scales {
        return vec![all];
    }
    let peak = |s: &Series| {
        s.points
            .iter()
            .map(|q| q.1.abs())
            .filter(|y| y.is_finite())
            .fold(0.0, f64::max)
    };
    let mut by_peak: Vec<(f64, usize)> = p.series.iter().map(peak).zip(all).collect();
    by_peak.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut groups: Vec<(f64, Vec<usize>)> = Vec::new();
    for (top, i) in by_peak {
        match groups.last_mut() {
            Some((first, g)) if top <= 0.0 || top * SCALE_RATIO >= *first => g.push(i),
            _ => groups.push((top, vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|(_, mut g)| {
            g.sort_unstable();
            g
        })
        .collect()
}

/// The line under the title of a plot drawn in panels by scale ([`panels`]), saying
/// why: the rule (and where a series at 0 throughout is drawn, when there is one), and
/// the x axis the panels share, named by its label's words without
/// the unit (`time`, `mean inter-arrival time`).
pub fn scale_caption(p: &LinePlot) -> String {
    let x = p
        .x_label
        .split_once(" (")
        .map_or(p.x_label.as_str(), |(words, _)| words);
    // Said only when the picture has such a line: a series with points, every one 0.
    let flat = p.series.iter().any(|s| {
        let ys: Vec<f64> = s
            .points
            .iter()
            .map(|q| q.1)
            .filter(|y| y.is_finite())
            .collect();
        !ys.is_empty() && ys.iter().all(|y| *y == 0.0)
    });
    let zero = if flat {
        " (a line at 0 throughout with the smallest)"
    } else {
        ""
    };
    format!("one panel per scale: peaks more than {SCALE_RATIO}× apart on separate y axes{zero}, {x} shared")
}

/// The x axis's caption: its label, and on a log axis `log scale` beside the unit
/// (`mean inter-arrival time (ticks, log scale)`; `… (log scale)` for a label
/// without one), so evenly spaced ticks of 50, 100, 200 are read as doublings.
pub fn x_caption(p: &LinePlot) -> String {
    match &p.x_scale {
        XScale::Log(_) => with_log_scale(&p.x_label),
        _ => p.x_label.clone(),
    }
}

/// `label` of a log axis: `log scale` beside its unit (`response (ticks, log scale)`),
/// `… (log scale)` for a label without one; a statistic after the label's last `: `
/// (`: mean of 8 seeds, 95 % CI`) stays after it.
fn with_log_scale(label: &str) -> String {
    let (head, tail) = match label.rsplit_once(": ") {
        Some((h, t)) => (h, format!(": {t}")),
        None => (label, String::new()),
    };
    match head.strip_suffix(')') {
        Some(open) if open.contains(" (") => format!("{open}, log scale){tail}"),
        _ => format!("{head} (log scale){tail}"),
    }
}

/// Whether a plot of `series` wants a log y axis: every value drawn is above 0, and
/// so is every error bar's foot (an interval reaching 0 or below has no honest place
/// on a log axis: cut at its foot it would look clear of 0), and the values span two
/// decades or more (largest / smallest ≥ 100), as a log x axis is chosen
/// ([`XScale::of`]); a value of 0 or below (a difference, a delay of 0) keeps it
/// linear.
pub fn y_log_of(series: &[Series]) -> bool {
    wants_log(series.iter())
}

/// [`y_log_of`] over the series `series` yields (a panel's, picked out of a plot's).
fn wants_log<'a>(series: impl Iterator<Item = &'a Series> + Clone) -> bool {
    let ys = || {
        series
            .clone()
            .flat_map(|s| s.points.iter().map(|q| q.1))
            .filter(|y| y.is_finite())
    };
    let feet_above_0 = series
        .clone()
        .flat_map(|s| s.intervals.iter())
        .all(|b| b.1 > 0.0);
    let (lo, hi) = ys().fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
    feet_above_0 && lo <= hi && spans_two_decades(lo, hi)
}

/// The plot `p` (with [`LinePlot::y_log`]) in log space: every y its log10, a point of
/// 0 or less not drawn, an error bar's foot at 0 or below set at the axis' foot (half
/// the smallest value drawn), one panel. Drawn on a linear axis whose labels say the
/// values again ([`lines`]).
fn in_log_space(p: &LinePlot) -> LinePlot {
    let positive = || {
        p.series
            .iter()
            .flat_map(|s| {
                s.points
                    .iter()
                    .map(|q| q.1)
                    .chain(s.intervals.iter().flat_map(|b| [b.1, b.2]))
            })
            .filter(|y| y.is_finite() && *y > 0.0)
    };
    let foot = positive().fold(f64::MAX, f64::min) / 2.0;
    let log = |y: f64| if y > 0.0 { y.log10() } else { f64::NAN };
    LinePlot {
        series: p
            .series
            .iter()
            .map(|s| Series {
                points: s.points.iter().map(|&(x, y)| (x, log(y))).collect(),
                intervals: s
                    .intervals
                    .iter()
                    .filter(|b| b.2 > 0.0)
                    .map(|&(x, lo, hi)| (x, log(lo.max(foot)), log(hi)))
                    .collect(),
                ..s.clone()
            })
            .collect(),
        split_scales: false,
        y_label: with_log_scale(&p.y_label),
        ..p.clone()
    }
}

/// The plot panel `k` of `n` (its series `idx`) is drawn from: `p` with the panel's
/// own y label ([`LinePlot::panel_y_labels`]) and, for one of several panels with
/// [`LinePlot::y_log_panels`] whose series want it ([`y_log_of`]), in log space.
fn panel_plot(p: &LinePlot, k: usize, idx: &[usize], n: usize) -> LinePlot {
    let y_label = p.panel_y_labels.get(k).unwrap_or(&p.y_label).clone();
    let own = idx.iter().filter_map(|&i| p.series.get(i));
    if n > 1 && !p.y_log && p.y_log_panels && wants_log(own) {
        in_log_space(&LinePlot {
            y_label,
            y_log: true,
            ..p.clone()
        })
    } else {
        LinePlot {
            y_label,
            ..p.clone()
        }
    }
}

/// The picture's size: [`SIZE`], [`PANEL_H`] taller for each panel after the first.
fn size(p: &LinePlot) -> (u32, u32) {
    let extra = panels(p).len().saturating_sub(1) as u32;
    (SIZE.0, SIZE.1 + extra * PANEL_H)
}

/// A fixed palette, one colour per policy in a stable order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(214, 39, 40),
    RGBColor(127, 127, 127),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
];

/// The place of a policy in the fixed order of styles ([`series_look`]); `None` for
/// a name that is no policy.
fn policy_rank(name: &str) -> Option<usize> {
    [
        "quiesce",
        "crash-consistent",
        "logging",
        "mirroring",
        "cow",
        "none",
    ]
    .iter()
    .position(|p| *p == name)
}

/// How a series is drawn: its colour, marker, line width (pixels) and whether its
/// line is dashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    color: RGBColor,
    shape: Shape,
    width: u32,
    dashed: bool,
}

/// The look of series `name`, at place `k` in its plot and `i` in its panel. A policy
/// has one look in every plot, whatever the other series beside it (a sweep's metric
/// plot and its `--vs-` plot, which leaves the baseline out; two sweeps of different
/// policies): its colour (matching the timing diagrams: VLUN A blue is not used for a
/// policy), marker, width and dash: quiesce solid and crash-consistent dashed 4
/// pixels wide, logging solid and mirroring dashed 3, cow solid and none dashed 2.
/// Two policies of one width differ in dash, and
/// two of one dash in width, so lines that coincide (two variants of equal cost) stay
/// visible: the wider are drawn first ([`draw_order`]), solid beneath dashed. Other
/// names take the palette and markers by their place `k` in the plot, widths (thinner
/// each place) and dashes (every second) by their place `i` in their panel.
fn series_look(name: &str, k: usize, i: usize) -> Look {
    const SHAPES: [Shape; 3] = [Shape::Circle, Shape::Triangle, Shape::Cross];
    match policy_rank(name) {
        Some(r) => Look {
            color: match name {
                "quiesce" => PALETTE[0],
                "crash-consistent" => PALETTE[1],
                "mirroring" => PALETTE[4],
                "logging" => PALETTE[3],
                "cow" => PALETTE[5],
                _ => BLACK,
            },
            // A shape of its own for each policy: on an axis of names, where no line
            // joins the markers, two policies never differ by colour alone.
            shape: match name {
                "quiesce" => Shape::Triangle,
                "crash-consistent" => Shape::Diamond,
                "logging" => Shape::Square,
                "mirroring" => Shape::Plus,
                "cow" => Shape::Cross,
                _ => Shape::Circle,
            },
            width: 4 - (r / 2) as u32,
            dashed: r % 2 == 1,
        },
        None => Look {
            color: PALETTE[k % PALETTE.len()],
            shape: SHAPES[k % SHAPES.len()],
            width: 4u32.saturating_sub(i as u32).max(1),
            dashed: i % 2 == 1,
        },
    }
}

/// The order in which the series of `looks` (in their plot order) are drawn: wider
/// lines first, of one width solid before dashed, else in plot order; so a thinner or
/// dashed line that coincides with another is drawn over it and stays visible.
fn draw_order(looks: &[Look]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..looks.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(looks[i].width), looks[i].dashed));
    order
}

/// A marker's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Circle,
    Triangle,
    Cross,
    Square,
    Diamond,
    Plus,
}

/// The outline of a marker drawn as a filled polygon, `d` pixels from its centre to
/// each corner or arm's end, centred `dx` pixels right of the point it marks: a
/// diamond, or a plus sign with arms 3 pixels wide (any other shape: none).
fn outline(shape: Shape, d: i32, dx: i32) -> Vec<(i32, i32)> {
    let corners: &[(i32, i32)] = match shape {
        Shape::Diamond => &[(0, -d), (d, 0), (0, d), (-d, 0)],
        Shape::Plus => &[
            (-1, -d),
            (1, -d),
            (1, -1),
            (d, -1),
            (d, 1),
            (1, 1),
            (1, d),
            (-1, d),
            (-1, 1),
            (-d, 1),
            (-d, -1),
            (-1, -1),
        ],
        _ => &[],
    };
    corners.iter().map(|&(x, y)| (x + dx, y)).collect()
}

/// Draws on `$chart` a marker of `$shape` in `$c` at each point of `$at` (an iterator),
/// `$r` pixels its radius (a triangle, diamond or plus a little larger, so that each
/// reads as heavy as a circle); a filled shape, or two strokes of 2 pixels (a cross).
macro_rules! draw_markers {
    ($chart:expr, $at:expr, $shape:expr, $r:expr, $c:expr) => {{
        let (c, r): (RGBColor, i32) = ($c, $r);
        let stroke = c.stroke_width(2);
        match $shape {
            Shape::Circle => $chart.draw_series($at.map(|q| Circle::new(q, r, c.filled())))?,
            Shape::Triangle => {
                $chart.draw_series($at.map(|q| TriangleMarker::new(q, r + 2, c.filled())))?
            }
            Shape::Cross => $chart.draw_series($at.map(|q| Cross::new(q, r + 1, stroke)))?,
            Shape::Square => {
                $chart.draw_series($at.map(|q| {
                    EmptyElement::at(q) + Rectangle::new([(-r, -r), (r, r)], c.filled())
                }))?
            }
            shape @ (Shape::Diamond | Shape::Plus) => $chart.draw_series($at.map(|q| {
                EmptyElement::at(q) + Polygon::new(outline(shape, r + 2, 0), c.filled())
            }))?,
        };
    }};
}

/// Sets the legend sample of `$series`: the element `$base` (at the entry's point
/// `($x, $y)`, its parts relative to it) with the marker of `$shape` in `$c` on it, at
/// 10 pixels right, `$big` pixels larger (on an axis of names, markers alone).
macro_rules! legend_with_marker {
    ($series:expr, $shape:expr, $c:expr, $big:expr, |$x:ident, $y:ident| $base:expr) => {{
        let (c, big): (RGBColor, i32) = ($c, $big);
        let (r, stroke) = (4 + big, c.stroke_width(2));
        match $shape {
            Shape::Circle => {
                $series.legend(move |($x, $y)| $base + Circle::new((10, 0), r, c.filled()))
            }
            Shape::Triangle => $series
                .legend(move |($x, $y)| $base + TriangleMarker::new((10, 0), r + 2, c.filled())),
            Shape::Cross => {
                $series.legend(move |($x, $y)| $base + Cross::new((10, 0), r + 1, stroke))
            }
            Shape::Square => $series.legend(move |($x, $y)| {
                $base + Rectangle::new([(10 - r, -r), (10 + r, r)], c.filled())
            }),
            shape @ (Shape::Diamond | Shape::Plus) => $series.legend(move |($x, $y)| {
                $base + Polygon::new(outline(shape, r + 2, 10), c.filled())
            }),
        };
    }};
}

fn font(px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(fonts::FAMILY), px, FontStyle::Normal)
}

/// The plot's ranges over the series `idx` of `p`: x padded 5 %, y from 0 when the
/// data is positive and 35 % of headroom on top (the legend is beside the chart, never
/// over it: [`legend_width`]).
fn bounds(p: &LinePlot, idx: &[usize]) -> ((f64, f64), (f64, f64)) {
    let series = || idx.iter().filter_map(|&i| p.series.get(i));
    let bars = series().flat_map(|s| {
        s.intervals
            .iter()
            .flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)])
    });
    let all: Vec<(f64, f64)> = series()
        .flat_map(|s| s.points.iter().copied())
        .chain(bars)
        .collect();
    let pts = || all.iter();
    let fold = |f: fn(&(f64, f64)) -> f64| {
        pts()
            .map(f)
            .filter(|v| v.is_finite())
            .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    let pad = |(lo, hi): (f64, f64), from_zero: bool| {
        if lo > hi {
            return (0.0, 1.0);
        }
        let lo = if from_zero && lo >= 0.0 { 0.0 } else { lo };
        // Every value equal (all 0, or a difference of 0 everywhere): a span of 1 so
        // that the ticks read as distinct numbers, not eight times the same.
        let span = (hi - lo).max(hi.abs() * 0.1);
        let span = if span > 1e-9 { span } else { 1.0 };
        let bottom = lo
            - if from_zero && lo == 0.0 {
                0.0
            } else {
                span * 0.05
            };
        let top = hi + span * if from_zero { 0.35 } else { 0.05 };
        (bottom, top)
    };
    let x = match &p.x_scale {
        XScale::Linear => pad(fold(|p| p.0), false),
        XScale::Log(ticks) => {
            // Every tick (an x value of the grid) inside the frame, one with no value
            // (every seed failed there) too: its grid line is never drawn beyond it.
            let (lo, hi) = ticks
                .iter()
                .filter(|t| t.is_finite() && **t > 0.0)
                .fold(fold(|p| p.0), |(lo, hi), &t| (lo.min(t), hi.max(t)));
            if lo > hi || lo <= 0.0 {
                (1.0, 10.0)
            } else {
                (lo / 1.25, hi * 1.25)
            }
        }
        XScale::Categories(names) => (-0.5, names.len().max(1) as f64 - 0.5),
    };
    // A log y axis (its values already their logs) runs from the decade at or below
    // the smallest to the decade at or above the largest: a labelled tick at each end,
    // so every value is read between two labels.
    let y = if p.y_log {
        let (lo, hi) = fold(|p| p.1);
        if lo > hi {
            (0.0, 1.0)
        } else {
            let (bottom, top) = (lo.floor(), hi.ceil());
            (bottom, if top > bottom { top } else { bottom + 1.0 })
        }
    } else {
        pad(fold(|p| p.1), true)
    };
    (x, y)
}

/// An x coordinate (linear or log) with a tick at each of `ticks` and nowhere else.
struct Ticks<R> {
    inner: R,
    ticks: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticks<R> {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    p: &LinePlot,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let logged;
    let p = if p.y_log {
        logged = in_log_space(p);
        &logged
    } else {
        p
    };
    let groups = panels(p);
    let all: Vec<usize> = (0..p.series.len()).collect();
    let (x, _) = bounds(p, &all);
    // Each panel's plot: its own label and, when it wants one, its own log y axis.
    let panel_plots: Vec<LinePlot> = groups
        .iter()
        .enumerate()
        .map(|(k, idx)| panel_plot(p, k, idx, groups.len()))
        .collect();
    // The title, centred on the whole picture: set smaller when long (a sweep's other
    // axes named in words), then broken over lines, never cut at an edge.
    let width = root.dim_in_pixel().0;
    let (px, title_lines) = title_layout(&p.title, width);
    // A y label longer than the chart is high (at the smallest size it is set in)
    // keeps its quantity by the axis; the statistic after its last `: ` goes to a line
    // under the title (`y axis: mean of 8 seeds, 95 % CI`).
    let n = groups.len();
    let panel_h = (f64::from(root.dim_in_pixel().1) - 60.0) / n as f64;
    let too_long = |label: &str| {
        label.contains(": ")
            && root
                .estimate_text_size(label, &TextStyle::from(font(Y_DESC_PX.1)))
                .is_ok_and(|(w, _)| f64::from(w) > panel_h - 90.0)
    };
    // A label too long for its panel (any panel's, so that they read alike) leaves its
    // statistic to a line under the title: one, or one a panel, top to bottom, when
    // the panels' differ.
    let split = panel_plots.iter().any(|q| too_long(&q.y_label));
    let y_labels: Vec<&str> = panel_plots
        .iter()
        .map(|q| match q.y_label.rsplit_once(": ") {
            Some((head, _)) if split => head,
            _ => q.y_label.as_str(),
        })
        .collect();
    let mut tails: Vec<&str> = Vec::new();
    for q in &panel_plots {
        if let Some((_, tail)) = q.y_label.rsplit_once(": ") {
            tails.push(tail);
        }
    }
    let y_line = match tails.as_slice() {
        _ if !split => None,
        [first, rest @ ..] if rest.iter().all(|t| t == first) => Some(format!("y axis: {first}")),
        _ => Some(format!("y axes, top to bottom: {}", tails.join("; "))),
    };
    if let [only] = groups.as_slice() {
        let p = &panel_plots[0];
        let y_label = y_labels[0];
        let band = mark_band(p, only);
        // The milestones' labels in a band between the title and the chart.
        let area = titled(&root, &title_lines, px)?;
        let area = match &y_line {
            Some(line) => {
                let (sub_px, sub) = subtitle_layout(line, width);
                titled(&area, &sub, sub_px)?
            }
            None => area,
        };
        let mut builder = ChartBuilder::on(&area);
        let (legend_w, legend) = legend_area(&area, p, only);
        builder
            .margin(16)
            .margin_top(6 + band)
            .margin_right(16 + legend_w)
            .x_label_area_size(50)
            .y_label_area_size(80);
        let on = Panel {
            idx: only,
            x_desc: true,
            y_label,
        };
        return chart(&mut builder, p, on, x, &legend);
    }
    // Panels by scale, stacked under the title and a line saying why; the x axis
    // described under the last one only.
    let area = titled(&root, &title_lines, px)?;
    let (sub_px, sub) = subtitle_layout(&scale_caption(p), width);
    let area = titled(&area, &sub, sub_px)?;
    let area = match &y_line {
        Some(line) => {
            let (sub_px, sub) = subtitle_layout(line, width);
            titled(&area, &sub, sub_px)?
        }
        None => area,
    };
    // Every panel leaves its legend the widest panel legend's column, so the shared x
    // axis lies at the same pixels in each: a value read down the stack stays in line.
    let legend_w = groups
        .iter()
        .map(|idx| legend_width(&area, p, idx))
        .max()
        .unwrap_or(0);
    for (k, (idx, panel)) in groups.iter().zip(area.split_evenly((n, 1))).enumerate() {
        let last = k + 1 == n;
        let (p, y_label) = (&panel_plots[k], y_labels[k]);
        let band = mark_band(p, idx);
        let x_area = if last { 50 } else { 30 };
        let mut builder = ChartBuilder::on(&panel);
        let legend = legend_column(&panel, legend_w);
        builder
            .margin(16)
            .margin_top(6 + band)
            .margin_right(16 + legend_w)
            .x_label_area_size(x_area)
            .y_label_area_size(80);
        let on = Panel {
            idx,
            x_desc: last,
            y_label,
        };
        chart(&mut builder, p, on, x, &legend)?;
    }
    Ok(())
}

/// The title's size (pixels): its usual size, the smallest a long title is set in
/// before it is broken over lines, and the margin it keeps from either edge.
const TITLE_PX: (f64, f64) = (18.0, 11.0);
const TITLE_MARGIN_PX: f64 = 16.0;

/// The width (pixels) of `text` at `px`, by the embedded font's metrics: what the
/// layout of every title and label goes by.
fn text_width(text: &str, px: f64) -> f64 {
    font(px).box_size(text).map_or(0.0, |(w, _)| f64::from(w))
}

/// How a picture `width` pixels wide sets `title`: its size and its lines, each
/// centred on the picture. The usual size while it fits between the margins; smaller,
/// down to 11 pixels for a longer one; past that, broken between words
/// into lines that fit at that size (a word wider than the picture alone is set
/// smaller still, until it fits), so no title runs past an edge.
pub fn title_layout(title: &str, width: u32) -> (f64, Vec<String>) {
    fit_lines(title, width, TITLE_PX)
}

/// How a picture `width` pixels wide sets a line of text under its title (the panels'
/// and the y axis' statistic): as [`title_layout`], from 13 down to 11 pixels.
pub fn subtitle_layout(text: &str, width: u32) -> (f64, Vec<String>) {
    fit_lines(text, width, SUBTITLE_PX)
}

/// The size of a line under the title: usual and least before it is broken.
const SUBTITLE_PX: (f64, f64) = (13.0, 11.0);

/// `title` set to fit `width` less the margins, from size `sizes.0` down to `sizes.1`,
/// then broken between words ([`title_layout`]).
fn fit_lines(title: &str, width: u32, sizes: (f64, f64)) -> (f64, Vec<String>) {
    let room = f64::from(width) - 2.0 * TITLE_MARGIN_PX;
    let mut px = sizes.0;
    while px > sizes.1 && text_width(title, px) > room {
        px -= 0.5;
    }
    if text_width(title, px) <= room {
        return (px, vec![title.to_string()]);
    }
    let mut lines: Vec<String> = Vec::new();
    for word in title.split(' ').filter(|w| !w.is_empty()) {
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line} {word}"), px) <= room => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    while px > 1.0 && lines.iter().any(|l| text_width(l, px) > room) {
        px -= 0.5;
    }
    (px, lines)
}

/// `area` with the title's `lines` drawn at `px` at its top, each centred on its
/// whole width; the area under them.
fn titled<DB: DrawingBackend>(
    area: &Area<DB>,
    lines: &[String],
    px: f64,
) -> Result<Area<DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut area = area.clone();
    for line in lines {
        area = area.titled(line, font(px))?;
    }
    Ok(area)
}

/// The y label's size (pixels): its usual size, and the smallest it is set in to fit
/// along a short chart.
const Y_DESC_PX: (f64, f64) = (14.0, 11.0);

/// The legend's entries over the series `idx` of `p`, in the order it draws them:
/// one per series ([`Series::legend`]), one per kind of milestone drawn, one for the
/// rings' note when a point there is ringed; each as the lines it is set in
/// ([`legend_lines`]).
fn legend_texts(p: &LinePlot, idx: &[usize]) -> Vec<Vec<String>> {
    let series = || idx.iter().filter_map(|&i| p.series.get(i));
    let mut kinds: Vec<(MarkKind, Vec<&str>)> = Vec::new();
    for m in p.marks.iter().filter(|m| idx.contains(&m.series)) {
        match kinds.iter_mut().find(|(k, _)| *k == m.kind) {
            Some((_, names)) if !names.contains(&m.name.as_str()) => names.push(&m.name),
            Some(_) => {}
            None => kinds.push((m.kind, vec![&m.name])),
        }
    }
    kinds.sort_by_key(|(k, _)| MarkKind::ALL.iter().position(|a| a == k));
    let ringed = p.no_interval.as_ref().filter(|_| {
        series().any(|s| {
            s.points
                .iter()
                .any(|q| q.1.is_finite() && !s.intervals.iter().any(|b| b.0 == q.0))
        })
    });
    let listed: Vec<&Series> = series().collect();
    series()
        .map(Series::legend)
        .chain(kinds.iter().map(|(_, n)| mark_legend(n)))
        .chain(ringed.cloned())
        .chain(failed_note(&listed))
        .map(|t| legend_lines(&t))
        .collect()
}

/// The legend's text of a kind of milestone whose moments are `names`.
fn mark_legend<S: AsRef<str>>(names: &[S]) -> String {
    let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    format!("{} (vertical line)", names.join(" / "))
}

/// The characters a line of the legend holds at most: a longer entry goes on over
/// lines of its own, indented, broken between words (a word longer than that alone
/// on its line), so the legend beside the chart leaves it most of the width.
const LEGEND_LINE_CHARS: usize = 56;

/// `text` as the legend sets it: lines of at most [`LEGEND_LINE_CHARS`] characters
/// broken between words, every line after the first indented two spaces.
fn legend_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > LEGEND_LINE_CHARS {
            lines.push(std::mem::replace(&mut line, "  ".to_string()));
        } else if len > 0 && line != "  " {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// The gap between the chart's right edge and its legend (pixels).
const LEGEND_GAP_PX: u32 = 12;
/// plotters' legend box around its text: the sample's column and the margin either side
/// (`SeriesLabelStyle`'s defaults).
const LEGEND_BOX_PX: u32 = 30 + 2 * 10;

/// The column the legend of the series `idx` of `p` takes right of the chart in
/// `area`: its width (its widest line, its box and the gap before it; 0 with no
/// entry), which the chart leaves free, and the area of the column with the chart's
/// right margin after it, where the legend is drawn: beside the data, never over it.
fn legend_area<DB: DrawingBackend>(
    area: &Area<DB>,
    p: &LinePlot,
    idx: &[usize],
) -> (u32, Area<DB>) {
    let w = legend_width(area, p, idx);
    (w, legend_column(area, w))
}

/// The width (pixels) of the legend of the series `idx` of `p` ([`legend_area`]).
fn legend_width<DB: DrawingBackend>(area: &Area<DB>, p: &LinePlot, idx: &[usize]) -> u32 {
    let style = TextStyle::from(font(13.0));
    let widest = legend_texts(p, idx)
        .iter()
        .flatten()
        .map(|l| area.estimate_text_size(l, &style).map_or(0, |(w, _)| w))
        .max();
    widest.map_or(0, |w| w + LEGEND_BOX_PX + LEGEND_GAP_PX)
}

/// The legend's column of width `w` at the right of `area`, before the chart's right
/// margin ([`legend_area`]).
fn legend_column<DB: DrawingBackend>(area: &Area<DB>, w: u32) -> Area<DB> {
    let total = area.dim_in_pixel().0;
    let (_, column) = area.split_horizontally(total.saturating_sub(w + 16));
    column
}

/// One chart on `builder`: the series of `on` of `p`, x over `x0..x1`, y over theirs
/// with room for the legend over them.
fn chart<'a, DB: DrawingBackend + 'a>(
    builder: &mut ChartBuilder<'a, '_, DB>,
    p: &LinePlot,
    on: Panel<'_>,
    (x0, x1): (f64, f64),
    legend: &Area<DB>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (_, (y0, y1)) = bounds(p, on.idx);
    match &p.x_scale {
        XScale::Linear => {
            let chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
            let label = linear_axis_label(x0, x1);
            lines(chart, p, on, Some(&label), &|x| x, &|u| u, legend)
        }
        XScale::Log(ticks) => {
            let log: LogCoord<f64> = (x0..x1).log_scale().into();
            let chart = builder.build_cartesian_2d(
                Ticks {
                    inner: log,
                    ticks: ticks.clone(),
                },
                y0..y1,
            )?;
            let label = log_axis_label(x1);
            lines(
                chart,
                p,
                on,
                Some(&label),
                &f64::log10,
                &|u| 10f64.powf(u),
                legend,
            )
        }
        XScale::Categories(names) => {
            let at: Vec<f64> = (0..names.len()).map(|i| i as f64).collect();
            let linear: RangedCoordf64 = (x0..x1).into();
            let chart = builder.build_cartesian_2d(
                Ticks {
                    inner: linear,
                    ticks: at,
                },
                y0..y1,
            )?;
            // Each name within its category's share of the width, so that neighbours
            // never run into each other nor past the picture's edge: a longer one keeps
            // its start and its end (a trace's file name) around an ellipsis. The full
            // names are sweep.csv's.
            let area = chart.plotting_area();
            let share_px = f64::from(area.dim_in_pixel().0) / names.len().max(1) as f64;
            let fits = |text: &str| {
                area.estimate_text_size(text, &TextStyle::from(font(13.0)))
                    .is_ok_and(|(w, _)| f64::from(w) + CATEGORY_GAP_PX <= share_px)
            };
            let shown = category_labels(names, &fits);
            let label = |v: &f64| {
                let i = v.round();
                if (v - i).abs() < 1e-9 && i >= 0.0 {
                    shown.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            };
            lines(chart, p, on, Some(&label), &|x| x, &|u| u, legend)
        }
    }
}

/// Room between two neighbouring category labels, in pixels.
const CATEGORY_GAP_PX: f64 = 8.0;

/// The fewest characters a shortened category label keeps (its start, `…`, its end).
const CATEGORY_CHARS_MIN: usize = 5;

/// The tick labels of categories `names`: each as it is when it `fits` its share of the
/// width, else shortened around an ellipsis ([`shorten_middle`]) until it does (down
/// to [`CATEGORY_CHARS_MIN`] characters). Two names that would read alike once
/// shortened are told apart by their place, from 1 (`2. …`).
fn category_labels(names: &[String], fits: &dyn Fn(&str) -> bool) -> Vec<String> {
    let shorten = |name: &str| {
        let mut chars_max = name.chars().count();
        let mut label = name.to_string();
        while !fits(&label) && chars_max > CATEGORY_CHARS_MIN {
            chars_max -= 1;
            label = shorten_middle(name, chars_max);
        }
        label
    };
    let labels: Vec<String> = names.iter().map(|n| shorten(n)).collect();
    let alike = |i: usize| {
        labels
            .iter()
            .enumerate()
            .any(|(j, l)| j != i && *l == labels[i])
            && labels[i] != names[i]
    };
    (0..labels.len())
        .map(|i| {
            if alike(i) {
                let n = format!("{}. ", i + 1);
                let rest = shorten(&names[i]);
                format!(
                    "{n}{}",
                    shorten_middle(
                        &rest,
                        rest.chars()
                            .count()
                            .saturating_sub(n.len())
                            .max(CATEGORY_CHARS_MIN)
                    )
                )
            } else {
                labels[i].clone()
            }
        })
        .collect()
}

/// `name` in at most `chars_max` characters: as it is when it fits, else its start and
/// its end around `…` (the end a little longer: a path's file name, a name's suffix).
fn shorten_middle(name: &str, chars_max: usize) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= chars_max {
        return name.to_string();
    }
    let keep = chars_max.saturating_sub(1);
    let head = keep / 2;
    let tail = keep - head;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// What one chart of a plot draws: the series `idx` (indices into `LinePlot::series`),
/// the x axis's description when `x_desc`.
#[derive(Clone, Copy)]
struct Panel<'a> {
    idx: &'a [usize],
    x_desc: bool,
    /// The y axis's description (the plot's, or its quantity alone when its statistic
    /// is on a line under the title).
    y_label: &'a str,
}

/// SI prefixes of tick labels, largest first; the last, `k`, only on a log axis
/// ([`log_axis_label`]).
const PREFIXES: [(f64, &str); 6] = [
    (1e18, "E"),
    (1e15, "P"),
    (1e12, "T"),
    (1e9, "G"),
    (1e6, "M"),
    (1e3, "k"),
];

/// The SI prefix of `v` among `prefixes` (largest first): the largest at most `|v|`,
/// or the next up when `v` rounds to 1000 of it at 6 decimals (999,999,999,999 is
/// `1 T`); `None` below the smallest.
fn prefix_of(v: f64, prefixes: &[(f64, &'static str)]) -> Option<(f64, &'static str)> {
    let mut k = prefixes.iter().position(|(p, _)| v.abs() >= *p)?;
    while k > 0 && format!("{:.6}", v.abs() / prefixes[k].0).starts_with("1000.") {
        k -= 1;
    }
    Some(prefixes[k])
}

/// `v` in units of `scale`, up to 6 decimals, trailing zeros dropped, then `prefix`
/// (`1.25 G`, `0.5 M`); a value that rounds to 0 is `0` alone.
fn in_prefix(v: f64, (scale, prefix): (f64, &str)) -> String {
    let digits = format!("{:.6}", v / scale);
    match digits.trim_end_matches('0').trim_end_matches('.') {
        "0" | "-0" => "0".to_string(),
        d => format!("{d} {prefix}"),
    }
}

/// A tick's label with no prefix: plotters' own (at most 5 decimals, no exponent)
/// without the ".0" it puts after a whole number, so counts read as counts: `250`,
/// not `250.0`; `0.25` stays `0.25`.
fn plain_label(v: &f64) -> String {
    let s = <RangedCoordf64 as ValueFormatter<f64>>::format(v);
    match s.strip_suffix(".0") {
        Some("-0") => "0".to_string(),
        Some(whole) => whole.to_string(),
        None => s,
    }
}

/// The tick labels of a linear axis over `lo..hi`, one style for the whole axis: when
/// it reaches a million in magnitude, every tick in the SI prefix of its largest
/// (`0`, `0.5 M`, `1 M`, `1.5 M`: long numbers read at a glance, exact to 7 digits),
/// else plain numbers ([`plain_label`]); never `500000` beside `1 M`.
fn linear_axis_label(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let unit = prefix_of(lo.abs().max(hi.abs()), &PREFIXES[..5]);
    move |v: &f64| match unit {
        Some(unit) => in_prefix(*v, unit),
        None => plain_label(v),
    }
}

/// The tick labels of a log axis whose largest value is `hi`, one style for the whole
/// axis: when it reaches a million, every tick of a thousand or more with its own SI
/// prefix, `k` included (`100`, `1 k`, `10 k`, `100 k`, `1 M`: each decade its own
/// unit, as a log axis reads), smaller ones plain; below a million, plain numbers (at
/// most 3 decimals).
fn log_axis_label(hi: f64) -> impl Fn(&f64) -> String {
    let si = prefix_of(hi, &PREFIXES[..5]).is_some();
    move |v: &f64| match prefix_of(*v, &PREFIXES).filter(|_| si) {
        Some(unit) => in_prefix(*v, unit),
        None => {
            let t = format!("{v:.3}");
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }
}

/// Draws the mesh, the series, their error bars and the legend on a chart whose x axis
/// maps data through `fwd` (its inverse `inv`): the error bars' caps and offsets are a
/// share of the axis in that space, so they look the same on a log axis.
fn lines<'a, DB: DrawingBackend + 'a, X>(
    mut chart: ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    p: &LinePlot,
    on: Panel<'_>,
    x_format: Option<&dyn Fn(&f64) -> String>,
    fwd: &dyn Fn(f64) -> f64,
    inv: &dyn Fn(f64) -> f64,
    legend: &Area<DB>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut entries: Vec<(String, Sample)> = Vec::new();
    let (x0, x1) = {
        let r = chart.x_range();
        (fwd(r.start), fwd(r.end))
    };
    let categorical = matches!(p.x_scale, XScale::Categories(_));
    let y_range = chart.y_range();
    let y_label: Box<dyn Fn(&f64) -> String> = if p.y_log {
        // Values are logs: each tick labelled with the value it stands for.
        let label = log_axis_label(10f64.powf(y_range.end));
        Box::new(move |u: &f64| label(&10f64.powf(*u)))
    } else {
        Box::new(linear_axis_label(y_range.start, y_range.end))
    };
    // On a log axis, whole decades: at most one tick per decade spanned.
    let y_ticks = p
        .y_log
        .then(|| ((y_range.end - y_range.start).floor() as usize + 1).clamp(2, 10));
    // The y label set smaller (down to Y_DESC_PX.1) rather than run past the chart.
    let high = f64::from(chart.plotting_area().dim_in_pixel().1);
    let mut desc_px = Y_DESC_PX.0;
    while desc_px > Y_DESC_PX.1
        && chart
            .plotting_area()
            .estimate_text_size(on.y_label, &TextStyle::from(font(desc_px)))
            .is_ok_and(|(w, _)| f64::from(w) > high)
    {
        desc_px -= 0.5;
    }
    {
        let mut mesh = chart.configure_mesh();
        let x_desc = x_caption(p);
        if on.x_desc {
            mesh.x_desc(x_desc.as_str());
        }
        mesh.y_desc(on.y_label)
            .label_style(font(13.0))
            .axis_desc_style(font(desc_px))
            .y_label_formatter(&y_label);
        if let Some(n) = y_ticks {
            // Light lines evenly spaced in the logs would not stand at 2, 3, … 9 times
            // a decade: none.
            mesh.y_labels(n).y_max_light_lines(0);
        }
        if let Some(f) = x_format {
            mesh.x_label_formatter(f);
        }
        mesh.draw()?;
    }
    // A log y axis: light lines at 2, 3, … 9 times each decade, as log paper has.
    if p.y_log {
        let (r, xr) = (&y_range, chart.x_range());
        let light = BLACK.mix(0.1);
        let minor: Vec<f64> = (r.start.floor() as i64..r.end.ceil() as i64)
            .flat_map(|k| (2..=9).map(move |m| k as f64 + f64::from(m).log10()))
            .filter(|u| *u > r.start && *u < r.end)
            .collect();
        chart.draw_series(
            minor
                .into_iter()
                .map(|u| PathElement::new(vec![(xr.start, u), (xr.end, u)], light)),
        )?;
    }
    // The milestones first, beneath the lines: a curve is never hidden by one.
    let kinds = milestones(&mut chart, p, on)?;
    let series: Vec<&Series> = on.idx.iter().filter_map(|&k| p.series.get(k)).collect();
    let n = series.len();
    let looks: Vec<Look> = series
        .iter()
        .zip(on.idx)
        .enumerate()
        .map(|(i, (s, &k))| series_look(&s.name, k, i))
        .collect();
    // The legend entries of each series, listed in plot order whatever the drawing's.
    let mut series_entries: Vec<Vec<(String, Sample)>> = vec![Vec::new(); n];
    for i in draw_order(&looks) {
        let s = series[i];
        let look = looks[i];
        let c = look.color;
        let shape = look.shape;
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|q| q.1.is_finite())
            .collect();
        // Error bars with caps 1 % of the x range wide, offset a little per series so
        // that coinciding intervals stay distinguishable; on categories the series
        // stand side by side within their category, markers and bars alike.
        let cap = (x1 - x0) * 0.01;
        let middle = (n as f64 - 1.0) / 2.0;
        let shift = if categorical {
            (i as f64 - middle) * (0.6 / n as f64).min(0.12)
        } else {
            (i as f64 - middle) * cap * 0.8
        };
        let entries = &mut series_entries[i];
        if categorical {
            // Categories have no order to follow: markers, no line between them.
            let at: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x + shift, y)).collect();
            error_bars(&mut chart, &s.intervals, c, cap, shift, fwd, inv)?;
            rings(&mut chart, p, s, &at, &pts, c)?;
            boxes(&mut chart, s, &at, &pts, c)?;
            draw_markers!(chart, at.into_iter(), shape, 5, c);
            let sample = Sample::Marker(shape, c);
            entry(entries, &s.legend(), sample);
            continue;
        }
        let style = c.stroke_width(look.width);
        // The legend shows the series' marker on its line, when the plot has markers.
        let on_line = p.markers.then_some((shape, c));
        if look.dashed {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style))?;
            entry(entries, &s.legend(), Sample::Dashed(style, on_line));
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), style))?;
            entry(entries, &s.legend(), Sample::Line(style, on_line));
        }
        error_bars(&mut chart, &s.intervals, c, cap, shift, fwd, inv)?;
        rings(&mut chart, p, s, &pts, &pts, c)?;
        boxes(&mut chart, s, &pts, &pts, c)?;
        if !p.markers {
            continue;
        }
        draw_markers!(chart, pts.into_iter(), shape, 4, c);
    }
    entries.extend(series_entries.into_iter().flatten());
    let empty = !series
        .iter()
        .any(|s| s.points.iter().any(|q| q.1.is_finite()));
    if let Some(why) = p.no_value.as_ref().filter(|_| empty) {
        let y = chart.y_range();
        let at = (inv((x0 + x1) / 2.0), (y.start + y.end) / 2.0);
        use plotters::style::text_anchor::{HPos, Pos, VPos};
        let style = TextStyle::from(font(15.0)).pos(Pos::new(HPos::Center, VPos::Center));
        chart.draw_series([Text::new(why.clone(), at, style)])?;
    }
    // A legend entry per kind of milestone drawn here: a short vertical line in its
    // colour, the names of its moments (`A retired / A dropped, no archive`).
    for (kind, names) in kinds {
        entry(
            &mut entries,
            &mark_legend(&names),
            Sample::Mark(mark_color(kind)),
        );
    }
    let ringed = |s: &Series| {
        s.points
            .iter()
            .any(|q| q.1.is_finite() && !s.intervals.iter().any(|b| b.0 == q.0))
    };
    if let Some(note) = p
        .no_interval
        .as_ref()
        .filter(|_| series.iter().any(|s| ringed(s)))
    {
        entry(&mut entries, note, Sample::Ring);
    }
    if let Some(note) = failed_note(&series) {
        entry(&mut entries, &note, Sample::Boxed);
    }
    if entries.is_empty() {
        return Ok(());
    }
    // Beside the chart, in the column its builder left on the right
    // ([`legend_area`]), level with its top: never over a line, a point or a milestone.
    let top = chart.plotting_area().get_pixel_range().1.start - legend.get_pixel_range().1.start;
    let mut box_ = ChartBuilder::on(legend).build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
    for (text, sample) in entries {
        let none = std::iter::empty::<Circle<(f64, f64), i32>>();
        let a = box_.draw_series(none)?;
        a.label(text);
        match sample {
            Sample::Line(style, None) => {
                a.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            }
            Sample::Line(style, Some((shape, c))) => {
                legend_with_marker!(a, shape, c, 0, |x, y| EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (20, 0)], style));
            }
            // Two dashes with a gap between, as the line is drawn (8 pixels, 5 off).
            Sample::Dashed(style, None) => {
                a.legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (8, 0)], style)
                        + PathElement::new(vec![(13, 0), (20, 0)], style)
                });
            }
            Sample::Dashed(style, Some((shape, c))) => {
                legend_with_marker!(a, shape, c, 0, |x, y| EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (8, 0)], style)
                    + PathElement::new(vec![(13, 0), (20, 0)], style));
            }
            Sample::Marker(shape, c) => {
                legend_with_marker!(a, shape, c, 1, |x, y| EmptyElement::at((x, y)));
            }
            Sample::Mark(c) => {
                a.legend(move |(x, y)| {
                    PathElement::new(vec![(x + 10, y - 7), (x + 10, y + 7)], c.stroke_width(2))
                });
            }
            Sample::Ring => {
                a.legend(|(x, y)| Circle::new((x + 10, y), RING, BLACK.stroke_width(2)));
            }
            Sample::Boxed => {
                a.legend(|(x, y)| {
                    Rectangle::new(
                        [
                            (x + 10 - BOX_LEGEND, y - BOX_LEGEND),
                            (x + 10 + BOX_LEGEND, y + BOX_LEGEND),
                        ],
                        BLACK.stroke_width(2),
                    )
                });
            }
            Sample::More => {}
        }
    }
    box_.configure_series_labels()
        .position(SeriesLabelPosition::Coordinate(LEGEND_GAP_PX as i32, top))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(font(13.0))
        .draw()?;
    Ok(())
}

/// A drawing area in pixels.
type Area<DB> = DrawingArea<DB, plotters::coord::Shift>;

/// What a legend entry shows before its text: a series' line (solid or dashed) or
/// marker, a milestone's vertical line, the ring of a point without an interval, or
/// nothing (a long entry's next line).
#[derive(Clone, Copy)]
enum Sample {
    /// A solid line, with the series' marker on it when the plot has markers.
    Line(ShapeStyle, Option<(Shape, RGBColor)>),
    Dashed(ShapeStyle, Option<(Shape, RGBColor)>),
    Marker(Shape, RGBColor),
    Mark(RGBColor),
    Ring,
    /// The box around a point some of whose seeds failed.
    Boxed,
    More,
}

/// Adds the legend entry `text` with `sample`: its first line with the sample, each
/// further line ([`legend_lines`]) after it with none.
fn entry(entries: &mut Vec<(String, Sample)>, text: &str, sample: Sample) {
    for (k, line) in legend_lines(text).into_iter().enumerate() {
        entries.push((line, if k == 0 { sample } else { Sample::More }));
    }
}

/// Rows of milestone labels over a panel that has milestones, each [`MARK_ROW_H`]
/// pixels: a label goes to the first row where it does not overlap the one before;
/// one that fits in none is left out (its line is drawn).
const MARK_ROWS: i32 = 4;
/// The height of a row of milestone labels (pixels).
const MARK_ROW_H: i32 = 14;

/// The band of milestone labels over the chart of the series `idx` of `p` (pixels):
/// [`MARK_ROWS`] rows when one of them has a milestone, else none.
fn mark_band(p: &LinePlot, idx: &[usize]) -> u32 {
    if p.marks.iter().any(|m| idx.contains(&m.series)) {
        (MARK_ROWS * MARK_ROW_H) as u32
    } else {
        0
    }
}

/// The leftmost pixel a milestone's label starts at (the picture's left edge, and a
/// margin).
const LABEL_LEFT_MIN: i32 = 2;

/// A kind of milestone drawn in a panel, with the names of its moments there.
type KindNames = (MarkKind, Vec<String>);

/// Draws the milestones of the series of `on` ([`LinePlot::marks`]) as the timing
/// diagram draws its marks, thinner (1 pixel: the curves stay the picture's subject):
/// a vertical line across the chart from its label's row in
/// the band over it ([`mark_band`]), one per series, kind and pixel column (a run of
/// many cycles draws at most one line per column, not one per cycle), the labels in x
/// order, each left-anchored just right of its line (right-anchored at the right edge,
/// never starting left of the picture) in the first row where it overlaps no other. Returns each kind drawn, in
/// [`MarkKind`] order, with its moments' names in order of appearance.
fn milestones<'a, DB: DrawingBackend + 'a, X>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    p: &LinePlot,
    on: Panel<'_>,
) -> Result<Vec<KindNames>, DrawingAreaErrorKind<DB::ErrorType>>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let (xs, ys) = (chart.x_range(), chart.y_range());
    let mut drawn: Vec<(i32, &Milestone)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in p.marks.iter().filter(|m| on.idx.contains(&m.series)) {
        if !(m.at.is_finite() && m.at >= xs.start && m.at <= xs.end) {
            continue;
        }
        let px = chart.backend_coord(&(m.at, ys.end)).0;
        if seen.insert((m.series, m.kind as u8, px)) {
            drawn.push((px, m));
        }
    }
    drawn.sort_by_key(|&(px, _)| px);
    let (top, bottom) = (
        chart.backend_coord(&(xs.start, ys.end)).1,
        chart.backend_coord(&(xs.start, ys.start)).1,
    );
    let right = chart.backend_coord(&(xs.end, ys.start)).0;
    let area = chart.plotting_area().strip_coord_spec();
    let small = TextStyle::from(font(12.0));
    // The right edge of the last label of each row.
    let mut rows = [i32::MIN; MARK_ROWS as usize];
    for &(px, m) in &drawn {
        let c = mark_color(m.kind);
        let w = area
            .estimate_text_size(&m.label, &small)
            .map_or(0, |(w, _)| w as i32);
        // Left of its line when it would pass the chart's right edge, and never past
        // the picture's left edge (panels are stacked, each as wide as the picture
        // less the legend): a long label near the right edge of a narrow chart
        // crosses its line rather than lose its first words.
        let left = if px + 4 + w > right {
            (px - 4 - w).max(LABEL_LEFT_MIN)
        } else {
            px + 4
        };
        let row = rows.iter().position(|&end| left > end + 6);
        let from = match row {
            Some(k) => {
                rows[k] = left + w;
                let y = -(MARK_ROWS - k as i32) * MARK_ROW_H;
                let style = small.clone().color(&c).pos(Pos::new(HPos::Left, VPos::Top));
                chart.draw_series([EmptyElement::at((m.at, ys.end))
                    + Text::new(m.label.clone(), (left - px, y), style)])?;
                y + MARK_ROW_H - 3
            }
            None => 0,
        };
        chart.draw_series([EmptyElement::at((m.at, ys.end))
            + PathElement::new(vec![(0, from), (0, bottom - top)], c.stroke_width(1))])?;
    }
    Ok(MarkKind::ALL
        .into_iter()
        .filter_map(|k| {
            let mut names: Vec<String> = Vec::new();
            for (_, m) in drawn.iter().filter(|(_, m)| m.kind == k) {
                if !names.contains(&m.name) {
                    names.push(m.name.clone());
                }
            }
            (!names.is_empty()).then_some((k, names))
        })
        .collect())
}

/// The radius of the ring around a point without an interval (pixels).
const RING: i32 = 9;

/// With [`LinePlot::no_interval`], draws a ring in `c` at each of `at` (the drawn
/// positions of `pts`, the series' finite points) whose point has no interval in `s`.
fn rings<'a, DB: DrawingBackend + 'a, X>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    p: &LinePlot,
    s: &Series,
    at: &[(f64, f64)],
    pts: &[(f64, f64)],
    c: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    if p.no_interval.is_none() {
        return Ok(());
    }
    let lone = at
        .iter()
        .zip(pts)
        .filter(|(_, q)| !s.intervals.iter().any(|b| b.0 == q.0))
        .map(|(&a, _)| Circle::new(a, RING, c.stroke_width(2)));
    chart.draw_series(lone)?;
    Ok(())
}

/// Half the side of the box around a point some of whose seeds failed (pixels):
/// outside the ring ([`RING`]), so a point both ringed and boxed shows both.
const BOX: i32 = 12;
/// Half the side of the legend's sample box (pixels): within a legend row.
const BOX_LEGEND: i32 = 6;

/// Draws a box in `c` at each of `at` (the drawn positions of `pts`, the series'
/// finite points) whose point is one of `s`'s [`Series::seeds_failed`].
fn boxes<'a, DB: DrawingBackend + 'a, X>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    s: &Series,
    at: &[(f64, f64)],
    pts: &[(f64, f64)],
    c: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let boxed = at
        .iter()
        .zip(pts)
        .filter(|(_, q)| s.seeds_failed.iter().any(|f| f.0 == q.0))
        .map(|(&a, _)| {
            EmptyElement::at(a) + Rectangle::new([(-BOX, -BOX), (BOX, BOX)], c.stroke_width(2))
        });
    chart.draw_series(boxed)?;
    Ok(())
}

/// The legend entry of the boxed points of `series` ([`Series::seeds_failed`]) that
/// are drawn: how many seeds of how many failed there (`boxed: 1 of 2 seeds failed
/// (mean of the rest)`; a range, `1-2 of 3`, when the points differ); `None` when
/// no point is boxed.
fn failed_note(series: &[&Series]) -> Option<String> {
    let drawn = series.iter().flat_map(|s| {
        s.seeds_failed
            .iter()
            .filter(|f| f.1 > 0 && s.points.iter().any(|q| q.0 == f.0 && q.1.is_finite()))
    });
    let (mut k, mut n) = ((usize::MAX, 0), (usize::MAX, 0));
    for &(_, failed, run) in drawn {
        k = (k.0.min(failed), k.1.max(failed));
        n = (n.0.min(run), n.1.max(run));
    }
    if k.1 == 0 {
        return None;
    }
    let range = |(lo, hi): (usize, usize)| match lo == hi {
        true => lo.to_string(),
        false => format!("{lo}-{hi}"),
    };
    let seeds = if n.1 == 1 { "seed" } else { "seeds" };
    Some(format!(
        "boxed: {} of {} {seeds} failed (mean of the rest)",
        range(k),
        range(n)
    ))
}

/// The shortest error bar drawn with caps (pixels): about a marker's height.
const CAPPED_BAR_PX: i32 = 10;

/// Draws the error bars `(x, low, high)` of one series in `c`, each `shift` off its x
/// and with caps `cap` wide, both in the axis's space (`fwd`, its inverse `inv`); a
/// bar shorter than [`CAPPED_BAR_PX`] has no caps.
fn error_bars<'a, DB: DrawingBackend + 'a, X>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    intervals: &[(f64, f64, f64)],
    c: RGBColor,
    cap: f64,
    shift: f64,
    fwd: &dyn Fn(f64) -> f64,
    inv: &dyn Fn(f64) -> f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    for &(x, lo, hi) in intervals
        .iter()
        .filter(|b| b.1.is_finite() && b.2.is_finite())
    {
        let u = fwd(x) + shift;
        let (x, left, right) = (inv(u), inv(u - cap), inv(u + cap));
        let bar = c.stroke_width(1);
        chart.draw_series([PathElement::new(vec![(x, lo), (x, hi)], bar)])?;
        // Caps on a bar shorter than a marker would read as the line going on past
        // its point (at the last x, to the frame): such a bar has none.
        let tall = chart.backend_coord(&(x, lo)).1 - chart.backend_coord(&(x, hi)).1;
        if tall.abs() >= CAPPED_BAR_PX {
            chart.draw_series([
                PathElement::new(vec![(left, lo), (right, lo)], bar),
                PathElement::new(vec![(left, hi), (right, hi)], bar),
            ])?;
        }
    }
    Ok(())
}

/// The plot as SVG text, its texts as [`LinePlot::shown`] has them.
pub fn render_svg(p: &LinePlot) -> Result<String, Error> {
    fonts::ensure()?;
    let p = &p.shown();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size(p)).into_drawing_area();
        draw(root.clone(), p).map_err(|e| Error::draw(&p.title, e))?;
        root.present().map_err(|e| Error::draw(&p.title, e))?;
    }
    // A name with a control character (from a file name) must not make the file
    // unreadable.
    Ok(crate::xml_text::xml_safe(out))
}

/// The plot as PNG bytes, its texts as [`LinePlot::shown`] has them.
pub fn render_png(p: &LinePlot) -> Result<Vec<u8>, Error> {
    fonts::ensure()?;
    let p = &p.shown();
    let (w, h) = size(p);
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw(root.clone(), p).map_err(|e| Error::draw(&p.title, e))?;
        root.present().map_err(|e| Error::draw(&p.title, e))?;
    }
    crate::png_bytes(&buf, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `<text>` elements of `svg` as (x, text-anchor, font-size, text).
    fn placed_texts(svg: &str) -> Vec<(f64, String, f64, String)> {
        let attr = |tag: &str, name: &str| -> Option<String> {
            let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(tag[at..].split('"').next()?.to_string())
        };
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let (tag, rest) = t.split_once('>')?;
                let text = rest
                    .split("</text>")
                    .next()?
                    .replace("&apos;", "'")
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&");
                Some((
                    attr(tag, "x")?.parse().ok()?,
                    attr(tag, "text-anchor").unwrap_or_default(),
                    attr(tag, "font-size")?.parse().ok()?,
                    text,
                ))
            })
            .collect()
    }

    /// A plot of one series, `cow`, at `points` (no interval), with `note`.
    fn cow_plot(
        x_label: &str,
        x_scale: XScale,
        points: Vec<(f64, f64)>,
        note: Option<String>,
    ) -> LinePlot {
        LinePlot {
            title: "t".into(),
            x_label: x_label.into(),
            y_label: "y".into(),
            x_scale,
            series: vec![Series {
                name: "cow".into(),
                points,
                intervals: vec![],
                note,
                seeds_failed: Vec::new(),
            }],
            markers: true,
            no_interval: None,
            no_value: None,
            split_scales: false,
            y_log: false,
            y_log_panels: false,
            panel_y_labels: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// A milestone's label too long to fit right of its line near the chart's right
    /// edge is drawn left of it, and never starts left of the picture: its first
    /// words stay in it (a label that fits left of its line keeps its place, its end
    /// just left of the line).
    #[test]
    fn a_milestone_label_never_starts_left_of_the_picture() {
        let mut plot = cow_plot(
            "time (ticks)",
            XScale::Linear,
            vec![(0.0, 1.0), (100.0, 2.0)],
            None,
        );
        let long = format!(
            "cow: backup abandoned (data area full) {}(t=98)",
            "x".repeat(60)
        );
        let short = "cow: A dropped (t=97)".to_string();
        plot.marks = [
            (98.0, long.clone(), MarkKind::Failed),
            (97.0, short.clone(), MarkKind::Retire),
        ]
        .into_iter()
        .map(|(at, label, kind)| Milestone {
            at,
            series: 0,
            kind,
            name: label.clone(),
            label,
        })
        .collect();
        let svg = render_svg(&plot).unwrap();
        let placed = placed_texts(&svg);
        let x_of = |label: &str| {
            placed
                .iter()
                .find(|(_, _, _, t)| t.trim() == label)
                .unwrap_or_else(|| panic!("{label} not drawn: {placed:?}"))
                .0
        };
        assert!(x_of(&long) >= 0.0, "{}", x_of(&long));
        assert!(x_of(&short) > 100.0, "{}", x_of(&short));
    }

    /// A log y axis is chosen for values all above 0 spanning two decades, never for a
    /// value of 0 or below; drawn, its ticks are whole decades labelled with the values
    /// they stand for, its caption says so, and an error bar reaching below 0 ends at
    /// the axis' foot (half the smallest value) instead of leaving the frame.
    #[test]
    fn a_log_y_axis_for_values_spanning_decades() {
        let with = |ys: &[f64]| {
            cow_plot(
                "x",
                XScale::Linear,
                ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(),
                None,
            )
        };
        assert!(y_log_of(&with(&[900.0, 1.0e6]).series));
        assert!(!y_log_of(&with(&[900.0, 80_000.0]).series));
        assert!(!y_log_of(&with(&[0.0, 900.0, 1.0e6]).series));
        assert!(!y_log_of(&with(&[-5.0, 900.0, 1.0e6]).series));
        let mut crossing = with(&[900.0, 1.0e6]);
        crossing.series[0].intervals = vec![(0.0, -10.0, 1800.0)];
        assert!(!y_log_of(&crossing.series), "an interval reaching below 0");
        let mut p = with(&[900.0, 1.0e6]);
        p.y_label = "response (ticks): mean of 4 seeds, 95 % CI".into();
        p.series[0].intervals = vec![(0.0, -300.0, 2100.0), (1.0, 8.0e5, 1.2e6)];
        p.y_log = true;
        let logged = in_log_space(&p);
        assert_eq!(
            logged.y_label,
            "response (ticks, log scale): mean of 4 seeds, 95 % CI"
        );
        assert_eq!(logged.series[0].intervals[0].1, 450f64.log10());
        let svg = render_svg(&p).unwrap();
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| t.split_once('>')?.1.split_once("</text>"))
            .map(|(t, _)| t.trim())
            .collect();
        for decade in ["1 k", "10 k", "100 k", "1 M"] {
            assert!(texts.contains(&decade), "{decade}: {texts:?}");
        }
        assert!(!texts.iter().any(|t| t.contains("200 k")), "{texts:?}");
    }

    /// A log axis spans every grid value it has a tick for, one where every seed failed
    /// (no point) too: its tick and grid line fall inside the frame, not beside it.
    #[test]
    fn a_log_axis_spans_a_grid_value_with_no_point() {
        let p = cow_plot(
            "transactions",
            XScale::Log(vec![30.0, 300.0, 3000.0]),
            vec![(30.0, 1.0), (300.0, 2.0)],
            Some("no value at 3000: every seed failed".into()),
        );
        let ((lo, hi), _) = bounds(&p, &[0]);
        assert!(lo < 30.0 && hi > 3000.0, "{lo}..{hi}");
        // Without the tick past the data, the data's span alone (as before).
        let only = LinePlot {
            x_scale: XScale::Log(vec![30.0, 300.0]),
            ..p
        };
        let ((lo, hi), _) = bounds(&only, &[0]);
        assert!(lo < 30.0 && hi > 300.0 && hi < 3000.0, "{lo}..{hi}");
    }

    /// Every text a plot draws from user text (a swept value in the title and on the
    /// category ticks, a scenario's path, a note naming where a value is missing) shows
    /// its line feeds, tabs and other control characters as `\xHH`, as messages do; the
    /// SVG's `<text>` elements hold them so, never raw (the PNG draws the same texts).
    #[test]
    fn user_text_in_a_plot_shows_control_characters_escaped() {
        let raw = "d\ne\tf\u{1b}.iolog";
        let shown = "d\\x0ae\\x09f\\x1b.iolog";
        let p = LinePlot {
            title: format!("paths: response vs setup window (workload.path = {raw})"),
            x_label: format!("trace {raw}"),
            y_label: format!("y {raw}"),
            x_scale: XScale::Categories(vec!["a.iolog".into(), raw.into()]),
            series: vec![Series {
                name: "cow".into(),
                points: vec![(0.0, 1.0)],
                intervals: vec![],
                note: Some(format!("no value at {raw}: every seed failed")),
                seeds_failed: Vec::new(),
            }],
            markers: true,
            no_interval: Some(format!("ringed: {raw}")),
            no_value: None,
            split_scales: false,
            y_log: false,
            y_log_panels: false,
            panel_y_labels: Vec::new(),
            marks: Vec::new(),
        };
        let q = p.shown();
        assert_eq!(
            q.title,
            format!("paths: response vs setup window (workload.path = {shown})")
        );
        assert_eq!(q.x_label, format!("trace {shown}"));
        assert_eq!(q.y_label, format!("y {shown}"));
        assert_eq!(
            q.x_scale,
            XScale::Categories(vec!["a.iolog".into(), shown.into()])
        );
        assert_eq!(
            q.series[0].note.as_deref(),
            Some(format!("no value at {shown}: every seed failed").as_str())
        );
        assert_eq!(q.no_interval, Some(format!("ringed: {shown}")));
        let svg = render_svg(&p).unwrap();
        let texts: Vec<String> = placed_texts(&svg).into_iter().map(|t| t.3).collect();
        assert!(texts.iter().any(|t| t.contains(shown)), "{texts:?}");
        assert!(
            !texts
                .iter()
                .any(|t| t.contains("d\ne") || t.contains('\u{FFFD}')),
            "{texts:?}"
        );
        assert_eq!(render_png(&p).unwrap(), render_png(&q).unwrap());
    }

    /// A log x axis says so in its caption (evenly spaced ticks 50, 100, 200 are
    /// doublings); a linear one keeps its label as it is.
    #[test]
    fn a_log_axis_caption_says_log_scale() {
        let plot = |x_label: &str, x_scale: XScale| {
            cow_plot(
                x_label,
                x_scale,
                vec![(50.0, 1.0), (100.0, 2.0), (200.0, 3.0)],
                None,
            )
        };
        let log = XScale::of(&v(&["50", "100", "200"]), Some(true));
        assert!(matches!(log, XScale::Log(_)), "{log:?}");
        let texts = |p: &LinePlot| -> Vec<String> {
            placed_texts(&render_svg(p).unwrap())
                .into_iter()
                .map(|t| t.3.trim().to_string())
                .collect()
        };
        let p = plot("mean inter-arrival time (ticks)", log.clone());
        assert!(
            texts(&p).contains(&"mean inter-arrival time (ticks, log scale)".to_string()),
            "{:?}",
            texts(&p)
        );
        let p = plot("rate", log);
        assert!(texts(&p).contains(&"rate (log scale)".to_string()));
        let p = plot("mean inter-arrival time (ticks)", XScale::Linear);
        assert!(texts(&p).contains(&"mean inter-arrival time (ticks)".to_string()));
    }

    /// A policy keeps its marker shape whatever else the plot holds (a `--vs-` plot
    /// leaves the baseline out), and a line plot's legend shows it on the line: each
    /// policy's shape drawn once per point and once in the legend.
    #[test]
    fn a_policy_keeps_its_marker_and_the_legend_shows_it() {
        let plot = |names: &[&str], x_scale: XScale| LinePlot {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_scale,
            series: names
                .iter()
                .map(|n| Series {
                    name: n.to_string(),
                    points: vec![(0.0, 1.0), (1.0, 2.0)],
                    intervals: vec![],
                    note: None,
                    seeds_failed: Vec::new(),
                })
                .collect(),
            markers: true,
            no_interval: None,
            no_value: None,
            split_scales: false,
            y_log: false,
            y_log_panels: false,
            panel_y_labels: Vec::new(),
            marks: Vec::new(),
        };
        // The SVG element each shape is drawn as, and the policy's colour in it.
        let count = |svg: &str, shape: Shape, name: &str| {
            let c = series_look(name, 0, 0).color;
            let hex = format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
            let tag = match shape {
                Shape::Circle => "<circle",
                Shape::Triangle | Shape::Diamond | Shape::Plus => "<polygon",
                Shape::Cross => "<line",
                Shape::Square => "<rect",
            };
            svg.split(tag)
                .skip(1)
                .filter(|t| t.split('>').next().unwrap().contains(&hex))
                .count()
        };
        let all = [
            "none",
            "quiesce",
            "crash-consistent",
            "mirroring",
            "logging",
            "cow",
        ];
        // No two policies share a marker: on an axis of names colour would be all
        // that told them apart.
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(
                    series_look(a, 0, 0).shape,
                    series_look(b, 0, 0).shape,
                    "{a}, {b}"
                );
            }
        }
        for x_scale in [XScale::Linear, XScale::Categories(v(&["a", "b"]))] {
            for names in [
                &all[..],
                &all[1..],
                &["cow", "logging"][..],
                &["mirroring"][..],
            ] {
                let svg = render_svg(&plot(names, x_scale.clone())).unwrap();
                for (i, name) in names.iter().enumerate() {
                    let shape = series_look(name, i, i).shape;
                    // The same shape as in the plot of every policy.
                    assert_eq!(
                        shape,
                        series_look(name, all.iter().position(|a| a == name).unwrap(), 0).shape
                    );
                    // Two points and the legend's sample (a cross is two strokes).
                    let per = if shape == Shape::Cross { 2 } else { 1 };
                    if *name != "none" {
                        assert_eq!(
                            count(&svg, shape, name),
                            3 * per,
                            "{name} in {names:?}, {x_scale:?}"
                        );
                    }
                }
            }
        }
    }

    /// The policies drawn in `names`' order over three x values, with `failed` seeds
    /// of `run` failed at x = 1 for every policy when given.
    fn policies_plot(names: &[&str], failed: Option<(usize, usize)>) -> LinePlot {
        LinePlot {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_scale: XScale::Linear,
            series: names
                .iter()
                .enumerate()
                .map(|(i, n)| Series {
                    name: n.to_string(),
                    points: vec![(0.0, 1.0 + i as f64), (1.0, 2.0 + i as f64), (2.0, 1.5)],
                    intervals: vec![],
                    note: None,
                    seeds_failed: failed.map(|(k, n)| (1.0, k, n)).into_iter().collect(),
                })
                .collect(),
            markers: true,
            no_interval: None,
            no_value: None,
            split_scales: false,
            y_log: false,
            y_log_panels: false,
            panel_y_labels: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// A policy's line as the SVG draws it: (its width, dashed), read from the
    /// polylines in its colour wider than an error bar's 1 pixel: a solid line is one
    /// polyline through the three points (and one more, its legend sample), a dashed
    /// one dozens of short pieces. `None` when nothing is drawn in its colour.
    fn drawn_line(svg: &str, name: &str) -> Option<(u32, bool)> {
        let c = series_look(name, 0, 0).color;
        let hex = format!("stroke=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
        let lines: Vec<u32> = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&hex))
            .filter_map(|l| {
                l.split("stroke-width=\"")
                    .nth(1)?
                    .split('"')
                    .next()?
                    .parse()
                    .ok()
            })
            .filter(|&w| w > 1)
            .collect();
        let width = *lines.first()?;
        assert!(lines.iter().all(|&w| w == width), "{name}: {lines:?}");
        // Solid: the line and its legend sample; dashed: dozens of dashes.
        Some((width, lines.len() > 3))
    }

    /// Each policy is drawn with one width and dash (as its colour and marker) in
    /// every plot, whatever the other series beside it and their order: a `--vs-`
    /// plot, which leaves the baseline out, draws every other policy as the metric's
    /// plot does. Two policies share no (colour, width, dash).
    #[test]
    fn a_policy_keeps_its_width_and_dash_in_every_plot() {
        let all = [
            "none",
            "quiesce",
            "crash-consistent",
            "mirroring",
            "logging",
            "cow",
        ];
        let whole = render_svg(&policies_plot(&all, None)).unwrap();
        let styles: Vec<(u32, bool)> = all
            .iter()
            .map(|n| drawn_line(&whole, n).unwrap_or_else(|| panic!("{n} not drawn")))
            .collect();
        // Solid and dashed both in use, and among the usual policies no two the same.
        assert!(
            styles.iter().any(|s| s.1) && styles.iter().any(|s| !s.1),
            "{styles:?}"
        );
        for subset in [
            &all[1..],
            &all[2..],
            &["cow", "mirroring"][..],
            &["logging", "quiesce", "crash-consistent"][..],
            &["cow"][..],
            &["crash-consistent", "none"][..],
        ] {
            let svg = render_svg(&policies_plot(subset, None)).unwrap();
            for name in subset {
                let k = all.iter().position(|a| a == name).unwrap();
                assert_eq!(
                    drawn_line(&svg, name),
                    Some(styles[k]),
                    "{name} in {subset:?} against the plot of every policy"
                );
            }
        }
        // Of one width, one solid and one dashed: coinciding lines stay told apart.
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert_ne!(a, b, "{styles:?}");
            }
        }
    }

    /// A point some of whose seeds failed is boxed in its policy's colour, and the
    /// legend says how many of how many failed there (a range when the points differ);
    /// a plot with no such point has neither.
    #[test]
    fn points_with_failed_seeds_are_boxed_and_the_legend_says_how_many() {
        let boxes = |svg: &str| {
            svg.lines()
                .filter(|l| {
                    l.starts_with("<rect")
                        && l.contains(&format!("width=\"{}\"", 2 * BOX))
                        && l.contains("fill=\"none\"")
                })
                .count()
        };
        let texts = |p: &LinePlot| -> Vec<String> {
            placed_texts(&render_svg(p).unwrap())
                .into_iter()
                .map(|t| t.3.trim().to_string())
                .collect()
        };
        let names = ["quiesce", "cow"];
        let clean = policies_plot(&names, None);
        assert_eq!(boxes(&render_svg(&clean).unwrap()), 0);
        assert!(!texts(&clean).iter().any(|t| t.starts_with("boxed")));
        let cut = policies_plot(&names, Some((1, 2)));
        let svg = render_svg(&cut).unwrap();
        // One point of each policy, in its colour.
        assert_eq!(boxes(&svg), 2, "{svg}");
        for n in names {
            let c = series_look(n, 0, 0).color;
            let hex = format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
            assert!(
                svg.lines()
                    .any(|l| l.starts_with("<rect") && l.contains(&hex)),
                "{n}"
            );
        }
        assert!(
            texts(&cut).contains(&"boxed: 1 of 2 seeds failed (mean of the rest)".to_string()),
            "{:?}",
            texts(&cut)
        );
        let mut mixed = policies_plot(&names, Some((1, 3)));
        mixed.series[1].seeds_failed = vec![(1.0, 2, 3)];
        assert!(
            texts(&mixed).contains(&"boxed: 1-2 of 3 seeds failed (mean of the rest)".to_string()),
            "{:?}",
            texts(&mixed)
        );
        // A failure at an x where the series has no point draws nothing.
        let mut gone = policies_plot(&names, None);
        gone.series[0].seeds_failed = vec![(7.0, 2, 2)];
        assert_eq!(boxes(&render_svg(&gone).unwrap()), 0);
        assert!(!texts(&gone).iter().any(|t| t.starts_with("boxed")));
    }

    /// A title of any length is drawn whole: each of its lines centred on the whole
    /// picture (not on the chart a wide legend narrows), and its width by the font's
    /// metrics, at the size the SVG gives it, within the picture's margins; on one
    /// panel and on several, with and without a line under the title.
    #[test]
    fn titles_are_centred_on_the_picture_and_never_cut() {
        let long_entry = "logging (no value at 4, 8, 16, 32, 64: every seed's backup \
                          abandoned)";
        let titles = [
            "s4: VLUN A retired at minus logging's, seed by seed, vs on a full data area"
                .to_string(),
            format!("sweep: {}", "response time mean minus quiesce's ".repeat(8)),
            format!("t: {}", "x".repeat(400)),
            "short".to_string(),
        ];
        for title in &titles {
            for split in [false, true] {
                let series = |name: &str, scale: f64| Series {
                    name: name.into(),
                    points: vec![(1.0, scale), (2.0, 2.0 * scale)],
                    intervals: vec![],
                    note: None,
                    seeds_failed: Vec::new(),
                };
                let mut a = series(long_entry, 1.0);
                a.note = Some("x".repeat(70));
                let p = LinePlot {
                    title: title.clone(),
                    x_label: "x".into(),
                    y_label: "y: mean of 3 seeds, 95 % CI".into(),
                    x_scale: XScale::Linear,
                    series: vec![a, series("cow", if split { 1e4 } else { 1.5 })],
                    markers: true,
                    no_interval: None,
                    no_value: None,
                    split_scales: split,
                    y_log: false,
                    y_log_panels: false,
                    panel_y_labels: Vec::new(),
                    marks: Vec::new(),
                };
                assert_eq!(panels(&p).len(), if split { 2 } else { 1 });
                let width = size(&p).0;
                let (px, lines) = title_layout(title, width);
                let svg = render_svg(&p).unwrap();
                let drawn = placed_texts(&svg);
                for line in &lines {
                    let (x, anchor, size_px, _) = drawn
                        .iter()
                        .find(|t| t.3.trim() == line)
                        .unwrap_or_else(|| panic!("{line:?} not drawn: {drawn:?}"));
                    assert_eq!(anchor, "middle", "{line:?}");
                    assert_eq!(*x, f64::from(width) / 2.0, "{line:?}");
                    // plotters writes a font of `px` pixels as `font-size` px / 1.24.
                    let size_px = size_px * 1.24;
                    assert!((size_px - px).abs() < 1e-9, "{line:?}: {size_px} vs {px}");
                    let w = text_width(line, size_px);
                    assert!(
                        x - w / 2.0 >= 0.0 && x + w / 2.0 <= f64::from(width),
                        "{line:?}: {w} px wide at {size_px} px in {width}"
                    );
                }
                // The lines hold the title's words, in order.
                assert_eq!(
                    lines.join(" ").split_whitespace().collect::<Vec<_>>(),
                    title.split_whitespace().collect::<Vec<_>>()
                );
            }
        }
        // A short title keeps its usual size and one line; a long one is broken.
        assert_eq!(
            title_layout("short", 900),
            (TITLE_PX.0, vec!["short".into()])
        );
        assert!(title_layout(&titles[1], 900).1.len() >= 2);
    }

    /// The texts of an SVG's elements that read as numbers (the axes' tick labels).
    fn number_labels(svg: &str) -> Vec<&str> {
        svg.split('>')
            .filter_map(|t| t.split('<').next())
            .map(str::trim)
            .filter(|t| t.parse::<f64>().is_ok())
            .collect()
    }

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_x_scale_follows_the_values() {
        assert_eq!(XScale::of(&v(&["1", "10", "99"]), None), XScale::Linear);
        assert_eq!(
            XScale::of(&v(&["1", "10", "100"]), None),
            XScale::Log(vec![1.0, 10.0, 100.0])
        );
        assert_eq!(
            XScale::of(&v(&["1", "10", "100"]), Some(false)),
            XScale::Linear
        );
        assert_eq!(
            XScale::of(&v(&["50", "100"]), Some(true)),
            XScale::Log(vec![50.0, 100.0])
        );
        // Not every value positive: no log axis, even when asked.
        assert_eq!(
            XScale::of(&v(&["0", "10", "1000"]), Some(true)),
            XScale::Linear
        );
        assert_eq!(
            XScale::of(&v(&["bank", "generated"]), None),
            XScale::Categories(v(&["bank", "generated"]))
        );
    }

    /// A log axis of many values labels at most [`LOG_TICKS_MAX`] ticks, each within
    /// the values' span and in order; a few values are their own ticks.
    #[test]
    fn a_log_axis_of_many_values_has_few_ticks() {
        for (lo, hi, n) in [
            (10u64, 2000u64, 200usize),
            (100, 20_099, 20_000),
            (1, 1 << 40, 41),
        ] {
            let values: Vec<String> = (0..n)
                .map(|i| {
                    let x =
                        (lo as f64) * ((hi as f64) / (lo as f64)).powf(i as f64 / (n - 1) as f64);
                    format!("{}", x.round())
                })
                .collect();
            let XScale::Log(ticks) = XScale::of(&values, Some(true)) else {
                panic!("not a log axis");
            };
            assert!(
                (2..=LOG_TICKS_MAX).contains(&ticks.len()),
                "{lo}-{hi}: {ticks:?}"
            );
            assert!(ticks.windows(2).all(|w| w[0] < w[1]), "{ticks:?}");
            assert!(
                ticks
                    .iter()
                    .all(|&t| t >= lo as f64 / 10.0 && t <= hi as f64),
                "{ticks:?}"
            );
        }
        // A span of hundreds of decades: every few decades.
        let wide: Vec<String> = (0..300).map(|i| format!("1e{i}")).collect();
        let XScale::Log(ticks) = XScale::of(&wide, None) else {
            panic!("not a log axis");
        };
        assert!(ticks.len() <= LOG_TICKS_MAX, "{}", ticks.len());
    }

    #[test]
    fn whole_ticks_have_no_decimal_point() {
        // An axis below a million: plain numbers.
        let plain = linear_axis_label(-60.0, 999_999.0);
        assert_eq!(plain(&250.0), "250");
        assert_eq!(plain(&0.0), "0");
        assert_eq!(plain(&-0.0), "0");
        assert_eq!(plain(&-50.0), "-50");
        assert_eq!(plain(&0.25), "0.25");
        assert_eq!(plain(&30000.0), "30000");
        assert_eq!(plain(&999_999.0), "999999");
        // An axis reaching a million or more: every tick in its largest's prefix.
        let mega = linear_axis_label(-115_000.0, 2_300_000.0);
        assert_eq!(mega(&0.0), "0");
        assert_eq!(mega(&500_000.0), "0.5 M");
        assert_eq!(mega(&1_000_000.0), "1 M");
        assert_eq!(mega(&1_500_000.0), "1.5 M");
        assert_eq!(mega(&60_005_000.0), "60.005 M");
        assert_eq!(mega(&1_234_567.0), "1.234567 M");
        assert_eq!(mega(&-2_000_000.0), "-2 M");
        assert_eq!(mega(&-0.0), "0");
        let giga = linear_axis_label(0.0, 1.35e9);
        assert_eq!(giga(&1_250_000_000.0), "1.25 G");
        assert_eq!(giga(&250_000_000.0), "0.25 G");
        assert_eq!(linear_axis_label(0.0, 3.2e12)(&3.2e12), "3.2 T");
        // Rounded up to 1000 of a prefix: the next one.
        assert_eq!(
            linear_axis_label(0.0, 999_999_999_999.0)(&999_999_999_999.0),
            "1 T"
        );
        assert_eq!(
            linear_axis_label(-999_999_999.999_9, 0.0)(&-999_999_999.999_9),
            "-1 G"
        );
        assert_eq!(
            linear_axis_label(0.0, 999_999_999.0)(&999_999_999.0),
            "999.999999 M"
        );
        // A log axis reaching a million: each decade its own prefix, k included.
        let log = log_axis_label(2e6);
        let got: Vec<String> = [10.0, 100.0, 1e3, 5e4, 1e5, 1e6, 2e6, 0.5]
            .iter()
            .map(&log)
            .collect();
        assert_eq!(
            got,
            ["10", "100", "1 k", "50 k", "100 k", "1 M", "2 M", "0.5"]
        );
        // Below a million: plain.
        let log = log_axis_label(500_000.0);
        assert_eq!(
            (log(&1e3), log(&5e5), log(&0.125)),
            ("1000".into(), "500000".into(), "0.125".into())
        );
        let p = LinePlot {
            title: "t".into(),
            x_label: "time (ticks)".into(),
            y_label: "extra space (blocks)".into(),
            x_scale: XScale::Linear,
            series: vec![Series {
                name: "cow".into(),
                points: vec![(0.0, 0.0), (30000.0, 250.0)],
                intervals: vec![],
                note: None,
                seeds_failed: Vec::new(),
            }],
            markers: false,
            no_interval: None,
            no_value: None,
            split_scales: false,
            y_log: false,
            y_log_panels: false,
            panel_y_labels: Vec::new(),
            marks: Vec::new(),
        };
        let svg = render_svg(&p).unwrap();
        let labels = number_labels(&svg);
        assert!(
            labels.len() >= 8,
            "the axes carry number labels: {labels:?}"
        );
        assert!(
            labels.iter().all(|t| !t.ends_with(".0")),
            "no label ends in .0: {labels:?}"
        );
    }

    /// The texts of an SVG's text elements.
    fn texts(svg: &str) -> Vec<&str> {
        svg.split("</text>")
            .filter_map(|t| t.rsplit('>').next())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// The `<polyline>`s of `svg` stroked in `colour` (`#RRGGBB`), as their points.
    fn polylines(svg: &str, colour: &str) -> Vec<Vec<(f64, f64)>> {
        svg.split("<polyline")
            .skip(1)
            .filter(|t| t.contains(&format!("stroke=\"{colour}\"")))
            .filter_map(|t| {
                let pts = t.split("points=\"").nth(1)?.split('"').next()?;
                Some(
                    pts.split_whitespace()
                        .filter_map(|p| {
                            let (x, y) = p.split_once(',')?;
                            Some((x.parse().ok()?, y.parse().ok()?))
                        })
                        .collect(),
                )
            })
            .collect()
    }

    /// A plot of `series` (x 1..=n) with markers and error bars, on a linear x axis.
    fn with_bars(series: Vec<Series>, y_label: &str, split: bool) -> LinePlot {
        LinePlot {
            title: "t".into(),
            x_label: "x".into(),
            y_label: y_label.into(),
            x_scale: XScale::Linear,
            series,
            markers: true,
            no_interval: None,
            no_value: None,
            split_scales: split,
            y_log: false,
            y_log_panels: false,
            panel_y_labels: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// Panels stacked over one shared x axis put each x value at the same pixels,
    /// whatever the width of each panel's legend: the same tick is at one x in every
    /// panel (a long legend entry in one panel only, the other's short).
    #[test]
    fn stacked_panels_share_their_x_pixels() {
        let series = |name: &str, y: f64, note: Option<&str>| Series {
            name: name.into(),
            points: vec![(10.0, y), (20.0, 2.0 * y), (30.0, 3.0 * y)],
            intervals: Vec::new(),
            note: note.map(str::to_string),
            seeds_failed: Vec::new(),
        };
        for notes in [
            (
                None,
                Some("no value at 40: a reason long enough to widen its legend"),
            ),
            (
                Some("a long note on the top panel's entry, far wider than the other"),
                None,
            ),
        ] {
            let p = with_bars(
                vec![
                    series("mirroring", 1.0e6, notes.0),
                    series("cow", 5.0, notes.1),
                ],
                "y",
                true,
            );
            assert_eq!(panels(&p).len(), 2, "two panels of their own scale");
            let svg = render_svg(&p).unwrap();
            for tick in ["10", "20", "30"] {
                let xs: Vec<f64> = placed_texts(&svg)
                    .into_iter()
                    .filter(|(_, anchor, _, t)| t.trim() == tick && anchor == "middle")
                    .map(|(x, ..)| x)
                    .collect();
                assert_eq!(xs.len(), 2, "tick {tick} once a panel: {xs:?}");
                assert_eq!(xs[0], xs[1], "tick {tick} at one x in both panels");
            }
        }
    }

    /// A series ends at its last point: an error bar shorter than a marker there has
    /// no caps, which would read as the line going on to the frame; a tall bar keeps
    /// them.
    #[test]
    fn a_line_ends_at_its_last_point() {
        let names = ["quiesce", "logging", "cow"];
        let series = |half: f64| -> Vec<Series> {
            names
                .iter()
                .map(|n| Series {
                    name: n.to_string(),
                    points: vec![(1.0, 250.0), (2.0, 80.0), (3.0, 4.0)],
                    intervals: vec![(1.0, 240.0, 260.0), (3.0, 4.0 - half, 4.0 + half)],
                    note: None,
                    seeds_failed: Vec::new(),
                })
                .collect()
        };
        for (half, capped) in [(0.05, false), (60.0, true)] {
            let svg = render_svg(&with_bars(series(half), "y", false)).unwrap();
            // The last point's x: the end of quiesce's solid line (the series share it).
            let last_x = polylines(&svg, "#D62728")
                .iter()
                .find(|l| l.len() == 3)
                .map(|l| l[2].0)
                .unwrap();
            for colour in ["#D62728", "#FF7F0E", "#9467BD"] {
                // Horizontal strokes reaching right of the last point, near it (not
                // the legend's samples beside the chart, 20 px long).
                let past: Vec<_> = polylines(&svg, colour)
                    .into_iter()
                    .filter(|l| l.len() == 2 && l[0].1 == l[1].1 && l[0].0 != l[1].0)
                    .filter(|l| l[0].0.max(l[1].0) > last_x + 1.0)
                    .filter(|l| l[0].0.min(l[1].0) < last_x + 20.0)
                    .collect();
                // Cow's bars, shifted right of its points, reach past the last x only by
                // their caps.
                if colour == "#9467BD" || !capped {
                    assert_eq!(!past.is_empty(), capped, "{colour} {half}: {past:?}");
                }
            }
        }
    }

    /// The legend (beside the chart) covers no point, no error bar and no milestone's
    /// line, however many entries it has, however short the panel and wherever the
    /// lines run (one at the top of its range from the first x to the last, a
    /// milestone at the first x); a y label longer than its chart is high keeps its
    /// quantity by the axis and puts its statistic on a line under the title.
    #[test]
    fn the_legend_covers_no_line_and_a_long_y_label_is_kept_whole() {
        // The series' colours and the retire milestone's.
        let colours = [
            "#D62728", "#7F7F7F", "#2CA02C", "#FF7F0E", "#9467BD", "#3C3C3C",
        ];
        let names = ["quiesce", "crash-consistent", "mirroring", "logging", "cow"];
        let series: Vec<Series> = names
            .iter()
            .enumerate()
            .map(|(i, n)| Series {
                name: n.to_string(),
                points: vec![(1.0, 100.0 + i as f64), (2.0, 10.0), (3.0, 20.0)],
                intervals: vec![(1.0, 80.0, 120.0 + i as f64)],
                note: Some("no value at 4, 5 and 6: every seed's backup abandoned".into()),
                seeds_failed: Vec::new(),
            })
            .chain([Series {
                name: "none".into(),
                points: vec![(1.0, 1e6), (3.0, 1e6)],
                intervals: vec![],
                note: None,
                seeds_failed: Vec::new(),
            }])
            .collect();
        let label =
            "mean response time (ticks) − none's: mean paired difference of 8 seeds, 95 % CI";
        let mut plot = with_bars(series, label, true);
        plot.marks = [0, 5]
            .into_iter()
            .map(|series| Milestone {
                at: 1.0,
                series,
                kind: MarkKind::Retire,
                name: "A retired".into(),
                label: "A retired (t=1)".into(),
            })
            .collect();
        let svg = render_svg(&plot).unwrap();
        let rects: Vec<(f64, f64, f64, f64)> = svg
            .split("<rect")
            .skip(1)
            .filter(|r| r.contains("opacity=\"0.85\""))
            .map(|r| {
                let at = |a: &str| -> f64 {
                    r.split(&format!(" {a}=\""))
                        .nth(1)
                        .unwrap()
                        .split('"')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap()
                };
                (
                    at("x"),
                    at("y"),
                    at("x") + at("width"),
                    at("y") + at("height"),
                )
            })
            .collect();
        assert_eq!(rects.len(), 2, "a legend per panel");
        for colour in colours {
            for l in polylines(&svg, colour) {
                // The legend's own sample of a line, 10 px into its box (a dashed
                // line's second dash 13 px further), or of a milestone, 20 px into it.
                let sample = |r: &(f64, f64, f64, f64)| {
                    (l.iter().all(|q| q.1 == l[0].1)
                        && [10.0, 23.0].iter().any(|d| (l[0].0 - r.0 - d).abs() < 0.5))
                        || (l.iter().all(|q| q.0 == l[0].0) && (l[0].0 - r.0 - 20.0).abs() < 0.5)
                };
                if rects.iter().any(sample) {
                    continue;
                }
                for &(x, y) in &l {
                    for r in &rects {
                        let inside = x > r.0 && x < r.2 && y > r.1 && y < r.3;
                        assert!(!inside, "{colour} ({x}, {y}) under the legend {r:?}");
                    }
                }
            }
        }
        let t = texts(&svg);
        // A long entry goes on over lines of its own.
        assert!(
            t.contains(&"quiesce (no value at 4, 5 and 6: every seed&apos;s backup")
                && t.contains(&"abandoned)"),
            "{t:?}"
        );
        assert!(
            t.contains(&"mean response time (ticks) − none&apos;s"),
            "{t:?}"
        );
        assert!(
            t.contains(&"y axis: mean paired difference of 8 seeds, 95 % CI"),
            "{t:?}"
        );
        // A short label stays whole by its axis.
        let short = render_svg(&with_bars(
            vec![Series {
                name: "cow".into(),
                points: vec![(1.0, 1.0)],
                intervals: vec![],
                note: None,
                seeds_failed: Vec::new(),
            }],
            "mean (ticks): mean of 2 seeds, 95 % CI",
            false,
        ))
        .unwrap();
        assert!(texts(&short).contains(&"mean (ticks): mean of 2 seeds, 95 % CI"));
    }

    /// A time axis reaching past a million labels every tick in millions (`0.5 M`
    /// where a plain `500000` stood beside `1 M`), while a y axis of thousands beside
    /// it stays plain; in panels by scale each y axis takes its own.
    #[test]
    fn an_axis_is_labelled_in_one_style() {
        let plot = |peaks: &[f64]| LinePlot {
            title: "t".into(),
            x_label: "time (ticks)".into(),
            y_label: "extra space (blocks)".into(),
            x_scale: XScale::Linear,
            series: peaks
                .iter()
                .enumerate()
                .map(|(i, &y)| Series {
                    name: format!("s{i}"),
                    points: vec![(0.0, 0.0), (500_000.0, y), (2_300_000.0, y)],
                    intervals: vec![],
                    note: None,
                    seeds_failed: Vec::new(),
                })
                .collect(),
            markers: false,
            no_interval: None,
            no_value: None,
            split_scales: true,
            y_log: false,
            y_log_panels: false,
            panel_y_labels: Vec::new(),
            marks: Vec::new(),
        };
        let svg = render_svg(&plot(&[4304.0])).unwrap();
        let t = texts(&svg);
        for want in ["0.5 M", "1 M", "1.5 M", "2 M", "4000"] {
            assert!(t.contains(&want), "{want} missing: {t:?}");
        }
        assert!(
            !t.iter().any(|l| l.parse::<f64>().is_ok_and(|v| v >= 1e5)),
            "{t:?}"
        );
        // Two panels: the mirror's millions and the log's thousands, each its own.
        let svg = render_svg(&plot(&[16_777_216.0, 4304.0, 0.0])).unwrap();
        let t = texts(&svg);
        for want in ["5 M", "15 M", "4000", "0.5 M"] {
            assert!(t.contains(&want), "{want} missing: {t:?}");
        }
        assert!(
            !t.iter().any(|l| l.parse::<f64>().is_ok_and(|v| v >= 1e5)),
            "{t:?}"
        );
        assert!(t
            .iter()
            .any(|l| l.contains("a line at 0 throughout with the smallest")));
    }

    #[test]
    fn equal_values_get_distinct_y_ticks() {
        for y in [0.0, -3.0, 250.0] {
            let mut p = cow_plot("x", XScale::Linear, vec![(1.0, y), (2.0, y)], None);
            p.series[0].intervals = vec![(1.0, y, y), (2.0, y, y)];
            let svg = render_svg(&p).unwrap();
            let labels = number_labels(&svg);
            let mut distinct = labels.clone();
            distinct.sort();
            distinct.dedup();
            assert!(labels.len() >= 6, "{y}: {labels:?}");
            assert_eq!(distinct.len(), labels.len(), "{y}: {labels:?}");
        }
    }

    /// Peaks within [`SCALE_RATIO`] of a panel's largest share it, one further apart
    /// opens the next; a series of zeros (or of no point) joins the smallest; negative
    /// values count by magnitude; unasked, one panel whatever the scales.
    #[test]
    fn panels_group_series_by_the_scale_of_their_peaks() {
        let series = |peaks: &[f64]| -> Vec<Series> {
            peaks
                .iter()
                .enumerate()
                .map(|(i, &y)| Series {
                    name: format!("s{i}"),
                    points: if y.is_nan() {
                        vec![]
                    } else {
                        vec![(0.0, 0.0), (1.0, y)]
                    },
                    intervals: vec![],
                    note: None,
                    seeds_failed: Vec::new(),
                })
                .collect()
        };
        let plot = |peaks: &[f64], split: bool| LinePlot {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_scale: XScale::Linear,
            series: series(peaks),
            markers: false,
            no_interval: None,
            no_value: None,
            split_scales: split,
            y_log: false,
            y_log_panels: false,
            panel_y_labels: Vec::new(),
            marks: Vec::new(),
        };
        let cases: [(&[f64], Vec<Vec<usize>>); 6] = [
            (&[0.0, 100.0, 10.0], vec![vec![0, 1, 2]]),
            (&[0.0, 100.0, 9.9], vec![vec![1], vec![0, 2]]),
            (
                &[4304.0, 16_777_216.0, 0.0, 16_777_216.0, 4304.0],
                vec![vec![1, 3], vec![0, 2, 4]],
            ),
            (
                &[1.0, 1e3, 1e6, f64::NAN],
                vec![vec![2], vec![1], vec![0, 3]],
            ),
            (&[-5e6, 2.0], vec![vec![0], vec![1]]),
            (&[0.0, 0.0], vec![vec![0, 1]]),
        ];
        for (peaks, want) in cases {
            assert_eq!(panels(&plot(peaks, true)), want, "{peaks:?}");
            assert_eq!(
                panels(&plot(peaks, false)),
                vec![(0..peaks.len()).collect::<Vec<_>>()]
            );
        }
        // A picture of three panels is two panels' heights taller, and says why; the
        // memory a sweep's drawing thread is counted with holds it.
        let p = plot(&[1.0, 1e3, 1e6], true);
        assert_eq!(size(&p), (SIZE.0, SIZE.1 + 2 * PANEL_H));
        let pixels = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
        assert_eq!(
            pixels(size(&plot(&[1.0], true))),
            sim::footprint::LINE_PLOT_PIXELS
        );
        assert_eq!(
            pixels(size(&p)),
            sim::footprint::LINE_PLOT_PIXELS + 2 * sim::footprint::LINE_PLOT_PANEL_PIXELS
        );
        let svg = render_svg(&p).unwrap();
        assert!(svg.contains("one panel per scale"));
        assert!(!render_svg(&plot(&[1.0, 1e3, 1e6], false))
            .unwrap()
            .contains("one panel"));
    }

    /// A sweep's plot (markers, error bars, a log or categorical x axis): means more
    /// than [`SCALE_RATIO`] apart are drawn in panels of their own scale, the line under
    /// the title naming the x axis they share; within it, on one panel and no such line.
    #[test]
    fn a_sweeps_means_of_different_scales_each_take_a_panel() {
        let plot = |peaks: &[f64], x_scale: XScale| LinePlot {
            title: "s: extra space peak vs mean inter-arrival time".into(),
            x_label: "mean inter-arrival time (ticks)".into(),
            y_label: "peak extra space (blocks): mean of 2 seeds, 95 % CI".into(),
            x_scale,
            series: peaks
                .iter()
                .enumerate()
                .map(|(i, &y)| Series {
                    name: ["mirroring", "cow", "logging"][i].into(),
                    points: vec![(1.0, y), (100.0, y * 0.9)],
                    intervals: vec![(1.0, y * 0.8, y * 1.1)],
                    note: None,
                    seeds_failed: Vec::new(),
                })
                .collect(),
            markers: true,
            no_interval: Some("ringed: one seed, no 95 % CI".into()),
            no_value: None,
            split_scales: true,
            y_log: false,
            y_log_panels: false,
            panel_y_labels: Vec::new(),
            marks: Vec::new(),
        };
        let log = XScale::Log(vec![1.0, 100.0]);
        let categories = XScale::Categories(v(&["a", "b"]));
        for x_scale in [log, XScale::Linear, categories] {
            let apart = plot(&[16_384.0, 1_500.0, 1_200.0], x_scale.clone());
            assert_eq!(panels(&apart), vec![vec![0], vec![1, 2]], "{x_scale:?}");
            let svg = render_svg(&apart).unwrap();
            let caption = scale_caption(&apart);
            // No series is 0 throughout: the line does not speak of one.
            assert!(
                caption.ends_with("separate y axes, mean inter-arrival time shared"),
                "{caption}"
            );
            assert!(svg.contains(&caption), "{x_scale:?}");
            // Within SCALE_RATIO of each other (the largest 10× the smallest): one
            // panel, one picture's height, no line saying why.
            let within = plot(&[12_000.0, 1_500.0, 1_200.0], x_scale.clone());
            assert_eq!(panels(&within), vec![vec![0, 1, 2]], "{x_scale:?}");
            assert_eq!(size(&within), SIZE);
            assert!(!render_svg(&within).unwrap().contains("one panel per scale"));
        }
        // The extra space plots' line reads as before: time shared; a series at 0
        // throughout is said to be with the smallest, and only then.
        let mut time = plot(&[1e6, 1.0, 0.0], XScale::Linear);
        time.x_label = "time (ticks)".into();
        assert!(scale_caption(&time)
            .ends_with("(a line at 0 throughout with the smallest), time shared"));
        time.series.pop();
        assert!(scale_caption(&time).ends_with("separate y axes, time shared"));
    }

    #[test]
    fn category_names_are_the_ticks() {
        let p = cow_plot(
            "workload",
            XScale::Categories(v(&["fig3", "bank", "generated"])),
            vec![(0.0, 1.0), (1.0, 2.0), (2.0, 1.5)],
            None,
        );
        assert_eq!(bounds(&p, &[0]).0, (-0.5, 2.5));
        let svg = render_svg(&p).unwrap();
        for name in ["fig3", "bank", "generated"] {
            assert!(
                svg.contains(&format!(">{name}<")) || svg.contains(&format!(">\n{name}\n<")),
                "{name}"
            );
        }
        assert!(!svg.contains(">0.5<"), "no tick between categories");
    }

    /// Long category names (trace paths, a long scenario name among short ones) are
    /// shortened around an ellipsis to their share of the width, short ones kept; names
    /// that would read alike once shortened stay apart.
    #[test]
    fn long_category_names_fit_their_share() {
        let fits = |t: &str| t.chars().count() <= 12;
        let names = v(&[
            "traces/oltp-production-2024-01-15.iolog",
            "traces/oltp-production-2024-01-16.iolog",
            "a",
            "baseline configuration of the production volume",
        ]);
        let labels = category_labels(&names, &fits);
        assert_eq!(labels[2], "a");
        for (l, n) in labels.iter().zip(&names) {
            assert!(fits(l), "{l}");
            if l != n {
                assert!(l.contains('…'), "{l}");
            }
        }
        assert!(
            labels[0].ends_with("olog") && labels[3].starts_with("basel"),
            "{labels:?}"
        );
        let distinct: std::collections::BTreeSet<&String> = labels.iter().collect();
        assert_eq!(distinct.len(), labels.len(), "{labels:?}");
        // Drawn: every label within the picture and no two overlapping.
        let p = cow_plot(
            "workload.path",
            XScale::Categories(names.clone()),
            vec![(0.0, 1.0), (1.0, 2.0), (2.0, 1.5), (3.0, 1.0)],
            None,
        );
        let svg = render_svg(&p).unwrap();
        assert!(
            !svg.contains("oltp-production-2024-01-15.iolog<"),
            "shortened"
        );
        assert!(svg.contains('…'), "an ellipsis drawn");
    }
}
