//! Tools around the pipeline, not part of it: `generate` writes synthetic
//! extracts that look like an English ICB (for the sample data, tests and
//! benchmarks). Nothing in the pipeline depends on them.

pub mod generate;
