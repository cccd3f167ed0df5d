"""Random evaluation points inside an expression's domain.

Gradient checks and equivalence tests evaluate expressions at random points. A point is
useful only where every expression involved is defined, real and smooth: a log or square
root needs a positive argument, a pole must be avoided, and a finite difference across a
ReLU or ``abs`` kink measures the average of two slopes. :data:`DOMAIN_RULES` reads these
conditions off the expression tree (one row per function head); :func:`sample_points`
draws candidates and keeps those that satisfy all of them with a safety margin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derivekit.errors import DerivekitError

#: how far (in argument units) a point stays from a kink, pole or domain edge
DEFAULT_MARGIN = 0.05
#: candidates are drawn uniformly from this box; "positive" variables from (0.1, HIGH)
LOW, HIGH, POSITIVE_LOW = -2.0, 2.0, 0.1


@dataclass(frozen=True)
class Condition:
    """``kind`` is "positive" (expr > margin), "away_from_zero" (|expr| > margin) or
    "inside_unit" (|expr| < 1 − margin); ``why`` says which function needs it."""

    kind: str
    expr: sp.Expr
    why: str


def _arg(node):
    return node.args[0]


def _kinks(node) -> list[Condition]:
    name = type(node).__name__
    return [Condition("away_from_zero", node.args[0], f"{name} has a kink at 0")]


def _pairwise_kinks(node) -> list[Condition]:
    args = node.args
    return [Condition("away_from_zero", a - b, f"{type(node).__name__} switches where its arguments meet")
            for i, a in enumerate(args) for b in args[i + 1:]]


def _piecewise_kinks(node) -> list[Condition]:
    out = []
    for _, cond in node.args:
        if isinstance(cond, sp.core.relational.Relational):
            out.append(Condition("away_from_zero", cond.lhs - cond.rhs, "a piecewise branch switches here"))
    return out


def _power(node) -> list[Condition]:
    base, exponent = node.args
    if exponent.is_Integer:
        return [Condition("away_from_zero", base, "a negative power has a pole at 0")] if exponent < 0 else []
    if exponent.is_number:
        return [Condition("positive", base, "a fractional power needs a positive base")]
    return [Condition("positive", base, "a variable power needs a positive base")]


#: function head -> conditions its arguments must satisfy (matched with isinstance, in order)
DOMAIN_RULES: list[tuple[type | tuple[type, ...], Callable[[sp.Basic], list[Condition]]]] = [
    (sp.log, lambda n: [Condition("positive", _arg(n), "log needs a positive argument")]),
    (sp.Pow, _power),
    ((sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta), _kinks),
    ((sp.Max, sp.Min), _pairwise_kinks),
    (sp.Piecewise, _piecewise_kinks),
    ((sp.asin, sp.acos, sp.atanh), lambda n: [Condition("inside_unit", _arg(n), f"{type(n).__name__} needs |argument| < 1")]),
    (sp.acosh, lambda n: [Condition("positive", _arg(n) - 1, "acosh needs an argument above 1")]),
    ((sp.tan, sp.sec), lambda n: [Condition("away_from_zero", sp.cos(_arg(n)), f"{type(n).__name__} has poles where cos = 0")]),
    ((sp.cot, sp.csc), lambda n: [Condition("away_from_zero", sp.sin(_arg(n)), f"{type(n).__name__} has poles where sin = 0")]),
    ((sp.coth, sp.csch), lambda n: [Condition("away_from_zero", _arg(n), f"{type(n).__name__} has a pole at 0")]),
]


def _dl_kink_rules() -> list:
    from derivekit.parsing.functions import elu, leaky_relu, relu
    return [((relu, leaky_relu, elu), _kinks)]


def domain_conditions(exprs: Iterable[sp.Basic]) -> list[Condition]:
    """Every condition :data:`DOMAIN_RULES` finds in ``exprs`` (constants dropped)."""
    rules = DOMAIN_RULES + _dl_kink_rules()
    found: dict[tuple[str, sp.Basic], Condition] = {}
    for e in exprs:
        for node in sp.preorder_traversal(e):
            for heads, make in rules:
                if isinstance(node, heads):
                    for cond in make(node):
                        if cond.expr.free_symbols:
                            found.setdefault((cond.kind, cond.expr), cond)
                    break
    return list(found.values())


def _satisfied(cond: Condition, values: np.ndarray, margin: float) -> np.ndarray:
    real = np.isfinite(values) & (np.imag(values) == 0 if np.iscomplexobj(values) else True)
    v = np.real(values)
    if cond.kind == "positive":
        ok = v > margin
    elif cond.kind == "away_from_zero":
        ok = np.abs(v) > margin
    else:
        ok = np.abs(v) < 1 - margin
    return real & ok


def positive_symbols(conditions: Sequence[Condition]) -> set[sp.Symbol]:
    """Symbols that appear in a "positive" condition (worth drawing from positive values)."""
    out: set[sp.Symbol] = set()
    for c in conditions:
        if c.kind == "positive":
            out |= c.expr.free_symbols
    return out


def sample_points(exprs: Sequence[sp.Basic], symbols: Sequence[sp.Symbol], n: int = 10, *,
                  seed: int | None = 0, margin: float = DEFAULT_MARGIN,
                  low: float = LOW, high: float = HIGH, max_rounds: int = 12,
                  compiled: Sequence[Callable] | None = None) -> np.ndarray:
    """``n`` points (an array ``(n, len(symbols))``) where every expression in ``exprs`` is
    finite and real and every domain condition holds with ``margin`` to spare.

    Candidates are drawn uniformly from ``[low, high]``; half of each batch draws the
    symbols under a log, root or other positivity condition from ``(0.1, high)``.
    Raises :class:`DerivekitError` when no such points turn up.

    ``compiled``: functions of ``symbols`` (``f(*columns)``) that the caller has compiled
    already and that together evaluate every expression in ``exprs``; only the domain
    conditions are then compiled here, so a large expression is not compiled twice.
    """
    from derivekit import limits
    from derivekit.errors import LimitError
    if not 1 <= int(n) <= limits.MAX_POINTS:  # check --points and gradcheck --points
        raise LimitError(f"the number of points must be between 1 and {limits.MAX_POINTS}, "
                         f"not {n}", hint="e.g. --points 10")
    symbols = tuple(symbols)
    exprs = [e for e in exprs if e is not None]
    if not symbols:
        return np.empty((n, 0))
    conditions = domain_conditions(exprs)
    # one compiled function for every condition and every expression: one lambdify, one call
    rows = [c.expr for c in conditions] + ([] if compiled else list(exprs))
    evaluate = _evaluator(rows, symbols, compiled)
    positive = [i for i, s in enumerate(symbols) if s in positive_symbols(conditions)]
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    batch = max(8 * n, 64)
    for _ in range(max_rounds):
        cand = rng.uniform(low, high, size=(batch, len(symbols)))
        if positive:
            half = cand[: batch // 2]
            half[:, positive] = rng.uniform(POSITIVE_LOW, high, size=(len(half), len(positive)))
        with np.errstate(all="ignore"):
            try:
                out = evaluate(*(cand[:, i] for i in range(len(symbols))))
            except (NameError, TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
                raise DerivekitError(f"cannot evaluate the expressions numerically ({type(exc).__name__}: "
                                     f"{str(exc)[:120]})",
                                     hint="a special function without a NumPy implementation; "
                                          "check it symbolically, or rewrite it") from None
            ok = np.all(np.isfinite(out), axis=0)
            if np.iscomplexobj(out):
                ok &= np.all(out.imag == 0, axis=0)
            for i, cond in enumerate(conditions):
                ok &= _satisfied(cond, out[i], margin)
        kept.extend(cand[ok])
        if len(kept) >= n:
            return np.array(kept[:n])
    names = ", ".join(s.name for s in symbols)
    raise DerivekitError(f"found only {len(kept)} of {n} points in [{low:g}, {high:g}] for ({names}) "
                         "where the expressions are defined and smooth",
                         hint="give the points yourself with at=..., e.g. at={'x': 0.5}")


def _evaluator(rows: list, symbols: tuple, compiled: Sequence[Callable] | None) -> Callable:
    """``evaluate(*columns) -> (rows, batch)``: the conditions' and expressions' values, the
    given ``compiled`` functions' rows after the conditions' (their outputs flattened to
    rows: a scalar function gives one row, a vector or matrix one row per entry)."""
    from derivekit.numeric.compiled import compile
    own = compile(rows, symbols, backend="numpy", cse=False).evaluate_numpy if rows else None
    if not compiled:
        return own

    def evaluate(*columns):
        batch = len(columns[0])
        parts = [] if own is None else [own(*columns)]
        for fn in compiled:
            parts.append(np.asarray(fn(*columns)).reshape(-1, batch))
        return np.concatenate(parts, axis=0)

    return evaluate
