"""Safe parsing of plain-text and LaTeX math into SymPy: the entry point :func:`parse`.

Two fronts share this module's vocabulary (the function whitelist, constants, Greek
names) and its safe builders (exact numbers, powers with exponent limits):

* plain text goes through an eval-free lark grammar (:mod:`derivekit.parsing.text`);
* LaTeX goes through ``latex2sympy2_extended`` behind derivekit's own normalisation layer
  (:mod:`derivekit.parsing.latex`), imported only when LaTeX is actually parsed.

No user text ever reaches ``eval``, ``exec``, ``sympify`` or ``parse_expr``; SymPy objects
are built directly from validated tokens. Every failure is a :class:`ParseError` carrying
the 0-based character position and a hint; input beyond a safety limit raises
:class:`InputLimitError`, which is both a ``ParseError`` and a ``LimitError``.

See ``docs/parsing.md`` for the grammar in words and worked examples.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Callable

import sympy as sp

from derivekit import limits
from derivekit.errors import DerivekitError, LimitError, ParseError
from derivekit.parsing.functions import (
    elu,
    gelu,
    leaky_relu,
    logsumexp,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
)

__all__ = ["parse", "InputLimitError", "FUNCTIONS", "ABSTRACT_FUNCTION_NAMES", "GREEK_NAMES",
           "Norm", "to_text_source", "NAME_HINTS", "MAX_SUM_TERMS", "make_sum"]

SYNTAXES = ("auto", "text", "latex")


class InputLimitError(ParseError, LimitError):
    """The input is beyond a safety limit (length, nesting, tokens, digits, exponent)."""


#: ``Norm(x)``: the norm ‖x‖, kept abstract (the matrix module gives it vector meaning).
Norm = sp.Function("Norm")


def _log(x, base=None):
    """``log(x)`` is the natural log; ``log(x, b)`` the log to base ``b``."""
    return sp.log(x) if base is None else sp.log(x, base)


def _softmax(index, *zs):
    """``softmax(i, z1, ..., zn)``: the i-th (1-based) output; ``i`` must be an integer."""
    if not zs:
        raise ValueError("softmax(z) of a whole vector is a vector, not a scalar")
    if not (index.is_Integer and 1 <= int(index) <= len(zs)):
        raise ValueError(f"the index must be an integer from 1 to {len(zs)}")
    return softmax(index, *zs)


def heaviside(x, at_zero=sp.S.Zero):
    """H(x): 1 for x > 0, 0 for x < 0, and ``at_zero`` (derivekit's convention: 0, as in
    ReLU′ = H) at the jump."""
    return sp.Heaviside(x, at_zero)


#: the most terms a sum with numeric bounds is expanded into
MAX_SUM_TERMS = 1_000


def make_sum(body, index, low, high):
    """``sum(body, i, low, high)`` = Σ_{i=low}^{high} body.

    Numeric bounds expand the sum (at most :data:`MAX_SUM_TERMS` terms), replacing the index
    in subscripts too (``x_i`` → ``x_1``, ``x_2`` …); symbolic bounds keep a ``Sum``.
    """
    if not index.is_Symbol:
        raise ValueError(f"the summation index must be a name, not {index}")
    if low.is_Integer and high.is_Integer:
        count = int(high) - int(low) + 1
        if count > MAX_SUM_TERMS:
            raise LimitError(f"the sum has {count} terms, over the limit of {MAX_SUM_TERMS}",
                             hint="keep the upper bound symbolic (e.g. n) or sum fewer terms")
        return sp.Add(*[substitute_index(body, index, sp.Integer(k))
                        for k in range(int(low), int(high) + 1)])
    if low.is_Number or high.is_Number:
        if not (low.is_Integer or low.free_symbols) or not (high.is_Integer or high.free_symbols):
            raise ValueError("the bounds of a sum must be integers or symbols")
    return sp.Sum(body, (index, low, high))


_SUBSCRIPT_RE = re.compile(r"^(?P<head>[^_]+)_(?P<sub>\{?[A-Za-z0-9+\-]+\}?)$")


def substitute_index(expr: sp.Basic, index: sp.Symbol, value: sp.Basic) -> sp.Basic:
    """``expr`` with ``index`` = ``value``, in subscripts as well: with i = 2, ``x_i`` → ``x_2``,
    ``w_ij`` → ``w_2j``, ``x_{i+1}`` → ``x_3`` (a subscript is a name's part after ``_``)."""
    name = index.name
    swaps = {}
    for symbol in expr.free_symbols:
        match = _SUBSCRIPT_RE.match(symbol.name) if symbol != index else None
        if match is None:
            continue
        sub = match.group("sub").strip("{}")
        new = _subscript_at(sub, name, value)
        if new is not None and new != sub:
            swaps[symbol] = sp.Symbol(f"{match.group('head')}_{new}")
    return expr.xreplace({**swaps, index: value})


def _subscript_at(sub: str, index: str, value: sp.Basic) -> str | None:
    """A subscript with the index replaced: ``i`` → ``2``, ``ij`` → ``2j``, ``i+1`` → ``3``;
    None when the index is not in it."""
    offset = re.fullmatch(rf"{re.escape(index)}([+-])(\d+)", sub)
    if offset and value.is_Integer:
        shift = int(offset.group(2)) * (1 if offset.group(1) == "+" else -1)
        return str(int(value) + shift)
    if len(index) == 1 and sub.isalnum() and index in sub:
        return sub.replace(index, str(value))
    if sub == index:
        return str(value)
    return None


def _refuse_with(hint: str) -> Callable[..., sp.Basic]:
    def refuse(*args):
        raise _NamedRefusal(hint)
    return refuse


class _NamedRefusal(ValueError):
    """A known name with no scalar meaning: the message is the hint saying what to write."""


#: names people type that have no scalar meaning -> what to write instead
NAME_HINTS = {
    "mse": "the mean squared error is a loss over vectors: write one sample as (y - yhat)^2, "
           "n samples as sum((y_i - yhat_i)^2, i, 1, n)/n, or use the matrix engine: "
           'derivekit matgrad "mean((yhat - y)**2)" --wrt yhat --shapes yhat=nx1,y=nx1',
    "cross_entropy": "write the loss for one example of true class 1 of three logits as "
                     "-log(softmax(1, z1, z2, z3)), or use the matrix engine: derivekit matgrad "
                     '"-sum(y*log(softmax(z)))" --wrt z --shapes z=nx1,y=nx1',
    "crossentropy": "write the loss for one example of true class 1 of three logits as "
                    "-log(softmax(1, z1, z2, z3)), or use the matrix engine: derivekit matgrad "
                    '"-sum(y*log(softmax(z)))" --wrt z --shapes z=nx1,y=nx1',
    "bce": "binary cross-entropy of a label y and a probability p is "
           "-(y*log(p) + (1 - y)*log(1 - p)); from a logit z use p = sigmoid(z)",
    "nll": "the negative log-likelihood of class k is -log(p_k), e.g. "
           "-log(softmax(1, z1, z2, z3)) for class 1 of three logits",
    "sum": "write sum(body, i, 1, n), e.g. sum(x_i^2, i, 1, 3)",
}


def _log_base(base: int) -> Callable[[sp.Basic], sp.Basic]:
    def log_to_base(x):
        return sp.log(x, base)
    log_to_base.__doc__ = f"log{base}(x) = ln(x)/ln({base})."
    return log_to_base


#: whitelisted function name -> (builder, fewest arguments, most arguments or None)
FUNCTIONS: dict[str, tuple[Callable[..., sp.Basic], int, int | None]] = {
    "exp": (sp.exp, 1, 1), "log": (_log, 1, 2), "ln": (sp.log, 1, 1),
    "log10": (_log_base(10), 1, 1), "log2": (_log_base(2), 1, 1),
    "sqrt": (sp.sqrt, 1, 1), "abs": (sp.Abs, 1, 1), "sign": (sp.sign, 1, 1), "sgn": (sp.sign, 1, 1),
    "H": (heaviside, 1, 2), "heaviside": (heaviside, 1, 2), "step": (heaviside, 1, 1),
    "erf": (sp.erf, 1, 1), "gamma": (sp.gamma, 1, 1), "atan2": (sp.atan2, 2, 2),
    "polygamma": (sp.polygamma, 2, 2), "digamma": (sp.digamma, 1, 1),
    "sin": (sp.sin, 1, 1), "cos": (sp.cos, 1, 1), "tan": (sp.tan, 1, 1),
    "cot": (sp.cot, 1, 1), "sec": (sp.sec, 1, 1), "csc": (sp.csc, 1, 1),
    "asin": (sp.asin, 1, 1), "acos": (sp.acos, 1, 1), "atan": (sp.atan, 1, 1),
    "acot": (sp.acot, 1, 1), "asec": (sp.asec, 1, 1), "acsc": (sp.acsc, 1, 1),
    "arcsin": (sp.asin, 1, 1), "arccos": (sp.acos, 1, 1), "arctan": (sp.atan, 1, 1),
    "arccot": (sp.acot, 1, 1), "arcsec": (sp.asec, 1, 1), "arccsc": (sp.acsc, 1, 1),
    "sinh": (sp.sinh, 1, 1), "cosh": (sp.cosh, 1, 1), "tanh": (sp.tanh, 1, 1),
    "coth": (sp.coth, 1, 1), "sech": (sp.sech, 1, 1), "csch": (sp.csch, 1, 1),
    "asinh": (sp.asinh, 1, 1), "acosh": (sp.acosh, 1, 1), "atanh": (sp.atanh, 1, 1),
    "acoth": (sp.acoth, 1, 1), "asech": (sp.asech, 1, 1), "acsch": (sp.acsch, 1, 1),
    "arsinh": (sp.asinh, 1, 1), "arcosh": (sp.acosh, 1, 1), "artanh": (sp.atanh, 1, 1),
    "arcsinh": (sp.asinh, 1, 1), "arccosh": (sp.acosh, 1, 1), "arctanh": (sp.atanh, 1, 1),
    "arcoth": (sp.acoth, 1, 1), "arsech": (sp.asech, 1, 1), "arcsch": (sp.acsch, 1, 1),
    "sigmoid": (sigmoid, 1, 1), "sigma": (sigmoid, 1, 1), "σ": (sigmoid, 1, 1),
    "relu": (relu, 1, 1), "leaky_relu": (leaky_relu, 1, 2), "leakyrelu": (leaky_relu, 1, 2),
    "softplus": (softplus, 1, 1), "silu": (silu, 1, 1), "swish": (silu, 1, 1),
    "gelu": (gelu, 1, 1), "elu": (elu, 1, 2),
    "max": (sp.Max, 1, None), "min": (sp.Min, 1, None),
    "logsumexp": (logsumexp, 1, None), "lse": (logsumexp, 1, None),
    "softmax": (_softmax, 1, None),
    "norm": (lambda v: sp.Abs(v) if v.is_number else Norm(v), 1, 1),  # ‖3‖ = |3|
    "sum": (make_sum, 4, 4),
    **{name: (_refuse_with(hint), 0, None) for name, hint in NAME_HINTS.items() if name != "sum"},
}

#: the matrix engine's spelling of a softmax cross-entropy over a vector z
SOFTMAX_MATRIX_SPELLING = 'derivekit matgrad "-sum(y*log(softmax(z)))" --wrt z --shapes z=nx1,y=nx1'
SOFTMAX_VECTOR_HINT = ("write one output of explicit inputs as softmax(1, z1, z2, z3) (the first of "
                       "three), or use the matrix engine for a vector z, e.g. "
                       + SOFTMAX_MATRIX_SPELLING)

#: whitelisted names that are also ordinary symbols when not called (H for entropy, step)
SYMBOL_TOO = frozenset({"H", "step", "gamma"})

#: names usable as abstract (undefined) functions: f(x), g(x, y), h_1(t), F(x, y) ...
ABSTRACT_FUNCTION_NAMES = frozenset("fghFG")  # H is the step function
_ABSTRACT_RE = re.compile(r"^(?:[fghFG](?:_[A-Za-z0-9]+|\d+)?|H(?:_[A-Za-z0-9]+|\d+))$")
_LOG_BASE_RE = re.compile(r"^log_(\d+|e|[A-Za-z])$")

#: Greek letter names read as single symbols (never split into letters)
GREEK_NAMES = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu "
    "nu xi omicron pi rho sigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega").split()

#: Unicode Greek letters -> their names (so that α and alpha are the same symbol)
UNICODE_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "varepsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "vartheta", "ι": "iota", "κ": "kappa",
    "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron", "ρ": "rho", "σ": "sigma",
    "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
    "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Σ": "Sigma",
    "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}


# --- public entry point ---------------------------------------------------------------

def parse(source: str, syntax: str = "auto", max_chars: int | None = None) -> sp.Basic:
    """Parse ``source`` (plain text or LaTeX) into a SymPy expression.

    ``syntax`` is ``"text"``, ``"latex"`` or ``"auto"`` (LaTeX when the source contains a
    backslash or a braced superscript ``^{``). Raises :class:`ParseError` (with ``position``
    and ``hint``) for anything that cannot be read, and :class:`InputLimitError` for input
    beyond the safety limits.

    ``max_chars`` raises (or lowers) the input cap of :data:`derivekit.limits.MAX_INPUT_CHARS`
    characters for trusted input such as a generated expression, up to
    :data:`derivekit.limits.MAX_CHARS_CEILING`; the token cap and the parse deadline grow
    with it (:func:`derivekit.limits.input_limits`), and a shorter enclosing deadline still
    cuts the work. ``with derivekit.limits.input_cap(n):`` does the same for every parse in
    its body (``dk.gradient("…", …)`` parses its text too).
    """
    if not isinstance(source, str):
        raise ParseError(f"expected a string to parse, got {type(source).__name__}",
                         hint="pass the expression as text, e.g. parse('x^2 + 1')")
    if syntax not in SYNTAXES:
        raise ParseError(f"unknown syntax {syntax!r}", hint="use 'auto', 'text' or 'latex'")
    chars, _ = limits.input_limits(max_chars)
    check_size(source, max_chars)
    seconds = limits.parse_deadline_s(chars)
    if syntax == "latex" or (syntax == "auto" and looks_like_latex(source)):
        from derivekit.parsing.latex import parse_latex
        return _guarded(parse_latex, source, seconds)
    from derivekit.parsing.text import parse_text
    return _guarded(parse_text, source, seconds)


def looks_like_latex(source: str) -> bool:
    """Auto-detection: a backslash, or a braced superscript as in ``e^{x}``."""
    return "\\" in source or "^{" in source


def _guarded(front: Callable[[str], sp.Basic], source: str,
             seconds: float = limits.PARSE_DEADLINE_S) -> sp.Basic:
    """Run a parser front under ``seconds`` (:data:`derivekit.limits.PARSE_DEADLINE_S`, or
    more for a raised input cap; an earlier deadline already running wins); turn any stray
    library exception into a ParseError."""
    try:
        with limits.deadline(seconds):
            expr = front(source)
    except ParseError:
        raise
    except LimitError as exc:
        raise InputLimitError(exc.message, source=source, position=None, hint=exc.hint) from None
    except RecursionError:
        raise InputLimitError("the expression is nested too deeply to read", source=source,
                              position=None,
                              hint=f"keep nesting under {limits.MAX_NESTING} levels") from None
    except Exception as exc:  # noqa: BLE001 - a library failure must not escape as a traceback
        raise ParseError(f"could not read the expression ({type(exc).__name__}: "
                         f"{_first_line(str(exc))})", source=source, position=None,
                         hint="check the syntax; see docs/parsing.md for what is understood"
                         ) from None
    if isinstance(expr, sp.Basic) and expr.has(sp.zoo, sp.nan):
        # log(0), tan(π/2), 0/0 written out: there is no function to differentiate
        raise ParseError("the expression has a part that is not a finite number "
                         f"({'undefined' if expr.has(sp.nan) else 'complex infinity'}), e.g. log(0)",
                         source=source, position=None,
                         hint="remove or change the constant part that is infinite or undefined")
    return expr


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:120]


# --- limits ---------------------------------------------------------------------------

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
TOKEN_RE = re.compile(r"\\[A-Za-z]+|[A-Za-z0-9_.]+|\S")


#: what to write when trusted input is over the cap
RAISE_CAP_HINT = ("split the expression into smaller parts; for trusted input (a generated "
                  "expression) raise the cap: dk.parse(text, max_chars=N), or --max-chars N")


def check_size(source: str, max_chars: int | None = None) -> None:
    """Refuse empty input, and input over the length, token or nesting limits (the caps of
    :func:`derivekit.limits.input_limits`, raised by ``max_chars``).

    Also reports unbalanced brackets with the position of the offending one.
    Runs in linear time before any parser sees the text.
    """
    max_chars, max_tokens = limits.input_limits(max_chars)
    if len(source) > max_chars:
        raise InputLimitError(
            f"the input is {len(source):,} characters long, over the limit of {max_chars:,}",
            source=source, position=max_chars, hint=RAISE_CAP_HINT)
    if not source.strip():
        raise ParseError("the input is empty", source=source, position=0,
                         hint="write an expression, e.g. 'sigmoid(w*x + b)'")
    tokens = 0
    for match in TOKEN_RE.finditer(source):
        tokens += 1
        if tokens > max_tokens:
            raise InputLimitError(
                f"the input has more than {max_tokens:,} tokens", source=source,
                position=match.start(), hint=RAISE_CAP_HINT)
    check_brackets(source)


def check_brackets(source: str) -> None:
    """Check that (), [] and {} balance and nest at most ``MAX_NESTING`` deep."""
    stack: list[tuple[str, int]] = []
    for position, char in enumerate(source):
        if char in _OPENERS:
            if position and source[position - 1] == "\\" and char != "{":
                continue  # \( \[ : LaTeX delimiters, not grouping
            stack.append((char, position))
            if len(stack) > limits.MAX_NESTING:
                raise InputLimitError(
                    f"brackets nest more than {limits.MAX_NESTING} levels deep",
                    source=source, position=position, hint="flatten the expression")
        elif char in _CLOSERS:
            if position and source[position - 1] == "\\" and char != "}":
                continue
            if not stack:
                raise ParseError(f"unmatched closing '{char}'", source=source, position=position,
                                 hint=f"remove it, or add the opening '{_CLOSERS[char]}'")
            opener, where = stack.pop()
            if _OPENERS[opener] != char:
                raise ParseError(f"'{opener}' at position {where} is closed by '{char}'",
                                 source=source, position=position,
                                 hint=f"close it with '{_OPENERS[opener]}'")
    if stack:
        opener, where = stack[-1]
        raise ParseError(f"unclosed '{opener}'", source=source, position=where,
                         hint=f"add the closing '{_OPENERS[opener]}'")


# --- safe builders shared by both fronts ----------------------------------------------

_DECIMAL_RE = re.compile(r"^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")


def make_number(text: str, source: str | None = None, position: int | None = None) -> sp.Rational:
    """Exact SymPy number from a numeral: ``3`` -> Integer, ``0.25`` -> Rational(1, 4),
    ``1e-3`` -> Rational(1, 1000). Digits and the decimal exponent are capped."""
    match = _DECIMAL_RE.match(text)
    if not match or not (match.group(1) or match.group(2)):
        raise ParseError(f"'{text}' is not a number", source=source, position=position,
                         hint="write numbers like 3, 0.25 or 1e-3")
    whole, fraction, exponent = match.group(1).lstrip("0"), match.group(2) or "", match.group(3)
    digits = len(whole) + len(fraction)
    if digits > limits.MAX_NUMBER_DIGITS:
        raise InputLimitError(f"the number has {digits} digits, over the limit of "
                              f"{limits.MAX_NUMBER_DIGITS}", source=source, position=position,
                              hint="use fewer digits, or scientific notation like 1.5e20")
    if exponent is not None and (len(exponent.lstrip("+-0")) > 6
                                 or abs(int(exponent)) > limits.MAX_NUMBER_DIGITS):
        raise InputLimitError(f"the exponent in '{text}' is beyond ±{limits.MAX_NUMBER_DIGITS}",
                              source=source, position=position, hint="use a smaller exponent")
    value = sp.Integer(int(whole or "0"))
    if fraction:
        value += sp.Rational(int(fraction), 10 ** len(fraction))
    if exponent is not None:
        value *= sp.Rational(10) ** int(exponent)
    return value


def safe_pow(base: sp.Basic, exponent: sp.Basic, source: str | None = None,
             position: int | None = None) -> sp.Basic:
    """``base**exponent``, refusing numeric exponents that would blow up.

    A numeric exponent may be at most ``MAX_INTEGER_EXPONENT`` in size, and a power of two
    numbers may have at most ``MAX_POWER_RESULT_DIGITS`` digits, so ``9^9^9^9`` and
    ``(x+1)^(10^10)`` are refused at once rather than computed or expanded.
    """
    if base.is_zero and exponent.is_Number and exponent.is_negative:
        raise ParseError("0 to a negative power divides by zero", source=source,
                         position=position, hint="the base of a negative power must not be 0")
    if exponent.is_Number and exponent.is_finite:
        size = abs(exponent)
        if size > limits.MAX_INTEGER_EXPONENT:
            raise InputLimitError(
                f"the exponent {_short(exponent)} is beyond the limit of "
                f"±{limits.MAX_INTEGER_EXPONENT}", source=source, position=position,
                hint="use a smaller exponent, or keep it symbolic (e.g. x^n)")
        if base.is_Number and base.is_finite and not base.is_zero:
            magnitude = _log10_size(base)
            if magnitude * float(size) > limits.MAX_POWER_RESULT_DIGITS:
                raise InputLimitError(
                    f"{_short(base)}^{_short(exponent)} would have about "
                    f"{int(magnitude * float(size))} digits", source=source, position=position,
                    hint="keep the numbers small, or write the power symbolically")
    return sp.Pow(base, exponent)


def _log10_size(number: sp.Basic) -> float:
    """Roughly how many decimal digits the numerator or denominator of ``number`` has."""
    if not number.is_Rational:
        return 1.0
    p, q = abs(int(number.p)), int(number.q)
    return max(math.log10(p) if p else 0.0, math.log10(q))


def _short(number: sp.Basic) -> str:
    text = str(number)
    return text if len(text) <= 20 else f"{text[:8]}…({len(text)} chars)"


def call_function(name: str, args: list[sp.Basic], source: str | None = None,
                  position: int | None = None) -> sp.Basic:
    """Apply the whitelisted or abstract function ``name`` to ``args``.

    Lookup is case-insensitive for the whitelist (``ReLU``, ``GELU``, ``Max``). A name that
    is neither whitelisted nor an abstract-function name (f, g, h, F, G, H with an optional
    subscript) is an error with a did-you-mean hint. ``log_2(x)`` / ``log_b(x)`` are logs to
    that base.
    """
    refusal = NAME_HINTS.get(name.lower())
    if refusal is not None and name.lower() != "sum":
        raise ParseError(f"'{name}' is not a function of the scalar language", source=source,
                         position=position, hint=refusal)
    if not args:
        raise ParseError(f"{name}() needs an argument", source=source, position=position,
                         hint=f"write {name}(x)")
    entry = FUNCTIONS.get(name) or FUNCTIONS.get(name.lower())
    if entry is None:
        if is_abstract_function_name(name):
            return sp.Function(name)(*args)
        base = _LOG_BASE_RE.match(name)
        if base and len(args) == 1:
            return sp.log(args[0], constant_or_symbol(base.group(1)) if not base.group(1).isdigit()
                          else sp.Integer(base.group(1)))
        raise ParseError(f"unknown function '{name}'", source=source, position=position,
                         hint=unknown_function_hint(name))
    builder, fewest, most = entry
    if len(args) < fewest or (most is not None and len(args) > most):
        raise ParseError(f"{name}() takes {_arity_text(fewest, most)}, got {len(args)}",
                         source=source, position=position,
                         hint=f"call it as {_arity_example(name, fewest, most)}")
    try:
        return builder(*args)
    except DerivekitError:  # a deadline's LimitError is a ValueError too: let it through
        raise
    except (TypeError, ValueError) as exc:
        if name.lower() == "softmax" and len(args) == 1:
            raise ParseError("softmax(z) of a whole vector is a vector, not a scalar",
                             source=source, position=position, hint=SOFTMAX_VECTOR_HINT) from None
        raise ParseError(f"cannot apply {name}() here: {exc}", source=source,
                         position=position, hint=f"call it as {_arity_example(name, fewest, most)}"
                         ) from None


_PRIME_DUMMY_INDEX = 271828


def primed_call(name: str, primes: int, args: list[sp.Basic], source: str | None = None,
                position: int | None = None) -> sp.Basic:
    """``f'(x)``, ``σ''(z)``: the ``primes``-th derivative of a one-argument function.

    With a symbol argument this is ``Derivative(f(x), (x, n))``; with an expression, the
    derivative evaluated there, ``Subs(Derivative(f(u), (u, n)), u, w*x + b)``, as SymPy
    writes it. Both stay unevaluated, like LaTeX's ``\\frac{d}{dx}``.
    """
    if len(args) != 1:
        raise ParseError(f"a prime needs a function of one argument; {name}() has {len(args)}",
                         source=source, position=position,
                         hint=r"for a partial derivative write \frac{\partial}{\partial x} "
                              "in LaTeX, or use dk.derive")
    if primes > 3:
        raise ParseError(f"{primes} primes are hard to read", source=source, position=position,
                         hint="write the order as a derivative, e.g. \\frac{d^4}{dx^4} f(x)")
    argument = args[0]
    if argument.is_Symbol:
        return sp.Derivative(call_function(name, args, source, position), (argument, primes))
    stand_in = sp.Dummy("u", dummy_index=_PRIME_DUMMY_INDEX)  # fixed: equal parses compare equal
    derivative = sp.Derivative(call_function(name, [stand_in], source, position),
                               (stand_in, primes))
    return sp.Subs(derivative, stand_in, argument)


_PARTIAL_DUMMY_INDEX = 314159


def partial_call(index: int, name: str, args: list[sp.Basic], source: str | None = None,
                 position: int | None = None) -> sp.Basic:
    """``∂₁g(p, q)``: the partial derivative of an unknown function in its ``index``-th
    argument, at (p, q). As ``sympy.diff`` writes it: ``Derivative(g(x, q), x)`` when that
    argument is a symbol found nowhere else, else ``Subs(Derivative(g(ξ, q), ξ), ξ, p)``."""
    if not is_abstract_function_name(name):
        raise ParseError(f"∂{index} applies to an unknown function such as g(x, y), not {name}",
                         source=source, position=position,
                         hint="differentiate a known function with derivekit diff / dk.derive")
    if not 1 <= index <= len(args):
        raise ParseError(f"{name} has {len(args)} argument(s), so there is no argument {index}",
                         source=source, position=position,
                         hint=f"write ∂1{name}(...) to ∂{len(args)}{name}(...)")
    argument = args[index - 1]
    others = args[:index - 1] + args[index:]
    function = sp.Function(name)
    if argument.is_Symbol and not any(other.has(argument) for other in others):
        return sp.Derivative(function(*args), argument)
    stand_in = sp.Dummy("xi", dummy_index=_PARTIAL_DUMMY_INDEX + index)
    at = list(args)
    at[index - 1] = stand_in
    return sp.Subs(sp.Derivative(function(*at), stand_in), stand_in, argument)


def is_abstract_function_name(name: str) -> bool:
    """f, g, h, F, G, H, optionally subscripted (``f_1``, ``g2``): abstract functions."""
    return bool(_ABSTRACT_RE.match(name))


def unknown_function_hint(name: str) -> str:
    """'did you mean sigmoid?' (difflib over the whitelist), or what to write instead."""
    close = difflib.get_close_matches(name.lower(), list(FUNCTIONS), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]}?"
    return (f"write {name}*(...) for a product, or use f, g or h for an abstract function "
            "(the known functions are listed in docs/parsing.md)")


def _arity_text(fewest: int, most: int | None) -> str:
    if most == fewest:
        return f"{fewest} argument{'s' if fewest != 1 else ''}"
    if most is None:
        return f"at least {fewest} argument{'s' if fewest != 1 else ''}"
    return f"{fewest} to {most} arguments"


def _arity_example(name: str, fewest: int, most: int | None) -> str:
    examples = {"log": "log(x) or log(x, 2)", "softmax": "softmax(1, z1, z2, z3)",
                "leaky_relu": "leaky_relu(x) or leaky_relu(x, 0.1)", "elu": "elu(x) or elu(x, 1)",
                "max": "max(0, x)", "min": "min(0, x)", "logsumexp": "logsumexp(z1, z2)",
                "sum": "sum(body, i, 1, n), e.g. sum(x_i^2, i, 1, 3)", "atan2": "atan2(y, x)",
                "polygamma": "polygamma(0, x)", "h": "H(x) or H(x, 0)",
                "heaviside": "heaviside(x) or heaviside(x, 0)"}
    return examples.get(name.lower(), f"{name}(x)")


def check_not_bare_function(name: str, source: str | None = None,
                            position: int | None = None) -> None:
    """A whitelisted function name used without brackets (``sin x``, ``log x``) is an error,
    never the symbol ``sin``; ``sigma`` alone is the Greek-letter symbol."""
    if name != "sigma" and name not in SYMBOL_TOO and name not in UNICODE_GREEK.values() and (
            name in FUNCTIONS or name.lower() in FUNCTIONS):
        raise ParseError(f"the function '{name}' needs brackets", source=source,
                         position=position, hint=f"write {name}(x)")


def constant_or_symbol(name: str) -> sp.Basic:
    """``e``/``E`` -> Euler's number, ``pi``/``π`` -> π, ``inf``/``oo``/``∞`` -> ∞;
    any other name -> a plain ``Symbol`` (Unicode Greek letters spelled out)."""
    if name in ("e", "E"):
        return sp.E
    if name in ("pi", "π"):
        return sp.pi
    if name in ("inf", "oo", "∞"):
        return sp.oo
    return sp.Symbol(spell_greek(name))


def spell_greek(name: str) -> str:
    """Replace Unicode Greek letters by their names: ``θ_1`` -> ``theta_1``."""
    if name.isascii():
        return name
    return "".join(UNICODE_GREEK.get(char, char) for char in name)


# --- printing back to plain text ----------------------------------------------------

def to_text_source(expr: sp.Basic) -> str:
    """Plain-text source that :func:`parse` reads back to ``expr`` (SymPy's ``str`` form,
    with ``**`` powers, which the grammar accepts)."""
    return sp.sstr(expr, order="none")


__all__ += ["primed_call", "partial_call", "is_abstract_function_name", "check_not_bare_function", "check_size",
            "check_brackets", "make_number", "safe_pow", "call_function", "constant_or_symbol",
            "unknown_function_hint", "spell_greek", "looks_like_latex"]
