//! ICBs, PCNs, practices and LSOAs of a synthetic extract: sizes as in
//! figures.md §1 (practices 3k–20k, PCNs 30–50k, smaller when N is small) and
//! PCNs that differ clearly in deprivation.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal};

/// One practice: its codes and the patient index range it holds.
#[derive(Debug, Clone)]
pub struct Practice {
    pub practice_code: String,
    pub pcn: usize,
    pub first: u64,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct Pcn {
    pub pcn_code: String,
    pub icb_code: String,
    /// LSOA indices (into `Geography::lsoas`) where its patients live.
    pub lsoas: Vec<usize>,
    /// Share of the PCN's population from ethnic minority groups.
    pub minority_share: f64,
    /// How active the PCN's link workers are (multiplies referral rates).
    pub sp_activity: f64,
    /// How easy GP appointments are to get (multiplies GP rates).
    pub gp_access: f64,
}

#[derive(Debug, Clone)]
pub struct Lsoa {
    pub code: String,
    pub decile: i32,
}

#[derive(Debug, Clone)]
pub struct Geography {
    pub practices: Vec<Practice>,
    pub pcns: Vec<Pcn>,
    pub lsoas: Vec<Lsoa>,
}

impl Geography {
    /// The practice holding patient index `i` (practices are contiguous ranges).
    pub fn practice_of(&self, i: u64) -> &Practice {
        let pos = self.practices.partition_point(|p| p.first + p.size <= i);
        &self.practices[pos.min(self.practices.len() - 1)]
    }
}

/// Default PCN count: ~40k patients each, but at least enough for comparisons
/// (up to 6) when the extract is small.
pub fn default_pcns(patients: u64) -> usize {
    if patients >= 240_000 {
        (patients / 40_000) as usize
    } else {
        (patients / 8_000).clamp(1, 6) as usize
    }
}

fn icb_code(i: usize) -> String {
    let letters = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    let a = letters[(i / letters.len()) % letters.len()] as char;
    let b = letters[i % letters.len()] as char;
    format!("Q{a}{b}")
}

/// PCN sizes varying ±30% around the mean, summing to `patients`.
fn pcn_sizes(patients: u64, pcn_count: usize, rng: &mut ChaCha8Rng) -> Vec<u64> {
    let weights: Vec<f64> = (0..pcn_count).map(|_| rng.gen_range(0.7..1.3)).collect();
    let total: f64 = weights.iter().sum();
    let mut sizes: Vec<u64> = weights
        .iter()
        .map(|w| ((w / total) * patients as f64).floor() as u64)
        .collect();
    let assigned: u64 = sizes.iter().sum();
    sizes[0] += patients - assigned;
    sizes
}

/// Deprivation centres spread from very deprived to affluent, shuffled so
/// PCN order says nothing about deprivation.
fn deprivation_centres(pcn_count: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut centres: Vec<f64> = (0..pcn_count)
        .map(|i| {
            if pcn_count == 1 {
                5.0
            } else {
                1.2 + 7.6 * i as f64 / (pcn_count - 1) as f64
            }
        })
        .collect();
    for i in (1..centres.len()).rev() {
        let j = rng.gen_range(0..=i);
        centres.swap(i, j);
    }
    centres
}

/// One PCN's practices (3k–20k, smaller when the PCN itself is small),
/// starting at patient index `first`; returns the next free index.
fn add_practices(
    practices: &mut Vec<Practice>,
    p: usize,
    size: u64,
    mut first: u64,
    practice_size: &LogNormal<f64>,
    rng: &mut ChaCha8Rng,
) -> u64 {
    let lo = 3_000u64.min((size / 2).max(1));
    let hi = 20_000u64.min(size.max(1));
    let mut remaining = size;
    while remaining > 0 {
        let mut s = (practice_size.sample(rng) as u64).clamp(lo, hi.max(lo));
        if s > remaining || remaining - s < lo {
            s = remaining;
        }
        practices.push(Practice {
            practice_code: format!(
                "{}{:05}",
                (b'A' + (practices.len() / 90_000 % 26) as u8) as char,
                81_000 + practices.len() % 90_000
            ),
            pcn: p,
            first,
            size: s,
        });
        first += s;
        remaining -= s;
    }
    first
}

/// One PCN's LSOAs (~1,600 registered residents each) around its centre.
fn add_lsoas(
    lsoas: &mut Vec<Lsoa>,
    size: u64,
    centre: f64,
    spread: &Normal<f64>,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let n_lsoa = (size / 1_600).max(3) as usize;
    let mut ids = Vec::with_capacity(n_lsoa);
    for _ in 0..n_lsoa {
        let decile = (centre + spread.sample(rng)).round().clamp(1.0, 10.0) as i32;
        ids.push(lsoas.len());
        lsoas.push(Lsoa {
            code: format!("E01{:06}", 10_000 + lsoas.len() * 7),
            decile,
        });
    }
    ids
}

pub fn build(patients: u64, pcn_count: usize, icb_count: usize, rng: &mut ChaCha8Rng) -> Geography {
    let pcn_count = pcn_count.max(1).min(patients.max(1) as usize);
    let icb_count = icb_count.max(1).min(pcn_count);
    let sizes = pcn_sizes(patients, pcn_count, rng);
    let centres = deprivation_centres(pcn_count, rng);
    // Fixed, valid parameters (positive scales): these cannot fail.
    let practice_size = LogNormal::new((8_000f64).ln(), 0.45).expect("valid lognormal");
    let spread = Normal::new(0.0, 1.4).expect("valid normal");
    let mut practices = Vec::new();
    let mut pcns = Vec::new();
    let mut lsoas = Vec::new();
    let mut first = 0u64;
    for (p, (&size, &centre)) in sizes.iter().zip(&centres).enumerate() {
        let icb = p * icb_count / pcn_count;
        first = add_practices(&mut practices, p, size, first, &practice_size, rng);
        let ids = add_lsoas(&mut lsoas, size, centre, &spread, rng);
        // Deprived urban PCNs tend to be more diverse (Census 2021: London 36.8% White,
        // North East 90.6% White), so minority share rises with deprivation.
        let deprivation = (10.0 - centre) / 9.0;
        let minority_share = (0.03 + 0.30 * deprivation * rng.gen_range(0.4..1.6)).clamp(0.02, 0.6);
        pcns.push(Pcn {
            pcn_code: format!("U{:05}", 10_000 + 37 * p),
            icb_code: icb_code(icb),
            lsoas: ids,
            minority_share,
            sp_activity: rng.gen_range(0.5..1.6),
            gp_access: rng.gen_range(0.85..1.15),
        });
    }
    Geography {
        practices,
        pcns,
        lsoas,
    }
}

/// How many LSOAs the synthetic nation ranks: England's on the 2011
/// boundaries, as IoD2019 ranks them (the generator's codes are 2011-style).
pub const NATIONAL_LSOAS: i64 = 32_844;

/// Each LSOA's national IMD rank (1 = most deprived), consistent with its
/// decile: decile d holds ranks ⌊(d − 1)·N/10⌋ + 1 to ⌊d·N/10⌋ of the N
/// national LSOAs, and a decile's LSOAs are spread evenly through that band
/// in the order they were made. None when a decile has more LSOAs than its
/// band (beyond about 30M patients), since ranks must be unique. Uses no
/// random stream, so the ranks change no other value of an extract.
pub fn national_ranks(lsoas: &[Lsoa]) -> Option<Vec<i32>> {
    let band = |d: i64| ((d - 1) * NATIONAL_LSOAS / 10 + 1, d * NATIONAL_LSOAS / 10);
    let mut in_decile = [0i64; 11];
    for l in lsoas {
        in_decile[l.decile.clamp(1, 10) as usize] += 1;
    }
    let mut seen = [0i64; 11];
    let mut ranks = Vec::with_capacity(lsoas.len());
    for l in lsoas {
        let d = l.decile.clamp(1, 10) as usize;
        let (low, high) = band(d as i64);
        let size = high - low + 1;
        if in_decile[d] > size {
            return None;
        }
        ranks.push((low + seen[d] * size / in_decile[d]) as i32);
        seen[d] += 1;
    }
    Some(ranks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsoa(decile: i32) -> Lsoa {
        Lsoa {
            code: String::new(),
            decile,
        }
    }

    #[test]
    fn ranks_fall_in_their_deciles_band_and_are_unique() {
        // Bands of N = 32,844: decile 1 is 1..=3284, decile 2 3285..=6568,
        // decile 10 29560..=32844.
        let lsoas = vec![lsoa(1), lsoa(2), lsoa(1), lsoa(10), lsoa(1)];
        let ranks = national_ranks(&lsoas).unwrap();
        // Three in decile 1 at 1 + k·3284/3: 1, 1095, 2190.
        assert_eq!(ranks, vec![1, 3285, 1095, 29560, 2190]);
        let many: Vec<Lsoa> = (0..20_000).map(|i| lsoa(1 + i % 10)).collect();
        let ranks = national_ranks(&many).unwrap();
        let mut unique = ranks.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ranks.len());
        for (l, r) in many.iter().zip(&ranks) {
            let d = l.decile as i64;
            assert!((d - 1) * 32_844 / 10 < *r as i64 && *r as i64 <= d * 32_844 / 10);
        }
    }

    #[test]
    fn more_lsoas_in_a_decile_than_its_band_gives_no_ranks() {
        let crowded: Vec<Lsoa> = (0..3_285).map(|_| lsoa(1)).collect();
        assert!(national_ranks(&crowded).is_none());
        assert!(national_ranks(&crowded[..3_284]).is_some());
    }
}
