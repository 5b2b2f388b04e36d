#!/usr/bin/env bash
# Makes Debian's Chromium available for the browser tests (Playwright drives it; Playwright never
# downloads a browser here).
#
#   test/services/chromium.sh install   apt-get install chromium when missing; prints its path
#   test/services/chromium.sh path      print the path (fails if not installed)
#
# Environment:
#   TSWREN_CHROMIUM   use this browser binary instead (skips apt)
#
# Needs root (CI runs as root) and the Debian archive. Everything but the path goes to stderr.
set -euo pipefail

log() { printf '[chromium.sh] %s\n' "$*" >&2; }
die() {
  printf '[chromium.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

find_chromium() {
  if [[ -n "${TSWREN_CHROMIUM:-}" ]]; then
    [[ -x "$TSWREN_CHROMIUM" ]] || die "TSWREN_CHROMIUM=$TSWREN_CHROMIUM is not an executable file"
    printf '%s\n' "$TSWREN_CHROMIUM"
    return 0
  fi
  local candidate
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
    if [[ -x "$candidate" ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

cmd_install() {
  if find_chromium; then return 0; fi
  command -v apt-get >/dev/null 2>&1 ||
    die "Chromium is not installed and apt-get is missing: install Chromium and set TSWREN_CHROMIUM=/path/to/chromium"
  [[ "$(id -u)" == 0 ]] ||
    die "Chromium is not installed and installing it needs root: run 'sudo apt-get install -y chromium' or set TSWREN_CHROMIUM"
  # One installer at a time (dpkg has its own lock, but a second apt-get would fail on it).
  local lockdir="${TSWREN_SERVICES_DIR:-${HOME:-/tmp}/.cache/tswren-services}"
  mkdir -p "$lockdir"
  exec 9>"$lockdir/chromium.lock"
  flock 9
  if find_chromium; then return 0; fi
  log "installing Debian chromium (apt-get update + apt-get install -y chromium)"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update failed; check the network and /etc/apt/sources.list"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >&2 ||
    die "apt-get install -y chromium failed (see the output above)"
  find_chromium || die "apt-get installed chromium but neither /usr/bin/chromium nor /usr/bin/chromium-browser exists"
}

case "${1:-}" in
  install) cmd_install ;;
  path) find_chromium || die "Chromium is not installed; run: test/services/chromium.sh install" ;;
  *) die "usage: chromium.sh install|path" ;;
esac
