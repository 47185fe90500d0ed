#!/usr/bin/env bash
# make demo: the codec round trip between Swift and Python.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== building"
swift build --product plexus-codec-demo --product plexus-codegen --product protoc-gen-plexus-swift 2>&1 | tail -1
BIN=$(swift build --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== generating Swift + protobuf-c code for an example .proto with plexus-codegen"
"$BIN/plexus-codegen" --proto-path Benchmarks/proto --swift-out "$work/swift" --c-out "$work/c" \
    --c-module CBenchProto --imports PlexusProto plexus/bench/v1/bench.proto
find "$work/swift" "$work/c" -type f | sed "s|$work/||" | sort | sed 's/^/   /'

echo "== Swift ⇄ Python over protobuf bytes"
"$BIN/plexus-codec-demo" encode "$work/request.bin"
.venv/bin/python Scripts/demo_codec_peer.py "$work"
"$BIN/plexus-codec-demo" decode "$work/response.bin"
