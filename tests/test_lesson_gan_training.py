"""Exercises of notebook 04: every solution passes, typical wrong answers fail helpfully."""

from __future__ import annotations

import importlib.util

import torch
import torch.nn.functional as F

from course_utils.lessons import gan_training as ex

EXERCISES = [
    ex.d_optimum,
    ex.js_divergence,
    ex.generator_loss,
    ex.gradient_penalty,
    ex.inception_score,
    ex.spot_the_bug,
]


def _verdict(exercise, answer):
    v = exercise.evaluate(answer)
    assert v.outcome != "checker error", v.message
    return v


def test_references_pass():
    answers = {
        "d_optimum": ex.d_optimum_reference,
        "js_divergence": ex.js_divergence_reference,
        "generator_loss": ex.generator_loss_reference,
        "gradient_penalty": ex.gradient_penalty_reference,
        "inception_score": ex.inception_score_reference,
        "spot_the_bug": ex.train_step_reference,
    }
    assert len(EXERCISES) >= 5
    for exercise in EXERCISES:
        v = exercise.evaluate(answers[exercise.name])
        assert v.correct, (exercise.name, v.message)


def test_blanks_are_not_attempted():
    def blank(*args): ...

    for exercise in EXERCISES:
        assert exercise.evaluate(...).outcome == "not attempted"
        assert exercise.evaluate(blank).outcome == "not attempted", exercise.name


def test_crashing_answers_are_reported_not_raised():
    def crash(*args):
        raise RuntimeError("boom")

    for exercise in EXERCISES:
        v = _verdict(exercise, crash)
        assert v.outcome == "incorrect" and "boom" in v.message, (exercise.name, v.message)


def test_d_optimum_wrong_answers():
    v = _verdict(ex.d_optimum, lambda p_data, p_g: p_g / (p_data + p_g))
    assert not v.correct and "probability of *fake*" in v.message


def test_js_divergence_wrong_answers():
    def bits(p, q):
        return ex.js_divergence_reference(p, q) / torch.log(torch.tensor(2.0, dtype=p.dtype))

    assert "bits" in _verdict(ex.js_divergence, bits).message

    def naive(p, q):  # 0 log 0 -> nan
        m = (p + q) / 2
        return 0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum()

    assert "NaN" in _verdict(ex.js_divergence, naive).message

    def double(p, q):
        return 2 * ex.js_divergence_reference(p, q)

    assert "Twice" in _verdict(ex.js_divergence, double).message


def test_generator_loss_wrong_answers():
    def sigmoid_then_log(a):
        return -torch.log(torch.sigmoid(a)).mean()

    assert "Not finite" in _verdict(ex.generator_loss, sigmoid_then_log).message

    def saturating(a):
        return -F.binary_cross_entropy_with_logits(a, torch.zeros_like(a))

    assert "saturating" in _verdict(ex.generator_loss, saturating).message

    def flipped(a):
        return F.logsigmoid(a).mean()

    assert "sign" in _verdict(ex.generator_loss, flipped).message


def test_gradient_penalty_wrong_answers():
    def whole_batch(critic, real, fake, alpha):
        a = alpha.view(-1, *([1] * (real.dim() - 1)))
        x = (a * real + (1 - a) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        return (g.norm() - 1) ** 2

    assert "whole batch" in _verdict(ex.gradient_penalty, whole_batch).message

    def no_graph(critic, real, fake, alpha):
        a = alpha.view(-1, *([1] * (real.dim() - 1)))
        x = (a * real + (1 - a) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).sum(), x)
        return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()

    assert "create_graph=True" in _verdict(ex.gradient_penalty, no_graph).message

    def first_dim_only(critic, real, fake, alpha):  # forgets to flatten: norm over dim 1 only
        a = alpha.view(-1, *([1] * (real.dim() - 1)))
        x = (a * real + (1 - a) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        return ((g.norm(dim=1) - 1) ** 2).mean()

    v = _verdict(ex.gradient_penalty, first_dim_only)
    assert not v.correct and "images" in v.message  # right on 2D points, wrong on images


def test_inception_score_wrong_answers():
    def no_exp(p):
        m = p.mean(0, keepdim=True)
        return float(torch.where(p > 0, p * (p / m).log(), torch.zeros_like(p)).sum(1).mean())

    assert "exponential" in _verdict(ex.inception_score, no_exp).message


# ------------------------------------------------------------------ spot the bug
# The planted bugs, each fixed alone (names and bodies as a learner would write them).
def only_bug_noise(G, D, opt_g, opt_d, real):
    n = len(real)
    ones, zeros = torch.ones(n), torch.zeros(n)
    bce = F.binary_cross_entropy_with_logits
    fake = G(z)  # noqa: F821 (the bug)
    z = torch.randn(n, G.z_dim)  # noqa: F841
    opt_d.zero_grad()
    d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = bce(D(fake), ones)
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def only_bug_detach(G, D, opt_g, opt_d, real):
    n = len(real)
    ones, zeros = torch.ones(n), torch.zeros(n)
    bce = F.binary_cross_entropy_with_logits
    z = torch.randn(n, G.z_dim)
    fake = G(z)
    opt_d.zero_grad()
    d_loss = bce(D(real), ones) + bce(D(fake), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = bce(D(fake), ones)
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def only_bug_detach_fresh_fake(G, D, opt_g, opt_d, real):
    """No detach, but a fresh fake in the G step: no crash, G gets gradients twice."""
    n = len(real)
    ones, zeros = torch.ones(n), torch.zeros(n)
    bce = F.binary_cross_entropy_with_logits
    z = torch.randn(n, G.z_dim)
    opt_d.zero_grad()
    d_loss = bce(D(real), ones) + bce(D(G(z)), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = bce(D(G(z)), ones)
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def only_bug_zero_grad(G, D, opt_g, opt_d, real):
    n = len(real)
    ones, zeros = torch.ones(n), torch.zeros(n)
    bce = F.binary_cross_entropy_with_logits
    z = torch.randn(n, G.z_dim)
    fake = G(z)
    d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = bce(D(fake), ones)
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def only_bug_labels(G, D, opt_g, opt_d, real):
    n = len(real)
    ones, zeros = torch.ones(n), torch.zeros(n)
    bce = F.binary_cross_entropy_with_logits
    z = torch.randn(n, G.z_dim)
    fake = G(z)
    opt_d.zero_grad()
    d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = bce(D(fake), zeros)
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def fixed_with_requires_grad_toggle(G, D, opt_g, opt_d, real):
    """A different but correct style: no_grad fakes, D frozen in the G step."""
    n = len(real)
    z = torch.randn(n, G.z_dim)
    with torch.no_grad():
        fake = G(z)
    opt_d.zero_grad()
    d_loss = F.binary_cross_entropy_with_logits(
        torch.cat([D(real), D(fake)]), torch.cat([torch.ones(n), torch.zeros(n)])
    )
    d_loss.backward()
    opt_d.step()
    D.requires_grad_(False)
    opt_g.zero_grad()
    g_loss = -F.logsigmoid(D(G(torch.randn(n, G.z_dim)))).mean()
    g_loss.backward()
    opt_g.step()
    D.requires_grad_(True)
    return d_loss.item(), g_loss.item()


def _load_buggy(tmp_path, source):
    """Define the function from a real file, as a notebook cell does (inspect can read it)."""
    path = tmp_path / "learner_cell.py"
    path.write_text("import torch\nimport torch.nn.functional as F\n" + source)
    spec = importlib.util.spec_from_file_location("learner_cell", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.train_step


def test_spot_the_bug_unchanged_code_is_not_attempted(tmp_path):
    v = ex.spot_the_bug.evaluate(_load_buggy(tmp_path, ex.BUGGY_TRAIN_STEP))
    assert v.outcome == "not attempted" and "still the buggy code" in v.message
    # comments or blank lines added do not count as a fix; a real edit is judged
    commented = ex.BUGGY_TRAIN_STEP.replace("    fake = G(z)\n", "    # hmm\n    fake = G(z)\n")
    assert ex.spot_the_bug.evaluate(_load_buggy(tmp_path, commented)).outcome == "not attempted"
    edited = ex.BUGGY_TRAIN_STEP.replace(
        "bce(D(fake), zeros)\n    g_loss", "bce(D(fake), ones)\n    g_loss"
    )
    assert ex.spot_the_bug.evaluate(_load_buggy(tmp_path, edited)).outcome == "incorrect"


def test_spot_the_bug_catches_each_bug_separately():
    expected = {
        only_bug_noise: "before G(z)",
        only_bug_detach: "detach",
        only_bug_detach_fresh_fake: "detach",
        only_bug_zero_grad: "opt_d.zero_grad()",
        only_bug_labels: "wrong way",
    }
    for fn, phrase in expected.items():
        v = _verdict(ex.spot_the_bug, fn)
        assert v.outcome == "incorrect", (fn.__name__, v.message)
        assert phrase in v.message, (fn.__name__, v.message)


def test_spot_the_bug_accepts_other_correct_styles():
    v = ex.spot_the_bug.evaluate(fixed_with_requires_grad_toggle)
    assert v.correct, v.message


def test_solutions_and_hints_exist():
    for exercise in EXERCISES:
        assert exercise.solution_text().strip()
        assert len(exercise.hints) >= 2


def test_generator_loss_overflow_is_called_overflow():
    def log1p_exp(a):
        return torch.log1p(torch.exp(-a)).mean()

    v = _verdict(ex.generator_loss, log1p_exp)
    assert not v.correct and "overflow" in v.message, v.message


def test_inception_score_mean_of_exp_is_diagnosed():
    def mean_of_exp(p):
        m = p.mean(0, keepdim=True)
        return float(torch.where(p > 0, p * (p / m).log(), torch.zeros_like(p)).sum(1).exp().mean())

    v = _verdict(ex.inception_score, mean_of_exp)
    assert not v.correct and "mean of the exponentials" in v.message, v.message


def test_gradient_penalty_single_alpha_is_diagnosed():
    def one_alpha(critic, real, fake, alpha):
        x = (alpha[0] * real + (1 - alpha[0]) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()

    v = _verdict(ex.gradient_penalty, one_alpha)
    assert not v.correct and "one alpha for the whole batch" in v.message, v.message
