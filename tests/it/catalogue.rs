//! The bad-input catalogue (issue 8, `docs/bad-input.md`): the cases no other
//! test file covers. Each runs the real `phm` binary and checks the exit code,
//! that the message says what and where, that nothing panicked, and that no
//! output file (finished or temporary) is left behind.
//!
//! Expected outcomes come from extract.md, rules.md, the README and issue 8,
//! not from what phm happens to print. A case where phm falls short is kept
//! as an `#[ignore = "bug: …"]` test asserting the right behaviour, and is
//! listed as a known bug in the catalogue (none at present).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use datafusion::arrow::array::{Date32Array, Float64Array, Int64Array};

const T: &str = "2024-03-31";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_phm")
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Exit 2 (bad input), no panic, and every needle in the message.
fn expect_input_error(code: i32, err: &str, needles: &[&str]) {
    assert_eq!(code, 2, "exit code; stderr:\n{err}");
    assert!(!err.contains("panicked"), "panic:\n{err}");
    for n in needles {
        assert!(err.contains(n), "message lacks `{n}`:\n{err}");
    }
}

/// A realistic extract made by `phm generate`.
fn generated(dir: &Path, patients: usize) -> PathBuf {
    let ex = dir.join("extract");
    let (code, _, err) = phm(&[
        "generate",
        "--quiet",
        "--patients",
        &patients.to_string(),
        "--seed",
        "1",
        "--as-of",
        "2025-03-31",
        "--out",
        p(&ex),
    ]);
    assert_eq!(code, 0, "{err}");
    ex
}

/// The built-in rules exported to `dir/rules` for editing.
fn exported_rules(dir: &Path) -> PathBuf {
    let rules = dir.join("rules");
    let (code, _, err) = phm(&["rules", "export", p(&rules)]);
    assert_eq!(code, 0, "{err}");
    rules
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

// ------------------------------------------------------- extract contract

#[test]
fn contract_breaches_stop_every_command_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    let mut x = Extract::minimal_valid();
    x.patients.push(Patient::new(2)); // duplicate patient_id
    x.patients[0].sex = "X";
    x.write(&ex);
    let out = dir.path().join("out");
    for args in [
        vec!["features", "--out", "out/features.parquet"],
        vec!["cohorts", "--out", "out/cohorts"],
        vec!["propose", "--out", "out/proposal"],
        vec!["inequalities", "--out", "out/inequalities"],
        vec!["report", "--out", "out/report"],
    ] {
        let target = dir.path().join(args[2]);
        let mut full = vec![args[0], "--quiet", "--extract", p(&ex), "--as-of", T];
        full.extend(["--out", p(&target)]);
        let (code, _, err) = phm(&full);
        expect_input_error(
            code,
            &err,
            &["patients.patient_id", "more than once", "patients.sex"],
        );
        let left = files(&out);
        assert!(left.is_empty(), "{}: output left behind: {left:?}", args[0]);
    }
}

#[test]
fn duplicate_lsoa_in_imd_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::minimal_valid();
    x.imd.push(("E01000005", 6));
    x.write(dir.path());
    let (code, _, err) = phm(&["validate", "--quiet", "--extract", p(dir.path())]);
    expect_input_error(
        code,
        &err,
        &["imd.lsoa_code", "more than once", "E01000005"],
    );
}

#[test]
fn column_names_are_exact_and_lower_case() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    replace_table(
        dir.path(),
        "ae_attendances",
        vec![
            ("patient_id", Arc::new(Int64Array::from(vec![1]))),
            ("Arrival_Date", Arc::new(Date32Array::from(vec![19000]))),
        ],
    );
    let (code, _, err) = phm(&["validate", "--quiet", "--extract", p(dir.path())]);
    expect_input_error(code, &err, &["ae_attendances.arrival_date", "missing"]);
}

#[test]
fn a_type_that_cannot_be_cast_losslessly_names_found_and_expected() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    replace_table(
        dir.path(),
        "ae_attendances",
        vec![
            ("patient_id", Arc::new(Float64Array::from(vec![1.5]))),
            ("arrival_date", Arc::new(Date32Array::from(vec![19000]))),
        ],
    );
    let (code, _, err) = phm(&["validate", "--quiet", "--extract", p(dir.path())]);
    expect_input_error(
        code,
        &err,
        &["ae_attendances.patient_id", "Float64", "Int64"],
    );
}

#[test]
fn unknown_ethnicity_codes_are_a_warning_not_an_error() {
    // extract.md: `A`..`S`, `Z` or null; contract.rs keeps other values as
    // "not known" with a warning.
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::minimal_valid();
    x.patients[0].ethnicity = Some("Q9");
    x.write(dir.path());
    let (code, _, err) = phm(&["validate", "--extract", p(dir.path()), "--as-of", T]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning") && err.contains("patients.ethnicity") && err.contains("Q9"),
        "{err}"
    );
}

#[test]
fn a_corrupt_file_inside_a_split_table_folder_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write_split(dir.path(), 2);
    let part = dir.path().join("events").join("part-1.parquet");
    let bytes = std::fs::read(&part).unwrap();
    std::fs::write(&part, &bytes[..bytes.len() / 2]).unwrap();
    let (code, _, err) = phm(&["validate", "--quiet", "--extract", p(dir.path())]);
    expect_input_error(code, &err, &["events", "cannot be read as Parquet"]);
}

// ------------------------------------------------- empty and zero-population

#[test]
fn empty_activity_tables_are_valid_with_an_explicit_as_of() {
    // extract.md requires the tables, not rows in them: a small practice can
    // have no admissions. Only the default T needs an event.
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    let mut x = Extract::default().with_default_imd();
    for id in 1..=3 {
        x.patients.push(Patient::new(id));
    }
    x.write(&ex);
    let out = dir.path().join("features.parquet");
    let (code, _, err) = phm(&[
        "features",
        "--quiet",
        "--extract",
        p(&ex),
        "--as-of",
        T,
        "--out",
        p(&out),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.exists());
}

#[test]
fn empty_events_without_as_of_asks_for_a_reference_date() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    let mut x = Extract::default().with_default_imd();
    x.patients.push(Patient::new(1));
    x.write(&ex);
    let out = dir.path().join("out");
    let (code, _, err) = phm(&[
        "features",
        "--quiet",
        "--extract",
        p(&ex),
        "--out",
        p(&out.join("features.parquet")),
    ]);
    expect_input_error(code, &err, &["events", "no rows", "--as-of"]);
    assert_eq!(files(&out), Vec::<String>::new());
}

/// Runs features, cohorts, propose and inequalities on `ex` at `as_of` and
/// expects each to refuse with a message about the registered population.
fn expect_no_population_error(dir: &Path, ex: &Path, as_of: &str) {
    let out = dir.join("out");
    for (cmd, target) in [
        ("features", "features.parquet"),
        ("cohorts", "cohorts"),
        ("propose", "proposal"),
        ("inequalities", "inequalities"),
    ] {
        let (code, _, err) = phm(&[
            cmd,
            "--quiet",
            "--extract",
            p(ex),
            "--as-of",
            as_of,
            "--out",
            p(&out.join(target)),
        ]);
        assert_ne!(code, 0, "{cmd} exited 0 with nobody registered at {as_of}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            err.contains("registered") && err.contains(as_of),
            "{cmd}: message should say nobody is registered at {as_of}:\n{err}"
        );
        assert_eq!(files(&out), Vec::<String>::new(), "{cmd} wrote output");
    }
}

#[test]
fn an_extract_with_zero_registered_patients_is_a_clear_error() {
    // Everybody left before T.
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    let mut x = Extract::minimal_valid();
    for pt in &mut x.patients {
        pt.to = Some("2010-01-01");
    }
    x.write(&ex);
    expect_no_population_error(dir.path(), &ex, T);
}

#[test]
fn an_empty_patients_table_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    let mut x = Extract::minimal_valid();
    x.patients.clear();
    x.write(&ex);
    expect_no_population_error(dir.path(), &ex, T);
}

#[test]
fn as_of_before_every_event_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let ex = generated(dir.path(), 300);
    expect_no_population_error(dir.path(), &ex, "1850-01-01");
}

// ------------------------------------------------------- rows the rules ignore

#[test]
fn dates_before_1900_after_t_and_unknown_patients_are_warned_by_validate() {
    // extract.md: rows after T and rows for unknown patients are ignored and
    // dates before 1900 still count, so these are warnings (exit 0) naming
    // the table, column and row count. The rules' handling of the same rows
    // is tested in features_spec.rs.
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::minimal_valid();
    x.patients[1].birth = "1890-06-01";
    x.events.push((1, code("carer"), "1899-12-31", None));
    x.events.push((1, code("carer"), "2024-04-01", None));
    x.ae.push((99, "2023-01-01"));
    x.ae.push((99, "2023-01-02"));
    x.admissions.push((2, "2030-01-01", "elective"));
    x.write(dir.path());
    let (code, _, err) = phm(&["validate", "--extract", p(dir.path()), "--as-of", T]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in [
        "patients.birth_date",
        "born before 1900",
        "events.date",
        "before 1900",
        "after the reference date 2024-03-31",
        "admissions.admission_date",
        "ae_attendances",
        "not in `patients`",
        "[2 rows]",
    ] {
        assert!(err.contains(needle), "warning lacks `{needle}`:\n{err}");
    }
}

// ------------------------------------------------------------------ codelists

#[test]
fn malformed_codelists_name_the_file_and_line_and_stop_the_run() {
    for (change, needles) in [
        (
            ("code,term", "codes,terms"),
            vec!["loneliness.csv", "code,term"],
        ),
        (
            ("267076002,Feeling lonely", "26707600X,Feeling lonely"),
            vec!["loneliness.csv", "line 8", "26707600X"],
        ),
        (
            ("422650009,Social isolation", "267076002,Social isolation"),
            vec!["loneliness.csv", "line 9", "267076002", "twice"],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let rules = exported_rules(dir.path());
        edit(&rules.join("codelists/loneliness.csv"), change.0, change.1);
        let ex = dir.path().join("extract");
        Extract::minimal_valid().write(&ex);
        let out = dir.path().join("out");
        let (code, _, err) = phm(&[
            "features",
            "--quiet",
            "--extract",
            p(&ex),
            "--rules",
            p(&rules),
            "--as-of",
            T,
            "--out",
            p(&out.join("features.parquet")),
        ]);
        expect_input_error(code, &err, &needles);
        assert_eq!(files(&out), Vec::<String>::new());
    }
}

#[test]
fn a_codelist_header_error_gives_the_line_of_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let rules = exported_rules(dir.path());
    let list = rules.join("codelists/loneliness.csv");
    let line = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .position(|l| l == "code,term")
        .unwrap()
        + 1;
    assert!(line > 1, "the shipped list starts with comments");
    edit(&list, "code,term", "codes,terms");
    let ex = dir.path().join("extract");
    Extract::minimal_valid().write(&ex);
    let (code, _, err) = phm(&[
        "features",
        "--quiet",
        "--extract",
        p(&ex),
        "--rules",
        p(&rules),
        "--as-of",
        T,
        "--out",
        p(&dir.path().join("f.parquet")),
    ]);
    expect_input_error(code, &err, &[&format!("line {line}:")]);
}

// ------------------------------------------------------------- TOML configs

/// Edits one rules file and runs `cmd` with `--rules`; expects exit 2 naming
/// the file and the needles, and no output.
fn expect_config_error(cmd: &str, file: &str, from: &str, to: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let rules = exported_rules(dir.path());
    edit(&rules.join(file), from, to);
    let ex = dir.path().join("extract");
    Extract::minimal_valid().write(&ex);
    let out = dir.path().join("out");
    let target = match cmd {
        "features" => out.join("features.parquet"),
        _ => out.join(cmd),
    };
    let (code, _, err) = phm(&[
        cmd,
        "--quiet",
        "--extract",
        p(&ex),
        "--rules",
        p(&rules),
        "--as-of",
        T,
        "--out",
        p(&target),
    ]);
    let mut all = vec![file];
    all.extend(needles);
    expect_input_error(code, &err, &all);
    assert_eq!(files(&out), Vec::<String>::new(), "{file}: output written");
}

#[test]
fn rules_toml_unknown_keys_wrong_types_and_ranges_are_errors() {
    let f = "rules.toml";
    expect_config_error(
        "features",
        f,
        "adult_age = 18",
        "adult_age = 18\nadultage = 16",
        &["unknown field `adultage`"],
    );
    expect_config_error(
        "features",
        f,
        "adult_age = 18",
        "adult_age = \"18\"",
        &["invalid type", "line 7"],
    );
    expect_config_error("features", f, "[windows]", "[windows", &["line"]);
    expect_config_error(
        "features",
        f,
        "max_decile = 2 ",
        "max_decile = 11 ",
        &["core20.max_decile", "1 to 10"],
    );
    expect_config_error(
        "features",
        f,
        "ae_attendances = 5 ",
        "ae_attendances = 0 ",
        &["hfu.ae_attendances"],
    );
    expect_config_error(
        "features",
        f,
        "lonely = 24 ",
        "lonely = 0 ",
        &["windows.lonely"],
    );
    expect_config_error("features", f, "lonely = 24 ", "lonely = -24 ", &["lonely"]);
    expect_config_error(
        "features",
        f,
        "adult_age = 18",
        "adult_age = 200",
        &["population.adult_age"],
    );
}

#[test]
fn scoring_toml_unknown_keys_and_ranges_are_errors() {
    let f = "scoring.toml";
    expect_config_error(
        "features",
        f,
        "high_need_score = 6",
        "high_need_score = 6\nhigh_need = 5",
        &["unknown field `high_need`"],
    );
    expect_config_error(
        "features",
        f,
        "high_need_score = 6",
        "high_need_score = -6",
        &["need.high_need_score"],
    );
    expect_config_error(
        "features",
        f,
        "column = \"lonely\"\npoints = 3",
        "column = \"lonely\"\npoints = \"three\"",
        &["invalid type"],
    );
    expect_config_error(
        "features",
        f,
        "column = \"lonely\"",
        "column = \"lonley\"",
        &["component `lonely`", "`lonley` is not a features column"],
    );
}

#[test]
fn capacity_toml_negative_fte_wrong_types_and_ranges_are_errors() {
    let f = "capacity.toml";
    expect_config_error(
        "propose",
        f,
        "link_worker_fte = 2.0 ",
        "link_worker_fte = -1 ",
        &["defaults.link_worker_fte", "negative"],
    );
    expect_config_error(
        "propose",
        f,
        "proactive_share = 0.3 ",
        "proactive_share = 1.5 ",
        &["defaults.proactive_share"],
    );
    expect_config_error(
        "propose",
        f,
        "period_months = 12 ",
        "period_months = \"twelve\" ",
        &["invalid type"],
    );
    expect_config_error(
        "propose",
        f,
        "[defaults]",
        "[defaults]\nlinkworker_fte = 3",
        &["linkworker_fte"],
    );
}

#[test]
fn indicators_toml_unknown_keys_are_errors() {
    expect_config_error(
        "inequalities",
        "indicators.toml",
        "[[indicator]]",
        "[[indicator]]\ncolour = \"red\"",
        &["colour"],
    );
}

#[test]
fn capacity_csv_with_a_negative_fte_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    Extract::minimal_valid().write(&ex);
    let cap = dir.path().join("capacity.csv");
    std::fs::write(&cap, "pcn_code,link_worker_fte\nU00001,-2\n").unwrap();
    let out = dir.path().join("out");
    let (code, _, err) = phm(&[
        "propose",
        "--quiet",
        "--extract",
        p(&ex),
        "--as-of",
        T,
        "--capacity",
        p(&cap),
        "--out",
        p(&out),
    ]);
    expect_input_error(
        code,
        &err,
        &["capacity.csv", "line 2", "U00001", "negative"],
    );
    assert_eq!(files(&out), Vec::<String>::new());
}

#[test]
fn bad_arguments_are_input_errors() {
    let (code, _, err) = phm(&[
        "features",
        "--extract",
        "x",
        "--as-of",
        "2024-13-01",
        "--out",
        "x.parquet",
    ]);
    expect_input_error(code, &err, &["--as-of", "2024-13-01"]);
}

// ------------------------------------------------------- output and faults

#[test]
fn an_output_path_under_a_regular_file_is_a_write_error() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    Extract::minimal_valid().write(&ex);
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    for (cmd, target) in [
        ("features", file.join("features.parquet")),
        ("propose", file.join("proposal")),
    ] {
        let (code, _, err) = phm(&[
            cmd,
            "--quiet",
            "--extract",
            p(&ex),
            "--as-of",
            T,
            "--out",
            p(&target),
        ]);
        assert_eq!(code, 1, "README: write failures exit 1; {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains("not-a-folder"), "{cmd}: {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    }
}

/// Runs phm inside a private mount namespace with a fresh tmpfs (mount
/// options `opts`) at `dir/mnt`, so a read-only or full disk can be simulated
/// honestly even as root. Returns (exit code, stderr, files left in the
/// mount), or None when mount namespaces are not available here.
fn on_tmpfs(dir: &Path, opts: &str, args: &[&str]) -> Option<(i32, String, Vec<String>)> {
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let list = dir.join("left.txt");
    // $0 = mount point, $1 = listing file, then the phm command line.
    let script = format!(
        "mount -t tmpfs -o {opts} tmpfs \"$0\" || exit 97; \
         list=\"$1\"; shift; \"$@\"; rc=$?; \
         (cd \"$0\" && find . -mindepth 1 | sort) > \"$list\"; exit $rc"
    );
    let args: Vec<String> = args.iter().map(|a| a.replace("{mnt}", p(&mnt))).collect();
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c", &script, p(&mnt), p(&list), bin()])
        .args(&args)
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED: cannot run unshare: {e}");
            return None;
        }
    };
    let code = out.status.code().unwrap_or(-1);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    if code == 97 || !list.exists() {
        eprintln!("SKIPPED: no private tmpfs here (unshare -rm / mount): {err}");
        return None;
    }
    let left = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .collect();
    Some((code, err, left))
}

#[test]
fn a_read_only_output_folder_is_a_write_error() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    Extract::minimal_valid().write(&ex);
    let Some((code, err, left)) = on_tmpfs(
        dir.path(),
        "ro",
        &[
            "features",
            "--quiet",
            "--extract",
            p(&ex),
            "--as-of",
            T,
            "--out",
            "{mnt}/features.parquet",
        ],
    ) else {
        return;
    };
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("features.parquet") && err.contains("Read-only"),
        "{err}"
    );
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn disk_full_while_writing_features_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ex = generated(dir.path(), 3000);
    // The features of 3,000 patients take ~40 kB; the disk holds 16 kB.
    let Some((code, err, left)) = on_tmpfs(
        dir.path(),
        "size=16k",
        &[
            "features",
            "--quiet",
            "--extract",
            p(&ex),
            "--out",
            "{mnt}/features.parquet",
        ],
    ) else {
        return;
    };
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("features.parquet") && err.contains("No space left"),
        "{err}"
    );
    assert_eq!(left, Vec::<String>::new(), "partial output left behind");
}

#[test]
fn disk_full_while_writing_a_proposal_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let ex = generated(dir.path(), 3000);
    let Some((code, err, left)) = on_tmpfs(
        dir.path(),
        "size=16k",
        &[
            "propose",
            "--quiet",
            "--extract",
            p(&ex),
            "--out",
            "{mnt}/proposal",
        ],
    ) else {
        return;
    };
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("No space left"), "{err}");
    let temps: Vec<&String> = left.iter().filter(|f| f.ends_with(".tmp")).collect();
    assert!(temps.is_empty(), "temporary files left behind: {temps:?}");
}

/// Runs phm with `args`, sends it SIGINT (Ctrl-C) `settle` after an entry
/// whose name contains `marker` appears in `watch` (so mid-run, not before or
/// after), and returns (succeeded, stderr).
fn interrupted_run(args: &[&str], watch: &Path, marker: &str, settle: Duration) -> (bool, String) {
    let mut child = Command::new(bin())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut seen = false;
    while !seen && start.elapsed() < Duration::from_secs(20) {
        seen = listing(watch).iter().any(|f| f.contains(marker));
        if !seen {
            assert!(
                child.try_wait().unwrap().is_none(),
                "phm {args:?} ended before it could be interrupted"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    assert!(seen, "no `{marker}` in {} after 20 s", watch.display());
    std::thread::sleep(settle);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let result = child.wait_with_output().unwrap();
    (
        result.status.success(),
        String::from_utf8_lossy(&result.stderr).into_owned(),
    )
}

#[test]
fn ctrl_c_during_features_exits_non_zero_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ex = generated(dir.path(), 300_000);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let target = out.join("features.parquet");
    // Interrupt once the temporary output exists: mid-write.
    let (ok, err) = interrupted_run(
        &[
            "features",
            "--quiet",
            "--extract",
            p(&ex),
            "--out",
            p(&target),
        ],
        &out,
        ".tmp",
        Duration::from_millis(50),
    );
    assert!(!ok, "exit 0 after Ctrl-C; {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(listing(&out), Vec::<String>::new(), "output left behind");
}

#[test]
fn ctrl_c_during_generate_exits_non_zero_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("extracts");
    std::fs::create_dir(&parent).unwrap();
    let target = parent.join("ex");
    let (ok, err) = interrupted_run(
        &[
            "generate",
            "--quiet",
            "--patients",
            "1000000",
            "--seed",
            "1",
            "--out",
            p(&target),
        ],
        &parent,
        "generating",
        Duration::from_millis(100),
    );
    assert!(!ok, "exit 0 after Ctrl-C");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(listing(&parent), Vec::<String>::new(), "output left behind");
    assert!(err.contains("interrupted"), "no message: {err:?}");
}

#[test]
fn a_missing_imd_file_given_with_imd_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    let (code, _, err) = phm(&[
        "validate",
        "--quiet",
        "--extract",
        p(dir.path()),
        "--imd",
        "/nonexistent/imd.csv",
    ]);
    expect_input_error(code, &err, &["/nonexistent/imd.csv"]);
}
