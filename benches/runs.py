"""Helpers the whole-run benchmark scripts share: find the release binary and
time one command under GNU time (wall seconds and peak RSS)."""
import os
import re
import subprocess
import sys
import time


def phm_binary():
    """The release build of phm (CARGO_TARGET_DIR honoured)."""
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))
    path = os.path.join(target, "release", "phm")
    if not os.path.exists(path):
        sys.exit(f"no release build at {path}: run cargo build --release first")
    return path


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS in MB). Exits on failure."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "RSS %M"] + cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    rss = re.findall(r"RSS (\d+)", out.stderr)
    return elapsed, (int(rss[-1]) / 1024 if rss else float("nan"))


def size_args(description, default_patients):
    """The arguments every whole-run benchmark takes: --patients, --runs, --extract."""
    import argparse
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--patients", type=int, default=default_patients)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--extract", help="use this extract instead of generating one")
    return ap


def given_or_generated(phm, args, work):
    """args.extract, else a fresh `phm generate --patients args.patients` extract under work."""
    if args.extract:
        return args.extract
    extract = os.path.join(work, "extract")
    subprocess.run([phm, "generate", "--patients", str(args.patients), "--seed", "42",
                    "--as-of", "2025-03-31", "--out", extract, "--quiet"], check=True)
    return extract
