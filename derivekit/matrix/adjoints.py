"""The reverse-mode rule table: for each op, how the upstream gradient Ȳ = ∂L/∂Y of its
output flows back to its inputs.

Each :class:`AdjointRule` is one row: the rule as text and LaTeX, one sentence explaining
it, and ``backward(node, upstream) -> [(argument index, contribution)]``. Contributions
are built with the smart constructors of :mod:`derivekit.matrix.expr`, so they come out tidy.
Where broadcasting stretched an input (a column bias over a batch), its contribution is
summed back over the stretched axis (:func:`~derivekit.matrix.expr.reduce_to`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from derivekit.errors import UnsupportedError
from derivekit.matrix.expr import (
    SCALAR,
    Node,
    add,
    axis_sum,
    compare,
    const,
    diag,
    diagonal,
    div,
    expand_to,
    func,
    matmul,
    mul,
    neg,
    power,
    reduce_to,
    reduction,
    scale,
    sub,
    transpose,
    where,
    zeros,
)


@dataclass(frozen=True)
class AdjointRule:
    op: str
    title: str
    statement: str          # Unicode
    statement_latex: str
    explanation: str
    backward: Callable[[Node, Node], list[tuple[int, Node]]]


def _matmul(y: Node, g: Node):
    a, b = y.args
    return [(0, matmul(g, transpose(b))), (1, matmul(transpose(a), g))]


def _add(y: Node, g: Node):
    a, b = y.args
    return [(0, reduce_to(g, a.shape)), (1, reduce_to(g, b.shape))]


def _sub(y: Node, g: Node):
    a, b = y.args
    return [(0, reduce_to(g, a.shape)), (1, neg(reduce_to(g, b.shape)))]


def _mul(y: Node, g: Node):
    a, b = y.args
    return [(0, reduce_to(mul(g, b), a.shape)), (1, reduce_to(mul(g, a), b.shape))]


def _div(y: Node, g: Node):
    a, b = y.args
    return [(0, reduce_to(div(g, b), a.shape)),
            (1, reduce_to(neg(div(mul(g, a), power(b, 2))), b.shape))]


def _neg(y: Node, g: Node):
    return [(0, neg(g))]


def _transpose(y: Node, g: Node):
    return [(0, transpose(g))]


def _pow(y: Node, g: Node):
    (a,), k = y.args, y.attr
    return [(0, scale(k, mul(g, power(a, k - 1))))]


#: elementwise f -> f′ as a node builder (log, sqrt and exp are written out)
DERIVATIVES: dict[str, Callable[[Node], Node]] = {
    "sigmoid": lambda z: func("sigmoid_prime", z),
    "tanh": lambda z: func("tanh_prime", z),
    "relu": lambda z: func("relu_prime", z),
    "leaky_relu": lambda z: func("leaky_relu_prime", z),
    "softplus": lambda z: func("sigmoid", z),
    "exp": lambda z: func("exp", z),
    "abs": lambda z: func("sign", z),
}


def _func(y: Node, g: Node):
    (z,), name = y.args, y.attr
    if name == "log":
        return [(0, div(g, z))]
    if name == "sqrt":
        return [(0, div(g, scale(2, y)))]
    if name not in DERIVATIVES:
        raise UnsupportedError(f"no reverse-mode rule for the derivative function {name}",
                               hint="derivekit differentiates each activation once")
    return [(0, mul(g, DERIVATIVES[name](z)))]


def _sum(y: Node, g: Node):
    return [(0, expand_to(g, y.args[0].shape))]


def _mean(y: Node, g: Node):
    r, c = y.args[0].shape
    return [(0, scale(1.0 / (r * c), expand_to(g, (r, c))))]


def _rowsum(y: Node, g: Node):
    return [(0, expand_to(g, y.args[0].shape))]


_colsum = _rowsum


def _trace(y: Node, g: Node):
    n = y.args[0].shape[0]
    from derivekit.matrix.expr import eye
    return [(0, mul(g, eye(n)) if g.op != "const" else scale(g.attr, eye(n)))]


def _inv_t(x: Node) -> Node:
    return transpose(reduction("inv", x))


def _det(y: Node, g: Node):
    x = y.args[0]
    return [(0, mul(mul(g, y), _inv_t(x)))]


def _logdet(y: Node, g: Node):
    return [(0, mul(g, _inv_t(y.args[0])))]


def _inv(y: Node, g: Node):
    yt = transpose(y)
    return [(0, neg(matmul(matmul(yt, g), yt)))]


def _norm2(y: Node, g: Node):
    return [(0, scale(2, mul(g, y.args[0])))]


def _softmax(y: Node, g: Node):
    s, k = y, y.attr
    return [(0, mul(s, sub(g, axis_sum(mul(g, s), k))))]


def _log_softmax(y: Node, g: Node):
    k = y.attr
    s = reduction("softmax", y.args[0], k)
    return [(0, sub(g, mul(s, axis_sum(g, k))))]


def _logsumexp(y: Node, g: Node):
    return [(0, mul(g, reduction("softmax", y.args[0], y.attr)))]


def _softmax_ce(y: Node, g: Node):
    z, t = y.args
    k = y.attr
    return [(0, mul(g, sub(reduction("softmax", z, k), t))),
            (1, neg(mul(g, reduction("log_softmax", z, k))))]


def _maximum(y: Node, g: Node):
    a, b = y.args
    return [(0, reduce_to(mul(g, compare(">=", a, b)), a.shape)),
            (1, reduce_to(mul(g, compare("<", a, b)), b.shape))]


def _minimum(y: Node, g: Node):
    a, b = y.args
    return [(0, reduce_to(mul(g, compare("<=", a, b)), a.shape)),
            (1, reduce_to(mul(g, compare(">", a, b)), b.shape))]


def _cmp(y: Node, g: Node):
    return []


def _where(y: Node, g: Node):
    c, a, b = y.args
    none = zeros(g.shape)
    return [(1, reduce_to(where(c, g, none), a.shape)), (2, reduce_to(where(c, none, g), b.shape))]


def _bce_logits(y: Node, g: Node):
    z, t = y.args
    return [(0, mul(g, sub(func("sigmoid", z), t))), (1, neg(mul(g, z)))]


def _diag(y: Node, g: Node):
    """Y = diag(v): only the diagonal of Ȳ reaches v."""
    return [(0, diagonal(g))]


def _diagonal(y: Node, g: Node):
    """y = diag(M), the diagonal: M̄ = diag(ȳ), zero off the diagonal."""
    return [(0, diag(g))]


RULES: dict[str, AdjointRule] = {r.op: r for r in [
    AdjointRule("matmul", "matrix product", "Y = AB:  Ā += ȲBᵀ,  B̄ += AᵀȲ",
                r"Y = AB:\ \bar A \mathrel{+}= \bar Y B^\top,\ \bar B \mathrel{+}= A^\top \bar Y",
                "each entry of AB is a row of A times a column of B, so the gradient reaching A "
                "is the upstream gradient times Bᵀ (on the right), and the one reaching B is Aᵀ "
                "times it (on the left); the shapes fit only this way", _matmul),
    AdjointRule("add", "sum", "Y = A + B:  Ā += Ȳ,  B̄ += Ȳ (summed over broadcast axes)",
                r"Y = A + B:\ \bar A \mathrel{+}= \bar Y,\ \bar B \mathrel{+}= \bar Y",
                "a sum passes the gradient through unchanged; a column bias broadcast over a "
                "batch of N columns collects the gradient of every column, so it is summed "
                "over the batch (Ȳ𝟙)", _add),
    AdjointRule("sub", "difference", "Y = A − B:  Ā += Ȳ,  B̄ −= Ȳ",
                r"Y = A - B:\ \bar A \mathrel{+}= \bar Y,\ \bar B \mathrel{-}= \bar Y",
                "a difference passes the gradient to the left term and its negative to the "
                "right term", _sub),
    AdjointRule("mul", "elementwise product", "Y = A ⊙ B:  Ā += Ȳ ⊙ B,  B̄ += Ȳ ⊙ A",
                r"Y = A \odot B:\ \bar A \mathrel{+}= \bar Y \odot B,\ \bar B \mathrel{+}= \bar Y \odot A",
                "each entry is a product of two numbers, so each factor's gradient is the "
                "upstream gradient times the other factor, entry by entry (a scalar factor "
                "collects the sum)", _mul),
    AdjointRule("div", "elementwise quotient", "Y = A ⊘ B:  Ā += Ȳ ⊘ B,  B̄ −= Ȳ ⊙ A ⊘ B²",
                r"Y = A \oslash B:\ \bar A \mathrel{+}= \bar Y \oslash B",
                "the quotient rule, entry by entry", _div),
    AdjointRule("neg", "negation", "Y = −A:  Ā = −Ȳ", r"Y = -A:\ \bar A = -\bar Y",
                "negation flips the sign of the gradient", _neg),
    AdjointRule("T", "transpose", "Y = Aᵀ:  Ā = Ȳᵀ", r"Y = A^\top:\ \bar A = \bar Y^\top",
                "transposing moves entries, so the gradient moves back the same way", _transpose),
    AdjointRule("pow", "elementwise power", "Y = A^∘k:  Ā = k Ȳ ⊙ A^∘(k−1)",
                r"Y = A^{\circ k}:\ \bar A = k \bar Y \odot A^{\circ (k-1)}",
                "the power rule, entry by entry", _pow),
    AdjointRule("func", "elementwise function", "Y = f(Z):  Z̄ = Ȳ ⊙ f′(Z)",
                r"Y = f(Z):\ \bar Z = \bar Y \odot f'(Z)",
                "an activation acts on each entry separately, so its Jacobian is diagonal and "
                "the chain rule multiplies entry by entry by f′ (σ′ = σ(1 − σ), tanh′ = 1 − "
                "tanh², ReLU′ = 𝟙[z > 0])", _func),
    AdjointRule("sum", "sum of entries", "y = sum(X):  X̄ = ȳ𝟙𝟙ᵀ",
                r"y = \operatorname{sum}(X):\ \bar X = \bar y \mathbf{1}\mathbf{1}^\top",
                "every entry counts once, so every entry gets the upstream gradient", _sum),
    AdjointRule("mean", "mean of entries", "y = mean(X):  X̄ = (ȳ/mn)𝟙𝟙ᵀ",
                r"y = \operatorname{mean}(X):\ \bar X = \frac{\bar y}{mn} \mathbf{1}\mathbf{1}^\top",
                "every entry counts 1/mn", _mean),
    AdjointRule("rowsum", "sum over columns", "y = X𝟙:  X̄ = ȳ𝟙ᵀ",
                r"y = X\mathbf{1}:\ \bar X = \bar y \mathbf{1}^\top",
                "summing the columns copies the gradient back to every column", _rowsum),
    AdjointRule("colsum", "sum over rows", "y = 𝟙ᵀX:  X̄ = 𝟙ȳ",
                r"y = \mathbf{1}^\top X:\ \bar X = \mathbf{1} \bar y",
                "summing the rows copies the gradient back to every row", _colsum),
    AdjointRule("trace", "trace", "y = tr(X):  X̄ = ȳI",
                r"y = \operatorname{tr}(X):\ \bar X = \bar y I",
                "the trace is the sum of the diagonal, so only diagonal entries get gradient",
                _trace),
    AdjointRule("det", "determinant", "y = det X:  X̄ = ȳ det(X) X⁻ᵀ",
                r"y = \det X:\ \bar X = \bar y \det(X) X^{-\top}",
                "Jacobi's formula: ∂det X/∂X = det(X) X⁻ᵀ", _det),
    AdjointRule("logdet", "log-determinant", "y = log det X:  X̄ = ȳX⁻ᵀ",
                r"y = \log\det X:\ \bar X = \bar y X^{-\top}",
                "Jacobi's formula divided by det X: ∂ log det X/∂X = X⁻ᵀ", _logdet),
    AdjointRule("inv", "inverse", "Y = X⁻¹:  X̄ = −X⁻ᵀȲX⁻ᵀ",
                r"Y = X^{-1}:\ \bar X = -X^{-\top} \bar Y X^{-\top}",
                "differentiating XX⁻¹ = I gives d(X⁻¹) = −X⁻¹(dX)X⁻¹", _inv),
    AdjointRule("norm2", "squared norm", "y = ‖X‖²:  X̄ = 2ȳX",
                r"y = \|X\|^2:\ \bar X = 2\bar y X",
                "‖X‖² is the sum of squared entries, each with derivative 2x", _norm2),
    AdjointRule("softmax", "softmax", "S = softmax(Z):  Z̄ = S ⊙ (Ȳ − 𝟙ᵀ(Ȳ ⊙ S)) per column "
                "(axis=0), S ⊙ (Ȳ − (Ȳ ⊙ S)𝟙) per row (axis=1)",
                r"S = \operatorname{softmax}(Z):\ \bar Z = S \odot (\bar Y - \mathbf{1}^\top(\bar Y \odot S))",
                "the softmax Jacobian diag(s) − ssᵀ applied to each column (axis=0) or each row "
                "(axis=1), the slices it normalises", _softmax),
    AdjointRule("log_softmax", "log-softmax", "Y = log softmax(Z):  Z̄ = Ȳ − softmax(Z) ⊙ 𝟙ᵀȲ "
                "(axis=0; Ȳ𝟙 for axis=1)",
                r"\bar Z = \bar Y - \operatorname{softmax}(Z) \odot \mathbf{1}^\top \bar Y",
                "the Jacobian I − 𝟙sᵀ applied to each normalised column (or row)", _log_softmax),
    AdjointRule("logsumexp", "log-sum-exp", "y = LSE(Z):  Z̄ = softmax(Z) ⊙ ȳ",
                r"y = \operatorname{LSE}(Z):\ \bar Z = \operatorname{softmax}(Z) \odot \bar y",
                "the gradient of log Σ e^z is the softmax", _logsumexp),
    AdjointRule("softmax_ce", "softmax cross-entropy", "L = CE(softmax(z), y):  z̄ = softmax(z) − y",
                r"L = \operatorname{CE}(\operatorname{softmax}(z), y):\ \bar z = \operatorname{softmax}(z) - y",
                "a known result: with −Σ y log softmax(z) and targets y that sum to 1 per "
                "column, the softmax Jacobian and the 1/s of the log cancel, leaving "
                "softmax(z) − y", _softmax_ce),
    AdjointRule("maximum", "elementwise maximum", "Y = max(A, B):  Ā += Ȳ ⊙ 𝟙[A ≥ B],  B̄ += Ȳ ⊙ 𝟙[A < B]",
                r"Y = \max(A, B):\ \bar A \mathrel{+}= \bar Y \odot \mathbb{1}[A \geq B],\ "
                r"\bar B \mathrel{+}= \bar Y \odot \mathbb{1}[A < B]",
                "each entry is one of its two arguments, so the gradient goes to the larger one "
                "(to A at a tie); max(0, Z) is ReLU", _maximum),
    AdjointRule("minimum", "elementwise minimum", "Y = min(A, B):  Ā += Ȳ ⊙ 𝟙[A ≤ B],  B̄ += Ȳ ⊙ 𝟙[A > B]",
                r"Y = \min(A, B):\ \bar A \mathrel{+}= \bar Y \odot \mathbb{1}[A \leq B],\ "
                r"\bar B \mathrel{+}= \bar Y \odot \mathbb{1}[A > B]",
                "each entry is one of its two arguments, so the gradient goes to the smaller one",
                _minimum),
    AdjointRule("cmp", "indicator", "Y = 𝟙[A > B]:  Ā = B̄ = 0",
                r"Y = \mathbb{1}[A > B]:\ \bar A = \bar B = 0",
                "a comparison is a step: constant on each side of its jump, so its derivative is "
                "0 almost everywhere (and undefined on the jump)", _cmp),
    AdjointRule("where", "selection", "Y = where(C, A, B):  Ā += where(C, Ȳ, 0),  B̄ += where(C, 0, Ȳ)",
                r"Y = \operatorname{where}(C, A, B):\ \bar A \mathrel{+}= \operatorname{where}(C, \bar Y, 0),\ "
                r"\bar B \mathrel{+}= \operatorname{where}(C, 0, \bar Y)",
                "each entry is copied from A or from B, so each gets the gradient of the entries "
                "it supplied; the condition gets none (a step)", _where),
    AdjointRule("diag", "diagonal matrix", "Y = diag(v):  v̄ = diag(Ȳ), the diagonal of Ȳ",
                r"Y = \operatorname{diag}(v):\ \bar v = \operatorname{diag}(\bar Y)",
                "v's entries sit on the diagonal, so only the diagonal of the upstream gradient "
                "reaches them", _diag),
    AdjointRule("diagonal", "diagonal of a matrix", "y = diag(M):  M̄ = diag(ȳ)",
                r"y = \operatorname{diag}(M):\ \bar M = \operatorname{diag}(\bar y)",
                "only M's diagonal entries are read, so the gradient is ȳ on the diagonal and "
                "zero elsewhere", _diagonal),
    AdjointRule("bce_logits", "binary cross-entropy on logits", "L = BCE(σ(z), y):  z̄ = σ(z) − y",
                r"L = \operatorname{BCE}(\sigma(z), y):\ \bar z = \sigma(z) - y",
                "a known result: σ′ = σ(1 − σ) cancels the denominators of the log-loss", _bce_logits),
]}


def rule_for(op: str) -> AdjointRule:
    rule = RULES.get(op)
    if rule is None:
        raise UnsupportedError(f"no reverse-mode rule for '{op}'",
                               hint="supported: " + ", ".join(sorted(RULES)))
    return rule


def backward(root: Node, seed: Node, targets) -> tuple[dict[Node, Node], list[str]]:
    """Propagate the adjoint ``seed`` of ``root`` down to the leaves for which
    ``targets(leaf)`` is true. Returns (leaf -> accumulated adjoint, rule ops used)."""
    order: list[Node] = []
    seen: set[Node] = set()
    depends: dict[Node, bool] = {}

    def visit(n: Node) -> bool:
        if n in seen:
            return depends[n]
        seen.add(n)
        dep = targets(n) if not n.args else False
        for a in n.args:
            dep = visit(a) or dep
        depends[n] = dep
        order.append(n)
        return dep

    visit(root)
    adjoints: dict[Node, Node] = {root: seed}
    used: list[str] = []
    for node in reversed(order):
        upstream = adjoints.get(node)
        if upstream is None or not node.args or not depends[node]:
            continue
        rule = rule_for(node.op)
        if rule.op not in used:
            used.append(rule.op)
        for index, contribution in rule.backward(node, upstream):
            arg = node.args[index]
            if not depends[arg]:
                continue
            previous = adjoints.get(arg)
            adjoints[arg] = contribution if previous is None else add(previous, contribution)
    leaves = {n: g for n, g in adjoints.items() if not n.args and depends.get(n)}
    return leaves, used


__all__ = ["AdjointRule", "RULES", "DERIVATIVES", "backward", "rule_for", "SCALAR", "const"]
