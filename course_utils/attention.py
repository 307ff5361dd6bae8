"""Attention from first principles, and the video transformers built on it (notebook 03).

Everything here is named like its PyTorch twin and checked against it in the tests:

* :func:`scaled_dot_product_attention` mirrors ``torch.nn.functional.scaled_dot_product_attention``
  (same arguments, same defaults, same mask conventions, same broadcasting), and can also
  return the attention weights.
* :class:`MultiHeadAttention` mirrors ``torch.nn.MultiheadAttention`` and can load its
  weights (:meth:`MultiHeadAttention.load_torch_weights`), after which both give the same
  outputs and the same (head-averaged) weights.
* Positional information: :func:`sinusoidal_positional_encoding`,
  :class:`LearnedPositionalEmbedding`.
* Tokens from pixels: :class:`PatchEmbedding` (frames) and :class:`TubeletEmbedding` (clips,
  a ``Conv3d`` whose stride equals its kernel).
* Video attention: :class:`JointSpaceTimeAttention`, :class:`DividedSpaceTimeAttention`
  (time then space, as in TimeSformer), :class:`SpaceOnlyAttention`, the
  :class:`VideoTransformerBlock` and a tiny :class:`VideoTransformer` classifier, plus
  :func:`attention_cost`, a calculator of FLOPs and attention-matrix memory.

Two mask conventions coexist in PyTorch and therefore here (notebook 03, section 4):

* ``scaled_dot_product_attention``: a **boolean** mask says which keys a query may attend
  to (``True`` = take part); a **float** mask is *added* to the scores (``-inf`` = blocked).
* ``nn.MultiheadAttention`` (and :class:`MultiHeadAttention`): a boolean ``attn_mask`` or
  ``key_padding_mask`` says which keys are **blocked** (``True`` = masked out), the opposite.

A query whose keys are all masked out has no distribution to take a weighted mean with.
Like PyTorch's ``scaled_dot_product_attention`` (since 2.5), we return **zeros** for that
row (weights and output). ``nn.MultiheadAttention`` returns NaN there; our
:class:`MultiHeadAttention` returns the zero attention output (so the result is the output
projection's bias), a documented and tested difference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.validate import check_batch, check_elements, check_int, check_number, check_tensor

__all__ = [
    "DividedSpaceTimeAttention",
    "JointSpaceTimeAttention",
    "LearnedPositionalEmbedding",
    "MultiHeadAttention",
    "PatchEmbedding",
    "SpaceOnlyAttention",
    "TubeletEmbedding",
    "VideoTransformer",
    "VideoTransformerBlock",
    "attention_cost",
    "causal_mask",
    "joint_attention",
    "merge_heads",
    "plot_attention_over_frames",
    "plot_softmax_temperature",
    "safe_softmax",
    "scaled_dot_product_attention",
    "sinusoidal_positional_encoding",
    "space_attention",
    "split_heads",
    "time_attention",
]


# --------------------------------------------------------------------------- primitives
def safe_softmax(scores: Tensor, dim: int = -1) -> Tensor:
    """Softmax that returns zeros (not NaN) on slices that are entirely ``-inf``.

    A row of scores that is all ``-inf`` is a query with every key masked out; the plain
    softmax computes ``0 / 0 = NaN`` there. This is PyTorch's own choice in
    ``scaled_dot_product_attention`` (notebook 03, section 4).
    """
    check_tensor("scores", scores, floating=True)
    check_int("dim", dim)
    out = torch.softmax(scores, dim=dim)
    fully_masked = torch.isneginf(scores).all(dim=dim, keepdim=True)
    return out.masked_fill(fully_masked, 0.0)


def causal_mask(query_len: int, key_len: int | None = None, device=None) -> Tensor:
    """Boolean causal mask of shape (L, S): ``True`` where query ``i`` may see key ``j <= i``.

    Aligned to the top-left corner like PyTorch's ``is_causal=True``: entry ``(i, j)`` is
    ``j <= i`` even when ``L != S`` (notebook 03, section 4).
    """
    key_len = query_len if key_len is None else key_len
    for name, value in (("query_len", query_len), ("key_len", key_len)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    check_elements("causal_mask(query_len, key_len)", query_len, key_len)
    return torch.ones(query_len, key_len, dtype=torch.bool, device=device).tril()


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    *,
    return_weights: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Attention as a soft dictionary lookup: ``softmax(Q K^T * scale + mask) V``.

    Same semantics as ``torch.nn.functional.scaled_dot_product_attention`` (notebook 03,
    section 2):

    * ``query`` (..., L, E), ``key`` (..., S, E), ``value`` (..., S, Ev); the leading
      (batch, head) dimensions broadcast against each other. Returns (..., L, Ev).
    * ``attn_mask`` broadcastable to (..., L, S): boolean (``True`` = the key takes part)
      or float (added to the scores; use ``-inf`` to block).
    * ``is_causal=True`` applies :func:`causal_mask` (top-left aligned); it cannot be
      combined with ``attn_mask`` (PyTorch raises too).
    * ``scale`` defaults to ``1 / sqrt(E)``.
    * ``dropout_p`` drops attention weights (always, like PyTorch: pass 0.0 at eval time).
    * Queries whose keys are all masked get zero weights and a zero output (see
      :func:`safe_softmax`).

    With ``return_weights=True`` returns ``(output, weights)``, weights (..., L, S) after
    dropout (the ones actually used).
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(name, t, floating=True)
    if scale is not None:
        check_number("scale", scale)
    check_number("dropout_p", dropout_p, minimum=0.0, maximum=1.0)
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise ValueError(
            "query, key and value need at least 2 dimensions (..., L, E), got shapes "
            f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
        )
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"query (..., L, E) and key (..., S, E) must share E, got {query.shape[-1]} and {key.shape[-1]}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"key (..., S, E) and value (..., S, Ev) must share S, got {key.shape[-2]} and {value.shape[-2]}"
        )
    try:
        torch.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"the leading (batch, head) dimensions of query, key and value must broadcast, got shapes "
            f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
        ) from None
    if is_causal and attn_mask is not None:
        raise ValueError("give either attn_mask or is_causal=True, not both (PyTorch raises too)")
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale

    scores = query @ key.transpose(-2, -1) * scale  # (..., L, S)
    if is_causal:
        attn_mask = causal_mask(L, S, device=query.device)
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        elif attn_mask.is_floating_point():
            scores = scores + attn_mask
        else:
            raise TypeError(
                f"attn_mask must be a bool or float tensor, got dtype {attn_mask.dtype}"
            )
    weights = safe_softmax(scores, dim=-1)  # (..., L, S), each row sums to 1 (or is all 0)
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p, training=True)
    out = weights @ value  # (..., L, Ev)
    return (out, weights) if return_weights else out


def split_heads(x: Tensor, num_heads: int) -> Tensor:
    """(N, L, E) -> (N, h, L, E / h): each head gets its own slice of the features.

    Reshape to (N, L, h, d) *then* swap the L and h axes; reshaping straight to
    (N, h, L, d) would mix tokens and features (notebook 03, section 5).
    """
    check_tensor("x", x, ndim=3, shape="(N, L, E)")
    check_int("num_heads", num_heads, minimum=1)
    N, L, E = x.shape
    if E % num_heads:
        raise ValueError(f"embed dim {E} must be divisible by num_heads={num_heads}")
    return x.reshape(N, L, num_heads, E // num_heads).transpose(1, 2)


def merge_heads(x: Tensor) -> Tensor:
    """(N, h, L, d) -> (N, L, h * d), the inverse of :func:`split_heads`."""
    check_tensor("x", x, ndim=4, shape="(N, h, L, d)")
    N, h, L, d = x.shape
    return x.transpose(1, 2).reshape(N, L, h * d)


# ----------------------------------------------------------------------- multi-head
class MultiHeadAttention(nn.Module):
    """Multi-head attention written out, a twin of ``torch.nn.MultiheadAttention``.

    Notebook 03, section 5. Same constructor arguments (``embed_dim``, ``num_heads``,
    ``dropout``, ``bias``, ``batch_first``) and forward arguments (``key_padding_mask``,
    ``need_weights``, ``attn_mask``, ``average_attn_weights``, ``is_causal``) with the same
    conventions: boolean masks mark **blocked** positions (``True`` = masked out), float
    masks are added; ``attn_mask`` is (L, S) or (N * num_heads, L, S); ``key_padding_mask``
    is (N, S). Inputs are (L, N, E), or (N, L, E) with ``batch_first=True``, or unbatched
    (L, E).

    Differences: fully masked query rows give zero attention output (torch gives NaN);
    ``is_causal=True`` without ``attn_mask`` builds the causal mask itself.

    Parameters: four ``E x E`` projections (query, key, value, output) and their biases,
    ``4 E^2 + 4 E`` in all, whatever the number of heads.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = False,
    ):
        super().__init__()
        check_int("embed_dim", embed_dim, minimum=1)
        check_int("num_heads", num_heads, minimum=1)
        check_number("dropout", dropout, minimum=0.0, maximum=1.0)
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout, self.batch_first = dropout, batch_first
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    @torch.no_grad()
    def load_torch_weights(self, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of an ``nn.MultiheadAttention`` (packed ``in_proj``) into this module."""
        if mha.embed_dim != self.embed_dim or mha.num_heads != self.num_heads:
            raise ValueError(
                f"shape mismatch: torch module has embed_dim={mha.embed_dim}, num_heads={mha.num_heads}; "
                f"this one embed_dim={self.embed_dim}, num_heads={self.num_heads}"
            )
        if not mha._qkv_same_embed_dim:
            raise ValueError(
                "only nn.MultiheadAttention with kdim == vdim == embed_dim is supported"
            )
        wq, wk, wv = mha.in_proj_weight.chunk(3, dim=0)  # each (E, E)
        for proj, w in ((self.q_proj, wq), (self.k_proj, wk), (self.v_proj, wv)):
            proj.weight.copy_(w)
        self.out_proj.weight.copy_(mha.out_proj.weight)
        if mha.in_proj_bias is not None and self.q_proj.bias is not None:
            bq, bk, bv = mha.in_proj_bias.chunk(3)
            for proj, b in ((self.q_proj, bq), (self.k_proj, bk), (self.v_proj, bv)):
                proj.bias.copy_(b)
            self.out_proj.bias.copy_(mha.out_proj.bias)
        return self

    @classmethod
    def from_torch(cls, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """A :class:`MultiHeadAttention` with the same configuration and weights as ``mha``."""
        new = cls(
            mha.embed_dim,
            mha.num_heads,
            dropout=mha.dropout,
            bias=mha.in_proj_bias is not None,
            batch_first=mha.batch_first,
        )
        return new.load_torch_weights(mha)

    def _sdpa_mask(
        self, N: int, L: int, S: int, attn_mask, key_padding_mask, is_causal, dtype, device
    ):
        """Merge nn.MultiheadAttention-style masks into one additive (N, h, L, S) float mask."""
        mask = None

        def additive(m: Tensor) -> Tensor:
            if m.dtype == torch.bool:  # True = blocked
                return torch.zeros(m.shape, dtype=dtype, device=device).masked_fill(
                    m, float("-inf")
                )
            return m.to(dtype)

        if attn_mask is None and is_causal:
            attn_mask = ~causal_mask(L, S, device=device)
        if attn_mask is not None:
            if attn_mask.dim() == 2:
                if attn_mask.shape != (L, S):
                    raise ValueError(
                        f"attn_mask must be (L, S) = ({L}, {S}), got {tuple(attn_mask.shape)}"
                    )
                mask = additive(attn_mask)  # (L, S) broadcasts over (N, h)
            elif attn_mask.dim() == 3:
                if attn_mask.shape != (N * self.num_heads, L, S):
                    raise ValueError(
                        f"a 3-D attn_mask must be (N * num_heads, L, S) = ({N * self.num_heads}, {L}, {S}), "
                        f"got {tuple(attn_mask.shape)}"
                    )
                mask = additive(attn_mask).view(N, self.num_heads, L, S)
            else:
                raise ValueError(
                    f"attn_mask must be 2-D or 3-D, got shape {tuple(attn_mask.shape)}"
                )
        if key_padding_mask is not None:
            if key_padding_mask.shape != (N, S):
                raise ValueError(
                    f"key_padding_mask must be (N, S) = ({N}, {S}), got {tuple(key_padding_mask.shape)}"
                )
            kpm = additive(key_padding_mask).view(N, 1, 1, S)
            mask = kpm if mask is None else mask + kpm
        return mask

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Returns ``(output, weights)``: output like ``query``; weights (N, L, S) averaged over
        heads, or (N, h, L, S) with ``average_attn_weights=False``, or None if not needed.
        query, key and value must agree on the batch size: a batch of 1 is not broadcast."""
        for name, t in (("query", query), ("key", key), ("value", value)):
            check_tensor(name, t, ndim=(2, 3), shape="(L, N, E), (N, L, E) or (L, E)", floating=True)
        if not query.dim() == key.dim() == value.dim():
            raise ValueError(
                f"query, key and value must all be batched or all unbatched, got shapes "
                f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
            )
        bdim = 0 if self.batch_first else 1
        if query.dim() == 3:
            check_batch("key", key, query, "query", dim=bdim)
            check_batch("value", value, query, "query", dim=bdim)
        unbatched = query.dim() == 2
        if unbatched:  # (L, E) -> (1, L, E)
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        N, L, E = query.shape
        S = key.shape[1]
        if E != self.embed_dim:
            raise ValueError(
                f"expected embed dim {self.embed_dim}, got input of shape {tuple(query.shape)}"
            )

        q = split_heads(self.q_proj(query), self.num_heads)  # (N, h, L, d)
        k = split_heads(self.k_proj(key), self.num_heads)  # (N, h, S, d)
        v = split_heads(self.v_proj(value), self.num_heads)  # (N, h, S, d)
        mask = self._sdpa_mask(N, L, S, attn_mask, key_padding_mask, is_causal, q.dtype, q.device)
        p = self.dropout if self.training else 0.0
        out, weights = scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=p, return_weights=True
        )
        out = self.out_proj(merge_heads(out))  # (N, L, E)

        if unbatched:
            out, weights = out.squeeze(0), weights.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)  # back to (L, N, E)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(dim=-3)  # average over heads
        return out, weights


# ------------------------------------------------------------------ positional information
def sinusoidal_positional_encoding(num_positions: int, dim: int, base: float = 10000.0) -> Tensor:
    """The fixed encoding of "Attention Is All You Need", shape (num_positions, dim).

    ``PE[pos, 2i] = sin(pos / base^(2i/dim))`` and ``PE[pos, 2i+1] = cos(pos / base^(2i/dim))``:
    each pair of features is a clock turning at its own speed (notebook 03, section 6).
    """
    check_int("num_positions", num_positions, minimum=0)
    check_int("dim", dim, minimum=2)
    check_number("base", base, minimum=1.0, inclusive=False)
    check_elements("num_positions * dim", num_positions, dim)
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    pos = torch.arange(num_positions, dtype=torch.float32).unsqueeze(1)  # (P, 1)
    freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)  # (dim/2,)
    pe = torch.zeros(num_positions, dim)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


class LearnedPositionalEmbedding(nn.Module):
    """A learned vector per position, added to the tokens (as in ViT). Notebook 03, section 6.

    ``shape`` is the token grid, e.g. ``(L,)`` for a sequence or ``(T, P)`` for a clip's
    frames x patches; ``forward(x)`` adds it to ``x`` of shape (N, *shape, D).
    """

    def __init__(self, shape: int | Sequence[int], dim: int, std: float = 0.02):
        super().__init__()
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self.weight = nn.Parameter(torch.randn(*shape, dim) * std)

    def forward(self, x: Tensor) -> Tensor:
        if tuple(x.shape[1:]) != tuple(self.weight.shape):
            raise ValueError(
                f"expected tokens (N, {', '.join(map(str, self.weight.shape))}), got {tuple(x.shape)}"
            )
        return x + self.weight


# ------------------------------------------------------------------ tokens from pixels
def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


class PatchEmbedding(nn.Module):
    """Cut frames into ``p x p`` patches and project each to ``embed_dim`` (ViT). Notebook 03, section 8.

    A ``Conv2d`` with ``kernel_size = stride = patch_size`` is exactly "flatten each patch
    and apply one shared linear layer". Accepts frames (N, C, H, W) -> (N, P, D) or clips
    (N, T, C, H, W) -> (N, T, P, D), with ``P = (H / p) * (W / p)``, patches in row-major order.
    """

    def __init__(self, in_channels: int, embed_dim: int, patch_size: int | Sequence[int] = 8):
        super().__init__()
        self.patch_size = _pair(patch_size)
        self.proj = nn.Conv2d(in_channels, embed_dim, self.patch_size, stride=self.patch_size)

    def forward(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=(4, 5), shape="frames (N, C, H, W) or clips (N, T, C, H, W)")
        ph, pw = self.patch_size
        H, W = x.shape[-2:]
        if H % ph or W % pw:
            raise ValueError(
                f"the frame size {H}x{W} is not a multiple of patch_size {ph}x{pw}: "
                f"{H % ph} row(s) and {W % pw} column(s) of pixels would be dropped. "
                "Crop or pad the frames first"
            )
        if x.dim() == 5:
            N, T = x.shape[:2]
            return self.forward(x.flatten(0, 1)).unflatten(0, (N, T))  # (N, T, P, D)
        return self.proj(x).flatten(2).transpose(1, 2)  # (N, D, h, w) -> (N, P, D)


class TubeletEmbedding(nn.Module):
    """Cut clips into ``t x p x p`` tubelets and project each to ``embed_dim`` (ViViT). Notebook 03, section 8.

    A ``Conv3d`` with ``kernel_size = stride = tubelet_size``: each token now sees ``t``
    frames, so it can carry a little motion. Input (N, T, C, H, W) -> (N, T / t, P, D).
    """

    def __init__(self, in_channels: int, embed_dim: int, tubelet_size: Sequence[int] = (2, 8, 8)):
        super().__init__()
        self.tubelet_size = tuple(int(s) for s in tubelet_size)
        if len(self.tubelet_size) != 3:
            raise ValueError(f"tubelet_size must be (t, p, p), got {tubelet_size!r}")
        self.proj = nn.Conv3d(in_channels, embed_dim, self.tubelet_size, stride=self.tubelet_size)

    def forward(self, x: Tensor) -> Tensor:
        check_tensor("x", x, ndim=5, shape="clips (N, T, C, H, W)")
        t, ph, pw = self.tubelet_size
        T, H, W = x.shape[1], x.shape[3], x.shape[4]
        if T % t or H % ph or W % pw:
            raise ValueError(
                f"the clip (T={T}, H={H}, W={W}) is not a multiple of tubelet_size {self.tubelet_size}: "
                f"{T % t} frame(s), {H % ph} row(s) and {W % pw} column(s) would be dropped. "
                "Trim or pad the clip first"
            )
        y = self.proj(x.transpose(1, 2))  # (N, C, T, H, W) -> (N, D, T', h, w)
        return y.flatten(3).permute(0, 2, 3, 1)  # (N, T', P, D)


# ------------------------------------------------------------------ video attention
def _check_video_tokens(x: Tensor, attn: MultiHeadAttention) -> None:
    check_tensor("x", x, ndim=4, shape="(N, T, P, D)", floating=True)
    if not isinstance(attn, MultiHeadAttention | nn.MultiheadAttention):
        raise TypeError(f"attn must be a MultiHeadAttention, got {type(attn).__name__}")
    if not attn.batch_first:
        raise ValueError("attn must be built with batch_first=True (tokens are (N, L, D))")


def joint_attention(x: Tensor, attn: MultiHeadAttention) -> tuple[Tensor, Tensor]:
    """Every token attends to every token of the clip. x (N, T, P, D) -> (N, T, P, D), weights (N, TP, TP)."""
    _check_video_tokens(x, attn)
    N, T, P, D = x.shape
    tokens = x.reshape(N, T * P, D)  # (N, T*P, D)
    out, w = attn(tokens, tokens, tokens)
    return out.reshape(N, T, P, D), w


def time_attention(x: Tensor, attn: MultiHeadAttention) -> tuple[Tensor, Tensor]:
    """Each patch position attends over the T frames at that position.

    x (N, T, P, D) -> (N, T, P, D); weights (N, P, T, T). The N*P sequences of length T run
    as one batch.
    """
    _check_video_tokens(x, attn)
    N, T, P, D = x.shape
    seqs = x.transpose(1, 2).reshape(N * P, T, D)  # (N*P, T, D)
    out, w = attn(seqs, seqs, seqs)
    return out.reshape(N, P, T, D).transpose(1, 2), w.unflatten(0, (N, P))


def space_attention(x: Tensor, attn: MultiHeadAttention) -> tuple[Tensor, Tensor]:
    """Each frame's patches attend to each other. x (N, T, P, D) -> (N, T, P, D); weights (N, T, P, P)."""
    _check_video_tokens(x, attn)
    N, T, P, D = x.shape
    seqs = x.reshape(N * T, P, D)  # (N*T, P, D)
    out, w = attn(seqs, seqs, seqs)
    return out.reshape(N, T, P, D), w.unflatten(0, (N, T))


class JointSpaceTimeAttention(nn.Module):
    """Pre-norm residual attention over all T*P tokens: ``x + MHA(LN(x))``. Notebook 03, section 9.

    forward(x (N, T, P, D)) -> (N, T, P, D), and with ``return_weights=True`` also
    ``{"joint": (N, T*P, T*P)}``. Cost grows as (T P)^2.
    """

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, num_heads, batch_first=True)

    def forward(self, x: Tensor, return_weights: bool = False):
        out, w = joint_attention(self.norm(x), self.attn)
        x = x + out
        return (x, {"joint": w}) if return_weights else x


class DividedSpaceTimeAttention(nn.Module):
    """TimeSformer's divided attention: time first, then space, each pre-norm residual.

    ``y = x + MHA_t(LN_t(x))`` over the T frames at each patch position, then
    ``y + MHA_s(LN_s(y))`` over the P patches of each frame. forward(x (N, T, P, D)) ->
    (N, T, P, D); with ``return_weights=True`` also ``{"time": (N, P, T, T), "space": (N, T, P, P)}``.
    Cost grows as P T^2 + T P^2. Notebook 03, section 9.
    """

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.norm_time = nn.LayerNorm(dim)
        self.time_attn = MultiHeadAttention(dim, num_heads, batch_first=True)
        self.norm_space = nn.LayerNorm(dim)
        self.space_attn = MultiHeadAttention(dim, num_heads, batch_first=True)

    def forward(self, x: Tensor, return_weights: bool = False):
        out_t, w_t = time_attention(self.norm_time(x), self.time_attn)
        x = x + out_t
        out_s, w_s = space_attention(self.norm_space(x), self.space_attn)
        x = x + out_s
        return (x, {"time": w_t, "space": w_s}) if return_weights else x


class SpaceOnlyAttention(nn.Module):
    """Attention within each frame only (no token sees another frame): ``x + MHA(LN(x))`` per frame.

    The image-model baseline; time must then be handled elsewhere (e.g. by pooling).
    Returns (N, T, P, D), and ``{"space": (N, T, P, P)}`` with ``return_weights=True``.
    """

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, num_heads, batch_first=True)

    def forward(self, x: Tensor, return_weights: bool = False):
        out, w = space_attention(self.norm(x), self.attn)
        x = x + out
        return (x, {"space": w}) if return_weights else x


_ATTENTION = {
    "joint": JointSpaceTimeAttention,
    "divided": DividedSpaceTimeAttention,
    "space": SpaceOnlyAttention,
}


class VideoTransformerBlock(nn.Module):
    """One transformer block on a clip's tokens: video attention, then a pre-norm residual MLP.

    ``mode`` is ``"joint"``, ``"divided"`` or ``"space"``. forward(x (N, T, P, D)) ->
    (N, T, P, D), plus the attention weights dict with ``return_weights=True``.
    """

    def __init__(self, dim: int, num_heads: int, mode: str = "joint", mlp_ratio: float = 2.0):
        super().__init__()
        if mode not in _ATTENTION:
            raise ValueError(f"mode must be one of {sorted(_ATTENTION)}, got {mode!r}")
        self.mode = mode
        self.attention = _ATTENTION[mode](dim, num_heads)
        hidden = int(dim * mlp_ratio)
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: Tensor, return_weights: bool = False):
        x, w = self.attention(x, return_weights=True)
        x = x + self.mlp(self.norm(x))
        return (x, w) if return_weights else x


class VideoTransformer(nn.Module):
    """A tiny video transformer classifier (notebook 03, section 10).

    tubelets (:class:`TubeletEmbedding`) -> + positional embedding -> ``depth`` blocks ->
    LayerNorm -> mean over tokens -> linear. Input clips (N, T, C, H, W); output logits
    (N, num_classes). ``positional`` is ``"learned"`` (a vector per (time, patch) slot),
    ``"sinusoidal"`` (fixed; time and space encodings added) or ``"none"``.
    """

    def __init__(
        self,
        num_classes: int = 8,
        *,
        in_channels: int = 1,
        num_frames: int = 16,
        image_size: int = 32,
        tubelet_size: Sequence[int] = (2, 8, 8),
        dim: int = 64,
        depth: int = 2,
        num_heads: int = 4,
        mode: str = "joint",
        mlp_ratio: float = 2.0,
        positional: str = "learned",
    ):
        super().__init__()
        t, ph, pw = (int(s) for s in tubelet_size)
        if num_frames % t or image_size % ph or image_size % pw:
            raise ValueError(
                f"tubelet_size {tuple(tubelet_size)} must divide the clip (T={num_frames}, H=W={image_size})"
            )
        self.grid = (num_frames // t, image_size // ph, image_size // pw)  # (T', h, w)
        self.tubelet_size = (t, ph, pw)
        T_, h, w = self.grid
        self.embed = TubeletEmbedding(in_channels, dim, self.tubelet_size)
        self.positional = positional
        if positional == "learned":
            self.pos = LearnedPositionalEmbedding((T_, h * w), dim)
        elif positional == "sinusoidal":
            pe = (
                sinusoidal_positional_encoding(T_, dim)[:, None]
                + sinusoidal_positional_encoding(h * w, dim)[None]
            )
            self.register_buffer("pe", pe, persistent=False)  # (T', P, D)
        elif positional != "none":
            raise ValueError(
                f"positional must be 'learned', 'sinusoidal' or 'none', got {positional!r}"
            )
        self.blocks = nn.ModuleList(
            VideoTransformerBlock(dim, num_heads, mode, mlp_ratio) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def tokens(self, clips: Tensor) -> Tensor:
        """Clips (N, T, C, H, W) -> tokens with positions (N, T', P, D)."""
        check_tensor("clips", clips, ndim=5, shape="(N, T, C, H, W)")
        t, ph, pw = self.tubelet_size
        want = (self.grid[0] * t, self.grid[1] * ph, self.grid[2] * pw)
        got = (clips.shape[1], clips.shape[3], clips.shape[4])
        if got != want:
            raise ValueError(
                f"this model was built for clips of T={want[0]} frames of {want[1]}x{want[2]} "
                f"(num_frames, image_size), got T={got[0]} frames of {got[1]}x{got[2]}"
            )
        x = self.embed(clips)  # (N, T', P, D)
        if self.positional == "learned":
            x = self.pos(x)
        elif self.positional == "sinusoidal":
            x = x + self.pe
        return x

    def forward(self, clips: Tensor, return_weights: bool = False):
        x = self.tokens(clips)
        weights = []
        for block in self.blocks:
            x, w = block(x, return_weights=True)
            weights.append(w)
        logits = self.head(self.norm(x).mean(dim=(1, 2)))  # (N, num_classes)
        return (logits, weights) if return_weights else logits


# ------------------------------------------------------------------ cost calculator
def attention_cost(
    frames: int,
    height: int,
    width: int,
    *,
    mode: str = "joint",
    dim: int = 64,
    num_heads: int = 1,
    batch: int = 1,
    bytes_per_element: int = 4,
) -> dict[str, int]:
    """FLOPs and attention-matrix memory of one attention layer on a clip (notebook 03, section 9).

    The clip has ``frames`` (T) frames of ``height x width`` patches (P = H W tokens per
    frame). ``mode``:

    * ``"joint"``: one sequence of T P tokens: ``(T P)^2`` scores per head.
    * ``"divided"``: time (P sequences of length T) then space (T sequences of length P):
      ``P T^2 + T P^2`` scores per head.
    * ``"space"``: T sequences of length P: ``T P^2`` scores per head.

    Returns a dict of ints:

    * ``tokens``: T P; ``scores``: attention scores per clip and head;
    * ``attention_flops``: ``4 * scores * dim * batch`` (Q K^T and weights @ V: one multiply
      and one add per score and feature each; the sum over heads of head_dim is dim);
    * ``projection_flops``: the four ``dim x dim`` projections, ``8 * tokens * dim^2`` per
      attention layer (two layers for divided) times ``batch``;
    * ``flops``: their sum (softmax and masks, linear in scores, are left out);
    * ``memory_bytes``: the attention weights the layer materializes (kept for the backward
      pass): ``scores * num_heads * batch * bytes_per_element``.
    """
    for name, v in (
        ("frames", frames),
        ("height", height),
        ("width", width),
        ("dim", dim),
        ("num_heads", num_heads),
        ("batch", batch),
        ("bytes_per_element", bytes_per_element),
    ):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    T, P = frames, height * width
    tokens = T * P
    if mode == "joint":
        scores, layers = tokens**2, 1
    elif mode == "divided":
        scores, layers = P * T**2 + T * P**2, 2
    elif mode == "space":
        scores, layers = T * P**2, 1
    else:
        raise ValueError(f"mode must be 'joint', 'divided' or 'space', got {mode!r}")
    attention_flops = 4 * scores * dim * batch
    projection_flops = 8 * tokens * dim * dim * layers * batch
    return {
        "tokens": tokens,
        "scores": scores,
        "attention_flops": attention_flops,
        "projection_flops": projection_flops,
        "flops": attention_flops + projection_flops,
        "memory_bytes": scores * num_heads * batch * bytes_per_element,
    }


# ------------------------------------------------------------------ figures
def plot_softmax_temperature(scores: Sequence[float] | Tensor, temperature: float = 1.0, ax=None):
    """Bar chart of ``softmax(scores / temperature)`` (notebook 03, section 3). Returns the Figure."""
    import matplotlib.pyplot as plt

    s = torch.as_tensor(scores, dtype=torch.float64)
    p = torch.softmax(s / temperature, dim=0)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 2.6))
    else:
        fig = ax.figure
    ax.bar(range(len(s)), p.numpy(), color="tab:blue")
    ax.set_ylim(0, 1)
    ax.set_xticks(range(len(s)), [f"k{i}\n{v:.1f}" for i, v in enumerate(s.tolist())])
    ax.set_ylabel("weight")
    ax.set_title(f"softmax(scores / {temperature:g}); max weight {p.max().item():.2f}")
    return fig


def plot_attention_over_frames(
    clip: Tensor,
    attention: Tensor,
    *,
    tubelet_size: Sequence[int] = (1, 8, 8),
    query: tuple[int, int] | None = None,
    title: str | None = None,
    frame_step: int = 1,
    panel_size: float = 1.1,
):
    """Overlay attention over a clip's frames (notebook 03, section 11). Returns the Figure.

    ``clip`` (T, C, H, W) in [0, 1]; ``attention`` (T', h, w): one weight per token, where
    each token covers ``tubelet_size = (t, p, p)`` (frames, pixels, pixels). Each shown frame
    gets its tubelet's weights upsampled to pixels as a heat map; ``query = (t', patch)``
    outlines the query token. Colour scale shared across frames. Every ``frame_step``-th
    frame is shown, each ``panel_size`` inches wide.
    """
    import matplotlib.pyplot as plt

    t, ph, pw = (int(s) for s in tubelet_size)
    if attention.dim() != 3 or attention.shape[0] * t != clip.shape[0]:
        raise ValueError(
            f"attention must be (T', h, w) with T' * {t} = {clip.shape[0]} frames, got {tuple(attention.shape)}"
        )
    shown = list(range(0, clip.shape[0], frame_step))
    a = attention.detach().float()
    heat = a.repeat_interleave(t, 0).repeat_interleave(ph, 1).repeat_interleave(pw, 2)  # (T, H, W)
    vmax = float(a.max()) if a.numel() else 1.0
    fig, axes = plt.subplots(
        1, len(shown), figsize=(panel_size * len(shown), panel_size + 0.5), squeeze=False
    )
    for i, ax in zip(shown, axes[0], strict=True):
        frame = clip[i].detach().float()
        frame = frame.mean(0) if frame.shape[0] in (1, 3) else frame
        ax.imshow(frame.numpy(), cmap="gray", vmin=0, vmax=1)
        ax.imshow(heat[i].numpy(), cmap="inferno", alpha=0.6, vmin=0, vmax=vmax)
        if query is not None and i // t == query[0]:
            w = clip.shape[-1] // pw
            r, c = divmod(query[1], w)
            ax.add_patch(
                plt.Rectangle((c * pw - 0.5, r * ph - 0.5), pw, ph, fill=False, ec="cyan", lw=1.5)
            )
        ax.set_title(f"t={i}", fontsize=7)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
