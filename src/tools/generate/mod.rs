//! `phm generate`: a deterministic, parallel synthetic extract that looks like
//! a real English ICB (extract.md contract exactly). Patients are simulated in
//! fixed chunks, each with its own seeded random stream, so the output is the
//! same for a seed whatever the thread count. Writes atomically: the extract is
//! built in a temporary folder and renamed into place.

pub mod figures;
pub mod geography;
pub mod patient;
pub mod realism;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::output::ParquetOut;
use crate::rules::Codelist;
use geography::Geography;
use patient::{Buffers, CodeBook, Context, Windows};
use realism::Tally;

/// Patients simulated per random stream.
const CHUNK: u64 = 8_192;
/// Patients per output file; more than this and each table becomes a folder of parts.
const PART: u64 = 131_072;

/// Options of `phm generate`.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    pub patients: u64,
    pub seed: u64,
    pub as_of: NaiveDate,
    pub pcns: Option<usize>,
    pub icbs: usize,
    pub out: PathBuf,
    /// Share of patients given records dated after T (default 0: none).
    pub after_t_share: f64,
    /// Replace `out` if it already exists.
    pub force: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("--patients must be at least 1")]
    NoPatients,
    #[error("{} already exists and is not empty; pass --force to replace it", .0.display())]
    OutExists(PathBuf),
    #[error("--after-t-share must be between 0 and 1")]
    BadShare,
    #[error("--as-of {0} is too early for the windows before it")]
    BadAsOf(NaiveDate),
    #[error("the codelists lack `{0}`, which the generator needs")]
    MissingCodelist(String),
    #[error("interrupted: nothing was written")]
    Interrupted,
    #[error("cannot write {}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a generation produced, for the summary and realism table.
pub struct GenerateSummary {
    pub tally: Tally,
    pub practice_sizes: Vec<u64>,
    pub pcn_sizes: Vec<u64>,
    pub rows: TableRows,
}

/// Rows written per table.
#[derive(Debug, Default, Clone)]
pub struct TableRows {
    pub patients: u64,
    pub events: u64,
    pub appointments: u64,
    pub ae_attendances: u64,
    pub admissions: u64,
    pub imd: u64,
}

impl TableRows {
    /// Adds another part's rows (the IMD table is written once, not per part).
    fn add(&mut self, n: &TableRows) {
        self.patients += n.patients;
        self.events += n.events;
        self.appointments += n.appointments;
        self.ae_attendances += n.ae_attendances;
        self.admissions += n.admissions;
    }
}

fn days(d: NaiveDate) -> i32 {
    datafusion::arrow::datatypes::Date32Type::from_naive_date(d)
}

fn codebook(lists: &[Codelist]) -> Result<CodeBook, GenerateError> {
    let mut map = std::collections::BTreeMap::new();
    for l in lists {
        map.insert(
            l.name.clone(),
            l.codes.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        );
    }
    for needed in [
        "sp_referral",
        "sp_declined",
        "frailty",
        "pregnancy",
        "loneliness",
    ] {
        if !map.contains_key(needed) {
            return Err(GenerateError::MissingCodelist(needed.into()));
        }
    }
    let uncoded = crate::rules::parse_codelist(
        "uncoded_events",
        "src/generate/uncoded_events.csv",
        include_str!("uncoded_events.csv"),
    )
    .map(|l| l.codes.iter().map(|(c, _)| *c).collect())
    .unwrap_or_default();
    let blood_pressure = map.get("blood_pressure").cloned().unwrap_or_default();
    Ok(CodeBook {
        lists: map,
        uncoded,
        blood_pressure,
    })
}

fn io_error(path: &Path, source: std::io::Error) -> GenerateError {
    GenerateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks the configuration and the output folder before any work.
fn check(cfg: &GenerateConfig) -> Result<(), GenerateError> {
    if cfg.patients == 0 {
        return Err(GenerateError::NoPatients);
    }
    if !(0.0..=1.0).contains(&cfg.after_t_share) {
        return Err(GenerateError::BadShare);
    }
    if !crate::output::is_absent_or_empty(&cfg.out) && !cfg.force {
        return Err(GenerateError::OutExists(cfg.out.clone()));
    }
    Ok(())
}

/// The window starts of the realism tally (T minus 6, 9, 12 and 24 months).
fn windows(as_of: NaiveDate) -> Result<Windows, GenerateError> {
    let month = |m: u32| {
        crate::rules::config::months_before(as_of, m)
            .map(days)
            .map_err(|_| GenerateError::BadAsOf(as_of))
    };
    Ok(Windows {
        t: days(as_of),
        m6: month(6)?,
        m9: month(9)?,
        m12: month(12)?,
        m24: month(24)?,
    })
}

/// The tables of an extract, as files (one part) or folders of parts.
const TABLES: [&str; 5] = [
    "patients",
    "events",
    "appointments",
    "ae_attendances",
    "admissions",
];

/// The patient indices in the order they are written: by `patient_id`.
///
/// Real extracts are usually sorted by the pseudonymised key, one patient's
/// records together, and that is what lets a reader skip row groups by their
/// `patient_id` statistics (`phm explain`). A patient's practice still follows
/// its index, so ids stay unrelated to practice order.
pub fn write_order(patients: u64) -> Vec<u64> {
    let mut order: Vec<u64> = (0..patients).collect();
    order.par_sort_unstable_by_key(|&i| patient::patient_id(i));
    order
}

/// Simulates the patients at positions `first..last` of the write order into
/// their own files, chunk by chunk, each chunk with its own seeded stream (so
/// a seed gives the same extract however the parts are scheduled).
#[allow(clippy::too_many_arguments)]
fn simulate_part(
    cfg: &GenerateConfig,
    ctx: &Context,
    path: &dyn Fn(&str) -> PathBuf,
    order: &[u64],
    (first, last): (u64, u64),
    done: &AtomicU64,
    progress: &(dyn Fn(u64) + Sync),
    stop: &AtomicBool,
) -> Result<(Tally, TableRows), GenerateError> {
    let mut writers = Writers::create(path).map_err(|(p, e)| io_error(&p, e))?;
    let mut tally = Tally::default();
    let mut rows = TableRows::default();
    let mut chunk_start = first;
    while chunk_start < last {
        if stop.load(Ordering::Relaxed) {
            return Err(GenerateError::Interrupted);
        }
        let chunk_end = (chunk_start + CHUNK).min(last);
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(chunk_start / CHUNK);
        let mut b = Buffers::default();
        for &i in &order[chunk_start as usize..chunk_end as usize] {
            patient::simulate(i, ctx, &mut b, &mut tally, &mut rng);
        }
        writers
            .write(b, &mut rows)
            .map_err(|(p, e)| io_error(&p, e))?;
        let n =
            done.fetch_add(chunk_end - chunk_start, Ordering::Relaxed) + chunk_end - chunk_start;
        progress(n);
        chunk_start = chunk_end;
    }
    writers.commit().map_err(|(p, e)| io_error(&p, e))?;
    Ok((tally, rows))
}

/// The IMD reference table for the extract's LSOAs, written into `temp`,
/// with national ranks consistent with the deciles.
fn write_imd(geo: &Geography, temp: &Path) -> Result<u64, GenerateError> {
    let imd_schema = Arc::new(Schema::new(vec![
        Field::new("lsoa_code", DataType::Utf8, false),
        Field::new("imd_decile", DataType::Int32, false),
        Field::new("imd_rank", DataType::Int32, true),
    ]));
    let ranks: Int32Array = match geography::national_ranks(&geo.lsoas) {
        Some(r) => r.into(),
        None => Int32Array::new_null(geo.lsoas.len()),
    };
    let imd = RecordBatch::try_new(
        imd_schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                geo.lsoas.iter().map(|l| l.code.as_str()),
            )),
            Arc::new(Int32Array::from_iter_values(
                geo.lsoas.iter().map(|l| l.decile),
            )),
            Arc::new(ranks),
        ],
    )
    .map_err(|e| io_error(temp, std::io::Error::other(e)))?;
    let rows = imd.num_rows() as u64;
    let imd_path = temp.join("imd.parquet");
    crate::output::write_parquet(&imd_path, imd_schema, &[imd])
        .map_err(|e| io_error(&imd_path, e))?;
    Ok(rows)
}

/// Generates the extract described by `cfg` into `cfg.out`. `progress` is
/// called with the number of patients done so far. When `stop` becomes true
/// (Ctrl-C) the run ends with [`GenerateError::Interrupted`] at the next chunk
/// and its temporary folder is removed, so nothing half-written is left.
pub fn generate(
    cfg: &GenerateConfig,
    codelists: &[Codelist],
    progress: &(dyn Fn(u64) + Sync),
    stop: &AtomicBool,
) -> Result<GenerateSummary, GenerateError> {
    check(cfg)?;
    let codes = codebook(codelists)?;
    let mut geo_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    geo_rng.set_stream(u64::MAX);
    let pcns = cfg
        .pcns
        .unwrap_or_else(|| geography::default_pcns(cfg.patients));
    let geo = geography::build(cfg.patients, pcns, cfg.icbs, &mut geo_rng);
    let staged = crate::output::StagedDir::create(&cfg.out, "generating")
        .map_err(|e| io_error(&cfg.out, e))?;
    let temp = staged.path().to_path_buf();
    let ctx = Context {
        geo: &geo,
        codes: &codes,
        w: windows(cfg.as_of)?,
        after_t_share: cfg.after_t_share,
    };
    let parts = cfg.patients.div_ceil(PART);
    let split = parts > 1;
    if split {
        for name in TABLES {
            let d = temp.join(name);
            std::fs::create_dir_all(&d).map_err(|e| io_error(&d, e))?;
        }
    }
    let order = write_order(cfg.patients);
    let done = AtomicU64::new(0);
    let results: Vec<Result<(Tally, TableRows), GenerateError>> = (0..parts)
        .into_par_iter()
        .map(|part| {
            let path = |name: &str| {
                if split {
                    temp.join(name).join(format!("part-{part:05}.parquet"))
                } else {
                    temp.join(format!("{name}.parquet"))
                }
            };
            let range = (part * PART, ((part + 1) * PART).min(cfg.patients));
            simulate_part(cfg, &ctx, &path, &order, range, &done, progress, stop)
        })
        .collect();
    if stop.load(Ordering::Relaxed) {
        return Err(GenerateError::Interrupted);
    }
    let mut tally = Tally::default();
    let mut rows = TableRows::default();
    for r in results {
        let (t, n) = r?;
        tally.merge(&t);
        rows.add(&n);
    }
    rows.imd = write_imd(&geo, &temp)?;
    if stop.load(Ordering::Relaxed) {
        return Err(GenerateError::Interrupted);
    }
    staged.commit().map_err(|e| io_error(&cfg.out, e))?;
    let mut pcn_sizes = vec![0u64; geo.pcns.len()];
    for p in &geo.practices {
        pcn_sizes[p.pcn] += p.size;
    }
    Ok(GenerateSummary {
        tally,
        practice_sizes: geo.practices.iter().map(|p| p.size).collect(),
        pcn_sizes,
        rows,
    })
}

pub fn patients_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
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
    ]))
}

pub fn events_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("patient_id", DataType::Int64, false),
        Field::new("code", DataType::Int64, false),
        Field::new("date", DataType::Date32, false),
        Field::new("value", DataType::Float64, true),
    ]))
}

pub fn appointments_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("patient_id", DataType::Int64, false),
        Field::new("date", DataType::Date32, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("mode", DataType::Utf8, false),
    ]))
}

pub fn ae_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("patient_id", DataType::Int64, false),
        Field::new("arrival_date", DataType::Date32, false),
    ]))
}

pub fn admissions_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("patient_id", DataType::Int64, false),
        Field::new("admission_date", DataType::Date32, false),
        Field::new("method", DataType::Utf8, false),
    ]))
}

struct Writers {
    patients: (PathBuf, ParquetOut),
    events: (PathBuf, ParquetOut),
    appointments: (PathBuf, ParquetOut),
    ae: (PathBuf, ParquetOut),
    admissions: (PathBuf, ParquetOut),
}

type IoFail = (PathBuf, std::io::Error);

impl Writers {
    fn create(path: &dyn Fn(&str) -> PathBuf) -> Result<Self, IoFail> {
        let open = |name: &str, schema: SchemaRef| {
            let p = path(name);
            ParquetOut::create(&p, schema)
                .map(|w| (p.clone(), w))
                .map_err(|e| (p, e))
        };
        Ok(Writers {
            patients: open("patients", patients_schema())?,
            events: open("events", events_schema())?,
            appointments: open("appointments", appointments_schema())?,
            ae: open("ae_attendances", ae_schema())?,
            admissions: open("admissions", admissions_schema())?,
        })
    }

    fn write(&mut self, b: Buffers, rows: &mut TableRows) -> Result<(), IoFail> {
        fn put(
            w: &mut (PathBuf, ParquetOut),
            schema: SchemaRef,
            cols: Vec<ArrayRef>,
        ) -> Result<u64, IoFail> {
            let batch =
                RecordBatch::try_new(schema, cols).expect("generator columns match their schema");
            w.1.write(&batch).map_err(|e| (w.0.clone(), e))?;
            Ok(batch.num_rows() as u64)
        }
        rows.patients += put(
            &mut self.patients,
            patients_schema(),
            vec![
                Arc::new(Int64Array::from(b.patient_id)),
                Arc::new(StringArray::from(b.practice_code)),
                Arc::new(StringArray::from(b.pcn_code)),
                Arc::new(StringArray::from(b.icb_code)),
                Arc::new(StringArray::from(b.lsoa_code)),
                Arc::new(StringArray::from(b.sex)),
                Arc::new(Date32Array::from(b.birth_date)),
                Arc::new(StringArray::from(b.ethnicity)),
                Arc::new(Date32Array::from(b.registered_from)),
                Arc::new(Date32Array::from(b.registered_to)),
                Arc::new(Date32Array::from(b.death_date)),
            ],
        )?;
        rows.events += put(
            &mut self.events,
            events_schema(),
            vec![
                Arc::new(Int64Array::from(b.ev_patient)),
                Arc::new(Int64Array::from(b.ev_code)),
                Arc::new(Date32Array::from(b.ev_date)),
                Arc::new(Float64Array::from(b.ev_value)),
            ],
        )?;
        rows.appointments += put(
            &mut self.appointments,
            appointments_schema(),
            vec![
                Arc::new(Int64Array::from(b.ap_patient)),
                Arc::new(Date32Array::from(b.ap_date)),
                Arc::new(StringArray::from(b.ap_status)),
                Arc::new(StringArray::from(b.ap_mode)),
            ],
        )?;
        rows.ae_attendances += put(
            &mut self.ae,
            ae_schema(),
            vec![
                Arc::new(Int64Array::from(b.ae_patient)),
                Arc::new(Date32Array::from(b.ae_date)),
            ],
        )?;
        rows.admissions += put(
            &mut self.admissions,
            admissions_schema(),
            vec![
                Arc::new(Int64Array::from(b.adm_patient)),
                Arc::new(Date32Array::from(b.adm_date)),
                Arc::new(StringArray::from(b.adm_method)),
            ],
        )?;
        Ok(())
    }

    fn commit(self) -> Result<(), IoFail> {
        for (path, w) in [
            self.patients,
            self.events,
            self.appointments,
            self.ae,
            self.admissions,
        ] {
            w.commit().map_err(|e| (path, e))?;
        }
        Ok(())
    }
}
