#!/usr/bin/env python3
"""Times `phm explain` for 10 patients on a generated extract (issue 20's target:
at most 1 s at 1M patients, at most 2 s at 10M).

The peer, timed in the same run and interleaved with phm, is DuckDB reading the
same patients' raw rows from all five tables (`SELECT * ... WHERE patient_id IN
(...)`): the floor of a lookup, with none of the rules. phm's time includes the
process start, reading the rules and every features column of the 10 patients.

Both lean on the extract being written in `patient_id` order (as `phm generate`
writes it, and as real extracts usually are): row-group statistics then rule
out every row group but the patients' own.

Usage: python3 benches/explain.py [--patients 10000000] [--runs 5] [--extract DIR]
Needs: a release build of phm, GNU time, and the duckdb Python package.
"""
import os
import random
import shutil
import statistics
import tempfile
import time

import duckdb

from runs import given_or_generated, phm_binary, size_args, timed

TABLES = ["patients", "events", "appointments", "ae_attendances", "admissions"]


def table_glob(extract, table):
    folder = os.path.join(extract, table)
    return os.path.join(folder, "*.parquet") if os.path.isdir(folder) else folder + ".parquet"


def duckdb_lookup(extract, ids):
    """Seconds for DuckDB to fetch every row of the patients from every table."""
    start = time.perf_counter()
    con = duckdb.connect()
    in_list = ", ".join(map(str, ids))
    for t in TABLES:
        con.execute(f"SELECT * FROM read_parquet('{table_glob(extract, t)}') WHERE patient_id IN ({in_list})").fetchall()
    con.close()
    return time.perf_counter() - start


def main():
    args = size_args(__doc__, 10_000_000).parse_args()
    phm = phm_binary()
    work = tempfile.mkdtemp(prefix="phm-bench-")
    try:
        extract = given_or_generated(phm, args, work)
        con = duckdb.connect()
        all_ids = [r[0] for r in con.execute(
            f"SELECT patient_id FROM read_parquet('{table_glob(extract, 'patients')}')").fetchall()]
        con.close()
        ids = random.Random(20).sample(all_ids, 10)
        cmd = [phm, "explain", "--extract", extract, "--json"] + [str(i) for i in ids]
        timed(cmd)  # warm the page cache once for both
        duckdb_lookup(extract, ids)
        phm_s, phm_rss, duck_s = [], [], []
        for _ in range(args.runs):
            s, rss = timed(cmd)
            phm_s.append(s)
            phm_rss.append(rss)
            duck_s.append(duckdb_lookup(extract, ids))
        p, d = statistics.median(phm_s), statistics.median(duck_s)
        print(f"extract: {extract} ({len(all_ids):,} patients), 10 patients, {args.runs} runs")
        print(f"phm explain:   median {p:.2f} s (runs {', '.join(f'{x:.2f}' for x in phm_s)}), "
              f"peak RSS {statistics.median(phm_rss):.0f} MB")
        print(f"duckdb lookup: median {d:.2f} s (runs {', '.join(f'{x:.2f}' for x in duck_s)})")
        print(f"ratio phm / duckdb: {p / d:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
