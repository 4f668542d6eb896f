//! The clinical lead's list as an Excel workbook (`lists/PCN.xlsx`), beside
//! the CSV: the same rows and columns, with a frozen header, an autofilter,
//! dates as dates, a drop-down on `decision`, and a sheet saying how to use
//! and return it. [`read_list`] reads a returned workbook back for
//! `phm review`, naming each cell it reads (`List!T14`) so that a problem
//! points the lead at the cell to fix.
//!
//! Written with `rust_xlsxwriter` and read with `calamine`: both are widely
//! used, pure Rust, and share the `zip` crate.

use std::path::Path;

use calamine::{open_workbook, Reader, Xlsx};
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    DataValidation, DocProperties, ExcelDateTime, Format, FormatBorder, Workbook, Worksheet,
    XlsxError,
};

use super::review::ReturnedRow;
use crate::error::{PhmError, Result};
use crate::spreadsheet;

/// The sheet holding the patients, which `phm review` reads back.
pub const LIST_SHEET: &str = "List";
/// The sheet explaining the columns and how to return the file.
pub const HELP_SHEET: &str = "How to use this list";

/// Columns written as numbers (the rest are text or, for evidence, dates).
/// `patient_id` stays text: pseudonymised ids can exceed the 15 digits a
/// spreadsheet number holds exactly.
const NUMBER_COLUMNS: [&str; 3] = ["need_score", "rank", "imd_decile"];

/// What each fixed list column means, for the help sheet.
const COLUMN_HELP: [(&str, &str); 14] = [
    ("pcn_code", "The Primary Care Network."),
    ("patient_id", "The pseudonymised patient id: look it up in the practice system to see who it is."),
    ("practice_code", "The patient's practice."),
    ("segment", "The group (rules.md §4) the patient was ranked within."),
    ("need_score", "Points of unmet need; need_reasons lists each point."),
    ("need_reasons", "Each scored need and its points, e.g. \"lonely+2; hfu_ae+2\"."),
    ("rank", "Order within the PCN: 1 is offered first."),
    ("status", "proposed: within this period's link-worker capacity; waiting: next in line when a place frees."),
    ("age_band", "Age group at the reference date."),
    ("sex", "As recorded."),
    ("imd_decile", "National deprivation decile of the patient's area (1 = most deprived); blank when unknown."),
    ("proposal_id", "Which proposal this list came from. Do not change it: phm refuses a list from another proposal."),
    ("decision", "Yours to fill in: accept, exclude, or leave blank to decide later."),
    ("reason", "Yours to fill in: why, in a few words (kept with the decision)."),
];

/// The workbook's bytes: the `List` sheet with `header` and `rows` (the CSV's
/// cells), and the help sheet. Columns whose name ends in `_last` hold dates.
/// The document is dated at the reference date `as_of` rather than the
/// time of writing, so that the same proposal writes the same bytes.
pub fn list_workbook(
    pcn_code: &str,
    as_of: NaiveDate,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<Vec<u8>> {
    let mut workbook = Workbook::new();
    let dated = excel_day(as_of).map_err(xlsx_err)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!("Proposed patients, PCN {pcn_code}"))
            .set_creation_datetime(&dated),
    );
    let list = workbook.add_worksheet();
    write_list(list, header, rows).map_err(xlsx_err)?;
    let help = workbook.add_worksheet();
    write_help(help, header).map_err(xlsx_err)?;
    workbook.save_to_buffer().map_err(xlsx_err)
}

fn xlsx_err(e: XlsxError) -> PhmError {
    PhmError::Internal(format!("cannot write the list workbook: {e}"))
}

fn excel_day(d: NaiveDate) -> std::result::Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}

fn write_list(
    sheet: &mut Worksheet,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::result::Result<(), XlsxError> {
    sheet.set_name(LIST_SHEET)?;
    let bold = Format::new()
        .set_bold()
        .set_border_bottom(FormatBorder::Thin);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for (col, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (col, text) in row.iter().enumerate() {
            let c = col as u16;
            widths[col] = widths[col].max(text.chars().count());
            if text.is_empty() {
                continue;
            }
            let name = header[col];
            if NUMBER_COLUMNS.contains(&name) {
                if let Ok(n) = text.parse::<i64>() {
                    sheet.write_number(r, c, n as f64)?;
                    continue;
                }
            }
            if name.ends_with("_last") {
                if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                    sheet.write_datetime_with_format(r, c, excel_day(d)?, &date)?;
                    continue;
                }
            }
            sheet.write_string(r, c, text)?;
        }
    }
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, (*width).clamp(8, 60) as f64 + 2.0)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let last_col = header.len().saturating_sub(1) as u16;
    sheet.autofilter(0, 0, rows.len() as u32, last_col)?;
    if let Some(decision) = header.iter().position(|h| *h == "decision") {
        let choices = DataValidation::new()
            .allow_list_strings(&["accept", "exclude"])?
            .set_input_title("Decision")?
            .set_input_message("accept, exclude, or leave blank")?
            .set_error_title("Not a decision")?
            .set_error_message(
                "Choose accept or exclude from the list, or leave the cell blank.",
            )?;
        let last_row = rows.len().max(1) as u32;
        sheet.add_data_validation(1, decision as u16, last_row, decision as u16, &choices)?;
    }
    Ok(())
}

fn write_help(sheet: &mut Worksheet, header: &[&str]) -> std::result::Result<(), XlsxError> {
    sheet.set_name(HELP_SHEET)?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let lines = [
        "This list is the patients phm proposes for a social-prescribing offer, and those waiting, with the reasons for each.",
        "1. In the List sheet, choose accept or exclude in the decision column for the patients you have reviewed (blank: not decided yet), and say why in reason.",
        "2. Do not change, add or remove other cells or rows: phm checks them against the proposal and refuses a changed list.",
        "3. Save the file as .xlsx and send it back to your analyst, who runs: phm review --decisions THIS_FILE.xlsx --proposal PROPOSAL_FOLDER",
        "4. Excluded patients are left out of the next proposal, and their places go to the waiting list.",
    ];
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(1, 100)?;
    sheet.write_string_with_format(0, 0, "How to use this list", &bold)?;
    for (i, line) in lines.iter().enumerate() {
        sheet.write_string_with_format(i as u32 + 1, 1, *line, &wrap)?;
    }
    let start = lines.len() as u32 + 2;
    sheet.write_string_with_format(start, 0, "Column", &bold)?;
    sheet.write_string_with_format(start, 1, "What it means", &bold)?;
    for (i, name) in header.iter().enumerate() {
        let r = start + 1 + i as u32;
        sheet.write_string(r, 0, *name)?;
        sheet.write_string_with_format(r, 1, column_help(name), &wrap)?;
    }
    Ok(())
}

/// The help text of one list column; evidence columns are `FLAG_last`.
fn column_help(name: &str) -> String {
    if let Some((_, text)) = COLUMN_HELP.iter().find(|(n, _)| *n == name) {
        return (*text).to_string();
    }
    match name.strip_suffix("_last") {
        Some(flag) => format!(
            "Date of the latest record behind `{flag}`, filled only where it scored a point in need_reasons (phm explain shows every record)."
        ),
        None => String::new(),
    }
}

/// The cells of a returned workbook's `List` sheet: its header, and each row
/// as text with its place (`List!T14`). Numbers read back as written
/// (`12`, not `12.0`).
pub fn read_list(path: &Path) -> Result<(Vec<String>, Vec<ReturnedRow>)> {
    let name = path.display().to_string();
    let mut workbook: Xlsx<_> = open_workbook(path).map_err(|e| {
        PhmError::Input(format!(
            "decisions file {name}: not a readable .xlsx workbook ({e})"
        ))
    })?;
    let range = workbook.worksheet_range(LIST_SHEET).map_err(|_| {
        PhmError::Input(format!(
            "decisions file {name}: no sheet named `{LIST_SHEET}` (it has {}); return the workbook phm wrote (lists/PCN.xlsx)",
            workbook.sheet_names().join(", ")
        ))
    })?;
    // Cells are placed from where the used range starts, so that an
    // address names the cell as the spreadsheet shows it.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(spreadsheet::cell_text).collect())
        .unwrap_or_default();
    let returned = rows
        .enumerate()
        .map(|(i, cells)| ReturnedRow {
            cells: cells.iter().map(spreadsheet::cell_text).collect(),
            place: super::review::Place::Cell {
                sheet: LIST_SHEET,
                row: first_row + 2 + i as u32,
                first_col,
            },
        })
        .filter(|r| r.cells.iter().any(|c| !c.is_empty()))
        .collect();
    Ok((header, returned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixed_list_column_has_help() {
        for name in super::super::run::LIST_COLUMNS
            .iter()
            .chain(super::super::run::LEAD_COLUMNS.iter())
        {
            assert!(!column_help(name).is_empty(), "{name}");
        }
        assert!(column_help("lonely_last").contains("`lonely`"));
    }
}
