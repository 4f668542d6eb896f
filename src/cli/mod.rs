//! The `phm` command line: one file per subcommand, shared flags here.
//! Results go to stdout or `--out`; progress and warnings go to stderr.

/// `println!` for results on stdout, but a write error is returned (`?`)
/// rather than a panic: a reader that closed the pipe (`phm query … | head`)
/// ends the run quietly with exit 0, as ripgrep does.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))?
    };
}

mod assure;
#[cfg(feature = "ballista")]
mod cluster;
mod codes;
mod cohorts;
mod compare;
mod demo;
mod explain;
mod features;
mod generate;
mod import;
mod inequalities;
mod propose;
mod query;
mod report;
mod review;
mod rules;
mod validate;
mod whatif;

use std::io::IsTerminal;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::engine::EngineOptions;
use crate::error::{PhmError, Result};
use crate::pipeline::RunOptions;

/// phm — population-health cohort analytics for primary care networks.
///
/// Reads a pseudonymised Parquet patient extract, builds one row of features
/// per registered patient, and finds the Core20PLUS, high-frequency-use and
/// unmet-need cohorts a PCN should proactively offer social prescribing.
///
/// Exit codes: 0 success, 2 bad input (extract, rules, config, arguments),
/// 3 a `phm assure` test patient failed, 1 any other failure.
#[derive(Debug, Parser)]
#[command(
    name = "phm",
    version,
    about,
    long_about,
    propagate_version = true,
    after_long_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Generate(generate::GenerateArgs),
    Validate(validate::ValidateArgs),
    Features(features::FeaturesArgs),
    Query(query::QueryArgs),
    Cohorts(cohorts::CohortsArgs),
    Codes(codes::CodesArgs),
    Explain(explain::ExplainArgs),
    Assure(assure::AssureArgs),
    Inequalities(inequalities::InequalitiesArgs),
    Compare(compare::CompareArgs),
    Propose(propose::ProposeArgs),
    Report(report::ReportArgs),
    Review(review::ReviewArgs),
    Whatif(whatif::WhatIfArgs),
    Demo(demo::DemoArgs),
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Run a Ballista scheduler or executor (built with `--features ballista`).
    #[cfg(feature = "ballista")]
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
}

/// Shown under `phm --help`: one line per command a newcomer reaches for.
const EXAMPLES: &str = "Examples (on the committed sample data):
  phm demo
  phm explain --extract sample-data/extract 3849092679
  phm cohorts --extract sample-data/extract --what-if hfu.gp_attended=25
  phm codes --extract sample-data/extract --top 20
  phm rules export my-rules && phm assure --rules my-rules
  phm assure --tests my-tests.toml
  phm propose --extract sample-data/extract --out out/proposals
  phm import omop --from cdm --out extract --practice-map practices.csv";

/// Flags every command that reads an extract shares.
#[derive(Debug, Clone, Args)]
pub struct ExtractArgs {
    /// Extract folder (patients, events, appointments, ae_attendances, admissions, imd).
    #[arg(long, value_name = "DIR")]
    pub extract: PathBuf,
    /// Reference date T (YYYY-MM-DD). Default: the latest date in `events`.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// IMD table to use instead of the extract's: Parquet, or the government's IoD file as published (File 1, 2 or 7 as .xlsx; File 7 as .csv).
    #[arg(long, value_name = "FILE")]
    pub imd: Option<PathBuf>,
    /// Run an edited copy of the rules folder (`phm rules export DIR` writes the defaults).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Memory the query engine may hold before spilling to disk, e.g. 4GiB. Default: half the RAM.
    #[arg(long, value_name = "SIZE", value_parser = crate::engine::parse_size)]
    pub memory_limit: Option<usize>,
    /// Folder for spill files. Default: the system temp folder.
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
    /// Where queries run: `local` (this machine), or `ballista://HOST:PORT` to run
    /// them on an Apache Ballista cluster (needs a phm built with `--features ballista`).
    #[arg(long, value_name = "URL", default_value = "local")]
    pub engine: String,
    /// No progress or warnings on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

impl ExtractArgs {
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            extract: self.extract.clone(),
            imd: self.imd.clone(),
            rules: self.rules.clone(),
            as_of: self.as_of,
            engine: EngineOptions {
                memory_limit: self.memory_limit,
                spill_dir: self.spill_dir.clone(),
                threads: None,
                remote: (self.engine != "local").then(|| self.engine.clone()),
            },
        }
    }
}

pub fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date like 2025-03-31"))
}

/// Writes one line of results to stdout (see `say!`).
pub fn write_stdout(line: std::fmt::Arguments) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_fmt(line)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(PhmError::stdout)
}

/// Talk on stderr, silenced by `--quiet`.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub quiet: bool,
}

impl Printer {
    pub fn note(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// Progress bars only on a terminal and without --quiet.
    pub fn progress(&self, total: u64, what: &str) -> indicatif::ProgressBar {
        if self.quiet || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        bar
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    // Generation is synchronous rayon work: run it outside the runtime. Ctrl-C
    // sets a flag it checks between chunks (see `interrupt_flag`); its output is
    // built in a hidden temporary folder, removed on interrupt, and only renamed
    // into place when complete.
    match cli.command {
        Command::Generate(a) => generate::run(a),
        other => run_async(other),
    }
}

/// A flag that becomes true on Ctrl-C, for synchronous work (generation) that
/// must stop cleanly and remove its temporary output rather than die by the
/// signal. The handler is registered before this returns (a background thread
/// with its own small runtime waits for the signal). If it cannot be
/// registered, Ctrl-C keeps its default action.
pub fn interrupt_flag() -> &'static std::sync::atomic::AtomicBool {
    static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let (registered, wait) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("phm-ctrl-c".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                let _ = registered.send(());
                return;
            };
            runtime.block_on(async move {
                let signal = tokio::signal::ctrl_c();
                tokio::pin!(signal);
                // The handler is installed on the first poll.
                let first = futures::poll!(signal.as_mut());
                let _ = registered.send(());
                if first.is_pending() && signal.await.is_err() {
                    return;
                }
                STOP.store(true, std::sync::atomic::Ordering::Relaxed);
            });
        });
    if spawned.is_ok() {
        let _ = wait.recv();
    }
    &STOP
}

/// Runs a query-engine command on a tokio runtime; Ctrl-C stops it with an
/// error, and its unfinished output files are removed as they are dropped.
fn run_async(command: Command) -> Result<()> {
    let memory_limit = command
        .extract_args()
        .and_then(|a| a.memory_limit)
        .unwrap_or_else(crate::engine::default_memory_limit);
    run_on_runtime(command).map_err(|e| e.with_memory_limit(memory_limit))
}

impl Command {
    /// The shared extract flags, for the commands that read an extract.
    fn extract_args(&self) -> Option<&ExtractArgs> {
        match self {
            Command::Validate(a) => Some(&a.common),
            Command::Features(a) => Some(&a.common),
            Command::Query(a) => Some(&a.common),
            Command::Cohorts(a) => Some(&a.common),
            Command::Codes(a) => Some(&a.common),
            Command::Explain(a) => Some(&a.common),
            Command::Inequalities(a) => Some(&a.common),
            Command::Compare(a) => Some(&a.common),
            Command::Propose(a) => Some(&a.common),
            Command::Report(a) => Some(&a.common),
            _ => None,
        }
    }
}

fn run_on_runtime(command: Command) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Ballista (de)serialises deep plans recursively; its own binaries
        // use 32 MiB stacks for the same reason.
        .thread_stack_size(32 * 1024 * 1024)
        .build()
        .map_err(|e| PhmError::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let work = async {
            match command {
                Command::Generate(a) => generate::run(a),
                Command::Validate(a) => validate::run(a).await,
                Command::Features(a) => features::run(a).await,
                Command::Query(a) => query::run(a).await,
                Command::Cohorts(a) => cohorts::run(a).await,
                Command::Codes(a) => codes::run(a).await,
                Command::Explain(a) => explain::run(a).await,
                Command::Assure(a) => assure::run(a).await,
                Command::Inequalities(a) => inequalities::run(a).await,
                Command::Compare(a) => compare::run(a).await,
                Command::Propose(a) => propose::run(a).await,
                Command::Report(a) => report::run(a).await,
                Command::Review(a) => review::run(a),
                Command::Whatif(a) => whatif::run(a),
                Command::Demo(a) => demo::run(a).await,
                Command::Rules(c) => rules::run(c),
                Command::Import(c) => import::run(c).await,
                #[cfg(feature = "ballista")]
                Command::Cluster(c) => cluster::run(c).await,
            }
        };
        tokio::select! {
            r = work => r,
            _ = tokio::signal::ctrl_c() => Err(PhmError::Interrupted),
        }
    })
}

/// Prints the extract's warnings (rows the rules will ignore, odd codes).
pub fn print_warnings(printer: Printer, report: &crate::extract::ValidationReport) {
    for w in report.warnings() {
        printer.note(format!("phm: {w}"));
    }
}

/// Opens the extract, prints its warnings and registers the scored `features`.
pub async fn open_with_features(
    common: &ExtractArgs,
    printer: Printer,
) -> Result<crate::pipeline::Pipeline> {
    let pipeline = crate::pipeline::Pipeline::open(&common.run_options()).await?;
    print_warnings(printer, &pipeline.warnings);
    pipeline.ensure_features().await?;
    Ok(pipeline)
}

/// `--benchmark FILE.csv` (equity.md §5), shared by inequalities, compare
/// and report.
#[derive(Debug, Clone, Default, Args)]
pub struct BenchmarkArgs {
    /// Published values to compare each area with, e.g. England's (columns
    /// indicator, benchmark, value, lower95, upper95, period; the first three
    /// required). Writes benchmark.csv: Better / Similar / Worse by each
    /// indicator's polarity in indicators.toml (Higher / Lower where it makes
    /// no judgement), by whether the benchmark lies outside the area's 95%
    /// interval.
    #[arg(long, value_name = "FILE.csv")]
    pub benchmark: Option<PathBuf>,
}

impl BenchmarkArgs {
    /// The file's benchmarks, checked against the run's indicators.toml
    /// (none without a file).
    pub fn read(
        &self,
        pipeline: &crate::pipeline::Pipeline,
    ) -> Result<Vec<crate::analysis::benchmarks::Benchmark>> {
        match &self.benchmark {
            Some(path) => Ok(crate::analysis::benchmarks::read(
                path,
                &pipeline.indicator_config()?.indicators,
            )?),
            None => Ok(Vec::new()),
        }
    }
}

/// Opens the extract, reads `--benchmark` (so a bad file fails before any
/// counting), then computes the features.
pub async fn open_with_benchmarks(
    common: &ExtractArgs,
    benchmark: &BenchmarkArgs,
    printer: Printer,
) -> Result<(
    crate::pipeline::Pipeline,
    Vec<crate::analysis::benchmarks::Benchmark>,
)> {
    let pipeline = crate::pipeline::Pipeline::open(&common.run_options()).await?;
    print_warnings(printer, &pipeline.warnings);
    let benchmarks = benchmark.read(&pipeline)?;
    pipeline.ensure_features().await?;
    Ok((pipeline, benchmarks))
}

/// Prints the ICB's label against each benchmark, and how many of the
/// other areas (PCNs or practices) get each label.
pub fn say_benchmarks(rows: &[crate::analysis::benchmarks::BenchmarkRow]) -> Result<()> {
    use crate::analysis::tallies::AreaType;
    if rows.is_empty() {
        return Ok(());
    }
    say!("Against the benchmarks (benchmark.csv):");
    let mut groups: Vec<(&str, &str, AreaType)> = Vec::new();
    for r in rows {
        if r.area_type == AreaType::Icb {
            let v = r.value.map_or("suppressed".into(), |v| format!("{v:.2}"));
            say!(
                "  {} {} {v} vs {} {:.2}: {}",
                r.indicator,
                r.area_code,
                r.benchmark,
                r.benchmark_value,
                r.label.as_str()
            );
        } else {
            let key = (r.indicator.as_str(), r.benchmark.as_str(), r.area_type);
            if !groups.contains(&key) {
                groups.push(key);
            }
        }
    }
    for (indicator, benchmark, level) in groups {
        let these = rows.iter().filter(|r| {
            r.indicator == indicator && r.benchmark == benchmark && r.area_type == level
        });
        say!(
            "  {indicator} vs {benchmark}, by {}: {}",
            level.as_str(),
            crate::analysis::benchmarks::label_counts(these)
        );
    }
    Ok(())
}

/// Writes `manifest.json` (what was run, on what, with which disclosure
/// control) into an output folder, and `NOT_FOR_SHARING.txt` when disclosure
/// control was switched off, so a folder always says whether it may be shared.
pub fn write_manifest(
    dir: &std::path::Path,
    command: &str,
    pipeline: &crate::pipeline::Pipeline,
    indicators: &[crate::analysis::indicators::Indicator],
    published: &crate::analysis::published::PublishedCounts,
) -> Result<()> {
    let disclosure = published.disclosure;
    let manifest = serde_json::json!({
        "command": command,
        "phm_version": env!("CARGO_PKG_VERSION"),
        "as_of": pipeline.as_of.to_string(),
        "rules": pipeline.rules.origin,
        "indicators": indicators,
        "disclosure_control": disclosure == crate::analysis::disclosure::Disclosure::Controlled,
        "disclosure": disclosure.statement(),
        "secondary_suppressions": published.secondary,
    });
    let path = dir.join("manifest.json");
    let bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| PhmError::Internal(format!("cannot serialise manifest.json: {e}")))?;
    crate::output::write_atomic(&path, &bytes).map_err(|e| PhmError::write(&path, e))?;
    let stamp = dir.join("NOT_FOR_SHARING.txt");
    match disclosure {
        crate::analysis::disclosure::Disclosure::Off => crate::output::write_atomic(
            &stamp,
            crate::analysis::disclosure::NOT_FOR_SHARING.as_bytes(),
        )
        .map_err(|e| PhmError::write(&stamp, e))?,
        crate::analysis::disclosure::Disclosure::Controlled => {
            if stamp.exists() {
                std::fs::remove_file(&stamp).map_err(|e| PhmError::write(&stamp, e))?;
            }
        }
    }
    Ok(())
}
