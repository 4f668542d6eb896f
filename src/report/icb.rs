//! The ICB report: every PCN through its published counts only (rules.md
//! §6), no patient-level rows; one section per function.

use std::path::{Path, PathBuf};

use super::data::ReportData;
use super::figures::PYRAMID_LABELS;
use super::html::{cards, esc, page, para, section, table};
use super::shared::BandSex;
use super::views::Reader;
use super::{chart_html, count_text, figures, fmt, footnote, write_csv};
use crate::analysis::benchmarks;
use crate::analysis::compare;
use crate::analysis::disclosure::Disclosure;
use crate::analysis::inequalities::{self, AreaType, GroupType};
use crate::error::{PhmError, Result};

/// Columns of `pcn_summary.csv`.
const SUMMARY_COLUMNS: [&str; 10] = [
    "pcn_code",
    "registered",
    "eligible",
    "high_need",
    "link_worker_fte",
    "capacity",
    "proposed",
    "not_offered",
    "fte_needed",
    "sp_referred_per_1000",
];

/// Writes `dir/report.html` and its CSVs and charts.
pub fn write(data: &ReportData, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| PhmError::write(dir, e))?;
    let sections = vec![
        at_a_glance(data, dir)?,
        comparing_networks(data, dir)?,
        by_deprivation(data, dir)?,
        against_benchmarks(data, dir)?,
        need_and_capacity(data, dir)?,
        about(data),
    ];
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

/// Headline per PCN: the published counts, and figures computed from them.
fn at_a_glance(data: &ReportData, dir: &Path) -> Result<String> {
    let shared: Vec<_> = data
        .proposal
        .summaries
        .iter()
        .map(|s| data.shared_summary(s))
        .collect();
    let rows: Vec<Vec<String>> = shared
        .iter()
        .map(|s| {
            vec![
                s.pcn_code.clone(),
                count_text(s.registered),
                count_text(s.eligible),
                count_text(s.high_need),
                s.link_worker_fte.normalize().to_string(),
                s.capacity.to_string(),
                count_text(s.proposed),
                count_text(s.not_offered),
                s.fte_needed
                    .map_or("suppressed".into(), |f| f.normalize().to_string()),
                s.sp_referred_per_1000
                    .map_or("suppressed".into(), |v| format!("{v:.1}")),
            ]
        })
        .collect();
    write_csv(dir, "pcn_summary.csv", &rows, &SUMMARY_COLUMNS)?;
    // Totals are sums of the published counts, so they add nothing to them.
    let total = |f: &dyn Fn(&super::data::SharedSummary) -> Option<i64>| {
        shared
            .iter()
            .map(f)
            .sum::<Option<i64>>()
            .map_or("suppressed".into(), |n| n.to_string())
    };
    let capacity: u64 = shared.iter().map(|s| s.capacity).sum();
    let headline = cards(&[
        ("PCNs".into(), shared.len().to_string()),
        ("registered patients".into(), total(&|s| s.registered)),
        (
            "eligible adults with high unmet need".into(),
            total(&|s| s.high_need),
        ),
        (
            "proposed for proactive offers".into(),
            total(&|s| s.proposed),
        ),
        (
            "link-worker capacity in the period".into(),
            capacity.to_string(),
        ),
    ]);
    Ok(section(
        "Networks at a glance",
        &format!(
            "{headline}\n{}\n{}",
            table(&SUMMARY_COLUMNS, &rows, &[0]),
            para(
                &format!(
                    "{} Totals are sums of the published PCN counts. not_offered is high_need \
                     minus proposed, of the published counts.",
                    Disclosure::Controlled.statement()
                ),
                "note"
            )
        ),
    ))
}

/// League tables and funnels of the key indicators.
fn comparing_networks(data: &ReportData, dir: &Path) -> Result<String> {
    let foot = footnote(data);
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
                    r.significance
                        .map_or(compare::SUPPRESSED_LABEL, |s| s.as_str())
                        .to_string(),
                ]
            })
            .collect();
        let unit = c.indicator.unit();
        body.push_str(&table(
            &[
                "rank",
                "PCN",
                "numerator",
                "denominator",
                &unit,
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
            &["funnel", name],
            "Each point is a PCN; outside the 99.8% lines is very unlikely to be chance.",
        )?);
    }
    Ok(section("Comparing networks", &body))
}

/// SII, RII and gap per indicator at ICB level, and the key indicators' gradients.
fn by_deprivation(data: &ReportData, dir: &Path) -> Result<String> {
    let shared = &data.inequalities;
    write_csv(
        dir,
        "inequalities.csv",
        &shared.rows,
        &inequalities::INEQUALITIES_COLUMNS,
    )?;
    write_csv(dir, "sii.csv", &shared.sii, &inequalities::SII_COLUMNS)?;
    write_csv(dir, "gap.csv", &shared.gap, &inequalities::GAP_COLUMNS)?;
    let mut rows = Vec::new();
    for ind in &data.indicators {
        for s in shared
            .sii
            .iter()
            .filter(|s| s.indicator == ind.name && s.area_type == AreaType::Icb)
        {
            let g = shared
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
         indicator's unit across the whole deprivation range; Q1 is the most deprived fifth. \
         Every figure is computed from the published counts.",
        "note",
    ));
    body.push_str(&gradients(data, dir)?);
    Ok(section("Inequalities by deprivation", &body))
}

/// The ICB and its PCNs against `--benchmark` (equity.md §5): a table of
/// labels per indicator and the spine chart; nothing without a benchmark.
fn against_benchmarks(data: &ReportData, dir: &Path) -> Result<String> {
    if data.benchmarks.is_empty() {
        return Ok(String::new());
    }
    write_csv(
        dir,
        "benchmark.csv",
        &data.benchmarks,
        &benchmarks::BENCHMARK_COLUMNS,
    )?;
    let mut rows = Vec::new();
    for ind in &data.indicators {
        let of = |name: &str| -> Vec<&benchmarks::BenchmarkRow> {
            data.benchmarks
                .iter()
                .filter(|r| r.indicator == ind.name && r.benchmark == name)
                .collect()
        };
        let mut names: Vec<&str> = Vec::new();
        for r in data.benchmarks.iter().filter(|r| r.indicator == ind.name) {
            if !names.contains(&r.benchmark.as_str()) {
                names.push(&r.benchmark);
            }
        }
        for name in names {
            let these = of(name);
            let Some(first) = these.first() else {
                continue;
            };
            let icb: Vec<String> = these
                .iter()
                .filter(|r| r.area_type == AreaType::Icb)
                .map(|r| {
                    format!(
                        "{} ({} to {}): {}",
                        fmt(r.value, 2),
                        fmt(r.lower95, 2),
                        fmt(r.upper95, 2),
                        r.label.as_str()
                    )
                })
                .collect();
            let period = first
                .period
                .as_deref()
                .map_or(String::new(), |p| format!(" ({p})"));
            rows.push(vec![
                ind.title.clone(),
                format!("{name}{period}"),
                format!("{:.2}", first.benchmark_value),
                icb.join("; "),
                benchmarks::label_counts(
                    these
                        .iter()
                        .copied()
                        .filter(|r| r.area_type == AreaType::Pcn),
                ),
            ]);
        }
    }
    let mut body = table(
        &[
            "indicator",
            "benchmark",
            "value",
            "ICB (95% CI): label",
            "PCNs",
        ],
        &rows,
        &[0, 1, 3, 4],
    );
    body.push_str(&para(
        "An area is Better or Worse (by the indicator's polarity in indicators.toml) when the \
         benchmark lies outside its 95% interval, and Similar when inside; Higher or Lower for \
         indicators where a higher value is neither better nor worse, such as recorded \
         prevalence. Values and intervals are those computed from the published counts.",
        "note",
    ));
    if let Some(chart) = figures::spine(&data.indicators, &data.benchmarks, footnote(data)) {
        body.push_str(&chart_html(
            &chart,
            dir,
            &["spine"],
            "Each row is scaled to the PCN furthest from the benchmark (the centre line); the bar \
             spans the PCNs, better to the right (higher to the right where there is no judgement).",
        )?);
    }
    Ok(section("Against the benchmark", &body))
}

/// The key indicators by national IMD decile for each ICB, as published.
fn gradients(data: &ReportData, dir: &Path) -> Result<String> {
    let foot = footnote(data);
    let mut body = String::new();
    for (k, ind) in data.key_indicators() {
        for code in data.tallies.geography.codes(AreaType::Icb) {
            let area = (AreaType::Icb, code.clone());
            let sii = data.inequalities.sii.iter().find(|s| {
                s.indicator == ind.name && s.area_type == AreaType::Icb && s.area_code == code
            });
            let (points, fit) = data.gradient_figures(Reader::Icb, k, &area, GroupType::Decile)?;
            let chart = figures::gradient(
                ind,
                GroupType::Decile,
                &points,
                &fit,
                sii,
                &code,
                foot.clone(),
            );
            if let Some(chart) = chart {
                body.push_str(&chart_html(
                    &chart,
                    dir,
                    &["gradient", &ind.name, &code],
                    "Points with 95% intervals by national IMD decile; the line is the SII fit.",
                )?);
            }
        }
    }
    Ok(body)
}

/// Need, capacity and the cohort, every PCN as published.
fn need_and_capacity(data: &ReportData, dir: &Path) -> Result<String> {
    let foot = footnote(data);
    let r = Reader::Icb;
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
         "Bars: high-need eligible adults (proposed + waiting, as published); black ticks: capacity."),
        ("segments", figures::segment_mix(&data.proposal.segments, &data.segment_rows(r), foot.clone()),
         "Who is proposed, by the first matching segment (rules.md §4)."),
        ("referrals", figures::referrals(&data.referral_rows(r), target, data.activity_months, foot.clone()),
         "Patients with a social-prescribing referral per 1,000 registered, against the target."),
        ("pyramid", figures::pyramid(&pop, &coh, &scope, foot.clone()),
         "Percent of each group by age band and sex."),
        ("need_scores", figures::need_distribution(&need, &need_scope, foot.clone()),
         "Share of eligible adults at each unmet-need score, by IMD quintile."),
    ];
    let mut body = String::new();
    for (name, chart, caption) in charts {
        body.push_str(&chart_html(&chart, dir, &[name], caption)?);
    }
    write_chart_tables(data, dir, &pop, &coh, &need)?;
    Ok(section("Need and capacity", &body))
}

/// The published counts the need-and-capacity charts draw, as CSVs beside
/// them (suppressed counts written `suppressed`, as in pcn_summary.csv).
fn write_chart_tables(
    data: &ReportData,
    dir: &Path,
    pop: &BandSex<Option<i64>>,
    coh: &BandSex<Option<i64>>,
    need: &std::collections::BTreeMap<(i32, i32), Option<i64>>,
) -> Result<()> {
    let mut rows = Vec::new();
    for (pcn, counts) in data.segment_rows(Reader::Icb) {
        for (seg, n) in data.proposal.segments.iter().zip(counts) {
            rows.push(vec![pcn.clone(), seg.clone(), count_text(n)]);
        }
    }
    write_csv(
        dir,
        "segments.csv",
        &rows,
        &["pcn_code", "segment", "proposed"],
    )?;
    let mut rows = Vec::new();
    for (b, label) in PYRAMID_LABELS.iter().enumerate() {
        for (s, sex) in ["F", "M"].iter().enumerate() {
            rows.push(vec![
                label.to_string(),
                sex.to_string(),
                count_text(pop[b][s]),
                count_text(coh[b][s]),
            ]);
        }
    }
    write_csv(
        dir,
        "pyramid.csv",
        &rows,
        &["age_band", "sex", "registered", "proposed"],
    )?;
    let rows: Vec<Vec<String>> = need
        .iter()
        .map(|((q, score), n)| vec![q.to_string(), score.to_string(), count_text(*n)])
        .collect();
    write_csv(
        dir,
        "need_scores.csv",
        &rows,
        &["imd_quintile", "need_score", "eligible"],
    )
}

fn about(data: &ReportData) -> String {
    let secondary = data.published.secondary + data.shared.secondary;
    section(
        "About this report",
        &para(
            &format!(
                "For sharing across the ICB: {} {secondary} further count(s) were suppressed so that \
                 no small count can be worked out from totals. No patient-level rows are included. \
                 Methods: PHEindicatormethods (Wilson, Byar, Dobson DSR on ESP2013, SII by \
                 simulation, funnel limits). Tables are also in the CSV files beside this report.",
                Disclosure::Controlled.statement()
            ),
            "note",
        ),
    )
}
