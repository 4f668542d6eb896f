//! Funnel plots for comparing areas: control limits, significance labels and
//! the ~100-point limit lines to draw (metrics.md §6). Follows
//! PHEindicatormethods `R/Funnels.R` (`calculate_funnel_limits`,
//! `assign_funnel_significance`) and `R/utils.R` (`sigma_adjustment`,
//! `poisson_funnel`, `funnel_ratio_significance`); ratio (ISR) funnels are not in phm.

use serde::Serialize;

use super::rate::count_limits;
use super::{
    check_count, check_positive, normal_quantile, round_half_even, Result, StatsError, LEVELS,
};

/// Where an area sits against the funnel; the labels are the package's, which
/// Fingertips users know, and are written to `funnel.csv` verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Significance {
    #[serde(rename = "High (0.001)")]
    High001,
    #[serde(rename = "High (0.025)")]
    High025,
    #[serde(rename = "Low (0.001)")]
    Low001,
    #[serde(rename = "Low (0.025)")]
    Low025,
    #[serde(rename = "Not significant")]
    NotSignificant,
    /// DSR funnels do not judge areas with fewer than 10 events.
    #[serde(rename = "Not applicable for events less than 10 for dsrs")]
    NotApplicableDsr,
}

impl Significance {
    /// Beyond the 99.8% limits (either side): the areas a funnel labels.
    pub fn beyond_998(self) -> bool {
        matches!(self, Significance::High001 | Significance::Low001)
    }

    /// The label as the package writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Significance::High001 => "High (0.001)",
            Significance::High025 => "High (0.025)",
            Significance::Low001 => "Low (0.001)",
            Significance::Low025 => "Low (0.025)",
            Significance::NotSignificant => "Not significant",
            Significance::NotApplicableDsr => "Not applicable for events less than 10 for dsrs",
        }
    }
}

/// Which control limit of the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FunnelSide {
    Low,
    High,
}

/// One-sided tail probabilities of the 95% and 99.8% funnels (`sigma_adjustment`'s p).
const P95: f64 = 0.975;
const P998: f64 = 0.999;
/// Points on a drawn limit line (`calculate_funnel_limits`).
const LINE_POINTS: usize = 100;

// ---------------------------------------------------------------- proportions

/// Proportion funnel limit (the package's `sigma_adjustment`): the proportion,
/// × `multiplier`, whose Wilson interval at one-sided probability `p` has an
/// end exactly at the average `av`, for an area of population `n`. Not
/// clamped; the published limits are clamped to [0, m].
pub fn proportion_funnel_limit(p: f64, n: f64, av: f64, side: FunnelSide, multiplier: f64) -> f64 {
    let q = normal_quantile(p);
    let q2 = q * q;
    let first_part = av * (n / q2 + 1.0);
    let adj = ((-8.0 * av * (n / q2 + 1.0)).powi(2)
        - 64.0 * (1.0 / q2 + 1.0 / n) * av * (n * (av * (n / q2 + 2.0) - 1.0) + q2 * (av - 1.0)))
        .sqrt();
    let last_part = 1.0 / q2 + 1.0 / n;
    let limit = match side {
        FunnelSide::Low => (first_part - adj / 8.0) / last_part,
        FunnelSide::High => (first_part + adj / 8.0) / last_part,
    };
    limit / n * multiplier
}

/// One area against a proportion funnel: its label, and the 95% / 99.8%
/// control limits at its population (× multiplier, clamped to [0, m]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProportionFunnelPoint {
    pub significance: Significance,
    pub lower95: f64,
    pub upper95: f64,
    pub lower998: f64,
    pub upper998: f64,
}

/// One point of the drawn proportion limit lines.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProportionFunnelRow {
    pub denominator: f64,
    pub lower95: f64,
    pub upper95: f64,
    pub lower998: f64,
    pub upper998: f64,
    /// av × multiplier.
    pub baseline: f64,
}

/// Validates `(x, n)` proportion areas and returns `av = Σx / Σn`.
fn proportion_average(areas: &[(f64, f64)]) -> Result<f64> {
    if areas.is_empty() {
        return Err(StatsError::Invalid(
            "a funnel needs at least one area".into(),
        ));
    }
    for &(x, n) in areas {
        check_count("area numerator", x)?;
        check_positive("area denominator", n)?;
        if x > n {
            return Err(StatsError::NumeratorAboveDenominator { x, n });
        }
    }
    let sx: f64 = areas.iter().map(|a| a.0).sum();
    let sn: f64 = areas.iter().map(|a| a.1).sum();
    Ok(sx / sn)
}

/// Limits at population n, × m and clamped to [0, m] as metrics.md §6 says.
fn proportion_limits_at(n: f64, av: f64, m: f64) -> [f64; 4] {
    let lim = |p, side| proportion_funnel_limit(p, n, av, side, m).clamp(0.0, m);
    [
        lim(P95, FunnelSide::Low),
        lim(P95, FunnelSide::High),
        lim(P998, FunnelSide::Low),
        lim(P998, FunnelSide::High),
    ]
}

/// Labels each `(x, n)` area against the funnel around `av = Σx/Σn`
/// (`assign_funnel_significance(statistic = "proportion")`); returns av
/// (0–1 scale) and one point per area, in input order.
///
/// The comparison uses the unclamped limits on the 0–1 scale, as the package does.
pub fn proportion_funnel_significance(
    areas: &[(f64, f64)],
    multiplier: f64,
) -> Result<(f64, Vec<ProportionFunnelPoint>)> {
    check_positive("multiplier", multiplier)?;
    let av = proportion_average(areas)?;
    let points = areas
        .iter()
        .map(|&(x, n)| {
            let value = x / n;
            let lim = |p, side| proportion_funnel_limit(p, n, av, side, 1.0);
            let significance = if value < lim(P998, FunnelSide::Low) {
                Significance::Low001
            } else if value < lim(P95, FunnelSide::Low) {
                Significance::Low025
            } else if value > lim(P998, FunnelSide::High) {
                Significance::High001
            } else if value > lim(P95, FunnelSide::High) {
                Significance::High025
            } else {
                Significance::NotSignificant
            };
            let [lower95, upper95, lower998, upper998] = proportion_limits_at(n, av, multiplier);
            ProportionFunnelPoint {
                significance,
                lower95,
                upper95,
                lower998,
                upper998,
            }
        })
        .collect();
    Ok((av, points))
}

/// The ~100 points of the proportion limit lines across the denominator axis
/// (`calculate_funnel_limits(statistic = "proportion")`).
pub fn proportion_funnel_limits(
    areas: &[(f64, f64)],
    multiplier: f64,
) -> Result<Vec<ProportionFunnelRow>> {
    check_positive("multiplier", multiplier)?;
    let av = proportion_average(areas)?;
    let (min_n, max_n) = min_max(areas.iter().map(|a| a.1));
    let axis_min = if max_n > 2.0 * min_n {
        0.0
    } else {
        signif_floor(min_n)
    };
    let axis_max = signif_ceiling(max_n);
    Ok(axis_points(axis_min, axis_max)
        .into_iter()
        .map(|n| {
            let [lower95, upper95, lower998, upper998] = proportion_limits_at(n, av, multiplier);
            ProportionFunnelRow {
                denominator: n,
                lower95,
                upper95,
                lower998,
                upper998,
                baseline: av * multiplier,
            }
        })
        .collect())
}

// ---------------------------------------------------------------------- rates

/// Crude rate or DSR: DSR funnels withhold a label below 10 events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RateKind {
    Crude,
    Dsr,
}

/// One area of a rate funnel: events and the population they are a rate of.
///
/// For a DSR the package uses the "equivalent population" m·O/DSR (see
/// [`dsr_equivalent_denominator`]), and none for an area with 0 events; for
/// a crude rate pass the population.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateFunnelArea {
    pub events: f64,
    /// `None` only for an area with no events (a DSR of 0 has no equivalent population).
    pub denominator: Option<f64>,
}

/// The population a DSR stands for, `multiplier × events / dsr`, as the
/// package derives it for funnels; `None` with no events or a DSR of 0.
pub fn dsr_equivalent_denominator(events: f64, dsr: f64, multiplier: f64) -> Option<f64> {
    let n = multiplier * events / dsr;
    (events > 0.0 && n.is_finite() && n > 0.0).then_some(n)
}

/// One area against a rate funnel: its label and its own exact (x < 10) or
/// Byar interval × multiplier, which is what the average is compared with
/// (the drawn lines come from [`rate_funnel_limits`]). Limits are `None`
/// when the area has no denominator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateFunnelPoint {
    pub significance: Significance,
    pub lower95: Option<f64>,
    pub upper95: Option<f64>,
    pub lower998: Option<f64>,
    pub upper998: Option<f64>,
}

/// One point of the drawn rate limit lines, indexed by event count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateFunnelRow {
    pub events: f64,
    /// Population per year at which `events` puts the area on the line.
    pub lower95_population: f64,
    pub lower95: f64,
    pub upper95_population: f64,
    pub upper95: f64,
    pub lower998_population: f64,
    pub lower998: f64,
    pub upper998_population: f64,
    pub upper998: f64,
    /// av × multiplier.
    pub baseline: f64,
}

/// Validates rate areas; returns `av = Σx / Σn` over areas with a denominator.
fn rate_average(areas: &[RateFunnelArea]) -> Result<f64> {
    if areas.is_empty() {
        return Err(StatsError::Invalid(
            "a funnel needs at least one area".into(),
        ));
    }
    for a in areas {
        check_count("area events", a.events)?;
        match a.denominator {
            Some(n) => check_positive("area denominator", n)?,
            None if a.events == 0.0 => {}
            None => {
                return Err(StatsError::Invalid(format!(
                    "an area with {} events needs a denominator",
                    a.events
                )))
            }
        }
    }
    let sx: f64 = areas.iter().map(|a| a.events).sum();
    let sn: f64 = areas.iter().filter_map(|a| a.denominator).sum();
    if sn <= 0.0 {
        return Err(StatsError::Invalid("no area has a denominator".into()));
    }
    Ok(sx / sn)
}

/// Labels each area against the rate funnel around `av = Σx / Σn`
/// (`assign_funnel_significance(statistic = "rate")`): High when av lies
/// below the area's lower limit, Low when above its upper, 99.8% before
/// 95%; DSR areas under 10 events are "Not applicable …". Returns av
/// (per head, not × multiplier) and one point per area, in input order.
pub fn rate_funnel_significance(
    areas: &[RateFunnelArea],
    kind: RateKind,
    multiplier: f64,
) -> Result<(f64, Vec<RateFunnelPoint>)> {
    check_positive("multiplier", multiplier)?;
    let av = rate_average(areas)?;
    let mut points = Vec::with_capacity(areas.len());
    for a in areas {
        let x = a.events;
        let (l95, u95, _) = count_limits(x, LEVELS[0])?;
        let (l998, u998, _) = count_limits(x, LEVELS[1])?;
        let point = match a.denominator {
            Some(n) => {
                let significance = if av < l998 / n {
                    Significance::High001
                } else if av < l95 / n {
                    Significance::High025
                } else if av > u998 / n {
                    Significance::Low001
                } else if av > u95 / n {
                    Significance::Low025
                } else {
                    Significance::NotSignificant
                };
                let scale = |v: f64| Some(v / n * multiplier);
                RateFunnelPoint {
                    significance,
                    lower95: scale(l95),
                    upper95: scale(u95),
                    lower998: scale(l998),
                    upper998: scale(u998),
                }
            }
            // 0 events and no denominator: only a DSR of 0 (checked above);
            // relabelled below, as the package does.
            None => RateFunnelPoint {
                significance: Significance::NotSignificant,
                lower95: None,
                upper95: None,
                lower998: None,
                upper998: None,
            },
        };
        let significance = if kind == RateKind::Dsr && x < 10.0 {
            Significance::NotApplicableDsr
        } else {
            point.significance
        };
        points.push(RateFunnelPoint {
            significance,
            ..point
        });
    }
    Ok((av, points))
}

/// The ~100 points of the rate limit lines across the events axis
/// (`calculate_funnel_limits(statistic = "rate")`), per `multiplier`, for
/// data pooled over `years_of_data` years (populations are shown per year).
pub fn rate_funnel_limits(
    areas: &[RateFunnelArea],
    multiplier: f64,
    years_of_data: f64,
) -> Result<Vec<RateFunnelRow>> {
    check_positive("multiplier", multiplier)?;
    check_positive("years of data", years_of_data)?;
    let av = rate_average(areas)?;
    if av <= 0.0 {
        return Err(StatsError::Invalid(
            "a rate funnel needs at least one event".into(),
        ));
    }
    let (min_n, max_n) = min_max(areas.iter().filter_map(|a| a.denominator));
    let axis_min = if max_n > 2.0 * min_n {
        0.0
    } else {
        signif_floor(min_n / years_of_data) * years_of_data
    };
    let axis_max = signif_ceiling(max_n / years_of_data) * years_of_data;
    // The rate axis counts events, not people.
    let (axis_min, axis_max) = ((axis_min * av).floor(), (axis_max * av).ceil());
    Ok(axis_points(axis_min, axis_max)
        .into_iter()
        .map(|e| {
            // Population at which e events sit on each line: the package's
            // `*_population_1_year`, before dividing by years.
            let pop = |p, side| poisson_funnel(e, p, side) / av;
            let (l95, u95) = (pop(0.025, FunnelSide::High), pop(0.025, FunnelSide::Low));
            let (l998, u998) = (pop(0.001, FunnelSide::High), pop(0.001, FunnelSide::Low));
            RateFunnelRow {
                events: e,
                lower95_population: l95 / years_of_data,
                lower95: e / l95 * multiplier,
                upper95_population: u95 / years_of_data,
                upper95: e / u95 * multiplier,
                lower998_population: l998 / years_of_data,
                lower998: e / l998 * multiplier,
                upper998_population: u998 / years_of_data,
                upper998: e / u998 * multiplier,
                baseline: av * multiplier,
            }
        })
        .collect())
}

/// Expected count at which `obs` observed events sit on a Poisson funnel
/// line with one-sided probability `p` (the package's `poisson_funnel`,
/// from PHE's Excel funnel tool): `Low` finds the expected count with
/// P(X ≥ obs) = p, `High` the one with P(X ≤ obs) = p.
///
/// A bisection on v = E/(1 + obs + E) to 1e-7, kept step for step so that
/// the lines match the package's to 1e-6; each step sums the Poisson
/// probabilities term by term, so the cost grows with `obs` (about 0.8 s
/// for a whole 100-point line up to 100,000 events). NaN for a negative or
/// infinite `obs` or `p` outside (0, 1).
pub fn poisson_funnel(obs: f64, p: f64, side: FunnelSide) -> f64 {
    if !(obs.is_finite() && obs >= 0.0 && p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    let mut v: f64 = 0.5;
    let mut dv: f64 = 0.5;
    while dv > 1e-7 {
        dv /= 2.0;
        let z = (1.0 + obs) * v / (1.0 - v);
        let move_down = match side {
            FunnelSide::Low => poisson_cis(z, obs, 1e10) > p,
            FunnelSide::High => poisson_cis(z, 0.0, obs) < p,
        };
        if move_down {
            v -= dv;
        } else {
            v += dv;
        }
    }
    (1.0 + obs) * v / (1.0 - v)
}

/// P(x_a ≤ X ≤ x_b) for X ~ Poisson(z), summed term by term until the terms
/// are negligible, rescaling to avoid overflow (the package's `poisson_cis`).
fn poisson_cis(z: f64, x_a: f64, x_b: f64) -> f64 {
    let (mut q, mut tot, mut s, mut k) = (1.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    while k <= z || q > tot * 1e-10 {
        tot += q;
        if k >= x_a && k <= x_b {
            s += q;
        }
        if tot > 1e30 {
            s /= 1e30;
            tot /= 1e30;
            q /= 1e30;
        }
        k += 1.0;
        q = q * z / k;
    }
    s / tot
}

// ----------------------------------------------------------------- the axis

fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// The ~100 axis values of a limit line: from max(1, min) to max, each step
/// the geometric step still needed to reach max, rounded, and at least 1
/// (`calculate_funnel_limits`'s `first_col`). Geometric so the funnel's
/// curved small-denominator end gets most of the points.
fn axis_points(axis_min: f64, axis_max: f64) -> Vec<f64> {
    let mut points = Vec::with_capacity(LINE_POINTS);
    let mut prev = axis_min.max(1.0);
    points.push(prev);
    for j in 2..=LINE_POINTS {
        let step = (axis_max / prev).powf(1.0 / (101 - j) as f64) * prev;
        prev = round_half_even(step).max(prev + 1.0);
        points.push(prev);
    }
    points
}

/// Number of characters R's `as.character` prints for a whole number ≥ 0.
///
/// The package sizes its axis with `nchar(floor(x))`, and R prints a number
/// in scientific form when that is shorter (100000 is "1e+05", 5 characters,
/// not 6), so the axis of the package — and ours — depends on this quirk.
fn r_nchar_whole(v: f64) -> i32 {
    if !(v.is_finite() && v >= 1.0) {
        return 1; // "0"
    }
    let digits = format!("{v:.0}");
    let fixed = digits.len() as i32;
    let significant = digits.trim_end_matches('0').len() as i32;
    let exponent = fixed - 1;
    let mantissa = if significant > 1 { significant + 1 } else { 1 };
    let sci = mantissa + if exponent >= 100 { 5 } else { 4 };
    if fixed <= sci {
        fixed
    } else {
        sci
    }
}

/// Rounds 95% of x down to its leading digit(s) (the package's `signif.floor`).
fn signif_floor(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let n = r_nchar_whole((x * 0.95).floor()) - 1;
    let p = 10f64.powf(n as f64);
    (x * 0.95 / p).floor() * p
}

/// Rounds 105% of x up to two leading digits (the package's `signif.ceiling`).
fn signif_ceiling(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let n = r_nchar_whole((x * 1.05).ceil()) - 2;
    let p = 10f64.powf(n as f64);
    (x * 1.05 / p).ceil() * p
}

#[cfg(test)]
mod tests;
