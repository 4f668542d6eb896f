//! The English Indices of Deprivation as the government publishes them, read
//! as the `imd` table so nobody reshapes them by hand (extract.md, "imd"):
//! File 7 as CSV, and Files 1, 2 and 7 as Excel workbooks. Finds the LSOA,
//! decile and rank columns by their published headings and ignores the
//! dozens of others. Ranks are optional (File 1 has them, so do Files 2 and
//! 7): equity.md's local quintiles order LSOAs by them.

use std::path::Path;
use std::sync::Arc;

use calamine::{open_workbook, Data, Range, Reader, Xlsx};
use datafusion::arrow::array::{Int32Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use super::ExtractError;
use crate::spreadsheet;

/// LSOA code headings, most specific first (IoD2019, IoD2025, ONS short codes).
pub const LSOA_HEADINGS: &[&str] = &[
    "LSOA code (2011)",
    "LSOA code (2021)",
    "LSOA21CD",
    "LSOA11CD",
    "lsoa_code",
];

/// IMD decile headings: Files 2 and 7's full heading, File 1's shorter one,
/// and the contract's own name.
pub const DECILE_HEADINGS: &[&str] = &[
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    "Index of Multiple Deprivation (IMD) Decile",
    "imd_decile",
];

/// IMD rank headings (1 = most deprived), in the same three forms.
pub const RANK_HEADINGS: &[&str] = &[
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Rank",
    "imd_rank",
];

/// The data sheets of the published workbooks, by name: IoD2019 File 1
/// (`IMD2019`) and File 2 (`IoD2019 Domains`), and the IoD2025 files'
/// counterparts. A workbook holding one of these is read from it; in any
/// other workbook the one sheet with the headings is read.
pub const PUBLISHED_SHEETS: &[&str] = &[
    "IMD2019",
    "IoD2019 Domains",
    "IoD2019 Scores, Ranks, Deciles and Population Denominators",
    "IMD2025",
    "IoD2025 Domains",
    "IoD2025 Scores, Ranks, Deciles and Population Denominators",
];

/// The published files' first sheet, about the data rather than of it.
const NOTES_SHEET: &str = "Notes";

/// How many rows from the top of a sheet may come before its headings (the
/// published sheets start with them; hand-made ones sometimes have a title).
const HEADING_ROWS_SEARCHED: usize = 10;

/// Reads a published IoD file, CSV or `.xlsx` by its extension, into a batch
/// of `lsoa_code` (Utf8), `imd_decile` (Int32) and `imd_rank` (Int32, null
/// when the file has no rank column).
pub fn read_imd_file(path: &Path) -> Result<RecordBatch, ExtractError> {
    let err = |message: String| ExtractError::Imd {
        path: path.to_path_buf(),
        message,
    };
    let rows = if is_extension(path, "xlsx") {
        read_xlsx(path)
    } else {
        read_csv(path)
    }
    .map_err(err)?;
    rows.into_batch().map_err(err)
}

/// True when `path` ends in `.EXTENSION`, in any case.
pub fn is_extension(path: &Path, extension: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(extension))
}

/// Where the three columns are in a row of headings.
struct Headings {
    lsoa: usize,
    decile: usize,
    rank: Option<usize>,
}

impl Headings {
    /// Finds the columns by heading; the error says which heading is missing
    /// and what was looked for.
    fn find(headers: &[String]) -> Result<Self, String> {
        let lsoa = position(headers, LSOA_HEADINGS).ok_or_else(|| {
            format!(
                "no LSOA code column: expected a heading like `{}` or `{}`",
                LSOA_HEADINGS[0], LSOA_HEADINGS[1]
            )
        })?;
        let decile = position(headers, DECILE_HEADINGS).ok_or_else(|| {
            format!(
                "no IMD decile column: expected the heading `{}` or `{}`",
                DECILE_HEADINGS[0], DECILE_HEADINGS[1]
            )
        })?;
        Ok(Headings {
            lsoa,
            decile,
            rank: position(headers, RANK_HEADINGS),
        })
    }
}

fn position(headers: &[String], wanted: &[&str]) -> Option<usize> {
    wanted.iter().find_map(|w| {
        headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(w)
        })
    })
}

/// The table as read so far.
#[derive(Default)]
struct ImdRows {
    codes: Vec<String>,
    deciles: Vec<i32>,
    ranks: Vec<Option<i32>>,
}

impl ImdRows {
    /// Adds one row's cells; `place` names the line or cell for messages.
    fn push(
        &mut self,
        cells: &dyn Fn(usize) -> String,
        columns: &Headings,
        place: &dyn Fn(usize) -> String,
    ) -> Result<(), String> {
        let code = cells(columns.lsoa);
        if code.is_empty() {
            return Err(format!("{}: empty LSOA code", place(columns.lsoa)));
        }
        let decile = cells(columns.decile);
        let decile: i32 = decile.parse().map_err(|_| {
            format!(
                "{}: IMD decile `{decile}` for {code} is not a whole number 1–10",
                place(columns.decile)
            )
        })?;
        let rank = match columns.rank {
            None => None,
            Some(column) => {
                let rank = cells(column);
                Some(rank.parse::<i32>().map_err(|_| {
                    format!(
                        "{}: IMD rank `{rank}` for {code} is not a whole number (1 = most deprived)",
                        place(column)
                    )
                })?)
            }
        };
        self.codes.push(code);
        self.deciles.push(decile);
        self.ranks.push(rank);
        Ok(())
    }

    fn into_batch(self) -> Result<RecordBatch, String> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("lsoa_code", DataType::Utf8, false),
            Field::new("imd_decile", DataType::Int32, false),
            Field::new("imd_rank", DataType::Int32, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(self.codes)),
                Arc::new(Int32Array::from(self.deciles)),
                Arc::new(Int32Array::from(self.ranks)),
            ],
        )
        .map_err(|e| format!("cannot build the table: {e}"))
    }
}

fn read_csv(path: &Path) -> Result<ImdRows, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("cannot read the header line: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let columns = Headings::find(&headers)?;
    let mut rows = ImdRows::default();
    for (i, record) in reader.records().enumerate() {
        // Line numbers for people: the header is line 1.
        let line = i + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let cells = |c: usize| record.get(c).unwrap_or("").trim().to_string();
        rows.push(&cells, &columns, &|_| format!("line {line}"))?;
    }
    Ok(rows)
}

fn read_xlsx(path: &Path) -> Result<ImdRows, String> {
    let mut workbook: Xlsx<_> =
        open_workbook(path).map_err(|e| format!("not a readable .xlsx workbook ({e})"))?;
    let names = workbook.sheet_names();
    let published = PUBLISHED_SHEETS
        .iter()
        .find(|p| names.iter().any(|n| n == *p));
    if let Some(sheet) = published {
        let range = sheet_range(&mut workbook, sheet)?;
        let (at, columns) =
            heading_row(&range).map_err(|problem| format!("sheet `{sheet}`: {problem}"))?;
        return read_sheet(sheet, &range, at, &columns);
    }
    // No published name: the one data sheet with the headings, leaving out
    // the published files' `Notes` (prose about the data, not the data).
    let searched: Vec<&String> = names.iter().filter(|n| *n != NOTES_SHEET).collect();
    let mut found = Vec::new();
    for sheet in &searched {
        let range = sheet_range(&mut workbook, sheet)?;
        if let Ok((at, columns)) = heading_row(&range) {
            found.push((sheet.as_str(), range, at, columns));
        }
    }
    match found.as_slice() {
        [(sheet, range, at, columns)] => read_sheet(sheet, range, *at, columns),
        [] => Err(format!(
            "no sheet has the IMD columns: looked in {} for a row of headings with `{}` or `{}` and `{}` or `{}` (the published sheets are named {})",
            quoted(&searched),
            LSOA_HEADINGS[0],
            LSOA_HEADINGS[1],
            DECILE_HEADINGS[0],
            DECILE_HEADINGS[1],
            quoted(&PUBLISHED_SHEETS[..2])
        )),
        several => Err(format!(
            "sheets {} all have the IMD columns, so which to read is unclear: keep one, or name it as published ({})",
            quoted(&several.iter().map(|f| f.0).collect::<Vec<_>>()),
            quoted(&PUBLISHED_SHEETS[..2])
        )),
    }
}

fn quoted<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sheet_range(
    workbook: &mut Xlsx<std::io::BufReader<std::fs::File>>,
    sheet: &str,
) -> Result<Range<Data>, String> {
    workbook
        .worksheet_range(sheet)
        .map_err(|e| format!("sheet `{sheet}` cannot be read ({e})"))
}

/// The first row (of the used range, 0-based) holding the headings, and
/// where the columns are; the error is the last row's problem, or the first
/// row's when the sheet is shorter.
fn heading_row(range: &Range<Data>) -> Result<(usize, Headings), String> {
    let mut problem = "the sheet is empty".to_string();
    for (i, row) in range.rows().take(HEADING_ROWS_SEARCHED).enumerate() {
        let headers: Vec<String> = row.iter().map(spreadsheet::cell_text).collect();
        match Headings::find(&headers) {
            Ok(columns) => return Ok((i, columns)),
            // A row with the LSOA heading is the heading row: its problem
            // (no decile column) is the one to report.
            Err(p) if position(&headers, LSOA_HEADINGS).is_some() => return Err(p),
            Err(p) if i == 0 => problem = p,
            Err(_) => {}
        }
    }
    Err(problem)
}

fn read_sheet(
    sheet: &str,
    range: &Range<Data>,
    heading_at: usize,
    columns: &Headings,
) -> Result<ImdRows, String> {
    // Cells are named from where the used range starts, as the sheet shows them.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut rows = ImdRows::default();
    for (i, row) in range.rows().enumerate().skip(heading_at + 1) {
        if row.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        let cells = |c: usize| row.get(c).map(spreadsheet::cell_text).unwrap_or_default();
        let place =
            |c: usize| spreadsheet::cell_name(sheet, first_row + i as u32, first_col + c as u32);
        rows.push(&cells, columns, &place)?;
    }
    Ok(rows)
}
