//! Local deprivation quintiles (equity.md §2). National deciles leave most
//! PCNs with a few deprivation groups; local quintiles cut the ICB's own
//! registered population into fifths by national IMD rank, so every area of
//! the ICB is measured on the same five groups. The cut is made here, on the
//! small table of registered patients per LSOA, so it is plain to read and
//! test; the counts come from one aggregate query (`indicators::count`).

use std::collections::{BTreeMap, HashMap};

use datafusion::prelude::SessionContext;

use crate::engine::decode::{int_at, text_at, Columns};
use crate::error::Result;

/// What orders the LSOAs: the national rank when every LSOA of `imd` has
/// one, else the decile ("without imd_rank phm says so and uses the deciles
/// in place of ranks").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalOrder {
    Rank,
    Decile,
}

/// Each LSOA's place in the order, by [`LocalOrder`].
pub struct OrderKeys {
    pub order: LocalOrder,
    key: HashMap<String, i64>,
}

impl OrderKeys {
    /// Reads the `imd` table: ranks when every LSOA has one.
    pub async fn of(ctx: &SessionContext) -> Result<Self> {
        let batches = ctx
            .sql("SELECT lsoa_code, imd_decile, imd_rank FROM imd")
            .await?
            .collect()
            .await?;
        let mut deciles = HashMap::new();
        let mut ranks = HashMap::new();
        let mut lsoas = 0;
        for b in &batches {
            let c = Columns::new(b, "imd");
            let (code, decile, rank) = (
                c.text("lsoa_code")?,
                c.int("imd_decile")?,
                c.int("imd_rank")?,
            );
            for r in 0..c.rows() {
                let Some(code) = text_at(&code, r) else {
                    continue;
                };
                lsoas += 1;
                if let Some(d) = int_at(&decile, r) {
                    deciles.insert(code.to_string(), d);
                }
                if let Some(k) = int_at(&rank, r) {
                    ranks.insert(code.to_string(), k);
                }
            }
        }
        Ok(if lsoas > 0 && ranks.len() == lsoas {
            OrderKeys {
                order: LocalOrder::Rank,
                key: ranks,
            }
        } else {
            OrderKeys {
                order: LocalOrder::Decile,
                key: deciles,
            }
        })
    }

    /// Keys given directly (for tests).
    pub fn from_keys(order: LocalOrder, key: HashMap<String, i64>) -> Self {
        OrderKeys { order, key }
    }
}

/// The local quintile of every (ICB, LSOA) with registered patients and a
/// place in the order, from `population[(icb, lsoa)]` (registered patients).
/// Within each ICB the LSOAs are taken in order (LSOAs with the same key,
/// as when deciles stand in for ranks, move together as one block), and a
/// block goes to the quintile that holds the middle of its population:
/// quintile q holds the positions from (q − 1)/5 up to, not including, q/5
/// of the ICB's total, so a middle exactly on a cut goes to the less
/// deprived side. Integer arithmetic: q = ⌊5·(2·before + n) / (2·total)⌋ + 1,
/// at most 5.
pub fn cut(
    population: &BTreeMap<(String, String), i64>,
    keys: &OrderKeys,
) -> HashMap<(String, String), i32> {
    // ICB -> order key -> (patients, LSOAs of the block).
    let mut blocks: BTreeMap<&str, BTreeMap<i64, (i64, Vec<&str>)>> = BTreeMap::new();
    for ((icb, lsoa), &n) in population {
        let Some(&key) = keys.key.get(lsoa) else {
            continue;
        };
        let block = blocks.entry(icb).or_default().entry(key).or_default();
        block.0 += n;
        block.1.push(lsoa);
    }
    let mut out = HashMap::new();
    for (icb, ordered) in blocks {
        let total: i64 = ordered.values().map(|b| b.0).sum();
        if total <= 0 {
            continue;
        }
        let mut before = 0i64;
        for (n, lsoas) in ordered.values() {
            let q = (5 * (2 * before + n) / (2 * total) + 1).min(5) as i32;
            for lsoa in lsoas {
                out.insert((icb.to_string(), lsoa.to_string()), q);
            }
            before += n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population(rows: &[(&str, &str, i64)]) -> BTreeMap<(String, String), i64> {
        rows.iter()
            .map(|(i, l, n)| ((i.to_string(), l.to_string()), *n))
            .collect()
    }

    fn keys(order: LocalOrder, rows: &[(&str, i64)]) -> OrderKeys {
        OrderKeys::from_keys(
            order,
            rows.iter().map(|(l, k)| (l.to_string(), *k)).collect(),
        )
    }

    #[test]
    fn a_middle_exactly_on_a_cut_goes_to_the_less_deprived_side() {
        // 10 patients: A holds [0,2), middle 1 = 0.1 -> 1; B [2,6), middle 4
        // = 0.4 exactly on the cut between 2 and 3 -> 3; C [6,10), middle 8
        // = 0.8 on the cut between 4 and 5 -> 5.
        let pop = population(&[("Q1", "A", 2), ("Q1", "B", 4), ("Q1", "C", 4)]);
        let k = keys(LocalOrder::Rank, &[("A", 10), ("B", 20), ("C", 30)]);
        let q = cut(&pop, &k);
        assert_eq!(q[&("Q1".into(), "A".into())], 1);
        assert_eq!(q[&("Q1".into(), "B".into())], 3);
        assert_eq!(q[&("Q1".into(), "C".into())], 5);
    }

    #[test]
    fn each_icb_is_cut_on_its_own_population_and_unplaced_lsoas_are_left_out() {
        // Q2's one LSOA holds all of Q2: middle 0.5 -> 3, though it is the
        // most deprived of all. Z has no place in the order (not in imd).
        let pop = population(&[
            ("Q1", "A", 5),
            ("Q1", "B", 5),
            ("Q2", "A", 4),
            ("Q1", "Z", 9),
        ]);
        let k = keys(LocalOrder::Rank, &[("A", 1), ("B", 2)]);
        let q = cut(&pop, &k);
        assert_eq!(q[&("Q1".into(), "A".into())], 2); // [0,5) middle 2.5 = 0.25
        assert_eq!(q[&("Q1".into(), "B".into())], 4); // [5,10) middle 7.5 = 0.75
        assert_eq!(q[&("Q2".into(), "A".into())], 3);
        assert!(!q.contains_key(&("Q1".into(), "Z".into())));
    }

    #[test]
    fn lsoas_sharing_a_decile_move_as_one_block() {
        // Deciles standing in for ranks: A and B (decile 1) are one block of
        // 4 in [0,4) of 8, middle 2 = 0.25 -> 2; C (decile 2) [4,8) -> 4.
        let pop = population(&[("Q1", "A", 1), ("Q1", "B", 3), ("Q1", "C", 4)]);
        let k = keys(LocalOrder::Decile, &[("A", 1), ("B", 1), ("C", 2)]);
        let q = cut(&pop, &k);
        assert_eq!(q[&("Q1".into(), "A".into())], 2);
        assert_eq!(q[&("Q1".into(), "B".into())], 2);
        assert_eq!(q[&("Q1".into(), "C".into())], 4);
    }
}
