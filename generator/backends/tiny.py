"""Tiny, randomly initialised, *complete* diffusers checkpoints for offline tests and demos.

``make_tiny(family, out_dir)`` writes ``model_index.json``, every component (weights + config)
and a tokenizer built locally (a ``tokenizers`` Unigram model trained on a few driving
sentences, wrapped in ``transformers.PreTrainedTokenizerFast``). The result loads through the
very same ``from_pretrained(model_dir, local_files_only=True)`` path as published weights, so
tests exercise the real loading, conditioning and decoding code. Everything is seeded: the
same family always gives byte-identical weights.

Families (``TINY_FAMILIES``):

* ``wan-vace``  -> ``WanVACEPipeline`` (layout-controlled generation, masked insertion)
* ``wan-v2v``   -> ``WanVideoToVideoPipeline`` (restyling real clips; Wan 2.1 T2V layout)
* ``ltx-condition`` -> ``LTXConditionPipeline`` (fast video-to-video / keyframe family)

Sizes follow /work/shared/reference/control-maps-and-models.md: UMT5 d_model 32, 2 layers;
Wan VAE base_dim 3 (spatial factor 8, temporal factor 4, as the real one); a 3-layer
transformer with patch (1, 2, 2). Outputs are noise, of course: only shapes and plumbing are
meaningful.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch

from generator.backends.weights import TINY_MARKER

#: Sentences the tiny tokenizer is trained on (covers the words our prompts use).
_TOKENIZER_CORPUS = [
    "Dashcam video, rainy night on a wet urban street.",
    "A child runs out from behind parked cars into the road.",
    "Clear day on a highway, a car cuts in front of the ego vehicle.",
    "Foggy dusk on a rural curve, an animal stands on the road.",
    "Snow at low sun glare, a cyclist crosses the intersection.",
    "A pedestrian walks along the lane; a truck brakes hard ahead.",
    "Road works with cones and barriers block the lane, photorealistic, sharp, 4k.",
    "low quality, blurry, distorted, cartoon, flicker, static frame, watermark, text",
]

TINY_FAMILIES: tuple[str, ...] = ("wan-vace", "wan-v2v", "ltx-condition")

#: Written into the marker file; backends loading a tiny checkpoint use these unless told
#: otherwise: 2 denoising steps, and a working size of at most 64x112 pixels (requests are
#: generated there and resampled to their size, so a 1280x704 CPU end-to-end run stays fast).
TINY_DEFAULTS: dict[str, int] = {"num_inference_steps": 2, "max_work_pixels": 64 * 112}


def build_tokenizer(vocab_size: int = 160):  # -> PreTrainedTokenizerFast
    """A deterministic Unigram tokenizer with T5-style special tokens (pad=0, eos=1, unk=2)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=["<pad>", "</s>", "<unk>"],
        unk_token="<unk>",
        show_progress=False,
    )
    tok.train_from_iterator(_TOKENIZER_CORPUS, trainer=trainer)
    tok.post_processor = TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def _umt5(vocab_size: int):
    from transformers import UMT5Config, UMT5EncoderModel

    cfg = UMT5Config(
        vocab_size=vocab_size,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return UMT5EncoderModel(cfg).eval()


def _t5(vocab_size: int):
    from transformers import T5Config, T5EncoderModel

    cfg = T5Config(
        vocab_size=vocab_size,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
    )
    return T5EncoderModel(cfg).eval()


def _wan_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    ).eval()


def _wan_scheduler():
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(shift=3.0)


def _make_wan_vace():
    from diffusers import WanVACEPipeline, WanVACETransformer3DModel

    tokenizer = build_tokenizer()
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=3,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        vace_layers=[0, 2],
        vace_in_channels=96,
    ).eval()
    return WanVACEPipeline(
        tokenizer=tokenizer,
        text_encoder=_umt5(len(tokenizer)),
        vae=_wan_vae(),
        scheduler=_wan_scheduler(),
        transformer=transformer,
    )


def _make_wan_v2v():
    from diffusers import WanTransformer3DModel, WanVideoToVideoPipeline

    tokenizer = build_tokenizer()
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    ).eval()
    return WanVideoToVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=_umt5(len(tokenizer)),
        vae=_wan_vae(),
        scheduler=_wan_scheduler(),
        transformer=transformer,
    )


def _make_ltx_condition():
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )

    tokenizer = build_tokenizer()
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    ).eval()
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    ).eval()
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    return LTXConditionPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=_t5(len(tokenizer)),
        tokenizer=tokenizer,
        transformer=transformer,
    )


_BUILDERS: dict[str, Callable[[], object]] = {
    "wan-vace": _make_wan_vace,
    "wan-v2v": _make_wan_v2v,
    "ltx-condition": _make_ltx_condition,
}


def make_tiny(family: str, out_dir: Path | str, *, seed: int = 0) -> Path:
    """Write a tiny random checkpoint of ``family`` to ``out_dir`` and return the directory.

    Deterministic: weights come from a ``torch`` RNG seeded with ``seed`` inside a forked RNG
    scope, so global random state is neither read nor changed.
    """
    from generator.errors import BackendRequestError

    if family not in _BUILDERS:
        raise BackendRequestError(
            f"family={family!r}: no tiny checkpoint recipe; choose one of {', '.join(TINY_FAMILIES)}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        pipe = _BUILDERS[family]()
    pipe.save_pretrained(out, safe_serialization=True)  # type: ignore[attr-defined]
    (out / TINY_MARKER).write_text(
        json.dumps(
            {"family": family, "seed": seed, "tiny": True, "defaults": TINY_DEFAULTS}, indent=2
        )
        + "\n"
    )
    return out
