//! The import's policy (`queries/omop/mapping.toml`: which concepts mean
//! which sex, ethnicity and kind of visit, which vocabularies are SNOMED) and
//! the user's mapping files (`--practice-map`, `--lsoa-map`), checked and
//! registered as small tables the conversion's SQL joins to.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use super::ImportError;
use crate::extract::contract::{is_code, ETHNICITY_VALUES, SEX_VALUES};

/// The built-in mapping, compiled in; `--mapping FILE` replaces it.
pub const DEFAULT_MAPPING: &str = include_str!("../../../queries/omop/mapping.toml");

/// What an OMOP visit becomes in the extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    Appointment,
    Ae,
    Admission,
    AeAndAdmission,
}

impl VisitKind {
    fn as_str(self) -> &'static str {
        match self {
            VisitKind::Appointment => "appointment",
            VisitKind::Ae => "ae",
            VisitKind::Admission => "admission",
            VisitKind::AeAndAdmission => "ae_and_admission",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vocabularies {
    snomed: Vec<String>,
    other: Vec<String>,
}

/// `mapping.toml` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    cdm_versions: Vec<String>,
    sex: BTreeMap<String, String>,
    ethnicity: BTreeMap<String, String>,
    visits: BTreeMap<String, VisitKind>,
    vocabularies: Vocabularies,
}

/// The checked mapping.
#[derive(Debug)]
pub struct Mapping {
    pub origin: String,
    pub cdm_versions: Vec<String>,
    sex: Vec<(i64, String)>,
    ethnicity: Vec<(i64, String)>,
    visits: Vec<(i64, VisitKind)>,
    vocabularies: Vec<(String, bool)>,
}

impl Mapping {
    /// Reads `path`, or the built-in mapping when None.
    pub fn load(path: Option<&Path>) -> Result<Self, ImportError> {
        let (origin, text) = match path {
            None => (
                "queries/omop/mapping.toml (built in)".to_string(),
                DEFAULT_MAPPING.to_string(),
            ),
            Some(p) => (
                p.display().to_string(),
                std::fs::read_to_string(p).map_err(|source| ImportError::Read {
                    path: p.to_path_buf(),
                    source,
                })?,
            ),
        };
        let bad = |message: String| ImportError::Mapping {
            origin: origin.clone(),
            message,
        };
        let file: MappingFile = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let concepts = |section: &str, map: &BTreeMap<String, String>, allowed: &[&str]| {
            map.iter()
                .map(|(key, value)| {
                    let id = concept_id(section, key).map_err(bad)?;
                    if !allowed.contains(&value.as_str()) {
                        return Err(bad(format!(
                            "[{section}] {key} = \"{value}\": expected one of {}",
                            allowed.join(", ")
                        )));
                    }
                    Ok((id, value.clone()))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        // `08532` and `8532` are two TOML keys but one concept.
        let unique = |section: &str, ids: Vec<i64>| -> Result<(), ImportError> {
            let mut seen = BTreeSet::new();
            match ids.into_iter().find(|id| !seen.insert(*id)) {
                Some(id) => Err(bad(format!("[{section}] concept {id} is given twice"))),
                None => Ok(()),
            }
        };
        let sex = concepts("sex", &file.sex, SEX_VALUES)?;
        unique("sex", sex.iter().map(|c| c.0).collect())?;
        let ethnicity = concepts("ethnicity", &file.ethnicity, ETHNICITY_VALUES)?;
        unique("ethnicity", ethnicity.iter().map(|c| c.0).collect())?;
        let visits = file
            .visits
            .iter()
            .map(|(key, kind)| Ok((concept_id("visits", key).map_err(bad)?, *kind)))
            .collect::<Result<Vec<_>, ImportError>>()?;
        unique("visits", visits.iter().map(|c| c.0).collect())?;
        let snomed: BTreeSet<&String> = file.vocabularies.snomed.iter().collect();
        if let Some(both) = file.vocabularies.other.iter().find(|v| snomed.contains(v)) {
            return Err(bad(format!(
                "[vocabularies] `{both}` is listed as both snomed and other"
            )));
        }
        let mut listed = BTreeSet::new();
        let all = file
            .vocabularies
            .snomed
            .iter()
            .chain(&file.vocabularies.other);
        if let Some(twice) = all.into_iter().find(|v| !listed.insert(*v)) {
            return Err(bad(format!("[vocabularies] `{twice}` is listed twice")));
        }
        let vocabularies = snomed
            .iter()
            .map(|v| ((*v).clone(), true))
            .chain(file.vocabularies.other.iter().map(|v| (v.clone(), false)))
            .collect();
        Ok(Mapping {
            origin,
            cdm_versions: file.cdm_versions,
            sex,
            ethnicity,
            visits,
            vocabularies,
        })
    }

    /// Registers `omop_map_sex`, `omop_map_ethnicity`, `omop_map_visit` and
    /// `omop_map_vocabulary`.
    pub fn register(&self, ctx: &SessionContext) -> Result<(), ImportError> {
        let pairs = |ids: Vec<i64>, values: Vec<&str>, value_name: &str| {
            batch(vec![
                ("concept_id", Arc::new(Int64Array::from(ids)) as ArrayRef),
                (value_name, Arc::new(StringArray::from(values))),
            ])
        };
        let split =
            |rows: &[(i64, String)]| -> (Vec<i64>, Vec<String>) { rows.iter().cloned().unzip() };
        let (ids, values) = split(&self.sex);
        register(
            ctx,
            "omop_map_sex",
            pairs(ids, values.iter().map(String::as_str).collect(), "sex"),
        )?;
        let (ids, values) = split(&self.ethnicity);
        register(
            ctx,
            "omop_map_ethnicity",
            pairs(
                ids,
                values.iter().map(String::as_str).collect(),
                "ethnicity",
            ),
        )?;
        let ids = self.visits.iter().map(|v| v.0).collect();
        let kinds = self.visits.iter().map(|v| v.1.as_str()).collect();
        register(ctx, "omop_map_visit", pairs(ids, kinds, "kind"))?;
        let names: Vec<&str> = self.vocabularies.iter().map(|v| v.0.as_str()).collect();
        let snomed: Vec<bool> = self.vocabularies.iter().map(|v| v.1).collect();
        let vocabularies = batch(vec![
            (
                "vocabulary_id",
                Arc::new(StringArray::from(names)) as ArrayRef,
            ),
            ("snomed", Arc::new(BooleanArray::from(snomed))),
        ]);
        register(ctx, "omop_map_vocabulary", vocabularies)
    }

    /// Whether phm reads this `cdm_source.cdm_version` (`v5.3.1` reads as 5.3).
    pub fn reads_version(&self, version: &str) -> bool {
        let v = version.trim().trim_start_matches(['v', 'V']);
        let major_minor: String = v.split('.').take(2).collect::<Vec<_>>().join(".");
        self.cdm_versions.contains(&major_minor)
    }
}

fn concept_id(section: &str, key: &str) -> Result<i64, String> {
    key.parse()
        .map_err(|_| format!("[{section}] `{key}`: a key is an OMOP concept id (a whole number)"))
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(
        columns
            .iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|c| c.1).collect())
        .expect("columns of equal length")
}

fn register(ctx: &SessionContext, name: &str, batch: RecordBatch) -> Result<(), ImportError> {
    ctx.register_batch(name, batch)
        .map(|_| ())
        .map_err(|source| ImportError::Query {
            step: "registering the mapping",
            source,
        })
}

/// Which OMOP id a mapping file's rows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKey {
    Person,
    /// `care_site_id` (practice map) or `location_id` (LSOA map).
    Place,
}

/// A `--practice-map` or `--lsoa-map` file, read and checked.
pub struct MapFile {
    pub key: MapKey,
    pub rows: usize,
}

/// Reads a mapping CSV keyed by `person_id` or by `place_key`, with the
/// code columns `codes` (each an extract.md code), and registers it as
/// `table` (`key`, then the codes).
pub fn read_map_file(
    ctx: &SessionContext,
    path: &Path,
    table: &str,
    place_key: &str,
    codes: &[&str],
) -> Result<MapFile, ImportError> {
    let bad = |line: u64, message: String| ImportError::MapFile {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(0, e.to_string()))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| bad(1, e.to_string()))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let at = |name: &str| headers.iter().position(|h| h == name);
    let (key, key_at) = match (at("person_id"), at(place_key)) {
        (Some(i), None) => (MapKey::Person, i),
        (None, Some(i)) => (MapKey::Place, i),
        _ => {
            return Err(bad(
                1,
                format!(
                    "expected one key column, `person_id` or `{place_key}`, then {}",
                    codes.join(", ")
                ),
            ))
        }
    };
    let code_at = codes
        .iter()
        .map(|c| at(c).ok_or_else(|| bad(1, format!("no `{c}` column"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut keys = Vec::new();
    let mut values: Vec<Vec<String>> = vec![Vec::new(); codes.len()];
    let mut seen = BTreeSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(0, e.to_string()))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let raw = record.get(key_at).unwrap_or("").trim();
        let id: i64 = raw
            .parse()
            .map_err(|_| bad(line, format!("`{raw}` is not a whole-number id")))?;
        if !seen.insert(id) {
            return Err(bad(line, format!("id {id} is mapped twice")));
        }
        for (i, (c, name)) in code_at.iter().zip(codes).enumerate() {
            let value = record.get(*c).unwrap_or("").trim();
            if !is_code(value) {
                return Err(bad(
                    line,
                    format!("{name} `{value}` is not a code of 1 to 20 letters, digits, `-` or `_` (extract.md v1.1)"),
                ));
            }
            values[i].push(value.to_string());
        }
        keys.push(id);
    }
    let rows = keys.len();
    let mut columns: Vec<(&str, ArrayRef)> = vec![("key", Arc::new(Int64Array::from(keys)))];
    for (name, v) in codes.iter().zip(values) {
        columns.push((name, Arc::new(StringArray::from(v))));
    }
    register(ctx, table, batch(columns))?;
    Ok(MapFile { key, rows })
}

/// An absent mapping file: the table with no rows, keyed by person.
pub fn register_empty_map(
    ctx: &SessionContext,
    table: &str,
    codes: &[&str],
) -> Result<(), ImportError> {
    let mut fields = vec![Field::new("key", DataType::Int64, true)];
    fields.extend(codes.iter().map(|c| Field::new(*c, DataType::Utf8, true)));
    let batch = RecordBatch::new_empty(Arc::new(Schema::new(fields)));
    register(ctx, table, batch)
}
