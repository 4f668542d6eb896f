//! The scored features table (rules.md §2–3): runs the features plan the
//! rule views define, appends the score columns (scoring.rs) batch by batch,
//! and writes or registers the result. One streaming plan: each source table
//! is scanned once and aggregated per patient before the joins. When the
//! scored features fit in half the memory pool they are held (reserved from
//! the pool): a written file is put in patient order by key_order.rs on all
//! cores, and the table `features` the later stages read is those held rows,
//! so `phm demo` runs the plan once for both. Otherwise DataFusion sorts,
//! spilling as it needs, and `features` is a scratch Parquet file. The
//! columns are checked against the contract (contract.rs) when the pipeline
//! opens.

pub mod contract;
pub mod key_order;
pub mod scoring;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::runtime::SpawnedTask;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit, MemoryReservation};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;

use crate::error::{PhmError, Result};
use crate::pipeline::Pipeline;
use crate::rules::views::UNSCORED_FEATURES;
use key_order::KeyOrdered;
use scoring::ScoringConfig;

/// The scored features of every partition, held in memory within a
/// reservation of the session's memory pool, with the order of their rows.
struct HeldFeatures {
    rows: KeyOrdered,
    /// Released when dropped; kept by the pipeline while the rows are its table.
    reservation: Arc<MemoryReservation>,
}

/// Rows gathered and written per step when writing held features in order:
/// large enough that the columns' parallel encoding has work, small enough
/// that the ordered copy stays a few megabytes.
const ORDERED_WRITE_ROWS: usize = 64 * 1024;

impl Pipeline {
    /// The scored features as a stream of batches, sorted by patient_id
    /// (rules.md §5) by DataFusion's sort, which spills as it needs.
    pub async fn features_stream(&self) -> Result<(SchemaRef, ScoredStream)> {
        let df = self
            .ctx
            .table(UNSCORED_FEATURES)
            .await?
            .sort(vec![
                datafusion::prelude::col("patient_id").sort(true, false)
            ])?;
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
    /// reports). When they fit in half the memory pool they stay in memory,
    /// reserved from the pool; otherwise they stream to a temporary Parquet
    /// file in the spill folder (`--spill-dir`, else the system temp folder),
    /// so a run stays within `--memory-limit`, and a Ballista cluster's
    /// executors can read them like any other table (on one machine they see
    /// the same folder; on a real cluster give a shared --spill-dir). The
    /// file is removed when the pipeline is dropped. Returns the rows.
    pub(crate) async fn register_scored_features(&self) -> Result<u64> {
        if let Some(held) = self.features_in_memory().await? {
            let rows = held.rows.len() as u64;
            self.register_held(held)?;
            return Ok(rows);
        }
        let path = self.scratch.next_path("features");
        let rows = self.stream_features_to(&path, scratch_properties()).await?;
        self.register_features_file(&path).await?;
        Ok(rows)
    }

    /// Writes the features to `out` and registers them as `features`, from
    /// one run of the features plan when they fit in memory (written from
    /// the held rows, which then become the table); otherwise the plan runs
    /// twice, once for the file and once for the table. Returns the rows.
    pub(crate) async fn write_and_register_scored_features(&self, out: &Path) -> Result<u64> {
        let Some(held) = self.features_in_memory().await? else {
            let rows = self.write_features(out).await?;
            self.register_scored_features().await?;
            return Ok(rows);
        };
        let rows = write_in_order(&held, out, crate::output::parquet_properties()).await?;
        self.register_held(held)?;
        Ok(rows)
    }

    /// Registers held features as the in-memory table `features`: slices of
    /// the held arrays (no copy), split over the session's partitions, and
    /// kept reserved in the memory pool while the pipeline lives. The rows
    /// are not in patient order, as in a scan over several partitions: every
    /// query over `features` orders what it returns.
    fn register_held(&self, mut held: HeldFeatures) -> Result<()> {
        // The table is the gathered rows: the keys for ordered slices are done.
        held.reservation.shrink(held.rows.drop_text_keys());
        let schema = held.rows.schema();
        let batch_rows = self.ctx.state().config().batch_size();
        let batches = held
            .rows
            .gathered_batches(batch_rows)
            .map_err(datafusion::error::DataFusionError::from)?;
        let partitions = self.ctx.state().config().target_partitions().max(1);
        let per_partition = batches.len().div_ceil(partitions).max(1);
        let mut split: Vec<Vec<RecordBatch>> = batches
            .chunks(per_partition)
            .map(<[RecordBatch]>::to_vec)
            .collect();
        if split.is_empty() {
            split.push(Vec::new());
        }
        let table = datafusion::datasource::MemTable::try_new(schema, split)?;
        self.ctx.register_table("features", Arc::new(table))?;
        if let Ok(mut reserved) = self.held_features.lock() {
            *reserved = Some(held.reservation);
        }
        Ok(())
    }

    async fn register_features_file(&self, path: &Path) -> Result<()> {
        self.ctx
            .register_parquet(
                "features",
                path.to_string_lossy().as_ref(),
                datafusion::prelude::ParquetReadOptions::default(),
            )
            .await?;
        Ok(())
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
            let mut watch = crate::engine::timings::Stopwatch::start();
            let rows = write_in_order(&held, out, properties).await;
            watch.lap("features: write");
            return rows;
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
    /// Runs the features plan, scoring each partition's batches in that
    /// partition's task, and holds the scored batches in memory, reserved
    /// from the session's pool, with their order by patient_id. None (and
    /// everything released) when the run is on a cluster, when the batches
    /// would take more than half the pool, or when a patient_id is null: the
    /// caller then orders with DataFusion's (spilling) sort.
    async fn features_in_memory(&self) -> Result<Option<HeldFeatures>> {
        // PHM_ORDER_IN_ENGINE=1 takes DataFusion's sort instead (the
        // determinism test and benchmarks compare the two).
        if !self.local || std::env::var_os("PHM_ORDER_IN_ENGINE").is_some_and(|v| v == "1") {
            return Ok(None);
        }
        let mut watch = crate::engine::timings::Stopwatch::start();
        let df = self.ctx.table(UNSCORED_FEATURES).await?;
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
        watch.lap("features: plan, score");
        let Some(mut rows) = KeyOrdered::new(schema, batches, key)
            .map_err(datafusion::error::DataFusionError::from)?
        else {
            return Ok(None);
        };
        // Keys for the text columns, within the same budget (else plain gathers).
        rows.key_text_columns(|bytes| {
            reservation.size().saturating_add(bytes) <= budget
                && reservation.try_grow(bytes).is_ok()
        })
        .map_err(datafusion::error::DataFusionError::from)?;
        watch.lap("features: order");
        Ok(Some(HeldFeatures { rows, reservation }))
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

/// The scratch copy of the features: row groups of 128k rows so later scans
/// split across all cores; light compression, since the file lives only for
/// this run.
fn scratch_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(datafusion::parquet::basic::Compression::LZ4_RAW)
        .set_max_row_group_row_count(Some(1 << 17))
        .build()
}

/// Writes held features to `out` in patient order, atomically, a slice of
/// rows at a time (gathered, then encoded, each on all cores).
async fn write_in_order(
    held: &HeldFeatures,
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

    use super::scoring::INPUT_FLAGS as SCORED_FLAGS;

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
        ScoringConfig::parse("scoring.toml", include_str!("../../queries/scoring.toml")).unwrap()
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
