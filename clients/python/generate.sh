#!/usr/bin/env bash
# Regenerates the committed _pb2 modules from ../../proto with the system protoc (Debian's
# protobuf-compiler). They live inside the `plexus` package (plexus/rpc/v1/status_pb2.py, ...),
# matching the proto packages, so their own imports resolve.
set -euo pipefail
cd "$(dirname "$0")"
root=../..
out=src
find "$out/plexus" -name '*_pb2.py' -delete
protos=$(cd "$root/proto" && find plexus -name '*.proto' | LC_ALL=C sort)
protoc -I"$root/proto" -I/usr/include --python_out="$out" $protos
