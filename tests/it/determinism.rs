//! Determinism (issue 8): the same extract, rules and T give byte-identical
//! outputs from every command, however the query engine splits the work.
//! Each command runs three times on the committed sample extract into the same
//! path: once with the engine's default partitions and once with 7 (so
//! batches arrive in other orders and aggregates merge in other orders), and
//! once more with the features in a file rather than in memory. A
//! HashMap order or an unsorted result leaking into a file fails here.

use std::collections::BTreeMap;
use std::path::Path;

use datafusion::arrow::array::AsArray;

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    crate::common::files(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

#[test]
fn every_command_gives_byte_identical_outputs_on_a_second_run() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("determinism");
    let _ = std::fs::remove_dir_all(&work);
    let out = work.join("out");
    let extract = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/extract");
    let ex = extract.to_str().unwrap();
    let o = |name: &str| out.join(name).to_str().unwrap().to_string();
    let commands: Vec<Vec<String>> = vec![
        vec!["features".into(), "--out".into(), o("features.parquet")],
        vec!["cohorts".into(), "--out".into(), o("cohorts")],
        vec!["propose".into(), "--out".into(), o("proposal")],
        vec!["inequalities".into(), "--out".into(), o("inequalities")],
        vec![
            "inequalities".into(),
            "--by".into(),
            "imd_quintile".into(),
            "--out".into(),
            o("inequalities-quintile"),
        ],
        vec![
            "compare".into(),
            "--indicator".into(),
            "emergency_admissions".into(),
            "--level".into(),
            "practice".into(),
            "--out".into(),
            o("compare"),
        ],
        vec!["report".into(), "--out".into(), o("report")],
        vec!["demo".into(), "--out".into(), o("demo")],
        vec![
            "query".into(),
            "-e".into(),
            "SELECT pcn_code, imd_decile, count(*) AS n FROM features GROUP BY pcn_code, imd_decile ORDER BY pcn_code, imd_decile".into(),
            "--out".into(),
            o("query.csv"),
        ],
    ];
    let mut first = None;
    // The third run keeps the scored features in a scratch Parquet file in
    // patient order (PHM_ORDER_IN_ENGINE=1) rather than as the in-memory
    // table of the rows as gathered (features/mod.rs): no output may depend
    // on which, or on the order of the rows in `features`.
    for env in [
        vec![],
        vec![("DATAFUSION_EXECUTION_TARGET_PARTITIONS", "7")],
        vec![("PHM_ORDER_IN_ENGINE", "1")],
    ] {
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        for c in &commands {
            let mut args: Vec<&str> = c.iter().map(String::as_str).collect();
            args.extend(["--quiet", "--extract", ex]);
            let (code, _, err) = crate::common::phm_with_env(&args, &env);
            assert_eq!(code, 0, "phm {args:?} failed: {err}");
        }
        let snap = snapshot(&out);
        match &first {
            None => first = Some(snap),
            Some(before) => {
                assert_eq!(
                    before.keys().collect::<Vec<_>>(),
                    snap.keys().collect::<Vec<_>>(),
                    "a later run wrote other files"
                );
                // Enough files to mean something: features, cohorts, the
                // proposal with its lists, three folders of statistics, and
                // the ICB and PCN reports with their charts.
                assert!(before.len() > 50, "only {} files", before.len());
                let differing: Vec<_> = before
                    .iter()
                    .filter(|(k, v)| snap.get(*k) != Some(*v))
                    .map(|(k, _)| k.clone())
                    .collect();
                assert!(differing.is_empty(), "differ between runs: {differing:?}");
            }
        }
    }
}

/// phm puts the features in patient order itself when they fit in half the
/// memory pool (features/key_order.rs), else with DataFusion's sort
/// (`PHM_ORDER_IN_ENGINE=1` forces it). With unique patient ids both orders
/// are the same, so both must give the same bytes.
#[test]
fn features_are_the_same_whether_phm_or_datafusion_puts_them_in_order() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("determinism-order");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let extract = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/extract");
    let run = |name: &str, env: &[(&str, &str)]| {
        let out = work.join(name);
        let args = [
            "features",
            "--quiet",
            "--extract",
            extract.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        let (code, _, err) = crate::common::phm_with_env(&args, env);
        assert_eq!(code, 0, "{name}: {err}");
        std::fs::read(out).unwrap()
    };
    let by_phm = run("by-phm.parquet", &[]);
    let by_datafusion = run("by-datafusion.parquet", &[("PHM_ORDER_IN_ENGINE", "1")]);
    assert!(by_phm == by_datafusion, "the two orders differ");
    let features = crate::common::read_parquet(&work.join("by-phm.parquet"));
    let ids = features
        .column_by_name("patient_id")
        .unwrap()
        .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .values();
    assert!(ids.len() > 50_000, "{} rows", ids.len());
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "not in ascending patient_id order"
    );
}
