//! `phm whatif`: capacity sensitivity from a written proposal, no queries re-run.

use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;
use rust_decimal::Decimal;

use crate::error::{PhmError, Result};
use crate::proposals::capacity::{self, PcnCapacityInput};

/// Re-estimate capacity and coverage of a written proposal if every PCN had
/// more (or less) link-worker time — without re-running any query.
///
/// Example: phm whatif --proposal out/proposals fte=+1
#[derive(Debug, Args)]
pub struct WhatIfArgs {
    /// The folder `phm propose --out` wrote.
    #[arg(long, value_name = "DIR")]
    pub proposal: PathBuf,
    /// Changes: `fte=+1` (add), `fte=-0.5`, `fte=3` (set), `caseload=250`, `share=0.4`, `months=6`.
    #[arg(value_name = "KEY=VALUE", required = true)]
    pub changes: Vec<String>,
}

pub fn run(a: WhatIfArgs) -> Result<()> {
    let path = a.proposal.join("capacity.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| PhmError::Input(format!("{}: {e}", path.display())))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| PhmError::Input(format!("{}: {e}", path.display())))?;
    let mut months = json["period_months"].as_u64().unwrap_or(12) as u32;
    let dec = |v: &serde_json::Value| -> Decimal {
        v.as_str()
            .and_then(|s| Decimal::from_str(s).ok())
            .or_else(|| {
                v.as_f64()
                    .and_then(|f| Decimal::from_str(&format!("{f}")).ok())
            })
            .unwrap_or_default()
    };
    let mut fte_change: Option<(bool, Decimal)> = None;
    let mut caseload = None;
    let mut share = None;
    for c in &a.changes {
        let (k, v) = c
            .split_once('=')
            .ok_or_else(|| PhmError::Input(format!("`{c}`: expected KEY=VALUE")))?;
        let relative = v.starts_with('+') || v.starts_with('-');
        let value = Decimal::from_str(v.trim_start_matches('+'))
            .map_err(|_| PhmError::Input(format!("`{c}`: `{v}` is not a number")))?;
        match k {
            "fte" => fte_change = Some((relative, value)),
            "caseload" => caseload = Some(value),
            "share" => share = Some(value),
            "months" => {
                months = value
                    .to_string()
                    .parse()
                    .map_err(|_| PhmError::Input(format!("`{c}`: months must be whole")))?
            }
            other => {
                return Err(PhmError::Input(format!(
                    "unknown what-if key `{other}` (fte, caseload, share, months)"
                )))
            }
        }
    }
    say!("What if {} (period {months} months):", a.changes.join(", "));
    say!("pcn_code,link_worker_fte,capacity,high_need,coverage,fte_needed");
    for p in json["pcns"].as_array().cloned().unwrap_or_default() {
        let base = dec(&p["link_worker_fte"]);
        let fte = match fte_change {
            Some((true, d)) => (base + d).max(Decimal::ZERO),
            Some((false, d)) => d,
            None => base,
        };
        let input = PcnCapacityInput {
            link_worker_fte: fte,
            caseload_per_fte_year: caseload.unwrap_or_else(|| dec(&p["caseload_per_fte_year"])),
            proactive_share: share.unwrap_or_else(|| dec(&p["proactive_share"])),
            from_csv: true,
        };
        let high = p["high_need"].as_u64().unwrap_or(0);
        let excluded = p["excluded"].as_u64().unwrap_or(0);
        let cap = capacity::capacity(&input, months);
        let proposed = cap.min(high.saturating_sub(excluded));
        let coverage = if high == 0 {
            String::new()
        } else {
            format!("{}", proposed as f64 / high as f64)
        };
        say!(
            "{},{},{},{},{},{}",
            p["pcn_code"].as_str().unwrap_or(""),
            fte.normalize(),
            cap,
            high,
            coverage,
            capacity::fte_needed(high, &input, months).normalize()
        );
    }
    Ok(())
}
