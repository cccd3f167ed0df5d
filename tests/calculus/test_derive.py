"""The step engine's public operators: textbook results, steps, sharing, matrices."""

from __future__ import annotations

import pytest
import sympy as sp

import derivekit as dk
from derivekit.calculus.derive import derive, gradient, hessian, implicit, jacobian
from derivekit.calculus.rules import RULES
from derivekit.errors import DerivekitError, LimitError
from derivekit.parsing.functions import logsumexp, sigmoid, softmax, to_elementary

w, x, b, y, z1, z2 = sp.symbols("w x b y z1 z2")
S = sigmoid(w * x + b)
BCE = -(y * sp.log(S) + (1 - y) * sp.log(1 - S))


def rules_in(derivation):
    return [step.rule for root in derivation.steps for step in root.walk()]


def test_sigmoid_chain_gives_textbook_form():
    d = derive(S, w)
    assert d.result == x * S * (1 - S)
    assert not d.result.has(sp.cosh) and not d.result.has(sp.exp)
    chain = d.steps[0]
    assert chain.rule == "chain"
    assert chain.facts == ((sp.Symbol("u_1"), w * x + b),)
    assert [s.rule for s in chain.substeps] == ["sigmoid", "sum"]


def test_binary_cross_entropy_cancels_to_sigma_minus_y():
    d = derive(BCE, w)
    assert d.result == (S - y) * x
    descriptions = [r.description for r in d.rewrites]
    assert any("cancel" in text for text in descriptions)
    assert any("Factor out the common factor x" == text for text in descriptions)
    # each rewrite starts where the previous one ended, from the raw result to the result
    assert d.rewrites[0].before == d.raw_result and d.rewrites[-1].after == d.result
    for first, second in zip(d.rewrites, d.rewrites[1:]):
        assert first.after == second.before


def test_bce_repeated_sub_derivation_is_referenced():
    d = derive(BCE, w)
    steps = list(d.steps[0].walk())
    labelled = [s for s in steps if s.label]
    refs = [s for s in steps if s.ref]
    assert labelled and refs
    assert {s.ref for s in refs} <= {s.label for s in labelled}
    assert all(not s.substeps for s in refs)
    names = [name for s in steps for name, _ in s.facts]
    assert len(names) == len(set(names))  # u₁, u₂, … never reused for a different inner


def test_logsumexp_derivative_recognised_as_softmax():
    d = derive(sp.log(sp.exp(z1) + sp.exp(z2)), z1)
    assert d.result == softmax(1, z1, z2)
    assert any("softmax" in r.description for r in d.rewrites)
    assert derive(logsumexp(z1, z2), z2).result == softmax(2, z1, z2)


def test_softmax_cross_entropy_and_softmax_quotient_come_out_as_softmax():
    # regression: −log softmax₁ gave e^(−z₁)·(softmax − e^(2z₁)/Σ²)·Σ when the softmax only
    # appeared after the algebra, and e^(z₁)e^(z₂)/Σ² was never recognised
    e1, e2 = sp.exp(z1), sp.exp(z2)
    s1, s2 = softmax(1, z1, z2), softmax(2, z1, z2)
    cross_entropy = -sp.log(e1 / (e1 + e2))
    for steps in (True, False):
        d = derive(cross_entropy, z1, steps=steps)
        assert d.result == -s2, steps
        assert d.rewrites[-1].after == d.result
    assert derive(cross_entropy, z2).result == s2
    assert derive(e1 / (e1 + e2), z1).result == s1 * (1 - s1)  # the diagonal sᵢ(1 − sᵢ)
    assert derive(e1 / (e1 + e2), z2).result == -s1 * s2
    z3 = sp.Symbol("z3")
    three = [z1, z2, z3]
    three_class = -sp.log(sp.exp(z2) / sum(sp.exp(z) for z in three))
    assert derive(three_class, z2).result == softmax(2, *three) - 1
    assert derive(three_class, z3).result == softmax(3, *three)
    labelled = derive(-y * sp.log(e1 / (e1 + e2)) - (1 - y) * sp.log(e2 / (e1 + e2)), z1)
    assert not labelled.result.has(sp.exp)
    point = {z1: 0.3, z2: -1.1, y: 0.7}
    assert abs(float(to_elementary(labelled.result).subs(point))
               - float(sp.diff(labelled.expr, z1).subs(point))) < 1e-12


@pytest.mark.parametrize("classes", [3, 4])
@pytest.mark.parametrize("spelling", ["softmax", "exp"])
def test_multiclass_cross_entropy_gradient_is_softmax_times_label_sum_minus_label(classes, spelling):
    # regression: one term stayed −y₁((Σ e^z)e^(z₁) − e^(2z₁))e^(−z₁)/Σ e^z (or −y₁(1 − softmax₁))
    import random
    zs = sp.symbols(f"z1:{classes + 1}")
    ys = sp.symbols(f"y1:{classes + 1}")
    total = sum(sp.exp(z) for z in zs)
    prob = (lambda k: softmax(k + 1, *zs)) if spelling == "softmax" else (lambda k: sp.exp(zs[k]) / total)
    loss = -sum(ys[k] * sp.log(prob(k)) for k in range(classes))
    rng = random.Random(classes)
    for i, z in enumerate(zs):
        d = derive(loss, z)
        assert d.result == softmax(i + 1, *zs) * sum(ys) - ys[i]  # labels not assumed one-hot
        assert d.rewrites[-1].description == f"Collect the terms in {softmax(i + 1, *zs)}"
        assert d.rewrites[-1].after == d.result
        for first, second in zip(d.rewrites, d.rewrites[1:]):
            assert first.after == second.before
        exact = sp.diff(loss, z)
        for _ in range(3):
            point = {s: rng.uniform(-2, 2) for s in zs + ys}
            assert abs(float(to_elementary(d.result).subs(point)) - float(exact.subs(point))) < 1e-10


def test_two_class_and_binary_cross_entropy_unchanged_by_collecting_softmax():
    s1 = softmax(1, z1, z2)
    y1, y2 = sp.symbols("y1 y2")
    # scored with the softmax's own length (issue 14), the collected form is the shorter one,
    # the same softmaxᵢ·Σy − yᵢ as for more classes
    assert derive(-(y1 * sp.log(s1) + y2 * sp.log(softmax(2, z1, z2))), z1).result \
        == (y1 + y2) * s1 - y1
    assert derive(-sp.log(s1), z1).result == s1 - 1
    assert derive(BCE, w).result == (S - y) * x
    assert derive(-y * sp.log(sigmoid(z1)) - (1 - y) * sp.log(1 - sigmoid(z1)), z1).result \
        == sigmoid(z1) - y


def test_sigmoid_hessian_entries_share_one_textbook_form():
    # regression: the (w, w) entry came out as x²(2σ² − 3σ + 1)σ and the (w, b) entry as
    # x((1 − σ)²σ − (1 − σ)σ²), while (b, w) read x(1 − 2σ)(1 − σ)σ
    H = hessian(S, [w, b], steps=True).result
    textbook = (1 - 2 * S) * (1 - S) * S
    assert H[0, 0] == x ** 2 * textbook
    assert H[0, 1] == H[1, 0] == x * textbook
    assert H[1, 1] == textbook
    assert derive(sigmoid(x), x, order=2).result == (1 - 2 * sigmoid(x)) * (1 - sigmoid(x)) * sigmoid(x)


def test_squared_error_of_an_activation_keeps_the_two_in_front():
    # regression: x(2σ − 2y)σ(1 − σ), the chain rule's 2(σ − y) distributed by SymPy
    d = derive((S - y) ** 2, w)
    assert d.result == 2 * x * (S - y) * S * (1 - S)
    assert d.rewrites[-1].after == d.result
    assert derive((sp.tanh(w * x + b) - y) ** 2, w).result \
        == 2 * x * (sp.tanh(w * x + b) - y) * (1 - sp.tanh(w * x + b) ** 2)


def test_tanh_derivative_is_one_minus_tanh_squared():
    assert derive(sp.tanh(x), x).result == 1 - sp.tanh(x) ** 2


def test_public_names_are_the_engine_functions():
    assert dk.derive is derive and dk.gradient is gradient and dk.implicit is implicit


def test_strings_and_names_are_accepted():
    d = derive("sigmoid(w*x + b)", "w")
    assert d.result == x * S * (1 - S)
    assert d.wrt == w


def test_partial_derivative_states_constants():
    d = derive(x**2 * y + b, x)
    assert d.result == 2 * x * y
    assert d.steps[0].detail["constants"] == [b, y]


def test_higher_order_has_one_root_per_order():
    d = derive(x**4, x, order=3)
    assert d.result == 24 * x
    assert len(d.steps) == 3
    assert d.steps[1].expr == 4 * x**3


def test_x_to_the_x_uses_logarithmic_differentiation():
    d = derive(x**x, x)
    assert d.steps[0].rule == "log_diff"
    assert sp.simplify(d.result - sp.diff(x**x, x)) == 0


def test_quotient_rule_is_shown_for_a_ratio():
    d = derive(sp.sin(x) / (x + 1), x)
    assert d.steps[0].rule == "quotient"
    assert sp.simplify(d.result - sp.diff(sp.sin(x) / (x + 1), x)) == 0


def test_implicit_circle():
    d = implicit(x**2 + y**2 - 1, x, y)
    assert d.result == -x / y
    assert d.steps[0].rule == "implicit"
    assert implicit(sp.Eq(x**2 + y**2, 1), "x", "y").result == -x / y


def test_gradient_column_and_entries():
    g = gradient(BCE, [w, b])
    assert g.kind == "gradient"
    assert g.result == sp.Matrix([(S - y) * x, S - y])
    assert g.entries[1][0].result == S - y


def test_jacobian_and_hessian_match_sympy():
    f = [x * y, sigmoid(x) * y]
    J = jacobian(f, [x, y])
    assert J.result.shape == (2, 2)
    for i in range(2):
        for j, v in enumerate((x, y)):
            assert sp.simplify(to_elementary(J.result[i, j] - sp.diff(f[i], v))) == 0
    H = hessian(BCE, [w, b])
    assert H.result.shape == (2, 2)
    assert H.result[1, 1] == S * (1 - S)
    assert len(H.gradient) == 2


def test_hessian_entries_share_sub_derivations():
    H = hessian(sigmoid(w * x + b) ** 2, [w, b], steps=True)
    assert H.shared
    for label, step in H.shared.items():
        assert step.label == label


def test_fast_path_matches_steps():
    g_steps = gradient(BCE, [w, b], steps=True).result
    g_fast = gradient(BCE, [w, b], steps=False).result
    for a, c in zip(g_steps, g_fast):
        assert sp.cancel(a - c) == 0


def test_rule_names_in_steps_are_in_the_table():
    for expr in (BCE, x**x, sp.Abs(x) + sp.Max(x, y), sp.Function("f")(x**2)):
        for name in rules_in(derive(expr, x)):
            assert name in RULES


def test_strings_everywhere():
    assert derive(r"\sigma(w x + b)", "w").result == x * S * (1 - S)
    assert gradient("x^2*y + y^3", "x, y").result == sp.Matrix([2 * x * y, x**2 + 3 * y**2])
    assert jacobian(["x*y", "x + y"], "x,y").result == sp.Matrix([[y, x], [1, 1]])
    assert hessian("x^2*y + y^3", ["x", "y"]).result == sp.Matrix([[2 * y, 2 * x], [2 * x, 6 * y]])
    assert implicit("x^2 + y^2 = 1", "x", "y").result == -x / y


def test_deadline_stops_the_engine():
    from derivekit.limits import deadline
    with pytest.raises(LimitError, match="deadline"):
        with deadline(0.001):
            derive("sigmoid(sigmoid(sigmoid(w*x+b)))*tanh(x*w)^3/(1+x^2)", "w", order=3)


def test_large_inputs_take_the_fast_path_by_default():
    xs = sp.symbols("x1:301")
    rosenbrock = sp.Add(*[100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(299)])
    g = gradient(rosenbrock, xs)
    assert all(not entry.steps for (entry,) in g.entries)
    assert g.result[5] == sp.diff(rosenbrock, xs[5])
    with pytest.raises(LimitError, match="steps=False"):
        gradient(rosenbrock, xs[:2], steps=True)


def test_bad_input_gets_clear_errors():
    with pytest.raises(DerivekitError, match="implicit"):
        derive(sp.Eq(x, 1), x)
    with pytest.raises(DerivekitError, match="order"):
        derive(x, x, order=0)
    with pytest.raises(DerivekitError):
        derive(x, 3)
    with pytest.raises(LimitError):
        derive(sp.Add(*[sp.sin(i * x) for i in range(1, 1100)]), x)


# --- correctness corpus: the step result equals sympy.diff ---------------------------------

from functools import lru_cache  # noqa: E402

from derivekit.calculus import exprgen  # noqa: E402
from derivekit.calculus.engine import Engine  # noqa: E402

X, Y, A = exprgen.X, exprgen.Y, exprgen.A
CHUNKS = 4


@lru_cache(maxsize=None)
def default_corpus() -> tuple:
    return tuple(exprgen.corpus(2000, seed=1, max_depth=2))


def mismatches(exprs, order=1, var=X):
    """(expr, our result) for each expression whose derivative disagrees with sympy.diff;
    expressions with no point in their real domain cannot be compared and are left out."""
    bad = []
    for expr in exprs:
        ours = derive(expr, var, order=order).result
        if not exprgen.same_value(ours, sp.diff(expr, var, order), domain=expr):
            if exprgen.checkable(expr):
                bad.append((expr, ours))
    return bad


def test_corpus_is_large_and_distinct():
    corpus = default_corpus()
    assert len(corpus) == len(set(corpus)) >= 2000


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_corpus_matches_sympy_diff(chunk):
    assert mismatches(default_corpus()[chunk::CHUNKS]) == []


def test_corpus_exercises_every_rule():
    used = set()
    for expr in default_corpus()[:800]:
        used.update(step.rule for step in Engine([expr]).root(expr, X).walk())
    for expr in exprgen.corpus(40, seed=5, max_depth=1):
        used.update(step.rule for root in derive(expr, X, order=2).steps for step in root.walk())
    # implicit has its own tests; the index-sum rules are checked against expanded sums in
    # test_index_sums.py (sympy.diff cannot be the reference: it reads x_i and x_2 as unrelated)
    assert set(RULES) - used <= {"implicit", "sum_inside", "sum_index"}


def test_second_derivatives_match_sympy():
    assert mismatches(exprgen.corpus(120, seed=3, max_depth=1), order=2) == []


def test_gradients_match_sympy():
    for expr in exprgen.corpus(60, seed=4, max_depth=2):
        g = gradient(expr, [X, Y, A], steps=True)
        for entry, var in zip(g.result, (X, Y, A)):
            assert exprgen.same_value(entry, sp.diff(expr, var), domain=expr), (expr, var)


def test_jacobians_match_sympy():
    exprs = exprgen.corpus(30, seed=6, max_depth=1)
    for pair in zip(exprs[::2], exprs[1::2]):
        J = jacobian(list(pair), [X, Y], steps=True)
        for i, expr in enumerate(pair):
            for j, var in enumerate((X, Y)):
                assert exprgen.same_value(J.result[i, j], sp.diff(expr, var), domain=expr)


def test_hessians_match_sympy_with_and_without_steps():
    for expr in exprgen.corpus(12, seed=7, max_depth=1):
        with_steps = hessian(expr, [X, Y], steps=True).result
        fast = hessian(expr, [X, Y], steps=False).result
        for i, vi in enumerate((X, Y)):
            for j, vj in enumerate((X, Y)):
                expected = sp.diff(expr, vi, vj)
                assert exprgen.same_value(with_steps[i, j], expected, domain=expr), (expr, vi, vj)
                assert exprgen.same_value(fast[i, j], expected, domain=expr), (expr, vi, vj)


@lru_cache(maxsize=None)
def deep_corpus(seed: int) -> tuple:
    return tuple(exprgen.corpus(2000, seed=seed, max_depth=3))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_deep_corpus_matches_sympy_diff(seed, chunk):
    assert mismatches(deep_corpus(seed)[chunk::CHUNKS]) == []


@pytest.mark.slow
def test_third_derivatives_match_sympy():
    assert mismatches(exprgen.corpus(200, seed=13, max_depth=1), order=3) == []


def test_variables_given_as_names_are_the_expressions_own_symbols():
    # a name finds the expression's symbol, assumptions included; one lookup table per call
    xs = sp.symbols("x0:40", positive=True)
    expr = sum((xs[i + 1] - xs[i] ** 2) ** 2 for i in range(39))
    by_name = gradient(expr, [x.name for x in xs], steps=False).result
    by_symbol = gradient(expr, list(xs), steps=False).result
    assert by_name == by_symbol
    assert derive(sp.log(xs[0]), "x0").result == 1 / xs[0]
    assert gradient("x*y", "x, y").result == sp.Matrix([sp.Symbol("y"), sp.Symbol("x")])
