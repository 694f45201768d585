#!/bin/sh
# Makes sure the Debian 12 packages siplint builds and tests with are there.
# As root, installs what is missing with apt-get; otherwise prints the exact
# command and fails.  Called by `make deps` (and so by `make check`/`make demo`).
set -u
# build: compiler, pkg-config, the five libraries, clang for the sanitizer build;
# tests: sqlite3 (queries in tests), sip-tester + tcpdump + tshark (the SIPp load test)
need="build-essential pkg-config libpcap-dev libosip2-dev libsqlite3-dev libjson-c-dev libcmocka-dev clang libclang-rt-14-dev sqlite3 sip-tester tcpdump tshark"
missing=""
for p in $need; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "siplint: installing missing packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2 || {
        echo "siplint: apt-get install failed" >&2
        exit 1
    }
    exit 0
fi
echo "siplint: missing packages:$missing" >&2
echo "siplint: run:  sudo apt-get install -y$missing" >&2
exit 1
