//! The extract contract v1.1 as data (`shared/spec/extract.md`).
//! Owns the list of tables, columns, types, nullability and allowed values; the
//! loader and validator read it, so a change to the contract is made here once.

use datafusion::arrow::datatypes::DataType;

/// Values a text column may hold, or the range of an integer column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Domain {
    /// Any value of the column's type.
    Any,
    /// One of these exact strings.
    OneOf(&'static [&'static str]),
    /// An integer in this inclusive range.
    Range(i64, i64),
    /// A place or organisation code (extract.md v1.1): see [`is_code`].
    Code,
    /// Any value, but one outside these is worth a warning with this problem
    /// text (real feeds carry "99" or blanks for "not known"): the rules
    /// treat it as not known.
    Known(&'static [&'static str], &'static str),
    /// A date, but one before 1 January 1900 is worth a warning, with this
    /// problem text (it usually means a date-handling fault in the extract).
    Plausible(&'static str),
}

/// Longest code extract.md v1.1 allows.
pub const CODE_MAX_LEN: usize = 20;

/// True for a code extract.md v1.1 allows: 1 to 20 characters of
/// `A–Z a–z 0–9 - _`. These codes also name output files and folders
/// (`lists/PCN.csv`, `pcn/PCN/`), so nothing else may pass.
pub fn is_code(value: &str) -> bool {
    (1..=CODE_MAX_LEN).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// [`is_code`] as a SQL condition true for the rows that break it (nulls
/// are the null check's business).
pub fn code_breach_sql(column: &str) -> String {
    format!(
        "(\"{column}\" IS NOT NULL AND NOT regexp_like(\"{column}\", '^[A-Za-z0-9_-]{{1,{CODE_MAX_LEN}}}$'))"
    )
}

/// One required column of a contract table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub data_type: ContractType,
    pub nullable: bool,
    pub domain: Domain,
}

/// The logical types the contract uses. Each names the Arrow type phm works in
/// and which stored types convert to it without loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractType {
    Int64,
    Int32,
    Float64,
    Utf8,
    Date32,
}

impl ContractType {
    /// The Arrow type the registered view exposes.
    pub fn arrow(self) -> DataType {
        match self {
            ContractType::Int64 => DataType::Int64,
            ContractType::Int32 => DataType::Int32,
            ContractType::Float64 => DataType::Float64,
            ContractType::Utf8 => DataType::Utf8,
            ContractType::Date32 => DataType::Date32,
        }
    }

    /// Whether a column stored as `found` converts to this type losslessly.
    ///
    /// Narrower integers widen; any string encoding becomes Utf8; Date64 (whole
    /// days in milliseconds) becomes Date32. Int64 → Int32 is accepted only for
    /// range-checked columns (`imd_decile`), where the validator rejects values
    /// that would not fit.
    pub fn accepts(self, found: &DataType) -> bool {
        use DataType as D;
        let found = match found {
            D::Dictionary(_, value) => value.as_ref(),
            other => other,
        };
        match self {
            ContractType::Int64 => matches!(
                found,
                D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16 | D::UInt32
            ),
            ContractType::Int32 => matches!(
                found,
                D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16
            ),
            ContractType::Float64 => matches!(
                found,
                D::Float16
                    | D::Float32
                    | D::Float64
                    | D::Int8
                    | D::Int16
                    | D::Int32
                    | D::UInt8
                    | D::UInt16
                    | D::UInt32
            ),
            ContractType::Utf8 => matches!(found, D::Utf8 | D::LargeUtf8 | D::Utf8View),
            ContractType::Date32 => matches!(found, D::Date32 | D::Date64),
        }
    }
}

/// One table of the contract.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    pub columns: &'static [ColumnSpec],
    /// Columns a table may carry: checked like the rest when present, and
    /// null in the typed view when absent, so a query can name them either
    /// way.
    pub optional: &'static [ColumnSpec],
    /// Optional columns whose values, where present, must be unique.
    pub unique_when_present: &'static [&'static str],
    /// The column whose values must be unique in the table.
    pub key: Option<&'static str>,
    /// The date of an activity row: rows after T or for unknown patients are
    /// ignored by the rules (and warned about by `phm validate`).
    pub date: Option<&'static str>,
}

impl TableSpec {
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The required columns, then the optional ones.
    pub fn all_columns(&self) -> impl Iterator<Item = &ColumnSpec> {
        self.columns.iter().chain(self.optional)
    }
}

const fn col(
    name: &'static str,
    data_type: ContractType,
    nullable: bool,
    domain: Domain,
) -> ColumnSpec {
    ColumnSpec {
        name,
        data_type,
        nullable,
        domain,
    }
}

use ContractType::*;
use Domain::*;

/// Sex codes of the contract.
pub const SEX_VALUES: &[&str] = &["F", "M", "I", "U"];
/// Appointment status values.
pub const STATUS_VALUES: &[&str] = &["attended", "dna", "cancelled"];
/// Appointment mode values.
pub const MODE_VALUES: &[&str] = &["face_to_face", "telephone", "video", "home_visit"];
/// Admission method values.
pub const METHOD_VALUES: &[&str] = &["emergency", "elective", "maternity", "other"];
/// NHS Ethnic Category codes (2001 census 16 groups) and `Z` (not stated).
pub const ETHNICITY_VALUES: &[&str] = &[
    "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z",
];

pub const PATIENTS: TableSpec = TableSpec {
    name: "patients",
    columns: &[
        col("patient_id", Int64, false, Any),
        col("practice_code", Utf8, false, Code),
        col("pcn_code", Utf8, false, Code),
        col("icb_code", Utf8, false, Code),
        col("lsoa_code", Utf8, true, Code),
        col("sex", Utf8, false, OneOf(SEX_VALUES)),
        col(
            "birth_date",
            Date32,
            false,
            Plausible("born before 1900: check the extract's date handling"),
        ),
        col(
            "ethnicity",
            Utf8,
            true,
            Known(
                ETHNICITY_VALUES,
                "not an NHS Ethnic Category code (A–S, Z); treated as not known",
            ),
        ),
        col("registered_from", Date32, false, Any),
        col("registered_to", Date32, true, Any),
        col("death_date", Date32, true, Any),
    ],
    optional: &[],
    unique_when_present: &[],
    key: Some("patient_id"),
    date: None,
};

pub const EVENTS: TableSpec = TableSpec {
    name: "events",
    columns: &[
        col("patient_id", Int64, false, Any),
        col("code", Int64, false, Any),
        col("date", Date32, false, Any),
        col("value", Float64, true, Any),
    ],
    optional: &[],
    unique_when_present: &[],
    key: None,
    date: Some("date"),
};

pub const APPOINTMENTS: TableSpec = TableSpec {
    name: "appointments",
    columns: &[
        col("patient_id", Int64, false, Any),
        col("date", Date32, false, Any),
        col("status", Utf8, false, OneOf(STATUS_VALUES)),
        col("mode", Utf8, false, OneOf(MODE_VALUES)),
    ],
    optional: &[],
    unique_when_present: &[],
    key: None,
    date: Some("date"),
};

pub const AE_ATTENDANCES: TableSpec = TableSpec {
    name: "ae_attendances",
    columns: &[
        col("patient_id", Int64, false, Any),
        col("arrival_date", Date32, false, Any),
    ],
    optional: &[],
    unique_when_present: &[],
    key: None,
    date: Some("arrival_date"),
};

pub const ADMISSIONS: TableSpec = TableSpec {
    name: "admissions",
    columns: &[
        col("patient_id", Int64, false, Any),
        col("admission_date", Date32, false, Any),
        col("method", Utf8, false, OneOf(METHOD_VALUES)),
    ],
    optional: &[],
    unique_when_present: &[],
    key: None,
    date: Some("admission_date"),
};

pub const IMD: TableSpec = TableSpec {
    name: "imd",
    columns: &[
        col("lsoa_code", Utf8, false, Code),
        col("imd_decile", Int32, false, Range(1, 10)),
    ],
    // The national rank, 1 = most deprived, unique: equity.md's local
    // quintiles order LSOAs by it. At most the number of LSOAs in England:
    // 32,844 (2011, IoD2019) or 33,755 (2021, IoD2025).
    optional: &[col("imd_rank", Int32, true, Range(1, LSOAS_IN_ENGLAND))],
    unique_when_present: &["imd_rank"],
    key: Some("lsoa_code"),
    date: None,
};

/// LSOAs in England on the 2021 boundaries (IoD2025), the larger of the two
/// sets the published IoD files rank (32,844 on the 2011 boundaries).
pub const LSOAS_IN_ENGLAND: i64 = 33_755;

/// Every table of the contract, in the order they are reported.
pub const TABLES: &[TableSpec] = &[
    PATIENTS,
    EVENTS,
    APPOINTMENTS,
    AE_ATTENDANCES,
    ADMISSIONS,
    IMD,
];
