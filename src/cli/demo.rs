//! `phm demo`: the whole pipeline on the committed sample extract, outputs in `out/`.

use std::path::PathBuf;

use clap::Args;

use super::Printer;
use crate::engine::timings::Stopwatch;
use crate::error::{PhmError, Result};
use crate::pipeline::{Pipeline, RunOptions};

/// Run the whole pipeline on the committed sample extract and write the
/// outputs (features, cohort counts, attrition, proposals, inequalities and
/// the PCN and ICB reports with their charts) to `out/`.
///
/// Example: phm demo
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The extract to run on.
    #[arg(long, value_name = "DIR", default_value = "sample-data/extract")]
    pub extract: PathBuf,
    /// Published values to compare with (as for phm report). Default:
    /// sample-data/benchmarks.csv when it exists.
    #[arg(long, value_name = "FILE.csv")]
    pub benchmark: Option<PathBuf>,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The committed benchmark file the demo compares with.
const DEFAULT_BENCHMARKS: &str = "sample-data/benchmarks.csv";

pub async fn run(a: DemoArgs) -> Result<()> {
    let printer = Printer { quiet: a.quiet };
    if !a.extract.is_dir() {
        return Err(PhmError::Input(format!(
            "{} not found: run `phm demo` from the phm folder, or pass --extract DIR",
            a.extract.display()
        )));
    }
    let options = RunOptions {
        extract: a.extract.clone(),
        ..Default::default()
    };
    // Opened (and validated) before anything is written, so a bad extract
    // leaves no output folder behind.
    let mut watch = Stopwatch::start();
    let pipeline = Pipeline::open(&options).await?;
    let benchmark = super::BenchmarkArgs {
        benchmark: a.benchmark.clone().or_else(|| {
            let committed = PathBuf::from(DEFAULT_BENCHMARKS);
            committed.is_file().then_some(committed)
        }),
    };
    let benchmarks = benchmark.read(&pipeline)?;
    watch.lap("open and validate");
    super::print_warnings(printer, &pipeline.warnings);
    std::fs::create_dir_all(&a.out).map_err(|e| PhmError::write(&a.out, e))?;
    let features = a.out.join("features.parquet");
    let rows = pipeline.write_and_register_features(&features).await?;
    watch.lap("features");
    printer.note(format!(
        "phm: {rows} registered patients at {}",
        pipeline.as_of
    ));
    let mut written = vec![features];
    for name in ["cohorts", "attrition"] {
        let (schema, batches) = pipeline.run_report(name).await?;
        let path = a.out.join(format!("{name}.csv"));
        crate::output::table::write_table(&path, schema, &batches)?;
        written.push(path);
    }
    watch.lap("cohorts and attrition");
    let proposals = a.out.join("proposals");
    std::fs::create_dir_all(&proposals).map_err(|e| PhmError::write(&proposals, e))?;
    let excluded = crate::proposals::review::excluded(&proposals)?;
    let proposal = pipeline.proposal(&Default::default(), &excluded).await?;
    written.extend(crate::proposals::run::write_proposal(
        &proposals, &proposal,
    )?);
    watch.lap("proposal");
    let data = pipeline.report_data(proposal, &benchmarks).await?;
    watch.lap("report data");
    let inequalities = a.out.join("inequalities");
    crate::analysis::inequalities::write(&inequalities, &data.inequalities)?;
    written.push(inequalities.join("inequalities.csv"));
    written.push(inequalities.join("sii.csv"));
    written.push(inequalities.join("gap.csv"));
    if benchmark.benchmark.is_some() {
        crate::analysis::benchmarks::write(&inequalities, &data.benchmarks)?;
        written.push(inequalities.join("benchmark.csv"));
    }
    watch.lap("inequalities written");
    let report_options = crate::report::ReportOptions::default();
    let files = crate::report::write_reports(&data, &a.out.join("report"), &report_options)?;
    watch.lap("reports");
    for s in &data.proposal.summaries {
        say!("{}: {}", s.pcn_code, s.reading);
    }
    say!("phm demo: outputs written:");
    for p in written {
        say!("  {}", p.display());
    }
    say!("Reports (open in a browser):");
    say!("  ICB, disclosure-controlled: {}", files.icb.display());
    for p in &files.pcns {
        say!("  PCN, patient-level: {}", p.display());
    }
    Ok(())
}
