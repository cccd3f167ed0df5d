"""Matrix expressions: the NumPy-spelling grammar, the LaTeX front, shape checks, printing."""

import numpy as np
import pytest

from derivekit.errors import ParseError, ShapeError
from derivekit.matrix.evaluate import compile_node
from derivekit.matrix.parse import latex_to_text, parse_matrix, parse_program
from derivekit.matrix.printers import to_latex, to_numpy_text, to_text
from derivekit.matrix.shapes import annotate, parse_shapes, resolve_shapes

SHAPES = {"W": (3, 4), "x": (4, 1), "b": (3, 1), "y": (3, 1)}


def typed(text, shapes=SHAPES, **kw):
    return annotate(parse_matrix(text, **kw), shapes)[0]


def test_grammar_precedence_and_postfix():
    node = typed("2*(W@x + b - y).T @ (W@x)")
    assert node.shape == (1, 1)
    assert to_numpy_text(typed("W@x + b")) == "W @ x + b"


@pytest.mark.parametrize("text", ["np.sum(W)", "sum(W, axis=1)", "mean(W, axis=0)", "W.T.T",
                                  "-W + +W", "W**2", "W ^ 2", "sigmoid(W) * (1 - sigmoid(W))",
                                  "trace(W @ W.T)", "logdet(W@W.T)", "inv(W@W.T)", "norm2(W)"])
def test_grammar_accepts(text):
    typed(text)


@pytest.mark.parametrize("text, where", [("W @ @ x", 4), ("W @ (x", 6), ("foo(W)", 0), ("W $ x", 2)])
def test_parse_errors_have_positions(text, where):
    with pytest.raises(ParseError) as info:
        typed(text)
    assert info.value.position == where


def test_unknown_function_suggests():
    with pytest.raises(ParseError, match="did you mean 'sigmoid'"):
        typed("sigmod(W)")


def test_no_eval_on_user_text():
    with pytest.raises(ParseError):
        typed("__import__('os').system('echo hi')")


def test_shape_error_names_both_shapes_and_operator():
    with pytest.raises(ShapeError) as info:
        typed("x @ W")
    msg = str(info.value)
    assert "4×1" in msg and "3×4" in msg and "cannot multiply" in msg
    with pytest.raises(ShapeError, match=r"'\+'") as info:
        typed("W + x")
    assert "3×4" in str(info.value) and "4×1" in str(info.value)


def test_shape_error_suggests_transpose():
    shapes = {"W2": (3, 8), "delta2": (3, 1)}
    with pytest.raises(ShapeError) as info:
        typed("W2 @ delta2", shapes)
    assert "W₂ (3×8) cannot multiply δ₂ (3×1)" in str(info.value)
    assert "did you mean W₂ᵀ?" in str(info.value)


def test_broadcast_column_bias_over_batch():
    node = typed("W@X + b", {"W": (3, 4), "X": (4, 5), "b": (3, 1)})
    assert node.shape == (3, 5)


def test_shape_inference_for_a_name_left_out():
    node, _ = annotate(parse_matrix("norm2(W@x - y)"), {"W": (3, 4)})
    assert node.shape == (1, 1)
    with pytest.raises(ShapeError, match="cannot be inferred"):
        annotate(parse_matrix("sum(q)"), {"W": (3, 4)})


def test_symbolic_sizes_are_pairwise_distinct():
    known, dims = resolve_shapes({"W": ("m", "n"), "x": ("n", 1), "X": ("n", "N")})
    assert len({dims["m"], dims["n"], dims["N"]}) == 3
    assert known["W"] == (dims["m"], dims["n"])


def test_parse_shapes_text():
    assert parse_shapes("W=3x4,x=4x1,N=5") == {"W": (3, 4), "x": (4, 1), "N": 5}
    with pytest.raises(ParseError):
        parse_shapes("W=3by4")


def test_definitions_program():
    program = parse_program("z1 = W@x + b; a1 = sigmoid(z1); norm2(a1 - y)")
    assert [name for name, _ in program] == ["z1", "a1", None]


@pytest.mark.parametrize("latex, text", [
    (r"\mathbf{W}\mathbf{x} + \mathbf{b}", "W@x + b"),
    (r"\left\|\mathbf{W}\mathbf{x} + \mathbf{b} - \mathbf{y}\right\|_2^2", "norm2(W@x + b - y)"),
    (r"\|Wx - y\|^2", "norm2(W@x - y)"),
    (r"\mathbf{x}^\top \mathbf{W}^{\top}", "x.T @ W.T"),
    (r"\operatorname{tr}(\mathbf{W}\mathbf{W}^\top)", "trace(W @ W.T)"),
    (r"\sigma(\mathbf{W}\mathbf{x}) \odot \mathbf{b}", "sigmoid(W@x) * b"),
    (r"\sigma'(\mathbf{W}\mathbf{x})", "sigmoid_prime(W@x)"),
    (r"2(\mathbf{W}\mathbf{x} - \mathbf{y})\mathbf{x}^\top", "2*(W@x - y)@x.T"),
    (r"\frac{1}{2}\|\mathbf{W}\mathbf{x}\|^2", "0.5*norm2(W@x)"),
    (r"\log\det(\mathbf{W}\mathbf{W}^\top)", "logdet(W@W.T)"),
    (r"(\mathbf{W}\mathbf{W}^\top)^{-1}", "inv(W@W.T)"),
])
def test_latex_front_matches_text(latex, text):
    rng = np.random.default_rng(0)
    env = {"W": rng.standard_normal((3, 4)), "x": rng.standard_normal((4, 1)),
           "b": rng.standard_normal((3, 1)), "y": rng.standard_normal((3, 1))}
    a = compile_node(typed(latex))(env)
    b = compile_node(typed(text))(env)
    assert np.allclose(a, b)


def test_latex_subscripts_and_greek():
    assert "W2" in latex_to_text(r"\mathbf{W}_2^\top \boldsymbol{\delta}_2")
    assert "delta2" in latex_to_text(r"\mathbf{W}_2^\top \boldsymbol{\delta}_2")


def test_latex_errors_are_parse_errors():
    with pytest.raises(ParseError):
        typed(r"\mathbf{W}^{q}")
    with pytest.raises(ParseError):
        typed(r"\frobnicate{W}")


def test_text_and_latex_printing():
    node = typed("2*(W@x + b - y)@x.T")
    assert to_text(node) == "2(Wx + b − y)xᵀ"
    assert to_latex(node) == r"2 \left(\mathbf{W} \mathbf{x} + \mathbf{b} - \mathbf{y}\right) \mathbf{x}^\top"


def test_numpy_printing_round_trips():
    for text in ["2 * (W @ x + b - y) @ x.T", "sigmoid(W @ x) * b", "sum(W, axis=1)",
                 "trace(inv(W @ W.T))", "-W.T @ b"]:
        node = typed(text)
        again = typed(to_numpy_text(node))
        rng = np.random.default_rng(1)
        env = {"W": rng.standard_normal((3, 4)), "x": rng.standard_normal((4, 1)),
               "b": rng.standard_normal((3, 1)), "y": rng.standard_normal((3, 1))}
        assert np.allclose(compile_node(node)(env), compile_node(again)(env))


def test_limits():
    from derivekit.errors import LimitError
    with pytest.raises(LimitError):
        typed("(" * 300 + "W" + ")" * 300)


@pytest.mark.parametrize("latex, text", [
    (r"\operatorname{Tr}\left(\mathbf{X}^{-1}\right)", "trace(inv(X))"),
    (r"\mathbf{W}_{2}^{\top}\boldsymbol{\delta}^{(2)}", "W2.T & delta2"),
    (r"\mathbf{W}^{[1]}\mathbf{x}", "W1 & x"),
    (r"\sigma\left(\mathbf{W}\mathbf{x}\right) \circ (1 - \sigma(\mathbf{W}\mathbf{x}))",
     "sigmoid(W & x) * (1 - sigmoid(W & x))"),
    (r"\bm{x}^T \bm{A} \bm{x}", "x.T & A & x"),
    (r"\tanh^\prime(\mathbf{z})", "tanh_prime(z)"),
    (r"\mathrm{tr}(\mathbf{A}\mathbf{X}\mathbf{B})", "trace(A & X & B)"),
])
def test_latex_normalisation(latex, text):
    assert latex_to_text(latex).replace("(", "").replace(")", "") == text.replace("(", "").replace(")", "")


def test_huge_shapes_are_refused():
    from derivekit.errors import LimitError
    with pytest.raises(LimitError, match="entries"):
        resolve_shapes({"W": (100_000, 100_000)})


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

from derivekit.errors import DerivekitError  # noqa: E402

_ALPHABET = st.sampled_from(list("Wxyb@*+-/().T ,=_12") + ["sum(", "sigmoid(", "norm2(", ".T",
                                                             "\\mathbf{", "}", "^\\top", "\\odot",
                                                             "\\|", "\\frac{", "{", "^{-1}", "'"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=25).map("".join))
def test_fuzzed_input_only_raises_derivekit_errors(text):
    try:
        annotate(parse_matrix(text), SHAPES)
    except DerivekitError:
        pass
