#!/usr/bin/env python3
"""How phm's cost grows with extract size (issue 7): median wall time and peak RSS
of `phm features`, `phm propose` and `phm report` on generated extracts of each
size, every run with a memory limit (DataFusion's pool; spills to --spill-dir).

Prints a Markdown table: per size and command, the median wall time, peak RSS,
seconds per million patients, and the ratio of each size's time to the smallest
size's time scaled by size (1.00 = exactly linear).

Also, with --per-core, times `phm features` on the smallest size pinned to one
core (taskset, one partition): the single-core throughput the Ballista sizing
note in docs/scale.md starts from.

Usage: python3 benches/scale.py [--sizes 1000000,10000000] [--runs 3]
         [--memory-limit 4GiB] [--keep DIR] [--per-core]
Needs a release build of phm (CARGO_TARGET_DIR honoured) and GNU time.
Disk: about 130 MB of extract per million patients, plus spill files.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from runs import phm_binary, timed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--memory-limit", default="4GiB")
    ap.add_argument("--keep", help="folder to keep (and reuse) the generated extracts in")
    ap.add_argument("--per-core", action="store_true")
    args = ap.parse_args()
    phm = phm_binary()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = tempfile.mkdtemp(prefix="phm-scale-")
    keep = args.keep or work
    os.makedirs(keep, exist_ok=True)
    spill = os.path.join(work, "spill")
    os.makedirs(spill)
    rows = []
    try:
        for n in sizes:
            extract = os.path.join(keep, f"extract-{n}")
            if not os.path.exists(os.path.join(extract, "imd.parquet")):
                secs, rss = timed([phm, "generate", "--quiet", "--patients", str(n), "--seed", "42",
                                   "--as-of", "2025-03-31", "--out", extract, "--force"])
                rows.append((n, "generate", [secs], [rss]))
            base = ["--quiet", "--extract", extract, "--as-of", "2025-03-31",
                    "--memory-limit", args.memory_limit, "--spill-dir", spill]
            cmds = {
                "features": ["features", "--out", os.path.join(work, "f.parquet")],
                "propose": ["propose", "--out", os.path.join(work, "proposal")],
                "report": ["report", "--out", os.path.join(work, "report")],
            }
            times = {k: [] for k in cmds}
            peaks = {k: [] for k in cmds}
            for _ in range(args.runs):
                for name, cmd in cmds.items():
                    secs, rss = timed([phm] + cmd + base)
                    times[name].append(secs)
                    peaks[name].append(rss)
                    for p in ("proposal", "report"):
                        shutil.rmtree(os.path.join(work, p), ignore_errors=True)
            for name in cmds:
                rows.append((n, name, times[name], peaks[name]))
            print(f"done {n:,}", file=sys.stderr)
        if args.per_core:
            n = sizes[0]
            extract = os.path.join(keep, f"extract-{n}")
            env = dict(os.environ, DATAFUSION_EXECUTION_TARGET_PARTITIONS="1")
            t = []
            for _ in range(args.runs):
                secs, _ = timed(["taskset", "-c", "0", phm, "features", "--quiet", "--extract", extract,
                                 "--as-of", "2025-03-31", "--out", os.path.join(work, "f1.parquet")], env)
                t.append(secs)
            med = statistics.median(t)
            print(f"\none core, one partition, {n:,} patients: features median {med:.2f} s "
                  f"= {n / med:,.0f} patients per core-second")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            shutil.rmtree(spill, ignore_errors=True)

    smallest = sizes[0]
    base_time = {name: statistics.median(t) for n, name, t, _ in rows if n == smallest}
    print(f"\nmemory limit {args.memory_limit}; median of {args.runs} runs (generate: one run)\n")
    print("| patients | command | wall median (s) | peak RSS (MB) | s per 1M patients | vs linear from smallest |")
    print("|---:|---|---:|---:|---:|---:|")
    for n, name, t, r in rows:
        med = statistics.median(t)
        lin = med / (base_time[name] * n / smallest) if name in base_time and n != smallest else 1.0
        print(f"| {n:,} | {name} | {med:.2f} | {max(r):,.0f} | {med / (n / 1e6):.2f} | {lin:.2f} |")


if __name__ == "__main__":
    main()
