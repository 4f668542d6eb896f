//! `phm propose`: proposed social-prescribing cohorts and capacity per PCN.

use std::path::PathBuf;

use clap::Args;

use super::{ExtractArgs, Printer};
use crate::error::{PhmError, Result};
use crate::pipeline::Pipeline;
use crate::proposals::{review, run};

/// Rank high-need patients per PCN, propose as many as link-worker capacity
/// allows, and write proposals, capacity and segment summaries, and a list per
/// PCN for its clinical lead. Decisions recorded with `phm review` in the same
/// --out folder are applied: excluded patients are left out and their places
/// filled from the waiting list.
///
/// Example: phm propose --extract sample-data/extract --capacity capacity.csv --out out/proposals
#[derive(Debug, Args)]
pub struct ProposeArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
    /// Link-worker FTE per PCN: CSV with pcn_code,link_worker_fte (optional
    /// caseload_per_fte_year, proactive_share, note). PCNs not in it use the defaults.
    #[arg(long, value_name = "FILE.csv")]
    pub capacity: Option<PathBuf>,
    /// Planning period P in months. Default: capacity.toml (12).
    #[arg(long, value_name = "P")]
    pub period_months: Option<u32>,
    /// Output folder (patient-level: keep it in the PCN's own folder).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub async fn run(a: ProposeArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let pipeline = Pipeline::open(&a.common.run_options()).await?;
    super::print_warnings(printer, &pipeline.warnings);
    std::fs::create_dir_all(&a.out).map_err(|e| PhmError::write(&a.out, e))?;
    let excluded = review::excluded(&a.out)?;
    let options = run::ProposeOptions {
        capacity_csv: a.capacity.clone(),
        period_months: a.period_months,
        without_evidence: false,
    };
    let proposal = run::propose(&pipeline, &options, &excluded).await?;
    run::write_proposal(&a.out, &proposal)?;
    for w in &proposal.warnings {
        printer.note(format!("phm: warning: {w}"));
    }
    say!(
        "Proposal {} at {} for {} months ({} PCNs):",
        proposal.proposal_id,
        proposal.as_of,
        proposal.period_months,
        proposal.summaries.len()
    );
    for s in &proposal.summaries {
        say!(
            "  {}: {} high-need, capacity {}, {} proposed, {} waiting — {}",
            s.pcn_code,
            s.high_need,
            s.capacity,
            s.proposed,
            s.waiting,
            s.reading
        );
    }
    say!("Written to {}", a.out.display());
    Ok(())
}
