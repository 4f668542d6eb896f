//! Issue 15: the attacker test of disclosure control v2 (rules.md §6). It
//! reads every shared output phm writes for an extract (`inequalities` by
//! decile and by quintile, `compare` at PCN and practice level for every
//! indicator, the ICB report folder's CSVs) as an information-governance
//! reviewer would, and tries to get exact or suppressed counts back out:
//!
//! 1. Values and limits: for every row it tries every count pair within ±2
//!    of the published counts (as rounding to 5 allows) and recomputes the
//!    value and both intervals with metrics.md's formulas (written out again
//!    in `common::formulas`). The published counts must give exactly the
//!    published figures, so no other pair is singled out.
//! 2. Differencing: with the sums a reader knows (an area's groups and its
//!    `all` row, quintiles and deciles, PCNs and their ICB, practices and
//!    their PCN) it narrows every count's range and tries each value a
//!    suppressed small count could take. None may be left with one value.
//!    The reader here is stronger than a real one: it is told which
//!    suppressed counts are small (1–7) and which were suppressed to protect
//!    them (8 or more), from the exact counts.
//! 3. The same count must be published the same in every file.
//!
//! The SII, gap and funnel figures are recomputed from the published counts
//! too. Run with `--nocapture` to see how many rows and counts were checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::formulas::{count_limits, funnel_limit, near, sii_point, wilson, Z95, Z998};
use crate::common::*;
use phm::analysis::indicators::{Indicator, IndicatorConfig, Measure};
use phm::analysis::tallies::{AreaType, Group, Tallies};
use phm::pipeline::{Pipeline, RunOptions};
use phm::rules::RuleSet;

/// (indicator, "num"|"den", level, area code, group: "d1".."d10", "q1".."q5", "unknown", "all").
type Key = (String, &'static str, String, String, String);

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The shared outputs of one extract, written by the real binary.
struct Outputs {
    decile: PathBuf,
    quintile: PathBuf,
    pcn: PathBuf,
    practice: PathBuf,
    icb: PathBuf,
}

fn write_outputs(extract: &Path, work: &Path) -> Outputs {
    let o = Outputs {
        decile: work.join("inequalities-decile"),
        quintile: work.join("inequalities-quintile"),
        pcn: work.join("compare-pcn"),
        practice: work.join("compare-practice"),
        icb: work.join("report").join("icb"),
    };
    let report = work.join("report");
    let runs: [Vec<&str>; 5] = [
        vec!["inequalities", "--out", p(&o.decile)],
        vec![
            "inequalities",
            "--by",
            "imd_quintile",
            "--out",
            p(&o.quintile),
        ],
        vec!["compare", "--level", "pcn", "--out", p(&o.pcn)],
        vec!["compare", "--level", "practice", "--out", p(&o.practice)],
        vec!["report", "--out", p(&report)],
    ];
    std::thread::scope(|s| {
        for args in &runs {
            s.spawn(move || {
                let mut full = args.clone();
                full.extend(["--quiet", "--extract", p(extract)]);
                let (code, _, err) = phm(&full);
                assert_eq!(code, 0, "{args:?}: {err}");
            });
        }
    });
    o
}

/// What a reader sees: every published count, by key.
#[derive(Default)]
struct Seen {
    counts: BTreeMap<Key, Option<i64>>,
    /// The same count published differently in two places.
    clashes: Vec<String>,
}

impl Seen {
    fn put(&mut self, key: Key, cell: &str) {
        let v = (!cell.is_empty()).then(|| cell.parse::<i64>().unwrap());
        if let Some(old) = self.counts.insert(key.clone(), v) {
            if old != v {
                self.clashes.push(format!("{key:?}: {old:?} and {v:?}"));
            }
        }
    }

    fn read_inequalities(&mut self, file: &Path) {
        for r in csv_maps(file) {
            let group = match (r["group_type"].as_str(), r["group"].as_str()) {
                (_, g @ ("unknown" | "all")) => g.to_string(),
                ("imd_decile", d) => format!("d{d}"),
                (_, q) => format!("q{q}"),
            };
            for (side, col) in [("num", "numerator"), ("den", "denominator")] {
                let key = (
                    r["indicator"].clone(),
                    side,
                    r["area_type"].clone(),
                    r["area_code"].clone(),
                    group.clone(),
                );
                self.put(key, &r[col]);
            }
        }
    }

    /// A funnel or league file of areas at `level`.
    fn read_areas(&mut self, file: &Path, level: &str) {
        for r in csv_maps(file) {
            for (side, col) in [("num", "numerator"), ("den", "denominator")] {
                let key = (
                    r["indicator"].clone(),
                    side,
                    level.to_string(),
                    r["area_code"].clone(),
                    "all".into(),
                );
                self.put(key, &r[col]);
            }
        }
    }
}

/// The exact counts, by the same keys, from the library (the truth the
/// strong reader is told about suppressed counts).
struct Truth {
    indicators: Vec<Indicator>,
    tallies: Tallies,
}

impl Truth {
    async fn of(extract: &Path) -> Self {
        let pipeline = Pipeline::open(&RunOptions {
            extract: extract.to_path_buf(),
            ..Default::default()
        })
        .await
        .unwrap();
        let indicators = IndicatorConfig::load(&RuleSet::defaults())
            .unwrap()
            .indicators;
        let tallies = pipeline.tallies(&indicators).await.unwrap();
        Truth {
            indicators,
            tallies,
        }
    }

    fn group(g: &str) -> Group {
        match g {
            "all" => Group::All,
            "unknown" => Group::Unknown,
            d if d.starts_with('d') => Group::Decile(d[1..].parse().unwrap()),
            q => Group::Quintile(q[1..].parse().unwrap()),
        }
    }

    fn exact(&self, key: &Key) -> i64 {
        let k = self
            .indicators
            .iter()
            .position(|i| i.name == key.0)
            .unwrap();
        let level = match key.2.as_str() {
            "icb" => AreaType::Icb,
            "pcn" => AreaType::Pcn,
            _ => AreaType::Practice,
        };
        let t = self
            .tallies
            .get(k, &(level, key.3.clone()), Self::group(&key.4));
        if key.1 == "num" {
            t.numerator
        } else {
            t.denominator
        }
    }
}

/// An independent bounds reasoner: ranges narrowed through `total = sum of parts`.
struct Reader {
    lo: Vec<i64>,
    hi: Vec<i64>,
    relations: Vec<(usize, Vec<usize>)>,
}

const OPEN: i64 = 1 << 40;

impl Reader {
    /// Narrows every range to a fixed point; false when nothing fits.
    fn narrow(lo: &mut [i64], hi: &mut [i64], relations: &[(usize, Vec<usize>)]) -> bool {
        for _ in 0..10_000 {
            let mut changed = false;
            for (t, parts) in relations {
                let t = *t;
                let sum_lo: i64 = parts.iter().map(|&p| lo[p]).sum();
                let open = parts.iter().filter(|&&p| hi[p] >= OPEN).count();
                let finite_hi: i64 = parts
                    .iter()
                    .filter(|&&p| hi[p] < OPEN)
                    .map(|&p| hi[p])
                    .sum();
                let sum_hi = if open > 0 { OPEN } else { finite_hi };
                let (tl, th) = (lo[t].max(sum_lo), hi[t].min(sum_hi));
                if tl > th {
                    return false;
                }
                changed |= (tl, th) != (lo[t], hi[t]);
                (lo[t], hi[t]) = (tl, th);
                for &p in parts {
                    let p_open = hi[p] >= OPEN;
                    let others_lo = sum_lo - lo[p];
                    let others_open = open - usize::from(p_open);
                    let others_hi = finite_hi - if p_open { 0 } else { hi[p] };
                    let pl = if others_open > 0 {
                        lo[p]
                    } else {
                        lo[p].max(lo[t] - others_hi)
                    };
                    let ph = if hi[t] >= OPEN {
                        hi[p]
                    } else {
                        hi[p].min(hi[t] - others_lo)
                    };
                    if pl > ph {
                        return false;
                    }
                    changed |= (pl, ph) != (lo[p], hi[p]);
                    (lo[p], hi[p]) = (pl, ph);
                }
            }
            if !changed {
                return true;
            }
        }
        true
    }

    /// The values cell `c` can take, trying each one.
    fn possible(&self, c: usize) -> Vec<i64> {
        let (mut lo, mut hi) = (self.lo.clone(), self.hi.clone());
        assert!(
            Self::narrow(&mut lo, &mut hi, &self.relations),
            "the truth must fit"
        );
        (lo[c]..=hi[c].min(lo[c] + 7))
            .filter(|&v| {
                let (mut l, mut h) = (lo.clone(), hi.clone());
                l[c] = v;
                h[c] = v;
                Self::narrow(&mut l, &mut h, &self.relations)
            })
            .collect()
    }
}

/// Every sum a reader of the outputs knows, for one indicator and side.
fn relations_of(
    truth: &Truth,
    indicator: &str,
    side: &'static str,
    id: &mut dyn FnMut(Key) -> usize,
) -> Vec<(usize, Vec<usize>)> {
    let key = |level: &str, code: &str, g: &str| {
        (
            indicator.to_string(),
            side,
            level.to_string(),
            code.to_string(),
            g.to_string(),
        )
    };
    let g = &truth.tallies.geography;
    let mut out = Vec::new();
    let mut areas: Vec<(&str, String)> = g.icb_pcns.keys().map(|c| ("icb", c.clone())).collect();
    areas.extend(g.pcn_practices.keys().map(|c| ("pcn", c.clone())));
    let groups: Vec<String> = (1..=10)
        .map(|d| format!("d{d}"))
        .chain((1..=5).map(|q| format!("q{q}")))
        .chain(["unknown".to_string(), "all".to_string()])
        .collect();
    for (level, code) in &areas {
        let all = id(key(level, code, "all"));
        let unknown = id(key(level, code, "unknown"));
        let deciles: Vec<usize> = (1..=10)
            .map(|d| id(key(level, code, &format!("d{d}"))))
            .chain([unknown])
            .collect();
        let quintiles: Vec<usize> = (1..=5)
            .map(|q| id(key(level, code, &format!("q{q}"))))
            .chain([unknown])
            .collect();
        out.push((all, deciles));
        out.push((all, quintiles));
        for q in 1..=5 {
            let parts = vec![
                id(key(level, code, &format!("d{}", 2 * q - 1))),
                id(key(level, code, &format!("d{}", 2 * q))),
            ];
            out.push((id(key(level, code, &format!("q{q}"))), parts));
        }
    }
    for (icb, pcns) in &g.icb_pcns {
        for group in &groups {
            let parts = pcns.iter().map(|p| id(key("pcn", p, group))).collect();
            out.push((id(key("icb", icb, group)), parts));
        }
    }
    for (pcn, practices) in &g.pcn_practices {
        let parts = practices
            .iter()
            .map(|p| id(key("practice", p, "all")))
            .collect();
        out.push((id(key("pcn", pcn, "all")), parts));
    }
    out
}

/// What the differencing reader found.
#[derive(Default, Debug)]
struct Differencing {
    small: usize,
    protecting: usize,
    pinned: Vec<String>,
}

fn attack_by_differencing(seen: &Seen, truth: &Truth) -> Differencing {
    let mut found = Differencing::default();
    for ind in &truth.indicators {
        for side in ["num", "den"] {
            let mut keys: Vec<Key> = Vec::new();
            let mut index: BTreeMap<Key, usize> = BTreeMap::new();
            let relations = relations_of(truth, &ind.name, side, &mut |k: Key| {
                *index.entry(k.clone()).or_insert_with(|| {
                    keys.push(k);
                    keys.len() - 1
                })
            });
            let (mut lo, mut hi) = (Vec::new(), Vec::new());
            let mut small = Vec::new();
            for (c, k) in keys.iter().enumerate() {
                let exact = truth.exact(k);
                let (l, h) = match seen.counts.get(k) {
                    // Not in any output (an area with nobody): the reader knows nothing.
                    None => (0, OPEN),
                    Some(Some(0)) => (0, 0),
                    Some(Some(v)) => ((v - 2).max(8), v + 2),
                    Some(None) if (1..=7).contains(&exact) => {
                        small.push(c);
                        (1, 7)
                    }
                    Some(None) => {
                        found.protecting += 1;
                        (8, OPEN)
                    }
                };
                assert!(
                    l <= exact && exact <= h,
                    "{k:?}: exact {exact} outside the reader's {l}..{h}"
                );
                lo.push(l);
                hi.push(h);
            }
            let reader = Reader { lo, hi, relations };
            for c in small {
                found.small += 1;
                let values = reader.possible(c);
                assert!(values.contains(&truth.exact(&keys[c])));
                if values.len() == 1 {
                    found.pinned.push(format!("{:?} = {}", keys[c], values[0]));
                }
            }
        }
    }
    found
}

fn f(r: &BTreeMap<String, String>, c: &str) -> Option<f64> {
    (!r[c].is_empty()).then(|| r[c].parse().unwrap())
}

/// The published counts a reader allows for a published count c.
fn around(c: i64) -> Vec<i64> {
    if c == 0 {
        vec![0]
    } else {
        ((c - 2).max(8)..=c + 2).collect()
    }
}

/// Value and limits (95%, 99.8%) of x of n by an indicator's method.
fn figures(ind: &Indicator, x: f64, n: f64) -> [f64; 5] {
    let m = ind.multiplier;
    let ((l95, u95), (l998, u998)) = match ind.measure {
        Measure::Proportion => (wilson(x, n, Z95), wilson(x, n, Z998)),
        Measure::Rate => {
            let (a, b) = count_limits(x, Z95, 0.95);
            let (c, d) = count_limits(x, Z998, 0.998);
            ((a / n, b / n), (c / n, d / n))
        }
    };
    [x / n * m, l95 * m, u95 * m, l998 * m, u998 * m]
}

/// Rows whose value and limits were recomputed from the published counts.
#[derive(Default, Debug)]
struct Recomputed {
    rows: usize,
    dsr_rows: usize,
}

/// Checks 1: every row's figures are those of its published counts.
fn attack_values(file: &Path, truth: &Truth, done: &mut Recomputed) {
    for r in csv_maps(file) {
        let ind = truth
            .indicators
            .iter()
            .find(|i| i.name == r["indicator"])
            .unwrap();
        let (Some(x), Some(n), Some(value)) =
            (f(&r, "numerator"), f(&r, "denominator"), f(&r, "value"))
        else {
            continue;
        };
        let published = [
            value,
            f(&r, "lower95").unwrap(),
            f(&r, "upper95").unwrap(),
            f(&r, "lower998").unwrap(),
            f(&r, "upper998").unwrap(),
        ];
        if ind.standardised {
            // rules.md §6.2's exception: from the exact bands, rounded to 1 place.
            for v in published {
                assert!(
                    near(v * 10.0, (v * 10.0).round()),
                    "{file:?} {r:?}: DSR not rounded"
                );
            }
            assert!(x >= 15.0, "{r:?}: DSR published with O under 15");
            done.dsr_rows += 1;
            continue;
        }
        let matches: Vec<(i64, i64)> = around(x as i64)
            .into_iter()
            .flat_map(|a| around(n as i64).into_iter().map(move |b| (a, b)))
            .filter(|&(a, b)| {
                b > 0
                    && figures(ind, a as f64, b as f64)
                        .iter()
                        .zip(&published)
                        .all(|(g, w)| near(*g, *w))
            })
            .collect();
        assert!(
            matches.contains(&(x as i64, n as i64)),
            "{file:?}: {r:?} is not what its published counts give; pairs that give it: {matches:?}"
        );
        done.rows += 1;
    }
}

/// SII, RII and gap recomputed from the published group figures.
fn attack_sii_and_gap(o: &Outputs, truth: &Truth) -> usize {
    let mut rows = BTreeMap::new();
    for file in [
        o.decile.join("inequalities.csv"),
        o.quintile.join("inequalities.csv"),
    ] {
        for r in csv_maps(&file) {
            rows.insert(
                (
                    r["indicator"].clone(),
                    r["area_code"].clone(),
                    r["group_type"].clone(),
                    r["group"].clone(),
                ),
                r,
            );
        }
    }
    let mut checked = 0;
    for s in csv_maps(&o.decile.join("sii.csv")) {
        let Some(sii) = f(&s, "sii") else { continue };
        let ind = truth
            .indicators
            .iter()
            .find(|i| i.name == s["indicator"])
            .unwrap();
        let k = if s["group_type"] == "imd_decile" {
            10
        } else {
            5
        };
        let (mut y, mut n) = (Vec::new(), Vec::new());
        for j in 1..=k {
            let r = &rows[&(
                s["indicator"].clone(),
                s["area_code"].clone(),
                s["group_type"].clone(),
                j.to_string(),
            )];
            y.push(f(r, "value").unwrap() / ind.multiplier);
            n.push(f(r, "denominator").unwrap());
        }
        let (want_sii, want_rii) = sii_point(&y, &n, ind.multiplier);
        assert!(
            near(sii, want_sii),
            "{s:?}: SII {sii}, from the published figures {want_sii}"
        );
        assert!(near(f(&s, "rii").unwrap(), want_rii), "{s:?}: RII");
        checked += 1;
    }
    for g in csv_maps(&o.decile.join("gap.csv")) {
        let Some(ratio) = f(&g, "ratio") else {
            continue;
        };
        let q = |j: &str| {
            let r = &rows[&(
                g["indicator"].clone(),
                g["area_code"].clone(),
                "imd_quintile".into(),
                j.to_string(),
            )];
            f(r, "value").unwrap()
        };
        let (q1, q5) = (q("1"), q("5"));
        assert!(
            near(f(&g, "q1_value").unwrap(), q1) && near(f(&g, "q5_value").unwrap(), q5),
            "{g:?}"
        );
        assert!(
            near(ratio, q1 / q5) && near(f(&g, "gap").unwrap(), q1 - q5),
            "{g:?}"
        );
        checked += 1;
    }
    checked
}

/// Funnel centre lines, values, limits and labels from the published counts.
fn attack_funnels(file: &Path, truth: &Truth) -> usize {
    let rows = csv_maps(file);
    let mut checked = 0;
    for ind in &truth.indicators {
        let mine: Vec<_> = rows.iter().filter(|r| r["indicator"] == ind.name).collect();
        let shown: Vec<_> = mine.iter().filter(|r| !r["value"].is_empty()).collect();
        let m = ind.multiplier;
        if !ind.standardised {
            let (sx, sn): (f64, f64) = shown.iter().fold((0.0, 0.0), |(a, b), r| {
                (
                    a + f(r, "numerator").unwrap(),
                    b + f(r, "denominator").unwrap(),
                )
            });
            for r in &mine {
                assert!(
                    near(f(r, "average").unwrap(), sx / sn * m),
                    "{r:?}: centre line not from the published counts"
                );
            }
        }
        for r in shown {
            let (x, n) = (f(r, "numerator").unwrap(), f(r, "denominator").unwrap());
            if !ind.standardised {
                assert!(near(f(r, "value").unwrap(), x / n * m), "{r:?}");
            }
            if ind.measure == Measure::Proportion {
                let av = f(r, "average").unwrap() / m;
                for (col, prob, high) in [
                    ("lower95", 0.975, false),
                    ("upper95", 0.975, true),
                    ("lower998", 0.999, false),
                    ("upper998", 0.999, true),
                ] {
                    assert!(
                        near(f(r, col).unwrap(), funnel_limit(prob, n, av, high) * m),
                        "{r:?}: {col}"
                    );
                }
            }
            checked += 1;
        }
        for r in mine.iter().filter(|r| r["value"].is_empty()) {
            assert_eq!(
                r["significance"], "suppressed (disclosure control)",
                "{r:?}"
            );
        }
    }
    checked
}

/// The ICB report's CSVs: the same published figures as the commands',
/// and its summary computed from its published counts.
fn attack_report(o: &Outputs) -> usize {
    for name in ["inequalities.csv", "sii.csv", "gap.csv"] {
        assert_eq!(
            std::fs::read_to_string(o.icb.join(name)).unwrap(),
            std::fs::read_to_string(o.decile.join(name)).unwrap(),
            "{name}: the report and `phm inequalities` publish differently"
        );
    }
    let funnel = csv_maps(&o.pcn.join("funnel.csv"));
    let mut checked = 0;
    for entry in std::fs::read_dir(&o.icb).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        let Some(ind) = name
            .strip_prefix("funnel_")
            .and_then(|n| n.strip_suffix(".csv"))
        else {
            continue;
        };
        let mine: Vec<_> = funnel
            .iter()
            .filter(|r| r["indicator"] == ind)
            .cloned()
            .collect();
        assert_eq!(csv_maps(&o.icb.join(&name)), mine, "{name}");
        checked += mine.len();
    }
    for r in csv_maps(&o.icb.join("pcn_summary.csv")) {
        let count = |c: &str| (r[c] != "suppressed").then(|| r[c].parse::<i64>().unwrap());
        for c in [
            "registered",
            "eligible",
            "high_need",
            "proposed",
            "not_offered",
        ] {
            if let Some(n) = count(c) {
                assert!(n == 0 || (n >= 10 && n % 5 == 0), "{c} = {n} in {r:?}");
            }
        }
        if let (Some(h), Some(p)) = (count("high_need"), count("proposed")) {
            assert_eq!(count("not_offered"), Some((h - p).max(0)), "{r:?}");
            // Default capacity inputs: 200 offers per FTE-year × 0.3 proactive, 12 months.
            let fte = ((h as f64 * 10.0 / 60.0).ceil() / 10.0).to_string();
            assert_eq!(
                r["fte_needed"].parse::<f64>().unwrap().to_string(),
                fte,
                "{r:?}"
            );
        }
        checked += 1;
    }
    checked
}

async fn attack(extract: &Path, work: &Path) {
    let o = write_outputs(extract, work);
    let truth = Truth::of(extract).await;
    let mut seen = Seen::default();
    seen.read_inequalities(&o.decile.join("inequalities.csv"));
    seen.read_inequalities(&o.quintile.join("inequalities.csv"));
    seen.read_inequalities(&o.icb.join("inequalities.csv"));
    for (dir, level) in [(&o.pcn, "pcn"), (&o.practice, "practice")] {
        seen.read_areas(&dir.join("funnel.csv"), level);
        seen.read_areas(&dir.join("league.csv"), level);
    }
    assert!(
        seen.clashes.is_empty(),
        "the same count published differently: {:#?}",
        seen.clashes
    );

    let mut recomputed = Recomputed::default();
    for file in [
        o.decile.join("inequalities.csv"),
        o.quintile.join("inequalities.csv"),
    ] {
        attack_values(&file, &truth, &mut recomputed);
    }
    let statistics = attack_sii_and_gap(&o, &truth);
    let funnels = attack_funnels(&o.pcn.join("funnel.csv"), &truth)
        + attack_funnels(&o.practice.join("funnel.csv"), &truth);
    let report = attack_report(&o);
    let differencing = attack_by_differencing(&seen, &truth);
    eprintln!(
        "disclosure attack on {}: {} counts seen; {} rows' values and limits recomputed from \
         ±2 of their published counts (+{} DSR rows checked as rounded); {} SII/gap rows and \
         {} funnel rows recomputed; {} report rows; {} suppressed small counts tried by \
         differencing ({} counts suppressed to protect them): {} pinned",
        extract.display(),
        seen.counts.len(),
        recomputed.rows,
        recomputed.dsr_rows,
        statistics,
        funnels,
        report,
        differencing.small,
        differencing.protecting,
        differencing.pinned.len()
    );
    // Not vacuous: rows were recomputed and small counts were there to find.
    assert!(
        recomputed.rows > 0 && differencing.small > 0,
        "nothing to attack"
    );
    assert!(
        differencing.pinned.is_empty(),
        "suppressed counts a reader can work out: {:#?}",
        differencing.pinned
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_datas_shared_outputs_give_no_count_away() {
    let work = tempfile::tempdir().unwrap();
    attack(Path::new("sample-data/extract"), work.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_small_pcns_shared_outputs_give_no_count_away() {
    let work = tempfile::tempdir().unwrap();
    let extract = work.path().join("extract");
    let (code, _, err) = phm(&[
        "generate",
        "--quiet",
        "--patients",
        "2400",
        "--pcns",
        "6",
        "--seed",
        "7",
        "--as-of",
        "2025-03-31",
        "--out",
        p(&extract),
    ]);
    assert_eq!(code, 0, "{err}");
    attack(&extract, work.path()).await;
}

#[test]
fn the_reader_pins_what_it_should() {
    // The reader itself, on the hand case of protect.rs: all 43 (shown 45)
    // over 12, 12, 12 (shown 10 each) and a suppressed 7 → pinned at 7.
    let reader = Reader {
        lo: vec![43, 8, 8, 8, 1],
        hi: vec![47, 12, 12, 12, 7],
        relations: vec![(0, vec![1, 2, 3, 4])],
    };
    assert_eq!(reader.possible(4), vec![7]);
    let loose = Reader {
        lo: vec![98, 28, 38, 25, 1],
        hi: vec![102, 32, 42, 29, 7],
        relations: vec![(0, vec![1, 2, 3, 4])],
    };
    assert_eq!(loose.possible(4).len(), 7);
}
