import pytest
import torch

from course_utils.sampling import random_indices, segment_indices, uniform_indices


def test_uniform_centres():
    assert uniform_indices(48, 8).tolist() == [3, 9, 15, 21, 27, 33, 39, 45]
    assert uniform_indices(3, 6).tolist() == [0, 0, 1, 1, 2, 2]
    assert uniform_indices(1, 1).tolist() == [0]


@pytest.mark.parametrize("n, k", [(48, 8), (7, 3), (5, 9), (100, 1), (1, 4), (33, 32)])
def test_segment_indices_fall_in_their_segment(n, k):
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        idx = segment_indices(n, k, generator=g)
        assert len(idx) == k and (idx >= 0).all() and (idx < n).all()
        assert (idx[1:] >= idx[:-1]).all()
        for i, v in enumerate(idx.tolist()):
            assert int(i * n / k) <= v <= max(int(i * n / k), -(-(i + 1) * n // k) - 1)


@pytest.mark.parametrize("n, k, s", [(48, 8, 2), (10, 8, 2), (5, 5, 1), (3, 8, 1)])
def test_random_window(n, k, s):
    g = torch.Generator().manual_seed(1)
    idx = random_indices(n, k, stride=s, generator=g)
    assert len(idx) == k and (idx < n).all() and (idx >= 0).all()
    steps = torch.diff(idx)
    assert ((steps >= 0) & (steps <= s)).all()
    if (n - 1) >= (k - 1) * s:  # the window fits: exact stride
        assert (steps == s).all()


@pytest.mark.parametrize("fn", [uniform_indices, segment_indices, random_indices])
def test_bad_arguments(fn):
    with pytest.raises(ValueError, match="num_frames"):
        fn(0, 3)
    with pytest.raises(TypeError, match="clip_len"):
        fn(5, 2.0)
    with pytest.raises(ValueError, match="stride"):
        random_indices(5, 2, stride=0)
