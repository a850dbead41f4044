"""Tiny checkpoints, offline loading, clear weight errors, weight hashing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from generator.backends.neural_quality import gate_applies
from generator.backends.registry import BACKENDS
from generator.backends.tiny import make_tiny
from generator.backends.weights import (
    HASH_CACHE_NAME,
    check_checkpoint_dir,
    clear_pipeline_cache,
    weights_sha256,
)
from generator.errors import BackendRequestError, ModelWeightsError


def test_tiny_checkpoint_is_complete_and_deterministic(tmp_path: Path, tiny_dirs) -> None:
    d = tiny_dirs["wan-vace"]
    index = check_checkpoint_dir(d, "WanVACEPipeline")
    assert {"tokenizer", "text_encoder", "vae", "transformer", "scheduler"} <= set(index)
    assert (d / "tokenizer" / "tokenizer.json").is_file()
    again = make_tiny("wan-vace", tmp_path / "again")
    assert weights_sha256(again) == weights_sha256(d)
    other_seed = make_tiny("wan-vace", tmp_path / "seed1", seed=1)
    assert weights_sha256(other_seed) != weights_sha256(d)


def test_unknown_family_rejected(tmp_path: Path) -> None:
    with pytest.raises(BackendRequestError, match=r"family='nope'"):
        make_tiny("nope", tmp_path)


def test_hash_cache_is_used_and_invalidated(tmp_path: Path, tiny_dirs) -> None:
    d = Path(shutil.copytree(tiny_dirs["wan-v2v"], tmp_path / "ck"))
    h1 = weights_sha256(d)
    cache = json.loads((d / HASH_CACHE_NAME).read_text())
    assert cache["sha256"] == h1
    # a forged cache entry with matching fingerprint is trusted (proves the cache is read)
    (d / HASH_CACHE_NAME).write_text(json.dumps({**cache, "sha256": "f" * 64}))
    assert weights_sha256(d) == "f" * 64
    # changing a weight file (size/mtime) invalidates the cache
    f = next((d / "vae").glob("*.safetensors"))
    f.write_bytes(f.read_bytes() + b"\0")
    assert weights_sha256(d) not in (h1, "f" * 64)


def test_missing_weights_errors_name_dir_and_part(tmp_path: Path, tiny_dirs) -> None:
    load = BACKENDS.factory("wan-vace")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelWeightsError, match=r"model_index.json") as e:
        load(model_dir=empty)
    assert str(empty) in str(e.value)
    with pytest.raises(ModelWeightsError, match=r"no such directory.*WMGEN_ALLOW_HUB"):
        load(model_dir=str(tmp_path / "absent"))
    broken = Path(shutil.copytree(tiny_dirs["wan-vace"], tmp_path / "broken"))
    shutil.rmtree(broken / "vae")
    with pytest.raises(ModelWeightsError, match=r"missing component 'vae'"):
        load(model_dir=broken)
    noweights = Path(shutil.copytree(tiny_dirs["wan-vace"], tmp_path / "noweights"))
    for f in (noweights / "transformer").glob("*.safetensors"):
        f.unlink()
    with pytest.raises(ModelWeightsError, match=r"'transformer' has no weight file"):
        load(model_dir=noweights)
    with pytest.raises(ModelWeightsError, match=r"mismatched"):
        load(model_dir=tiny_dirs["wan-v2v"])  # a T2V checkpoint is not a VACE one
    wrong = Path(shutil.copytree(tiny_dirs["wan-vace"], tmp_path / "wrong"))
    cfg_path = wrong / "transformer" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["ffn_dim"] = 48  # weights on disk have 32
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(ModelWeightsError, match=r"could not load component 'transformer'"):
        load(model_dir=wrong)


def test_model_dir_from_env(monkeypatch: pytest.MonkeyPatch, tiny_dirs) -> None:
    monkeypatch.delenv("WMGEN_MODEL_DIR", raising=False)
    with pytest.raises(ModelWeightsError, match=r"WMGEN_MODEL_DIR"):
        BACKENDS.load("wan-vace")
    monkeypatch.setenv("WMGEN_MODEL_DIR", str(tiny_dirs["wan-vace"]))
    b = BACKENDS.load("wan-vace")
    prov = b.provenance()
    assert prov["weights_sha256"] == weights_sha256(tiny_dirs["wan-vace"])
    assert prov["tiny_checkpoint"] == "true" and not gate_applies(prov)
    assert gate_applies({**prov, "tiny_checkpoint": "false"})


def test_warm_cache_reuses_pipeline(tiny_dirs) -> None:
    clear_pipeline_cache()
    a = BACKENDS.load("wan-vace", model_dir=tiny_dirs["wan-vace"])
    b = BACKENDS.load("wan-vace", model_dir=tiny_dirs["wan-vace"], num_inference_steps=3)
    assert a.pipe is b.pipe  # type: ignore[attr-defined]
    assert BACKENDS.is_neural("wan-vace") and BACKENDS.is_neural("ltx-condition")
