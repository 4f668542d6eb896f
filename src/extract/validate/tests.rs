//! Unit tests of `validate`, kept beside it so the module itself stays short.

use super::*;
use datafusion::arrow::array::{Int64Array, StringArray};
use datafusion::arrow::datatypes::{Field, Schema};
use std::sync::Arc;

fn table(ctx: &SessionContext, name: &str, ids: Vec<Option<i64>>) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("patient_id", DataType::Int64, true),
        Field::new("code", DataType::Utf8, true),
    ]));
    let codes: Vec<Option<&str>> = ids.iter().map(|_| Some("x")).collect();
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(codes)),
        ],
    )
    .unwrap();
    ctx.register_batch(name, batch).unwrap();
}

async fn by_sql(ctx: &SessionContext, name: &str) -> (i64, i64) {
    duplicates_by_sql(ctx, name, "patient_id").await.unwrap()
}

#[tokio::test]
async fn sorting_counts_duplicates_as_group_by_does() {
    let ctx = SessionContext::new();
    // 2 three times, 5 twice, null twice (GROUP BY groups nulls), 1 and 9
    // once: three repeated values on seven rows.
    table(
        &ctx,
        "repeats",
        vec![
            Some(5),
            Some(2),
            None,
            Some(1),
            Some(2),
            Some(9),
            None,
            Some(5),
            Some(2),
        ],
    );
    assert_eq!(
        duplicates_by_sorting(&ctx, "repeats", "patient_id")
            .await
            .unwrap(),
        Some((3, 7))
    );
    assert_eq!(by_sql(&ctx, "repeats").await, (3, 7));
    // One null is no repeat; unique ids have none.
    table(&ctx, "unique", vec![Some(3), None, Some(1), Some(2)]);
    assert_eq!(
        duplicates_by_sorting(&ctx, "unique", "patient_id")
            .await
            .unwrap(),
        Some((0, 0))
    );
    assert_eq!(by_sql(&ctx, "unique").await, (0, 0));
    table(&ctx, "empty", vec![]);
    assert_eq!(
        duplicates_by_sorting(&ctx, "empty", "patient_id")
            .await
            .unwrap(),
        Some((0, 0))
    );
}

#[tokio::test]
async fn ids_beyond_a_quarter_of_the_memory_pool_are_left_to_sql() {
    // A 256-byte pool: 64 bytes for the ids, fewer than 9 ids x 8 bytes.
    let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(
            datafusion::execution::memory_pool::FairSpillPool::new(256),
        ))
        .build_arc()
        .unwrap();
    let ctx = SessionContext::new_with_config_rt(Default::default(), runtime);
    table(&ctx, "t", (1..=9).map(Some).collect());
    assert_eq!(
        duplicates_by_sorting(&ctx, "t", "patient_id")
            .await
            .unwrap(),
        None
    );
    table(&ctx, "small", vec![Some(1), Some(1)]);
    assert_eq!(
        duplicates_by_sorting(&ctx, "small", "patient_id")
            .await
            .unwrap(),
        Some((1, 2))
    );
}

#[tokio::test]
async fn a_key_that_is_not_int64_is_left_to_sql() {
    let ctx = SessionContext::new();
    table(&ctx, "t", vec![Some(1)]);
    assert_eq!(
        duplicates_by_sorting(&ctx, "t", "code").await.unwrap(),
        None
    );
}
