-- Eligible adults by PCN, IMD quintile (null = unknown) and need score, for the
-- need-score distribution charts of the reports.
SELECT
    pcn_code,
    imd_quintile,
    need_score,
    CAST(count(*) AS BIGINT) AS patients
FROM features
WHERE eligible
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
