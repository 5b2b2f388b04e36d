#!/usr/bin/env bash
# Builds AWS's Lambda Runtime Interface Emulator (RIE) for tswren's test suite.
#
#   test/services/rie.sh install    build aws-lambda-rie once into the cache (prints the binary's path)
#   test/services/rie.sh path       print the binary's path (fails if not installed)
#   test/services/rie.sh version    print the pinned module version
#
# The RIE is the emulator AWS ships inside its Lambda base images. It comes from the Go module
# proxy (`go install`), never from a prebuilt download. Tagged versions (v1.23.0) answer 403 from
# the proxy here, so the pin is a pseudo-version of the repository's main branch.
# The emulators themselves are started by test/emulators/lambda (a pool of RIE processes, one
# invocation at a time each, behind a router with Lambda's invoke semantics).
#
# Environment:
#   TSWREN_SERVICES_DIR  cache root (default ~/.cache/tswren-services); binary in $DIR/bin
#
# Everything but the requested value goes to stderr; never reads stdin, never prompts.
set -euo pipefail

RIE_MODULE="github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"

SERVICES_DIR="${TSWREN_SERVICES_DIR:-${HOME:?HOME is not set; set TSWREN_SERVICES_DIR}/.cache/tswren-services}"
BIN_DIR="$SERVICES_DIR/bin"
RIE_BIN="$BIN_DIR/aws-lambda-rie"
STAMP="$BIN_DIR/aws-lambda-rie.version"

log() { printf '[rie.sh] %s\n' "$*" >&2; }
die() {
  printf '[rie.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

installed() {
  [[ -x "$RIE_BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$RIE_VERSION" ]]
}

cmd_install() {
  if installed; then
    printf '%s\n' "$RIE_BIN"
    return 0
  fi
  command -v go >/dev/null 2>&1 ||
    die "the Go toolchain is not on PATH; the RIE is built with 'go install $RIE_MODULE@$RIE_VERSION'"
  mkdir -p "$BIN_DIR"
  exec 9>"$SERVICES_DIR/rie.lock"
  if ! flock -n 9; then
    log "another process is building aws-lambda-rie; waiting for its lock"
    flock 9
  fi
  if installed; then
    printf '%s\n' "$RIE_BIN"
    return 0
  fi
  rm -rf "$BIN_DIR"/.rie-build.*
  local tmp_bin buildlog start rc
  tmp_bin="$(mktemp -d "$BIN_DIR/.rie-build.XXXXXX")"
  buildlog="$SERVICES_DIR/rie-build.log"
  log "building aws-lambda-rie $RIE_VERSION (about 15 s; log: $buildlog)"
  start=$SECONDS
  set +e
  GOBIN="$tmp_bin" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install "$RIE_MODULE@$RIE_VERSION" </dev/null >"$buildlog" 2>&1
  rc=$?
  set -e
  if [[ $rc -ne 0 || ! -x "$tmp_bin/aws-lambda-rie" ]]; then
    rm -rf "$tmp_bin"
    tail -n 40 "$buildlog" >&2 || true
    die "'go install $RIE_MODULE@$RIE_VERSION' failed (exit $rc); needs the Go module proxy (GOPROXY=$(go env GOPROXY)); full log: $buildlog"
  fi
  mv -f "$tmp_bin/aws-lambda-rie" "$RIE_BIN"
  rm -rf "$tmp_bin"
  printf '%s\n' "$RIE_VERSION" >"$STAMP.tmp"
  mv -f "$STAMP.tmp" "$STAMP"
  log "built aws-lambda-rie in $((SECONDS - start)) s -> $RIE_BIN"
  printf '%s\n' "$RIE_BIN"
}

case "${1:-}" in
install) cmd_install ;;
path)
  installed || die "aws-lambda-rie $RIE_VERSION is not installed in $BIN_DIR; run: $0 install"
  printf '%s\n' "$RIE_BIN"
  ;;
version) printf '%s\n' "$RIE_VERSION" ;;
*)
  printf 'usage: %s install|path|version\n' "$0" >&2
  exit 2
  ;;
esac
