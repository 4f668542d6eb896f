//! Drawing each kind of chart with plotters onto any backend (SVG or PNG).
//! Data marks use [`mark`]; suppressed values [`suppressed_mark`] (see the
//! module doc of `charts`).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    draw_err, mark, Distribution, Funnel, Gradient, LimitRow, Pyramid, Spine, StackedBars, FONT,
    PALETTE, SUPPRESSED, SUPPRESSED_LABEL,
};
use crate::error::Result;

/// The grey triangle drawn where a suppressed value would be.
fn suppressed_mark(at: (f64, f64)) -> TriangleMarker<(f64, f64), i32> {
    TriangleMarker::new(at, 7, RGBColor(90, 90, 90).mix(SUPPRESSED).filled())
}

/// Draws the suppressed marks at `points`, with one legend entry when any.
fn draw_suppressed<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    points: Vec<(f64, f64)>,
) -> Result<()> {
    if points.is_empty() {
        return Ok(());
    }
    chart
        .draw_series(points.into_iter().map(suppressed_mark))
        .map_err(draw_err)?
        .label(SUPPRESSED_LABEL)
        .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, RGBColor(90, 90, 90).filled()));
    Ok(())
}

/// The legend every chart draws, upper right (the ranges leave room for it).
pub(super) fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> Result<()> {
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(draw_err)
}

/// Splits text into lines of at most `width` characters at spaces.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// (min, max) of values with a margin, never empty.
fn padded_range(values: impl Iterator<Item = f64>, floor_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if floor_zero {
        lo = lo.min(0.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-9);
    // Extra room at the top keeps the legend (upper right) off the data.
    (
        if floor_zero && lo >= 0.0 {
            0.0
        } else {
            lo - pad
        },
        hi + 6.0 * pad,
    )
}

pub(super) fn gradient<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    g: &Gradient,
) -> Result<()> {
    let (lo, hi) = padded_range(
        g.points
            .iter()
            .flat_map(|p| [p.lower95, p.upper95])
            .chain(g.fitted.iter().flatten().map(|f| f.1)),
        true,
    );
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(0.5f64..(g.groups as f64 + 0.5), lo..hi)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_labels(g.groups)
        .x_label_formatter(&|x| format!("{:.0}", x))
        .x_desc(format!("{} (1 = most deprived)", g.group_label))
        .y_desc(g.unit.clone())
        .y_label_formatter(&|y| format!("{y:.1}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(WHITE)
        .draw()
        .map_err(draw_err)?;
    let colour = PALETTE[0];
    for p in &g.points {
        let x = p.group as f64;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, p.lower95), (x, p.upper95)],
                mark(&colour).stroke_width(2),
            )))
            .map_err(draw_err)?;
    }
    chart
        .draw_series(
            g.points
                .iter()
                .map(|p| Circle::new((p.group as f64, p.value), 6, mark(&colour).filled())),
        )
        .map_err(draw_err)?
        .label("value with 95% interval")
        .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
    if let Some(fitted) = &g.fitted {
        let line_colour = PALETTE[5];
        chart
            .draw_series(std::iter::once(PathElement::new(
                fitted
                    .iter()
                    .map(|&(x, y)| (x as f64, y))
                    .collect::<Vec<_>>(),
                mark(&line_colour).stroke_width(2),
            )))
            .map_err(draw_err)?
            .label("slope index of inequality (fitted line)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], line_colour.stroke_width(2))
            });
    }
    let base = lo + (hi - lo) * 0.03;
    draw_suppressed(
        &mut chart,
        g.suppressed.iter().map(|&j| (j as f64, base)).collect(),
    )?;
    legend(&mut chart)
}

pub(super) fn funnel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, f: &Funnel) -> Result<()> {
    let x_max = f
        .points
        .iter()
        .map(|p| p.denominator)
        .chain(f.suppressed.iter().filter_map(|s| s.1))
        .chain(f.limits.iter().map(|l| l.0))
        .fold(1.0f64, f64::max)
        * 1.05;
    let (lo, hi) = padded_range(
        f.points
            .iter()
            .map(|p| p.value)
            .chain(
                f.limits
                    .iter()
                    .filter(|l| l.0 >= x_max * 0.05)
                    .flat_map(|l| [l.3, l.4]),
            )
            .chain(std::iter::once(f.average)),
        false,
    );
    let lo = lo.max(0.0);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, lo..hi)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc(f.x_label.clone())
        .y_desc(f.unit.clone())
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(WHITE)
        .draw()
        .map_err(draw_err)?;
    funnel_lines(&mut chart, f, (lo, hi), x_max)?;
    funnel_points(&mut chart, f)?;
    let base = lo + (hi - lo) * 0.03;
    draw_suppressed(
        &mut chart,
        f.suppressed
            .iter()
            .filter_map(|s| s.1.map(|n| (n, base)))
            .collect(),
    )?;
    legend(&mut chart)
}

/// A chart of two f64 axes, as every phm chart is.
type Plot<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The funnel's 95% and 99.8% limit lines (clipped to the y range) and centre.
fn funnel_lines<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plot<'a, DB>,
    f: &Funnel,
    (lo, hi): (f64, f64),
    x_max: f64,
) -> Result<()> {
    let clip = |v: f64| v.clamp(lo, hi);
    let thin = BLACK.mix(0.55).stroke_width(1);
    let thick = BLACK.mix(0.85).stroke_width(2);
    // (legend label, which limit of the row, style)
    let lines = [
        ("95% limits", 1, thin),
        ("", 2, thin),
        ("99.8% limits", 3, thick),
        ("", 4, thick),
    ];
    let pick = |l: &LimitRow, i: usize| match i {
        1 => l.1,
        2 => l.2,
        3 => l.3,
        _ => l.4,
    };
    for (label, which, style) in lines {
        let s = chart
            .draw_series(std::iter::once(PathElement::new(
                f.limits
                    .iter()
                    .map(|l| (l.0, clip(pick(l, which))))
                    .collect::<Vec<_>>(),
                style,
            )))
            .map_err(draw_err)?;
        if !label.is_empty() {
            s.label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, f.average), (x_max, f.average)],
            BLACK.mix(0.4).stroke_width(1),
        )))
        .map_err(draw_err)?
        .label("overall value")
        .legend(|(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.4).stroke_width(1))
        });
    Ok(())
}

/// The areas, the reader's own in the second colour, outliers labelled.
fn funnel_points<'a, DB: DrawingBackend + 'a>(chart: &mut Plot<'a, DB>, f: &Funnel) -> Result<()> {
    let (plain, high) = (PALETTE[0], PALETTE[1]);
    chart
        .draw_series(f.points.iter().map(|p| {
            let c = if f.highlight.as_deref() == Some(p.code.as_str()) {
                high
            } else {
                plain
            };
            Circle::new((p.denominator, p.value), 6, mark(&c).filled())
        }))
        .map_err(draw_err)?
        .label(if f.highlight.is_some() {
            "other areas"
        } else {
            "areas"
        })
        .legend(move |(x, y)| Circle::new((x + 10, y), 5, plain.filled()));
    if let Some(h) = &f.highlight {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(draw_err)?
            .label(h.clone())
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, high.filled()));
    }
    // Outliers beyond 99.8% are labelled by code, and only they.
    chart
        .draw_series(f.points.iter().filter(|p| p.outlier).map(|p| {
            Text::new(
                p.code.clone(),
                (p.denominator, p.value),
                (FONT, 14).into_font().color(&BLACK),
            )
        }))
        .map_err(draw_err)?;
    Ok(())
}

pub(super) fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    b: &StackedBars,
) -> Result<()> {
    let n = b.bars.len().max(1);
    let top = b
        .bars
        .iter()
        .map(|(_, v)| v.iter().flatten().sum::<f64>())
        .chain(b.markers.iter().flat_map(|(_, m)| m.iter().copied()))
        .chain(b.target.iter().map(|t| t.1))
        .fold(1.0f64, f64::max)
        * 1.35;
    let labels: Vec<String> = b.bars.iter().map(|(c, _)| c.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..n as f64, 0.0..top)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 0.26 {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(b.y_label.clone())
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(WHITE)
        .draw()
        .map_err(draw_err)?;
    for (s, name) in b.series.iter().enumerate() {
        let colour = PALETTE[s % PALETTE.len()];
        chart
            .draw_series(b.bars.iter().enumerate().filter_map(|(i, (_, v))| {
                let below: f64 = v[..s].iter().flatten().sum();
                let h = v.get(s).copied().flatten().unwrap_or(0.0);
                (h > 0.0).then(|| {
                    Rectangle::new(
                        [(i as f64 + 0.15, below), (i as f64 + 0.85, below + h)],
                        mark(&colour).filled(),
                    )
                })
            }))
            .map_err(draw_err)?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    }
    bar_lines(&mut chart, b, n)?;
    // A suppressed series value: marked at the foot of its place in the stack.
    let mut hidden = Vec::new();
    for (i, (_, v)) in b.bars.iter().enumerate() {
        for (s, value) in v.iter().enumerate() {
            if value.is_none() {
                let below: f64 = v[..s].iter().flatten().sum();
                let step = top * 0.03 * (1 + v[..s].iter().filter(|x| x.is_none()).count()) as f64;
                hidden.push((i as f64 + 0.5, below + step));
            }
        }
    }
    draw_suppressed(&mut chart, hidden)?;
    legend(&mut chart)
}

/// A bar chart's per-bar markers (e.g. capacity) and target line.
fn bar_lines<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plot<'a, DB>,
    b: &StackedBars,
    n: usize,
) -> Result<()> {
    if let Some((name, values)) = &b.markers {
        let style = BLACK.stroke_width(3);
        chart
            .draw_series(values.iter().enumerate().map(|(i, &v)| {
                PathElement::new(vec![(i as f64 + 0.05, v), (i as f64 + 0.95, v)], style)
            }))
            .map_err(draw_err)?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    if let Some((name, v)) = &b.target {
        let style = PALETTE[5].stroke_width(2);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, *v), (n as f64, *v)],
                style,
            )))
            .map_err(draw_err)?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    Ok(())
}

pub(super) fn pyramid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Pyramid,
) -> Result<()> {
    let n = p.bands.len().max(1);
    let max = p
        .population
        .iter()
        .chain(&p.cohort)
        .flat_map(|(f, m)| [f.unwrap_or(0.0), m.unwrap_or(0.0)])
        .fold(1.0f64, f64::max)
        * 1.1;
    let bands = p.bands.clone();
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(60)
        .build_cartesian_2d(-max..max, 0.0..n as f64)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y| {
            let i = y.floor() as usize;
            if (y - i as f64 - 0.5).abs() < 0.26 {
                bands.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_formatter(&|x| format!("{:.0}%", x.abs()))
        .x_desc("% of group (female left, male right)")
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .light_line_style(WHITE)
        .draw()
        .map_err(draw_err)?;
    let pop = PALETTE[4];
    chart
        .draw_series(p.population.iter().enumerate().flat_map(|(i, &(f, m))| {
            let y = i as f64;
            [
                f.map(|f| Rectangle::new([(-f, y + 0.1), (0.0, y + 0.9)], mark(&pop).filled())),
                m.map(|m| Rectangle::new([(0.0, y + 0.1), (m, y + 0.9)], mark(&pop).filled())),
            ]
            .into_iter()
            .flatten()
        }))
        .map_err(draw_err)?
        .label("registered population")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], pop.filled()));
    pyramid_cohort(&mut chart, p)?;
    // Suppressed: population marks just inside the axis, cohort marks further out.
    let mut hidden = Vec::new();
    for (i, (&(pf, pm), &(cf, cm))) in p.population.iter().zip(&p.cohort).enumerate() {
        let y = i as f64 + 0.5;
        let off = max * 0.04;
        for (value, x) in [(pf, -off), (pm, off), (cf, -2.5 * off), (cm, 2.5 * off)] {
            if value.is_none() {
                hidden.push((x, y));
            }
        }
    }
    draw_suppressed(&mut chart, hidden)?;
    legend(&mut chart)
}

/// The cohort's shares as ticks over the population bars.
fn pyramid_cohort<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plot<'a, DB>,
    p: &Pyramid,
) -> Result<()> {
    let coh = PALETTE[5];
    chart
        .draw_series(p.cohort.iter().enumerate().flat_map(|(i, &(f, m))| {
            let y = i as f64 + 0.5;
            [
                f.map(|f| {
                    PathElement::new(vec![(-f, y - 0.35), (-f, y + 0.35)], coh.stroke_width(3))
                }),
                m.map(|m| {
                    PathElement::new(vec![(m, y - 0.35), (m, y + 0.35)], coh.stroke_width(3))
                }),
            ]
            .into_iter()
            .flatten()
        }))
        .map_err(draw_err)?
        .label(p.cohort_label.clone())
        .legend(move |(x, y)| {
            PathElement::new(vec![(x + 7, y - 6), (x + 7, y + 6)], coh.stroke_width(3))
        });
    Ok(())
}

pub(super) fn distribution<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Distribution,
) -> Result<()> {
    let (x_lo, x_hi) = padded_range(
        d.lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)),
        true,
    );
    let (_, y_hi) = padded_range(
        d.lines
            .iter()
            .flat_map(|(_, p)| p.iter().filter_map(|q| q.1)),
        true,
    );
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(x_lo..x_hi, 0.0..y_hi)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc(d.x_label.clone())
        .y_desc(d.y_label.clone())
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(WHITE)
        .draw()
        .map_err(draw_err)?;
    for (s, (name, pts)) in d.lines.iter().enumerate() {
        let colour = PALETTE[s % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                pts.iter().filter_map(|&(x, y)| Some((x, y?))),
                colour.stroke_width(2),
            ))
            .map_err(draw_err)?;
        chart
            .draw_series(
                pts.iter()
                    .filter_map(|&(x, y)| Some(Circle::new((x, y?), 4, mark(&colour).filled()))),
            )
            .map_err(draw_err)?
            .label(name.clone())
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
    }
    let hidden = d
        .lines
        .iter()
        .flat_map(|(_, p)| {
            p.iter()
                .filter(|q| q.1.is_none())
                .map(|q| (q.0, y_hi * 0.03))
        })
        .collect();
    draw_suppressed(&mut chart, hidden)?;
    legend(&mut chart)
}

/// The colour of a benchmark label's dot (Okabe–Ito; Fingertips' green,
/// amber, red and blues).
fn spine_colour(label: &str) -> RGBColor {
    match label {
        "Better" => PALETTE[2],
        "Worse" => PALETTE[5],
        "Higher" => PALETTE[0],
        "Lower" => PALETTE[4],
        _ => PALETTE[1],
    }
}

pub(super) fn spine<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Spine) -> Result<()> {
    let n = s.rows.len().max(1);
    // Three empty rows at the top keep the legend off the data.
    let top = n as f64 + 2.5;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(170)
        .build_cartesian_2d(-1.15f64..1.15f64, -0.5f64..top)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(3)
        .x_label_formatter(&|x| match x.round() as i32 {
            -1 => "worse / lower".into(),
            0 => "benchmark".into(),
            1 => "better / higher".into(),
            _ => String::new(),
        })
        .y_labels(0)
        .y_label_formatter(&|_| String::new())
        .label_style((FONT, 13))
        .light_line_style(WHITE)
        .draw()
        .map_err(draw_err)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
            BLACK.stroke_width(2),
        )))
        .map_err(draw_err)?;
    // Row names in the label area, placed in pixels (plotters' own labels
    // fall on "nice" numbers, not on every row).
    let base = area.get_base_pixel();
    let style =
        TextStyle::from((FONT, 13).into_font()).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Right,
            plotters::style::text_anchor::VPos::Center,
        ));
    for (i, r) in s.rows.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(-1.15, (n - 1 - i) as f64));
        area.draw(&Text::new(
            r.name.clone(),
            (px - base.0 - 6, py - base.1),
            style.clone(),
        ))
        .map_err(draw_err)?;
    }
    let mut dots: Vec<(&'static str, Vec<(f64, f64)>)> = Vec::new();
    let mut hidden = Vec::new();
    for (i, r) in s.rows.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        let values: Vec<f64> = r.areas.iter().filter_map(|a| a.1).collect();
        let furthest = values
            .iter()
            .map(|v| (v - r.benchmark).abs())
            .fold(0.0f64, f64::max);
        let scale = if furthest > 0.0 { furthest } else { 1.0 };
        let x = |v: f64| {
            let d = (v - r.benchmark) / scale;
            if r.turned {
                -d
            } else {
                d
            }
        };
        if let (Some(lo), Some(hi)) = (
            values.iter().map(|&v| x(v)).reduce(f64::min),
            values.iter().map(|&v| x(v)).reduce(f64::max),
        ) {
            // At least a sliver wide, so one area still draws a bar.
            let (lo, hi) = (lo.min(hi - 0.01), hi.max(lo + 0.01));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(lo, y - 0.3), (hi, y + 0.3)],
                    mark(&RGBColor(200, 200, 200)).filled(),
                )))
                .map_err(draw_err)?;
        }
        for (_, v, label) in &r.areas {
            match v {
                Some(v) => match dots.iter_mut().find(|d| d.0 == *label) {
                    Some(d) => d.1.push((x(*v), y)),
                    None => dots.push((label, vec![(x(*v), y)])),
                },
                None => hidden.push((-1.1, y)),
            }
        }
    }
    const ORDER: [&str; 5] = ["Better", "Similar", "Worse", "Higher", "Lower"];
    dots.sort_by_key(|d| ORDER.iter().position(|o| *o == d.0));
    for (label, points) in dots {
        let colour = spine_colour(label);
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 5, mark(&colour).filled())),
            )
            .map_err(draw_err)?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
    }
    draw_suppressed(&mut chart, hidden)?;
    legend(&mut chart)
}
