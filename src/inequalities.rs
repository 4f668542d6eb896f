//! `phm inequalities`: each indicator by deprivation group for the ICB and
//! each PCN, with the SII/RII and the quintile ratio and gap (metrics.md §1–5,
//! output files §7). Works on the counts of indicators.rs; the maths is
//! `stats`. Patients whose IMD is unknown get their own "unknown" row and are
//! left out of the SII and gap, which need a deprivation rank.

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::disclosure::{Disclosure, NOTE_SUPPRESSED};
use crate::error::{PhmError, Result};
use crate::indicators::{CountCell, Indicator, Measure, Simulation, AGE_BANDS};
use crate::stats::{self, Estimate, GapGroup, GapKind, SiiGroup, SiiOptions, ValueType};

/// Deprivation grouping: IMD deciles (10) or quintiles (5), 1 = most deprived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
pub enum GroupType {
    #[value(name = "imd_decile")]
    #[serde(rename = "imd_decile")]
    Decile,
    #[value(name = "imd_quintile")]
    #[serde(rename = "imd_quintile")]
    Quintile,
}

impl GroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Decile => "imd_decile",
            GroupType::Quintile => "imd_quintile",
        }
    }

    /// Number of groups.
    pub fn groups(self) -> usize {
        match self {
            GroupType::Decile => 10,
            GroupType::Quintile => 5,
        }
    }

    /// The group (1-based) of a national IMD decile: quintile = (decile + 1) / 2.
    fn of_decile(self, decile: i32) -> Option<usize> {
        if !(1..=10).contains(&decile) {
            return None;
        }
        Some(match self {
            GroupType::Decile => decile as usize,
            GroupType::Quintile => (decile as usize).div_ceil(2),
        })
    }
}

/// Whose figures a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AreaType {
    Icb,
    Pcn,
    Practice,
}

impl AreaType {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaType::Icb => "icb",
            AreaType::Pcn => "pcn",
            AreaType::Practice => "practice",
        }
    }

    /// The code of the area a cell belongs to at this level.
    pub fn code_of(self, c: &CountCell) -> &str {
        match self {
            AreaType::Icb => &c.icb_code,
            AreaType::Pcn => &c.pcn_code,
            AreaType::Practice => &c.practice_code,
        }
    }
}

/// One indicator's counts for a set of patients, kept by age band for DSRs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub numerator: i64,
    pub denominator: i64,
    pub band_numerator: [i64; AGE_BANDS],
    pub band_denominator: [i64; AGE_BANDS],
}

impl Tally {
    /// Adds indicator `k` of a cell.
    pub fn add(&mut self, cell: &CountCell, k: usize) {
        let (x, n) = (cell.numerators[k], cell.denominators[k]);
        self.numerator += x;
        self.denominator += n;
        self.band_numerator[cell.age_band] += x;
        self.band_denominator[cell.age_band] += n;
    }
}

/// An indicator's value for one group: the counts it came from, and the
/// estimate or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupValue {
    /// People (proportion), events (crude rate) or O = Σxᵢ (DSR).
    pub numerator: i64,
    /// People in the denominator population.
    pub denominator: i64,
    pub estimate: Option<Estimate>,
    pub note: Option<String>,
}

/// The indicator's value for a tally, by its method (metrics.md §1–3).
pub fn group_value(ind: &Indicator, t: &Tally) -> Result<GroupValue> {
    let stats_err =
        |e: stats::StatsError| PhmError::Input(format!("indicator `{}`: {e}", ind.name));
    let m = ind.multiplier;
    if ind.standardised {
        let bands = ind.bands();
        let first = *bands.start();
        let counts: Vec<(f64, f64)> = bands
            .map(|b| (t.band_numerator[b] as f64, t.band_denominator[b] as f64))
            .collect();
        let r = stats::dsr_esp2013(&counts, first, m).map_err(stats_err)?;
        return Ok(GroupValue {
            numerator: r.total_count as i64,
            denominator: r.total_pop as i64,
            estimate: r.estimate,
            note: r.note.map(str::to_string),
        });
    }
    let (x, n) = (t.numerator, t.denominator);
    if n == 0 {
        return Ok(GroupValue {
            numerator: x,
            denominator: n,
            estimate: None,
            note: Some("no patients in the denominator".into()),
        });
    }
    let estimate = match ind.measure {
        Measure::Proportion => stats::proportion(x as f64, n as f64, m),
        Measure::Rate => stats::rate(x as f64, n as f64, m),
    }
    .map_err(stats_err)?;
    Ok(GroupValue {
        numerator: x,
        denominator: n,
        estimate: Some(estimate),
        note: None,
    })
}

/// A row of `inequalities.csv` (metrics.md §7).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InequalityRow {
    pub indicator: String,
    pub area_type: AreaType,
    pub area_code: String,
    pub group_type: GroupType,
    /// `1`…`10`, `unknown` or `all`.
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
    pub disclosure: Disclosure,
    pub simulation: Simulation,
}

/// The groups of one area: `k` deprivation groups, then unknown, then all.
#[derive(Debug, Clone)]
pub struct AreaGroups {
    pub groups: Vec<Tally>,
    pub unknown: Tally,
    pub all: Tally,
}

/// Tallies indicator `k` over the cells of one area by `by`.
pub fn area_groups<'a>(
    cells: impl Iterator<Item = &'a CountCell>,
    k: usize,
    by: GroupType,
) -> AreaGroups {
    let mut g = AreaGroups {
        groups: vec![Tally::default(); by.groups()],
        unknown: Tally::default(),
        all: Tally::default(),
    };
    for c in cells {
        match c.imd_decile.and_then(|d| by.of_decile(d)) {
            Some(j) => g.groups[j - 1].add(c, k),
            None => g.unknown.add(c, k),
        }
        g.all.add(c, k);
    }
    g
}

/// The ICB and PCN areas present, ICBs first, each sorted by code.
pub fn areas(cells: &[CountCell]) -> Vec<(AreaType, String)> {
    let mut set = std::collections::BTreeSet::new();
    for c in cells {
        set.insert((AreaType::Icb, c.icb_code.clone()));
        set.insert((AreaType::Pcn, c.pcn_code.clone()));
    }
    set.into_iter().collect()
}

fn scaled(e: &Option<Estimate>, f: impl Fn(&Estimate) -> f64) -> Option<f64> {
    e.as_ref().map(f)
}

/// The `inequalities.csv` row of a group, with disclosure control applied.
fn inequality_row(
    ind: &Indicator,
    area: &(AreaType, String),
    by: GroupType,
    group: String,
    v: &GroupValue,
    disclosure: Disclosure,
) -> InequalityRow {
    let (numerator, denominator) = (
        disclosure.count(v.numerator),
        disclosure.count(v.denominator),
    );
    let hidden = numerator.is_none() || denominator.is_none();
    let est = if hidden { None } else { v.estimate };
    let note = if hidden {
        Some(NOTE_SUPPRESSED.to_string())
    } else {
        v.note.clone()
    };
    InequalityRow {
        indicator: ind.name.clone(),
        area_type: area.0,
        area_code: area.1.clone(),
        group_type: by,
        group,
        numerator,
        denominator,
        value: scaled(&est, |e| e.value),
        lower95: scaled(&est, |e| e.lower95),
        upper95: scaled(&est, |e| e.upper95),
        lower998: scaled(&est, |e| e.lower998),
        upper998: scaled(&est, |e| e.upper998),
        method: est.map(|e| e.method.as_str()),
        note,
    }
}

/// SII groups on the per-head scale with the indicator's multiplier.
fn sii_groups(ind: &Indicator, values: &[GroupValue]) -> Vec<SiiGroup> {
    let m = ind.multiplier;
    values
        .iter()
        .map(|v| match &v.estimate {
            Some(e) => SiiGroup {
                value: e.value / m,
                lower95: e.lower95 / m,
                upper95: e.upper95 / m,
                population: v.denominator as f64,
            },
            None => SiiGroup {
                value: f64::NAN,
                lower95: f64::NAN,
                upper95: f64::NAN,
                population: v.denominator as f64,
            },
        })
        .collect()
}

/// The value type the SII simulation draws on.
fn value_type(ind: &Indicator) -> ValueType {
    match ind.measure {
        Measure::Proportion => ValueType::Proportion,
        Measure::Rate => ValueType::Rate,
    }
}

/// SII/RII of an area on `by`, falling back to quintiles when deciles are
/// incomplete (metrics.md §4), with a note saying so.
fn sii_row(
    ind: &Indicator,
    area: &(AreaType, String),
    by_values: &[(GroupType, Vec<GroupValue>)],
    sim: &Simulation,
) -> Result<SiiRow> {
    let options = SiiOptions {
        value_type: value_type(ind),
        multiplier: ind.multiplier,
        repetitions: sim.repetitions,
        seed: sim.seed,
    };
    let mut earlier: Vec<String> = Vec::new();
    let mut last = None;
    for (by, values) in by_values {
        let r = stats::sii(&sii_groups(ind, values), &options)
            .map_err(|e| PhmError::Input(format!("indicator `{}`: {e}", ind.name)))?;
        let computed = r.sii.is_some();
        last = Some((*by, r));
        if computed {
            break;
        }
        if let Some((_, r)) = &last {
            earlier.push(format!(
                "by {}: {}",
                by.as_str(),
                r.note.as_deref().unwrap_or("not computed")
            ));
        }
    }
    let (by, r) = last.ok_or_else(|| PhmError::Input("no deprivation grouping to fit".into()))?;
    let mut notes = Vec::new();
    if r.sii.is_some() && !earlier.is_empty() {
        notes.push(format!(
            "{}; fitted on {} instead",
            earlier.join("; "),
            by.as_str()
        ));
    } else if r.sii.is_none() {
        notes.extend(earlier.iter().cloned());
    }
    if r.sii.is_some() {
        notes.extend(r.note.clone());
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

/// Quintile 1 against quintile 5 (metrics.md §5); disclosure control hides
/// the row when either quintile's counts are suppressed.
fn gap_row(
    ind: &Indicator,
    area: &(AreaType, String),
    quintiles: &[GroupValue],
    disclosure: Disclosure,
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
    let (q1, q5) = (&quintiles[0], &quintiles[4]);
    if [q1, q5]
        .iter()
        .any(|q| disclosure.suppresses(q.numerator) || disclosure.suppresses(q.denominator))
    {
        row.note = Some(NOTE_SUPPRESSED.into());
        return Ok(row);
    }
    let (Some(e1), Some(e5)) = (q1.estimate, q5.estimate) else {
        let why = |q: &GroupValue, name: &str| {
            q.estimate
                .is_none()
                .then(|| format!("{name} has no value ({})", q.note.as_deref().unwrap_or("")))
        };
        row.q1_value = q1.estimate.map(|e| e.value);
        row.q5_value = q5.estimate.map(|e| e.value);
        let notes: Vec<String> = [why(q1, "quintile 1"), why(q5, "quintile 5")]
            .into_iter()
            .flatten()
            .collect();
        row.note = Some(notes.join("; "));
        return Ok(row);
    };
    let group = |q: &GroupValue, e: &Estimate| GapGroup {
        numerator: q.numerator as f64,
        denominator: q.denominator as f64,
        value: e.value,
        lower95: e.lower95,
        upper95: e.upper95,
    };
    let kind = match ind.measure {
        Measure::Proportion => GapKind::Proportion,
        Measure::Rate => GapKind::Rate,
    };
    let g = stats::quintile_gap(&group(q1, &e1), &group(q5, &e5), kind)
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

/// The values of an area's groups on one grouping.
fn values_by(
    ind: &Indicator,
    cells: &[&CountCell],
    k: usize,
    by: GroupType,
) -> Result<(Vec<GroupValue>, GroupValue, GroupValue)> {
    let g = area_groups(cells.iter().copied(), k, by);
    let values = g
        .groups
        .iter()
        .map(|t| group_value(ind, t))
        .collect::<Result<Vec<_>>>()?;
    Ok((
        values,
        group_value(ind, &g.unknown)?,
        group_value(ind, &g.all)?,
    ))
}

/// One (indicator, area) pair's rows.
fn area_result(
    k: usize,
    ind: &Indicator,
    area: &(AreaType, String),
    cells: &[CountCell],
    options: &Options,
) -> Result<(Vec<InequalityRow>, SiiRow, GapRow)> {
    let mine: Vec<&CountCell> = cells
        .iter()
        .filter(|c| area.0.code_of(c) == area.1)
        .collect();
    let (by_values, unknown, all) = values_by(ind, &mine, k, options.by)?;
    let mut rows: Vec<InequalityRow> = by_values
        .iter()
        .enumerate()
        .map(|(j, v)| {
            inequality_row(
                ind,
                area,
                options.by,
                (j + 1).to_string(),
                v,
                options.disclosure,
            )
        })
        .collect();
    rows.push(inequality_row(
        ind,
        area,
        options.by,
        "unknown".into(),
        &unknown,
        options.disclosure,
    ));
    rows.push(inequality_row(
        ind,
        area,
        options.by,
        "all".into(),
        &all,
        options.disclosure,
    ));
    let quintiles = match options.by {
        GroupType::Quintile => by_values.clone(),
        GroupType::Decile => values_by(ind, &mine, k, GroupType::Quintile)?.0,
    };
    let mut tries = vec![(options.by, by_values)];
    if options.by == GroupType::Decile {
        tries.push((GroupType::Quintile, quintiles.clone()));
    }
    let sii = sii_row(ind, area, &tries, &options.simulation)?;
    let gap = gap_row(ind, area, &quintiles, options.disclosure)?;
    Ok((rows, sii, gap))
}

/// All rows for the given indicators (in their order) over the ICB and PCN
/// areas (sorted), the SIIs simulated in parallel.
pub fn compute(
    indicators: &[Indicator],
    cells: &[CountCell],
    options: &Options,
) -> Result<Inequalities> {
    let areas = areas(cells);
    let jobs: Vec<(usize, &Indicator, &(AreaType, String))> = indicators
        .iter()
        .enumerate()
        .flat_map(|(k, ind)| areas.iter().map(move |a| (k, ind, a)))
        .collect();
    let results = jobs
        .par_iter()
        .map(|&(k, ind, area)| area_result(k, ind, area, cells, options))
        .collect::<Result<Vec<_>>>()?;
    let mut out = Inequalities::default();
    for (rows, sii, gap) in results {
        out.rows.extend(rows);
        out.sii.push(sii);
        out.gap.push(gap);
    }
    Ok(out)
}

/// Serialises rows as CSV (nulls as empty cells).
pub fn csv_of<T: Serialize>(rows: &[T], header: &[&str]) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let err = |e: csv::Error| PhmError::Input(format!("cannot write CSV: {e}"));
    w.write_record(header).map_err(err)?;
    for r in rows {
        w.serialize(r).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| PhmError::Input(format!("cannot write CSV: {e}")))
}

/// Writes `NAME.csv` and `NAME.json` into `dir`, each atomically.
pub fn write_pair<T: Serialize>(dir: &Path, name: &str, rows: &[T], header: &[&str]) -> Result<()> {
    let csv_path = dir.join(format!("{name}.csv"));
    crate::output::write_atomic(&csv_path, &csv_of(rows, header)?)
        .map_err(|e| PhmError::write(&csv_path, e))?;
    let json_path = dir.join(format!("{name}.json"));
    let json = serde_json::to_vec_pretty(rows)
        .map_err(|e| PhmError::Input(format!("cannot write JSON: {e}")))?;
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

    fn cell(decile: Option<i32>, band: usize, x: i64, n: i64) -> CountCell {
        CountCell {
            icb_code: "Q1".into(),
            pcn_code: "U1".into(),
            practice_code: "P1".into(),
            imd_decile: decile,
            age_band: band,
            numerators: vec![x],
            denominators: vec![n],
        }
    }

    #[test]
    fn quintiles_pair_deciles_and_unknown_collects_the_rest() {
        let cells = [
            cell(Some(1), 3, 1, 10),
            cell(Some(2), 4, 2, 20),
            cell(Some(10), 3, 4, 40),
            cell(None, 3, 8, 80),
            cell(Some(0), 3, 16, 160), // not a decile: unknown, not dropped
        ];
        let g = area_groups(cells.iter(), 0, GroupType::Quintile);
        assert_eq!((g.groups[0].numerator, g.groups[0].denominator), (3, 30));
        assert_eq!((g.groups[4].numerator, g.groups[4].denominator), (4, 40));
        assert_eq!((g.unknown.numerator, g.unknown.denominator), (24, 240));
        assert_eq!((g.all.numerator, g.all.denominator), (31, 310));
        assert_eq!(g.all.band_denominator[3], 290);
        assert_eq!(g.all.band_denominator[4], 20);
    }

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
        let v = GroupValue {
            numerator: 1,
            denominator: 2,
            estimate: None,
            note: None,
        };
        let row = inequality_row(
            &crate::indicators::IndicatorConfig::load(&crate::rules::RuleSet::defaults())
                .unwrap()
                .indicators[0],
            &area,
            GroupType::Decile,
            "1".into(),
            &v,
            Disclosure::Off,
        );
        check(ser(&|w| w.serialize(&row).unwrap()), &INEQUALITIES_COLUMNS);
        let sii = SiiRow {
            indicator: "x".into(),
            area_type: AreaType::Icb,
            area_code: "Q".into(),
            group_type: GroupType::Decile,
            sii: None,
            sii_lower95: None,
            sii_upper95: None,
            sii_lower998: None,
            sii_upper998: None,
            rii: None,
            rii_lower95: None,
            rii_upper95: None,
            rii_lower998: None,
            rii_upper998: None,
            note: None,
        };
        check(ser(&|w| w.serialize(&sii).unwrap()), &SII_COLUMNS);
        let gap = GapRow {
            indicator: "x".into(),
            area_type: AreaType::Icb,
            area_code: "Q".into(),
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
        check(ser(&|w| w.serialize(&gap).unwrap()), &GAP_COLUMNS);
    }
}
