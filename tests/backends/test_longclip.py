"""The chunk plan tiles every clip exactly once (exhaustive over small sizes)."""

from __future__ import annotations

import numpy as np
import pytest

from generator.backends.longclip import chunk_window, join_chunks, plan_chunks, round_up_frames
from generator.errors import BackendRequestError


@pytest.mark.parametrize("max_chunk", [1, 5, 9, 13, 17, 81])
@pytest.mark.parametrize("overlap", [0, 1, 2, 4, 5, 8])
def test_plan_tiles_every_length_exactly_once(max_chunk: int, overlap: int) -> None:
    if overlap >= max_chunk:
        with pytest.raises(BackendRequestError, match=r"overlap_frames"):
            plan_chunks(10, max_chunk, overlap)
        return
    for total in range(1, 200):
        plan = plan_chunks(total, max_chunk, overlap)
        covered = np.zeros(total, int)
        for c in plan.chunks:
            covered[c.out_start : c.out_stop] += 1
            assert (c.n_frames - 1) % 4 == 0 and c.n_frames <= max_chunk
            assert c.n_carry == (0 if c.index == 0 else min(overlap, c.start + c.n_carry))
            # carried frames are exactly the frames before this chunk's new ones
            assert c.start + c.n_carry == c.out_start
        assert (covered == 1).all(), (total, max_chunk, overlap)
        # the joined output of "identity" chunks reproduces the clip frame by frame
        clip = np.arange(total)
        outs = [chunk_window(clip, c) for c in plan.chunks]
        assert np.array_equal(join_chunks(plan, outs), clip)


def test_carried_frames_come_from_previous_chunk() -> None:
    plan = plan_chunks(200, 81, 5)
    assert len(plan.chunks) == 3
    for prev, cur in zip(plan.chunks, plan.chunks[1:], strict=False):
        assert cur.n_carry == 5
        # the carried frames lie inside what the previous chunk generated
        assert prev.start <= cur.start and cur.start + cur.n_carry <= prev.out_stop


def test_chunk_window_pads_by_repeating_last_frame() -> None:
    plan = plan_chunks(11, 9, 2)
    last = plan.chunks[-1]
    w = chunk_window(np.arange(11), last)
    assert len(w) == last.n_frames and w[-1] == 10 and w[0] == last.start


def test_invalid_plans_explain() -> None:
    with pytest.raises(BackendRequestError, match=r"4k\+1"):
        plan_chunks(10, 80, 5)
    with pytest.raises(BackendRequestError, match=r"total_frames=0"):
        plan_chunks(0)
    assert [round_up_frames(n) for n in (1, 2, 5, 6, 81, 82)] == [1, 5, 5, 9, 81, 85]
