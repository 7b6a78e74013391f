//! Line plots for sweeps: one line per policy, a metric against a swept parameter.

use plotters::prelude::*;

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
}

/// One plot.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

const SIZE: (u32, u32) = (900, 560);

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

/// A policy keeps its colour across plots (and matches the timing diagrams: VLUN A
/// blue is not used for a policy); other names take the palette in order.
fn series_color(name: &str, i: usize) -> RGBColor {
    match name {
        "quiesce" => PALETTE[0],
        "crash-consistent" => PALETTE[1],
        "mirroring" => PALETTE[4],
        "logging" => PALETTE[3],
        "cow" => PALETTE[5],
        "none" => BLACK,
        _ => PALETTE[i % PALETTE.len()],
    }
}

fn font(px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(fonts::FAMILY), px, FontStyle::Normal)
}

/// The plot's ranges: x padded 5 %, y from 0 when the data is positive and 35 % of
/// headroom on top, so the legend (upper left, up to ~22 % of the height for five
/// policies) never covers a line.
fn bounds(p: &LinePlot) -> ((f64, f64), (f64, f64)) {
    let bars = p.series.iter().flat_map(|s| {
        s.intervals
            .iter()
            .flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)])
    });
    let all: Vec<(f64, f64)> = p
        .series
        .iter()
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
        let span = (hi - lo).max(hi.abs() * 0.1).max(1e-9);
        (
            lo - if from_zero && lo == 0.0 {
                0.0
            } else {
                span * 0.05
            },
            hi + span * if from_zero { 0.35 } else { 0.05 },
        )
    };
    (pad(fold(|p| p.0), false), pad(fold(|p| p.1), true))
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    p: &LinePlot,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let ((x0, x1), (y0, y1)) = bounds(p);
    let mut chart = ChartBuilder::on(&root)
        .caption(&p.title, font(18.0))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .label_style(font(13.0))
        .axis_desc_style(font(14.0))
        .draw()?;
    for (i, s) in p.series.iter().enumerate() {
        let c = series_color(&s.name, i);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|q| q.1.is_finite())
            .collect();
        // Lines that coincide (two variants with equal cost) must stay visible: later
        // series are drawn thinner and dashed, each with its own marker shape.
        let width = (4 - i as u32).max(1);
        let style = c.stroke_width(width);
        if i % 2 == 0 {
            chart
                .draw_series(LineSeries::new(pts.clone(), style))?
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        } else {
            chart
                .draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style))?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 8, y), (x + 13, y), (x + 20, y)], style)
                });
        }
        // Error bars with caps 1 % of the x range wide, offset a little per series so
        // that coinciding intervals stay distinguishable.
        let cap = (x1 - x0) * 0.01;
        let shift = (i as f64 - (p.series.len() as f64 - 1.0) / 2.0) * cap * 0.8;
        for &(x, lo, hi) in s
            .intervals
            .iter()
            .filter(|b| b.1.is_finite() && b.2.is_finite())
        {
            let x = x + shift;
            let bar = c.stroke_width(1);
            chart.draw_series([
                PathElement::new(vec![(x, lo), (x, hi)], bar),
                PathElement::new(vec![(x - cap, lo), (x + cap, lo)], bar),
                PathElement::new(vec![(x - cap, hi), (x + cap, hi)], bar),
            ])?;
        }
        match i % 3 {
            0 => chart.draw_series(pts.into_iter().map(|q| Circle::new(q, 4, c.filled())))?,
            1 => chart.draw_series(
                pts.into_iter()
                    .map(|q| TriangleMarker::new(q, 6, c.filled())),
            )?,
            _ => chart.draw_series(pts.into_iter().map(|q| Cross::new(q, 5, c.stroke_width(2))))?,
        };
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(font(13.0))
        .draw()?;
    Ok(())
}

/// The plot as SVG text.
pub fn render_svg(p: &LinePlot) -> Result<String, Error> {
    fonts::ensure()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(root.clone(), p).map_err(|e| Error::draw(&p.title, e))?;
        root.present().map_err(|e| Error::draw(&p.title, e))?;
    }
    Ok(out)
}

/// The plot as PNG bytes.
pub fn render_png(p: &LinePlot) -> Result<Vec<u8>, Error> {
    fonts::ensure()?;
    let mut buf = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, SIZE).into_drawing_area();
        draw(root.clone(), p).map_err(|e| Error::draw(&p.title, e))?;
        root.present().map_err(|e| Error::draw(&p.title, e))?;
    }
    crate::png_bytes(&buf, SIZE.0, SIZE.1)
}
