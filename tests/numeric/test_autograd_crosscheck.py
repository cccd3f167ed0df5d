"""Compiled gradients and Hessians against an independent engine: HIPS autograd.

Seeded random expressions are built from DL-relevant pieces, evaluated by autograd
through a direct SymPy → autograd.numpy translation written here (independent of
derivekit's lambdify path), and their autograd gradients compared with dk's compiled ones.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp

autograd = pytest.importorskip("autograd")
import autograd.numpy as anp  # noqa: E402

from derivekit.numeric.compiled import compile, compile_gradient, hessian_exprs  # noqa: E402
from derivekit.parsing.functions import sigmoid, silu, softplus  # noqa: E402

VARS = sp.symbols("x y z")

UNARY = [
    sp.sin, sp.cos, sp.tanh, sigmoid, softplus, silu,
    lambda u: sp.exp(sp.tanh(u)),        # bounded exponent
    lambda u: sp.log(1 + u**2),          # always defined
    lambda u: sp.sqrt(1 + u**2),
    lambda u: u**2, lambda u: u**3,
]
BINARY = [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
    lambda a, b: a / (1 + b**2),         # no poles
    lambda a, b: 2 * a - b / 3,
]


def random_expression(rng: random.Random, depth: int) -> sp.Expr:
    if depth == 0 or rng.random() < 0.2:
        leaf = rng.choice(VARS)
        return leaf * rng.choice([1, 2, -1, sp.Rational(1, 2)]) if rng.random() < 0.3 else leaf
    if rng.random() < 0.45:
        return rng.choice(UNARY)(random_expression(rng, depth - 1))
    return rng.choice(BINARY)(random_expression(rng, depth - 1), random_expression(rng, depth - 1))


def _sigmoid(u):
    return 0.5 * (anp.tanh(0.5 * u) + 1.0)


TO_AUTOGRAD = {
    sp.sin: anp.sin, sp.cos: anp.cos, sp.tanh: anp.tanh, sp.exp: anp.exp, sp.log: anp.log,
    sigmoid: _sigmoid, softplus: lambda u: anp.logaddexp(0.0, u), silu: lambda u: u * _sigmoid(u),
}


def to_autograd(expr: sp.Expr, env: dict):
    """Evaluate ``expr`` with autograd.numpy, symbols looked up in ``env``."""
    if expr.is_Symbol:
        return env[expr]
    if expr.is_Number:
        return float(expr)
    args = [to_autograd(a, env) for a in expr.args]
    if isinstance(expr, sp.Add):
        out = args[0]
        for a in args[1:]:
            out = out + a
        return out
    if isinstance(expr, sp.Mul):
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if isinstance(expr, sp.Pow):
        base, exponent = args
        return anp.power(base, exponent)
    return TO_AUTOGRAD[type(expr)](*args)


def _autograd_function(expr):
    def f(v):
        return to_autograd(expr, dict(zip(VARS, [v[0], v[1], v[2]])))
    return f


def _check(seed: int, points: int = 4):
    rng = random.Random(seed)
    expr = random_expression(rng, 4)
    if not expr.free_symbols:
        return
    grad = compile_gradient(expr, VARS, args=VARS)
    f_ag = autograd.grad(_autograd_function(expr))
    nrng = np.random.default_rng(seed)
    pts = nrng.uniform(-1.5, 1.5, size=(points, 3))
    ours = grad(*pts.T)
    theirs = np.array([f_ag(p) for p in pts]).T
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11, err_msg=f"seed {seed}: {expr}")
    single = grad(*map(float, pts[0]))  # the math backend agrees too
    np.testing.assert_allclose(single, theirs[:, 0], rtol=1e-9, atol=1e-11, err_msg=f"seed {seed}: {expr}")


@pytest.mark.parametrize("seed", range(60))
def test_compiled_gradient_matches_autograd(seed):
    _check(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(60, 600))
def test_compiled_gradient_matches_autograd_many(seed):
    _check(seed)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize("seed", range(12))
def test_compiled_hessian_matches_autograd(seed):
    expr = random_expression(random.Random(1000 + seed), 3)
    if not expr.free_symbols:
        return
    H = compile(hessian_exprs(expr, VARS), VARS)
    h_ag = autograd.hessian(_autograd_function(expr))
    pts = np.random.default_rng(seed).uniform(-1.5, 1.5, size=(3, 3))
    ours = H(*pts.T)
    assert ours.shape == (3, 3, 3) and ours.dtype == np.float64
    for k, p in enumerate(pts):
        np.testing.assert_allclose(ours[:, :, k], h_ag(p), rtol=1e-8, atol=1e-10, err_msg=str(expr))


def test_mlp_loss_gradient_matches_autograd():
    """A 2-3-1 sigmoid MLP with squared loss: all 13 parameter gradients."""
    xs = sp.symbols("x1 x2")
    W1 = sp.Matrix(3, 2, sp.symbols("a0:6"))
    b1 = sp.Matrix(sp.symbols("c0:3"))
    W2 = sp.Matrix(1, 3, sp.symbols("d0:3"))
    b2, t = sp.symbols("e0 t")
    hidden = (W1 * sp.Matrix(xs) + b1).applyfunc(sigmoid)
    loss = ((W2 * hidden)[0] + b2 - t) ** 2
    params = list(W1) + list(b1) + list(W2) + [b2]
    grad = compile_gradient(loss, params, args=params + list(xs) + [t])
    assert grad.cse

    def loss_ag(p, xv, tv):
        a, c, d, e = p[:6].reshape(3, 2), p[6:9], p[9:12], p[12]
        h = _sigmoid(anp.dot(a, xv) + c)
        return (anp.dot(d, h) + e - tv) ** 2

    rng = np.random.default_rng(0)
    p, xv, tv = rng.normal(size=13), rng.normal(size=2), 0.3
    theirs = autograd.grad(loss_ag)(p, xv, tv)
    ours = grad(*p, *xv, tv)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
