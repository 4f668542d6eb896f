//! Unmet-need score and reasons per patient (rules.md §3), from the points in
//! `queries/scoring.toml`. Works on the features batches only, never the raw
//! extract, so the score can be re-run on a features file an analyst has
//! edited — and stays local when the heavy SQL runs on a cluster.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int32Array, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use serde::Deserialize;

use crate::rules::RulesError;

/// Points per component, in the order of rules.md §3 (and of `need_reasons`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Points {
    pub core20: i32,
    pub plus_ethnic_minority: i32,
    pub plus_inclusion_health: i32,
    pub plus_learning_disability: i32,
    pub lonely: i32,
    pub social_needs: i32,
    pub mental_health: i32,
    pub frailty: i32,
    pub carer: i32,
    pub ltc2: i32,
    pub ltc4: i32,
    pub hfu_ae: i32,
    pub hfu_adm: i32,
    pub hfu_gp: i32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Multimorbidity {
    pub ltc2_min: i32,
    pub ltc4_min: i32,
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
    pub points: Points,
    pub multimorbidity: Multimorbidity,
    pub need: NeedThreshold,
}

/// The boolean feature columns that score directly, in reasons order; `ltc2`
/// and `ltc4` sit between `carer` and `hfu_ae`.
const FLAGS_BEFORE_LTC: [&str; 9] = [
    "core20",
    "plus_ethnic_minority",
    "plus_inclusion_health",
    "plus_learning_disability",
    "lonely",
    "social_needs",
    "mental_health",
    "frailty",
    "carer",
];
const FLAGS_AFTER_LTC: [&str; 3] = ["hfu_ae", "hfu_adm", "hfu_gp"];

impl ScoringConfig {
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
        for (name, p) in c.components() {
            if !(0..=100).contains(&p) {
                return bad(format!("`points.{name}` must be from 0 to 100, found {p}"));
            }
        }
        let m = &c.multimorbidity;
        if !(1..=14).contains(&m.ltc2_min)
            || !(1..=14).contains(&m.ltc4_min)
            || m.ltc4_min < m.ltc2_min
        {
            return bad(
                "`multimorbidity` thresholds must be 1–14 with ltc4_min >= ltc2_min".into(),
            );
        }
        if !(0..=1000).contains(&c.need.high_need_score) {
            return bad("`need.high_need_score` must be from 0 to 1000".into());
        }
        Ok(c)
    }

    /// (name, points) in reasons order.
    pub fn components(&self) -> [(&'static str, i32); 14] {
        let p = &self.points;
        [
            ("core20", p.core20),
            ("plus_ethnic_minority", p.plus_ethnic_minority),
            ("plus_inclusion_health", p.plus_inclusion_health),
            ("plus_learning_disability", p.plus_learning_disability),
            ("lonely", p.lonely),
            ("social_needs", p.social_needs),
            ("mental_health", p.mental_health),
            ("frailty", p.frailty),
            ("carer", p.carer),
            ("ltc2", p.ltc2),
            ("ltc4", p.ltc4),
            ("hfu_ae", p.hfu_ae),
            ("hfu_adm", p.hfu_adm),
            ("hfu_gp", p.hfu_gp),
        ]
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

fn bool_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a BooleanArray, RulesError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_boolean_opt())
        .ok_or_else(|| RulesError::Config {
            file: "features".into(),
            message: format!(
                "the features query must return a Boolean column `{name}` for scoring"
            ),
        })
}

/// Appends `need_score`, `need_reasons` and `high_need` to a features batch.
pub fn score_batch(
    config: &ScoringConfig,
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, RulesError> {
    let before: Vec<&BooleanArray> = FLAGS_BEFORE_LTC
        .iter()
        .map(|n| bool_column(batch, n))
        .collect::<Result<_, _>>()?;
    let after: Vec<&BooleanArray> = FLAGS_AFTER_LTC
        .iter()
        .map(|n| bool_column(batch, n))
        .collect::<Result<_, _>>()?;
    let eligible = bool_column(batch, "eligible")?;
    let ltc = batch
        .column_by_name("ltc_count")
        .and_then(|c| c.as_primitive_opt::<Int32Type>())
        .ok_or_else(|| RulesError::Config {
            file: "features".into(),
            message: "the features query must return an Int32 column `ltc_count`".into(),
        })?;
    let comps = config.components();
    let m = &config.multimorbidity;
    let n = batch.num_rows();
    let mut scores = Vec::with_capacity(n);
    let mut high = Vec::with_capacity(n);
    let mut reasons = StringBuilder::with_capacity(n, n * 12);
    let mut text = String::new();
    for row in 0..n {
        let truth = |a: &BooleanArray| a.is_valid(row) && a.value(row);
        let ltc_count = if ltc.is_valid(row) { ltc.value(row) } else { 0 };
        let mut score = 0;
        text.clear();
        let mut add = |name: &str, points: i32, on: bool, text: &mut String| {
            if on && points != 0 {
                if !text.is_empty() {
                    text.push_str("; ");
                }
                text.push_str(name);
                text.push('+');
                text.push_str(&points.to_string());
                score += points;
            }
        };
        for (i, a) in before.iter().enumerate() {
            add(comps[i].0, comps[i].1, truth(a), &mut text);
        }
        add("ltc2", comps[9].1, ltc_count >= m.ltc2_min, &mut text);
        add("ltc4", comps[10].1, ltc_count >= m.ltc4_min, &mut text);
        for (i, a) in after.iter().enumerate() {
            add(comps[11 + i].0, comps[11 + i].1, truth(a), &mut text);
        }
        scores.push(score);
        reasons.append_value(&text);
        high.push(truth(eligible) && score >= config.need.high_need_score);
    }
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(Int32Array::from(scores)));
    columns.push(Arc::new(reasons.finish()));
    columns.push(Arc::new(BooleanArray::from(high)));
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| RulesError::Engine(e.into()))
}

/// Every flag column scoring reads (tests build unscored batches from it).
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
        let scored = score_batch(&config(), &batch, &scored_schema(&schema)).unwrap();
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
        c.points.carer = 0;
        let text = include_str!("../../queries/scoring.toml").replace("carer = 1", "carer = 0");
        assert_eq!(ScoringConfig::parse("s", &text).unwrap(), c);
        let unknown = format!(
            "{}\n[extra]\nx = 1\n",
            include_str!("../../queries/scoring.toml")
        );
        assert!(ScoringConfig::parse("s", &unknown)
            .unwrap_err()
            .to_string()
            .contains("extra"));
        let negative =
            include_str!("../../queries/scoring.toml").replace("core20 = 2", "core20 = -2");
        assert!(ScoringConfig::parse("s", &negative).is_err());
    }
}
