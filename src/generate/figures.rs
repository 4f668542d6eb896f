//! The published figures the synthetic generator aims at, with their sources
//! (`shared/reference/figures.md` unless said otherwise). Kept apart from the
//! simulation so the realism table and the generator read the same numbers.

/// Five-year age bands 0–4 … 85–89 and 90+ (19 bands, as ESP2013 uses).
pub const AGE_BANDS: [(u32, u32); 19] = [
    (0, 4),
    (5, 9),
    (10, 14),
    (15, 19),
    (20, 24),
    (25, 29),
    (30, 34),
    (35, 39),
    (40, 44),
    (45, 49),
    (50, 54),
    (55, 59),
    (60, 64),
    (65, 69),
    (70, 74),
    (75, 79),
    (80, 84),
    (85, 89),
    (90, 104),
];

/// Share of the population in each band (%). Approximates the Census 2021
/// (England and Wales) pyramid; calibrated so that 65+ = 18.6%, under-15 =
/// 17.4% and 90+ ≈ 0.9%, the published totals in figures.md §1 (the band-level
/// table itself was not reachable, so bands between those anchors are ours).
pub const AGE_BAND_SHARE: [f64; 19] = [
    5.4, 5.9, 6.1, 5.7, 6.0, 6.6, 6.8, 6.6, 6.3, 6.3, 6.8, 6.7, 5.8, 5.0, 5.0, 3.6, 2.5, 1.6, 0.9,
];

/// NHS ethnic category codes with their Census 2021 (E&W) shares (%),
/// figures.md §3: White 81.7 (British 74.4, Irish 0.9, other 6.4), Asian 9.3,
/// Black 4.0, Mixed 2.9, Other 2.1.
pub const WHITE: [(&str, f64); 3] = [("A", 74.4), ("B", 0.9), ("C", 6.4)];
pub const MINORITY: [(&str, f64); 13] = [
    ("D", 0.8),
    ("E", 0.4),
    ("F", 0.8),
    ("G", 0.9), // Mixed 2.9
    ("H", 3.1),
    ("J", 2.7),
    ("K", 1.1),
    ("L", 1.7), // Asian (with R) 9.3
    ("M", 1.0),
    ("N", 2.5),
    ("P", 0.5), // Black 4.0
    ("R", 0.7),
    ("S", 2.1), // Chinese, any other
];

/// A long-term condition the generator simulates: its codelist, age-specific
/// prevalence (0–17, 18–39, 40–64, 65–79, 80+), deprivation gradient (the
/// prevalence in decile 1 is `1 + gradient` times the middle, decile 10 `1 −
/// gradient`), and the published figure it aims at.
pub struct Condition {
    pub codelist: &'static str,
    pub by_age: [f64; 5],
    pub gradient: f64,
    pub target: Target,
}

/// A published figure: value (%), its denominator, and the source.
#[derive(Clone, Copy)]
pub struct Target {
    pub percent: f64,
    pub base: Base,
    pub source: &'static str,
}

/// Who a prevalence is counted over.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Base {
    All,
    Adults,
    Aged65,
    WomenOfChildbearingAge,
}

const QOF_0607: &str =
    "QOF 2006/07 England (gpcontract.co.uk), a floor: prevalence has risen since";
const PCND: &str = "QOF via pcnd.info 'LTC & Prevention, England' (year unstated)";

pub const CONDITIONS: &[Condition] = &[
    Condition {
        codelist: "hypertension",
        by_age: [0.001, 0.03, 0.17, 0.45, 0.60],
        gradient: 0.2,
        target: Target {
            percent: 15.3,
            base: Base::All,
            source: PCND,
        },
    },
    Condition {
        codelist: "diabetes",
        by_age: [0.002, 0.015, 0.08, 0.18, 0.17],
        gradient: 0.35,
        target: Target {
            percent: 6.5,
            base: Base::All,
            source: "QOF via pcnd.info (6.5% recorded, 7.8% expected)",
        },
    },
    Condition {
        codelist: "copd",
        by_age: [0.0, 0.001, 0.015, 0.06, 0.08],
        gradient: 0.6,
        target: Target {
            percent: 1.9,
            base: Base::All,
            source: PCND,
        },
    },
    Condition {
        codelist: "asthma",
        by_age: [0.05, 0.07, 0.065, 0.07, 0.06],
        gradient: 0.15,
        target: Target {
            percent: 5.77,
            base: Base::All,
            source: QOF_0607,
        },
    },
    Condition {
        codelist: "chd",
        by_age: [0.0, 0.001, 0.02, 0.09, 0.16],
        gradient: 0.3,
        target: Target {
            percent: 3.0,
            base: Base::All,
            source: PCND,
        },
    },
    Condition {
        codelist: "heart_failure",
        by_age: [0.0, 0.0005, 0.003, 0.025, 0.09],
        gradient: 0.3,
        target: Target {
            percent: 0.79,
            base: Base::All,
            source: QOF_0607,
        },
    },
    Condition {
        codelist: "stroke_tia",
        by_age: [0.0, 0.001, 0.008, 0.06, 0.12],
        gradient: 0.25,
        target: Target {
            percent: 1.62,
            base: Base::All,
            source: QOF_0607,
        },
    },
    Condition {
        codelist: "atrial_fibrillation",
        by_age: [0.0, 0.0005, 0.005, 0.06, 0.18],
        gradient: 0.0,
        target: Target {
            percent: 1.30,
            base: Base::All,
            source: QOF_0607,
        },
    },
    Condition {
        codelist: "ckd",
        by_age: [0.0, 0.002, 0.015, 0.08, 0.25],
        gradient: 0.2,
        target: Target {
            percent: 2.24,
            base: Base::All,
            source: QOF_0607,
        },
    },
    Condition {
        codelist: "cancer",
        by_age: [0.001, 0.003, 0.025, 0.08, 0.12],
        gradient: -0.05,
        target: Target {
            percent: 0.90,
            base: Base::All,
            source: QOF_0607,
        },
    },
    Condition {
        codelist: "dementia",
        by_age: [0.0, 0.0, 0.001, 0.02, 0.12],
        gradient: 0.1,
        target: Target {
            percent: 4.28,
            base: Base::Aged65,
            source: "QOF via pcnd.info (4.28% of registered 65+)",
        },
    },
    Condition {
        codelist: "depression",
        by_age: [0.005, 0.115, 0.125, 0.10, 0.085],
        gradient: 0.3,
        target: Target {
            percent: 9.9,
            base: Base::Adults,
            source: "QOF 2017/18 (Nursing in Practice); 11.5% on pcnd.info",
        },
    },
    Condition {
        codelist: "epilepsy",
        by_age: [0.005, 0.008, 0.008, 0.009, 0.009],
        gradient: 0.3,
        target: Target {
            percent: 0.59,
            base: Base::All,
            source: QOF_0607,
        },
    },
    Condition {
        codelist: "smi",
        by_age: [0.0005, 0.011, 0.013, 0.009, 0.007],
        gradient: 0.5,
        target: Target {
            percent: 0.72,
            base: Base::All,
            source: QOF_0607,
        },
    },
    Condition {
        codelist: "anxiety",
        by_age: [0.02, 0.09, 0.08, 0.05, 0.04],
        gradient: 0.25,
        target: Target {
            percent: 6.0,
            base: Base::All,
            source: "no national register figure found; our assumption",
        },
    },
    Condition {
        codelist: "learning_disability",
        by_age: [0.005, 0.005, 0.005, 0.003, 0.002],
        gradient: 0.3,
        target: Target {
            percent: 0.26,
            base: Base::All,
            source: QOF_0607,
        },
    },
];

/// Social and care needs: share of adults recorded (by age 18–64, 65–79, 80+),
/// the deprivation gradient, and the published figure.
pub struct Need {
    pub codelist: &'static str,
    pub by_age: [f64; 3],
    pub gradient: f64,
    pub target: Target,
}

pub const NEEDS: &[Need] = &[
    Need { codelist: "loneliness", by_age: [0.025, 0.045, 0.09], gradient: 0.3,
        target: Target { percent: 5.0, base: Base::Adults, source: "ONS OPN 2020: 5% of adults often/always lonely (survey; GP coding records fewer)" } },
    Need { codelist: "social_needs", by_age: [0.045, 0.025, 0.02], gradient: 0.7,
        target: Target { percent: 20.0, base: Base::Adults, source: "NHSE SPLW guide: 1 in 5 GP appointments are for social needs (no coded-prevalence figure found)" } },
    Need { codelist: "carer", by_age: [0.045, 0.05, 0.03], gradient: 0.1,
        target: Target { percent: 8.9, base: Base::Adults, source: "ONS Census 2021: 8.9% provide unpaid care (GP coding records fewer)" } },
    Need { codelist: "inclusion_health", by_age: [0.006, 0.002, 0.001], gradient: 0.85,
        target: Target { percent: 1.0, base: Base::Adults, source: "BRC: HIU <1% of population (no inclusion-health coding figure found)" } },
];

/// Moderate or severe frailty among 65+ (65–74, 75–84, 85+).
pub const FRAILTY_BY_AGE: [f64; 3] = [0.05, 0.14, 0.33];
pub const FRAILTY_TARGET: Target = Target {
    percent: 10.0,
    base: Base::Aged65,
    source: "NHSE proactive care (Dec 2023): more than 1 in 10 people over 65 are frail",
};

/// Women 15–44 with a pregnancy code in a year.
pub const PREGNANCY_SHARE: f64 = 0.07;

/// GP attended appointments per person-year at mid deprivation, no LTC,
/// by age (0–4, 5–17, 18–39, 40–64, 65–79, 80+); women 18–64 ×1.4.
pub const GP_RATE: [f64; 6] = [4.8, 1.9, 2.9, 3.6, 5.5, 7.8];
/// A&E attendances per person-year by the same age groups.
pub const AE_RATE: [f64; 6] = [0.42, 0.18, 0.26, 0.19, 0.26, 0.52];
/// Emergency admissions per person-year by the same age groups.
pub const EMERGENCY_RATE: [f64; 6] = [0.07, 0.025, 0.045, 0.06, 0.15, 0.34];
/// Elective admissions per person-year by the same age groups.
pub const ELECTIVE_RATE: [f64; 6] = [0.02, 0.03, 0.06, 0.14, 0.28, 0.25];

/// Social-prescribing referrals in 12 months per registered person before
/// the need multipliers (PCN targets 16–22 per 1,000, figures.md §6).
pub const SP_REFERRAL_BASE: f64 = 0.012;
