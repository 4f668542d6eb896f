#!/usr/bin/env bash
# Runs each fuzz target of tests/it/fuzz.rs (proptest properties) with many more
# cases than `cargo test` does, one at a time, and prints how long each ran.
# A failure is shrunk and saved in tests/it/fuzz.proptest-regressions: commit it.
#   scripts/fuzz.sh [CASES]     (default 20000; the validator targets run CASES/8)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/phm-target}"
CASES="${1:-20000}"
cargo test --release --features ballista --test it --no-run >/dev/null 2>&1
targets=$(cargo test --release --features ballista --test it -- --list fuzz:: 2>/dev/null | sed -n 's/^\(fuzz::.*\): test$/\1/p')
printf '%-60s %8s %10s %s\n' target cases seconds result
for t in $targets; do
  start=$(date +%s.%N)
  if PROPTEST_CASES="$CASES" cargo test --release --features ballista --test it -- --exact "$t" >/tmp/phm-fuzz-$$.log 2>&1; then
    result=ok
  else
    result=FAILED
  fi
  end=$(date +%s.%N)
  printf '%-60s %8s %10.1f %s\n' "$t" "$CASES" "$(echo "$end - $start" | bc)" "$result"
  if [ "$result" = FAILED ]; then grep -E "minimal failing|panicked" /tmp/phm-fuzz-$$.log | head -5; fi
done
rm -f /tmp/phm-fuzz-$$.log
