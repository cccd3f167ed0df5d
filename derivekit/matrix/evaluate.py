"""Numeric evaluation of matrix expressions: compile a tree once into a NumPy program,
sample random inputs that respect each variable's domain, and check gradients with central
differences.

:func:`compile_node` walks the tree once, shares repeated subtrees (each is computed once per
call), and returns ``f(env) -> ndarray``. The elementwise functions reuse the numerically
stable implementations in :data:`derivekit.parsing.functions.NUMPY_IMPLEMENTATIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from derivekit.errors import DerivekitError, ShapeError
from derivekit.matrix.assumptions import draw
from derivekit.matrix.expr import Const, Node, fmt_shape
from derivekit.parsing.functions import NUMPY_IMPLEMENTATIONS

_ONE = Node("const", (), Const.of(1.0), (1, 1))

_sigmoid = NUMPY_IMPLEMENTATIONS["sigmoid"]
_softplus = NUMPY_IMPLEMENTATIONS["softplus"]


def _sigmoid_prime(z):
    s = _sigmoid(z)
    return s * (1.0 - s)


def _softmax(z, axis=0):
    w = np.exp(z - z.max(axis=axis, keepdims=True))
    return w / w.sum(axis=axis, keepdims=True)


def _log_softmax(z, axis=0):
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _logsumexp(z, axis=0):
    m = z.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


#: ops that normalise along an axis (the node's attr) -> implementation for that axis
AXIS_NUMPY: dict[str, Callable] = {
    "softmax": lambda k: lambda z: _softmax(z, k),
    "log_softmax": lambda k: lambda z: _log_softmax(z, k),
    "logsumexp": lambda k: lambda z: _logsumexp(z, k),
    "softmax_ce": lambda k: _scalar(lambda z, y: -np.sum(y * _log_softmax(z, k))),
}


def _logdet(x):
    sign, value = np.linalg.slogdet(x)
    return np.array([[value if sign > 0 else np.nan]])


def _scalar(fn):
    return lambda *xs: np.array([[fn(*xs)]])


#: elementwise function name -> NumPy implementation
ELEMENTWISE_NUMPY: dict[str, Callable] = {
    "sigmoid": _sigmoid, "tanh": np.tanh, "relu": NUMPY_IMPLEMENTATIONS["relu"],
    "leaky_relu": NUMPY_IMPLEMENTATIONS["leaky_relu"], "softplus": _softplus, "exp": np.exp,
    "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "sign": np.sign,
    "sigmoid_prime": _sigmoid_prime,
    "tanh_prime": lambda z: 1.0 - np.tanh(z) ** 2,
    "relu_prime": lambda z: (z > 0).astype(float),
    "leaky_relu_prime": lambda z: np.where(z > 0, 1.0, 0.01),
}

#: op -> NumPy implementation taking the argument values
OPS: dict[str, Callable] = {
    "matmul": np.matmul, "add": np.add, "sub": np.subtract, "mul": np.multiply,
    "div": np.true_divide, "neg": np.negative, "T": np.transpose,
    "sum": _scalar(np.sum), "mean": _scalar(np.mean), "trace": _scalar(np.trace),
    "det": _scalar(np.linalg.det), "logdet": _logdet, "inv": np.linalg.inv,
    "norm2": _scalar(lambda x: np.vdot(x, x)),
    "rowsum": lambda x: x.sum(axis=1, keepdims=True), "diag": np.diagflat,
    "diagonal": lambda x: np.diagonal(x).reshape(-1, 1), "kron": np.kron,
    "colsum": lambda x: x.sum(axis=0, keepdims=True),
    "softmax": _softmax, "log_softmax": _log_softmax, "logsumexp": _logsumexp,
    "softmax_ce": _scalar(lambda z, y: -np.sum(y * _log_softmax(z))),
    "bce_logits": _scalar(lambda z, y: np.sum(_softplus(z) - y * z)),
    "maximum": np.maximum, "minimum": np.minimum,
    "where": lambda c, a, b: np.where(c != 0, a, b),
}

#: comparison -> 0/1 indicator
COMPARE_NUMPY: dict[str, Callable] = {
    ">": lambda a, b: np.greater(a, b).astype(float),
    "<": lambda a, b: np.less(a, b).astype(float),
    ">=": lambda a, b: np.greater_equal(a, b).astype(float),
    "<=": lambda a, b: np.less_equal(a, b).astype(float),
}


#: f′(z) written with f(z), used when f(z) is computed anyway (σ′ = σ(1 − σ), tanh′ = 1 − tanh²)
_FROM_FORWARD = {
    "sigmoid_prime": ("sigmoid", lambda s: Node("mul", (s, Node("sub", (_ONE, s), None, s.shape)),
                                                None, s.shape)),
    "tanh_prime": ("tanh", lambda t: Node("sub", (_ONE, Node("mul", (t, t), None, t.shape)),
                                          None, t.shape)),
}


def share_forward_values(node: Node) -> Node:
    """Rewrite σ′(z) as σ(z)(1 − σ(z)) (and tanh′ likewise) where σ(z) is in the tree, so
    that the compiled gradient reuses the forward value instead of recomputing it."""
    present = {n for n in node.walk() if n.op == "func"}
    memo: dict[Node, Node] = {}

    def go(n: Node) -> Node:
        if n in memo:
            return memo[n]
        out = n.with_args([go(a) for a in n.args]) if n.args else n
        if out.op == "mul" and out.args[0].op == "const" and out.args[1].op == "matmul":
            # c(AB): scale whichever of A, B, AB has the fewest entries
            c, (a, b) = out.args[0], out.args[1].args
            sizes = {"a": a.shape[0] * a.shape[1], "b": b.shape[0] * b.shape[1],
                     "ab": out.shape[0] * out.shape[1]}
            best = min(sizes, key=sizes.get)
            if best == "a":
                out = Node("matmul", (Node("mul", (c, a), None, a.shape), b), None, out.shape)
            elif best == "b":
                out = Node("matmul", (a, Node("mul", (c, b), None, b.shape)), None, out.shape)
        if out.op == "func" and out.attr in _FROM_FORWARD:
            forward_name, build = _FROM_FORWARD[out.attr]
            forward = Node("func", out.args, forward_name, out.shape)
            if forward in present:
                out = build(forward)
        memo[n] = out
        return out

    return go(node)


def compile_node(node: Node) -> Callable[[dict], np.ndarray]:
    """Compile ``node`` into ``f(env)``, ``env`` mapping names (vars and refs) to arrays.
    Repeated subtrees are computed once per call."""
    node = share_forward_values(node)
    slots: dict[Node, int] = {}
    program: list[tuple] = []

    def visit(n: Node) -> int:
        hit = slots.get(n)
        if hit is not None:
            return hit
        arg_slots = tuple(visit(a) for a in n.args)
        op = n.op
        if op in ("var", "ref", "adj"):
            instr = ("load", n.attr, n.shape)
        elif op == "const":
            instr = ("value", np.full((1, 1), n.attr.value))
        elif op == "ones":
            instr = ("value", np.ones(n.shape))
        elif op == "zeros":
            instr = ("value", np.zeros(n.shape))
        elif op == "eye":
            instr = ("value", np.eye(n.shape[0]))
        elif op == "func":
            instr = ("call", ELEMENTWISE_NUMPY[n.attr], arg_slots)
        elif op in AXIS_NUMPY and n.attr is not None:
            instr = ("call", AXIS_NUMPY[op](n.attr), arg_slots)
        elif op == "cmp":
            instr = ("call", COMPARE_NUMPY[n.attr], arg_slots)
        elif op == "pow":
            exponent = n.attr
            instr = ("call", lambda x, e=exponent: np.power(x, e), arg_slots)
        else:
            impl = OPS.get(op)
            if impl is None:
                raise DerivekitError(f"cannot evaluate the operation '{op}'")
            instr = ("call", impl, arg_slots)
        slots[n] = len(program)
        program.append(instr)
        return slots[n]

    visit(node)
    loads = [(i, ins[1], ins[2]) for i, ins in enumerate(program) if ins[0] == "load"]
    values = [ins[1] if ins[0] == "value" else None for ins in program]
    # drop each intermediate after its last use, so NumPy can reuse its (cache-warm) memory
    last_use: dict[int, int] = {}
    for i, ins in enumerate(program):
        if ins[0] == "call":
            for j in ins[2]:
                last_use[j] = i
    dead_after: dict[int, tuple[int, ...]] = {}
    for j, i in last_use.items():
        if program[j][0] == "call":
            dead_after.setdefault(i, ())
            dead_after[i] += (j,)
    calls = [(i, _fold_three(ins[1], ins[2]), ins[2][0],
              ins[2][1] if len(ins[2]) == 2 else -1 if len(ins[2]) == 1 else -2,
              dead_after.get(i, ())) for i, ins in enumerate(program) if ins[0] == "call"]

    def run(env: dict) -> np.ndarray:
        vals = list(values)
        for i, name, _shape in loads:
            vals[i] = env[name]
        for i, fn, a, b, dead in calls:
            vals[i] = fn(vals[a], vals[b]) if b >= 0 else fn(vals[a]) if b == -1 else fn(vals, a)
            for j in dead:
                vals[j] = None
        return vals[-1]

    return run


def _fold_three(fn, slots):
    """A call of three arguments (where) reads them from the value list itself."""
    if len(slots) <= 2:
        return fn
    return lambda vals, _a, fn=fn, slots=slots: fn(*(vals[j] for j in slots))


def check_values(values: dict, shapes: dict[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """Validate user arrays against the declared shapes (1-D arrays become columns)."""
    env = {}
    missing = [n for n in shapes if n not in values]
    if missing:
        raise DerivekitError(f"no value given for {', '.join(missing)}",
                             hint="pass an array for every name in shapes")
    for name, shape in shapes.items():
        arr = np.asarray(values[name], dtype=float)
        if arr.ndim == 0:
            arr = arr.reshape(1, 1)
        elif arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.shape != tuple(shape):
            raise ShapeError(f"the value of {name} has shape {fmt_shape(arr.shape)}, but its "
                             f"declared shape is {fmt_shape(shape)}")
        env[name] = arr
    return env


class CannotCheckError(DerivekitError):
    """Too few random inputs give finite values to check a result on: nothing was compared,
    so nothing is claimed (the CLI exits 2). ``reason`` says why, without the headline."""

    def __init__(self, message: str, *, reason: str = "", hint: str | None = None):
        super().__init__(message, hint=hint)
        self.reason = reason or message


# --- random inputs by domain ------------------------------------------------------------

def domains(node: Node, declared: dict[str, str] | None = None) -> dict[str, str]:
    """Which variables need special random values (keys of
    :data:`derivekit.matrix.assumptions.KINDS`): invertible (under det/logdet/inv),
    positive (under log/sqrt), one-hot along the class axis (targets of softmax_ce: columns
    of ``Y``, rows when the target is ``Yᵀ``), probabilities (targets of bce). What the user
    ``declared`` wins."""
    out: dict[str, str] = {}

    def leaf(n: Node):
        """(name, transposed) of a possibly transposed variable, or (None, False)."""
        flipped = False
        while n.op == "T":
            n, flipped = n.args[0], not flipped
        return (n.attr, flipped) if n.op == "var" else (None, False)

    def shifted_leaf(n: Node):
        """x in log(x + eps), log(c·x), √(x + 1): a positive x keeps the argument positive."""
        while True:
            if n.op == "add" and n.args[1].op == "const" and n.args[1].attr.value >= 0:
                n = n.args[0]
            elif n.op in ("add", "mul") and n.args[0].op == "const" and (
                    n.args[0].attr.value > 0 or n.op == "add" and n.args[0].attr.value == 0):
                n = n.args[1]
            else:
                return leaf(n)

    for n in node.walk():
        if n.op in ("det", "logdet", "inv"):
            name, _ = leaf(n.args[0])
            if name:
                out[name] = "invertible"
        elif n.op == "func" and n.attr in ("log", "sqrt"):
            name, _ = shifted_leaf(n.args[0])
            if name:
                out.setdefault(name, "positive")
        elif n.op == "softmax_ce":
            name, flipped = leaf(n.args[1])
            if name:  # one-hot along softmax_ce's class axis (attr: 0 columns, 1 rows) of the target
                rows = flipped != (n.attr == 1)
                out[name] = "one-hot rows" if rows else "one-hot columns"
        elif n.op == "bce_logits":
            name, _ = leaf(n.args[1])
            if name:
                out[name] = "probabilities"
    out.update(declared or {})
    return out


def implied(node: Node) -> dict[str, str]:
    """The structure the derived gradient itself relies on (not just a domain for finite
    values): the target of softmax cross-entropy sums to one along the class axis."""
    return {n: k for n, k in domains(node).items() if k.startswith("one-hot")}


def sample(shapes: dict[str, tuple[int, int]], kinds: dict[str, str], rng) -> dict[str, np.ndarray]:
    """One random value per name, drawn with the structure ``kinds`` gives it."""
    return {name: draw(kinds.get(name), r, c, rng) for name, (r, c) in shapes.items()}


#: draws tried per point wanted before giving up on finding finite points
DRAWS_PER_POINT = 10


def finite(*values) -> bool:
    """All entries of all values are finite numbers."""
    with np.errstate(all="ignore"):
        return all(bool(np.all(np.isfinite(np.asarray(v, dtype=float)))) for v in values)


def draw_points(shapes, kinds, seeds, accept: Callable[[dict, object], bool], need: int | None = None):
    """Random inputs ``[(seed, env)]`` where ``accept(env, rng)`` holds (the loss and gradient are
    finite there): the given seeds first, then the next integers, at most
    ``DRAWS_PER_POINT`` draws per point wanted. Returns (points, draws made); fewer points
    than ``need`` means finite points are too rare to check anything."""
    seeds = list(seeds)
    need = len(seeds) if need is None else need
    points, draws = [], 0
    queue = iter(seeds)
    next_seed = max(seeds, default=-1) + 1
    while len(points) < need and draws < DRAWS_PER_POINT * max(need, 1):
        seed = next(queue, None)
        if seed is None:
            seed, next_seed = next_seed, next_seed + 1
        draws += 1
        rng = np.random.default_rng(seed)
        env = sample(shapes, kinds, rng)
        with np.errstate(all="ignore"):
            try:
                ok = accept(env, rng)
            except (FloatingPointError, np.linalg.LinAlgError, ValueError):
                ok = False
        if ok:
            points.append((seed, env))
    return points, draws


@dataclass(frozen=True)
class FiniteDifferenceCheck:
    """The check of a derived gradient against central differences. ``checked`` is False
    when too few points had a finite loss and gradient to compare anything (``reason``)."""

    ok: bool
    max_rel_error: float
    seeds: tuple[int, ...]
    directions: int
    checked: bool = True
    reason: str = ""
    assumed: str = ""        # the structure the inputs were drawn with, in words

    def describe(self) -> str:
        if not self.checked:
            return f"central-difference check impossible: {self.reason}"
        verdict = "passed" if self.ok else "FAILED"
        assumed = f", assuming {self.assumed}" if self.assumed else ""
        return (f"central-difference check {verdict}: max relative error "
                f"{self.max_rel_error:.1e} over {len(self.seeds)} random inputs × "
                f"{self.directions} directions{assumed}")


def finite_difference_check(loss_fn, grad_fn, shapes, kinds, wrt: str, seeds=(0, 1, 2),
                            directions: int = 3, tol: float = 1e-4) -> FiniteDifferenceCheck:
    """Compare ⟨∇L, V⟩ with (L(W + hV) − L(W − hV)) / 2h along random directions V, at
    random points where the loss, the gradient and every perturbed loss are finite. A point
    where any of them is not finite is not a sample; with too few samples the check is not
    passed but marked unchecked."""
    measured: dict[int, float] = {}

    def accept(env, rng) -> bool:
        loss = loss_fn(env)
        grad = np.asarray(grad_fn(env), dtype=float)
        if not finite(loss, grad):
            return False
        base = env[wrt]
        worst = 0.0
        for _ in range(directions):
            direction = rng.standard_normal(base.shape)
            h = 1e-5 * max(1.0, float(np.abs(base).max()))
            env[wrt] = base + h * direction
            up = float(loss_fn(env)[0, 0])
            env[wrt] = base - h * direction
            down = float(loss_fn(env)[0, 0])
            env[wrt] = base
            if not finite(up, down):
                return False
            numeric = (up - down) / (2 * h)
            analytic = float(np.sum(grad * direction))
            scale = max(abs(numeric), abs(analytic), 1e-6)
            worst = max(worst, abs(numeric - analytic) / scale)
        measured[len(measured)] = worst
        return True

    points, draws = draw_points(shapes, kinds, seeds, accept)
    used = tuple(seed for seed, _ in points)
    if len(points) < len(tuple(seeds)):
        reason = (f"the loss or its gradient is not finite (NaN or ±inf) at {draws - len(points)} of "
                  f"{draws} random inputs")
        return FiniteDifferenceCheck(False, float("nan"), used, directions, False, reason)
    worst = max(measured.values(), default=0.0)
    return FiniteDifferenceCheck(worst <= tol, worst, used, directions)
