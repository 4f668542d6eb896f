//! The one orchestrator. A run goes through these stages in order, each
//! returning a typed value the next one takes:
//!
//! ```text
//! extract (validated) ─ rules registered ─ features (contract-checked, scored)
//!   ├─ cohorts, proposal (rules.md §4–5)          proposals::run
//!   └─ indicator cells ─ tallies (exact)          analysis::indicators, tallies
//!        └─ published counts (rules.md §6)        analysis::published
//!             └─ statistics: inequalities, compare
//!                  └─ report data ─ reports       report
//! ```
//!
//! Each command asks for the stages it needs (`cli/`); nothing downstream
//! reaches back upstream. The heavy stages are DataFusion plans; from the
//! tallies on, everything is small and done in Rust.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Date32Type, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::analysis::benchmarks::{self, AreaFigure, Benchmark};
use crate::analysis::breakdowns::{self, BreakdownTallies};
use crate::analysis::compare::{self, Comparison};
use crate::analysis::disclosure::Disclosure;
use crate::analysis::indicators::{self, Indicator, IndicatorConfig};
use crate::analysis::inequalities::{self, AreaType, GroupType, Inequalities};
use crate::analysis::published::PublishedCounts;
use crate::analysis::tallies::Tallies;
use crate::engine::decode::{int_at, text_at, Columns};
use crate::engine::scratch::ScratchFiles;
use crate::engine::{self, EngineOptions};
use crate::error::{PhmError, Result};
use crate::extract::{self, validate, OpenedExtract, ValidationReport};
use crate::features::contract;
use crate::features::scoring::ScoringConfig;
use crate::proposals::run::{self, Proposal, ProposeOptions};
use crate::report::data::{summary_measures, Measures, NeedScoreCell, PopulationCell, ReportData};
use crate::report::shared::{self, SharedCounts};
use crate::rules::{self, views::register_rule_views, RuleSet, RulesError};

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
    pub(crate) scratch: ScratchFiles,
    /// False on a Ballista cluster, whose executors sort; true on this machine.
    pub(crate) local: bool,
    /// Whether the scored `features` table is registered yet.
    features_registered: std::sync::atomic::AtomicBool,
    /// The memory of features held as an in-memory table, reserved from the
    /// session's pool for as long as the pipeline (and the table) lives.
    pub(crate) held_features: std::sync::Mutex<
        Option<std::sync::Arc<datafusion::execution::memory_pool::MemoryReservation>>,
    >,
}

/// The latest event date: the default reference date (extract.md).
pub async fn latest_event_date(ctx: &SessionContext) -> Result<Option<NaiveDate>> {
    let batches = ctx
        .sql("SELECT max(date) AS latest FROM events")
        .await?
        .collect()
        .await?;
    // `events.date` is Date32 in the typed view (extract/mod.rs), so max() is too.
    let Some(days) = batches.first().and_then(|b| {
        let a = b.column(0).as_primitive_opt::<Date32Type>()?;
        (!a.is_empty() && a.is_valid(0)).then(|| a.value(0))
    }) else {
        return Ok(None);
    };
    let date = NaiveDate::from_ymd_opt(1970, 1, 1)
        .zip(chrono::TimeDelta::try_days(days as i64))
        .and_then(|(epoch, delta)| epoch.checked_add_signed(delta));
    date.map(Some).ok_or_else(|| {
        PhmError::Input(format!(
            "events.date: the latest date is {days} days from 1970-01-01, beyond the dates phm \
             handles; check the extract's date column, or pass --as-of"
        ))
    })
}

impl Pipeline {
    /// Opens the extract, validates it (errors stop here, listing every
    /// breach), and registers codelists and rule views.
    pub async fn open(options: &RunOptions) -> Result<Self> {
        Self::open_with_rules(options, RuleSet::load(options.rules.as_deref())?).await
    }

    /// [`Pipeline::open`] with rules already loaded (a what-if run's changed
    /// copy); `options.rules` is not read.
    pub async fn open_with_rules(options: &RunOptions, rules: RuleSet) -> Result<Self> {
        let mut watch = crate::engine::timings::Stopwatch::start();
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
        watch.lap("open: rules, extract");
        validate::check_data(&ctx, &mut report, options.as_of, validate::Depth::Essential).await?;
        let warnings = report.into_result()?;
        watch.lap("open: validate data");
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
        check_features_contract(&ctx, &rules).await?;
        require_registered_population(&ctx, as_of, &options.extract).await?;
        watch.lap("open: views, contract");
        Ok(Pipeline {
            ctx,
            as_of,
            rules,
            scoring,
            extract: opened,
            warnings,
            scratch,
            local: options.engine.remote.is_none(),
            features_registered: std::sync::atomic::AtomicBool::new(false),
            held_features: std::sync::Mutex::new(None),
        })
    }

    /// Runs `reports/NAME.sql` (over the registered `features`) with the rule
    /// parameters bound.
    pub async fn run_report(&self, name: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let file = format!("reports/{name}.sql");
        self.run_sql(&self.report_origin(name), self.rules.file(&file)?)
            .await
    }

    /// Runs `sql` with the rule parameters bound; an error names `origin`
    /// (the file or config the SQL came from).
    pub async fn run_sql(&self, origin: &str, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let err = |source| RulesError::Sql {
            file: origin.to_string(),
            source,
        };
        let params = self.rules.config()?.parameters(self.as_of)?;
        let df = self
            .ctx
            .sql(sql)
            .await
            .map_err(err)?
            .with_param_values(params)
            .map_err(err)?;
        let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(err)?;
        Ok((schema, batches))
    }

    /// `reports/NAME.sql` as messages name it.
    pub fn report_origin(&self, name: &str) -> String {
        format!("{}/reports/{name}.sql", self.rules.origin)
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
            .and_then(|b| {
                b.column(0)
                    .as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>()
                    .map(|a| a.value(0))
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

/// Checks the columns `features.sql` returns against rules.md §2 before any
/// row is read, so an edit that drops, renames, retypes or moves a column
/// stops here with the file and column named (exit 2), never later in a
/// reader that expected the contract.
async fn check_features_contract(ctx: &SessionContext, rules: &RuleSet) -> Result<()> {
    let file = format!("{}/sql/features.sql", rules.origin);
    let df = ctx
        .table(crate::rules::views::UNSCORED_FEATURES)
        .await
        .map_err(|source| RulesError::Sql {
            file: file.clone(),
            source,
        })?;
    contract::check_unscored(df.schema().as_arrow(), &file).map_err(RulesError::from)?;
    Ok(())
}

impl Pipeline {
    /// Registers the scored `features` table, once per run (later calls
    /// return at once): every downstream stage reads it.
    pub async fn ensure_features(&self) -> Result<()> {
        if self.features_registered.load(Ordering::Acquire) {
            return Ok(());
        }
        self.register_scored_features().await?;
        self.features_ready().await
    }

    /// Writes the scored features to `out` (as `phm features` does) and
    /// registers them for the later stages, computing them once where they
    /// fit in memory: `phm demo` needs both.
    pub async fn write_and_register_features(&self, out: &Path) -> Result<u64> {
        if self.features_registered.load(Ordering::Acquire) {
            return self.write_features(out).await;
        }
        let rows = self.write_and_register_scored_features(out).await?;
        self.features_ready().await?;
        Ok(rows)
    }

    /// With `features` registered: the segments view over it, and the flag.
    async fn features_ready(&self) -> Result<()> {
        let params = self.rules.config()?.parameters(self.as_of)?;
        crate::proposals::segments::Segments::load(&self.rules)?
            .register(&self.ctx, &self.rules.origin, &params)
            .await?;
        self.features_registered.store(true, Ordering::Release);
        Ok(())
    }

    /// The proposal (rules.md §4–5). `excluded`: patients a clinical lead
    /// excluded in an earlier review.
    pub async fn proposal(
        &self,
        options: &ProposeOptions,
        excluded: &std::collections::BTreeSet<i64>,
    ) -> Result<Proposal> {
        self.ensure_features().await?;
        run::propose(self, options, excluded).await
    }

    /// indicators.toml, parsed.
    pub fn indicator_config(&self) -> Result<IndicatorConfig> {
        Ok(IndicatorConfig::load(&self.rules)?)
    }

    /// The exact tallies of `indicators` over the features: one aggregate
    /// query, then sums per area and group in Rust.
    pub async fn tallies(&self, indicators: &[Indicator]) -> Result<Tallies> {
        self.ensure_features().await?;
        let cells = indicators::count(&self.ctx, indicators, &self.rules.origin).await?;
        Ok(Tallies::of(indicators, &cells))
    }

    /// The exact breakdown tallies (equity.md §1) of `indicators`: one more
    /// aggregate query over the features.
    pub async fn breakdown_tallies(&self, indicators: &[Indicator]) -> Result<BreakdownTallies> {
        self.ensure_features().await?;
        let rows = breakdowns::count(&self.ctx, indicators, &self.rules.origin).await?;
        Ok(BreakdownTallies::of(indicators.len(), &rows))
    }

    /// Everything the reports draw on: the proposal, every indicator and the
    /// summary measures tallied, published (disclosure-controlled) and
    /// turned into statistics, the published figures against `benchmarks`
    /// (equity.md §5), and the report's own published counts.
    pub async fn report_data(
        &self,
        proposal: Proposal,
        benchmarks: &[Benchmark],
    ) -> Result<ReportData> {
        let mut watch = crate::engine::timings::Stopwatch::start();
        let config = self.indicator_config()?;
        let indicators = config.indicators.clone();
        let mut counted = indicators.clone();
        counted.extend(summary_measures());
        let tallies = self.tallies(&counted).await?;
        watch.lap("tallies");
        let measures = Measures::after(indicators.len());
        let disclosure = Disclosure::Controlled;
        let published = PublishedCounts::of(&tallies, disclosure);
        let options = inequalities::Options {
            by: GroupType::Decile,
            simulation: config.simulation.clone(),
        };
        let inequalities = indicator_statistics(&tallies, &published, indicators.len(), &options)?;
        watch.lap("published, inequalities");
        let comparisons = key_comparisons(&tallies, &published, indicators.len())?;
        let benchmarks = benchmarks::compare(
            &AreaFigure::of_rows(&inequalities.rows),
            benchmarks,
            &indicators,
        );
        watch.lap("comparisons, benchmarks");
        let population = self.population().await?;
        let need_scores = self.need_scores().await?;
        watch.lap("population, need scores");
        let rules = self.rules.config()?;
        let high_need_score = self.scoring.need.high_need_score;
        let shared = SharedCounts::of(
            &shared::Inputs {
                proposal: &proposal,
                tallies: &tallies,
                measures,
                population: &population,
                need_scores: &need_scores,
                high_need_score,
            },
            disclosure,
        );
        watch.lap("shared counts");
        Ok(ReportData {
            as_of: self.as_of,
            activity_months: rules.activity_months(),
            proposal,
            indicators,
            tallies,
            measures,
            published,
            inequalities,
            comparisons,
            benchmarks,
            population,
            need_scores,
            shared,
            high_need_score,
        })
    }

    /// `reports/population.sql`: registered patients by PCN, sex and 10-year band.
    async fn population(&self) -> Result<Vec<PopulationCell>> {
        let origin = self.report_origin("population");
        let mut out = Vec::new();
        for b in &self.run_report("population").await?.1 {
            let c = Columns::new(b, &origin);
            let (pcn, sex, band, n) = (
                c.text("pcn_code")?,
                c.text("sex")?,
                c.int("age_band")?,
                c.int("patients")?,
            );
            for r in 0..c.rows() {
                out.push(PopulationCell {
                    pcn_code: text_at(&pcn, r).unwrap_or_default().to_string(),
                    sex: text_at(&sex, r).unwrap_or_default().to_string(),
                    age_band: int_at(&band, r).unwrap_or(0).max(0) as usize,
                    patients: int_at(&n, r).unwrap_or(0),
                });
            }
        }
        Ok(out)
    }

    /// `reports/need_scores.sql`: eligible adults by PCN, IMD quintile and score.
    async fn need_scores(&self) -> Result<Vec<NeedScoreCell>> {
        let origin = self.report_origin("need_scores");
        let mut out = Vec::new();
        for b in &self.run_report("need_scores").await?.1 {
            let c = Columns::new(b, &origin);
            let (pcn, q, score, n) = (
                c.text("pcn_code")?,
                c.int("imd_quintile")?,
                c.int("need_score")?,
                c.int("patients")?,
            );
            for r in 0..c.rows() {
                out.push(NeedScoreCell {
                    pcn_code: text_at(&pcn, r).unwrap_or_default().to_string(),
                    imd_quintile: int_at(&q, r).and_then(|v| i32::try_from(v).ok()),
                    need_score: int_at(&score, r)
                        .and_then(|v| i32::try_from(v).ok())
                        .unwrap_or(0),
                    patients: int_at(&n, r).unwrap_or(0),
                });
            }
        }
        Ok(out)
    }
}

/// The inequality statistics of the first `indicators` of the tallies (the
/// others are the report's summary measures), from the published counts.
pub fn indicator_statistics(
    tallies: &Tallies,
    published: &PublishedCounts,
    indicators: usize,
    options: &inequalities::Options,
) -> Result<Inequalities> {
    inequalities::compute(tallies, published, indicators, options)
}

/// The key indicators (indicators.toml `key = true`) among the first
/// `indicators`, compared across PCNs.
pub fn key_comparisons(
    tallies: &Tallies,
    published: &PublishedCounts,
    indicators: usize,
) -> Result<Vec<Comparison>> {
    tallies
        .indicators
        .iter()
        .take(indicators)
        .enumerate()
        .filter(|(_, i)| i.key)
        .map(|(k, _)| compare::compare(tallies, published, k, AreaType::Pcn))
        .collect()
}
