"""Written-out forms rewritten to the stable built-ins before code generation.

The built-in functions evaluate stably (:mod:`derivekit.parsing.stable`), but a user who
writes the formula out gets the naive arithmetic: ``log(1 + exp(z))`` is inf at z = 1000,
``log(sigmoid(z))`` and ``exp(x)/(exp(x) + exp(y))`` give NaN for large inputs. Each rule
below recognises one such form and returns the same function written with a built-in, so
that numbers stay finite wherever the true value is. Only real-valued backends use them
(the complex step keeps the formula as written).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from derivekit.parsing.functions import sigmoid, softmax, softplus


def _exp_argument(term: sp.Expr) -> sp.Expr | None:
    """``z`` for ``exp(z)``, ``0`` for the constant 1 (= e⁰), else None."""
    if isinstance(term, sp.exp):
        return term.args[0]
    if term == 1:
        return sp.Integer(0)
    return None


def log_one_plus_exp(expr: sp.Expr) -> sp.Expr | None:
    """log(1 + eᶻ) = softplus(z)."""
    if isinstance(expr, sp.log) and expr.args[0].is_Add and len(expr.args[0].args) == 2:
        first, second = expr.args[0].args
        for one, other in ((first, second), (second, first)):
            if one == 1 and isinstance(other, sp.exp):
                return softplus(other.args[0])
    return None


def log_sigmoid(expr: sp.Expr) -> sp.Expr | None:
    """log σ(z) = −softplus(−z), and log(1 − σ(z)) = log σ(−z) = −softplus(z)."""
    if not isinstance(expr, sp.log):
        return None
    inner = expr.args[0]
    if isinstance(inner, sigmoid):
        return -softplus(-inner.args[0])
    if inner.is_Add and len(inner.args) == 2 and 1 in inner.args:
        other = inner.args[0] if inner.args[1] == 1 else inner.args[1]
        if other.is_Mul and other.args[0] == -1 and len(other.args) == 2 \
                and isinstance(other.args[1], sigmoid):
            return -softplus(other.args[1].args[0])
    return None


def exp_over_sum_of_exps(expr: sp.Expr) -> sp.Expr | None:
    """e^{z_i} / Σ_j e^{z_j} = softmax(i, z₁, …, zₙ) (a 1 in the sum is e⁰), and with two
    terms e^a / (e^a + 1) = σ(a); other factors of the product are kept."""
    if not expr.is_Mul:
        return None
    factors = list(expr.args)
    for k, factor in enumerate(factors):
        if not (factor.is_Pow and factor.exp == -1 and factor.base.is_Add):
            continue
        inputs = [_exp_argument(t) for t in factor.base.args]
        if None in inputs or len(inputs) < 2:
            continue
        for m, numerator in enumerate(factors):
            if isinstance(numerator, sp.exp) and numerator.args[0] in inputs:
                index = inputs.index(numerator.args[0])
                if len(inputs) == 2 and inputs[1 - index] == 0:
                    stable = sigmoid(inputs[index])
                else:
                    stable = softmax(index + 1, *inputs)
                rest = [f for j, f in enumerate(factors) if j not in (k, m)]
                return sp.Mul(stable, *rest)
    return None


#: the rules, tried in order on every sub-expression from the leaves up
RULES: tuple[Callable[[sp.Expr], sp.Expr | None], ...] = (
    log_one_plus_exp, log_sigmoid, exp_over_sum_of_exps)


def stable_forms(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every written-out form of :data:`RULES` replaced by its built-in."""
    if expr.is_Atom or not isinstance(expr, sp.Expr):
        return expr
    args = tuple(stable_forms(a) for a in expr.args)
    rebuilt = expr.func(*args) if args != expr.args else expr
    for rule in RULES:
        better = rule(rebuilt)
        if better is not None:
            return better
    return rebuilt
