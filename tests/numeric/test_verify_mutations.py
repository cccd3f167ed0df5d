"""Mutation corpus for dk.verify.

Correct derivatives come from DL-relevant templates (activation ∘ affine map, products,
losses) × variables. Each must be accepted in several equal forms (textbook, raw
``sympy.diff``, the derivative of the elementary rewrite, e.g. e^{−z}/(1+e^{−z})² for σ′).
Each mutation (a known mistake applied to the correct derivative) must be rejected with
the diagnosis class of that mistake.

A mutant that happens to coincide with an earlier diagnosis class (say a dropped chain
factor that equals the derivative with respect to another variable) is ambiguous: it is
counted and skipped, and the skipped share must stay small.

The default run checks every 4th derivative; ``pytest -m slow`` checks all of them.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import derivekit as dk
from derivekit.parsing.functions import relu, sigmoid, silu, softplus, to_elementary

w, x, b, y = sp.symbols("w x b y")

INNERS = [w * x + b, w * x, w * x - y, w**2 * x + b, x * w + b * y]
OUTERS = {
    "sigmoid": sigmoid, "tanh": sp.tanh, "softplus": softplus, "exp": sp.exp, "sin": sp.sin,
    "square": lambda u: u**2, "cube": lambda u: u**3, "log1p_sq": lambda u: sp.log(1 + u**2),
    "silu": silu, "sqrt1p_sq": lambda u: sp.sqrt(1 + u**2), "relu": relu, "cos": sp.cos,
}
LOSSES = [
    (sigmoid(w * x + b) - y) ** 2,
    -y * sp.log(sigmoid(w * x + b)) - (1 - y) * sp.log(1 - sigmoid(w * x + b)),
    sp.log(1 + sp.exp(-y * (w * x + b))),
    softplus(w * x + b) - y * (w * x + b),
    (sp.tanh(w * x + b) - y) ** 2 / 2,
]


def templates() -> list[tuple[str, sp.Expr]]:
    out = []
    for name, outer in OUTERS.items():
        for i, inner in enumerate(INNERS):
            out.append((f"{name}(inner{i})", outer(inner)))
        out.append((f"w*{name}(w*x+b)", w * outer(w * x + b)))
    out += [(f"loss{i}", loss) for i, loss in enumerate(LOSSES)]
    return out


def corpus() -> list[tuple[str, sp.Expr, sp.Symbol]]:
    cases = []
    for name, f in templates():
        for v in sorted(f.free_symbols, key=lambda s: s.name):
            if sp.diff(f, v) != 0:
                cases.append((f"d/d{v} {name}", f, v))
    return cases


CORPUS = corpus()


def test_corpus_has_at_least_200_correct_derivatives():
    assert len(CORPUS) >= 200


# --- independent numeric equality, used only to skip ambiguous mutants ----------------------

_RNG = np.random.default_rng(7)
_PTS = {s: _RNG.uniform(0.2, 1.5, 24) * _RNG.choice([-1, 1], 24) for s in (w, x, b, y)}


def _values(e: sp.Expr) -> np.ndarray:
    from derivekit.parsing.functions import NUMPY_IMPLEMENTATIONS
    f = sp.lambdify((w, x, b, y), e, modules=[NUMPY_IMPLEMENTATIONS, "numpy"])
    with np.errstate(all="ignore"):
        return np.broadcast_to(np.asarray(f(*(_PTS[s] for s in (w, x, b, y))), dtype=float), (24,))


def _same(a: sp.Expr, c: sp.Expr) -> bool:
    va, vc = _values(a), _values(c)
    ok = np.isfinite(va) & np.isfinite(vc)
    return ok.sum() >= 12 and np.allclose(va[ok], vc[ok], rtol=1e-8, atol=1e-10)


def _constant_multiple(claim: sp.Expr, expected: sp.Expr) -> bool:
    c, e = _values(claim), _values(expected)
    ok = np.isfinite(c) & np.isfinite(e) & (np.abs(e) > 1e-8)
    if ok.sum() < 3:
        return False
    r = c[ok] / e[ok]
    return np.allclose(r, r[0], rtol=1e-8)


EARLIER_CHECKS = ["missing_chain_factor", "wrong_variable", "constant_factor"]  # table order


def _fits(kind: str, f, v, claim, expected) -> bool:
    if kind == "missing_chain_factor":
        return any(_same(claim, expected / sp.diff(g, v)) for g in _inner_functions(f, v)
                   if sp.diff(g, v).free_symbols)
    if kind == "wrong_variable":
        return any(_same(claim, sp.diff(f, u)) for u in f.free_symbols - {v})
    return _constant_multiple(claim, expected)


def _coincides_with_earlier_class(kind: str, f, v, claim, expected) -> bool:
    """True when the mutant also fits a class the diagnosis table tries before ``kind``
    (a dropped chain factor that equals the derivative with respect to another variable)."""
    earlier = EARLIER_CHECKS[:EARLIER_CHECKS.index(kind)] if kind in EARLIER_CHECKS else EARLIER_CHECKS
    return any(_fits(k, f, v, claim, expected) for k in earlier)


# --- mutations ----------------------------------------------------------------------------

def _inner_functions(f, v):
    out = []
    for node in sp.preorder_traversal(f):
        args = [node.base] if isinstance(node, sp.Pow) else list(node.args) if isinstance(node, sp.Function) else []
        out += [a for a in args if a != v and a.has(v) and a not in out]
    return out


ACTIVATION_SWAPS = [  # (pattern in sympy.diff's result, what a student writes instead)
    (lambda u: sigmoid(u) * (1 - sigmoid(u)), lambda u: sigmoid(u), sigmoid),
    (lambda u: 1 - sp.tanh(u) ** 2, lambda u: 1 + sp.tanh(u) ** 2, sp.tanh),
    (lambda u: sigmoid(u), lambda u: softplus(u), softplus),
    (lambda u: sp.Heaviside(u, 0), lambda u: relu(u), relu),
]


def mutants(f: sp.Expr, v: sp.Symbol, e: sp.Expr):
    """(class, claim) pairs: each a known mistake applied to the correct derivative e."""
    yield "constant_factor", 2 * e
    yield "constant_factor", -e
    yield "constant_factor", e / 3
    for g in _inner_functions(f, v):
        d = sp.diff(g, v)
        if d.free_symbols:
            yield "missing_chain_factor", e / d
            break
    for node in sp.preorder_traversal(f):
        for pattern, wrong, head in ACTIVATION_SWAPS:
            if isinstance(node, head) and node.has(v):
                u = node.args[0]
                mutated = e.subs(pattern(u), wrong(u))
                if mutated != e:
                    yield "wrong_activation_derivative", mutated
    for u in sorted(f.free_symbols - {v}, key=lambda s: s.name):
        other = sp.diff(f, u)
        if other != 0:
            yield "wrong_variable", other
            break
    terms = sp.Add.make_args(e)
    if len(terms) > 1:
        yield "missing_term", e - terms[0]
    extra = v**2
    if not sp.Add.make_args(e + extra).count(extra):
        return
    yield "extra_term", e + extra


def _check_case(f, v, stats):
    expected = sp.diff(f, v)
    equal_forms = [expected, sp.diff(to_elementary(f), v)]
    textbook = dk.derive(f, v).result
    equal_forms.append(textbook)
    for form in dict.fromkeys(equal_forms):
        verdict = dk.verify(f, form, v, timeout=1.0)
        assert verdict.ok, f"correct claim {form} for d/d{v} {f} rejected: {verdict.diagnosis}"
        stats["accepted"] += 1
    for kind, claim in mutants(f, v, expected):
        if _same(claim, expected):
            continue  # the mistake makes no difference here (e.g. factor on a zero term)
        if _coincides_with_earlier_class(kind, f, v, claim, expected):
            stats["ambiguous"] += 1
            continue
        verdict = dk.verify(f, claim, v, timeout=0.5)
        assert not verdict.ok, f"mutant {kind} {claim} of d/d{v} {f} accepted"
        assert verdict.error_class == kind, (
            f"mutant {kind}: claim {claim} for d/d{v} {f} diagnosed {verdict.error_class}: {verdict.diagnosis}")
        stats[kind] = stats.get(kind, 0) + 1
        stats["rejected"] += 1


def _run(cases):
    stats = {"accepted": 0, "rejected": 0, "ambiguous": 0}
    for _, f, v in cases:
        _check_case(f, v, stats)
    assert stats["ambiguous"] <= 0.1 * (stats["rejected"] + stats["ambiguous"]), stats
    for kind in ("constant_factor", "missing_chain_factor", "wrong_activation_derivative",
                 "wrong_variable", "missing_term", "extra_term"):
        assert stats.get(kind, 0) > 0, f"no {kind} mutant was exercised: {stats}"
    print(f"mutation corpus: {len(cases)} derivatives, {stats}")
    return stats


def test_mutation_corpus_sample():
    stats = _run(CORPUS[::4])
    assert stats["accepted"] >= 80


@pytest.mark.slow
def test_mutation_corpus_full():
    stats = _run(CORPUS)
    assert len(CORPUS) >= 200 and stats["accepted"] >= 300 and stats["rejected"] >= 1000


# --- product- and quotient-rule slips, on generated products and quotients -------------------

_FACTORS = [lambda t: t**2, lambda t: t**3 + 1, sp.sin, sp.cos, sp.exp, lambda t: sp.log(1 + t**2),
            sigmoid, sp.tanh, lambda t: sp.sqrt(1 + t**2), softplus]
_ARGS = [x, w * x, w * x + b, x + y, 2 * x]


def _rule_slips(u, v, var):
    """(class, claim) for each slip of (uv)′ and (u/v)′, built independently of verify.py."""
    du, dv = sp.diff(u, var), sp.diff(v, var)
    yield "product_rule_sign", u * v, du * v - u * dv
    yield "product_rule_both_factors", u * v, du * dv
    if not isinstance(v, sp.exp):  # u/e^t is the product u·e^(−t) to SymPy and to a student
        yield "quotient_rule_slip", u / v, (du * v + u * dv) / v**2


def rule_slip_corpus(n: int = 120, seed: int = 3):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        i, j = rng.choice(len(_FACTORS), 2, replace=False)
        u = _FACTORS[i](_ARGS[rng.integers(len(_ARGS))])
        v = _FACTORS[j](_ARGS[rng.integers(len(_ARGS))])
        for kind, f, claim in _rule_slips(u, v, x):
            cases.append((kind, f, claim))
    return cases


def _rule_slip_run(cases):
    counts, ambiguous = {}, 0
    for kind, f, claim in cases:
        expected = sp.diff(f, x)
        if _same(claim, expected):
            continue
        if _coincides_with_earlier_class(kind, f, x, claim, expected):
            ambiguous += 1
            continue
        verdict = dk.verify(f, claim, x, timeout=0.5)
        assert not verdict.ok
        assert verdict.error_class == kind, (
            f"slip {kind}: claim {claim} for d/dx {f} diagnosed {verdict.error_class}: {verdict.diagnosis}")
        counts[kind] = counts.get(kind, 0) + 1
    assert ambiguous <= 0.1 * len(cases), ambiguous
    return counts


def test_rule_slips_are_named_on_generated_products_and_quotients():
    counts = _rule_slip_run(rule_slip_corpus(30))
    assert all(counts.get(k, 0) >= 8 for k in ("product_rule_sign", "product_rule_both_factors",
                                                 "quotient_rule_slip")), counts


@pytest.mark.slow
def test_rule_slips_full():
    counts = _rule_slip_run(rule_slip_corpus(150))
    assert sum(counts.values()) >= 140, counts


@pytest.mark.parametrize("f, claim, kind, words", [
    ("sin(x)*cos(x)", "cos(x)^2 + sin(x)^2", "product_rule_sign", "f′g − fg′"),
    ("x^2*sin(x)", "2*x*cos(x)", "product_rule_both_factors", "f′g′"),
    ("sin(x)/x", "(x*cos(x) + sin(x))/x^2", "quotient_rule_slip", "p′q + pq′"),
    ("sin(x)/x", "(sin(x) - x*cos(x))/x^2", "constant_factor", "wrong order"),
    ("x^2*sin(x)", "2*x*sin(x)", "missing_term", "x²·cos(x)"),
])
def test_issue_14_scalar_slips_are_named(f, claim, kind, words):
    verdict = dk.verify(f, claim, "x")
    assert verdict.error_class == kind, verdict.diagnosis
    assert words in verdict.diagnosis


def test_a_wrong_claim_is_not_called_a_missing_factor_equal_to_the_whole_derivative():
    verdict = dk.verify("x^3 + sin(x)", "1", "x")
    assert verdict.error_class != "missing_factor", verdict.diagnosis


def test_a_dropped_product_rule_term_is_named_as_a_missing_term():
    """Drop f′g or fg′ from (fg)′ under an activation: each is named a missing term, and the
    product-rule row names those that no term of the expanded derivative explains."""
    from derivekit.numeric.verify import derivative_with_node_rule
    seen = []
    for outer in (sp.tanh, sigmoid, sp.sin):
        for u, v in ((x**2, sp.sin(x)), (x, sp.cos(x)), (x**3, sp.cos(2 * x)), (x + 1, sp.log(1 + x**2))):
            f = outer(u * v)
            for claim in (derivative_with_node_rule(f, x, u * v, u * sp.diff(v, x)),
                          derivative_with_node_rule(f, x, u * v, sp.diff(u, x) * v)):
                verdict = dk.verify(f, claim, x, timeout=0.5)
                assert verdict.error_class in ("missing_term", "missing_product_term"), verdict.diagnosis
                seen.append(verdict.error_class)
    assert "missing_product_term" in seen
