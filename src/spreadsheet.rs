//! Reading spreadsheet cells the way phm reads CSV fields: as text, with
//! whole numbers as `12` (not `12.0`) and dates as `YYYY-MM-DD`, and naming
//! cells as the spreadsheet shows them (`List!M14`). Shared by the lead's
//! returned workbook (`proposals::workbook`) and the government's IoD
//! workbooks (`extract::imd_file`), so both read a cell the same way.

use calamine::Data;
use chrono::NaiveDate;

/// A cell as the text the CSV would hold.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => excel_date(d.as_f64()).unwrap_or_else(|| d.to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// A spreadsheet date serial (days since 1899-12-30, as Excel counts from
/// March 1900 on) as `YYYY-MM-DD`, the CSV's form.
pub fn excel_date(serial: f64) -> Option<String> {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let days = chrono::TimeDelta::try_days(serial.floor() as i64)?;
    epoch.checked_add_signed(days).map(|d| d.to_string())
}

/// A column index as spreadsheet letters: 0 -> A, 25 -> Z, 26 -> AA.
pub fn column_letters(index: u32) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// A cell's address as a spreadsheet shows it: `sheet!` then the column
/// letters and the 1-based row, from 0-based `row` and `column`.
pub fn cell_name(sheet: &str, row: u32, column: u32) -> String {
    format!("{sheet}!{}{}", column_letters(column), row + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_serials_read_back_as_the_csv_writes_dates() {
        // 45292 is 2024-01-01 in Excel's 1900 date system (worked from
        // 1900-03-01 = serial 61: 45292 - 61 = 45231 days later).
        assert_eq!(excel_date(45292.0).as_deref(), Some("2024-01-01"));
        assert_eq!(excel_date(61.0).as_deref(), Some("1900-03-01"));
        assert_eq!(excel_date(45292.75).as_deref(), Some("2024-01-01"));
    }

    #[test]
    fn column_letters_run_a_to_z_then_aa() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(12), "M");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(51), "AZ");
        assert_eq!(column_letters(52), "BA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn cell_names_are_one_based_rows_with_column_letters() {
        assert_eq!(cell_name("IMD2019", 0, 0), "IMD2019!A1");
        assert_eq!(cell_name("List", 13, 12), "List!M14");
    }
}
