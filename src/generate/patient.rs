//! Simulates one patient's record: demographics, registration, conditions,
//! needs, and activity, appended to column buffers. Deprivation, age and
//! multimorbidity raise rates as the figures in `figures.rs` describe; a
//! per-patient latent health factor links conditions and use, so
//! multimorbidity and high-frequency use cluster as they do in real data.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson};

use super::figures::{self, AGE_BANDS, AGE_BAND_SHARE};
use super::geography::Geography;
use super::realism::Tally;

/// Codes the simulation draws from, by codelist name.
pub struct CodeBook {
    pub lists: std::collections::BTreeMap<String, Vec<i64>>,
    pub uncoded: Vec<i64>,
    pub blood_pressure: Vec<i64>,
}

impl CodeBook {
    fn pick(&self, list: &str, rng: &mut ChaCha8Rng) -> Option<i64> {
        self.lists
            .get(list)
            .and_then(|codes| codes.choose(rng).copied())
    }
}

/// Columns of the five activity tables and of `patients` for one chunk.
#[derive(Default)]
pub struct Buffers {
    pub patient_id: Vec<i64>,
    pub practice_code: Vec<String>,
    pub pcn_code: Vec<String>,
    pub icb_code: Vec<String>,
    pub lsoa_code: Vec<Option<String>>,
    pub sex: Vec<&'static str>,
    pub birth_date: Vec<i32>,
    pub ethnicity: Vec<Option<&'static str>>,
    pub registered_from: Vec<i32>,
    pub registered_to: Vec<Option<i32>>,
    pub death_date: Vec<Option<i32>>,

    pub ev_patient: Vec<i64>,
    pub ev_code: Vec<i64>,
    pub ev_date: Vec<i32>,
    pub ev_value: Vec<Option<f64>>,

    pub ap_patient: Vec<i64>,
    pub ap_date: Vec<i32>,
    pub ap_status: Vec<&'static str>,
    pub ap_mode: Vec<&'static str>,

    pub ae_patient: Vec<i64>,
    pub ae_date: Vec<i32>,

    pub adm_patient: Vec<i64>,
    pub adm_date: Vec<i32>,
    pub adm_method: Vec<&'static str>,
}

/// Window starts (exclusive) as days since 1970, for the realism tally.
#[derive(Clone, Copy)]
pub struct Windows {
    pub t: i32,
    pub m6: i32,
    pub m9: i32,
    pub m12: i32,
    pub m24: i32,
}

pub struct Context<'a> {
    pub geo: &'a Geography,
    pub codes: &'a CodeBook,
    pub w: Windows,
    pub after_t_share: f64,
}

/// Pseudonymised id: an odd multiplier mod 2^32 is a bijection, so ids are
/// unique, stable for a seed, and unrelated to practice order.
pub fn patient_id(index: u64) -> i64 {
    1_000_000_000 + ((index.wrapping_mul(0x9E37_79B1)) & 0xFFFF_FFFF) as i64
}

fn age6(age: u32) -> usize {
    match age {
        0..=4 => 0,
        5..=17 => 1,
        18..=39 => 2,
        40..=64 => 3,
        65..=79 => 4,
        _ => 5,
    }
}

fn age5(age: u32) -> usize {
    match age {
        0..=17 => 0,
        18..=39 => 1,
        40..=64 => 2,
        65..=79 => 3,
        _ => 4,
    }
}

/// Deprivation multiplier: `1 + g` in decile 1, 1 in the middle, `1 − g` in decile 10.
fn dep(decile: Option<i32>, g: f64) -> f64 {
    let d = decile.map(f64::from).unwrap_or(5.5);
    (1.0 + g * (5.5 - d) / 4.5).max(0.0)
}

fn poisson(mean: f64, rng: &mut ChaCha8Rng) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean)
        .map(|p| p.sample(rng) as u64)
        .unwrap_or(0)
}

/// A day in `(from, to]`, or `to` when the range is empty.
fn day_in(from: i32, to: i32, rng: &mut ChaCha8Rng) -> i32 {
    if to <= from {
        to
    } else {
        rng.gen_range(from + 1..=to)
    }
}

const YEAR: i32 = 365;

fn sample_age(decile: Option<i32>, rng: &mut ChaCha8Rng) -> u32 {
    // Deprived areas are younger: fewer older people, more young adults.
    let d = decile.map(f64::from).unwrap_or(5.5);
    let old = 0.82 + 0.04 * (d - 1.0);
    let young = 1.12 - 0.025 * (d - 1.0);
    let weights: Vec<f64> = AGE_BAND_SHARE
        .iter()
        .zip(AGE_BANDS)
        .map(|(w, (lo, _))| {
            // Patients who die before T are extra to the living population the
            // shares describe, so inflate each band by its three-year deaths.
            let w = w / (1.0 - 3.0 * annual_mortality(lo));
            if lo >= 65 {
                w * old
            } else if (20..40).contains(&lo) {
                w * young
            } else {
                w
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut u = rng.gen_range(0.0..total);
    for (w, (lo, hi)) in weights.iter().zip(AGE_BANDS) {
        if u < *w {
            if lo == 90 {
                // 90+: ages thin out quickly.
                let extra = (-(rng.gen_range(0.0f64..1.0)).ln() * 3.0) as u32;
                return (90 + extra).min(hi);
            }
            return rng.gen_range(lo..=hi);
        }
        u -= w;
    }
    40
}

/// Annual probability of death by age (ONS life tables, rounded).
fn annual_mortality(age: u32) -> f64 {
    match age {
        0..=39 => 0.0005,
        40..=64 => 0.003,
        65..=74 => 0.015,
        75..=84 => 0.045,
        85..=89 => 0.12,
        _ => 0.2,
    }
}

fn pick_weighted<'a>(items: &[(&'a str, f64)], rng: &mut ChaCha8Rng) -> &'a str {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut u = rng.gen_range(0.0..total);
    for (code, w) in items {
        if u < *w {
            return code;
        }
        u -= w;
    }
    items[items.len() - 1].0
}

/// Emits `n` events of `list` in `(from, to]`.
#[allow(clippy::too_many_arguments)]
fn code_events(
    b: &mut Buffers,
    ctx: &Context,
    pid: i64,
    list: &str,
    n: u64,
    from: i32,
    to: i32,
    rng: &mut ChaCha8Rng,
) -> Vec<i32> {
    let mut dates = Vec::new();
    if to <= from {
        return dates;
    }
    for _ in 0..n {
        if let Some(code) = ctx.codes.pick(list, rng) {
            let date = day_in(from, to, rng);
            b.ev_patient.push(pid);
            b.ev_code.push(code);
            b.ev_date.push(date);
            b.ev_value.push(None);
            dates.push(date);
        }
    }
    dates
}

fn latest(dates: &[i32]) -> Option<i32> {
    dates.iter().copied().max()
}

/// Simulates patient `index` and appends it to `b`; counts it in `tally` when
/// registered at T.
pub fn simulate(
    index: u64,
    ctx: &Context,
    b: &mut Buffers,
    tally: &mut Tally,
    rng: &mut ChaCha8Rng,
) {
    let w = ctx.w;
    let t = w.t;
    let practice = ctx.geo.practice_of(index);
    let pcn = &ctx.geo.pcns[practice.pcn];
    let pid = patient_id(index);

    // Residence: 1% no LSOA recorded, 0.5% outside England (no IMD decile).
    let lsoa_roll: f64 = rng.gen();
    let (lsoa_code, decile) = if lsoa_roll < 0.01 {
        (None, None)
    } else if lsoa_roll < 0.015 {
        (Some(format!("W01{:06}", rng.gen_range(0..2_000))), None)
    } else {
        let l = &ctx.geo.lsoas[*pcn.lsoas.choose(rng).expect("every PCN has LSOAs")];
        (Some(l.code.clone()), Some(l.decile))
    };

    let sex_roll: f64 = rng.gen();
    let sex = if sex_roll < 0.505 {
        "F"
    } else if sex_roll < 0.999 {
        "M"
    } else if sex_roll < 0.9995 {
        "I"
    } else {
        "U"
    };
    let female = sex == "F";
    let sampled_age = sample_age(decile, rng);
    let birth = {
        let days = sampled_age as i32 * YEAR + sampled_age as i32 / 4 + rng.gen_range(0..YEAR);
        first_of_month(t - days)
    };
    // The age every rule sees: whole years at T from the stored birth date.
    let age = age_at(birth, t);

    // Ethnicity: PCN mix, then recording gaps (Z not stated 6%, null 7%).
    let eth_roll: f64 = rng.gen();
    let ethnicity = if eth_roll < 0.07 {
        None
    } else if eth_roll < 0.13 {
        Some("Z")
    } else if rng.gen_bool(pcn.minority_share) {
        Some(pick_weighted(&figures::MINORITY, rng))
    } else {
        Some(pick_weighted(&figures::WHITE, rng))
    };

    // Registration: 8% joined in the last year, 6% left in the last 3 years,
    // deaths by age-specific annual mortality over 3 years.
    let registered_from = if age == 0 || rng.gen_bool(0.08) {
        day_in(birth.max(t - YEAR), t, rng).max(birth)
    } else {
        day_in(birth.max(t - 25 * YEAR), t - YEAR, rng)
    };
    let death_date = if rng.gen_bool((annual_mortality(age) * 3.0).min(1.0)) {
        Some(day_in(registered_from.max(t - 3 * YEAR), t, rng))
    } else {
        None
    };
    let registered_to = if death_date.is_none() && rng.gen_bool(0.06) {
        let d = day_in(registered_from.max(t - 3 * YEAR), t, rng);
        (d > registered_from).then_some(d)
    } else {
        None
    };
    let end = [Some(t), death_date, registered_to]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(t);
    let registered_at_t = registered_from <= t
        && registered_to.is_none_or(|d| d > t)
        && death_date.is_none_or(|d| d > t);

    b.patient_id.push(pid);
    b.practice_code.push(practice.practice_code.clone());
    b.pcn_code.push(pcn.pcn_code.clone());
    b.icb_code.push(pcn.icb_code.clone());
    b.lsoa_code.push(lsoa_code);
    b.sex.push(sex);
    b.birth_date.push(birth);
    b.ethnicity.push(ethnicity);
    b.registered_from.push(registered_from);
    b.registered_to.push(registered_to);
    b.death_date.push(death_date);

    // Latent health: mean 1, links conditions with each other and with use.
    let health = Gamma::new(2.0, 0.5).expect("valid gamma").sample(rng);
    let a5 = age5(age);
    let history_start = birth.max(t - 20 * YEAR);

    let mut rec = Record::default();
    for (ci, c) in figures::CONDITIONS.iter().enumerate() {
        let p = (c.by_age[a5] * dep(decile, c.gradient) * health).min(0.95);
        if !rng.gen_bool(p) {
            continue;
        }
        let onset = day_in(history_start, end, rng);
        let mut dates = code_events(b, ctx, pid, c.codelist, 1, onset - 1, onset, rng);
        // Reviews: about one coded review every two years since onset, last 5 years.
        let review_from = onset.max(t - 5 * YEAR);
        let n = poisson(0.5 * (end - review_from).max(0) as f64 / YEAR as f64, rng);
        dates.extend(code_events(
            b,
            ctx,
            pid,
            c.codelist,
            n,
            review_from,
            end,
            rng,
        ));
        if !dates.is_empty() {
            rec.conditions[ci] = latest(&dates);
        }
    }

    let adult = age >= 18;
    if adult {
        let a3 = match age {
            18..=64 => 0,
            65..=79 => 1,
            _ => 2,
        };
        for (ni, need) in figures::NEEDS.iter().enumerate() {
            let p = (need.by_age[a3] * dep(decile, need.gradient) * health.sqrt()).min(0.9);
            if !rng.gen_bool(p) {
                continue;
            }
            let onset = day_in(t - 6 * YEAR, end, rng);
            let mut dates = code_events(b, ctx, pid, need.codelist, 1, onset - 1, onset, rng);
            let n = poisson(0.6 * (end - onset).max(0) as f64 / YEAR as f64, rng);
            dates.extend(code_events(b, ctx, pid, need.codelist, n, onset, end, rng));
            rec.needs[ni] = latest(&dates);
        }
    }
    if age >= 65 {
        let a = match age {
            65..=74 => 0,
            75..=84 => 1,
            _ => 2,
        };
        let p = (figures::FRAILTY_BY_AGE[a] * dep(decile, 0.3) * health.sqrt()).min(0.9);
        if rng.gen_bool(p) {
            let onset = day_in(t - 4 * YEAR, end, rng);
            let n = 1 + poisson((end - onset).max(0) as f64 / YEAR as f64, rng);
            rec.frailty = latest(&code_events(b, ctx, pid, "frailty", n, onset - 1, end, rng));
        }
    }
    let childbearing = female && (15..=44).contains(&age);
    if childbearing && rng.gen_bool(figures::PREGNANCY_SHARE) {
        let first = day_in(t - YEAR, end, rng);
        let n = 1 + poisson(2.0, rng);
        rec.pregnancy = latest(&code_events(
            b,
            ctx,
            pid,
            "pregnancy",
            n,
            first - 1,
            (first + 270).min(end),
            rng,
        ));
        if rng.gen_bool(0.5) {
            b.adm_patient.push(pid);
            b.adm_date.push(day_in(first, (first + 280).min(end), rng));
            b.adm_method.push("maternity");
        }
    }

    // Blood pressure readings (with values): annual for hypertensives, less often otherwise.
    let hypertensive = rec.conditions[0].is_some();
    let bp_rate = if hypertensive {
        1.3
    } else if age >= 40 {
        0.4
    } else if adult {
        0.15
    } else {
        0.0
    };
    let n_bp = poisson(bp_rate * 3.0, rng);
    for _ in 0..n_bp {
        if let Some(&code) = ctx.codes.blood_pressure.choose(rng) {
            b.ev_patient.push(pid);
            b.ev_code.push(code);
            b.ev_date
                .push(day_in((t - 3 * YEAR).max(registered_from), end, rng));
            b.ev_value.push(Some(
                (if hypertensive { 142.0 } else { 128.0 } + 14.0 * standard_normal(rng)).round(),
            ));
        }
    }
    // Everyday codes in no list: most of a GP record.
    let n_noise = poisson((2.0 + age as f64 / 12.0) * 5.0 * health.sqrt(), rng);
    for _ in 0..n_noise {
        if let Some(&code) = ctx.codes.uncoded.choose(rng) {
            b.ev_patient.push(pid);
            b.ev_code.push(code);
            b.ev_date.push(day_in((t - 5 * YEAR).max(birth), end, rng));
            b.ev_value.push(if rng.gen_bool(0.2) {
                Some((rng.gen_range(10.0..90.0f64) * 10.0).round() / 10.0)
            } else {
                None
            });
        }
    }

    let ltc = rec.conditions[..14].iter().filter(|c| c.is_some()).count() as f64;
    let smi = rec.conditions[13].is_some();
    let mental = [11usize, 14]
        .iter()
        .any(|&i| rec.conditions[i].is_some_and(|d| d > w.m24));
    let lonely = rec.needs[0].is_some_and(|d| d > w.m24);
    let social = rec.needs[1].is_some_and(|d| d > w.m24);
    let inclusion = rec.needs[3].is_some();

    // Social prescribing: referrals rise with loneliness and social need, and
    // with how active the PCN's link workers are.
    let need_mult =
        1.0 + 3.0 * lonely as u8 as f64 + 1.5 * social as u8 as f64 + 1.0 * mental as u8 as f64;
    let p_ref =
        (figures::SP_REFERRAL_BASE * pcn.sp_activity * need_mult * if adult { 1.0 } else { 0.3 })
            .min(0.6);
    if rng.gen_bool(p_ref) {
        rec.sp_referral = latest(&code_events(
            b,
            ctx,
            pid,
            "sp_referral",
            1,
            w.m12.max(registered_from),
            end,
            rng,
        ));
    }
    if rng.gen_bool((p_ref * 1.2).min(0.6)) {
        code_events(
            b,
            ctx,
            pid,
            "sp_referral",
            1,
            (t - 3 * YEAR).max(registered_from),
            w.m12.min(end),
            rng,
        );
    }
    if rng.gen_bool((p_ref * 0.25).min(0.3)) {
        rec.sp_declined = latest(&code_events(
            b,
            ctx,
            pid,
            "sp_declined",
            1,
            w.m12.max(registered_from),
            end,
            rng,
        ));
    }

    // Activity, per year for the last three years, with persistent personal
    // propensities (gamma frailties) so counts are over-dispersed.
    let a6 = age6(age);
    let mut gp_mean = figures::GP_RATE[a6]
        * pcn.gp_access
        * (1.0 + 0.25 * ltc)
        * dep(decile, 0.1)
        * (1.0 + 0.4 * mental as u8 as f64);
    if female && (18..65).contains(&age) {
        gp_mean *= 1.4;
    }
    let gp_prop = Gamma::new(1.3, 1.0 / 1.3).expect("valid gamma").sample(rng);
    let ae_mean = figures::AE_RATE[a6]
        * (1.0 + 0.2 * ltc)
        * dep(decile, 0.35)
        * (1.0 + 1.5 * smi as u8 as f64 + 1.0 * inclusion as u8 as f64);
    let ae_prop = Gamma::new(0.45, 1.0 / 0.45)
        .expect("valid gamma")
        .sample(rng)
        * health.sqrt();
    let adm_mean = figures::EMERGENCY_RATE[a6] * (1.0 + 0.35 * ltc) * dep(decile, 0.3);
    let adm_prop = Gamma::new(0.5, 1.0 / 0.5).expect("valid gamma").sample(rng) * health.sqrt();
    for year in 0..3 {
        let to = (t - year * YEAR).min(end);
        let from = (t - (year + 1) * YEAR).max(registered_from - 1);
        if to <= from {
            continue;
        }
        let span = (to - from) as f64 / YEAR as f64;
        if year < 2 {
            let attended = poisson(gp_mean * gp_prop * span, rng);
            let dna = poisson(gp_mean * gp_prop * span * 0.05 * dep(decile, 0.5), rng);
            let cancelled = poisson(gp_mean * gp_prop * span * 0.07, rng);
            for (status, n) in [
                ("attended", attended),
                ("dna", dna),
                ("cancelled", cancelled),
            ] {
                for _ in 0..n {
                    let date = day_in(from, to, rng);
                    let m: f64 = rng.gen();
                    let home = if age >= 80 { 0.08 } else { 0.01 };
                    let mode = if m < home {
                        "home_visit"
                    } else if m < home + 0.015 {
                        "video"
                    } else if m < home + 0.33 {
                        "telephone"
                    } else {
                        "face_to_face"
                    };
                    b.ap_patient.push(pid);
                    b.ap_date.push(date);
                    b.ap_status.push(status);
                    b.ap_mode.push(mode);
                    if status == "attended" && date > w.m12 && date <= t {
                        rec.gp_12m += 1;
                    }
                }
            }
        }
        let hosp_from = (t - (year + 1) * YEAR).max(birth - 1);
        for _ in 0..poisson(ae_mean * ae_prop * span, rng) {
            let date = day_in(hosp_from, to, rng);
            b.ae_patient.push(pid);
            b.ae_date.push(date);
            if date > w.m12 && date <= t {
                rec.ae_12m += 1;
            }
        }
        for _ in 0..poisson(adm_mean * adm_prop * span, rng) {
            let date = day_in(hosp_from, to, rng);
            b.adm_patient.push(pid);
            b.adm_date.push(date);
            b.adm_method.push("emergency");
            if date > w.m12 && date <= t {
                rec.adm_12m += 1;
            }
        }
        for _ in 0..poisson(figures::ELECTIVE_RATE[a6] * span, rng) {
            b.adm_patient.push(pid);
            b.adm_date.push(day_in(hosp_from, to, rng));
            b.adm_method.push(if rng.gen_bool(0.05) {
                "other"
            } else {
                "elective"
            });
        }
    }

    // Records dated after T, only when asked for (to exercise "ignored after T").
    if ctx.after_t_share > 0.0 && rng.gen_bool(ctx.after_t_share.min(1.0)) {
        code_events(b, ctx, pid, "loneliness", 1, t, t + 90, rng);
        b.ae_patient.push(pid);
        b.ae_date.push(day_in(t, t + 90, rng));
    }

    if registered_at_t {
        tally.count(&Person {
            age,
            female,
            ethnicity,
            decile,
            rec: &rec,
            w,
        });
    }
}

fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    rand_distr::StandardNormal.sample(rng)
}

/// Whole years completed at `t` (both days since 1970), as extract.md defines age.
fn age_at(birth: i32, t: i32) -> u32 {
    use chrono::{Datelike, NaiveDate};
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let b = epoch + chrono::Duration::days(birth as i64);
    let at = epoch + chrono::Duration::days(t as i64);
    let mut years = at.year() - b.year();
    if (at.month(), at.day()) < (b.month(), b.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// GP extracts give month and year of birth: the 1st of the month.
fn first_of_month(days: i32) -> i32 {
    use chrono::{Datelike, NaiveDate};
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let d = epoch + chrono::Duration::days(days as i64);
    let first = d.with_day(1).expect("day 1 exists");
    (first - epoch).num_days() as i32
}

/// What the simulation decided for one patient, for the realism tally.
#[derive(Default)]
pub struct Record {
    /// Latest event date per condition of `figures::CONDITIONS`.
    pub conditions: [Option<i32>; 16],
    /// Latest event date per need of `figures::NEEDS`.
    pub needs: [Option<i32>; 4],
    pub frailty: Option<i32>,
    pub pregnancy: Option<i32>,
    pub sp_referral: Option<i32>,
    pub sp_declined: Option<i32>,
    pub ae_12m: u32,
    pub adm_12m: u32,
    pub gp_12m: u32,
}

pub struct Person<'a> {
    pub age: u32,
    pub female: bool,
    pub ethnicity: Option<&'static str>,
    pub decile: Option<i32>,
    pub rec: &'a Record,
    pub w: Windows,
}
