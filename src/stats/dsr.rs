//! Directly standardised rates with Dobson intervals (metrics.md §3).
//! Follows PHEindicatormethods `R/DSR.R` (`calculate_dsr`, `dsr_inner`) for
//! independent events; checked against `testdata_DSR_ISR.xlsx`. Choosing the
//! bands an indicator's age range covers is the caller's job (`dsr_esp2013`
//! helps); the package's non-independent-events adjustment is not in phm.

use serde::Serialize;

use super::rate::{byar_lower, byar_upper};
use super::{check_count, check_finite, check_positive, Estimate, Method, Result, StatsError};

/// European Standard Population 2013: weight per 100,000 for the 19 five-year
/// bands 0–4, 5–9, …, 85–89, 90+ (metrics.md §3; the package's `esp2013`).
pub const ESP2013: [f64; 19] = [
    5000.0, 5500.0, 5500.0, 5500.0, 6000.0, 6000.0, 6500.0, 7000.0, 7000.0, 7000.0, 7000.0, 6500.0,
    6000.0, 5500.0, 5000.0, 4000.0, 2500.0, 1500.0, 1000.0,
];

/// First age of each ESP2013 band (the last band is 90 and over).
pub const ESP2013_BAND_STARTS: [u32; 19] = [
    0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90,
];

/// Note on a DSR withheld because its total count is under 10 (the package's
/// own wording, which Fingertips users recognise).
pub const NOTE_SMALL_COUNT: &str = "dsr NA for total count < 10";
/// Note on a DSR withheld because a covered age band has no population.
pub const NOTE_EMPTY_BAND: &str = "empty age band";

/// One age band of one area: events, population and standard-population weight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DsrBand {
    pub events: f64,
    pub population: f64,
    pub std_pop: f64,
}

/// A DSR, or why it is not published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DsrResult {
    /// O = Σxᵢ, reported even when the rate is withheld.
    pub total_count: f64,
    /// Σnᵢ over the covered bands.
    pub total_pop: f64,
    /// The rate and limits; `None` when not published (see `note`).
    pub estimate: Option<Estimate>,
    pub note: Option<&'static str>,
}

/// DSR per `multiplier` over the given bands, with Dobson limits at 95% and 99.8%.
///
/// Pass exactly the bands the indicator covers (an 18+ indicator passes
/// 15–19 upwards, with full weights); the weights need not sum to 100,000.
/// Bands with no events count as 0 events (the package's `na.zero`).
/// A band with population 0 gives `None` with the note "empty age band"
/// (the package refuses such input); a total under 10 events gives `None`
/// with "dsr NA for total count < 10", because the package withholds those.
pub fn dsr(bands: &[DsrBand], multiplier: f64) -> Result<DsrResult> {
    check_positive("multiplier", multiplier)?;
    if bands.is_empty() {
        return Err(StatsError::Invalid(
            "a DSR needs at least one age band".into(),
        ));
    }
    for b in bands {
        check_count("band events", b.events)?;
        check_count("band population", b.population)?;
        check_count("standard population weight", b.std_pop)?;
    }
    let total_count: f64 = bands.iter().map(|b| b.events).sum();
    let total_pop: f64 = bands.iter().map(|b| b.population).sum();
    let withheld = |note| DsrResult {
        total_count,
        total_pop,
        estimate: None,
        note: Some(note),
    };
    if bands.iter().any(|b| b.population == 0.0) {
        return Ok(withheld(NOTE_EMPTY_BAND));
    }
    let total_std: f64 = bands.iter().map(|b| b.std_pop).sum();
    if total_std <= 0.0 {
        return Err(StatsError::Invalid(
            "the standard population weights of the covered bands sum to 0".into(),
        ));
    }
    if total_count < 10.0 {
        return Ok(withheld(NOTE_SMALL_COUNT));
    }
    // Summed in band order, as the package's `sum(wt_rate)` does.
    let wt_rate: f64 = bands
        .iter()
        .map(|b| b.events * b.std_pop / b.population)
        .sum();
    let sq_rate: f64 = bands
        .iter()
        .map(|b| b.events * (b.std_pop / b.population).powi(2))
        .sum();
    let value = wt_rate / total_std * multiplier;
    let var_dsr = 1.0 / total_std.powi(2) * sq_rate;
    let o = total_count;
    let k = (var_dsr / o).sqrt();
    // Byar always here, not exact: O ≥ 10 by now, so byar_lower is positive.
    let limit = |byar: f64| value + k * (byar - o) * multiplier;
    let estimate = Estimate {
        value,
        lower95: limit(byar_lower(o, 0.95)?),
        upper95: limit(byar_upper(o, 0.95)?),
        lower998: limit(byar_lower(o, 0.998)?),
        upper998: limit(byar_upper(o, 0.998)?),
        method: Method::Dsr,
    };
    check_finite("DSR", estimate.value)?;
    Ok(DsrResult {
        total_count,
        total_pop,
        estimate: Some(estimate),
        note: None,
    })
}

/// DSR on ESP2013 for consecutive bands starting at band `first_band`
/// (0 = ages 0–4, 3 = 15–19 for an 18+ indicator), from `(events, population)`
/// pairs in band order; full ESP2013 weights, as metrics.md §3 says.
pub fn dsr_esp2013(counts: &[(f64, f64)], first_band: usize, multiplier: f64) -> Result<DsrResult> {
    let weights = ESP2013
        .get(first_band..)
        .filter(|w| w.len() >= counts.len())
        .ok_or_else(|| {
            StatsError::Invalid(format!(
                "{} age bands from band {first_band} run past ESP2013's 19 bands",
                counts.len()
            ))
        })?;
    let bands: Vec<DsrBand> = counts
        .iter()
        .zip(weights)
        .map(|(&(events, population), &std_pop)| DsrBand {
            events,
            population,
            std_pop,
        })
        .collect();
    dsr(&bands, multiplier)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_util::{assert_rel, read_csv, Row};

    /// The bands of one area of `dsr_multiarea.csv`, NA counts as 0 (`na.zero`).
    fn area_counts(rows: &[Row], area: &str) -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|r| r.s("area") == area)
            .map(|r| (r.opt("count").unwrap_or(0.0), r.f("pop")))
            .collect()
    }

    fn check(result: &DsrResult, want: &Row, with_998: bool) {
        let case = format!("{} ({})", want.s("area"), want.s("statistic"));
        assert_eq!(
            result.total_count,
            want.f("total_count"),
            "{case} total_count"
        );
        assert_eq!(result.total_pop, want.f("total_pop"), "{case} total_pop");
        match want.opt("value") {
            None => {
                assert!(result.estimate.is_none(), "{case} should be withheld");
                assert_eq!(result.note, Some(NOTE_SMALL_COUNT), "{case} note");
                assert_eq!(want.s("statistic"), NOTE_SMALL_COUNT);
            }
            Some(value) => {
                let e = result.estimate.expect("estimate");
                assert_rel(e.value, value, &format!("{case} value"));
                assert_rel(e.lower95, want.f("lower95_0cl"), &format!("{case} lower95"));
                assert_rel(e.upper95, want.f("upper95_0cl"), &format!("{case} upper95"));
                if with_998 {
                    assert_rel(
                        e.lower998,
                        want.f("lower99_8cl"),
                        &format!("{case} lower99.8"),
                    );
                    assert_rel(
                        e.upper998,
                        want.f("upper99_8cl"),
                        &format!("{case} upper99.8"),
                    );
                }
            }
        }
    }

    #[test]
    fn dsr_matches_phe_multiarea_esp2013() {
        // Source: PHEindicatormethods tests/testthat/testdata_DSR_ISR.xlsx,
        // inputs sheet testdata_multiarea (19 ESP2013 bands per area; the NA
        // count in testdata_tiny is 0), expected sheet testresults_DSR rows 1–3
        // (per 10,000) and 5–7 (per 100,000), as testDSRs.R.
        let input = read_csv("dsr_multiarea.csv");
        let results = read_csv("dsr_results.csv");
        let mut n_cases = 0;
        for want in results.iter().filter(|r| r.s("area") != "testdata_1976") {
            let multiplier = if want.s("statistic").ends_with("10000") {
                10_000.0
            } else {
                100_000.0
            };
            let counts = area_counts(&input, want.s("area"));
            assert_eq!(counts.len(), 19);
            let result = dsr_esp2013(&counts, 0, multiplier).unwrap();
            check(&result, want, true);
            if want.s("area") == "testdata_tiny" {
                // tiny (9 events) is withheld at both multipliers
                let r = dsr_esp2013(&counts, 0, 10_000.0).unwrap();
                check(&r, want, true);
            }
            n_cases += 1;
        }
        assert_eq!(n_cases, 6);
    }

    #[test]
    fn dsr_matches_phe_user_standard_population() {
        // Source: PHEindicatormethods tests/testthat/testdata_DSR_ISR.xlsx,
        // inputs sheet testdata_1976 (18 bands, ESP1976 weights), expected
        // testresults_DSR row 8 (per 100,000) and row 4 (per 10,000). The
        // sheet's 99.8% cells for testdata_1976 are exactly 10 times the
        // Dobson limits (a slip in the sheet; testDSRs.R never reads them), so
        // they are checked here as such rather than skipped.
        let bands: Vec<DsrBand> = read_csv("dsr_1976.csv")
            .iter()
            .map(|r| DsrBand {
                events: r.f("count"),
                population: r.f("pop"),
                std_pop: r.f("esp1976"),
            })
            .collect();
        assert_eq!(bands.len(), 18);
        for want in read_csv("dsr_results.csv")
            .iter()
            .filter(|r| r.s("area") == "testdata_1976")
        {
            let multiplier = if want.s("statistic").ends_with("10000") {
                10_000.0
            } else {
                100_000.0
            };
            let result = dsr(&bands, multiplier).unwrap();
            check(&result, want, false);
            let e = result.estimate.expect("1976 DSR is published");
            let case = format!("testdata_1976 per {multiplier}, sheet's 99.8% cell / 10");
            assert_rel(
                e.lower998,
                want.f("lower99_8cl") / 10.0,
                &format!("{case} lower"),
            );
            assert_rel(
                e.upper998,
                want.f("upper99_8cl") / 10.0,
                &format!("{case} upper"),
            );
        }
    }

    #[test]
    fn counts_under_ten_are_withheld() {
        // metrics.md §3: O < 10 → null with "dsr NA for total count < 10";
        // O = 10 is published.
        let mut counts = vec![(0.0, 1000.0); 19];
        counts[18] = (9.0, 200.0);
        let r = dsr_esp2013(&counts, 0, 100_000.0).unwrap();
        assert_eq!(
            (r.estimate, r.note, r.total_count),
            (None, Some(NOTE_SMALL_COUNT), 9.0)
        );
        counts[18] = (10.0, 200.0);
        let r = dsr_esp2013(&counts, 0, 100_000.0).unwrap();
        assert!(r.estimate.is_some() && r.note.is_none());
    }

    #[test]
    fn an_empty_band_is_withheld_with_a_note() {
        // metrics.md §3: a covered band with nᵢ = 0 → null, "empty age band"
        // (testdata_err2 in the package, which it rejects with an error).
        let mut counts = vec![(50.0, 1000.0); 16];
        counts[2] = (0.0, 0.0);
        let r = dsr_esp2013(&counts, 3, 100_000.0).unwrap();
        assert_eq!((r.estimate, r.note), (None, Some(NOTE_EMPTY_BAND)));
    }

    #[test]
    fn adult_indicator_uses_bands_from_15_with_full_weights() {
        // 18+ indicator: bands 15–19 … 90+ (16 bands), weights from ESP2013[3..].
        // Hand-derived: with the same rate r in every band the DSR is r × m.
        let counts = vec![(20.0, 1000.0); 16];
        let r = dsr_esp2013(&counts, 3, 100_000.0).unwrap();
        assert_rel(r.estimate.unwrap().value, 2000.0, "flat-rate adult DSR");
        assert!(
            dsr_esp2013(&counts, 4, 100_000.0).is_err(),
            "16 bands from band 4 overrun"
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let b = |events, population, std_pop| DsrBand {
            events,
            population,
            std_pop,
        };
        // testdata_err1 (negative count), err3 (negative population), err4 (negative stdpop)
        assert!(matches!(
            dsr(&[b(-1.0, 10.0, 1.0)], 1e5),
            Err(StatsError::NegativeCount { .. })
        ));
        assert!(matches!(
            dsr(&[b(1.0, -10.0, 1.0)], 1e5),
            Err(StatsError::NegativeCount { .. })
        ));
        assert!(matches!(
            dsr(&[b(1.0, 10.0, -1.0)], 1e5),
            Err(StatsError::NegativeCount { .. })
        ));
        assert!(dsr(&[b(1.0, 10.0, 1.0)], -1.0).is_err());
        assert!(dsr(&[], 1e5).is_err());
        assert!(dsr(&[b(f64::NAN, 10.0, 1.0)], 1e5).is_err());
    }
}
