-- `phm codes`: what each code of each codelist contributed in the extract:
-- the events dated on or before T with that code, and the patients they
-- belong to (every patient of the extract, registered at T or not). A code
-- with no events shows 0, so a list whose codes are never used stands out.
SELECT
    CAST(c.codelist AS VARCHAR)  AS codelist,
    c.code,
    c.term,
    count(e.patient_id)          AS events,
    count(DISTINCT e.patient_id) AS patients
FROM codelists c
LEFT JOIN events e ON e.code = c.code AND e.date <= $as_of
GROUP BY c.codelist, c.code, c.term
ORDER BY codelist, events DESC, c.code
