"""Synthetic, offline datasets: moving-shape clips and digit glyphs (notebook 00).

Nothing is downloaded. Everything is generated deterministically from a seed by
``python -m course_utils data build`` into ``data/generated/`` (checksums in
``data/checksums.json``), then loaded by the Dataset classes below.

* **Motion clips** (video classification that needs *time*): one asymmetric shape per clip
  moves right/left, down/up, turns clockwise/counterclockwise, or grows/shrinks. Classes
  come in time-reversed pairs with the same distribution of frames, so a single frame (or
  the average of all frames) cannot tell a class from its twin: only the order of frames can.
* **Glyphs** (images for the GAN lesson): the digits 0-9 rendered from matplotlib's bundled
  DejaVu fonts under random affine jitter.
"""

from __future__ import annotations

import gzip
import io
import math
import zlib
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from course_utils.env import data_dir

__all__ = [
    "APPEARANCE_CLASSES",
    "AppearanceClips",
    "MOTION_CLASSES",
    "SPLIT_SIZES",
    "Glyphs",
    "MotionClips",
    "generated_dir",
    "load_array",
    "load_source_videos",
    "make_appearance_clips",
    "make_source_videos",
    "make_glyphs",
    "make_motion_clips",
    "rasterize_polygons",
    "save_array",
]

MOTION_CLASSES: tuple[str, ...] = (
    "right",
    "left",
    "down",
    "up",
    "clockwise",
    "counterclockwise",
    "growing",
    "shrinking",
)

# clips (or images) per split: motion clips are balanced over 8 classes, glyphs over 10.
SPLIT_SIZES = {
    "motion": {"train": 1600, "val": 320, "test": 640},
    "glyphs": {"train": 6000, "test": 1000},
}
_SPLIT_SEED = {"train": 0, "val": 1, "test": 2}

# Asymmetric shapes (no rotation or mirror symmetry), vertices in units of "half size".
_SHAPES = (
    np.array([[-1, -1], [1, -1], [1, -0.4], [-0.3, -0.4], [-0.3, 1], [-1, 1]]),  # L
    np.array([[-1, -1], [1, -0.2], [0.2, 0.1], [-0.2, 1]]),  # kite-like quad
    np.array([[-1, -1], [1, -1], [1, 0.0], [0.0, 0.0], [0.0, 1], [-1, 1.0], [-1, 0.3], [-0.5, 0.3], [-0.5, -0.4], [-1, -0.4]]),  # notched block
    np.array([[-1, -0.6], [0.2, -1], [1, 0.9], [-0.6, 0.5]]),  # irregular quad
)


# --------------------------------------------------------------------------- raster
def rasterize_polygons(polygons: np.ndarray, size: int, supersample: int = 4) -> np.ndarray:
    """Anti-aliased coverage of polygons on a ``size x size`` pixel grid.

    Args:
        polygons: (F, V, 2) float array, F polygons of V vertices (x, y) in pixel units,
            or a list of (V_i, 2) contours per frame combined with the even-odd rule when
            given as a (F, K) object array (used for glyphs with holes).
        size: output height and width in pixels.
        supersample: samples per pixel along each axis.

    Returns:
        (F, size, size) float32 coverage in [0, 1].
    """
    polygons = np.asarray(polygons, dtype=np.float64)
    if polygons.ndim != 3 or polygons.shape[-1] != 2:
        raise ValueError(f"polygons must have shape (F, V, 2), got {polygons.shape}")
    size = _check_int("size", size, 1)
    supersample = _check_int("supersample", supersample, 1)
    s = supersample
    coords = (np.arange(size * s) + 0.5) / s  # sample centres in pixel units
    py, px = np.meshgrid(coords, coords, indexing="ij")
    px, py = px.ravel(), py.ravel()  # (P,)
    x0, y0 = polygons[..., 0], polygons[..., 1]  # (F, V)
    x1, y1 = np.roll(x0, -1, axis=1), np.roll(y0, -1, axis=1)
    inside = np.zeros((polygons.shape[0], px.size), dtype=bool)
    for v in range(polygons.shape[1]):  # even-odd crossing test, one edge at a time
        ax, ay, bx, by = x0[:, v : v + 1], y0[:, v : v + 1], x1[:, v : v + 1], y1[:, v : v + 1]
        crosses = (ay > py) != (by > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = ax + (py - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (px < xint)
    cov = inside.reshape(-1, size, s, size, s).mean(axis=(2, 4))
    return cov.astype(np.float32)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


# ------------------------------------------------------------------- motion clips
def make_motion_clips(
    n_per_class: int, seed: int, num_frames: int = 16, size: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate a balanced set of motion clips, deterministic from ``seed``.

    Args:
        n_per_class: clips per class (8 classes, see ``MOTION_CLASSES``).
        seed: any non-negative int; the same seed gives the same bytes.
        num_frames: frames per clip T (>= 2).
        size: frame height and width (>= 16).

    Returns:
        clips: uint8 tensor (N, T, 1, H, W) with N = 8 * n_per_class, classes interleaved.
        labels: int64 tensor (N,) indexing ``MOTION_CLASSES``.
    """
    n_per_class = _check_int("n_per_class", n_per_class, 1)
    seed = _check_int("seed", seed, 0)
    num_frames = _check_int("num_frames", num_frames, 2)
    size = _check_int("size", size, 16)
    rng = np.random.default_rng(seed)
    n = n_per_class * len(MOTION_CLASSES)
    labels = np.arange(n) % len(MOTION_CLASSES)
    t = np.linspace(0.0, 1.0, num_frames)  # progress through the clip
    clips = np.empty((n, num_frames, 1, size, size), dtype=np.uint8)
    for i, label in enumerate(labels):
        shape = _SHAPES[rng.integers(len(_SHAPES))]
        mirror = rng.choice([-1.0, 1.0])
        brightness = rng.uniform(0.55, 1.0)
        pair, forward = divmod(int(label), 2)  # forward=0 for right/down/cw/growing
        half = rng.uniform(0.12, 0.17) * size  # half size of the shape in pixels
        angle0 = rng.uniform(0, 2 * math.pi)
        margin = 1.1 * half
        cx = np.full(num_frames, rng.uniform(margin, size - margin))
        cy = np.full(num_frames, rng.uniform(margin, size - margin))
        angle = np.full(num_frames, angle0)
        scale = np.full(num_frames, half)
        if pair in (0, 1):  # translation: travel a distance inside the frame
            dist = rng.uniform(0.3, 0.42) * size
            lo = margin
            start = rng.uniform(lo, size - margin - dist)
            path = start + dist * t  # increasing coordinate
            if pair == 0:
                cx = path  # right (x grows)
            else:
                cy = path  # down (y grows downward in images)
        elif pair == 2:  # rotation: clockwise on screen means angle grows (y points down)
            turn = rng.uniform(0.5, 0.9) * math.pi
            angle = angle0 + turn * t
        else:  # scale: growing
            small = rng.uniform(0.08, 0.1) * size
            big = rng.uniform(0.18, 0.21) * size
            scale = small + (big - small) * t
            m = 1.2 * big
            cx = np.full(num_frames, rng.uniform(m, size - m))
            cy = np.full(num_frames, rng.uniform(m, size - m))
        if forward == 1:  # the time-reversed twin: left, up, counterclockwise, shrinking
            cx, cy, angle, scale = cx[::-1], cy[::-1], angle[::-1], scale[::-1]
        pts = shape * np.array([mirror, 1.0])  # (V, 2)
        cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]  # (T, 1)
        x = (pts[:, 0] * cos - pts[:, 1] * sin) * scale[:, None] + cx[:, None]  # (T, V)
        y = (pts[:, 0] * sin + pts[:, 1] * cos) * scale[:, None] + cy[:, None]
        cover = rasterize_polygons(np.stack([x, y], axis=-1), size)  # (T, H, W)
        clips[i, :, 0] = _to_uint8(cover * brightness)
    return torch.from_numpy(clips), torch.from_numpy(labels.astype(np.int64))


# ---------------------------------------------------------------------------- glyphs
_GLYPH_FONTS = (
    ("DejaVu Sans", "normal"),
    ("DejaVu Sans", "bold"),
    ("DejaVu Serif", "normal"),
    ("DejaVu Serif", "bold"),
    ("DejaVu Sans Mono", "normal"),
)


def _glyph_contours() -> dict[tuple[int, int], list[np.ndarray]]:
    """Outline polygons of each digit in each bundled font, centred, unit height."""
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.textpath import TextPath

    out = {}
    for f, (family, weight) in enumerate(_GLYPH_FONTS):
        path = findfont(FontProperties(family=family, weight=weight), fallback_to_default=False)
        prop = FontProperties(fname=path)
        for digit in range(10):
            polys = TextPath((0, 0), str(digit), size=1.0, prop=prop).to_polygons()
            allpts = np.concatenate(polys)
            lo, hi = allpts.min(0), allpts.max(0)
            centre, height = (lo + hi) / 2, hi[1] - lo[1]
            out[f, digit] = [(p - centre) / height * np.array([1.0, -1.0]) for p in polys]
    return out


def make_glyphs(n_per_class: int, seed: int, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Render digit glyphs under random affine jitter, deterministic from ``seed``.

    Returns:
        images: uint8 tensor (N, 1, size, size), N = 10 * n_per_class, white digit on black.
        labels: int64 tensor (N,) with the digit.
    """
    n_per_class = _check_int("n_per_class", n_per_class, 1)
    seed = _check_int("seed", seed, 0)
    size = _check_int("size", size, 16)
    rng = np.random.default_rng(seed)
    contours = _glyph_contours()
    n = 10 * n_per_class
    labels = np.arange(n) % 10
    images = np.empty((n, 1, size, size), dtype=np.uint8)
    for i, digit in enumerate(labels):
        font = int(rng.integers(len(_GLYPH_FONTS)))
        height = rng.uniform(0.6, 0.78) * size
        rot = rng.uniform(-0.25, 0.25)
        shear = rng.uniform(-0.25, 0.25)
        sx = rng.uniform(0.85, 1.15)
        shift = rng.uniform(-0.08, 0.08, size=2) * size
        a = np.array([[math.cos(rot), -math.sin(rot)], [math.sin(rot), math.cos(rot)]])
        a = a @ np.array([[sx, shear], [0.0, 1.0]]) * height
        cover = np.zeros((size, size), dtype=np.float32)
        # even-odd over all contours: rasterize each and XOR their coverage masks
        masks = []
        for poly in contours[font, int(digit)]:
            pts = poly @ a.T + size / 2 + shift
            masks.append(rasterize_polygons(pts[None], size, supersample=4)[0])
        for m in masks:
            cover = np.abs(cover - m)  # XOR of coverages (holes cut out)
        images[i, 0] = _to_uint8(cover)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


# ------------------------------------------------------------------------- storage
def generated_dir() -> Path:
    """Where ``data build`` writes: ``<data dir>/generated``."""
    return data_dir() / "generated"


def save_array(path: Path, array: np.ndarray) -> None:
    """Write an array as gzip-compressed .npy with no timestamp (same array, same bytes)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz:
        gz.write(buf.getvalue())


def load_array(path: Path) -> np.ndarray:
    """Read an array written by :func:`save_array`, with a clear error if it is missing."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the course data has not been built yet. "
            "Run `python -m course_utils data build` (or `make data`)."
        )
    if not path.is_file():
        raise IsADirectoryError(
            f"{path} is not a file (a folder?): remove it and run `python -m course_utils data build`."
        )
    try:
        with gzip.open(path, "rb") as gz:
            return np.load(io.BytesIO(gz.read()), allow_pickle=False)
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise DataFileError(
            f"{path} is corrupt or truncated ({type(exc).__name__}: {exc}). "
            "Rebuild the course data with `python -m course_utils data build` "
            "(`python -m course_utils data verify` checks every file)."
        ) from None


class DataFileError(ValueError):
    """A course data file that cannot be read (corrupt, truncated, wrong contents)."""


def _check_labels(path_hint: str, labels: torch.Tensor, n_items: int, n_classes: int) -> None:
    """Labels must be integers in [0, n_classes), one per item."""
    fix = "Rebuild the course data with `python -m course_utils data build`."
    if labels.dim() != 1 or len(labels) != n_items:
        raise DataFileError(f"{path_hint}: expected {n_items} labels (one per item), got shape {tuple(labels.shape)}. {fix}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.dtype.is_complex:
        raise DataFileError(f"{path_hint}: labels must be integers, got dtype {labels.dtype}. {fix}")
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise DataFileError(
            f"{path_hint}: labels must be in [0, {n_classes}), got values from {int(labels.min())} "
            f"to {int(labels.max())}. {fix}"
        )


def _check_split(split: str, allowed: tuple[str, ...]) -> str:
    if split not in allowed:
        raise ValueError(f"split must be one of {allowed}, got {split!r}")
    return split


class _ClipFiles(Dataset):
    """Clips stored as ``{prefix}_{split}_clips.npy.gz`` and ``{prefix}_{split}_labels.npy.gz``.

    The shared loading, checking and item access of :class:`MotionClips` (notebook 00) and
    :class:`AppearanceClips` (notebook 05). Item ``i`` is ``(clip, label)``: clip float32
    (T, C, H, W) in [0, 1] (after ``transform`` if given), label an int indexing ``classes``.

    Attributes:
        clips: uint8 tensor (N, T, C, H, W); labels: int64 tensor (N,); classes: names.
    """

    classes: tuple[str, ...] = ()
    prefix = ""  # the file-name prefix of the subclass
    splits: tuple[str, ...] = ("train", "val", "test")

    def __init__(self, split: str = "train", transform=None):
        self.split = _check_split(split, self.splits)
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable or None, got {type(transform).__name__}")
        root = generated_dir()
        clips_path = root / f"{self.prefix}_{split}_clips.npy.gz"
        labels_path = root / f"{self.prefix}_{split}_labels.npy.gz"
        self.clips = torch.from_numpy(load_array(clips_path))
        self.labels = torch.from_numpy(load_array(labels_path))
        if self.clips.dim() != 5 or self.clips.dtype != torch.uint8:
            raise DataFileError(
                f"{clips_path}: expected uint8 clips (N, T, C, H, W), got "
                f"{self.clips.dtype} {tuple(self.clips.shape)}. Rebuild with `python -m course_utils data build`."
            )
        _check_labels(str(labels_path), self.labels, len(self.clips), len(self.classes))
        self.labels = self.labels.long()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        clip = self.clips[index].float().div_(255.0)  # (T, C, H, W)
        if self.transform is not None:
            clip = self.transform(clip)
        return clip, int(self.labels[index])

    def __repr__(self) -> str:
        n, t, c, h, w = self.clips.shape
        return (f"{type(self).__name__}(split={self.split!r}, clips={n}, clip shape (T, C, H, W)=({t}, {c}, {h}, {w}), "
                f"classes={len(self.classes)})")


class MotionClips(_ClipFiles):
    """The course's motion-classification clips (notebook 00).

    Item ``i`` is ``(clip, label)``: clip float32 (T, C, H, W) = (16, 1, 32, 32) in [0, 1]
    (after ``transform`` if given), label an int indexing :data:`MOTION_CLASSES`.

    Attributes:
        clips: uint8 tensor (N, T, C, H, W); labels: int64 tensor (N,); classes: names.
    """

    classes = MOTION_CLASSES
    prefix = "motion"
    splits = ("train", "val", "test")


class Glyphs(Dataset):
    """Digit glyph images for the GAN lesson (notebook 04).

    Item ``i`` is ``(image, digit)``: image float32 (1, 32, 32) in [0, 1].
    """

    classes = tuple(str(d) for d in range(10))

    def __init__(self, split: str = "train", transform=None):
        self.split = _check_split(split, ("train", "test"))
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable or None, got {type(transform).__name__}")
        root = generated_dir()
        self.images = torch.from_numpy(load_array(root / f"glyphs_{split}_images.npy.gz"))
        self.labels = torch.from_numpy(load_array(root / f"glyphs_{split}_labels.npy.gz"))
        if self.images.dim() != 4 or self.images.dtype != torch.uint8:
            raise DataFileError(
                f"{root / f'glyphs_{split}_images.npy.gz'}: expected uint8 images (N, C, H, W), got "
                f"{self.images.dtype} {tuple(self.images.shape)}. Rebuild with `python -m course_utils data build`."
            )
        _check_labels(str(root / f"glyphs_{split}_labels.npy.gz"), self.labels, len(self.images), len(self.classes))
        self.labels = self.labels.long()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index].float().div_(255.0)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])

    def __repr__(self) -> str:
        return f"Glyphs(split={self.split!r}, images={len(self)}, image shape (C, H, W)={tuple(self.images.shape[1:])})"


# ------------------------------------------------------- appearance clips (notebook 05)
APPEARANCE_CLASSES: tuple[str, ...] = (
    "disc",
    "square",
    "triangle",
    "bar",
    "ring",
    "frame",
    "hollow triangle",
    "hollow bar",
)
APPEARANCE_SPLIT_SIZES = {"train": 480, "test": 240}


def _appearance_outline(kind: int) -> np.ndarray:
    """Unit outline (V, 2) of shape ``kind``: 0 disc (16-gon), 1 square, 2 triangle, 3 bar."""
    if kind == 0:
        a = np.linspace(0.0, 2 * math.pi, 16, endpoint=False)
        return np.stack([np.cos(a), np.sin(a)], axis=1)
    return {
        1: np.array([[-0.85, -0.85], [0.85, -0.85], [0.85, 0.85], [-0.85, 0.85]]),
        2: np.array([[0.0, -1.0], [0.95, 0.75], [-0.95, 0.75]]),
        3: np.array([[-1.1, -0.4], [1.1, -0.4], [1.1, 0.4], [-1.1, 0.4]]),
    }[kind]


def make_appearance_clips(
    n_per_class: int, seed: int, num_frames: int = 16, size: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clips whose class is the *appearance* of the object, never its motion (notebook 05).

    Eight classes (:data:`APPEARANCE_CLASSES`): a disc, square, triangle or bar, solid or
    hollow. The motion is random and independent of the class: a straight drift in a random
    direction, a random spin and a random brightness. One frame is enough to classify;
    the order of frames carries no information. Same format as :func:`make_motion_clips`.

    Returns:
        clips: uint8 tensor (N, T, 1, H, W), N = 8 * n_per_class, classes interleaved.
        labels: int64 tensor (N,) indexing ``APPEARANCE_CLASSES``.
    """
    n_per_class = _check_int("n_per_class", n_per_class, 1)
    seed = _check_int("seed", seed, 0)
    num_frames = _check_int("num_frames", num_frames, 2)
    size = _check_int("size", size, 16)
    rng = np.random.default_rng(seed)
    n = n_per_class * len(APPEARANCE_CLASSES)
    labels = np.arange(n) % len(APPEARANCE_CLASSES)
    t = np.linspace(0.0, 1.0, num_frames)[:, None]  # (T, 1)
    clips = np.empty((n, num_frames, 1, size, size), dtype=np.uint8)
    for i, label in enumerate(labels):
        hollow, kind = divmod(int(label), 4)
        unit = _appearance_outline(kind)  # (V, 2)
        half = rng.uniform(0.2, 0.26) * size
        brightness = rng.uniform(0.55, 1.0)
        angle = rng.uniform(0, 2 * math.pi) + rng.uniform(-1.0, 1.0) * math.pi * t  # (T, 1)
        direction = rng.uniform(0, 2 * math.pi)
        dist = rng.uniform(0.0, 0.3) * size
        margin = 1.15 * half
        lo, hi = margin + dist / 2, size - margin - dist / 2
        cx = rng.uniform(lo, hi) + dist * (t - 0.5) * math.cos(direction)  # (T, 1)
        cy = rng.uniform(lo, hi) + dist * (t - 0.5) * math.sin(direction)
        cos, sin = np.cos(angle), np.sin(angle)
        rx = unit[:, 0] * cos - unit[:, 1] * sin  # (T, V): the rotated unit outline
        ry = unit[:, 0] * sin + unit[:, 1] * cos
        outer = np.stack([rx * half + cx, ry * half + cy], axis=-1)  # (T, V, 2)
        cover = rasterize_polygons(outer, size)
        if hollow:  # cut out the same shape at half size
            inner = np.stack([rx * (0.5 * half) + cx, ry * (0.5 * half) + cy], axis=-1)
            cover = np.clip(cover - rasterize_polygons(inner, size), 0.0, 1.0)
        clips[i, :, 0] = _to_uint8(cover * brightness)
    return torch.from_numpy(clips), torch.from_numpy(labels.astype(np.int64))


# ------------------------------------------- long source videos (notebook 05)
SOURCE_VIDEO_COUNT = 80  # 10 per motion class
SOURCE_VIDEO_FRAMES = 48


def make_source_videos(
    n_per_class: int, seed: int, num_frames: int = SOURCE_VIDEO_FRAMES, size: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """Long motion videos to cut clips from (notebook 05: clip vs video level, split leakage).

    Each video shows one of the 8 :data:`MOTION_CLASSES` over ``num_frames`` frames (slower
    than in the 16-frame clips) on its own faint static background (two soft blobs), as
    clips cut from one real video share a scene. The background says nothing about the
    class, but it identifies the video: a model can memorize it.

    Returns:
        videos: uint8 tensor (V, T, 1, H, W), V = 8 * n_per_class, classes interleaved.
        labels: int64 tensor (V,) indexing ``MOTION_CLASSES``.
    """
    n_per_class = _check_int("n_per_class", n_per_class, 1)
    seed = _check_int("seed", seed, 0)
    num_frames = _check_int("num_frames", num_frames, 2)
    size = _check_int("size", size, 16)
    rng = np.random.default_rng(seed)
    n = n_per_class * len(MOTION_CLASSES)
    labels = np.arange(n) % len(MOTION_CLASSES)
    t = np.linspace(0.0, 1.0, num_frames)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    videos = np.empty((n, num_frames, 1, size, size), dtype=np.uint8)
    for i, label in enumerate(labels):
        background = np.zeros((size, size))
        for _ in range(2):  # soft blobs: the video's "scene"
            bx, by = rng.uniform(0, size, 2)
            r = rng.uniform(0.15, 0.35) * size
            background += rng.uniform(0.1, 0.25) * np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * r * r))
        shape = _SHAPES[rng.integers(len(_SHAPES))]
        mirror = rng.choice([-1.0, 1.0])
        brightness = rng.uniform(0.55, 1.0)
        pair, forward = divmod(int(label), 2)
        half = rng.uniform(0.12, 0.17) * size
        angle0 = rng.uniform(0, 2 * math.pi)
        margin = 1.1 * half
        cx = np.full(num_frames, rng.uniform(margin, size - margin))
        cy = np.full(num_frames, rng.uniform(margin, size - margin))
        angle = np.full(num_frames, angle0)
        scale = np.full(num_frames, half)
        if pair in (0, 1):
            dist = rng.uniform(0.5, 0.62) * size
            start = rng.uniform(margin, size - margin - dist)
            path = start + dist * t
            if pair == 0:
                cx = path
            else:
                cy = path
        elif pair == 2:
            angle = angle0 + rng.uniform(1.2, 1.8) * math.pi * t
        else:
            small = rng.uniform(0.06, 0.08) * size
            big = rng.uniform(0.2, 0.23) * size
            scale = small + (big - small) * t
            m = 1.2 * big
            cx = np.full(num_frames, rng.uniform(m, size - m))
            cy = np.full(num_frames, rng.uniform(m, size - m))
        if forward == 1:
            cx, cy, angle, scale = cx[::-1], cy[::-1], angle[::-1], scale[::-1]
        pts = shape * np.array([mirror, 1.0])
        cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
        x = (pts[:, 0] * cos - pts[:, 1] * sin) * scale[:, None] + cx[:, None]
        y = (pts[:, 0] * sin + pts[:, 1] * cos) * scale[:, None] + cy[:, None]
        cover = rasterize_polygons(np.stack([x, y], axis=-1), size)  # (T, H, W)
        frames = np.maximum(cover * brightness, background[None])  # the shape in front
        videos[i, :, 0] = _to_uint8(frames)
    return torch.from_numpy(videos), torch.from_numpy(labels.astype(np.int64))


class AppearanceClips(_ClipFiles):
    """Appearance-defined clips (notebook 05): item ``(clip (16, 1, 32, 32) float in [0, 1], label)``.

    The class is the shape (:data:`APPEARANCE_CLASSES`), the motion is random; same
    loading and checks as :class:`MotionClips` (their shared base).
    """

    classes = APPEARANCE_CLASSES
    prefix = "appearance"
    splits = tuple(APPEARANCE_SPLIT_SIZES)


def load_source_videos() -> tuple[torch.Tensor, torch.Tensor]:
    """The long source videos of notebook 05: uint8 (V, 48, 1, 32, 32) and labels (V,)."""
    root = generated_dir()
    videos = torch.from_numpy(load_array(root / "source_videos.npy.gz"))
    labels = torch.from_numpy(load_array(root / "source_video_labels.npy.gz"))
    return videos, labels
