"""Sums over an index: ∂/∂x_k Σᵢ f(xᵢ) = f′(x_k) and d/dw Σᵢ fᵢ = Σᵢ dfᵢ/dw, checked on
seeded random summands against the sum written out (n = 4) and differentiated by sympy.diff.
sympy.diff cannot check the symbolic sum itself: it reads x_i and x_2 as unrelated names."""

from __future__ import annotations

import pytest
import sympy as sp

from derivekit.calculus import exprgen
from derivekit.calculus.derive import derive
from derivekit.errors import NeedsMatrixEngine, UnsupportedError
from derivekit.parsing.parse import make_sum, parse, substitute_index

i, n, k, w = sp.symbols("i n k w")
x_i, y_i = sp.Symbol("x_i"), sp.Symbol("y_i")
N = 4


def summands(count: int, seed: int) -> list[sp.Expr]:
    """Random f(x_i, y_i, w): exprgen's expressions in x with x -> x_i, y -> y_i, a -> w."""
    rename = {exprgen.X: x_i, exprgen.Y: y_i, exprgen.A: w}
    return [e.xreplace(rename) for e in exprgen.corpus(count, seed=seed, max_depth=2)]


def expanded(expr: sp.Expr) -> sp.Expr:
    """Every Sum over i from 1 to n, written out for n = N."""
    return expr.replace(lambda e: isinstance(e, sp.Sum),
                        lambda e: make_sum(e.function, e.limits[0][0], sp.Integer(1), sp.Integer(N)))


def close(ours: sp.Expr, reference: sp.Expr) -> bool:
    names = sorted(ours.free_symbols | reference.free_symbols, key=str)
    return exprgen.same_value(ours, reference, symbols=names, domain=reference)


@pytest.mark.parametrize("body", summands(25, seed=21), ids=str)
def test_one_term_of_the_sum(body):
    total = sp.Sum(body, (i, 1, n))
    for var, at in ((sp.Symbol("x_k"), k), (sp.Symbol("x_2"), sp.Integer(2))):
        result = derive(total, var).result
        reference = sp.diff(expanded(total), sp.Symbol("x_2"))
        ours = substitute_index(result, k, sp.Integer(2))  # x_k, y_k -> x_2, y_2
        assert close(ours, reference), (body, var, result)


@pytest.mark.parametrize("body", summands(20, seed=22), ids=str)
def test_derivative_inside_the_sum(body):
    total = sp.Sum(body, (i, 1, n))
    result = derive(total, w).result
    assert close(expanded(result), sp.diff(expanded(total), w)), (body, result)


def test_steps_name_the_rules_and_the_term():
    d = derive(r"\sum_{i=1}^{n} \sigma(w_i x_i)", "w_3")
    assert d.result == parse("x_3*sigmoid(w_3*x_3)*(1 - sigmoid(w_3*x_3))")
    assert d.steps[0].rule == "sum_index"
    text = d.to_text()
    assert "i = 3" in text and "1 ≤ 3 ≤ n" in text
    assert derive("sum((y_i - w*x_i)^2, i, 1, n)", "w").steps[0].rule == "sum_inside"


def test_numeric_bounds_expand_before_differentiating():
    assert parse(r"\sum_{i=1}^{3} x^i") == parse("x + x^2 + x^3")
    assert derive(r"\sum_{i=1}^{3} x_i^2", "x_2").result == 2 * sp.Symbol("x_2")


@pytest.mark.parametrize("source, var, fix", [
    (r"\sum_{i=1}^{n} x_{i+1} x_i", "x_2", "numeric bounds"),
    (r"\sum_{i=1}^{n} (x_i - x_2)^2", "x_2", "numeric bounds"),
    (r"\sum_j \sum_i (x_i + x_j)", "x_1", "numeric bounds"),
])
def test_ambiguous_index_patterns_are_refused(source, var, fix):
    with pytest.raises(UnsupportedError) as caught:
        derive(source, var)
    assert fix in caught.value.hint


@pytest.mark.parametrize("source, spelling", [
    (r"\frac12\|x\|^2", 'derivekit matgrad "norm2(x)/2" --wrt x --shapes x=nx1'),
    (r"\|w - y\|", 'derivekit matgrad "sqrt(norm2(w - y))" --wrt w --shapes w=nx1,y=nx1'),
    (r"\lambda \|w\|^2 + b", "--shapes w=nx1,b=1x1,lambda=1x1"),
])
def test_a_vector_norm_names_the_matrix_engine(source, spelling):
    with pytest.raises(NeedsMatrixEngine) as caught:
        derive(source, "x")
    assert spelling in caught.value.hint
    assert caught.value.matrix_source and caught.value.matrix_source in caught.value.hint


def test_the_suggested_matrix_spelling_runs():
    from derivekit.matrix.gradient import matrix_gradient
    with pytest.raises(NeedsMatrixEngine) as caught:
        derive(r"\frac12\|x\|^2", "x")
    m = matrix_gradient(caught.value.matrix_source, wrt="x", shapes={"x": (3, 1)})
    import numpy as np
    value = np.arange(3.0).reshape(3, 1)
    assert np.allclose(m.evaluate({"x": value}), value)


def test_a_norm_of_a_number_is_its_absolute_value():
    assert parse(r"\|-3\| x") == 3 * sp.Symbol("x")


def test_sums_take_the_step_engine_even_when_the_fast_path_is_asked_for():
    from derivekit.calculus.derive import gradient
    g = gradient("sum(x_i^2, i, 1, n) + w", ["x_1", "w"], steps=False)
    assert list(g.result) == [2 * sp.Symbol("x_1"), 1]
