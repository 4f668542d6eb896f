//! `phm rules export`: write the built-in rules folder out for editing.

use std::path::PathBuf;

use clap::Subcommand;

use crate::error::Result;
use crate::rules::RuleSet;

/// Work with the rules folder (SQL, codelists, TOML configs).
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Write the built-in default rules to DIR, to edit and run with `--rules DIR`.
    ///
    /// Example: phm rules export my-rules
    Export {
        /// Folder to write (created if missing).
        dir: PathBuf,
    },
}

pub fn run(c: RulesCommand) -> Result<()> {
    match c {
        RulesCommand::Export { dir } => {
            let rules = RuleSet::defaults();
            rules.export(&dir)?;
            say!(
                "wrote {} rules files to {}",
                rules.paths().count(),
                dir.display()
            );
            Ok(())
        }
    }
}
