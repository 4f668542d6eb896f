//! What a rule change does (`phm cohorts --what-if`): two proposals, one
//! under the rules as they are and one under the changed copy, compared per
//! PCN — high-need patients and proposals, and who comes in or goes out —
//! and, under the rules as they are, how many high-need patients each scored
//! component lifts over the threshold (they would drop out without it).

use std::collections::{BTreeMap, BTreeSet};

use super::run::Proposal;
use super::Status;
use crate::engine::decode::{int_at, Columns};
use crate::error::{PhmError, Result};
use crate::pipeline::Pipeline;

/// One PCN (or "ALL") under the rules as they are and under the change.
#[derive(Debug, Clone, PartialEq)]
pub struct PcnChange {
    pub pcn_code: String,
    pub eligible: (u64, u64),
    pub high_need: (u64, u64),
    /// High-need under the change and not before; high-need before and not after.
    pub came_in: u64,
    pub went_out: u64,
    pub proposed: (u64, u64),
}

/// Per PCN in code order, then "ALL".
pub fn compare(before: &Proposal, after: &Proposal) -> Vec<PcnChange> {
    let sets = |p: &Proposal| {
        let mut high: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        let mut proposed: BTreeMap<String, u64> = BTreeMap::new();
        for r in &p.rows {
            high.entry(r.candidate.pcn_code.clone())
                .or_default()
                .insert(r.candidate.patient_id);
            if r.status == Status::Proposed {
                *proposed.entry(r.candidate.pcn_code.clone()).or_default() += 1;
            }
        }
        let eligible: BTreeMap<String, u64> = p
            .summaries
            .iter()
            .map(|s| (s.pcn_code.clone(), s.eligible))
            .collect();
        (high, proposed, eligible)
    };
    let (high_a, proposed_a, eligible_a) = sets(before);
    let (high_b, proposed_b, eligible_b) = sets(after);
    let pcns: BTreeSet<&String> = eligible_a.keys().chain(eligible_b.keys()).collect();
    let empty = BTreeSet::new();
    let mut rows: Vec<PcnChange> = pcns
        .into_iter()
        .map(|pcn| {
            let (a, b) = (
                high_a.get(pcn).unwrap_or(&empty),
                high_b.get(pcn).unwrap_or(&empty),
            );
            let get = |m: &BTreeMap<String, u64>| m.get(pcn).copied().unwrap_or(0);
            PcnChange {
                pcn_code: pcn.clone(),
                eligible: (get(&eligible_a), get(&eligible_b)),
                high_need: (a.len() as u64, b.len() as u64),
                came_in: b.difference(a).count() as u64,
                went_out: a.difference(b).count() as u64,
                proposed: (get(&proposed_a), get(&proposed_b)),
            }
        })
        .collect();
    let sum = |f: &dyn Fn(&PcnChange) -> u64| rows.iter().map(f).sum::<u64>();
    let all = PcnChange {
        pcn_code: "ALL".into(),
        eligible: (sum(&|r| r.eligible.0), sum(&|r| r.eligible.1)),
        high_need: (sum(&|r| r.high_need.0), sum(&|r| r.high_need.1)),
        came_in: sum(&|r| r.came_in),
        went_out: sum(&|r| r.went_out),
        proposed: (sum(&|r| r.proposed.0), sum(&|r| r.proposed.1)),
    };
    rows.push(all);
    rows
}

/// A scored component and the high-need patients it lifts over the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentLift {
    pub name: String,
    pub points: i32,
    pub lifted: u64,
}

/// For each component of scoring.toml (points ≠ 0): the high-need patients
/// whose score without it would be under `need.high_need_score`.
pub async fn component_lifts(pipeline: &Pipeline) -> Result<Vec<ComponentLift>> {
    pipeline.ensure_features().await?;
    let scoring = &pipeline.scoring;
    let threshold = scoring.need.high_need_score;
    let mut sums = Vec::new();
    let mut lifts = Vec::new();
    for (i, c) in scoring.components.iter().enumerate() {
        if c.points == 0 {
            continue;
        }
        if !crate::rules::is_lower_snake(&c.column) {
            return Err(PhmError::Input(format!(
                "scoring.toml: component `{}` names column `{}`, not a plain column name",
                c.name, c.column
            )));
        }
        let scores = match c.at_least {
            None => format!("COALESCE({}, false)", c.column),
            Some(n) => format!("COALESCE({} >= {n}, false)", c.column),
        };
        sums.push(format!(
            "sum(CASE WHEN {scores} AND need_score - ({}) < {threshold} THEN 1 ELSE 0 END) AS c{i}",
            c.points
        ));
        lifts.push((format!("c{i}"), c.name.clone(), c.points));
    }
    if lifts.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {} FROM features WHERE high_need", sums.join(", "));
    let origin = format!("{}/scoring.toml", pipeline.rules.origin);
    let (_, batches) = pipeline.run_sql(&origin, &sql).await?;
    let batch = batches
        .first()
        .ok_or_else(|| PhmError::Internal("component lifts: no row".into()))?;
    lifts
        .into_iter()
        .map(|(alias, name, points)| {
            let counts = Columns::new(batch, &origin).int(&alias)?;
            Ok(ComponentLift {
                name,
                points,
                lifted: int_at(&counts, 0).unwrap_or(0).max(0) as u64,
            })
        })
        .collect()
}
