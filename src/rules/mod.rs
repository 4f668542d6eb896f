//! The rules phm runs, as data: SQL files, codelist CSVs and TOML configs from
//! `queries/`. The defaults are compiled into the binary; `--rules DIR` swaps
//! in an analyst's edited copy. This module loads and checks them; running
//! them is `features.rs`'s job.

pub mod codelists;
pub mod config;
pub mod overrides;
pub mod views;

/// A name made of lower-case letters, digits and `_`, not empty: the names
/// the rules turn into SQL (tables `codelist_NAME`, parameters `$NAME_since`,
/// columns), so that none can carry SQL or a path.
pub fn is_lower_snake(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

pub use codelists::{parse_codelist, register_codelists, Codelist};
pub use config::RulesConfig;

static DEFAULT_QUERIES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/queries");

/// Problems with a rules folder, a codelist or a config file.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("rules folder {}: {message}", .path.display())]
    Folder { path: PathBuf, message: String },
    #[error("codelist {file}{}: {message}", if *.line > 0 { format!(", line {}", .line) } else { String::new() })]
    Codelist {
        file: String,
        line: usize,
        message: String,
    },
    #[error("config {file}: {message}")]
    Config { file: String, message: String },
    #[error("rules file `{0}` is missing (export the defaults with `phm rules export DIR` to see the expected layout)")]
    MissingFile(String),
    #[error("the query engine failed")]
    Engine(#[from] datafusion::error::DataFusionError),
    #[error("SQL in {file} failed")]
    Sql {
        file: String,
        #[source]
        source: datafusion::error::DataFusionError,
    },
    #[error(transparent)]
    Features(#[from] crate::features::contract::FeaturesMismatch),
    /// A query's result lacks a column phm reads, or has it in another type.
    #[error("{file}: column `{column}`: {found}, expected {expected}")]
    Column {
        file: String,
        column: String,
        found: String,
        expected: &'static str,
    },
    #[error("cannot write {}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl RulesError {
    /// Mistakes in the rules are bad input; a rule's SQL that fails because
    /// memory ran out is not (see [`crate::error::engine_kind`]).
    pub fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::{engine_kind, ErrorKind};
        match self {
            RulesError::Sql { source, .. } => engine_kind(source, true),
            RulesError::Engine(source) => engine_kind(source, false),
            RulesError::Io { .. } => ErrorKind::Output,
            RulesError::Folder { .. }
            | RulesError::Codelist { .. }
            | RulesError::Config { .. }
            | RulesError::MissingFile(_)
            | RulesError::Features(_)
            | RulesError::Column { .. } => ErrorKind::Input,
        }
    }
}

/// A loaded rules folder: every file by its path relative to the folder.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// Where the rules came from, for messages ("built-in defaults" or a path).
    pub origin: String,
    files: BTreeMap<String, String>,
}

impl RuleSet {
    /// The defaults compiled into phm from `queries/`.
    pub fn defaults() -> Self {
        let mut files = BTreeMap::new();
        collect_embedded(&DEFAULT_QUERIES, &mut files);
        RuleSet {
            origin: "built-in defaults".into(),
            files,
        }
    }

    /// Loads an analyst's copy of `queries/` from disk.
    pub fn from_dir(dir: &Path) -> Result<Self, RulesError> {
        if !dir.is_dir() {
            return Err(RulesError::Folder {
                path: dir.to_path_buf(),
                message:
                    "does not exist or is not a folder (create one with `phm rules export DIR`)"
                        .into(),
            });
        }
        let mut files = BTreeMap::new();
        collect_disk(dir, dir, &mut files)?;
        Ok(RuleSet {
            origin: dir.display().to_string(),
            files,
        })
    }

    /// Defaults, or the folder when given.
    pub fn load(dir: Option<&Path>) -> Result<Self, RulesError> {
        match dir {
            Some(d) => Self::from_dir(d),
            None => Ok(Self::defaults()),
        }
    }

    /// The text of one file, e.g. `sql/registered.sql`.
    pub fn file(&self, name: &str) -> Result<&str, RulesError> {
        self.files
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| RulesError::MissingFile(format!("{}/{name}", self.origin)))
    }

    /// Every file path, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The thresholds and windows of `rules.toml`. A window no rule file
    /// uses (no `$NAME_since` in `sql/`) is an error, so a misspelt window
    /// cannot silently leave a rule on another one.
    pub fn config(&self) -> Result<RulesConfig, RulesError> {
        let origin = format!("{}/rules.toml", self.origin);
        let config = RulesConfig::parse(&origin, self.file("rules.toml")?)?;
        for name in config.windows.keys() {
            let parameter = format!("${name}_since");
            let used = self
                .files
                .iter()
                .any(|(path, text)| path.starts_with("sql/") && text.contains(&parameter));
            if !used {
                return Err(RulesError::Config {
                    file: origin,
                    message: format!(
                        "`windows.{name}` is not used by any rule file (no `{parameter}` in sql/*.sql); \
                         check its spelling"
                    ),
                });
            }
        }
        Ok(config)
    }

    /// This rule set with one file replaced (an analyst's edit, in tests).
    pub fn with_file(mut self, name: &str, text: &str) -> Self {
        self.files.insert(name.to_string(), text.to_string());
        self
    }

    /// Every `codelists/*.csv`, sorted by name.
    pub fn codelists(&self) -> Result<Vec<Codelist>, RulesError> {
        let mut lists = Vec::new();
        for (path, text) in &self.files {
            let Some(rest) = path.strip_prefix("codelists/") else {
                continue;
            };
            let Some(name) = rest.strip_suffix(".csv") else {
                continue;
            };
            if name.contains('/') {
                continue;
            }
            lists.push(parse_codelist(
                name,
                &format!("{}/{path}", self.origin),
                text,
            )?);
        }
        if lists.is_empty() {
            return Err(RulesError::MissingFile(format!(
                "{}/codelists/*.csv",
                self.origin
            )));
        }
        Ok(lists)
    }

    /// Writes every file under `dir` (for `phm rules export`).
    pub fn export(&self, dir: &Path) -> Result<(), RulesError> {
        for (path, text) in &self.files {
            let target = dir.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|source| RulesError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            crate::output::write_atomic(&target, text.as_bytes()).map_err(|source| {
                RulesError::Io {
                    path: target.clone(),
                    source,
                }
            })?;
        }
        Ok(())
    }
}

fn collect_embedded(dir: &Dir<'static>, files: &mut BTreeMap<String, String>) {
    for file in dir.files() {
        if let Some(text) = file.contents_utf8() {
            files.insert(
                file.path().to_string_lossy().replace('\\', "/"),
                text.to_string(),
            );
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, files);
    }
}

fn collect_disk(
    root: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, String>,
) -> Result<(), RulesError> {
    let io = |path: &Path, source| RulesError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_disk(root, &path, files)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("sql" | "csv" | "toml" | "md")
        ) {
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(rel, text);
        }
    }
    Ok(())
}
