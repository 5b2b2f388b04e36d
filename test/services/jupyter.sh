#!/usr/bin/env bash
# Installs the pinned Python Jupyter tools the test suite drives (JupyterLab, Notebook 7,
# nbclient, jupyter_client) into a private virtualenv from PyPI.
#
#   test/services/jupyter.sh install   create/update the venv once; prints its bin directory
#   test/services/jupyter.sh bin       print the venv's bin directory (fails if not installed)
#
# Environment:
#   TSWREN_SERVICES_DIR  cache root (default ~/.cache/tswren-services); venv in $DIR/jupyter-venv
#
# Everything but the requested value goes to stderr; never reads stdin, never prompts.
set -euo pipefail

# Pinned versions (change here; the stamp makes every machine reinstall once).
PINS=(
  "jupyterlab==4.6.6"
  "notebook==7.6.5"
  "nbclient==0.11.0"
  "nbformat==5.10.4"
  "jupyter_client==8.6.3"
)

SERVICES_DIR="${TSWREN_SERVICES_DIR:-${HOME:?HOME is not set; set TSWREN_SERVICES_DIR}/.cache/tswren-services}"
VENV="$SERVICES_DIR/jupyter-venv"
STAMP="$VENV/tswren.pins"

log() { printf '[jupyter.sh] %s\n' "$*" >&2; }
die() {
  printf '[jupyter.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

want() { printf '%s\n' "${PINS[@]}"; }

installed() {
  [[ -x "$VENV/bin/python" && -x "$VENV/bin/jupyter" && -f "$STAMP" && "$(cat "$STAMP")" == "$(want)" ]]
}

cmd_install() {
  if installed; then
    printf '%s\n' "$VENV/bin"
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH; the Jupyter test tools are installed from PyPI into a venv"
  mkdir -p "$SERVICES_DIR"
  exec 9>"$SERVICES_DIR/jupyter.lock"
  if ! flock -n 9; then
    log "another process is installing the Jupyter venv; waiting for its lock"
    flock 9
  fi
  if installed; then
    printf '%s\n' "$VENV/bin"
    return 0
  fi
  log "installing ${PINS[*]} into $VENV (PyPI)"
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV" >&2; then
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
  fi
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q "${PINS[@]}" >&2 ||
    die "pip install of ${PINS[*]} failed"
  want >"$STAMP"
  printf '%s\n' "$VENV/bin"
}

case "${1:-}" in
  install) cmd_install ;;
  bin)
    installed || die "the Jupyter venv is not installed; run: test/services/jupyter.sh install"
    printf '%s\n' "$VENV/bin"
    ;;
  *) die "usage: jupyter.sh install|bin" ;;
esac
