//! Charts for the reports, drawn with plotters as SVG (inlined in the HTML)
//! and PNG (for slide decks). Text in PNGs uses DejaVu Sans, compiled into the
//! binary, so a bare machine renders it. Colours are the Okabe–Ito palette,
//! which stays distinguishable with the common colour-vision deficiencies.
//!
//! Every data mark (point, bar, whisker, fitted line) is drawn at opacity 0.9
//! and nothing else is, and the SVG tags those elements `class="mark"`: tests
//! and the browser check count them against the data. A value withheld by
//! disclosure control is drawn as a grey triangle at the axis (opacity 0.6,
//! `class="suppressed"`), labelled in the legend: never as a 0 (rules.md §6.3).
//! The drawing itself is `draw.rs`.

mod draw;

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
/// Opacity of suppressed-value marks, and only of them.
const SUPPRESSED: f64 = 0.6;
/// The SVG attribute plotters writes for [`SUPPRESSED`].
const SUPPRESSED_ATTR: &str = "opacity=\"0.6\"";
/// The legend's name for a suppressed-value mark.
pub const SUPPRESSED_LABEL: &str = "suppressed (disclosure control)";
const FONT: &str = "sans-serif";
const WIDTH: u32 = 900;
const HEIGHT: u32 = 520;

static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
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
    PhmError::Internal(format!("drawing a chart failed: {e:?}"))
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
    /// Groups whose value is suppressed (drawn as marked, not left out silently).
    pub suppressed: Vec<usize>,
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
    /// Areas whose value is suppressed, with their denominator when it is shown
    /// (marked on the axis there) or None (counted in the footnote).
    pub suppressed: Vec<(String, Option<f64>)>,
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
    /// (category, one value per series; None when suppressed).
    pub bars: Vec<(String, Vec<Option<f64>>)>,
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
    /// Percent of the population in each (band, sex): (female, male); None
    /// when the count is suppressed.
    pub population: Vec<(Option<f64>, Option<f64>)>,
    pub cohort: Vec<(Option<f64>, Option<f64>)>,
    pub cohort_label: String,
    pub footnote: String,
}

/// One line of a distribution chart: its label and (x, percent) points.
pub type DistributionLine = (String, Vec<(f64, Option<f64>)>);

/// Distribution lines: share of patients at each x, one line per group.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// (series label, (x, percent) points; None when suppressed).
    pub lines: Vec<DistributionLine>,
    pub footnote: String,
}

/// One indicator's row of a spine chart.
#[derive(Debug, Clone, PartialEq)]
pub struct SpineRow {
    /// The indicator's short name (the row label).
    pub name: String,
    pub benchmark: f64,
    /// Lower is better: the row is turned so that better is to the right.
    pub turned: bool,
    /// Each area's published value (None when suppressed) and its label
    /// against the benchmark (`benchmarks::Label::as_str`).
    pub areas: Vec<(String, Option<f64>, &'static str)>,
}

/// Fingertips' spine chart: per indicator, each area against the benchmark
/// (the centre line), with the range of areas as a bar. Each row is scaled
/// to its furthest area, so rows with different units share one chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Spine {
    pub title: String,
    pub rows: Vec<SpineRow>,
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
    Spine(Spine),
}

impl Chart {
    /// Number of data marks the chart draws (what the tests count).
    pub fn data_points(&self) -> usize {
        let drawn = |v: &Option<f64>| v.is_some_and(|x| x > 0.0);
        match self {
            Chart::Gradient(g) => g.points.len(),
            Chart::Funnel(f) => f.points.len(),
            Chart::Bars(b) => b
                .bars
                .iter()
                .map(|(_, v)| v.iter().filter(|x| drawn(x)).count())
                .sum(),
            Chart::Pyramid(p) => p
                .population
                .iter()
                .map(|(f, m)| usize::from(f.is_some()) + usize::from(m.is_some()))
                .sum(),
            Chart::Distribution(d) => d
                .lines
                .iter()
                .map(|(_, p)| p.iter().filter(|q| q.1.is_some()).count())
                .sum(),
            // A range bar per row with any value, and a dot per value.
            Chart::Spine(s) => s
                .rows
                .iter()
                .map(|r| {
                    let n = r.areas.iter().filter(|a| a.1.is_some()).count();
                    n + usize::from(n > 0)
                })
                .sum(),
        }
    }

    /// Number of suppressed-value marks the chart draws.
    pub fn suppressed_marks(&self) -> usize {
        let none = |v: &Option<f64>| usize::from(v.is_none());
        match self {
            Chart::Gradient(g) => g.suppressed.len(),
            Chart::Funnel(f) => f.suppressed.iter().filter(|s| s.1.is_some()).count(),
            Chart::Bars(b) => b
                .bars
                .iter()
                .map(|(_, v)| v.iter().map(none).sum::<usize>())
                .sum(),
            Chart::Pyramid(p) => p
                .population
                .iter()
                .chain(&p.cohort)
                .map(|(f, m)| none(f) + none(m))
                .sum(),
            Chart::Distribution(d) => d
                .lines
                .iter()
                .map(|(_, p)| p.iter().map(|q| none(&q.1)).sum::<usize>())
                .sum(),
            Chart::Spine(s) => s
                .rows
                .iter()
                .map(|r| r.areas.iter().map(|a| none(&a.1)).sum::<usize>())
                .sum(),
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
            Chart::Spine(s) => &s.title,
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
            Chart::Spine(s) => (&s.title, &s.footnote),
        };
        let (body, foot) = root.split_vertically(HEIGHT - 44);
        for (i, line) in draw::wrap(footnote, 125).iter().take(2).enumerate() {
            foot.draw(&Text::new(
                line.clone(),
                (12, 4 + 18 * i as i32),
                (FONT, 13).into_font().color(&BLACK.mix(0.75)),
            ))
            .map_err(draw_err)?;
        }
        let body = body.titled(title, (FONT, 19)).map_err(draw_err)?;
        match self {
            Chart::Gradient(g) => draw::gradient(&body, g),
            Chart::Funnel(f) => draw::funnel(&body, f),
            Chart::Bars(b) => draw::bars(&body, b),
            Chart::Pyramid(p) => draw::pyramid(&body, p),
            Chart::Distribution(d) => draw::distribution(&body, d),
            Chart::Spine(s) => draw::spine(&body, s),
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
        Ok(out
            .replace(MARK_ATTR, &format!("class=\"mark\" {MARK_ATTR}"))
            .replace(
                SUPPRESSED_ATTR,
                &format!("class=\"suppressed\" {SUPPRESSED_ATTR}"),
            ))
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
            .ok_or_else(|| PhmError::Internal("chart buffer has the wrong size".into()))?;
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

/// Number of `class="suppressed"` elements of an SVG.
pub fn count_suppressed(svg: &str) -> usize {
    svg.matches("class=\"suppressed\"").count()
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
            suppressed: Vec::new(),
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
        assert_eq!(draw::wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(draw::wrap("", 5), Vec::<String>::new());
    }

    #[test]
    fn suppressed_values_are_marked_never_drawn_as_zero() {
        let bars = Chart::Bars(StackedBars {
            title: "t".into(),
            y_label: "y".into(),
            series: vec!["a".into(), "b".into()],
            bars: vec![
                ("U1".into(), vec![Some(10.0), None]),
                ("U2".into(), vec![None, Some(5.0)]),
            ],
            markers: None,
            target: None,
            footnote: String::new(),
        });
        let svg = bars.svg().unwrap();
        assert_eq!(bars.data_points(), 2);
        assert_eq!(count_marks(&svg, "rect"), 2);
        assert_eq!(bars.suppressed_marks(), 2);
        assert_eq!(count_suppressed(&svg), 2);
        assert!(texts(&svg).iter().any(|t| t == SUPPRESSED_LABEL));
        // A chart with nothing suppressed has no such marks or legend entry.
        let svg = gradient().svg().unwrap();
        assert_eq!(count_suppressed(&svg), 0);
        assert!(!texts(&svg).iter().any(|t| t == SUPPRESSED_LABEL));
        let mut g = gradient();
        if let Chart::Gradient(g) = &mut g {
            g.points.retain(|p| p.group != 3);
            g.suppressed = vec![3];
        }
        let svg = g.svg().unwrap();
        assert_eq!(count_marks(&svg, "circle"), 9);
        assert_eq!(count_suppressed(&svg), 1);
    }

    #[test]
    fn a_spine_draws_a_bar_per_row_and_a_dot_per_area() {
        let spine = Chart::Spine(Spine {
            title: "Against England".into(),
            rows: vec![
                SpineRow {
                    name: "hypertension".into(),
                    benchmark: 15.0,
                    turned: false,
                    areas: vec![
                        ("P1".into(), Some(12.0), "Lower"),
                        ("P2".into(), Some(16.0), "Similar"),
                        ("P3".into(), None, SUPPRESSED_LABEL),
                    ],
                },
                SpineRow {
                    name: "ae_attendances".into(),
                    benchmark: 300.0,
                    turned: true,
                    areas: vec![("P1".into(), Some(350.0), "Worse")],
                },
                // Every area suppressed: no bar, no dot.
                SpineRow {
                    name: "frailty".into(),
                    benchmark: 5.0,
                    turned: false,
                    areas: vec![("P1".into(), None, SUPPRESSED_LABEL)],
                },
            ],
            footnote: "f".into(),
        });
        let svg = spine.svg().unwrap();
        assert_eq!(spine.data_points(), 5);
        assert_eq!(count_marks(&svg, "rect"), 2);
        assert_eq!(count_marks(&svg, "circle"), 3);
        assert_eq!(count_suppressed(&svg), 2);
        assert_eq!(spine.suppressed_marks(), 2);
        let texts = texts(&svg);
        for name in [
            "hypertension",
            "ae_attendances",
            "frailty",
            "Lower",
            "Worse",
            "Similar",
        ] {
            assert!(
                texts.iter().any(|t| t == name),
                "{name} not drawn: {texts:?}"
            );
        }
    }
}
