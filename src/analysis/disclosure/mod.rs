//! Statistical disclosure control v2 for every aggregated output that may
//! leave the PCN (rules.md §6), in one place so that each shared file applies
//! the same rule: a count from 1 to 7 is suppressed, every other count is
//! rounded to the nearest 5, and further counts are suppressed where totals
//! would let a small one be worked out (`protect`). Every published figure is
//! then computed from the published counts (`analysis::published`).

pub mod protect;

use serde::Serialize;

/// Largest count that is suppressed (counts 1..=this).
pub const SUPPRESS_MAX: i64 = 7;
/// Counts are shown rounded to a multiple of this.
pub const ROUND_TO: i64 = 5;
/// The note on a suppressed cell.
pub const NOTE_SUPPRESSED: &str =
    "suppressed (disclosure control): a count of 1 to 7, or one that \
     would let such a count be worked out from the others";
/// The stamp on outputs written with `--no-disclosure-control`.
pub const NOT_FOR_SHARING: &str = "NOT FOR SHARING: disclosure control was switched off \
     (--no-disclosure-control); counts are exact and small numbers are shown";

/// Whether shared outputs are protected; on unless the user asks otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Disclosure {
    /// rules.md §6 applied (the default).
    Controlled,
    /// Exact counts, for use inside the PCN only; outputs are stamped.
    Off,
}

impl Disclosure {
    /// From the `--no-disclosure-control` flag.
    pub fn from_flag(no_disclosure_control: bool) -> Self {
        if no_disclosure_control {
            Disclosure::Off
        } else {
            Disclosure::Controlled
        }
    }

    /// The line written to the output folder's manifest.
    pub fn statement(self) -> &'static str {
        match self {
            Disclosure::Controlled => {
                "Disclosure control applied (rules.md §6, v2): counts of 1 to 7 suppressed, \
                 other counts rounded to the nearest 5, and further counts suppressed where \
                 totals would give a small one away; every value, interval, SII, gap and \
                 funnel position is computed from the published counts (a standardised rate \
                 from the exact age bands, rounded to 1 decimal place)."
            }
            Disclosure::Off => NOT_FOR_SHARING,
        }
    }
}

/// rules.md §6 on one count: 1–7 → suppressed, else the nearest multiple of
/// 5 (halves cannot occur for whole counts; 0 stays 0).
pub fn protect_count(n: i64) -> Option<i64> {
    if (1..=SUPPRESS_MAX).contains(&n) {
        None
    } else {
        Some((n + ROUND_TO / 2).div_euclid(ROUND_TO) * ROUND_TO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_rules_section_6() {
        // Worked by hand: 1–7 hidden; 8 → 10, 12 → 10, 13 → 15, 0 stays 0.
        let cases = [
            (0, Some(0)),
            (1, None),
            (7, None),
            (8, Some(10)),
            (10, Some(10)),
            (12, Some(10)),
            (13, Some(15)),
            (17, Some(15)),
            (18, Some(20)),
            (1234, Some(1235)),
        ];
        for (n, want) in cases {
            assert_eq!(protect_count(n), want, "count {n}");
        }
    }

    #[test]
    fn off_says_so() {
        assert!(Disclosure::Off.statement().contains("NOT FOR SHARING"));
        assert!(Disclosure::Controlled.statement().contains("v2"));
    }
}
