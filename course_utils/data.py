"""Build and verify the course's offline data: ``python -m course_utils data build|verify``.

Everything is generated from fixed seeds into ``data/generated/`` and checked against the
SHA-256 checksums committed in ``data/checksums.json``. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from course_utils.env import data_dir

if TYPE_CHECKING:  # numpy and torch are imported where they are used: `data verify` and
    import numpy as np  # the doctor's data check need neither


def generated_dir() -> Path:
    """Where ``data build`` writes: ``<data dir>/generated`` (as ``datasets.generated_dir``)."""
    return data_dir() / "generated"

__all__ = ["BASE_SEED", "build", "checksums_path", "make_pan_zoom_frames", "sha256", "verify"]

BASE_SEED = 2024
VIDEO_NAME = "pan_zoom.mp4"
VIDEO_FPS = 12
VIDEO_SIZE = (96, 128)  # (H, W)
VIDEO_FRAMES = 48


def checksums_path() -> Path:
    return data_dir() / "checksums.json"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_pan_zoom_frames(num_frames: int = VIDEO_FRAMES, size: tuple[int, int] = VIDEO_SIZE) -> np.ndarray:
    """Pan and zoom across matplotlib's bundled photograph of Grace Hopper.

    Returns:
        uint8 array (T, H, W, 3): a virtual camera that zooms in while panning right.
    """
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive int, got {num_frames!r}")
    if not (isinstance(size, tuple) and len(size) == 2 and all(isinstance(v, int) and v >= 2 and v % 2 == 0 for v in size)):
        raise ValueError(f"size must be a tuple (H, W) of even ints >= 2, got {size!r}")
    import numpy as np
    import torch
    import torchvision.transforms.v2.functional as F
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        import matplotlib.image as mpimg

        photo = mpimg.imread(fh, format="jpg")  # (H, W, 3) uint8
    img = torch.from_numpy(np.array(photo)).permute(2, 0, 1)  # (3, H, W)
    _, ph, pw = img.shape
    out_h, out_w = size
    frames = []
    for i in range(num_frames):
        p = i / max(num_frames - 1, 1)
        ease = 0.5 - 0.5 * math.cos(math.pi * p)  # smooth start and stop
        crop_h = int(round(ph * (0.85 - 0.45 * ease)))  # zoom in
        crop_w = int(round(crop_h * out_w / out_h))
        top = int(round((ph - crop_h) * (0.2 + 0.1 * ease)))
        left = int(round((pw - crop_w) * (0.1 + 0.7 * ease)))  # pan right
        crop = F.resized_crop(img, top, left, crop_h, crop_w, [out_h, out_w], antialias=True)
        frames.append(crop.permute(1, 2, 0).numpy())
    return np.stack(frames)


def _files() -> dict[str, callable]:
    """Every generated file and the function that writes it."""
    from course_utils.datasets import _SPLIT_SEED, SPLIT_SIZES, make_glyphs, make_motion_clips

    jobs = {}
    for split, n in SPLIT_SIZES["motion"].items():
        seed = BASE_SEED + _SPLIT_SEED[split]

        def motion(split=split, n=n, seed=seed):
            clips, labels = make_motion_clips(n // 8, seed=seed)
            return {f"motion_{split}_clips.npy.gz": clips.numpy(), f"motion_{split}_labels.npy.gz": labels.numpy()}

        jobs[f"motion_{split}"] = motion
    for split, n in SPLIT_SIZES["glyphs"].items():
        seed = BASE_SEED + 100 + _SPLIT_SEED[split]

        def glyphs(split=split, n=n, seed=seed):
            images, labels = make_glyphs(n // 10, seed=seed)
            return {f"glyphs_{split}_images.npy.gz": images.numpy(), f"glyphs_{split}_labels.npy.gz": labels.numpy()}

        jobs[f"glyphs_{split}"] = glyphs
    jobs.update(_lesson05_files())
    return jobs


def _lesson05_files() -> dict[str, callable]:
    """Notebook 05's data: appearance-defined clips and long source videos."""
    from course_utils.datasets import (
        _SPLIT_SEED,
        APPEARANCE_SPLIT_SIZES,
        SOURCE_VIDEO_COUNT,
        make_appearance_clips,
        make_source_videos,
    )

    jobs = {}
    for split, n in APPEARANCE_SPLIT_SIZES.items():
        seed = BASE_SEED + 200 + _SPLIT_SEED[split]

        def appearance(split=split, n=n, seed=seed):
            clips, labels = make_appearance_clips(n // 8, seed=seed)
            return {f"appearance_{split}_clips.npy.gz": clips.numpy(), f"appearance_{split}_labels.npy.gz": labels.numpy()}

        jobs[f"appearance_{split}"] = appearance

    def sources():
        videos, labels = make_source_videos(SOURCE_VIDEO_COUNT // 8, seed=BASE_SEED + 300)
        return {"source_videos.npy.gz": videos.numpy(), "source_video_labels.npy.gz": labels.numpy()}

    jobs["source_videos"] = sources
    return jobs


def build(out: Path | None = None, *, log=print, write_checksums: bool = False) -> dict[str, str]:
    """Generate every data file into ``out`` (default ``data/generated``).

    Returns the SHA-256 of each file. With ``write_checksums`` the committed checksum file
    is rewritten (only for course maintainers after an intended change of the data). A
    directory (or anything else) standing where a data file goes is removed first.
    """
    from course_utils.datasets import save_array
    from course_utils.video_io import write_video

    out = Path(out) if out is not None else generated_dir()
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file, but the data goes into a folder there: remove it, then build again")
    out.mkdir(parents=True, exist_ok=True)
    sums: dict[str, str] = {}
    for name, job in _files().items():
        log(f"  generating {name} ...")
        for fname, array in job().items():
            _make_room(out / fname, log)
            save_array(out / fname, array)
            sums[fname] = sha256(out / fname)
    log(f"  encoding {VIDEO_NAME} (H.264, {VIDEO_FRAMES} frames at {VIDEO_FPS} fps) ...")
    _make_room(out / VIDEO_NAME, log)
    write_video(out / VIDEO_NAME, make_pan_zoom_frames(), fps=VIDEO_FPS)
    sums[VIDEO_NAME] = sha256(out / VIDEO_NAME)
    if write_checksums:
        checksums_path().write_text(json.dumps(dict(sorted(sums.items())), indent=2) + "\n")
    return sums


def _make_room(path: Path, log) -> None:
    """Remove a directory or other non-file standing where a generated file goes."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        log(f"  removing {path.name}: it was not a regular file")
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def load_checksums() -> tuple[dict[str, str] | None, str | None]:
    """``(checksums, None)``, or ``(None, problem)`` when data/checksums.json is missing,
    not a file, not valid JSON, empty or not a mapping of file names to SHA-256 digests."""
    cpath = checksums_path()
    restore = "restore it with `git checkout data/checksums.json`"
    if not cpath.exists():
        return None, f"{cpath} is missing (it is part of the repository: {restore})"
    if not cpath.is_file():
        return None, f"{cpath} is not a file ({restore})"
    try:
        expected = json.loads(cpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return None, f"{cpath} is not valid JSON ({type(exc).__name__}); {restore}"
    except OSError as exc:
        return None, f"{cpath} cannot be read ({exc})"
    if not isinstance(expected, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) == 64 for k, v in expected.items()
    ):
        return None, f"{cpath} is not a mapping of file names to SHA-256 digests; {restore}"
    if not expected:
        return None, f"{cpath} lists no files, so nothing could be checked; {restore}"
    return expected, None


def verify(root: Path | None = None) -> list[str]:
    """Compare the generated files with the committed checksums.

    Returns a list of problems (empty when everything is present and intact): a missing,
    empty or invalid checksum file is a problem too, never "Data OK".
    """
    root = Path(root) if root is not None else generated_dir()
    expected, problem = load_checksums()
    if problem is not None:
        return [problem]
    problems = []
    for fname, digest in expected.items():
        path = root / fname
        if not path.exists():
            problems.append(f"{fname}: missing")
        elif not path.is_file():
            problems.append(f"{fname}: not a regular file (a folder?); `data build` replaces it")
        else:
            try:
                ok = sha256(path) == digest
            except OSError as exc:
                problems.append(f"{fname}: cannot be read ({exc})")
                continue
            if not ok:
                problems.append(f"{fname}: checksum mismatch (file changed or built by a different version)")
    return problems
