//! From the scored features to the figures people compare: indicator counts
//! over the features (`indicators`), the ICB's local deprivation quintiles
//! (`local_quintiles`), exact tallies per area and deprivation group
//! (`tallies`), disclosure control (`disclosure`: which counts may be
//! published, rules.md §6), and the statistics computed from them
//! (`inequalities`, `compare`, `breakdowns`), and published figures against
//! a benchmark (`benchmarks`). The maths itself is `stats`.

pub mod benchmarks;
pub mod breakdowns;
pub mod compare;
pub mod disclosure;
pub mod indicators;
pub mod inequalities;
pub mod local_quintiles;
pub mod published;
pub mod tallies;
