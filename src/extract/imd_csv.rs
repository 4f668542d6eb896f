//! The official English Indices of Deprivation CSV ("File 7") read as the
//! `imd` table, so nobody reshapes the government's file by hand (extract.md,
//! "imd"). Finds the LSOA and decile columns by their published headings and
//! ignores the dozens of others.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Int32Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use super::ExtractError;

/// LSOA code headings, most specific first (IoD2019, IoD2025, ONS short codes).
pub const LSOA_HEADINGS: &[&str] = &[
    "LSOA code (2011)",
    "LSOA code (2021)",
    "LSOA21CD",
    "LSOA11CD",
    "lsoa_code",
];

/// IMD decile headings: File 7's full heading, the shorter form some IoD2025
/// files use, and the contract's own name.
pub const DECILE_HEADINGS: &[&str] = &[
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    "Index of Multiple Deprivation (IMD) Decile",
    "imd_decile",
];

fn find(headers: &csv::StringRecord, wanted: &[&str]) -> Option<usize> {
    wanted.iter().find_map(|w| {
        headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(w)
        })
    })
}

/// Reads an IMD CSV into a batch of `lsoa_code` (Utf8) and `imd_decile` (Int32).
pub fn read_imd_csv(path: &Path) -> Result<RecordBatch, ExtractError> {
    let err = |message: String| ExtractError::Imd {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| err(format!("cannot open: {e}")))?;
    let headers = reader
        .headers()
        .map_err(|e| err(format!("cannot read the header line: {e}")))?
        .clone();
    let lsoa = find(&headers, LSOA_HEADINGS).ok_or_else(|| {
        err(format!(
            "no LSOA code column: expected a heading like `{}` or `{}`",
            LSOA_HEADINGS[0], LSOA_HEADINGS[1]
        ))
    })?;
    let decile = find(&headers, DECILE_HEADINGS).ok_or_else(|| {
        err(format!(
            "no IMD decile column: expected the heading `{}`",
            DECILE_HEADINGS[0]
        ))
    })?;
    let mut codes = Vec::new();
    let mut deciles = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // Line numbers for people: the header is line 1.
        let line = i + 2;
        let record = record.map_err(|e| err(format!("line {line}: {e}")))?;
        let code = record.get(lsoa).unwrap_or("").trim();
        if code.is_empty() {
            return Err(err(format!("line {line}: empty LSOA code")));
        }
        let raw = record.get(decile).unwrap_or("").trim();
        let value: i32 = raw.parse().map_err(|_| {
            err(format!(
                "line {line}: IMD decile `{raw}` for {code} is not a whole number 1–10"
            ))
        })?;
        codes.push(code.to_string());
        deciles.push(value);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("lsoa_code", DataType::Utf8, false),
        Field::new("imd_decile", DataType::Int32, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(codes)),
            Arc::new(Int32Array::from(deciles)),
        ],
    )
    .map_err(|e| err(format!("cannot build the table: {e}")))
}
