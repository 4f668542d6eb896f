//! `phm review`: record a clinical lead's decisions on a proposed list.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::proposals::review;

/// Check a returned patient list (lists/PCN.csv or lists/PCN.xlsx, with
/// `decision` = accept/exclude and a `reason`) against the proposal it came from, and record the decisions so the
/// next `phm propose --out DIR` leaves excluded patients out.
///
/// Example: phm review --decisions U12345-returned.xlsx --proposal out/proposals
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The returned list (lists/PCN.csv or lists/PCN.xlsx with decision and
    /// reason filled in); read as a workbook when it ends in .xlsx.
    #[arg(long, value_name = "FILE")]
    pub decisions: PathBuf,
    /// The folder `phm propose --out` wrote.
    #[arg(long, value_name = "DIR")]
    pub proposal: PathBuf,
}

pub fn run(a: ReviewArgs) -> Result<()> {
    let s = review::review(&a.decisions, &a.proposal)?;
    say!(
        "Recorded {} accepted and {} excluded ({} without a decision) in {}; run `phm propose --out {}` again to fill excluded places from the waiting list.",
        s.accepted,
        s.excluded,
        s.undecided,
        a.proposal.join(review::DECISIONS_FILE).display(),
        a.proposal.display()
    );
    Ok(())
}
