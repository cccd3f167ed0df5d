"""Render a :class:`~derivekit.calculus.steps.Derivation` or :class:`~derivekit.calculus.steps.MatrixOfDerivations`
as text, LaTeX, Markdown or a JSON-ready dict.

One traversal (:class:`Walk`) numbers the steps depth first, resolves references to shared
sub-derivations and looks up each step's rule; it builds :class:`StepView` trees. A small
writer per format then lays those views out. Nothing here differentiates or simplifies: the
renderers only print what the step engine produced.

Settings (one dict, see :data:`derivekit.render.printing.DEFAULT_SETTINGS`): ``notation``
(``"leibniz"`` or ``"prime"``), ``steps`` (False: result only), ``document`` (LaTeX for
a document's body: steps as list items whose sentences wrap, equations as displays broken
to fit the line, instead of one ``aligned`` block), plus SymPy's printer settings
(``ln_notation``, ``diff_operator``, ``mul_symbol``, ``order`` …).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

import sympy as sp

from derivekit.calculus.steps import Derivation, MatrixOfDerivations, Rule, Step
from derivekit.errors import DerivekitError
from derivekit.render import printing

#: version of the dict/JSON layout documented in docs/output-formats.md
SCHEMA = "derivekit.derivation/1"

FORMATS = ("text", "latex", "markdown", "dict")


def _load_rules() -> dict[str, Rule]:
    """The rule table, imported on first use (tests replace this function)."""
    try:
        from derivekit.calculus.rules import RULES
    except ImportError:  # the renderer still works, naming rules by key
        return {}
    return RULES


# --- the one traversal ---------------------------------------------------------------------

@dataclass
class StepView:
    """A step as shown: its number, depth, rule English and (for references) the target."""

    number: int
    depth: int
    step: Step
    rule: Rule | None
    partial: bool
    children: list[StepView] = field(default_factory=list)
    first_use: bool = True  # the first step of its rule in what is rendered together

    @property
    def title(self) -> str:
        return self.rule.title if self.rule else self.step.rule.replace("_", " ").capitalize()


@dataclass
class DerivationView:
    """A derivation with its steps numbered; ``partial`` picks ∂ over d for its operator."""

    derivation: Derivation
    partial: bool
    steps: list[StepView]


class Walk:
    """Numbers steps 1, 2, 3 … across everything rendered together, so that a repeated
    sub-derivation can say "(derived above, step 3)". A reference to a label in ``shared``
    that has not been shown yet is expanded there, once."""

    def __init__(self, shared: dict[str, Step] | None = None):
        self.next_number = 1
        self.labels: dict[str, int] = {}
        self.unshown = dict(shared or {})
        self.rules = _load_rules()
        self.seen_rules: set[str] = set()

    def derivation(self, d: Derivation, force_partial: bool = False) -> DerivationView:
        partial = force_partial or bool(d.expr.free_symbols - {d.wrt})
        return DerivationView(d, partial, [self.step(s, 0, d.wrt, partial) for s in d.steps])

    def step(self, step: Step, depth: int, top_var, top_partial: bool) -> StepView:
        label = step.label
        if step.ref and step.ref not in self.labels and step.ref in self.unshown:
            step, label = self.unshown.pop(step.ref), step.ref
        number = self.next_number
        self.next_number += 1
        if label:
            self.labels.setdefault(label, number)
        # ∂ when other symbols are held constant; a step on the derivation's own variable
        # follows the derivation, so d and ∂ do not alternate within one tree
        partial = bool(step.expr.free_symbols - {step.var}) or (step.var == top_var and top_partial)
        view = StepView(number, depth, step, self.rules.get(step.rule), partial,
                        first_use=step.rule not in self.seen_rules)
        self.seen_rules.add(step.rule)
        if not step.ref:  # a reference repeats its target and shows no sub-steps
            view.children = [self.step(s, depth + 1, top_var, top_partial) for s in step.substeps]
        return view

    def ref_number(self, view: StepView) -> int | None:
        return self.labels.get(view.step.ref) if view.step.ref else None


# --- filling a rule's sentence -------------------------------------------------------------

#: in a template, ``$…$`` marks one formula: its fields and the glue between them (d/d, ·,
#: −, ², brackets) are printed together as ONE math run, never as prose around fragments
MATH_SPAN = "$"


def fill_template(template: str, values: dict, writer) -> str:
    """``template`` with each literal part passed through ``writer.prose`` and each field
    through ``writer.value``; each ``$…$`` span is one formula, printed by
    ``writer.formula``. A field the step does not supply is shown as ``{name}`` rather than
    failing the whole rendering."""
    parts = template.split(MATH_SPAN)
    if len(parts) % 2 == 0:  # an unclosed span: the English as it is (a test forbids it)
        parts = [template]
    out = []
    for k, part in enumerate(parts):
        tokens = list(string.Formatter().parse(part))
        if k % 2:
            out.append(writer.formula(_formula_items(tokens, values)))
            continue
        for literal, name, _spec, _conv in tokens:
            out.append(writer.prose(literal))
            if name is not None:
                out.append(writer.value(values[name]) if name in values else writer.prose("{" + name + "}"))
    return "".join(out)


@dataclass(frozen=True)
class Missing:
    """A field of a formula that the step does not supply: shown as ``{name}``."""

    name: str


@dataclass(frozen=True)
class Operator:
    """d/dv applied to ``expr`` in a formula (``d/d{name} {outer}``), or the Leibniz
    fraction d{a}/d{b} (``expr`` a symbol); ``expr`` None: the bare operator d/dv."""

    expr: object
    var: object


#: d/d or ∂/∂ at the end of a literal, not inside a word
_OPERATOR_END = re.compile(r"(?<![A-Za-z])(d/d|∂/∂)$")
_DIFFERENTIAL_END = re.compile(r"(?<![A-Za-z])[d∂]$")


def _formula_items(tokens, values) -> list:
    """A span's pieces in order: literal glue (str), field values, :class:`Operator` for
    ``d/d{v} {f}`` and ``d{a}/d{b}``, :class:`Missing` for unknown fields."""
    seq = []
    for literal, name, _spec, _conv in tokens:
        if literal:
            seq.append(literal)
        if name is not None:
            seq.append(values[name] if name in values else Missing(name))
    items, i = [], 0
    while i < len(seq):
        item = seq[i]
        after = seq[i + 1:i + 4]
        if isinstance(item, str) and after and isinstance(after[0], sp.Basic):
            if _OPERATOR_END.search(item):
                items.append(item[:-3])
                if len(after) == 3 and after[1] == " " and isinstance(after[2], sp.Basic):
                    items.append(Operator(after[2], after[0]))  # d/d{v} {f}
                    i += 4
                else:
                    items.append(Operator(None, after[0]))
                    i += 2
                continue
            if (_DIFFERENTIAL_END.search(item) and len(after) == 3 and isinstance(after[1], str)
                    and after[1] in ("/d", "/∂") and isinstance(after[2], sp.Basic)):
                items.append(item[:-1])
                items.append(Operator(after[0], after[2]))  # d{a}/d{b}
                i += 4
                continue
        items.append(item)
        i += 1
    return _unbracket_atoms([item for item in items if item != ""])


def _unbracket_atoms(items: list) -> list:
    """``({g})`` written around a value that is a name or a natural number loses its
    brackets: (f′·g − f·g′)/g² with g = x reads x², not (x)²."""
    items = list(items)
    for k in range(1, len(items) - 1):
        before, value, after = items[k - 1], items[k], items[k + 1]
        if (isinstance(before, str) and before.endswith("(") and isinstance(after, str)
                and after.startswith(")") and isinstance(value, sp.Basic)
                and (value.is_Symbol or value.is_Integer and value >= 0)
                and not before[:-1].rstrip().endswith(("√", "^"))
                and not (before[:-1] and (before[-2].isalnum() or before[-2] in "′)"))):
            items[k - 1], items[k + 1] = before[:-1], after[1:]
    return [item for item in items if item != ""]


def sentence(view: StepView, writer) -> str:
    """The step's one-sentence explanation in ``writer``'s format."""
    step = view.step
    if view.rule is None:
        return writer.prose(f"Apply the rule '{step.rule}'.")
    values = {**step.detail, "expr": step.expr, "var": step.var, "result": step.result}
    template = view.rule.explanation
    if "definition" in step.detail and (writer.settings.get("brief") or not view.first_use):
        # a DL rule derives itself on first use; later uses, or brief=True, only state it
        from derivekit.calculus.rules import BRIEF_EXPLANATIONS
        template = BRIEF_EXPLANATIONS.get(step.rule, template)
    text = fill_template(template, values, writer)
    if "cancelled" in step.detail:  # a cancellation is a step of its own in the sentence
        from derivekit.calculus.rules import CANCELLATION
        text += writer.prose(" ") + fill_template(CANCELLATION, values, writer)
    return text


# --- writers: how one format prints math, prose and derivative operators -------------------

class _Writer:
    printer_factory = None
    derivative_factory = None

    def __init__(self, settings: dict):
        self.settings = settings
        self.printer = type(self).printer_factory(settings)

    def math(self, expr) -> str:
        return self.printer.doprint(expr)

    def op(self, expr, var, order: int, partial: bool) -> str:
        return type(self).derivative_factory(expr, var, order, self.printer, partial=partial,
                                             notation=self.settings["notation"])

    def operator(self, op: Operator) -> str:
        """d/dv f (or dv/dx) inside a formula: Leibniz's notation whatever the setting, since
        the formula names the variable (the steps' own operators follow ``notation``)."""
        if op.expr is None:
            return self.bare_operator(self.printer._print(op.var))
        return type(self).derivative_factory(op.expr, op.var, 1, self.printer, partial=False,
                                             notation="leibniz")

    def bare_operator(self, var: str) -> str:
        return f"d/d{var}"

    def inline(self, expr) -> str:
        return self.math(expr)

    def prose(self, text: str) -> str:
        return text

    def value(self, value) -> str:
        """A detail value inside a sentence: SymPy objects as math, lists joined; a string
        with ``$…$`` spans (a reason, a condition) has its formulas printed as math."""
        if isinstance(value, (list, tuple, set, frozenset)):
            return self.prose(", ").join(self.value(v) for v in value)
        if isinstance(value, sp.Basic) or isinstance(value, type) and issubclass(value, sp.Basic):
            return self.inline(value)
        if isinstance(value, str) and value.count(MATH_SPAN) >= 2:
            return fill_template(value.replace("{", "{{").replace("}", "}}"), {}, self)
        return self.prose(str(value))

    def formula(self, items: list) -> str:
        """One formula of a template (``$…$``), as plain Unicode: glue as written, values
        and operators printed as in a sentence."""
        out = []
        for item in items:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, Operator):
                out.append(self.inline_text(self.operator(item)))
            elif isinstance(item, Missing):
                out.append("{" + item.name + "}")
            else:
                out.append(self.value(item))
        return "".join(out)

    def inline_text(self, text: str) -> str:
        return text


class TextWriter(_Writer):
    printer_factory = staticmethod(printing.text_printer)
    derivative_factory = staticmethod(printing.derivative_text)

    def inline(self, expr) -> str:
        return self.inline_text(self.math(expr))

    def inline_text(self, text: str) -> str:
        # when sentences are wrapped, glue each formula with no-break spaces so that a line
        # never breaks inside one; the layout turns them back into spaces
        return text.replace(" ", NO_BREAK) if self.settings["width"] else text


NO_BREAK = "\u00a0"


class LatexWriter(_Writer):
    """Math mode throughout; prose goes in ``\\text{}`` runs, with the characters that are
    special or non-ASCII written as math, so MathJax, KaTeX and pdflatex all accept it."""

    printer_factory = staticmethod(printing.latex_printer)
    derivative_factory = staticmethod(printing.derivative_latex)

    def prose(self, text: str) -> str:
        return printing.latex_prose(text)

    def inline(self, expr) -> str:
        return self.math_run(self.math(expr))

    def bare_operator(self, var: str) -> str:
        return rf"\frac{{d}}{{d {var}}}"

    def math_run(self, tex: str) -> str:
        """A piece of LaTeX math as it stands in a sentence (here: math mode already)."""
        return tex

    def formula(self, items: list) -> str:
        """One formula of a template as ONE math run: its glue converted as math (σ′ → σ',
        · → \\cdot, (…)² → \\left(…\\right)^{2}), its values and operators printed by the
        math printer in place."""
        atoms, compound, text = {}, set(), []
        for item in items:
            if isinstance(item, str):
                text.append(item)
                continue
            mark = chr(printing.PLACEHOLDER_BASE + len(atoms))
            if isinstance(item, Operator):
                atoms[mark] = self.operator(item)
                compound.add(mark)
            elif isinstance(item, Missing):
                atoms[mark] = r"\{\text{" + item.name + r"}\}"
            else:
                atoms[mark] = self.formula_value(item)
                if not _is_atom(item):
                    compound.add(mark)
            text.append(mark)
        return self.math_run(printing.unicode_math_latex("".join(text), atoms, frozenset(compound),
                                                         sized=self.sized_brackets))

    #: ``\left( \right)`` around the glue's brackets: in displays; inline math keeps plain
    #: ones, inside which a line may break
    sized_brackets = True

    def formula_value(self, value) -> str:
        if isinstance(value, (list, tuple, set, frozenset)):
            return ", ".join(self.formula_value(v) for v in value)
        if isinstance(value, sp.Basic) or isinstance(value, type) and issubclass(value, sp.Basic):
            return self.math_piece(self.math(value))
        return printing.unicode_math_latex(str(value), sized=self.sized_brackets)

    def math_piece(self, tex: str) -> str:
        """A value's LaTeX inside a formula (a document lets a long product break)."""
        return tex


def _is_atom(value) -> bool:
    """A value safe before a script without brackets: a name, a natural number, f(…)."""
    return isinstance(value, (sp.Symbol, sp.Function)) or (
        isinstance(value, sp.Integer) and value >= 0) or isinstance(value, type)


class MarkdownWriter(LatexWriter):
    """Prose as Markdown, math as ``$…$`` LaTeX."""

    sized_brackets = False

    def math_run(self, tex: str) -> str:
        return f"${tex}$"

    def prose(self, text: str) -> str:
        for ch in "\\`*_$<":  # would start emphasis, code, math or HTML
            text = text.replace(ch, "\\" + ch)
        return text


class DocumentWriter(LatexWriter):
    """LaTeX for a document's body: prose in text mode, so that a sentence wraps on the page,
    with each formula in it as ``$…$`` (displays are the layout's job)."""

    sized_brackets = False

    def inline(self, expr) -> str:
        return self.math_run(self.math_piece(self.math(expr)))

    def math_run(self, tex: str) -> str:
        return f"${tex}$"

    def math_piece(self, tex: str) -> str:
        from derivekit.render.texbreak import discretionary_times, math_width

        # a long product in a sentence may break between its factors (LaTeX shows a ×)
        return discretionary_times(tex) if math_width(tex) > INLINE_BREAK_EM else tex

    def prose(self, text: str) -> str:
        return text_mode_prose(text)


INLINE_BREAK_EM = 12.0


#: a power in prose, e^(zᵢ); a letter with combining accents, X̂; a run of other non-ASCII
_PROSE_MATH = re.compile(r"\^\(([^()]*)\)|[A-Za-z](?=[\u0300-\u036f\u20d7])[^\x00-\x7f]+|[^\x00-\x7f]+")


def text_mode_prose(text: str) -> str:
    """English for a document's text: LaTeX's special characters escaped, dashes and quotes
    as text, and σ, ′, u₁, X̂ or a power e^(zᵢ) as inline math, so the result is ASCII."""
    from derivekit.render.latexdoc import UNICODE_MATH, UNICODE_TEXT, escape_text

    out, start = [], 0
    for m in _PROSE_MATH.finditer(text):
        out.append(escape_text(text[start:m.start()]))
        start = m.end()
        if m.group(1) is not None:  # the exponent of a power, on the letter before it
            out.append("$^{" + printing.latex_prose(m.group(1)) + "}$")
            continue
        math = ""
        for ch in m.group(0):
            if ch in UNICODE_TEXT:
                out.append(("$" + math + "$") if math else "")
                out.append(UNICODE_TEXT[ch])
                math = ""
            else:
                math += ch
        if math:
            tex = printing.latex_prose(math)
            if not tex.isascii():  # 𝟙, ℝ: the document preamble's own spelling
                tex = "".join(UNICODE_MATH.get(ch, printing.latex_prose(ch)) for ch in math)
            out.append("$" + tex + "$")
    out.append(escape_text(text[start:]))
    return "".join(out)


WRITERS = {"text": TextWriter, "latex": LatexWriter, "markdown": MarkdownWriter}


# --- entry point ---------------------------------------------------------------------------

def render(obj, fmt: str = "text", **settings):
    """Render ``obj`` (a Derivation or MatrixOfDerivations) in ``fmt``: text, latex,
    markdown (strings) or dict (JSON-ready)."""
    if fmt not in FORMATS:
        raise DerivekitError(f"unknown format {fmt!r}", hint="use text, latex, markdown or dict")
    settings = printing.check_settings(settings)
    from derivekit.render import layouts as render_layout  # the per-format layouts

    if isinstance(obj, MatrixOfDerivations):
        walk = Walk(obj.shared)
        # a Hessian's first derivatives ∂f/∂xᵢ come first: its entries differentiate them
        first = [walk.derivation(d, force_partial=True) for d in getattr(obj, "gradient", ())]
        views = [[walk.derivation(d, force_partial=True) for d in row] for row in obj.entries]
        return render_layout.MATRIX_LAYOUTS[fmt](obj, views, first, walk, settings)
    if isinstance(obj, Derivation):
        walk = Walk()
        return render_layout.DERIVATION_LAYOUTS[fmt](walk.derivation(obj), walk, settings)
    raise DerivekitError(f"cannot render a {type(obj).__name__}",
                         hint="render a Derivation (dk.derive) or a MatrixOfDerivations "
                              "(dk.gradient, dk.jacobian, dk.hessian)")
