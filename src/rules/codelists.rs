//! Codelist CSVs (rules.md §1): `code,term` with `#` comment lines. Parsed
//! strictly — a malformed list would silently shrink a cohort — and registered
//! as tables so rules join them instead of pasting codes into SQL.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::{DictionaryArray, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;

use super::RulesError;

/// One codelist: its name (the file stem) and its codes with terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Codelist {
    pub name: String,
    pub codes: Vec<(i64, String)>,
}

/// Parses one codelist file. `origin` names the file in messages.
pub fn parse_codelist(name: &str, origin: &str, text: &str) -> Result<Codelist, RulesError> {
    let bad = |line: usize, message: String| RulesError::Codelist {
        file: origin.to_string(),
        line,
        message,
    };
    if !super::is_lower_snake(name) {
        return Err(bad(
            0,
            "codelist file names must be lower-case letters, digits and `_` (they become table names `codelist_NAME`)".into(),
        ));
    }
    // Line by line, so every message carries the line as an editor shows it
    // (the csv reader counts a record after `#` comments from the first
    // comment). A codelist term never spans lines.
    let mut header_seen = false;
    let mut seen = BTreeSet::new();
    let mut codes = Vec::new();
    for (index, text_line) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = text_line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if text_line.matches('"').count() % 2 == 1 {
            return Err(bad(line, "a `\"` quote is not closed on this line".into()));
        }
        let record = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text_line.as_bytes())
            .records()
            .next()
            .unwrap_or_else(|| Ok(csv::StringRecord::new()))
            .map_err(|e| bad(line, format!("not valid CSV: {e}")))?;
        if !header_seen {
            let fields: Vec<&str> = record.iter().map(str::trim).collect();
            if fields.first() != Some(&"code") || fields.get(1) != Some(&"term") {
                return Err(bad(
                    line,
                    format!("the first line that is not a `#` comment must be the header `code,term`, found `{}`", fields.join(",")),
                ));
            }
            header_seen = true;
            continue;
        }
        if record.len() < 2 {
            return Err(bad(line, "expected two fields, `code,term`".into()));
        }
        let raw = record[0].trim();
        let code: i64 = raw
            .parse()
            .ok()
            .filter(|c: &i64| *c > 0 && raw.chars().all(|ch| ch.is_ascii_digit()))
            .ok_or_else(|| {
                bad(
                    line,
                    format!("`{raw}` is not a SNOMED CT concept id (digits only)"),
                )
            })?;
        if !seen.insert(code) {
            return Err(bad(line, format!("code {code} appears twice in this list")));
        }
        codes.push((code, record[1].trim().to_string()));
    }
    if !header_seen {
        return Err(bad(0, "no header line `code,term` found".into()));
    }
    if codes.is_empty() {
        return Err(bad(0, "the list has no codes".into()));
    }
    Ok(Codelist {
        name: name.to_string(),
        codes,
    })
}

/// Registers `codelists(codelist, code, term)` and one view `codelist_NAME(code, term)` per list.
///
/// In memory by default. With `as_file`, the table is written there as Parquet
/// and registered from it: a Ballista cluster cannot ship an in-memory table
/// to its executors, but reads a file like the extract's own tables.
pub async fn register_codelists(
    ctx: &SessionContext,
    lists: &[Codelist],
    as_file: Option<&std::path::Path>,
) -> Result<(), RulesError> {
    let mut names = Vec::new();
    let mut codes = Vec::new();
    let mut terms = Vec::new();
    for list in lists {
        for (code, term) in &list.codes {
            names.push(list.name.clone());
            codes.push(*code);
            terms.push(term.clone());
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "codelist",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            false,
        ),
        Field::new("code", DataType::Int64, false),
        Field::new("term", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(
                names
                    .iter()
                    .map(String::as_str)
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
            Arc::new(Int64Array::from(codes)),
            Arc::new(StringArray::from(terms)),
        ],
    )
    .map_err(|e| RulesError::Engine(e.into()))?;
    match as_file {
        None => {
            ctx.register_batch("codelists", batch)
                .map_err(RulesError::Engine)?;
        }
        Some(path) => {
            crate::output::write_parquet(path, batch.schema(), &[batch]).map_err(|e| {
                RulesError::Engine(datafusion::error::DataFusionError::External(
                    format!("writing {}: {e}", path.display()).into(),
                ))
            })?;
            ctx.register_parquet(
                "codelists",
                path.to_string_lossy().as_ref(),
                datafusion::prelude::ParquetReadOptions::default(),
            )
            .await
            .map_err(RulesError::Engine)?;
        }
    }
    for list in lists {
        let sql = format!(
            "SELECT code, term FROM codelists WHERE codelist = '{}'",
            list.name
        );
        let view = ctx.sql(&sql).await.map_err(RulesError::Engine)?;
        ctx.register_table(format!("codelist_{}", list.name), view.into_view())
            .map_err(RulesError::Engine)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comments_header_and_quoted_terms() {
        let text = "# source: test\ncode,term\n123,\"Lonely, often\"\n456,Isolated\n";
        let list = parse_codelist("loneliness", "loneliness.csv", text).unwrap();
        assert_eq!(
            list.codes,
            vec![(123, "Lonely, often".into()), (456, "Isolated".into())]
        );
    }

    #[test]
    fn rejects_missing_header_non_numeric_and_duplicates() {
        let missing = parse_codelist("x", "x.csv", "123,Term\n")
            .unwrap_err()
            .to_string();
        assert!(missing.contains("header"), "{missing}");
        let letters = parse_codelist("x", "x.csv", "code,term\n12a,Term\n")
            .unwrap_err()
            .to_string();
        assert!(
            letters.contains("12a") && letters.contains("line 2"),
            "{letters}"
        );
        let dup = parse_codelist("x", "x.csv", "code,term\n5,A\n5,B\n")
            .unwrap_err()
            .to_string();
        assert!(dup.contains("twice") && dup.contains("line 3"), "{dup}");
        let empty = parse_codelist("x", "x.csv", "# only\ncode,term\n")
            .unwrap_err()
            .to_string();
        assert!(empty.contains("no codes"), "{empty}");
    }

    #[test]
    fn lines_are_counted_as_an_editor_shows_them() {
        let header = parse_codelist("x", "x.csv", "# a\n# b\n\ncodes,terms\n1,A\n")
            .unwrap_err()
            .to_string();
        assert!(header.contains("line 4"), "{header}");
        let after_comment = parse_codelist("x", "x.csv", "code,term\n1,A\n# note\n2x,B\n")
            .unwrap_err()
            .to_string();
        assert!(after_comment.contains("line 4"), "{after_comment}");
        let quote = parse_codelist("x", "x.csv", "code,term\n1,\"open\n")
            .unwrap_err()
            .to_string();
        assert!(quote.contains("line 2"), "{quote}");
    }
}
