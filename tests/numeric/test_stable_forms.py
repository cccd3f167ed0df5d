"""Written-out forms compile to the stable built-ins: finite wherever the true value is,
and equal to the formula as written wherever that is finite."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import derivekit as dk
from derivekit.numeric.stable_forms import stable_forms
from derivekit.parsing.functions import sigmoid, softmax, softplus

FORMS = {
    "softplus": ("log(1 + exp(z))", "z", lambda z: mpmath.log1p(mpmath.exp(z))),
    "log sigmoid": ("log(sigmoid(z))", "z", lambda z: -mpmath.log1p(mpmath.exp(-z))),
    "bce y=1 and y=0": ("-log(sigmoid(z)) - log(1 - sigmoid(z))", "z",
                        lambda z: mpmath.log1p(mpmath.exp(-z)) + mpmath.log1p(mpmath.exp(z))),
    "softmax": ("exp(z)/(exp(z) + exp(z/2) + 1)", "z",
                lambda z: mpmath.exp(z) / (mpmath.exp(z) + mpmath.exp(z / 2) + 1)),
    "sigmoid": ("2*exp(z)/(exp(z) + 1)", "z", lambda z: 2 * mpmath.exp(z) / (mpmath.exp(z) + 1)),
}


@pytest.mark.parametrize("name", list(FORMS))
def test_written_out_forms_are_finite_and_right(name):
    text, arg, truth = FORMS[name]
    rng = np.random.default_rng(0)
    z = np.concatenate([[-1000.0, -745.0, 0.0, 709.0, 1000.0], rng.uniform(-800, 800, 200)])
    values = dk.compile(text, arg)(z)
    mpmath.mp.dps = 50
    expected = np.array([float(truth(mpmath.mpf(float(v)))) for v in z])
    assert np.all(np.isfinite(values))
    assert np.allclose(values, expected, rtol=1e-12, atol=1e-300)


def test_the_rewrites_are_the_built_ins():
    z, x, y = sp.symbols("z x y")
    assert stable_forms(sp.log(1 + sp.exp(z))) == softplus(z)
    assert stable_forms(sp.log(sigmoid(z))) == -softplus(-z)
    assert stable_forms(sp.log(1 - sigmoid(z))) == -softplus(z)
    assert stable_forms(sp.exp(x) / (sp.exp(x) + sp.exp(y))) == softmax(1, x, y)
    assert stable_forms(sp.exp(y) / (sp.exp(x) + sp.exp(y))) == softmax(2, x, y)
    assert stable_forms(sp.log(2 + sp.exp(z))) == sp.log(2 + sp.exp(z))  # not the form


def test_two_variable_softmax_at_large_inputs():
    f = dk.compile("exp(x)/(exp(x)+exp(y))", "x, y")
    out = f(np.array([1000.0, -1000.0, 0.0]), np.array([999.0, -1000.0, 0.0]))
    assert np.allclose(out, [1 / (1 + np.exp(-1.0)), 0.5, 0.5])


def test_complex_backend_keeps_the_formula():
    """The complex step differentiates the formula as written (the built-ins are real)."""
    result = dk.gradcheck("log(1 + exp(z))", method="complex")
    assert result.ok
