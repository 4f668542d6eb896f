//! `phm report`: the pack a PCN takes to its MDT and the one an ICB takes to
//! its inequalities board, rendered from a [`ReportData`] the pipeline built
//! (this module runs no query). One PCN report per PCN, in the PCN's own
//! folder (patient-level: its proposed list; its own exact numbers, other
//! PCNs only as published), and one ICB report with disclosure control and
//! no patient-level rows. Each report is one self-contained HTML file with
//! its charts (SVG inline, PNG beside) and its tables as CSV.

pub mod data;
pub mod figures;
pub mod html;
mod icb;
mod pcn;
pub mod shared;
pub mod views;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use data::ReportData;

use crate::charts::Chart;
use crate::error::{PhmError, Result};
use crate::output::names;
use html::figure;

/// Which PCN reports to write.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// PCNs to write a PCN report for (all when empty).
    pub pcns: Vec<String>,
}

/// Paths of the written reports.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub icb: PathBuf,
    pub pcns: Vec<PathBuf>,
}

/// The line under every chart: the reference date and the activity window.
fn footnote(data: &ReportData) -> String {
    format!(
        "Patients registered at {}; activity in the {} months to that date. Source: phm.",
        data.as_of, data.activity_months
    )
}

fn fmt(v: Option<f64>, places: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.places$}"))
}

fn count_text(v: Option<i64>) -> String {
    v.map_or("suppressed".into(), |v| v.to_string())
}

/// Writes a chart's files under `dir/charts` and returns its figure HTML.
/// `name` may hold codes from the data; each part is checked.
fn chart_html(chart: &Chart, dir: &Path, name: &[&str], caption: &str) -> Result<String> {
    for part in name {
        names::component("chart name", part)?;
    }
    let name = name.join("_");
    let svg = chart.write(&dir.join("charts"), names::component("chart name", &name)?)?;
    Ok(figure(chart, &svg, &format!("charts/{name}.png"), caption))
}

fn write_csv<T: serde::Serialize>(
    dir: &Path,
    name: &str,
    rows: &[T],
    header: &[&str],
) -> Result<()> {
    let path = dir.join(name);
    crate::output::write_atomic(&path, &crate::analysis::inequalities::csv_of(rows, header)?)
        .map_err(|e| PhmError::write(&path, e))
}

/// Writes the ICB report and one PCN report per PCN (or those asked for) under `out`.
pub fn write_reports(
    data: &ReportData,
    out: &Path,
    options: &ReportOptions,
) -> Result<ReportFiles> {
    for p in &options.pcns {
        if data.summary(p).is_none() {
            return Err(PhmError::Input(format!(
                "--pcn {p}: no patients registered in that PCN at {}",
                data.as_of
            )));
        }
    }
    let mut watch = crate::engine::timings::Stopwatch::start();
    let icb = icb::write(data, &out.join("icb"))?;
    watch.lap("ICB report");
    // One PCN's report reads only the shared data and writes only its own
    // folder, so they are written in parallel (in the order of the summaries).
    let pcns = data
        .proposal
        .summaries
        .par_iter()
        .filter(|s| options.pcns.is_empty() || options.pcns.contains(&s.pcn_code))
        .map(|s| {
            let dir = out
                .join("pcn")
                .join(names::component("pcn_code", &s.pcn_code)?);
            pcn::write(data, &s.pcn_code, &dir)
        })
        .collect::<Result<Vec<_>>>()?;
    watch.lap("PCN reports");
    Ok(ReportFiles { icb, pcns })
}
