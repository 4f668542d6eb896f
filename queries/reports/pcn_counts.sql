-- Per-PCN denominators for the capacity summary (rules.md §4): every PCN
-- with at least one patient registered at T.
SELECT
    pcn_code,
    count(*)                                           AS registered,
    sum(CASE WHEN age >= $adult_age THEN 1 ELSE 0 END) AS adults,
    sum(CASE WHEN eligible THEN 1 ELSE 0 END)          AS eligible,
    sum(CASE WHEN high_need THEN 1 ELSE 0 END)         AS high_need,
    sum(CASE WHEN sp_referred_12m THEN 1 ELSE 0 END)   AS sp_referred_12m
FROM features
GROUP BY pcn_code
ORDER BY pcn_code
