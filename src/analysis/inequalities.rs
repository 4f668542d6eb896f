//! `phm inequalities`: each indicator by deprivation group for the ICB and
//! each PCN, with the SII/RII and the quintile ratio and gap (metrics.md §1–5,
//! output files §7). Every figure is computed from the counts as published
//! (`published`, rules.md §6.2): with disclosure control on, from the rounded
//! counts; off, from the exact ones. Patients whose IMD is unknown get their
//! own "unknown" row and are left out of the SII and gap, which need a
//! deprivation rank.

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use super::breakdowns::{self, BreakdownTallies, Dimension};
use super::disclosure::NOTE_SUPPRESSED;
use super::indicators::{Indicator, Measure, Simulation};
use super::published::{self, published_figures, BreakdownCounts, Figures, PublishedCounts};
pub use super::tallies::{Area, AreaType, Group, Tallies};
use crate::error::{PhmError, Result};
use crate::stats::{self, Estimate, GapGroup, GapKind, SiiGroup, SiiOptions, ValueType};

/// Deprivation grouping: national IMD deciles (10) or quintiles (5), or the
/// ICB's local quintiles (5); 1 = most deprived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
pub enum GroupType {
    #[value(name = "imd_decile")]
    #[serde(rename = "imd_decile")]
    Decile,
    #[value(name = "imd_quintile")]
    #[serde(rename = "imd_quintile")]
    Quintile,
    /// The ICB's own population in fifths by national rank (equity.md §2).
    #[value(name = "local_quintile")]
    #[serde(rename = "local_quintile")]
    LocalQuintile,
}

impl GroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Decile => "imd_decile",
            GroupType::Quintile => "imd_quintile",
            GroupType::LocalQuintile => "local_quintile",
        }
    }

    /// Number of groups.
    pub fn groups(self) -> usize {
        match self {
            GroupType::Decile => 10,
            GroupType::Quintile | GroupType::LocalQuintile => 5,
        }
    }

    /// Group `j` (1-based) of this grouping.
    pub fn group(self, j: usize) -> Group {
        match self {
            GroupType::Decile => Group::Decile(j as u8),
            GroupType::Quintile => Group::Quintile(j as u8),
            GroupType::LocalQuintile => Group::Local(j as u8),
        }
    }
}

/// A row of `inequalities.csv` (metrics.md §7).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InequalityRow {
    pub indicator: String,
    pub area_type: AreaType,
    pub area_code: String,
    /// A deprivation grouping ([`GroupType`]) or a breakdown's partition.
    pub group_type: &'static str,
    /// `1`…`10`, `unknown` or `all`; a breakdown's category.
    pub group: String,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub value: Option<f64>,
    pub lower95: Option<f64>,
    pub upper95: Option<f64>,
    pub lower998: Option<f64>,
    pub upper998: Option<f64>,
    pub method: Option<&'static str>,
    pub note: Option<String>,
}

/// A row of `sii.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiiRow {
    pub indicator: String,
    pub area_type: AreaType,
    pub area_code: String,
    /// The grouping the SII was fitted on (quintiles when deciles were incomplete).
    pub group_type: GroupType,
    pub sii: Option<f64>,
    pub sii_lower95: Option<f64>,
    pub sii_upper95: Option<f64>,
    pub sii_lower998: Option<f64>,
    pub sii_upper998: Option<f64>,
    pub rii: Option<f64>,
    pub rii_lower95: Option<f64>,
    pub rii_upper95: Option<f64>,
    pub rii_lower998: Option<f64>,
    pub rii_upper998: Option<f64>,
    pub note: Option<String>,
}

/// A row of `gap.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapRow {
    pub indicator: String,
    pub area_type: AreaType,
    pub area_code: String,
    pub q1_value: Option<f64>,
    pub q5_value: Option<f64>,
    pub ratio: Option<f64>,
    pub ratio_lower95: Option<f64>,
    pub ratio_upper95: Option<f64>,
    pub gap: Option<f64>,
    pub gap_lower95: Option<f64>,
    pub gap_upper95: Option<f64>,
    pub note: Option<String>,
}

/// Everything `phm inequalities` writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inequalities {
    pub rows: Vec<InequalityRow>,
    pub sii: Vec<SiiRow>,
    pub gap: Vec<GapRow>,
}

/// How to compute.
#[derive(Debug, Clone)]
pub struct Options {
    pub by: GroupType,
    pub simulation: Simulation,
}

/// The `inequalities.csv` row of a group.
fn inequality_row(
    ind: &Indicator,
    area: &Area,
    group_type: &'static str,
    group: String,
    f: &Figures,
) -> InequalityRow {
    let e = f.estimate.as_ref();
    InequalityRow {
        indicator: ind.name.clone(),
        area_type: area.0,
        area_code: area.1.clone(),
        group_type,
        group,
        numerator: f.numerator,
        denominator: f.denominator,
        value: e.map(|e| e.value),
        lower95: e.map(|e| e.lower95),
        upper95: e.map(|e| e.upper95),
        lower998: e.map(|e| e.lower998),
        upper998: e.map(|e| e.upper998),
        method: e.map(|e| e.method.as_str()),
        note: f.note.clone(),
    }
}

/// SII groups on the per-head scale, or why there are none: every group
/// needs its value, interval and population, so one suppressed count
/// withholds the SII (rules.md §6.2).
fn sii_groups(ind: &Indicator, figures: &[Figures]) -> std::result::Result<Vec<SiiGroup>, String> {
    let m = ind.multiplier;
    if figures
        .iter()
        .any(|f| f.note.as_deref() == Some(NOTE_SUPPRESSED))
    {
        return Err("a group's counts are suppressed (disclosure control)".into());
    }
    Ok(figures
        .iter()
        .map(|f| match &f.estimate {
            Some(e) => SiiGroup {
                value: e.value / m,
                lower95: e.lower95 / m,
                upper95: e.upper95 / m,
                population: f.denominator.unwrap_or(0) as f64,
            },
            None => SiiGroup {
                value: f64::NAN,
                lower95: f64::NAN,
                upper95: f64::NAN,
                population: f.denominator.unwrap_or(0) as f64,
            },
        })
        .collect())
}

/// The value type the SII simulation draws on.
fn value_type(ind: &Indicator) -> ValueType {
    match ind.measure {
        Measure::Proportion => ValueType::Proportion,
        Measure::Rate => ValueType::Rate,
    }
}

/// The SII of one grouping's figures, or the reason it is withheld.
fn sii_on(ind: &Indicator, figures: &[Figures], sim: &Simulation) -> Result<stats::SiiResult> {
    let groups = match sii_groups(ind, figures) {
        Ok(g) => g,
        Err(why) => {
            return Ok(stats::SiiResult {
                note: Some(why),
                ..Default::default()
            })
        }
    };
    let options = SiiOptions {
        value_type: value_type(ind),
        multiplier: ind.multiplier,
        repetitions: sim.repetitions,
        seed: sim.seed,
    };
    stats::sii(&groups, &options)
        .map_err(|e| PhmError::Input(format!("indicator `{}`: {e}", ind.name)))
}

/// SII/RII of an area on the first grouping that has every group, falling
/// back from deciles to quintiles (metrics.md §4), with a note saying so.
fn sii_row(
    ind: &Indicator,
    area: &Area,
    tries: &[(GroupType, Vec<Figures>)],
    sim: &Simulation,
) -> Result<SiiRow> {
    let mut earlier: Vec<String> = Vec::new();
    let mut last = None;
    for (by, figures) in tries {
        let r = sii_on(ind, figures, sim)?;
        let computed = r.sii.is_some();
        if !computed {
            earlier.push(format!(
                "by {}: {}",
                by.as_str(),
                r.note.as_deref().unwrap_or("not computed")
            ));
        }
        last = Some((*by, r));
        if computed {
            break;
        }
    }
    let (by, r) =
        last.ok_or_else(|| PhmError::Internal("no deprivation grouping to fit".into()))?;
    let mut notes = Vec::new();
    if r.sii.is_some() {
        if !earlier.is_empty() {
            notes.push(format!(
                "{}; fitted on {} instead",
                earlier.join("; "),
                by.as_str()
            ));
        }
        notes.extend(r.note.clone());
    } else {
        notes.extend(earlier);
    }
    if r.rii.is_some_and(|v| v < 0.0) {
        notes.push(
            "RII below 0: the fitted line crosses zero before the least deprived end, \
             so read the SII instead"
                .into(),
        );
    }
    Ok(SiiRow {
        indicator: ind.name.clone(),
        area_type: area.0,
        area_code: area.1.clone(),
        group_type: by,
        sii: r.sii,
        sii_lower95: r.sii_lower95,
        sii_upper95: r.sii_upper95,
        sii_lower998: r.sii_lower998,
        sii_upper998: r.sii_upper998,
        rii: r.rii,
        rii_lower95: r.rii_lower95,
        rii_upper95: r.rii_upper95,
        rii_lower998: r.rii_lower998,
        rii_upper998: r.rii_upper998,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

/// Quintile 1 against quintile 5 (metrics.md §5), from their figures as
/// published; withheld when either quintile's counts are suppressed.
fn gap_row(ind: &Indicator, area: &Area, q1: &Figures, q5: &Figures) -> Result<GapRow> {
    gap_between(ind, area, (q1, "quintile 1"), (q5, "quintile 5"))
}

/// The ratio and gap of one group's figures against another's (metrics.md
/// §5), each named for the notes.
fn gap_between(
    ind: &Indicator,
    area: &Area,
    (q1, name1): (&Figures, &str),
    (q5, name5): (&Figures, &str),
) -> Result<GapRow> {
    let mut row = GapRow {
        indicator: ind.name.clone(),
        area_type: area.0,
        area_code: area.1.clone(),
        q1_value: None,
        q5_value: None,
        ratio: None,
        ratio_lower95: None,
        ratio_upper95: None,
        gap: None,
        gap_lower95: None,
        gap_upper95: None,
        note: None,
    };
    let counts = |f: &Figures| f.numerator.zip(f.denominator);
    let (Some((x1, n1)), Some((x5, n5))) = (counts(q1), counts(q5)) else {
        row.note = Some(NOTE_SUPPRESSED.into());
        return Ok(row);
    };
    let (Some(e1), Some(e5)) = (q1.estimate, q5.estimate) else {
        let why = |f: &Figures, name: &str| {
            f.estimate
                .is_none()
                .then(|| format!("{name} has no value ({})", f.note.as_deref().unwrap_or("")))
        };
        row.q1_value = q1.estimate.map(|e| e.value);
        row.q5_value = q5.estimate.map(|e| e.value);
        let notes: Vec<String> = [why(q1, name1), why(q5, name5)]
            .into_iter()
            .flatten()
            .collect();
        row.note = Some(notes.join("; "));
        return Ok(row);
    };
    let group = |x: i64, n: i64, e: &Estimate| GapGroup {
        numerator: x as f64,
        denominator: n as f64,
        value: e.value,
        lower95: e.lower95,
        upper95: e.upper95,
    };
    let kind = match ind.measure {
        Measure::Proportion => GapKind::Proportion,
        Measure::Rate => GapKind::Rate,
    };
    let g = stats::quintile_gap(&group(x1, n1, &e1), &group(x5, n5, &e5), kind)
        .map_err(|e| PhmError::Input(format!("indicator `{}`: {e}", ind.name)))?;
    row.q1_value = Some(g.q1_value);
    row.q5_value = Some(g.q5_value);
    row.ratio = g.ratio;
    row.ratio_lower95 = g.ratio_lower95;
    row.ratio_upper95 = g.ratio_upper95;
    row.gap = g.gap;
    row.gap_lower95 = g.gap_lower95;
    row.gap_upper95 = g.gap_upper95;
    row.note = g.note;
    Ok(row)
}

/// The published figures of one grouping's groups for an area.
fn figures_by(
    tallies: &Tallies,
    published: &PublishedCounts,
    k: usize,
    area: &Area,
    by: GroupType,
) -> Result<Vec<Figures>> {
    (1..=by.groups())
        .map(|j| published_figures(tallies, published, k, area, by.group(j)))
        .collect()
}

/// One (indicator, area) pair's rows.
fn area_result(
    tallies: &Tallies,
    published: &PublishedCounts,
    k: usize,
    area: &Area,
    options: &Options,
) -> Result<(Vec<InequalityRow>, SiiRow, GapRow)> {
    let ind = &tallies.indicators[k];
    let by_figures = figures_by(tallies, published, k, area, options.by)?;
    let mut rows: Vec<InequalityRow> = by_figures
        .iter()
        .enumerate()
        .map(|(j, f)| inequality_row(ind, area, options.by.as_str(), (j + 1).to_string(), f))
        .collect();
    for (name, group) in [("unknown", Group::Unknown), ("all", Group::All)] {
        let f = published_figures(tallies, published, k, area, group)?;
        rows.push(inequality_row(
            ind,
            area,
            options.by.as_str(),
            name.into(),
            &f,
        ));
    }
    let quintiles = match options.by {
        GroupType::Quintile | GroupType::LocalQuintile => by_figures.clone(),
        GroupType::Decile => figures_by(tallies, published, k, area, GroupType::Quintile)?,
    };
    let mut tries = vec![(options.by, by_figures)];
    if options.by == GroupType::Decile {
        tries.push((GroupType::Quintile, quintiles.clone()));
    }
    let sii = sii_row(ind, area, &tries, &options.simulation)?;
    let gap = gap_row(ind, area, &quintiles[0], &quintiles[4])?;
    Ok((rows, sii, gap))
}

/// All rows for the first `indicators` of the tallies (in their order) over
/// the ICB and PCN areas (sorted), from the published counts; the SIIs
/// simulated in parallel, once per indicator and area.
pub fn compute(
    tallies: &Tallies,
    published: &PublishedCounts,
    indicators: usize,
    options: &Options,
) -> Result<Inequalities> {
    let areas = tallies.geography.icbs_and_pcns();
    let jobs: Vec<(usize, &Area)> = (0..indicators.min(tallies.indicators.len()))
        .flat_map(|k| areas.iter().map(move |a| (k, a)))
        .collect();
    let results = jobs
        .par_iter()
        .map(|&(k, area)| area_result(tallies, published, k, area, options))
        .collect::<Result<Vec<_>>>()?;
    let mut out = Inequalities::default();
    for (rows, sii, gap) in results {
        out.rows.extend(rows);
        out.sii.push(sii);
        out.gap.push(gap);
    }
    Ok(out)
}

/// A row of `ratio.csv`: one breakdown category against the area's largest
/// (reference) category of the same partition, by metrics.md §5's ratio
/// (Katz interval) and gap; no SII, since the categories have no order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatioRow {
    pub indicator: String,
    pub area_type: AreaType,
    pub area_code: String,
    pub group_type: &'static str,
    pub group: &'static str,
    /// The category with the largest published denominator, leaving out
    /// the not-known ones (sex I/U, ethnicity not stated/unknown).
    pub reference_group: Option<&'static str>,
    pub value: Option<f64>,
    pub reference_value: Option<f64>,
    pub ratio: Option<f64>,
    pub ratio_lower95: Option<f64>,
    pub ratio_upper95: Option<f64>,
    pub gap: Option<f64>,
    pub gap_lower95: Option<f64>,
    pub gap_upper95: Option<f64>,
    pub note: Option<String>,
}

pub const RATIO_COLUMNS: [&str; 15] = [
    "indicator",
    "area_type",
    "area_code",
    "group_type",
    "group",
    "reference_group",
    "value",
    "reference_value",
    "ratio",
    "ratio_lower95",
    "ratio_upper95",
    "gap",
    "gap_lower95",
    "gap_upper95",
    "note",
];

/// What `phm inequalities --by` a breakdown writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BreakdownTables {
    pub rows: Vec<InequalityRow>,
    pub ratios: Vec<RatioRow>,
}

/// The published counts a breakdown is computed from.
pub struct BreakdownInput<'a> {
    pub tallies: &'a Tallies,
    pub published: &'a PublishedCounts,
    pub breakdowns: &'a BreakdownTallies,
    pub breakdown_counts: &'a BreakdownCounts,
}

/// The reference category of a partition: the largest published
/// denominator among the known categories (the first on a tie), if any
/// has one.
fn reference_of(part: usize, figures: &[Figures]) -> Option<usize> {
    let p = &breakdowns::PARTITIONS[part];
    let mut best: Option<(i64, usize)> = None;
    for (i, f) in figures.iter().enumerate() {
        if p.not_known.contains(&p.categories[i]) {
            continue;
        }
        if let Some(n) = f.denominator.filter(|&n| n > 0) {
            if best.is_none_or(|(b, _)| n > b) {
                best = Some((n, i));
            }
        }
    }
    best.map(|(_, i)| i)
}

/// One (indicator, area) pair's breakdown rows for `dimension`.
fn breakdown_area(
    input: &BreakdownInput,
    k: usize,
    area: &Area,
    dimension: Dimension,
) -> Result<(Vec<InequalityRow>, Vec<RatioRow>)> {
    let ind = &input.tallies.indicators[k];
    let (mut rows, mut ratios) = (Vec::new(), Vec::new());
    for &part in dimension.partitions() {
        let p = &breakdowns::PARTITIONS[part];
        let figures = (0..p.categories.len() as u8)
            .map(|i| {
                published::breakdown_figures(
                    input.tallies,
                    input.breakdowns,
                    input.breakdown_counts,
                    k,
                    area,
                    (part, i),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        for (i, f) in figures.iter().enumerate() {
            rows.push(inequality_row(ind, area, p.name, p.categories[i].into(), f));
        }
        let reference = reference_of(part, &figures);
        for (i, f) in figures.iter().enumerate() {
            let mut row = RatioRow {
                indicator: ind.name.clone(),
                area_type: area.0,
                area_code: area.1.clone(),
                group_type: p.name,
                group: p.categories[i],
                reference_group: reference.map(|r| p.categories[r]),
                value: f.estimate.map(|e| e.value),
                reference_value: None,
                ratio: None,
                ratio_lower95: None,
                ratio_upper95: None,
                gap: None,
                gap_lower95: None,
                gap_upper95: None,
                note: None,
            };
            match reference {
                None => {
                    row.note = Some(
                        "no reference group: no known category has a published denominator".into(),
                    )
                }
                Some(r) if r == i => {
                    row.reference_value = row.value;
                    row.note = Some("the reference group".into());
                }
                Some(r) => {
                    let g = gap_between(
                        ind,
                        area,
                        (f, p.categories[i]),
                        (&figures[r], "the reference group"),
                    )?;
                    row.reference_value = figures[r].estimate.map(|e| e.value);
                    row.ratio = g.ratio;
                    row.ratio_lower95 = g.ratio_lower95;
                    row.ratio_upper95 = g.ratio_upper95;
                    row.gap = g.gap;
                    row.gap_lower95 = g.gap_lower95;
                    row.gap_upper95 = g.gap_upper95;
                    row.note = g.note;
                }
            }
            ratios.push(row);
        }
        let all = published_figures(input.tallies, input.published, k, area, Group::All)?;
        rows.push(inequality_row(ind, area, p.name, "all".into(), &all));
    }
    Ok((rows, ratios))
}

/// Every indicator by a breakdown (equity.md §1) over the ICB and PCN
/// areas, from the published counts.
pub fn compute_breakdown(
    input: &BreakdownInput,
    indicators: usize,
    dimension: Dimension,
) -> Result<BreakdownTables> {
    let areas = input.tallies.geography.icbs_and_pcns();
    let mut out = BreakdownTables::default();
    for k in 0..indicators.min(input.tallies.indicators.len()) {
        for area in &areas {
            let (rows, ratios) = breakdown_area(input, k, area, dimension)?;
            out.rows.extend(rows);
            out.ratios.extend(ratios);
        }
    }
    Ok(out)
}

/// Writes `inequalities.csv` and `ratio.csv` (JSON beside each) into `dir`.
pub fn write_breakdown(dir: &Path, out: &BreakdownTables) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| PhmError::write(dir, e))?;
    write_pair(dir, "inequalities", &out.rows, &INEQUALITIES_COLUMNS)?;
    write_pair(dir, "ratio", &out.ratios, &RATIO_COLUMNS)
}

/// Serialises rows as CSV (nulls as empty cells).
pub fn csv_of<T: Serialize>(rows: &[T], header: &[&str]) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let err = |e: csv::Error| PhmError::Internal(format!("cannot serialise CSV: {e}"));
    w.write_record(header).map_err(err)?;
    for r in rows {
        w.serialize(r).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| PhmError::Internal(format!("cannot serialise CSV: {e}")))
}

/// Writes `NAME.csv` and `NAME.json` into `dir`, each atomically.
pub fn write_pair<T: Serialize>(dir: &Path, name: &str, rows: &[T], header: &[&str]) -> Result<()> {
    let csv_path = dir.join(format!("{name}.csv"));
    crate::output::write_atomic(&csv_path, &csv_of(rows, header)?)
        .map_err(|e| PhmError::write(&csv_path, e))?;
    let json_path = dir.join(format!("{name}.json"));
    let json = serde_json::to_vec_pretty(rows)
        .map_err(|e| PhmError::Internal(format!("cannot serialise JSON: {e}")))?;
    crate::output::write_atomic(&json_path, &json).map_err(|e| PhmError::write(&json_path, e))
}

/// Column names of the three files (metrics.md §7).
pub const INEQUALITIES_COLUMNS: [&str; 14] = [
    "indicator",
    "area_type",
    "area_code",
    "group_type",
    "group",
    "numerator",
    "denominator",
    "value",
    "lower95",
    "upper95",
    "lower998",
    "upper998",
    "method",
    "note",
];
pub const SII_COLUMNS: [&str; 15] = [
    "indicator",
    "area_type",
    "area_code",
    "group_type",
    "sii",
    "sii_lower95",
    "sii_upper95",
    "sii_lower998",
    "sii_upper998",
    "rii",
    "rii_lower95",
    "rii_upper95",
    "rii_lower998",
    "rii_upper998",
    "note",
];
pub const GAP_COLUMNS: [&str; 12] = [
    "indicator",
    "area_type",
    "area_code",
    "q1_value",
    "q5_value",
    "ratio",
    "ratio_lower95",
    "ratio_upper95",
    "gap",
    "gap_lower95",
    "gap_upper95",
    "note",
];

/// Writes the three files (and JSON beside each) into `dir`.
pub fn write(dir: &Path, out: &Inequalities) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| PhmError::write(dir, e))?;
    write_pair(dir, "inequalities", &out.rows, &INEQUALITIES_COLUMNS)?;
    write_pair(dir, "sii", &out.sii, &SII_COLUMNS)?;
    write_pair(dir, "gap", &out.gap, &GAP_COLUMNS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_line_up_with_the_row_fields() {
        let check = |text: String, want: &[&str]| {
            assert_eq!(text.lines().next().unwrap(), want.join(","));
        };
        let ser = |f: &dyn Fn(&mut csv::Writer<Vec<u8>>)| {
            let mut w = csv::Writer::from_writer(Vec::new());
            f(&mut w);
            String::from_utf8(w.into_inner().unwrap()).unwrap()
        };
        let area = (AreaType::Pcn, "U1".to_string());
        let f = Figures {
            numerator: Some(1),
            denominator: Some(2),
            estimate: None,
            note: None,
        };
        let ind =
            &crate::analysis::indicators::IndicatorConfig::load(&crate::rules::RuleSet::defaults())
                .unwrap()
                .indicators[0];
        let row = inequality_row(ind, &area, "imd_decile", "1".into(), &f);
        check(ser(&|w| w.serialize(&row).unwrap()), &INEQUALITIES_COLUMNS);
        let sim = Simulation {
            repetitions: 1000,
            seed: 1,
        };
        let sii = sii_row(
            ind,
            &area,
            &[(GroupType::Decile, vec![f.clone(); 10])],
            &sim,
        )
        .unwrap();
        check(ser(&|w| w.serialize(&sii).unwrap()), &SII_COLUMNS);
        let gap = gap_row(ind, &area, &f, &f).unwrap();
        check(ser(&|w| w.serialize(&gap).unwrap()), &GAP_COLUMNS);
    }
}
