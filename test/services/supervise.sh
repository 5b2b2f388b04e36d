#!/usr/bin/env bash
# Runs a test service so that it never outlives the test process that started it.
#
#   test/services/supervise.sh DIR -- COMMAND [ARGS...]
#
# COMMAND runs in a session (and process group) of its own. This script's stdin is the parent's
# pipe: when it reaches EOF (the parent closed it, or died in any way, SIGKILL included), the
# whole group gets SIGTERM, then SIGKILL after 5 s. When COMMAND ends, whatever it left in its
# group (helper daemons such as Erlang's epmd) is killed too, and DIR is removed. SIGTERM, SIGINT
# or SIGHUP to this script stop the group the same way. Exits with COMMAND's status.
set -euo pipefail

die() {
  printf '[supervise.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

[[ $# -ge 3 && "$2" == "--" ]] || die "usage: $0 DIR -- COMMAND [ARGS...]"
dir="$1"
shift 2
command -v setsid >/dev/null 2>&1 || die "setsid (util-linux) is required"

# stop_group PID: SIGTERM to the group led by PID, SIGKILL to what is left after 5 s
stop_group() {
  kill -TERM -- "-$1" 2>/dev/null || return 0
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 -- "-$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$1" 2>/dev/null || true
}

exec 3<&0 # the parent's pipe
setsid "$@" </dev/null 3<&- &
pid=$!
(
  while read -r -u 3 _; do :; done
  stop_group "$pid"
) &
watcher=$!
exec 3<&- 0</dev/null
trap 'stop_group "$pid"' TERM INT HUP
rc=0
while :; do
  rc=0
  wait "$pid" || rc=$?
  kill -0 "$pid" 2>/dev/null || break
done
stop_group "$pid"
kill "$watcher" 2>/dev/null || true
rm -rf "$dir"
exit "$rc"
