#!/usr/bin/env bash
# Installs moto's server (a real implementation of AWS's control-plane APIs) for tswren's tests.
#
#   test/services/moto.sh install   create the venv once; prints the path of moto_server
#   test/services/moto.sh path      print the path of moto_server (fails if not installed)
#   test/services/moto.sh version   print the pinned requirement
#
# moto comes from PyPI (`moto[server]==5.2.6`, pinned) into a private venv. Tests start it with
# `moto_server -H 127.0.0.1 -p PORT` (test/services/moto.ts), then POST /moto-api/reset and
# /moto-api/config {"lambda":{"use_docker":false}} before creating anything.
#
# Environment:
#   TSWREN_SERVICES_DIR  cache root (default ~/.cache/tswren-services); venv in $DIR/moto-venv
#
# Everything but the requested value goes to stderr; never reads stdin, never prompts.
set -euo pipefail

PINS=("moto[server]==5.2.6")

SERVICES_DIR="${TSWREN_SERVICES_DIR:-${HOME:?HOME is not set; set TSWREN_SERVICES_DIR}/.cache/tswren-services}"
VENV="$SERVICES_DIR/moto-venv"
STAMP="$VENV/tswren.pins"

log() { printf '[moto.sh] %s\n' "$*" >&2; }
die() {
  printf '[moto.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

want() { printf '%s\n' "${PINS[@]}"; }

installed() {
  [[ -x "$VENV/bin/moto_server" && -f "$STAMP" && "$(cat "$STAMP")" == "$(want)" ]]
}

make_venv() {
  if python3 -m venv "$VENV" >&2; then return 0; fi
  # Debian splits venv/ensurepip into python3-venv: install it when we may (CI runs as root).
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "python3 -m venv failed; installing Debian's python3-venv"
    rm -rf "$VENV"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; } >&2 ||
      die "apt-get install -y python3-venv failed"
    python3 -m venv "$VENV" >&2 || die "python3 -m venv failed even with python3-venv installed"
  else
    die "python3 -m venv failed (Debian: apt-get install -y python3-venv, as root)"
  fi
}

cmd_install() {
  if installed; then
    printf '%s\n' "$VENV/bin/moto_server"
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH; moto is installed from PyPI into a venv"
  mkdir -p "$SERVICES_DIR"
  exec 9>"$SERVICES_DIR/moto.lock"
  if ! flock -n 9; then
    log "another process is installing moto; waiting for its lock"
    flock 9
  fi
  if installed; then
    printf '%s\n' "$VENV/bin/moto_server"
    return 0
  fi
  log "installing ${PINS[*]} into $VENV (PyPI, about 25 s)"
  rm -rf "$VENV"
  make_venv
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q "${PINS[@]}" >&2 ||
    die "pip install of ${PINS[*]} failed"
  want >"$STAMP"
  printf '%s\n' "$VENV/bin/moto_server"
}

case "${1:-}" in
install) cmd_install ;;
path)
  installed || die "moto is not installed; run: $0 install"
  printf '%s\n' "$VENV/bin/moto_server"
  ;;
version) want ;;
*)
  printf 'usage: %s install|path|version\n' "$0" >&2
  exit 2
  ;;
esac
