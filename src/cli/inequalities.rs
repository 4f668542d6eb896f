//! `phm inequalities`: indicators by deprivation with SII/RII and quintile gaps.

use std::path::PathBuf;

use clap::Args;

use super::{ExtractArgs, Printer};
use crate::analysis::benchmarks::{self, AreaFigure};
use crate::analysis::breakdowns::Dimension;
use crate::analysis::disclosure::Disclosure;
use crate::analysis::inequalities::{self, GroupType};
use crate::analysis::local_quintiles::{LocalOrder, OrderKeys};
use crate::analysis::published::{BreakdownCounts, PublishedCounts};
use crate::error::Result;

/// For each indicator of indicators.toml, for the ICB and each PCN: values by
/// IMD group (with an "unknown" row and an "all" row), the slope and relative
/// index of inequality, and the most- vs least-deprived quintile ratio and gap.
/// Writes inequalities.csv, sii.csv and gap.csv (JSON beside each), and
/// benchmark.csv with --benchmark.
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
    /// Grouping. Deprivation, with the SII and quintile gap: national
    /// deciles (the SII falls back to quintiles when a decile is empty),
    /// national quintiles, or the ICB's local quintiles (equity.md §2: the
    /// ICB's registered population in fifths by national rank). Or a
    /// breakdown (equity.md §1): sex, age band, ethnic group, or each PLUS
    /// flag and core20 as yes/no; these have no order, so instead of an SII
    /// each category is compared with the largest (ratio.csv).
    #[arg(long, value_enum, default_value = "imd_decile")]
    pub by: By,
    #[command(flatten)]
    pub benchmark: super::BenchmarkArgs,
    /// Show exact counts, including 1 to 7. The output is stamped NOT FOR SHARING.
    #[arg(long)]
    pub no_disclosure_control: bool,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// What `--by` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    #[value(name = "imd_decile")]
    ImdDecile,
    #[value(name = "imd_quintile")]
    ImdQuintile,
    #[value(name = "local_quintile")]
    LocalQuintile,
    Sex,
    #[value(name = "age_band")]
    AgeBand,
    #[value(name = "ethnic_group")]
    EthnicGroup,
    #[value(name = "plus_group")]
    PlusGroup,
}

impl By {
    /// A deprivation grouping, or the breakdown dimension.
    fn grouping(self) -> std::result::Result<GroupType, Dimension> {
        match self {
            By::ImdDecile => Ok(GroupType::Decile),
            By::ImdQuintile => Ok(GroupType::Quintile),
            By::LocalQuintile => Ok(GroupType::LocalQuintile),
            By::Sex => Err(Dimension::Sex),
            By::AgeBand => Err(Dimension::AgeBand),
            By::EthnicGroup => Err(Dimension::EthnicGroup),
            By::PlusGroup => Err(Dimension::PlusGroup),
        }
    }
}

pub async fn run(a: InequalitiesArgs) -> Result<()> {
    match a.by.grouping() {
        Ok(by) => by_deprivation(a, by).await,
        Err(dimension) => by_breakdown(a, dimension).await,
    }
}

/// A breakdown (equity.md §1): inequalities.csv by category, and ratio.csv.
async fn by_breakdown(a: InequalitiesArgs, dimension: Dimension) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let (pipeline, benchmarks) =
        super::open_with_benchmarks(&a.common, &a.benchmark, printer).await?;
    let config = pipeline.indicator_config()?;
    let chosen = config.select(&a.indicators)?;
    let mut watch = crate::engine::timings::Stopwatch::start();
    let tallies = pipeline.tallies(&chosen).await?;
    watch.lap("tallies");
    let breakdowns = pipeline.breakdown_tallies(&chosen).await?;
    watch.lap("breakdown tallies");
    let disclosure = Disclosure::from_flag(a.no_disclosure_control);
    let published = PublishedCounts::of(&tallies, disclosure);
    watch.lap("published");
    let breakdown_counts = BreakdownCounts::of(&tallies, &published, &breakdowns);
    watch.lap("breakdowns published");
    let input = inequalities::BreakdownInput {
        tallies: &tallies,
        published: &published,
        breakdowns: &breakdowns,
        breakdown_counts: &breakdown_counts,
    };
    let out = inequalities::compute_breakdown(&input, chosen.len(), dimension)?;
    inequalities::write_breakdown(&a.out, &out)?;
    let areas = AreaFigure::of_rows(&out.rows);
    let against = benchmarks::compare_and_write(&a.out, &areas, &benchmarks, &chosen)?;
    super::write_manifest(&a.out, "inequalities", &pipeline, &chosen, &published)?;
    say!(
        "Inequalities at {} for {} indicators by {}; in the ICB, where a category differs from the largest known one (95% interval of the ratio excludes 1):",
        pipeline.as_of,
        chosen.len(),
        dimension.as_str()
    );
    for r in out
        .ratios
        .iter()
        .filter(|r| r.area_type == inequalities::AreaType::Icb)
        .filter(|r| r.ratio_lower95 > Some(1.0) || r.ratio_upper95.is_some_and(|u| u < 1.0))
    {
        let f = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
        say!(
            "  {} {} {}={} vs {}: ratio {} (95% {} to {})",
            r.indicator,
            r.area_code,
            r.group_type,
            r.group,
            r.reference_group.unwrap_or("–"),
            f(r.ratio),
            f(r.ratio_lower95),
            f(r.ratio_upper95)
        );
    }
    super::say_benchmarks(&against)?;
    say!("{}", disclosure.statement());
    say!("Written to {}", a.out.display());
    Ok(())
}

/// By deprivation: inequalities.csv, sii.csv and gap.csv.
async fn by_deprivation(a: InequalitiesArgs, by: GroupType) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let (pipeline, benchmarks) =
        super::open_with_benchmarks(&a.common, &a.benchmark, printer).await?;
    let config = pipeline.indicator_config()?;
    let chosen = config.select(&a.indicators)?;
    let tallies = pipeline.tallies(&chosen).await?;
    if by == GroupType::LocalQuintile
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
        by,
        simulation: config.simulation.clone(),
    };
    let out = crate::pipeline::indicator_statistics(&tallies, &published, chosen.len(), &options)?;
    inequalities::write(&a.out, &out)?;
    let areas = AreaFigure::of_rows(&out.rows);
    let against = benchmarks::compare_and_write(&a.out, &areas, &benchmarks, &chosen)?;
    super::write_manifest(&a.out, "inequalities", &pipeline, &chosen, &published)?;
    say!(
        "Inequalities at {} for {} indicators by {} (positive SII = higher among the more deprived):",
        pipeline.as_of,
        chosen.len(),
        by.as_str()
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
    super::say_benchmarks(&against)?;
    say!("{}", disclosure.statement());
    say!("Written to {}", a.out.display());
    Ok(())
}
