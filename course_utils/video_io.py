"""Read and write real video files with PyAV (notebook 00).

torchvision 0.29 no longer decodes video, so the course uses PyAV (FFmpeg's Python
binding) directly: a container holds streams, a stream holds encoded packets, a decoder
turns packets into frames, each with a presentation timestamp (``pts``) in units of the
stream's ``time_base``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from course_utils.validate import check_bool

__all__ = ["VideoError", "read_video", "video_info", "write_video"]


class VideoError(ValueError):
    """The file exists but is not a video PyAV can decode."""


def _check_path(path: str | Path, must_exist: bool) -> Path:
    if not isinstance(path, str | Path):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    path = Path(path)
    if must_exist and not path.is_file():
        raise FileNotFoundError(
            f"No video file at {path}. If it is the course's clip, build the data first: "
            "`python -m course_utils data build`."
        )
    return path


def _open(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path))
    except (av.error.InvalidDataError, av.error.FFmpegError) as exc:
        raise VideoError(f"{path} is not a video file PyAV can read ({exc}).") from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path} has no video stream (streams: {list(container.streams)}).")
    return container


def video_info(path: str | Path) -> dict:
    """Container and stream facts: fps, frame count, size, duration, codec, time base.

    Returns:
        dict with keys ``fps`` (float), ``frames`` (int), ``height``, ``width`` (int),
        ``duration`` (seconds, float), ``codec`` (str), ``time_base`` (Fraction),
        ``pix_fmt`` (str).
    """
    path = _check_path(path, must_exist=True)
    container = _open(path)
    with container:
        stream = container.streams.video[0]
        frames = stream.frames or sum(1 for _ in container.decode(stream))
        rate = stream.average_rate or stream.guessed_rate
        duration = float(stream.duration * stream.time_base) if stream.duration else frames / float(rate)
        return {
            "fps": float(rate),
            "frames": int(frames),
            "height": stream.codec_context.height,
            "width": stream.codec_context.width,
            "duration": round(duration, 6),
            "codec": stream.codec_context.name,
            "time_base": stream.time_base,
            "pix_fmt": stream.codec_context.pix_fmt,
        }


def read_video(path: str | Path, *, with_timestamps: bool = False):
    """Decode every frame of the first video stream as RGB.

    Args:
        path: a video file (mp4, mkv, webm, ...).
        with_timestamps: also return each frame's presentation time in seconds.

    Returns:
        frames: uint8 numpy array (T, H, W, C) with C = 3 (RGB); and, if asked,
        times: float64 numpy array (T,) in seconds.

    Raises:
        FileNotFoundError: no file at ``path``.
        VideoError: the file is not a decodable video.
    """
    path = _check_path(path, must_exist=True)
    check_bool("with_timestamps", with_timestamps)
    container = _open(path)
    frames, times = [], []
    with container:
        stream = container.streams.video[0]
        try:
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))  # (H, W, 3)
                times.append(float(frame.pts * stream.time_base) if frame.pts is not None else np.nan)
        except av.error.FFmpegError as exc:
            raise VideoError(f"{path} could not be decoded ({exc}).") from exc
    if not frames:
        raise VideoError(f"{path} has a video stream but no decodable frames.")
    video = np.stack(frames)  # (T, H, W, 3)
    return (video, np.asarray(times)) if with_timestamps else video


def write_video(
    path: str | Path,
    frames: np.ndarray | torch.Tensor,
    fps: float,
    *,
    codec: str = "libx264",
    crf: int = 18,
    gop: int | None = None,
) -> Path:
    """Encode RGB frames to a video file (H.264 in mp4 by default).

    Args:
        path: output file; the extension picks the container (``.mp4``, ``.mkv``).
        frames: uint8 array or tensor (T, H, W, 3), RGB; H and W even (yuv420p needs it).
        fps: frames per second, a positive number (ints and fractions are exact).
        codec: an FFmpeg encoder name PyAV provides (``libx264``, ``mpeg4``, ...).
        crf: constant rate factor for x264 (0 = lossless, 18 = visually lossless, 51 = worst).
        gop: with libx264, a key frame exactly every ``gop`` frames (no scene-cut key frames),
            to study the cost of random access (notebook 00); None keeps x264's default.

    Returns:
        the path written. Encoding runs on one thread so the same frames give the same bytes.
    """
    path = _check_path(path, must_exist=False)
    if isinstance(frames, torch.Tensor):
        frames = frames.detach().cpu().numpy()
    if not isinstance(frames, np.ndarray):
        raise TypeError(f"frames must be a numpy array or torch tensor (T, H, W, 3), got {type(frames).__name__}")
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must have shape (T, H, W, 3) (RGB, channels last), got {frames.shape}")
    if frames.dtype != np.uint8:
        raise TypeError(
            f"frames must have dtype uint8 (0-255), got {frames.dtype}; "
            "for floats in [0, 1] use (x * 255).round().astype(np.uint8)"
        )
    t, h, w, _ = frames.shape
    if t == 0:
        raise ValueError("frames must hold at least one frame, got T=0")
    if h % 2 or w % 2:
        raise ValueError(f"frame height and width must be even for yuv420p, got (H, W)=({h}, {w})")
    if isinstance(fps, bool) or not isinstance(fps, int | float | Fraction) or not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive finite number, got {fps!r}")
    if not 0.01 <= fps <= 1000:
        raise ValueError(f"fps must be between 0.01 and 1000 frames per second, got {fps!r}")
    if not isinstance(crf, int) or not 0 <= crf <= 51:
        raise ValueError(f"crf must be an int in [0, 51], got {crf!r}")
    if gop is not None and (isinstance(gop, bool) or not isinstance(gop, int) or gop < 1):
        raise ValueError(f"gop must be a positive int (frames between key frames) or None, got {gop!r}")
    if gop is not None and codec != "libx264":
        raise ValueError(f"gop is supported with codec='libx264' only, got codec={codec!r}")
    rate = Fraction(fps).limit_denominator(1001)
    if rate <= 0 or abs(float(rate) - float(fps)) > 1e-3 * float(fps):
        raise ValueError(f"fps={fps!r} cannot be stored exactly enough in a video time base (nearest {rate})")
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        if codec == "libx264":
            stream.options = {"crf": str(crf), "preset": "medium"}
            if gop is not None:
                stream.codec_context.gop_size = gop
                stream.options = {**stream.options, "keyint_min": str(gop), "sc_threshold": "0"}
        for array in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():  # flush the encoder
            container.mux(packet)
    return path
