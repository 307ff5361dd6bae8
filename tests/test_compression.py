"""course_utils.compression (notebook 07): quantization equal to torch's, pruning, distillation, streaming."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F

from course_utils import compression as C

warnings.filterwarnings("ignore", message=".*quantiz", category=UserWarning)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small models run fastest on one thread (as in the notebooks); restore afterwards."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


# ------------------------------------------------------------------ quantization
@pytest.mark.parametrize("seed", range(5))
def test_affine_per_tensor_equals_torch(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2000, generator=g) * (seed + 1) + seed - 2  # ranges with and without 0 in the middle
    s, z = C.quant_params(float(x.min()), float(x.max()))
    assert isinstance(z, int) and 0 <= z <= 255 and s > 0
    q = C.quantize(x, s, z)
    ref = torch.quantize_per_tensor(x, s, z, torch.quint8)
    assert q.dtype == torch.uint8 and torch.equal(q, ref.int_repr())
    assert torch.equal(C.dequantize(q, s, z), ref.dequantize())
    inside = (x >= x.min()) & (x <= x.max())
    assert ((C.dequantize(q, s, z) - x).abs()[inside] <= s / 2 + 1e-6).all()


@pytest.mark.parametrize("seed", range(5))
def test_symmetric_per_tensor_equals_torch(seed):
    x = torch.randn(500, generator=torch.Generator().manual_seed(seed)) * 3
    s, z = C.quant_params(float(x.min()), float(x.max()), symmetric=True)
    assert z == 0 and s == pytest.approx(float(x.abs().max()) / 127)
    assert torch.equal(C.quantize(x, s, z, torch.qint8), torch.quantize_per_tensor(x, s, 0, torch.qint8).int_repr())


@pytest.mark.parametrize("shape, axis", [((16, 8, 3, 3), 0), ((10, 20), 0), ((6, 4, 3), 1), ((5, 2, 3, 3, 3), 0)])
def test_per_channel_equals_torch(shape, axis):
    g = torch.Generator().manual_seed(1)
    w = torch.randn(*shape, generator=g) * torch.rand(*shape[: axis + 1], *([1] * (len(shape) - axis - 1)), generator=g)
    q, scales, zps = C.quantize_per_channel(w, axis=axis)
    ref = torch.quantize_per_channel(w, scales, zps, axis, torch.qint8)
    assert q.dtype == torch.int8 and torch.equal(q, ref.int_repr())
    assert torch.equal(scales, ref.q_per_channel_scales().float())


def test_zero_point_is_rounded_and_clamped_and_zero_is_exact():
    s, z = C.quant_params(-0.3, 1.7)
    assert isinstance(z, int) and z == round(0.3 / s)
    assert C.dequantize(C.quantize(torch.zeros(1), s, z), s, z).item() == 0.0  # 0 is on the grid
    s, z = C.quant_params(0.5, 2.0)  # range widened to include 0, so z stays storable
    assert z == 0
    s, z = C.quant_params(-3.0, -1.0)
    assert z == 255


def test_error_halves_per_bit():
    w = torch.randn(64, 128, generator=torch.Generator().manual_seed(0))
    errs = []
    for bits in range(3, 9):
        q, sc, _ = C.quantize_per_channel(w, bits=bits)
        errs.append(((q.float() * sc[:, None]) - w).abs().mean().item())
    ratios = [a / b for a, b in zip(errs, errs[1:], strict=False)]
    assert all(1.7 < r < 2.6 for r in ratios), ratios


def test_fake_quantize_equals_torch_and_has_straight_through_gradient():
    x = torch.linspace(-3, 3, 101, requires_grad=True)
    out = C.fake_quantize(x, 0.1, 3, -8, 7)
    assert torch.equal(out, torch.fake_quantize_per_tensor_affine(x, 0.1, 3, -8, 7))
    out.sum().backward()
    x2 = x.detach().clone().requires_grad_()
    torch.fake_quantize_per_tensor_affine(x2, 0.1, 3, -8, 7).sum().backward()
    assert torch.equal(x.grad, x2.grad)  # 1 inside the grid's range, 0 where clamped
    assert x.grad.sum() > 0 and (x.grad == 0).any()


def test_quantization_argument_errors():
    with pytest.raises(ValueError, match="x_min"):
        C.quant_params(2.0, 1.0)
    with pytest.raises(ValueError, match="bits"):
        C.quant_params(0.0, 1.0, bits=1)
    with pytest.raises(TypeError, match="floating"):
        C.quantize(torch.arange(3), 0.1, 0)
    with pytest.raises(ValueError, match="axis"):
        C.quantize_per_channel(torch.randn(3, 4), axis=2)
    with pytest.raises(ValueError, match="dtype"):
        C.quantize(torch.randn(3), 0.1, 0, torch.float16)


# ------------------------------------------------------------------ the model, pruning, streaming
def _clips(n=3, t=8, seed=0):
    return torch.rand(n, t, 1, 32, 32, generator=torch.Generator().manual_seed(seed))  # (N, T, C, H, W)


def test_model_shapes_and_causality():
    torch.manual_seed(0)
    m = C.CausalVideoNet().eval()
    x = _clips()
    assert m(x).shape == (3, 8)
    assert m.features(x).shape == (3, 64, 8)
    y = x.clone()
    y[:, 5:] = torch.rand_like(y[:, 5:])  # change the future only
    with torch.no_grad():
        assert torch.allclose(m.features(x)[:, :, :5], m.features(y)[:, :, :5], atol=1e-6)
        assert not torch.allclose(m.features(x)[:, :, 5:], m.features(y)[:, :, 5:])
    with pytest.raises(ValueError, match=r"\(N, T, C, H, W\)"):
        m(torch.rand(8, 1, 32, 32))


def test_streaming_equals_offline():
    torch.manual_seed(1)
    m = C.CausalVideoNet().eval()
    x = _clips(4, 10)
    with torch.no_grad():
        offline = m.head(m.features(x).transpose(1, 2))  # (N, T, K)
        prev = torch.cat([x[:, :1], x[:, :-1]], 1)
        feats = m.encode(x.flatten(0, 1), (x - prev).flatten(0, 1)).view(4, 10, -1)
    s = C.StreamingClassifier(m)
    exact = torch.stack([s.step_features(feats[:, t]) for t in range(10)], 1)
    assert torch.equal(exact, offline)  # the causal cache reproduces the offline stack bit for bit
    assert s.cache_numel() == C.causal_cache_size(3, [1, 2, 4], 64) == 896
    s.reset()
    online = torch.stack([s.step(x[:, t]) for t in range(10)], 1)
    assert (online - offline).abs().max() < 1e-5
    # in float64 the whole model agrees to ~1e-14: the float32 gap is summation order, not the cache
    m64, x64 = m.double(), x.double()
    with torch.no_grad():
        offline64 = m64.head(m64.features(x64).transpose(1, 2))
    s64 = C.StreamingClassifier(m64)
    online64 = torch.stack([s64.step(x64[:, t]) for t in range(10)], 1)
    assert (online64 - offline64).abs().max() < 1e-12


def test_causal_cache_size():
    assert C.causal_cache_size(3, [1, 2, 4], 64) == 896
    assert C.causal_cache_size(2, [1]) == 1
    assert C.causal_cache_size(1, [1, 2, 4], 8) == 0
    with pytest.raises(ValueError, match="dilations"):
        C.causal_cache_size(3, [0, 1])


def test_prune_channels_keep_all_is_identity_and_half_is_smaller():
    torch.manual_seed(2)
    m = C.CausalVideoNet().eval()
    x = _clips()
    same = C.prune_channels(m, 1.0).eval()
    with torch.no_grad():
        assert torch.allclose(same(x), m(x), atol=1e-5)
    half = C.prune_channels(m, 0.5)
    assert half.config["widths"] == [8, 16, 16]
    assert sum(p.numel() for p in half.parameters()) < sum(p.numel() for p in m.parameters())
    assert half(x).shape == (3, 8)
    with pytest.raises(ValueError, match="keep"):
        C.prune_channels(m, 0.0)


def test_prune_channels_keeps_the_strongest_channels():
    torch.manual_seed(3)
    m = C.CausalVideoNet().eval()
    with torch.no_grad():
        m.conv1.weight[::2] *= 0.01  # the even channels are weak
    half = C.prune_channels(m, 0.5)
    assert torch.equal(half.conv1.weight, m.conv1.weight[1::2])


def test_unstructured_sparsity_and_sparse_format():
    import torch.nn.utils.prune as prune

    torch.manual_seed(4)
    m = C.CausalVideoNet()
    dense = C.model_bytes(m.state_dict())
    targets = [(mod, "weight") for mod in m.modules() if isinstance(mod, torch.nn.Conv1d | torch.nn.Conv2d | torch.nn.Linear)]
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=0.9)
    for mod, name in targets:
        prune.remove(mod, name)
    assert C.sparsity(m) == pytest.approx(0.9, abs=1e-3)
    assert abs(C.model_bytes(m.state_dict()) - dense) < 100  # zeros cost as much as any float
    assert C.model_bytes(C.sparse_state_dict(m)) < 0.5 * dense
    assert C.model_bytes(m.state_dict(), compress=True) < 0.5 * dense


# ------------------------------------------------------------------ distillation
def test_distillation_loss_matches_the_formula():
    g = torch.Generator().manual_seed(5)
    zs, zt = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g) * 3
    y = torch.randint(0, 5, (6,), generator=g)
    T, a = 3.0, 0.7
    pt, ls = F.softmax(zt / T, 1), F.log_softmax(zs / T, 1)
    kl = (pt * (pt.log() - ls)).sum(1).mean()
    want = a * T * T * kl + (1 - a) * F.cross_entropy(zs, y)
    assert torch.allclose(C.distillation_loss(zs, zt, y, T=T, alpha=a), want, atol=1e-6)
    assert C.distillation_loss(zt, zt, y, T=T, alpha=1.0).abs() < 1e-6  # same distributions: no soft loss


def test_distillation_gradient_scale_is_independent_of_T():
    """With T^2 the soft term's gradient stays of the same size as T grows (Hinton et al.)."""
    g = torch.Generator().manual_seed(6)
    zt = torch.randn(64, 10, generator=g)
    zs0 = torch.randn(64, 10, generator=g) * 0.1
    norms = []
    for T in (4.0, 8.0, 16.0):
        zs = zs0.clone().requires_grad_()
        C.distillation_loss(zs, zt, torch.zeros(64, dtype=torch.long), T=T, alpha=1.0).backward()
        norms.append(zs.grad.norm().item())  # T^2 * (p_s - p_t) / T, and p_s - p_t ~ (z_s - z_t) / (T K)
    assert max(norms) / min(norms) < 1.5, norms


def test_distillation_argument_errors():
    with pytest.raises(ValueError, match="teacher_logits"):
        C.distillation_loss(torch.randn(2, 3), torch.randn(2, 4), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="T"):
        C.distillation_loss(torch.randn(2, 3), torch.randn(2, 3), torch.zeros(2, dtype=torch.long), T=0)


def test_symmetry_augment_maps_labels_consistently():
    clips = torch.zeros(8, 4, 1, 8, 8, dtype=torch.uint8)
    labels = torch.arange(8)
    ds = C.SymmetryAugment(clips, labels)
    torch.manual_seed(0)
    for i in range(8):
        _, y = ds[i]
        assert y in ({0, 1, 2, 3} if i < 4 else {4, 5} if i < 6 else {6, 7})  # pairs stay in their family
    for maps, _ in C.SymmetryAugment._MAPS:
        assert torch.equal(maps[maps], torch.arange(8))  # every symmetry is an involution


# ------------------------------------------------------------------ quantization-aware training, real int8 bytes
def test_weight_fake_quant_is_the_per_channel_grid_with_straight_through_gradient():
    w = torch.randn(6, 4, 3, generator=torch.Generator().manual_seed(0), requires_grad=True)
    out = C.WeightFakeQuant(bits=4)(w)
    q, scales, _ = C.quantize_per_channel(w.detach(), axis=0, bits=4)
    assert torch.allclose(out, q.float() * scales.view(-1, 1, 1), atol=1e-7)
    out.sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))  # symmetric grid up to max|w|: nothing is clamped


def test_qat_parametrization_trains_the_shadow_weights_and_finalizes_on_the_grid():
    torch.manual_seed(0)
    model = C.CausalVideoNet(widths=(4, 4, 4), dim=8)
    clips = torch.rand(4, 3, 1, 32, 32)
    ptq = C.quantize_weights(model, bits=2)
    assert not torch.equal(ptq.conv1.weight, model.conv1.weight)  # a copy; the original is untouched
    C.add_weight_fake_quant(model, bits=2)
    with torch.no_grad():
        assert torch.allclose(model(clips), ptq(clips), atol=1e-6)  # forward = the PTQ model before training
    raw = model.conv2.parametrizations.weight.original
    raw_before = raw.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(clips), torch.tensor([0, 1, 2, 3])).backward()
    assert raw.grad is not None and raw.grad.abs().sum() > 0  # the STE lets gradients reach the float weights
    opt.step()
    assert not torch.equal(raw.detach(), raw_before)
    C.finalize_fake_quant(model)
    assert not hasattr(model.conv2, "parametrizations")
    for m in (model.conv1, model.conv2, model.conv3, model.proj, *model.temporal, model.head):
        for channel in m.weight.detach():
            assert len(torch.unique(channel)) <= 3  # 2-bit symmetric: -s, 0, +s


def test_int8_weight_bytes_counts_real_int8_tensors():
    model = C.CausalVideoNet()
    b = C.int8_weight_bytes(model)
    n_params = sum(p.numel() for p in model.parameters())
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Conv1d | torch.nn.Conv2d | torch.nn.Linear)]
    n_weights = sum(m.weight.numel() for m in layers)
    assert b["int8"] == n_weights and b["fp32"] == 4 * n_params
    assert b["scales"] == 4 * sum(m.weight.shape[0] for m in layers)
    assert b["float32"] == 4 * (n_params - n_weights)
    assert b["int8"] + b["scales"] + b["float32"] < b["fp32"] / 3
    with pytest.raises(TypeError, match="model"):
        C.int8_weight_bytes("not a model")
    with pytest.raises(ValueError, match="bits"):
        C.add_weight_fake_quant(model, bits=1)
