"""Matrix gradients: the Matrix Cookbook identities, MLP backprop, batched forms. Each case
checks the printed matrix form and the numbers against a closed form written in NumPy."""

import numpy as np
import pytest

import derivekit as dk
from derivekit.errors import DerivekitError, ShapeError, UnsupportedError
from derivekit.matrix.evaluate import _softmax


def sig(z):
    return 1 / (1 + np.exp(-z))


def values(shapes, seed=0, invertible=(), onehot=()):
    rng = np.random.default_rng(seed)
    out = {}
    for name, (r, c) in shapes.items():
        if name in invertible:
            out[name] = np.eye(r) + 0.3 * rng.standard_normal((r, c)) / np.sqrt(r)
        elif name in onehot:
            v = np.zeros((r, c))
            v[rng.integers(0, r, c), np.arange(c)] = 1
            out[name] = v
        else:
            out[name] = rng.standard_normal((r, c))
    return out


def central_difference(loss_fn, env, wrt, h=1e-6):
    grad = np.zeros_like(env[wrt])
    for idx in np.ndindex(grad.shape):
        e = dict(env)
        up, down = env[wrt].copy(), env[wrt].copy()
        up[idx] += h
        down[idx] -= h
        e[wrt] = up
        f_up = loss_fn(**e)
        e[wrt] = down
        grad[idx] = (f_up - loss_fn(**e)) / (2 * h)
    return grad


# (loss, wrt, shapes, expected text, closed form in NumPy, loss in NumPy, special inputs)
COOKBOOK = [
    ("a.T @ x", "x", {"a": (4, 1), "x": (4, 1)}, "a",
     lambda a, x: a, lambda a, x: (a.T @ x).item(), {}),
    ("x.T @ A @ x", "x", {"A": (4, 4), "x": (4, 1)}, "(A + Aᵀ)x",
     lambda A, x: (A + A.T) @ x, lambda A, x: (x.T @ A @ x).item(), {}),
    ("trace(A @ X @ B)", "X", {"A": (3, 4), "X": (4, 5), "B": (5, 3)}, "AᵀBᵀ",
     lambda A, X, B: A.T @ B.T, lambda A, X, B: np.trace(A @ X @ B), {}),
    ("a.T @ X @ b", "X", {"a": (3, 1), "X": (3, 4), "b": (4, 1)}, "abᵀ",
     lambda a, X, b: a @ b.T, lambda a, X, b: (a.T @ X @ b).item(), {}),
    ("logdet(X)", "X", {"X": (4, 4)}, "X⁻ᵀ",
     lambda X: np.linalg.inv(X).T, lambda X: np.linalg.slogdet(X)[1], {"invertible": ("X",)}),
    ("trace(inv(X))", "X", {"X": (4, 4)}, "−X⁻ᵀX⁻ᵀ",
     lambda X: -np.linalg.inv(X).T @ np.linalg.inv(X).T, lambda X: np.trace(np.linalg.inv(X)),
     {"invertible": ("X",)}),
    ("norm2(W@x + b - y)", "W", {"W": (3, 4), "x": (4, 1), "b": (3, 1), "y": (3, 1)},
     "2(Wx + b − y)xᵀ", lambda W, x, b, y: 2 * (W @ x + b - y) @ x.T,
     lambda W, x, b, y: float(np.sum((W @ x + b - y) ** 2)), {}),
    ("softmax_ce(W@x, y)", "W", {"W": (3, 4), "x": (4, 1), "y": (3, 1)}, "(softmax(Wx) − y)xᵀ",
     lambda W, x, y: (_softmax(W @ x) - y) @ x.T,
     lambda W, x, y: float(-np.sum(y * np.log(_softmax(W @ x)))), {"onehot": ("y",)}),
    ("det(X)", "X", {"X": (3, 3)}, "det(X)X⁻ᵀ",
     lambda X: np.linalg.det(X) * np.linalg.inv(X).T, lambda X: np.linalg.det(X),
     {"invertible": ("X",)}),
    ("logsumexp(W@x)", "W", {"W": (3, 4), "x": (4, 1)}, "softmax(Wx)xᵀ",
     lambda W, x: _softmax(W @ x) @ x.T,
     lambda W, x: float(np.log(np.sum(np.exp(W @ x)))), {}),
]


@pytest.mark.parametrize("loss, wrt, shapes, text, closed, loss_np, special", COOKBOOK,
                         ids=[c[0] for c in COOKBOOK])
def test_cookbook_identity(loss, wrt, shapes, text, closed, loss_np, special):
    m = dk.matrix_gradient(loss, wrt=wrt, shapes=shapes)
    assert m.result.to_text() == text
    assert m.check.ok
    for seed in range(3):
        env = values(shapes, seed, special.get("invertible", ()), special.get("onehot", ()))
        got = m.evaluate(env)
        assert got.shape == shapes[wrt]
        assert np.allclose(got, closed(**env), rtol=1e-9, atol=1e-12)
        assert np.allclose(got, central_difference(loss_np, env, wrt), rtol=1e-5, atol=1e-6)


MLP_SHAPES = {"W1": (5, 4), "x": (4, 1), "b1": (5, 1), "W2": (3, 5), "b2": (3, 1), "y": (3, 1)}


def mlp_numpy(W1, x, b1, W2, b2, y):
    return float(np.sum((W2 @ sig(W1 @ x + b1) + b2 - y) ** 2))


def test_two_layer_mlp_dW1():
    m = dk.matrix_gradient("norm2(W2 @ sigmoid(W1 @ x + b1) + b2 - y)", wrt="W1", shapes=MLP_SHAPES)
    assert m.named_result.to_text() == "[(W₂ᵀδ₂) ⊙ σ′(z₁)]xᵀ"
    assert [i.name for i in m.forward] == ["z1", "a1", "z2"]
    text = m.to_text()
    assert "δ₁ = ∂L/∂z₁ = (W₂ᵀδ₂) ⊙ σ′(z₁)" in text and "∂L/∂W₁ = δ₁xᵀ" in text
    env = values(MLP_SHAPES, 3)
    W1, x, b1, W2, b2, y = (env[k] for k in ("W1", "x", "b1", "W2", "b2", "y"))
    z1 = W1 @ x + b1
    delta2 = 2 * (W2 @ sig(z1) + b2 - y)
    closed = ((W2.T @ delta2) * sig(z1) * (1 - sig(z1))) @ x.T
    assert np.allclose(m.evaluate(env), closed)
    assert np.allclose(m.evaluate(env), central_difference(mlp_numpy, env, "W1"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("act, prime", [("tanh", lambda z: 1 - np.tanh(z) ** 2),
                                        ("relu", lambda z: (z > 0) * 1.0)])
def test_mlp_with_softmax_ce_and_other_activations(act, prime):
    loss = f"z1 = W1@x + b1; a1 = {act}(z1); z2 = W2@a1 + b2; softmax_ce(z2, y)"
    m = dk.matrix_gradient(loss, wrt="W1", shapes=MLP_SHAPES)
    name = {"tanh": "tanh′", "relu": "ReLU′"}[act]
    assert m.named_result.to_text() == f"[(W₂ᵀδ₂) ⊙ {name}(z₁)]xᵀ"
    env = values(MLP_SHAPES, 4, onehot=("y",))
    W1, x, b1, W2, b2, y = (env[k] for k in ("W1", "x", "b1", "W2", "b2", "y"))
    fn = np.tanh if act == "tanh" else (lambda z: np.maximum(z, 0))
    z1 = W1 @ x + b1
    delta2 = _softmax(W2 @ fn(z1) + b2) - y
    assert np.allclose(m.evaluate(env), ((W2.T @ delta2) * prime(z1)) @ x.T)


BATCH = {"W": (3, 4), "X": (4, "N"), "b": (3, 1), "Y": (3, "N")}


def test_batched_mse_with_mean_and_bias_sum():
    mW = dk.matrix_gradient("(1/N) * norm2(W@X + b - Y)", wrt="W", shapes=BATCH)
    mb = dk.matrix_gradient("(1/N) * norm2(W@X + b - Y)", wrt="b", shapes=BATCH)
    assert mW.result.to_text() == "(2/N)(WX + b − Y)Xᵀ"
    assert mb.result.to_text() == "(2/N)(WX + b − Y)𝟙"
    shapes = mW.shapes
    N = shapes["X"][1]
    env = values(shapes, 5)
    W, X, b, Y = env["W"], env["X"], env["b"], env["Y"]
    assert np.allclose(mW.evaluate(env), 2 / N * (W @ X + b - Y) @ X.T)
    assert np.allclose(mb.evaluate(env), 2 / N * (W @ X + b - Y).sum(axis=1, keepdims=True))


def test_batched_softmax_ce_mean():
    m = dk.matrix_gradient("-(1/N) * sum(Y * log(softmax(W@X + b, axis=0)))", wrt="b", shapes=BATCH)
    assert m.result.to_text() == "(1/N)(softmax(WX + b, axis=0) − Y)𝟙"


def test_outputs_and_formats():
    m = dk.matrix_gradient("norm2(W@x + b - y)", wrt="W",
                           shapes="W=3x4,x=4x1,b=3x1,y=3x1")
    assert m.to_latex().startswith("\\begin{aligned}")
    assert "2 \\left(\\mathbf{W} \\mathbf{x} + \\mathbf{b} - \\mathbf{y}\\right) \\mathbf{x}^\\top" in m.to_latex()
    md = m.to_markdown()
    assert "**Backward pass**" in md and "$$" in md
    d = m.to_dict()
    assert d["result"]["text"] == "2(Wx + b − y)xᵀ" and d["check"]["ok"]
    import json
    json.loads(m.to_json())
    assert "matrix product" in m.to_text()
    assert m.result == "2(Wx + b − y)xᵀ"


def test_latex_loss():
    m = dk.matrix_gradient(r"\left\|\mathbf{W}\mathbf{x} + \mathbf{b} - \mathbf{y}\right\|_2^2", wrt="W",
                           shapes={"W": (3, 4), "x": (4, 1), "b": (3, 1), "y": (3, 1)})
    assert m.result.to_text() == "2(Wx + b − y)xᵀ"


def test_evaluate_checks_inputs():
    m = dk.matrix_gradient("norm2(W@x - y)", wrt="W", shapes={"W": (3, 4), "x": (4, 1), "y": (3, 1)})
    with pytest.raises(DerivekitError, match="no value given for"):
        m.evaluate({"W": np.zeros((3, 4))})
    with pytest.raises(ShapeError, match="declared shape"):
        m.evaluate({"W": np.zeros((4, 3)), "x": np.zeros(4), "y": np.zeros(3)})
    assert m.evaluate({"W": np.zeros((3, 4)), "x": np.ones(4), "y": np.ones(3)}).shape == (3, 4)


def test_errors():
    with pytest.raises(ShapeError, match="cannot multiply"):
        dk.matrix_gradient("norm2(x@W)", wrt="W", shapes={"W": (3, 4), "x": (4, 1)})
    with pytest.raises(UnsupportedError, match="scalar"):
        dk.matrix_gradient("W@x", wrt="W", shapes={"W": (3, 4), "x": (4, 1)})
    with pytest.raises(DerivekitError, match="not a variable"):
        dk.matrix_gradient("norm2(W@x)", wrt="V", shapes={"W": (3, 4), "x": (4, 1)})


def test_every_rule_has_an_explanation():
    from derivekit.matrix.adjoints import RULES
    for rule in RULES.values():
        assert rule.title and rule.statement and rule.explanation and rule.statement_latex


@pytest.mark.parametrize("loss, wrt, shapes", [
    ("sum(softplus(W@X) * Y)", "W", {"W": (3, 4), "X": (4, 5), "Y": (3, 5)}),
    ("mean(exp(W@x) / (1 + W@x * W@x))", "W", {"W": (3, 4), "x": (4, 1)}),
    ("trace(X @ X.T @ A)", "X", {"X": (3, 4), "A": (3, 3)}),
    ("sum(softmax(W@X, axis=0) * Y)", "W", {"W": (3, 4), "X": (4, 5), "Y": (3, 5)}),
    ("bce_logits(w.T@X, y)", "w", {"w": (4, 1), "X": (4, 6), "y": (1, 6)}),
    ("sum(sqrt(W*W + 1))", "W", {"W": (3, 4)}),
    ("sum(leaky_relu(W@x))", "W", {"W": (3, 4), "x": (4, 1)}),
    ("norm2(inv(A) @ b)", "A", {"A": (3, 3), "b": (3, 1)}),
    ("sum(log_softmax(W@X, axis=0) * Y)", "W", {"W": (3, 4), "X": (4, 5), "Y": (3, 5)}),
])
def test_more_losses_pass_their_numeric_check(loss, wrt, shapes):
    m = dk.matrix_gradient(loss, wrt=wrt, shapes=shapes)
    assert m.check.ok and m.check.max_rel_error < 1e-5


# --- a random corpus: every derived gradient agrees with plain finite differences --------

def _random_loss(rng):
    """A random scalar loss in W (3×4), x (4×1), V (3×3), y (3×1), X (4×5), b (3×1)."""
    vec = ["W@x", "W@x + b", "V@(W@x)", "(W@x) * y", "sigmoid(W@x + b)", "tanh(V@y + W@x)",
           "softplus(W@x) - y", "exp(0.1*(W@x))", "W@x / 2", "-(W@x)", "(W.T@y) .T.T"]
    mats = ["W@X + b", "sigmoid(W@X) * (W@X)", "relu(W@X + b) - 1", "tanh(V@W@X)"]
    heads = [lambda v: f"norm2({v})", lambda v: f"sum({v})", lambda v: f"mean({v} * {v})",
             lambda v: f"logsumexp({v})" if "X" not in v else f"sum(logsumexp({v}, axis=0))",
             lambda v: f"softmax_ce({v}, y)" if "X" not in v else f"sum({v})",
             lambda v: f"sum(softmax({v}{', axis=0' if 'X' in v else ''}) * ({v}))",
             lambda v: f"trace(({v}) @ ({v}).T)"]
    body = rng.choice(vec + mats)
    return rng.choice(heads)(body).replace(".T.T", "")


CORPUS_SHAPES = {"W": (3, 4), "x": (4, 1), "V": (3, 3), "y": (3, 1), "X": (4, 5), "b": (3, 1)}


@pytest.mark.parametrize("seed", range(60))
def test_random_losses_match_finite_differences(seed):
    from derivekit.matrix.evaluate import compile_node, domains, sample
    rng = np.random.default_rng(seed)
    loss = _random_loss(rng)
    import re
    present = sorted(set(re.findall(r"[A-Za-z]+", loss)) & set(CORPUS_SHAPES))
    wrt = str(rng.choice(present))
    try:
        m = dk.matrix_gradient(loss, wrt=wrt, shapes=CORPUS_SHAPES)
    except DerivekitError as exc:
        assert "not a variable" in str(exc) or "must be a scalar" in str(exc)
        return
    f = compile_node(m.loss)
    env = sample(m.shapes, domains(m.loss), np.random.default_rng(seed + 100))

    def loss_np(**e):
        return float(f(e)[0, 0])

    assert np.allclose(m.evaluate(env), central_difference(loss_np, env, wrt), rtol=1e-5, atol=1e-6), \
        (loss, wrt, m.result.to_text())


# --- Jacobians and Hessians (forward mode) ----------------------------------------------

@pytest.mark.parametrize("loss, shapes, text", [
    ("x.T @ A @ x", {"A": (4, 4), "x": (4, 1)}, "A + Aᵀ"),
    ("norm2(W@x - y)", {"W": (3, 4), "x": (4, 1), "y": (3, 1)}, "2WᵀW"),
    ("a.T @ x", {"a": (4, 1), "x": (4, 1)}, "0"),
])
def test_hessians_of_quadratic_forms(loss, shapes, text):
    from derivekit.matrix.jacobian import matrix_hessian
    h = matrix_hessian(loss, wrt="x", shapes=shapes)
    assert h.result.to_text() == text and h.max_rel_error < 1e-5
    env = values(shapes, 2)
    if "A" in env:
        assert np.allclose(h.evaluate(env), env["A"] + env["A"].T)


@pytest.mark.parametrize("expr, shapes, text", [
    ("W@x + b", {"W": (3, 4), "x": (4, 1), "b": (3, 1)}, "W"),
    ("sigmoid(W@x)", {"W": (3, 4), "x": (4, 1)}, "diag(σ(Wx) ⊙ (𝟙 − σ(Wx)))W"),
    ("(a.T@x) * b", {"a": (4, 1), "x": (4, 1), "b": (3, 1)}, "baᵀ"),
    ("tanh(V@sigmoid(W@x))", {"W": (3, 4), "x": (4, 1), "V": (2, 3)}, "diag(𝟙 − tanh(Vσ(Wx))²)V·diag(σ(Wx) ⊙ (𝟙 − σ(Wx)))W"),
])
def test_jacobians_of_vector_expressions(expr, shapes, text):
    from derivekit.matrix.jacobian import matrix_jacobian
    j = matrix_jacobian(expr, wrt="x", shapes=shapes)
    assert j.result.to_text() == text and j.max_rel_error < 1e-5
    assert "Jacobian" in j.to_text() and j.to_dict()["kind"] == "jacobian"


def test_hessian_with_second_derivatives():
    from derivekit.matrix.jacobian import matrix_hessian
    h = matrix_hessian("sum(tanh(W@x)) + x.T@x", wrt="x", shapes={"W": (3, 4), "x": (4, 1)})
    assert h.result.to_text() == "2I − 2Wᵀ·diag(tanh(Wx) ⊙ (𝟙 − tanh(Wx)²))W"


def test_jacobian_limits():
    from derivekit.matrix.jacobian import matrix_jacobian
    with pytest.raises(UnsupportedError):
        matrix_jacobian("W@x", wrt="W", shapes={"W": (3, 4), "x": (4, 1)})


# --- review regressions ---------------------------------------------------------------------

def test_latex_bias_times_ones_row_spans_the_batch():
    # b𝟙ᵀ in a sum with WX takes its 𝟙 length from the batch (was typed 1×1 and printed b𝟙)
    loss = r"\frac{1}{N}\|\mathbf{W}\mathbf{X}+\mathbf{b}\mathbf{1}^\top-\mathbf{Y}\|_F^2"
    shapes = "W=3x4,X=4xN,Y=3xN,b=3x1,N=5"
    mW = dk.matrix_gradient(loss, "W", shapes)
    mb = dk.matrix_gradient(loss, "b", shapes)
    assert mW.result.to_text() == "(2/N)(WX + b𝟙ᵀ − Y)Xᵀ"
    assert mb.result.to_text() == "(2/N)(WX + b𝟙ᵀ − Y)𝟙"
    assert mW.check.ok and mb.check.ok
    assert dk.matrix_gradient("sum((W@X + b@𝟙.T - Y)**2)", "b",
                              "W=3x4,X=4x5,Y=3x5,b=3x1").result.to_text() == "2(WX + b𝟙ᵀ − Y)𝟙"


@pytest.mark.parametrize("loss, text", [
    ("det(inv(V))", "−det(V⁻¹)V⁻ᵀ"),          # was −V⁻ᵀ·det(V⁻¹)VᵀV⁻ᵀ
    ("logdet(inv(V))", "−V⁻ᵀ"),
    ("trace(V@inv(V)@A)", "0"),
    ("sqrt(trace(V.T@V))", "V / ‖V‖_F"),  # was 2(1 / (2√(tr(VᵀV))))V, V((c)I + ((c)I)ᵀ)
])
def test_inverse_pairs_cancel_and_scalars_leave_products(loss, text):
    m = dk.matrix_gradient(loss, "V", {"V": (3, 3), "A": (3, 3)})
    assert m.result.to_text() == text and m.check.ok


@pytest.mark.parametrize("loss, text", [
    # the sign inside the sum used to end up in the target: −(softmax(Wx) + y)xᵀ, caught only
    # by the internal finite-difference check
    ("sum(-y*log(softmax(W@x)))", "(softmax(Wx) − y)xᵀ"),
    ("sum(log(softmax(W@x))*(-y))", "(softmax(Wx) − y)xᵀ"),
    ("sum((-0.5)*y*log(softmax(W@x)))", "(1/2)(softmax(Wx) − y)xᵀ"),
    ("sum(-2*y*log(softmax(W@x)))", "2(softmax(Wx) − y)xᵀ"),
    ("-sum(y*log(softmax(W@x)))", "(softmax(Wx) − y)xᵀ"),
])
def test_written_out_cross_entropy_with_a_signed_target(loss, text):
    m = dk.matrix_gradient(loss, "W", {"W": (3, 4), "x": (4, 1), "y": (3, 1)})
    assert m.result.to_text() == text and m.check.ok


@pytest.mark.parametrize("loss, text", [
    (r"-\mathbf{y}^\top\log\operatorname{softmax}(\mathbf{W}\mathbf{x})", "(softmax(Wx) − y)xᵀ"),
    ("(-y).T@log(softmax(W@x))", "(softmax(Wx) − y)xᵀ"),    # was caught by the internal check only
    ("y.T@log(softmax(W@x))", "−(softmax(Wx) − y)xᵀ"),
])
def test_cross_entropy_written_as_y_transpose_log_softmax(loss, text):
    m = dk.matrix_gradient(loss, "W", {"W": (3, 4), "x": (4, 1), "y": (3, 1)})
    assert m.result.to_text() == text and m.check.ok
