"""Writing a :class:`~derivekit.matrix.gradient.MatrixDerivation` as text, LaTeX, Markdown or a dict.

The layout reads like a backprop derivation: the shapes, the forward pass (named
intermediates), the backward pass (each adjoint with the rule that gave it), the result in
matrix notation, and the numeric check it passed. Renderers never differentiate again.
"""

from __future__ import annotations

from derivekit.matrix.adjoints import RULES
from derivekit.matrix.expr import Node, adj, fmt_shape
from derivekit.matrix.printers import (
    name_latex,
    name_text,
    to_latex,
    to_numpy_text,
    to_text,
)
from derivekit.render.texbreak import aligned_rows, math_width


def _adj_text(name: str, shape) -> str:
    return to_text(adj(name, shape))


def _adj_latex(name: str, shape) -> str:
    return to_latex(adj(name, shape))


def _grad_text(name: str) -> str:
    return f"∂L/∂{name_text(name)}"


def _grad_latex(name: str, shape) -> str:
    return rf"\frac{{\partial L}}{{\partial {name_latex(name, shape != (1, 1))}}}"


def _rules_line(rules) -> str:
    return "; ".join(RULES[r].title for r in rules)


def moves_text(moves) -> list[str]:
    """The tidying moves toward the textbook form, one line each (none: no lines)."""
    if not moves:
        return []
    lines = ["", "textbook form (tidying moves)"]
    for a in moves:
        lines.append(f"  {a.move.name}: {to_text(a.before)} → {to_text(a.after)}    [{a.move.rule}]")
    return lines


def render_derivation(m, fmt: str, **settings):
    inter = {i.name: i for i in m.sweep.intermediates}
    shapes_text = ", ".join(f"{name_text(n)} {fmt_shape(s)}" for n, s in m.shapes.items())
    used_rules = []
    for step in m.steps:
        used_rules.extend(r for r in step.rules if r not in used_rules)
    if fmt == "text":
        lines = [f"∂L/∂{name_text(m.wrt)} for L = {to_text(m.loss)}", f"shapes: {shapes_text}", "",
                 "forward pass"]
        for i in m.sweep.intermediates:
            lines.append(f"  {name_text(i.name)} = {to_text(i.body)}")
        lines.append(f"  L = {to_text(m.sweep.root)}")
        lines += ["", "backward pass (upstream gradients, from the loss down)"]
        for step in m.steps:
            if step.is_parameter:
                lhs = _grad_text(step.name)
            else:
                shape = inter[step.name].body.shape
                symbol = _adj_text(step.name, shape)
                lhs = symbol if symbol.startswith("∂") else f"{symbol} = {_grad_text(step.name)}"
            lines.append(f"  {lhs} = {to_text(step.expr)}    [{_rules_line(step.rules)}]")
        lines += moves_text(m.moves)
        lines += ["", "result"]
        if m.named_result.node != m.result.node and m.named_result.node != m.steps[-1].expr:
            lines.append(f"  {_grad_text(m.wrt)} = {to_text(m.named_result.node)}")
        lines.append(f"  {_grad_text(m.wrt)} = {to_text(m.result.node)}    "
                     f"({fmt_shape(m.shape)}, the shape of {name_text(m.wrt)})")
        # the form a claim reads back: the Unicode line above is for reading
        lines.append(f"  as NumPy (paste into --claim): {to_numpy_text(m.result.node)}")
        lines.append(f"  {m.check.describe()}")
        lines += ["", "rules used"]
        for r in used_rules:
            lines.append(f"  {RULES[r].title}: {RULES[r].statement}")
            lines.append(f"    {RULES[r].explanation}")
        return "\n".join(lines)
    if fmt == "latex":
        pairs = [("L", to_latex(m.loss))]
        for i in m.sweep.intermediates:
            pairs.append((name_latex(i.name, i.body.shape != (1, 1)), to_latex(i.body)))
        for step in m.steps:
            if step.is_parameter:
                lhs = _grad_latex(step.name, m.shape)
            else:
                lhs = _adj_latex(step.name, inter[step.name].body.shape)
            pairs.append((lhs, to_latex(step.expr)))
        if m.result.node != m.steps[-1].expr:
            pairs.append((_grad_latex(m.wrt, m.shape), to_latex(m.result.node)))
        # a long right side continues on rows of its own, so the block fits a page
        widest = max(math_width(lhs) for lhs, _ in pairs)
        rows = [row for lhs, rhs in pairs for row in aligned_rows(lhs, rhs, lhs_width=widest)]
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
    if fmt == "markdown":
        lines = [f"### ∂L/∂{name_text(m.wrt)} for $L = {to_latex(m.loss)}$", "",
                 f"Shapes: {shapes_text}.", "", "**Forward pass**", ""]
        for i in m.sweep.intermediates:
            lines.append(f"- ${name_latex(i.name, i.body.shape != (1, 1))} = {to_latex(i.body)}$")
        lines.append(f"- $L = {to_latex(m.sweep.root)}$")
        lines += ["", "**Backward pass** (upstream gradients, from the loss down)", ""]
        for step in m.steps:
            lhs = _grad_latex(step.name, m.shape) if step.is_parameter else \
                _adj_latex(step.name, inter[step.name].body.shape)
            lines.append(f"- ${lhs} = {to_latex(step.expr)}$ — {_rules_line(step.rules)}")
        if m.moves:
            lines += ["", "**Textbook form** (tidying moves)", ""]
            lines += [f"- *{a.move.name}*: ${to_latex(a.before)} = {to_latex(a.after)}$ ({a.move.rule})"
                      for a in m.moves]
        lines += ["", "**Result**", "", f"$$ {_grad_latex(m.wrt, m.shape)} = {to_latex(m.result.node)} $$",
                  "", f"{m.check.describe()}.", "", "**Rules used**", ""]
        for r in used_rules:
            lines.append(f"- *{RULES[r].title}*: ${RULES[r].statement_latex}$ — {RULES[r].explanation}")
        return "\n".join(lines)
    return {
        "kind": "matrix_gradient",
        "loss": {"text": to_text(m.loss), "latex": to_latex(m.loss), "numpy": to_numpy_text(m.loss)},
        "wrt": m.wrt,
        "shapes": {n: list(s) for n, s in m.shapes.items()},
        "forward": [{"name": i.name, "text": to_text(i.body), "latex": to_latex(i.body)}
                    for i in m.sweep.intermediates],
        "backward": [{"name": s.name, "parameter": s.is_parameter, "text": to_text(s.expr),
                      "latex": to_latex(s.expr), "rules": list(s.rules)} for s in m.steps],
        "result": m.result.to_dict(),
        "named_result": m.named_result.to_dict(),
        "moves": [{"move": a.move.name, "rule": a.move.rule, "before": to_text(a.before),
                   "after": to_text(a.after)} for a in m.moves],
        "check": {"ok": m.check.ok, "max_rel_error": m.check.max_rel_error,
                  "seeds": list(m.check.seeds), "directions": m.check.directions},
        "rules": [{"op": r, "title": RULES[r].title, "statement": RULES[r].statement,
                   "explanation": RULES[r].explanation} for r in used_rules],
    }


__all__ = ["render_derivation", "Node"]
