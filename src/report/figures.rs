//! Builds each report chart from the computed tables: pure functions, so the
//! tests can check what is drawn against the data.

use std::collections::BTreeMap;

use crate::charts::{
    Chart, Distribution, Funnel, FunnelPoint, Gradient, GradientPoint, Pyramid, StackedBars,
};
use crate::compare::Comparison;
use crate::disclosure::Disclosure;
use crate::indicators::Indicator;
use crate::inequalities::{GroupType, InequalityRow, SiiRow};
use crate::proposals::{PcnSummary, ProposalRow, Segment, Status};
use crate::stats::{self, SiiGroup};

/// The pyramid's 10-year bands (population.sql's age_band 0..=9).
pub const PYRAMID_BANDS: [&str; 10] = [
    "0–9", "10–19", "20–29", "30–39", "40–49", "50–59", "60–69", "70–79", "80–89", "90+",
];

/// Registered patients of a PCN by sex and 10-year band.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationCell {
    pub pcn_code: String,
    pub sex: String,
    pub age_band: usize,
    pub patients: i64,
}

/// Eligible adults by PCN, IMD quintile and need score.
#[derive(Debug, Clone, PartialEq)]
pub struct NeedScoreCell {
    pub pcn_code: String,
    pub imd_quintile: Option<i32>,
    pub need_score: i32,
    pub patients: i64,
}

/// Deprivation gradient of one area: points from `shown` (disclosure
/// applied), the SII line fitted on the unrounded `exact` rows when the SII
/// was computed on the same grouping.
pub fn gradient(
    ind: &Indicator,
    shown: &[InequalityRow],
    exact: &[InequalityRow],
    sii: Option<&SiiRow>,
    area_code: &str,
    footnote: String,
) -> Option<Chart> {
    let mine = |rows: &[InequalityRow]| -> Vec<InequalityRow> {
        rows.iter()
            .filter(|r| r.indicator == ind.name && r.area_code == area_code)
            .cloned()
            .collect()
    };
    let (shown, exact) = (mine(shown), mine(exact));
    let by = shown.first()?.group_type;
    let points: Vec<GradientPoint> = shown
        .iter()
        .filter_map(|r| {
            Some(GradientPoint {
                group: r.group.parse().ok()?,
                value: r.value?,
                lower95: r.lower95?,
                upper95: r.upper95?,
            })
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    let fitted = sii
        .filter(|s| s.sii.is_some() && s.group_type == by)
        .and_then(|_| fitted_line(ind, &exact));
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
        },
        groups: by.groups(),
        points,
        fitted: fitted.filter(|_| sii.and_then(|s| s.sii).is_some()),
        footnote: format!("{footnote} {note}").trim().to_string(),
    }))
}

/// The SII regression's fitted value at each group, from unrounded rows.
fn fitted_line(ind: &Indicator, exact: &[InequalityRow]) -> Option<Vec<(usize, f64)>> {
    let m = ind.multiplier;
    let mut groups = Vec::new();
    for r in exact.iter().filter(|r| r.group.parse::<usize>().is_ok()) {
        groups.push(SiiGroup {
            value: r.value? / m,
            lower95: r.lower95? / m,
            upper95: r.upper95? / m,
            population: r.denominator? as f64,
        });
    }
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

/// Significance labels beyond the 99.8% limits.
pub fn is_outlier(significance: &str) -> bool {
    significance.ends_with("(0.001)")
}

/// Funnel plot of a comparison; areas with a suppressed value are left out
/// and counted in the footnote.
pub fn funnel(c: &Comparison, highlight: Option<&str>, footnote: String) -> Chart {
    let mut hidden = 0;
    let points = c
        .funnel
        .iter()
        .filter_map(|r| {
            let p = (|| {
                Some(FunnelPoint {
                    code: r.area_code.clone(),
                    denominator: r.denominator? as f64,
                    value: r.value?,
                    outlier: is_outlier(r.significance),
                })
            })();
            if p.is_none() {
                hidden += 1;
            }
            p
        })
        .collect();
    let extra = if hidden > 0 {
        format!(" {hidden} area(s) not drawn: value suppressed.")
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

/// High-need patients per PCN split into proposed and waiting, capacity marked.
pub fn need_vs_capacity(
    summaries: &[PcnSummary],
    disclosure: Disclosure,
    footnote: String,
) -> Chart {
    let shown = |n: u64| disclosure.count(n as i64).unwrap_or(0) as f64;
    Chart::Bars(StackedBars {
        title: "High-need patients and link-worker capacity per PCN".into(),
        y_label: "Patients".into(),
        series: vec!["proposed".into(), "waiting".into()],
        bars: summaries
            .iter()
            .map(|s| {
                (
                    s.pcn_code.clone(),
                    vec![shown(s.proposed), shown(s.waiting)],
                )
            })
            .collect(),
        markers: Some((
            "capacity in the period".into(),
            summaries.iter().map(|s| s.capacity as f64).collect(),
        )),
        target: None,
        footnote,
    })
}

/// Segment mix of the proposed cohort per PCN.
pub fn segment_mix(
    summaries: &[PcnSummary],
    rows: &[ProposalRow],
    disclosure: Disclosure,
    footnote: String,
) -> Chart {
    let mut counts: BTreeMap<(&str, Segment), i64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.status == Status::Proposed) {
        *counts
            .entry((r.candidate.pcn_code.as_str(), r.segment))
            .or_default() += 1;
    }
    Chart::Bars(StackedBars {
        title: "Proposed cohort by segment per PCN".into(),
        y_label: "Patients proposed".into(),
        series: Segment::ALL
            .iter()
            .map(|s| s.name().replace('_', " "))
            .collect(),
        bars: summaries
            .iter()
            .map(|s| {
                let v = Segment::ALL
                    .iter()
                    .map(|seg| {
                        let n = counts
                            .get(&(s.pcn_code.as_str(), *seg))
                            .copied()
                            .unwrap_or(0);
                        disclosure.count(n).unwrap_or(0) as f64
                    })
                    .collect();
                (s.pcn_code.clone(), v)
            })
            .collect(),
        markers: None,
        target: None,
        footnote,
    })
}

/// Social-prescribing referrals per 1,000 registered patients per PCN, with the target.
pub fn referrals(summaries: &[PcnSummary], disclosure: Disclosure, footnote: String) -> Chart {
    let target = summaries
        .first()
        .map(|s| s.target_per_1000.to_string().parse::<f64>().unwrap_or(0.0))
        .unwrap_or(0.0);
    Chart::Bars(StackedBars {
        title: "Patients referred to social prescribing in 12 months, per 1,000 registered".into(),
        y_label: "Per 1,000 patients".into(),
        series: vec!["referred per 1,000".into()],
        bars: summaries
            .iter()
            .map(|s| {
                let v = if disclosure.suppresses(s.sp_referred_12m as i64) {
                    0.0
                } else {
                    s.sp_referred_per_1000
                };
                (s.pcn_code.clone(), vec![v])
            })
            .collect(),
        markers: None,
        target: Some((format!("target {target} per 1,000"), target)),
        footnote,
    })
}

/// Age–sex pyramid of the proposed cohort against the registered population
/// (`pcn` = None for the whole ICB), as percentages of each group.
pub fn pyramid(
    population: &[PopulationCell],
    rows: &[ProposalRow],
    pcn: Option<&str>,
    disclosure: Disclosure,
    footnote: String,
) -> Chart {
    let in_scope = |code: &str| pcn.is_none_or(|p| p == code);
    let mut pop = [[0i64; 2]; 10];
    for c in population.iter().filter(|c| in_scope(&c.pcn_code)) {
        if let Some(s) = sex_index(&c.sex) {
            pop[c.age_band.min(9)][s] += c.patients;
        }
    }
    let mut coh = [[0i64; 2]; 10];
    for r in rows
        .iter()
        .filter(|r| r.status == Status::Proposed && in_scope(&r.candidate.pcn_code))
    {
        if let Some(s) = sex_index(&r.candidate.sex) {
            let band = (r.candidate.age.max(0) / 10).min(9) as usize;
            coh[band][s] += 1;
        }
    }
    let shares = |t: &[[i64; 2]; 10]| -> Vec<(f64, f64)> {
        let shown: Vec<[i64; 2]> = t
            .iter()
            .map(|b| b.map(|n| disclosure.count(n).unwrap_or(0)))
            .collect();
        let total: i64 = shown.iter().flatten().sum();
        let pct = |n: i64| {
            if total > 0 {
                n as f64 * 100.0 / total as f64
            } else {
                0.0
            }
        };
        shown.iter().map(|b| (pct(b[0]), pct(b[1]))).collect()
    };
    Chart::Pyramid(Pyramid {
        title: format!(
            "Age and sex of the proposed cohort against the registered population — {}",
            pcn.unwrap_or("all PCNs")
        ),
        bands: PYRAMID_BANDS.iter().map(|s| s.to_string()).collect(),
        population: shares(&pop),
        cohort: shares(&coh),
        cohort_label: "proposed cohort".into(),
        footnote,
    })
}

/// Female first, male second; other sexes are not drawn on a two-sided pyramid.
fn sex_index(sex: &str) -> Option<usize> {
    match sex {
        "F" => Some(0),
        "M" => Some(1),
        _ => None,
    }
}

/// Share of eligible adults at each need score, one line per IMD quintile.
pub fn need_distribution(
    cells: &[NeedScoreCell],
    pcn: Option<&str>,
    disclosure: Disclosure,
    footnote: String,
) -> Chart {
    let mut by_q: BTreeMap<i32, BTreeMap<i32, i64>> = BTreeMap::new();
    for c in cells.iter().filter(|c| pcn.is_none_or(|p| p == c.pcn_code)) {
        if let Some(q) = c.imd_quintile {
            *by_q.entry(q).or_default().entry(c.need_score).or_default() += c.patients;
        }
    }
    let lines = by_q
        .into_iter()
        .filter_map(|(q, scores)| {
            let shown: Vec<(i32, i64)> = scores
                .into_iter()
                .map(|(s, n)| (s, disclosure.count(n).unwrap_or(0)))
                .collect();
            let total: i64 = shown.iter().map(|x| x.1).sum();
            (total > 0).then(|| {
                let label = match q {
                    1 => "quintile 1 (most deprived)".to_string(),
                    5 => "quintile 5 (least deprived)".to_string(),
                    q => format!("quintile {q}"),
                };
                (
                    label,
                    shown
                        .into_iter()
                        .map(|(s, n)| (s as f64, n as f64 * 100.0 / total as f64))
                        .collect(),
                )
            })
        })
        .collect();
    Chart::Distribution(Distribution {
        title: format!(
            "Unmet-need score of eligible adults by IMD quintile — {}",
            pcn.unwrap_or("all PCNs")
        ),
        x_label: "need_score (points)".into(),
        y_label: "% of eligible adults in the quintile".into(),
        lines,
        footnote,
    })
}
