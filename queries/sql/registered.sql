-- Registered population at the reference date T (extract.md, "Registered
-- population at T"): the denominator of every rate.
--   registered_from <= T, not deregistered by T, not dead by T.
-- Age is whole years completed at T from birth_date exactly as given; someone
-- born on 29 February has their birthday on 1 March in other years.
-- IMD decile comes from the `imd` table by LSOA; null when the LSOA is null or
-- not found. Quintile = (decile + 1) / 2 in integer arithmetic (written with
-- floor so engines whose / on integers is real division agree).
SELECT
    p.patient_id,
    p.practice_code,
    p.pcn_code,
    p.icb_code,
    p.sex,
    p.ethnicity,
    CAST(
        date_part('year', $as_of) - date_part('year', p.birth_date)
        - CASE
            WHEN date_part('month', p.birth_date) > date_part('month', $as_of)
              OR (date_part('month', p.birth_date) = date_part('month', $as_of)
                  AND date_part('day', p.birth_date) > date_part('day', $as_of))
            THEN 1 ELSE 0
          END
        AS INT) AS age,
    i.imd_decile,
    CAST(floor((i.imd_decile + 1) / 2.0) AS INT) AS imd_quintile
FROM patients p
LEFT JOIN imd i ON i.lsoa_code = p.lsoa_code
WHERE p.registered_from <= $as_of
  AND (p.registered_to IS NULL OR p.registered_to > $as_of)
  AND (p.death_date IS NULL OR p.death_date > $as_of)
