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

// ---------------------------------------------------------------------------
// The simulation's other rates and shares. These are ours, not published
// figures: each was set so that the realism table (realism.rs) comes out
// near the published figures above, or to give the rules' edge cases.

/// One uniform draw picks among several outcomes by cumulative shares: each
/// `…_UP_TO` is the running total up to and including that outcome.
///
/// No LSOA recorded (1%), then an LSOA outside England, with no decile (0.5%).
pub const NO_LSOA_UP_TO: f64 = 0.01;
pub const OUTSIDE_ENGLAND_UP_TO: f64 = 0.015;
/// Sex: female 50.5%, male 49.4%, indeterminate 0.05%, the rest unknown.
pub const FEMALE_UP_TO: f64 = 0.505;
pub const MALE_UP_TO: f64 = 0.999;
pub const INDETERMINATE_UP_TO: f64 = 0.9995;
/// Ethnicity not known (null, 7%), then not stated (Z, 6%).
pub const ETHNICITY_NOT_KNOWN_UP_TO: f64 = 0.07;
pub const ETHNICITY_NOT_STATED_UP_TO: f64 = 0.13;
/// Registered in the last year, and left in the last three years.
pub const JOINED_LAST_YEAR_SHARE: f64 = 0.08;
pub const LEFT_LAST_3_YEARS_SHARE: f64 = 0.06;
/// Annual probability of death by age (ONS life tables, rounded):
/// (lowest age of the band, probability), bands up to the next.
pub const ANNUAL_MORTALITY: [(u32, f64); 6] = [
    (0, 0.0005),
    (40, 0.003),
    (65, 0.015),
    (75, 0.045),
    (85, 0.12),
    (90, 0.2),
];
/// The latent health factor: Gamma(shape, scale), mean 1.
pub const HEALTH_SHAPE: f64 = 2.0;
pub const HEALTH_SCALE: f64 = 0.5;
/// Caps on a condition's and a need's probability for one patient.
pub const CONDITION_CAP: f64 = 0.95;
pub const NEED_CAP: f64 = 0.9;
/// Coded reviews of a condition per year since onset (last 5 years), and
/// repeat codes of a need per year since onset.
pub const CONDITION_REVIEWS_PER_YEAR: f64 = 0.5;
pub const NEED_CODES_PER_YEAR: f64 = 0.6;
/// The deprivation gradient of frailty, and the cap on its probability.
pub const FRAILTY_GRADIENT: f64 = 0.3;
/// Pregnancies: extra pregnancy codes (Poisson mean), and the share admitted
/// for maternity care.
pub const PREGNANCY_EXTRA_CODES: f64 = 2.0;
pub const MATERNITY_ADMISSION_SHARE: f64 = 0.5;
/// Blood-pressure readings per year: hypertensive, aged 40+, other adults.
pub const BP_READINGS_HYPERTENSIVE: f64 = 1.3;
pub const BP_READINGS_40_PLUS: f64 = 0.4;
pub const BP_READINGS_ADULT: f64 = 0.15;
/// Systolic readings: mean for hypertensives and others, standard deviation.
pub const BP_MEAN_HYPERTENSIVE: f64 = 142.0;
pub const BP_MEAN_OTHER: f64 = 128.0;
pub const BP_SD: f64 = 14.0;
/// Codes in no codelist per year: (base + age / per_age_years) × years, over 5 years.
pub const EVERYDAY_CODES_BASE: f64 = 2.0;
pub const EVERYDAY_CODES_PER_AGE_YEARS: f64 = 12.0;
pub const EVERYDAY_CODE_YEARS: f64 = 5.0;
/// Share of everyday codes that carry a value.
pub const EVERYDAY_VALUE_SHARE: f64 = 0.2;
/// Social-prescribing referral multipliers: lonely, social needs, mental
/// health (added to 1), children, the cap, a referral before the last 12
/// months (× the probability), a decline (× the probability, capped).
pub const SP_LONELY: f64 = 3.0;
pub const SP_SOCIAL_NEEDS: f64 = 1.5;
pub const SP_MENTAL_HEALTH: f64 = 1.0;
pub const SP_CHILD: f64 = 0.3;
pub const SP_CAP: f64 = 0.6;
pub const SP_EARLIER: f64 = 1.2;
pub const SP_DECLINED: f64 = 0.25;
pub const SP_DECLINED_CAP: f64 = 0.3;
/// GP appointments: per long-term condition, deprivation gradient, mental
/// health, women 18–64, the personal propensity's Gamma shape, and the
/// did-not-attend (with its deprivation gradient) and cancelled shares.
pub const GP_PER_LTC: f64 = 0.25;
pub const GP_GRADIENT: f64 = 0.1;
pub const GP_MENTAL_HEALTH: f64 = 0.4;
pub const GP_WOMEN_18_64: f64 = 1.4;
pub const GP_PROPENSITY_SHAPE: f64 = 1.3;
pub const GP_DNA_SHARE: f64 = 0.05;
pub const GP_DNA_GRADIENT: f64 = 0.5;
pub const GP_CANCELLED_SHARE: f64 = 0.07;
/// Appointment modes: home visits (80+, others), video, then telephone up to
/// this cumulative share; the rest face to face.
pub const HOME_VISIT_80_PLUS: f64 = 0.08;
pub const HOME_VISIT_OTHER: f64 = 0.01;
pub const VIDEO_SHARE: f64 = 0.015;
pub const TELEPHONE_UP_TO: f64 = 0.33;
/// A&E: per long-term condition, deprivation gradient, SMI, inclusion health,
/// the propensity's Gamma shape.
pub const AE_PER_LTC: f64 = 0.2;
pub const AE_GRADIENT: f64 = 0.35;
pub const AE_SMI: f64 = 1.5;
pub const AE_INCLUSION_HEALTH: f64 = 1.0;
pub const AE_PROPENSITY_SHAPE: f64 = 0.45;
/// Emergency admissions: per long-term condition, gradient, Gamma shape; and
/// the share of other (not elective) planned admissions.
pub const ADMISSION_PER_LTC: f64 = 0.35;
pub const ADMISSION_GRADIENT: f64 = 0.3;
pub const ADMISSION_PROPENSITY_SHAPE: f64 = 0.5;
pub const OTHER_ADMISSION_SHARE: f64 = 0.05;
