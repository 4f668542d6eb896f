//! Counting repeated keys: by sorting an Int64 column in memory when it fits
//! the pool, else by SQL. Split from `validate` so each stays short; both give
//! the same numbers (the tests in `validate::tests` compare them).

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use rayon::slice::ParallelSliceMut;

use super::{collect, first_i64};
use crate::extract::ExtractError;

/// Each value of `key` on more than one row of `table`, with its row count.
pub(super) fn repeated_keys_sql(table: &str, key: &str) -> String {
    format!(
        "SELECT \"{key}\", count(*) AS copies FROM {table} GROUP BY \"{key}\" HAVING count(*) > 1"
    )
}

/// (values that appear more than once, rows holding them), by SQL: works for
/// any key type and any size, spilling as the memory pool needs.
pub(super) async fn duplicates_by_sql(
    ctx: &SessionContext,
    table: &str,
    key: &str,
) -> Result<(i64, i64), ExtractError> {
    let total = collect(
        ctx,
        table,
        &format!(
            "SELECT count(*), sum(copies) FROM ({})",
            repeated_keys_sql(table, key)
        ),
    )
    .await?;
    Ok((
        first_i64(&total, 0).first().copied().unwrap_or(0),
        first_i64(&total, 1).first().copied().unwrap_or(0),
    ))
}

/// (values that appear more than once, rows holding them) for an Int64 key,
/// counted by sorting the column in memory: the same numbers as the SQL's
/// `GROUP BY key HAVING count(*) > 1` (nulls count as one value, as GROUP BY
/// groups them), at a fraction of the cost, since a hash aggregate over
/// unique keys cannot reduce anything (1M patients: 0.17 s -> 0.06 s).
/// None when the column is not Int64 or its values would take more than a
/// quarter of the memory pool; the caller then runs the SQL.
pub(super) async fn duplicates_by_sorting(
    ctx: &SessionContext,
    table: &str,
    key: &str,
) -> Result<Option<(i64, i64)>, ExtractError> {
    let err = |source| ExtractError::Query {
        table: table.to_string(),
        source,
    };
    let pool = ctx.runtime_env().memory_pool.clone();
    let budget = match pool.memory_limit() {
        MemoryLimit::Finite(bytes) => bytes / 4,
        _ => usize::MAX,
    };
    let reservation = MemoryConsumer::new(format!("phm unique {table}.{key}")).register(&pool);
    let mut stream = ctx
        .sql(&format!("SELECT \"{key}\" FROM {table}"))
        .await
        .map_err(err)?
        .execute_stream()
        .await
        .map_err(err)?;
    let mut values: Vec<i64> = Vec::new();
    let mut nulls = 0i64;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(err)?;
        let Some(ids) = batch.column(0).as_primitive_opt::<Int64Type>() else {
            return Ok(None);
        };
        let bytes = ids.len() * std::mem::size_of::<i64>();
        if reservation.size() + bytes > budget || reservation.try_grow(bytes).is_err() {
            return Ok(None);
        }
        nulls += ids.null_count() as i64;
        values.extend(ids.iter().flatten());
    }
    values.par_sort_unstable();
    let (mut keys, mut rows) = if nulls > 1 { (1, nulls) } else { (0, 0) };
    for run in values.chunk_by(|a, b| a == b) {
        if run.len() > 1 {
            keys += 1;
            rows += run.len() as i64;
        }
    }
    Ok(Some((keys, rows)))
}
