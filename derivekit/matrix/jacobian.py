"""Jacobians of vector-valued matrix expressions and Hessians of scalar ones, by forward mode.

``matrix_jacobian("sigmoid(W@x)", wrt="x", shapes=...)`` gives ∂f/∂xᵀ (m × n) in matrix
notation, here ``diag(σ′(Wx))W``; ``matrix_hessian("x.T@A@x", wrt="x", ...)`` differentiates
the gradient once more, giving ``A + Aᵀ``. The forward rules form a table like the reverse
one; an expression outside it raises :class:`~derivekit.errors.UnsupportedError`. Every
result is checked against central differences, column by column, before it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from derivekit.display import Displayable
from derivekit.errors import DerivekitError, UnsupportedError
from derivekit.limits import deadline
from derivekit.matrix.assumptions import describe, parse_assumptions, symmetric_names
from derivekit.matrix.derivation_writer import moves_text
from derivekit.matrix.evaluate import (
    CannotCheckError,
    check_values,
    compile_node,
    domains,
    draw_points,
    finite,
    sample,
)
from derivekit.matrix.expr import (
    SCALAR,
    Node,
    add,
    colsum,
    diag,
    div,
    eye,
    func,
    kron,
    matmul,
    mul,
    neg,
    ones,
    power,
    reduction,
    rowsum,
    scale,
    sub,
    tidy,
    transpose,
)
from derivekit.matrix.printers import (
    name_latex,
    name_text,
    to_latex,
    to_numpy_text,
    to_text,
)
from derivekit.matrix.tidy import tidy_textbook, write_out_derivatives

#: f -> f′ as a node builder, including the second derivatives the Hessian needs
FORWARD_DERIVATIVES: dict[str, Callable[[Node], Node]] = {
    "sigmoid": lambda z: func("sigmoid_prime", z),
    "tanh": lambda z: func("tanh_prime", z),
    "relu": lambda z: func("relu_prime", z),
    "softplus": lambda z: func("sigmoid", z),
    "exp": lambda z: func("exp", z),
    "sigmoid_prime": lambda z: mul(func("sigmoid_prime", z), sub(ones(z.shape), scale(2, func("sigmoid", z)))),
    "tanh_prime": lambda z: scale(-2, mul(func("tanh", z), func("tanh_prime", z))),
    "relu_prime": lambda z: None,
    "leaky_relu": lambda z: func("leaky_relu_prime", z),
    "leaky_relu_prime": lambda z: None,
    "abs": lambda z: func("sign", z),
    "sign": lambda z: None,
    "log": lambda z: div(ones(z.shape), z),
    "sqrt": lambda z: div(ones(z.shape), scale(2, func("sqrt", z))),
}

#: op -> the rule in words (forward mode, J(·) = ∂(·)/∂xᵀ)
FORWARD_RULES = {
    "var": "J(x) = I; J(c) = 0 for anything not depending on x",
    "add": "J(u ± v) = J(u) ± J(v)",
    "matmul": "J(Au) = A J(u) for A not depending on x; J(uᵀv) = vᵀJ(u) + uᵀJ(v)",
    "mul": "J(u ⊙ v) = diag(v)J(u) + diag(u)J(v); J(c u) = c J(u)",
    "func": "J(f(u)) = diag(f′(u)) J(u)",
    "sum": "J(𝟙ᵀu) = 𝟙ᵀJ(u)",
    "norm2": "J(‖u‖²) = 2uᵀJ(u)",
    "maximum": "J(max(u, v)) = diag(𝟙[u ≥ v])J(u) + diag(𝟙[u < v])J(v) (min likewise)",
    "cmp": "J(𝟙[u > v]) = 0 almost everywhere (a step)",
    "where": "J(where(c, u, v)) = diag(𝟙[c ≠ 0])J(u) + diag(𝟙[c = 0])J(v)",
    "div": "J(u / v) = diag(1/v)J(u) − diag(u/v²)J(v) (a scalar v: J(u)/v − (u/v²)J(v))",
    "pow": "J(u^∘k) = diag(k u^∘(k−1)) J(u)",
    "softmax": "J(softmax(u)) = (diag(s) − ssᵀ) J(u), s = softmax(u)",
    "log_softmax": "J(log softmax(u)) = (I − 𝟙sᵀ) J(u), s = softmax(u)",
    "logsumexp": "J(logsumexp(u)) = sᵀ J(u), s = softmax(u)",
    "mean": "J(mean(u)) = (1/n) 𝟙ᵀJ(u)",
    "diagonal": "J(diag(M)) with diag(PQ) = (P ⊙ Qᵀ)𝟙 and diag(f(M)) = f(diag(M))",
    "push": "J(A(x)u) by re-bracketing: (PQ)u = P(Qu), (P ± Q)u = Pu ± Qu, (c ⊙ P)u = c ⊙ (Pu)",
    "reverse": "J(s) = (∇s)ᵀ for a scalar s, by the reverse-mode rules",
    "kron_left": "vec(AU) = (I ⊗ A) vec(U) for A not depending on X",
    "kron_right": "vec(UB) = (Bᵀ ⊗ I) vec(U) for B not depending on X",
}

#: which argument each indicator selects: maximum(u, v) takes u where u ≥ v
_SELECT = {"maximum": (">=", "<"), "minimum": ("<=", ">")}


class _Forward:
    def __init__(self, wrt: str, n: int):
        self.wrt, self.n = wrt, n
        self.used: list[str] = []

    def note(self, op: str):
        if op not in self.used:
            self.used.append(op)

    def depends(self, node: Node) -> bool:
        return self.wrt in node.names()

    def jac(self, node: Node) -> Node | None:
        """∂node/∂wrtᵀ (rows: entries of the column ``node``), None for zero. A scalar that
        the forward table does not cover (tr, det, a norm of a matrix-valued term) is
        differentiated in reverse mode: J(s) = (∇s)ᵀ."""
        if not self.depends(node):
            return None
        try:
            return self._forward(node)
        except UnsupportedError:
            if node.shape != SCALAR:
                raise
            out = self._by_reverse(node)
            self.note("reverse")
            return out

    def _by_reverse(self, node: Node) -> Node | None:
        """(∇s)ᵀ for a scalar s, by the reverse-mode rule table."""
        from derivekit.matrix.gradient import reverse_mode
        sweep = reverse_mode(node, [self.wrt], {})
        step = sweep.gradients.get(self.wrt)
        return None if step is None else tidy(transpose(sweep.expand(step.expr)))

    def _matrix_valued(self, node: Node, what: str = ""):
        m, k = node.shape
        raise UnsupportedError(
            f"{what or to_text(node)} is a {m}×{k} matrix that depends on {self.wrt}, so its "
            f"derivative is a 3-D array, which a Jacobian of a column cannot hold",
            hint=f"bracket so that only columns depend on {self.wrt} ((xyᵀ)u = x(yᵀu), diag(v)u = "
                 f"v ⊙ u), reduce it to a scalar (sum, trace, norm2), or differentiate its vec: "
                 f"vec(A u) = (uᵀ ⊗ I) vec(A), so declare vec(A) as an {m * k}×1 column")

    def _push(self, a: Node, b: Node) -> Node | None:
        """A(x)b rewritten so that no matrix depending on x is left in front of b:
        (PQ)b = P(Qb), (P ± Q)b = Pb ± Qb, (c ⊙ P)b = c ⊙ (Pb) for a column c,
        (r ⊙ P)b = P(rᵀ ⊙ b) for a row r, (sP)b = s(Pb) and (P/s)b = (Pb)/s for a scalar s,
        and transposes moved inside. None where none of these applies (σ(A(x)), A(x)⁻¹)."""
        op = a.op
        if op == "matmul":
            return matmul(a.args[0], matmul(a.args[1], b))
        if op in ("add", "sub") and a.args[0].shape == a.args[1].shape == a.shape:
            # a raw sum: the smart constructor would factor Pb + Qb back into (P + Q)b
            return Node(op, (matmul(a.args[0], b), matmul(a.args[1], b)), None, (a.shape[0], b.shape[1]))
        if op == "neg":
            return neg(matmul(a.args[0], b))
        if op in ("mul", "div"):
            u, v = a.args
            if op == "mul" and u.shape != a.shape and v.shape == a.shape:
                u, v = v, u  # the full matrix first
            if u.shape != a.shape:
                return None
            if v.shape == SCALAR or (v.shape[1] == 1 and v.shape[0] == a.shape[0]):
                pb = matmul(u, b)
                return mul(v, pb) if op == "mul" else div(pb, v)
            if v.shape[0] == 1 and v.shape[1] == a.shape[1]:
                vt = transpose(v)
                return matmul(u, mul(vt, b) if op == "mul" else div(b, vt))
            return None
        if op == "T":
            moved = _transpose_inside(a.args[0])
            return None if moved is None else matmul(moved, b)
        return None

    def _forward(self, node: Node) -> Node | None:
        op = node.op
        if node.shape[1] != 1:
            self._matrix_valued(node)
        if op == "rowsum":
            m = node.args[0]
            if m.shape[1] != 1 and self.depends(m):
                pushed = self._push(m, ones((m.shape[1], 1)))
                if pushed is None:
                    self._matrix_valued(m)
                self.note("push")
                return self.jac(pushed)
        if op == "var":
            self.note("var")
            return eye(self.n)
        if op in ("add", "sub"):
            self.note("add")
            a, b = (self._lift(arg, node.shape) for arg in node.args)
            if a is None:
                return b if op == "add" or b is None else neg(b)
            if b is None:
                return a
            return add(a, b) if op == "add" else sub(a, b)
        if op == "neg":
            inner = self.jac(node.args[0])
            return None if inner is None else neg(inner)
        if op == "mul":
            self.note("mul")
            u, v = node.args
            terms = []
            for this, other in ((u, v), (v, u)):
                j = self._lift(this, node.shape)
                if j is None:
                    continue
                if other.shape == SCALAR:
                    terms.append(mul(other, j) if other.op != "const" else scale(other.attr, j))
                else:
                    terms.append(matmul(diag(other), j))
            return self._sum(terms)
        if op == "div":
            self.note("div")
            u, v = node.args
            return self._sum([self._times(coef, self._lift(arg, node.shape)) for arg, coef in
                              ((u, div(ones(v.shape), v)), (v, neg(div(u, power(v, 2)))))])
        if op == "pow":
            self.note("pow")
            u, k = node.args[0], node.attr
            return self._times(scale(k, power(u, k - 1)), self.jac(u))
        if op in ("softmax", "log_softmax", "logsumexp"):
            return self._normalised(node)
        if op == "mean":
            self.note("mean")
            j = self.jac(node.args[0])
            return None if j is None else scale(1.0 / node.args[0].shape[0], colsum(j))
        if op == "matmul" and node.args[1].shape == SCALAR:
            return self.jac(mul(node.args[1], node.args[0]))  # u·s, a column times a 1×1
        if op == "matmul" and node.args[0].op == "diag":
            return self.jac(mul(node.args[0].args[0], node.args[1]))  # diag(u)v = u ⊙ v
        if op == "matmul":
            self.note("matmul")
            a, b = node.args
            terms = []
            jb = self.jac(b)
            if self.depends(a) and a.shape[0] != 1:
                pushed = self._push(a, b)
                if pushed is None:
                    self._matrix_valued(a, f"in {to_text(node)}, {to_text(a)}")
                self.note("push")
                return self.jac(pushed)
            if jb is not None:
                terms.append(matmul(a, jb))
            if self.depends(a):
                ja = self.jac(tidy(transpose(a)))          # a is a row uᵀ: uᵀb = bᵀu
                if ja is not None:
                    terms.append(matmul(transpose(b), ja))
            return self._sum(terms)
        if op == "diagonal" and self.depends(node.args[0]):
            inside = _diagonal_inside(node.args[0])
            if inside is None:
                self._matrix_valued(node.args[0], f"in {to_text(node)}, {to_text(node.args[0])}")
            self.note("diagonal")
            return self.jac(inside)
        if op == "T" and node.shape == SCALAR:
            return self.jac(node.args[0])
        if op == "T" and (moved := _transpose_inside(node.args[0])) is not None:
            return self.jac(moved)  # (u ⊙ v)ᵀ = uᵀ ⊙ vᵀ, (u + v)ᵀ = uᵀ + vᵀ of a row
        if op == "T":
            inner = node.args[0]
            if inner.op == "T":
                return self.jac(inner.args[0])
            if inner.op == "matmul":
                return self.jac(tidy(transpose(inner)))
        if op == "func":
            self.note("func")
            z = node.args[0]
            if node.attr not in FORWARD_DERIVATIVES:
                raise UnsupportedError(f"no forward rule for {node.attr}")
            jz = self.jac(z)
            fp = FORWARD_DERIVATIVES[node.attr](z)
            if jz is None or fp is None:
                return None
            return matmul(diag(fp), jz)
        if op in ("sum", "colsum"):
            self.note("sum")
            j = self.jac(node.args[0])
            return None if j is None else colsum(j)
        if op == "norm2":
            self.note("norm2")
            u = node.args[0]
            j = self.jac(u)
            return None if j is None else scale(2, matmul(transpose(u), j))
        if op == "rowsum" and node.args[0].shape[1] == 1:
            return self.jac(node.args[0])
        if op == "cmp":
            self.note("cmp")
            return None
        if op in ("maximum", "minimum", "where"):
            self.note("maximum" if op != "where" else "where")
            from derivekit.matrix.expr import compare, where, zeros
            if op == "where":
                c, u, v = node.args
                one, none = ones(node.shape), zeros(node.shape)
                picks = ((u, where(c, one, none)), (v, where(c, none, one)))
            else:
                u, v = node.args
                first, second = _SELECT[op]
                picks = ((u, compare(first, u, v)), (v, compare(second, u, v)))
            terms = []
            for arg, mask in picks:
                j = self._lift(arg, node.shape)
                if j is not None:
                    terms.append(matmul(diag(mul(mask, ones(node.shape))), j))
            return self._sum(terms)
        raise UnsupportedError(f"no forward-mode rule for '{op}' in {to_text(node)}",
                               hint="Jacobians cover sums, products with constant matrices, "
                                    "elementwise products, quotients and powers, activations, "
                                    "sum, mean, norm2, softmax, log_softmax and logsumexp")

    def _normalised(self, node: Node) -> Node | None:
        """softmax, log_softmax and logsumexp of a column: along axis 0 they normalise the
        column; along axis 1 each entry is its own slice (softmax 1, log_softmax 0,
        logsumexp the entry itself)."""
        self.note(node.op)
        u = node.args[0]
        j = self.jac(u)
        if j is None:
            return None
        if node.attr == 1:
            return j if node.op == "logsumexp" else None
        s = reduction("softmax", u, 0)
        if node.op == "softmax":
            return matmul(sub(diag(s), matmul(s, transpose(s))), j)
        if node.op == "log_softmax":
            return matmul(sub(eye(u.shape[0]), matmul(ones((u.shape[0], 1)), transpose(s))), j)
        return matmul(transpose(s), j)

    @staticmethod
    def _times(coef: Node, j: Node | None) -> Node | None:
        """The Jacobian of an entrywise product with ``coef``: c·J for a scalar c, diag(c)J
        for a column."""
        if j is None:
            return None
        if coef.shape == SCALAR:
            return scale(coef.attr, j) if coef.op == "const" else mul(coef, j)
        return matmul(diag(coef), j)

    def _lift(self, node: Node, shape) -> Node | None:
        """J of a term broadcast to ``shape`` (a scalar term adds to every row)."""
        j = self.jac(node)
        if j is None or node.shape == shape:
            return j
        return matmul(ones((shape[0], 1)), j)

    @staticmethod
    def _sum(terms):
        terms = [t for t in terms if t is not None]
        if not terms:
            return None
        out = terms[0]
        for t in terms[1:]:
            out = add(out, t)
        return out


def _transpose_inside(inner: Node) -> Node | None:
    """Mᵀ with the transpose moved one level in: (PQ)ᵀ = QᵀPᵀ, (P ± Q)ᵀ = Pᵀ ± Qᵀ, (−P)ᵀ = −Pᵀ,
    (P ⊙ Q)ᵀ = Pᵀ ⊙ Qᵀ and (P ⊘ Q)ᵀ = Pᵀ ⊘ Qᵀ (a scalar factor stays); None for other nodes."""
    if inner.op == "matmul":
        return matmul(transpose(inner.args[1]), transpose(inner.args[0]))
    if inner.op in ("add", "sub", "neg", "mul", "div"):
        args = [arg if arg.shape == SCALAR else transpose(arg) for arg in inner.args]
        shape = (inner.shape[1], inner.shape[0])
        return Node(inner.op, tuple(args), inner.attr, shape)
    return None


def _diagonal_inside(m: Node) -> Node | None:
    """diag(M), the column of M's diagonal, written without M: diag(PQ) = (P ⊙ Qᵀ)𝟙,
    diag(P ± Q) = diag(P) ± diag(Q), diag(−P) = −diag(P), diag(sP) = s diag(P),
    diag(Mᵀ) = diag(M), diag(f(M)) = f(diag(M)) for an elementwise f; None otherwise."""
    from derivekit.matrix.expr import diagonal
    if m.op == "matmul":
        p, q = m.args
        return rowsum(mul(p, transpose(q)))
    if m.op in ("add", "sub") and m.args[0].shape == m.args[1].shape == m.shape:
        return Node(m.op, (diagonal(m.args[0]), diagonal(m.args[1])), None, (m.shape[0], 1))
    if m.op == "neg":
        return neg(diagonal(m.args[0]))
    if m.op == "mul" and m.args[0].shape == SCALAR:
        return mul(m.args[0], diagonal(m.args[1]))
    if m.op == "T":
        return diagonal(m.args[0])
    if m.op == "func":
        return func(m.attr, diagonal(m.args[0]))
    if m.op == "pow":
        return power(diagonal(m.args[0]), m.attr)
    return None


def _reciprocal(node: Node) -> Node:
    from derivekit.matrix.expr import const, div
    return div(const(1), node)


@dataclass(eq=False)
class MatrixJacobian(Displayable):
    """∂f/∂xᵀ of a column-valued f (or the Hessian of a scalar), in matrix notation."""

    kind: str            # "jacobian" or "hessian"
    expr: Node
    wrt: str
    shapes: dict
    gradient: Node | None
    result: object        # MatExpr
    rules: list[str]
    max_rel_error: float
    moves: tuple = ()  # tidying moves (matrix.tidy.AppliedMove), of the input and the result
    declared: dict = field(default_factory=dict)  # name -> assumption kind, as declared
    gradient_moves: int = 0  # how many of ``moves`` (the first) tidied the gradient

    @property
    def shape(self):
        return self.result.shape

    def assumption_text(self) -> str:
        """``A is symmetric`` (joined by "and"), or "" when nothing is declared."""
        return " and ".join(describe(n, k) for n, k in self.declared.items())

    def evaluate(self, values: dict) -> np.ndarray:
        env = check_values(values, {n: s for n, s in self.shapes.items() if n in self.expr.names()})
        return np.broadcast_to(compile_node(self.result.node)(env), self.shape).copy()

    def _render(self, fmt: str, **settings):
        w = name_text(self.wrt)
        title = "Hessian" if self.kind == "hessian" else "Jacobian"
        if fmt == "dict":
            return {"kind": self.kind, "expr": to_text(self.expr), "wrt": self.wrt,
                    "gradient": to_text(self.gradient) if self.gradient is not None else None,
                    "result": self.result.to_dict(), "rules": [FORWARD_RULES[r] for r in self.rules],
                    "max_rel_error": self.max_rel_error,
                    # a result is only returned once its check passed (else it is an error)
                    "check": {"ok": True, "max_rel_error": self.max_rel_error},
                    "shapes": {n: list(s) for n, s in self.shapes.items()},
                    "numpy": None if any(n.op == "kron" for n in self.result.node.walk())
                    else to_numpy_text(self.result.node),
                    "assumptions": dict(self.declared),
                    "moves": [{"move": a.move.name, "rule": a.move.rule, "before": to_text(a.before),
                               "after": to_text(a.after),
                               "of": "gradient" if i < self.gradient_moves else self.kind}
                              for i, a in enumerate(self.moves)]}
        if fmt == "latex":
            x = name_latex(self.wrt, True)
            if self.shapes.get(self.wrt, (1, 1))[1] != 1:
                x = rf"\operatorname{{vec}}({x})"
            lhs = (rf"\frac{{\partial^2 L}}{{\partial {x} \partial {x}^\top}}"
                   if self.kind == "hessian" else
                   rf"\frac{{\partial f}}{{\partial {name_latex(self.wrt, True)}^\top}}")
            return f"{lhs} = {to_latex(self.result.node)}"
        lines = [f"{title} with respect to {w} of {to_text(self.expr)}"]
        if self.gradient is not None:
            lines.append(f"  gradient  ∇L = {to_text(self.gradient)}")
        if self.kind == "hessian":  # the gradient's moves, then the Hessian's own
            for part, moves in (("gradient", self.moves[:self.gradient_moves]),
                                ("Hessian", self.moves[self.gradient_moves:])):
                if moves:
                    lines.append(f"  textbook form of the {part} (tidying moves)")
                    lines += [f"  {line}" for line in moves_text(moves)[2:]]
        else:
            lines += [f"  {line}" for line in moves_text(self.moves)[1:]]
        lines.append(f"  {title:9} = {to_text(self.result.node)}    ({self.shape[0]}×{self.shape[1]})")
        if not any(n.op == "kron" for n in self.result.node.walk()):  # the language has no kron
            lines.append(f"  as NumPy (paste into --claim): {to_numpy_text(self.result.node)}")
        assumed = self.assumption_text()
        lines.append(f"  central-difference check: max relative error {self.max_rel_error:.1e}"
                     + (f", assuming {assumed}" if assumed else ""))
        lines.append("  forward-mode rules: " + "; ".join(FORWARD_RULES[r] for r in self.rules))
        text = "\n".join(lines)
        return text if fmt == "text" else "```\n" + text + "\n```"


def _jacobian(expr: Node, wrt: str, shapes: dict, kind: str, gradient=None, loss=None,
              earlier: tuple = (), declared: dict | None = None):
    from derivekit.matrix.gradient import MatExpr
    n, cols = shapes[wrt]
    if cols != 1:
        what = ("∂²L/∂vec(X)∂vec(X)ᵀ, a matrix of size (mn)×(mn) that needs vec, the columns "
                "stacked" if kind == "hessian" else "∂vec(f)/∂vec(X)ᵀ, which needs vec")
        raise UnsupportedError(
            f"{kind.capitalize()}s are computed for a column vector, but {wrt} is {n}×{cols}; with respect "
            f"to a matrix the {kind} is {what}",
            hint=f"differentiate with respect to a vector: declare {wrt} as {n * cols}×1 (vec of "
                 f"{wrt}, columns stacked) and write the loss in terms of it, or ask for the "
                 f"gradient ∂L/∂{wrt} instead")
    fwd = _Forward(wrt, n)
    given = expr
    declared = dict(declared or {})
    symmetric = symmetric_names(declared)
    expr, moves = tidy_textbook(expr, symmetric)  # exp(z)/Σexp(z) is differentiated as softmax(z)
    result = fwd.jac(expr)
    if result is None:
        from derivekit.matrix.expr import zeros
        result = zeros((expr.shape[0], n))
    result, more = tidy_textbook(tidy(result), symmetric)
    result, written = write_out_derivatives(result)  # σ′ as σ(1 − σ), tanh′ as 1 − tanh²
    moves = [*earlier, *moves, *more, *written]
    # check column by column against central differences
    fn, jac_fn = compile_node(expr), compile_node(result)
    kinds = domains(loss if loss is not None else expr, declared)
    used = {k: v for k, v in shapes.items() if k in (loss or expr).names()}
    errors: list[float] = []

    def accept(env, _rng) -> bool:
        """Compare at a point where f, the Jacobian and every difference are finite."""
        got = np.broadcast_to(jac_fn(env), (expr.shape[0], n))
        if not finite(fn(env), got):
            return False
        base = env[wrt]
        worst = 0.0
        for j in range(n):
            h = 1e-6 * max(1.0, abs(base[j, 0]))
            up, down = base.copy(), base.copy()
            up[j, 0] += h
            down[j, 0] -= h
            env[wrt] = up
            f_up = fn(env)
            env[wrt] = down
            col = (f_up - fn(env)) / (2 * h)
            env[wrt] = base
            if not finite(col):
                return False
            scale_ = max(np.abs(col).max(), np.abs(got[:, [j]]).max(), 1e-6)
            worst = max(worst, float(np.abs(col - got[:, [j]]).max() / scale_))
        errors.append(worst)
        return True

    points, draws = draw_points(used, kinds, (0, 1), accept)
    if len(points) < 2:
        reason = (f"the function or its {kind} is not finite (NaN or ±inf) at {draws - len(points)} "
                  f"of {draws} random inputs")
        raise CannotCheckError(f"cannot check the {kind} {to_text(result)}: {reason}", reason=reason,
                               hint="the function must be finite at random inputs: an inverse of a "
                                    "singular matrix, or a root of a negative value?")
    worst = max(errors)
    if worst > 1e-4:
        raise DerivekitError(f"internal check failed: the {kind} {to_text(result)} disagrees with "
                             f"central differences ({worst:.1e})", hint="please report this expression")
    return MatrixJacobian(kind, loss if loss is not None else given, wrt, used, gradient,
                          MatExpr(result), fwd.used, worst, tuple(moves), declared, len(earlier))


class _VecForward:
    """∂vec(node)/∂vec(X)ᵀ for a node linear in the matrix X, as Kronecker products:
    vec(AUB) = (Bᵀ ⊗ A) vec(U), with vec stacking columns."""

    def __init__(self, wrt: str, shape):
        self.wrt, self.shape = wrt, shape
        self.used: list[str] = []

    def refuse(self, node: Node):
        m, n = self.shape
        raise UnsupportedError(
            f"the Hessian with respect to the matrix {self.wrt} ({m}×{n}) is ∂²L/∂vec({self.wrt})"
            f"∂vec({self.wrt})ᵀ ({m * n}×{m * n}); derivekit writes it as Kronecker products "
            f"where the gradient is linear in {self.wrt} (AXB + C), and here {to_text(node)} is not",
            hint=f"differentiate with respect to a vector: declare {self.wrt} as {m * n}×1 (vec "
                 f"of {self.wrt}, columns stacked) and write the loss in terms of it")

    def jv(self, node: Node) -> Node | None:
        if self.wrt not in node.names():
            return None
        op = node.op
        if op == "var":
            return eye(self.shape[0] * self.shape[1])
        if op in ("add", "sub") and node.args[0].shape == node.args[1].shape:
            a, b = (self.jv(arg) for arg in node.args)
            if a is None:
                return b if op == "add" or b is None else neg(b)
            return a if b is None else add(a, b) if op == "add" else sub(a, b)
        if op == "neg":
            return neg(self.jv(node.args[0]))
        if op == "mul" and node.args[0].shape == SCALAR and self.wrt not in node.args[0].names():
            return mul(node.args[0], self.jv(node.args[1]))
        if op == "matmul":
            a, b = node.args
            if self.wrt not in a.names():
                self.note("kron_left")
                return matmul(kron(eye(b.shape[1]), a), self.jv(b))
            if self.wrt not in b.names():
                self.note("kron_right")
                return matmul(kron(transpose(b), eye(a.shape[0])), self.jv(a))
        self.refuse(node)

    def note(self, rule: str):
        if rule not in self.used:
            self.used.append(rule)


def _hessian_by_matrix(m) -> MatrixJacobian:
    """∂²L/∂vec(X)∂vec(X)ᵀ as a Kronecker form, checked against central differences of the
    gradient, entry by entry of X in column-major (vec) order."""
    from derivekit.matrix.gradient import MatExpr
    wrt, (rows, cols) = m.wrt, m.shapes[m.wrt]
    fwd = _VecForward(wrt, (rows, cols))
    grad = m.result.node
    result = fwd.jv(grad)
    if result is None:
        from derivekit.matrix.expr import zeros
        result = zeros((rows * cols, rows * cols))
    result = tidy(result)
    grad_fn, hess_fn = compile_node(grad), compile_node(result)
    worst = 0.0
    for seed in (0, 1):
        env = sample(m.shapes, domains(m.loss, m.declared), np.random.default_rng(seed))
        got = np.broadcast_to(hess_fn(env), result.shape)
        base = env[wrt]
        for k in range(rows * cols):
            i, j = k % rows, k // rows
            h = 1e-6 * max(1.0, abs(base[i, j]))
            up, down = base.copy(), base.copy()
            up[i, j] += h
            down[i, j] -= h
            env[wrt] = up
            g_up = np.broadcast_to(grad_fn(env), (rows, cols)).flatten(order="F")
            env[wrt] = down
            g_down = np.broadcast_to(grad_fn(env), (rows, cols)).flatten(order="F")
            env[wrt] = base
            col = (g_up - g_down) / (2 * h)
            scale_ = max(np.abs(col).max(), np.abs(got[:, k]).max(), 1e-6)
            error = float(np.abs(col - got[:, k]).max() / scale_)
            if not np.isfinite(error):  # max() would skip a NaN: a check never passes on one
                reason = "the Hessian or its finite differences are not finite at a random input"
                raise CannotCheckError(f"cannot check the Hessian {to_text(result)}: {reason}",
                                       reason=reason, hint="declare the inputs' domain or structure")
            worst = max(worst, error)
    if not worst <= 1e-4:
        raise DerivekitError(f"internal check failed: the Hessian {to_text(result)} disagrees with "
                             f"central differences ({worst:.1e})", hint="please report this expression")
    return MatrixJacobian("hessian", m.loss, wrt, dict(m.shapes), grad, MatExpr(result),
                          ["var", *fwd.used], worst, tuple(m.moves), dict(m.declared))


def matrix_jacobian(expr, wrt: str, shapes=None, *, syntax: str = "auto",
                    timeout: float | None = 10.0, assume=None) -> MatrixJacobian:
    """∂f/∂xᵀ for a column-valued ``expr`` and a column vector ``wrt``. ``assume`` declares
    structure of inputs (``"A: symmetric"``), as in ``matrix_gradient``."""
    from derivekit.matrix.gradient import prepare_loss
    with deadline(timeout):
        typed, _names, known, _dims = prepare_loss(expr, shapes, syntax)
        if typed.shape[1] != 1:
            raise UnsupportedError(f"the expression must be a column vector, got "
                                   f"{typed.shape[0]}×{typed.shape[1]}",
                                   hint="a Jacobian here is ∂f/∂xᵀ of a column f; reduce a matrix "
                                        "first (sum(..., axis=1, keepdims=True), M@u), or take its "
                                        "gradient of a scalar with matgrad")
        if wrt not in typed.names():
            raise DerivekitError(f"'{wrt}' is not a variable of the expression",
                                 hint="variables: " + ", ".join(sorted(typed.names())))
        used = {n: s for n, s in known.items() if n in typed.names()}
        return _jacobian(typed, wrt, known, "jacobian", declared=parse_assumptions(assume, used))


def matrix_hessian(loss, wrt: str, shapes=None, *, syntax: str = "auto",
                   timeout: float | None = 10.0, assume=None) -> MatrixJacobian:
    """The Hessian ∂²L/∂x∂xᵀ of a scalar loss: the Jacobian of its gradient (xᵀAx → A + Aᵀ,
    2A with ``assume="A: symmetric"``)."""
    from derivekit.matrix.gradient import matrix_gradient
    with deadline(timeout):
        m = matrix_gradient(loss, wrt, shapes, syntax=syntax, timeout=None, assume=assume)
        if m.shapes[wrt][1] != 1:
            return _hessian_by_matrix(m)
        return _jacobian(m.result.node, wrt, dict(m.shapes), "hessian", gradient=m.result.node,
                         loss=m.loss, earlier=m.moves, declared=m.declared)
