"""Notebook 00's checker messages added for issue 15 (the basic outcomes are in test_exercises.py)."""

import torch

from course_utils.lessons import video_data as ex


def test_uniform_sampling_accepts_a_tensor_of_indices():
    assert ex.uniform_sampling.evaluate(lambda n, k: torch.tensor(ex.uniform_sampling_reference(n, k))).correct
    assert ex.uniform_sampling.evaluate(lambda n, k: tuple(ex.uniform_sampling_reference(n, k))).correct
    starts = ex.uniform_sampling.evaluate(lambda n, k: torch.tensor([int(i * n / k) for i in range(k)]))
    assert starts.outcome == "incorrect" and "centres" in starts.message, starts.message
    floats = ex.uniform_sampling.evaluate(lambda n, k: torch.tensor(ex.uniform_sampling_reference(n, k)).float())
    assert floats.outcome == "incorrect" and "integer dtype" in floats.message, floats.message
    crash = ex.uniform_sampling.evaluate(lambda n, k: 1 / 0)
    assert crash.outcome == "incorrect" and "ZeroDivisionError" in crash.message, crash.message


def test_channels_first_insists_on_float32():
    v = ex.channels_first.evaluate(lambda v: v.permute(3, 0, 1, 2).double() / 255)
    assert v.outcome == "incorrect" and "float32" in v.message, v.message
