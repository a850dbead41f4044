"""Exception tree of ``generator``.

::

    GeneratorError                        base of everything raised on purpose here
    ├── RolloutError                      a rollout could not be run (bad scene / plan)
    │   └── PhysicsViolationError         a rollout broke physics (a bug, not a sample)
    ├── RenderError                       camera / control-map rendering failed
    ├── BackendError                      a video backend failed
    │   ├── UnknownBackendError (ValueError)   no backend registered under that name
    │   ├── ModelWeightsError             weights missing or mismatched (names dir + part)
    │   └── BackendRequestError (ValueError)   request the model cannot do (size, frames)
    ├── ClipWriteError                    writing clip files failed (nothing published)
    ├── QualityGateError                  a clip failed the quality gate (not published)
    └── AugmentError (ValueError)         input clip unreadable / bad effect name
        └── NeuralEffectError             a neural augmentation option is unusable (names field)
"""

from __future__ import annotations


class GeneratorError(Exception):
    """Base class of all deliberate errors of ``generator``."""


class RolloutError(GeneratorError):
    """A rollout could not be run."""


class PhysicsViolationError(RolloutError):
    """A rollout violated physics bounds: a bug, never a sample."""


class RenderError(GeneratorError):
    """Rendering failed."""


class BackendError(GeneratorError):
    """A video backend failed."""


class UnknownBackendError(BackendError, ValueError):
    """No backend is registered under the requested name."""


class ModelWeightsError(BackendError):
    """Model weights are missing or do not match the backend."""


class BackendRequestError(BackendError, ValueError):
    """The request asks for something the model cannot do."""


class ClipWriteError(GeneratorError):
    """Writing a clip's files failed; nothing was published."""


class QualityGateError(GeneratorError):
    """The clip failed the quality gate and was not published."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = list(failures)
        super().__init__("quality gate failed: " + "; ".join(self.failures))


class AugmentError(GeneratorError, ValueError):
    """Augmentation input or options are invalid."""


class NeuralEffectError(AugmentError):
    """A neural augmentation option cannot be honoured (no model for it, an actor that is not
    visible...); ``field`` names the option, ``value`` its value."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")
