//! `phm inequalities` and `phm compare` end to end on a hand-built extract
//! whose every expected figure is worked out here from the published
//! formulas (metrics.md §1–6) and the counts we put in — not from phm.
//!
//! The extract (T = 2024-03-31, everyone aged 54):
//! - PCN U1: 100 patients in each IMD decile d = 1..10, of whom 30 − 2d have
//!   hypertension (28, 26, …, 10); 20 more with no LSOA (IMD unknown), 3 of
//!   them with hypertension. 12 patients of decile 1 had one emergency admission.
//! - PCN U2: 12 patients in decile 5, 5 with hypertension.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::formulas::{funnel_limit, wilson, Z95};
use crate::common::*;

const T: &str = "2024-03-31";

const LSOAS: [&str; 10] = [
    "E01000001",
    "E01000002",
    "E01000003",
    "E01000004",
    "E01000005",
    "E01000006",
    "E01000007",
    "E01000008",
    "E01000009",
    "E01000010",
];

fn extract(dir: &Path) {
    let mut x = Extract::default().with_default_imd();
    let mut id = 0;
    for d in 1..=10usize {
        for k in 0..100 {
            id += 1;
            let mut p = Patient::new(id);
            p.pcn = "U1";
            p.lsoa = Some(LSOAS[d - 1]);
            x.patients.push(p);
            if k < 30 - 2 * d {
                x.events
                    .push((id, code("hypertension"), "2015-01-01", None));
            }
            if d == 1 && k >= 88 {
                x.admissions.push((id, "2024-01-15", "emergency"));
            }
        }
    }
    for k in 0..20 {
        id += 1;
        let mut p = Patient::new(id);
        p.pcn = "U1";
        p.lsoa = None;
        x.patients.push(p);
        if k < 3 {
            x.events
                .push((id, code("hypertension"), "2015-01-01", None));
        }
    }
    for k in 0..12 {
        id += 1;
        let mut p = Patient::new(id);
        p.pcn = "U2";
        p.practice = "P00002";
        p.lsoa = Some(LSOAS[4]);
        x.patients.push(p);
        if k < 5 {
            x.events
                .push((id, code("hypertension"), "2015-01-01", None));
        }
    }
    x.write(dir);
}

fn header(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

fn find<'a>(
    rows: &'a [BTreeMap<String, String>],
    keys: &[(&str, &str)],
) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|r| keys.iter().all(|(k, v)| r[*k] == *v))
        .unwrap_or_else(|| panic!("no row with {keys:?}"))
}

fn f(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?} in {row:?}", row[col]))
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

struct Run {
    _dir: tempfile::TempDir,
    out: std::path::PathBuf,
    stdout: String,
}

fn run(extra: &[&str], rules: Option<&str>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    extract(&ex);
    let out = dir.path().join("out");
    let mut args = vec![
        "inequalities",
        "--quiet",
        "--extract",
        ex.to_str().unwrap(),
        "--as-of",
        T,
        "--out",
        out.to_str().unwrap(),
    ];
    let rules_dir = dir.path().join("rules");
    if let Some(toml) = rules {
        let (code, _, err) = phm(&["rules", "export", rules_dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        std::fs::write(rules_dir.join("indicators.toml"), toml).unwrap();
        args.extend(["--rules", rules_dir.to_str().unwrap()]);
    }
    args.extend(extra);
    let (code, stdout, err) = phm(&args);
    assert_eq!(code, 0, "{err}\n{stdout}");
    Run {
        _dir: dir,
        out,
        stdout,
    }
}

#[test]
fn files_have_the_metrics_md_columns() {
    let r = run(&["--indicator", "hypertension"], None);
    assert_eq!(
        header(&r.out.join("inequalities.csv")),
        "indicator,area_type,area_code,group_type,group,numerator,denominator,value,\
         lower95,upper95,lower998,upper998,method,note"
    );
    assert_eq!(
        header(&r.out.join("sii.csv")),
        "indicator,area_type,area_code,group_type,sii,sii_lower95,sii_upper95,sii_lower998,\
         sii_upper998,rii,rii_lower95,rii_upper95,rii_lower998,rii_upper998,note"
    );
    assert_eq!(
        header(&r.out.join("gap.csv")),
        "indicator,area_type,area_code,q1_value,q5_value,ratio,ratio_lower95,ratio_upper95,\
         gap,gap_lower95,gap_upper95,note"
    );
    for f in ["inequalities.json", "sii.json", "gap.json", "manifest.json"] {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(r.out.join(f)).unwrap()).unwrap();
        assert!(v.is_array() || v.is_object(), "{f}");
    }
}

#[test]
fn proportions_by_decile_with_wilson_limits_and_unknown_row() {
    let r = run(
        &["--indicator", "hypertension", "--no-disclosure-control"],
        None,
    );
    let rows = csv_maps(&r.out.join("inequalities.csv"));
    let icb = &find(&rows, &[("area_type", "icb"), ("group", "all")])["area_code"].clone();
    for d in 1..=10 {
        let row = find(&rows, &[("area_code", "U1"), ("group", &d.to_string())]);
        let x = (30 - 2 * d) as f64;
        assert_eq!(row["numerator"], x.to_string());
        assert_eq!(row["denominator"], "100");
        assert_eq!(row["method"], "wilson");
        close(f(row, "value"), x, &format!("decile {d} value"));
        let (lo, hi) = wilson(x, 100.0, Z95);
        close(f(row, "lower95"), lo * 100.0, "lower95");
        close(f(row, "upper95"), hi * 100.0, "upper95");
        let (lo, hi) = wilson(x, 100.0, 3.090232306167813);
        close(f(row, "lower998"), lo * 100.0, "lower998");
        close(f(row, "upper998"), hi * 100.0, "upper998");
    }
    // Unknown IMD is its own row, not dropped.
    let unknown = find(&rows, &[("area_code", "U1"), ("group", "unknown")]);
    assert_eq!(
        (
            unknown["numerator"].as_str(),
            unknown["denominator"].as_str()
        ),
        ("3", "20")
    );
    let all = find(&rows, &[("area_code", "U1"), ("group", "all")]);
    assert_eq!(
        (all["numerator"].as_str(), all["denominator"].as_str()),
        ("193", "1020")
    );
    // The ICB adds U2's 12 patients (5 with hypertension) to decile 5.
    let icb5 = find(&rows, &[("area_code", icb), ("group", "5")]);
    assert_eq!(
        (icb5["numerator"].as_str(), icb5["denominator"].as_str()),
        ("25", "112")
    );
    // Deciles U2 lacks are null with a note.
    let empty = find(&rows, &[("area_code", "U2"), ("group", "1")]);
    assert_eq!(empty["value"], "");
    assert!(empty["note"].contains("no patients"), "{empty:?}");
    assert!(r.out.join("NOT_FOR_SHARING.txt").is_file());
}

#[test]
fn sii_rii_and_gap_match_hand_values() {
    // Exact counts, so the hand values are the method's; the published
    // (rounded) version is the next test.
    let r = run(
        &["--indicator", "hypertension", "--no-disclosure-control"],
        None,
    );
    let sii = csv_maps(&r.out.join("sii.csv"));
    // U1: equal populations, so ranks bⱼ = (d − 0.5)/10 and y = 0.30 − 0.02d
    // = 0.29 − 0.2b exactly: β = −0.2, α = 0.29. SII = −m·β = 20 points;
    // RII = α/(α + β) = 0.29/0.09 (inverted because m′ < 0).
    let u1 = find(&sii, &[("area_code", "U1")]);
    assert_eq!(u1["group_type"], "imd_decile");
    close(f(u1, "sii"), 20.0, "SII");
    close(f(u1, "rii"), 0.29 / 0.09, "RII");
    assert!(f(u1, "sii_lower95") < 20.0 && 20.0 < f(u1, "sii_upper95"));
    assert!(f(u1, "sii_lower998") < f(u1, "sii_lower95"));
    assert!(f(u1, "rii_lower95") < 0.29 / 0.09 && 0.29 / 0.09 < f(u1, "rii_upper95"));
    // U2 has one decile only: not computed, by deciles nor quintiles, and says why.
    let u2 = find(&sii, &[("area_code", "U2")]);
    assert_eq!(u2["sii"], "");
    assert!(u2["note"].contains("no population"), "{u2:?}");

    // Gap: quintile 1 = deciles 1–2 (54/200 = 27%), quintile 5 = 9–10 (22/200 = 11%).
    let gap = csv_maps(&r.out.join("gap.csv"));
    let g = find(&gap, &[("area_code", "U1")]);
    close(f(g, "q1_value"), 27.0, "q1");
    close(f(g, "q5_value"), 11.0, "q5");
    close(f(g, "ratio"), 27.0 / 11.0, "ratio");
    let se = ((1.0f64 - 0.27) / 54.0 + (1.0 - 0.11) / 22.0).sqrt();
    close(
        f(g, "ratio_lower95"),
        ((27.0f64 / 11.0).ln() - Z95 * se).exp(),
        "ratio lower",
    );
    close(
        f(g, "ratio_upper95"),
        ((27.0f64 / 11.0).ln() + Z95 * se).exp(),
        "ratio upper",
    );
    close(f(g, "gap"), 16.0, "gap");
    let (l1, u1w) = wilson(54.0, 200.0, Z95);
    let (l5, u5w) = wilson(22.0, 200.0, Z95);
    let se_gap = (((u1w - l1) * 100.0 / (2.0 * Z95)).powi(2)
        + ((u5w - l5) * 100.0 / (2.0 * Z95)).powi(2))
    .sqrt();
    close(f(g, "gap_lower95"), 16.0 - Z95 * se_gap, "gap lower");
    close(f(g, "gap_upper95"), 16.0 + Z95 * se_gap, "gap upper");
}

#[test]
fn published_sii_and_gap_come_from_the_published_counts() {
    // rules.md §6.2: with disclosure control (the default) the SII is fitted
    // on the values of the published counts. U1's deciles 28, 26, …, 10 of
    // 100 are published as 30, 25, 25, 20, 20, 20, 15, 15, 10, 10. Equal
    // populations: b = (j − 0.5)/10, and least squares of y on b gives
    // β = −0.2121…, α = 0.29606… (worked in the note beside this test:
    // cov(b, y)/var(b) with mean b 0.5, mean y 0.19).
    let r = run(&["--indicator", "hypertension"], None);
    let sii = csv_maps(&r.out.join("sii.csv"));
    let u1 = find(&sii, &[("area_code", "U1")]);
    let beta = -0.21212121212121213;
    let alpha = 0.19 - beta * 0.5;
    close(f(u1, "sii"), -100.0 * beta, "published SII");
    close(f(u1, "rii"), alpha / (alpha + beta), "published RII");
    // Quintile 1 = 28 + 26 = 54 of 200, published 55 of 200; quintile 5 =
    // 12 + 10 = 22 of 200, published 20 of 200.
    let gap = csv_maps(&r.out.join("gap.csv"));
    let g = find(&gap, &[("area_code", "U1")]);
    close(f(g, "q1_value"), 27.5, "q1");
    close(f(g, "q5_value"), 10.0, "q5");
    close(f(g, "ratio"), 2.75, "ratio");
    close(f(g, "gap"), 17.5, "gap");
    let se = ((1.0f64 - 0.275) / 55.0 + (1.0 - 0.10) / 20.0).sqrt();
    close(
        f(g, "ratio_lower95"),
        (2.75f64.ln() - Z95 * se).exp(),
        "ratio lower",
    );
}

#[test]
fn disclosure_control_is_on_by_default() {
    let r = run(&["--indicator", "hypertension"], None);
    let rows = csv_maps(&r.out.join("inequalities.csv"));
    // 28 → 30, 100 stays, 26 → 25 (nearest 5); the value and limits are
    // those of the published counts, 30 of 100 (rules.md §6.2).
    let d1 = find(&rows, &[("area_code", "U1"), ("group", "1")]);
    assert_eq!(
        (d1["numerator"].as_str(), d1["denominator"].as_str()),
        ("30", "100")
    );
    close(f(d1, "value"), 30.0, "value from the published counts");
    let (lo, hi) = wilson(30.0, 100.0, Z95);
    close(
        f(d1, "lower95"),
        lo * 100.0,
        "lower95 from the published counts",
    );
    close(
        f(d1, "upper95"),
        hi * 100.0,
        "upper95 from the published counts",
    );
    let d2 = find(&rows, &[("area_code", "U1"), ("group", "2")]);
    assert_eq!(d2["numerator"], "25");
    // 3 of 20 unknown: the 3 is suppressed and so is the rate.
    let unknown = find(&rows, &[("area_code", "U1"), ("group", "unknown")]);
    assert_eq!(
        (
            unknown["numerator"].as_str(),
            unknown["denominator"].as_str()
        ),
        ("", "20")
    );
    assert_eq!(unknown["value"], "");
    assert!(unknown["note"].contains("suppressed"));
    // U2: 5 of 12 → suppressed, 12 → 10.
    let u2 = find(&rows, &[("area_code", "U2"), ("group", "5")]);
    assert_eq!(
        (
            u2["numerator"].as_str(),
            u2["denominator"].as_str(),
            u2["upper95"].as_str()
        ),
        ("", "10", "")
    );
    // No count 1–7 and no unrounded count anywhere in the file.
    for row in &rows {
        for col in ["numerator", "denominator"] {
            if let Ok(n) = row[col].parse::<i64>() {
                assert!(n % 5 == 0, "{col} {n} not rounded: {row:?}");
            }
        }
    }
    assert!(!r.out.join("NOT_FOR_SHARING.txt").exists());
    let manifest = std::fs::read_to_string(r.out.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"disclosure_control\": true"),
        "{manifest}"
    );
}

const DSR_INDICATORS: &str = r#"
[simulation]
repetitions = 1000
seed = 7

[[indicator]]
name = "adm_50_54"
title = "Emergency admissions aged 50-54, standardised"
measure = "rate"
numerator = "emergency_adm_12m"
min_age = 50
max_age = 54
multiplier = 1000
standardised = true

[[indicator]]
name = "adm_all_ages"
title = "Emergency admissions, all ages, standardised"
measure = "rate"
numerator = "emergency_adm_12m"
multiplier = 1000
standardised = true
"#;

#[test]
fn dsr_rows_follow_dobson_and_the_publication_rules() {
    let r = run(&["--no-disclosure-control"], Some(DSR_INDICATORS));
    let rows = csv_maps(&r.out.join("inequalities.csv"));
    // One band (50–54) covered: DSR = x·w/n / w × m = 12/1020 × 1000, and
    // √(var/O) = 1/n, so the limits are Byar's on O: byar(12)/n × m.
    let all = find(
        &rows,
        &[
            ("indicator", "adm_50_54"),
            ("area_code", "U1"),
            ("group", "all"),
        ],
    );
    assert_eq!(all["method"], "dsr");
    assert_eq!(
        (all["numerator"].as_str(), all["denominator"].as_str()),
        ("12", "1020")
    );
    close(f(all, "value"), 12.0 / 1020.0 * 1000.0, "DSR");
    let o = 12.0f64;
    let byar_lo = o * (1.0 - 1.0 / (9.0 * o) - Z95 / (3.0 * o.sqrt())).powi(3);
    let byar_hi =
        (o + 1.0) * (1.0 - 1.0 / (9.0 * (o + 1.0)) + Z95 / (3.0 * (o + 1.0).sqrt())).powi(3);
    close(f(all, "lower95"), byar_lo / 1020.0 * 1000.0, "DSR lower95");
    close(f(all, "upper95"), byar_hi / 1020.0 * 1000.0, "DSR upper95");
    // Decile 2 has no admissions: O < 10 is not published.
    let d2 = find(
        &rows,
        &[
            ("indicator", "adm_50_54"),
            ("area_code", "U1"),
            ("group", "2"),
        ],
    );
    assert_eq!(d2["value"], "");
    assert_eq!(d2["note"], "dsr NA for total count < 10");
    // All ages: every band but 50–54 is empty, which the package refuses.
    let wide = find(
        &rows,
        &[
            ("indicator", "adm_all_ages"),
            ("area_code", "U1"),
            ("group", "all"),
        ],
    );
    assert_eq!(wide["value"], "");
    assert_eq!(wide["note"], "empty age band");
    // SII needs every decile: only decile 1 has a DSR, so it is withheld, noted.
    let sii = csv_maps(&r.out.join("sii.csv"));
    let s = find(&sii, &[("indicator", "adm_50_54"), ("area_code", "U1")]);
    assert_eq!(s["sii"], "");
    assert!(!s["note"].is_empty());
}

#[test]
fn same_inputs_give_byte_identical_outputs() {
    let a = run(&["--indicator", "hypertension"], None);
    let b = run(&["--indicator", "hypertension"], None);
    for f in ["inequalities.csv", "sii.csv", "gap.csv", "sii.json"] {
        assert_eq!(
            std::fs::read(a.out.join(f)).unwrap(),
            std::fs::read(b.out.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
    assert!(a.stdout.contains("positive SII"));
}

#[test]
fn unknown_indicator_and_bad_indicator_sql_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    extract(&ex);
    let out = dir.path().join("out");
    let (code, _, err) = phm(&[
        "inequalities",
        "--quiet",
        "--extract",
        ex.to_str().unwrap(),
        "--as-of",
        T,
        "--indicator",
        "nope",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no indicator `nope`") && err.contains("hypertension"),
        "{err}"
    );

    let rules = dir.path().join("rules");
    phm(&["rules", "export", rules.to_str().unwrap()]);
    std::fs::write(
        rules.join("indicators.toml"),
        DSR_INDICATORS.replace(
            "\"emergency_adm_12m\"\nmin_age",
            "\"no_such_column\"\nmin_age",
        ),
    )
    .unwrap();
    let (code, _, err) = phm(&[
        "inequalities",
        "--quiet",
        "--extract",
        ex.to_str().unwrap(),
        "--as-of",
        T,
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("indicator `adm_50_54`") && err.contains("no_such_column"),
        "{err}"
    );
    assert!(
        !out.join("inequalities.csv").exists(),
        "nothing written on error"
    );
}

// ------------------------------------------------------------------ compare

fn compare(extra: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    extract(&ex);
    let out = dir.path().join("out");
    let mut args = vec![
        "compare",
        "--quiet",
        "--extract",
        ex.to_str().unwrap(),
        "--as-of",
        T,
        "--indicator",
        "hypertension",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let (code, stdout, err) = phm(&args);
    assert_eq!(code, 0, "{err}");
    (dir, out, stdout)
}

#[test]
fn funnel_has_one_point_per_pcn_with_limits_from_the_formula() {
    let (_d, out, _) = compare(&["--no-disclosure-control"]);
    let rows = csv_maps(&out.join("funnel.csv"));
    assert_eq!(
        header(&out.join("funnel.csv")),
        "indicator,level,area_code,numerator,denominator,value,average,lower95,upper95,\
         lower998,upper998,significance"
    );
    assert_eq!(rows.len(), 2, "one row per PCN");
    let av = 198.0 / 1032.0;
    for (code, x, n) in [("U1", 193.0, 1020.0), ("U2", 5.0, 12.0)] {
        let r = find(&rows, &[("area_code", code)]);
        close(f(r, "average"), av * 100.0, "average");
        close(f(r, "value"), x / n * 100.0, "value");
        close(
            f(r, "lower95"),
            funnel_limit(0.975, n, av, false) * 100.0,
            "lower95",
        );
        close(
            f(r, "upper95"),
            funnel_limit(0.975, n, av, true) * 100.0,
            "upper95",
        );
        close(
            f(r, "upper998"),
            funnel_limit(0.999, n, av, true) * 100.0,
            "upper998",
        );
        // Labels follow the limits.
        let p = x / n;
        let want = if p > funnel_limit(0.999, n, av, true) {
            "High (0.001)"
        } else if p > funnel_limit(0.975, n, av, true) {
            "High (0.025)"
        } else if p < funnel_limit(0.999, n, av, false) {
            "Low (0.001)"
        } else if p < funnel_limit(0.975, n, av, false) {
            "Low (0.025)"
        } else {
            "Not significant"
        };
        assert_eq!(r["significance"], want, "{code}");
    }
    let league = csv_maps(&out.join("league.csv"));
    assert_eq!(league[0]["area_code"], "U2", "41.7% ranks above 18.9%");
    assert_eq!(league[0]["rank"], "1");
    let lines = csv_maps(&out.join("funnel_limits.csv"));
    assert!(lines.len() >= 100);
}

#[test]
fn funnel_is_disclosure_controlled_by_default() {
    let (_d, out, _) = compare(&[]);
    let rows = csv_maps(&out.join("funnel.csv"));
    let u2 = find(&rows, &[("area_code", "U2")]);
    // 5 → suppressed, 12 → 10; the value goes with the suppressed numerator.
    assert_eq!(
        (
            u2["numerator"].as_str(),
            u2["denominator"].as_str(),
            u2["value"].as_str()
        ),
        ("", "10", "")
    );
    let u1 = find(&rows, &[("area_code", "U1")]);
    assert_eq!(
        (u1["numerator"].as_str(), u1["denominator"].as_str()),
        ("195", "1020")
    );
    // rules.md §6.2: a funnel position needs both counts, so U2's label is
    // suppressed too; U1's value is that of its published counts.
    assert_eq!(u2["significance"], "suppressed (disclosure control)");
    close(
        f(u1, "value"),
        195.0 / 1020.0 * 100.0,
        "U1 from published counts",
    );
    let text = std::fs::read_to_string(out.join("funnel.csv")).unwrap()
        + &std::fs::read_to_string(out.join("league.csv")).unwrap();
    assert!(!text.contains(",5,") && !text.contains(",12,"), "{text}");
}

#[test]
fn compare_by_practice() {
    let (_d, out, _) = compare(&["--level", "practice", "--no-disclosure-control"]);
    let rows = csv_maps(&out.join("funnel.csv"));
    let codes: Vec<&str> = rows.iter().map(|r| r["area_code"].as_str()).collect();
    assert_eq!(codes, ["P00001", "P00002"]);
    assert!(rows.iter().all(|r| r["level"] == "practice"));
}
