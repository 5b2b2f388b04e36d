#!/usr/bin/env bash
# Installs (or reuses) the pinned faast.js peer into the services cache, outside the project's
# dependencies, and prints the install prefix on stdout.
#
#   bench/faast/setup.sh     # -> ~/.cache/tswren-services/faastjs-<version>
#
# Idempotent (a lock serializes concurrent runs); exits non-zero with a message on stderr when
# npm cannot install it.
set -euo pipefail

FAASTJS_VERSION=8.0.75
CACHE="${TSWREN_SERVICES_CACHE:-$HOME/.cache/tswren-services}"
PREFIX="$CACHE/faastjs-$FAASTJS_VERSION"
mkdir -p "$CACHE"

installed() {
  [ -f "$PREFIX/node_modules/faastjs/package.json" ] &&
    node -e 'const p=require(process.argv[1]); process.exit(p.version===process.argv[2]?0:1)' \
      "$PREFIX/node_modules/faastjs/package.json" "$FAASTJS_VERSION"
}

exec 9>"$CACHE/faastjs.lock"
flock 9
if ! installed; then
  mkdir -p "$PREFIX"
  [ -f "$PREFIX/package.json" ] || echo '{"name":"tswren-faastjs-peer","private":true}' >"$PREFIX/package.json"
  LOG="$(mktemp "${TMPDIR:-/tmp}/tswren-faastjs-setup.XXXXXX")"
  trap 'rm -f "$LOG"' EXIT
  if ! npm install --prefix "$PREFIX" --no-audit --no-fund --save-exact "faastjs@$FAASTJS_VERSION" >"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2
    echo "bench/faast/setup.sh: npm could not install faastjs@$FAASTJS_VERSION into $PREFIX (see above)" >&2
    exit 1
  fi
  installed || { echo "bench/faast/setup.sh: faastjs in $PREFIX is not $FAASTJS_VERSION after install" >&2; exit 1; }
fi
echo "$PREFIX"
