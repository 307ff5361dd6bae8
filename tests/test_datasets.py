import hashlib

import numpy as np
import pytest
import torch

from course_utils import data
from course_utils.datasets import (
    MOTION_CLASSES,
    SPLIT_SIZES,
    Glyphs,
    MotionClips,
    load_array,
    make_glyphs,
    make_motion_clips,
    rasterize_polygons,
    save_array,
)


def _digest(t: torch.Tensor) -> str:
    return hashlib.sha256(t.numpy().tobytes()).hexdigest()


def test_motion_same_seed_same_bytes_different_seed_different_data():
    a, la = make_motion_clips(2, seed=5)
    b, lb = make_motion_clips(2, seed=5)
    c, _ = make_motion_clips(2, seed=6)
    assert _digest(a) == _digest(b) and torch.equal(la, lb)
    assert _digest(a) != _digest(c)


def test_glyphs_same_seed_same_bytes_different_seed_different_data():
    a, _ = make_glyphs(2, seed=1)
    b, _ = make_glyphs(2, seed=1)
    c, _ = make_glyphs(2, seed=2)
    assert _digest(a) == _digest(b) and _digest(a) != _digest(c)


def test_motion_shapes_and_balance():
    clips, labels = make_motion_clips(3, seed=0, num_frames=8, size=24)
    assert clips.shape == (24, 8, 1, 24, 24) and clips.dtype == torch.uint8
    assert torch.bincount(labels, minlength=8).tolist() == [3] * 8
    assert clips.amax(dim=(1, 2, 3, 4)).min() > 100  # every clip shows a shape


def test_motion_classes_are_time_reversed_pairs():
    clips, labels = make_motion_clips(40, seed=3)
    x = clips.float()[:, :, 0]  # (N, T, H, W)
    mass = x.sum((-1, -2))
    cx = (x * torch.arange(32)).sum((-1, -2)) / mass
    cy = (x * torch.arange(32)[:, None]).sum((-1, -2)) / mass
    dx, dy, dm = cx[:, -1] - cx[:, 0], cy[:, -1] - cy[:, 0], mass[:, -1] / mass[:, 0]
    name = [MOTION_CLASSES[i] for i in labels]
    for i, n in enumerate(name):
        if n == "right":
            assert dx[i] > 5
        if n == "left":
            assert dx[i] < -5
        if n == "down":
            assert dy[i] > 5
        if n == "up":
            assert dy[i] < -5
        if n == "growing":
            assert dm[i] > 2
        if n == "shrinking":
            assert dm[i] < 0.5


def test_single_frames_do_not_reveal_the_direction():
    # the middle frame's position has the same distribution for "right" and "left"
    clips, labels = make_motion_clips(150, seed=11)
    mid = clips.float()[:, 8, 0]
    cx = (mid * torch.arange(32)).sum((-1, -2)) / mid.sum((-1, -2))
    right, left = cx[labels == 0], cx[labels == 1]
    assert abs(right.mean() - left.mean()) < 1.0


def test_glyph_shapes_and_balance():
    images, labels = make_glyphs(3, seed=0)
    assert images.shape == (30, 1, 32, 32) and images.dtype == torch.uint8
    assert torch.bincount(labels).tolist() == [3] * 10
    ink = images.float().mean(dim=(1, 2, 3)) / 255
    assert (ink > 0.03).all() and (ink < 0.5).all()


def test_built_datasets_load_with_their_documented_shapes():
    train = MotionClips("train")
    assert len(train) == SPLIT_SIZES["motion"]["train"]
    clip, label = train[0]
    assert clip.shape == (16, 1, 32, 32) and clip.dtype == torch.float32
    assert 0 <= float(clip.min()) and float(clip.max()) <= 1 and isinstance(label, int)
    for split in ("train", "val", "test"):
        counts = torch.bincount(MotionClips(split).labels, minlength=8)
        assert counts.min() == counts.max()
    g = Glyphs("test")
    img, digit = g[3]
    assert img.shape == (1, 32, 32) and len(g) == 1000 and 0 <= digit <= 9
    assert MotionClips("train", transform=lambda c: c * 0)[0][0].sum() == 0


def test_splits_differ():
    a, b = MotionClips("train").clips[:50], MotionClips("test").clips[:50]
    assert not torch.equal(a, b)


def test_committed_checksums_verify():
    assert data.verify() == []


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: make_motion_clips(0, 1), ValueError, "n_per_class"),
        (lambda: make_motion_clips(2.5, 1), TypeError, "n_per_class"),
        (lambda: make_motion_clips(1, -1), ValueError, "seed"),
        (lambda: make_motion_clips(1, 0, num_frames=1), ValueError, "num_frames"),
        (lambda: make_motion_clips(1, 0, size=8), ValueError, "size"),
        (lambda: make_glyphs(1, "0"), TypeError, "seed"),
        (lambda: MotionClips("training"), ValueError, "split must be one of"),
        (lambda: Glyphs("val"), ValueError, "split must be one of"),
        (lambda: MotionClips("train", transform=3), TypeError, "transform"),
        (lambda: rasterize_polygons(np.zeros((3, 2)), 8), ValueError, r"\(F, V, 2\)"),
    ],
)
def test_bad_input_gets_a_clear_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_missing_data_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="data build"):
        MotionClips("train")


def test_save_array_is_byte_deterministic(tmp_path):
    arr = np.arange(100, dtype=np.uint8).reshape(10, 10)
    save_array(tmp_path / "a.npy.gz", arr)
    save_array(tmp_path / "b.npy.gz", arr)
    assert (tmp_path / "a.npy.gz").read_bytes() == (tmp_path / "b.npy.gz").read_bytes()
    assert np.array_equal(load_array(tmp_path / "a.npy.gz"), arr)


def test_pan_zoom_frames_and_bad_arguments():
    frames = data.make_pan_zoom_frames(3, (16, 20))
    assert frames.shape == (3, 16, 20, 3) and frames.dtype == np.uint8
    assert not np.array_equal(frames[0], frames[-1])  # the camera moves
    with pytest.raises(ValueError, match="num_frames"):
        data.make_pan_zoom_frames(0)
    with pytest.raises(ValueError, match=r"size must be a tuple \(H, W\)"):
        data.make_pan_zoom_frames(2, (15, 20))
    with pytest.raises(ValueError, match="supersample"):
        rasterize_polygons(np.zeros((1, 3, 2)), 8, supersample=0)
