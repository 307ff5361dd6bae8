"""Exercises of notebook 02 (``02_recurrence.ipynb``): RNN recurrence, LSTM/GRU, gradient flow.

Use in the notebook::

    from course_utils.lessons import recurrence as ex
    ex.rnn_step.check(my_rnn_step)
    ex.rnn_step.hint()
    ex.rnn_step.solution()

Exercises: ``rnn_step``, ``rnn_step_backward``, ``lstm_step``, ``lstm_params``, ``grad_norm_after_k``,
``clip_features``. Each reference solution is the function ``<name>_reference`` below.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn

from course_utils.exercises import Case, Exercise
from course_utils.rnn import lstm_num_params

__all__ = [
    "clip_features",
    "clip_features_reference",
    "grad_norm_after_k",
    "grad_norm_after_k_reference",
    "lstm_params",
    "lstm_params_reference",
    "lstm_step",
    "lstm_step_reference",
    "rnn_step",
    "rnn_step_backward",
    "rnn_step_backward_reference",
    "rnn_step_reference",
]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(gen: torch.Generator, *shape: int, scale: float = 1.0, dtype: torch.dtype = torch.float32) -> Tensor:
    return scale * torch.randn(*shape, generator=gen, dtype=dtype)


def _matches(a: object, b: object, tol: float = 1e-5) -> bool:
    """True when two tensors (or tuples of tensors) are equal within tol."""
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_matches(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a.shape == b.shape and bool(
            torch.allclose(a.double(), b.detach().double(), atol=tol, rtol=tol)
        )
    return False


# ------------------------------------------------------------------ 1. one RNN step
def rnn_step_reference(
    x: Tensor, h: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> Tensor:
    """One Elman RNN step: x (N, I), h (N, H), W_ih (H, I), W_hh (H, H), b_* (H,) -> (N, H)."""
    return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def _rnn_cases() -> list[Case]:
    cases = []
    for k, (n, i, h) in enumerate([(2, 3, 3), (4, 5, 3), (1, 2, 6), (3, 1, 1)]):
        g = _gen(10 + k)
        args = (
            _randn(g, n, i),
            _randn(g, n, h),
            _randn(g, h, i, scale=0.7),
            _randn(g, h, h, scale=0.7),
            _randn(g, h, scale=0.5),
            _randn(g, h, scale=0.5),
        )
        label = (
            "square weights"
            if i == h
            else ("batch of one" if n == 1 else "input size != hidden size")
        )
        cases.append(Case(args, label=label))
    return cases


def _rnn_diagnose(case: Case | None, expected: object, received: object) -> str | None:
    if case is None or not isinstance(received, Tensor):
        return None
    x, h, W_ih, W_hh, b_ih, b_hh = case.args
    pre = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    variants = {
        "You returned the pre-activation: apply tanh to it.": pre,
        "You used a sigmoid; the Elman RNN of nn.RNNCell uses tanh (outputs in (-1, 1)).": torch.sigmoid(
            pre
        ),
        "You used ReLU; nn.RNNCell's default nonlinearity is tanh.": torch.relu(pre),
        "One bias is missing: torch adds both b_ih and b_hh.": torch.tanh(pre - b_hh),
        "One bias is missing: torch adds both b_ih and b_hh. ": torch.tanh(pre - b_ih),
        "The hidden state term is missing: add h @ W_hh.T.": torch.tanh(x @ W_ih.T + b_ih + b_hh),
    }
    if x.shape[1] == h.shape[1]:
        variants["The weights act on the right of the vectors: use W.T (x @ W_ih.T), not W."] = (
            torch.tanh(x @ W_ih + b_ih + h @ W_hh + b_hh)
        )
        variants["The weights are swapped: W_ih multiplies x, W_hh multiplies h."] = torch.tanh(
            x @ W_hh.T + b_ih + h @ W_ih.T + b_hh
        )
    for msg, value in variants.items():
        if _matches(value, received):
            return msg.strip()
    return None


rnn_step = Exercise(
    "rnn_step",
    title="One RNN step",
    reference=rnn_step_reference,
    cases=_rnn_cases,
    diagnose=_rnn_diagnose,
    hints=[
        "Torch stores weights as (out_features, in_features), so a batch of row vectors x (N, I) "
        "is multiplied by the transpose: x @ W_ih.T has shape (N, H).",
        "h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh): both biases, then tanh.",
    ],
)


# ---------------------------------------------------- 1b. the backward pass of one RNN step
def rnn_step_backward_reference(
    dh_next: Tensor, x: Tensor, h: Tensor, W_ih: Tensor, W_hh: Tensor, h_next: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Gradients of one tanh RNN step h_next = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    dh_next (N, H) is dL/dh_next. Returns (dx (N, I), dh (N, H), dW_ih (H, I), dW_hh (H, H),
    db (H,)); db is the gradient of b_ih and equally of b_hh. tanh'(a) = 1 - tanh(a)^2 is
    computed from the saved output h_next.
    """
    da = dh_next * (1 - h_next**2)  # (N, H): back through tanh
    return da @ W_ih, da @ W_hh, da.T @ x, da.T @ h, da.sum(0)


def _rnn_backward_cases() -> list[Case]:
    cases = []
    for k, (n, i, hdim) in enumerate([(2, 3, 4), (1, 2, 2), (5, 4, 3)]):
        g = _gen(30 + k)
        x, h = _randn(g, n, i, dtype=torch.float64), _randn(g, n, hdim, dtype=torch.float64)
        W_ih = _randn(g, hdim, i, scale=0.7, dtype=torch.float64)
        W_hh = _randn(g, hdim, hdim, scale=0.7, dtype=torch.float64)
        b = _randn(g, hdim, scale=0.5, dtype=torch.float64)
        h_next = torch.tanh(x @ W_ih.T + h @ W_hh.T + b)
        dh_next = _randn(g, n, hdim, dtype=torch.float64)
        label = f"batch {n}, input {i}, hidden {hdim}"
        cases.append(Case((dh_next, x, h, W_ih, W_hh, h_next), label=label))
    return cases


def _rnn_backward_diagnose(case: Case | None, expected: object, received: object) -> str | None:
    if case is None or not isinstance(received, tuple | list) or len(received) != 5:
        return None
    dh_next, x, h, W_ih, W_hh, h_next = case.args
    names = ["dx", "dh", "dW_ih", "dW_hh", "db"]
    wrong = {
        "no tanh'": (dh_next @ W_ih, dh_next @ W_hh, dh_next.T @ x, dh_next.T @ h, dh_next.sum(0)),
        "tanh' of the output": None,
    }
    da_bad = dh_next * (1 - torch.tanh(h_next) ** 2)  # tanh' applied to h_next instead of the pre-activation
    wrong["tanh' of the output"] = (da_bad @ W_ih, da_bad @ W_hh, da_bad.T @ x, da_bad.T @ h, da_bad.sum(0))
    if _matches(tuple(received), wrong["no tanh'"], tol=1e-8):
        return "You skipped the tanh: multiply dh_next by tanh'(a) = 1 - h_next**2 first (da = dh_next * (1 - h_next**2))."
    if _matches(tuple(received), wrong["tanh' of the output"], tol=1e-8):
        return "tanh'(a) = 1 - tanh(a)**2 = 1 - h_next**2: h_next already is tanh(a), do not apply tanh to it again."
    for name, exp, rec in zip(names, expected, received, strict=True):
        if isinstance(rec, Tensor) and isinstance(exp, Tensor) and rec.shape != exp.shape:
            if rec.shape == exp.T.shape:
                return f"{name} is transposed: it must have the shape of what it is the gradient of, {tuple(exp.shape)}."
            if name == "db" and rec.dim() == 2:
                return "db must be summed over the batch: da.sum(0), shape (H,)."
        elif isinstance(rec, Tensor) and isinstance(exp, Tensor) and not _matches(rec, exp, tol=1e-8):
            if name in ("dW_ih", "dW_hh", "db") and _matches(rec * dh_next.shape[0], exp, tol=1e-8):
                return f"{name} is averaged over the batch; the loss already sums over it: sum, do not average."
            return f"{name} is wrong (the others are checked in the order dx, dh, dW_ih, dW_hh, db)."
    return None


rnn_step_backward = Exercise(
    "rnn_step_backward",
    title="The backward pass of one RNN step",
    reference=rnn_step_backward_reference,
    cases=_rnn_backward_cases,
    diagnose=_rnn_backward_diagnose,
    rtol=1e-7,
    atol=1e-9,
    hints=[
        "Name the pre-activation a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, so h_next = tanh(a). "
        "First go back through tanh: da = dh_next * (1 - h_next**2), shape (N, H).",
        "a is linear in everything else: dx = da @ W_ih, dh = da @ W_hh, dW_ih = da.T @ x, "
        "dW_hh = da.T @ h, db = da.sum(0) (the same for both biases).",
    ],
)


# ----------------------------------------------------------------- 2. one LSTM step
def lstm_step_reference(
    x: Tensor, h: Tensor, c: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor]:
    """One LSTM step in torch's gate order [i, f, g, o]; returns (h', c'), each (N, H)."""
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (N, 4H)
    i, f, g, o = gates.chunk(4, dim=1)  # each (N, H)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_next = f * c + i * g
    h_next = o * torch.tanh(c_next)
    return h_next, c_next


def _lstm_cases() -> list[Case]:
    cases = []
    for k, (n, i, h) in enumerate([(2, 3, 4), (1, 2, 3), (3, 4, 1), (2, 1, 5)]):
        g = _gen(20 + k)
        args = (
            _randn(g, n, i),
            _randn(g, n, h),
            _randn(g, n, h),
            _randn(g, 4 * h, i),
            _randn(g, 4 * h, h),
            _randn(g, 4 * h, scale=0.5),
            _randn(g, 4 * h, scale=0.5),
        )
        cases.append(Case(args, label="batch of one" if n == 1 else ""))
    return cases


_GATES = ("i", "f", "g", "o")


def _lstm_variant(args: tuple, order=_GATES, acts=None, use_c_in_gates=False, tanh_on_c=True):
    x, h, c, W_ih, W_hh, b_ih, b_hh = args
    hh = c if use_c_in_gates else h
    chunks = (x @ W_ih.T + b_ih + hh @ W_hh.T + b_hh).chunk(4, dim=1)
    named = dict(zip(order, chunks, strict=True))
    acts = acts or {"i": torch.sigmoid, "f": torch.sigmoid, "g": torch.tanh, "o": torch.sigmoid}
    i, f, g, o = (acts[k](named[k]) for k in _GATES)
    c_next = f * c + i * g
    h_next = o * (torch.tanh(c_next) if tanh_on_c else c_next)
    return h_next, c_next


def _lstm_diagnose(case: Case | None, expected: object, received: object) -> str | None:
    if case is None or not isinstance(received, tuple | list) or len(received) != 2:
        return None
    args = case.args
    ref = _lstm_variant(args)
    if _matches((ref[1], ref[0]), received):
        return "h and c are mixed up: return (h_next, c_next) in this order, as nn.LSTMCell does."
    if _matches(_lstm_variant(args, use_c_in_gates=True), received):
        return (
            "h and c are mixed up: the gates read the hidden state h (h @ W_hh.T), not the cell c."
        )
    if _matches(_lstm_variant(args, tanh_on_c=False), received):
        return "h' = o * tanh(c'): the cell is squashed by tanh before the output gate."
    for perm in itertools.permutations(_GATES):
        if perm == _GATES:
            continue
        for swap in (False, True):
            got = _lstm_variant(args, order=perm)
            if swap:
                got = (got[1], got[0])
            if _matches(got, received):
                return (
                    f"The gate order is swapped: you read the rows as [{', '.join(perm)}], "
                    "but torch stacks them as [i, f, g, o] (input, forget, cell candidate, output)."
                )
    sig, tanh = torch.sigmoid, torch.tanh
    base = {"i": sig, "f": sig, "g": tanh, "o": sig}
    for gate in _GATES:
        acts = dict(base)
        acts[gate] = tanh if base[gate] is sig else sig
        if _matches(_lstm_variant(args, acts=acts), received):
            if gate == "g":
                return "The cell candidate g uses tanh (values in (-1, 1)), not sigmoid."
            return f"tanh where sigmoid belongs: the {gate} gate is a sigmoid (a 0..1 valve)."
    return None


lstm_step = Exercise(
    "lstm_step",
    title="One LSTM step in torch's gate order",
    reference=lstm_step_reference,
    cases=_lstm_cases,
    diagnose=_lstm_diagnose,
    hints=[
        "Compute all four gates at once: gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh has shape "
        "(N, 4H); split it with gates.chunk(4, dim=1).",
        "Torch's order is i, f, g, o. Three are sigmoids (i, f, o); the candidate g is a tanh.",
        "c' = f * c + i * g and h' = o * tanh(c'); return (h', c').",
    ],
)


# ------------------------------------------------------------ 3. LSTM parameter count
def lstm_params_reference(
    input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False
) -> int:
    """Number of parameters of nn.LSTM(input_size, hidden_size, num_layers, bidirectional=...)."""
    dirs = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        inp = input_size if layer == 0 else dirs * hidden_size  # upper layers read both directions
        total += dirs * (4 * hidden_size * (inp + hidden_size) + 2 * 4 * hidden_size)
    return total


def _params_cases() -> list[Case]:
    return [
        Case((10, 20), label="one layer"),
        Case((1, 1), label="tiny"),
        Case((64, 128, 2), label="two layers"),
        Case((3, 5, 1, True), label="bidirectional"),
        Case((16, 8, 3, True), label="three bidirectional layers"),
    ]


def _params_diagnose(case: Case | None, expected: object, received: object) -> str | None:
    if case is None or not isinstance(received, int | float) or isinstance(received, bool):
        return None
    i, h, *rest = case.args
    layers = rest[0] if rest else 1
    bi = rest[1] if len(rest) > 1 else False
    dirs = 2 if bi else 1

    def count(
        gates: int = 4, biases: int = 2, upper_input_dirs: int = dirs, directions: int = dirs
    ) -> int:
        total = 0
        for layer in range(layers):
            inp = i if layer == 0 else upper_input_dirs * h
            total += directions * (gates * h * (inp + h) + biases * gates * h)
        return total

    variants = [
        (
            count(biases=1),
            "torch keeps two bias vectors per gate block (b_ih and b_hh), 8H biases per layer and direction.",
        ),
        (count(biases=0), "the biases are missing: 2 x 4H per layer and direction."),
        (count(gates=1), "an LSTM has four gate blocks (i, f, g, o), so every matrix has 4H rows."),
        (count(gates=3), "an LSTM has four gate blocks (i, f, g, o); three is the GRU."),
        (
            count(upper_input_dirs=1),
            "above the first layer, the input is the concatenation of both directions: 2H features.",
        ),
        (
            count(directions=1),
            "a bidirectional LSTM has a second set of weights per layer for the backward direction.",
        ),
        (
            lstm_num_params(i, h, 1, bi),
            "count every layer: layers above the first read the hidden states below.",
        ),
    ]
    for value, msg in variants:
        if value != expected and int(received) == value:
            return f"Close: {msg}"
    return None


lstm_params = Exercise(
    "lstm_params",
    title="Counting LSTM parameters",
    reference=lstm_params_reference,
    cases=_params_cases,
    diagnose=_params_diagnose,
    hints=[
        "Per layer and direction: weight_ih (4H, I_layer), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,).",
        "I_layer is input_size for the first layer and num_directions * H for the layers above.",
    ],
)


# ------------------------------------------------- 4. gradient norm after k steps
def grad_norm_after_k_reference(lambdas: Tensor, g: Tensor, k: int) -> float:
    """||dL/dh_{T-k}|| for the linear RNN h_t = diag(lambdas) h_{t-1}, given dL/dh_T = g."""
    return float((lambdas**k * g).norm())


def _norm_cases() -> list[Case]:
    return [
        Case(
            (torch.tensor([0.5, 0.9, 1.1]), torch.tensor([1.0, 1.0, 1.0]), 3), label="mixed radii"
        ),
        Case(
            (torch.tensor([0.9, -0.8]), torch.tensor([2.0, -1.0]), 5), label="negative eigenvalue"
        ),
        Case(
            (torch.tensor([1.2, 0.3, 0.7, 1.0]), torch.tensor([0.1, 3.0, -2.0, 0.5]), 10),
            label="ten steps",
        ),
        Case((torch.tensor([0.5]), torch.tensor([4.0]), 0), label="k = 0"),
    ]


def _norm_diagnose(case: Case | None, expected: object, received: object) -> str | None:
    if case is None:
        return None
    try:
        r = float(received)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    lam, g, k = case.args
    close = lambda v: abs(r - float(v)) <= 1e-5 * max(1.0, abs(float(v)))  # noqa: E731
    if k > 0 and close((lam ** (k - 1) * g).norm()):
        return "Off by one: going back k steps multiplies by W^T exactly k times (lambda**k)."
    if close((lam ** (k + 1) * g).norm()):
        return "Off by one: going back k steps multiplies by W^T exactly k times (lambda**k)."
    if close(lam.abs().max() ** k * g.norm()):
        return "That is the upper bound rho**k * ||g||; each coordinate of g shrinks or grows with its own lambda_i**k."
    if close((lam**k * g).sum()) or close((lam**k * g).abs().sum()):
        return "Return the Euclidean norm (square root of the sum of squares), e.g. with .norm()."
    if close(lam.prod() ** k * g.norm()) or close((lam * k * g).norm()):
        return "dL/dh_{T-k} = (W^T)^k g; for a diagonal W that is lambda_i**k * g_i for each coordinate."
    return None


grad_norm_after_k = Exercise(
    "grad_norm_after_k",
    title="Gradient norm after k steps for a diagonal W_h",
    reference=grad_norm_after_k_reference,
    cases=_norm_cases,
    diagnose=_norm_diagnose,
    hints=[
        "For a linear RNN, dL/dh_{t-1} = W^T dL/dh_t. Going back k steps applies W^T k times.",
        "A diagonal W acts coordinate by coordinate: the i-th entry becomes lambda_i**k * g_i. "
        "Return the norm of that vector as a float.",
    ],
)


# ---------------------------------------------- 5. which output classifies a clip
def clip_features_reference(output: Tensor, h_n: Tensor) -> Tensor:
    """Clip summary of a bidirectional, batch_first GRU: output (N, T, 2H), h_n (2L, N, H) -> (N, 2H).

    The last layer's forward state after the last frame and its backward state after the
    first frame (each has read the whole clip).
    """
    return torch.cat([h_n[-2], h_n[-1]], dim=1)  # (N, 2H)


def _clip_cases() -> list[Case]:
    cases = []
    for k, (n, t, i, h, layers) in enumerate(
        [(2, 5, 3, 4, 2), (1, 1, 2, 3, 1), (3, 4, 2, 2, 3), (2, 6, 4, 3, 1)]
    ):
        torch.manual_seed(30 + k)
        net = nn.GRU(i, h, num_layers=layers, bidirectional=True, batch_first=True)
        with torch.no_grad():
            output, h_n = net(torch.randn(n, t, i))
        label = f"{layers} layer{'s' if layers > 1 else ''}, {t} frame{'s' if t > 1 else ''}"
        cases.append(Case((output, h_n), label=label))
    return cases


def _clip_diagnose(case: Case | None, expected: object, received: object) -> str | None:
    if case is None or not isinstance(received, Tensor):
        return None
    output, h_n = case.args
    H = h_n.shape[-1]
    if _matches(output[:, -1], received):
        return (
            "output[:, -1] is half right: its forward half has read the whole clip, but its backward "
            "half has seen only the last frame. The backward summary is at output[:, 0, H:] (= h_n[-1])."
        )
    if _matches(output[:, 0], received):
        return "output[:, 0]: its forward half has seen only the first frame."
    if _matches(output.mean(1), received):
        return "Averaging the outputs over time works, but the exercise asks for the final states of the last layer."
    if h_n.shape[0] > 2 and _matches(torch.cat([h_n[0], h_n[1]], dim=1), received):
        return "h_n[0] and h_n[1] belong to the first layer; the last layer's states are h_n[-2] and h_n[-1]."
    if received.shape == (output.shape[0], H):
        return "That is one direction only: concatenate the forward (h_n[-2]) and backward (h_n[-1]) states."
    if _matches(torch.cat([h_n[-1], h_n[-2]], dim=1), received):
        return (
            "Put the forward state first, as in output's last dimension: cat([h_n[-2], h_n[-1]])."
        )
    return None


clip_features = Exercise(
    "clip_features",
    title="Picking the output to classify a clip",
    reference=clip_features_reference,
    cases=_clip_cases,
    diagnose=_clip_diagnose,
    hints=[
        "h_n is (num_layers * 2, N, H), ordered layer by layer, forward then backward. The last layer's "
        "two entries are h_n[-2] (forward) and h_n[-1] (backward).",
        "The forward direction has read the whole clip at its last step; the backward direction at its "
        "last step, which is frame 0. Concatenate the two: shape (N, 2H).",
    ],
)
