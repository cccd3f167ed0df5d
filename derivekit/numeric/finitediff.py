"""Numerical derivatives by finite differences, each method one batched call.

Every method builds all its perturbed points first and evaluates the function once on the
whole batch (the function is a NumPy-compiled callable that broadcasts), so a gradient in
N variables costs one call on 2N·n points, not 2N Python calls.

===================  ==========================================  ============  ==============
method               formula                                     default step  error
===================  ==========================================  ============  ==============
``central``          (f(x+h·eᵢ) − f(x−h·eᵢ)) / 2h                1e-6          O(h²) + ε/h
``complex``          Im f(x + i·h·eᵢ) / h   (analytic f only)    1e-20         ~1e-15 relative
``richardson``       (4·D(h/2) − D(h)) / 3, D the central one    1e-3          O(h⁴) + ε/h
``random_direction`` (f(x+h·u) − f(x−h·u)) / 2h vs ∇f·u          1e-6          as central
===================  ==========================================  ============  ==============

``central`` and ``random_direction`` follow ``torch.autograd.gradcheck`` (its
``fast_mode`` is the random-direction check). :func:`gradcheck` (public as ``dk.gradcheck``)
runs one of them against an analytic gradient and reports a :class:`GradCheck`.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from derivekit import limits
from derivekit.display import Displayable
from derivekit.errors import DerivekitError, LimitError

METHODS = ("central", "complex", "richardson", "random_direction")
DEFAULT_STEP = {"central": 1e-6, "complex": 1e-20, "richardson": 1e-3, "random_direction": 1e-6}


def _batched(points: np.ndarray, wrt: list[int], offsets: list[float], dtype=float) -> np.ndarray:
    """Columns ``(K, len(offsets)·N, n)``: for each wrt variable i and offset o, the points
    with coordinate wrt[i] moved by o. Returned as one array per input variable."""
    n, k = points.shape
    m = len(offsets)
    cols = np.empty((k, len(wrt) * m, n), dtype=dtype)
    cols[:] = points.T[:, None, :]
    rows = np.arange(len(wrt) * m)
    variables = np.repeat(np.asarray(wrt, dtype=int), m)
    cols[variables, rows, :] += np.tile(np.asarray(offsets, dtype=dtype), len(wrt))[:, None]
    return cols


def _call(f: Callable, cols: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(f(*cols))


def central(f: Callable, points: np.ndarray, wrt: list[int], h: float) -> np.ndarray:
    """∂f/∂x_i at each point, shape ``(len(wrt), n)``, by central differences."""
    v = _call(f, _batched(points, wrt, [h, -h]))
    return (v[0::2] - v[1::2]) / (2 * h)


def richardson(f: Callable, points: np.ndarray, wrt: list[int], h: float) -> np.ndarray:
    """Central differences at h and h/2 combined to cancel the h² error term."""
    v = _call(f, _batched(points, wrt, [h, -h, h / 2, -h / 2]))
    coarse = (v[0::4] - v[1::4]) / (2 * h)
    fine = (v[2::4] - v[3::4]) / h
    return (4 * fine - coarse) / 3


def complex_step(f: Callable, points: np.ndarray, wrt: list[int], h: float) -> np.ndarray:
    """Im f(x + i·h·e_i) / h: no subtraction, so no cancellation error, for analytic f."""
    v = _call(f, _batched(points, wrt, [1j * h], dtype=complex))
    if not np.iscomplexobj(v):
        raise DerivekitError("the function dropped the imaginary part of its input",
                             hint="use method='central' for this expression")
    return v.imag / h


def directional(f: Callable, points: np.ndarray, directions: np.ndarray, h: float) -> np.ndarray:
    """(f(x + h·u) − f(x − h·u)) / 2h for each direction u (rows of ``directions``, over
    all K inputs), at each point: shape ``(len(directions), n)``."""
    n, k = points.shape
    d = len(directions)
    cols = np.empty((k, 2 * d, n))
    cols[:] = points.T[:, None, :]
    cols[:, 0::2, :] += h * directions.T[:, :, None]
    cols[:, 1::2, :] -= h * directions.T[:, :, None]
    v = _call(f, cols)
    return (v[0::2] - v[1::2]) / (2 * h)


# --- complex-safe implementations for the complex step ----------------------------------
# The stable real implementations in derivekit.parsing.functions cast to float; these keep the
# imaginary part. Kinks use the sign of the real part (the complex-step convention).

def _c_sigmoid(z):
    z = np.asarray(z, dtype=complex)
    pos = z.real >= 0
    e = np.exp(np.where(pos, -z, z))
    return np.where(pos, 1 / (1 + e), e / (1 + e))


def _c_softplus(z):
    z = np.asarray(z, dtype=complex)
    pos = z.real >= 0
    return np.where(pos, z, 0) + np.log1p(np.exp(np.where(pos, -z, z)))


def _c_logsumexp(*zs):
    stacked = np.stack(np.broadcast_arrays(*[np.asarray(z, dtype=complex) for z in zs]))
    shift = np.max(stacked.real, axis=0)
    return shift + np.log(np.sum(np.exp(stacked - shift), axis=0))


def _c_softmax(index, *zs):
    stacked = np.stack(np.broadcast_arrays(*[np.asarray(z, dtype=complex) for z in zs]))
    weights = np.exp(stacked - np.max(stacked.real, axis=0))
    return weights[int(index) - 1] / np.sum(weights, axis=0)


def _c_where_positive(z, then, otherwise):
    z = np.asarray(z, dtype=complex)
    return np.where(z.real > 0, then(z), otherwise(z))


def _not_analytic(name):
    def fail(*args):
        raise DerivekitError(f"the complex step cannot evaluate {name}",
                             hint="use method='central' or 'richardson' for this expression")
    return fail


COMPLEX_IMPLEMENTATIONS = {
    "sigmoid": _c_sigmoid,
    "softplus": _c_softplus,
    "silu": lambda z: np.asarray(z, dtype=complex) * _c_sigmoid(z),
    "relu": lambda z: _c_where_positive(z, lambda u: u, lambda u: 0 * u),
    "leaky_relu": lambda z, slope=0.01: _c_where_positive(z, lambda u: u, lambda u: slope * u),
    "elu": lambda z, alpha=1.0: _c_where_positive(z, lambda u: u, lambda u: alpha * np.expm1(u)),
    "logsumexp": _c_logsumexp,
    "softmax": _c_softmax,
    "Abs": lambda z: np.asarray(z, dtype=complex) * np.sign(np.real(z)),
    "abs": lambda z: np.asarray(z, dtype=complex) * np.sign(np.real(z)),
    "erf": _not_analytic("erf"),
    "gelu": _not_analytic("GELU (it uses erf)"),
    "DiracDelta": lambda z, k=0: np.zeros_like(np.asarray(z, dtype=complex)),
}


def complex_modules() -> list:
    return [COMPLEX_IMPLEMENTATIONS, "numpy"]


# --- gradcheck ---------------------------------------------------------------------------

#: torch.autograd.gradcheck's defaults: a component passes when |a − n| ≤ atol + rtol·|n|
DEFAULT_ATOL, DEFAULT_RTOL = 1e-5, 1e-3


@dataclass(eq=False)
class GradCheck(Displayable):
    """The result of :func:`gradcheck`.

    ``analytic`` and ``numeric`` have shape ``(len(components), n_points)``; ``components``
    are the ``wrt`` names (or ``"direction k"`` for the random-direction method).
    ``abs_errors`` / ``rel_errors`` map each component to its largest error over the points;
    the relative error is ``|a − n| / max(|a|, |n|)`` (0 where both are 0). ``failing``
    lists the components where some point breaks ``|a − n| ≤ atol + rtol·|n|``.
    """

    ok: bool
    method: str
    eps: float
    atol: float
    rtol: float
    components: tuple[str, ...]
    point_names: tuple[str, ...]
    points: np.ndarray
    analytic: np.ndarray
    numeric: np.ndarray
    abs_errors: dict[str, float]
    rel_errors: dict[str, float]
    failing: list[str]
    source: str = "derivekit"     # whose gradient was checked: "derivekit" or "claim"
    #: why nothing could be compared (then ``ok`` is False and the CLI exits 2), or None
    cannot_check: str | None = None
    #: remarks: points dropped as non-finite, a symbolic decision for abstract functions
    notes: list[str] = field(default_factory=list)
    #: True when no finite differences were taken (abstract functions: decided symbolically)
    symbolic: bool = False

    @property
    def decided(self) -> bool:
        """False when the result is "cannot check"."""
        return self.cannot_check is None

    @property
    def status(self) -> str:
        """"passed", "failed" or "cannot check"."""
        return "cannot check" if self.cannot_check else ("passed" if self.ok else "failed")

    @property
    def max_abs_error(self) -> float:
        return builtins.max(self.abs_errors.values(), default=0.0)

    @property
    def max_rel_error(self) -> float:
        return builtins.max(self.rel_errors.values(), default=0.0)

    def point_dicts(self) -> list[dict[str, float]]:
        return [dict(zip(self.point_names, map(float, row))) for row in self.points]

    def _worst(self, i: int) -> int | None:
        errors = np.abs(self.analytic[i] - self.numeric[i])
        return int(np.nanargmax(errors)) if np.isfinite(errors).any() else None

    def _render(self, fmt: str, **settings):
        status = {"passed": "passed", "failed": "FAILED", "cannot check": "cannot check"}[self.status]
        head = (f"gradcheck {status}: {self.method} differences (h = {self.eps:g}), "
                f"atol = {self.atol:g}, rtol = {self.rtol:g}, {len(self.points)} point(s), "
                f"{'derivekit' if self.source == 'derivekit' else 'claimed'} gradient")
        symbolic_only = self.symbolic
        if symbolic_only:
            head = (f"gradcheck {status}: {'claimed' if self.source == 'claim' else 'derivekit'} gradient, "
                    "no finite differences")
        extra = ([f"reason: {self.cannot_check}"] if self.cannot_check else []) + [f"note: {n}" for n in self.notes]
        if fmt == "dict":
            return {"ok": self.ok, "status": self.status, "cannot_check": self.cannot_check,
                    "notes": list(self.notes), "method": self.method, "eps": self.eps, "atol": self.atol,
                    "rtol": self.rtol, "source": self.source,
                    "max_abs_error": self.max_abs_error, "max_rel_error": self.max_rel_error,
                    "components": [{"name": c, "max_abs_error": self.abs_errors[c],
                                    "max_rel_error": self.rel_errors[c], "ok": c not in self.failing}
                                   for c in self.components],
                    "failing": list(self.failing), "points": self.point_dicts()}
        if fmt == "latex" and settings.get("document"):
            return self._document_latex(head, extra, symbolic_only or bool(self.cannot_check))
        if (symbolic_only or self.cannot_check) and fmt != "dict":
            if fmt == "latex":
                return rf"\text{{{'; '.join([head, *extra])}}}"
            if fmt == "markdown":
                return "\n".join([f"**{head}**", "", *(f"- {e}" for e in extra)])
            return "\n".join([head, *extra])
        rows = [(c, f"{self.abs_errors[c]:.2e}", f"{self.rel_errors[c]:.2e}",
                 "FAIL" if c in self.failing else "ok") for c in self.components]
        lines: list[str] = []
        if fmt == "latex":
            head = "; ".join([head, *extra])
            body = r" \\ ".join(rf"\text{{{c}}} & {a} & {r} & \text{{{s}}}" for c, a, r, s in rows)
            return (rf"\text{{{head}}}\\ \begin{{array}}{{lrrl}} \text{{component}} & "
                    rf"\text{{max abs}} & \text{{max rel}} & \\ \hline {body} \end{{array}}")
        if fmt == "markdown":
            lines = [f"**{head}**", "", *(f"- {e}" for e in extra), *([""] if extra else []),
                     "| component | max abs error | max rel error | |", "|---|---:|---:|---|"] + [f"| {c} | {a} | {r} | {s} |" for c, a, r, s in rows]
        else:
            width = builtins.max(len("component"), *(len(c) for c in self.components))
            lines = [head, *extra, f"  {'component'.ljust(width)}  max abs error  max rel error",
                     *(f"  {c.ljust(width)}  {a:>13}  {r:>13}  {s}" for c, a, r, s in rows)]
        for c in self.failing:
            i = self.components.index(c)
            j = self._worst(i) if len(self.points) and not self.symbolic else None
            if j is None:
                continue
            where = ", ".join(f"{k} = {v:.6g}" for k, v in self.point_dicts()[j].items())
            lines.append(f"{'- ' if fmt == 'markdown' else '  '}{c}: analytic {self.analytic[i, j]:.10g} "
                         f"vs numeric {self.numeric[i, j]:.10g} at {where}")
        return "\n".join(lines)


    def _failures(self) -> list[str]:
        """One line per failing component: analytic against numeric at its worst point."""
        lines = []
        for c in self.failing:
            i = self.components.index(c)
            j = self._worst(i) if len(self.points) and not self.symbolic else None
            if j is not None:
                where = ", ".join(f"{k} = {v:.6g}" for k, v in self.point_dicts()[j].items())
                lines.append(f"{c}: analytic {self.analytic[i, j]:.10g} vs numeric "
                             f"{self.numeric[i, j]:.10g} at {where}")
        return lines

    def _document_latex(self, head: str, extra: list[str], no_table: bool) -> str:
        """LaTeX for a document's body: the verdict and notes as paragraphs that wrap, the
        errors as a text-mode table."""
        from derivekit.render.docblocks import prose
        out = [r"\noindent " + prose(head)] + [r"\par\noindent " + prose(e) for e in extra]
        if not no_table:
            rows = [rf"{prose(c)} & {self.abs_errors[c]:.2e} & {self.rel_errors[c]:.2e} & "
                    rf"{'FAIL' if c in self.failing else 'ok'} \\" for c in self.components]
            out += [r"\par\medskip\noindent\begin{tabular}{lrrl}",
                    r"component & max abs error & max rel error & \\ \hline", *rows, r"\end{tabular}"]
        out += [r"\par\noindent " + prose(line) for line in self._failures()]
        return "\n".join(out)


def _points_from(at: Any, names: tuple[str, ...]) -> np.ndarray:
    """User points as an array ``(n, K)``: a dict name -> value/array, a list of such dicts,
    or an array ``(K,)`` / ``(n, K)`` in argument order."""
    if isinstance(at, dict):
        key_of = {str(k): v for k, v in at.items()}
        missing = [n for n in names if n not in key_of]
        if missing:
            raise DerivekitError(f"the point gives no value for {', '.join(missing)}",
                                 hint="give every variable a value: at={" + ", ".join(f"'{n}': ..." for n in names) + "}")
        columns = np.broadcast_arrays(*[np.atleast_1d(np.asarray(key_of[n], dtype=float)) for n in names])
        return np.stack([c.ravel() for c in columns], axis=1)
    if isinstance(at, (list, tuple)) and at and isinstance(at[0], dict):
        return np.concatenate([_points_from(p, names) for p in at])
    arr = np.asarray(at, dtype=float)
    if arr.ndim == 1 and arr.shape[0] == len(names):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != len(names):
        raise DerivekitError(f"points must have {len(names)} coordinates ({', '.join(names)}), "
                             f"got an array of shape {arr.shape}", hint="or give a dict {name: value}")
    return arr


def _check_settings(h: float, atol: float, rtol: float, n_points: int, directions: int) -> None:
    """A step, tolerances and counts that can give a meaningful answer, or a clear error."""
    if not (math.isfinite(h) and h > 0):
        raise DerivekitError(f"the finite-difference step must be a positive finite number, "
                             f"not {h:g}", hint="e.g. --eps 1e-6, or leave it out for the default")
    for name, value in (("atol", atol), ("rtol", rtol)):
        if not (math.isfinite(float(value)) and value >= 0):
            raise DerivekitError(f"{name} must be a finite number ≥ 0, not {value:g}",
                                 hint=f"e.g. --{name} 1e-5")
    if not 1 <= int(n_points) <= limits.MAX_POINTS:
        raise LimitError(f"the number of points must be between 1 and {limits.MAX_POINTS}, "
                         f"not {n_points}", hint="e.g. --points 10")
    if not 1 <= int(directions) <= 1_000:
        raise DerivekitError(f"directions must be between 1 and 1000, not {directions}")


def gradcheck(expr: Any, claim: Any = None, at: Any = None, wrt: Any = None, *,
              method: str = "central", eps: float | None = None, atol: float = DEFAULT_ATOL,
              rtol: float = DEFAULT_RTOL, n_points: int = 10, seed: int | None = 0,
              directions: int = 4) -> GradCheck:
    """Check a gradient of ``expr`` against finite differences.

    ``claim`` is the gradient to check: one expression per ``wrt`` variable (a list, a
    Matrix, or text such as ``"[2*x*y, x^2]"``), a callable ``claim(*columns) -> (N, n)``,
    or None to check derivekit's own gradient. ``wrt`` defaults to every free symbol, by
    name; other free symbols are inputs held fixed. ``at`` gives the points (a dict, a list
    of dicts, or an array in ``wrt``-then-others order); otherwise ``n_points`` are sampled
    inside the domain, away from kinks and poles.

    ``method`` is "central" (torch's default), "complex", "richardson" or
    "random_direction" (torch's fast mode: ``directions`` random unit vectors); ``eps``
    defaults per method (see :mod:`derivekit.numeric.finitediff`). A component passes where
    ``|analytic − numeric| ≤ atol + rtol·|numeric|`` at every point (torch's test).
    """
    from derivekit.numeric.compiled import (
        as_expr,
        as_expr_list,
        as_symbols,
        compile,
        gradient_exprs,
        ordered_args,
        printing_swells,
    )
    from derivekit.numeric.sampling import sample_points

    if method not in METHODS:
        raise DerivekitError(f"unknown method '{method}'", hint="use one of " + ", ".join(METHODS))
    from derivekit.numeric.abstract import abstract_names, realise_derivatives

    h = float(eps) if eps is not None else DEFAULT_STEP[method]
    _check_settings(h, atol, rtol, n_points if at is None else 1, directions)
    f_expr = realise_derivatives(as_expr(expr))
    wrt_symbols = as_symbols(wrt, [f_expr]) if wrt is not None else ordered_args(f_expr)
    if not wrt_symbols:
        raise DerivekitError("the expression has no variables to differentiate",
                             hint="give wrt=..., e.g. wrt=['x']")
    claim_exprs: list[sp.Expr] | None = None
    if claim is not None and not callable(claim):
        claim_exprs = [realise_derivatives(c) for c in as_expr_list(claim)]
        if len(claim_exprs) != len(wrt_symbols):
            raise DerivekitError(f"the claim has {len(claim_exprs)} component(s) but wrt lists "
                                 f"{len(wrt_symbols)} variable(s)", hint="give one component per wrt variable")
    names = abstract_names([f_expr, *(claim_exprs or [])])
    if names:
        return _abstract_gradcheck(f_expr, claim_exprs, wrt_symbols, names, method, h, atol, rtol, seed)
    everything = [f_expr] + (claim_exprs or [])
    args = ordered_args(sp.Tuple(*everything), wrt_symbols)
    names = tuple(a.name for a in args)

    f_num = compile(f_expr, args, backend="numpy")
    if claim is None:
        # a check evaluates a few points: cse pays only where the code would swell without it
        grads = gradient_exprs(f_expr, wrt_symbols)
        grad_fn = compile(grads, args, backend="numpy", cse=printing_swells(grads))
        sampled_exprs, sampled_fns = everything + grads, [f_num, grad_fn]
    elif claim_exprs is not None:
        grad_fn = compile(claim_exprs, args, backend="numpy")
        sampled_exprs, sampled_fns = everything, [f_num, grad_fn]
    else:
        grad_fn = claim
        sampled_exprs, sampled_fns = everything, None

    points = (_points_from(at, names) if at is not None
              else sample_points(sampled_exprs, args, n_points, seed=seed, compiled=sampled_fns))
    if len(points) > limits.MAX_POINTS:
        raise LimitError(f"{len(points)} points to check; the limit is {limits.MAX_POINTS}",
                         hint="check fewer points")
    columns = [points[:, k] for k in range(len(args))]
    with np.errstate(all="ignore"):
        analytic = np.asarray(grad_fn(*columns), dtype=float).reshape(len(wrt_symbols), len(points))
    wrt_index = list(range(len(wrt_symbols)))

    if method == "complex":
        f_num = compile(f_expr, args, backend="complex")
        numeric = complex_step(f_num, points, wrt_index, h)
        components = tuple(s.name for s in wrt_symbols)
    else:
        if method == "central":
            numeric = central(f_num, points, wrt_index, h)
            components = tuple(s.name for s in wrt_symbols)
        elif method == "richardson":
            numeric = richardson(f_num, points, wrt_index, h)
            components = tuple(s.name for s in wrt_symbols)
        else:
            rng = np.random.default_rng(seed)
            u = rng.standard_normal((directions, len(wrt_symbols)))
            u /= np.linalg.norm(u, axis=1, keepdims=True)
            full = np.zeros((directions, len(args)))
            full[:, : len(wrt_symbols)] = u
            numeric = directional(f_num, points, full, h)
            analytic = u @ analytic
            components = tuple(f"direction {k + 1}" for k in range(directions))

    # a point where f, the gradient or the difference quotient is not finite is not a sample
    with np.errstate(all="ignore"):
        f_values = np.asarray(compile(f_expr, args, backend="numpy")(*columns), dtype=float).reshape(-1)
    f_values = np.broadcast_to(f_values, (len(points),)) if f_values.size == 1 else f_values
    finite = np.isfinite(f_values) & np.isfinite(analytic).all(axis=0) & np.isfinite(numeric).all(axis=0)
    notes, cannot_check = [], None
    if not finite.all():
        notes.append(f"{int((~finite).sum())} of {len(points)} point(s) dropped: the function, the "
                     "gradient or its finite difference is not a finite real number there")
        points, analytic, numeric = points[finite], analytic[:, finite], numeric[:, finite]
        needed = 1 if at is not None else max(1, (n_points + 1) // 2)
        if len(points) < needed:
            cannot_check = (f"only {len(points)} point(s) have the function, the gradient and its finite "
                            f"difference finite; at least {needed} needed")
    diff = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    with np.errstate(all="ignore"):
        rel = np.where(diff == 0, 0.0, diff / np.where(scale == 0, 1.0, scale))
    passes = diff <= atol + rtol * np.abs(numeric)  # nan fails
    abs_errors = {c: float(np.max(diff[i], initial=0.0)) for i, c in enumerate(components)}
    rel_errors = {c: float(np.max(rel[i], initial=0.0)) for i, c in enumerate(components)}
    failing = [c for i, c in enumerate(components) if not passes[i].all()]
    return GradCheck(ok=not failing and cannot_check is None, method=method, eps=h, atol=atol, rtol=rtol,
                     components=components, point_names=tuple(a.name for a in args), points=points,
                     analytic=analytic, numeric=numeric, abs_errors=abs_errors,
                     rel_errors=rel_errors, failing=failing,
                     source="derivekit" if claim is None else "claim",
                     cannot_check=cannot_check, notes=notes)


def _abstract_gradcheck(f_expr, claim_exprs, wrt_symbols, names, method, h, atol, rtol, seed) -> GradCheck:
    """Abstract functions have no values to difference: a claimed gradient is decided
    symbolically by :func:`derivekit.numeric.verify.verify`; derivekit's own gradient of an
    abstract function cannot be checked by numbers at all."""
    which = ", ".join(names)
    components = tuple(s.name for s in wrt_symbols)
    empty = np.zeros((len(components), 0))
    common = dict(method=method, eps=h, atol=atol, rtol=rtol, components=components, symbolic=True,
                  point_names=components, points=np.zeros((0, len(components))), analytic=empty,
                  numeric=empty, failing=[])
    if claim_exprs is None:
        return GradCheck(ok=False, abs_errors={c: float("nan") for c in components},
                         rel_errors={c: float("nan") for c in components},
                         cannot_check=f"{which} has no values, so there is nothing to take finite "
                                      "differences of; give --claim to check a gradient symbolically",
                         **common)
    from derivekit.numeric.verify import verify
    verdict = verify(f_expr, claim_exprs if len(claim_exprs) > 1 else claim_exprs[0],
                     list(wrt_symbols), seed=seed)
    notes = [f"finite differences skipped: {which} {'is an abstract function' if len(names) == 1 else 'are abstract functions'}; "
             f"decided symbolically ({verdict.status})"]
    if not verdict.ok and verdict.decided:
        notes.append(verdict.diagnosis)
    common["failing"] = [c.variable for c in verdict.components if not c.ok] if verdict.decided else []
    errors = {c.variable: c.max_rel_error for c in verdict.components}
    return GradCheck(ok=verdict.ok, abs_errors=errors, rel_errors=dict(errors), source="claim",
                     cannot_check=verdict.cannot_check, notes=notes, **common)
