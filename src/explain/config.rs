//! `queries/explain.toml`: which codelists and window stand behind each flag
//! column, and which rows each count column counts (see the file's header).
//! Checked against rules.toml's windows and the codelists when read, so a
//! misspelt name is an error naming it, not a flag shown with no records.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;

use crate::rules::RulesError;

/// A window of rules.toml [windows], or any date up to T.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    Ever,
    Named(String),
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Ever => f.write_str("ever"),
            Window::Named(name) => f.write_str(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlagEvidence {
    pub codelists: Vec<String>,
    pub window: Window,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CountEvidence {
    pub table: String,
    pub date: String,
    pub window: Window,
    /// An SQL condition on the table's columns; empty for every row.
    pub condition: String,
}

/// The parsed file: columns by name, in name order.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainConfig {
    pub flags: BTreeMap<String, FlagEvidence>,
    pub counts: BTreeMap<String, CountEvidence>,
    /// Flags set when a count reaches a threshold: flag column -> count column.
    pub thresholds: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    flag: BTreeMap<String, FlagEntry>,
    #[serde(default)]
    count: BTreeMap<String, CountEntry>,
    #[serde(default)]
    threshold: BTreeMap<String, ThresholdEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdEntry {
    count: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagEntry {
    codelists: Vec<String>,
    window: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountEntry {
    table: String,
    date: String,
    window: String,
    #[serde(rename = "where")]
    condition: String,
}

/// A plain lower-case name starting with a letter: table and column names
/// are pasted into SQL.
fn plain_name(name: &str) -> bool {
    crate::rules::is_lower_snake(name) && name.starts_with(|c: char| c.is_ascii_lowercase())
}

impl ExplainConfig {
    /// Parses `text` (from `origin`), checking windows against `windows`
    /// (rules.toml) and codelists against `codelists` (the rules folder's).
    pub fn parse(
        origin: &str,
        text: &str,
        windows: &BTreeMap<String, u32>,
        codelists: &BTreeSet<String>,
    ) -> Result<Self, RulesError> {
        let check = Checker {
            origin,
            windows,
            codelists,
        };
        let file: File = toml::from_str(text).map_err(|e| check.bad(e.to_string()))?;
        let flags = check.flags(file.flag)?;
        let counts = check.counts(file.count)?;
        let thresholds = check.thresholds(file.threshold, &counts)?;
        Ok(ExplainConfig {
            flags,
            counts,
            thresholds,
        })
    }
}

/// What explain.toml's names are checked against.
struct Checker<'a> {
    origin: &'a str,
    windows: &'a BTreeMap<String, u32>,
    codelists: &'a BTreeSet<String>,
}

impl Checker<'_> {
    fn bad(&self, message: String) -> RulesError {
        RulesError::Config {
            file: self.origin.to_string(),
            message,
        }
    }

    fn window(&self, key: &str, name: &str) -> Result<Window, RulesError> {
        if name == "ever" {
            Ok(Window::Ever)
        } else if self.windows.contains_key(name) {
            Ok(Window::Named(name.to_string()))
        } else {
            Err(self.bad(format!(
                "`{key}.window` is `{name}`: not \"ever\" nor a window of rules.toml \
                 (they are {})",
                self.windows.keys().cloned().collect::<Vec<_>>().join(", ")
            )))
        }
    }

    fn column_name(&self, key: &str, column: &str) -> Result<(), RulesError> {
        if plain_name(column) {
            Ok(())
        } else {
            Err(self.bad(format!(
                "`{key}`: column names are lower-case letters, digits and `_`"
            )))
        }
    }

    fn flags(
        &self,
        entries: BTreeMap<String, FlagEntry>,
    ) -> Result<BTreeMap<String, FlagEvidence>, RulesError> {
        let mut flags = BTreeMap::new();
        for (column, entry) in entries {
            let key = format!("flag.{column}");
            self.column_name(&key, &column)?;
            if entry.codelists.is_empty() {
                return Err(self.bad(format!("`{key}.codelists` is empty")));
            }
            if let Some(unknown) = entry
                .codelists
                .iter()
                .find(|c| !self.codelists.contains(*c))
            {
                return Err(self.bad(format!(
                    "`{key}.codelists` names `{unknown}`, which is not a codelist (codelists/{unknown}.csv)"
                )));
            }
            let window = self.window(&key, &entry.window)?;
            flags.insert(
                column,
                FlagEvidence {
                    codelists: entry.codelists,
                    window,
                },
            );
        }
        Ok(flags)
    }

    fn counts(
        &self,
        entries: BTreeMap<String, CountEntry>,
    ) -> Result<BTreeMap<String, CountEvidence>, RulesError> {
        let mut counts = BTreeMap::new();
        for (column, entry) in entries {
            let key = format!("count.{column}");
            for (what, name) in [
                ("", &column),
                (".table", &entry.table),
                (".date", &entry.date),
            ] {
                if !plain_name(name) {
                    return Err(self.bad(format!(
                        "`{key}{what}` is `{name}`: names are lower-case letters, digits and `_`"
                    )));
                }
            }
            let window = self.window(&key, &entry.window)?;
            counts.insert(
                column,
                CountEvidence {
                    table: entry.table,
                    date: entry.date,
                    window,
                    condition: entry.condition,
                },
            );
        }
        Ok(counts)
    }

    fn thresholds(
        &self,
        entries: BTreeMap<String, ThresholdEntry>,
        counts: &BTreeMap<String, CountEvidence>,
    ) -> Result<BTreeMap<String, String>, RulesError> {
        let mut thresholds = BTreeMap::new();
        for (column, entry) in entries {
            let key = format!("threshold.{column}");
            self.column_name(&key, &column)?;
            if !counts.contains_key(&entry.count) {
                return Err(self.bad(format!(
                    "`{key}.count` is `{}`: not a [count.COLUMN] of this file (they are {})",
                    entry.count,
                    counts.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
            thresholds.insert(column, entry.count);
        }
        Ok(thresholds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows() -> BTreeMap<String, u32> {
        [("lonely".to_string(), 24), ("activity".to_string(), 12)].into()
    }

    fn lists() -> BTreeSet<String> {
        ["loneliness".to_string(), "smi".to_string()].into()
    }

    fn parse(text: &str) -> Result<ExplainConfig, RulesError> {
        ExplainConfig::parse("explain.toml", text, &windows(), &lists())
    }

    #[test]
    fn flags_and_counts_are_read_with_their_windows() {
        let c = parse(
            "[flag.lonely]\ncodelists = [\"loneliness\"]\nwindow = \"lonely\"\n\
             [flag.smi]\ncodelists = [\"smi\"]\nwindow = \"ever\"\n\
             [count.ae_12m]\ntable = \"ae_attendances\"\ndate = \"arrival_date\"\nwindow = \"activity\"\nwhere = \"\"\n\
             [threshold.hfu_ae]\ncount = \"ae_12m\"\n",
        )
        .unwrap();
        assert_eq!(c.thresholds["hfu_ae"], "ae_12m");
        assert_eq!(c.flags["lonely"].window, Window::Named("lonely".into()));
        assert_eq!(c.flags["smi"].window, Window::Ever);
        assert_eq!(c.counts["ae_12m"].table, "ae_attendances");
        assert_eq!(c.counts["ae_12m"].condition, "");
    }

    #[test]
    fn unknown_windows_codelists_keys_and_names_are_errors_naming_them() {
        let message = |text: &str| parse(text).unwrap_err().to_string();
        let m = message("[flag.lonely]\ncodelists = [\"loneliness\"]\nwindow = \"lonley\"\n");
        assert!(
            m.contains("flag.lonely.window") && m.contains("lonley"),
            "{m}"
        );
        let m = message("[flag.lonely]\ncodelists = [\"lonely_codes\"]\nwindow = \"ever\"\n");
        assert!(m.contains("lonely_codes"), "{m}");
        let m = message("[flag.lonely]\ncodelists = []\nwindow = \"ever\"\n");
        assert!(m.contains("empty"), "{m}");
        let m = message("[flag.lonely]\ncodelists = [\"smi\"]\nwindow = \"ever\"\nwindows = 1\n");
        assert!(m.contains("windows"), "{m}");
        let m = message(
            "[count.ae_12m]\ntable = \"ae; DROP\"\ndate = \"d\"\nwindow = \"ever\"\nwhere = \"\"\n",
        );
        assert!(m.contains("count.ae_12m.table"), "{m}");
        let m = message("[count.ae_12m]\ntable = \"t\"\ndate = \"d\"\nwindow = \"ever\"\n");
        assert!(m.contains("where"), "{m}");
        let m = message("[threshold.hfu_ae]\ncount = \"ae_12\"\n");
        assert!(
            m.contains("threshold.hfu_ae.count") && m.contains("ae_12"),
            "{m}"
        );
    }
}
