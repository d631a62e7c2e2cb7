#!/bin/sh
# Run a one-off task (here: a database migration) only once the mesh proxy next
# to it is ready, and give up after a deadline instead of hanging forever.
#
# linkerd-await without a command waits for the proxy, then exits 0; with
# --timeout it exits 69 once the deadline passes (and 143 on SIGTERM), so the
# task never runs without the proxy and the caller sees why.
#
# Usage: wait-then-migrate.sh [TASK-ARGS...]
#   PROXY_TIMEOUT  how long to wait for the proxy (default: 2m)
#   MIGRATE        the task to run (default: ./migrate)
# Every LINKERD_AWAIT_* variable (e.g. LINKERD_AWAIT_PORT) still applies.
set -eu

timeout="${PROXY_TIMEOUT:-2m}"
migrate="${MIGRATE:-./migrate}"

status=0
linkerd-await --timeout "$timeout" || status=$?
if [ "$status" -ne 0 ]; then
    echo "wait-then-migrate: the proxy was not ready (linkerd-await exited $status); not running $migrate" >&2
    exit "$status"
fi

# The proxy is ready: the task replaces this shell (same PID, signals reach it).
exec "$migrate" "$@"
