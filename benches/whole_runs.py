#!/usr/bin/env python3
"""Times whole `phm` runs on a generated extract: median wall time and peak RSS.

For each command (features, inequalities, compare, propose, report, and demo: the
whole pipeline)
the runs are interleaved so machine noise hits every command alike. The
inequalities run is also timed with the SII simulation cut to 1,000 repetitions
(the package's minimum) so the Monte Carlo share of the run can be read off as
the difference against the default 100,000.

Usage: python3 benches/whole_runs.py [--patients 1000000] [--runs 5] [--extract DIR]
Needs: a release build of phm (cargo build --release; set CARGO_TARGET_DIR if you use one)
and GNU time (/usr/bin/time) for peak RSS.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from runs import given_or_generated, phm_binary, size_args, timed


def main():
    args = size_args(__doc__, 1_000_000).parse_args()
    phm = phm_binary()
    work = tempfile.mkdtemp(prefix="phm-bench-")
    try:
        extract = given_or_generated(phm, args, work)
        rules_1k = os.path.join(work, "rules-1k")
        subprocess.run([phm, "rules", "export", rules_1k], check=True, capture_output=True)
        path = os.path.join(rules_1k, "indicators.toml")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(re.sub(r"repetitions = \d+", "repetitions = 1000", text))
        out = os.path.join(work, "out")
        common = ["--quiet", "--extract", extract]
        commands = {
            "features": [phm, "features"] + common + ["--out", os.path.join(out, "f.parquet")],
            "inequalities": [phm, "inequalities"] + common + ["--out", os.path.join(out, "ineq")],
            "inequalities (SII 1k reps)": [phm, "inequalities"] + common
            + ["--rules", rules_1k, "--out", os.path.join(out, "ineq1k")],
            "compare": [phm, "compare"] + common + ["--indicator", "high_need", "--out", os.path.join(out, "cmp")],
            "propose": [phm, "propose"] + common + ["--out", os.path.join(out, "prop")],
            # The whole pipeline (features, cohorts, proposal, inequalities, reports).
            "demo": [phm, "demo", "--quiet", "--extract", extract, "--out", os.path.join(out, "demo")],
        }
        help_text = subprocess.run([phm, "--help"], capture_output=True, text=True).stdout
        if re.search(r"^\s+report\b", help_text, re.M):
            commands["report"] = [phm, "report"] + common + ["--out", os.path.join(out, "report")]
        os.makedirs(out, exist_ok=True)
        times = {k: [] for k in commands}
        rss = {k: [] for k in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                t, m = timed(cmd)
                times[name].append(t)
                rss[name].append(m)
        base = statistics.median(times["features"])
        print(f"extract: {extract}; {args.runs} runs each, interleaved")
        print(f"{'command':<28} {'median s':>9} {'min':>7} {'max':>7} {'peak RSS MB':>12} {'÷ features':>11}")
        for name in commands:
            med = statistics.median(times[name])
            print(f"{name:<28} {med:9.2f} {min(times[name]):7.2f} {max(times[name]):7.2f} "
                  f"{max(rss[name]):12.0f} {med / base:11.2f}")
        mc = statistics.median(times["inequalities"]) - statistics.median(times["inequalities (SII 1k reps)"])
        print(f"SII Monte Carlo share of inequalities: {mc:.2f} s of "
              f"{statistics.median(times['inequalities']):.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
