"""Standard notation the scalar language reads: inverse trigonometric and hyperbolic
functions, the step and sign functions, logs to a base, and names people type that get a
hint saying exactly what to write."""

from __future__ import annotations

import pytest
import sympy as sp

from derivekit.errors import ParseError
from derivekit.parsing.parse import parse

x, y, z = sp.symbols("x y z")


@pytest.mark.parametrize("latex, meant", [
    (r"\sin^{-1}(x)", sp.asin(x)), (r"\cos^{-1}(x)", sp.acos(x)), (r"\tan^{-1}(x)", sp.atan(x)),
    (r"\tan^{-1} x", sp.atan(x)), (r"\tan^-1(x)", sp.atan(x)),
    (r"\cot^{-1}(x)", sp.acot(x)), (r"\sec^{-1}(x)", sp.asec(x)), (r"\csc^{-1}(x)", sp.acsc(x)),
    (r"\sinh^{-1}(x)", sp.asinh(x)), (r"\cosh^{-1}(x)", sp.acosh(x)),
    (r"\tanh^{-1}(2x)", sp.atanh(2 * x)), (r"\operatorname{coth}^{-1}(x)", sp.acoth(x)),
    (r"\operatorname{sech}^{-1}(x)", sp.asech(x)), (r"\operatorname{csch}^{-1}(x)", sp.acsch(x)),
    (r"\sin^{2}x", sp.sin(x) ** 2), (r"\sin^2(x)", sp.sin(x) ** 2),
    (r"\tan^{-2}(x)", sp.tan(x) ** -2),
    (r"\operatorname{arsinh}(x)", sp.asinh(x)), (r"\operatorname{arccot}(x)", sp.acot(x)),
])
def test_inverse_functions_in_latex(latex, meant):
    assert parse(latex) == meant


@pytest.mark.parametrize("latex, fix", [
    (r"f^{-1}(x)", "1/f(x)"), (r"g^{-1}(x)", "1/g(x)"),
    (r"\operatorname{ReLU}^{-1}(x)", r"\frac{1}"), (r"\exp^{-1}(x)", "reciprocal"),
])
def test_inverse_of_other_functions_is_refused(latex, fix):
    with pytest.raises(ParseError) as caught:
        parse(latex)
    assert fix in str(caught.value)


@pytest.mark.parametrize("source", ["H(x)", "Heaviside(x)", "step(x)", "heaviside(x, 0)",
                                    r"H\left(x\right)", r"\operatorname{Heaviside}(x)",
                                    r"\mathrm{step}(x)"])
def test_step_function_spellings(source):
    assert parse(source) == sp.Heaviside(x, 0)


def test_h_stays_a_symbol_when_not_called_and_subscripted_h_is_abstract():
    assert parse("H*x") == sp.Symbol("H") * x
    assert parse("H_1(x)") == sp.Function("H_1")(x)


@pytest.mark.parametrize("source", ["sgn(x)", "sign(x)", r"\operatorname{sgn}(x)",
                                    r"\operatorname{sign}{\left(x \right)}"])
def test_sign_spellings(source):
    assert parse(source) == sp.sign(x)


@pytest.mark.parametrize("source, meant", [
    ("log10(x)", sp.log(x, 10)), ("log2(x)", sp.log(x, 2)), ("log_2(x)", sp.log(x, 2)),
    (r"\log_{10}(x)", sp.log(x, 10)), ("cot(x) + sec(x) + csc(x)", sp.cot(x) + sp.sec(x) + sp.csc(x)),
    ("atan2(y, x)", sp.atan2(y, x)), ("arctanh(x)", sp.atanh(x)), ("gamma(x)", sp.gamma(x)),
    ("gamma*x", sp.Symbol("gamma") * x),
])
def test_more_function_names(source, meant):
    assert parse(source) == meant


@pytest.mark.parametrize("source, fix", [
    ("mse(y, yhat)", "(y - yhat)^2"),
    ("mse(y, yhat)", 'matgrad "mean((yhat - y)**2)"'),
    ("cross_entropy(y, p)", "-log(softmax(1, z1, z2, z3))"),
    ("bce(y, p)", "-(y*log(p) + (1 - y)*log(1 - p))"),
    ("nll(p)", "-log(p_k)"),
    ("softmax(z)", "softmax(1, z1, z2, z3)"),
    ("softmax(z)", 'matgrad "-sum(y*log(softmax(z)))"'),
    (r"\operatorname{softmax}(z)_i", r"\operatorname{softmax}(z_1, z_2, z_3)_1"),
    ("relu(x)_1", "softmax(z1, z2, z3)_1"),
    ("sum(x_i, 1, 3)", "sum(body, i, 1, n)"),
])
def test_names_people_type_get_a_hint_saying_what_to_write(source, fix):
    with pytest.raises(ParseError) as caught:
        parse(source)
    assert caught.value.hint and fix in str(caught.value)


def test_softmax_outputs_as_printed():
    from derivekit.parsing.functions import softmax
    z1, z2 = sp.symbols("z_1 z_2")
    for source in ["softmax(z₁, z₂)₁", "softmax(z_1, z_2)_1", "softmax(1, z_1, z_2)",
                   r"\operatorname{softmax}\left(z_{1}, z_{2}\right)_{1}"]:
        assert parse(source) == softmax(1, z1, z2)


def test_piecewise_as_printed():
    meant = sp.Piecewise((1, x > 0), (sp.Rational(1, 100), True))
    assert parse("{1 if x > 0; 1/100 otherwise}") == meant
    assert parse(r"\begin{cases} 1 & \text{for}\: x > 0 \\\frac{1}{100} & \text{otherwise} "
                 r"\end{cases}") == meant
    with pytest.raises(ParseError, match="last"):
        parse("{1 otherwise; 0 if x > 0}")


def test_unicode_names_as_printed():
    assert parse("xᵢⱼ + ŷ₁ + θ̂ + y_hat") == (sp.Symbol("x_ij") + sp.Symbol("yhat_1")
                                             + sp.Symbol("thetahat") + sp.Symbol("yhat"))
    assert parse("σ′(z)") == parse("sigmoid'(z)")
    assert parse("2·x − 3·√x + x²") == 2 * x - 3 * sp.sqrt(x) + x ** 2


def test_sums_with_numeric_bounds_expand_within_a_limit():
    assert parse("sum(x_i^2, i, 1, 3)") == parse("x_1^2 + x_2^2 + x_3^2")
    assert parse(r"\sum_{i=0}^{2} w_{i+1} x_i") == parse("w_1*x_0 + w_2*x_1 + w_3*x_2")
    assert parse("sum(x_i, i, 1, n)") == sp.Sum(sp.Symbol("x_i"), (sp.Symbol("i"), 1, sp.Symbol("n")))
    with pytest.raises(ParseError, match="1000"):
        parse(r"\sum_{i=1}^{100000} x_i")
