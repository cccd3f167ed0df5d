"""LaTeX for a document's body, for the results that are not derivations: a verdict, a
gradient check, a linear-algebra answer with steps.

The same layout as a derivation's document LaTeX (:mod:`derivekit.render.layouts`): prose
in text mode so that it wraps, formulas as displays cut to the line by
:func:`derivekit.render.texbreak.break_display`, steps as list items. Nothing here is
``\\text{}`` inside an ``aligned`` or ``array`` row, which cannot break.
"""

from __future__ import annotations

from derivekit.render.texbreak import (
    LINE_EM,
    LIST_INDENT_EM,
    break_display,
    break_equation,
)
from derivekit.render.walk import text_mode_prose


def prose(text: str) -> str:
    """Plain English (it may hold σ, ′, −, _ or &) as text for a document: specials escaped,
    Unicode maths as inline math."""
    return text_mode_prose(text)


def heading(text: str) -> str:
    """A bold run-in heading that starts a paragraph: ``\\noindent\\textbf{…}``."""
    return rf"\noindent\textbf{{{prose(text)}}}"


def labelled(label: str, text: str) -> str:
    """A paragraph of its own, ``Label: text``, with the label in bold; ``text`` is prose."""
    return rf"\par\noindent\textbf{{{prose(label)}:}} {prose(text)}"


def display(latex: str, level: int = 0) -> str:
    """A math fragment (rows, ``\\quad`` gaps, chains of ``=``) as display math that fits the
    line inside ``level`` nested lists."""
    return break_display(latex, LINE_EM - LIST_INDENT_EM * level)


def equation(lhs: str, rhs: str, level: int = 0) -> str:
    """``lhs = rhs`` as display math that fits the line inside ``level`` nested lists."""
    return break_equation(lhs, rhs, LINE_EM - LIST_INDENT_EM * level)


def step_list(steps: list[tuple[str, str, str]], start: int = 1) -> str:
    """Numbered steps as a list: each (title, sentence, math) an item with its bold title,
    its sentence (prose) and its math as a display (left out when empty)."""
    out = [r"\begin{itemize}"]
    for number, (title, sentence, math) in enumerate(steps, start):
        out.append(rf"\item[\textbf{{{number}.}}] \textbf{{{prose(title)}.}} {prose(sentence)}")
        if math.strip():
            out.append(display(math, level=1))
    out.append(r"\end{itemize}")
    return "\n".join(out)
