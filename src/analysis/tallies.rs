//! The exact statistics' input: every indicator's numerator and denominator
//! (by ESP2013 age band, for DSRs) for every area and deprivation group,
//! summed once from the indicator cells. Nothing here is published; the
//! published counts are derived from these by `published` (rules.md §6), and
//! a PCN's own report reads its exact figures from here.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::indicators::{CountCell, Indicator, AGE_BANDS};

/// Whose figures a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

/// An area: its level and code.
pub type Area = (AreaType, String);

/// Which of an area's patients: a deprivation group (1 = most deprived), by
/// national decile or quintile or by the ICB's local quintile (equity.md
/// §2), those whose IMD is unknown, or everyone. A `Segment` is the patients
/// of one national decile and one local quintile: never published, it is
/// what disclosure control must reckon with where a reader sets the two
/// groupings side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Decile(u8),
    Quintile(u8),
    Local(u8),
    Segment(u8, u8),
    Unknown,
    All,
}

impl Group {
    /// The groups a patient of national IMD decile `decile` and local
    /// quintile `local` counts in (a repeated group counts once).
    fn of(decile: Option<i32>, local: Option<i32>) -> [Group; 5] {
        match (decile, local) {
            (Some(d @ 1..=10), Some(q @ 1..=5)) => [
                Group::Decile(d as u8),
                Group::Quintile((d as u8).div_ceil(2)),
                Group::Local(q as u8),
                Group::Segment(d as u8, q as u8),
                Group::All,
            ],
            _ => [
                Group::Unknown,
                Group::Unknown,
                Group::Unknown,
                Group::Unknown,
                Group::All,
            ],
        }
    }

    /// Every group an ICB or PCN has, in a fixed order.
    pub fn all_groups() -> impl Iterator<Item = Group> {
        (1..=10)
            .map(Group::Decile)
            .chain((1..=5).map(Group::Quintile))
            .chain((1..=5).map(Group::Local))
            .chain([Group::Unknown, Group::All])
    }

    /// Every decile × local quintile segment, in a fixed order.
    pub fn segments() -> impl Iterator<Item = Group> {
        (1..=10).flat_map(|d| (1..=5).map(move |q| Group::Segment(d, q)))
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

    /// A tally of totals only (no age bands): what published counts give.
    pub fn of_counts(numerator: i64, denominator: i64) -> Self {
        Tally {
            numerator,
            denominator,
            ..Default::default()
        }
    }
}

/// How the areas nest: which PCNs make up each ICB and which practices each
/// PCN, when they nest cleanly (a PCN or practice seen under two parents is
/// left out of its parents' sums, since its count is not a part of either).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Geography {
    pub icb_pcns: BTreeMap<String, BTreeSet<String>>,
    pub pcn_practices: BTreeMap<String, BTreeSet<String>>,
    /// Areas whose parts do not all lie inside them.
    pub not_nested: BTreeSet<Area>,
}

impl Geography {
    fn of(cells: &[CountCell]) -> Self {
        let mut icb_pcns: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut pcn_practices: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut pcn_parent: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut practice_parent: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for c in cells {
            icb_pcns
                .entry(c.icb_code.clone())
                .or_default()
                .insert(c.pcn_code.clone());
            pcn_practices
                .entry(c.pcn_code.clone())
                .or_default()
                .insert(c.practice_code.clone());
            pcn_parent
                .entry(&c.pcn_code)
                .or_default()
                .insert(&c.icb_code);
            practice_parent
                .entry(&c.practice_code)
                .or_default()
                .insert(&c.pcn_code);
        }
        let mut not_nested = BTreeSet::new();
        for icbs in pcn_parent.values() {
            if icbs.len() > 1 {
                not_nested.extend(icbs.iter().map(|i| (AreaType::Icb, i.to_string())));
            }
        }
        for parents in practice_parent.values() {
            if parents.len() > 1 {
                not_nested.extend(parents.iter().map(|p| (AreaType::Pcn, p.to_string())));
            }
        }
        Geography {
            icb_pcns,
            pcn_practices,
            not_nested,
        }
    }

    /// ICBs then PCNs, each sorted by code: the areas of `phm inequalities`.
    pub fn icbs_and_pcns(&self) -> Vec<Area> {
        let mut out: Vec<Area> = self
            .icb_pcns
            .keys()
            .map(|c| (AreaType::Icb, c.clone()))
            .collect();
        out.extend(
            self.pcn_practices
                .keys()
                .map(|c| (AreaType::Pcn, c.clone())),
        );
        out
    }

    /// The codes of one level, sorted.
    pub fn codes(&self, level: AreaType) -> Vec<String> {
        match level {
            AreaType::Icb => self.icb_pcns.keys().cloned().collect(),
            AreaType::Pcn => self.pcn_practices.keys().cloned().collect(),
            AreaType::Practice => {
                let all: BTreeSet<&String> = self.pcn_practices.values().flatten().collect();
                all.into_iter().cloned().collect()
            }
        }
    }
}

/// Every indicator's exact tally for every area and group.
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    pub indicators: Vec<Indicator>,
    pub geography: Geography,
    by_key: BTreeMap<(usize, AreaType, String, Group), Tally>,
}

impl Tallies {
    /// Sums the cells of `indicators` (the cells' per-indicator vectors are
    /// in the same order) into ICB and PCN groups and practice totals.
    pub fn of(indicators: &[Indicator], cells: &[CountCell]) -> Self {
        let mut by_key: BTreeMap<(usize, AreaType, String, Group), Tally> = BTreeMap::new();
        for c in cells {
            let groups = Group::of(c.imd_decile, c.local_quintile);
            let mut seen = BTreeSet::new();
            for k in 0..indicators.len() {
                seen.clear();
                for level in [AreaType::Icb, AreaType::Pcn] {
                    for g in groups {
                        if seen.insert((level, g)) {
                            by_key
                                .entry((k, level, level.code_of(c).to_string(), g))
                                .or_default()
                                .add(c, k);
                        }
                    }
                }
                by_key
                    .entry((k, AreaType::Practice, c.practice_code.clone(), Group::All))
                    .or_default()
                    .add(c, k);
            }
        }
        Tallies {
            indicators: indicators.to_vec(),
            geography: Geography::of(cells),
            by_key,
        }
    }

    /// The exact tally (zero when the area has nobody in the group).
    pub fn get(&self, k: usize, area: &Area, group: Group) -> Tally {
        self.by_key
            .get(&(k, area.0, area.1.clone(), group))
            .cloned()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(pcn: &str, practice: &str, decile: Option<i32>, x: i64, n: i64) -> CountCell {
        CountCell {
            icb_code: "Q1".into(),
            pcn_code: pcn.into(),
            practice_code: practice.into(),
            imd_decile: decile,
            local_quintile: decile.filter(|d| (1..=10).contains(d)).map(|d| (d + 1) / 2),
            age_band: 3,
            numerators: vec![x],
            denominators: vec![n],
        }
    }

    #[test]
    fn groups_nest_and_sum_by_hand() {
        let ind =
            crate::analysis::indicators::IndicatorConfig::load(&crate::rules::RuleSet::defaults())
                .unwrap()
                .indicators[..1]
                .to_vec();
        let cells = [
            cell("U1", "P1", Some(1), 1, 10),
            cell("U1", "P1", Some(2), 2, 20),
            cell("U1", "P2", Some(10), 4, 40),
            cell("U2", "P3", None, 8, 80),
            cell("U2", "P3", Some(0), 16, 160), // not a decile: unknown
        ];
        let t = Tallies::of(&ind, &cells);
        let icb = (AreaType::Icb, "Q1".to_string());
        let u1 = (AreaType::Pcn, "U1".to_string());
        let n = |a: &Area, g| {
            let t = t.get(0, a, g);
            (t.numerator, t.denominator)
        };
        assert_eq!(n(&icb, Group::Quintile(1)), (3, 30));
        assert_eq!(n(&icb, Group::Decile(2)), (2, 20));
        assert_eq!(n(&icb, Group::Unknown), (24, 240));
        assert_eq!(n(&icb, Group::All), (31, 310));
        assert_eq!(n(&u1, Group::All), (7, 70));
        assert_eq!(n(&u1, Group::Quintile(5)), (4, 40));
        assert_eq!(n(&(AreaType::Practice, "P1".into()), Group::All), (3, 30));
        assert_eq!(t.geography.codes(AreaType::Practice), ["P1", "P2", "P3"]);
        assert!(t.geography.not_nested.is_empty());
        assert_eq!(
            t.geography.icbs_and_pcns(),
            [icb, u1, (AreaType::Pcn, "U2".into())]
        );
    }
}
