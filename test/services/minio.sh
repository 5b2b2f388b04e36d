#!/usr/bin/env bash
# Builds, starts and stops a real MinIO S3 server for tswren's test suite.
#
#   test/services/minio.sh install    build minio once into the cache (prints the binary's path)
#   test/services/minio.sh path       print the binary's path (fails if not installed)
#   test/services/minio.sh version    print the pinned module version
#   test/services/minio.sh start      start one server in the background (prints `export` lines)
#   test/services/minio.sh stop       stop the server that `start` started, remove its data
#   test/services/minio.sh supervise DIR -- CMD...
#                                     internal (used by minio.ts): supervise.sh DIR -- CMD (kill
#                                     CMD when this script's stdin reaches EOF, then remove DIR)
#
# MinIO comes from the Go module proxy (`go install`), never from a download of a prebuilt
# binary. The proxy only serves MinIO's default-branch head as a pseudo-version (its
# RELEASE.* tags are not semver, and other commits are refused), so the pin is the last
# commit of the (now maintenance-mode) repository: RELEASE.2025-10-15T17-29-55Z plus 11
# commits of S3 fixes and docs.
#
# Environment:
#   TSWREN_SERVICES_DIR  cache root (default ~/.cache/tswren-services); binary in $DIR/bin
#   TSWREN_MINIO_PORT    port for `start` (default 9000; the console gets PORT+1)
#
# Everything but the requested value goes to stderr; the script never reads stdin (except in
# `supervise`) and never prompts, so it runs unattended in CI.
set -euo pipefail

MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
MINIO_MIN_GO="1.24" # from the module's go.mod ("go 1.24.0")

SERVICES_DIR="${TSWREN_SERVICES_DIR:-${HOME:?HOME is not set; set TSWREN_SERVICES_DIR}/.cache/tswren-services}"
BIN_DIR="$SERVICES_DIR/bin"
MINIO_BIN="$BIN_DIR/minio"
STAMP="$BIN_DIR/minio.version"
RUN_DIR="$SERVICES_DIR/minio-run"

log() { printf '[minio.sh] %s\n' "$*" >&2; }
die() {
  printf '[minio.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

installed() {
  [[ -x "$MINIO_BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$MINIO_VERSION" ]]
}

# version_ge A B: true when dotted version A >= B
version_ge() {
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

cmd_install() {
  if installed; then
    log "minio $MINIO_VERSION already installed at $MINIO_BIN"
    printf '%s\n' "$MINIO_BIN"
    return 0
  fi
  command -v go >/dev/null 2>&1 ||
    die "the Go toolchain is not on PATH; MinIO is built with 'go install $MINIO_MODULE@$MINIO_VERSION' (Go >= $MINIO_MIN_GO)"
  local gov
  gov="$(go env GOVERSION 2>/dev/null || true)"
  gov="${gov#go}"
  gov="${gov%%[!0-9.]*}"
  if [[ -n "$gov" ]] && ! version_ge "$gov" "$MINIO_MIN_GO" && [[ "$(go env GOTOOLCHAIN)" == local* ]]; then
    die "Go $gov is too old for MinIO $MINIO_VERSION (needs >= $MINIO_MIN_GO) and GOTOOLCHAIN=local forbids fetching a newer one"
  fi

  mkdir -p "$BIN_DIR"
  # One builder at a time: concurrent test processes wait for the first one's build.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$SERVICES_DIR/minio.lock"
    if ! flock -n 9; then
      log "another process is building minio; waiting for its lock ($SERVICES_DIR/minio.lock)"
      flock 9
    fi
    if installed; then
      log "minio $MINIO_VERSION was installed by another process"
      printf '%s\n' "$MINIO_BIN"
      return 0
    fi
    rm -rf "$BIN_DIR"/.build.* # left by a build that was killed (we hold the lock)
  fi

  local tmp_bin buildlog start rc ticker
  tmp_bin="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
  buildlog="$SERVICES_DIR/minio-build.log"
  log "building minio $MINIO_VERSION with go $(go env GOVERSION) (first build: ~4 min on 2 cores; log: $buildlog)"
  start=$SECONDS
  # A heartbeat so that a long, quiet compile does not look hung in CI logs.
  # (It kills its own sleep when stopped, and never holds stdout, so `$(minio.sh install)` returns.)
  (
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    while :; do
      sleep 60 &
      sp=$!
      wait "$sp"
      log "still building minio... $((SECONDS - start)) s"
    done
  ) >&2 </dev/null &
  ticker=$!
  set +e
  GOBIN="$tmp_bin" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install "$MINIO_MODULE@$MINIO_VERSION" </dev/null >"$buildlog" 2>&1
  rc=$?
  set -e
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  if [[ $rc -ne 0 || ! -x "$tmp_bin/minio" ]]; then
    rm -rf "$tmp_bin"
    printf '[minio.sh] ---- last lines of %s ----\n' "$buildlog" >&2
    tail -n 40 "$buildlog" >&2 || true
    die "'go install $MINIO_MODULE@$MINIO_VERSION' failed (exit $rc) after $((SECONDS - start)) s. Needs the Go module proxy (GOPROXY=$(go env GOPROXY)) and Go >= $MINIO_MIN_GO; full log: $buildlog"
  fi
  "$tmp_bin/minio" --version >/dev/null 2>&1 || {
    rm -rf "$tmp_bin"
    die "the freshly built minio does not run ('minio --version' failed)"
  }
  mv -f "$tmp_bin/minio" "$MINIO_BIN"
  rm -rf "$tmp_bin"
  printf '%s\n' "$MINIO_VERSION" >"$STAMP.tmp"
  mv -f "$STAMP.tmp" "$STAMP"
  log "built minio $MINIO_VERSION in $((SECONDS - start)) s -> $MINIO_BIN"
  printf '%s\n' "$MINIO_BIN"
}

cmd_path() {
  installed || die "minio $MINIO_VERSION is not installed in $BIN_DIR; run: $0 install"
  printf '%s\n' "$MINIO_BIN"
}

# http_ok URL: true when URL answers 200
http_ok() {
  if command -v curl >/dev/null 2>&1; then
    [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" || true)" == 200 ]]
  else
    node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$1"
  fi
}

cmd_start() {
  cmd_install >/dev/null
  local port="${TSWREN_MINIO_PORT:-9000}"
  local console=$((port + 1))
  local pidfile="$RUN_DIR/minio.pid"
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    die "a minio started by this script is already running (pid $(cat "$pidfile")); run: $0 stop"
  fi
  rm -rf "$RUN_DIR"
  mkdir -p "$RUN_DIR/data" "$RUN_DIR/certs"
  chmod 700 "$RUN_DIR"
  local user pass
  user="tswren$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  pass="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  (
    umask 077
    printf 'export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n' "$user" "$pass" >"$RUN_DIR/credentials"
  )
  log "starting minio on 127.0.0.1:$port (data: $RUN_DIR/data, log: $RUN_DIR/minio.log)"
  env -u MINIO_ACCESS_KEY -u MINIO_SECRET_KEY \
    MINIO_ROOT_USER="$user" MINIO_ROOT_PASSWORD="$pass" MINIO_BROWSER=off MINIO_UPDATE=off \
    MINIO_SITE_REGION=us-east-1 MINIO_CI_CD=on \
    nohup "$MINIO_BIN" server --anonymous --address "127.0.0.1:$port" \
    --console-address "127.0.0.1:$console" --certs-dir "$RUN_DIR/certs" "$RUN_DIR/data" \
    </dev/null >"$RUN_DIR/minio.log" 2>&1 &
  echo $! >"$pidfile"
  local i
  for ((i = 0; i < 300; i++)); do
    if http_ok "http://127.0.0.1:$port/minio/health/live"; then
      log "minio is up (pid $(cat "$pidfile")); stop it with: $0 stop"
      printf 'export TSWREN_MINIO_ENDPOINT=http://127.0.0.1:%s\n' "$port"
      cat "$RUN_DIR/credentials"
      printf 'export AWS_REGION=us-east-1\n'
      return 0
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      tail -n 30 "$RUN_DIR/minio.log" >&2 || true
      die "minio exited during startup (log above: $RUN_DIR/minio.log)"
    fi
    sleep 0.2
  done
  tail -n 30 "$RUN_DIR/minio.log" >&2 || true
  kill "$(cat "$pidfile")" 2>/dev/null || true
  die "minio did not answer /minio/health/live within 60 s"
}

cmd_stop() {
  local pidfile="$RUN_DIR/minio.pid"
  if [[ ! -f "$pidfile" ]]; then
    log "no minio started by '$0 start' is recorded in $RUN_DIR"
    return 0
  fi
  local pid i
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    log "stopped minio (pid $pid)"
  fi
  rm -rf "$RUN_DIR"
}

case "${1:-}" in
install) cmd_install ;;
path) cmd_path ;;
version) printf '%s\n' "$MINIO_VERSION" ;;
start) cmd_start ;;
stop) cmd_stop ;;
supervise)
  shift
  exec bash "$(dirname "${BASH_SOURCE[0]}")/supervise.sh" "$@"
  ;;
*)
  printf 'usage: %s install|path|version|start|stop\n' "$0" >&2
  exit 2
  ;;
esac
