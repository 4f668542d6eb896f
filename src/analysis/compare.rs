//! `phm compare`: one indicator across PCNs or practices as funnel-plot data
//! and a league table (metrics.md §6–7), for ICB teams comparing networks.
//! Every value, limit, average and significance label is computed from the
//! counts as published (rules.md §6.2), so a funnel position gives no count
//! away that the published counts do not; an area whose counts are
//! suppressed is listed with its value and label suppressed.

use std::path::Path;

use serde::{Serialize, Serializer};

use super::indicators::{Indicator, Measure};
use super::inequalities::write_pair;
use super::published::{published_figures, PublishedCounts};
use super::tallies::{AreaType, Group, Tallies};
use crate::error::{PhmError, Result};
use crate::stats::{self, RateFunnelArea, RateKind, Significance, LEVELS};

/// The label written for an area whose counts are suppressed.
pub const SUPPRESSED_LABEL: &str = "suppressed (disclosure control)";

/// An area's funnel label as written: the package's label, or suppressed.
fn label<S: Serializer>(s: &Option<Significance>, out: S) -> std::result::Result<S::Ok, S::Error> {
    out.serialize_str(s.map_or(SUPPRESSED_LABEL, Significance::as_str))
}

/// A row of `funnel.csv` (metrics.md §7).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelRow {
    pub indicator: String,
    pub level: AreaType,
    pub area_code: String,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub value: Option<f64>,
    /// The overall value Σx/Σn × m of the published counts (the centre line).
    pub average: f64,
    /// Control limits at this area's published denominator.
    pub lower95: Option<f64>,
    pub upper95: Option<f64>,
    pub lower998: Option<f64>,
    pub upper998: Option<f64>,
    /// None when the area's counts are suppressed.
    #[serde(serialize_with = "label")]
    pub significance: Option<Significance>,
}

/// A row of `league.csv`: areas ranked by value, highest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeagueRow {
    pub indicator: String,
    pub rank: usize,
    pub area_code: String,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub value: Option<f64>,
    /// The area's own 95% interval.
    pub lower95: Option<f64>,
    pub upper95: Option<f64>,
    #[serde(serialize_with = "label")]
    pub significance: Option<Significance>,
    pub note: Option<String>,
}

/// A point of the drawn limit lines (`funnel_limits.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LimitPoint {
    pub denominator: f64,
    pub average: f64,
    pub lower95: f64,
    pub upper95: f64,
    pub lower998: f64,
    pub upper998: f64,
}

/// What `phm compare` writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub indicator: Indicator,
    pub level: AreaType,
    pub funnel: Vec<FunnelRow>,
    pub league: Vec<LeagueRow>,
    pub limits: Vec<LimitPoint>,
    /// Areas left out because nobody is in the indicator's denominator.
    pub empty_areas: Vec<String>,
}

/// One area's figures as published, when none is suppressed.
struct AreaFigures {
    code: String,
    numerator: i64,
    denominator: i64,
    estimate: stats::Estimate,
    /// The population the funnel compares against: n, or m·O/DSR for a DSR.
    funnel_denominator: f64,
}

/// The event count at which an area of expected count `expected` sits on a
/// rate funnel line: the x whose exact/Byar `limit` equals `expected`
/// (bisection; count limits grow with x). This is the inverse of the test
/// `rate_funnel_significance` applies, so areas beyond the line are exactly
/// those it labels.
fn count_on_line(expected: f64, c: f64, lower_limit: bool) -> Result<f64> {
    let limit = |x: f64| -> Result<f64> {
        let (l, u) = if x < 10.0 {
            (stats::exact_lower(x, c)?, stats::exact_upper(x, c)?)
        } else {
            (stats::byar_lower(x, c)?, stats::byar_upper(x, c)?)
        };
        Ok(if lower_limit { l } else { u })
    };
    if limit(0.0)? >= expected {
        return Ok(0.0);
    }
    let (mut lo, mut hi) = (0.0, expected.max(1.0) * 2.0 + 50.0);
    while limit(hi)? < expected {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if limit(mid)? < expected {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-9 * hi.max(1.0) {
            break;
        }
    }
    Ok((lo + hi) / 2.0)
}

/// Rate control limits (per multiplier) for an area of population n around av.
fn rate_limits_at(n: f64, av: f64, m: f64) -> Result<[f64; 4]> {
    let e = av * n;
    let at = |c, lower| count_on_line(e, c, lower).map(|x| x / n * m);
    // Low line: the count whose upper limit reaches the expected count;
    // High line: the count whose lower limit does.
    Ok([
        at(LEVELS[0], false)?,
        at(LEVELS[0], true)?,
        at(LEVELS[1], false)?,
        at(LEVELS[1], true)?,
    ])
}

fn stats_err(ind: &Indicator) -> impl Fn(stats::StatsError) -> PhmError + '_ {
    move |e| PhmError::Input(format!("indicator `{}`: {e}", ind.name))
}

/// An area whose counts are suppressed: listed, nothing computed.
struct Hidden {
    code: String,
    numerator: Option<i64>,
    denominator: Option<i64>,
}

/// The areas of a level sorted into those with figures, those whose counts
/// are suppressed, and those with nobody in the denominator.
struct Sorted {
    shown: Vec<AreaFigures>,
    hidden: Vec<Hidden>,
    empty: Vec<String>,
}

fn sort_areas(
    tallies: &Tallies,
    published: &PublishedCounts,
    k: usize,
    level: AreaType,
) -> Result<Sorted> {
    let ind = &tallies.indicators[k];
    let mut out = Sorted {
        shown: Vec::new(),
        hidden: Vec::new(),
        empty: Vec::new(),
    };
    for code in tallies.geography.codes(level) {
        let area = (level, code.clone());
        let f = published_figures(tallies, published, k, &area, Group::All)?;
        match (f.numerator, f.denominator, f.estimate) {
            (Some(x), Some(n), Some(estimate)) if n > 0 => {
                let funnel_denominator = if ind.standardised {
                    stats::dsr_equivalent_denominator(x as f64, estimate.value, ind.multiplier)
                        .unwrap_or(n as f64)
                } else {
                    n as f64
                };
                out.shown.push(AreaFigures {
                    code,
                    numerator: x,
                    denominator: n,
                    estimate,
                    funnel_denominator,
                })
            }
            (_, Some(0), _) => out.empty.push(code),
            (x, n, _) => out.hidden.push(Hidden {
                code,
                numerator: x,
                denominator: n,
            }),
        }
    }
    Ok(out)
}

/// The funnel and league rows of an area with figures.
fn shown_rows(
    ind: &Indicator,
    level: AreaType,
    a: &AreaFigures,
    average: f64,
    (lims, sig): &Judged,
) -> (FunnelRow, LeagueRow) {
    let funnel = FunnelRow {
        indicator: ind.name.clone(),
        level,
        area_code: a.code.clone(),
        numerator: Some(a.numerator),
        denominator: Some(a.denominator),
        value: Some(a.estimate.value),
        average,
        lower95: Some(lims[0]),
        upper95: Some(lims[1]),
        lower998: Some(lims[2]),
        upper998: Some(lims[3]),
        significance: Some(*sig),
    };
    let league = LeagueRow {
        indicator: ind.name.clone(),
        rank: 0,
        area_code: a.code.clone(),
        numerator: Some(a.numerator),
        denominator: Some(a.denominator),
        value: Some(a.estimate.value),
        lower95: Some(a.estimate.lower95),
        upper95: Some(a.estimate.upper95),
        significance: Some(*sig),
        note: None,
    };
    (funnel, league)
}

/// The funnel and league rows of an area whose counts are suppressed.
fn hidden_rows(
    ind: &Indicator,
    level: AreaType,
    h: &Hidden,
    average: f64,
) -> (FunnelRow, LeagueRow) {
    let funnel = FunnelRow {
        indicator: ind.name.clone(),
        level,
        area_code: h.code.clone(),
        numerator: h.numerator,
        denominator: h.denominator,
        value: None,
        average,
        lower95: None,
        upper95: None,
        lower998: None,
        upper998: None,
        significance: None,
    };
    let league = LeagueRow {
        indicator: ind.name.clone(),
        rank: 0,
        area_code: h.code.clone(),
        numerator: h.numerator,
        denominator: h.denominator,
        value: None,
        lower95: None,
        upper95: None,
        significance: None,
        note: Some(super::disclosure::NOTE_SUPPRESSED.to_string()),
    };
    (funnel, league)
}

/// Highest value first; suppressed values last; ties by code; then ranks.
fn rank(league: &mut [LeagueRow]) {
    league.sort_by(|a, b| match (a.value, b.value) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.area_code.cmp(&b.area_code)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.area_code.cmp(&b.area_code),
    });
    for (i, r) in league.iter_mut().enumerate() {
        r.rank = i + 1;
    }
}

/// Funnel and league table of indicator `k` at `level`, from the published counts.
pub fn compare(
    tallies: &Tallies,
    published: &PublishedCounts,
    k: usize,
    level: AreaType,
) -> Result<Comparison> {
    let ind = &tallies.indicators[k];
    let sorted = sort_areas(tallies, published, k, level)?;
    if sorted.shown.is_empty() {
        return Err(PhmError::Input(format!(
            "indicator `{}`: no {} has a value to compare",
            ind.name,
            level.as_str()
        )));
    }
    let (average, points) = judge(ind, &sorted.shown)?;
    let limits = limit_lines(ind, &sorted.shown, average / ind.multiplier)?;
    let (mut funnel, mut league): (Vec<FunnelRow>, Vec<LeagueRow>) = sorted
        .shown
        .iter()
        .zip(&points)
        .map(|(a, judged)| shown_rows(ind, level, a, average, judged))
        .chain(
            sorted
                .hidden
                .iter()
                .map(|h| hidden_rows(ind, level, h, average)),
        )
        .unzip();
    funnel.sort_by(|a, b| a.area_code.cmp(&b.area_code));
    rank(&mut league);
    Ok(Comparison {
        indicator: ind.clone(),
        level,
        funnel,
        league,
        limits,
        empty_areas: sorted.empty,
    })
}

/// An area's control limits (lower95, upper95, lower998, upper998) and label.
type Judged = ([f64; 4], Significance);

/// The funnel's centre (× m) and each area's limits at its denominator and label.
fn judge(ind: &Indicator, areas: &[AreaFigures]) -> Result<(f64, Vec<Judged>)> {
    let m = ind.multiplier;
    match ind.measure {
        Measure::Proportion => {
            let xn: Vec<(f64, f64)> = areas
                .iter()
                .map(|a| (a.numerator as f64, a.denominator as f64))
                .collect();
            let (av, pts) =
                stats::proportion_funnel_significance(&xn, m).map_err(stats_err(ind))?;
            let points = pts
                .iter()
                .map(|p| {
                    (
                        [p.lower95, p.upper95, p.lower998, p.upper998],
                        p.significance,
                    )
                })
                .collect();
            Ok((av * m, points))
        }
        Measure::Rate => {
            let kind = if ind.standardised {
                RateKind::Dsr
            } else {
                RateKind::Crude
            };
            let rate_areas: Vec<RateFunnelArea> = areas
                .iter()
                .map(|a| RateFunnelArea {
                    events: a.numerator as f64,
                    denominator: Some(a.funnel_denominator),
                })
                .collect();
            let (av, pts) =
                stats::rate_funnel_significance(&rate_areas, kind, m).map_err(stats_err(ind))?;
            let mut out = Vec::new();
            for (a, p) in areas.iter().zip(&pts) {
                out.push((rate_limits_at(a.funnel_denominator, av, m)?, p.significance));
            }
            Ok((av * m, out))
        }
    }
}

/// ~100 points of each limit line across the denominators, for drawing.
fn limit_lines(ind: &Indicator, areas: &[AreaFigures], av: f64) -> Result<Vec<LimitPoint>> {
    let m = ind.multiplier;
    let max_n = areas
        .iter()
        .map(|a| a.funnel_denominator)
        .fold(0.0_f64, f64::max);
    let min_n = areas
        .iter()
        .map(|a| a.funnel_denominator)
        .fold(f64::INFINITY, f64::min);
    // From a tenth of the smallest area to a little past the largest, geometrically.
    let (lo, hi) = ((min_n / 10.0).max(1.0), max_n * 1.1);
    let steps = 100;
    let mut out = Vec::with_capacity(steps + 1);
    for i in 0..=steps {
        let n = lo * (hi / lo).powf(i as f64 / steps as f64);
        let l = match ind.measure {
            Measure::Proportion => {
                let lim = |p, side| stats::proportion_funnel_limit(p, n, av, side, m).clamp(0.0, m);
                [
                    lim(0.975, stats::FunnelSide::Low),
                    lim(0.975, stats::FunnelSide::High),
                    lim(0.999, stats::FunnelSide::Low),
                    lim(0.999, stats::FunnelSide::High),
                ]
            }
            Measure::Rate => rate_limits_at(n, av, m)?,
        };
        out.push(LimitPoint {
            denominator: n,
            average: av * m,
            lower95: l[0],
            upper95: l[1],
            lower998: l[2],
            upper998: l[3],
        });
    }
    Ok(out)
}

pub const FUNNEL_COLUMNS: [&str; 12] = [
    "indicator",
    "level",
    "area_code",
    "numerator",
    "denominator",
    "value",
    "average",
    "lower95",
    "upper95",
    "lower998",
    "upper998",
    "significance",
];
pub const LEAGUE_COLUMNS: [&str; 10] = [
    "indicator",
    "rank",
    "area_code",
    "numerator",
    "denominator",
    "value",
    "lower95",
    "upper95",
    "significance",
    "note",
];
pub const LIMIT_COLUMNS: [&str; 7] = [
    "indicator",
    "denominator",
    "average",
    "lower95",
    "upper95",
    "lower998",
    "upper998",
];

/// A row of `funnel_limits.csv`: one indicator's limit line point (the
/// CSV writer cannot flatten, so the fields are spelled out).
#[derive(Serialize)]
struct LimitRow<'a> {
    indicator: &'a str,
    denominator: f64,
    average: f64,
    lower95: f64,
    upper95: f64,
    lower998: f64,
    upper998: f64,
}

/// Writes funnel, league and limit-line files (CSV and JSON) of one or more
/// comparisons into `dir`, indicator after indicator.
pub fn write(dir: &Path, comparisons: &[Comparison]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| PhmError::write(dir, e))?;
    let funnel: Vec<&FunnelRow> = comparisons.iter().flat_map(|c| &c.funnel).collect();
    let league: Vec<&LeagueRow> = comparisons.iter().flat_map(|c| &c.league).collect();
    let limits: Vec<LimitRow> = comparisons
        .iter()
        .flat_map(|c| {
            c.limits.iter().map(|l| LimitRow {
                indicator: &c.indicator.name,
                denominator: l.denominator,
                average: l.average,
                lower95: l.lower95,
                upper95: l.upper95,
                lower998: l.lower998,
                upper998: l.upper998,
            })
        })
        .collect();
    write_pair(dir, "funnel", &funnel, &FUNNEL_COLUMNS)?;
    write_pair(dir, "league", &league, &LEAGUE_COLUMNS)?;
    write_pair(dir, "funnel_limits", &limits, &LIMIT_COLUMNS)
}

#[cfg(test)]
mod tests;
