"""The step record and the one renderer shared by every linear-algebra result.

A linear-algebra result (a dot product, a determinant, an eigen-decomposition, a PCA) is a
dataclass holding its answer and a list of :class:`LinalgStep` records. Each step carries its
title, one explanation sentence, and the step's mathematics written twice, once in LaTeX and
once in plain Unicode text. :func:`render_result` walks that list for every output format; it
never recomputes anything.

The helpers :func:`tex` and :func:`txt` turn SymPy values, matrices and NumPy arrays into the
two notations, with floating-point numbers shortened to a readable number of digits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from derivekit.display import Displayable

DIGITS = 6  # significant digits shown for floating-point numbers
SCHEMA = "derivekit.linalg/1"  # the version of the dict/JSON layout below


@dataclass(frozen=True)
class LinalgStep:
    """One step of a linear-algebra derivation.

    ``marked_title`` and ``marked_explanation`` (what is done and why) are English with each
    formula in it marked ``$…$``, as a calculus rule's template is: every format prints a
    formula as ONE math run (:func:`step_prose`); ``title`` and ``explanation`` are the plain
    text. ``latex`` and ``text`` are the step's mathematics in LaTeX and in Unicode text;
    ``text`` may span several lines (matrices). ``literals`` are (name, text) pairs for
    ``{name}`` fields of the explanation holding the user's own words (a file name, column
    names), printed as prose whatever they contain (a ``$`` there is no formula).
    """

    marked_title: str
    marked_explanation: str
    latex: str
    text: str
    literals: tuple[tuple[str, str], ...] = ()

    @property
    def title(self) -> str:
        return step_prose(self.marked_title, "text")

    @property
    def explanation(self) -> str:
        return step_prose(self.marked_explanation, "text", self.literals)

    def sentence(self, fmt: str) -> str:
        """The explanation in ``fmt`` (see :func:`step_prose`)."""
        return step_prose(self.marked_explanation, fmt, self.literals)

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "explanation": self.explanation,
                "latex": self.latex, "text": self.text}


class StepsResult(Displayable):
    """Mixin for result dataclasses with a ``steps`` list.

    Subclasses provide ``heading`` (a short title), ``answer_text`` / ``answer_latex``
    (the final answer in each notation) and ``_payload()`` (the JSON-ready answer fields).
    """

    steps: list[LinalgStep]

    heading: str = "Result"

    @property
    def answer_text(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def answer_latex(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _payload(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _render(self, fmt: str, **settings) -> Any:
        return render_result(self, fmt, **settings)


# --------------------------------------------------------------------------- rendering

def render_result(result: StepsResult, fmt: str, *, steps: bool = True, **_settings) -> Any:
    """Render ``result`` as text, latex, markdown or a JSON-ready dict; ``steps=False``
    gives the answer alone."""
    if fmt == "dict":
        data = {"schema": SCHEMA, "kind": type(result).__name__, "heading": result.heading,
                "answer": {"text": result.answer_text, "latex": result.answer_latex}}
        data.update(result._payload())
        if steps:
            data["steps"] = [step.to_dict() for step in result.steps]
        return data
    if fmt == "text":
        lines = [result.heading, ""]
        if steps:
            for number, step in enumerate(result.steps, 1):
                lines.append(f"{number}. {step.title}")
                lines.append(f"   {step.explanation}")
                lines.extend(f"   {line}" for line in step.text.splitlines())
            lines.append("")
        lines.append(f"Result: {result.answer_text}")
        return "\n".join(lines)
    if fmt == "latex" and _settings.get("document"):
        return _document_latex(result, steps)
    if fmt == "latex":
        rows = [rf"\mathbf{{{latex_prose(result.heading)}}}"]
        if steps:
            for number, step in enumerate(result.steps, 1):
                rows.append(latex_prose(f"{number}. ") + step_prose(step.marked_title, "latex")
                            + latex_prose(": ") + step.sentence("latex"))
                rows.append(step.latex)
        rows.append(r"\text{Result: }" + result.answer_latex)
        return "\\begin{array}{l}\n" + " \\\\\n".join(rows) + "\n\\end{array}"
    if fmt == "markdown":
        parts = [f"### {markdown_prose(result.heading)}", ""]
        if steps:
            for number, step in enumerate(result.steps, 1):
                parts += [f"**{number}. {step_prose(step.marked_title, 'markdown')}.** "
                          f"{step.sentence('markdown')}", "",
                          f"$$\n{step.latex}\n$$", ""]
        parts.append(f"**Result:** ${result.answer_latex}$")
        return "\n".join(parts)
    from derivekit.errors import DerivekitError
    raise DerivekitError(f"unknown format '{fmt}'", hint="use text, latex, markdown or json")


def _document_latex(result: StepsResult, steps: bool) -> str:
    """LaTeX for a document's body: the heading, each step a list item whose sentence wraps
    and whose mathematics is a display cut to the line, then the result."""
    from derivekit.render import docblocks
    out = [docblocks.heading(result.heading)]
    if steps and result.steps:
        # docblocks.step_list would read the sentences as prose; here each formula is math
        out.append(r"\begin{itemize}")
        for number, step in enumerate(result.steps, 1):
            out.append(rf"\item[\textbf{{{number}.}}] \textbf{{{step_prose(step.marked_title, 'document')}.}} "
                       + step.sentence("document"))
            if step.latex.strip():
                out.append(docblocks.display(step.latex, level=1))
        out.append(r"\end{itemize}")
    out += [r"\par" + docblocks.heading("Result"), docblocks.display(result.answer_latex)]
    return "\n".join(out)


#: the formats :func:`step_prose` writes: ``latex`` is math mode (an ``array`` row),
#: ``document`` is a document's text mode
PROSE_FORMATS = ("text", "latex", "markdown", "document")


def step_prose(marked: str, fmt: str, literals: tuple[tuple[str, str], ...] = ()) -> str:
    """A step's English with ``$…$`` formulas in ``fmt``: each formula printed whole by the
    derivation renderers' writer (plain Unicode in text, one math run otherwise), the rest
    as that format's prose; with ``literals``, ``{name}`` fields are those texts as prose."""
    writer = _prose_writer(fmt)
    if literals:
        from derivekit.render.walk import fill_template
        return fill_template(marked, {name: _Literal(text) for name, text in literals}, writer)
    return writer.value(marked)


class _Literal:
    """The user's text in a sentence: not a ``str``, so no writer reads ``$`` in it as math."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text


@functools.cache
def _prose_writer(fmt: str):
    from derivekit.render.printing import check_settings
    from derivekit.render.walk import (
        DocumentWriter,
        LatexWriter,
        MarkdownWriter,
        TextWriter,
    )
    writers = dict(zip(PROSE_FORMATS, (TextWriter, LatexWriter, MarkdownWriter, DocumentWriter)))
    return writers[fmt](check_settings({}))


def latex_prose(text: str) -> str:
    """English inside math mode, as the rest of derivekit writes it (``\\text{}`` runs, with
    special and non-ASCII characters as math), so MathJax, KaTeX and pdflatex accept it."""
    from derivekit.render.printing import latex_prose as project_latex_prose
    return project_latex_prose(text)


def markdown_prose(text: str) -> str:
    """English for Markdown: characters that would start emphasis, code, math or HTML escaped."""
    for char in "\\`*_$<":
        text = text.replace(char, "\\" + char)
    return text


# --------------------------------------------------------------------------- notation helpers

@functools.lru_cache(maxsize=1)
def _project_text_printer():
    """derivekit's Unicode text printer (textbook order, ·, −, √, superscripts), shared with
    the derivation renderers so every result reads the same."""
    from derivekit.render.printing import check_settings, text_printer
    return text_printer(check_settings({}))


def _text_expr(expr: sp.Basic) -> str:
    """One SymPy value as text; complex numbers as ``a + bi`` (real part first)."""
    printer = _project_text_printer()
    if isinstance(expr, sp.MatrixBase):
        return "[" + ", ".join("[" + ", ".join(_text_expr(expr[i, j]) for j in range(expr.cols)) + "]"
                               for i in range(expr.rows)) + "]"
    expr = short_floats(expr)
    if isinstance(expr, sp.Expr) and expr.is_number and expr.has(sp.I) and not expr.is_Mul:
        real, imag = expr.as_real_imag()
        if real != 0 and imag != 0:
            negative = bool(imag.is_negative) or (imag.is_number and float(imag) < 0)
            imag_part = printer.doprint((-imag if negative else imag) * sp.I)
            return f"{printer.doprint(real)} {'−' if negative else '+'} {imag_part}"
    return printer.doprint(expr)


def number_text(value: float, digits: int = DIGITS) -> str:
    """:func:`format_number` for text output, with the Unicode minus sign."""
    return format_number(value, digits).replace("-", "−")


def format_number(value: float, digits: int = DIGITS) -> str:
    """A float with ``digits`` significant digits, integers without a trailing ``.0``."""
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def short_floats(expr: Any, digits: int = DIGITS) -> Any:
    """``expr`` with every Float rounded to ``digits`` significant digits (for display)."""
    if not isinstance(expr, sp.Basic):
        return expr
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: sp.Float(float(f), digits) for f in floats})


@functools.lru_cache(maxsize=256)
def _root_value(root: sp.CRootOf) -> sp.Expr:
    """A ``CRootOf`` to 30 digits, computed once (refining its interval is slow)."""
    return sp.N(root, 30)


def _show_roots(value: Any) -> Any:
    """Exact ``CRootOf`` roots (no readable radicals) become 6-digit numbers for display."""
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(_show_roots) if value.has(sp.CRootOf) else value
    if isinstance(value, sp.Basic) and value.has(sp.CRootOf) and not value.free_symbols:
        exact = value.xreplace({root: _root_value(root) for root in value.atoms(sp.CRootOf)})
        number = complex(sp.N(exact, 15))
        real = sp.Float(number.real, DIGITS)
        return real if abs(number.imag) < 1e-14 * max(1.0, abs(number)) else \
            real + sp.I * sp.Float(number.imag, DIGITS)
    return value


def txt(value: Any) -> str:
    """Unicode text for a SymPy value, matrix, NumPy array or number (one line)."""
    value = _show_roots(value)
    if isinstance(value, np.ndarray):
        return array_text(value)
    if isinstance(value, (float, np.floating)):
        return number_text(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value)).replace("-", "−")
    if isinstance(value, (complex, np.complexfloating)):
        number = complex(value)
        return _text_expr(sp.Float(number.real) + sp.I * sp.Float(number.imag))
    return _text_expr(value)


def tex(value: Any) -> str:
    """LaTeX for a SymPy value, matrix, NumPy array or number (matrices as bmatrix)."""
    value = _show_roots(value)
    if isinstance(value, np.ndarray):
        return array_latex(value)
    if isinstance(value, (float, np.floating)):
        return format_number(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, sp.MatrixBase):
        return matrix_latex(value)
    return sp.latex(short_floats(value))


def matrix_latex(matrix: sp.MatrixBase) -> str:
    rows = [" & ".join(sp.latex(short_floats(matrix[i, j])) for j in range(matrix.cols))
            for i in range(matrix.rows)]
    return "\\begin{bmatrix}" + r" \\ ".join(rows) + "\\end{bmatrix}"


MAX_ANSWER_ENTRIES = 36  # larger matrices are abbreviated in one-line answers


def matrix_answer_text(matrix: sp.MatrixBase) -> str:
    """A matrix on one line, abbreviated to its shape and corner when it is large."""
    if matrix.rows * matrix.cols <= MAX_ANSWER_ENTRIES:
        return txt(matrix)
    corner = matrix[:min(3, matrix.rows), :min(3, matrix.cols)]
    rows = ["[" + ", ".join(txt(x) for x in corner.row(i)) + ", …]" for i in range(corner.rows)]
    return f"({shape_text(matrix.shape)}) [" + ", ".join(rows) + ", …]"


def matrix_answer_latex(matrix: sp.MatrixBase) -> str:
    """A bmatrix, cut to its top-left 4×4 corner with dots when it is large."""
    if matrix.rows * matrix.cols <= MAX_ANSWER_ENTRIES:
        return tex(matrix)
    rows, cols = min(4, matrix.rows), min(4, matrix.cols)
    lines = [" & ".join(tex(matrix[i, j]) for j in range(cols))
             + (r" & \cdots" if cols < matrix.cols else "") for i in range(rows)]
    if rows < matrix.rows:
        lines.append(" & ".join([r"\vdots"] * cols) + (r" & \ddots" if cols < matrix.cols else ""))
    return "\\begin{bmatrix}" + r" \\ ".join(lines) + "\\end{bmatrix}" \
        + rf"_{{{shape_latex(matrix.shape)}}}"


def matrix_grid(matrix: sp.MatrixBase | np.ndarray) -> str:
    """A matrix as an aligned multi-line grid with bracket edges, for text output."""
    if isinstance(matrix, np.ndarray):
        array = np.atleast_2d(matrix)
        cells = [[txt(array[i, j]) for j in range(array.shape[1])] for i in range(array.shape[0])]
    else:
        matrix = _show_roots(matrix)
        cells = [[txt(matrix[i, j]) for j in range(matrix.cols)] for i in range(matrix.rows)]
    if not cells or not cells[0]:
        return "[]"
    widths = [max(len(row[j]) for row in cells) for j in range(len(cells[0]))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in cells]
    if len(lines) == 1:
        return f"[{lines[0]}]"
    edges = [("⎡", "⎤")] + [("⎢", "⎥")] * (len(lines) - 2) + [("⎣", "⎦")]
    return "\n".join(f"{left}{line}{right}" for (left, right), line in zip(edges, lines))


def labelled_grid(label: str, matrix: sp.MatrixBase | np.ndarray) -> str:
    """``label = <grid>`` with the label on the grid's middle line."""
    lines = matrix_grid(matrix).splitlines()
    middle = (len(lines) - 1) // 2
    pad = " " * (len(label) + 3)
    return "\n".join((f"{label} = " if i == middle else pad) + line for i, line in enumerate(lines))


def array_text(array: np.ndarray, max_rows: int = 6) -> str:
    array = np.asarray(array)
    if array.ndim == 1:
        return "[" + ", ".join(txt(x) for x in array) + "]"
    shown = array[:max_rows]
    body = "[" + ", ".join(array_text(row) for row in shown)
    if array.shape[0] > max_rows:
        body += f", … ({array.shape[0] - max_rows} more rows)"
    return body + "]"


def array_latex(array: np.ndarray, max_rows: int = 6) -> str:
    array = np.atleast_2d(np.asarray(array))
    rows = [" & ".join(tex(x) for x in row) for row in array[:max_rows]]
    if array.shape[0] > max_rows:
        rows.append(" & ".join([r"\vdots"] * array.shape[1]))
    return "\\begin{bmatrix}" + r" \\ ".join(rows) + "\\end{bmatrix}"


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape)


def shape_latex(shape: tuple[int, ...]) -> str:
    return r" \times ".join(str(n) for n in shape)


def to_jsonable(value: Any) -> Any:
    """NumPy arrays and SymPy values as JSON-ready lists, numbers and strings."""
    if isinstance(value, np.ndarray):
        if np.iscomplexobj(value):
            return [to_jsonable(x) for x in value.tolist()] if value.ndim else to_jsonable(value.item())
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_jsonable(x) for x in value]
    if isinstance(value, complex):
        return {"re": value.real, "im": value.imag}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.complexfloating):
        return to_jsonable(complex(value))
    if isinstance(value, sp.MatrixBase):
        return [[to_jsonable(value[i, j]) for j in range(value.cols)] for i in range(value.rows)]
    if isinstance(value, sp.Basic):
        if value.is_Integer:
            return int(value)
        if value.is_Float:
            return float(value)
        return str(value)
    return value
