"""Clip video files: H.264 (yuv420p, faststart) mp4 through PyAV, and JPEG thumbnails.

* ``write_video`` encodes ``[T, H, W, 3]`` uint8 RGB frames with libx264 into an mp4 whose
  ``moov`` atom precedes ``mdat`` (``movflags=+faststart``, a container option of ``av.open``),
  so browsers can start playing before the download ends. yuv420p needs even sizes: an odd
  width or height is padded by one column / row replicating the edge (on the right / bottom, so
  pixel coordinates of labels stay valid). The file is written under a temporary name in the
  target folder and renamed into place: a crash never leaves a half-written video visible.
  RGB is converted to yuv420p by ``generator.io.yuv`` (BT.601, limited range, GIL released)
  rather than by FFmpeg's scaler, and the stream is tagged with that matrix and range so
  players convert it back the same way. Id maps (semantic, instance) and depth maps can be
  given as a ``FrameSource`` instead: their yuv420p is made straight from the ids / depths,
  byte-identical to converting the coloured RGB, without making the RGB.
* ``read_video`` decodes every frame to RGB and returns ``(frames, fps)``; anything that is not
  a decodable video raises ``AugmentError`` naming the file.
* ``probe_video`` reads the container header only (plus a decode count when the header has no
  frame count).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from generator.errors import AugmentError, ClipWriteError
from generator.io.yuv import DepthFrames, PaletteFrames, RgbFrames

#: What ``write_video`` encodes besides an RGB array: frames made on demand as yuv420p.
FrameSource = RgbFrames | PaletteFrames | DepthFrames

#: FFmpeg demuxers of still images (PyAV opens images as one-frame 25 fps "videos").
_IMAGE_FORMATS = frozenset({"image2"})
#: Colour tags of the encoded stream: what ``rgb_to_yuv420p`` produces (AVCOL_SPC_BT470BG,
#: the BT.601 matrix; AVCOL_RANGE_MPEG, limited range).
_COLORSPACE_BT601 = 5
_COLOR_RANGE_LIMITED = 1
#: Largest denominator used to turn a float fps into the rational rate of the stream.
_MAX_FPS_DENOMINATOR = 1001


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video file."""

    n_frames: int
    fps: float
    width: int
    height: int
    codec: str
    pix_fmt: str

    def validate(self) -> None:
        if self.n_frames < 0 or self.fps <= 0 or self.width <= 0 or self.height <= 0:
            raise AugmentError(f"invalid video info {self}")


def _check_frames(frames: np.ndarray) -> None:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
        raise ClipWriteError(
            f"frames must be a uint8 numpy array, got {type(frames).__name__} "
            f"{getattr(frames, 'dtype', None)}"
        )
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1:
        raise ClipWriteError(f"frames must be [T>=1, H, W, 3], got shape {frames.shape}")
    if frames.shape[1] < 2 or frames.shape[2] < 2:
        raise ClipWriteError(f"frames must be at least 2x2 pixels, got shape {frames.shape}")


def _pad_even(frames: np.ndarray) -> np.ndarray:
    """Pad odd H / W by one edge-replicated row / column (bottom / right)."""
    pad_h = frames.shape[1] % 2
    pad_w = frames.shape[2] % 2
    if not (pad_h or pad_w):
        return frames
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def _plane_view(frame: av.VideoFrame, k: int) -> np.ndarray:
    """Writable ``[rows, width]`` numpy view of plane ``k`` of a yuv420p frame."""
    plane = frame.planes[k]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]


def _rate(fps: float) -> Fraction:
    if not np.isfinite(fps) or fps <= 0:
        raise ClipWriteError(f"fps must be a positive finite number, got {fps!r}")
    return Fraction(float(fps)).limit_denominator(_MAX_FPS_DENOMINATOR)


def write_video(
    path: str | os.PathLike[str],
    frames: np.ndarray | FrameSource,
    fps: float,
    *,
    crf: int = 20,
    qp: int | None = None,
    preset: str = "veryfast",
    threads: int = 0,
) -> Path:
    """Encode frames as H.264 yuv420p faststart mp4 at ``path``.

    ``frames``: RGB ``[T, H, W, 3]`` uint8, or a ``FrameSource`` (``generator.io.yuv``).
    Rate control: constant rate factor ``crf`` (0..51), or constant quantiser ``qp`` (0..51)
    when given. Constant QP skips x264's per-frame complexity estimate, which at the
    ``ultrafast`` preset is about a third of the encoding time.
    ``threads``: x264 threads (0 = x264's choice, about 1.5 per core). Callers that encode
    several videos side by side pass 1: one thread per video wastes no CPU on x264's frame
    threading and its lookahead synchronisation.

    Returns the final path. Raises ``ClipWriteError`` on bad input or encoder failure (the
    temporary file is removed; nothing appears at ``path``).
    """
    if isinstance(frames, FrameSource):
        source = frames
    else:
        _check_frames(frames)
        source = RgbFrames(_pad_even(frames))
    if source.n_frames < 1 or source.height % 2 or source.width % 2:
        raise ClipWriteError(
            f"frame source must have >= 1 frame and even size, got {source.n_frames} "
            f"frames of {source.width}x{source.height}"
        )
    rate = _rate(fps)
    if not 0 <= int(crf) <= 51:
        raise ClipWriteError(f"crf must be in 0..51, got {crf!r}")
    if qp is not None and not 0 <= int(qp) <= 51:
        raise ClipWriteError(f"qp must be in 0..51, got {qp!r}")
    rc = {"qp": str(int(qp))} if qp is not None else {"crf": str(int(crf))}
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    height, width = source.height, source.width
    try:
        with av.open(
            str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}
        ) as container:
            stream = container.add_stream("libx264", rate=rate)
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p"
            stream.options = {**rc, "preset": preset}
            stream.codec_context.thread_count = max(0, int(threads))
            stream.codec_context.colorspace = _COLORSPACE_BT601
            stream.codec_context.color_range = _COLOR_RANGE_LIMITED
            # one frame, refilled in place: x264 copies the picture inside each encode
            # call, and fresh 1.35 MB frames per picture would each cost page faults
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.colorspace = _COLORSPACE_BT601
            frame.color_range = _COLOR_RANGE_LIMITED
            frame.time_base = 1 / rate
            planes = [_plane_view(frame, k) for k in range(3)]
            for i in range(source.n_frames):
                source.fill_planes(i, *planes)
                frame.pts = i
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, out)
    except (av.FFmpegError, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise ClipWriteError(f"writing video {out}: {exc}") from exc
    return out


def _open_video(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise AugmentError(f"video file {path}: does not exist or is not a file")
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise AugmentError(f"video file {path}: not a readable video container ({exc})") from exc
    if not container.streams.video:
        container.close()
        raise AugmentError(f"video file {path}: contains no video stream")
    fmt = str(container.format.name)
    if fmt.split(",")[0] in _IMAGE_FORMATS or fmt.endswith("_pipe"):
        container.close()
        raise AugmentError(f"video file {path}: is a still image ({fmt}), not a video")
    return container


def _stream_fps(stream: av.video.stream.VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 0.0


def read_video(path: str | os.PathLike[str]) -> tuple[np.ndarray, float]:
    """Decode all frames of a video file to RGB: ``(frames [T, H, W, 3] uint8, fps)``.

    Raises ``AugmentError`` (naming the file) if it is missing, not a video, corrupt or empty.
    """
    p = Path(path)
    container = _open_video(p)
    try:
        stream = container.streams.video[0]
        fps = _stream_fps(stream)
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    except (av.FFmpegError, ValueError) as exc:
        raise AugmentError(f"video file {p}: corrupt or undecodable ({exc})") from exc
    finally:
        container.close()
    if not decoded:
        raise AugmentError(f"video file {p}: no decodable frame")
    if fps <= 0:
        raise AugmentError(f"video file {p}: no frame rate in the container")
    return np.stack(decoded), fps


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Container facts of a video file; raises ``AugmentError`` if it is not a video."""
    p = Path(path)
    container = _open_video(p)
    try:
        stream = container.streams.video[0]
        n = int(stream.frames or 0)
        if n == 0:  # header without a frame count: count by demuxing packets
            n = sum(1 for pkt in container.demux(stream) if pkt.size > 0)
        ctx = stream.codec_context
        info = VideoInfo(
            n_frames=n,
            fps=_stream_fps(stream),
            width=int(ctx.width),
            height=int(ctx.height),
            codec=str(ctx.name),
            pix_fmt=str(ctx.pix_fmt),
        )
    except av.FFmpegError as exc:
        raise AugmentError(f"video file {p}: corrupt or unreadable ({exc})") from exc
    finally:
        container.close()
    return info


def write_thumbnail(
    path: str | os.PathLike[str], frame: np.ndarray, max_width: int = 480, quality: int = 85
) -> Path:
    """Write one RGB frame ``[H, W, 3]`` uint8 as a JPEG no wider than ``max_width`` [px]."""
    if (
        not isinstance(frame, np.ndarray)
        or frame.dtype != np.uint8
        or frame.ndim != 3
        or frame.shape[-1] != 3
    ):
        raise ClipWriteError(
            f"thumbnail frame must be uint8 [H, W, 3], got "
            f"{getattr(frame, 'shape', None)} {getattr(frame, 'dtype', None)}"
        )
    if max_width < 16:
        raise ClipWriteError(f"max_width must be >= 16 px, got {max_width}")
    img = Image.fromarray(frame, mode="RGB")
    if img.width > max_width:
        height = max(1, round(img.height * max_width / img.width))
        img = img.resize((max_width, height), Image.Resampling.BILINEAR)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        img.save(tmp, format="JPEG", quality=quality)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ClipWriteError(f"writing thumbnail {out}: {exc}") from exc
    return out
