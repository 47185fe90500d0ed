#!/usr/bin/env bash
# make demo: code generation, then a Plexus service called from Swift and from Python.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== building (first build takes a few minutes)"
swift build 2>&1 | tail -1
BIN=$(swift build --show-bin-path)
work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo
echo "== 1. generating Swift + protobuf-c code for an example .proto with plexus-codegen"
"$BIN/plexus-codegen" --proto-path Benchmarks/proto --swift-out "$work/swift" --c-out "$work/c" \
    --c-module CBenchProto --imports PlexusProto plexus/bench/v1/bench.proto
find "$work/swift" "$work/c" -type f | sed "s|$work/||" | sort | sed 's/^/   /'

echo
echo "== 2. the same protobuf bytes in Swift and in Python"
"$BIN/plexus-codec-demo" encode "$work/request.bin"
.venv/bin/python Scripts/demo_codec_peer.py "$work"
"$BIN/plexus-codec-demo" decode "$work/response.bin"

echo
echo "== 3. a Plexus service (plexus.testing.v1.TestService) on the libuv request plane"
mkfifo "$work/stdin"
"$BIN/plexus-interop-server" --port 0 < "$work/stdin" > "$work/server.out" &
server_pid=$!
exec 3> "$work/stdin"   # the server runs until this closes
for _ in $(seq 1 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.05; done
port=$(awk '/listening/{print $2}' "$work/server.out")
echo "   server listening on 127.0.0.1:$port (port 0 = OS-assigned)"
"$BIN/plexus-demo-client" --port "$port"
.venv/bin/python Scripts/demo_python_client.py "$port"
exec 3>&-
wait "$server_pid" 2>/dev/null || true
server_pid=""
echo
echo "== done: see README.md for what to try next"
