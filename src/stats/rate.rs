//! Crude rates with exact Poisson (x < 10) or Byar (x ≥ 10) limits (metrics.md §2).
//! Follows PHEindicatormethods `R/utils.R` (`byars_lower`, `byars_upper`) and
//! `R/Rates.R` (`phe_rate`); checked against `testdata_Byars_Wilson.xlsx` and
//! `testdata_Rate.xlsx`. The count-scale limits here are reused by DSRs (§3)
//! and rate funnels (§6).

use super::{
    check_confidence, check_count, check_positive, chi_squared_quantile, z_unchecked, Estimate,
    Method, Result, StatsError,
};

/// Counts below this use exact Poisson limits; Byar's approximation is poor
/// for small counts (package `phe_rate`, "Notes").
pub(crate) const EXACT_BELOW: f64 = 10.0;

/// Byar's lower limit for an observed count `x` (count scale, not divided by n).
///
/// The approximation turns negative for very small counts at high confidence
/// (1 event at 99.8%); the package returns NA there and so do we, as
/// [`StatsError::ByarNegative`]. Use [`exact_lower`] below 10 events.
pub fn byar_lower(x: f64, c: f64) -> Result<f64> {
    check_count("observed events", x)?;
    check_confidence(c)?;
    let z = z_unchecked(c);
    let lower = x * (1.0 - 1.0 / (9.0 * x) - z / (3.0 * x.sqrt())).powi(3);
    // x = 0 gives 0 × (−∞) = NaN, as in R; both NaN and negatives are "not defined".
    if lower.is_nan() || lower < 0.0 {
        return Err(StatsError::ByarNegative { x, confidence: c });
    }
    Ok(lower)
}

/// Byar's upper limit for an observed count `x` (count scale).
pub fn byar_upper(x: f64, c: f64) -> Result<f64> {
    check_count("observed events", x)?;
    check_confidence(c)?;
    let z = z_unchecked(c);
    let x1 = x + 1.0;
    Ok(x1 * (1.0 - 1.0 / (9.0 * x1) + z / (3.0 * x1.sqrt())).powi(3))
}

/// Exact Poisson lower limit for `x` events: `χ²⁻¹((1 − c)/2; 2x) / 2`, and 0
/// when x = 0 (count scale).
pub fn exact_lower(x: f64, c: f64) -> Result<f64> {
    check_count("observed events", x)?;
    check_confidence(c)?;
    if x == 0.0 {
        return Ok(0.0);
    }
    Ok(chi_squared_quantile((1.0 - c) / 2.0, 2.0 * x) / 2.0)
}

/// Exact Poisson upper limit for `x` events: `χ²⁻¹(c + (1 − c)/2; 2x + 2) / 2`.
pub fn exact_upper(x: f64, c: f64) -> Result<f64> {
    check_count("observed events", x)?;
    check_confidence(c)?;
    Ok(chi_squared_quantile(c + (1.0 - c) / 2.0, 2.0 * x + 2.0) / 2.0)
}

/// Lower and upper count-scale limits by the method `phe_rate` chooses for `x`.
pub(crate) fn count_limits(x: f64, c: f64) -> Result<(f64, f64, Method)> {
    if x < EXACT_BELOW {
        Ok((exact_lower(x, c)?, exact_upper(x, c)?, Method::Exact))
    } else {
        Ok((byar_lower(x, c)?, byar_upper(x, c)?, Method::Byar))
    }
}

/// `x / n × multiplier` with 95% and 99.8% limits: exact below 10 events,
/// Byar from 10 (`phe_rate(..., confidence = c(0.95, 0.998))`).
///
/// `x > n` is allowed: a rate of events (admissions) can exceed the
/// population, unlike a proportion.
pub fn rate(x: f64, n: f64, multiplier: f64) -> Result<Estimate> {
    check_count("numerator", x)?;
    check_positive("denominator", n)?;
    check_positive("multiplier", multiplier)?;
    let (l95, u95, method) = count_limits(x, 0.95)?;
    let (l998, u998, _) = count_limits(x, 0.998)?;
    let scale = |v: f64| v / n * multiplier;
    Ok(Estimate {
        value: scale(x),
        lower95: scale(l95),
        upper95: scale(u95),
        lower998: scale(l998),
        upper998: scale(u998),
        method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_util::{assert_rel, read_csv};

    #[test]
    fn byar_matches_phe_byars_wilson_sheet() {
        // Source: PHEindicatormethods tests/testthat/testdata_Byars_Wilson.xlsx,
        // sheet testdata_B_W, the rows with method "Byars" (as testByars.R;
        // the last row, 1 event at 99.8%, has an NA lower limit).
        let mut n_cases = 0;
        for r in read_csv("byars_wilson.csv")
            .iter()
            .filter(|r| r.s("method") == "Byars")
        {
            let x = r.f("x");
            let c = if r.s("confidence") == "95%" {
                0.95
            } else {
                0.998
            };
            let case = format!("byar({x}, {c})");
            match r.opt("lowercl") {
                Some(want) => assert_rel(byar_lower(x, c).unwrap(), want, &format!("{case} lower")),
                None => assert!(
                    matches!(byar_lower(x, c), Err(StatsError::ByarNegative { .. })),
                    "{case} lower should be NA"
                ),
            }
            assert_rel(
                byar_upper(x, c).unwrap(),
                r.f("uppercl"),
                &format!("{case} upper"),
            );
            n_cases += 1;
        }
        assert_eq!(n_cases, 7);
    }

    #[test]
    fn rate_matches_phe_rate_sheet() {
        // Source: PHEindicatormethods tests/testthat/testdata_Rate.xlsx, sheet
        // testdata_Rate: Area1–Area8 per 100 and per 100,000, and Area12
        // (numerator above denominator); exact below 10 events, Byar above.
        let rows = read_csv("rate.csv");
        assert_eq!(rows.len(), 17);
        for r in rows {
            let case = format!("{} per {}", r.s("Area"), r.s("multiplier"));
            let e = rate(r.f("Numerator"), r.f("Denominator"), r.f("multiplier")).unwrap();
            assert_rel(e.value, r.f("value"), &format!("{case} value"));
            assert_rel(e.lower95, r.f("lower95_0cl"), &format!("{case} lower95"));
            assert_rel(e.upper95, r.f("upper95_0cl"), &format!("{case} upper95"));
            assert_rel(e.lower998, r.f("lower99_8cl"), &format!("{case} lower99.8"));
            assert_rel(e.upper998, r.f("upper99_8cl"), &format!("{case} upper99.8"));
            let want = if r.s("method") == "Exact" {
                Method::Exact
            } else {
                Method::Byar
            };
            assert_eq!(e.method, want, "{case} method");
        }
    }

    #[test]
    fn rate_matches_phe_grouped_sheet() {
        // Source: PHEindicatormethods tests/testthat/testdata_Rate.xlsx, sheet
        // testdata_Rate_g (each area's two rows summed; 95% limits only).
        let rows = read_csv("rate_grouped.csv");
        assert_eq!(rows.len(), 9);
        for r in rows {
            let case = r.s("Area").to_string();
            let e = rate(r.f("Numerator"), r.f("Denominator"), r.f("multiplier")).unwrap();
            assert_rel(e.value, r.f("value"), &format!("{case} value"));
            assert_rel(e.lower95, r.f("lowercl"), &format!("{case} lower95"));
            assert_rel(e.upper95, r.f("uppercl"), &format!("{case} upper95"));
        }
    }

    #[test]
    fn zero_events_and_the_switch_at_ten() {
        // x = 0: lower 0, upper χ²⁻¹(0.975; 2)/2 = −ln(0.025) (metrics.md §2).
        let e = rate(0.0, 1000.0, 1000.0).unwrap();
        assert_eq!((e.value, e.lower95, e.lower998), (0.0, 0.0, 0.0));
        assert_rel(e.upper95, -(0.025_f64.ln()), "rate(0) upper95");
        assert_rel(e.upper998, -(0.001_f64.ln()), "rate(0) upper99.8");
        assert_eq!(rate(9.0, 100.0, 1.0).unwrap().method, Method::Exact);
        assert_eq!(rate(10.0, 100.0, 1.0).unwrap().method, Method::Byar);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(
            rate(-1.0, 10.0, 1.0),
            Err(StatsError::NegativeCount { .. })
        ));
        assert!(matches!(
            rate(1.0, 0.0, 1.0),
            Err(StatsError::NotPositive { .. })
        ));
        assert!(matches!(
            byar_lower(-4.0, 0.95),
            Err(StatsError::NegativeCount { .. })
        ));
        assert!(matches!(
            byar_lower(0.0, 0.95),
            Err(StatsError::ByarNegative { .. })
        ));
        assert!(matches!(
            exact_upper(3.0, 0.0),
            Err(StatsError::Confidence(_))
        ));
        assert!(rate(f64::INFINITY, 10.0, 1.0).is_err());
    }
}
