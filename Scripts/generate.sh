#!/usr/bin/env bash
# Regenerates every committed generated file: the runtime's protos (Sources/PlexusProto +
# Sources/CPlexusProto) and the test fixtures. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product plexus-codegen >/dev/null
swift build --product protoc-gen-plexus-swift >/dev/null
BIN=$(swift build --show-bin-path)
CODEGEN="$BIN/plexus-codegen"

WKT="google/protobuf/any.proto google/protobuf/duration.proto google/protobuf/timestamp.proto
     google/protobuf/empty.proto google/protobuf/struct.proto google/protobuf/wrappers.proto
     google/protobuf/field_mask.proto"
PLEXUS=$(cd proto && find plexus -name '*.proto' | LC_ALL=C sort)

# Runtime protos. descriptor.proto and plugin.proto are C only (the generator reads them).
"$CODEGEN" --clean --proto-path proto --swift-out Sources/PlexusProto --c-out Sources/CPlexusProto \
    --c-module CPlexusProto --no-services $WKT $PLEXUS
protoc -I/usr/include --c_out=Sources/CPlexusProto google/protobuf/descriptor.proto google/protobuf/compiler/plugin.proto
for f in google/protobuf/descriptor google/protobuf/compiler/plugin; do
    mkdir -p "Sources/CPlexusProto/include/$(dirname $f)"
    mv "Sources/CPlexusProto/$f.pb-c.h" "Sources/CPlexusProto/include/$f.pb-c.h"
done

# Service code for proto/ services lives beside the request plane (PlexusProto cannot import it).
"$CODEGEN" --clean --services-only --proto-path proto --swift-out Sources/PlexusInterop/Generated \
    --imports PlexusProto plexus/testing/v1/test_service.proto
"$CODEGEN" --clean --services-only --proto-path proto --swift-out Sources/PlexusGraph/Generated \
    --imports PlexusProto plexus/graph/v1/graph.proto plexus/graph/v1/pubsub.proto

# Test fixtures.
FIXTURES=$(cd Tests/Fixtures/proto && find plexus -name '*.proto' | LC_ALL=C sort)
"$CODEGEN" --clean --proto-path Tests/Fixtures/proto --proto-path proto \
    --swift-out Tests/Fixtures/PlexusTestProto --c-out Tests/Fixtures/CPlexusTestProto \
    --c-module CPlexusTestProto --imports PlexusProto ${PLEXUS_FIXTURE_FLAGS:-} $FIXTURES

# The benchmark package (also the example of a user package with its own generated code).
"$CODEGEN" --clean --proto-path Benchmarks/proto --swift-out Benchmarks/Sources/BenchProto \
    --c-out Benchmarks/Sources/CBenchProto --c-module CBenchProto --imports PlexusProto \
    plexus/bench/v1/bench.proto

# Python _pb2 modules for the Python client.
bash clients/python/generate.sh
