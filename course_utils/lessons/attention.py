"""Exercises of notebook 03 (attention): ``from course_utils.lessons import attention as ex``.

* ``ex.attention``: scaled dot-product attention from scratch, with a boolean mask.
* ``ex.causal_mask``: the mask that hides the future.
* ``ex.split_heads``: (N, L, E) -> (N, h, L, E/h) with reshapes.
* ``ex.mha_params``: the number of parameters of a multi-head attention block.
* ``ex.attention_scores``: attention scores of joint vs divided space-time attention.

Each has ``check(answer)``, ``hint()`` and ``solution()``; the references are the
``*_reference`` functions below.
"""

from __future__ import annotations

import inspect
import math

import torch
import torch.nn.functional as F

from course_utils.exercises import Case, Exercise, Verdict

__all__ = [
    "attention",
    "attention_reference",
    "attention_scores",
    "attention_scores_reference",
    "causal_mask",
    "causal_mask_reference",
    "mha_params",
    "mha_params_reference",
    "split_heads",
    "split_heads_reference",
]


def _same(a, b) -> bool:
    """True when two tensors have the same shape and values (NaN equal to NaN)."""
    return (
        isinstance(a, torch.Tensor)
        and isinstance(b, torch.Tensor)
        and a.shape == b.shape
        and bool(torch.allclose(a.double(), b.double(), rtol=1e-4, atol=1e-5, equal_nan=True))
    )


# ---------------------------------------------------------------- 1. attention from scratch
def attention_reference(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k)) v; mask (bool) is True where a query may look at a key."""
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., L, S)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # blocked keys get -inf
    weights = torch.softmax(scores, dim=-1)  # each query's row sums to 1
    return weights @ v  # (..., L, Ev)


def _attention_variants(q, k, v, mask):
    """Typical wrong answers, to recognize them (name, output)."""

    def run(scale, dim=-1, mask_mode="right"):
        scores = q @ k.transpose(-2, -1) * scale
        if mask is not None and mask_mode == "right":
            scores = scores.masked_fill(~mask, float("-inf"))
        elif mask is not None and mask_mode == "inverted":
            scores = scores.masked_fill(mask, float("-inf"))
        return torch.softmax(scores, dim=dim) @ v

    d_k, d_v = q.shape[-1], v.shape[-1]
    yield "no_scale", run(1.0)
    yield "scale_d", run(1.0 / d_k)
    yield "scale_dv", run(1.0 / math.sqrt(d_v))
    yield "wrong_axis", run(1.0 / math.sqrt(d_k), dim=-2)
    if mask is not None:
        yield "inverted", run(1.0 / math.sqrt(d_k), mask_mode="inverted")
        yield "no_mask", run(1.0 / math.sqrt(d_k), mask_mode="none")


_ATTENTION_REMARKS = {
    "no_scale": "Your output matches attention *without* the 1/sqrt(d_k) scaling: divide the scores q @ k^T by sqrt(d_k) before the softmax.",
    "scale_d": "Your output matches scores divided by d_k; divide by the square root, sqrt(d_k).",
    "scale_dv": "You scaled by 1/sqrt(d_v) (the last dim of v); the scale comes from the dimension of queries and keys, d_k = q.shape[-1].",
    "wrong_axis": "Your softmax runs over the wrong axis: each query's weights (a row, over the keys) must sum to 1, so use softmax(..., dim=-1).",
    "inverted": "Your mask is inverted: True means the query MAY look at that key (torch's scaled_dot_product_attention convention), so fill -inf where the mask is False (~mask).",
    "no_mask": "Your output ignores the mask: set the scores of blocked keys (mask False) to -inf before the softmax.",
}


def _attention_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor):
        return None
    q, k, v = case.args[:3]
    mask = case.kwargs.get("mask")
    for name, out in _attention_variants(q, k, v, mask):
        if _same(out, received) and not _same(out, expected):
            return _ATTENTION_REMARKS[name]
    return None


def _attention_cases():
    g = torch.Generator().manual_seed(3)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    cases = [
        Case((r(1, 3, 4), r(1, 3, 4), r(1, 3, 4)), label="one sequence of 3 tokens"),
        Case((r(2, 4, 8), r(2, 6, 8), r(2, 6, 3)), label="4 queries, 6 keys, values of dim 3"),
        Case((r(2, 3, 5, 16), r(2, 3, 5, 16), r(2, 3, 5, 16)), label="batch 2, 3 heads"),
        Case((r(1, 1, 4), r(1, 1, 4), r(1, 1, 2)), label="a single key"),
    ]
    # masks with at least one allowed key per query (fully masked rows are section 4's topic)
    mask = torch.rand(2, 5, 6, generator=g) < 0.6
    mask[..., 0] = True
    cases.append(
        Case(
            (r(2, 5, 4), r(2, 6, 4), r(2, 6, 4)),
            dict(mask=mask),
            label="a padding-style boolean mask",
        )
    )
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    cases.append(
        Case(
            (r(3, 5, 8), r(3, 5, 8), r(3, 5, 8)),
            dict(mask=causal),
            label="a causal mask (5, 5) broadcast over the batch",
        )
    )
    return cases


class FromScratchExercise(Exercise):
    """An exercise whose answer must not call the library function it re-implements.

    The learner's function is run with ``F.<forbidden>`` replaced by a spy (the real function
    still runs, so the verdict is otherwise unchanged); its source is also searched for the
    name, which catches ``from torch.nn.functional import ... as sdpa``. A correct answer that
    used the library gets "Incorrect" with an explanation.
    """

    def __init__(self, *args, forbidden: str = "scaled_dot_product_attention", **kwargs):
        super().__init__(*args, **kwargs)
        self.forbidden = forbidden

    def evaluate(self, answer):
        original = getattr(F, self.forbidden)
        calls = []

        def spy(*args, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)

        setattr(F, self.forbidden, spy)
        try:
            verdict = super().evaluate(answer)
        finally:
            setattr(F, self.forbidden, original)
        try:
            in_source = self.forbidden in inspect.getsource(answer)
        except Exception:  # no source, a builtin, a __wrapped__ loop: the spy above still counts calls
            in_source = False
        if verdict.correct and (calls or in_source):
            return Verdict(
                "incorrect",
                f"Your function calls {self.forbidden} (torch's fused version). The point of this "
                "exercise is to write it yourself: scores q @ k^T / sqrt(d_k), the mask, a softmax "
                "over the keys and the weighted sum of the values. (Your numbers are right, so the "
                "library call is a good check afterwards.)",
                self.title,
            )
        return verdict


attention = FromScratchExercise(
    "attention",
    title="Scaled dot-product attention from scratch",
    reference=attention_reference,
    cases=_attention_cases,
    diagnose=_attention_diagnose,
    hints=[
        "Scores first: q @ k.transpose(-2, -1) has shape (..., L, S), one score per (query, key) pair. Divide by math.sqrt(q.shape[-1]).",
        "Blocked keys: scores.masked_fill(~mask, float('-inf')) so the softmax gives them weight 0. Then torch.softmax(scores, dim=-1) (each row sums to 1) and multiply by v.",
    ],
    atol=1e-5,
)


# ---------------------------------------------------------------- 2. causal mask
def causal_mask_reference(L):
    """Boolean (L, L): True where query i may attend to key j, i.e. j <= i (itself and the past)."""
    return torch.ones(L, L, dtype=torch.bool).tril()


def _causal_diagnose(case, expected, received):
    if not isinstance(received, torch.Tensor) or received.shape != expected.shape:
        return None
    L = expected.shape[0]
    if received.is_floating_point():
        zeros_and_ones = torch.equal(received, expected.to(received.dtype))
        return (
            "Your mask is a float tensor"
            + (" of 1.0 and 0.0" if zeros_and_ones else "")
            + ". Float masks are *added* to the scores (0 keeps a key, -inf hides it), so a float "
            "mask of ones and zeros hides nothing; return a boolean mask (True = may attend), "
            "e.g. torch.ones(L, L, dtype=torch.bool).tril()."
        )
    rec = received.bool()
    if torch.equal(rec, torch.ones(L, L, dtype=torch.bool).tril(-1)):
        return "Your mask hides the diagonal: a token may attend to itself (j <= i), otherwise the first token sees nothing at all."
    if torch.equal(rec, ~expected):
        return "Your mask is inverted: True must mark the keys a query MAY see (itself and the past), as in scaled_dot_product_attention."
    if torch.equal(rec, torch.ones(L, L, dtype=torch.bool).triu()):
        return "Your mask lets each query see the future (upper triangle). Rows are queries, columns are keys: keep j <= i (lower triangle, torch.tril)."
    return None


causal_mask = Exercise(
    "causal_mask",
    title="The causal mask",
    reference=causal_mask_reference,
    cases=[Case((4,)), Case((1,), label="a single token"), Case((2,)), Case((7,))],
    diagnose=_causal_diagnose,
    hints=[
        "Row i is query i, column j is key j. Query i may see keys 0..i: a lower triangle, diagonal included.",
        "torch.ones(L, L, dtype=torch.bool).tril()",
    ],
)


# ---------------------------------------------------------------- 3. split heads
def split_heads_reference(x, num_heads):
    """(N, L, E) -> (N, h, L, E // h): head i owns features i*d .. (i+1)*d - 1."""
    N, L, E = x.shape
    d = E // num_heads
    return x.reshape(N, L, num_heads, d).transpose(1, 2)  # (N, L, h, d) -> (N, h, L, d)


def _split_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor):
        return None
    x, h = case.args
    N, L, E = x.shape
    d = E // h
    if received.shape == (N, L, h, d):
        return "You have (N, L, h, d): now swap the token and head axes with .transpose(1, 2)."
    if received.shape != expected.shape:
        return None
    if torch.equal(received, x.reshape(N, h, L, d)):
        return (
            "You reshaped straight to (N, h, L, d): the shape is right but each 'head' now mixes "
            "features of different tokens. Reshape to (N, L, h, d) first, then transpose(1, 2)."
        )
    if torch.equal(received, x.reshape(N, L, d, h).permute(0, 3, 1, 2)):
        return "Your heads take every h-th feature; each head should own a contiguous block of d = E/h features: reshape to (N, L, h, d)."
    return None


def _split_cases():
    g = torch.Generator().manual_seed(5)
    return [
        Case((torch.randn(1, 3, 4, generator=g), 2), label="E=4, 2 heads"),
        Case((torch.randn(2, 5, 12, generator=g), 3)),
        Case((torch.randn(3, 4, 8, generator=g), 1), label="a single head"),
        Case((torch.randn(2, 6, 8, generator=g), 8), label="one feature per head"),
        Case((torch.randn(2, 1, 16, generator=g), 4), label="a single token"),
    ]


split_heads = Exercise(
    "split_heads",
    title="Splitting heads with reshapes",
    reference=split_heads_reference,
    cases=_split_cases,
    diagnose=_split_diagnose,
    hints=[
        "Each token's E features are cut into h consecutive blocks of d = E // h: that is x.reshape(N, L, h, d).",
        "Attention runs per head over the tokens, so the head axis must come before the token axis: .transpose(1, 2).",
    ],
)


# ---------------------------------------------------------------- 4. parameters of MHA
def mha_params_reference(embed_dim, num_heads, bias=True):
    """Parameters of nn.MultiheadAttention(embed_dim, num_heads, bias=bias)."""
    E = embed_dim
    weights = 4 * E * E  # W_q, W_k, W_v and W_o, each (E, E); heads split E, they add nothing
    biases = 4 * E if bias else 0
    return weights + biases


def _params_diagnose(case, expected, received):
    if case is None or isinstance(received, bool) or not isinstance(received, int | float):
        return None
    E, h = case.args
    bias = case.kwargs.get("bias", True)
    b = E if bias else 0
    if received == 3 * E * E + 3 * b:
        return "That counts the query, key and value projections only: add the output projection W_o (E x E, plus its bias)."
    if bias and received == 4 * E * E:
        return "You forgot the biases: each of the four projections has E of them."
    if received == h * (4 * E * E + 4 * b) or received == h * 4 * E * E + 4 * b:
        return "Heads do not multiply the parameters: the h heads split the E features of one E x E projection into h slices of E/h."
    if received == 4 * E * (E // h) + 4 * b or received == 4 * (E // h) ** 2 * h + 4 * b:
        return "Count each projection once as a whole E x E matrix: the per-head slices add up to E x E."
    return None


mha_params = Exercise(
    "mha_params",
    title="Counting the parameters of a multi-head block",
    reference=mha_params_reference,
    cases=[
        Case((8, 2)),
        Case((64, 4)),
        Case((64, 1), label="a single head"),
        Case((64, 16), label="many heads"),
        Case((32, 4), dict(bias=False), label="without biases"),
        Case((512, 8)),
    ],
    diagnose=_params_diagnose,
    hints=[
        "List the learned matrices: W_q, W_k, W_v project the input, W_o mixes the concatenated heads back. What shape is each?",
        "Each is E x E (plus E biases if bias=True), and the number of heads does not change that.",
    ],
)


# ---------------------------------------------------------------- 5. scores, joint vs divided
def attention_scores_reference(T, H, W):
    """Attention scores of one head on a clip of T frames of H x W patches: (joint, divided)."""
    P = H * W  # patches per frame
    joint = (T * P) ** 2  # every token with every token
    divided = P * T**2 + T * P**2  # time: P sequences of length T; space: T sequences of length P
    return joint, divided


def _scores_diagnose(case, expected, received):
    if case is None or not isinstance(received, tuple | list) or len(received) != 2:
        return None
    T, H, W = case.args
    P = H * W
    j, d = received
    if j == T * P:
        return "T*P is the number of tokens; each token has a score with every token, so joint attention has (T*P)**2 scores."
    if d == T**2 + P**2:
        return "Divided attention runs the time attention once per patch position (P times) and the space attention once per frame (T times): P*T**2 + T*P**2."
    if d == T * P**2 or d == P * T**2:
        return "Divided attention has two steps: count both the time step (P*T**2) and the space step (T*P**2)."
    if (j, d) == (expected[1], expected[0]):
        return "You swapped them: return (joint, divided)."
    if j == T * H**2 * W**2 or j == (T * H) ** 2 or j == (T * W) ** 2:
        return "Patches per frame are P = H*W; joint attention has (T*P)**2 scores."
    return None


attention_scores = Exercise(
    "attention_scores",
    title="Joint vs divided attention: how many scores?",
    reference=attention_scores_reference,
    cases=[
        Case((8, 4, 4), label="8 frames of 4x4 patches"),
        Case((1, 4, 4), label="a single frame"),
        Case((16, 2, 3), label="non-square patch grid"),
        Case((32, 14, 14), label="a ViT-B/16-like clip: 32 frames of 14x14 patches"),
    ],
    diagnose=_scores_diagnose,
    hints=[
        "Joint: the clip is one sequence of T*H*W tokens; a sequence of n tokens has n*n scores.",
        "Divided: time attention is H*W sequences of T tokens, space attention is T sequences of H*W tokens.",
    ],
)
