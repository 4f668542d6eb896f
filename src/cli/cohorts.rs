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
    /// Compare with the rules changed: keys of rules.toml and scoring.toml as
    /// the files name them, e.g. `hfu.gp_attended=25`, `windows.lonely=12`,
    /// `points.lonely=2`, `at_least.ltc4=5`, `need.high_need_score=7`. Shows, per
    /// PCN, high-need patients and proposals (default capacity) before and
    /// after, who comes in and goes out, and what each component lifts.
    #[arg(long = "what-if", value_name = "KEY=VALUE", num_args = 1..)]
    pub what_if: Vec<String>,
}

pub async fn run(a: CohortsArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let options = a.common.run_options();
    let pipeline = Pipeline::open(&options).await?;
    super::print_warnings(printer, &pipeline.warnings);
    if !a.what_if.is_empty() {
        return what_if(&pipeline, &options, &a.what_if).await;
    }
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

/// `--what-if`: the rules as they are against the changed copy.
async fn what_if(
    pipeline: &Pipeline,
    options: &crate::pipeline::RunOptions,
    changes: &[String],
) -> Result<()> {
    use crate::proposals::what_if::{compare, component_lifts};
    let (rules, applied) = crate::rules::overrides::apply(pipeline.rules.clone(), changes)?;
    let changed = Pipeline::open_with_rules(options, rules).await?;
    let propose = crate::proposals::run::ProposeOptions {
        without_evidence: true,
        ..Default::default()
    };
    let none = std::collections::BTreeSet::new();
    let before = pipeline.proposal(&propose, &none).await?;
    let after = changed.proposal(&propose, &none).await?;
    say!("Reference date {}. What if:", pipeline.as_of);
    for c in &applied {
        say!("  {} = {} (was {})", c.key, c.value, c.was);
    }
    say!(
        "\n{:<8} {:>17} {:>17} {:>8} {:>8} {:>17}",
        "pcn",
        "eligible",
        "high need",
        "came in",
        "went out",
        "proposed"
    );
    let pair = |(a, b): (u64, u64)| format!("{a} -> {b}");
    for r in compare(&before, &after) {
        say!(
            "{:<8} {:>17} {:>17} {:>8} {:>8} {:>17}",
            r.pcn_code,
            pair(r.eligible),
            pair(r.high_need),
            r.came_in,
            r.went_out,
            pair(r.proposed)
        );
    }
    say!("\nHigh-need patients each component lifts over the threshold (they drop out without it), rules as they are:");
    for l in component_lifts(pipeline).await? {
        say!("  {:<26} +{:<3} {}", l.name, l.points, l.lifted);
    }
    Ok(())
}
