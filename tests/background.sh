# background.sh — sourced by the test scripts that run servers in the background (bolt-js/run.sh,
# qdrant-js/run.sh, mcp-js/run.sh, over_remote.sh): start a process logging to a file, wait for a line in that log,
# stop it with SIGTERM and check that it exits 0, and kill whatever is left when the script ends.
#
# The sourcing script sets WHO (its name, in messages), T (its scratch folder, where the logs go; bg_node_suite
# makes it), START_LIMIT and STOP_LIMIT (seconds), and calls bg_cleanup from its EXIT trap.

BG_PIDS=

# bg_node_suite MODULE...: for the suites of an official Node.js client. Exits 77 (ctest's SKIP_RETURN_CODE) when
# node is not installed, 1 when one of the npm packages MODULE is not in $HERE/node_modules; then makes T.
bg_node_suite() {
    if ! command -v node >/dev/null 2>&1; then
        echo "$WHO: SKIPPED: node is not installed (scripts/install-node-deps.sh installs it)"
        exit 77
    fi
    for bg_module in "$@"; do
        if [ ! -d "$HERE/node_modules/$bg_module" ]; then
            echo "$WHO: the npm package $bg_module is missing: run scripts/install-node-deps.sh" >&2
            exit 1
        fi
    done
    T=$(mktemp -d "${TMPDIR:-/tmp}/engram-$WHO.XXXXXX")
}

# bg_start NAME COMMAND...: runs COMMAND in the background, its output appended to $T/NAME.log. The log is made
# first: the shell opens a redirection in the child, which may run after the first read of the log (and under
# set -e a sed that cannot open it would end the script).
bg_start() {
    bg_name=$1
    shift
    : >"$T/$bg_name.log"
    "$@" >>"$T/$bg_name.log" 2>&1 &
    eval "BG_PID_$bg_name=\$!"
    BG_PIDS="$BG_PIDS $!"
}

# bg_wait NAME SED_SCRIPT: waits until `sed -n SED_SCRIPT` prints something from NAME's log, and sets MATCH to it.
# Exits 1, showing the log, when the process ends first or START_LIMIT seconds pass.
bg_wait() {
    eval "bg_pid=\$BG_PID_$1"
    MATCH=
    bg_waited=0
    while :; do
        MATCH=$(sed -n "$2" "$T/$1.log")
        [ -n "$MATCH" ] && return 0
        if ! kill -0 "$bg_pid" 2>/dev/null || [ $bg_waited -ge $((START_LIMIT * 10)) ]; then
            echo "$WHO: $1 did not start:" >&2
            sed 's/^/    | /' "$T/$1.log" >&2
            exit 1
        fi
        sleep 0.1
        bg_waited=$((bg_waited + 1))
    done
}

# bg_port NAME: waits for the port of NAME's first "listening on ... (port N)" line (engram serve's HTTP, or the
# recording proxy) and sets PORT to it.
bg_port() {
    bg_wait "$1" 's/.*listening on .*(port \([0-9][0-9]*\)).*/\1/p'
    PORT=$(echo "$MATCH" | head -n 1)
}

# bg_stop NAME: SIGTERM, then NAME must exit 0 within STOP_LIMIT seconds; otherwise says so with its log and
# returns non-zero (124 when it is still running).
bg_stop() {
    eval "bg_pid=\$BG_PID_$1"
    kill -TERM "$bg_pid"
    bg_waited=0
    while kill -0 "$bg_pid" 2>/dev/null && [ $bg_waited -lt $((STOP_LIMIT * 10)) ]; do
        sleep 0.1
        bg_waited=$((bg_waited + 1))
    done
    bg_rc=0
    if kill -0 "$bg_pid" 2>/dev/null; then
        echo "$WHO: $1 still running ${STOP_LIMIT} s after SIGTERM" >&2
        bg_rc=124
    else
        wait "$bg_pid" || bg_rc=$?
        [ $bg_rc -eq 0 ] || echo "$WHO: $1 exited $bg_rc after SIGTERM:" >&2
    fi
    if [ $bg_rc -ne 0 ]; then sed 's/^/    | /' "$T/$1.log" >&2; fi
    BG_PIDS=$(echo " $BG_PIDS " | sed "s/ $bg_pid / /") # reaped: its pid may be reused
    return $bg_rc
}

# bg_cleanup: kills every process bg_start started that is still running (a failed or interrupted run).
bg_cleanup() {
    for bg_pid in $BG_PIDS; do kill -KILL "$bg_pid" 2>/dev/null || :; done
}
