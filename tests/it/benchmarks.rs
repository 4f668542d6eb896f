//! Benchmarks (equity.md §5): every label is Fingertips' rule applied, by the
//! test, to the area's published value and interval with the polarity of
//! indicators.toml; the values are the published ones (so a label gives no
//! count away); the ICB report's spine chart draws what benchmark.csv holds;
//! and a bad benchmark file stops the run naming its line and column.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::*;

/// Benchmarks chosen so that the sample's areas fall on each side: the
/// three polarities (hypertension makes no judgement, sp_referral is better
/// higher, ae_attendances better lower), two of them against two benchmarks.
const BENCHMARKS: &str = "indicator,benchmark,value,lower95,upper95,period\n\
    hypertension,England,15.3,,,2024/25\n\
    hypertension,Region,13,,,2024/25\n\
    sp_referral,England,10,9,11,2024/25\n\
    ae_attendances,England,300,,,\n\
    ae_attendances,Region,250,,,\n";

fn polarity(indicator: &str) -> &'static str {
    match indicator {
        "hypertension" => "no_judgement",
        "sp_referral" => "higher_is_better",
        "ae_attendances" => "lower_is_better",
        other => panic!("no polarity written down for {other}"),
    }
}

/// Fingertips' rule, written out again: outside the 95% interval differs.
fn fingertips(polarity: &str, lo: f64, hi: f64, benchmark: f64) -> &'static str {
    let (above, below) = (benchmark < lo, benchmark > hi);
    match (polarity, above, below) {
        (_, false, false) => "Similar",
        ("higher_is_better", true, _) | ("lower_is_better", _, true) => "Better",
        ("higher_is_better", _, true) | ("lower_is_better", true, _) => "Worse",
        ("no_judgement", true, _) => "Higher",
        ("no_judgement", _, true) => "Lower",
        _ => unreachable!(),
    }
}

fn write_benchmarks(dir: &Path, text: &str) -> String {
    let path = dir.join("benchmarks.csv");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn run(args: &[&str]) -> String {
    let (code, stdout, err) = phm(args);
    assert_eq!(code, 0, "{err}");
    stdout
}

/// Checks each benchmark.csv row against the published figures `published`
/// ((indicator, area_type, area_code) -> value, lower95, upper95) and the
/// rule; returns the labels seen.
fn check_rows(
    file: &Path,
    published: &BTreeMap<(String, String, String), [String; 3]>,
) -> BTreeMap<String, usize> {
    let rows = csv_maps(file);
    assert!(!rows.is_empty());
    let mut labels = BTreeMap::new();
    for r in &rows {
        let key = (
            r["indicator"].clone(),
            r["area_type"].clone(),
            r["area_code"].clone(),
        );
        let figures = published
            .get(&key)
            .unwrap_or_else(|| panic!("{key:?} is not published"));
        assert_eq!(
            [&r["value"], &r["lower95"], &r["upper95"]],
            [&figures[0], &figures[1], &figures[2]],
            "{key:?}: not the published value and interval"
        );
        assert_eq!(r["polarity"], polarity(&r["indicator"]));
        let want = if r["value"].is_empty() {
            "suppressed (disclosure control)"
        } else {
            fingertips(
                &r["polarity"],
                r["lower95"].parse().unwrap(),
                r["upper95"].parse().unwrap(),
                r["benchmark_value"].parse().unwrap(),
            )
        };
        assert_eq!(r["label"], want, "{r:?}");
        *labels.entry(r["label"].clone()).or_insert(0) += 1;
    }
    // Two benchmarks for ae_attendances: one row per area for each.
    let of = |ind: &str, b: &str| {
        rows.iter()
            .filter(|r| r["indicator"] == ind && r["benchmark"] == b)
            .count()
    };
    assert_eq!(
        of("ae_attendances", "England"),
        of("ae_attendances", "Region")
    );
    assert_eq!(
        of("ae_attendances", "England"),
        of("hypertension", "England")
    );
    labels
}

#[test]
fn labels_are_fingertips_rule_on_the_published_figures() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_benchmarks(dir.path(), BENCHMARKS);
    let out = dir.path().join("ineq");
    let stdout = run(&[
        "inequalities",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "--benchmark",
        &file,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.contains("Against the benchmarks"), "{stdout}");
    // Disclosure control is on: the published figures are inequalities.csv's
    // whole-area rows, which the disclosure attack test works on.
    let published: BTreeMap<_, _> = csv_maps(&out.join("inequalities.csv"))
        .into_iter()
        .filter(|r| r["group"] == "all")
        .map(|r| {
            (
                (
                    r["indicator"].clone(),
                    r["area_type"].clone(),
                    r["area_code"].clone(),
                ),
                [
                    r["value"].clone(),
                    r["lower95"].clone(),
                    r["upper95"].clone(),
                ],
            )
        })
        .collect();
    let labels = check_rows(&out.join("benchmark.csv"), &published);
    // The benchmarks were chosen so that the sample shows every kind of label.
    for l in ["Better", "Similar", "Worse", "Higher", "Lower"] {
        assert!(labels.contains_key(l), "no {l} label: {labels:?}");
    }
    let rows = csv_maps(&out.join("benchmark.csv"));
    let sp = rows
        .iter()
        .find(|r| r["indicator"] == "sp_referral" && r["area_type"] == "icb")
        .unwrap();
    assert_eq!(
        (
            sp["benchmark_lower95"].as_str(),
            sp["benchmark_upper95"].as_str(),
            sp["period"].as_str()
        ),
        ("9.0", "11.0", "2024/25")
    );
}

#[test]
fn compare_labels_each_pcn_of_the_league() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_benchmarks(dir.path(), BENCHMARKS);
    let out = dir.path().join("compare");
    run(&[
        "compare",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "--indicator",
        "hypertension",
        "--indicator",
        "sp_referral",
        "--indicator",
        "ae_attendances",
        "--benchmark",
        &file,
        "--out",
        out.to_str().unwrap(),
    ]);
    let published: BTreeMap<_, _> = csv_maps(&out.join("league.csv"))
        .into_iter()
        .map(|r| {
            (
                (
                    r["indicator"].clone(),
                    "pcn".to_string(),
                    r["area_code"].clone(),
                ),
                [
                    r["value"].clone(),
                    r["lower95"].clone(),
                    r["upper95"].clone(),
                ],
            )
        })
        .collect();
    let labels = check_rows(&out.join("benchmark.csv"), &published);
    assert_eq!(labels.values().sum::<usize>(), 5 * published.len() / 3);
}

#[test]
fn the_spine_chart_draws_benchmark_csv() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_benchmarks(dir.path(), BENCHMARKS);
    let out = dir.path().join("report");
    run(&[
        "report",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "--benchmark",
        &file,
        "--out",
        out.to_str().unwrap(),
    ]);
    let icb = out.join("icb");
    let rows = csv_maps(&icb.join("benchmark.csv"));
    let html = std::fs::read_to_string(icb.join("report.html")).unwrap();
    assert!(html.contains("Against the benchmark"));
    let svg = std::fs::read_to_string(icb.join("charts/spine.svg")).unwrap();
    // One row per indicator with a benchmark, on its first benchmark (England
    // for ae_attendances, not Region); a dot per PCN with a published value,
    // a grey triangle per suppressed one, and a bar per row with any value.
    let pcn_rows: Vec<_> = rows
        .iter()
        .filter(|r| r["area_type"] == "pcn" && r["benchmark"] == "England")
        .collect();
    let valued = pcn_rows.iter().filter(|r| !r["value"].is_empty()).count();
    let indicators_drawn: std::collections::BTreeSet<_> = pcn_rows
        .iter()
        .filter(|r| !r["value"].is_empty())
        .map(|r| r["indicator"].as_str())
        .collect();
    assert_eq!(phm::charts::count_marks(&svg, "circle"), valued);
    assert_eq!(
        phm::charts::count_marks(&svg, "rect"),
        indicators_drawn.len()
    );
    assert_eq!(phm::charts::count_suppressed(&svg), pcn_rows.len() - valued);
    let texts = phm::charts::texts(&svg);
    for name in ["hypertension", "sp_referral", "ae_attendances"] {
        assert!(texts.iter().any(|t| t == name), "{name} not drawn");
    }
    // Each PCN report shows its own rows and the ICB's, not other PCNs'.
    let pcn = &pcn_rows[0]["area_code"];
    let other = &pcn_rows.iter().find(|r| &r["area_code"] != pcn).unwrap()["area_code"];
    let page = std::fs::read_to_string(out.join("pcn").join(pcn).join("report.html")).unwrap();
    let section = page.split("Against the benchmark").nth(1).unwrap();
    let section = section.split("</section>").next().unwrap();
    assert!(section.contains(&format!("<td class=\"text\">{pcn}</td>")));
    assert!(!section.contains(&format!("<td class=\"text\">{other}</td>")));
    // Without --benchmark there is no such section.
    let plain = out.parent().unwrap().join("plain");
    run(&[
        "report",
        "--quiet",
        "--extract",
        "sample-data/extract",
        "--out",
        plain.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(plain.join("icb/report.html")).unwrap();
    assert!(!html.contains("Against the benchmark"));
    assert!(!plain.join("icb/benchmark.csv").exists());
}

#[test]
fn a_bad_benchmark_file_names_its_line_and_column_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let head = "indicator,benchmark,value,lower95,upper95,period\n";
    let cases = [
        (
            format!("{head}hypertension,England,15.3,,,\nflu_vaccine,England,70,,,\n"),
            "line 3, column `indicator`: unknown indicator `flu_vaccine`",
        ),
        (
            format!("{head}hypertension,England,15.3,,,\nhypertension,England,15.1,,,\n"),
            "line 3, column `benchmark`: `hypertension` against `England` is also on line 2",
        ),
        (
            format!("{head}hypertension,England,15.3%,,,\n"),
            "line 2, column `value`: `15.3%` is not a number",
        ),
        (
            "indicator,benchmark,England\nhypertension,England,15.3\n".to_string(),
            "line 1: unknown column `England`",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let file = write_benchmarks(dir.path(), text);
        for command in ["inequalities", "compare", "report"] {
            let out = dir.path().join(format!("out-{i}-{command}"));
            let (code, _, err) = phm(&[
                command,
                "--quiet",
                "--extract",
                "sample-data/extract",
                "--benchmark",
                &file,
                "--out",
                out.to_str().unwrap(),
            ]);
            assert_eq!(code, 2, "{command}: {err}");
            assert!(err.contains(&format!("benchmark file {file}")), "{err}");
            assert!(err.contains(want), "{command}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(!out.exists(), "{command} wrote {out:?} on a bad file");
        }
    }
}
