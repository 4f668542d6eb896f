//! Runs the rules of `queries/sql/` over a registered extract: each file
//! becomes a view named after it, with `$as_of`, the window starts and the
//! thresholds bound as DataFusion parameters (never pasted into SQL). The chain
//! ends in `features_unscored`; scoring (scoring.rs) is applied to its stream.
//! One streaming plan: each source table is scanned once and aggregated per
//! patient before the joins.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Date32Type, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use futures::StreamExt;

use crate::engine::{self, EngineOptions};
use crate::error::{PhmError, Result};
use crate::extract::{self, validate, OpenedExtract, ValidationReport};
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
}

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

    /// Streams the scored features into a Parquet file at `out`, written
    /// atomically: on any error nothing is left at `out` or in its temporary.
    async fn stream_features_to(
        &self,
        out: &Path,
        properties: datafusion::parquet::file::properties::WriterProperties,
    ) -> Result<u64> {
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
