"""Abstract functions (``f(x)``, ``g'(x)``, ``σ'(z)``) in checks.

A claim such as ``f(x)·g'(x) + f'(x)·g(x)`` is about *every* f and g, so it has no numbers
of its own. The parser writes primes as SymPy ``Derivative`` (or ``Subs`` when the argument
is not a variable), which is what ``sympy.diff`` of an undefined function gives too, so the
two can be compared symbolically.

* :func:`realise_derivatives` turns the derivative of a *known* function (``σ'(z)``) into its
  formula, so that it can be evaluated like any other expression.
* :func:`abstract_names` lists the undefined functions left.
* :func:`instantiate` replaces each undefined function by a random smooth concrete one
  (a sine, a square and a linear term per argument, random coefficients). A correct claim
  holds for every f, so it holds for the instance; a disagreement for one instance proves
  the claim wrong. This is how a wrong claim gets a counterexample.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef


def _is_derivative(node: sp.Basic) -> bool:
    return isinstance(node, (sp.Derivative, sp.Subs))


def realise_derivatives(expr: sp.Basic) -> sp.Basic:
    """``expr`` with each derivative of a known function worked out (σ'(z) → σ(z)(1 − σ(z)));
    derivatives of undefined functions stay as they are."""
    if not expr.has(sp.Derivative, sp.Subs):
        return expr

    def work_out(node):
        # σ'(f(x)) is Subs(Derivative(σ(u), u), u, f(x)): known once the derivative is
        inner = node.expr.expr if isinstance(node, sp.Subs) and isinstance(node.expr, sp.Derivative) else node.expr
        return node.doit() if not inner.has(AppliedUndef) else node

    return expr.replace(_is_derivative, work_out)


def abstract_names(exprs: Iterable[sp.Basic]) -> list[str]:
    """Names of the undefined functions in ``exprs``, sorted."""
    names: set[str] = set()
    for e in exprs:
        names |= {a.func.__name__ for a in e.atoms(AppliedUndef)}
    return sorted(names)


def derivatives_as_subs(expr: sp.Basic) -> sp.Basic:
    """Derivatives taken with respect to an expression (``Derivative(f(g(x)), g(x))``, as
    ``sympy.diff`` writes the chain rule) rewritten as ``Subs(Derivative(f(u), u), u, g(x))``,
    so that replacing g by a formula leaves a derivative SymPy can work out."""

    def fix(d):
        if all(v.is_Symbol for v, _ in d.variable_count):
            return d
        body, pairs, dummies, values = d.expr, [], [], []
        for v, k in d.variable_count:
            if v.is_Symbol:
                pairs.append((v, k))
                continue
            u = sp.Dummy("u")
            body = body.xreplace({v: u})
            pairs.append((u, k))
            dummies.append(u)
            values.append(v)
        return sp.Subs(sp.Derivative(body, *pairs), tuple(dummies), tuple(values))

    return expr.replace(lambda n: isinstance(n, sp.Derivative), fix)


@dataclass
class Instance:
    """One concrete choice of every undefined function: per (name, argument index) the
    coefficients (a, b, c, d, e) of a·sin(b·u + c) + d·u² + e·u."""

    seed: int
    coefficients: dict = field(default_factory=dict)

    def _coeffs(self, name: str, i: int) -> tuple[sp.Rational, ...]:
        key = (name, i)
        if key not in self.coefficients:
            rng = np.random.default_rng([self.seed, sum(map(ord, name)), i])
            def r(lo, hi):
                v = Fraction(float(rng.uniform(lo, hi))).limit_denominator(8)
                return sp.Rational(v.numerator, v.denominator)
            self.coefficients[key] = (r(0.5, 2), r(0.5, 2), r(-1, 1), r(-0.5, 0.5), r(-1, 1))
        return self.coefficients[key]

    def body(self, name: str, args: tuple) -> sp.Expr:
        total = sp.Integer(0)
        for i, u in enumerate(args):
            a, b, c, d, e = self._coeffs(name, i)
            total += a * sp.sin(b * u + c) + d * u ** 2 + e * u
        if len(args) > 1:
            total += args[0] * args[1] / 2
        return total

    def describe(self, names: Iterable[str]) -> str:
        """The chosen functions, e.g. "f(u) = sin(u + 1/2) + u²/4"."""
        from derivekit.numeric.verify import show
        u = sp.Symbol("u")
        parts = []
        for name in names:
            arity = max([i for (n, i) in self.coefficients if n == name], default=0) + 1
            args = (u,) if arity == 1 else tuple(sp.Symbol(f"u{k + 1}") for k in range(arity))
            parts.append(f"{name}({', '.join(a.name for a in args)}) = {show(self.body(name, args))}")
        return "; ".join(parts)


def instantiate(expr: sp.Basic, instance: Instance) -> sp.Basic:
    """``expr`` with every undefined function replaced by ``instance``'s concrete one and
    every derivative worked out."""
    replaced = derivatives_as_subs(expr).replace(
        lambda n: isinstance(n, AppliedUndef), lambda n: instance.body(n.func.__name__, n.args))
    return replaced.doit() if replaced.has(sp.Derivative, sp.Subs) else replaced
