//! The features table, column by column, on small hand-built extracts
//! (rules.md §2). Each patient is one boundary case; expected values are
//! worked out by hand from the spec, written next to the case.

use crate::common::*;

const T: &str = "2024-03-31";

fn listed(id: i64, list: &str, date: &'static str) -> (i64, i64, &'static str, Option<f64>) {
    (id, code(list), date, None)
}

#[tokio::test]
async fn columns_names_order_and_types_match_rules_md() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    x.patients.push(Patient::new(1));
    x.write(dir.path());
    let options = phm::pipeline::RunOptions {
        extract: dir.path().to_path_buf(),
        as_of: Some(d(T)),
        ..Default::default()
    };
    let pipeline = phm::pipeline::Pipeline::open(&options).await.unwrap();
    let (schema, _) = pipeline.features_stream().await.unwrap();
    let expected = [
        ("patient_id", "Int64"),
        ("practice_code", "Utf8"),
        ("pcn_code", "Utf8"),
        ("icb_code", "Utf8"),
        ("sex", "Utf8"),
        ("ethnicity", "Utf8"),
        ("age", "Int32"),
        ("imd_decile", "Int32"),
        ("imd_quintile", "Int32"),
        ("core20", "Boolean"),
        ("plus_ethnic_minority", "Boolean"),
        ("plus_inclusion_health", "Boolean"),
        ("plus_learning_disability", "Boolean"),
        ("ltc_count", "Int32"),
        ("smi", "Boolean"),
        ("hypertension", "Boolean"),
        ("copd_asthma", "Boolean"),
        ("lonely", "Boolean"),
        ("mental_health", "Boolean"),
        ("frailty", "Boolean"),
        ("carer", "Boolean"),
        ("social_needs", "Boolean"),
        ("pregnant", "Boolean"),
        ("ae_12m", "Int32"),
        ("emergency_adm_12m", "Int32"),
        ("gp_attended_12m", "Int32"),
        ("hfu_ae", "Boolean"),
        ("hfu_adm", "Boolean"),
        ("hfu_gp", "Boolean"),
        ("hfu", "Boolean"),
        ("sp_referred_12m", "Boolean"),
        ("sp_declined_6m", "Boolean"),
        ("eligible", "Boolean"),
        ("need_score", "Int32"),
        ("need_reasons", "Utf8"),
        ("high_need", "Boolean"),
    ];
    let got: Vec<(String, String)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().to_string()))
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn registered_population_boundaries() {
    // Registered at T: registered_from <= T, registered_to null or > T, death null or > T.
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    let cases: [(i64, &str, Option<&str>, Option<&str>, bool); 9] = [
        (1, "2000-01-01", None, None, true),                // plain
        (2, "2000-01-01", Some("2024-03-30"), None, false), // left before T
        (3, "2000-01-01", Some("2024-03-31"), None, false), // left on T: not > T
        (4, "2000-01-01", Some("2024-04-01"), None, true),  // leaves after T
        (5, "2000-01-01", None, Some("2024-03-30"), false), // died before T
        (6, "2000-01-01", None, Some("2024-03-31"), false), // died on T
        (7, "2000-01-01", None, Some("2024-04-01"), true),  // dies after T
        (8, "2024-04-01", None, None, false),               // registers after T
        (9, "2024-03-31", None, None, true),                // registers on T
    ];
    for (id, from, to, death, _) in cases {
        let mut p = Patient::new(id);
        p.from = from;
        p.to = to;
        p.death = death;
        x.patients.push(p);
    }
    x.write(dir.path());
    let f = features(dir.path(), T).await;
    for (id, _, _, _, expected) in cases {
        assert_eq!(
            f.contains_key(&id),
            expected,
            "patient {id} registered at T"
        );
    }
}

#[tokio::test]
async fn imd_decile_quintile_and_core20() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    // (id, lsoa, decile, quintile, core20)
    let cases: [(i64, Option<&'static str>, Option<i64>, Option<i64>, bool); 7] = [
        (1, Some("E01000001"), Some(1), Some(1), true),
        (2, Some("E01000002"), Some(2), Some(1), true),
        (3, Some("E01000003"), Some(3), Some(2), false),
        (4, Some("E01000009"), Some(9), Some(5), false),
        (5, Some("E01000010"), Some(10), Some(5), false),
        (6, None, None, None, false),              // no LSOA recorded
        (7, Some("W01000123"), None, None, false), // LSOA not in the imd table
    ];
    for (id, lsoa, ..) in cases {
        let mut p = Patient::new(id);
        p.lsoa = lsoa;
        x.patients.push(p);
    }
    x.write(dir.path());
    let f = features(dir.path(), T).await;
    for (id, _, decile, quintile, core20) in cases {
        let r = &f[&id];
        assert_eq!(i(r, "imd_decile"), decile, "patient {id} decile");
        assert_eq!(i(r, "imd_quintile"), quintile, "patient {id} quintile");
        assert_eq!(b(r, "core20"), core20, "patient {id} core20");
    }
}

#[tokio::test]
async fn ethnic_minority_flag() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    let cases: [(i64, Option<&'static str>, bool); 7] = [
        (1, None, false),      // not known
        (2, Some("Z"), false), // not stated
        (3, Some("A"), false), // White British
        (4, Some("C"), false), // any other White
        (5, Some("D"), true),  // White and Black Caribbean
        (6, Some("H"), true),  // Indian
        (7, Some("S"), true),  // any other ethnic group
    ];
    for (id, eth, _) in cases {
        let mut p = Patient::new(id);
        p.ethnicity = eth;
        x.patients.push(p);
    }
    x.write(dir.path());
    let f = features(dir.path(), T).await;
    for (id, _, expected) in cases {
        assert_eq!(b(&f[&id], "plus_ethnic_minority"), expected, "patient {id}");
    }
}

#[tokio::test]
async fn age_in_whole_years_and_adult_eligibility() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    // (id, birth, age at 2024-03-31)
    let cases: [(i64, &'static str, i64); 5] = [
        (1, "2006-03-31", 18), // 18th birthday on T: adult, eligible
        (2, "2006-04-01", 17), // 18 tomorrow
        (3, "1924-04-01", 99),
        (4, "2024-03-01", 0),
        (5, "2000-02-29", 24), // leap-day birth, T in March
    ];
    for (id, birth, _) in cases {
        let mut p = Patient::new(id);
        p.birth = birth;
        x.patients.push(p);
    }
    x.write(dir.path());
    let f = features(dir.path(), T).await;
    for (id, _, age) in cases {
        assert_eq!(i(&f[&id], "age"), Some(age), "patient {id} age");
        assert_eq!(b(&f[&id], "eligible"), age >= 18, "patient {id} eligible");
    }
}

#[tokio::test]
async fn leap_day_birthdays_fall_on_1_march() {
    // Born 2000-02-29: 24 on 2025-02-28, 25 on 2025-03-01; 24 on 2024-02-29 itself.
    for (t, age) in [
        ("2025-02-28", 24),
        ("2025-03-01", 25),
        ("2024-02-29", 24),
        ("2024-02-28", 23),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut x = Extract::default().with_default_imd();
        let mut p = Patient::new(1);
        p.birth = "2000-02-29";
        x.patients.push(p);
        x.write(dir.path());
        let f = features(dir.path(), t).await;
        assert_eq!(i(&f[&1], "age"), Some(age), "age at {t}");
    }
}

#[tokio::test]
async fn windows_include_t_and_exclude_t_minus_window() {
    // T = 2024-03-31. 24 months: (2022-03-31, 2024-03-31]; 9 months: (2023-06-30, T];
    // 12 months: (2023-03-31, T]; 6 months: (2023-09-30, T].
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    for id in 1..=20 {
        x.patients.push(Patient::new(id));
    }
    let boundaries = [
        ("loneliness", "lonely", "2022-03-31", "2022-04-01"),
        ("social_needs", "social_needs", "2022-03-31", "2022-04-01"),
        ("frailty", "frailty", "2022-03-31", "2022-04-01"),
        ("depression", "mental_health", "2022-03-31", "2022-04-01"),
        ("pregnancy", "pregnant", "2023-06-30", "2023-07-01"),
        ("sp_referral", "sp_referred_12m", "2023-03-31", "2023-04-01"),
        ("sp_declined", "sp_declined_6m", "2023-09-30", "2023-10-01"),
    ];
    // Patient 1: exactly T - window (out). 2: first day inside (in). 3: on T (in). 4: after T (ignored).
    let mut expected = Vec::new();
    for (k, (list, column, edge, inside)) in boundaries.iter().enumerate() {
        let base = 100 * (k as i64 + 1);
        for (offset, date, want) in [
            (1, *edge, false),
            (2, *inside, true),
            (3, T, true),
            (4, "2024-04-01", false),
        ] {
            let id = base + offset;
            x.patients.push(Patient::new(id));
            x.events.push(listed(id, list, date));
            expected.push((id, *column, want, *list, date));
        }
    }
    // Anxiety also counts for mental_health, in the same window.
    x.patients.push(Patient::new(900));
    x.events.push(listed(900, "anxiety", "2022-04-01"));
    expected.push((900, "mental_health", true, "anxiety", "2022-04-01"));
    x.write(dir.path());
    let f = features(dir.path(), T).await;
    for (id, column, want, list, date) in expected {
        assert_eq!(
            b(&f[&id], column),
            want,
            "patient {id}: {list} on {date} -> {column}"
        );
    }
}

#[tokio::test]
async fn ever_flags_count_any_date_up_to_t() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    for id in 1..=6 {
        x.patients.push(Patient::new(id));
    }
    x.events.push(listed(1, "carer", "1950-01-01")); // before birth: still "ever"
    x.events.push(listed(2, "carer", "2024-04-01")); // after T: ignored
    x.events.push(listed(3, "inclusion_health", "2010-05-05"));
    x.events.push(listed(4, "learning_disability", T));
    x.events.push(listed(5, "smi", "2001-01-01"));
    x.events.push((6, UNLISTED, "2020-01-01", Some(1.0))); // in no list
    x.write(dir.path());
    let f = features(dir.path(), T).await;
    assert!(b(&f[&1], "carer"));
    assert!(!b(&f[&2], "carer"));
    assert!(b(&f[&3], "plus_inclusion_health"));
    assert!(b(&f[&4], "plus_learning_disability"));
    assert!(b(&f[&5], "smi"));
    assert_eq!(i(&f[&5], "ltc_count"), Some(1));
    for col in [
        "carer",
        "smi",
        "lonely",
        "hypertension",
        "plus_inclusion_health",
    ] {
        assert!(!b(&f[&6], col), "unlisted code set {col}");
    }
    assert_eq!(i(&f[&6], "ltc_count"), Some(0));
}

#[tokio::test]
async fn ltc_count_counts_lists_not_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    for id in 1..=4 {
        x.patients.push(Patient::new(id));
    }
    // 1: hypertension twice, copd, asthma, anxiety (not an LTC), smi -> 4 lists.
    for (list, date) in [
        ("hypertension", "2010-01-01"),
        ("hypertension", "2020-01-01"),
        ("copd", "2015-01-01"),
        ("asthma", "1990-01-01"),
        ("anxiety", "2023-01-01"),
        ("smi", "2005-01-01"),
    ] {
        x.events.push(listed(1, list, date));
    }
    // 2: every one of the 13 LTC lists and smi -> 14.
    for list in [
        "hypertension",
        "diabetes",
        "copd",
        "asthma",
        "chd",
        "heart_failure",
        "stroke_tia",
        "atrial_fibrillation",
        "ckd",
        "cancer",
        "dementia",
        "depression",
        "epilepsy",
        "smi",
    ] {
        x.events.push(listed(2, list, "2019-06-01"));
    }
    // 3: asthma only -> copd_asthma; 4: nothing.
    x.events.push(listed(3, "asthma", "2019-06-01"));
    x.write(dir.path());
    let f = features(dir.path(), T).await;
    assert_eq!(i(&f[&1], "ltc_count"), Some(4));
    assert!(b(&f[&1], "hypertension") && b(&f[&1], "copd_asthma") && b(&f[&1], "smi"));
    assert_eq!(i(&f[&2], "ltc_count"), Some(14));
    assert_eq!(i(&f[&3], "ltc_count"), Some(1));
    assert!(b(&f[&3], "copd_asthma") && !b(&f[&3], "hypertension"));
    assert_eq!(i(&f[&4], "ltc_count"), Some(0));
    assert!(!b(&f[&4], "copd_asthma"));
}

#[tokio::test]
async fn activity_counts_and_hfu_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    for id in 1..=8 {
        x.patients.push(Patient::new(id));
    }
    // A&E: 1 has 4 in window + 1 exactly on T-12m (out) -> 4, not HFU;
    //      2 has 5 identical rows (duplicates count) -> 5, HFU; 3 has 5 but one after T -> 4.
    for _ in 0..4 {
        x.ae.push((1, "2023-06-01"));
    }
    x.ae.push((1, "2023-03-31"));
    for _ in 0..5 {
        x.ae.push((2, "2023-04-01"));
    }
    for date in ["2023-05-01", "2023-06-01", "2023-07-01", T, "2024-04-01"] {
        x.ae.push((3, date));
    }
    // Admissions: 4 has 2 emergency + 3 elective/maternity/other -> 2, not HFU; 5 has 3 emergency -> HFU.
    for (date, method) in [
        ("2023-05-01", "emergency"),
        ("2023-06-01", "emergency"),
        ("2023-06-01", "elective"),
        ("2023-07-01", "maternity"),
        ("2023-08-01", "other"),
    ] {
        x.admissions.push((4, date, method));
    }
    for date in ["2023-04-01", "2023-09-09", T] {
        x.admissions.push((5, date, "emergency"));
    }
    // GP: 6 has 19 attended + DNAs and cancellations -> 19, not HFU; 7 has 20 attended -> HFU.
    for _ in 0..19 {
        x.appointments
            .push((6, "2023-12-01", "attended", "face_to_face"));
    }
    for _ in 0..5 {
        x.appointments.push((6, "2023-12-02", "dna", "telephone"));
        x.appointments.push((6, "2023-12-03", "cancelled", "video"));
    }
    for k in 0..20 {
        x.appointments.push((
            7,
            if k % 2 == 0 { "2023-04-01" } else { T },
            "attended",
            "home_visit",
        ));
    }
    x.appointments
        .push((7, "2023-03-31", "attended", "telephone")); // on T-12m: out
                                                           // 8: activity only for an unknown patient id 99 (ignored).
    x.ae.push((99, "2023-06-01"));
    x.write(dir.path());
    let f = features(dir.path(), T).await;
    let expect = [
        (1, 4, 0, 0, false, false, false),
        (2, 5, 0, 0, true, false, false),
        (3, 4, 0, 0, false, false, false),
        (4, 0, 2, 0, false, false, false),
        (5, 0, 3, 0, false, true, false),
        (6, 0, 0, 19, false, false, false),
        (7, 0, 0, 20, false, false, true),
        (8, 0, 0, 0, false, false, false),
    ];
    for (id, ae, adm, gp, hae, hadm, hgp) in expect {
        let r = &f[&id];
        assert_eq!(i(r, "ae_12m"), Some(ae), "patient {id} ae_12m");
        assert_eq!(
            i(r, "emergency_adm_12m"),
            Some(adm),
            "patient {id} emergency_adm_12m"
        );
        assert_eq!(
            i(r, "gp_attended_12m"),
            Some(gp),
            "patient {id} gp_attended_12m"
        );
        assert_eq!(b(r, "hfu_ae"), hae, "patient {id} hfu_ae");
        assert_eq!(b(r, "hfu_adm"), hadm, "patient {id} hfu_adm");
        assert_eq!(b(r, "hfu_gp"), hgp, "patient {id} hfu_gp");
        assert_eq!(b(r, "hfu"), hae || hadm || hgp, "patient {id} hfu");
    }
    assert!(!f.contains_key(&99));
}

#[tokio::test]
async fn eligibility_excludes_recent_referrals_and_declines() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    for id in 1..=5 {
        x.patients.push(Patient::new(id));
    }
    x.events.push(listed(1, "sp_referral", "2023-04-01")); // referred in 12 months
    x.events.push(listed(2, "sp_referral", "2023-03-31")); // referred 12 months ago exactly: not recent
    x.events.push(listed(3, "sp_declined", "2023-10-01")); // declined in 6 months
    x.events.push(listed(4, "sp_declined", "2023-09-30")); // declined 6 months ago exactly
    let mut child = Patient::new(5);
    child.birth = "2010-01-01";
    x.patients[4] = child;
    x.write(dir.path());
    let f = features(dir.path(), T).await;
    assert!(!b(&f[&1], "eligible") && b(&f[&1], "sp_referred_12m"));
    assert!(b(&f[&2], "eligible") && !b(&f[&2], "sp_referred_12m"));
    assert!(!b(&f[&3], "eligible") && b(&f[&3], "sp_declined_6m"));
    assert!(b(&f[&4], "eligible") && !b(&f[&4], "sp_declined_6m"));
    assert!(!b(&f[&5], "eligible"), "a child is never eligible");
}

#[tokio::test]
async fn need_score_and_reasons_in_spec_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::default().with_default_imd();
    let mut p = Patient::new(1);
    p.lsoa = Some("E01000001"); // core20
    x.patients.push(p);
    x.events.push(listed(1, "loneliness", "2024-01-01"));
    for _ in 0..5 {
        x.ae.push((1, "2024-01-02"));
    }
    x.patients.push(Patient::new(2)); // nothing: score 0, empty reasons
    x.write(dir.path());
    let f = features(dir.path(), T).await;
    assert_eq!(s(&f[&1], "need_reasons"), "core20+2; lonely+3; hfu_ae+3");
    assert_eq!(i(&f[&1], "need_score"), Some(8));
    assert!(b(&f[&1], "high_need"));
    assert_eq!(s(&f[&2], "need_reasons"), "");
    assert_eq!(i(&f[&2], "need_score"), Some(0));
    assert!(!b(&f[&2], "high_need"));
}

#[tokio::test]
async fn split_files_and_row_groups_give_the_same_features() {
    let mut x = Extract::default().with_default_imd();
    for id in 1..=30 {
        let mut p = Patient::new(id);
        p.lsoa = Some(["E01000001", "E01000004", "E01000009"][(id % 3) as usize]);
        p.ethnicity = [Some("A"), Some("H"), None, Some("Z")][(id % 4) as usize];
        x.patients.push(p);
        for k in 0..(id % 7) {
            x.ae.push((
                id,
                ["2023-06-01", "2024-01-01", "2022-01-01"][(k % 3) as usize],
            ));
            x.appointments
                .push((id, "2023-11-11", "attended", "telephone"));
            x.admissions.push((
                id,
                "2023-08-08",
                if k % 2 == 0 { "emergency" } else { "elective" },
            ));
        }
        x.events.push(listed(
            id,
            ["loneliness", "hypertension", "copd", "carer", "frailty"][(id % 5) as usize],
            "2023-02-02",
        ));
    }
    let one = tempfile::tempdir().unwrap();
    x.write(one.path());
    let split = tempfile::tempdir().unwrap();
    x.write_split(split.path(), 3);
    let a = features(one.path(), T).await;
    let b = features(split.path(), T).await;
    assert_eq!(a.len(), 30);
    assert_eq!(a, b);
}
