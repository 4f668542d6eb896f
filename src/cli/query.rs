//! `phm query`: run an analyst's own SQL against the extract and the rules' views.

use std::path::PathBuf;

use clap::Args;
use datafusion::scalar::ScalarValue;

use super::{ExtractArgs, Printer};
use crate::error::{PhmError, Result};
use crate::pipeline::Pipeline;

/// Run your own SQL against the extract (`patients`, `events`, `appointments`,
/// `ae_attendances`, `admissions`, `imd`), the codelists (`codelists`,
/// `codelist_NAME`), the rules' views (`registered`, `core20plus`, …) and the
/// scored `features` table.
///
/// Parameters: `$as_of`, the window starts (`$lonely_since`, …), the
/// thresholds (`$hfu_ae_min`, …) and any `--param name=value` are bound as
/// query parameters, never pasted into the SQL.
///
/// Example: phm query --extract sample-data/extract queries/examples/hfu_by_practice.sql
#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub common: ExtractArgs,
    /// A file of SQL (one statement).
    #[arg(
        value_name = "FILE.sql",
        required_unless_present = "execute",
        conflicts_with = "execute"
    )]
    pub file: Option<PathBuf>,
    /// SQL given on the command line instead of a file.
    #[arg(long, short = 'e', value_name = "SQL")]
    pub execute: Option<String>,
    /// A named parameter, `name=value` (integer, decimal, YYYY-MM-DD date, or text); use as `$name`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Write the result to a .csv, .parquet or .json file instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Show the query plan instead of running it.
    #[arg(long)]
    pub explain: bool,
}

/// Parses `name=value` into a typed parameter.
pub fn parse_param(text: &str) -> Result<(String, ScalarValue)> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| PhmError::Input(format!("--param `{text}`: expected name=value")))?;
    let name = name.trim().trim_start_matches('$');
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(PhmError::Input(format!(
            "--param `{text}`: the name must be letters, digits and _"
        )));
    }
    let scalar = if let Ok(i) = value.parse::<i64>() {
        ScalarValue::Int64(Some(i))
    } else if let Ok(f) = value.parse::<f64>() {
        ScalarValue::Float64(Some(f))
    } else if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        crate::rules::config::date_scalar(d)
    } else {
        ScalarValue::Utf8(Some(value.to_string()))
    };
    Ok((name.to_string(), scalar))
}

pub async fn run(a: QueryArgs) -> Result<()> {
    let printer = Printer {
        quiet: a.common.quiet,
    };
    let sql = match (&a.file, &a.execute) {
        (Some(f), _) => std::fs::read_to_string(f)
            .map_err(|e| PhmError::Input(format!("cannot read SQL file {}: {e}", f.display())))?,
        (None, Some(s)) => s.clone(),
        (None, None) => return Err(PhmError::Input("give a SQL file or -e \"SQL\"".into())),
    };
    let origin = a
        .file
        .as_ref()
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| "-e".into());
    let pipeline = Pipeline::open(&a.common.run_options()).await?;
    super::print_warnings(printer, &pipeline.warnings);
    if sql.to_ascii_lowercase().contains("features") {
        pipeline.ensure_features().await?;
    }
    let mut params = pipeline.rules.config()?.parameters(pipeline.as_of)?;
    for p in &a.params {
        let (name, value) = parse_param(p)?;
        params.retain(|(n, _)| *n != name);
        params.push((name, value));
    }
    // The analyst's SQL: planning and evaluation errors are theirs (exit 2),
    // running out of memory is not (exit 1); see error::engine_kind.
    let sql_err = |source: datafusion::error::DataFusionError| {
        PhmError::from(crate::rules::RulesError::Sql {
            file: origin.clone(),
            source,
        })
    };
    let df = pipeline.ctx.sql(&sql).await.map_err(sql_err)?;
    let df = df.with_param_values(params).map_err(sql_err)?;
    if a.explain {
        let plan = df.explain(false, false).map_err(sql_err)?.collect().await?;
        say!("{}", crate::output::table::pretty(&plan)?);
        return Ok(());
    }
    let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(sql_err)?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    match &a.out {
        Some(out) => {
            crate::output::table::write_table(out, schema, &batches)?;
            printer.note(format!("phm: wrote {rows} rows to {}", out.display()));
        }
        None => say!("{}", crate::output::table::pretty(&batches)?),
    }
    Ok(())
}
