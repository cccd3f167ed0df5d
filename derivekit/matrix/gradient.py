"""Matrix calculus with steps: ``matrix_gradient`` and ``verify_backprop``.

``matrix_gradient("norm2(W@x + b - y)", wrt="W", shapes={...})`` parses the loss, checks
the shapes, names the intermediates (z = Wx + b, a = σ(z), …), runs reverse mode through the
rule table of :mod:`derivekit.matrix.adjoints` definition by definition, expands and tidies the
result into matrix notation (``2(Wx + b − y)xᵀ``), and checks it against central
differences before returning a :class:`MatrixDerivation`.

SymPy's matrix differentiation is not used: it returns 0 for ∂ log det X/∂X and for the
softmax cross-entropy gradient, and is silently wrong through elementwise activations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from derivekit.display import Displayable
from derivekit.errors import DerivekitError, ShapeError, UnsupportedError
from derivekit.limits import deadline
from derivekit.matrix.adjoints import RULES, backward
from derivekit.matrix.assumptions import declaration, describe, parse_assumptions, symmetric_names
from derivekit.matrix.evaluate import (
    CannotCheckError,
    FiniteDifferenceCheck,
    check_values,
    compile_node,
    domains,
    finite_difference_check,
    implied,
)
from derivekit.matrix.expr import (
    SCALAR,
    Node,
    add,
    adj,
    const,
    fmt_shape,
    ref,
    substitute,
    tidy,
)
from derivekit.matrix.parse import parse_program
from derivekit.matrix.printers import to_latex, to_numpy_text, to_text
from derivekit.matrix.shapes import annotate, resolve_shapes
from derivekit.matrix.tidy import tidy_textbook

_ACTIVATIONS = {"sigmoid", "tanh", "relu", "leaky_relu", "softplus", "exp"}


class MatExpr(Displayable):
    """A matrix-notation expression: prints as text (``2(Wx + b − y)xᵀ``) and LaTeX."""

    def __init__(self, node: Node):
        self.node = node

    @property
    def shape(self) -> tuple[int, int]:
        return self.node.shape

    @property
    def numpy(self) -> str:
        """The expression in NumPy spelling (readable back by derivekit)."""
        return to_numpy_text(self.node)

    def _render(self, fmt: str, **settings):
        if fmt == "text":
            return to_text(self.node)
        if fmt == "latex":
            return to_latex(self.node)
        if fmt == "markdown":
            return f"${to_latex(self.node)}$"
        return {"text": to_text(self.node), "latex": to_latex(self.node),
                "numpy": self.numpy, "shape": list(self.shape)}

    def __eq__(self, other) -> bool:
        if isinstance(other, MatExpr):
            return self.node == other.node
        if isinstance(other, str):
            return to_text(self.node) == other
        return NotImplemented

    def __hash__(self):
        return hash(self.node)

    def __repr__(self) -> str:
        return f"MatExpr({to_text(self.node)!r})"


@dataclass
class Intermediate:
    """A named intermediate of the forward pass (``z₁ = W₁x + b₁``)."""

    name: str
    body: Node           # in terms of variables and earlier names (refs)
    expanded: Node       # in terms of variables only
    kind: str            # "z" pre-activation, "a" activation, "r" residual, "u" other


@dataclass
class BackwardStep:
    """One adjoint: ``∂L/∂name = expr`` (in terms of names), and the rules that gave it."""

    name: str
    expr: Node
    rules: tuple[str, ...]
    is_parameter: bool = False


@dataclass
class ReverseMode:
    """What one reverse sweep over named definitions produced."""

    intermediates: list[Intermediate]
    root: Node                              # the loss in terms of names
    steps: list[BackwardStep]               # adjoints of names, root side first
    gradients: dict[str, BackwardStep]      # wrt name -> gradient in terms of names
    adjoints: dict[str, Node]               # name -> adjoint in terms of names

    def expand(self, node: Node) -> Node:
        """Replace every name and adjoint by what it stands for, and tidy."""
        cache: dict[str, Node] = {}
        defs = {i.name: i for i in self.intermediates}

        def expand_adj(name: str) -> Node:
            if name not in cache:
                cache[name] = full(self.adjoints[name])
            return cache[name]

        def full(n: Node) -> Node:
            mapping = {}
            for leaf in n.walk():
                if leaf.op == "ref":
                    mapping[("ref", leaf.attr)] = defs[leaf.attr].expanded
                elif leaf.op == "adj":
                    mapping[("adj", leaf.attr)] = expand_adj(leaf.attr)
            return tidy(substitute(n, mapping)) if mapping else tidy(n)

        return full(node)


def _kind_of(name: str) -> str:
    if re.fullmatch(r"(z|Z)_?\d*", name):
        return "z"
    if re.fullmatch(r"(a|A|h|H)_?\d*", name):
        return "a"
    return "u"


def name_intermediates(root: Node, wrt: set[str], user_names: dict[Node, str],
                       taken: set[str]) -> dict[Node, tuple[str, str]]:
    """Choose names for the intermediates worth naming: pre-activations z, activations a,
    a residual r under a squared norm, and other reduction arguments u. Names the user
    gave (``z1 = W1@x + b1``) win."""
    chosen: dict[Node, tuple[str, str]] = {n: (name, _kind_of(name)) for n, name in user_names.items()}
    # a name the user gave is taken: naming another node z beside the user's z made two
    # intermediates share one adjoint (and a wrong gradient)
    taken = set(taken) | set(user_names.values())
    found: list[tuple[Node, str]] = []

    def contains(n: Node) -> bool:
        return bool(n.names() & wrt)

    def candidate(n: Node, kind: str):
        if n.args and n.op not in ("T", "neg") and (contains(n) or kind == "a"):
            if n not in chosen and all(n != f for f, _ in found):
                found.append((n, kind))

    def visit(n: Node):
        for a in n.args:
            visit(a)
        if n.op == "func" and n.attr in _ACTIVATIONS:
            candidate(n.args[0], "z")
            if contains(n.args[0]) or n in user_names:
                candidate(n, "a")
        elif n.op in ("softmax_ce", "bce_logits", "softmax", "log_softmax", "logsumexp"):
            candidate(n.args[0], "z")
        elif n.op == "norm2":
            arg = n.args[0]
            if arg in user_names:
                pass  # the user named the residual
            elif arg.op == "sub" and arg.args[0].args and contains(arg.args[0]) \
                    and not arg.args[1].args:
                candidate(arg.args[0], "z")
            else:
                candidate(arg, "r")
        elif n.op in ("trace", "sum", "mean", "det", "logdet") and n.args[0].op != "func":
            candidate(n.args[0], "u")

    visit(root)
    found = [(n, k) for n, k in found if k != "a" or any(n.args[0] == f for f, _ in found)
             or n.args[0] in chosen]
    counts = {k: sum(1 for _, kk in found if kk == k) for k in "zaru"}
    index = {k: 0 for k in "zaru"}
    z_index: dict[Node, int] = {}
    for n, kind in found:
        if kind == "a":
            k = z_index.get(n.args[0])
            if k is None:
                index["a"] += 1
                k = index["a"]
        else:
            index[kind] += 1
            k = index[kind]
            if kind == "z":
                z_index[n] = k
        single = counts["z" if kind == "a" else kind] <= 1   # one layer: z and a, no index
        name = kind if single else f"{kind}{k}"
        while name in taken:
            name = "h" + name
        taken.add(name)
        chosen[n] = (name, kind)
    return chosen


def compress(root: Node, named: dict[Node, tuple[str, str]]):
    """Rewrite ``root`` with named subtrees replaced by refs; return (root body,
    intermediates in forward order)."""
    intermediates: dict[str, Intermediate] = {}
    memo: dict[Node, Node] = {}

    def go(n: Node, top: bool = False) -> Node:
        if not top and n in named:
            name, kind = named[n]
            if name not in intermediates:
                body = n.with_args([go(a) for a in n.args]) if n.args else n
                intermediates[name] = Intermediate(name, body, n, kind)
            return ref(name, n.shape)
        if n in memo:
            return memo[n]
        out = n.with_args([go(a) for a in n.args]) if n.args else n
        memo[n] = out
        return out

    body = go(root, top=True)
    return body, list(intermediates.values())


def reverse_mode(root: Node, wrt: list[str], named: dict[Node, tuple[str, str]]) -> ReverseMode:
    """One reverse sweep giving the gradient of scalar ``root`` for every name in ``wrt``."""
    body, intermediates = compress(root, named)
    wanted = set(wrt)
    depends = {}
    for inter in intermediates:
        depends[inter.name] = bool(inter.expanded.names() & wanted)

    def target(leaf: Node) -> bool:
        return (leaf.op == "var" and leaf.attr in wanted) or (leaf.op == "ref" and depends.get(leaf.attr, False))

    contributions: dict[str, list[Node]] = {}
    rules_of: dict[str, list[str]] = {}

    def route(leaves: dict[Node, Node], used: list[str]):
        for leaf, grad in leaves.items():
            contributions.setdefault(leaf.attr, []).append(grad)
            rules = rules_of.setdefault(leaf.attr, [])
            rules.extend(r for r in used if r not in rules)

    route(*backward(body, const(1), target))
    inline = {i.name for i in intermediates if i.kind == "a"}
    adjoints: dict[str, Node] = {}
    steps: list[BackwardStep] = []

    def total(name: str) -> Node:
        terms = contributions[name]
        out = terms[0]
        for t in terms[1:]:
            out = add(out, t)
        mapping = {("adj", n): adjoints[n] for n in inline if n in adjoints}
        return tidy(substitute(out, mapping) if mapping else out)

    for inter in reversed(intermediates):
        if inter.name not in contributions:
            continue
        expr = total(inter.name)
        adjoints[inter.name] = expr
        steps.append(BackwardStep(inter.name, expr, tuple(rules_of[inter.name])))
        route(*backward(inter.body, adj(inter.name, inter.body.shape), target))
    gradients = {}
    for name in wrt:
        if name not in contributions:
            continue
        gradients[name] = BackwardStep(name, total(name), tuple(rules_of[name]), True)
    return ReverseMode(intermediates, body, steps, gradients, adjoints)


@dataclass(eq=False)
class MatrixDerivation(Displayable):
    """The gradient of a scalar matrix expression with respect to one matrix, with steps.

    ``result`` is the tidy matrix-notation gradient (a :class:`MatExpr`), ``named_result``
    the same in terms of the named intermediates (``[(W₂ᵀδ₂) ⊙ σ′(z₁)]xᵀ``), ``check`` the
    central-difference check it passed before it was returned.
    """

    loss: Node
    wrt: str
    shapes: dict[str, tuple[int, int]]
    sweep: ReverseMode
    result: MatExpr
    named_result: MatExpr
    check: FiniteDifferenceCheck
    source: str = ""
    declared: dict = field(default_factory=dict)
    moves: tuple = ()  # the tidying moves (matrix.tidy.AppliedMove) toward the textbook form
    _compiled: Any = field(default=None, repr=False)

    @property
    def assumptions(self) -> dict[str, str]:
        """Structure the result holds under: what was declared, and what the loss implies
        (softmax cross-entropy's target is one-hot along the class axis), name -> kind."""
        return {**implied(self.loss), **self.declared}

    def assumption_text(self) -> str:
        """``each row of Y is one-hot`` (joined by "and"), or "" when nothing is assumed."""
        return " and ".join(describe(n, k) for n, k in self.assumptions.items())

    @property
    def shape(self) -> tuple[int, int]:
        return self.shapes[self.wrt]

    @property
    def steps(self) -> list[BackwardStep]:
        return list(self.sweep.steps) + [self.sweep.gradients[self.wrt]]

    @property
    def forward(self) -> list[Intermediate]:
        return list(self.sweep.intermediates)

    def compile(self):
        """The gradient as a NumPy function ``f(values) -> ndarray``, compiled once, without
        the input checks of :meth:`evaluate` (for loops)."""
        if self._compiled is None:
            self._compiled = compile_node(self.result.node)
        return self._compiled

    def evaluate(self, values: dict) -> np.ndarray:
        """The gradient at ``values`` (name -> array), an ndarray of ``wrt``'s shape."""
        if self._compiled is None:
            self._compiled = compile_node(self.result.node)
        env = check_values(values, {n: s for n, s in self.shapes.items() if n in self.loss.names()})
        out = np.asarray(self._compiled(env), dtype=float)
        return np.broadcast_to(out, self.shape).copy() if out.shape != self.shape else out

    def _render(self, fmt: str, **settings):
        from derivekit.matrix.derivation_writer import render_derivation
        return render_derivation(self, fmt, **settings)


def _taken_names(shapes: dict, dims: dict) -> set[str]:
    return set(shapes) | set(dims)


def prepare_loss(loss, shapes, syntax: str = "auto"):
    """Parse and type a loss (with optional ``name = expr`` definitions)."""
    known, dims = resolve_shapes(shapes)
    if isinstance(loss, MatExpr):
        return loss.node, {}, known, dims
    if isinstance(loss, Node):
        typed, names = annotate(loss, known, dims=dims)
        return typed, names, known, dims
    program = parse_program(loss, syntax, known_names=list(known) + list(dims))
    definitions = {name: node for name, node in program if name is not None}
    expressions = [node for name, node in program if name is None]
    if not expressions:
        last_name = program[-1][0]
        expressions = [definitions.pop(last_name)]
    if len(expressions) != 1:
        raise DerivekitError("the loss must be one expression (plus optional 'name = expr' lines)")
    typed, names = annotate(expressions[0], known, definitions, dims=dims)
    typed = canonicalize(typed)
    names = {canonicalize(n): name for n, name in names.items()}
    # keep the shapes of names the typer inferred
    for node in typed.walk():
        if node.op == "var" and node.attr not in known:
            known[node.attr] = node.shape
    return typed, names, known, dims


def _log_softmax_of(n: Node) -> tuple[Node | None, int | None]:
    """(Z, axis) when ``n`` is log(softmax(Z, axis)) or log_softmax(Z, axis)."""
    if n.op == "func" and n.attr == "log" and n.args[0].op == "softmax":
        return n.args[0].args[0], n.args[0].attr
    if n.op == "log_softmax":
        return n.args[0], n.attr
    return None, None


def _const_factor(n: Node) -> bool:
    """A number or its negative (c, −c)."""
    return n.op == "const" or (n.op == "neg" and n.args[0].op == "const")


def canonicalize(node: Node) -> Node:
    """Recognise known losses written out: sum(Y ⊙ log softmax(Z)) is −CE(softmax(Z), Y),
    so its gradient is the known result softmax(Z) − Y."""
    from derivekit.matrix.expr import neg, pair_loss, scale

    def go(n: Node) -> Node:
        if not n.args:
            return n
        args = [go(a) for a in n.args]
        n = n.with_args(args)
        if n.op == "sum" and args[0].op == "mul":
            left, right = args[0].args
            for target, logs in ((left, right), (right, left)):
                z, axis = _log_softmax_of(logs)
                # −Y or c·Y: the sign or constant leaves the loss, so the target Y is the one
                # whose columns sum to 1 (the known result softmax(Z) − Y needs that)
                sign, c = 1, None  # c: a constant factor of the target
                while target.op == "neg" or (target.op == "mul" and target.args[1].shape == target.shape
                                             and _const_factor(target.args[0])):
                    if target.op == "neg":
                        sign, target = -sign, target.args[0]
                    elif target.args[0].op == "neg":  # (−c)·Y
                        sign, target = -sign, Node("mul", (target.args[0].args[0], target.args[1]),
                                                   None, target.shape)
                    else:
                        c, target = target.args[0].attr if c is None else target.args[0].attr * c, target.args[1]
                if z is not None and target.shape == z.shape and not (target.names() & z.names()):
                    loss = pair_loss("softmax_ce", z, target, axis)
                    if c is not None:
                        loss = scale(c, loss)
                    return loss if sign < 0 else neg(loss)
        row, negative = (args[0].args[0], True) if args[0].op == "neg" else (args[0], False)
        if n.op == "matmul" and row.op == "T" and row.shape[0] == 1:
            # ±yᵀ log softmax(z) for columns y, z is the same sum
            target, (z, axis) = row.args[0], _log_softmax_of(args[1])
            if target.op == "neg":  # (−y)ᵀ
                target, negative = target.args[0], not negative
            if z is not None and target.shape == z.shape and not (target.names() & z.names()):
                loss = pair_loss("softmax_ce", z, target, axis)
                return loss if negative else neg(loss)
        if n.op == "neg" and args[0].op == "neg":
            return args[0].args[0]
        return n

    return go(node)


def matrix_gradient(loss, wrt: str, shapes=None, *, syntax: str = "auto", check: bool = True,
                    timeout: float | None = 10.0, assume=None) -> MatrixDerivation:
    """Differentiate the scalar matrix expression ``loss`` with respect to ``wrt``.

    ``shapes`` maps names to (rows, cols) (or ``"W=3x4,x=4x1"``); symbolic sizes such as
    ``("d", "N")`` get pairwise-distinct numbers. Raises :class:`~derivekit.ShapeError` on a
    shape mismatch and :class:`~derivekit.DerivekitError` if the derived result ever failed
    its finite-difference check. ``assume`` declares structure of inputs
    (``"Y: one-hot rows, A: symmetric"`` or a dict): random inputs respect it, and the result
    records it. Raises :class:`~derivekit.matrix.evaluate.CannotCheckError` when too few random
    inputs give a finite loss and gradient to check the result on.
    """
    with deadline(timeout):
        source = loss if isinstance(loss, str) else ""
        typed, names, known, dims = prepare_loss(loss, shapes, syntax)
        if typed.shape != SCALAR:
            raise UnsupportedError(
                f"the loss must be a scalar, but it is {fmt_shape(typed.shape)}",
                hint="reduce it first (sum, mean, norm2, trace), or differentiate each entry")
        if wrt not in typed.names():
            raise DerivekitError(f"'{wrt}' is not a variable of the loss",
                                 hint="variables: " + ", ".join(sorted(typed.names())))
        named = name_intermediates(typed, typed.names(), names, _taken_names(known, dims))
        sweep = reverse_mode(typed, [wrt], named)
        if wrt not in sweep.gradients:
            from derivekit.matrix.expr import zeros
            zero = zeros(known[wrt])
            sweep.gradients[wrt] = BackwardStep(wrt, zero, (), True)
        step = sweep.gradients[wrt]
        used_shapes = {n: s for n, s in known.items() if n in typed.names()}
        declared = parse_assumptions(assume, used_shapes)
        result, moves = tidy_textbook(sweep.expand(step.expr), symmetric=symmetric_names(declared))
        named_expr = _one_level(step.expr, sweep)
        fd = _check(typed, result, wrt, used_shapes, declared) if check else \
            FiniteDifferenceCheck(True, 0.0, (), 0)
        if not fd.checked:
            hint = "make the loss finite on random inputs: declare structure with --assume / assume= " \
                   "(e.g. \"A: positive definite\", \"X: positive\"), or add the ε that keeps " \
                   "a log or square root away from 0"
            if declared:
                hint = f"declared: {declaration(declared)}; " + hint
            guessed = sorted(n for n in used_shapes if n not in resolve_shapes(shapes)[0])
            if guessed:  # an undeclared name (eps) drawn at random is the usual culprit
                hint = (f"{', '.join(guessed)} {'is' if len(guessed) == 1 else 'are'} not declared, so "
                        f"drawn at random with an inferred shape: declare a constant in the shapes "
                        f"(e.g. {guessed[0]}=1e-5); " + hint)
            reason = (f"{fd.reason}, so no point is left to check ∂L/∂{wrt} = {to_text(result)} "
                      f"on")
            raise CannotCheckError(f"cannot check ∂L/∂{wrt}: {reason}", reason=reason, hint=hint)
        if not fd.ok:
            raise DerivekitError(
                f"internal check failed: the derived ∂L/∂{wrt} = {to_text(result)} disagrees with "
                f"central differences (relative error {fd.max_rel_error:.1e})",
                hint="please report this expression; the result was not shown because it is wrong")
        m = MatrixDerivation(typed, wrt, used_shapes, sweep, MatExpr(result),
                             MatExpr(named_expr), fd, source, declared, tuple(moves))
        if check and m.assumptions:
            m.check = replace(fd, assumed=m.assumption_text())
        return m


def _one_level(expr: Node, sweep: ReverseMode) -> Node:
    """Substitute the adjoints the gradient uses directly, keeping deeper names (an adjoint
    that is only another adjoint is followed through)."""
    def resolve(name: str) -> Node:
        value = sweep.adjoints[name]
        seen = {name}
        while value.op == "adj" and value.attr in sweep.adjoints and value.attr not in seen:
            seen.add(value.attr)
            value = sweep.adjoints[value.attr]
        return value

    mapping = {("adj", leaf.attr): resolve(leaf.attr) for leaf in expr.walk()
               if leaf.op == "adj" and leaf.attr in sweep.adjoints}
    return tidy(substitute(expr, mapping)) if mapping else expr


def _check(loss: Node, result: Node, wrt: str, shapes, declared=None) -> FiniteDifferenceCheck:
    loss_fn = compile_node(loss)
    grad_fn = compile_node(result)
    kinds = domains(loss, declared)
    return finite_difference_check(loss_fn, lambda env: np.broadcast_to(grad_fn(env), shapes[wrt]),
                                   shapes, kinds, wrt)


def verify_backprop(loss, claim, wrt: str, shapes=None, *, seeds=(0, 1, 2), syntax: str = "auto",
                    diagnose: bool = True, timeout: float | None = 10.0, assume=None,
                    kind: str = "gradient"):
    """Check a hand-derived matrix gradient ``claim`` of ``loss`` with respect to ``wrt``.

    ``assume`` declares structure of inputs (``"Y: one-hot rows"``), as in
    :func:`matrix_gradient`. Returns a :class:`~derivekit.matrix.claimcheck.BackpropVerdict`
    (``ok``, ``checked``, ``diagnosis``, ``error_class``, ``counterexample``, ``expected``,
    ``max_rel_error``); ``checked`` is False ("cannot check") when too few random inputs
    give finite values.

    ``kind="jacobian"`` checks a claimed Jacobian ∂f/∂xᵀ of a column-valued ``loss``
    (``diag(softmax(z)) - softmax(z)@softmax(z).T``), ``kind="hessian"`` a claimed Hessian of
    a scalar ``loss``, both by a column vector ``wrt``
    (:func:`derivekit.matrix.jacobian_claim.check_derivative_claim`)."""
    if kind in ("jacobian", "hessian"):
        from derivekit.matrix.jacobian_claim import check_derivative_claim
        return check_derivative_claim(loss, claim, wrt, shapes, kind=kind, seeds=seeds,
                                      syntax=syntax, diagnose=diagnose, timeout=timeout,
                                      assume=assume)
    if kind != "gradient":
        raise DerivekitError(f"unknown kind of claim '{kind}'",
                             hint='kind is "gradient", "jacobian" or "hessian"')
    from derivekit.matrix.claimcheck import check_claim
    return check_claim(loss, claim, wrt, shapes, seeds=seeds, syntax=syntax, diagnose=diagnose,
                       timeout=timeout, assume=assume)


__all__ = ["matrix_gradient", "MatrixDerivation", "MatExpr", "verify_backprop", "RULES",
           "ShapeError"]
