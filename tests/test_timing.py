"""The shared timing helper: warm-up discarded, median and p95, one thread, clear errors."""

import pytest
import torch

from course_utils import timing


def test_measure_calls_warmup_plus_repeat_and_discards_warmup():
    calls = []
    t = timing.measure(lambda: calls.append(1), repeat=7, warmup=3)
    assert len(calls) == 10 and t.repeats == 7 and t.warmup == 3 and t.threads == 1


def test_statistics_of_known_times():
    t = timing.Timing(times=tuple(float(i) for i in range(1, 21)))  # 1..20
    assert t.median == 10.5 and t.p95 == 19.0 and t.min == 1.0 and t.mean == 10.5
    assert timing.Timing(times=(5.0,)).p95 == 5.0


def test_one_thread_restores_the_setting():
    old = torch.get_num_threads()
    seen = []
    timing.measure(lambda: seen.append(torch.get_num_threads()), repeat=2, warmup=0, threads=1)
    assert seen == [1, 1] and torch.get_num_threads() == old


def test_latency_restores_train_mode_and_throughput_rows():
    model = torch.nn.Linear(4, 2)
    model.train()
    t = timing.latency(model, torch.randn(1, 4), repeat=3, warmup=1)
    assert model.training and t.median > 0
    rows = timing.throughput(model, lambda b: torch.randn(b, 4), (1, 4), repeat=2, warmup=0)
    assert [r["batch"] for r in rows] == [1, 4]
    assert all(r["items_per_s"] == pytest.approx(r["batch"] / r["median_s"]) for r in rows)


@pytest.mark.parametrize("kwargs, match", [
    ({"fn": 3}, "fn must be a function"),
    ({"fn": lambda: 0, "repeat": 0}, "repeat must be an integer >= 1"),
    ({"fn": lambda: 0, "warmup": -1}, "warmup must be an integer >= 0"),
    ({"fn": lambda: 0, "threads": 0}, "threads must be an integer >= 1"),
    ({"fn": lambda: 0, "repeat": 2.5}, "repeat must be an integer"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        timing.measure(**kwargs)


def test_throughput_rejects_bad_batch_sizes():
    with pytest.raises(ValueError, match="batch_sizes"):
        timing.throughput(torch.nn.Linear(2, 2), lambda b: torch.randn(b, 2), ())
    with pytest.raises(ValueError, match="batch_sizes"):
        timing.throughput(torch.nn.Linear(2, 2), lambda b: torch.randn(b, 2), (1, 0))
