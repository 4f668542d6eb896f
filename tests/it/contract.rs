//! The extract contract, one breach at a time (extract.md v1): each test
//! builds a valid extract, breaks one rule, and checks that `phm validate`
//! names the table and column (and exits 2), never panicking.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crate::common::*;
use datafusion::arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

fn phm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_phm"))
}

/// Runs `phm validate` and returns (exit code, stderr).
fn validate(dir: &Path) -> (i32, String) {
    let out = phm()
        .args(["validate", "--quiet", "--extract"])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn expect_breach(dir: &Path, needles: &[&str]) {
    let (code, err) = validate(dir);
    assert_eq!(code, 2, "exit code; stderr:\n{err}");
    assert!(!err.contains("panicked"), "panic:\n{err}");
    for n in needles {
        assert!(err.contains(n), "message lacks `{n}`:\n{err}");
    }
}

#[test]
fn a_valid_extract_passes() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    let (code, err) = validate(dir.path());
    assert_eq!(code, 0, "{err}");
}

#[test]
fn every_missing_table_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    std::fs::remove_file(dir.path().join("events.parquet")).unwrap();
    std::fs::remove_file(dir.path().join("imd.parquet")).unwrap();
    expect_breach(
        dir.path(),
        &[
            "events: required table is missing",
            "imd: required table is missing",
            "--imd",
        ],
    );
}

#[test]
fn missing_column_names_table_and_column() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    replace_table(
        dir.path(),
        "ae_attendances",
        vec![("patient_id", Arc::new(Int64Array::from(vec![1])))],
    );
    expect_breach(dir.path(), &["ae_attendances.arrival_date", "missing"]);
}

#[test]
fn wrong_type_names_found_and_expected() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    replace_table(
        dir.path(),
        "admissions",
        vec![
            ("patient_id", Arc::new(Int64Array::from(vec![1]))),
            (
                "admission_date",
                Arc::new(StringArray::from(vec!["2023-01-01"])),
            ),
            ("method", Arc::new(StringArray::from(vec!["emergency"]))),
        ],
    );
    expect_breach(dir.path(), &["admissions.admission_date", "Utf8", "Date32"]);
}

#[test]
fn narrower_integer_types_are_accepted_losslessly() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    replace_table(
        dir.path(),
        "imd",
        vec![
            ("lsoa_code", Arc::new(StringArray::from(vec!["E01000005"]))),
            (
                "imd_decile",
                Arc::new(datafusion::arrow::array::Int8Array::from(vec![5])),
            ),
            ("extra_column", Arc::new(StringArray::from(vec!["ignored"]))),
        ],
    );
    let (code, err) = validate(dir.path());
    assert_eq!(code, 0, "{err}");
}

#[test]
fn null_in_non_null_column() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    replace_table(
        dir.path(),
        "ae_attendances",
        vec![
            (
                "patient_id",
                Arc::new(Int64Array::from(vec![Some(1), None, None])),
            ),
            (
                "arrival_date",
                Arc::new(datafusion::arrow::array::Date32Array::from(vec![
                    19000, 19001, 19002,
                ])),
            ),
        ],
    );
    expect_breach(
        dir.path(),
        &["ae_attendances.patient_id", "null", "[2 rows]"],
    );
}

#[test]
fn duplicate_patient_ids() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::minimal_valid();
    x.patients.push(Patient::new(2));
    x.write(dir.path());
    expect_breach(
        dir.path(),
        &["patients.patient_id", "more than once", "patient_id=2"],
    );
}

#[test]
fn duplicate_patient_ids_are_counted_by_value_and_by_row() {
    // Ids 1, 2, 3, then 2 twice more and 3 once more: id 2 is on three rows
    // and id 3 on two, so two values repeat, on five rows; id 1 does not.
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::minimal_valid();
    x.patients.push(Patient::new(2));
    x.patients.push(Patient::new(3));
    x.patients.push(Patient::new(2));
    x.write(dir.path());
    expect_breach(
        dir.path(),
        &[
            "patients.patient_id",
            "2 value(s) appear more than once (5 rows)",
            "patient_id=2",
            "patient_id=3",
        ],
    );
}

#[test]
fn unknown_code_values_for_sex_status_mode_and_method() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = Extract::minimal_valid();
    x.patients[0].sex = "X";
    x.appointments
        .push((1, "2023-01-01", "Attended", "face_to_face"));
    x.appointments
        .push((1, "2023-01-01", "attended", "carrier_pigeon"));
    x.admissions.push((2, "2023-01-01", "urgent"));
    x.write(dir.path());
    expect_breach(
        dir.path(),
        &[
            "patients.sex",
            "value=X",
            "appointments.status",
            "value=Attended",
            "appointments.mode",
            "carrier_pigeon",
            "admissions.method",
            "urgent",
        ],
    );
}

#[test]
fn imd_decile_outside_1_to_10() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    replace_table(
        dir.path(),
        "imd",
        vec![
            (
                "lsoa_code",
                Arc::new(StringArray::from(vec![
                    "E01000001",
                    "E01000002",
                    "E01000003",
                ])),
            ),
            ("imd_decile", Arc::new(Int32Array::from(vec![0, 11, 5]))),
        ],
    );
    expect_breach(dir.path(), &["imd.imd_decile", "outside 1–10", "[2 rows]"]);
}

#[test]
fn corrupt_truncated_and_non_parquet_files_are_errors_not_panics() {
    for damage in ["truncate", "garbage", "footer"] {
        let dir = tempfile::tempdir().unwrap();
        Extract::minimal_valid().write(dir.path());
        let path = dir.path().join("events.parquet");
        let bytes = std::fs::read(&path).unwrap();
        let broken = match damage {
            "truncate" => bytes[..bytes.len() / 2].to_vec(),
            "garbage" => b"patient_id,code\n1,2\n".to_vec(),
            _ => {
                let mut b = bytes.clone();
                let n = b.len();
                b[n - 8] ^= 0xFF; // footer length
                b
            }
        };
        std::fs::write(&path, broken).unwrap();
        expect_breach(dir.path(), &["events", "cannot be read as Parquet"]);
    }
}

#[test]
fn published_imd_csv_is_accepted_with_quoted_commas() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    std::fs::remove_file(dir.path().join("imd.parquet")).unwrap();
    let csv = dir.path().join("File_7.csv");
    std::fs::write(
        &csv,
        "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),Index of Multiple Deprivation (IMD) Score,Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)\n\
         E01000005,\"Camden, 001A\",E09000007,Camden,12.5,20000,5\n\
         E01000001,\"City of London, 001A\",E09000001,City of London,6.2,29199,9\n",
    )
    .unwrap();
    let out = phm()
        .args(["validate", "--quiet", "--extract"])
        .arg(dir.path())
        .arg("--imd")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn imd_csv_without_the_decile_heading_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    let csv = dir.path().join("imd.csv");
    std::fs::write(&csv, "LSOA code (2011),Score\nE01000005,3\n").unwrap();
    let out = phm()
        .args(["validate", "--quiet", "--extract"])
        .arg(dir.path())
        .arg("--imd")
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("imd.csv") && err.contains("Decile"), "{err}");
}

#[test]
fn a_table_split_across_files_with_conflicting_schemas_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    std::fs::remove_file(dir.path().join("ae_attendances.parquet")).unwrap();
    let folder = dir.path().join("ae_attendances");
    std::fs::create_dir(&folder).unwrap();
    let a = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("patient_id", DataType::Int64, false),
            Field::new("arrival_date", DataType::Date32, false),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(datafusion::arrow::array::Date32Array::from(vec![19000])),
        ],
    )
    .unwrap();
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("patient_id", DataType::Utf8, false),
            Field::new("arrival_date", DataType::Date32, false),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["x"])),
            Arc::new(datafusion::arrow::array::Date32Array::from(vec![19000])),
        ],
    )
    .unwrap();
    write_batches(&folder.join("a.parquet"), a.schema(), &[a]);
    write_batches(&folder.join("b.parquet"), b.schema(), &[b]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ae_attendances"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn extract_folder_that_does_not_exist() {
    let (code, err) = validate(Path::new("/nonexistent/extract"));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/extract"), "{err}");
}

/// Validation skips a scan only when the Parquet metadata proves the check
/// passes (src/extract/footer.rs). Files written without statistics or
/// dictionary pages prove nothing, so their null and bad code must still be
/// found by scanning.
#[test]
fn breaches_in_files_without_statistics_or_dictionaries_are_still_found() {
    use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
    let dir = tempfile::tempdir().unwrap();
    Extract::minimal_valid().write(dir.path());
    let bare = || {
        WriterProperties::builder()
            .set_statistics_enabled(EnabledStatistics::None)
            .set_dictionary_enabled(false)
            .build()
    };
    let write = |table: &str, columns: Vec<(&str, ArrayRef)>| {
        replace_table_with(dir.path(), table, columns, Some(bare()))
    };
    write(
        "ae_attendances",
        vec![
            (
                "patient_id",
                Arc::new(Int64Array::from(vec![Some(1), None])),
            ),
            (
                "arrival_date",
                Arc::new(datafusion::arrow::array::Date32Array::from(vec![
                    19000, 19001,
                ])),
            ),
        ],
    );
    write(
        "admissions",
        vec![
            ("patient_id", Arc::new(Int64Array::from(vec![1, 2]))),
            (
                "admission_date",
                Arc::new(datafusion::arrow::array::Date32Array::from(vec![
                    19000, 19001,
                ])),
            ),
            (
                "method",
                Arc::new(StringArray::from(vec!["emergency", "by_taxi"])),
            ),
        ],
    );
    expect_breach(
        dir.path(),
        &[
            "ae_attendances.patient_id",
            "[1 row]",
            "admissions.method",
            "by_taxi",
        ],
    );
}
