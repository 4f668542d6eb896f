//! Writes test patients' rows as an extract folder of Parquet files, one per
//! contract table, in the contract's column order and types, so the test
//! extract goes through the same opening and validation as a real one.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
};
use datafusion::arrow::datatypes::{Date32Type, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;

use super::{Cell, Row, TestPatient};
use crate::error::{PhmError, Result};
use crate::extract::contract::{ContractType, TableSpec, IMD, TABLES};

/// Writes `patients`' rows and the `imd` rows under `dir`.
pub fn extract(dir: &Path, patients: &[&TestPatient], imd: &[Row]) -> Result<()> {
    for spec in TABLES {
        let rows: Vec<(i64, &Row)> = if spec.name == IMD.name {
            imd.iter().map(|r| (0, r)).collect()
        } else {
            patients
                .iter()
                .flat_map(|p| {
                    p.rows
                        .get(spec.name)
                        .into_iter()
                        .flatten()
                        .map(|r| (p.id, r))
                })
                .collect()
        };
        write_table(&dir.join(format!("{}.parquet", spec.name)), spec, &rows)?;
    }
    Ok(())
}

fn internal(what: &str, e: impl std::fmt::Display) -> PhmError {
    PhmError::Internal(format!("writing the test extract's {what}: {e}"))
}

fn write_table(path: &Path, spec: &TableSpec, rows: &[(i64, &Row)]) -> Result<()> {
    let fields: Vec<Field> = spec
        .columns
        .iter()
        .map(|c| Field::new(c.name, c.data_type.arrow(), c.nullable))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let columns: Vec<ArrayRef> = spec
        .columns
        .iter()
        .map(|c| {
            let cell = |(id, row): &(i64, &Row)| match (c.name, row.get(c.name)) {
                ("patient_id", _) => Cell::Int(*id),
                (_, Some(cell)) => cell.clone(),
                (_, None) => Cell::Null,
            };
            column(c.data_type, rows.iter().map(cell))
        })
        .collect();
    let batch =
        RecordBatch::try_new(schema.clone(), columns).map_err(|e| internal(spec.name, e))?;
    let file = std::fs::File::create(path).map_err(|e| PhmError::write(path, e))?;
    let mut writer =
        ArrowWriter::try_new(file, schema, None).map_err(|e| internal(spec.name, e))?;
    writer.write(&batch).map_err(|e| internal(spec.name, e))?;
    writer.close().map_err(|e| internal(spec.name, e))?;
    Ok(())
}

/// One Arrow column of `cells`; the parser has already checked each cell's
/// type against the contract, so a mismatched cell is written as null.
fn column(data_type: ContractType, cells: impl Iterator<Item = Cell>) -> ArrayRef {
    match data_type {
        ContractType::Int64 => {
            let mut b = Int64Builder::new();
            cells.for_each(|c| b.append_option(int(&c)));
            Arc::new(b.finish())
        }
        ContractType::Int32 => {
            let mut b = Int32Builder::new();
            cells.for_each(|c| b.append_option(int(&c).and_then(|n| i32::try_from(n).ok())));
            Arc::new(b.finish())
        }
        ContractType::Float64 => {
            let mut b = Float64Builder::new();
            cells.for_each(|c| {
                b.append_option(match c {
                    Cell::Float(f) => Some(f),
                    _ => None,
                })
            });
            Arc::new(b.finish())
        }
        ContractType::Utf8 => {
            let mut b = StringBuilder::new();
            cells.for_each(|c| match c {
                Cell::Text(s) => b.append_value(s),
                _ => b.append_null(),
            });
            Arc::new(b.finish())
        }
        ContractType::Date32 => {
            let mut b = Date32Builder::new();
            cells.for_each(|c| {
                b.append_option(match c {
                    Cell::Date(d) => Some(Date32Type::from_naive_date(d)),
                    _ => None,
                })
            });
            Arc::new(b.finish())
        }
    }
}

fn int(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::Int(n) => Some(*n),
        _ => None,
    }
}
