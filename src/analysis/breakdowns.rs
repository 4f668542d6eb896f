//! Breakdowns beyond deprivation (equity.md §1): every indicator by sex, age
//! band, ethnic group and the PLUS flags. Each is a *partition* of the
//! registered population: every patient falls in exactly one of its
//! categories, so a partition's categories add up to the area's `all` row.
//!
//! The categories are equity.md's table, fixed by the spec (as the IMD
//! groups are), because disclosure control reasons with what they add up to.
//! Two partitions are tied to others by definition (rules.md §2):
//! `plus_ethnic_minority` is a union of ethnic groups, and `core20` is IMD
//! quintile 1. The counts keep those cross-classifications as never-published
//! *segments* (ethnic group × minority flag, IMD quintile × core20), so the
//! protector finds the ties in the data (an empty segment is known to be
//! empty) rather than trusting that an edited rule still matches.
//!
//! One aggregate query over `features` counts every partition at once,
//! grouped by practice and ESP2013 band (for DSRs); the rest is sums here.

use std::collections::HashMap;

use datafusion::prelude::SessionContext;

use super::indicators::{Indicator, AGE_BANDS};
use super::tallies::{Area, AreaType, Tally};
use crate::engine::decode::{int_at, text_at, Columns};
use crate::error::{PhmError, Result};
use crate::rules::RulesError;

/// One partition: a name (the `group_type` of its rows), its categories in
/// order, and the SQL giving a features row's category index.
#[derive(Debug)]
pub struct Partition {
    pub name: &'static str,
    pub categories: &'static [&'static str],
    /// Categories that say the value is not known: never the reference of
    /// a ratio ("compared with patients whose sex is unknown" means nothing).
    pub not_known: &'static [&'static str],
    sql: &'static str,
}

/// Index of each partition in [`PARTITIONS`].
pub const SEX: usize = 0;
pub const AGE_BAND: usize = 1;
pub const ETHNIC_GROUP: usize = 2;
pub const ETHNIC_MINORITY: usize = 3;
pub const INCLUSION_HEALTH: usize = 4;
pub const LEARNING_DISABILITY: usize = 5;
pub const CORE20: usize = 6;

const YES_NO: &[&str] = &["yes", "no"];

/// equity.md §1's table. Ethnic letters are the NHS Ethnic Category codes
/// (extract.md: A–S without I, O, Q, and Z); any other value is "treated as
/// not known", as the validator warns, so it counts as `Unknown`.
pub const PARTITIONS: [Partition; 7] = [
    Partition {
        name: "sex",
        categories: &["F", "M", "I", "U"],
        not_known: &["I", "U"],
        sql: "CASE sex WHEN 'F' THEN 0 WHEN 'M' THEN 1 WHEN 'I' THEN 2 ELSE 3 END",
    },
    Partition {
        name: "age_band",
        categories: &["0-17", "18-39", "40-64", "65-79", "80+"],
        not_known: &[],
        sql: "CASE WHEN age < 18 THEN 0 WHEN age < 40 THEN 1 WHEN age < 65 THEN 2 \
              WHEN age < 80 THEN 3 ELSE 4 END",
    },
    Partition {
        name: "ethnic_group",
        categories: &[
            "White",
            "Mixed",
            "Asian",
            "Black",
            "Other",
            "Not stated",
            "Unknown",
        ],
        not_known: &["Not stated", "Unknown"],
        sql: "CASE WHEN ethnicity IN ('A','B','C') THEN 0 \
              WHEN ethnicity IN ('D','E','F','G') THEN 1 \
              WHEN ethnicity IN ('H','J','K','L') THEN 2 \
              WHEN ethnicity IN ('M','N','P') THEN 3 \
              WHEN ethnicity IN ('R','S') THEN 4 \
              WHEN ethnicity = 'Z' THEN 5 ELSE 6 END",
    },
    Partition {
        name: "plus_ethnic_minority",
        categories: YES_NO,
        not_known: &[],
        sql: "CASE WHEN plus_ethnic_minority THEN 0 ELSE 1 END",
    },
    Partition {
        name: "plus_inclusion_health",
        categories: YES_NO,
        not_known: &[],
        sql: "CASE WHEN plus_inclusion_health THEN 0 ELSE 1 END",
    },
    Partition {
        name: "plus_learning_disability",
        categories: YES_NO,
        not_known: &[],
        sql: "CASE WHEN plus_learning_disability THEN 0 ELSE 1 END",
    },
    Partition {
        name: "core20",
        categories: YES_NO,
        not_known: &[],
        sql: "CASE WHEN core20 THEN 0 ELSE 1 END",
    },
];

/// National IMD quintile as the deprivation tables group it: 1–5, 0 when
/// the decile is unknown (`tallies::Group::of`).
const IMD_QUINTILE_SQL: &str =
    "CASE WHEN imd_decile BETWEEN 1 AND 10 THEN (imd_decile + 1) / 2 ELSE 0 END";

/// What `phm inequalities --by` can break down by beyond deprivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Sex,
    AgeBand,
    EthnicGroup,
    /// Each PLUS flag and core20, yes/no.
    PlusGroup,
}

impl Dimension {
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Sex => "sex",
            Dimension::AgeBand => "age_band",
            Dimension::EthnicGroup => "ethnic_group",
            Dimension::PlusGroup => "plus_group",
        }
    }

    /// The partitions shown for this dimension.
    pub fn partitions(self) -> &'static [usize] {
        match self {
            Dimension::Sex => &[SEX],
            Dimension::AgeBand => &[AGE_BAND],
            Dimension::EthnicGroup => &[ETHNIC_GROUP],
            Dimension::PlusGroup => &[
                ETHNIC_MINORITY,
                INCLUSION_HEALTH,
                LEARNING_DISABILITY,
                CORE20,
            ],
        }
    }
}

/// A category of a partition: `(partition, index)`.
pub type Category = (usize, u8);

/// The groups a breakdown count is kept for. Only `Category` is published;
/// the segments are what the protector must reckon with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cell {
    Category(Category),
    /// Ethnic group × `plus_ethnic_minority` (yes = 0, no = 1).
    EthnicSegment(u8, u8),
    /// IMD quintile (0 unknown, 1–5) × `core20` (yes = 0, no = 1).
    Core20Segment(u8, u8),
}

/// One row of the breakdown counts.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakdownCell {
    pub icb_code: String,
    pub pcn_code: String,
    /// ESP2013 band index.
    pub age_band: usize,
    /// Category index in each of [`PARTITIONS`].
    pub categories: [u8; PARTITIONS.len()],
    /// 0 unknown, 1–5.
    pub imd_quintile: u8,
    pub numerators: Vec<i64>,
    pub denominators: Vec<i64>,
}

impl BreakdownCell {
    /// Every cell this row counts in.
    fn cells(&self) -> impl Iterator<Item = Cell> + '_ {
        let c = &self.categories;
        (0..PARTITIONS.len())
            .map(move |p| Cell::Category((p, c[p])))
            .chain([
                Cell::EthnicSegment(c[ETHNIC_GROUP], c[ETHNIC_MINORITY]),
                Cell::Core20Segment(self.imd_quintile, c[CORE20]),
            ])
    }
}

/// The aggregate SQL: every indicator's numerator and denominator by ICB,
/// PCN, ESP2013 band, each partition's category and the IMD quintile.
pub fn breakdown_sql(indicators: &[Indicator]) -> String {
    let mut sql = String::from(
        "SELECT icb_code, pcn_code,\n  \
         CAST(CASE WHEN age >= 90 THEN 18 ELSE age / 5 END AS BIGINT) AS age_band",
    );
    for (p, part) in PARTITIONS.iter().enumerate() {
        sql.push_str(&format!(",\n  CAST({} AS BIGINT) AS part_{p}", part.sql));
    }
    sql.push_str(&format!(",\n  CAST({IMD_QUINTILE_SQL} AS BIGINT) AS imd_q"));
    for (k, i) in indicators.iter().enumerate() {
        let den = i.denominator_sql();
        sql.push_str(&format!(
            ",\n  CAST(SUM(CASE WHEN {den} THEN {} ELSE 0 END) AS BIGINT) AS num_{k}\
             ,\n  CAST(SUM(CASE WHEN {den} THEN 1 ELSE 0 END) AS BIGINT) AS den_{k}",
            i.numerator_sql()
        ));
    }
    let keys = 3 + PARTITIONS.len() + 1;
    let by: Vec<String> = (1..=keys).map(|i| i.to_string()).collect();
    sql.push_str(&format!("\nFROM features\nGROUP BY {}", by.join(", ")));
    sql
}

/// Runs the breakdown counts over the registered `features` table.
pub async fn count(
    ctx: &SessionContext,
    indicators: &[Indicator],
    origin: &str,
) -> Result<Vec<BreakdownCell>> {
    let batches = ctx.sql(&breakdown_sql(indicators)).await?.collect().await?;
    let origin = format!("{origin} (breakdown counts over features)");
    let mut out = Vec::new();
    for b in &batches {
        let c = Columns::new(b, &origin);
        let (icb, pcn, band) = (c.text("icb_code")?, c.text("pcn_code")?, c.int("age_band")?);
        let parts = (0..PARTITIONS.len())
            .map(|p| c.int(&format!("part_{p}")))
            .collect::<Result<Vec<_>, RulesError>>()?;
        let imd_q = c.int("imd_q")?;
        let sums = (0..indicators.len())
            .map(|k| Ok((c.int(&format!("num_{k}"))?, c.int(&format!("den_{k}"))?)))
            .collect::<Result<Vec<_>, RulesError>>()?;
        for r in 0..c.rows() {
            let age_band = int_at(&band, r).unwrap_or(-1);
            if !(0..AGE_BANDS as i64).contains(&age_band) {
                return Err(PhmError::Input(format!(
                    "features: a patient's age gives band {age_band}; ages must be 0 or more"
                )));
            }
            let mut categories = [0u8; PARTITIONS.len()];
            for (p, a) in parts.iter().enumerate() {
                categories[p] = int_at(a, r).unwrap_or(0) as u8;
            }
            out.push(BreakdownCell {
                icb_code: text_at(&icb, r).unwrap_or_default().to_string(),
                pcn_code: text_at(&pcn, r).unwrap_or_default().to_string(),
                age_band: age_band as usize,
                categories,
                imd_quintile: int_at(&imd_q, r).unwrap_or(0) as u8,
                numerators: sums
                    .iter()
                    .map(|(x, _)| int_at(x, r).unwrap_or(0))
                    .collect(),
                denominators: sums
                    .iter()
                    .map(|(_, n)| int_at(n, r).unwrap_or(0))
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// Every indicator's exact tally for every ICB and PCN and breakdown cell.
#[derive(Debug, Clone, Default)]
pub struct BreakdownTallies {
    /// Per (level, area code, cell): one tally per indicator.
    by_key: HashMap<(AreaType, String, Cell), Vec<Tally>>,
}

impl BreakdownTallies {
    pub fn of(indicators: usize, rows: &[BreakdownCell]) -> Self {
        let mut by_key: HashMap<(AreaType, String, Cell), Vec<Tally>> = HashMap::new();
        for r in rows {
            for (level, code) in [(AreaType::Icb, &r.icb_code), (AreaType::Pcn, &r.pcn_code)] {
                for cell in r.cells() {
                    let tallies = by_key
                        .entry((level, code.clone(), cell))
                        .or_insert_with(|| vec![Tally::default(); indicators]);
                    for (k, t) in tallies.iter_mut().enumerate() {
                        let (x, n) = (r.numerators[k], r.denominators[k]);
                        t.numerator += x;
                        t.denominator += n;
                        t.band_numerator[r.age_band] += x;
                        t.band_denominator[r.age_band] += n;
                    }
                }
            }
        }
        BreakdownTallies { by_key }
    }

    /// The exact tally (zero when the area has nobody in the cell).
    pub fn get(&self, k: usize, area: &Area, cell: Cell) -> Tally {
        self.by_key
            .get(&(area.0, area.1.clone(), cell))
            .and_then(|t| t.get(k))
            .cloned()
            .unwrap_or_default()
    }
}

/// Every category of every partition, in order.
pub fn categories() -> impl Iterator<Item = Category> {
    PARTITIONS
        .iter()
        .enumerate()
        .flat_map(|(p, part)| (0..part.categories.len() as u8).map(move |i| (p, i)))
}

/// Every never-published segment, in order.
pub fn segments() -> impl Iterator<Item = Cell> {
    let ethnic = PARTITIONS[ETHNIC_GROUP].categories.len() as u8;
    (0..ethnic)
        .flat_map(|g| (0..2).map(move |m| Cell::EthnicSegment(g, m)))
        .chain((0..=5).flat_map(|q| (0..2).map(move |c| Cell::Core20Segment(q, c))))
}

/// A category's name.
pub fn category_name((p, i): Category) -> &'static str {
    PARTITIONS[p].categories[i as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_partition_sql_gives_an_index_of_its_categories() {
        // The CASE arms are numbered 0..n-1 in the order of the categories,
        // with the last one the ELSE: count the THEN/ELSE arms by hand.
        for part in &PARTITIONS {
            let arms = part.sql.matches(" THEN ").count() + part.sql.matches(" ELSE ").count();
            assert_eq!(arms, part.categories.len(), "{}", part.name);
            for nk in part.not_known {
                assert!(part.categories.contains(nk));
            }
        }
    }
}
