//! Small random draws and date arithmetic the simulation repeats.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

use super::super::figures::{self, AGE_BANDS, AGE_BAND_SHARE};

/// Days in a year, for "the last N years".
pub const YEAR: i32 = 365;

/// Age groups of the activity rates (0–4, 5–17, 18–39, 40–64, 65–79, 80+).
pub fn age6(age: u32) -> usize {
    match age {
        0..=4 => 0,
        5..=17 => 1,
        18..=39 => 2,
        40..=64 => 3,
        65..=79 => 4,
        _ => 5,
    }
}

/// Age groups of the condition prevalences (0–17, 18–39, 40–64, 65–79, 80+).
pub fn age5(age: u32) -> usize {
    match age {
        0..=17 => 0,
        18..=39 => 1,
        40..=64 => 2,
        65..=79 => 3,
        _ => 4,
    }
}

/// Deprivation multiplier: `1 + g` in decile 1, 1 in the middle, `1 − g` in decile 10.
pub fn dep(decile: Option<i32>, g: f64) -> f64 {
    let d = decile.map(f64::from).unwrap_or(5.5);
    (1.0 + g * (5.5 - d) / 4.5).max(0.0)
}

pub fn poisson(mean: f64, rng: &mut ChaCha8Rng) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean)
        .map(|p| p.sample(rng) as u64)
        .unwrap_or(0)
}

/// A day in `(from, to]`, or `to` when the range is empty.
pub fn day_in(from: i32, to: i32, rng: &mut ChaCha8Rng) -> i32 {
    if to <= from {
        to
    } else {
        rng.gen_range(from + 1..=to)
    }
}

/// An age in whole years, by the census pyramid; deprived areas are younger.
pub fn sample_age(decile: Option<i32>, rng: &mut ChaCha8Rng) -> u32 {
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

/// Annual probability of death at `age` (figures::ANNUAL_MORTALITY).
pub fn annual_mortality(age: u32) -> f64 {
    figures::ANNUAL_MORTALITY
        .iter()
        .rev()
        .find(|(from, _)| age >= *from)
        .map_or(0.0, |(_, p)| *p)
}

/// One of `items` by weight.
pub fn pick_weighted<'a>(items: &[(&'a str, f64)], rng: &mut ChaCha8Rng) -> &'a str {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut u = rng.gen_range(0.0..total);
    for (code, w) in items {
        if u < *w {
            return code;
        }
        u -= w;
    }
    items.last().map_or("", |i| i.0)
}

pub fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    rand_distr::StandardNormal.sample(rng)
}

fn epoch() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// Whole years completed at `t` (both days since 1970), as extract.md defines age.
pub fn age_at(birth: i32, t: i32) -> u32 {
    use chrono::Datelike;
    let b = epoch() + chrono::Duration::days(birth as i64);
    let at = epoch() + chrono::Duration::days(t as i64);
    let mut years = at.year() - b.year();
    if (at.month(), at.day()) < (b.month(), b.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// GP extracts give month and year of birth: the 1st of the month.
pub fn first_of_month(days: i32) -> i32 {
    use chrono::Datelike;
    let d = epoch() + chrono::Duration::days(days as i64);
    let first = d.with_day(1).unwrap_or(d);
    (first - epoch()).num_days() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mortality_bands_match_the_life_table() {
        for (age, p) in [
            (0, 0.0005),
            (39, 0.0005),
            (40, 0.003),
            (64, 0.003),
            (65, 0.015),
            (74, 0.015),
            (75, 0.045),
            (84, 0.045),
            (85, 0.12),
            (89, 0.12),
            (90, 0.2),
            (104, 0.2),
        ] {
            assert_eq!(annual_mortality(age), p, "age {age}");
        }
    }

    #[test]
    fn ages_and_months_by_hand() {
        // 2000-02-29 to 2025-02-28: 24 (birthday on 1 March in other years).
        let days = |y, m, d| {
            (chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap() - epoch()).num_days() as i32
        };
        assert_eq!(age_at(days(2000, 2, 29), days(2025, 2, 28)), 24);
        assert_eq!(age_at(days(2000, 2, 29), days(2025, 3, 1)), 25);
        assert_eq!(first_of_month(days(2024, 7, 19)), days(2024, 7, 1));
    }
}
