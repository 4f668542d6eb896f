-- Size of each rule's cohort per PCN and for the whole extract (pcn_code
-- 'ALL'), over patients registered at T (the scored features table).
WITH counts AS (
    SELECT
        pcn_code,
        count(*)                                                   AS registered,
        sum(CASE WHEN age >= $adult_age THEN 1 ELSE 0 END)         AS adults,
        sum(CASE WHEN core20 THEN 1 ELSE 0 END)                    AS core20,
        sum(CASE WHEN plus_ethnic_minority THEN 1 ELSE 0 END)      AS plus_ethnic_minority,
        sum(CASE WHEN plus_inclusion_health THEN 1 ELSE 0 END)     AS plus_inclusion_health,
        sum(CASE WHEN plus_learning_disability THEN 1 ELSE 0 END)  AS plus_learning_disability,
        sum(CASE WHEN smi THEN 1 ELSE 0 END)                       AS smi,
        sum(CASE WHEN hypertension THEN 1 ELSE 0 END)              AS hypertension,
        sum(CASE WHEN copd_asthma THEN 1 ELSE 0 END)               AS copd_asthma,
        sum(CASE WHEN ltc_count >= 2 THEN 1 ELSE 0 END)            AS ltc_2plus,
        sum(CASE WHEN lonely THEN 1 ELSE 0 END)                    AS lonely,
        sum(CASE WHEN mental_health THEN 1 ELSE 0 END)             AS mental_health,
        sum(CASE WHEN frailty THEN 1 ELSE 0 END)                   AS frailty,
        sum(CASE WHEN carer THEN 1 ELSE 0 END)                     AS carer,
        sum(CASE WHEN social_needs THEN 1 ELSE 0 END)              AS social_needs,
        sum(CASE WHEN pregnant THEN 1 ELSE 0 END)                  AS pregnant,
        sum(CASE WHEN hfu_ae THEN 1 ELSE 0 END)                    AS hfu_ae,
        sum(CASE WHEN hfu_adm THEN 1 ELSE 0 END)                   AS hfu_adm,
        sum(CASE WHEN hfu_gp THEN 1 ELSE 0 END)                    AS hfu_gp,
        sum(CASE WHEN hfu THEN 1 ELSE 0 END)                       AS hfu,
        sum(CASE WHEN sp_referred_12m THEN 1 ELSE 0 END)           AS sp_referred_12m,
        sum(CASE WHEN sp_declined_6m THEN 1 ELSE 0 END)            AS sp_declined_6m,
        sum(CASE WHEN eligible THEN 1 ELSE 0 END)                  AS eligible,
        sum(CASE WHEN high_need THEN 1 ELSE 0 END)                 AS high_need
    FROM features
    GROUP BY ROLLUP (pcn_code)
)
SELECT COALESCE(pcn_code, 'ALL') AS pcn_code, * EXCLUDE (pcn_code)
FROM counts
ORDER BY pcn_code IS NULL, pcn_code
