#!/usr/bin/env bash
# Installs, runs and controls a real RabbitMQ broker for tswren's test suite.
#
#   test/services/rabbitmq.sh install   install Debian's rabbitmq-server (pinned) when missing
#   test/services/rabbitmq.sh version   print the pinned package version
#   test/services/rabbitmq.sh prepare DIR AMQP_PORT DIST_PORT EPMD_PORT [MAX_MESSAGE_BYTES]
#                                       write a node's config into DIR (a fresh, private folder)
#   test/services/rabbitmq.sh node DIR  run that node in the foreground: its own epmd and the
#                                       broker, both bound to 127.0.0.1 (run it under supervise.sh)
#   test/services/rabbitmq.sh ctl DIR ARGS...
#                                       rabbitmqctl against that node
#   test/services/rabbitmq.sh start     start one broker in the background on a free port, with a
#                                       per-run user and vhost (prints `export` lines)
#   test/services/rabbitmq.sh stop      stop the broker that `start` started, remove its data
#
# Every node is private: its own Erlang cookie (HOME=DIR), node name, epmd on its own port
# (ERL_EPMD_PORT, loopback only), distribution port and AMQP port on 127.0.0.1, no plugins, its
# database and logs inside DIR. The package comes from Debian's archive (apt-get, as root); the
# service the package would start is kept from starting (policy-rc.d).
#
# Environment:
#   TSWREN_SERVICES_DIR  run folder of `start` (default ~/.cache/tswren-services/rabbitmq-run)
#
# Progress and errors go to stderr; stdout carries only the requested value.
set -euo pipefail

RABBITMQ_PACKAGE="rabbitmq-server"
RABBITMQ_VERSION="3.10.8-1.1+deb12u1" # Debian 12 (bookworm) and its security updates
RMQ_BIN="/usr/lib/rabbitmq/bin"
SERVICES_DIR="${TSWREN_SERVICES_DIR:-${HOME:?HOME is not set; set TSWREN_SERVICES_DIR}/.cache/tswren-services}"
RUN_DIR="$SERVICES_DIR/rabbitmq-run"

log() { printf '[rabbitmq.sh] %s\n' "$*" >&2; }
die() {
  printf '[rabbitmq.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

installed_version() {
  dpkg-query -W -f '${Status} ${Version}\n' "$RABBITMQ_PACKAGE" 2>/dev/null | awk '$3 == "installed" { print $4 }'
}

cmd_install() {
  local have
  have="$(installed_version || true)"
  if [[ -n "$have" && -x "$RMQ_BIN/rabbitmq-server" ]]; then
    [[ "$have" == "$RABBITMQ_VERSION" ]] || log "note: $RABBITMQ_PACKAGE $have is installed (pinned: $RABBITMQ_VERSION); using it"
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "$RABBITMQ_PACKAGE is not installed and installing it needs root: run 'apt-get install $RABBITMQ_PACKAGE=$RABBITMQ_VERSION' as root"
  command -v apt-get >/dev/null 2>&1 || die "$RABBITMQ_PACKAGE is not installed and this is not a Debian system (no apt-get)"
  exec 9>/tmp/tswren-rabbitmq-install.lock
  flock 9 # one installer at a time
  if [[ -n "$(installed_version || true)" ]]; then return 0; fi
  # Keep the package's own service (bound to every interface) from starting.
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    added=1
  fi
  local start=$SECONDS rc=0
  log "installing $RABBITMQ_PACKAGE=$RABBITMQ_VERSION from Debian (apt-get update first)"
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$RABBITMQ_PACKAGE=$RABBITMQ_VERSION"
  } </dev/null >/tmp/tswren-rabbitmq-install.log 2>&1 || rc=$?
  [[ $added == 1 ]] && rm -f "$policy"
  if [[ $rc -ne 0 ]]; then
    tail -n 30 /tmp/tswren-rabbitmq-install.log >&2 || true
    die "apt-get install $RABBITMQ_PACKAGE=$RABBITMQ_VERSION failed (exit $rc); log: /tmp/tswren-rabbitmq-install.log"
  fi
  log "installed $RABBITMQ_PACKAGE in $((SECONDS - start)) s"
}

# prepare DIR AMQP_PORT DIST_PORT EPMD_PORT [MAX_MESSAGE_BYTES]
cmd_prepare() {
  [[ $# -ge 4 ]] || die "usage: $0 prepare DIR AMQP_PORT DIST_PORT EPMD_PORT [MAX_MESSAGE_BYTES]"
  local dir="$1" amqp="$2" dist="$3" epmd="$4" maxmsg="${5:-}"
  mkdir -p "$dir/mnesia" "$dir/log"
  chmod 700 "$dir"
  {
    printf 'listeners.tcp.default = 127.0.0.1:%s\n' "$amqp"
    printf 'log.console = true\nlog.console.level = warning\nlog.file = false\n'
    if [[ -n "$maxmsg" ]]; then printf 'max_message_size = %s\n' "$maxmsg"; fi
  } >"$dir/rabbitmq.conf"
  printf '[].\n' >"$dir/enabled_plugins"
  : >"$dir/rabbitmq-env.conf"
  od -An -N20 -tx1 /dev/urandom | tr -d ' \n' >"$dir/.erlang.cookie"
  chmod 400 "$dir/.erlang.cookie"
  local node
  node="tswren-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')@localhost"
  cat >"$dir/node.env" <<ENV
export HOME='$dir'
export RABBITMQ_CONF_ENV_FILE='$dir/rabbitmq-env.conf'
export RABBITMQ_NODENAME='$node'
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT='$amqp'
export RABBITMQ_DIST_PORT='$dist'
export ERL_EPMD_PORT='$epmd'
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_MNESIA_BASE='$dir/mnesia'
export RABBITMQ_LOG_BASE='$dir/log'
export RABBITMQ_CONFIG_FILE='$dir/rabbitmq.conf'
export RABBITMQ_ENABLED_PLUGINS_FILE='$dir/enabled_plugins'
export RABBITMQ_PLUGINS_EXPAND_DIR='$dir/plugins-expand'
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}'
export RABBITMQ_CTL_ERL_ARGS='-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}'
ENV
}

load_env() {
  [[ -f "$1/node.env" ]] || die "$1 has no node.env; run: $0 prepare $1 ..."
  # shellcheck disable=SC1091
  . "$1/node.env"
}

# node DIR: epmd and the broker in the foreground; ends (and stops both) on SIGTERM
cmd_node() {
  load_env "$1"
  epmd -port "$ERL_EPMD_PORT" -address 127.0.0.1 &
  local epmd_pid=$!
  "$RMQ_BIN/rabbitmq-server" &
  local server_pid=$!
  trap 'kill -TERM "$server_pid" 2>/dev/null || true' TERM INT HUP
  local rc=0
  while :; do
    rc=0
    wait "$server_pid" || rc=$?
    kill -0 "$server_pid" 2>/dev/null || break
  done
  kill -TERM "$epmd_pid" 2>/dev/null || true
  exit "$rc"
}

# ctl DIR ARGS...
cmd_ctl() {
  load_env "$1"
  shift
  exec "$RMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" "$@"
}

# wait_up DIR PID: until the broker answers (or its process is gone)
wait_up() {
  local i
  for ((i = 0; i < 240; i++)); do
    kill -0 "$2" 2>/dev/null || return 1
    if (cmd_ctl "$1" await_startup --timeout 30) >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  return 1
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

cmd_start() {
  cmd_install
  local pidfile="$RUN_DIR/node.pid"
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    die "a broker started by this script is already running (pid $(cat "$pidfile")); run: $0 stop"
  fi
  rm -rf "$RUN_DIR"
  local amqp dist epmd
  amqp="$(free_port)" dist="$(free_port)" epmd="$(free_port)"
  cmd_prepare "$RUN_DIR" "$amqp" "$dist" "$epmd"
  log "starting rabbitmq on 127.0.0.1:$amqp (data and log: $RUN_DIR)"
  setsid bash "$0" node "$RUN_DIR" </dev/null >"$RUN_DIR/node.log" 2>&1 &
  echo $! >"$pidfile"
  if ! wait_up "$RUN_DIR" "$(cat "$pidfile")"; then
    tail -n 30 "$RUN_DIR/node.log" >&2 || true
    cmd_stop
    die "rabbitmq did not start (log above)"
  fi
  local user pass vhost
  user="tswren$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  pass="$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')"
  vhost="tswren-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  (cmd_ctl "$RUN_DIR" add_vhost "$vhost") >&2
  (cmd_ctl "$RUN_DIR" add_user "$user" "$pass") >/dev/null
  (cmd_ctl "$RUN_DIR" set_permissions -p "$vhost" "$user" '.*' '.*' '.*') >&2
  (cmd_ctl "$RUN_DIR" delete_user guest) >&2
  log "rabbitmq is up; stop it with: $0 stop"
  printf 'export TSWREN_AMQP_URL=amqp://%s:%s@127.0.0.1:%s/%s\n' "$user" "$pass" "$amqp" "$vhost"
}

cmd_stop() {
  local pidfile="$RUN_DIR/node.pid"
  if [[ ! -f "$pidfile" ]]; then
    log "no broker started by '$0 start' is recorded in $RUN_DIR"
    return 0
  fi
  local pid i
  pid="$(cat "$pidfile")"
  kill -TERM -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -rf "$RUN_DIR"
  log "stopped rabbitmq (process group $pid)"
}

case "${1:-}" in
install) cmd_install ;;
version) printf '%s\n' "$RABBITMQ_VERSION" ;;
prepare)
  shift
  cmd_prepare "$@"
  ;;
node)
  shift
  cmd_node "$@"
  ;;
ctl)
  shift
  cmd_ctl "$@"
  ;;
start) cmd_start ;;
stop) cmd_stop ;;
*)
  printf 'usage: %s install|version|prepare|node|ctl|start|stop\n' "$0" >&2
  exit 2
  ;;
esac
