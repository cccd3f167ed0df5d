"""Matrix expressions with shapes: one node type and smart constructors.

A :class:`Node` is an immutable tree node (``op``, ``args``, ``attr``, ``shape``). Parsed
trees (``derivekit.matrix.parse``) have ``shape=None``; :func:`annotate` checks them against the
given shapes and returns a typed tree. Every shape is 2-D: a column vector is ``(n, 1)``,
a scalar ``(1, 1)``.

The smart constructors (:func:`matmul`, :func:`hadamard`, :func:`transpose`, …) compute the
result shape and apply the tidying moves that make gradients readable: constants fold and
move to the front, ``(AB)ᵀ = BᵀAᵀ``, ``Iᵀ = I``, ``1·X = X``, ``AC + BC = (A + B)C``.
Rebuilding a tree through them (:func:`tidy`) simplifies it.

Ops
---
leaves: ``var`` (attr name), ``const`` (attr :class:`Const`), ``ones``, ``eye``, ``zeros``,
``ref`` (a named intermediate, attr name), ``adj`` (its adjoint ∂L/∂name, attr name);
binary: ``matmul``, ``add``, ``sub``, ``mul`` (elementwise or scalar, broadcasting), ``div``,
``juxt`` (parsed juxtaposition; becomes ``matmul`` or scalar ``mul`` once shapes are known);
unary: ``neg``, ``T``, ``pow`` (attr exponent), ``func`` (attr elementwise function name);
reductions and matrix functions: ``sum``, ``rowsum`` (X𝟙), ``colsum`` (𝟙ᵀX), ``mean``,
``trace``, ``det``, ``logdet``, ``inv``, ``norm2``; ``softmax``, ``log_softmax``,
``logsumexp`` and ``softmax_ce`` (z, y) with attr the axis they normalise along (0: per
column, 1: per row), ``bce_logits`` (z, y); ``diag`` (a column on a diagonal), ``diagonal``
(the diagonal of a square matrix, as a column; both are spelled ``diag`` in the language);
``maximum`` and ``minimum`` (elementwise, broadcasting), ``cmp`` (attr ``>``, ``<``, ``>=``,
``<=``: a 0/1 indicator matrix), ``where`` (cond, a, b).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator

from derivekit.errors import DerivekitError, ShapeError

Shape = tuple[int, int]
SCALAR: Shape = (1, 1)

#: elementwise functions the engine knows (name -> derivative function name or None)
ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "exp", "log", "sqrt", "abs", "sign",
               "sigmoid_prime", "tanh_prime", "relu_prime", "leaky_relu_prime")
UNARY_REDUCTIONS = {"sum": "scalar", "mean": "scalar", "norm2": "scalar", "trace": "square",
                    "det": "square", "logdet": "square", "inv": "square-same",
                    "rowsum": "rowsum", "colsum": "colsum", "softmax": "same",
                    "log_softmax": "same", "logsumexp": "axis"}
PAIR_LOSSES = ("softmax_ce", "bce_logits")
#: ops whose attr is the axis they normalise along (0: per column, 1: per row)
AXIS_OPS = ("softmax", "log_softmax", "logsumexp", "softmax_ce")
#: comparison ops of ``cmp`` nodes
COMPARISONS = (">", "<", ">=", "<=")


@dataclass(frozen=True)
class AxisSpec:
    """The keywords of a parsed reduction or softmax call, before shapes are known:
    ``axis`` (None, or an int that may be negative), ``keepdims``, ``ddof`` (var and std),
    and ``torch`` (the call was spelled ``torch.``/``F.``: PyTorch's defaults apply)."""

    axis: int | None = None
    keepdims: bool = False
    ddof: int | None = None
    torch: bool = False


@dataclass(frozen=True)
class Const:
    """A scalar constant: its value, and an exact form ``coeff · Π dim^power`` when known
    (so that 1/N prints as ``1/N``)."""

    value: float
    coeff: Fraction | None = None
    dims: tuple[tuple[str, int], ...] = ()

    @staticmethod
    def of(value: float) -> "Const":
        frac = Fraction(value).limit_denominator(10_000)
        exact = abs(float(frac) - value) <= 1e-12 * max(1.0, abs(value))
        return Const(float(value), frac if exact else None)

    @staticmethod
    def dim(name: str, size: int) -> "Const":
        return Const(float(size), Fraction(1), ((name, 1),))

    def __mul__(self, other: "Const") -> "Const":
        value = self.value * other.value
        if self.coeff is None or other.coeff is None:
            return Const.of(value)
        powers: dict[str, int] = dict(self.dims)
        for name, power in other.dims:
            powers[name] = powers.get(name, 0) + power
        dims = tuple(sorted((n, p) for n, p in powers.items() if p))
        return Const(value, self.coeff * other.coeff, dims)

    def reciprocal(self) -> "Const":
        if self.value == 0:
            raise DerivekitError("division by zero: a constant divisor is 0",
                                 hint="divide by a nonzero number, or add the ε that keeps it away "
                                      "from 0 (x / (s + eps))")
        if self.coeff is None or self.coeff == 0:
            return Const.of(1.0 / self.value)
        return Const(1.0 / self.value, 1 / self.coeff, tuple((n, -p) for n, p in self.dims))

    def __neg__(self) -> "Const":
        return Const(-self.value, None if self.coeff is None else -self.coeff, self.dims)


class Node:
    """One node of a matrix expression tree (immutable, compared structurally)."""

    __slots__ = ("op", "args", "attr", "shape", "_hash")

    def __init__(self, op: str, args: tuple = (), attr: Any = None, shape: Shape | None = None,
                 pos: int | None = None):
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "attr", attr)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "_hash", hash((op, self.args, _attr_key(op, attr, shape))))

    def __setattr__(self, name, value):  # pragma: no cover - immutability guard
        raise AttributeError("Node is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        if self is other:
            return True
        if not isinstance(other, Node) or self._hash != other._hash:
            return False
        return (self.op == other.op and _attr_key(self.op, self.attr, self.shape)
                == _attr_key(other.op, other.attr, other.shape) and self.args == other.args)

    def __repr__(self) -> str:
        from derivekit.matrix.printers import to_numpy_text
        return f"Node<{to_numpy_text(self)}>"

    def with_args(self, args) -> "Node":
        return Node(self.op, tuple(args), self.attr, self.shape)

    def walk(self) -> Iterator["Node"]:
        """This node and every descendant, parents first."""
        yield self
        for arg in self.args:
            yield from arg.walk()

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR

    def names(self) -> set[str]:
        return {n.attr for n in self.walk() if n.op == "var"}

    def size(self) -> int:
        return sum(1 for _ in self.walk())


def _attr_key(op, attr, shape):
    if op in ("ones", "eye", "zeros"):
        return shape
    if op == "const":
        return round(attr.value, 12)
    return attr


# --- leaves -------------------------------------------------------------------------------

def var(name: str, shape: Shape | None = None) -> Node:
    return Node("var", (), name, shape)


def const(value: float | Const) -> Node:
    c = value if isinstance(value, Const) else Const.of(float(value))
    return Node("const", (), c, SCALAR)


def ones(shape: Shape) -> Node:
    return Node("ones", (), None, shape)


def eye(n: int) -> Node:
    return Node("eye", (), None, (n, n))


def zeros(shape: Shape) -> Node:
    return Node("zeros", (), None, shape)


def ref(name: str, shape: Shape) -> Node:
    return Node("ref", (), name, shape)


def adj(name: str, shape: Shape) -> Node:
    return Node("adj", (), name, shape)


def const_value(node: Node) -> float | None:
    return node.attr.value if node.op == "const" else None


def is_const(node: Node, value: float | None = None) -> bool:
    if node.op != "const":
        return False
    return value is None or abs(node.attr.value - value) < 1e-15


# --- shape helpers ------------------------------------------------------------------------

def fmt_shape(shape: Shape | None) -> str:
    return "?" if shape is None else f"{shape[0]}×{shape[1]}"


def broadcast(a: Shape, b: Shape, op: str, left: Node, right: Node) -> Shape:
    out = []
    for da, db in zip(a, b):
        if da == db or db == 1:
            out.append(da)
        elif da == 1:
            out.append(db)
        else:
            from derivekit.matrix.printers import to_text
            hint = "check the shapes, or use @ for a matrix product"
            for col, other, node in ((a, b, left), (b, a, right)):
                if col[1] == 1 and col[0] > 1 and other[1] == col[0] and other[0] != col[0]:
                    hint = (f"{to_text(node)} is a column ({fmt_shape(col)}); NumPy broadcasts a "
                            f"1-D array as a row, so declare it 1×{col[0]} (a row bias over a "
                            f"batch of rows)")
            raise ShapeError(
                f"{to_text(left)} ({fmt_shape(a)}) and {to_text(right)} ({fmt_shape(b)}) do not "
                f"fit for '{op}': elementwise operations need equal shapes, or a size 1 to "
                f"broadcast (a column bias d×1 over a batch d×N, a row bias 1×H over N×H)",
                hint=hint)
    return tuple(out)


def matmul_error(a: Node, b: Node) -> ShapeError:
    from derivekit.matrix.printers import to_text
    sa, sb = a.shape, b.shape
    ta, tb = to_text(a), to_text(b)
    fixes = []
    if sa[0] == sb[0]:
        fixes.append(_t(ta))
    if sa[1] == sb[1]:
        fixes.append(_t(tb))
    if sb[1] == sa[0]:
        fixes.append(f"the other order, {_p(tb)}{_p(ta)}")
    hint = ("did you mean " + " or ".join(fixes) + "?") if fixes else \
        "the number of columns on the left must equal the number of rows on the right"
    return ShapeError(f"{ta} ({fmt_shape(sa)}) cannot multiply {tb} ({fmt_shape(sb)}): "
                      f"the inner sizes {sa[1]} and {sb[0]} differ", hint=hint)


def _p(text: str) -> str:
    return f"({text})" if " " in text else text


def _t(text: str) -> str:
    return f"({text})ᵀ" if " " in text or "⊙" in text else text + "ᵀ"


# --- smart constructors ---------------------------------------------------------------------

def neg(a: Node) -> Node:
    if a.op == "neg":
        return a.args[0]
    if a.op == "const":
        return const(-a.attr)
    if a.op == "zeros":
        return a
    if a.op == "mul" and a.args[0].op == "const":
        return scale(-a.args[0].attr, a.args[1])
    return Node("neg", (a,), None, a.shape)


def scale(c: Const | float, a: Node) -> Node:
    """c·a for a constant c."""
    c = c if isinstance(c, Const) else Const.of(float(c))
    if abs(c.value - 1.0) < 1e-15:
        return a
    if abs(c.value + 1.0) < 1e-15:
        return neg(a)
    if c.value == 0.0:
        return zeros(a.shape)
    if a.op == "const":
        return const(c * a.attr)
    if a.op == "neg":
        return scale(-c, a.args[0])
    if a.op == "mul" and a.args[0].op == "const":
        return scale(c * a.args[0].attr, a.args[1])
    if a.op == "zeros":
        return a
    return Node("mul", (const(c), a), None, a.shape)


def mul(a: Node, b: Node) -> Node:
    """Elementwise (Hadamard) product with broadcasting, or a scalar times a matrix."""
    shape = broadcast(a.shape, b.shape, "*", a, b)
    if a.op == "const" and b.shape == shape:
        return scale(a.attr, b)
    if b.op == "const" and a.shape == shape:
        return scale(b.attr, a)
    if a.op == "ones" and b.shape == shape:
        return b
    if b.op == "ones" and a.shape == shape:
        return a
    if "zeros" in (a.op, b.op):
        return zeros(shape)
    # (s𝟙𝟙ᵀ) ⊙ X = sX for a scalar s
    if a.op == "mul" and a.args[1].op == "ones" and a.args[0].is_scalar and b.shape == shape:
        return mul(a.args[0], b)
    if b.op == "mul" and b.args[1].op == "ones" and b.args[0].is_scalar and a.shape == shape:
        return mul(b.args[0], a)
    if (factored := _signs_and_constants_out(a, b, mul)) is not None:
        return factored
    if b.is_scalar and not a.is_scalar:  # scalars first: y·X
        a, b = b, a
    return Node("mul", (a, b), None, shape)


hadamard = mul


def _signs_and_constants_out(a: Node, b: Node, op) -> Node | None:
    """For a bilinear ``op`` (⊙ or @): op(−A, B) = −op(A, B) and op(cA, B) = c·op(A, B), on
    either side; None when neither operand carries a sign or a constant factor."""
    if a.op == "neg":
        return neg(op(a.args[0], b))
    if b.op == "neg":
        return neg(op(a, b.args[0]))
    if a.op == "mul" and a.args[0].op == "const" and a.args[1].shape == a.shape:
        return scale(a.args[0].attr, op(a.args[1], b))
    if b.op == "mul" and b.args[0].op == "const" and b.args[1].shape == b.shape:
        return scale(b.args[0].attr, op(a, b.args[1]))
    return None


def div(a: Node, b: Node) -> Node:
    shape = broadcast(a.shape, b.shape, "/", a, b)
    if b.op == "const" and a.shape == shape:
        return scale(b.attr.reciprocal(), a)
    if b.op == "ones" and a.shape == shape:
        return a
    if a.op == "zeros":
        return zeros(shape)
    if a.op == "neg":
        return neg(div(a.args[0], b))
    return Node("div", (a, b), None, shape)


def matmul(a: Node, b: Node) -> Node:
    if a.shape[1] != b.shape[0]:
        raise matmul_error(a, b)
    shape = (a.shape[0], b.shape[1])
    if a.op == "eye":
        return b
    if b.op == "eye":
        return a
    if "zeros" in (a.op, b.op):
        return zeros(shape)
    if (factored := _signs_and_constants_out(a, b, matmul)) is not None:
        return factored
    if a.op == "const":
        return scale(a.attr, b)
    if b.op == "const":
        return scale(b.attr, a)
    # a scalar factor moves out of a product: A(sB) = s(AB)
    if a.op == "mul" and a.args[0].is_scalar and a.args[1].shape == a.shape and not a.is_scalar:
        return mul(a.args[0], matmul(a.args[1], b))
    if b.op == "mul" and b.args[0].is_scalar and b.args[1].shape == b.shape and not b.is_scalar:
        return mul(b.args[0], matmul(a, b.args[1]))
    # X X⁻¹ = X⁻¹X = I, and transposed; also at the end of a chain: (P X)X⁻¹ = P
    if _inverse_pair(a, b):
        return eye(shape[0])
    if a.op == "matmul" and _inverse_pair(a.args[1], b):
        return a.args[0]
    if b.op == "matmul" and _inverse_pair(a, b.args[0]):
        return b.args[1]
    if (mixed := _mixed_product(a, b)) is not None:
        return mixed
    if a.op == "matmul" and (mixed := _mixed_product(a.args[1], b)) is not None:
        return matmul(a.args[0], mixed)
    if a.op == "diag" and b.op == "ones" and b.shape[1] == 1:
        return a.args[0]
    if a.op == "diag" and b.shape[1] == 1 and b.shape[0] > 1:
        return mul(a.args[0], b)  # diag(v)u = v ⊙ u for a column u
    if a.op == "diag" and b.op == "matmul" and b.args[0].op == "ones" and b.args[0].shape[1] == 1:
        return matmul(a.args[0], b.args[1])  # diag(v)𝟙R = vR
    if b.op == "ones" and b.shape[1] == 1 and b.shape[0] > 1:
        return rowsum(a)
    if a.op == "ones" and a.shape[0] == 1 and a.shape[1] > 1:
        return colsum(b)
    return Node("matmul", (a, b), None, shape)


def _mixed_product(a: Node, b: Node) -> Node | None:
    """(A ⊗ B)(C ⊗ D) = AC ⊗ BD where the factors fit; None otherwise."""
    if a.op == "kron" and b.op == "kron":
        (p, q), (r, s) = a.args, b.args
        if p.shape[1] == r.shape[0] and q.shape[1] == s.shape[0]:
            return kron(matmul(p, r), matmul(q, s))
    return None


def _inverse_pair(a: Node, b: Node) -> bool:
    """Whether ab = I: X·X⁻¹, X⁻¹·X, Xᵀ·X⁻ᵀ or X⁻ᵀ·Xᵀ (X square)."""
    def inverse_of(n: Node):
        if n.op == "inv":
            return n.args[0]
        if n.op == "T" and n.args[0].op == "inv":
            return transpose(n.args[0].args[0])
        return None
    return a.shape[0] == b.shape[1] and (inverse_of(b) == a or inverse_of(a) == b)


def transpose(a: Node) -> Node:
    r, c = a.shape
    if a.op == "T":
        return a.args[0]
    if a.op in ("eye", "const"):
        return a
    if a.op in ("ones", "zeros"):
        return Node(a.op, (), None, (c, r))
    if a.shape == SCALAR and a.op != "inv":
        return a
    if a.op == "matmul":
        return matmul(transpose(a.args[1]), transpose(a.args[0]))
    if a.op == "neg":
        return neg(transpose(a.args[0]))
    if a.op == "mul" and a.args[0].op == "const":
        return scale(a.args[0].attr, transpose(a.args[1]))
    if a.op == "mul" and a.args[0].is_scalar and a.args[1].shape == a.shape:
        return mul(a.args[0], transpose(a.args[1]))  # (sX)ᵀ = sXᵀ
    if a.op == "rowsum":
        return colsum(transpose(a.args[0]))
    if a.op == "colsum":
        return rowsum(transpose(a.args[0]))
    return Node("T", (a,), None, (c, r))


def _sum_key(term: Node) -> tuple:
    """Order of terms in a factored sum: untransposed before transposed (A + Aᵀ)."""
    return (term.op == "T", term.op == "neg")


def add(a: Node, b: Node) -> Node:
    shape = broadcast(a.shape, b.shape, "+", a, b)
    if a.op == "zeros" and b.shape == shape:
        return b
    if b.op == "zeros" and a.shape == shape:
        return a
    if b.op == "neg":
        return sub(a, b.args[0])
    if b.op == "mul" and b.args[0].op == "const" and b.args[0].attr.value < 0:
        return sub(a, scale(-b.args[0].attr, b.args[1]))
    if a.op == "neg" and b.op != "neg":
        return sub(b, a.args[0])
    if a.op == "mul" and a.args[0].op == "const" and a.args[0].attr.value < 0:
        return sub(b, scale(-a.args[0].attr, a.args[1]))
    if a == b:
        return scale(2, a)
    for x, y in ((a, b), (b, a)):  # cA + A = (c + 1)A
        if x.op == "mul" and x.args[0].op == "const" and x.args[1] == y and y.shape == shape:
            return scale(Const.of(x.args[0].attr.value + 1), y)
    if a.op == "matmul" and b.op == "matmul":
        if a.args[1] == b.args[1]:
            terms = sorted((a.args[0], b.args[0]), key=_sum_key)
            return matmul(add(*terms), a.args[1])
        if a.args[0] == b.args[0]:
            terms = sorted((a.args[1], b.args[1]), key=_sum_key)
            return matmul(a.args[0], add(*terms))
    if a.op == "const" and b.op == "const":
        return const(Const.of(a.attr.value + b.attr.value))
    return Node("add", (a, b), None, shape)


def sub(a: Node, b: Node) -> Node:
    shape = broadcast(a.shape, b.shape, "-", a, b)
    if b.op == "zeros" and a.shape == shape:
        return a
    if a.op == "zeros" and b.shape == shape:
        return neg(b)
    if b.op == "neg":
        return add(a, b.args[0])
    if a == b:
        return zeros(shape)
    if a.op == "neg" and a.args[0] == b:
        return scale(-2, b)  # −B − B = −2B
    if a.op == "const" and b.op == "const":
        return const(Const.of(a.attr.value - b.attr.value))
    return Node("sub", (a, b), None, shape)


def func(name: str, a: Node) -> Node:
    return Node("func", (a,), name, a.shape)


def power(a: Node, exponent: float) -> Node:
    if exponent == 1:
        return a
    if exponent == 0:
        return ones(a.shape)
    return Node("pow", (a,), float(exponent), a.shape)


def rowsum(a: Node) -> Node:
    if a.shape[1] == 1:
        return a
    if a.op == "matmul" and a.args[1].op == "ones" and a.args[1].shape[0] == 1:
        return scale(a.shape[1], a.args[0])  # (u𝟙ᵀ)𝟙 = n·u
    if a.op == "mul" and a.args[0].op == "const":
        return scale(a.args[0].attr, rowsum(a.args[1]))
    if a.op == "neg":
        return neg(rowsum(a.args[0]))
    return Node("rowsum", (a,), None, (a.shape[0], 1))


def colsum(a: Node) -> Node:
    if a.shape[0] == 1:
        return a
    if a.op == "ones" and a.shape[1] == 1:
        return const(float(a.shape[0]))  # 𝟙ᵀ𝟙 = n
    if a.op == "matmul" and a.args[0].op == "ones" and a.args[0].shape[1] == 1:
        return scale(a.shape[0], a.args[1])  # 𝟙ᵀ(𝟙v) = n·v
    if a.op == "mul" and a.shape[1] == 1 and a.args[0].shape == a.args[1].shape == a.shape:
        return matmul(transpose(a.args[0]), a.args[1])  # 𝟙ᵀ(u ⊙ v) = uᵀv
    if a.op == "mul" and a.args[0].op == "const":
        return scale(a.args[0].attr, colsum(a.args[1]))
    if a.op == "neg":
        return neg(colsum(a.args[0]))
    return Node("colsum", (a,), None, (1, a.shape[1]))


def reduce_to(a: Node, shape: Shape) -> Node:
    """Sum ``a`` over the axes that broadcasting stretched to reach ``shape``'s form."""
    if a.shape == shape:
        return a
    if shape == SCALAR:
        if a.shape[0] == 1:
            return rowsum(a)
        if a.shape[1] == 1:
            return colsum(a)
        return reduction("sum", a)
    if shape[1] == 1 and shape[0] == a.shape[0]:
        return rowsum(a)
    if shape[0] == 1 and shape[1] == a.shape[1]:
        return colsum(a)
    raise ShapeError(f"cannot reduce {fmt_shape(a.shape)} to {fmt_shape(shape)}")


def expand_to(a: Node, shape: Shape) -> Node:
    """Broadcast ``a`` (scalar, column or row) up to ``shape``, as 𝟙-products."""
    if a.shape == shape:
        return a
    if a.shape == SCALAR:
        return mul(a, ones(shape))
    if a.shape[1] == 1:
        return matmul(a, ones((1, shape[1])))
    return matmul(ones((shape[0], 1)), a)


def reduction(op: str, a: Node, axis: int | None = None) -> Node:
    """A reduction or matrix function of ``a``; softmax, log_softmax and logsumexp take the
    ``axis`` they normalise along (a vector's own axis when None)."""
    kind = UNARY_REDUCTIONS[op]
    r, c = a.shape
    if kind in ("square", "square-same") and r != c:
        from derivekit.matrix.printers import to_text
        raise ShapeError(f"{op} needs a square matrix, but {to_text(a)} is {fmt_shape(a.shape)}",
                         hint="trace, det, logdet and inv apply to n×n matrices")
    if op == "rowsum":
        return rowsum(a)
    if op == "colsum":
        return colsum(a)
    if op == "sum" and a.shape == SCALAR:
        return a
    if op == "trace" and a.op == "eye":
        return const(a.shape[0])
    if op == "inv" and a.op == "inv":
        return a.args[0]
    if op == "sum" and a.op == "mul" and a.args[0].op == "const":
        return scale(a.args[0].attr, reduction("sum", a.args[1]))
    if op in AXIS_OPS:
        axis = vector_axis(a.shape) if axis is None else axis
        shape = (r, c) if kind == "same" else (1, c) if axis == 0 else (r, 1)
        return Node(op, (a,), axis, shape)
    shape = {"scalar": SCALAR, "square": SCALAR, "square-same": (r, c), "same": (r, c),
             "colsum": (1, c)}[kind]
    return Node(op, (a,), None, shape)


def vector_axis(shape: Shape) -> int:
    """The axis a vector's entries run along: 0 for a column (and 1×1), 1 for a row."""
    return 1 if shape[0] == 1 and shape[1] > 1 else 0


def axis_sum(a: Node, axis: int) -> Node:
    """Sum over ``axis`` keeping the dimension: 𝟙ᵀA (axis 0) or A𝟙 (axis 1)."""
    return colsum(a) if axis == 0 else rowsum(a)


def pair_loss(op: str, z: Node, y: Node, axis: int | None = None) -> Node:
    if z.shape != y.shape:
        from derivekit.matrix.printers import to_text
        raise ShapeError(f"{op} needs logits and targets of one shape, but {to_text(z)} is "
                         f"{fmt_shape(z.shape)} and {to_text(y)} is {fmt_shape(y.shape)}")
    if op in AXIS_OPS:
        return Node(op, (z, y), vector_axis(z.shape) if axis is None else axis, SCALAR)
    return Node(op, (z, y), None, SCALAR)


def maximum(a: Node, b: Node) -> Node:
    """Elementwise max(A, B) with broadcasting; max(0, Z) = max(Z, 0) = ReLU(Z)."""
    shape = broadcast(a.shape, b.shape, "maximum", a, b)
    if is_const(a, 0.0) and b.shape == shape:
        return func("relu", b)
    if is_const(b, 0.0) and a.shape == shape:
        return func("relu", a)
    return Node("maximum", (a, b), None, shape)


def minimum(a: Node, b: Node) -> Node:
    """Elementwise min(A, B) with broadcasting; min(Z, 0) = −ReLU(−Z)."""
    shape = broadcast(a.shape, b.shape, "minimum", a, b)
    if is_const(a, 0.0) and b.shape == shape:
        return neg(func("relu", neg(b)))
    if is_const(b, 0.0) and a.shape == shape:
        return neg(func("relu", neg(a)))
    return Node("minimum", (a, b), None, shape)


def compare(op: str, a: Node, b: Node) -> Node:
    """The 0/1 indicator matrix 𝟙[A op B] (broadcasting); its derivative is 0 almost
    everywhere."""
    return Node("cmp", (a, b), op, broadcast(a.shape, b.shape, op, a, b))


def where(c: Node, a: Node, b: Node) -> Node:
    """where(C, A, B): A's entry where C is non-zero, else B's (broadcasting all three)."""
    shape = broadcast(broadcast(c.shape, a.shape, "where", c, a), b.shape, "where", a, b)
    if a == b and a.shape == shape:
        return a
    return Node("where", (c, a, b), None, shape)


def diag(v: Node) -> Node:
    """diag(v): the square matrix with the column v on its diagonal."""
    if v.shape[1] != 1:
        raise ShapeError(f"diag needs a column vector, got {fmt_shape(v.shape)}")
    if v.op == "ones":
        return eye(v.shape[0])
    if v.op == "zeros":
        return zeros((v.shape[0], v.shape[0]))
    if v.op == "mul" and v.args[0].op == "const":
        return scale(v.args[0].attr, diag(v.args[1]))
    if v.op == "neg":
        return neg(diag(v.args[0]))
    return Node("diag", (v,), None, (v.shape[0], v.shape[0]))


def diagonal(m: Node) -> Node:
    """The diagonal of the square matrix M as a column (NumPy's ``np.diag`` of a matrix)."""
    if m.shape[0] != m.shape[1]:
        raise ShapeError(f"the diagonal needs a square matrix, got {fmt_shape(m.shape)}")
    if m.shape == SCALAR:
        return m
    if m.op == "diag":
        return m.args[0]  # diag(diag(v)) = v
    if m.op == "T":
        return diagonal(m.args[0])  # Mᵀ has M's diagonal
    if m.op == "eye":
        return ones((m.shape[0], 1))
    if m.op == "matmul" and m.args[0].shape[1] == 1:
        return mul(m.args[0], transpose(m.args[1]))  # the diagonal of uwᵀ is u ⊙ w
    if m.op == "mul" and m.args[0].op == "const":
        return scale(m.args[0].attr, diagonal(m.args[1]))
    if m.op == "neg":
        return neg(diagonal(m.args[0]))
    return Node("diagonal", (m,), None, (m.shape[0], 1))


def kron(a: Node, b: Node) -> Node:
    """The Kronecker product A ⊗ B, of shape (r₁r₂)×(c₁c₂): vec(BXAᵀ) = (A ⊗ B) vec(X)."""
    shape = (a.shape[0] * b.shape[0], a.shape[1] * b.shape[1])
    if a.op == "eye" and b.op == "eye":
        return eye(shape[0])
    if "zeros" in (a.op, b.op):
        return zeros(shape)
    if a.op == "const":
        return scale(a.attr, b)
    if b.op == "const":
        return scale(b.attr, a)
    if (factored := _signs_and_constants_out(a, b, kron)) is not None:
        return factored
    return Node("kron", (a, b), None, shape)


def rebuild(node: Node, args: list[Node]) -> Node:
    """``node`` with new (typed) arguments, through the smart constructors."""
    op = node.op
    if op in BINARY:
        return BINARY[op](*args)
    if op == "neg":
        return neg(args[0])
    if op == "T":
        return transpose(args[0])
    if op == "func":
        return func(node.attr, args[0])
    if op == "pow":
        return power(args[0], node.attr)
    if op in UNARY_REDUCTIONS:
        return reduction(op, args[0], node.attr if op in AXIS_OPS else None)
    if op in PAIR_LOSSES:
        return pair_loss(op, *args, axis=node.attr)
    if op == "cmp":
        return compare(node.attr, *args)
    if op == "where":
        return where(*args)
    if op == "diag":
        return diag(args[0])
    if op == "diagonal":
        return diagonal(args[0])
    if not args:
        return node
    raise ValueError(f"unknown op {op}")  # pragma: no cover


BINARY = {"matmul": matmul, "add": add, "sub": sub, "mul": mul, "div": div,
          "maximum": maximum, "minimum": minimum, "kron": kron}


def tidy(node: Node) -> Node:
    """Rebuild bottom-up through the smart constructors until nothing changes."""
    memo: dict[Node, Node] = {}

    def go(n: Node) -> Node:
        hit = memo.get(n)
        if hit is not None:
            return hit
        out = rebuild(n, [go(a) for a in n.args]) if n.args else n
        memo[n] = out
        return out

    for _ in range(4):
        new = go(node)
        if new == node:
            return new
        node = new
    return node


def substitute(node: Node, mapping: dict[tuple[str, str], Node]) -> Node:
    """Replace leaves keyed ``(op, name)`` (e.g. ``("ref", "z1")``) and rebuild."""
    memo: dict[Node, Node] = {}

    def go(n: Node) -> Node:
        if n in memo:
            return memo[n]
        if not n.args:
            out = mapping.get((n.op, n.attr), n) if n.op in ("ref", "adj", "var") else n
        else:
            out = rebuild(n, [go(a) for a in n.args])
        memo[n] = out
        return out

    return go(node)
