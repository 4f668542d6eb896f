//! Charts for the reports, drawn with plotters as SVG (inlined in the HTML)
//! and PNG (for slide decks). Text in PNGs uses DejaVu Sans, compiled into the
//! binary, so a bare machine renders it. Colours are the Okabe–Ito palette,
//! which stays distinguishable with the common colour-vision deficiencies.
//!
//! Every data mark (point, bar, whisker, fitted line) is drawn at opacity 0.9
//! and nothing else is, and the SVG tags those elements `class="mark"`: tests
//! and the browser check count them against the data.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{PhmError, Result};

/// Okabe–Ito colours (Okabe & Ito 2008), in the order series use them.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(240, 228, 66),  // yellow
];
/// Opacity of data marks, and only of them.
const MARK: f64 = 0.9;
/// The SVG attribute plotters writes for [`MARK`].
const MARK_ATTR: &str = "opacity=\"0.9\"";
const FONT: &str = "sans-serif";
const WIDTH: u32 = 900;
const HEIGHT: u32 = 520;

static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Registers the bundled font with plotters (once per process).
fn register_font() {
    REGISTER.call_once(|| {
        // The bytes are a valid TTF compiled in; a failure would show as
        // missing PNG text, which the chart tests would catch.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

fn mark(c: &RGBColor) -> RGBAColor {
    c.mix(MARK)
}

fn draw_err<E: std::fmt::Debug>(e: E) -> PhmError {
    PhmError::Input(format!("drawing a chart failed: {e:?}"))
}

/// One deprivation group of a gradient chart.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientPoint {
    /// 1 = most deprived.
    pub group: usize,
    pub value: f64,
    pub lower95: f64,
    pub upper95: f64,
}

/// An indicator by IMD group with 95% whiskers and the SII's fitted line.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient {
    pub title: String,
    pub unit: String,
    /// "IMD decile" or "IMD quintile".
    pub group_label: String,
    pub groups: usize,
    pub points: Vec<GradientPoint>,
    /// Fitted values at each group's mid-point rank (the SII line), when computed.
    pub fitted: Option<Vec<(usize, f64)>>,
    pub footnote: String,
}

/// A point of the funnel limit lines: (denominator, lower95, upper95, lower998, upper998).
pub type LimitRow = (f64, f64, f64, f64, f64);

/// An area on a funnel plot.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelPoint {
    pub code: String,
    pub denominator: f64,
    pub value: f64,
    /// Beyond the 99.8% limits: labelled on the chart.
    pub outlier: bool,
}

/// Areas by denominator against the average and 95% / 99.8% limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Funnel {
    pub title: String,
    pub unit: String,
    pub x_label: String,
    pub points: Vec<FunnelPoint>,
    pub average: f64,
    pub limits: Vec<LimitRow>,
    /// The area to draw in a second colour (the PCN of a PCN report).
    pub highlight: Option<String>,
    pub footnote: String,
}

/// Stacked bars per category (PCN), with an optional marker per bar.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedBars {
    pub title: String,
    pub y_label: String,
    pub series: Vec<String>,
    /// (category, one value per series).
    pub bars: Vec<(String, Vec<f64>)>,
    /// A horizontal tick per bar (e.g. capacity), labelled in the legend.
    pub markers: Option<(String, Vec<f64>)>,
    /// A line across all bars (e.g. a target), labelled.
    pub target: Option<(String, f64)>,
    pub footnote: String,
}

/// Age–sex pyramid: shares of a cohort against the population, by band.
#[derive(Debug, Clone, PartialEq)]
pub struct Pyramid {
    pub title: String,
    pub bands: Vec<String>,
    /// Percent of the population in each (band, sex): (female, male).
    pub population: Vec<(f64, f64)>,
    pub cohort: Vec<(f64, f64)>,
    pub cohort_label: String,
    pub footnote: String,
}

/// Distribution lines: share of patients at each x, one line per group.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// (series label, (x, percent) points).
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
    pub footnote: String,
}

/// Any chart phm draws.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    Gradient(Gradient),
    Funnel(Funnel),
    Bars(StackedBars),
    Pyramid(Pyramid),
    Distribution(Distribution),
}

impl Chart {
    /// Number of data marks the chart draws (what the tests count).
    pub fn data_points(&self) -> usize {
        match self {
            Chart::Gradient(g) => g.points.len(),
            Chart::Funnel(f) => f.points.len(),
            Chart::Bars(b) => b
                .bars
                .iter()
                .map(|(_, v)| v.iter().filter(|x| **x > 0.0).count())
                .sum(),
            Chart::Pyramid(p) => p.population.len() * 2,
            Chart::Distribution(d) => d.lines.iter().map(|(_, p)| p.len()).sum(),
        }
    }

    /// The chart's title.
    pub fn title(&self) -> &str {
        match self {
            Chart::Gradient(g) => &g.title,
            Chart::Funnel(f) => &f.title,
            Chart::Bars(b) => &b.title,
            Chart::Pyramid(p) => &p.title,
            Chart::Distribution(d) => &d.title,
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(draw_err)?;
        let (title, footnote) = match self {
            Chart::Gradient(g) => (&g.title, &g.footnote),
            Chart::Funnel(f) => (&f.title, &f.footnote),
            Chart::Bars(b) => (&b.title, &b.footnote),
            Chart::Pyramid(p) => (&p.title, &p.footnote),
            Chart::Distribution(d) => (&d.title, &d.footnote),
        };
        let (body, foot) = root.split_vertically(HEIGHT - 44);
        for (i, line) in wrap(footnote, 125).iter().take(2).enumerate() {
            foot.draw(&Text::new(
                line.clone(),
                (12, 4 + 18 * i as i32),
                (FONT, 13).into_font().color(&BLACK.mix(0.75)),
            ))
            .map_err(draw_err)?;
        }
        let body = body.titled(title, (FONT, 19)).map_err(draw_err)?;
        match self {
            Chart::Gradient(g) => draw_gradient(&body, g),
            Chart::Funnel(f) => draw_funnel(&body, f),
            Chart::Bars(b) => draw_bars(&body, b),
            Chart::Pyramid(p) => draw_pyramid(&body, p),
            Chart::Distribution(d) => draw_distribution(&body, d),
        }
    }

    /// The chart as SVG text, data marks tagged `class="mark"`.
    pub fn svg(&self) -> Result<String> {
        register_font();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(draw_err)?;
        }
        Ok(out.replace(MARK_ATTR, &format!("class=\"mark\" {MARK_ATTR}")))
    }

    /// The chart as PNG bytes, text in the bundled font.
    pub fn png(&self) -> Result<Vec<u8>> {
        register_font();
        let mut buffer = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(draw_err)?;
        }
        let mut png = Vec::new();
        let img = image::RgbImage::from_raw(WIDTH, HEIGHT, buffer)
            .ok_or_else(|| PhmError::Input("chart buffer has the wrong size".into()))?;
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(draw_err)?;
        Ok(png)
    }

    /// Writes `NAME.svg` and `NAME.png` into `dir` (atomically); returns the SVG.
    pub fn write(&self, dir: &Path, name: &str) -> Result<String> {
        std::fs::create_dir_all(dir).map_err(|e| PhmError::write(dir, e))?;
        let svg = self.svg()?;
        let path = dir.join(format!("{name}.svg"));
        crate::output::write_atomic(&path, svg.as_bytes())
            .map_err(|e| PhmError::write(&path, e))?;
        let path = dir.join(format!("{name}.png"));
        crate::output::write_atomic(&path, &self.png()?).map_err(|e| PhmError::write(&path, e))?;
        Ok(svg)
    }
}

/// The legend every chart draws, upper right (the ranges leave room for it).
fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
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
fn wrap(text: &str, width: usize) -> Vec<String> {
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

fn draw_gradient<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, g: &Gradient) -> Result<()> {
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
    legend(&mut chart)
}

fn draw_funnel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, f: &Funnel) -> Result<()> {
    let x_max = f
        .points
        .iter()
        .map(|p| p.denominator)
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
    legend(&mut chart)
}

fn draw_bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, b: &StackedBars) -> Result<()> {
    let n = b.bars.len().max(1);
    let top = b
        .bars
        .iter()
        .map(|(_, v)| v.iter().sum::<f64>())
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
                let below: f64 = v[..s].iter().sum();
                let h = v.get(s).copied().unwrap_or(0.0);
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
    legend(&mut chart)
}

fn draw_pyramid<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Pyramid) -> Result<()> {
    let n = p.bands.len().max(1);
    let max = p
        .population
        .iter()
        .chain(&p.cohort)
        .flat_map(|(f, m)| [*f, *m])
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
                Rectangle::new([(-f, y + 0.1), (0.0, y + 0.9)], mark(&pop).filled()),
                Rectangle::new([(0.0, y + 0.1), (m, y + 0.9)], mark(&pop).filled()),
            ]
        }))
        .map_err(draw_err)?
        .label("registered population")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], pop.filled()));
    let coh = PALETTE[5];
    chart
        .draw_series(p.cohort.iter().enumerate().flat_map(|(i, &(f, m))| {
            let y = i as f64 + 0.5;
            [
                PathElement::new(vec![(-f, y - 0.35), (-f, y + 0.35)], coh.stroke_width(3)),
                PathElement::new(vec![(m, y - 0.35), (m, y + 0.35)], coh.stroke_width(3)),
            ]
        }))
        .map_err(draw_err)?
        .label(p.cohort_label.clone())
        .legend(move |(x, y)| {
            PathElement::new(vec![(x + 7, y - 6), (x + 7, y + 6)], coh.stroke_width(3))
        });
    legend(&mut chart)
}

fn draw_distribution<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Distribution,
) -> Result<()> {
    let (x_lo, x_hi) = padded_range(
        d.lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)),
        true,
    );
    let (_, y_hi) = padded_range(
        d.lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)),
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
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
            .map_err(draw_err)?;
        chart
            .draw_series(
                pts.iter()
                    .map(|&p| Circle::new(p, 4, mark(&colour).filled())),
            )
            .map_err(draw_err)?
            .label(name.clone())
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
    }
    legend(&mut chart)
}

/// Number of `class="mark"` elements of one SVG tag (e.g. "circle").
pub fn count_marks(svg: &str, tag: &str) -> usize {
    svg.split(&format!("<{tag} "))
        .skip(1)
        .filter(|rest| {
            rest.split('>')
                .next()
                .unwrap_or("")
                .contains("class=\"mark\"")
        })
        .count()
}

/// The `<text>` contents of an SVG.
pub fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|rest| {
            let body = rest.split_once('>')?.1;
            Some(body.split("</text>").next()?.trim().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient() -> Chart {
        Chart::Gradient(Gradient {
            title: "Test indicator by deprivation".into(),
            unit: "%".into(),
            group_label: "IMD decile".into(),
            groups: 10,
            points: (1..=10)
                .map(|g| GradientPoint {
                    group: g,
                    value: 20.0 - g as f64,
                    lower95: 18.0 - g as f64,
                    upper95: 22.0 - g as f64,
                })
                .collect(),
            fitted: Some((1..=10).map(|g| (g, 20.0 - g as f64)).collect()),
            footnote: "Reference date 2025-03-31".into(),
        })
    }

    #[test]
    fn png_title_is_drawn_with_the_bundled_font() {
        // The title band (top 28 px) holds only the title text: with no font
        // it would stay white, so dark pixels there prove text was rendered.
        let png = gradient().png().unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (WIDTH, HEIGHT));
        let dark = (0..WIDTH)
            .flat_map(|x| (0..28).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 100))
            .count();
        assert!(dark > 200, "only {dark} dark pixels in the title band");
    }

    #[test]
    fn svg_marks_are_the_data_points_only() {
        let svg = gradient().svg().unwrap();
        // 10 points; 10 whiskers + 1 fitted line as polylines.
        assert_eq!(count_marks(&svg, "circle"), 10);
        assert_eq!(count_marks(&svg, "polyline"), 11);
        assert!(texts(&svg)
            .iter()
            .any(|t| t == "Test indicator by deprivation"));
        assert!(texts(&svg).iter().any(|t| t.contains("1 = most deprived")));
    }

    #[test]
    fn footnotes_wrap_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
    }
}
