"""Long clips as overlapping chunks: the plan (pure arithmetic, exhaustively tested).

Video models generate at most ``max_chunk_frames`` frames per call (Wan: 81) and only frame
counts of the form ``temporal_factor * k + 1`` (the VAE compresses time by 4, keeping frame 0
alone). A clip of ``total_frames`` is cut into chunks; chunk ``i > 0`` starts with
``n_carry`` frames copied from the output of chunk ``i - 1`` (passed to the model as *kept*
frames, e.g. VACE mask 0), so the new frames continue the same appearance instead of drifting.

Joining rule (what :func:`join_chunks` and every backend do): chunk ``i`` contributes its
frames ``[n_carry, n_carry + n_keep)`` to output frames ``[start + n_carry, start + n_carry +
n_keep)``. The plan guarantees these ranges tile ``[0, total_frames)`` exactly once: no
duplicated and no missing frames. A chunk may generate more frames than it keeps
(``n_frames > n_carry + n_keep``) because its length is rounded up to ``4k + 1``; the tail is
dropped and its control frames are padded by repeating the last control frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.errors import BackendRequestError


def round_up_frames(n: int, temporal_factor: int = 4) -> int:
    """Smallest ``temporal_factor * k + 1 >= n`` (n >= 1)."""
    if n < 1:
        raise BackendRequestError(f"n_frames={n}: must be >= 1")
    k = -(-(n - 1) // temporal_factor)
    return temporal_factor * k + 1


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int  # first output frame covered by this chunk (carried frames included)
    n_frames: int  # frames the model generates (temporal_factor * k + 1)
    n_carry: int  # leading frames copied from the previous chunk's output (0 for chunk 0)
    n_keep: int  # new frames this chunk contributes to the output

    @property
    def out_start(self) -> int:
        """First output frame this chunk writes."""
        return self.start + self.n_carry

    @property
    def out_stop(self) -> int:
        return self.out_start + self.n_keep


@dataclass(frozen=True)
class ChunkPlan:
    total_frames: int
    max_chunk_frames: int
    overlap_frames: int
    temporal_factor: int
    chunks: tuple[Chunk, ...]

    def validate(self) -> None:
        """Raise if the kept ranges do not tile [0, total_frames) exactly (a bug)."""
        pos = 0
        for i, c in enumerate(self.chunks):
            ok = (
                c.index == i
                and c.out_start == pos
                and c.n_keep >= 1
                and c.n_frames <= self.max_chunk_frames
                and (c.n_frames - 1) % self.temporal_factor == 0
                and c.n_carry + c.n_keep <= c.n_frames
                and c.start >= 0
                and (i > 0 or c.n_carry == 0)
            )
            if not ok:
                raise AssertionError(f"chunk plan broken at chunk {i}: {c}")
            pos = c.out_stop
        if pos != self.total_frames:
            raise AssertionError(f"chunk plan covers {pos} frames, expected {self.total_frames}")


def plan_chunks(
    total_frames: int,
    max_chunk_frames: int = 81,
    overlap_frames: int = 5,
    temporal_factor: int = 4,
) -> ChunkPlan:
    """Cut ``total_frames`` into chunks of <= ``max_chunk_frames`` overlapping by
    ``overlap_frames`` (0 = independent consecutive chunks)."""
    if total_frames < 1:
        raise BackendRequestError(f"total_frames={total_frames}: must be >= 1")
    if max_chunk_frames < 1 or (max_chunk_frames - 1) % temporal_factor:
        raise BackendRequestError(
            f"max_chunk_frames={max_chunk_frames}: must be {temporal_factor}k+1 (the video VAE "
            f"keeps frame 0 alone and compresses every following {temporal_factor} frames into one)"
        )
    if not 0 <= overlap_frames < max_chunk_frames:
        raise BackendRequestError(
            f"overlap_frames={overlap_frames}: must be in [0, max_chunk_frames={max_chunk_frames})"
        )
    chunks: list[Chunk] = []
    pos = 0
    while pos < total_frames:
        carry = min(overlap_frames, pos)
        keep = min(total_frames - pos, max_chunk_frames - carry)
        n = round_up_frames(carry + keep, temporal_factor)
        chunks.append(Chunk(len(chunks), pos - carry, n, carry, keep))
        pos += keep
    plan = ChunkPlan(total_frames, max_chunk_frames, overlap_frames, temporal_factor, tuple(chunks))
    plan.validate()
    return plan


def chunk_window(frames: np.ndarray, chunk: Chunk) -> np.ndarray:
    """Frames ``[start, start + n_frames)`` of ``frames`` ([T, ...]), padding past the end by
    repeating the last frame."""
    stop = chunk.start + chunk.n_frames
    window = frames[chunk.start : min(stop, frames.shape[0])]
    pad = stop - min(stop, frames.shape[0])
    if pad:
        window = np.concatenate([window, np.repeat(window[-1:], pad, axis=0)], axis=0)
    return window


def join_chunks(plan: ChunkPlan, outputs: list[np.ndarray]) -> np.ndarray:
    """Assemble per-chunk outputs ([n_frames, ...] each) into the [total_frames, ...] clip."""
    if len(outputs) != len(plan.chunks):
        raise AssertionError(f"{len(outputs)} chunk outputs for {len(plan.chunks)} chunks")
    parts = [o[c.n_carry : c.n_carry + c.n_keep] for c, o in zip(plan.chunks, outputs, strict=True)]
    return np.concatenate(parts, axis=0)
