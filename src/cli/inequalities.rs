//! `phm inequalities`: indicators by deprivation with SII/RII and quintile gaps.

use std::path::PathBuf;

use clap::Args;

use super::{ExtractArgs, Printer};
use crate::analysis::disclosure::Disclosure;
use crate::analysis::inequalities::{self, GroupType};
use crate::analysis::local_quintiles::{LocalOrder, OrderKeys};
use crate::analysis::published::PublishedCounts;
use crate::error::Result;

/// For each indicator of indicators.toml, for the ICB and each PCN: values by
/// IMD group (with an "unknown" row and an "all" row), the slope and relative
/// index of inequality, and the most- vs least-deprived quintile ratio and gap.
/// Writes inequalities.csv, sii.csv and gap.csv (JSON beside each).
///
/// A positive SII (RII above 1) means higher values among the more deprived.
///
/// Example: phm inequalities --extract sample-data/extract --out out/inequalities
#[derive(Debug, Args)]
pub struct InequalitiesArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
    /// Indicator to compute (repeatable). Default: all in indicators.toml.
    #[arg(long = "indicator", value_name = "NAME")]
    pub indicators: Vec<String>,
    /// Deprivation grouping of the table and the SII: national deciles (the
    /// SII falls back to quintiles when a decile is empty), national
    /// quintiles, or the ICB's local quintiles (equity.md §2: the ICB's
    /// registered population in fifths by national rank).
    #[arg(long, value_enum, default_value = "imd_decile")]
    pub by: GroupType,
    /// Show exact counts, including 1 to 7. The output is stamped NOT FOR SHARING.
    #[arg(long)]
    pub no_disclosure_control: bool,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub async fn run(a: InequalitiesArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let pipeline = super::open_with_features(&a.common, printer).await?;
    let config = pipeline.indicator_config()?;
    let chosen = config.select(&a.indicators)?;
    let tallies = pipeline.tallies(&chosen).await?;
    if a.by == GroupType::LocalQuintile
        && OrderKeys::of(&pipeline.ctx).await?.order == LocalOrder::Decile
    {
        // equity.md §2: without ranks, say so and use the deciles.
        eprintln!(
            "warning: imd has no imd_rank for every LSOA, so local quintiles order the LSOAs by IMD decile (an LSOA's decile stands in for its rank; give the IoD file with its ranks to cut by rank)"
        );
    }
    let disclosure = Disclosure::from_flag(a.no_disclosure_control);
    let published = PublishedCounts::of(&tallies, disclosure);
    let options = inequalities::Options {
        by: a.by,
        simulation: config.simulation.clone(),
    };
    let out = crate::pipeline::indicator_statistics(&tallies, &published, chosen.len(), &options)?;
    inequalities::write(&a.out, &out)?;
    super::write_manifest(&a.out, "inequalities", &pipeline, &chosen, &published)?;
    say!(
        "Inequalities at {} for {} indicators by {} (positive SII = higher among the more deprived):",
        pipeline.as_of,
        chosen.len(),
        a.by.as_str()
    );
    for s in out
        .sii
        .iter()
        .filter(|s| s.area_type == inequalities::AreaType::Icb)
    {
        let f = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
        say!(
            "  {} {}: SII {} (95% {} to {}), RII {}",
            s.indicator,
            s.area_code,
            f(s.sii),
            f(s.sii_lower95),
            f(s.sii_upper95),
            f(s.rii)
        );
    }
    say!("{}", disclosure.statement());
    say!("Written to {}", a.out.display());
    Ok(())
}
