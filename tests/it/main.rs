//! phm's integration tests, as one test crate: DataFusion (and Ballista) are
//! linked once instead of once per file, which cut the test build by most of
//! its link time. Each module is one area, named as before:
//! `cargo test --release --test it catalogue::` runs one of them.

// Case tables in features_spec read best inline.
#![allow(clippy::type_complexity)]

mod common;

mod architecture;
mod assure;
#[cfg(feature = "ballista")]
mod ballista;
mod benchmarks;
mod breakdowns;
mod catalogue;
mod cli;
mod codes;
mod contract;
mod determinism;
mod disclosure;
mod explain;
mod features_spec;
mod fuzz;
mod generated_crosscheck;
mod generator;
mod golden;
mod inequalities;
mod iod_files;
mod list_evidence;
mod local_quintiles;
mod omop;
mod proposals;
mod report;
mod rule_tables;
mod trust;
mod what_if;
mod workbook;
