"""Tidying matrix results toward the forms a textbook prints, one named move at a time.

The smart constructors of :mod:`derivekit.matrix.expr` already fold constants and factor
sums. The moves here use a little more knowledge: which subexpressions are symmetric, that
exp(x)/Σexp(x) is the softmax, that σ′/σ = 1 − σ, that tr(XᵀX) is ‖X‖²_F. Each move is one
row of :data:`MOVES` (its name, the identity it uses, a rewrite returning None where it does
not apply). A move is taken only where it does not make the expression longer (counted in
nodes), and every move taken is returned, so a derivation can show it as a step. Callers
check the tidied result against finite differences, as they check every result.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Callable

from derivekit.matrix.expr import (
    SCALAR,
    Node,
    const,
    div,
    func,
    is_const,
    mul,
    ones,
    power,
    rebuild,
    reduction,
    sub,
    tidy,
    transpose,
    vector_axis,
)


@dataclass(frozen=True)
class Move:
    """A named tidying move: ``rule`` is the identity it applies; ``explain`` (optional) words
    the rule for the subexpression it applies to (``A is symmetric (declared): …``)."""

    name: str
    rule: str
    rewrite: Callable[[Node], Node | None]
    explain: Callable[[Node], str | None] | None = None

    def applied(self, before: Node, after: Node) -> AppliedMove:
        words = self.explain(before) if self.explain is not None else None
        return AppliedMove(replace(self, rule=words) if words else self, before, after)


@dataclass(frozen=True)
class AppliedMove:
    """One move taken: the subexpression before and after."""

    move: Move
    before: Node
    after: Node


# --- what is symmetric -----------------------------------------------------------------------

#: names declared symmetric for the tidying under way (``tidy_textbook(..., symmetric=)``)
_DECLARED: ContextVar[frozenset] = ContextVar("declared_symmetric", default=frozenset())


def is_symmetric(n: Node) -> bool:
    """Whether ``n`` is symmetric by its structure: I, diag(v), XᵀX, AᵀBA with B symmetric,
    M + Mᵀ, and sums, scalings, inverses and elementwise functions of symmetric matrices;
    also a name declared symmetric."""
    if n.shape is None or n.shape[0] != n.shape[1]:
        return False
    if n.op == "var":
        return n.attr in _DECLARED.get()
    if n.shape == SCALAR or n.op in ("eye", "diag", "zeros", "const"):
        return True
    if n.op == "ones":
        return True
    if n.op in ("add", "sub") and all(is_symmetric(a) for a in n.args):
        return True
    if n.op == "add" and n.args[1] == transpose(n.args[0]):
        return True  # M + Mᵀ
    if n.op in ("neg", "inv", "func", "pow"):
        return is_symmetric(n.args[0])
    if n.op == "mul":
        a, b = n.args
        return (a.shape == SCALAR or is_symmetric(a)) and is_symmetric(b)
    if n.op == "matmul":
        a, b = n.args
        if b == transpose(a):
            return True  # AAᵀ and AᵀA
        for first, middle, last in _triples(a, b):
            if last == transpose(first) and is_symmetric(middle):
                return True  # AᵀBA with B symmetric
    return False


def _triples(a: Node, b: Node):
    """(A, B, C) for the product ABC written (AB)C or A(BC)."""
    if a.op == "matmul":
        yield a.args[0], a.args[1], b
    if b.op == "matmul":
        yield a, b.args[0], b.args[1]


# --- the moves -------------------------------------------------------------------------------

def _symmetric_transpose(n: Node) -> Node | None:
    """Pᵀ = P for a symmetric P, and P⁻ᵀ = P⁻¹."""
    if n.op == "T" and is_symmetric(n.args[0]):
        return n.args[0]
    return None


def _declared(n: Node) -> str | None:
    """The name of ``n`` when it is a matrix declared symmetric, else None."""
    return n.attr if n.op == "var" and n.attr in _DECLARED.get() else None


def _declared_words(n: Node) -> str | None:
    """``A is symmetric (declared): Aᵀ = A`` (or ``… A + Aᵀ = 2A``) where the move rests on a
    declaration; None where the structure alone (XᵀX, M + Mᵀ) makes it symmetric."""
    from derivekit.matrix.printers import name_text
    if n.op == "T" and _declared(n.args[0]):
        a = name_text(n.args[0].attr)
        return f"{a} is symmetric (declared): {a}ᵀ = {a}"
    if n.op == "add":
        for p in n.args:
            if _declared(p):
                a = name_text(p.attr)
                return f"{a} is symmetric (declared): {a} + {a}ᵀ = 2{a}"
    return None


def _declared_sum(n: Node) -> Node | None:
    """A + Aᵀ = Aᵀ + A = 2A for a matrix A declared symmetric (tried before the children are
    tidied, so the sum is named as a whole rather than as Aᵀ = A)."""
    if n.op == "add":
        a, b = n.args
        for p, q in ((a, b), (b, a)):
            if _declared(p) and q == transpose(p):
                return tidy(mul(const(2), p))
    return None


def _scalar_quotient(n: Node):
    """(a, s) for a scalar a/s with a constant a, else None."""
    if n.op == "div" and n.shape == SCALAR and n.args[0].op == "const":
        return n.args[0].attr, n.args[1]
    return None


def _fold_scalar_factors(n: Node) -> Node | None:
    """a / (d·s) = (a/d) / s, and c·((a/s)·Z) = (ca/s)·Z: constants gather in one fraction."""
    q = _scalar_quotient(n)
    if q is not None and q[1].op == "mul" and q[1].args[0].op == "const" and q[1].shape == SCALAR:
        return div(const(q[0] * q[1].args[0].attr.reciprocal()), q[1].args[1])
    if n.op == "mul" and n.args[0].op == "const" and n.args[1].op == "mul":
        inner = _scalar_quotient(n.args[1].args[0])
        if inner is not None:
            return mul(div(const(n.args[0].attr * inner[0]), inner[1]), n.args[1].args[1])
    return None


def _reciprocal_to_division(n: Node) -> Node | None:
    """(1/s)·Z = Z / s for a scalar s."""
    if n.op == "mul" and n.shape != SCALAR:
        q = _scalar_quotient(n.args[0])
        if q is not None and abs(q[0].value - 1.0) < 1e-15:
            return div(n.args[1], q[1])
    return None


def _negative_power(n: Node) -> Node | None:
    """s^(−k) Z = Z / s^k for a scalar s."""
    if n.op == "mul" and n.shape != SCALAR:
        p = n.args[0]
        if p.op == "pow" and p.shape == SCALAR and p.attr < 0:
            return div(n.args[1], power(p.args[0], -p.attr))
    return None


def _square_root(n: Node) -> Node | None:
    """s^½ = √s."""
    if n.op == "pow" and n.attr == 0.5:
        return func("sqrt", n.args[0])
    return None


def _trace_to_norm(n: Node) -> Node | None:
    """tr(XᵀX) = tr(XXᵀ) = ‖X‖²_F, the sum of the squared entries."""
    if n.op == "trace" and n.args[0].op == "matmul":
        a, b = n.args[0].args
        if a == transpose(b):
            return reduction("norm2", b if a.op == "T" else a)
    return None


def _softmax_of(num: Node, den: Node) -> Node | None:
    """softmax(z) when ``num`` is exp(z) and ``den`` its sum along the axis softmax takes."""
    if not (num.op == "func" and num.attr == "exp"):
        return None
    z = num.args[0]
    if den.op == "sum" and den.args[0] == num and 1 in z.shape:
        return reduction("softmax", z, vector_axis(z.shape))
    if den.op in ("colsum", "rowsum") and den.args[0] == num:
        return reduction("softmax", z, 0 if den.op == "colsum" else 1)
    return None


def _quotients(n: Node):
    """(numerator, denominator) pairs that ``n`` is: u / v, or (1/v) ⊙ u in either order."""
    if n.op == "div":
        yield n.args
    if n.op == "mul":
        for q, other in ((n.args[0], n.args[1]), (n.args[1], n.args[0])):
            if q.op == "div" and _is_one(q.args[0]):
                yield other, q.args[1]


def _is_one(n: Node) -> bool:
    return n.op == "ones" or is_const(n, 1.0)


def _softmax(n: Node) -> Node | None:
    """exp(x) / Σ exp(x) = softmax(x) (per column for 𝟙ᵀexp(X), per row for exp(X)𝟙)."""
    for num, den in _quotients(n):
        out = _softmax_of(num, den)
        if out is not None and out.shape == n.shape:
            return out
    return None


def _sigmoid_ratio(n: Node) -> Node | None:
    """σ′(z) / σ(z) = 1 − σ(z), since σ′ = σ(1 − σ)."""
    for num, den in _quotients(n):
        if (num.op == "func" and num.attr == "sigmoid_prime" and den.op == "func"
                and den.attr == "sigmoid" and num.args[0] == den.args[0] and num.shape == n.shape):
            return sub(ones(n.shape), den)
    return None


def _logistic(n: Node) -> Node | None:
    """exp(z) / (1 + exp(z)) = σ(z) and 1 / (1 + exp(−z)) = σ(z)."""
    for num, den in _quotients(n):
        if den.op != "add" or not any(_is_one(a) for a in den.args):
            continue
        e = den.args[1] if _is_one(den.args[0]) else den.args[0]
        if not (e.op == "func" and e.attr == "exp") or e.shape != n.shape:
            continue
        if num == e:
            return func("sigmoid", e.args[0])
        if _is_one(num) and e.args[0].op == "neg":
            return func("sigmoid", e.args[0].args[0])
    return None


#: moves tried at a subexpression before its children are tidied (a whole sum A + Aᵀ)
TOP_DOWN_MOVES: tuple[Move, ...] = (
    Move("declared symmetric", "A + Aᵀ = 2A for a matrix declared symmetric", _declared_sum,
         _declared_words),
)

#: the moves, tried in this order at every subexpression, children first
MOVES: tuple[Move, ...] = (
    Move("symmetric transpose", "Pᵀ = P for a symmetric P (XᵀX, AᵀBA with B symmetric, "
         "M + Mᵀ, their sums and inverses), so P + Pᵀ = 2P", _symmetric_transpose,
         _declared_words),
    Move("scalar factors", "c · a/(d·s) = (ca/d)/s", _fold_scalar_factors),
    Move("reciprocal as division", "(1/s) Z = Z / s for a scalar s", _reciprocal_to_division),
    Move("negative power", "s⁻ᵏ Z = Z / sᵏ for a scalar s", _negative_power),
    Move("square root", "s^½ = √s", _square_root),
    Move("norm", "tr(XᵀX) = ‖X‖²_F, so √tr(XᵀX) = ‖X‖_F", _trace_to_norm),
    Move("softmax", "exp(x) / Σ exp(x) = softmax(x)", _softmax),
    Move("sigmoid ratio", "σ′(z) / σ(z) = 1 − σ(z)", _sigmoid_ratio),
    Move("logistic", "exp(z) / (1 + exp(z)) = 1 / (1 + exp(−z)) = σ(z)", _logistic),
)


def _sigmoid_prime_out(n: Node) -> Node | None:
    """σ′(z) = σ(z) ⊙ (1 − σ(z))."""
    if n.op == "func" and n.attr == "sigmoid_prime":
        s = func("sigmoid", n.args[0])
        return mul(s, sub(ones(n.shape), s))
    return None


def _tanh_prime_out(n: Node) -> Node | None:
    """tanh′(z) = 1 − tanh(z)^∘2."""
    if n.op == "func" and n.attr == "tanh_prime":
        return sub(ones(n.shape), power(func("tanh", n.args[0]), 2))
    return None


#: derivatives written through the function itself, as a textbook prints a Jacobian or a
#: Hessian (Xᵀdiag(σ(Xw) ⊙ (1 − σ(Xw)))X). These make a result longer, so they are not
#: among :data:`MOVES`; :func:`write_out_derivatives` applies them, named like the others.
DERIVATIVE_FORMS: tuple[Move, ...] = (
    Move("σ′ written out", "σ′(z) = σ(z)(1 − σ(z))", _sigmoid_prime_out),
    Move("tanh′ written out", "tanh′(z) = 1 − tanh²(z)", _tanh_prime_out),
)


def write_out_derivatives(node: Node) -> tuple[Node, list[AppliedMove]]:
    """``node`` with σ′ and tanh′ written through σ and tanh (:data:`DERIVATIVE_FORMS`), and
    one move per distinct subexpression rewritten."""
    applied: list[AppliedMove] = []
    memo: dict[Node, Node] = {}

    def go(n: Node) -> Node:
        hit = memo.get(n)
        if hit is None:
            hit = rebuild(n, [go(a) for a in n.args]) if n.args else n
            for move in DERIVATIVE_FORMS:
                new = move.rewrite(hit)
                if new is not None and new.shape == hit.shape:
                    applied.append(move.applied(hit, new))
                    hit = new
                    break
            memo[n] = hit
        return hit

    out = go(node)
    return (tidy(out), applied) if applied else (node, [])


def tidy_textbook(node: Node, symmetric=()) -> tuple[Node, list[AppliedMove]]:
    """``node`` rewritten by :data:`MOVES` until none applies, and the moves taken. The result
    is never longer than ``node`` (counted in nodes); where it would be, ``node`` comes back
    unchanged with no moves. ``symmetric`` names matrices declared symmetric (Aᵀ = A)."""
    token = _DECLARED.set(frozenset(symmetric))
    try:
        return _tidy_textbook(node)
    finally:
        _DECLARED.reset(token)


def _tidy_textbook(node: Node) -> tuple[Node, list[AppliedMove]]:
    applied: list[AppliedMove] = []
    memo: dict[Node, Node] = {}

    def at(n: Node) -> Node:
        for _ in range(16):
            for move in MOVES:
                new = move.rewrite(n)
                if new is not None and new != n and new.shape == n.shape and new.size() <= n.size():
                    new = tidy(new)
                    new = rebuild(new, [go(a) for a in new.args]) if new.args else new
                    applied.append(move.applied(n, new))
                    n = new
                    break
            else:
                return n
        return n

    def first(n: Node) -> Node:
        for move in TOP_DOWN_MOVES:
            new = move.rewrite(n)
            if new is not None and new != n and new.shape == n.shape and new.size() <= n.size():
                applied.append(move.applied(n, new))
                return new
        return n

    def go(n: Node) -> Node:
        hit = memo.get(n)
        if hit is None:
            n2 = first(n)
            hit = at(rebuild(n2, [go(a) for a in n2.args]) if n2.args else n2)
            memo[n] = hit
        return hit

    out = node
    for _ in range(4):
        new = tidy(go(out))
        if new == out:
            break
        out = new
    if out.size() > node.size():
        return node, []
    return out, applied


__all__ = ["DERIVATIVE_FORMS", "MOVES", "TOP_DOWN_MOVES", "AppliedMove", "Move", "is_symmetric", "tidy_textbook", "write_out_derivatives"]
