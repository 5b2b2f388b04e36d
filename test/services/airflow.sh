#!/usr/bin/env bash
# Installs Apache Airflow 3 and pytest for the tests of tswren's Airflow operators (airflow-operators/).
#
#   test/services/airflow.sh install   create the venv once; prints the path of its python
#   test/services/airflow.sh path      print the path of the venv's python (fails if not installed)
#   test/services/airflow.sh version   print the pinned requirements
#
# Airflow (`apache-airflow==3.3.2`) and pytest (`pytest==8.3.4`) come from PyPI into a private venv,
# with every dependency pinned by airflow-operators/requirements-test.lock (Airflow's official
# constraints file is not reachable from here). The first install takes about 2 minutes; later
# calls return at once (the venv carries a stamp of the lock's content; a changed lock reinstalls).
# Concurrent installs wait on a lock (flock) and install once. Nothing is started: the tests run
# Airflow in-process (`dag.test()`) on SQLite in a temporary AIRFLOW_HOME.
#
# Environment:
#   TSWREN_SERVICES_DIR  cache root (default ~/.cache/tswren-services); venv in $DIR/airflow-venv
#
# Everything but the requested value goes to stderr; never reads stdin, never prompts.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOCK_FILE="$HERE/../../airflow-operators/requirements-test.lock"
PINS=("apache-airflow==3.3.2" "pytest==8.3.4")

SERVICES_DIR="${TSWREN_SERVICES_DIR:-${HOME:?HOME is not set; set TSWREN_SERVICES_DIR}/.cache/tswren-services}"
VENV="$SERVICES_DIR/airflow-venv"
STAMP="$VENV/tswren.pins"

log() { printf '[airflow.sh] %s\n' "$*" >&2; }
die() {
  printf '[airflow.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

want() {
  [[ -f "$LOCK_FILE" ]] || die "missing $LOCK_FILE"
  printf '%s\n' "${PINS[@]}"
  grep -v '^#' "$LOCK_FILE" | sha256sum | cut -d' ' -f1
}

installed() {
  [[ -x "$VENV/bin/python" && -x "$VENV/bin/airflow" && -f "$STAMP" && "$(cat "$STAMP")" == "$(want)" ]]
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

pip_install() {
  local log_file="$SERVICES_DIR/airflow-install.log"
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -r "$LOCK_FILE" >"$log_file" 2>&1; then
    tail -n 30 "$log_file" >&2
    die "pip install -r $LOCK_FILE failed (full output: $log_file); Airflow's tests cannot run without it"
  fi
  # The pins must hold exactly: a resolver that picked something else would test another Airflow.
  "$VENV/bin/python" -m pip check >&2 || die "pip check failed in $VENV"
  local got
  got="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-airflow"), m.version("pytest"))')"
  [[ "$got" == "3.3.2 8.3.4" ]] || die "installed apache-airflow/pytest are $got, expected 3.3.2 8.3.4"
}

cmd_install() {
  if installed; then
    printf '%s\n' "$VENV/bin/python"
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH; Airflow is installed from PyPI into a venv"
  command -v flock >/dev/null 2>&1 || die "flock is not on PATH (Debian: apt-get install -y util-linux)"
  mkdir -p "$SERVICES_DIR"
  exec 9>"$SERVICES_DIR/airflow.lock"
  if ! flock -n 9; then
    log "another process is installing Airflow; waiting for its lock"
    flock 9
  fi
  if installed; then
    printf '%s\n' "$VENV/bin/python"
    return 0
  fi
  log "installing ${PINS[*]} (and their pinned dependencies) into $VENV (PyPI, about 2 minutes)"
  rm -rf "$VENV"
  make_venv
  pip_install
  want >"$STAMP"
  log "installed into $VENV"
  printf '%s\n' "$VENV/bin/python"
}

case "${1:-}" in
install) cmd_install ;;
path)
  installed || die "Airflow is not installed; run: $0 install"
  printf '%s\n' "$VENV/bin/python"
  ;;
version) want ;;
*)
  printf 'usage: %s install|path|version\n' "$0" >&2
  exit 2
  ;;
esac
