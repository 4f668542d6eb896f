//! Most- vs least-deprived quintile: ratio (Katz log interval) and absolute
//! gap (Wald interval), metrics.md §5. This is phm's own choice: the package
//! has no such function (it only supplies the per-group intervals, from
//! `R/Rates.R` / `R/Proportions.R` / `R/DSR.R`), so the tests here are
//! hand-derived from the formulas, not PHE data.

use serde::Serialize;

use super::{check_count, check_finite, check_positive, z_unchecked, Result, StatsError, LEVELS};

/// Whether the groups hold rates (incl. DSRs) or proportions; the Katz
/// variance of the log ratio differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GapKind {
    Rate,
    Proportion,
}

/// One quintile's published figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GapGroup {
    /// Events or people: O for a DSR, x for a crude rate or proportion.
    pub numerator: f64,
    /// People; used for p = x/n of a proportion.
    pub denominator: f64,
    /// The value on the output scale (per 100,000, percent, …).
    pub value: f64,
    pub lower95: f64,
    pub upper95: f64,
}

/// The `gap.csv` figures of one area (metrics.md §7), plus 99.8% limits
/// because every phm interval is also given at 99.8%.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapResult {
    pub q1_value: f64,
    pub q5_value: f64,
    pub ratio: Option<f64>,
    pub ratio_lower95: Option<f64>,
    pub ratio_upper95: Option<f64>,
    pub ratio_lower998: Option<f64>,
    pub ratio_upper998: Option<f64>,
    pub gap: Option<f64>,
    pub gap_lower95: Option<f64>,
    pub gap_upper95: Option<f64>,
    pub gap_lower998: Option<f64>,
    pub gap_upper998: Option<f64>,
    pub note: Option<String>,
}

/// Ratio q1/q5 and gap q1 − q5 with intervals (metrics.md §5).
///
/// Ratio: `exp(ln ratio ± z·√(1/x₁ + 1/x₅))` for rates, with `(1 − pᵢ)/xᵢ`
/// terms for proportions (Katz). Gap: `± z·√(se₁² + se₅²)` with each
/// `se = (upper95 − lower95)/(2·1.959964)` from the group's own interval, so
/// the gap inherits Wilson, exact/Byar or Dobson widths. A zero numerator in
/// either group makes both null, noted, as metrics.md says.
pub fn quintile_gap(q1: &GapGroup, q5: &GapGroup, kind: GapKind) -> Result<GapResult> {
    for g in [q1, q5] {
        check_count("quintile numerator", g.numerator)?;
        check_positive("quintile denominator", g.denominator)?;
        check_finite("quintile value", g.value)?;
        check_finite("quintile lower limit", g.lower95)?;
        check_finite("quintile upper limit", g.upper95)?;
        if g.lower95 > g.upper95 {
            return Err(StatsError::Invalid(format!(
                "quintile lower limit {} is above its upper limit {}",
                g.lower95, g.upper95
            )));
        }
        if kind == GapKind::Proportion && g.numerator > g.denominator {
            return Err(StatsError::NumeratorAboveDenominator {
                x: g.numerator,
                n: g.denominator,
            });
        }
    }
    let mut out = GapResult {
        q1_value: q1.value,
        q5_value: q5.value,
        ratio: None,
        ratio_lower95: None,
        ratio_upper95: None,
        ratio_lower998: None,
        ratio_upper998: None,
        gap: None,
        gap_lower95: None,
        gap_upper95: None,
        gap_lower998: None,
        gap_upper998: None,
        note: None,
    };
    if q1.numerator == 0.0 || q5.numerator == 0.0 {
        let which = if q1.numerator == 0.0 { 1 } else { 5 };
        out.note = Some(format!(
            "ratio and gap not computed: quintile {which} has a zero numerator"
        ));
        return Ok(out);
    }
    let log_var = |g: &GapGroup| match kind {
        GapKind::Rate => 1.0 / g.numerator,
        GapKind::Proportion => (1.0 - g.numerator / g.denominator) / g.numerator,
    };
    let log_se = (log_var(q1) + log_var(q5)).sqrt();
    let z95 = z_unchecked(LEVELS[0]);
    let z998 = z_unchecked(LEVELS[1]);
    let ratio = q1.value / q5.value;
    let ln_ratio = ratio.ln();
    let ratio_at = |z: f64| ((ln_ratio - z * log_se).exp(), (ln_ratio + z * log_se).exp());
    let wald_se = |g: &GapGroup| (g.upper95 - g.lower95) / (2.0 * z95);
    let gap = q1.value - q5.value;
    let gap_se = (wald_se(q1).powi(2) + wald_se(q5).powi(2)).sqrt();
    let ((rl95, ru95), (rl998, ru998)) = (ratio_at(z95), ratio_at(z998));
    out.ratio = Some(ratio);
    (out.ratio_lower95, out.ratio_upper95) = (Some(rl95), Some(ru95));
    (out.ratio_lower998, out.ratio_upper998) = (Some(rl998), Some(ru998));
    out.gap = Some(gap);
    (out.gap_lower95, out.gap_upper95) = (Some(gap - z95 * gap_se), Some(gap + z95 * gap_se));
    (out.gap_lower998, out.gap_upper998) = (Some(gap - z998 * gap_se), Some(gap + z998 * gap_se));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_util::assert_rel;
    use crate::stats::{proportion, rate};

    // No PHE source: the package has no ratio/gap function. Expected values
    // are HAND-DERIVED from the metrics.md §5 formulas in Python 3
    // (math + statistics.NormalDist for z), written apart from this code:
    // each group's Byar or Wilson 95% limits from the metrics.md §1–2
    // formulas, then ratio = v1/v5, exp(ln ratio ± z·s) with
    // s = sqrt(1/x1 + 1/x5) (rates) or sqrt((1-p1)/x1 + (1-p5)/x5)
    // (proportions), and gap ± z·sqrt(se1² + se5²), se = (u - l)/(2·z95).

    #[test]
    fn rate_ratio_and_gap_hand_derived() {
        // q1: 120 events / 40,000, q5: 60 / 50,000, per 100,000 (Byar limits).
        let e1 = rate(120.0, 40_000.0, 1e5).unwrap();
        let e5 = rate(60.0, 50_000.0, 1e5).unwrap();
        let g = |x, n, e: crate::stats::Estimate| GapGroup {
            numerator: x,
            denominator: n,
            value: e.value,
            lower95: e.lower95,
            upper95: e.upper95,
        };
        let r = quintile_gap(
            &g(120.0, 40_000.0, e1),
            &g(60.0, 50_000.0, e5),
            GapKind::Rate,
        )
        .unwrap();
        // ratio = 300/120 = 2.5; ln-se = sqrt(1/120 + 1/60) = 0.158113883...
        assert_rel(r.ratio.unwrap(), 2.5, "rate ratio");
        assert_rel(
            r.ratio_lower95.unwrap(),
            1.833805316355668,
            "rate ratio lower95",
        );
        assert_rel(
            r.ratio_upper95.unwrap(),
            3.4082134806003634,
            "rate ratio upper95",
        );
        assert_rel(
            r.ratio_lower998.unwrap(),
            1.5336984446346746,
            "rate ratio lower99.8",
        );
        assert_rel(
            r.ratio_upper998.unwrap(),
            4.075116605786703,
            "rate ratio upper99.8",
        );
        assert_rel(r.gap.unwrap(), 180.0, "rate gap");
        // Wald from the Byar limits of each group (Python, same formulas).
        assert_rel(
            r.gap_lower95.unwrap(),
            116.64177020385773,
            "rate gap lower95",
        );
        assert_rel(
            r.gap_upper95.unwrap(),
            243.35822979614227,
            "rate gap upper95",
        );
        assert_rel(
            r.gap_lower998.unwrap(),
            80.10446614222376,
            "rate gap lower99.8",
        );
        assert_rel(
            r.gap_upper998.unwrap(),
            279.89553385777623,
            "rate gap upper99.8",
        );
        assert!(r.note.is_none());
    }

    #[test]
    fn proportion_ratio_hand_derived() {
        // q1: 300 of 1,000 (30%), q5: 150 of 1,000 (15%), as percentages.
        let e1 = proportion(300.0, 1000.0, 100.0).unwrap();
        let e5 = proportion(150.0, 1000.0, 100.0).unwrap();
        let q1 = GapGroup {
            numerator: 300.0,
            denominator: 1000.0,
            value: e1.value,
            lower95: e1.lower95,
            upper95: e1.upper95,
        };
        let q5 = GapGroup {
            numerator: 150.0,
            denominator: 1000.0,
            value: e5.value,
            lower95: e5.lower95,
            upper95: e5.upper95,
        };
        let r = quintile_gap(&q1, &q5, GapKind::Proportion).unwrap();
        // ln-se = sqrt(0.7/300 + 0.85/150) = 0.089442719...
        assert_rel(r.ratio.unwrap(), 2.0, "proportion ratio");
        assert_rel(
            r.ratio_lower95.unwrap(),
            1.6784028764187613,
            "proportion ratio lower95",
        );
        assert_rel(
            r.ratio_upper95.unwrap(),
            2.3832180319750598,
            "proportion ratio upper95",
        );
        assert_rel(
            r.ratio_upper998.unwrap(),
            2.6367470006976466,
            "proportion ratio upper99.8",
        );
        assert_rel(r.gap.unwrap(), 15.0, "proportion gap");
        assert_rel(
            r.gap_lower95.unwrap(),
            11.402903042789639,
            "proportion gap lower95",
        );
        assert_rel(
            r.gap_upper95.unwrap(),
            18.59709695721036,
            "proportion gap upper95",
        );
        assert_rel(
            r.gap_lower998.unwrap(),
            9.328535976543481,
            "proportion gap lower99.8",
        );
    }

    #[test]
    fn zero_numerator_is_noted() {
        let q1 = GapGroup {
            numerator: 0.0,
            denominator: 500.0,
            value: 0.0,
            lower95: 0.0,
            upper95: 0.7,
        };
        let q5 = GapGroup {
            numerator: 5.0,
            denominator: 500.0,
            value: 1.0,
            lower95: 0.4,
            upper95: 2.3,
        };
        let r = quintile_gap(&q1, &q5, GapKind::Proportion).unwrap();
        assert!(r.ratio.is_none() && r.gap.is_none() && r.gap_upper95.is_none());
        assert_eq!(
            r.note.as_deref(),
            Some("ratio and gap not computed: quintile 1 has a zero numerator")
        );
        assert_eq!((r.q1_value, r.q5_value), (0.0, 1.0));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let ok = GapGroup {
            numerator: 5.0,
            denominator: 500.0,
            value: 1.0,
            lower95: 0.4,
            upper95: 2.3,
        };
        let bad = GapGroup {
            numerator: 600.0,
            ..ok
        };
        assert!(quintile_gap(&bad, &ok, GapKind::Proportion).is_err());
        assert!(quintile_gap(&bad, &ok, GapKind::Rate).is_ok());
        let neg = GapGroup {
            numerator: -1.0,
            ..ok
        };
        assert!(quintile_gap(&ok, &neg, GapKind::Rate).is_err());
        let swapped = GapGroup { lower95: 3.0, ..ok };
        assert!(quintile_gap(&ok, &swapped, GapKind::Rate).is_err());
    }
}
