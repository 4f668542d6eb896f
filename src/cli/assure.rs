//! `phm assure`: run test patients through the rules and compare their
//! features with what the test file expects.

use std::path::PathBuf;

use clap::Args;

use crate::error::{PhmError, Result};
use crate::rules::RuleSet;

/// The rules' own test patients, run when no --tests file is given.
const DEFAULT_TESTS: &str = "assure/defaults.toml";

/// Check edited rules against test patients: a few rows of each extract table
/// per patient and the features they should get. Prints pass or fail per
/// patient, and under a failure each column with expected and got. Exit 0
/// when every patient passes, 3 when one fails, 2 for a malformed file.
///
/// Without --tests, runs the rules' own `assure/defaults.toml` (one patient
/// per boundary of rules.md §2–3; `phm rules export DIR` writes it beside
/// the rules, with the format in its header).
///
/// Example: phm assure --tests my-tests.toml --rules my-rules
#[derive(Debug, Args)]
pub struct AssureArgs {
    /// The test patients (TOML). Default: the rules' assure/defaults.toml.
    #[arg(long, value_name = "FILE.toml")]
    pub tests: Option<PathBuf>,
    /// Run an edited copy of the rules folder (`phm rules export DIR` writes the defaults).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Print only failures and the summary.
    #[arg(long, short)]
    pub quiet: bool,
}

pub async fn run(a: AssureArgs) -> Result<()> {
    let rules = RuleSet::load(a.rules.as_deref())?;
    let (origin, text) = match &a.tests {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|e| {
                PhmError::Input(format!("cannot read the tests {}: {e}", path.display()))
            })?,
        ),
        None => (
            format!("{}/{DEFAULT_TESTS}", rules.origin),
            rules.file(DEFAULT_TESTS)?.to_string(),
        ),
    };
    let report = crate::assure::assure(&origin, &text, &rules).await?;
    for line in report.text().lines() {
        if !(a.quiet && line.starts_with("  ok ")) {
            say!("{line}");
        }
    }
    match report.failed() {
        0 => Ok(()),
        failed => Err(PhmError::AssuranceFailed {
            failed,
            patients: report.results.len(),
        }),
    }
}
