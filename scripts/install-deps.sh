#!/usr/bin/env bash
# Installs, from Debian's packages, whatever engram needs to build and test that this machine lacks.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

# clang and libclang-rt-14-dev (Debian 12's libFuzzer) build the fuzzers (scripts/fuzz.sh).
# libmicrohttpd-dev: the HTTP server of `engram serve`; libgnutls28-dev: TLS on Bolt; gnutls-bin: certtool, which
# makes the TLS tests' certificate;
# libcurl4-openssl-dev: the Qdrant vector backend and the `engram` command's client mode (--url); curl: the TLS test's HTTPS client;
# libssl-dev: TLS of the Bolt client (bolt+s://, neo4j+s://), with OpenSSL.
# python3-venv, python3-pytest, python3-numpy: the Python package's tests (python/run-tests.sh installs the package
# into a venv that sees these, offline).
packages=(build-essential cmake pkg-config liblmdb-dev libjansson-dev zlib1g-dev clang libclang-rt-14-dev
          libmicrohttpd-dev libgnutls28-dev gnutls-bin libcurl4-openssl-dev curl libssl-dev
          python3-venv python3-pytest python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
