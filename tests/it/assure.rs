//! `phm assure`: the shipped test patients pass on the shipped rules; a wrong
//! expectation, an edited rule and a registered patient said to be absent
//! each fail with a diff naming patient, column, expected and got (exit 3);
//! a malformed file stops with exit 2 naming the line. Line numbers are
//! found in the test file's text here, not taken from phm's output.

use std::path::Path;

use crate::common::*;

const DEFAULTS: &str = "queries/assure/defaults.toml";

fn defaults() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULTS)).unwrap()
}

/// 1-based number of the first line of `text` containing `needle` after the
/// line containing `after`.
fn line_of(text: &str, after: &str, needle: &str) -> usize {
    let start = text.lines().position(|l| l.contains(after)).unwrap();
    start
        + text
            .lines()
            .skip(start)
            .position(|l| l.contains(needle))
            .unwrap()
        + 1
}

fn assure_file(text: &str, rules: Option<&Path>) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tests.toml");
    std::fs::write(&path, text).unwrap();
    let mut args = vec!["assure", "--tests", path.to_str().unwrap()];
    if let Some(r) = rules {
        args.extend(["--rules", r.to_str().unwrap()]);
    }
    phm(&args)
}

#[test]
fn the_shipped_test_patients_pass_on_the_shipped_rules() {
    let (code, out, err) = phm(&["assure"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let patients = defaults()
        .lines()
        .filter(|l| l.trim_end() == "[[patient]]")
        .count();
    assert!(patients >= 50, "{patients} test patients");
    assert!(
        out.contains(&format!("{patients} passed, 0 failed")),
        "{out}"
    );
    assert_eq!(out.matches("  ok    patient ").count(), patients, "{out}");
    // The file on disk and the built-in copy are the same tests.
    let (code, out_file, _) = phm(&["assure", "--tests", DEFAULTS]);
    assert_eq!(code, 0);
    assert!(out_file.contains(&format!("{patients} passed, 0 failed")));
}

#[test]
fn a_wrong_expectation_fails_naming_patient_column_expected_and_got() {
    let text = defaults();
    // Patient 107 turns 18 on T (rules.md §2: whole years at T).
    let wrong = text.replacen(
        "expect = { age = 18, eligible = true }",
        "expect = { age = 19, eligible = true }",
        1,
    );
    assert_ne!(wrong, text);
    let expect_line = line_of(&wrong, "id = 107", "expect = { age = 19");
    let (code, out, err) = assure_file(&wrong, None);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(out.contains("FAIL  patient 107"), "{out}");
    assert!(
        out.contains(&format!("age: expected 19, got 18 (line {expect_line})")),
        "{out}"
    );
    // Only that patient fails, and only in that column.
    assert_eq!(out.matches("FAIL").count(), 1, "{out}");
    assert!(out.contains(" passed, 1 failed"), "{out}");
    assert!(err.contains("1 of "), "{err}");
}

#[test]
fn a_registered_patient_said_to_be_absent_fails_and_so_does_the_reverse() {
    let text = "as_of = \"2024-03-31\"\n\
        [[patient]]\nid = 1\npatients = {}\nabsent = true\n\
        [[patient]]\nid = 2\npatients = { registered_from = \"2024-04-01\" }\nexpect = { age = 54 }\n\
        [[patient]]\nid = 3\npatients = { registered_to = \"2024-03-31\" }\nabsent = true\n";
    let (code, out, _) = assure_file(text, None);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("FAIL  patient 1 (line 2)"), "{out}");
    assert!(
        out.contains("features rows: expected no features row (absent = true), got 1"),
        "{out}"
    );
    assert!(out.contains("FAIL  patient 2 (line 6)"), "{out}");
    assert!(
        out.contains("features rows: expected one features row, got 0"),
        "{out}"
    );
    assert!(out.contains("ok    patient 3"), "{out}");
}

#[test]
fn an_edited_threshold_fails_the_patients_on_its_boundary() {
    // HFU by GP attendance at 25 instead of 20 (rules.md §2 says 20): the
    // patient with exactly 20 attended appointments is no longer HFU.
    let rules = tempfile::tempdir().unwrap();
    let (code, _, err) = phm(&["rules", "export", rules.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let toml = rules.path().join("rules.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let edited = text.replacen("gp_attended = 20", "gp_attended = 25", 1);
    assert_ne!(edited, text);
    std::fs::write(&toml, edited).unwrap();
    let (code, out, _) = phm(&["assure", "--rules", rules.path().to_str().unwrap()]);
    assert_eq!(code, 3, "{out}");
    // Patient 306 has 20 attended appointments: hfu_gp, hfu and the score change.
    assert!(out.contains("FAIL  patient 306"), "{out}");
    assert!(out.contains("hfu_gp: expected true, got false"), "{out}");
    assert!(out.contains("hfu: expected true, got false"), "{out}");
    assert!(out.contains("need_score: expected 2, got 0"), "{out}");
    assert_eq!(out.matches("FAIL").count(), 1, "{out}");
}

/// A small valid file, to break one piece at a time.
const VALID: &str = r#"as_of = "2024-03-31"

[[patient]]
id = 1
patients = { birth_date = "1980-06-15" }
events = [ { codelist = "loneliness", date = "2024-01-01" } ]
expect = { age = 43, lonely = true }
"#;

fn malformed(text: &str) -> String {
    let (code, out, err) = assure_file(text, None);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn the_small_valid_file_passes() {
    let (code, out, err) = assure_file(VALID, None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
}

#[test]
fn a_malformed_file_is_exit_2_naming_the_line() {
    let cases: [(&str, &str, &str, &str); 8] = [
        // (what is broken, replace this, with this, the error must say)
        (
            "unknown table",
            "events = [",
            "labs = [ { date = \"2024-01-01\" } ]\nevents = [",
            "line 6: unknown table `labs`",
        ),
        (
            "bad date",
            "date = \"2024-01-01\"",
            "date = \"2024-02-30\"",
            "line 6: events.date: `2024-02-30` is not a date",
        ),
        (
            "no patients row",
            "patients = { birth_date = \"1980-06-15\" }\n",
            "",
            "line 3: patient 1 has no `patients` row",
        ),
        (
            "unknown column",
            "codelist = \"loneliness\"",
            "codelist = \"loneliness\", site = \"x\"",
            "line 6: events has no column `site`",
        ),
        (
            "unknown codelist",
            "codelist = \"loneliness\"",
            "codelist = \"lonliness\"",
            "line 6: events.codelist: no codelist `lonliness`",
        ),
        (
            "not a features column",
            "lonely = true",
            "lonley = true",
            "line 7: expect: `lonley` is not a features column",
        ),
        (
            "a value outside the contract",
            "{ birth_date = \"1980-06-15\" }",
            "{ birth_date = \"1980-06-15\", sex = \"X\" }",
            "line 5: patients.sex: `X` is not one of F, M, I, U",
        ),
        ("a TOML syntax error", "expect = {", "expect = {{", "line 7"),
    ];
    for (what, from, to, message) in cases {
        let text = VALID.replacen(from, to, 1);
        assert_ne!(text, VALID, "{what}");
        let err = malformed(&text);
        assert!(err.contains(message), "{what}: {err}");
        assert!(err.contains("tests.toml"), "{what}: names the file: {err}");
    }
}

#[test]
fn the_tests_are_checked_before_anything_runs() {
    // Two patients with one id, and a patient with neither expect nor absent.
    let twice = format!("{VALID}\n[[patient]]\nid = 1\npatients = {{}}\nabsent = true\n");
    assert!(malformed(&twice).contains("line 9: patient 1 appears twice"));
    let neither = VALID.replacen("expect = { age = 43, lonely = true }\n", "", 1);
    assert!(malformed(&neither).contains("line 3: patient 1: give either `expect`"));
    let missing = std::path::Path::new("/nonexistent/tests.toml");
    let (code, _, err) = phm(&["assure", "--tests", missing.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/tests.toml"), "{err}");
}
