//! Simulates one patient's record, appended to column buffers: who they are
//! (`person.rs`), their coded record (`record.rs`) and their use of services
//! (`activity.rs`). Deprivation, age and multimorbidity raise rates as the
//! figures in `figures.rs` describe; a per-patient latent health factor links
//! conditions and use, so multimorbidity and high-frequency use cluster as
//! they do in real data. The order of the random draws is part of what a seed
//! gives, so each step draws in the order it always has.

mod activity;
mod draw;
mod person;
mod record;

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};

use super::figures;
use super::geography::Geography;
use super::realism::Tally;
use draw::day_in;

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

/// Emits `n` events of `list` in `(from, to]`; returns their dates.
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
    let p = person::Person::draw(index, ctx, rng);
    p.push(b);
    // Latent health: mean 1, links conditions with each other and with use.
    let health =
        Gamma::new(figures::HEALTH_SHAPE, figures::HEALTH_SCALE).map_or(1.0, |g| g.sample(rng));
    let mut rec = Record::default();
    record::conditions(&p, health, ctx, b, &mut rec, rng);
    record::needs(&p, health, ctx, b, &mut rec, rng);
    record::frailty(&p, health, ctx, b, &mut rec, rng);
    record::pregnancy(&p, ctx, b, &mut rec, rng);
    record::blood_pressure(&p, ctx, b, &rec, rng);
    record::everyday_codes(&p, health, ctx, b, rng);
    let drivers = activity::Drivers::of(&rec, ctx.w.m24);
    activity::social_prescribing(&p, &drivers, ctx, b, &mut rec, rng);
    activity::use_of_services(&p, &drivers, health, ctx, b, &mut rec, rng);
    activity::after_t(&p, ctx, b, rng);
    if p.registered_at_t {
        tally.count(&Tallied {
            age: p.age,
            female: p.female(),
            ethnicity: p.ethnicity,
            decile: p.decile,
            rec: &rec,
            w: ctx.w,
        });
    }
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

/// A registered patient as the realism tally counts them.
pub struct Tallied<'a> {
    pub age: u32,
    pub female: bool,
    pub ethnicity: Option<&'static str>,
    pub decile: Option<i32>,
    pub rec: &'a Record,
    pub w: Windows,
}
