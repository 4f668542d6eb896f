//! The clinical lead's list carries, for every scored flag, the date of the
//! latest record behind it (`lonely_last`). Worked out by hand on records
//! placed on the windows' edges, and checked on the sample data against
//! `phm explain`'s record listing (a second route: every record, not a MAX)
//! and against each patient's `need_reasons`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::*;
use phm::explain::{explain, Explanation};
use phm::pipeline::{Pipeline, RunOptions};

/// The evidence columns, in scoring.toml's order of the columns they trace
/// (rules.md §3: core20 and plus_ethnic_minority have no dated record).
const EVIDENCE: [&str; 11] = [
    "plus_inclusion_health_last",
    "plus_learning_disability_last",
    "lonely_last",
    "social_needs_last",
    "mental_health_last",
    "frailty_last",
    "carer_last",
    "ltc_count_last",
    "hfu_ae_last",
    "hfu_adm_last",
    "hfu_gp_last",
];

/// The features column an evidence column traces, and the score components
/// (rules.md §3) that read it.
fn traced(column: &str) -> (&str, Vec<&str>) {
    let flag = column.strip_suffix("_last").unwrap();
    match flag {
        "ltc_count" => (flag, vec!["ltc2", "ltc4"]),
        _ => (flag, vec![flag]),
    }
}

/// 1: lonely (records on the window's start, inside, on T and after T) +
///    carer + frailty = 6; two A&E visits and one long-term condition do not
///    score, so their columns stay blank.
/// 2: 5 A&E, 3 emergency admissions, 21 attended GP visits, hypertension,
///    diabetes and depression (an LTC too, rules.md §2: three LTCs, the
///    newest depression's) then anxiety (mental health, no LTC):
///    3 + 2 + 2 + 1 + 2 = 10.
/// 3: lonely alone (3): not high need, not listed.
fn extract() -> Extract {
    let mut x = Extract::default().with_default_imd();
    for id in 1..=3 {
        x.patients.push(Patient::new(id));
    }
    let lonely = code("loneliness");
    for date in ["2023-03-31", "2024-01-10", "2025-03-31", "2025-04-02"] {
        x.events.push((1, lonely, date, None));
    }
    x.events.push((1, code("carer"), "2010-05-05", None));
    x.events.push((1, code("frailty"), "2024-02-02", None));
    x.events.push((1, code("hypertension"), "2015-01-01", None));
    x.ae.push((1, "2024-06-01"));
    x.ae.push((1, "2024-07-01"));

    for date in [
        "2024-03-31", // the window's start: not counted
        "2024-04-01",
        "2024-06-01",
        "2024-09-01",
        "2024-12-01",
        "2025-03-30",
        "2025-04-15", // after T
    ] {
        x.ae.push((2, date));
    }
    for (date, method) in [
        ("2024-05-05", "emergency"),
        ("2024-08-08", "emergency"),
        ("2024-09-09", "emergency"),
        ("2025-01-01", "elective"),
    ] {
        x.admissions.push((2, date, method));
    }
    for day in 1..=20 {
        let date: &'static str = Box::leak(format!("2024-05-{day:02}").into_boxed_str());
        x.appointments.push((2, date, "attended", "face_to_face"));
    }
    x.appointments
        .push((2, "2025-02-14", "attended", "telephone"));
    x.appointments
        .push((2, "2025-03-30", "dna", "face_to_face"));
    x.events.push((2, code("hypertension"), "2001-01-01", None));
    x.events.push((2, code("diabetes"), "2019-06-06", None));
    x.events.push((2, code("depression"), "2024-12-12", None));
    x.events.push((2, code("anxiety"), "2025-01-05", None));

    x.events.push((3, lonely, "2024-06-01", None));
    x
}

fn list_rows(path: &Path) -> BTreeMap<i64, BTreeMap<String, String>> {
    csv_maps(path)
        .into_iter()
        .map(|row| (row["patient_id"].parse().unwrap(), row))
        .collect()
}

#[test]
fn each_scored_flag_shows_its_latest_record_worked_out_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    extract().write(dir.path());
    let out = dir.path().join("out");
    let (code, _, err) = phm(&[
        "propose",
        "--extract",
        dir.path().to_str().unwrap(),
        "--as-of",
        "2025-03-31",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(out.join("lists/U00001.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let first = header.iter().position(|h| *h == EVIDENCE[0]).unwrap();
    assert_eq!(&header[first..first + EVIDENCE.len()], EVIDENCE);
    assert_eq!(&header[header.len() - 2..], ["decision", "reason"]);

    let rows = list_rows(&out.join("lists/U00001.csv"));
    assert_eq!(rows.keys().copied().collect::<Vec<_>>(), [1, 2]);
    let want: [(i64, &[(&str, &str)]); 2] = [
        (
            1,
            &[
                ("lonely_last", "2025-03-31"),
                ("carer_last", "2010-05-05"),
                ("frailty_last", "2024-02-02"),
            ],
        ),
        (
            2,
            &[
                ("mental_health_last", "2025-01-05"),
                ("ltc_count_last", "2024-12-12"),
                ("hfu_ae_last", "2025-03-30"),
                ("hfu_adm_last", "2024-09-09"),
                ("hfu_gp_last", "2025-02-14"),
            ],
        ),
    ];
    for (id, dates) in want {
        let row = &rows[&id];
        for column in EVIDENCE {
            let expected = dates
                .iter()
                .find(|(c, _)| *c == column)
                .map_or("", |(_, d)| *d);
            assert_eq!(row[column], expected, "patient {id} {column}");
        }
    }
    assert_eq!(rows[&1]["need_score"], "6");
    assert_eq!(rows[&2]["need_score"], "10");
}

async fn explained(ids: &[i64]) -> BTreeMap<i64, Explanation> {
    let options = RunOptions {
        extract: Path::new("sample-data/extract").to_path_buf(),
        ..Default::default()
    };
    let pipeline = Pipeline::open(&options).await.unwrap();
    explain(&pipeline, ids)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.patient_id, e))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn on_the_sample_every_date_is_the_newest_record_explain_lists_for_a_scored_flag() {
    let lists = sample_demo().join("proposals/lists");
    let mut rows = BTreeMap::new();
    for file in std::fs::read_dir(&lists).unwrap() {
        let path = file.unwrap().path();
        // Each PCN's list is there as CSV and as the workbook (workbook.rs).
        if path.extension().is_some_and(|e| e == "csv") {
            rows.extend(list_rows(&path));
        }
    }
    assert!(rows.len() > 500, "{} listed", rows.len());
    let ids: Vec<i64> = rows.keys().copied().collect();
    let explained = explained(&ids).await;
    let counted = |flag: &str| match flag {
        "hfu_ae" => Some("ae_12m"),
        "hfu_adm" => Some("emergency_adm_12m"),
        "hfu_gp" => Some("gp_attended_12m"),
        _ => None,
    };
    let mut dated = BTreeMap::<&str, usize>::new();
    for (id, row) in &rows {
        let e = &explained[id];
        let scored: Vec<&str> = row["need_reasons"]
            .split("; ")
            .map(|r| r.split('+').next().unwrap())
            .collect();
        for column in EVIDENCE {
            let (flag, components) = traced(column);
            let newest = match counted(flag) {
                Some(count) => e
                    .counts
                    .iter()
                    .find(|c| c.column == count)
                    .and_then(|c| c.dates.first().cloned()),
                None => e
                    .flags
                    .iter()
                    .find(|f| f.column == flag)
                    .and_then(|f| f.records.first().map(|r| r.date.clone())),
            };
            let expected = if components.iter().any(|c| scored.contains(c)) {
                let date =
                    newest.unwrap_or_else(|| panic!("patient {id}: {flag} scores with no record"));
                *dated.entry(column).or_default() += 1;
                date
            } else {
                String::new()
            };
            assert_eq!(row[column], expected, "patient {id} {column}");
        }
    }
    // Every column is exercised by the sample, not only blanks.
    for column in EVIDENCE {
        if !column.starts_with("plus_") {
            assert!(
                dated.get(column).copied().unwrap_or(0) > 0,
                "{column}: {dated:?}"
            );
        }
    }
}
