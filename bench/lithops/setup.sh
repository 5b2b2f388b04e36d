#!/usr/bin/env bash
# Creates (or reuses) the Python venv the Lithops peer benchmark runs in.
#
#   bench/lithops/setup.sh            # prints the venv's python path on stdout
#
# Env:
#   TSWREN_BENCH_VENV   venv location (default ~/.cache/tswren-services/lithops-venv)
#   TSWREN_BENCH_PYTHON interpreter used to create the venv (default python3)
#
# Idempotent: when the venv already has lithops==$LITHOPS_VERSION importable it
# does nothing. Exits non-zero with a message on stderr when it cannot install.
set -euo pipefail

# Pinned peer version. 3.8.0 is the newest on PyPI as of this writing and the
# one FACTS.md's Lithops figures refer to. The localhost compute and storage
# backends need nothing beyond lithops' own install_requires.
LITHOPS_VERSION=3.8.0

VENV="${TSWREN_BENCH_VENV:-$HOME/.cache/tswren-services/lithops-venv}"
PY="${TSWREN_BENCH_PYTHON:-python3}"
VPY="$VENV/bin/python"

die() { echo "bench/lithops/setup.sh: $*" >&2; exit 1; }

installed_version() {
  [ -x "$VPY" ] || return 1
  "$VPY" - <<'PYEOF' 2>/dev/null
import importlib.metadata as m, importlib.util as u
# Not 'import lithops': that creates lithops' dirs under $TMPDIR.
import cloudpickle, psutil, yaml  # noqa: F401
assert u.find_spec("lithops") is not None
print(m.version("lithops"))
PYEOF
}

if [ "$(installed_version || true)" = "$LITHOPS_VERSION" ]; then
  echo "$VPY"
  exit 0
fi

command -v "$PY" >/dev/null 2>&1 || die "no '$PY' on PATH (set TSWREN_BENCH_PYTHON)"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' \
  || die "$PY is older than 3.8, which lithops $LITHOPS_VERSION does not support"

if [ ! -x "$VPY" ]; then
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV" >&2 \
    || die "'$PY -m venv $VENV' failed (on Debian: apt-get install python3-venv)"
fi

LOG="$(mktemp "${TMPDIR:-/tmp}/tswren-lithops-setup.XXXXXX")"
trap 'rm -f "$LOG"' EXIT
if ! "$VPY" -m pip install --quiet --disable-pip-version-check --no-input \
     "lithops==$LITHOPS_VERSION" >"$LOG" 2>&1; then
  tail -n 30 "$LOG" >&2
  die "pip could not install lithops==$LITHOPS_VERSION into $VENV (see above)"
fi

got="$(installed_version || true)"
[ "$got" = "$LITHOPS_VERSION" ] \
  || die "after install, lithops in $VENV reports '${got:-nothing importable}', wanted $LITHOPS_VERSION"

echo "$VPY"
