//! The `phm` binary: parse the command line, run, print any error once on
//! stderr, and exit 0 (success), 2 (bad input) or 1 (other failure).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    phm::engine::tune_allocator();
    let cli = phm::cli::Cli::parse();
    match phm::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phm: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::from(e.exit_code())
        }
    }
}
