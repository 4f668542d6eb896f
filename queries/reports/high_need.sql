-- The high-need patients phm ranks into proposals, with what the segments
-- and the clinical lead's list need.
SELECT
    pcn_code, patient_id, practice_code, need_score, need_reasons,
    hfu, lonely, social_needs, mental_health, frailty, core20, ltc_count,
    plus_ethnic_minority, plus_inclusion_health, plus_learning_disability,
    age, sex, imd_decile
FROM features
WHERE high_need
ORDER BY pcn_code, patient_id
