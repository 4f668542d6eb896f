#!/usr/bin/env bash
# The README's test command: runs phm's tests on a fresh machine too. It
# installs what the tests need when it is missing (Debian's chromium, which
# the report test opens the reports in, and mold, a faster linker that
# build.rs uses for phm's own links when present), then runs the whole suite with the
# Apache Ballista feature. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1; }
browser() { [ -n "${PHM_CHROMIUM:-}" ] || have chromium || have chromium-browser || have google-chrome; }

need=()
browser || need+=(chromium)
have mold || need+=(mold)
if [ ${#need[@]} -gt 0 ]; then
  if have apt-get; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    echo "== installing ${need[*]} from the distribution's packages"
    $sudo_cmd apt-get update -qq
    # --reinstall also repairs a package whose binary has gone missing.
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --reinstall "${need[@]}" >/dev/null
  else
    echo "scripts/test.sh: no apt-get here to install ${need[*]}" >&2
  fi
fi
if ! browser; then
  echo "scripts/test.sh: the report test needs Chromium and it could not be installed;" \
       "install it, or set PHM_CHROMIUM to a Chromium binary" >&2
  exit 1
fi

# The workbook test reads phm's .xlsx lists with openpyxl, a reader independent
# of phm's own (tests/it/check_workbook.py).
if ! python3 -c 'import openpyxl' >/dev/null 2>&1; then
  echo "== installing openpyxl (Python) for the workbook test"
  python3 -m pip install -q --disable-pip-version-check openpyxl \
    || { echo "scripts/test.sh: could not install openpyxl (python3 -m pip install openpyxl)" >&2; exit 1; }
fi

exec cargo test --release --features ballista "$@"
