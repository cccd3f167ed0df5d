"""Expression printers for the renderers: Unicode text and LaTeX, sharing one settings dict.

Both printers are SymPy printers (dispatch through ``_print_<Class>``) with two additions:

* **textbook order** — sums put higher-degree terms first and a lone constant last
  (``w·x + b``, ``x² + 2x + 1``) unless every other term is negative (``1 − σ(z)``);
  products put numbers, then symbols, then function values, then brackets
  (``x·σ(z)·(1 − σ(z))``). Passing SymPy's ``order`` setting (``"lex"``, ``"none"`` …)
  turns this off and uses SymPy's order instead.
* **derivative notation** — ``notation="leibniz"`` (d/dx, ∂/∂x) or ``"prime"`` (f′).

Settings follow SymPy's LaTeX printer (``ln_notation``, ``diff_operator``, ``mul_symbol``,
``inv_trig_style`` …); :data:`DEFAULT_SETTINGS` lists the ones the renderers add. Each
printer takes the keys it knows from the shared dict (:func:`printer_settings`).
"""

from __future__ import annotations

import re
import unicodedata

import sympy as sp
from sympy.core.alphabets import greeks
from sympy.printing.conventions import requires_partial, split_super_sub
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

#: Rendering settings beyond SymPy's own printer settings (which are accepted too).
DEFAULT_SETTINGS: dict = {
    "notation": "leibniz",   # "leibniz": d/dx and ∂/∂x; "prime": f′, f″ and ∂ₓ for partials
    "steps": True,           # False: the result only
    "document": False,       # LaTeX: align* for a full document instead of aligned
    "order": None,           # None: textbook term order; else a SymPy order ("lex", "none")
    "width": None,           # text: wrap each step's sentence to this many columns
    "brief": False,          # True: σ, tanh, softplus state their derivative, never derive it
}

NOTATIONS = ("leibniz", "prime")

# --- Unicode tables ------------------------------------------------------------------------

_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ",
                "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))
_SUP = dict(zip("0123456789+-=()niT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ"))
_SUP_CHARS = frozenset(_SUP.values())
_PRIMES = {1: "′", 2: "″", 3: "‴"}
# SymPy's symbol-name modifiers (theta_hat) as combining marks
_MODIFIERS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307",
              "ddot": "\u0308", "vec": "\u20d7"}


def _greek(name: str) -> str | None:
    if name.lower() not in greeks:
        return None
    letter = "LAMDA" if name.lower() == "lambda" else name.upper()
    case = "CAPITAL" if name[0].isupper() else "SMALL"
    try:
        return unicodedata.lookup(f"GREEK {case} LETTER {letter}")
    except KeyError:
        return None


def _script(text: str, table: dict, fallback: str) -> str:
    """``text`` in sub/superscript characters, or ``fallback`` + text where one is missing."""
    if all(ch in table for ch in text):
        return "".join(table[ch] for ch in text)
    return f"{fallback}{text}" if len(text) == 1 else f"{fallback}({text})"


def _modifier_suffix(base: str) -> tuple[str, str]:
    r"""``yhat`` -> (``y``, hat mark), as SymPy's LaTeX printer writes it ``\hat{y}``: one
    letter or Greek name followed by a modifier; anything else is left alone."""
    for modifier in sorted(_MODIFIERS, key=len, reverse=True):
        head = base[:-len(modifier)]
        if base.endswith(modifier) and (len(head) == 1 and head.isalpha()
                                        or head.lower() in greeks):
            return head, _MODIFIERS[modifier]
    return base, ""


def superscript(n: int) -> str:
    return "".join(_SUP[ch] for ch in str(n))


def unicode_symbol_name(name: str) -> str:
    """``u1`` → ``u₁``, ``x_ij`` → ``xᵢⱼ``, ``alpha_1`` → ``α₁``, ``y_hat`` → ``ŷ``; a script
    with no Unicode form stays spelled out (``x_q``)."""
    base, sups, subs = split_super_sub(name)
    marks = ""
    while subs and subs[-1] in _MODIFIERS:  # y_hat: a modifier, not a subscript
        marks += _MODIFIERS[subs.pop()]
    base, suffix_marks = _modifier_suffix(base)
    text = (_greek(base) or base) + suffix_marks + marks
    for sub in subs:
        text += _script(_greek(sub) or sub, _SUB, "_")
    for sup in sups:
        text += _script(sup, _SUP, "^")
    return text


# --- textbook order, shared by both printers -----------------------------------------------

def _degree(term: sp.Basic) -> int:
    """Polynomial-style degree, counting a function value or other atom-like part as 1."""
    if term.is_Number or not term.free_symbols:
        return 0
    if term.is_Mul:
        return sum(_degree(f) for f in term.args)
    if term.is_Add:
        return max(_degree(t) for t in term.args)
    if term.is_Pow and term.exp.is_Integer:
        return max(int(term.exp), 0) * _degree(term.base)
    return 1


def _is_negative(term: sp.Basic) -> bool:
    return term.could_extract_minus_sign()


def _factor_rank(factor: sp.Basic) -> float:
    """Numbers; other constants (√2, π); symbols, their numeric powers and sums of symbols
    (coefficients: ``x``, ``x²``, ``(1 − y)``); symbolic powers (``x^(y − 1)``); function
    values; last, sums holding function values (``x·σ(z)·(1 − σ(z))``)."""
    if factor.is_Number:
        return 0
    if not factor.free_symbols:
        return 0.5
    base = factor.base if factor.is_Pow else factor
    if base.is_Symbol:
        return 1 if not factor.is_Pow or factor.exp.is_Number else 1.5
    if base.is_Add:
        return 3 if base.atoms(sp.Function) else 1
    return 2


class TextbookOrder:
    """Mixin for a SymPy printer: order terms and factors the way a textbook writes them.

    SymPy's own Add/Mul printers consult ``self.order``; it reports ``"none"`` so they keep
    the order handed to them, and the user's choice lives in ``_settings["order"]``.
    """

    @property
    def order(self):
        return "none"

    def _print(self, expr, **kwargs):
        # A derivation prints the same sub-expressions (σ(w·x + b), u₁ …) in many steps;
        # remember each one's string for the life of this printer. Calls with keyword
        # arguments (LaTeX exponents, styles) depend on more than the expression: not cached.
        if kwargs or not isinstance(expr, sp.Basic):
            return super()._print(expr, **kwargs)
        memo = self.__dict__.setdefault("_memo", {})
        key = (type(expr), expr)
        if key not in memo:
            memo[key] = super()._print(expr)
        return memo[key]

    @property
    def _textbook(self) -> bool:
        return self._settings.get("order") is None

    def _as_ordered_terms(self, expr, order=None):
        chosen = order or self._settings.get("order")
        if chosen == "none":
            return list(expr.args)
        if chosen is not None or not expr.is_Add:
            return expr.as_ordered_terms(order=chosen)
        terms = expr.as_ordered_terms()
        constants = [t for t in terms if t.is_Number]
        others = sorted((t for t in terms if not t.is_Number),
                        key=lambda t: (-_degree(t), _is_negative(t)))
        lead_constant = (constants and others and constants[0].is_positive
                         and all(_is_negative(t) for t in others))
        return constants + others if lead_constant else others + constants

    def _ordered_factors(self, expr) -> list:
        factors = expr.as_ordered_factors() if self._settings.get("order") != "none" \
            else list(expr.args)
        if self._textbook:
            factors = sorted(factors, key=_factor_rank)  # stable: SymPy's order within a rank
        return factors


def _partial_of_unknown(expr):
    """(g, k, args) when ``expr`` is the first partial derivative of an unknown function g of
    several arguments in its k-th argument, at ``args``: ``Derivative(g(x, y), x)`` or
    ``Subs(Derivative(g(ξ, y), ξ), ξ, p)``. Printed ∂ₖg(args), which the parser reads back."""
    point = None
    if isinstance(expr, sp.Subs):
        if len(expr.variables) != 1:
            return None
        point, expr = expr.point[0], expr.expr
    if not isinstance(expr, sp.Derivative) or len(expr.variables) != 1:
        return None
    inner, variable = expr.expr, expr.variables[0]
    if not (isinstance(inner, sp.core.function.AppliedUndef) and len(inner.args) > 1):
        return None
    places = [k for k, arg in enumerate(inner.args) if arg == variable]
    if len(places) != 1 or any(arg.has(variable) for k, arg in enumerate(inner.args)
                               if k != places[0]):
        return None
    args = list(inner.args)
    if point is not None:
        args[places[0]] = point
    return inner.func, places[0] + 1, args


def _is_unevaluated(expr) -> bool:
    """A Mul built with evaluate=False keeps its argument order on purpose (SymPy's test)."""
    args = expr.args
    return args[0] is sp.S.One or any(isinstance(a, sp.Number) for a in args[1:])


def _is_held_product(expr) -> bool:
    """A product built with evaluate=False from printed pieces (f′·g in the product rule):
    a factor that is itself a product, or two factors with one base (x·(1/x)), which an
    evaluated Mul never has. Printed factor by factor with a ·, never as "2 x x"."""
    bases = [a.as_base_exp()[0] for a in expr.args if not a.is_Number]
    return any(a.is_Mul for a in expr.args) or len(set(bases)) < len(bases)


def _is_fraction(expr) -> bool:
    """Printed a/b in text: brackets keep x·(1/x) from reading as (x·1)/x."""
    return (expr.is_Rational and not expr.is_Integer) or (
        expr.is_Pow and expr.exp.is_number and expr.exp.is_negative) or (
        expr.is_Mul and sp.fraction(expr)[1] != 1)


def _applied_at(derivative: sp.Derivative):
    """(f, n) when ``derivative`` is the n-th derivative of an abstract function f of one
    argument with respect to that argument. Such a value is printed f⁽ⁿ⁾(a) in either
    notation, as textbooks name an unknown derivative (``f′(g(x))·g′(x)``); the notation
    setting governs the derivative operators of the steps."""
    inner = derivative.expr
    variables = derivative.variables
    if (isinstance(inner, sp.core.function.AppliedUndef) and len(inner.args) == 1
            and len(set(variables)) == 1 and inner.args[0] == variables[0]):
        return inner.func, len(variables)
    return None


# --- Unicode text --------------------------------------------------------------------------

#: inverse trig and hyperbolic functions in text, spelled as the LaTeX printer and the rules'
#: English spell them (arcsin, arsinh); the parser reads these names back
INVERSE_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "acot": "arccot",
                 "asec": "arcsec", "acsc": "arccsc", "asinh": "arsinh", "acosh": "arcosh",
                 "atanh": "artanh", "acoth": "arcoth", "asech": "arsech", "acsch": "arcsch"}


class UnicodeTextPrinter(TextbookOrder, StrPrinter):
    """Terminal-readable math: ``x·σ(w·x + b)·(1 − σ(w·x + b))``, ``x²``, ``√x``, ``u₁``."""

    printmethod = "_derivekit_text"  # not _sympystr, whose ASCII forms we replace
    _default_settings = {**StrPrinter._default_settings, **DEFAULT_SETTINGS,
                         "full_prec": False, "ln_notation": False}

    # atoms
    def _print_Symbol(self, expr):
        return unicode_symbol_name(expr.name)

    _print_Dummy = _print_Symbol

    def _print_Integer(self, expr):
        return str(expr.p).replace("-", "−")

    def _print_Rational(self, expr):
        return f"{expr.p}/{expr.q}".replace("-", "−")

    def _print_Float(self, expr):
        return StrPrinter._print_Float(self, expr).replace("-", "−")

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pi(self, expr):
        return "π"

    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return "−∞"

    def _print_ImaginaryUnit(self, expr):
        return "i"

    # arithmetic
    def _print_Add(self, expr, order=None):
        parts = []
        for term in self._as_ordered_terms(expr, order=order):
            negative = _is_negative(term) and not term.is_Add
            shown = -term if negative else term
            text = self.parenthesize(shown, PRECEDENCE["Add"], strict=True)
            if not parts:
                parts.append(("−" if negative else "") + text)
            else:
                parts.append(("− " if negative else "+ ") + text)
        return " ".join(parts)

    def _print_Mul(self, expr):
        if _is_unevaluated(expr):
            return "·".join(self.parenthesize(a, precedence(expr), strict=False) for a in expr.args)
        if _is_held_product(expr):
            return "·".join(f"({self._print(a)})" if _is_fraction(a) else
                            self.parenthesize(a, PRECEDENCE["Mul"], strict=True)
                            if not a.is_Mul or _is_negative(a) else self._print(a)
                            for a in expr.args)
        if _is_negative(expr):
            positive = -expr
            inner = self._print(positive)
            return f"−({inner})" if positive.is_Add else f"−{inner}"
        numer, denom = [], []
        for factor in self._ordered_factors(expr):
            if factor.is_Rational:
                if factor.p != 1:
                    numer.append(sp.Integer(factor.p))
                if factor.q != 1:
                    denom.append(sp.Integer(factor.q))
            elif factor.is_Pow and factor.exp.is_Number and factor.exp.is_negative:
                denom.append(factor.base if factor.exp == -1 else sp.Pow(factor.base, -factor.exp))
            else:
                numer.append(factor)
        top = self._join_factors(numer) if numer else "1"
        if not denom:
            return top
        bottom = (f"({self._join_factors(denom)})" if len(denom) > 1
                  else self.parenthesize(denom[0], PRECEDENCE["Mul"], strict=True))
        return f"{top}/{bottom}"  # _join_factors has already bracketed a sum on top

    def _join_factors(self, factors) -> str:
        prec = PRECEDENCE["Mul"]
        text = ""
        for i, factor in enumerate(factors):
            piece = self.parenthesize(factor, prec, strict=False)
            # a number coefficient is written against what follows: 2x, 3σ(z), 2(x + 1)
            glue = "" if i == 1 and factors[0].is_Number and (piece[0].isalpha() or piece[0] in "(√") else "·"
            text = piece if i == 0 else text + glue + piece
        return text

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp is sp.S.Half:
            shown = self._print(base)
            return "√" + (shown if _is_one_token(shown) else f"({shown})")
        if exp.is_Number and exp.is_negative:
            return f"1/{self._print(sp.Pow(base, -exp)) if exp != -1 else self.parenthesize(base, PRECEDENCE['Pow'], strict=True)}"
        shown_base = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
        if base.is_Pow and not shown_base.startswith("("):  # (x³)^(3/2), (√x)³: one base
            shown_base = f"({shown_base})"
        if exp.is_Integer:
            return shown_base + superscript(int(exp))
        shown_exp = self._print(exp)
        if not _is_one_token(shown_exp):  # x^(1/√y), x^(3/2): the exponent is bracketed whole
            shown_exp = f"({shown_exp})"
        return f"{shown_base}^{shown_exp}"

    # functions
    def _print_Function(self, expr):
        name = getattr(type(expr), "unicode_name", "") or expr.func.__name__
        args = expr._shown_args() if hasattr(expr, "_shown_args") else expr.args
        return f"{name}({', '.join(self._print(a) for a in args)})"

    def _print_softmax(self, expr):
        return f"softmax({', '.join(self._print(a) for a in expr.inputs)}){_script(str(expr.index), _SUB, '_')}"

    def _print_FunctionClass(self, cls):
        return INVERSE_NAMES.get(cls.__name__) or getattr(cls, "unicode_name", "") or cls.__name__

    def _print_inverse(self, expr):
        return f"{INVERSE_NAMES[type(expr).__name__]}({self._print(expr.args[0])})"

    _print_asin = _print_acos = _print_atan = _print_acot = _print_asec = _print_acsc = _print_inverse
    _print_asinh = _print_acosh = _print_atanh = _print_acoth = _print_asech = _print_acsch = _print_inverse

    def _print_log(self, expr):
        name = "ln" if self._settings["ln_notation"] else "log"
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Heaviside(self, expr):
        return f"H({self._print(expr.args[0])})"

    def _print_sign(self, expr):
        return f"sgn({self._print(expr.args[0])})"

    def _print_MinMaxBase(self, expr):
        return f"{type(expr).__name__.lower()}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Max(self, expr):
        return self._print_MinMaxBase(expr)

    _print_Min = _print_Max

    def _print_Piecewise(self, expr):
        pieces = [f"{self._print(value)} if {self._print(cond)}" if cond is not sp.true
                  else f"{self._print(value)} otherwise" for value, cond in expr.args]
        return "{" + "; ".join(pieces) + "}"

    def _print_Relational(self, expr):
        ops = {"==": "=", "!=": "≠", ">=": "≥", "<=": "≤", ">": ">", "<": "<"}
        return f"{self._print(expr.lhs)} {ops.get(expr.rel_op, expr.rel_op)} {self._print(expr.rhs)}"

    def _print_BooleanTrue(self, expr):
        return "true"

    def _print_And(self, expr):
        return " and ".join(self.parenthesize(a, PRECEDENCE["And"], strict=True) for a in expr.args)

    def _print_Or(self, expr):
        return " or ".join(self.parenthesize(a, PRECEDENCE["Or"], strict=True) for a in expr.args)

    def _print_ITE(self, expr):
        return self._print(expr.to_nnf())  # if-then-else as and/or, which reads back

    def _print_Sum(self, expr):
        """``sum(body, i, 1, n)``, the spelling the text parser reads back."""
        text = self._print(expr.function)
        for index, low, high in expr.limits:  # the first limit is the innermost sum
            text = f"sum({text}, {self._print(index)}, {self._print(low)}, {self._print(high)})"
        return text

    def _print_Derivative(self, expr):
        if applied := _applied_at(expr):
            func, n = applied
            return f"{self._print(func)}{prime_marks(n)}({self._print(expr.variables[0])})"
        if partial := _partial_of_unknown(expr):
            return self._partial_text(*partial)
        d = "∂" if requires_partial(expr.expr) else "d"
        order = sum(int(n) for _, n in expr.variable_count)
        below = "".join(f"{d}{self._print(v)}{superscript(int(n)) if n > 1 else ''}"
                        for v, n in expr.variable_count)
        top = d + (superscript(order) if order > 1 else "")
        return f"{top}/{below} {self.parenthesize(expr.expr, PRECEDENCE['Pow'], strict=True)}"

    def _print_Subs(self, expr):
        inner, old, new = expr.args
        if isinstance(inner, sp.Derivative) and (applied := _applied_at(inner)) and old == (inner.variables[0],):
            func, n = applied
            return f"{self._print(func)}{prime_marks(n)}({self._print(new[0])})"
        if partial := _partial_of_unknown(expr):
            return self._partial_text(*partial)
        where = ", ".join(f"{self._print(o)} = {self._print(n)}" for o, n in zip(old, new))
        return f"[{self._print(inner)}]_({where})"

    def _partial_text(self, func, index, args):
        return f"∂{_script(str(index), _SUB, '_')}{self._print(func)}({', '.join(self._print(a) for a in args)})"

    def _print_MatrixBase(self, expr):
        return "\n".join(matrix_grid([[self._print(e) for e in expr.row(i)] for i in range(expr.rows)]))


def _is_one_token(text: str) -> bool:
    """A name, a number, or one call ``f(…)`` (brackets closing at the end): safe unbracketed
    after ``^``."""
    head = re.match(r"\d+(?![\w.])|[^\W\d_][\w′″‴\u0300-\u036f\u20d7]*", text)
    if head is None or any(ch in _SUP_CHARS for ch in head.group(0)):  # x³ is a power
        return False
    rest = text[head.end():]
    if not rest:
        return True
    if not rest.startswith("("):
        return False
    depth = 0
    for position, char in enumerate(rest):
        depth += (char == "(") - (char == ")")
        if depth == 0:
            return position == len(rest) - 1 or (position == len(rest) - 2 and rest[-1] in _SUB.values())
    return False


def prime_marks(n: int) -> str:
    return _PRIMES.get(n) or f"⁽{superscript(n)}⁾"


def matrix_grid(rows: list[list[str]]) -> list[str]:
    """Lines of a bracketed grid: ⎡a  b⎤ / ⎣c  d⎦, columns left-aligned."""
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))] if rows else []
    lines = []
    for i, row in enumerate(rows):
        left, right = (("[", "]") if len(rows) == 1 else
                       ("⎡", "⎤") if i == 0 else ("⎣", "⎦") if i == len(rows) - 1 else ("⎢", "⎥"))
        lines.append(left + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + right)
    return lines


def derivative_text(expr, var, order, printer, *, partial, notation) -> str:
    """``d/dx x²``, ``∂²/∂w² (w·x + b)``, ``(x²)′`` or ``∂_w(w·x + b)``."""
    body = printer.parenthesize(expr, PRECEDENCE["Pow"], strict=True)
    if expr.is_Pow and expr.exp.is_negative:  # printed as a fraction: d/dx (1/(x + 1))
        body = f"({body})"
    v = printer._print(var)
    power = superscript(order) if order > 1 else ""
    if notation == "prime":
        if partial:
            return f"∂{_script(v, _SUB, '_')}{power} {body}"
        return f"({printer._print(expr)}){prime_marks(order)}" if not expr.is_Atom else f"{body}{prime_marks(order)}"
    d = "∂" if partial else "d"
    if expr.is_Symbol:  # dy/dx, ∂b/∂w: the fraction form textbooks use for a variable
        return f"{d}{power}{body}/{d}{v}{power}"
    return f"{d}{power}/{d}{v}{power} {body}"


# --- LaTeX ---------------------------------------------------------------------------------

class DerivekitLatexPrinter(TextbookOrder, LatexPrinter):
    """SymPy's LaTeX printer with textbook order and prime notation for abstract f′."""

    # \arcsin, \operatorname{arsinh}: the spelling of the text printer and the rules' English
    _default_settings = {**LatexPrinter._default_settings, **DEFAULT_SETTINGS,
                         "inv_trig_style": "full"}

    def _print_Mul(self, expr):
        if _is_unevaluated(expr):
            if any(isinstance(f, sp.Mul) and f.args[0].is_Number and f.args[0].is_positive
                   for f in expr.args[1:]) and not any(
                    f.is_Number or f.is_Pow and f.exp.is_negative for f in expr.args):
                # a held product f·g′ whose second factor starts with a number: x \cdot 2x,
                # never "x 2 x", which reads as x·2·x... or 2x²
                return r" \cdot ".join(self.parenthesize(f, PRECEDENCE["Mul"], strict=False)
                                       for f in expr.args)
            return LatexPrinter._print_Mul(self, expr)
        if _is_held_product(expr):
            return r" \cdot ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=True)
                                   if not a.is_Mul or _is_negative(a) else self._print(a)
                                   for a in expr.args)
        if _is_negative(expr):
            positive = -expr
            inner = self._print(positive)
            return rf"- \left({inner}\right)" if positive.is_Add else f"- {inner}"
        # hand SymPy an unevaluated Mul in our order; self.order == "none" keeps it
        return LatexPrinter._print_Mul(self, sp.Mul(*self._ordered_factors(expr), evaluate=False))

    def _print_FunctionClass(self, cls):
        name = getattr(cls, "latex_name", "")
        return name or LatexPrinter._print_FunctionClass(self, cls)

    def _print_ITE(self, expr):
        return self._print(expr.to_nnf())

    def _print_Heaviside(self, expr, exp=None):
        # SymPy's power printer passes exp= for H(x)^2: the power goes on the H
        body = rf"H\left({self._print(expr.args[0])}\right)"
        return body if exp is None else rf"{body}^{{{exp}}}"

    def _print_Sum(self, expr):
        r"""Nested ``\sum_{j=1}^{m} \sum_{i=1}^{n}`` rather than SymPy's ``\substack`` form."""
        if len(expr.limits) == 1:
            return LatexPrinter._print_Sum(self, expr)
        inner = sp.Sum(expr.function, expr.limits[0])
        for limit in expr.limits[1:-1]:
            inner = sp.Sum(inner, limit)
        index, low, high = expr.limits[-1]
        body = self._print(inner)
        return (rf"\sum_{{{self._print(index)}={self._print(low)}}}^{{{self._print(high)}}} "
                + body)

    def _print_atan2(self, expr, exp=None):
        body = rf"\operatorname{{atan2}}\left({self._print(expr.args[0])}, {self._print(expr.args[1])}\right)"
        return body if exp is None else rf"{body}^{{{exp}}}"

    def _print_Symbol(self, expr, style="plain"):
        # theta_hat -> thetahat, which SymPy prints as \hat{\theta} (as the text printer does)
        base, sups, subs = split_super_sub(expr.name)
        if subs and subs[-1] in _MODIFIERS:
            name = base + "".join(reversed([s for s in subs if s in _MODIFIERS]))
            rest = "".join(f"_{s}" for s in subs if s not in _MODIFIERS)
            return LatexPrinter._print_Symbol(self, sp.Symbol(name + rest), style=style)
        return LatexPrinter._print_Symbol(self, expr, style=style)

    def _print_Derivative(self, expr):
        if applied := _applied_at(expr):
            func, n = applied
            return f"{self._print(func)}{latex_primes(n)}\\left({self._print(expr.variables[0])}\\right)"
        if partial := _partial_of_unknown(expr):
            return self._partial_latex(*partial)
        return LatexPrinter._print_Derivative(self, expr)

    def _partial_latex(self, func, index, args):
        shown = ", ".join(self._print(a) for a in args)
        return rf"\partial_{{{index}}} {self._print(func)}\left({shown}\right)"

    def _print_Subs(self, expr):
        inner, old, new = expr.args
        if isinstance(inner, sp.Derivative) and (applied := _applied_at(inner)) and old == (inner.variables[0],):
            func, n = applied
            return f"{self._print(func)}{latex_primes(n)}\\left({self._print(new[0])}\\right)"
        if partial := _partial_of_unknown(expr):
            return self._partial_latex(*partial)
        return LatexPrinter._print_Subs(self, expr)


def latex_primes(n: int) -> str:
    return "'" * n if n <= 3 else f"^{{({n})}}"


def derivative_latex(expr, var, order, printer, *, partial, notation) -> str:
    r"""``\frac{d}{dx} x^{2}``, ``\frac{\partial^{2}}{\partial w^{2}} \left(w x + b\right)``, primes."""
    # a lone fraction is its own bracket: \frac{d}{dx} \frac{\log x}{x}
    lone_fraction = expr.is_Mul and not _is_negative(expr) and sp.fraction(expr)[1] != 1
    body = printer._print(expr) if lone_fraction else \
        printer.parenthesize(expr, PRECEDENCE["Pow"], strict=True)
    v = printer._print(var)
    if notation == "prime":
        if partial:
            power = f"^{{{order}}}" if order > 1 else ""
            return rf"\partial_{{{v}}}{power} {body}"
        inner = printer._print(expr)
        shown = inner if expr.is_Atom else rf"\left({inner}\right)"
        return shown + latex_primes(order)
    d = r"\partial" if partial else printer._settings["diff_operator_latex"]
    top = d if order == 1 else f"{d}^{{{order}}}"
    bottom = f"{d} {v}" if order == 1 else f"{d} {v}^{{{order}}}"
    if expr.is_Symbol:  # \frac{dy}{dx}: the fraction form textbooks use for a variable
        return rf"\frac{{{top} {body}}}{{{bottom}}}"
    return rf"\frac{{{top}}}{{{bottom}}} {body}"


# --- the shared settings dict --------------------------------------------------------------

def printer_settings(printer_class, settings: dict) -> dict:
    """The keys of the shared settings dict that ``printer_class`` understands."""
    return {k: v for k, v in settings.items() if k in printer_class._default_settings}


def check_settings(settings: dict) -> dict:
    """Validate rendering settings; return them merged over :data:`DEFAULT_SETTINGS`."""
    from derivekit.errors import DerivekitError

    known = set(UnicodeTextPrinter._default_settings) | set(DerivekitLatexPrinter._default_settings)
    unknown = sorted(set(settings) - known)
    if unknown:
        raise DerivekitError(f"unknown rendering setting {unknown[0]!r}",
                             hint="known settings: " + ", ".join(sorted(known)))
    merged = {**DEFAULT_SETTINGS, **settings}
    if merged["notation"] not in NOTATIONS:
        raise DerivekitError(f"unknown notation {merged['notation']!r}",
                             hint="use notation='leibniz' or notation='prime'")
    return merged


def text_printer(settings: dict) -> UnicodeTextPrinter:
    return UnicodeTextPrinter(printer_settings(UnicodeTextPrinter, settings))


def latex_printer(settings: dict) -> DerivekitLatexPrinter:
    return DerivekitLatexPrinter(printer_settings(DerivekitLatexPrinter, settings))


def to_text(expr, **settings) -> str:
    """Unicode text of ``expr`` (settings as in :data:`DEFAULT_SETTINGS` and SymPy's)."""
    return text_printer(check_settings(settings)).doprint(expr)


def to_latex(expr, **settings) -> str:
    """LaTeX of ``expr`` with the renderers' conventions."""
    return latex_printer(check_settings(settings)).doprint(expr)


# --- prose inside LaTeX math ---------------------------------------------------------------

# characters safe inside \text{} for MathJax, KaTeX and pdflatex alike
_TEXT_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'()[]-/+=*@`\"")
_MATH_FOR_CHAR = {
    "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\sim", "^": r"\hat{}", "\\": r"\backslash", "<": "<", ">": ">", "|": "|",
    "′": "'", "″": "''", "‴": "'''", "−": "-", "·": r"\cdot", "×": r"\times", "→": r"\to",
    "←": r"\leftarrow", "⇒": r"\Rightarrow", "≤": r"\le", "≥": r"\ge", "≠": r"\ne",
    "≈": r"\approx", "∞": r"\infty", "∂": r"\partial", "∇": r"\nabla", "√": r"\surd",
    "Σ": r"\Sigma", "∑": r"\sum", "∈": r"\in", "⊙": r"\odot", "⊤": r"\top", "…": r"\dots",
    "δ": r"\delta", "–": "-", "—": "-", "∘": r"\circ", "±": r"\pm", "ᵀ": r"^{T}",
}
_MATH_FOR_CHAR.update({sup: f"^{{{ch}}}" for ch, sup in _SUP.items()})
_MATH_FOR_CHAR.update({sub: f"_{{{ch}}}" for ch, sub in _SUB.items() if ch.isascii()})


def _math_for_char(ch: str) -> str:
    if ch in _MATH_FOR_CHAR:
        return _MATH_FOR_CHAR[ch]
    name = unicodedata.name(ch, "")
    if name.startswith("GREEK") and "LETTER" in name:
        letter = name.split("LETTER ")[-1].lower().replace("lamda", "lambda")
        if letter in greeks:
            return "\\" + (letter.capitalize() if "CAPITAL" in name else letter)
    tag, _, _ = unicodedata.decomposition(ch).partition(" ")
    if tag in ("<super>", "<sub>"):  # ᵘ, ᵢ, ⱼ: modifier letters as real scripts
        base = unicodedata.normalize("NFKD", ch)
        inner = base if base.isascii() else _math_for_char(base)
        return ("^" if tag == "<super>" else "_") + "{" + inner + "}"
    return rf"\text{{{ch}}}"  # e.g. accented letters: fine with LaTeX's UTF-8 input


#: combining marks (as in X̂, m̂, v̄) -> the LaTeX math accent placed over the letter before
COMBINING_ACCENTS = {"\u0300": r"\grave", "\u0301": r"\acute", "\u0302": r"\hat",
                     "\u0303": r"\tilde", "\u0304": r"\bar", "\u0306": r"\breve",
                     "\u0307": r"\dot", "\u0308": r"\ddot", "\u030c": r"\check",
                     "\u20d7": r"\vec"}


#: a power written in prose, e^(−x²): its exponent becomes a LaTeX superscript
_SUPERSCRIPT = re.compile(r"\^\(([^()]*)\)")


def latex_prose(text: str) -> str:
    r"""English for use in math mode: ``\text{…}`` runs, with special and non-ASCII
    characters as math (``σ′`` → ``\sigma '``, ``X̂`` → ``\hat{X}``), so no engine needs
    ``$`` inside ``\text``. ``e^(zᵢ)`` is a superscript, never ``e \wedge (z_i)``."""
    pieces = _SUPERSCRIPT.split(text)
    if len(pieces) > 1:
        return _join_scripts("".join(latex_prose(piece) if k % 2 == 0
                                     else "^{" + latex_prose(piece) + "}"
                                     for k, piece in enumerate(pieces) if piece))
    out, run = [], ""
    for i, ch in enumerate(text):
        if ch in COMBINING_ACCENTS:
            continue  # placed over its letter below
        accent = COMBINING_ACCENTS.get(text[i + 1]) if i + 1 < len(text) else None
        if ch in _TEXT_SAFE and accent is None:
            run += ch
            continue
        if run:
            out.append(rf"\text{{{run}}}")
            run = ""
        macro = ch if accent and ch.isascii() and ch.isalpha() else _math_for_char(ch)
        if accent:
            macro = rf"{accent}{{{macro}}}"
        # a control word must not run into the letters of what follows (\pm x, not \pmx)
        out.append(macro + " " if re.search(r"\\[a-zA-Z]+$", macro) else macro)
    if run:
        out.append(rf"\text{{{run}}}")
    return _join_scripts("".join(out))


def _join_scripts(tex: str) -> str:
    r"""``_{1}_{2}`` → ``_{12}`` (two scripts in a row are a LaTeX error: "Double subscript")."""
    for mark in ("_", "^"):
        pattern = re.compile(re.escape(mark) + r"\{([^{}]*)\}" + re.escape(mark) + r"\{([^{}]*)\}")
        while pattern.search(tex):
            tex = pattern.sub(lambda m: f"{mark}{{{m.group(1)}{m.group(2)}}}", tex)
    return tex


_ADJACENT_TEXT = re.compile(r"\\text\{([^{}]*)\}\\text\{([^{}]*)\}")


def merge_text_runs(tex: str) -> str:
    r"""``\text{a }\text{b}`` → ``\text{a b}`` (runs from :func:`latex_prose` hold no braces)."""
    merged = _ADJACENT_TEXT.sub(r"\\text{\1\2}", tex)
    while merged != tex:
        tex, merged = merged, _ADJACENT_TEXT.sub(r"\\text{\1\2}", merged)
    return merged


# --- a formula written in Unicode, as LaTeX math ---------------------------------------------

#: words LaTeX has a macro for; any other word of two or more letters is an operator name
_LATEX_FUNCTION_WORDS = frozenset(
    "sin cos tan cot sec csc sinh cosh tanh coth arcsin arccos arctan log ln exp max min det "
    "lim sup inf".split())

#: characters that :func:`unicode_math_latex` treats as opaque atoms (a caller's placeholders)
PLACEHOLDER_BASE = 0xE000

_BRACKETS = {"(": ")", "[": "]"}


def _bracket_pairs(text: str) -> dict[int, int]:
    """Opening index -> closing index of the brackets that match; unmatched ones pair with
    nothing and are printed as they are."""
    pairs, stack = {}, []
    for i, ch in enumerate(text):
        if ch in _BRACKETS:
            stack.append(i)
        elif ch in _BRACKETS.values():
            if stack and _BRACKETS[text[stack[-1]]] == ch:
                pairs[stack.pop()] = i
            else:
                stack.clear()
    return pairs


def _is_placeholder(ch: str) -> bool:
    return PLACEHOLDER_BASE <= ord(ch) < PLACEHOLDER_BASE + 0x1000


def unicode_math_latex(text: str, atoms: dict[str, str] | None = None,
                       compound: frozenset[str] = frozenset(), sized: bool = True) -> str:
    r"""A formula written in Unicode, as in the rules' English (``σ(1 − σ)``, ``1/√(1 − x²)``,
    ``cosh² − sinh² = 1``), as LaTeX math: brackets ``\left( \right)``, ``√(…)`` a
    ``\sqrt{}``, scripts ``^{}``/``_{}``, ``·`` a ``\cdot``, words as ``\tanh`` or
    ``\operatorname{…}``. ``atoms`` maps placeholder characters (from
    :data:`PLACEHOLDER_BASE` on) to LaTeX put in as it is; those in ``compound`` get brackets
    when a script follows them (``(x + 1)²``, never the double script ``x^{2}^{2}``).
    ``sized=False`` keeps plain brackets, inside which inline math may break across lines."""
    atoms = atoms or {}
    pairs = _bracket_pairs(text)
    left, right = (r"\left", r"\right") if sized else ("", "")

    def script_target(i: int, end: int) -> tuple[str, int]:
        """The LaTeX of what ``^``/``_``/``√`` at i−1 applies to, and where it ends."""
        if i < end and text[i] in _BRACKETS and i in pairs and pairs[i] < end:
            return convert(i + 1, pairs[i]), pairs[i] + 1
        j = i
        if j < end and _is_placeholder(text[j]):
            return atoms.get(text[j], ""), j + 1
        while j < end and text[j].isascii() and text[j].isalnum():
            j += 1
        return convert(i, j), j

    def convert(start: int, end: int) -> str:
        out, i = [], start
        while i < end:
            ch = text[i]
            if ch == "√" and i + 1 < end:
                body, i = script_target(i + 1, end)
                out.append(rf"\sqrt{{{body}}}")
            elif ch in "^_" and i + 1 < end:
                body, i = script_target(i + 1, end)
                out.append(f"{ch}{{{body}}}")
            elif ch in _BRACKETS and i in pairs and pairs[i] < end:
                close = pairs[i]
                out.append(f"{left}{ch}{convert(i + 1, close)}{right}{text[close]}")
                i = close + 1
            elif _is_placeholder(ch):
                tex = atoms.get(ch, "")
                follows = text[i + 1] if i + 1 < end else ""
                scripted = bool(follows) and (follows in "^′″‴" or follows in _SUP_CHARS)
                out.append(f"{left}({tex}{right})" if scripted and ch in compound else tex)
                i += 1
            elif ch.isascii() and ch.isalpha():
                j = i
                while j < end and text[j].isascii() and text[j].isalpha():
                    j += 1
                word = text[i:j]
                out.append(word if len(word) == 1 else
                           rf"\{word} " if word in _LATEX_FUNCTION_WORDS else
                           rf"\operatorname{{{word}}}")
                i = j
            elif ch.isascii() and (ch.isdigit() or ch in " .,;:=+-/<>|!'*"):
                out.append(ch)
                i += 1
            else:
                macro = _math_for_char(ch)
                out.append(macro + " " if re.search(r"\\[a-zA-Z]+$", macro) else macro)
                i += 1
        return "".join(out)

    return _join_scripts(convert(0, len(text))).strip()
