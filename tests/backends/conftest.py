"""Fixtures for the neural backend tests: tiny checkpoints made once per session, offline."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing in this folder may reach a hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).parent))  # makes backend_fixtures importable


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny checkpoint per family, made once for the whole session."""
    from generator.backends.tiny import TINY_FAMILIES, make_tiny

    root = tmp_path_factory.mktemp("tiny")
    return {fam: make_tiny(fam, root / fam) for fam in TINY_FAMILIES}


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from threads; avoid oversubscribing shared CI cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
