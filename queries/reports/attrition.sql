-- Why patients fall in or out of the eligible cohort, step by step, per PCN
-- and overall ('ALL'). Each step keeps the patients of the step before that
-- also meet its condition; `removed` says how many the step took out.
WITH steps AS (
    SELECT pcn_code, 1 AS step, 'registered at T' AS stage, count(*) AS patients
    FROM features GROUP BY pcn_code
    UNION ALL
    SELECT pcn_code, 2, 'adults (age >= ' || CAST($adult_age AS VARCHAR) || ')', count(*)
    FROM features WHERE age >= $adult_age GROUP BY pcn_code
    UNION ALL
    SELECT pcn_code, 3, 'not referred to social prescribing in the referral window', count(*)
    FROM features WHERE age >= $adult_age AND NOT sp_referred_12m GROUP BY pcn_code
    UNION ALL
    SELECT pcn_code, 4, 'not declined social prescribing in the declined window (= eligible)', count(*)
    FROM features WHERE age >= $adult_age AND NOT sp_referred_12m AND NOT sp_declined_6m GROUP BY pcn_code
    UNION ALL
    SELECT pcn_code, 5, 'high unmet need (eligible and need_score at or above the threshold)', count(*)
    FROM features WHERE high_need GROUP BY pcn_code
),
all_pcns AS (
    SELECT DISTINCT pcn_code FROM features
),
grid AS (
    SELECT a.pcn_code, s.step, s.stage
    FROM all_pcns a CROSS JOIN (SELECT DISTINCT step, stage FROM steps) s
),
per_pcn AS (
    SELECT g.pcn_code, g.step, g.stage, COALESCE(s.patients, 0) AS patients
    FROM grid g LEFT JOIN steps s ON s.pcn_code = g.pcn_code AND s.step = g.step
),
with_all AS (
    SELECT pcn_code, step, stage, patients FROM per_pcn
    UNION ALL
    SELECT 'ALL', step, stage, sum(patients) FROM per_pcn GROUP BY step, stage
)
SELECT
    pcn_code, step, stage, patients,
    COALESCE(lag(patients) OVER (PARTITION BY pcn_code ORDER BY step) - patients, 0) AS removed
FROM with_all
ORDER BY pcn_code = 'ALL', pcn_code, step
