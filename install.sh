#!/bin/sh
# tswren installer for a checkout of this repository: checks Node, installs the pinned
# dependencies and builds the `tswren` package and its runtime. (The one-line `curl | sh`
# install for hosted notebooks builds on this script.)
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
need_major=20
need_minor=19
if ! command -v node >/dev/null 2>&1; then
  echo "tswren: Node.js >= $need_major.$need_minor is required and was not found on PATH" >&2
  exit 1
fi
version=$(node -p 'process.versions.node')
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
if [ "$major" -lt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -lt "$need_minor" ]; }; then
  echo "tswren: Node.js $version is too old; install Node.js >= $need_major.$need_minor" >&2
  exit 1
fi
cd "$here"
echo "tswren: installing pinned dependencies (npm ci)" >&2
npm ci --no-audit --no-fund >&2
echo "tswren: building" >&2
npm run build >&2
echo "tswren: ready. Try: node kernel-lib/bin/tswren.js hello" >&2
