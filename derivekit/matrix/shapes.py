"""Shape checking: turn a parsed (untyped) matrix expression into a typed one.

:func:`resolve_shapes` reads the user's ``shapes`` (``{"W": (3, 4)}``, ``"W=3x4,x=4x1"``,
symbolic sizes such as ``("d", "N")`` which get pairwise-distinct numbers, and named sizes
such as ``{"N": 5}``). :func:`annotate` checks every operator, infers the shapes of names
left out where the expression pins them down, and raises :class:`~derivekit.errors.ShapeError`
naming both shapes and the operator otherwise.
"""

from __future__ import annotations

import itertools
import re

from derivekit.errors import ParseError, ShapeError
from derivekit.matrix.expr import (
    PAIR_LOSSES,
    SCALAR,
    UNARY_REDUCTIONS,
    Const,
    Node,
    broadcast,
    fmt_shape,
    matmul_error,
)

#: sizes given to symbolic dimensions: distinct, so a transposed factor cannot fit by luck
_DISTINCT_SIZES = (3, 4, 5, 7, 6, 8, 9, 11, 13, 10, 12, 14, 15, 17)


def parse_shapes(text: str) -> dict:
    """``"W=3x4,x=4x1,N=5"`` -> ``{"W": (3, 4), "x": (4, 1), "N": 5}``."""
    shapes: dict = {}
    for item in filter(None, (p.strip() for p in re.split(r"[,;]\s*(?=[^,;=]+=)", text))):
        if "=" not in item:
            raise ParseError(f"shape entry '{item}' needs the form NAME=ROWSxCOLS",
                             hint="e.g. --shapes W=3x4,x=4x1")
        name, value = (s.strip() for s in item.split("=", 1))
        parts = [p.strip() for p in re.split(r"[x×*,]", value) if p.strip()]
        if not name.isidentifier() or not 1 <= len(parts) <= 2:
            raise ParseError(f"shape entry '{item}' needs the form NAME=ROWSxCOLS",
                             hint="e.g. --shapes W=3x4,x=4x1 (a scalar size: N=5)")
        dims = tuple(int(p) if p.isdigit() else p for p in parts)
        if any(isinstance(d, str) and not d.isidentifier() for d in dims):
            raise ParseError(f"shape entry '{item}' has a size that is neither a number nor a name",
                             hint="e.g. --shapes W=3x4,x=4x1 or X=dxN")
        if len(dims) == 1:
            shapes[name] = dims[0] if name in _SIZE_NAMES and isinstance(dims[0], int) else (dims[0], 1)
        else:
            shapes[name] = dims
    return shapes


#: names that mean a size (a scalar) when given one number: --shapes N=5
_SIZE_NAMES = {"N", "M", "K", "B", "D"}


def resolve_shapes(shapes) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """Return (variable shapes as (rows, cols) ints, named dimension sizes)."""
    if isinstance(shapes, str):
        shapes = parse_shapes(shapes)
    shapes = dict(shapes or {})
    dims: dict[str, int] = {}
    for name, value in shapes.items():
        if isinstance(value, int):
            dims[name] = value
    used = {d for v in shapes.values() if isinstance(v, (tuple, list)) for d in v if isinstance(d, int)}
    used |= set(dims.values())
    fresh = (n for n in _DISTINCT_SIZES if n not in used)
    out: dict[str, tuple[int, int]] = {}
    for name, value in shapes.items():
        if isinstance(value, int):
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
        if op in ("add", "sub", "mul", "div"):
            (r1, c1), (r2, c2) = shapes
            out = []
            for d1, d2 in ((r1, r2), (c1, c2)):
                d1, d2 = self.find(d1), self.find(d2)
                if d1 == 1:
                    out.append(d2)
                elif d2 == 1:
                    out.append(d1)
                else:
                    self.unify(d1, d2)
                    out.append(d1)
            return tuple(out)
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


def annotate(node: Node, shapes, definitions: dict | None = None, *,
             dims: dict | None = None, refs: dict | None = None,
             infer: bool = True) -> tuple[Node, dict[Node, str]]:
    """Type ``node`` against ``shapes``. ``definitions`` maps intermediate names to untyped
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
                                  f"--shapes {name}=ROWSxCOLS")
    names: dict[Node, str] = {}
    typed_defs: dict[str, Node] = {}
    typer = _Typer(known, dims, definitions, typed_defs, names)
    typer.refs = refs
    return typer.type(node), names


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
                raise ShapeError(f"cannot tell the size of {'𝟙' if op == 'ones' else 'I'} here",
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
        if op in ("add", "sub", "mul", "div"):
            a = None if _outer_ones(node.args[0]) else self.type_leafy(node.args[0])
            b = None if _outer_ones(node.args[1]) else self.type_leafy(node.args[1])
            if a is None and b is None:
                if _outer_ones(node.args[0]):
                    a = self.type(node.args[0])
                elif _outer_ones(node.args[1]):
                    b = self.type(node.args[1])
                else:
                    raise ShapeError("cannot tell the size of 𝟙 or I here")
            a = a if a is not None else self.type(node.args[0], b.shape)
            b = b if b is not None else self.type(node.args[1], a.shape)
            if a.op == "const" and b.op == "const" and op in ("mul", "div"):
                c = a.attr * (b.attr if op == "mul" else b.attr.reciprocal())
                return Node("const", (), c, SCALAR)
            symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[op]
            return Node(op, (a, b), None, broadcast(a.shape, b.shape, symbol, a, b))
        if op == "T" and node.args[0].op in ("ones", "eye", "zeros") and want is not None:
            inner = self.type(node.args[0], want[::-1])
            return Node("T", (inner,), None, want)
        args = [self.type(a) for a in node.args]
        if op == "T":
            return Node("T", tuple(args), None, args[0].shape[::-1])
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

    def type_leafy(self, node: Node) -> Node | None:
        """Type ``node`` unless it is a bare 𝟙 or I whose size comes from its neighbour."""
        if node.op in ("ones", "eye", "zeros"):
            return None
        if node.op == "T" and node.args[0].op == "ones":
            return None
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
