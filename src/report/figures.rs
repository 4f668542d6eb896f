//! Builds each report chart from numbers already resolved for its reader
//! (published, or a PCN's own exact ones: see `views.rs`): pure functions,
//! so the tests can check what is drawn against the data. A value that is
//! suppressed stays `None` here and is drawn as marked, never as 0.

use std::collections::BTreeMap;

use crate::analysis::benchmarks::BenchmarkRow;
use crate::analysis::compare::Comparison;
use crate::analysis::disclosure::NOTE_SUPPRESSED;
use crate::analysis::indicators::{Indicator, Polarity};
use crate::analysis::inequalities::{GroupType, SiiRow};
use crate::analysis::published::Figures;
use crate::analysis::tallies::AreaType;
use crate::charts::{
    Chart, Distribution, Funnel, FunnelPoint, Gradient, GradientPoint, Pyramid, Spine, SpineRow,
    StackedBars,
};
use crate::stats::{self, SiiGroup};

use super::shared::{BandSex, PYRAMID_BANDS};

/// The pyramid's band labels.
pub const PYRAMID_LABELS: [&str; PYRAMID_BANDS] = [
    "0–9", "10–19", "20–29", "30–39", "40–49", "50–59", "60–69", "70–79", "80–89", "90+",
];

/// Deprivation gradient of one area: `points` (group 1 first) as the reader
/// may see them, and the SII's fitted line through `fit` (the figures the
/// published SII was fitted on) when the SII was computed on this grouping.
pub fn gradient(
    ind: &Indicator,
    by: GroupType,
    points: &[Figures],
    fit: &[Figures],
    sii: Option<&SiiRow>,
    area_code: &str,
    footnote: String,
) -> Option<Chart> {
    let mut drawn = Vec::new();
    let mut suppressed = Vec::new();
    for (j, f) in points.iter().enumerate() {
        match &f.estimate {
            Some(e) => drawn.push(GradientPoint {
                group: j + 1,
                value: e.value,
                lower95: e.lower95,
                upper95: e.upper95,
            }),
            None if f.note.as_deref() == Some(NOTE_SUPPRESSED) => suppressed.push(j + 1),
            None => {}
        }
    }
    if drawn.is_empty() && suppressed.is_empty() {
        return None;
    }
    let computed = sii.filter(|s| s.sii.is_some() && s.group_type == by);
    let note = match sii {
        Some(s) if s.sii.is_some() => format!(
            "SII {:.2} {} (95% CI {:.2} to {:.2}); positive = higher among the more deprived.",
            s.sii.unwrap_or_default(),
            ind.unit(),
            s.sii_lower95.unwrap_or(f64::NAN),
            s.sii_upper95.unwrap_or(f64::NAN)
        ),
        Some(s) => format!("SII not computed: {}.", s.note.clone().unwrap_or_default()),
        None => String::new(),
    };
    Some(Chart::Gradient(Gradient {
        title: format!("{} by deprivation — {area_code}", ind.title),
        unit: ind.unit(),
        group_label: match by {
            GroupType::Decile => "IMD decile".into(),
            GroupType::Quintile => "IMD quintile".into(),
            GroupType::LocalQuintile => "local deprivation quintile".into(),
        },
        groups: by.groups(),
        points: drawn,
        suppressed,
        fitted: computed.and_then(|_| fitted_line(ind, fit)),
        footnote: format!("{footnote} {note}").trim().to_string(),
    }))
}

/// The SII regression's fitted value at each group's mid-point rank.
fn fitted_line(ind: &Indicator, fit: &[Figures]) -> Option<Vec<(usize, f64)>> {
    let m = ind.multiplier;
    let groups: Vec<SiiGroup> = fit
        .iter()
        .map(|f| {
            let e = f.estimate.as_ref()?;
            Some(SiiGroup {
                value: e.value / m,
                lower95: e.lower95 / m,
                upper95: e.upper95 / m,
                population: f.denominator? as f64,
            })
        })
        .collect::<Option<_>>()?;
    let fit = stats::sii_fit(&groups).ok()?;
    let total: f64 = groups.iter().map(|g| g.population).sum();
    let mut cum = 0.0;
    let mut out = Vec::new();
    for (j, g) in groups.iter().enumerate() {
        let a = g.population / total;
        let b = cum + a / 2.0;
        cum += a;
        out.push((j + 1, (fit.alpha + fit.beta * b) * m));
    }
    Some(out)
}

/// Funnel plot of a comparison; an area whose value is suppressed is marked
/// at its published denominator, or counted in the footnote.
pub fn funnel(c: &Comparison, highlight: Option<&str>, footnote: String) -> Chart {
    let mut points = Vec::new();
    let mut suppressed = Vec::new();
    for r in &c.funnel {
        match (r.value, r.denominator) {
            (Some(value), Some(n)) => points.push(FunnelPoint {
                code: r.area_code.clone(),
                denominator: n as f64,
                value,
                outlier: r.significance.is_some_and(|s| s.beyond_998()),
            }),
            (_, n) => suppressed.push((r.area_code.clone(), n.map(|n| n as f64))),
        }
    }
    let unplaced = suppressed.iter().filter(|s| s.1.is_none()).count();
    let extra = if unplaced > 0 {
        format!(" {unplaced} area(s) not drawn: counts suppressed.")
    } else {
        String::new()
    };
    Chart::Funnel(Funnel {
        title: format!(
            "{} — {}s compared",
            c.indicator.title,
            c.level.as_str().to_uppercase()
        ),
        unit: c.indicator.unit(),
        x_label: "Denominator (patients)".into(),
        points,
        suppressed,
        average: c.funnel.first().map(|r| r.average).unwrap_or(0.0),
        limits: c
            .limits
            .iter()
            .map(|l| (l.denominator, l.lower95, l.upper95, l.lower998, l.upper998))
            .collect(),
        highlight: highlight.map(str::to_string),
        footnote: format!("{footnote} Labelled: beyond the 99.8% limits.{extra}"),
    })
}

/// One PCN's bar of the need-vs-capacity chart.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityBar {
    pub pcn_code: String,
    pub proposed: Option<i64>,
    /// High-need patients not offered in the period.
    pub waiting: Option<i64>,
    pub capacity: u64,
}

/// High-need patients per PCN split into proposed and waiting, capacity marked.
pub fn need_vs_capacity(bars: &[CapacityBar], footnote: String) -> Chart {
    let f = |n: Option<i64>| n.map(|n| n as f64);
    Chart::Bars(StackedBars {
        title: "High-need patients and link-worker capacity per PCN".into(),
        y_label: "Patients".into(),
        series: vec!["proposed".into(), "waiting".into()],
        bars: bars
            .iter()
            .map(|b| (b.pcn_code.clone(), vec![f(b.proposed), f(b.waiting)]))
            .collect(),
        markers: Some((
            "capacity in the period".into(),
            bars.iter().map(|b| b.capacity as f64).collect(),
        )),
        target: None,
        footnote,
    })
}

/// Segment mix of the proposed cohort per PCN (counts in the order of `segments`).
pub fn segment_mix(
    segments: &[String],
    rows: &[(String, Vec<Option<i64>>)],
    footnote: String,
) -> Chart {
    Chart::Bars(StackedBars {
        title: "Proposed cohort by segment per PCN".into(),
        y_label: "Patients proposed".into(),
        series: segments.iter().map(|s| s.replace('_', " ")).collect(),
        bars: rows
            .iter()
            .map(|(pcn, v)| (pcn.clone(), v.iter().map(|n| n.map(|n| n as f64)).collect()))
            .collect(),
        markers: None,
        target: None,
        footnote,
    })
}

/// Social-prescribing referrals per 1,000 registered patients per PCN, with the target.
pub fn referrals(
    rows: &[(String, Option<f64>)],
    target: f64,
    activity_months: u32,
    footnote: String,
) -> Chart {
    Chart::Bars(StackedBars {
        title: format!(
            "Patients referred to social prescribing in {activity_months} months, per 1,000 registered"
        ),
        y_label: "Per 1,000 patients".into(),
        series: vec!["referred per 1,000".into()],
        bars: rows.iter().map(|(pcn, v)| (pcn.clone(), vec![*v])).collect(),
        markers: None,
        target: Some((format!("target {target} per 1,000"), target)),
        footnote,
    })
}

/// Percent of each (band, sex) cell among the shown cells of a table.
fn shares(t: &BandSex<Option<i64>>) -> Vec<(Option<f64>, Option<f64>)> {
    let total: i64 = t.iter().flatten().flatten().sum();
    let pct = |n: Option<i64>| {
        n.map(|n| {
            if total > 0 {
                n as f64 * 100.0 / total as f64
            } else {
                0.0
            }
        })
    };
    t.iter().map(|b| (pct(b[0]), pct(b[1]))).collect()
}

/// Age–sex pyramid of the proposed cohort against the registered population,
/// as percentages of each group's shown counts.
pub fn pyramid(
    population: &BandSex<Option<i64>>,
    cohort: &BandSex<Option<i64>>,
    scope: &str,
    footnote: String,
) -> Chart {
    Chart::Pyramid(Pyramid {
        title: format!(
            "Age and sex of the proposed cohort against the registered population — {scope}"
        ),
        bands: PYRAMID_LABELS.iter().map(|s| s.to_string()).collect(),
        population: shares(population),
        cohort: shares(cohort),
        cohort_label: "proposed cohort".into(),
        footnote,
    })
}

/// Share of eligible adults at each need score, one line per IMD quintile
/// (shares of each quintile's shown counts).
pub fn need_distribution(
    cells: &BTreeMap<(i32, i32), Option<i64>>,
    scope: &str,
    footnote: String,
) -> Chart {
    let mut by_q: BTreeMap<i32, Vec<(i32, Option<i64>)>> = BTreeMap::new();
    for (&(q, score), &n) in cells {
        by_q.entry(q).or_default().push((score, n));
    }
    let lines = by_q
        .into_iter()
        .filter_map(|(q, scores)| {
            let total: i64 = scores.iter().filter_map(|s| s.1).sum();
            (total > 0).then(|| {
                let label = match q {
                    1 => "quintile 1 (most deprived)".to_string(),
                    5 => "quintile 5 (least deprived)".to_string(),
                    q => format!("quintile {q}"),
                };
                (
                    label,
                    scores
                        .into_iter()
                        .map(|(s, n)| (s as f64, n.map(|n| n as f64 * 100.0 / total as f64)))
                        .collect(),
                )
            })
        })
        .collect();
    Chart::Distribution(Distribution {
        title: format!("Unmet-need score of eligible adults by IMD quintile — {scope}"),
        x_label: "need_score (points)".into(),
        y_label: "% of eligible adults in the quintile".into(),
        lines,
        footnote,
    })
}

/// The benchmark each indicator's spine row uses: its first in the file.
pub fn spine_benchmark<'a>(rows: &'a [BenchmarkRow], indicator: &str) -> Option<&'a str> {
    rows.iter()
        .find(|r| r.indicator == indicator)
        .map(|r| r.benchmark.as_str())
}

/// The spine chart: per indicator (in `indicators` order) every PCN's
/// published value against the indicator's first benchmark, None when no
/// indicator has a benchmark.
pub fn spine(indicators: &[Indicator], rows: &[BenchmarkRow], footnote: String) -> Option<Chart> {
    let spine_rows: Vec<SpineRow> = indicators
        .iter()
        .filter_map(|ind| {
            let name = spine_benchmark(rows, &ind.name)?;
            let of_pcns: Vec<&BenchmarkRow> = rows
                .iter()
                .filter(|r| {
                    r.indicator == ind.name && r.benchmark == name && r.area_type == AreaType::Pcn
                })
                .collect();
            Some(SpineRow {
                name: ind.name.clone(),
                benchmark: of_pcns.first()?.benchmark_value,
                turned: ind.polarity == Polarity::LowerIsBetter,
                areas: of_pcns
                    .iter()
                    .map(|r| (r.area_code.clone(), r.value, r.label.as_str()))
                    .collect(),
            })
        })
        .collect();
    if spine_rows.is_empty() {
        return None;
    }
    Some(Chart::Spine(Spine {
        title: "PCNs against the benchmark, per indicator".into(),
        rows: spine_rows,
        footnote,
    }))
}
