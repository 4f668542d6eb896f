//! `phm explain`: each patient's features row with the records behind it.
//! Checked against the features table and the proposals `phm demo` wrote for
//! the sample data (a second route to the same numbers: the full features
//! plan), and on a hand-built extract whose records sit on the windows' edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::*;
use phm::explain::{explain, Explanation};
use phm::pipeline::{Pipeline, RunOptions};

async fn explained(extract: &Path, as_of: Option<&str>, ids: &[i64]) -> Vec<Explanation> {
    let options = RunOptions {
        extract: extract.to_path_buf(),
        as_of: as_of.map(d),
        ..Default::default()
    };
    let pipeline = Pipeline::open(&options).await.unwrap();
    explain(&pipeline, ids).await.unwrap()
}

/// A features-table value as the JSON explain gives for it.
fn as_json(v: &V) -> serde_json::Value {
    match v {
        V::Null => serde_json::Value::Null,
        V::I(i) => (*i).into(),
        V::B(b) => (*b).into(),
        V::S(s) => s.clone().into(),
    }
}

/// Every flag's records fall in its window, a flag is true exactly when it
/// has a record (ltc_count: the number of its lists with one), and each
/// count is the number of rows listed, all in the window.
fn check_evidence(e: &Explanation, row: &Row) {
    let id = e.patient_id;
    let in_window = |date: &str, after: &Option<String>, until: &str| {
        date <= until && after.as_deref().is_none_or(|a| date > a)
    };
    for f in &e.flags {
        for r in &f.records {
            assert!(
                in_window(&r.date, &f.window.after, &f.window.until),
                "patient {id} {}: record {} outside {:?}",
                f.column,
                r.date,
                f.window
            );
            assert!(
                f.codelists.contains(&r.codelist),
                "{id} {}: {r:?}",
                f.column
            );
        }
        match row.get(&f.column) {
            Some(V::B(true)) => assert!(
                !f.records.is_empty(),
                "patient {id}: {} is true with no record behind it",
                f.column
            ),
            Some(V::B(false)) => assert!(
                f.records.is_empty(),
                "patient {id}: {} is false but records are shown: {:?}",
                f.column,
                f.records
            ),
            Some(V::I(n)) => {
                let lists: BTreeSet<&str> = f.records.iter().map(|r| r.codelist.as_str()).collect();
                assert_eq!(
                    lists.len() as i64,
                    *n,
                    "patient {id}: {} = {n}, but records in {lists:?}",
                    f.column
                );
            }
            other => panic!("{id}: {} is {other:?}", f.column),
        }
    }
    for c in &e.counts {
        assert_eq!(
            Some(c.dates.len() as i64),
            i(row, &c.column),
            "patient {id}: {} against the rows listed {:?}",
            c.column,
            c.dates
        );
        for date in &c.dates {
            assert!(
                in_window(date, &c.window.after, &c.window.until),
                "{id} {}: {date}",
                c.column
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn five_patients_of_different_segments_match_their_features_and_proposal_rows() {
    let demo = sample_demo();
    let features = rows_of(&[read_parquet(&demo.join("features.parquet"))]);
    let proposals = csv_maps(&demo.join("proposals/proposals.csv"));
    let mut chosen: Vec<&BTreeMap<String, String>> = Vec::new();
    for p in &proposals {
        if chosen.len() < 5 && chosen.iter().all(|c| c["segment"] != p["segment"]) {
            chosen.push(p);
        }
    }
    assert_eq!(chosen.len(), 5, "the sample has at least 5 segments");
    let ids: Vec<i64> = chosen
        .iter()
        .map(|p| p["patient_id"].parse().unwrap())
        .collect();
    let out = explained(Path::new("sample-data/extract"), None, &ids).await;
    assert_eq!(out.len(), 5);
    for (e, proposal) in out.iter().zip(&chosen) {
        assert_eq!(e.patient_id.to_string(), proposal["patient_id"]);
        assert!(e.registered);
        let row = &features[&e.patient_id];
        // Every column of the features row, in the table's order.
        let columns: Vec<String> = e.features.iter().map(|f| f.column.clone()).collect();
        let expected: Vec<String> = read_parquet(&demo.join("features.parquet"))
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(columns, expected);
        for f in &e.features {
            assert_eq!(
                f.value,
                as_json(&row[&f.column]),
                "{} {}",
                e.patient_id,
                f.column
            );
        }
        // The score as the proposal row gives it, and its components spelt out.
        assert_eq!(
            i(row, "need_score").unwrap().to_string(),
            proposal["need_score"]
        );
        let reasons: Vec<String> = e
            .score_components
            .iter()
            .map(|c| format!("{}+{}", c.name, c.points))
            .collect();
        assert_eq!(reasons.join("; "), proposal["need_reasons"]);
        let total: i32 = e.score_components.iter().map(|c| c.points).sum();
        assert_eq!(total.to_string(), proposal["need_score"]);
        check_evidence(e, row);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_flag_of_a_spread_of_sample_patients_has_its_records_and_no_others() {
    let demo = sample_demo();
    let features = rows_of(&[read_parquet(&demo.join("features.parquet"))]);
    // Every 97th registered patient: a few hundred, from every PCN.
    let ids: Vec<i64> = features.keys().copied().step_by(97).collect();
    assert!(ids.len() > 300, "{}", ids.len());
    let out = explained(Path::new("sample-data/extract"), None, &ids).await;
    assert_eq!(out.len(), ids.len());
    let mut true_flags = BTreeMap::<String, usize>::new();
    for e in &out {
        let row = &features[&e.patient_id];
        check_evidence(e, row);
        for f in &e.flags {
            if f.value == serde_json::Value::Bool(true) {
                *true_flags.entry(f.column.clone()).or_default() += 1;
            }
        }
    }
    // The check above is not vacuous: most flags are true for someone here.
    for flag in [
        "lonely",
        "frailty",
        "carer",
        "hypertension",
        "copd_asthma",
        "mental_health",
    ] {
        assert!(
            true_flags.get(flag).copied().unwrap_or(0) > 0,
            "no {flag}: {true_flags:?}"
        );
    }
}

/// T = 2025-03-31; the lonely window (24 months) starts after 2023-03-31 and
/// the activity window (12 months) after 2024-03-31, worked by hand.
fn edge_extract() -> Extract {
    let mut x = Extract::default().with_default_imd();
    for id in 1..=3 {
        x.patients.push(Patient::new(id));
    }
    x.patients[2].to = Some("2025-01-01");
    let lonely = code("loneliness");
    // Patient 1: loneliness exactly at T - 24 months (outside), and after T.
    x.events.push((1, lonely, "2023-03-31", None));
    x.events.push((1, lonely, "2025-04-01", None));
    // Patient 2: one day inside the window, and a record in no codelist.
    x.events.push((2, lonely, "2023-04-01", None));
    x.events.push((2, UNLISTED, "2024-01-01", None));
    // A&E on T (counted) and at T - 12 months (not), for patient 2.
    x.ae.push((2, "2025-03-31"));
    x.ae.push((2, "2024-03-31"));
    x.appointments
        .push((1, "2025-03-01", "attended", "face_to_face"));
    x.appointments
        .push((1, "2025-03-02", "dna", "face_to_face"));
    x.admissions.push((3, "2024-06-01", "emergency"));
    x
}

#[tokio::test(flavor = "multi_thread")]
async fn records_on_the_edges_of_the_windows_are_shown_exactly_when_they_count() {
    let dir = tempfile::tempdir().unwrap();
    edge_extract().write(dir.path());
    let out = explained(dir.path(), Some("2025-03-31"), &[2, 1, 3, 2]).await;
    // In the order asked, each once.
    assert_eq!(
        out.iter().map(|e| e.patient_id).collect::<Vec<_>>(),
        [2, 1, 3]
    );
    let flag = |e: &Explanation, c: &str| e.flags.iter().find(|f| f.column == c).unwrap().clone();
    let count = |e: &Explanation, c: &str| e.counts.iter().find(|f| f.column == c).unwrap().clone();

    let two = &out[0];
    let lonely = flag(two, "lonely");
    assert_eq!(lonely.value, serde_json::Value::Bool(true));
    assert_eq!(lonely.window.after.as_deref(), Some("2023-03-31"));
    assert_eq!(lonely.window.until, "2025-03-31");
    assert_eq!(lonely.records.len(), 1);
    assert_eq!(lonely.records[0].date, "2023-04-01");
    assert_eq!(lonely.records[0].code, code("loneliness"));
    assert_eq!(lonely.records[0].codelist, "loneliness");
    assert!(!lonely.records[0].term.is_empty());
    let ae = count(two, "ae_12m");
    assert_eq!(ae.value, serde_json::Value::from(1));
    assert_eq!(ae.dates, ["2025-03-31"]);
    assert_eq!(ae.window.after.as_deref(), Some("2024-03-31"));
    // The record in no codelist is behind no flag.
    assert!(two
        .flags
        .iter()
        .all(|f| f.records.iter().all(|r| r.code != UNLISTED)));

    let one = &out[1];
    let lonely = flag(one, "lonely");
    assert_eq!(lonely.value, serde_json::Value::Bool(false));
    assert!(lonely.records.is_empty(), "{:?}", lonely.records);
    let gp = count(one, "gp_attended_12m");
    assert_eq!(
        gp.dates,
        ["2025-03-01"],
        "the missed appointment is not counted"
    );
    assert_eq!(gp.condition, "status = 'attended'");

    let three = &out[2];
    assert!(!three.registered);
    assert!(three.features.is_empty() && three.score_components.is_empty());
    assert_eq!(
        three.registration.registered_to.as_deref(),
        Some("2025-01-01")
    );
    assert!(three.counts.iter().all(|c| c.dates.is_empty()));
    let text = phm::explain::render::text(three);
    assert!(
        text.contains("not registered at T") && text.contains("2025-01-01"),
        "{text}"
    );
}

#[test]
fn the_command_prints_text_and_json_and_names_what_it_cannot_explain() {
    let dir = tempfile::tempdir().unwrap();
    edge_extract().write(dir.path());
    let extract = dir.path().to_str().unwrap();
    let (code, out, err) = phm(&[
        "explain",
        "--extract",
        extract,
        "--as-of",
        "2025-03-31",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Reference date T = 2025-03-31"), "{out}");
    assert!(out.contains("lonely = true"), "{out}");
    assert!(out.contains("2023-04-01"), "{out}");
    assert!(out.contains("ae_12m = 1"), "{out}");

    let (code, out, err) = phm(&[
        "explain",
        "--extract",
        extract,
        "--as-of",
        "2025-03-31",
        "--json",
        "1",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let patients = json.as_array().unwrap();
    assert_eq!(patients.len(), 2);
    assert_eq!(patients[1]["patient_id"], 2);
    let features = patients[1]["features"].as_array().unwrap();
    let lonely = features.iter().find(|f| f["column"] == "lonely").unwrap();
    assert_eq!(lonely["value"], true);

    let (code, _, err) = phm(&["explain", "--extract", extract, "2", "99", "98"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("99, 98") && err.contains("patients"), "{err}");
    let (code, _, err) = phm(&["explain", "--extract", extract, "P-2"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`P-2` is not a patient_id"), "{err}");
}

#[test]
fn a_misspelt_window_in_an_edited_explain_toml_is_an_input_error_naming_it() {
    let rules = tempfile::tempdir().unwrap();
    let (code, _, err) = phm(&["rules", "export", rules.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let file = rules.path().join("explain.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("window = \"lonely\"", "window = \"lonley\""),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    edge_extract().write(dir.path());
    let (code, _, err) = phm(&[
        "explain",
        "--extract",
        dir.path().to_str().unwrap(),
        "--rules",
        rules.path().to_str().unwrap(),
        "1",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("explain.toml") && err.contains("lonley"),
        "{err}"
    );
}
