//! Writing query results as CSV, Parquet or JSON (by file extension), always
//! atomically, and printing them as a text table.

use std::path::Path;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::error::{PhmError, Result};
use crate::output::AtomicFile;

/// CSV bytes for `batches`: a header, then rows; numbers unrounded (the
/// shortest text that reads back to the same value), nulls as empty cells.
pub fn csv_bytes(batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    {
        let mut w = datafusion::arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(&mut buf);
        for b in batches {
            w.write(b).map_err(|e| PhmError::Engine(e.into()))?;
        }
    }
    Ok(buf)
}

/// Writes `batches` to `path` as CSV, Parquet or JSON, chosen by extension.
pub fn write_table(path: &Path, schema: SchemaRef, batches: &[RecordBatch]) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => {
            // A header even when there are no rows.
            let bytes = if batches.is_empty() {
                csv_bytes(&[RecordBatch::new_empty(schema)])?
            } else {
                csv_bytes(batches)?
            };
            crate::output::write_atomic(path, &bytes).map_err(|e| PhmError::write(path, e))
        }
        "parquet" => crate::output::write_parquet(path, schema, batches)
            .map_err(|e| PhmError::write(path, e)),
        "json" => {
            let mut f = AtomicFile::create(path).map_err(|e| PhmError::write(path, e))?;
            {
                let mut w = datafusion::arrow::json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, datafusion::arrow::json::writer::JsonArray>(f.writer());
                for b in batches {
                    w.write(b).map_err(|e| PhmError::Engine(e.into()))?;
                }
                w.finish().map_err(|e| PhmError::Engine(e.into()))?;
            }
            f.commit().map_err(|e| PhmError::write(path, e))
        }
        other => Err(PhmError::Input(format!(
            "{}: unknown output type `.{other}`; use .csv, .parquet or .json",
            path.display()
        ))),
    }
}

/// A text table for the terminal.
pub fn pretty(batches: &[RecordBatch]) -> Result<String> {
    Ok(pretty_format_batches(batches)
        .map_err(|e| PhmError::Engine(e.into()))?
        .to_string())
}
