-- One pass over each activity table, counted per patient in the activity
-- window (T - 12 months < date <= T by default):
--   ae_12m            every row of ae_attendances (duplicates are two attendances)
--   emergency_adm_12m admissions with method = 'emergency'
--   gp_attended_12m   appointments with status = 'attended'
SELECT
    patient_id,
    CAST(sum(ae) AS INT)  AS ae_12m,
    CAST(sum(adm) AS INT) AS emergency_adm_12m,
    CAST(sum(gp) AS INT)  AS gp_attended_12m
FROM (
    SELECT patient_id, 1 AS ae, 0 AS adm, 0 AS gp
    FROM ae_attendances
    WHERE arrival_date > $activity_since AND arrival_date <= $as_of
    UNION ALL
    SELECT patient_id, 0, 1, 0
    FROM admissions
    WHERE method = 'emergency'
      AND admission_date > $activity_since AND admission_date <= $as_of
    UNION ALL
    SELECT patient_id, 0, 0, 1
    FROM appointments
    WHERE status = 'attended'
      AND date > $activity_since AND date <= $as_of
) a
GROUP BY patient_id
