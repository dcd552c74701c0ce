#!/usr/bin/env bash
# Soak test of crash safety: builds engram optimised and runs the memory crash test (tests/test_memory_crash.c)
# with thousands of random kills of a writer instead of the default 200 — 5000 in NONE durability and a tenth
# as many in GROUP — plus its deterministic kills and torn log tails. Exits non-zero on any failure.
#   ENGRAM_CRASH_KILLS  kills of the NONE run (default 5000)
#   ENGRAM_CRASH_SEED   replays a failing run's writes (the test prints the seed it used)
# It builds in build-soak/, apart from the test suite's build folders.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "== build (release)"
cmake -S . -B build-soak -DCMAKE_BUILD_TYPE=RelWithDebInfo -DENGRAM_BUILD_BENCH=OFF >/dev/null
cmake --build build-soak -j"$(nproc)" --target test_memory_crash >/dev/null
echo "== test_memory_crash, ENGRAM_CRASH_KILLS=${ENGRAM_CRASH_KILLS:-5000}"
ENGRAM_CRASH_KILLS="${ENGRAM_CRASH_KILLS:-5000}" build-soak/tests/test_memory_crash
