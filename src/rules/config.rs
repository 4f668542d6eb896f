//! `queries/rules.toml`: the thresholds and windows of the default rules
//! (rules.md §2). Unknown keys and out-of-range values are errors, so a typo in
//! an analyst's copy cannot silently fall back to a default.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use datafusion::scalar::ScalarValue;
use serde::Deserialize;

use super::RulesError;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    pub population: Population,
    /// Window lengths in calendar months before T, by name: each becomes the
    /// SQL parameter `$NAME_since` ("in the last N months" means
    /// `T - N months < date <= T`). A new window is a new line here.
    pub windows: BTreeMap<String, u32>,
    pub hfu: Hfu,
    pub core20: Core20,
}

/// The window the activity counts (A&E, admissions, GP) are taken over: the
/// reports name it in their footnotes.
pub const ACTIVITY_WINDOW: &str = "activity";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Age in whole years at T from which a patient is an adult.
    pub adult_age: i64,
}

/// High-frequency-use thresholds: counts in the activity window at or above these.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Hfu {
    pub ae_attendances: i64,
    pub emergency_admissions: i64,
    pub gp_attended: i64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Core20 {
    /// Core20 = IMD decile 1..=max_decile (the most deprived 20% is deciles 1–2).
    pub max_decile: i64,
}

impl RulesConfig {
    /// Parses and range-checks `rules.toml`.
    pub fn parse(origin: &str, text: &str) -> Result<Self, RulesError> {
        let config: RulesConfig = toml::from_str(text).map_err(|e| RulesError::Config {
            file: origin.to_string(),
            message: e.to_string(),
        })?;
        config.check(origin)?;
        Ok(config)
    }

    /// Months of the activity window.
    pub fn activity_months(&self) -> u32 {
        self.windows.get(ACTIVITY_WINDOW).copied().unwrap_or(12)
    }

    fn check(&self, origin: &str) -> Result<(), RulesError> {
        let bad = |key: &str, message: &str| {
            Err(RulesError::Config {
                file: origin.to_string(),
                message: format!("`{key}` {message}"),
            })
        };
        for (name, &months) in &self.windows {
            let key = format!("windows.{name}");
            if !super::is_lower_snake(name) {
                return bad(
                    &key,
                    "must be named with lower-case letters, digits and _ (it becomes $NAME_since)",
                );
            }
            if !(1..=1200).contains(&months) {
                return bad(&key, "must be a number of months from 1 to 1200");
            }
        }
        if !self.windows.contains_key(ACTIVITY_WINDOW) {
            return bad(
                &format!("windows.{ACTIVITY_WINDOW}"),
                "is missing: the activity counts (A&E, admissions, GP appointments) are taken over it",
            );
        }
        if !(0..=130).contains(&self.population.adult_age) {
            return bad("population.adult_age", "must be an age from 0 to 130");
        }
        for (key, n) in [
            ("hfu.ae_attendances", self.hfu.ae_attendances),
            ("hfu.emergency_admissions", self.hfu.emergency_admissions),
            ("hfu.gp_attended", self.hfu.gp_attended),
        ] {
            if !(1..=10_000).contains(&n) {
                return bad(key, "must be a count from 1 to 10000");
            }
        }
        if !(1..=10).contains(&self.core20.max_decile) {
            return bad("core20.max_decile", "must be an IMD decile from 1 to 10");
        }
        Ok(())
    }

    /// The named SQL parameters every rule file may use: `$as_of`, one
    /// `$NAME_since` date per window (T minus the window, exclusive), and the
    /// thresholds.
    pub fn parameters(&self, as_of: NaiveDate) -> Result<Vec<(String, ScalarValue)>, RulesError> {
        let mut params = vec![("as_of".to_string(), date_scalar(as_of))];
        for (name, &months) in &self.windows {
            params.push((
                format!("{name}_since"),
                date_scalar(months_before(as_of, months)?),
            ));
        }
        for (name, v) in [
            ("adult_age", self.population.adult_age),
            ("hfu_ae_min", self.hfu.ae_attendances),
            ("hfu_adm_min", self.hfu.emergency_admissions),
            ("hfu_gp_min", self.hfu.gp_attended),
            ("core20_max_decile", self.core20.max_decile),
        ] {
            params.push((name.to_string(), ScalarValue::Int64(Some(v))));
        }
        Ok(params)
    }
}

/// `T - N months` by calendar months; a day that does not exist in the target
/// month becomes its last day (2024-08-31 − 6 months = 2024-02-29), as SQL
/// `INTERVAL 'N months'` and extract.md define it.
pub fn months_before(as_of: NaiveDate, months: u32) -> Result<NaiveDate, RulesError> {
    as_of
        .checked_sub_months(Months::new(months))
        .ok_or_else(|| RulesError::Config {
            file: "rules.toml".into(),
            message: format!(
                "{as_of} minus {months} months is before the earliest date phm handles"
            ),
        })
}

/// A date as the Arrow Date32 scalar DataFusion compares with `Date32` columns.
pub fn date_scalar(d: NaiveDate) -> ScalarValue {
    ScalarValue::Date32(Some(
        datafusion::arrow::datatypes::Date32Type::from_naive_date(d),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_arithmetic_clamps_to_month_end() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(months_before(d("2024-08-31"), 6).unwrap(), d("2024-02-29"));
        assert_eq!(months_before(d("2023-08-31"), 6).unwrap(), d("2023-02-28"));
        assert_eq!(months_before(d("2024-03-31"), 24).unwrap(), d("2022-03-31"));
        assert_eq!(months_before(d("2024-03-31"), 9).unwrap(), d("2023-06-30"));
    }
}
