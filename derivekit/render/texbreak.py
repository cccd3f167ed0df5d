"""Long display equations broken into lines a page can hold.

:func:`math_width` estimates how wide a LaTeX formula sets (in ``em``, from the glyphs it
prints: a fraction is as wide as its wider part, a script is smaller, a matrix is its
columns); :func:`terms` splits a formula at its top-level ``+`` and ``−`` and
:func:`factors` a product between its factors (never inside braces or ``\\left … \\right``);
:func:`break_equation` packs ``lhs = rhs`` into lines of at most a given width, in amsmath's
``multline*`` when one line cannot hold it, and :func:`aligned_rows` does the same for a row
of an ``aligned`` block.

What a break adds never changes the value: a line break, a ``\\cdot`` where a product is
cut, ``\\right.`` / ``\\left.`` where a bracket is opened across lines; and, only when nothing
else can break, a wide quotient N/D written (1/D)·N and a wide power e^X written exp(X).
The tests read each broken equation back and compile a random corpus of them.
"""

from __future__ import annotations

import itertools
import re

#: the width (em) a formula may take: a standard article's text width at 10-12 pt is 32-35 em,
#: and :func:`math_width` errs by up to ~15%
LINE_EM = 29.0
LIST_INDENT_EM = 2.4  # what each level of a nested list takes from the line
#: widths in em of what a formula prints, for the Computer Modern fonts at any size
LETTER_EM = 0.55
OPERATOR_EM = 1.25      # a binary operator or relation with its spaces: + − = ·
SCRIPT_SCALE = 0.72     # a superscript or subscript is set smaller
_SPACES = {",": 0.17, ":": 0.22, ";": 0.28, " ": 0.33, "!": -0.17, "quad": 1.0, "qquad": 2.0}
_TEXT_COMMANDS = {"text", "mathrm", "operatorname", "mathbf", "mathit", "mathsf", "mathtt",
                  "textbf", "textrm", "boldsymbol", "bm", "mathbb", "mathcal", "hat", "bar",
                  "tilde", "vec", "dot", "ddot", "overline", "widehat", "widetilde",
                  "mathnormal", "ensuremath", "displaystyle", "textstyle"}
_OPERATOR_WORDS = {"cdot", "times", "pm", "mp", "odot", "otimes", "oplus", "circ", "le", "leq",
                   "ge", "geq", "ne", "neq", "approx", "equiv", "to", "in", "mapsto", "sim",
                   "Rightarrow", "rightarrow", "leftarrow", "propto", "ast", "wedge", "vee",
                   "cap", "cup", "setminus"}
_NAMED = {"log", "ln", "exp", "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh",
          "coth", "sech", "csch", "arcsin", "arccos", "arctan", "max", "min", "det", "tr", "sgn",
          "lim", "sup", "inf", "arg", "operatorname"}
_BIG = {"sum", "prod", "int", "oint", "coprod", "bigcup", "bigcap"}
_TOKEN = re.compile(r"\\([A-Za-z]+)\s*|\\(.)|(\s+)|([\s\S])")


def _group(tex: str, i: int) -> tuple[str, int]:
    """The brace group (or single token) starting at ``tex[i]`` and the index after it."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return "", i
    if tex[i] == "{":
        close = _matching_brace(tex, i)
        return (tex[i + 1: close], close + 1) if close is not None else (tex[i + 1:], len(tex))
    m = _TOKEN.match(tex, i)
    return m.group(0), m.end()


def _environment(tex: str, i: int, name: str) -> tuple[str, int]:
    """The body of ``\\begin{name}`` whose body starts at ``i``, and the index after its end."""
    depth = 1
    pattern = re.compile(r"\\(begin|end)\{" + re.escape(name) + r"\}")
    for m in pattern.finditer(tex, i):
        depth += 1 if m.group(1) == "begin" else -1
        if depth == 0:
            return tex[i: m.start()], m.end()
    return tex[i:], len(tex)


def _split_top(tex: str, separator: str) -> list[str]:
    """``tex`` split at ``separator`` (``&`` or ``\\\\``) outside braces and environments."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(tex):
        if tex.startswith("\\begin{", i):
            depth += 1
        elif tex.startswith("\\end{", i):
            depth -= 1
        if tex.startswith(separator, i) and depth == 0 and (separator != "&" or tex[i - 1: i] != "\\"):
            parts.append(tex[start:i])
            i += len(separator)
            start = i
            continue
        if tex[i] == "\\":
            i += 2
            continue
        depth += tex[i] == "{"
        depth -= tex[i] == "}"
        i += 1
    parts.append(tex[start:])
    return parts


def _matrix_width(body: str) -> float:
    rows = [_split_top(row, "&") for row in _split_top(body, "\\\\") if row.strip()]
    if not rows:
        return 0.0
    columns = max(len(r) for r in rows)
    widths = [max((math_width(r[c]) for r in rows if c < len(r)), default=0.0)
              for c in range(columns)]
    return sum(widths) + 1.0 * (columns - 1) + 0.6


def math_width(tex: str) -> float:
    """Estimated width in em of the formula ``tex`` set in display style."""
    width, i = 0.0, 0
    while i < len(tex):
        m = _TOKEN.match(tex, i)
        word, symbol, space, char = m.groups()
        i = m.end()
        if word is not None:
            if word in ("frac", "dfrac", "tfrac", "binom"):
                top, i = _group(tex, i)
                bottom, i = _group(tex, i)
                width += max(math_width(top), math_width(bottom)) + 0.3
            elif word == "sqrt":
                if tex[i: i + 1] == "[":
                    close = tex.find("]", i)
                    i = close + 1 if close > 0 else i
                body, i = _group(tex, i)
                width += math_width(body) + 0.9
            elif word == "begin":
                name, i = _group(tex, i)
                if name in ("array", "tabular"):
                    _spec, i = _group(tex, i)
                body, i = _environment(tex, i, name)
                width += _matrix_width(body)
            elif word in ("left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big"):
                delimiter, i = _group(tex, i)
                width += 0.0 if delimiter == "." else 0.45
            elif word in _TEXT_COMMANDS:
                body, i = _group(tex, i)
                plain = word in ("text", "textbf", "textrm", "mathrm", "operatorname")
                width += len(body) * LETTER_EM * 0.95 if plain and "\\" not in body else math_width(body)
            elif word in _OPERATOR_WORDS:
                width += OPERATOR_EM
            elif word in _NAMED:
                width += len(word) * LETTER_EM * 0.9 + 0.17
            elif word in _BIG:
                width += 1.5
            elif word in _SPACES:
                width += _SPACES[word]
            elif word in ("end", "label", "tag", "nonumber", "notag", "limits", "nolimits"):
                _ignored, i = _group(tex, i) if word == "end" else ("", i)
            else:  # a Greek letter or another symbol
                width += LETTER_EM * 1.05
        elif symbol is not None:
            width += _SPACES.get(symbol, LETTER_EM if symbol in "{}|" else 0.0)
        elif space is not None:
            continue
        elif char in "^_":
            script, i = _group(tex, i)
            width += math_width(script) * SCRIPT_SCALE
        elif char in "{}":
            continue
        elif char in "+-=<>":
            width += OPERATOR_EM
        elif char in "()[],.;|'":
            width += 0.39
        else:
            width += LETTER_EM
    return width


def _tokens(tex: str):
    """(index, depth) at the start of each token of ``tex`` (a control sequence whole, else one
    character), the depth counting braces, environments and ``\\left … \\right`` pairs open
    before it."""
    depth, i = 0, 0
    while i < len(tex):
        yield i, depth
        if tex[i] == "\\":
            word = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            name = word.group(1) if word else ""
            depth += name in ("left", "begin")
            depth -= name in ("right", "end")
            i += len(word.group(0)) if word else 1
            continue
        depth += tex[i] == "{"
        depth -= tex[i] == "}"
        i += 1


def _top_level(tex: str):
    """(index, character) of each character of ``tex`` outside braces, environments and
    ``\\left … \\right`` pairs; control sequences are skipped whole."""
    for i, depth in _tokens(tex):
        if depth == 0 and tex[i] not in "{}\\":
            yield i, tex[i]


def _top_level_cuts(tex: str) -> list[int]:
    """Where ``tex`` may break: before each binary `` + `` or `` - `` at the top level (the
    printers space binary operators; a leading minus is unary)."""
    return [i for i, ch in _top_level(tex)
            if ch in "+-" and tex[i - 1: i] == " " and tex[i + 1: i + 2] == " " and tex[:i].strip()]


def terms(tex: str) -> list[str]:
    """``tex`` cut before each top-level binary ``+`` or ``-``; ``"".join`` gives it back."""
    return _cut(tex, _top_level_cuts(tex))


def _cut(tex: str, cuts: list[int]) -> list[str]:
    bounds = [0, *cuts, len(tex)]
    return [tex[a:b] for a, b in itertools.pairwise(bounds) if tex[a:b]]


#: what a product must not be cut after: a big operator with its limits, a derivative
#: operator, a sign, an operator or an opening bracket
_OPERATOR_NAMES = "|".join(sorted(_OPERATOR_WORDS))
_NO_CUT_AFTER = re.compile(r"(\\(sum|prod|int)(\s*[_^](\{[^{}]*\}|\S))*|\\(" + _OPERATOR_NAMES + ")"
                           r"|\\frac\{(d|\\partial)[^{}]*\}\{[^{}]*\}|[-+=,(]|^\s*-?)\s*$")
_STARTS_WITH_OPERATOR = re.compile(r"\s*(\\(" + _OPERATOR_NAMES + r")(?![A-Za-z])|[-+=])")


def factor_cuts(tex: str) -> list[int]:
    """Where a product may break: after the top-level spaces between its factors (never
    after a sign, an operator, a sum's limits or a derivative operator, nor before a script)."""
    cuts = []
    for i, ch in _top_level(tex):
        if ch == " " and tex[i + 1: i + 2] not in ("", " ", "+", "-", "=", "^", "_", ")", ",") \
                and not _NO_CUT_AFTER.search(tex[:i]):
            cuts.append(i + 1)
    return cuts


def factors(tex: str) -> list[str]:
    """``tex`` (a product) cut between its top-level factors; ``"".join`` gives it back."""
    return _cut(tex, factor_cuts(tex))


def discretionary_times(tex: str) -> str:
    """``tex`` with ``\\*`` between its top-level factors: inline math may then break there,
    and LaTeX prints a × at such a break."""
    return "\\*".join(factors(tex))


_BRACED_GROUP = re.compile(r"\{(\\left[(\[])")


def _brace_depth(tex: str, index: int) -> int:
    depth, i = 0, 0
    while i < index:
        if tex[i] == "\\":
            i += 2
            continue
        depth += tex[i] == "{"
        depth -= tex[i] == "}"
        i += 1
    return depth


def _matching_brace(tex: str, index: int) -> int | None:
    """The index of the ``}`` closing the ``{`` at ``tex[index]`` (None when it is unclosed)."""
    depth, i = 0, index
    while i < len(tex):
        if tex[i] == "\\":
            i += 2
            continue
        depth += tex[i] == "{"
        depth -= tex[i] == "}"
        if depth == 0:
            return i
        i += 1
    return None


#: a function name whose argument SymPy wraps in braces: \log{\left(x \right)}, \tanh^{2}{…}
_FUNCTION_BEFORE = re.compile(r"\\(" + "|".join(sorted(_NAMED - {"operatorname"})) + r")(\^\{[^{}]*\})?\s*$")


def _braced_groups(tex: str) -> list[tuple[int, int]]:
    """(index of ``{``, index of its ``}``) of each top-level ``{\\left( … \\right)}`` that is
    a function's argument (never a macro's, as in ``\\frac{1}{\\left(x\\right)}``)."""
    found = []
    for m in _BRACED_GROUP.finditer(tex):
        if _brace_depth(tex, m.start()) or not _FUNCTION_BEFORE.search(tex[:m.start()]):
            continue
        close = _matching_brace(tex, m.start())
        if close is not None and re.search(r"\\right[)\]]\s*$", tex[m.start() + 1: close]):
            found.append((m.start(), close))
    return found


def _open_group(tex: str, width: float, used: float) -> list[str]:
    """``tex`` holding a ``\\left( … \\right)`` group too wide for a line: the group's inside
    cut into lines, each but the last ending ``\\right.``, each but the first starting
    ``\\left.`` (so every line's delimiters pair). A function's braced argument
    (``\\log{\\left(…\\right)}``) loses its braces when it is the group opened."""
    groups, stack = [], []
    for m in re.finditer(r"\\left(?![A-Za-z])|\\right(?![A-Za-z])", tex):
        if m.group(0) == "\\left":
            stack.append(m.start())
        elif stack:
            start = stack.pop()
            if not stack and tex[start + 5: start + 6] in "([" and not _brace_depth(tex, start):
                groups.append((start, m.start(), m.end() + 1))
    braced = _braced_groups(tex)
    widest_plain = max((g[1] - g[0] for g in groups), default=-1)
    widest_braced = max(braced, key=lambda g: g[1] - g[0], default=None)
    if widest_braced and widest_braced[1] - widest_braced[0] > widest_plain:
        brace, close = widest_braced
        return _open_group(tex[:brace] + tex[brace + 1: close] + tex[close + 1:], width, used)
    if not groups:
        return [tex]
    start, right, end = max(groups, key=lambda g: g[1] - g[0])
    prefix, inner, suffix = tex[:start], tex[start + 6: right], tex[end:]
    inner_lines = _lines(inner, width, used + math_width(prefix) + 0.5)
    if len(inner_lines) == 1:
        return [tex]
    opening, closing = tex[start: start + 6], tex[right: end]
    lines = [prefix + opening + inner_lines[0] + r" \right."]
    lines += [r"\left. " + line + r" \right." for line in inner_lines[1:-1]]
    lines.append(r"\left. " + inner_lines[-1] + closing + suffix)
    return lines


def _reciprocal_times(tex: str) -> str | None:
    """``\\frac{N}{D}`` whose numerator is the wide part, as ``\\frac{1}{D} N`` (a sum N in
    brackets): the same quotient, with N now at the top level where it can break."""
    sign, body = re.match(r"(\s*-?\s*)(.*?)\s*$", tex, re.DOTALL).groups()
    if not body.startswith("\\frac{"):
        return None
    numerator, i = _group(body, len("\\frac"))
    denominator, end = _group(body, i)
    if end != len(body) or numerator.strip() == "1" or math_width(numerator) <= math_width(denominator):
        return None
    inner = rf"\left({numerator}\right)" if len(terms(numerator)) > 1 else numerator
    return f"{sign}\\frac{{1}}{{{denominator}}} {inner}"


def _exp_of(tex: str, width: float) -> str | None:
    """``e^{X}`` with an exponent too wide for a line, as ``\\exp\\left(X\\right)`` (a script
    cannot break; a bracket can)."""
    sign, body = re.match(r"(\s*-?\s*)(.*?)\s*$", tex, re.DOTALL).groups()
    if not body.startswith("e^{"):
        return None
    exponent, end = _group(body, 2)
    if end != len(body) or math_width(exponent) * SCRIPT_SCALE <= width:
        return None
    return f"{sign}\\exp\\left({exponent}\\right)"


def _lines(tex: str, width: float, used: float = 0.0) -> list[str]:
    """``tex`` cut into lines of at most ``width`` em (the first has ``used`` em taken):
    before top-level + and −, else between factors (the next line starts with ``\\cdot``),
    else inside its widest bracket group. What cannot be cut stays whole."""
    if used + math_width(tex) <= width:
        return [tex]
    for split, joiner in ((terms, ""), (factors, r"\cdot ")):
        pieces = split(tex)
        if len(pieces) > 1:
            break
    else:
        rewritten = _reciprocal_times(tex) or _exp_of(tex, width)
        if rewritten is not None:
            return _lines(rewritten, width, used)
        return _open_group(tex, width, used)
    lines, line, room = [], "", used
    for piece in pieces:
        size = math_width(piece)
        if line.strip() and room + size > width:  # the piece starts a new line
            lines.append(line.rstrip())
            line = "" if _STARTS_WITH_OPERATOR.match(piece) else joiner  # ⊙ needs no ·
            room = math_width(line)
        if room + size > width:  # too wide even there: cut the piece itself
            sub = _lines(piece, width, room)
            if len(sub) > 1:
                lines.append((line + sub[0]).rstrip())
                lines += [part.rstrip() for part in sub[1:-1]]
                line, room = sub[-1], math_width(sub[-1])
                continue
        line += piece
        room += size
    lines.append(line.rstrip())
    return [line for line in lines if line.strip()]


def break_equation(lhs: str, rhs: str, width: float, relation: str = "=") -> str:
    """``lhs = rhs`` as display math no wider than ``width`` em where it can be: ``\\[ … \\]``
    when it fits, else ``multline*`` lines cut before top-level + and −, between factors, or
    inside a bracket group (``\\right.`` … ``\\left.``). When each side fits a line, ``lhs``
    and ``= rhs`` get one each; else the first line starts with ``lhs =``, or ``lhs`` stands
    on a line of its own when that leaves too little room."""
    head = f"{lhs} {relation} " if lhs else ""
    if math_width(head + rhs) <= width:
        return "\\[\n" + head + rhs + "\n\\]"
    if lhs and math_width(lhs) <= width and math_width(f"{relation} {rhs}") <= width:
        lines = [lhs, f"{relation} {rhs}"]  # each side whole on a line of its own
        return "\\begin{multline*}\n" + " \\\\\n".join(lines) + "\n\\end{multline*}"
    lines = _lines(rhs, width, math_width(head))
    if not lhs or math_width(head + lines[0]) <= width:
        lines = [head + lines[0], *lines[1:]]
    else:
        lines = [*_lines(lhs, width), *_lines(f"{relation} {rhs}", width)]
    if len(lines) == 1:
        return "\\[\n" + lines[0] + "\n\\]"
    return "\\begin{multline*}\n" + " \\\\\n".join(lines) + "\n\\end{multline*}"


def split_relation(tex: str) -> tuple[str, str] | None:
    """``(lhs, rhs)`` of ``lhs = rhs`` when ``tex`` has exactly one top-level ``=``."""
    found = [i for i, ch in _top_level(tex) if ch == "="]
    if len(found) != 1:
        return None
    return tex[:found[0]].strip(), tex[found[0] + 1:].strip()


def aligned_rows(lhs: str, rhs: str, width: float = LINE_EM, lhs_width: float | None = None) -> list[str]:
    """``lhs &= rhs`` as rows of an ``aligned`` block no wider than ``width`` em where it can
    be: the right side cut into lines (:func:`break_equation`'s cuts), each further line
    ``&\\quad …`` under the first. ``lhs_width``: the widest left side of the block."""
    room = width - (math_width(lhs) if lhs_width is None else lhs_width) - OPERATOR_EM
    lines = _lines(rhs, max(room, width / 2))
    return [f"{lhs} &= {lines[0]}", *(rf"&\quad {line}" for line in lines[1:])]


def _relation_cuts(tex: str) -> list[int]:
    """Where a chain ``a = b = c`` may break: before each top-level ``=``, ``\\approx``,
    ``\\le`` or ``\\ge`` (never the first token)."""
    cuts = [i for i, ch in _top_level(tex) if ch == "=" and tex[:i].strip()]
    cuts += [m.start() for m in re.finditer(r"\\(approx|le|ge|leq|geq|ne|Rightarrow)(?![A-Za-z])", tex)
             if tex[:m.start()].strip() and _at_top(tex, m.start())]
    return sorted(set(cuts))


def _at_top(tex: str, index: int) -> bool:
    """True when ``tex[index]`` is outside braces, environments and ``\\left … \\right``."""
    return next((depth == 0 for i, depth in _tokens(tex) if i >= index), True)


_QUAD_SEPARATOR = re.compile(r",?\s*\\q?quad(?![A-Za-z])\s*")


def _separate(tex: str) -> list[str]:
    """``tex`` cut at its top-level ``\\\\`` rows and ``\\quad`` gaps (``a,\\quad b``): the
    pieces a display may set on lines of their own."""
    pieces = []
    for row in _split_top(tex, "\\\\"):
        start = 0
        for m in _QUAD_SEPARATOR.finditer(row):
            if _at_top(row, m.start()):
                pieces.append(row[start:m.start()])
                start = m.end()
        pieces.append(row[start:])
    return [p.strip() for p in pieces if p.strip()]


def break_display(tex: str, width: float = LINE_EM) -> str:
    """Any math fragment as display math for a document, no wider than ``width`` em where
    it can be: its rows (``\\\\``) and ``\\quad``-separated parts on lines of their own, a
    chain ``a = b = c`` cut before its relations, and each part cut as :func:`break_equation`
    cuts a right side. A part that cannot be cut (a wide matrix) stays whole."""
    lines: list[str] = []
    rows = _split_top(tex, "\\\\")
    if len(rows) == 1 and math_width(tex) <= width:  # it fits as it is
        return "\\[\n" + tex.strip() + "\n\\]"
    for piece in _separate(tex):
        if math_width(piece) <= width:
            lines.append(piece)
            continue
        line, room = "", 0.0
        for part in _cut(piece, _relation_cuts(piece)):
            size = math_width(part)
            if room + size <= width:  # the part joins the line
                line, room = line + part, room + size
                continue
            sub = _lines(part, width, room) if line.strip() else []
            if len(sub) > 1 and room + math_width(sub[0]) <= width:  # it starts on the line
                lines += [(line + sub[0]).rstrip(), *(s.rstrip() for s in sub[1:-1])]
                line, room = sub[-1], math_width(sub[-1])
                continue
            if line.strip():
                lines.append(line.rstrip())
            sub = _lines(part.strip(), width)  # on a new line, cut if it must be
            lines += [s.rstrip() for s in sub[:-1]]
            line, room = sub[-1], math_width(sub[-1])
        if line.strip():
            lines.append(line.rstrip())
    lines = [line for line in lines if line.strip()]
    if len(lines) <= 1:
        return "\\[\n" + (lines[0] if lines else "") + "\n\\]"
    return "\\begin{gather*}\n" + " \\\\\n".join(lines) + "\n\\end{gather*}"
