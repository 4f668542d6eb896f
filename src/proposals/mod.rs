//! Proposed social-prescribing cohorts per PCN (rules.md §4–5): segments by
//! first match, ranking by need, capacity from link-worker FTE, and the
//! per-PCN summary. Pure logic over small in-memory rows (high-need patients
//! and per-PCN counts); `run.rs` fetches them with SQL and writes the files.

pub mod capacity;
pub mod review;
pub mod run;
pub mod segments;
pub mod what_if;
pub mod workbook;

use rust_decimal::Decimal;
use serde::Serialize;

use capacity::PcnCapacityInput;

/// A high-need patient, with its segment (segments.toml, first match) and
/// what the clinical lead's list shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Candidate {
    pub pcn_code: String,
    pub patient_id: i64,
    pub practice_code: String,
    pub need_score: i32,
    pub need_reasons: String,
    pub segment: String,
    pub age: i32,
    pub sex: String,
    pub imd_decile: Option<i32>,
}

/// Whether a ranked patient is offered in this period or waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Proposed,
    Waiting,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Waiting => "waiting",
        }
    }
}

/// One row of `proposals.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalRow {
    pub candidate: Candidate,
    pub rank: u32,
    pub status: Status,
}

/// Ranks one PCN's high-need patients (need_score descending, then
/// patient_id ascending) and proposes the first `capacity`.
pub fn rank_pcn(mut candidates: Vec<Candidate>, capacity: u64) -> Vec<ProposalRow> {
    candidates.sort_by(|a, b| {
        b.need_score
            .cmp(&a.need_score)
            .then(a.patient_id.cmp(&b.patient_id))
    });
    candidates
        .into_iter()
        .enumerate()
        .map(|(i, c)| ProposalRow {
            rank: i as u32 + 1,
            status: if (i as u64) < capacity {
                Status::Proposed
            } else {
                Status::Waiting
            },
            candidate: c,
        })
        .collect()
}

/// Registered-population counts of one PCN (from the features table).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PcnCounts {
    pub pcn_code: String,
    pub registered: u64,
    pub adults: u64,
    pub eligible: u64,
    pub high_need: u64,
    pub sp_referred_12m: u64,
}

/// One row of `capacity.csv`, plus what the summary needs to explain it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcnSummary {
    pub pcn_code: String,
    pub registered: u64,
    pub adults: u64,
    pub eligible: u64,
    pub high_need: u64,
    pub link_worker_fte: Decimal,
    pub capacity: u64,
    pub proposed: u64,
    pub waiting: u64,
    pub coverage: Option<f64>,
    pub fte_needed: Decimal,
    pub sp_referred_12m: u64,
    pub sp_referred_per_1000: f64,
    pub target_per_1000: Decimal,
    /// Patients a clinical lead excluded in review (left out of the ranking).
    pub excluded: u64,
    /// False when the PCN was not in the capacity CSV and used the defaults.
    pub fte_from_csv: bool,
    pub caseload_per_fte_year: Decimal,
    pub proactive_share: Decimal,
    pub reading: String,
}

/// Builds a PCN's summary from its counts, capacity inputs and ranked rows.
pub fn summarise(
    counts: &PcnCounts,
    input: &PcnCapacityInput,
    months: u32,
    target_per_1000: Decimal,
    rows: &[ProposalRow],
    excluded: u64,
) -> PcnSummary {
    let capacity = capacity::capacity(input, months);
    let proposed = rows.iter().filter(|r| r.status == Status::Proposed).count() as u64;
    let waiting = rows.len() as u64 - proposed;
    let coverage = (counts.high_need > 0).then(|| proposed as f64 / counts.high_need as f64);
    let fte_needed = capacity::fte_needed(counts.high_need, input, months);
    let per_1000 = if counts.registered == 0 {
        0.0
    } else {
        counts.sp_referred_12m as f64 * 1000.0 / counts.registered as f64
    };
    let mut s = PcnSummary {
        pcn_code: counts.pcn_code.clone(),
        registered: counts.registered,
        adults: counts.adults,
        eligible: counts.eligible,
        high_need: counts.high_need,
        link_worker_fte: input.link_worker_fte,
        capacity,
        proposed,
        waiting,
        coverage,
        fte_needed,
        sp_referred_12m: counts.sp_referred_12m,
        sp_referred_per_1000: per_1000,
        target_per_1000,
        excluded,
        fte_from_csv: input.from_csv,
        caseload_per_fte_year: input.caseload_per_fte_year,
        proactive_share: input.proactive_share,
        reading: String::new(),
    };
    s.reading = reading(&s, months);
    s
}

/// A one-line plain-English reading of a PCN's capacity.
pub fn reading(s: &PcnSummary, months: u32) -> String {
    let period = if months == 12 {
        "12 months".to_string()
    } else {
        format!("{months} months")
    };
    let mut text = match s.coverage {
        None => format!(
            "no high-need adults found; capacity of {} offers is free for other work",
            s.capacity
        ),
        Some(_) if s.proposed >= s.high_need.saturating_sub(s.excluded) => {
            format!(
            "capacity covers all {} high-need adults{} within {period} ({:.0}% of capacity used)",
            s.high_need - s.excluded,
            if s.excluded > 0 { " not excluded in review" } else { "" },
            if s.capacity == 0 { 100.0 } else { 100.0 * s.proposed as f64 / s.capacity as f64 }
        )
        }
        Some(c) => {
            let more = (s.fte_needed - s.link_worker_fte)
                .max(Decimal::ZERO)
                .normalize();
            format!(
                "capacity covers {:.0}% of high-need adults; {more} more link-worker FTE would cover all within {period}",
                100.0 * c
            )
        }
    };
    if !s.fte_from_csv {
        text.push_str(&format!(
            " (FTE {} is the default: PCN not in the capacity file)",
            s.link_worker_fte.normalize()
        ));
    }
    if s.excluded > 0 {
        text.push_str(&format!("; {} excluded by the clinical lead", s.excluded));
    }
    text
}

/// Age bands for patient lists (5-year, 90+).
pub fn age_band(age: i32) -> String {
    if age >= 90 {
        "90+".into()
    } else if age < 0 {
        "unknown".into()
    } else {
        let lo = age / 5 * 5;
        format!("{lo}-{}", lo + 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn cand(id: i64, score: i32) -> Candidate {
        Candidate {
            pcn_code: "U1".into(),
            patient_id: id,
            need_score: score,
            ..Default::default()
        }
    }

    #[test]
    fn ranking_breaks_ties_by_patient_id_and_proposes_capacity() {
        let rows = rank_pcn(
            vec![cand(5, 7), cand(3, 9), cand(4, 7), cand(1, 6), cand(2, 7)],
            3,
        );
        let order: Vec<(i64, u32, Status)> = rows
            .iter()
            .map(|r| (r.candidate.patient_id, r.rank, r.status))
            .collect();
        assert_eq!(
            order,
            vec![
                (3, 1, Status::Proposed),
                (2, 2, Status::Proposed),
                (4, 3, Status::Proposed),
                (5, 4, Status::Waiting),
                (1, 5, Status::Waiting),
            ]
        );
    }

    #[test]
    fn fewer_high_need_than_capacity_proposes_everyone() {
        let rows = rank_pcn(vec![cand(1, 6), cand(2, 8)], 120);
        assert!(rows.iter().all(|r| r.status == Status::Proposed));
        let counts = PcnCounts {
            pcn_code: "U1".into(),
            registered: 1000,
            adults: 800,
            eligible: 790,
            high_need: 2,
            sp_referred_12m: 16,
        };
        let input = PcnCapacityInput {
            link_worker_fte: Decimal::from(2),
            caseload_per_fte_year: Decimal::from(200),
            proactive_share: Decimal::from_str("0.3").unwrap(),
            from_csv: false,
        };
        let s = summarise(&counts, &input, 12, Decimal::from(16), &rows, 0);
        assert_eq!((s.capacity, s.proposed, s.waiting), (120, 2, 0));
        assert_eq!(s.coverage, Some(1.0));
        // 2 / 60 = 0.033… -> 0.1 FTE.
        assert_eq!(s.fte_needed, Decimal::from_str("0.1").unwrap());
        assert_eq!(s.sp_referred_per_1000, 16.0);
        assert!(s.reading.contains("covers all 2"), "{}", s.reading);
        assert!(s.reading.contains("default"), "{}", s.reading);
    }

    #[test]
    fn reading_says_how_much_more_fte_is_needed() {
        let rows = rank_pcn((1..=200).map(|i| cand(i, 6)).collect(), 120);
        let counts = PcnCounts {
            pcn_code: "U1".into(),
            registered: 40_000,
            adults: 32_000,
            eligible: 31_000,
            high_need: 200,
            sp_referred_12m: 500,
        };
        let input = PcnCapacityInput {
            link_worker_fte: Decimal::from(2),
            caseload_per_fte_year: Decimal::from(200),
            proactive_share: Decimal::from_str("0.3").unwrap(),
            from_csv: true,
        };
        let s = summarise(&counts, &input, 12, Decimal::from(16), &rows, 0);
        assert_eq!((s.proposed, s.waiting), (120, 80));
        // 200 / 60 = 3.33… -> 3.4 FTE needed; 1.4 more than 2.
        assert_eq!(s.fte_needed, Decimal::from_str("3.4").unwrap());
        assert_eq!(s.reading, "capacity covers 60% of high-need adults; 1.4 more link-worker FTE would cover all within 12 months");
    }

    #[test]
    fn age_bands() {
        assert_eq!(age_band(18), "15-19");
        assert_eq!(age_band(64), "60-64");
        assert_eq!(age_band(90), "90+");
    }
}
