"""f, f′ and the tangent line at a point, as derivative-calculator sites draw them.

:func:`samples` computes the curves (NumPy only); :func:`tangent_figure` draws them with
matplotlib (the ``plot`` extra). The web page draws the same samples as inline SVG
(``derivekit.web.svgplot``), and ``derivekit diff … --plot FILE`` writes this figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derivekit.errors import DerivekitError

HALF_WIDTH = 5.0


@dataclass(frozen=True)
class TangentSamples:
    """f and f′ at ``xs``; the tangent y = f(x₀) + f′(x₀)(x − x₀) is ``f0 + slope·(xs − x0)``."""

    name: str
    xs: np.ndarray
    f: np.ndarray
    fprime: np.ndarray
    x0: float
    f0: float
    slope: float

    @property
    def tangent(self) -> np.ndarray:
        return self.f0 + self.slope * (self.xs - self.x0)


def samples(expr, derivative, var, at: float = 1.0, points: int = 241) -> TangentSamples:
    """Sample f = ``expr`` and f′ = ``derivative`` (SymPy, in the one symbol ``var``) over
    [−5, 5] widened to hold ``at``; non-finite values stay NaN (gaps in the curves)."""
    from derivekit.numeric.compiled import compile as compile_expr

    if expr.free_symbols - {var}:
        others = ", ".join(sorted(s.name for s in expr.free_symbols - {var}))
        raise DerivekitError(f"the graph needs a function of {var.name} alone, and this one also has {others}",
                             hint="substitute numbers for the other variables first")
    lo, hi = min(-HALF_WIDTH, at - 1), max(HALF_WIDTH, at + 1)
    xs = np.linspace(lo, hi, points)
    f_of, fp_of = compile_expr(expr, [var]), compile_expr(derivative, [var])

    def values(fn, x):
        with np.errstate(all="ignore"):
            out = np.asarray(fn(x), dtype=float).reshape(-1)
        return np.broadcast_to(out, np.shape(x)).astype(float) if out.size == 1 else out

    at_point = np.array([float(at)])
    return TangentSamples(var.name, xs, values(f_of, xs), values(fp_of, xs), float(at),
                          float(values(f_of, at_point)[0]), float(values(fp_of, at_point)[0]))


def tangent_figure(data: TangentSamples, path=None):
    """A matplotlib Figure of f, f′ (dashed) and the tangent at x₀ (dotted); saved to
    ``path`` (.png or .svg) when given."""
    from derivekit.plots.optim import _figure, save

    fig, ax = _figure()
    ax.plot(data.xs, data.f, label="f", color="#1f5fa8")
    ax.plot(data.xs, data.fprime, "--", label="f′", color="#c2410c")
    ax.plot(data.xs, data.tangent, ":", label=f"tangent at {data.name} = {data.x0:g}", color="#15803d")
    if np.isfinite(data.f0):
        ax.plot([data.x0], [data.f0], "o", color="#15803d")
    finite = np.concatenate([v[np.isfinite(v)] for v in (data.f, data.fprime)])
    if finite.size > 4:
        lo, hi = np.percentile(finite, [2, 98])
        if hi > lo:
            ax.set_ylim(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
    ax.axhline(0, color="#a1a1aa", linewidth=0.8)
    ax.axvline(0, color="#a1a1aa", linewidth=0.8)
    ax.set_xlabel(data.name)
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    if path is not None:
        save(fig, path)
    return fig
