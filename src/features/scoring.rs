//! Unmet-need score and reasons per patient (rules.md §3), from the table of
//! components in `queries/scoring.toml`: each scores its points when its
//! features column is true (Boolean) or at least a count (integer), and the
//! same table gives the order of `need_reasons`. Works on the features
//! batches only, never the raw extract, so the score can be re-run on a
//! features file an analyst has edited — and stays local when the heavy SQL
//! runs on a cluster.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int32Array, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use serde::Deserialize;

use super::contract;
use crate::rules::RulesError;

/// One scored component: `name+points` in need_reasons when it scores.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub name: String,
    /// A features column (rules.md §2).
    pub column: String,
    /// For a count column: scores when the count is at least this.
    #[serde(default)]
    pub at_least: Option<i32>,
    pub points: i32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NeedThreshold {
    pub high_need_score: i32,
}

/// `queries/scoring.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScoringConfig {
    #[serde(rename = "component")]
    pub components: Vec<Component>,
    pub need: NeedThreshold,
}

impl ScoringConfig {
    /// Parses and checks the file; `origin` names it in messages.
    pub fn parse(origin: &str, text: &str) -> Result<Self, RulesError> {
        let c: ScoringConfig = toml::from_str(text).map_err(|e| RulesError::Config {
            file: origin.to_string(),
            message: e.to_string(),
        })?;
        let bad = |m: String| {
            Err(RulesError::Config {
                file: origin.to_string(),
                message: m,
            })
        };
        let mut names = std::collections::BTreeSet::new();
        for comp in &c.components {
            let at = |m: &str| format!("component `{}`: {m}", comp.name);
            if !crate::output::names::is_plain(&comp.name) || !names.insert(&comp.name) {
                return bad(at("the name must be unique letters, digits and _"));
            }
            if !(0..=100).contains(&comp.points) {
                return bad(at(&format!(
                    "points must be from 0 to 100, found {}",
                    comp.points
                )));
            }
            match contract::unscored().iter().find(|(n, _)| *n == comp.column) {
                None => {
                    return bad(at(&format!(
                        "`{}` is not a features column (rules.md §2)",
                        comp.column
                    )))
                }
                Some((_, DataType::Boolean)) if comp.at_least.is_some() => {
                    return bad(at(
                        "`at_least` is for count columns; a Boolean column scores when true",
                    ))
                }
                Some((_, DataType::Int32)) if comp.at_least.is_none() => {
                    return bad(at("a count column needs `at_least`"))
                }
                Some((_, DataType::Boolean | DataType::Int32)) => {}
                Some((_, t)) => {
                    return bad(at(&format!(
                        "column `{}` is {t}; components score Boolean or count columns",
                        comp.column
                    )))
                }
            }
        }
        if !(0..=1000).contains(&c.need.high_need_score) {
            return bad("`need.high_need_score` must be from 0 to 1000".into());
        }
        Ok(c)
    }

    /// (name, points) in reasons order.
    pub fn components(&self) -> impl Iterator<Item = (&str, i32)> {
        self.components.iter().map(|c| (c.name.as_str(), c.points))
    }
}

/// The schema of `features` with the three score columns appended.
pub fn scored_schema(features: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = features
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("need_score", DataType::Int32, false));
    fields.push(Field::new("need_reasons", DataType::Utf8, false));
    fields.push(Field::new("high_need", DataType::Boolean, false));
    Arc::new(Schema::new(fields))
}

/// A component's column in a batch, ready to test row by row.
enum Scores<'a> {
    When(&'a BooleanArray),
    AtLeast(&'a Int32Array, i32),
}

impl Scores<'_> {
    fn on(&self, row: usize) -> bool {
        match self {
            Scores::When(a) => a.is_valid(row) && a.value(row),
            Scores::AtLeast(a, min) => a.is_valid(row) && a.value(row) >= *min,
        }
    }
}

fn missing(name: &str, wanted: &str) -> RulesError {
    RulesError::Config {
        file: "features".into(),
        message: format!("the features query must return {wanted} column `{name}` for scoring"),
    }
}

/// Each component's column in `batch`, with its name and points, in reasons order.
fn component_inputs<'a>(
    config: &'a ScoringConfig,
    batch: &'a RecordBatch,
) -> Result<Vec<(Scores<'a>, &'a str, i32)>, RulesError> {
    let column = |name: &str| batch.column_by_name(name);
    config
        .components
        .iter()
        .map(|c| {
            let scores = match c.at_least {
                None => Scores::When(
                    column(&c.column)
                        .and_then(|a| a.as_boolean_opt())
                        .ok_or_else(|| missing(&c.column, "a Boolean"))?,
                ),
                Some(min) => Scores::AtLeast(
                    column(&c.column)
                        .and_then(|a| a.as_primitive_opt::<Int32Type>())
                        .ok_or_else(|| missing(&c.column, "an Int32"))?,
                    min,
                ),
            };
            Ok((scores, c.name.as_str(), c.points))
        })
        .collect()
}

/// The components that score for `row` of a features batch, as (name,
/// points), in reasons order: what `need_reasons` spells out (phm explain).
pub fn scoring_components<'a>(
    config: &'a ScoringConfig,
    batch: &'a RecordBatch,
    row: usize,
) -> Result<Vec<(&'a str, i32)>, RulesError> {
    Ok(component_inputs(config, batch)?
        .into_iter()
        .filter(|(input, _, points)| *points != 0 && input.on(row))
        .map(|(_, name, points)| (name, points))
        .collect())
}

/// Appends `need_score`, `need_reasons` and `high_need` to a features batch.
pub fn score_batch(
    config: &ScoringConfig,
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, RulesError> {
    let column = |name: &str| batch.column_by_name(name);
    let inputs = component_inputs(config, batch)?;
    let eligible = column("eligible")
        .and_then(|a| a.as_boolean_opt())
        .ok_or_else(|| missing("eligible", "a Boolean"))?;
    let n = batch.num_rows();
    let mut scores = Vec::with_capacity(n);
    let mut high = Vec::with_capacity(n);
    let mut reasons = StringBuilder::with_capacity(n, n * 12);
    let mut text = String::new();
    // "name+points", spelt once per batch rather than once per scoring row.
    let labels: Vec<String> = inputs
        .iter()
        .map(|(_, name, points)| format!("{name}+{points}"))
        .collect();
    for row in 0..n {
        let mut score = 0;
        text.clear();
        for ((input, _, points), label) in inputs.iter().zip(&labels) {
            if *points != 0 && input.on(row) {
                if !text.is_empty() {
                    text.push_str("; ");
                }
                text.push_str(label);
                score += points;
            }
        }
        scores.push(score);
        reasons.append_value(&text);
        high.push(
            eligible.is_valid(row) && eligible.value(row) && score >= config.need.high_need_score,
        );
    }
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(Int32Array::from(scores)));
    columns.push(Arc::new(reasons.finish()));
    columns.push(Arc::new(BooleanArray::from(high)));
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| RulesError::Engine(e.into()))
}

/// Every flag column the default scoring reads, written out by hand from
/// rules.md §3 (tests build unscored batches from it).
#[cfg(test)]
pub(crate) const INPUT_FLAGS: [&str; 13] = [
    "core20",
    "plus_ethnic_minority",
    "plus_inclusion_health",
    "plus_learning_disability",
    "lonely",
    "social_needs",
    "mental_health",
    "frailty",
    "carer",
    "hfu_ae",
    "hfu_adm",
    "hfu_gp",
    "eligible",
];

#[cfg(test)]
mod tests {
    //! Hand-worked scores from the table in rules.md §3.
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, Int32Array};

    const FLAGS: [&str; 13] = INPUT_FLAGS;

    fn config() -> ScoringConfig {
        ScoringConfig::parse("scoring.toml", include_str!("../../queries/scoring.toml")).unwrap()
    }

    /// One patient with the given flags true and `ltc` conditions; returns (score, reasons, high_need).
    fn score(on: &[&str], ltc: i32) -> (i32, String, bool) {
        score_with(&config(), on, ltc)
    }

    fn score_with(config: &ScoringConfig, on: &[&str], ltc: i32) -> (i32, String, bool) {
        let mut fields = Vec::new();
        let mut cols: Vec<ArrayRef> = Vec::new();
        for f in FLAGS {
            fields.push(Field::new(f, DataType::Boolean, false));
            cols.push(Arc::new(BooleanArray::from(vec![on.contains(&f)])));
        }
        fields.push(Field::new("ltc_count", DataType::Int32, false));
        cols.push(Arc::new(Int32Array::from(vec![ltc])));
        let schema = Schema::new(fields);
        let batch = RecordBatch::try_new(Arc::new(schema.clone()), cols).unwrap();
        let scored = score_batch(config, &batch, &scored_schema(&schema)).unwrap();
        let n = scored.num_columns();
        let s = scored.column(n - 3).as_primitive::<Int32Type>().value(0);
        let r = scored.column(n - 2).as_string::<i32>().value(0).to_string();
        let h = scored.column(n - 1).as_boolean();
        assert!(h.is_valid(0));
        (s, r, h.value(0))
    }

    #[test]
    fn every_component_scores_its_points_alone() {
        let cases = [
            ("core20", 2),
            ("plus_ethnic_minority", 1),
            ("plus_inclusion_health", 2),
            ("plus_learning_disability", 1),
            ("lonely", 3),
            ("social_needs", 2),
            ("mental_health", 2),
            ("frailty", 2),
            ("carer", 1),
            ("hfu_ae", 3),
            ("hfu_adm", 2),
            ("hfu_gp", 2),
        ];
        for (flag, points) in cases {
            assert_eq!(
                score(&[flag, "eligible"], 0),
                (points, format!("{flag}+{points}"), false),
                "{flag}"
            );
        }
    }

    #[test]
    fn multimorbidity_points_by_ltc_count() {
        assert_eq!(score(&[], 0), (0, String::new(), false));
        assert_eq!(score(&[], 1), (0, String::new(), false));
        assert_eq!(score(&[], 2), (1, "ltc2+1".into(), false));
        assert_eq!(score(&[], 3), (1, "ltc2+1".into(), false));
        assert_eq!(score(&[], 4), (2, "ltc2+1; ltc4+1".into(), false));
        assert_eq!(score(&[], 14), (2, "ltc2+1; ltc4+1".into(), false));
    }

    #[test]
    fn all_flags_at_once_in_table_order() {
        // 2+1+2+1+3+2+2+2+1 + 1+1 + 3+2+2 = 25.
        let all: Vec<&str> = FLAGS.to_vec();
        let (s, r, h) = score(&all, 5);
        assert_eq!(s, 25);
        assert_eq!(
            r,
            "core20+2; plus_ethnic_minority+1; plus_inclusion_health+2; plus_learning_disability+1; lonely+3; social_needs+2; mental_health+2; frailty+2; carer+1; ltc2+1; ltc4+1; hfu_ae+3; hfu_adm+2; hfu_gp+2"
        );
        assert!(h);
    }

    #[test]
    fn a_new_component_is_a_new_block() {
        // Scoring smi (a features column the defaults do not score) and 3+
        // A&E attendances needs only two more blocks in scoring.toml.
        let text = format!(
            "{}\n[[component]]\nname = \"smi\"\ncolumn = \"smi\"\npoints = 2\n",
            include_str!("../../queries/scoring.toml").replace("[need]", "[[component]]\nname = \"ae3\"\ncolumn = \"ae_12m\"\nat_least = 3\npoints = 1\n\n[need]")
        );
        let c = ScoringConfig::parse("s", &text).unwrap();
        assert_eq!(c.components.last().unwrap().name, "smi");
        let schema = Schema::new(vec![
            Field::new("smi", DataType::Boolean, false),
            Field::new("ae_12m", DataType::Int32, false),
            Field::new("eligible", DataType::Boolean, false),
        ]);
        let only: ScoringConfig = ScoringConfig {
            components: c
                .components
                .iter()
                .filter(|x| x.name == "smi" || x.name == "ae3")
                .cloned()
                .collect(),
            need: c.need.clone(),
        };
        let batch = RecordBatch::try_new(
            Arc::new(schema.clone()),
            vec![
                Arc::new(BooleanArray::from(vec![true, false])),
                Arc::new(Int32Array::from(vec![3, 2])),
                Arc::new(BooleanArray::from(vec![true, true])),
            ],
        )
        .unwrap();
        let scored = score_batch(&only, &batch, &scored_schema(&schema)).unwrap();
        let reasons = scored.column(4).as_string::<i32>();
        assert_eq!(reasons.value(0), "ae3+1; smi+2");
        assert_eq!(reasons.value(1), "");
    }

    #[test]
    fn high_need_needs_eligibility_and_the_threshold() {
        // lonely 3 + social 2 = 5: below 6. + carer = 6: high need when eligible.
        assert!(!score(&["lonely", "social_needs", "eligible"], 0).2);
        assert!(score(&["lonely", "social_needs", "carer", "eligible"], 0).2);
        assert!(
            !score(&["lonely", "social_needs", "carer"], 0).2,
            "not eligible"
        );
    }

    #[test]
    fn zero_points_never_appear_in_reasons_and_bad_config_is_an_error() {
        let mut c = config();
        c.components
            .iter_mut()
            .find(|c| c.name == "carer")
            .unwrap()
            .points = 0;
        let text = include_str!("../../queries/scoring.toml").replace(
            "name = \"carer\"\ncolumn = \"carer\"\npoints = 1",
            "name = \"carer\"\ncolumn = \"carer\"\npoints = 0",
        );
        assert_eq!(ScoringConfig::parse("s", &text).unwrap(), c);
        let (s, r, _) = score_with(&c, &["carer", "lonely", "eligible"], 0);
        assert_eq!((s, r.as_str()), (3, "lonely+3"));
        let unknown = format!(
            "{}\n[extra]\nx = 1\n",
            include_str!("../../queries/scoring.toml")
        );
        assert!(ScoringConfig::parse("s", &unknown)
            .unwrap_err()
            .to_string()
            .contains("extra"));
        let negative =
            include_str!("../../queries/scoring.toml").replacen("points = 2", "points = -2", 1);
        assert!(ScoringConfig::parse("s", &negative).is_err());
        for (from, to, says) in [
            (
                "column = \"lonely\"",
                "column = \"lonley\"",
                "not a features column",
            ),
            (
                "column = \"carer\"",
                "column = \"carer\"\nat_least = 1",
                "at_least",
            ),
            ("at_least = 2\n", "", "needs `at_least`"),
            (
                "column = \"frailty\"",
                "column = \"need_reasons\"",
                "not a features column",
            ),
            ("name = \"hfu_gp\"", "name = \"hfu_ae\"", "unique"),
        ] {
            let text = include_str!("../../queries/scoring.toml").replacen(from, to, 1);
            let e = ScoringConfig::parse("s.toml", &text)
                .unwrap_err()
                .to_string();
            assert!(e.contains("s.toml") && e.contains(says), "{from}: {e}");
        }
    }
}
