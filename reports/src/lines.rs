//! Line plots for sweeps: one line per policy, a metric against a swept parameter.

use plotters::prelude::*;

use crate::{fonts, Error};

/// One line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// (x, y), in x order.
    pub points: Vec<(f64, f64)>,
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

fn font(px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(fonts::FAMILY), px, FontStyle::Normal)
}

fn bounds(p: &LinePlot) -> ((f64, f64), (f64, f64)) {
    let pts = || p.series.iter().flat_map(|s| s.points.iter());
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
            hi + span * 0.08,
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
        let c = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|q| q.1.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(pts.into_iter().map(|q| Circle::new(q, 3, c.filled())))?;
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
