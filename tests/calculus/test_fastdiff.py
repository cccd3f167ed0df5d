"""The symengine fast path agrees with sympy.diff and returns canonical SymPy objects."""

from __future__ import annotations

import pytest
import sympy as sp

from derivekit.calculus import fastdiff
from derivekit.calculus.exprgen import same_value
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

x, y, z, w, b = sp.symbols("x y z w b", real=True)  # real: d|x|/dx = sign(x)
f = sp.Function("f")


def numerically_equal(a: sp.Expr, b: sp.Expr, symbols) -> bool:
    return same_value(a, b, symbols=tuple(symbols), points=3)


def assert_canonical(expr: sp.Basic) -> None:
    """Rebuilding any node with evaluation on gives the same node (so == works as usual)."""
    for node in sp.preorder_traversal(expr):
        if node.args and not node.is_Atom:
            assert node.func(*node.args) == node, node


EXPRESSIONS = [
    x**3 * y + sp.sin(x * y),
    sigmoid(w * x + b),
    sp.log(sigmoid(w * x + b)) * y + (1 - y) * sp.log(1 - sigmoid(w * x + b)),
    softplus(x * y) + silu(x) * relu(y) + gelu(x),
    sp.exp(x) / (sp.exp(x) + sp.exp(y)),
    logsumexp(x, y, z),
    softmax(1, x, y) * z,
    sp.tanh(x * y) + sp.atan(x) + sp.sqrt(x**2 + y**2),
    x**y,
    sp.Abs(x - y) + sp.Max(x, y),
    leaky_relu(x * y) + elu(x - y),
    sp.Piecewise((x**2, x > y), (x * y, True)),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_gradient_matches_sympy(expr):
    variables = sorted(expr.free_symbols, key=str)
    column = fastdiff.gradient_vector(expr, variables)
    assert column.shape == (len(variables), 1)
    for entry, var in zip(column, variables):
        assert numerically_equal(entry, sp.diff(expr, var), variables)
        assert_canonical(entry)


@pytest.mark.parametrize("expr", EXPRESSIONS[:9], ids=str)
def test_hessian_matches_sympy(expr):
    variables = sorted(expr.free_symbols, key=str)
    matrix = fastdiff.hessian_matrix(expr, variables)
    assert matrix == matrix.T
    for i, vi in enumerate(variables):
        for j, vj in enumerate(variables):
            assert numerically_equal(matrix[i, j], sp.diff(expr, vi, vj), variables)


def test_textbook_forms_survive():
    column = fastdiff.gradient_vector(sigmoid(w * x + b), [w])
    s = sigmoid(w * x + b)
    assert sp.expand(column[0] - x * s * (1 - s)) == 0
    assert column[0].has(sigmoid)


def test_exact_agreement_on_polynomials():
    expr = sp.Add(*[100 * (y**2 - x) ** 2 + (1 - x) ** 2, x * y * z])
    column = fastdiff.gradient_vector(expr, [x, y, z])
    assert list(column) == [sp.diff(expr, v) for v in (x, y, z)]


def test_abstract_functions_stay_symbolic():
    expr = f(x**2) * y
    column = fastdiff.gradient_vector(expr, [x, y])
    assert column[0] == sp.diff(expr, x)
    assert column[1] == f(x**2)


def test_jacobian_shape_and_entries():
    exprs = [x * y, sigmoid(x) + y**2, sp.exp(x * z)]
    matrix = fastdiff.jacobian_matrix(exprs, [x, y, z])
    assert matrix.shape == (3, 3)
    for i, e in enumerate(exprs):
        for j, v in enumerate((x, y, z)):
            assert numerically_equal(matrix[i, j], sp.diff(e, v), [x, y, z])


def test_symbols_keep_their_assumptions_and_names_are_accepted():
    rx, ry = sp.symbols("x y", positive=True)
    column = fastdiff.gradient_vector(rx**2 * ry, ["x", "y"])
    assert column[0].free_symbols == {rx, ry}
    assert column[0] == 2 * rx * ry


def test_sparse_sum_gradient_is_exact():
    xs = sp.symbols("x1:31")
    rosenbrock = sp.Add(*[100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(29)])
    column = fastdiff.gradient_vector(rosenbrock, xs)
    assert list(column) == [sp.diff(rosenbrock, v) for v in xs]


def test_variable_absent_gives_zero():
    assert fastdiff.gradient_vector(x**2, [x, y])[1] == 0
    assert fastdiff.hessian_matrix(x**2, [x, y]) == sp.Matrix([[2, 0], [0, 0]])
