#!/usr/bin/env bash
# make demo: code generation, then a Plexus service called from Swift and from Python.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== building (first build takes a few minutes)"
swift build 2>&1 | tail -1
BIN=$(swift build --show-bin-path)
work=$(mktemp -d)
server_pid=""
graph_pids=()
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    for p in "${graph_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
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
echo "== 4. a graph: a Swift publisher, a Python subscriber, a settings change applied live"
"$BIN/plexus" graph serve --port 0 > "$work/graph.out" &
graph_pids+=($!)
for _ in $(seq 1 100); do grep -q listening "$work/graph.out" 2>/dev/null && break; sleep 0.05; done
export PLEXUS_GRAPH_ADDRESS=$(awk '/listening on/{print $3}' "$work/graph.out")
echo "   graph server at $PLEXUS_GRAPH_ADDRESS"
"$BIN/plexus-graph-peer" own --unit filter > "$work/owner.out" &
graph_pids+=($!)
.venv/bin/python clients/python/plexus_graph_peer.py subscribe --topic samples --count 5 > "$work/sub.out" &
sub_pid=$!
for _ in $(seq 1 200); do grep -q ready "$work/sub.out" 2>/dev/null && grep -q ready "$work/owner.out" 2>/dev/null && break; sleep 0.05; done
"$BIN/plexus-graph-peer" publish --topic samples --count 5 --rate 4 > "$work/pub.out" &
pub_pid=$!
sleep 0.8
echo "   -- topology while the pipeline runs --"
"$BIN/plexus" topology | sed 's/^/   /'
echo "   -- per-process statistics (plexus profile), Swift and Python members alike --"
"$BIN/plexus" profile | sed 's/^/   /'
wait "$pub_pid" "$sub_pid"
sed 's/^/   swift publisher: /' "$work/pub.out"
sed 's/^/   python subscriber: /' "$work/sub.out"
echo "   -- settings before --"
"$BIN/plexus" settings get filter | sed 's/^/   /'
.venv/bin/python clients/python/plexus_graph_peer.py set --unit filter --field cutoff_hz --value 42.5 | sed 's/^/   python: /'
.venv/bin/python clients/python/plexus_graph_peer.py set --unit filter --field cutoff_hz --value 5000 | sed 's/^/   python: /'
sleep 0.2
sed 's/^/   swift owner: /' "$work/owner.out"
echo "   -- settings log --"
"$BIN/plexus" settings watch --count 2 | sed 's/^/   /'
echo
echo "== done: see README.md and docs/GRAPH.md for what to try next"
