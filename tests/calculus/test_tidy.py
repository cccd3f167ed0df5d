"""Tidying (issue 14): never longer than the raw result, and the textbook's forms."""

from __future__ import annotations

import pytest
import sympy as sp

from derivekit.calculus import exprgen
from derivekit.calculus.derive import derive
from derivekit.calculus.tidy import tidy
from derivekit.parsing.functions import sigmoid, softmax

x, z, b, w, y, z1, z2, z3 = sp.symbols("x z b w y z1 z2 z3")


@pytest.mark.parametrize("seed", [3, 11])
def test_tidying_never_increases_the_operation_count(seed):
    # the random corpus over every rule: tidying may only shorten, and keeps the value
    shorter = 0
    for expr in exprgen.corpus(150, seed=seed):
        d = derive(expr, exprgen.X)
        before, after = sp.count_ops(d.raw_result), sp.count_ops(d.result)
        assert after <= before, (expr, d.raw_result, d.result)
        shorter += after < before
        assert exprgen.same_value(d.result, d.raw_result, domain=expr) or not exprgen.checkable(expr)
    assert shorter > 10  # the test would pass vacuously if tidying did nothing


def test_tidy_returns_the_raw_form_when_nothing_is_shorter():
    raw = x**2 * sp.cos(x) + 2 * x * sp.sin(x)
    assert tidy(raw) == (raw, [])


def agrees(source, var, result):
    expr = derive(source, var).expr
    return exprgen.same_value(result, sp.diff(expr, sp.Symbol(var)), symbols=list(expr.free_symbols))


@pytest.mark.parametrize("source, var, expected", [
    ("x*exp(-x^2/2)", "x", (1 - x**2) * sp.exp(-x**2 / 2)),
    ("sqrt(1+x^2)/x", "x", -1 / (x**2 * sp.sqrt(x**2 + 1))),
    ("exp(-z)/(1+exp(-z))", "z", -sigmoid(z) * (1 - sigmoid(z))),
    ("exp(z1)/(exp(z1)+exp(z2)+exp(z3))", "z1",
     softmax(1, z1, z2, z3) * (1 - softmax(1, z1, z2, z3))),
    ("exp(z1)/(exp(z1)+exp(z2))", "z1", softmax(1, z1, z2) * (1 - softmax(1, z1, z2))),
    ("softmax(1, z1, z2, z3)", "z1", softmax(1, z1, z2, z3) * (1 - softmax(1, z1, z2, z3))),
])
def test_textbook_forms(source, var, expected):
    result = derive(source, var).result
    assert result == expected
    assert agrees(source, var, result)


@pytest.mark.parametrize("var, outer", [("b", 2), ("w", 2 * x), ("x", 2 * w), ("y", -2)])
def test_same_tidy_whichever_variable(var, outer):
    # (w*x + b − y)² is 2·(∂ inner)·(wx + b − y) whichever variable is differentiated
    result = derive("(w*x+b-y)^2", var).result
    assert sp.expand(result - outer * (w * x + b - y)) == 0
    assert any(isinstance(f, sp.Add) for f in sp.Mul.make_args(result)), result
    assert agrees("(w*x+b-y)^2", var, result)


def test_tanh_of_a_multiple_keeps_one_minus_tanh_squared():
    result = derive("tanh(3*x)", "x").result
    assert result.args[0] == 3 and sp.Add(*[1, -sp.tanh(3 * x)**2]) in result.args
    assert agrees("tanh(3*x)", "x", result)


def test_moves_are_named_for_what_they_are():
    d = derive("exp(z1)/(exp(z1)+exp(z2)+exp(z3))", "z1")
    texts = [r.description for r in d.rewrites]
    assert not any("polynomial" in t for t in texts), texts
    assert any("softmax" in t for t in texts)
    text = d.to_text()
    assert "Factor numerator and denominator, treating exp(z₁), exp(z₂), exp(z₃) as unknowns" in text
    assert "z1" not in text and "**" not in text  # the pieces are printed as math, not sstr
    sig = derive("exp(-z)/(1+exp(-z))", "z").to_text()
    # the identities are written with the expression's own argument and sign: no bare v
    assert "Recognise the sigmoid: exp(−z)/(exp(−z) + 1) = 1 − σ(z), 1/(exp(−z) + 1) = σ(z)" in sig
    radical = derive("sqrt(1+x^2)/x", "x").to_text()
    assert "use (√(x² + 1))² = x² + 1" in radical and "sqrt" not in radical


def test_bce_cancellation_is_said_with_its_reason():
    # issue 14: σ′/σ = 1 − σ is the insight of the BCE gradient; the chain step says it
    from derivekit.calculus.rules import cancelled_factor
    s = sigmoid(w * x + b)
    assert cancelled_factor(1 / s, x * s * (1 - s)) == s
    assert cancelled_factor(1 / (1 - s), -x * s * (1 - s)) == 1 - s
    assert cancelled_factor(sp.cos(x), x) is None
    d = derive("-(y*log(sigmoid(w*x + b)) + (1 - y)*log(1 - sigmoid(w*x + b)))", "w")
    text = d.to_text()
    assert "Here σ(w·x + b) cancels" in text and "σ′/σ = 1 − σ" in text
    assert "Here 1 − σ(w·x + b) cancels" in text and "(1 − σ)′/(1 − σ) = −σ" in text
    assert "cancels" in d.to_latex()


@pytest.mark.parametrize("source, wanted, unwanted", [
    ("asin(x/2)", ["u₁²), for −1 < u₁ < 1", "[−1, 1]"], ["1 − u²"]),
    ("abs(x^2 - 1)", ["|u₁| has slope sgn(u₁), the sign function"], ["sign(u", "|u|"]),
    ("relu(3*x)", ["has slope H(u₁), the step function", "H(0) = 0"], ["u > 0"]),
    ("max(x, x^2)", ["follows the larger argument"], ["whichever", "largest"]),
    ("log(x^2 + 1)", ["natural logarithm (ln, base e)", "for u₁ > 0"], []),
    ("tanh(3*x)", ["sinh(u₁)/cosh(u₁)", "cosh² − sinh² = 1"], []),
    ("softplus(x)", ["log(exp(x) + 1)", "= σ(x)"], []),
    ("x/(1 + x^2)", ["f = x, g = x² + 1, with derivatives f′ = 1, g′ = 2x; then (f′·g − f·g′)/g²"], []),
])
def test_rule_sentences_name_their_placeholders(source, wanted, unwanted):
    # issue 14: placeholders named in the sentence that uses them, one spelling each,
    # domains for inverse trig and log, DL rules derived from their definitions
    text = derive(source, "x").to_text()
    for piece in wanted:
        assert piece in text, (piece, text)
    for piece in unwanted:
        assert piece not in text, (piece, text)


def test_dl_rules_derive_themselves_on_first_use_and_brief_hides_it():
    from derivekit.cli import main
    d = derive("sigmoid(w*x + b) + sigmoid(x)", "x")  # two uses of the sigmoid rule
    text = d.to_text()
    assert text.count("From σ(") == 1 and "1/(exp(−" in text
    assert "The logistic sigmoid's derivative is σ(1 − σ)." in text  # the second use
    assert "From σ(" not in d.to_text(brief=True)
    assert "From σ(" not in d.to_latex(brief=True) and "From " in d.to_latex()


def test_cli_brief_flag(capsys):
    from derivekit.cli import main
    assert main(["diff", "tanh(3*x)", "--wrt", "x"]) == 0
    assert "sinh(u₁)/cosh(u₁)" in capsys.readouterr().out
    assert main(["diff", "tanh(3*x)", "--wrt", "x", "--brief"]) == 0
    out = capsys.readouterr().out
    assert "sinh" not in out and "The derivative of tanh is 1 − tanh²." in out
