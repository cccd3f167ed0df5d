"""The matrix language reads NumPy as NumPy reads it: axis=/keepdims on reductions and the
softmax family, method spellings, library prefixes, maximum/minimum, indicators, where,
row-bias broadcasting, declared constants; and it refuses what NumPy leaves open.

Every new spelling is checked three ways: the engine's own central differences (inside
matrix_gradient), a hand-written NumPy gradient, and, for shapes and values, NumPy itself."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derivekit as dk
from derivekit.cli import main
from derivekit.errors import ParseError, ShapeError
from derivekit.matrix.evaluate import compile_node, domains, sample
from derivekit.matrix.parse import latex_to_text, parse_matrix
from derivekit.matrix.printers import to_latex, to_numpy_text
from derivekit.matrix.shapes import annotate, parse_shapes, resolve_shapes

# --- hand-written NumPy references ---------------------------------------------------------

def softmax(z, axis):
    w = np.exp(z - z.max(axis=axis, keepdims=True))
    return w / w.sum(axis=axis, keepdims=True)


def relu_mask(z):
    return (z > 0).astype(float)


def attention_dq(Q, K, V, G, d):
    """∂/∂Q of sum(G ⊙ softmax(QKᵀ/√d, rows) V), written out as in a hand backward pass."""
    S = Q @ K.T / np.sqrt(d)
    P = softmax(S, 1)
    dP = G @ V.T
    dS = P * (dP - (dP * P).sum(axis=1, keepdims=True))
    return dS @ K / np.sqrt(d)


N, D, H = 5, 4, 3
ROWS = {"X": (N, D), "W": (D, H), "Y": (N, H), "G": (N, H), "b": (1, H)}
CASES = [
    # (loss, wrt, shapes, reference gradient from the sampled values)
    ("softmax_ce(X@W, Y, axis=1)", "W", ROWS,
     lambda e: e["X"].T @ (softmax(e["X"] @ e["W"], 1) - e["Y"])),
    ("softmax_ce(X@W, Y, dim=-1)", "W", ROWS,
     lambda e: e["X"].T @ (softmax(e["X"] @ e["W"], 1) - e["Y"])),
    ("F.cross_entropy(X@W + b, Y)", "W", ROWS,
     lambda e: e["X"].T @ (softmax(e["X"] @ e["W"] + e["b"], 1) - e["Y"]) / N),
    ("F.cross_entropy(X@W + b, Y)", "b", ROWS,
     lambda e: (softmax(e["X"] @ e["W"] + e["b"], 1) - e["Y"]).sum(axis=0, keepdims=True) / N),
    ("-sum(Y * log(softmax(X@W, axis=1)))", "W", ROWS,
     lambda e: e["X"].T @ (softmax(e["X"] @ e["W"], 1) - e["Y"])),
    ("sum(G * log_softmax(X@W, dim=1))", "W", ROWS,
     lambda e: e["X"].T @ (e["G"] - softmax(e["X"] @ e["W"], 1) * e["G"].sum(axis=1, keepdims=True))),
    ("sum(softmax(Q@K.T/sqrt(d), axis=-1)@V * G)", "Q",
     {"Q": ("T", "d"), "K": ("T", "d"), "V": ("T", "d"), "G": ("T", "d")},
     lambda e: attention_dq(e["Q"], e["K"], e["V"], e["G"], e["Q"].shape[1])),
    ("sum(np.maximum(X@W + b, 0) * G)", "W", ROWS,
     lambda e: e["X"].T @ (e["G"] * relu_mask(e["X"] @ e["W"] + e["b"]))),
    ("sum(max(0, X@W + b) * G)", "b", ROWS,
     lambda e: (e["G"] * relu_mask(e["X"] @ e["W"] + e["b"])).sum(axis=0, keepdims=True)),
    ("sum(torch.relu(X@W) * G)", "W", ROWS,
     lambda e: e["X"].T @ (e["G"] * relu_mask(e["X"] @ e["W"]))),
    ("sum(minimum(X@W, G) * Y)", "W", ROWS,
     lambda e: e["X"].T @ (e["Y"] * (e["X"] @ e["W"] <= e["G"]))),
    ("sum(np.maximum(X@W, G) * Y)", "G", ROWS,
     lambda e: e["Y"] * (e["X"] @ e["W"] < e["G"])),
    ("sum(where(X@W > 0, X@W, 0.1*(X@W)) * G)", "W", ROWS,
     lambda e: e["X"].T @ (e["G"] * np.where(e["X"] @ e["W"] > 0, 1.0, 0.1))),
    ("sum(G * (X@W >= 0) * (X@W))", "W", ROWS,
     lambda e: e["X"].T @ (e["G"] * (e["X"] @ e["W"] >= 0))),
    ("sum(X.T.dot(G) * W.dot(G.T.dot(G)))", "G", {"X": (N, D), "G": (N, H), "W": (D, H)},
     None),
    ("sum(X.dot(W) * G)", "W", ROWS, lambda e: e["X"].T @ e["G"]),
    ("sum(np.dot(X, W) * G)", "X", ROWS, lambda e: e["G"] @ e["W"].T),
    ("sum((X@W + b).sum(axis=0) * c)", "b", {**ROWS, "c": (1, H)}, lambda e: N * e["c"]),
    ("norm2(X - X.mean(axis=0))", "X", ROWS, lambda e: 2 * (e["X"] - e["X"].mean(axis=0))),
    ("norm2(X - np.mean(X, axis=1, keepdims=True))", "X", ROWS,
     lambda e: 2 * (e["X"] - e["X"].mean(axis=1, keepdims=True))),
    ("sum(X.var(axis=0) * v)", "X", {"X": (N, D), "v": (1, D)},
     lambda e: 2 * (e["X"] - e["X"].mean(axis=0)) / N * e["v"]),
    ("sum(torch.var(X, dim=0) * v)", "X", {"X": (N, D), "v": (1, D)},
     lambda e: 2 * (e["X"] - e["X"].mean(axis=0)) / (N - 1) * e["v"]),
    ("sum(np.std(X, axis=1, keepdims=True) * u)", "X", {"X": (N, D), "u": (N, 1)},
     lambda e: (e["X"] - e["X"].mean(axis=1, keepdims=True))
     / (D * e["X"].std(axis=1, keepdims=True)) * e["u"]),
    ("np.linalg.norm(X)", "X", ROWS, lambda e: e["X"] / np.linalg.norm(e["X"])),
    ("sum(np.linalg.norm(X, axis=1) * v)", "X", {"X": (N, D), "v": (1, N)},
     lambda e: e["X"] / np.linalg.norm(e["X"], axis=1, keepdims=True) * e["v"].T),
    ("sum(logsumexp(X@W, axis=1, keepdims=True) * u)", "W", {**ROWS, "u": (N, 1)},
     lambda e: e["X"].T @ (softmax(e["X"] @ e["W"], 1) * e["u"])),
    ("sum(logsumexp(X@W, axis=0) * v)", "W", {**ROWS, "v": (1, H)},
     lambda e: e["X"].T @ (softmax(e["X"] @ e["W"], 0) * e["v"])),
    ("sum(dout * (x > 0) * x)", "x", {"dout": (4, 1), "x": (4, 1)},
     lambda e: e["dout"] * (e["x"] > 0)),
    ("norm2(x / (norm2(x) + eps))", "x", {"x": (4, 1), "eps": 1e-5}, None),
]


@pytest.mark.parametrize("loss, wrt, shapes, reference", CASES, ids=[c[0] for c in CASES])
def test_spelling_matches_numpy_reference(loss, wrt, shapes, reference):
    m = dk.matrix_gradient(loss, wrt=wrt, shapes=shapes)
    assert m.check.ok and m.check.max_rel_error < 1e-5
    env = sample(m.shapes, domains(m.loss), np.random.default_rng(7))
    got = m.evaluate(env)
    assert got.shape == m.shapes[wrt]
    if reference is not None:
        assert np.allclose(got, reference(env), rtol=1e-7, atol=1e-9)


def test_each_spelling_is_accepted_as_a_claim():
    """What a loss accepts, a claim accepts: the NumPy spelling of each gradient reads back."""
    for loss, wrt, shapes, _ in CASES:
        m = dk.matrix_gradient(loss, wrt=wrt, shapes=shapes)
        v = dk.verify_backprop(loss, m.result.numpy, wrt=wrt, shapes=shapes)
        assert v.ok, (loss, m.result.numpy, v.diagnosis)


@pytest.mark.parametrize("loss, wrt, shapes, claim", [
    ("sum(np.maximum(X@W, 0) * G)", "W", ROWS, "X.T.dot(G * (X@W > 0))"),
    ("sum(max(0, X@W + b) * G)", "b", ROWS, "(G * (X@W + b > 0)).sum(axis=0)"),
    ("sum(max(0, X@W + b) * G)", "b", ROWS, "np.sum(where(X@W + b > 0, G, 0), axis=0, keepdims=True)"),
    ("F.cross_entropy(X@W, Y)", "W", ROWS, "X.T @ (F.softmax(X@W, dim=1) - Y) / N"),
    ("softmax_ce(X@W, Y, axis=1)", "W", ROWS, "np.dot(X.T, softmax(X@W, axis=-1) - Y)"),
])
def test_numpy_spelled_claims(loss, wrt, shapes, claim):
    shapes = {**shapes, "N": N}
    assert dk.verify_backprop(loss, claim, wrt=wrt, shapes=shapes).ok


def test_wrong_axis_in_a_claim_is_caught():
    v = dk.verify_backprop("softmax_ce(X@W, Y, axis=1)", "X.T @ (softmax(X@W, axis=0) - Y)", "W", ROWS)
    assert not v.ok


def test_check_backprop_cli_reads_methods_and_prefixes(capsys):
    code = main(["check-backprop", "sum(np.maximum(X@W, 0) * G)", "--wrt", "W",
                 "--shapes", "X:5x4, W:4x3, G:5x3", "--claim", "X.T.dot(G * (X@W > 0))"])
    assert code == 0, capsys.readouterr()


# --- refusals -----------------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["sum(softmax(Z) * G)", "sum(log_softmax(Z) * G)",
                                  "sum(logsumexp(Z))", "softmax_ce(Z, G)",
                                  "sum(F.softmax(Z) * G)", "sum(Z.softmax() * G)"])
def test_matrix_softmax_without_axis_is_refused(loss):
    with pytest.raises(ShapeError) as info:
        dk.matrix_gradient(loss, "Z", {"Z": (3, 4), "G": (3, 4)})
    assert "needs an axis" in str(info.value)
    assert "axis=0" in info.value.hint and "axis=1" in info.value.hint


@pytest.mark.parametrize("shape", [(4, 1), (1, 4)])
def test_vector_softmax_needs_no_axis(shape):
    m = dk.matrix_gradient("sum(softmax(z) * g)", "z", {"z": shape, "g": shape})
    env = sample(m.shapes, {}, np.random.default_rng(1))
    s = softmax(env["z"], 0 if shape[1] == 1 else 1)
    assert np.allclose(m.evaluate(env), s * (env["g"] - np.sum(env["g"] * s)))


def test_softmax_along_an_axis_of_length_one_is_refused():
    with pytest.raises(ShapeError, match="axis of length 1") as info:
        dk.matrix_gradient("sum(softmax(z, axis=1) * g)", "z", {"z": (4, 1), "g": (4, 1)})
    assert "axis=0" in info.value.hint


def test_undeclared_scalar_is_an_error_listing_it():
    with pytest.raises(ShapeError) as info:
        dk.matrix_gradient("norm2(x / (norm2(x) + eps)) + lam*norm2(x)", "x", {"x": (3, 1)})
    assert "'eps'" in str(info.value)
    assert "eps=1e-5" in info.value.hint


@pytest.mark.parametrize("shapes", ["x=3x1, eps=1e-5", "x:3x1, eps:1e-5", {"x": (3, 1), "eps": 1e-5}])
def test_declared_constant(shapes):
    m = dk.matrix_gradient("norm2(x) / (norm2(x) + eps)", "x", shapes)
    assert "eps" in m.result.to_text() and "eps" not in m.shapes
    x = np.array([[0.3], [-1.0], [2.0]])
    s = (x.T @ x).item()
    assert np.allclose(m.evaluate({"x": x}), 2 * x * 1e-5 / (s + 1e-5) ** 2)


def test_sizes_keep_working_as_scalars():
    m = dk.matrix_gradient("sum(softmax(Q@K.T/sqrt(d), axis=1)@V)", "Q",
                           {"Q": ("T", "d"), "K": ("T", "d"), "V": ("T", "d")})
    assert "√(d)" in m.result.to_text() or "d" in m.result.to_text()


@pytest.mark.parametrize("text, match", [
    ("softmax(Z, axis=2)", "out of bounds"),
    ("sum(Z, axis=-3)", "out of bounds"),
    ("softmax(Z, axis=1, keepdims=True)", "does not take keepdims"),
    ("sum(Z, axis=0, dim=0)", "not both"),
    ("sum(Z, foo=1)", "does not take foo"),
    ("np.max(Z)", "reduction"),
    ("Z.max(axis=0)", "reduction"),
    ("sigmoid(Z, alpha=2)", "no keyword"),
    ("sum(Z, axis=0.5)", "whole number"),
])
def test_bad_keywords_are_refused(text, match):
    with pytest.raises((ParseError, ShapeError), match=match):
        annotate(parse_matrix(text), {"Z": (3, 4)})


def test_column_bias_over_rows_says_to_declare_a_row():
    with pytest.raises(ShapeError) as info:
        annotate(parse_matrix("X@W + b"), {"X": (5, 4), "W": (4, 3), "b": (3, 1)})
    assert "1×3" in info.value.hint


def test_row_bias_broadcasts_like_numpy():
    node, _ = annotate(parse_matrix("X@W + b"), {"X": (5, 4), "W": (4, 3), "b": (1, 3)})
    assert node.shape == (5, 3)
    m = dk.matrix_gradient("sum((X@W + b) * G)", "b", {"X": (5, 4), "W": (4, 3), "b": (1, 3), "G": (5, 3)})
    env = sample(m.shapes, {}, np.random.default_rng(0))
    assert np.allclose(m.evaluate(env), env["G"].sum(axis=0, keepdims=True))


def test_prefixes_do_not_swallow_a_matrix_named_F():
    node, _ = annotate(parse_matrix("F.T @ x + F.dot(x).T.T"), {"F": (3, 3), "x": (3, 1)})
    assert node.shape == (3, 1)


def test_parse_shapes_reads_constants_and_colons():
    assert parse_shapes("X:N×D, eps=1e-5, lam=0.1") == {"X": ("N", "D"), "eps": 1e-5, "lam": 0.1}
    known, dims = resolve_shapes("X:N×D, eps=1e-5")
    assert dims["eps"] == 1e-5 and "eps" not in known


# --- axis and keepdims against NumPy's own shapes and values ------------------------------

def _numpy_reduce(op, x, axis, keepdims, ddof=0):
    if op == "norm":
        return np.linalg.norm(x, axis=axis, keepdims=keepdims) if axis is not None else \
            np.linalg.norm(x)
    if op == "logsumexp":
        m = x.max(axis=axis, keepdims=True)
        out = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
        return out if keepdims else np.squeeze(out, axis=axis)
    if op in ("var", "std"):
        return getattr(np, op)(x, axis=axis, keepdims=keepdims, ddof=ddof)
    return getattr(np, op)(x, axis=axis, keepdims=keepdims)


def _as_engine_shape(arr):
    """The documented mapping: 0-D -> 1×1, 1-D (n,) -> a 1×n row, 2-D unchanged."""
    arr = np.asarray(arr)
    return arr.reshape(1, 1) if arr.ndim == 0 else arr.reshape(1, -1) if arr.ndim == 1 else arr


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(op=st.sampled_from(["sum", "mean", "var", "std", "norm", "logsumexp"]),
       rows=st.integers(2, 5), cols=st.integers(2, 5),
       axis=st.sampled_from([None, 0, 1, -1, -2]), keepdims=st.booleans(),
       seed=st.integers(0, 10_000))
def test_reductions_follow_numpy_shapes_and_values(op, rows, cols, axis, keepdims, seed):
    if op == "logsumexp" and axis is None:
        return  # refused for a matrix: tested above
    args = "X" + ("" if axis is None else f", axis={axis}") + (", keepdims=True" if keepdims else "")
    spelled = {"norm": "np.linalg.norm"}.get(op, op)
    node, _ = annotate(parse_matrix(f"{spelled}({args})"), {"X": (rows, cols)})
    x = np.random.default_rng(seed).standard_normal((rows, cols))
    expected = _as_engine_shape(_numpy_reduce(op, x, axis, keepdims))
    assert node.shape == expected.shape
    assert np.allclose(compile_node(node)({"X": x}), expected)


@settings(max_examples=30, deadline=None)
@given(op=st.sampled_from(["softmax", "log_softmax"]), axis=st.sampled_from([0, 1, -1, -2]),
       seed=st.integers(0, 10_000))
def test_softmax_axis_follows_numpy(op, axis, seed):
    node, _ = annotate(parse_matrix(f"{op}(X, axis={axis})"), {"X": (3, 4)})
    x = np.random.default_rng(seed).standard_normal((3, 4))
    s = softmax(x, axis)
    assert np.allclose(compile_node(node)({"X": x}), s if op == "softmax" else np.log(s))


# --- printing reads back -------------------------------------------------------------------

PRINTED = ["softmax(X@W, axis=1)", "log_softmax(X@W, axis=0)", "logsumexp(X@W, axis=1, keepdims=True)",
           "logsumexp(X@W, axis=1)", "maximum(X@W, G)", "minimum(X@W, G)", "(X@W > G) * G",
           "(X@W <= 0) * G", "where(X@W >= 0, G, 0.5*G)", "np.maximum(X@W, 0)", "X.sum(axis=1)",
           "X.sum(axis=1, keepdims=True) * X", "X.mean(axis=0)", "X.var(axis=0)", "std(X, axis=1)"]


@pytest.mark.parametrize("text", PRINTED)
def test_numpy_and_latex_printing_read_back(text):
    shapes = {"X": (5, 4), "W": (4, 3), "G": (5, 3)}
    node, _ = annotate(parse_matrix(text), shapes)
    env = sample(shapes, {}, np.random.default_rng(3))
    value = compile_node(node)(env)
    again, _ = annotate(parse_matrix(to_numpy_text(node)), shapes)
    assert again.shape == node.shape and np.allclose(compile_node(again)(env), value)
    latex = to_latex(node)
    back, _ = annotate(parse_matrix(latex_to_text(latex), syntax="text"), shapes)
    assert back.shape == node.shape and np.allclose(compile_node(back)(env), value), latex



# --- against torch.autograd: the spellings users copy from PyTorch code ------------------

TORCH_CASES = [
    # (loss in derivekit's language, wrt, shapes, the same loss in torch on a dict of tensors)
    ("F.cross_entropy(X@W + b, Y)", "W", ROWS,
     lambda t, F: F.cross_entropy(t["X"] @ t["W"] + t["b"], t["Y"])),
    ("softmax_ce(X@W, Y, axis=1)", "W", ROWS,
     lambda t, F: F.cross_entropy(t["X"] @ t["W"], t["Y"], reduction="sum")),
    ("sum(softmax(Q@K.T/sqrt(d), dim=-1)@V * G)", "Q",
     {"Q": ("T", "d"), "K": ("T", "d"), "V": ("T", "d"), "G": ("T", "d")},
     lambda t, F: (F.softmax(t["Q"] @ t["K"].T / t["Q"].shape[1] ** 0.5, dim=-1) @ t["V"]
                   * t["G"]).sum()),
    ("sum(torch.relu(X@W + b) * G)", "b", ROWS,
     lambda t, F: (F.relu(t["X"] @ t["W"] + t["b"]) * t["G"]).sum()),
    ("sum(torch.var(X, dim=0) * v)", "X", {"X": (N, D), "v": (1, D)},
     lambda t, F: (t["X"].var(dim=0) * t["v"]).sum()),
    ("sum(torch.logsumexp(X@W, dim=1, keepdim=True) * u)", "W", {**ROWS, "u": (N, 1)},
     lambda t, F: (t["X"] @ t["W"]).logsumexp(dim=1, keepdim=True).mul(t["u"]).sum()),
    ("sum(log_softmax(X@W, axis=1) * G)", "W", ROWS,
     lambda t, F: (F.log_softmax(t["X"] @ t["W"], dim=1) * t["G"]).sum()),
]


@pytest.mark.parametrize("loss, wrt, shapes, torch_loss", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_gradient_equals_torch_autograd(loss, wrt, shapes, torch_loss):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    m = dk.matrix_gradient(loss, wrt=wrt, shapes=shapes)
    env = sample(m.shapes, domains(m.loss), np.random.default_rng(11))
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=(k == wrt)) for k, v in env.items()}
    torch_loss(tensors, F).backward()
    assert np.allclose(m.evaluate(env), tensors[wrt].grad.numpy(), rtol=1e-9, atol=1e-12)


# --- a seeded random corpus of the new spellings, against entrywise central differences ---

_ATOMS = ["Z", "G", "(Z*G)", "np.maximum(Z, 0)", "(Z > 0)", "Z.T.T", "where(Z > 0, Z, G)",
          "minimum(Z, G)", "max(G, Z)", "softmax(Z, axis=1)", "log_softmax(Z, dim=0)",
          "Z.sum(axis=0, keepdims=True)", "Z.mean(axis=1, keepdims=True)", "np.std(Z, axis=0)",
          "exp(0.5*Z)", "(1 - Z)", "logsumexp(Z, axis=1, keepdims=True)", "Z.var(axis=1, keepdims=True)",
          "np.linalg.norm(Z, axis=0)", "F.softmax(Z, dim=-1)"]


def _random_language_loss(rng) -> str:
    e = rng.choice(_ATOMS)
    for _ in range(rng.integers(1, 4)):
        e = f"({e} {rng.choice(['+', '-', '*'])} {rng.choice(_ATOMS)})"
    return f"sum({e} * G)"


@pytest.mark.parametrize("seed", range(40))
def test_random_language_losses_match_central_differences(seed):
    rng = np.random.default_rng(seed)
    loss = _random_language_loss(rng)
    shapes = {"Z": (3, 4), "G": (3, 4)}
    m = dk.matrix_gradient(loss, "Z", shapes)
    f = compile_node(m.loss)
    env = sample(m.shapes, {}, np.random.default_rng(seed + 1000))
    h, numeric = 1e-6, np.zeros((3, 4))
    for i in range(3):
        for j in range(4):
            up, down = dict(env), dict(env)
            up["Z"] = env["Z"].copy()
            up["Z"][i, j] += h
            down["Z"] = env["Z"].copy()
            down["Z"][i, j] -= h
            numeric[i, j] = (f(up)[0, 0] - f(down)[0, 0]) / (2 * h)
    got = m.evaluate(env)
    assert np.all(np.isfinite(got))
    assert np.allclose(got, numeric, rtol=1e-4, atol=1e-6), loss
