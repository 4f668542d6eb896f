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

/// The report's tables while their cells are added to one protector.
struct Builder<'a, 'b> {
    p: Protector,
    inputs: &'a Inputs<'b>,
    icbs: Vec<String>,
}

/// A table's cells: the exact counts and their ids in the protector.
struct Cells<K> {
    exact: BTreeMap<K, i64>,
    ids: BTreeMap<K, CellId>,
}

impl<'a, 'b> Builder<'a, 'b> {
    /// The ICB cells of summary measure `k` in group `g`, as the indicators
    /// publish them (fixed here).
    fn icb_cells(&mut self, k: usize, g: Group) -> Vec<CellId> {
        let icbs = self.icbs.clone();
        icbs.iter()
            .map(|c| {
                fixed(
                    &mut self.p,
                    self.inputs.tallies,
                    k,
                    &(AreaType::Icb, c.clone()),
                    g,
                )
            })
            .collect()
    }

    /// Proposed per PCN (bounded by high_need, and known to be the capacity
    /// when people wait), and its segments.
    fn cohort(&mut self) -> (Cells<String>, Cells<(String, String)>) {
        let inputs = self.inputs;
        let segs = segment_counts(inputs.proposal);
        let mut proposed = Cells {
            exact: BTreeMap::new(),
            ids: BTreeMap::new(),
        };
        let mut segments = Cells {
            exact: BTreeMap::new(),
            ids: BTreeMap::new(),
        };
        for s in &inputs.proposal.summaries {
            // Only in this report's summary, so it may be hidden to protect
            // its segments; high_need = proposed + waiting + excluded, the
            // last two unpublished.
            let id = self.p.count(s.proposed as i64, true);
            let area = (AreaType::Pcn, s.pcn_code.clone());
            let high = fixed(
                &mut self.p,
                inputs.tallies,
                inputs.measures.high_need,
                &area,
                Group::All,
            );
            let waiting = self.p.hidden(s.waiting as i64);
            let excluded = self.p.hidden(s.excluded as i64);
            self.p.relate(high, vec![id, waiting, excluded]);
            if s.waiting > 0 {
                // Everyone who could be offered was: the cohort is the capacity.
                self.p.known(id);
            }
            proposed.exact.insert(s.pcn_code.clone(), s.proposed as i64);
            proposed.ids.insert(s.pcn_code.clone(), id);
            let mut parts = Vec::new();
            for seg in &inputs.proposal.segments {
                let key = (s.pcn_code.clone(), seg.clone());
                let n = segs.get(&key).copied().unwrap_or(0);
                let c = self.p.count(n, true);
                segments.exact.insert(key.clone(), n);
                segments.ids.insert(key, c);
                parts.push(c);
            }
            self.p.relate(id, parts);
        }
        (proposed, segments)
    }

    /// A (band, sex) table's cells.
    fn band_sex(&mut self, t: &BandSex<i64>) -> BandSex<CellId> {
        let mut ids = [[0; 2]; PYRAMID_BANDS];
        for (b, row) in t.iter().enumerate() {
            for (s, &n) in row.iter().enumerate() {
                ids[b][s] = self.p.count(n, true);
            }
        }
        ids
    }

    /// The table's cells and hidden other sexes sum to a hidden total whose
    /// parts (`known_parts`) a reader knows.
    fn sums_to(
        &mut self,
        ids: &BandSex<CellId>,
        t: &BandSex<i64>,
        other: i64,
        known_parts: Vec<CellId>,
    ) {
        let all: i64 = t.iter().flatten().sum::<i64>() + other;
        let total = self.p.hidden(all);
        self.p.relate(total, known_parts);
        let other = self.p.hidden(other);
        self.p.relate(
            total,
            ids.iter().flatten().copied().chain([other]).collect(),
        );
    }

    /// Need scores by quintile (all PCNs), summing to each quintile's
    /// eligible count and, from the threshold up, its high-need count.
    fn need(&mut self) -> Cells<(i32, i32)> {
        let inputs = self.inputs;
        let m = inputs.measures;
        let mut exact: BTreeMap<(i32, i32), i64> = BTreeMap::new();
        for c in inputs.need_scores {
            if let Some(q) = c.imd_quintile.filter(|q| (1..=5).contains(q)) {
                *exact.entry((q, c.need_score)).or_default() += c.patients;
            }
        }
        let ids: BTreeMap<(i32, i32), CellId> = exact
            .iter()
            .map(|(k, &n)| (*k, self.p.count(n, true)))
            .collect();
        for q in 1..=5 {
            let g = Group::Quintile(q as u8);
            for (k, min_score) in [
                (m.eligible, i32::MIN),
                (m.high_need, inputs.high_need_score),
            ] {
                let all = self
                    .icbs
                    .iter()
                    .map(|c| {
                        inputs
                            .tallies
                            .get(k, &(AreaType::Icb, c.clone()), g)
                            .numerator
                    })
                    .sum();
                let total = self.p.hidden(all);
                let published = self.icb_cells(k, g);
                self.p.relate(total, published);
                let parts = ids
                    .iter()
                    .filter(|((nq, score), _)| *nq == q && *score >= min_score)
                    .map(|(_, &id)| id)
                    .collect();
                self.p.relate(total, parts);
            }
        }
        Cells { exact, ids }
    }
}

impl SharedCounts {
    /// Decides what the ICB report may show of its own counts.
    pub fn of(inputs: &Inputs, disclosure: Disclosure) -> Self {
        let mut b = Builder {
            p: Protector::new(),
            inputs,
            icbs: inputs.tallies.geography.codes(AreaType::Icb),
        };
        let (proposed, segments) = b.cohort();
        // The pyramid (all PCNs): its bands against the registered total and
        // the cohort total, neither published as such (a reader knows their parts).
        let (pop, coh, other_pop, other_coh) = pyramid_counts(inputs);
        let pop_ids = b.band_sex(&pop);
        let coh_ids = b.band_sex(&coh);
        let registered = b.icb_cells(inputs.measures.registered, Group::All);
        b.sums_to(&pop_ids, &pop, other_pop, registered);
        b.sums_to(
            &coh_ids,
            &coh,
            other_coh,
            proposed.ids.values().copied().collect(),
        );
        let need = b.need();
        let mut p = b.p;
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
        let shown_of = |ids: &BandSex<CellId>, exact: &BandSex<i64>| {
            let mut out = [[Shown::Count(0); 2]; PYRAMID_BANDS];
            for b in 0..PYRAMID_BANDS {
                for s in 0..2 {
                    out[b][s] = show(ids[b][s], exact[b][s]);
                }
            }
            out
        };
        SharedCounts {
            proposed: proposed
                .ids
                .iter()
                .map(|(k, &id)| (k.clone(), show(id, proposed.exact[k])))
                .collect(),
            segments: segments
                .ids
                .iter()
                .map(|(k, &id)| (k.clone(), show(id, segments.exact[k])))
                .collect(),
            population: shown_of(&pop_ids, &pop),
            cohort: shown_of(&coh_ids, &coh),
            need: need
                .ids
                .iter()
                .map(|(k, &id)| (*k, show(id, need.exact[k])))
                .collect(),
            secondary,
            unprotected,
        }
    }
}
