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


# ---------------------------------------------------------------- the three tasks added for issue 15
import av  # noqa: E402
import pytest  # noqa: E402

from course_utils.exercises import match_variant  # noqa: E402
from course_utils.video_io import read_video  # noqa: E402


def _bounds(n, k, i):
    return ex._segment_bounds(n, k, i)


def _tsn_uniform(n, k, g):
    return [int((i + 0.5) * n / k) for i in range(k)]


def _tsn_anywhere(n, k, g):
    return sorted(torch.randint(0, n, (k,), generator=g).tolist())


def _tsn_floor_segments(n, k, g):  # mmaction2's shortcut: segments of n // k frames
    seg = n // k
    return [i * seg + int(torch.randint(0, seg, (1,), generator=g)) if seg else 0 for i in range(k)]


def _tsn_crashes_on_short_videos(n, k, g):
    return [int(torch.randint(int(i * n / k), int((i + 1) * n / k), (1,), generator=g)) for i in range(k)]


def _tsn_ignores_generator(n, k, g):
    return ex.tsn_sampling_reference(n, k, None)


def _tsn_one_too_far(n, k, g):
    out = []
    for i in range(k):
        lo, hi = _bounds(n, k, i)
        out.append(lo + int(torch.randint(0, hi - lo + 2, (1,), generator=g)))
    return out


def _tsn_misses_last_frame(n, k, g):
    out = []
    for i in range(k):
        lo, hi = _bounds(n, k, i)
        out.append(lo + int(torch.randint(0, max(hi - lo, 1), (1,), generator=g)))
    return out


def _tsn_other_correct(n, k, g):  # a different correct implementation: u ~ U(0, 1) scaled to the segment
    out = []
    for i in range(k):
        lo, hi = _bounds(n, k, i)
        out.append(lo + int(torch.rand(1, generator=g).item() * (hi - lo + 1)))
    return out


TSN_WRONG = [
    (_tsn_uniform, "fixed choice"),
    (_tsn_anywhere, "not anywhere in the video"),
    (_tsn_floor_segments, "n // k"),
    (_tsn_crashes_on_short_videos, "shorter than the clip"),
    (_tsn_ignores_generator, "`generator` argument"),
    (_tsn_one_too_far, "one past the segment's last frame"),
    (_tsn_misses_last_frame, "never chosen"),
    (lambda n, k, g: [float(v) for v in ex.tsn_sampling_reference(n, k, g)], "must be ints"),
]


def _order_eval(rev, shuf, scale=1.0, total=False):
    def order_test(model, clips, labels, perm):
        model.eval()
        with torch.no_grad():
            xs = {"original": clips, "reversed": rev(clips), "shuffled": shuf(clips, perm)}
            hits = {k: (model(x).argmax(1) == labels).float() for k, x in xs.items()}
            return {k: (h.sum() if total else h.mean() * scale).item() for k, h in hits.items()}
    return order_test


def _order_no_eval(model, clips, labels, perm):
    with torch.no_grad():
        return {k: (model(x).argmax(1) == labels).float().mean().item()
                for k, x in {"original": clips, "reversed": clips.flip(1), "shuffled": clips[:, perm]}.items()}


def _order_no_grad(model, clips, labels, perm):
    model.eval()
    return {k: (model(x).argmax(1) == labels).float().mean().item()
            for k, x in {"original": clips, "reversed": clips.flip(1), "shuffled": clips[:, perm]}.items()}


ORDER_WRONG = [
    (_order_no_eval, "training mode"),
    (_order_no_grad, "torch.no_grad()"),
    (_order_eval(lambda c: c.flip(0), lambda c, p: c[:, p]), "`flip(0)` reverses the order of the clips"),
    (_order_eval(lambda c: c.flip(-1), lambda c, p: c[:, p]), "spatial flip"),
    (_order_eval(lambda c: c.flip(1), lambda c, p: c[p]), "`clips[perm]` shuffles the clips"),
    (_order_eval(lambda c: c.flip(1), lambda c, p: c[:, p], total=True), "counts of correct predictions"),
    (_order_eval(lambda c: c.flip(1), lambda c, p: c[:, p], scale=100.0), "percentages"),
    (_order_eval(lambda c: c[:, ::-1], lambda c, p: c[:, p]), "no negative steps"),
    (lambda m, c, y, p: tuple(ex.order_test_reference(m, c, y, p).values()), "expected a dict"),
]


def _seek(compare=lambda pts, target: pts >= target, fps=None, with_stream=True, fmt="rgb24", stop_at_key=False):
    def read_frame(path, index):
        with av.open(path) as container:
            stream = container.streams.video[0]
            target = round(index / ((fps or stream.average_rate) * stream.time_base))
            if with_stream:
                container.seek(target, stream=stream)
            else:
                container.seek(target)
            for frame in container.decode(stream):
                if stop_at_key or compare(frame.pts, target):
                    return frame.to_ndarray(format=fmt) if fmt else frame.to_ndarray()
    return read_frame


SEEK_WRONG = [
    (lambda path, index: read_video(path)[index], "decoded from the start"),
    (_seek(stop_at_key=True), "the key frame the seek lands on"),
    (_seek(compare=lambda pts, target: pts > target), "the next frame"),
    (_seek(fps=12), "as if the video ran at 12 fps"),
    (_seek(with_stream=False), "microseconds"),
    (_seek(fmt=None), "format='rgb24'"),
    (lambda path, index: ex.read_frame_reference(path, index).transpose(2, 0, 1), "channels first"),
    (lambda path, index: None, "received None"),
]


@pytest.mark.parametrize("exercise, reference, others", [
    (ex.tsn_sampling, ex.tsn_sampling_reference, [_tsn_other_correct, lambda n, k, g: torch.tensor(ex.tsn_sampling_reference(n, k, g))]),
    (ex.order_test, ex.order_test_reference, [lambda m, c, y, p: {k: torch.tensor(v) for k, v in ex.order_test_reference(m, c, y, p).items()}]),
    (ex.read_frame, ex.read_frame_reference, [lambda path, index: torch.from_numpy(ex.read_frame_reference(path, index))]),
])
def test_new_tasks_reference_passes_blank_not_attempted_crash_reported(exercise, reference, others):
    assert exercise.evaluate(reference).correct
    for other in others:  # other correct answers (another implementation, a tensor instead of a list)
        assert exercise.evaluate(other).correct, exercise.evaluate(other).message
    assert exercise.evaluate(...).outcome == "not attempted"

    def blank(*args):
        ...

    assert exercise.evaluate(blank).outcome == "not attempted"
    crash = exercise.evaluate(lambda *a: 1 / 0)
    assert crash.outcome == "incorrect" and "ZeroDivisionError" in crash.message, crash.message
    assert len(exercise.hints) >= 2 and "def " in exercise.solution_text()


@pytest.mark.parametrize("exercise, wrong, diagnosis", [(ex.tsn_sampling, w, d) for w, d in TSN_WRONG]
                         + [(ex.order_test, w, d) for w, d in ORDER_WRONG]
                         + [(ex.read_frame, w, d) for w, d in SEEK_WRONG])
def test_new_tasks_reject_each_typical_mistake_with_its_own_diagnosis(exercise, wrong, diagnosis):
    v = exercise.evaluate(wrong)
    assert v.outcome == "incorrect", v
    assert diagnosis in v.message, v.message


def test_read_frame_solution_runs_as_shown():
    scope = {}
    exec(ex.read_frame.solution_text(), scope)
    assert ex.read_frame.evaluate(scope["read_frame"]).correct
    scope = {"torch": torch}
    exec(ex.tsn_sampling.solution_text(), scope)
    assert ex.tsn_sampling.evaluate(scope["tsn_sampling"]).correct
    exec(ex.order_test.solution_text(), scope)
    assert ex.order_test.evaluate(scope["order_test"]).correct


def test_match_variant_names_the_mistake_only_when_it_differs_from_the_answer():
    variants = [("doubled", torch.tensor([2.0, 4.0])), ("same as right", torch.tensor([1.0, 2.0]))]
    assert match_variant(torch.tensor([2.0, 4.0]), torch.tensor([1.0, 2.0]), variants) == "doubled"
    assert match_variant(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]), variants) is None
    assert match_variant("text", torch.tensor([1.0, 2.0]), variants) is None  # odd answers never match
    assert match_variant({"a": 2.0}, {"a": 1.0}, {"twice": {"a": 2.0}}) == "twice"
    assert match_variant({"a": 2.0}, {"a": 1.0}, {"other keys": {"b": 2.0}}) is None
