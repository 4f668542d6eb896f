//! `phm features`: write the patient features table (rules.md §2).

use std::path::PathBuf;

use clap::Args;

use super::{ExtractArgs, Printer};
use crate::error::Result;
use crate::pipeline::Pipeline;

/// Build the patient features table: one row per patient registered at T,
/// with Core20PLUS, clinical-area, HFU, social-prescribing and need columns.
///
/// Example: phm features --extract sample-data/extract --out out/features.parquet
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
    /// Output Parquet file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub async fn run(a: FeaturesArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let started = std::time::Instant::now();
    let pipeline = Pipeline::open(&a.common.run_options()).await?;
    super::print_warnings(printer, &pipeline.warnings);
    if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| crate::error::PhmError::write(parent, e))?;
    }
    let rows = pipeline.write_features(&a.out).await?;
    printer.note(format!(
        "phm: wrote {} ({rows} registered patients at {}) in {:.1}s",
        a.out.display(),
        pipeline.as_of,
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
