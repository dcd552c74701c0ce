#!/usr/bin/env bash
# engram serve against the library on this machine: builds bench/serve_bench (optimised) and runs it — a keep-alive
# HTTP load over loopback against an in-process server next to the same query and upsert work through the C API
# (bench/serve_bench.c says what each figure measures). Clients and server share this machine's cores, so compare
# figures from one run only.
#
# usage: scripts/bench-serve.sh [serve_bench options...]
#        e.g. scripts/bench-serve.sh --points 10000 --dim 128 --clients 4 --seconds 3
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target serve_bench >/dev/null
build-bench/bench/serve_bench "$@"
