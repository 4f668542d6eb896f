//! Proportions with Wilson score intervals (metrics.md §1).
//! Follows PHEindicatormethods `R/utils.R` (`wilson_lower`, `wilson_upper`)
//! and `R/Proportions.R` (`phe_proportion`); checked against the package's
//! `testdata_Byars_Wilson.xlsx` and `testdata_Proportion.xlsx`.

use super::{
    check_confidence, check_count, check_positive, z_unchecked, Estimate, Method, Result,
    StatsError,
};

/// Wilson score interval for `x` of `n` at confidence `c`, on the 0–1 scale.
///
/// Wilson rather than the normal approximation because it stays inside
/// [0, 1] and behaves at x = 0 and x = n, which small PCN groups hit often
/// (Newcombe 1998). `x` may be fractional (the package allows it);
/// `c = 1` gives (0, 1) as the package does.
pub fn wilson(x: f64, n: f64, c: f64) -> Result<(f64, f64)> {
    check_count("numerator", x)?;
    check_positive("denominator", n)?;
    if x > n {
        return Err(StatsError::NumeratorAboveDenominator { x, n });
    }
    if c == 1.0 {
        return Ok((0.0, 1.0));
    }
    check_confidence(c)?;
    let z = z_unchecked(c);
    let z2 = z * z;
    let root = z * (z2 + 4.0 * x * (1.0 - x / n)).sqrt();
    // Same grouping as the package's `(2x + z² ∓ ...)/2/(n + z²)`.
    let lower = (2.0 * x + z2 - root) / 2.0 / (n + z2);
    let upper = (2.0 * x + z2 + root) / 2.0 / (n + z2);
    // At x = 0 and x = n the formula gives 0 and 1 up to rounding; say so exactly.
    let lower = if x == 0.0 { 0.0 } else { lower };
    let upper = if x == n { 1.0 } else { upper };
    Ok((lower, upper))
}

/// `x / n × multiplier` with Wilson limits at 95% and 99.8%, as
/// `phe_proportion(..., confidence = c(0.95, 0.998))` returns them.
pub fn proportion(x: f64, n: f64, multiplier: f64) -> Result<Estimate> {
    check_positive("multiplier", multiplier)?;
    let (lower95, upper95) = wilson(x, n, 0.95)?;
    let (lower998, upper998) = wilson(x, n, 0.998)?;
    Ok(Estimate {
        value: x / n * multiplier,
        lower95: lower95 * multiplier,
        upper95: upper95 * multiplier,
        lower998: lower998 * multiplier,
        upper998: upper998 * multiplier,
        method: Method::Wilson,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_util::{assert_rel, read_csv};

    #[test]
    fn wilson_matches_phe_byars_wilson_sheet() {
        // Source: PHEindicatormethods tests/testthat/testdata_Byars_Wilson.xlsx,
        // sheet testdata_B_W, the rows with method "Wilson" (as testWilson.R).
        let mut n_cases = 0;
        for r in read_csv("byars_wilson.csv")
            .iter()
            .filter(|r| r.s("method") == "Wilson")
        {
            let (x, n) = (r.f("x"), r.f("n"));
            let c = if r.s("confidence") == "95%" {
                0.95
            } else {
                0.998
            };
            let (lo, hi) = wilson(x, n, c).unwrap();
            let case = format!("wilson({x}, {n}, {c})");
            assert_rel(lo, r.f("lowercl"), &format!("{case} lower"));
            assert_rel(hi, r.f("uppercl"), &format!("{case} upper"));
            n_cases += 1;
        }
        assert_eq!(n_cases, 6);
        // testWilson.R: confidence = 1 gives lower 0 and upper 1.
        assert_eq!(wilson(65.0, 100.0, 1.0).unwrap(), (0.0, 1.0));
    }

    #[test]
    fn proportion_matches_phe_proportion_sheet() {
        // Source: PHEindicatormethods tests/testthat/testdata_Proportion.xlsx,
        // sheet testdata_Prop, rows Area1–Area8 at multipliers 1 and 100
        // (the NA rows Area09–Area11 are R's NA handling, not maths).
        let rows = read_csv("proportion.csv");
        assert_eq!(rows.len(), 16);
        for r in rows {
            let case = format!("{} x{}", r.s("Area"), r.s("multiplier"));
            let e = proportion(r.f("Numerator"), r.f("Denominator"), r.f("multiplier")).unwrap();
            assert_rel(e.value, r.f("value"), &format!("{case} value"));
            assert_rel(e.lower95, r.f("lower95_0cl"), &format!("{case} lower95"));
            assert_rel(e.upper95, r.f("upper95_0cl"), &format!("{case} upper95"));
            assert_rel(e.lower998, r.f("lower99_8cl"), &format!("{case} lower99.8"));
            assert_rel(e.upper998, r.f("upper99_8cl"), &format!("{case} upper99.8"));
            assert_eq!(e.method, Method::Wilson);
        }
    }

    #[test]
    fn proportion_matches_phe_grouped_sheet() {
        // Source: PHEindicatormethods tests/testthat/testdata_Proportion.xlsx,
        // sheet testdata_Prop_g (each area's two rows summed, 95% only).
        let rows = read_csv("proportion_grouped.csv");
        assert_eq!(rows.len(), 8);
        for r in rows {
            let case = r.s("Area").to_string();
            let e = proportion(r.f("Numerator"), r.f("Denominator"), r.f("multiplier")).unwrap();
            assert_rel(e.value, r.f("value"), &format!("{case} value"));
            assert_rel(e.lower95, r.f("lowercl"), &format!("{case} lower95"));
            assert_rel(e.upper95, r.f("uppercl"), &format!("{case} upper95"));
        }
    }

    #[test]
    fn edge_cases_from_metrics_md() {
        // x = 0 gives lower 0; x = n gives upper 1 (metrics.md §1).
        let (lo, hi) = wilson(0.0, 10.0, 0.95).unwrap();
        assert_eq!(lo, 0.0);
        // z²/(n + z²) when x = 0.
        let z2 = 1.959963984540054_f64.powi(2);
        assert_rel(hi, z2 / (10.0 + z2), "wilson(0, 10) upper");
        let (lo, hi) = wilson(10.0, 10.0, 0.95).unwrap();
        assert_eq!(hi, 1.0);
        assert_rel(lo, 10.0 / (10.0 + z2), "wilson(10, 10) lower");
        let e = proportion(10.0, 10.0, 100.0).unwrap();
        assert_eq!((e.value, e.upper95, e.upper998), (100.0, 100.0, 100.0));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        // The package's own error cases (testWilson.R, testProportions.R).
        assert!(matches!(
            wilson(-4.0, 1.0, 0.95),
            Err(StatsError::NegativeCount { .. })
        ));
        assert!(matches!(
            wilson(1.0, -6.0, 0.95),
            Err(StatsError::NotPositive { .. })
        ));
        assert!(matches!(
            wilson(1.0, 0.0, 0.95),
            Err(StatsError::NotPositive { .. })
        ));
        assert!(matches!(
            wilson(80.0, 50.0, 0.95),
            Err(StatsError::NumeratorAboveDenominator { .. })
        ));
        assert!(matches!(
            wilson(1.0, 2.0, 1.25),
            Err(StatsError::Confidence(_))
        ));
        assert!(matches!(
            wilson(f64::NAN, 2.0, 0.95),
            Err(StatsError::NotFinite { .. })
        ));
        assert!(proportion(1.0, 2.0, 0.0).is_err());
    }
}
