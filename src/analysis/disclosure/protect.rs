//! Secondary suppression: rounding every count to 5 and hiding 1–7 is not
//! enough where a reader also sees totals. If an area's `all` row is 45 and
//! three of its four groups show 10, the fourth (suppressed) is at least
//! 43 − 3 × 12 = 7, so it is exactly 7. This module plays that reader: it
//! knows what each published count allows (0 exactly; c ≥ 10 means c − 2 to
//! c + 2, and at least 8; a suppressed count is at least 1), every `total =
//! sum of parts` relation between them, and values it knows from elsewhere
//! (a PCN that has people waiting proposed exactly its capacity). Attacking
//! one suppressed count, the reader is also told that this one is small (1
//! to 7), but not which of the others are. It narrows every count's range by
//! propagating the relations, then tries each value 1 to 7 and keeps those
//! that stay consistent. While some small count is left with one possible
//! value, one more published count near it is suppressed (one that alone
//! frees it if there is one, else the smallest; parts before totals), and
//! it tries again.
//!
//! The relations are phm's own outputs' (groups and `all`, quintiles and
//! deciles, PCNs and the ICB, practices and their PCN, segments and the
//! cohort); the attacker test in `tests/it/disclosure.rs` checks the written
//! files with an independent implementation.

use std::collections::VecDeque;

/// A count's place in a [`Protector`].
pub type CellId = usize;

/// Above any count; a range's upper end when nothing bounds it.
const UNBOUNDED: i64 = i64::MAX / 4;

/// What a reader sees of a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Count(i64),
    Suppressed,
}

impl Shown {
    pub fn count(self) -> Option<i64> {
        match self {
            Shown::Count(n) => Some(n),
            Shown::Suppressed => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Published rounded to 5 (rules.md §6.1).
    Published(i64),
    /// 1 to 7: suppressed by the rule itself.
    Small,
    /// Suppressed here although it is 8 or more.
    Secondary,
    /// Never published (e.g. patients of sex I or U, not drawn); a reader
    /// knows only that it is 0 or more.
    Hidden,
}

#[derive(Debug, Clone)]
struct Cell {
    exact: i64,
    state: State,
    /// A value a reader knows from elsewhere, published or not.
    known: Option<i64>,
    /// Whether this count may be suppressed to protect another.
    movable: bool,
}

/// `total = sum of parts`.
#[derive(Debug, Clone)]
struct Relation {
    total: CellId,
    parts: Vec<CellId>,
}

/// Counts, the relations a reader knows between them, and what may be shown.
#[derive(Debug, Clone, Default)]
pub struct Protector {
    cells: Vec<Cell>,
    relations: Vec<Relation>,
    /// Relations each cell is in.
    member: Vec<Vec<usize>>,
}

/// rules.md §6.1 on one count: 1–7 suppressed, else the nearest multiple of 5.
pub fn primary(n: i64) -> Shown {
    match super::protect_count(n) {
        Some(v) => Shown::Count(v),
        None => Shown::Suppressed,
    }
}

impl Protector {
    pub fn new() -> Self {
        Self::default()
    }

    /// A published count (rounded, or suppressed when 1 to 7). `movable`:
    /// whether it may be suppressed to protect another count.
    pub fn count(&mut self, exact: i64, movable: bool) -> CellId {
        let state = match primary(exact) {
            Shown::Count(v) => State::Published(v),
            Shown::Suppressed => State::Small,
        };
        self.push(Cell {
            exact,
            state,
            known: None,
            movable,
        })
    }

    /// A count whose publication another protector has already decided (a
    /// breakdown reckons with the `all` rows as the deprivation tables
    /// publish them): taken as shown and never moved from here.
    pub fn decided(&mut self, exact: i64, shown: Shown) -> CellId {
        let state = match shown {
            Shown::Count(v) => State::Published(v),
            Shown::Suppressed if (1..=super::SUPPRESS_MAX).contains(&exact) => State::Small,
            Shown::Suppressed => State::Secondary,
        };
        self.push(Cell {
            exact,
            state,
            known: None,
            movable: false,
        })
    }

    /// A count that is never published but takes part in relations.
    pub fn hidden(&mut self, exact: i64) -> CellId {
        self.push(Cell {
            exact,
            state: State::Hidden,
            known: None,
            movable: false,
        })
    }

    fn push(&mut self, cell: Cell) -> CellId {
        self.cells.push(cell);
        self.member.push(Vec::new());
        self.cells.len() - 1
    }

    /// A reader knows this count's exact value from elsewhere.
    pub fn known(&mut self, id: CellId) {
        self.cells[id].known = Some(self.cells[id].exact);
    }

    /// `total = sum of parts`, which a reader of the outputs can see.
    pub fn relate(&mut self, total: CellId, parts: Vec<CellId>) {
        let r = self.relations.len();
        self.member[total].push(r);
        for &p in &parts {
            self.member[p].push(r);
        }
        self.relations.push(Relation { total, parts });
    }

    /// What may be shown of a count.
    pub fn shown(&self, id: CellId) -> Shown {
        match self.cells[id].state {
            State::Published(v) => Shown::Count(v),
            _ => Shown::Suppressed,
        }
    }

    /// Counts suppressed to protect others (for the manifest and the tests).
    pub fn secondary_count(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| c.state == State::Secondary)
            .count()
    }

    /// The range a reader allows a count before any relation.
    fn prior(&self, id: CellId) -> (i64, i64) {
        let c = &self.cells[id];
        let (lo, hi) = match c.state {
            State::Published(0) => (0, 0),
            State::Published(v) => ((v - 2).max(8), v + 2),
            // A reader cannot tell a small count from one hidden to protect it.
            State::Small | State::Secondary => (1, UNBOUNDED),
            State::Hidden => (0, UNBOUNDED),
        };
        match c.known {
            Some(k) => (lo.max(k), hi.min(k)),
            None => (lo, hi),
        }
    }

    /// Every count's range after propagating the relations to a fixed
    /// point, with `fix` pinning one count; None when nothing fits.
    fn bounds(&self, fix: Option<(CellId, i64)>) -> Option<Vec<(i64, i64)>> {
        let mut b: Vec<(i64, i64)> = (0..self.cells.len()).map(|i| self.prior(i)).collect();
        let mut queue: VecDeque<usize> = (0..self.relations.len()).collect();
        let mut queued = vec![true; self.relations.len()];
        if let Some((id, v)) = fix {
            if v < b[id].0 || v > b[id].1 {
                return None;
            }
            b[id] = (v, v);
        }
        if b.iter().any(|(lo, hi)| lo > hi) {
            return None;
        }
        // Each step only narrows a range, so this ends; the cap is a guard.
        let mut steps = 0usize;
        while let Some(r) = queue.pop_front() {
            queued[r] = false;
            steps += 1;
            if steps > 50_000 + 200 * self.relations.len() {
                break;
            }
            let changed = narrow(&self.relations[r], &mut b)?;
            for id in changed {
                for &other in &self.member[id] {
                    if !queued[other] {
                        queued[other] = true;
                        queue.push_back(other);
                    }
                }
            }
        }
        Some(b)
    }

    /// True when a reader told that suppressed count `id` is small (1 to 7)
    /// can tell its exact value.
    fn pinned(&self, id: CellId, base: &[(i64, i64)]) -> bool {
        let (lo, hi) = (base[id].0.max(1), base[id].1.min(super::SUPPRESS_MAX));
        let mut fits = 0;
        for v in lo..=hi {
            if self.bounds(Some((id, v))).is_some() {
                fits += 1;
                if fits > 1 {
                    return false;
                }
            }
        }
        fits == 1
    }

    /// The small counts a reader can tell exactly, in id order.
    pub fn disclosed(&self) -> Vec<CellId> {
        let Some(base) = self.bounds(None) else {
            return Vec::new();
        };
        (0..self.cells.len())
            .filter(|&i| self.cells[i].state == State::Small && self.pinned(i, &base))
            .collect()
    }

    /// Suppresses more counts until no suppressed small count can be told
    /// exactly; returns how many it could not protect (0 unless every count
    /// around one is fixed in place).
    pub fn protect(&mut self) -> usize {
        loop {
            let disclosed = self.disclosed();
            let Some(&first) = disclosed.first() else {
                return 0;
            };
            match self.cover_for(first) {
                Some(c) => self.cells[c].state = State::Secondary,
                None => return disclosed.len(),
            }
        }
    }

    /// The published count to suppress so that `id` is no longer pinned:
    /// among the nearest movable ones through the relations, one that alone
    /// frees it (the smallest such), else the smallest; parts before totals.
    fn cover_for(&mut self, id: CellId) -> Option<CellId> {
        let mut seen = vec![false; self.cells.len()];
        let mut frontier = vec![id];
        seen[id] = true;
        while !frontier.is_empty() {
            let mut candidates: Vec<(i64, bool, CellId)> = Vec::new();
            let mut next = Vec::new();
            for &c in &frontier {
                for &r in &self.member[c] {
                    let rel = &self.relations[r];
                    let total = std::iter::once((rel.total, true));
                    for (other, is_total) in total.chain(rel.parts.iter().map(|&p| (p, false))) {
                        if seen[other] {
                            continue;
                        }
                        seen[other] = true;
                        next.push(other);
                        let cell = &self.cells[other];
                        if let State::Published(v) = cell.state {
                            if v > 0 && cell.movable && cell.known.is_none() {
                                candidates.push((v, is_total, other));
                            }
                        }
                    }
                }
            }
            candidates.sort();
            for &(_, _, c) in &candidates {
                let was = self.cells[c].state;
                self.cells[c].state = State::Secondary;
                let freed = self
                    .bounds(None)
                    .is_some_and(|base| !self.pinned(id, &base));
                self.cells[c].state = was;
                if freed {
                    return Some(c);
                }
            }
            if let Some(&(_, _, c)) = candidates.first() {
                return Some(c);
            }
            frontier = next;
        }
        None
    }
}

/// Narrows the ranges of one relation's counts; the counts whose range
/// changed, or None when the relation cannot hold.
fn narrow(rel: &Relation, b: &mut [(i64, i64)]) -> Option<Vec<CellId>> {
    let mut changed = Vec::new();
    let (mut sum_lo, mut sum_hi, mut open) = (0i64, 0i64, 0usize);
    for &p in &rel.parts {
        sum_lo += b[p].0;
        if b[p].1 >= UNBOUNDED {
            open += 1;
        } else {
            sum_hi += b[p].1;
        }
    }
    let parts_hi = if open > 0 { UNBOUNDED } else { sum_hi };
    let t = rel.total;
    let (lo, hi) = (b[t].0.max(sum_lo), b[t].1.min(parts_hi));
    if lo > hi {
        return None;
    }
    if (lo, hi) != b[t] {
        b[t] = (lo, hi);
        changed.push(t);
    }
    let (t_lo, t_hi) = b[t];
    for &p in &rel.parts {
        let others_lo = sum_lo - b[p].0;
        let others_hi_open = open - usize::from(b[p].1 >= UNBOUNDED);
        let others_hi = sum_hi - if b[p].1 >= UNBOUNDED { 0 } else { b[p].1 };
        let mut lo = b[p].0;
        let mut hi = b[p].1;
        if others_hi_open == 0 {
            lo = lo.max(t_lo - others_hi);
        }
        if t_hi < UNBOUNDED {
            hi = hi.min(t_hi - others_lo);
        }
        if lo > hi {
            return None;
        }
        if (lo, hi) != b[p] {
            b[p] = (lo, hi);
            changed.push(p);
        }
    }
    Some(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An area's `all` row over its groups, all movable.
    fn area(all: i64, groups: &[i64]) -> (Protector, CellId, Vec<CellId>) {
        let mut p = Protector::new();
        let total = p.count(all, true);
        let parts: Vec<CellId> = groups.iter().map(|&g| p.count(g, true)).collect();
        p.relate(total, parts.clone());
        (p, total, parts)
    }

    #[test]
    fn three_tens_and_a_forty_five_give_a_seven_away() {
        // Worked by hand: all 43 (shown 45), groups 12, 12, 12 (shown 10)
        // and 7 (suppressed). The reader: the fourth >= 43 - 36 = 7, and <= 7.
        let (p, _, parts) = area(43, &[12, 12, 12, 7]);
        assert_eq!(p.disclosed(), vec![parts[3]]);
        let mut p = p;
        assert_eq!(p.protect(), 0);
        assert!(p.disclosed().is_empty());
        // One more count is hidden: a part (the smallest shown), not the total.
        assert_eq!(p.secondary_count(), 1);
        assert_eq!(p.shown(parts[3]), Shown::Suppressed);
        assert_eq!(
            parts[..3]
                .iter()
                .filter(|&&c| p.shown(c) == Shown::Suppressed)
                .count(),
            1
        );
    }

    #[test]
    fn fifteen_over_two_tens_gives_a_one_away() {
        // all 17 (shown 15: 13..17) = 8 (10) + 8 (10) + 1: the small one is
        // at most 17 − 8 − 8 = 1.
        let (mut p, _, parts) = area(17, &[8, 8, 1]);
        assert_eq!(p.disclosed(), vec![parts[2]]);
        assert_eq!(p.protect(), 0);
        assert!(p.disclosed().is_empty());
        // all 13 (15) = 8 (10) + 5: the 5 lies in 13 − 12 .. 17 − 8 = 1..9.
        let (p, _, _) = area(13, &[8, 5]);
        assert!(p.disclosed().is_empty());
        // all 13 (15) = 8 (10) + 4 + 1: the two small ones sum to 1..9.
        let (p, _, _) = area(13, &[8, 4, 1]);
        assert!(p.disclosed().is_empty());
    }

    #[test]
    fn loose_relations_suppress_nothing_more() {
        // 100 = 30 + 40 + 27 + 3: the 3 lies anywhere in 1..7.
        let (mut p, _, parts) = area(100, &[30, 40, 27, 3]);
        assert!(p.disclosed().is_empty());
        assert_eq!(p.protect(), 0);
        assert_eq!(p.secondary_count(), 0);
        assert_eq!(p.shown(parts[0]), Shown::Count(30));
        assert_eq!(p.shown(parts[2]), Shown::Count(25));
    }

    #[test]
    fn zeros_are_exact_and_a_lone_small_group_is_its_total() {
        // all 5 = 0 + 5 + 0: both the all row and the group are small.
        let (p, total, parts) = area(5, &[0, 5, 0]);
        assert_eq!(p.shown(total), Shown::Suppressed);
        assert_eq!(p.shown(parts[0]), Shown::Count(0));
        // Two suppressed counts equal to each other: neither is pinned.
        assert!(p.disclosed().is_empty());
    }

    #[test]
    fn a_known_value_and_hidden_counts_are_used_as_a_reader_would() {
        // A PCN with people waiting proposed exactly its capacity, 124: the
        // reader knows it. high_need 147 (shown 145) = 124 + waiting; waiting
        // shown 25 means 23..27, so high_need >= 147: both exact, but neither
        // is a small count. With waiting 3 (suppressed) and high_need 127
        // (shown 125): waiting = 125±2 − 124 = 1..3, not pinned.
        let mut p = Protector::new();
        let high = p.count(127, false);
        let proposed = p.count(124, false);
        p.known(proposed);
        let waiting = p.count(3, true);
        p.relate(high, vec![proposed, waiting]);
        assert!(p.disclosed().is_empty());
        // high_need 126 (125): waiting = 123..127 − 124, within 1..7 → 1..3.
        // high_need 125 (125) with waiting 1: 123..127 − 124 = −1..3 → 1..3.
        // But capacity 126, waiting 1, high 127 (125): 123..127 − 126 → 1 only.
        let mut p = Protector::new();
        let high = p.count(127, false);
        let proposed = p.count(126, false);
        p.known(proposed);
        let waiting = p.count(1, true);
        p.relate(high, vec![proposed, waiting]);
        assert_eq!(p.disclosed(), vec![waiting]);
        // Nothing movable can cover it: reported, not hidden silently.
        assert_eq!(p.protect(), 1);
        // A hidden part (sexes not drawn) leaves the reader no upper bound.
        let mut p = Protector::new();
        let total = p.count(17, false);
        let shown = p.count(8, true);
        let other = p.hidden(8);
        let small = p.count(1, true);
        p.relate(total, vec![shown, other, small]);
        assert!(p.disclosed().is_empty());
    }

    #[test]
    fn margins_of_a_two_way_table_are_used_together() {
        // PCN × group counts with PCN totals and ICB group totals; the one
        // small cell is pinned only through both margins at once:
        //   groups:  a    b   | all
        //   PCN 1:   s=7  12  | 19 (20)
        //   PCN 2:   12   12  | 24 (25)
        //   ICB:     19   24  | 43 (45)
        let mut p = Protector::new();
        let s = p.count(7, true);
        let b1 = p.count(12, true);
        let a2 = p.count(12, true);
        let b2 = p.count(12, true);
        let row1 = p.count(19, true);
        let row2 = p.count(24, true);
        let col_a = p.count(19, true);
        let col_b = p.count(24, true);
        let all = p.count(43, true);
        p.relate(row1, vec![s, b1]);
        p.relate(row2, vec![a2, b2]);
        p.relate(col_a, vec![s, a2]);
        p.relate(col_b, vec![b1, b2]);
        p.relate(all, vec![row1, row2]);
        p.relate(all, vec![col_a, col_b]);
        // By hand: row1 (18..22) = s + b1 gives s >= 6. row2 (23..27) =
        // a2 + b2 <= 24 and col_b (23..27) = b1 + b2 give b1 >= 11. all
        // (43..47) = row1 + row2 gives row1 >= 19, while row1 = s + b1 <= 19:
        // so row1 = 19 and s = 7.
        assert_eq!(p.disclosed(), vec![s]);
        assert_eq!(p.protect(), 0);
        assert!(p.disclosed().is_empty());
        assert_eq!(p.shown(s), Shown::Suppressed);
    }
}
