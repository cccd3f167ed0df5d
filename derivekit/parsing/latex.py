r"""LaTeX -> SymPy: latex2sympy2_extended behind derivekit's deep-learning normalisation.

Three stages:

1. **Rewrite** the LaTeX text (:func:`rewrite_latex`) into the subset latex2sympy reads
   reliably: spacing and ``\left``/``\right`` dropped; ``\mathbf{w}``/``\boldsymbol{\theta}``
   unwrapped; ``\hat{y}`` -> symbol ``yhat`` (``\bar``, ``\tilde`` likewise); ``\frac12`` ->
   ``\frac{1}{2}``; transposes ``^\top``/``^T`` dropped (scalar reading); ``\odot`` -> product;
   bare ``\log`` -> natural log; ``\sum_i`` without bounds -> bounds ``1..N_i``; norms
   ``\|x\|`` -> ``Norm(x)``. Function calls that latex2sympy would misread — ``\sigma(...)``
   (the sigmoid), ``\operatorname{ReLU}(...)``, ``\mathrm{softplus}(...)``, abstract
   ``f(...)``, ``g(...)``, ``h(...)`` — are converted here, argument by argument, and stand in
   the text as placeholder symbols.
2. **Convert** with ``latex2sympy(..., ConversionConfig(lowercase_symbols=False))`` under
   ``sympy.evaluate(False)``, so that nothing (e.g. ``9^{9^{9^9}}``) is computed yet.
3. **Rebuild** the tree bottom-up (:func:`finish`), evaluating through derivekit's safe
   builders: placeholder symbols become their functions, ``w_{ij}`` -> ``w_ij``, decimals
   become exact rationals, ``\gamma`` is the symbol ``gamma`` (not Euler's constant),
   powers go through :func:`derivekit.parsing.parse.safe_pow`, and every symbol name is checked.

Text inside ``\text{}``, ``\mathrm{}`` and ``\operatorname{}`` must be a plain name; quotes,
dunders and the like are refused before latex2sympy sees them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp
from sympy.core.function import AppliedUndef

from derivekit import limits
from derivekit.errors import DerivekitError, ParseError
from derivekit.parsing.parse import (
    FUNCTIONS,
    GREEK_NAMES,
    SOFTMAX_MATRIX_SPELLING,
    SOFTMAX_VECTOR_HINT,
    InputLimitError,
    Norm,
    call_function,
    is_abstract_function_name,
    make_number,
    make_sum,
    partial_call,
    primed_call,
    safe_pow,
    unknown_function_hint,
)

#: DL function names accepted after \operatorname / \mathrm / \text (lower-cased lookup)
_LATEX_FUNCTION_ALIASES = {"lse": "logsumexp", "leakyrelu": "leaky_relu", "σ": "sigmoid"}

_SPACING = re.compile(r"(?<!\\)\\(?:[,;:! ]|(?:quad|qquad|displaystyle|textstyle|scriptstyle|"
                      r"[bB]igg?[lrm]?)(?![A-Za-z]))|~")
_LEFT_RIGHT = re.compile(r"\\(?:left|right)(?![A-Za-z])\s*(\\[A-Za-z]+|\\\||\\\{|\\\}|.)")
_TRANSPOSE = re.compile(r"\^\s*(?:\\top|\\intercal|\{\s*(?:\\top|\\intercal|T|\\mathsf\{T\}|"
                        r"\\mathrm\{T\})\s*\}|T(?![A-Za-z0-9]))")
_FRAC_SHORT = [
    (re.compile(r"\\[dt]?frac\s*([0-9A-Za-z])\s*([0-9A-Za-z])"), r"\\frac{\1}{\2}"),
    (re.compile(r"\\[dt]?frac\s*([0-9A-Za-z])\s*(?=\{)"), r"\\frac{\1}"),
    (re.compile(r"\\[dt]frac(?![A-Za-z])"), r"\\frac"),
    (re.compile(r"\\sqrt\s*([0-9A-Za-z])"), r"\\sqrt{\1}"),
]
_SUM_NO_BOUNDS = re.compile(
    r"\\sum\s*_\s*(?:\{\s*([A-Za-z](?:_[A-Za-z0-9])?)\s*\}|([A-Za-z]))(?!\s*\^)")
# linear time: no two quantifiers here can match the same characters (spaces are trimmed in
# code), so a long run of spaces cannot make the pattern backtrack polynomially
_HIGHER_DERIVATIVE = re.compile(
    r"\\frac\s*\{\s*(\\partial|d)\s*\^\s*(?:\{\s*(\d+)\s*\}|(\d+))([^{}]*)\}\s*\{([^{}]*)\}")
_DENOMINATOR_VARIABLE = re.compile(
    r"\s*(?:\\partial|d)\s*(\\[A-Za-z]+|[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?)"
    r"(?:\s*\^\s*\{?\s*(\d+)\s*\}?)?")
_COMPOUND_DENOMINATOR = re.compile(  # \frac{\partial ...}{\partial VAR}, \frac{d ...}{d VAR}
    r"(\\frac\s*\{\s*(\\partial|d)(?:[^{}]|\{[^{}]*\})*\}\s*)"
    r"\{\s*\2\s*([A-Za-z\\](?:[^{}]|\{[^{}]*\})*)\}")  # the variable's spaces: trimmed in code
_NUMBER_OR_SKIP = re.compile(
    r"(\\(?:text|textrm|textit|mbox|mathrm|operatorname)\s*\{[^{}]*\}|\\[A-Za-z]+|"
    r"_\s*\{[^{}=]*\}|_\s*[A-Za-z0-9])|(\d+(?:\.\d*)?|\.\d+)")
_LAYER_INDEX = re.compile(  # a^{[l]}, z^{(i)}, \mathbf{W}^{[2]}_{jk}, \hat{y}^{(i)}
    r"(?<!\\)(\\(?:hat|bar|tilde|mathbf|boldsymbol|bm|vec)\s*\{\s*\\?[A-Za-z]+\s*\}|"
    r"\\[A-Za-z]+|[A-Za-z])"
    r"(\s*_\s*(?:\{\s*[A-Za-z0-9]+\s*\}|[A-Za-z0-9]))?"
    r"\s*\^\s*\{\s*([(\[])\s*([A-Za-z0-9+\-]+)\s*([)\]])\s*\}"
    r"(\s*_\s*(?:\{\s*[A-Za-z0-9]+\s*\}|[A-Za-z0-9]))?")
_NORM_BARS = re.compile(r"\\\||\\[lr]?Vert(?![A-Za-z])")
_FORBIDDEN = re.compile(r"__|[\"'`#@?]")
_PRIME_BEFORE_CALL = re.compile(r"(?<=[A-Za-z}])'+(?=\s*(?:\(|\\left|\{|\^))")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_WRAPPERS = ("mathbf", "boldsymbol", "bm", "vec", "mathit", "mathnormal", "mathsf", "pmb",
             "mathcal", "mathscr", "mathfrak")
_ACCENTS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
            "widetilde": "tilde"}
#: commands converted by derivekit when brackets follow: \sigma(z) is the sigmoid, and the
#: standard functions are read here so that SymPy's printed \sin{\left(x \right)} y is
#: sin(x)*y (latex2sympy would read sin(x*y)), and nested \max(a, \max(b, c)) works
_CALLABLE_COMMANDS = {
    "sigma": "sigmoid", "exp": "exp", "ln": "ln", "log": "log", "sqrt": "sqrt",
    "sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos",
    "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "max": "max",
    "min": "min", "cot": "cot", "sec": "sec", "csc": "csc", "coth": "coth", "Gamma": "gamma",
}
_PARTIAL_INDEX = re.compile(r"\s*_\s*(?:\{\s*(\d)\s*\}|(\d))\s*([fghFG])(?![A-Za-z])")
_CALL_SUBSCRIPT = re.compile(r"\s*_\s*(?:\{\s*([^{}]*?)\s*\}|([A-Za-z0-9]))")
_CALL_POWER = re.compile(r"\s*\^\s*(\{|\\[A-Za-z]+|[0-9A-Za-z])")
_NAME_COMMANDS = ("operatorname", "mathrm", "text", "textrm", "textit", "mbox")
_SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_(?:[A-Za-z0-9]+|\{[A-Za-z0-9+\-*, ]+\}))?$")
_PLACEHOLDER = "dkph"
_PLACEHOLDER_RE = re.compile(rf"{_PLACEHOLDER}\d+x")
_SUM_LOW, _SUM_HIGH = "dklo", "dkhi"
_RESERVED = re.compile(rf"{_PLACEHOLDER}|{_SUM_LOW}|{_SUM_HIGH}")


@dataclass
class _Context:
    """Placeholders created while rewriting one LaTeX source."""
    source: str
    placeholders: dict[str, sp.Basic] = field(default_factory=dict)

    def spare_letter(self) -> str:
        """A capital letter used nowhere in the source (for latex2sympy's d/dx)."""
        used = set(self.source) | set(self.placeholders)
        for letter in "QZYXVUTSRPONMLKJHGFDCBA":
            if letter not in used:
                return letter
        raise ParseError("too many different derivative variables", source=self.source,
                         position=None, hint="split the expression")

    def hold(self, expr: sp.Basic) -> str:
        name = f"{_PLACEHOLDER}{len(self.placeholders)}x"
        self.placeholders[name] = expr
        return rf" \text{{{name}}} "


def parse_latex(source: str) -> sp.Basic:
    """Parse LaTeX ``source`` (limits already checked by ``parse``) into SymPy."""
    _refuse_forbidden(source)
    _check_latex_size(source)
    context = _Context(source)
    result = _convert(strip_math_delimiters(source), context)
    _check_result_kind(result, source)
    return result


_DISPLAY_WRAPPERS = [
    (re.compile(r"^\$\$(.*)\$\$$", re.S), 1), (re.compile(r"^\$(.*)\$$", re.S), 1),
    (re.compile(r"^\\\[(.*)\\\]$", re.S), 1), (re.compile(r"^\\\((.*)\\\)$", re.S), 1),
    (re.compile(r"^\\begin\{(equation|displaymath|math)\*?\}(.*)\\end\{\1\*?\}$", re.S), 2),
]
_TRAILING_TAILS = ("\\quad", "\\,", "\\;", "\\:", "\\!", "\\ ", ".", ",", ";")


def _strip_trailing_punctuation(text: str) -> str:
    """``text`` without trailing spaces, ``.``, ``,``, ``;`` and spacing commands. A loop
    from the end, not a regex with ``$``: that one retried from every space of a long run."""
    while True:
        tail = next((t for t in _TRAILING_TAILS if text.endswith(t)), None)
        if tail is not None:
            text = text[:-len(tail)]
        elif text[-1:].isspace():
            text = text.rstrip()
        else:
            return text


def strip_math_delimiters(latex: str) -> str:
    r"""Remove what surrounds a formula in notes: ``$...$``, ``$$...$$``, ``\[...\]``,
    ``\(...\)``, ``\begin{equation}...\end{equation}``, and a trailing ``.``/``,``."""
    text = latex.strip()
    changed = True
    while changed:
        changed = False
        for pattern, group in _DISPLAY_WRAPPERS:
            match = pattern.match(text)
            if match:
                text, changed = match.group(group).strip(), True
        stripped = _strip_trailing_punctuation(text)
        if stripped != text:
            text, changed = stripped, True
    return text


def _check_latex_size(source: str) -> None:
    """LaTeX has tighter limits than plain text: ANTLR and latex2sympy's recursive converter
    slow down (and run out of stack) on long or deep input, so cap tokens and all brackets."""
    from derivekit.parsing.parse import TOKEN_RE
    for count, match in enumerate(TOKEN_RE.finditer(source), start=1):
        if count > limits.MAX_LATEX_TOKENS:
            raise InputLimitError(f"the LaTeX has more than {limits.MAX_LATEX_TOKENS} tokens",
                                  source=source, position=match.start(),
                                  hint="split it, or write long expressions in plain text "
                                       f"(up to {limits.MAX_TOKENS} tokens)")
    depth, deepest_at = 0, None
    for position, char in enumerate(source):
        if char in "({[":
            depth += 1
            if depth > limits.MAX_LATEX_NESTING:
                deepest_at = position
                break
        elif char in ")}]":
            depth -= 1
    if deepest_at is not None:
        raise InputLimitError(f"LaTeX brackets and braces nest more than "
                              f"{limits.MAX_LATEX_NESTING} levels deep", source=source,
                              position=deepest_at, hint="flatten the expression")


def _check_result_kind(result, source: str) -> None:
    """Only expressions, equations and matrices are results; not sets or truth values."""
    from sympy.matrices import MatrixBase
    if isinstance(result, (sp.Expr, sp.Equality, MatrixBase)):
        return
    raise ParseError(f"the LaTeX reads as a {type(result).__name__}, not an expression",
                     source=source, position=None,
                     hint="write an expression, an equation a = b, or a matrix")


def _refuse_forbidden(source: str) -> None:
    reserved = _RESERVED.search(source)
    if reserved:
        raise ParseError(f"'{reserved.group(0)}' is reserved for derivekit's own use",
                         source=source, position=reserved.start(), hint="rename that symbol")
    allowed = {index for prime in _PRIME_BEFORE_CALL.finditer(source)
               for index in range(prime.start(), prime.end())}
    match = next((m for m in _FORBIDDEN.finditer(source) if m.start() not in allowed), None)
    if match:
        char = match.group(0)
        hint = ("quotes are not math input; a prime marks a derivative only on a function "
                "call, as in f'(x) or \\sigma'(z)" if char == "'"
                else "quotes, dunders and other code-like characters are not part of math input")
        raise ParseError(f"unexpected {char!r} in LaTeX", source=source, position=match.start(),
                         hint=hint)


def _convert(latex: str, context: _Context) -> sp.Basic:
    """Rewrite, convert with latex2sympy, and rebuild one LaTeX fragment."""
    rewritten = rewrite_latex(latex, context)
    if not rewritten.strip():
        raise ParseError("the LaTeX is empty", source=context.source, position=0,
                         hint=r"write an expression, e.g. \sigma(wx + b)")
    raw = _latex2sympy(rewritten, context)
    return finish(raw, context)


def _latex2sympy(latex: str, context: _Context):
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig, latex2sympy
    config = ConversionConfig(lowercase_symbols=False, interpret_as_mixed_fractions=False)
    try:
        with sp.evaluate(False):
            return latex2sympy(latex, normalization_config=None, conversion_config=config)
    except (DerivekitError, RecursionError):  # ours, a deadline, or too deep
        raise
    except Exception as exc:  # noqa: BLE001 - antlr/latex2sympy failures become ParseErrors
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        unknown = _unknown_command(context.source)
        if unknown is not None:
            command, position = unknown
            raise ParseError(f"unknown LaTeX command \\{command}", source=context.source,
                             position=position, hint=_command_hint(command)) from None
        raise ParseError(f"could not read the LaTeX ({message})", source=context.source,
                         position=_marker_position(str(exc), latex, context.source),
                         hint=r"check braces and commands; see docs/parsing.md for the "
                              r"supported notation") from None


#: further commands that are fine to pass on (relations, dots, fonts latex2sympy reads)
_PASS_THROUGH_COMMANDS = set(
    "to pm mp binom leq geq neq approx le ge ne ell mathbb dot ddot prime cdots ldots dots "
    "arg deg bmod pmod exists forall cap cup emptyset rightarrow mapsto implies iff dagger "
    "star oplus otimes bullet underline mathcal cfrac over not neg land lor lim".split())


@lru_cache(maxsize=1)
def _known_commands() -> frozenset[str]:
    """Commands latex2sympy's lexer knows, plus Greek letters and derivekit's own."""
    from latex2sympy2_extended.antlr_parser import PSLexer
    known = set(GREEK_NAMES) | {"var" + name for name in GREEK_NAMES}
    for literal in PSLexer.literalNames:
        known.update(re.findall(r"\\([A-Za-z]+)", literal or ""))
    known.update(_WRAPPERS, _ACCENTS, _NAME_COMMANDS, {
        "frac", "dfrac", "tfrac", "sqrt", "log", "ln", "exp", "sum", "prod", "int", "partial",
        "left", "right", "cdot", "times", "odot", "ast", "top", "intercal", "lVert", "rVert",
        "Vert", "max", "min", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos",
        "arctan", "begin", "end", "infty", "nabla", "pi", "quad", "qquad", "displaystyle"})
    known.update(_PASS_THROUGH_COMMANDS)
    return frozenset(known)


def glued_command(command: str) -> str | None:
    r"""``\sigmay`` / ``\loge``: an unknown command that is a known one with letters glued
    on (which latex2sympy would silently split). Returns the known prefix, or None."""
    known = _known_commands()
    if command in known:
        return None
    for end in range(len(command) - 1, 1, -1):
        if command[:end] in known:
            return command[:end]
    return None


def _unknown_command(source: str) -> tuple[str, int] | None:
    known = _known_commands()
    for match in re.finditer(r"\\([A-Za-z]+)", source):
        if match.group(1) not in known:
            return match.group(1), match.start()
    return None


def _command_hint(command: str) -> str:
    import difflib
    choices = sorted(_known_commands() | {"sigma", "operatorname"})
    close = difflib.get_close_matches(command, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean \\{close[0]}?"
    return r"use \operatorname{name}(x) for a named function; see docs/parsing.md"


def _marker_position(message: str, latex: str, source: str) -> int | None:
    """Where latex2sympy's ``~~~^`` marker points, mapped back to the user's source.

    The marker indexes the rewritten LaTeX; the token under it is looked up in the source
    (the occurrence nearest the same relative place). None when it cannot be placed.
    """
    from derivekit.parsing.parse import TOKEN_RE
    for line in message.splitlines():
        marker = line.rstrip()
        if not (marker.endswith("^") and set(marker[:-1]) <= {"~", " "}):
            continue
        column = len(marker) - 1
        if latex == source.strip():
            return source.index(latex) + column
        token = TOKEN_RE.search(latex, min(column, max(len(latex) - 1, 0)))
        if token is None or _PLACEHOLDER in token.group(0):
            return None
        guess = column * len(source) // max(len(latex), 1)
        places = [m.start() for m in re.finditer(re.escape(token.group(0)), source)]
        return min(places, key=lambda place: abs(place - guess)) if places else None
    return None


# --- stage 1: rewriting -----------------------------------------------------------------

#: f -> f⁻¹ for ``\sin^{-1}`` and friends: in notes the power -1 on a trigonometric or
#: hyperbolic function names its inverse, never the reciprocal
INVERSE_FUNCTIONS = {
    "sin": r"\arcsin", "cos": r"\arccos", "tan": r"\arctan", "cot": r"\operatorname{arccot}",
    "sec": r"\operatorname{arcsec}", "csc": r"\operatorname{arccsc}",
    "sinh": r"\operatorname{arsinh}", "cosh": r"\operatorname{arcosh}",
    "tanh": r"\operatorname{artanh}", "coth": r"\operatorname{arcoth}",
    "sech": r"\operatorname{arsech}", "csch": r"\operatorname{arcsch}",
}
_INVERSE_POWER = re.compile(
    r"\\(?:operatorname\s*\{\s*([A-Za-z]+)\s*\}|([A-Za-z]+))\s*\^\s*(?:\{\s*-\s*1\s*\}|-\s*1(?![0-9]))")


def _inverse_function(match: re.Match) -> str:
    r"""``\sin^{-1}`` -> ``\arcsin``, ``\sinh^{-1}`` -> ``\operatorname{arsinh}``; other
    functions keep their power -1 (and a known function's call refuses it as ambiguous)."""
    name = match.group(1) or match.group(2)
    return INVERSE_FUNCTIONS.get(name, match.group(0)) + " "


_PMATRIX = re.compile(r"\{\s*[pvBV]?matrix\s*\}")
_ARGMAX = re.compile(r"\\arg\s*\\?(?:max|min)|\\operatorname\*?\s*\{\s*arg\s*(?:\\[,;: ])?\s*(?:max|min)\s*\}")
_MAX_OVER_INDEX = re.compile(r"\\(max|min)\s*_\s*(?:\{[^{}]*\}|[A-Za-z0-9])\s*(?!\s*\()")


def _refuse_index_reductions(text: str, context: _Context) -> None:
    r"""``\arg\max_i z_i`` and ``\max_i z_i`` range over a vector's entries: refused with
    the spelling that works (the entries listed), never read as a product."""
    argmax = _ARGMAX.search(text)
    if argmax:
        raise ParseError("argmax picks an index, not a value: it has no derivative to take "
                         "(0 almost everywhere)", source=context.source,
                         position=context.source.find(argmax.group(0)),
                         hint=r"for the largest value write \max(z_1, z_2, z_3); for a "
                              r"smooth choice write \operatorname{softmax}(z_1, z_2, z_3)_1")
    over = _MAX_OVER_INDEX.search(text)
    if over:
        name = over.group(1)
        raise ParseError(rf"\{name} over an index ranges over a vector's entries",
                         source=context.source, position=context.source.find(over.group(0)),
                         hint=rf"list the entries: \{name}(z_1, z_2, z_3); or use the matrix "
                              "engine for a whole vector")


def rewrite_latex(latex: str, context: _Context) -> str:
    """Normalise deep-learning notation into LaTeX that latex2sympy reads reliably."""
    _refuse_index_reductions(latex, context)
    latex = _PMATRIX.sub("{bmatrix}", latex)  # (x) and [x] vectors are the same matrix here
    text = _cases_to_piecewise(latex, context)
    text = _SPACING.sub(" ", text)
    text = _absolute_bars(text)
    text = _INVERSE_POWER.sub(_inverse_function, text)
    text = _LEFT_RIGHT.sub(_left_right_delimiter, text)
    text = _TRANSPOSE.sub("", text)
    text = text.replace(r"\odot", r"\cdot ").replace(r"\ast", r"\cdot ")
    for pattern, replacement in _FRAC_SHORT:
        text = pattern.sub(replacement, text)
    text = _SUM_NO_BOUNDS.sub(_sum_with_placeholder_bounds, text)
    text = _LAYER_INDEX.sub(lambda m: _layer_indexed_symbol(m, context), text)
    text = _HIGHER_DERIVATIVE.sub(lambda m: _first_derivatives(m, context), text)
    text = _COMPOUND_DENOMINATOR.sub(lambda m: _simple_variable(m, context), text)
    text = _norms_to_calls(text, context)
    text = _NUMBER_OR_SKIP.sub(lambda m: _hold_number(m, text, context), text)
    return _Scanner(text, context).run()


_BEGIN_CASES = re.compile(r"\\begin\s*\{\s*cases\s*\}")
_ENVIRONMENT = re.compile(r"\\(begin|end)\s*\{\s*[A-Za-z*]+\s*\}")
_CONDITION_WORDS = re.compile(
    r"^(?:\\(?:text|mathrm|textrm|mbox)\s*\{\s*(?:for|if|when|where)\s*\}|for|if)\s*"
    r"(?:\\[,:;! ]|\\quad|\s)*")
_OTHERWISE = re.compile(
    r"^(?:\\(?:text|mathrm|textrm|mbox)\s*\{\s*(?:otherwise|else|elsewhere)\s*\}|otherwise|"
    r"else)$")
_JOINERS = re.compile(r"\\(?:wedge|land|vee|lor)(?![A-Za-z])|"
                      r"\\(?:text|mathrm)\s*\{\s*(?:and|or)\s*\}|,")
_RELATION_TOKENS = re.compile(r"\\(?:geqslant|leqslant|geq|leq|neq|ge|le|ne|gt|lt)(?![A-Za-z])|"
                              r">=|<=|!=|[<>=≥≤≠]")
_LATEX_RELATIONS = {
    ">": sp.StrictGreaterThan, r"\gt": sp.StrictGreaterThan, "<": sp.StrictLessThan,
    r"\lt": sp.StrictLessThan, ">=": sp.GreaterThan, r"\geq": sp.GreaterThan,
    r"\ge": sp.GreaterThan, r"\geqslant": sp.GreaterThan, "≥": sp.GreaterThan,
    "<=": sp.LessThan, r"\leq": sp.LessThan, r"\le": sp.LessThan, r"\leqslant": sp.LessThan,
    "≤": sp.LessThan, "=": sp.Eq, "!=": sp.Ne, r"\neq": sp.Ne, r"\ne": sp.Ne, "≠": sp.Ne,
}


_LEFT_OR_RIGHT = re.compile(r"\\(left|right)(?![A-Za-z])\s*(\\[A-Za-z]+|\\.|.)")


def _absolute_bars(text: str) -> str:
    r"""``\left| a \right|`` -> ``\operatorname{abs}(a)``: the sized bars say which bar opens
    and which closes, which plain ``|`` (all latex2sympy sees after ``\left``/``\right`` are
    dropped) cannot, so ``|a| b |c|`` would pair the wrong bars."""
    while True:
        start = text.find(r"\left|")
        if start < 0:
            return text
        depth, end = 0, None
        for match in _LEFT_OR_RIGHT.finditer(text, start):
            depth += 1 if match.group(1) == "left" else -1
            if depth == 0:
                end = match
                break
        if end is None or end.group(2) != "|":
            return text  # unbalanced: leave it for latex2sympy to report
        inside = text[start + len(r"\left|"):end.start()]
        text = text[:start] + r"\operatorname{abs}(" + inside + ")" + text[end.end():]


def _cases_to_piecewise(text: str, context: _Context) -> str:
    r"""``\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}`` -> a held
    ``Piecewise``: each row is ``value & condition`` (``\text{for}``/``if`` may precede the
    condition; ``\text{otherwise}`` is the last row)."""
    while True:
        begin = _BEGIN_CASES.search(text)
        if begin is None:
            return text
        body_end, after = _environment_end(text, begin.end(), context)
        rows = [row for row in _split_top(text[begin.end():body_end], "\\\\") if row.strip()]
        pieces = []
        for row in rows:
            cells = _split_top(row, "&")
            if len(cells) != 2:
                raise ParseError("each row of a cases environment needs 'value & condition'",
                                 source=context.source, position=context.source.find(row.strip()),
                                 hint=r"write \begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} "
                                      r"\end{cases}")
            pieces.append((_convert(cells[0], context), _case_condition(cells[1], context)))
        if any(cond is sp.true for _, cond in pieces[:-1]):
            raise ParseError("'otherwise' must be the last row of cases", source=context.source,
                             position=None, hint="move the otherwise row to the end")
        held = context.hold(sp.Piecewise(*pieces))
        text = text[:begin.start()] + "{" + held.strip() + "}" + text[after:]


def _environment_end(text: str, start: int, context: _Context) -> tuple[int, int]:
    r"""Where the environment opened just before ``start`` ends: (body end, after \end)."""
    depth = 1
    for match in _ENVIRONMENT.finditer(text, start):
        depth += 1 if match.group(1) == "begin" else -1
        if depth == 0:
            return match.start(), match.end()
    raise ParseError(r"\begin{cases} is not closed", source=context.source,
                     position=context.source.find(r"\begin"), hint=r"add \end{cases}")


def _split_top(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside braces, brackets and nested environments."""
    parts, depth, last, index = [], 0, 0, 0
    while index < len(text):
        environment = _ENVIRONMENT.match(text, index)
        if environment:
            depth += 1 if environment.group(1) == "begin" else -1
            index = environment.end()
            continue
        char = text[index]
        if char == "\\" and text.startswith(separator, index) and depth == 0:
            parts.append(text[last:index])
            index += len(separator)
            last = index
            continue
        if char == "\\":
            index += 2  # an escaped character (\{, \\) never opens or splits
            continue
        if char in "{([":
            depth += 1
        elif char in "})]":
            depth -= 1
        elif depth == 0 and text.startswith(separator, index):
            parts.append(text[last:index])
            last = index + len(separator)
        index += 1
    parts.append(text[last:])
    return parts


def _case_condition(text: str, context: _Context) -> sp.Basic:
    r"""``\text{for}\: x > 0``, ``x \geq 0 \wedge y < 1``, ``0 < x < 1``, ``\text{otherwise}``;
    ``\vee`` (or) binds looser than ``\wedge`` (and, also a comma), and brackets group."""
    text = _CONDITION_WORDS.sub("", text.strip()).strip()
    if _OTHERWISE.match(text):
        return sp.true
    if not text:
        raise ParseError("a row of cases has no condition", source=context.source, position=None,
                         hint=r"write the condition after &, e.g. 1 & x > 0, or \text{otherwise}")
    return _joined_condition(text, context)


def _joined_condition(text: str, context: _Context) -> sp.Basic:
    for family, combine in (("or", sp.Or), ("and", sp.And)):
        chunks, last = [], 0
        for match in _JOINERS.finditer(text):
            word = match.group(0)
            is_or = "vee" in word or "lor" in word or "or" in word.split("{")[-1]
            if _inside_group(text, match.start()) or is_or != (family == "or"):
                continue
            chunks.append(text[last:match.start()])
            last = match.end()
        if chunks:
            chunks.append(text[last:])
            return combine(*[_joined_condition(chunk, context) for chunk in chunks])
    inner = text.strip()
    bracketed = re.fullmatch(r"(?:\\left\s*)?\((.*?)(?:\\right\s*)?\)", inner, re.S)
    if bracketed and _matching(inner, inner.index("("), "(", ")") == len(inner) - 1:
        return _joined_condition(bracketed.group(1), context)
    return _comparison_chain(inner, context)


def _comparison_chain(text: str, context: _Context) -> sp.Basic:
    r"""``a < b``, or a chain ``0 < x \leq 1`` read as both comparisons."""
    operands, relations, last = [], [], 0
    for match in _RELATION_TOKENS.finditer(text):
        if _inside_group(text, match.start()):
            continue
        operands.append(text[last:match.start()])
        relations.append(match.group(0))
        last = match.end()
    operands.append(text[last:])
    if not relations or any(not operand.strip() for operand in operands):
        raise ParseError(f"cannot read the condition '{text.strip()}'", source=context.source,
                         position=context.source.find(text.strip()),
                         hint=r"write a comparison such as x > 0, x \leq 1 or 0 < x < 1")
    values = [_convert(operand, context) for operand in operands]
    comparisons = [_LATEX_RELATIONS[relation](values[k], values[k + 1])
                   for k, relation in enumerate(relations)]
    return sp.And(*comparisons) if len(comparisons) > 1 else comparisons[0]


def _inside_group(text: str, position: int) -> bool:
    depth = 0
    for char in text[:position]:
        depth += char in "{(["
        depth -= char in "})]"
    return depth > 0


def _layer_indexed_symbol(match: re.Match, context: _Context) -> str:
    r"""``a^{[l]}`` (layer l) and ``x^{(i)}`` (example i) are names, not powers: the symbols
    ``a^[l]`` and ``x^(i)``, with any subscript kept (``W^[2]_jk``); SymPy prints them back as
    ``a^{[l]}``. A command base other than a Greek letter (``\\sin^{(2)}``) is left alone."""
    base, sub_before, opener, index, closer, sub_after = match.groups()
    name = _base_name(base)
    if name is None or (opener + closer) not in ("()", "[]"):
        return match.group(0)
    subscript = (sub_before or sub_after or "").strip()
    subscript = re.sub(r"[\s{}_]", "", subscript)
    symbol = sp.Symbol(f"{name}^{opener}{index}{closer}" + (f"_{subscript}" if subscript else ""))
    return context.hold(symbol)


def _base_name(base: str) -> str | None:
    """``x`` -> x, ``\\theta`` -> theta, ``\\hat{y}`` -> yhat, ``\\mathbf{W}`` -> W."""
    base = base.strip()
    if len(base) == 1:
        return base
    match = re.fullmatch(r"\\([A-Za-z]+)(?:\s*\{\s*\\?([A-Za-z]+)\s*\})?", base)
    if match is None:
        return None
    command, inner = match.groups()
    if inner is None:
        return command if command in GREEK_NAMES or command.startswith("var") else None
    return inner + _ACCENTS[command] if command in _ACCENTS else inner


def _sum_with_placeholder_bounds(match: re.Match) -> str:
    r"""``\sum_i`` -> ``\sum_{i=lo}^{hi}`` with placeholders that :func:`_sum` turns into 1, N_i."""
    index = match.group(1) or match.group(2)
    return rf"\sum_{{{index}=\text{{{_SUM_LOW}}}}}^{{\text{{{_SUM_HIGH}}}}}"


def _first_derivatives(match: re.Match, context: _Context) -> str:
    r"""``\frac{\partial^2 f}{\partial x \partial y}`` -> ``\frac{\partial}{\partial x}
    \frac{\partial f}{\partial y}``: repeated first derivatives latex2sympy can read."""
    operator, braced_order, plain_order, body, denominator = match.groups()
    order, body = braced_order or plain_order, body.strip()
    variables, position = [], 0
    while position < len(denominator.rstrip()):
        part = _DENOMINATOR_VARIABLE.match(denominator, position)
        if part is None:
            raise ParseError(f"cannot read the derivative denominator {{{denominator}}}",
                             source=context.source, position=context.source.find(denominator),
                             hint=r"write e.g. \frac{\partial^2 f}{\partial x \partial y}")
        variables += [part.group(1)] * int(part.group(2) or 1)
        position = part.end()
    if len(variables) != int(order):
        raise ParseError(f"the derivative has order {order} but its denominator names "
                         f"{len(variables)} variable(s)", source=context.source,
                         position=context.source.find(denominator),
                         hint="make the powers in the numerator and the denominator agree")
    op = r"\partial" if operator == r"\partial" else "d"
    pieces = [rf"\frac{{{op}}}{{{op} {v}}}" for v in variables[:-1]]
    pieces.append(rf"\frac{{{op} {body}}}{{{op} {variables[-1]}}}" if body.strip()
                  else rf"\frac{{{op}}}{{{op} {variables[-1]}}}")
    return " ".join(pieces) + " "


def _simple_variable(match: re.Match, context: _Context) -> str:
    r"""latex2sympy differentiates only by a bare letter: ``{\partial w_1}`` and
    ``{\partial \theta}`` get a spare capital letter that stands for ``w_1`` / ``theta``."""
    numerator, operator, variable = match.groups()
    variable = variable.rstrip()
    if re.fullmatch(r"[A-Za-z]", variable):
        return match.group(0)  # a bare letter: latex2sympy reads it as it is
    symbol = _convert(variable, context)
    if not symbol.is_Symbol:
        raise ParseError(f"cannot differentiate with respect to {variable}",
                         source=context.source, position=context.source.find(variable),
                         hint="differentiate with respect to a variable such as x, w_1 or \\theta")
    letter = context.spare_letter()
    context.placeholders[letter] = symbol
    return f"{numerator}{{{operator} {letter}}}"


def _hold_number(match: re.Match, text: str, context: _Context) -> str:
    """Numerals become exact numbers held as placeholders, so that latex2sympy never turns
    numeral text into numbers itself (it would call ``sympify`` on it). Subscripts such as
    ``w_1``/``w_{12}``/``x_{i+1}`` and command names are left alone; bounds such as
    ``\\sum_{i=1}`` are not subscripts and their numerals are held too."""
    if match.group(1):
        return match.group(1)
    held = context.hold(make_number(match.group(2), context.source))
    before = text[:match.start()].rstrip()
    if before.endswith(("^", "_")):  # \sin^2(x): the bracket belongs to the function
        return "{" + held.strip() + "}"
    if text[match.end():].lstrip().startswith("("):
        held += r" \cdot "  # 18 (x)^9 is 18·x⁹: latex2sympy would read a call of "18"
    return held


def _left_right_delimiter(match: re.Match) -> str:
    delimiter = match.group(1)
    return {".": " ", "\\{": "\\{", "\\}": "\\}"}.get(delimiter, delimiter)


def _norms_to_calls(text: str, context: _Context) -> str:
    r"""``\|x\|`` / ``\lVert x \rVert`` -> ``\operatorname{norm}(x)``."""
    pieces, opened, last = [], False, 0
    for match in _NORM_BARS.finditer(text):
        bar = match.group(0)
        opening = bar == r"\lVert" or (bar != r"\rVert" and not opened)
        pieces.append(text[last:match.start()])
        pieces.append(r"\operatorname{norm}(" if opening else ")")
        opened = opening
        last = match.end()
    if opened:
        raise ParseError(r"a norm \| ... \| is not closed", source=context.source, position=None,
                         hint=r"close it with \|")
    pieces.append(text[last:])
    return "".join(pieces)


class _Scanner:
    """One left-to-right pass that unwraps font commands, names accents and converts calls."""

    def __init__(self, text: str, context: _Context):
        self.text, self.context, self.pos, self.out = text, context, 0, []

    def run(self) -> str:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\\":
                self._command()
            elif char.isalpha() and self._at_abstract_call():
                pass
            elif char == "'":
                raise self._error("a prime is only read on a function call",
                                  r"write f'(x) or \sigma'(z), or \frac{d}{dx} for a "
                                  "derivative", near="'")
            else:
                self.out.append(char)
                self.pos += 1
                if char.isalpha() and self._letter_before_bracket():
                    self.out.append(r" \cdot ")
        return "".join(self.out)

    def _letter_before_bracket(self) -> bool:
        """``a (x + 1)^2`` is a·(x + 1)²: latex2sympy would call ``a`` and square the call.
        True for a lone letter (not a command's, a word's, or a script's) before ``(``."""
        text, pos = self.text, self.pos
        start = pos - 1
        before = text[start - 1] if start else ""
        if before.isalpha() or before in ("\\", "^", "_"):
            return False
        if before == "{" and start > 1 and text[start - 2] in "^_":  # x_{i}(: a script
            return False
        return text[pos:].lstrip(" ").startswith("(")

    # -- helpers
    def _error(self, message: str, hint: str, near: str | None = None) -> ParseError:
        """A ParseError placed at ``near``'s first occurrence in the source (if found)."""
        found = self.context.source.find(near) if near else -1
        return ParseError(message, source=self.context.source,
                          position=found if found >= 0 else None, hint=hint)

    def _read_group(self) -> str:
        """Read a ``{...}`` group (or a single token) at the cursor; return its inside."""
        text = self.text
        while self.pos < len(text) and text[self.pos] == " ":
            self.pos += 1
        if self.pos >= len(text):
            raise self._error("a command is missing its argument", "add {...} after it")
        if text[self.pos] != "{":
            match = re.compile(r"\\[A-Za-z]+|.").match(text, self.pos)
            self.pos = match.end()
            return match.group(0)
        end = _matching(text, self.pos, "{", "}")
        if end is None:
            raise self._error("unbalanced braces", "close every { with }")
        inside = text[self.pos + 1:end]
        self.pos = end + 1
        return inside

    def _call_span(self, allow_power: bool = True) -> tuple[str, str | None, int, int] | None:
        """If a call follows the cursor, return (arguments, power or None, end, primes).

        Accepted shapes after a function head: ``(args)``, SymPy's printed ``{(args)}`` (also
        with ``\\left( ... \\right)``, already reduced to brackets), and either one after a
        power as in ``\\sin^2(x)`` / ``\\operatorname{atan}^{3}{(y)}``.
        """
        text, pos = self.text, self.pos
        primes = len(text[pos:]) - len(text[pos:].lstrip("'"))
        pos += primes
        power = None
        match = _CALL_POWER.match(text, pos)
        if match and allow_power:
            power = match.group(1)
            pos = match.end()
            if power.startswith("{"):  # braces nested deeper than the pattern: \frac{3}{2}
                end = _matching(text, match.start(1), "{", "}")
                power, pos = text[match.start(1):end + 1], end + 1
            power = power[1:-1] if power.startswith("{") else power
        while pos < len(text) and text[pos] == " ":
            pos += 1
        if pos < len(text) and text[pos] == "(":
            end = _matching(text, pos, "(", ")")
            if end is None:
                raise self._error("unclosed '('", "add the closing ')'")
            return text[pos + 1:end], power, end + 1, primes
        if pos < len(text) and text[pos] == "{":
            end = _matching(text, pos, "{", "}")
            inside = text[pos + 1:end].strip() if end is not None else ""
            if inside.startswith("(") and _matching(inside, 0, "(", ")") == len(inside) - 1:
                return inside[1:-1], power, end + 1, primes
        return None

    def _followed_by_paren(self, allow_power: bool = True) -> bool:
        return self._call_span(allow_power) is not None

    def _call(self, name: str, allow_power: bool = True) -> None:
        """Convert the call of ``name`` at the cursor into a placeholder."""
        inside, power, end, primes = self._call_span(allow_power)
        args = [_convert(arg, self.context) for arg in _split_args(inside)]
        self.pos = end
        where = self.context.source.find(inside) - 1 if inside else -1
        where = where if where >= 0 else None
        if name == "softmax" and not primes:
            value = self._softmax_output(args, where)
        else:
            value = (primed_call(name, primes, args, self.context.source, where) if primes
                     else call_function(name, args, self.context.source, where))
        if power is not None:
            exponent = _convert(power, self.context)
            if exponent == -1:
                raise self._error(f"{name}^{{-1}}(...) is ambiguous (an inverse function or a "
                                  "reciprocal?)", rf"write \frac{{1}}{{\operatorname{{{name}}}(x)}} "
                                  "for the reciprocal; only trigonometric and hyperbolic "
                                  r"functions have inverses here (\sin^{-1} is \arcsin)",
                                  near="^")
            value = safe_pow(value, exponent, self.context.source)
        self.out.append(self.context.hold(value))
        if self.text[self.pos:].lstrip(" ").startswith("("):
            self.out.append(r" \cdot ")  # \sigma(x)(1 - \sigma(x))^2: a product, not a call

    def _softmax_output(self, args: list, where: int | None) -> sp.Basic:
        r"""``\operatorname{softmax}(z_1, z_2)_{1}``: the subscript after the call picks the
        output (as derivekit prints it); without one the first argument is the index, as
        in text (``softmax(1, z_1, z_2)``)."""
        match = _CALL_SUBSCRIPT.match(self.text, self.pos)
        if match is None:
            if len(args) == 1:
                raise self._error("softmax(z) of a whole vector is a vector, not a scalar",
                                  SOFTMAX_VECTOR_HINT, near="softmax")
            return call_function("softmax", args, self.context.source, where)
        self.pos = match.end()
        index = (match.group(1) or match.group(2)).strip()
        if not index.isdigit():
            raise self._error(f"softmax(...)_{index} needs a numeric output index here",
                              r"the scalar language needs the inputs written out, e.g. "
                              r"\operatorname{softmax}(z_1, z_2, z_3)_1; for a vector z "
                              "use the matrix engine, e.g. " + SOFTMAX_MATRIX_SPELLING,
                              near="softmax")
        return call_function("softmax", [sp.Integer(index), *args], self.context.source, where)

    # -- what the scanner recognises
    def _command(self) -> None:
        match = re.compile(r"\\([A-Za-z]+|.)").match(self.text, self.pos)
        command = match.group(1)
        self.pos = match.end()
        if command in _WRAPPERS:
            self.out.append(self._unwrapped(self._read_group()))
        elif command in _ACCENTS:
            self.out.append(self._accent(self._read_group(), _ACCENTS[command]))
        elif command in _NAME_COMMANDS:
            word = self._read_group().strip()
            if _PLACEHOLDER_RE.fullmatch(word):  # already converted: pass it through
                self.out.append(rf" \text{{{word}}} ")
            else:
                self._named(word, command)
        elif command == "partial" and self._partial_of_unknown():
            pass
        elif command in _CALLABLE_COMMANDS and self._followed_by_paren(command != "sigma"):
            # \sigma^2(x - \mu) is a variance times a bracket, never a squared sigmoid
            self._call(_CALLABLE_COMMANDS[command], allow_power=command != "sigma")
        elif command == "log" and not self.text[self.pos:].lstrip(" ").startswith("_"):
            self.out.append(r"\ln ")
        else:
            prefix = glued_command(command) if command.isalpha() else None
            if prefix is not None:
                raise self._error(f"unknown LaTeX command \\{command}",
                                  f"put a space after \\{prefix}: \\{prefix} {command[len(prefix):]}",
                                  near="\\" + command)
            self.out.append(match.group(0))

    def _partial_of_unknown(self) -> bool:
        r"""``\partial_{1} g(p, q)``: the partial derivative of an unknown function in its
        first argument, at (p, q), as derivekit prints it."""
        match = _PARTIAL_INDEX.match(self.text, self.pos)
        if match is None:
            return False
        start = self.pos
        self.pos = match.end()
        span = self._call_span(allow_power=False)
        if span is None:
            self.pos = start
            return False
        inside, _, end, _ = span
        args = [_convert(arg, self.context) for arg in _split_args(inside)]
        self.pos = end
        index = int(match.group(1) or match.group(2))
        self.out.append(self.context.hold(partial_call(index, match.group(3), args,
                                                       self.context.source)))
        return True

    def _unwrapped(self, inside: str) -> str:
        """``\\mathbf{w}`` -> ``w``; a longer body keeps its braces as a group."""
        body = rewrite_latex(inside, self.context).strip()
        simple = _WORD.fullmatch(body) or re.fullmatch(r"\\[A-Za-z]+", body)
        return f" {body} " if simple else "{" + body + "}"

    def _accent(self, inside: str, suffix: str) -> str:
        inside = inside.strip()
        letter = inside.lstrip("\\")
        if not _WORD.fullmatch(letter):
            raise self._error(rf"\{suffix}{{{inside}}} must decorate a single letter or Greek name",
                              rf"write e.g. \{suffix}{{y}}", near=inside)
        return rf" \text{{{letter}{suffix}}} "

    def _named(self, word: str, command: str) -> None:
        snake = word.replace("\\_", "_").replace(" ", "")
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+", snake) and \
                self._followed_by_paren():  # \operatorname{leaky\_relu}(x): a function name
            word = snake
            if _function_name(word) is None:
                raise self._error(f"unknown function '{word}'", unknown_function_hint(word),
                                  near=word.split("_")[0])
        if not _WORD.fullmatch(word) and _function_name(word) is None:
            raise self._error(rf"\{command}{{{word}}} must hold a plain name",
                              r"write e.g. \operatorname{ReLU}(x) or \text{loss}", near=word)
        known = _function_name(word)
        if self._followed_by_paren():
            if known is None and not is_abstract_function_name(word):
                raise self._error(f"unknown function '{word}'", unknown_function_hint(word),
                                  near=word)
            self._call(known or word)
        elif known is not None and word != "sigma":
            raise self._error(rf"\{command}{{{word}}} needs its argument in brackets",
                              rf"write \{command}{{{word}}}(x)", near=word)
        elif len(word) == 1:
            self.out.append(f" {word} ")
        else:
            self.out.append(rf" \text{{{word}}} ")

    def _at_abstract_call(self) -> bool:
        """``f(...)``, ``g(...)``, ``h(...)`` (not part of a longer name) are abstract calls."""
        text, pos = self.text, self.pos
        if pos and (text[pos - 1].isalpha() or text[pos - 1] in "\\_^"):
            return False
        if text[pos] not in "fghFGH":
            return False
        self.pos += 1
        span = self._call_span()
        if span is not None and span[1] is not None and _convert(span[1], self.context) == -1:
            raise self._error(f"{text[pos]}^{{-1}}(...) is ambiguous (an inverse function or "
                              "a reciprocal?)",
                              f"write 1/{text[pos]}(x) for the reciprocal; inverse functions "
                              "are not supported", near=text[pos] + "^")
        if span is None:
            self.pos -= 1
            return False
        self._call(text[pos])  # f^{2}(x) is f(x)^2, as SymPy prints it
        return True


def _function_name(word: str) -> str | None:
    if word in FUNCTIONS:  # H (the step function) before h (an abstract function)
        return word
    lower = word.lower()
    lower = _LATEX_FUNCTION_ALIASES.get(lower, lower)
    return lower if lower in FUNCTIONS else None


def _matching(text: str, start: int, opener: str, closer: str) -> int | None:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == opener and (index == 0 or text[index - 1] != "\\"):
            depth += 1
        elif text[index] == closer and (index == 0 or text[index - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return index
    return None


def _split_args(inside: str) -> list[str]:
    """Split at top-level commas."""
    args, depth, last = [], 0, 0
    for index, char in enumerate(inside):
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif char == "," and depth == 0:
            args.append(inside[last:index])
            last = index + 1
    args.append(inside[last:])
    return args


# --- stage 3: rebuilding ------------------------------------------------------------------

def finish(expr, context: _Context):
    """Rebuild latex2sympy's unevaluated tree with derivekit's meanings and safe builders."""
    from sympy.matrices import MatrixBase
    if isinstance(expr, MatrixBase):
        return sp.Matrix(expr.rows, expr.cols, [finish(item, context) for item in expr])
    if not isinstance(expr, sp.Basic):
        raise ParseError(f"the LaTeX means something that is not an expression "
                         f"({type(expr).__name__})", source=context.source, position=None,
                         hint="write a single expression")
    if expr.is_Symbol:
        return _symbol(expr.name, context)
    if expr.is_Float:
        return make_number(_float_text(expr), context.source)
    if expr is sp.S.EulerGamma:
        return sp.Symbol("gamma")
    if isinstance(expr, sp.FiniteSet) and len(expr.args) == 1:
        return finish(expr.args[0], context)  # a lone {...} group, not a set
    if expr is sp.S.ImaginaryUnit:
        return sp.Symbol("I")
    if expr.is_Atom:
        return expr
    if isinstance(expr, AppliedUndef):
        return _undefined_call(expr, context)
    if isinstance(expr, sp.Sum):
        return _sum(expr, context)
    args = [finish(arg, context) for arg in expr.args]
    if expr.is_Pow:
        return safe_pow(args[0], args[1], context.source)
    if isinstance(expr, (sp.factorial, sp.factorial2, sp.binomial)):
        _check_combinatorial_size(expr.func, args, context.source)
    if isinstance(expr, sp.Tuple):
        return sp.Tuple(*args)
    return expr.func(*args)


def _check_combinatorial_size(func, args: list, source: str) -> None:
    r"""Refuse ``n!`` and ``\binom{n}{k}`` of integers whose value SymPy would compute
    eagerly past the digit limits: ``(10^{50})!`` would run for hours. The digits of
    :math:`\binom{n}{k}` are at most :math:`\min(k, n-k)\log_{10} n + 1`."""
    import math
    if not all(isinstance(a, sp.Integer) for a in args):
        return
    n = int(args[0])
    if func is sp.binomial:
        k = int(args[1])
        smaller = min(k, n - k)
        if n <= limits.MAX_FACTORIAL_ARGUMENT or smaller <= 0:
            return
        if smaller * math.log10(n) + 1 <= limits.MAX_POWER_RESULT_DIGITS:
            return
        what = f"the binomial coefficient of {_short_int(n)} and {_short_int(k)}"
    elif n <= limits.MAX_FACTORIAL_ARGUMENT:
        return
    else:
        what = f"the factorial of {_short_int(n)}"
    raise InputLimitError(f"{what} is too large to compute exactly", source=source,
                          position=None,
                          hint=f"factorials are computed up to {limits.MAX_FACTORIAL_ARGUMENT}!; "
                               "write a symbol such as n! for a general value")


def _short_int(n: int) -> str:
    text = str(n) if abs(n) < 10 ** 12 else f"about 10^{len(str(abs(n))) - 1}"
    return text


def _float_text(number: sp.Float) -> str:
    """The decimal the user wrote (latex2sympy made a Float of it): ``0.100000`` -> ``0.1``."""
    text = str(number)
    mantissa, _, exponent = text.partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return mantissa + (f"e{exponent}" if exponent else "")


def _symbol(name: str, context: _Context) -> sp.Basic:
    if name in context.placeholders:
        return context.placeholders[name]
    if name.startswith(_PLACEHOLDER):
        return _subscripted_call(name, context)
    name = name.replace(" ", "")
    if "_{" in name:  # x_{\\alpha} -> x_{alpha}
        head, _, subscript = name.partition("_{")
        name = f"{head}_{{{subscript.replace(chr(92), '')}"
    if not _SAFE_NAME.match(name) or "__" in name:
        raise ParseError(f"'{name}' is not a name derivekit reads", source=context.source,
                         position=None, hint="names are letters and digits with an optional "
                                             "subscript, e.g. w_{ij}")
    if "_{" in name:
        head, sub = name.split("_{", 1)
        inner = sub[:-1]
        if inner.isalnum():
            name = f"{head}_{inner}"
    return sp.Symbol(name)


def _subscripted_call(name: str, context: _Context) -> sp.Basic:
    r"""A subscript on a converted call: ``\|w\|_2`` is the (Euclidean) norm itself."""
    held, _, subscript = name.partition("_")
    expr = context.placeholders.get(held)
    if expr is not None and expr.func == Norm and subscript.strip("{}") == "2":
        return expr
    raise ParseError("a subscript after a function call or norm is not understood",
                     source=context.source, position=None,
                     hint=r"only \|x\|_2 (the Euclidean norm) is read; drop the subscript")


def _undefined_call(expr, context: _Context) -> sp.Basic:
    """latex2sympy's ``x(y)`` for a name that is not a function: an abstract function for
    f, g, h, otherwise the product ``x*y``."""
    name = expr.func.__name__.lstrip("\\")
    held = re.fullmatch(r"(?:text|mathrm)\{(\w+)\}", name)
    if held and held.group(1) in context.placeholders:  # 2 (\sigma(x)): a held value times
        name = held.group(1)                            # a bracket, not a call
    args = [finish(arg, context) for arg in expr.args]
    if is_abstract_function_name(name):
        return sp.Function(name)(*args)
    head = _symbol(name, context)
    if len(args) != 1:
        raise ParseError(f"'{name}' is applied to {len(args)} arguments but is not a function",
                         source=context.source, position=None,
                         hint=unknown_function_hint(name))
    return sp.Mul(head, args[0])


def _sum(expr, context: _Context) -> sp.Basic:
    r"""``\sum_{i=1}^{n}``: a ``Sum``; numeric bounds expand it (``make_sum``); no bounds
    (``\sum_i``) run from 1 to ``N_i``."""
    body = finish(expr.function, context)
    for index, low, high in expr.limits:  # innermost first
        index = finish(index, context)
        if getattr(low, "name", None) == _SUM_LOW:
            low, high = sp.Integer(1), sp.Symbol(f"N_{index.name}")
        else:
            low, high = finish(low, context), finish(high, context)
        try:
            body = make_sum(body, index, low, high)
        except ValueError as exc:
            if isinstance(exc, DerivekitError):
                raise
            raise ParseError(f"cannot read the sum: {exc}", source=context.source,
                             position=context.source.find(r"\sum"),
                             hint=r"write \sum_{i=1}^{n} with an index letter and integer or "
                                  "symbolic bounds") from None
    return body

