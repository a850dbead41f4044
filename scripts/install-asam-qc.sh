#!/usr/bin/env bash
# Creates a separate virtual environment holding ASAM's own quality checkers
# (asam-qc-openscenarioxml, asam-qc-opendrive). asam-qc-opendrive pins numpy<2, so the tools
# cannot live in the project's environment. Idempotent and quiet: returns at once when the
# environment is already complete. Usage: scripts/install-asam-qc.sh [VENV_DIR]
# (default .venv-tools/asam-qc). Exit status 0 on success, 1 if installation failed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-tools/asam-qc}"
PYTHON="${PYTHON:-python3}"
PACKAGES=(asam-qc-openscenarioxml==1.0.0 asam-qc-opendrive==1.0.0)
STAMP="$VENV/.wmgen-asam-qc-stamp"
WANT="${PACKAGES[*]}"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
  && [ -x "$VENV/bin/qc_openscenario" ] && [ -x "$VENV/bin/qc_opendrive" ]; then
  exit 0
fi
echo "install-asam-qc: installing ${WANT} into ${VENV}" >&2
mkdir -p "$(dirname "$VENV")"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PACKAGES[@]}" \
  >"$VENV.install.log" 2>&1; then
  echo "install-asam-qc: pip failed (see $VENV.install.log)" >&2
  tail -5 "$VENV.install.log" >&2
  exit 1
fi
echo "$WANT" >"$STAMP"
