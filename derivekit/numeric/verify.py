"""Check a hand-derived derivative or gradient, and say what is wrong with it.

:func:`verify` decides whether a claimed derivative equals the true one in two ways:

* **numerically**, at ``points`` (≥ 10) random points inside the domain
  (:mod:`derivekit.numeric.sampling`), which settles most cases at once;
* **symbolically**: cheap canonical forms first (expand, DL functions rewritten to
  elementary ones, cancel), then a bounded ``simplify`` under a deadline; a numeric
  counterexample is confirmed by exact evaluation at that point.

When the claim is wrong, the diagnosis table :data:`DIAGNOSES` is tried in order. Each
row is a small class whose docstring states the mistake it recognises and whose
``detect`` returns a :class:`Diagnosis` or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from derivekit.display import Displayable
from derivekit.errors import DerivekitError, LimitError

MIN_POINTS = 10
#: claim and expected agree at a point when |c − e| ≤ RTOL·max(|c|, |e|) + ATOL
RTOL, ATOL = 1e-6, 1e-9
DEFAULT_TIMEOUT_S = 2.0
#: shorter deadlines are raised to this (an alarm firing as it is set escapes its handler)
MIN_TIMEOUT_S = 0.01
#: simplify is not tried on differences larger than this (the deadline bounds time, this size)
MAX_SIMPLIFY_OPS = 400
#: the exact (30-digit) evaluation at a counterexample gives up after this long
EXACT_TIMEOUT_S = 1.0


# --- printing ------------------------------------------------------------------------------

def show(expr: Any, fmt: str = "text") -> str:
    """An expression in derivekit's notation (σ, textbook order), or SymPy's as a fallback."""
    try:
        from derivekit.render import printing
        return printing.to_latex(expr) if fmt == "latex" else printing.to_text(expr)
    except Exception:  # the printer is optional here; never fail a verdict over notation
        return sp.latex(expr) if fmt == "latex" else sp.sstr(expr)


# --- numeric evaluation at shared sample points --------------------------------------------

@dataclass(eq=False)
class Evaluator:
    """Values of expressions at fixed points (an ``(n, K)`` array over ``symbols``)."""

    symbols: tuple[sp.Symbol, ...]
    points: np.ndarray
    _cache: dict = field(default_factory=dict)

    def __call__(self, expr: sp.Expr) -> np.ndarray:
        from derivekit.numeric.compiled import as_expr
        key = as_expr(expr)  # candidates are SymPy already; numbers become SymPy numbers
        if key not in self._cache:
            from derivekit.numeric.compiled import compile
            extra = key.free_symbols - set(self.symbols)
            if extra:  # a symbol outside the sampled ones cannot be evaluated
                self._cache[key] = np.full(len(self.points), np.nan)
            else:
                try:
                    f = compile(key, self.symbols, backend="numpy", cse=False)
                    with np.errstate(all="ignore"):
                        values = f.evaluate_numpy(*(self.points[:, k] for k in range(len(self.symbols))))
                except (NameError, TypeError, ValueError, ZeroDivisionError, OverflowError):
                    # a function NumPy cannot evaluate: no numbers here, so no samples either
                    values = np.full(len(self.points), np.nan)
                self._cache[key] = np.where(np.isfinite(values), values, np.nan)
        return self._cache[key]

    def point(self, j: int) -> dict[str, float]:
        return {s.name: float(v) for s, v in zip(self.symbols, self.points[j])}


def agree(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pointwise agreement within :data:`RTOL`/:data:`ATOL`; nan agrees with nothing."""
    with np.errstate(all="ignore"):
        return np.abs(a - b) <= RTOL * np.maximum(np.abs(a), np.abs(b)) + ATOL


def relative_error(claimed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        diff = np.abs(claimed - expected)
        scale = np.maximum(np.abs(expected), np.abs(claimed))
        rel = np.where(diff == 0, 0.0, diff / np.where(scale == 0, 1.0, scale))
    return np.where(np.isnan(rel), np.inf, rel)


def matches(claim_values: np.ndarray, candidate: np.ndarray, min_fraction: float = 0.7) -> bool:
    """True when the claim equals ``candidate`` at every point where the candidate is defined,
    and it is defined at ``min_fraction`` of the points at least."""
    defined = np.isfinite(candidate)
    if defined.mean() < min_fraction:
        return False
    return bool(agree(claim_values[defined], candidate[defined]).all())


# --- symbolic equality --------------------------------------------------------------------

def _canonical_forms(difference: sp.Expr):
    from derivekit.parsing.functions import to_elementary
    yield difference
    yield sp.expand(difference)
    elementary = to_elementary(difference)
    yield sp.expand(elementary)
    yield sp.cancel(elementary)
    yield sp.cancel(sp.expand(elementary, power_exp=True))


def symbolic_difference_is_zero(claim: sp.Expr, expected: sp.Expr,
                                timeout: float | None = DEFAULT_TIMEOUT_S) -> tuple[bool | None, str]:
    """(True, how) when claim − expected simplifies to 0; (None, why) when neither the
    canonical forms nor the bounded ``simplify`` can show it (which proves nothing)."""
    from derivekit.limits import deadline
    from derivekit.parsing.functions import to_elementary
    difference = claim - expected
    if timeout is not None:
        timeout = max(float(timeout), MIN_TIMEOUT_S)
    try:
        with deadline(timeout):
            for form in _canonical_forms(difference):
                if form == 0:
                    return True, "canonical form"
            if sp.count_ops(difference) > MAX_SIMPLIFY_OPS:
                return None, f"too large for bounded simplification (over {MAX_SIMPLIFY_OPS} operations)"
            if sp.simplify(to_elementary(difference)) == 0:
                return True, "simplify"
    except LimitError:
        return None, f"symbolic simplification timed out after {timeout:g} s"
    except (TypeError, ValueError, NotImplementedError, RecursionError):
        return None, "symbolic simplification failed"
    return None, "simplification did not reach 0"


def exact_difference_at(claim: sp.Expr, expected: sp.Expr, point: dict[sp.Symbol, float]) -> float | None:
    """claim − expected evaluated with 30 digits at ``point`` (None if not a real number, or
    not done within :data:`EXACT_TIMEOUT_S`)."""
    from derivekit.limits import deadline
    try:
        # 30-digit floats hold each sample exactly; rationals would let SymPy expand
        # r^(p/q) powers exactly (e^(−r·log s) with rational r, s never finishes)
        with deadline(EXACT_TIMEOUT_S):
            value = (claim - expected).subs({s: sp.Float(float(v), 30) for s, v in point.items()}).evalf(30)
            return abs(float(value)) if value.is_real else None
    except (TypeError, ValueError, AttributeError, LimitError):
        return None


# --- diagnoses -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Diagnosis:
    """What is wrong, in plain words. ``error_class`` names the :data:`DIAGNOSES` row."""

    error_class: str
    message: str
    detail: dict = field(default_factory=dict)


@dataclass(eq=False)
class Case:
    """One component under diagnosis: ∂f/∂var, what was claimed, and the numbers."""

    f: sp.Expr
    var: sp.Symbol
    claim: sp.Expr
    expected: sp.Expr
    values: Evaluator

    @property
    def claim_values(self) -> np.ndarray:
        return self.values(self.claim)

    def claim_is(self, candidate: sp.Expr) -> bool:
        return matches(self.claim_values, self.values(candidate))


def _inner_functions(f: sp.Expr, var: sp.Symbol) -> list[sp.Expr]:
    """Arguments of function applications and powers in ``f`` that depend on ``var``
    (the "inner functions" of the chain rule), outermost first."""
    inner = []
    for node in sp.preorder_traversal(f):
        if isinstance(node, sp.Pow):
            args = [node.base]
        elif isinstance(node, sp.Function):
            args = list(node.args)
        else:
            continue
        for a in args:
            if a != var and a.has(var) and a not in inner:
                inner.append(a)
    return inner


class UnknownSymbol:
    """The claim uses a symbol that the function does not contain."""

    name: ClassVar[str] = "unknown_symbol"

    def detect(self, case: Case) -> Diagnosis | None:
        # the expected derivative's symbols count as the function's: ∂/∂x₂ Σᵢ xᵢ² contains x₂
        extra = case.claim.free_symbols - case.f.free_symbols - case.expected.free_symbols
        if not extra:
            return None
        names = ", ".join(sorted(s.name for s in extra))
        return Diagnosis(self.name, f"the claim uses {names}, which does not appear in the function; "
                         f"its derivative can only contain the function's own variables",
                         {"symbols": sorted(s.name for s in extra)})


class WrongVariable:
    """∂f/∂u for another variable u was given instead of ∂f/∂var."""

    name: ClassVar[str] = "wrong_variable"

    def detect(self, case: Case) -> Diagnosis | None:
        for other in sorted(case.f.free_symbols - {case.var}, key=lambda s: s.name):
            if case.claim_is(sp.diff(case.f, other)):
                return Diagnosis(self.name, f"this is the derivative with respect to {other.name}, "
                                 f"not {case.var.name}: differentiate treating {other.name} as a constant "
                                 f"and {case.var.name} as the variable", {"variable": other.name})
        return None


def _outer_derivatives(f: sp.Expr, var: sp.Symbol) -> list[tuple[sp.Expr, sp.Expr]]:
    """(node, F′(u)) for each one-argument function or power F(u) in ``f`` whose argument
    u depends on ``var``: the outer derivative the chain rule multiplies by."""
    out = []
    for node in sp.preorder_traversal(f):
        if isinstance(node, sp.Pow) and node.base.has(var) and not node.exp.has(var):
            out.append((node, node.exp * node.base ** (node.exp - 1)))
        elif isinstance(node, sp.Function) and len(node.args) == 1 and node.args[0].has(var):
            try:
                out.append((node, node.fdiff(1)))
            except (TypeError, ValueError, AttributeError, NotImplementedError):
                continue
    return out


class MissingChainFactor:
    """claim = expected / g′ for an inner function g (d/dx F(g(x)) = F′(g(x))·g′(x) with
    g′ dropped), or claim = expected / F′(g) (the activation's derivative dropped: the
    classic backprop slip δ = (a − y) instead of δ = (a − y)·σ′(z))."""

    name: ClassVar[str] = "missing_chain_factor"

    def detect(self, case: Case) -> Diagnosis | None:
        for g in _inner_functions(case.f, case.var):
            inner_derivative = sp.diff(g, case.var)
            if not inner_derivative.free_symbols:
                continue  # a constant factor: ConstantFactor explains it
            if case.claim_is(case.expected / inner_derivative):
                return Diagnosis(self.name,
                                 f"missing chain-rule factor: the claim lacks {show(inner_derivative)}, the "
                                 f"derivative of the inner function {show(g)} with respect to {case.var.name}. "
                                 f"Multiply by it",
                                 {"inner": show(g), "factor": show(inner_derivative)})
        for node, outer_derivative in _outer_derivatives(case.f, case.var):
            if not outer_derivative.free_symbols:
                continue
            if case.claim_is(case.expected / outer_derivative):
                if isinstance(node, sp.Pow):
                    what = (f"{show(outer_derivative)}, the derivative of {show(node)} with respect to "
                            f"its base {show(node.base)}")
                else:
                    label = getattr(type(node), "unicode_name", "") or type(node).__name__
                    what = (f"{label}′({show(node.args[0])}) = {show(outer_derivative)}, the derivative "
                            f"of {label} at its argument")
                return Diagnosis(self.name, f"missing chain-rule factor: the claim lacks {what}. "
                                 "Multiply by it", {"outer": show(node), "factor": show(outer_derivative)})
        return None


def _nice_number(value: float) -> Fraction | None:
    frac = Fraction(value).limit_denominator(1000)
    return frac if abs(float(frac) - value) <= 1e-9 * max(1.0, abs(value)) else None


class ConstantFactor:
    """claim = k·expected for a constant k ≠ 1 (k = −1: a sign error; k = 0: claimed zero)."""

    name: ClassVar[str] = "constant_factor"

    def detect(self, case: Case) -> Diagnosis | None:
        c, e = case.claim_values, case.values(case.expected)
        usable = np.isfinite(c) & np.isfinite(e) & (np.abs(e) > 1e-8)
        if usable.sum() < 3:
            return None
        ratios = c[usable] / e[usable]
        k = float(np.median(ratios))
        if not np.allclose(ratios, k, rtol=RTOL, atol=1e-9) or abs(k - 1) < 1e-9:
            return None
        frac = _nice_number(k)
        shown = (str(frac) if frac is not None else f"{k:.6g}")
        if k == 0:
            message = "the claim is 0, but the derivative is not"
        elif frac == -1:
            message = "sign error: the claim is the negative of the derivative"
            if _quotient_parts(case.f, case.var) is not None:  # the usual cause for a quotient
                message += ("; for a quotient p/q that is the quotient rule's numerator in the wrong "
                            "order: it is (p′q − pq′)/q², not (pq′ − p′q)/q²")
        else:
            message = f"off by a constant factor: the claim is {shown} times the derivative"
            inner = [g for g in _inner_functions(case.f, case.var)
                     if (d := sp.diff(g, case.var)).is_number and d != 0 and abs(float(1 / d) - k) < 1e-9]
            if inner:
                message += (f"; {show(sp.diff(inner[0], case.var))} is the derivative of the inner function "
                            f"{show(inner[0])}, which the chain rule multiplies by")
        return Diagnosis(self.name, message, {"factor": shown})


def _dl(name: str):
    from derivekit.parsing import functions
    return getattr(functions, name)


def _wrong_derivative_table() -> list[tuple[Any, Any, str]]:
    """(function head, wrong derivative as a function of its argument, what was done)."""
    sigmoid, softplus, relu, silu = (_dl(n) for n in ("sigmoid", "softplus", "relu", "silu"))
    return [
        (sigmoid, lambda u: sigmoid(u), "σ(u) was used where σ′(u) = σ(u)(1 − σ(u)) was needed"),
        (sigmoid, lambda u: 1 - sigmoid(u), "1 − σ(u) was used where σ′(u) = σ(u)(1 − σ(u)) was needed"),
        (sigmoid, lambda u: sigmoid(u) * (1 + sigmoid(u)), "σ′(u) was written σ(u)(1 + σ(u)); it is σ(u)(1 − σ(u))"),
        (sp.tanh, lambda u: 1 + sp.tanh(u) ** 2, "tanh′(u) was written 1 + tanh²(u); it is 1 − tanh²(u)"),
        (sp.tanh, lambda u: sp.tanh(u), "tanh(u) was used where tanh′(u) = 1 − tanh²(u) was needed"),
        (sp.tanh, lambda u: 1 - sp.tanh(u), "tanh′(u) was written 1 − tanh(u); it is 1 − tanh²(u)"),
        (softplus, lambda u: softplus(u), "softplus(u) was used where softplus′(u) = σ(u) was needed"),
        (softplus, lambda u: sigmoid(u) * (1 - sigmoid(u)),
         "softplus′(u) was written σ′(u) = σ(u)(1 − σ(u)); it is σ(u)"),
        (relu, lambda u: relu(u), "ReLU(u) was used where ReLU′(u) = H(u), the unit step, was needed"),
        (silu, lambda u: sigmoid(u), "σ(u) was used where SiLU′(u) = σ(u)(1 + u(1 − σ(u))) was needed"),
        (sp.exp, lambda u: sp.exp(u) * u, "e^u was differentiated as u·e^u; d/du e^u = e^u"),
        (sp.log, lambda u: sp.log(u), "log(u) was left in place of its derivative 1/u"),
    ]


def derivative_with_wrong_rule(f: sp.Expr, var: sp.Symbol, node: sp.Expr, wrong) -> sp.Expr:
    """∂f/∂var computed as if ``node``'s function had the derivative ``wrong``."""
    head = type(node)
    stand_in = type(f"{head.__name__}_as_stated", (sp.Function,),
                    {"fdiff": lambda self, argindex=1: wrong(self.args[0]), "nargs": len(node.args)})
    swapped = f.xreplace({node: stand_in(*node.args)})
    return sp.diff(swapped, var).replace(stand_in, head)


class WrongActivationDerivative:
    """An activation's derivative was replaced by a wrong one (σ for σ′, 1 + tanh² for
    tanh′, …); the rest of the derivation is right."""

    name: ClassVar[str] = "wrong_activation_derivative"

    def detect(self, case: Case) -> Diagnosis | None:
        table = _wrong_derivative_table()
        nodes = [n for n in sp.preorder_traversal(case.f) if isinstance(n, sp.Function) and n.has(case.var)]
        for node in dict.fromkeys(nodes):
            for head, wrong, said in table:
                if type(node) is not head:
                    continue
                try:
                    candidate = derivative_with_wrong_rule(case.f, case.var, node, wrong)
                except (TypeError, ValueError):
                    continue
                if case.claim_is(candidate):
                    return Diagnosis(self.name, f"wrong derivative of {show(node)}: "
                                     + said.replace("(u)", f"({show(node.args[0])})"),
                                     {"function": head.__name__, "at": show(node)})
        return None


# --- product and quotient rule slips ---------------------------------------------------------

def _depends(e: sp.Expr, var: sp.Symbol) -> bool:
    return e.has(var)


def _quotient_parts(node: sp.Expr, var: sp.Symbol):
    """(c, p, q) with node = c·p/q, p and q depending on var and c not; None when node is not
    such a quotient."""
    if not isinstance(node, sp.Mul):
        return None
    c, p, q = [], [], []
    for a in node.args:
        if not _depends(a, var):
            c.append(a)
        elif isinstance(a, sp.Pow) and a.exp.is_number and a.exp.is_negative:
            q.append(a.base ** (-a.exp))
        else:
            p.append(a)
    if not p or not q:
        return None
    return sp.Mul(*c), sp.Mul(*p), sp.Mul(*q)


def _product_splits(node: sp.Expr, var: sp.Symbol):
    """(c, u, v) with node = c·u·v, u one factor depending on var and v the product of the
    others that do (at least one); quotients are left to the quotient rule."""
    if not isinstance(node, sp.Mul) or _quotient_parts(node, var) is not None:
        return
    dependent = [a for a in node.args if _depends(a, var)]
    if len(dependent) < 2:
        return
    c = sp.Mul(*[a for a in node.args if not _depends(a, var)])
    for k, u in enumerate(dependent):
        yield c, u, sp.Mul(*(dependent[:k] + dependent[k + 1:]))


def derivative_with_node_rule(f: sp.Expr, var: sp.Symbol, node: sp.Expr, node_derivative: sp.Expr) -> sp.Expr:
    """∂f/∂var computed as if ∂node/∂var were ``node_derivative`` (the chain rule above
    ``node`` done right)."""
    stand_in = sp.Function("node_as_stated")(var)
    swapped = f.xreplace({node: stand_in})
    d = sp.diff(swapped, var)
    return d.xreplace({sp.Derivative(stand_in, var): node_derivative}).xreplace({stand_in: node})


class _NodeSlip:
    """Common search: for each product or quotient node of f, each slipped derivative of the
    node from :meth:`slips`, the whole derivative with that slip; the first one that the claim
    equals at every sample point names the slip."""

    name: ClassVar[str] = ""

    def slips(self, node, var):  # pragma: no cover - each row gives its own
        return ()

    def detect(self, case: Case) -> Diagnosis | None:
        nodes = [n for n in sp.preorder_traversal(case.f) if isinstance(n, sp.Mul) and n.has(case.var)]
        for node in dict.fromkeys(nodes):
            for slipped, words in self.slips(node, case.var):
                try:
                    candidate = derivative_with_node_rule(case.f, case.var, node, slipped)
                except (TypeError, ValueError):
                    continue
                if candidate != case.expected and case.claim_is(candidate):
                    return Diagnosis(self.name, words, {"at": show(node)})
        return None


def _d(e, var):
    return sp.diff(e, var)


class ProductRuleSign(_NodeSlip):
    """(uv)′ written u′v − uv′ (or uv′ − u′v) instead of u′v + uv′: the product rule's sum
    became a difference, as in the quotient rule's numerator."""

    name: ClassVar[str] = "product_rule_sign"

    def slips(self, node, var):
        for c, u, v in _product_splits(node, var):
            words = (f"product-rule sign slip in d/d{var.name} [{show(u)}·{show(v)}]: the claim uses "
                     f"f′g − fg′ (with f = {show(u)}, g = {show(v)}); the product rule is f′g + fg′, "
                     f"a sum (f′g − fg′ belongs to the quotient rule's numerator)")
            yield c * (_d(u, var) * v - u * _d(v, var)), words
        return


class ProductRuleBothFactors(_NodeSlip):
    """(uv)′ written u′v′: both factors differentiated at once, instead of u′v + uv′."""

    name: ClassVar[str] = "product_rule_both_factors"

    def slips(self, node, var):
        for c, u, v in _product_splits(node, var):
            yield c * _d(u, var) * _d(v, var), (
                f"both factors differentiated: the derivative of {show(u)}·{show(v)} was written f′g′ = "
                f"{show(_d(u, var))}·{show(_d(v, var))}; the product rule is f′g + fg′ (differentiate "
                f"one factor at a time and add)")
            break  # f′g′ is symmetric: one split says it


class QuotientRuleSlip(_NodeSlip):
    """(p/q)′ written (p′q + pq′)/q² (sum for difference) or (pq′ − p′q)/q² (numerator in the
    wrong order), instead of (p′q − pq′)/q²."""

    name: ClassVar[str] = "quotient_rule_slip"

    def slips(self, node, var):
        parts = _quotient_parts(node, var)
        if parts is None:
            return
        c, p, q = parts
        dp, dq = _d(p, var), _d(q, var)
        rule = f"the quotient rule is (p′q − pq′)/q² with p = {show(p)}, q = {show(q)}"
        yield c * (dp * q + p * dq) / q**2, f"quotient-rule sign slip: the numerator was written p′q + pq′; {rule}"
        yield c * (p * dq - dp * q) / q**2, f"quotient-rule order slip: the numerator was written pq′ − p′q; {rule}"


class MissingProductTerm(_NodeSlip):
    """(uv)′ written u′v or uv′ alone: one of the product rule's two terms was dropped."""

    name: ClassVar[str] = "missing_product_term"

    def slips(self, node, var):
        for c, u, v in _product_splits(node, var):
            yield c * u * _d(v, var), (
                f"missing product-rule term: d/d{var.name} [{show(u)}·{show(v)}] = f′g + fg′ has the term "
                f"{show(_d(u, var) * v)} (f′g, with f = {show(u)}) as well")



def _terms(*forms: sp.Expr) -> list[sp.Expr]:
    out: list[sp.Expr] = []
    for form in forms:
        for t in sp.Add.make_args(form):
            if t not in out and t != 0:
                out.append(t)
    return out


class MissingTerm:
    """claim = expected − t for a term t of the derivative (a product-rule or sum term
    was dropped)."""

    name: ClassVar[str] = "missing_term"

    def detect(self, case: Case) -> Diagnosis | None:
        raw = sp.diff(case.f, case.var)
        for t in _terms(case.expected, raw, sp.expand(raw)):
            if sp.Add.make_args(case.expected) == (t,) or t == raw:
                continue
            if case.claim_is(case.expected - t):
                return Diagnosis(self.name, f"missing term: the derivative also has the term {show(t)}",
                                 {"term": show(t)})
        return None


class ExtraTerm:
    """claim = expected + t for a term t the claim wrote (an additive term that is not
    part of the derivative)."""

    name: ClassVar[str] = "extra_term"

    def detect(self, case: Case) -> Diagnosis | None:
        for t in _terms(case.claim, sp.expand(case.claim)):
            if sp.Add.make_args(case.claim) == (t,):
                continue
            if case.claim_is(case.expected + t):
                return Diagnosis(self.name, f"extra term: {show(t)} does not belong in the derivative",
                                 {"term": show(t)})
        return None


class MissingFactor:
    """claim = expected / c for a factor c of the derivative (a constant multiple, such as
    x in d/dw (w²x) = 2wx, was dropped)."""

    name: ClassVar[str] = "missing_factor"

    def detect(self, case: Case) -> Diagnosis | None:
        factors = sp.Mul.make_args(case.expected)
        for factor in factors if len(factors) > 1 else ():  # the whole derivative is no "factor"
            if factor.is_number or not factor.free_symbols:
                continue
            if case.claim_is(case.expected / factor):
                return Diagnosis(self.name, f"missing factor: the derivative has the factor {show(factor)}, "
                                 "which the claim lacks", {"factor": show(factor)})
        return None


class Unrecognised:
    """None of the known mistakes fits; the counterexample shows the difference."""

    name: ClassVar[str] = "other"

    def detect(self, case: Case) -> Diagnosis | None:
        return Diagnosis(self.name, "the claim differs from the derivative; none of the common "
                         "mistakes (constant factor, chain rule, activation derivative, wrong variable, "
                         "product or quotient rule, missing or extra term or factor) explains it — compare with the steps below")


#: tried in order; the first that recognises the mistake names it
DIAGNOSES = [UnknownSymbol(), MissingChainFactor(), WrongVariable(), ConstantFactor(),
             WrongActivationDerivative(), ProductRuleSign(), ProductRuleBothFactors(), QuotientRuleSlip(),
             MissingTerm(), ExtraTerm(), MissingProductTerm(), MissingFactor(), Unrecognised()]
ERROR_CLASSES = tuple(d.name for d in DIAGNOSES)


def diagnose(case: Case) -> Diagnosis:
    for row in DIAGNOSES:
        found = row.detect(case)
        if found is not None:
            return found
    raise AssertionError("Unrecognised always answers")  # pragma: no cover


# --- the verdict ------------------------------------------------------------------------

@dataclass(eq=False)
class ComponentVerdict:
    """The check of one derivative: ∂f/∂variable."""

    variable: str
    claim: sp.Expr
    expected: sp.Expr
    ok: bool
    numeric_equal: bool
    symbolic_equal: bool | None
    symbolic_note: str
    max_rel_error: float
    points_agreeing: int
    counterexample: dict | None
    diagnosis: Diagnosis | None


@dataclass(eq=False)
class Verdict(Displayable):
    """Whether a claimed derivative (or gradient) is right, why not, and the right one.

    ``expected`` is a SymPy expression (a column Matrix for a gradient) and ``derivation``
    the step-by-step :class:`~derivekit.calculus.steps.Derivation` (or MatrixOfDerivations) that
    produced it, when the step engine is available. ``symbolic_equal`` is True (shown equal),
    False (proven different: exact evaluation at the counterexample) or None (undecided,
    e.g. timed out); ``numeric_equal`` is the verdict at ``n_points`` random points.
    """

    expr: sp.Expr
    wrt: tuple[str, ...]
    claim: Any
    expected: Any
    derivation: Any
    components: list[ComponentVerdict]
    n_points: int
    #: why the check could not decide (then ``ok`` is False and the CLI exits 2), or None
    cannot_check: str | None = None
    #: why the numbers were skipped (abstract functions), or None
    numeric_skipped: str | None = None
    #: further remarks (points dropped as non-finite, instances tried)
    remarks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.cannot_check is None and all(c.ok for c in self.components)

    @property
    def decided(self) -> bool:
        """False when the verdict is "cannot check"."""
        return self.cannot_check is None

    @property
    def status(self) -> str:
        """"right", "wrong" or "cannot check"."""
        return "cannot check" if self.cannot_check else ("right" if self.ok else "wrong")

    @property
    def numeric_equal(self) -> bool:
        return all(c.numeric_equal for c in self.components)

    @property
    def symbolic_equal(self) -> bool | None:
        states = [c.symbolic_equal for c in self.components]
        if False in states:
            return False
        return None if None in states else True

    @property
    def wrong_components(self) -> list[str]:
        return [c.variable for c in self.components if not c.ok]

    @property
    def max_rel_error(self) -> float:
        return max(c.max_rel_error for c in self.components)

    @property
    def counterexample(self) -> dict | None:
        wrong = [c for c in self.components if not c.ok]
        return wrong[0].counterexample if wrong else None

    @property
    def error_class(self) -> str | None:
        wrong = [c for c in self.components if c.diagnosis]
        return wrong[0].diagnosis.error_class if wrong else None

    @property
    def diagnoses(self) -> dict[str, Diagnosis]:
        return {c.variable: c.diagnosis for c in self.components if c.diagnosis}

    @property
    def diagnosis(self) -> str:
        if self.cannot_check:
            return f"cannot check: {self.cannot_check}"
        if self.ok:
            return "correct"
        parts = []
        for c in self.components:
            if c.diagnosis is not None:
                prefix = f"∂/∂{c.variable}: " if len(self.components) > 1 else ""
                parts.append(prefix + c.diagnosis.message)
        return "; ".join(parts)

    @property
    def notes(self) -> list[str]:
        """Disagreements between the symbolic and numeric routes, and time-outs."""
        out = [f"numeric check skipped: {self.numeric_skipped}"] if self.numeric_skipped else []
        out += self.remarks
        for c in self.components:
            if self.numeric_skipped or self.cannot_check:
                if c.symbolic_equal is None and c.symbolic_note and not self.cannot_check:
                    out.append(f"∂/∂{c.variable}: {c.symbolic_note}")
                continue
            if c.symbolic_equal is True and not c.numeric_equal:
                out.append(f"∂/∂{c.variable}: the symbolic route found the forms equal but the numbers "
                           "differ (a branch or domain issue); the numbers decide")
            elif c.symbolic_equal is None and c.numeric_equal:
                out.append(f"∂/∂{c.variable}: equal at all {self.n_points} points; symbolically undecided "
                           f"({c.symbolic_note})")
            elif c.symbolic_equal is None and not c.numeric_equal:
                out.append(f"∂/∂{c.variable}: {c.symbolic_note}")
        return out

    # --- rendering ---------------------------------------------------------------------
    def _subject(self, fmt: str) -> str:
        f = show(self.expr, fmt)
        names = ", ".join(self.wrt)
        if fmt == "latex":  # w1 as w_{1}, sigma as \sigma: the names through the math printer
            names = ", ".join(show(sp.Symbol(str(v)), "latex") for v in self.wrt)
            return (rf"\nabla_{{{names}}}\left({f}\right)" if len(self.wrt) > 1
                    else rf"\frac{{\partial}}{{\partial {names}}}\left({f}\right)")
        return f"∇_({names}) of {f}" if len(self.wrt) > 1 else f"d/d{names} of {f}"

    def _counterexample_text(self, c: ComponentVerdict) -> str:
        ce = c.counterexample
        where = ", ".join(f"{k} = {v:.4g}" for k, v in ce["point"].items())
        instance = f" with {ce['instance']}" if ce.get("instance") else ""
        return (f"at {where}{instance}: claimed {ce['claimed']:.6g}, expected {ce['expected']:.6g}")

    def _check_line(self) -> str:
        sym = {True: "equal", False: "different", None: "undecided"}[self.symbolic_equal]
        if self.cannot_check and not self.n_points:
            return f"symbolic: {sym}; numeric: no usable points"
        if self.numeric_skipped and not self.n_points:
            return f"symbolic: {sym}; numeric: skipped"
        agreeing = min(c.points_agreeing for c in self.components)
        where = " with the abstract functions replaced by concrete ones" if self.numeric_skipped else ""
        return (f"symbolic: {sym}; numeric: agrees at {agreeing} of {self.n_points} points{where} "
                f"(max relative error {self.max_rel_error:.2g})")

    def _render(self, fmt: str, **settings):
        if fmt == "dict":
            return self._as_dict(**settings)
        text_like = fmt in ("text", "markdown")
        verdict = {"right": "✓ correct", "wrong": "✗ wrong", "cannot check": "? cannot check"}[self.status]
        claim_shown = ", ".join(show(c.claim, "latex" if fmt == "latex" else "text") for c in self.components)
        lines: list[str] = []
        if text_like:
            bold = "**" if fmt == "markdown" else ""
            lines.append(f"{bold}{verdict}{bold}: claimed {self._subject('text')} = {claim_shown}")
            if not self.ok:
                lines.append(f"{bold}{'reason' if self.cannot_check else 'diagnosis'}{bold}: "
                             f"{self.cannot_check or self.diagnosis}")
                for c in self.components:
                    if c.counterexample:
                        prefix = f"∂/∂{c.variable} " if len(self.components) > 1 else ""
                        lines.append(f"{bold}counterexample{bold}: {prefix}{self._counterexample_text(c)}")
            lines.append(f"checks: {self._check_line()}")
            lines += [f"note: {n}" for n in self.notes]
            expected = ", ".join(show(c.expected) for c in self.components)
            lines.append(f"{bold}expected{bold}: {expected}")
            if self.derivation is not None and settings.get("steps", True):
                lines += ["", "derivation:" if fmt == "text" else "**derivation:**", "",
                          self.derivation.render(fmt, **settings)]
            sep = "\n\n" if fmt == "markdown" else "\n"
            return sep.join(lines) if fmt == "markdown" else "\n".join(lines)
        if settings.get("document"):
            return self._document_latex(verdict, **settings)
        # latex
        mark = {"right": r"\checkmark", "wrong": r"\times", "cannot check": r"\text{?}"}[self.status]
        out = [rf"{mark}\ \text{{claimed}}\ {self._subject('latex')} = {claim_shown}"]
        if not self.ok:
            out.append(r"\text{diagnosis: }" + _latex_text(self.diagnosis))  # math-mode prose
        out.append(r"\text{expected: }" + ", ".join(show(c.expected, "latex") for c in self.components))
        body = r" \\ ".join(out)
        if self.derivation is not None and settings.get("steps", True):
            body += r" \\ " + self.derivation.to_latex(**settings)
        return body

    def _document_latex(self, verdict: str, **settings) -> str:
        """The verdict as LaTeX for a document's body: paragraphs of prose that wrap, the
        claim and the expected derivative as displays broken to the line, then the derivation
        in its document layout (list items, broken displays)."""
        from derivekit.render import docblocks

        def equations(which: str) -> list[str]:
            # one component: d/dx (f) = …; several: f named once above, then ∂f/∂xᵢ = … each
            if len(self.components) == 1:
                return [docblocks.equation(self._subject("latex"), show(getattr(self.components[0], which), "latex"))]
            return [docblocks.equation(rf"\frac{{\partial f}}{{\partial {show(sp.Symbol(c.variable), 'latex')}}}",
                                       show(getattr(c, which), "latex")) for c in self.components]

        out = [docblocks.heading(verdict) + " " + docblocks.prose("— claimed:")]
        if len(self.components) > 1:
            out += [docblocks.prose("the gradient of"), docblocks.equation("f", show(self.expr, "latex"))]
        out += equations("claim")
        if not self.ok:
            out.append(docblocks.labelled("Reason" if self.cannot_check else "Diagnosis",
                                          self.cannot_check or self.diagnosis))
            for c in self.components:
                if c.counterexample:
                    prefix = f"∂/∂{c.variable} " if len(self.components) > 1 else ""
                    out.append(docblocks.labelled("Counterexample", prefix + self._counterexample_text(c)))
        out.append(docblocks.labelled("Checks", self._check_line()))
        out += [docblocks.labelled("Note", n) for n in self.notes]
        out += [r"\par" + docblocks.heading("Expected:"), *equations("expected")]
        if self.derivation is not None and settings.get("steps", True):
            out += [r"\par\medskip" + docblocks.heading("Derivation"),
                    self.derivation.to_latex(**settings)]
        return "\n".join(out)

    def _as_dict(self, **settings) -> dict:
        derivation = None
        if self.derivation is not None:
            try:
                derivation = self.derivation.to_dict(**settings)
            except Exception as exc:  # keep the verdict even if a renderer is missing
                derivation = {"error": str(exc)}
        return {
            "ok": self.ok, "status": self.status, "cannot_check": self.cannot_check,
            "numeric_skipped": self.numeric_skipped,
            "expr": show(self.expr), "wrt": list(self.wrt),
            "diagnosis": self.diagnosis, "error_class": self.error_class,
            "wrong_components": self.wrong_components,
            "counterexample": self.counterexample, "max_rel_error": self.max_rel_error,
            "symbolic_equal": self.symbolic_equal, "numeric_equal": self.numeric_equal,
            "notes": self.notes, "n_points": self.n_points,
            "components": [{"variable": c.variable, "ok": c.ok, "claim": show(c.claim),
                            "expected": show(c.expected), "max_rel_error": c.max_rel_error,
                            "symbolic_equal": c.symbolic_equal, "numeric_equal": c.numeric_equal,
                            "error_class": c.diagnosis.error_class if c.diagnosis else None,
                            "diagnosis": c.diagnosis.message if c.diagnosis else None,
                            "counterexample": c.counterexample} for c in self.components],
            "derivation": derivation,
        }


def _latex_text(text: str) -> str:
    """``text`` for math mode: its words in ``\\text{}``, its formulas as math."""
    try:
        from derivekit.render.printing import latex_prose
        return latex_prose(text)
    except Exception:
        return r"\text{" + text.replace("\\", r"\textbackslash{}").replace("_", r"\_") + "}"


# --- the expected derivative, with steps ----------------------------------------------------

def expected_derivatives(f: sp.Expr, wrt: Sequence[sp.Symbol]) -> tuple[list[sp.Expr], Any]:
    """The textbook derivatives and their derivation from the step engine; SymPy's diff
    (and no derivation) when the step engine cannot handle ``f``."""
    from derivekit.calculus.derive import derive, gradient
    try:
        if len(wrt) == 1:
            d = derive(f, wrt[0])
            return [d.result], d
        g = gradient(f, wrt=list(wrt))
        return list(g.result), g
    except (DerivekitError, NotImplementedError):
        return [sp.diff(f, v) for v in wrt], None


# --- verify ----------------------------------------------------------------------------------

def _check_component(f, var, claim, expected, values: Evaluator, timeout) -> ComponentVerdict:
    c, e = values(claim), values(expected)
    good = agree(c, e)
    rel = relative_error(c, e)
    numeric_equal = bool(good.all())
    counterexample = None
    if numeric_equal:
        symbolic_equal, note = symbolic_difference_is_zero(claim, expected, timeout)
    else:
        j = int(np.argmax(rel))
        point = values.point(j)
        counterexample = {"variable": var.name, "point": point,
                          "claimed": float(c[j]), "expected": float(e[j]), "relative_error": float(rel[j])}
        exact = exact_difference_at(claim, expected, dict(zip(values.symbols, values.points[j])))
        if exact is not None and exact > 1e-12 * max(1.0, abs(float(e[j]))):
            symbolic_equal, note = False, "exact evaluation at the counterexample"
        else:
            symbolic_equal, note = symbolic_difference_is_zero(claim, expected, timeout)
    ok = numeric_equal
    diagnosis = None if ok else diagnose(Case(f, var, claim, expected, values))
    return ComponentVerdict(variable=var.name, claim=claim, expected=expected, ok=ok,
                            numeric_equal=numeric_equal, symbolic_equal=symbolic_equal,
                            symbolic_note=note, max_rel_error=float(np.max(rel)),
                            points_agreeing=int(good.sum()), counterexample=counterexample,
                            diagnosis=diagnosis)


def _finite_rows(exprs: Sequence[sp.Expr], symbols: tuple, pts: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``pts`` where every expression is a finite real number."""
    if not len(pts):
        return np.zeros(0, dtype=bool)
    values = Evaluator(symbols, pts)
    keep = np.ones(len(pts), dtype=bool)
    for e in exprs:
        keep &= np.isfinite(values(e))
    return keep


def _has_symbolic_sum(expr: sp.Basic) -> bool:
    """A ``Sum`` whose bounds are not numbers: NumPy cannot evaluate it."""
    return any(not (lo.is_number and hi.is_number)
               for s in expr.atoms(sp.Sum) for _, lo, hi in s.limits)


def _undecided(f, variables, claims, expected, derivation, reason: str, *, n_points: int = 0,
               numeric_skipped: str | None = None, remarks: Sequence[str] = ()) -> Verdict:
    """A "cannot check" verdict: nothing was compared, so nothing passes."""
    components = [ComponentVerdict(variable=v.name, claim=c, expected=e, ok=False, numeric_equal=False,
                                   symbolic_equal=None, symbolic_note="", max_rel_error=float("nan"),
                                   points_agreeing=0, counterexample=None, diagnosis=None)
                  for v, c, e in zip(variables, claims, expected)]
    return Verdict(expr=f, wrt=tuple(v.name for v in variables),
                   claim=claims[0] if len(variables) == 1 else sp.Matrix(claims),
                   expected=expected[0] if len(variables) == 1 else sp.Matrix(expected),
                   derivation=derivation, components=components, n_points=n_points,
                   cannot_check=reason, numeric_skipped=numeric_skipped, remarks=list(remarks))


def _no_points_reason(f, expected, claims, symbols, n, seed, exc: DerivekitError) -> str:
    """Why no sample points were found: the function and derivative, or the claim."""
    from derivekit.numeric.sampling import sample_points
    try:
        sample_points([f, *expected], symbols, n, seed=seed)
    except DerivekitError:
        return (f"the function or its derivative is not a finite real number at enough points "
                f"({exc.message})")
    return (f"the claim is not a finite real number at enough of the points where the function "
            f"and its derivative are ({exc.message})")


def verify(expr: Any, claim: Any, wrt: Any, *, points: int = MIN_POINTS, seed: int | None = 0,
           timeout: float | None = DEFAULT_TIMEOUT_S, at: Any = None) -> Verdict:
    """Check ``claim`` = ∂expr/∂wrt (or the gradient, when ``wrt`` lists several variables
    and ``claim`` gives one entry per variable).

    ``expr`` and ``claim`` may be text (plain or LaTeX) or SymPy; a gradient claim may be a
    list, a Matrix, or text like ``"[x*sigma(w*x), sigma(w*x)]"``. The numbers are compared
    at ``points`` (at least 10) random points inside the domain; ``timeout`` bounds the
    symbolic simplification. ``at`` replaces the random points by yours (a dict of
    name -> values, a list of such dicts, or an array in wrt-then-others order); at least
    10 are needed.

    A point where the function, the derivative or the claim is not a finite real number is
    not a sample: when fewer than 10 finite points can be found, the verdict is "cannot
    check" (``ok`` False, ``decided`` False, ``cannot_check`` says why). Abstract functions
    (``f(x)``, ``f'(x)``) are compared symbolically, with random concrete instances standing
    in for the numbers (:mod:`derivekit.numeric.abstract`). Returns a :class:`Verdict`.
    """
    from derivekit.numeric.abstract import abstract_names, realise_derivatives
    from derivekit.numeric.compiled import as_expr, as_expr_list, as_symbols
    from derivekit.numeric.sampling import sample_points

    f = realise_derivatives(as_expr(expr))
    claims = [realise_derivatives(c) for c in as_expr_list(claim, "claim")]
    variables = as_symbols(wrt, [f] + claims)
    if not variables:
        raise DerivekitError("no variable to differentiate with respect to", hint="give wrt, e.g. wrt='x'")
    if len(claims) != len(variables):
        raise DerivekitError(f"the claim has {len(claims)} component(s) but wrt lists {len(variables)} "
                             f"variable(s)", hint="give one derivative per variable, in wrt's order")
    from derivekit.limits import MAX_POINTS
    if int(points) > MAX_POINTS:
        raise LimitError(f"the number of points must be between 1 and {MAX_POINTS}, not {points}",
                         hint=f"{MIN_POINTS} to 1000 random points settle a check")
    n = max(int(points), MIN_POINTS)
    expected, derivation = expected_derivatives(f, variables)
    names = abstract_names([f, *claims])
    if names:
        if at is not None:
            raise DerivekitError(f"{', '.join(names)} has no values, so points cannot be given",
                                 hint="leave at=None: abstract functions are checked symbolically")
        return _verify_abstract(f, claims, variables, expected, derivation, names, n, seed, timeout)
    others = set().union(f.free_symbols, *(c.free_symbols for c in claims)) - set(variables)
    symbols = tuple(variables) + tuple(sorted(others, key=lambda s: s.name))
    remarks = []
    if at is not None:
        from derivekit.numeric.finitediff import _points_from
        pts = _points_from(at, tuple(s.name for s in symbols))
        given = len(pts)
        if given < MIN_POINTS:
            raise DerivekitError(f"verify needs at least {MIN_POINTS} points, got {given}",
                                 hint="give more points, or leave at=None to sample them")
        pts = pts[_finite_rows([f, *expected, *claims], symbols, pts)]
        if len(pts) < given:
            remarks.append(f"{given - len(pts)} of the {given} given points were dropped: the function, "
                           "its derivative or the claim is not a finite real number there")
        if len(pts) < MIN_POINTS:
            return _undecided(f, variables, claims, expected, derivation,
                              f"only {len(pts)} of the {given} given points have the function, its "
                              f"derivative and the claim finite; at least {MIN_POINTS} are needed",
                              remarks=remarks)
        n = len(pts)
    else:
        # a sum with symbolic bounds has no values, but its derivative and the claim may
        sampled = [*expected, *claims] if _has_symbolic_sum(f) else [f, *expected, *claims]
        if len(sampled) < 1 + len(expected) + len(claims):
            remarks.append("the function itself is not evaluated (a sum with symbolic bounds); "
                           "points are drawn where its derivative and the claim are finite")
        try:
            pts = sample_points(sampled, symbols, n, seed=seed)
        except DerivekitError as exc:
            return _undecided(f, variables, claims, expected, derivation,
                              _no_points_reason(f, expected, claims, symbols, n, seed, exc))
    values = Evaluator(symbols, pts)
    components = [_check_component(f, v, c, e, values, timeout)
                  for v, c, e in zip(variables, claims, expected)]
    expected_out = expected[0] if len(variables) == 1 else sp.Matrix(expected)
    claim_out = claims[0] if len(variables) == 1 else sp.Matrix(claims)
    return Verdict(expr=f, wrt=tuple(v.name for v in variables), claim=claim_out,
                   expected=expected_out, derivation=derivation, components=components, n_points=n,
                   remarks=remarks)


# --- abstract functions ----------------------------------------------------------------------

#: random concrete instances tried when the symbolic route cannot show a claim equal
ABSTRACT_INSTANCES = 3


def _diagnose_symbolically(claim: sp.Expr, expected: sp.Expr) -> Diagnosis:
    """The few diagnoses that need no numbers: a constant factor, a missing or extra term."""
    from derivekit.numeric.abstract import derivatives_as_subs
    if claim == 0:
        return Diagnosis("constant_factor", "the claim is 0, but the derivative is not", {"factor": "0"})
    claim, expected = derivatives_as_subs(claim), derivatives_as_subs(expected)
    try:
        ratio = sp.cancel(sp.expand(claim) / sp.expand(expected))
    except (TypeError, ValueError, ZeroDivisionError):
        ratio = None
    if ratio is not None and ratio.is_number and ratio.is_finite and ratio != 1:
        if ratio == -1:
            return Diagnosis("constant_factor", "sign error: the claim is the negative of the derivative",
                             {"factor": "-1"})
        return Diagnosis("constant_factor", f"off by a constant factor: the claim is {show(ratio)} times "
                         "the derivative", {"factor": show(ratio)})
    try:
        lacking = sp.cancel(expected / claim)
    except (TypeError, ValueError, ZeroDivisionError):
        lacking = None
    if lacking is not None and lacking != 1 and lacking in sp.Mul.make_args(expected):
        return Diagnosis("missing_factor", f"missing factor: the derivative has the factor {show(lacking)} "
                         "(a chain-rule factor, if it is an inner derivative), which the claim lacks",
                         {"factor": show(lacking)})
    missing = sp.expand(expected - claim)
    if missing in sp.Add.make_args(sp.expand(expected)):
        return Diagnosis("missing_term", f"missing term: the derivative also has the term {show(missing)}",
                         {"term": show(missing)})
    if -missing in sp.Add.make_args(sp.expand(claim)):
        return Diagnosis("extra_term", f"extra term: {show(-missing)} does not belong in the derivative",
                         {"term": show(-missing)})
    return Diagnosis("other", "the claim differs from the derivative; compare with the expected "
                     "derivative below")


def _instance_check(f, var, claim, expected, instance, n, seed):
    """(agreeing points, n, counterexample or None) for one concrete instance, or None when
    no finite points turn up for it."""
    from derivekit.numeric.abstract import instantiate
    from derivekit.numeric.sampling import sample_points
    fi, ci, ei = (instantiate(e, instance) for e in (f, claim, expected))
    symbols = tuple(sorted(set().union(fi.free_symbols, ci.free_symbols, ei.free_symbols) | {var},
                           key=lambda s: (s != var, s.name)))
    try:
        pts = sample_points([fi, ei, ci], symbols, n, seed=seed)
    except DerivekitError:
        return None
    values = Evaluator(symbols, pts)
    c, e = values(ci), values(ei)
    good = agree(c, e)
    if good.all():
        return int(good.sum()), float(np.max(relative_error(c, e))), None
    rel = relative_error(c, e)
    j = int(np.argmax(rel))
    exact = exact_difference_at(ci, ei, dict(zip(symbols, pts[j])))
    if exact is not None and exact <= 1e-12 * max(1.0, abs(float(e[j]))):
        return int(good.sum()), 0.0, None  # float rounding, not a difference
    return int(good.sum()), float(np.max(rel)), {
        "variable": var.name, "point": values.point(j), "claimed": float(c[j]),
        "expected": float(e[j]), "relative_error": float(rel[j]), "instance": None}


def _verify_abstract(f, claims, variables, expected, derivation, names, n, seed, timeout) -> Verdict:
    """Abstract functions: decide symbolically; concrete instances confirm an equality and
    find a counterexample to a wrong claim."""
    from derivekit.numeric.abstract import Instance
    which = ", ".join(names)
    skipped = (f"{which} {'is an abstract function' if len(names) == 1 else 'are abstract functions'} "
               f"with no values of {'its' if len(names) == 1 else 'their'} own, so the verdict is "
               f"symbolic; the numbers shown replace {which} by random concrete functions")
    components, remarks, base = [], [], int(seed or 0) * 101
    for var, claim, exp in zip(variables, claims, expected):
        symbolic_equal, note = symbolic_difference_is_zero(claim, exp, timeout)
        tried, agreeing, worst, counterexample = 0, n, 0.0, None
        for k in range(1 if symbolic_equal else ABSTRACT_INSTANCES):
            instance = Instance(base + k)
            found = _instance_check(f, var, claim, exp, instance, n, seed)
            if found is None:
                continue
            tried += 1
            good, rel, ce = found
            agreeing, worst = min(agreeing, good), max(worst, rel)
            if ce is not None:
                ce["instance"] = instance.describe(names)
                counterexample = ce
                break
        if counterexample is not None:
            symbolic_equal, note = False, f"a concrete instance of {which} gives different values"
        elif not tried and not symbolic_equal:
            return _undecided(f, variables, claims, expected, derivation,
                              f"{note}, and no concrete instance of {which} could be evaluated",
                              numeric_skipped=skipped)
        elif not tried:
            agreeing = 0
        if symbolic_equal is None and counterexample is None:
            remarks.append(f"∂/∂{var.name}: symbolically undecided ({note}); equal for {tried} random "
                           f"concrete instance(s) of {which} at {n} points each")
        ok = counterexample is None
        components.append(ComponentVerdict(
            variable=var.name, claim=claim, expected=exp, ok=ok, numeric_equal=ok,
            symbolic_equal=symbolic_equal, symbolic_note=note, max_rel_error=worst,
            points_agreeing=agreeing, counterexample=counterexample,
            diagnosis=None if ok else _diagnose_symbolically(claim, exp)))
    return Verdict(expr=f, wrt=tuple(v.name for v in variables),
                   claim=claims[0] if len(variables) == 1 else sp.Matrix(claims),
                   expected=expected[0] if len(variables) == 1 else sp.Matrix(expected),
                   derivation=derivation, components=components, n_points=n,
                   numeric_skipped=skipped, remarks=remarks)
