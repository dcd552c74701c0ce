#!/bin/sh
# run.sh — the ctest `bolt_js`: runs the official Neo4j JavaScript driver's tests (tests/bolt-js/*.test.mjs,
# `node --test`) against three `engram serve`s on loopback ports they pick themselves, each on a data folder of its
# own: one with HTTP and plain Bolt over the default graph.schema, t4dm (ENGRAM_BOLT_URL for Bolt, ENGRAM_HTTP_URL
# for the same folder's `POST /v1/exec`); one with Bolt only (`--http ''`) over TLS with a self-signed certificate
# made here (ENGRAM_BOLT_TLS_URL; the certificate is in NODE_EXTRA_CA_CERTS, so that bolt+s:// can verify it); one
# with Bolt only and `--set graph.schema=open` (ENGRAM_BOLT_OPEN_URL). Then it stops all three with SIGTERM and
# checks that each exits 0 within STOP_LIMIT seconds.
#
# Usage: sh tests/bolt-js/run.sh PATH_TO_ENGRAM
# Exits 77 (ctest's SKIP_RETURN_CODE) when node is not installed; 1 on any failure.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: sh tests/bolt-js/run.sh PATH_TO_ENGRAM" >&2
    exit 2
fi
ENGRAM=$1
HERE=$(cd "$(dirname "$0")" && pwd)
START_LIMIT=20 # seconds for the server to print its ports
TEST_LIMIT=120 # seconds for the whole node --test run
STOP_LIMIT=15  # seconds for the server to exit after SIGTERM

WHO=bolt_js
. "$HERE/../background.sh"
bg_node_suite neo4j-driver
cleanup() {
    bg_cleanup
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A self-signed certificate for 127.0.0.1 and localhost, as the C tests make theirs (tests/test_harness.c).
if command -v certtool >/dev/null 2>&1; then
    printf 'cn = "engram test"\nip_address = "127.0.0.1"\ndns_name = "localhost"\nexpiration_days = 2\nca\n%s\n' \
        'cert_signing_key
signing_key
encryption_key
tls_www_server' >"$T/cert.cfg"
    certtool --generate-privkey --key-type=ecdsa --outfile "$T/key.pem" >/dev/null 2>&1
    certtool --generate-self-signed --load-privkey "$T/key.pem" --template "$T/cert.cfg" --outfile "$T/cert.pem" \
        >/dev/null 2>&1
elif command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj '/CN=engram test' \
        -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
else
    echo "bolt_js: neither certtool (gnutls-bin) nor openssl can make the TLS test's certificate" >&2
    exit 1
fi

ENGRAM_BOLT_PASSWORD=bolt-test-password-$$
export ENGRAM_BOLT_PASSWORD

# start_server NAME READY ARGS...: starts `engram ARGS` (global options, then `serve` and its own) on the data folder
# $T/NAME, and waits until its log ($T/NAME.log) has a line matching READY.
start_server() {
    name=$1
    ready=$2
    shift 2
    bg_start "$name" "$ENGRAM" --data "$T/$name" --no-sync "$@"
    bg_wait "$name" "/$ready/p"
}

# the Bolt line comes before the HTTP one; once the HTTP line is there, both listen
start_server plain 'listening on http' serve --http 127.0.0.1:0 --bolt 127.0.0.1:0
ENGRAM_BOLT_URL=127.0.0.1:$(sed -n 's/.*Bolt on bolt:.*, port \([0-9][0-9]*\).*/\1/p' "$T/plain.log")
ENGRAM_HTTP_URL=http://127.0.0.1:$(sed -n 's/.*listening on http:.*(port \([0-9][0-9]*\)).*/\1/p' "$T/plain.log")
start_server tls 'HTTP is off' serve --http '' --bolt 127.0.0.1:0 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
ENGRAM_BOLT_TLS_URL=127.0.0.1:$(sed -n 's/.*Bolt on bolt+s:.*, port \([0-9][0-9]*\).*/\1/p' "$T/tls.log")
start_server open 'HTTP is off' --set graph.schema=open serve --http '' --bolt 127.0.0.1:0
ENGRAM_BOLT_OPEN_URL=127.0.0.1:$(sed -n 's/.*Bolt on bolt:.*, port \([0-9][0-9]*\).*/\1/p' "$T/open.log")
NODE_EXTRA_CA_CERTS=$T/cert.pem
export ENGRAM_BOLT_URL ENGRAM_HTTP_URL ENGRAM_BOLT_TLS_URL ENGRAM_BOLT_OPEN_URL NODE_EXTRA_CA_CERTS

status=0
timeout "$TEST_LIMIT" node --test "$HERE"/*.test.mjs || status=1
for name in plain tls open; do bg_stop "$name" || status=1; done
exit $status
