"""What derivekit prints, it reads back.

Over the seeded random-expression corpus (every differentiation rule, derivekit/calculus/
exprgen.py), each expression and its derivative's tidied result is printed as Unicode text
and as LaTeX, and parsed back: the result must equal the original, structurally after
naming conventions are aligned (H(x) is read with derivekit's H(0) = 0; bound dummies get one
name), or else numerically at random points. A printed form that does not parse fails.
"""

from __future__ import annotations

import pytest
import sympy as sp
from sympy.core.function import AppliedUndef

from derivekit.calculus import exprgen
from derivekit.calculus.derive import derive
from derivekit.parsing.parse import parse
from derivekit.render.printing import to_latex, to_text

#: exprgen's symbols are real; the parser makes plain ones
PLAIN = {s: sp.Symbol(s.name) for s in (exprgen.X, exprgen.Y, exprgen.A)}
POINTS = [sp.Symbol(name) for name in "xya"]
PRINTERS = {"text": to_text, "latex": to_latex}


def _at_point(derivative: sp.Derivative) -> sp.Subs:
    """d/dv g(…, v, …) for an expression v, written as SymPy's Subs at v (what ∂ₖg reads)."""
    (variable,) = derivative.variables
    stand_in = sp.Dummy("xi")
    return sp.Subs(sp.Derivative(derivative.expr.xreplace({variable: stand_in}), stand_in),
                   stand_in, variable)


def canonical(expr: sp.Basic) -> sp.Basic:
    """Heaviside with its value at 0 spelled out (0, derivekit's convention), derivatives in
    an expression as Subs, and every bound dummy (Subs's ξ) the same symbol, so that equal
    readings compare equal."""
    expr = expr.replace(lambda e: isinstance(e, sp.Heaviside) and len(e.args) == 1,
                        lambda e: sp.Heaviside(e.args[0], 0))
    expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and len(e.variables) == 1
                        and not e.variables[0].is_Symbol, _at_point)
    return expr.xreplace({d: sp.Symbol("xi") for d in expr.atoms(sp.Dummy)})


def reads_back(expr: sp.Expr, syntax: str) -> tuple[bool, str]:
    source = PRINTERS[syntax](expr)
    back = parse(source, syntax=syntax)  # a ParseError fails the test with its message
    if back == expr or canonical(back) == canonical(expr):
        return True, source
    if expr.atoms(AppliedUndef):  # ∂ₖg of nested unknown functions: compare as concrete ones
        back, expr = concrete(canonical(back)), concrete(canonical(expr))
    return exprgen.same_value(back, expr, symbols=POINTS, domain=expr), source


def concrete(expr: sp.Expr) -> sp.Expr:
    """Each unknown function g(u, v, …) replaced by one smooth concrete function of its
    arguments, and the derivatives taken: two readings of the same ∂ₖg then agree in value."""
    def smooth(*args):
        return sum(sp.sin((k + 1) * a) + a**2 / (k + 2) for k, a in enumerate(args))
    functions = {f.func for f in expr.atoms(AppliedUndef)}
    return expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func in functions,
                        lambda e: smooth(*e.args)).doit()


def corpus_pairs(n: int, seed: int):
    """(expression, its derivative's tidied result), both over plain symbols."""
    for expr in exprgen.corpus(n, seed=seed):
        result = derive(expr, exprgen.X).result
        yield expr.xreplace(PLAIN), result.xreplace(PLAIN)


def check_corpus(n: int, seed: int) -> None:
    failures = []
    for expr, result in corpus_pairs(n, seed):
        for item in (expr, result):
            for syntax in PRINTERS:
                ok, source = reads_back(item, syntax)
                if not ok:
                    failures.append((syntax, source, item))
    assert not failures, "printed forms that read back differently:\n" + "\n".join(
        f"[{syntax}] {source}\n    meant {item}" for syntax, source, item in failures[:5])


def test_printed_results_read_back():
    check_corpus(40, seed=11)


@pytest.mark.slow
def test_printed_results_read_back_deep():
    check_corpus(400, seed=12)


x, y, z1, z2 = sp.symbols("x y z_1 z_2")


@pytest.mark.parametrize("expr", [
    sp.Heaviside(3 * x, 0) * 3,                                   # ReLU′ as printed
    sp.Piecewise((1, x > 0), (sp.Rational(1, 100), True)),        # LeakyReLU′
    sp.Piecewise((1, sp.And(x > 0, y < 1)), (0, True)),
    sp.Piecewise((x, sp.Or(x < -2, sp.And(x > 0, y < 1))), (0, True)),
    sp.Sum(sp.Symbol("x_i") ** 2, (sp.Symbol("i"), 1, sp.Symbol("n"))),
    sp.sign(x) * x, sp.atan2(x, y) ** 2, sp.polygamma(0, x), sp.gamma(x ** 2),
    sp.asinh(x) + sp.acosh(x + 2) + sp.atanh(x / 2) + sp.acoth(x + 2) + sp.asec(x + 2),
    sp.Symbol("yhat") - y, sp.Symbol("x_ij") * sp.Symbol("w_1"),
    (x ** 2 + 1) ** (1 / sp.sqrt(x)), sp.sqrt(1 / (x + y)), 3 ** (2 * x),
], ids=str)
def test_hand_picked_forms_read_back(expr):
    from derivekit.parsing.functions import leaky_relu, softmax
    for item in (expr, softmax(1, z1, z2) * expr, leaky_relu(x) + expr):
        for syntax in PRINTERS:
            ok, source = reads_back(item, syntax)
            assert ok, f"[{syntax}] {source} does not read back as {item}"


def test_unknown_function_partials_read_back():
    g = sp.Function("g")
    for expr in (sp.diff(g(x ** 2, y), x), sp.diff(g(x, y), x), sp.diff(g(x, x), x)):
        for syntax in PRINTERS:
            ok, source = reads_back(expr, syntax)
            assert ok, f"[{syntax}] {source} does not read back as {expr}"
    assert to_text(sp.diff(g(x, y), x)) == "∂₁g(x, y)"


def test_relu_derivative_as_printed_is_a_valid_claim():
    """``derivekit diff relu(3x)`` prints 3H(3x); pasting it back parses to the same value."""
    result = derive("relu(3*x)", "x").result
    printed = to_text(result)
    assert printed == "3H(3x)"
    assert parse(printed) == result
    assert parse("3*H(3*x)") == result
    assert parse(to_latex(result)) == result
