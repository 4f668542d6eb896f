//! The DataFusion session every command runs in: bounded memory (a fair
//! spilling pool of `--memory-limit`, spilling to `--spill-dir`), all cores,
//! and plain Utf8 strings so outputs have exactly the contract's types. With
//! `--engine ballista://HOST:PORT` (cargo feature `ballista`) the same session
//! settings go to an Apache Ballista cluster, which plans and runs every query
//! on its executors; results stream back here for statistics and charts.

pub mod decode;
pub mod scratch;
pub mod timings;

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

/// How the query engine may use the machine.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Bytes the engine may hold before spilling (None: 50% of RAM, see [`default_memory_limit`]).
    pub memory_limit: Option<usize>,
    /// Where spill files go (None: the system temp folder).
    pub spill_dir: Option<PathBuf>,
    /// Worker threads / partitions (None: all cores).
    pub threads: Option<usize>,
    /// A Ballista scheduler (`ballista://HOST:PORT`) to run queries on; None: this machine.
    pub remote: Option<String>,
}

/// Half the machine's memory, or 4 GiB when it cannot be read: enough for a
/// 10M-patient extract to run without the OS killing the process, since
/// DataFusion spills sorts and aggregations beyond the pool.
pub fn default_memory_limit() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<usize>().ok())
        })
        .map(|kb| kb * 1024);
    total.map(|t| t / 2).unwrap_or(4 << 30)
}

/// Parses sizes like `4GiB`, `512MiB`, `2G`, `1000000`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 4GiB or 512MiB"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0f64.powi(4),
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{text}` (use KiB, MiB, GiB)"
            ))
        }
    };
    let bytes = value * mult;
    if bytes < 16.0 * 1024.0 * 1024.0 {
        return Err(format!("`{text}` is too small: phm needs at least 16MiB"));
    }
    Ok(bytes as usize)
}

/// The session for `options`: local, or connected to the Ballista scheduler
/// named by `options.remote`.
pub async fn connect(
    options: &EngineOptions,
) -> Result<SessionContext, datafusion::error::DataFusionError> {
    let local = session(options)?;
    match &options.remote {
        None => Ok(local),
        Some(url) => remote(url, local).await,
    }
}

#[cfg(feature = "ballista")]
async fn remote(
    url: &str,
    local: SessionContext,
) -> Result<SessionContext, datafusion::error::DataFusionError> {
    use ballista::prelude::SessionContextExt;
    use datafusion::error::DataFusionError;
    let address = url.strip_prefix("ballista://").ok_or_else(|| {
        DataFusionError::Configuration(format!(
            "--engine `{url}`: expected `local` or ballista://HOST:PORT"
        ))
    })?;
    // The client connects lazily; try the scheduler now so that an unreachable
    // one is reported as such, not as a failure to read the first table.
    let reachable = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::net::TcpStream::connect(address),
    )
    .await;
    match reachable {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            return Err(DataFusionError::Configuration(format!(
                "cannot reach the Ballista scheduler at {url}: {e}; start one (scripts/ballista-local.sh start) or check --engine"
            )))
        }
        Err(_) => {
            return Err(DataFusionError::Configuration(format!(
                "cannot reach the Ballista scheduler at {url}: no answer in 10 s; check --engine"
            )))
        }
    }
    SessionContext::remote_with_state(url, local.state()).await
}

#[cfg(not(feature = "ballista"))]
async fn remote(
    url: &str,
    _local: SessionContext,
) -> Result<SessionContext, datafusion::error::DataFusionError> {
    Err(datafusion::error::DataFusionError::Configuration(format!(
        "--engine {url}: this phm was built without Ballista support; build it with `cargo build --release --features ballista`"
    )))
}

/// Asks glibc's allocator to keep memory the engine frees for reuse instead
/// of returning it to the OS at once: a query run allocates and frees its
/// batches, hash tables and sort buffers many times over, and with the
/// defaults every such buffer is page-faulted (and zeroed by the kernel) again.
/// One arena per core (2 to 8) instead of eight per core, and buffers up to
/// 32 MiB from the arenas rather than fresh maps. Measured at 1M patients,
/// `phm features`: system time 0.77 s -> 0.50 s, peak RSS 512 -> 403 MB,
/// wall -5% (docs/README.md). Call once, before any threads start; a no-op
/// on other C libraries.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let arenas = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 8) as libc::c_int;
        for (parameter, value) in [
            (libc::M_ARENA_MAX, arenas),
            (libc::M_MMAP_THRESHOLD, 32 << 20),
            (libc::M_TRIM_THRESHOLD, libc::c_int::MAX),
            (libc::M_TOP_PAD, 128 << 20),
        ] {
            // SAFETY: mallopt only sets allocator parameters; it is called
            // from main before other threads exist, and a refused value
            // (return 0) leaves glibc's default in place.
            unsafe {
                libc::mallopt(parameter, value);
            }
        }
    }
}

/// Sorts of up to a quarter of the memory pool (at most 256 MiB) per
/// partition are done in one piece: the batches are concatenated and sorted
/// with one `take` per column, rather than each 8k-row batch sorted and the
/// runs merged (SortExec at 1M patients: 424 ms -> 33 ms compute). Sorting
/// in a single partition as well was faster at 1M (~0.05 s) but 33% slower
/// at 10M with a 4 GiB limit (one core spilling and merging), so the
/// partitions still sort in parallel. Explicit DATAFUSION_* variables win.
fn tune_sorts(config: &mut SessionConfig, memory: usize) {
    let opts = config.options_mut();
    if std::env::var_os("DATAFUSION_EXECUTION_SORT_IN_PLACE_THRESHOLD_BYTES").is_none() {
        opts.execution.sort_in_place_threshold_bytes = (memory / 4).min(256 << 20);
    }
}

/// Batches of 32k rows instead of DataFusion's 8k: the features plan
/// evaluates some 40 expressions per row (24 `max(CASE …)` over the coded
/// history alone), and a quarter as many batches costs less per-batch work.
/// Measured at 1M patients, `phm features`: 1.78 s -> 1.70 s median (8k:
/// 1.79, 16k: 1.76, 64k: 1.72), same output (docs/README.md).
/// DATAFUSION_EXECUTION_BATCH_SIZE still wins.
const BATCH_ROWS: usize = 32 * 1024;

/// A local session configured by `options`.
pub fn session(
    options: &EngineOptions,
) -> Result<SessionContext, datafusion::error::DataFusionError> {
    let threads = options.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    // DATAFUSION_* environment variables (e.g. DATAFUSION_EXECUTION_BATCH_SIZE)
    // tune the engine without a rebuild; phm's own settings below win.
    let base = SessionConfig::from_env().unwrap_or_default();
    let partitions = if std::env::var_os("DATAFUSION_EXECUTION_TARGET_PARTITIONS").is_some() {
        base.target_partitions()
    } else {
        threads
    };
    let batch_rows = if std::env::var_os("DATAFUSION_EXECUTION_BATCH_SIZE").is_some() {
        base.batch_size()
    } else {
        BATCH_ROWS
    };
    let mut config = base
        .with_target_partitions(partitions)
        .with_batch_size(batch_rows)
        .with_information_schema(true);
    let opts = config.options_mut();
    opts.execution.parquet.schema_force_view_types = false;
    opts.execution.parquet.pushdown_filters = false;
    let memory = options.memory_limit.unwrap_or_else(default_memory_limit);
    tune_sorts(&mut config, memory);
    let mode = match &options.spill_dir {
        Some(dir) => DiskManagerMode::Directories(vec![dir.clone()]),
        None => DiskManagerMode::OsTmpDirectory,
    };
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(memory)))
        .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(mode))
        .build_arc()?;
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("2g").unwrap(), 2 << 30);
        assert!(parse_size("4 parsecs").is_err());
        assert!(parse_size("1KiB").is_err());
    }
}
