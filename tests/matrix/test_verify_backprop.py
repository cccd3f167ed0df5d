"""verify_backprop: right claims pass, wrong ones are caught and their mistake is named.

The mutation corpus builds well over 100 wrong claims from correct ones, one error class at
a time, and asserts that each is rejected with that class."""

import numpy as np
import pytest

import derivekit as dk
from derivekit.errors import ParseError

DERIV = {"sigmoid": "sigmoid_prime", "tanh": "tanh_prime", "relu": "relu_prime"}
SINGLE = {"W1": (5, 4), "x": (4, 1), "b1": (5, 1), "W2": (3, 5), "b2": (3, 1), "y": (3, 1)}
BATCH = {"W1": (5, 4), "X": (4, "N"), "b1": (5, 1), "W2": (3, 5), "b2": (3, 1), "Y": (3, "N")}
LINEAR = {"W": (3, 4), "X": (4, "N"), "b": (3, 1), "Y": (3, "N")}


def corpus():
    """(loss, wrt, shapes, correct claim, [(error class, wrong claim), ...])"""
    cases = []
    for act, p in DERIV.items():
        ce = f"z1 = W1@x + b1; a1 = {act}(z1); z2 = W2@a1 + b2; softmax_ce(z2, y)"
        cases += [
            (ce, "W1", SINGLE, f"((W2.T @ (softmax(z2) - y)) * {p}(z1)) @ x.T", [
                ("transposed_factor", f"((W2 @ (softmax(z2) - y)) * {p}(z1)) @ x.T"),
                ("missing_activation_derivative", "(W2.T @ (softmax(z2) - y)) @ x.T"),
                ("activation_instead_of_derivative", f"((W2.T @ (softmax(z2) - y)) * {act}(z1)) @ x.T"),
                ("wrong_sign", f"((W2.T @ (y - softmax(z2))) * {p}(z1)) @ x.T"),
                ("xt_wrong_side", f"x.T @ ((W2.T @ (softmax(z2) - y)) * {p}(z1))"),
                ("xt_wrong_side", f"x @ ((W2.T @ (softmax(z2) - y)) * {p}(z1)).T"),
            ]),
            (ce, "W2", SINGLE, "(softmax(z2) - y) @ a1.T", [
                ("transposed_factor", "(softmax(z2) - y) @ a1"),
                ("xt_wrong_side", "a1.T @ (softmax(z2) - y)"),
                ("wrong_sign", "(y - softmax(z2)) @ a1.T"),
            ]),
            (ce, "b1", SINGLE, f"(W2.T @ (softmax(z2) - y)) * {p}(z1)", [
                ("missing_activation_derivative", "W2.T @ (softmax(z2) - y)"),
                ("activation_instead_of_derivative", f"(W2.T @ (softmax(z2) - y)) * {act}(z1)"),
                ("transposed_factor", f"(W2 @ (softmax(z2) - y)) * {p}(z1)"),
                ("wrong_sign", f"-(W2.T @ (softmax(z2) - y)) * {p}(z1)"),
            ]),
        ]
        mse = f"norm2(W2 @ {act}(W1@x + b1) + b2 - y)"
        cases += [
            (mse, "W2", SINGLE, "2*(z2 - y) @ a1.T", [
                ("missing_factor_2", "(z2 - y) @ a1.T"),
                ("wrong_sign", "2*(y - z2) @ a1.T"),
                ("xt_wrong_side", "2*a1 @ (z2 - y).T"),
                ("transposed_factor", "2*(z2 - y) @ a1"),
            ]),
            (mse, "W1", SINGLE, f"((W2.T @ (2*(z2 - y))) * {p}(z1)) @ x.T", [
                ("missing_factor_2", f"((W2.T @ (z2 - y)) * {p}(z1)) @ x.T"),
                ("missing_activation_derivative", "(W2.T @ (2*(z2 - y))) @ x.T"),
                ("activation_instead_of_derivative", f"((W2.T @ (2*(z2 - y))) * {act}(z1)) @ x.T"),
                ("transposed_factor", f"((W2 @ (2*(z2 - y))) * {p}(z1)) @ x.T"),
            ]),
        ]
        batch = f"z1 = W1@X + b1; a1 = {act}(z1); z2 = W2@a1 + b2; (1/N)*softmax_ce(z2, Y, axis=0)"
        cases += [
            (batch, "b1", BATCH, f"(1/N)*sum((W2.T @ (softmax(z2, axis=0) - Y)) * {p}(z1), axis=1, keepdims=True)", [
                ("bias_not_summed", f"(1/N)*(W2.T @ (softmax(z2, axis=0) - Y)) * {p}(z1)"),
                ("missing_1_over_N", f"sum((W2.T @ (softmax(z2, axis=0) - Y)) * {p}(z1), axis=1, keepdims=True)"),
                ("missing_activation_derivative", "(1/N)*sum(W2.T @ (softmax(z2, axis=0) - Y), axis=1, keepdims=True)"),
                ("activation_instead_of_derivative",
                 f"(1/N)*sum((W2.T @ (softmax(z2, axis=0) - Y)) * {act}(z1), axis=1, keepdims=True)"),
            ]),
            (batch, "b2", BATCH, "(1/N)*sum(softmax(z2, axis=0) - Y, axis=1, keepdims=True)", [
                ("bias_not_summed", "(1/N)*(softmax(z2, axis=0) - Y)"),
                ("missing_1_over_N", "sum(softmax(z2, axis=0) - Y, axis=1, keepdims=True)"),
                ("wrong_sign", "(1/N)*sum(Y - softmax(z2, axis=0), axis=1, keepdims=True)"),
            ]),
            (batch, "W2", BATCH, "(1/N)*(softmax(z2, axis=0) - Y) @ a1.T", [
                ("missing_1_over_N", "(softmax(z2, axis=0) - Y) @ a1.T"),
                ("transposed_factor", "(1/N)*(softmax(z2, axis=0) - Y) @ a1"),
                ("xt_wrong_side", "(1/N)*a1 @ (softmax(z2, axis=0) - Y).T"),
            ]),
            (batch, "W1", BATCH, f"(1/N)*((W2.T @ (softmax(z2, axis=0) - Y)) * {p}(z1)) @ X.T", [
                ("missing_1_over_N", f"((W2.T @ (softmax(z2, axis=0) - Y)) * {p}(z1)) @ X.T"),
                ("missing_activation_derivative", "(1/N)*(W2.T @ (softmax(z2, axis=0) - Y)) @ X.T"),
                ("activation_instead_of_derivative", f"(1/N)*((W2.T @ (softmax(z2, axis=0) - Y)) * {act}(z1)) @ X.T"),
                ("transposed_factor", f"(1/N)*((W2 @ (softmax(z2, axis=0) - Y)) * {p}(z1)) @ X.T"),
                ("xt_wrong_side", f"(1/N)*X.T @ ((W2.T @ (softmax(z2, axis=0) - Y)) * {p}(z1))"),
            ]),
        ]
    lin = "(1/N)*norm2(W@X + b - Y)"
    cases += [
        (lin, "W", LINEAR, "(2/N)*(W@X + b - Y)@X.T", [
            ("missing_factor_2", "(1/N)*(W@X + b - Y)@X.T"),
            ("missing_1_over_N", "2*(W@X + b - Y)@X.T"),
            ("wrong_sign", "(2/N)*(Y - W@X - b)@X.T"),
            ("xt_wrong_side", "(2/N)*X.T@(W@X + b - Y)"),
            ("xt_wrong_side", "(2/N)*X@(W@X + b - Y).T"),
        ]),
        (lin, "b", LINEAR, "(2/N)*sum(W@X + b - Y, axis=1, keepdims=True)", [
            ("bias_not_summed", "(2/N)*(W@X + b - Y)"),
            ("missing_factor_2", "(1/N)*sum(W@X + b - Y, axis=1, keepdims=True)"),
            ("missing_1_over_N", "2*sum(W@X + b - Y, axis=1, keepdims=True)"),
        ]),
    ]
    return cases


CASES = corpus()
RIGHT = [(loss, wrt, shapes, claim) for loss, wrt, shapes, claim, _ in CASES]
WRONG = [(loss, wrt, shapes, cls, bad) for loss, wrt, shapes, _, muts in CASES for cls, bad in muts]


def test_corpus_is_large_enough():
    assert len(WRONG) >= 100


@pytest.mark.parametrize("loss, wrt, shapes, claim", RIGHT)
def test_correct_claims_pass(loss, wrt, shapes, claim):
    v = dk.verify_backprop(loss, claim, wrt=wrt, shapes=shapes)
    assert v.ok, v.diagnosis
    assert v.error_class is None and v.counterexample is None and v.max_rel_error < 1e-7


@pytest.mark.parametrize("loss, wrt, shapes, cls, claim", WRONG)
def test_mutation_is_rejected_with_its_class(loss, wrt, shapes, cls, claim):
    v = dk.verify_backprop(loss, claim, wrt=wrt, shapes=shapes)
    assert not v.ok
    assert v.error_class == cls, v.diagnosis
    assert v.diagnosis


def test_shape_message_names_the_sub_product():
    shapes = {"W1": (8, 4), "x": (4, 1), "b1": (8, 1), "W2": (3, 8), "b2": (3, 1), "y": (3, 1)}
    loss = "z1 = W1@x + b1; a1 = sigmoid(z1); z2 = W2@a1 + b2; softmax_ce(z2, y)"
    v = dk.verify_backprop(loss, "(W2 @ delta2) * sigmoid_prime(z1)", wrt="b1", shapes=shapes)
    assert not v.ok and v.error_class == "transposed_factor"
    assert "W₂ (3×8) cannot multiply δ₂ (3×1)" in v.diagnosis
    assert "did you mean W₂ᵀ?" in v.diagnosis
    assert v.fix.to_text() == "(W₂ᵀδ₂) ⊙ σ′(z₁)"


def test_counterexample_and_expected():
    v = dk.verify_backprop("norm2(W@x - y)", "(W@x - y)@x.T", wrt="W",
                           shapes={"W": (3, 4), "x": (4, 1), "y": (3, 1)})
    assert not v.ok and v.error_class == "missing_factor_2"
    assert set(v.counterexample) >= {"seed", "inputs", "claimed", "expected"}
    assert v.expected.to_text() == "2(Wx − y)xᵀ"
    assert np.isfinite(v.max_rel_error) and v.max_rel_error > 0.1
    assert "wrong" in v.to_text() and v.to_dict()["error_class"] == "missing_factor_2"


def test_first_wrong_stage_is_reported():
    loss = "z1 = W1@x + b1; a1 = sigmoid(z1); z2 = W2@a1 + b2; softmax_ce(z2, y)"
    claim = ("delta2 = softmax(z2) - y; delta1 = (W2.T @ delta2) * sigmoid(z1); delta1 @ x.T")
    v = dk.verify_backprop(loss, claim, wrt="W1", shapes=SINGLE)
    assert not v.ok and v.stage == "delta1"
    assert v.error_class == "activation_instead_of_derivative"
    assert "δ₁" in v.diagnosis
    right = "delta2 = softmax(z2) - y; delta1 = (W2.T @ delta2) * sigmoid_prime(z1); delta1 @ x.T"
    assert dk.verify_backprop(loss, right, wrt="W1", shapes=SINGLE).ok


def test_latex_claim():
    loss = "z1 = W1@x + b1; a1 = sigmoid(z1); z2 = W2@a1 + b2; softmax_ce(z2, y)"
    claim = r"\left[(\mathbf{W}_2^\top \boldsymbol{\delta}_2) \odot \sigma'(\mathbf{z}_1)\right]\mathbf{x}^\top"
    assert dk.verify_backprop(loss, claim, wrt="W1", shapes=SINGLE).ok
    wrong = r"\left[(\mathbf{W}_2 \boldsymbol{\delta}_2) \odot \sigma'(\mathbf{z}_1)\right]\mathbf{x}^\top"
    assert dk.verify_backprop(loss, wrong, wrt="W1", shapes=SINGLE).error_class == "transposed_factor"


def test_claim_shape_differs_from_parameter():
    v = dk.verify_backprop("norm2(W@x - y)", "2*(W@x - y)", wrt="W",
                           shapes={"W": (3, 4), "x": (4, 1), "y": (3, 1)})
    assert not v.ok and "3×1" in v.diagnosis and "3×4" in v.diagnosis


def test_unknown_name_in_claim_is_an_input_error():
    with pytest.raises(ParseError, match="unknown name"):
        dk.verify_backprop("norm2(W@x - y)", "2*(W@x - q)@x.T", wrt="W",
                           shapes={"W": (3, 4), "x": (4, 1), "y": (3, 1)})


def test_unexplained_mistake():
    v = dk.verify_backprop("norm2(W@x - y)", "W@x@x.T@x@x.T", wrt="W",
                           shapes={"W": (3, 4), "x": (4, 1), "y": (3, 1)})
    assert not v.ok and v.error_class == "unknown"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

_PIECES = st.sampled_from(["W", "x", "y", "@", "*", "+", "-", "(", ")", ".T", "2", "sum(",
                           "sigmoid(", "ones", "I", ",", "axis=1", "delta", "z", "relu_prime("])


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=12).map(" ".join))
def test_fuzzed_claims_give_a_verdict_or_an_input_error(claim):
    try:
        v = dk.verify_backprop("norm2(W@x - y)", claim, wrt="W",
                               shapes={"W": (3, 4), "x": (4, 1), "y": (3, 1)})
    except dk.DerivekitError:
        return
    assert isinstance(v.ok, bool) and v.diagnosis


DEEP = "z1 = W1@X + b1; a1 = sigmoid(z1); z2 = W2@a1 + b2; a2 = tanh(z2); z3 = W3@a2 + b3; (1/N)*softmax_ce(z3, Y, axis=0)"
DEEP_SHAPES = {"W1": (8, 4), "X": (4, "N"), "b1": (8, 1), "W2": (6, 8), "b2": (6, 1), "W3": (3, 6),
               "b3": (3, 1), "Y": (3, "N")}


@pytest.mark.parametrize("claim, cls", [
    ("(1/N)*((W2.T @ ((W3.T @ (softmax(z3, axis=0) - Y)) * tanh_prime(z2))) * sigmoid_prime(z1)) @ X.T", None),
    ("(1/N)*((W2.T @ ((W3.T @ (softmax(z3, axis=0) - Y)) * sigmoid_prime(z2))) * sigmoid_prime(z1)) @ X.T",
     "wrong_activation_derivative"),
    ("(1/N)*((W2.T @ ((W3.T @ (softmax(z3, axis=0) - Y)) * tanh_prime(z2))) * sigmoid_prime(z2)) @ X.T",
     "wrong_activation_derivative"),
    ("(1/N)*((W2.T @ ((W3.T @ (softmax(z3, axis=0) - Y)) * tanh_prime(z2)))) @ X.T", "missing_activation_derivative"),
])
def test_three_layer_claims(claim, cls):
    v = dk.verify_backprop(DEEP, claim, wrt="W1", shapes=DEEP_SHAPES)
    assert v.ok == (cls is None)
    if cls:
        assert v.error_class == cls, v.diagnosis


@pytest.mark.parametrize("loss, wrt, shapes, claim", RIGHT)
def test_claims_printed_as_latex_read_back(loss, wrt, shapes, claim):
    """The LaTeX printer's output of each correct claim is itself accepted as a claim."""
    v = dk.verify_backprop(loss, claim, wrt=wrt, shapes=shapes)
    latex = v.claim.to_latex()
    again = dk.verify_backprop(loss, latex, wrt=wrt, shapes=shapes)
    assert again.ok, (latex, again.diagnosis)


def test_claim_may_be_a_derived_expression():
    shapes = {"W": (3, 4), "x": (4, 1), "y": (3, 1)}
    m = dk.matrix_gradient("norm2(W@x - y)", wrt="W", shapes=shapes)
    assert dk.verify_backprop("norm2(W@x - y)", m.result, wrt="W", shapes=shapes).ok


def test_shown_fix_is_tidied():
    # a sign edit used to be shown as "softmax(z₂) + −1y"
    loss = "z1 = W1@x + b1; a1 = sigmoid(z1); z2 = W2@a1 + b2; L = softmax_ce(z2, y)"
    claim = "delta2 = softmax(z2) + y; delta1 = (W2.T@delta2) * a1*(1-a1); delta1@x.T"
    v = dk.verify_backprop(loss, claim, "W1", SINGLE)
    assert not v.ok and v.error_class == "wrong_sign"
    assert v.fix.to_text() == "softmax(z₂) − y"


@pytest.mark.parametrize("loss, shapes, claim, cls, fix", [
    # the transpose on δ instead of x: δᵀx for δxᵀ (a shape error, repaired by one move)
    ("z = W@x; L = norm2(z - y)", {"W": (3, 4), "x": (4, 1), "y": (3, 1)}, "2*(z-y).T@x",
     "xt_wrong_side", "2(z − y)xᵀ"),
    ("(1/N)*norm2(W@X + b - Y)", LINEAR, "(2/N)*(W@X + b - Y).T@X", "xt_wrong_side", "(2/N)(WX + b − Y)Xᵀ"),
    # X⁻¹ for X⁻ᵀ is a transposed factor, not "xᵀ on the wrong side" (was misclassified)
    ("logdet(X)", {"X": (3, 3)}, "inv(X)", "transposed_factor", "X⁻ᵀ"),
])
def test_review_transpose_diagnoses(loss, shapes, claim, cls, fix):
    v = dk.verify_backprop(loss, claim, "W" if "W" in shapes else "X", shapes)
    assert not v.ok and v.error_class == cls, v.diagnosis
    assert v.fix.to_text() == fix


@pytest.mark.parametrize("loss, shapes, claim, wrt", [
    ("x.T@A@x", {"A": (3, 3), "x": (3, 1)}, "2*A@x", "x"),
    ("trace(X.T@A@X)", {"A": (3, 3), "X": (3, 4)}, "2*A@X", "X"),
])
def test_claim_that_assumes_a_symmetric_matrix(loss, shapes, claim, wrt):
    v = dk.verify_backprop(loss, claim, wrt, shapes)
    assert not v.ok and v.error_class == "assumed_symmetric", v.diagnosis
    assert "when A is symmetric" in v.diagnosis


def test_symmetric_check_does_not_excuse_other_mistakes():
    v = dk.verify_backprop("logdet(X)", "X", "X", {"X": (3, 3)})
    assert not v.ok and v.error_class == "unknown"


def test_diagnosis_prints_scalars_in_a_shape_broken_claim_as_scalars():
    # was "swap the factors of [(2 / N) ⊙ Xᵀ](WX + b − Y)"
    v = dk.verify_backprop("(1/N)*norm2(W@X + b - Y)", "(2/N)*X.T@(W@X + b - Y)", "W", LINEAR)
    assert v.error_class == "xt_wrong_side"
    assert "swap the factors of (2/N)Xᵀ(WX + b − Y)" in v.diagnosis and "⊙" not in v.diagnosis


def test_latex_of_a_wrong_claim_shows_the_diagnosis_the_claim_and_the_expected_gradient():
    v = dk.verify_backprop("norm2(W1@x - y)", "(W1@x-y)@x.T", "W1", "W1=2x3,x=3x1,y=2x1")
    notebook = v.to_latex()
    assert notebook.startswith(r"\begin{aligned}") and "factor 2" in notebook
    assert r"\text{claimed}" in notebook and r"\text{expected}" in notebook
    assert r"\partial W_{1}" in notebook and "W₁" not in notebook  # the name as LaTeX, not Unicode
    document = v.render("latex", document=True)
    assert r"\textbf{wrong:}" in document and document.count(r"\[") == 2  # claimed, expected
    assert r"\text{" not in document  # prose in text mode, so it wraps


def test_latex_of_a_right_claim_shows_it_once():
    v = dk.verify_backprop("norm2(W1@x - y)", "2*(W1@x-y)@x.T", "W1", "W1=2x3,x=3x1,y=2x1")
    assert v.ok and v.render("latex", document=True).count(r"\[") == 1
