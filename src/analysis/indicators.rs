//! Indicators as data (`queries/indicators.toml`) and the one SQL pass that
//! counts them. Every indicator's numerator and denominator are summed in a
//! single aggregate over the features table, grouped by ICB, PCN, practice,
//! IMD decile and ESP2013 age band; that small table is all the statistics
//! (inequalities.rs, compare.rs) need, so the heavy work stays in the engine.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::array::Int64Array;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use super::local_quintiles;
use crate::engine::decode::{int_at, text_at, Columns};
use crate::error::{PhmError, Result};
use crate::rules::{RuleSet, RulesError};
use crate::stats::ESP2013;

/// The file in the rules folder.
pub const INDICATORS_FILE: &str = "indicators.toml";
/// Number of ESP2013 age bands (0–4 … 90+).
pub const AGE_BANDS: usize = ESP2013.len();

/// What an indicator counts, which sets its interval method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// People with a condition out of people in the population (Wilson).
    Proportion,
    /// Events per person (exact below 10 events, Byar above; DSR if standardised).
    Rate,
}

/// Which direction of an indicator is better, for benchmark labels
/// (equity.md §5, Fingertips' rule): recorded prevalence is usually
/// `no_judgement`, since a higher figure may mean more need or better recording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    HigherIsBetter,
    LowerIsBetter,
    #[default]
    NoJudgement,
}

impl Polarity {
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::HigherIsBetter => "higher_is_better",
            Polarity::LowerIsBetter => "lower_is_better",
            Polarity::NoJudgement => "no_judgement",
        }
    }
}

/// One indicator of `indicators.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub name: String,
    pub title: String,
    pub measure: Measure,
    /// SQL over one features row: boolean (proportion) or a count (rate).
    pub numerator: String,
    #[serde(default)]
    pub min_age: Option<u32>,
    #[serde(default)]
    pub max_age: Option<u32>,
    /// Further SQL condition on the denominator.
    #[serde(default)]
    pub population: Option<String>,
    pub multiplier: f64,
    #[serde(default)]
    pub standardised: bool,
    /// Compared across PCNs and drawn by deprivation in the reports.
    #[serde(default)]
    pub key: bool,
    /// Read with benchmarks: Better/Worse, or Higher/Lower when no judgement.
    #[serde(default)]
    pub polarity: Polarity,
}

impl Indicator {
    /// The ESP2013 bands the indicator's age range covers (metrics.md §3:
    /// an 18+ indicator uses 15–19 upwards with full weights).
    pub fn bands(&self) -> std::ops::RangeInclusive<usize> {
        let band = |age: u32| ((age / 5) as usize).min(AGE_BANDS - 1);
        band(self.min_age.unwrap_or(0))..=band(self.max_age.unwrap_or(u32::MAX))
    }

    /// "per 1,000", "%", … for titles and axis labels.
    pub fn unit(&self) -> String {
        if self.multiplier == 100.0 {
            "%".into()
        } else {
            format!("per {}", thousands(self.multiplier))
        }
    }

    /// The denominator condition as SQL.
    pub(crate) fn denominator_sql(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = self.min_age {
            parts.push(format!("age >= {a}"));
        }
        if let Some(a) = self.max_age {
            parts.push(format!("age <= {a}"));
        }
        if let Some(p) = &self.population {
            parts.push(format!("({p})"));
        }
        if parts.is_empty() {
            "TRUE".into()
        } else {
            parts.join(" AND ")
        }
    }

    /// The per-patient numerator as an integer SQL expression.
    pub(crate) fn numerator_sql(&self) -> String {
        match self.measure {
            Measure::Proportion => format!("CASE WHEN ({}) THEN 1 ELSE 0 END", self.numerator),
            Measure::Rate => format!("COALESCE(CAST(({}) AS BIGINT), 0)", self.numerator),
        }
    }
}

/// 1000 → "1,000".
fn thousands(v: f64) -> String {
    let s = format!("{}", v.round() as i64);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Settings of the SII simulation.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Simulation {
    pub repetitions: usize,
    pub seed: u64,
}

/// `queries/indicators.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorConfig {
    pub simulation: Simulation,
    #[serde(rename = "indicator")]
    pub indicators: Vec<Indicator>,
}

impl IndicatorConfig {
    /// Parses and checks the file; `origin` names it in messages.
    pub fn parse(origin: &str, text: &str) -> Result<Self, RulesError> {
        let err = |message: String| RulesError::Config {
            file: origin.to_string(),
            message,
        };
        let config: IndicatorConfig = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if !(1_000..=10_000_000).contains(&config.simulation.repetitions) {
            return Err(err(format!(
                "[simulation] repetitions = {} must be between 1000 and 10000000 (metrics.md uses 100000)",
                config.simulation.repetitions
            )));
        }
        if config.indicators.is_empty() {
            return Err(err("no [[indicator]] is defined".into()));
        }
        let mut names = BTreeSet::new();
        for i in &config.indicators {
            let at = |m: &str| err(format!("indicator `{}`: {m}", i.name));
            if !crate::rules::is_lower_snake(&i.name) {
                return Err(at("the name must be lower-case letters, digits and _"));
            }
            if !names.insert(i.name.clone()) {
                return Err(at("defined twice"));
            }
            if i.title.trim().is_empty() {
                return Err(at("title is empty"));
            }
            if !(i.multiplier.is_finite() && i.multiplier > 0.0) {
                return Err(at(&format!(
                    "multiplier {} must be above 0 (100 for %, 1000 for per 1,000)",
                    i.multiplier
                )));
            }
            if i.standardised && i.measure != Measure::Rate {
                return Err(at(
                    "standardised = true needs measure = \"rate\" (phm standardises rates only)",
                ));
            }
            if let (Some(lo), Some(hi)) = (i.min_age, i.max_age) {
                if lo > hi {
                    return Err(at(&format!("min_age {lo} is above max_age {hi}")));
                }
            }
            for (what, sql) in [
                ("numerator", Some(&i.numerator)),
                ("population", i.population.as_ref()),
            ] {
                if let Some(sql) = sql {
                    if sql.trim().is_empty() || sql.contains(';') || sql.contains("--") {
                        return Err(at(&format!(
                            "{what} must be one SQL expression (no `;` or comments)"
                        )));
                    }
                }
            }
        }
        Ok(config)
    }

    /// Loads the file from a rules folder.
    pub fn load(rules: &RuleSet) -> Result<Self, RulesError> {
        Self::parse(
            &format!("{}/{INDICATORS_FILE}", rules.origin),
            rules.file(INDICATORS_FILE)?,
        )
    }

    /// The indicators named (all when `names` is empty), in file order.
    pub fn select(&self, names: &[String]) -> Result<Vec<Indicator>> {
        for n in names {
            if !self.indicators.iter().any(|i| &i.name == n) {
                let known: Vec<&str> = self.indicators.iter().map(|i| i.name.as_str()).collect();
                return Err(PhmError::Input(format!(
                    "no indicator `{n}` in {INDICATORS_FILE}; defined: {}",
                    known.join(", ")
                )));
            }
        }
        Ok(self
            .indicators
            .iter()
            .filter(|i| names.is_empty() || names.contains(&i.name))
            .cloned()
            .collect())
    }
}

/// Numerator and denominator of every indicator in one cell of the grouping.
#[derive(Debug, Clone, PartialEq)]
pub struct CountCell {
    pub icb_code: String,
    pub pcn_code: String,
    pub practice_code: String,
    /// Null when the patient's LSOA has no IMD decile.
    pub imd_decile: Option<i32>,
    /// The ICB's local deprivation quintile (equity.md §2); null with the decile.
    pub local_quintile: Option<i32>,
    /// ESP2013 band index, 0 = ages 0–4 … 18 = 90+.
    pub age_band: usize,
    /// Per indicator, in the order of the indicator list.
    pub numerators: Vec<i64>,
    pub denominators: Vec<i64>,
}

/// The aggregate SQL over the table `features`, by LSOA as well (the
/// patients' LSOAs, from `patients`, for the local quintiles) with the
/// registered patients of each group. The indicators' SQL names features
/// columns unqualified, so the join is wrapped as `features` again.
pub fn counts_sql(indicators: &[Indicator]) -> String {
    let mut sql = String::from(
        "SELECT icb_code, pcn_code, practice_code, imd_decile, lsoa_code,\n  \
         CAST(CASE WHEN age >= 90 THEN 18 ELSE age / 5 END AS INT) AS age_band,\n  \
         CAST(count(*) AS BIGINT) AS patients",
    );
    for (k, i) in indicators.iter().enumerate() {
        let den = i.denominator_sql();
        sql.push_str(&format!(
            ",\n  CAST(SUM(CASE WHEN {den} THEN {} ELSE 0 END) AS BIGINT) AS num_{k}\
             ,\n  CAST(SUM(CASE WHEN {den} THEN 1 ELSE 0 END) AS BIGINT) AS den_{k}",
            i.numerator_sql()
        ));
    }
    sql.push_str(
        "\nFROM (SELECT f.*, p.lsoa_code FROM features f\n      \
         LEFT JOIN patients p ON p.patient_id = f.patient_id) AS features\n\
         GROUP BY 1, 2, 3, 4, 5, 6\nORDER BY 1, 2, 3, 4, 5, 6",
    );
    sql
}

/// Checks each indicator's SQL against the features table, so a mistake is
/// reported with the indicator's name rather than as one failed query.
async fn check_indicator_sql(ctx: &SessionContext, i: &Indicator, origin: &str) -> Result<()> {
    let sql = format!(
        "SELECT {} AS num, CASE WHEN {} THEN 1 ELSE 0 END AS den FROM features LIMIT 0",
        i.numerator_sql(),
        i.denominator_sql()
    );
    let planned = match ctx.sql(&sql).await {
        Ok(df) => df.create_physical_plan().await.map(|_| ()),
        Err(e) => Err(e),
    };
    planned.map_err(|source| {
        RulesError::Sql {
            file: format!("{origin}/{INDICATORS_FILE}, indicator `{}`", i.name),
            source,
        }
        .into()
    })
}

/// A cell's grouping: ICB, PCN, practice, decile, local quintile, age band.
type CellKey = (String, String, String, Option<i32>, Option<i32>, usize);

/// One row of the counts query: a cell and the LSOA its patients live in.
struct LsoaCell {
    cell: CountCell,
    lsoa: Option<String>,
    patients: i64,
}

/// Runs the counts over the registered `features` table, with each cell's
/// local quintile (equity.md §2) cut from the same counts.
pub async fn count(
    ctx: &SessionContext,
    indicators: &[Indicator],
    origin: &str,
) -> Result<Vec<CountCell>> {
    for i in indicators {
        check_indicator_sql(ctx, i, origin).await?;
    }
    let batches = ctx.sql(&counts_sql(indicators)).await?.collect().await?;
    let origin = format!("{origin}/{INDICATORS_FILE} (counts over features)");
    let mut rows = Vec::new();
    for b in &batches {
        read_cells(b, indicators.len(), &origin, &mut rows)?;
    }
    let mut population: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.cell.imd_decile.is_some()) {
        if let Some(lsoa) = &r.lsoa {
            *population
                .entry((r.cell.icb_code.clone(), lsoa.clone()))
                .or_default() += r.patients;
        }
    }
    let keys = local_quintiles::OrderKeys::of(ctx).await?;
    let local = local_quintiles::cut(&population, &keys);
    // The cells without their LSOAs: summed by area, decile, local quintile
    // and age band.
    let mut merged: BTreeMap<CellKey, CountCell> = BTreeMap::new();
    for mut r in rows {
        let c = &mut r.cell;
        if c.imd_decile.is_some() {
            c.local_quintile = r
                .lsoa
                .and_then(|l| local.get(&(c.icb_code.clone(), l)).copied());
        }
        let key = (
            c.icb_code.clone(),
            c.pcn_code.clone(),
            c.practice_code.clone(),
            c.imd_decile,
            c.local_quintile,
            c.age_band,
        );
        match merged.get_mut(&key) {
            Some(m) => {
                for k in 0..m.numerators.len() {
                    m.numerators[k] += c.numerators[k];
                    m.denominators[k] += c.denominators[k];
                }
            }
            None => {
                merged.insert(key, r.cell);
            }
        }
    }
    Ok(merged.into_values().collect())
}

/// The cells of one batch of the counts query.
fn read_cells(
    b: &datafusion::arrow::record_batch::RecordBatch,
    indicators: usize,
    origin: &str,
    out: &mut Vec<LsoaCell>,
) -> Result<()> {
    let c = Columns::new(b, origin);
    let (icb, pcn, practice) = (
        c.text("icb_code")?,
        c.text("pcn_code")?,
        c.text("practice_code")?,
    );
    let (decile, band) = (c.int("imd_decile")?, c.int("age_band")?);
    let (lsoa, patients) = (c.text("lsoa_code")?, c.int("patients")?);
    let sums: Vec<(Int64Array, Int64Array)> = (0..indicators)
        .map(|k| Ok((c.int(&format!("num_{k}"))?, c.int(&format!("den_{k}"))?)))
        .collect::<Result<_, RulesError>>()?;
    for r in 0..c.rows() {
        let practice_code = text_at(&practice, r).unwrap_or_default();
        let age_band = int_at(&band, r).unwrap_or(-1);
        if !(0..AGE_BANDS as i64).contains(&age_band) {
            return Err(PhmError::Input(format!(
                "features: practice {practice_code} has a patient whose age gives band {age_band}; ages must be 0 or more"
            )));
        }
        out.push(LsoaCell {
            cell: CountCell {
                icb_code: text_at(&icb, r).unwrap_or_default().to_string(),
                pcn_code: text_at(&pcn, r).unwrap_or_default().to_string(),
                practice_code: practice_code.to_string(),
                imd_decile: int_at(&decile, r).map(|d| i32::try_from(d).unwrap_or(i32::MAX)),
                local_quintile: None,
                age_band: age_band as usize,
                numerators: sums
                    .iter()
                    .map(|(x, _)| int_at(x, r).unwrap_or(0))
                    .collect(),
                denominators: sums
                    .iter()
                    .map(|(_, n)| int_at(n, r).unwrap_or(0))
                    .collect(),
            },
            lsoa: text_at(&lsoa, r).map(str::to_string),
            patients: int_at(&patients, r).unwrap_or(0),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_cover_the_issue_list() {
        let rules = RuleSet::defaults();
        let c = IndicatorConfig::load(&rules).unwrap();
        let names: Vec<&str> = c.indicators.iter().map(|i| i.name.as_str()).collect();
        for want in [
            "hypertension",
            "multimorbidity",
            "loneliness",
            "social_needs",
            "frailty",
            "hfu_ae",
            "hfu_adm",
            "hfu_gp",
            "sp_referral",
            "high_need",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        assert!(c.indicators.iter().any(|i| i.standardised));
        assert_eq!(c.simulation.repetitions, 100_000);
    }

    #[test]
    fn bands_follow_the_age_range() {
        let base = |min, max| Indicator {
            name: "x".into(),
            title: "x".into(),
            measure: Measure::Rate,
            numerator: "ae_12m".into(),
            min_age: min,
            max_age: max,
            population: None,
            multiplier: 1000.0,
            standardised: true,
            key: false,
            polarity: Default::default(),
        };
        assert_eq!(base(None, None).bands(), 0..=18);
        // 18+ uses 15–19 upwards (metrics.md §3).
        assert_eq!(base(Some(18), None).bands(), 3..=18);
        assert_eq!(base(Some(65), Some(74)).bands(), 13..=14);
    }

    #[test]
    fn bad_files_are_named_errors() {
        let ok = "[simulation]\nrepetitions = 1000\nseed = 1\n[[indicator]]\nname = \"a\"\n\
                  title = \"A\"\nmeasure = \"proportion\"\nnumerator = \"lonely\"\nmultiplier = 100\n";
        IndicatorConfig::parse("f.toml", ok).unwrap();
        for (bad, says) in [
            (
                ok.replace("multiplier = 100", "multiplier = 100\ncolour = 1"),
                "colour",
            ),
            (
                ok.replace("multiplier = 100", "multiplier = -1"),
                "multiplier",
            ),
            (
                ok.replace("repetitions = 1000", "repetitions = 10"),
                "repetitions",
            ),
            (ok.replace("\"proportion\"", "\"ratio\""), "ratio"),
            (
                ok.replace("multiplier = 100", "multiplier = 100\nstandardised = true"),
                "standardised",
            ),
            (
                ok.replace("\"lonely\"", "\"lonely; DROP\""),
                "one SQL expression",
            ),
            (
                format!("{ok}{}", &ok[ok.find("[[indicator]]").unwrap()..]),
                "defined twice",
            ),
        ] {
            let e = IndicatorConfig::parse("f.toml", &bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("f.toml") && e.contains(says), "{e}");
        }
    }

    #[test]
    fn unit_reads_naturally() {
        let mut i = IndicatorConfig::load(&RuleSet::defaults())
            .unwrap()
            .indicators[0]
            .clone();
        assert_eq!(i.unit(), "%");
        i.multiplier = 100000.0;
        assert_eq!(i.unit(), "per 100,000");
    }
}
