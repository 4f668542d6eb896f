-- One pass over `events`: for each patient, the date of the latest event
-- (on or before T) in each codelist. Codelists are the table `codelists`
-- (codelist, code, term) built from queries/codelists/*.csv; a code in several
-- lists counts in each. Events after T are ignored; every other row counts,
-- including records dated before birth or registration ("ever" = date <= T).
-- The concern files (core20plus.sql, clinical_areas.sql,
-- social_prescribing.sql) turn these dates into flags with their windows.
SELECT
    e.patient_id,
    max(CASE WHEN c.codelist = 'inclusion_health'    THEN e.date END) AS inclusion_health_last,
    max(CASE WHEN c.codelist = 'learning_disability' THEN e.date END) AS learning_disability_last,
    max(CASE WHEN c.codelist = 'smi'                 THEN e.date END) AS smi_last,
    max(CASE WHEN c.codelist = 'hypertension'        THEN e.date END) AS hypertension_last,
    max(CASE WHEN c.codelist = 'diabetes'            THEN e.date END) AS diabetes_last,
    max(CASE WHEN c.codelist = 'copd'                THEN e.date END) AS copd_last,
    max(CASE WHEN c.codelist = 'asthma'              THEN e.date END) AS asthma_last,
    max(CASE WHEN c.codelist = 'chd'                 THEN e.date END) AS chd_last,
    max(CASE WHEN c.codelist = 'heart_failure'       THEN e.date END) AS heart_failure_last,
    max(CASE WHEN c.codelist = 'stroke_tia'          THEN e.date END) AS stroke_tia_last,
    max(CASE WHEN c.codelist = 'atrial_fibrillation' THEN e.date END) AS atrial_fibrillation_last,
    max(CASE WHEN c.codelist = 'ckd'                 THEN e.date END) AS ckd_last,
    max(CASE WHEN c.codelist = 'cancer'              THEN e.date END) AS cancer_last,
    max(CASE WHEN c.codelist = 'dementia'            THEN e.date END) AS dementia_last,
    max(CASE WHEN c.codelist = 'depression'          THEN e.date END) AS depression_last,
    max(CASE WHEN c.codelist = 'epilepsy'            THEN e.date END) AS epilepsy_last,
    max(CASE WHEN c.codelist = 'anxiety'             THEN e.date END) AS anxiety_last,
    max(CASE WHEN c.codelist = 'loneliness'          THEN e.date END) AS loneliness_last,
    max(CASE WHEN c.codelist = 'frailty'             THEN e.date END) AS frailty_last,
    max(CASE WHEN c.codelist = 'carer'               THEN e.date END) AS carer_last,
    max(CASE WHEN c.codelist = 'social_needs'        THEN e.date END) AS social_needs_last,
    max(CASE WHEN c.codelist = 'pregnancy'           THEN e.date END) AS pregnancy_last,
    max(CASE WHEN c.codelist = 'sp_referral'         THEN e.date END) AS sp_referral_last,
    max(CASE WHEN c.codelist = 'sp_declined'         THEN e.date END) AS sp_declined_last
FROM events e
JOIN codelists c ON c.code = e.code
WHERE e.date <= $as_of
GROUP BY e.patient_id
