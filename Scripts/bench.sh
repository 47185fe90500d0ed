#!/usr/bin/env bash
# make bench: the request-plane benchmark (Plexus vs a raw libuv C echo, separate processes)
# and the codec benchmark (Plexus vs swift-protobuf), release builds. Bounded: ~40 s of runs.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product plexus-echo-baseline >/dev/null
swift build -c release --product plexus-bench >/dev/null
"$(swift build -c release --show-bin-path)/plexus-bench" run --seconds "${PLEXUS_BENCH_SECONDS:-3}"
echo
# The graph: pub/sub, settings and scale (uses the plexus CLI and plexus-graph-peer).
for p in plexus plexus-graph-peer plexus-graph-bench; do swift build -c release --product $p >/dev/null; done
"$(swift build -c release --show-bin-path)/plexus-graph-bench" run --seconds "${PLEXUS_BENCH_SECONDS:-3}"
echo
swift build -c release --package-path Benchmarks --product plexus-codec-bench >/dev/null
Benchmarks/.build/release/plexus-codec-bench
