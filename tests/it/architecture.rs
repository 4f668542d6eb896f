//! Issue 16: the "where to add" examples of docs/architecture.md, each done
//! for real, and the report rendered from a hand-built `ReportData` with no
//! query engine. Each example touches only the place the document names.

use std::path::Path;

use crate::common::*;
use phm::analysis::disclosure::Disclosure;
use phm::analysis::indicators::{CountCell, Indicator, IndicatorConfig};
use phm::analysis::inequalities::{self, GroupType};
use phm::analysis::published::PublishedCounts;
use phm::analysis::tallies::{AreaType, Tallies};
use phm::proposals::capacity::{CapacityDefaults, PcnCapacityInput};
use phm::proposals::run::Proposal;
use phm::proposals::{rank_pcn, summarise, Candidate, PcnCounts};
use phm::report::data::{summary_measures, Measures, NeedScoreCell, PopulationCell, ReportData};
use phm::report::shared::{self, SharedCounts};
use phm::rules::RuleSet;
use rust_decimal::Decimal;

const T: &str = "2024-03-31";

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The built-in rules exported to `dir/rules`, for an example to edit.
fn rules(dir: &Path) -> std::path::PathBuf {
    let rules = dir.join("rules");
    let (code, _, err) = phm(&["rules", "export", p(&rules)]);
    assert_eq!(code, 0, "{err}");
    rules
}

fn append(path: &Path, text: &str) {
    let mut s = std::fs::read_to_string(path).unwrap();
    s.push_str(text);
    std::fs::write(path, s).unwrap();
}

/// A small extract: 30 adults in PCN U00001, 10 of them with SMI, 3 of those
/// also lonely.
fn extract(dir: &Path) -> std::path::PathBuf {
    let ex = dir.join("extract");
    let mut x = Extract::default().with_default_imd();
    for id in 1..=30 {
        x.patients.push(Patient::new(id));
        if id <= 10 {
            x.events.push((id, code("smi"), "2020-01-01", None));
        }
        if id <= 3 {
            x.events.push((id, code("loneliness"), "2024-01-01", None));
        }
    }
    x.write(&ex);
    ex
}

// docs/architecture.md, "An indicator": one block in indicators.toml.
#[test]
fn adding_an_indicator_is_one_block_in_indicators_toml() {
    let dir = tempfile::tempdir().unwrap();
    let ex = extract(dir.path());
    let rules = rules(dir.path());
    append(
        &rules.join("indicators.toml"),
        "\n[[indicator]]\nname = \"smi_prevalence\"\ntitle = \"SMI register (%)\"\n\
         measure = \"proportion\"\nnumerator = \"smi\"\nmultiplier = 100\n",
    );
    let out = dir.path().join("out");
    let (code, _, err) = phm(&[
        "inequalities",
        "--quiet",
        "--extract",
        p(&ex),
        "--as-of",
        T,
        "--rules",
        p(&rules),
        "--indicator",
        "smi_prevalence",
        "--no-disclosure-control",
        "--out",
        p(&out),
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = csv_maps(&out.join("inequalities.csv"));
    let all = rows
        .iter()
        .find(|r| r["area_type"] == "pcn" && r["group"] == "all")
        .unwrap();
    // 10 of 30 by hand.
    assert_eq!(
        (all["numerator"].as_str(), all["denominator"].as_str()),
        ("10", "30")
    );
    assert!((all["value"].parse::<f64>().unwrap() - 100.0 / 3.0).abs() < 1e-9);
}

// docs/architecture.md, "A rule view": a SQL file and its name in views.toml.
#[test]
fn adding_a_rule_view_is_a_sql_file_and_a_line_in_views_toml() {
    let dir = tempfile::tempdir().unwrap();
    let ex = extract(dir.path());
    let rules = rules(dir.path());
    std::fs::write(
        rules.join("sql/smi_register.sql"),
        "-- Patients on the SMI register at T (a view other rules and queries can read).\n\
         SELECT patient_id FROM coded_history WHERE smi_last IS NOT NULL\n",
    )
    .unwrap();
    let views = std::fs::read_to_string(rules.join("views.toml")).unwrap();
    std::fs::write(
        rules.join("views.toml"),
        views.replace(
            "    \"core20plus\",",
            "    \"smi_register\",\n    \"core20plus\",",
        ),
    )
    .unwrap();
    let (code, stdout, err) = phm(&[
        "query",
        "--quiet",
        "--extract",
        p(&ex),
        "--as-of",
        T,
        "--rules",
        p(&rules),
        "-e",
        "SELECT count(*) AS n FROM smi_register",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("| 10 |"), "{stdout}");
}

// docs/architecture.md, "A scored component": one block in scoring.toml.
#[test]
fn adding_a_scored_component_is_one_block_in_scoring_toml() {
    let dir = tempfile::tempdir().unwrap();
    let ex = extract(dir.path());
    let rules = rules(dir.path());
    let scoring = std::fs::read_to_string(rules.join("scoring.toml")).unwrap();
    std::fs::write(
        rules.join("scoring.toml"),
        scoring.replace(
            "[need]",
            "[[component]]\nname = \"smi\"\ncolumn = \"smi\"\npoints = 4\n\n[need]",
        ),
    )
    .unwrap();
    let out = dir.path().join("features.parquet");
    let (code, _, err) = phm(&[
        "features",
        "--quiet",
        "--extract",
        p(&ex),
        "--as-of",
        T,
        "--rules",
        p(&rules),
        "--out",
        p(&out),
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = rows_of(std::slice::from_ref(&read_parquet(&out)));
    // Patient 1: lonely 3 + ltc2? No: SMI is one condition (ltc_count 1).
    // So lonely+3, then the new smi+4 last: 7, high need (>= 6).
    assert_eq!(s(&rows[&1], "need_reasons"), "lonely+3; smi+4");
    assert_eq!(i(&rows[&1], "need_score"), Some(7));
    assert!(b(&rows[&1], "high_need"));
    // Patient 5: smi+4 alone, below 6.
    assert_eq!(s(&rows[&5], "need_reasons"), "smi+4");
    assert!(!b(&rows[&5], "high_need"));
    assert_eq!(s(&rows[&20], "need_reasons"), "");
}

// ------------------------------------------------ the report, no engine

/// A hand-built `ReportData`: two PCNs of one ICB, every number chosen here.
fn report_data() -> ReportData {
    let indicators: Vec<Indicator> = IndicatorConfig::load(&RuleSet::defaults())
        .unwrap()
        .indicators
        .into_iter()
        .filter(|i| i.name == "high_need" || i.name == "loneliness")
        .collect();
    let mut counted = indicators.clone();
    counted.extend(summary_measures());
    let measures = Measures::after(indicators.len());
    // Cells: per (PCN, decile), indicators [high_need, loneliness] then the
    // measures [registered, eligible, high_need, sp_referred].
    let cell = |pcn: &str, decile: i32, n: i64, high: i64, lonely: i64| CountCell {
        icb_code: "QAA".into(),
        pcn_code: pcn.into(),
        practice_code: format!("P{pcn}"),
        imd_decile: Some(decile),
        local_quintile: Some((decile + 1) / 2),
        age_band: 8,
        numerators: vec![lonely, high, n, n, high, 20],
        denominators: vec![n, n, n, n, n, n],
    };
    let cells: Vec<CountCell> = (1..=10)
        .flat_map(|d| {
            [
                cell("U1", d, 400, 10 + d as i64, 30),
                cell("U2", d, 300, 9, 20 + d as i64),
            ]
        })
        .collect();
    let tallies = Tallies::of(&counted, &cells);
    let published = PublishedCounts::of(&tallies, Disclosure::Controlled);
    let options = inequalities::Options {
        by: GroupType::Decile,
        simulation: phm::analysis::indicators::Simulation {
            repetitions: 1000,
            seed: 1,
        },
    };
    let ineq = inequalities::compute(&tallies, &published, indicators.len(), &options).unwrap();
    let comparisons = (0..indicators.len())
        .filter(|&k| indicators[k].key)
        .map(|k| phm::analysis::compare::compare(&tallies, &published, k, AreaType::Pcn).unwrap())
        .collect();
    let defaults = CapacityDefaults::parse(
        "capacity.toml",
        RuleSet::defaults().file("capacity.toml").unwrap(),
    )
    .unwrap();
    let input = PcnCapacityInput {
        link_worker_fte: Decimal::from(2),
        caseload_per_fte_year: Decimal::from(200),
        proactive_share: Decimal::new(3, 1),
        from_csv: false,
    };
    let mut rows = Vec::new();
    let mut summaries = Vec::new();
    // High need as the cells count it: U1 Σ(10 + d) = 155, U2 10 × 9 = 90.
    for (pcn, n, high) in [("U1", 4000u64, 155u64), ("U2", 3000, 90)] {
        let candidates: Vec<Candidate> = (0..high)
            .map(|k| Candidate {
                pcn_code: pcn.into(),
                patient_id: k as i64 + if pcn == "U1" { 1 } else { 10_000 },
                need_score: 6 + (k % 5) as i32,
                segment: if k % 3 == 0 {
                    "lonely_isolated"
                } else {
                    "frailty"
                }
                .into(),
                age: 40 + (k % 40) as i32,
                sex: if k % 2 == 0 { "F" } else { "M" }.into(),
                ..Default::default()
            })
            .collect();
        let ranked = rank_pcn(candidates, 120);
        let counts = PcnCounts {
            pcn_code: pcn.into(),
            registered: n,
            adults: n,
            eligible: n,
            high_need: high,
            sp_referred_12m: 200,
        };
        summaries.push(summarise(
            &counts,
            &input,
            12,
            Decimal::from(16),
            &ranked,
            0,
        ));
        rows.extend(ranked);
    }
    let proposal = Proposal {
        as_of: d(T),
        period_months: 12,
        rows,
        summaries,
        proposal_id: "0123456789abcdef".into(),
        defaults,
        segments: [
            "hfu_social",
            "lonely_isolated",
            "frailty",
            "core20_multimorbid",
            "plus_groups",
            "other_high_need",
        ]
        .map(String::from)
        .to_vec(),
        warnings: Vec::new(),
        evidence: Default::default(),
    };
    let population: Vec<PopulationCell> = ["U1", "U2"]
        .iter()
        .flat_map(|pcn| {
            (0..10).flat_map(move |band| {
                ["F", "M"].map(|sex| PopulationCell {
                    pcn_code: pcn.to_string(),
                    sex: sex.into(),
                    age_band: band,
                    patients: 180,
                })
            })
        })
        .collect();
    let need_scores: Vec<NeedScoreCell> = (1..=5)
        .flat_map(|q| {
            (0..12).map(move |score| NeedScoreCell {
                pcn_code: "U1".into(),
                imd_quintile: Some(q),
                need_score: score,
                patients: 40,
            })
        })
        .collect();
    let shared = SharedCounts::of(
        &shared::Inputs {
            proposal: &proposal,
            tallies: &tallies,
            measures,
            population: &population,
            need_scores: &need_scores,
            high_need_score: 6,
        },
        Disclosure::Controlled,
    );
    ReportData {
        as_of: d(T),
        activity_months: 12,
        proposal,
        indicators,
        tallies,
        measures,
        published,
        inequalities: ineq,
        comparisons,
        benchmarks: Vec::new(),
        population,
        need_scores,
        shared,
        high_need_score: 6,
    }
}

#[test]
fn the_reports_render_from_a_hand_built_report_data() {
    let data = report_data();
    let dir = tempfile::tempdir().unwrap();
    let files = phm::report::write_reports(&data, dir.path(), &Default::default()).unwrap();
    assert_eq!(files.pcns.len(), 2);
    let summary = csv_maps(&dir.path().join("icb/pcn_summary.csv"));
    // U1: 4,000 registered; 155 high need (shown 155); capacity
    // floor(2 × 200 × 0.3) = 120, all proposed; 35 not offered; 155 / 60 = 2.58… → 2.6 FTE.
    let u1 = &summary[0];
    assert_eq!(
        [
            &u1["pcn_code"],
            &u1["registered"],
            &u1["high_need"],
            &u1["capacity"],
            &u1["proposed"],
            &u1["not_offered"],
            &u1["fte_needed"]
        ],
        ["U1", "4000", "155", "120", "120", "35", "2.6"]
    );
    let html = std::fs::read_to_string(&files.icb).unwrap();
    assert!(html.contains("Disclosure control applied"));
    assert!(!html.contains("10000"), "no patient ids in the ICB report");
    let pcn = std::fs::read_to_string(&files.pcns[0]).unwrap();
    // Patient 5 (score 10, the highest) is proposed.
    assert!(
        pcn.contains("<td class=\"text\">5</td>"),
        "U1 lists its own proposed patients"
    );
    // The key indicator (high_need and loneliness are key): funnels for both.
    for name in ["high_need", "loneliness"] {
        assert!(
            dir.path()
                .join(format!("icb/charts/funnel_{name}.svg"))
                .is_file(),
            "{name}"
        );
    }
}

// docs/architecture.md, "A chart": a function in report/figures.rs that turns
// numbers resolved for a reader (report/views.rs) into a `Chart`, and a line
// in the page that shows it. Here: high-need adults per PCN as the ICB sees them.
#[test]
fn adding_a_chart_is_a_figure_function_over_report_data() {
    let data = report_data();
    let bars: Vec<(String, Vec<Option<f64>>)> = data
        .proposal
        .summaries
        .iter()
        .map(|s| {
            (
                s.pcn_code.clone(),
                vec![data.shared_summary(s).high_need.map(|n| n as f64)],
            )
        })
        .collect();
    let chart = phm::charts::Chart::Bars(phm::charts::StackedBars {
        title: "High-need adults per PCN".into(),
        y_label: "Patients".into(),
        series: vec!["high need".into()],
        bars,
        markers: None,
        target: None,
        footnote: "Hand-built data.".into(),
    });
    let svg = chart.svg().unwrap();
    assert_eq!(phm::charts::count_marks(&svg, "rect"), 2, "one bar per PCN");
    assert_eq!(chart.data_points(), 2);
}
