//! phm: population-health cohort analytics for NHS England primary care.
//!
//! The pipeline, one module per step: `extract` (open and validate the Parquet
//! extract), `rules` (load `queries/`), `features` (run the rules' SQL on
//! DataFusion), `scoring` (unmet-need score), `key_order` (the features' rows
//! in patient order), `indicators` + `inequalities` +
//! `compare` (deprivation statistics over `stats`), `disclosure` (rules.md §6),
//! `generate` (synthetic extracts),
//! `cli` (the `phm` subcommands).

pub mod analysis;
pub mod charts;
pub mod cli;
pub mod engine;
pub mod error;
pub mod extract;
pub mod features;
pub mod generate;
pub mod output;
pub mod pipeline;
pub mod proposals;
pub mod report;
pub mod rules;
pub mod stats;

pub use error::{PhmError, Result};
