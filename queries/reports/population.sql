-- Registered population by PCN, sex and 10-year age band (0 = 0-9 ... 9 = 90+),
-- for the age-sex pyramids of the reports.
SELECT
    pcn_code,
    sex,
    CAST(CASE WHEN age >= 90 THEN 9 ELSE age / 10 END AS INT) AS age_band,
    CAST(count(*) AS BIGINT) AS patients
FROM features
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
