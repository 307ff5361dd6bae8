"""Unit tests of course_utils.attention (notebook 03) against PyTorch's own implementations."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import attention as A

N_RANDOM_CONFIGS = 360


def _random_config(seed: int):
    """A random SDPA call: broadcast batch/head dims, L and S in 1..7, every mask kind."""
    g = torch.Generator().manual_seed(seed)
    ri = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))  # noqa: E731
    dtype = torch.float64 if seed % 5 == 0 else torch.float32
    lead = [ri(1, 3) for _ in range(ri(0, 2))]  # 0, 1 or 2 leading dims (batch, heads)

    def bcast(dims):  # randomly set some leading dims to 1 (broadcasting)
        return [1 if ri(0, 3) == 0 else d for d in dims]

    L, S = ri(1, 7), ri(1, 7)
    if seed % 7 == 0:
        S = L
    E, Ev = ri(1, 9), ri(1, 9)
    q = torch.randn(*bcast(lead), L, E, generator=g, dtype=dtype)
    k = torch.randn(*bcast(lead), S, E, generator=g, dtype=dtype)
    v = torch.randn(*k.shape[:-2], S, Ev, generator=g, dtype=dtype)
    if k.dim() > 2 and ri(0, 1):  # value may broadcast differently from key
        v = torch.randn(*bcast(lead), S, Ev, generator=g, dtype=dtype)
    kwargs = {}
    kind = ["none", "bool", "float", "causal", "float_inf"][seed % 5]
    q_lead = list(q.shape[:-2])  # mask dims: a suffix of q's batch dims, some set to 1
    n_mask = ri(0, len(q_lead))
    mask_shape = bcast(q_lead[len(q_lead) - n_mask :]) + [L if ri(0, 4) else 1, S]
    if kind == "bool":
        kwargs["attn_mask"] = torch.rand(*mask_shape, generator=g) < 0.7  # some rows fully masked
    elif kind == "float":
        kwargs["attn_mask"] = torch.randn(*mask_shape, generator=g, dtype=dtype)
    elif kind == "float_inf":
        m = torch.randn(*mask_shape, generator=g, dtype=dtype)
        kwargs["attn_mask"] = m.masked_fill(
            torch.rand(*mask_shape, generator=g) < 0.3, float("-inf")
        )
    elif kind == "causal":
        kwargs["is_causal"] = True
    if ri(0, 2) == 0:
        kwargs["scale"] = float(torch.rand(1, generator=g)) * 2 + 0.05
    return q, k, v, kwargs


@pytest.mark.parametrize("seed", range(N_RANDOM_CONFIGS))
def test_sdpa_matches_torch_on_random_configs(seed):
    q, k, v, kwargs = _random_config(seed)
    expected = F.scaled_dot_product_attention(q, k, v, **kwargs)
    out, w = A.scaled_dot_product_attention(q, k, v, **kwargs, return_weights=True)
    assert out.shape == expected.shape
    assert torch.allclose(out, expected, atol=1e-5, rtol=1e-5), (out - expected).abs().max()
    # the weights are a distribution over keys (or all zero for a fully masked query)
    sums = w.sum(-1)
    assert torch.all(((sums - 1).abs() < 1e-5) | (sums == 0))
    assert torch.allclose(w @ v, out, atol=1e-6)


def test_random_configs_cover_every_case():
    kinds = {
        "bool": 0,
        "float": 0,
        "causal": 0,
        "scale": 0,
        "L1": 0,
        "LneS": 0,
        "bcast": 0,
        "full_row": 0,
    }
    for seed in range(N_RANDOM_CONFIGS):
        q, k, v, kw = _random_config(seed)
        m = kw.get("attn_mask")
        if m is not None:
            kinds["bool" if m.dtype == torch.bool else "float"] += 1
            blocked = ~m if m.dtype == torch.bool else torch.isneginf(m)
            kinds["full_row"] += bool(blocked.all(-1).any())
        kinds["causal"] += kw.get("is_causal", False)
        kinds["scale"] += "scale" in kw
        kinds["L1"] += q.shape[-2] == 1 or k.shape[-2] == 1
        kinds["LneS"] += q.shape[-2] != k.shape[-2]
        kinds["bcast"] += q.shape[:-2] != k.shape[:-2]
    assert all(n >= 20 for n in kinds.values()), kinds


def test_fully_masked_rows_give_zeros_like_torch_and_finite_gradients():
    q = torch.randn(2, 4, 8, requires_grad=True)
    k, v = torch.randn(2, 5, 8), torch.randn(2, 5, 3)
    mask = torch.ones(4, 5, dtype=torch.bool)
    mask[1] = False  # query 1 sees nothing
    out, w = A.scaled_dot_product_attention(q, k, v, attn_mask=mask, return_weights=True)
    assert torch.equal(out[:, 1], torch.zeros(2, 3)) and torch.equal(w[:, 1], torch.zeros(2, 5))
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-6)
    out.sum().backward()
    assert torch.isfinite(q.grad).all()


def test_sdpa_gradcheck_float64():
    q = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 5, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 5, 2, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(3, 5) < 0.7
    mask[:, 0] = True
    assert torch.autograd.gradcheck(
        lambda a, b, c: A.scaled_dot_product_attention(a, b, c, attn_mask=mask), (q, k, v)
    )


def test_sdpa_errors_and_dropout():
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 2)
    with pytest.raises(ValueError, match="not both"):
        A.scaled_dot_product_attention(
            q, k, v, attn_mask=torch.ones(3, 5, dtype=torch.bool), is_causal=True
        )
    with pytest.raises(ValueError, match="share E"):
        A.scaled_dot_product_attention(q, torch.randn(2, 5, 3), v)
    with pytest.raises(ValueError, match="share S"):
        A.scaled_dot_product_attention(q, k, torch.randn(2, 4, 2))
    with pytest.raises(TypeError, match="bool or float"):
        A.scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(3, 5, dtype=torch.long))
    # dropout keeps the expectation: surviving weights are scaled by 1 / (1 - p)
    torch.manual_seed(0)
    q, k = torch.randn(1, 64, 8), torch.randn(1, 64, 8)
    _, w0 = A.scaled_dot_product_attention(q, k, k, return_weights=True)
    _, w = A.scaled_dot_product_attention(q, k, k, dropout_p=0.5, return_weights=True)
    kept = w != 0
    assert 0.4 < kept.float().mean() < 0.6
    assert torch.allclose(w[kept], 2 * w0[kept], atol=1e-6)


def test_causal_mask_matches_torch_alignment():
    for L, S in [(1, 1), (3, 3), (5, 3), (2, 4)]:
        m = A.causal_mask(L, S)
        q, k, v = torch.randn(L, 4), torch.randn(S, 4), torch.randn(S, 2)
        ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert torch.allclose(A.scaled_dot_product_attention(q, k, v, attn_mask=m), ref, atol=1e-6)
    with pytest.raises(ValueError):
        A.causal_mask(-1)


def test_split_and_merge_heads():
    x = torch.randn(2, 5, 12)
    h = A.split_heads(x, 3)
    assert h.shape == (2, 3, 5, 4)
    assert torch.equal(h[:, 1, :, :], x[:, :, 4:8])  # head 1 owns features 4..7
    assert torch.equal(A.merge_heads(h), x)
    with pytest.raises(ValueError, match="divisible"):
        A.split_heads(x, 5)


# ------------------------------------------------------------------ multi-head attention
MHA_CONFIGS = [
    dict(batch_first=True),
    dict(batch_first=False),
    dict(batch_first=True, bias=False),
    dict(batch_first=True, cross=True),
    dict(batch_first=True, attn_mask="bool"),
    dict(batch_first=False, attn_mask="float"),
    dict(batch_first=True, attn_mask="bool3d"),
    dict(batch_first=True, key_padding_mask="bool"),
    dict(batch_first=True, key_padding_mask="float", attn_mask="bool"),
    dict(batch_first=True, average=False),
    dict(batch_first=True, unbatched=True),
    dict(batch_first=False, key_padding_mask="bool", cross=True),
]


@pytest.mark.parametrize(
    "cfg", MHA_CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items())
)
def test_multihead_attention_matches_torch(cfg):
    torch.manual_seed(0)
    E, h, N, L = 16, 4, 3, 5
    S = 7 if cfg.get("cross") else L
    ref = nn.MultiheadAttention(E, h, bias=cfg.get("bias", True), batch_first=cfg["batch_first"])
    ours = A.MultiHeadAttention.from_torch(ref)
    ref.eval(), ours.eval()
    shape = (lambda n: (N, n, E)) if cfg["batch_first"] else (lambda n: (n, N, E))
    if cfg.get("unbatched"):
        shape = lambda n: (n, E)  # noqa: E731
    q, kv = torch.randn(*shape(L)), torch.randn(*shape(S))
    kw = {}
    if cfg.get("attn_mask") == "bool":
        m = torch.rand(L, S) < 0.3
        m[:, 0] = False  # True = blocked here; keep key 0 visible
        kw["attn_mask"] = m
    elif cfg.get("attn_mask") == "float":
        kw["attn_mask"] = torch.randn(L, S)
    elif cfg.get("attn_mask") == "bool3d":
        m = torch.rand(N * h, L, S) < 0.3
        m[..., 0] = False
        kw["attn_mask"] = m
    if cfg.get("key_padding_mask"):
        m = torch.rand(N, S) < 0.3
        m[:, 0] = False
        kw["key_padding_mask"] = m if cfg["key_padding_mask"] == "bool" else m.float() * -1e4
        if "attn_mask" in kw and kw["attn_mask"].dtype != kw["key_padding_mask"].dtype:
            kw["key_padding_mask"] = kw["key_padding_mask"] != 0  # torch wants matching types
    kw["average_attn_weights"] = cfg.get("average", True)
    out_ref, w_ref = ref(q, kv, kv, **kw)
    out, w = ours(q, kv, kv, **kw)
    assert out.shape == out_ref.shape and w.shape == w_ref.shape
    assert torch.allclose(out, out_ref, atol=1e-5), (out - out_ref).abs().max()
    assert torch.allclose(w, w_ref, atol=1e-6)
    # same gradients with respect to the input
    q1, q2 = q.clone().requires_grad_(), q.clone().requires_grad_()
    ref(q1, kv, kv, **kw)[0].square().sum().backward()
    ours(q2, kv, kv, **kw)[0].square().sum().backward()
    assert torch.allclose(q1.grad, q2.grad, atol=1e-5)


def test_multihead_attention_parameters_and_need_weights():
    for E, h, bias in [(16, 4, True), (64, 8, True), (32, 1, False)]:
        ref = nn.MultiheadAttention(E, h, bias=bias)
        ours = A.MultiHeadAttention(E, h, bias=bias)
        n = sum(p.numel() for p in ours.parameters())
        assert n == sum(p.numel() for p in ref.parameters()) == 4 * E * E + (4 * E if bias else 0)
    m = A.MultiHeadAttention(8, 2, batch_first=True)
    out, w = m(torch.randn(2, 3, 8), torch.randn(2, 3, 8), torch.randn(2, 3, 8), need_weights=False)
    assert w is None and out.shape == (2, 3, 8)
    with pytest.raises(ValueError, match="divisible"):
        A.MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="shape mismatch"):
        A.MultiHeadAttention(8, 2).load_torch_weights(nn.MultiheadAttention(8, 4))


def test_multihead_fully_masked_row_is_output_bias_not_nan():
    m = A.MultiHeadAttention(8, 2, batch_first=True).eval()
    x = torch.randn(2, 3, 8)
    kpm = torch.tensor([[False, False, True], [True, True, True]])  # clip 1 fully padded
    out, w = m(x, x, x, key_padding_mask=kpm)
    assert torch.isfinite(out).all()
    assert torch.allclose(out[1], m.out_proj.bias.expand(3, 8))
    assert torch.equal(w[1], torch.zeros(3, 3))


def test_multihead_causal_flag_equals_explicit_mask():
    m = A.MultiHeadAttention(8, 2, batch_first=True)
    x = torch.randn(2, 4, 8)
    a = m(x, x, x, is_causal=True)[0]
    b = m(x, x, x, attn_mask=~A.causal_mask(4))[0]
    assert torch.allclose(a, b)


# ------------------------------------------------------------------ positions and tokens
def test_sinusoidal_positional_encoding():
    pe = A.sinusoidal_positional_encoding(50, 16)
    assert pe.shape == (50, 16)
    assert torch.allclose(pe[0, 0::2], torch.zeros(8)) and torch.allclose(
        pe[0, 1::2], torch.ones(8)
    )
    pos, i = 7, 3
    angle = pos / 10000 ** (2 * i / 16)
    assert math.isclose(pe[pos, 2 * i].item(), math.sin(angle), abs_tol=1e-6)
    assert math.isclose(pe[pos, 2 * i + 1].item(), math.cos(angle), abs_tol=1e-6)
    # a shift by k is the same rotation for every position: PE[p+k] = R_k PE[p]
    k = 5
    freq = 10000 ** (-torch.arange(0, 16, 2) / 16)
    c, s = torch.cos(k * freq), torch.sin(k * freq)
    sin_p, cos_p = pe[:-k, 0::2], pe[:-k, 1::2]
    assert torch.allclose(pe[k:, 0::2], sin_p * c + cos_p * s, atol=1e-5)
    assert torch.allclose(pe[k:, 1::2], cos_p * c - sin_p * s, atol=1e-5)
    with pytest.raises(ValueError, match="even"):
        A.sinusoidal_positional_encoding(4, 5)


def test_learned_positional_embedding():
    pe = A.LearnedPositionalEmbedding((4, 6), 8)
    x = torch.zeros(2, 4, 6, 8)
    assert torch.equal(pe(x), pe.weight.expand(2, 4, 6, 8))
    assert sum(p.numel() for p in pe.parameters()) == 4 * 6 * 8
    with pytest.raises(ValueError):
        pe(torch.zeros(2, 3, 6, 8))


def test_patch_embedding_is_flatten_then_linear():
    emb = A.PatchEmbedding(3, 10, patch_size=4)
    x = torch.randn(2, 3, 8, 12)
    out = emb(x)  # (N, P, D)
    patches = x.unfold(2, 4, 4).unfold(3, 4, 4)  # (N, C, 2, 3, 4, 4)
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(2, 6, 3 * 16)  # (N, P, C*p*p), row-major
    ref = patches @ emb.proj.weight.reshape(10, -1).T + emb.proj.bias
    assert out.shape == (2, 6, 10) and torch.allclose(out, ref, atol=1e-5)
    clip = torch.randn(2, 5, 3, 8, 12)
    assert torch.allclose(emb(clip)[:, 2], emb(clip[:, 2]), atol=1e-6)


def test_tubelet_embedding_is_flatten_then_linear():
    emb = A.TubeletEmbedding(1, 6, (2, 4, 4))
    clip = torch.randn(2, 6, 1, 8, 8)  # (N, T, C, H, W)
    out = emb(clip)
    assert out.shape == (2, 3, 4, 6)  # (N, T/2, (8/4)^2, D)
    t, r, c = 1, 1, 0  # tubelet at frames 2-3, patch row 1, col 0
    cube = clip[:, 2 * t : 2 * t + 2, :, 4 * r : 4 * r + 4, 4 * c : 4 * c + 4]  # (N, 2, 1, 4, 4)
    ref = cube.transpose(1, 2).reshape(2, -1) @ emb.proj.weight.reshape(6, -1).T + emb.proj.bias
    assert torch.allclose(out[:, t, r * 2 + c], ref, atol=1e-5)
    with pytest.raises(ValueError):
        emb(torch.randn(2, 1, 8, 8))


# ------------------------------------------------------------------ video attention
def _attn(dim=8, heads=2):
    return A.MultiHeadAttention(dim, heads, batch_first=True)


def test_time_and_space_attention_equal_explicit_loops():
    torch.manual_seed(0)
    N, T, P, D = 2, 3, 5, 8
    x = torch.randn(N, T, P, D)
    attn = _attn(D)
    out, w = A.time_attention(x, attn)
    assert out.shape == (N, T, P, D) and w.shape == (N, P, T, T)
    for p in range(P):
        o, ww = attn(x[:, :, p], x[:, :, p], x[:, :, p])  # the T frames at patch p
        assert torch.allclose(out[:, :, p], o, atol=1e-6) and torch.allclose(w[:, p], ww, atol=1e-6)
    out, w = A.space_attention(x, attn)
    assert w.shape == (N, T, P, P)
    for t in range(T):
        o, ww = attn(x[:, t], x[:, t], x[:, t])
        assert torch.allclose(out[:, t], o, atol=1e-6) and torch.allclose(w[:, t], ww, atol=1e-6)
    out, w = A.joint_attention(x, attn)
    flat = x.reshape(N, T * P, D)
    assert torch.allclose(out.reshape(N, T * P, D), attn(flat, flat, flat)[0], atol=1e-6)


def test_divided_attention_equals_loop_over_frames_and_positions():
    torch.manual_seed(1)
    N, T, P, D = 2, 4, 6, 8
    block = A.DividedSpaceTimeAttention(D, 2)
    x = torch.randn(N, T, P, D)
    out, w = block(x, return_weights=True)
    # explicit: for each patch position, attention over time; then for each frame, over space
    y = x.clone()
    xn = block.norm_time(x)
    for n in range(N):
        for p in range(P):
            seq = xn[n, :, p].unsqueeze(0)  # (1, T, D)
            y[n, :, p] = x[n, :, p] + block.time_attn(seq, seq, seq)[0][0]
    z = y.clone()
    yn = block.norm_space(y)
    for n in range(N):
        for t in range(T):
            seq = yn[n, t].unsqueeze(0)  # (1, P, D)
            z[n, t] = y[n, t] + block.space_attn(seq, seq, seq)[0][0]
    assert torch.allclose(out, z, atol=1e-5)
    assert w["time"].shape == (N, P, T, T) and w["space"].shape == (N, T, P, P)


def test_joint_and_space_only_blocks():
    torch.manual_seed(2)
    x = torch.randn(2, 3, 4, 8)
    joint = A.JointSpaceTimeAttention(8, 2)
    out, w = joint(x, return_weights=True)
    flat = joint.norm(x).reshape(2, 12, 8)
    assert torch.allclose(out, x + joint.attn(flat, flat, flat)[0].reshape(2, 3, 4, 8), atol=1e-6)
    assert w["joint"].shape == (2, 12, 12)
    space = A.SpaceOnlyAttention(8, 2)
    out = space(x)
    # no token sees another frame: changing frame 0 leaves frames 1, 2 unchanged
    x2 = x.clone()
    x2[:, 0] += 1
    assert torch.allclose(space(x2)[:, 1:], out[:, 1:]) and not torch.allclose(
        space(x2)[:, 0], out[:, 0]
    )
    with pytest.raises(ValueError, match="mode"):
        A.VideoTransformerBlock(8, 2, mode="diagonal")


@pytest.mark.parametrize("mode", ["joint", "divided", "space"])
def test_video_transformer_shapes(mode):
    model = A.VideoTransformer(
        num_classes=5,
        num_frames=4,
        image_size=16,
        tubelet_size=(2, 8, 8),
        dim=16,
        depth=2,
        num_heads=2,
        mode=mode,
    )
    logits, weights = model(torch.rand(3, 4, 1, 16, 16), return_weights=True)
    assert logits.shape == (3, 5) and len(weights) == 2
    assert model.grid == (2, 2, 2)


def test_without_positions_the_model_ignores_frame_order():
    torch.manual_seed(0)
    clips = torch.rand(2, 6, 1, 16, 16)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    kw = dict(
        num_classes=4, num_frames=6, image_size=16, tubelet_size=(1, 8, 8), dim=16, num_heads=2
    )
    blind = A.VideoTransformer(**kw, positional="none").eval()
    assert torch.allclose(blind(clips), blind(clips[:, perm]), atol=1e-5)
    for pos in ("learned", "sinusoidal"):
        model = A.VideoTransformer(**kw, positional=pos).eval()
        if pos == "learned":
            nn.init.normal_(model.pos.weight, std=1.0)
        assert not torch.allclose(model(clips), model(clips[:, perm]), atol=1e-4)
    with pytest.raises(ValueError, match="divide"):
        A.VideoTransformer(num_frames=5, tubelet_size=(2, 8, 8))


# ------------------------------------------------------------------ cost calculator
def test_attention_cost_formulas():
    c = A.attention_cost(8, 4, 4, mode="joint", dim=64)
    assert c["tokens"] == 128 and c["scores"] == 128**2
    assert c["attention_flops"] == 4 * 128**2 * 64 and c["projection_flops"] == 8 * 128 * 64**2
    d = A.attention_cost(8, 4, 4, mode="divided")
    assert d["scores"] == 16 * 8**2 + 8 * 16**2
    s = A.attention_cost(8, 4, 4, mode="space")
    assert s["scores"] == 8 * 16**2
    # joint grows as T^2, divided about linearly once T < P
    assert A.attention_cost(16, 14, 14)["scores"] == 4 * A.attention_cost(8, 14, 14)["scores"]
    r = (
        A.attention_cost(16, 14, 14, mode="divided")["scores"]
        / A.attention_cost(8, 14, 14, mode="divided")["scores"]
    )
    assert 2 < r < 2.2
    with pytest.raises(ValueError, match="mode"):
        A.attention_cost(2, 2, 2, mode="axial")
    with pytest.raises(ValueError, match="frames"):
        A.attention_cost(0, 2, 2)


@pytest.mark.parametrize("mode", ["joint", "divided", "space"])
def test_attention_cost_memory_equals_measured_weights(mode):
    T, h, w, D, heads, N = 3, 2, 3, 8, 2, 2
    block = A._ATTENTION[mode](D, heads)
    for m in block.modules():  # keep per-head weights to measure everything materialized
        if isinstance(m, A.MultiHeadAttention):
            m.forward = _per_head(m.forward)
    _, weights = block(torch.randn(N, T, h * w, D), return_weights=True)
    measured = sum(t.numel() * t.element_size() for t in weights.values())
    cost = A.attention_cost(T, h, w, mode=mode, dim=D, num_heads=heads, batch=N)
    assert measured == cost["memory_bytes"]


def _per_head(forward):
    def wrapped(q, k, v, **kw):
        return forward(q, k, v, average_attn_weights=False, **kw)

    return wrapped


# ------------------------------------------------------------------ figures
def test_figures_smoke():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = A.plot_softmax_temperature([1.0, 2.0, 0.5], temperature=0.5)
    assert "max weight" in fig.axes[0].get_title()
    clip = torch.rand(8, 1, 16, 16)
    fig2 = A.plot_attention_over_frames(
        clip, torch.rand(4, 2, 2), tubelet_size=(2, 8, 8), query=(1, 3), frame_step=2
    )
    assert len(fig2.axes) == 4
    with pytest.raises(ValueError, match="attention must be"):
        A.plot_attention_over_frames(clip, torch.rand(3, 2, 2), tubelet_size=(2, 8, 8))
    plt.close("all")
