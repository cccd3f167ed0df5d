"""Compiled numeric evaluation and gradient checks.

:func:`compile` turns an expression, or a list / Matrix of them (a gradient, Jacobian or
Hessian), into a fast callable through ``sympy.lambdify``:

* ``backend="numpy"`` evaluates whole arrays at once and broadcasts its inputs;
* ``backend="math"`` evaluates one point with the ``math`` module (no NumPy overhead);
* ``backend="auto"`` (default) takes the math route when every input is a Python number and
  the NumPy route otherwise;
* ``backend="jax"`` uses ``jax.numpy`` when jax is installed (an optional extra).

The DL functions evaluate through the stable implementations of
:mod:`derivekit.parsing.functions`. Common-subexpression elimination (``cse``) is switched on when
the expression repeats sub-expressions, which is what a derivative does when it swells.

:func:`gradcheck` (defined in :mod:`derivekit.numeric.finitediff`, with the methods; points come
from :mod:`derivekit.numeric.sampling`) compares an analytic gradient with finite differences.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from derivekit.errors import DerivekitError, UnsupportedError
from derivekit.limits import too_deep_is_a_limit
from derivekit.numeric.result_pool import ResultPool
from derivekit.numeric.workspace import InPlace, in_place

BACKENDS = ("auto", "numpy", "math", "jax")
_INTERNAL_BACKENDS = ("complex",)  # complex-safe NumPy namespace for the complex step

#: a derivative expression repeats sub-expressions; cse pays off above this many nodes
CSE_MIN_NODES = 12
#: batches larger than twice this run in chunks of this many points (cache-sized temporaries)
CHUNK = 8192


# --- turning user input into SymPy ------------------------------------------------------

def as_expr(value: Any, what: str = "expression") -> sp.Expr:
    """Return ``value`` as a SymPy expression; text goes through :func:`derivekit.parsing.parse.parse`
    (plain text or LaTeX), never through ``sympify``."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, str):
        from derivekit.parsing.parse import parse
        expr = parse(value)
        if not isinstance(expr, sp.Expr):  # "x = 1", "x < 2", a tuple: not a value to compute
            kind = "an equation" if isinstance(expr, sp.Eq) else f"a {type(expr).__name__}"
            raise DerivekitError(f"the {what} {value!r} is {kind}, not an expression",
                                 hint="give only the right-hand side, e.g. 2*x rather than y = 2*x")
        return expr
    if isinstance(value, bool):
        raise DerivekitError(f"the {what} is a bool ({value})", hint="give an expression or a number")
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    if isinstance(value, (float, np.floating)):
        return sp.Float(float(value))
    raise DerivekitError(f"cannot read the {what} from a {type(value).__name__}",
                         hint="give a string (plain text or LaTeX) or a SymPy expression")


def split_components(text: str) -> list[str]:
    """Split ``"[a, f(b, c)]"`` or ``"a; b"`` at top-level commas and semicolons."""
    text = text.strip()
    if len(text) >= 2 and text[0] in "[(" and _closing_bracket(text, 0) == len(text) - 1:
        text = text[1:-1]
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in ",;" and depth == 0 and not text[max(0, i - 1)] == "\\":
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _closing_bracket(text: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def as_expr_list(value: Any, what: str = "claim") -> list[sp.Expr]:
    """A list of expressions from a list, tuple, Matrix, or text with several components."""
    if isinstance(value, str):
        return [as_expr(part, what) for part in split_components(value)]
    if isinstance(value, sp.MatrixBase):
        return list(value)
    if isinstance(value, (list, tuple)):
        return [as_expr(v, what) for v in value]
    return [as_expr(value, what)]


def as_symbols(names: Any, exprs: Iterable[sp.Basic] = ()) -> tuple[sp.Symbol, ...]:
    """Symbols for ``names`` (a name, a comma-separated string, Symbols, or a list of either).

    A name matches the free symbol of that name in ``exprs`` (so assumptions the parser put
    on it are kept); an unknown name becomes a plain Symbol.
    """
    if names is None:
        return ()
    if isinstance(names, (str, sp.Symbol)):
        names = [names]
    by_name: dict[str, sp.Symbol] = {}
    for e in exprs:
        for s in getattr(e, "free_symbols", ()):
            by_name.setdefault(s.name, s)
    out = []
    for n in names:
        if isinstance(n, sp.Symbol):
            out.append(n)
        elif isinstance(n, str):
            for part in n.split(","):
                part = part.strip()
                if part:
                    out.append(by_name.get(part) or _variable_named(part))
        else:
            raise DerivekitError(f"cannot use {n!r} as a variable", hint="give names or Symbols")
    return tuple(out)


def _variable_named(name: str) -> sp.Symbol:
    """The variable a name not found in the expression stands for; "x^2" or "2" is refused
    rather than turned into a symbol of that spelling."""
    from derivekit.parsing.parse import parse
    try:
        symbol = parse(name)
    except DerivekitError:
        symbol = None
    if not isinstance(symbol, sp.Symbol):
        raise DerivekitError(f"{name!r} is not a variable name, so nothing can be differentiated by it",
                             hint="give variable names separated by commas, e.g. wrt='w,b' (--wrt w,b)")
    return symbol


# --- derivatives to compile --------------------------------------------------------------

def gradient_exprs(expr: sp.Expr, wrt: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """∂expr/∂v for v in ``wrt``, on the symengine fast path when available."""
    try:
        from derivekit.calculus.fastdiff import gradient_vector
    except ImportError:
        return [sp.diff(expr, v) for v in wrt]
    return list(gradient_vector(expr, list(wrt)))


def hessian_exprs(expr: sp.Expr, wrt: Sequence[sp.Symbol]) -> sp.Matrix:
    """The Hessian matrix of ``expr``, on the symengine fast path when available."""
    try:
        from derivekit.calculus.fastdiff import hessian_matrix
    except ImportError:
        return sp.hessian(expr, list(wrt))
    return sp.Matrix(hessian_matrix(expr, list(wrt)))


def repeats_subexpressions(exprs: Iterable[sp.Basic], min_nodes: int = CSE_MIN_NODES) -> bool:
    """True when a compound sub-expression occurs twice or more (what a derivative does
    when it swells), so common-subexpression elimination will save work."""
    seen: set = set()
    nodes = 0
    repeated = False
    for e in exprs:
        for node in sp.preorder_traversal(e):
            nodes += 1
            if node.args and not node.is_Number:
                if node in seen:
                    repeated = True
                seen.add(node)
    return repeated and nodes >= min_nodes


def printing_swells(exprs: Iterable[sp.Basic], factor: float = 2.0) -> bool:
    """True when writing ``exprs`` out as trees (code without cse) takes more than ``factor``
    times the operations they have as a shared graph: a derivative of a deep chain repeats
    its inner functions, and only cse keeps the code from growing with every repeat. Names
    and numbers cost nothing to repeat, so only compound nodes count. Linear in the number
    of distinct nodes (each subtree's size is counted once and remembered)."""
    sizes: dict = {}

    def size(node) -> int:
        if not node.args:
            return 0
        known = sizes.get(node)
        if known is None:
            known = sizes[node] = 1 + sum(size(a) for a in node.args)
        return known

    tree = sum(size(e) for e in exprs)
    return tree > factor * len(sizes)


# --- compile -----------------------------------------------------------------------------

_JAX_NAMESPACE: dict | None = None


def _jax_namespace() -> dict:
    global _JAX_NAMESPACE
    if _JAX_NAMESPACE is None:
        try:
            import jax
            import jax.numpy as jnp
        except ImportError as exc:
            raise DerivekitError("backend 'jax' needs jax, which is not installed",
                                 hint="pip install 'derivekit[jax]', or use backend='numpy'") from exc
        jax.config.update("jax_enable_x64", True)
        _JAX_NAMESPACE = {
            "sigmoid": jax.nn.sigmoid, "softplus": jax.nn.softplus, "relu": jax.nn.relu,
            "leaky_relu": lambda z, slope=0.01: jnp.where(z > 0, z, slope * z),
            "elu": lambda z, alpha=1.0: jnp.where(z > 0, z, alpha * jnp.expm1(jnp.minimum(z, 0.0))),
            "silu": jax.nn.silu, "gelu": lambda z: jax.nn.gelu(z, approximate=False),
            "logsumexp": lambda *zs: jax.nn.logsumexp(jnp.stack(jnp.broadcast_arrays(*zs)), axis=0),
            "softmax": lambda i, *zs: jax.nn.softmax(jnp.stack(jnp.broadcast_arrays(*zs)), axis=0)[int(i) - 1],
            "erf": jax.scipy.special.erf,
        }
    return _JAX_NAMESPACE


#: functions lambdify leaves undefined. DiracDelta (the second derivative of a kink) is zero
#: everywhere it can be evaluated: away from the kink.
def _elementwise(scalar: Callable[[float], float]) -> Callable:
    """A ``math`` function applied entry by entry, nan where it raises (a pole, overflow)."""
    def safe(v):
        try:
            return scalar(float(v))
        except (ValueError, OverflowError, ZeroDivisionError):
            return float("nan")
    ufunc = np.frompyfunc(safe, 1, 1)
    return lambda z: np.asarray(ufunc(np.asarray(z, dtype=float)), dtype=float)


NUMPY_EXTRAS = {"DiracDelta": lambda z, k=0: np.zeros_like(np.asarray(z, dtype=float)),
                # lambdify's NumPy printer leaves these to the scalar math module
                "gamma": _elementwise(math.gamma), "loggamma": _elementwise(math.lgamma)}
MATH_EXTRAS = {"DiracDelta": lambda z, k=0: 0.0}


def _undefined_globals(function: Callable) -> list[str]:
    """Global names the generated code loads but its namespace does not define."""
    import dis
    names = {i.argval for i in dis.get_instructions(function) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    return sorted(n for n in names if n not in function.__globals__ and not hasattr(builtins, n))


def _modules(backend: str) -> list:
    from derivekit.parsing.functions import MATH_IMPLEMENTATIONS, NUMPY_IMPLEMENTATIONS
    if backend == "numpy":
        return [NUMPY_EXTRAS, NUMPY_IMPLEMENTATIONS, "numpy"]
    if backend == "math":
        return [MATH_EXTRAS, MATH_IMPLEMENTATIONS, "math"]
    if backend == "complex":  # internal: the complex-step gradient check
        from derivekit.numeric.finitediff import complex_modules
        return complex_modules()
    return [NUMPY_EXTRAS, _jax_namespace(), "jax"]


def _unordered_printer(modules: list):
    """lambdify's own NumPy printer, told to print sums and products in their stored order:
    sorting the terms of a large sum for display (``as_ordered_terms``) was the largest cost
    of compiling a 1000-variable objective, and code needs no display order."""
    from sympy.printing.numpy import NumPyPrinter
    names = {name: name for table in modules if isinstance(table, dict) for name in table}
    return NumPyPrinter({"fully_qualified_modules": False, "inline": True,
                         "allow_unknown_functions": True, "user_functions": names, "order": "none"})


#: the outermost operation of an entry, done by the ufunc into the output row
_LAST_OPERATION = {sp.Mul: np.multiply, sp.Add: np.add}


#: an entry with more terms or factors than this is split once, not tried every way: its
#: other part would be nearly the whole entry, which recurs elsewhere only by coincidence
MAX_SPLIT_CANDIDATES = 8


def _without(expr: sp.Expr, i: int) -> sp.Expr:
    """``expr`` with its ``i``-th argument removed. The terms of a canonical sum stay
    canonical when one is dropped, so that part is built directly from them (``_from_args``:
    O(k), where re-flattening and sorting cost O(k log k) compares). A product is rebuilt:
    dropping a factor can leave a number times a sum, which SymPy distributes (2·(2x − 2)
    is 4x − 4)."""
    rest = expr.args[:i] + expr.args[i + 1:]
    if len(rest) == 1:
        return rest[0]
    if isinstance(expr, sp.Add):
        return sp.Add._from_args(rest)
    if len(rest) == 2 and isinstance(rest[1], sp.Add) and is_power_of_two(rest[0]):
        return sp.Mul(*rest, evaluate=False)  # 2·(a + b) stays one scaling, as scaled_sum writes it
    return type(expr)(*rest)


def is_power_of_two(c: sp.Basic) -> bool:
    """c = ±2ᵏ for an integer k: scaling by it is exact in binary floating point."""
    if not isinstance(c, sp.Rational) or c == 0:
        return False
    p, q = abs(c.p), c.q
    return p & (p - 1) == 0 and q & (q - 1) == 0


def scaled_sum(expr: sp.Expr) -> sp.Expr:
    """A sum whose terms share a power-of-two factor, as that factor times one sum (kept
    unevaluated): 2a + 2b − 2y -> 2·(a + b − y). SymPy distributes a number over a sum, so
    ∂(r²)/∂b = 2r arrives as the expanded sum and cse would not see r in it; computed as
    2·r it is one multiply. Scaling by 2ᵏ is exact, so only the order in which the terms
    are added can change the last bits."""
    if not isinstance(expr, sp.Add):
        return expr
    content, primitive = expr.primitive()  # the terms divided, kept in order: no re-sorting
    if content == 1 or not is_power_of_two(content) or not isinstance(primitive, sp.Add):
        return expr
    return sp.Mul(content, primitive, evaluate=False)


def _candidate_splits(expr: sp.Expr) -> list[tuple]:
    if type(expr) not in _LAST_OPERATION or len(expr.args) < 2:
        return [(expr,)]
    picks = range(len(expr.args)) if len(expr.args) <= MAX_SPLIT_CANDIDATES else (0,)
    return [(expr.args[i], _without(expr, i)) for i in picks]


def split_last_operations(exprs: Sequence[sp.Expr]) -> list[tuple]:
    """Each entry as (expr,) or as two parts that its outermost product or sum combines:
    ``2·δ·x₁`` -> (x₁, 2·δ). Of the possible splits, the one whose other part recurs most
    among all entries wins (ties: the first), so cse computes that part once and each entry
    costs one ufunc call writing straight into the output. An entry that is itself another
    entry's shared part (∂/∂b₁ = δ where ∂/∂W₁ⱼ = δ·xⱼ) stays whole: cse computes it once, and
    its row is a copy."""
    candidates = [_candidate_splits(e) for e in exprs]
    counts: dict = {}
    for options in candidates:
        for option in options:
            if len(option) == 2:
                counts[option[1]] = counts.get(option[1], 0) + 1
    return [(e,) if counts.get(e, 0) else
            max(options, key=lambda o: counts.get(o[-1], 0) if len(o) == 2 else 0)
            for e, options in zip(exprs, candidates)]


_NOT_YET = object()


def _check_out(out, shape: tuple, dtype: np.dtype, arrays: list) -> None:
    """``out`` must be a writeable C-contiguous array of exactly the result's shape and dtype,
    sharing no memory with an input (chunks would read what earlier chunks wrote)."""
    if not isinstance(out, np.ndarray):
        raise DerivekitError(f"out= must be a NumPy array, not a {type(out).__name__}",
                             hint=f"e.g. out=np.empty({shape}, dtype={np.dtype(dtype).name!r})")
    if out.shape != shape or out.dtype != dtype:
        raise DerivekitError(f"out= has shape {out.shape} and dtype {out.dtype}; the result has "
                             f"shape {shape} and dtype {np.dtype(dtype)}",
                             hint=f"e.g. out=np.empty({shape}, dtype={np.dtype(dtype).name!r})")
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise DerivekitError("out= must be a writeable C-contiguous array",
                             hint="allocate it with np.empty(shape), not as a slice or transpose")
    if any(np.may_share_memory(out, a) for a in arrays):
        raise DerivekitError("out= shares memory with an input",
                             hint="give a separate array for the result")


def _complex_values_error() -> DerivekitError:
    return DerivekitError("the expression takes complex values at real inputs (it contains the "
                          "imaginary unit I, or an even root of a negative constant)",
                          hint="derivekit evaluates real-valued expressions; pass complex "
                               "arrays as inputs for complex arithmetic")


def _copy_real(out: np.ndarray, row: int, value) -> None:
    """``out[row] = value``, refusing a complex value for a real row (NumPy would drop its
    imaginary part with only a warning: a wrong number)."""
    if np.iscomplexobj(value) and not np.iscomplexobj(out):
        raise _complex_values_error()
    out[row] = value


@dataclass(eq=False)
class CompiledFunction:
    """A compiled expression, or grid of expressions, called as ``f(*arrays)``.

    NumPy backend: the inputs broadcast together to a batch shape ``B``; a scalar expression
    returns a float array of shape ``B``, a list or column/row vector of n entries an array
    ``(n, *B)``, an m×n matrix ``(m, n, *B)``. Every entry, constants included, fills the
    whole batch, and the dtype is float (complex when an input is complex), never object.
    ``f(*arrays, out=array)`` writes the result into a given array of that shape and dtype
    and returns it (see :meth:`evaluate_numpy`).
    Math backend: Python numbers in, a float (or a list of floats) out.
    """

    exprs: tuple[sp.Expr, ...]
    args: tuple[sp.Symbol, ...]
    shape: tuple[int, ...]          # () scalar, (n,) vector, (m, n) matrix
    backend: str
    cse: bool
    _numpy: Callable | None = field(default=None, repr=False)
    _math: Callable | None = field(default=None, repr=False)
    _jax: Callable | None = field(default=None, repr=False)
    _ops: list | None = field(default=None, repr=False)
    _split: list | None = field(default=None, repr=False)
    _in_place: Any = field(default=_NOT_YET, repr=False)  # InPlace, or None; _NOT_YET until first use
    _results: ResultPool = field(default_factory=ResultPool, repr=False)

    def _lambdify(self, backend: str) -> Callable:
        target = self.exprs[0] if self.shape == () else list(self.exprs)
        if backend == "math" and self.shape != ():
            target = [sp.Float(e) if e.is_number else e for e in self.exprs]
        if backend in ("numpy", "complex") and self.shape != ():
            # each entry a·rest (or a + rest) comes back as a, rest (a flat list, so that cse
            # sees everything) and the ufunc writes it straight into the output row
            target = [part for split in self._splits for part in split]
        modules = _modules(backend)
        function = sp.lambdify(self.args, target, modules=modules, cse=self.cse,
                               printer=_unordered_printer(modules) if backend == "numpy" else None)
        missing = _undefined_globals(function)
        if missing:  # lambdify prints what its backend lacks by name, to fail when called
            raise UnsupportedError(f"cannot evaluate {', '.join(missing)} numerically with the "
                                   f"{backend} backend", hint="derivekit can still differentiate it "
                                   "symbolically; numeric checks need functions NumPy can evaluate")
        return function

    @property
    def numpy_function(self) -> Callable:
        if self._numpy is None:
            self._numpy = self._lambdify("complex" if self.backend == "complex" else "numpy")
        return self._numpy

    @property
    def math_function(self) -> Callable:
        if self._math is None:
            self._math = self._lambdify("math")
        return self._math

    def __call__(self, *values, out: np.ndarray | None = None):
        if len(values) != len(self.args):
            names = ", ".join(a.name for a in self.args)
            raise DerivekitError(f"this function takes {len(self.args)} inputs ({names}), "
                                 f"got {len(values)}", hint="pass one value or array per input, in order")
        if out is not None:
            if self.backend not in ("auto", "numpy", "complex"):
                raise DerivekitError(f"out= is for the NumPy backend, not {self.backend!r}",
                                     hint="compile with backend='numpy' to write into an array")
            return self.evaluate_numpy(*values, out=out)
        if self.backend == "math":
            return self.math_function(*values)
        if self.backend == "jax":
            return self._evaluate_jax(*values)
        if self.backend == "auto" and all(type(v) in (float, int) for v in values):
            try:
                result = self.math_function(*values)
            except (ValueError, OverflowError, ZeroDivisionError, TypeError, UnsupportedError):
                pass  # outside math's domain (NumPy gives inf/nan), or a function math lacks
            else:
                # math returns a complex number for a negative base to a fractional power;
                # NumPy's float route gives nan there, as everywhere outside the domain
                if not any(isinstance(r, complex) for r in np.ravel(np.asarray(result, dtype=object))):
                    if self.shape == ():
                        return np.float64(result)
                    return np.asarray(result, dtype=float).reshape(self.shape)
        return self.evaluate_numpy(*values)

    def _evaluate_jax(self, *values):
        """jax arrays, with the same shape rule as the NumPy backend."""
        import jax.numpy as jnp
        if self._jax is None:
            self._jax = self._lambdify("jax")
        raw = self._jax(*values)
        batch = jnp.broadcast_shapes(*(jnp.shape(v) for v in values)) if values else ()
        if self.shape == ():
            return jnp.broadcast_to(jnp.asarray(raw, dtype=float), batch)
        rows = [jnp.broadcast_to(jnp.asarray(r, dtype=float), batch) for r in raw]
        return jnp.stack(rows).reshape(self.shape + tuple(batch))

    def evaluate_numpy(self, *values, out: np.ndarray | None = None) -> np.ndarray:
        """Evaluate on arrays with the NumPy backend (what ``__call__`` does for arrays).

        Large batches run in chunks of :data:`CHUNK` points, so that the temporaries of a
        long (cse) expression stay in cache; inputs are then scalars or full-batch arrays.
        ``out``, as for NumPy's ufuncs: a C-contiguous array of the result's shape and dtype
        to write into and return. Without it a large result comes from the function's
        :class:`~derivekit.numeric.result_pool.ResultPool`: an array it returned before and
        nobody holds any more, so that a loop does not pay for the system zeroing fresh
        memory on every call (for a 49-entry gradient on 10⁵ points, about a third of it).
        """
        arrays = [np.asarray(v) for v in values]
        batch = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        dtype = np.result_type(float, *(a.dtype for a in arrays))
        size = int(np.prod(batch))
        rows = len(self.exprs)
        if out is not None:
            _check_out(out, self.shape + batch, dtype, arrays)
        if size > 2 * CHUNK and all(a.size == 1 or a.shape == batch for a in arrays):
            flat = [a.reshape(()) if a.size == 1 else a.reshape(-1) for a in arrays]
            result = out
            out = self._results.empty((rows, size), dtype) if result is None else result.reshape(rows, size)
            code = self._in_place_code
            workspace = np.empty((code.slots, CHUNK), dtype=dtype) if code else None
            for start in range(0, size, CHUNK):
                piece = slice(start, min(start + CHUNK, size))
                self._fill(out[:, piece], [a if a.ndim == 0 else a[piece] for a in flat],
                           None if workspace is None else workspace[:, :piece.stop - start])
        else:
            result = out
            out = self._results.empty((rows, *batch), dtype) if result is None else result.reshape(rows, *batch)
            self._fill(out, arrays)
        return out.reshape(self.shape + batch) if result is None else result

    def _fill(self, out: np.ndarray, arrays: list, workspace: np.ndarray | None = None) -> None:
        """Evaluate into ``out`` (rows: entries; constants and partial shapes broadcast),
        with the cse variables in ``workspace`` (one row each) when one is given."""
        with np.errstate(under="ignore"):  # exp(-1000) -> 0.0 is the right answer, not an error
            try:
                raw = self._evaluate(arrays, workspace)
            except OverflowError:  # an exact integer such as 10^999 has no float value
                raise DerivekitError("a number in the expression is too large for floating "
                                     "point (past about 1.8e308)",
                                     hint="use smaller constants, or write them as floats "
                                          "such as 1e300") from None
        if self.shape == ():
            _copy_real(out, 0, raw)
            return
        k = 0
        for i, operation in enumerate(self._operations):
            if operation is None:
                _copy_real(out, i, raw[k])
                k += 1
            else:
                try:
                    operation(raw[k], raw[k + 1], out=out[i, ...])
                except OverflowError:
                    raise DerivekitError("a number in the expression is too large for floating "
                                         "point (past about 1.8e308)",
                                         hint="use smaller constants, or write them as floats "
                                              "such as 1e300") from None
                except TypeError:  # a complex result cannot be written into a real row
                    raise _complex_values_error() from None
                k += 2

    def _evaluate(self, arrays: list, workspace: np.ndarray | None):
        if workspace is not None:
            try:
                return self._in_place_code.function(workspace, *arrays)
            except TypeError:  # a complex intermediate cannot go into a real workspace row
                pass
        return self.numpy_function(*arrays)

    @property
    def _in_place_code(self) -> InPlace | None:
        """The NumPy code with its cse variables written into a workspace (None: no cse,
        or nothing to write in place)."""
        if self._in_place is _NOT_YET:
            self._in_place = in_place(self.numpy_function) if self.cse else None
        return self._in_place

    @property
    def _splits(self) -> list[tuple]:
        if self._split is None:
            # a 2ᵏ-scaled sum pays only when cse shares the sum with other entries
            entries = [scaled_sum(e) for e in self.exprs] if self.cse else list(self.exprs)
            self._split = split_last_operations(entries)
            self._ops = [_LAST_OPERATION[type(e)] if len(split) == 2 else None
                         for e, split in zip(entries, self._split)]
        return self._split

    @property
    def _operations(self) -> list:
        """Per entry: the ufunc that combines its two parts, or None (one part)."""
        if self._ops is None:
            self._splits  # computes both
        return self._ops

    def __repr__(self) -> str:
        names = ", ".join(a.name for a in self.args)
        what = "expression" if self.shape == () else "×".join(map(str, self.shape)) + " array"
        return f"<compiled {what} of ({names}), backend={self.backend}, cse={self.cse}>"


@too_deep_is_a_limit
def compile(expr: Any, args: Any, backend: str = "auto", cse: bool | None = None) -> CompiledFunction:
    """Compile ``expr`` (an expression, or a list / Matrix of them, or the result of
    :func:`derivekit.calculus.derive` / ``gradient`` / ``jacobian`` / ``hessian``) into ``f(*args)``.

    ``args`` are names or Symbols, in call order (``"x, y"`` also works). ``cse=None``
    switches common-subexpression elimination on when the expression repeats
    sub-expressions so much that code written without it would swell (more than twice the
    operations: a derivative of a deep chain). See :class:`CompiledFunction` for shapes and backends.

    >>> f = compile("x**2*y", "x, y"); f(np.array([1.0, 2.0]), 3.0)
    array([ 3., 12.])
    """
    if backend not in BACKENDS + _INTERNAL_BACKENDS:
        raise DerivekitError(f"unknown backend '{backend}'", hint="use one of " + ", ".join(BACKENDS))
    from derivekit.calculus.steps import Derivation, MatrixOfDerivations
    if isinstance(expr, (Derivation, MatrixOfDerivations)):
        expr = expr.result  # dk.compile(dk.hessian(f, wrt), wrt): the derived result
    if isinstance(expr, sp.MatrixBase):
        shape = (len(expr),) if 1 in expr.shape else tuple(expr.shape)
        exprs = tuple(expr)
    elif isinstance(expr, (list, tuple)):
        exprs = tuple(as_expr(e) for e in expr)
        shape = (len(exprs),)
    else:
        exprs = (as_expr(expr),)
        shape = ()
    if not exprs:
        raise DerivekitError("nothing to compile: the list of expressions is empty")
    _refuse_symbolic_only(exprs)
    symbols = as_symbols(args, exprs)
    if len(set(symbols)) != len(symbols):
        raise DerivekitError("a variable is listed twice in args", hint="list each input once")
    missing = set().union(*(e.free_symbols for e in exprs)) - set(symbols)
    if missing:
        names = ", ".join(sorted(s.name for s in missing))
        raise DerivekitError(f"the expression uses {names}, which args does not list",
                             hint=f"add {names} to args, or substitute values first")
    if backend == "jax":
        _jax_namespace()  # fail now, with the install hint, rather than on the first call
    if backend in ("auto", "numpy", "math"):  # written-out log(1 + exp(z)) & co: built-ins
        from derivekit.numeric.stable_forms import stable_forms
        exprs = tuple(stable_forms(e) for e in exprs)
    if cse is None:  # cse costs compile time (45 s on a 1000-entry Rosenbrock gradient);
        # it pays where the code would swell without it
        cse = repeats_subexpressions(exprs) and printing_swells(exprs)
    return CompiledFunction(exprs=exprs, args=symbols, shape=shape, backend=backend, cse=bool(cse))


def _refuse_symbolic_only(exprs) -> None:
    """An undefined function ``f(x)`` or a derivative SymPy left unevaluated (of ``norm(x)``
    with a scalar ``x``, say) has no numbers: say so instead of failing in code generation."""
    from sympy.core.function import AppliedUndef
    for e in exprs:
        found = next(iter(e.atoms(AppliedUndef)), None) or next(iter(e.atoms(sp.Derivative)), None)
        if found is not None:
            raise DerivekitError(f"cannot evaluate {found} numerically: it is "
                                 + ("an undefined function" if isinstance(found, AppliedUndef)
                                    else "a derivative derivekit could not work out"),
                                 hint="give a formula, e.g. x^2 + 1 instead of f(x); for a "
                                      "vector norm use sqrt(x^2 + y^2)")


@too_deep_is_a_limit
def compile_gradient(expr: Any, wrt: Any, args: Any = None, backend: str = "auto",
                     cse: bool | None = None) -> CompiledFunction:
    """Compile the gradient of ``expr`` with respect to ``wrt`` as a function of ``args``
    (default: ``wrt`` followed by the other free symbols, by name). ``cse=None`` switches
    cse on when the gradient has swollen relative to the function (or repeats itself)."""
    expr = as_expr(expr)
    wrt_symbols = as_symbols(wrt, [expr])
    arg_symbols = as_symbols(args, [expr]) if args is not None else ordered_args(expr, wrt_symbols)
    grads = gradient_exprs(expr, wrt_symbols)
    if cse is None:
        swelled = sum(sp.count_ops(g) for g in grads) > 2 * builtins.max(1, sp.count_ops(expr))
        cse = swelled or repeats_subexpressions(grads)
    return compile(grads, arg_symbols, backend=backend, cse=cse)


def ordered_args(expr: sp.Basic, first: Sequence[sp.Symbol] = ()) -> tuple[sp.Symbol, ...]:
    """``first``, then the other free symbols of ``expr`` sorted by name."""
    rest = sorted(expr.free_symbols - set(first), key=lambda s: s.name)
    return tuple(first) + tuple(rest)


# gradcheck and its report live in derivekit.numeric.finitediff; they are public here (dk.gradcheck)
def __getattr__(name: str):
    if name in ("gradcheck", "GradCheck", "DEFAULT_ATOL", "DEFAULT_RTOL"):
        from derivekit.numeric import finitediff
        return getattr(finitediff, name)
    raise AttributeError(f"module 'derivekit.numeric.compiled' has no attribute {name!r}")
