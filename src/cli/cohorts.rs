//! `phm cohorts`: cohort sizes and the attrition from registered to eligible.

use std::path::PathBuf;

use clap::Args;

use super::{ExtractArgs, Printer};
use crate::error::{PhmError, Result};
use crate::pipeline::Pipeline;

/// Count each rule's cohort per PCN (and overall), and show how patients fall
/// out between registered, adult, not recently referred or declined, eligible
/// and high need.
///
/// Example: phm cohorts --extract sample-data/extract --out out/cohorts
#[derive(Debug, Args)]
pub struct CohortsArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
    /// Also write cohorts.csv and attrition.csv to this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub async fn run(a: CohortsArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let pipeline = Pipeline::open(&a.common.run_options()).await?;
    super::print_warnings(printer, &pipeline.warnings);
    pipeline.ensure_features().await?;
    say!(
        "Reference date {}; patients registered at that date.\n",
        pipeline.as_of
    );
    for (name, title) in [("cohorts", "Cohort sizes"), ("attrition", "Attrition")] {
        let (schema, batches) = pipeline.run_report(name).await?;
        say!("{title}\n{}\n", crate::output::table::pretty(&batches)?);
        if let Some(dir) = &a.out {
            std::fs::create_dir_all(dir).map_err(|e| PhmError::write(dir, e))?;
            crate::output::table::write_table(&dir.join(format!("{name}.csv")), schema, &batches)?;
        }
    }
    Ok(())
}
