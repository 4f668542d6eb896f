//! Registers the rule files of `queries/sql/` as views, in the order
//! `queries/views.toml` gives, with `$as_of`, the window starts and the
//! thresholds bound as parameters (never pasted into SQL). The last is
//! registered as `features_unscored`; scoring (features/scoring.rs) is
//! applied to its rows.

use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use super::{RuleSet, RulesError};
use crate::error::Result;

/// The file that lists the rule views in order.
pub const VIEWS_FILE: &str = "views.toml";

/// The view `features.sql` is registered as; scoring adds to its rows.
pub const UNSCORED_FEATURES: &str = "features_unscored";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewOrder {
    order: Vec<String>,
}

/// The rule views in the order they build on each other (`views.toml`):
/// each name has a file `sql/NAME.sql`, none is listed twice, and the last
/// is `features`.
pub fn view_order(rules: &RuleSet) -> Result<Vec<String>, RulesError> {
    let file = format!("{}/{VIEWS_FILE}", rules.origin);
    let err = |message: String| RulesError::Config {
        file: file.clone(),
        message,
    };
    let parsed: ViewOrder =
        toml::from_str(rules.file(VIEWS_FILE)?).map_err(|e| err(e.to_string()))?;
    let mut seen = std::collections::BTreeSet::new();
    for name in &parsed.order {
        if !crate::output::names::is_plain(name) {
            return Err(err(format!(
                "`{name}` is not a view name (letters, digits, _)"
            )));
        }
        if !seen.insert(name) {
            return Err(err(format!("`{name}` is listed twice")));
        }
        rules.file(&format!("sql/{name}.sql"))?;
    }
    if parsed.order.last().map(String::as_str) != Some("features") {
        return Err(err(
            "the last view must be `features` (sql/features.sql, the features table)".into(),
        ));
    }
    Ok(parsed.order)
}

/// Registers each rule file as a view with its parameters bound.
pub async fn register_rule_views(
    ctx: &SessionContext,
    rules: &RuleSet,
    params: &[(String, ScalarValue)],
) -> Result<()> {
    for name in view_order(rules)? {
        let file = format!("sql/{name}.sql");
        let sql = rules.file(&file)?;
        let sql_err = |source| RulesError::Sql {
            file: format!("{}/{file}", rules.origin),
            source,
        };
        let df = ctx.sql(sql).await.map_err(sql_err)?;
        let df = df.with_param_values(params.to_vec()).map_err(sql_err)?;
        let view = if name == "features" {
            UNSCORED_FEATURES
        } else {
            name.as_str()
        };
        ctx.register_table(view, df.into_view()).map_err(sql_err)?;
    }
    Ok(())
}
