#!/usr/bin/env bash
# Byte-identical outputs before and after a change: builds phm at git
# revision BASE (default: HEAD) beside the working tree, runs every command
# with both binaries on the sample extract and on a generated one, and diffs
# every file they write. Exits 1 on any difference. Used for refactors that
# must not change what phm writes (issue 16).
#   scripts/same-outputs.sh [BASE] [PATIENTS]   (default HEAD, 300000)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${1:-HEAD}"
PATIENTS="${2:-300000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/phm-target}"
work=$(mktemp -d /tmp/phm-same.XXXXXX)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git worktree add --detach "$work/base" "$BASE" >/dev/null
# Build settings are the working tree's: an older revision's .cargo/config.toml
# (a linker path inside the clone) would make every dependency rebuild.
rm -f "$work/base/.cargo/config.toml"
cp build.rs "$work/base/build.rs"
( cd "$work/base" && cargo build --release --features ballista --bin phm -q )
cp "$CARGO_TARGET_DIR/release/phm" "$work/phm-base"
# Cargo's unit hash does not depend on the package's folder and its freshness
# check compares mtimes, so after the base build the working tree's older
# sources would look up to date and the base binary would be taken as new.
touch src/lib.rs src/main.rs
cargo build --release --features ballista --bin phm -q
cp "$CARGO_TARGET_DIR/release/phm" "$work/phm-new"
if cmp -s "$work/phm-base" "$work/phm-new"; then
  echo "same-outputs: the two binaries are identical; nothing would be compared" >&2
  exit 1
fi

status=0
# The generator too: the same seed must give the same files.
for who in base new; do
  "$work/phm-$who" generate --quiet --patients 20000 --seed 3 --as-of 2025-03-31 --out "$work/gen-$who"
done
for f in $(cd "$work/gen-base" && find . -type f | sort); do
  cmp -s "$work/gen-base/$f" "$work/gen-new/$f" || { echo "DIFFERS: generate $f"; status=1; }
done
"$work/phm-new" generate --quiet --patients "$PATIENTS" --seed 11 --as-of 2025-03-31 --out "$work/generated"
for extract in sample-data/extract "$work/generated"; do
  name=$(basename "$extract")
  for who in base new; do
    bin="$work/phm-$who"
    out="$work/out-$name-$who"
    mkdir -p "$out"
    "$bin" features --quiet --extract "$extract" --out "$out/features.parquet"
    "$bin" cohorts --quiet --extract "$extract" --out "$out/cohorts" >/dev/null
    "$bin" propose --quiet --extract "$extract" --out "$out/proposal" >/dev/null
    "$bin" inequalities --quiet --extract "$extract" --out "$out/inequalities" >/dev/null
    "$bin" inequalities --quiet --by imd_quintile --extract "$extract" --out "$out/inequalities-q" >/dev/null
    "$bin" compare --quiet --extract "$extract" --indicator high_need --level practice --out "$out/compare" >/dev/null
    "$bin" report --quiet --extract "$extract" --out "$out/report" >/dev/null
    "$bin" query --quiet --extract "$extract" --out "$out/query.csv" \
      -e "SELECT practice_code, count(*) AS n, sum(need_score) AS score FROM features GROUP BY 1 ORDER BY 1"
    if [ "$extract" = sample-data/extract ]; then
      ( cd "$out" && "$bin" demo --quiet --extract "$OLDPWD/$extract" --out demo >/dev/null )
    fi
  done
  files=$( (cd "$work/out-$name-base" && find . -type f | sort) )
  n=0
  for f in $files; do
    n=$((n + 1))
    if ! cmp -s "$work/out-$name-base/$f" "$work/out-$name-new/$f"; then
      echo "DIFFERS: $name $f"
      status=1
    fi
  done
  extra=$(diff <(cd "$work/out-$name-base" && find . -type f | sort) <(cd "$work/out-$name-new" && find . -type f | sort) || true)
  if [ -n "$extra" ]; then echo "file lists differ for $name:"; echo "$extra"; status=1; fi
  echo "$name: $n files compared"
done
exit $status
