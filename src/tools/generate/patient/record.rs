//! A simulated patient's coded record: long-term conditions, social and
//! other needs, frailty, pregnancy, blood pressure, and everyday codes.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::draw::{age5, day_in, dep, poisson, standard_normal, YEAR};
use super::person::Person;
use super::{code_events, latest, Buffers, Context, Record};
use crate::tools::generate::figures as f;

/// Long-term conditions: onset, then reviews over the last five years.
pub fn conditions(
    p: &Person,
    health: f64,
    ctx: &Context,
    b: &mut Buffers,
    rec: &mut Record,
    rng: &mut ChaCha8Rng,
) {
    let t = ctx.w.t;
    let a5 = age5(p.age);
    let history_start = p.birth.max(t - 20 * YEAR);
    for (ci, c) in f::CONDITIONS.iter().enumerate() {
        let prob = (c.by_age[a5] * dep(p.decile, c.gradient) * health).min(f::CONDITION_CAP);
        if !rng.gen_bool(prob) {
            continue;
        }
        let onset = day_in(history_start, p.end, rng);
        let mut dates = code_events(b, ctx, p.pid, c.codelist, 1, onset - 1, onset, rng);
        let review_from = onset.max(t - 5 * YEAR);
        let n = poisson(
            f::CONDITION_REVIEWS_PER_YEAR * (p.end - review_from).max(0) as f64 / YEAR as f64,
            rng,
        );
        dates.extend(code_events(
            b,
            ctx,
            p.pid,
            c.codelist,
            n,
            review_from,
            p.end,
            rng,
        ));
        if !dates.is_empty() {
            rec.conditions[ci] = latest(&dates);
        }
    }
}

/// Social and other needs of adults, over the last six years.
pub fn needs(
    p: &Person,
    health: f64,
    ctx: &Context,
    b: &mut Buffers,
    rec: &mut Record,
    rng: &mut ChaCha8Rng,
) {
    if !p.adult() {
        return;
    }
    let t = ctx.w.t;
    let a3 = match p.age {
        18..=64 => 0,
        65..=79 => 1,
        _ => 2,
    };
    for (ni, need) in f::NEEDS.iter().enumerate() {
        let prob =
            (need.by_age[a3] * dep(p.decile, need.gradient) * health.sqrt()).min(f::NEED_CAP);
        if !rng.gen_bool(prob) {
            continue;
        }
        let onset = day_in(t - 6 * YEAR, p.end, rng);
        let mut dates = code_events(b, ctx, p.pid, need.codelist, 1, onset - 1, onset, rng);
        let n = poisson(
            f::NEED_CODES_PER_YEAR * (p.end - onset).max(0) as f64 / YEAR as f64,
            rng,
        );
        dates.extend(code_events(
            b,
            ctx,
            p.pid,
            need.codelist,
            n,
            onset,
            p.end,
            rng,
        ));
        rec.needs[ni] = latest(&dates);
    }
}

/// Moderate or severe frailty among people 65 and over.
pub fn frailty(
    p: &Person,
    health: f64,
    ctx: &Context,
    b: &mut Buffers,
    rec: &mut Record,
    rng: &mut ChaCha8Rng,
) {
    if p.age < 65 {
        return;
    }
    let a = match p.age {
        65..=74 => 0,
        75..=84 => 1,
        _ => 2,
    };
    let prob = (f::FRAILTY_BY_AGE[a] * dep(p.decile, f::FRAILTY_GRADIENT) * health.sqrt())
        .min(f::NEED_CAP);
    if rng.gen_bool(prob) {
        let onset = day_in(ctx.w.t - 4 * YEAR, p.end, rng);
        let n = 1 + poisson((p.end - onset).max(0) as f64 / YEAR as f64, rng);
        rec.frailty = latest(&code_events(
            b,
            ctx,
            p.pid,
            "frailty",
            n,
            onset - 1,
            p.end,
            rng,
        ));
    }
}

/// Pregnancies of women 15–44, some with a maternity admission.
pub fn pregnancy(
    p: &Person,
    ctx: &Context,
    b: &mut Buffers,
    rec: &mut Record,
    rng: &mut ChaCha8Rng,
) {
    let childbearing = p.female() && (15..=44).contains(&p.age);
    if !(childbearing && rng.gen_bool(f::PREGNANCY_SHARE)) {
        return;
    }
    let first = day_in(ctx.w.t - YEAR, p.end, rng);
    let n = 1 + poisson(f::PREGNANCY_EXTRA_CODES, rng);
    rec.pregnancy = latest(&code_events(
        b,
        ctx,
        p.pid,
        "pregnancy",
        n,
        first - 1,
        (first + 270).min(p.end),
        rng,
    ));
    if rng.gen_bool(f::MATERNITY_ADMISSION_SHARE) {
        b.adm_patient.push(p.pid);
        b.adm_date
            .push(day_in(first, (first + 280).min(p.end), rng));
        b.adm_method.push("maternity");
    }
}

/// Blood-pressure readings with values: yearly for hypertensives, less often otherwise.
pub fn blood_pressure(
    p: &Person,
    ctx: &Context,
    b: &mut Buffers,
    rec: &Record,
    rng: &mut ChaCha8Rng,
) {
    let hypertensive = rec.conditions[0].is_some();
    let rate = if hypertensive {
        f::BP_READINGS_HYPERTENSIVE
    } else if p.age >= 40 {
        f::BP_READINGS_40_PLUS
    } else if p.adult() {
        f::BP_READINGS_ADULT
    } else {
        0.0
    };
    let t = ctx.w.t;
    for _ in 0..poisson(rate * 3.0, rng) {
        if let Some(&code) = ctx.codes.blood_pressure.choose(rng) {
            b.ev_patient.push(p.pid);
            b.ev_code.push(code);
            b.ev_date
                .push(day_in((t - 3 * YEAR).max(p.registered_from), p.end, rng));
            let mean = if hypertensive {
                f::BP_MEAN_HYPERTENSIVE
            } else {
                f::BP_MEAN_OTHER
            };
            b.ev_value
                .push(Some((mean + f::BP_SD * standard_normal(rng)).round()));
        }
    }
}

/// Everyday codes in no codelist: most of a GP record.
pub fn everyday_codes(
    p: &Person,
    health: f64,
    ctx: &Context,
    b: &mut Buffers,
    rng: &mut ChaCha8Rng,
) {
    let t = ctx.w.t;
    let mean = (f::EVERYDAY_CODES_BASE + p.age as f64 / f::EVERYDAY_CODES_PER_AGE_YEARS)
        * f::EVERYDAY_CODE_YEARS
        * health.sqrt();
    for _ in 0..poisson(mean, rng) {
        if let Some(&code) = ctx.codes.uncoded.choose(rng) {
            b.ev_patient.push(p.pid);
            b.ev_code.push(code);
            b.ev_date
                .push(day_in((t - 5 * YEAR).max(p.birth), p.end, rng));
            b.ev_value.push(if rng.gen_bool(f::EVERYDAY_VALUE_SHARE) {
                Some((rng.gen_range(10.0..90.0f64) * 10.0).round() / 10.0)
            } else {
                None
            });
        }
    }
}
