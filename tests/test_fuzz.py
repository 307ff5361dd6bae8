"""Fuzz (fixed seed, a few seconds): every exercise's check() with the odd answers of issue 18,
and every public function with a table of bad inputs. Zero escapes from check(), zero
"Checker error" for a learner's mistake, zero obscure errors from the API."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import sys

import pytest
import torch

import course_utils.lessons as lessons_pkg
from course_utils import quiz
from course_utils.exercises import CHECKER_ERROR, Exercise


def _all_exercises() -> list[Exercise]:
    found = {}
    for info in pkgutil.iter_modules(lessons_pkg.__path__):
        mod = importlib.import_module(f"course_utils.lessons.{info.name}")
        for value in vars(mod).values():
            if isinstance(value, Exercise):
                found[id(value)] = value
    code = [q.id for q in quiz.questions(types=["code"])][:3]
    return list(found.values()) + [quiz.exercise(qid) for qid in code]


EXERCISES = _all_exercises()


class _BadRepr:
    def __repr__(self):
        raise RuntimeError("repr is broken")

    __str__ = __repr__


class _BadGetattr:
    def __getattr__(self, name):
        raise RuntimeError(f"no attribute {name} for you")

    def __call__(self, *args, **kwargs):
        return _BadGetattr()


def _meta():
    return torch.empty(2, 3, device="meta")


ODD_VALUES = {
    "nan tensor": lambda: torch.full((2, 3), float("nan")),
    "inf tensor": lambda: torch.full((2, 3), float("inf")),
    "empty tensor": lambda: torch.empty(0),
    "meta tensor": _meta,
    "complex tensor": lambda: torch.ones(2, 3, dtype=torch.complex64),
    "complex weight": lambda: torch.tensor([-1.0 + 1j, 1.0]).reshape(1, 1, 2, 1, 1),
    "huge int": lambda: 10**400,
    "nan float": lambda: float("nan"),
    "bad repr": _BadRepr,
    "bad getattr": _BadGetattr,
    "string": lambda: "hello",
    "nested list": lambda: [[1, [2]], "x"],
}


def _function_answers():
    def returning(make):
        return lambda *args, **kwargs: make()

    out = {f"returns {k}": returning(make) for k, make in ODD_VALUES.items()}

    def exits(*args, **kwargs):
        sys.exit(3)

    def in_place(*args, **kwargs):
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, torch.Tensor) and a.is_floating_point():
                a.mul_(2)
                return a
        return args[0] if args else None

    def wrapped(*args, **kwargs):
        return 1

    wrapped.__wrapped__ = wrapped  # a __wrapped__ loop: inspect.unwrap raises ValueError

    @functools.wraps(wrapped)
    def wrapper(*args, **kwargs):
        return wrapped(*args, **kwargs)

    def recursion(*args, **kwargs):
        return recursion(*args, **kwargs)

    out.update({"sys.exit": exits, "in place": in_place, "wrapped loop": wrapped, "wrapper": wrapper,
                "callable with bad getattr": _BadGetattr(), "recursion": recursion})
    return out


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_odd_answers_get_a_verdict_never_a_checker_error(exercise, capsys):
    answers = dict(_function_answers())
    if not exercise.expects_function:
        answers.update({k: make() for k, make in ODD_VALUES.items()})
    for label, answer in answers.items():
        verdict = exercise.evaluate(answer)  # must not raise
        assert verdict.outcome != CHECKER_ERROR, (exercise.name, label, verdict.message)
        assert str(verdict) and verdict._repr_html_()


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.reference is not None], ids=lambda e: e.name)
def test_interrupt_goes_through_and_leaves_the_exercise_usable(exercise, capsys):
    def never_returns(*args, **kwargs):
        raise KeyboardInterrupt

    torch.set_grad_enabled(True)
    with pytest.raises(KeyboardInterrupt):
        exercise.check(never_returns)
    assert "Interrupted" in capsys.readouterr().out
    assert torch.is_grad_enabled()
    assert exercise.evaluate(exercise.reference).correct


# ------------------------------------------------------------------- the public API
def _api_table():
    from torch import nn

    from course_utils import attention as A
    from course_utils import conv as C
    from course_utils import gan as G
    from course_utils import rnn as R
    from course_utils import sampling as S
    from course_utils import training as T

    g = torch.Generator().manual_seed(0)
    x4 = torch.rand(2, 3, 6, 6, generator=g)
    w4 = torch.rand(4, 3, 3, 3, generator=g)
    x5 = torch.rand(1, 2, 4, 5, 5, generator=g)
    w5 = torch.rand(3, 2, 2, 3, 3, generator=g)
    seq = torch.rand(5, 2, 3, generator=g)  # (T, N, I)
    cell_x, h = torch.rand(2, 3, generator=g), torch.rand(2, 4, generator=g)
    wih, whh = torch.rand(4, 3, generator=g), torch.rand(4, 4, generator=g)
    q = torch.rand(2, 4, 8, generator=g)
    tokens = torch.rand(2, 3, 4, 8, generator=g)  # (N, T, P, D)
    mha = A.MultiHeadAttention(8, 2, batch_first=True)
    logits = torch.randn(4, 3, generator=g)
    labels = torch.tensor([0, 1, 2, 0])
    return [
        (C.conv2d, (x4, w4), {"stride": 1, "padding": 1, "dilation": 1, "groups": 1}),
        (C.conv3d, (x5, w5), {"stride": 1, "padding": 0}),
        (C.conv1d, (torch.rand(1, 2, 7), torch.rand(3, 2, 3)), {"stride": 2}),
        (C.conv2d_loop, (x4[:1, :, :4, :4], w4), {"padding": 0}),
        (C.im2col, (x4,), {"kernel_size": 3, "stride": 1, "padding": 0}),
        (C.max_pool2d, (x4,), {"kernel_size": 2, "stride": 2}),
        (C.avg_pool2d, (x4,), {"kernel_size": 2}),
        (C.conv_output_size, (7, 3), {"stride": 1, "padding": 0, "dilation": 1}),
        (C.conv_params, (3, 64, 3), {"groups": 1, "dims": 2}),
        (C.conv_flops, (3, 64, 3, (8, 8)), {}),
        (C.mid_channels_2plus1d, (3, 64), {"t": 3, "d": 3}),
        (C.numeric_gradient, (lambda t: (t**2).sum(), torch.rand(3, dtype=torch.float64)), {"eps": 1e-6}),
        (C.receptive_field, ([(3, 1), (3, 2)],), {}),
        (A.safe_softmax, (q,), {"dim": -1}),
        (A.causal_mask, (4, 5), {}),
        (A.scaled_dot_product_attention, (q, q, q), {"scale": None}),
        (A.split_heads, (q, 2), {}),
        (A.merge_heads, (tokens,), {}),
        (A.sinusoidal_positional_encoding, (6, 8), {"base": 10000.0}),
        (A.attention_cost, (8, 4, 4), {}),
        (A.MultiHeadAttention, (8, 2), {"dropout": 0.0}),
        (mha.forward, (q, q, q), {}),
        (A.PatchEmbedding(3, 8, 2).forward, (x4,), {}),
        (A.TubeletEmbedding(2, 8, (2, 5, 5)).forward, (torch.rand(1, 4, 2, 5, 5),), {}),
        (A.joint_attention, (tokens, A.MultiHeadAttention(8, 2, batch_first=True)), {}),
        (R.rnn_cell, (cell_x, h, wih, whh), {"nonlinearity": "tanh"}),
        (R.gru_cell, (cell_x, torch.rand(2, 4), torch.rand(12, 3), torch.rand(12, 4)), {}),
        (R.lstm_cell, (cell_x, (h, h), torch.rand(16, 3), torch.rand(16, 4)), {}),
        (R.rnn, (seq, nn.RNN(3, 4)), {}),
        (R.lstm, (seq, nn.LSTM(3, 4)), {}),
        (R.gru, (seq, nn.GRU(3, 4)), {}),
        (R.lstm_num_params, (3, 4), {"num_layers": 1}),
        (R.linear_rnn_weight, (4, 0.9), {}),
        (G.ring_centers, (8,), {"radius": 2.0}),
        (G.sample_ring, (16,), {}),
        (G.to_gan_range, (torch.rand(2, 1, 4, 4),), {}),
        (G.from_gan_range, (torch.rand(2, 1, 4, 4),), {}),
        (G.sample_noise, (4, 8), {}),
        (G.discriminator_loss, (torch.randn(4), torch.randn(4)), {}),
        (G.generator_loss, (torch.randn(4),), {"kind": "nonsaturating"}),
        (G.inception_like_score, (torch.softmax(logits, 1),), {}),
        (G.frechet_distance, (torch.randn(20, 3, dtype=torch.float64), torch.randn(20, 3, dtype=torch.float64)), {}),
        (G.DCGANDiscriminator, (), {"width": 8, "size": 32}),
        (G.DCGANGenerator, (), {"z_dim": 8, "width": 8, "size": 16}),
        (S.uniform_indices, (20, 4), {}),
        (S.random_indices, (20, 4), {"stride": 2}),
        (S.segment_indices, (20, 4), {}),
        (T.accuracy, (logits, labels), {}),
    ]


BAD_VALUES = [
    None, "x", -1, 0, 2.5, float("nan"), float("inf"), True, [1, 2], object(),
    torch.empty(0), torch.ones(2, dtype=torch.int64), torch.ones(1, 1, 1, 1, 1, 1),
    torch.ones(2, 3, dtype=torch.complex64),
]


def test_public_functions_refuse_bad_arguments_clearly():
    """Every argument of every function replaced in turn by each bad value: the call either
    works or raises ValueError/TypeError (a clear message), never an obscure error."""
    obscure = []
    calls = 0
    for fn, args, kwargs in _api_table():
        fn(*args, **kwargs)  # the good call works
        slots = [("arg", i) for i in range(len(args))] + [("kw", k) for k in kwargs]
        for kind, slot in slots:
            for bad in BAD_VALUES:
                a, kw = list(args), dict(kwargs)
                if kind == "arg":
                    a[slot] = bad
                else:
                    kw[slot] = bad
                calls += 1
                try:
                    fn(*a, **kw)
                except (ValueError, TypeError):
                    pass
                except Exception as exc:  # noqa: BLE001
                    name = getattr(fn, "__qualname__", fn)
                    obscure.append(f"{name} {kind} {slot}={_short(bad)}: {type(exc).__name__}: {str(exc)[:80]}")
    assert calls > 1000
    assert obscure == [], "\n".join(obscure)


def _short(value):
    if isinstance(value, torch.Tensor):
        return f"tensor{tuple(value.shape)}{value.dtype}"
    return repr(value)[:30]


def test_empty_batches_work_or_are_refused_clearly():
    """N=0, which torch accepts: each tensor argument cut to zero rows."""
    obscure = []
    for fn, args, kwargs in _api_table():
        for i, a in enumerate(args):
            if isinstance(a, torch.Tensor) and a.dim() >= 2:
                b = list(args)
                b[i] = a[:0]
                try:
                    fn(*b, **kwargs)
                except (ValueError, TypeError):
                    pass
                except Exception as exc:  # noqa: BLE001
                    obscure.append(f"{getattr(fn, '__qualname__', fn)} arg {i} N=0: {type(exc).__name__}: {str(exc)[:80]}")
    assert obscure == [], "\n".join(obscure)


# ------------------------------------------- the second table: plotting, video I/O, lessons 05-08
import os  # noqa: E402

import numpy as np  # noqa: E402
from torch import nn  # noqa: E402


def _api_table_more(tmp):
    """The public functions of notebooks 00 and 04 not in the first table (plotting, video_io,
    gan.train_gan) and those of lessons 05-08 (video_models, metrics, optim, compression,
    deploy, vae, diffusion): each with a call that works."""
    import matplotlib
    matplotlib.use("Agg")
    from course_utils import compression as CP
    from course_utils import deploy as DP
    from course_utils import diffusion as DF
    from course_utils import gan as G
    from course_utils import metrics as M
    from course_utils import optim as O
    from course_utils import plotting as P
    from course_utils import vae as V
    from course_utils import video_io as IO
    from course_utils import video_models as VM
    from course_utils.training import History

    g = torch.Generator().manual_seed(1)
    clips = torch.rand(2, 4, 1, 8, 8, generator=g)  # (N, T, C, H, W)
    frames = (torch.rand(3, 8, 8, 3, generator=g) * 255).to(torch.uint8).numpy()  # (T, H, W, 3)
    video = IO.write_video(os.path.join(tmp, "v.mp4"), frames, 4)
    hist = History()
    hist.update(train_loss=[1.0, 0.5], train_acc=[0.2, 0.6], val_loss=[1.1, 0.7], val_acc=[0.1, 0.5])
    y_true, y_pred = np.array([0, 1, 2, 1]), np.array([0, 2, 2, 1])
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.2, 0.6], [0.1, 0.8, 0.1]])
    binary, bscores = np.array([0, 1, 1, 0]), np.array([0.1, 0.8, 0.4, 0.3])
    p = torch.rand(3, generator=g)
    sched = DF.Schedule(DF.linear_schedule(100))
    x0 = torch.rand(2, 1, 4, 4, generator=g)
    tt = torch.tensor([1, 5])
    mu, logvar = torch.rand(2, 4, generator=g), torch.rand(2, 4, generator=g)
    net = CP.CausalVideoNet(widths=(4, 4, 4), dim=8, size=8)
    Gm, Dm = G.MLPGenerator(z_dim=2, hidden=8, depth=1), G.MLPDiscriminator(hidden=8, depth=1)
    return [
        # plotting (notebook 00)
        (P.to_tchw, (clips[0],), {"name": "clip"}),
        (P.show_frames, (clips[0],), {"nrow": 2, "title": "t"}),
        (P.show_images, (clips[0],), {"nrow": 2, "padding": 1}),
        (P.animate_clip, (clips[0],), {"fps": 4, "scale": 1.0}),
        (P.plot_history, (hist,), {"title": "t"}),
        # video_io (notebook 00)
        (IO.video_info, (video,), {}),
        (IO.read_video, (video,), {"with_timestamps": False}),
        (IO.write_video, (os.path.join(tmp, "w.mp4"), frames, 4), {"crf": 18, "gop": 2}),
        # gan.train_gan (notebook 04)
        (G.train_gan, (Gm, Dm, G.sample_ring), {"steps": 1, "batch_size": 8, "lr_g": 1e-3, "lr_d": 1e-3, "d_steps": 1,
                                                 "loss": "nonsaturating", "gp_weight": 1.0, "sample_every": 1, "progress": False}),
        # video_models (notebook 05)
        (VM.downsample_clips, (torch.rand(2, 8, 1, 16, 16),), {"frames": 4, "size": 8}),
        (VM.temporal_shift, (torch.rand(2, 4, 8, 3, 3),), {"fold_div": 4}),
        (VM.to_time_sequences, (torch.rand(2, 3, 4, 5),), {}),
        (VM.from_time_sequences, (torch.rand(8, 3, 5), 2), {}),
        (VM.build_model, ("TSN",), {}),
        (VM.width_for_params, ("TSN", 5000), {"multiple_of": 1}),
        (VM.count_macs, (VM.TSN(width=4, num_frames=4), (1, 4, 1, 32, 32)), {}),
        (VM.mean_sd, ([0.5, 0.7],), {}),
        (VM.TemporalShift, (4,), {"fold_div": 4}),
        (VM.SelfAttention, (8, 2), {}),
        # metrics (notebook 06)
        (M.confusion_matrix, (y_true, y_pred), {"num_classes": 3}),
        (M.accuracy, (y_true, y_pred), {}),
        (M.precision_recall_f1, (y_true, y_pred), {"num_classes": 3, "average": "macro", "zero_division": 0.0}),
        (M.f1_score, (y_true, y_pred), {"average": "macro"}),
        (M.balanced_accuracy, (y_true, y_pred), {}),
        (M.top_k_accuracy, (y_true, scores), {"k": 2}),
        (M.precision_recall_curve, (binary, bscores), {}),
        (M.average_precision, (binary, bscores), {}),
        (M.roc_curve, (binary, bscores), {"drop_intermediate": True}),
        (M.roc_auc, (binary, bscores), {}),
        (M.reliability_curve, (y_true, scores), {"n_bins": 5}),
        (M.expected_calibration_error, (y_true, scores), {"n_bins": 5}),
        (M.aggregate_by_video, (scores, np.array([0, 0, 1, 1])), {}),
        (M.group_split, (np.array([0, 0, 1, 1, 2, 2, 3, 3]),), {"test_fraction": 0.25, "seed": 0}),
        # optim (notebook 06)
        (O.sgd_update, (p.clone(), torch.rand(3), None), {"lr": 0.1, "momentum": 0.0}),
        (O.adam_update, (p.clone(), torch.rand(3), torch.zeros(3), torch.zeros(3), 1), {"lr": 1e-3, "eps": 1e-8}),
        (O.adamw_update, (p.clone(), torch.rand(3), torch.zeros(3), torch.zeros(3), 1), {"lr": 1e-3, "weight_decay": 0.01}),
        (O.warmup_cosine, (3,), {"base_lr": 0.1, "warmup_steps": 2, "total_steps": 10}),
        (O.SGD, ([nn.Parameter(torch.rand(2))],), {"lr": 0.1, "momentum": 0.9}),
        (O.Adam, ([nn.Parameter(torch.rand(2))],), {"lr": 1e-3}),
        (O.AdamW, ([nn.Parameter(torch.rand(2))],), {"lr": 1e-3, "weight_decay": 0.01}),
        # compression (notebook 07)
        (CP.quant_params, (-1.0, 1.0), {"bits": 8, "symmetric": False}),
        (CP.quantize, (torch.rand(4), 0.1, 0), {}),
        (CP.dequantize, (torch.tensor([1, 2], dtype=torch.uint8), 0.1, 0), {}),
        (CP.quantize_per_channel, (torch.rand(4, 3),), {"axis": 0, "bits": 8}),
        (CP.fake_quantize, (torch.rand(4), 0.1), {"zero_point": 0, "q_min": -128, "q_max": 127}),
        (CP.causal_cache_size, (3, (1, 2)), {"channels": 4}),
        (CP.sparsity, (net,), {}),
        (CP.prune_channels, (net, 0.5), {}),
        (CP.model_bytes, (net,), {"compress": False}),
        (CP.distillation_loss, (torch.rand(3, 4), torch.rand(3, 4), torch.tensor([0, 1, 2])), {"T": 2.0, "alpha": 0.5}),
        (CP.CausalVideoNet, (), {"dim": 8, "kernel_size": 3, "classes": 4, "size": 8}),
        # deploy (notebook 07)
        (DP.atomic_save, ({"a": 1}, os.path.join(tmp, "a.pt")), {}),
        (DP.clip_from_video, (frames,), {"clip_len": 2, "size": 8, "channels": 1}),
        (DP.ReplayBuffer, (4,), {"seed": 0}),
        (DP.DriftDetector, (), {"threshold": 4.0}),
        # vae (notebook 08)
        (V.reparameterize, (mu, logvar), {}),
        (V.gaussian_kl, (mu, logvar), {}),
        (V.vae_loss, (torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 4), mu, logvar), {"beta": 1.0, "sigma_x": 0.5}),
        (V.score_function_grad, (lambda z: z**2, 0.5, 1.0, 16), {}),
        (V.reparam_grad, (lambda z: z**2, 0.5, 1.0, 16), {}),
        (V.ConvVAE, (), {"z_dim": 4, "width": 8, "channels": 1, "size": 16}),
        # diffusion (notebook 08)
        (DF.linear_schedule, (100,), {}),
        (DF.cosine_schedule, (10,), {"s": 0.008, "max_beta": 0.999}),
        (DF.Schedule, (DF.linear_schedule(100),), {}),
        (DF.q_sample, (x0, tt, torch.rand(2, 1, 4, 4), sched.alpha_bar), {}),
        (DF.simulate_chain, (x0, 100, DF.linear_schedule(100)), {}),
        (DF.posterior_mean, (x0, torch.rand(2, 1, 4, 4), tt, sched), {}),
        (DF.guided_eps, (torch.rand(2, 3), torch.rand(2, 3), 2.0), {}),
        (DF.timestep_embedding, (tt, 8), {"max_period": 10000.0}),
        (DF.dit_tokens, (16, 64, 64), {"vae_time": 4, "vae_space": 8}),
        (DF.clip_diversity, (torch.rand(3, 4, 1, 8, 8, generator=g),), {}),
        # added with lesson 07's quantization-aware training and lesson 05's patch embedding
        (CP.WeightFakeQuant, (), {"bits": 4}),
        (CP.add_weight_fake_quant, (CP.CausalVideoNet(widths=(4, 4, 4), dim=8, size=8),), {"bits": 4}),
        (CP.finalize_fake_quant, (CP.add_weight_fake_quant(CP.CausalVideoNet(widths=(4, 4, 4), dim=8, size=8)),), {}),
        (CP.quantize_weights, (CP.CausalVideoNet(widths=(4, 4, 4), dim=8, size=8),), {"bits": 4}),
        (CP.int8_weight_bytes, (CP.CausalVideoNet(widths=(4, 4, 4), dim=8, size=8),), {}),
        (VM.PatchConv2d, (3, 8, 4), {}),
    ]


#: values that no argument of these functions should take silently ...
STRICT_BAD = {"'x'": "x", "nan": float("nan"), "inf": float("inf"), "object()": object(),
              "complex tensor": torch.ones(2, 3, dtype=torch.complex64), "None": None}
#: ... except these (function, argument): optional arguments (None), free text (a title, a
#: name, a path) and arguments that take any object (what torch.save stores, a seed)
ACCEPTS = {
    ("to_tchw", "name"): {"'x'"}, ("show_frames", "nrow"): {"None"}, ("show_frames", "title"): {"'x'", "None"},
    ("plot_history", "title"): {"'x'", "None"}, ("write_video", "gop"): {"None"},
    ("confusion_matrix", "num_classes"): {"None"}, ("precision_recall_f1", "num_classes"): {"None"},
    ("precision_recall_f1", "average"): {"None"}, ("f1_score", "average"): {"None"},
    ("precision_recall_f1", "zero_division"): {"nan"},  # as scikit-learn: nan marks an undefined score
    ("group_split", "seed"): {"None"}, ("sgd_update", "buf"): {"None"},
    ("model_bytes", "obj"): set(STRICT_BAD), ("atomic_save", "obj"): set(STRICT_BAD), ("atomic_save", "path"): {"'x'"},
    ("ReplayBuffer", "seed"): {"'x'", "nan", "inf", "None"},  # random.Random takes any hashable seed
}


def _param_name(fn, kind, slot):
    if kind == "kw":
        return slot
    try:
        params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
        return params[slot].name
    except (TypeError, ValueError, IndexError):
        return str(slot)


def _fuzz(table, values):
    """Call every function with each argument replaced in turn by each value; return
    (obscure errors, silently accepted (function, argument, value label))."""
    import matplotlib.pyplot as plt

    obscure, accepted = [], []
    for fn, args, kwargs in table:
        fn(*args, **kwargs)  # the good call works
        plt.close("all")
        name = getattr(fn, "__qualname__", str(fn)).split(".")[0]
        slots = [("arg", i) for i in range(len(args))] + [("kw", k) for k in kwargs]
        for kind, slot in slots:
            for label, bad in values.items():
                a, kw = list(args), dict(kwargs)
                if kind == "arg":
                    a[slot] = bad
                else:
                    kw[slot] = bad
                try:
                    fn(*a, **kw)
                    accepted.append((name, _param_name(fn, kind, slot), label))
                except (ValueError, TypeError, FileNotFoundError):  # a missing file is named, that is clear
                    pass
                except Exception as exc:  # noqa: BLE001
                    obscure.append(f"{name} {kind} {slot}={label}: {type(exc).__name__}: {str(exc)[:80]}")
                finally:
                    plt.close("all")
    return obscure, accepted


def test_more_public_functions_refuse_bad_arguments_clearly(tmp_path, monkeypatch):
    """The second table with the bad values of the first (2,900 calls): never an obscure error."""
    monkeypatch.chdir(tmp_path)  # a path argument replaced by "x" writes there
    obscure, _ = _fuzz(_api_table_more(str(tmp_path)), {_short(v): v for v in BAD_VALUES})
    assert obscure == [], "\n".join(obscure)


def test_no_silent_acceptance_of_nonsense(tmp_path, monkeypatch):
    """A string, NaN, inf, an arbitrary object, a complex tensor or None where a function
    cannot use it must be refused (not turned into a wrong result), except where listed."""
    monkeypatch.chdir(tmp_path)
    obscure, accepted = _fuzz(_api_table_more(str(tmp_path)), STRICT_BAD)
    assert obscure == [], "\n".join(obscure)
    silent = [f"{fn}({arg}={label}) accepted" for fn, arg, label in accepted if label not in ACCEPTS.get((fn, arg), ())]
    assert silent == [], "\n".join(silent)


def test_second_table_covers_each_public_function_of_its_modules():
    """Every name in __all__ of these modules (classes with required arguments aside) is fuzzed,
    in one of the two tables or in a test of its own (listed here)."""
    from course_utils import (
        compression,
        deploy,
        diffusion,
        metrics,
        optim,
        plotting,
        vae,
        video_io,
        video_models,
    )

    covered = {getattr(fn, "__qualname__", "").split(".")[0] for fn, _, _ in _api_table_more("/nonexistent")}
    elsewhere = {  # fuzzed by their own tests, or not functions of data
        "VideoError", "PredictError", "BUNDLE_FORMAT", "ZOO", "main", "VAEHistory", "DiffusionHistory",
        "default_model_path", "train_default_model", "predict", "save_bundle", "load_bundle", "export_onnx",
        "export_program", "onnx_session", "run_onnx", "onnx_int8", "save_checkpoint", "load_checkpoint",
        "resumable_training", "gated_update", "file_size", "sparse_state_dict", "StreamingClassifier",
        "SymmetryAugment", "torch_warmup_cosine", "inflate_2d_to_3d", "train_vae", "train_diffusion",
        "ddpm_sample", "ddim_sample", "diffusion_loss", "Denoiser", "VideoDenoiser", "ClipClassifier",
        "CNN3D", "CNNGRU", "TSM", "TSN", "EarlyFusion", "FrameCNN", "R2Plus1D", "SingleFrame", "VideoViT",
    }
    missing = []
    for mod in (compression, deploy, diffusion, metrics, optim, plotting, vae, video_io, video_models):
        missing += [f"{mod.__name__}.{n}" for n in mod.__all__ if n not in covered and n not in elsewhere]
    assert missing == [], missing


def test_more_empty_batches_work_or_are_refused_clearly(tmp_path, monkeypatch):
    """N=0 for every tensor or array argument of the second table with a batch dimension."""
    import matplotlib.pyplot as plt

    from course_utils.deploy import (
        PredictError,  # the predict command's one-sentence error for its user
    )

    monkeypatch.chdir(tmp_path)
    obscure = []
    for fn, args, kwargs in _api_table_more(str(tmp_path)):
        for i, a in enumerate(args):
            if isinstance(a, torch.Tensor | np.ndarray) and a.ndim >= 1 and len(a) > 1:
                b = list(args)
                b[i] = a[:0]
                try:
                    fn(*b, **kwargs)
                except (ValueError, TypeError, PredictError):
                    pass
                except Exception as exc:  # noqa: BLE001
                    obscure.append(f"{getattr(fn, '__qualname__', fn)} arg {i} N=0: {type(exc).__name__}: {str(exc)[:80]}")
                finally:
                    plt.close("all")
    assert obscure == [], "\n".join(obscure)
