//! Link-worker capacity per PCN (rules.md §4): defaults from
//! `queries/capacity.toml`, per-PCN FTE from a CSV, and the arithmetic done in
//! exact decimals — `floor(1.15 × 200 × 0.3)` must be 69, which binary
//! floating point gets wrong (68.99999…).

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

use crate::error::{PhmError, Result};

/// A TOML number read as the decimal the analyst wrote (0.3 stays 0.3).
fn exact<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Decimal, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        I(i64),
        F(f64),
    }
    match Num::deserialize(d)? {
        Num::I(i) => Ok(Decimal::from(i)),
        // Rust prints the shortest text that reads back to the same f64,
        // which is the text the analyst typed for any sensible input.
        Num::F(f) => Decimal::from_str(&format!("{f}")).map_err(serde::de::Error::custom),
    }
}

/// `[defaults]` of capacity.toml.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CapacityDefaults {
    #[serde(deserialize_with = "exact")]
    pub link_worker_fte: Decimal,
    #[serde(deserialize_with = "exact")]
    pub caseload_per_fte_year: Decimal,
    #[serde(deserialize_with = "exact")]
    pub proactive_share: Decimal,
    #[serde(deserialize_with = "exact")]
    pub target_referrals_per_1000: Decimal,
    pub period_months: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct CapacityFile {
    defaults: CapacityDefaults,
}

impl CapacityDefaults {
    pub fn parse(origin: &str, text: &str) -> Result<Self> {
        let file: CapacityFile =
            toml::from_str(text).map_err(|e| PhmError::Input(format!("config {origin}: {e}")))?;
        let d = file.defaults;
        let bad = |m: &str| Err(PhmError::Input(format!("config {origin}: {m}")));
        if d.link_worker_fte < Decimal::ZERO {
            return bad("`defaults.link_worker_fte` must not be negative");
        }
        if d.caseload_per_fte_year <= Decimal::ZERO {
            return bad("`defaults.caseload_per_fte_year` must be above 0");
        }
        if d.proactive_share <= Decimal::ZERO || d.proactive_share > Decimal::ONE {
            return bad("`defaults.proactive_share` must be above 0 and at most 1");
        }
        if d.target_referrals_per_1000 < Decimal::ZERO {
            return bad("`defaults.target_referrals_per_1000` must not be negative");
        }
        if !(1..=120).contains(&d.period_months) {
            return bad("`defaults.period_months` must be from 1 to 120");
        }
        Ok(d)
    }
}

/// One PCN's capacity inputs, and whether they came from the CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct PcnCapacityInput {
    pub link_worker_fte: Decimal,
    pub caseload_per_fte_year: Decimal,
    pub proactive_share: Decimal,
    pub from_csv: bool,
}

/// Per-PCN rows of a capacity CSV: `pcn_code,link_worker_fte`, optionally
/// `caseload_per_fte_year`, `proactive_share` (overriding the defaults for that
/// PCN) and `note` (free text, kept for the reader).
#[derive(Debug, Clone, Default)]
pub struct CapacityTable {
    pub rows: BTreeMap<String, CsvRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    pub link_worker_fte: Decimal,
    pub caseload_per_fte_year: Option<Decimal>,
    pub proactive_share: Option<Decimal>,
}

/// The columns of a capacity CSV, by position.
struct CapacityColumns {
    pcn: usize,
    fte: usize,
    caseload: Option<usize>,
    share: Option<usize>,
}

/// The columns a capacity CSV may have.
const CAPACITY_CSV_COLUMNS: [&str; 5] = [
    "pcn_code",
    "link_worker_fte",
    "caseload_per_fte_year",
    "proactive_share",
    "note",
];

impl CapacityColumns {
    fn of(headers: &csv::StringRecord) -> std::result::Result<Self, String> {
        let find = |name: &str| headers.iter().position(|h| h == name);
        let pcn =
            find("pcn_code").ok_or("no `pcn_code` column (expected pcn_code,link_worker_fte)")?;
        let fte = find("link_worker_fte").ok_or("no `link_worker_fte` column")?;
        if let Some(h) = headers.iter().find(|h| !CAPACITY_CSV_COLUMNS.contains(h)) {
            return Err(format!(
                "unknown column `{h}` (allowed: {})",
                CAPACITY_CSV_COLUMNS.join(", ")
            ));
        }
        Ok(CapacityColumns {
            pcn,
            fte,
            caseload: find("caseload_per_fte_year"),
            share: find("proactive_share"),
        })
    }

    /// One line: its PCN and checked figures, or what is wrong with it.
    fn row(&self, record: &csv::StringRecord) -> std::result::Result<(String, CsvRow), String> {
        let code = record.get(self.pcn).unwrap_or("").to_string();
        if code.is_empty() {
            return Err("empty pcn_code".into());
        }
        let number =
            |i: Option<usize>, what: &str| -> std::result::Result<Option<Decimal>, String> {
                match i.and_then(|i| record.get(i)).filter(|s| !s.is_empty()) {
                    None => Ok(None),
                    Some(s) => Decimal::from_str(s)
                        .map(Some)
                        .map_err(|_| format!("{what} `{s}` is not a number")),
                }
            };
        let f = number(Some(self.fte), "link_worker_fte")?
            .ok_or_else(|| format!("no link_worker_fte for {code}"))?;
        if f < Decimal::ZERO {
            return Err(format!("link_worker_fte {f} for {code} is negative"));
        }
        let c = number(self.caseload, "caseload_per_fte_year")?;
        if c.is_some_and(|c| c <= Decimal::ZERO) {
            return Err("caseload_per_fte_year must be above 0".into());
        }
        let s = number(self.share, "proactive_share")?;
        if s.is_some_and(|s| s <= Decimal::ZERO || s > Decimal::ONE) {
            return Err("proactive_share must be above 0 and at most 1".into());
        }
        Ok((
            code,
            CsvRow {
                link_worker_fte: f,
                caseload_per_fte_year: c,
                proactive_share: s,
            },
        ))
    }
}

impl CapacityTable {
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PhmError::Input(format!("capacity file {}: {e}", path.display())))?;
        Self::parse(&path.display().to_string(), &text)
    }

    pub fn parse(origin: &str, text: &str) -> Result<Self> {
        let err = |line: usize, m: String| {
            PhmError::Input(format!("capacity file {origin}, line {line}: {m}"))
        };
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
        let columns = CapacityColumns::of(&headers).map_err(|m| err(1, m))?;
        let mut rows = BTreeMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                err(
                    e.position().map(|p| p.line() as usize).unwrap_or(0),
                    e.to_string(),
                )
            })?;
            let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
            let (code, row) = columns.row(&record).map_err(|m| err(line, m))?;
            if rows.insert(code.clone(), row).is_some() {
                return Err(err(line, format!("{code} appears twice")));
            }
        }
        Ok(CapacityTable { rows })
    }

    /// Every PCN code of the CSV that is not in `known`, sorted.
    pub fn unknown_pcns<'a>(&'a self, known: &[String]) -> Vec<&'a str> {
        self.rows
            .keys()
            .filter(|k| !known.contains(k))
            .map(String::as_str)
            .collect()
    }

    /// The inputs for one PCN: its CSV row over the defaults, or the defaults.
    pub fn input(&self, pcn: &str, d: &CapacityDefaults) -> PcnCapacityInput {
        match self.rows.get(pcn) {
            Some(r) => PcnCapacityInput {
                link_worker_fte: r.link_worker_fte,
                caseload_per_fte_year: r.caseload_per_fte_year.unwrap_or(d.caseload_per_fte_year),
                proactive_share: r.proactive_share.unwrap_or(d.proactive_share),
                from_csv: true,
            },
            None => PcnCapacityInput {
                link_worker_fte: d.link_worker_fte,
                caseload_per_fte_year: d.caseload_per_fte_year,
                proactive_share: d.proactive_share,
                from_csv: false,
            },
        }
    }
}

/// People one FTE can be offered in `months`: caseload × share × P / 12.
pub fn offers_per_fte(caseload: Decimal, share: Decimal, months: u32) -> Decimal {
    caseload * share * Decimal::from(months) / Decimal::from(12)
}

/// `floor(fte × caseload × share × P / 12)`, exactly.
pub fn capacity(input: &PcnCapacityInput, months: u32) -> u64 {
    let v = input.link_worker_fte
        * offers_per_fte(input.caseload_per_fte_year, input.proactive_share, months);
    v.floor().to_u64().unwrap_or(u64::MAX)
}

/// FTE that would offer every high-need patient within P months, rounded up
/// to one decimal place, exactly (0 when there are none).
pub fn fte_needed(high_need: u64, input: &PcnCapacityInput, months: u32) -> Decimal {
    if high_need == 0 {
        return Decimal::ZERO;
    }
    let per_fte = offers_per_fte(input.caseload_per_fte_year, input.proactive_share, months);
    let tenths = (Decimal::from(high_need) * Decimal::TEN / per_fte).ceil();
    (tenths / Decimal::TEN).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(fte: &str) -> PcnCapacityInput {
        PcnCapacityInput {
            link_worker_fte: Decimal::from_str(fte).unwrap(),
            caseload_per_fte_year: Decimal::from(200),
            proactive_share: Decimal::from_str("0.3").unwrap(),
            from_csv: true,
        }
    }

    #[test]
    fn capacity_floors_exactly() {
        // rules.md §4: 1.15 × 200 × 0.3 = 69.0 exactly (binary floats give 68.999…).
        // In binary floating point 1.15 × 200 × 0.3 is 68.99999…, whose floor is 68.
        assert_eq!(capacity(&input("1.15"), 12), 69);
        // 2.0 × 200 × 0.3 = 120; over 6 months 60; 1.7 FTE × 60 = 102 over 12 months.
        assert_eq!(capacity(&input("2.0"), 12), 120);
        assert_eq!(capacity(&input("2.0"), 6), 60);
        assert_eq!(capacity(&input("1.7"), 12), 102);
        // 0.33 × 60 = 19.8 -> 19; 0 FTE -> 0; 1 FTE over 1 month = 5.
        assert_eq!(capacity(&input("0.33"), 12), 19);
        assert_eq!(capacity(&input("0"), 12), 0);
        assert_eq!(capacity(&input("1"), 1), 5);
    }

    #[test]
    fn fte_needed_rounds_up_to_one_decimal() {
        // 60 offers per FTE a year: 120 need -> 2.0 exactly; 121 -> 2.0166… -> 2.1; 1 -> 0.0166… -> 0.1.
        assert_eq!(fte_needed(120, &input("2"), 12), Decimal::from(2));
        assert_eq!(
            fte_needed(121, &input("2"), 12),
            Decimal::from_str("2.1").unwrap()
        );
        assert_eq!(
            fte_needed(1, &input("2"), 12),
            Decimal::from_str("0.1").unwrap()
        );
        assert_eq!(fte_needed(0, &input("2"), 12), Decimal::ZERO);
        // Over 6 months 30 offers per FTE: 31 -> 1.0333… -> 1.1.
        assert_eq!(
            fte_needed(31, &input("2"), 6),
            Decimal::from_str("1.1").unwrap()
        );
    }

    #[test]
    fn defaults_read_as_written_and_reject_bad_values() {
        let ok = "[defaults]\nlink_worker_fte = 1.15\ncaseload_per_fte_year = 200\nproactive_share = 0.3\ntarget_referrals_per_1000 = 16\nperiod_months = 12\n";
        let d = CapacityDefaults::parse("capacity.toml", ok).unwrap();
        assert_eq!(d.link_worker_fte, Decimal::from_str("1.15").unwrap());
        assert_eq!(d.proactive_share, Decimal::from_str("0.3").unwrap());
        let negative = ok.replace("link_worker_fte = 1.15", "link_worker_fte = -1");
        assert!(CapacityDefaults::parse("c", &negative)
            .unwrap_err()
            .to_string()
            .contains("negative"));
        let unknown = format!("{ok}linkworker = 3\n");
        assert!(CapacityDefaults::parse("c", &unknown)
            .unwrap_err()
            .to_string()
            .contains("linkworker"));
        let wrong_type = ok.replace("period_months = 12", "period_months = \"twelve\"");
        assert!(CapacityDefaults::parse("c", &wrong_type).is_err());
    }

    #[test]
    fn csv_rows_override_and_are_checked() {
        let t = CapacityTable::parse(
            "cap.csv",
            "pcn_code,link_worker_fte,note\nU1,1.15,new hire\nU2,3,\n",
        )
        .unwrap();
        assert_eq!(
            t.rows["U1"].link_worker_fte,
            Decimal::from_str("1.15").unwrap()
        );
        assert_eq!(t.unknown_pcns(&["U1".into()]), vec!["U2"]);
        let e = CapacityTable::parse("cap.csv", "pcn_code,link_worker_fte\nU1,-1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("negative"), "{e}");
        let e = CapacityTable::parse("cap.csv", "pcn_code,link_worker_fte\nU1,1\nU1,2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("twice"), "{e}");
        let e = CapacityTable::parse("cap.csv", "pcn,fte\nU1,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pcn_code"), "{e}");
        let e = CapacityTable::parse("cap.csv", "pcn_code,link_worker_fte\nU1,two\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("two"), "{e}");
    }
}
