//! `phm propose` end to end: fetch high-need patients and per-PCN counts from
//! the features table with SQL, apply review exclusions, rank, and write the
//! output contract (rules.md §5) plus the clinical leads' lists and
//! `capacity.json`. Every file is written atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use rust_decimal::Decimal;
use serde::Serialize;

use super::capacity::{CapacityDefaults, CapacityTable};
use super::{age_band, rank_pcn, summarise, Candidate, PcnCounts, PcnSummary, ProposalRow, Status};
use crate::engine::decode::{int_at, text_at, Columns};
use crate::error::{PhmError, Result};
use crate::explain::evidence::Evidence;
use crate::output::write_atomic;
use crate::pipeline::Pipeline;

/// Inputs of a proposal beyond the extract.
#[derive(Debug, Clone, Default)]
pub struct ProposeOptions {
    pub capacity_csv: Option<PathBuf>,
    pub period_months: Option<u32>,
    /// Leave out the lists' evidence columns ([`Evidence`]): for callers that
    /// write no list (a what-if comparison, a report), saving a scan of the
    /// events and activity tables (0.4–0.5 s at 1M patients).
    pub without_evidence: bool,
}

/// Everything a proposal produced.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub as_of: chrono::NaiveDate,
    pub period_months: u32,
    pub rows: Vec<ProposalRow>,
    pub summaries: Vec<PcnSummary>,
    pub proposal_id: String,
    pub defaults: CapacityDefaults,
    /// The segment names of segments.toml, in their order.
    pub segments: Vec<String>,
    /// What the user should know but that does not stop the run (rules.md §4).
    pub warnings: Vec<String>,
    /// The latest record behind each scored flag of the listed patients.
    pub evidence: Evidence,
}

/// The high-need patients of `reports/high_need.sql`, decoded through the
/// checked columns (the file is an analyst's to edit).
fn candidates(batches: &[RecordBatch], origin: &str) -> Result<Vec<Candidate>> {
    let mut out = Vec::new();
    for b in batches {
        let c = Columns::new(b, origin);
        let (pcn, pid, practice, score, reasons) = (
            c.text("pcn_code")?,
            c.int("patient_id")?,
            c.text("practice_code")?,
            c.int("need_score")?,
            c.text("need_reasons")?,
        );
        let (segment, age, sex, decile) = (
            c.text("segment")?,
            c.int("age")?,
            c.text("sex")?,
            c.int("imd_decile")?,
        );
        for r in 0..c.rows() {
            let required = |v: Option<i64>, column: &str| {
                v.ok_or_else(|| {
                    PhmError::from(crate::rules::RulesError::Column {
                        file: origin.to_string(),
                        column: column.to_string(),
                        found: format!("null on row {}", r + 1),
                        expected: "a value on every row",
                    })
                })
            };
            let small = |v: i64, column: &str| {
                i32::try_from(v).map_err(|_| {
                    PhmError::from(crate::rules::RulesError::Column {
                        file: origin.to_string(),
                        column: column.to_string(),
                        found: format!("{v} on row {}", r + 1),
                        expected: "a 32-bit integer",
                    })
                })
            };
            out.push(Candidate {
                pcn_code: text_at(&pcn, r).unwrap_or_default().to_string(),
                patient_id: required(int_at(&pid, r), "patient_id")?,
                practice_code: text_at(&practice, r).unwrap_or_default().to_string(),
                need_score: small(required(int_at(&score, r), "need_score")?, "need_score")?,
                need_reasons: text_at(&reasons, r).unwrap_or_default().to_string(),
                segment: text_at(&segment, r)
                    .ok_or_else(|| {
                        PhmError::from(crate::rules::RulesError::Config {
                            file: super::segments::SEGMENTS_FILE.into(),
                            message: format!(
                                "patient {} matches no segment; end the list with one whose `when` is TRUE",
                                int_at(&pid, r).unwrap_or_default()
                            ),
                        })
                    })?
                    .to_string(),
                age: small(required(int_at(&age, r), "age")?, "age")?,
                sex: text_at(&sex, r).unwrap_or_default().to_string(),
                imd_decile: int_at(&decile, r)
                    .map(|d| small(d, "imd_decile"))
                    .transpose()?,
            });
        }
    }
    Ok(out)
}

/// Per-PCN counts of `reports/pcn_counts.sql`, decoded through the checked columns.
fn pcn_counts(batches: &[RecordBatch], origin: &str) -> Result<Vec<PcnCounts>> {
    let mut out = Vec::new();
    for b in batches {
        let c = Columns::new(b, origin);
        let (pcn, reg, adults, elig, high, sp) = (
            c.text("pcn_code")?,
            c.int("registered")?,
            c.int("adults")?,
            c.int("eligible")?,
            c.int("high_need")?,
            c.int("sp_referred_12m")?,
        );
        let count = |a: &datafusion::arrow::array::Int64Array, r: usize| {
            int_at(a, r).unwrap_or(0).max(0) as u64
        };
        for r in 0..c.rows() {
            out.push(PcnCounts {
                pcn_code: text_at(&pcn, r).unwrap_or_default().to_string(),
                registered: count(&reg, r),
                adults: count(&adults, r),
                eligible: count(&elig, r),
                high_need: count(&high, r),
                sp_referred_12m: count(&sp, r),
            });
        }
    }
    Ok(out)
}

/// Runs the proposal on an opened pipeline. `excluded` holds the patient ids a
/// clinical lead excluded in an earlier review (see review.rs).
pub async fn propose(
    pipeline: &Pipeline,
    options: &ProposeOptions,
    excluded: &BTreeSet<i64>,
) -> Result<Proposal> {
    let rules = &pipeline.rules;
    let defaults = CapacityDefaults::parse(
        &format!("{}/capacity.toml", rules.origin),
        rules.file("capacity.toml")?,
    )?;
    let months = options.period_months.unwrap_or(defaults.period_months);
    if !(1..=120).contains(&months) {
        return Err(PhmError::Input(format!(
            "--period-months {months}: must be from 1 to 120"
        )));
    }
    let table = match &options.capacity_csv {
        Some(p) => CapacityTable::read(p)?,
        None => CapacityTable::default(),
    };
    pipeline.ensure_features().await?;
    let (_, count_batches) = pipeline.run_report("pcn_counts").await?;
    let counts = pcn_counts(&count_batches, &pipeline.report_origin("pcn_counts"))?;
    let known: Vec<String> = counts.iter().map(|c| c.pcn_code.clone()).collect();
    // rules.md §4: an ICB-wide capacity file may list PCNs this extract has
    // nobody registered in; they get no row, and the user is told which.
    let mut warnings = Vec::new();
    let unknown = table.unknown_pcns(&known);
    if !unknown.is_empty() {
        warnings.push(format!(
            "capacity file {}: PCN(s) {} have nobody registered at {} in this extract, so they get no row (known PCNs: {})",
            options.capacity_csv.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            unknown.join(", "),
            pipeline.as_of,
            known.join(", ")
        ));
    }
    let (mut by_pcn, excluded_by_pcn) = candidates_by_pcn(pipeline, excluded).await?;
    let mut rows = Vec::new();
    let mut summaries = Vec::new();
    for counts in &counts {
        let input = table.input(&counts.pcn_code, &defaults);
        let capacity = super::capacity::capacity(&input, months);
        let ranked = rank_pcn(
            by_pcn.remove(&counts.pcn_code).unwrap_or_default(),
            capacity,
        );
        let excluded_here = excluded_by_pcn.get(&counts.pcn_code).copied().unwrap_or(0);
        summaries.push(summarise(
            counts,
            &input,
            months,
            defaults.target_referrals_per_1000,
            &ranked,
            excluded_here,
        ));
        rows.extend(ranked);
    }
    let proposal_id = proposal_id(pipeline.as_of, months, &rows);
    let listed: Vec<i64> = rows.iter().map(|r| r.candidate.patient_id).collect();
    let evidence = if options.without_evidence {
        Evidence::default()
    } else {
        crate::explain::evidence::latest_records(pipeline, &listed).await?
    };
    Ok(Proposal {
        as_of: pipeline.as_of,
        period_months: months,
        rows,
        summaries,
        proposal_id,
        defaults,
        segments: super::segments::Segments::load(rules)?.names(),
        warnings,
        evidence,
    })
}

/// The high-need candidates per PCN, without the patients a review excluded,
/// and how many each PCN had excluded.
async fn candidates_by_pcn(
    pipeline: &Pipeline,
    excluded: &BTreeSet<i64>,
) -> Result<(BTreeMap<String, Vec<Candidate>>, BTreeMap<String, u64>)> {
    let (_, batches) = pipeline.run_report("high_need").await?;
    let mut by_pcn: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    let mut excluded_by_pcn: BTreeMap<String, u64> = BTreeMap::new();
    for c in candidates(&batches, &pipeline.report_origin("high_need"))? {
        if excluded.contains(&c.patient_id) {
            *excluded_by_pcn.entry(c.pcn_code.clone()).or_default() += 1;
            continue;
        }
        by_pcn.entry(c.pcn_code.clone()).or_default().push(c);
    }
    Ok((by_pcn, excluded_by_pcn))
}

/// A fingerprint of the proposal's content (FNV-1a 64): the same inputs give
/// the same id; any change to who is proposed, their score or rank changes it,
/// so a returned list can be matched to the proposal it came from.
pub fn proposal_id(as_of: chrono::NaiveDate, months: u32, rows: &[ProposalRow]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(as_of.to_string().as_bytes());
    eat(&months.to_le_bytes());
    for r in rows {
        let c = &r.candidate;
        eat(c.pcn_code.as_bytes());
        eat(&c.patient_id.to_le_bytes());
        eat(&c.need_score.to_le_bytes());
        eat(&r.rank.to_le_bytes());
        eat(r.status.name().as_bytes());
    }
    format!("{h:016x}")
}

pub fn proposals_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("pcn_code", DataType::Utf8, false),
        Field::new("patient_id", DataType::Int64, false),
        Field::new("practice_code", DataType::Utf8, false),
        Field::new("segment", DataType::Utf8, false),
        Field::new("need_score", DataType::Int32, false),
        Field::new("need_reasons", DataType::Utf8, false),
        Field::new("rank", DataType::Int32, false),
        Field::new("status", DataType::Utf8, false),
    ]))
}

/// The rows as the `proposals` batch (sorted by pcn_code, rank).
pub fn proposals_batch(rows: &[ProposalRow]) -> RecordBatch {
    let c = |f: &dyn Fn(&ProposalRow) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
    };
    RecordBatch::try_new(
        proposals_schema(),
        vec![
            c(&|r| r.candidate.pcn_code.clone()),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.candidate.patient_id),
            )),
            c(&|r| r.candidate.practice_code.clone()),
            c(&|r| r.candidate.segment.clone()),
            Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| r.candidate.need_score),
            )),
            c(&|r| r.candidate.need_reasons.clone()),
            Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| r.rank as i32),
            )),
            c(&|r| r.status.name().to_string()),
        ],
    )
    .expect("proposal columns match their schema")
}

fn csv_text(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)
        .map_err(|e| PhmError::Internal(format!("cannot serialise CSV: {e}")))?;
    for r in rows {
        w.write_record(&r)
            .map_err(|e| PhmError::Internal(format!("cannot serialise CSV: {e}")))?;
    }
    w.into_inner()
        .map_err(|e| PhmError::Internal(format!("cannot serialise CSV: {e}")))
}

/// Shortest text that reads back to the same float (Rust's `{}` for f64).
fn num(x: f64) -> String {
    format!("{x}")
}

pub const CAPACITY_COLUMNS: [&str; 14] = [
    "pcn_code",
    "registered",
    "adults",
    "eligible",
    "high_need",
    "link_worker_fte",
    "capacity",
    "proposed",
    "waiting",
    "coverage",
    "fte_needed",
    "sp_referred_12m",
    "sp_referred_per_1000",
    "target_per_1000",
];

pub fn capacity_csv(summaries: &[PcnSummary]) -> Result<Vec<u8>> {
    csv_text(
        &CAPACITY_COLUMNS,
        summaries.iter().map(|s| {
            vec![
                s.pcn_code.clone(),
                s.registered.to_string(),
                s.adults.to_string(),
                s.eligible.to_string(),
                s.high_need.to_string(),
                s.link_worker_fte.normalize().to_string(),
                s.capacity.to_string(),
                s.proposed.to_string(),
                s.waiting.to_string(),
                s.coverage.map(num).unwrap_or_default(),
                s.fte_needed.normalize().to_string(),
                s.sp_referred_12m.to_string(),
                num(s.sp_referred_per_1000),
                s.target_per_1000.normalize().to_string(),
            ]
        }),
    )
}

/// `segments.csv`: every PCN and segment, zeros included, segments in the
/// order of segments.toml.
pub fn segments_csv(p: &Proposal) -> Result<Vec<u8>> {
    let mut lines = Vec::new();
    for s in &p.summaries {
        for seg in &p.segments {
            let in_seg = p
                .rows
                .iter()
                .filter(|r| r.candidate.pcn_code == s.pcn_code && &r.candidate.segment == seg);
            let (mut high, mut proposed, mut waiting) = (0u64, 0u64, 0u64);
            for r in in_seg {
                high += 1;
                match r.status {
                    Status::Proposed => proposed += 1,
                    Status::Waiting => waiting += 1,
                }
            }
            lines.push(vec![
                s.pcn_code.clone(),
                seg.clone(),
                high.to_string(),
                proposed.to_string(),
                waiting.to_string(),
            ]);
        }
    }
    csv_text(
        &["pcn_code", "segment", "high_need", "proposed", "waiting"],
        lines,
    )
}

/// Columns of a clinical lead's list: the contract columns, then context, then
/// the evidence columns (`COLUMN_last`, [`Evidence`]), then [`LEAD_COLUMNS`].
pub const LIST_COLUMNS: [&str; 12] = [
    "pcn_code",
    "patient_id",
    "practice_code",
    "segment",
    "need_score",
    "need_reasons",
    "rank",
    "status",
    "age_band",
    "sex",
    "imd_decile",
    "proposal_id",
];

/// The two columns the lead fills in, last on every list.
pub const LEAD_COLUMNS: [&str; 2] = ["decision", "reason"];

/// A clinical lead's list: its header and one row of text per patient, the
/// same for the CSV and the workbook.
fn list_table(
    rows: &[&ProposalRow],
    proposal_id: &str,
    evidence: &Evidence,
) -> (Vec<String>, Vec<Vec<String>>) {
    let header = LIST_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(evidence.columns.iter().cloned())
        .chain(LEAD_COLUMNS.iter().map(|c| c.to_string()))
        .collect();
    let lines = rows
        .iter()
        .map(|r| {
            let c = &r.candidate;
            let mut line = vec![
                c.pcn_code.clone(),
                c.patient_id.to_string(),
                c.practice_code.clone(),
                c.segment.clone(),
                c.need_score.to_string(),
                c.need_reasons.clone(),
                r.rank.to_string(),
                r.status.name().to_string(),
                age_band(c.age),
                c.sex.clone(),
                c.imd_decile.map(|d| d.to_string()).unwrap_or_default(),
                proposal_id.to_string(),
            ];
            line.extend(evidence.row(c.patient_id));
            line.extend(LEAD_COLUMNS.map(|_| String::new()));
            line
        })
        .collect();
    (header, lines)
}

#[derive(Serialize)]
struct CapacityJson<'a> {
    proposal_id: &'a str,
    as_of: String,
    period_months: u32,
    defaults: &'a CapacityDefaults,
    pcns: &'a [PcnSummary],
}

/// Writes every output file of a proposal into `dir`.
pub fn write_proposal(dir: &Path, p: &Proposal) -> Result<Vec<PathBuf>> {
    let lists = dir.join("lists");
    std::fs::create_dir_all(&lists).map_err(|e| PhmError::write(&lists, e))?;
    let mut written = Vec::new();
    let mut put = |name: &str, bytes: &[u8]| -> Result<()> {
        let path = dir.join(name);
        write_atomic(&path, bytes).map_err(|e| PhmError::write(&path, e))?;
        written.push(path);
        Ok(())
    };
    let batch = proposals_batch(&p.rows);
    put(
        "proposals.csv",
        &crate::output::table::csv_bytes(std::slice::from_ref(&batch))?,
    )?;
    put("capacity.csv", &capacity_csv(&p.summaries)?)?;
    put("segments.csv", &segments_csv(p)?)?;
    let json = CapacityJson {
        proposal_id: &p.proposal_id,
        as_of: p.as_of.to_string(),
        period_months: p.period_months,
        defaults: &p.defaults,
        pcns: &p.summaries,
    };
    let text = serde_json::to_string_pretty(&json)
        .map_err(|e| PhmError::Internal(format!("cannot serialise capacity.json: {e}")))?;
    put("capacity.json", text.as_bytes())?;
    for s in &p.summaries {
        let rows: Vec<&ProposalRow> = p
            .rows
            .iter()
            .filter(|r| r.candidate.pcn_code == s.pcn_code)
            .collect();
        let (header, lines) = list_table(&rows, &p.proposal_id, &p.evidence);
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let list = |ext| crate::output::names::file_name("pcn_code", &s.pcn_code, ext);
        put(
            &format!("lists/{}", list("csv")?),
            &csv_text(&header, lines.iter().cloned())?,
        )?;
        put(
            &format!("lists/{}", list("xlsx")?),
            &super::workbook::list_workbook(&s.pcn_code, p.as_of, &header, &lines)?,
        )?;
    }
    let parquet = dir.join("proposals.parquet");
    crate::output::write_parquet(&parquet, proposals_schema(), &[batch])
        .map_err(|e| PhmError::write(&parquet, e))?;
    written.push(parquet);
    Ok(written)
}

/// Decimal as the CSV writes it, for messages.
pub fn decimal_text(d: Decimal) -> String {
    d.normalize().to_string()
}
