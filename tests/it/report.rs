//! `phm report`: charts checked against the data they draw, both reports
//! opened in real headless Chromium (screenshots kept under the target dir),
//! and the ICB report swept for patient ids and unprotected counts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::{csv_maps, phm};

/// Where this test file keeps its outputs (inside the target dir, so CI keeps them).
fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The reports for the committed sample extract: those of the one shared
/// `phm demo` run (`phm report` writes the same folder).
fn sample_reports() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| crate::common::sample_demo().join("report"))
}

fn svg(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn funnel_draws_one_point_per_pcn_and_labels_exactly_the_998_outliers() {
    let icb = sample_reports().join("icb");
    for name in ["high_need", "sp_referral", "hfu_ae", "loneliness"] {
        let rows = csv_maps(&icb.join(format!("funnel_{name}.csv")));
        let drawn = svg(&icb.join(format!("charts/funnel_{name}.svg")));
        let with_value: Vec<_> = rows.iter().filter(|r| !r["value"].is_empty()).collect();
        assert_eq!(with_value.len(), 6, "{name}: the sample has 6 PCNs");
        assert_eq!(
            phm::charts::count_marks(&drawn, "circle"),
            with_value.len(),
            "{name}: one point per PCN"
        );
        let mut want: Vec<String> = rows
            .iter()
            .filter(|r| r["significance"].ends_with("(0.001)"))
            .map(|r| r["area_code"].clone())
            .collect();
        let mut labelled: Vec<String> = phm::charts::texts(&drawn)
            .into_iter()
            .filter(|t| rows.iter().any(|r| &r["area_code"] == t))
            .collect();
        want.sort();
        labelled.sort();
        assert_eq!(labelled, want, "{name}: outliers labelled");
    }
}

#[test]
fn gradient_draws_a_point_per_decile_with_a_value() {
    let icb = sample_reports().join("icb");
    let rows = csv_maps(&icb.join("inequalities.csv"));
    let code = rows.iter().find(|r| r["area_type"] == "icb").unwrap()["area_code"].clone();
    for name in ["high_need", "loneliness"] {
        let groups = rows
            .iter()
            .filter(|r| {
                r["indicator"] == name
                    && r["area_code"] == code
                    && r["group"].parse::<u32>().is_ok()
                    && !r["value"].is_empty()
            })
            .count();
        let drawn = svg(&icb.join(format!("charts/gradient_{name}_{code}.svg")));
        assert_eq!(phm::charts::count_marks(&drawn, "circle"), groups, "{name}");
        // 95% whiskers and the SII line are marks too: one polyline per group plus the line.
        assert_eq!(
            phm::charts::count_marks(&drawn, "polyline"),
            groups + 1,
            "{name}"
        );
    }
}

#[test]
fn capacity_bars_match_the_proposal() {
    let pcn_dir = sample_reports().join("pcn").join("U10037");
    let summary = csv_maps(&sample_reports().join("icb/pcn_summary.csv"));
    let drawn = svg(&pcn_dir.join("charts/need_capacity.svg"));
    // Every PCN has proposed patients; waiting ones only where high need exceeds capacity.
    let waiting_bars = summary.iter().filter(|r| r["not_offered"] != "0").count();
    assert_eq!(
        phm::charts::count_marks(&drawn, "rect"),
        summary.len() + waiting_bars
    );
    // The PCN report's own cohort table lists exactly its proposed patients.
    let proposed = csv_maps(&pcn_dir.join("proposed.csv"));
    let html = std::fs::read_to_string(pcn_dir.join("report.html")).unwrap();
    for r in &proposed {
        assert!(html.contains(&format!("<td class=\"text\">{}</td>", r["patient_id"])));
    }
    assert!(!proposed.is_empty());
}

/// Finds a Chromium binary: `PHM_CHROMIUM`, else one on PATH. The README's
/// test command (`scripts/test.sh`) installs Debian's when there is none;
/// without one this test fails rather than skip.
fn chromium() -> String {
    if let Ok(path) = std::env::var("PHM_CHROMIUM") {
        return path;
    }
    for c in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "headless_shell",
    ] {
        if Command::new("which")
            .arg(c)
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return c.to_string();
        }
    }
    panic!(
        "no Chromium found for the report browser test: run the tests with `bash scripts/test.sh`, \
         which installs Debian's chromium, or set PHM_CHROMIUM to a Chromium binary"
    );
}

/// Opens `report` in headless Chromium through a checking page and returns
/// its findings: page errors, missing images and charts with no data marks.
fn browser_check(report: &Path, work: &Path) -> Vec<String> {
    let url = format!("file://{}", report.canonicalize().unwrap().display());
    let wrapper = work.join(format!(
        "check-{}.html",
        report
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
    ));
    std::fs::write(
        &wrapper,
        format!(
            r#"<!DOCTYPE html><html><body>
<iframe id="f" src="{url}" style="width:1280px;height:900px"></iframe>
<pre id="result">PENDING</pre>
<script>
window.onerror = function (m) {{ document.getElementById('result').textContent = 'ERROR page error: ' + m; }};
document.getElementById('f').addEventListener('load', function () {{
  var out = [];
  try {{
    var d = this.contentDocument;
    if (!d) {{ out.push('ERROR report document not readable'); }}
    else {{
      if (d.querySelector('parsererror')) out.push('ERROR parse error in the page');
      for (var i = 0; i < d.images.length; i++) {{
        var im = d.images[i];
        if (!im.complete || im.naturalWidth === 0) out.push('ERROR missing image ' + im.src);
      }}
      var figs = d.querySelectorAll('figure.chart');
      out.push('CHARTS ' + figs.length);
      for (var i = 0; i < figs.length; i++) {{
        var cap = figs[i].querySelector('figcaption');
        var name = cap ? cap.textContent : ('chart ' + i);
        var svg = figs[i].querySelector('svg');
        if (!svg) {{ out.push('ERROR chart without an image: ' + name); continue; }}
        var box = svg.getBoundingClientRect();
        if (box.width < 100 || box.height < 50) out.push('ERROR chart not rendered: ' + name);
        if (svg.querySelectorAll('.mark').length === 0) out.push('ERROR chart with no data points: ' + name);
      }}
      var links = d.querySelectorAll('figcaption a');
      out.push('LINKS ' + links.length);
    }}
  }} catch (e) {{ out.push('ERROR ' + e); }}
  document.getElementById('result').textContent = 'DONE\n' + out.join('\n');
}});
</script></body></html>"#
        ),
    )
    .unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!(
            "file://{}",
            wrapper.canonicalize().unwrap().display()
        ))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).to_string();
    let result = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or("")
        .to_string();
    assert!(
        result.starts_with("DONE"),
        "the check page did not finish: {result}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    result.lines().map(|l| l.to_string()).collect()
}

fn screenshot(report: &Path, png: &Path) {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,5000",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!(
            "file://{}",
            report.canonicalize().unwrap().display()
        ))
        .output()
        .unwrap();
    assert!(
        png.is_file() && std::fs::metadata(png).unwrap().len() > 10_000,
        "no screenshot of {}: {}",
        report.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn both_reports_open_in_headless_chromium_without_errors() {
    let reports = sample_reports();
    let shots = artefacts().join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for (name, report, min_charts) in [
        ("icb", reports.join("icb/report.html"), 9),
        ("pcn-U10037", reports.join("pcn/U10037/report.html"), 7),
    ] {
        let findings = browser_check(&report, &shots);
        let errors: Vec<&String> = findings.iter().filter(|l| l.starts_with("ERROR")).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let charts: usize = findings
            .iter()
            .find_map(|l| l.strip_prefix("CHARTS "))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            charts >= min_charts,
            "{name}: {charts} charts, expected at least {min_charts}"
        );
        // Every "PNG for slides" link points at a file beside the report.
        let html = std::fs::read_to_string(&report).unwrap();
        for href in html
            .split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
        {
            assert!(
                report.parent().unwrap().join(href).is_file(),
                "{name}: {href} missing"
            );
        }
        screenshot(&report, &shots.join(format!("{name}.png")));
    }
}

#[test]
fn icb_report_of_small_pcns_suppresses_and_holds_no_patient_rows() {
    let work = artefacts().join("small");
    let _ = std::fs::remove_dir_all(&work);
    let extract = work.join("extract");
    let (code, _, err) = phm(&[
        "generate",
        "--quiet",
        "--patients",
        "2400",
        "--pcns",
        "6",
        "--seed",
        "7",
        "--as-of",
        "2025-03-31",
        "--out",
        extract.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let out = work.join("report");
    let (code, _, err) = phm(&[
        "report",
        "--quiet",
        "--extract",
        extract.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // Every patient id in the extract.
    let ids_csv = work.join("ids.csv");
    let (code, _, err) = phm(&[
        "query",
        "--quiet",
        "--extract",
        extract.to_str().unwrap(),
        "-e",
        "SELECT patient_id FROM patients",
        "--out",
        ids_csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let ids: std::collections::BTreeSet<String> = csv_maps(&ids_csv)
        .into_iter()
        .map(|r| r["patient_id"].clone())
        .collect();
    assert_eq!(ids.len(), 2400);

    let icb = out.join("icb");
    let html = std::fs::read_to_string(icb.join("report.html")).unwrap();
    assert!(
        html.contains("suppressed"),
        "small PCNs must show suppressed cells"
    );
    let mut files = vec![icb.join("report.html")];
    for e in std::fs::read_dir(&icb).unwrap() {
        files.push(e.unwrap().path());
    }
    for e in std::fs::read_dir(icb.join("charts")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "svg") {
            files.push(p);
        }
    }
    // The other shared outputs, with their defaults: inequalities for every
    // indicator, and PCN and practice comparisons.
    let shared = work.join("shared");
    let mut runs = vec![vec![
        "inequalities".to_string(),
        "--out".into(),
        p(&shared.join("inequalities")),
    ]];
    for level in ["pcn", "practice"] {
        for indicator in ["high_need", "sp_referral", "hfu_ae", "emergency_admissions"] {
            runs.push(vec![
                "compare".into(),
                "--indicator".into(),
                indicator.into(),
                "--level".into(),
                level.into(),
                "--out".into(),
                p(&shared.join(format!("compare-{level}-{indicator}"))),
            ]);
        }
    }
    for run in &runs {
        let mut args: Vec<&str> = run.iter().map(String::as_str).collect();
        args.extend(["--quiet", "--extract", extract.to_str().unwrap()]);
        let (code, _, err) = phm(&args);
        assert_eq!(code, 0, "{run:?}: {err}");
    }
    for e in std::fs::read_dir(&shared).unwrap() {
        let dir = e.unwrap().path();
        assert!(
            !dir.join("NOT_FOR_SHARING.txt").exists(),
            "{} is stamped not for sharing by default",
            dir.display()
        );
        for f in std::fs::read_dir(&dir).unwrap() {
            files.push(f.unwrap().path());
        }
    }
    let suppressed_cells = sweep_shared_files(&files, &ids);
    assert!(
        suppressed_cells > 0,
        "expected suppressed cells in the CSVs"
    );
    // The PCN reports, which are patient-level, stay in each PCN's own folder.
    for e in std::fs::read_dir(out.join("pcn")).unwrap() {
        let dir = e.unwrap().path();
        assert!(dir.join("report.html").is_file() && dir.join("proposed.csv").is_file());
    }
}

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

/// Count columns of the shared outputs (CSV headers and JSON keys).
const COUNT_COLUMNS: [&str; 7] = [
    "numerator",
    "denominator",
    "registered",
    "eligible",
    "high_need",
    "proposed",
    "waiting",
];

/// Checks one count cell of a shared file: empty/suppressed, or a multiple of
/// 5 that is not 1–7 (rules.md §6). Returns whether it was suppressed.
fn check_count(file: &Path, column: &str, value: Option<f64>) -> bool {
    let Some(n) = value else { return true };
    assert!(
        n.fract() == 0.0,
        "{}: {column} = {n} is not a count",
        file.display()
    );
    let n = n as i64;
    assert!(
        n % 5 == 0,
        "{}: unrounded count {column} = {n}",
        file.display()
    );
    assert!(
        !(1..=7).contains(&n),
        "{}: small count {column} = {n}",
        file.display()
    );
    false
}

fn check_json_counts(file: &Path, v: &serde_json::Value, suppressed: &mut usize) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                // Numbers and nulls are counts (an indicator's `numerator` in
                // manifest.json is its SQL text, not a count).
                if COUNT_COLUMNS.contains(&k.as_str()) && (v.is_number() || v.is_null()) {
                    if check_count(file, k, v.as_f64()) {
                        *suppressed += 1;
                    }
                } else {
                    check_json_counts(file, v, suppressed);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                check_json_counts(file, item, suppressed);
            }
        }
        _ => {}
    }
}

/// Sweeps shared (aggregate) files: no `patient_id`, none of the extract's
/// patient ids, and every count disclosure-controlled. `funnel_limits` files
/// hold the lines' geometry (denominators along the axis), not counts.
/// Returns the number of suppressed count cells seen.
fn sweep_shared_files(files: &[PathBuf], ids: &std::collections::BTreeSet<String>) -> usize {
    let mut suppressed = 0;
    for f in files {
        if f.is_dir() || f.extension().is_some_and(|x| x == "png") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        assert!(
            !text.contains("patient_id"),
            "{} names patient_id",
            f.display()
        );
        for token in text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|t| t.len() == 10)
        {
            assert!(
                !ids.contains(token),
                "{} holds patient id {token}",
                f.display()
            );
        }
        let name = f.file_name().unwrap().to_string_lossy();
        if name.starts_with("funnel_limits") {
            continue;
        }
        if f.extension().is_some_and(|x| x == "csv") {
            for row in csv_maps(f) {
                for col in COUNT_COLUMNS {
                    let Some(v) = row.get(col) else { continue };
                    let value = if v.is_empty() || v == "suppressed" {
                        None
                    } else {
                        Some(
                            v.parse::<f64>()
                                .unwrap_or_else(|_| panic!("{}: {col} = {v}", f.display())),
                        )
                    };
                    if check_count(f, col, value) {
                        suppressed += 1;
                    }
                }
            }
        }
        if f.extension().is_some_and(|x| x == "json") {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            check_json_counts(f, &v, &mut suppressed);
        }
    }
    suppressed
}
