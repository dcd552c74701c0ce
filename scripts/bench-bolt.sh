#!/usr/bin/env bash
# engram over Bolt against engram in-process, on this machine: builds engram and bench/bolt_bench (optimised), runs
# bolt_bench (a C Bolt client against an in-process listener, next to the same work through the C graph API), then
# starts `engram serve --bolt` on a free loopback port over a scratch data folder, loads the same graph into it
# (`engram exec` batches, before the server opens the folder), runs bench/bolt_driver_bench.mjs (the official
# neo4j-driver) against it with bolt_bench's figures as its baseline, and stops the server. There is no peer: no
# Neo4j here, so every ratio compares engram over Bolt with engram in-process. Clients and server share this
# machine's cores: compare figures of one run only.
#
# usage: scripts/bench-bolt.sh [--nodes N] [--seconds S] [--runs R]   (defaults 10000, 0.5, 3; both benches take them)
set -euo pipefail
cd "$(dirname "$0")/.."

nodes=10000
bench_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; bench_args+=("$1" "$2"); shift 2 ;;
    --seconds | --runs) bench_args+=("$1" "$2"); shift 2 ;;
    *) echo "usage: scripts/bench-bolt.sh [--nodes N] [--seconds S] [--runs R]" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
scripts/install-node-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target engram bolt_bench >/dev/null

scratch=$(mktemp -d "${TMPDIR:-/tmp}/engram-bench-bolt.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || :; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

build-bench/bench/bolt_bench "${bench_args[@]}" | tee "$scratch/bolt_bench.out"

# The graph of bolt_bench: Entity nodes e0 .. e(N-1) with a name; e(i) -RELATES_TO-> e(i+1) and
# e(i) -SIMILAR_TO-> e((31 i + 7) mod N), self-loops left out; 1000 nodes or 500 nodes' relationships per batch.
awk -v n="$nodes" '
function node(i) { return "{\"label\":\"Entity\",\"id\":\"e" i "\",\"properties\":{\"name\":\"entity e" i "\"}}" }
function rel(s, t, type) { return "{\"source_id\":\"e" s "\",\"target_id\":\"e" t "\",\"type\":\"" type "\"}" }
BEGIN {
  for (first = 0; first < n; first += 1000) {
    line = "{\"op\":\"batch_create_nodes\",\"nodes\":["
    for (i = first; i < n && i < first + 1000; i++) line = line (i > first ? "," : "") node(i)
    print line "]}"
  }
  for (first = 0; first < n; first += 500) {
    line = "{\"op\":\"batch_create_relationships\",\"relationships\":["
    sep = ""
    for (i = first; i < n && i < first + 500; i++) {
      next_id = (i + 1) % n; similar = (31 * i + 7) % n
      if (next_id != i) { line = line sep rel(i, next_id, "RELATES_TO"); sep = "," }
      if (similar != i) { line = line sep rel(i, similar, "SIMILAR_TO"); sep = "," }
    }
    print line "]}"
  }
}' | build-bench/engram --data "$scratch/data" --no-sync exec >"$scratch/load.out"
if grep -q '"ok":false' "$scratch/load.out"; then
  echo "bench-bolt: loading the graph failed:" >&2
  grep '"ok":false' "$scratch/load.out" | head -3 >&2
  exit 1
fi

ENGRAM_BOLT_PASSWORD=bench-bolt-$$
export ENGRAM_BOLT_PASSWORD
build-bench/engram --data "$scratch/data" --no-sync serve --http '' --bolt 127.0.0.1:0 2>"$scratch/serve.log" &
server_pid=$!
for _ in $(seq 200); do
  grep -q 'HTTP is off' "$scratch/serve.log" && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
port=$(sed -n 's/.*Bolt on bolt:.*, port \([0-9][0-9]*\).*/\1/p' "$scratch/serve.log")
if [ -z "$port" ]; then
  echo "bench-bolt: engram serve did not start:" >&2
  cat "$scratch/serve.log" >&2
  exit 1
fi

node bench/bolt_driver_bench.mjs --address "127.0.0.1:$port" --baseline "$scratch/bolt_bench.out" "${bench_args[@]}"

kill -TERM "$server_pid"
wait "$server_pid"
server_pid=
