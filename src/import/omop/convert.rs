//! The conversion as SQL over the registered CDM views (`omop_*`) and the
//! mapping tables (`omop_map_*`, `omop_practice_map`, `omop_lsoa_map`). Each
//! source gets a *classified* view: every row it read, with the extract
//! columns and a `dropped` reason (null for a row that is imported). The
//! extract tables select the rows without a reason; the mapping report
//! counts the reasons. One view feeds both, so the report cannot disagree
//! with what was written.

use chrono::NaiveDate;

use super::mapping::MapKey;

/// The person column a mapping file's key joins to.
fn person_key(key: MapKey, place_column: &str) -> &str {
    match key {
        MapKey::Person => "person_id",
        MapKey::Place => place_column,
    }
}

/// `omop_person_classified`: one row per person. The registration is the
/// person's latest observation period; it is still open (`registered_to`
/// null) when the period runs to `registered_through` or later, and
/// otherwise ends the day after the period's last day (a period without a
/// start is not a registration). A birth date missing its day or month
/// takes the 1st (extract.md: "use the 1st").
pub fn person_view(practice: MapKey, lsoa: MapKey, registered_through: NaiveDate) -> String {
    let practice_key = person_key(practice, "care_site_id");
    let lsoa_key = person_key(lsoa, "location_id");
    // A month outside 1-12 (some ETLs write 0 for unknown) reads as January,
    // and a day the month does not have (0, 31 June) as the 1st.
    let month =
        "CAST(CASE WHEN p.month_of_birth BETWEEN 1 AND 12 THEN p.month_of_birth ELSE 1 END AS INT)";
    let first = format!("make_date(CAST(p.year_of_birth AS INT), {month}, 1)");
    let offset = "CAST(CAST(p.day_of_birth - 1 AS VARCHAR) || ' days' AS INTERVAL)";
    format!(
        "CREATE VIEW omop_person_classified AS
WITH period AS (
    SELECT person_id,
           observation_period_start_date AS start_date,
           observation_period_end_date AS end_date,
           row_number() OVER (PARTITION BY person_id
               ORDER BY observation_period_end_date DESC, observation_period_start_date DESC) AS n
    FROM omop_observation_period
    WHERE observation_period_start_date IS NOT NULL),
death AS (SELECT person_id, min(death_date) AS death_date FROM omop_death GROUP BY person_id),
person AS (
    SELECT p.person_id AS patient_id,
           pm.key AS practice_key, pm.practice_code, pm.pcn_code, pm.icb_code,
           COALESCE(lm.lsoa_code,
               CASE WHEN regexp_like(loc.location_source_value, '^[EW]01[0-9]{{6}}$')
                    THEN loc.location_source_value END) AS lsoa_code,
           COALESCE(sx.sex, 'U') AS sex,
           sx.sex IS NULL AS sex_unmapped,
           COALESCE(p.birth_datetime, CASE WHEN p.year_of_birth IS NOT NULL THEN
               CASE WHEN p.day_of_birth BETWEEN 1 AND 31
                     AND date_part('month', {first} + {offset}) = {month}
                    THEN CAST({first} + {offset} AS DATE)
                    ELSE {first} END END) AS birth_date,
           COALESCE(er.ethnicity, ee.ethnicity) AS ethnicity,
           o.person_id AS period_person,
           o.start_date AS registered_from,
           CASE WHEN o.end_date >= DATE '{registered_through}' THEN NULL
                ELSE CAST(o.end_date + INTERVAL '1 day' AS DATE) END AS registered_to,
           d.death_date
    FROM omop_person p
    LEFT JOIN period o ON o.person_id = p.person_id AND o.n = 1
    LEFT JOIN omop_practice_map pm ON pm.key = p.{practice_key}
    LEFT JOIN omop_lsoa_map lm ON lm.key = p.{lsoa_key}
    LEFT JOIN omop_location loc ON loc.location_id = p.location_id
    LEFT JOIN omop_map_sex sx ON sx.concept_id = p.gender_concept_id
    LEFT JOIN omop_map_ethnicity er ON er.concept_id = p.race_concept_id
    LEFT JOIN omop_map_ethnicity ee ON ee.concept_id = p.ethnicity_concept_id
    LEFT JOIN death d ON d.person_id = p.person_id)
SELECT *,
       CASE WHEN period_person IS NULL THEN 'no observation period'
            WHEN practice_key IS NULL THEN 'no practice in --practice-map'
            WHEN birth_date IS NULL THEN 'no year of birth' END AS dropped
FROM person"
    )
}

/// The patients table: the classified persons that are imported.
pub const PATIENTS: &str = "SELECT patient_id, practice_code, pcn_code, icb_code, lsoa_code, sex,
       birth_date, ethnicity, registered_from, registered_to, death_date
FROM omop_person_classified WHERE dropped IS NULL ORDER BY patient_id";

/// `omop_events_classified`: every row of the four event tables. The code
/// is the concept's `concept_code` when its vocabulary is a SNOMED one in
/// the mapping, else the source value when that is a SNOMED CT concept id
/// (6 to 18 digits, no leading zero, partition `00` or `10` before the
/// check digit). `unknown_vocabulary` marks a concept whose vocabulary the
/// mapping does not list.
pub const EVENTS_VIEW: &str = "CREATE VIEW omop_events_classified AS
WITH e AS (
    SELECT 'condition_occurrence' AS source_table, person_id, condition_start_date AS date,
           CAST(NULL AS DOUBLE) AS value, condition_concept_id AS concept_id,
           TRIM(condition_source_value) AS source_value
    FROM omop_condition_occurrence
    UNION ALL
    SELECT 'observation', person_id, observation_date, value_as_number,
           observation_concept_id, TRIM(observation_source_value)
    FROM omop_observation
    UNION ALL
    SELECT 'procedure_occurrence', person_id, procedure_date, CAST(NULL AS DOUBLE),
           procedure_concept_id, TRIM(procedure_source_value)
    FROM omop_procedure_occurrence
    UNION ALL
    SELECT 'measurement', person_id, measurement_date, value_as_number,
           measurement_concept_id, TRIM(measurement_source_value)
    FROM omop_measurement),
coded AS (
    SELECT e.source_table, e.person_id AS patient_id, e.date, e.value, k.vocabulary_id,
           k.vocabulary_id IS NOT NULL AND v.vocabulary_id IS NULL AS unknown_vocabulary,
           COALESCE(
               CASE WHEN v.snomed THEN TRY_CAST(k.concept_code AS BIGINT) END,
               CASE WHEN regexp_like(e.source_value, '^[1-9][0-9]{2,14}[01]0[0-9]$')
                    THEN CAST(e.source_value AS BIGINT) END) AS code
    FROM e
    LEFT JOIN omop_concept k ON k.concept_id = e.concept_id
    LEFT JOIN omop_map_vocabulary v ON v.vocabulary_id = k.vocabulary_id)
SELECT c.*,
       CASE WHEN i.patient_id IS NULL THEN 'person not imported'
            WHEN c.code IS NULL THEN 'no SNOMED code'
            WHEN c.date IS NULL THEN 'no date' END AS dropped
FROM coded c LEFT JOIN omop_imported i ON i.patient_id = c.patient_id";

/// The events table.
pub const EVENTS: &str = "SELECT patient_id, code, date, value FROM omop_events_classified
WHERE dropped IS NULL ORDER BY patient_id, date, code";

/// Vocabularies the mapping does not list, per table, most rows first.
pub const UNKNOWN_VOCABULARIES: &str = "SELECT source_table, vocabulary_id, count(*) AS n_rows
FROM omop_events_classified WHERE unknown_vocabulary
GROUP BY source_table, vocabulary_id ORDER BY n_rows DESC, vocabulary_id LIMIT 1";

/// `omop_visits_classified`: every visit with its kind from the mapping.
/// An admission is an emergency when it follows an A&E visit: the visit
/// named as its preceding visit, or one of the same person that started on
/// or before the admission and ended that day or the day before (two
/// equi-joins rather than one join on an OR, which would compare every
/// pair of visits).
pub const VISITS_VIEW: &str = "CREATE VIEW omop_visits_classified AS
WITH v AS (
    SELECT vo.visit_occurrence_id, vo.person_id, vo.visit_concept_id, vo.visit_start_date,
           COALESCE(vo.visit_end_date, vo.visit_start_date) AS end_date,
           vo.preceding_visit_occurrence_id, m.kind
    FROM omop_visit_occurrence vo
    LEFT JOIN omop_map_visit m ON m.concept_id = vo.visit_concept_id),
er AS (SELECT * FROM v WHERE kind IN ('ae', 'ae_and_admission')),
after_er AS (
    SELECT a.visit_occurrence_id FROM v a
    JOIN er ON er.visit_occurrence_id = a.preceding_visit_occurrence_id AND er.person_id = a.person_id
    WHERE a.kind = 'admission'
    UNION
    SELECT a.visit_occurrence_id FROM v a
    JOIN er ON er.person_id = a.person_id
    WHERE a.kind = 'admission' AND er.visit_occurrence_id <> a.visit_occurrence_id
      AND er.visit_start_date <= a.visit_start_date
      AND er.end_date >= CAST(a.visit_start_date - INTERVAL '1 day' AS DATE))
SELECT v.person_id AS patient_id, v.visit_start_date AS date, v.kind, v.visit_concept_id,
       v.kind = 'ae_and_admission' OR f.visit_occurrence_id IS NOT NULL AS emergency,
       CASE WHEN i.patient_id IS NULL THEN 'person not imported'
            WHEN v.kind IS NULL THEN 'visit concept not in the mapping'
            WHEN v.visit_start_date IS NULL THEN 'no date' END AS dropped
FROM v
LEFT JOIN after_er f ON f.visit_occurrence_id = v.visit_occurrence_id
LEFT JOIN omop_imported i ON i.patient_id = v.person_id";

pub const APPOINTMENTS: &str =
    "SELECT patient_id, date, 'attended' AS status, 'face_to_face' AS mode
FROM omop_visits_classified WHERE dropped IS NULL AND kind = 'appointment'
ORDER BY patient_id, date";

pub const AE_ATTENDANCES: &str = "SELECT patient_id, date AS arrival_date
FROM omop_visits_classified WHERE dropped IS NULL AND kind IN ('ae', 'ae_and_admission')
ORDER BY patient_id, arrival_date";

pub const ADMISSIONS: &str = "SELECT patient_id, date AS admission_date,
       CASE WHEN emergency THEN 'emergency' ELSE 'elective' END AS method
FROM omop_visits_classified WHERE dropped IS NULL AND kind IN ('admission', 'ae_and_admission')
ORDER BY patient_id, admission_date, method";

/// Per source table: (source, dropped reason or null, rows). The person and
/// visit rows come from their classified views; observation periods and
/// deaths are used once per imported person (the latest period, the
/// earliest death).
pub const COUNTS: &str = "SELECT 'person' AS source, dropped, count(*) AS n_rows
FROM omop_person_classified GROUP BY dropped
UNION ALL
SELECT source_table, dropped, count(*) FROM omop_events_classified GROUP BY source_table, dropped
UNION ALL
SELECT 'visit_occurrence',
       CASE WHEN dropped = 'visit concept not in the mapping'
            THEN dropped || ' (visit_concept_id ' || COALESCE(CAST(visit_concept_id AS VARCHAR), 'null') || ')'
            ELSE dropped END,
       count(*)
FROM omop_visits_classified GROUP BY 2
UNION ALL
SELECT 'observation_period',
       CASE WHEN i.patient_id IS NULL THEN 'person not imported'
            WHEN o.n > 1 THEN 'an earlier period of the same person' END,
       count(*)
FROM (SELECT person_id, row_number() OVER (PARTITION BY person_id
          ORDER BY observation_period_end_date DESC, observation_period_start_date DESC) AS n
      FROM omop_observation_period) o
LEFT JOIN omop_imported i ON i.patient_id = o.person_id GROUP BY 2
UNION ALL
SELECT 'death',
       CASE WHEN i.patient_id IS NULL THEN 'person not imported'
            WHEN d.n > 1 THEN 'a later death record of the same person' END,
       count(*)
FROM (SELECT person_id, row_number() OVER (PARTITION BY person_id ORDER BY death_date) AS n
      FROM omop_death) d
LEFT JOIN omop_imported i ON i.patient_id = d.person_id GROUP BY 2";

/// Facts about the imported patients for the report.
pub const PATIENT_FACTS: &str = "SELECT count(*) AS patients,
       count(lsoa_code) AS with_lsoa,
       count(ethnicity) AS with_ethnicity,
       CAST(sum(CASE WHEN sex_unmapped THEN 1 ELSE 0 END) AS BIGINT) AS sex_unmapped,
       CAST(sum(CASE WHEN registered_to IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS still_registered,
       count(death_date) AS died
FROM omop_person_classified WHERE dropped IS NULL";
