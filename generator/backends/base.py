"""The one small interface every video backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from generator.errors import BackendError
from generator.render.types import ControlMaps
from generator.world.types import RoadGeometry, RolloutBatch
from scenario_library.scene import Scene


@dataclass(frozen=True)
class BackendRequest:
    """What a backend gets for one clip. ``controls`` and ``rollout`` (one world) are aligned."""

    scene: Scene
    road: RoadGeometry
    rollout: RolloutBatch  # W == 1
    controls: ControlMaps  # T frames at the camera's fps and size
    prompt: str  # composed from the class tags plus user text
    seed: int
    #: for video-to-video: [T, H, W, 3] uint8 source frames; None for generation
    source_frames: np.ndarray | None = None
    strength: float = 1.0  # video-to-video strength 0..1


@dataclass(frozen=True)
class BackendOutput:
    frames: np.ndarray  # [T, H, W, 3] uint8, same T/H/W as the request's controls

    def validate(self, n_frames: int, height: int, width: int) -> None:
        f = self.frames
        if f.dtype != np.uint8 or f.shape != (n_frames, height, width, 3):
            raise BackendError(
                f"backend output must be uint8 [{n_frames}, {height}, {width}, 3], got "
                f"{f.dtype} {tuple(f.shape)}"
            )


@runtime_checkable
class VideoBackend(Protocol):
    """A loaded backend; one instance is kept warm and reused across requests."""

    #: registry name, e.g. "sketch", "wan-vace"
    name: str

    def provenance(self) -> dict[str, str]:
        """{'backend', 'version', 'weights_sha256', ...} recorded in every clip."""
        ...

    def __call__(self, request: BackendRequest) -> BackendOutput: ...
