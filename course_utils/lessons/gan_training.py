"""Exercises of notebook 04 (GAN training): ``from course_utils.lessons import gan_training as ex``.

* ``ex.d_optimum``: the optimal discriminator D*(x) = p_data / (p_data + p_g).
* ``ex.js_divergence``: the Jensen-Shannon divergence of two discrete distributions.
* ``ex.generator_loss``: the non-saturating generator loss from logits, stable for any logit.
* ``ex.gradient_penalty``: the WGAN-GP penalty, differentiable for the critic.
* ``ex.inception_score``: the Inception-Score-like number from class probabilities.
* ``ex.spot_the_bug``: fix a GAN training step with four classic mistakes.

Each has ``check(answer)``, ``hint()`` and ``solution()``; the references are the
``*_reference`` functions below (``train_step_reference`` for the spot-the-bug).
"""

from __future__ import annotations

import ast
import copy
import inspect
import math
import textwrap

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.exercises import (
    Case,
    Exercise,
    Incorrect,
    LearnerError,
    NotAttempted,
    call_learner,
    match_variant,
)

__all__ = [
    "BUGGY_TRAIN_STEP",
    "d_optimum",
    "d_optimum_reference",
    "generator_loss",
    "generator_loss_reference",
    "gradient_penalty",
    "gradient_penalty_reference",
    "inception_score",
    "inception_score_reference",
    "js_divergence",
    "js_divergence_reference",
    "spot_the_bug",
    "train_step_reference",
]


def _close(a, b, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


# ------------------------------------------------------------------ 1. the optimal D
def d_optimum_reference(p_data, p_g):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), elementwise on density tensors."""
    return p_data / (p_data + p_g)


def _d_optimum_cases():
    g = torch.Generator().manual_seed(0)
    return [
        Case(
            (torch.tensor([1.0, 0.5, 0.2]), torch.tensor([1.0, 0.5, 0.2])),
            label="p_g equals p_data",
        ),
        Case((torch.tensor([0.9, 0.1]), torch.tensor([0.1, 0.9]))),
        Case((torch.tensor([2.0, 0.0]), torch.tensor([0.0, 3.0])), label="disjoint supports"),
        Case(
            (torch.rand(4, 5, generator=g) + 0.1, torch.rand(4, 5, generator=g) + 0.1),
            label="a 2D grid",
        ),
    ]


def _d_optimum_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor) or received.shape != expected.shape:
        return None
    p_data, p_g = case.args
    return match_variant(received, expected, [
        ("You returned p_g / (p_data + p_g): that is the probability of *fake*. D outputs the probability of *real*.",
         p_g / (p_data + p_g)),
        ("A ratio p_data / p_g is unbounded; D is a probability: divide by the *sum* p_data + p_g.", p_data / p_g),
    ])


d_optimum = Exercise(
    "d_optimum",
    title="The optimal discriminator",
    reference=d_optimum_reference,
    cases=_d_optimum_cases,
    diagnose=_d_optimum_diagnose,
    hints=[
        "For a fixed x, maximise p_data(x) log D + p_g(x) log(1 - D) over D in (0, 1): set the derivative to zero.",
        "a/D - b/(1 - D) = 0 gives D = a / (a + b) with a = p_data(x), b = p_g(x).",
    ],
)


# ------------------------------------------------------------------- 2. JS divergence
def js_divergence_reference(p, q):
    """JS(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q) / 2, natural log, 0 log 0 = 0.

    p, q: (K,) probability vectors. Returns a 0-dim tensor in nats (at most log 2).
    """
    m = (p + q) / 2

    def kl(a, b):
        terms = torch.where(a > 0, a * torch.log(a / b), torch.zeros_like(a))  # 0 log 0 = 0
        return terms.sum()

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def _js_cases():
    g = torch.Generator().manual_seed(1)
    a = torch.rand(6, generator=g, dtype=torch.float64)
    b = torch.rand(6, generator=g, dtype=torch.float64)
    return [
        Case((torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5])), label="equal distributions"),
        Case((torch.tensor([0.25, 0.75]), torch.tensor([0.5, 0.5]))),
        Case(
            (torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])), label="disjoint supports (zeros!)"
        ),
        Case(
            (torch.tensor([0.5, 0.5, 0.0]), torch.tensor([0.0, 0.5, 0.5])),
            label="partly overlapping",
        ),
        Case((a / a.sum(), b / b.sum()), label="random float64"),
    ]


def _js_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor):
        return None
    if torch.isnan(received).any():
        return "NaN: 0 * log(0) gives nan in floating point. Treat terms with p = 0 as 0 (torch.where)."
    e = float(expected)
    r = float(received.reshape(-1)[0]) if received.numel() else float("nan")
    if abs(r - e / math.log(2)) < 1e-5 and e > 0:
        return "That is the value in bits (log base 2). The lesson uses natural logs (nats): torch.log."
    if abs(r - 2 * e) < 1e-5 and e > 0:
        return "Twice the answer: JS averages the two KL terms (1/2 each)."
    return None


js_divergence = Exercise(
    "js_divergence",
    title="Jensen-Shannon divergence",
    reference=js_divergence_reference,
    cases=_js_cases,
    diagnose=_js_diagnose,
    hints=[
        "Build the mixture m = (p + q) / 2, then average KL(p || m) and KL(q || m).",
        "KL(a || b) = sum a * log(a / b); where a is 0 the term is 0 (use torch.where so 0 * log 0 does not become nan).",
    ],
)


# ---------------------------------------------------------- 3. non-saturating G loss
def generator_loss_reference(fake_logits):
    """Non-saturating generator loss -mean log D(G(z)) from D's logits a: mean softplus(-a).

    Equal to BCE-with-logits against the label 1 ("real"); finite for any logit.
    """
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def _g_loss_cases():
    g = torch.Generator().manual_seed(2)
    return [
        Case((torch.tensor([-3.0, 2.0, 0.5]),)),
        Case((torch.tensor([0.0, 0.0]),), label="D undecided"),
        Case((torch.randn(16, generator=g),), label="random logits"),
        Case((torch.tensor([-120.0, 5.0]),), label="D sure the fake is fake (logit -120)"),
        Case((torch.tensor([120.0, 60.0]),), label="D fooled (large positive logits)"),
    ]


def _g_loss_diagnose(case, expected, received):
    if case is None or not isinstance(received, torch.Tensor):
        return None
    (a,) = case.args
    if not torch.isfinite(received).all():
        with torch.no_grad():
            overflow = bool((torch.exp(-a) == float("inf")).any())
        if overflow and (a < -88).any():
            return (
                "Not finite: overflow. exp(-a) for a very negative logit (here exp(120)) is larger "
                "than the largest float32 (about 3.4e38) and becomes inf, so log1p(exp(-a)) is inf "
                "although softplus(-a) is just about -a = 120. Use the stable form: "
                "F.softplus(-logits).mean(), or F.binary_cross_entropy_with_logits(logits, ones)."
            )
        return (
            "Not finite: sigmoid(-120) underflows to 0 and log(0) = -inf. Work from the logits: "
            "F.binary_cross_entropy_with_logits(logits, ones), or -F.logsigmoid(logits).mean()."
        )
    if received.shape != expected.shape:
        return None
    saturating = "That is the saturating loss log(1 - D(G(z))) (or its negative). The non-saturating one is -log D(G(z))."
    return match_variant(received, expected, [
        ("The sign is flipped: the loss is -log D(G(z)), a positive number the generator minimises.", -F.softplus(-a).mean()),
        (saturating, -F.softplus(a).mean()),
        (saturating, F.softplus(a).mean()),
        ("Average over the batch (mean), do not sum.", F.softplus(-a).sum()),
    ])


generator_loss = Exercise(
    "generator_loss",
    title="Non-saturating generator loss from logits",
    reference=generator_loss_reference,
    cases=_g_loss_cases,
    diagnose=_g_loss_diagnose,
    rtol=1e-4,
    atol=1e-5,
    hints=[
        "The generator wants D to say 'real': it is binary cross-entropy with the label 1 on the fake logits.",
        "F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits)) is stable; "
        "torch.log(torch.sigmoid(a)) is not.",
    ],
)


# --------------------------------------------------------------- 4. gradient penalty
def gradient_penalty_reference(critic, real, fake, alpha):
    """WGAN-GP: mean over samples of (||grad_x critic(x_hat)||_2 - 1)^2.

    real, fake (N, ...); alpha (N,) interpolation weights; x_hat = alpha real + (1 - alpha) fake.
    """
    a = alpha.view(-1, *([1] * (real.dim() - 1)))  # (N, 1, ..., 1)
    x_hat = (a * real + (1 - a) * fake).detach().requires_grad_(True)  # (N, ...)
    scores = critic(x_hat)  # (N,)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (N, ...)
    norms = grad.flatten(1).norm(dim=1)  # (N,) one norm per sample
    return ((norms - 1) ** 2).mean()


class _QuadCritic(nn.Module):
    """A small nonlinear critic with parameters, for the checker: (N, ...) -> (N,)."""

    def __init__(self, n_in: int, seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = nn.Parameter(torch.randn(n_in, 4, generator=g, dtype=torch.float64))
        self.v = nn.Parameter(torch.randn(4, generator=g, dtype=torch.float64))

    def forward(self, x):
        return torch.tanh(x.flatten(1) @ self.w) @ self.v  # (N,)


def _gp_inputs():
    g = torch.Generator().manual_seed(3)
    out = []
    for shape, label in [((5, 2), "2D points"), ((4, 1, 3, 3), "images (N, C, H, W)")]:
        n_in = math.prod(shape[1:])
        real = torch.randn(*shape, generator=g, dtype=torch.float64)
        fake = torch.randn(*shape, generator=g, dtype=torch.float64)
        alpha = torch.rand(shape[0], generator=g, dtype=torch.float64)
        out.append((_QuadCritic(n_in, seed=len(out)), real, fake, alpha, label))
    return out


def _gp_variants(critic, real, fake, alpha):
    a = alpha.view(-1, *([1] * (real.dim() - 1)))

    def grad_at(x):
        x = x.detach().requires_grad_(True)
        (gr,) = torch.autograd.grad(critic(x).sum(), x)
        return gr

    gr = grad_at(a * real + (1 - a) * fake)
    norms = gr.flatten(1).norm(dim=1)
    return {
        "the gradient norm of the whole batch instead of one norm per sample": (gr.norm() - 1) ** 2,
        "no square: mean(|norm - 1|) instead of mean((norm - 1)^2)": (norms - 1).abs().mean(),
        "the penalty on the squared norm ||g||^2 instead of the norm ||g||": (
            (norms**2 - 1) ** 2
        ).mean(),
        "the mean norm, (mean ||g|| - 1)^2, instead of mean (||g|| - 1)^2": (norms.mean() - 1) ** 2,
        "alpha on the wrong side: alpha * fake + (1 - alpha) * real": (
            (grad_at(a * fake + (1 - a) * real).flatten(1).norm(dim=1) - 1) ** 2
        ).mean(),
        "one alpha for the whole batch (alpha[0] for every sample) instead of the alpha of each sample": (
            (grad_at(a[:1] * real + (1 - a[:1]) * fake).flatten(1).norm(dim=1) - 1) ** 2
        ).mean(),
    }


def _gp_judge(answer):
    for critic, real, fake, alpha, label in _gp_inputs():
        expected = gradient_penalty_reference(critic, real, fake, alpha)
        received = call_learner(
            answer, critic, real.clone(), fake.clone(), alpha.clone(), name="gradient_penalty"
        )
        where = f"For the {label} case (real {tuple(real.shape)}, alpha {tuple(alpha.shape)})"
        if not isinstance(received, torch.Tensor):
            raise Incorrect(
                f"{where}: expected a tensor (a scalar), but received {type(received).__name__}."
            )
        if received.numel() != 1:
            raise Incorrect(
                f"{where}: expected a single number (the mean over samples), but received a tensor of shape {tuple(received.shape)}."
            )
        if not _close(received.reshape(()), expected, rtol=1e-6, atol=1e-8):
            mistake = match_variant(received.reshape(()), expected, _gp_variants(critic, real, fake, alpha))
            if mistake:
                raise Incorrect(f"{where}: you computed {mistake}.")
            raise Incorrect(
                f"{where}: expected {float(expected.detach()):.6g}, but received {float(received.detach()):.6g}."
            )
        if not received.requires_grad:
            raise Incorrect(
                f"{where}: the value is right, but the penalty is not connected to the critic's parameters, "
                "so it cannot train the critic. Pass create_graph=True to torch.autograd.grad."
            )
        mine = torch.autograd.grad(
            received.reshape(()), list(critic.parameters()), allow_unused=True
        )
        ref = torch.autograd.grad(expected, list(critic.parameters()))
        if any(
            m is None or not _close(m, r, rtol=1e-5, atol=1e-8)
            for m, r in zip(mine, ref, strict=True)
        ):
            raise Incorrect(
                f"{where}: the value is right, but its gradient with respect to the critic's parameters is not. "
                "Do not detach the gradient; use create_graph=True."
            )


gradient_penalty = Exercise(
    "gradient_penalty",
    title="The WGAN-GP gradient penalty",
    judge=_gp_judge,
    expects_function=True,
    solution=inspect.getsource(gradient_penalty_reference),
    hints=[
        "Interpolate x_hat = alpha * real + (1 - alpha) * fake with alpha reshaped to (N, 1, ...); make x_hat require grad.",
        "torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True) gives one gradient per sample; "
        "flatten(1).norm(dim=1) gives one norm per sample; then mean((norm - 1) ** 2).",
    ],
)


# ---------------------------------------------------------------- 5. inception score
def inception_score_reference(probs):
    """exp(mean_i KL(p(y|x_i) || p(y))) with p(y) the mean of the rows; probs (N, K). A float."""
    marginal = probs.mean(dim=0, keepdim=True)  # (1, K)
    terms = torch.where(
        probs > 0, probs * torch.log(probs / marginal), torch.zeros_like(probs)
    )  # (N, K)
    return float(terms.sum(dim=1).mean().exp())


def _is_cases():
    g = torch.Generator().manual_seed(4)
    eye = torch.eye(10, dtype=torch.float64)
    return [
        Case((eye.repeat(3, 1),), label="confident and every class equally: the best case"),
        Case((eye[:1].repeat(20, 1),), label="confident but always the same class"),
        Case((torch.full((8, 10), 0.1, dtype=torch.float64),), label="unsure about everything"),
        Case((eye[:4].repeat(5, 1),), label="4 classes"),
        Case(
            (torch.softmax(3 * torch.randn(32, 10, generator=g, dtype=torch.float64), dim=1),),
            label="random",
        ),
    ]


def _is_diagnose(case, expected, received):
    if case is None or not isinstance(received, int | float):
        return None
    (p,) = case.args
    if math.isnan(received):
        return "NaN: a 0 * log 0 term. Treat terms with p(y|x) = 0 as 0."
    if expected > 0 and abs(received - math.log(expected)) < 1e-4:
        return "You returned the mean KL itself; the score is its exponential."
    m0 = p.mean(0, keepdim=True)
    kl = torch.where(p > 0, p * (p / m0).log(), torch.zeros_like(p)).sum(1)  # (N,) one KL per sample
    if abs(received - float(kl.exp().mean())) < 1e-4 * max(1.0, abs(received)):
        return (
            "You took the mean of the exponentials, mean_i exp(KL_i). The score is the exponential "
            "of the mean, exp(mean_i KL_i): average the KL divergences first, then exponentiate "
            "(the two differ whenever the samples' KLs differ)."
        )
    m = p.mean(0, keepdim=True)
    wrong = float(
        torch.where(m > 0, m * (m / p.clamp_min(1e-300)).log(), torch.zeros_like(m))
        .sum(1)
        .mean()
        .exp()
    )
    if abs(received - wrong) < 1e-4:
        return "The KL is the wrong way round: KL(p(y|x) || p(y)), conditional first."
    return None


inception_score = Exercise(
    "inception_score",
    title="An Inception-Score-like number",
    reference=inception_score_reference,
    cases=_is_cases,
    diagnose=_is_diagnose,
    rtol=1e-5,
    atol=1e-6,
    hints=[
        "p(y) is the average of the rows of probs (keepdim=True to broadcast).",
        "Per row: KL = sum_k p_k log(p_k / p(y)_k) (0 where p_k = 0); average over rows; exp; return a float.",
    ],
)


# ------------------------------------------------------------------ 6. spot the bug
BUGGY_TRAIN_STEP = '''
def train_step(G, D, opt_g, opt_d, real):
    """One GAN step: update D once, then G once. Returns (d_loss, g_loss) as floats."""
    n = len(real)
    ones, zeros = torch.ones(n), torch.zeros(n)
    bce = F.binary_cross_entropy_with_logits
    # ---- discriminator step: real -> 1, fake -> 0
    fake = G(z)
    z = torch.randn(n, G.z_dim)
    d_loss = bce(D(real), ones) + bce(D(fake), zeros)
    d_loss.backward()
    opt_d.step()
    # ---- generator step: make D say "real"
    opt_g.zero_grad()
    g_loss = bce(D(fake), zeros)
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()
'''


def train_step_reference(G, D, opt_g, opt_d, real):
    """One GAN step: update D once, then G once. Returns (d_loss, g_loss) as floats."""
    n = len(real)
    ones, zeros = torch.ones(n), torch.zeros(n)
    bce = F.binary_cross_entropy_with_logits
    # ---- discriminator step: real -> 1, fake -> 0
    z = torch.randn(n, G.z_dim)  # fix 1: draw the noise before using it
    fake = G(z)
    opt_d.zero_grad()  # fix 3: clear D's old gradients before its backward
    d_loss = bce(D(real), ones) + bce(
        D(fake.detach()), zeros
    )  # fix 2: detach, D's loss must not reach G
    d_loss.backward()
    opt_d.step()
    # ---- generator step: make D say "real"
    opt_g.zero_grad()
    g_loss = bce(D(fake), ones)  # fix 4: the generator's target is "real" (ones)
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


class _CheckG(nn.Module):
    """A generator whose output ignores z (so the check does not depend on the noise drawn)."""

    def __init__(self):
        super().__init__()
        self.z_dim = 3
        self.lin = nn.Linear(3, 2)
        self.mu = nn.Parameter(torch.tensor([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2], [0.2, 0.2]]))

    def forward(self, z):
        n = len(z)
        return self.mu.repeat((n + 3) // 4, 1)[:n] + 0.0 * self.lin(z)  # (N, 2)


def _check_setup():
    torch.manual_seed(7)
    G = _CheckG()
    D = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    real = torch.tensor(
        [
            [1.0, 1.0],
            [1.2, 0.8],
            [0.9, 1.1],
            [1.1, 1.0],
            [1.0, 0.9],
            [0.8, 1.2],
            [1.3, 1.1],
            [0.7, 0.9],
        ]
    )
    for p in D.parameters():
        p.grad = torch.full_like(p, 50.0)  # stale gradients left by the previous G step
    for p in G.parameters():
        p.grad = torch.full_like(p, 50.0)  # and by the previous D step if it leaked
    opt_g = torch.optim.SGD(G.parameters(), lr=0.05)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.05)
    return G, D, opt_g, opt_d, real


def _same_ast(fn, source: str) -> bool:
    try:
        mine = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return False
    theirs = ast.parse(textwrap.dedent(source)).body[0]
    if not isinstance(mine, ast.FunctionDef):
        return False
    return [ast.dump(s) for s in mine.body] == [ast.dump(s) for s in theirs.body]


def _flat(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _spot_judge(answer):
    if _same_ast(answer, BUGGY_TRAIN_STEP):
        raise NotAttempted("the buggy code is unchanged")
    G, D, opt_g, opt_d, real = _check_setup()
    G_ref, D_ref, G_init = copy.deepcopy(G), copy.deepcopy(D), copy.deepcopy(G)
    g0, d0 = _flat(G), _flat(D)
    opt_g_ref = torch.optim.SGD(G_ref.parameters(), lr=0.05)
    opt_d_ref = torch.optim.SGD(D_ref.parameters(), lr=0.05)
    expected = train_step_reference(G_ref, D_ref, opt_g_ref, opt_d_ref, real.clone())
    arrivals = []
    for p in G.parameters():
        p.register_hook(lambda grad: arrivals.append(1))
    try:
        received = call_learner(answer, G, D, opt_g, opt_d, real.clone(), name="train_step")
    except LearnerError as exc:
        text = str(exc.exc)
        if isinstance(exc.exc, NameError | UnboundLocalError):
            raise Incorrect(
                f"Your code raised {exc}. A name is used before it is defined: the noise z must be drawn "
                "(z = torch.randn(n, G.z_dim)) before G(z) is called."
            ) from None
        if "backward through the graph a second time" in text:
            raise Incorrect(
                "Your code raised 'Trying to backward through the graph a second time'. The D loss's backward "
                "went all the way into G and freed G's graph. In the D step, give D fake.detach(): "
                "the D step must not backpropagate into G."
            ) from None
        raise
    n_params = len(list(G.parameters()))
    if len(arrivals) > n_params:
        raise Incorrect(
            "G received gradients twice in one step: the D loss backpropagated into G. "
            "In the D step give D fake.detach() (the D step must not touch G)."
        )
    if len(arrivals) < n_params:
        raise Incorrect(
            "G received no gradient in the generator step: did g_loss.backward() run on D(G(z))?"
        )
    d_ref, d_new = _flat(D_ref), _flat(D)
    half = d0 + 0.5 * (d_ref - d0)  # a D loss averaged over real and fake together is fine too
    if not (
        _close(d_new, d_ref, rtol=1e-4, atol=1e-5) or _close(d_new, half, rtol=1e-4, atol=1e-5)
    ):
        if torch.equal(d_new, d0):
            raise Incorrect(
                "D did not change: call opt_d.step() after d_loss.backward() (and zero_grad before backward, not after)."
            )
        if (d_new - d_ref).abs().max() > 0.5:
            raise Incorrect(
                "D's update includes stale gradients from before this step (they accumulate in .grad). "
                "Call opt_d.zero_grad() before d_loss.backward()."
            )
        raise Incorrect(
            "D's update differs from a correct D step: the D loss is BCE(D(real), 1) + BCE(D(fake), 0)."
        )
    # the G step's expected result, through the D the learner's D step produced
    G_exp, D_now = copy.deepcopy(G_init), copy.deepcopy(D)
    G_exp.zero_grad(set_to_none=True)
    opt_exp = torch.optim.SGD(G_exp.parameters(), lr=0.05)
    fake = G_exp(torch.zeros(len(real), G_exp.z_dim))
    g_loss_exp = F.binary_cross_entropy_with_logits(D_now(fake), torch.ones(len(real)))
    g_loss_exp.backward()
    opt_exp.step()
    g_ref, g_new = _flat(G_exp), _flat(G)
    if not _close(g_new, g_ref, rtol=1e-4, atol=1e-5):
        step_ref, step_new = g_ref - g0, g_new - g0
        if torch.dot(step_ref, step_new) < 0:
            raise Incorrect(
                "G moved the wrong way: it is being trained to make D say 'fake'. "
                "The generator's loss uses the label 'real' (ones): bce(D(fake), ones)."
            )
        if (g_new - g_ref).abs().max() > 0.5:
            raise Incorrect(
                "G's update includes stale gradients: call opt_g.zero_grad() before g_loss.backward()."
            )
        raise Incorrect("G's update differs from a correct G step: the G loss is BCE(D(G(z)), 1).")
    if not (isinstance(received, tuple | list) and len(received) == 2):
        raise Incorrect(f"Return (d_loss, g_loss) as two floats; received {received!r}.")
    if not all(isinstance(v, float) for v in received):
        raise Incorrect(
            "Return the losses as Python floats with .item(), so no graph is kept alive."
        )
    d_ok = min(abs(received[0] - expected[0]), abs(received[0] - expected[0] / 2)) < 1e-4
    if not (d_ok and abs(received[1] - g_loss_exp.item()) < 1e-4):
        raise Incorrect(
            f"The networks are right but the returned losses are not: expected about ({expected[0]:.4f}, "
            f"{g_loss_exp.item():.4f}), received ({received[0]:.4f}, {received[1]:.4f})."
        )


class _SpotTheBug(Exercise):
    """An exercise whose 'not attempted' verdict says the code is still the buggy one."""

    def evaluate(self, answer):
        verdict = super().evaluate(answer)
        if verdict.outcome == "not attempted" and callable(answer):
            verdict.message = (
                "This is still the buggy code: find the four bugs in train_step, fix them in the cell, "
                "run it, then check again."
            )
        return verdict


spot_the_bug = _SpotTheBug(
    "spot_the_bug",
    title="Spot the bugs in a GAN training step",
    judge=_spot_judge,
    expects_function=True,
    solution=inspect.getsource(train_step_reference),
    hints=[
        "Four bugs: one name used too early, one missing detach(), one missing zero_grad(), one wrong label.",
        "Read the D step: which tensor does D's loss flow into, and what is still in D's .grad from the last G step? "
        "Read the G step: which answer does G want D to give?",
    ],
)
