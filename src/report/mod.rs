//! `phm report`: the pack a PCN takes to its MDT and the one an ICB takes to
//! its inequalities board. Gathers the proposal, indicator statistics and
//! chart data once, then writes a PCN report per PCN into the PCN's own folder
//! (patient-level: its proposed list) and one ICB report with disclosure
//! control and no patient-level rows. Each report is one self-contained HTML
//! file with its charts (SVG inline, PNG beside) and its tables as CSV.

pub mod figures;
pub mod html;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Int32Type, Int64Type};
use datafusion::arrow::record_batch::RecordBatch;

use crate::charts::Chart;
use crate::compare::{self, Comparison};
use crate::disclosure::Disclosure;
use crate::error::{PhmError, Result};
use crate::features::Pipeline;
use crate::indicators::{self, CountCell, Indicator, IndicatorConfig};
use crate::inequalities::{self, AreaType, GroupType, Inequalities};
use crate::proposals::run::{self, Proposal, ProposeOptions};
use crate::proposals::Status;
use figures::{NeedScoreCell, PopulationCell};
use html::{cards, esc, figure, page, para, section, table};

/// Indicators compared across PCNs and drawn by deprivation in the reports.
pub const KEY_INDICATORS: [&str; 4] = ["high_need", "sp_referral", "hfu_ae", "loneliness"];

/// What to report on.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub propose: ProposeOptions,
    /// Patients excluded in review (from `--proposal DIR`'s decisions).
    pub excluded: BTreeSet<i64>,
    /// PCNs to write a PCN report for (all when empty).
    pub pcns: Vec<String>,
}

/// Everything the reports draw on, computed once.
pub struct ReportData {
    pub as_of: chrono::NaiveDate,
    pub proposal: Proposal,
    pub indicators: Vec<Indicator>,
    pub cells: Vec<CountCell>,
    /// Unrounded statistics, for PCN reports and fitted lines.
    pub exact: Inequalities,
    /// Disclosure-controlled statistics, for the ICB report.
    pub shared: Inequalities,
    /// Key-indicator comparisons across PCNs, disclosure-controlled.
    pub comparisons: Vec<Comparison>,
    pub population: Vec<PopulationCell>,
    pub need_scores: Vec<NeedScoreCell>,
}

fn strings(b: &RecordBatch, c: usize) -> Result<Vec<String>> {
    let col = b.column(c);
    let a = col.as_string_opt::<i32>().ok_or_else(|| {
        PhmError::Input(format!(
            "report query: column {c} is {}, expected text",
            col.data_type()
        ))
    })?;
    Ok((0..a.len()).map(|i| a.value(i).to_string()).collect())
}

fn ints32(b: &RecordBatch, c: usize) -> Result<Vec<Option<i32>>> {
    let col = b.column(c);
    let a = col.as_primitive_opt::<Int32Type>().ok_or_else(|| {
        PhmError::Input(format!(
            "report query: column {c} is {}, expected Int32",
            col.data_type()
        ))
    })?;
    Ok((0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect())
}

fn ints64(b: &RecordBatch, c: usize) -> Result<Vec<i64>> {
    let col = b.column(c);
    let a = col.as_primitive_opt::<Int64Type>().ok_or_else(|| {
        PhmError::Input(format!(
            "report query: column {c} is {}, expected Int64",
            col.data_type()
        ))
    })?;
    Ok((0..a.len()).map(|i| a.value(i)).collect())
}

/// Runs every query and statistic the reports need.
pub async fn gather(pipeline: &Pipeline, options: &ReportOptions) -> Result<ReportData> {
    if !pipeline.ctx.table_exist("features")? {
        pipeline.register_features().await?;
    }
    let proposal = run::propose(pipeline, &options.propose, &options.excluded).await?;
    let config = IndicatorConfig::load(&pipeline.rules)?;
    let indicators = config.indicators.clone();
    let cells = indicators::count(&pipeline.ctx, &indicators, &pipeline.rules.origin).await?;
    let stats_options = |disclosure| inequalities::Options {
        by: GroupType::Decile,
        disclosure,
        simulation: config.simulation.clone(),
    };
    let exact = inequalities::compute(&indicators, &cells, &stats_options(Disclosure::Off))?;
    let shared =
        inequalities::compute(&indicators, &cells, &stats_options(Disclosure::Controlled))?;
    let mut comparisons = Vec::new();
    for name in KEY_INDICATORS {
        if let Some(k) = indicators.iter().position(|i| i.name == name) {
            comparisons.push(compare::compare(
                &indicators[k],
                k,
                &cells,
                AreaType::Pcn,
                Disclosure::Controlled,
            )?);
        }
    }
    let mut population = Vec::new();
    for b in &pipeline.run_report("population").await?.1 {
        let (pcn, sex, band, n) = (strings(b, 0)?, strings(b, 1)?, ints32(b, 2)?, ints64(b, 3)?);
        for i in 0..b.num_rows() {
            population.push(PopulationCell {
                pcn_code: pcn[i].clone(),
                sex: sex[i].clone(),
                age_band: band[i].unwrap_or(0).max(0) as usize,
                patients: n[i],
            });
        }
    }
    let mut need_scores = Vec::new();
    for b in &pipeline.run_report("need_scores").await?.1 {
        let (pcn, q, score, n) = (strings(b, 0)?, ints32(b, 1)?, ints32(b, 2)?, ints64(b, 3)?);
        for i in 0..b.num_rows() {
            need_scores.push(NeedScoreCell {
                pcn_code: pcn[i].clone(),
                imd_quintile: q[i],
                need_score: score[i].unwrap_or(0),
                patients: n[i],
            });
        }
    }
    Ok(ReportData {
        as_of: pipeline.as_of,
        proposal,
        indicators,
        cells,
        exact,
        shared,
        comparisons,
        population,
        need_scores,
    })
}

/// Paths of the written reports.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub icb: PathBuf,
    pub pcns: Vec<PathBuf>,
}

fn footnote(data: &ReportData) -> String {
    format!(
        "Patients registered at {}; activity in the 12 months to that date. Source: phm.",
        data.as_of
    )
}

fn fmt(v: Option<f64>, places: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.places$}"))
}

fn count_text(v: Option<i64>) -> String {
    v.map_or("suppressed".into(), |v| v.to_string())
}

/// Writes a chart's files and returns its figure HTML.
fn chart_html(chart: &Chart, dir: &Path, name: &str, caption: &str) -> Result<String> {
    let svg = chart.write(&dir.join("charts"), name)?;
    Ok(figure(chart, &svg, &format!("charts/{name}.png"), caption))
}

fn write_csv<T: serde::Serialize>(
    dir: &Path,
    name: &str,
    rows: &[T],
    header: &[&str],
) -> Result<()> {
    let path = dir.join(name);
    crate::output::write_atomic(&path, &inequalities::csv_of(rows, header)?)
        .map_err(|e| PhmError::write(&path, e))
}

/// Writes the ICB report and one PCN report per PCN under `out`.
pub fn write_reports(
    data: &ReportData,
    out: &Path,
    options: &ReportOptions,
) -> Result<ReportFiles> {
    let icb = write_icb(data, &out.join("icb"))?;
    let mut pcns = Vec::new();
    for s in &data.proposal.summaries {
        if options.pcns.is_empty() || options.pcns.contains(&s.pcn_code) {
            pcns.push(write_pcn(
                data,
                &s.pcn_code,
                &out.join("pcn").join(&s.pcn_code),
            )?);
        }
    }
    for p in &options.pcns {
        if !data.proposal.summaries.iter().any(|s| &s.pcn_code == p) {
            return Err(PhmError::Input(format!(
                "--pcn {p}: no patients registered in that PCN at {}",
                data.as_of
            )));
        }
    }
    Ok(ReportFiles { icb, pcns })
}

/// The ICB report: aggregated, disclosure-controlled, no patient-level rows.
fn write_icb(data: &ReportData, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| PhmError::write(dir, e))?;
    let d = Disclosure::Controlled;
    let foot = footnote(data);
    let mut sections = Vec::new();

    // Headline per PCN, counts disclosure-controlled.
    let header = [
        "pcn_code",
        "registered",
        "eligible",
        "high_need",
        "link_worker_fte",
        "capacity",
        "proposed",
        "waiting",
        "fte_needed",
        "sp_referred_per_1000",
    ];
    let mut rows = Vec::new();
    for s in &data.proposal.summaries {
        let c = |n: u64| count_text(d.count(n as i64));
        let sp = if d.suppresses(s.sp_referred_12m as i64) {
            "suppressed".into()
        } else {
            format!("{:.1}", s.sp_referred_per_1000)
        };
        rows.push(vec![
            s.pcn_code.clone(),
            c(s.registered),
            c(s.eligible),
            c(s.high_need),
            s.link_worker_fte.to_string(),
            s.capacity.to_string(),
            c(s.proposed),
            c(s.waiting),
            s.fte_needed.to_string(),
            sp,
        ]);
    }
    write_csv(dir, "pcn_summary.csv", &rows, &header)?;
    let total_registered: u64 = data.proposal.summaries.iter().map(|s| s.registered).sum();
    let total_high: u64 = data.proposal.summaries.iter().map(|s| s.high_need).sum();
    let total_proposed: u64 = data.proposal.summaries.iter().map(|s| s.proposed).sum();
    let total_capacity: u64 = data.proposal.summaries.iter().map(|s| s.capacity).sum();
    let headline = cards(&[
        ("PCNs".into(), data.proposal.summaries.len().to_string()),
        (
            "registered patients".into(),
            count_text(d.count(total_registered as i64)),
        ),
        (
            "eligible adults with high unmet need".into(),
            count_text(d.count(total_high as i64)),
        ),
        (
            "proposed for proactive offers".into(),
            count_text(d.count(total_proposed as i64)),
        ),
        (
            "link-worker capacity in the period".into(),
            total_capacity.to_string(),
        ),
    ]);
    sections.push(section(
        "Networks at a glance",
        &format!(
            "{headline}\n{}\n{}",
            table(&header, &rows, &[0]),
            para(d.statement(), "note")
        ),
    ));

    // League tables and funnels of the key indicators.
    let mut body = String::new();
    for c in &data.comparisons {
        let name = &c.indicator.name;
        write_csv(
            dir,
            &format!("league_{name}.csv"),
            &c.league,
            &compare::LEAGUE_COLUMNS,
        )?;
        write_csv(
            dir,
            &format!("funnel_{name}.csv"),
            &c.funnel,
            &compare::FUNNEL_COLUMNS,
        )?;
        body.push_str(&format!("<h3>{}</h3>\n", esc(&c.indicator.title)));
        let rows: Vec<Vec<String>> = c
            .league
            .iter()
            .map(|r| {
                vec![
                    r.rank.to_string(),
                    r.area_code.clone(),
                    count_text(r.numerator),
                    count_text(r.denominator),
                    fmt(r.value, 1),
                    format!("{} to {}", fmt(r.lower95, 1), fmt(r.upper95, 1)),
                    r.significance.to_string(),
                ]
            })
            .collect();
        body.push_str(&table(
            &[
                "rank",
                "PCN",
                "numerator",
                "denominator",
                &c.indicator.unit(),
                "95% CI",
                "against the ICB",
            ],
            &rows,
            &[1, 6],
        ));
        let chart = figures::funnel(c, None, foot.clone());
        body.push_str(&chart_html(
            &chart,
            dir,
            &format!("funnel_{name}"),
            "Each point is a PCN; outside the 99.8% lines is very unlikely to be chance.",
        )?);
    }
    sections.push(section("Comparing networks", &body));

    // Inequalities by IMD at ICB level.
    write_csv(
        dir,
        "inequalities.csv",
        &data.shared.rows,
        &inequalities::INEQUALITIES_COLUMNS,
    )?;
    write_csv(dir, "sii.csv", &data.shared.sii, &inequalities::SII_COLUMNS)?;
    write_csv(dir, "gap.csv", &data.shared.gap, &inequalities::GAP_COLUMNS)?;
    let mut rows = Vec::new();
    for ind in &data.indicators {
        for s in data
            .shared
            .sii
            .iter()
            .filter(|s| s.indicator == ind.name && s.area_type == AreaType::Icb)
        {
            let g = data
                .shared
                .gap
                .iter()
                .find(|g| g.indicator == ind.name && g.area_code == s.area_code);
            rows.push(vec![
                ind.title.clone(),
                s.area_code.clone(),
                fmt(s.sii, 2),
                format!("{} to {}", fmt(s.sii_lower95, 2), fmt(s.sii_upper95, 2)),
                fmt(s.rii, 2),
                fmt(g.and_then(|g| g.ratio), 2),
                fmt(g.and_then(|g| g.gap), 2),
                s.note.clone().unwrap_or_default(),
            ]);
        }
    }
    let mut body = table(
        &[
            "indicator",
            "ICB",
            "SII",
            "SII 95% CI",
            "RII",
            "Q1/Q5 ratio",
            "Q1−Q5 gap",
            "note",
        ],
        &rows,
        &[0, 1, 7],
    );
    body.push_str(&para(
        "A positive SII (RII above 1) means higher values among the more deprived. SII is in the \
         indicator's unit across the whole deprivation range; Q1 is the most deprived fifth.",
        "note",
    ));
    let icb_codes: BTreeSet<&str> = data.cells.iter().map(|c| c.icb_code.as_str()).collect();
    for name in KEY_INDICATORS {
        let Some(ind) = data.indicators.iter().find(|i| i.name == name) else {
            continue;
        };
        for code in &icb_codes {
            let sii = data
                .shared
                .sii
                .iter()
                .find(|s| s.indicator == ind.name && s.area_code == *code);
            if let Some(chart) = figures::gradient(
                ind,
                &data.shared.rows,
                &data.exact.rows,
                sii,
                code,
                foot.clone(),
            ) {
                body.push_str(&chart_html(
                    &chart,
                    dir,
                    &format!("gradient_{name}_{code}"),
                    "Points with 95% intervals by national IMD decile; the line is the SII fit.",
                )?);
            }
        }
    }
    sections.push(section("Inequalities by deprivation", &body));

    // Need, capacity and the cohort.
    let mut body = String::new();
    let s = &data.proposal.summaries;
    let rows = &data.proposal.rows;
    for (name, chart, caption) in [
        ("need_capacity", figures::need_vs_capacity(s, d, foot.clone()), "Bars: high-need eligible adults (proposed + waiting); black ticks: capacity."),
        ("segments", figures::segment_mix(s, rows, d, foot.clone()), "Who is proposed, by the first matching segment (rules.md §5)."),
        ("referrals", figures::referrals(s, d, foot.clone()), "Patients with a social-prescribing referral in 12 months per 1,000 registered, against the target."),
        ("pyramid", figures::pyramid(&data.population, rows, None, d, foot.clone()), "Percent of each group by age band and sex."),
        ("need_scores", figures::need_distribution(&data.need_scores, None, d, foot.clone()), "Share of eligible adults at each unmet-need score, by IMD quintile."),
    ] {
        body.push_str(&chart_html(&chart, dir, name, caption)?);
    }
    sections.push(section("Need and capacity", &body));
    sections.push(section(
        "About this report",
        &para(
            &format!(
                "For sharing across the ICB: {} No patient-level rows are included. Methods: \
                 PHEindicatormethods (Wilson, Byar, Dobson DSR on ESP2013, SII by simulation, \
                 funnel limits). Tables are also in the CSV files beside this report.",
                d.statement()
            ),
            "note",
        ),
    ));
    let path = dir.join("report.html");
    let html = page(
        "ICB comparison of primary care networks",
        &[
            format!(
                "Reference date {} · proposal {}",
                data.as_of, data.proposal.proposal_id
            ),
            "Disclosure control applied — suitable for sharing".into(),
        ],
        &sections,
    );
    crate::output::write_atomic(&path, html.as_bytes()).map_err(|e| PhmError::write(&path, e))?;
    Ok(path)
}

/// One PCN's report for its clinical lead: patient-level, stays in the PCN's folder.
fn write_pcn(data: &ReportData, pcn: &str, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| PhmError::write(dir, e))?;
    let d = Disclosure::Off;
    let foot = footnote(data);
    let summary = data
        .proposal
        .summaries
        .iter()
        .find(|s| s.pcn_code == pcn)
        .ok_or_else(|| PhmError::Input(format!("no PCN {pcn} in the proposal")))?;
    let mut sections = Vec::new();
    let coverage = summary
        .coverage
        .map_or("–".into(), |c| format!("{:.0}%", c * 100.0));
    sections.push(section(
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
    ));

    // The proposed cohort with reasons.
    let header = [
        "rank",
        "patient_id",
        "practice_code",
        "segment",
        "need_score",
        "need_reasons",
        "status",
    ];
    let rows: Vec<Vec<String>> = data
        .proposal
        .rows
        .iter()
        .filter(|r| r.candidate.pcn_code == pcn && r.status == Status::Proposed)
        .map(|r| {
            vec![
                r.rank.to_string(),
                r.candidate.patient_id.to_string(),
                r.candidate.practice_code.clone(),
                r.segment.name().to_string(),
                r.candidate.need_score.to_string(),
                r.candidate.need_reasons.clone(),
                r.status.name().to_string(),
            ]
        })
        .collect();
    write_csv(dir, "proposed.csv", &rows, &header)?;
    let mut seg_counts = std::collections::BTreeMap::new();
    for r in data
        .proposal
        .rows
        .iter()
        .filter(|r| r.candidate.pcn_code == pcn && r.status == Status::Proposed)
    {
        *seg_counts.entry(r.segment.name()).or_insert(0u64) += 1;
    }
    let seg_rows: Vec<Vec<String>> = seg_counts
        .iter()
        .map(|(s, n)| vec![s.to_string(), n.to_string()])
        .collect();
    sections.push(section(
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
    ));

    // Charts.
    let mut body = String::new();
    if let Some(ind) = data.indicators.iter().find(|i| i.name == "high_need") {
        let sii = data
            .exact
            .sii
            .iter()
            .find(|s| s.indicator == ind.name && s.area_code == pcn);
        if let Some(chart) = figures::gradient(
            ind,
            &data.exact.rows,
            &data.exact.rows,
            sii,
            pcn,
            foot.clone(),
        ) {
            body.push_str(&chart_html(
                &chart,
                dir,
                "gradient_high_need",
                "High unmet need by national IMD decile in this PCN (95% intervals).",
            )?);
        }
    }
    if let Some(c) = data
        .comparisons
        .iter()
        .find(|c| c.indicator.name == "high_need")
    {
        let chart = figures::funnel(c, Some(pcn), foot.clone());
        body.push_str(&chart_html(
            &chart,
            dir,
            "funnel_high_need",
            "This PCN (orange) against the others in the ICB.",
        )?);
    }
    let s = &data.proposal.summaries;
    let rows = &data.proposal.rows;
    for (name, chart, caption) in [
        (
            "need_capacity",
            figures::need_vs_capacity(s, d, foot.clone()),
            "High-need eligible adults per PCN, proposed and waiting; black ticks: capacity.",
        ),
        (
            "segments",
            figures::segment_mix(s, rows, d, foot.clone()),
            "The proposed cohort by segment, per PCN.",
        ),
        (
            "referrals",
            figures::referrals(s, d, foot.clone()),
            "Social-prescribing referrals per 1,000 registered patients, against the target.",
        ),
        (
            "pyramid",
            figures::pyramid(&data.population, rows, Some(pcn), d, foot.clone()),
            "Percent of each group by age band and sex.",
        ),
        (
            "need_scores",
            figures::need_distribution(&data.need_scores, Some(pcn), d, foot.clone()),
            "Share of eligible adults at each unmet-need score, by IMD quintile.",
        ),
    ] {
        body.push_str(&chart_html(&chart, dir, name, caption)?);
    }
    sections.push(section("Charts", &body));
    sections.push(section(
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
    ));
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
