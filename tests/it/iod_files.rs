//! The government's Indices of Deprivation files as published (issue 21,
//! part 2): `--imd` takes File 1, 2 or 7 as a workbook, read from the sheet
//! the government names, or File 7 as CSV, and reads the national rank as
//! well as the decile. The workbooks are made here with the published sheet
//! names and headings (and the notes sheet the published files start with),
//! and every expected value below is the one written into the workbook.

use std::path::Path;

use rust_xlsxwriter::Workbook;

use crate::common::*;

const LSOA_2011: &str = "LSOA code (2011)";
const LSOA_2021: &str = "LSOA code (2021)";
const FILE_1_RANK: &str = "Index of Multiple Deprivation (IMD) Rank";
const FILE_1_DECILE: &str = "Index of Multiple Deprivation (IMD) Decile";
const FULL_RANK: &str = "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)";
const FULL_DECILE: &str =
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)";

/// A cell as a person or the government's file holds it.
#[derive(Clone)]
enum C {
    T(&'static str),
    N(f64),
}
use C::{N, T};

fn save(path: &Path, sheets: &[(&str, Vec<Vec<C>>)]) {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    T(s) => ws.write_string(r as u32, c as u16, *s).unwrap(),
                    N(f) => ws.write_number(r as u32, c as u16, *f).unwrap(),
                };
            }
        }
    }
    book.save(path).unwrap();
}

/// The published notes sheet: prose, with a heading-like line and a code in
/// it, so that reading it instead of the data sheet would show.
fn notes() -> (&'static str, Vec<Vec<C>>) {
    (
        "Notes",
        vec![
            vec![T("English Indices of Deprivation")],
            vec![T(LSOA_2011), T(FILE_1_DECILE)],
            vec![T("E01999999"), N(1.0)],
        ],
    )
}

/// The minimal extract (its patients live in E01000005), without its imd table.
fn extract() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    std::fs::remove_file(dir.path().join("imd.parquet")).unwrap();
    dir
}

/// `imd` as phm reads it from `file`: (lsoa_code, imd_decile, imd_rank).
fn imd_rows(dir: &Path, file: &Path) -> Vec<(String, String, String)> {
    let out = dir.join("imd_out.csv");
    let (code, _, err) = phm(&[
        "query",
        "--extract",
        dir.to_str().unwrap(),
        "--imd",
        file.to_str().unwrap(),
        "-e",
        "SELECT lsoa_code, imd_decile, imd_rank FROM imd ORDER BY lsoa_code",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    csv_maps(&out)
        .into_iter()
        .map(|r| {
            (
                r["lsoa_code"].clone(),
                r["imd_decile"].clone(),
                r["imd_rank"].clone(),
            )
        })
        .collect()
}

/// What the File 1 and File 2 workbooks below hold for their two LSOAs.
fn city_of_london() -> Vec<(String, String, String)> {
    vec![
        row("E01000001", "9", "29199"),
        row("E01000005", "3", "8214"),
    ]
}

fn row(lsoa: &str, decile: &str, rank: &str) -> (String, String, String) {
    (lsoa.into(), decile.into(), rank.into())
}

/// phm's exit code and stderr for `validate` with `--imd file`.
fn validate_with(dir: &Path, file: &Path) -> (i32, String) {
    let (code, _, err) = phm(&[
        "validate",
        "--quiet",
        "--extract",
        dir.to_str().unwrap(),
        "--imd",
        file.to_str().unwrap(),
    ]);
    assert!(!err.contains("panicked"), "{err}");
    (code, err)
}

#[test]
fn iod2019_file_1_is_read_from_its_imd2019_sheet_with_ranks() {
    let dir = extract();
    let file = dir
        .path()
        .join("File_1_-_IMD2019_Index_of_Multiple_Deprivation.xlsx");
    save(
        &file,
        &[
            notes(),
            (
                "IMD2019",
                vec![
                    vec![
                        T(LSOA_2011),
                        T("LSOA name (2011)"),
                        T("Local Authority District code (2019)"),
                        T("Local Authority District name (2019)"),
                        T(FILE_1_RANK),
                        T(FILE_1_DECILE),
                    ],
                    vec![
                        T("E01000001"),
                        T("City of London 001A"),
                        T("E09000001"),
                        T("City of London"),
                        N(29199.0),
                        N(9.0),
                    ],
                    vec![
                        T("E01000005"),
                        T("City of London 001E"),
                        T("E09000001"),
                        T("City of London"),
                        N(8214.0),
                        N(3.0),
                    ],
                ],
            ),
        ],
    );
    assert_eq!(imd_rows(dir.path(), &file), city_of_london());
}

#[test]
fn iod2019_file_2_gives_the_imd_columns_not_a_domains() {
    let dir = extract();
    let file = dir
        .path()
        .join("File_2_-_IoD2019_Domains_of_Deprivation.xlsx");
    let header = vec![
        T(LSOA_2011),
        T("LSOA name (2011)"),
        T("Income Rank (where 1 is most deprived)"),
        T("Income Decile (where 1 is most deprived 10% of LSOAs)"),
        T(FULL_RANK),
        T(FULL_DECILE),
        T("Employment Rank (where 1 is most deprived)"),
    ];
    save(
        &file,
        &[
            notes(),
            (
                "IoD2019 Domains",
                vec![
                    header,
                    vec![
                        T("E01000001"),
                        T("a"),
                        N(100.0),
                        N(1.0),
                        N(29199.0),
                        N(9.0),
                        N(7.0),
                    ],
                    vec![
                        T("E01000005"),
                        T("b"),
                        N(30000.0),
                        N(10.0),
                        N(8214.0),
                        N(3.0),
                        N(8.0),
                    ],
                ],
            ),
        ],
    );
    assert_eq!(imd_rows(dir.path(), &file), city_of_london());
}

#[test]
fn a_workbook_under_another_sheet_name_is_found_by_its_headings_below_a_title() {
    // IoD2025 on 2021 LSOAs; the sheet name is not one phm knows, and the
    // headings sit under a title and a blank row.
    let dir = extract();
    let file = dir.path().join("File_7_IoD2025.xlsx");
    save(
        &file,
        &[
            notes(),
            (
                "Scores ranks deciles",
                vec![
                    vec![T("English Indices of Deprivation 2025")],
                    vec![],
                    vec![
                        T(LSOA_2021),
                        T("Index of Multiple Deprivation (IMD) Score"),
                        T(FULL_RANK),
                        T(FULL_DECILE),
                    ],
                    vec![T("E01000005"), N(31.2), N(5012.0), N(2.0)],
                    vec![T("E01000001"), N(6.1), N(30001.0), N(9.0)],
                ],
            ),
        ],
    );
    assert_eq!(
        imd_rows(dir.path(), &file),
        vec![
            row("E01000001", "9", "30001"),
            row("E01000005", "2", "5012")
        ]
    );
}

#[test]
fn the_file_7_csv_gives_its_ranks_too_and_a_file_without_ranks_gives_nulls() {
    let dir = extract();
    let csv = dir.path().join("File_7.csv");
    std::fs::write(
        &csv,
        format!(
            "{LSOA_2011},LSOA name (2011),Index of Multiple Deprivation (IMD) Score,{FULL_RANK},{FULL_DECILE}\n\
             E01000005,\"Camden, 001A\",12.5,20000,5\nE01000001,\"City of London, 001A\",6.2,29199,9\n"
        ),
    )
    .unwrap();
    assert_eq!(
        imd_rows(dir.path(), &csv),
        vec![
            row("E01000001", "9", "29199"),
            row("E01000005", "5", "20000")
        ]
    );
    let no_ranks = dir.path().join("deciles.csv");
    std::fs::write(
        &no_ranks,
        format!("{LSOA_2011},{FULL_DECILE}\nE01000001,9\n"),
    )
    .unwrap();
    assert_eq!(
        imd_rows(dir.path(), &no_ranks),
        vec![row("E01000001", "9", "")]
    );
}

#[test]
fn the_sample_features_are_the_same_with_its_imd_given_as_a_file_1_workbook() {
    // The sample's own imd table written out as the government's File 1:
    // the features must not change by a single cell.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/extract");
    let imd = read_parquet(&sample.join("imd.parquet"));
    let codes = imd
        .column_by_name("lsoa_code")
        .unwrap()
        .as_any()
        .downcast_ref::<datafusion::arrow::array::StringArray>()
        .unwrap();
    let deciles = imd
        .column_by_name("imd_decile")
        .unwrap()
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int32Array>()
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("File_1.xlsx");
    let mut book = Workbook::new();
    book.add_worksheet().set_name("Notes").unwrap();
    let ws = book.add_worksheet();
    ws.set_name("IMD2019").unwrap();
    for (c, h) in [LSOA_2011, FILE_1_RANK, FILE_1_DECILE].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for i in 0..imd.num_rows() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, codes.value(i)).unwrap();
        ws.write_number(r, 1, (i + 1) as f64).unwrap();
        ws.write_number(r, 2, deciles.value(i) as f64).unwrap();
    }
    book.save(&file).unwrap();
    let features = |imd: Option<&Path>, out: &Path| {
        let mut args = vec![
            "features",
            "--quiet",
            "--extract",
            sample.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(imd) = imd {
            args.extend(["--imd", imd.to_str().unwrap()]);
        }
        let (code, _, err) = phm(&args);
        assert_eq!(code, 0, "{err}");
        read_parquet(out)
    };
    let from_parquet = features(None, &work.path().join("a.parquet"));
    let from_workbook = features(Some(&file), &work.path().join("b.parquet"));
    assert!(from_parquet.num_rows() > 50_000);
    assert_eq!(from_parquet, from_workbook);
}

#[test]
fn a_published_sheet_without_the_decile_heading_names_the_sheet_and_headings() {
    let dir = extract();
    let file = dir.path().join("File_1.xlsx");
    save(
        &file,
        &[
            notes(),
            (
                "IMD2019",
                vec![
                    vec![T(LSOA_2011), T(FILE_1_RANK)],
                    vec![T("E01000001"), N(1.0)],
                ],
            ),
        ],
    );
    let (code, err) = validate_with(dir.path(), &file);
    assert_eq!(code, 2, "{err}");
    for needle in [
        "File_1.xlsx",
        "sheet `IMD2019`",
        "no IMD decile column",
        FULL_DECILE,
        FILE_1_DECILE,
    ] {
        assert!(err.contains(needle), "lacks `{needle}`:\n{err}");
    }
}

#[test]
fn a_workbook_with_no_sheet_or_two_sheets_of_imd_headings_names_the_sheets() {
    let dir = extract();
    let file = dir.path().join("deprivation.xlsx");
    save(
        &file,
        &[
            ("Cover", vec![vec![T("Deprivation")]]),
            (
                "Sheet1",
                vec![vec![T("Area"), T("Value")], vec![T("E01000001"), N(3.0)]],
            ),
        ],
    );
    let (code, err) = validate_with(dir.path(), &file);
    assert_eq!(code, 2, "{err}");
    for needle in [
        "deprivation.xlsx",
        "`Cover`, `Sheet1`",
        LSOA_2011,
        LSOA_2021,
        FULL_DECILE,
        "`IMD2019`",
    ] {
        assert!(err.contains(needle), "lacks `{needle}`:\n{err}");
    }

    // Two unnamed sheets that both have the headings: phm will not guess.
    let imd_sheet = || {
        vec![
            vec![T(LSOA_2011), T(FULL_DECILE)],
            vec![T("E01000001"), N(3.0)],
        ]
    };
    save(
        &file,
        &[notes(), ("2019", imd_sheet()), ("2025", imd_sheet())],
    );
    let (code, err) = validate_with(dir.path(), &file);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("sheets `2019`, `2025`") && err.contains("unclear"),
        "{err}"
    );
}

#[test]
fn a_bad_cell_is_named_as_the_spreadsheet_shows_it() {
    let dir = extract();
    let file = dir.path().join("File_1.xlsx");
    let header = vec![
        T(LSOA_2011),
        T("LSOA name (2011)"),
        T(FILE_1_RANK),
        T(FILE_1_DECILE),
    ];
    // Row 3 of the sheet has a decile typed as a word; row 4 a rank with a fraction.
    let decile_word = vec![
        header.clone(),
        vec![T("E01000001"), T("a"), N(29199.0), N(9.0)],
        vec![T("E01000005"), T("b"), N(8214.0), T("ten")],
    ];
    save(&file, &[notes(), ("IMD2019", decile_word)]);
    let (code, err) = validate_with(dir.path(), &file);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("IMD2019!D3") && err.contains("`ten`") && err.contains("E01000005"),
        "{err}"
    );

    let fractional_rank = vec![
        header,
        vec![T("E01000001"), T("a"), N(29199.0), N(9.0)],
        vec![T("E01000005"), T("b"), N(8214.0), N(3.0)],
        vec![T("E01000006"), T("c"), N(8214.5), N(3.0)],
    ];
    save(&file, &[notes(), ("IMD2019", fractional_rank)]);
    let (code, err) = validate_with(dir.path(), &file);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("IMD2019!C4") && err.contains("rank `8214.5`"),
        "{err}"
    );
}

#[test]
fn ranks_outside_1_to_33755_or_repeated_and_a_file_that_is_not_a_workbook_are_exit_2() {
    let dir = extract();
    let csv = dir.path().join("File_7.csv");
    std::fs::write(
        &csv,
        format!("{LSOA_2011},{FULL_RANK},{FULL_DECILE}\nE01000001,0,9\nE01000005,-3,3\nE01000006,33756,3\nE01000007,33755,3\n"),
    )
    .unwrap();
    // England has 33,755 LSOAs (2021): 0, -3 and 33,756 are outside, 33,755 is not.
    let (code, err) = validate_with(dir.path(), &csv);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("imd.imd_rank") && err.contains("outside 1–33755") && err.contains("[3 rows]"),
        "{err}"
    );
    // Two LSOAs cannot share a national rank.
    std::fs::write(
        &csv,
        format!("{LSOA_2011},{FULL_RANK},{FULL_DECILE}\nE01000001,4000,2\nE01000005,4000,2\nE01000006,4001,2\n"),
    )
    .unwrap();
    let (code, err) = validate_with(dir.path(), &csv);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("imd.imd_rank")
            && err.contains("1 value(s) appear more than once (2 rows)")
            && err.contains("4000"),
        "{err}"
    );

    let fake = dir.path().join("File_1.xlsx");
    std::fs::write(&fake, "LSOA code (2011),Decile\n").unwrap();
    let (code, err) = validate_with(dir.path(), &fake);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("File_1.xlsx") && err.contains("not a readable .xlsx workbook"),
        "{err}"
    );
}
