//! Unit tests of `funnel`, kept beside it so the module itself stays short.

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
