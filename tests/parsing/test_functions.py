"""The DL function library: textbook derivatives, rewrites and stable numerics."""

import math
import warnings

import numpy as np
import pytest
import sympy as sp

from derivekit.parsing import functions as F

x, y, z = sp.symbols("x y z")
POINT = {x: sp.Rational(37, 100), y: sp.Rational(-6, 5), z: sp.Rational(1, 2)}

CASES = [
    F.sigmoid(x), F.relu(x), F.leaky_relu(x), F.leaky_relu(x, sp.Rational(1, 5)), F.softplus(x),
    F.silu(x), F.gelu(x), F.elu(x), F.elu(x, 2), F.logsumexp(x, y, z), F.softmax(1, x, y, z),
    F.softmax(3, x, y, z),
]


@pytest.mark.parametrize("f", CASES, ids=str)
def test_textbook_derivative_matches_elementary_form(f):
    for var in (x, y):
        textbook = sp.diff(f, var)
        elementary = sp.diff(F.to_elementary(f), var)
        for sign in (1, -1):  # both sides of the kink for piecewise functions
            point = {**POINT, x: sign * POINT[x]}
            assert abs(float(textbook.subs(point).evalf(30)) - float(elementary.subs(point).evalf(30))) < 1e-12


@pytest.mark.parametrize("f", CASES, ids=str)
def test_numpy_and_math_implementations_match_high_precision(f):
    exact = float(f.subs(POINT).evalf(30))
    args = [x, y, z]
    values = [float(POINT[s]) for s in args]
    np_fn = sp.lambdify(args, f, modules=[F.NUMPY_IMPLEMENTATIONS, "numpy"])
    math_fn = sp.lambdify(args, f, modules=[F.MATH_IMPLEMENTATIONS, "math"])
    assert float(np_fn(*values)) == pytest.approx(exact, rel=1e-13, abs=1e-15)
    assert math_fn(*values) == pytest.approx(exact, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "silu", "elu", "gelu", "relu", "leaky_relu"])
def test_no_overflow_at_extreme_inputs(name):
    fn = F.NUMPY_IMPLEMENTATIONS[name]
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out = fn(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]))
    assert np.all(np.isfinite(out))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value in (-1000.0, 1000.0):
            assert math.isfinite(F.MATH_IMPLEMENTATIONS[name](value))


def test_logsumexp_and_softmax_shift_by_max():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        big = F.NUMPY_IMPLEMENTATIONS["logsumexp"](1000.0, 1000.0)
        soft = F.NUMPY_IMPLEMENTATIONS["softmax"](1, 1000.0, 0.0)
    assert big == pytest.approx(1000.0 + math.log(2.0))
    assert soft == pytest.approx(1.0)
    assert F.MATH_IMPLEMENTATIONS["logsumexp"](1000.0, 1000.0) == pytest.approx(1000.0 + math.log(2.0))


def test_textbook_forms():
    assert sp.diff(F.sigmoid(x), x) == F.sigmoid(x) * (1 - F.sigmoid(x))
    assert sp.diff(F.softplus(x), x) == F.sigmoid(x)
    assert sp.diff(F.logsumexp(x, y), x) == F.softmax(1, x, y)
    assert sp.diff(sp.tanh(x), x) == 1 - sp.tanh(x) ** 2


def test_special_values_and_latex():
    assert F.sigmoid(0) == sp.S.Half
    assert F.relu(-3) == 0 and F.relu(2) == 2
    assert F.logsumexp(x) == x
    assert sp.latex(F.sigmoid(x)) == r"\sigma\left(x\right)"
    assert sp.latex(F.leaky_relu(x)) == r"\operatorname{LeakyReLU}\left(x\right)"
    assert sp.latex(F.softmax(2, x, y)) == r"\operatorname{softmax}\left(x, y\right)_{2}"


def test_softmax_rejects_bad_index():
    with pytest.raises(TypeError):
        F.softmax(3, x, y)
