"""The HTTP side of neural effects on ``POST /v1/augment`` (restyle / insert a hazard actor).

The operations, their options (:class:`NeuralEffects`) and the model-folder discovery live in
``generator.augment.neural``; the job runs them through ``ClipPipeline.augment(...,
neural=...)``, the same path as the CLI and batch jobs. Here only the early availability
check of the ingress: a neural effect whose model this server does not have is a 422 naming
the field, before any job is queued.
"""

from __future__ import annotations

from pathlib import Path

from generator.augment.neural import NeuralEffects, neural_model_dirs, require_models
from generator.errors import NeuralEffectError
from serving.errors import InvalidFieldError

__all__ = ["NeuralEffects", "check_available", "neural_model_dirs"]


def check_available(
    neural: NeuralEffects, model_dir: str | None, *, strict: bool = True
) -> dict[str, str]:
    """The checkpoint folders ``neural`` needs; 422 naming the field when one is missing.

    ``strict=False``: on a node where ``model_dir`` does not exist (an ingress node of a
    cluster whose weights live on the GPU nodes) nothing is checked here; the video worker
    checks again where the weights are and fails the job with the same message."""
    if model_dir and not strict and not Path(model_dir).expanduser().exists():
        return {}
    try:
        return require_models(neural, model_dir)
    except NeuralEffectError as exc:
        raise InvalidFieldError(exc.field, exc.value, exc.reason) from None
