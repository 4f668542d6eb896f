//! The library's top-level error: one variant per module error, and the exit
//! code the binary maps it to (2 for bad input, 1 for anything else).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PhmError {
    #[error(transparent)]
    Extract(#[from] crate::extract::ExtractError),
    #[error(transparent)]
    Rules(#[from] crate::rules::RulesError),
    #[error(transparent)]
    Generate(#[from] crate::generate::GenerateError),
    #[error("statistics: {0}")]
    Stats(#[from] crate::stats::StatsError),
    #[error("{0}")]
    Input(String),
    #[error("writing {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("query engine: {0}")]
    Engine(#[from] datafusion::error::DataFusionError),
    #[error("interrupted: nothing was written")]
    Interrupted,
}

impl PhmError {
    /// 2 when the user's input is at fault (extract, rules, config, arguments), else 1.
    pub fn exit_code(&self) -> u8 {
        let input = match self {
            PhmError::Extract(e) => e.is_input_error(),
            PhmError::Rules(e) => e.is_input_error(),
            PhmError::Generate(e) => !matches!(
                e,
                crate::generate::GenerateError::Io { .. }
                    | crate::generate::GenerateError::Interrupted
            ),
            PhmError::Input(_) | PhmError::Stats(_) => true,
            PhmError::Write { .. } | PhmError::Engine(_) | PhmError::Interrupted => false,
        };
        if input {
            2
        } else {
            1
        }
    }

    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PhmError::Write {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = PhmError> = std::result::Result<T, E>;
