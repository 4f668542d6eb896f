//! What each reader may see (rules.md §6.4): the ICB report shows every PCN
//! through its published counts; a PCN's report shows its own exact counts
//! and every other PCN through the same published counts as the ICB report.
//! Each function resolves the numbers of one chart or table for a reader.

use std::collections::BTreeMap;

use super::data::{segment_counts, ReportData};
use super::figures::CapacityBar;
use super::shared::{sex_index, BandSex, PYRAMID_BANDS};
use crate::analysis::disclosure::protect::Shown;
use crate::analysis::inequalities::GroupType;
use crate::analysis::published::{exact_figures, published_figures, Figures};
use crate::analysis::tallies::{AreaType, Tallies};
use crate::error::Result;
use crate::proposals::Status;

/// Whose report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader<'a> {
    /// For sharing: everything published.
    Icb,
    /// A PCN's clinical team: its own numbers exact.
    Pcn(&'a str),
}

impl Reader<'_> {
    /// True when `pcn`'s numbers are this reader's own.
    pub fn owns(self, pcn: &str) -> bool {
        matches!(self, Reader::Pcn(own) if own == pcn)
    }
}

impl ReportData {
    /// Proposed and waiting per PCN, with capacity.
    pub fn capacity_bars(&self, reader: Reader) -> Vec<CapacityBar> {
        self.proposal
            .summaries
            .iter()
            .map(|s| {
                if reader.owns(&s.pcn_code) {
                    CapacityBar {
                        pcn_code: s.pcn_code.clone(),
                        proposed: Some(s.proposed as i64),
                        waiting: Some(s.waiting as i64),
                        capacity: s.capacity,
                    }
                } else {
                    let shared = self.shared_summary(s);
                    CapacityBar {
                        pcn_code: s.pcn_code.clone(),
                        proposed: shared.proposed,
                        waiting: shared.not_offered,
                        capacity: s.capacity,
                    }
                }
            })
            .collect()
    }

    /// The proposed cohort by segment per PCN, segments in their order.
    pub fn segment_rows(&self, reader: Reader) -> Vec<(String, Vec<Option<i64>>)> {
        let exact = segment_counts(&self.proposal);
        self.proposal
            .summaries
            .iter()
            .map(|s| {
                let row = self
                    .proposal
                    .segments
                    .iter()
                    .map(|seg| {
                        let key = (s.pcn_code.clone(), seg.clone());
                        if reader.owns(&s.pcn_code) {
                            Some(exact.get(&key).copied().unwrap_or(0))
                        } else {
                            self.shared.segments.get(&key).and_then(|v| v.count())
                        }
                    })
                    .collect();
                (s.pcn_code.clone(), row)
            })
            .collect()
    }

    /// Referrals per 1,000 registered per PCN.
    pub fn referral_rows(&self, reader: Reader) -> Vec<(String, Option<f64>)> {
        self.proposal
            .summaries
            .iter()
            .map(|s| {
                let v = if reader.owns(&s.pcn_code) {
                    Some(s.sp_referred_per_1000)
                } else {
                    self.shared_summary(s).sp_referred_per_1000
                };
                (s.pcn_code.clone(), v)
            })
            .collect()
    }

    /// The pyramid's population and cohort, and the scope's name: all PCNs
    /// as published for the ICB, the PCN's own exact counts for a PCN.
    pub fn pyramid_tables(
        &self,
        reader: Reader,
    ) -> (BandSex<Option<i64>>, BandSex<Option<i64>>, String) {
        let shown = |t: &BandSex<Shown>| t.map(|b| b.map(Shown::count));
        let Reader::Pcn(pcn) = reader else {
            return (
                shown(&self.shared.population),
                shown(&self.shared.cohort),
                "all PCNs".into(),
            );
        };
        let mut pop = [[Some(0i64); 2]; PYRAMID_BANDS];
        for c in self.population.iter().filter(|c| c.pcn_code == pcn) {
            if let Some(s) = sex_index(&c.sex) {
                let cell = &mut pop[c.age_band.min(PYRAMID_BANDS - 1)][s];
                *cell = cell.map(|n| n + c.patients);
            }
        }
        let mut coh = [[Some(0i64); 2]; PYRAMID_BANDS];
        for r in self
            .proposal
            .rows
            .iter()
            .filter(|r| r.status == Status::Proposed && r.candidate.pcn_code == pcn)
        {
            if let Some(s) = sex_index(&r.candidate.sex) {
                let band = ((r.candidate.age.max(0) / 10) as usize).min(PYRAMID_BANDS - 1);
                coh[band][s] = coh[band][s].map(|n| n + 1);
            }
        }
        (pop, coh, pcn.to_string())
    }

    /// Eligible adults by IMD quintile and need score.
    pub fn need_cells(&self, reader: Reader) -> (BTreeMap<(i32, i32), Option<i64>>, String) {
        let Reader::Pcn(pcn) = reader else {
            let cells = self
                .shared
                .need
                .iter()
                .map(|(k, v)| (*k, v.count()))
                .collect();
            return (cells, "all PCNs".into());
        };
        let mut cells: BTreeMap<(i32, i32), Option<i64>> = BTreeMap::new();
        for c in self.need_scores.iter().filter(|c| c.pcn_code == pcn) {
            if let Some(q) = c.imd_quintile {
                let cell = cells.entry((q, c.need_score)).or_insert(Some(0));
                *cell = cell.map(|n| n + c.patients);
            }
        }
        (cells, pcn.to_string())
    }

    /// An indicator's figures by IMD decile for an area: exact for the
    /// reader's own PCN, published otherwise; and the published figures the
    /// SII line is fitted on.
    pub fn gradient_figures(
        &self,
        reader: Reader,
        k: usize,
        area: &(AreaType, String),
        by: GroupType,
    ) -> Result<(Vec<Figures>, Vec<Figures>)> {
        let tallies: &Tallies = &self.tallies;
        let published: Vec<Figures> = (1..=by.groups())
            .map(|j| published_figures(tallies, &self.published, k, area, by.group(j)))
            .collect::<Result<_>>()?;
        let own = area.0 == AreaType::Pcn && reader.owns(&area.1);
        let points = if own {
            (1..=by.groups())
                .map(|j| exact_figures(tallies, k, area, by.group(j)))
                .collect::<Result<_>>()?
        } else {
            published.clone()
        };
        Ok((points, published))
    }
}
