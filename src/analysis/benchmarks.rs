//! Benchmarks (equity.md §5): each area's value against a published one,
//! such as England's, labelled by Fingertips' rule. The area's value and
//! 95% interval are the published ones (computed from the counts as
//! published, rules.md §6.2), so a label says nothing the published figures
//! do not: it is a function of the published interval and the benchmark.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::indicators::{Indicator, Polarity};
use super::inequalities::{write_pair, InequalityRow};
use super::tallies::AreaType;
use crate::error::Result;

/// The columns a benchmark file may have; the first three are required.
pub const BENCHMARK_FILE_COLUMNS: [&str; 6] = [
    "indicator",
    "benchmark",
    "value",
    "lower95",
    "upper95",
    "period",
];

/// What `benchmark.csv` holds, in order.
pub const BENCHMARK_COLUMNS: [&str; 13] = [
    "indicator",
    "area_type",
    "area_code",
    "value",
    "lower95",
    "upper95",
    "benchmark",
    "benchmark_value",
    "benchmark_lower95",
    "benchmark_upper95",
    "period",
    "polarity",
    "label",
];

/// A benchmark file that cannot be used, naming the file, line and column.
#[derive(Debug, thiserror::Error)]
pub enum BenchmarkError {
    #[error("benchmark file {file}: {message}")]
    Read { file: String, message: String },
    #[error(
        "benchmark file {file}, line 1: {message} (the columns are {})",
        BENCHMARK_FILE_COLUMNS.join(", ")
    )]
    Header { file: String, message: String },
    #[error("benchmark file {file}, line {line}, column `{column}`: {message}")]
    Cell {
        file: String,
        line: usize,
        column: &'static str,
        message: String,
    },
    #[error("benchmark file {file}: no benchmarks (a header and no rows)")]
    Empty { file: String },
}

/// One published value to compare with.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    pub indicator: String,
    /// Its name, e.g. `England`.
    pub benchmark: String,
    pub value: f64,
    pub lower95: Option<f64>,
    pub upper95: Option<f64>,
    pub period: Option<String>,
}

/// Reads a benchmark file, checking every indicator against `indicators`.
pub fn read(path: &Path, indicators: &[Indicator]) -> Result<Vec<Benchmark>, BenchmarkError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| BenchmarkError::Read {
        file: file.clone(),
        message: e.to_string(),
    })?;
    parse(&file, &text, indicators)
}

/// Parses a benchmark file's text; `file` names it in errors. Lines
/// starting `#` are comments (for the source of each value).
pub fn parse(
    file: &str,
    text: &str,
    indicators: &[Indicator],
) -> Result<Vec<Benchmark>, BenchmarkError> {
    let header = |message: String| BenchmarkError::Header {
        file: file.into(),
        message,
    };
    // Comment lines become blank ones (which the reader skips), so line
    // numbers in errors stay those of the file.
    let text: String = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| {
            if l.trim_start().starts_with('#') {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| header(e.to_string()))?.clone();
    let mut at = [None; BENCHMARK_FILE_COLUMNS.len()];
    for (i, h) in headers.iter().enumerate() {
        let Some(k) = BENCHMARK_FILE_COLUMNS.iter().position(|c| *c == h) else {
            return Err(header(format!("unknown column `{h}`")));
        };
        if at[k].replace(i).is_some() {
            return Err(header(format!("column `{h}` appears twice")));
        }
    }
    for (k, name) in BENCHMARK_FILE_COLUMNS.iter().enumerate().take(3) {
        if at[k].is_none() {
            return Err(header(format!("no `{name}` column")));
        }
    }
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| BenchmarkError::Read {
            file: file.into(),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cell = |k: usize| -> Option<&str> {
            at[k].and_then(|i| record.get(i)).filter(|s| !s.is_empty())
        };
        let bad = |k: usize, message: String| BenchmarkError::Cell {
            file: file.into(),
            line,
            column: BENCHMARK_FILE_COLUMNS[k],
            message,
        };
        let number = |k: usize| -> Result<Option<f64>, BenchmarkError> {
            match cell(k) {
                None => Ok(None),
                Some(s) => match s.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(Some(v)),
                    _ => Err(bad(k, format!("`{s}` is not a number"))),
                },
            }
        };
        let indicator = cell(0).ok_or_else(|| bad(0, "empty".into()))?;
        if !indicators.iter().any(|i| i.name == indicator) {
            let known: Vec<&str> = indicators.iter().map(|i| i.name.as_str()).collect();
            return Err(bad(
                0,
                format!(
                    "unknown indicator `{indicator}` (indicators.toml has {})",
                    known.join(", ")
                ),
            ));
        }
        let benchmark = cell(1).ok_or_else(|| bad(1, "empty".into()))?;
        let value = number(2)?.ok_or_else(|| bad(2, "empty".into()))?;
        let (lower95, upper95) = (number(3)?, number(4)?);
        if lower95.is_some_and(|l| l > value) {
            return Err(bad(3, format!("above the value {value}")));
        }
        if upper95.is_some_and(|u| u < value) {
            return Err(bad(4, format!("below the value {value}")));
        }
        let key = (indicator.to_string(), benchmark.to_string());
        if let Some(first) = seen.insert(key, line) {
            return Err(bad(
                1,
                format!("`{indicator}` against `{benchmark}` is also on line {first}"),
            ));
        }
        out.push(Benchmark {
            indicator: indicator.into(),
            benchmark: benchmark.into(),
            value,
            lower95,
            upper95,
            period: cell(5).map(str::to_string),
        });
    }
    if out.is_empty() {
        return Err(BenchmarkError::Empty { file: file.into() });
    }
    Ok(out)
}

/// An area's label against a benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Label {
    Better,
    Similar,
    Worse,
    /// Above the benchmark, for an indicator with no judgement.
    Higher,
    Lower,
    /// The area's figures are suppressed, so it is not compared.
    #[serde(rename = "suppressed (disclosure control)")]
    Suppressed,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Better => "Better",
            Label::Similar => "Similar",
            Label::Worse => "Worse",
            Label::Higher => "Higher",
            Label::Lower => "Lower",
            Label::Suppressed => super::compare::SUPPRESSED_LABEL,
        }
    }
}

/// Fingertips' rule: the area differs from the benchmark when the benchmark
/// value lies outside the area's 95% interval (on its edge counts as inside).
pub fn label(polarity: Polarity, lower95: f64, upper95: f64, benchmark: f64) -> Label {
    let above = benchmark < lower95;
    let below = benchmark > upper95;
    match (polarity, above, below) {
        (_, false, false) => Label::Similar,
        (Polarity::HigherIsBetter, true, _) | (Polarity::LowerIsBetter, _, true) => Label::Better,
        (Polarity::HigherIsBetter, _, true) | (Polarity::LowerIsBetter, true, _) => Label::Worse,
        (Polarity::NoJudgement, true, _) => Label::Higher,
        (Polarity::NoJudgement, _, true) => Label::Lower,
    }
}

/// One area's published figure for an indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaFigure<'a> {
    pub indicator: &'a str,
    pub area_type: AreaType,
    pub area_code: &'a str,
    pub value: Option<f64>,
    pub lower95: Option<f64>,
    pub upper95: Option<f64>,
}

impl<'a> AreaFigure<'a> {
    /// The whole-area rows (`group = all`) of inequality rows.
    pub fn of_rows(rows: &'a [InequalityRow]) -> Vec<AreaFigure<'a>> {
        let mut seen = std::collections::BTreeSet::new();
        rows.iter()
            .filter(|r| r.group == "all")
            .filter(|r| seen.insert((&r.indicator, r.area_type, &r.area_code)))
            .map(|r| AreaFigure {
                indicator: &r.indicator,
                area_type: r.area_type,
                area_code: &r.area_code,
                value: r.value,
                lower95: r.lower95,
                upper95: r.upper95,
            })
            .collect()
    }
}

/// A row of `benchmark.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchmarkRow {
    pub indicator: String,
    pub area_type: AreaType,
    pub area_code: String,
    pub value: Option<f64>,
    pub lower95: Option<f64>,
    pub upper95: Option<f64>,
    pub benchmark: String,
    pub benchmark_value: f64,
    pub benchmark_lower95: Option<f64>,
    pub benchmark_upper95: Option<f64>,
    pub period: Option<String>,
    pub polarity: &'static str,
    pub label: Label,
}

/// Every area against every benchmark of its indicator, in the areas' order.
pub fn compare(
    areas: &[AreaFigure],
    benchmarks: &[Benchmark],
    indicators: &[Indicator],
) -> Vec<BenchmarkRow> {
    let mut out = Vec::new();
    for a in areas {
        let Some(ind) = indicators.iter().find(|i| i.name == a.indicator) else {
            continue;
        };
        for b in benchmarks.iter().filter(|b| b.indicator == a.indicator) {
            let label = match (a.value, a.lower95, a.upper95) {
                (Some(_), Some(lo), Some(hi)) => label(ind.polarity, lo, hi, b.value),
                _ => Label::Suppressed,
            };
            out.push(BenchmarkRow {
                indicator: a.indicator.to_string(),
                area_type: a.area_type,
                area_code: a.area_code.to_string(),
                value: a.value,
                lower95: a.lower95,
                upper95: a.upper95,
                benchmark: b.benchmark.clone(),
                benchmark_value: b.value,
                benchmark_lower95: b.lower95,
                benchmark_upper95: b.upper95,
                period: b.period.clone(),
                polarity: ind.polarity.as_str(),
                label,
            });
        }
    }
    out
}

/// How many rows get each label, in the order labels first appear, written
/// `3 Better, 10 Similar` for a summary line.
pub fn label_counts<'a>(rows: impl IntoIterator<Item = &'a BenchmarkRow>) -> String {
    let mut counts: Vec<(Label, usize)> = Vec::new();
    for r in rows {
        match counts.iter_mut().find(|c| c.0 == r.label) {
            Some(c) => c.1 += 1,
            None => counts.push((r.label, 1)),
        }
    }
    counts
        .iter()
        .map(|(l, n)| format!("{n} {}", l.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`compare`], written into `dir` when there are benchmarks (no file
/// without `--benchmark`); returns the rows for the command's summary.
pub fn compare_and_write(
    dir: &Path,
    areas: &[AreaFigure],
    benchmarks: &[Benchmark],
    indicators: &[Indicator],
) -> Result<Vec<BenchmarkRow>> {
    let rows = compare(areas, benchmarks, indicators);
    if !benchmarks.is_empty() {
        write(dir, &rows)?;
    }
    Ok(rows)
}

/// Writes `benchmark.csv` and `benchmark.json` into `dir`.
pub fn write(dir: &Path, rows: &[BenchmarkRow]) -> Result<()> {
    write_pair(dir, "benchmark", rows, &BENCHMARK_COLUMNS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::indicators::Measure;

    fn indicator(name: &str, polarity: Polarity) -> Indicator {
        Indicator {
            name: name.into(),
            title: name.into(),
            measure: Measure::Proportion,
            numerator: "TRUE".into(),
            min_age: None,
            max_age: None,
            population: None,
            multiplier: 100.0,
            standardised: false,
            key: false,
            polarity,
        }
    }

    #[test]
    fn labels_follow_the_polarity() {
        use Polarity::*;
        // An area at 12% with a 95% interval of 10–14.
        let (lo, hi) = (10.0, 14.0);
        assert_eq!(label(HigherIsBetter, lo, hi, 9.0), Label::Better);
        assert_eq!(label(HigherIsBetter, lo, hi, 15.0), Label::Worse);
        assert_eq!(label(LowerIsBetter, lo, hi, 9.0), Label::Worse);
        assert_eq!(label(LowerIsBetter, lo, hi, 15.0), Label::Better);
        assert_eq!(label(NoJudgement, lo, hi, 9.0), Label::Higher);
        assert_eq!(label(NoJudgement, lo, hi, 15.0), Label::Lower);
        for p in [HigherIsBetter, LowerIsBetter, NoJudgement] {
            assert_eq!(label(p, lo, hi, 12.0), Label::Similar);
            // On the interval's edge is inside.
            assert_eq!(label(p, lo, hi, 10.0), Label::Similar);
            assert_eq!(label(p, lo, hi, 14.0), Label::Similar);
        }
    }

    #[test]
    fn a_suppressed_area_is_not_compared() {
        let inds = [indicator("x", Polarity::HigherIsBetter)];
        let b = parse("b.csv", "indicator,benchmark,value\nx,England,5\n", &inds).unwrap();
        let areas = [AreaFigure {
            indicator: "x",
            area_type: AreaType::Pcn,
            area_code: "P1",
            value: None,
            lower95: None,
            upper95: None,
        }];
        let rows = compare(&areas, &b, &inds);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].label, Label::Suppressed);
    }

    #[test]
    fn bad_files_name_the_line_and_column() {
        let inds = [indicator("hypertension", Polarity::NoJudgement)];
        let err = |text: &str| parse("b.csv", text, &inds).unwrap_err().to_string();
        let head = "indicator,benchmark,value,lower95,upper95,period\n";
        let e = err(&format!(
            "{head}hypertension,England,15.3,,,\nflu,England,1,,,\n"
        ));
        assert!(
            e.contains("line 3, column `indicator`: unknown indicator `flu`"),
            "{e}"
        );
        let e = err(&format!(
            "{head}hypertension,England,15.3,,,\nhypertension,England,15,,,\n"
        ));
        assert!(e.contains("line 3, column `benchmark`"), "{e}");
        assert!(e.contains("also on line 2"), "{e}");
        let e = err(&format!("{head}hypertension,England,15,3%,,\n"));
        assert!(
            e.contains("line 2, column `lower95`: `3%` is not a number"),
            "{e}"
        );
        let e = err(&format!("{head}hypertension,England,n/a,,,\n"));
        assert!(
            e.contains("line 2, column `value`: `n/a` is not a number"),
            "{e}"
        );
        let e = err(&format!("{head}hypertension,England,15,16,,\n"));
        assert!(e.contains("column `lower95`: above the value 15"), "{e}");
        let e = err("indicator,benchmark,valu\n");
        assert!(e.contains("line 1: unknown column `valu`"), "{e}");
        let e = err("indicator,value\n");
        assert!(e.contains("no `benchmark` column"), "{e}");
        assert!(err(head).contains("no benchmarks"));
        // Two benchmarks for one indicator are fine; so are blank optional cells.
        let ok = parse(
            "b.csv",
            &format!(
                "{head}hypertension,England,15.3,15.2,15.4,2024/25\nhypertension,Region,14,,,\n"
            ),
            &inds,
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].lower95, Some(15.2));
        assert_eq!(ok[1].period, None);
    }
}
