//! Local deprivation quintiles (equity.md §2), worked by hand on a small
//! ICB: five LSOAs with national ranks and registered populations, one of
//! them straddling two cuts, and the fallback to deciles without ranks.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Array, StringArray};

use crate::common::*;

/// (LSOA code, decile, rank, registered patients). The codes run against
/// the rank order, so that ordering by code would give other quintiles.
const LSOAS: [(&str, i32, i32, i64); 5] = [
    ("E01000005", 1, 100, 3),
    ("E01000003", 1, 200, 4),
    ("E01000001", 2, 3_500, 6),
    ("E01000004", 3, 7_000, 2),
    ("E01000002", 3, 7_100, 5),
];

fn extract(dir: &Path, with_ranks: bool) {
    let mut x = Extract::default();
    let mut id = 1;
    for (code, _, _, n) in LSOAS {
        for _ in 0..n {
            let mut p = Patient::new(id);
            p.lsoa = Some(code);
            x.patients.push(p);
            id += 1;
        }
    }
    // One patient whose LSOA is not in imd: unknown.
    let mut p = Patient::new(id);
    p.lsoa = Some("E01999999");
    x.patients.push(p);
    x.events.push((1, code("hypertension"), "2024-06-01", None));
    x.imd = LSOAS.iter().map(|l| (l.0, l.1)).collect();
    x.write(dir);
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        (
            "lsoa_code",
            Arc::new(StringArray::from(
                LSOAS.iter().map(|l| l.0).collect::<Vec<_>>(),
            )),
        ),
        (
            "imd_decile",
            Arc::new(Int32Array::from(
                LSOAS.iter().map(|l| l.1).collect::<Vec<_>>(),
            )),
        ),
    ];
    if with_ranks {
        columns.push((
            "imd_rank",
            Arc::new(Int32Array::from(
                LSOAS.iter().map(|l| l.2).collect::<Vec<_>>(),
            )),
        ));
    }
    replace_table(dir, "imd", columns);
}

/// The ICB's registered patients per local quintile ("1".."5", "unknown",
/// "all"), exact, and phm's stderr.
fn local_denominators(dir: &Path) -> (BTreeMap<String, i64>, String) {
    let out = dir.join("out");
    let (code, _, err) = phm(&[
        "inequalities",
        "--extract",
        dir.to_str().unwrap(),
        "--as-of",
        "2025-03-31",
        "--indicator",
        "hypertension",
        "--by",
        "local_quintile",
        "--no-disclosure-control",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = csv_maps(&out.join("inequalities.csv"))
        .into_iter()
        .filter(|r| r["area_type"] == "icb")
        .map(|r| {
            assert_eq!(r["group_type"], "local_quintile");
            (r["group"].clone(), r["denominator"].parse().unwrap())
        })
        .collect();
    (rows, err)
}

fn expect(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(g, n)| (g.to_string(), *n)).collect()
}

#[test]
fn lsoas_go_to_the_fifth_that_holds_the_middle_of_their_population() {
    // 20 patients with an LSOA in imd. In rank order the LSOAs hold
    // positions [0,3), [3,7), [7,13), [13,15), [15,20); their middles
    // 1.5, 5, 10, 14 and 17.5 are 0.075, 0.25, 0.5, 0.7 and 0.875 of 20:
    // quintiles 1, 2, 3, 4 and 5. The third straddles the cuts at 8 and 12
    // and goes whole to quintile 3.
    let dir = tempfile::tempdir().unwrap();
    extract(dir.path(), true);
    let (got, err) = local_denominators(dir.path());
    assert_eq!(
        got,
        expect(&[
            ("1", 3),
            ("2", 4),
            ("3", 6),
            ("4", 2),
            ("5", 5),
            ("unknown", 1),
            ("all", 21)
        ])
    );
    assert!(!err.contains("no imd_rank"), "{err}");
}

#[test]
fn without_ranks_the_deciles_stand_in_and_phm_says_so() {
    // Deciles as ranks: decile 1 (7 patients) holds [0,7), middle 3.5 =
    // 0.175 -> 1; decile 2 [7,13), middle 10 = 0.5 -> 3; decile 3 (7)
    // [13,20), middle 16.5 = 0.825 -> 5. Quintiles 2 and 4 are empty.
    let dir = tempfile::tempdir().unwrap();
    extract(dir.path(), false);
    let (got, err) = local_denominators(dir.path());
    assert_eq!(
        got,
        expect(&[
            ("1", 7),
            ("2", 0),
            ("3", 6),
            ("4", 0),
            ("5", 7),
            ("unknown", 1),
            ("all", 21)
        ])
    );
    assert!(
        err.contains("no imd_rank") && err.contains("decile"),
        "{err}"
    );
}

#[test]
fn an_unknown_by_is_exit_2_naming_the_groupings_phm_has() {
    let (code, _, err) = phm(&[
        "inequalities",
        "--extract",
        "sample-data/extract",
        "--by",
        "postcode",
        "--out",
        "/nonexistent/out",
    ]);
    assert_eq!(code, 2, "{err}");
    for needle in ["postcode", "imd_decile", "imd_quintile", "local_quintile"] {
        assert!(err.contains(needle), "lacks `{needle}`:\n{err}");
    }
}
