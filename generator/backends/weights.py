"""Loading diffusers pipelines from local weights: checks, hashing, device/dtype, warm cache.

Shared by every neural backend family (``wan_vace``, ``wan_v2v``, ``ltx``).

* Offline by default: ``from_pretrained(model_dir, local_files_only=True)``. A hub id (e.g.
  ``Wan-AI/Wan2.1-VACE-1.3B-diffusers``) is accepted only when the user sets
  ``WMGEN_ALLOW_HUB=1`` on a machine with network.
* Before loading, the directory is checked against ``model_index.json``: a missing file or
  component raises :class:`ModelWeightsError` naming the directory and what is missing; a
  checkpoint of another pipeline class is reported as mismatched.
* ``weights_sha256(model_dir)``: sha256 over every ``*.safetensors`` file (relative path +
  bytes, sorted, streamed in 8 MiB blocks), cached in ``.wmgen_weights_sha256.json`` next to
  the weights, keyed by each file's size and mtime (recomputed when any changes).
* ``load_pipeline`` keeps one loaded pipeline per (class, model_dir, device, dtype, options)
  in a module-level cache, so a warm service reuses it across requests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from generator.errors import BackendRequestError, ModelWeightsError

ALLOW_HUB_ENV = "WMGEN_ALLOW_HUB"
MODEL_DIR_ENV = "WMGEN_MODEL_DIR"
HASH_CACHE_NAME = ".wmgen_weights_sha256.json"
TINY_MARKER = "wmgen_tiny.json"  # written by tiny.make_tiny next to model_index.json
_BLOCK = 8 << 20

_DTYPES: dict[str, torch.dtype] = {
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
    "fp32": torch.float32,
    "float32": torch.float32,
}


def resolve_device(device: str | None) -> str:
    """``None`` -> "cuda" when available, else "cpu"."""
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BackendRequestError(f"device={device!r}: CUDA is not available on this machine")
    return device


def resolve_dtype(dtype: str | torch.dtype | None, device: str) -> torch.dtype:
    """``None`` -> bf16 on CUDA (fp16 where bf16 is unsupported), fp32 on CPU."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is None:
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if dtype not in _DTYPES:
        raise BackendRequestError(f"dtype={dtype!r}: choose one of {', '.join(sorted(_DTYPES))}")
    return _DTYPES[dtype]


def resolve_model_dir(model_dir: str | Path | None) -> str:
    """Explicit ``model_dir``, else ``$WMGEN_MODEL_DIR``; raises if neither is set."""
    value = str(model_dir) if model_dir is not None else os.environ.get(MODEL_DIR_ENV, "")
    if not value:
        raise ModelWeightsError(
            f"model_dir=None: no weights directory given; pass --model-dir or set "
            f"{MODEL_DIR_ENV} (make a tiny offline one with `wmgen models make-tiny FAMILY "
            f"--out DIR`)"
        )
    return value


def hub_allowed() -> bool:
    return os.environ.get(ALLOW_HUB_ENV, "") == "1"


# ------------------------------------------------------------------------------ directory checks
_WEIGHT_PATTERNS = ("*.safetensors", "*.safetensors.index.json", "*.bin", "*.bin.index.json")
_TOKENIZER_FILES = ("tokenizer.json", "spiece.model", "tokenizer.model", "vocab.json")


def check_checkpoint_dir(model_dir: Path, expected_class: str) -> dict[str, Any]:
    """Raise :class:`ModelWeightsError` unless ``model_dir`` holds a complete checkpoint of
    ``expected_class``; return its parsed ``model_index.json``."""
    if not model_dir.is_dir():
        raise ModelWeightsError(f"model_dir={str(model_dir)!r}: not a directory")
    index_path = model_dir / "model_index.json"
    if not index_path.is_file():
        raise ModelWeightsError(
            f"model_dir={str(model_dir)!r}: missing model_index.json (not a diffusers checkpoint)"
        )
    try:
        index = json.loads(index_path.read_text())
    except json.JSONDecodeError as e:
        raise ModelWeightsError(
            f"model_dir={str(model_dir)!r}: model_index.json unreadable: {e}"
        ) from e
    found_class = index.get("_class_name")
    if found_class != expected_class:
        raise ModelWeightsError(
            f"model_dir={str(model_dir)!r}: checkpoint is a {found_class!r}, this backend needs "
            f"a {expected_class!r} (mismatched weights)"
        )
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        comp = model_dir / name
        if not comp.is_dir():
            raise ModelWeightsError(
                f"model_dir={str(model_dir)!r}: missing component {name!r} ({spec[1]}), "
                f"expected folder {str(comp)!r}"
            )
        if name.startswith("scheduler"):
            needed: tuple[str, ...] = ("scheduler_config.json",)
        elif name.startswith("tokenizer"):
            needed = _TOKENIZER_FILES
        else:
            if not (comp / "config.json").is_file():
                raise ModelWeightsError(
                    f"model_dir={str(model_dir)!r}: component {name!r} lacks config.json"
                )
            if not any(next(comp.glob(p), None) for p in _WEIGHT_PATTERNS):
                raise ModelWeightsError(
                    f"model_dir={str(model_dir)!r}: component {name!r} has no weight file "
                    f"(*.safetensors or *.bin) in {str(comp)!r}"
                )
            continue
        if not any((comp / f).is_file() for f in needed):
            raise ModelWeightsError(
                f"model_dir={str(model_dir)!r}: component {name!r} lacks {' or '.join(needed)}"
            )
    return index


# ------------------------------------------------------------------------------------- hashing
def _fingerprint(files: list[Path], root: Path) -> list[list[object]]:
    out: list[list[object]] = []
    for f in files:
        st = f.stat()
        out.append([f.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns])
    return out


def weights_sha256(model_dir: str | Path) -> str:
    """sha256 over all ``*.safetensors`` under ``model_dir`` (cached by size/mtime)."""
    root = Path(model_dir)
    files = sorted(root.rglob("*.safetensors"))
    if not files:
        raise ModelWeightsError(f"model_dir={str(root)!r}: no *.safetensors files to hash")
    fp = _fingerprint(files, root)
    cache = root / HASH_CACHE_NAME
    try:
        cached = json.loads(cache.read_text())
        if cached.get("files") == fp:
            return str(cached["sha256"])
    except (OSError, ValueError, KeyError):
        pass
    h = hashlib.sha256()
    for f, (rel, _, _) in zip(files, fp, strict=True):
        h.update(str(rel).encode() + b"\0")
        with f.open("rb") as fh:
            while block := fh.read(_BLOCK):
                h.update(block)
    digest = h.hexdigest()
    with contextlib.suppress(OSError):  # read-only weights: hash again next time
        cache.write_text(json.dumps({"sha256": digest, "files": fp}) + "\n")
    return digest


# ----------------------------------------------------------------------------- loading + cache
@dataclass(frozen=True)
class LoadOptions:
    """How to place a pipeline; part of the warm-cache key."""

    device: str
    dtype: torch.dtype
    enable_vae_tiling: bool = True
    cpu_offload: bool = False
    compile: bool = False
    vae_fp32: bool = True  # Wan's VAE is numerically safer in fp32 (its model card's advice)


@dataclass
class LoadedPipeline:
    pipe: Any
    model_dir: str  # local directory (snapshot path for hub ids)
    weights_sha256: str
    options: LoadOptions
    #: made by ``tiny.make_tiny`` (random weights): quality gates should record, not enforce
    tiny: bool = False
    #: defaults a tiny checkpoint asks for (``num_inference_steps``, ``max_work_pixels``)
    tiny_defaults: dict[str, Any] = field(default_factory=dict)

    def default_steps(self, real_default: int) -> int:
        return int(self.tiny_defaults.get("num_inference_steps", real_default))

    def work_size(
        self, height: int, width: int, factor: int, resolution: tuple[int, int] | None
    ) -> tuple[int, int]:
        """Where the model runs: ``resolution`` if given; for tiny checkpoints the request
        scaled down to ``max_work_pixels`` (their output is noise; CPU end-to-end runs stay
        fast); else the request's own size."""
        if resolution is not None:
            return resolution
        max_px = self.tiny_defaults.get("max_work_pixels")
        if max_px and height * width > max_px:
            scale = (max_px / (height * width)) ** 0.5
            h = max(factor, int(height * scale) // factor * factor)
            w = max(factor, int(width * scale) // factor * factor)
            return h, w
        return height, width


_CACHE: dict[tuple[str, str, LoadOptions], LoadedPipeline] = {}
_LOCK = threading.Lock()


def clear_pipeline_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def _local_dir(model_dir: str) -> Path | None:
    p = Path(model_dir).expanduser()
    return p if p.exists() else None


def load_pipeline(pipeline_cls: Any, model_dir: str, options: LoadOptions) -> LoadedPipeline:
    """Load (or fetch warm from the cache) a ``pipeline_cls`` checkpoint."""
    key = (pipeline_cls.__name__, str(Path(model_dir).expanduser().resolve()), options)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
        loaded = _load_uncached(pipeline_cls, model_dir, options)
        _CACHE[key] = loaded
        return loaded


_LOAD_ERRORS = (OSError, ValueError, KeyError, RuntimeError, TypeError, AttributeError)


def _failing_component(local: Path, index: dict[str, Any]) -> str | None:
    """Load components one by one to name the one that fails (error path only)."""
    import importlib

    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        try:
            cls = getattr(importlib.import_module(spec[0]), spec[1])
            cls.from_pretrained(str(local / name), local_files_only=True)
        except Exception:  # any failure points at this component
            return name
    return None


def _load_uncached(pipeline_cls: Any, model_dir: str, options: LoadOptions) -> LoadedPipeline:
    local = _local_dir(model_dir)
    if local is None:
        if not hub_allowed():
            raise ModelWeightsError(
                f"model_dir={model_dir!r}: no such directory; weights load offline from a local "
                f"folder. To download a hub id instead set {ALLOW_HUB_ENV}=1 (needs network)."
            )
        from huggingface_hub import snapshot_download

        local = Path(snapshot_download(model_dir))
    index = check_checkpoint_dir(local, pipeline_cls.__name__)
    try:
        pipe = pipeline_cls.from_pretrained(str(local), dtype=options.dtype, local_files_only=True)
    except _LOAD_ERRORS as e:
        part = _failing_component(local, index)
        where = f"component {part!r}" if part else pipeline_cls.__name__
        raise ModelWeightsError(
            f"model_dir={str(local)!r}: could not load {where} (mismatched weights?): {e}"
        ) from e
    if hasattr(pipe, "set_progress_bar_config"):
        pipe.set_progress_bar_config(disable=True)
    vae = getattr(pipe, "vae", None)
    if vae is not None:
        if options.vae_fp32 and options.dtype != torch.float32:
            vae.to(torch.float32)
        if options.enable_vae_tiling and hasattr(vae, "enable_tiling"):
            vae.enable_tiling()
        if hasattr(vae, "enable_slicing"):
            vae.enable_slicing()
    if options.cpu_offload and options.device.startswith("cuda"):
        pipe.enable_model_cpu_offload(device=options.device)
    else:
        pipe.to(options.device)
    if options.compile:
        tr = pipe.transformer
        if hasattr(tr, "compile_repeated_blocks"):
            tr.compile_repeated_blocks(fullgraph=True)
        else:
            pipe.transformer = torch.compile(tr)
    marker = local / TINY_MARKER
    tiny_defaults: dict[str, Any] = {}
    if marker.is_file():
        with contextlib.suppress(ValueError):
            tiny_defaults = dict(json.loads(marker.read_text()).get("defaults", {}))
    return LoadedPipeline(
        pipe, str(local), weights_sha256(local), options, marker.is_file(), tiny_defaults
    )
