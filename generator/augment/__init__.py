"""Classical corner-case augmentation of real clips (``wmgen augment``).

``augment_clip(frames, fps, labels_doc | None, effects, seed)`` applies named effects from the
``EFFECTS`` registry (rain, fog, snow, night, dusk, glare, motion_blur, noise, lens_dirt,
drop_frames, freeze_frames) and keeps OpenLABEL labels consistent with the new frames.
"""

from generator.augment.clip import augment_clip, check_effects, remap_labels
from generator.augment.effects import EFFECTS, Effect, EffectRegistry

__all__ = [
    "EFFECTS",
    "Effect",
    "EffectRegistry",
    "augment_clip",
    "check_effects",
    "remap_labels",
]
