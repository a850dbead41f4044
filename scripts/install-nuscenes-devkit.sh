#!/usr/bin/env bash
# Creates a separate virtual environment holding the official nuScenes devkit, used by the tests
# to load wmgen's nuScenes exports. nuscenes-devkit pins numpy<2 and an old opencv, so it is
# installed with --no-deps next to the few packages it needs to import and load a dataset on
# numpy 2 (nuscenes/nuscenes.py imports cv2, matplotlib, sklearn.metrics, PIL, pyquaternion,
# tqdm, cachetools at module level; scipy and shapely are used by nuscenes.utils helpers).
# Idempotent and quiet: returns at once when the environment is already complete.
# Usage: scripts/install-nuscenes-devkit.sh [VENV_DIR]   (default .venv-tools/nuscenes)
# Exit status 0 on success, 1 if installation failed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-tools/nuscenes}"
PYTHON="${PYTHON:-python3}"
DEVKIT="nuscenes-devkit==1.2.0"
DEPS=("numpy>=2,<3" "pyquaternion>=0.9.9" "opencv-python-headless>=4.10" "matplotlib>=3.8"
  "scikit-learn>=1.4" "scipy>=1.12" "shapely>=2.0" "pillow>=10" "tqdm>=4.66" "cachetools>=5")
STAMP="$VENV/.wmgen-nuscenes-stamp"
WANT="$DEVKIT ${DEPS[*]}"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi
echo "install-nuscenes-devkit: installing $DEVKIT (--no-deps) into $VENV" >&2
mkdir -p "$(dirname "$VENV")"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
LOG="$VENV.install.log"
if ! { "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${DEPS[@]}" \
  && "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps "$DEVKIT" \
  && "$VENV/bin/python" -c "from nuscenes.nuscenes import NuScenes" ; } >"$LOG" 2>&1; then
  echo "install-nuscenes-devkit: installation failed (see $LOG)" >&2
  tail -5 "$LOG" >&2
  exit 1
fi
echo "$WANT" >"$STAMP"
