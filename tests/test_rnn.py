"""Tests of course_utils.rnn: cells and unrolled networks match torch, gradient helpers match autograd."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from course_utils import rnn as R

TOL = 1e-5


def _flat(out) -> torch.Tensor:
    """Flatten (output, h_n) or (output, (h_n, c_n)) into one vector."""
    parts = [out[0]]
    rest = out[1]
    parts += list(rest) if isinstance(rest, tuple) else [rest]
    return torch.cat([p.reshape(-1) for p in parts])


# ------------------------------------------------------------------------------- cells
def _cell_configs(n: int):
    rng = random.Random(0)
    for k in range(n):
        yield dict(
            kind=("rnn_tanh", "rnn_relu", "lstm", "gru")[k % 4],
            input_size=rng.randint(1, 6),
            hidden_size=rng.randint(1, 6),
            batch=rng.choice([None, 1, 2, 5]),
            bias=rng.random() < 0.8,
            hx=rng.random() < 0.7,
        )


def test_cells_match_torch_on_120_random_configurations():
    count = 0
    for cfg in _cell_configs(120):
        torch.manual_seed(count)
        kind, i, h, n = cfg["kind"], cfg["input_size"], cfg["hidden_size"], cfg["batch"]
        shape = (i,) if n is None else (n, i)
        hshape = (h,) if n is None else (n, h)
        x = torch.randn(shape)
        if kind.startswith("rnn"):
            nl = kind.split("_")[1]
            m = nn.RNNCell(i, h, bias=cfg["bias"], nonlinearity=nl)
            hx = torch.randn(hshape) if cfg["hx"] else None
            exp = m(x, hx)
            got = R.rnn_cell(x, hx, m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh, nonlinearity=nl)
        elif kind == "lstm":
            m = nn.LSTMCell(i, h, bias=cfg["bias"])
            hx = (torch.randn(hshape), torch.randn(hshape)) if cfg["hx"] else None
            exp = torch.cat([t.reshape(-1) for t in m(x, hx)])
            got = torch.cat(
                [
                    t.reshape(-1)
                    for t in R.lstm_cell(x, hx, m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh)
                ]
            )
        else:
            m = nn.GRUCell(i, h, bias=cfg["bias"])
            hx = torch.randn(hshape) if cfg["hx"] else None
            exp = m(x, hx)
            got = R.gru_cell(x, hx, m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh)
        assert got.shape == exp.shape, cfg
        assert (got - exp).abs().max().item() < TOL, cfg
        count += 1
    assert count >= 100


# ------------------------------------------------------------------------------ stacks
def _stack_configs(n: int):
    rng = random.Random(1)
    configs = []
    for k in range(n):
        configs.append(
            dict(
                kind=("rnn", "lstm", "gru")[k % 3],
                nonlinearity=rng.choice(["tanh", "relu"]),
                input_size=rng.randint(1, 5),
                hidden_size=rng.randint(1, 5),
                num_layers=rng.randint(1, 3),
                bidirectional=rng.random() < 0.5,
                batch_first=rng.random() < 0.5,
                bias=rng.random() < 0.8,
                batch=rng.choice([None, 1, 1, 2, 3]),
                length=rng.choice([1, 1, 2, 3, 5]),
                hx=rng.random() < 0.6,
            )
        )
    return configs


STACK_CONFIGS = _stack_configs(150)


def test_stack_configurations_cover_the_edge_cases():
    cs = STACK_CONFIGS
    assert len(cs) >= 100
    assert any(c["length"] == 1 for c in cs)
    assert any(c["batch"] == 1 for c in cs)
    assert any(c["batch"] is None for c in cs)
    assert any(c["bidirectional"] and c["num_layers"] > 1 and c["batch_first"] for c in cs)
    for kind in ("rnn", "lstm", "gru"):
        assert sum(c["kind"] == kind for c in cs) >= 30


def test_unrolled_networks_match_torch_on_150_random_configurations():
    fns = {"rnn": R.rnn, "lstm": R.lstm, "gru": R.gru}
    classes = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
    for k, c in enumerate(STACK_CONFIGS):
        torch.manual_seed(100 + k)
        kw = dict(
            num_layers=c["num_layers"],
            bidirectional=c["bidirectional"],
            batch_first=c["batch_first"],
            bias=c["bias"],
        )
        if c["kind"] == "rnn":
            kw["nonlinearity"] = c["nonlinearity"]
        m = classes[c["kind"]](c["input_size"], c["hidden_size"], **kw)
        T, N, D = c["length"], c["batch"], 2 if c["bidirectional"] else 1
        if N is None:
            x = torch.randn(T, c["input_size"])
            hshape = (c["num_layers"] * D, c["hidden_size"])
        else:
            x = torch.randn(*((N, T) if c["batch_first"] else (T, N)), c["input_size"])
            hshape = (c["num_layers"] * D, N, c["hidden_size"])
        hx = None
        if c["hx"]:
            hx = (
                (torch.randn(hshape), torch.randn(hshape))
                if c["kind"] == "lstm"
                else torch.randn(hshape)
            )
        exp = m(x, hx)
        extra = {"nonlinearity": c["nonlinearity"]} if c["kind"] == "rnn" else {}
        # both ways of passing the parameters: the module, or a dict of named parameters
        got = fns[c["kind"]](
            x, m if k % 2 else dict(m.named_parameters()), hx, batch_first=c["batch_first"], **extra
        )
        assert got[0].shape == exp[0].shape, c
        if c["kind"] == "lstm":
            assert got[1][0].shape == exp[1][0].shape and got[1][1].shape == exp[1][1].shape, c
        else:
            assert got[1].shape == exp[1].shape, c
        err = (_flat(got) - _flat(exp)).abs().max().item()
        assert err < TOL, (c, err)


def test_stack_gradients_match_torch():
    torch.manual_seed(3)
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(2, 5, 3)
    out, (h, c) = m(x)
    (out.sum() + h.sum() + c.pow(2).sum()).backward()
    exp = {n: p.grad.clone() for n, p in m.named_parameters()}
    m.zero_grad()
    out, (h, c) = R.lstm(x, m, batch_first=True)
    (out.sum() + h.sum() + c.pow(2).sum()).backward()
    for n, p in m.named_parameters():
        assert (p.grad - exp[n]).abs().max().item() < TOL, n


def test_stack_errors_name_the_problem():
    m = nn.GRU(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="features"):
        R.gru(torch.randn(5, 2, 7), m)
    with pytest.raises(ValueError, match="initial state"):
        R.gru(torch.randn(5, 2, 3), m, torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"\(T, N, input_size\)"):
        R.gru(torch.randn(5), m)
    with pytest.raises(TypeError, match="params"):
        R.gru(torch.randn(5, 2, 3), [1, 2])
    with pytest.raises(ValueError, match="weight_ih"):
        R.rnn_cell(torch.randn(2, 5), None, torch.randn(4, 3), torch.randn(4, 4))


def test_lstm_num_params_matches_torch():
    rng = random.Random(5)
    for _ in range(30):
        i, h, L = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 3)
        bi, bias = rng.random() < 0.5, rng.random() < 0.7
        m = nn.LSTM(i, h, num_layers=L, bidirectional=bi, bias=bias)
        assert R.lstm_num_params(i, h, L, bi, bias) == sum(p.numel() for p in m.parameters())


# ---------------------------------------------------------------------------- ConvLSTM
def test_conv_lstm_with_1x1_kernels_is_a_per_pixel_lstm():
    torch.manual_seed(4)
    N, C, K, H, W = 2, 3, 4, 5, 6
    cell = R.ConvLSTMCell(C, K, kernel_size=1)
    with torch.no_grad():
        cell.bias.normal_()
    x = torch.randn(N, C, H, W)
    h, c = torch.randn(N, K, H, W), torch.randn(N, K, H, W)
    h1, c1 = cell(x, (h, c))
    # the same weights as an LSTM cell applied at every pixel
    flat = lambda t: t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])  # (N*H*W, channels)  # noqa: E731
    h2, c2 = R.lstm_cell(
        flat(x),
        (flat(h), flat(c)),
        cell.weight_ih[:, :, 0, 0],
        cell.weight_hh[:, :, 0, 0],
        cell.bias,
        None,
    )
    assert (flat(h1) - h2).abs().max().item() < TOL
    assert (flat(c1) - c2).abs().max().item() < TOL
    ref = nn.LSTMCell(C, K)
    with torch.no_grad():
        ref.weight_ih.copy_(cell.weight_ih[:, :, 0, 0])
        ref.weight_hh.copy_(cell.weight_hh[:, :, 0, 0])
        ref.bias_ih.copy_(cell.bias)
        ref.bias_hh.zero_()
    h3, c3 = ref(flat(x), (flat(h), flat(c)))
    assert (h3 - h2).abs().max().item() < TOL and (c3 - c2).abs().max().item() < TOL


def test_conv_lstm_shapes_and_locality():
    torch.manual_seed(5)
    net = R.ConvLSTM(1, 4, kernel_size=3).double()
    clip = torch.zeros(2, 6, 1, 16, 16, dtype=torch.float64)
    out, (h, c) = net(clip)
    assert out.shape == (2, 6, 4, 16, 16) and h.shape == (2, 4, 16, 16) and c.shape == h.shape
    assert torch.equal(out[:, -1], h)
    # a 3x3 kernel lets information travel one pixel per step: a dot at (0, 0) in frame 0
    # reaches pixel (t + 1, t + 1) of the state at frame t, and no further.
    clip2 = clip.clone()
    clip2[:, 0, :, 0, 0] = 1.0
    out2, _ = net(clip2)
    diff = (out2 - out).abs().amax(dim=(0, 2))  # (T, H, W)
    assert diff[5, 6, 6] > 0
    assert diff[5, 7, 7] == 0 and diff[5, 7:, :].max() == 0 and diff[2, 4, 0] == 0
    with pytest.raises(ValueError, match="odd"):
        R.ConvLSTMCell(1, 2, kernel_size=2)


# ------------------------------------------------------------------------ gradient flow
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "linear"])
def test_rnn_bptt_matches_autograd(nonlinearity):
    torch.manual_seed(6)
    T, N, n_in, H = 6, 3, 2, 4
    xs = torch.randn(T, N, n_in, dtype=torch.float64)
    h0 = torch.randn(N, H, dtype=torch.float64)
    w_ih = torch.randn(H, n_in, dtype=torch.float64, requires_grad=True)
    w_hh = (0.5 * torch.randn(H, H, dtype=torch.float64)).requires_grad_(True)
    b = torch.randn(H, dtype=torch.float64, requires_grad=True)
    v = torch.randn(N, H, dtype=torch.float64)
    act = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda a: a}[nonlinearity]
    step = lambda x, h: act(x @ w_ih.T + h @ w_hh.T + b)  # noqa: E731
    hs = R.unroll(step, xs, h0.clone().requires_grad_(True))
    for h in hs:
        h.retain_grad()
    (hs[-1] * v).sum().backward()
    got = R.rnn_bptt(xs, h0, w_ih.detach(), w_hh.detach(), b.detach(), v, nonlinearity)
    assert (got["weight_ih"] - w_ih.grad).abs().max() < 1e-10
    assert (got["weight_hh"] - w_hh.grad).abs().max() < 1e-10
    assert (got["bias"] - b.grad).abs().max() < 1e-10
    auto = torch.stack([h.grad for h in hs])
    assert (got["grad_h"] - auto).abs().max() < 1e-10
    assert (got["hs"] - torch.stack([h.detach() for h in hs])).abs().max() < 1e-12
    # and the autograd helper agrees with BPTT by hand
    norms = R.hidden_grad_norms(step, xs, h0, lambda h: (h * v).sum())
    hand = got["grad_h"].flatten(1).norm(dim=1)
    assert norms.shape == (T + 1,)
    assert (norms - hand).abs().max() < 1e-10


def test_hidden_grad_norms_matches_chained_jacobians_for_gru_and_lstm():
    torch.manual_seed(7)
    T, n_in, H = 5, 3, 4
    xs = torch.randn(T, 1, n_in, dtype=torch.float64)
    gru = nn.GRUCell(n_in, H).double()
    v = torch.randn(H, dtype=torch.float64)
    norms = R.hidden_grad_norms(
        lambda x, h: gru(x, h), xs, torch.zeros(1, H, dtype=torch.float64), lambda h: h[0] @ v
    )
    # dL/dh_t = dL/dh_{t+1} J_{t+1}, with J the Jacobian of one step
    hs = R.unroll(lambda x, h: gru(x, h), xs, torch.zeros(1, H, dtype=torch.float64))
    g = v.clone()
    exp = [g.norm()]
    for t in range(T - 1, -1, -1):
        J = torch.autograd.functional.jacobian(
            lambda h, t=t: gru(xs[t], h.unsqueeze(0))[0], hs[t][0].detach()
        )  # (H, H)
        g = g @ J
        exp.append(g.norm())
    exp = torch.stack(exp[::-1])
    assert (norms - exp).abs().max() < 1e-10
    # LSTM state is a tuple: measure dL/dh_t (which=0) and dL/dc_t (which=1)
    cell = nn.LSTMCell(n_in, H).double()
    z = torch.zeros(1, H, dtype=torch.float64)
    nh = R.hidden_grad_norms(lambda x, s: cell(x, s), xs, (z, z), lambda s: s[1][0] @ v, which=0)
    nc = R.hidden_grad_norms(lambda x, s: cell(x, s), xs, (z, z), lambda s: s[1][0] @ v, which=1)
    assert nh.shape == nc.shape == (T + 1,)
    assert nh[-1] == 0  # the loss reads c_T only
    assert abs(nc[-1].item() - v.norm().item()) < 1e-12
    assert (nh[:-1] > 0).all()


def test_linear_rnn_weight_has_the_requested_spectral_radius():
    g = torch.Generator().manual_seed(0)
    for rho in (0.5, 1.0, 1.3):
        for orth in (True, False):
            w = R.linear_rnn_weight(8, rho, generator=g, orthogonal=orth)
            assert abs(torch.linalg.eigvals(w).abs().max().item() - rho) < 1e-9
    w = R.linear_rnn_weight(8, 0.9, generator=g)
    v = torch.randn(8, dtype=torch.float64)
    assert (
        abs((torch.linalg.matrix_power(w, 10) @ v).norm().item() - 0.9**10 * v.norm().item()) < 1e-9
    )
