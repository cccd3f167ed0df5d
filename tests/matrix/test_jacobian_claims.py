"""Claimed Jacobians and Hessians (``verify_backprop(..., kind=)``, ``check-backprop
--jacobian/--hessian``): the textbook claims, the usual slips and their diagnoses, shapes, and
a seeded random corpus where the derived matrix is compared with torch.autograd and then read
back as a claim (right), and perturbed (wrong)."""

from __future__ import annotations

import numpy as np
import pytest

import derivekit as dk
from derivekit.errors import DerivekitError
from derivekit.matrix.jacobian import matrix_hessian, matrix_jacobian

torch = pytest.importorskip("torch")
F = torch.nn.functional

SHAPES = {"z": (4, 1), "x": (4, 1), "X": (5, 3), "w": (3, 1), "y": (5, 1), "A": (4, 4),
          "W": (4, 4), "b": (4, 1)}
LOGISTIC = ["sum(log(1+exp(X@w))) - y.T@X@w", "sum(softplus(X@w)) - y.T@X@w"]
LOGISTIC_HESSIAN = "X.T@diag(sigmoid(X@w)*(1-sigmoid(X@w)))@X"
SOFTMAX_J = "diag(softmax(z)) - softmax(z)@softmax(z).T"


def _jac(expr, claim, **kw):
    return dk.verify_backprop(expr, claim, "z", SHAPES, kind="jacobian", **kw)


# --- the textbook claims ---------------------------------------------------------------------

@pytest.mark.parametrize("claim", [
    SOFTMAX_J, "s = softmax(z); diag(s) - s@s.T",
    (r"\mathbf{s} = \operatorname{softmax}(\mathbf{z}); "
     r"\operatorname{diag}(\mathbf{s}) - \mathbf{s}\mathbf{s}^\top"),
])
def test_softmax_jacobian_claim_is_right(claim):
    v = _jac("softmax(z)", claim)
    assert v.ok and v.checked and v.kind == "jacobian" and v.max_rel_error <= 1e-7


def test_logsumexp_hessian_claim_is_right():
    v = dk.verify_backprop("logsumexp(x)", "diag(softmax(x)) - softmax(x)@softmax(x).T", "x",
                           SHAPES, kind="hessian")
    assert v.ok and v.kind == "hessian"


@pytest.mark.parametrize("loss", LOGISTIC + ["-sum(log(sigmoid(X@w))) - y.T@X@w + sum(X@w)"])
def test_logistic_hessian_claim_is_right_in_every_spelling(loss):
    assert dk.verify_backprop(loss, LOGISTIC_HESSIAN, "w", SHAPES, kind="hessian").ok


# --- slips and their diagnoses ---------------------------------------------------------------

@pytest.mark.parametrize("claim, cls, words", [
    ("diag(softmax(z))", "missing_term", "the term −softmax(z)softmax(z)ᵀ of the Jacobian is missing"),
    ("diag(softmax(z)) + softmax(z)@softmax(z).T", "term_sign", "has the wrong sign"),
    ("softmax(z)@softmax(z).T - diag(softmax(z))", "wrong_sign", "negative of yours"),
    ("2*(diag(softmax(z)) - softmax(z)@softmax(z).T)", "constant_off", "half of yours"),
])
def test_wrong_softmax_jacobians_are_diagnosed(claim, cls, words):
    v = _jac("softmax(z)", claim)
    assert not v.ok and v.checked and v.error_class == cls and words in v.diagnosis, v.diagnosis
    assert v.counterexample is not None


def test_a_transposed_jacobian_is_named():
    v = dk.verify_backprop("W@z", "W.T", "z", SHAPES, kind="jacobian")
    assert not v.ok and v.error_class == "transposed_jacobian"
    assert "denominator layout" in v.diagnosis


def test_a_jacobian_in_the_wrong_shape_is_a_clear_wrong_verdict():
    v = dk.verify_backprop("sigmoid(X@w)", "X.T@diag(sigmoid(X@w)*(1-sigmoid(X@w)))", "w", SHAPES,
                           kind="jacobian")
    assert not v.ok and v.checked and v.error_class == "transposed_jacobian"
    assert "the claim is 3×5, but the Jacobian ∂f/∂wᵀ of the 5×1 f by the 3×1 w is 5×3" in v.diagnosis
    v = _jac("softmax(z)", "softmax(z)")
    assert not v.ok and v.error_class == "shape" and "is 4×4" in v.diagnosis


def test_a_hessian_of_the_wrong_shape_says_its_shape():
    v = dk.verify_backprop("x.T@A@x", "A@x", "x", SHAPES, kind="hessian")
    assert not v.ok and "the Hessian of a scalar by the 4×1 x is 4×4" in v.diagnosis


def test_activation_instead_of_its_derivative_is_found_by_the_edit_search():
    v = dk.verify_backprop(LOGISTIC[0], "X.T@diag(sigmoid(X@w))@X", "w", SHAPES, kind="hessian")
    assert not v.ok and v.error_class == "activation_instead_of_derivative"
    assert v.fix is not None and v.fix.to_text() == "Xᵀ·diag(σ′(Xw))X"


def test_symmetric_only_hessian_names_the_declaration():
    v = dk.verify_backprop("x.T@A@x", "2*A", "x", SHAPES, kind="hessian")
    assert not v.ok and v.error_class == "assumed_symmetric" and '--assume "A: symmetric"' in v.diagnosis
    v = dk.verify_backprop("x.T@A@x", "2*A", "x", SHAPES, kind="hessian", assume="A: symmetric")
    assert v.ok and "assuming A is symmetric" in v.diagnosis


def test_a_claim_that_is_never_finite_cannot_pass():
    v = dk.verify_backprop("log(x)", "diag(log(-x))", "x", SHAPES, kind="jacobian")
    assert not v.ok and not v.checked and v.status == "cannot check"
    v = dk.verify_backprop("log(x)", "diag(1/x) + 0*diag(log(-x))", "x", SHAPES, kind="jacobian")
    assert not v.ok and not v.checked


def test_unknown_kind_is_refused():
    with pytest.raises(DerivekitError) as info:
        dk.verify_backprop("x.T@x", "2*x", "x", SHAPES, kind="hessain")
    assert "jacobian" in info.value.hint


def test_gradient_claims_are_unchanged_by_the_kind_keyword():
    v = dk.verify_backprop("x.T@A@x", "(A + A.T)@x", "x", SHAPES)
    assert v.ok and v.kind == "gradient" and "∂L/∂x" in v.to_text()


# --- a generated corpus against torch.autograd -----------------------------------------------

def _random_column(rng, depth):
    """A random column-valued expression of x in the matrix language and in torch."""
    leaves = [("x", lambda e: e["x"]), ("W@x", lambda e: e["W"] @ e["x"]),
              ("(x + b)", lambda e: e["x"] + e["b"])]
    if depth == 0:
        return leaves[rng.integers(len(leaves))]
    kind = rng.integers(9)
    a_text, a = _random_column(rng, depth - 1)
    if kind == 0:
        return f"sigmoid({a_text})", lambda e: torch.sigmoid(a(e))
    if kind == 1:
        return f"tanh({a_text})", lambda e: torch.tanh(a(e))
    if kind == 2:
        return f"softplus({a_text})", lambda e: F.softplus(a(e))
    if kind == 3:
        return f"softmax({a_text})", lambda e: torch.softmax(a(e), dim=0)
    if kind == 4:
        return f"log_softmax({a_text})", lambda e: torch.log_softmax(a(e), dim=0)
    if kind == 5:
        return f"sqrt(1 + ({a_text})**2)", lambda e: torch.sqrt(1 + a(e) ** 2)
    if kind == 6:
        return f"(A@{a_text})", lambda e: e["A"] @ a(e)
    if kind == 7:
        b_text, b = _random_column(rng, depth - 1)
        return f"(({a_text}) * ({b_text}))", lambda e: a(e) * b(e)
    return f"({a_text})**3", lambda e: a(e) ** 3


def _env(seed):
    rng = np.random.default_rng(seed)
    return {n: rng.standard_normal(SHAPES[n]) for n in ("x", "W", "b", "A")}


def _torch(env):
    return {n: torch.tensor(v, dtype=torch.float64) for n, v in env.items()}


@pytest.mark.parametrize("seed", range(24))
def test_random_jacobians_match_torch_and_read_back_as_claims(seed):
    rng = np.random.default_rng(seed)
    text, fn = _random_column(rng, 1 + seed % 3)
    j = matrix_jacobian(text, "x", SHAPES)
    for s in (0, 1):
        env = _env(s)
        t = _torch(env)

        def f(x, t=t):
            return fn({**t, "x": x}).reshape(-1)
        want = torch.autograd.functional.jacobian(f, t["x"]).reshape(4, 4).numpy()
        np.testing.assert_allclose(j.evaluate(env), want, rtol=1e-6, atol=1e-9, err_msg=text)
    numpy_text = j.to_dict()["numpy"]
    assert dk.verify_backprop(text, numpy_text, "x", SHAPES, kind="jacobian").ok, (text, numpy_text)
    latex = j.to_latex().split(" = ", 1)[1]
    assert dk.verify_backprop(text, latex, "x", SHAPES, kind="jacobian").ok, (text, latex)
    wrong = dk.verify_backprop(text, f"2*({numpy_text})", "x", SHAPES, kind="jacobian")
    assert not wrong.ok and wrong.checked and wrong.error_class == "constant_off"
    shifted = dk.verify_backprop(text, f"({numpy_text}) + 0.5", "x", SHAPES, kind="jacobian")
    assert not shifted.ok


@pytest.mark.parametrize("seed", range(12))
def test_random_hessians_match_torch_and_read_back_as_claims(seed):
    rng = np.random.default_rng(200 + seed)
    text, fn = _random_column(rng, 1 + seed % 2)
    loss = f"sum({text})"
    h = matrix_hessian(loss, "x", SHAPES)
    for s in (0, 1):
        env = _env(s)
        t = _torch(env)
        want = torch.autograd.functional.hessian(lambda x, t=t: fn({**t, "x": x}).sum(),
                                                 t["x"]).reshape(4, 4).numpy()
        np.testing.assert_allclose(h.evaluate(env), want, rtol=1e-6, atol=1e-9, err_msg=loss)
    numpy_text = h.to_dict()["numpy"]
    assert dk.verify_backprop(loss, numpy_text, "x", SHAPES, kind="hessian").ok, (loss, numpy_text)
    shifted = dk.verify_backprop(loss, f"({numpy_text}) + 0.5", "x", SHAPES, kind="hessian")
    assert not shifted.ok and shifted.checked
    if np.abs(h.evaluate(_env(0))).max() > 1e-9:  # −0 is 0: a zero Hessian has no sign to get wrong
        wrong = dk.verify_backprop(loss, f"-({numpy_text})", "x", SHAPES, kind="hessian")
        assert not wrong.ok and wrong.error_class == "wrong_sign"


def test_logistic_hessian_matches_torch():
    rng = np.random.default_rng(5)
    env = {n: rng.standard_normal(SHAPES[n]) for n in ("X", "w", "y")}
    t = _torch(env)
    for loss in LOGISTIC:
        h = matrix_hessian(loss, "w", SHAPES)
        want = torch.autograd.functional.hessian(
            lambda w: F.softplus(t["X"] @ w).sum() - (t["y"].T @ t["X"] @ w).sum(), t["w"])
        np.testing.assert_allclose(h.evaluate(env), want.reshape(3, 3).numpy(), rtol=1e-9, atol=1e-12)


def test_a_hessian_claim_by_a_matrix_is_refused_with_what_to_do():
    with pytest.raises(DerivekitError) as info:
        dk.verify_backprop("trace(X.T@A@X)", "A + A.T", "X", {"X": (3, 2), "A": (3, 3)},
                           kind="hessian")
    assert "vec(X)" in info.value.message and "gradient" in info.value.hint
    assert matrix_hessian("trace(X.T@A@X)", "X", {"X": (3, 2), "A": (3, 3)}).to_dict()["numpy"] is None


@pytest.mark.parametrize("kind, loss, claim", [
    ("gradient", "norm2(z)", "1/0*z"),
    ("jacobian", "softmax(z)", "1/0*diag(z)"),
    ("hessian", "norm2(z)", "(1/0)*diag(z)"),
])
def test_a_constant_division_by_zero_is_a_clear_error(kind, loss, claim):
    with pytest.raises(DerivekitError) as info:
        dk.verify_backprop(loss, claim, "z", SHAPES, kind=kind)
    assert "division by zero" in info.value.message and info.value.hint


@pytest.mark.parametrize("claim, ok", [("2*I", True), ("I*2", True), ("I + I", True),
                                       ("2*I + 0", True), ("-(2*I)", False), ("I", False),
                                       ("2", False), ("0", False)])
def test_a_bare_identity_takes_the_hessians_size(claim, ok):
    """2*I is 2 on the diagonal (it was once typed 1×1 and read as a matrix of 2s)."""
    v = dk.verify_backprop("x.T@x", claim, "x", SHAPES, kind="hessian")
    assert v.ok is ok and v.checked, v.diagnosis


def test_hessian_steps_show_the_gradients_moves_then_its_own():
    text = matrix_hessian("sum(log(sigmoid(X@w)))", "w", SHAPES).to_text()
    grad_at = text.index("textbook form of the gradient")
    hess_at = text.index("textbook form of the Hessian")
    assert grad_at < text.index("sigmoid ratio:") < hess_at < text.index("σ′ written out:")
    moves = matrix_hessian("sum(log(sigmoid(X@w)))", "w", SHAPES).to_dict()["moves"]
    assert [m["of"] for m in moves] == ["gradient", "hessian"]
