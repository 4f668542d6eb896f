//! Everything the reports draw on, computed by the pipeline before any page
//! is written (`pipeline::report_data`): the exact proposal and tallies for a
//! PCN's own report, the published counts and statistics for everything that
//! shows other PCNs (rules.md §6.4), and the report's own published counts
//! (`shared`). The report only renders this, so it can be tested on a
//! hand-built one with no query engine.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::shared::SharedCounts;
use crate::analysis::benchmarks::BenchmarkRow;
use crate::analysis::compare::Comparison;
use crate::analysis::disclosure::protect::Shown;
use crate::analysis::indicators::{Indicator, Measure};
use crate::analysis::inequalities::Inequalities;
use crate::analysis::published::{PublishedCounts, Side};
use crate::analysis::tallies::{AreaType, Group, Tallies};
use crate::proposals::capacity::PcnCapacityInput;
use crate::proposals::run::Proposal;
use crate::proposals::PcnSummary;

/// Registered patients of a PCN by sex and 10-year band (`reports/population.sql`).
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationCell {
    pub pcn_code: String,
    pub sex: String,
    pub age_band: usize,
    pub patients: i64,
}

/// Eligible adults by PCN, IMD quintile and need score (`reports/need_scores.sql`).
#[derive(Debug, Clone, PartialEq)]
pub struct NeedScoreCell {
    pub pcn_code: String,
    pub imd_quintile: Option<i32>,
    pub need_score: i32,
    pub patients: i64,
}

/// The counts the shared summary publishes per PCN, counted over the
/// features like an indicator's numerator (so they are protected, and
/// published, exactly as the indicators counting the same patients are).
pub fn summary_measures() -> Vec<Indicator> {
    let measure = |name: &str, numerator: &str| Indicator {
        name: name.into(),
        title: name.into(),
        measure: Measure::Proportion,
        numerator: numerator.into(),
        min_age: None,
        max_age: None,
        population: None,
        multiplier: 1.0,
        standardised: false,
        key: false,
        polarity: Default::default(),
    };
    // Names no indicator can take (indicators.toml allows [a-z0-9_] only).
    vec![
        measure("summary:registered", "TRUE"),
        measure("summary:eligible", "eligible"),
        measure("summary:high_need", "high_need"),
        measure("summary:sp_referred_12m", "sp_referred_12m"),
    ]
}

/// Where each summary measure sits in the tallies (after the indicators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measures {
    pub registered: usize,
    pub eligible: usize,
    pub high_need: usize,
    pub sp_referred: usize,
}

impl Measures {
    /// The measures appended after `indicators` indicators.
    pub fn after(indicators: usize) -> Self {
        Measures {
            registered: indicators,
            eligible: indicators + 1,
            high_need: indicators + 2,
            sp_referred: indicators + 3,
        }
    }
}

/// One PCN's row of the shared summary: published counts and the figures
/// computed from them.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedSummary {
    pub pcn_code: String,
    pub registered: Option<i64>,
    pub eligible: Option<i64>,
    pub high_need: Option<i64>,
    pub proposed: Option<i64>,
    /// High-need minus proposed, of the published counts.
    pub not_offered: Option<i64>,
    pub link_worker_fte: Decimal,
    /// Offers the link workers can make (from the FTE, not a count of patients).
    pub capacity: u64,
    /// From the published high-need count.
    pub fte_needed: Option<Decimal>,
    /// From the published referral and registered counts.
    pub sp_referred_per_1000: Option<f64>,
    pub target_per_1000: Decimal,
}

/// Everything the reports draw on.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub as_of: chrono::NaiveDate,
    /// The activity window of rules.toml, for footnotes.
    pub activity_months: u32,
    pub proposal: Proposal,
    /// indicators.toml's indicators (the tallies also hold the summary measures).
    pub indicators: Vec<Indicator>,
    pub tallies: Tallies,
    pub measures: Measures,
    pub published: PublishedCounts,
    /// From the published counts.
    pub inequalities: Inequalities,
    /// Key indicators across PCNs, from the published counts.
    pub comparisons: Vec<Comparison>,
    /// The ICB and each PCN against `--benchmark`'s values (none without one).
    pub benchmarks: Vec<BenchmarkRow>,
    pub population: Vec<PopulationCell>,
    pub need_scores: Vec<NeedScoreCell>,
    /// The report's own published counts (segments, pyramid, distribution).
    pub shared: SharedCounts,
    /// scoring.toml's high-need threshold.
    pub high_need_score: i32,
}

impl ReportData {
    /// The published count of a summary measure for a PCN.
    fn measure(&self, k: usize, pcn: &str) -> Option<i64> {
        let area = (AreaType::Pcn, pcn.to_string());
        self.published
            .get(k, Side::Numerator, &area, Group::All)
            .count()
    }

    /// The shared summary row of one PCN.
    pub fn shared_summary(&self, s: &PcnSummary) -> SharedSummary {
        let m = self.measures;
        let registered = self.measure(m.registered, &s.pcn_code);
        let high_need = self.measure(m.high_need, &s.pcn_code);
        let sp = self.measure(m.sp_referred, &s.pcn_code);
        let proposed = self
            .shared
            .proposed
            .get(&s.pcn_code)
            .copied()
            .and_then(Shown::count);
        let input = PcnCapacityInput {
            link_worker_fte: s.link_worker_fte,
            caseload_per_fte_year: s.caseload_per_fte_year,
            proactive_share: s.proactive_share,
            from_csv: s.fte_from_csv,
        };
        let months = self.proposal.period_months;
        SharedSummary {
            pcn_code: s.pcn_code.clone(),
            registered,
            eligible: self.measure(m.eligible, &s.pcn_code),
            high_need,
            proposed,
            not_offered: high_need.zip(proposed).map(|(h, p)| (h - p).max(0)),
            link_worker_fte: s.link_worker_fte,
            capacity: s.capacity,
            fte_needed: high_need
                .map(|h| crate::proposals::capacity::fte_needed(h.max(0) as u64, &input, months)),
            sp_referred_per_1000: match (sp, registered) {
                (Some(x), Some(n)) if n > 0 => Some(x as f64 * 1000.0 / n as f64),
                _ => None,
            },
            target_per_1000: s.target_per_1000,
        }
    }

    /// The indicator named, with its position.
    pub fn indicator(&self, name: &str) -> Option<(usize, &Indicator)> {
        self.indicators
            .iter()
            .enumerate()
            .find(|(_, i)| i.name == name)
    }

    /// The key indicators (`key = true` in indicators.toml), in file order.
    pub fn key_indicators(&self) -> impl Iterator<Item = (usize, &Indicator)> {
        self.indicators.iter().enumerate().filter(|(_, i)| i.key)
    }

    /// The PCN a report is for, with its exact summary.
    pub fn summary(&self, pcn: &str) -> Option<&PcnSummary> {
        self.proposal.summaries.iter().find(|s| s.pcn_code == pcn)
    }
}

/// Segment counts of the proposed cohort per PCN, exact.
pub fn segment_counts(proposal: &Proposal) -> BTreeMap<(String, String), i64> {
    let mut counts = BTreeMap::new();
    for r in proposal
        .rows
        .iter()
        .filter(|r| r.status == crate::proposals::Status::Proposed)
    {
        *counts
            .entry((r.candidate.pcn_code.clone(), r.candidate.segment.clone()))
            .or_default() += 1;
    }
    counts
}
