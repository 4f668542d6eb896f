#!/usr/bin/env python3
"""Times `phm features` against DuckDB running the same SQL on the same Parquet.

Both engines run the rule files of `phm rules export` (queries/sql/*.sql) over
the same generated extract, in the same run, alternating, and the script
reports the median wall time of each and the ratio phm / DuckDB. It also checks
that both engines produce the same features (every column DuckDB computes),
which is a second, independent execution of the rules.

Each engine runs as a fresh process per run, as an analyst runs either from
the command line: phm is timed from outside (process start to exit), DuckDB
inside a child Python process from `connect()` to the end of the COPY (so
Python's start-up and `import duckdb` are not counted against DuckDB).
`--duckdb-in-process` runs DuckDB inside this script instead, as the script
did before 2026-11: from the second run on DuckDB then reuses memory this
process already holds, while every phm run starts cold; on the VMs here
(free page reporting) a cold start costs a process 0.3-1.5 s of page
faults at 1M patients, so that mode flatters DuckDB.

Usage: python3 benches/features_vs_duckdb.py [--patients 1000000] [--runs 5]
Needs: a release build of phm (cargo build --release) and `pip install duckdb`.
"""
import argparse
import calendar
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def months_before(d, months):
    y, m = divmod(d.year * 12 + (d.month - 1) - months, 12)
    m += 1
    last = calendar.monthrange(y, m)[1]
    return dt.date(y, m, min(d.day, last))


def load_toml(path):
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


def parameters(rules_dir, as_of):
    cfg = load_toml(os.path.join(rules_dir, "rules.toml"))
    p = {"as_of": f"DATE '{as_of}'"}
    for name, months in cfg["windows"].items():
        p[f"{name}_since"] = f"DATE '{months_before(as_of, months)}'"
    p["adult_age"] = str(cfg["population"]["adult_age"])
    p["hfu_ae_min"] = str(cfg["hfu"]["ae_attendances"])
    p["hfu_adm_min"] = str(cfg["hfu"]["emergency_admissions"])
    p["hfu_gp_min"] = str(cfg["hfu"]["gp_attended"])
    p["core20_max_decile"] = str(cfg["core20"]["max_decile"])
    return p


def bind(sql, params):
    # Longest names first so $as_of never clips $as_of_something.
    for name in sorted(params, key=len, reverse=True):
        sql = re.sub(r"\$" + name + r"\b", params[name], sql)
    return sql


def table_glob(extract, name):
    folder = os.path.join(extract, name)
    return f"{folder}/*.parquet" if os.path.isdir(folder) else f"{folder}.parquet"


def run_duckdb(extract, rules_dir, as_of, out, threads):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    for t in ["patients", "events", "appointments", "ae_attendances", "admissions", "imd"]:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{table_glob(extract, t)}')")
    rows = []
    cl_dir = os.path.join(rules_dir, "codelists")
    for f in sorted(os.listdir(cl_dir)):
        if f.endswith(".csv"):
            name = f[:-4]
            with open(os.path.join(cl_dir, f)) as fh:
                body = [l for l in fh if not l.startswith("#")]
            for line in body[1:]:
                code = line.split(",", 1)[0].strip()
                if code:
                    rows.append((name, int(code)))
    con.execute("CREATE TABLE codelists (codelist VARCHAR, code BIGINT)")
    con.executemany("INSERT INTO codelists VALUES (?, ?)", rows)
    params = parameters(rules_dir, as_of)
    # The rule views in the order queries/views.toml gives, as phm runs them.
    for name in load_toml(os.path.join(rules_dir, "views.toml"))["order"]:
        with open(os.path.join(rules_dir, "sql", f"{name}.sql")) as fh:
            sql = bind(fh.read(), params)
        con.execute(f"CREATE VIEW {name} AS {sql}")
    # rules.md §5: the features table is written in patient_id order.
    con.execute(f"COPY (SELECT * FROM features ORDER BY patient_id) TO '{out}' (FORMAT PARQUET)")
    con.close()


def run_duckdb_fresh(extract, rules_dir, as_of, out, threads):
    """run_duckdb in a new Python process; returns the seconds it measured."""
    child = subprocess.run(
        [sys.executable, __file__, "--duckdb-child", extract, rules_dir, str(as_of), out, str(threads)],
        check=True, capture_output=True, text=True)
    return float(child.stdout.split()[-1])


def duckdb_child(args):
    extract, rules_dir, as_of, out, threads = args
    import duckdb  # noqa: F401  (imported before the clock starts)
    t0 = time.perf_counter()
    run_duckdb(extract, rules_dir, dt.date.fromisoformat(as_of), out, int(threads))
    print(f"{time.perf_counter() - t0:.6f}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--duckdb-child":
        return duckdb_child(sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--as-of", default="2025-03-31")
    ap.add_argument("--phm", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "phm"))
    ap.add_argument("--work", default=None, help="folder for the extract and outputs (default: a temp folder)")
    ap.add_argument("--duckdb-in-process", action="store_true",
                    help="run DuckDB inside this script (warm memory from run 2 on) rather than a fresh process per run")
    args = ap.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    threads = os.cpu_count() or 2
    work = args.work or tempfile.mkdtemp(prefix="phm-bench-")
    extract = os.path.join(work, f"extract-{args.patients}")
    if not os.path.isdir(extract):
        subprocess.run([args.phm, "generate", "--patients", str(args.patients), "--seed", str(args.seed),
                        "--as-of", args.as_of, "--out", extract, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    rules = os.path.join(work, "rules")
    shutil.rmtree(rules, ignore_errors=True)
    subprocess.run([args.phm, "rules", "export", rules], check=True, stdout=subprocess.DEVNULL)

    phm_times, duck_times = [], []
    phm_out = os.path.join(work, "phm_features.parquet")
    duck_out = os.path.join(work, "duckdb_features.parquet")
    for i in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run([args.phm, "features", "--extract", extract, "--as-of", args.as_of,
                        "--out", phm_out, "--quiet"], check=True)
        phm_times.append(time.perf_counter() - t0)
        if args.duckdb_in_process:
            t0 = time.perf_counter()
            run_duckdb(extract, rules, as_of, duck_out, threads)
            duck_times.append(time.perf_counter() - t0)
        else:
            duck_times.append(run_duckdb_fresh(extract, rules, as_of, duck_out, threads))
        print(f"run {i + 1}: phm {phm_times[-1]:.2f}s, duckdb {duck_times[-1]:.2f}s", file=sys.stderr)

    import duckdb
    con = duckdb.connect()
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM '{duck_out}'").fetchall()]
    col_list = ", ".join(cols)
    diff = con.execute(
        f"SELECT count(*) FROM ((SELECT {col_list} FROM '{phm_out}' EXCEPT ALL SELECT {col_list} FROM '{duck_out}')"
        f" UNION ALL (SELECT {col_list} FROM '{duck_out}' EXCEPT ALL SELECT {col_list} FROM '{phm_out}'))").fetchone()[0]
    rows = con.execute(f"SELECT count(*) FROM '{phm_out}'").fetchone()[0]
    pm, dm = statistics.median(phm_times), statistics.median(duck_times)
    mode = "in this process" if args.duckdb_in_process else "a fresh process per run"
    print(f"patients={args.patients} registered_rows={rows} runs={args.runs} threads={threads} duckdb={mode}")
    print(f"phm features median {pm:.2f}s; duckdb median {dm:.2f}s; ratio phm/duckdb {pm / dm:.2f}")
    print(f"rows differing between engines (over {len(cols)} columns): {diff}")
    if diff:
        sys.exit(1)


if __name__ == "__main__":
    main()
