#!/bin/sh
# install_test.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS] — `cmake --install` into a scratch prefix, then build the
# quick-start example against the installed headers and library through pkg-config alone, and run it.
set -eu
build=$1 src=$2 extra=${3:-}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/engram/engram.h include/engram/graph.h include/engram/exec.h include/engram/status.h bin/engram; do
    [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
pc_dir=$(dirname "$(find "$prefix" -name engram.pc | head -n 1)")
flags=$(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags --libs engram)
libdir=$(PKG_CONFIG_PATH=$pc_dir pkg-config --variable=libdir engram)
# shellcheck disable=SC2086 # flags are word lists
cc -std=c11 -Wall -Werror $extra -o "$prefix/quickstart" "$src/examples/quickstart.c" $flags -Wl,-rpath,"$libdir"
"$prefix/quickstart" "$prefix/data" | grep -q "recalled 2 (score 1.00) with neighbour 1" || { echo "installed quickstart failed"; exit 1; }
"$prefix/bin/engram" --version | grep -q "^engram " || { echo "installed engram does not run"; exit 1; }
echo "installed library, headers, pkg-config file and engram work"
