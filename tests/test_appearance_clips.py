"""AppearanceClips (notebook 05) shares MotionClips' loading and checks (their common base)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.datasets import (
    APPEARANCE_CLASSES,
    APPEARANCE_SPLIT_SIZES,
    AppearanceClips,
    DataFileError,
    MotionClips,
    save_array,
)


def test_appearance_clips_load_like_motion_clips():
    app = AppearanceClips("test")
    assert len(app) == APPEARANCE_SPLIT_SIZES["test"] and app.classes == APPEARANCE_CLASSES
    clip, label = app[0]
    assert clip.shape == (16, 1, 32, 32) and clip.dtype == torch.float32 and isinstance(label, int)
    assert 0 <= float(clip.min()) and float(clip.max()) <= 1
    assert app.labels.dtype == torch.int64 == MotionClips("test").labels.dtype
    assert repr(app).startswith("AppearanceClips(split='test', clips=240")
    assert AppearanceClips("train", transform=lambda c: c * 0)[0][0].sum() == 0
    assert type(app).__mro__[1] is type(MotionClips("test")).__mro__[1]  # one shared base class


@pytest.mark.parametrize("call, exc, match", [
    (lambda: AppearanceClips("val"), ValueError, r"split must be one of \('train', 'test'\)"),
    (lambda: AppearanceClips("train", transform=3), TypeError, "transform"),
])
def test_bad_input_gets_a_clear_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_corrupt_files_are_reported_for_both_datasets(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    for prefix, cls in (("appearance", AppearanceClips), ("motion", MotionClips)):
        save_array(tmp_path / "generated" / f"{prefix}_train_clips.npy.gz", np.zeros((4, 2, 1, 4, 4), dtype=np.float32))
        save_array(tmp_path / "generated" / f"{prefix}_train_labels.npy.gz", np.zeros(4, dtype=np.int64))
        with pytest.raises(DataFileError, match="expected uint8 clips"):
            cls("train")
        save_array(tmp_path / "generated" / f"{prefix}_train_clips.npy.gz", np.zeros((4, 2, 1, 4, 4), dtype=np.uint8))
        save_array(tmp_path / "generated" / f"{prefix}_train_labels.npy.gz", np.array([0, 1, 2, 99]))
        with pytest.raises(DataFileError, match="labels must be in"):
            cls("train")
