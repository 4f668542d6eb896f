//! Who a simulated patient is: where they live, sex, age and ethnicity, and
//! their registration, death and leaving dates.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::draw::{
    age_at, annual_mortality, day_in, first_of_month, pick_weighted, sample_age, YEAR,
};
use super::{Buffers, Context};
use crate::tools::generate::figures as f;

/// Where a patient lives: an LSOA of their PCN with its decile, or none
/// recorded, or outside England (no decile).
fn residence(
    pcn: &crate::tools::generate::geography::Pcn,
    ctx: &Context,
    rng: &mut ChaCha8Rng,
) -> (Option<String>, Option<i32>) {
    let lsoa_roll: f64 = rng.gen();
    if lsoa_roll < f::NO_LSOA_UP_TO {
        (None, None)
    } else if lsoa_roll < f::OUTSIDE_ENGLAND_UP_TO {
        (Some(format!("W01{:06}", rng.gen_range(0..2_000))), None)
    } else {
        // Every PCN has LSOAs (geography.rs builds them so).
        let l = pcn.lsoas.choose(rng).map(|&i| &ctx.geo.lsoas[i]);
        (l.map(|l| l.code.clone()), l.map(|l| l.decile))
    }
}

fn sex(rng: &mut ChaCha8Rng) -> &'static str {
    let sex_roll: f64 = rng.gen();
    if sex_roll < f::FEMALE_UP_TO {
        "F"
    } else if sex_roll < f::MALE_UP_TO {
        "M"
    } else if sex_roll < f::INDETERMINATE_UP_TO {
        "I"
    } else {
        "U"
    }
}

/// The PCN's mix, then the recording gaps (not known, not stated).
fn ethnicity(minority_share: f64, rng: &mut ChaCha8Rng) -> Option<&'static str> {
    let eth_roll: f64 = rng.gen();
    if eth_roll < f::ETHNICITY_NOT_KNOWN_UP_TO {
        None
    } else if eth_roll < f::ETHNICITY_NOT_STATED_UP_TO {
        Some("Z")
    } else if rng.gen_bool(minority_share) {
        Some(pick_weighted(&f::MINORITY, rng))
    } else {
        Some(pick_weighted(&f::WHITE, rng))
    }
}

/// The demographic row of one patient, and what the rest of the simulation reads.
pub struct Person {
    pub pid: i64,
    pub practice_code: String,
    pub pcn_code: String,
    pub icb_code: String,
    pub lsoa_code: Option<String>,
    pub decile: Option<i32>,
    pub sex: &'static str,
    pub birth: i32,
    /// Whole years at T from the stored birth date: the age every rule sees.
    pub age: u32,
    pub ethnicity: Option<&'static str>,
    pub registered_from: i32,
    pub registered_to: Option<i32>,
    pub death_date: Option<i32>,
    /// The last day of the record: T, death or leaving, whichever is first.
    pub end: i32,
    pub registered_at_t: bool,
    /// The PCN's link-worker activity and GP access (figures of geography.rs).
    pub sp_activity: f64,
    pub gp_access: f64,
}

impl Person {
    pub fn female(&self) -> bool {
        self.sex == "F"
    }

    pub fn adult(&self) -> bool {
        self.age >= 18
    }

    /// Draws patient `index` (the order of the draws is part of a seed's output).
    pub fn draw(index: u64, ctx: &Context, rng: &mut ChaCha8Rng) -> Person {
        let t = ctx.w.t;
        let practice = ctx.geo.practice_of(index);
        let pcn = &ctx.geo.pcns[practice.pcn];

        let (lsoa_code, decile) = residence(pcn, ctx, rng);
        let sex = sex(rng);
        let sampled_age = sample_age(decile, rng);
        let birth = {
            let days = sampled_age as i32 * YEAR + sampled_age as i32 / 4 + rng.gen_range(0..YEAR);
            first_of_month(t - days)
        };
        let age = age_at(birth, t);

        let ethnicity = ethnicity(pcn.minority_share, rng);

        // Registration: some joined in the last year, some left in the last
        // three; deaths by age-specific annual mortality over three years.
        let registered_from = if age == 0 || rng.gen_bool(f::JOINED_LAST_YEAR_SHARE) {
            day_in(birth.max(t - YEAR), t, rng).max(birth)
        } else {
            day_in(birth.max(t - 25 * YEAR), t - YEAR, rng)
        };
        let death_date = if rng.gen_bool((annual_mortality(age) * 3.0).min(1.0)) {
            Some(day_in(registered_from.max(t - 3 * YEAR), t, rng))
        } else {
            None
        };
        let registered_to = if death_date.is_none() && rng.gen_bool(f::LEFT_LAST_3_YEARS_SHARE) {
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
        Person {
            pid: super::patient_id(index),
            practice_code: practice.practice_code.clone(),
            pcn_code: pcn.pcn_code.clone(),
            icb_code: pcn.icb_code.clone(),
            lsoa_code,
            decile,
            sex,
            birth,
            age,
            ethnicity,
            registered_from,
            registered_to,
            death_date,
            end,
            registered_at_t,
            sp_activity: pcn.sp_activity,
            gp_access: pcn.gp_access,
        }
    }

    /// Appends the `patients` row.
    pub fn push(&self, b: &mut Buffers) {
        b.patient_id.push(self.pid);
        b.practice_code.push(self.practice_code.clone());
        b.pcn_code.push(self.pcn_code.clone());
        b.icb_code.push(self.icb_code.clone());
        b.lsoa_code.push(self.lsoa_code.clone());
        b.sex.push(self.sex);
        b.birth_date.push(self.birth);
        b.ethnicity.push(self.ethnicity);
        b.registered_from.push(self.registered_from);
        b.registered_to.push(self.registered_to);
        b.death_date.push(self.death_date);
    }
}
