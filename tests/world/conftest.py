"""Fixtures of the world tests; hand-built scenes live in ``_world_scenes.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _world_scenes import ALL_HAND_SCENES

from scenario_library.scene import Scene


@pytest.fixture(params=sorted(ALL_HAND_SCENES))
def hand_scene(request: pytest.FixtureRequest) -> Scene:
    return ALL_HAND_SCENES[request.param]()
