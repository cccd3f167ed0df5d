"""The core result types of the step engine: :class:`Step`, :class:`Derivation` and
:class:`MatrixOfDerivations` (gradients, Jacobians, Hessians).

A derivation is a tree of steps. Each step names the rule it applies (a key of
``derivekit.calculus.rules.RULES``), the expression and variable, the result, the sub-steps it
needs, and the names it introduces (``u₁ = w x + b``). Renderers in ``derivekit.render.walk``
walk these objects and never differentiate again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from derivekit.display import Displayable


@dataclass(frozen=True)
class Rule:
    """A differentiation rule's identity and its English, written once.

    ``explanation`` is one sentence saying what the rule does and why it applies here. It is
    a ``str.format`` template whose placeholders are ``{expr}``, ``{var}``, ``{result}`` and
    the keys of the step's ``detail``; each renderer fills them in its own notation (SymPy
    values are printed as math, strings are kept, lists are joined with commas).
    ``statement`` / ``statement_text`` give the rule itself in LaTeX / Unicode.
    """

    name: str
    title: str
    statement: str
    statement_text: str
    explanation: str


@dataclass(eq=False)
class Step:
    """One application of a differentiation rule.

    ``detail`` holds the rule-specific pieces its explanation mentions (for the chain rule
    ``outer``, ``inner`` and ``name``; for a partial derivative the ``constants``; for ReLU
    the ``kink``). ``label`` marks a sub-derivation that others reuse; a step whose ``ref``
    is set repeats the labelled one and has no sub-steps of its own.
    """

    rule: str
    expr: sp.Expr
    var: sp.Symbol
    result: sp.Expr
    substeps: tuple[Step, ...] = ()
    facts: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    ref: str | None = None

    def walk(self):
        """Yield this step and every sub-step, depth first, parents before children."""
        yield self
        for sub in self.substeps:
            yield from sub.walk()

    @property
    def rules_used(self) -> list[str]:
        """Distinct rule names in this tree, in the order first used."""
        return list(dict.fromkeys(step.rule for step in self.walk()))


@dataclass(frozen=True)
class Rewrite:
    """One tidying move applied to the raw result, shown after the rule steps.

    ``description`` is complete plain text; ``detail`` holds the SymPy pieces it mentions
    (``cancelled``: terms that cancel, ``factor``: a common factor) for renderers that want
    to print them as math. ``order`` is the derivative order whose result it tidies.
    """

    description: str
    before: sp.Expr
    after: sp.Expr
    order: int = 1
    detail: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(eq=False)
class Derivation(Displayable):
    """The derivative of ``expr`` with respect to ``wrt``, ``order`` times, with its steps.

    ``steps`` holds one root step per order (the k-th differentiates the (k−1)-th result).
    ``raw_result`` is what the rules produced; ``result`` is it in textbook form, reached by
    the ``rewrites`` listed. Rendering options (``notation``) live in the renderer.
    """

    expr: sp.Expr
    wrt: sp.Symbol
    order: int
    steps: tuple[Step, ...]
    raw_result: sp.Expr
    result: sp.Expr
    rewrites: tuple[Rewrite, ...] = ()

    def _render(self, fmt: str, **settings):
        from derivekit.render import walk as render
        return render.render(self, fmt, **settings)

    def plot(self, at: float | None = None, path=None):
        """A matplotlib Figure of f, f′ and the tangent y = f(x₀) + f′(x₀)(x − x₀) at
        x₀ = ``at`` (default 1), the figure of ``derivekit diff … --plot FILE``; saved to
        ``path`` (.png or .svg) when given. Displays inline in Jupyter. A first derivative of
        a function of ``wrt`` alone only (anything else is a DerivekitError saying so)."""
        from derivekit.errors import DerivekitError
        from derivekit.plots.tangent import samples, tangent_figure  # matplotlib: optional extra

        if self.order != 1:
            raise DerivekitError(f"the tangent graph draws a first derivative, and this one is of order {self.order}",
                                 hint=f"plot diff(f, {self.wrt.name}) instead")
        return tangent_figure(samples(self.expr, self.result, self.wrt, 1.0 if at is None else float(at)), path)


@dataclass(eq=False)
class MatrixOfDerivations(Displayable):
    """A gradient (column), Jacobian or Hessian: a grid of per-entry derivations.

    ``kind`` is ``"gradient"``, ``"jacobian"`` or ``"hessian"``. ``entries[i][j]`` is the
    :class:`Derivation` of ``result[i, j]``. ``shared`` maps the labels of sub-derivations
    used by several entries to the step derived once. For a Hessian, entry ``(i, j)``
    differentiates the gradient entry ∂f/∂xᵢ with respect to xⱼ, and ``gradient`` holds those
    first-derivative derivations (empty for other kinds).
    """

    kind: str
    exprs: tuple[sp.Expr, ...]
    wrt: tuple[sp.Symbol, ...]
    entries: tuple[tuple[Derivation, ...], ...]
    result: sp.Matrix
    shared: dict[str, Step] = field(default_factory=dict)
    gradient: tuple[Derivation, ...] = ()

    def _render(self, fmt: str, **settings):
        from derivekit.render import walk as render
        return render.render(self, fmt, **settings)
