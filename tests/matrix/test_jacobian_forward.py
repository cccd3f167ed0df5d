"""Forward-mode Jacobians and Hessians: the textbook results of issue 16, and a seeded random
corpus of column-valued expressions, each checked here against central differences computed
by this test (independently of the check the engine runs itself)."""

from __future__ import annotations

import numpy as np
import pytest

from derivekit.errors import DerivekitError, ShapeError, UnsupportedError
from derivekit.matrix.evaluate import compile_node
from derivekit.matrix.jacobian import matrix_hessian, matrix_jacobian

N, D = 6, 3
SHAPES = {"z": (4, 1), "x": (4, 1), "X": (N, D), "w": (D, 1), "y": (N, 1), "A": (4, 4),
          "W": (4, 4), "b": (4, 1)}


def _sigmoid(t):
    return 1 / (1 + np.exp(-t))


def _softmax(t):
    e = np.exp(t - t.max())
    return e / e.sum()


def _env(names, seed=0):
    rng = np.random.default_rng(seed)
    return {n: rng.standard_normal(SHAPES[n]) for n in names}


def _central(fn, env, wrt, h=1e-6):
    """∂f/∂wrtᵀ by central differences, one column per entry of wrt."""
    base = env[wrt]
    cols = []
    for j in range(base.shape[0]):
        up, down = dict(env), dict(env)
        up[wrt] = base.copy()
        up[wrt][j, 0] += h
        down[wrt] = base.copy()
        down[wrt][j, 0] -= h
        cols.append((np.asarray(fn(up)) - np.asarray(fn(down))).reshape(-1, 1) / (2 * h))
    return np.hstack(cols)


def _assert_matches(result, fn, wrt, names):
    for seed in (0, 1, 2):
        env = _env(names, seed)
        got = result.evaluate(env)
        want = _central(fn, env, wrt)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("source", ["softmax(z)", "exp(z)/sum(exp(z))", "np.exp(z) / np.sum(np.exp(z))"])
def test_softmax_jacobian_is_diag_s_minus_ssT(source):
    j = matrix_jacobian(source, "z", SHAPES)
    assert j.result.to_text() == "diag(softmax(z)) − softmax(z)softmax(z)ᵀ"
    for seed in (0, 1):
        z = _env(["z"], seed)["z"]
        s = _softmax(z)
        np.testing.assert_allclose(j.evaluate({"z": z}), np.diagflat(s) - s @ s.T, atol=1e-12)
    _assert_matches(j, lambda e: _softmax(e["z"]), "z", ["z"])


def test_softmax_spelled_as_a_quotient_shows_the_move():
    text = matrix_jacobian("exp(z)/sum(exp(z))", "z", SHAPES).to_text()
    assert "softmax: exp(z) / sum(exp(z)) → softmax(z)" in text


def test_logsumexp_hessian_is_diag_s_minus_ssT():
    h = matrix_hessian("logsumexp(x)", "x", SHAPES)
    assert h.result.to_text() == "diag(softmax(x)) − softmax(x)softmax(x)ᵀ"
    assert h.gradient is not None and "softmax(x)" in h.to_text()
    _assert_matches(h, lambda e: _softmax(e["x"]), "x", ["x"])


LOGISTIC = ["sum(log(1 + exp(X@w))) - y.T@X@w", "sum(softplus(X@w)) - y.T@X@w",
            "sum(np.log(1 + np.exp(X@w))) - y.T@(X@w)"]


@pytest.mark.parametrize("loss", LOGISTIC)
def test_logistic_hessian_is_XT_diag_sigma_prime_X(loss):
    h = matrix_hessian(loss, "w", SHAPES)
    assert h.result.to_text() == "Xᵀ·diag(σ(Xw) ⊙ (𝟙 − σ(Xw)))X"
    assert "gradient  ∇L = Xᵀσ(Xw) − Xᵀy" in h.to_text() or "∇L = Xᵀ(σ(Xw) − y)" in h.to_text()
    for seed in (0, 1):
        e = _env(["X", "w", "y"], seed)
        s = _sigmoid(e["X"] @ e["w"])
        np.testing.assert_allclose(h.evaluate(e), e["X"].T @ np.diagflat(s * (1 - s)) @ e["X"],
                                   atol=1e-12)

    def grad(e):
        return e["X"].T @ (_sigmoid(e["X"] @ e["w"]) - e["y"])
    _assert_matches(h, grad, "w", ["X", "w", "y"])


def test_logistic_hessian_names_the_logistic_move():
    text = matrix_hessian(LOGISTIC[0], "w", SHAPES).to_text()
    assert "logistic: (𝟙 / (1 + exp(Xw))) ⊙ exp(Xw) → σ(Xw)" in text


@pytest.mark.parametrize("source, axis_rule", [
    ("softmax(z, axis=0)", lambda z: _softmax(z)),
    ("logsumexp(z, axis=0) * z", lambda z: np.log(np.exp(z).sum()) * z),
    ("log_softmax(z)", lambda z: z - np.log(np.exp(z).sum())),
    ("logsumexp(z) * z", lambda z: np.log(np.exp(z).sum()) * z),
])
def test_normalising_ops_follow_their_axis(source, axis_rule):
    j = matrix_jacobian(source, "z", SHAPES)
    _assert_matches(j, lambda e: axis_rule(e["z"]), "z", ["z"])


def _random_column(rng, depth):
    """A random column-valued expression of x (4×1) in the matrix language, and the same in
    NumPy as a function of the environment."""
    leaves = [("x", lambda e: e["x"]), ("W@x", lambda e: e["W"] @ e["x"]),
              ("(x + b)", lambda e: e["x"] + e["b"])]
    if depth == 0:
        return leaves[rng.integers(len(leaves))]
    kind = rng.integers(12)
    a_text, a = _random_column(rng, depth - 1)
    if kind == 0:
        return f"sigmoid({a_text})", lambda e: _sigmoid(a(e))
    if kind == 1:
        return f"tanh({a_text})", lambda e: np.tanh(a(e))
    if kind == 2:
        return f"softplus({a_text})", lambda e: np.log1p(np.exp(a(e)))
    if kind == 3:
        return f"softmax({a_text})", lambda e: _softmax(a(e))
    if kind == 4:
        return f"log_softmax({a_text})", lambda e: np.log(_softmax(a(e)))
    if kind == 5:
        return f"(logsumexp({a_text}) * x)", lambda e: np.log(np.exp(a(e)).sum()) * e["x"]
    if kind == 6:
        return f"sqrt(1 + {a_text}**2)", lambda e: np.sqrt(1 + a(e) ** 2)
    if kind == 7:
        return f"log(2 + sigmoid({a_text}))", lambda e: np.log(2 + _sigmoid(a(e)))
    if kind == 8:
        return f"({a_text} / (1 + exp({a_text})))", lambda e: a(e) / (1 + np.exp(a(e)))
    if kind == 9:
        return f"({a_text})**3", lambda e: a(e) ** 3
    if kind == 10:
        b_text, b = _random_column(rng, depth - 1)
        return f"(({a_text}) * ({b_text}))", lambda e: a(e) * b(e)
    return f"({a_text} / mean(exp({a_text})))", lambda e: a(e) / np.mean(np.exp(a(e)))


@pytest.mark.parametrize("seed", range(40))
def test_random_forward_corpus_matches_central_differences(seed):
    rng = np.random.default_rng(seed)
    text, fn = _random_column(rng, 1 + seed % 3)
    j = matrix_jacobian(text, "x", SHAPES)
    _assert_matches(j, fn, "x", ["x", "W", "b"])


@pytest.mark.parametrize("seed", range(12))
def test_random_hessians_match_central_differences_of_the_gradient(seed):
    rng = np.random.default_rng(100 + seed)
    text, fn = _random_column(rng, 1 + seed % 2)
    loss = f"sum({text})"
    h = matrix_hessian(loss, "x", SHAPES)
    grad = compile_node(h.gradient)
    _assert_matches(h, lambda e: grad(e), "x", ["x", "W", "b"])
    # and the gradient itself against differences of the loss
    loss_fn = compile_node(h.expr)
    for s in (0, 1):
        e = _env(["x", "W", "b"], s)
        np.testing.assert_allclose(grad(e), _central(loss_fn, e, "x").T, rtol=1e-5, atol=1e-6)


def test_jacobian_of_diag_times_vector():
    j = matrix_jacobian("diag(b)@x", "b", SHAPES)
    assert j.result.to_text() == "diag(x)"


KRON = [
    # (loss, shapes, Kronecker form, ∂²L/∂vec(X)∂vec(X)ᵀ in NumPy, column-major vec)
    ("trace(X.T@A@X)", {"X": (3, 2), "A": (3, 3)}, "I ⊗ (A + Aᵀ)",
     lambda e: np.kron(np.eye(2), e["A"] + e["A"].T)),
    ("norm2(X@B)", {"X": (3, 2), "B": (2, 2)}, "2(BBᵀ ⊗ I)",
     lambda e: 2 * np.kron(e["B"] @ e["B"].T, np.eye(3))),
    ("norm2(A@X@B - C)", {"X": (3, 2), "A": (4, 3), "B": (2, 2), "C": (4, 2)}, "2(BBᵀ ⊗ AᵀA)",
     lambda e: 2 * np.kron(e["B"] @ e["B"].T, e["A"].T @ e["A"])),
    ("trace(X.T@X)", {"X": (3, 2)}, "2I", lambda e: 2 * np.eye(6)),
]


@pytest.mark.parametrize("loss, shapes, text, closed", KRON)
def test_hessian_by_a_matrix_is_a_kronecker_form(loss, shapes, text, closed):
    h = matrix_hessian(loss, "X", shapes)
    assert h.result.to_text() == text
    assert r"\operatorname{vec}(\mathbf{X})" in h.to_latex()
    rng = np.random.default_rng(3)
    e = {n: rng.standard_normal(s) for n, s in shapes.items()}
    np.testing.assert_allclose(h.evaluate(e), closed(e), atol=1e-12)
    # independently: central differences of the NumPy gradient, X entries in vec order
    grad = compile_node(h.gradient)
    r, c = shapes["X"]
    cols = []
    for k in range(r * c):
        up, down = dict(e), dict(e)
        up["X"], down["X"] = e["X"].copy(), e["X"].copy()
        up["X"][k % r, k // r] += 1e-6
        down["X"][k % r, k // r] -= 1e-6
        cols.append((grad(up) - grad(down)).flatten(order="F") / 2e-6)
    np.testing.assert_allclose(h.evaluate(e), np.column_stack(cols), rtol=1e-5, atol=1e-6)


def test_hessian_by_a_matrix_without_a_kronecker_form_is_refused_naming_vec():
    with pytest.raises(UnsupportedError) as err:
        matrix_hessian("logdet(X)", "X", {"X": (3, 3)})
    message = str(err.value)
    assert "∂²L/∂vec(X)∂vec(X)ᵀ" in message and "declare X as 9×1" in message


def test_jacobian_refusals_are_clear():
    with pytest.raises(DerivekitError):
        matrix_jacobian("W@x", "W", SHAPES)
    with pytest.raises(ShapeError):
        matrix_jacobian("diag(x.T)@x", "x", SHAPES)


def test_abs_forward_and_reverse():
    j = matrix_jacobian("abs(W@x) * x", "x", SHAPES)
    _assert_matches(j, lambda e: np.abs(e["W"] @ e["x"]) * e["x"], "x", ["W", "x"])
    import derivekit as dk
    m = dk.matrix_gradient("sum(abs(W@x - b))", wrt="W", shapes=SHAPES)
    assert m.result.to_text() == "sign(Wx − b)xᵀ" and m.check.ok
    assert dk.verify_backprop("sum(abs(W@x - b))", m.result.to_latex(), "W", SHAPES).ok
