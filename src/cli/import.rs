//! `phm import omop`: write a phm extract from an OMOP CDM.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::{parse_date, Printer};
use crate::engine::{self, EngineOptions};
use crate::error::Result;
use crate::import::omop::{self, ImportOptions};

/// Convert data in another layout into a phm extract.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    Omop(OmopArgs),
}

/// Write a phm extract from an OMOP CDM 5.3 or 5.4 (a folder of Parquet or
/// CSV tables), and print what was read, mapped and dropped per table.
///
/// person -> patients (sex and ethnicity by queries/omop/mapping.toml; the
/// latest observation period is the registration); death; condition,
/// observation, procedure and measurement -> events (SNOMED codes);
/// visit_occurrence -> appointments, ae_attendances and admissions. OMOP
/// has no PCN or ICB, so --practice-map says which practice each person
/// (or care site) belongs to. The IMD is given when running, with --imd.
///
/// Example: phm import omop --from cdm --out extract --practice-map practices.csv --lsoa-map lsoas.csv
#[derive(Debug, Args)]
pub struct OmopArgs {
    /// Folder of OMOP CDM tables (person.parquet or PERSON.csv, …).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// Extract folder to write.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// CSV: person_id or care_site_id, then practice_code, pcn_code, icb_code.
    #[arg(long, value_name = "FILE.csv")]
    pub practice_map: Option<PathBuf>,
    /// CSV: person_id or location_id, then lsoa_code. Default: location.location_source_value when it is an LSOA code.
    #[arg(long, value_name = "FILE.csv")]
    pub lsoa_map: Option<PathBuf>,
    /// Mapping policy to use instead of the built-in queries/omop/mapping.toml.
    #[arg(long, value_name = "FILE.toml")]
    pub mapping: Option<PathBuf>,
    /// Observation periods running to this date or later are open registrations. Default: cdm_source.source_release_date.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub registered_through: Option<NaiveDate>,
    /// Replace the output folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// No report on stdout (it is still written to omop_import.json).
    #[arg(long, short)]
    pub quiet: bool,
}

pub async fn run(c: ImportCommand) -> Result<()> {
    let ImportCommand::Omop(a) = c;
    let printer = Printer { quiet: a.quiet };
    let ctx = engine::connect(&EngineOptions::default()).await?;
    let options = ImportOptions {
        from: a.from,
        out: a.out.clone(),
        practice_map: a.practice_map,
        lsoa_map: a.lsoa_map,
        mapping: a.mapping,
        registered_through: a.registered_through,
        force: a.force,
    };
    let report = omop::import(&ctx, &options).await?;
    if !printer.quiet {
        say!("{}", report.text());
        say!(
            "wrote {} (the mapping report is {}); run it with --imd FILE, e.g. phm validate --extract {} --imd File_7.csv",
            a.out.display(),
            omop::REPORT_FILE,
            a.out.display()
        );
    }
    Ok(())
}
