//! The clinical lead's review loop: a returned patient list (CSV, or the
//! workbook of [`super::workbook`]) with `decision` (`accept`/`exclude`) and
//! `reason` is checked against the proposal it came
//! from and recorded in `DIR/decisions.csv`; the next `phm propose --out DIR`
//! leaves excluded patients out and fills their places from the waiting list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::{PhmError, Result};
use crate::output::write_atomic;

/// The file in a proposal folder that holds recorded decisions.
pub const DECISIONS_FILE: &str = "decisions.csv";

/// One recorded decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub patient_id: i64,
    pub decision: String,
    pub reason: String,
    pub proposal_id: String,
}

/// What the current proposal in a folder says about each patient.
struct Current {
    proposal_id: String,
    scores: BTreeMap<i64, i32>,
}

fn read_current(dir: &Path) -> Result<Current> {
    let json_path = dir.join("capacity.json");
    let text = std::fs::read_to_string(&json_path).map_err(|e| {
        PhmError::Input(format!(
            "{}: {e}; give the folder `phm propose --out` wrote",
            json_path.display()
        ))
    })?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| PhmError::Input(format!("{}: not valid JSON: {e}", json_path.display())))?;
    let proposal_id = json
        .get("proposal_id")
        .and_then(|v| v.as_str())
        .ok_or_else(|| PhmError::Input(format!("{}: no proposal_id", json_path.display())))?
        .to_string();
    let csv_path = dir.join("proposals.csv");
    let mut reader = csv::Reader::from_path(&csv_path)
        .map_err(|e| PhmError::Input(format!("{}: {e}", csv_path.display())))?;
    let headers = reader
        .headers()
        .map_err(|e| PhmError::Input(format!("{}: {e}", csv_path.display())))?
        .clone();
    let pid = headers.iter().position(|h| h == "patient_id");
    let score = headers.iter().position(|h| h == "need_score");
    let (Some(pid), Some(score)) = (pid, score) else {
        return Err(PhmError::Input(format!(
            "{}: missing patient_id or need_score",
            csv_path.display()
        )));
    };
    let mut scores = BTreeMap::new();
    for r in reader.records() {
        let r = r.map_err(|e| PhmError::Input(format!("{}: {e}", csv_path.display())))?;
        let id: i64 = r[pid]
            .parse()
            .map_err(|_| PhmError::Input(format!("{}: bad patient_id", csv_path.display())))?;
        let s: i32 = r[score]
            .parse()
            .map_err(|_| PhmError::Input(format!("{}: bad need_score", csv_path.display())))?;
        scores.insert(id, s);
    }
    Ok(Current {
        proposal_id,
        scores,
    })
}

/// Reads the decisions recorded in a proposal folder (none if no file yet).
pub fn recorded(dir: &Path) -> Result<BTreeMap<i64, Decision>> {
    let path = dir.join(DECISIONS_FILE);
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let err = |m: String| PhmError::Input(format!("{}: {m}", path.display()));
    let mut reader = csv::Reader::from_path(&path).map_err(|e| err(e.to_string()))?;
    let mut out = BTreeMap::new();
    for r in reader.records() {
        let r = r.map_err(|e| err(e.to_string()))?;
        if r.len() < 4 {
            return Err(err("expected patient_id,decision,reason,proposal_id".into()));
        }
        let id: i64 = r[0]
            .parse()
            .map_err(|_| err(format!("bad patient_id `{}`", &r[0])))?;
        out.insert(
            id,
            Decision {
                patient_id: id,
                decision: r[1].to_string(),
                reason: r[2].to_string(),
                proposal_id: r[3].to_string(),
            },
        );
    }
    Ok(out)
}

/// Patient ids excluded by recorded decisions.
pub fn excluded(dir: &Path) -> Result<BTreeSet<i64>> {
    Ok(recorded(dir)?
        .into_values()
        .filter(|d| d.decision == "exclude")
        .map(|d| d.patient_id)
        .collect())
}

/// Summary of a review.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReviewSummary {
    pub accepted: u64,
    pub excluded: u64,
    pub undecided: u64,
}

/// Where a returned cell is, for messages: a CSV line, or a sheet's cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Line(u64),
    /// `row` is the spreadsheet's row number (1-based); `first_col` the
    /// 0-based column where the sheet's used range starts.
    Cell {
        sheet: &'static str,
        row: u32,
        first_col: u32,
    },
}

impl Place {
    /// The place of the cell in `column` (0-based within the row read).
    pub fn at(&self, column: usize) -> String {
        match *self {
            Place::Line(line) => format!("line {line}"),
            Place::Cell {
                sheet,
                row,
                first_col,
            } => crate::spreadsheet::cell_name(sheet, row - 1, first_col + column as u32),
        }
    }
}

/// One row of a returned list, as text, with where it came from.
#[derive(Debug, Clone)]
pub struct ReturnedRow {
    pub cells: Vec<String>,
    pub place: Place,
}

impl ReturnedRow {
    fn get(&self, column: usize) -> &str {
        self.cells.get(column).map(String::as_str).unwrap_or("")
    }
}

/// The columns of a returned list phm reads, by position.
struct ListColumns {
    patient_id: usize,
    need_score: usize,
    proposal_id: usize,
    decision: usize,
    reason: Option<usize>,
}

impl ListColumns {
    fn of(headers: &[String], name: &str) -> Result<Self> {
        let find = |h: &str| headers.iter().position(|x| x == h);
        let required = ["patient_id", "need_score", "proposal_id", "decision"];
        let missing: Vec<&str> = required.into_iter().filter(|h| find(h).is_none()).collect();
        match (find("patient_id"), find("need_score"), find("proposal_id"), find("decision")) {
            (Some(patient_id), Some(need_score), Some(proposal_id), Some(decision)) => Ok(ListColumns {
                patient_id,
                need_score,
                proposal_id,
                decision,
                reason: find("reason"),
            }),
            _ => Err(PhmError::Input(format!(
                "decisions file {name}: missing column(s) {}; return the list phm wrote (lists/PCN.csv or lists/PCN.xlsx) with `decision` and `reason` filled in",
                missing.join(", ")
            ))),
        }
    }
}

/// What a returned list says, checked row by row against the proposal.
#[derive(Default)]
struct Returned {
    decisions: Vec<Decision>,
    problems: Vec<String>,
    /// proposal_ids of rows from another proposal.
    stale: BTreeSet<String>,
    summary: ReviewSummary,
}

impl Returned {
    /// Checks one row; its decision is kept when it is accept or exclude
    /// (in any case: `Exclude` typed by hand counts).
    fn row(&mut self, r: &ReturnedRow, c: &ListColumns, current: &Current) {
        let pid_text = r.get(c.patient_id);
        let Ok(pid) = pid_text.parse::<i64>() else {
            self.problems.push(format!(
                "{}: patient_id `{pid_text}` is not a number",
                r.place.at(c.patient_id)
            ));
            return;
        };
        let pid_of = r.get(c.proposal_id).to_string();
        if pid_of != current.proposal_id {
            self.stale.insert(pid_of.clone());
        }
        match current.scores.get(&pid) {
            None => self.problems.push(format!(
                "{}: patient_id {pid} is not in the proposal",
                r.place.at(c.patient_id)
            )),
            Some(score) => {
                let given = r.get(c.need_score);
                if given.parse::<i32>().ok() != Some(*score) {
                    self.problems.push(format!(
                        "{}: need_score for patient {pid} was changed ({given}, the proposal says {score})",
                        r.place.at(c.need_score)
                    ));
                }
            }
        }
        let decision = r.get(c.decision).to_ascii_lowercase();
        match decision.as_str() {
            "accept" => self.summary.accepted += 1,
            "exclude" => self.summary.excluded += 1,
            "" => {
                self.summary.undecided += 1;
                return;
            }
            other => {
                self.problems.push(format!(
                    "{}: decision `{other}` must be accept, exclude or empty",
                    r.place.at(c.decision)
                ));
                return;
            }
        }
        self.decisions.push(Decision {
            patient_id: pid,
            decision,
            reason: c.reason.map(|i| r.get(i)).unwrap_or("").to_string(),
            proposal_id: pid_of,
        });
    }
}

/// A returned CSV list: its header and rows, each with its line.
fn read_csv_list(path: &Path) -> Result<(Vec<String>, Vec<ReturnedRow>)> {
    let name = path.display().to_string();
    let bad = |e: csv::Error| PhmError::Input(format!("decisions file {name}: {e}"));
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(bad)?;
    let header = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(bad)?;
        rows.push(ReturnedRow {
            place: Place::Line(record.position().map(|p| p.line()).unwrap_or(0)),
            cells: record.iter().map(str::to_string).collect(),
        });
    }
    Ok((header, rows))
}

fn is_xlsx(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// Writes every recorded decision to `dir`'s decisions file, atomically.
fn record(dir: &Path, decisions: Vec<Decision>) -> Result<()> {
    let mut all = recorded(dir)?;
    for d in decisions {
        all.insert(d.patient_id, d);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| PhmError::Internal(format!("cannot serialise CSV: {e}"));
    w.write_record(["patient_id", "decision", "reason", "proposal_id"])
        .map_err(io)?;
    for d in all.values() {
        w.write_record([
            d.patient_id.to_string(),
            d.decision.clone(),
            d.reason.clone(),
            d.proposal_id.clone(),
        ])
        .map_err(io)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| PhmError::Internal(format!("cannot serialise CSV: {e}")))?;
    let path = dir.join(DECISIONS_FILE);
    write_atomic(&path, &bytes).map_err(|e| PhmError::write(&path, e))
}

/// Checks a returned list (the CSV or the workbook phm wrote) against the
/// proposal in `dir` and records its decisions. Every problem is reported at
/// once, with its line or cell; on any problem nothing is recorded.
pub fn review(decisions_file: &Path, dir: &Path) -> Result<ReviewSummary> {
    let current = read_current(dir)?;
    let name = decisions_file.display().to_string();
    let (header, rows) = if is_xlsx(decisions_file) {
        super::workbook::read_list(decisions_file)?
    } else {
        read_csv_list(decisions_file)?
    };
    let columns = ListColumns::of(&header, &name)?;
    let mut returned = Returned::default();
    for row in &rows {
        returned.row(row, &columns, &current);
    }
    if !returned.stale.is_empty() {
        return Err(PhmError::Input(format!(
            "decisions file {name} is from another or an older proposal ({}); the current proposal in {} is {}: send the lead the current list",
            returned.stale.into_iter().collect::<Vec<_>>().join(", "),
            dir.display(),
            current.proposal_id
        )));
    }
    if !returned.problems.is_empty() {
        let shown: Vec<String> = returned.problems.iter().take(20).cloned().collect();
        return Err(PhmError::Input(format!(
            "decisions file {name}: {} problem(s), nothing recorded:\n  {}",
            returned.problems.len(),
            shown.join("\n  ")
        )));
    }
    record(dir, returned.decisions)?;
    Ok(returned.summary)
}
