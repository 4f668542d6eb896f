//! Data checks of the extract contract (extract.md): nulls in non-null columns,
//! values outside the allowed sets, duplicate keys, and warnings for rows the
//! rules will ignore (after T, unknown patient). Every breach is collected with
//! a count and a few examples, so an analyst fixes the extract in one pass.

use std::fmt;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use super::contract::{self, Domain, TableSpec};
use super::footer;
use super::ExtractError;

mod duplicates;
use duplicates::{duplicates_by_sorting, duplicates_by_sql, repeated_keys_sql};

/// Whether a finding stops the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The extract breaks the contract: nothing is computed from it.
    Error,
    /// Allowed by the contract but worth knowing (such rows are ignored).
    Warning,
}

/// One finding: where, what, how many, and a few examples.
#[derive(Debug, Clone)]
pub struct Violation {
    pub severity: Severity,
    pub table: String,
    pub column: Option<String>,
    pub location: String,
    pub problem: String,
    pub count: Option<u64>,
    pub examples: Vec<String>,
}

impl Violation {
    fn new(
        severity: Severity,
        table: &str,
        column: Option<&str>,
        location: &Path,
        problem: String,
    ) -> Self {
        Violation {
            severity,
            table: table.to_string(),
            column: column.map(str::to_string),
            location: location.display().to_string(),
            problem,
            count: None,
            examples: Vec::new(),
        }
    }

    pub(crate) fn table_problem(table: &str, location: &Path, problem: String) -> Self {
        Self::new(Severity::Error, table, None, location, problem)
    }

    pub(crate) fn unreadable(table: &str, location: &Path, source: &DataFusionError) -> Self {
        let detail = source.to_string();
        let detail = detail.lines().next().unwrap_or_default();
        Self::new(
            Severity::Error,
            table,
            None,
            location,
            format!(
                "cannot be read as Parquet ({detail}); the file may be truncated, corrupt, not Parquet, or files in the folder may have conflicting schemas: re-export it"
            ),
        )
    }

    pub(crate) fn missing_column(table: &str, location: &Path, column: &str) -> Self {
        Self::new(
            Severity::Error,
            table,
            Some(column),
            location,
            "required column is missing".into(),
        )
    }

    pub(crate) fn wrong_type(
        table: &str,
        location: &Path,
        column: &str,
        found: &DataType,
        expected: &DataType,
    ) -> Self {
        Self::new(
            Severity::Error,
            table,
            Some(column),
            location,
            format!("has type {found}, expected {expected} (no lossless conversion)"),
        )
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.column {
            Some(c) => write!(f, "{tag}: {}.{c}: {}", self.table, self.problem)?,
            None => write!(f, "{tag}: {}: {}", self.table, self.problem)?,
        }
        if let Some(n) = self.count {
            write!(f, " [{n} row{}]", if n == 1 { "" } else { "s" })?;
        }
        write!(f, " ({})", self.location)?;
        if !self.examples.is_empty() {
            write!(f, "\n    e.g. {}", self.examples.join("; "))?;
        }
        Ok(())
    }
}

/// All findings of a validation, in contract order.
#[derive(Debug, Clone, Default)]
pub struct ValidationReport {
    pub violations: Vec<Violation>,
}

impl ValidationReport {
    pub fn push(&mut self, v: Violation) {
        self.violations.push(v);
    }

    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.violations
            .iter()
            .filter(|v| v.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Violation> {
        self.violations
            .iter()
            .filter(|v| v.severity == Severity::Warning)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// Turns a report with errors into the error that stops the run.
    pub fn into_result(self) -> Result<ValidationReport, ExtractError> {
        if self.has_errors() {
            Err(ExtractError::Invalid { report: self })
        } else {
            Ok(self)
        }
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        writeln!(
            f,
            "the extract breaks the contract (extract.md v1.1): {errors} error(s), {warnings} warning(s)"
        )?;
        for v in &self.violations {
            writeln!(f, "  {v}")?;
        }
        Ok(())
    }
}

/// How much checking to do: `Full` adds the checks that need a join or T
/// (rows for unknown patients, dates after T or before 1900).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Essential,
    Full,
}

const EXAMPLES: usize = 3;

fn sql_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A condition that is true for rows breaking one column rule.
struct Check {
    column: &'static str,
    condition: String,
    problem: String,
    /// Group bad rows by the column's value in the examples (for code sets).
    by_value: bool,
    severity: Severity,
    /// What the Parquet metadata would have to show for the check to pass
    /// without a scan.
    proof: Proof,
}

/// A fact in the Parquet metadata that settles a check (see `footer`).
enum Proof {
    NoNulls,
    ValuesWithin(&'static [&'static str]),
    ValuesMatch(fn(&str) -> bool),
    /// Only a scan answers it.
    Scan,
}

impl Proof {
    fn holds(&self, files: &footer::TableFiles, column: &str) -> bool {
        match self {
            Proof::NoNulls => files.has_no_nulls(column),
            Proof::ValuesWithin(allowed) => files.values_all(column, |v| allowed.contains(&v)),
            Proof::ValuesMatch(test) => files.values_all(column, test),
            Proof::Scan => false,
        }
    }
}

fn checks_for(spec: &TableSpec, depth: Depth) -> Vec<Check> {
    let mut checks = Vec::new();
    for c in spec.all_columns() {
        if !c.nullable {
            checks.push(Check {
                column: c.name,
                condition: format!("\"{}\" IS NULL", c.name),
                problem: "null in a column that must not be null".into(),
                by_value: false,
                severity: Severity::Error,
                proof: Proof::NoNulls,
            });
        }
        match c.domain {
            Domain::Any => {}
            Domain::OneOf(values) => checks.push(Check {
                column: c.name,
                condition: format!("\"{}\" NOT IN ({})", c.name, sql_list(values)),
                problem: format!("value not one of {}", values.join(", ")),
                by_value: true,
                severity: Severity::Error,
                proof: Proof::ValuesWithin(values),
            }),
            Domain::Code => checks.push(Check {
                column: c.name,
                condition: contract::code_breach_sql(c.name),
                problem: format!(
                    "not a code of 1 to {} letters, digits, `-` or `_` (extract.md v1.1: codes name output files and folders)",
                    contract::CODE_MAX_LEN
                ),
                by_value: true,
                severity: Severity::Error,
                proof: Proof::ValuesMatch(contract::is_code),
            }),
            Domain::Range(lo, hi) => checks.push(Check {
                column: c.name,
                condition: format!("(\"{0}\" < {lo} OR \"{0}\" > {hi})", c.name),
                problem: format!("value outside {lo}–{hi}"),
                by_value: true,
                severity: Severity::Error,
                proof: Proof::Scan,
            }),
            Domain::Known(values, problem) => checks.push(Check {
                column: c.name,
                condition: format!(
                    "\"{0}\" IS NOT NULL AND \"{0}\" NOT IN ({1})",
                    c.name,
                    sql_list(values)
                ),
                problem: problem.into(),
                by_value: true,
                severity: Severity::Warning,
                proof: Proof::ValuesWithin(values),
            }),
            // Plausibility needs a scan, so only `phm validate` asks (Depth::Full).
            Domain::Plausible(problem) if depth == Depth::Full => checks.push(Check {
                column: c.name,
                condition: format!("\"{}\" < DATE '1900-01-01'", c.name),
                problem: problem.into(),
                by_value: false,
                severity: Severity::Warning,
                proof: Proof::Scan,
            }),
            Domain::Plausible(_) => {}
        }
    }
    checks
}

async fn collect(
    ctx: &SessionContext,
    table: &str,
    sql: &str,
) -> Result<Vec<RecordBatch>, ExtractError> {
    let err = |source| ExtractError::Query {
        table: table.to_string(),
        source,
    };
    ctx.sql(sql)
        .await
        .map_err(err)?
        .collect()
        .await
        .map_err(err)
}

fn first_i64(batches: &[RecordBatch], column: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for b in batches {
        let a = b.column(column);
        let a =
            datafusion::arrow::compute::cast(a, &DataType::Int64).expect("counts cast to Int64");
        let a = a.as_primitive::<Int64Type>();
        for i in 0..a.len() {
            out.push(if a.is_null(i) { 0 } else { a.value(i) });
        }
    }
    out
}

/// Renders each row as `col=value, col=value`.
fn describe_rows(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default().with_null("null");
    let mut rows = Vec::new();
    for b in batches {
        let formatters: Vec<_> = b
            .columns()
            .iter()
            .map(|a| ArrayFormatter::try_new(a.as_ref(), &options))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        for r in 0..b.num_rows() {
            let fields: Vec<String> = b
                .schema()
                .fields()
                .iter()
                .zip(&formatters)
                .map(|(f, fmt)| format!("{}={}", f.name(), fmt.value(r)))
                .collect();
            rows.push(fields.join(", "));
        }
    }
    rows
}

/// Runs the data checks on every table registered by `register_extract` whose
/// schema was valid, appending findings to `report`.
pub async fn check_data(
    ctx: &SessionContext,
    report: &mut ValidationReport,
    as_of: Option<chrono::NaiveDate>,
    depth: Depth,
) -> Result<(), ExtractError> {
    for spec in contract::TABLES {
        if !ctx.table_exist(spec.name).unwrap_or(false) {
            continue;
        }
        let location = format!("table `{}`", spec.name);
        check_columns(ctx, spec, &location, depth, report).await?;
        if let Some(key) = spec.key {
            check_unique(ctx, spec, key, &location, report).await?;
        }
        for column in spec.unique_when_present {
            check_unique_when_present(ctx, spec, column, &location, report).await?;
        }
        if depth == Depth::Full {
            check_activity(ctx, spec, &location, as_of, report).await?;
        }
    }
    Ok(())
}

/// The column rules of one table (nulls, code sets, ranges, codes, and the
/// warnings), in one scan, skipping those its Parquet metadata proves.
async fn check_columns(
    ctx: &SessionContext,
    spec: &TableSpec,
    location: &str,
    depth: Depth,
    report: &mut ValidationReport,
) -> Result<(), ExtractError> {
    let files = footer::TableFiles::of(ctx, &format!("raw_{}", spec.name)).await;
    let checks: Vec<Check> = checks_for(spec, depth)
        .into_iter()
        .filter(|c| !files.as_ref().is_some_and(|f| c.proof.holds(f, c.column)))
        .collect();
    if checks.is_empty() {
        return Ok(());
    }
    let sums = checks
        .iter()
        .map(|c| format!("sum(CASE WHEN {} THEN 1 ELSE 0 END)", c.condition))
        .collect::<Vec<_>>()
        .join(", ");
    let batches = collect(ctx, spec.name, &format!("SELECT {sums} FROM {}", spec.name)).await?;
    for (i, check) in checks.iter().enumerate() {
        let n = first_i64(&batches, i).first().copied().unwrap_or(0);
        if n == 0 {
            continue;
        }
        let sql = if check.by_value {
            format!(
                "SELECT \"{0}\" AS value, count(*) AS rows FROM {1} WHERE {2} GROUP BY \"{0}\" ORDER BY rows DESC, value LIMIT {EXAMPLES}",
                check.column, spec.name, check.condition
            )
        } else {
            let key = example_columns(spec, check.column);
            format!(
                "SELECT {key} FROM {} WHERE {} ORDER BY {key} LIMIT {EXAMPLES}",
                spec.name, check.condition
            )
        };
        let examples = describe_rows(&collect(ctx, spec.name, &sql).await?);
        report.push(Violation {
            severity: check.severity,
            table: spec.name.to_string(),
            column: Some(check.column.to_string()),
            location: location.to_string(),
            problem: check.problem.clone(),
            count: Some(n as u64),
            examples,
        });
    }
    Ok(())
}

/// The table's key must be unique: how many values repeat, on how many rows.
async fn check_unique(
    ctx: &SessionContext,
    spec: &TableSpec,
    key: &str,
    location: &str,
    report: &mut ValidationReport,
) -> Result<(), ExtractError> {
    let (keys, rows) = match duplicates_by_sorting(ctx, spec.name, key).await? {
        Some(found) => found,
        None => duplicates_by_sql(ctx, spec.name, key).await?,
    };
    if keys == 0 {
        return Ok(());
    }
    let sql = format!(
        "{} ORDER BY \"{key}\" LIMIT {EXAMPLES}",
        repeated_keys_sql(spec.name, key)
    );
    let examples = describe_rows(&collect(ctx, spec.name, &sql).await?);
    report.push(duplicates_violation(
        spec,
        key,
        location,
        (keys, rows),
        examples,
    ));
    Ok(())
}

/// The error for `values` repeated values on `rows` rows of `column`.
fn duplicates_violation(
    spec: &TableSpec,
    column: &str,
    location: &str,
    (values, rows): (i64, i64),
    examples: Vec<String>,
) -> Violation {
    Violation {
        severity: Severity::Error,
        table: spec.name.to_string(),
        column: Some(column.to_string()),
        location: location.to_string(),
        problem: format!(
            "{values} value(s) appear more than once ({rows} rows); `{column}` must be unique"
        ),
        count: Some(rows as u64),
        examples,
    }
}

/// An optional column whose values must be unique where given (imd_rank):
/// nulls (a table without the column) are not duplicates. Such columns are
/// on small reference tables, so SQL alone counts them.
async fn check_unique_when_present(
    ctx: &SessionContext,
    spec: &TableSpec,
    column: &str,
    location: &str,
    report: &mut ValidationReport,
) -> Result<(), ExtractError> {
    let repeated = format!(
        "SELECT \"{column}\", count(*) AS copies FROM {} WHERE \"{column}\" IS NOT NULL GROUP BY \"{column}\" HAVING count(*) > 1",
        spec.name
    );
    let totals = collect(
        ctx,
        spec.name,
        &format!("SELECT count(*), CAST(sum(copies) AS BIGINT) FROM ({repeated})"),
    )
    .await?;
    let (values, rows) = (first_i64(&totals, 0), first_i64(&totals, 1));
    let (values, rows) = (
        values.first().copied().unwrap_or(0),
        rows.first().copied().unwrap_or(0),
    );
    if values == 0 {
        return Ok(());
    }
    let sql = format!("{repeated} ORDER BY \"{column}\" LIMIT {EXAMPLES}");
    let examples = describe_rows(&collect(ctx, spec.name, &sql).await?);
    report.push(duplicates_violation(
        spec,
        column,
        location,
        (values, rows),
        examples,
    ));
    Ok(())
}

fn example_columns(spec: &TableSpec, column: &str) -> String {
    let mut cols = Vec::new();
    if spec.column("patient_id").is_some() && column != "patient_id" {
        cols.push("patient_id".to_string());
    }
    if let Some(d) = spec.date {
        if d != column {
            cols.push(format!("\"{d}\""));
        }
    }
    if let Some(key) = spec
        .key
        .filter(|k| *k != column && spec.column("patient_id").is_none())
    {
        cols.push(format!("\"{key}\""));
    }
    cols.push(format!("\"{column}\""));
    cols.join(", ")
}

/// Warnings for rows the rules ignore: unknown patients, dates after T, dates
/// before 1900.
async fn check_activity(
    ctx: &SessionContext,
    spec: &TableSpec,
    location: &str,
    as_of: Option<chrono::NaiveDate>,
    report: &mut ValidationReport,
) -> Result<(), ExtractError> {
    let Some(date) = spec.date else {
        return Ok(());
    };
    if !ctx.table_exist(contract::PATIENTS.name).unwrap_or(false) {
        return Ok(());
    }
    let t = as_of
        .map(|d| format!("DATE '{d}'"))
        .unwrap_or_else(|| "DATE '9999-12-31'".into());
    let sql = format!(
        "SELECT sum(CASE WHEN p.patient_id IS NULL THEN 1 ELSE 0 END), \
                sum(CASE WHEN t.\"{date}\" > {t} THEN 1 ELSE 0 END), \
                sum(CASE WHEN t.\"{date}\" < DATE '1900-01-01' THEN 1 ELSE 0 END) \
         FROM {table} t LEFT JOIN (SELECT DISTINCT patient_id FROM patients) p ON t.patient_id = p.patient_id",
        table = spec.name
    );
    let batches = collect(ctx, spec.name, &sql).await?;
    let findings = [
        (
            0,
            None,
            "rows for a patient_id not in `patients`: ignored by every rule".to_string(),
        ),
        (
            1,
            Some(date),
            format!(
                "rows dated after the reference date {}: ignored",
                as_of.map(|d| d.to_string()).unwrap_or_default()
            ),
        ),
        (
            2,
            Some(date),
            "rows dated before 1900: check the extract's date handling".to_string(),
        ),
    ];
    for (i, column, problem) in findings {
        let n = first_i64(&batches, i).first().copied().unwrap_or(0);
        if n > 0 {
            report.push(Violation {
                severity: Severity::Warning,
                table: spec.name.to_string(),
                column: column.map(str::to_string),
                location: location.to_string(),
                problem,
                count: Some(n as u64),
                examples: Vec::new(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
