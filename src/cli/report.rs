//! `phm report`: the PCN and ICB reports with their charts and tables.

use std::path::PathBuf;

use clap::Args;

use super::{ExtractArgs, Printer};
use crate::error::Result;
use crate::proposals::review;
use crate::proposals::run::ProposeOptions;
use crate::report::{self, ReportOptions};

/// Write a self-contained HTML report per PCN (for its clinical lead: the
/// proposed cohort with reasons, capacity and charts; patient-level, kept in
/// OUT/pcn/CODE/) and one ICB report comparing networks (OUT/icb/: league
/// tables, funnel plots and inequalities by IMD, disclosure-controlled, no
/// patient-level rows). Charts are inline SVG, with PNGs and CSVs beside.
/// With --benchmark, both compare each area with it (a spine chart in the
/// ICB report).
///
/// Example: phm report --extract sample-data/extract --out out/report
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
    /// Link-worker FTE per PCN (as for phm propose).
    #[arg(long, value_name = "FILE.csv")]
    pub capacity: Option<PathBuf>,
    /// Planning period P in months. Default: capacity.toml (12).
    #[arg(long, value_name = "P")]
    pub period_months: Option<u32>,
    /// A proposal folder whose recorded decisions (phm review) to apply.
    #[arg(long, value_name = "DIR")]
    pub proposal: Option<PathBuf>,
    #[command(flatten)]
    pub benchmark: super::BenchmarkArgs,
    /// Write the PCN report for this PCN only (repeatable). Default: every PCN.
    #[arg(long = "pcn", value_name = "CODE")]
    pub pcns: Vec<String>,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub async fn run(a: ReportArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let (pipeline, benchmarks) =
        super::open_with_benchmarks(&a.common, &a.benchmark, printer).await?;
    let excluded = match &a.proposal {
        Some(dir) => review::excluded(dir)?,
        None => Default::default(),
    };
    let propose = ProposeOptions {
        capacity_csv: a.capacity.clone(),
        period_months: a.period_months,
        without_evidence: true,
    };
    let proposal = pipeline.proposal(&propose, &excluded).await?;
    for w in &proposal.warnings {
        printer.note(format!("phm: warning: {w}"));
    }
    let data = pipeline.report_data(proposal, &benchmarks).await?;
    let options = ReportOptions {
        pcns: a.pcns.clone(),
    };
    let files = report::write_reports(&data, &a.out, &options)?;
    say!(
        "ICB report (disclosure-controlled, for sharing): {}",
        files.icb.display()
    );
    for p in &files.pcns {
        say!(
            "PCN report (patient-level, keep within the PCN): {}",
            p.display()
        );
    }
    Ok(())
}
