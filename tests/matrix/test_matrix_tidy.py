"""Tidying matrix results toward textbook forms (matrix/tidy.py): the five forms of issue 16,
the moves named in the steps, never a longer result, and every tidied result equal to the
untidied one and to central differences; plus the printing of powers and norms, constant
rational exponents and ``diag`` in the language."""

from __future__ import annotations

import numpy as np
import pytest

import derivekit as dk
from derivekit.errors import ParseError
from derivekit.matrix.evaluate import compile_node
from derivekit.matrix.expr import add, matmul, transpose, var
from derivekit.matrix.printers import to_latex, to_text
from derivekit.matrix.tidy import MOVES, is_symmetric, tidy_textbook

SHAPES = {"X": (5, 3), "x": (4, 1), "w": (3, 1), "y": (5, 1), "I": "eye", "A": (3, 3),
          "M": (3, 3), "v": (3, 1)}

TEXTBOOK = [
    # (loss, wrt, textbook text, a move the steps must name, closed form in NumPy)
    ("sqrt(trace(X.T@X))", "X", "X / ‖X‖_F", "norm",
     lambda e: e["X"] / np.linalg.norm(e["X"])),
    ("norm2(X.T@X - I)", "X", "4X(XᵀX − I)", "symmetric transpose",
     lambda e: 4 * e["X"] @ (e["X"].T @ e["X"] - np.eye(3))),
    ("logdet(X.T@X)", "X", "2X(XᵀX)⁻¹", "symmetric transpose",
     lambda e: 2 * e["X"] @ np.linalg.inv(e["X"].T @ e["X"])),
    ("log(sum(exp(x)))", "x", "softmax(x)", "softmax",
     lambda e: np.exp(e["x"]) / np.exp(e["x"]).sum()),
    ("sum(log(sigmoid(X@w)))", "w", "Xᵀ(𝟙 − σ(Xw))", "sigmoid ratio",
     lambda e: e["X"].T @ (1 - 1 / (1 + np.exp(-e["X"] @ e["w"])))),
    ("norm2(X)**0.5", "X", "X / ‖X‖_F", "negative power",
     lambda e: e["X"] / np.linalg.norm(e["X"])),
    ("trace(X.T@X)**(1/2)", "X", "X / ‖X‖_F", "norm",
     lambda e: e["X"] / np.linalg.norm(e["X"])),
    ("sum(log(1 + exp(X@w))) - y.T@X@w", "w", "Xᵀσ(Xw) − Xᵀy", "logistic",
     lambda e: e["X"].T @ (1 / (1 + np.exp(-e["X"] @ e["w"])) - e["y"])),
]


def _env(names, seed):
    rng = np.random.default_rng(seed)
    shapes = {n: s for n, s in SHAPES.items() if n in names and s != "eye"}
    return {n: rng.standard_normal(s) for n, s in shapes.items()}


@pytest.mark.parametrize("loss, wrt, text, move, closed", TEXTBOOK)
def test_textbook_forms(loss, wrt, text, move, closed):
    m = dk.matrix_gradient(loss, wrt=wrt, shapes=SHAPES)
    assert m.result.to_text() == text
    assert m.check.ok
    assert move in [a.move.name for a in m.moves]
    assert f"  {move}: " in m.to_text() and "textbook form (tidying moves)" in m.to_text()
    assert move in [d["move"] for d in m.to_dict()["moves"]]
    for seed in (0, 1, 2):
        e = _env(m.shapes, seed)
        np.testing.assert_allclose(m.evaluate(e), closed(e), rtol=1e-9, atol=1e-12)


def test_every_move_is_exercised_by_the_textbook_corpus():
    used = {a.move.name for loss, wrt, *_ in TEXTBOOK
            for a in dk.matrix_gradient(loss, wrt=wrt, shapes=SHAPES).moves}
    assert used == {m.name for m in MOVES}


def test_declared_symmetric_names():
    m = dk.matrix_gradient("trace(X@A@X.T)", wrt="X", shapes=SHAPES)
    assert m.result.to_text() == "X(A + Aᵀ)"  # A is not known to be symmetric
    untidied = m.sweep.expand(m.sweep.gradients["X"].expr)
    tidied, moves = tidy_textbook(untidied, symmetric={"A"})
    assert to_text(tidied) == "2XA" and moves[0].move.name == "declared symmetric"
    assert moves[0].move.rule == "A is symmetric (declared): A + Aᵀ = 2A"
    assert tidy_textbook(untidied)[0] == m.result.node


@pytest.mark.parametrize("loss, wrt, text, move, closed", TEXTBOOK)
def test_textbook_forms_read_back(loss, wrt, text, move, closed):
    from derivekit.matrix.printers import to_numpy_text
    m = dk.matrix_gradient(loss, wrt=wrt, shapes=SHAPES)
    for claim in (to_latex(m.result.node), to_numpy_text(m.result.node)):
        assert dk.verify_backprop(loss, claim, wrt, SHAPES).ok, claim


def test_cli_shows_kronecker_hessian_and_textbook_gradient(capsys):
    from derivekit.cli import main
    assert main(["matgrad", "trace(X.T@A@X)", "--wrt", "X", "--shapes", "X=3x2,A=3x3",
                 "--hessian"]) == 0
    assert "Hessian   = I ⊗ (A + Aᵀ)    (6×6)" in capsys.readouterr().out
    assert main(["matgrad", "logdet(X)", "--wrt", "X", "--shapes", "X=3x3", "--hessian"]) == 2
    assert "vec(X)" in capsys.readouterr().err
    assert main(["matgrad", "sqrt(trace(X.T@X))", "--wrt", "X", "--shapes", "X=5x3"]) == 0
    assert "∂L/∂X = X / ‖X‖_F" in capsys.readouterr().out


def test_symmetric_recognition():
    X, A = var("X", (5, 3)), var("A", (3, 3))
    xtx = matmul(transpose(X), X)
    assert is_symmetric(xtx) and is_symmetric(matmul(X, transpose(X)))
    assert is_symmetric(add(A, transpose(A)))
    B = var("B", (5, 3))
    assert is_symmetric(matmul(matmul(transpose(B), matmul(X, transpose(X))), B))  # BᵀSB
    assert not is_symmetric(A) and not is_symmetric(matmul(A, xtx))
    assert not is_symmetric(matmul(transpose(var("B", (5, 3))), X))


# --- a generated corpus: tidying never lengthens and never changes a value ---------------------

_ATOMS = ["X@w", "(X@w - y)", "sigmoid(X@w)", "exp(X@w)", "y"]


def _random_loss(rng) -> str:
    """A random scalar loss of w (and X) with the shapes the moves look for."""
    a = _ATOMS[rng.integers(4)]
    forms = [f"sum(log(sigmoid({a})))", f"sum(log(1 + exp({a})))", f"log(sum(exp({a})))",
             f"sqrt(norm2({a}))", f"norm2({a})**0.5", f"norm2({a})**(-1)",
             f"sqrt(trace(X.T@X)) * sum({a})", f"norm2(X.T@X - I) + sum({a})",
             f"logdet(X.T@X) * sum(sigmoid({a}))", f"sum(softplus({a})) / (1 + norm2(w))"]
    first = forms[rng.integers(len(forms))]
    second = forms[rng.integers(len(forms))]
    return first if rng.integers(2) else f"{first} + {second}"


@pytest.mark.parametrize("seed", range(30))
def test_tidying_never_lengthens_and_keeps_the_value(seed):
    rng = np.random.default_rng(seed)
    loss = _random_loss(rng)
    for wrt in ("w", "X"):
        m = dk.matrix_gradient(loss, wrt=wrt, shapes=SHAPES)
        assert m.check.ok
        untidied = m.sweep.expand(m.sweep.gradients[wrt].expr)
        tidied, _ = tidy_textbook(untidied)
        assert tidied.size() <= untidied.size()
        assert m.result.node.size() <= untidied.size()
        f_raw, f_tidy = compile_node(untidied), compile_node(m.result.node)
        for s in (0, 1):
            e = _env(m.shapes, s)
            a, b = np.broadcast_to(f_raw(e), m.shape), np.broadcast_to(f_tidy(e), m.shape)
            assert np.all(np.isfinite(b))
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


# --- printing and the language ---------------------------------------------------------------

def test_power_of_a_norm_prints_in_brackets():
    m = dk.matrix_gradient("norm2(X)**0.5", wrt="X", shapes=SHAPES)
    assert to_text(m.loss) == "(‖X‖²)⁰·⁵"
    assert "^2^" not in m.to_latex() and r"\left(\left\|\mathbf{X}\right\|_2^2\right)^{0.5}" \
        in m.to_latex()


@pytest.mark.parametrize("source, value", [("x**(1/2)", 0.5), ("x**(-1)", -1.0), ("x**(2/4)", 0.5),
                                           ("x**(1 + 1)", 2.0), ("x**-1", -1.0), ("x**(3*2)", 6.0)])
def test_constant_rational_exponents(source, value):
    from derivekit.matrix.parse import parse_matrix
    node = parse_matrix(source)
    assert node.op == "pow" and node.attr == value


@pytest.mark.parametrize("source", ["x**y", "x**(1/y)", "x**sum(x)"])
def test_non_constant_exponents_are_refused_with_a_hint(source):
    from derivekit.matrix.parse import parse_matrix
    with pytest.raises(ParseError) as err:
        parse_matrix(source)
    assert "x**(1/2)" in str(err.value)


def test_norm_reads_back_from_latex():
    m = dk.matrix_gradient("sqrt(trace(X.T@X))", wrt="X", shapes=SHAPES)
    latex = to_latex(m.result.node)
    assert latex == r"\frac{\mathbf{X}}{\left\|\mathbf{X}\right\|_F}"
    again = dk.verify_backprop("sqrt(trace(X.T@X))", latex, "X", SHAPES)
    assert again.ok


@pytest.mark.parametrize("loss, wrt, text", [
    ("sum(diag(v) @ w)", "v", "w"),
    ("w.T @ diag(v) @ w", "v", "w ⊙ w"),
    ("sum(diag(M) * v)", "M", "diag(v)"),
    ("norm2(diag(M) - v)", "M", "2·diag(diag(M) − v)"),
    ("trace(diag(v) @ M)", "v", "diag(M)"),
])
def test_diag_in_the_language(loss, wrt, text):
    m = dk.matrix_gradient(loss, wrt=wrt, shapes=SHAPES)
    assert m.result.to_text() == text and m.check.ok


def test_diag_of_a_row_or_a_rectangle_is_refused():
    with pytest.raises(dk.ShapeError, match="diag\\(w.T.T\\)|write diag"):
        dk.matrix_gradient("sum(diag(w.T))", wrt="w", shapes=SHAPES)
    with pytest.raises(dk.ShapeError, match="square matrix"):
        dk.matrix_gradient("sum(diag(X))", wrt="X", shapes=SHAPES)


def test_diag_times_a_column_is_entrywise():
    m = dk.matrix_gradient("v.T @ diag(v) @ v", wrt="v", shapes=SHAPES)
    assert m.result.to_text() == "3[v ⊙ v]" and m.check.ok
