//! Segments as data (rules.md §4): `queries/segments.toml` lists them in the
//! order they are checked, each with an SQL condition over a features row.
//! phm turns the list into one `CASE` and registers it as the view
//! `segments` (patient_id, segment) over the high-need patients, which the
//! proposal's query joins and an analyst can query. Adding a segment is a
//! new block in the file.

use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use serde::Deserialize;

use crate::rules::{RuleSet, RulesError};

/// The file in the rules folder.
pub const SEGMENTS_FILE: &str = "segments.toml";

/// The view the segments are registered as.
pub const SEGMENTS_VIEW: &str = "segments";

/// One segment.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SegmentRule {
    pub name: String,
    /// SQL condition over one features row.
    pub when: String,
}

/// `queries/segments.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Segments {
    #[serde(rename = "segment")]
    pub rules: Vec<SegmentRule>,
}

impl Segments {
    /// Parses and checks the file; `origin` names it in messages.
    pub fn parse(origin: &str, text: &str) -> Result<Self, RulesError> {
        let err = |message: String| RulesError::Config {
            file: origin.to_string(),
            message,
        };
        let s: Segments = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if s.rules.is_empty() {
            return Err(err("no [[segment]] is defined".into()));
        }
        let mut names = std::collections::BTreeSet::new();
        for r in &s.rules {
            if !crate::output::names::is_plain(&r.name) || !names.insert(&r.name) {
                return Err(err(format!(
                    "segment `{}`: the name must be unique letters, digits and _",
                    r.name
                )));
            }
            if r.when.trim().is_empty() || r.when.contains(';') || r.when.contains("--") {
                return Err(err(format!(
                    "segment `{}`: `when` must be one SQL condition (no `;` or comments)",
                    r.name
                )));
            }
        }
        Ok(s)
    }

    /// Loads the file from a rules folder.
    pub fn load(rules: &RuleSet) -> Result<Self, RulesError> {
        Self::parse(
            &format!("{}/{SEGMENTS_FILE}", rules.origin),
            rules.file(SEGMENTS_FILE)?,
        )
    }

    /// The names, in order.
    pub fn names(&self) -> Vec<String> {
        self.rules.iter().map(|r| r.name.clone()).collect()
    }

    /// The view's SQL: the first segment whose condition holds, else null.
    pub fn sql(&self) -> String {
        let mut case = String::from("CASE");
        for r in &self.rules {
            // Names are plain (checked), so they need no quoting.
            case.push_str(&format!("\n    WHEN ({}) THEN '{}'", r.when, r.name));
        }
        case.push_str("\n  END");
        format!("SELECT patient_id, {case} AS segment\nFROM features\nWHERE high_need")
    }

    /// Registers the view `segments` over the registered `features`.
    pub async fn register(
        &self,
        ctx: &SessionContext,
        origin: &str,
        params: &[(String, ScalarValue)],
    ) -> Result<(), RulesError> {
        let err = |source| RulesError::Sql {
            file: format!("{origin}/{SEGMENTS_FILE}"),
            source,
        };
        let df = ctx
            .sql(&self.sql())
            .await
            .map_err(err)?
            .with_param_values(params.to_vec())
            .map_err(err)?;
        // Plan it now, so a condition naming no column is reported here, with the file.
        df.clone().create_physical_plan().await.map_err(err)?;
        ctx.register_table(SEGMENTS_VIEW, df.into_view())
            .map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_rules_md_section_4_in_order() {
        let s = Segments::load(&RuleSet::defaults()).unwrap();
        assert_eq!(
            s.names(),
            [
                "hfu_social",
                "lonely_isolated",
                "frailty",
                "core20_multimorbid",
                "plus_groups",
                "other_high_need"
            ]
        );
        let sql = s.sql();
        assert!(
            sql.contains("WHEN (lonely) THEN 'lonely_isolated'"),
            "{sql}"
        );
        assert!(
            sql.find("'hfu_social'").unwrap() < sql.find("'other_high_need'").unwrap(),
            "{sql}"
        );
    }

    /// One high-need patient per row of `flags` (the columns true for it)
    /// and ltc_count; returns each one's segment from the real view.
    async fn segments_of(rows: &[(&[&str], i32)]) -> Vec<String> {
        use datafusion::arrow::array::{BooleanArray, Int32Array, Int64Array};
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use datafusion::arrow::record_batch::RecordBatch;
        use std::sync::Arc;
        const FLAGS: [&str; 11] = [
            "hfu",
            "lonely",
            "social_needs",
            "mental_health",
            "frailty",
            "core20",
            "plus_ethnic_minority",
            "plus_inclusion_health",
            "plus_learning_disability",
            "high_need",
            "eligible",
        ];
        let mut fields = vec![Field::new("patient_id", DataType::Int64, false)];
        fields.extend(
            FLAGS
                .iter()
                .map(|f| Field::new(*f, DataType::Boolean, false)),
        );
        fields.push(Field::new("ltc_count", DataType::Int32, false));
        let mut columns: Vec<datafusion::arrow::array::ArrayRef> = vec![Arc::new(
            Int64Array::from_iter_values(1..=rows.len() as i64),
        )];
        for f in FLAGS {
            columns.push(Arc::new(BooleanArray::from(
                rows.iter()
                    .map(|(on, _)| f == "high_need" || on.contains(&f))
                    .collect::<Vec<_>>(),
            )));
        }
        columns.push(Arc::new(Int32Array::from_iter_values(
            rows.iter().map(|r| r.1),
        )));
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let ctx = SessionContext::new();
        ctx.register_batch("features", batch).unwrap();
        let s = Segments::load(&RuleSet::defaults()).unwrap();
        s.register(&ctx, "defaults", &[]).await.unwrap();
        let out = ctx
            .sql("SELECT segment FROM segments ORDER BY patient_id")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let c = crate::engine::decode::Columns::new(&out[0], "test");
        let names = c.text("segment").unwrap();
        use datafusion::arrow::array::Array;
        (0..names.len())
            .map(|i| names.value(i).to_string())
            .collect()
    }

    #[tokio::test]
    async fn the_first_segment_that_matches_wins() {
        // rules.md §4 worked by hand, one boundary per patient.
        let got = segments_of(&[
            // Everything true: hfu_social, checked first.
            (
                &["hfu", "lonely", "frailty", "core20", "plus_ethnic_minority"],
                3,
            ),
            // HFU with mental health only is still hfu_social.
            (&["hfu", "mental_health"], 0),
            // HFU without a social or mental need: the next match (frailty).
            (&["hfu", "frailty"], 0),
            (&["lonely", "frailty"], 0),
            (&["frailty", "core20"], 5),
            // Core20 needs 2 or more conditions: 2 is in, 1 is not.
            (&["core20"], 2),
            (&["core20", "plus_inclusion_health"], 1),
            (&["plus_learning_disability"], 0),
            (&[], 9),
        ])
        .await;
        assert_eq!(
            got,
            [
                "hfu_social",
                "hfu_social",
                "frailty",
                "lonely_isolated",
                "frailty",
                "core20_multimorbid",
                "plus_groups",
                "plus_groups",
                "other_high_need"
            ]
        );
    }

    #[test]
    fn bad_files_name_the_problem() {
        let ok = "[[segment]]\nname = \"a\"\nwhen = \"lonely\"\n";
        Segments::parse("s.toml", ok).unwrap();
        for (bad, says) in [
            (format!("{ok}{ok}"), "unique"),
            (ok.replace("\"a\"", "\"a b\""), "unique letters"),
            (ok.replace("lonely", "lonely; DROP"), "one SQL condition"),
            (format!("{ok}colour = 1\n"), "colour"),
            (String::new(), "segment"),
        ] {
            let e = Segments::parse("s.toml", &bad).unwrap_err().to_string();
            assert!(e.contains("s.toml") && e.contains(says), "{e}");
        }
    }
}
