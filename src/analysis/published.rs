//! Disclosure control v2 (rules.md §6) as one presentation step: which counts
//! of the exact tallies may be published, and the figures computed from the
//! published counts as if they were the data, so that a reader who tries
//! every exact count behind a published one learns nothing more from the
//! values, intervals, SII, gap or funnel positions beside it.
//!
//! Each count (one indicator's numerator or denominator) is protected on its
//! own: its cells for every ICB and PCN group, ICB and PCN `all` rows and
//! practice totals, with the sums a reader sees between them (groups and
//! `all`, deciles and quintiles, PCNs and their ICB, practices and their
//! PCN), through [`protect::Protector`]. So what is published for a count
//! depends on that count's cells alone, whichever command publishes it, and
//! two indicators counting the same people (the same denominator) publish
//! the same numbers. With `--no-disclosure-control` every count is exact.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::breakdowns::{self, BreakdownTallies, Category, Cell as BCell};
use super::disclosure::protect::{Protector, Shown};
use super::disclosure::{Disclosure, NOTE_SUPPRESSED};
use super::indicators::{Indicator, Measure};
use super::tallies::{Area, AreaType, Group, Tallies, Tally};
use crate::error::{PhmError, Result};
use crate::stats::{self, Estimate};

/// A directly standardised rate is published only when its published O is
/// at least this. metrics.md withholds a DSR for O < 10; a published O of 10
/// stands for an exact 8 to 12, so showing or withholding the DSR at 10
/// would tell 8–9 from 10–12. From 15 (exact 13 or more) it never does.
pub const DSR_MIN_PUBLISHED_O: i64 = 15;

/// Decimal places of a published DSR and its limits (rules.md §6.2).
pub const DSR_DECIMALS: i32 = 1;

/// The note on a DSR withheld because of its published O.
pub const NOTE_DSR_SMALL_O: &str =
    "dsr NA for total count < 10 (withheld while the published O is under 15, since a published 10 stands for 8 to 12)";

/// Numerator or denominator of an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Numerator,
    Denominator,
}

/// An indicator's figures for one group: the counts as shown, and the
/// estimate computed from them (or why there is none).
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// People (proportion), events (crude rate) or O = Σxᵢ (DSR); None when suppressed.
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub estimate: Option<Estimate>,
    pub note: Option<String>,
}

/// Every count of the tallies as it may be shown, and how many counts were
/// suppressed to protect others.
#[derive(Debug, Clone)]
pub struct PublishedCounts {
    pub disclosure: Disclosure,
    shown: BTreeMap<(usize, Side, Area, Group), Shown>,
    /// Counts of 8 or more suppressed so that no small count can be worked out.
    pub secondary: usize,
    /// Small counts a reader could still work out (0 unless the relations
    /// leave nothing to suppress; the attacker test requires 0).
    pub unprotected: usize,
}

/// The cells of one count (indicator `k`, one side) in a fixed order: the
/// published ones, then each area's decile × local quintile segments, which
/// are never published (see [`relations`]).
fn cells_of(tallies: &Tallies) -> Vec<(Area, Group)> {
    let mut out = Vec::new();
    for area in tallies.geography.icbs_and_pcns() {
        for g in Group::all_groups().chain(Group::segments()) {
            out.push((area.clone(), g));
        }
    }
    for code in tallies.geography.codes(AreaType::Practice) {
        out.push(((AreaType::Practice, code), Group::All));
    }
    out
}

/// The sums a reader of phm's outputs sees between the cells.
fn relations(tallies: &Tallies, id: &BTreeMap<(Area, Group), usize>) -> Vec<(usize, Vec<usize>)> {
    let cell = |a: &Area, g: Group| id[&(a.clone(), g)];
    let mut out = Vec::new();
    for area in tallies.geography.icbs_and_pcns() {
        let deciles: Vec<usize> = (1..=10)
            .map(|d| cell(&area, Group::Decile(d)))
            .chain([cell(&area, Group::Unknown)])
            .collect();
        let quintiles: Vec<usize> = (1..=5)
            .map(|q| cell(&area, Group::Quintile(q)))
            .chain([cell(&area, Group::Unknown)])
            .collect();
        let locals: Vec<usize> = (1..=5)
            .map(|q| cell(&area, Group::Local(q)))
            .chain([cell(&area, Group::Unknown)])
            .collect();
        out.push((cell(&area, Group::All), deciles));
        out.push((cell(&area, Group::All), quintiles));
        out.push((cell(&area, Group::All), locals));
        // Local quintiles and national deciles both cut the same order of
        // LSOAs (by rank), so a reader who sets them side by side can work
        // out each decile × local quintile segment by differencing: every
        // decile and every local quintile is the sum of its segments.
        for d in 1..=10u8 {
            let parts = (1..=5).map(|q| cell(&area, Group::Segment(d, q))).collect();
            out.push((cell(&area, Group::Decile(d)), parts));
        }
        for q in 1..=5u8 {
            let parts = (1..=10)
                .map(|d| cell(&area, Group::Segment(d, q)))
                .collect();
            out.push((cell(&area, Group::Local(q)), parts));
        }
        for q in 1..=5u8 {
            out.push((
                cell(&area, Group::Quintile(q)),
                vec![
                    cell(&area, Group::Decile(2 * q - 1)),
                    cell(&area, Group::Decile(2 * q)),
                ],
            ));
        }
    }
    let g = &tallies.geography;
    for (icb, pcns) in &g.icb_pcns {
        let icb_area = (AreaType::Icb, icb.clone());
        if g.not_nested.contains(&icb_area) {
            continue;
        }
        for group in Group::all_groups().chain(Group::segments()) {
            let parts = pcns
                .iter()
                .map(|p| cell(&(AreaType::Pcn, p.clone()), group))
                .collect();
            out.push((cell(&icb_area, group), parts));
        }
    }
    for (pcn, practices) in &g.pcn_practices {
        let pcn_area = (AreaType::Pcn, pcn.clone());
        if g.not_nested.contains(&pcn_area) {
            continue;
        }
        let parts = practices
            .iter()
            .map(|p| cell(&(AreaType::Practice, p.clone()), Group::All))
            .collect();
        out.push((cell(&pcn_area, Group::All), parts));
    }
    out
}

impl PublishedCounts {
    /// Decides what may be shown of every count of `tallies`.
    pub fn of(tallies: &Tallies, disclosure: Disclosure) -> Self {
        let cells = cells_of(tallies);
        let id: BTreeMap<(Area, Group), usize> = cells
            .iter()
            .enumerate()
            .map(|(i, key)| (key.clone(), i))
            .collect();
        let relations = relations(tallies, &id);
        let mut shown = BTreeMap::new();
        let (mut secondary, mut unprotected) = (0, 0);
        for k in 0..tallies.indicators.len() {
            for side in [Side::Numerator, Side::Denominator] {
                let exact = |(area, g): &(Area, Group)| {
                    let t = tallies.get(k, area, *g);
                    match side {
                        Side::Numerator => t.numerator,
                        Side::Denominator => t.denominator,
                    }
                };
                if disclosure == Disclosure::Off {
                    for key in &cells {
                        shown.insert((k, side, key.0.clone(), key.1), Shown::Count(exact(key)));
                    }
                    continue;
                }
                let mut p = Protector::new();
                for key in &cells {
                    if let Group::Segment(..) = key.1 {
                        // Never published. An empty segment is taken as
                        // known to the reader (where the local cuts fall
                        // between the deciles can be worked out from
                        // published LSOA populations), the cautious choice.
                        let id = p.hidden(exact(key));
                        if exact(key) == 0 {
                            p.known(id);
                        }
                    } else {
                        p.count(exact(key), true);
                    }
                }
                for (total, parts) in &relations {
                    p.relate(*total, parts.clone());
                }
                unprotected += p.protect();
                secondary += p.secondary_count();
                for (i, key) in cells.iter().enumerate() {
                    if !matches!(key.1, Group::Segment(..)) {
                        shown.insert((k, side, key.0.clone(), key.1), p.shown(i));
                    }
                }
            }
        }
        PublishedCounts {
            disclosure,
            shown,
            secondary,
            unprotected,
        }
    }

    /// What may be shown of one count (an area with nobody in it shows 0).
    pub fn get(&self, k: usize, side: Side, area: &Area, group: Group) -> Shown {
        self.shown
            .get(&(k, side, area.clone(), group))
            .copied()
            .unwrap_or(Shown::Count(0))
    }
}

/// Every breakdown count (equity.md §1) as it may be shown. Each count is
/// protected beside every count of the deprivation tables, fixed as they
/// publish them ([`PublishedCounts`]) and with the sums between them, since
/// a reader holds both: a breakdown can only suppress more of its own
/// categories, never change what those tables show;
/// and since it is computed from the count's cells alone, every command that
/// publishes a breakdown publishes the same numbers.
#[derive(Debug, Clone)]
pub struct BreakdownCounts {
    pub disclosure: Disclosure,
    shown: BTreeMap<(usize, Side, Area, Category), Shown>,
    pub secondary: usize,
    pub unprotected: usize,
}

impl BreakdownCounts {
    pub fn of(
        tallies: &Tallies,
        published: &PublishedCounts,
        breakdowns: &BreakdownTallies,
    ) -> Self {
        let disclosure = published.disclosure;
        let areas = tallies.geography.icbs_and_pcns();
        let imd_cells = cells_of(tallies);
        let fixed: BTreeMap<(Area, Group), usize> = imd_cells
            .iter()
            .enumerate()
            .map(|(i, key)| (key.clone(), i))
            .collect();
        let imd_relations = relations(tallies, &fixed);
        let jobs: Vec<(usize, Side)> = (0..tallies.indicators.len())
            .flat_map(|k| [(k, Side::Numerator), (k, Side::Denominator)])
            .collect();
        // Each count is protected on its own, so the counts run in parallel.
        let protect_one = |&(k, side): &(usize, Side)| {
            let mut shown = Vec::new();
            let pick = |t: Tally| match side {
                Side::Numerator => t.numerator,
                Side::Denominator => t.denominator,
            };
            if disclosure == Disclosure::Off {
                for area in &areas {
                    for c in breakdowns::categories() {
                        let exact = pick(breakdowns.get(k, area, BCell::Category(c)));
                        shown.push(((k, side, area.clone(), c), Shown::Count(exact)));
                    }
                }
                return (shown, 0, 0);
            }
            // The deprivation tables' counts as they publish them, with
            // the sums between them: a reader has those too.
            let mut p = Protector::new();
            for (i, key) in imd_cells.iter().enumerate() {
                let exact = pick(tallies.get(k, &key.0, key.1));
                let id = if let Group::Segment(..) = key.1 {
                    let id = p.hidden(exact);
                    if exact == 0 {
                        p.known(id);
                    }
                    id
                } else {
                    p.decided(exact, published.get(k, side, &key.0, key.1))
                };
                debug_assert_eq!(id, i);
            }
            for (total, parts) in &imd_relations {
                p.relate(*total, parts.clone());
            }
            let mut ids: BTreeMap<(Area, BCell), usize> = BTreeMap::new();
            for area in &areas {
                for c in breakdowns::categories() {
                    let exact = pick(breakdowns.get(k, area, BCell::Category(c)));
                    ids.insert((area.clone(), BCell::Category(c)), p.count(exact, true));
                }
                for s in breakdowns::segments() {
                    let exact = pick(breakdowns.get(k, area, s));
                    let id = p.hidden(exact);
                    if exact == 0 {
                        // As with the decile x local quintile segments:
                        // an empty one is taken as known (here, a
                        // definition a reader can look up).
                        p.known(id);
                    }
                    ids.insert((area.clone(), s), id);
                }
            }
            for (total, parts) in breakdown_relations(tallies, &ids, &fixed) {
                p.relate(total, parts);
            }
            let unprotected = p.protect();
            let secondary = p.secondary_count();
            for ((area, cell), id) in &ids {
                if let BCell::Category(c) = cell {
                    shown.push(((k, side, area.clone(), *c), p.shown(*id)));
                }
            }
            (shown, secondary, unprotected)
        };
        let results: Vec<_> = jobs.par_iter().map(protect_one).collect();
        let mut shown = BTreeMap::new();
        let (mut secondary, mut unprotected) = (0, 0);
        for (cells, s, u) in results {
            shown.extend(cells);
            secondary += s;
            unprotected += u;
        }
        BreakdownCounts {
            disclosure,
            shown,
            secondary,
            unprotected,
        }
    }

    /// What may be shown of one breakdown count (nobody in it shows 0).
    pub fn get(&self, k: usize, side: Side, area: &Area, category: Category) -> Shown {
        self.shown
            .get(&(k, side, area.clone(), category))
            .copied()
            .unwrap_or(Shown::Count(0))
    }
}

/// The sums a reader sees between breakdown counts: each partition's
/// categories and the `all` row; ethnic groups, the minority flag and their
/// segments; IMD quintiles (with unknown), core20 and theirs; PCNs and the ICB.
fn breakdown_relations(
    tallies: &Tallies,
    ids: &BTreeMap<(Area, BCell), usize>,
    fixed: &BTreeMap<(Area, Group), usize>,
) -> Vec<(usize, Vec<usize>)> {
    use breakdowns::{CORE20, ETHNIC_GROUP, ETHNIC_MINORITY, PARTITIONS};
    let id = |a: &Area, c: BCell| ids[&(a.clone(), c)];
    let mut out = Vec::new();
    for area in tallies.geography.icbs_and_pcns() {
        for (p, part) in PARTITIONS.iter().enumerate() {
            let cats = (0..part.categories.len() as u8)
                .map(|i| id(&area, BCell::Category((p, i))))
                .collect();
            out.push((fixed[&(area.clone(), Group::All)], cats));
        }
        let ethnic = PARTITIONS[ETHNIC_GROUP].categories.len() as u8;
        for g in 0..ethnic {
            let parts = (0..2)
                .map(|m| id(&area, BCell::EthnicSegment(g, m)))
                .collect();
            out.push((id(&area, BCell::Category((ETHNIC_GROUP, g))), parts));
        }
        for m in 0..2 {
            let parts = (0..ethnic)
                .map(|g| id(&area, BCell::EthnicSegment(g, m)))
                .collect();
            out.push((id(&area, BCell::Category((ETHNIC_MINORITY, m))), parts));
        }
        for q in 0..=5u8 {
            let group = if q == 0 {
                Group::Unknown
            } else {
                Group::Quintile(q)
            };
            let parts = (0..2)
                .map(|c| id(&area, BCell::Core20Segment(q, c)))
                .collect();
            out.push((fixed[&(area.clone(), group)], parts));
        }
        for c in 0..2 {
            let parts = (0..=5u8)
                .map(|q| id(&area, BCell::Core20Segment(q, c)))
                .collect();
            out.push((id(&area, BCell::Category((CORE20, c))), parts));
        }
    }
    let g = &tallies.geography;
    for (icb, pcns) in &g.icb_pcns {
        let icb_area = (AreaType::Icb, icb.clone());
        if g.not_nested.contains(&icb_area) {
            continue;
        }
        let cells = breakdowns::categories()
            .map(BCell::Category)
            .chain(breakdowns::segments());
        for cell in cells {
            let parts = pcns
                .iter()
                .map(|p| id(&(AreaType::Pcn, p.clone()), cell))
                .collect();
            out.push((id(&icb_area, cell), parts));
        }
    }
    out
}

/// The figures of indicator `k` for one breakdown category as published.
pub fn breakdown_figures(
    tallies: &Tallies,
    breakdowns: &BreakdownTallies,
    published: &BreakdownCounts,
    k: usize,
    area: &Area,
    category: Category,
) -> Result<Figures> {
    figures_as_published(
        &tallies.indicators[k],
        published.get(k, Side::Numerator, area, category),
        published.get(k, Side::Denominator, area, category),
        &breakdowns.get(k, area, BCell::Category(category)),
        published.disclosure,
    )
}

/// The indicator's figures computed from a tally, by its method (metrics.md §1–3).
pub fn figures_of(ind: &Indicator, t: &Tally) -> Result<Figures> {
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
        return Ok(Figures {
            numerator: Some(r.total_count as i64),
            denominator: Some(r.total_pop as i64),
            estimate: r.estimate,
            note: r.note.map(str::to_string),
        });
    }
    let (x, n) = (t.numerator, t.denominator);
    if n == 0 {
        return Ok(Figures {
            numerator: Some(x),
            denominator: Some(n),
            estimate: None,
            note: Some("no patients in the denominator".into()),
        });
    }
    let estimate = match ind.measure {
        Measure::Proportion => stats::proportion(x as f64, n as f64, m),
        Measure::Rate => stats::rate(x as f64, n as f64, m),
    }
    .map_err(stats_err)?;
    Ok(Figures {
        numerator: Some(x),
        denominator: Some(n),
        estimate: Some(estimate),
        note: None,
    })
}

/// `v` rounded to `places` decimals.
fn round_to(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

/// The figures of indicator `k` for one group as published: computed from
/// the published counts (rules.md §6.2); suppressed when a count they need
/// is; a DSR from the exact age bands, rounded, as §6.2's exception says.
pub fn published_figures(
    tallies: &Tallies,
    published: &PublishedCounts,
    k: usize,
    area: &Area,
    group: Group,
) -> Result<Figures> {
    figures_as_published(
        &tallies.indicators[k],
        published.get(k, Side::Numerator, area, group),
        published.get(k, Side::Denominator, area, group),
        &tallies.get(k, area, group),
        published.disclosure,
    )
}

/// An indicator's figures from its counts as shown (rules.md §6.2), with
/// the exact tally behind them for a DSR's age bands: the one rule every
/// published grouping (deprivation groups, breakdowns) goes through.
pub fn figures_as_published(
    ind: &Indicator,
    numerator: Shown,
    denominator: Shown,
    exact_tally: &Tally,
    disclosure: Disclosure,
) -> Result<Figures> {
    let (x, n) = (numerator.count(), denominator.count());
    let (Some(x), Some(n)) = (x, n) else {
        return Ok(Figures {
            numerator: x,
            denominator: n,
            estimate: None,
            note: Some(NOTE_SUPPRESSED.into()),
        });
    };
    if !ind.standardised {
        return figures_of(ind, &Tally::of_counts(x, n));
    }
    let exact = figures_of(ind, exact_tally)?;
    if disclosure == Disclosure::Off {
        return Ok(exact);
    }
    let mut f = Figures {
        numerator: Some(x),
        denominator: Some(n),
        ..exact
    };
    if f.estimate.is_some() && x < DSR_MIN_PUBLISHED_O {
        f.estimate = None;
        f.note = Some(NOTE_DSR_SMALL_O.into());
    }
    if let Some(e) = f.estimate.as_mut() {
        for v in [
            &mut e.value,
            &mut e.lower95,
            &mut e.upper95,
            &mut e.lower998,
            &mut e.upper998,
        ] {
            *v = round_to(*v, DSR_DECIMALS);
        }
    }
    Ok(f)
}

/// The figures of indicator `k` for one group from its exact counts (a
/// PCN's own report, and `--no-disclosure-control`).
pub fn exact_figures(tallies: &Tallies, k: usize, area: &Area, group: Group) -> Result<Figures> {
    figures_of(&tallies.indicators[k], &tallies.get(k, area, group))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::indicators::CountCell;

    fn indicator(standardised: bool) -> Indicator {
        Indicator {
            name: "x".into(),
            title: "X".into(),
            measure: if standardised {
                Measure::Rate
            } else {
                Measure::Proportion
            },
            numerator: "lonely".into(),
            min_age: None,
            max_age: None,
            population: None,
            multiplier: 100.0,
            standardised,
            key: false,
            polarity: Default::default(),
        }
    }

    fn cell(pcn: &str, decile: Option<i32>, band: usize, x: i64, n: i64) -> CountCell {
        CountCell {
            icb_code: "Q1".into(),
            pcn_code: pcn.into(),
            practice_code: format!("P{pcn}"),
            imd_decile: decile,
            local_quintile: decile.filter(|d| (1..=10).contains(d)).map(|d| (d + 1) / 2),
            age_band: band,
            numerators: vec![x],
            denominators: vec![n],
        }
    }

    #[test]
    fn values_come_from_the_published_counts() {
        // The case: 443 of 2870 was printed as 445 / 2870 with the
        // value of 443/2870, giving 443 away. Published, it is 445/2870.
        let t = Tallies::of(&[indicator(false)], &[cell("U1", Some(1), 5, 443, 2870)]);
        let p = PublishedCounts::of(&t, Disclosure::Controlled);
        let area = (AreaType::Icb, "Q1".to_string());
        let f = published_figures(&t, &p, 0, &area, Group::Decile(1)).unwrap();
        assert_eq!((f.numerator, f.denominator), (Some(445), Some(2870)));
        let e = f.estimate.unwrap();
        assert!(
            (e.value - 445.0 / 2870.0 * 100.0).abs() < 1e-12,
            "{}",
            e.value
        );
        let exact = exact_figures(&t, 0, &area, Group::Decile(1)).unwrap();
        assert!((exact.estimate.unwrap().value - 443.0 / 2870.0 * 100.0).abs() < 1e-12);
        // Off: exact counts and values.
        let off = PublishedCounts::of(&t, Disclosure::Off);
        let f = published_figures(&t, &off, 0, &area, Group::Decile(1)).unwrap();
        assert_eq!(f, exact);
    }

    #[test]
    fn a_small_count_suppresses_the_value_and_the_differencing_is_covered() {
        // PCN U1: 3 of 40 in decile 1 (suppressed) and 12 of 40 in decile 2
        // and 12 of 40 in decile 3; all = 27 (shown 25) of 120.
        // 25±2 − (10±2 + 10±2) leaves 1..11 ∩ 1..7: not pinned.
        let cells = [
            cell("U1", Some(1), 5, 3, 40),
            cell("U1", Some(2), 5, 12, 40),
            cell("U1", Some(3), 5, 12, 40),
        ];
        let t = Tallies::of(&[indicator(false)], &cells);
        let p = PublishedCounts::of(&t, Disclosure::Controlled);
        let u1 = (AreaType::Pcn, "U1".to_string());
        let f = published_figures(&t, &p, 0, &u1, Group::Decile(1)).unwrap();
        assert_eq!(f.numerator, None);
        assert_eq!(f.denominator, Some(40));
        assert!(f.estimate.is_none());
        assert_eq!(f.note.as_deref(), Some(NOTE_SUPPRESSED));
        assert_eq!(p.unprotected, 0);
        // Quintile 1 = deciles 1 + 2 = 15: shown 15, and with decile 2's
        // 10±2 the small one is 13..17 − 8..12 = 1..9: not pinned either.
        let q1 = published_figures(&t, &p, 0, &u1, Group::Quintile(1)).unwrap();
        assert_eq!(q1.numerator, Some(15));
    }

    #[test]
    fn dsrs_are_rounded_and_withheld_below_a_published_o_of_15() {
        let ind = indicator(true);
        // 12 events over two bands of an all-ages DSR: O = 12 (shown 10),
        // exact O >= 10 so the package would give a DSR; published, it is
        // withheld, since a published 10 may be 8 or 9.
        let mut cells: Vec<CountCell> = (0..19).map(|b| cell("U1", Some(5), b, 0, 100)).collect();
        cells[3].numerators = vec![6];
        cells[4].numerators = vec![6];
        let t = Tallies::of(std::slice::from_ref(&ind), &cells);
        let p = PublishedCounts::of(&t, Disclosure::Controlled);
        let icb = (AreaType::Icb, "Q1".to_string());
        let f = published_figures(&t, &p, 0, &icb, Group::All).unwrap();
        assert_eq!((f.numerator, f.denominator), (Some(10), Some(1900)));
        assert!(f.estimate.is_none());
        assert_eq!(f.note.as_deref(), Some(NOTE_DSR_SMALL_O));
        let exact = exact_figures(&t, 0, &icb, Group::All).unwrap();
        assert!(exact.estimate.is_some());
        // 40 events: published, the rate and limits have one decimal.
        cells[3].numerators = vec![20];
        cells[4].numerators = vec![20];
        let t = Tallies::of(std::slice::from_ref(&ind), &cells);
        let p = PublishedCounts::of(&t, Disclosure::Controlled);
        let f = published_figures(&t, &p, 0, &icb, Group::All).unwrap();
        let e = f.estimate.unwrap();
        let exact = exact_figures(&t, 0, &icb, Group::All)
            .unwrap()
            .estimate
            .unwrap();
        assert_eq!(e.value, (exact.value * 10.0).round() / 10.0);
        assert_eq!(e.upper998, (exact.upper998 * 10.0).round() / 10.0);
        assert_eq!(f.numerator, Some(40));
    }
}
