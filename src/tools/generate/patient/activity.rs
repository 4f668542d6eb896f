//! A simulated patient's use of services: social-prescribing referrals and
//! declines, GP appointments, A&E attendances and hospital admissions, each
//! per year for the last three years with persistent personal propensities
//! (Gamma frailties), so counts are over-dispersed as in real data.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};

use super::draw::{age6, day_in, dep, poisson, YEAR};
use super::person::Person;
use super::{code_events, latest, Buffers, Context, Record};
use crate::tools::generate::figures as f;

/// What the activity rates depend on from the coded record.
pub struct Drivers {
    pub ltc: f64,
    pub smi: bool,
    pub mental: bool,
    pub lonely: bool,
    pub social: bool,
    pub inclusion: bool,
}

impl Drivers {
    pub fn of(rec: &Record, m24: i32) -> Self {
        Drivers {
            ltc: rec.conditions[..14].iter().filter(|c| c.is_some()).count() as f64,
            smi: rec.conditions[13].is_some(),
            mental: [11usize, 14]
                .iter()
                .any(|&i| rec.conditions[i].is_some_and(|d| d > m24)),
            lonely: rec.needs[0].is_some_and(|d| d > m24),
            social: rec.needs[1].is_some_and(|d| d > m24),
            inclusion: rec.needs[3].is_some(),
        }
    }
}

/// A mean × Gamma(shape, 1/shape) propensity draw (mean 1).
fn propensity(shape: f64, rng: &mut ChaCha8Rng) -> f64 {
    Gamma::new(shape, 1.0 / shape).map_or(1.0, |g| g.sample(rng))
}

/// Referrals rise with loneliness and social need, and with how active the
/// PCN's link workers are; some were referred before the last 12 months, and
/// some declined.
pub fn social_prescribing(
    p: &Person,
    d: &Drivers,
    ctx: &Context,
    b: &mut Buffers,
    rec: &mut Record,
    rng: &mut ChaCha8Rng,
) {
    let (t, m12) = (ctx.w.t, ctx.w.m12);
    let need_mult = 1.0
        + f::SP_LONELY * d.lonely as u8 as f64
        + f::SP_SOCIAL_NEEDS * d.social as u8 as f64
        + f::SP_MENTAL_HEALTH * d.mental as u8 as f64;
    let p_ref = (f::SP_REFERRAL_BASE
        * p.sp_activity
        * need_mult
        * if p.adult() { 1.0 } else { f::SP_CHILD })
    .min(f::SP_CAP);
    if rng.gen_bool(p_ref) {
        rec.sp_referral = latest(&code_events(
            b,
            ctx,
            p.pid,
            "sp_referral",
            1,
            m12.max(p.registered_from),
            p.end,
            rng,
        ));
    }
    if rng.gen_bool((p_ref * f::SP_EARLIER).min(f::SP_CAP)) {
        code_events(
            b,
            ctx,
            p.pid,
            "sp_referral",
            1,
            (t - 3 * YEAR).max(p.registered_from),
            m12.min(p.end),
            rng,
        );
    }
    if rng.gen_bool((p_ref * f::SP_DECLINED).min(f::SP_DECLINED_CAP)) {
        rec.sp_declined = latest(&code_events(
            b,
            ctx,
            p.pid,
            "sp_declined",
            1,
            m12.max(p.registered_from),
            p.end,
            rng,
        ));
    }
}

/// Yearly means of the three kinds of use, and the patient's propensities.
struct Rates {
    gp: f64,
    ae: f64,
    adm: f64,
}

fn rates(p: &Person, d: &Drivers, health: f64, rng: &mut ChaCha8Rng) -> Rates {
    let a6 = age6(p.age);
    let mut gp_mean = f::GP_RATE[a6]
        * p.gp_access
        * (1.0 + f::GP_PER_LTC * d.ltc)
        * dep(p.decile, f::GP_GRADIENT)
        * (1.0 + f::GP_MENTAL_HEALTH * d.mental as u8 as f64);
    if p.female() && (18..65).contains(&p.age) {
        gp_mean *= f::GP_WOMEN_18_64;
    }
    let gp_prop = propensity(f::GP_PROPENSITY_SHAPE, rng);
    let ae_mean = f::AE_RATE[a6]
        * (1.0 + f::AE_PER_LTC * d.ltc)
        * dep(p.decile, f::AE_GRADIENT)
        * (1.0
            + f::AE_SMI * d.smi as u8 as f64
            + f::AE_INCLUSION_HEALTH * d.inclusion as u8 as f64);
    let ae_prop = propensity(f::AE_PROPENSITY_SHAPE, rng) * health.sqrt();
    let adm_mean = f::EMERGENCY_RATE[a6]
        * (1.0 + f::ADMISSION_PER_LTC * d.ltc)
        * dep(p.decile, f::ADMISSION_GRADIENT);
    let adm_prop = propensity(f::ADMISSION_PROPENSITY_SHAPE, rng) * health.sqrt();
    Rates {
        gp: gp_mean * gp_prop,
        ae: ae_mean * ae_prop,
        adm: adm_mean * adm_prop,
    }
}

/// One year of the last three: its share of a full year, and its days `(from, to]`.
#[derive(Clone, Copy)]
struct Year {
    span: f64,
    from: i32,
    to: i32,
}

/// The appointment mode of one appointment.
fn mode(age: u32, rng: &mut ChaCha8Rng) -> &'static str {
    let m: f64 = rng.gen();
    let home = if age >= 80 {
        f::HOME_VISIT_80_PLUS
    } else {
        f::HOME_VISIT_OTHER
    };
    if m < home {
        "home_visit"
    } else if m < home + f::VIDEO_SHARE {
        "video"
    } else if m < home + f::TELEPHONE_UP_TO {
        "telephone"
    } else {
        "face_to_face"
    }
}

/// GP appointments of one year span `(from, to]` (the last two years only).
fn appointments(
    p: &Person,
    gp: f64,
    Year { span, from, to }: Year,
    ctx: &Context,
    b: &mut Buffers,
    rec: &mut Record,
    rng: &mut ChaCha8Rng,
) {
    let attended = poisson(gp * span, rng);
    let dna = poisson(
        gp * span * f::GP_DNA_SHARE * dep(p.decile, f::GP_DNA_GRADIENT),
        rng,
    );
    let cancelled = poisson(gp * span * f::GP_CANCELLED_SHARE, rng);
    for (status, n) in [
        ("attended", attended),
        ("dna", dna),
        ("cancelled", cancelled),
    ] {
        for _ in 0..n {
            let date = day_in(from, to, rng);
            let mode = mode(p.age, rng);
            b.ap_patient.push(p.pid);
            b.ap_date.push(date);
            b.ap_status.push(status);
            b.ap_mode.push(mode);
            if status == "attended" && date > ctx.w.m12 && date <= ctx.w.t {
                rec.gp_12m += 1;
            }
        }
    }
}

/// A&E attendances and admissions of one year, `(hosp_from, to]`.
fn hospital(
    p: &Person,
    r: &Rates,
    Year {
        span,
        from: hosp_from,
        to,
    }: Year,
    ctx: &Context,
    b: &mut Buffers,
    rec: &mut Record,
    rng: &mut ChaCha8Rng,
) {
    let in_12m = |date: i32| date > ctx.w.m12 && date <= ctx.w.t;
    for _ in 0..poisson(r.ae * span, rng) {
        let date = day_in(hosp_from, to, rng);
        b.ae_patient.push(p.pid);
        b.ae_date.push(date);
        if in_12m(date) {
            rec.ae_12m += 1;
        }
    }
    for _ in 0..poisson(r.adm * span, rng) {
        let date = day_in(hosp_from, to, rng);
        b.adm_patient.push(p.pid);
        b.adm_date.push(date);
        b.adm_method.push("emergency");
        if in_12m(date) {
            rec.adm_12m += 1;
        }
    }
    for _ in 0..poisson(f::ELECTIVE_RATE[age6(p.age)] * span, rng) {
        b.adm_patient.push(p.pid);
        b.adm_date.push(day_in(hosp_from, to, rng));
        b.adm_method
            .push(if rng.gen_bool(f::OTHER_ADMISSION_SHARE) {
                "other"
            } else {
                "elective"
            });
    }
}

/// Appointments, A&E and admissions for each of the last three years.
pub fn use_of_services(
    p: &Person,
    d: &Drivers,
    health: f64,
    ctx: &Context,
    b: &mut Buffers,
    rec: &mut Record,
    rng: &mut ChaCha8Rng,
) {
    let t = ctx.w.t;
    let r = rates(p, d, health, rng);
    for year in 0..3 {
        let to = (t - year * YEAR).min(p.end);
        let from = (t - (year + 1) * YEAR).max(p.registered_from - 1);
        if to <= from {
            continue;
        }
        let span = (to - from) as f64 / YEAR as f64;
        if year < 2 {
            appointments(p, r.gp, Year { span, from, to }, ctx, b, rec, rng);
        }
        let hosp_from = (t - (year + 1) * YEAR).max(p.birth - 1);
        let year = Year {
            span,
            from: hosp_from,
            to,
        };
        hospital(p, &r, year, ctx, b, rec, rng);
    }
}

/// Records dated after T, only when asked for (to exercise "ignored after T").
pub fn after_t(p: &Person, ctx: &Context, b: &mut Buffers, rng: &mut ChaCha8Rng) {
    let t = ctx.w.t;
    if ctx.after_t_share > 0.0 && rng.gen_bool(ctx.after_t_share.min(1.0)) {
        code_events(b, ctx, p.pid, "loneliness", 1, t, t + 90, rng);
        b.ae_patient.push(p.pid);
        b.ae_date.push(day_in(t, t + 90, rng));
    }
}
