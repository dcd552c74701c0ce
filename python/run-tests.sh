#!/bin/sh
# run-tests.sh ENGRAM_LIBRARY ENGRAM_BIN — installs the Python package into a throwaway venv (offline: the package
# builds with its in-tree backend) and runs its pytest suite against that libengram.so and engram command.
# Debian's python3 is used so that its python3-pytest and python3-numpy are seen (--system-site-packages).
# Exit 77 (ctest's "skipped") when python3-venv or pytest is missing, so a machine without them skips the test.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 ENGRAM_LIBRARY ENGRAM_BIN (e.g. build/libengram.so build/engram)" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
absolute() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
ENGRAM_LIBRARY=$(absolute "$1")
ENGRAM_BIN=$(absolute "$2")
for file in "$ENGRAM_LIBRARY" "$ENGRAM_BIN"; do
    [ -f "$file" ] || { echo "run-tests.sh: $file does not exist (build engram first)" >&2; exit 2; }
done
export ENGRAM_LIBRARY ENGRAM_BIN

python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)
if [ -z "$python" ]; then
    echo "run-tests.sh: SKIPPED: no python3" >&2
    exit 77
fi
if ! "$python" -c 'import pytest' 2>/dev/null; then
    echo "run-tests.sh: SKIPPED: pytest is missing for $python (apt-get install python3-pytest)" >&2
    exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/engram-python-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
if ! "$python" -m venv --system-site-packages "$work/venv" >"$work/venv.log" 2>&1; then
    cat "$work/venv.log" >&2
    echo "run-tests.sh: SKIPPED: $python cannot make a venv (apt-get install python3-venv)" >&2
    exit 77
fi
# --no-build-isolation: the backend is in the tree and needs nothing, so no index is ever asked.
"$work/venv/bin/python" -m pip install --quiet --no-index --no-build-isolation "$here" >"$work/pip.log" 2>&1 || {
    cat "$work/pip.log" >&2
    echo "run-tests.sh: pip install of $here failed" >&2
    exit 1
}
# From the work folder, so that the installed package is tested, not the source next to the tests; the cache
# stays out of the source tree.
cd "$work"
"$work/venv/bin/python" -c "import engram, sys; sys.exit(not engram.__file__.startswith(\"$work/\"))" || { echo "run-tests.sh: the venv does not import the installed package" >&2; exit 1; }
# A sanitizer build's library needs its runtime loaded first: ENGRAM_PYTHON_PRELOAD names it (tests/CMakeLists.txt),
# preloaded into the test run only, not into pip.
LD_PRELOAD=${ENGRAM_PYTHON_PRELOAD:-} "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests"
