#!/usr/bin/env bash
# Installs what the Qdrant client tests (tests/qdrant-js/) need: Node and npm when npm is missing (Debian's
# `nodejs npm`; an image that ships its own Node keeps it, since Debian's npm conflicts with it), then the pinned
# packages of tests/qdrant-js/package-lock.json with `npm ci`. Skips the download when node_modules already
# matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/../tests/qdrant-js"

if ! command -v npm >/dev/null 2>&1; then
  echo "installing: nodejs npm"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq nodejs npm >/dev/null
fi

# npm ci writes node_modules/.package-lock.json, a copy of what it installed: holding every package of the lock file
# at its version (optional ones, such as other platforms' binaries, aside) means there is nothing to do.
if [ -f node_modules/.package-lock.json ] &&
   node -e '
     const fs = require("fs");
     const want = JSON.parse(fs.readFileSync("package-lock.json")).packages;
     const have = JSON.parse(fs.readFileSync("node_modules/.package-lock.json")).packages;
     for (const [path, pkg] of Object.entries(want)) {
       if (path && !pkg.optional && (!have[path] || have[path].version !== pkg.version)) process.exit(1);
     }' 2>/dev/null; then
  exit 0
fi
echo "installing the Qdrant client tests' npm packages (tests/qdrant-js)"
npm ci --no-audit --no-fund --loglevel=error
