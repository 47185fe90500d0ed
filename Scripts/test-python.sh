#!/usr/bin/env bash
# Python tests: the wire corpus checker and the Python client (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=()
for d in Tests/Interop clients/python/tests; do [ -d "$d" ] && dirs+=("$d"); done
if [ ${#dirs[@]} -eq 0 ]; then echo "no Python tests"; exit 0; fi
rc=0
.venv/bin/python -m pytest -q "${dirs[@]}" || rc=$?
# pytest exits 5 when it collected nothing: not a failure here.
if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then exit $rc; fi
