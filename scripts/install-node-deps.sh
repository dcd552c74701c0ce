#!/usr/bin/env bash
# Installs what the Node client tests need (tests/qdrant-js/: the Qdrant client; tests/bolt-js/: the Neo4j
# driver; tests/mcp-js/: the MCP SDK and the reference memory server): Node and npm when npm is missing (Debian's
# `nodejs npm`; an image that ships its own Node keeps it, since Debian's npm conflicts with it), then the pinned
# packages of each folder's package-lock.json with `npm ci`. Skips a folder's download when its node_modules
# already matches its lock file.
set -euo pipefail
tests_dir="$(cd "$(dirname "$0")/../tests" && pwd)"

if ! command -v npm >/dev/null 2>&1; then
  echo "installing: nodejs npm"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq nodejs npm >/dev/null
fi

install_folder() {
  local folder=$1
  cd "$tests_dir/$folder"
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
    return 0
  fi
  echo "installing the npm packages of tests/$folder"
  npm ci --no-audit --no-fund --loglevel=error
}

install_folder qdrant-js
install_folder bolt-js
install_folder mcp-js
