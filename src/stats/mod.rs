//! Inequality statistics by the methods of PHEindicatormethods (metrics.md §1–6).
//! Pure maths on numbers the SQL has already aggregated: no I/O, no DataFrames,
//! so every function can be checked against the package's published test data
//! (`tests/fixtures/phe/`, converted from its `tests/testthat/`). Bad input is a
//! [`StatsError`], never a panic; "not published" results are `None` plus a note.

pub mod dsr;
pub mod funnel;
pub mod gap;
pub mod proportion;
pub mod rate;
pub mod sii;

pub use dsr::{dsr, dsr_esp2013, DsrBand, DsrResult, ESP2013, ESP2013_BAND_STARTS};
pub use funnel::{
    dsr_equivalent_denominator, poisson_funnel, proportion_funnel_limit, proportion_funnel_limits,
    proportion_funnel_significance, rate_funnel_limits, rate_funnel_significance, FunnelSide,
    ProportionFunnelPoint, ProportionFunnelRow, RateFunnelArea, RateFunnelPoint, RateFunnelRow,
    RateKind, Significance,
};
pub use gap::{quintile_gap, GapGroup, GapKind, GapResult};
pub use proportion::{proportion, wilson};
pub use rate::{byar_lower, byar_upper, exact_lower, exact_upper, rate};
pub use sii::{
    sii, sii_fit, sii_simulate, SiiFit, SiiGroup, SiiOptions, SiiResult, SiiSimulation, ValueType,
};

use serde::Serialize;
use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal};

/// The two confidence levels every phm interval is published at (metrics.md:
/// "Every interval is given at both 95% and 99.8%"), as Fingertips does.
pub const LEVELS: [f64; 2] = [0.95, 0.998];

/// Why a statistic could not be computed from the numbers given.
///
/// These are input errors (the caller passed something impossible); results
/// that are merely not published, such as a DSR on fewer than 10 events, are
/// `None` with a note instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("{what} is {value}, but counts cannot be negative")]
    NegativeCount { what: &'static str, value: f64 },
    #[error("{what} is {value}, but it must be greater than zero")]
    NotPositive { what: &'static str, value: f64 },
    #[error("numerator {x} is larger than denominator {n}, so it is not a proportion")]
    NumeratorAboveDenominator { x: f64, n: f64 },
    #[error("{what} is not a finite number ({value})")]
    NotFinite { what: &'static str, value: f64 },
    #[error("confidence level {0} must be a fraction strictly between 0 and 1 (e.g. 0.95)")]
    Confidence(f64),
    #[error(
        "Byar's approximation gives a negative lower limit for {x} events at {confidence} \
         confidence; use the exact method for counts under 10"
    )]
    ByarNegative { x: f64, confidence: f64 },
    /// A rate or proportion of 0 (or a proportion of 1) has no log/logit, so
    /// the SII simulation cannot draw on that scale.
    #[error(
        "group {group} has a value or 95% limit of {}, whose {scale} is undefined",
        if *scale == "logit" {
            "0 or 1 (a numerator of 0, or equal to the denominator)"
        } else {
            "0 (a numerator of 0)"
        }
    )]
    TransformUndefined { group: usize, scale: &'static str },
    #[error("{0}")]
    Invalid(String),
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, StatsError>;

/// How an interval was computed: the `method` column of `inequalities.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Wilson score interval (proportions, §1).
    Wilson,
    /// Byar's approximation (rates with 10 or more events, §2).
    Byar,
    /// Exact Poisson limits from the chi-square distribution (rates under 10, §2).
    Exact,
    /// Dobson's method for directly standardised rates (§3).
    Dsr,
}

impl Method {
    /// The word written to output files (metrics.md §7).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Wilson => "wilson",
            Method::Byar => "byar",
            Method::Exact => "exact",
            Method::Dsr => "dsr",
        }
    }
}

/// A value with its 95% and 99.8% limits, all on the multiplier's scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub lower95: f64,
    pub upper95: f64,
    pub lower998: f64,
    pub upper998: f64,
    pub method: Method,
}

/// The standard normal quantile `z(c) = Φ⁻¹(c + (1 − c)/2)` for a two-sided
/// interval at confidence `c` (1.959964 at 0.95, 3.090232 at 0.998).
pub fn z(c: f64) -> Result<f64> {
    check_confidence(c)?;
    Ok(z_unchecked(c))
}

/// `z` for a level already checked by [`check_confidence`].
fn z_unchecked(c: f64) -> f64 {
    normal_quantile(c + (1.0 - c) / 2.0)
}

/// Φ⁻¹(p); NaN outside [0, 1], where statrs would panic.
fn normal_quantile(p: f64) -> f64 {
    if (0.0..=1.0).contains(&p) {
        Normal::standard().inverse_cdf(p)
    } else {
        f64::NAN
    }
}

/// Rejects confidence levels that are not a fraction in (0, 1).
fn check_confidence(c: f64) -> Result<()> {
    if c > 0.0 && c < 1.0 {
        Ok(())
    } else {
        Err(StatsError::Confidence(c))
    }
}

/// Rejects NaN and infinities, naming the argument in the message.
fn check_finite(what: &'static str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(StatsError::NotFinite { what, value })
    }
}

/// A finite count that is zero or more.
fn check_count(what: &'static str, value: f64) -> Result<()> {
    check_finite(what, value)?;
    if value < 0.0 {
        return Err(StatsError::NegativeCount { what, value });
    }
    Ok(())
}

/// A finite number strictly above zero (denominators, multipliers).
fn check_positive(what: &'static str, value: f64) -> Result<()> {
    check_finite(what, value)?;
    if value <= 0.0 {
        return Err(StatsError::NotPositive { what, value });
    }
    Ok(())
}

/// Quantile of the chi-square distribution with `df` degrees of freedom, to
/// about 1e-14 relative, as R's `qchisq`.
///
/// statrs' own `inverse_cdf` stops after 8 bisection and 4 Newton steps, which
/// is not always enough for the 1e-6 agreement metrics.md asks for in the far
/// tails (p = 0.001 at 2 df), so its answer is only the starting point here:
/// Newton steps on the regularised incomplete gamma, kept inside a bracket
/// that bisection falls back to.
fn chi_squared_quantile(p: f64, df: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 || df <= 0.0 {
        return f64::INFINITY;
    }
    let dist = match ChiSquared::new(df) {
        Ok(d) => d,
        Err(_) => return f64::NAN,
    };
    let mut x = dist.inverse_cdf(p);
    if !(x.is_finite() && x > 0.0) {
        x = df.max(1.0);
    }
    // Bracket the root: cdf(lo) < p <= cdf(hi).
    let (mut lo, mut hi) = (x, x);
    while lo > 0.0 && dist.cdf(lo) >= p {
        lo /= 2.0;
        if lo < f64::MIN_POSITIVE {
            lo = 0.0;
        }
    }
    while dist.cdf(hi) < p {
        hi *= 2.0;
        if !hi.is_finite() {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let f = dist.cdf(x) - p;
        if f == 0.0 {
            return x;
        }
        if f < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let d = dist.pdf(x);
        let mut next = if d > 0.0 { x - f / d } else { f64::NAN };
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - x).abs() <= 1e-15 * x.abs() || hi - lo <= 1e-15 * hi {
            return next;
        }
        x = next;
    }
    x
}

/// R's `round()`: halves go to the even neighbour (IEC 60559), which matters
/// for the funnel axis and the simulation's percentile positions.
fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Shared helpers for the fixture tests: where the fixtures are, a CSV
    //! reader, and a float comparison that names the case when it fails.

    use std::collections::HashMap;
    use std::path::PathBuf;

    /// The fixture directory: `PHM_FIXTURES` if set (the stats files are also
    /// compiled in a scratch crate whose manifest lives elsewhere), otherwise
    /// `tests/fixtures/phe` beside phm's Cargo.toml.
    pub fn fixture_path(name: &str) -> PathBuf {
        let dir = std::env::var("PHM_FIXTURES").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/phe").to_string()
        });
        PathBuf::from(dir).join(name)
    }

    /// One fixture row, looked up by column name.
    pub struct Row(pub HashMap<String, String>);

    impl Row {
        /// The cell as text (empty when the source cell was empty / NA).
        pub fn s(&self, col: &str) -> &str {
            self.0
                .get(col)
                .unwrap_or_else(|| panic!("fixture has no column `{col}`"))
        }
        /// The cell as a number; panics naming the column if it is not one.
        pub fn f(&self, col: &str) -> f64 {
            self.opt(col)
                .unwrap_or_else(|| panic!("column `{col}` is empty"))
        }
        /// The cell as a number, `None` when empty or "NA".
        pub fn opt(&self, col: &str) -> Option<f64> {
            let s = self.s(col).trim();
            if s.is_empty() || s == "NA" {
                None
            } else {
                Some(
                    s.parse()
                        .unwrap_or_else(|_| panic!("column `{col}`: `{s}` is not a number")),
                )
            }
        }
    }

    /// Reads a fixture CSV (a UTF-8 byte-order mark on the header is dropped;
    /// several of the package's files have one).
    pub fn read_csv(name: &str) -> Vec<Row> {
        let path = fixture_path(name);
        let mut rdr = csv::Reader::from_path(&path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        let headers: Vec<String> = rdr
            .headers()
            .expect("fixture header")
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        rdr.records()
            .map(|r| {
                let r = r.expect("fixture record");
                Row(headers
                    .iter()
                    .cloned()
                    .zip(r.iter().map(str::to_string))
                    .collect())
            })
            .collect()
    }

    /// `|got − want| ≤ max(rel·|want|, abs)`; `abs` covers values at or near
    /// zero and fixtures printed to a fixed number of decimals.
    pub fn assert_close(got: f64, want: f64, rel: f64, abs: f64, case: &str) {
        let tol = (rel * want.abs()).max(abs);
        assert!(
            (got - want).abs() <= tol,
            "{case}: got {got}, want {want} (diff {:e}, tolerance {tol:e})",
            (got - want).abs()
        );
    }

    /// The metrics.md tolerance for deterministic statistics: 1e-6 relative.
    pub fn assert_rel(got: f64, want: f64, case: &str) {
        assert_close(got, want, 1e-6, 1e-12, case);
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::assert_rel;
    use super::*;

    #[test]
    fn z_matches_the_constants_in_metrics_md() {
        // metrics.md, Notation: 1.959964 for 95%, 3.090232 for 99.8%
        // (R: qnorm(0.975) = 1.959963984540054, qnorm(0.999) = 3.090232306167813).
        assert_rel(z(0.95).unwrap(), 1.959963984540054, "z(0.95)");
        assert_rel(z(0.998).unwrap(), 3.090232306167813, "z(0.998)");
        assert!(z(1.0).is_err() && z(0.0).is_err() && z(f64::NAN).is_err());
    }

    #[test]
    fn chi_squared_quantile_matches_closed_forms() {
        // With 2 df the chi-square is exponential with mean 2: q(p) = -2 ln(1 - p).
        for p in [1e-6_f64, 0.001, 0.025, 0.5, 0.975, 0.999] {
            let want = -2.0 * (-p).ln_1p();
            assert_rel(
                chi_squared_quantile(p, 2.0),
                want,
                &format!("qchisq({p}, 2)"),
            );
        }
        assert_eq!(chi_squared_quantile(0.0, 4.0), 0.0);
    }

    #[test]
    fn round_half_even_is_r_round() {
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
        assert_eq!(round_half_even(2500.0000000000023), 2500.0);
    }
}
