"""The chunked NumPy path: cse variables written into a reused workspace, 2ᵏ-scaled sums
kept as one scaling, and gradient rows that are another row's shared factor written once.

Each check compares with an independent route on a seeded corpus: the same gradient
evaluated without chunks (every variable a fresh array, as lambdify generates it) must give
bitwise the same numbers, and plain ``sympy.lambdify`` of ``sympy.diff`` (no cse, no split)
the same to rounding (1e-9 relative; its form of the derivative differs).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp
from sympy.core.function import AppliedUndef

import derivekit.numeric.compiled as numeric
from derivekit.errors import DerivekitError
from derivekit.calculus.exprgen import corpus
from derivekit.numeric.compiled import NUMPY_EXTRAS, compile, compile_gradient, scaled_sum, split_last_operations
from derivekit.numeric.workspace import NO_WORKSPACE, in_place
from derivekit.parsing.functions import sigmoid
from derivekit.parsing.stable import NUMPY_IMPLEMENTATIONS

X, Y, A = sp.symbols("x y a", real=True)


def _evaluable(expr: sp.Expr) -> bool:
    return not expr.atoms(AppliedUndef, sp.gamma, sp.loggamma) and not expr.has(sp.I)


CORPUS = [e for e in corpus(80, seed=21) if _evaluable(e)]


def _batch(n: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, size=n), 0.7, -0.3]


def _plain(expr: sp.Expr):
    """The independent route: sympy.diff, then lambdify without cse or splitting (None
    where sympy leaves a derivative unevaluated)."""
    grads = [sp.diff(expr, v) for v in (X, A, Y)]
    if any(g.has(sp.Derivative) for g in grads):
        return None
    return sp.lambdify((X, A, Y), grads, modules=[NUMPY_EXTRAS, NUMPY_IMPLEMENTATIONS, "numpy"], cse=False)


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 50


@pytest.mark.parametrize("k", range(0, len(CORPUS), 1))
def test_the_workspace_gives_the_same_numbers_as_fresh_arrays(k, monkeypatch):
    expr = CORPUS[k]
    g = compile_gradient(expr, [X, A, Y], args=[X, A, Y], backend="numpy", cse=True)
    values = _batch(2 * numeric.CHUNK + 37, seed=k)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chunked = g(*values)
        monkeypatch.setattr(numeric, "CHUNK", 10**9)  # one call: no workspace, fresh arrays
        whole = g(*values)
        plain_function = _plain(expr)
        if plain_function is None:
            plain = whole
        else:
            plain = np.array([np.broadcast_to(r, values[0].shape) for r in plain_function(*values)],
                             dtype=float)
    np.testing.assert_array_equal(chunked, whole)
    finite = np.isfinite(plain) & np.isfinite(chunked)
    # another route (sympy.diff's form, not symengine's) rounds differently where terms cancel
    scale = 1.0 + np.abs(plain[finite]).max(initial=0.0)
    np.testing.assert_allclose(chunked[finite], plain[finite], rtol=1e-9, atol=1e-12 * scale)
    assert np.array_equal(np.isnan(chunked), np.isnan(whole))


def _mlp():
    xs = sp.symbols("x1:5")
    W1 = sp.Matrix(3, 4, sp.symbols("W0:12"))
    b1 = sp.Matrix(sp.symbols("b0:3"))
    W2 = sp.Matrix(1, 3, sp.symbols("V0:3"))
    c, y = sp.symbols("c y")
    loss = ((W2 * (W1 * sp.Matrix(xs) + b1).applyfunc(sigmoid))[0] + c - y) ** 2
    return loss, list(W1) + list(b1) + list(W2) + [c], list(xs) + [y]


def test_an_mlp_gradient_matches_plain_lambdify_and_is_written_in_place():
    loss, params, data = _mlp()
    args = params + data
    g = compile_gradient(loss, params, args=args, backend="numpy")
    rng = np.random.default_rng(5)
    values = [rng.normal(scale=0.5) for _ in params] + [rng.normal(size=3 * numeric.CHUNK + 1) for _ in data]
    plain = sp.lambdify(args, [sp.diff(loss, p) for p in params], modules=[NUMPY_IMPLEMENTATIONS, "numpy"])
    expected = np.array([np.broadcast_to(r, values[-1].shape) for r in plain(*values)])
    np.testing.assert_allclose(g(*values), expected, rtol=1e-10)
    assert g._in_place_code is not None and g._in_place_code.slots > 0


def test_bias_rows_are_the_shared_factor_of_the_weight_rows():
    """∂/∂b = δ and ∂/∂wⱼ = δ·xⱼ: the bias entry stays whole (cse computes δ once), each
    weight entry splits as (xⱼ, δ)."""
    loss, params, _ = _mlp()
    grads = [sp.diff(loss, p) for p in params]
    splits = split_last_operations([scaled_sum(e) for e in grads])
    for row in range(3):
        bias = params.index(sp.Symbol(f"b{row}"))
        assert splits[bias] == (grads[bias],)
        for j in range(4):
            weight = params.index(sp.Symbol(f"W{4 * row + j}"))
            assert splits[weight] == (sp.Symbol(f"x{j + 1}"), grads[bias])


@pytest.mark.parametrize("factor", [2, 4, sp.Rational(1, 2), -2, sp.Rational(-1, 8)])
def test_a_power_of_two_comes_out_of_a_sum(factor):
    a, b, y = sp.symbols("a b y")
    inner = a * sp.exp(b) + b - y
    scaled = scaled_sum(sp.expand(factor * inner))
    assert scaled.is_Mul and scaled.args[1] == inner or scaled.args[1] == -inner
    assert sp.expand(scaled) == sp.expand(factor * inner)


@pytest.mark.parametrize("factor", [3, sp.Rational(1, 3), sp.Float(2.0)])
def test_other_factors_stay_distributed(factor):
    a, b = sp.symbols("a b")
    expr = sp.expand(factor * (a * sp.exp(b) + b))
    assert scaled_sum(expr) == expr


def test_scaling_by_two_changes_only_rounding(monkeypatch):
    """Scaling by 2ᵏ is exact; the sum's terms may be added in another order."""
    a, b, y = sp.symbols("a b y")
    exprs = [2 * a * b + 2 * b - 2 * y, a * (a * b + b - y), sp.Rational(1, 4) * (a + b) * y]
    rng = np.random.default_rng(3)
    values = [rng.normal(size=3 * numeric.CHUNK) for _ in range(3)]
    scaled = compile(exprs, "a, b, y", backend="numpy", cse=True)(*values)
    monkeypatch.setattr(numeric, "scaled_sum", lambda e: e)
    distributed = compile(exprs, "a, b, y", backend="numpy", cse=True)(*values)
    np.testing.assert_allclose(scaled, distributed, rtol=1e-12, atol=1e-13)


def test_a_complex_valued_expression_is_refused_not_truncated():
    f = compile([sp.I * X, X], [X], backend="numpy")
    for xs in (np.linspace(0, 1, 3 * numeric.CHUNK), np.linspace(0, 1, 3)):
        with pytest.raises(DerivekitError, match="complex values"):
            f(xs)
    with pytest.raises(DerivekitError, match="complex values"):
        compile(sp.I * X, [X], backend="numpy")(np.ones(4))
    np.testing.assert_array_equal(f(np.array([2.0 + 0j]))[0], [2j])


def test_code_without_cse_is_not_rewritten():
    f = compile(sigmoid(X) * Y, [X, Y], backend="numpy", cse=False)
    assert f._in_place_code is None


def test_the_rewritten_code_allocates_when_given_no_workspace():
    g = compile_gradient(sigmoid(A * X + Y) ** 2, [A, Y], args=[A, Y, X], backend="numpy", cse=True)
    code = in_place(g.numpy_function)
    assert code is not None
    xs = np.linspace(-1, 1, 7)
    fresh = g.numpy_function(0.3, 0.1, xs)
    again = code.function(NO_WORKSPACE, 0.3, 0.1, xs)
    for r, s in zip(fresh, again):
        np.testing.assert_array_equal(r, s)


def test_complex_inputs_fall_back_from_a_real_workspace(monkeypatch):
    g = compile_gradient(sp.exp(A * X + Y) ** 2 * X, [A, Y], args=[A, Y, X], backend="numpy", cse=True)
    xs = np.linspace(-1, 1, 2 * numeric.CHUNK + 3) + 0j
    out = g(0.3, 0.1, xs)
    monkeypatch.setattr(numeric, "CHUNK", 10**9)
    np.testing.assert_array_equal(out, g(0.3, 0.1, xs))


@pytest.mark.parametrize("n", [5, 3 * numeric.CHUNK + 11])
def test_out_receives_the_same_numbers_and_is_returned(n):
    loss, params, data = _mlp()
    args = params + data
    g = compile_gradient(loss, params, args=args, backend="numpy")
    rng = np.random.default_rng(n)
    values = [rng.normal(scale=0.5) for _ in params] + [rng.normal(size=n) for _ in data]
    fresh = g(*values)
    out = np.full(fresh.shape, np.nan)
    assert g(*values, out=out) is out
    np.testing.assert_array_equal(out, fresh)
    values[-1] = values[-1] + 1.0  # reused: every entry is rewritten
    np.testing.assert_array_equal(g(*values, out=out), g(*values))
    f = compile(loss, args, backend="numpy")
    scalar_out = np.empty(n)
    assert f(*values, out=scalar_out) is scalar_out
    np.testing.assert_array_equal(scalar_out, f(*values))


def test_a_bad_out_is_a_clear_error():
    f = compile([X * Y, X + Y], [X, Y], backend="numpy")
    xs = np.ones(5)
    for bad, message in [(np.empty((2, 4)), "shape"), (np.empty((2, 5), dtype=np.float32), "dtype"),
                         (np.empty((5, 2)).T, "C-contiguous"), ([0.0] * 10, "NumPy array")]:
        with pytest.raises(DerivekitError, match=message):
            f(xs, 2.0, out=bad)
    shared = np.ones((2, 5))
    with pytest.raises(DerivekitError, match="shares memory"):
        f(shared[0], 2.0, out=shared)
    with pytest.raises(DerivekitError, match="NumPy backend"):
        compile(X * Y, [X, Y], backend="math")(1.0, 2.0, out=np.empty(()))
