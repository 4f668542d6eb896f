//! The `phm` binary: parse the command line, run, print any error once on
//! stderr, and exit 0 (success, or stdout closed by its reader), 2 (bad
//! input) or 1 (other failure). The kinds are decided in `phm::error`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    phm::engine::tune_allocator();
    let cli = phm::cli::Cli::parse();
    match phm::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(phm::PhmError::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            let lines = phm::error::report_lines(&e);
            eprintln!("phm: {}", lines[0]);
            for cause in &lines[1..] {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
