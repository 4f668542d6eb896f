//! The ICB report's own counts as they may be published (rules.md §6): the
//! proposed cohort per PCN and by segment, the age–sex pyramid and the
//! need-score distribution. Each is rounded and suppressed like any count;
//! then, as in `analysis::published`, a reader's sums are checked: the
//! segments add up to a PCN's proposed cohort (which a reader knows exactly
//! when people are waiting: it is the capacity), the pyramid's bands to the
//! registered population and the cohort, and each quintile's need scores to
//! its eligible and high-need counts, which the indicators publish. Counts
//! of these tables (never the indicators' own) are suppressed further until
//! no small count can be worked out.

use std::collections::BTreeMap;

use crate::analysis::disclosure::protect::{CellId, Protector, Shown};
use crate::analysis::disclosure::Disclosure;
use crate::analysis::tallies::{AreaType, Group, Tallies};
use crate::proposals::run::Proposal;

use super::data::{segment_counts, Measures, NeedScoreCell, PopulationCell};

/// The pyramid's 10-year bands (population.sql's age_band 0..=9).
pub const PYRAMID_BANDS: usize = 10;

/// A (band, sex) table: sex 0 = F, 1 = M.
pub type BandSex<T> = [[T; 2]; PYRAMID_BANDS];

/// The report's own counts as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedCounts {
    pub proposed: BTreeMap<String, Shown>,
    /// (PCN, segment) → patients proposed.
    pub segments: BTreeMap<(String, String), Shown>,
    /// All PCNs together.
    pub population: BandSex<Shown>,
    pub cohort: BandSex<Shown>,
    /// All PCNs together: (IMD quintile, need score) → eligible adults.
    pub need: BTreeMap<(i32, i32), Shown>,
    /// Counts suppressed to protect others, and small counts left exposed.
    pub secondary: usize,
    pub unprotected: usize,
}

/// Female first, male second; other sexes are not drawn on a two-sided pyramid.
pub fn sex_index(sex: &str) -> Option<usize> {
    match sex {
        "F" => Some(0),
        "M" => Some(1),
        _ => None,
    }
}

/// The exact inputs of the shared counts.
pub struct Inputs<'a> {
    pub proposal: &'a Proposal,
    pub tallies: &'a Tallies,
    pub measures: Measures,
    pub population: &'a [PopulationCell],
    pub need_scores: &'a [NeedScoreCell],
    pub high_need_score: i32,
}

/// A published count a reader already has from the indicators' outputs:
/// fixed here, never suppressed to protect these tables.
fn fixed(
    p: &mut Protector,
    tallies: &Tallies,
    k: usize,
    area: &(AreaType, String),
    g: Group,
) -> CellId {
    p.count(tallies.get(k, area, g).numerator, false)
}

/// The pyramid cohort and population (all PCNs), cohort from the proposal.
fn pyramid_counts(inputs: &Inputs) -> (BandSex<i64>, BandSex<i64>, i64, i64) {
    let mut pop = [[0i64; 2]; PYRAMID_BANDS];
    let mut other_pop = 0;
    for c in inputs.population {
        match sex_index(&c.sex) {
            Some(s) => pop[c.age_band.min(PYRAMID_BANDS - 1)][s] += c.patients,
            None => other_pop += c.patients,
        }
    }
    let mut coh = [[0i64; 2]; PYRAMID_BANDS];
    let mut other_coh = 0;
    for r in inputs
        .proposal
        .rows
        .iter()
        .filter(|r| r.status == crate::proposals::Status::Proposed)
    {
        let band = ((r.candidate.age.max(0) / 10) as usize).min(PYRAMID_BANDS - 1);
        match sex_index(&r.candidate.sex) {
            Some(s) => coh[band][s] += 1,
            None => other_coh += 1,
        }
    }
    (pop, coh, other_pop, other_coh)
}

impl SharedCounts {
    /// Decides what the ICB report may show of its own counts.
    pub fn of(inputs: &Inputs, disclosure: Disclosure) -> Self {
        let mut p = Protector::new();
        let tallies = inputs.tallies;
        let m = inputs.measures;
        let icbs = tallies.geography.codes(AreaType::Icb);
        let icb_cells = |p: &mut Protector, k: usize, g: Group| -> Vec<CellId> {
            icbs.iter()
                .map(|c| fixed(p, tallies, k, &(AreaType::Icb, c.clone()), g))
                .collect()
        };
        // Proposed per PCN, and its segments.
        let segs = segment_counts(inputs.proposal);
        let mut proposed = BTreeMap::new();
        let mut segment_ids = BTreeMap::new();
        for s in &inputs.proposal.summaries {
            // Only in this report's summary, so it may be hidden to protect
            // its segments; high_need bounds it (= proposed + waiting +
            // excluded, neither of which is published).
            let id = p.count(s.proposed as i64, true);
            let area = (AreaType::Pcn, s.pcn_code.clone());
            let high = fixed(&mut p, tallies, m.high_need, &area, Group::All);
            let waiting = p.hidden(s.waiting as i64);
            let excluded = p.hidden(s.excluded as i64);
            p.relate(high, vec![id, waiting, excluded]);
            if s.waiting > 0 {
                // Everyone who could be offered was: the cohort is the capacity.
                p.known(id);
            }
            proposed.insert(s.pcn_code.clone(), id);
            let parts: Vec<CellId> = inputs
                .proposal
                .segments
                .iter()
                .map(|seg| {
                    let key = (s.pcn_code.clone(), seg.clone());
                    let n = segs.get(&key).copied().unwrap_or(0);
                    let c = p.count(n, true);
                    segment_ids.insert(key, c);
                    c
                })
                .collect();
            p.relate(id, parts);
        }
        // The pyramid: all PCNs' bands against the registered total and the
        // cohort total (neither published as such: a reader knows their parts).
        let (pop, coh, other_pop, other_coh) = pyramid_counts(inputs);
        let cells = |p: &mut Protector, t: &BandSex<i64>| -> BandSex<CellId> {
            let mut ids = [[0; 2]; PYRAMID_BANDS];
            for (b, row) in t.iter().enumerate() {
                for (s, &n) in row.iter().enumerate() {
                    ids[b][s] = p.count(n, true);
                }
            }
            ids
        };
        let pop_ids = cells(&mut p, &pop);
        let coh_ids = cells(&mut p, &coh);
        let registered: Vec<CellId> = icb_cells(&mut p, m.registered, Group::All);
        let total_pop: i64 = pop.iter().flatten().sum::<i64>() + other_pop;
        let pop_total = p.hidden(total_pop);
        p.relate(pop_total, registered);
        let other = p.hidden(other_pop);
        p.relate(
            pop_total,
            pop_ids.iter().flatten().copied().chain([other]).collect(),
        );
        let total_coh: i64 = coh.iter().flatten().sum::<i64>() + other_coh;
        let coh_total = p.hidden(total_coh);
        p.relate(coh_total, proposed.values().copied().collect());
        let other = p.hidden(other_coh);
        p.relate(
            coh_total,
            coh_ids.iter().flatten().copied().chain([other]).collect(),
        );
        // Need scores by quintile (all PCNs) against eligible and high-need.
        let mut need: BTreeMap<(i32, i32), i64> = BTreeMap::new();
        for c in inputs.need_scores {
            if let Some(q) = c.imd_quintile.filter(|q| (1..=5).contains(q)) {
                *need.entry((q, c.need_score)).or_default() += c.patients;
            }
        }
        let need_ids: BTreeMap<(i32, i32), CellId> =
            need.iter().map(|(k, &n)| (*k, p.count(n, true))).collect();
        for q in 1..=5 {
            let g = Group::Quintile(q as u8);
            for (k, min_score) in [
                (m.eligible, i32::MIN),
                (m.high_need, inputs.high_need_score),
            ] {
                let total = p.hidden(
                    icbs.iter()
                        .map(|c| tallies.get(k, &(AreaType::Icb, c.clone()), g).numerator)
                        .sum(),
                );
                let published = icb_cells(&mut p, k, g);
                p.relate(total, published);
                let parts = need_ids
                    .iter()
                    .filter(|((nq, score), _)| *nq == q && *score >= min_score)
                    .map(|(_, &id)| id)
                    .collect();
                p.relate(total, parts);
            }
        }
        let (secondary, unprotected) = match disclosure {
            Disclosure::Controlled => {
                let unprotected = p.protect();
                (p.secondary_count(), unprotected)
            }
            Disclosure::Off => (0, 0),
        };
        let show = |id: CellId, exact: i64| match disclosure {
            Disclosure::Controlled => p.shown(id),
            Disclosure::Off => Shown::Count(exact),
        };
        let band_sex = |ids: &BandSex<CellId>, exact: &BandSex<i64>| {
            let mut out = [[Shown::Count(0); 2]; PYRAMID_BANDS];
            for b in 0..PYRAMID_BANDS {
                for s in 0..2 {
                    out[b][s] = show(ids[b][s], exact[b][s]);
                }
            }
            out
        };
        SharedCounts {
            proposed: inputs
                .proposal
                .summaries
                .iter()
                .map(|s| {
                    (
                        s.pcn_code.clone(),
                        show(proposed[&s.pcn_code], s.proposed as i64),
                    )
                })
                .collect(),
            segments: segment_ids
                .iter()
                .map(|(k, &id)| (k.clone(), show(id, segs.get(k).copied().unwrap_or(0))))
                .collect(),
            population: band_sex(&pop_ids, &pop),
            cohort: band_sex(&coh_ids, &coh),
            need: need_ids
                .iter()
                .map(|(k, &id)| (*k, show(id, need[k])))
                .collect(),
            secondary,
            unprotected,
        }
    }
}
