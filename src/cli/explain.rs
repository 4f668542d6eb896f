//! `phm explain`: why a patient has each flag, count and score.

use clap::Args;

use super::{ExtractArgs, Printer};
use crate::error::{PhmError, Result};
use crate::pipeline::Pipeline;

/// Show, for each patient, every features column, the records behind each
/// flag (date, code, term, codelist, window), the rows behind each count, and
/// the score's components. Patient-level output: keep it in the PCN's folder.
///
/// Example: phm explain --extract sample-data/extract 3849092679 1619822183
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
    /// Print JSON (one array of patients) instead of text.
    #[arg(long)]
    pub json: bool,
    /// The patient_ids to explain.
    #[arg(value_name = "PATIENT_ID", required = true)]
    pub patients: Vec<String>,
}

pub async fn run(a: ExplainArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let ids = a
        .patients
        .iter()
        .map(|p| {
            p.trim().parse::<i64>().map_err(|_| {
                PhmError::Input(format!(
                    "phm explain: `{p}` is not a patient_id (a whole number, as in the extract)"
                ))
            })
        })
        .collect::<Result<Vec<i64>>>()?;
    let pipeline = Pipeline::open(&a.common.run_options()).await?;
    super::print_warnings(printer, &pipeline.warnings);
    let explained = crate::explain::explain(&pipeline, &ids).await?;
    if a.json {
        let text = serde_json::to_string_pretty(&explained)
            .map_err(|e| PhmError::Internal(format!("explain as JSON: {e}")))?;
        say!("{text}");
    } else {
        say!("Reference date T = {}.", pipeline.as_of);
        for e in &explained {
            say!("\n{}", crate::explain::render::text(e).trim_end());
        }
    }
    Ok(())
}
