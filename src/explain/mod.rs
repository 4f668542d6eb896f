//! `phm explain`: one patient's features row with the records behind it, so a
//! clinical lead can check why a patient is on a list, and an analyst why a
//! flag is set. The features row comes from the rule views themselves
//! (filtered to the patients asked for, then scored as `phm features` scores
//! it); the records come from direct scans of `events` and the activity
//! tables filtered by patient_id, which DataFusion prunes to the row groups
//! whose patient_id statistics can hold them. `queries/explain.toml` says
//! which codelists and window stand behind each column (config.rs).

pub mod config;
pub mod evidence;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::array::Array;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use serde::Serialize;

use crate::engine::decode::{int_at, text_at, Columns};
use crate::error::{PhmError, Result};
use crate::features::scoring;
use crate::pipeline::Pipeline;
use crate::rules::views::UNSCORED_FEATURES;
use config::{ExplainConfig, Window};

/// Everything `phm explain` shows for one patient.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub patient_id: i64,
    /// Registered at T (in the features table), or why not.
    pub registered: bool,
    pub registration: Registration,
    /// Every features column with its value, in the table's order (empty
    /// when the patient is not registered at T).
    pub features: Vec<FeatureValue>,
    /// The components that score, in `need_reasons` order.
    pub score_components: Vec<ScoreComponent>,
    pub high_need_score: i32,
    /// The flag columns of explain.toml, each with the records that set it.
    pub flags: Vec<FlagTrace>,
    /// The count columns of explain.toml, each with the rows it counts.
    pub counts: Vec<CountTrace>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    pub registered_from: Option<String>,
    pub registered_to: Option<String>,
    pub death_date: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeatureValue {
    pub column: String,
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoreComponent {
    pub name: String,
    pub points: i32,
}

/// The dates a record must fall in: after `after` (none for "ever"), up to T.
#[derive(Debug, Clone, Serialize)]
pub struct WindowSpan {
    pub name: String,
    pub after: Option<String>,
    pub until: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodedRecord {
    pub date: String,
    pub code: i64,
    pub term: String,
    pub codelist: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlagTrace {
    pub column: String,
    pub value: serde_json::Value,
    pub codelists: Vec<String>,
    pub window: WindowSpan,
    /// Newest first.
    pub records: Vec<CodedRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CountTrace {
    pub column: String,
    pub value: serde_json::Value,
    pub table: String,
    pub condition: String,
    pub window: WindowSpan,
    /// The dates of the rows counted, newest first.
    pub dates: Vec<String>,
}

/// Explains `ids` (in the order given, each once). A patient_id not in the
/// extract's `patients` table is an input error naming it.
pub async fn explain(pipeline: &Pipeline, ids: &[i64]) -> Result<Vec<Explanation>> {
    let origin = format!("{}/explain.toml", pipeline.rules.origin);
    let config = load_config(pipeline, &origin)?;
    let mut unique = Vec::new();
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    if unique.is_empty() {
        return Err(PhmError::Input(
            "phm explain: give at least one patient_id".into(),
        ));
    }
    let gathered = gather(pipeline, &config, &origin, &unique).await?;
    let spans = Spans::new(pipeline)?;
    // Flags and counts in the features table's column order.
    let position = |column: &str| {
        gathered
            .features
            .as_ref()
            .and_then(|(batch, _)| batch.schema().index_of(column).ok())
            .unwrap_or(usize::MAX)
    };
    let mut flags: Vec<(&String, &config::FlagEvidence)> = config.flags.iter().collect();
    flags.sort_by_key(|(column, _)| position(column));
    let mut counts: Vec<(&String, &config::CountEvidence)> = config.counts.iter().collect();
    counts.sort_by_key(|(column, _)| position(column));
    unique
        .into_iter()
        .map(|id| assemble(pipeline, &gathered, &spans, &flags, &counts, id))
        .collect()
}

/// explain.toml, checked against the rules' windows and codelists.
fn load_config(pipeline: &Pipeline, origin: &str) -> Result<ExplainConfig> {
    let windows = pipeline.rules.config()?.windows;
    let codelists: BTreeSet<String> = pipeline
        .rules
        .codelists()?
        .into_iter()
        .map(|c| c.name)
        .collect();
    Ok(ExplainConfig::parse(
        origin,
        pipeline.rules.file("explain.toml")?,
        &windows,
        &codelists,
    )?)
}

/// What the queries return for the patients asked for.
struct Gathered {
    registrations: BTreeMap<i64, Registration>,
    /// The scored features rows and each registered patient's row.
    features: Option<(RecordBatch, BTreeMap<i64, usize>)>,
    records: BTreeMap<i64, Vec<CodedRecord>>,
    /// Per count column, per patient: the dates counted.
    counted: BTreeMap<String, BTreeMap<i64, Vec<String>>>,
}

async fn gather(
    pipeline: &Pipeline,
    config: &ExplainConfig,
    origin: &str,
    ids: &[i64],
) -> Result<Gathered> {
    let list = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    // A few patients among millions: filter rows while decoding, so the
    // other columns are decoded only for the rows of these patients (the
    // whole-table commands keep it off, where it costs more than it saves).
    for setting in [
        "SET datafusion.execution.parquet.pushdown_filters = true",
        "SET datafusion.execution.parquet.reorder_filters = true",
    ] {
        pipeline.ctx.sql(setting).await?.collect().await?;
    }
    let mut watch = crate::engine::timings::Stopwatch::start();
    let registrations = registrations(pipeline, &list).await?;
    watch.lap("explain: registrations");
    let missing: Vec<String> = ids
        .iter()
        .filter(|id| !registrations.contains_key(id))
        .map(i64::to_string)
        .collect();
    if !missing.is_empty() {
        return Err(PhmError::Input(format!(
            "{}: patient_id {} not in the `patients` table",
            pipeline.extract.dir.display(),
            missing.join(", ")
        )));
    }
    let features = scored_features(pipeline, &list).await?;
    watch.lap("explain: features row");
    let records = coded_records(pipeline, &list).await?;
    watch.lap("explain: coded records");
    let mut counted = BTreeMap::new();
    for (column, count) in &config.counts {
        let dates = counted_dates(pipeline, origin, &list, count).await?;
        counted.insert(column.clone(), dates);
    }
    watch.lap("explain: counted rows");
    Ok(Gathered {
        registrations,
        features,
        records,
        counted,
    })
}

/// The dates each window covers at T (rules.toml [windows]).
struct Spans {
    as_of: chrono::NaiveDate,
    months: BTreeMap<String, u32>,
}

impl Spans {
    fn new(pipeline: &Pipeline) -> Result<Self> {
        Ok(Spans {
            as_of: pipeline.as_of,
            months: pipeline.rules.config()?.windows,
        })
    }

    fn of(&self, window: &Window) -> Result<WindowSpan> {
        let after = match window {
            Window::Ever => None,
            Window::Named(name) => {
                let months = self.months.get(name).copied().unwrap_or(0);
                Some(crate::rules::config::months_before(self.as_of, months)?)
            }
        };
        Ok(WindowSpan {
            name: window.to_string(),
            after: after.map(|d| d.to_string()),
            until: self.as_of.to_string(),
        })
    }
}

impl WindowSpan {
    /// `date` (YYYY-MM-DD) is after the start and up to T, as the rules read it.
    pub fn holds(&self, date: &str) -> bool {
        date <= self.until.as_str() && self.after.as_deref().is_none_or(|after| date > after)
    }
}

/// One patient's explanation from what was gathered.
fn assemble(
    pipeline: &Pipeline,
    gathered: &Gathered,
    spans: &Spans,
    flags: &[(&String, &config::FlagEvidence)],
    counts: &[(&String, &config::CountEvidence)],
    id: i64,
) -> Result<Explanation> {
    let row = gathered
        .features
        .as_ref()
        .and_then(|(batch, rows)| rows.get(&id).map(|&r| (batch, r)));
    let value_of = |column: &str| -> serde_json::Value {
        row.and_then(|(batch, r)| {
            batch
                .column_by_name(column)
                .map(|a| json_value(a.as_ref(), r))
        })
        .unwrap_or(serde_json::Value::Null)
    };
    let registered = row.is_some();
    let mut flag_traces = Vec::new();
    for &(column, flag) in flags {
        let window = spans.of(&flag.window)?;
        let records = gathered
            .records
            .get(&id)
            .into_iter()
            .flatten()
            .filter(|r| registered && flag.codelists.contains(&r.codelist) && window.holds(&r.date))
            .cloned()
            .collect();
        flag_traces.push(FlagTrace {
            column: column.clone(),
            value: value_of(column),
            codelists: flag.codelists.clone(),
            window,
            records,
        });
    }
    let mut count_traces = Vec::new();
    for &(column, count) in counts {
        let dates = gathered
            .counted
            .get(column)
            .and_then(|by_patient| by_patient.get(&id))
            .filter(|_| registered)
            .cloned()
            .unwrap_or_default();
        count_traces.push(CountTrace {
            column: column.clone(),
            value: value_of(column),
            table: count.table.clone(),
            condition: count.condition.clone(),
            window: spans.of(&count.window)?,
            dates,
        });
    }
    let (features, score_components) = match row {
        Some((batch, r)) => features_row(pipeline, batch, r)?,
        None => (Vec::new(), Vec::new()),
    };
    Ok(Explanation {
        patient_id: id,
        registered,
        registration: gathered.registrations[&id].clone(),
        features,
        score_components,
        high_need_score: pipeline.scoring.need.high_need_score,
        flags: flag_traces,
        counts: count_traces,
    })
}

/// Row `r` of the scored features: every column's value, and the
/// components that scored.
fn features_row(
    pipeline: &Pipeline,
    batch: &RecordBatch,
    r: usize,
) -> Result<(Vec<FeatureValue>, Vec<ScoreComponent>)> {
    let values = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, a)| FeatureValue {
            column: f.name().clone(),
            value: json_value(a.as_ref(), r),
        })
        .collect();
    let components = scoring::scoring_components(&pipeline.scoring, batch, r)?
        .into_iter()
        .map(|(name, points)| ScoreComponent {
            name: name.to_string(),
            points,
        })
        .collect();
    Ok((values, components))
}

/// A cell as JSON: numbers and booleans as themselves, null as null,
/// anything else as its text.
fn json_value(array: &dyn Array, row: usize) -> serde_json::Value {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type};
    if array.is_null(row) {
        return serde_json::Value::Null;
    }
    match array.data_type() {
        DataType::Boolean => array.as_boolean().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        _ => array_value_to_string(array, row)
            .map(serde_json::Value::String)
            .unwrap_or(serde_json::Value::Null),
    }
}

/// Registration dates of the patients found in `patients`.
async fn registrations(pipeline: &Pipeline, list: &str) -> Result<BTreeMap<i64, Registration>> {
    let sql = format!(
        "SELECT patient_id, CAST(registered_from AS VARCHAR) AS registered_from, \
         CAST(registered_to AS VARCHAR) AS registered_to, CAST(death_date AS VARCHAR) AS death_date \
         FROM patients WHERE patient_id IN ({list})"
    );
    let mut out = BTreeMap::new();
    for batch in pipeline.run_sql("explain: patients", &sql).await?.1 {
        let c = Columns::new(&batch, "explain: patients");
        let (id, from, to, death) = (
            c.int("patient_id")?,
            c.text("registered_from")?,
            c.text("registered_to")?,
            c.text("death_date")?,
        );
        for r in 0..c.rows() {
            if let Some(patient) = int_at(&id, r) {
                let text = |a| text_at(a, r).map(str::to_string);
                out.insert(
                    patient,
                    Registration {
                        registered_from: text(&from),
                        registered_to: text(&to),
                        death_date: text(&death),
                    },
                );
            }
        }
    }
    Ok(out)
}

/// The scored features rows of the patients (one batch), with each
/// patient's row; None when none of them is registered at T.
async fn scored_features(
    pipeline: &Pipeline,
    list: &str,
) -> Result<Option<(RecordBatch, BTreeMap<i64, usize>)>> {
    let origin = format!("{}/sql/features.sql", pipeline.rules.origin);
    let sql = format!("SELECT * FROM {UNSCORED_FEATURES} WHERE patient_id IN ({list})");
    let batches = pipeline.run_sql(&origin, &sql).await?.1;
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    let unscored = datafusion::arrow::compute::concat_batches(&first.schema(), &batches)
        .map_err(|e| PhmError::Engine(e.into()))?;
    if unscored.num_rows() == 0 {
        return Ok(None);
    }
    let schema = scoring::scored_schema(&unscored.schema());
    let scored = scoring::score_batch(&pipeline.scoring, &unscored, &schema)?;
    let ids = Columns::new(&scored, &origin).int("patient_id")?;
    let rows = (0..scored.num_rows())
        .filter_map(|r| int_at(&ids, r).map(|id| (id, r)))
        .collect();
    Ok(Some((scored, rows)))
}

/// Every coded event of the patients up to T whose code is in a codelist
/// (an event in two lists is a record of each), newest first.
async fn coded_records(pipeline: &Pipeline, list: &str) -> Result<BTreeMap<i64, Vec<CodedRecord>>> {
    let sql = format!(
        "SELECT e.patient_id, CAST(e.date AS VARCHAR) AS record_date, e.code, c.term, \
         CAST(c.codelist AS VARCHAR) AS list_name \
         FROM events e JOIN codelists c ON c.code = e.code \
         WHERE e.patient_id IN ({list}) AND e.date <= $as_of \
         ORDER BY e.patient_id, e.date DESC, e.code, c.codelist"
    );
    let mut out: BTreeMap<i64, Vec<CodedRecord>> = BTreeMap::new();
    for batch in pipeline.run_sql("explain: events", &sql).await?.1 {
        let c = Columns::new(&batch, "explain: events");
        let (id, date, code, term, codelist) = (
            c.int("patient_id")?,
            c.text("record_date")?,
            c.int("code")?,
            c.text("term")?,
            c.text("list_name")?,
        );
        for r in 0..c.rows() {
            let (Some(patient), Some(date), Some(code)) =
                (int_at(&id, r), text_at(&date, r), int_at(&code, r))
            else {
                continue;
            };
            out.entry(patient).or_default().push(CodedRecord {
                date: date.to_string(),
                code,
                term: text_at(&term, r).unwrap_or("").to_string(),
                codelist: text_at(&codelist, r).unwrap_or("").to_string(),
            });
        }
    }
    Ok(out)
}

/// The dates of the rows a count column counts, per patient, newest first.
async fn counted_dates(
    pipeline: &Pipeline,
    origin: &str,
    list: &str,
    count: &config::CountEvidence,
) -> Result<BTreeMap<i64, Vec<String>>> {
    let window = match &count.window {
        Window::Ever => String::new(),
        Window::Named(name) => format!("AND {} > ${name}_since", count.date),
    };
    let condition = if count.condition.trim().is_empty() {
        String::new()
    } else {
        format!("AND ({})", count.condition)
    };
    let sql = format!(
        "SELECT patient_id, CAST({date} AS VARCHAR) AS counted_date FROM {table} \
         WHERE patient_id IN ({list}) AND {date} <= $as_of {window} {condition} \
         ORDER BY patient_id, {date} DESC",
        date = count.date,
        table = count.table,
    );
    let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for batch in pipeline.run_sql(origin, &sql).await?.1 {
        let c = Columns::new(&batch, origin);
        let (id, date) = (c.int("patient_id")?, c.text("counted_date")?);
        for r in 0..c.rows() {
            if let (Some(patient), Some(date)) = (int_at(&id, r), text_at(&date, r)) {
                out.entry(patient).or_default().push(date.to_string());
            }
        }
    }
    Ok(out)
}
