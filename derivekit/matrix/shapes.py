"""Shape checking: turn a parsed (untyped) matrix expression into a typed one.

:func:`resolve_shapes` reads the user's ``shapes`` (``{"W": (3, 4)}``, ``"W=3x4,x=4x1"``,
symbolic sizes such as ``("d", "N")`` which get pairwise-distinct numbers, and named sizes
such as ``{"N": 5}``). :func:`annotate` checks every operator, infers the shapes of names
left out where the expression pins them down, and raises :class:`~derivekit.errors.ShapeError`
naming both shapes and the operator otherwise.
"""

from __future__ import annotations

import itertools
import math
import re

from derivekit.errors import AmbiguousShapeError, ParseError, ShapeError
from derivekit.matrix.expr import (
    AXIS_OPS,
    PAIR_LOSSES,
    SCALAR,
    UNARY_REDUCTIONS,
    AxisSpec,
    Const,
    Node,
    axis_sum,
    broadcast,
    compare,
    fmt_shape,
    func,
    matmul_error,
    maximum,
    minimum,
    power,
    reduction,
    scale,
    sub,
    transpose,
    vector_axis,
    where,
)

#: parsed calls that take axis= (their attr is an AxisSpec until shapes are known)
AXIS_CALLS = ("sum", "mean", "variance", "std", "norm", "logsumexp", "softmax", "log_softmax")
#: elementwise binary ops (broadcasting)
ELEMENTWISE_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "cmp")

#: sizes given to symbolic dimensions: distinct, so a transposed factor cannot fit by luck
_DISTINCT_SIZES = (3, 4, 5, 7, 6, 8, 9, 11, 13, 10, 12, 14, 15, 17)


def parse_shapes(text: str) -> dict:
    """``"W=3x4,x=4x1,N=5,eps=1e-5"`` (or ``"X:N×D, eps=1e-5"``) -> ``{"W": (3, 4),
    "x": (4, 1), "N": 5, "eps": 1e-05}``. A number with a decimal point or an exponent
    declares a constant."""
    shapes: dict = {}
    entries = re.split(r"[,;]\s*(?=[^,;=:]+[=:])", text)
    for item in filter(None, (p.strip() for p in entries)):
        match = re.fullmatch(r"([^=:]+)[=:](.*)", item)
        if match is None:
            raise ParseError(f"shape entry '{item}' needs the form NAME=ROWSxCOLS",
                             hint="e.g. --shapes W=3x4,x=4x1 (a constant: eps=1e-5)")
        name, value = (s.strip() for s in match.groups())
        if name.isidentifier() and _CONSTANT.fullmatch(value):
            shapes[name] = float(value)
            continue
        parts = [p.strip() for p in re.split(r"[x×*,]", value) if p.strip()]
        if not name.isidentifier() or not 1 <= len(parts) <= 2:
            raise ParseError(f"shape entry '{item}' needs the form NAME=ROWSxCOLS",
                             hint="e.g. --shapes W=3x4,x=4x1 (a scalar size: N=5; a constant: "
                                  "eps=1e-5)")
        dims = tuple(int(p) if p.isdigit() else p for p in parts)
        if any(isinstance(d, str) and not d.isidentifier() for d in dims):
            raise ParseError(f"shape entry '{item}' has a size that is neither a number nor a name",
                             hint="e.g. --shapes W=3x4,x=4x1 or X=dxN")
        if len(dims) == 1:
            shapes[name] = dims[0] if name in _SIZE_NAMES and isinstance(dims[0], int) else (dims[0], 1)
        else:
            shapes[name] = dims
    return shapes


#: a declared constant's value: a number with a decimal point or an exponent (1e-5, 0.1, -2.0)
_CONSTANT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)")


#: names that mean a size (a scalar) when given one number: --shapes N=5
_SIZE_NAMES = {"N", "M", "K", "B", "D"}


def resolve_shapes(shapes) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """Return (variable shapes as (rows, cols) ints, named dimension sizes and constants).

    A declared constant (``eps=1e-5``, a float) sits with the named sizes: both are scalars
    that print by name and are never sampled."""
    if isinstance(shapes, str):
        shapes = parse_shapes(shapes)
    shapes = dict(shapes or {})
    dims: dict[str, int | float] = {}
    for name, value in shapes.items():
        if isinstance(value, bool):
            raise ShapeError(f"the shape of {name} is {value!r}", hint="give (rows, cols), a size or a constant")
        if isinstance(value, (int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                raise ShapeError(f"the constant {name} = {value} is not finite")
            dims[name] = value
    used = {d for v in shapes.values() if isinstance(v, (tuple, list)) for d in v if isinstance(d, int)}
    used |= set(dims.values())
    fresh = (n for n in _DISTINCT_SIZES if n not in used)
    out: dict[str, tuple[int, int]] = {}
    for name, value in shapes.items():
        if isinstance(value, (int, float)):
            continue
        if isinstance(value, str):
            value = tuple(p.strip() for p in re.split(r"[x×]", value))
            value = tuple(int(p) if p.isdigit() else p for p in value)
        value = tuple(value)
        if len(value) == 0:
            value = (1, 1)
        elif len(value) == 1:
            value = (value[0], 1)
        if len(value) != 2:
            raise ShapeError(f"the shape of {name} must have one or two sizes, got {value}",
                             hint="derivekit works with matrices and column vectors")
        resolved = []
        for d in value:
            if isinstance(d, str):
                if d not in dims:
                    dims[d] = next(fresh)
                d = dims[d]
            if not isinstance(d, int) or d < 1 or d > 100_000:
                raise ShapeError(f"the shape of {name} has an invalid size {d!r}")
            resolved.append(d)
        if resolved[0] * resolved[1] > MAX_ENTRIES:
            from derivekit.errors import LimitError
            raise LimitError(f"{name} would have {resolved[0] * resolved[1]:,} entries, over the "
                             f"limit of {MAX_ENTRIES:,}",
                             hint="derivations do not depend on the sizes: use small ones")
        out[name] = tuple(resolved)
    return out, dims


#: the most entries one matrix may have (numeric checks sample every variable)
MAX_ENTRIES = 4_000_000


def _lookup(name: str, table: dict):
    if name in table:
        return name
    squashed = name.replace("_", "")
    for key in table:
        if key.replace("_", "") == squashed:
            return key
    return None


class _Inference:
    """Best-effort inference of unknown variable shapes by unifying sizes."""

    def __init__(self, known: dict, dims: dict, definitions: dict):
        self.known, self.dims, self.definitions = known, dims, definitions
        self.parent: dict[int, object] = {}
        self.counter = itertools.count()
        self.unknown: dict[str, tuple] = {}
        #: undeclared names met beside a scalar in an elementwise operation (eps in x + eps)
        self.scalar_like: set[str] = set()

    def find(self, d):
        while isinstance(d, str) and d in self.parent:
            d = self.parent[d]
        return d

    def unify(self, a, b):
        a, b = self.find(a), self.find(b)
        if a == b:
            return
        if isinstance(a, str):
            self.parent[a] = b
        elif isinstance(b, str):
            self.parent[b] = a

    def fresh(self):
        return f"?{next(self.counter)}"

    def shape(self, node: Node):
        op = node.op
        if op == "var":
            key = _lookup(node.attr, self.known)
            if key:
                return self.known[key]
            if _lookup(node.attr, self.dims):
                return SCALAR
            dkey = _lookup(node.attr, self.definitions)
            if dkey:
                return self.shape(self.definitions[dkey])
            if node.attr not in self.unknown:
                self.unknown[node.attr] = (self.fresh(), self.fresh())
            return self.unknown[node.attr]
        if op == "const":
            return SCALAR
        if op in ("ones", "eye", "zeros"):
            d = self.fresh()
            return (d, self.fresh()) if op != "eye" else (d, d)
        shapes = [self.shape(a) for a in node.args]
        if op in ("matmul", "juxt"):
            (r1, c1), (r2, c2) = shapes
            if op == "juxt" and (self._is_one(r1, c1) or self._is_one(r2, c2)):
                return shapes[1] if self._is_one(r1, c1) else shapes[0]
            self.unify(c1, r2)
            return (r1, c2)
        if op == "diag":  # a column goes on a diagonal; a square matrix gives its diagonal
            r, c = shapes[0]
            if self.find(c) == 1:
                return (r, r)
            self.unify(r, c)
            return (r, 1)
        if op == "diagonal":
            self.unify(*shapes[0])
            return (shapes[0][0], 1)
        if op == "where":
            out = shapes[0]
            for other in shapes[1:]:
                out = self._broadcast(out, other)
            return out
        if op in ELEMENTWISE_BINARY:
            for arg, other in ((node.args[0], shapes[1]), (node.args[1], shapes[0])):
                if arg.op == "var" and arg.attr in self.unknown and self._is_one(*other):
                    self.scalar_like.add(arg.attr)
            return self._broadcast(*shapes)
        if isinstance(node.attr, AxisSpec) and op in AXIS_CALLS + ("softmax_ce",):
            return self._axis_shape(op, node.attr, shapes)
        if op == "batchmean":
            return SCALAR
        if op == "T":
            return shapes[0][::-1]
        if op in ("neg", "func", "pow"):
            return shapes[0]
        if op in ("trace", "det", "logdet", "inv"):
            self.unify(*shapes[0])
            return shapes[0] if op == "inv" else SCALAR
        if op in ("sum", "mean", "norm2") or op in PAIR_LOSSES:
            if op in PAIR_LOSSES:
                self.unify(shapes[0][0], shapes[1][0])
                self.unify(shapes[0][1], shapes[1][1])
            return SCALAR
        if op == "rowsum":
            return (shapes[0][0], 1)
        if op in ("colsum", "logsumexp"):
            return (1, shapes[0][1])
        if op == "meanaxis":
            return shapes[0]
        return shapes[0]

    def _is_one(self, r, c):
        return self.find(r) == 1 and self.find(c) == 1

    def _broadcast(self, a, b):
        out = []
        for d1, d2 in zip(a, b):
            d1, d2 = self.find(d1), self.find(d2)
            if d1 == 1:
                out.append(d2)
            elif d2 == 1:
                out.append(d1)
            else:
                self.unify(d1, d2)
                out.append(d1)
        return tuple(out)

    def _axis_shape(self, op, spec: AxisSpec, shapes):
        if op == "softmax_ce":
            self.unify(shapes[0][0], shapes[1][0])
            self.unify(shapes[0][1], shapes[1][1])
            return SCALAR
        r, c = shapes[0]
        if op in ("softmax", "log_softmax"):
            return (r, c)
        if spec.axis is None or spec.axis not in (-2, -1, 0, 1):
            return SCALAR
        if spec.axis % 2 == 0:
            return (1, c)
        return (r, 1) if spec.keepdims else (1, r)


def annotate(node: Node, shapes, definitions: dict | None = None, *,
             dims: dict | None = None, refs: dict | None = None,
             infer: bool = True, want: tuple | None = None) -> tuple[Node, dict[Node, str]]:
    """Type ``node`` against ``shapes``; ``want`` (optional) is the shape the whole should
    have, which sizes a bare I or 𝟙 at the top (a claimed Hessian ``2*I``). ``definitions`` maps intermediate names to untyped
    trees (``z1 = W1@x + b1``); each use is replaced by its typed definition, and the
    returned dict maps those typed subtrees to their names. ``refs`` maps names that stay
    names (``ref`` leaves, e.g. a loss's intermediates used in a claim) to their shapes."""
    if dims is None:
        known, dims = resolve_shapes(shapes)
    else:
        known = dict(shapes)
    refs = dict(refs or {})
    definitions = dict(definitions or {})
    inference = _Inference({**refs, **known}, dims, definitions)
    try:
        if infer:
            inference.shape(node)
    except (ShapeError, TypeError, ValueError):
        pass
    scalars = sorted(inference.scalar_like & set(inference.unknown))
    if scalars:
        listed = ", ".join(f"'{n}'" for n in scalars)
        example = scalars[0]
        raise ShapeError(
            f"undeclared name{'s' if len(scalars) > 1 else ''} {listed}: used beside a scalar, "
            f"so {'they' if len(scalars) > 1 else 'it'} could be a constant or a variable of "
            f"any broadcastable shape, and derivekit does not guess",
            hint=f"declare a constant in the shapes ({example}=1e-5, e.g. --shapes "
                 f"\"X:N×D, {example}=1e-5\" or shapes={{..., '{example}': 1e-5}}), a variable "
                 f"with its shape ({example}=1x1), or write the number itself")
    for name, (r, c) in inference.unknown.items():
        r, c = inference.find(r), inference.find(c)
        if isinstance(r, int) and not isinstance(c, int):
            inference.unify(c, 1)  # an undetermined number of columns: a column vector
            c = 1
        if isinstance(r, int) and isinstance(c, int):
            known[name] = (r, c)
        else:
            raise ShapeError(f"the shape of '{name}' is not given and cannot be inferred",
                             hint=f"give it, e.g. shapes={{'{name}': (rows, cols)}} or "
                                  f"--shapes {name}=ROWSxCOLS; a constant: {name}=1e-5")
    names: dict[Node, str] = {}
    typed_defs: dict[str, Node] = {}
    typer = _Typer(known, dims, definitions, typed_defs, names)
    typer.refs = refs
    return typer.type(node, want), names


def _row_ones(node: Node) -> bool:
    return node.op == "T" and node.args[0].op == "ones"


def _outer_ones(node: Node) -> bool:
    """b𝟙ᵀ or 𝟙vᵀ: a product whose 𝟙 factor gets its length from a neighbour in a sum."""
    return node.op in ("matmul", "juxt") and len(node.args) == 2 and (
        _row_ones(node.args[1]) and node.args[0].op not in ("ones", "eye", "zeros")
        or node.args[0].op == "ones" and node.args[1].op not in ("ones", "eye", "zeros"))


class _Typer:
    def __init__(self, known, dims, definitions, typed_defs, names):
        self.known, self.dims, self.definitions = known, dims, definitions
        self.typed_defs, self.names = typed_defs, names
        self.active: set[str] = set()

    def type(self, node: Node, want: tuple | None = None) -> Node:
        op = node.op
        if op == "var":
            return self._name(node.attr)
        if op == "const":
            return Node("const", (), node.attr, SCALAR)
        if op in ("ones", "eye", "zeros"):
            if want is None:
                raise AmbiguousShapeError(f"cannot tell the size of {'𝟙' if op == 'ones' else 'I'} here",
                                 hint="use it next to a matrix whose shape fixes it")
            return Node(op, (), None, want)
        if op in ("matmul", "juxt"):
            a = self.type_leafy(node.args[0])
            b = self.type_leafy(node.args[1])
            if op == "juxt" and (a is not None and a.shape == SCALAR or b is not None and b.shape == SCALAR):
                a = a if a is not None else self.type(node.args[0], b.shape)
                b = b if b is not None else self.type(node.args[1], a.shape)
                return Node("mul", (a, b), None, broadcast(a.shape, b.shape, "*", a, b))
            if a is None and b is None:
                raise ShapeError("cannot tell the sizes of a product of 𝟙 and I")
            if a is None:
                # 𝟙vᵀ (an outer product) takes its length from the surrounding sum
                outer = node.args[0].op == "ones" and want is not None and b.shape[0] == 1 \
                    and want[1] == b.shape[1]
                a = self.type(node.args[0], (b.shape[0], b.shape[0]) if node.args[0].op == "eye"
                              else (want[0], 1) if outer else (1, b.shape[0]))
            if b is None:
                # b𝟙ᵀ (a bias repeated over a batch) takes its length from the surrounding sum
                outer = _row_ones(node.args[1]) and want is not None and a.shape[1] == 1 \
                    and want[0] == a.shape[0]
                b = self.type(node.args[1], (a.shape[1], a.shape[1]) if node.args[1].op == "eye"
                              else (1, want[1]) if outer else (a.shape[1], 1))
            if op == "juxt" and a.shape[1] != b.shape[0] and (a.shape == SCALAR or b.shape == SCALAR):
                return Node("mul", (a, b), None, broadcast(a.shape, b.shape, "*", a, b))
            if a.shape[1] != b.shape[0]:
                raise matmul_error(a, b)
            return Node("matmul", (a, b), None, (a.shape[0], b.shape[1]))
        if op in ELEMENTWISE_BINARY:
            # the wanted shape (given only for a claim's whole) sizes a bare I deeper in a sum
            a = None if _outer_ones(node.args[0]) else self.type_leafy(node.args[0], want)
            b = None if _outer_ones(node.args[1]) else self.type_leafy(node.args[1], want)
            if a is None and b is None:
                if _outer_ones(node.args[0]):
                    a = self.type(node.args[0], want or self._square_beside(node.args[0], node.args[1]))
                elif _outer_ones(node.args[1]):
                    b = self.type(node.args[1], want or self._square_beside(node.args[1], node.args[0]))
                elif want is not None:  # I + I, or 2*I at the top of a claim of a known shape
                    a = self.type(node.args[0], want)
                else:
                    raise AmbiguousShapeError("cannot tell the size of 𝟙 or I here")
            # beside a scalar, a bare I or 𝟙 takes the wanted shape, not the scalar's 1×1
            a = a if a is not None else self.type(
                node.args[0], want if b.shape == SCALAR and want is not None else b.shape)
            b = b if b is not None else self.type(
                node.args[1], want if a.shape == SCALAR and want is not None else a.shape)
            if a.op == "const" and b.op == "const" and op in ("mul", "div"):
                c = a.attr * (b.attr if op == "mul" else b.attr.reciprocal())
                return Node("const", (), c, SCALAR)
            if op == "cmp":
                return compare(node.attr, a, b)
            if op in ("maximum", "minimum"):
                return (maximum if op == "maximum" else minimum)(a, b)
            symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[op]
            return Node(op, (a, b), None, broadcast(a.shape, b.shape, symbol, a, b))
        if op == "where":
            typed = [self.type_leafy(a) for a in node.args]
            known_shape = next((t.shape for t in typed if t is not None), None)
            typed = [t if t is not None else self.type(a, known_shape)
                     for t, a in zip(typed, node.args)]
            return where(*typed)
        if op == "T" and node.args[0].op in ("ones", "eye", "zeros") and want is not None:
            inner = self.type(node.args[0], want[::-1])
            return Node("T", (inner,), None, want)
        if op == "neg" and want is not None:
            inner = self.type(node.args[0], want)
            return Node("neg", (inner,), None, inner.shape)
        args = [self.type(a) for a in node.args]
        if op in AXIS_CALLS + ("softmax_ce",) and (
                isinstance(node.attr, AxisSpec) or node.attr is None and op in AXIS_OPS):
            spec = node.attr if isinstance(node.attr, AxisSpec) else AxisSpec()
            return _AxisTyper(self.dims).apply(op, args, spec)
        if op in AXIS_OPS and isinstance(node.attr, int):  # an already typed tree
            if op == "softmax_ce":
                return Node(op, tuple(args), node.attr, SCALAR)
            keep = AxisSpec(node.attr, keepdims=node.shape is None or node.shape[0] != 1)
            return _AxisTyper(self.dims).apply(op, args, keep)
        if op == "batchmean":
            inner, source = args
            count = source.shape[0] if node.attr == "rows" else source.shape[0] * source.shape[1]
            return scale(_per(count, self.dims), inner)
        if op == "T":
            return Node("T", tuple(args), None, args[0].shape[::-1])
        if op in ("diag", "diagonal"):
            return _diag_call(op, args[0])
        if op in ("neg", "func", "pow"):
            return Node(op, tuple(args), node.attr, args[0].shape)
        if op == "meanaxis":
            inner = args[0]
            source = inner.args[0]
            count = source.shape[1] if inner.op == "rowsum" else source.shape[0]
            return Node("mul", (Node("const", (), Const.of(1.0 / count), SCALAR), inner), None,
                        inner.shape)
        if op in UNARY_REDUCTIONS:
            a = args[0]
            r, c = a.shape
            kind = UNARY_REDUCTIONS[op]
            if kind.startswith("square") and r != c:
                from derivekit.matrix.printers import to_text
                raise ShapeError(f"{op} needs a square matrix, but {to_text(a)} is "
                                 f"{fmt_shape(a.shape)}", hint=f"{op} applies to n×n matrices")
            shape = {"scalar": SCALAR, "square": SCALAR, "square-same": (r, c), "same": (r, c),
                     "colsum": (1, c), "rowsum": (r, 1)}[kind]
            return Node(op, (a,), None, shape)
        if op in PAIR_LOSSES:
            from derivekit.matrix.expr import pair_loss
            return pair_loss(op, *args)
        raise ShapeError(f"unknown operation {op}")  # pragma: no cover

    def _square_beside(self, outer: Node, other: Node) -> tuple | None:
        """𝟙vᵀ (or v𝟙ᵀ) beside I, as in I − 𝟙sᵀ: the sum is square, n×n for v of length n."""
        if other.op != "eye":
            return None
        vector = outer.args[1] if outer.args[0].op == "ones" else outer.args[0]
        n = max(self.type(vector).shape)
        return (n, n)

    def type_leafy(self, node: Node, want: tuple | None = None) -> Node | None:
        """Type ``node`` unless it is a bare 𝟙 or I whose size comes from its neighbour."""
        if node.op in ("ones", "eye", "zeros"):
            return None
        if node.op == "T" and node.args[0].op == "ones":
            return None
        if want is not None and node.op in ELEMENTWISE_BINARY + ("neg",):
            return self.type(node, want)
        return self.type(node)

    def _name(self, name: str) -> Node:
        key = _lookup(name, self.known)
        if key:
            return Node("var", (), key, self.known[key])
        key = _lookup(name, self.dims)
        if key:
            return Node("const", (), Const.dim(key, self.dims[key]), SCALAR)
        key = _lookup(name, getattr(self, "refs", {}))
        if key:
            return Node("ref", (), key, self.refs[key])
        key = _lookup(name, self.definitions)
        if key:
            if key in self.typed_defs:
                return self.typed_defs[key]
            if key in self.active:
                raise ShapeError(f"'{key}' is defined in terms of itself")
            self.active.add(key)
            typed = self.type(self.definitions[key])
            self.active.discard(key)
            self.typed_defs[key] = typed
            self.names.setdefault(typed, key)
            return typed
        raise ParseError(f"unknown name '{name}'",
                         hint=f"give its shape, e.g. shapes={{'{name}': (rows, cols)}}, or "
                              f"define it ('{name} = ...')")


def _diag_call(op: str, a: Node) -> Node:
    """NumPy's ``diag``: a column v gives the matrix diag(v); a square matrix M gives its
    diagonal as a column. A row or a non-square matrix is refused rather than guessed."""
    from derivekit.matrix.expr import diag, diagonal
    from derivekit.matrix.printers import to_text
    r, c = a.shape
    if op == "diag" and c == 1:
        return diag(a)
    if r == c:
        return diagonal(a)
    if r == 1:
        raise ShapeError(f"diag of the row {to_text(a)} ({fmt_shape(a.shape)}) is ambiguous: "
                         f"NumPy's np.diag of a 1×{c} array is its single diagonal entry",
                         hint=f"for the {c}×{c} matrix with it on the diagonal write "
                              f"diag({to_text(a)}.T), or declare it as a column {c}×1")
    raise ShapeError(f"diag of {to_text(a)} ({fmt_shape(a.shape)}) needs a column vector or a "
                     f"square matrix", hint="diag(v) puts a column on a diagonal; diag(M) reads "
                                            "the diagonal of a square M")


def _per(count: int, dims: dict) -> Const:
    """1/count, written 1/N when a declared size N has that value."""
    names = [n for n, v in dims.items() if isinstance(v, int) and not isinstance(v, bool)
             and v == count]
    if len(names) == 1:
        return Const.dim(names[0], count).reciprocal()
    return Const.of(1.0 / count)


class _AxisTyper:
    """NumPy's axis rules for reductions and the softmax family, on typed arguments.

    A 2-D result keeps NumPy's shape; a 1-D result (a reduction over one axis without
    keepdims) becomes a 1×n row, because NumPy broadcasts a 1-D array as a row."""

    def __init__(self, dims: dict):
        self.dims = dims

    def apply(self, op: str, args: list[Node], spec: AxisSpec) -> Node:
        a = args[0]
        axis = self.axis(op, a, spec.axis)
        if op == "softmax_ce":
            return self.cross_entropy(args, axis, spec)
        if op in ("softmax", "log_softmax", "logsumexp"):
            axis = self.normalising_axis(op, a, axis)
            out = reduction(op, a, axis)
            return transpose(out) if op == "logsumexp" and not spec.keepdims and out.shape[1] == 1 \
                and out.shape[0] > 1 else out
        r, c = a.shape
        ddof = spec.ddof or 0
        if axis is None:
            count = r * c
            if op in ("sum", "mean"):
                return reduction(op, a)
            if op == "norm":
                return func("sqrt", reduction("norm2", a))
            self.check_ddof(op, count, ddof)
            centred = sub(a, reduction("mean", a))
            var = scale(_per(count - ddof, self.dims) if ddof else _per(count, self.dims),
                        reduction("sum", power(centred, 2)))
            return var if op == "variance" else func("sqrt", var)
        count = a.shape[axis]
        if op == "sum":
            out = axis_sum(a, axis)
        elif op == "mean":
            out = scale(_per(count, self.dims), axis_sum(a, axis))
        elif op == "norm":
            out = func("sqrt", axis_sum(power(a, 2), axis))
        else:
            self.check_ddof(op, count, ddof)
            centred = sub(a, scale(_per(count, self.dims), axis_sum(a, axis)))
            out = scale(_per(count - ddof, self.dims) if ddof else _per(count, self.dims),
                        axis_sum(power(centred, 2), axis))
            if op == "std":
                out = func("sqrt", out)
        if axis == 1 and not spec.keepdims and out.shape[0] > 1:
            out = transpose(out)  # NumPy's 1-D result, held as a row
        return out

    @staticmethod
    def check_ddof(op: str, count: int, ddof: int):
        if count - ddof <= 0:
            raise ShapeError(f"{op} with ddof={ddof} over {count} entr{'y' if count == 1 else 'ies'} "
                             f"divides by {count - ddof}", hint="use ddof=0, or more entries")

    @staticmethod
    def axis(op: str, a: Node, axis: int | None) -> int | None:
        if axis is None:
            return None
        if axis not in (-2, -1, 0, 1):
            raise ShapeError(f"axis {axis} is out of bounds for {op} of a 2-D matrix "
                             f"({fmt_shape(a.shape)})",
                             hint="axis=0 (or -2) runs down the rows: one result per column; "
                                  "axis=1 (or -1) runs along a row: one result per row")
        return axis % 2

    @staticmethod
    def normalising_axis(op: str, a: Node, axis: int | None) -> int:
        """The axis a softmax-family op normalises along: required for a 2-D matrix (NumPy
        has no single answer), the vector's own axis for a vector."""
        from derivekit.matrix.printers import to_text
        r, c = a.shape
        name = to_text(a)
        spelled = "softmax_ce" if op == "softmax_ce" else op
        if axis is None:
            if r > 1 and c > 1:
                raise ShapeError(
                    f"{spelled} of the {fmt_shape(a.shape)} matrix {name} needs an axis: a "
                    f"matrix can be normalised per column or per row, and derivekit does not "
                    f"guess which",
                    hint=f"write {spelled}(…, axis=0) to normalise each column (classes down "
                         f"the rows), or {spelled}(…, axis=1) (PyTorch: dim=1 or dim=-1) to "
                         f"normalise each row (a batch of rows, as in X@W or Q@K.T)")
            return vector_axis(a.shape)
        if a.shape[axis] == 1 and (r, c) != SCALAR:
            other = 1 - axis
            raise ShapeError(
                f"{spelled}(…, axis={axis}) of {name} ({fmt_shape(a.shape)}) normalises along an "
                f"axis of length 1, so every entry would be 1 (or 0 for log_softmax)",
                hint=f"{name} is a {'column' if axis == 1 else 'row'}: its entries run along "
                     f"axis {other}; write axis={other} or leave the axis out")
        return axis

    def cross_entropy(self, args, axis, spec: AxisSpec) -> Node:
        from derivekit.matrix.expr import pair_loss
        z = args[0]
        c = z.shape[1]
        if spec.torch:
            # F.cross_entropy: classes along dim 1 of a batch (the only dim of a 1-D input),
            # averaged over the batch
            if axis is None:
                axis = 0 if c == 1 else 1
            axis = self.normalising_axis("softmax_ce", z, axis)
            loss = pair_loss("softmax_ce", z, args[1], axis)
            batch = z.shape[1 - axis]
            return loss if batch == 1 else scale(_per(batch, self.dims), loss)
        axis = self.normalising_axis("softmax_ce", z, axis)
        return pair_loss("softmax_ce", z, args[1], axis)
