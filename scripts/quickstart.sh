#!/usr/bin/env bash
# engram's main job, from nothing: install what is missing, build, and run a short memory session against a
# fresh data folder — it creates a small memory graph through `engram exec`, then shows a path and a
# neighbourhood with the human commands.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target engram >/dev/null

data=$(mktemp -d)/engram-data
trap 'rm -rf "$(dirname "$data")"' EXIT
engram=(build/engram --data "$data")

echo "== a memory session through 'engram exec' (one JSON operation per line): a graph, then vectors"
"${engram[@]}" exec < examples/memory-session.jsonl
echo
echo "== engram path alice roadmap-doc"
"${engram[@]}" path alice roadmap-doc
echo
echo "== engram node rels standup-2026-11-20   (the neighbourhood of an episode)"
"${engram[@]}" node rels standup-2026-11-20
echo
echo "== engram stats"
"${engram[@]}" stats
