//! The rules as data: every `tests/spec/*.md` file (patient tables in the
//! style of ehrQL's spec tests, format in `tests/spec/README.md`) is parsed
//! into a small extract, run through the real features SQL, and checked cell
//! by cell against the expected features written in the file by hand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;

/// One spec file, parsed.
pub struct Spec {
    pub path: PathBuf,
    pub as_of: String,
    pub extract: Extract,
    /// (patient, [(column, expected value)], why)
    pub expect: Vec<(i64, Vec<(String, V)>, String)>,
    pub absent: Vec<i64>,
}

/// Every spec file, in name order (README.md excepted).
pub fn load_all() -> Vec<Spec> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spec");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("README.md"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 5,
        "spec files missing from {}",
        dir.display()
    );
    paths.iter().map(|p| parse(p)).collect()
}

/// A table of a spec file: its header and rows of cells, by column name.
struct Table {
    name: String,
    rows: Vec<BTreeMap<String, String>>,
}

/// Test strings live for the whole test process; the helper extract holds
/// `&'static str` so that hand-written tests can use literals.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

fn tables(text: &str, path: &Path) -> (String, Vec<Table>) {
    let mut as_of = None;
    let mut out: Vec<Table> = Vec::new();
    let mut header: Option<Vec<String>> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(date) = line.strip_prefix("as_of:") {
            as_of = Some(date.trim().to_string());
        } else if let Some(name) = line.strip_prefix("## ") {
            out.push(Table {
                name: name.trim().to_string(),
                rows: Vec::new(),
            });
            header = None;
        } else if line.starts_with('|') {
            let table = out
                .last_mut()
                .unwrap_or_else(|| panic!("{}: a table row before any `## table`", path.display()));
            match &header {
                None => header = Some(cells(line)),
                Some(h) => {
                    let c = cells(line);
                    assert_eq!(
                        c.len(),
                        h.len(),
                        "{}: `{line}` has the wrong width",
                        path.display()
                    );
                    table.rows.push(h.iter().cloned().zip(c).collect());
                }
            }
        }
    }
    let as_of = as_of.unwrap_or_else(|| panic!("{}: no `as_of:` line", path.display()));
    (as_of, out)
}

fn cell<'a>(row: &'a BTreeMap<String, String>, column: &str) -> Option<&'a str> {
    row.get(column)
        .map(String::as_str)
        .filter(|c| !c.is_empty())
}

fn patient_id(row: &BTreeMap<String, String>) -> i64 {
    cell(row, "patient")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("row without a numeric patient: {row:?}"))
}

fn copies(row: &BTreeMap<String, String>) -> usize {
    cell(row, "copies").map_or(1, |c| c.parse().unwrap())
}

fn value(text: &str) -> V {
    match text {
        "true" => V::B(true),
        "false" => V::B(false),
        "null" => V::Null,
        _ => match text.parse::<i64>() {
            Ok(n) => V::I(n),
            Err(_) => V::S(text.trim_matches('"').to_string()),
        },
    }
}

fn add_patients(x: &mut Extract, table: &Table) {
    for row in &table.rows {
        let mut p = Patient::new(patient_id(row));
        let optional = |c: &str| cell(row, c).map(leak);
        if let Some(v) = cell(row, "birth") {
            p.birth = leak(v);
        }
        if let Some(v) = cell(row, "sex") {
            p.sex = leak(v);
        }
        if let Some(v) = cell(row, "from") {
            p.from = leak(v);
        }
        if let Some(v) = cell(row, "practice") {
            p.practice = leak(v);
        }
        if let Some(v) = cell(row, "pcn") {
            p.pcn = leak(v);
        }
        if row.contains_key("lsoa") {
            p.lsoa = optional("lsoa");
        }
        if row.contains_key("ethnicity") {
            p.ethnicity = optional("ethnicity");
        }
        p.to = optional("to");
        p.death = optional("death");
        x.patients.push(p);
    }
}

fn add_activity(x: &mut Extract, table: &Table, path: &Path) {
    for row in &table.rows {
        let id = patient_id(row);
        let date = leak(cell(row, "date").expect("a date"));
        for _ in 0..copies(row) {
            match table.name.as_str() {
                "events" => {
                    let code = match (cell(row, "codelist"), cell(row, "code")) {
                        (Some(list), _) => code(list),
                        (None, Some(c)) => c.parse().unwrap(),
                        (None, None) => {
                            panic!("{}: event without codelist or code", path.display())
                        }
                    };
                    let v = cell(row, "value").map(|v| v.parse().unwrap());
                    x.events.push((id, code, date, v));
                }
                "ae" => x.ae.push((id, date)),
                "admissions" => x
                    .admissions
                    .push((id, date, leak(cell(row, "method").unwrap()))),
                "appointments" => x.appointments.push((
                    id,
                    date,
                    leak(cell(row, "status").unwrap_or("attended")),
                    leak(cell(row, "mode").unwrap_or("face_to_face")),
                )),
                other => panic!("{}: unknown table `{other}`", path.display()),
            }
        }
    }
}

pub fn parse(path: &Path) -> Spec {
    let text = std::fs::read_to_string(path).unwrap();
    let (as_of, tables) = tables(&text, path);
    let mut spec = Spec {
        path: path.to_path_buf(),
        as_of,
        extract: Extract::default().with_default_imd(),
        expect: Vec::new(),
        absent: Vec::new(),
    };
    for table in &tables {
        match table.name.as_str() {
            "patients" => add_patients(&mut spec.extract, table),
            "expect" => {
                for row in &table.rows {
                    let checks = row
                        .iter()
                        .filter(|(k, _)| *k != "patient" && *k != "why")
                        .map(|(k, v)| (k.clone(), value(v)))
                        .collect();
                    let why = row.get("why").cloned().unwrap_or_default();
                    spec.expect.push((patient_id(row), checks, why));
                }
            }
            "absent" => spec.absent.extend(table.rows.iter().map(patient_id)),
            _ => add_activity(&mut spec.extract, table, path),
        }
    }
    assert!(
        !spec.expect.is_empty(),
        "{}: nothing expected",
        path.display()
    );
    spec
}

/// Every difference between the features `rows` (as many as `row_count`
/// rows were read) and what `spec` expects, one readable line each.
pub fn check(spec: &Spec, rows: &BTreeMap<i64, Row>, row_count: usize) -> Vec<String> {
    let name = spec.path.file_name().unwrap().to_string_lossy();
    let mut out = Vec::new();
    if rows.len() != row_count {
        out.push(format!(
            "{name}: {row_count} rows for {} patients: a patient appears twice",
            rows.len()
        ));
    }
    for (id, checks, why) in &spec.expect {
        let Some(row) = rows.get(id) else {
            out.push(format!("{name}: patient {id} has no features row ({why})"));
            continue;
        };
        for (column, want) in checks {
            let got = row.get(column);
            if got != Some(want) {
                out.push(format!(
                    "{name}: patient {id} `{column}`: expected {want:?}, got {got:?} {why}"
                ));
            }
        }
    }
    for id in &spec.absent {
        if rows.contains_key(id) {
            out.push(format!("{name}: patient {id} should have no features row"));
        }
    }
    out
}

async fn run_locally(spec: &Spec) -> (BTreeMap<i64, Row>, usize) {
    let dir = tempfile::tempdir().unwrap();
    spec.extract.write(dir.path());
    let batches = feature_batches(dir.path(), &spec.as_of).await;
    let count = batches.iter().map(|b| b.num_rows()).sum();
    (rows_of(&batches), count)
}

#[tokio::test]
async fn every_rule_table_holds_on_the_local_engine() {
    let mut failures = Vec::new();
    for spec in load_all() {
        let (rows, count) = run_locally(&spec).await;
        failures.extend(check(&spec, &rows, count));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[tokio::test]
async fn a_wrong_expectation_in_a_rule_table_is_reported() {
    // The checker itself can fail: flip one expected value, drop a row, and
    // claim a registered patient is absent; each is one line of the report.
    let mut spec = parse(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spec/imd.md"));
    let (rows, count) = run_locally(&spec).await;
    assert!(check(&spec, &rows, count).is_empty());
    spec.expect[0].1[0].1 = V::I(7);
    spec.absent.push(spec.expect[1].0);
    let failures = check(&spec, &rows, count + 1);
    assert_eq!(failures.len(), 3, "{failures:#?}");
    assert!(failures[0].contains("appears twice"), "{}", failures[0]);
    assert!(failures[1].contains("expected I(7)"), "{}", failures[1]);
    assert!(
        failures[2].contains("should have no features row"),
        "{}",
        failures[2]
    );
}
