"""Explicit registry of video backends: name -> "module:factory". No discovery by glob.

Factories are imported lazily so that the CPU-only default path never imports torch.
A factory takes keyword options (``model_dir``, ``device``, ``dtype``...) and returns a loaded
:class:`generator.backends.base.VideoBackend`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from generator.backends.base import VideoBackend
from generator.errors import UnknownBackendError


class BackendRegistry:
    """Name -> factory path; registering a name twice is an error."""

    def __init__(self) -> None:
        self._paths: dict[str, str] = {}
        self._neural: dict[str, bool] = {}

    def register(self, name: str, factory_path: str, *, neural: bool) -> None:
        if name in self._paths:
            raise ValueError(f"backend {name!r} is already registered")
        if ":" not in factory_path:
            raise ValueError(f"factory_path={factory_path!r}: expected 'module:attribute'")
        self._paths[name] = factory_path
        self._neural[name] = neural

    def names(self) -> list[str]:
        return sorted(self._paths)

    def is_neural(self, name: str) -> bool:
        self._check(name)
        return self._neural[name]

    def _check(self, name: str) -> None:
        if name not in self._paths:
            raise UnknownBackendError(
                f"backend={name!r}: unknown backend; choose one of {', '.join(self.names())}"
            )

    def factory(self, name: str) -> Callable[..., VideoBackend]:
        self._check(name)
        module, attr = self._paths[name].split(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]

    def load(self, name: str, **options: Any) -> VideoBackend:
        return self.factory(name)(**options)


BACKENDS = BackendRegistry()
BACKENDS.register("sketch", "generator.backends.sketch:SketchBackend", neural=False)
# Neural backends (generator/backends/<family>.py) register here, one line each.
BACKENDS.register("wan-vace", "generator.backends.wan_vace:WanVaceBackend", neural=True)
BACKENDS.register("wan-v2v", "generator.backends.wan_v2v:WanV2VBackend", neural=True)
BACKENDS.register("ltx-condition", "generator.backends.ltx:LtxConditionBackend", neural=True)
