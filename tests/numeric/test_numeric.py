"""dk.compile: shapes, broadcasting, backends, cse, and numerically stable DL functions."""

import math
import warnings

import numpy as np
import pytest
import sympy as sp

import derivekit as dk
from derivekit.errors import DerivekitError
from derivekit.numeric.compiled import (
    compile_gradient,
    repeats_subexpressions,
    split_components,
)
from derivekit.parsing.functions import (
    elu,
    gelu,
    leaky_relu,
    logsumexp,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
)

x, y, z, w, b = sp.symbols("x y z w b")


def test_scalar_expression_broadcasts_its_inputs():
    f = dk.compile(x**2 * y, [x, y])
    out = f(np.array([1.0, 2.0, 3.0]), 2.0)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [2.0, 8.0, 18.0])
    assert f(np.ones((2, 1)), np.ones((1, 3))).shape == (2, 3)


def test_args_may_be_names_symbols_or_a_comma_string():
    for args in (["x", "y"], [x, y], "x, y", ("x", y)):
        assert dk.compile(x - y, args)(3.0, 1.0) == 2.0


def test_a_constant_entry_fills_the_batch_shape():
    f = dk.compile([x * y, sp.Integer(3), sp.Integer(0)], "x, y")
    out = f(np.arange(4.0), 2.0)
    assert out.shape == (3, 4) and out.dtype == np.float64
    np.testing.assert_array_equal(out[1], 3.0)
    np.testing.assert_array_equal(out[2], 0.0)
    const = dk.compile(sp.Integer(7), "x")
    assert const(np.zeros(5)).shape == (5,)


def test_hessian_is_a_float_array_never_object():
    H = sp.hessian(x**2 * y + y**3 + 4 * x, (x, y))  # has constant entries
    f = dk.compile(H, "x, y")
    out = f(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert out.shape == (2, 2, 2) and out.dtype == np.float64
    np.testing.assert_allclose(out[:, :, 0], [[6.0, 2.0], [2.0, 18.0]])
    single = f(1.0, 3.0)
    assert single.shape == (2, 2) and single.dtype == np.float64


def test_column_gradient_has_one_row_per_variable():
    g = sp.Matrix([2 * x, 3 * y**2])
    out = dk.compile(g, "x, y")(np.ones(5), np.ones(5))
    assert out.shape == (2, 5)


def test_math_backend_returns_python_floats():
    f = dk.compile(sigmoid(w * x + b), "w, x, b", backend="math")
    value = f(0.5, 2.0, -1.0)
    assert isinstance(value, float) and value == pytest.approx(0.5)
    grad = dk.compile([x * y, sp.Integer(2)], "x, y", backend="math")(2.0, 3.0)
    assert grad == [6.0, 2.0] and all(isinstance(v, float) for v in grad)


def test_auto_backend_agrees_with_numpy_on_single_points():
    exprs = [sigmoid(x) * softplus(y), relu(x - y) + sp.Abs(y), sp.log(1 + sp.exp(x)) * sp.sqrt(y**2 + 1)]
    for e in exprs:
        f = dk.compile(e, "x, y")
        assert f(0.3, -1.2) == pytest.approx(float(f(np.array([0.3]), np.array([-1.2]))[0]), rel=1e-12)


def test_auto_backend_falls_back_to_numpy_outside_math_domain():
    with np.errstate(invalid="ignore"):
        assert np.isnan(dk.compile(sp.log(x), "x")(-1.0))
    with np.errstate(over="ignore"):
        assert np.isinf(dk.compile(sp.exp(x), "x")(1000.0))


def test_complex_inputs_stay_complex():
    out = dk.compile(x**2, "x")(np.array([1 + 1e-20j]))
    assert out.dtype == np.complex128 and out.imag[0] == pytest.approx(2e-20)


def test_missing_argument_is_reported_with_a_fix():
    with pytest.raises(DerivekitError, match="y, which args does not list"):
        dk.compile(x * y, "x")


def test_wrong_number_of_inputs_is_reported():
    with pytest.raises(DerivekitError, match="takes 2 inputs"):
        dk.compile(x * y, "x, y")(1.0)


def test_unknown_backend_lists_the_choices():
    with pytest.raises(DerivekitError, match="numpy"):
        dk.compile(x, "x", backend="fortran")


def test_jax_backend_is_optional():
    try:
        import jax  # noqa: F401
    except ImportError:
        with pytest.raises(DerivekitError, match="pip install"):
            dk.compile(x, "x", backend="jax")
    else:
        f = dk.compile(sigmoid(x) * x, "x", backend="jax")
        assert float(f(0.0)) == 0.0
        H = dk.compile(sp.hessian(x**2 * y + 4 * x, (x, y)), "x, y", backend="jax")
        out = np.asarray(H(np.array([1.0, 2.0]), 3.0))
        assert out.shape == (2, 2, 2)
        np.testing.assert_allclose(out[:, :, 1], [[6.0, 4.0], [4.0, 0.0]])


def test_cse_switches_on_for_a_swollen_derivative():
    chain = x
    for _ in range(4):
        chain = sigmoid(chain)
    grad = compile_gradient(chain, "x")
    assert grad.cse
    assert not dk.compile(x + y, "x, y").cse
    assert repeats_subexpressions([sp.diff(chain, x)])


def test_cse_and_plain_give_the_same_numbers():
    e = sp.diff(sigmoid(sigmoid(w * x + b) * w), w)
    pts = np.linspace(-2, 2, 7)
    a = dk.compile(e, "w, x, b", cse=True)(pts, 0.5, 0.1)
    c = dk.compile(e, "w, x, b", cse=False)(pts, 0.5, 0.1)
    np.testing.assert_allclose(a, c, rtol=1e-13)


def test_compile_gradient_matches_sympy_diff():
    e = softplus(w * x + b) + w**2
    g = compile_gradient(e, "w, b", args="w, b, x")
    out = g(np.array([0.5]), np.array([-0.3]), np.array([1.5]))
    expected = [float(sp.diff(e, v).subs({w: 0.5, b: -0.3, x: 1.5}).evalf()) for v in (w, b)]
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-12)


def test_kink_second_derivative_evaluates_away_from_the_kink():
    H = sp.hessian(relu(x) * y + sp.Max(x, y), (x, y))
    out = dk.compile(H, "x, y")(np.array([1.0, -1.0]), np.array([0.5, 2.0]))
    assert out.shape == (2, 2, 2) and np.isfinite(out).all()


# --- numerical stability of the DL functions -------------------------------------------------

EXTREMES = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])


@pytest.mark.parametrize("fn", [sigmoid, softplus, relu, silu, gelu, elu, leaky_relu])
def test_dl_functions_raise_no_warnings_at_large_arguments(fn):
    f = dk.compile(fn(x), "x")
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = f(EXTREMES)
        single = [f(float(v)) for v in EXTREMES]
    assert np.isfinite(out).all()
    np.testing.assert_allclose(single, out, rtol=1e-12, atol=0)


def test_sigmoid_and_softplus_values_at_1000():
    s = dk.compile(sigmoid(x), "x")(np.array([-1000.0, 1000.0]))
    sp_ = dk.compile(softplus(x), "x")(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 1.0])
    np.testing.assert_array_equal(sp_, [0.0, 1000.0])


def test_sigmoid_derivative_is_stable_at_1000():
    g = compile_gradient(sigmoid(x) + softplus(x), "x")
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = g(np.array([-1000.0, 1000.0]))
    np.testing.assert_allclose(out[0], [0.0, 1.0])


def test_logsumexp_shifts_by_the_max():
    f = dk.compile(logsumexp(x, y, z), "x, y, z")
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = f(np.array([1000.0, -1000.0]), np.array([1000.0, -1000.0]), np.array([0.0, -1000.0]))
        single = f(1000.0, 1000.0, 0.0)
    np.testing.assert_allclose(out, [1000.0 + math.log(2.0), -1000.0 + math.log(3.0)], rtol=1e-15)
    assert single == pytest.approx(1000.0 + math.log(2.0), rel=1e-15)


def test_softmax_gradient_is_stable():
    g = compile_gradient(logsumexp(x, y), "x, y")
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = g(np.array([1000.0]), np.array([-1000.0]))
    np.testing.assert_allclose(out[:, 0], [1.0, 0.0])
    s = dk.compile(softmax(1, x, y), "x, y")(np.array([800.0]), np.array([800.0]))
    assert s[0] == pytest.approx(0.5)


def test_split_components_respects_brackets():
    assert split_components("[a, logsumexp(a, b)]") == ["a", "logsumexp(a, b)"]
    assert split_components("x; y") == ["x", "y"]
    assert split_components(r"\frac{a}{b}, c") == [r"\frac{a}{b}", "c"]
    assert split_components("(a+b)*(c+d)") == ["(a+b)*(c+d)"]


def test_large_batches_run_in_chunks_with_the_same_numbers(monkeypatch):
    import derivekit.numeric.compiled as numeric
    g = compile_gradient(sigmoid(w * x + b) ** 2 + w * b, "w, b", args="w, b, x")
    xs = np.linspace(-3, 3, 3 * numeric.CHUNK + 5)
    chunked = g(0.7, -0.2, xs)
    monkeypatch.setattr(numeric, "CHUNK", 10**9)
    whole = g(0.7, -0.2, xs)
    np.testing.assert_array_equal(chunked, whole)
    assert chunked.shape == (2, len(xs))


def test_partial_broadcast_of_a_large_batch():
    import derivekit.numeric.compiled as numeric
    f = dk.compile([x * y, sp.Integer(1)], "x, y")
    n = numeric.CHUNK
    out = f(np.ones((n, 1)), np.arange(4.0)[None, :])
    assert out.shape == (2, n, 4)
    np.testing.assert_array_equal(out[0, 5], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out[1], 1.0)


def test_vector_entries_on_a_single_numpy_point():
    out = dk.compile([2 * x * y, x + y, sp.Integer(4)], "x, y", backend="numpy")(2.0, 3.0)
    np.testing.assert_array_equal(out, [12.0, 5.0, 4.0])


def test_jax_backend_without_jax_says_how_to_install(monkeypatch):
    import sys

    import derivekit.numeric.compiled as numeric
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.setattr(numeric, "_JAX_NAMESPACE", None)
    with pytest.raises(DerivekitError, match=r"pip install 'derivekit\[jax\]'"):
        dk.compile(x, "x", backend="jax")


def test_compile_takes_derivations_and_matrices_of_derivations():
    # regression: dk.compile(dk.hessian(...), ...) raised "cannot read the expression"
    H = dk.compile(dk.hessian("x^2*y + 3", ["x", "y"]), ["x", "y"])
    out = H(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]))
    assert out.dtype == np.float64 and out.shape == (2, 2, 3)
    assert np.allclose(out[0, 0], 2.0) and np.allclose(out[0, 1], [2.0, 4.0, 6.0])
    g = dk.compile(dk.gradient("sigmoid(w*x + b)", ["w", "b"]), ["w", "b", "x"])
    assert np.allclose(g(0.0, 0.0, 2.0), [0.5, 0.25])
    d = dk.compile(dk.derive("tanh(x)", "x"), ["x"])
    assert math.isclose(d(0.5), 1 - math.tanh(0.5) ** 2)
