"""Figures for linear algebra (the ``plot`` extra: ``pip install "derivekit[plot]"``).

* :func:`plot_pca`: a scree plot (explained-variance ratio per component with the cumulative
  curve), the data on its first two features with the principal directions drawn as arrows
  from the mean (length 2√λ, two standard deviations), and the data in PC coordinates.
* :func:`plot_eig`: for a real 2×2 matrix, the unit circle and its image under A with the
  eigenvectors, which A only stretches.

matplotlib is imported inside the functions. Figures are built without pyplot (so a notebook's
backend is left alone): with a path they are written there and the path returned; without one
the figure itself is returned, and Jupyter shows it inline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from derivekit.errors import UnsupportedError


def _figure(size):
    """A matplotlib Figure that Jupyter shows inline, made without pyplot."""
    from derivekit.plots.optim import _inline_figure_class
    return _inline_figure_class()(figsize=size)


def _save(fig, path: str | Path | None, force: bool = False):
    """The figure without a path; else the path written (see :func:`derivekit.plots.optim.save`)."""
    if path is None:
        return fig
    from derivekit.plots.optim import save
    return save(fig, path, force, dpi=110, bbox_inches="tight")


def plot_pca(result: Any, path: str | Path | None = None, force: bool = False):
    """Scree plot, data with component arrows, and PC scores; written to ``path`` (PNG, SVG…)
    and the path returned, or without a path the figure (shown inline in Jupyter)."""
    d = result.data.shape[1]
    fig = _figure((15, 4.6) if d >= 2 else (5, 4.6))
    axes = np.atleast_1d(fig.subplots(1, 3 if d >= 2 else 1))

    ratio = result.eigenvalues / result.eigenvalues.sum()
    index = np.arange(1, d + 1)
    scree = axes[0]
    scree.bar(index, ratio, color=["tab:blue" if i <= result.k else "tab:gray" for i in index],
              label="explained variance ratio")
    scree.plot(index, np.cumsum(ratio), "o-", color="tab:orange", label="cumulative")
    scree.set_xticks(index)
    scree.set_xlabel("principal component")
    scree.set_ylabel("fraction of variance")
    scree.set_ylim(0, 1.05)
    scree.set_title(f"Scree plot (kept k = {result.k}, blue)")
    scree.legend(loc="center right")

    if d >= 2:
        ax = axes[1]
        X = result.data
        ax.scatter(X[:, 0], X[:, 1], s=10, alpha=0.5, color="tab:blue")
        scale = result.scale if result.scale is not None else np.ones(d)
        for i in range(min(2, d)):
            direction = result.all_components[i][:2] * scale[:2]  # back to original units
            length = 2 * np.sqrt(result.eigenvalues[i])
            arrow = direction * length
            ax.annotate("", xy=result.mean[:2] + arrow, xytext=result.mean[:2],
                        arrowprops={"arrowstyle": "->", "lw": 2.2,
                                    "color": "tab:red" if i == 0 else "tab:green"})
            ax.text(*(result.mean[:2] + 1.08 * arrow), f"PC{i + 1}", fontsize=11,
                    color="tab:red" if i == 0 else "tab:green")
        ax.set_xlabel(result.columns[0])
        ax.set_ylabel(result.columns[1])
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title("Data with principal directions (2√λ)"
                     + (" — first two features" if d > 2 else ""))

        scores = (X - result.mean) / (result.scale if result.scale is not None else 1.0) \
            @ result.all_components[:2].T
        ax = axes[2]
        ax.scatter(scores[:, 0], scores[:, 1], s=10, alpha=0.5, color="tab:purple")
        ax.axhline(0, color="gray", lw=0.8)
        ax.axvline(0, color="gray", lw=0.8)
        ax.set_xlabel(f"PC1 ({100 * ratio[0]:.1f}%)")
        ax.set_ylabel(f"PC2 ({100 * ratio[1]:.1f}%)")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title("Projection onto the principal components")
    fig.tight_layout()
    return _save(fig, path, force)


def plot_eig(result: Any, path: str | Path | None = None, force: bool = False):
    """Unit circle, its image under a real 2×2 A, and the eigen-directions; written to ``path``
    and the path returned, or without a path the figure (shown inline in Jupyter)."""
    A = np.asarray(result.matrix.tolist() if hasattr(result.matrix, "tolist") else result.matrix)
    try:
        A = A.astype(float)
    except (TypeError, ValueError):
        raise UnsupportedError("only numeric matrices can be plotted",
                               hint="substitute numbers for the symbols") from None
    if A.shape != (2, 2):
        raise UnsupportedError(f"the eigen plot draws 2×2 matrices, not {A.shape[0]}×{A.shape[1]}")
    t = np.linspace(0, 2 * np.pi, 400)
    circle = np.vstack([np.cos(t), np.sin(t)])
    image = A @ circle
    fig = _figure((5.5, 5.5))
    ax = fig.subplots()
    ax.plot(*circle, color="gray", lw=1, label="unit circle")
    ax.plot(*image, color="tab:blue", lw=2, label="image under A")
    for space in result.eigenspaces:
        value = complex(space.value)
        if abs(value.imag) > 1e-12:
            continue
        for vector in space.basis:
            v = np.array([complex(x) for x in (vector if not hasattr(vector, "tolist") else
                                              np.asarray(vector).ravel().tolist())])
            if np.any(np.abs(v.imag) > 1e-12):
                continue
            v = v.real / np.linalg.norm(v.real)
            ax.annotate("", xy=value.real * v, xytext=(0, 0),
                        arrowprops={"arrowstyle": "->", "lw": 2, "color": "tab:red"})
            ax.plot(*np.outer([-3, 3], v).T, ls=":", color="tab:red", lw=0.8)
            ax.text(*(value.real * v * 1.1), f"λ={value.real:.3g}", color="tab:red")
    ax.axhline(0, color="black", lw=0.5)
    ax.axvline(0, color="black", lw=0.5)
    ax.set_aspect("equal")
    limit = 1.2 * max(1.0, float(np.max(np.abs(image))))
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.legend(loc="upper left")
    ax.set_title("A maps the circle to an ellipse;\neigenvectors (red) are only stretched by λ")
    return _save(fig, path, force)
