//! Issue 15 ("Trust"): inputs that cannot escape, errors that tell the truth.
//! Each test runs the real binary on input a user could give it and checks
//! the exit code of its kind (README: 0, 2 bad input, 1 anything else), the
//! message naming what and where, no panic, and that nothing was written.
//! The disclosure attack is `disclosure.rs`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

const T: &str = "2024-03-31";

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Exit 2, no panic or backtrace, and every needle in the message.
fn expect_input_error(code: i32, err: &str, needles: &[&str]) {
    assert_eq!(code, 2, "exit code; stderr:\n{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "panic:\n{err}"
    );
    for n in needles {
        assert!(err.contains(n), "message lacks `{n}`:\n{err}");
    }
}

/// Every command that reads an extract, writing (if at all) under `out`.
fn every_command(out: &Path) -> Vec<Vec<String>> {
    let o = |name: &str| out.join(name).display().to_string();
    [
        vec!["validate".to_string()],
        vec!["features".into(), "--out".into(), o("features.parquet")],
        vec!["cohorts".into(), "--out".into(), o("cohorts")],
        vec!["propose".into(), "--out".into(), o("proposal")],
        vec!["inequalities".into(), "--out".into(), o("inequalities")],
        vec![
            "compare".into(),
            "--indicator".into(),
            "hypertension".into(),
            "--out".into(),
            o("compare"),
        ],
        vec!["report".into(), "--out".into(), o("report")],
        vec![
            "query".into(),
            "-e".into(),
            "SELECT count(*) FROM features".into(),
        ],
    ]
    .to_vec()
}

/// Runs `args` on `extract` at T.
fn run_on(extract: &Path, args: &[String]) -> (i32, String, String) {
    let mut full: Vec<&str> = args.iter().map(String::as_str).collect();
    full.extend(["--quiet", "--extract", p(extract), "--as-of", T]);
    phm(&full)
}

// See: issue 15, "Codes from the data become paths".
#[test]
fn codes_that_are_not_plain_names_are_rejected_by_every_command_and_nothing_is_written() {
    let long: &'static str = Box::leak("P".repeat(200).into_boxed_str());
    for column in ["pcn_code", "practice_code"] {
        for bad in ["../../x", "/tmp/phm-escaped", "a/b", "..", long] {
            let dir = tempfile::tempdir().unwrap();
            let ex = dir.path().join("extract");
            let mut x = Extract::minimal_valid();
            match column {
                "pcn_code" => x.patients[1].pcn = bad,
                _ => x.patients[1].practice = bad,
            }
            x.write(&ex);
            let before = listing(dir.path());
            let out = dir.path().join("W/p/out");
            for args in every_command(&out) {
                let (code, _, err) = run_on(&ex, &args);
                let shown = if bad.len() > 30 { &bad[..30] } else { bad };
                expect_input_error(
                    code,
                    &err,
                    &[&format!("patients.{column}"), shown, "extract.md v1.1"],
                );
                assert_eq!(
                    listing(dir.path()),
                    before,
                    "{column}={bad}: {} wrote something",
                    args[0]
                );
            }
            assert!(!Path::new("/tmp/phm-escaped.csv").exists());
        }
    }
}

// See: issue 15, "Panics": `phm query … | head -3` panicked on the broken pipe.
#[test]
fn a_query_into_a_pipe_closed_early_exits_0_without_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_phm"))
        .args([
            "query",
            "--quiet",
            "--extract",
            "sample-data/extract",
            "-e",
            "select * from features",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader (`head -1`) has gone: its end of the pipe is closed here.
    assert!(first.starts_with('+'), "{first}");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked") && err.trim().is_empty(), "{err}");
}

// See: issue 15, "Panics": an edited features.sql reached `as_primitive`.
#[test]
fn features_sql_edits_are_input_errors_naming_the_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    Extract::minimal_valid().write(&ex);
    let line = "    age, imd_decile, imd_quintile,";
    let edits = [
        (
            "dropped",
            "    age, imd_quintile,",
            "`imd_decile` is missing",
        ),
        (
            "renamed",
            "    age, imd_decile AS decile, imd_quintile,",
            "`decile` is not a features column",
        ),
        (
            "cast to BIGINT",
            "    age, CAST(imd_decile AS BIGINT) AS imd_decile, imd_quintile,",
            "`imd_decile` has type Int64, expected Int32",
        ),
        (
            "cast to VARCHAR",
            "    age, CAST(imd_decile AS VARCHAR) AS imd_decile, imd_quintile,",
            "`imd_decile` has type Utf8View, expected Int32",
        ),
        (
            "swapped",
            "    age, imd_quintile, imd_decile,",
            "column 8 is `imd_quintile`, expected `imd_decile`",
        ),
    ];
    for (what, replacement, says) in edits {
        let rules = dir.path().join(format!("rules-{}", what.replace(' ', "-")));
        let (code, _, err) = phm(&["rules", "export", p(&rules)]);
        assert_eq!(code, 0, "{err}");
        let file = rules.join("sql/features.sql");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(line));
        std::fs::write(&file, text.replace(line, replacement)).unwrap();
        let out = dir.path().join("out");
        let commands = [
            vec!["features", "--out", "out/f.parquet"],
            vec!["propose", "--out", "out/p"],
            vec!["inequalities", "--out", "out/i"],
            vec!["compare", "--indicator", "hypertension", "--out", "out/c"],
            vec!["report", "--out", "out/r"],
        ];
        for args in commands {
            let mut full: Vec<String> = args
                .iter()
                .map(|a| a.replace("out/", &format!("{}/", p(&out))))
                .collect();
            full.extend(["--rules".into(), p(&rules).into()]);
            let (code, _, err) = run_on(&ex, &full);
            expect_input_error(code, &err, &["sql/features.sql", says]);
            assert!(files(&out).is_empty(), "{what}, {}: output left", args[0]);
        }
    }
}

// See: issue 15, "Exit codes lie": one test per kind.
#[test]
fn each_kind_of_failure_has_its_exit_code() {
    // Resources: a memory limit too small for the run is not bad input.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.parquet");
    let (code, _, err) = phm(&[
        "features",
        "--extract",
        "sample-data/extract",
        "--memory-limit",
        "16MiB",
        "--out",
        p(&out),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--memory-limit 16MiB") && err.contains("ran out of memory"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    assert!(files(dir.path()).is_empty(), "nothing written");
    // Output: a folder phm cannot create.
    let (code, _, err) = phm(&[
        "propose",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "--out",
        "/dev/null/proposal",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot write /dev/null/proposal"), "{err}");
    // Bad argument and bad input: 2.
    let (code, _, err) = phm(&[
        "propose",
        "--extract",
        "sample-data/extract",
        "--period-months",
        "x",
        "--out",
        "o",
    ]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = phm(&[
        "features",
        "--extract",
        "/nonexistent/extract",
        "--out",
        "o.parquet",
    ]);
    expect_input_error(code, &err, &["/nonexistent/extract"]);
    // An analyst's SQL that does not plan: input, naming the query.
    let (code, _, err) = phm(&[
        "query",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "-e",
        "select nope from features",
    ]);
    expect_input_error(code, &err, &["SQL in -e", "nope"]);
}

// See: issue 15, "Causes are printed twice".
#[test]
fn each_cause_is_printed_once() {
    let (code, _, err) = phm(&[
        "query",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "-e",
        "select nope from features",
    ]);
    assert_eq!(code, 2);
    let lines: Vec<&str> = err.lines().collect();
    for (i, a) in lines.iter().enumerate() {
        for b in &lines[i + 1..] {
            let (a, b) = (
                a.trim_start_matches("  caused by: "),
                b.trim_start_matches("  caused by: "),
            );
            assert!(!a.contains(b) && !b.contains(a), "printed twice:\n{err}");
        }
    }
}
