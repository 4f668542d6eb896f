//! `KEY=VALUE` changes to `rules.toml` and `scoring.toml` for a what-if run
//! (`phm cohorts --what-if hfu.gp_attended=25 points.lonely=2`): the keys as
//! the files name them, so an analyst types what they read. A key that is not
//! in the file, or a value of another type, is an input error naming it; the
//! changed file is then checked as any edited copy is.

use super::{RuleSet, RulesError};

/// One change as given, for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub key: String,
    pub value: i64,
    /// The value the rules had.
    pub was: i64,
}

fn bad(message: String) -> RulesError {
    RulesError::Config {
        file: "--what-if".into(),
        message,
    }
}

/// `rules` with every change applied; the changes in the order given.
pub fn apply(rules: RuleSet, changes: &[String]) -> Result<(RuleSet, Vec<Change>), RulesError> {
    let parse = |name: &str| -> Result<toml::Table, RulesError> {
        rules
            .file(name)?
            .parse::<toml::Table>()
            .map_err(|e| RulesError::Config {
                file: format!("{}/{name}", rules.origin),
                message: e.to_string(),
            })
    };
    let mut rules_toml = parse("rules.toml")?;
    let mut scoring_toml = parse("scoring.toml")?;
    let mut applied = Vec::new();
    for text in changes {
        let (key, value) = text.split_once('=').ok_or_else(|| {
            bad(format!(
                "`{text}`: write a change as KEY=VALUE, e.g. hfu.gp_attended=25"
            ))
        })?;
        let (key, value) = (key.trim(), value.trim());
        let number: i64 = value
            .parse()
            .map_err(|_| bad(format!("`{key}`: `{value}` is not a whole number")))?;
        let (section, name) = key.split_once('.').ok_or_else(|| {
            bad(format!(
                "`{key}`: keys are SECTION.NAME, e.g. hfu.gp_attended or points.lonely"
            ))
        })?;
        let slot = match section {
            "points" | "at_least" => component_slot(&mut scoring_toml, section, name, key)?,
            "need" => table_slot(&mut scoring_toml, "scoring.toml", section, name, key)?,
            _ => table_slot(&mut rules_toml, "rules.toml", section, name, key)?,
        };
        let was = slot
            .as_integer()
            .ok_or_else(|| bad(format!("`{key}` is not a number in its file")))?;
        *slot = toml::Value::Integer(number);
        applied.push(Change {
            key: key.to_string(),
            value: number,
            was,
        });
    }
    let text = |t: &toml::Table| toml::to_string(t).map_err(|e| bad(e.to_string()));
    let changed = rules
        .with_file("rules.toml", &text(&rules_toml)?)
        .with_file("scoring.toml", &text(&scoring_toml)?);
    Ok((changed, applied))
}

/// `[section] name = …` of a file.
fn table_slot<'a>(
    file: &'a mut toml::Table,
    file_name: &str,
    section: &str,
    name: &str,
    key: &str,
) -> Result<&'a mut toml::Value, RulesError> {
    let sections: Vec<String> = file.keys().cloned().collect();
    let table = file
        .get_mut(section)
        .and_then(toml::Value::as_table_mut)
        .ok_or_else(|| {
            bad(format!(
                "`{key}`: no section [{section}] in {file_name} (its sections: {}; and points.NAME, at_least.NAME, need.high_need_score of scoring.toml)",
                sections.join(", ")
            ))
        })?;
    let names: Vec<String> = table.keys().cloned().collect();
    table.get_mut(name).ok_or_else(|| {
        bad(format!(
            "`{key}`: [{section}] of {file_name} has no `{name}` (it has {})",
            names.join(", ")
        ))
    })
}

/// `points` or `at_least` of the `[[component]]` named `name` in scoring.toml.
fn component_slot<'a>(
    file: &'a mut toml::Table,
    field: &str,
    name: &str,
    key: &str,
) -> Result<&'a mut toml::Value, RulesError> {
    let components = file
        .get_mut("component")
        .and_then(toml::Value::as_array_mut)
        .ok_or_else(|| bad("scoring.toml has no [[component]]".into()))?;
    let names: Vec<String> = components
        .iter()
        .filter_map(|c| {
            c.get("name")
                .and_then(toml::Value::as_str)
                .map(str::to_string)
        })
        .collect();
    let component = components
        .iter_mut()
        .find(|c| c.get("name").and_then(toml::Value::as_str) == Some(name))
        .and_then(toml::Value::as_table_mut)
        .ok_or_else(|| {
            bad(format!(
                "`{key}`: no component `{name}` in scoring.toml (they are {})",
                names.join(", ")
            ))
        })?;
    component
        .get_mut(field)
        .ok_or_else(|| bad(format!("`{key}`: component `{name}` has no `{field}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(change: &str) -> String {
        apply(RuleSet::defaults(), &[change.to_string()])
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn changes_set_the_keys_the_files_name() {
        let (rules, changes) = apply(
            RuleSet::defaults(),
            &[
                "hfu.gp_attended=25".into(),
                "points.lonely = 2".into(),
                "windows.lonely=12".into(),
                "need.high_need_score=7".into(),
                "at_least.ltc4=5".into(),
            ],
        )
        .unwrap();
        let config = rules.config().unwrap();
        assert_eq!(config.hfu.gp_attended, 25);
        assert_eq!(config.windows["lonely"], 12);
        let scoring = crate::features::scoring::ScoringConfig::parse(
            "s",
            rules.file("scoring.toml").unwrap(),
        )
        .unwrap();
        let lonely = scoring
            .components
            .iter()
            .find(|c| c.name == "lonely")
            .unwrap();
        assert_eq!(lonely.points, 2);
        let ltc4 = scoring
            .components
            .iter()
            .find(|c| c.name == "ltc4")
            .unwrap();
        assert_eq!(ltc4.at_least, Some(5));
        assert_eq!(scoring.need.high_need_score, 7);
        // What the defaults had (queries/rules.toml and scoring.toml).
        let was: Vec<i64> = changes.iter().map(|c| c.was).collect();
        assert_eq!(was, [20, 3, 24, 6, 4]);
        // Components keep their order (it is the order of need_reasons).
        let default_names: Vec<String> = crate::features::scoring::ScoringConfig::parse(
            "s",
            RuleSet::defaults().file("scoring.toml").unwrap(),
        )
        .unwrap()
        .components
        .into_iter()
        .map(|c| c.name)
        .collect();
        let names: Vec<String> = scoring.components.into_iter().map(|c| c.name).collect();
        assert_eq!(names, default_names);
    }

    #[test]
    fn unknown_keys_and_wrong_values_name_the_key() {
        let m = message("hfu.gp_atended=25");
        assert!(
            m.contains("hfu.gp_atended") && m.contains("gp_attended"),
            "{m}"
        );
        let m = message("hfuu.gp_attended=25");
        assert!(m.contains("[hfuu]"), "{m}");
        let m = message("points.lonley=2");
        assert!(m.contains("lonley") && m.contains("lonely"), "{m}");
        let m = message("hfu.gp_attended=twenty");
        assert!(m.contains("hfu.gp_attended") && m.contains("twenty"), "{m}");
        let m = message("hfu.gp_attended");
        assert!(m.contains("KEY=VALUE"), "{m}");
        let m = message("at_least.lonely=2");
        assert!(m.contains("lonely") && m.contains("at_least"), "{m}");
    }
}
