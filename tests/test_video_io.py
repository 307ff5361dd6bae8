import numpy as np
import pytest
import torch

from course_utils.video_io import VideoError, read_video, video_info, write_video


def _frames(t=10, h=32, w=48, seed=0):
    # smooth content (codecs are lossy on noise): moving gradients
    yy, xx = np.mgrid[0:h, 0:w]
    frames = [np.stack([(xx * 5 + i * 7) % 256, (yy * 6) % 256, np.full_like(xx, 40 + 10 * i)], -1) for i in range(t)]
    return np.asarray(frames, dtype=np.uint8)


def test_round_trip_within_codec_tolerance(tmp_path):
    frames = _frames()
    path = write_video(tmp_path / "a.mp4", frames, fps=10)
    back, times = read_video(path, with_timestamps=True)
    assert back.shape == frames.shape and back.dtype == np.uint8
    err = np.abs(back.astype(int) - frames.astype(int)).mean()
    assert err < 6, err
    np.testing.assert_allclose(np.diff(times), 0.1, atol=1e-6)
    info = video_info(path)
    assert info["frames"] == 10 and info["fps"] == 10 and (info["height"], info["width"]) == (32, 48)


def test_lossless_round_trip_with_crf0_and_tensor_input(tmp_path):
    frames = torch.from_numpy(_frames(t=3))
    back = read_video(write_video(tmp_path / "b.mkv", frames, fps=5, crf=0))
    # yuv420p subsampling still loses colour detail: small error, not bit-exact
    assert np.abs(back.astype(int) - frames.numpy().astype(int)).mean() < 3


def test_same_frames_same_bytes(tmp_path):
    f = _frames()
    a = write_video(tmp_path / "a.mp4", f, fps=8).read_bytes()
    b = write_video(tmp_path / "b.mp4", f, fps=8).read_bytes()
    assert a == b


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No video file"):
        read_video(tmp_path / "nope.mp4")
    with pytest.raises(FileNotFoundError):
        video_info(tmp_path / "nope.mp4")


def test_not_a_video(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("this is text, not a video")
    with pytest.raises(VideoError, match="not a video"):
        read_video(p)


@pytest.mark.parametrize(
    "frames, exc, match",
    [
        (np.zeros((4, 32, 32), np.uint8), ValueError, r"\(T, H, W, 3\)"),
        (np.zeros((4, 3, 32, 32), np.uint8), ValueError, r"\(T, H, W, 3\)"),
        (np.zeros((4, 32, 32, 3), np.float32), TypeError, "uint8"),
        (np.zeros((4, 31, 32, 3), np.uint8), ValueError, "even"),
        (np.zeros((0, 32, 32, 3), np.uint8), ValueError, "at least one frame"),
        ([[1, 2, 3]], TypeError, "numpy array or torch tensor"),
    ],
)
def test_write_rejects_bad_frames(tmp_path, frames, exc, match):
    with pytest.raises(exc, match=match):
        write_video(tmp_path / "x.mp4", frames, fps=10)


@pytest.mark.parametrize("fps", [0, -3, "10", None, True])
def test_write_rejects_bad_fps(tmp_path, fps):
    with pytest.raises(ValueError, match="fps"):
        write_video(tmp_path / "x.mp4", _frames(t=2), fps=fps)


def test_bad_path_type():
    with pytest.raises(TypeError, match="path"):
        read_video(42)
