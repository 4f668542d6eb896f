//! `phm assure`: test patients with expected features, run through the real
//! rules (ehrQL's `assure`, OHDSI's "why is this patient included"). An
//! analyst who edits a threshold or a codelist writes a few rows per patient
//! and the features they mean; phm writes those rows as a throwaway Parquet
//! extract, runs the same `Pipeline` every command runs, and reports each
//! patient and column that differs. `queries/assure/defaults.toml` holds one
//! patient per boundary of rules.md §2–3, so it is also the rules' worked
//! examples.

pub mod file;
mod write;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;

use crate::error::{PhmError, Result};
use crate::pipeline::{Pipeline, RunOptions};
use crate::rules::RuleSet;

/// One cell of an extract row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Date(NaiveDate),
}

/// A value a test expects in a features column.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expected::Null => f.write_str("null"),
            Expected::Bool(b) => write!(f, "{b}"),
            Expected::Int(n) => write!(f, "{n}"),
            Expected::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// One expected features cell, with the line it was written on.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub column: &'static str,
    pub value: Expected,
    pub line: usize,
}

/// An extract row: contract column name → cell (patient_id is the patient's).
pub type Row = BTreeMap<&'static str, Cell>;

/// One test patient: their rows of each table and what the features should be.
#[derive(Debug, Clone, PartialEq)]
pub struct TestPatient {
    pub id: i64,
    pub about: String,
    /// Line of the `[[patient]]` header.
    pub line: usize,
    pub as_of: NaiveDate,
    /// Contract table name → rows (`patients` has exactly one).
    pub rows: BTreeMap<&'static str, Vec<Row>>,
    /// The features cells to check; empty when `absent`.
    pub expect: Vec<Expectation>,
    /// The patient must have no features row (not registered at T).
    pub absent: bool,
}

/// A parsed assure file.
#[derive(Debug, Clone, PartialEq)]
pub struct AssureFile {
    pub origin: String,
    pub patients: Vec<TestPatient>,
    /// The `imd` rows every test extract holds.
    pub imd: Vec<Row>,
}

/// A malformed assure file: exit 2, naming the file and line.
#[derive(Debug, thiserror::Error)]
pub enum AssureError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file} line {line}: {message}")]
    File {
        file: String,
        line: usize,
        message: String,
    },
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub column: String,
    pub expected: Expected,
    pub got: Expected,
    /// Line of the expectation in the file.
    pub line: usize,
}

/// How one test patient fared.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientResult {
    pub id: i64,
    pub about: String,
    pub line: usize,
    /// Number of features rows the patient got (1 expected, 0 when absent).
    pub rows: usize,
    pub expected_rows: usize,
    pub mismatches: Vec<Mismatch>,
}

impl PatientResult {
    pub fn passed(&self) -> bool {
        self.rows == self.expected_rows && self.mismatches.is_empty()
    }
}

/// Every test patient's result, in the file's order.
#[derive(Debug, Clone, PartialEq)]
pub struct AssureReport {
    pub origin: String,
    pub results: Vec<PatientResult>,
    pub expectations: usize,
}

impl AssureReport {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed()).count()
    }

    /// The report for people: one line per patient, and under a failing
    /// patient one line per difference, naming the column, expected and got.
    pub fn text(&self) -> String {
        let mut out = format!(
            "phm assure: {} ({} test patients, {} expected cells)\n",
            self.origin,
            self.results.len(),
            self.expectations
        );
        for r in &self.results {
            let about = if r.about.is_empty() {
                String::new()
            } else {
                format!("  {}", r.about)
            };
            if r.passed() {
                out.push_str(&format!("  ok    patient {}{about}\n", r.id));
                continue;
            }
            out.push_str(&format!(
                "  FAIL  patient {} (line {}){about}\n",
                r.id, r.line
            ));
            if r.rows != r.expected_rows {
                let want = if r.expected_rows == 0 {
                    "no features row (absent = true)".to_string()
                } else {
                    "one features row".to_string()
                };
                out.push_str(&format!(
                    "          features rows: expected {want}, got {}\n",
                    r.rows
                ));
            }
            for m in &r.mismatches {
                out.push_str(&format!(
                    "          {}: expected {}, got {} (line {})\n",
                    m.column, m.expected, m.got, m.line
                ));
            }
        }
        out.push_str(&format!(
            "{} passed, {} failed\n",
            self.results.len() - self.failed(),
            self.failed()
        ));
        out
    }
}

/// Parses `text` (named `origin`) against `rules` and runs every test patient.
pub async fn assure(origin: &str, text: &str, rules: &RuleSet) -> Result<AssureReport> {
    let codelists = rules.codelists()?;
    let parsed = file::parse(origin, text, &codelists)?;
    let mut by_date: BTreeMap<NaiveDate, Vec<&TestPatient>> = BTreeMap::new();
    for p in &parsed.patients {
        by_date.entry(p.as_of).or_default().push(p);
    }
    let mut results = BTreeMap::new();
    for (as_of, patients) in by_date {
        let rows = features_of(&parsed, &patients, as_of, rules).await?;
        for p in patients {
            results.insert(p.id, check(p, rows.get(&p.id)));
        }
    }
    Ok(AssureReport {
        origin: parsed.origin.clone(),
        results: parsed
            .patients
            .iter()
            .map(|p| results.remove(&p.id).expect("every patient was run"))
            .collect(),
        expectations: parsed.patients.iter().map(|p| p.expect.len()).sum(),
    })
}

/// Features rows of one reference date's patients: column → value, and how
/// many rows each patient got.
type FeaturesRows = BTreeMap<i64, (usize, BTreeMap<String, Expected>)>;

async fn features_of(
    parsed: &AssureFile,
    patients: &[&TestPatient],
    as_of: NaiveDate,
    rules: &RuleSet,
) -> Result<FeaturesRows> {
    let dir = tempfile::tempdir()
        .map_err(|e| PhmError::Internal(format!("a folder for the test extract: {e}")))?;
    write::extract(dir.path(), patients, &parsed.imd)?;
    let options = RunOptions {
        extract: dir.path().to_path_buf(),
        as_of: Some(as_of),
        ..Default::default()
    };
    let pipeline = Pipeline::open_with_rules(&options, rules.clone()).await?;
    pipeline.ensure_features().await?;
    let origin = format!("{} (features of the test patients)", parsed.origin);
    let (_, batches) = pipeline.run_sql(&origin, "SELECT * FROM features").await?;
    let mut rows = FeaturesRows::new();
    for batch in &batches {
        let schema = batch.schema();
        let ids = crate::engine::decode::Columns::new(batch, &origin).int("patient_id")?;
        for r in 0..batch.num_rows() {
            let Some(id) = crate::engine::decode::int_at(&ids, r) else {
                continue;
            };
            let entry = rows.entry(id).or_default();
            entry.0 += 1;
            for (i, field) in schema.fields().iter().enumerate() {
                let value = ScalarValue::try_from_array(batch.column(i), r)?;
                entry.1.insert(field.name().clone(), expected_of(&value));
            }
        }
    }
    Ok(rows)
}

/// A features cell in the terms of an expectation.
fn expected_of(value: &ScalarValue) -> Expected {
    if value.is_null() {
        return Expected::Null;
    }
    match value {
        ScalarValue::Boolean(Some(b)) => Expected::Bool(*b),
        ScalarValue::Dictionary(_, inner) => expected_of(inner),
        v if v.data_type().is_integer() => match v.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(n))) => Expected::Int(n),
            _ => Expected::Text(v.to_string()),
        },
        v => Expected::Text(v.to_string()),
    }
}

fn check(
    patient: &TestPatient,
    row: Option<&(usize, BTreeMap<String, Expected>)>,
) -> PatientResult {
    let rows = row.map_or(0, |r| r.0);
    let mismatches = match row {
        Some((_, cells)) => patient
            .expect
            .iter()
            .filter_map(|e| {
                let got = cells.get(e.column).cloned().unwrap_or(Expected::Null);
                (got != e.value).then(|| Mismatch {
                    column: e.column.to_string(),
                    expected: e.value.clone(),
                    got,
                    line: e.line,
                })
            })
            .collect(),
        None => Vec::new(),
    };
    PatientResult {
        id: patient.id,
        about: patient.about.clone(),
        line: patient.line,
        rows,
        expected_rows: usize::from(!patient.absent),
        mismatches,
    }
}
