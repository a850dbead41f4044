"""Fixtures of the CLI tests: every test runs ``wmgen`` against its own embedded home."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # makes cli_helpers importable


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WMGEN_HOME", str(tmp_path / "home"))
    for var in ("WMGEN_CATALOG_URL", "WMGEN_STORAGE", "WMGEN_MODEL_DIR"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "home"
