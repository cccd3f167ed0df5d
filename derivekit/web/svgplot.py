"""A graph of f, f′ and the tangent line at a point, as inline SVG written by hand.

Presentation attributes only (no ``style``), so the page's Content-Security-Policy allows
it; every number is formatted here and the only text is escaped, so the SVG is safe inline.
"""

from __future__ import annotations

import html

import numpy as np

WIDTH, HEIGHT, PAD = 560, 320, 36
COLOURS = {"f": "#1f5fa8", "fprime": "#c2410c", "tangent": "#15803d"}


def _path(xs, ys, to_px) -> str:
    """An SVG path through the finite points, lifting the pen at gaps and poles."""
    parts, pen_down = [], False
    for x, y in zip(xs, ys):
        if not np.isfinite(y):
            pen_down = False
            continue
        px, py = to_px(x, y)
        parts.append(f"{'L' if pen_down else 'M'}{px:.1f},{py:.1f}")
        pen_down = True
    return " ".join(parts)


def tangent_plot(xs, f, fprime, x0: float, f0: float, slope: float, name: str = "x") -> str:
    """SVG of f and f′ sampled at ``xs``, and the tangent y = f(x₀) + f′(x₀)(x − x₀)."""
    tangent = f0 + slope * (xs - x0)
    finite = np.concatenate([v[np.isfinite(v)] for v in (f, fprime)] or [np.zeros(1)])
    if finite.size == 0:
        finite = np.zeros(1)
    lo, hi = np.percentile(finite, [2, 98]) if finite.size > 4 else (finite.min(), finite.max())
    if not np.isfinite(lo) or not np.isfinite(hi) or hi - lo < 1e-9:
        lo, hi = (lo - 1, hi + 1) if np.isfinite(lo) else (-1, 1)
    margin = 0.08 * (hi - lo)
    lo, hi = lo - margin, hi + margin
    x_lo, x_hi = float(xs[0]), float(xs[-1])

    def to_px(x, y):
        px = PAD + (x - x_lo) / (x_hi - x_lo) * (WIDTH - 2 * PAD)
        py = HEIGHT - PAD - (y - lo) / (hi - lo) * (HEIGHT - 2 * PAD)
        return px, min(max(py, -HEIGHT), 2 * HEIGHT)

    clip = lambda v: np.where((v >= lo - (hi - lo)) & (v <= hi + (hi - lo)), v, np.nan)  # noqa: E731
    axis_x = [to_px(x_lo, 0.0), to_px(x_hi, 0.0)] if lo < 0 < hi else []
    axis_y = [to_px(0.0, lo), to_px(0.0, hi)] if x_lo < 0 < x_hi else []
    n = html.escape(name)
    px0, py0 = to_px(x0, f0)
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="graph of f, its derivative and '
        f'the tangent at {n} = {x0:g}">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff" stroke="#d4d4d8"/>',
    ]
    for (ax, ay), (bx, by) in [a for a in (axis_x, axis_y) if a]:
        lines.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="#a1a1aa"/>')
    for key, ys, dash in (("f", f, ""), ("fprime", fprime, ' stroke-dasharray="6 4"'),
                          ("tangent", tangent, ' stroke-dasharray="2 3"')):
        d = _path(xs, clip(ys), to_px)
        if d:
            lines.append(f'<path d="{d}" fill="none" stroke="{COLOURS[key]}" stroke-width="2"{dash}/>')
    if np.isfinite(f0):
        lines.append(f'<circle cx="{px0:.1f}" cy="{py0:.1f}" r="4" fill="{COLOURS["tangent"]}"/>')
    legend = (("f", "f"), ("fprime", "f′"), ("tangent", f"tangent at {n} = {x0:g}"))
    for i, (key, label) in enumerate(legend):
        y = 18 + 16 * i
        lines.append(f'<line x1="{WIDTH - 190}" y1="{y - 4}" x2="{WIDTH - 166}" y2="{y - 4}" '
                     f'stroke="{COLOURS[key]}" stroke-width="2"/>')
        lines.append(f'<text x="{WIDTH - 160}" y="{y}" font-size="12" fill="#27272a">{label}</text>')
    lines.append(f'<text x="{PAD}" y="{HEIGHT - 10}" font-size="11" fill="#52525b">{n} from '
                 f'{x_lo:g} to {x_hi:g}; y from {lo:.3g} to {hi:.3g}</text>')
    lines.append("</svg>")
    return "\n".join(lines)
