"""The pieces that make ``dk.gradcheck`` near-linear in the number of variables (issue 15).

* ``split_last_operations`` drops one argument of a sum or product without re-flattening
  it (``_without``), and tries every split only for small entries;
* lambdify prints sums in their stored order (no display sort);
* ``gradcheck`` compiles the function and the gradient once and lets ``sample_points``
  reuse them, with cse only where the code would swell without it (``printing_swells``).

Each is checked against an independent route: SymPy's own constructor, ``sympy.diff`` and
direct evaluation.
"""

import random

import numpy as np
import pytest
import sympy as sp

import derivekit as dk
from derivekit.calculus.exprgen import corpus
from derivekit.numeric.compiled import (
    MAX_SPLIT_CANDIDATES,
    _candidate_splits,
    _without,
    compile,
    is_power_of_two,
    printing_swells,
    split_last_operations,
)
from derivekit.numeric.sampling import sample_points
from derivekit.parsing.functions import sigmoid


def _adds_and_muls(exprs):
    for e in exprs:
        for node in sp.preorder_traversal(e):
            if isinstance(node, (sp.Add, sp.Mul)) and len(node.args) >= 2:
                yield node


def test_dropping_an_argument_equals_rebuilding_the_rest_on_a_random_corpus():
    nodes = list(_adds_and_muls(corpus(300, seed=15)))
    assert len(nodes) > 200
    for node in nodes:
        for i in range(len(node.args)):
            rest = node.args[:i] + node.args[i + 1:]
            rebuilt = type(node)(*rest) if len(rest) > 1 else rest[0]
            fast = _without(node, i)
            if fast != rebuilt:  # only 2ᵏ·(a + b), kept as one scaling where SymPy distributes
                assert fast.is_Mul and is_power_of_two(fast.args[0]) and fast.args[1].is_Add, (node, i)
                fast = sp.Mul(*fast.args)
            assert fast == rebuilt and hash(fast) == hash(rebuilt), (node, i)


def test_every_split_multiplies_or_adds_back_to_the_entry():
    rng = random.Random(15)
    xs = sp.symbols("x0:40")
    entries = [sp.Add(*[rng.randint(1, 9) * xs[rng.randrange(40)] * xs[rng.randrange(40)]
                        for _ in range(rng.randint(2, 30))]) for _ in range(60)]
    entries += [sp.Mul(*rng.sample(xs, rng.randint(2, 20))) for _ in range(60)]
    for entry in entries:
        splits = _candidate_splits(entry)
        assert len(splits) == (len(entry.args) if len(entry.args) <= MAX_SPLIT_CANDIDATES else 1)
        for pick, rest in splits:
            assert type(entry)(pick, rest) == entry


def test_a_large_sum_is_split_once_and_compiles_to_its_value():
    xs = sp.symbols("x0:600")
    big = sp.Add(*[(x - 1) ** 2 * (k + 1) for k, x in enumerate(xs)])
    assert len(split_last_operations([big, big * 2])[0]) == 2
    rng = np.random.default_rng(0)
    values = rng.uniform(-2, 2, size=(len(xs), 5))
    out = compile([big, 3 * big], xs, backend="numpy")(*values)
    expected = sum((values[k] - 1) ** 2 * (k + 1) for k in range(len(xs)))
    np.testing.assert_allclose(out[0], expected, rtol=1e-12)
    np.testing.assert_allclose(out[1], 3 * expected, rtol=1e-12)


def _chain(depth):
    x = sp.Symbol("x")
    ws = sp.symbols(f"w1:{depth + 1}")
    z = x
    for w in ws:
        z = sigmoid(w * z)
    return z, list(ws)


def test_printing_swells_for_a_deep_chain_rule_and_not_for_a_sum_of_squares():
    chain, ws = _chain(8)
    assert printing_swells([sp.diff(chain, w) for w in ws])
    xs = sp.symbols("x1:51")
    rosenbrock = sp.Add(*[100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(49)])
    assert not printing_swells([sp.diff(rosenbrock, x) for x in xs])
    assert not printing_swells([])


def test_compile_uses_cse_only_where_code_would_swell_and_both_give_the_same_numbers():
    """dk.compile(gradient) of a 1000-variable Rosenbrock spent 45 s in cse that saved
    nothing; a deep chain rule's gradient still gets it."""
    xs = sp.symbols("x0:120")
    rosenbrock = sp.Add(*[100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(119)])
    chain, ws = _chain(6)
    rng = np.random.default_rng(12)
    for exprs, args, swells in [([sp.diff(rosenbrock, x) for x in xs], xs, False),
                                ([sp.diff(chain, w) for w in ws], ws + [sp.Symbol("x")], True)]:
        chosen = compile(exprs, args, backend="numpy")
        assert chosen.cse is swells
        other = compile(exprs, args, backend="numpy", cse=not swells)
        values = rng.uniform(-1.5, 1.5, size=(len(args), 9))
        np.testing.assert_allclose(chosen(*values), other(*values), rtol=1e-12, atol=1e-12)


def test_sample_points_with_compiled_functions_equals_compiling_them_here():
    x, y = sp.symbols("x y")
    exprs = [sp.log(x) + sp.sqrt(y), 1 / (x - y)]
    fns = [compile(exprs[0], (x, y), backend="numpy"), compile([exprs[1]], (x, y), backend="numpy")]
    own = sample_points(exprs, (x, y), 12, seed=3)
    reused = sample_points(exprs, (x, y), 12, seed=3, compiled=fns)
    np.testing.assert_array_equal(own, reused)
    assert np.all(own[:, 0] > 0) and np.all(own[:, 1] > 0)


@pytest.mark.parametrize("seed", range(3))
def test_gradcheck_agrees_with_sympy_diff_on_generated_sums(seed):
    rng = random.Random(seed)
    n = 60
    xs = sp.symbols(f"x1:{n + 1}")
    pieces = [sp.sin, sp.tanh, sigmoid, lambda u: u**2, sp.exp]
    f = sp.Add(*[rng.choice(pieces)(rng.randint(1, 3) * xs[rng.randrange(n)] - xs[rng.randrange(n)])
                 for _ in range(2 * n)])
    check = dk.gradcheck(f, seed=seed)
    assert check.ok, check.failing
    # the analytic columns it compared are sympy.diff's, at the points it used
    wrt = [a for a in check.point_names]
    symbols = [sp.Symbol(name) for name in wrt]
    exact = compile([sp.diff(f, s) for s in symbols], symbols, backend="numpy")(*check.points.T)
    np.testing.assert_allclose(check.analytic, exact[: len(check.components)], rtol=1e-10, atol=1e-12)


def test_gradcheck_still_finds_a_wrong_claim_on_a_large_sum():
    xs = sp.symbols("x1:121")
    f = sp.Add(*[(xs[i + 1] - xs[i] ** 2) ** 2 for i in range(119)])
    claim = [sp.diff(f, x) for x in xs]
    claim[57] = claim[57] + xs[3]  # one wrong entry
    check = dk.gradcheck(f, claim, wrt=list(xs))
    assert not check.ok and check.failing == ["x58"]
