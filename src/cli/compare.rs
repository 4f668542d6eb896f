//! `phm compare`: funnel plot data and a league table for one indicator.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{ExtractArgs, Printer};
use crate::analysis::benchmarks::{self, AreaFigure};
use crate::analysis::disclosure::Disclosure;
use crate::analysis::inequalities::AreaType;
use crate::analysis::published::PublishedCounts;
use crate::error::Result;

/// Level of the areas compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    Pcn,
    Practice,
}

/// Compare PCNs (or practices) on indicators: each area's value against the
/// overall value with 95% and 99.8% funnel limits, and a league table.
/// Writes funnel.csv, league.csv and funnel_limits.csv (JSON beside each;
/// one block of rows per indicator), with disclosure control applied
/// (rules.md §6) unless switched off; with --benchmark, benchmark.csv.
///
/// Example: phm compare --extract sample-data/extract --indicator high_need --out out/compare
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
    /// Indicator to compare (a name in indicators.toml; repeatable).
    /// Default: every indicator.
    #[arg(long = "indicator", value_name = "NAME")]
    pub indicators: Vec<String>,
    #[arg(long, value_enum, default_value = "pcn")]
    pub level: Level,
    #[command(flatten)]
    pub benchmark: super::BenchmarkArgs,
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
    let (pipeline, benchmarks) =
        super::open_with_benchmarks(&a.common, &a.benchmark, printer).await?;
    let config = pipeline.indicator_config()?;
    let chosen = config.select(&a.indicators)?;
    let tallies = pipeline.tallies(&chosen).await?;
    let disclosure = Disclosure::from_flag(a.no_disclosure_control);
    let published = PublishedCounts::of(&tallies, disclosure);
    let level = match a.level {
        Level::Pcn => AreaType::Pcn,
        Level::Practice => AreaType::Practice,
    };
    let comparisons = (0..chosen.len())
        .map(|k| crate::analysis::compare::compare(&tallies, &published, k, level))
        .collect::<Result<Vec<_>>>()?;
    crate::analysis::compare::write(&a.out, &comparisons)?;
    let areas: Vec<AreaFigure> = comparisons
        .iter()
        .flat_map(|c| {
            c.league.iter().map(|r| AreaFigure {
                indicator: &r.indicator,
                area_type: level,
                area_code: &r.area_code,
                value: r.value,
                lower95: r.lower95,
                upper95: r.upper95,
            })
        })
        .collect();
    let against = benchmarks::compare_and_write(&a.out, &areas, &benchmarks, &chosen)?;
    super::write_manifest(&a.out, "compare", &pipeline, &chosen, &published)?;
    for c in &comparisons {
        for code in &c.empty_areas {
            printer.note(format!(
                "phm: {} {code} has nobody in the denominator of `{}`; left out",
                level.as_str(),
                c.indicator.name
            ));
        }
        say!(
            "{} by {} at {}:",
            c.indicator.title,
            level.as_str(),
            pipeline.as_of
        );
        for r in &c.league {
            let v = r.value.map_or("suppressed".into(), |v| format!("{v:.2}"));
            let label = r
                .significance
                .map_or(crate::analysis::compare::SUPPRESSED_LABEL, |s| s.as_str());
            say!("  {:>3}. {} {v} — {label}", r.rank, r.area_code);
        }
    }
    super::say_benchmarks(&against)?;
    say!("{}", disclosure.statement());
    say!("Written to {}", a.out.display());
    Ok(())
}
