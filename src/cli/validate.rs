//! `phm validate`: check an extract against the contract and list every breach.

use clap::Args;

use super::{ExtractArgs, Printer};
use crate::engine;
use crate::error::Result;
use crate::extract::{self, validate};

/// Check an extract against the contract (extract.md v1), reporting every
/// breach at once with table, column, count and examples.
///
/// Example: phm validate --extract sample-data/extract
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
}

pub async fn run(a: ValidateArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let options = a.common.run_options();
    let ctx = engine::connect(&options.engine).await?;
    let mut opened =
        extract::register_extract(&ctx, &options.extract, options.imd.as_deref()).await?;
    let mut report = std::mem::take(&mut opened.report);
    let as_of = match options.as_of {
        Some(d) => Some(d),
        None if ctx.table_exist("events").unwrap_or(false) => {
            crate::pipeline::latest_event_date(&ctx).await?
        }
        None => None,
    };
    validate::check_data(&ctx, &mut report, as_of, validate::Depth::Full).await?;
    if report.has_errors() {
        return Err(extract::ExtractError::Invalid { report }.into());
    }
    super::print_warnings(printer, &report);
    let tables: Vec<String> = opened
        .locations
        .iter()
        .map(|l| format!("{} ({})", l.table, l.path.display()))
        .collect();
    say!(
        "{}: the extract meets the contract (v1){}; tables: {}",
        options.extract.display(),
        as_of
            .map(|d| format!(", reference date {d}"))
            .unwrap_or_default(),
        tables.join(", ")
    );
    Ok(())
}
