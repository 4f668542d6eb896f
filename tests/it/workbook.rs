//! The clinical lead's workbook (issue 21, part 1): `phm propose` writes
//! `lists/PCN.xlsx` beside the CSV, and `phm review` reads a returned one
//! with the CSV's checks, naming the cell of each problem. The returned
//! workbooks here are written the way a spreadsheet saves a person's edits:
//! read with calamine, the decisions typed in, saved anew with rust_xlsxwriter.
//! An independent reader (openpyxl) checks the drop-down, the frozen header,
//! the filter and the dates.

use std::path::Path;
use std::process::Command;

use calamine::{open_workbook, Data, Reader, Xlsx};
use rust_xlsxwriter::Workbook;

use crate::common::*;
use crate::proposals::{dirs, read_csv, T};

fn propose(ex: &str, out: &str) {
    let (code, _, err) = phm(&[
        "propose",
        "--quiet",
        "--extract",
        ex,
        "--as-of",
        T,
        "--out",
        out,
    ]);
    assert_eq!(code, 0, "{err}");
}

/// Every row of the List sheet, header first.
fn sheet_rows(path: &Path) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    let range = book.worksheet_range("List").unwrap();
    assert_eq!(range.start(), Some((0, 0)), "the list starts at A1");
    range.rows().map(|r| r.to_vec()).collect()
}

/// Saves `rows` as a workbook whose first sheet is named `sheet`.
fn save(rows: &[Vec<Data>], sheet: &str, path: &Path) {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                Data::String(s) => {
                    ws.write_string(r, c, s).unwrap();
                }
                Data::Float(f) => {
                    ws.write_number(r, c, *f).unwrap();
                }
                Data::Int(i) => {
                    ws.write_number(r, c, *i as f64).unwrap();
                }
                Data::DateTime(d) => {
                    ws.write_number(r, c, d.as_f64()).unwrap();
                }
                Data::Empty => {}
                other => panic!("unexpected cell {other:?}"),
            }
        }
    }
    book.save(path).unwrap();
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => format!("{other}"),
    }
}

/// The spreadsheet letter of a column among the first 26, worked out here
/// rather than taken from phm.
fn letter(index: usize) -> char {
    assert!(index < 26, "the test's lists have fewer than 27 columns");
    (b'A' + index as u8) as char
}

fn review(file: &Path, out: &str) -> (i32, String, String) {
    phm(&[
        "review",
        "--decisions",
        file.to_str().unwrap(),
        "--proposal",
        out,
    ])
}

#[test]
fn blanks_and_a_capital_are_read_back_and_an_invalid_decision_is_refused_naming_its_cell() {
    let (dir, ex, out) = dirs();
    propose(&ex, &out);
    let lists = Path::new(&out).join("lists");
    let mut rows = sheet_rows(&lists.join("U1.xlsx"));
    let csv = read_csv(&lists.join("U1.csv"));
    let header: Vec<String> = rows[0].iter().map(text).collect();
    assert_eq!(header, csv[0], "the workbook has the CSV's columns");
    assert_eq!(rows.len(), 131, "header and U1's 130 listed patients");
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    for (sheet_row, csv_row) in rows.iter().zip(&csv).skip(1) {
        assert_eq!(
            text(&sheet_row[col("patient_id")]),
            csv_row[col("patient_id")]
        );
    }
    let (decision, reason) = (col("decision"), col("reason"));
    assert_eq!(reason, decision + 1, "reason is next to decision");
    rows[1][decision] = Data::String("Exclude".into());
    rows[1][reason] = Data::String("moved away".into());
    rows[2][decision] = Data::String("accept".into());
    rows[3][decision] = Data::String("exclude".into());
    rows[4][decision] = Data::String("maybe".into());
    let returned = dir.path().join("U1-returned.xlsx");
    save(&rows, "List", &returned);

    let (code, _, err) = review(&returned, &out);
    assert_eq!(code, 2, "{err}");
    // Patient 4 of the list is on the sheet's row 5.
    let cell = format!("List!{}5", letter(decision));
    assert!(err.contains(&cell), "names {cell}: {err}");
    assert!(
        err.contains("`maybe`") && err.contains("1 problem"),
        "{err}"
    );
    assert!(
        !Path::new(&out).join("decisions.csv").exists(),
        "nothing recorded on error"
    );

    rows[4][decision] = Data::Empty;
    save(&rows, "List", &returned);
    let (code, stdout, err) = review(&returned, &out);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("Recorded 1 accepted and 2 excluded (127 without a decision)"),
        "{stdout}"
    );
    let recorded = csv_maps(&Path::new(&out).join("decisions.csv"));
    let id = |r: usize| text(&rows[r][col("patient_id")]);
    let got: Vec<(String, String, String)> = recorded
        .iter()
        .map(|m| {
            (
                m["patient_id"].clone(),
                m["decision"].clone(),
                m["reason"].clone(),
            )
        })
        .collect();
    let mut want = vec![
        (id(1), "exclude".to_string(), "moved away".to_string()),
        (id(2), "accept".to_string(), String::new()),
        (id(3), "exclude".to_string(), String::new()),
    ];
    want.sort_by_key(|(p, _, _)| p.parse::<i64>().unwrap());
    assert_eq!(got, want);

    // The next proposal leaves the two excluded patients out.
    propose(&ex, &out);
    let again = read_csv(&lists.join("U1.csv"));
    let ids: Vec<&String> = again
        .iter()
        .skip(1)
        .map(|r| &r[col("patient_id")])
        .collect();
    assert!(!ids.contains(&&id(1)) && !ids.contains(&&id(3)));
    assert!(ids.contains(&&id(2)));
}

#[test]
fn a_changed_score_another_proposal_or_a_renamed_sheet_is_refused() {
    let (dir, ex, out) = dirs();
    propose(&ex, &out);
    let original = sheet_rows(&Path::new(&out).join("lists/U1.xlsx"));
    let header: Vec<String> = original[0].iter().map(text).collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let returned = dir.path().join("returned.xlsx");

    let mut rows = original.clone();
    rows[3][col("need_score")] = Data::Float(99.0);
    save(&rows, "List", &returned);
    let (code, _, err) = review(&returned, &out);
    assert_eq!(code, 2, "{err}");
    let cell = format!("List!{}4", letter(col("need_score")));
    assert!(
        err.contains(&cell) && err.contains("was changed (99"),
        "{cell}: {err}"
    );

    let mut rows = original.clone();
    rows[7][col("proposal_id")] = Data::String("p-older".into());
    save(&rows, "List", &returned);
    let (code, _, err) = review(&returned, &out);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("from another or an older proposal (p-older)"),
        "{err}"
    );

    save(&original, "Sheet1", &returned);
    let (code, _, err) = review(&returned, &out);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no sheet named `List`") && err.contains("Sheet1"),
        "{err}"
    );
    assert!(!Path::new(&out).join("decisions.csv").exists());
}

#[test]
fn an_independent_reader_finds_the_drop_down_the_frozen_header_the_filter_and_dates() {
    let (_dir, ex, out) = dirs();
    propose(&ex, &out);
    let lists = Path::new(&out).join("lists");
    let csv = read_csv(&lists.join("U1.csv"));
    let header = &csv[0];
    let lonely = header.iter().position(|h| h == "lonely_last").unwrap();
    assert!(
        csv.iter().skip(1).any(|r| !r[lonely].is_empty()),
        "the list has evidence dates to check"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/check_workbook.py");
    for pcn in ["U1", "U2"] {
        let result = Command::new("python3")
            .arg(&script)
            .arg(lists.join(format!("{pcn}.xlsx")))
            .arg(lists.join(format!("{pcn}.csv")))
            .output()
            .expect("python3 runs (scripts/test.sh installs openpyxl)");
        let stdout = String::from_utf8_lossy(&result.stdout);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(
            result.status.success() && stdout.trim() == "ok",
            "{pcn}: {stdout}{stderr}"
        );
    }
}
