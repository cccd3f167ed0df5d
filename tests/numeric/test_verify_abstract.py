"""Abstract functions in checks, and checks that never pass on nothing."""

import random

import numpy as np
import pytest
import sympy as sp

import derivekit as dk
from derivekit.cli.dispatch import main
from derivekit.numeric.abstract import Instance, abstract_names, instantiate, realise_derivatives

x, y = sp.symbols("x y", real=True)
f, g = sp.Function("f"), sp.Function("g")


def _random_abstract_expr(rng: random.Random, depth: int = 3) -> sp.Expr:
    """Seeded random trees over f, g, sin, exp, +, ·, powers, in x (and y)."""
    if depth == 0:
        return rng.choice([x, x, y, sp.Integer(rng.randint(1, 3))])
    a = _random_abstract_expr(rng, depth - 1)
    b = _random_abstract_expr(rng, depth - 1)
    return rng.choice([
        lambda: f(a), lambda: g(a), lambda: a * b, lambda: a + b, lambda: sp.sin(a),
        lambda: f(a) * g(b), lambda: a ** 2, lambda: sp.exp(a / 3), lambda: f(a, b),
    ])()


CORPUS = [e for e in (_random_abstract_expr(random.Random(k)) for k in range(40))
          if e.has(x) and abstract_names([e])][:25]
#: the first 8 in the default run, the rest under -m slow
CASES = CORPUS[:8] + [pytest.param(e, marks=pytest.mark.slow) for e in CORPUS[8:]]


@pytest.mark.parametrize("expr", CASES, ids=str)
def test_true_derivative_of_an_abstract_expression_is_right(expr):
    verdict = dk.verify(expr, sp.diff(expr, x), "x")
    assert verdict.ok and verdict.decided, verdict.to_text()
    assert verdict.numeric_skipped


@pytest.mark.parametrize("expr", CASES, ids=str)
def test_a_perturbed_derivative_is_wrong_with_a_counterexample(expr):
    truth = sp.diff(expr, x)
    for wrong in (2 * truth, truth + f(x), truth - sp.Derivative(g(x), x)):
        verdict = dk.verify(expr, wrong, "x")
        assert verdict.decided and not verdict.ok, (wrong, verdict.to_text())
        ce = verdict.counterexample
        assert ce is not None and ce["instance"] and np.isfinite(ce["claimed"])
        assert abs(ce["claimed"] - ce["expected"]) > 1e-9


def test_an_instance_agrees_with_sympy_diff_of_the_instance():
    """The instance of ∂expr/∂x equals ∂/∂x of the instance (the route the numbers rely on)."""
    for expr in CORPUS[:5]:
        inst = Instance(7)
        left = instantiate(sp.diff(expr, x), inst)
        right = sp.diff(instantiate(expr, inst), x)
        pt = {x: sp.Rational(3, 7), y: sp.Rational(-2, 5)}
        assert abs(float((left - right).subs(pt).evalf(30))) < 1e-20


def test_primes_of_known_functions_are_worked_out():
    assert not realise_derivatives(dk.parse("sigma'(z)")).has(sp.Derivative)
    assert dk.verify(r"\sigma(z)", r"\sigma'(z)", "z").ok
    assert dk.verify("sigmoid(w*x)", "x*sigmoid'(w*x)", "w").ok


@pytest.mark.parametrize("argv, code, text", [
    (["check", "f(x)*g(x)", "--claim", "f(x)*g'(x) + f'(x)*g(x)", "--wrt", "x"], 0, "correct"),
    (["check", "f(x)*g(x)", "--claim", "f(x)*g'(x)", "--wrt", "x"], 1, "missing term"),
    (["check", "f(g(x))", "--claim", "f'(g(x))", "--wrt", "x"], 1, "missing factor"),
    (["check", r"\sigma(z)", "--claim", r"\sigma'(z)"], 0, "correct"),
    (["check", "sigmoid(f(x))", "--claim", "sigmoid'(f(x))*f'(x)"], 0, "symbolic: equal"),
    (["check", "f(x)^2", "--claim", "2*f(x)"], 1, "missing factor"),
    (["gradcheck", r"\sigma(x)", "--claim", r"\sigma'(x)"], 0, "passed"),
    (["gradcheck", "f(x)*g(x)", "--claim", "f(x)*g'(x) + f'(x)*g(x)", "--wrt", "x"], 0, "symbolically"),
    (["gradcheck", "f(x)*g(x)", "--claim", "f(x)*g'(x)", "--wrt", "x"], 1, "missing term"),
    (["gradcheck", "f(x)*y"], 2, "cannot check"),
])
def test_cli_abstract_functions(capsys, argv, code, text):
    assert main(argv) == code
    out = capsys.readouterr()
    assert text in out.out + out.err
    assert "Traceback" not in out.out + out.err


# --- never pass on nothing ---------------------------------------------------------------

def test_points_where_the_function_is_undefined_are_not_samples():
    # f is never real, though claim and expected agree everywhere: nothing to compare
    verdict = dk.verify("x^2 + log(-x^2 - 1)", "2*x + 2*x/(x^2 + 1)", "x", at={"x": np.arange(1, 11.0)})
    assert not verdict.ok and not verdict.decided and verdict.status == "cannot check"
    assert "at least 10" in verdict.cannot_check
    sampled = dk.verify("x^2 + log(-x^2 - 1)", "2*x + 2*x/(x^2 + 1)", "x")
    assert sampled.status == "cannot check" and "function" in sampled.cannot_check


def test_a_claim_that_is_never_finite_cannot_be_checked():
    verdict = dk.verify("x^2", "sqrt(-1 - x^2)", "x")
    assert verdict.status == "cannot check" and "claim" in verdict.cannot_check


def test_given_points_with_nan_are_dropped_and_counted():
    pts = {"x": np.concatenate([-np.arange(1, 4.0), np.linspace(0.5, 2, 10)])}
    verdict = dk.verify("sqrt(x)", "1/(2*sqrt(x))", "x", at=pts)
    assert verdict.ok and verdict.n_points == 10
    assert any("3 of the 13" in r for r in verdict.remarks)
    wrong = dk.verify("sqrt(x)", "1/sqrt(x)", "x", at=pts)
    assert wrong.decided and not wrong.ok and wrong.counterexample["point"]["x"] > 0


def test_random_corpus_verdicts_only_compare_finite_numbers():
    """Seeded random expressions (many with partial domains) at fixed points spanning
    [-3, 3]: a passing verdict compared ≥ 10 finite points; otherwise it is wrong or cannot
    check, never right on nothing."""
    from derivekit.calculus.exprgen import corpus
    undecided = 0
    for expr in corpus(40, seed=3):
        if abstract_names([expr]):
            continue
        var = sorted(expr.free_symbols, key=str)[0]
        at = {s.name: np.linspace(-3, 3, 12) + 0.01 * k for k, s in enumerate(sorted(expr.free_symbols, key=str))}
        verdict = dk.verify(expr, sp.diff(expr, var), var.name, at=at)
        undecided += not verdict.decided
        if verdict.ok:
            assert verdict.n_points >= 10
            assert all(c.points_agreeing >= 10 for c in verdict.components)
        else:
            assert not verdict.decided, verdict.to_text()


def test_gradcheck_drops_non_finite_points():
    result = dk.gradcheck("sqrt(x)", at=[{"x": -1.0}, {"x": 1.0}])
    assert result.ok and len(result.points) == 1 and result.notes
    nothing = dk.gradcheck("sqrt(x)", at={"x": -1.0})
    assert not nothing.ok and nothing.status == "cannot check"
    assert "cannot check" in nothing.to_text()


def test_cli_cannot_check_exits_2(capsys):
    assert main(["check", "x^2 + log(-x^2 - 1)", "--claim", "2*x + 2*x/(x^2+1)", "--wrt", "x"]) == 2
    assert "cannot check" in capsys.readouterr().out
    assert main(["gradcheck", "sqrt(x)", "--at", "x=-1"]) == 2


def test_a_diagnosis_rests_only_on_finite_values():
    """A suggested mistake is matched only where its formula is finite, and must be finite
    at most of the points: one that is NaN at 4 of 10 points names nothing."""
    from derivekit.numeric.verify import matches
    claim = np.linspace(1, 2, 10)
    candidate = claim.copy()
    assert matches(claim, candidate)
    candidate[:4] = np.nan
    assert not matches(claim, candidate)
    candidate[:4] = np.inf
    assert not matches(claim, candidate)
