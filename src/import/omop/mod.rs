//! `phm import omop`: an OMOP CDM (5.3 or 5.4) converted to a phm extract
//! (extract.md), with a report of what was read, mapped and dropped.
//!
//! Stages: find and register the CDM's tables (`source`), load the policy
//! and the user's mapping files (`mapping`), check the CDM version, classify
//! every source row in SQL (`convert`), refuse vocabularies the mapping does
//! not name, then write the extract tables into a staged folder that is
//! renamed into place only when all of them are written. The report counts
//! the same classified views the tables come from.

mod convert;
pub mod mapping;
mod source;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::engine::decode::{int_at, text_at, Columns};
use mapping::{MapKey, Mapping};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "{}: phm reads an OMOP CDM as a folder of Parquet or CSV tables, not a DuckDB file; export it first: duckdb {} -c \"EXPORT DATABASE 'cdm' (FORMAT PARQUET)\" and pass --from cdm",
        .0.display(), .0.display()
    )]
    DuckDbFile(PathBuf),
    #[error("{}: no such folder (expected a folder of OMOP CDM tables)", .0.display())]
    NotAFolder(PathBuf),
    #[error("{}: the CDM has no `{table}` table (expected {table}.parquet, {table}.csv or a folder {table}/)", .dir.display())]
    MissingTable { dir: PathBuf, table: &'static str },
    #[error("`{table}` is found more than once: {}", .paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    AmbiguousTable { table: String, paths: Vec<PathBuf> },
    #[error("{table} ({}): no column `{column}` (OMOP CDM 5.3 and 5.4 have it)", .path.display())]
    MissingColumn {
        table: &'static str,
        path: PathBuf,
        column: &'static str,
    },
    #[error("{table} ({}) cannot be read", .path.display())]
    Unreadable {
        table: &'static str,
        path: PathBuf,
        #[source]
        source: DataFusionError,
    },
    #[error("{table} ({}): {column} `{value}` appears on {rows} rows; it must be present and unique", .path.display())]
    DuplicateKey {
        table: &'static str,
        path: PathBuf,
        column: &'static str,
        value: String,
        rows: i64,
    },
    #[error("{table} ({}): {column} `{value}` is not {expected}", .path.display())]
    BadValue {
        table: &'static str,
        path: PathBuf,
        column: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("--out {} would replace {what} ({}): write the extract somewhere else", .out.display(), .inside.display())]
    OutHoldsInput {
        out: PathBuf,
        what: &'static str,
        inside: PathBuf,
    },
    #[error("cdm_source.cdm_version is `{found}`: phm reads CDM versions {} (the `cdm_versions` of {origin})", .known.join(", "))]
    Version {
        found: String,
        known: Vec<String>,
        origin: String,
    },
    #[error("cdm_source has no cdm_version: phm needs it to know the tables' layout")]
    NoVersion,
    #[error("{table}: {rows} rows have concepts of vocabulary `{vocabulary}`, which {origin} does not list; add it to [vocabularies] as `snomed` or `other`")]
    UnknownVocabulary {
        table: String,
        vocabulary: String,
        rows: i64,
        origin: String,
    },
    #[error("mapping {origin}: {message}")]
    Mapping { origin: String, message: String },
    #[error("{} line {line}: {message}", .path.display())]
    MapFile {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("no person was imported: {reasons}")]
    NoPatients { reasons: String },
    #[error("{out} already exists and is not empty; pass --force to replace it", out = .0.display())]
    OutExists(PathBuf),
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("importing the CDM failed while {step}")]
    Query {
        step: &'static str,
        #[source]
        source: DataFusionError,
    },
}

impl ImportError {
    pub fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            ImportError::Write { .. } => ErrorKind::Output,
            // The CDM's values (a date that is not a date) fail in the
            // conversion's casts: the input's fault, as in a user's SQL.
            ImportError::Query { source, .. } | ImportError::Unreadable { source, .. } => {
                crate::error::engine_kind(source, true)
            }
            _ => ErrorKind::Input,
        }
    }
}

/// What `phm import omop` was asked to do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub from: PathBuf,
    pub out: PathBuf,
    pub practice_map: Option<PathBuf>,
    pub lsoa_map: Option<PathBuf>,
    pub mapping: Option<PathBuf>,
    /// Observation periods running to this date or later are open
    /// registrations. Default: cdm_source.source_release_date, else the
    /// latest observation period end.
    pub registered_through: Option<NaiveDate>,
    pub force: bool,
}

/// One source table's rows: read, imported, and dropped by reason.
#[derive(Debug, Clone, Serialize, Default)]
pub struct TableCount {
    pub read: i64,
    pub mapped: i64,
    pub dropped: BTreeMap<String, i64>,
}

/// The mapping report (also written as `omop_import.json` in the extract).
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub cdm_version: String,
    /// YYYY-MM-DD.
    pub registered_through: String,
    pub mapping: String,
    /// Where each CDM table was read from, or `absent (empty)`.
    pub sources: BTreeMap<String, String>,
    pub tables: BTreeMap<String, TableCount>,
    /// Event-table rows of imported patients, and how many of them have a
    /// SNOMED code (and so are imported).
    pub event_rows_of_imported_patients: i64,
    pub events_with_snomed_code: i64,
    pub patients: BTreeMap<String, i64>,
    pub written: BTreeMap<String, usize>,
}

/// The drop reason of rows whose person is not in the extract (convert.rs).
const PERSON_NOT_IMPORTED: &str = "person not imported";

const EVENT_TABLES: [&str; 4] = [
    "condition_occurrence",
    "observation",
    "procedure_occurrence",
    "measurement",
];

/// Runs one statement to completion.
async fn run_sql(
    ctx: &SessionContext,
    step: &'static str,
    sql: &str,
) -> Result<Vec<RecordBatch>, ImportError> {
    let err = |source| ImportError::Query { step, source };
    ctx.sql(sql)
        .await
        .map_err(err)?
        .collect()
        .await
        .map_err(err)
}

/// A query's result and its schema (kept when it has no rows).
async fn schema_and_rows(
    ctx: &SessionContext,
    step: &'static str,
    sql: &str,
) -> Result<(SchemaRef, Vec<RecordBatch>), ImportError> {
    let err = |source| ImportError::Query { step, source };
    let frame = ctx.sql(sql).await.map_err(err)?;
    let schema = frame.schema().inner().clone();
    Ok((schema, frame.collect().await.map_err(err)?))
}

/// Imports the CDM at `options.from` into the extract `options.out`.
pub async fn import(
    ctx: &SessionContext,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    if !crate::output::is_absent_or_empty(&options.out) && !options.force {
        return Err(ImportError::OutExists(options.out.clone()));
    }
    refuse_out_holding_inputs(options)?;
    let found = source::register(ctx, &options.from).await?;
    let mapping = Mapping::load(options.mapping.as_deref())?;
    let cdm_version = check_version(ctx, &mapping).await?;
    mapping.register(ctx)?;
    let practice = map_file(
        ctx,
        options.practice_map.as_deref(),
        "omop_practice_map",
        "care_site_id",
        &["practice_code", "pcn_code", "icb_code"],
    )?;
    let lsoa = map_file(
        ctx,
        options.lsoa_map.as_deref(),
        "omop_lsoa_map",
        "location_id",
        &["lsoa_code"],
    )?;
    let registered_through = match options.registered_through {
        Some(d) => d,
        None => default_registered_through(ctx).await?,
    };
    run_sql(
        ctx,
        "classifying persons",
        &convert::person_view(practice, lsoa, registered_through),
    )
    .await?;
    let (patients_schema, patients) =
        schema_and_rows(ctx, "building patients", convert::PATIENTS).await?;
    let imported: usize = patients.iter().map(|b| b.num_rows()).sum();
    let hold = |source| ImportError::Query {
        step: "holding patients",
        source,
    };
    let table =
        datafusion::datasource::MemTable::try_new(patients_schema.clone(), vec![patients.clone()])
            .map_err(hold)?;
    ctx.register_table("omop_imported", std::sync::Arc::new(table))
        .map_err(hold)?;
    run_sql(ctx, "classifying events", convert::EVENTS_VIEW).await?;
    refuse_unknown_vocabularies(ctx, &mapping).await?;
    run_sql(ctx, "classifying visits", convert::VISITS_VIEW).await?;
    let tables = counts(ctx).await?;
    if imported == 0 {
        let reasons = tables
            .get("person")
            .map(|t| {
                t.dropped
                    .iter()
                    .map(|(r, n)| format!("{n} {r}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let hint = if options.practice_map.is_none() {
            " (OMOP has no PCN or ICB: give --practice-map FILE.csv with person_id or care_site_id, practice_code, pcn_code, icb_code)"
        } else {
            ""
        };
        return Err(ImportError::NoPatients {
            reasons: format!("{reasons}{hint}"),
        });
    }
    let written = write_extract(ctx, &options.out, patients_schema, patients).await?;
    let mut report = ImportReport {
        cdm_version,
        registered_through: registered_through.to_string(),
        mapping: mapping.origin.clone(),
        sources: found
            .iter()
            .map(|f| {
                let place = f.path.as_ref().map(|p| p.display().to_string());
                (
                    f.table.to_string(),
                    place.unwrap_or_else(|| "absent (empty)".into()),
                )
            })
            .collect(),
        events_with_snomed_code: EVENT_TABLES
            .iter()
            .filter_map(|t| tables.get(*t))
            .map(|t| t.mapped)
            .sum(),
        event_rows_of_imported_patients: EVENT_TABLES
            .iter()
            .filter_map(|t| tables.get(*t))
            .map(|t| t.read - t.dropped.get(PERSON_NOT_IMPORTED).copied().unwrap_or(0))
            .sum(),
        tables,
        patients: patient_facts(ctx).await?,
        written,
    };
    report
        .tables
        .retain(|_, t| t.read > 0 || !t.dropped.is_empty());
    write_report(&options.out, &report)?;
    Ok(report)
}

/// `--out` is replaced whole, so it must not be or hold the CDM or a
/// mapping file (`--force` would delete them).
fn refuse_out_holding_inputs(options: &ImportOptions) -> Result<(), ImportError> {
    let Ok(out) = options.out.canonicalize() else {
        return Ok(()); // not there yet: holds nothing
    };
    let inputs = [
        ("the CDM", Some(&options.from)),
        ("the practice map", options.practice_map.as_ref()),
        ("the LSOA map", options.lsoa_map.as_ref()),
        ("the mapping", options.mapping.as_ref()),
    ];
    for (what, path) in inputs {
        let Some(path) = path.and_then(|p| p.canonicalize().ok()) else {
            continue;
        };
        if path.starts_with(&out) {
            return Err(ImportError::OutHoldsInput {
                out: options.out.clone(),
                what,
                inside: path,
            });
        }
    }
    Ok(())
}

async fn check_version(ctx: &SessionContext, mapping: &Mapping) -> Result<String, ImportError> {
    let batches = run_sql(
        ctx,
        "reading cdm_source",
        "SELECT cdm_version FROM omop_cdm_source WHERE cdm_version IS NOT NULL LIMIT 1",
    )
    .await?;
    let version = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| Columns::new(b, "cdm_source").text("cdm_version").ok())
        .and_then(|a| text_at(&a, 0).map(str::to_string))
        .ok_or(ImportError::NoVersion)?;
    if !mapping.reads_version(&version) {
        return Err(ImportError::Version {
            found: version,
            known: mapping.cdm_versions.clone(),
            origin: mapping.origin.clone(),
        });
    }
    Ok(version)
}

fn map_file(
    ctx: &SessionContext,
    path: Option<&Path>,
    table: &str,
    place_key: &str,
    codes: &[&str],
) -> Result<MapKey, ImportError> {
    match path {
        Some(p) => Ok(mapping::read_map_file(ctx, p, table, place_key, codes)?.key),
        None => {
            mapping::register_empty_map(ctx, table, codes)?;
            Ok(MapKey::Person)
        }
    }
}

async fn default_registered_through(ctx: &SessionContext) -> Result<NaiveDate, ImportError> {
    let sql = "SELECT CAST(COALESCE(
            (SELECT max(source_release_date) FROM omop_cdm_source),
            (SELECT max(observation_period_end_date) FROM omop_observation_period)) AS VARCHAR) AS through";
    let batches = run_sql(ctx, "finding the data's end", sql).await?;
    batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| Columns::new(b, "cdm_source").text("through").ok())
        .and_then(|a| text_at(&a, 0).and_then(|t| t.parse().ok()))
        .ok_or(ImportError::NoPatients {
            reasons: "the CDM has no observation periods".into(),
        })
}

async fn refuse_unknown_vocabularies(
    ctx: &SessionContext,
    mapping: &Mapping,
) -> Result<(), ImportError> {
    let batches = run_sql(ctx, "checking vocabularies", convert::UNKNOWN_VOCABULARIES).await?;
    for b in batches.iter().filter(|b| b.num_rows() > 0) {
        let c = Columns::new(b, "vocabulary check");
        let (table, vocabulary, rows) = (
            c.text("source_table"),
            c.text("vocabulary_id"),
            c.int("n_rows"),
        );
        if let (Ok(t), Ok(v), Ok(n)) = (table, vocabulary, rows) {
            return Err(ImportError::UnknownVocabulary {
                table: text_at(&t, 0).unwrap_or_default().to_string(),
                vocabulary: text_at(&v, 0).unwrap_or_default().to_string(),
                rows: int_at(&n, 0).unwrap_or(0),
                origin: mapping.origin.clone(),
            });
        }
    }
    Ok(())
}

async fn counts(ctx: &SessionContext) -> Result<BTreeMap<String, TableCount>, ImportError> {
    let batches = run_sql(ctx, "counting the mapping", convert::COUNTS).await?;
    let mut tables: BTreeMap<String, TableCount> = BTreeMap::new();
    for b in &batches {
        let c = Columns::new(b, "mapping counts");
        let internal = |e| ImportError::Query {
            step: "counting the mapping",
            source: DataFusionError::External(Box::new(e)),
        };
        let source = c.text("source").map_err(internal)?;
        let dropped = c.text("dropped").map_err(internal)?;
        let rows = c.int("n_rows").map_err(internal)?;
        for r in 0..b.num_rows() {
            let t = tables
                .entry(text_at(&source, r).unwrap_or_default().to_string())
                .or_default();
            let n = int_at(&rows, r).unwrap_or(0);
            t.read += n;
            match text_at(&dropped, r) {
                None => t.mapped += n,
                Some(reason) => *t.dropped.entry(reason.to_string()).or_default() += n,
            }
        }
    }
    Ok(tables)
}

async fn patient_facts(ctx: &SessionContext) -> Result<BTreeMap<String, i64>, ImportError> {
    let batches = run_sql(ctx, "describing the patients", convert::PATIENT_FACTS).await?;
    let mut facts = BTreeMap::new();
    for b in batches.iter().filter(|b| b.num_rows() > 0) {
        let c = Columns::new(b, "patient facts");
        for name in [
            "patients",
            "with_lsoa",
            "with_ethnicity",
            "sex_unmapped",
            "still_registered",
            "died",
        ] {
            if let Ok(a) = c.int(name) {
                facts.insert(name.to_string(), int_at(&a, 0).unwrap_or(0));
            }
        }
    }
    Ok(facts)
}

/// Writes the five extract tables into a staged folder and renames it into
/// place; returns the rows written per table.
async fn write_extract(
    ctx: &SessionContext,
    out: &Path,
    patients_schema: SchemaRef,
    patients: Vec<RecordBatch>,
) -> Result<BTreeMap<String, usize>, ImportError> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImportError::Write { path, source }
    };
    let staged = crate::output::StagedDir::create(out, "importing").map_err(write_err(out))?;
    let mut written = BTreeMap::new();
    let target = staged.path().join("patients.parquet");
    crate::output::write_parquet(&target, patients_schema, &patients)
        .map_err(write_err(&target))?;
    written.insert(
        "patients".to_string(),
        patients.iter().map(|b| b.num_rows()).sum(),
    );
    for (name, sql) in [
        ("events", convert::EVENTS),
        ("appointments", convert::APPOINTMENTS),
        ("ae_attendances", convert::AE_ATTENDANCES),
        ("admissions", convert::ADMISSIONS),
    ] {
        let (schema, batches) = schema_and_rows(ctx, "writing the extract", sql).await?;
        let target = staged.path().join(format!("{name}.parquet"));
        crate::output::write_parquet(&target, schema, &batches).map_err(write_err(&target))?;
        written.insert(name.to_string(), batches.iter().map(|b| b.num_rows()).sum());
    }
    staged.commit().map_err(write_err(out))?;
    Ok(written)
}

/// The report's file in the extract, which phm's commands ignore
/// (extract.md: other files in the folder are ignored).
pub const REPORT_FILE: &str = "omop_import.json";

fn write_report(out: &Path, report: &ImportReport) -> Result<(), ImportError> {
    let path = out.join(REPORT_FILE);
    let json = serde_json::to_string_pretty(report).expect("the report serialises");
    crate::output::write_atomic(&path, json.as_bytes())
        .map_err(|source| ImportError::Write { path, source })
}

impl ImportReport {
    /// The report as the terminal shows it.
    pub fn text(&self) -> String {
        let mut s = format!(
            "OMOP CDM {} -> phm extract (mapping: {}; registrations open when observed to {} or later)\n",
            self.cdm_version, self.mapping, self.registered_through
        );
        s.push_str(&format!(
            "{:<22} {:>10} {:>10} {:>10}  dropped because\n",
            "table", "read", "mapped", "dropped"
        ));
        for (name, t) in &self.tables {
            let dropped: i64 = t.dropped.values().sum();
            let why = t
                .dropped
                .iter()
                .map(|(r, n)| format!("{r}: {n}"))
                .collect::<Vec<_>>()
                .join("; ");
            s.push_str(&format!(
                "{name:<22} {:>10} {:>10} {dropped:>10}  {why}\n",
                t.read, t.mapped
            ));
        }
        let share = if self.event_rows_of_imported_patients > 0 {
            100.0 * self.events_with_snomed_code as f64
                / self.event_rows_of_imported_patients as f64
        } else {
            0.0
        };
        s.push_str(&format!(
            "events of imported patients with a SNOMED code: {} of {} ({share:.1}%)\n",
            self.events_with_snomed_code, self.event_rows_of_imported_patients
        ));
        let facts = self
            .patients
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        s.push_str(&format!("patients: {facts}\n"));
        let written = self
            .written
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        s.push_str(&format!("written: {written}\n"));
        s
    }
}
