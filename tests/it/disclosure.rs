//! Issue 15: the attacker test of disclosure control v2 (rules.md §6). It
//! reads every shared output phm writes for an extract (`inequalities` by
//! decile, by quintile and by local quintile, and by each breakdown of
//! equity.md §1 with its ratios, `compare` at PCN and practice level for every
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
//!    their PCN, and each decile × local quintile segment, never published,
//!    whose sums are the deciles and the local quintiles, an empty segment
//!    taken as known; each breakdown's categories and the `all` row, the
//!    ethnic minority flag as the sum of its ethnic groups, core20 as IMD
//!    quintile 1) it narrows every count's range and tries each value a
//!    suppressed small count could take. None may be left with one value.
//!    Attacking a count, the reader is told (from the exact counts) that it
//!    is small, 1 to 7; every other suppressed count it knows only as 1 or
//!    more, since a small count and one hidden to protect it look alike.
//! 3. The same count must be published the same in every file.
//!
//! The SII, gap and funnel figures are recomputed from the published counts
//! too. Run with `--nocapture` to see how many rows and counts were checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::formulas::{count_limits, funnel_limit, near, sii_point, wilson, Z95, Z998};
use crate::common::*;
use phm::analysis::breakdowns::{BreakdownTallies, Cell as BreakdownCell, PARTITIONS};
use phm::analysis::indicators::{Indicator, IndicatorConfig, Measure};
use phm::analysis::tallies::{AreaType, Group, Tallies};
use phm::pipeline::{Pipeline, RunOptions};
use phm::rules::RuleSet;

/// (indicator, "num"|"den", level, area code, group: "d1".."d10", "q1".."q5",
/// local "l1".."l5", segment "s{decile}_{local}", "unknown", "all").
type Key = (String, &'static str, String, String, String);

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The shared outputs of one extract, written by the real binary.
struct Outputs {
    decile: PathBuf,
    quintile: PathBuf,
    local: PathBuf,
    pcn: PathBuf,
    practice: PathBuf,
    icb: PathBuf,
    /// `inequalities --by` each breakdown (equity.md §1).
    breakdowns: Vec<PathBuf>,
}

/// The breakdowns of equity.md §1 that `--by` takes.
const BREAKDOWNS: [&str; 4] = ["sex", "age_band", "ethnic_group", "plus_group"];

fn write_outputs(extract: &Path, work: &Path) -> Outputs {
    let o = Outputs {
        decile: work.join("inequalities-decile"),
        quintile: work.join("inequalities-quintile"),
        local: work.join("inequalities-local"),
        pcn: work.join("compare-pcn"),
        practice: work.join("compare-practice"),
        icb: work.join("report").join("icb"),
        breakdowns: BREAKDOWNS
            .iter()
            .map(|b| work.join(format!("inequalities-{b}")))
            .collect(),
    };
    let report = work.join("report");
    let mut runs: Vec<Vec<&str>> = vec![
        vec!["inequalities", "--out", p(&o.decile)],
        vec![
            "inequalities",
            "--by",
            "imd_quintile",
            "--out",
            p(&o.quintile),
        ],
        vec![
            "inequalities",
            "--by",
            "local_quintile",
            "--out",
            p(&o.local),
        ],
        vec!["compare", "--level", "pcn", "--out", p(&o.pcn)],
        vec!["compare", "--level", "practice", "--out", p(&o.practice)],
        vec!["report", "--out", p(&report)],
    ];
    for (b, dir) in BREAKDOWNS.iter().zip(&o.breakdowns) {
        runs.push(vec!["inequalities", "--by", b, "--out", p(dir)]);
    }
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
                (_, "all") => "all".to_string(),
                (t, g) if is_breakdown(t) => format!("b:{t}:{g}"),
                (_, "unknown") => "unknown".to_string(),
                ("imd_decile", d) => format!("d{d}"),
                ("local_quintile", l) => format!("l{l}"),
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

    /// The ICB report's own tables (`suppressed` written for a suppressed count).
    fn read_report_tables(&mut self, icb: &Path) {
        let key = |table: &str, code: &str, cell: &str| -> Key {
            (
                format!("report:{table}"),
                "num",
                "pcn".into(),
                code.to_string(),
                cell.to_string(),
            )
        };
        let cell = |v: &str| {
            if v == "suppressed" {
                String::new()
            } else {
                v.to_string()
            }
        };
        for r in csv_maps(&icb.join("pcn_summary.csv")) {
            for c in ["registered", "eligible", "high_need", "proposed"] {
                self.put(key("summary", &r["pcn_code"], c), &cell(&r[c]));
            }
        }
        for r in csv_maps(&icb.join("segments.csv")) {
            self.put(
                key("segments", &r["pcn_code"], &r["segment"]),
                &cell(&r["proposed"]),
            );
        }
        for r in csv_maps(&icb.join("pyramid.csv")) {
            self.put(
                key("pyramid_registered", &r["age_band"], &r["sex"]),
                &cell(&r["registered"]),
            );
            self.put(
                key("pyramid_proposed", &r["age_band"], &r["sex"]),
                &cell(&r["proposed"]),
            );
        }
        for r in csv_maps(&icb.join("need_scores.csv")) {
            self.put(
                key("need", &r["imd_quintile"], &r["need_score"]),
                &cell(&r["eligible"]),
            );
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

/// Whether a `group_type` is a breakdown's partition (equity.md §1).
fn is_breakdown(group_type: &str) -> bool {
    BREAKDOWN_PARTITIONS
        .iter()
        .any(|(name, _)| *name == group_type)
}

/// equity.md §1's partitions and their categories, written out from the spec.
const BREAKDOWN_PARTITIONS: [(&str, &[&str]); 7] = [
    ("sex", &["F", "M", "I", "U"]),
    ("age_band", &["0-17", "18-39", "40-64", "65-79", "80+"]),
    (
        "ethnic_group",
        &[
            "White",
            "Mixed",
            "Asian",
            "Black",
            "Other",
            "Not stated",
            "Unknown",
        ],
    ),
    ("plus_ethnic_minority", &["yes", "no"]),
    ("plus_inclusion_health", &["yes", "no"]),
    ("plus_learning_disability", &["yes", "no"]),
    ("core20", &["yes", "no"]),
];

/// The exact counts, by the same keys, from the library (the truth the
/// strong reader is told about suppressed counts).
struct Truth {
    indicators: Vec<Indicator>,
    tallies: Tallies,
    breakdowns: BreakdownTallies,
    /// The exact inputs of the report (its proposal, population, scores).
    report: phm::report::ReportData,
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
        let breakdowns = pipeline.breakdown_tallies(&indicators).await.unwrap();
        let proposal = pipeline
            .proposal(&Default::default(), &Default::default())
            .await
            .unwrap();
        let report = pipeline.report_data(proposal, &[]).await.unwrap();
        Truth {
            indicators,
            tallies,
            breakdowns,
            report,
        }
    }

    fn group(g: &str) -> Group {
        match g {
            "all" => Group::All,
            "unknown" => Group::Unknown,
            d if d.starts_with('d') => Group::Decile(d[1..].parse().unwrap()),
            l if l.starts_with('l') => Group::Local(l[1..].parse().unwrap()),
            s if s.starts_with('s') => {
                let (d, l) = s[1..].split_once('_').unwrap();
                Group::Segment(d.parse().unwrap(), l.parse().unwrap())
            }
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
        let area = (level, key.3.clone());
        let t = match key.4.strip_prefix("b:") {
            Some(b) => {
                let (part, cat) = b.split_once(':').unwrap();
                let p = PARTITIONS.iter().position(|x| x.name == part).unwrap();
                let i = PARTITIONS[p]
                    .categories
                    .iter()
                    .position(|c| *c == cat)
                    .unwrap();
                self.breakdowns
                    .get(k, &area, BreakdownCell::Category((p, i as u8)))
            }
            None => self.tallies.get(k, &area, Self::group(&key.4)),
        };
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

    /// The values 1 to 7 small count `c` can take, trying each one.
    fn possible(&self, c: usize) -> Vec<i64> {
        let (mut lo, mut hi) = (self.lo.clone(), self.hi.clone());
        assert!(
            Self::narrow(&mut lo, &mut hi, &self.relations),
            "the truth must fit"
        );
        (lo[c].max(1)..=hi[c].min(7))
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
    let segments: Vec<(u8, u8)> = (1..=10)
        .flat_map(|d| (1..=5).map(move |l| (d, l)))
        .collect();
    let groups: Vec<String> = (1..=10)
        .map(|d| format!("d{d}"))
        .chain((1..=5).map(|q| format!("q{q}")))
        .chain((1..=5).map(|l| format!("l{l}")))
        .chain(segments.iter().map(|(d, l)| format!("s{d}_{l}")))
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
        let locals: Vec<usize> = (1..=5)
            .map(|l| id(key(level, code, &format!("l{l}"))))
            .chain([unknown])
            .collect();
        out.push((all, deciles));
        out.push((all, quintiles));
        out.push((all, locals));
        for d in 1..=10 {
            let parts = (1..=5)
                .map(|l| id(key(level, code, &format!("s{d}_{l}"))))
                .collect();
            out.push((id(key(level, code, &format!("d{d}"))), parts));
        }
        for l in 1..=5 {
            let parts = (1..=10)
                .map(|d| id(key(level, code, &format!("s{d}_{l}"))))
                .collect();
            out.push((id(key(level, code, &format!("l{l}"))), parts));
        }
        for q in 1..=5 {
            let parts = vec![
                id(key(level, code, &format!("d{}", 2 * q - 1))),
                id(key(level, code, &format!("d{}", 2 * q))),
            ];
            out.push((id(key(level, code, &format!("q{q}"))), parts));
        }
    }
    let breakdown_groups: Vec<String> = BREAKDOWN_PARTITIONS
        .iter()
        .flat_map(|(name, cats)| cats.iter().map(move |c| format!("b:{name}:{c}")))
        .collect();
    for (level, code) in &areas {
        let b = |part: &str, cat: &str| key(level, code, &format!("b:{part}:{cat}"));
        // Every partition's categories add up to the area's all row.
        for (name, cats) in BREAKDOWN_PARTITIONS {
            let parts = cats.iter().map(|c| id(b(name, c))).collect();
            out.push((id(key(level, code, "all")), parts));
        }
        // rules.md §2: plus_ethnic_minority is ethnicity D..S (Mixed, Asian,
        // Black, Other), and core20 is IMD deciles 1 and 2 (quintile 1).
        let minority = ["Mixed", "Asian", "Black", "Other"]
            .iter()
            .map(|c| id(b("ethnic_group", c)))
            .collect();
        out.push((id(b("plus_ethnic_minority", "yes")), minority));
        let majority = ["White", "Not stated", "Unknown"]
            .iter()
            .map(|c| id(b("ethnic_group", c)))
            .collect();
        out.push((id(b("plus_ethnic_minority", "no")), majority));
        out.push((id(b("core20", "yes")), vec![id(key(level, code, "q1"))]));
    }
    for (icb, pcns) in &g.icb_pcns {
        for group in groups.iter().chain(&breakdown_groups) {
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

/// Counts and the sums between them, as one reader's problem.
#[derive(Default)]
struct System {
    keys: Vec<Key>,
    exact: Vec<i64>,
    index: BTreeMap<Key, usize>,
    relations: Vec<(usize, Vec<usize>)>,
    /// Counts a reader knows exactly from elsewhere.
    known: BTreeMap<usize, i64>,
}

impl System {
    fn id(&mut self, key: Key, exact: i64) -> usize {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.keys.push(key.clone());
        self.exact.push(exact);
        self.index.insert(key, self.keys.len() - 1);
        self.keys.len() - 1
    }

    /// The reader's ranges from what it saw, then every small count tried.
    fn attack(self, seen: &Seen, found: &mut Differencing) {
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        let mut small = Vec::new();
        for (c, k) in self.keys.iter().enumerate() {
            let exact = self.exact[c];
            let (mut l, mut h) = match seen.counts.get(k) {
                // In no output (a total nobody publishes, sexes not drawn): only >= 0.
                None => (0, OPEN),
                Some(Some(0)) => (0, 0),
                Some(Some(v)) => ((v - 2).max(8), v + 2),
                Some(None) => {
                    if (1..=7).contains(&exact) {
                        small.push(c);
                    } else {
                        found.protecting += 1;
                    }
                    (1, OPEN)
                }
            };
            if let Some(&v) = self.known.get(&c) {
                (l, h) = (l.max(v), h.min(v));
            }
            assert!(
                l <= exact && exact <= h,
                "{k:?}: exact {exact} outside the reader's {l}..{h}"
            );
            lo.push(l);
            hi.push(h);
        }
        let reader = Reader {
            lo,
            hi,
            relations: self.relations,
        };
        for c in small {
            found.small += 1;
            let values = reader.possible(c);
            assert!(values.contains(&self.exact[c]));
            if values.len() == 1 {
                found
                    .pinned
                    .push(format!("{:?} = {}", self.keys[c], values[0]));
            }
        }
    }
}

fn attack_by_differencing(seen: &Seen, truth: &Truth) -> Differencing {
    let mut found = Differencing::default();
    for ind in &truth.indicators {
        for side in ["num", "den"] {
            let mut system = System::default();
            let relations = relations_of(truth, &ind.name, side, &mut |k: Key| {
                let exact = truth.exact(&k);
                system.id(k, exact)
            });
            system.relations = relations;
            // An empty segment is taken as known, as phm's protector takes it.
            for (c, k) in system.keys.iter().enumerate() {
                if k.4.starts_with('s') && system.exact[c] == 0 {
                    system.known.insert(c, 0);
                }
            }
            system.attack(seen, &mut found);
        }
    }
    attack_report_tables(seen, truth, &mut found);
    found
}

/// The ICB report's own tables: segments add up to each PCN's proposed
/// cohort (which is its capacity when people are waiting), the pyramid's
/// cells to the registered population and the cohort (other sexes not
/// drawn), and each quintile's need scores to its eligible and high-need
/// counts (the `high_need` indicator's denominator and numerator).
fn attack_report_tables(seen: &Seen, truth: &Truth, found: &mut Differencing) {
    let r = &truth.report;
    let key = |table: &str, code: &str, cell: &str| -> Key {
        (
            format!("report:{table}"),
            "num",
            "pcn".into(),
            code.to_string(),
            cell.to_string(),
        )
    };
    let mut sys = System::default();
    let segments = phm::report::data::segment_counts(&r.proposal);
    for s in &r.proposal.summaries {
        let total = sys.id(key("summary", &s.pcn_code, "proposed"), s.proposed as i64);
        // high_need = proposed + waiting + excluded; the last two unpublished.
        let high_id = sys.id(key("summary", &s.pcn_code, "high_need"), s.high_need as i64);
        let waiting = sys.id(key("hidden", &s.pcn_code, "waiting"), s.waiting as i64);
        let excluded = sys.id(key("hidden", &s.pcn_code, "excluded"), s.excluded as i64);
        sys.relations
            .push((high_id, vec![total, waiting, excluded]));
        let high = seen
            .counts
            .get(&key("summary", &s.pcn_code, "high_need"))
            .copied()
            .flatten();
        if high.is_some_and(|h| h - s.capacity as i64 >= 5) {
            sys.known.insert(total, s.capacity as i64);
        }
        let parts = r
            .proposal
            .segments
            .iter()
            .map(|seg| {
                let n = segments
                    .get(&(s.pcn_code.clone(), seg.clone()))
                    .copied()
                    .unwrap_or(0);
                sys.id(key("segments", &s.pcn_code, seg), n)
            })
            .collect();
        sys.relations.push((total, parts));
    }
    // Pyramid: all PCNs, registered and proposed, against the PCN totals.
    let (mut pop, mut other_pop) = ([[0i64; 2]; 10], 0);
    for c in &r.population {
        match c.sex.as_str() {
            "F" => pop[c.age_band.min(9)][0] += c.patients,
            "M" => pop[c.age_band.min(9)][1] += c.patients,
            _ => other_pop += c.patients,
        }
    }
    let (mut coh, mut other_coh) = ([[0i64; 2]; 10], 0);
    for row in r
        .proposal
        .rows
        .iter()
        .filter(|x| x.status == phm::proposals::Status::Proposed)
    {
        let band = ((row.candidate.age.max(0) / 10) as usize).min(9);
        match row.candidate.sex.as_str() {
            "F" => coh[band][0] += 1,
            "M" => coh[band][1] += 1,
            _ => other_coh += 1,
        }
    }
    let labels = phm::report::figures::PYRAMID_LABELS;
    for (table, t, other, totals) in [
        ("pyramid_registered", pop, other_pop, "registered"),
        ("pyramid_proposed", coh, other_coh, "proposed"),
    ] {
        let all: i64 = t.iter().flatten().sum::<i64>() + other;
        let total = sys.id(key(table, "all", "total"), all);
        let pcns = r
            .proposal
            .summaries
            .iter()
            .map(|s| {
                let exact = if totals == "registered" {
                    s.registered
                } else {
                    s.proposed
                } as i64;
                sys.id(key("summary", &s.pcn_code, totals), exact)
            })
            .collect();
        sys.relations.push((total, pcns));
        let mut parts = vec![sys.id(key(table, "all", "other sexes"), other)];
        for (b, label) in labels.iter().enumerate() {
            for (x, sex) in ["F", "M"].iter().enumerate() {
                parts.push(sys.id(key(table, label, sex), t[b][x]));
            }
        }
        sys.relations.push((total, parts));
    }
    // Need scores against the high_need indicator's ICB quintiles.
    for q in 1..=5u8 {
        for (side, min_score) in [("den", i32::MIN), ("num", r.high_need_score)] {
            let mut parts = Vec::new();
            let mut icb_cells = Vec::new();
            for icb in truth.tallies.geography.icb_pcns.keys() {
                let ik: Key = (
                    "high_need".into(),
                    side,
                    "icb".into(),
                    icb.clone(),
                    format!("q{q}"),
                );
                let exact = truth.exact(&ik);
                icb_cells.push(sys.id(ik, exact));
            }
            let all: i64 = icb_cells.iter().map(|&c| sys.exact[c]).sum();
            let total = sys.id(key("need", "all", &format!("q{q} {side}")), all);
            sys.relations.push((total, icb_cells));
            let mut by_score: BTreeMap<i32, i64> = BTreeMap::new();
            for c in r
                .need_scores
                .iter()
                .filter(|c| c.imd_quintile == Some(q as i32))
            {
                *by_score.entry(c.need_score).or_default() += c.patients;
            }
            for (score, n) in by_score.into_iter().filter(|(s, _)| *s >= min_score) {
                parts.push(sys.id(key("need", &q.to_string(), &score.to_string()), n));
            }
            sys.relations.push((total, parts));
        }
    }
    sys.attack(seen, found);
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
        o.local.join("inequalities.csv"),
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
    let sii_rows = csv_maps(&o.decile.join("sii.csv"))
        .into_iter()
        .chain(csv_maps(&o.local.join("sii.csv")));
    for s in sii_rows {
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
    let gaps = [(&o.decile, "imd_quintile"), (&o.local, "local_quintile")]
        .into_iter()
        .flat_map(|(dir, by)| {
            csv_maps(&dir.join("gap.csv"))
                .into_iter()
                .map(move |g| (g, by))
        });
    for (g, by) in gaps {
        let Some(ratio) = f(&g, "ratio") else {
            continue;
        };
        let q = |j: &str| {
            let r = &rows[&(
                g["indicator"].clone(),
                g["area_code"].clone(),
                by.to_string(),
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

/// Each breakdown's ratio to its reference group, recomputed from the two
/// groups' published counts: metrics.md §5's ratio with its Katz interval
/// (crude rates and proportions; a DSR's from its rounded values).
fn attack_ratios(o: &Outputs, truth: &Truth) -> usize {
    let mut checked = 0;
    for dir in &o.breakdowns {
        let rows: BTreeMap<(String, String, String, String), BTreeMap<String, String>> =
            csv_maps(&dir.join("inequalities.csv"))
                .into_iter()
                .map(|r| {
                    let key = (
                        r["indicator"].clone(),
                        r["area_code"].clone(),
                        r["group_type"].clone(),
                        r["group"].clone(),
                    );
                    (key, r)
                })
                .collect();
        for g in csv_maps(&dir.join("ratio.csv")) {
            let Some(ratio) = f(&g, "ratio") else {
                continue;
            };
            let ind = truth
                .indicators
                .iter()
                .find(|i| i.name == g["indicator"])
                .unwrap();
            let row = |group: &str| {
                &rows[&(
                    g["indicator"].clone(),
                    g["area_code"].clone(),
                    g["group_type"].clone(),
                    group.to_string(),
                )]
            };
            let (a, r) = (row(&g["group"]), row(&g["reference_group"]));
            let (va, vr) = (f(a, "value").unwrap(), f(r, "value").unwrap());
            assert!(near(ratio, va / vr), "{g:?}");
            assert!(near(f(&g, "gap").unwrap(), va - vr), "{g:?}");
            if !ind.standardised {
                let (xa, na) = (f(a, "numerator").unwrap(), f(a, "denominator").unwrap());
                let (xr, nr) = (f(r, "numerator").unwrap(), f(r, "denominator").unwrap());
                let var = match ind.measure {
                    Measure::Proportion => (1.0 - xa / na) / xa + (1.0 - xr / nr) / xr,
                    Measure::Rate => 1.0 / xa + 1.0 / xr,
                };
                let half = Z95 * var.sqrt();
                assert!(
                    near(f(&g, "ratio_lower95").unwrap(), (ratio.ln() - half).exp())
                        && near(f(&g, "ratio_upper95").unwrap(), (ratio.ln() + half).exp()),
                    "{g:?}: the interval is not the published counts' Katz interval"
                );
            }
            checked += 1;
        }
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
    seen.read_inequalities(&o.local.join("inequalities.csv"));
    seen.read_inequalities(&o.icb.join("inequalities.csv"));
    for dir in &o.breakdowns {
        seen.read_inequalities(&dir.join("inequalities.csv"));
    }
    seen.read_report_tables(&o.icb);
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
        o.local.join("inequalities.csv"),
    ]
    .into_iter()
    .chain(o.breakdowns.iter().map(|d| d.join("inequalities.csv")))
    {
        attack_values(&file, &truth, &mut recomputed);
    }
    let ratios = attack_ratios(&o, &truth);
    let statistics = attack_sii_and_gap(&o, &truth);
    let funnels = attack_funnels(&o.pcn.join("funnel.csv"), &truth)
        + attack_funnels(&o.practice.join("funnel.csv"), &truth);
    let report = attack_report(&o);
    let differencing = attack_by_differencing(&seen, &truth);
    eprintln!(
        "disclosure attack on {}: {} counts seen; {} rows' values and limits recomputed from \
         ±2 of their published counts (+{} DSR rows checked as rounded); {} SII/gap rows and \
         {} funnel rows recomputed; {} breakdown ratios recomputed; {} report rows; {} suppressed small counts tried by \
         differencing ({} counts suppressed to protect them): {} pinned",
        extract.display(),
        seen.counts.len(),
        recomputed.rows,
        recomputed.dsr_rows,
        statistics,
        funnels,
        ratios,
        report,
        differencing.small,
        differencing.protecting,
        differencing.pinned.len()
    );
    // Not vacuous: rows were recomputed and small counts were there to find.
    assert!(
        recomputed.rows > 0 && differencing.small > 0 && ratios > 0,
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
        hi: vec![47, 12, 12, 12, OPEN],
        relations: vec![(0, vec![1, 2, 3, 4])],
    };
    assert_eq!(reader.possible(4), vec![7]);
    let loose = Reader {
        lo: vec![98, 28, 38, 25, 1],
        hi: vec![102, 32, 42, 29, OPEN],
        relations: vec![(0, vec![1, 2, 3, 4])],
    };
    assert_eq!(loose.possible(4).len(), 7);
    // With a second suppressed count (1 or more) beside it, the 7 is free.
    let covered = Reader {
        lo: vec![43, 8, 8, 1, 1],
        hi: vec![47, 12, 12, OPEN, OPEN],
        relations: vec![(0, vec![1, 2, 3, 4])],
    };
    assert_eq!(covered.possible(4).len(), 7);
}

// The report's own tables need secondary suppression too: a PCN of 17
// proposed (shown 15) in segments of 8, 8 and 1. Shown 10, 10 and
// suppressed, a reader has the 1: 13..17 − 8..12 − 8..12 ≤ 1.
#[test]
fn the_report_hides_a_segment_that_its_total_would_give_away() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("extract");
    let mut x = Extract::default().with_default_imd();
    let t = "2024-03-31";
    let (lonely, social, carer, frail, mental) = (
        code("loneliness"),
        code("social_needs"),
        code("carer"),
        code("frailty"),
        code("depression"),
    );
    for id in 1..=17i64 {
        x.patients.push(Patient::new(id));
        match id {
            // hfu_social: 5 A&E attendances (hfu_ae 3) and lonely (3).
            1..=8 => {
                x.events.push((id, lonely, "2024-01-01", None));
                for d in [
                    "2023-06-01",
                    "2023-07-01",
                    "2023-08-01",
                    "2023-09-01",
                    "2023-10-01",
                ] {
                    x.ae.push((id, d));
                }
            }
            // lonely_isolated: lonely 3 + social needs 2 + carer 1.
            9..=16 => {
                for c in [lonely, social, carer] {
                    x.events.push((id, c, "2024-01-01", None));
                }
            }
            // frailty: frailty 2 + social needs 2 + mental health 2.
            _ => {
                for c in [frail, social, mental] {
                    x.events.push((id, c, "2024-01-01", None));
                }
            }
        }
    }
    x.write(&ex);
    let out = dir.path().join("report");
    let (code, _, err) = phm(&[
        "report",
        "--quiet",
        "--extract",
        p(&ex),
        "--as-of",
        t,
        "--out",
        p(&out),
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = csv_maps(&out.join("icb/segments.csv"));
    let shown = |seg: &str| rows.iter().find(|r| r["segment"] == seg).unwrap()["proposed"].clone();
    let summary = csv_maps(&out.join("icb/pcn_summary.csv"));
    assert_eq!(summary[0]["proposed"], "15", "17 proposed, shown 15");
    assert_eq!(shown("frailty"), "suppressed");
    let (a, b) = (shown("hfu_social"), shown("lonely_isolated"));
    assert!(
        a == "suppressed" || b == "suppressed",
        "with both 8s shown as 10 the frailty 1 follows from 15: {a}, {b}"
    );
    assert!(a == "10" || b == "10", "one more count is enough: {a}, {b}");
}
