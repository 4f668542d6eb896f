//! The evidence columns of a clinical lead's list: for every features column
//! the score reads and `explain.toml` traces, the date of the latest record
//! behind it (`lonely_last = 2024-11-02`), so a lead can check a patient
//! without opening the record system. A date is shown only where the column
//! scored for the patient (an A&E visit below the HFU threshold is not
//! evidence of `hfu_ae`), so each date stands beside a point of
//! `need_reasons`. The records are the ones `phm explain`
//! shows, read for all listed patients at once: one scan of `events` for the
//! coded flags and one of each activity table, joined to the listed ids.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;

use super::config::{CountEvidence, ExplainConfig, FlagEvidence, Window};
use crate::engine::decode::{int_at, text_at, Columns};
use crate::error::{PhmError, Result};
use crate::pipeline::Pipeline;

/// The table of listed patient ids the evidence queries join to.
const LISTED: &str = "phm_listed_patients";

/// Latest-record dates per listed patient, one per evidence column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// `COLUMN_last`, in scoring.toml's order of the columns.
    pub columns: Vec<String>,
    dates: BTreeMap<i64, Vec<Option<String>>>,
}

impl Evidence {
    /// The patient's dates in the order of `columns` (blank when no record).
    pub fn row(&self, patient_id: i64) -> Vec<String> {
        match self.dates.get(&patient_id) {
            Some(dates) => dates
                .iter()
                .map(|d| d.clone().unwrap_or_default())
                .collect(),
            None => vec![String::new(); self.columns.len()],
        }
    }
}

/// Where one evidence column's dates come from.
enum Source<'a> {
    Coded(&'a FlagEvidence),
    Counted(&'a CountEvidence),
}

/// The scored columns with a trace in explain.toml, in scoring.toml's order,
/// each once (ltc2 and ltc4 both read ltc_count).
fn sources<'a>(pipeline: &Pipeline, config: &'a ExplainConfig) -> Vec<(String, Source<'a>)> {
    let mut out: Vec<(String, Source<'a>)> = Vec::new();
    for component in &pipeline.scoring.components {
        let column = &component.column;
        if out.iter().any(|(c, _)| c == column) {
            continue;
        }
        if let Some(flag) = config.flags.get(column) {
            out.push((column.clone(), Source::Coded(flag)));
        } else if let Some(count) = config
            .thresholds
            .get(column)
            .and_then(|count| config.counts.get(count))
        {
            out.push((column.clone(), Source::Counted(count)));
        }
    }
    out
}

/// `AND date > $NAME_since` for a named window; nothing for "ever".
fn window_condition(date: &str, window: &Window) -> String {
    match window {
        Window::Ever => String::new(),
        Window::Named(name) => format!(" AND {date} > ${name}_since"),
    }
}

/// The latest record behind each scored column, for `ids`.
pub async fn latest_records(pipeline: &Pipeline, ids: &[i64]) -> Result<Evidence> {
    let origin = format!("{}/explain.toml", pipeline.rules.origin);
    let config = super::load_config(pipeline, &origin)?;
    let sources = sources(pipeline, &config);
    let mut evidence = Evidence {
        columns: sources.iter().map(|(c, _)| format!("{c}_last")).collect(),
        dates: BTreeMap::new(),
    };
    if sources.is_empty() || ids.is_empty() {
        return Ok(evidence);
    }
    let schema = Arc::new(Schema::new(vec![Field::new(
        "patient_id",
        DataType::Int64,
        false,
    )]));
    let column: ArrayRef = Arc::new(Int64Array::from(ids.to_vec()));
    let batch = RecordBatch::try_new(schema.clone(), vec![column])
        .map_err(|e| PhmError::Internal(format!("listed patients: {e}")))?;
    let listed = MemTable::try_new(schema, vec![vec![batch]])?;
    pipeline.ctx.register_table(LISTED, Arc::new(listed))?;
    let mut watch = crate::engine::timings::Stopwatch::start();
    let result = match gather(pipeline, &origin, &sources, &mut evidence).await {
        Ok(()) => keep_scored(pipeline, &sources, &mut evidence).await,
        Err(e) => Err(e),
    };
    pipeline.ctx.deregister_table(LISTED)?;
    watch.lap("propose: list evidence");
    result?;
    Ok(evidence)
}

async fn gather(
    pipeline: &Pipeline,
    origin: &str,
    sources: &[(String, Source<'_>)],
    evidence: &mut Evidence,
) -> Result<()> {
    let width = sources.len();
    let mut found = latest_coded(pipeline, origin, sources).await?;
    found.extend(latest_counted(pipeline, origin, sources).await?);
    for (id, position, date) in found {
        evidence
            .dates
            .entry(id)
            .or_insert_with(|| vec![None; width])[position] = Some(date);
    }
    Ok(())
}

/// Every coded flag from one scan of events: the latest date per column, as
/// (patient_id, the column's position in `sources`, date).
async fn latest_coded(
    pipeline: &Pipeline,
    origin: &str,
    sources: &[(String, Source<'_>)],
) -> Result<Vec<(i64, usize, String)>> {
    let coded: Vec<(usize, &String, &FlagEvidence)> = sources
        .iter()
        .enumerate()
        .filter_map(|(i, (c, s))| match s {
            Source::Coded(f) => Some((i, c, *f)),
            Source::Counted(_) => None,
        })
        .collect();
    let mut found = Vec::new();
    if coded.is_empty() {
        return Ok(found);
    }
    let latest = coded
        .iter()
        .map(|(_, column, flag)| {
            let lists = flag
                .codelists
                .iter()
                .map(|l| format!("'{l}'"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "CAST(MAX(CASE WHEN list_name IN ({lists}){window} THEN e.date END) AS VARCHAR) AS {column}",
                window = window_condition("e.date", &flag.window)
            )
        })
        .collect::<Vec<_>>()
        .join(",\n  ");
    let sql = format!(
        "SELECT e.patient_id,\n  {latest}\n\
         FROM events e JOIN {LISTED} l ON l.patient_id = e.patient_id \
         JOIN (SELECT code, CAST(codelist AS VARCHAR) AS list_name FROM codelists) c ON c.code = e.code \
         WHERE e.date <= $as_of GROUP BY e.patient_id"
    );
    for batch in pipeline.run_sql(origin, &sql).await?.1 {
        let c = Columns::new(&batch, origin);
        let ids = c.int("patient_id")?;
        for (position, column, _) in &coded {
            let dates = c.text(column)?;
            for r in 0..c.rows() {
                if let (Some(id), Some(date)) = (int_at(&ids, r), text_at(&dates, r)) {
                    found.push((id, *position, date.to_string()));
                }
            }
        }
    }
    Ok(found)
}

/// Each counted flag: the latest counted row of its table, as
/// (patient_id, the column's position in `sources`, date).
async fn latest_counted(
    pipeline: &Pipeline,
    origin: &str,
    sources: &[(String, Source<'_>)],
) -> Result<Vec<(i64, usize, String)>> {
    let mut found = Vec::new();
    for (position, (_, source)) in sources.iter().enumerate() {
        let Source::Counted(count) = source else {
            continue;
        };
        let condition = if count.condition.trim().is_empty() {
            String::new()
        } else {
            format!(" AND ({})", count.condition)
        };
        let sql = format!(
            "SELECT t.patient_id, CAST(MAX(t.{date}) AS VARCHAR) AS latest \
             FROM {table} t JOIN {LISTED} l ON l.patient_id = t.patient_id \
             WHERE t.{date} <= $as_of{window}{condition} GROUP BY t.patient_id",
            date = count.date,
            table = count.table,
            window = window_condition(&format!("t.{}", count.date), &count.window),
        );
        for batch in pipeline.run_sql(origin, &sql).await?.1 {
            let c = Columns::new(&batch, origin);
            let (ids, dates) = (c.int("patient_id")?, c.text("latest")?);
            for r in 0..c.rows() {
                if let (Some(id), Some(date)) = (int_at(&ids, r), text_at(&dates, r)) {
                    found.push((id, position, date.to_string()));
                }
            }
        }
    }
    Ok(found)
}

/// Blanks each date whose column did not score for the patient, deciding
/// "scored" as the score itself does (scoring.toml, on the features row).
async fn keep_scored(
    pipeline: &Pipeline,
    sources: &[(String, Source<'_>)],
    evidence: &mut Evidence,
) -> Result<()> {
    let origin = "features (evidence columns)";
    let columns: Vec<&str> = pipeline
        .scoring
        .components
        .iter()
        .map(|c| c.column.as_str())
        .fold(Vec::new(), |mut seen, c| {
            if !seen.contains(&c) {
                seen.push(c);
            }
            seen
        });
    let sql = format!(
        "SELECT f.patient_id, {} FROM features f JOIN {LISTED} l ON l.patient_id = f.patient_id",
        columns
            .iter()
            .map(|c| format!("f.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let column_of: BTreeMap<&str, &str> = pipeline
        .scoring
        .components
        .iter()
        .map(|c| (c.name.as_str(), c.column.as_str()))
        .collect();
    for batch in pipeline.run_sql(origin, &sql).await?.1 {
        let ids = Columns::new(&batch, origin).int("patient_id")?;
        for r in 0..batch.num_rows() {
            let Some(id) = int_at(&ids, r) else { continue };
            let Some(dates) = evidence.dates.get_mut(&id) else {
                continue;
            };
            let scored: Vec<&str> =
                crate::features::scoring::scoring_components(&pipeline.scoring, &batch, r)?
                    .into_iter()
                    .filter_map(|(name, _)| column_of.get(name).copied())
                    .collect();
            for (position, (column, _)) in sources.iter().enumerate() {
                if !scored.contains(&column.as_str()) {
                    dates[position] = None;
                }
            }
        }
    }
    Ok(())
}
