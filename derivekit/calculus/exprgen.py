"""Seeded random expressions over every differentiation rule, for correctness corpora.

``corpus(n, seed)`` returns ``n`` expressions in the variable ``x`` (plus the constants
``a``, ``y``), built from a weighted grammar whose productions cover every rule in
``derivekit.calculus.rules.RULES``: sums, constant multiples, products, quotients, powers (integer,
negative, fractional, √), a^x, x^x, every elementary and deep-learning function, Abs/sign,
Heaviside, Max/Min, Piecewise, logs to a base, unknown functions f(·), g(·, ·), and
functions with no entry of their own (Γ, atan2).

Symbols are real, so |x|′ = sign(x) as in the step engine. :func:`same_value` compares two
expressions at random points with 30-digit arithmetic (unknown functions are replaced by a
concrete one first, and jumps' Dirac deltas count as 0 away from the jump). Other suites
(the numeric engine's mutation corpus) reuse both.
"""

from __future__ import annotations

import random
from typing import Callable, Sequence

import sympy as sp

from derivekit.parsing import functions as dl

X, Y, A = sp.symbols("x y a", real=True)
F = sp.Function("f")
G = sp.Function("g")

_UNARY: list[Callable[[sp.Expr], sp.Expr]] = [
    sp.exp, sp.sin, sp.cos, sp.tan, sp.sinh, sp.cosh, sp.tanh, sp.atan, sp.asinh, sp.erf,
    sp.cot, sp.sec, sp.csc, sp.coth, sp.sech, sp.csch, sp.acot,
    dl.sigmoid, dl.softplus, dl.silu, dl.gelu, dl.relu, dl.leaky_relu, dl.elu, sp.Abs,
    lambda u: sp.log(u**2 + 1), lambda u: sp.log(dl.sigmoid(u)),
    lambda u: sp.log(u**2 + 2, 2), lambda u: sp.sqrt(u**2 + 1),
    lambda u: sp.asin(dl.sigmoid(u) / 2), lambda u: sp.acos(dl.sigmoid(u) / 2),
    lambda u: sp.acosh(u**2 + 2), lambda u: sp.atanh(dl.sigmoid(u) / 2),
    lambda u: sp.acoth(u**2 + 2), lambda u: sp.asec(u**2 + 2), lambda u: sp.acsc(u**2 + 2),
    lambda u: sp.sign(u) * u, lambda u: sp.Heaviside(u) * u**2, F,
    lambda u: sp.gamma(u**2 + 1),  # a function with no entry of its own: SymPy's fdiff
]

_BINARY: list[Callable[[sp.Expr, sp.Expr], sp.Expr]] = [
    lambda p, q: p + q, lambda p, q: p - q, lambda p, q: p * q, lambda p, q: p / (q**2 + 1),
    lambda p, q: sp.Max(p, q), lambda p, q: sp.Min(p, q), dl.logsumexp,
    lambda p, q: dl.softmax(1, p, q), lambda p, q: dl.softmax(2, p, q), G,
    lambda p, q: sp.Piecewise((p, X > sp.Rational(1, 2)), (q, True)),
    lambda p, q: sp.atan2(p, q**2 + 1),
]


class ExpressionGenerator:
    """A seeded generator of random expressions; ``depth`` bounds the nesting."""

    def __init__(self, seed: int = 0, max_depth: int = 3):
        self.rng = random.Random(seed)
        self.max_depth = max_depth

    def leaf(self) -> sp.Expr:
        choice = self.rng.random()
        if choice < 0.55:
            return X
        if choice < 0.7:
            return self.rng.choice([Y, A])
        if choice < 0.85:
            return sp.Integer(self.rng.choice([-3, -2, -1, 1, 2, 3, 5]))
        return sp.Rational(self.rng.choice([1, 2, 3, -1]), self.rng.choice([2, 3, 4]))

    def linear(self) -> sp.Expr:
        """A small inner function such as 2x + 1 or a·x − y: the usual chain-rule inner."""
        return self.rng.choice([2, 3, -1, A]) * X + self.rng.choice([0, 1, -2, Y])

    def varying(self, depth: int) -> sp.Expr:
        """A sub-expression that depends on x. Powers and exponentials take these: a number
        there could build a tower such as 3^(3^243), which SymPy would evaluate."""
        for _ in range(5):
            expr = self.expression(depth)
            if expr.has(X):
                return expr
        return self.linear()

    def expression(self, depth: int | None = None) -> sp.Expr:
        depth = self.max_depth if depth is None else depth
        if depth <= 0:
            return self.leaf() if self.rng.random() < 0.6 else self.linear()
        kind = self.rng.random()
        sub = lambda: self.expression(depth - 1)  # noqa: E731 - a local shorthand
        if kind < 0.32:
            return self.rng.choice(_UNARY)(sub())
        if kind < 0.62:
            return self.rng.choice(_BINARY)(sub(), sub())
        if kind < 0.74:
            return self.varying(depth - 1) ** self.rng.choice(
                [2, 3, -1, -2, sp.Rational(1, 2), sp.Rational(-1, 2), sp.Rational(3, 2)])
        if kind < 0.80:
            return self.rng.choice([2, 3, sp.Rational(1, 2), sp.E]) ** self.varying(depth - 1)
        if kind < 0.84:
            return (X**2 + 1) ** self.varying(depth - 1)  # f(x)^g(x): logarithmic differentiation
        if kind < 0.92:
            return self.rng.choice([2, -3, A, Y / 2]) * sub()
        return sub() * sub() * sub()

    def corpus(self, n: int) -> list[sp.Expr]:
        """``n`` distinct expressions that depend on x."""
        seen: dict[sp.Expr, None] = {}
        while len(seen) < n:
            try:
                expr = self.expression()
            except (ValueError, TypeError):  # e.g. Max of a complex constant: draw again
                continue
            if expr.has(X) and not expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                seen.setdefault(expr)
        return list(seen)


def corpus(n: int, seed: int = 0, max_depth: int = 3) -> list[sp.Expr]:
    """``n`` distinct seeded random expressions in x (see the module docstring)."""
    return ExpressionGenerator(seed, max_depth).corpus(n)


_T, _S = sp.Dummy("t"), sp.Dummy("s")
#: concrete stand-ins for the unknown functions when comparing values
_CONCRETE = {F: sp.Lambda(_T, sp.sin(_T) + _T**3 / 3),
             G: sp.Lambda((_T, _S), sp.exp(_T / 2) * _S + _T * _S**2)}


def _concrete(expr: sp.Expr) -> sp.Expr:
    """Replace unknown functions by concrete ones, carrying out their derivatives and
    substitutions (bottom-up, so ``Subs(Derivative(f(ξ), ξ), ξ, g)`` becomes a value)."""
    if not expr.has(sp.core.function.AppliedUndef):
        return expr
    if isinstance(expr, sp.core.function.AppliedUndef) and expr.func in _CONCRETE:
        return _CONCRETE[expr.func](*[_concrete(a) for a in expr.args])
    if isinstance(expr, sp.Derivative):
        return sp.diff(_concrete(expr.expr), *expr.variable_count)
    if isinstance(expr, sp.Subs):
        points = [_concrete(p) for p in expr.point]
        return _concrete(expr.expr).xreplace(dict(zip(expr.variables, points)))
    if not expr.args:
        return expr
    return expr.func(*[_concrete(a) for a in expr.args])


def _at_point(expr: sp.Expr, at: dict) -> complex:
    return complex(sp.N(expr.xreplace(at), 30))


def _jumps_flat(expr: sp.Expr) -> sp.Expr:
    """Dirac deltas, and sympy's unevaluated d/dx sign(·), as 0: jumps compared away from
    the jump, as derivekit differentiates them."""
    expr = expr.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    return expr.replace(
        lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, (sp.sign, sp.Heaviside)),
        lambda e: sp.S.Zero)


#: functions whose derivative rule holds for real arguments only (|u|′ = sign(u), …)
_REAL_ONLY = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min, dl.relu, dl.leaky_relu, dl.elu)


def _real_only_arguments(expr: sp.Expr | None) -> list[sp.Expr]:
    if expr is None:
        return []
    return [arg for node in sp.preorder_traversal(expr) if isinstance(node, _REAL_ONLY)
            for arg in node.args]


def _all_real(arguments: list[sp.Expr], at: dict) -> bool:
    for argument in arguments:
        value = _at_point(_concrete(argument), at)
        if abs(value.imag) > 1e-20 or not _finite(value):
            return False
    return True


def same_value(ours: sp.Expr, theirs: sp.Expr, symbols: Sequence[sp.Symbol] = (X, Y, A),
               points: int = 3, seed: int = 0, tolerance: float = 1e-12,
               domain: sp.Expr | None = None) -> bool:
    """True when ``ours`` and ``theirs`` agree at ``points`` random points (30 digits).

    Points where either side is not a finite number (a pole, a log of 0, a Max of complex
    values) are skipped and replaced, up to a budget; so are points where a kinked function
    of ``domain`` (the differentiated expression: Abs, sign, Max, ReLU, …) gets a non-real
    argument, since those rules are for real arguments. Unknown functions become concrete;
    Dirac deltas count as 0 (both engines' jumps are compared away from the jump).
    """
    if ours == theirs:
        return True
    ours, theirs = _jumps_flat(_concrete(ours)), _jumps_flat(_concrete(theirs))
    if ours == theirs:
        return True
    real_only = _real_only_arguments(domain)
    rng = random.Random(seed)
    checked, tries = 0, 0
    while checked < points and tries < 8 * points:
        tries += 1
        at = {s: sp.Float(rng.uniform(-1.6, 1.6), 30) for s in symbols}
        try:
            if not _all_real(real_only, at):
                continue
            mine, reference = _at_point(ours, at), _at_point(theirs, at)
        except Exception:  # noqa: BLE001 - SymPy fails in many ways off its domain
            continue  # not a number here (Max of a complex value, a Piecewise gap, …)
        if not (_finite(mine) and _finite(reference)):
            continue
        checked += 1
        if abs(mine - reference) > tolerance * (1 + abs(reference)):
            return False
    return checked > 0


def checkable(expr: sp.Expr, symbols: Sequence[sp.Symbol] = (X, Y, A), seed: int = 0,
              tries: int = 24) -> bool:
    """True when some random point puts ``expr`` in its real domain (finite, and every
    kinked function's argument real), so :func:`same_value` can compare there. An
    expression such as max(ln(σ(x))^(3/2), 1) has no such point: a corpus skips it."""
    real_only = _real_only_arguments(expr)
    concrete = _concrete(expr)
    rng = random.Random(seed)
    for _ in range(tries):
        at = {s: sp.Float(rng.uniform(-1.6, 1.6), 30) for s in symbols}
        try:
            if _all_real(real_only, at) and _finite(_at_point(concrete, at)):
                return True
        except Exception:  # noqa: BLE001 - off the domain
            continue
    return False


def _finite(value: complex) -> bool:
    return value == value and abs(value) != float("inf")
