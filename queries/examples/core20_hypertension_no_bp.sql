-- Core20 adults on the hypertension register with no blood pressure recorded
-- in the last 12 months (Core20PLUS5 clinical area 5: hypertension case-finding).
-- Run: phm query --extract DIR queries/examples/core20_hypertension_no_bp.sql
SELECT f.pcn_code, f.practice_code, f.patient_id, f.age, f.imd_decile
FROM features f
WHERE f.core20 AND f.hypertension AND f.age >= $adult_age
  AND NOT EXISTS (
    SELECT 1 FROM events e JOIN codelist_blood_pressure bp ON bp.code = e.code
    WHERE e.patient_id = f.patient_id AND e.date > $activity_since AND e.date <= $as_of)
ORDER BY f.pcn_code, f.practice_code, f.patient_id
