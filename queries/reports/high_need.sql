-- The high-need patients phm ranks into proposals, with their segment (the
-- view `segments`, from segments.toml) and what the clinical lead's list shows.
SELECT
    f.pcn_code, f.patient_id, f.practice_code, f.need_score, f.need_reasons,
    s.segment, f.age, f.sex, f.imd_decile
FROM features f
JOIN segments s ON s.patient_id = f.patient_id
WHERE f.high_need
ORDER BY f.pcn_code, f.patient_id
