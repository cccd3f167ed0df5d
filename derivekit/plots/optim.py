"""Figures for descent runs (the ``plot`` extra: matplotlib, imported only here and lazily).

* :func:`plot_losses`: loss curves, one per run, overlaid (log scale when all positive);
* :func:`plot_contour`: for 2-parameter objectives, J's contours with each run's path;
* :func:`plot_lr_comparison`: one method at a too-small, a good and a too-large rate.

Every function returns a ``matplotlib.figure.Figure`` (built without pyplot, so no window
opens and no global state changes; Jupyter shows it inline) and saves it when ``path`` ends
in ``.png`` or ``.svg``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from derivekit.errors import DerivekitError

FORMATS = (".png", ".svg", ".pdf")


_INLINE_FIGURE = None


def _inline_figure_class():
    """A ``Figure`` subclass that Jupyter shows inline (``_repr_png_``) even though pyplot,
    which registers the notebook's figure formatter, is never imported."""
    global _INLINE_FIGURE
    if _INLINE_FIGURE is None:
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise DerivekitError("plots need matplotlib", hint="pip install 'derivekit[plot]'") from None

        class InlineFigure(Figure):
            def _repr_png_(self) -> bytes:
                buffer = io.BytesIO()
                self.savefig(buffer, format="png", dpi=100)
                return buffer.getvalue()

        _INLINE_FIGURE = InlineFigure
    return _INLINE_FIGURE


def _figure(size=(6.4, 4.2)):
    fig = _inline_figure_class()(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def check_path(path, force: bool = False) -> Path:
    """``path`` if a plot may be written there: a suffix in :data:`FORMATS` (so the file
    written is the file named), an existing folder, and no existing file or link unless
    ``force``. Commands call it before the work, so a bad path fails fast."""
    from derivekit import files
    return files.output_path(path, force=force, suffixes=FORMATS, what="plot")


def save(fig, path, force: bool = False, **savefig) -> Path:
    """Save ``fig`` as PNG, SVG or PDF, chosen by the file's suffix; an existing file (or a
    symbolic link) is replaced only with ``force``. Returns the path written."""
    from derivekit import files
    path = check_path(path, force)
    with files.open_binary(path, force=force) as handle:
        fig.savefig(handle, format=path.suffix.lower()[1:], **{"dpi": 120, **savefig})
    return path


def plot_losses(runs, title: str | None = None, path=None, force: bool = False):
    """J(θ_k) against k for each run; a diverged run ends in a ×."""
    fig, ax = _figure()
    positive = all(np.all(r.losses > 0) for r in runs)
    for run in runs:
        line, = ax.plot(np.arange(len(run.losses)), run.losses, label=f"{run.label} — {run.status}")
        if run.diverged:
            ax.plot([len(run.losses) - 1], [run.losses[-1]], "x", color=line.get_color(), markersize=9)
    if positive:
        ax.set_yscale("log")
    calm = [r.losses for r in runs if not r.diverged]
    if calm and len(calm) < len(runs):  # keep the calm curves readable next to an explosion
        top = max(float(np.max(c)) for c in calm)
        ax.set_ylim(top=top * 1e3 if positive else top + 10 * abs(top) + 1)
    ax.set_xlabel("step k")
    ax.set_ylabel("loss J(θ_k)")
    ax.set_title(title or _title(runs))
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    if path is not None:
        save(fig, path, force)
    return fig


def plot_contour(runs, title: str | None = None, path=None, margin: float = 0.25, levels: int = 30,
                 force: bool = False):
    """Contours of a 2-parameter J with each run's path (start ●, end ■)."""
    objective = runs[0].objective
    if objective is None or len(runs[0].names) != 2:
        names = ", ".join(runs[0].names)
        raise DerivekitError(f"a contour plot needs exactly 2 parameters; this objective has {names}",
                             hint="plot the loss curves instead (kind='loss')")
    everything = np.vstack([r.points for r in runs])
    low, high = everything.min(axis=0), everything.max(axis=0)
    span = np.maximum(high - low, 1e-3 * np.maximum(1.0, np.abs(high)))
    low, high = low - margin * span, high + margin * span
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], 160), np.linspace(low[1], high[1], 160))
    values = objective.value_grid(gx, gy)
    fig, ax = _figure((6.4, 5.2))
    finite = values[np.isfinite(values)]
    top = np.percentile(finite, 98) if finite.size else 1.0
    bottom = max(finite.min(), top * 1e-5) if finite.size else 0.0
    if finite.size and bottom > 0 and top / bottom > 100:  # log-spaced rings around the minimum
        level_values = np.geomspace(bottom, top, levels)
    else:
        level_values = levels
    contours = ax.contour(gx, gy, values, levels=level_values, cmap="viridis", linewidths=0.7)
    fig.colorbar(contours, ax=ax, label="J", format="%.3g")
    for run in runs:
        style = ".-" if len(run.points) <= 80 else "-"
        line, = ax.plot(run.points[:, 0], run.points[:, 1], style, markersize=3, linewidth=1.4,
                        label=f"{run.label} — {run.status}")
        ax.plot(*run.points[0], "o", color=line.get_color())
        ax.plot(*run.points[-1], "s", color=line.get_color())
    ax.set_xlabel(runs[0].names[0])
    ax.set_ylabel(runs[0].names[1])
    ax.set_title(title or _title(runs))
    ax.legend(fontsize="small")
    if path is not None:
        save(fig, path, force)
    return fig


def plot_lr_comparison(objective, start=None, method: str = "gd", lrs=None, steps: int = 100, path=None,
                       force: bool = False, **options):
    """Loss curves of ``method`` at several learning rates (default: a too-small, a good and a
    too-large one, found by scanning powers of ten for the largest rate that does not diverge)."""
    from derivekit.optim.objectives import as_objective
    from derivekit.optim.optimizers import minimize
    objective = as_objective(objective)
    if lrs is None:
        lrs = _suggest_rates(objective, start, method, steps, options)
    runs = [minimize(objective, start, method=method, lr=lr, steps=steps, **options) for lr in lrs]
    return plot_losses(runs, title=f"{method}: learning-rate comparison", path=path, force=force)


def _suggest_rates(objective, start, method, steps, options):
    """Scan 5, 2, 1 × 10^e (e = 1 … −6): "good" ends lowest, "too large" is the smallest scanned
    rate above it that diverged (10× good if none did), "too small" is good / 20."""
    from derivekit.optim.optimizers import minimize
    scanned = {}
    for exponent in range(1, -7, -1):
        for mantissa in (5, 2, 1):
            lr = mantissa * 10.0 ** exponent
            scanned[lr] = minimize(objective, start, method=method, lr=lr, steps=steps, **options)
    stable = {lr: run.final_loss for lr, run in scanned.items() if not run.diverged}
    if not stable:
        raise DerivekitError(f"{method} diverged at every learning rate down to 1e-6",
                             hint="pass lrs=[...] explicitly")
    good = min(stable, key=lambda lr: (stable[lr], -lr))
    too_large = min((lr for lr, run in scanned.items() if lr > good and run.diverged), default=10 * good)
    return [good / 20, good, too_large]


def plot(runs, kind: str = "loss", path=None, **options):
    """Dispatch by ``kind``: "loss" or "contour" (``force=True`` replaces an existing file)."""
    table = {"loss": plot_losses, "contour": plot_contour}
    if kind not in table:
        raise DerivekitError(f"unknown plot kind {kind!r}", hint="use " + " or ".join(table))
    return table[kind](list(runs), path=path, **options)


def _title(runs) -> str:
    objective = runs[0].objective
    text = objective.describe("text") if objective is not None else ""
    return text if len(text) <= 60 else text[:57] + "…"
