//! `phm codes`: events and patients per code of each codelist, and the
//! frequent codes in no list, counted by hand on a small extract and by a
//! second count (in Rust, from the Parquet file) on the sample data.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{Date32Type, Int64Type};
use phm::rules::RuleSet;

use crate::common::*;

fn run_codes(extract: &str, out: &std::path::Path, extra: &[&str]) {
    let mut args = vec![
        "codes",
        "--quiet",
        "--extract",
        extract,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, stdout, err) = phm(&args);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("Codes of each codelist"), "{stdout}");
}

#[test]
fn codes_are_counted_by_hand_on_a_small_extract() {
    let hypertension = code("hypertension");
    let mut x = Extract::minimal_valid(); // patient 1 has one hypertension event on 2023-01-01
    x.events.push((1, hypertension, "2024-01-01", None));
    x.events.push((2, hypertension, "2024-02-02", None));
    x.events.push((2, hypertension, "2025-04-01", None)); // after T: not counted
    x.events.push((1, UNLISTED, "2024-01-01", None));
    x.events.push((1, UNLISTED, "2024-01-02", None));
    x.events.push((3, UNLISTED, "2024-01-03", None));
    x.events.push((3, 888_888, "2024-01-03", None));
    let dir = tempfile::tempdir().unwrap();
    x.write(dir.path());
    let out = tempfile::tempdir().unwrap();
    run_codes(
        dir.path().to_str().unwrap(),
        out.path(),
        &["--as-of", "2025-03-31"],
    );

    let rows = csv_maps(&out.path().join("codes.csv"));
    let of = |list: &str, code: i64| {
        rows.iter()
            .find(|r| r["codelist"] == list && r["code"] == code.to_string())
            .unwrap_or_else(|| panic!("no row {list} {code}"))
    };
    // 2023-01-01 and 2024-01-01 for patient 1, 2024-02-02 for patient 2.
    assert_eq!(of("hypertension", hypertension)["events"], "3");
    assert_eq!(of("hypertension", hypertension)["patients"], "2");
    // Every code of every list has a row; unused codes show 0.
    let lists = RuleSet::defaults().codelists().unwrap();
    let expected_rows: usize = lists.iter().map(|l| l.codes.len()).sum();
    assert_eq!(rows.len(), expected_rows);
    let other = &lists.iter().find(|l| l.name == "loneliness").unwrap().codes[0];
    assert_eq!(of("loneliness", other.0)["events"], "0");
    assert_eq!(of("loneliness", other.0)["term"], other.1);

    let unlisted = csv_maps(&out.path().join("unlisted_codes.csv"));
    let got: Vec<(String, String, String)> = unlisted
        .iter()
        .map(|r| {
            (
                r["code"].clone(),
                r["events"].clone(),
                r["patients"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (UNLISTED.to_string(), "3".into(), "2".into()),
            ("888888".into(), "1".into(), "1".into()),
        ]
    );

    // --top keeps the most frequent.
    let top = tempfile::tempdir().unwrap();
    run_codes(
        dir.path().to_str().unwrap(),
        top.path(),
        &["--as-of", "2025-03-31", "--top", "1"],
    );
    let unlisted = csv_maps(&top.path().join("unlisted_codes.csv"));
    assert_eq!(unlisted.len(), 1);
    assert_eq!(unlisted[0]["code"], UNLISTED.to_string());
}

#[test]
fn the_sample_datas_code_counts_equal_a_count_of_the_parquet_file() {
    let out = tempfile::tempdir().unwrap();
    run_codes("sample-data/extract", out.path(), &[]);
    // T defaults to the latest event date, so every event counts.
    let events = read_parquet(std::path::Path::new("sample-data/extract/events.parquet"));
    let ids = events
        .column_by_name("patient_id")
        .unwrap()
        .as_primitive::<Int64Type>();
    let codes = events
        .column_by_name("code")
        .unwrap()
        .as_primitive::<Int64Type>();
    let dates = events
        .column_by_name("date")
        .unwrap()
        .as_primitive::<Date32Type>();
    let latest = dates.values().iter().max().unwrap();
    let mut by_code: BTreeMap<i64, (u64, BTreeSet<i64>)> = BTreeMap::new();
    for r in 0..events.num_rows() {
        assert!(dates.value(r) <= *latest);
        let entry = by_code.entry(codes.value(r)).or_default();
        entry.0 += 1;
        entry.1.insert(ids.value(r));
    }
    let listed: BTreeSet<i64> = RuleSet::defaults()
        .codelists()
        .unwrap()
        .iter()
        .flat_map(|l| l.codes.iter().map(|c| c.0))
        .collect();
    let mut checked = 0;
    for row in csv_maps(&out.path().join("codes.csv")) {
        let code: i64 = row["code"].parse().unwrap();
        let (events, patients) = by_code
            .get(&code)
            .map(|(e, p)| (*e, p.len()))
            .unwrap_or((0, 0));
        assert_eq!(row["events"], events.to_string(), "{row:?}");
        assert_eq!(row["patients"], patients.to_string(), "{row:?}");
        checked += events;
    }
    assert!(checked > 10_000, "{checked}");
    // The unlisted codes: the 50 most frequent, in order, none of them listed.
    let mut unlisted: Vec<(u64, i64, usize)> = by_code
        .iter()
        .filter(|(c, _)| !listed.contains(c))
        .map(|(c, (e, p))| (*e, *c, p.len()))
        .collect();
    unlisted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let got: Vec<(u64, i64, usize)> = csv_maps(&out.path().join("unlisted_codes.csv"))
        .iter()
        .map(|r| {
            (
                r["events"].parse().unwrap(),
                r["code"].parse().unwrap(),
                r["patients"].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, unlisted.into_iter().take(50).collect::<Vec<_>>());
}
