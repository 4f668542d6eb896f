//! Unit tests of `sii`, kept beside it so the module itself stays short.

use super::*;
use crate::stats::test_util::{assert_close, assert_rel, read_csv, Row};

/// The rows of one test set of `sii.csv`, grouped by area in file order.
fn areas(rows: &[Row], set: &str) -> Vec<(String, Vec<SiiGroup>, Vec<f64>)> {
    let mut out: Vec<(String, Vec<SiiGroup>, Vec<f64>)> = Vec::new();
    for r in rows.iter().filter(|r| r.s("TestDescription") == set) {
        let g = SiiGroup {
            value: r.f("Value"),
            lower95: r.f("LowerCL"),
            upper95: r.f("UpperCL"),
            population: r.f("Population"),
        };
        let area = r.s("Area").to_string();
        match out.last_mut() {
            Some((a, gs, _)) if *a == area => gs.push(g),
            _ => out.push((area, vec![g], Vec::new())),
        }
        // The expected values sit on each area's quantile-1 row.
        if r.opt("sii").is_some() {
            let cols = [
                "sii",
                "rii",
                "sii_lowercl_1",
                "sii_uppercl_1",
                "rii_lowercl_1",
                "rii_uppercl_1",
                "sii_lowercl_2",
                "sii_uppercl_2",
                "rii_lowercl_2",
                "rii_uppercl_2",
                "Intercept",
            ];
            let last = out.last_mut().expect("just pushed");
            last.2 = cols.iter().map(|c| r.opt(c).unwrap_or(f64::NAN)).collect();
        }
    }
    assert!(!out.is_empty(), "no rows for test set `{set}`");
    out
}

/// Agreement for Monte Carlo limits: 1% of the reference limit, or of the
/// reference interval's width when the limit is nearer 0 than the width
/// (a relative error means nothing for a limit close to 0).
fn assert_mc(got: f64, want: f64, width: f64, case: &str) {
    assert_close(got, want, 0.01, 0.01 * width.abs(), case);
}

/// Runs one PHE test set: the package's `multiplier` M is phm's m = −M.
fn check_set(
    set: &str,
    value_type: ValueType,
    phe_multiplier: f64,
    second_level: Option<f64>,
) -> usize {
    let rows = read_csv("sii.csv");
    let mut n_checks = 0;
    for (area, groups, want) in areas(&rows, set) {
        let repetitions = rows
            .iter()
            .find(|r| r.s("TestDescription") == set)
            .map(|r| r.f("Repetitions") as usize)
            .expect("set has rows");
        let options = SiiOptions {
            value_type,
            multiplier: -phe_multiplier,
            repetitions: repetitions.max(100_000),
            seed: 20_240_601,
        };
        let case = format!("{set} / {area}");
        let result = sii(&groups, &options).unwrap();
        assert_eq!(result.note, None, "{case}");
        assert_rel(result.sii.unwrap(), want[0], &format!("{case}: sii"));
        assert_rel(result.rii.unwrap(), want[1], &format!("{case}: rii"));
        n_checks += 2;
        if !want[10].is_nan() {
            assert_rel(
                result.intercept.unwrap(),
                want[10],
                &format!("{case}: intercept"),
            );
            n_checks += 1;
        }
        if want[2].is_nan() {
            continue; // quintile set: the package's sheet has the SII only
        }
        let first = rows
            .iter()
            .find(|r| r.s("TestDescription") == set)
            .map(|r| r.s("Confidence").to_string())
            .unwrap_or_default();
        let level1 = if first == "99" { 0.99 } else { 0.95 };
        let mut levels = vec![(level1, 2)];
        if let Some(c) = second_level {
            levels.push((c, 6));
        }
        // 95% limits are read from `sii`'s result; other levels need the
        // samples, simulated again only then (same seed, same samples).
        let mut sim: Option<SiiSimulation> = None;
        for (c, at) in levels {
            let (sl, su, rl, ru) = if c == 0.95 {
                let get = |v: Option<f64>| v.expect("95% limit");
                (
                    get(result.sii_lower95),
                    get(result.sii_upper95),
                    get(result.rii_lower95),
                    get(result.rii_upper95),
                )
            } else {
                let sim = sim.get_or_insert_with(|| sii_simulate(&groups, &options).unwrap());
                let (sl, su) = sim.sii_limits(c).unwrap();
                let (rl, ru) = sim.rii_limits(c).unwrap();
                (sl, su, rl, ru)
            };
            let (sw, rw) = (want[at + 1] - want[at], want[at + 3] - want[at + 2]);
            assert_mc(sl, want[at], sw, &format!("{case}: sii lower {c}"));
            assert_mc(su, want[at + 1], sw, &format!("{case}: sii upper {c}"));
            assert_mc(rl, want[at + 2], rw, &format!("{case}: rii lower {c}"));
            assert_mc(ru, want[at + 3], rw, &format!("{case}: rii upper {c}"));
            n_checks += 4;
        }
    }
    n_checks
}

// Source for every test below: PHEindicatormethods
// tests/testthat/testdata_SII.xlsx (sheet testdata_SII), the test set named
// in each call (column TestDescription), as used by testSII.R.

#[test]
fn phe_life_expectancy_default() {
    assert_eq!(
        check_set(
            "default (e.g. life expectancy) - default parameters",
            ValueType::Other,
            1.0,
            None
        ),
        12
    );
}

#[test]
fn phe_life_expectancy_99_percent() {
    assert_eq!(
        check_set(
            "default - testing 99% confidence",
            ValueType::Other,
            1.0,
            None
        ),
        12
    );
}

#[test]
fn phe_life_expectancy_95_and_99_percent() {
    assert_eq!(
        check_set(
            "default (e.g. life expectancy) - multiple CIs",
            ValueType::Other,
            1.0,
            Some(0.99)
        ),
        20
    );
}

#[test]
fn phe_life_expectancy_10000_repetitions_sheet() {
    // The sheet's limits came from 10,000 repetitions (column Repetitions);
    // testSII.R runs this set with 100,000, and so do we: at 10,000 the
    // reference's own Monte Carlo error is already near 1% of the interval.
    assert_eq!(
        check_set(
            "default - testing 10,000 repetitions",
            ValueType::Other,
            1.0,
            None
        ),
        12
    );
}

#[test]
fn phe_life_expectancy_quintiles() {
    assert_eq!(
        check_set("default - testing quintiles", ValueType::Other, 1.0, None),
        4
    );
}

#[test]
fn phe_life_expectancy_intercept() {
    assert_eq!(
        check_set(
            "default (e.g. life expectancy) - intercept",
            ValueType::Other,
            1.0,
            None
        ),
        14
    );
}

#[test]
fn phe_rate_log_scale() {
    assert_eq!(
        check_set(
            "rate (e.g. infant mortality) - default parameters",
            ValueType::Rate,
            1.0,
            None
        ),
        12
    );
    assert_eq!(
        check_set(
            "rate (e.g. infant mortality) - intercept",
            ValueType::Rate,
            1.0,
            None
        ),
        14
    );
}

#[test]
fn phe_proportion_logit_scale() {
    assert_eq!(
        check_set(
            "proportion (e.g. child obesity) - default parameters",
            ValueType::Proportion,
            1.0,
            None
        ),
        12
    );
    assert_eq!(
        check_set(
            "proportion (e.g. child obesity) - intercept",
            ValueType::Proportion,
            1.0,
            None
        ),
        14
    );
}

#[test]
fn phe_proportion_multiplier_100_and_minus_100() {
    // PHE multiplier 100 is phm m = −100; PHE −100 is phm's usual m = 100,
    // where the RII is inverted (metrics.md §4 step 3).
    assert_eq!(
        check_set(
            "proportion - testing multiplier (x 100)",
            ValueType::Proportion,
            100.0,
            None
        ),
        12
    );
    assert_eq!(
        check_set(
            "proportion - testing multiplier (x -100)",
            ValueType::Proportion,
            -100.0,
            None
        ),
        12
    );
}

#[test]
fn value_type_other_limits_match_normal_theory() {
    // HAND-DERIVED check, stronger than the sheet's own Monte Carlo limits:
    // with no transform each simulated slope is a fixed linear combination
    // of normal draws, so its limits are exactly β ± z·sd(β), with
    // sd(β)² = Σ (w_β,j seⱼ)². Inputs: testdata_SII.xlsx, set
    // "default (e.g. life expectancy) - default parameters", with its
    // StandardError column; the weights are recomputed here from the
    // weighted normal equations. (The sheet's area1 95% limits, 3.1276
    // and 10.7587, are themselves 1.2% and 0.2% off these exact values.)
    let rows = read_csv("sii.csv");
    let set = "default (e.g. life expectancy) - default parameters";
    for area in ["area1", "area2"] {
        let g: Vec<&Row> = rows
            .iter()
            .filter(|r| r.s("TestDescription") == set && r.s("Area") == area)
            .collect();
        let total: f64 = g.iter().map(|r| r.f("Population")).sum();
        let (mut s0, mut s1, mut s2, mut cum) = (0.0, 0.0, 0.0, 0.0);
        let mut ab = Vec::new();
        for r in &g {
            let a = r.f("Population") / total;
            let b = cum + a / 2.0;
            cum += a;
            (s0, s1, s2) = (s0 + a, s1 + a * b, s2 + a * b * b);
            ab.push((a, b));
        }
        // β = Σ aⱼ (bⱼ s0 − s1) yⱼ / (s0 s2 − s1²)
        let det = s0 * s2 - s1 * s1;
        let (mut beta, mut var) = (0.0, 0.0);
        for ((a, b), r) in ab.iter().zip(&g) {
            let w = a * (b * s0 - s1) / det;
            beta += w * r.f("Value");
            var += (w * r.f("StandardError")).powi(2);
        }
        let groups: Vec<SiiGroup> = g
            .iter()
            .map(|r| SiiGroup {
                value: r.f("Value"),
                lower95: r.f("LowerCL"),
                upper95: r.f("UpperCL"),
                population: r.f("Population"),
            })
            .collect();
        // PHE multiplier 1 = phm m −1, so the SII is +β.
        let options = SiiOptions {
            multiplier: -1.0,
            seed: 20_240_601,
            ..SiiOptions::default()
        };
        let sim = sii_simulate(&groups, &options).unwrap();
        for c in [0.95, 0.99, 0.998] {
            let z = crate::stats::z(c).unwrap();
            let sd = var.sqrt();
            let (lo, hi) = (beta - z * sd, beta + z * sd);
            let (got_lo, got_hi) = sim.sii_limits(c).unwrap();
            // 4 standard errors of a sample quantile from R draws:
            // sd·√(p(1 − p)/R)/φ(z), p = (1 − c)/2.
            let p = (1.0 - c) / 2.0;
            let phi = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
            let tol = 4.0 * sd * (p * (1.0 - p) / options.repetitions as f64).sqrt() / phi;
            assert_close(
                got_lo,
                lo,
                0.0,
                tol,
                &format!("{area} SII lower {c} vs normal theory"),
            );
            assert_close(
                got_hi,
                hi,
                0.0,
                tol,
                &format!("{area} SII upper {c} vs normal theory"),
            );
        }
    }
}

/// Ten made-up groups, most deprived first, value falling with deprivation.
fn deciles() -> Vec<SiiGroup> {
    (0..10)
        .map(|i| {
            let v = 0.30 - 0.015 * i as f64;
            SiiGroup {
                value: v,
                lower95: v - 0.02,
                upper95: v + 0.02,
                population: 1000.0 + 50.0 * i as f64,
            }
        })
        .collect()
}

#[test]
fn sign_convention_positive_means_higher_among_most_deprived() {
    // metrics.md §4 step 3: m′ = −m, so higher values among the more
    // deprived give SII > 0 and RII > 1.
    let options = SiiOptions {
        value_type: ValueType::Proportion,
        multiplier: 100.0,
        repetitions: 10_000,
        seed: 1,
    };
    let r = sii(&deciles(), &options).unwrap();
    assert!(r.sii.unwrap() > 0.0 && r.rii.unwrap() > 1.0, "{r:?}");
    assert!(r.sii_lower95.unwrap() < r.sii.unwrap() && r.sii.unwrap() < r.sii_upper95.unwrap());
    assert!(r.sii_lower998.unwrap() < r.sii_lower95.unwrap());
    // Hand-derived: an exactly linear y = α + β·rank is fitted exactly.
    let groups: Vec<SiiGroup> = [100.0, 300.0, 200.0, 400.0, 250.0]
        .iter()
        .scan(0.0, |cum, &n| {
            let b = (*cum + n / 2.0) / 1250.0;
            *cum += n;
            let v = 50.0 - 20.0 * b;
            Some(SiiGroup {
                value: v,
                lower95: v - 1.0,
                upper95: v + 1.0,
                population: n,
            })
        })
        .collect();
    let fit = sii_fit(&groups).unwrap();
    assert_rel(fit.alpha, 50.0, "linear alpha");
    assert_rel(fit.beta, -20.0, "linear beta");
    let r = sii(
        &groups,
        &SiiOptions {
            repetitions: 1000,
            ..SiiOptions::default()
        },
    )
    .unwrap();
    assert_rel(r.sii.unwrap(), 20.0, "linear SII = −m·β");
    assert_rel(r.rii.unwrap(), 50.0 / 30.0, "linear RII = α/(α+β)");
}

#[test]
fn same_seed_same_interval_on_any_thread_count() {
    let options = SiiOptions {
        value_type: ValueType::Rate,
        multiplier: 1.0,
        repetitions: 50_000,
        seed: 42,
    };
    let mut groups = deciles();
    for g in &mut groups {
        (g.value, g.lower95, g.upper95) = (g.value * 1e3, g.lower95 * 1e3, g.upper95 * 1e3);
    }
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| sii(&groups, &options).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one, sii(&groups, &options).unwrap());
    let other_seed = sii(
        &groups,
        &SiiOptions {
            seed: 43,
            ..options
        },
    )
    .unwrap();
    assert_ne!(one.sii_lower95, other_seed.sii_lower95);
}

#[test]
fn zero_numerator_withholds_the_interval_only() {
    // metrics.md §4: a zero numerator makes the log/logit undefined.
    let mut groups = deciles();
    groups[3] = SiiGroup {
        value: 0.0,
        lower95: 0.0,
        upper95: 0.01,
        population: 500.0,
    };
    let options = SiiOptions {
        value_type: ValueType::Proportion,
        multiplier: 100.0,
        repetitions: 1000,
        seed: 7,
    };
    let r = sii(&groups, &options).unwrap();
    assert!(r.sii.is_some() && r.rii.is_some());
    assert!(r.sii_lower95.is_none() && r.rii_upper998.is_none());
    assert_eq!(
        r.note.as_deref(),
        Some(
            "SII interval not computed: group 4 has a value or 95% limit of 0 or 1 \
             (a numerator of 0, or equal to the denominator), whose logit is undefined"
        )
    );
    // Value type "other" has no transform, so 0 is an ordinary value.
    let r = sii(
        &groups,
        &SiiOptions {
            value_type: ValueType::Other,
            ..options
        },
    )
    .unwrap();
    assert!(r.sii_lower95.is_some() && r.note.is_none());
}

#[test]
fn missing_or_empty_groups_and_too_few_groups_are_noted() {
    let options = SiiOptions {
        repetitions: 1000,
        ..SiiOptions::default()
    };
    let mut groups = deciles();
    groups[6].population = 0.0;
    let r = sii(&groups, &options).unwrap();
    assert_eq!(r.sii, None);
    assert_eq!(
        r.note.as_deref(),
        Some("SII not computed: group 7 has no population")
    );
    let mut groups = deciles();
    groups[2].value = f64::NAN;
    let r = sii(&groups, &options).unwrap();
    assert!(r.sii.is_none() && r.note.unwrap().contains("group 3"));
    let r = sii(&deciles()[..4], &options).unwrap();
    assert_eq!(
        r.note.as_deref(),
        Some("SII not computed: 4 deprivation groups, 5 to 100 needed")
    );
    let many = vec![deciles()[0]; 101];
    assert!(sii(&many, &options).unwrap().sii.is_none());
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    // testSII.R error cases: negative population, proportion outside 0–1,
    // fewer than 1,000 repetitions.
    let options = SiiOptions {
        repetitions: 1000,
        ..SiiOptions::default()
    };
    let mut groups = deciles();
    groups[0].population = -5.0;
    assert!(sii(&groups, &options).is_err());
    let mut groups = deciles();
    groups[0].upper95 = 1.5;
    assert!(sii(
        &groups,
        &SiiOptions {
            value_type: ValueType::Proportion,
            ..options
        }
    )
    .is_err());
    assert!(sii(
        &deciles(),
        &SiiOptions {
            repetitions: 999,
            ..options
        }
    )
    .is_err());
    assert!(sii(
        &deciles(),
        &SiiOptions {
            multiplier: 0.0,
            ..options
        }
    )
    .is_err());
    let mut groups = deciles();
    groups[1].lower95 = 0.9;
    assert!(sii(&groups, &options).is_err());
    let too_many = SiiOptions {
        repetitions: usize::MAX,
        ..options
    };
    assert!(sii(&deciles(), &too_many).is_err());
    let sim = sii_simulate(&deciles(), &options).unwrap();
    assert!(sim.sii_limits(1.0).is_err());
}
