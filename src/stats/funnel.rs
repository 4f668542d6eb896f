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
mod tests {
    use super::*;
    use crate::stats::test_util::{assert_close, read_csv, Row};

    fn label(s: &str) -> Significance {
        [
            Significance::High001,
            Significance::High025,
            Significance::Low001,
            Significance::Low025,
            Significance::NotSignificant,
            Significance::NotApplicableDsr,
        ]
        .into_iter()
        .find(|l| l.as_str() == s.trim())
        .unwrap_or_else(|| panic!("unknown label `{s}`"))
    }

    fn prop_inputs() -> Vec<(String, f64, f64, Significance)> {
        read_csv("testdata_funnel_prop_inputs.csv")
            .iter()
            .map(|r| {
                (
                    r.s("Area").to_string(),
                    r.f("numerator"),
                    r.f("denominator"),
                    label(r.s("significance")),
                )
            })
            .collect()
    }

    #[test]
    fn proportion_significance_matches_phe() {
        // Source: PHEindicatormethods tests/testthat/testdata_funnel_prop_inputs.csv
        // (all 303 areas and their published labels; testFunnels.R
        // "Significance for proportions calculates correctly").
        let inputs = prop_inputs();
        assert_eq!(inputs.len(), 303);
        let areas: Vec<(f64, f64)> = inputs.iter().map(|a| (a.1, a.2)).collect();
        let (_, points) = proportion_funnel_significance(&areas, 100.0).unwrap();
        for (a, p) in inputs.iter().zip(&points) {
            assert_eq!(p.significance, a.3, "{} ({} / {})", a.0, a.1, a.2);
            assert!(
                p.lower998 <= p.lower95 && p.upper95 <= p.upper998,
                "{}",
                a.0
            );
        }
    }

    /// Compares drawn proportion lines with a package output file printed to
    /// `decimals` places (so the tolerance is half its last digit at most).
    fn check_prop_lines(rows: &[ProportionFunnelRow], want: &[Row], decimals: i32, source: &str) {
        assert_eq!(rows.len(), want.len(), "{source}: number of points");
        let abs = 0.5 * 10f64.powi(-decimals);
        for (got, w) in rows.iter().zip(want) {
            let case = |c: &str| format!("{source}: population {} {c}", w.s("Population"));
            assert_eq!(got.denominator, w.f("Population"), "{}", case("axis"));
            assert_close(
                got.lower95,
                w.f("Lower2s0025limit"),
                1e-6,
                abs,
                &case("lower95"),
            );
            assert_close(
                got.upper95,
                w.f("Upper2s0025limit"),
                1e-6,
                abs,
                &case("upper95"),
            );
            assert_close(
                got.lower998,
                w.f("Lower3s0001limit"),
                1e-6,
                abs,
                &case("lower99.8"),
            );
            assert_close(
                got.upper998,
                w.f("Upper3s0001limit"),
                1e-6,
                abs,
                &case("upper99.8"),
            );
            assert_close(got.baseline, w.f("Baseline"), 1e-6, abs, &case("baseline"));
        }
    }

    #[test]
    fn proportion_lines_match_phe() {
        // Source: PHEindicatormethods tests/testthat/testdata_funnel_prop_inputs.csv
        // → testdata_funnel_prop_outputs.csv (values printed to 6 decimals),
        // testFunnels.R "confidence limits calculate correctly for proportions".
        let areas: Vec<(f64, f64)> = prop_inputs().iter().map(|a| (a.1, a.2)).collect();
        let rows = proportion_funnel_limits(&areas, 100.0).unwrap();
        let want = read_csv("testdata_funnel_prop_outputs.csv");
        check_prop_lines(&rows, &want, 6, "testdata_funnel_prop_outputs.csv");
    }

    #[test]
    fn proportion_lines_with_axis_variation_match_phe() {
        // Source: PHEindicatormethods tests/testthat/testdata_funnel_prop_inputs.csv
        // filtered to denominator < 31000 → testdata_funnel_prop_outputs_with_axis_variation.csv
        // (8 decimals): the axis starts at signif.floor(min) instead of 0.
        let areas: Vec<(f64, f64)> = prop_inputs()
            .iter()
            .filter(|a| a.2 < 31000.0)
            .map(|a| (a.1, a.2))
            .collect();
        let rows = proportion_funnel_limits(&areas, 100.0).unwrap();
        let want = read_csv("testdata_funnel_prop_outputs_with_axis_variation.csv");
        check_prop_lines(
            &rows,
            &want,
            8,
            "testdata_funnel_prop_outputs_with_axis_variation.csv",
        );
    }

    /// Rate funnel inputs as the package derives them: denominator =
    /// m·x/rate, except a 0-event area gets `pop` if given (crude) or none (DSR).
    fn rate_area(
        x: f64,
        rate: Option<f64>,
        pop: Option<f64>,
        kind: RateKind,
        m: f64,
    ) -> RateFunnelArea {
        let denominator = match (kind, x == 0.0) {
            (RateKind::Dsr, true) => None,
            (RateKind::Crude, true) => pop,
            (_, false) => Some(m * x / rate.expect("rate for a non-zero count")),
        };
        RateFunnelArea {
            events: x,
            denominator,
        }
    }

    #[test]
    fn rate_significance_matches_phe() {
        // Source: PHEindicatormethods tests/testthat/testdata_funnel_rate_dsr_inputs.csv:
        // each label column against the rate column and multiplier the
        // package's testFunnels.R uses for it ("Significance for rates ...";
        // dsr_per_100_with_0 is in the file but not in testFunnels.R).
        let rows = read_csv("testdata_funnel_rate_dsr_inputs.csv");
        assert_eq!(rows.len(), 40);
        let cases = [
            (
                "dsr_per_100000_with_0",
                "rate_dsr",
                RateKind::Dsr,
                1e5,
                true,
            ),
            ("dsr_per_100_with_0", "rate_dsr", RateKind::Dsr, 100.0, true),
            (
                "dsr_per_100000_without_0",
                "rate_dsr",
                RateKind::Dsr,
                1e5,
                false,
            ),
            (
                "dsr_per_100_without_0",
                "rate_dsr",
                RateKind::Dsr,
                100.0,
                false,
            ),
            (
                "crude_per_100000_with_0",
                "rate_crude_per_100000",
                RateKind::Crude,
                1e5,
                true,
            ),
            (
                "crude_per_100_with_0",
                "rate_crude_per_100",
                RateKind::Crude,
                100.0,
                true,
            ),
            (
                "crude_per_100000_without_0",
                "rate_crude_per_100000",
                RateKind::Crude,
                1e5,
                false,
            ),
            (
                "crude_per_100_without_0",
                "rate_crude_per_100",
                RateKind::Crude,
                100.0,
                false,
            ),
        ];
        for (column, rate_col, kind, m, with_zero) in cases {
            let used: Vec<&Row> = rows
                .iter()
                .filter(|r| with_zero || r.f("count") != 0.0)
                .collect();
            let areas: Vec<RateFunnelArea> = used
                .iter()
                .map(|r| rate_area(r.f("count"), r.opt(rate_col), r.opt("pop"), kind, m))
                .collect();
            let (_, points) = rate_funnel_significance(&areas, kind, m).unwrap();
            for (r, p) in used.iter().zip(&points) {
                assert_eq!(
                    p.significance,
                    label(r.s(column)),
                    "{column}: count {}",
                    r.s("count")
                );
            }
        }
    }

    /// Compares drawn rate lines with a package output file (10 significant digits).
    fn check_rate_lines(rows: &[RateFunnelRow], source: &str) {
        let want = read_csv(source);
        assert_eq!(rows.len(), want.len(), "{source}: number of points");
        for (got, w) in rows.iter().zip(&want) {
            let case = |c: &str| format!("{source}: events {} {c}", w.s("Events"));
            let close = |g: f64, c: &str| assert_close(g, w.f(c), 1e-6, 1e-9, &case(c));
            assert_eq!(got.events, w.f("Events"), "{}", case("axis"));
            close(got.lower95_population, "lower_2s_population_1_year");
            close(got.lower95, "lower_2s_limit");
            close(got.upper95_population, "upper_2s_population_1_year");
            close(got.upper95, "upper_2s_limit");
            close(got.lower998_population, "lower_3s_population_1_year");
            close(got.lower998, "lower_3s_limit");
            close(got.upper998_population, "upper_3s_population_1_year");
            close(got.upper998, "upper_3s_limit");
            close(got.baseline, "baseline");
        }
    }

    fn funnel_input() -> Vec<(f64, f64)> {
        read_csv("testdata_funnel_rate_input_funnels.csv")
            .iter()
            .map(|r| (r.f("ev"), r.f("rate")))
            .collect()
    }

    #[test]
    fn rate_lines_dsr_match_phe() {
        // Source: PHEindicatormethods tests/testthat/testdata_funnel_rate_input_funnels.csv
        // (ev, rate) → testdata_funnel_rate_outputs.csv; testFunnels.R
        // "confidence limits calculate correctly for rates (dsr)": per 100,000, 3 years.
        let areas: Vec<RateFunnelArea> = funnel_input()
            .iter()
            .map(|&(x, r)| rate_area(x, Some(r), None, RateKind::Dsr, 1e5))
            .collect();
        check_rate_lines(
            &rate_funnel_limits(&areas, 1e5, 3.0).unwrap(),
            "testdata_funnel_rate_outputs.csv",
        );
    }

    #[test]
    fn rate_lines_crude_small_count_match_phe() {
        // Source: testdata_funnel_rate_input_funnels.csv with the largest ev set
        // to 5 → testdata_funnel_rate_outputs_2.csv; testFunnels.R "rates
        // (crude); with less than 10 events".
        let input = funnel_input();
        let max_ev = input.iter().map(|a| a.0).fold(0.0, f64::max);
        let areas: Vec<RateFunnelArea> = input
            .iter()
            .map(|&(x, r)| {
                let x = if x == max_ev { 5.0 } else { x };
                rate_area(x, Some(r), None, RateKind::Crude, 1e5)
            })
            .collect();
        check_rate_lines(
            &rate_funnel_limits(&areas, 1e5, 3.0).unwrap(),
            "testdata_funnel_rate_outputs_2.csv",
        );
    }

    #[test]
    fn rate_lines_crude_zero_events_match_phe() {
        // Source: testdata_funnel_rate_input_funnels.csv with pop = 1e5·ev/rate,
        // the largest-ev area set to 0 events, areas with pop > max(pop)/2
        // kept → testdata_funnel_rate_outputs_3.csv; testFunnels.R "rates
        // (crude); with 0 events and denominator supplied".
        let input = funnel_input();
        let max_ev = input.iter().map(|a| a.0).fold(0.0, f64::max);
        let with_pop: Vec<(f64, f64, f64)> = input
            .iter()
            .map(|&(x, r)| {
                let pop = 1e5 * x / r;
                if x == max_ev {
                    (0.0, 0.0, pop)
                } else {
                    (x, r, pop)
                }
            })
            .collect();
        let max_pop = with_pop.iter().map(|a| a.2).fold(0.0, f64::max);
        let areas: Vec<RateFunnelArea> = with_pop
            .iter()
            .filter(|a| a.2 > max_pop / 2.0)
            .map(|&(x, r, pop)| rate_area(x, Some(r), Some(pop), RateKind::Crude, 1e5))
            .collect();
        check_rate_lines(
            &rate_funnel_limits(&areas, 1e5, 3.0).unwrap(),
            "testdata_funnel_rate_outputs_3.csv",
        );
    }

    #[test]
    fn dsr_labels_and_limits_for_small_and_zero_counts() {
        // metrics.md §6: DSR areas under 10 events are not judged.
        let areas = [
            RateFunnelArea {
                events: 0.0,
                denominator: None,
            },
            RateFunnelArea {
                events: 9.0,
                denominator: Some(1000.0),
            },
            RateFunnelArea {
                events: 500.0,
                denominator: Some(10_000.0),
            },
        ];
        let (av, points) = rate_funnel_significance(&areas, RateKind::Dsr, 1e5).unwrap();
        assert_eq!(av, 509.0 / 11_000.0);
        assert_eq!(points[0].significance, Significance::NotApplicableDsr);
        assert_eq!(points[0].lower95, None);
        assert_eq!(points[1].significance, Significance::NotApplicableDsr);
        assert_eq!(points[2].significance, Significance::NotSignificant);
        // As a crude rate the 9-event area is judged (exact limits).
        let (_, crude) = rate_funnel_significance(&areas[1..], RateKind::Crude, 1e5).unwrap();
        assert_eq!(crude[0].significance, Significance::Low001);
        assert_eq!(dsr_equivalent_denominator(0.0, 0.0, 1e5), None);
        assert_eq!(dsr_equivalent_denominator(50.0, 500.0, 1e5), Some(10_000.0));
    }

    #[test]
    fn proportion_limits_are_clamped_and_edge_areas_labelled() {
        // x = 0 and x = n areas (metrics.md edge cases) label without error;
        // lines stay inside [0, m].
        let areas = [
            (0.0, 50.0),
            (50.0, 50.0),
            (400.0, 1000.0),
            (4100.0, 10_000.0),
        ];
        let (_, points) = proportion_funnel_significance(&areas, 100.0).unwrap();
        assert_eq!(points[0].significance, Significance::Low001);
        assert_eq!(points[1].significance, Significance::High001);
        for p in &points {
            assert!(0.0 <= p.lower998 && p.upper998 <= 100.0, "{p:?}");
        }
        let rows = proportion_funnel_limits(&areas, 100.0).unwrap();
        assert_eq!(rows.len(), 100);
        assert!(rows
            .iter()
            .all(|r| 0.0 <= r.lower998 && r.upper998 <= 100.0));
        assert!(rows.windows(2).all(|w| w[0].denominator < w[1].denominator));
    }

    #[test]
    fn r_prints_round_numbers_in_scientific_form() {
        assert_eq!(r_nchar_whole(100_000.0), 5); // "1e+05"
        assert_eq!(r_nchar_whole(120_000.0), 6); // "120000"
        assert_eq!(r_nchar_whole(1_000.0), 4); // "1000"
        assert_eq!(r_nchar_whole(7.0), 1);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(proportion_funnel_significance(&[], 100.0).is_err());
        assert!(proportion_funnel_significance(&[(5.0, 4.0)], 100.0).is_err());
        assert!(proportion_funnel_limits(&[(1.0, 0.0)], 100.0).is_err());
        assert!(proportion_funnel_limits(&[(1.0, 10.0)], 0.0).is_err());
        let no_den = [RateFunnelArea {
            events: 3.0,
            denominator: None,
        }];
        assert!(rate_funnel_significance(&no_den, RateKind::Crude, 1e5).is_err());
        let zero_only = [RateFunnelArea {
            events: 0.0,
            denominator: None,
        }];
        assert!(rate_funnel_limits(&zero_only, 1e5, 1.0).is_err());
        assert!(poisson_funnel(f64::INFINITY, 0.025, FunnelSide::Low).is_nan());
        assert!(poisson_funnel(5.0, 1.5, FunnelSide::High).is_nan());
        assert!(proportion_funnel_limit(2.0, 100.0, 0.5, FunnelSide::Low, 1.0).is_nan());
        let ok = [RateFunnelArea {
            events: 30.0,
            denominator: Some(1e4),
        }];
        assert!(rate_funnel_limits(&ok, 1e5, 0.0).is_err());
        assert!(rate_funnel_significance(
            &[RateFunnelArea {
                events: -1.0,
                denominator: Some(1.0)
            }],
            RateKind::Crude,
            1.0
        )
        .is_err());
    }
}
