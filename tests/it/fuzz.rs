//! Property-based fuzzing (issue 8) of everything phm parses from a user:
//! the TOML configs, codelist CSVs, capacity CSVs, returned decisions files,
//! and the extract contract validator on arbitrary Arrow tables.
//!
//! `cargo fuzz` needs a nightly toolchain, which this machine cannot fetch, so
//! the targets are `proptest` properties: random inputs (and random edits of
//! the shipped files), each checked for "no panic" and for the promise the
//! parser makes (a clear error naming the file, or a result that keeps the
//! rules). `cargo test` runs each with its default number of cases;
//! `scripts/fuzz.sh` runs them with many more. A failing input proptest finds
//! is shrunk and saved beside this file in `tests/it/fuzz.proptest-regressions`, which is
//! committed, so it is replayed first on every later run.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, Int8Array,
    LargeStringArray, StringArray, UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use phm::extract::contract::{ContractType, Domain, TABLES};
use phm::extract::validate::{self, Depth};
use phm::proposals::capacity::{CapacityDefaults, CapacityTable};
use phm::rules::codelists::parse_codelist;
use phm::rules::config::RulesConfig;
use phm::rules::RuleSet;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Cases per property: proptest's default (256, or `PROPTEST_CASES`), divided
/// for the targets that run a query engine per case.
fn cases(divide: u32) -> Config {
    let base = Config::default();
    Config {
        cases: (base.cases / divide).max(8),
        ..base
    }
}

// ------------------------------------------------------------ text editing

/// One random edit of a file's text: how a hand-edited config goes wrong.
#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    ReplaceValue(usize, String),
    InsertLine(usize, String),
    Truncate(usize),
    ReplaceChar(usize, char),
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1e309".to_string()),
        Just("nan".to_string()),
        Just("-inf".to_string()),
        Just("true".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("\"\"".to_string()),
        Just("99999999999999999999".to_string()),
        "-?[0-9]{1,12}(\\.[0-9]{1,6})?",
        "\"[a-z0-9 _,;()'*=-]{0,12}\"",
        "[ -~]{0,12}",
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), token()).prop_map(|(i, t)| Edit::ReplaceValue(i, t)),
        (any::<usize>(), "[ -~]{0,30}").prop_map(|(i, t)| Edit::InsertLine(i, t)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| Edit::ReplaceChar(i, c)),
    ]
}

/// Applies edits in order; line and character indexes wrap around.
fn apply(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_string();
    for e in edits {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let n = lines.len().max(1);
        match e {
            Edit::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::ReplaceValue(i, t) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                if let Some(eq) = l.find('=') {
                    *l = format!("{}= {t}", &l[..eq]);
                } else if let Some(comma) = l.find(',') {
                    *l = format!("{t}{}", &l[comma..]);
                } else {
                    *l = t.clone();
                }
            }
            Edit::InsertLine(i, t) => lines.insert(i % (lines.len() + 1), t.clone()),
            Edit::Truncate(i) => {
                let chars: Vec<char> = text.chars().collect();
                text = chars[..i % (chars.len() + 1)].iter().collect();
                continue;
            }
            Edit::ReplaceChar(i, c) if !text.is_empty() => {
                let mut chars: Vec<char> = text.chars().collect();
                let k = i % chars.len();
                chars[k] = *c;
                text = chars.into_iter().collect();
                continue;
            }
            _ => {}
        }
        text = lines.join("\n");
        text.push('\n');
    }
    text
}

fn shipped(file: &str) -> String {
    RuleSet::defaults().file(file).unwrap().to_string()
}

// ------------------------------------------------------------ TOML configs

proptest! {
    #![proptest_config(cases(1))]

    /// rules.toml: any edit gives a config or an error naming the file; a
    /// config that parses can always produce its query parameters.
    #[test]
    fn rules_toml_edits_never_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let text = apply(&shipped("rules.toml"), &edits);
        match RulesConfig::parse("fuzz/rules.toml", &text) {
            Ok(config) => {
                let as_of = chrono::NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
                let _ = config.parameters(as_of);
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz/rules.toml"), "{e}"),
        }
    }

    #[test]
    fn scoring_toml_edits_never_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let text = apply(&shipped("scoring.toml"), &edits);
        if let Err(e) = phm::features::scoring::ScoringConfig::parse("fuzz/scoring.toml", &text) {
            prop_assert!(e.to_string().contains("fuzz/scoring.toml"), "{e}");
        }
    }

    #[test]
    fn capacity_toml_edits_never_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let text = apply(&shipped("capacity.toml"), &edits);
        match CapacityDefaults::parse("fuzz/capacity.toml", &text) {
            Ok(d) => {
                // Whatever parses keeps the documented ranges.
                prop_assert!(d.link_worker_fte >= rust_decimal::Decimal::ZERO, "{d:?}");
                prop_assert!(d.proactive_share >= rust_decimal::Decimal::ZERO
                    && d.proactive_share <= rust_decimal::Decimal::ONE, "{d:?}");
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz/capacity.toml"), "{e}"),
        }
    }

    #[test]
    fn indicators_toml_edits_never_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let text = apply(&shipped("indicators.toml"), &edits);
        if let Err(e) = phm::analysis::indicators::IndicatorConfig::parse("fuzz/indicators.toml", &text) {
            prop_assert!(e.to_string().contains("fuzz/indicators.toml"), "{e}");
        }
    }

    /// Unknown keys are errors wherever they are added (none of these files
    /// has a multi-line string a line could land inside).
    #[test]
    fn an_unknown_key_anywhere_is_an_error(line in any::<usize>(), file in 0usize..3) {
        let name = ["rules.toml", "scoring.toml", "capacity.toml"][file];
        let text = shipped(name);
        prop_assume!(!text.contains("\"\"\"") && !text.contains("'''"));
        let text = apply(&text, &[Edit::InsertLine(line, "zz_not_a_key = 1".into())]);
        let result = match name {
            // A new [windows] entry is a new window: the rules must use it.
            "rules.toml" => RuleSet::defaults().with_file(name, &text).config().map(|_| ()).map_err(|e| e.to_string()),
            "scoring.toml" => phm::features::scoring::ScoringConfig::parse(name, &text).map(|_| ()).map_err(|e| e.to_string()),
            _ => CapacityDefaults::parse(name, &text).map(|_| ()).map_err(|e| e.to_string()),
        };
        prop_assert!(result.is_err(), "{name} accepted an unknown key:\n{text}");
    }
}

#[test]
fn the_shipped_configs_parse_unedited() {
    // The baseline the edit properties start from.
    RulesConfig::parse("rules.toml", &shipped("rules.toml")).unwrap();
    phm::features::scoring::ScoringConfig::parse("scoring.toml", &shipped("scoring.toml")).unwrap();
    CapacityDefaults::parse("capacity.toml", &shipped("capacity.toml")).unwrap();
    phm::analysis::indicators::IndicatorConfig::parse(
        "indicators.toml",
        &shipped("indicators.toml"),
    )
    .unwrap();
}

// ------------------------------------------------------------ codelists

fn codelist_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("code,term".to_string()),
        Just(String::new()),
        "# [ -~]{0,20}",
        (1i64..1_000_000_000_000i64, "[A-Za-z ]{0,12}").prop_map(|(c, t)| format!("{c},{t}")),
        (any::<i64>(), "[ -~]{0,12}").prop_map(|(c, t)| format!("{c},{t}")),
        "[ -~]{0,24}",
        "[0-9]{1,25},\"[ -~]{0,10}",
    ]
}

proptest! {
    #![proptest_config(cases(1))]

    /// Any text: a list whose codes are positive, unique and present in the
    /// text, or an error naming the file and a line that exists.
    #[test]
    fn codelist_parser_never_panics(lines in prop::collection::vec(codelist_line(), 0..12)) {
        let text = lines.join("\n");
        match parse_codelist("fuzz", "fuzz.csv", &text) {
            Ok(list) => {
                prop_assert!(!list.codes.is_empty());
                let mut seen = std::collections::BTreeSet::new();
                for (code, _) in &list.codes {
                    prop_assert!(*code > 0);
                    prop_assert!(seen.insert(*code), "duplicate {code}");
                    prop_assert!(text.contains(&code.to_string()));
                }
            }
            Err(e) => {
                let m = e.to_string();
                prop_assert!(m.contains("fuzz.csv"), "{m}");
                if let Some(at) = m.find("line ") {
                    let n: usize = m[at + 5..].chars().take_while(char::is_ascii_digit)
                        .collect::<String>().parse().unwrap_or(0);
                    prop_assert!(n <= lines.len(), "line {n} of {} in {m}", lines.len());
                }
            }
        }
    }

    /// A list written properly (terms quoted by a CSV writer, comments
    /// anywhere) reads back exactly.
    #[test]
    fn a_well_formed_codelist_reads_back_exactly(
        codes in prop::collection::btree_set(1i64..i64::MAX, 1..20),
        terms in prop::collection::vec("[ -~]{0,16}", 20),
        comment_every in 1usize..6,
    ) {
        let expected: Vec<(i64, String)> = codes
            .iter()
            .zip(&terms)
            .map(|(c, t)| (*c, t.trim().to_string()))
            .collect();
        let mut text = String::from("# a comment\ncode,term\n");
        for (i, (c, t)) in expected.iter().enumerate() {
            if i % comment_every == 0 {
                text.push_str("# between rows\n");
            }
            let mut w = csv::WriterBuilder::new().from_writer(vec![]);
            w.write_record([c.to_string(), t.clone()]).unwrap();
            text.push_str(&String::from_utf8(w.into_inner().unwrap()).unwrap());
        }
        let list = parse_codelist("fuzz", "fuzz.csv", &text).unwrap();
        prop_assert_eq!(list.codes, expected);
    }
}

// ------------------------------------------------------------ capacity CSV

fn capacity_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("pcn_code,link_worker_fte".to_string()),
        Just("pcn_code,link_worker_fte,caseload_per_fte_year,proactive_share,note".to_string()),
        ("U[0-9]{5}", "-?[0-9]{1,4}(\\.[0-9]{0,3})?").prop_map(|(p, f)| format!("{p},{f}")),
        ("U[0-9]{5}", "[0-9]{1,3}", "[0-9]{1,4}", "[0-9.]{1,4}")
            .prop_map(|(p, f, c, s)| format!("{p},{f},{c},{s},note")),
        "[ -~]{0,30}",
    ]
}

proptest! {
    #![proptest_config(cases(1))]

    /// A capacity table, or an error naming the file; what parses never has a
    /// negative FTE or a share outside 0–1.
    #[test]
    fn capacity_csv_never_panics(lines in prop::collection::vec(capacity_line(), 0..8)) {
        let text = lines.join("\n");
        match CapacityTable::parse("fuzz/capacity.csv", &text) {
            Ok(table) => {
                for row in table.rows.values() {
                    prop_assert!(row.link_worker_fte >= rust_decimal::Decimal::ZERO, "{row:?}");
                    if let Some(s) = row.proactive_share {
                        prop_assert!(s >= rust_decimal::Decimal::ZERO && s <= rust_decimal::Decimal::ONE, "{row:?}");
                    }
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz/capacity.csv"), "{e}"),
        }
    }
}

// ------------------------------------------------------------ decisions files

/// A proposal folder made once from the sample extract.
fn proposal() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-proposal");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let out = root.join("proposal");
        let extract = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/extract");
        let (code, _, err) = crate::common::phm(&[
            "propose",
            "--quiet",
            "--extract",
            extract.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        out
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The first PCN list of the proposal: the file a clinical lead returns.
fn returned_list() -> String {
    let lists = proposal().join("lists");
    let mut files: Vec<_> = std::fs::read_dir(&lists)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    let text = std::fs::read_to_string(&files[0]).unwrap();
    // Keep it short: header and the first 20 patients.
    text.lines().take(21).collect::<Vec<_>>().join("\n") + "\n"
}

fn decision_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), prop_oneof![
            Just("accept".to_string()), Just("exclude".to_string()), Just("".to_string()),
            Just("ACCEPT".to_string()), "[a-z]{0,8}"
        ]).prop_map(|(i, t)| Edit::InsertLine(i, t)),
        2 => edit(),
    ]
}

/// Fills the `decision` column of a returned list: row i gets `choices[i]`.
fn decide(list: &str, choices: &[u8]) -> String {
    let mut lines = list.lines();
    let header = lines.next().unwrap_or("");
    let col = header.split(',').position(|h| h == "decision");
    let mut out = vec![header.to_string()];
    for (i, line) in lines.enumerate() {
        let mut rec = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes())
            .records()
            .next()
            .and_then(Result::ok)
            .map(|r| r.iter().map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_default();
        if let Some(c) = col.filter(|c| *c < rec.len()) {
            rec[c] = match choices.get(i).copied().unwrap_or(0) % 3 {
                0 => "accept".into(),
                1 => "exclude".into(),
                _ => String::new(),
            };
        }
        let mut w = csv::WriterBuilder::new().from_writer(vec![]);
        w.write_record(&rec).unwrap();
        out.push(
            String::from_utf8(w.into_inner().unwrap())
                .unwrap()
                .trim_end()
                .to_string(),
        );
    }
    out.join("\n") + "\n"
}

proptest! {
    #![proptest_config(cases(4))]

    /// A returned list, filled in and then damaged at random: either every
    /// decision recorded names a proposed patient with a valid decision, or an
    /// error naming the decisions file and nothing recorded.
    #[test]
    fn decisions_files_never_panic_and_record_nothing_on_error(
        choices in prop::collection::vec(any::<u8>(), 20),
        edits in prop::collection::vec(decision_edit(), 0..3),
    ) {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("proposal");
        copy_dir(proposal(), &dir);
        let text = apply(&decide(&returned_list(), &choices), &edits);
        let file = work.path().join("returned.csv");
        std::fs::write(&file, &text).unwrap();
        let proposed: std::collections::BTreeSet<i64> = crate::common::csv_maps(&dir.join("proposals.csv"))
            .iter()
            .map(|r| r["patient_id"].parse().unwrap())
            .collect();
        match phm::proposals::review::review(&file, &dir) {
            Ok(_) => {
                let recorded = phm::proposals::review::recorded(&dir).unwrap();
                for d in recorded.values() {
                    prop_assert!(proposed.contains(&d.patient_id), "{d:?}");
                    prop_assert!(d.decision == "accept" || d.decision == "exclude", "{d:?}");
                }
            }
            Err(e) => {
                prop_assert!(e.to_string().contains("returned.csv"), "{e}");
                prop_assert!(!dir.join("decisions.csv").exists(), "recorded despite: {e}");
            }
        }
    }
}

// ------------------------------------------------------------ the contract validator

/// A value of a generated cell.
#[derive(Debug, Clone)]
enum Cell {
    Int(i64),
    Text(String),
    Day(i32),
    Real(f64),
}

/// How a generated table breaks the contract (or not).
#[derive(Debug, Clone)]
enum Breach {
    None,
    DropColumn(usize),
    WrongType(usize),
    NullIn(usize),
    OutsideDomain(usize),
    DuplicateKey,
}

fn valid_cell(
    table: &str,
    column: &str,
    ty: ContractType,
    domain: Domain,
    row: usize,
    r: u64,
) -> Cell {
    match (column, domain) {
        ("patient_id", _) if table == "patients" => Cell::Int(row as i64 + 1),
        ("patient_id", _) => Cell::Int((r % 7) as i64 + 1),
        ("lsoa_code", _) if table == "imd" => Cell::Text(format!("E0100{row:04}")),
        ("lsoa_code", _) => Cell::Text(format!("E0100{:04}", r % 5)),
        ("ethnicity", _) => {
            Cell::Text(phm::extract::contract::ETHNICITY_VALUES[(r % 17) as usize].to_string())
        }
        (_, Domain::OneOf(values)) => Cell::Text(values[(r as usize) % values.len()].to_string()),
        (_, Domain::Range(lo, hi)) => Cell::Int(lo + (r as i64).rem_euclid(hi - lo + 1)),
        _ => match ty {
            ContractType::Int64 | ContractType::Int32 => Cell::Int((r % 1_000_000) as i64),
            ContractType::Float64 => Cell::Real((r % 2000) as f64 / 10.0),
            ContractType::Utf8 => Cell::Text(format!("X{}", r % 100)),
            // 1900-01-01 .. 2025-03-31
            ContractType::Date32 => Cell::Day(-25567 + (r % 45_744) as i32),
        },
    }
}

fn array_of(ty: ContractType, cells: &[Option<Cell>]) -> (DataType, ArrayRef) {
    match ty {
        ContractType::Int64 => (
            DataType::Int64,
            Arc::new(Int64Array::from_iter(cells.iter().map(|c| match c {
                Some(Cell::Int(v)) => Some(*v),
                _ => None,
            }))),
        ),
        ContractType::Int32 => (
            DataType::Int32,
            Arc::new(Int32Array::from_iter(cells.iter().map(|c| match c {
                Some(Cell::Int(v)) => Some(*v as i32),
                _ => None,
            }))),
        ),
        ContractType::Float64 => (
            DataType::Float64,
            Arc::new(Float64Array::from_iter(cells.iter().map(|c| match c {
                Some(Cell::Real(v)) => Some(*v),
                _ => None,
            }))),
        ),
        ContractType::Utf8 => (
            DataType::Utf8,
            Arc::new(StringArray::from_iter(cells.iter().map(|c| match c {
                Some(Cell::Text(v)) => Some(v.clone()),
                _ => None,
            }))),
        ),
        ContractType::Date32 => (
            DataType::Date32,
            Arc::new(Date32Array::from_iter(cells.iter().map(|c| match c {
                Some(Cell::Day(v)) => Some(*v),
                _ => None,
            }))),
        ),
    }
}

/// A type the contract does not accept for `ty`.
fn wrong_array(ty: ContractType, rows: usize) -> (DataType, ArrayRef) {
    match ty {
        ContractType::Utf8 => (
            DataType::Int64,
            Arc::new(Int64Array::from_iter_values(0..rows as i64)),
        ),
        ContractType::Date32 | ContractType::Int64 | ContractType::Int32 => (
            DataType::Utf8,
            Arc::new(StringArray::from_iter_values(
                (0..rows).map(|i| i.to_string()),
            )),
        ),
        ContractType::Float64 => (
            DataType::Boolean,
            Arc::new(BooleanArray::from_iter(
                (0..rows).map(|i| Some(i.is_multiple_of(2))),
            )),
        ),
    }
}

/// One contract table as a batch: valid cells, then the breach applied.
fn table_batch(t: usize, rows: usize, seeds: &[u64], breach: &Breach) -> RecordBatch {
    let spec = &TABLES[t];
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for (c, col) in spec.columns.iter().enumerate() {
        if matches!(breach, Breach::DropColumn(k) if *k == c) {
            continue;
        }
        if matches!(breach, Breach::WrongType(k) if *k == c) {
            let (dt, a) = wrong_array(col.data_type, rows);
            fields.push(Field::new(col.name, dt, true));
            arrays.push(a);
            continue;
        }
        let mut cells: Vec<Option<Cell>> = (0..rows)
            .map(|row| {
                let r = seeds[(row * 31 + c) % seeds.len()];
                if col.nullable && r.is_multiple_of(5) {
                    None
                } else {
                    Some(valid_cell(
                        spec.name,
                        col.name,
                        col.data_type,
                        col.domain,
                        row,
                        r,
                    ))
                }
            })
            .collect();
        match breach {
            Breach::NullIn(k) if *k == c => cells[rows - 1] = None,
            Breach::OutsideDomain(k) if *k == c => {
                cells[0] = Some(match col.domain {
                    Domain::OneOf(_) => Cell::Text("not-a-code".into()),
                    Domain::Code => Cell::Text("../escaped".into()),
                    _ => Cell::Int(11),
                })
            }
            Breach::DuplicateKey
                if spec.column(col.name).is_some()
                    && ((spec.name == "patients" && col.name == "patient_id")
                        || (spec.name == "imd" && col.name == "lsoa_code")) =>
            {
                cells[rows - 1] = cells[0].clone()
            }
            _ => {}
        }
        let (dt, a) = array_of(col.data_type, &cells);
        fields.push(Field::new(col.name, dt, true));
        arrays.push(a);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Runtime::new().unwrap())
}

/// Writes the tables, registers and validates them the way every command
/// does; the error lines, or the Err's text.
fn validate_dir(dir: &Path) -> Result<Vec<String>, String> {
    runtime().block_on(async {
        let ctx = phm::engine::session(&Default::default()).map_err(|e| e.to_string())?;
        let opened = phm::extract::register_extract(&ctx, dir, None)
            .await
            .map_err(|e| e.to_string())?;
        let mut report = opened.report;
        if !report.has_errors() {
            let as_of = chrono::NaiveDate::from_ymd_opt(2025, 3, 31);
            validate::check_data(&ctx, &mut report, as_of, Depth::Full)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(report.errors().map(|v| v.to_string()).collect())
    })
}

fn breach() -> impl Strategy<Value = (usize, Breach)> {
    (0..TABLES.len(), 0usize..16, 0u8..6).prop_map(|(t, c, kind)| {
        let spec = &TABLES[t];
        let c = c % spec.columns.len();
        let col = &spec.columns[c];
        let b = match kind {
            1 => Breach::DropColumn(c),
            2 => Breach::WrongType(c),
            3 if !col.nullable => Breach::NullIn(c),
            4 if !matches!(
                col.domain,
                Domain::Any | Domain::Known(..) | Domain::Plausible(_)
            ) =>
            {
                Breach::OutsideDomain(c)
            }
            5 if spec.name == "patients" || spec.name == "imd" => Breach::DuplicateKey,
            _ => Breach::None,
        };
        (t, b)
    })
}

proptest! {
    #![proptest_config(cases(8))]

    /// Valid random tables pass; one breach in one table is reported as an
    /// error naming that table and column. Never a panic.
    #[test]
    fn the_validator_finds_each_breach_and_nothing_else(
        rows in prop::collection::vec(2usize..6, TABLES.len()),
        seeds in prop::collection::vec(any::<u64>(), 40),
        (target, breach) in breach(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (t, spec) in TABLES.iter().enumerate() {
            let b = if t == target { breach.clone() } else { Breach::None };
            let batch = table_batch(t, rows[t], &seeds, &b);
            crate::common::write_batches(&dir.path().join(format!("{}.parquet", spec.name)), batch.schema(), &[batch]);
        }
        let errors = validate_dir(dir.path());
        let spec = &TABLES[target];
        match &breach {
            Breach::None => prop_assert_eq!(errors, Ok(vec![])),
            b => {
                let column = match b {
                    Breach::DropColumn(c) | Breach::WrongType(c) | Breach::NullIn(c)
                    | Breach::OutsideDomain(c) => spec.columns[*c].name,
                    _ => if spec.name == "imd" { "lsoa_code" } else { "patient_id" },
                };
                let text = match errors {
                    Ok(lines) => lines.join("\n"),
                    Err(e) => e,
                };
                prop_assert!(text.contains(spec.name) && text.contains(column),
                    "{b:?} in {}.{column} not reported: {text:?}", spec.name);
            }
        }
    }

    /// Arbitrary column types and values, including types the contract
    /// narrows (Int64 decile) and edge values: never a panic, and every
    /// problem comes back as an error, not a crash.
    #[test]
    fn the_validator_survives_arbitrary_columns(
        table in 0..TABLES.len(),
        kinds in prop::collection::vec(0u8..8, 12),
        values in prop::collection::vec(any::<i64>(), 4),
        nulls in prop::collection::vec(any::<bool>(), 4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (t, spec) in TABLES.iter().enumerate() {
            let batch = if t == table {
                let mut fields = Vec::new();
                let mut arrays: Vec<ArrayRef> = Vec::new();
                for (c, col) in spec.columns.iter().enumerate() {
                    let opt = |i: usize| (!nulls[i]).then_some(values[i]);
                    let (dt, a): (DataType, ArrayRef) = match kinds[c % kinds.len()] {
                        0 => (DataType::Int64, Arc::new(Int64Array::from_iter((0..4).map(opt)))),
                        1 => (DataType::Int8, Arc::new(Int8Array::from_iter((0..4).map(|i| opt(i).map(|v| v as i8))))),
                        2 => (DataType::UInt32, Arc::new(UInt32Array::from_iter((0..4).map(|i| opt(i).map(|v| v as u32))))),
                        3 => (DataType::Float64, Arc::new(Float64Array::from_iter((0..4).map(|i| opt(i).map(|v| v as f64 / 3.0))))),
                        4 => (DataType::Date32, Arc::new(Date32Array::from_iter((0..4).map(|i| opt(i).map(|v| v as i32))))),
                        5 => (DataType::LargeUtf8, Arc::new(LargeStringArray::from_iter((0..4).map(|i| opt(i).map(|v| v.to_string()))))),
                        6 => (DataType::Utf8, Arc::new(StringArray::from_iter((0..4).map(|i| opt(i).map(|v| format!("{}", v % 12)))))),
                        _ => (DataType::Boolean, Arc::new(BooleanArray::from_iter((0..4).map(|i| opt(i).map(|v| v % 2 == 0))))),
                    };
                    fields.push(Field::new(col.name, dt, true));
                    arrays.push(a);
                }
                RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
            } else {
                table_batch(t, 3, &[7, 11, 13], &Breach::None)
            };
            crate::common::write_batches(&dir.path().join(format!("{}.parquet", spec.name)), batch.schema(), &[batch]);
        }
        // Either outcome is acceptable; reaching here without a panic is the property,
        // and an Err must still name a table.
        if let Err(e) = validate_dir(dir.path()) {
            prop_assert!(TABLES.iter().any(|s| e.contains(s.name)), "{e}");
        }
    }
}
