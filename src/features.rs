//! Runs the rules of `queries/sql/` over a registered extract: each file
//! becomes a view named after it, with `$as_of`, the window starts and the
//! thresholds bound as DataFusion parameters (never pasted into SQL). The chain
//! ends in `features_unscored`; scoring (scoring.rs) is applied to its stream.
//! One streaming plan: each source table is scanned once and aggregated per
//! patient before the joins. When the features fit in half the memory pool,
//! the plan's final `ORDER BY patient_id` is left to key_order.rs, which
//! orders and writes the scored rows on all cores; otherwise DataFusion sorts,
//! spilling as it needs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Date32Type, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::runtime::SpawnedTask;
use datafusion::dataframe::DataFrame;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit, MemoryReservation};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Expr, LogicalPlan, SortExpr};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use futures::StreamExt;

use crate::engine::{self, EngineOptions};
use crate::error::{PhmError, Result};
use crate::extract::{self, validate, OpenedExtract, ValidationReport};
use crate::key_order::KeyOrdered;
use crate::rules::{self, RuleSet, RulesError};
use crate::scoring::{self, ScoringConfig};

/// The rule files, in the order they build on each other. Each `sql/NAME.sql`
/// is registered as the view NAME (the last as `features_unscored`).
pub const RULE_FILES: [&str; 8] = [
    "registered",
    "coded_history",
    "activity",
    "core20plus",
    "clinical_areas",
    "hfu",
    "social_prescribing",
    "features",
];

/// Where the inputs are and how to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub extract: PathBuf,
    pub imd: Option<PathBuf>,
    pub rules: Option<PathBuf>,
    pub as_of: Option<NaiveDate>,
    pub engine: EngineOptions,
}

/// An extract opened, validated and with every rule view registered.
pub struct Pipeline {
    pub ctx: SessionContext,
    pub as_of: NaiveDate,
    pub rules: RuleSet,
    pub scoring: ScoringConfig,
    pub extract: OpenedExtract,
    /// Warnings found while validating (errors stop `open`).
    pub warnings: ValidationReport,
    /// Where the scored features are kept for the downstream queries.
    scratch: ScratchFiles,
    /// False on a Ballista cluster, whose executors sort; true on this machine.
    local: bool,
}

/// The scored features of every partition, held in memory within a
/// reservation of the session's memory pool, with the order of their rows.
struct HeldFeatures {
    rows: KeyOrdered,
    _reservation: Arc<MemoryReservation>,
}

/// Rows gathered and written per step when writing held features in order:
/// large enough that the columns' parallel encoding has work, small enough
/// that the ordered copy stays a few megabytes.
const ORDERED_WRITE_ROWS: usize = 64 * 1024;

/// Temporary files a run keeps beside its spill files, removed when the
/// pipeline is dropped (end of the run, an error, or Ctrl-C).
struct ScratchFiles {
    dir: PathBuf,
    files: std::sync::Mutex<Vec<PathBuf>>,
}

impl ScratchFiles {
    fn new(dir: Option<&Path>) -> Self {
        ScratchFiles {
            dir: dir
                .map(Path::to_path_buf)
                .unwrap_or_else(std::env::temp_dir),
            files: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// A new file name, unique in this process (several pipelines may run at
    /// once, as in the tests) and across processes (the pid).
    fn next_path(&self, stem: &str) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let path = self
            .dir
            .join(format!(".phm-{stem}-{}-{n}.parquet", std::process::id()));
        files.push(path.clone());
        path
    }
}

impl Drop for ScratchFiles {
    fn drop(&mut self) {
        let files = self.files.get_mut().unwrap_or_else(|e| e.into_inner());
        for f in files.iter() {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// The latest event date: the default reference date (extract.md).
pub async fn latest_event_date(ctx: &SessionContext) -> Result<Option<NaiveDate>> {
    let batches = ctx
        .sql("SELECT max(date) AS latest FROM events")
        .await?
        .collect()
        .await?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    Ok(batches.first().and_then(|b| {
        let a = b.column(0).as_primitive::<Date32Type>();
        (!a.is_empty() && a.is_valid(0)).then(|| epoch + chrono::Duration::days(a.value(0) as i64))
    }))
}

impl Pipeline {
    /// Opens the extract, validates it (errors stop here, listing every
    /// breach), and registers codelists and rule views.
    pub async fn open(options: &RunOptions) -> Result<Self> {
        let rules = RuleSet::load(options.rules.as_deref())?;
        let config = rules.config()?;
        let scoring = ScoringConfig::parse(
            &format!("{}/scoring.toml", rules.origin),
            rules.file("scoring.toml")?,
        )?;
        let codelists = rules.codelists()?;
        let ctx = engine::connect(&options.engine).await?;
        let mut opened =
            extract::register_extract(&ctx, &options.extract, options.imd.as_deref()).await?;
        let mut report = std::mem::take(&mut opened.report);
        if report.has_errors() {
            return Err(extract::ExtractError::Invalid { report }.into());
        }
        validate::check_data(&ctx, &mut report, options.as_of, validate::Depth::Essential).await?;
        let warnings = report.into_result()?;
        let as_of = match options.as_of {
            Some(d) => d,
            None => latest_event_date(&ctx).await?.ok_or_else(|| {
                PhmError::Input(format!(
                    "{}: `events` has no rows, so there is no default reference date; pass --as-of YYYY-MM-DD",
                    options.extract.display()
                ))
            })?,
        };
        let scratch = ScratchFiles::new(options.engine.spill_dir.as_deref());
        // On a cluster every table must be a file the executors can read.
        let codelist_file = options
            .engine
            .remote
            .is_some()
            .then(|| scratch.next_path("codelists"));
        rules::register_codelists(&ctx, &codelists, codelist_file.as_deref()).await?;
        let params = config.parameters(as_of)?;
        register_rule_views(&ctx, &rules, &params).await?;
        require_registered_population(&ctx, as_of, &options.extract).await?;
        Ok(Pipeline {
            ctx,
            as_of,
            rules,
            scoring,
            extract: opened,
            warnings,
            scratch,
            local: options.engine.remote.is_none(),
        })
    }

    /// The scored features as a stream of batches, sorted by patient_id.
    pub async fn features_stream(&self) -> Result<(SchemaRef, ScoredStream)> {
        let df = self.ctx.table("features_unscored").await?;
        let base = df.schema().as_arrow().clone();
        let schema = scoring::scored_schema(&base);
        let stream = df.execute_stream().await?;
        Ok((
            schema.clone(),
            ScoredStream {
                inner: stream,
                schema,
                config: self.scoring.clone(),
            },
        ))
    }

    /// Computes the scored features once and registers them as the table
    /// `features` (for analyst queries, cohorts, proposals, statistics and
    /// reports). They stream to a temporary Parquet file in the spill folder
    /// (`--spill-dir`, else the system temp folder) rather than into memory, so
    /// a 10M-patient run stays within `--memory-limit`, and a Ballista
    /// cluster's executors can read them like any other table (on one machine
    /// they see the same folder; on a real cluster give a shared --spill-dir).
    /// The file is removed when the pipeline is dropped. Returns the rows.
    pub async fn register_features(&self) -> Result<u64> {
        let path = self.scratch.next_path("features");
        // Row groups of 128k rows so later scans split across all cores;
        // light compression, since the file lives only for this run.
        let props = datafusion::parquet::file::properties::WriterProperties::builder()
            .set_compression(datafusion::parquet::basic::Compression::LZ4_RAW)
            .set_max_row_group_row_count(Some(1 << 17))
            .build();
        let rows = self.stream_features_to(&path, props).await?;
        self.ctx
            .register_parquet(
                "features",
                path.to_string_lossy().as_ref(),
                datafusion::prelude::ParquetReadOptions::default(),
            )
            .await?;
        Ok(rows)
    }

    /// Runs `reports/NAME.sql` (over the registered `features`) with the rule
    /// parameters bound.
    pub async fn run_report(&self, name: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let file = format!("reports/{name}.sql");
        let err = |source| RulesError::Sql {
            file: format!("{}/{file}", self.rules.origin),
            source,
        };
        let params = self.rules.config()?.parameters(self.as_of)?;
        let df = self
            .ctx
            .sql(self.rules.file(&file)?)
            .await
            .map_err(err)?
            .with_param_values(params)
            .map_err(err)?;
        let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(err)?;
        Ok((schema, batches))
    }

    /// Writes the features table to `out` (Parquet, atomically).
    pub async fn write_features(&self, out: &Path) -> Result<u64> {
        self.stream_features_to(out, crate::output::parquet_properties())
            .await
    }

    /// Writes the scored features into a Parquet file at `out`, atomically:
    /// on any error nothing is left at `out` or in its temporary. In memory
    /// and in parallel when they fit ([`Pipeline::features_in_memory`]),
    /// else streamed from DataFusion's (spilling) sort.
    async fn stream_features_to(&self, out: &Path, properties: WriterProperties) -> Result<u64> {
        if let Some(held) = self.features_in_memory().await? {
            return write_in_order(held, out, properties).await;
        }
        let (schema, mut stream) = self.features_stream().await?;
        let mut file = crate::output::ParquetOut::create_with(out, schema, properties)
            .map_err(|e| PhmError::write(out, e))?;
        let mut rows = 0u64;
        while let Some(batch) = stream.next().await {
            // Dropping `file` on an error removes its temporary.
            let batch = batch?;
            rows += batch.num_rows() as u64;
            file.write(&batch).map_err(|e| PhmError::write(out, e))?;
        }
        file.commit().map_err(|e| PhmError::write(out, e))?;
        Ok(rows)
    }
}

impl Pipeline {
    /// The features plan without its last step, when that step is exactly
    /// `ORDER BY patient_id` (ascending, no LIMIT), as in the default
    /// features.sql. Any other ending (an analyst's edited order, a LIMIT,
    /// none) returns None and runs as written.
    async fn features_plan_in_any_order(&self) -> Result<Option<LogicalPlan>> {
        let provider = self.ctx.table_provider("features_unscored").await?;
        let Some(plan) = provider.get_logical_plan() else {
            return Ok(None);
        };
        let LogicalPlan::Sort(sort) = plan.as_ref() else {
            return Ok(None);
        };
        let by_patient = |e: &[SortExpr]| matches!(e, [SortExpr { expr: Expr::Column(c), asc: true, .. }] if c.name == "patient_id");
        Ok((sort.fetch.is_none() && by_patient(&sort.expr)).then(|| sort.input.as_ref().clone()))
    }

    /// Runs the features plan without its final sort, scoring each
    /// partition's batches in that partition's task, and holds the scored
    /// batches in memory, reserved from the session's pool. None (and
    /// everything released) when the plan does not end in `ORDER BY
    /// patient_id`, when the run is on a cluster, when the batches would take
    /// more than half the pool, or when a patient_id is null: the caller then
    /// runs the plan as written, with DataFusion's sort.
    async fn features_in_memory(&self) -> Result<Option<HeldFeatures>> {
        if !self.local {
            return Ok(None);
        }
        let Some(plan) = self.features_plan_in_any_order().await? else {
            return Ok(None);
        };
        let df = DataFrame::new(self.ctx.state(), plan);
        let schema = scoring::scored_schema(df.schema().as_arrow());
        let key = match schema.index_of("patient_id") {
            Ok(k) if schema.field(k).data_type() == &DataType::Int64 => k,
            _ => return Ok(None),
        };
        let pool = self.ctx.runtime_env().memory_pool.clone();
        let budget = match pool.memory_limit() {
            MemoryLimit::Finite(bytes) => bytes / 2,
            _ => usize::MAX,
        };
        let reservation =
            Arc::new(MemoryConsumer::new("phm features held for ordering").register(&pool));
        let too_big = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = df
            .execute_stream_partitioned()
            .await?
            .into_iter()
            .map(|stream| {
                SpawnedTask::spawn(hold_scored_partition(
                    stream,
                    self.scoring.clone(),
                    schema.clone(),
                    reservation.clone(),
                    budget,
                    too_big.clone(),
                ))
            })
            .collect();
        let mut batches = Vec::new();
        for task in tasks {
            let held = task.join().await.map_err(|e| {
                PhmError::Engine(datafusion::error::DataFusionError::External(Box::new(e)))
            })??;
            batches.extend(held);
        }
        if too_big.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let ordered = KeyOrdered::new(schema, batches, key)
            .map_err(datafusion::error::DataFusionError::from)?;
        Ok(ordered.map(|rows| HeldFeatures {
            rows,
            _reservation: reservation,
        }))
    }
}

/// One partition of the features plan, scored batch by batch and held while
/// the shared reservation stays within `budget`; stops early (holding
/// nothing) once any partition has gone over it.
async fn hold_scored_partition(
    mut stream: SendableRecordBatchStream,
    config: ScoringConfig,
    schema: SchemaRef,
    reservation: Arc<MemoryReservation>,
    budget: usize,
    too_big: Arc<AtomicBool>,
) -> Result<Vec<RecordBatch>> {
    let mut held = Vec::new();
    while let Some(batch) = stream.next().await {
        if too_big.load(Ordering::Relaxed) {
            return Ok(Vec::new());
        }
        let scored = scoring::score_batch(&config, &batch?, &schema)?;
        let size = scored.get_array_memory_size();
        if reservation.size().saturating_add(size) > budget || reservation.try_grow(size).is_err() {
            too_big.store(true, Ordering::Relaxed);
            return Ok(Vec::new());
        }
        held.push(scored);
    }
    Ok(held)
}

/// Writes held features to `out` in patient order, atomically, a slice of
/// rows at a time (gathered, then encoded, each on all cores).
async fn write_in_order(
    held: HeldFeatures,
    out: &Path,
    properties: WriterProperties,
) -> Result<u64> {
    let rows = &held.rows;
    let mut file = crate::output::ParquetOut::create_with(out, rows.schema(), properties)
        .map_err(|e| PhmError::write(out, e))?;
    for start in (0..rows.len()).step_by(ORDERED_WRITE_ROWS) {
        let batch = rows
            .slice(start, ORDERED_WRITE_ROWS)
            .map_err(datafusion::error::DataFusionError::from)?;
        file.write(&batch).map_err(|e| PhmError::write(out, e))?;
        // Lets Ctrl-C be seen between slices; dropping `file` removes its temporary.
        tokio::task::yield_now().await;
    }
    file.commit().map_err(|e| PhmError::write(out, e))?;
    Ok(rows.len() as u64)
}

/// Stops a run whose registered population at T is empty (an empty `patients`
/// table, everybody gone before T, or T before every registration): every
/// output would be empty or a division by zero, and exit 0 with empty files
/// reads as "no patients need anything" to a clinical lead.
async fn require_registered_population(
    ctx: &SessionContext,
    as_of: NaiveDate,
    extract: &Path,
) -> Result<()> {
    let count = |sql: &'static str| async move {
        let batches = ctx.sql(sql).await?.collect().await?;
        let n = batches
            .first()
            .filter(|b| b.num_rows() > 0)
            .map(|b| {
                b.column(0)
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                    .value(0)
            })
            .unwrap_or(0);
        Ok::<i64, PhmError>(n)
    };
    // LIMIT 1: the scan stops at the first registered patient.
    if count("SELECT count(*) FROM (SELECT 1 FROM registered LIMIT 1)").await? > 0 {
        return Ok(());
    }
    let patients = count("SELECT count(*) FROM patients").await?;
    let why = if patients == 0 {
        "the `patients` table has no rows".to_string()
    } else {
        let earliest = ctx
            .sql("SELECT min(registered_from) FROM patients")
            .await?
            .collect()
            .await?;
        let earliest = earliest
            .first()
            .filter(|b| b.num_rows() > 0 && b.column(0).is_valid(0))
            .and_then(|b| {
                datafusion::arrow::util::display::array_value_to_string(b.column(0), 0).ok()
            })
            .unwrap_or_default();
        format!(
            "none of the {patients} rows of `patients` is registered then (registered_from on or \
             before T, and not deregistered or dead by T); the earliest registered_from is {earliest}"
        )
    };
    Err(PhmError::Input(format!(
        "{}: nobody is registered at the reference date {as_of}: {why}. \
         Check --as-of and that the extract is the one you meant; there is nothing to count.",
        extract.display()
    )))
}

/// Registers each rule file as a view with its parameters bound.
pub async fn register_rule_views(
    ctx: &SessionContext,
    rules: &RuleSet,
    params: &[(String, ScalarValue)],
) -> Result<()> {
    for name in RULE_FILES {
        let file = format!("sql/{name}.sql");
        let sql = rules.file(&file)?;
        let sql_err = |source| RulesError::Sql {
            file: format!("{}/{file}", rules.origin),
            source,
        };
        let df = ctx.sql(sql).await.map_err(sql_err)?;
        let df = df.with_param_values(params.to_vec()).map_err(sql_err)?;
        let view = if name == "features" {
            "features_unscored"
        } else {
            name
        };
        ctx.register_table(view, df.into_view()).map_err(sql_err)?;
    }
    Ok(())
}

/// The features stream with the score columns appended batch by batch.
pub struct ScoredStream {
    inner: SendableRecordBatchStream,
    schema: SchemaRef,
    config: ScoringConfig,
}

impl ScoredStream {
    pub async fn next(&mut self) -> Option<Result<RecordBatch>> {
        let batch = self.inner.next().await?;
        Some(batch.map_err(PhmError::from).and_then(|b| {
            scoring::score_batch(&self.config, &b, &self.schema).map_err(PhmError::from)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{BooleanArray, Int32Array, Int64Array};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::execution::memory_pool::GreedyMemoryPool;
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;

    use crate::scoring::INPUT_FLAGS as SCORED_FLAGS;

    /// `batches` batches of `rows` unscored patients (the columns scoring reads).
    fn unscored(batches: usize, rows: usize) -> (SchemaRef, Vec<RecordBatch>) {
        let mut fields = vec![Field::new("patient_id", DataType::Int64, false)];
        fields.extend(
            SCORED_FLAGS
                .iter()
                .map(|f| Field::new(*f, DataType::Boolean, false)),
        );
        fields.push(Field::new("ltc_count", DataType::Int32, false));
        let schema = Arc::new(Schema::new(fields));
        let batches = (0..batches)
            .map(|b| {
                let mut columns: Vec<datafusion::arrow::array::ArrayRef> = vec![Arc::new(
                    Int64Array::from_iter_values((0..rows).map(|r| (b * rows + r) as i64)),
                )];
                for _ in SCORED_FLAGS {
                    columns.push(Arc::new(BooleanArray::from(vec![true; rows])));
                }
                columns.push(Arc::new(Int32Array::from(vec![2; rows])));
                RecordBatch::try_new(schema.clone(), columns).unwrap()
            })
            .collect();
        (schema, batches)
    }

    fn stream(schema: SchemaRef, batches: Vec<RecordBatch>) -> SendableRecordBatchStream {
        Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::iter(batches.into_iter().map(Ok)),
        ))
    }

    fn scoring_config() -> ScoringConfig {
        ScoringConfig::parse("scoring.toml", include_str!("../queries/scoring.toml")).unwrap()
    }

    async fn hold(
        batches: Vec<RecordBatch>,
        schema: SchemaRef,
        budget: usize,
        too_big: Arc<AtomicBool>,
    ) -> (Vec<RecordBatch>, usize) {
        let pool: Arc<dyn datafusion::execution::memory_pool::MemoryPool> =
            Arc::new(GreedyMemoryPool::new(1 << 30));
        let reservation = Arc::new(MemoryConsumer::new("test").register(&pool));
        let scored = scoring::scored_schema(&schema);
        let held = hold_scored_partition(
            stream(schema, batches),
            scoring_config(),
            scored,
            reservation.clone(),
            budget,
            too_big,
        )
        .await
        .unwrap();
        (held, reservation.size())
    }

    #[tokio::test]
    async fn a_partition_within_budget_is_held_scored_and_reserved() {
        let (schema, batches) = unscored(3, 100);
        let too_big = Arc::new(AtomicBool::new(false));
        let (held, reserved) = hold(batches, schema, usize::MAX, too_big.clone()).await;
        assert_eq!(held.len(), 3);
        assert!(!too_big.load(Ordering::Relaxed));
        // Every held byte is reserved, and each batch gained the three score columns.
        let sizes: usize = held.iter().map(RecordBatch::get_array_memory_size).sum();
        assert_eq!(reserved, sizes);
        assert!(held
            .iter()
            .all(|b| b.num_columns() == 15 + 3 && b.num_rows() == 100));
    }

    #[tokio::test]
    async fn a_partition_over_budget_holds_nothing_and_tells_the_others() {
        let (schema, batches) = unscored(3, 100);
        let (probe, _) = hold(batches.clone(), schema.clone(), usize::MAX, Arc::default()).await;
        let one = probe[0].get_array_memory_size();
        // Room for one and a half batches: the second one goes over.
        let too_big = Arc::new(AtomicBool::new(false));
        let (held, _) = hold(
            batches.clone(),
            schema.clone(),
            one + one / 2,
            too_big.clone(),
        )
        .await;
        assert!(held.is_empty());
        assert!(too_big.load(Ordering::Relaxed));
        // Another partition already over: this one stops at its first batch.
        let (held, reserved) = hold(batches, schema, usize::MAX, too_big).await;
        assert!(held.is_empty());
        assert_eq!(reserved, 0);
    }
}
