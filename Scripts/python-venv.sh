#!/usr/bin/env bash
# Creates (or refreshes) the Python venv the interop tests and the demo use: .venv at the
# repository root with Google's protobuf runtime, pytest and the Plexus Python client.
# Idempotent and fast when nothing changed (a stamp keyed on this file's requirements).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
# protobuf 4.25 accepts the _pb2 code that Debian's protoc 3.21 generates.
REQUIREMENTS="protobuf==4.25.8 pytest==8.3.5"
stamp="$VENV/.plexus-stamp"
want="$REQUIREMENTS|$(sha1sum clients/python/pyproject.toml 2>/dev/null | cut -c1-40 || true)"
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check $REQUIREMENTS
if [ -f clients/python/pyproject.toml ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e clients/python
fi
echo "$want" > "$stamp"
echo "python venv ready: $VENV ($("$VENV/bin/python" -c 'import google.protobuf as p; print("protobuf", p.__version__)'))"
