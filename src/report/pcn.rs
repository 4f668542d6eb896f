//! One PCN's report for its clinical lead: its own exact numbers and
//! proposed patients (patient-level: it stays in the PCN's folder), and other
//! PCNs only through their published figures (rules.md §6.4).

use std::path::{Path, PathBuf};

use super::data::ReportData;
use super::html::{cards, esc, page, para, section, table};
use super::views::Reader;
use super::{chart_html, figures, fmt, footnote, write_csv};
use crate::analysis::inequalities::{AreaType, GroupType};
use crate::error::{PhmError, Result};
use crate::proposals::{PcnSummary, Status};

/// Writes `dir/report.html` for `pcn`, with its CSV and charts.
pub fn write(data: &ReportData, pcn: &str, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| PhmError::write(dir, e))?;
    let summary = data
        .summary(pcn)
        .ok_or_else(|| PhmError::Internal(format!("no PCN {pcn} in the proposal")))?;
    let sections = vec![
        at_a_glance(summary),
        proposed_cohort(data, pcn, dir)?,
        charts(data, pcn, dir)?,
        against_benchmarks(data, pcn),
        returning_decisions(pcn),
    ];
    let path = dir.join("report.html");
    let html = page(
        &format!("{pcn}: proactive social prescribing"),
        &[
            format!(
                "Reference date {} · planning period {} months · proposal {}",
                data.as_of, data.proposal.period_months, data.proposal.proposal_id
            ),
            "Contains patient-level information — for the PCN's clinical team only".into(),
        ],
        &sections,
    );
    crate::output::write_atomic(&path, html.as_bytes()).map_err(|e| PhmError::write(&path, e))?;
    Ok(path)
}

fn at_a_glance(summary: &PcnSummary) -> String {
    let coverage = summary
        .coverage
        .map_or("–".into(), |c| format!("{:.0}%", c * 100.0));
    section(
        "At a glance",
        &format!(
            "{}\n<p class=\"reading\">{}</p>",
            cards(&[
                ("registered patients".into(), summary.registered.to_string()),
                ("eligible adults".into(), summary.eligible.to_string()),
                ("with high unmet need".into(), summary.high_need.to_string()),
                (
                    format!("proposed (capacity {})", summary.capacity),
                    summary.proposed.to_string()
                ),
                ("waiting".into(), summary.waiting.to_string()),
                ("of high need covered".into(), coverage),
                (
                    format!(
                        "SP referrals per 1,000 (target {})",
                        summary.target_per_1000
                    ),
                    format!("{:.1}", summary.sp_referred_per_1000),
                ),
            ]),
            esc(&summary.reading)
        ),
    )
}

/// The proposed cohort with reasons, and its segments.
fn proposed_cohort(data: &ReportData, pcn: &str, dir: &Path) -> Result<String> {
    let header = [
        "rank",
        "patient_id",
        "practice_code",
        "segment",
        "need_score",
        "need_reasons",
        "status",
    ];
    let proposed: Vec<_> = data
        .proposal
        .rows
        .iter()
        .filter(|r| r.candidate.pcn_code == pcn && r.status == Status::Proposed)
        .collect();
    let rows: Vec<Vec<String>> = proposed
        .iter()
        .map(|r| {
            vec![
                r.rank.to_string(),
                r.candidate.patient_id.to_string(),
                r.candidate.practice_code.clone(),
                r.candidate.segment.clone(),
                r.candidate.need_score.to_string(),
                r.candidate.need_reasons.clone(),
                r.status.name().to_string(),
            ]
        })
        .collect();
    write_csv(dir, "proposed.csv", &rows, &header)?;
    let mut seg_counts = std::collections::BTreeMap::new();
    for r in &proposed {
        *seg_counts
            .entry(r.candidate.segment.as_str())
            .or_insert(0u64) += 1;
    }
    let seg_rows: Vec<Vec<String>> = seg_counts
        .iter()
        .map(|(s, n)| vec![s.to_string(), n.to_string()])
        .collect();
    Ok(section(
        "Proposed cohort",
        &format!(
            "{}\n{}\n{}",
            para(
                "Patients proposed for a proactive social-prescribing offer in this period, highest \
                 unmet need first. Every point of the score has a reason (need_reasons).",
                ""
            ),
            table(&["segment", "patients proposed"], &seg_rows, &[0]),
            table(&header, &rows, &[1, 2, 3, 5, 6])
        ),
    ))
}

/// The PCN's charts: its own numbers exact, other PCNs as published.
fn charts(data: &ReportData, pcn: &str, dir: &Path) -> Result<String> {
    let foot = footnote(data);
    let r = Reader::Pcn(pcn);
    let mut body = String::new();
    for (k, ind) in data.key_indicators() {
        let area = (AreaType::Pcn, pcn.to_string());
        let sii = data.inequalities.sii.iter().find(|s| {
            s.indicator == ind.name && s.area_type == AreaType::Pcn && s.area_code == pcn
        });
        let (points, fit) = data.gradient_figures(r, k, &area, GroupType::Decile)?;
        if let Some(chart) = figures::gradient(
            ind,
            GroupType::Decile,
            &points,
            &fit,
            sii,
            pcn,
            foot.clone(),
        ) {
            body.push_str(&chart_html(
                &chart,
                dir,
                &["gradient", &ind.name],
                "This PCN by national IMD decile (95% intervals); the SII and its line are as \
                 published.",
            )?);
        }
        if let Some(c) = data
            .comparisons
            .iter()
            .find(|c| c.indicator.name == ind.name)
        {
            let chart = figures::funnel(c, Some(pcn), foot.clone());
            body.push_str(&chart_html(
                &chart,
                dir,
                &["funnel", &ind.name],
                "This PCN (orange) against the others in the ICB, all as published.",
            )?);
        }
    }
    let (pop, coh, scope) = data.pyramid_tables(r);
    let (need, need_scope) = data.need_cells(r);
    let target = data
        .proposal
        .defaults
        .target_referrals_per_1000
        .to_string()
        .parse::<f64>()
        .unwrap_or(0.0);
    let charts = [
        ("need_capacity", figures::need_vs_capacity(&data.capacity_bars(r), foot.clone()),
         "High-need eligible adults per PCN, proposed and waiting (other PCNs as published); black ticks: capacity."),
        ("segments", figures::segment_mix(&data.proposal.segments, &data.segment_rows(r), foot.clone()),
         "The proposed cohort by segment, per PCN (other PCNs as published)."),
        ("referrals", figures::referrals(&data.referral_rows(r), target, data.activity_months, foot.clone()),
         "Social-prescribing referrals per 1,000 registered patients, against the target."),
        ("pyramid", figures::pyramid(&pop, &coh, &scope, foot.clone()),
         "Percent of each group by age band and sex."),
        ("need_scores", figures::need_distribution(&need, &need_scope, foot.clone()),
         "Share of eligible adults at each unmet-need score, by IMD quintile."),
    ];
    for (name, chart, caption) in charts {
        body.push_str(&chart_html(&chart, dir, &[name], caption)?);
    }
    Ok(section("Charts", &body))
}

/// This PCN and the ICB against `--benchmark`, as published (equity.md §5);
/// nothing without a benchmark.
fn against_benchmarks(data: &ReportData, pcn: &str) -> String {
    let rows: Vec<Vec<String>> = data
        .indicators
        .iter()
        .flat_map(|ind| {
            data.benchmarks
                .iter()
                .filter(|r| r.indicator == ind.name)
                .filter(|r| r.area_type == AreaType::Icb || r.area_code == pcn)
                .map(|r| {
                    vec![
                        ind.title.clone(),
                        r.area_code.clone(),
                        fmt(r.value, 2),
                        format!("{} to {}", fmt(r.lower95, 2), fmt(r.upper95, 2)),
                        r.benchmark.clone(),
                        format!("{:.2}", r.benchmark_value),
                        r.label.as_str().to_string(),
                    ]
                })
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut body = table(
        &[
            "indicator",
            "area",
            "value",
            "95% CI",
            "benchmark",
            "benchmark value",
            "label",
        ],
        &rows,
        &[0, 1, 4, 6],
    );
    body.push_str(&para(
        "Better or Worse when the benchmark lies outside the area's 95% interval, read with the \
         indicator's polarity; Higher or Lower where a higher value is neither better nor worse. \
         These are the figures as published to the ICB.",
        "note",
    ));
    section("Against the benchmark", &body)
}

fn returning_decisions(pcn: &str) -> String {
    section(
        "Returning your decisions",
        &format!(
            "{}{}",
            para(
                "Open lists/{PCN}.csv from the proposal folder (phm propose --out DIR), put accept or \
                 exclude in the decision column (and a reason for an exclusion), and return it to your \
                 analyst, who records it with: phm review --decisions lists/{PCN}.csv --proposal DIR. \
                 Excluded patients are left out of the next proposal and their places go to the next \
                 patients on the waiting list."
                    .replace("{PCN}", pcn)
                    .as_str(),
                ""
            ),
            para(
                "This report lists patients: keep it within the PCN. Share the ICB report instead.",
                "warning"
            )
        ),
    )
}
