//! The library's top-level error, and the one place that decides what kind
//! of failure each error is and so which exit code the binary gives:
//! 2 when the user's input is at fault (the extract, rules and configs,
//! arguments, returned files), 0 for a closed stdout (`phm … | head`), 3 when
//! `phm assure` finds a test patient's features not as expected, and 1
//! for everything else (internal errors, resources, writing outputs).
//!
//! Messages never repeat their cause: a variant with a `#[source]` says what
//! phm was doing, and the binary prints the chain of causes beneath it.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

#[derive(Debug, thiserror::Error)]
pub enum PhmError {
    #[error(transparent)]
    Extract(#[from] crate::extract::ExtractError),
    #[error(transparent)]
    Rules(#[from] crate::rules::RulesError),
    #[error(transparent)]
    Generate(#[from] crate::tools::generate::GenerateError),
    #[error(transparent)]
    Import(#[from] crate::import::omop::ImportError),
    /// A malformed `phm assure` file.
    #[error(transparent)]
    Assure(#[from] crate::assure::AssureError),
    /// `phm assure` ran, and some test patients' features were not as expected.
    #[error("{failed} of {patients} test patients failed (the differences are listed above)")]
    AssuranceFailed { failed: usize, patients: usize },
    /// A `--benchmark` file that cannot be used.
    #[error(transparent)]
    Benchmark(#[from] crate::analysis::benchmarks::BenchmarkError),
    #[error("statistics: {0}")]
    Stats(#[from] crate::stats::StatsError),
    /// Bad input other than the extract and rules: arguments, a returned
    /// decisions list, a capacity CSV, an indicator an analyst asked for.
    #[error("{0}")]
    Input(String),
    /// phm itself went wrong (a chart that cannot be drawn, a table that
    /// cannot be serialised): never the user's input.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("cannot write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the query engine failed")]
    Engine(#[from] DataFusionError),
    /// A query needed more memory than the pool allows, even spilling.
    #[error(
        "the query engine ran out of memory within --memory-limit {limit}; \
         raise --memory-limit, or give --spill-dir a folder with more free space"
    )]
    OutOfMemory {
        limit: String,
        #[source]
        source: Box<PhmError>,
    },
    #[error("interrupted: nothing was written")]
    Interrupted,
    /// stdout was closed by its reader (`phm query … | head`): not a failure.
    #[error("stdout was closed")]
    BrokenPipe,
}

/// What kind of failure an error is; the exit code follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's input is wrong: exit 2.
    Input,
    /// Memory or disk ran out: exit 1.
    Resources,
    /// Writing an output failed: exit 1.
    Output,
    /// A bug, or a failure phm cannot blame on its input: exit 1.
    Internal,
    /// Ctrl-C: exit 1.
    Interrupted,
    /// stdout closed by its reader: exit 0, quietly.
    BrokenPipe,
    /// `phm assure` ran and an expectation did not hold: exit 3, so a script
    /// can tell a failing test from bad input (2) and a fault (1).
    ExpectationFailed,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Input => 2,
            ErrorKind::BrokenPipe => 0,
            ErrorKind::ExpectationFailed => 3,
            ErrorKind::Resources
            | ErrorKind::Output
            | ErrorKind::Internal
            | ErrorKind::Interrupted => 1,
        }
    }
}

/// The kind of a DataFusion error. `user_sql` is true when the SQL that
/// failed is the user's (a rules file, `phm query`, an indicator), so that
/// planning and evaluation errors are theirs to fix; in phm's own SQL they
/// are phm's bugs. Running out of memory is never the input's fault, and a
/// Parquet file that cannot be decoded is always an input file (phm reads no
/// other Parquet than the extract and its own scratch copy of the features).
pub fn engine_kind(e: &DataFusionError, user_sql: bool) -> ErrorKind {
    use DataFusionError as E;
    let user = if user_sql {
        ErrorKind::Input
    } else {
        ErrorKind::Internal
    };
    match e {
        E::Context(_, inner) | E::Diagnostic(_, inner) => engine_kind(inner, user_sql),
        E::Shared(inner) => engine_kind(inner, user_sql),
        E::Collection(all) => all
            .iter()
            .map(|e| engine_kind(e, user_sql))
            .find(|k| *k == ErrorKind::Resources)
            .or_else(|| all.first().map(|e| engine_kind(e, user_sql)))
            .unwrap_or(ErrorKind::Internal),
        E::ResourcesExhausted(_) => ErrorKind::Resources,
        E::ParquetError(_) => ErrorKind::Input,
        E::ArrowError(a, _) => match a.as_ref() {
            datafusion::arrow::error::ArrowError::MemoryError(_) => ErrorKind::Resources,
            datafusion::arrow::error::ArrowError::IoError(..)
            | datafusion::arrow::error::ArrowError::ExternalError(_) => ErrorKind::Internal,
            datafusion::arrow::error::ArrowError::ParquetError(_) => ErrorKind::Input,
            _ => user,
        },
        E::IoError(_) | E::ObjectStore(_) => ErrorKind::Internal,
        E::External(inner) => match inner.downcast_ref::<DataFusionError>() {
            Some(df) => engine_kind(df, user_sql),
            None if inner.downcast_ref::<std::io::Error>().is_some() => ErrorKind::Internal,
            None => match inner.downcast_ref::<PhmError>() {
                Some(phm) => phm.kind(),
                None => ErrorKind::Internal,
            },
        },
        E::SQL(..) | E::Plan(_) | E::SchemaError(..) | E::Execution(_) | E::NotImplemented(_) => {
            user
        }
        _ => ErrorKind::Internal,
    }
}

impl PhmError {
    /// What kind of failure this is (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            PhmError::Extract(e) => e.kind(),
            PhmError::Rules(e) => e.kind(),
            PhmError::Generate(e) => match e {
                crate::tools::generate::GenerateError::Io { .. } => ErrorKind::Output,
                crate::tools::generate::GenerateError::Interrupted => ErrorKind::Interrupted,
                _ => ErrorKind::Input,
            },
            PhmError::Import(e) => e.kind(),
            PhmError::Input(_)
            | PhmError::Stats(_)
            | PhmError::Assure(_)
            | PhmError::Benchmark(_) => ErrorKind::Input,
            PhmError::AssuranceFailed { .. } => ErrorKind::ExpectationFailed,
            PhmError::Internal(_) => ErrorKind::Internal,
            PhmError::Write { .. } => ErrorKind::Output,
            PhmError::Engine(e) => engine_kind(e, false),
            PhmError::OutOfMemory { .. } => ErrorKind::Resources,
            PhmError::Interrupted => ErrorKind::Interrupted,
            PhmError::BrokenPipe => ErrorKind::BrokenPipe,
        }
    }

    /// 2 for bad input, 0 for a closed stdout, 3 for a failed assurance, else 1.
    pub fn exit_code(&self) -> u8 {
        self.kind().exit_code()
    }

    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PhmError::Write {
            path: path.into(),
            source,
        }
    }

    /// An error from writing a line to stdout: a reader that went away is
    /// [`PhmError::BrokenPipe`], anything else a failed write.
    pub fn stdout(source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            PhmError::BrokenPipe
        } else {
            PhmError::write("<stdout>", source)
        }
    }

    /// Names the memory limit when the engine ran out of memory, so the
    /// message says what to change.
    pub fn with_memory_limit(self, limit_bytes: usize) -> Self {
        if self.kind() != ErrorKind::Resources || matches!(self, PhmError::OutOfMemory { .. }) {
            return self;
        }
        PhmError::OutOfMemory {
            limit: human_bytes(limit_bytes),
            source: Box::new(self),
        }
    }
}

/// 268435456 → "256MiB", for messages about memory limits.
pub fn human_bytes(bytes: usize) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if (value - value.round()).abs() < 1e-9 {
        format!("{}{}", value.round() as u64, UNITS[unit])
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}

/// The lines the binary prints for an error: its message, then each cause
/// whose text the lines so far do not already hold (DataFusion's messages
/// often include their own source, which would otherwise print twice).
pub fn report_lines(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut lines = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !lines.iter().any(|l| l.contains(&text)) {
            lines.push(text);
        }
        source = s.source();
    }
    lines
}

pub type Result<T, E = PhmError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_the_documented_exit_codes() {
        assert_eq!(PhmError::Input("x".into()).exit_code(), 2);
        assert_eq!(PhmError::Internal("x".into()).exit_code(), 1);
        assert_eq!(PhmError::BrokenPipe.exit_code(), 0);
        let failed = PhmError::AssuranceFailed {
            failed: 1,
            patients: 2,
        };
        assert_eq!(failed.exit_code(), 3);
        assert_eq!(PhmError::Interrupted.exit_code(), 1);
        let oom = DataFusionError::ResourcesExhausted("pool".into());
        assert_eq!(PhmError::Engine(oom).exit_code(), 1);
        // The same failure inside a user's SQL is still not their input.
        let in_rules = crate::rules::RulesError::Sql {
            file: "sql/x.sql".into(),
            source: DataFusionError::Context(
                "ctx".into(),
                Box::new(DataFusionError::ResourcesExhausted("pool".into())),
            ),
        };
        assert_eq!(PhmError::from(in_rules).kind(), ErrorKind::Resources);
        let bad_sql = crate::rules::RulesError::Sql {
            file: "sql/x.sql".into(),
            source: DataFusionError::Plan("no column y".into()),
        };
        assert_eq!(PhmError::from(bad_sql).exit_code(), 2);
        // A planning error in phm's own SQL is phm's bug.
        assert_eq!(
            PhmError::Engine(DataFusionError::Plan("x".into())).exit_code(),
            1
        );
        let closed = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(PhmError::stdout(closed).exit_code(), 0);
        let full = std::io::Error::other("disk full");
        assert_eq!(PhmError::stdout(full).exit_code(), 1);
    }

    #[test]
    fn the_memory_hint_names_the_limit_and_only_for_memory() {
        let oom = PhmError::Engine(DataFusionError::ResourcesExhausted("pool".into()));
        let e = oom.with_memory_limit(100 << 20);
        assert!(e.to_string().contains("--memory-limit 100MiB"), "{e}");
        assert_eq!(e.exit_code(), 1);
        let input = PhmError::Input("bad".into()).with_memory_limit(1 << 30);
        assert_eq!(input.to_string(), "bad");
        assert_eq!(human_bytes(3 << 29), "1.5GiB");
    }

    #[test]
    fn each_cause_is_printed_once() {
        let inner = std::io::Error::other("No space left on device");
        let e = PhmError::write("out/x.csv", inner);
        assert_eq!(
            report_lines(&e),
            ["cannot write out/x.csv", "No space left on device"]
        );
        // A message that already holds its cause does not print it again.
        let df = DataFusionError::Context(
            "reading".into(),
            Box::new(DataFusionError::Plan("no column y".into())),
        );
        let lines = report_lines(&df);
        assert_eq!(lines.len(), 1, "{lines:?}");
    }
}
