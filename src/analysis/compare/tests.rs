//! Unit tests of `compare`, kept beside it so the module itself stays short.

use super::*;
use crate::analysis::disclosure::Disclosure;
use crate::analysis::indicators::CountCell;

/// The comparison of cells at `level`, with disclosure `d`.
fn compare_cells(
    ind: &Indicator,
    cells: &[CountCell],
    level: AreaType,
    d: Disclosure,
) -> Comparison {
    let tallies = Tallies::of(std::slice::from_ref(ind), cells);
    let published = PublishedCounts::of(&tallies, d);
    compare(&tallies, &published, 0, level).unwrap()
}

#[test]
fn count_on_line_inverts_the_count_limits() {
    // The High 95% line at expected count 100: the x whose Byar lower limit is 100.
    let x = count_on_line(100.0, 0.95, true).unwrap();
    assert!(
        (stats::byar_lower(x, 0.95).unwrap() - 100.0).abs() < 1e-6,
        "{x}"
    );
    // ~ 100 + 1.96·√100 + a little: between 118 and 123.
    assert!((118.0..123.0).contains(&x), "{x}");
    // The Low line: the x whose upper limit is 100, ~ 100 − 1.96·√100.
    let y = count_on_line(100.0, 0.95, false).unwrap();
    assert!(
        (stats::byar_upper(y, 0.95).unwrap() - 100.0).abs() < 1e-6,
        "{y}"
    );
    assert!((78.0..83.0).contains(&y), "{y}");
    // Small expected counts use the exact limits; a tiny one gives a Low line at 0.
    assert_eq!(count_on_line(0.01, 0.95, false).unwrap(), 0.0);
}

fn cell(pcn: &str, events: i64, people: i64) -> CountCell {
    CountCell {
        icb_code: "Q1".into(),
        pcn_code: pcn.into(),
        practice_code: format!("P{pcn}"),
        imd_decile: Some(3),
        local_quintile: Some(2),
        age_band: 10,
        numerators: vec![events],
        denominators: vec![people],
    }
}

fn rate_indicator() -> Indicator {
    Indicator {
        name: "ae".into(),
        title: "A&E".into(),
        measure: Measure::Rate,
        numerator: "ae_12m".into(),
        min_age: None,
        max_age: None,
        population: None,
        multiplier: 1000.0,
        standardised: false,
        key: false,
        polarity: Default::default(),
    }
}

#[test]
fn rate_funnel_labels_agree_with_the_written_limits() {
    // Overall 2,000 events / 10,000 people = 200 per 1,000. A: 300 of 1,000
    // (far above), B: 100 of 1,000 (far below), C: 1,000 of 5,000 (on the
    // mean), D: 5 of 10 (tiny, exact limits), E: 595 of 2,990.
    let cells = [
        cell("A", 300, 1000),
        cell("B", 100, 1000),
        cell("C", 1000, 5000),
        cell("D", 5, 10),
        cell("E", 595, 2990),
    ];
    let c = compare_cells(&rate_indicator(), &cells, AreaType::Pcn, Disclosure::Off);
    let total_x = 300.0 + 100.0 + 1000.0 + 5.0 + 595.0;
    let total_n = 1000.0 + 1000.0 + 5000.0 + 10.0 + 2990.0;
    assert!((c.funnel[0].average - total_x / total_n * 1000.0).abs() < 1e-9);
    let by: std::collections::BTreeMap<&str, &FunnelRow> =
        c.funnel.iter().map(|r| (r.area_code.as_str(), r)).collect();
    assert_eq!(by["A"].significance, Some(Significance::High001));
    assert_eq!(by["B"].significance, Some(Significance::Low001));
    assert_eq!(by["C"].significance, Some(Significance::NotSignificant));
    for r in &c.funnel {
        let v = r.value.unwrap();
        let (l95, u95) = (r.lower95.unwrap(), r.upper95.unwrap());
        let (l998, u998) = (r.lower998.unwrap(), r.upper998.unwrap());
        assert!(
            l998 <= l95 && l95 <= r.average && r.average <= u95 && u95 <= u998,
            "{r:?}"
        );
        let want = if v > u998 {
            "High (0.001)"
        } else if v > u95 {
            "High (0.025)"
        } else if v < l998 {
            "Low (0.001)"
        } else if v < l95 {
            "Low (0.025)"
        } else {
            "Not significant"
        };
        assert_eq!(
            r.significance.map(Significance::as_str),
            Some(want),
            "{r:?}"
        );
    }
    assert_eq!(
        c.league.iter().map(|r| r.rank).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(c.league[0].area_code, "D", "500 per 1,000 ranks first");
}

#[test]
fn published_funnels_use_the_published_counts_and_hide_small_ones() {
    // A 300 of 1,000 → 300/1000; B 102 of 998 → 100/1000; D 5 of 10:
    // the 5 is suppressed, so D is listed with no value or label, and the
    // centre line is (300 + 100) / (1000 + 1000) of the published counts.
    let cells = [cell("A", 300, 1000), cell("B", 102, 998), cell("D", 5, 10)];
    let c = compare_cells(
        &rate_indicator(),
        &cells,
        AreaType::Pcn,
        Disclosure::Controlled,
    );
    let by: std::collections::BTreeMap<&str, &FunnelRow> =
        c.funnel.iter().map(|r| (r.area_code.as_str(), r)).collect();
    assert!((by["A"].average - 400.0 / 2000.0 * 1000.0).abs() < 1e-9);
    assert_eq!(
        (by["B"].numerator, by["B"].denominator),
        (Some(100), Some(1000))
    );
    assert!((by["B"].value.unwrap() - 100.0).abs() < 1e-9);
    assert_eq!(by["D"].value, None);
    assert_eq!(by["D"].significance, None);
    assert_eq!(by["D"].numerator, None);
    assert_eq!(by["D"].denominator, Some(10));
    let d = c.league.iter().find(|r| r.area_code == "D").unwrap();
    assert_eq!(d.rank, 3, "suppressed areas rank last");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(d).unwrap();
    let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert!(text.contains(SUPPRESSED_LABEL), "{text}");
}

#[test]
fn csv_columns_line_up_with_the_row_fields() {
    let cells = [cell("A", 30, 100), cell("B", 20, 100)];
    let c = compare_cells(&rate_indicator(), &cells, AreaType::Pcn, Disclosure::Off);
    let with_headers = |rows: &[FunnelRow]| {
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in rows {
            w.serialize(r).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    };
    let text = with_headers(&c.funnel);
    assert_eq!(text.lines().next().unwrap(), FUNNEL_COLUMNS.join(","));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(&c.league[0]).unwrap();
    let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(text.lines().next().unwrap(), LEAGUE_COLUMNS.join(","));
}
