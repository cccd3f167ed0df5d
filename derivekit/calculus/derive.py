"""The step engine's public face: :func:`derive`, :func:`gradient`, :func:`jacobian`,
:func:`hessian` and :func:`implicit`.

Each call builds a tree of :class:`~derivekit.calculus.steps.Step` objects with the rules of
:mod:`derivekit.calculus.rules`, then tidies the raw result into textbook form with targeted,
recorded rewrites (never a blanket ``sympy.simplify``, which turns σ′ into cosh forms).

* Substitutions are named u₁, u₂, … once per derivation (the same inner expression keeps
  its name), skipping names the expression already uses.
* Sub-derivations are memoised on (expression, variable): the first occurrence gets a
  ``label`` and later ones are ``ref`` steps. Gradients, Jacobians and Hessians share one
  memo across their entries, and list the cross-entry ones in ``shared``.
* Large inputs go to the symengine fast path (:mod:`derivekit.calculus.fastdiff`) without steps:
  ``steps=None`` (the default) decides by size, ``steps=False`` forces it.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import sympy as sp

from derivekit.calculus.engine import Engine, node_count
from derivekit.calculus.rules import refuse_vector_norms
from derivekit.calculus.steps import Derivation, MatrixOfDerivations, Step
from derivekit.calculus.tidy import tidy
from derivekit.errors import DerivekitError
from derivekit.limits import too_deep_is_a_limit

__all__ = ["derive", "gradient", "jacobian", "hessian", "implicit"]

#: above this many (nodes × entries), ``steps=None`` takes the fast path without steps
AUTO_STEP_BUDGET = 40_000
#: the highest derivative order accepted
MAX_ORDER = 12


# --- inputs ------------------------------------------------------------------------------

def _as_expr(expr) -> sp.Expr:
    if isinstance(expr, str):
        from derivekit.parsing.parse import (
            parse,  # lazy: keeps `import derivekit.calculus.derive` light
        )
        expr = parse(expr)
    if isinstance(expr, (int, float)):
        expr = sp.Integer(expr) if isinstance(expr, int) else sp.Float(expr)
    if isinstance(expr, sp.Equality):
        raise DerivekitError(f"{expr} is an equation, not an expression",
                             hint="differentiate one side, or use implicit(F, x, y) for F(x, y) = 0")
    if not isinstance(expr, sp.Expr):
        raise DerivekitError(f"cannot differentiate {type(expr).__name__} {expr!s:.60}",
                             hint="pass a scalar expression, as a string or a SymPy Expr")
    refuse_vector_norms(expr)  # ‖x‖ is vector calculus: say how to ask the matrix engine
    return expr


def _symbols_by_name(exprs: Iterable[sp.Basic]) -> dict[str, sp.Symbol]:
    """The expressions' own symbols by name, so that a name keeps its symbol's assumptions.

    Built once per call: looking each name up by scanning ``free_symbols`` made a gradient
    over N names cost O(N²)."""
    return {symbol.name: symbol for expr in exprs for symbol in expr.free_symbols}


def _as_symbol(wrt, exprs: Sequence[sp.Basic], by_name: dict[str, sp.Symbol] | None = None
               ) -> sp.Symbol:
    if isinstance(wrt, str):
        name = wrt.strip()
        if not name:
            raise DerivekitError("the variable name is empty", hint="give a name such as 'x'")
        if not name.isidentifier():
            from derivekit.parsing.parse import parse
            parsed = parse(name)
            if not isinstance(parsed, sp.Symbol):
                raise DerivekitError(f"'{wrt}' is not a variable name",
                                     hint="differentiate with respect to a symbol, e.g. 'w' or 'x_1'")
            name = parsed.name
        if by_name is None:
            by_name = _symbols_by_name(exprs)
        return by_name.get(name) or sp.Symbol(name)
    if isinstance(wrt, sp.Symbol):
        return wrt
    raise DerivekitError(f"cannot differentiate with respect to {wrt!r}",
                         hint="give a symbol or its name, e.g. wrt='w'")


def _as_symbols(wrt, exprs: Sequence[sp.Basic]) -> tuple[sp.Symbol, ...]:
    if isinstance(wrt, str):
        wrt = [part for part in wrt.replace(",", " ").split()]
    elif isinstance(wrt, sp.Symbol):
        wrt = [wrt]
    by_name = _symbols_by_name(exprs) if any(isinstance(v, str) for v in wrt) else {}
    symbols = tuple(_as_symbol(v, exprs, by_name) for v in wrt)
    if not symbols:
        raise DerivekitError("no variables given", hint="pass wrt=['x', 'y'] or wrt='x, y'")
    if len(set(symbols)) != len(symbols):
        raise DerivekitError("a variable is listed twice in wrt", hint="list each variable once")
    return symbols


def _check_order(order) -> int:
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= MAX_ORDER:
        raise DerivekitError(f"order must be a whole number from 1 to {MAX_ORDER}, not {order!r}",
                             hint="e.g. order=2 for the second derivative")
    return order



# --- the public operators ----------------------------------------------------------------

def _derivation(engine: Engine, expr: sp.Expr, var: sp.Symbol, order: int,
                tidy_result: bool = True) -> Derivation:
    """Differentiate ``order`` times with one engine; each order starts from the tidied
    result of the one before."""
    roots, rewrites = [], []
    current, raw = expr, expr
    for k in range(1, order + 1):
        step = engine.root(current, var)
        roots.append(step)
        raw = step.result
        current, moves = tidy(raw, order=k, wrt=var) if tidy_result else (raw, [])
        rewrites.extend(moves)
    return Derivation(expr=expr, wrt=var, order=order, steps=tuple(roots), raw_result=raw,
                      result=current, rewrites=tuple(rewrites))


def _without_steps(expr: sp.Expr, var: sp.Symbol, result: sp.Expr, order: int = 1,
                   tidy_result: bool = False) -> Derivation:
    """A derivation with no steps (the fast path); tidied only when asked (single results:
    matrices stay raw so that a large Hessian keeps its speed)."""
    tidied, rewrites = tidy(result, order=order, wrt=var) if tidy_result else (result, [])
    return Derivation(expr=expr, wrt=var, order=order, steps=(), raw_result=result, result=tidied,
                      rewrites=tuple(rewrites))


def _fast_derivative(expr: sp.Expr, var: sp.Symbol, order: int) -> sp.Expr:
    from derivekit.calculus import fastdiff
    current = expr
    for _ in range(order):
        current = fastdiff.gradient_vector(current, [var])[0]
    return current


def _wants_steps(steps: bool | None, exprs: Sequence[sp.Expr], entries: int) -> bool:
    """``steps`` if given; otherwise steps unless nodes × entries exceeds the budget. Sums
    over an index always take the step engine: the symengine fast path has no ``Sum``."""
    if any(e.has(sp.Sum) for e in exprs):
        return True
    if steps is not None:
        return bool(steps)
    cap = AUTO_STEP_BUDGET // max(entries, 1) + 1
    total = sum(node_count(e, cap) for e in exprs)
    return total * entries <= AUTO_STEP_BUDGET


@too_deep_is_a_limit
def derive(expr, wrt, order: int = 1, *, steps: bool | None = True) -> Derivation:
    """d^order expr / d wrt^order with its steps, tidied into textbook form.

    ``expr`` is a SymPy expression or text (plain or LaTeX); ``wrt`` a symbol or its name.
    Other symbols are constants (a partial derivative); the root step lists them under
    ``detail["constants"]``. ``steps=False`` skips the steps and uses the fast path;
    ``steps=None`` decides by size.

    >>> derive("sigmoid(w*x + b)", "w").result
    x*(1 - sigmoid(b + w*x))*sigmoid(b + w*x)
    """
    expr = _as_expr(expr)
    var = _as_symbol(wrt, [expr])
    order = _check_order(order)
    if not _wants_steps(steps, [expr], order):
        return _without_steps(expr, var, _fast_derivative(expr, var, order), order, tidy_result=True)
    return _derivation(Engine([expr]), expr, var, order)


def _shared_steps(engine: Engine, entries: Sequence[Derivation]) -> dict[str, Step]:
    """Labelled sub-derivations that appear (defined or referenced) in two or more entries."""
    users: dict[str, set[int]] = {}
    for index, entry in enumerate(entries):
        for root in entry.steps:
            for step in root.walk():
                for label in (step.label, step.ref):
                    if label is not None:
                        users.setdefault(label, set()).add(index)
    return {label: engine.labelled[label] for label, who in sorted(users.items())
            if len(who) > 1}


@too_deep_is_a_limit
def gradient(expr, wrt, *, steps: bool | None = None) -> MatrixOfDerivations:
    """∇expr with respect to ``wrt`` (a list of symbols or names, or "w, b"): a column.

    Entries share one memo, so a sub-derivation common to several partial derivatives is
    derived once (see ``shared``). Large inputs use the symengine fast path without steps
    unless ``steps=True``.
    """
    expr = _as_expr(expr)
    variables = _as_symbols(wrt, [expr])
    if not _wants_steps(steps, [expr], len(variables)):
        from derivekit.calculus import fastdiff
        column = fastdiff.gradient_vector(expr, variables)
        entries = tuple((_without_steps(expr, v, column[i]),) for i, v in enumerate(variables))
        return MatrixOfDerivations("gradient", (expr,), variables, entries, column)
    engine = Engine([expr])
    derivations = [_derivation(engine, expr, v, 1) for v in variables]
    column = sp.Matrix([d.result for d in derivations])
    return MatrixOfDerivations("gradient", (expr,), variables, tuple((d,) for d in derivations),
                               column, shared=_shared_steps(engine, derivations))


@too_deep_is_a_limit
def jacobian(exprs, wrt, *, steps: bool | None = None) -> MatrixOfDerivations:
    """The Jacobian ∂fᵢ/∂xⱼ of a list of expressions (rows) with respect to ``wrt`` (columns)."""
    if isinstance(exprs, (str, sp.Basic)):
        exprs = [exprs]
    functions = tuple(_as_expr(e) for e in exprs)
    if not functions:
        raise DerivekitError("no expressions given", hint="pass a list such as ['x*y', 'x + y']")
    variables = _as_symbols(wrt, functions)
    if not _wants_steps(steps, functions, len(variables)):
        from derivekit.calculus import fastdiff
        matrix = fastdiff.jacobian_matrix(functions, variables)
        entries = tuple(tuple(_without_steps(f, v, matrix[i, j]) for j, v in enumerate(variables))
                        for i, f in enumerate(functions))
        return MatrixOfDerivations("jacobian", functions, variables, entries, matrix)
    engine = Engine(functions)
    rows = [[_derivation(engine, f, v, 1) for v in variables] for f in functions]
    matrix = sp.Matrix([[d.result for d in row] for row in rows])
    flat = [d for row in rows for d in row]
    return MatrixOfDerivations("jacobian", functions, variables, tuple(map(tuple, rows)), matrix,
                               shared=_shared_steps(engine, flat))


@too_deep_is_a_limit
def hessian(expr, wrt, *, steps: bool | None = None) -> MatrixOfDerivations:
    """The Hessian ∂²expr/∂xᵢ∂xⱼ with respect to ``wrt``.

    Entry (i, j) is the derivation of the gradient entry ∂expr/∂xᵢ with respect to xⱼ; the
    gradient's own derivations are in ``gradient``. ``steps=None`` takes the symengine fast
    path when nodes × n² is large (a 49-parameter network's Hessian in well under 0.1 s).
    """
    expr = _as_expr(expr)
    variables = _as_symbols(wrt, [expr])
    n = len(variables)
    if not _wants_steps(steps, [expr], n * n):
        from derivekit.calculus import fastdiff
        first = fastdiff.gradient_vector(expr, variables)
        matrix = fastdiff.hessian_matrix(expr, variables)
        entries = tuple(tuple(_without_steps(first[i], v, matrix[i, j]) for j, v in enumerate(variables))
                        for i in range(n))
        grad = tuple(_without_steps(expr, v, first[i]) for i, v in enumerate(variables))
        return MatrixOfDerivations("hessian", (expr,), variables, entries, matrix, gradient=grad)
    engine = Engine([expr])
    first = [_derivation(engine, expr, v, 1) for v in variables]
    rows = [[_derivation(engine, first[i].result, v, 1) for v in variables] for i in range(n)]
    matrix = sp.Matrix([[d.result for d in row] for row in rows])
    flat = [d for row in rows for d in row]
    return MatrixOfDerivations("hessian", (expr,), variables, tuple(map(tuple, rows)), matrix,
                               shared=_shared_steps(engine, first + flat), gradient=tuple(first))


def _as_equation(equation) -> sp.Expr:
    """F for F = 0 from an expression, an ``Eq``, or text with one '='."""
    if isinstance(equation, str) and "=" in equation.replace("==", "").replace("<=", "").replace(">=", ""):
        left, _, right = equation.partition("=")
        if "=" in right:
            raise DerivekitError("the equation has more than one '='", hint="write F(x, y) = G(x, y)")
        return _as_expr(left) - _as_expr(right)
    if isinstance(equation, sp.Equality):
        return equation.lhs - equation.rhs
    return _as_expr(equation)


def implicit(equation, x, y) -> Derivation:
    """dy/dx for the curve F(x, y) = 0: dy/dx = −F_x / F_y (implicit differentiation).

    ``equation`` is F (meaning F = 0), an ``Eq``, or text such as ``"x^2 + y^2 = 1"``.
    The root step (rule ``implicit``) has the partial derivatives F_x and F_y as sub-steps.
    """
    F = _as_expr(_as_equation(equation))
    var, dependent = _as_symbol(x, [F]), _as_symbol(y, [F])
    if var == dependent:
        raise DerivekitError("x and y must be different variables", hint="e.g. implicit(F, 'x', 'y')")
    engine = Engine([F])
    by_x, by_y = engine.root(F, var), engine.root(F, dependent)
    F_x, _ = tidy(by_x.result)
    F_y, _ = tidy(by_y.result)
    if F_y == 0:
        raise DerivekitError(f"∂F/∂{dependent} is 0, so {dependent} is not defined implicitly by F = 0",
                             hint="check the equation involves y")
    raw = -F_x / F_y
    result, rewrites = tidy(raw)
    root = Step(rule="implicit", expr=F, var=var, result=raw, substeps=(by_x, by_y),
                detail={"dependent": dependent, "F_x": F_x, "F_y": F_y})
    return Derivation(expr=F, wrt=var, order=1, steps=(root,), raw_result=raw, result=result,
                      rewrites=tuple(rewrites))
