-- People aged 75+ coded lonely or isolated in the loneliness window who have
-- not been referred to (or declined) social prescribing: a proactive offer list.
-- Pass the age: phm query ... --param min_age=75
SELECT pcn_code, practice_code, patient_id, age, need_score, need_reasons
FROM features
WHERE lonely AND age >= $min_age AND NOT sp_referred_12m AND NOT sp_declined_6m
ORDER BY pcn_code, need_score DESC, patient_id
