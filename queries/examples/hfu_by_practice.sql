-- High-frequency users per practice, per 1,000 registered, by kind of use.
SELECT practice_code, pcn_code, count(*) AS registered,
       sum(CASE WHEN hfu_ae THEN 1 ELSE 0 END) AS hfu_ae,
       sum(CASE WHEN hfu_adm THEN 1 ELSE 0 END) AS hfu_adm,
       sum(CASE WHEN hfu_gp THEN 1 ELSE 0 END) AS hfu_gp,
       round(1000.0 * sum(CASE WHEN hfu THEN 1 ELSE 0 END) / count(*), 1) AS hfu_per_1000
FROM features
GROUP BY practice_code, pcn_code
ORDER BY hfu_per_1000 DESC, practice_code
