//! `phm compare`: funnel plot data and a league table for one indicator.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{ExtractArgs, Printer};
use crate::disclosure::Disclosure;
use crate::error::Result;
use crate::indicators::{self, IndicatorConfig};
use crate::inequalities::AreaType;

/// Level of the areas compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    Pcn,
    Practice,
}

/// Compare PCNs (or practices) on one indicator: each area's value against
/// the overall value with 95% and 99.8% funnel limits, and a league table.
/// Writes funnel.csv, league.csv and funnel_limits.csv (JSON beside each),
/// with disclosure control applied (rules.md §6) unless switched off.
///
/// Example: phm compare --extract sample-data/extract --indicator high_need --out out/compare
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
    /// Indicator to compare (a name in indicators.toml).
    #[arg(long, value_name = "NAME")]
    pub indicator: String,
    #[arg(long, value_enum, default_value = "pcn")]
    pub level: Level,
    /// Show exact counts, including 1 to 7. The output is stamped NOT FOR SHARING.
    #[arg(long)]
    pub no_disclosure_control: bool,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub async fn run(a: CompareArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let pipeline = super::open_with_features(&a.common, printer).await?;
    let config = IndicatorConfig::load(&pipeline.rules)?;
    let chosen = config.select(std::slice::from_ref(&a.indicator))?;
    let cells = indicators::count(&pipeline.ctx, &chosen, &pipeline.rules.origin).await?;
    let disclosure = Disclosure::from_flag(a.no_disclosure_control);
    let level = match a.level {
        Level::Pcn => AreaType::Pcn,
        Level::Practice => AreaType::Practice,
    };
    let c = crate::compare::compare(&chosen[0], 0, &cells, level, disclosure)?;
    crate::compare::write(&a.out, &c)?;
    super::write_manifest(&a.out, "compare", &pipeline, &chosen, disclosure)?;
    for code in &c.empty_areas {
        printer.note(format!(
            "phm: {} {code} has nobody in the denominator of `{}`; left out",
            level.as_str(),
            a.indicator
        ));
    }
    println!(
        "{} by {} at {}:",
        chosen[0].title,
        level.as_str(),
        pipeline.as_of
    );
    for r in &c.league {
        let v = r.value.map_or("suppressed".into(), |v| format!("{v:.2}"));
        println!("  {:>3}. {} {v} — {}", r.rank, r.area_code, r.significance);
    }
    println!("{}", disclosure.statement());
    println!("Written to {}", a.out.display());
    Ok(())
}
