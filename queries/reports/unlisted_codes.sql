-- `phm codes`: the codes in `events` (dated on or before T) that are in no
-- codelist, most frequent first, for a person to review: a shipped list is a
-- starter subset, and a real extract uses codes it misses. phm prints the
-- first `--top` rows.
SELECT
    e.code,
    count(*)                     AS events,
    count(DISTINCT e.patient_id) AS patients
FROM events e
WHERE e.date <= $as_of
  AND e.code NOT IN (SELECT code FROM codelists)
GROUP BY e.code
ORDER BY events DESC, e.code
