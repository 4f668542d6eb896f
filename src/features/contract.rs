//! The features table's contract at run time (rules.md §2): the names, order
//! and types of its 36 columns. `features.sql` is an analyst's to edit, so
//! after the rule views are registered the schema it produces is checked here
//! once, before anything reads a row; every later reader can then rely on it.
//! Nullability is not part of the check: DataFusion's inference of it is not
//! stable across plans, and every reader handles nulls.

use datafusion::arrow::datatypes::{DataType, Schema};

/// Every column of the features table, in order (rules.md §2).
pub const FEATURES: [(&str, DataType); 36] = [
    ("patient_id", DataType::Int64),
    ("practice_code", DataType::Utf8),
    ("pcn_code", DataType::Utf8),
    ("icb_code", DataType::Utf8),
    ("sex", DataType::Utf8),
    ("ethnicity", DataType::Utf8),
    ("age", DataType::Int32),
    ("imd_decile", DataType::Int32),
    ("imd_quintile", DataType::Int32),
    ("core20", DataType::Boolean),
    ("plus_ethnic_minority", DataType::Boolean),
    ("plus_inclusion_health", DataType::Boolean),
    ("plus_learning_disability", DataType::Boolean),
    ("ltc_count", DataType::Int32),
    ("smi", DataType::Boolean),
    ("hypertension", DataType::Boolean),
    ("copd_asthma", DataType::Boolean),
    ("lonely", DataType::Boolean),
    ("mental_health", DataType::Boolean),
    ("frailty", DataType::Boolean),
    ("carer", DataType::Boolean),
    ("social_needs", DataType::Boolean),
    ("pregnant", DataType::Boolean),
    ("ae_12m", DataType::Int32),
    ("emergency_adm_12m", DataType::Int32),
    ("gp_attended_12m", DataType::Int32),
    ("hfu_ae", DataType::Boolean),
    ("hfu_adm", DataType::Boolean),
    ("hfu_gp", DataType::Boolean),
    ("hfu", DataType::Boolean),
    ("sp_referred_12m", DataType::Boolean),
    ("sp_declined_6m", DataType::Boolean),
    ("eligible", DataType::Boolean),
    ("need_score", DataType::Int32),
    ("need_reasons", DataType::Utf8),
    ("high_need", DataType::Boolean),
];

/// The last columns, which phm's scoring adds after `features.sql`.
pub const SCORED_COLUMNS: usize = 3;

/// The columns `features.sql` itself must return.
pub fn unscored() -> &'static [(&'static str, DataType)] {
    &FEATURES[..FEATURES.len() - SCORED_COLUMNS]
}

/// `features.sql` returned a table that is not rules.md §2's.
#[derive(Debug, thiserror::Error)]
#[error(
    "{file}: the features table does not match rules.md §2 (exact column names, order and types):\n  {}",
    .problems.join("\n  ")
)]
pub struct FeaturesMismatch {
    /// The rules file, e.g. `built-in defaults/sql/features.sql`.
    pub file: String,
    /// One line per problem, each naming the column.
    pub problems: Vec<String>,
}

/// Checks the schema `features.sql` returned against [`unscored`]; every
/// problem is listed at once (a dropped, renamed, retyped or moved column).
pub fn check_unscored(schema: &Schema, file: &str) -> Result<(), FeaturesMismatch> {
    let problems = problems(schema, unscored());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(FeaturesMismatch {
            file: file.to_string(),
            problems,
        })
    }
}

fn problems(schema: &Schema, expected: &[(&str, DataType)]) -> Vec<String> {
    let found: Vec<(&str, &DataType)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    let mut out = Vec::new();
    for (name, _) in expected {
        if !found.iter().any(|(n, _)| n == name) {
            out.push(format!("column `{name}` is missing"));
        }
    }
    for (name, _) in &found {
        if !expected.iter().any(|(n, _)| n == name) {
            out.push(format!("column `{name}` is not a features column"));
        }
    }
    for (i, ((name, data_type), (want, _))) in found.iter().zip(expected).enumerate() {
        if name != want && expected.iter().any(|(n, _)| n == name) {
            out.push(format!(
                "column {} is `{name}`, expected `{want}` there",
                i + 1
            ));
        }
        let declared = expected.iter().find(|(n, _)| n == name).map(|(_, t)| t);
        if let Some(t) = declared.filter(|t| *t != *data_type) {
            out.push(format!(
                "column `{name}` has type {data_type}, expected {t}"
            ));
        }
    }
    // Columns past the end of the shorter list are already reported above
    // as missing or unexpected; types of those found are checked here.
    for (name, data_type) in found.iter().skip(expected.len()) {
        if let Some((_, t)) = expected.iter().find(|(n, _)| n == name) {
            if t != *data_type {
                out.push(format!(
                    "column `{name}` has type {data_type}, expected {t}"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Field;

    fn schema(columns: &[(&str, DataType)]) -> Schema {
        Schema::new(
            columns
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        )
    }

    fn edited(edit: impl Fn(&mut Vec<(&'static str, DataType)>)) -> Vec<String> {
        let mut columns = unscored().to_vec();
        edit(&mut columns);
        problems(&schema(&columns), unscored())
    }

    #[test]
    fn the_shipped_layout_passes() {
        assert!(check_unscored(&schema(unscored()), "f.sql").is_ok());
        assert_eq!(unscored().len(), 33);
        assert_eq!(FEATURES[33].0, "need_score");
    }

    #[test]
    fn each_kind_of_edit_names_the_column() {
        // Dropped.
        let p = edited(|c| {
            c.retain(|(n, _)| *n != "lonely");
        });
        assert!(
            p.contains(&"column `lonely` is missing".to_string()),
            "{p:?}"
        );
        // Renamed: the old name is missing, the new one is unknown.
        let p = edited(|c| c[17].0 = "is_lonely");
        assert!(
            p.contains(&"column `lonely` is missing".to_string()),
            "{p:?}"
        );
        assert!(
            p.contains(&"column `is_lonely` is not a features column".to_string()),
            "{p:?}"
        );
        // Cast to another type.
        let p = edited(|c| c[7].1 = DataType::Int64);
        assert_eq!(p, ["column `imd_decile` has type Int64, expected Int32"]);
        let p = edited(|c| c[7].1 = DataType::Utf8);
        assert_eq!(p, ["column `imd_decile` has type Utf8, expected Int32"]);
        // Two swapped: both positions are named.
        let p = edited(|c| c.swap(17, 18));
        assert_eq!(
            p,
            [
                "column 18 is `mental_health`, expected `lonely` there",
                "column 19 is `lonely`, expected `mental_health` there"
            ]
        );
    }

    #[test]
    fn the_error_names_the_file() {
        let e = check_unscored(&schema(&unscored()[..5]), "rules/sql/features.sql").unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("rules/sql/features.sql: "), "{text}");
        assert!(text.contains("column `age` is missing"), "{text}");
    }
}
