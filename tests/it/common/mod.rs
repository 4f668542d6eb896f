//! Test helpers: build small extracts by hand, write them as Parquet, run the
//! real pipeline, and read feature rows back by column name.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Field, Int32Type, Int64Type, Schema, SchemaRef,
};
use datafusion::arrow::record_batch::RecordBatch;
use phm::pipeline::{Pipeline, RunOptions};
use phm::rules::RuleSet;

pub mod formulas;

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn days(s: &str) -> i32 {
    (d(s) - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

/// The first code of a default codelist (so tests follow the curated lists).
pub fn code(list: &str) -> i64 {
    let lists = RuleSet::defaults().codelists().unwrap();
    lists
        .iter()
        .find(|l| l.name == list)
        .unwrap_or_else(|| panic!("no default codelist {list}"))
        .codes[0]
        .0
}

/// A code in no default codelist.
pub const UNLISTED: i64 = 999_999_999_999;

#[derive(Clone)]
pub struct Patient {
    pub id: i64,
    pub practice: &'static str,
    pub pcn: &'static str,
    pub lsoa: Option<&'static str>,
    pub sex: &'static str,
    pub birth: &'static str,
    pub ethnicity: Option<&'static str>,
    pub from: &'static str,
    pub to: Option<&'static str>,
    pub death: Option<&'static str>,
}

impl Patient {
    /// An adult registered long before any test date, in an LSOA of decile 5.
    pub fn new(id: i64) -> Self {
        Patient {
            id,
            practice: "P00001",
            pcn: "U00001",
            lsoa: Some("E01000005"),
            sex: "F",
            birth: "1970-01-01",
            ethnicity: Some("A"),
            from: "2000-01-01",
            to: None,
            death: None,
        }
    }
}

#[derive(Default, Clone)]
pub struct Extract {
    pub patients: Vec<Patient>,
    /// (patient, code, date, value)
    pub events: Vec<(i64, i64, &'static str, Option<f64>)>,
    /// (patient, date, status, mode)
    pub appointments: Vec<(i64, &'static str, &'static str, &'static str)>,
    pub ae: Vec<(i64, &'static str)>,
    /// (patient, date, method)
    pub admissions: Vec<(i64, &'static str, &'static str)>,
    pub imd: Vec<(&'static str, i32)>,
}

fn utf8(v: Vec<Option<&str>>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

fn date32(v: Vec<Option<&str>>) -> ArrayRef {
    Arc::new(Date32Array::from(
        v.into_iter().map(|s| s.map(days)).collect::<Vec<_>>(),
    ))
}

impl Extract {
    /// The IMD table every helper extract starts with: LSOA E0100000N has decile N.
    pub fn with_default_imd(mut self) -> Self {
        self.imd = vec![
            ("E01000001", 1),
            ("E01000002", 2),
            ("E01000003", 3),
            ("E01000004", 4),
            ("E01000005", 5),
            ("E01000006", 6),
            ("E01000007", 7),
            ("E01000008", 8),
            ("E01000009", 9),
            ("E01000010", 10),
        ];
        self
    }

    pub fn batches(&self) -> BTreeMap<&'static str, RecordBatch> {
        let mut out = BTreeMap::new();
        let p = &self.patients;
        let schema = Arc::new(Schema::new(vec![
            Field::new("patient_id", DataType::Int64, false),
            Field::new("practice_code", DataType::Utf8, false),
            Field::new("pcn_code", DataType::Utf8, false),
            Field::new("icb_code", DataType::Utf8, false),
            Field::new("lsoa_code", DataType::Utf8, true),
            Field::new("sex", DataType::Utf8, false),
            Field::new("birth_date", DataType::Date32, false),
            Field::new("ethnicity", DataType::Utf8, true),
            Field::new("registered_from", DataType::Date32, false),
            Field::new("registered_to", DataType::Date32, true),
            Field::new("death_date", DataType::Date32, true),
        ]));
        out.insert(
            "patients",
            RecordBatch::try_new(
                schema,
                vec![
                    Arc::new(Int64Array::from(p.iter().map(|x| x.id).collect::<Vec<_>>())),
                    utf8(p.iter().map(|x| Some(x.practice)).collect()),
                    utf8(p.iter().map(|x| Some(x.pcn)).collect()),
                    utf8(p.iter().map(|_| Some("QXX")).collect()),
                    utf8(p.iter().map(|x| x.lsoa).collect()),
                    utf8(p.iter().map(|x| Some(x.sex)).collect()),
                    date32(p.iter().map(|x| Some(x.birth)).collect()),
                    utf8(p.iter().map(|x| x.ethnicity).collect()),
                    date32(p.iter().map(|x| Some(x.from)).collect()),
                    date32(p.iter().map(|x| x.to).collect()),
                    date32(p.iter().map(|x| x.death).collect()),
                ],
            )
            .unwrap(),
        );
        let e = &self.events;
        out.insert(
            "events",
            RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new("patient_id", DataType::Int64, false),
                    Field::new("code", DataType::Int64, false),
                    Field::new("date", DataType::Date32, false),
                    Field::new("value", DataType::Float64, true),
                ])),
                vec![
                    Arc::new(Int64Array::from(e.iter().map(|x| x.0).collect::<Vec<_>>())),
                    Arc::new(Int64Array::from(e.iter().map(|x| x.1).collect::<Vec<_>>())),
                    date32(e.iter().map(|x| Some(x.2)).collect()),
                    Arc::new(Float64Array::from(
                        e.iter().map(|x| x.3).collect::<Vec<_>>(),
                    )),
                ],
            )
            .unwrap(),
        );
        let a = &self.appointments;
        out.insert(
            "appointments",
            RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new("patient_id", DataType::Int64, false),
                    Field::new("date", DataType::Date32, false),
                    Field::new("status", DataType::Utf8, false),
                    Field::new("mode", DataType::Utf8, false),
                ])),
                vec![
                    Arc::new(Int64Array::from(a.iter().map(|x| x.0).collect::<Vec<_>>())),
                    date32(a.iter().map(|x| Some(x.1)).collect()),
                    utf8(a.iter().map(|x| Some(x.2)).collect()),
                    utf8(a.iter().map(|x| Some(x.3)).collect()),
                ],
            )
            .unwrap(),
        );
        out.insert(
            "ae_attendances",
            RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new("patient_id", DataType::Int64, false),
                    Field::new("arrival_date", DataType::Date32, false),
                ])),
                vec![
                    Arc::new(Int64Array::from(
                        self.ae.iter().map(|x| x.0).collect::<Vec<_>>(),
                    )),
                    date32(self.ae.iter().map(|x| Some(x.1)).collect()),
                ],
            )
            .unwrap(),
        );
        let m = &self.admissions;
        out.insert(
            "admissions",
            RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new("patient_id", DataType::Int64, false),
                    Field::new("admission_date", DataType::Date32, false),
                    Field::new("method", DataType::Utf8, false),
                ])),
                vec![
                    Arc::new(Int64Array::from(m.iter().map(|x| x.0).collect::<Vec<_>>())),
                    date32(m.iter().map(|x| Some(x.1)).collect()),
                    utf8(m.iter().map(|x| Some(x.2)).collect()),
                ],
            )
            .unwrap(),
        );
        out.insert(
            "imd",
            RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new("lsoa_code", DataType::Utf8, false),
                    Field::new("imd_decile", DataType::Int32, false),
                ])),
                vec![
                    utf8(self.imd.iter().map(|x| Some(x.0)).collect()),
                    Arc::new(Int32Array::from(
                        self.imd.iter().map(|x| x.1).collect::<Vec<_>>(),
                    )),
                ],
            )
            .unwrap(),
        );
        out
    }

    /// Writes each table as `NAME.parquet` in `dir`.
    pub fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        for (name, batch) in self.batches() {
            write_batches(
                &dir.join(format!("{name}.parquet")),
                batch.schema(),
                &[batch],
            );
        }
    }

    /// Writes each table as a folder `NAME/` of `files` Parquet files with
    /// small row groups (rows dealt out round-robin, so order differs too).
    pub fn write_split(&self, dir: &Path, files: usize) {
        for (name, batch) in self.batches() {
            let folder = dir.join(name);
            std::fs::create_dir_all(&folder).unwrap();
            for f in 0..files {
                let idx: Vec<u32> = (0..batch.num_rows() as u32)
                    .filter(|i| (*i as usize) % files == f)
                    .rev()
                    .collect();
                let take = datafusion::arrow::compute::take_record_batch(
                    &batch,
                    &datafusion::arrow::array::UInt32Array::from(idx),
                )
                .unwrap();
                let props = datafusion::parquet::file::properties::WriterProperties::builder()
                    .set_max_row_group_row_count(Some(2))
                    .build();
                let file = std::fs::File::create(folder.join(format!("part-{f}.parquet"))).unwrap();
                let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(
                    file,
                    take.schema(),
                    Some(props),
                )
                .unwrap();
                w.write(&take).unwrap();
                w.close().unwrap();
            }
        }
    }
}

pub fn write_batches(path: &Path, schema: SchemaRef, batches: &[RecordBatch]) {
    write_batches_with(path, schema, batches, None)
}

/// As [`write_batches`], with the writer's properties (e.g. no statistics).
pub fn write_batches_with(
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
    properties: Option<datafusion::parquet::file::properties::WriterProperties>,
) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(file, schema, properties).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

/// One value of a features row, for comparisons.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    I(i64),
    B(bool),
    S(String),
}

pub type Row = BTreeMap<String, V>;

pub fn rows_of(batches: &[RecordBatch]) -> BTreeMap<i64, Row> {
    let mut out = BTreeMap::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let mut row = Row::new();
            for (f, col) in b.schema().fields().iter().zip(b.columns()) {
                let v = if col.is_null(r) {
                    V::Null
                } else {
                    match col.data_type() {
                        DataType::Int64 => V::I(col.as_primitive::<Int64Type>().value(r)),
                        DataType::Int32 => V::I(col.as_primitive::<Int32Type>().value(r) as i64),
                        DataType::UInt64 => V::I(
                            col.as_primitive::<datafusion::arrow::datatypes::UInt64Type>()
                                .value(r) as i64,
                        ),
                        DataType::Boolean => V::B(col.as_boolean().value(r)),
                        DataType::Utf8 => V::S(col.as_string::<i32>().value(r).to_string()),
                        DataType::Date32 => V::I(col.as_primitive::<Date32Type>().value(r) as i64),
                        other => panic!("unexpected type {other}"),
                    }
                };
                row.insert(f.name().clone(), v);
            }
            let id = match row.get("patient_id") {
                Some(V::I(i)) => *i,
                _ => panic!("row without patient_id"),
            };
            out.insert(id, row);
        }
    }
    out
}

/// Runs the real pipeline and returns the scored features by patient_id.
pub async fn features(dir: &Path, as_of: &str) -> BTreeMap<i64, Row> {
    rows_of(&feature_batches(dir, as_of).await)
}

/// The scored features table as the pipeline registers it, every batch (so
/// a caller can also count rows, which [`rows_of`] would merge by id).
pub async fn feature_batches(dir: &Path, as_of: &str) -> Vec<RecordBatch> {
    let options = RunOptions {
        extract: dir.to_path_buf(),
        as_of: Some(d(as_of)),
        ..Default::default()
    };
    let pipeline = Pipeline::open(&options)
        .await
        .unwrap_or_else(|e| panic!("pipeline failed: {e}"));
    pipeline.ensure_features().await.unwrap();
    pipeline
        .ctx
        .sql("SELECT * FROM features")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap()
}

pub fn b(row: &Row, col: &str) -> bool {
    match row.get(col) {
        Some(V::B(v)) => *v,
        other => panic!("{col} is not a boolean: {other:?}"),
    }
}

pub fn i(row: &Row, col: &str) -> Option<i64> {
    match row.get(col) {
        Some(V::I(v)) => Some(*v),
        Some(V::Null) => None,
        other => panic!("{col} is not an integer: {other:?}"),
    }
}

pub fn s(row: &Row, col: &str) -> String {
    match row.get(col) {
        Some(V::S(v)) => v.clone(),
        other => panic!("{col} is not a string: {other:?}"),
    }
}

/// Runs the `phm` binary from the package folder: (exit code, stdout, stderr).
/// A Parquet file phm wrote, read back whole as one batch.
pub fn read_parquet(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    let reader =
        datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

pub fn phm(args: &[&str]) -> (i32, String, String) {
    phm_with_env(args, &[])
}

/// [`phm`] with extra environment variables.
pub fn phm_with_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_phm"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The rows of a CSV file as maps from column name to cell text.
pub fn csv_maps(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

impl Extract {
    /// Three registered patients with a row in every table: the smallest
    /// extract that passes the contract, for tests that break one thing.
    pub fn minimal_valid() -> Self {
        let mut x = Extract::default().with_default_imd();
        for id in 1..=3 {
            x.patients.push(Patient::new(id));
        }
        x.events
            .push((1, code("hypertension"), "2023-01-01", Some(140.0)));
        x.appointments
            .push((1, "2023-01-01", "attended", "face_to_face"));
        x.ae.push((2, "2023-02-02"));
        x.admissions.push((3, "2023-03-03", "emergency"));
        x
    }
}

/// Replaces one table's file in an extract folder with columns of our own.
pub fn replace_table(dir: &Path, table: &str, columns: Vec<(&str, ArrayRef)>) {
    replace_table_with(dir, table, columns, None)
}

/// As [`replace_table`], written with the given Parquet writer properties.
pub fn replace_table_with(
    dir: &Path,
    table: &str,
    columns: Vec<(&str, ArrayRef)>,
    properties: Option<datafusion::parquet::file::properties::WriterProperties>,
) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    write_batches_with(
        &dir.join(format!("{table}.parquet")),
        schema,
        &[batch],
        properties,
    );
}

/// Every file and folder under `dir` (relative paths, sorted); empty when `dir` is absent.
pub fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let path = e.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().display().to_string());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The files (not folders) under `dir`, relative and sorted.
pub fn files(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|f| dir.join(f).is_file())
        .collect()
}

/// `phm demo` on the committed sample extract, run once per test process and
/// shared by every test that only reads its outputs (the reports, the golden
/// files), instead of each recomputing the same pipeline.
pub fn sample_demo() -> &'static Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sample-demo");
        let _ = std::fs::remove_dir_all(&out);
        let (code, stdout, err) = phm(&[
            "demo",
            "--quiet",
            "--extract",
            "sample-data/extract",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "phm demo on the sample data: {err}");
        assert!(stdout.contains("outputs written"), "{stdout}");
        out
    })
}
