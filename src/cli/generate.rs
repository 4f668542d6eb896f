//! `phm generate`: write a synthetic extract and print its realism table.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use super::{parse_date, Printer};
use crate::error::Result;
use crate::rules::RuleSet;
use crate::tools::generate::{self, realism, GenerateConfig};

/// Generate a realistic synthetic extract (deterministic for a seed).
///
/// Example: phm generate --patients 60000 --seed 42 --as-of 2025-03-31 --out sample-data/extract
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of patients ever registered.
    #[arg(long, default_value_t = 60_000)]
    pub patients: u64,
    /// Random seed: the same seed gives the same extract.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Reference date T: no record is dated after it (unless --after-t-share).
    #[arg(long, value_parser = parse_date, default_value = "2025-03-31")]
    pub as_of: NaiveDate,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of PCNs. Default: about one per 40,000 patients (6 for small extracts).
    #[arg(long)]
    pub pcns: Option<usize>,
    /// Number of ICBs the PCNs are grouped into.
    #[arg(long, default_value_t = 1)]
    pub icbs: usize,
    /// Share of patients given records dated after T (to exercise "ignored after T").
    #[arg(long, default_value_t = 0.0)]
    pub after_t_share: f64,
    /// Codelists to draw codes from (default: the built-in rules).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Replace the output folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Write the realism table (Markdown) to this file as well.
    #[arg(long, value_name = "FILE")]
    pub realism: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: GenerateArgs) -> Result<()> {
    let printer = Printer { quiet: a.quiet };
    let rules = RuleSet::load(a.rules.as_deref())?;
    let codelists = rules.codelists()?;
    let cfg = GenerateConfig {
        patients: a.patients,
        seed: a.seed,
        as_of: a.as_of,
        pcns: a.pcns,
        icbs: a.icbs,
        out: a.out.clone(),
        after_t_share: a.after_t_share,
        force: a.force,
    };
    let bar = printer.progress(a.patients, "generating");
    let started = std::time::Instant::now();
    let stop = super::interrupt_flag();
    let summary = generate::generate(&cfg, &codelists, &|n| bar.set_position(n), stop)?;
    bar.finish_and_clear();
    let r = &summary.rows;
    printer.note(format!(
        "phm: wrote {} in {:.1}s: {} patients, {} events, {} appointments, {} A&E attendances, {} admissions, {} LSOAs",
        a.out.display(),
        started.elapsed().as_secs_f64(),
        r.patients,
        r.events,
        r.appointments,
        r.ae_attendances,
        r.admissions,
        r.imd
    ));
    let table = realism::markdown(&realism::rows(
        &summary.tally,
        &summary.practice_sizes,
        &summary.pcn_sizes,
    ));
    say!("{table}");
    if let Some(path) = &a.realism {
        crate::output::write_atomic(path, table.as_bytes())
            .map_err(|e| crate::error::PhmError::write(path, e))?;
    }
    Ok(())
}
