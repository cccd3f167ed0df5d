"""Backprop for small MLPs from a one-line spec: ``dk.backprop("x:4 -> linear:8 -> sigmoid ->
linear:3 -> softmax_ce")``.

The spec names the input size (``x:4``; ``x:4xN`` or ``batch=`` for a batch of N columns),
then layers: ``linear:K`` (a weight W_k of K × previous and a bias b_k), activations
(sigmoid, tanh, relu, leaky_relu, softplus, identity) and a final loss (mse, bce, softmax_ce).
It becomes a loss program (``z1 = W1@x + b1; a1 = sigmoid(z1); …``) that the matrix engine
of :mod:`derivekit.matrix.gradient` differentiates once for every parameter: forward equations, the
δ recursion, and each parameter gradient, each checked against central differences.

Loss conventions (the 1/N averages over the batch): mse ``(1/2N)‖A − Y‖²``, bce on the
logits of a final sigmoid, softmax_ce on the logits of the last linear layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from derivekit.display import Displayable
from derivekit.errors import DerivekitError, ParseError
from derivekit.limits import deadline
from derivekit.matrix.adjoints import RULES
from derivekit.matrix.evaluate import (
    FiniteDifferenceCheck,
    compile_node,
    domains,
    finite_difference_check,
    sample,
)
from derivekit.matrix.expr import Node, adj, fmt_shape
from derivekit.matrix.printers import name_latex, name_text, to_latex, to_text

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity")
LOSSES = {"mse": "mse", "bce": "bce", "softmax_ce": "softmax_ce", "ce": "softmax_ce",
          "cross_entropy": "softmax_ce"}
MAX_LAYERS = 64   # spec entries (a linear layer and its activation are two)
MAX_WIDTH = 4096


@dataclass(frozen=True)
class NetworkSpec:
    inputs: int
    batch: int | None            # None: one example (a column x)
    layers: tuple[tuple[str, int | None], ...]   # ("linear", K) or (activation, None)
    loss: str
    source: str = ""


def parse_spec(spec: str, batch: int | None = None) -> NetworkSpec:
    """Read ``"x:4 -> linear:8 -> sigmoid -> linear:3 -> softmax_ce"``."""
    if not isinstance(spec, str) or not spec.strip():
        raise ParseError("the network spec is empty",
                         hint='e.g. "x:4 -> linear:8 -> sigmoid -> linear:1 -> mse"')
    if len(spec) > 2000:
        raise ParseError("the network spec is too long")
    parts = [p.strip() for p in re.split(r"->|→", spec)]
    offsets, pos = [], 0
    for p in re.split(r"(->|→)", spec):
        if p not in ("->", "→"):
            offsets.append(pos + len(p) - len(p.lstrip()))
        pos += len(p)
    m = re.fullmatch(r"x\s*:\s*(\d+)(?:\s*[x×]\s*(\d+|N))?", parts[0])
    if not m:
        raise ParseError("the spec must start with the input size, e.g. 'x:4' or 'x:4x32' (a batch)",
                         source=spec, position=offsets[0])
    inputs = int(m.group(1))
    if m.group(2) and m.group(2) != "N":
        batch = int(m.group(2))
    elif m.group(2) == "N" and batch is None:
        batch = 5
    layers: list[tuple[str, int | None]] = []
    loss = None
    for part, offset in zip(parts[1:], offsets[1:]):
        if loss is not None:
            raise ParseError(f"'{part}' comes after the loss; the loss must be last",
                             source=spec, position=offset)
        lm = re.fullmatch(r"(linear|dense|fc)\s*:\s*(\d+)", part)
        if lm:
            layers.append(("linear", int(lm.group(2))))
        elif part in ACTIVATIONS:
            layers.append((part, None))
        elif part in LOSSES:
            loss = LOSSES[part]
        else:
            import difflib
            options = ["linear:K", *ACTIVATIONS, *LOSSES]
            close = difflib.get_close_matches(part, options, n=1)
            raise ParseError(f"unknown layer '{part}'", source=spec, position=offset,
                             hint=(f"did you mean '{close[0]}'? " if close else "") +
                                  "layers: linear:K, " + ", ".join(ACTIVATIONS) + "; losses: mse, bce, softmax_ce")
    if loss is None:
        raise ParseError("the spec must end with a loss: mse, bce or softmax_ce", source=spec,
                         position=len(spec))
    if not any(kind == "linear" for kind, _ in layers):
        raise ParseError("the network has no linear layer", hint="add e.g. '-> linear:3'")
    if len(layers) > MAX_LAYERS or max([inputs] + [k or 0 for _, k in layers]) > MAX_WIDTH:
        from derivekit.errors import LimitError
        raise LimitError(f"networks are limited to {MAX_LAYERS} spec entries (layers and activations) "
                         f"of width {MAX_WIDTH}")
    if any(k == 0 for _, k in layers) or inputs == 0:
        raise ParseError("layer sizes must be at least 1")
    if batch is not None and batch < 1:
        raise ParseError("the batch size must be at least 1")
    return NetworkSpec(inputs, batch, tuple(layers), loss, spec)


def build_program(spec: NetworkSpec) -> tuple[str, dict, list[str]]:
    """The loss program, the shapes, and the parameter names in order."""
    batched = spec.batch is not None
    x, y = ("X", "Y") if batched else ("x", "y")
    cols = "N" if batched else 1
    shapes: dict[str, Any] = {x: (spec.inputs, cols)}
    if batched:
        shapes["N"] = spec.batch
    lines, params = [], []
    previous, width, k = x, spec.inputs, 0
    last_kind = None
    for kind, size in spec.layers:
        if kind == "linear":
            k += 1
            shapes[f"W{k}"] = (size, width)
            shapes[f"b{k}"] = (size, 1)
            params += [f"W{k}", f"b{k}"]
            lines.append(f"z{k} = W{k}@{previous} + b{k}")
            previous, width = f"z{k}", size
        elif kind != "identity":
            if not previous.startswith("z"):
                raise ParseError(f"'{kind}' must follow a linear layer",
                                 hint="write linear:K before each activation")
            lines.append(f"a{k} = {kind}({previous})")
            previous = f"a{k}"
        last_kind = kind
    shapes[y] = (width, cols)
    scale = "(1/N)*" if batched else ""
    if spec.loss == "mse":
        lines.append(f"{'(1/(2*N))' if batched else '0.5'}*norm2({previous} - {y})")
    elif spec.loss == "softmax_ce":
        if not previous.startswith("z"):
            raise ParseError("softmax_ce takes the logits of the last linear layer",
                             hint="end with '-> linear:K -> softmax_ce' (the softmax is inside the loss)")
        # samples are columns: the classes of each run down the rows (axis 0)
        lines.append(f"{scale}softmax_ce({previous}, {y}{', axis=0' if batched else ''})")
    elif spec.loss == "bce":
        if last_kind != "sigmoid":
            raise ParseError("bce takes the probabilities of a final sigmoid",
                             hint="end with '-> linear:1 -> sigmoid -> bce'")
        lines.pop()  # the sigmoid is inside the loss: BCE(σ(z), y) has z̄ = σ(z) − y
        lines.append(f"{scale}bce_logits(z{k}, {y})")
    return "; ".join(lines), shapes, params


@dataclass
class ParameterGradient:
    name: str
    named: Node          # in terms of δs and activations
    expanded: Node       # in terms of inputs and parameters
    check: FiniteDifferenceCheck


@dataclass(eq=False)
class NetworkDerivation(Displayable):
    """Backprop for an MLP: forward equations, δ recursion and parameter gradients."""

    spec: NetworkSpec
    program: str
    shapes: dict[str, tuple[int, int]]
    dims: dict[str, int]
    loss: Node
    sweep: Any
    gradients: dict[str, ParameterGradient]
    rules: list[str] = field(default_factory=list)

    @property
    def forward(self):
        return list(self.sweep.intermediates)

    @property
    def deltas(self) -> list[tuple[str, Node]]:
        """(z name, δ) from the output layer down."""
        kinds = {i.name: i.kind for i in self.sweep.intermediates}
        return [(s.name, s.expr) for s in self.sweep.steps if kinds.get(s.name) == "z"]

    @property
    def ok(self) -> bool:
        return all(g.check.ok for g in self.gradients.values())

    def evaluate(self, values: dict) -> dict[str, np.ndarray]:
        """Every parameter gradient at ``values`` (name -> array)."""
        from derivekit.matrix.evaluate import check_values
        env = check_values(values, {n: s for n, s in self.shapes.items() if n in self.loss.names()})
        return {name: np.broadcast_to(compile_node(g.expanded)(env), self.shapes[name]).copy()
                for name, g in self.gradients.items()}

    def _render(self, fmt: str, **settings):
        return _render_network(self, fmt)


def backprop(spec: str, *, batch: int | None = None, check: bool = True,
             timeout: float | None = 10.0) -> NetworkDerivation:
    """Derive backprop for the MLP ``spec`` (see the module docstring)."""
    from derivekit.matrix.gradient import name_intermediates, prepare_loss, reverse_mode
    with deadline(timeout):
        net = parse_spec(spec, batch)
        program, shape_spec, params = build_program(net)
        typed, names, known, dims = prepare_loss(program, shape_spec)
        named = name_intermediates(typed, typed.names(), names, set(known) | set(dims))
        sweep = reverse_mode(typed, params, named)
        loss_fn = compile_node(typed)
        kinds = domains(typed)
        used = {n: known[n] for n in known if n in typed.names()}
        gradients = {}
        rules: list[str] = []
        for step in list(sweep.steps) + list(sweep.gradients.values()):
            rules.extend(r for r in step.rules if r not in rules)
        for name in params:
            step = sweep.gradients[name]
            expanded = sweep.expand(step.expr)
            if check:
                fn = compile_node(expanded)
                fd = finite_difference_check(
                    loss_fn, lambda env, fn=fn, shape=used[name]: np.broadcast_to(fn(env), shape),
                    used, kinds, name, seeds=(0, 1), directions=2)
                if not fd.ok:
                    raise DerivekitError(f"internal check failed for ∂L/∂{name}",
                                         hint="please report this network spec")
            else:
                fd = FiniteDifferenceCheck(True, 0.0, (), 0)
            gradients[name] = ParameterGradient(name, step.expr, expanded, fd)
        return NetworkDerivation(net, program, used, dims, typed, sweep, gradients, rules)


def _describe_loss(spec: NetworkSpec) -> str:
    batched = spec.batch is not None
    return {"mse": "mean squared error ½‖a − y‖²" + (", averaged over the batch" if batched else ""),
            "bce": "binary cross-entropy of σ(z) (the sigmoid is folded into the loss)"
                   + (", averaged over the batch" if batched else ""),
            "softmax_ce": "softmax cross-entropy on the logits" + (", averaged over the batch" if batched else ""),
            }[spec.loss]


def _render_network(net: NetworkDerivation, fmt: str):
    inter = {i.name: i for i in net.sweep.intermediates}
    batch = f", batch N = {net.spec.batch}" if net.spec.batch else ""
    shapes = ", ".join(f"{name_text(n)} {fmt_shape(s)}" for n, s in net.shapes.items())
    if fmt == "dict":
        return {
            "kind": "backprop", "spec": net.spec.source, "program": net.program,
            "loss": _describe_loss(net.spec), "shapes": {n: list(s) for n, s in net.shapes.items()},
            "forward": [{"name": i.name, "text": to_text(i.body), "latex": to_latex(i.body)}
                        for i in net.forward] + [{"name": "L", "text": to_text(net.sweep.root),
                                                  "latex": to_latex(net.sweep.root)}],
            "deltas": [{"name": z, "text": to_text(e), "latex": to_latex(e)} for z, e in net.deltas],
            "gradients": [{"name": g.name, "text": to_text(g.named), "latex": to_latex(g.named),
                           "expanded": to_text(g.expanded), "check_ok": g.check.ok,
                           "max_rel_error": g.check.max_rel_error} for g in net.gradients.values()],
            "rules": [{"op": r, "title": RULES[r].title, "statement": RULES[r].statement} for r in net.rules],
            "check_ok": net.ok,
        }
    worst = max((g.check.max_rel_error for g in net.gradients.values()), default=0.0)
    if fmt == "text":
        lines = [f"backprop for {net.spec.source}{batch}", f"loss: {_describe_loss(net.spec)}",
                 f"shapes: {shapes}", "", "forward pass"]
        lines += [f"  {name_text(i.name)} = {to_text(i.body)}" for i in net.forward]
        lines += [f"  L = {to_text(net.sweep.root)}", "", "δ recursion (δₖ = ∂L/∂zₖ, from the output down)"]
        for z, expr in net.deltas:
            lines.append(f"  {to_text(adj(z, inter[z].body.shape))} = {to_text(expr)}")
        lines += ["", "parameter gradients"]
        for g in net.gradients.values():
            lines.append(f"  ∂L/∂{name_text(g.name)} = {to_text(g.named)}    "
                         f"({fmt_shape(net.shapes[g.name])})")
        lines += ["", f"numeric check: every gradient matches central differences "
                      f"(max relative error {worst:.1e})" if net.ok else "numeric check FAILED",
                  "", "rules used"]
        lines += [f"  {RULES[r].title}: {RULES[r].statement}" for r in net.rules]
        return "\n".join(lines)
    rows = [rf"{name_latex(i.name, True)} &= {to_latex(i.body)} \\" for i in net.forward]
    rows.append(rf"L &= {to_latex(net.sweep.root)} \\")
    rows += [rf"{to_latex(adj(z, inter[z].body.shape))} &= {to_latex(e)} \\" for z, e in net.deltas]
    grads = [rf"\frac{{\partial L}}{{\partial {name_latex(g.name, True)}}} &= {to_latex(g.named)}"
             for g in net.gradients.values()]
    body = "\\begin{aligned}\n" + "\n".join(rows + [" \\\\\n".join(grads)]) + "\n\\end{aligned}"
    if fmt == "latex":
        return body
    lines = [f"### Backprop for `{net.spec.source}`{batch}", "", f"Loss: {_describe_loss(net.spec)}.",
             "", "**Forward pass**", ""]
    lines += [f"- ${name_latex(i.name, True)} = {to_latex(i.body)}$" for i in net.forward]
    lines += [f"- $L = {to_latex(net.sweep.root)}$", "", "**δ recursion**", ""]
    lines += [f"- ${to_latex(adj(z, inter[z].body.shape))} = {to_latex(e)}$" for z, e in net.deltas]
    lines += ["", "**Parameter gradients**", ""]
    lines += [f"- $\\frac{{\\partial L}}{{\\partial {name_latex(g.name, True)}}} = {to_latex(g.named)}$"
              for g in net.gradients.values()]
    lines += ["", f"Numeric check: every gradient matches central differences (max relative error "
                  f"{worst:.1e})." if net.ok else "Numeric check FAILED."]
    return "\n".join(lines)


__all__ = ["backprop", "parse_spec", "NetworkDerivation", "NetworkSpec", "sample"]
