//! phm: population-health cohort analytics for NHS England primary care.
//!
//! One pipeline of stages, run by `pipeline` (its module doc has the
//! diagram; `docs/architecture.md` says where to add things):
//! `extract` (open and validate the Parquet extract) → `rules` (load
//! `queries/`, register the rule views) → `features` (the features table:
//! contract, scoring, ordering) → `proposals` (segments, ranking, capacity)
//! and `analysis` (indicator tallies, disclosure control, inequalities and
//! comparisons over `stats`) → `report` (HTML from a built `ReportData`,
//! charts from `charts`). `explain` traces a patient's flags to records and
//! `assure` runs test patients through the rules, and `import` converts
//! other layouts (an OMOP CDM) into an extract. `engine` is the DataFusion
//! session; `output` writes files atomically; `cli` has one file per
//! subcommand; `tools` holds the synthetic extract generator, which the
//! pipeline does not use.

pub mod analysis;
pub mod assure;
pub mod charts;
pub mod cli;
pub mod engine;
pub mod error;
pub mod explain;
pub mod extract;
pub mod features;
pub mod import;
pub mod output;
pub mod pipeline;
pub mod proposals;
pub mod report;
pub mod rules;
pub mod spreadsheet;
pub mod stats;
pub mod tools;

pub use error::{PhmError, Result};
