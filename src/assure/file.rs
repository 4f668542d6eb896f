//! Reads an assure file (format in `queries/assure/defaults.toml`'s header)
//! into test patients. Parsed with `toml_edit`, which keeps every key's and
//! value's place in the text, so each mistake names its line. The tables and
//! columns are the extract contract's (`extract::contract`), so a test
//! patient's rows are the rows an extract would hold.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use chrono::NaiveDate;
use toml_edit::{ImDocument, Item, TableLike, Value};

use super::{AssureError, AssureFile, Cell, Expectation, Expected, Row, TestPatient};
use crate::extract::contract::{ColumnSpec, ContractType, Domain, TableSpec, IMD, TABLES};
use crate::features::contract::FEATURES;
use crate::rules::codelists::Codelist;

/// Defaults of a test patient's `patients` row: an adult woman registered
/// since 2000, in LSOA E01000005 (decile 5 in the default IMD table).
/// Each is read as its contract column's type (a date for the `Date32` ones).
const PATIENT_DEFAULTS: [(&str, &str); 8] = [
    ("practice_code", "A00001"),
    ("pcn_code", "U00001"),
    ("icb_code", "QAA"),
    ("lsoa_code", "E01000005"),
    ("sex", "F"),
    ("birth_date", "1970-01-01"),
    ("ethnicity", "A"),
    ("registered_from", "2000-01-01"),
];

/// Keys a `[[patient]]` may have besides the contract's tables.
const PATIENT_KEYS: [&str; 5] = ["id", "about", "as_of", "expect", "absent"];

const BOTH_CODES: &str = "an event has either `code` or `codelist`, not both";

/// Most identical rows one `copies` may ask for.
const MAX_COPIES: i64 = 10_000;

/// Turns byte offsets into 1-based line numbers.
struct Lines<'a> {
    text: &'a str,
}

impl Lines<'_> {
    fn of(&self, span: Option<Range<usize>>) -> usize {
        span.map_or(0, |s| {
            self.text[..s.start.min(self.text.len())]
                .matches('\n')
                .count()
                + 1
        })
    }
}

struct Parser<'a> {
    origin: &'a str,
    lines: Lines<'a>,
    codelists: &'a [Codelist],
}

impl Parser<'_> {
    fn error(&self, line: usize, message: impl Into<String>) -> AssureError {
        AssureError::File {
            file: self.origin.to_string(),
            line,
            message: message.into(),
        }
    }

    /// The line of `key` in `table`, else of the table itself.
    fn key_line(&self, table: &dyn TableLike, key: &str, fallback: usize) -> usize {
        match table.key(key).and_then(|k| k.span()) {
            Some(span) => self.lines.of(Some(span)),
            None => table
                .get(key)
                .and_then(Item::span)
                .map_or(fallback, |s| self.lines.of(Some(s))),
        }
    }

    fn date(&self, item: &Item, line: usize, what: &str) -> Result<NaiveDate, AssureError> {
        let text = match item {
            Item::Value(Value::String(s)) => s.value().clone(),
            Item::Value(Value::Datetime(d)) => d.value().to_string(),
            other => {
                return Err(self.error(
                    line,
                    format!(
                        "{what} must be a date like 2025-03-31, not {}",
                        other.type_name()
                    ),
                ))
            }
        };
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .ok()
            .filter(|_| text.len() == 10)
            .ok_or_else(|| {
                self.error(
                    line,
                    format!("{what}: `{text}` is not a date like 2025-03-31"),
                )
            })
    }

    /// The rows of a table key: an array of inline tables or `[[…]]` tables.
    fn rows<'i>(
        &self,
        item: &'i Item,
        line: usize,
        what: &str,
    ) -> Result<Vec<(&'i dyn TableLike, usize)>, AssureError> {
        match item {
            Item::ArrayOfTables(tables) => Ok(tables
                .iter()
                .map(|t| (t as &dyn TableLike, self.lines.of(t.span()).max(line)))
                .collect()),
            Item::Value(Value::Array(array)) => array
                .iter()
                .map(|v| match v {
                    Value::InlineTable(t) => Ok((t as &dyn TableLike, self.lines.of(v.span()))),
                    other => Err(self.error(
                        self.lines.of(other.span()).max(line),
                        format!(
                            "{what}: each row must be a table like {{ column = value }}, not {}",
                            other.type_name()
                        ),
                    )),
                })
                .collect(),
            Item::Table(t) => Ok(vec![(t as &dyn TableLike, line)]),
            Item::Value(Value::InlineTable(t)) => Ok(vec![(t as &dyn TableLike, line)]),
            other => Err(self.error(
                line,
                format!("{what} must be rows of a table, not {}", other.type_name()),
            )),
        }
    }

    /// One cell of a contract column, checked against its type and domain.
    fn cell(
        &self,
        column: &ColumnSpec,
        item: &Item,
        line: usize,
        table: &str,
    ) -> Result<Cell, AssureError> {
        let what = format!("{table}.{}", column.name);
        let wrong = |expected: &str| {
            self.error(
                line,
                format!("{what} must be {expected}, not {}", item.type_name()),
            )
        };
        if let Some("") = item.as_str() {
            return if column.nullable {
                Ok(Cell::Null)
            } else {
                Err(self.error(
                    line,
                    format!("{what} may not be empty (the contract does not allow null)"),
                ))
            };
        }
        let cell = match column.data_type {
            ContractType::Int64 | ContractType::Int32 => {
                Cell::Int(item.as_integer().ok_or_else(|| wrong("a whole number"))?)
            }
            ContractType::Float64 => match (item.as_float(), item.as_integer()) {
                (Some(f), _) => Cell::Float(f),
                (None, Some(n)) => Cell::Float(n as f64),
                _ => return Err(wrong("a number")),
            },
            ContractType::Utf8 => Cell::Text(item.as_str().ok_or_else(|| wrong("text"))?.into()),
            ContractType::Date32 => Cell::Date(self.date(item, line, &what)?),
        };
        match (column.domain, &cell) {
            (Domain::OneOf(allowed), Cell::Text(s)) if !allowed.contains(&s.as_str()) => {
                Err(self.error(
                    line,
                    format!("{what}: `{s}` is not one of {}", allowed.join(", ")),
                ))
            }
            (Domain::Code, Cell::Text(s)) if !crate::extract::contract::is_code(s) => Err(self.error(
                line,
                format!("{what}: `{s}` is not a code (extract.md v1.1: 1 to 20 letters, digits, `-` or `_`)"),
            )),
            (Domain::Range(lo, hi), Cell::Int(n)) if *n < lo || *n > hi => Err(self.error(
                line,
                format!("{what}: {n} is outside {lo}–{hi}"),
            )),
            _ => Ok(cell),
        }
    }

    /// One row of `spec` (patient_id excepted), with `copies` and, for
    /// events, `codelist` (the list's first code) as conveniences.
    fn row(
        &self,
        spec: &TableSpec,
        table: &dyn TableLike,
        line: usize,
    ) -> Result<(Row, usize), AssureError> {
        let mut row = Row::new();
        let mut copies = 1;
        for (key, item) in table.iter() {
            let at = self.key_line(table, key, line);
            if key == "copies" {
                copies = item
                    .as_integer()
                    .filter(|n| (1..=MAX_COPIES).contains(n))
                    .ok_or_else(|| {
                        self.error(
                            at,
                            format!("copies must be a whole number from 1 to {MAX_COPIES}"),
                        )
                    })? as usize;
                continue;
            }
            if key == "codelist" && spec.name == "events" {
                let code = self.codelist_code(item, at)?;
                if row.insert("code", Cell::Int(code)).is_some() {
                    return Err(self.error(at, BOTH_CODES));
                }
                continue;
            }
            if key == "patient_id" {
                return Err(self.error(
                    at,
                    format!(
                        "{}: leave out patient_id: every row is the patient's `id`",
                        spec.name
                    ),
                ));
            }
            let Some(column) = spec.column(key) else {
                return Err(self.no_column(spec, key, at));
            };
            let cell = self.cell(column, item, at, spec.name)?;
            if row.insert(column.name, cell).is_some() {
                return Err(self.error(at, BOTH_CODES));
            }
        }
        Ok((row, copies))
    }

    /// The first code of the codelist an event names.
    fn codelist_code(&self, item: &Item, at: usize) -> Result<i64, AssureError> {
        let name = item
            .as_str()
            .ok_or_else(|| self.error(at, "events.codelist must be a codelist's name"))?;
        let list = self
            .codelists
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| {
                self.error(
                    at,
                    format!("events.codelist: no codelist `{name}` in the rules"),
                )
            })?;
        match list.codes.first() {
            Some((code, _)) => Ok(*code),
            None => Err(self.error(at, format!("codelist `{name}` has no codes"))),
        }
    }

    /// The error for a key that is no column of `spec`, listing the columns.
    fn no_column(&self, spec: &TableSpec, key: &str, at: usize) -> AssureError {
        let mut known: Vec<&str> = spec
            .columns
            .iter()
            .map(|c| c.name)
            .filter(|c| *c != "patient_id")
            .collect();
        if spec.name == "events" {
            known.push("codelist");
        }
        known.push("copies");
        self.error(
            at,
            format!(
                "{} has no column `{key}` (expected {})",
                spec.name,
                known.join(", ")
            ),
        )
    }

    /// Fills a `patients` row's defaults and checks every required column.
    fn complete(&self, spec: &TableSpec, row: &mut Row, line: usize) -> Result<(), AssureError> {
        if spec.name == "patients" {
            for (column, text) in PATIENT_DEFAULTS {
                let date = spec
                    .column(column)
                    .is_some_and(|c| c.data_type == ContractType::Date32);
                row.entry(column).or_insert_with(|| {
                    if date {
                        Cell::Date(text.parse().expect("a valid default date"))
                    } else {
                        Cell::Text(text.into())
                    }
                });
            }
        }
        for column in spec.columns.iter().filter(|c| c.name != "patient_id") {
            if row.contains_key(column.name) {
                continue;
            }
            if column.nullable {
                row.insert(column.name, Cell::Null);
            } else {
                return Err(self.error(line, format!("{} row needs `{}`", spec.name, column.name)));
            }
        }
        Ok(())
    }

    fn expectations(&self, item: &Item, line: usize) -> Result<Vec<Expectation>, AssureError> {
        let table = item
            .as_table_like()
            .ok_or_else(|| self.error(line, "expect must be a table like { column = value, … }"))?;
        let mut out = Vec::new();
        for (key, value) in table.iter() {
            let at = self.key_line(table, key, line);
            let Some((column, data_type)) = FEATURES.iter().find(|(c, _)| *c == key) else {
                return Err(self.error(
                    at,
                    format!("expect: `{key}` is not a features column (rules.md §2)"),
                ));
            };
            use datafusion::arrow::datatypes::DataType as D;
            let expected = match (data_type, value) {
                (_, v) if v.as_str() == Some("null") => Expected::Null,
                (D::Boolean, v) => Expected::Bool(v.as_bool().ok_or_else(|| {
                    self.error(at, format!("expect.{key} must be true or false"))
                })?),
                (D::Int32 | D::Int64, v) => Expected::Int(v.as_integer().ok_or_else(|| {
                    self.error(at, format!("expect.{key} must be a whole number"))
                })?),
                (_, v) => Expected::Text(
                    v.as_str()
                        .ok_or_else(|| self.error(at, format!("expect.{key} must be text")))?
                        .to_string(),
                ),
            };
            out.push(Expectation {
                column,
                value: expected,
                line: at,
            });
        }
        Ok(out)
    }

    /// Every key of a `[[patient]]` is a contract table or one of [`PATIENT_KEYS`].
    fn check_patient_keys(&self, table: &dyn TableLike, line: usize) -> Result<(), AssureError> {
        for (key, _) in table.iter() {
            let known = PATIENT_KEYS.contains(&key)
                || TABLES.iter().any(|t| t.name == key && t.name != IMD.name);
            if !known {
                let tables: Vec<&str> = TABLES
                    .iter()
                    .map(|t| t.name)
                    .filter(|t| *t != IMD.name)
                    .collect();
                return Err(self.error(
                    self.key_line(table, key, line),
                    format!(
                        "unknown table `{key}` (a test patient has {}, and {})",
                        tables.join(", "),
                        PATIENT_KEYS.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A test patient's rows of each contract table (`patients` at most one).
    fn patient_rows(
        &self,
        table: &dyn TableLike,
        line: usize,
        id: i64,
    ) -> Result<BTreeMap<&'static str, Vec<Row>>, AssureError> {
        let mut rows = BTreeMap::new();
        for spec in TABLES.iter().filter(|t| t.name != IMD.name) {
            let Some(item) = table.get(spec.name) else {
                continue;
            };
            let at = self.key_line(table, spec.name, line);
            let mut out = Vec::new();
            for (row_table, row_line) in self.rows(item, at, spec.name)? {
                let (mut row, copies) = self.row(spec, row_table, row_line)?;
                self.complete(spec, &mut row, row_line)?;
                out.extend(std::iter::repeat_n(row, copies));
            }
            if spec.name == "patients" && out.len() != 1 {
                return Err(self.error(
                    at,
                    format!(
                        "patient {id}: `patients` must be one row, not {}",
                        out.len()
                    ),
                ));
            }
            rows.insert(spec.name, out);
        }
        Ok(rows)
    }

    fn patient(
        &self,
        table: &dyn TableLike,
        line: usize,
        as_of: Option<NaiveDate>,
    ) -> Result<TestPatient, AssureError> {
        self.check_patient_keys(table, line)?;
        let id = table
            .get("id")
            .and_then(Item::as_integer)
            .ok_or_else(|| self.error(line, "a test patient needs `id`, a whole number"))?;
        let about = match table.get("about") {
            None => String::new(),
            Some(item) => item
                .as_str()
                .ok_or_else(|| {
                    self.error(self.key_line(table, "about", line), "about must be text")
                })?
                .to_string(),
        };
        let as_of = match table.get("as_of") {
            Some(item) => self.date(item, self.key_line(table, "as_of", line), "as_of")?,
            None => as_of.ok_or_else(|| {
                self.error(
                    line,
                    format!("patient {id}: no as_of, here or at the top of the file"),
                )
            })?,
        };
        let rows = self.patient_rows(table, line, id)?;
        if !rows.contains_key("patients") {
            return Err(self.error(
                line,
                format!(
                    "patient {id} has no `patients` row (write `patients = {{}}` for the defaults)"
                ),
            ));
        }
        let absent = match table.get("absent") {
            None => false,
            Some(item) => item.as_bool().ok_or_else(|| {
                self.error(
                    self.key_line(table, "absent", line),
                    "absent must be true or false",
                )
            })?,
        };
        let expect = match table.get("expect") {
            Some(item) => self.expectations(item, self.key_line(table, "expect", line))?,
            None => Vec::new(),
        };
        if absent != expect.is_empty() {
            return Err(self.error(
                line,
                format!(
                    "patient {id}: give either `expect` (the features row) or `absent = true` (no features row)"
                ),
            ));
        }
        Ok(TestPatient {
            id,
            about,
            line,
            as_of,
            rows,
            expect,
            absent,
        })
    }
}

/// The default IMD table of a test extract: LSOA `E0100000N` (`E01000010`
/// for 10) has decile N.
fn default_imd() -> Vec<Row> {
    (1..=10)
        .map(|decile: i64| {
            Row::from([
                ("lsoa_code", Cell::Text(format!("E010000{decile:02}"))),
                ("imd_decile", Cell::Int(decile)),
            ])
        })
        .collect()
}

/// Parses `text`; `origin` names the file in messages, and `codelists`
/// resolve `codelist = "NAME"` in events.
pub fn parse(origin: &str, text: &str, codelists: &[Codelist]) -> Result<AssureFile, AssureError> {
    let doc = ImDocument::parse(text).map_err(|e| AssureError::Syntax {
        file: origin.to_string(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let parser = Parser {
        origin,
        lines: Lines { text },
        codelists,
    };
    let top = doc.as_table();
    for (key, _) in top.iter() {
        if !["as_of", "patient", "imd"].contains(&key) {
            return Err(parser.error(
                parser.key_line(top, key, 1),
                format!(
                    "unknown table `{key}` (the file has as_of, [[patient]] and, optionally, imd)"
                ),
            ));
        }
    }
    let as_of = match top.get("as_of") {
        Some(item) => Some(parser.date(item, parser.key_line(top, "as_of", 1), "as_of")?),
        None => None,
    };
    let imd = match top.get("imd") {
        None => default_imd(),
        Some(item) => {
            let at = parser.key_line(top, "imd", 1);
            let mut rows = Vec::new();
            for (table, line) in parser.rows(item, at, "imd")? {
                let (mut row, copies) = parser.row(&IMD, table, line)?;
                if copies != 1 {
                    return Err(parser.error(line, "imd rows are unique: no copies"));
                }
                parser.complete(&IMD, &mut row, line)?;
                rows.push(row);
            }
            rows
        }
    };
    let Some(item) = top.get("patient") else {
        return Err(parser.error(1, "no test patients: add [[patient]] tables"));
    };
    let mut patients = Vec::new();
    let mut seen = BTreeSet::new();
    for (table, line) in parser.rows(item, parser.key_line(top, "patient", 1), "patient")? {
        let patient = parser.patient(table, line, as_of)?;
        if !seen.insert(patient.id) {
            return Err(parser.error(line, format!("patient {} appears twice", patient.id)));
        }
        patients.push(patient);
    }
    Ok(AssureFile {
        origin: origin.to_string(),
        patients,
        imd,
    })
}
