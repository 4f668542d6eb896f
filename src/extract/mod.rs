//! Opening a patient extract folder (extract.md): finds each table as
//! `NAME.parquet` or a folder `NAME/` of Parquet files, registers it in a
//! DataFusion `SessionContext` under a typed view named after the table, and
//! checks it against the contract. Rules never read the raw files directly, so
//! a rule never meets a column of the wrong type.

pub mod contract;
mod footer;
pub mod imd_file;
pub mod validate;

use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::Schema;
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::execution::options::ParquetReadOptions;
use datafusion::prelude::{cast, ident, lit, SessionContext};

pub use contract::{TableSpec, TABLES};
pub use validate::{Severity, ValidationReport, Violation};

/// Errors that stop an extract from being opened at all. Contract breaches are
/// collected into a [`ValidationReport`] instead, so all are shown at once.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("extract folder {} does not exist or is not a folder (give the folder that holds patients.parquet, events.parquet, …)", .0.display())]
    NotAFolder(PathBuf),
    #[error("IMD file {}: {message}", .path.display())]
    Imd { path: PathBuf, message: String },
    #[error("{report}")]
    Invalid { report: ValidationReport },
    #[error("reading table `{table}` failed")]
    Query {
        table: String,
        #[source]
        source: DataFusionError,
    },
}

impl ExtractError {
    /// A missing, malformed or unreadable extract is bad input; running out
    /// of memory while checking it, or a failure of phm's own checking SQL,
    /// is not.
    pub fn kind(&self) -> crate::error::ErrorKind {
        match self {
            ExtractError::Query { source, .. } => crate::error::engine_kind(source, false),
            ExtractError::NotAFolder(_)
            | ExtractError::Imd { .. }
            | ExtractError::Invalid { .. } => crate::error::ErrorKind::Input,
        }
    }
}

/// Where a table was found.
#[derive(Debug, Clone)]
pub struct TableLocation {
    pub table: &'static str,
    pub path: PathBuf,
}

/// An extract registered in a session: the typed views exist for every table
/// whose schema met the contract; `report` holds what did not.
#[derive(Debug)]
pub struct OpenedExtract {
    pub dir: PathBuf,
    pub locations: Vec<TableLocation>,
    pub report: ValidationReport,
}

/// Registers every contract table of `dir` in `ctx` (and the IMD table from
/// `imd` when given: Parquet, or the government's published CSV or workbook)
/// and checks the
/// schemas. Data checks (nulls, allowed values, duplicates) are
/// [`validate::check_data`]'s job.
pub async fn register_extract(
    ctx: &SessionContext,
    dir: &Path,
    imd: Option<&Path>,
) -> Result<OpenedExtract, ExtractError> {
    if !dir.is_dir() {
        return Err(ExtractError::NotAFolder(dir.to_path_buf()));
    }
    let mut report = ValidationReport::default();
    let mut locations = Vec::new();
    for spec in TABLES {
        let raw_name = format!("raw_{}", spec.name);
        let imd_given = imd.filter(|_| spec.name == contract::IMD.name);
        let location = if let Some(path) = imd_given {
            if imd_file::is_extension(path, "csv") || imd_file::is_extension(path, "xlsx") {
                let batch = imd_file::read_imd_file(path)?;
                ctx.register_batch(&raw_name, batch)
                    .map_err(|source| ExtractError::Query {
                        table: spec.name.into(),
                        source,
                    })?;
                locations.push(TableLocation {
                    table: spec.name,
                    path: path.to_path_buf(),
                });
                register_typed_view(ctx, spec, &raw_name, path, &mut report).await?;
                continue;
            }
            if !path.is_file() {
                return Err(ExtractError::Imd {
                    path: path.to_path_buf(),
                    message: "no such file".into(),
                });
            }
            Some(path.to_path_buf())
        } else {
            find_table(dir, spec.name, &mut report)
        };
        let Some(path) = location else { continue };
        let options = ParquetReadOptions::default();
        match ctx
            .register_parquet(&raw_name, path.to_string_lossy().as_ref(), options)
            .await
        {
            Ok(()) => {}
            Err(source) => {
                report.push(Violation::unreadable(spec.name, &path, &source));
                continue;
            }
        }
        locations.push(TableLocation {
            table: spec.name,
            path: path.clone(),
        });
        register_typed_view(ctx, spec, &raw_name, &path, &mut report).await?;
    }
    Ok(OpenedExtract {
        dir: dir.to_path_buf(),
        locations,
        report,
    })
}

/// `NAME.parquet` or a folder `NAME/`; records a violation when neither (or both) exist.
fn find_table(dir: &Path, name: &'static str, report: &mut ValidationReport) -> Option<PathBuf> {
    let file = dir.join(format!("{name}.parquet"));
    let folder = dir.join(name);
    match (file.is_file(), folder.is_dir()) {
        (true, false) => Some(file),
        (false, true) => {
            let has_parquet = std::fs::read_dir(&folder)
                .map(|entries| {
                    entries.flatten().any(|e| {
                        e.path()
                            .extension()
                            .map(|x| x == "parquet")
                            .unwrap_or(false)
                    })
                })
                .unwrap_or(false);
            if has_parquet {
                Some(folder)
            } else {
                report.push(Violation::table_problem(
                    name,
                    &folder,
                    "folder holds no `.parquet` files".into(),
                ));
                None
            }
        }
        (true, true) => {
            report.push(Violation::table_problem(
                name,
                dir,
                format!("both `{name}.parquet` and folder `{name}/` exist; keep one"),
            ));
            None
        }
        (false, false) => {
            let hint = if name == "imd" {
                " (or pass the government's IoD file with --imd FILE.csv or FILE.xlsx)"
            } else {
                ""
            };
            report.push(Violation::table_problem(
                name,
                dir,
                format!("required table is missing: expected `{name}.parquet` or a folder `{name}/`{hint}"),
            ));
            None
        }
    }
}

/// Checks the raw schema of one table and, when every contract column is
/// present with a convertible type, registers the view `NAME` with exactly the
/// contract's columns and types (an optional column the table lacks is null).
async fn register_typed_view(
    ctx: &SessionContext,
    spec: &TableSpec,
    raw_name: &str,
    path: &Path,
    report: &mut ValidationReport,
) -> Result<(), ExtractError> {
    let query_err = |source| ExtractError::Query {
        table: spec.name.to_string(),
        source,
    };
    let raw = ctx.table(raw_name).await.map_err(query_err)?;
    let schema: Schema = raw.schema().as_arrow().clone();
    let mut ok = true;
    let required = spec.columns.iter().map(|c| (c, true));
    for (column, is_required) in required.chain(spec.optional.iter().map(|c| (c, false))) {
        match schema.field_with_name(column.name) {
            Err(_) if !is_required => {}
            Err(_) => {
                ok = false;
                report.push(Violation::missing_column(spec.name, path, column.name));
            }
            Ok(field) if !column.data_type.accepts(field.data_type()) => {
                ok = false;
                report.push(Violation::wrong_type(
                    spec.name,
                    path,
                    column.name,
                    field.data_type(),
                    &column.data_type.arrow(),
                ));
            }
            Ok(_) => {}
        }
    }
    if !ok {
        return Ok(());
    }
    let exprs = spec
        .all_columns()
        .map(|c| {
            let expr = match schema.field_with_name(c.name).map(|f| f.data_type()) {
                Ok(t) if *t == c.data_type.arrow() => ident(c.name),
                // Dictionary- or view-encoded strings and narrower ints are
                // widened; `accepts` has already ruled out lossy casts.
                Ok(_) => cast(ident(c.name), c.data_type.arrow()),
                // An optional column the table does not have.
                Err(_) => cast(lit(ScalarValue::Null), c.data_type.arrow()),
            };
            expr.alias(c.name)
        })
        .collect::<Vec<_>>();
    let typed = raw.select(exprs).map_err(query_err)?;
    ctx.register_table(spec.name, typed.into_view())
        .map_err(query_err)?;
    Ok(())
}
