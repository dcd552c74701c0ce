#!/bin/sh
# cli_test.sh — drives the `engram` command as a user would: help at every level, usage errors (exit 2), the exec
# JSON-lines loop (one flushed response per line, a line past the request limit), the default data folder, the
# human subcommands, the memory commands (remember, recall, check, recover), the cold archive (archive run, list,
# get, restore, purge, verify), the one-process lock, the FORMAT guard, settings (--set, DATA/engram.conf, config)
# and health (breakers, degraded verdicts, the fallback read cache, under injected faults), `engram serve` (help,
# usage errors, refused addresses, the lock, SIGTERM) and the client mode (--url) against a running engram serve.
# Usage: sh tests/cli_test.sh PATH_TO_ENGRAM
# Prints each failure (what was expected and what came), then one line "N passed, N failed"; exits 1 on failure.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: sh tests/cli_test.sh PATH_TO_ENGRAM" >&2
    exit 2
fi
ENGRAM=$1
case $ENGRAM in /*) ;; *) ENGRAM=$(pwd)/$ENGRAM ;; esac
if [ ! -x "$ENGRAM" ]; then
    echo "cli_test: $ENGRAM is not an executable" >&2
    exit 2
fi
unset ENGRAM_DATA # the caller's setting must not leak into the tests

LIMIT=20 # seconds any one engram process may run; nothing in this script can hang longer
T=$(mktemp -d "${TMPDIR:-/tmp}/engram-cli-test.XXXXXX")
BG_PID=
cleanup() {
    if [ -n "$BG_PID" ]; then kill "$BG_PID" 2>/dev/null || :; fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap '' PIPE # a write to a fifo whose reader died must fail (and be reported), not kill the script

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); }
# fail NAME LINE...: counts a failure and prints its name and the detail lines.
fail() {
    FAILED=$((FAILED + 1))
    printf 'FAIL: %s\n' "$1"
    shift
    for line in "$@"; do printf '    %s\n' "$line"; done
}
# show FILE: the file's content, indented, for failure messages ("(empty)" if none).
show() {
    if [ -s "$1" ]; then sed 's/^/      | /' "$1"; else echo "      (empty)"; fi
}
detail() { # the last command's exit status, stdout and stderr
    echo "    exit status: $RC"
    echo "    stdout:"
    show "$T/out"
    echo "    stderr:"
    show "$T/err"
}

# run CMD...: runs a command with stdin from /dev/null; sets RC, stdout in $T/out, stderr in $T/err.
run() {
    RC=0
    "$@" <"$T/empty" >"$T/out" 2>"$T/err" || RC=$?
}
# eg ARGS...: the engram command under a time limit.
eg() { timeout "$LIMIT" "$ENGRAM" "$@"; }

# expect_rc NAME WANT: checks the last command's exit status.
expect_rc() {
    if [ "$RC" -eq "$2" ]; then pass; else
        fail "$1: exit status: expected $2, got $RC"
        detail
    fi
}
# expect_in NAME FILE ERE [-i]: checks that FILE has a line matching the extended regular expression.
expect_in() {
    # shellcheck disable=SC2086 # ${4:-} is an optional flag (-i), absent when empty
    if grep -E ${4:-} -q -- "$3" "$2"; then pass; else
        fail "$1: expected $(basename "$2") to match /$3/"
        detail
    fi
}
expect_not_in() {
    if grep -E -q -- "$3" "$2"; then
        fail "$1: expected $(basename "$2") not to match /$3/"
        detail
    else pass; fi
}
expect_empty() {
    if [ -s "$2" ]; then
        fail "$1: expected $(basename "$2") to be empty"
        detail
    else pass; fi
}
expect_exists() {
    if [ -e "$2" ]; then pass; else fail "$1: expected $2 to exist" "it does not"; fi
}
expect_absent() {
    if [ -e "$2" ]; then fail "$1: expected $2 not to exist" "it does"; else pass; fi
}
# expect_line NAME FILE N ERE: checks that line N of FILE matches.
expect_line() {
    got=$(sed -n "${3}p" "$2")
    if printf '%s\n' "$got" | grep -E -q -- "$4"; then pass; else
        fail "$1: line $3: expected a match for /$4/" "got: $got"
    fi
}

: >"$T/empty"
mkdir "$T/cwd" # scratch working directory: nothing below may create ./engram-data unless asked to
cd "$T/cwd"

# ---------------------------------------------------------------------------------------------------------------
# --help at every level: exit 0, usage on stdout, nothing opened.
for args in "--help" "-h" "exec --help" "node --help" "node show --help" "node rels --help" "path --help" \
    "stats --help" "remember --help" "remember some text --help" "recall --help" "check --help" "recover --help" \
    "config --help" "health --help" "archive --help" "archive run --help" "archive list --help" \
    "archive get x --help" "archive purge --help" "archive verify --help"; do
    # shellcheck disable=SC2086 # word splitting of args is intended
    run eg $args
    expect_rc "engram $args" 0
    expect_in "engram $args" "$T/out" "usage" -i
    expect_empty "engram $args: stderr" "$T/err"
done
expect_absent "--help does not create a data folder" "$T/cwd/engram-data"
run eg --version
expect_rc "engram --version" 0
expect_in "engram --version" "$T/out" "^engram .*format"

# ---------------------------------------------------------------------------------------------------------------
# Usage errors: exit 2 with a message on stderr and nothing on stdout.
usage_error() { # NAME ARGS...
    name=$1
    shift
    run eg "$@"
    expect_rc "usage error, $name" 2
    expect_in "usage error, $name: a message on stderr" "$T/err" "."
    expect_empty "usage error, $name: stdout" "$T/out"
}
U=$T/usage-data # never created: a usage error must not touch the data folder
usage_error "no command"
usage_error "only options, no command" --data "$U"
usage_error "unknown command" --data "$U" frobnicate
usage_error "unknown option" --bogus stats
usage_error "--data without a value" --data
usage_error "exec with an argument" --data "$U" exec extra
usage_error "node without a subcommand" --data "$U" node
usage_error "node with an unknown subcommand" --data "$U" node frob x
usage_error "node show without an id" --data "$U" node show
usage_error "node show with an unknown option" --data "$U" node show x --bogus y
usage_error "node rels --type without a value" --data "$U" node rels x --type
usage_error "path with one argument" --data "$U" path a
usage_error "path a b --max-depth x" --data "$U" path a b --max-depth x
usage_error "path a b --max-depth without a value" --data "$U" path a b --max-depth
usage_error "stats extra" --data "$U" stats extra
usage_error "--data with an empty value" --data "" stats
usage_error "remember without TEXT" --data "$U" remember
usage_error "remember with two texts" --data "$U" remember one two
usage_error "remember with an unknown option" --data "$U" remember x --bogus
usage_error "remember --type thing" --data "$U" remember x --type thing
usage_error "remember --type without a value" --data "$U" remember x --type
usage_error "remember --id that is no point id" --data "$U" remember x --id not-an-id
usage_error "remember --dim 0" --data "$U" remember x --dim 0
usage_error "remember --relate without a colon" --data "$U" remember x --relate USES
usage_error "remember --relate without a target" --data "$U" remember x --relate USES:
usage_error "remember --relate without a type" --data "$U" remember x --relate :e1
usage_error "remember --relate with a malformed type" --data "$U" remember x --relate KNOWS-OF:e1
usage_error "remember --type given twice" --data "$U" remember x --type entity --type entity
usage_error "remember with a TEXT that is not UTF-8" --data "$U" remember "$(printf 'caf\351')"
usage_error "remember --relate with a target that is not UTF-8" --data "$U" remember x --relate "USES:$(printf '\377')"
usage_error "recall without TEXT" --data "$U" recall
usage_error "recall with an unknown option" --data "$U" recall x --repair
usage_error "recall --type thing" --data "$U" recall x --type thing
usage_error "recall --expand 3" --data "$U" recall x --expand 3
usage_error "recall --expand -1" --data "$U" recall x --expand -1
usage_error "recall --limit 0" --data "$U" recall x --limit 0
usage_error "recall --limit x" --data "$U" recall x --limit x
usage_error "recall --relate (a remember option)" --data "$U" recall x --relate USES:e1
usage_error "check with an argument" --data "$U" check x
usage_error "check with an unknown option" --data "$U" check --bogus
usage_error "recover --repair" --data "$U" recover --repair
usage_error "recover with an argument" --data "$U" recover x
usage_error "archive without a subcommand" --data "$U" archive
usage_error "archive with an unknown subcommand" --data "$U" archive frob
usage_error "archive get without an ID" --data "$U" archive get
usage_error "archive restore without an ID" --data "$U" archive restore
usage_error "archive restore with two IDs" --data "$U" archive restore a b
usage_error "archive restore --json" --data "$U" archive restore a --json
usage_error "archive purge with an ID and --older-than" --data "$U" archive purge a --older-than 40d
usage_error "archive run without --older-than" --data "$U" archive run
usage_error "archive run --older-than 30x" --data "$U" archive run --older-than 30x
usage_error "archive run --older-than -1d" --data "$U" archive run --older-than -1d
usage_error "archive run --older-than 1.5d" --data "$U" archive run --older-than 1.5d
usage_error "archive run --type thing" --data "$U" archive run --older-than 30d --type thing
usage_error "archive run --limit 0" --data "$U" archive run --older-than 30d --limit 0
usage_error "archive run --field ''" --data "$U" archive run --older-than 30d --field ""
usage_error "archive list --limit x" --data "$U" archive list --limit x
usage_error "archive list --limit 10001" --data "$U" archive list --limit 10001
usage_error "archive list --type thing" --data "$U" archive list --type thing
usage_error "archive purge --older-than 12h (less than a day)" --data "$U" archive purge --older-than 12h
usage_error "archive verify with an argument" --data "$U" archive verify x
expect_absent "usage errors create no data folder" "$U"
run eg frobnicate
expect_in "unknown command: the message names it" "$T/err" "frobnicate"
run eg --bogus stats
expect_in "unknown option: the message names it" "$T/err" "--bogus"
run eg --data "$U" remember x --bogus
expect_in "remember, unknown option: the message names it" "$T/err" "--bogus"
run eg --data "$U" recall x --expand 3
expect_in "recall --expand 3: the message names the option" "$T/err" "--expand"
run eg --data "$U" remember x --relate USES
expect_in "remember --relate USES: the message shows the form" "$T/err" "TYPE:TARGET_ID"
run eg --data "$U" archive run --older-than 30x
expect_in "archive run --older-than 30x: the message shows the forms" "$T/err" "30d, 12h, 90m or 45s, got '30x'"
run eg --data "$U" archive frob
expect_in "archive frob: the message names it" "$T/err" "unknown subcommand 'frob'"
run eg --help
expect_in "engram --help lists archive" "$T/out" '^  archive '
run eg archive --help
for sub in run list get restore purge verify; do
    expect_in "archive --help lists $sub" "$T/out" "^(usage:|      ) engram archive $sub"
done

# ---------------------------------------------------------------------------------------------------------------
# exec: a session on stdin. Blank and whitespace-only lines are skipped; every other line gets one JSON object.
D=$T/db
{
    echo '{"op":"create_node","label":"Episode","id":"ep1","properties":{"summary":"fixed the build"}}'
    echo '{"op":"create_node","label":"Entity","id":"cmake","properties":{"name":"CMake"}}'
    echo ''
    echo '{"op":"create_node","label":"Procedure","id":"pr1","properties":{"steps":"run cmake"}}'
    echo '{"op":"create_node","label":"Entity","id":"lonely"}'
    echo '   '
    echo '{"op":"create_relationship","source_id":"ep1","target_id":"cmake","type":"USES","properties":{"note":"v3"}}'
    echo '{"op":"create_relationship","source_id":"pr1","target_id":"cmake","type":"REQUIRES"}'
    echo 'this is not json {'
    echo '{"op":"get_node","id":"cmake"}'
    echo '{"op":"find_path","source_id":"ep1","target_id":"pr1"}'
    echo '{"op":"get_relationships","id":"cmake"}'
    printf '{"op":"count_nodes","label":"Entity"}\r\n'
    echo '{"op":"stats"}'
    echo '{"op":"cypher","statement":"MATCH (:Episode)-[:USES]->(t) RETURN t.name AS tool"}'
} >"$T/session.in"
RC=0
eg --data "$D" exec <"$T/session.in" >"$T/out" 2>"$T/err" || RC=$?
cp "$T/out" "$T/session.out"
expect_rc "exec session" 0
expect_empty "exec session: stderr" "$T/err"
want=$(grep -c '[^[:space:]]' "$T/session.in")
got=$(grep -c '' "$T/session.out" || :)
if [ "$got" -eq "$want" ]; then pass; else
    fail "exec session: expected one output line per non-blank input line ($want), got $got"
    detail
fi
if grep -v -q -E '^\{.*\}$' "$T/session.out"; then
    fail "exec session: every output line should be a JSON object" "offending lines:"
    grep -v -E '^\{.*\}$' "$T/session.out" | sed 's/^/      | /'
else pass; fi
for n in 1 2 3 4 5 6 8 9 10 11 12 13; do
    expect_line "exec session: response $n is a success" "$T/session.out" "$n" '^\{"ok":true,'
done
expect_line "exec: malformed line gets an error" "$T/session.out" 7 '"ok":false'
expect_line "exec: malformed line's code" "$T/session.out" 7 '"code":"invalid_argument"'
expect_line "exec: create_node returns the id" "$T/session.out" 1 '"result":\{"id":"ep1"\}'
expect_line "exec: get_node after the bad line" "$T/session.out" 8 '"label":"Entity"'
expect_line "exec: get_node properties" "$T/session.out" 8 '"name":"CMake"'
expect_line "exec: find_path length" "$T/session.out" 9 '"length":2'
expect_line "exec: find_path goes through cmake" "$T/session.out" 9 '"id":"cmake"'
expect_line "exec: get_relationships sees USES" "$T/session.out" 10 '"type":"USES"'
expect_line "exec: get_relationships sees REQUIRES" "$T/session.out" 10 '"type":"REQUIRES"'
expect_line "exec: a CRLF line is accepted" "$T/session.out" 11 '^\{"ok":true,"result":2\}$'
expect_line "exec: stats nodes" "$T/session.out" 12 '"nodes":4'
expect_line "exec: stats per label" "$T/session.out" 12 '"Episode":1,"Entity":2,"Procedure":1'
expect_line "exec: stats relationships" "$T/session.out" 12 '"relationships":2'
expect_line "exec: cypher reads the graph" "$T/session.out" 13 '"result":\{"fields":\["tool"\],"records":\[\["CMake"\]\]'

# Errors of the operation itself (not of the line) are results too, and exec still exits 0.
printf '%s\n' '{"op":"get_node","id":"nosuch"}' '{"op":"frobnicate"}' '[1,2]' \
    '{"op":"create_node","label":"Thing","id":"t1"}' '{"op":"count_nodes"}' >"$T/errs.in"
RC=0
eg --data "$D" exec <"$T/errs.in" >"$T/out" 2>"$T/err" || RC=$?
expect_rc "exec with failing operations" 0
expect_line "exec: missing node" "$T/out" 1 '^\{"ok":false,.*"code":"not_found"'
expect_line "exec: unknown op" "$T/out" 2 '^\{"ok":false,.*"code":"invalid_argument"'
expect_line "exec: a JSON array" "$T/out" 3 '^\{"ok":false,.*"code":"invalid_argument"'
expect_line "exec: unknown label" "$T/out" 4 '^\{"ok":false,.*"code":"invalid_argument"'
expect_line "exec: nothing was created by the failures" "$T/out" 5 '^\{"ok":true,"result":4\}$'

# Responses are flushed per line: write one line, read its response, only then write the next. engram runs under
# a time limit, so if a response were stuck in a buffer the read ends (at EOF) instead of hanging.
mkfifo "$T/flush.in" "$T/flush.out"
timeout 10 "$ENGRAM" --data "$D" exec <"$T/flush.in" >"$T/flush.out" 2>"$T/flush.err" &
BG_PID=$!
exec 3>"$T/flush.in" 4<"$T/flush.out" # same order as the child opens them
for q in '{"op":"get_node","id":"ep1"}|"id":"ep1"' 'garbage|"code":"invalid_argument"' \
    '{"op":"count_nodes","label":"Procedure"}|{"ok":true,"result":1}'; do
    request=${q%%|*}
    want=${q#*|}
    echo "$request" >&3 2>/dev/null || :
    IFS= read -r resp <&4 || resp="(end of output, no full line) $resp"
    if printf '%s\n' "$resp" | grep -F -q -- "$want"; then pass; else
        fail "exec flushes each response: after writing $request, expected a line containing $want" "got: $resp"
        break
    fi
done
exec 3>&-
rest=$(cat <&4)
exec 4<&-
RC=0
wait "$BG_PID" || RC=$?
BG_PID=
if [ "$RC" -eq 0 ] && [ -z "$rest" ]; then pass; else
    fail "exec over a fifo: expected exit 0 at end of input and no extra output" "exit status: $RC" "extra output: $rest" \
        "stderr: $(cat "$T/flush.err")"
fi

# A line past the 64 MiB request limit (here 80 MiB, with no newline until its end) gets an error result and the
# next line still runs.
{
    printf '{"op":"create_node","label":"Entity","id":"huge","properties":{"pad":"'
    head -c 83886080 /dev/zero | tr '\0' a
    printf '"}}\n{"op":"count_nodes","label":"Entity"}\n'
} >"$T/long.in"
RC=0
eg --data "$D" exec <"$T/long.in" >"$T/out" 2>"$T/err" || RC=$?
expect_rc "exec with an 80 MiB line" 0
expect_line "exec: an 80 MiB line is refused" "$T/out" 1 '"code":"invalid_argument".*limit of 67108864 bytes'
expect_line "exec: the line after it runs, and nothing was created" "$T/out" 2 '^\{"ok":true,"result":2\}$'
rm -f "$T/long.in"

# ---------------------------------------------------------------------------------------------------------------
# The default data folder: $ENGRAM_DATA, else ./engram-data; --data wins over both.
line='{"op":"create_node","label":"Entity","id":"where"}'
mkdir "$T/cwd-env" "$T/cwd-default"
RC=0
(cd "$T/cwd-env" && echo "$line" | ENGRAM_DATA="$T/env-data" timeout "$LIMIT" "$ENGRAM" exec >"$T/out" 2>"$T/err") ||
    RC=$?
expect_rc "exec with ENGRAM_DATA" 0
expect_in "exec with ENGRAM_DATA: created" "$T/out" '"ok":true'
expect_exists "ENGRAM_DATA: the data lands there" "$T/env-data/FORMAT"
expect_absent "ENGRAM_DATA: no ./engram-data" "$T/cwd-env/engram-data"
run eg --data "$T/env-data" node show where
expect_rc "ENGRAM_DATA: the node is in that folder" 0
RC=0
(cd "$T/cwd-default" && echo "$line" | timeout "$LIMIT" "$ENGRAM" exec >"$T/out" 2>"$T/err") || RC=$?
expect_rc "exec without ENGRAM_DATA or --data" 0
expect_exists "default: the data lands in ./engram-data" "$T/cwd-default/engram-data/FORMAT"
run eg --data "$T/cwd-default/engram-data" node show where
expect_rc "default: the node is in ./engram-data" 0
RC=0
(cd "$T/cwd-default" && ENGRAM_DATA='' timeout "$LIMIT" "$ENGRAM" stats >"$T/out" 2>"$T/err") || RC=$?
expect_rc "empty ENGRAM_DATA falls back to ./engram-data" 0
expect_in "empty ENGRAM_DATA falls back to ./engram-data" "$T/out" '^nodes +1$'
RC=0
(cd "$T/cwd-env" && ENGRAM_DATA="$T/env-data" timeout "$LIMIT" "$ENGRAM" --data "$T/flag-data" stats >"$T/out" \
    2>"$T/err") || RC=$?
expect_rc "--data wins over ENGRAM_DATA" 0
expect_in "--data wins over ENGRAM_DATA: a fresh folder" "$T/out" '^nodes +0$'
expect_exists "--data wins over ENGRAM_DATA: that folder is made" "$T/flag-data/FORMAT"
expect_absent "nothing above wrote into the test's own cwd" "$T/cwd/engram-data"

# ---------------------------------------------------------------------------------------------------------------
# Human subcommands, on the data of the session above.
run eg --data "$D" node show cmake
expect_rc "node show" 0
expect_line "node show: label and id" "$T/out" 1 '^Entity cmake$'
expect_in "node show: properties" "$T/out" '^ +name: "CMake"$'
expect_empty "node show: stderr" "$T/err"
run eg --data "$D" node show ep1 --label Episode
expect_rc "node show --label (right label)" 0
expect_in "node show --label" "$T/out" 'summary: "fixed the build"'
run eg --data "$D" node show ep1 --label Entity
expect_rc "node show --label (wrong label)" 1
run eg --data "$D" node show no-such-node
expect_rc "node show of a missing id" 1
expect_in "node show of a missing id: stderr names the id" "$T/err" "no-such-node"
expect_empty "node show of a missing id: stdout" "$T/out"
run eg --data "$D" node rels cmake
expect_rc "node rels" 0
expect_in "node rels: USES" "$T/out" '^cmake <-\[USES\]- ep1 .*note="v3"'
expect_in "node rels: REQUIRES" "$T/out" '^cmake <-\[REQUIRES\]- pr1'
expect_in "node rels: count" "$T/out" '^\(2 relationships\)$'
run eg --data "$D" node rels ep1 --direction out
expect_rc "node rels --direction out" 0
expect_in "node rels --direction out: outgoing shown forward" "$T/out" '^ep1 -\[USES\]-> cmake'
expect_in "node rels --direction out: count" "$T/out" '^\(1 relationship\)$'
run eg --data "$D" node rels cmake --direction out
expect_in "node rels: none outgoing" "$T/out" '^\(0 relationships\)$'
run eg --data "$D" node rels cmake --direction sideways
expect_rc "node rels with a bad direction" 1
run eg --data "$D" path ep1 pr1
expect_rc "path" 0
expect_in "path: the chain" "$T/out" '^\(Episode ep1\) -\[USES\]-> \(Entity cmake\) <-\[REQUIRES\]- \(Procedure pr1\)$'
expect_in "path: length" "$T/out" '^length 2$'
run eg --data "$D" path ep1 pr1 --type USES
expect_rc "path --type restricting to one type" 0
expect_in "path --type USES: no path" "$T/out" 'no path'
run eg --data "$D" path ep1 pr1 --max-depth 1
expect_in "path --max-depth 1: no path" "$T/out" 'no path'
run eg --data "$D" path ep1 lonely
expect_rc "path between unconnected nodes" 0
expect_in "path between unconnected nodes" "$T/out" '^no path between ep1 and lonely$'
run eg --data "$D" path ep1 no-such-node
expect_rc "path to a missing node" 1
expect_in "path to a missing node: stderr names it" "$T/err" "no-such-node"
run eg --data "$D" stats
expect_rc "stats" 0
expect_in "stats: nodes" "$T/out" '^nodes +4$'
expect_in "stats: Episode" "$T/out" '^ +Episode +1$'
expect_in "stats: Entity" "$T/out" '^ +Entity +2$'
expect_in "stats: Procedure" "$T/out" '^ +Procedure +1$'
expect_in "stats: relationships" "$T/out" '^relationships +2$'

# ---------------------------------------------------------------------------------------------------------------
# Memory commands: remember stores text in both stores (embedded by the lexical embedder), recall finds it by
# shared words, check compares the two stores, recover shows what opening the folder recovered.

# json_check NAME FILE PY_EXPR ERE: with python3, the JSON in FILE must parse and PY_EXPR (on it, as r) be true;
# without python3, FILE must match ERE instead.
json_check() {
    if command -v python3 >/dev/null 2>&1; then
        if python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
            "$2" "$3" >"$T/py.err" 2>&1; then pass; else
            fail "$1: expected the JSON to satisfy: $3" "python3: $(cat "$T/py.err")"
            detail
        fi
    else
        expect_in "$1" "$2" "$4"
    fi
}
UUID4='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
M=$T/memory
CM=11111111-1111-4111-8111-111111111111
run eg --data "$M" remember "cmake is the build system of the project" --type entity --id "$CM"
expect_rc "remember an entity with --id" 0
expect_line "remember prints the id" "$T/out" 1 "^$CM\$"
expect_empty "remember: stderr" "$T/err"
run eg --data "$M" remember "wrote the release notes on friday"
expect_rc "remember an episode" 0
expect_line "remember: without --id, a random UUID v4" "$T/out" 1 "^$UUID4\$"
NOTES=$(cat "$T/out")
run eg --data "$M" remember "the build broke until cmake was upgraded" --session s-1 --relate "USES:$CM"
expect_rc "remember with --session and --relate" 0
EP=$(cat "$T/out")
if [ "$EP" != "$NOTES" ]; then pass; else fail "remember: two random ids differ" "both: $EP"; fi
run eg --data "$M" remember "the build broke until cmake was upgraded" --id "$EP" --session s-1 --relate "USES:$CM"
expect_rc "remember the same memory again: a success" 0
expect_line "remember again: the same id" "$T/out" 1 "^$EP\$"
run eg --data "$M" remember "something else entirely" --id "$EP"
expect_rc "remember other content under a used id" 1
expect_in "remember other content under a used id: a conflict" "$T/err" "conflict"
run eg --data "$M" remember "install cmake before building" --type procedure --id 7 --relate "DEPENDS_ON:$CM"
expect_rc "remember a procedure with a numeric id" 0
expect_line "remember: a numeric id" "$T/out" 1 '^7$'
run eg --data "$M" remember "a dangling relationship" --relate "USES:$CM" --relate "USES:no-such-node"
expect_rc "remember --relate to a missing node" 1
expect_in "remember --relate to a missing node: named" "$T/err" "no-such-node"
run eg --data "$M" remember "other dimensions" --dim 64
expect_rc "remember with another --dim than the type's first memory" 1
echo "{\"op\":\"get_relationships\",\"id\":\"$EP\",\"direction\":\"out\"}" >"$T/rels.in"
RC=0
eg --data "$M" exec <"$T/rels.in" >"$T/out" 2>"$T/err" || RC=$?
expect_in "remember --relate: the relationship exists" "$T/out" \
    "\"source_id\":\"$EP\",\"target_id\":\"$CM\",\"type\":\"USES\""

run eg --data "$M" recall "why did the build break"
expect_rc "recall" 0
expect_line "recall: the remembered text is the top hit" "$T/out" 1 \
    "^ *1\. [0-9]\.[0-9]{3}  $EP  the build broke until cmake was upgraded\$"
expect_in "recall: the other episode comes second" "$T/out" "^ *2\. -?[0-9]\.[0-9]{3}  $NOTES  wrote the release notes"
expect_not_in "recall --expand 0: no neighbours" "$T/out" "USES"
run eg --data "$M" recall "why did the build break" --json
expect_rc "recall --json" 0
json_check "recall --json: the top hit" "$T/out" \
    "r['memories'][0]['id'] == '$EP' and r['memories'][0]['payload']['text'].startswith('the build broke')" \
    "^\{\"memories\":\[\{\"id\":\"$EP\""
run eg --data "$M" recall "release notes" --limit 1
expect_line "recall --limit 1: the best match" "$T/out" 1 "^ *1\. .*  $NOTES  "
expect_not_in "recall --limit 1: only one" "$T/out" "^ *2\."
run eg --data "$M" recall "the build" --session s-1
expect_in "recall --session s-1: that session's memory" "$T/out" "$EP"
expect_not_in "recall --session s-1: not another session's" "$T/out" "$NOTES"
run eg --data "$M" recall "the build" --session s-2
expect_rc "recall in a session with no memories" 0
expect_line "recall in a session with no memories" "$T/out" 1 '^no memories found$'
run eg --data "$M" recall "the build system" --type entity
expect_line "recall --type entity" "$T/out" 1 "^ *1\. .*  $CM  cmake is the build system"
run eg --data "$M" recall "why did the build break" --expand 1 --limit 1
expect_rc "recall --expand 1" 0
expect_in "recall --expand 1: the neighbour, with its relationship" "$T/out" \
    "^ +-\[USES\]-> Entity $CM  cmake is the build system of the project\$"
expect_not_in "recall --expand 1: nothing two hops away" "$T/out" "Procedure"
run eg --data "$M" recall "why did the build break" --expand 2 --limit 1
expect_in "recall --expand 2: the second hop, indented under the first" "$T/out" \
    "^          <-\[DEPENDS_ON\]- Procedure 7  install cmake before building\$"
run eg --data "$M" recall "cmake build system" --type entity --expand 1
expect_in "recall --expand 1 from the entity: incoming relationships" "$T/out" "^ +<-\[USES\]- Episode $EP  "
expect_in "recall --expand 1 from the entity: both" "$T/out" "^ +<-\[DEPENDS_ON\]- Procedure 7  "
run eg --data "$M" recall "cmake" --dim 64
expect_rc "recall with another --dim than the memories'" 1

run eg --data "$M" check
expect_rc "check, consistent" 0
expect_line "check, consistent: the summary" "$T/out" 1 '^consistent: 4 memories, no orphans, no dead letters$'
run eg --data "$M" check --json
expect_rc "check --json, consistent" 0
json_check "check --json" "$T/out" "r['consistent'] is True and r['memories'] == 4 and r['orphans'] == []" \
    '"consistent":true'
ORPHAN=33333333-3333-4333-8333-333333333333
echo "{\"op\":\"create_node\",\"label\":\"Episode\",\"id\":\"$ORPHAN\"}" | eg --data "$M" exec >"$T/out" 2>"$T/err"
run eg --data "$M" check
expect_rc "check with an orphan" 1
expect_in "check with an orphan: listed" "$T/out" "^orphan +episode $ORPHAN, only in the graph\$"
expect_in "check with an orphan: the summary" "$T/out" '^NOT consistent: 4 memories, 1 orphan, no dead letters$'
run eg --data "$M" check --json
expect_rc "check --json with an orphan" 1
json_check "check --json with an orphan" "$T/out" \
    "r['consistent'] is False and r['orphans'] == [{'id': '$ORPHAN', 'type': 'episode', 'in': 'graph'}]" \
    '"consistent":false'
run eg --data "$M" recover
expect_rc "recover with an orphan: not consistent" 1
expect_in "recover with an orphan: the check" "$T/out" "^orphan +episode $ORPHAN"
run eg --data "$M" check --repair
expect_rc "check --repair" 0
expect_in "check --repair: what it repaired" "$T/out" "^repaired +episode $ORPHAN: removed\$"
expect_in "check --repair: the summary" "$T/out" '^consistent after repair: 4 memories, no orphans, no dead letters$'
run eg --data "$M" check
expect_rc "check after the repair" 0
expect_line "check after the repair" "$T/out" 1 '^consistent: 4 memories, no orphans, no dead letters$'
run eg --data "$M" node show "$ORPHAN"
expect_rc "check --repair removed the orphan node" 1

for folder in "$M" "$T/fresh-memory"; do
    run eg --data "$folder" recover
    expect_rc "recover on a clean folder ($(basename "$folder"))" 0
    for what in "torn log bytes cut" "unfinished sagas found" "compensated" "rolled forward" "failed \(dead letters\)"; do
        expect_in "recover on a clean folder ($(basename "$folder")): $what" "$T/out" "^ +$what +0\$"
    done
    expect_in "recover on a clean folder ($(basename "$folder")): the check" "$T/out" '^consistent: [0-9]+ memor'
done
run eg --data "$T/fresh-memory" check
expect_rc "check on an empty folder" 0
expect_line "check on an empty folder" "$T/out" 1 '^consistent: 0 memories, no orphans, no dead letters$'
run eg --data "$M" recover --json
expect_rc "recover --json" 0
json_check "recover --json" "$T/out" \
    "r['recovery']['sagas_unfinished'] == 0 and r['recovery']['wal_torn_bytes'] == 0 and r['check']['consistent']" \
    '"sagas_unfinished":0'

# ---------------------------------------------------------------------------------------------------------------
# The cold archive: archive run moves the memories older than an age out of both hot stores (plain progress lines:
# stderr is not a terminal here), list and get show them, recall no longer finds them, restore brings one back,
# purge deletes for good, verify reads every file back.
A=$T/archive
OLD_MS=$((($(date +%s) - 40 * 86400) * 1000))
OLD1=aaaaaaaa-0000-4000-8000-000000000001
OLD2=aaaaaaaa-0000-4000-8000-000000000002
OLD3=aaaaaaaa-0000-4000-8000-000000000003
NEW1=bbbbbbbb-0000-4000-8000-000000000001
{
    for n in 1 2 3; do # created_at 40 days ago (a millisecond apart, so that "oldest first" is defined)
        printf '{"op":"create_episode","id":"%s","text":"%s","payload":{"text":"%s"},"created_at":%s}\n' \
            "aaaaaaaa-0000-4000-8000-00000000000$n" "pelican sighting $n" "pelican sighting $n" $((OLD_MS + n))
    done
    printf '{"op":"create_episode","id":"%s","text":"%s","payload":{"text":"%s"}}\n' \
        "$NEW1" "pelican sighting today" "pelican sighting today"
    printf '{"op":"create_entity","id":77,"text":"the harbour","payload":{"text":"the harbour"},"created_at":%s}\n' \
        "$OLD_MS"
} >"$T/archive.in"
RC=0
eg --data "$A" exec <"$T/archive.in" >"$T/out" 2>"$T/err" || RC=$?
got=$(grep -c '^{"ok":true' "$T/out" || :)
if [ "$RC" -eq 0 ] && [ "$got" -eq 5 ]; then pass; else
    fail "archive: 5 memories created, 4 of them 40 days old" "created: $got"
    detail
fi
run eg --data "$A" archive run --older-than 30d
expect_rc "archive run --older-than 30d" 0
expect_line "archive run: the summary, the three old episodes only" "$T/out" 1 '^archived 3 of 3 candidates, 0 failed '
for n in 1 2 3; do
    expect_in "archive run: plain progress line $n" "$T/err" "^archiving: $n/3 \\([0-9]+%\\)\$"
done
got=$(grep -c '' "$T/err" || :)
if [ "$got" -eq 3 ]; then pass; else
    fail "archive run: expected 3 progress lines on stderr, got $got"
    detail
fi
expect_not_in "archive run: no redrawn bar when stderr is not a terminal" "$T/err" "$(printf '\r')"
run eg --data "$A" archive run --older-than 30d
expect_rc "archive run again: nothing left to archive" 0
expect_line "archive run again: the summary" "$T/out" 1 '^archived 0 of 0 candidates, 0 failed '
expect_empty "archive run again: no progress" "$T/err"
run eg --data "$A" archive run --older-than 40d --type entity --json
expect_rc "archive run --type entity --json" 0
json_check "archive run --json: the counts" "$T/out" \
    "r == {'candidates': 1, 'archived': 1, 'failed': 0}" '"archived": 1,'
run eg --data "$A" recall "pelican sighting" --limit 10
expect_rc "recall after archiving" 0
expect_in "recall after archiving: the recent memory is still found" "$T/out" "  $NEW1  pelican sighting today\$"
expect_not_in "recall after archiving: the archived ones are not" "$T/out" "aaaaaaaa-"
run eg --data "$A" archive list
expect_rc "archive list" 0
expect_line "archive list: the header" "$T/out" 1 '^archived_at +type +id +size +compression$'
got=$(grep -c -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+\+00:00 +episode +aaaaaaaa-0000-4000-8000-00000000000[123] +[0-9]+  gzip$' \
    "$T/out" || :)
if [ "$got" -eq 3 ]; then pass; else
    fail "archive list: expected the 3 archived episodes, got $got"
    detail
fi
expect_in "archive list: the archived entity" "$T/out" '^[0-9T:.+-]+ +entity +77 +[0-9]+  gzip$'
expect_not_in "archive list: one page, no cursor" "$T/out" '^next cursor'
run eg --data "$A" archive list --limit 3
expect_in "archive list --limit 3: a next cursor" "$T/out" '^next cursor: .'
CURSOR=$(sed -n 's/^next cursor: //p' "$T/out")
run eg --data "$A" archive list --cursor "$CURSOR"
expect_rc "archive list --cursor" 0
got=$(grep -c -E ' (episode|entity) ' "$T/out" || :)
if [ "$got" -eq 1 ]; then pass; else
    fail "archive list --cursor: expected the 1 remaining entry, got $got"
    detail
fi
run eg --data "$A" archive list --type entity --json
expect_rc "archive list --type entity --json" 0
json_check "archive list --type entity --json" "$T/out" \
    "[e['memory_id'] for e in r['entries']] == ['77'] and r['entries'][0]['memory_type'] == 'entities' and r['next_cursor'] is None" \
    '"memory_id": "77"'
run eg --data "$A" archive list --type procedure
expect_line "archive list of a type with nothing archived" "$T/out" 1 '^no archived memories$'
run eg --data "$A" archive get "$OLD1"
expect_rc "archive get" 0
expect_line "archive get: the metadata first" "$T/out" 1 "^memory_id: $OLD1\$"
expect_in "archive get: the type" "$T/out" '^memory_type: episodes$'
expect_in "archive get: a checksum" "$T/out" '^checksum: [0-9a-f]{64}$'
expect_in "archive get: then the record" "$T/out" '^record:$'
expect_in "archive get: the record's payload, indented" "$T/out" '^      "text": "pelican sighting 1"$'
expect_in "archive get: the vector on one line" "$T/out" '^    "vector": \[[-0-9., e]+\],?$'
run eg --data "$A" archive get "$OLD1" --json
json_check "archive get --json" "$T/out" \
    "r['metadata']['memory_id'] == '$OLD1' and r['record']['payload']['text'] == 'pelican sighting 1' and r['record']['node']['label'] == 'Episode'" \
    '"memory_id": "aaaaaaaa-0000-4000-8000-000000000001"'
run eg --data "$A" archive get "$NEW1"
expect_rc "archive get of a memory that is not archived" 1
expect_in "archive get of a memory that is not archived: not_found" "$T/err" 'not_found'
run eg --data "$A" archive restore "$OLD1"
expect_rc "archive restore" 0
expect_line "archive restore: says so" "$T/out" 1 "^restored $OLD1\$"
run eg --data "$A" recall "pelican sighting 1" --limit 10
expect_in "recall finds the restored memory again" "$T/out" "  $OLD1  pelican sighting 1\$"
expect_not_in "recall: the others stay archived" "$T/out" "$OLD2|$OLD3"
run eg --data "$A" check
expect_rc "check after archive and restore" 0
expect_line "check after archive and restore: consistent" "$T/out" 1 '^consistent: 2 memories, no orphans, no dead letters$'
run eg --data "$A" archive restore "$OLD1"
expect_rc "archive restore of a memory no longer archived" 1
RC=0
ENGRAM_ALLOW_FAULTS=1 ENGRAM_FAULTS='graph.*=fail' timeout "$LIMIT" "$ENGRAM" --data "$A" archive run --older-than 30d \
    <"$T/empty" >"$T/out" 2>"$T/err" || RC=$?
expect_rc "archive run with the graph failing: a memory failed" 1
expect_line "archive run with the graph failing: the summary" "$T/out" 1 '^archived 0 of 1 candidates, 1 failed '
expect_in "archive run with the graph failing: the first failure" "$T/err" '^engram archive run: first failure: .*unavailable'
run eg --data "$A" check
expect_line "archive run with the graph failing: the memory stays hot" "$T/out" 1 \
    '^consistent: 2 memories, no orphans, no dead letters$'
run eg --data "$A" archive purge "$OLD2"
expect_rc "archive purge ID" 0
expect_line "archive purge ID: says so" "$T/out" 1 "^purged $OLD2\$"
run eg --data "$A" archive get "$OLD2"
expect_rc "archive get after purge" 1
run eg --data "$A" archive verify
expect_rc "archive verify on a clean archive" 0
expect_line "archive verify: the summary" "$T/out" 1 \
    '^archive ok: 2 entries, 2 ok, 0 corrupt, 0 unverifiable, 0 stray files$'
run eg --data "$A" archive verify --json
json_check "archive verify --json" "$T/out" \
    "r['entries'] == 2 and r['ok'] == 2 and r['corrupt'] == [] and r['orphans'] == []" '"ok": 2,'
DATAFILE=$A/archive/episodes/aa/$OLD3.json.gz
expect_exists "archive: the layout's data file" "$DATAFILE"
head -c 20 "$DATAFILE" >"$T/cut.gz" && mv "$T/cut.gz" "$DATAFILE"
run eg --data "$A" archive verify
expect_rc "archive verify after truncating a data file" 1
expect_in "archive verify: names the corrupt entry" "$T/out" "^corrupt +$OLD3: ."
expect_in "archive verify: the summary" "$T/out" '^archive NOT ok: 2 entries, 1 ok, 1 corrupt, '
run eg --data "$A" archive get "$OLD3"
expect_rc "archive get of a corrupt entry" 1
expect_in "archive get of a corrupt entry: says corrupt" "$T/err" 'corrupt'
run eg --data "$A" archive purge "$OLD3"
expect_rc "archive purge of a corrupt entry" 0
echo stray >"$A/archive/episodes/aa/stray.json"
run eg --data "$A" archive verify
expect_rc "archive verify with a stray file" 1
expect_in "archive verify: the stray file" "$T/out" '^stray file +episodes/aa/stray\.json: .'
rm "$A/archive/episodes/aa/stray.json"
run eg --data "$A" archive purge --older-than 365d
expect_rc "archive purge --older-than 365d" 0
expect_line "archive purge --older-than: nothing that old" "$T/out" 1 \
    '^purged 0 archived memories \(archived more than 365 days ago\)$'
META=$A/archive/metadata/77/77.meta.json
sed 's/"archived_at": "[0-9]\{4\}/"archived_at": "2020/' "$META" >"$T/meta" && cat "$T/meta" >"$META"
run eg --data "$A" archive purge --older-than 36h
expect_line "archive purge --older-than 36h: rounded up to whole days, removes the one archived in 2020" "$T/out" 1 \
    '^purged 1 archived memory \(archived more than 2 days ago\)$'
run eg --data "$A" archive purge
expect_rc "archive purge without an age: the retention setting" 0
expect_line "archive purge without an age: archive.retention_days" "$T/out" 1 \
    '^purged 0 archived memories \(archived more than 1825 days ago\)$'
run eg --data "$A" archive list
expect_line "archive list of an empty archive" "$T/out" 1 '^no archived memories$'
run eg --data "$A" archive verify
expect_rc "archive verify of an empty archive" 0

# ---------------------------------------------------------------------------------------------------------------
# One process per data folder: while an exec holds it open, a second engram gets exit 1 and "in use".
mkfifo "$T/hold.in" "$T/hold.out"
timeout 30 "$ENGRAM" --data "$D" exec <"$T/hold.in" >"$T/hold.out" 2>"$T/hold.err" &
BG_PID=$!
exec 3>"$T/hold.in" 4<"$T/hold.out"
echo '{"op":"count_relationships"}' >&3 2>/dev/null || :
IFS= read -r resp <&4 || resp="(end of output, no full line) $resp" # a response means the first process has the folder open
case $resp in '{"ok":true,"result":2}') pass ;; *) fail "holder: first response" "expected: {\"ok\":true,\"result\":2}" "got: $resp" ;; esac
run eg --data "$D" stats
expect_rc "second process (stats) on a folder in use" 1
expect_in "second process: says the folder is in use" "$T/err" "in use"
expect_empty "second process: stdout" "$T/out"
RC=0
echo '{"op":"stats"}' | eg --data "$D" exec >"$T/out" 2>"$T/err" || RC=$?
expect_rc "second process (exec) on a folder in use" 1
expect_in "second exec: says the folder is in use" "$T/err" "in use"
echo '{"op":"create_node","label":"Entity","id":"late"}' >&3 2>/dev/null || :
IFS= read -r resp <&4 || resp="(end of output, no full line) $resp"
case $resp in '{"ok":true,"result":{"id":"late"}}') pass ;; *)
    fail "holder still works after the refused second process" 'expected: {"ok":true,"result":{"id":"late"}}' "got: $resp" ;;
esac
exec 3>&-
cat <&4 >/dev/null
exec 4<&-
RC=0
wait "$BG_PID" || RC=$?
BG_PID=
if [ "$RC" -eq 0 ]; then pass; else
    fail "holder: expected exit 0 at end of input, got $RC" "stderr: $(cat "$T/hold.err")"
fi
run eg --data "$D" node show late
expect_rc "the folder is free again once the holder exits" 0

# ---------------------------------------------------------------------------------------------------------------
# A data folder of a newer format: refused (exit 1, names format and upgrade), FORMAT left as it was.
F=$T/future
mkdir "$F"
printf 'engram data folder\nformat 999\n' >"$F/FORMAT"
before=$(cat "$F/FORMAT")
for cmd in stats exec; do
    run eg --data "$F" $cmd
    expect_rc "format 999: $cmd" 1
    expect_in "format 999: $cmd mentions the format" "$T/err" "format" -i
    expect_in "format 999: $cmd says to upgrade" "$T/err" "upgrade" -i
    expect_empty "format 999: $cmd stdout" "$T/out"
done
if [ "$(cat "$F/FORMAT")" = "$before" ]; then pass; else
    fail "format 999: FORMAT must be unchanged" "before: $before" "after: $(cat "$F/FORMAT")"
fi
expect_absent "format 999: no graph store created" "$F/graph"

# ---------------------------------------------------------------------------------------------------------------
# Settings: defaults, DATA/engram.conf ("file"), --set NAME=VALUE ("override", the last word), as engram config shows.
run eg --help
expect_in "engram --help mentions --set" "$T/out" '^ +--set NAME=VALUE '
run eg config --help
expect_in "config --help: the sources" "$T/out" '"override"'
run eg health --help
expect_in "health --help: exit 0 for ok" "$T/out" '0 ok'
expect_in "health --help: exit 3 for degraded" "$T/out" '3 degraded'
expect_in "health --help: exit 4 for down" "$T/out" '4 down'
C=$T/conf
run eg --data "$C" config
expect_rc "config on a fresh folder" 0
expect_line "config: the header" "$T/out" 1 '^setting +value +default +source +allowed$'
got=$(grep -c '' "$T/out" || :)
if [ "$got" -eq 46 ]; then pass; else
    fail "config: expected a header and 45 settings, got $got lines"
    detail
fi
expect_in "config: a default" "$T/out" '^breaker\.failure_threshold +5 +5 +default +1\.\.1000000$'
expect_in "config: a word setting" "$T/out" '^degrade\.write_policy +fail +fail +default +fail\|queue$'
expect_empty "config: stderr" "$T/err"
run eg --data "$C" --set breaker.failure_threshold=3 --set ' degrade.write_policy = queue ' config
expect_rc "config with --set" 0
expect_in "--set: an override" "$T/out" '^breaker\.failure_threshold +3 +5 +override '
expect_in "--set: spaces around name and value are ignored" "$T/out" '^degrade\.write_policy +queue +fail +override '
expect_in "--set: the others keep their defaults" "$T/out" '^breaker\.reset_timeout_ms +60000 +60000 +default '
run eg --data "$C" --set breaker.failure_threshold=3 --set breaker.failure_threshold=4 config
expect_in "--set twice: the later one wins" "$T/out" '^breaker\.failure_threshold +4 +5 +override '
printf '# written by cli_test\nbreaker.failure_threshold = 7\r\n\ndurability = fsync\n' >"$C/engram.conf"
run eg --data "$C" config
expect_rc "config with engram.conf" 0
expect_in "engram.conf: a value from the file" "$T/out" '^breaker\.failure_threshold +7 +5 +file '
expect_in "engram.conf: a word from the file" "$T/out" '^durability +fsync +group +file '
expect_in "engram.conf: the others keep their defaults" "$T/out" '^breaker\.success_threshold +2 +2 +default '
run eg --data "$C" --set breaker.failure_threshold=9 config
expect_in "an override beats the file" "$T/out" '^breaker\.failure_threshold +9 +5 +override '
expect_in "an override of one setting leaves the file's others" "$T/out" '^durability +fsync +group +file '
run eg --data "$C" --no-sync config
expect_in "--no-sync is a durability override (over the file)" "$T/out" '^durability +none +group +override '
run eg --data "$T/twice" --no-sync --durability fsync config
expect_rc "durability given twice is a usage error" 2
expect_absent "durability given twice creates nothing" "$T/twice"
run eg --data "$C" --durability fsync config
expect_in "--durability fsync is a durability override" "$T/out" '^durability +fsync +group +override '
rm "$C/engram.conf"
run eg --data "$C" --durability none config
expect_in "--durability none without the file" "$T/out" '^durability +none +group +override '
run eg --data "$C" --set durability=none --set breaker.reset_timeout_ms=50 config --json
expect_rc "config --json" 0
json_check "config --json: all 45 settings, in order" "$T/out" \
    "[s['name'] for s in r] == ['breaker.failure_threshold', 'breaker.success_threshold', 'breaker.reset_timeout_ms', 'breaker.half_open_max_calls', 'degrade.write_policy', 'degrade.cache_entries', 'degrade.queue_max', 'durability', 'saga.step_timeout_ms', 'saga.compensation_attempts', 'archive.path', 'archive.retention_days', 'vectors.index_threads', 'graph.schema', 'graph.backend', 'graph.uri', 'graph.user', 'graph.password', 'graph.database', 'graph.ca_file', 'graph.max_connections', 'graph.acquisition_timeout_ms', 'graph.max_lifetime_ms', 'graph.timeout_ms', 'vectors.backend', 'vectors.url', 'vectors.api_key', 'vectors.ca_file', 'vectors.timeout_ms', 'vectors.batch_size', 'vectors.max_concurrency', 'vectors.collection_prefix', 'vectors.shard_number', 'vectors.replication_factor', 'vectors.write_consistency_factor', 'serve.http', 'serve.api_key', 'serve.threads', 'serve.max_body_bytes', 'serve.max_connections', 'serve.idle_timeout_ms', 'serve.bolt', 'serve.bolt_user', 'serve.bolt_password', 'serve.bolt_tx_timeout_ms']" \
    '"name": "archive\.retention_days"'
json_check "config --json: an integer override" "$T/out" \
    "[s for s in r if s['name'] == 'breaker.reset_timeout_ms'] == [{'name': 'breaker.reset_timeout_ms', 'value': 50, 'default': 60000, 'source': 'override', 'description': s['description'], 'allowed': '1..86400000'} for s in r if s['name'] == 'breaker.reset_timeout_ms']" \
    '"value": 50,'
json_check "config --json: a word override" "$T/out" \
    "[(s['value'], s['default'], s['source'], s['allowed']) for s in r if s['name'] == 'durability'] == [('none', 'group', 'override', 'group|fsync|none')]" \
    '"value": "none",'
got=$(grep -c '"source":' "$T/out" || :)
if [ "$got" -eq 45 ]; then pass; else
    fail "config --json: expected 45 settings with a source, got $got"
    detail
fi
run eg --data "$C" --set serve.api_key=hunter2-secret config --json
json_check "config --json: a secret setting shows that it is set, not its value" "$T/out" \
    "[(s['value'], s['source']) for s in r if s['name'] == 'serve.api_key'] == [('(set)', 'override')]" \
    '"(set)"'
expect_not_in "config --json: the API key is never printed" "$T/out" 'hunter2-secret'
run eg --data "$C" --set serve.api_key=hunter2-secret config
expect_not_in "config: the API key is never printed" "$T/out" 'hunter2-secret'
run eg --data "$C" --set vectors.api_key=qdrant-secret-7 --set vectors.url=https://alice:pw-9@qdrant.example:6333 config --json
json_check "config --json: the Qdrant key shows that it is set, the URL without its credentials" "$T/out" \
    "[s['value'] for s in r if s['name'] in ('vectors.api_key', 'vectors.url')] == ['https://<credentials>@qdrant.example:6333', '(set)']" \
    '"(set)"'
expect_not_in "config --json: the Qdrant key is never printed" "$T/out" 'qdrant-secret-7'
expect_not_in "config --json: URL credentials are never printed" "$T/out" 'pw-9'
run eg --data "$C" --set graph.password=neo4j-secret-5 --set graph.uri=neo4j://bob:pw-8@neo4j.example:7687 config --json
json_check "config --json: the Neo4j password shows that it is set, the URI without its credentials" "$T/out" \
    "[s['value'] for s in r if s['name'] in ('graph.uri', 'graph.password')] == ['neo4j://<credentials>@neo4j.example:7687', '(set)']" \
    '"(set)"'
expect_not_in "config --json: the Neo4j password is never printed" "$T/out" 'neo4j-secret-5'
expect_not_in "config --json: Bolt URI credentials are never printed" "$T/out" 'pw-8'
# Bad overrides: usage errors (exit 2) naming the problem, before the data folder is touched.
S=$T/set-data # never created
for q in "foo=1|unknown setting 'foo'" "breaker.failure_threshold=0|breaker\.failure_threshold = 0 is out of range 1\.\.1000000" \
    "degrade.write_policy=drop|degrade\.write_policy = 'drop' must be one of fail, queue" \
    "nothing|'nothing': expected NAME=VALUE" "durabilty=none|did you mean 'durability'" \
    "durability=|durability has no value" "saga.step_timeout_ms=5ms|'5ms' is not an integer"; do
    assignment=${q%%|*}
    usage_error "--set $assignment" --data "$S" --set "$assignment" stats
    expect_in "--set $assignment: the message names the problem" "$T/err" "${q#*|}"
done
usage_error "--set without a value" --data "$S" --set
usage_error "--durability with a bad mode" --data "$S" --durability sometimes stats
usage_error "config with an argument" --data "$S" config extra
usage_error "config --json twice" --data "$S" config --json --json
usage_error "health with an argument" --data "$S" health --bogus
expect_absent "bad overrides create no data folder" "$S"
# A bad engram.conf: every command that opens the folder fails (exit 1), naming the file and the line.
B=$T/bad-conf
mkdir "$B"
printf 'durability = group\nbreaker.failure_threshold = 0\n' >"$B/engram.conf"
for cmd in stats config health check exec; do
    run eg --data "$B" $cmd
    expect_rc "bad engram.conf: $cmd" 1
    expect_in "bad engram.conf: $cmd names the line" "$T/err" \
        'engram\.conf line 2: breaker\.failure_threshold = 0 is out of range'
    expect_empty "bad engram.conf: $cmd stdout" "$T/out"
done
run eg --data "$B" --set breaker.failure_threshold=3 stats
expect_rc "bad engram.conf: an override does not rescue it" 1
run eg --data "$B" config --help
expect_rc "bad engram.conf: config --help opens nothing" 0
printf 'breaker.failur_threshold = 3\n' >"$B/engram.conf"
run eg --data "$B" config
expect_rc "engram.conf with a misspelt name" 1
expect_in "engram.conf with a misspelt name: a suggestion" "$T/err" \
    "engram\.conf line 1: unknown setting 'breaker\.failur_threshold'; did you mean 'breaker\.failure_threshold'\?"

# ---------------------------------------------------------------------------------------------------------------
# Health: the verdict (ok, degraded, down) from the breakers and queues. Faults live in one process, so the
# degraded states are driven inside one exec session (ENGRAM_ALLOW_FAULTS=1 and set_faults).
H=$T/health
run eg --data "$H" health
expect_rc "health on a fresh folder" 0
expect_in "health: the graph breaker closed" "$T/out" '^graph +breaker closed '
expect_in "health: the vectors breaker closed" "$T/out" '^vectors +breaker closed '
expect_in "health: the write policy" "$T/out" '^write policy fail, 0 dead letters$'
expect_in "health: the embedded backends" "$T/out" '^ +backend lmdb$'
run eg --data "$T/health-qdrant" --set vectors.backend=qdrant --set vectors.url=http://ops:pw-77@127.0.0.1:1 health
expect_in "health: the Qdrant backend and its URL" "$T/out" '^ +backend qdrant at http://<credentials>@127\.0\.0\.1:1$'
expect_not_in "health: URL credentials are never printed" "$T/out" 'pw-77'
run eg --data "$T/health-neo4j" --set graph.backend=neo4j --set graph.uri=bolt://127.0.0.1:1 --set graph.password=pw-78 health
expect_in "health: the Neo4j backend and its URI" "$T/out" '^ +backend neo4j at bolt://127\.0\.0\.1:1$'
expect_not_in "health: the Neo4j password is never printed" "$T/out" 'pw-78'
expect_absent "health: the Neo4j backend leaves DATA/graph uncreated" "$T/health-neo4j/graph"
last=$(tail -n 1 "$T/out")
if [ "$last" = ok ]; then pass; else fail "health: expected \"ok\" as the last line" "got: $last"; fi
expect_empty "health: stderr" "$T/err"
run eg --data "$H" health --json
expect_rc "health --json on a fresh folder" 0
json_check "health --json" "$T/out" \
    "r['status'] == 'ok' and r['stores']['graph']['breaker']['state'] == 'closed' and r['stores']['vectors']['queue']['depth'] == 0 and r['write_policy'] == 'fail'" \
    '^  "status": "ok",$'
run eg --data "$H" --set degrade.write_policy=queue health
expect_rc "health with the queue policy, nothing wrong" 0
expect_in "health: the queue policy shown" "$T/out" '^write policy queue, '

# set_faults is refused unless the process started with ENGRAM_ALLOW_FAULTS=1.
RC=0
echo '{"op":"set_faults","rules":"graph.*=fail"}' | eg --data "$H" exec >"$T/out" 2>"$T/err" || RC=$?
expect_rc "set_faults without ENGRAM_ALLOW_FAULTS" 0
expect_line "set_faults without ENGRAM_ALLOW_FAULTS: invalid_argument" "$T/out" 1 \
    '^\{"ok":false,"error":\{"code":"invalid_argument","message":"[^"]*ENGRAM_ALLOW_FAULTS=1'
RC=0
printf '%s\n' '{"op":"set_faults","rules":"graph.*=explode"}' '{"op":"set_faults"}' |
    ENGRAM_ALLOW_FAULTS=1 timeout "$LIMIT" "$ENGRAM" --data "$H" exec >"$T/out" 2>"$T/err" || RC=$?
expect_line "set_faults with a bad rule" "$T/out" 1 '"code":"invalid_argument","message":"invalid fault rule .*explode'
expect_line "set_faults without rules" "$T/out" 2 '"code":"invalid_argument"'

# Under the fail policy: reads seen before are answered from the fallback cache (marked), a read never seen before
# is unavailable, 5 failures open the graph breaker and health says "down"; once the faults are cleared and the
# reset timeout (50 ms) has passed, two probes close the breaker and health is "ok" again.
N='{"op":"get_node","id":"known"}'
RC=0
{
    echo '{"op":"create_node","label":"Entity","id":"known"}'
    echo "$N"
    echo '{"op":"set_faults","rules":"graph.*=fail"}'
    echo '{"op":"get_node","id":"never-read"}'
    for _ in 1 2 3 4 5; do echo "$N"; done
    echo '{"op":"health"}'
    echo '{"op":"set_faults","rules":""}'
    sleep 0.2
    echo "$N"
    echo "$N"
    echo '{"op":"health"}'
} | ENGRAM_ALLOW_FAULTS=1 timeout "$LIMIT" "$ENGRAM" --data "$H" --set breaker.reset_timeout_ms=50 exec \
    >"$T/faults.out" 2>"$T/err" || RC=$?
cp "$T/faults.out" "$T/out"
expect_rc "faults session" 0
got=$(grep -c '' "$T/faults.out" || :)
if [ "$got" -eq 14 ]; then pass; else
    fail "faults session: expected 14 responses, got $got"
    detail
fi
expect_line "faults: a read before the faults" "$T/faults.out" 2 '^\{"ok":true,"result":\{"id":"known",.*\}\}$'
expect_line "faults: set_faults" "$T/faults.out" 3 '^\{"ok":true,"result":\{"rules":"graph\.\*=fail"\}\}$'
expect_line "faults: a read never made before is unavailable" "$T/faults.out" 4 \
    '^\{"ok":false,"error":\{"code":"unavailable",'
for n in 5 6 7 8 9; do
    expect_line "faults: read $((n - 4)) of a known node comes from the cache, marked" "$T/faults.out" "$n" \
        '^\{"ok":true,"result":\{"id":"known","label":"Entity","properties":\{\}\},"fallback":true\}$'
done
sed -n 10p "$T/faults.out" >"$T/health.json"
json_check "faults: health is down under the fail policy, the graph breaker open" "$T/health.json" \
    "r['ok'] and r['result']['status'] == 'down' and r['result']['stores']['graph']['breaker']['state'] == 'open' and r['result']['stores']['vectors']['breaker']['state'] == 'closed' and r['result']['write_policy'] == 'fail'" \
    '"status":"down".*"graph":\{"breaker":\{"state":"open"'
json_check "faults: the graph breaker's last error, without absolute paths" "$T/health.json" \
    "'injected fault' in r['result']['stores']['graph']['breaker']['last_error'] and '/' not in r['result']['stores']['graph']['breaker']['last_error']" \
    '"last_error":"injected fault[^"/]*"'
json_check "faults: the cache's hits" "$T/health.json" "r['result']['cache']['hits'] == 5" '"hits":5,'
expect_not_in "faults: health shows no absolute path" "$T/health.json" "$T"
expect_line "faults: cleared" "$T/faults.out" 11 '^\{"ok":true,"result":\{"rules":""\}\}$'
for n in 12 13; do
    expect_line "faults: after the reset timeout, probe $((n - 11)) reads the store (no fallback)" "$T/faults.out" "$n" \
        '^\{"ok":true,"result":\{"id":"known","label":"Entity","properties":\{\}\}\}$'
done
sed -n 14p "$T/faults.out" >"$T/health.json"
json_check "faults: health is ok again" "$T/health.json" \
    "r['result']['status'] == 'ok' and r['result']['stores']['graph']['breaker']['state'] == 'closed'" \
    '^\{"ok":true,"result":\{"status":"ok",'
expect_in "faults: the breaker opening is logged" "$T/err" '^engram: graph breaker closed -> open after 5 consecutive failures'
expect_in "faults: the breaker closing is logged" "$T/err" '^engram: graph breaker half_open -> closed'
run eg --data "$H" health
expect_rc "health in a later process: faults and breakers do not outlive their process" 0

# Under the queue policy the same outage is "degraded": memory writes are still accepted.
RC=0
{
    echo '{"op":"set_faults","rules":"graph.*=fail"}'
    for _ in 1 2 3 4 5; do echo '{"op":"get_node","id":"never-read"}'; done
    echo '{"op":"health"}'
} | ENGRAM_ALLOW_FAULTS=1 timeout "$LIMIT" "$ENGRAM" --data "$H" --set degrade.write_policy=queue exec \
    >"$T/out" 2>"$T/err" || RC=$?
expect_rc "faults session, queue policy" 0
for n in 2 3 4 5 6; do
    expect_line "faults, queue policy: read $((n - 1)) unavailable" "$T/out" "$n" '^\{"ok":false,"error":\{"code":"unavailable",'
done
sed -n 7p "$T/out" >"$T/health.json"
json_check "faults, queue policy: health is degraded, the graph breaker open" "$T/health.json" \
    "r['result']['status'] == 'degraded' and r['result']['stores']['graph']['breaker']['state'] == 'open' and r['result']['write_policy'] == 'queue'" \
    '"status":"degraded".*"graph":\{"breaker":\{"state":"open"'

# ---------------------------------------------------------------------------------------------------------------
# Client mode: `engram --url` sends each command's exec request to a running `engram serve` and prints what the
# command prints locally; a command that finds the folder held by the server names the URL to use.
run eg --help
expect_in "engram --help mentions --url" "$T/out" '^ +--url URL '
expect_in "engram --help mentions --api-key" "$T/out" '^ +--api-key KEY '
S=$T/served
# --foreground: the stop below is one SIGTERM, as a service manager sends it; without it, timeout passes a signal on
# twice (to the server, then to its process group).
: >"$T/serve.err" # emptied here: the child truncates it only once it runs, and a wait that
                    # starts first would read the previous server's lines
timeout --foreground 60 "$ENGRAM" --data "$S" serve --http 127.0.0.1:0 --bolt 127.0.0.1:0 --api-key k3y 2>"$T/serve.err" &
BG_PID=$!
i=0
while [ $i -lt 100 ] && ! grep -q '(port [0-9]*)' "$T/serve.err"; do
    sleep 0.1
    i=$((i + 1))
done
PORT=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$T/serve.err")
U=http://127.0.0.1:$PORT
expect_in "serve: prints the port it picked" "$T/serve.err" '\(port [1-9][0-9]*\)'
expect_in "serve: DATA/serve.url holds its URL" "$S/serve.url" "^$U\$"
run eg --data "$S" stats
expect_rc "a folder held by engram serve" 1
expect_in "a folder held by engram serve: says it is in use" "$T/err" "in use by another engram process"
expect_in "a folder held by engram serve: names --url with its URL" "$T/err" "pass --url $U "
run eg --url "$U" --api-key k3y remember --id 7 "the server remembers this"
expect_rc "--url remember" 0
expect_line "--url remember prints the id" "$T/out" 1 '^7$'
RC=0
ENGRAM_API_KEY=k3y timeout "$LIMIT" "$ENGRAM" --url "$U/" recall "remembers" >"$T/out" 2>"$T/err" || RC=$?
expect_rc "--url recall, the key from ENGRAM_API_KEY" 0
expect_line "--url recall finds it" "$T/out" 1 '^ 1\. [0-9.]+ +7 +the server remembers this$'
run eg --url "$U" --api-key k3y health
expect_rc "--url health" 0
expect_in "--url health: the verdict" "$T/out" '^ok$'
run eg --url "$U" --api-key k3y stats
expect_rc "--url stats" 0
cp "$T/out" "$T/remote-stats.out"
printf '%s\n' '{"op":"stats"}' '[1]' '{bad' '' '{"op":"no_such_op"}' '5' '{"op":"get_node","id":"7"}' >"$T/lines.in"
RC=0
timeout "$LIMIT" "$ENGRAM" --url "$U" --api-key k3y exec <"$T/lines.in" >"$T/remote-exec.out" 2>"$T/err" || RC=$?
expect_rc "--url exec" 0
if [ "$(wc -l <"$T/remote-exec.out")" -eq 6 ]; then pass; else
    fail "--url exec: one line out per request line" "got: $(cat "$T/remote-exec.out")"
fi
run eg --url "$U" --api-key wrong stats
expect_rc "--url with a wrong key" 1
expect_in "--url with a wrong key: says the server refused (401)" "$T/err" "answered HTTP 401"
expect_empty "--url with a wrong key: stdout" "$T/out"
usage_error "--url recover" --url "$U" recover
usage_error "--url archive run" --url "$U" archive run --older-than 1d
usage_error "--url serve" --url "$U" serve
usage_error "--url with --data" --url "$U" --data "$S" stats
usage_error "--url with --set" --url "$U" --set durability=none stats
usage_error "--api-key without --url" --api-key k3y stats
usage_error "--url of another scheme" --url "ftp://127.0.0.1:$PORT" stats
# engram mcp --url: the MCP tools over stdio, run on the server's folder.
RC=0
timeout "$LIMIT" "$ENGRAM" mcp --url "$U" --api-key k3y >"$T/out" 2>"$T/err" <<'EOF' || RC=$?
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"recall","arguments":{"text":"remembers"}}}
EOF
expect_rc "mcp --url: exit 0 at the end of input" 0
expect_in "mcp --url: the call ran on the server" "$T/out" '"id":2,"result":\{"content":\[\{"type":"text".*the server remembers this'
expect_not_in "mcp --url: no tool failure" "$T/out" '"isError"'
RC=0
timeout "$LIMIT" "$ENGRAM" mcp --url "$U" --api-key wrong >"$T/out" 2>"$T/err" <<'EOF' || RC=$?
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"recall","arguments":{"text":"anything"}}}
EOF
expect_rc "mcp --url with a wrong key: still exit 0" 0
expect_in "mcp --url with a wrong key: a tool failure" "$T/out" '"isError":true'
expect_in "mcp --url with a wrong key: the tool failure names the server" "$T/out" "engram serve at $U did not answer"
expect_in "mcp --url with a wrong key: the reason on stderr" "$T/err" "answered HTTP 401"
run eg mcp --data "$S"
expect_rc "mcp on a folder engram serve holds" 1
expect_in "mcp on a folder engram serve holds: names --url with its URL" "$T/err" "pass --url $U "
expect_empty "mcp on a folder engram serve holds: stdout" "$T/out"
usage_error "mcp --url with --data" mcp --url "$U" --data "$S"
usage_error "mcp --api-key without --url" mcp --api-key k3y
usage_error "mcp --url of another scheme" mcp --url "ftp://127.0.0.1:$PORT"
run eg --url http://127.0.0.1:1 stats
expect_rc "--url of no server" 1
expect_in "--url of no server: names the URL" "$T/err" "cannot reach engram serve at http://127.0.0.1:1"
kill -TERM "$BG_PID"
RC=0
wait "$BG_PID" || RC=$?
BG_PID=
if [ "$RC" -eq 0 ]; then pass; else fail "serve: exit 0 after SIGTERM, got $RC" "stderr: $(cat "$T/serve.err")"; fi
expect_absent "serve: DATA/serve.url removed at a clean stop" "$S/serve.url"
run eg --data "$S" stats
if cmp -s "$T/out" "$T/remote-stats.out"; then pass; else
    fail "--url stats prints what stats prints locally" "local: $(cat "$T/out")" "remote: $(cat "$T/remote-stats.out")"
fi
RC=0
eg --data "$S" exec <"$T/lines.in" >"$T/local-exec.out" 2>"$T/err" || RC=$?
if cmp -s "$T/local-exec.out" "$T/remote-exec.out"; then pass; else
    fail "--url exec prints what exec prints locally" "local: $(cat "$T/local-exec.out")" \
        "remote: $(cat "$T/remote-exec.out")"
fi

# ---------------------------------------------------------------------------------------------------------------
# engram mcp: MCP over stdio, one JSON-RPC message per line each way; stdout holds answers only.
M=$T/mcp-data
RC=0
timeout "$LIMIT" "$ENGRAM" mcp --data "$M" >"$T/out" 2>"$T/err" <<'EOF' || RC=$?
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"sh","version":"0"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
{not json

{"jsonrpc":"2.0","id":3,"method":"ping"}
{"jsonrpc":"2.0","id":4,"method":"no/such/method"}
{"jsonrpc":"2.0","id":"nul\u0000inside","method":"ping"}
{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"create_entities","arguments":{"entities":[{"name":"Ada","entityType":"person","observations":[]}]}}}
EOF
expect_rc "mcp: exit 0 at the end of input" 0
if [ "$(wc -l <"$T/out")" -eq 7 ]; then pass; else fail "mcp: one line per request, none for a notification" "$(cat "$T/out")"; fi
expect_in "mcp: \\u0000 in a string is JSON like any" "$T/out" '^\{"jsonrpc":"2.0","id":"nul\\u0000inside","result":\{\}\}$'
expect_in "mcp: initialize answers the client's revision" "$T/out" '^\{"jsonrpc":"2.0","id":1,"result":\{"protocolVersion":"2024-11-05"'
expect_in "mcp: tools/list" "$T/out" '"id":2,"result":\{"tools":\[\{"name":"create_entities"'
expect_in "mcp: a line that is not JSON: -32700 with a null id" "$T/out" '^\{"jsonrpc":"2.0","id":null,"error":\{"code":-32700'
expect_in "mcp: ping" "$T/out" '^\{"jsonrpc":"2.0","id":3,"result":\{\}\}$'
expect_in "mcp: an unknown method: -32601" "$T/out" '"id":4,"error":\{"code":-32601,"message":"method not found: no/such/method"'
expect_in "mcp: a tool call" "$T/out" '"id":5,"result":\{"content":.*"structuredContent":\{"entities":\[\{"name":"Ada"'
expect_empty "mcp: nothing on stderr" "$T/err"
# A cancelled call still in the queue never runs: four slow calls hold the four workers, the fifth waits and is
# cancelled; the end of input finishes the four, and the fifth's entity is not in the graph.
C=$T/mcp-cancel
RC=0
{
  echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"0"}}}'
  for i in 10 11 12 13 14; do
    echo '{"jsonrpc":"2.0","id":'$i',"method":"tools/call","params":{"name":"create_entities","arguments":{"entities":[{"name":"e'$i'","entityType":"t","observations":[]}]}}}'
  done
  echo '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":14,"reason":"not needed"}}'
  echo '{"jsonrpc":"2.0","id":20,"method":"ping"}'
} | ENGRAM_ALLOW_FAULTS=1 ENGRAM_FAULTS="graph.get_nodes=delay_ms:600" timeout "$LIMIT" "$ENGRAM" mcp --data "$C" \
    >"$T/out" 2>"$T/err" || RC=$?
expect_rc "mcp: cancelling a queued call" 0
for i in 10 11 12 13; do expect_in "mcp: call $i, not cancelled, is answered" "$T/out" '"id":'$i',"result":\{"content"'; done
expect_not_in "mcp: the cancelled call is not answered" "$T/out" '"id":14,'
RC=0
echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"0"}}}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_graph","arguments":{}}}' |
    timeout "$LIMIT" "$ENGRAM" mcp --data "$C" >"$T/out" 2>"$T/err" || RC=$?
expect_in "mcp: the calls answered are in the graph" "$T/out" '"name":"e13"'
expect_not_in "mcp: the cancelled call never ran" "$T/out" '"name":"e14"'
run eg mcp --data "$M"
expect_rc "mcp: empty input, exit 0" 0
expect_empty "mcp: empty input, no output" "$T/out"
RC=0
printf '{"jsonrpc":"2.0","id":"last","method":"ping"}' | timeout "$LIMIT" "$ENGRAM" mcp --data "$M" >"$T/out" 2>"$T/err" || RC=$?
expect_rc "mcp: a last line without its newline" 0
expect_in "mcp: a last line without its newline is answered" "$T/out" '"id":"last","result":\{\}'
# A line over the 64 MiB limit is a parse error, and the next line is still answered.
RC=0
{ head -c 67108870 /dev/zero | tr '\0' ' '; echo '1'; echo '{"jsonrpc":"2.0","id":6,"method":"ping"}'; } |
    timeout "$LIMIT" "$ENGRAM" mcp --data "$M" >"$T/out" 2>"$T/err" || RC=$?
expect_rc "mcp: an overlong line" 0
expect_line "mcp: an overlong line: -32700" "$T/out" 1 '"id":null,"error":\{"code":-32700,"message":"the line is longer than 67108864 bytes"'
expect_line "mcp: after an overlong line, the next is answered" "$T/out" 2 '"id":6,"result":\{\}'
# A stop signal ends it with exit 0.
sleep "$LIMIT" | "$ENGRAM" mcp --data "$M" >"$T/out" 2>"$T/err" &
BG_PID=$!
sleep 0.5
kill -TERM "$BG_PID"
RC=0
wait "$BG_PID" || RC=$?
BG_PID=
if [ "$RC" -eq 0 ]; then pass; else fail "mcp: exit 0 after SIGTERM, got $RC" "$(cat "$T/err")"; fi
run eg mcp --help
expect_rc "mcp --help" 0
expect_in "mcp --help: the client configuration" "$T/out" '"mcpServers"'
usage_error "mcp with an unknown argument" mcp --frobnicate
usage_error "mcp --data without a folder" mcp --data
run eg --help
expect_in "engram --help lists mcp" "$T/out" '^  mcp '

# ---------------------------------------------------------------------------------------------------------------
# engram serve: help, usage errors (exit 2), an address it cannot use (exit 1), and a folder another process holds:
# while a server holds it, a second server gets exit 1 and "in use"; the first stops with exit 0 on SIGTERM.
S=$T/serve-data
run eg --data "$S" serve --help
expect_rc "serve --help" 0
expect_in "serve --help: usage" "$T/out" "^usage: engram .*serve .*--http HOST:PORT"
usage_error "serve: unknown argument" --data "$S" serve --bogus
usage_error "serve: --http without a value" --data "$S" serve --http
usage_error "serve: --bolt without a value" --data "$S" serve --bolt
usage_error "serve: --tls-cert without --tls-key" --data "$S" serve --tls-cert "$T/cert.pem"
run eg --data "$S" serve --http no-port-here
expect_rc "serve: an address without a port" 1
expect_in "serve: the bad address is named" "$T/err" "no-port-here"
run eg --data "$S" serve --http 0.0.0.0:0
expect_rc "serve: a public address without a key" 1
expect_in "serve: the refusal names --insecure" "$T/err" "--insecure"
# Without syncs: a loaded machine's fsyncs must not count against the wait for the server to start.
: >"$T/serve.err" # emptied here: the child truncates it only once it runs, and a wait that
                    # starts first would read the previous server's lines
"$ENGRAM" --data "$S" --no-sync serve --http 127.0.0.1:0 --bolt 127.0.0.1:0 </dev/null >/dev/null 2>"$T/serve.err" &
BG_PID=$!
tries=0
until grep -q "listening on http://127.0.0.1:0 (port [1-9]" "$T/serve.err" || [ $tries -ge $((LIMIT * 10)) ]; do
    sleep 0.1
    tries=$((tries + 1))
done
cp "$T/serve.err" "$T/err" # so that a failure's detail shows the server's stderr
expect_in "serve: says where it listens" "$T/err" "listening on http://127.0.0.1:0 \(port [1-9][0-9]*\)"
expect_in "serve: says where Bolt listens" "$T/err" "Bolt on bolt://127.0.0.1:0, port [1-9][0-9]*"
# Only the main thread may take SIGINT and SIGTERM (in sigwait): any other thread must block both (bits 2 and 15 of
# SigBlk, 0x4002), or a signal it takes kills the process instead of stopping it cleanly. The main thread itself
# shows them unblocked while it waits in sigwait.
unblocked=
for status in /proc/"$BG_PID"/task/*/status; do
    [ "$status" = "/proc/$BG_PID/task/$BG_PID/status" ] && continue
    mask=$(sed -n 's/^SigBlk:[[:space:]]*//p' "$status")
    [ $((0x$mask & 0x4002)) -eq $((0x4002)) ] || unblocked="$unblocked $status"
done
if [ -z "$unblocked" ]; then pass; else fail "serve: threads that do not block SIGINT and SIGTERM:$unblocked"; fi
run eg --data "$S" serve --http 127.0.0.1:0
expect_rc "second server on a folder in use" 1
expect_in "second server: says the folder is in use" "$T/err" "in use"
# Two signals at once, as `timeout` or a process-group kill delivers them: the second must not kill the stopping
# server.
kill -TERM "$BG_PID"
kill -TERM "$BG_PID"
tries=0
while kill -0 "$BG_PID" 2>/dev/null && [ $tries -lt $((LIMIT * 10)) ]; do
    sleep 0.1
    tries=$((tries + 1))
done
RC=0
wait "$BG_PID" || RC=$?
BG_PID=
if [ "$RC" -eq 0 ]; then pass; else
    fail "serve: expected exit 0 after SIGTERM, got $RC" "stderr: $(cat "$T/serve.err")"
fi
expect_in "serve: says it is finishing on SIGTERM" "$T/serve.err" "finishing the requests in flight"

# HTTP off (--http '' or serve.http empty): Bolt only, and no DATA/serve.url (no --url can reach it); both off is
# an error that says so.
usage_error "serve: --http '' and --bolt ''" --data "$U" serve --http '' --bolt ''
expect_in "serve: both off: says there is nothing to serve" "$T/err" "nothing to serve"
run eg --data "$S" --set serve.http= serve --bolt ''
expect_rc "serve: serve.http empty and --bolt ''" 2
expect_in "serve: serve.http empty and --bolt '': says both are off" "$T/err" "both off"
: >"$T/serve.err" # emptied here: the child truncates it only once it runs, and a wait that
                    # starts first would read the previous server's lines
"$ENGRAM" --data "$S" --no-sync serve --http '' --bolt 127.0.0.1:0 </dev/null >/dev/null 2>"$T/serve.err" &
BG_PID=$!
tries=0
until grep -q "HTTP is off" "$T/serve.err" || [ $tries -ge $((LIMIT * 10)) ]; do
    sleep 0.1
    tries=$((tries + 1))
done
cp "$T/serve.err" "$T/err"
expect_in "serve --http '': Bolt listens" "$T/err" "Bolt on bolt://127.0.0.1:0, port [1-9][0-9]*"
expect_in "serve --http '': says HTTP is off" "$T/err" "HTTP is off, Bolt only"
expect_absent "serve --http '': no DATA/serve.url" "$S/serve.url"
kill -TERM "$BG_PID"
RC=0
wait "$BG_PID" || RC=$?
BG_PID=
if [ "$RC" -eq 0 ]; then pass; else fail "serve --http '': expected exit 0 after SIGTERM, got $RC" "$(cat "$T/serve.err")"; fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
