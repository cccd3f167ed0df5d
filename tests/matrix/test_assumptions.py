"""Declared assumptions, sampling that respects them, verdicts that name them, and checks that
never pass on non-finite values ("cannot check" instead)."""

import numpy as np
import pytest

import derivekit as dk
from derivekit.cli import main
from derivekit.errors import DerivekitError
from derivekit.matrix.assumptions import KINDS, declaration, parse_assumptions
from derivekit.matrix.evaluate import (
    CannotCheckError,
    domains,
    finite_difference_check,
    sample,
)
from derivekit.matrix.gradient import prepare_loss

CS231N_GENERAL = "Z = X@W; -(1/N)*trace(Y.T@log(softmax(Z, axis=1)))"   # right for any Y
CS231N_CLAIM = "(1/N)*X.T@(softmax(Z, axis=1) - Y)"                     # right for one-hot rows of Y
CS231N_SHAPES = "X=NxD,W=DxC,Y=NxC"


# --- reading --assume ------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Y: one-hot rows", {"Y": "one-hot rows"}),
    ("Y: onehot_rows, A: symmetric", {"Y": "one-hot rows", "A": "symmetric"}),
    ("Y: one-hot columns; A: SPD", {"Y": "one-hot columns", "A": "positive definite"}),
    ("y: one-hot", {"y": "one-hot columns"}),          # a column vector has one axis
    ("r: one-hot", {"r": "one-hot rows"}),
    ("P: probabilities, X: positive", {"P": "probabilities", "X": "positive"}),
])
def test_assumptions_are_read(text, expected):
    shapes = {"Y": (3, 4), "A": (3, 3), "y": (4, 1), "r": (1, 4), "P": (2, 2), "X": (2, 5)}
    assert parse_assumptions(text, shapes) == expected
    assert parse_assumptions(declaration(expected), shapes) == expected   # printed text reads back


@pytest.mark.parametrize("text, words", [
    ("Y: fancy", "unknown assumption 'fancy'"),
    ("Q: symmetric", "names no input"),
    ("Y: symmetric", "not square"),
    ("Y: one-hot", "does not say along which axis"),
    ("Y one-hot rows", "cannot read the assumption"),
])
def test_bad_assumptions_are_refused_with_what_to_write(text, words):
    with pytest.raises(DerivekitError) as info:
        parse_assumptions(text, {"Y": (3, 4)})
    assert words in str(info.value) and info.value.hint


# --- sampling respects the structure ------------------------------------------------------

@pytest.mark.parametrize("seed", range(20))
def test_samples_have_the_declared_structure(seed):
    rng = np.random.default_rng(seed)
    r, c, n = (int(k) for k in rng.integers(2, 7, 3))
    shapes = {"R": (r, c), "C": (r, c), "S": (n, n), "P": (n, n), "Q": (r, c), "U": (r, c)}
    kinds = {"R": "one-hot rows", "C": "one-hot columns", "S": "symmetric",
             "P": "positive definite", "Q": "positive", "U": "probabilities"}
    env = sample(shapes, kinds, rng)
    assert set(np.unique(env["R"])) <= {0.0, 1.0} and np.all(env["R"].sum(axis=1) == 1)
    assert set(np.unique(env["C"])) <= {0.0, 1.0} and np.all(env["C"].sum(axis=0) == 1)
    assert np.array_equal(env["S"], env["S"].T)
    assert np.array_equal(env["P"], env["P"].T) and np.linalg.eigvalsh(env["P"]).min() > 0
    assert env["Q"].min() > 0 and 0 < env["U"].min() and env["U"].max() < 1


@pytest.mark.parametrize("target, axis, kind", [
    ("Y", 0, "one-hot columns"), ("Y.T", 0, "one-hot rows"),
    ("Y", 1, "one-hot rows"), ("Y.T", 1, "one-hot columns"),
])
def test_softmax_ce_target_is_one_hot_along_its_class_axis(target, axis, kind):
    shapes = {"Z": (3, 4), "Y": (3, 4)} if target == "Y" else {"Z": (3, 4), "Y": (4, 3)}
    typed = prepare_loss(f"softmax_ce(Z, {target}, axis={axis})", shapes)[0]
    assert domains(typed) == {"Y": kind}
    assert domains(typed, {"Y": "probabilities"}) == {"Y": "probabilities"}   # declared wins


@pytest.mark.parametrize("seed", range(12))
def test_cross_entropy_in_either_layout_passes_its_own_check(seed):
    """Was "internal check failed … please report": Y drawn one-hot per column of Yᵀ."""
    rng = np.random.default_rng(seed)
    n, d, c = (int(k) for k in rng.integers(2, 7, 3))
    scale = rng.choice(["", "(1/N)*", "2*"])
    layout = int(rng.integers(3))
    if layout == 0:
        loss, shapes = f"Z = X@W; {scale}softmax_ce(Z.T, Y.T, axis=0)", {"X": (n, d), "W": (d, c), "Y": (n, c)}
    elif layout == 1:
        loss, shapes = f"Z = X@W; {scale}softmax_ce(Z, Y, axis=1)", {"X": (n, d), "W": (d, c), "Y": (n, c)}
    else:
        loss, shapes = f"Z = W@X; {scale}softmax_ce(Z, Y, axis=0)", {"X": (d, n), "W": (c, d), "Y": (c, n)}
    shapes = {**shapes, "N": n} if scale == "(1/N)*" else shapes
    m = dk.matrix_gradient(loss, "W", shapes)
    assert m.check.ok and m.check.checked
    assert "one-hot" in m.assumption_text()
    assert f"assuming {m.assumption_text()}" in m.to_text()   # the check line names it


# --- verdicts name the assumption --------------------------------------------------------

def test_cs231n_claim_is_right_only_for_one_hot_labels_and_says_so():
    v = dk.verify_backprop(CS231N_GENERAL, CS231N_CLAIM, "W", CS231N_SHAPES)
    assert not v.ok and v.checked and v.error_class == "needs_assumption"
    assert v.diagnosis.startswith('right when each row of Y is one-hot: declare it with '
                                  '--assume "Y: one-hot rows"')
    declared = dk.verify_backprop(CS231N_GENERAL, CS231N_CLAIM, "W", CS231N_SHAPES,
                                  assume="Y: one-hot rows")
    assert declared.ok and "assuming each row of Y is one-hot" in declared.diagnosis
    assert declared.to_dict()["assumptions"] == {"Y": "one-hot rows"}


def test_an_assumption_does_not_excuse_a_claim_wrong_under_it_too():
    v = dk.verify_backprop(CS231N_GENERAL, "X.T@(softmax(Z, axis=1) - Y)", "W", CS231N_SHAPES)
    assert not v.ok and v.error_class != "needs_assumption"
    v = dk.verify_backprop(CS231N_GENERAL, "(1/N)*X.T@(softmax(Z, axis=1))", "W", CS231N_SHAPES,
                           assume="Y: one-hot rows")
    assert not v.ok and v.error_class != "needs_assumption"


def test_implied_one_hot_target_is_named_in_a_right_verdict():
    for loss in ("Z = X@W; (1/N)*softmax_ce(Z, Y, axis=1)", "Z = X@W; (1/N)*softmax_ce(Z.T, Y.T, axis=0)",
                 "Z = X@W; -(1/N)*sum(Y*log_softmax(Z, axis=1))"):
        v = dk.verify_backprop(loss, CS231N_CLAIM, "W", CS231N_SHAPES)
        assert v.ok and "assuming each row of Y is one-hot" in v.diagnosis, loss


def test_symmetric_verdict_says_how_to_declare_it():
    v = dk.verify_backprop("x.T@A@x", "2*A@x", "x", {"A": (3, 3), "x": (3, 1)})
    assert v.error_class == "assumed_symmetric" and '--assume "A: symmetric"' in v.diagnosis
    assert dk.verify_backprop("x.T@A@x", "2*A@x", "x", {"A": (3, 3), "x": (3, 1)},
                              assume="A: symmetric").ok
    assert dk.verify_backprop("x.T@A@x", "2*A@x", "x", {"A": (3, 3), "x": (3, 1)},
                              assume="A: positive definite").ok


# --- checks never pass on nothing ---------------------------------------------------------

NAN_LOSSES = ["sum(log(-exp(x)))", "sum(sqrt(-exp(x)))", "sum(log(-x*x - 1))"]


@pytest.mark.parametrize("loss", NAN_LOSSES)
@pytest.mark.parametrize("claim", ["x", "-exp(x)/exp(x)", "0*x"])
def test_nan_everywhere_cannot_be_checked_never_right(loss, claim):
    v = dk.verify_backprop(loss, claim, "x", {"x": (3, 1)})
    assert not v.ok and not v.checked and v.status == "cannot check"
    assert v.error_class == "cannot_check" and "not finite" in v.diagnosis
    assert v.to_text().startswith("cannot check: ") and v.to_dict()["status"] == "cannot check"


@pytest.mark.parametrize("loss", NAN_LOSSES)
def test_matgrad_of_a_loss_nan_everywhere_refuses(loss):
    with pytest.raises(CannotCheckError) as info:
        dk.matrix_gradient(loss, "x", {"x": (3, 1)})
    assert "not finite" in str(info.value) and info.value.hint


def test_claim_nan_everywhere_cannot_be_checked():
    v = dk.verify_backprop("norm2(W@x - y)", "log(-exp(W))", "W", {"W": (3, 4), "x": (4, 1), "y": (3, 1)})
    assert not v.ok and not v.checked and "the claim is not finite" in v.diagnosis


def test_points_where_the_loss_is_nan_are_skipped_not_counted():
    # log(x − y) is NaN wherever y > x: about half of the random points
    loss, shapes = "sum(log(x - y))", {"x": (1, 1), "y": (1, 1)}
    right = dk.verify_backprop(loss, "1/(x - y)", "x", shapes)
    assert right.ok and right.checked and np.isfinite(right.max_rel_error)
    wrong = dk.verify_backprop(loss, "-1/(x - y)", "x", shapes)
    assert not wrong.ok and wrong.checked and wrong.error_class == "wrong_sign"
    assert len(set(right.seeds)) == 3


def test_finite_difference_check_skips_nonfinite_points_and_reports_too_few():
    shapes, kinds = {"w": (3, 1)}, {}
    def loss_all_nan(env):
        return np.array([[np.nan]])

    def grad(env):
        return np.ones((3, 1))

    fd = finite_difference_check(loss_all_nan, grad, shapes, kinds, "w")
    assert not fd.ok and not fd.checked and "not finite" in fd.reason

    def half(env):  # finite only where w₀ > 0
        w = env["w"]
        return np.array([[np.sum(w) if w[0, 0] > 0.2 else np.nan]])

    fd = finite_difference_check(half, grad, shapes, kinds, "w")
    assert fd.ok and fd.checked and len(fd.seeds) == 3


BATCHNORM = ("mu = (1/N)*colsum(X); v = (1/N)*colsum((X - mu)**2); Xh = (X - mu)/sqrt(v + 0.00001); "
             "sum(G*(g*Xh + be))")


@pytest.mark.parametrize("claim", [
    "g*G/sqrt(v + 0.00001)",
    "(g/(N*sqrt(v + 0.00001)))*(N*G - colsum(G) - Xh*colsum(G))",
    "(g/(N*sqrt(v + 0.00001)))*(N*G - colsum(G) + Xh*colsum(G*Xh))",
])
def test_a_suggested_fix_is_finite_where_it_was_tested(claim):
    """Was "the sign is wrong: (g ⊙ G) / √(−(v + 1e-05))": a NaN candidate counted as a match."""
    v = dk.verify_backprop(BATCHNORM, claim, "X", "X=NxD,G=NxD,g=1xD,be=1xD")
    assert not v.ok
    assert "√(−" not in v.diagnosis
    if v.fix is not None:
        m = v.derivation
        rng = np.random.default_rng(0)
        values = {n: rng.standard_normal(s) for n, s in m.shapes.items()}
        from derivekit.matrix.evaluate import compile_node
        env = dict(values)
        for inter in m.forward:
            env[inter.name] = compile_node(inter.expanded)(env)
        assert np.all(np.isfinite(compile_node(v.fix.node)(env)))


def test_jacobian_that_is_never_finite_cannot_be_checked():
    """The Jacobian check took max(worst, nan) = worst: it passed having compared nothing."""
    from derivekit.matrix.jacobian import matrix_jacobian
    with pytest.raises(CannotCheckError) as info:
        matrix_jacobian("inv(A - A)@x", "x", {"x": (3, 1), "A": (3, 3)})
    assert "not finite" in str(info.value)


# --- the command line ---------------------------------------------------------------------

def test_cli_assume_makes_the_cs231n_claim_right(capsys):
    args = ["check-backprop", CS231N_GENERAL, "--wrt", "W", "--shapes", CS231N_SHAPES,
            "--claim", CS231N_CLAIM]
    assert main(args) == 1
    assert '--assume "Y: one-hot rows"' in capsys.readouterr().out
    assert main(args + ["--assume", "Y: one-hot rows"]) == 0
    assert "assuming each row of Y is one-hot" in capsys.readouterr().out


def test_cli_cannot_check_exits_2(capsys):
    assert main(["check-backprop", "sum(log(-exp(x)))", "--wrt", "x", "--shapes", "x=3x1",
                 "--claim", "x"]) == 2
    assert capsys.readouterr().out.startswith("cannot check: ")
    assert main(["matgrad", "sum(log(-exp(x)))", "--wrt", "x", "--shapes", "x=3x1"]) == 2
    assert "not finite" in capsys.readouterr().err


def test_cli_matgrad_assume_and_bad_assume(capsys):
    args = ["matgrad", "x.T@A@x", "--wrt", "x", "--shapes", "A=3x3,x=3x1"]
    assert main(args + ["--assume", "A: symmetric"]) == 0
    assert main(args + ["--assume", "A: fancy"]) == 2
    assert "known: " + ", ".join(KINDS) in capsys.readouterr().err
