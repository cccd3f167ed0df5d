"""The matgrad, backprop, check-backprop and gradflow commands."""

import json

import pytest

from derivekit.cli import main

SHAPES = "W=3x4,x=4x1,b=3x1,y=3x1"


def test_matgrad_text(capsys):
    assert main(["matgrad", "norm2(W@x + b - y)", "--wrt", "W", "--shapes", SHAPES]) == 0
    out = capsys.readouterr().out
    assert "∂L/∂W = 2(Wx + b − y)xᵀ" in out and "central-difference check passed" in out


@pytest.mark.parametrize("fmt, marker", [("latex", "\\begin{aligned}"), ("markdown", "**Result**")])
def test_matgrad_formats(capsys, fmt, marker):
    assert main(["matgrad", "norm2(W@x + b - y)", "--wrt", "W", "--shapes", SHAPES, "--format", fmt]) == 0
    assert marker in capsys.readouterr().out


def test_matgrad_json_and_latex_input(capsys):
    assert main(["matgrad", r"\|\mathbf{W}\mathbf{x} + \mathbf{b} - \mathbf{y}\|^2", "--wrt", "W",
                 "--shapes", SHAPES, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["result"]["text"] == "2(Wx + b − y)xᵀ" and data["check"]["ok"]


def test_matgrad_errors_exit_2(capsys):
    assert main(["matgrad", "norm2(x@W)", "--wrt", "W", "--shapes", SHAPES]) == 2
    assert "cannot multiply" in capsys.readouterr().err
    assert main(["matgrad", "norm2(W@@x)", "--wrt", "W", "--shapes", SHAPES]) == 2
    assert main(["matgrad", "norm2(W@x)", "--wrt", "W", "--shapes", "W=3by4"]) == 2
    assert main(["matgrad", "norm2(W@x)", "--shapes", SHAPES]) == 2  # --wrt missing


def test_backprop_command(capsys):
    assert main(["backprop", "x:4 -> linear:8 -> sigmoid -> linear:3 -> softmax_ce"]) == 0
    out = capsys.readouterr().out
    assert "δ₁ = (W₂ᵀδ₂) ⊙ σ′(z₁)" in out and "∂L/∂W₁ = δ₁xᵀ" in out
    assert main(["backprop", "x:4 -> linear:8 -> sigmoid -> linear:3 -> softmax_ce", "--batch", "16",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["check_ok"] and data["shapes"]["X"] == [4, 16]
    assert main(["backprop", "x:4 -> linear:8 -> sigmod -> mse"]) == 2
    assert "did you mean 'sigmoid'" in capsys.readouterr().err


def test_check_backprop_right_and_wrong(capsys):
    args = ["check-backprop", "norm2(W@x + b - y)", "--wrt", "W", "--shapes", SHAPES, "--claim"]
    assert main(args + ["2*(W@x + b - y)@x.T"]) == 0
    assert capsys.readouterr().out.startswith("correct")
    assert main(args + ["(W@x + b - y)@x.T"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("wrong") and "missing factor 2" in out
    assert main(args + ["2*x.T@(W@x + b - y)"]) == 1  # shape-inconsistent claim: wrong, not usage
    out = capsys.readouterr().out
    assert "cannot multiply" in out and "xᵀ on the wrong side" in out


def test_check_backprop_mlp_stage_and_json(capsys):
    loss = "z1 = W1@x + b1; a1 = sigmoid(z1); z2 = W2@a1 + b2; softmax_ce(z2, y)"
    shapes = "W1=8x4,x=4x1,b1=8x1,W2=3x8,b2=3x1,y=3x1"
    assert main(["check-backprop", loss, "--wrt", "b1", "--shapes", shapes,
                 "--claim", "(W2 @ delta2) * sigmoid_prime(z1)", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["error_class"] == "transposed_factor"
    assert "W₂ (3×8) cannot multiply δ₂ (3×1)" in data["diagnosis"]


def test_check_backprop_input_errors_exit_2(capsys):
    args = ["check-backprop", "norm2(W@x - y)", "--wrt", "W", "--shapes", SHAPES]
    assert main(args + ["--claim", "2*(W@x - y"]) == 2
    assert main(args + ["--claim", "2*(W@x - q)@x.T"]) == 2
    assert main(["check-backprop", "norm2(x@W)", "--wrt", "W", "--shapes", SHAPES, "--claim", "W"]) == 2


def test_gradflow_command(capsys, tmp_path):
    assert main(["gradflow", "--depth", "10", "--width", "32", "--activation", "sigmoid"]) == 0
    out = capsys.readouterr().out
    assert "verdict: vanishing" in out and "≤ 1/4" in out
    assert main(["gradflow", "--compare", "--format", "markdown"]) == 0
    assert "| layer | sigmoid | tanh | relu |" in capsys.readouterr().out
    plot = tmp_path / "flow.png"
    assert main(["gradflow", "--depth", "4", "--compare", "--plot", str(plot)]) == 0
    assert plot.exists()
    assert main(["gradflow", "--activation", "swish"]) == 2


def test_matgrad_hessian_and_jacobian_flags(capsys):
    assert main(["matgrad", "x.T@A@x", "--wrt", "x", "--shapes", "A=3x3,x=3x1", "--hessian"]) == 0
    assert "Hessian   = A + Aᵀ" in capsys.readouterr().out
    assert main(["matgrad", "sigmoid(W@x)", "--wrt", "x", "--shapes", "W=3x4,x=4x1", "--jacobian",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "jacobian" and data["result"]["text"] == "diag(σ(Wx) ⊙ (𝟙 − σ(Wx)))W"
    # by a matrix: ∂²L/∂vec(W)∂vec(W)ᵀ where it has a Kronecker form, else a refusal naming vec
    assert main(["matgrad", "sum(W@x)", "--wrt", "W", "--shapes", "W=3x4,x=4x1", "--hessian"]) == 0
    assert "Hessian   = 0    (12×12)" in capsys.readouterr().out
    assert main(["matgrad", "logdet(W)", "--wrt", "W", "--shapes", "W=3x3", "--hessian"]) == 2
    assert "vec(W)" in capsys.readouterr().err


SOFTMAX_CLAIM = "diag(softmax(z)) - softmax(z)@softmax(z).T"


@pytest.mark.parametrize("claim, code, words", [
    (SOFTMAX_CLAIM, 0, "correct: the claim matches the Jacobian ∂f/∂zᵀ"),
    ("diag(softmax(z))", 1, "the term −softmax(z)softmax(z)ᵀ of the Jacobian is missing"),
    ("softmax(z)@softmax(z).T - diag(softmax(z))", 1, "the wrong sign"),
    ("diag(softmax(z)) + softmax(z)@softmax(z).T", 1, "has the wrong sign"),
    ("softmax(z)", 1, "the claim is 4×1, but the Jacobian ∂f/∂zᵀ of the 4×1 f by the 4×1 z is 4×4"),
])
def test_check_backprop_jacobian(capsys, claim, code, words):
    assert main(["check-backprop", "softmax(z)", "--wrt", "z", "--jacobian", "--claim", claim,
                 "--shapes", "z: 4x1"]) == code
    assert words in capsys.readouterr().out


def test_check_backprop_transposed_jacobian(capsys):
    assert main(["check-backprop", "W@x", "--wrt", "x", "--jacobian", "--claim", "W.T",
                 "--shapes", "W: 3x3, x: 3x1"]) == 1
    assert "the transpose of the Jacobian" in capsys.readouterr().out


@pytest.mark.parametrize("loss, claim, shapes", [
    ("logsumexp(x)", "diag(softmax(x)) - softmax(x)@softmax(x).T", "x: 4x1"),
    ("sum(log(1+exp(X@w))) - y.T@X@w", "X.T@diag(sigmoid(X@w)*(1-sigmoid(X@w)))@X",
     "X: 5x3, w: 3x1, y: 5x1"),
    ("sum(softplus(X@w)) - y.T@X@w", "X.T@diag(sigmoid(X@w)*(1-sigmoid(X@w)))@X",
     "X: 5x3, w: 3x1, y: 5x1"),
])
def test_check_backprop_hessian_right(capsys, loss, claim, shapes):
    wrt = "x" if "x:" in shapes else "w"
    assert main(["check-backprop", loss, "--wrt", wrt, "--hessian", "--claim", claim,
                 "--shapes", shapes]) == 0
    assert "correct: the claim matches the Hessian" in capsys.readouterr().out


def test_check_backprop_hessian_wrong_and_json(capsys):
    args = ["check-backprop", "x.T@A@x", "--wrt", "x", "--hessian", "--shapes", "x: 3x1, A: 3x3"]
    assert main(args + ["--claim", "2*A"]) == 1
    assert '--assume "A: symmetric"' in capsys.readouterr().out
    assert main(args + ["--claim", "2*A", "--assume", "A: symmetric"]) == 0
    capsys.readouterr()
    assert main(args + ["--claim", "A", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "hessian" and data["status"] == "wrong" and data["counterexample"]


def test_check_backprop_jacobian_that_cannot_be_checked_exits_2(capsys):
    assert main(["check-backprop", "log(x)", "--wrt", "x", "--jacobian", "--claim", "diag(log(-x))",
                 "--shapes", "x: 3x1"]) == 2
    assert "cannot check" in capsys.readouterr().out


def test_matgrad_symmetric_declaration_reaches_the_tidying(capsys):
    base = ["matgrad", "x.T@A@x", "--wrt", "x", "--shapes", "A: 3x3, x: 3x1"]
    assert main(base + ["--assume", "A: symmetric"]) == 0
    out = capsys.readouterr().out
    assert "∂L/∂x = 2Ax    (3×1" in out and "[A is symmetric (declared): A + Aᵀ = 2A]" in out
    assert main(base + ["--assume", "A: symmetric", "--hessian"]) == 0
    out = capsys.readouterr().out
    assert "Hessian   = 2A    (3×3)" in out and "assuming A is symmetric" in out
    assert main(base) == 0
    assert "∂L/∂x = (A + Aᵀ)x    (3×1" in capsys.readouterr().out
    assert main(base + ["--hessian"]) == 0
    assert "Hessian   = A + Aᵀ    (3×3)" in capsys.readouterr().out


def test_matgrad_logistic_hessian_in_textbook_form(capsys):
    assert main(["matgrad", "sum(log(1+exp(X@w))) - y.T@X@w", "--wrt", "w", "--hessian",
                 "--shapes", "X: 5x3, w: 3x1, y: 5x1"]) == 0
    out = capsys.readouterr().out
    assert "Hessian   = Xᵀ·diag(σ(Xw) ⊙ (𝟙 − σ(Xw)))X    (3×3)" in out
    assert "σ′ written out: σ′(Xw) → σ(Xw) ⊙ (𝟙 − σ(Xw))    [σ′(z) = σ(z)(1 − σ(z))]" in out


_CLAIM_TOKENS = ["z", "W", "W.T", "I", "ones", "diag(z)", "softmax(z)", "z.T", "2", "0", "-", "+",
                 "@", "*", "/", "(", ")", "sigmoid(", "diag(", "log(", "exp(", "sum(", "x", "1e308",
                 "**", "-1", ";", "s = ", "s"]


@pytest.mark.parametrize("seed", range(4))
def test_check_backprop_jacobian_and_hessian_survive_random_claims(capsys, seed):
    """Random token strings as claimed Jacobians and Hessians: a verdict or a clear error
    (exit 1 or 2), never an internal error (3), a traceback, or a pass."""
    import random
    rng = random.Random(seed)
    for _ in range(15):
        claim = " ".join(rng.choice(_CLAIM_TOKENS) for _ in range(rng.randint(1, 9)))
        kind = rng.choice(["--jacobian", "--hessian"])
        expr = "softmax(W@z)" if kind == "--jacobian" else "logsumexp(W@z)"
        code = main(["check-backprop", expr, "--wrt", "z", kind, "--claim", claim,
                     "--shapes", "z: 3x1, W: 3x3"])
        out = capsys.readouterr()
        assert code in (1, 2), (claim, kind, code, out.err)
        assert "Traceback" not in out.err


def test_matgrad_jacobian_and_hessian_json_carry_shapes_and_the_check_like_a_gradient(capsys):
    import json
    for argv, want in ((["softmax(z)", "--wrt", "z", "--jacobian", "--shapes", "z=3x1"], {"z": [3, 1]}),
                       (["x.T@A@x", "--wrt", "x", "--hessian", "--shapes", "x=3x1,A=3x3"],
                        {"x": [3, 1], "A": [3, 3]})):
        assert main(["matgrad", *argv, "--format", "json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["shapes"] == want
        assert data["check"]["ok"] is True and data["check"]["max_rel_error"] < 1e-6
