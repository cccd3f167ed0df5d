"""The fast path: gradients, Jacobians and Hessians without steps, computed by symengine.

SymPy's ``diff`` is slow on large inputs (a 49-parameter network's Hessian takes seconds).
symengine differentiates the same expressions in C++, 30–3000× faster. Results come back
as SymPy objects built from the caller's own symbols.

How it works (a small "lowering" into symengine):

* Function applications symengine cannot differentiate the way derivekit states them (the
  deep-learning library, ``Abs``, ``sign``, ``Max``/``Min``, …) are replaced by placeholder
  symbols ``p = F(a₁, …)``. Their derivative comes from the function's own ``fdiff``
  (σ′ = σ(1 − σ)), so fast and step results agree and keep the textbook form.
* The total derivative of a lowered expression ``e`` is
  ``de/dx = ∂e/∂x + Σ_p ∂e/∂p · dp/dx`` with ``dp/dx = Σ_i F_i(a) · da_i/dx``, memoised
  per placeholder, so each σ inside a network is differentiated once per variable.
* A top-level sum is split into its terms, indexed by the variables each term contains, so
  the gradient of ``Σ_i f(x_i, x_{i+1})`` (Rosenbrock) costs time linear in N, not N².
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import symengine as se
import sympy as sp
from sympy.core.basic import _args_sortkey

from derivekit.limits import check_deadline

#: SymPy function classes symengine differentiates with the same result as SymPy.
_NATIVE_FUNCTIONS = (
    sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc,
    sp.asin, sp.acos, sp.atan, sp.acot, sp.asec, sp.acsc,
    sp.sinh, sp.cosh, sp.tanh, sp.coth, sp.sech, sp.csch,
    sp.asinh, sp.acosh, sp.atanh, sp.acoth, sp.erf, sp.Piecewise,
)

_PLACEHOLDER_PREFIX = "__dk_fn"


def _is_opaque(node: sp.Basic) -> bool:
    """True for a function application the fast path replaces by a placeholder symbol."""
    if not isinstance(node, sp.Function) and not isinstance(node, (sp.Max, sp.Min)):
        return False
    if isinstance(node, sp.core.function.AppliedUndef):
        return False  # f(x): symengine keeps Derivative/Subs exactly like sympy.diff
    return not isinstance(node, _NATIVE_FUNCTIONS)


def _partial_derivative(application: sp.Basic, index: int) -> sp.Expr:
    """∂F/∂a_index: the step engine's table entry for one-argument functions (so both
    paths agree: jumps have derivative 0 away from the jump, σ′ = σ(1 − σ)), else ``fdiff``."""
    from derivekit.calculus.rules import (
        FUNCTION_DERIVATIVES,  # lazy: rules imports the step types
    )
    if index == 0:
        for klass in type(application).__mro__:
            if klass in FUNCTION_DERIVATIVES:
                return FUNCTION_DERIVATIVES[klass].derivative(application)
    return application.fdiff(index + 1)


class _Lowering:
    """SymPy → symengine translation with opaque applications replaced by placeholders."""

    def __init__(self, expressions: Iterable[sp.Basic]):
        self.placeholder_of: dict[sp.Basic, sp.Symbol] = {}
        self.application_of: dict[se.Symbol, sp.Basic] = {}
        self.lowered_args: dict[se.Symbol, tuple[se.Basic, ...]] = {}
        self.partials: dict[tuple[se.Symbol, int], se.Basic] = {}
        self.user_symbols: dict[str, sp.Symbol] = {}
        self._memo: dict[sp.Basic, sp.Basic] = {}
        self._total: dict[tuple[se.Symbol, se.Symbol], se.Basic] = {}
        self._raised: dict[se.Basic, sp.Basic] = {}
        for expr in expressions:
            for symbol in expr.free_symbols:
                self.user_symbols[symbol.name] = symbol

    # --- SymPy -> symengine ------------------------------------------------------------
    def _replace_opaque(self, expr: sp.Basic) -> sp.Basic:
        """``expr`` with every opaque application (innermost first) made a placeholder."""
        if expr in self._memo:
            return self._memo[expr]
        if not expr.args or expr.is_Atom:
            out = expr
        elif _is_opaque(expr):
            out = self._placeholder(expr)
        else:
            new_args = tuple(self._replace_opaque(arg) for arg in expr.args)
            out = expr if new_args == expr.args else expr.func(*new_args)
        self._memo[expr] = out
        return out

    def _placeholder(self, application: sp.Basic) -> sp.Symbol:
        if application in self.placeholder_of:
            return self.placeholder_of[application]
        symbol = sp.Symbol(f"{_PLACEHOLDER_PREFIX}{len(self.placeholder_of)}")
        self.placeholder_of[application] = symbol
        se_symbol = se.Symbol(symbol.name)
        self.application_of[se_symbol] = application
        self.lowered_args[se_symbol] = tuple(self.lower(arg) for arg in application.args)
        return symbol

    def lower(self, expr: sp.Basic) -> se.Basic:
        """The symengine form of ``expr``."""
        return se.sympify(self._replace_opaque(sp.sympify(expr)))

    # --- differentiation ---------------------------------------------------------------
    def partial(self, placeholder: se.Symbol, index: int) -> se.Basic:
        """∂F/∂a_index for the application behind ``placeholder`` (from its ``fdiff``)."""
        key = (placeholder, index)
        if key not in self.partials:
            application = self.application_of[placeholder]
            derivative = _partial_derivative(application, index)
            self.partials[key] = self.lower(derivative)
        return self.partials[key]

    def total(self, expr: se.Basic, var: se.Symbol) -> se.Basic:
        """d expr / d var, following placeholders through the chain rule."""
        check_deadline()
        result = expr.diff(var)
        for symbol in expr.free_symbols:
            if symbol in self.application_of:
                inner = self._total_of_placeholder(symbol, var)
                if inner != 0:
                    result += expr.diff(symbol) * inner
        return result

    def _total_of_placeholder(self, placeholder: se.Symbol, var: se.Symbol) -> se.Basic:
        key = (placeholder, var)
        if key not in self._total:
            result = se.Integer(0)
            for index, arg in enumerate(self.lowered_args[placeholder]):
                inner = self.total(arg, var)
                if inner != 0:
                    result += self.partial(placeholder, index) * inner
            self._total[key] = result
        return self._total[key]

    # --- symengine -> SymPy ------------------------------------------------------------
    def raise_back(self, expr: se.Basic) -> sp.Expr:
        """The SymPy form of a symengine result, in the caller's symbols and functions.

        Memoised per node and shared across all the entries of one matrix: the entries of a
        Hessian repeat the same factors (σ(1 − σ), …), and building SymPy nodes is the most
        expensive part of the fast path.
        """
        memo = self._raised
        if expr in memo:
            return memo[expr]
        kind = type(expr)
        if kind is se.Symbol:
            out = self._raise_symbol(expr)
        elif kind is se.Add:
            out = _canonical_add([self.raise_back(arg) for arg in expr.args])
        elif kind is se.Mul:
            out = _canonical_mul([self.raise_back(arg) for arg in expr.args])
        elif kind is se.Pow:
            base, exponent = expr.args
            out = sp.Pow(self.raise_back(base), self.raise_back(exponent))
        elif isinstance(expr, se.Integer):  # also One, NegativeOne, Zero
            out = sp.Integer(int(expr))
        elif isinstance(expr, se.Rational):
            out = sp.Rational(int(expr.get_num_den()[0]), int(expr.get_num_den()[1]))
        else:  # anything rarer: symengine's own converter, then our symbols
            out = self._raise_generic(expr)
        memo[expr] = out
        return out

    def _raise_symbol(self, symbol: se.Symbol) -> sp.Basic:
        if symbol in self.application_of:
            return self.application_of[symbol]
        name = symbol.name
        return self.user_symbols.get(name) or sp.Symbol(name)

    def _raise_generic(self, expr: se.Basic) -> sp.Basic:
        value = sp.sympify(expr)
        mapping = {}
        for symbol in value.free_symbols:
            original = self._raise_symbol(se.Symbol(symbol.name))
            if original != symbol:
                mapping[symbol] = original
        return value.xreplace(mapping) if mapping else value


def _plain_factors(args: list[sp.Basic]) -> tuple[sp.Basic | None, list[sp.Basic]] | None:
    """Split ``args`` into (numeric coefficient, other factors) when SymPy's flattening
    would only sort them; None when it could do more (merge numbers, distribute, nest)."""
    coeff = args[0] if args[0].is_Number else None
    rest = args[1:] if coeff is not None else args
    for arg in rest:
        if arg.is_Number or arg.is_Mul or arg.is_Add and coeff is not None and len(rest) == 1:
            return None
        if arg.is_Pow and arg.base.is_number:  # sqrt(2)*sqrt(3) -> sqrt(6)
            return None
    if coeff is not None and not (coeff.is_Rational and coeff not in (0, 1)):
        return None
    return coeff, rest


def _canonical_mul(args: list[sp.Basic]) -> sp.Basic:
    """``sp.Mul(*args)`` for factors symengine already combined, skipping SymPy's costly
    flatten when it would only sort them (the result is identical: same canonical order)."""
    split = _plain_factors(args) if len(args) > 1 else None
    if split is None or len({arg.as_base_exp()[0] for arg in split[1]}) < len(split[1]):
        return sp.Mul(*args)
    coeff, rest = split
    rest = sorted(rest, key=_args_sortkey)
    return sp.Mul._from_args([coeff, *rest] if coeff is not None else rest, True)


def _canonical_add(args: list[sp.Basic]) -> sp.Basic:
    """``sp.Add(*args)`` for terms symengine already collected (see :func:`_canonical_mul`)."""
    coeff = args[0] if args[0].is_Number else None
    rest = args[1:] if coeff is not None else args
    plain = (len(args) > 1 and (coeff is None or coeff.is_Rational and coeff != 0)
             and not any(arg.is_Number or arg.is_Add for arg in rest))
    if not plain or len({arg.as_coeff_Mul()[1] for arg in rest}) < len(rest):
        return sp.Add(*args)
    rest = sorted(rest, key=_args_sortkey)
    return sp.Add._from_args([coeff, *rest] if coeff is not None else rest, True)


class _TermIndex:
    """A lowered expression split into top-level terms, indexed by the symbols they use.

    d/dx of a sum only needs the terms that contain x (directly or through a placeholder).
    """

    def __init__(self, lowering: _Lowering, expr: se.Basic):
        self.lowering = lowering
        terms = expr.args if isinstance(expr, se.Add) else (expr,)
        self.terms_with: dict[se.Symbol, list[se.Basic]] = defaultdict(list)
        for term in terms:
            for symbol in self._reach(term):
                self.terms_with[symbol].append(term)

    def _reach(self, term: se.Basic) -> set:
        """Every symbol ``term`` depends on, looking through placeholders."""
        seen, stack = set(), list(term.free_symbols)
        while stack:
            symbol = stack.pop()
            if symbol in seen:
                continue
            seen.add(symbol)
            for arg in self.lowering.lowered_args.get(symbol, ()):
                stack.extend(arg.free_symbols)
        return seen

    def derivative(self, var: se.Symbol) -> se.Basic:
        terms = self.terms_with.get(var, ())
        if not terms:
            return se.Integer(0)
        return self.lowering.total(se.Add(*terms), var)


def _as_symbols(wrt: Sequence, exprs: Sequence[sp.Basic]) -> list[sp.Symbol]:
    """Variables as symbols; a name means the expression's own symbol of that name (so
    ``"x"`` finds a ``Symbol('x', positive=True)``), else a plain new symbol."""
    if isinstance(wrt, (str, sp.Symbol)):
        wrt = [wrt]
    by_name = {s.name: s for e in exprs for s in e.free_symbols}
    return [by_name.get(v, sp.Symbol(v)) if isinstance(v, str) else v for v in wrt]


def _as_expr(expr) -> sp.Expr:
    if isinstance(expr, str):
        from derivekit.parsing.parse import parse  # lazy: the parser pulls in lark
        return parse(expr)
    return sp.sympify(expr) if not isinstance(expr, sp.Basic) else expr


def _gradient_lowered(lowering: _Lowering, expr: sp.Expr, wrt: list[sp.Symbol]) -> list[se.Basic]:
    index = _TermIndex(lowering, lowering.lower(expr))
    return [index.derivative(se.Symbol(v.name)) for v in wrt]


def gradient_vector(expr, wrt: Sequence) -> sp.Matrix:
    """∇expr as a SymPy column (one row per variable in ``wrt``), without steps."""
    expr = _as_expr(expr)
    wrt = _as_symbols(wrt, [expr])
    lowering = _Lowering([expr])
    column = _gradient_lowered(lowering, expr, wrt)
    return sp.Matrix([lowering.raise_back(entry) for entry in column])


def jacobian_matrix(exprs: Sequence, wrt: Sequence) -> sp.Matrix:
    """The Jacobian ∂exprs_i/∂wrt_j as a SymPy matrix (rows: expressions), without steps."""
    exprs = [_as_expr(e) for e in exprs]
    wrt = _as_symbols(wrt, exprs)
    lowering = _Lowering(exprs)
    rows = [_gradient_lowered(lowering, e, wrt) for e in exprs]
    return sp.Matrix([[lowering.raise_back(entry) for entry in row] for row in rows])


def hessian_matrix(expr, wrt: Sequence) -> sp.Matrix:
    """The Hessian ∂²expr/∂wrt_i∂wrt_j as a symmetric SymPy matrix, without steps.

    Only the upper triangle is differentiated; the lower one mirrors it (the functions
    derivekit handles are twice continuously differentiable where the derivative exists).
    """
    expr = _as_expr(expr)
    wrt = _as_symbols(wrt, [expr])
    lowering = _Lowering([expr])
    se_vars = [se.Symbol(v.name) for v in wrt]
    first = _gradient_lowered(lowering, expr, wrt)
    n = len(wrt)
    raised: dict[tuple[int, int], sp.Expr] = {}
    for i in range(n):
        index = _TermIndex(lowering, first[i])
        for j in range(i, n):
            raised[i, j] = lowering.raise_back(index.derivative(se_vars[j]))
    return sp.Matrix(n, n, lambda i, j: raised[min(i, j), max(i, j)])
