//! `phm cohorts --what-if`: a rule change compared with the rules as they
//! are, on a hand-built extract whose scores are worked out by hand from
//! rules.md §3 (threshold 6; lonely 3, carer 1, frailty 2, hfu_gp 2).

use std::collections::BTreeSet;

use crate::common::*;
use phm::pipeline::{Pipeline, RunOptions};
use phm::proposals::run::ProposeOptions;
use phm::proposals::what_if::{compare, component_lifts, PcnChange};
use phm::rules::RuleSet;

/// `n` attended GP appointments in the activity window (after 2024-03-31).
fn gp_visits(x: &mut Extract, patient: i64, n: u32) {
    for k in 0..n {
        let date: &'static str =
            Box::leak(format!("2024-{:02}-{:02}", 4 + k % 8, 1 + k / 8).into_boxed_str());
        x.appointments
            .push((patient, date, "attended", "face_to_face"));
    }
}

/// 1: lonely + carer + 22 GP visits = 6 (high need; hfu_gp goes at 25).
/// 2: lonely + carer + 25 GP visits = 6 (stays hfu_gp at 25).
/// 3: lonely + frailty = 5 (high need when lonely is worth 4).
/// 4: carer = 1.
fn extract() -> Extract {
    let mut x = Extract::default().with_default_imd();
    for id in 1..=4 {
        x.patients.push(Patient::new(id));
    }
    let (lonely, carer, frailty) = (code("loneliness"), code("carer"), code("frailty"));
    for id in [1, 2, 3] {
        x.events.push((id, lonely, "2024-06-01", None));
    }
    for id in [1, 2, 4] {
        x.events.push((id, carer, "2020-01-01", None));
    }
    x.events.push((3, frailty, "2024-07-01", None));
    gp_visits(&mut x, 1, 22);
    gp_visits(&mut x, 2, 25);
    x.ae.push((4, "2023-01-01"));
    x.admissions.push((4, "2023-01-01", "elective"));
    x
}

#[tokio::test(flavor = "multi_thread")]
async fn a_threshold_and_a_points_change_move_the_patients_worked_out_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    extract().write(dir.path());
    let options = RunOptions {
        extract: dir.path().to_path_buf(),
        as_of: Some(d("2025-03-31")),
        ..Default::default()
    };
    let changes = [
        "hfu.gp_attended=25".to_string(),
        "points.lonely=4".to_string(),
    ];
    let (rules, applied) = phm::rules::overrides::apply(RuleSet::defaults(), &changes).unwrap();
    assert_eq!(applied.iter().map(|c| c.was).collect::<Vec<_>>(), [20, 3]);
    let before = Pipeline::open(&options).await.unwrap();
    let after = Pipeline::open_with_rules(&options, rules).await.unwrap();
    let none = BTreeSet::new();
    let p_before = before
        .proposal(&ProposeOptions::default(), &none)
        .await
        .unwrap();
    let p_after = after
        .proposal(&ProposeOptions::default(), &none)
        .await
        .unwrap();
    let high = |p: &phm::proposals::run::Proposal| -> BTreeSet<i64> {
        p.rows.iter().map(|r| r.candidate.patient_id).collect()
    };
    // Before: 1 and 2 score 6. After: 1 scores 4 + 1 = 5 (out), 2 scores
    // 4 + 1 + 2 = 7, 3 scores 4 + 2 = 6 (in).
    assert_eq!(high(&p_before), BTreeSet::from([1, 2]));
    assert_eq!(high(&p_after), BTreeSet::from([2, 3]));
    let rows = compare(&p_before, &p_after);
    let expected = PcnChange {
        pcn_code: "U00001".into(),
        eligible: (4, 4),
        high_need: (2, 2),
        came_in: 1,
        went_out: 1,
        proposed: (2, 2),
    };
    assert_eq!(rows[0], expected);
    assert_eq!(
        rows[1],
        PcnChange {
            pcn_code: "ALL".into(),
            ..expected
        }
    );

    // Under the rules as they are, 1 and 2 are at 6 exactly: each of their
    // components lifts both; the others lift nobody.
    let lifts = component_lifts(&before).await.unwrap();
    for l in &lifts {
        let want = if ["lonely", "carer", "hfu_gp"].contains(&l.name.as_str()) {
            2
        } else {
            0
        };
        assert_eq!(l.lifted, want, "{l:?}");
    }
    assert_eq!(lifts.len(), 14, "every component with points");
}

#[test]
fn the_command_prints_the_change_and_unknown_keys_or_bad_values_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    extract().write(dir.path());
    let extract = dir.path().to_str().unwrap();
    let args = |change: &'static str| {
        vec![
            "cohorts",
            "--extract",
            extract,
            "--as-of",
            "2025-03-31",
            "--what-if",
            change,
        ]
    };
    let (code, out, err) = phm(&args("hfu.gp_attended=25"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("hfu.gp_attended = 25 (was 20)"), "{out}");
    let all = out.lines().find(|l| l.starts_with("ALL")).unwrap();
    // Patient 1 loses hfu_gp (6 -> 4); nobody comes in.
    let fields: Vec<&str> = all.split_whitespace().collect();
    assert_eq!(
        fields,
        ["ALL", "4", "->", "4", "2", "->", "1", "0", "1", "2", "->", "1"],
        "{all}"
    );

    for (change, named) in [
        ("hfu.gp_atended=25", "gp_atended"),
        ("points.lonley=2", "lonley"),
        ("hfu.gp_attended=many", "many"),
        ("core20.max_decile=11", "core20.max_decile"),
    ] {
        let (code, _, err) = phm(&args(change));
        assert_eq!(code, 2, "{change}: {err}");
        assert!(err.contains(named), "{change}: {err}");
    }
}
