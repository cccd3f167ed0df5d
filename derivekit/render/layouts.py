"""Page layouts of the renderers: how numbered step views become text, LaTeX, Markdown or a
dict. :mod:`derivekit.render.walk` does the traversal; each function here is a plain loop over
its :class:`~derivekit.render.walk.StepView` trees, in one format.
"""

from __future__ import annotations

import re
import textwrap

import sympy as sp

from derivekit.render.printing import merge_text_runs
from derivekit.render.texbreak import (
    LINE_EM,
    LIST_INDENT_EM,
    break_equation,
    math_width,
)
from derivekit.render.walk import (
    NO_BREAK,
    SCHEMA,
    DocumentWriter,
    LatexWriter,
    MarkdownWriter,
    TextWriter,
    Walk,
    fill_template,
    sentence,
)

_KIND_TITLES = {"gradient": "Gradient", "jacobian": "Jacobian", "hessian": "Hessian"}


def _stages(dview):
    """[(root step view, rewrites that tidy its result)], one per derivative order: the k-th
    root differentiates the (k−1)-th result, and the rewrites of order k follow it."""
    n = len(dview.steps)
    by_order: dict[int, list] = {}
    for rw in dview.derivation.rewrites:
        k = getattr(rw, "order", n)
        by_order.setdefault(k if 1 <= k <= n else n, []).append(rw)
    return [(root, by_order.get(k, [])) for k, root in enumerate(dview.steps, 1)]


def rewrite_description(rw, writer) -> str:
    """A rewrite's description in ``writer``'s format. Its ``detail`` values are printed as
    math: a template (``{factor}``) is filled, and in plain text the values' SymPy spelling
    (``x**2``) is replaced, so that the English need not be written twice."""
    detail = getattr(rw, "detail", None) or {}
    if detail and "{" in rw.description:
        try:
            return fill_template(rw.description, detail, writer)
        except ValueError:  # braces that are not a template
            pass
    values = [v for value in detail.values()
              for v in (value if isinstance(value, (list, tuple)) else [value])
              if isinstance(v, sp.Basic)]
    spelled = {sp.sstr(v): v for v in values}
    if not spelled:
        return writer.prose(rw.description)
    pattern = re.compile("|".join(re.escape(k) for k in sorted(spelled, key=len, reverse=True)))
    out, start = [], 0
    for m in pattern.finditer(rw.description):
        out += [writer.prose(rw.description[start:m.start()]), writer.value(spelled[m.group(0)])]
        start = m.end()
    return "".join(out) + writer.prose(rw.description[start:])


def _reference_note(view, walk) -> str:
    target = walk.ref_number(view)
    if target is None:
        return f"(the sub-derivation '{view.step.ref}', derived elsewhere)"
    return f"(derived {'above' if target < view.number else 'below'}, step {target})"


def _dependent(step):
    """The y of a step that finds dy/dx implicitly (its detail names the ``dependent``
    variable, and ``expr`` is F in F = 0); else None."""
    dependent = step.detail.get("dependent") if step.detail else None
    return dependent if isinstance(dependent, sp.Symbol) else None


def _lhs(writer, view) -> str:
    if (y := _dependent(view.step)) is not None:
        return writer.op(y, view.step.var, 1, False)
    return writer.op(view.step.expr, view.step.var, 1, view.partial)


def _result_lhs(writer, dview) -> str:
    d = dview.derivation
    if dview.steps and (y := _dependent(dview.steps[0].step)) is not None:
        return writer.op(y, d.wrt, d.order, False)
    return writer.op(d.expr, d.wrt, d.order, dview.partial)


# --- text ----------------------------------------------------------------------------------

def _text_steps(views, walk, w: TextWriter, lines: list[str], indent: str = "") -> None:
    for view in views:
        if view.depth == 0 and lines and lines[-1]:
            lines.append("")  # a blank line between the roots of a higher-order derivative
        head = f"{indent}{view.number}. {view.title}: {_lhs(w, view)} = {w.math(view.step.result)}"
        if view.step.ref:
            lines.append(f"{head}  {_reference_note(view, walk)}")
            continue
        body = indent + " " * (len(str(view.number)) + 2)  # under the title, past "12. "
        lines += [head, *_wrapped(sentence(view, w), body, w.settings["width"])]
        if view.step.facts:
            lines.append(body + "where " + ", ".join(
                f"{w.math(sym)} = {w.math(value)}" for sym, value in view.step.facts))
        _text_steps(view.children, walk, w, lines, body)


def _wrapped(text: str, indent: str, width: int | None) -> list[str]:
    """``text`` after ``indent``; wrapped to ``width`` columns, each line indented alike."""
    if not width:
        return [indent + text]
    lines = textwrap.wrap(text, width=max(width, len(indent) + 20), initial_indent=indent,
                          subsequent_indent=indent, break_long_words=False,
                          break_on_hyphens=False) or [indent]
    return [line.replace(NO_BREAK, " ") for line in lines]


def _text_equation(lhs: str, rhs_lines: list[str]) -> list[str]:
    """``lhs = rhs``, with a multi-line right side (a matrix) aligned after the ``=``."""
    lead = f"{lhs} = "
    return [lead + rhs_lines[0]] + [" " * len(lead) + line for line in rhs_lines[1:]]


def _text_derivation_body(dview, walk, w, settings, lines) -> None:
    d = dview.derivation
    if settings["steps"] and dview.steps:
        for root, rewrites in _stages(dview):
            _text_steps([root], walk, w, lines)
            if rewrites:
                lines += ["", "Tidy into textbook form:"]
                lines += [f"   {rewrite_description(rw, w)}: {w.math(rw.before)} = {w.math(rw.after)}"
                          for rw in rewrites]
        lines += ["", "Result:"]
    lines.extend(_text_equation(_result_lhs(w, dview), w.math(d.result).split("\n")))


def text_derivation(dview, walk: Walk, settings) -> str:
    w = TextWriter(settings)
    lines = [_result_lhs(w, dview), ""] if settings["steps"] and dview.steps else []
    _text_derivation_body(dview, walk, w, settings, lines)
    return "\n".join(lines)


def _matrix_sections(m, views, first_views):
    """(label, derivation view) for each part shown: for a Hessian the first derivatives
    ∂f/∂xᵢ, then every entry; for a gradient each entry; for a Jacobian each entry (i, j)."""
    sections = [(f"First derivative {i + 1}", dv) for i, dv in enumerate(first_views)]
    for i, row in enumerate(views):
        for j, dv in enumerate(row):
            sections.append((f"Entry {i + 1}" if m.kind == "gradient" else f"Entry ({i + 1}, {j + 1})", dv))
    # entries computed without steps (the fast path for large inputs) are in the matrix already
    return [(label, dv) for label, dv in sections if dv.steps]


_MATRIX_SYMBOLS = {"gradient": ("∇f", r"\nabla f"), "jacobian": ("J", "J"), "hessian": ("H", "H")}


def _matrix_symbol(m, latex: bool) -> str:
    return _MATRIX_SYMBOLS.get(m.kind, ("M", "M"))[latex]


def _listed(items: list[str], open_: str, close: str, sep: str, one: str = "{}") -> str:
    """One function as itself; several (a Jacobian's) as a tuple: (x·y, x + y)."""
    return one.format(items[0]) if len(items) == 1 else open_ + sep.join(items) + close


def _kind_title(m) -> str:
    return _KIND_TITLES.get(m.kind, m.kind.capitalize())


def text_matrix(m, views, first_views, walk, settings) -> str:
    w = TextWriter(settings)
    exprs = _listed([w.math(e) for e in m.exprs], "(", ")", ", ")
    wrt = ", ".join(w.math(v) for v in m.wrt)
    lines = [f"{_kind_title(m)} of {exprs} with respect to {wrt}", ""]
    lines += _text_equation(_matrix_symbol(m, False), w.math(m.result).split("\n"))
    if settings["steps"]:
        for label, dview in _matrix_sections(m, views, first_views):
            lines += ["", f"{label}: {_result_lhs(w, dview)}"]
            _text_derivation_body(dview, walk, w, settings, lines)
    return "\n".join(lines)


# --- LaTeX ---------------------------------------------------------------------------------

def _latex_note_row(depth: int, body: str) -> str:
    return r"&\qquad" + r"\quad" * depth + " " + body


def _latex_steps(views, walk, w: LatexWriter, rows: list[str]) -> None:
    for view in views:
        rows.append(f"{_lhs(w, view)} &= {w.math(view.step.result)}")
        title = w.prose(f"{view.number}. {view.title}")
        if view.step.ref:
            rows.append(_latex_note_row(view.depth, title + w.prose(" " + _reference_note(view, walk))))
            continue
        rows.append(_latex_note_row(view.depth, title + w.prose(": ") + sentence(view, w)))
        if view.step.facts:
            facts = w.prose(", ").join(f"{w.math(s)} = {w.math(v)}" for s, v in view.step.facts)
            rows.append(_latex_note_row(view.depth, w.prose("where ") + facts))
        _latex_steps(view.children, walk, w, rows)


def _latex_derivation_rows(dview, walk, w, settings, rows) -> None:
    d = dview.derivation
    if settings["steps"] and dview.steps:
        for root, rewrites in _stages(dview):
            _latex_steps([root], walk, w, rows)
            for rw in rewrites:
                rows.append("&" + w.prose("Tidy: ") + rewrite_description(rw, w))
                rows.append(f"{w.math(rw.before)} &= {w.math(rw.after)}")
        rows.append("&" + r"\textbf{" + "Result" + "}")
    rows.append(f"{_result_lhs(w, dview)} &= {w.math(d.result)}")


def _latex_environment(rows: list[str], settings) -> str:
    body = merge_text_runs(" \\\\\n".join(rows))
    return f"\\begin{{aligned}}\n{body}\n\\end{{aligned}}"


def latex_derivation(dview, walk, settings) -> str:
    if settings["document"]:
        return document_derivation(dview, walk, settings)
    w = LatexWriter(settings)
    rows: list[str] = []
    _latex_derivation_rows(dview, walk, w, settings, rows)
    return _latex_environment(rows, settings)


def latex_matrix(m, views, first_views, walk, settings) -> str:
    if settings["document"]:
        return document_matrix(m, views, first_views, walk, settings)
    w = LatexWriter(settings)
    exprs = _listed([w.math(e) for e in m.exprs], r"\left(", r"\right)", w.prose(", "))
    wrt = w.prose(", ").join(w.math(v) for v in m.wrt)
    rows = ["&" + w.prose(f"{_kind_title(m)} of ") + exprs + w.prose(" with respect to ") + wrt,
            f"{_matrix_symbol(m, True)} &= {w.math(m.result)}"]
    if settings["steps"]:
        for label, dview in _matrix_sections(m, views, first_views):
            rows.append(r"&\textbf{" + label + "}")
            _latex_derivation_rows(dview, walk, w, settings, rows)
    return _latex_environment(rows, settings)


# --- LaTeX for a document: prose that wraps, equations that break ---------------------------
# A notebook's LaTeX (above) is one ``aligned`` block for MathJax, and an ``aligned`` row
# cannot break: a long sentence runs off a page. In a document each step is a list item
# whose sentence is text-mode prose, followed by its equation as a display, cut into
# ``multline*`` lines at top-level + and − when it is wider than the line.

DISPLAY_EM = LINE_EM  # the width a display may take at the top level
MAX_LIST_DEPTH = 4    # LaTeX's limit for nested itemize; deeper steps stay at the fourth level


def _display_width(level: int) -> float:
    return DISPLAY_EM - LIST_INDENT_EM * level


def _entry_name(symbol: str, shape, i: int, j: int) -> str:
    index = f"{i + 1}" if shape[1] == 1 else (f"{i + 1}{j + 1}" if max(shape) < 10 else f"{i + 1},{j + 1}")
    return f"{symbol}_{{{index}}}" if symbol.isalpha() else rf"\left({symbol}\right)_{{{index}}}"


def _document_equation(w, lhs: str, value, level: int) -> str:
    """``lhs = value`` as display math for a document, broken to fit the line at list depth
    ``level``; a matrix too wide for the line is shown entry by entry instead."""
    width = _display_width(level)
    rhs = w.math(value)
    if isinstance(value, sp.MatrixBase) and math_width(f"{lhs} = {rhs}") > width:
        rows, cols = value.shape
        entries = [break_equation(_entry_name(lhs, value.shape, i, j), w.math(value[i, j]), width)
                   for i in range(rows) for j in range(cols)]
        return (f"${lhs}$ is ${rows} \\times {cols}$, too wide for the line; its entries, "
                f"row by row:\n" + "\n".join(entries))
    return break_equation(lhs, rhs, width)


def _document_items(views, walk, w: DocumentWriter, out: list[str], level: int) -> None:
    for view in views:
        head = rf"\item[\textbf{{{view.number}.}}] \textbf{{{w.prose(view.title)}.}} "
        equation = _document_equation(w, _lhs(w, view), view.step.result, level + 1)
        if view.step.ref:
            out += [head + w.prose(_reference_note(view, walk)), equation]
            continue
        out += [head + sentence(view, w), equation]
        if view.step.facts:
            out.append("where " + ", ".join(f"${w.math(s)} = {w.math(v)}$" for s, v in view.step.facts))
        if not view.children:
            continue
        if level + 1 < MAX_LIST_DEPTH:
            out.append(r"\begin{itemize}")
            _document_items(view.children, walk, w, out, level + 1)
            out.append(r"\end{itemize}")
        else:
            _document_items(view.children, walk, w, out, level)


def _document_body(dview, walk, w, settings, out: list[str]) -> None:
    d = dview.derivation
    if settings["steps"] and dview.steps:
        for root, rewrites in _stages(dview):
            out.append(r"\begin{itemize}")
            _document_items([root], walk, w, out, 0)
            out.append(r"\end{itemize}")
            if rewrites:
                out += [r"\noindent Tidy into textbook form:", r"\begin{itemize}"]
                for rw in rewrites:
                    out += [r"\item " + rewrite_description(rw, w) + ":",
                            _document_equation(w, w.math(rw.before), rw.after, 1)]
                out.append(r"\end{itemize}")
        out.append(r"\noindent\textbf{Result}")
    out.append(_document_equation(w, _result_lhs(w, dview), d.result, 0))


def document_derivation(dview, walk, settings) -> str:
    """A derivation as LaTeX for a document's body (needs amsmath): the steps as a nested
    ``itemize``, each with its sentence in text mode and its equation as a display."""
    w = DocumentWriter(settings)
    out: list[str] = []
    if settings["steps"] and dview.steps:
        out += [r"\noindent\textbf{Differentiate}", break_equation("", _result_lhs(w, dview), _display_width(0))]
    _document_body(dview, walk, w, settings, out)
    return "\n".join(out)


def document_matrix(m, views, first_views, walk, settings) -> str:
    """A gradient, Jacobian or Hessian as LaTeX for a document's body: the matrix (entry by
    entry when it is too wide), then each entry's derivation."""
    w = DocumentWriter(settings)
    exprs = _listed([w.math(e) for e in m.exprs], "$(", ")$", ", ", one="${}$")
    wrt = ", ".join(w.inline(v) for v in m.wrt)
    out = [rf"\noindent\textbf{{{_kind_title(m)}}} of {exprs} with respect to {wrt}:",
           _document_equation(w, _matrix_symbol(m, True), m.result, 0)]
    if settings["steps"]:
        for label, dview in _matrix_sections(m, views, first_views):
            out += [rf"\par\medskip\noindent\textbf{{{label}:}}",
                    break_equation("", _result_lhs(w, dview), _display_width(0))]
            _document_body(dview, walk, w, settings, out)
    return "\n".join(out)


# --- Markdown ------------------------------------------------------------------------------

def _md_steps(views, walk, w: MarkdownWriter, lines: list[str]) -> None:
    # Nesting by four spaces and each equation as a paragraph of its own: the form that
    # CommonMark (GitHub, Jupyter) and Python-Markdown (mkdocs, with arithmatex) both read
    # as nested lists with display maths.
    for view in views:
        pad = "    " * view.depth
        body = pad + "    "
        equation = f"{body}$${_lhs(w, view)} = {w.math(view.step.result)}$$"
        title = f"**{view.number}. {w.prose(view.title)}.**"
        if view.step.ref:
            lines += [f"{pad}- {title} {w.prose(_reference_note(view, walk))}", "", equation, ""]
            continue
        lines += [f"{pad}- {title} {sentence(view, w)}", "", equation, ""]
        if view.step.facts:
            lines += [body + "where " + ", ".join(
                f"${w.math(s)} = {w.math(v)}$" for s, v in view.step.facts), ""]
        _md_steps(view.children, walk, w, lines)


def _md_derivation_body(dview, walk, w, settings, lines) -> None:
    d = dview.derivation
    if settings["steps"] and dview.steps:
        for root, rewrites in _stages(dview):
            if lines and lines[-1]:
                lines.append("")
            _md_steps([root], walk, w, lines)
            if rewrites:
                lines += ["", "Tidy into textbook form:", ""]
                lines += [f"- {rewrite_description(rw, w)}: ${w.math(rw.before)} = {w.math(rw.after)}$"
                          for rw in rewrites]
        lines += ["", "**Result**", ""]
    lines.append(f"$${_result_lhs(w, dview)} = {w.math(d.result)}$$")


def _md_join(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def markdown_derivation(dview, walk, settings) -> str:
    w = MarkdownWriter(settings)
    lines: list[str] = []
    if settings["steps"] and dview.steps:
        lines += [f"**Differentiate** ${_result_lhs(w, dview)}$", ""]
    _md_derivation_body(dview, walk, w, settings, lines)
    return _md_join(lines)


def markdown_matrix(m, views, first_views, walk, settings) -> str:
    w = MarkdownWriter(settings)
    exprs = _listed([w.math(e) for e in m.exprs], "$(", ")$", ", ", one="${}$")
    wrt = ", ".join(w.inline(v) for v in m.wrt)
    lines = [f"**{_kind_title(m)}** of {exprs} with respect to {wrt}:", "",
             f"$${_matrix_symbol(m, True)} = {w.math(m.result)}$$"]
    if settings["steps"]:
        for label, dview in _matrix_sections(m, views, first_views):
            lines += ["", f"**{label}:** ${_result_lhs(w, dview)}$", ""]
            _md_derivation_body(dview, walk, w, settings, lines)
    return _md_join(lines)


# --- dict (JSON-ready) ---------------------------------------------------------------------

class _DictWriters:
    """The three spellings of every expression in the dict: text, LaTeX and SymPy's str."""

    def __init__(self, settings):
        self.text, self.latex, self.markdown = (TextWriter({**settings, "width": None}),
                                                LatexWriter(settings), MarkdownWriter(settings))
        self._spelled: dict = {}  # the same expressions recur in many steps

    def math(self, expr) -> dict:
        key = (type(expr), expr) if isinstance(expr, sp.Basic) else None  # matrices: unhashable
        spelled = self._spelled.get(key)
        if spelled is None:
            spelled = {"text": self.text.math(expr), "latex": self.latex.math(expr),
                       "sympy": str(expr)}
            if key is not None:
                self._spelled[key] = spelled
        return dict(spelled)

    def op(self, expr, var, order, partial) -> dict:
        return {"text": self.text.op(expr, var, order, partial),
                "latex": self.latex.op(expr, var, order, partial)}

    def detail(self, value):
        import sympy as sp

        if isinstance(value, (list, tuple)):
            return [self.detail(v) for v in value]
        if isinstance(value, sp.Basic) or isinstance(value, type) and issubclass(value, sp.Basic):
            return self.math(value)
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        return str(value)


def _dict_step(view, walk, dw: _DictWriters) -> dict:
    step, rule = view.step, view.rule
    return {
        "number": view.number,
        "rule": step.rule,
        "title": view.title,
        "statement": {"text": rule.statement_text, "latex": rule.statement} if rule else None,
        "explanation": {"text": sentence(view, dw.text), "latex": merge_text_runs(sentence(view, dw.latex)),
                        "markdown": sentence(view, dw.markdown)} if not step.ref else None,
        "derivative": {"text": _lhs(dw.text, view), "latex": _lhs(dw.latex, view)},
        "expr": dw.math(step.expr),
        "var": dw.math(step.var),
        "result": dw.math(step.result),
        "facts": [{"symbol": dw.math(s), "value": dw.math(v)} for s, v in step.facts],
        "detail": {k: dw.detail(v) for k, v in step.detail.items()},
        "label": step.label,
        "ref": step.ref,
        "ref_number": walk.ref_number(view),
        "substeps": [_dict_step(child, walk, dw) for child in view.children],
    }


def _dict_derivation_body(dview, walk, dw, settings) -> dict:
    d = dview.derivation
    return {
        "kind": "derivative",
        "expr": dw.math(d.expr),
        "wrt": dw.math(d.wrt),
        "order": d.order,
        "derivative": {"text": _result_lhs(dw.text, dview), "latex": _result_lhs(dw.latex, dview)},
        "steps": [_dict_step(v, walk, dw) for v in dview.steps] if settings["steps"] else [],
        "raw_result": dw.math(d.raw_result),
        "rewrites": [{"description": rewrite_description(rw, dw.text),
                      "order": getattr(rw, "order", d.order), "before": dw.math(rw.before),
                      "after": dw.math(rw.after)} for rw in d.rewrites],
        "result": dw.math(d.result),
    }


def _dict_header(settings) -> dict:
    return {"schema": SCHEMA, "notation": settings["notation"]}


def dict_derivation(dview, walk, settings) -> dict:
    return {**_dict_header(settings), **_dict_derivation_body(dview, walk, _DictWriters(settings), settings)}


def dict_matrix(m, views, first_views, walk, settings) -> dict:
    dw = _DictWriters(settings)
    return {
        **_dict_header(settings),
        "kind": m.kind,
        "exprs": [dw.math(e) for e in m.exprs],
        "wrt": [dw.math(v) for v in m.wrt],
        "shape": list(m.result.shape),
        "result": dw.math(m.result),
        "first_derivatives": [_dict_derivation_body(dv, walk, dw, settings) for dv in first_views],
        "entries": [[_dict_derivation_body(dv, walk, dw, settings) for dv in row] for row in views],
    }


DERIVATION_LAYOUTS = {"text": text_derivation, "latex": latex_derivation,
                      "markdown": markdown_derivation, "dict": dict_derivation}
MATRIX_LAYOUTS = {"text": text_matrix, "latex": latex_matrix,
                  "markdown": markdown_matrix, "dict": dict_matrix}
