"""The result of a descent run, :class:`Trajectory`, a set of runs, :class:`Comparison`, and
their renderers (text, LaTeX, Markdown, JSON-ready dict).

The first few updates are written out with numbers by the update rule itself
(``rule.explain``) through a *writer*, :class:`TextWriter` or :class:`LatexWriter`, which
knows how each format spells a symbol, a number, a square root or a subscript::

    x₁ = x₀ − α·g = 1 − 0.1·2 = 0.8

Renderers only read recorded numbers; nothing is recomputed except the display-only
bias-corrected moments of Adam.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from derivekit.display import Displayable

#: parameters shown in text and tables (all of them are in ``points`` and ``to_dict``)
SHOWN = 6

_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


# --- writers: how each format spells the pieces of an update ----------------------------------

class TextWriter:
    """Unicode text: ``x₁ = x₀ − α·g = 1 − 0.1·2 = 0.8``."""

    SYMBOLS = {"alpha": "α", "mu": "μ", "beta1": "β₁", "beta2": "β₂", "eps": "ε", "rho": "ρ",
               "lambda": "λ"}
    OPS = {"-": " − ", "+": " + ", "*": "·", "/": "/", "(": "(", ")": ")", "1": "1", "g": "g"}

    def sym(self, name):
        return self.SYMBOLS[name]

    def num(self, x, bare=False):
        text = f"{float(x):.6g}".replace("-", "−")
        return f"({text})" if text.startswith("−") and not bare else text

    def var(self, base, k):
        return f"{base}{str(k).translate(_SUB)}"

    def param(self, name, k, prime=False):
        return f"{name}{str(k).translate(_SUB)}{'′' if prime else ''}"

    def sq(self, piece):
        return f"{piece}²"

    def power(self, piece, k):
        return f"{piece}{str(k).translate(_SUP)}"

    def sqrt(self, piece):
        return f"√{piece}"

    def partial(self, name, k, batch=False):
        return f"∂J{'_B' if batch else ''}/∂{name}({self.param('θ', k)})"

    def join(self, pieces):
        return "".join(self.OPS.get(p, p) for p in pieces)

    def eq(self, lhs, symbolic, numeric, value):
        return f"{lhs} = {self.join(symbolic)} = {self.join(numeric)} = {self.num(value, bare=True)}"


class LatexWriter(TextWriter):
    """LaTeX (math mode): ``x_{1} = x_{0} - \\alpha \\cdot g = 1 - 0.1 \\cdot 2 = 0.8``."""

    SYMBOLS = {"alpha": r"\alpha", "mu": r"\mu", "beta1": r"\beta_1", "beta2": r"\beta_2",
               "eps": r"\varepsilon", "rho": r"\rho", "lambda": r"\lambda"}
    OPS = {"-": " - ", "+": " + ", "*": r" \cdot ", "/": " / ", "(": r"\left(", ")": r"\right)", "1": "1",
           "g": "g"}
    HATS = {"m̂": r"\hat{m}", "v̂": r"\hat{v}"}

    def num(self, x, bare=False):
        text = f"{float(x):.6g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
        return f"({text})" if text.startswith("-") and not bare else text

    def var(self, base, k):
        return f"{self.HATS.get(base, base)}_{{{k}}}"

    def param(self, name, k, prime=False):
        base, mark = latex_name(name), "'" if prime else ""
        if "_" in base:  # w_{a}: the step goes up, w_{a}^{(1)}
            return rf"{base}^{{({k}){mark}}}"
        return rf"{base}_{{{k}}}{mark}"

    def sq(self, piece):
        return f"{piece}^{{2}}"

    def power(self, piece, k):
        return f"{piece}^{{{k}}}"

    def sqrt(self, piece):
        return rf"\sqrt{{{piece}}}"

    def partial(self, name, k, batch=False):
        return rf"\frac{{\partial J{'_B' if batch else ''}}}{{\partial {latex_name(name)}}}(\theta_{{{k}}})"

    def join(self, pieces):
        return "".join(self.OPS.get(p, p) for p in pieces)


_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\[[0-9,]+\])?")


def latex_name(name: str) -> str:
    """A parameter's name as the project's LaTeX printer writes the symbol (``w_a`` → ``w_{a}``).
    A name with other characters (from a CSV header, say ``w_x&y``) is escaped text."""
    import sympy as sp

    from derivekit.render.printing import to_latex
    if not _PLAIN_NAME.fullmatch(name):
        from derivekit.render.latexdoc import escape_text
        return r"\text{" + escape_text(name) + "}"
    return to_latex(sp.Symbol(name))


# --- the recorded run ---------------------------------------------------------------------------

@dataclass
class WorkedStep:
    """The numbers of one update, kept for the first few updates: ``t`` (1-based), the
    learning rate, θ before, the raw gradient, the gradient used (after L2 decay), the
    optimizer state before and after, and θ after."""

    t: int
    lr: float
    theta0: np.ndarray
    grad: np.ndarray
    g: np.ndarray
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]
    theta1: np.ndarray


class _Coordinate:
    """The per-coordinate view of a :class:`WorkedStep` that ``rule.explain`` reads."""

    def __init__(self, step: WorkedStep, i: int, name: str, hp: dict):
        self.t, self.lr, self.name, self.hp = step.t, step.lr, name, hp
        self.theta0, self.theta1 = float(step.theta0[i]), float(step.theta1[i])
        self.g, self.grad = float(step.g[i]), float(step.grad[i])
        self.before = {k: float(v[i]) for k, v in step.before.items()}
        self.after = {k: float(v[i]) for k, v in step.after.items()}


@dataclass(eq=False)
class Trajectory(Displayable):
    """A descent run. ``points`` (updates+1, n) and ``losses`` (updates+1,) hold θ_k and J(θ_k)
    for k = 0 … the last step taken (``steps``); ``grad_norms`` ‖∇J(θ_k)‖ (full data);
    ``learning_rates`` the rate of each update (``steps`` entries). ``converged`` /
    ``diverged`` say how it stopped and ``reason`` says why in words (``marked_reason``: the
    same with its formulas marked ``$…$``, for LaTeX and Markdown)."""

    names: tuple[str, ...]
    points: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    learning_rates: np.ndarray
    method: str
    rule: Any
    hyper: dict
    lr: float
    schedule: str
    converged: bool
    diverged: bool
    reason: str
    worked: list[WorkedStep] = field(default_factory=list)
    objective: Any = None
    batch_size: int | None = None
    seed: int = 0
    coupled_decay: float = 0.0
    marked_reason: str = ""

    def reason_in(self, fmt: str) -> str:
        """``reason`` in ``fmt`` (see :func:`reason_prose`): each formula one math run."""
        if self.marked_reason:
            return reason_prose(self.marked_reason, fmt)
        if fmt == "latex":  # a reason written without marks: prose, as it stands
            from derivekit.render.printing import latex_prose
            return latex_prose(self.reason)
        if fmt == "document":
            from derivekit.render import docblocks
            return docblocks.prose(self.reason)
        return self.reason

    @property
    def steps(self) -> int:
        """The number of updates taken."""
        return len(self.points) - 1

    @property
    def final(self) -> dict[str, float]:
        """The last point as ``{name: value}``."""
        return dict(zip(self.names, map(float, self.points[-1])))

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    @property
    def status(self) -> str:
        return "diverged" if self.diverged else "converged" if self.converged else "max steps"

    @property
    def label(self) -> str:
        """``adam (lr=0.1)``: the method and its learning rate, for legends and tables."""
        return f"{self.method} (lr={self.lr:g})"

    def plot(self, kind: str = "loss", path=None, **options):
        """A matplotlib Figure: ``kind`` "loss" or "contour" (2-D objectives); saved to
        ``path`` (.png or .svg) when given. Displays inline in Jupyter."""
        from derivekit.plots import optim as plot_optim
        return plot_optim.plot([self], kind=kind, path=path, **options)

    # --- rendering ---------------------------------------------------------------------
    def _hyper_items(self):
        items = [("lr", self.lr)] + [(k, v) for k, v in self.hyper.items() if not (k == "weight_decay" and not v)]
        if self.batch_size is not None:
            items += [("batch_size", self.batch_size), ("seed", self.seed)]
        return items

    def _rows(self, rows: int) -> list[int]:
        last = len(self.points) - 1
        if last + 1 <= rows:
            return list(range(last + 1))
        picks = np.unique(np.linspace(0, last, rows).round().astype(int))
        return [int(i) for i in picks]

    def _worked_lines(self, w) -> list[tuple[str, list[str]]]:
        """[(heading, lines)] for each worked update, written by the rule itself."""
        out = []
        batch = self.batch_size is not None
        for step in self.worked:
            lines = []
            for i, name in enumerate(self.names[:SHOWN]):
                c = _Coordinate(step, i, name, self.hyper)
                partial = w.partial(name, step.t - 1, batch)
                grad_line = f"g = {partial} = {w.num(c.grad, bare=True)}"
                if self.coupled_decay:
                    grad_line = (f"g = {partial}{w.OPS['+']}{w.sym('lambda')}{w.OPS['*']}"
                                 f"{w.param(name, step.t - 1)} = {w.num(c.grad)}{w.OPS['+']}"
                                 f"{w.num(self.coupled_decay)}{w.OPS['*']}{w.num(c.theta0)} = "
                                 f"{w.num(c.g, bare=True)}")
                lines.append(grad_line)
                lines.extend(self.rule.explain(w, c))
            out.append((step, lines))
        return out

    def _objective_text(self, fmt: str) -> str:
        if self.objective is None:
            return ""
        return self.objective.describe(fmt)

    def _render(self, fmt: str, worked: int | None = None, rows: int = 11, **settings):
        steps = self.worked if worked is None else self.worked[:worked]
        view = self if steps is self.worked else _with_worked(self, steps)
        if fmt == "latex" and settings.get("document"):
            return view._document_latex(rows)
        return {"text": view._text, "markdown": view._markdown, "latex": view._latex,
                "dict": view._dict}[fmt](rows)

    def _start_end(self, index: int) -> str:
        values = ", ".join(f"{n} = {TextWriter().num(v, bare=True)}"
                           for n, v in zip(self.names[:SHOWN], self.points[index]))
        if len(self.names) > SHOWN:
            values += f", … ({len(self.names)} parameters)"
        return f"{values};  J = {TextWriter().num(self.losses[index], bare=True)}"

    def _table(self, rows: int, sep: str = "  ") -> list[list[str]]:
        w = TextWriter()
        names = list(self.names[:SHOWN])
        header = ["step", *names, "J", "‖∇J‖"]
        body = [[str(k), *[w.num(v, bare=True) for v in self.points[k][:SHOWN]], w.num(self.losses[k], bare=True),
                 f"{self.grad_norms[k]:.3g}"] for k in self._rows(rows)]
        return [header, *body]

    def _text(self, rows):
        w = TextWriter()
        hp = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self._hyper_items())
        lines = [f"{self.rule.title} ({self.method}, as torch.optim.{self.rule.torch_name}) on "
                 f"{self._objective_text('text')}",
                 f"update: {self.rule.formula_text}",
                 f"settings: {hp}; schedule {self.schedule}",
                 f"result: {self.reason}",
                 f"start: {self._start_end(0)}",
                 f"end:   {self._start_end(-1)}  (after {self.steps} steps)"]
        if self.worked and self.batch_size is not None:
            lines += ["", f"J_B: the loss on the update's mini-batch of {self.batch_size} "
                          f"row{'' if self.batch_size == 1 else 's'} "
                          f"(seed {self.seed}, reshuffled every epoch)"]
        for step, eqs in self._worked_lines(w):
            lines += ["", f"update {step.t} (α = {w.num(step.lr, bare=True)}):"] + [f"  {e}" for e in eqs]
        table = self._table(rows)
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        lines.append("")
        lines += ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in table]
        return "\n".join(lines)

    def _markdown(self, rows):
        w = LatexWriter()
        hp = ", ".join(f"`{k}={v:g}`" if isinstance(v, float) else f"`{k}={v}`" for k, v in self._hyper_items())
        lines = [f"**{self.rule.title}** (`{self.method}`, as `torch.optim.{self.rule.torch_name}`) on "
                 f"${self._objective_text('latex')}$", "",
                 f"Update: ${self.rule.formula_latex}$", "",
                 f"Settings: {hp}; schedule `{self.schedule}`.", "",
                 f"Result: {self.reason_in('markdown')}.", ""]
        for step, eqs in self._worked_lines(w):
            lines += [f"Update {step.t} ($\\alpha = {w.num(step.lr, bare=True)}$):", "",
                      "$$\n\\begin{aligned}\n" + " \\\\\n".join(eqs) + "\n\\end{aligned}\n$$", ""]
        table = self._table(rows)
        lines += ["| " + " | ".join(table[0]) + " |", "|" + "---:|" * len(table[0])]
        lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
        return "\n".join(lines)

    def _latex(self, rows):
        w = LatexWriter()
        from derivekit.render.printing import (
            latex_prose,  # SymPy's printers: loaded only for LaTeX
        )
        parts = [latex_prose(f"{self.rule.title} on ") + f" J = {self._objective_text('latex')}",
                 self.rule.formula_latex]
        for step, eqs in self._worked_lines(w):
            parts.append(rf"\text{{update {step.t} }}(\alpha = {w.num(step.lr, bare=True)}):")
            parts.extend(eqs)
        parts.append(self.reason_in("latex"))
        return "\\begin{aligned}\n" + " \\\\\n".join("& " + p for p in parts) + "\n\\end{aligned}"

    def _document_latex(self, rows):
        """LaTeX for a document's body: the objective and the update rule as displays cut to
        the line, each worked update a paragraph and its equations one per line, the result
        as prose, then the progress table as a text-mode tabular."""
        from derivekit.render import docblocks
        w = LatexWriter()
        out = [docblocks.heading(f"{self.rule.title} on"),
               docblocks.display(f"J = {self._objective_text('latex')}"),
               r"\par\noindent Update:", docblocks.display(self.rule.formula_latex)]
        for step, eqs in self._worked_lines(w):
            out += [rf"\par\noindent Update {step.t} ($\alpha = {w.num(step.lr, bare=True)}$):",
                    docblocks.display(" \\\\ ".join(eqs))]
        out.append(r"\par\noindent Result: " + self.reason_in("document") + ".")
        table = self._table(rows)
        header = ["step", *(f"${latex_name(n)}$" for n in self.names[:SHOWN]), "$J$", r"$\|\nabla J\|$"]
        out += [r"\par\medskip\noindent\begin{tabular}{" + "r" * len(table[0]) + "}",
                " & ".join(header) + r" \\ \hline",
                *(" & ".join(docblocks.prose(c) for c in row) + r" \\" for row in table[1:]),
                r"\end{tabular}"]
        return "\n".join(out)

    def _dict(self, rows):
        t, latex = TextWriter(), LatexWriter()
        return {
            "type": "trajectory", "method": self.method, "rule": self.rule.title,
            "torch": f"torch.optim.{self.rule.torch_name}", "formula": self.rule.formula_text,
            "objective": self._objective_text("text"), "names": list(self.names),
            "hyper": {k: list(v) if isinstance(v, tuple) else v for k, v in self._hyper_items()},
            "schedule": self.schedule, "steps": self.steps, "converged": self.converged,
            "diverged": self.diverged, "reason": self.reason,
            "start": dict(zip(self.names, map(float, self.points[0]))), "final": self.final,
            "final_loss": self.final_loss,
            "points": self.points.tolist(), "losses": self.losses.tolist(),
            "grad_norms": self.grad_norms.tolist(), "learning_rates": self.learning_rates.tolist(),
            "worked": [{"t": step.t, "lr": step.lr, "text": text_lines, "latex": latex_lines}
                       for (step, text_lines), (_, latex_lines)
                       in zip(self._worked_lines(t), self._worked_lines(latex))],
        }


def _with_worked(trajectory: Trajectory, worked: list[WorkedStep]) -> Trajectory:
    import copy
    view = copy.copy(trajectory)
    view.worked = worked
    return view


@dataclass(eq=False)
class Comparison(Displayable):
    """Several runs on one objective, side by side (``runs``: list of :class:`Trajectory`)."""

    runs: list[Trajectory]

    def __iter__(self):
        return iter(self.runs)

    def __getitem__(self, method: str) -> Trajectory:
        for run in self.runs:
            if run.method == method:
                return run
        raise KeyError(method)

    @property
    def best(self) -> Trajectory:
        """The run that ended with the lowest loss among those that did not diverge."""
        finite = [r for r in self.runs if not r.diverged] or self.runs
        return min(finite, key=lambda r: r.final_loss)

    def plot(self, kind: str = "loss", path=None, **options):
        from derivekit.plots import optim as plot_optim
        return plot_optim.plot(self.runs, kind=kind, path=path, **options)

    def _table(self) -> list[list[str]]:
        w = TextWriter()
        rows = [["method", "lr", "steps", "final J", "‖∇J‖", "status", *self.runs[0].names[:4]]]
        for r in self.runs:
            rows.append([r.method, f"{r.lr:g}", str(r.steps), w.num(r.final_loss, bare=True),
                         f"{r.grad_norms[-1]:.3g}", r.status, *[w.num(v, bare=True) for v in r.points[-1][:4]]])
        return rows

    def _render(self, fmt: str, **settings):
        table = self._table()
        objective = self.runs[0].objective
        if fmt == "dict":
            return {"type": "comparison", "objective": objective.describe("text") if objective else "",
                    "runs": [r.to_dict(**settings) for r in self.runs]}
        if fmt == "latex" and settings.get("document"):
            return self._document_latex()
        if fmt == "latex":
            from derivekit.render.printing import latex_prose
            w = LatexWriter()
            names = [latex_name(n) for n in self.runs[0].names[:4]]
            rows = [[r"\text{method}", r"\alpha", r"\text{steps}", r"J_{\text{final}}", r"\|\nabla J\|",
                     r"\text{status}", *names]]
            rows += [[latex_prose(r.method), w.num(r.lr, bare=True), str(r.steps), w.num(r.final_loss, bare=True),
                      w.num(r.grad_norms[-1], bare=True), latex_prose(r.status),
                      *[w.num(v, bare=True) for v in r.points[-1][:4]]] for r in self.runs]
            body = " \\\\\n".join(" & ".join(row) for row in rows)
            return ("\\begin{array}{l" + "r" * (len(table[0]) - 1) + "}\n" + body + "\n\\end{array}")
        title = f"descent on {objective.describe('text')}" if objective else "descent"
        notes = [f"{r.method}: {r.reason}" for r in self.runs]
        if fmt == "markdown":
            lines = [f"**Comparison** — {title.replace('descent on ', 'descent on ')}", "",
                     "| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
            lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
            return "\n".join(lines + [""] + [f"- {r.method}: {r.reason_in('markdown')}" for r in self.runs])
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        lines = [title, ""] + ["  ".join(c.ljust(wd) if i == 0 else c.rjust(wd)
                                         for i, (c, wd) in enumerate(zip(row, widths))) for row in table]
        return "\n".join(lines + [""] + notes)

    def _document_latex(self) -> str:
        """LaTeX for a document's body: the runs in two text-mode tables that fit the line
        (how each ended; where each ended), then each run's result as prose."""
        from derivekit.render import docblocks
        w = LatexWriter()
        objective = self.runs[0].objective
        names = self.runs[0].names[:4]
        out = [docblocks.heading("Comparison")
               + (f" of descent on ${objective.describe('latex')}$" if objective else "")]
        ended = [["method", "$\\alpha$", "steps", "final $J$", "$\\|\\nabla J\\|$", "status"]]
        ended += [[docblocks.prose(r.method), f"${w.num(r.lr, bare=True)}$", str(r.steps),
                   f"${w.num(r.final_loss, bare=True)}$", f"${w.num(r.grad_norms[-1], bare=True)}$",
                   docblocks.prose(r.status)] for r in self.runs]
        final = [["method", *(f"${latex_name(n)}$" for n in names)]]
        final += [[docblocks.prose(r.method), *(f"${w.num(v, bare=True)}$" for v in r.points[-1][:4])]
                  for r in self.runs]
        for table in (ended, final):
            out += [r"\par\medskip\noindent\begin{tabular}{l" + "r" * (len(table[0]) - 1) + "}",
                    " & ".join(table[0]) + r" \\ \hline",
                    *(" & ".join(row) + r" \\" for row in table[1:]), r"\end{tabular}"]
        out += [r"\par\noindent " + docblocks.prose(f"{r.method}: ") + r.reason_in("document") + "."
                for r in self.runs]
        return "\n".join(out)


# --- the run's reason in words, each formula one math run -----------------------------------

#: the gradient norm in a reason's formula; the math printer has no ‖, so LaTeX gets it whole
GRADIENT_NORM = "‖∇J‖"
_GRADIENT_NORM_LATEX = r"\|\nabla J\|"


def reason_prose(marked: str, fmt: str) -> str:
    """A reason with ``$…$`` formulas in ``fmt`` (text, latex for math mode, markdown,
    document), printed by the derivation renderers' writers."""
    import sympy as sp

    from derivekit.render import walk
    from derivekit.render.printing import check_settings
    writer = {"text": walk.TextWriter, "latex": walk.LatexWriter, "markdown": walk.MarkdownWriter,
              "document": walk.DocumentWriter}[fmt](check_settings({}))
    template = marked.replace("{", "{{").replace("}", "}}").replace(GRADIENT_NORM, "{gradient_norm}")
    norm = GRADIENT_NORM if fmt == "text" else sp.Symbol(_GRADIENT_NORM_LATEX)
    return walk.fill_template(template, {"gradient_norm": norm}, writer)


def reason_text(marked: str) -> str:
    """A marked reason as plain text: its formulas as written, no ``$``."""
    return reason_prose(marked, "text")
