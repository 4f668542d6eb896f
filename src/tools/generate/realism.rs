//! The realism table: each generated rate beside the published figure it aims
//! at. Counted while generating (from the simulation's own decisions, not by
//! re-reading the files), over patients registered at T, with the same window
//! rules as rules.md — so it is also an independent check on the features SQL.

use std::fmt::Write as _;

use super::figures::{self, Base};
use super::patient::Tallied;

/// Counters over patients registered at T.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub registered: u64,
    pub female: u64,
    pub under15: u64,
    pub aged65: u64,
    pub aged90: u64,
    pub adults: u64,
    pub women15_44: u64,
    pub ethnicity_known: u64,
    pub white: u64,
    pub asian: u64,
    pub black: u64,
    pub mixed: u64,
    pub other: u64,
    pub imd_known: u64,
    pub core20: u64,
    pub conditions: [u64; 16],
    pub dementia65: u64,
    pub depression_adults: u64,
    pub needs_adults: [u64; 4],
    pub lonely_24m_adults: u64,
    pub social_24m_adults: u64,
    pub frail_24m_65: u64,
    pub pregnant_9m: u64,
    pub ltc2_adults: u64,
    pub ae_attenders: u64,
    pub ae_once: u64,
    pub ae_3plus: u64,
    pub ae_6plus: u64,
    pub ae_total: u64,
    pub hfu_ae: u64,
    pub hfu_adm: u64,
    pub hfu_gp: u64,
    pub hfu_any: u64,
    pub gp_total: u64,
    /// Patients by attended GP appointments in 12 months (last bucket: 200+).
    pub gp_histogram: Vec<u64>,
    pub sp_referred_12m: u64,
    pub sp_declined_6m: u64,
}

const GP_BUCKETS: usize = 201;

impl Tally {
    pub fn count(&mut self, p: &Tallied) {
        if self.gp_histogram.is_empty() {
            self.gp_histogram = vec![0; GP_BUCKETS];
        }
        let r = p.rec;
        let w = p.w;
        self.registered += 1;
        self.female += p.female as u64;
        self.under15 += (p.age < 15) as u64;
        self.aged65 += (p.age >= 65) as u64;
        self.aged90 += (p.age >= 90) as u64;
        let adult = p.age >= 18;
        self.adults += adult as u64;
        self.women15_44 += (p.female && (15..=44).contains(&p.age)) as u64;
        if let Some(e) = p.ethnicity.filter(|e| *e != "Z") {
            self.ethnicity_known += 1;
            match e {
                "A" | "B" | "C" => self.white += 1,
                "D" | "E" | "F" | "G" => self.mixed += 1,
                "H" | "J" | "K" | "L" | "R" => self.asian += 1,
                "M" | "N" | "P" => self.black += 1,
                _ => self.other += 1,
            }
        }
        if let Some(d) = p.decile {
            self.imd_known += 1;
            self.core20 += (d <= 2) as u64;
        }
        for (i, c) in r.conditions.iter().enumerate() {
            self.conditions[i] += c.is_some() as u64;
        }
        self.dementia65 += (p.age >= 65 && r.conditions[10].is_some()) as u64;
        self.depression_adults += (adult && r.conditions[11].is_some()) as u64;
        if adult {
            for (i, n) in r.needs.iter().enumerate() {
                self.needs_adults[i] += n.is_some() as u64;
            }
            self.lonely_24m_adults += r.needs[0].is_some_and(|d| d > w.m24) as u64;
            self.social_24m_adults += r.needs[1].is_some_and(|d| d > w.m24) as u64;
            let ltc = r.conditions[..14].iter().filter(|c| c.is_some()).count();
            self.ltc2_adults += (ltc >= 2) as u64;
        }
        self.frail_24m_65 += (p.age >= 65 && r.frailty.is_some_and(|d| d > w.m24)) as u64;
        self.pregnant_9m += r.pregnancy.is_some_and(|d| d > w.m9) as u64;
        if r.ae_12m > 0 {
            self.ae_attenders += 1;
            self.ae_once += (r.ae_12m == 1) as u64;
            self.ae_3plus += (r.ae_12m >= 3) as u64;
            self.ae_6plus += (r.ae_12m >= 6) as u64;
        }
        self.ae_total += r.ae_12m as u64;
        let (ae, adm, gp) = (r.ae_12m >= 5, r.adm_12m >= 3, r.gp_12m >= 20);
        self.hfu_ae += ae as u64;
        self.hfu_adm += adm as u64;
        self.hfu_gp += gp as u64;
        self.hfu_any += (ae || adm || gp) as u64;
        self.gp_total += r.gp_12m as u64;
        self.gp_histogram[(r.gp_12m as usize).min(GP_BUCKETS - 1)] += 1;
        self.sp_referred_12m += r.sp_referral.is_some_and(|d| d > w.m12) as u64;
        self.sp_declined_6m += r.sp_declined.is_some_and(|d| d > w.m6) as u64;
    }

    pub fn merge(&mut self, other: &Tally) {
        macro_rules! add {
            ($($f:ident),*) => { $( self.$f += other.$f; )* };
        }
        add!(
            registered,
            female,
            under15,
            aged65,
            aged90,
            adults,
            women15_44,
            ethnicity_known,
            white,
            asian,
            black,
            mixed,
            other,
            imd_known,
            core20,
            dementia65,
            depression_adults,
            lonely_24m_adults,
            social_24m_adults,
            frail_24m_65,
            pregnant_9m,
            ltc2_adults,
            ae_attenders,
            ae_once,
            ae_3plus,
            ae_6plus,
            ae_total,
            hfu_ae,
            hfu_adm,
            hfu_gp,
            hfu_any,
            gp_total,
            sp_referred_12m,
            sp_declined_6m
        );
        for i in 0..16 {
            self.conditions[i] += other.conditions[i];
        }
        for i in 0..4 {
            self.needs_adults[i] += other.needs_adults[i];
        }
        if self.gp_histogram.is_empty() {
            self.gp_histogram = vec![0; GP_BUCKETS];
        }
        for (a, b) in self.gp_histogram.iter_mut().zip(&other.gp_histogram) {
            *a += b;
        }
    }

    /// Share of attended GP appointments made by the 10% of patients who attend most.
    fn top_decile_gp_share(&self) -> f64 {
        let mut left = (self.registered as f64 * 0.1).round() as u64;
        let mut appointments = 0u64;
        for (count, &patients) in self.gp_histogram.iter().enumerate().rev() {
            let take = patients.min(left);
            appointments += take * count as u64;
            left -= take;
            if left == 0 {
                break;
            }
        }
        ratio(appointments, self.gp_total)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// One line of the realism table.
pub struct Row {
    pub metric: String,
    pub generated: String,
    pub target: String,
    pub source: String,
}

/// One realism row: (metric, generated, target, source).
struct Rows<'a> {
    out: Vec<Row>,
    t: &'a Tally,
}

impl Rows<'_> {
    fn row(&mut self, metric: &str, generated: String, target: &str, source: &str) {
        self.out.push(Row {
            metric: metric.into(),
            generated,
            target: target.into(),
            source: source.into(),
        })
    }
}

fn pct(a: u64, b: u64) -> String {
    format!("{:.1}%", 100.0 * ratio(a, b))
}

fn mean(v: &[u64]) -> f64 {
    v.iter().sum::<u64>() as f64 / v.len().max(1) as f64
}

/// List sizes, sex and age.
fn population(r: &mut Rows, practice_sizes: &[u64], pcn_sizes: &[u64]) {
    r.row("registered at T", r.t.registered.to_string(), "-", "-");
    r.row(
        "mean practice list size",
        format!("{:.0}", mean(practice_sizes)),
        "8,490",
        "GPonline (Dec 2018)",
    );
    r.row(
        "mean PCN list size",
        format!("{:.0}", mean(pcn_sizes)),
        "30,000–50,000 (mean 48,020)",
        "NHSE care coordinator guide; BMA (2020)",
    );
    r.row(
        "female",
        pct(r.t.female, r.t.registered),
        "51%",
        "ONS Census 2021 (E&W)",
    );
    r.row(
        "aged under 15",
        pct(r.t.under15, r.t.registered),
        "17.4%",
        "ONS Census 2021 (E&W)",
    );
    r.row(
        "aged 65+",
        pct(r.t.aged65, r.t.registered),
        "18.6%",
        "ONS Census 2021 (E&W)",
    );
    r.row(
        "aged 90+",
        pct(r.t.aged90, r.t.registered),
        "0.9%",
        "ONS Census 2021 (527,900 of ~59.6M)",
    );
}

/// Ethnicity and deprivation.
fn ethnicity_and_deprivation(r: &mut Rows) {
    r.row(
        "White (of known ethnicity)",
        pct(r.t.white, r.t.ethnicity_known),
        "81.7%",
        "ONS Census 2021 (E&W)",
    );
    r.row(
        "Asian (of known)",
        pct(r.t.asian, r.t.ethnicity_known),
        "9.3%",
        "ONS Census 2021 (E&W)",
    );
    r.row(
        "Black (of known)",
        pct(r.t.black, r.t.ethnicity_known),
        "4.0%",
        "ONS Census 2021 (E&W)",
    );
    r.row(
        "Mixed (of known)",
        pct(r.t.mixed, r.t.ethnicity_known),
        "2.9%",
        "ONS Census 2021 (E&W)",
    );
    r.row(
        "Other (of known)",
        pct(r.t.other, r.t.ethnicity_known),
        "2.1%",
        "ONS Census 2021 (E&W)",
    );
    r.row(
        "Core20 (IMD deciles 1–2, of known IMD)",
        pct(r.t.core20, r.t.imd_known),
        "20% nationally; varies by ICB",
        "NHSE Core20PLUS5",
    );
}

/// Long-term conditions, needs, frailty and pregnancy.
fn conditions_and_needs(r: &mut Rows) {
    for (i, c) in figures::CONDITIONS.iter().enumerate() {
        let (n, d, base) = match c.target.base {
            Base::All => (r.t.conditions[i], r.t.registered, "all ages"),
            Base::Adults => (r.t.depression_adults, r.t.adults, "18+"),
            Base::Aged65 => (r.t.dementia65, r.t.aged65, "65+"),
            Base::WomenOfChildbearingAge => (r.t.pregnant_9m, r.t.women15_44, "women 15–44"),
        };
        r.row(
            &format!("{} recorded ({base})", c.codelist),
            pct(n, d),
            &format!("{}%", c.target.percent),
            c.target.source,
        );
    }
    for (i, n) in figures::NEEDS.iter().enumerate() {
        r.row(
            &format!("{} ever recorded (18+)", n.codelist),
            pct(r.t.needs_adults[i], r.t.adults),
            &format!("{}% (survey/prevalence)", n.target.percent),
            n.target.source,
        );
    }
    r.row(
        "lonely in last 24 months (18+)",
        pct(r.t.lonely_24m_adults, r.t.adults),
        "5–7% often/always (survey)",
        "ONS OPN 2020; ONS 2024",
    );
    r.row(
        "moderate/severe frailty in 24 months (65+)",
        pct(r.t.frail_24m_65, r.t.aged65),
        ">10% of 65+",
        figures::FRAILTY_TARGET.source,
    );
    r.row(
        "pregnant (code in 9 months, women 15–44)",
        pct(r.t.pregnant_9m, r.t.women15_44),
        "~5–7%",
        "our assumption (births ÷ women 15–44)",
    );
    r.row(
        "2+ LTCs (18+)",
        pct(r.t.ltc2_adults, r.t.adults),
        "30% of population have LTCs",
        "NHSE personalised-care operating model",
    );
}

/// A&E use and high-frequency use of hospitals.
fn urgent_care(r: &mut Rows) {
    r.row(
        "A&E attenders in 12 months",
        pct(r.t.ae_attenders, r.t.registered),
        "18% (10.06M of ~56M)",
        "Greenfield et al., EMJ (2016-17)",
    );
    r.row(
        "A&E attenders who came once",
        pct(r.t.ae_once, r.t.ae_attenders),
        "73.5%",
        "Greenfield et al., EMJ (2016-17)",
    );
    r.row(
        "A&E attenders who came 3+ times",
        pct(r.t.ae_3plus, r.t.ae_attenders),
        "9.5%",
        "Greenfield et al., EMJ (2016-17)",
    );
    r.row(
        "A&E attenders who came 6+ times",
        pct(r.t.ae_6plus, r.t.ae_attenders),
        "1.2%",
        "Greenfield et al., EMJ (2016-17)",
    );
    r.row(
        "A&E attendances per person-year",
        format!("{:.2}", ratio(r.t.ae_total, r.t.registered)),
        "0.26 (14.83M / 56M)",
        "Greenfield et al., EMJ (2016-17)",
    );
    r.row(
        "HFU A&E (5+ in 12 months)",
        pct(r.t.hfu_ae, r.t.registered),
        "<1% of population",
        "British Red Cross (2021)",
    );
    r.row(
        "HFU emergency admissions (3+ in 12 months)",
        pct(r.t.hfu_adm, r.t.registered),
        "not found",
        "-",
    );
}

/// GP use, high-frequency GP use and social prescribing.
fn gp_and_social_prescribing(r: &mut Rows) {
    r.row(
        "attended GP appointments per person-year",
        format!("{:.1}", ratio(r.t.gp_total, r.t.registered)),
        "5.2 consultations",
        "Hobbs et al., Lancet 2016",
    );
    r.row(
        "share of GP appointments by top 10% attenders",
        format!("{:.0}%", 100.0 * r.t.top_decile_gp_share()),
        "~40%",
        "Kontopantelis et al., BMJ Open 2021",
    );
    r.row(
        "HFU GP (20+ attended in 12 months)",
        pct(r.t.hfu_gp, r.t.registered),
        "top 10% average 21–25/yr",
        "Kontopantelis et al., BMJ Open 2021",
    );
    r.row(
        "any HFU",
        pct(r.t.hfu_any, r.t.registered),
        "~1% (NHSE winter letter example)",
        "NHSE HFU letter (Aug 2022)",
    );
    r.row(
        "SP referrals in 12 months per 1,000",
        format!("{:.1}", 1000.0 * ratio(r.t.sp_referred_12m, r.t.registered)),
        "16–22 per 1,000 (target)",
        "draft PCN personalised-care spec (2019/20)",
    );
}

/// The realism rows for a tally and the extract's structure.
pub fn rows(t: &Tally, practice_sizes: &[u64], pcn_sizes: &[u64]) -> Vec<Row> {
    let mut r = Rows { out: Vec::new(), t };
    population(&mut r, practice_sizes, pcn_sizes);
    ethnicity_and_deprivation(&mut r);
    conditions_and_needs(&mut r);
    urgent_care(&mut r);
    gp_and_social_prescribing(&mut r);
    r.out
}

/// The table as Markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut s =
        String::from("| metric | generated | published figure | source |\n|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            r.metric, r.generated, r.target, r.source
        );
    }
    s
}
