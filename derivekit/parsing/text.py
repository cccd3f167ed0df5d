"""Plain-text math -> SymPy through an eval-free lark LALR grammar.

The grammar, in words (loosest binding first):

* ``a = b`` (at most one, at the top) is an equation ``Eq(a, b)``;
* ``+`` and ``-`` are left-associative;
* ``*`` (also ``·``, ``×``, ``⋅``) and ``/`` are left-associative, and so is implicit
  multiplication: juxtaposing a factor that starts with a name, a call or a bracket
  (``2x``, ``2(x+1)``, ``(a)(b)``, ``2 x y``, ``x^2 y``); ``1/2x`` is ``(1/2)*x``;
* a leading ``-``/``+`` applies to the whole term: ``-a*b`` is ``-(a*b)`` and ``-x^2`` is
  ``-(x^2)``; after ``*``, ``/`` or ``^`` a sign applies to the next factor (``a*-b``,
  ``x^-1``);
* ``^`` and ``**`` are right-associative; the exponent may carry a sign (``x^-1``);
  Unicode superscripts work too (``x²``, ``x⁻¹``), as do ``√x`` and subscripts ``x₁``, so
  derivekit's own Unicode output reads back;
* atoms: numbers (``3``, ``0.25``, ``.5``, ``1e-3``, all exact), names, calls ``f(a, b)``,
  brackets ``( )`` / ``[ ]`` and absolute values ``|x|`` (not juxtaposed: write ``2*|x|``);
* as derivekit prints them: piecewise ``{a if x > 0; b otherwise}`` (conditions compare with
  ``> < >= <= ≥ ≤ = ≠``, joined by ``and``/``or``, brackets group), indexed outputs
  ``softmax(z₁, z₂)₁``, partials of unknown functions ``∂₁g(p, q)``, sums
  ``sum(body, i, a, b)``, names ``xᵢⱼ``/``ŷ`` and primes ``f′(x)``.

A name is a letter (ASCII or Greek) followed by letters and digits, with an optional
subscript ``_1``, ``_ij`` or ``_{12}`` (written without braces in the result: ``W_12``).
Names are never split: ``xy`` is the symbol ``xy``; write ``x*y`` or ``x y`` for a product.
A name directly followed by ``(`` is a call: a whitelisted function, an abstract function
(``f``, ``g``, ``h``, ``F``, ``G``, ``H``, optionally subscripted), ``log_2(x)``/``log_b(x)``,
or an error. A function name without brackets (``sin x``) is an error, never a symbol.
Primes mark derivatives of one-argument functions: ``f'(x)``, ``sigmoid'(z)``, ``g''(t)``.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import sympy as sp

from derivekit import limits
from derivekit.errors import ParseError
from derivekit.parsing.parse import (
    InputLimitError,
    call_function,
    check_not_bare_function,
    constant_or_symbol,
    make_number,
    partial_call,
    primed_call,
    safe_pow,
)

_LETTER = r"A-Za-zα-ωΑ-Ωϵϑϕ"
#: Unicode subscripts derivekit prints (x₁, xᵢⱼ) and accents on a letter (ŷ, x̄, θ̃)
_SUBSCRIPT_LETTERS = "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"
_SUBSCRIPT_CHARS = "₀-₉" + _SUBSCRIPT_LETTERS
_ACCENT_MARKS = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde", "\u0307": "dot",
                 "\u0308": "ddot", "\u20d7": "vec"}
_MARKS = "[" + "".join(_ACCENT_MARKS) + "]*"

GRAMMAR = r"""
?start: sum
      | sum "=" sum                 -> equation

?sum: term
    | sum PLUS term                 -> add
    | sum MINUS term                -> sub

?term: product
     | MINUS term                   -> neg
     | PLUS term                    -> pos

?product: power
        | product TIMES factor      -> mul
        | product DIVIDE factor     -> div
        | product implicit          -> mul

?factor: power
       | MINUS factor               -> neg
       | PLUS factor                -> pos

?power: primary
      | primary POW factor          -> pow
      | primary SUPERSCRIPT         -> pow

?implicit: iprimary
         | iprimary POW factor      -> pow
         | iprimary SUPERSCRIPT     -> pow

?primary: NUMBER                    -> number
        | iprimary
        | "|" sum "|"               -> abs
        | "{" piece (";" piece)* "}" -> piecewise

piece: sum "if" condition           -> piece_if
     | sum "otherwise"              -> piece_otherwise

?condition: conjunction
          | condition "or" conjunction  -> either

?conjunction: catom
            | conjunction "and" catom   -> both

?catom: comparison
      | "(" condition ")"

comparison: sum RELATION sum

?iprimary: NAME                     -> name
         | call
         | "(" sum ")"
         | "[" sum "]"
         | PARTIAL call             -> partial
         | ROOT iprimary            -> root
         | ROOT NUMBER              -> root

call: FUNC "(" [sum ("," sum)*] ")" [CALL_INDEX]

PLUS: "+"
MINUS: "-" | "−"
TIMES: "*" | "·" | "×" | "⋅"
DIVIDE: "/" | "÷"
POW: "^" | "**"
SUPERSCRIPT: /[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+/
CALL_INDEX: /_(\d+|\{\d+\})|[₀-₉]+/
RELATION: ">=" | "<=" | "!=" | ">" | "<" | "≥" | "≤" | "≠" | "="
ROOT: "√"
PARTIAL: /∂(_\d|_\{\d\}|[₁-₉])/
NUMBER: /(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/
NAME: /[LETTERS][LETTERS0-9]*MARKS(_(\{[A-Za-z0-9]+\}|[A-Za-z0-9]+)|[SUBSCRIPTS]+)?/
FUNC.2: /(?!(?:if|and|or|otherwise)\b)[LETTERS][LETTERS0-9]*(_(\{[A-Za-z0-9]+\}|[A-Za-z0-9]+)|[₀-₉]+)?['′″‴]*(?=\s*\()/

%ignore /\s+/
""".replace("LETTERS", _LETTER).replace("SUBSCRIPTS", _SUBSCRIPT_CHARS).replace("MARKS", _MARKS)


@lru_cache(maxsize=1)
def text_parser():
    """The lark LALR parser, built once on first use."""
    from lark import Lark
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=False)


def parse_text(source: str) -> sp.Basic:
    """Parse plain-text ``source`` into SymPy (limits already checked by ``parse``)."""
    from lark.exceptions import UnexpectedInput
    source = _decompose_accents(source)
    try:
        tree = text_parser().parse(source)
    except UnexpectedInput as exc:
        raise _syntax_error(source, exc) from None
    _check_tree_depth(tree, source)
    return _build(tree, source)


def _decompose_accents(source: str) -> str:
    """``ŷ`` typed as one character -> ``y`` + combining hat, as derivekit prints it."""
    if source.isascii():
        return source
    out = []
    for char in source:
        parts = unicodedata.normalize("NFD", char)
        out.append(parts if len(parts) == 2 and parts[1] in _ACCENT_MARKS else char)
    return "".join(out)


# --- errors ---------------------------------------------------------------------------

_TOKEN_WORDS = {"PLUS": "'+'", "MINUS": "'-'", "TIMES": "'*'", "DIVIDE": "'/'", "POW": "'^'",
                "NUMBER": "number", "NAME": "name", "FUNC": "function call",
                "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "COMMA": "','",
                "EQUAL": "'='", "VBAR": "'|'", "$END": "the end of the input"}


def _syntax_error(source: str, exc) -> ParseError:
    """A ParseError with position and hint for a lark UnexpectedInput."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken
    position = getattr(exc, "pos_in_stream", None)
    if isinstance(exc, UnexpectedCharacters):
        char = source[position] if position is not None and position < len(source) else "?"
        hint = _character_hint(source, position or 0)
        return ParseError(f"unexpected character {char!r}", source=source, position=position,
                          hint=hint)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken)
                                          and exc.token.type == "$END"):
        return ParseError("the expression ends too early", source=source, position=len(source),
                          hint="complete the expression (an operand or ')' is missing)")
    token = exc.token
    position = token.start_pos if token.start_pos is not None else position
    expected = sorted({_TOKEN_WORDS.get(name, name) for name in getattr(exc, "expected", ())})
    expected = [word if word.startswith("'") or word.startswith("the") else f"a {word}"
                for word in expected]
    hint = ("expected " + ", ".join(expected[:10])) if expected else "check the syntax"
    if token.type == "NUMBER":
        hint += "; write * between two numbers"
    if token.type == "VBAR":
        hint = "write * before an absolute value, e.g. 2*|x| or |x|*|y|"
    word = _TOKEN_WORDS.get(token.type, "")
    what = word if word.startswith("'") else f"{word} {str(token)!r}".strip()
    return ParseError(f"unexpected {what}", source=source, position=position, hint=hint)


def _character_hint(source: str, position: int) -> str:
    char = source[position] if position < len(source) else ""
    if char == "_":
        return "names start with a letter; subscripts look like w_1, x_ij or W_{12}"
    if char in "'\"`":
        return ("strings and quotes are not part of math input; a prime marks a derivative "
                "only on a call, as in f'(x)")
    if char == "!":
        return "factorials are not supported"
    if char == ".":
        return "attribute access is not supported; write a number like 0.5"
    return "use + - * / ^, names, numbers, brackets and function calls like exp(x)"


_CHAINS = {"add": "sum", "sub": "sum", "mul": "product", "div": "product"}


def _check_tree_depth(tree, source: str) -> None:
    """Refuse parse trees nested deeper than the limit (e.g. long ``^`` or ``-`` chains).

    A flat chain ``a + b + c + ...`` is a left spine in the tree; it counts as one level,
    since :func:`_build` folds it without recursion.
    """
    from lark import Tree
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.MAX_NESTING:
            raise InputLimitError(f"the expression nests more than {limits.MAX_NESTING} levels",
                                  source=source, position=_tree_position(node),
                                  hint="split it into smaller expressions")
        chain = _CHAINS.get(node.data)
        for index, child in enumerate(node.children):
            if isinstance(child, Tree):
                same_chain = index == 0 and chain and _CHAINS.get(child.data) == chain
                stack.append((child, depth if same_chain else depth + 1))


def _tree_position(node) -> int | None:
    from lark import Token, Tree
    while isinstance(node, Tree) and node.children:
        node = node.children[0]
    return node.start_pos if isinstance(node, Token) else None


# --- tree -> SymPy --------------------------------------------------------------------

def _build(node, source: str) -> sp.Basic:
    """Build SymPy objects from the lark tree, bottom-up, without eval."""
    from lark import Token
    if isinstance(node, Token):
        return _token_value(node, source)
    kind = node.data
    children = node.children
    if kind == "number":
        return make_number(str(children[0]), source, children[0].start_pos)
    if kind == "name":
        return _name_value(children[0], source)
    if kind == "call":
        head = children[0]
        index = children[-1] if children and getattr(children[-1], "type", "") == "CALL_INDEX" \
            else None
        inner = children[1:-1] if index is not None else children[1:]
        args = [_build(child, source) for child in inner if child is not None]
        name = _normalise_name(str(head).rstrip("'′″‴"))
        if index is not None:
            return _indexed_call(name, args, index, source, head.start_pos)
        marks = str(head)[len(str(head).rstrip("'′″‴")):]
        primes = sum(_PRIME_COUNT[mark] for mark in marks)
        if primes:
            return primed_call(name, primes, args, source, head.start_pos)
        return call_function(name, args, source, head.start_pos)
    if kind == "partial":
        index = int(str(children[0])[1:].strip("_{}").translate(_SUBSCRIPT_DIGITS))
        call = children[1]
        args = [_build(child, source) for child in call.children[1:] if child is not None]
        return partial_call(index, _normalise_name(str(call.children[0])), args, source,
                            children[0].start_pos)
    if kind == "piecewise":
        return _piecewise(children, source)
    if kind in ("comparison", "both", "either"):
        return _condition(node, source)
    if kind == "abs":
        return sp.Abs(_build(children[0], source))
    if kind == "root":
        return sp.sqrt(_build(children[1], source))
    if kind in ("neg", "pos"):
        operand = _build(children[1], source)
        return -operand if kind == "neg" else operand
    if kind in _CHAINS:
        return _build_chain(node, source)
    left = _build(children[0], source)
    if kind == "pow":
        operator = children[1]
        right = (_superscript_value(operator, source) if operator.type == "SUPERSCRIPT"
                 else _build(children[-1], source))
        return safe_pow(left, right, source, operator.start_pos)
    right = _build(children[-1], source)
    if kind == "equation":
        return sp.Eq(left, right, evaluate=False)
    raise ParseError(f"unsupported construct {kind!r}", source=source,
                     position=_tree_position(node), hint="see docs/parsing.md")


def _indexed_call(name: str, args: list, index, source: str, position) -> sp.Basic:
    """``softmax(z₁, z₂)₁``: the subscript picks one output of a vector-valued function."""
    if name.lower() != "softmax":
        raise ParseError(f"a subscript after {name}(...) is not understood", source=source,
                         position=index.start_pos,
                         hint="only softmax has indexed outputs, as in softmax(z1, z2, z3)_1")
    number = str(index).strip("_{}").translate(_SUBSCRIPT_DIGITS)
    return call_function("softmax", [make_number(number, source, index.start_pos), *args],
                         source, position)


def _piecewise(pieces, source: str) -> sp.Basic:
    """``{1 if x > 0; 1/100 otherwise}``: derivekit's printed piecewise form."""
    pairs = []
    for piece in pieces:
        value = _build(piece.children[0], source)
        if piece.data == "piece_otherwise":
            pairs.append((value, sp.true))
        else:
            pairs.append((value, _condition(piece.children[1], source)))
    if any(cond is sp.true for _, cond in pairs[:-1]):
        raise ParseError("'otherwise' must be the last piece", source=source,
                         position=None, hint="write {a if x > 0; b otherwise}")
    return sp.Piecewise(*pairs)


_RELATIONS = {">": sp.StrictGreaterThan, "<": sp.StrictLessThan, ">=": sp.GreaterThan,
              "≥": sp.GreaterThan, "<=": sp.LessThan, "≤": sp.LessThan, "=": sp.Eq,
              "!=": sp.Ne, "≠": sp.Ne}


def _condition(node, source: str) -> sp.Basic:
    """A comparison ``a > b`` or conditions joined by ``and`` / ``or``."""
    if node.data == "comparison":
        left, relation, right = node.children
        return _RELATIONS[str(relation)](_build(left, source), _build(right, source))
    first, second = (_condition(child, source) for child in node.children)
    return sp.And(first, second) if node.data == "both" else sp.Or(first, second)


def _build_chain(node, source: str) -> sp.Basic:
    """Fold a left-associative chain (``a + b - c``, ``a * b / c d``) without recursion."""
    family = _CHAINS[node.data]
    spine = []
    while not isinstance(node, str) and getattr(node, "data", None) in _CHAINS \
            and _CHAINS[node.data] == family:
        spine.append(node)
        node = node.children[0]
    terms = [_build(node, source)]
    for link in reversed(spine):
        right = _build(link.children[-1], source)
        if link.data == "sub":
            right = -right
        elif link.data == "div":
            if right.is_zero:
                raise ParseError("division by zero", source=source,
                                 position=_tree_position(link.children[-1]),
                                 hint="the divisor must not be 0")
            right = sp.Pow(right, -1)
        terms.append(right)
    return sp.Add(*terms) if family == "sum" else sp.Mul(*terms)


def _token_value(token, source: str) -> sp.Basic:
    if token.type == "NUMBER":
        return make_number(str(token), source, token.start_pos)
    if token.type == "NAME":
        return _name_value(token, source)
    raise ParseError(f"unexpected {str(token)!r}", source=source, position=token.start_pos,
                     hint="check the syntax")


def _name_value(token, source: str) -> sp.Basic:
    name = _normalise_name(str(token))
    check_not_bare_function(name, source, token.start_pos)
    return constant_or_symbol(name)


def _superscript_value(token, source: str) -> sp.Rational:
    """``²`` -> 2, ``⁻¹`` -> -1."""
    value = make_number(str(token).translate(_SUPERSCRIPT_DIGITS), source, token.start_pos)
    return -value if str(token).startswith("⁻") else value


_PRIME_COUNT = {"'": 1, "′": 1, "″": 2, "‴": 3}
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789", "⁻⁺")
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


_SUBSCRIPT_TO_ASCII = str.maketrans("₀₁₂₃₄₅₆₇₈₉" + _SUBSCRIPT_LETTERS,
                                     "0123456789" + "aehijklmnoprstuvx")


def _normalise_name(name: str) -> str:
    """``W_{12}`` -> ``W_12``; ``x₁`` -> ``x_1``, ``xᵢⱼ`` -> ``x_ij``; ``ŷ`` -> ``y_hat`` (as
    derivekit prints a name with a modifier); other names unchanged."""
    name = name.replace("{", "").replace("}", "")
    head = name.rstrip("₀₁₂₃₄₅₆₇₈₉" + _SUBSCRIPT_LETTERS)
    if head != name:
        name = f"{head}_{name[len(head):].translate(_SUBSCRIPT_TO_ASCII)}"
    base, underscore, rest = name.partition("_")
    if any(mark in base for mark in _ACCENT_MARKS):  # ŷ₁ -> yhat_1, as \hat{y}_1 reads
        modifiers = [_ACCENT_MARKS[c] for c in base if c in _ACCENT_MARKS]
        base = "".join(c for c in base if c not in _ACCENT_MARKS) + "".join(modifiers)
        name = base + underscore + rest
    elif rest in _ACCENT_MARKS.values():  # y_hat is \hat{y}: one name, yhat
        name = base + rest
    return name
