//! Registers the rule files of `queries/sql/` as views, in the order they
//! build on each other, with `$as_of`, the window starts and the thresholds
//! bound as parameters (never pasted into SQL). The last is registered as
//! `features_unscored`; scoring (features/scoring.rs) is applied to its rows.

use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use super::{RuleSet, RulesError};
use crate::error::Result;

/// The rule files, in the order they build on each other. Each `sql/NAME.sql`
/// is registered as the view NAME (the last as `features_unscored`).
pub const RULE_FILES: [&str; 8] = [
    "registered",
    "coded_history",
    "activity",
    "core20plus",
    "clinical_areas",
    "hfu",
    "social_prescribing",
    "features",
];

/// Registers each rule file as a view with its parameters bound.
pub async fn register_rule_views(
    ctx: &SessionContext,
    rules: &RuleSet,
    params: &[(String, ScalarValue)],
) -> Result<()> {
    for name in RULE_FILES {
        let file = format!("sql/{name}.sql");
        let sql = rules.file(&file)?;
        let sql_err = |source| RulesError::Sql {
            file: format!("{}/{file}", rules.origin),
            source,
        };
        let df = ctx.sql(sql).await.map_err(sql_err)?;
        let df = df.with_param_values(params.to_vec()).map_err(sql_err)?;
        let view = if name == "features" {
            "features_unscored"
        } else {
            name
        };
        ctx.register_table(view, df.into_view()).map_err(sql_err)?;
    }
    Ok(())
}
