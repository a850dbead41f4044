#!/usr/bin/env bash
# Start a throwaway PostgreSQL server (Debian binaries) on a free loopback port, print its
# URL (use it as WMGEN_CATALOG_URL), and stop + delete it on Ctrl-C. Same code as the tests:
# tests/pgserver.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" tests/pgserver.py "$@"
