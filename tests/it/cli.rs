//! The CLI on the committed sample extract: the demo, the example analyst
//! queries, parameters, and bad SQL as a clear input error.

use crate::common::phm;

#[test]
fn demo_writes_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, stdout, err) = phm(&["demo", "--quiet", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for f in [
        "features.parquet",
        "cohorts.csv",
        "attrition.csv",
        "proposals/proposals.parquet",
        "proposals/capacity.csv",
        "proposals/segments.csv",
        "proposals/capacity.json",
        "inequalities/inequalities.csv",
        "inequalities/sii.csv",
        "inequalities/gap.csv",
        "report/icb/report.html",
        "report/icb/charts/funnel_high_need.png",
        "report/pcn/U10037/report.html",
        "report/pcn/U10037/proposed.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing; stdout:\n{stdout}");
    }
    assert!(stdout.contains("capacity covers"), "{stdout}");
}

#[test]
fn example_queries_run_on_the_sample() {
    for (file, extra) in [
        ("queries/examples/core20_hypertension_no_bp.sql", vec![]),
        ("queries/examples/hfu_by_practice.sql", vec![]),
        (
            "queries/examples/lonely_over_75_not_referred.sql",
            vec!["--param", "min_age=75"],
        ),
    ] {
        let mut args = vec!["query", "--quiet", "--extract", "sample-data/extract", file];
        args.extend(extra);
        let (code, stdout, err) = phm(&args);
        assert_eq!(code, 0, "{file}: {err}");
        assert!(
            stdout.contains("patient_id") || stdout.contains("practice_code"),
            "{file}: {stdout}"
        );
    }
}

#[test]
fn query_parameters_are_bound_and_results_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("n.csv");
    let (code, _, err) = phm(&[
        "query",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "-e",
        "SELECT count(*) AS n FROM patients WHERE sex = $sex",
        "--param",
        "sex=F",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(out).unwrap();
    assert!(text.starts_with("n\n"), "{text}");
    assert!(text.lines().nth(1).unwrap().parse::<u64>().unwrap() > 20_000);
}

#[test]
fn bad_sql_is_an_input_error() {
    let (code, _, err) = phm(&[
        "query",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "-e",
        "SELECT nonsense FROM nowhere",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("-e") && err.contains("nowhere"), "{err}");
}

#[test]
fn rules_export_then_run_edited_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    assert_eq!(phm(&["rules", "export", rules.to_str().unwrap()]).0, 0);
    // Raise the A&E HFU threshold to a value nobody reaches.
    let toml = std::fs::read_to_string(rules.join("rules.toml"))
        .unwrap()
        .replace("ae_attendances = 5", "ae_attendances = 9999");
    std::fs::write(rules.join("rules.toml"), toml).unwrap();
    let sql = "SELECT count(*) AS n FROM features WHERE hfu_ae";
    let (_, default_out, _) = phm(&[
        "query",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "-e",
        sql,
    ]);
    let (code, edited_out, err) = phm(&[
        "query",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "--rules",
        rules.to_str().unwrap(),
        "-e",
        sql,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(edited_out.contains("| 0 "), "{edited_out}");
    assert!(!default_out.contains("| 0 "), "{default_out}");
    // An unknown key is an error naming it.
    let bad = std::fs::read_to_string(rules.join("rules.toml")).unwrap() + "\n[extra]\nfoo = 1\n";
    std::fs::write(rules.join("rules.toml"), bad).unwrap();
    let (code, _, err) = phm(&[
        "query",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "--rules",
        rules.to_str().unwrap(),
        "-e",
        sql,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("extra"), "{err}");
}
