//! Breakdowns beyond deprivation (equity.md §1), worked by hand: the ethnic
//! grouping of every NHS Ethnic Category letter, Z and null; age bands at
//! their edges; sex; the PLUS flags and core20; and the ratio to the
//! largest known group with its Katz interval (metrics.md §5).

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::*;

const T: &str = "2025-03-31";

/// `phm inequalities --by BY` with exact counts, for hypertension (whose
/// denominator is every registered patient): the ICB's rows and ratio rows.
fn by(extract: &Path, by: &str) -> (Vec<BTreeMap<String, String>>, Vec<BTreeMap<String, String>>) {
    let out = extract.parent().unwrap().join(format!("out-{by}"));
    let (code, _, err) = phm(&[
        "inequalities",
        "--quiet",
        "--extract",
        extract.to_str().unwrap(),
        "--as-of",
        T,
        "--indicator",
        "hypertension",
        "--by",
        by,
        "--no-disclosure-control",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let icb = |file: &str| {
        csv_maps(&out.join(file))
            .into_iter()
            .filter(|r| r["area_type"] == "icb")
            .collect::<Vec<_>>()
    };
    (icb("inequalities.csv"), icb("ratio.csv"))
}

/// (group_type, group) -> (numerator, denominator).
fn counts(rows: &[BTreeMap<String, String>]) -> BTreeMap<(String, String), (i64, i64)> {
    rows.iter()
        .map(|r| {
            (
                (r["group_type"].clone(), r["group"].clone()),
                (
                    r["numerator"].parse().unwrap(),
                    r["denominator"].parse().unwrap(),
                ),
            )
        })
        .collect()
}

fn denominators(rows: &[BTreeMap<String, String>], group_type: &str) -> Vec<(String, i64)> {
    counts(rows)
        .into_iter()
        .filter(|((t, _), _)| t == group_type)
        .map(|((_, g), (_, n))| (g, n))
        .collect()
}

fn pairs(v: &[(&str, i64)]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = v.iter().map(|(g, n)| (g.to_string(), *n)).collect();
    out.sort();
    out
}

/// The 17 codes of extract.md, then null, then a letter that is not a code
/// (Q: the validator warns and it is treated as not known). The i-th value
/// (from 0) is given to i + 1 patients, so each group's size is unique.
const ETHNICITIES: [Option<&str>; 19] = [
    Some("A"),
    Some("B"),
    Some("C"),
    Some("D"),
    Some("E"),
    Some("F"),
    Some("G"),
    Some("H"),
    Some("J"),
    Some("K"),
    Some("L"),
    Some("M"),
    Some("N"),
    Some("P"),
    Some("R"),
    Some("S"),
    Some("Z"),
    None,
    Some("Q"),
];

fn ethnic_extract(dir: &Path) -> std::path::PathBuf {
    let mut x = Extract::default().with_default_imd();
    let mut id = 1;
    for (i, e) in ETHNICITIES.iter().enumerate() {
        for _ in 0..=i {
            let mut p = Patient::new(id);
            p.ethnicity = *e;
            // Sexes by id: 1 I, 2 U, 5 M, the other 182 F.
            p.sex = match id {
                1 => "I",
                2..=3 => "U",
                4..=8 => "M",
                _ => "F",
            };
            // Deprivation by id: 20 in decile 1, 15 in decile 2 (core20),
            // 10 with no LSOA (unknown IMD, so not core20), the rest decile 5.
            p.lsoa = match id {
                1..=20 => Some("E01000001"),
                21..=35 => Some("E01000002"),
                36..=45 => None,
                _ => Some("E01000005"),
            };
            x.patients.push(p);
            id += 1;
        }
    }
    let ex = dir.join("extract");
    x.write(&ex);
    ex
}

#[test]
fn every_ethnic_letter_z_and_null_fall_in_the_census_groups() {
    let dir = tempfile::tempdir().unwrap();
    let ex = ethnic_extract(dir.path());
    let (rows, _) = by(&ex, "ethnic_group");
    // White A1 B2 C3 = 6; Mixed D4 E5 F6 G7 = 22; Asian H8 J9 K10 L11 = 38;
    // Black M12 N13 P14 = 39; Other R15 S16 = 31; Not stated Z17; Unknown
    // null 18 + Q 19 = 37. All 190.
    assert_eq!(
        denominators(&rows, "ethnic_group"),
        pairs(&[
            ("White", 6),
            ("Mixed", 22),
            ("Asian", 38),
            ("Black", 39),
            ("Other", 31),
            ("Not stated", 17),
            ("Unknown", 37),
            ("all", 190),
        ])
    );
}

#[test]
fn sex_and_the_plus_flags_and_core20_are_counted_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let ex = ethnic_extract(dir.path());
    let (rows, _) = by(&ex, "sex");
    assert_eq!(
        denominators(&rows, "sex"),
        pairs(&[("F", 182), ("M", 5), ("I", 1), ("U", 2), ("all", 190)])
    );
    let (rows, _) = by(&ex, "plus_group");
    // Ethnic minority = D..S = Mixed + Asian + Black + Other = 130.
    assert_eq!(
        denominators(&rows, "plus_ethnic_minority"),
        pairs(&[("yes", 130), ("no", 60), ("all", 190)])
    );
    // core20 = deciles 1 and 2: 20 + 15.
    assert_eq!(
        denominators(&rows, "core20"),
        pairs(&[("yes", 35), ("no", 155), ("all", 190)])
    );
    // No inclusion-health or learning-disability records.
    assert_eq!(
        denominators(&rows, "plus_inclusion_health"),
        pairs(&[("yes", 0), ("no", 190), ("all", 190)])
    );
}

#[test]
fn age_bands_split_on_birthdays_at_the_reference_date() {
    // T = 2025-03-31. (birth, patients, band): one day short of a band's
    // first birthday stays below it; the birthday on T moves up. A leap-day
    // birth of 2008 is 17 at T.
    let births = [
        ("2007-04-01", 1, "0-17"),
        ("2007-03-31", 2, "18-39"),
        ("1985-04-01", 3, "18-39"),
        ("1985-03-31", 4, "40-64"),
        ("1960-04-01", 5, "40-64"),
        ("1960-03-31", 6, "65-79"),
        ("1945-04-01", 7, "65-79"),
        ("1945-03-31", 8, "80+"),
        ("2008-02-29", 9, "0-17"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    let mut id = 1;
    for (birth, n, _) in births {
        for _ in 0..n {
            let mut p = Patient::new(id);
            p.birth = birth;
            x.patients.push(p);
            id += 1;
        }
    }
    let ex = dir.path().join("extract");
    x.write(&ex);
    let (rows, _) = by(&ex, "age_band");
    assert_eq!(
        denominators(&rows, "age_band"),
        pairs(&[
            ("0-17", 10),
            ("18-39", 5),
            ("40-64", 9),
            ("65-79", 13),
            ("80+", 8),
            ("all", 45),
        ])
    );
}

fn close(got: &str, want: f64) {
    let g: f64 = got.parse().unwrap();
    assert!(
        (g - want).abs() <= 1e-6 * want.abs().max(1.0),
        "{g} is not {want}"
    );
}

#[test]
fn each_group_is_compared_with_the_largest_known_one_by_katz() {
    // White 40 of 200 with hypertension, Asian 30 of 100, ethnicity unknown
    // 50 of 500: the largest group is not known, so White is the reference.
    // Asian: 0.3 / 0.2 = 1.5, ln ± 1.959964 √(0.7/30 + 0.8/40) gives
    // 0.997469 to 2.255709; unknown: 0.5, √(0.9/50 + 0.8/40): 0.341225 to
    // 0.732655 (worked with a calculator from metrics.md §5).
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    let mut id = 1;
    for (ethnicity, n, with) in [(Some("A"), 200, 40), (Some("H"), 100, 30), (None, 500, 50)] {
        for j in 0..n {
            let mut p = Patient::new(id);
            p.ethnicity = ethnicity;
            x.patients.push(p);
            if j < with {
                x.events
                    .push((id, code("hypertension"), "2024-06-01", None));
            }
            id += 1;
        }
    }
    let ex = dir.path().join("extract");
    x.write(&ex);
    let (rows, ratios) = by(&ex, "ethnic_group");
    let c = counts(&rows);
    assert_eq!(c[&("ethnic_group".into(), "White".into())], (40, 200));
    assert_eq!(c[&("ethnic_group".into(), "Unknown".into())], (50, 500));
    let ratio = |g: &str| ratios.iter().find(|r| r["group"] == g).unwrap().clone();
    for r in &ratios {
        assert_eq!(r["reference_group"], "White", "{r:?}");
    }
    assert_eq!(ratio("White")["note"], "the reference group");
    assert_eq!(ratio("White")["ratio"], "");
    let asian = ratio("Asian");
    close(&asian["ratio"], 1.5);
    close(&asian["ratio_lower95"], 0.997469);
    close(&asian["ratio_upper95"], 2.255709);
    close(&asian["gap"], 10.0);
    let unknown = ratio("Unknown");
    close(&unknown["ratio"], 0.5);
    close(&unknown["ratio_lower95"], 0.341225);
    close(&unknown["ratio_upper95"], 0.732655);
    // Nobody Black: no value, so no ratio, and a note says why.
    let black = ratio("Black");
    assert_eq!(black["ratio"], "");
    assert!(!black["note"].is_empty(), "{black:?}");
}

#[test]
fn an_unknown_breakdown_is_refused_naming_the_choices() {
    let (code, _, err) = phm(&[
        "inequalities",
        "--extract",
        "sample-data/extract",
        "--by",
        "religion",
        "--out",
        "/nonexistent",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("religion"), "{err}");
    for choice in [
        "sex",
        "age_band",
        "ethnic_group",
        "plus_group",
        "local_quintile",
    ] {
        assert!(err.contains(choice), "{choice}: {err}");
    }
}
