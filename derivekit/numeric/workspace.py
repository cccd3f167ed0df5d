"""Generated NumPy code whose cse variables are written into a reused workspace.

lambdify's code with cse assigns each common sub-expression to a fresh array
(``x7 = x3*x5``). On a chunked batch, all of them are freed when each chunk returns, and
glibc gives the freed top of the heap back to the system (more than 128 KiB free there), so
every chunk page-faults its few MB of temporaries in again: for a 49-entry MLP gradient that
cost more than the arithmetic. :func:`in_place` rewrites each such assignment whose last
operation is a ufunc to write into a row of a workspace that the caller allocates once per
batch (``x7 = _np.multiply(x3, x5, out=_ws[0])``). The operations and their order are
lambdify's own, so the numbers are bitwise the same. Called with ``_ws = NO_WORKSPACE``,
every ``out=`` is None and the function allocates as before (broadcast shapes, one point).
"""

from __future__ import annotations

import ast
import inspect
import itertools
import linecache
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: the binary operators of generated code and the ufunc each one is
_UFUNC_OF_OPERATOR = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply",
                      ast.Div: "true_divide"}

_names = itertools.count()


class _NoWorkspace:
    """Stands in for the workspace where there is none: every slot is ``out=None``."""

    def __getitem__(self, slot: int) -> None:
        return None


NO_WORKSPACE = _NoWorkspace()


@dataclass(frozen=True)
class InPlace:
    """``function(_ws, *args)``: the generated code with ``slots`` workspace rows."""

    function: Callable
    slots: int


def _ufunc_call(value: ast.expr, slot: int) -> ast.expr | None:
    """``a*b`` -> ``_np.multiply(a, b, out=_ws[slot])``, ``-a`` -> ``_np.negative(a, ...)``;
    None for anything else (a function call, a power: left as generated)."""
    out = ast.keyword(arg="out", value=ast.Subscript(value=ast.Name("_ws", ast.Load()),
                                                     slice=ast.Constant(slot), ctx=ast.Load()))
    if isinstance(value, ast.BinOp) and type(value.op) in _UFUNC_OF_OPERATOR:
        name, args = _UFUNC_OF_OPERATOR[type(value.op)], [value.left, value.right]
    elif isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        name, args = "negative", [value.operand]
    else:
        return None
    return ast.Call(func=ast.Attribute(value=ast.Name("_np", ast.Load()), attr=name, ctx=ast.Load()),
                    args=args, keywords=[out])


def in_place(function: Callable) -> InPlace | None:
    """The lambdify-generated ``function`` rewritten to take a workspace first; None when it
    assigns no variable a ufunc result (nothing to gain) or its source is not available."""
    try:
        tree = ast.parse(inspect.getsource(function))
    except (OSError, TypeError, SyntaxError):
        return None
    definition = tree.body[0]
    if not isinstance(definition, ast.FunctionDef):
        return None
    slots = 0
    for statement in definition.body:
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            call = _ufunc_call(statement.value, slots)
            if call is not None:
                statement.value = call
                slots += 1
    if slots == 0:
        return None
    definition.args.args.insert(0, ast.arg(arg="_ws"))
    ast.fix_missing_locations(tree)
    source = ast.unparse(tree) + "\n"
    filename = f"<derivekit-in-place-{next(_names)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = dict(function.__globals__, _np=np)
    exec(compile(source, filename, "exec"), namespace)  # lambdify's own code, rewritten
    rewritten = namespace[definition.name]
    weakref.finalize(rewritten, linecache.cache.pop, filename, None)  # as lambdify does
    return InPlace(rewritten, slots)
