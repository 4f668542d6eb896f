//! `phm codes`: what each codelist's codes contributed, and the frequent
//! codes in no list.

use std::path::PathBuf;

use clap::Args;

use super::{ExtractArgs, Printer};
use crate::error::{PhmError, Result};
use crate::pipeline::Pipeline;

/// For each codelist, the events (dated on or before T) and patients each of
/// its codes contributed in the extract; then the most frequent codes in no
/// list, for a person to review (the shipped lists are starter subsets).
/// Exact counts of a PCN's extract: for the analyst, not for sharing.
///
/// Example: phm codes --extract sample-data/extract --top 20 --out out/codes
#[derive(Debug, Args)]
pub struct CodesArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
    /// How many of the codes in no list to show (most frequent first).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub top: usize,
    /// Also write codes.csv and unlisted_codes.csv (the first --top rows) to this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub async fn run(a: CodesArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let pipeline = Pipeline::open(&a.common.run_options()).await?;
    super::print_warnings(printer, &pipeline.warnings);
    say!("Events dated on or before T = {}.\n", pipeline.as_of);
    for (name, title, limit) in [
        ("codes", "Codes of each codelist", None),
        (
            "unlisted_codes",
            "Most frequent codes in no codelist",
            Some(a.top),
        ),
    ] {
        let (schema, batches) = pipeline.run_report(name).await?;
        let batches = match limit {
            Some(n) => first_rows(&batches, n),
            None => batches,
        };
        say!("{title}\n{}\n", crate::output::table::pretty(&batches)?);
        if let Some(dir) = &a.out {
            std::fs::create_dir_all(dir).map_err(|e| PhmError::write(dir, e))?;
            crate::output::table::write_table(&dir.join(format!("{name}.csv")), schema, &batches)?;
        }
    }
    Ok(())
}

/// The first `n` rows of `batches`, in order.
fn first_rows(
    batches: &[datafusion::arrow::record_batch::RecordBatch],
    n: usize,
) -> Vec<datafusion::arrow::record_batch::RecordBatch> {
    let mut left = n;
    let mut out = Vec::new();
    for b in batches {
        if left == 0 {
            break;
        }
        let take = b.num_rows().min(left);
        out.push(b.slice(0, take));
        left -= take;
    }
    out
}
