#!/usr/bin/env bash
# engram's main job, from nothing: install what is missing, build, and run a short memory session against a
# fresh embedded data folder — it loads a small set of memories with relationships through `engram exec`,
# recalls with graph context, deletes one memory, archives the older episodes and restores one, and shows that
# both stores agree (`engram check`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target engram >/dev/null

data=$(mktemp -d)/engram-data
trap 'rm -rf "$(dirname "$data")"' EXIT
engram=(build/engram --data "$data")

echo "== load memories through 'engram exec' (one JSON operation per line; vectors from the lexical embedder)"
"${engram[@]}" exec < examples/memory-session.jsonl
echo
echo "== engram remember: one more memory from the command line"
"${engram[@]}" remember "Alice benchmarked group commit: eight writers share one fsync" --session s-44 \
    --relate RELATES_TO:1
echo
echo "== engram recall 'write-ahead log crash' --expand 1   (hits with their graph neighbours)"
"${engram[@]}" recall "write-ahead log crash" --limit 3 --expand 1
echo
echo "== delete the lunch order (its point, node and relationships go together)"
echo '{"op":"delete_memory","id":"6f1c2a4e-0000-4000-8000-000000000004","type":"episode"}' | "${engram[@]}" exec
echo
echo "== engram archive run --older-than 6h   (the bundled episodes, dated in the past, leave both stores for DATA/archive)"
"${engram[@]}" archive run --older-than 6h
"${engram[@]}" archive list
echo
echo "== engram archive restore 6f1c2a4e-0000-4000-8000-000000000002   (back into both stores, with its relationships)"
"${engram[@]}" archive restore 6f1c2a4e-0000-4000-8000-000000000002
echo
echo "== engram check   (every memory in both stores, no orphans, no dead letters)"
"${engram[@]}" check
