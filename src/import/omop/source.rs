//! An OMOP CDM's tables as phm finds them: a folder holding each table as
//! Parquet (`person.parquet`, or a folder `person/` of Parquet files) or CSV
//! with a header (`person.csv`), names in any case (DuckDB's and Eunomia's
//! exports are upper case). Each table phm reads is registered as the view
//! `omop_NAME` with lower-case columns of the types the conversion expects,
//! after checking that every column it reads is there.

use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::execution::options::{CsvReadOptions, ParquetReadOptions};
use datafusion::prelude::{cast, ident, SessionContext};

use super::ImportError;
use crate::engine::decode::{int_at, text_at, Columns};

/// One CDM table phm reads, and the columns it reads from it.
pub struct CdmTable {
    pub name: &'static str,
    /// A required table missing from the folder stops the import; an
    /// optional one is treated as empty.
    pub required: bool,
    pub columns: &'static [(&'static str, DataType)],
    /// The column whose values must be present and unique (the conversion
    /// joins on it, so a repeat would count rows twice).
    pub key: Option<&'static str>,
}

use DataType::{Date32, Float64, Int64, Utf8};

/// The tables and columns phm reads, as OMOP CDM 5.3 and 5.4 name them.
pub const CDM_TABLES: &[CdmTable] = &[
    CdmTable {
        name: "cdm_source",
        required: true,
        columns: &[("cdm_version", Utf8), ("source_release_date", Date32)],
        key: None,
    },
    CdmTable {
        name: "person",
        required: true,
        columns: &[
            ("person_id", Int64),
            ("gender_concept_id", Int64),
            ("year_of_birth", Int64),
            ("month_of_birth", Int64),
            ("day_of_birth", Int64),
            ("birth_datetime", Date32),
            ("race_concept_id", Int64),
            ("ethnicity_concept_id", Int64),
            ("location_id", Int64),
            ("care_site_id", Int64),
        ],
        key: Some("person_id"),
    },
    CdmTable {
        name: "observation_period",
        required: true,
        columns: &[
            ("person_id", Int64),
            ("observation_period_start_date", Date32),
            ("observation_period_end_date", Date32),
        ],
        key: None,
    },
    CdmTable {
        name: "death",
        required: false,
        columns: &[("person_id", Int64), ("death_date", Date32)],
        key: None,
    },
    CdmTable {
        name: "visit_occurrence",
        required: false,
        columns: &[
            ("visit_occurrence_id", Int64),
            ("person_id", Int64),
            ("visit_concept_id", Int64),
            ("visit_start_date", Date32),
            ("visit_end_date", Date32),
            ("preceding_visit_occurrence_id", Int64),
        ],
        key: Some("visit_occurrence_id"),
    },
    CdmTable {
        name: "condition_occurrence",
        required: false,
        columns: &[
            ("person_id", Int64),
            ("condition_concept_id", Int64),
            ("condition_start_date", Date32),
            ("condition_source_value", Utf8),
        ],
        key: None,
    },
    CdmTable {
        name: "observation",
        required: false,
        columns: &[
            ("person_id", Int64),
            ("observation_concept_id", Int64),
            ("observation_date", Date32),
            ("value_as_number", Float64),
            ("observation_source_value", Utf8),
        ],
        key: None,
    },
    CdmTable {
        name: "procedure_occurrence",
        required: false,
        columns: &[
            ("person_id", Int64),
            ("procedure_concept_id", Int64),
            ("procedure_date", Date32),
            ("procedure_source_value", Utf8),
        ],
        key: None,
    },
    CdmTable {
        name: "measurement",
        required: false,
        columns: &[
            ("person_id", Int64),
            ("measurement_concept_id", Int64),
            ("measurement_date", Date32),
            ("value_as_number", Float64),
            ("measurement_source_value", Utf8),
        ],
        key: None,
    },
    CdmTable {
        name: "concept",
        required: false,
        columns: &[
            ("concept_id", Int64),
            ("vocabulary_id", Utf8),
            ("concept_code", Utf8),
        ],
        key: Some("concept_id"),
    },
    CdmTable {
        name: "location",
        required: false,
        columns: &[("location_id", Int64), ("location_source_value", Utf8)],
        key: Some("location_id"),
    },
];

/// Where a CDM table was found (None: absent, and an empty view stands in).
pub struct Found {
    pub table: &'static str,
    pub path: Option<PathBuf>,
}

/// Registers every table of [`CDM_TABLES`] from `dir` as `omop_NAME`.
pub async fn register(ctx: &SessionContext, dir: &Path) -> Result<Vec<Found>, ImportError> {
    if dir
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("duckdb"))
    {
        return Err(ImportError::DuckDbFile(dir.to_path_buf()));
    }
    if !dir.is_dir() {
        return Err(ImportError::NotAFolder(dir.to_path_buf()));
    }
    let mut found = Vec::new();
    for table in CDM_TABLES {
        // A CSV with no header line is an empty table (Eunomia's CSV
        // export writes its empty tables so).
        let path = find(dir, table.name)?.filter(|p| !is_headerless_csv(p));
        match &path {
            Some(path) => {
                register_file(ctx, table, path).await?;
                check_key(ctx, table, path).await?;
            }
            None if table.required => {
                return Err(ImportError::MissingTable {
                    dir: dir.to_path_buf(),
                    table: table.name,
                })
            }
            None => register_empty(ctx, table).await?,
        }
        found.push(Found {
            table: table.name,
            path,
        });
    }
    Ok(found)
}

fn is_headerless_csv(path: &Path) -> bool {
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    is_csv
        && std::fs::read_to_string(path)
            .map(|t| t.trim().is_empty())
            .unwrap_or(false)
}

/// The first row of a one-row check query, as (text value, count).
fn first_row(
    batches: &[datafusion::arrow::array::RecordBatch],
    origin: &str,
) -> Option<(String, i64)> {
    let b = batches.iter().find(|b| b.num_rows() > 0)?;
    let c = Columns::new(b, origin);
    let value = c
        .text("value")
        .ok()
        .and_then(|a| text_at(&a, 0).map(str::to_string));
    let rows = c
        .int("n_rows")
        .ok()
        .and_then(|a| int_at(&a, 0))
        .unwrap_or(0);
    Some((value.unwrap_or_else(|| "null".into()), rows))
}

/// The table's key is present and unique (the conversion joins on it).
async fn check_key(ctx: &SessionContext, table: &CdmTable, path: &Path) -> Result<(), ImportError> {
    let Some(key) = table.key else {
        return Ok(());
    };
    let sql = format!(
        "SELECT CAST({key} AS VARCHAR) AS value, count(*) AS n_rows FROM omop_{} \
         GROUP BY {key} HAVING count(*) > 1 OR {key} IS NULL ORDER BY n_rows DESC LIMIT 1",
        table.name
    );
    let batches = super::run_sql(ctx, "checking the tables' keys", &sql).await?;
    match first_row(&batches, table.name) {
        None => Ok(()),
        Some((value, rows)) => Err(ImportError::DuplicateKey {
            table: table.name,
            path: path.to_path_buf(),
            column: key,
            value,
            rows,
        }),
    }
}

/// Every non-empty text value of a column converts to the type phm reads it
/// as; the first that does not is an error naming table, file, column and
/// value (`NA` where a number belongs, a date written `05/01/2020`).
async fn check_text_values(
    ctx: &SessionContext,
    (table, path): (&CdmTable, &Path),
    raw: &str,
    stored: &str,
    column: &'static str,
    data_type: &DataType,
) -> Result<(), ImportError> {
    let converted = if *data_type == Date32 {
        format!("try_cast(try_cast(trim(\"{stored}\") AS TIMESTAMP) AS DATE)")
    } else {
        format!("try_cast(trim(\"{stored}\") AS {})", sql_type(data_type))
    };
    let sql = format!(
        "SELECT \"{stored}\" AS value, 1 AS n_rows FROM {raw} \
         WHERE \"{stored}\" IS NOT NULL AND trim(\"{stored}\") <> '' AND {converted} IS NULL LIMIT 1"
    );
    let batches = super::run_sql(ctx, "checking the tables' values", &sql).await?;
    match first_row(&batches, table.name) {
        None => Ok(()),
        Some((value, _)) => Err(ImportError::BadValue {
            table: table.name,
            path: path.to_path_buf(),
            column,
            value,
            expected: match data_type {
                Date32 => "a date (YYYY-MM-DD, with or without a time)",
                Float64 => "a number",
                _ => "a whole number",
            },
        }),
    }
}

/// `NAME.parquet`, `NAME.csv` or a folder `NAME/`, in any case.
fn find(dir: &Path, name: &str) -> Result<Option<PathBuf>, ImportError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ImportError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut hits: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let stem = p.file_stem().map(|s| s.to_string_lossy().to_lowercase());
            let ext = p.extension().map(|e| e.to_string_lossy().to_lowercase());
            stem.as_deref() == Some(name)
                && match ext.as_deref() {
                    Some("parquet") | Some("csv") => p.is_file(),
                    None => p.is_dir(),
                    _ => false,
                }
        })
        .collect();
    hits.sort();
    match hits.len() {
        0 => Ok(None),
        1 => Ok(hits.pop()),
        _ => Err(ImportError::AmbiguousTable {
            table: name.to_string(),
            paths: hits,
        }),
    }
}

async fn register_file(
    ctx: &SessionContext,
    table: &CdmTable,
    path: &Path,
) -> Result<(), ImportError> {
    let raw = format!("omop_raw_{}", table.name);
    let location = path.to_string_lossy().to_string();
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let registered = if is_csv {
        // Every column as text, then cast below: inferring types from the
        // first rows would take a source value column of digits for a
        // number and fail on a later `K92.2`.
        let schema = csv_text_schema(path)?;
        let options = CsvReadOptions::new().has_header(true).schema(&schema);
        ctx.register_csv(&raw, &location, options).await
    } else {
        ctx.register_parquet(&raw, &location, ParquetReadOptions::default())
            .await
    };
    let unreadable = |source| ImportError::Unreadable {
        table: table.name,
        path: path.to_path_buf(),
        source,
    };
    registered.map_err(unreadable)?;
    let frame = ctx.table(raw.as_str()).await.map_err(unreadable)?;
    let mut exprs = Vec::new();
    for (column, data_type) in table.columns {
        let Some(field) = frame
            .schema()
            .fields()
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(column))
        else {
            return Err(ImportError::MissingColumn {
                table: table.name,
                path: path.to_path_buf(),
                column,
            });
        };
        let stored = ident(field.name());
        let is_text = matches!(
            field.data_type(),
            Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
        let typed = if is_text && *data_type == Date32 {
            // A date as text may carry a time (`1950-03-15 00:00:00`, as
            // DATETIME columns are exported): read it as a timestamp first.
            cast(
                cast(stored, DataType::Timestamp(TimeUnit::Second, None)),
                Date32,
            )
        } else {
            cast(stored, data_type.clone())
        };
        if is_text && *data_type != Utf8 {
            let stored = field.name().as_str();
            check_text_values(ctx, (table, path), &raw, stored, column, data_type).await?;
        }
        exprs.push(typed.alias(*column));
    }
    let view = frame.select(exprs).map_err(unreadable)?;
    ctx.register_table(format!("omop_{}", table.name), view.into_view())
        .map_err(unreadable)?;
    Ok(())
}

/// The header of a CSV table as a schema of nullable text columns.
fn csv_text_schema(path: &Path) -> Result<Schema, ImportError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| ImportError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    let headers = reader.headers().map_err(|e| ImportError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    Ok(Schema::new(
        headers
            .iter()
            .map(|h| Field::new(h.trim_start_matches('\u{feff}'), Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

/// An absent optional table: a view with its columns and no rows.
async fn register_empty(ctx: &SessionContext, table: &CdmTable) -> Result<(), ImportError> {
    let columns = table
        .columns
        .iter()
        .map(|(name, data_type)| format!("CAST(NULL AS {}) AS {name}", sql_type(data_type)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "CREATE VIEW omop_{} AS SELECT {columns} WHERE false",
        table.name
    );
    super::run_sql(ctx, "registering an absent optional table", &sql).await?;
    Ok(())
}

fn sql_type(data_type: &DataType) -> &'static str {
    match data_type {
        Int64 => "BIGINT",
        Float64 => "DOUBLE",
        Date32 => "DATE",
        _ => "VARCHAR",
    }
}
