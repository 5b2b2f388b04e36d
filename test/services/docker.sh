#!/usr/bin/env bash
# Installs and runs a private Docker engine for tswren's test suite, and builds its test image.
#
#   test/services/docker.sh install   install Debian's docker.io (pinned) when dockerd is missing
#   test/services/docker.sh version   print the pinned package version
#   test/services/docker.sh start     start the private dockerd when it is not running (prints
#                                     `export DOCKER_HOST=...`); a running one is reused
#   test/services/docker.sh stop      stop that dockerd by its pid (its containers end with it)
#   test/services/docker.sh host      print its DOCKER_HOST (unix://.../docker.sock)
#   test/services/docker.sh image [RUNTIME_DIR]
#                                     import the test image (node + its libraries + /bin/sh +
#                                     the tswren runtime from RUNTIME_DIR) unless an image with
#                                     the same inputs exists; prints the image name
#
# The engine is private: its own socket, data, exec root and pid file under
# $TSWREN_SERVICES_DIR/docker, `--bridge=none --iptables=false --ip6tables=false` (host networking
# is never touched; containers use `--network host` or `none`). No registry is used: the test image
# is a root filesystem of local files piped into `docker import`. Needs root (dockerd) and, when
# docker.io is missing, apt-get.
#
# Environment:
#   TSWREN_SERVICES_DIR  cache folder (default ~/.cache/tswren-services)
#
# Progress and errors go to stderr; stdout carries only the requested value.
set -euo pipefail

DOCKER_PACKAGE="docker.io"
DOCKER_VERSION="20.10.24+dfsg1-1+deb12u1+b6" # Debian 12 (bookworm)
SERVICES_DIR="${TSWREN_SERVICES_DIR:-${HOME:?HOME is not set; set TSWREN_SERVICES_DIR}/.cache/tswren-services}"
RUN_DIR="$SERVICES_DIR/docker"
SOCKET="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
DOCKERD=/usr/sbin/dockerd
DOCKER_CLI=/usr/bin/docker

log() { printf '[docker.sh] %s\n' "$*" >&2; }
die() {
  printf '[docker.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

installed_version() {
  dpkg-query -W -f '${Status} ${Version}\n' "$DOCKER_PACKAGE" 2>/dev/null | awk '$3 == "installed" { print $4 }'
}

cmd_install() {
  if [[ -x "$DOCKERD" && -x "$DOCKER_CLI" ]]; then
    local have
    have="$(installed_version || true)"
    [[ -z "$have" || "$have" == "$DOCKER_VERSION" ]] || log "note: $DOCKER_PACKAGE $have is installed (pinned: $DOCKER_VERSION); using it"
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "dockerd is not installed and installing it needs root: run 'apt-get install --no-install-recommends $DOCKER_PACKAGE=$DOCKER_VERSION' as root"
  command -v apt-get >/dev/null 2>&1 || die "dockerd is not installed and this is not a Debian system (no apt-get)"
  exec 9>/tmp/tswren-docker-install.lock
  flock 9 # one installer at a time
  if [[ -x "$DOCKERD" && -x "$DOCKER_CLI" ]]; then return 0; fi
  # Keep the package's own service (the system-wide engine) from starting.
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    added=1
  fi
  local start=$SECONDS rc=0
  log "installing $DOCKER_PACKAGE=$DOCKER_VERSION from Debian (apt-get update first)"
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$DOCKER_PACKAGE=$DOCKER_VERSION"
  } </dev/null >/tmp/tswren-docker-install.log 2>&1 || rc=$?
  [[ $added == 1 ]] && rm -f "$policy"
  if [[ $rc -ne 0 ]]; then
    tail -n 30 /tmp/tswren-docker-install.log >&2 || true
    die "apt-get install $DOCKER_PACKAGE=$DOCKER_VERSION failed (exit $rc); log: /tmp/tswren-docker-install.log"
  fi
  log "installed $DOCKER_PACKAGE in $((SECONDS - start)) s"
}

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
}

engine_answers() {
  DOCKER_HOST="unix://$SOCKET" "$DOCKER_CLI" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

cmd_start() {
  cmd_install
  [[ "$(id -u)" == 0 ]] || die "dockerd needs root here (run the tests as root, as CI does)"
  mkdir -p "$RUN_DIR"
  exec 8>"$RUN_DIR/start.lock"
  flock 8 # one starter at a time
  local pid
  if pid="$(running_pid)" && engine_answers; then
    log "dockerd is already running (pid $pid)"
    printf 'export DOCKER_HOST=unix://%s\n' "$SOCKET"
    return 0
  fi
  rm -f "$SOCKET" "$PIDFILE"
  mkdir -p "$RUN_DIR/data" "$RUN_DIR/exec"
  log "starting dockerd on unix://$SOCKET (data: $RUN_DIR/data)"
  setsid "$DOCKERD" --host "unix://$SOCKET" --data-root "$RUN_DIR/data" --exec-root "$RUN_DIR/exec" \
    --pidfile "$PIDFILE" --bridge=none --iptables=false --ip6tables=false --log-level=warn \
    </dev/null >"$RUN_DIR/dockerd.log" 2>&1 8>&- 9>&- &
  local launched=$! i
  for ((i = 0; i < 300; i++)); do
    if engine_answers; then
      log "dockerd is up (pid $launched); stop it with: $0 stop"
      printf 'export DOCKER_HOST=unix://%s\n' "$SOCKET"
      return 0
    fi
    kill -0 "$launched" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 30 "$RUN_DIR/dockerd.log" >&2 || true
  kill -TERM "$launched" 2>/dev/null || true
  die "dockerd did not start (log above: $RUN_DIR/dockerd.log)"
}

cmd_stop() {
  local pid i
  if ! pid="$(running_pid)"; then
    log "no dockerd started by '$0 start' is running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "dockerd (pid $pid) did not stop within 20 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE" "$SOCKET"
  log "dockerd stopped"
}

# image [RUNTIME_DIR]: the test image, named after a hash of its inputs
cmd_image() {
  local runtime_dir="${1:-}"
  command -v node >/dev/null 2>&1 || die "node is not on PATH"
  local node_bin sh_bin
  node_bin="$(readlink -f "$(command -v node)")"
  sh_bin="$(readlink -f /bin/sh)"
  local libs
  libs="$(for f in "$node_bin" "$sh_bin"; do ldd "$f"; done | awk '/=>/ { print $3 } /^[[:space:]]*\/[^ ]+ \(/ { print $1 }' | grep '^/' | sort -u)"
  local files=("$node_bin" "$sh_bin" $libs)
  local key
  key="$({
    for f in "${files[@]}"; do printf '%s ' "$f"; stat -L -c '%s %Y' "$f"; done
    if [[ -n "$runtime_dir" ]]; then (cd "$runtime_dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum); fi
    printf 'v1\n'
  } | sha256sum | cut -c1-16)"
  local name="tswren-test-node:$key"
  export DOCKER_HOST="unix://$SOCKET"
  if "$DOCKER_CLI" image inspect "$name" >/dev/null 2>&1; then
    printf '%s\n' "$name"
    return 0
  fi
  local root
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' RETURN
  mkdir -p "$root/bin" "$root/usr/local/bin" "$root/tmp" "$root/opt/tswren/runtime" "$root/etc"
  chmod 1777 "$root/tmp"
  for f in "${files[@]}"; do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
  done
  [[ "$node_bin" == /usr/local/bin/node ]] || ln -s "$node_bin" "$root/usr/local/bin/node"
  [[ "$sh_bin" == /bin/sh ]] || ln -sf "$sh_bin" "$root/bin/sh"
  # ldd may name the loader through /lib64 or /lib; keep both paths working
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  if [[ -n "$runtime_dir" ]]; then cp -r "$runtime_dir"/. "$root/opt/tswren/runtime/"; fi
  local start=$SECONDS
  tar -C "$root" -c . | "$DOCKER_CLI" import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'LABEL tswren.test-image=1' - "$name" >/dev/null
  log "imported $name in $((SECONDS - start)) s"
  printf '%s\n' "$name"
}

cmd="${1:-}"
shift || true
case "$cmd" in
install) cmd_install ;;
version) printf '%s\n' "$DOCKER_VERSION" ;;
start) cmd_start ;;
stop) cmd_stop ;;
host) printf 'unix://%s\n' "$SOCKET" ;;
image) cmd_image "$@" ;;
*) die "usage: $0 install|version|start|stop|host|image [RUNTIME_DIR]" ;;
esac
