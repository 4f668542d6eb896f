//! Second, independent computations on a generated extract of 50,000 patients:
//! - the generator's own tally (counted while simulating, in Rust, from the
//!   dates it drew) against the features SQL;
//! - need_score, need_reasons, segments and the proposal recomputed by a plain
//!   SQL query with the spec's default points written out here, against the
//!   Rust scoring and proposal code.
//!
//! Zero differences allowed.

use std::collections::BTreeMap;

use crate::common::*;
use phm::pipeline::{Pipeline, RunOptions};
use phm::rules::RuleSet;
use phm::tools::generate::{generate, GenerateConfig};

async fn count(p: &Pipeline, sql: &str) -> i64 {
    let b = p.ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let rows = rows_of_any(&b);
    rows[0]
}

fn rows_of_any(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> Vec<i64> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Int64Type;
    let mut v = Vec::new();
    for b in batches {
        let c = datafusion::arrow::compute::cast(
            b.column(0),
            &datafusion::arrow::datatypes::DataType::Int64,
        )
        .unwrap();
        for i in 0..b.num_rows() {
            v.push(c.as_primitive::<Int64Type>().value(i));
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn features_and_proposals_match_independent_computations() {
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("extract");
    let cfg = GenerateConfig {
        patients: 50_000,
        seed: 7,
        as_of: d("2025-03-31"),
        pcns: Some(5),
        icbs: 1,
        out: extract.clone(),
        after_t_share: 0.02,
        force: false,
    };
    let codelists = RuleSet::defaults().codelists().unwrap();
    let summary = generate(&cfg, &codelists, &|_| {}, &Default::default()).unwrap();
    let t = summary.tally;

    let pipeline = Pipeline::open(&RunOptions {
        extract: extract.clone(),
        as_of: Some(d("2025-03-31")),
        ..Default::default()
    })
    .await
    .unwrap();
    pipeline.ensure_features().await.unwrap();

    // 1. The generator's tally against the features SQL.
    let checks: [(&str, u64); 10] = [
        ("SELECT count(*) FROM features", t.registered),
        ("SELECT count(*) FROM features WHERE hfu_ae", t.hfu_ae),
        ("SELECT count(*) FROM features WHERE hfu_adm", t.hfu_adm),
        ("SELECT count(*) FROM features WHERE hfu_gp", t.hfu_gp),
        ("SELECT count(*) FROM features WHERE hfu", t.hfu_any),
        (
            "SELECT count(*) FROM features WHERE sp_referred_12m",
            t.sp_referred_12m,
        ),
        (
            "SELECT count(*) FROM features WHERE sp_declined_6m",
            t.sp_declined_6m,
        ),
        (
            "SELECT count(*) FROM features WHERE lonely AND age >= 18",
            t.lonely_24m_adults,
        ),
        ("SELECT sum(gp_attended_12m) FROM features", t.gp_total),
        ("SELECT sum(ae_12m) FROM features", t.ae_total),
    ];
    for (sql, expected) in checks {
        assert_eq!(count(&pipeline, sql).await as u64, expected, "{sql}");
    }
    assert!(
        t.hfu_ae > 20 && t.sp_referred_12m > 100,
        "too few cases for a meaningful check"
    );

    // 2. Score, reasons and proposal by a plain SQL query with the spec's points.
    let independent = r#"
        WITH s AS (
          SELECT pcn_code, patient_id, eligible,
            (CASE WHEN core20 THEN 2 ELSE 0 END) + (CASE WHEN plus_ethnic_minority THEN 1 ELSE 0 END)
            + (CASE WHEN plus_inclusion_health THEN 2 ELSE 0 END) + (CASE WHEN plus_learning_disability THEN 1 ELSE 0 END)
            + (CASE WHEN lonely THEN 3 ELSE 0 END) + (CASE WHEN social_needs THEN 2 ELSE 0 END)
            + (CASE WHEN mental_health THEN 2 ELSE 0 END) + (CASE WHEN frailty THEN 2 ELSE 0 END)
            + (CASE WHEN carer THEN 1 ELSE 0 END) + (CASE WHEN ltc_count >= 2 THEN 1 ELSE 0 END)
            + (CASE WHEN ltc_count >= 4 THEN 1 ELSE 0 END) + (CASE WHEN hfu_ae THEN 3 ELSE 0 END)
            + (CASE WHEN hfu_adm THEN 2 ELSE 0 END) + (CASE WHEN hfu_gp THEN 2 ELSE 0 END) AS score,
            concat_ws('; ',
              CASE WHEN core20 THEN 'core20+2' END, CASE WHEN plus_ethnic_minority THEN 'plus_ethnic_minority+1' END,
              CASE WHEN plus_inclusion_health THEN 'plus_inclusion_health+2' END,
              CASE WHEN plus_learning_disability THEN 'plus_learning_disability+1' END,
              CASE WHEN lonely THEN 'lonely+3' END, CASE WHEN social_needs THEN 'social_needs+2' END,
              CASE WHEN mental_health THEN 'mental_health+2' END, CASE WHEN frailty THEN 'frailty+2' END,
              CASE WHEN carer THEN 'carer+1' END, CASE WHEN ltc_count >= 2 THEN 'ltc2+1' END,
              CASE WHEN ltc_count >= 4 THEN 'ltc4+1' END, CASE WHEN hfu_ae THEN 'hfu_ae+3' END,
              CASE WHEN hfu_adm THEN 'hfu_adm+2' END, CASE WHEN hfu_gp THEN 'hfu_gp+2' END) AS reasons,
            CASE WHEN hfu AND (lonely OR social_needs OR mental_health) THEN 'hfu_social'
                 WHEN lonely THEN 'lonely_isolated' WHEN frailty THEN 'frailty'
                 WHEN core20 AND ltc_count >= 2 THEN 'core20_multimorbid'
                 WHEN plus_ethnic_minority OR plus_inclusion_health OR plus_learning_disability THEN 'plus_groups'
                 ELSE 'other_high_need' END AS segment
          FROM features)
        SELECT patient_id, score, reasons, segment, pcn_code,
               CASE WHEN eligible AND score >= 6 THEN
                 ROW_NUMBER() OVER (PARTITION BY pcn_code, eligible AND score >= 6 ORDER BY score DESC, patient_id)
               END AS rnk
        FROM s"#;
    let batches = pipeline
        .ctx
        .sql(independent)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let expected = rows_of(&batches);
    let scored = {
        let b = pipeline
            .ctx
            .sql("SELECT patient_id, need_score, need_reasons, high_need FROM features")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        rows_of(&b)
    };
    assert_eq!(expected.len(), scored.len());
    let mut differences = 0;
    for (id, row) in &scored {
        let e = &expected[id];
        if i(row, "need_score") != i(e, "score")
            || s(row, "need_reasons") != s(e, "reasons")
            || b(row, "high_need") != i(e, "rnk").is_some()
        {
            differences += 1;
        }
    }
    assert_eq!(
        differences, 0,
        "patients whose score, reasons or high_need differ"
    );

    let proposal =
        phm::proposals::run::propose(&pipeline, &Default::default(), &Default::default())
            .await
            .unwrap();
    // Default capacity: floor(2.0 × 200 × 0.3) = 120 per PCN.
    let mut got: BTreeMap<i64, (String, String, u32, &str)> = BTreeMap::new();
    for r in &proposal.rows {
        got.insert(
            r.candidate.patient_id,
            (
                r.candidate.pcn_code.clone(),
                r.candidate.segment.clone(),
                r.rank,
                r.status.name(),
            ),
        );
    }
    let mut want: BTreeMap<i64, (String, String, u32, &str)> = BTreeMap::new();
    for (id, e) in &expected {
        if let Some(rank) = i(e, "rnk") {
            let status = if rank <= 120 { "proposed" } else { "waiting" };
            want.insert(
                *id,
                (s(e, "pcn_code"), s(e, "segment"), rank as u32, status),
            );
        }
    }
    assert!(
        want.len() > 500,
        "too few high-need patients: {}",
        want.len()
    );
    assert_eq!(got, want);
    assert!(
        proposal.summaries.iter().any(|s| s.waiting > 0),
        "no PCN over capacity: the check is weak"
    );
}
