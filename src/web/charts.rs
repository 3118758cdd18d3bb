//! Server-side SVG charts drawn with `plotters`. Each chart is an image with a text alternative;
//! its figures are always in a table on the same page. Points carry a `<title>` (their label on
//! hover). Colours are from the colour-blind-safe ColorBrewer RdBu scheme, and a point's flag is
//! shown by its shape as well as its colour.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// RdBu (ColorBrewer) ends and middle: behind peers, level with them, ahead of them.
pub const BEHIND: RGBColor = RGBColor(0xb2, 0x18, 0x2b);
pub const AHEAD: RGBColor = RGBColor(0x21, 0x66, 0xac);
pub const NEUTRAL: RGBColor = RGBColor(0x4c, 0x61, 0x72);
const BAND: RGBColor = RGBColor(0xd8, 0xdd, 0xe0);
const INK: RGBColor = RGBColor(0x21, 0x2b, 0x32);

/// One labelled point.
pub struct Point {
    pub label: String,
    pub x: f64,
    pub y: f64,
    /// Below peers (-1), above (+1) or not flagged (0): colour and shape.
    pub direction: i8,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Gives the SVG its accessible name and puts each point's label in a `<title>` inside its
/// `<circle>` (drawn last, in order), so the browser shows it on hover.
fn finish(svg: String, id: &str, label: &str, titles: &[String]) -> String {
    let mut out = svg.replacen(
        "<svg ",
        &format!(
            "<svg role=\"img\" aria-labelledby=\"{id}-title\" id=\"{id}\" class=\"app-chart\" preserveAspectRatio=\"xMinYMin meet\" "
        ),
        1,
    );
    if let Some(end) = out.find('>') {
        out.insert_str(
            end + 1,
            &format!("<title id=\"{id}-title\">{}</title>", escape(label)),
        );
    }
    // Strip fixed width and height so the chart scales with its container.
    if let (Some(w), Some(h)) = (out.find(" width=\""), out.find(" height=\"")) {
        let cut = |s: &mut String, at: usize| {
            if let Some(len) = s[at + 8..].find('"') {
                s.replace_range(at..at + 9 + len, "");
            }
        };
        let (first, second) = if w > h { (w, h) } else { (h, w) };
        cut(&mut out, first);
        cut(&mut out, second);
    }
    let circles: Vec<usize> = out.match_indices("<circle ").map(|(i, _)| i).collect();
    let skip = circles.len().saturating_sub(titles.len());
    for (at, title) in circles.iter().skip(skip).zip(titles).rev() {
        if let Some(close) = out[*at..].find("/>") {
            let pos = at + close;
            out.replace_range(
                pos..pos + 2,
                &format!("><title>{}</title></circle>", escape(title)),
            );
        }
    }
    out
}

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (-1.0, 1.0)
    };
    let pad = (hi - lo) * 0.08;
    (lo - pad, hi + pad)
}

fn point_style(d: i8) -> ShapeStyle {
    match d {
        x if x < 0 => BEHIND.filled(),
        x if x > 0 => AHEAD.filled(),
        _ => NEUTRAL.mix(0.55).filled(),
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn text_style(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&INK)
}

/// The targeting scatter: level gap (x) against change excess over peers' change (y), the
/// peers' middle 50 % of each shaded, and the quadrant "behind and falling further behind"
/// named. `x_band` and `y_band` are the middle 50 % as gaps from the peers' medians.
pub fn targeting_scatter(
    id: &str,
    label: &str,
    points: &[Point],
    x_band: Option<(f64, f64)>,
    y_band: Option<(f64, f64)>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root: Area = SVGBackend::with_string(&mut svg, (720, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let xs = points.iter().map(|p| p.x).chain([0.0]);
        let ys = points.iter().map(|p| p.y).chain([0.0]);
        let (x0, x1) = padded(
            xs.clone().fold(f64::INFINITY, f64::min),
            xs.fold(f64::NEG_INFINITY, f64::max),
        );
        let (y0, y1) = padded(
            ys.clone().fold(f64::INFINITY, f64::min),
            ys.fold(f64::NEG_INFINITY, f64::max),
        );
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BAND.mix(0.6))
            .x_desc("Level gap to peers' median (points)")
            .y_desc("Change minus peers' median change")
            .label_style(text_style(13))
            .axis_desc_style(text_style(14))
            .draw()
            .map_err(|e| e.to_string())?;
        if let (Some((bx0, bx1)), Some((by0, by1))) = (x_band, y_band) {
            chart
                .draw_series([Rectangle::new(
                    [(bx0.max(x0), by0.max(y0)), (bx1.min(x1), by1.min(y1))],
                    BAND.mix(0.7).filled(),
                )])
                .map_err(|e| e.to_string())?;
        }
        let axis = INK.mix(0.5).stroke_width(1);
        chart
            .draw_series([
                PathElement::new([(x0, 0.0), (x1, 0.0)], axis),
                PathElement::new([(0.0, y0), (0.0, y1)], axis),
            ])
            .map_err(|e| e.to_string())?;
        chart
            .draw_series([Text::new(
                "Behind and falling further behind",
                (x0 + (x1 - x0) * 0.02, y0 + (y1 - y0) * 0.05),
                text_style(14).pos(Pos::new(HPos::Left, VPos::Bottom)),
            )])
            .map_err(|e| e.to_string())?;
        chart
            .draw_series([Text::new(
                "Ahead and pulling further ahead",
                (x1 - (x1 - x0) * 0.02, y1 - (y1 - y0) * 0.03),
                text_style(14).pos(Pos::new(HPos::Right, VPos::Top)),
            )])
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(points.iter().map(|p| {
                Circle::new(
                    (p.x, p.y),
                    if p.direction == 0 { 4 } else { 6 },
                    point_style(p.direction),
                )
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let titles: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    Ok(finish(svg, id, label, &titles))
}

/// A caterpillar of robust z, sorted, with the limits a point must pass to be flagged: the 95 %
/// and 99.8 % tiers (both signs) and, when any test passed it, the FDR limit.
pub fn caterpillar(
    id: &str,
    label: &str,
    points: &[Point],
    limits: &[(f64, &str)],
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root: Area = SVGBackend::with_string(&mut svg, (720, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = points.len().max(1) as f64;
        let ys = points
            .iter()
            .map(|p| p.y)
            .chain(limits.iter().flat_map(|(z, _)| [*z, -*z]));
        let (y0, y1) = padded(
            ys.clone().fold(f64::INFINITY, f64::min),
            ys.fold(f64::NEG_INFINITY, f64::max),
        );
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..n + 1.0, y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BAND.mix(0.6))
            .x_desc("Organisations, ordered by robust z")
            .y_desc("Robust z of the level")
            .x_labels(0)
            .label_style(text_style(13))
            .axis_desc_style(text_style(14))
            .draw()
            .map_err(|e| e.to_string())?;
        for (z, name) in limits {
            let dashed = INK.mix(0.6).stroke_width(1);
            for sign in [1.0, -1.0] {
                chart
                    .draw_series([PathElement::new(
                        [(0.0, sign * z), (n + 1.0, sign * z)],
                        dashed,
                    )])
                    .map_err(|e| e.to_string())?;
            }
            chart
                .draw_series([Text::new(
                    format!("{name} (±{z:.2})"),
                    (n + 0.8, *z),
                    text_style(12).pos(Pos::new(HPos::Right, VPos::Bottom)),
                )])
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(points.iter().map(|p| {
                Circle::new(
                    (p.x, p.y),
                    if p.direction == 0 { 3 } else { 5 },
                    point_style(p.direction),
                )
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let titles: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    Ok(finish(svg, id, label, &titles))
}

/// One row of a ranked dot chart: a value with its interval.
pub struct Ranked {
    pub label: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
    pub direction: i8,
}

/// ICBs or regions ranked by their standardised gap, each with its interval (a whisker), and the
/// zero line of "as expected for its mix of organisation types".
pub fn ranked_dots(id: &str, label: &str, rows: &[Ranked]) -> Result<String, String> {
    let mut svg = String::new();
    let height = (rows.len() as u32 * 18 + 80).clamp(200, 1200);
    {
        let root: Area = SVGBackend::with_string(&mut svg, (720, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let lo = rows
            .iter()
            .map(|r| r.interval.map_or(r.value, |i| i.0))
            .chain([0.0])
            .fold(f64::INFINITY, f64::min);
        let hi = rows
            .iter()
            .map(|r| r.interval.map_or(r.value, |i| i.1))
            .chain([0.0])
            .fold(f64::NEG_INFINITY, f64::max);
        let (x0, x1) = padded(lo, hi);
        let n = rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(12)
            .build_cartesian_2d(x0..x1, 0f64..n + 1.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .light_line_style(WHITE)
            .bold_line_style(BAND.mix(0.6))
            .x_desc("Standardised gap (points; 0 = as expected for the type mix)")
            .label_style(text_style(13))
            .axis_desc_style(text_style(14))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series([PathElement::new(
                [(0.0, 0.0), (0.0, n + 1.0)],
                INK.mix(0.6).stroke_width(1),
            )])
            .map_err(|e| e.to_string())?;
        let y_of = |i: usize| n - i as f64;
        chart
            .draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
                r.interval.map(|(a, b)| {
                    PathElement::new([(a, y_of(i)), (b, y_of(i))], NEUTRAL.stroke_width(2))
                })
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                Text::new(
                    r.label.clone(),
                    (x0 + (x1 - x0) * 0.01, y_of(i)),
                    text_style(11).pos(Pos::new(HPos::Left, VPos::Center)),
                )
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                rows.iter()
                    .enumerate()
                    .map(|(i, r)| Circle::new((r.value, y_of(i)), 5, point_style(r.direction))),
            )
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let titles: Vec<String> = rows
        .iter()
        .map(|r| format!("{}: {:+.2}", r.label, r.value))
        .collect();
    Ok(finish(svg, id, label, &titles))
}

/// One round of a pillar's history: the organisation's score and its peers' quartiles.
pub struct RoundFigure {
    pub round: String,
    pub score: Option<f64>,
    pub q1: Option<f64>,
    pub median: Option<f64>,
    pub q3: Option<f64>,
}

/// A pillar's score across rounds against the peers' median (line) and interquartile band.
pub fn history(
    id: &str,
    label: &str,
    rounds: &[RoundFigure],
    scale: (f64, f64),
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root: Area = SVGBackend::with_string(&mut svg, (360, 220)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = rounds.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(36)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), scale.0..scale.1)
            .map_err(|e| e.to_string())?;
        let names: Vec<String> = rounds.iter().map(|r| r.round.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BAND.mix(0.6))
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .label_style(text_style(12))
            .draw()
            .map_err(|e| e.to_string())?;
        let band: Vec<(f64, f64, f64)> = rounds
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i as f64, r.q1?, r.q3?)))
            .collect();
        if band.len() >= 2 {
            let mut outline: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
            outline.extend(band.iter().rev().map(|b| (b.0, b.1)));
            chart
                .draw_series([Polygon::new(outline, BAND.mix(0.8).filled())])
                .map_err(|e| e.to_string())?;
        } else {
            chart
                .draw_series(band.iter().map(|b| {
                    Rectangle::new(
                        [(b.0 - 0.15, b.1), (b.0 + 0.15, b.2)],
                        BAND.mix(0.8).filled(),
                    )
                }))
                .map_err(|e| e.to_string())?;
        }
        let medians: Vec<(f64, f64)> = rounds
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i as f64, r.median?)))
            .collect();
        chart
            .draw_series(LineSeries::new(medians, NEUTRAL.stroke_width(2)))
            .map_err(|e| e.to_string())?;
        let scores: Vec<(f64, f64)> = rounds
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i as f64, r.score?)))
            .collect();
        chart
            .draw_series(LineSeries::new(scores.clone(), AHEAD.stroke_width(3)))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                scores
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 4, AHEAD.filled())),
            )
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let titles: Vec<String> = rounds
        .iter()
        .filter_map(|r| r.score.map(|s| format!("{}: {s:.2}", r.round)))
        .collect();
    Ok(finish(svg, id, label, &titles))
}
