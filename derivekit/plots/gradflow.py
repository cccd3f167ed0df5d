"""Figure of per-layer gradient norms (matplotlib, the ``plot`` extra, imported lazily)."""

from __future__ import annotations

from derivekit.errors import DerivekitError


def plot_gradflow(result, path: str | None = None, force: bool = False):
    """Plot ‖∂L/∂W_l‖ against the layer on a log scale; save to ``path`` if given.
    ``result`` is a GradFlow or a GradFlowComparison. Returns the matplotlib Figure."""
    try:
        import matplotlib
        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DerivekitError("plotting needs matplotlib", hint="pip install 'derivekit[plot]'") from exc
    runs = getattr(result, "runs", [result])
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    for run in runs:
        layers = range(1, run.depth + 1)
        ax.semilogy(layers, run.grad_norms, marker="o", label=f"{run.activation} ({run.status})")
    first = runs[0]
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel("‖∂L/∂W‖ (Frobenius)")
    ax.set_title(f"gradient flow: depth {first.depth}, width {first.width}, {first.init} init")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if path:
        from derivekit.plots.optim import save
        save(fig, path, force)
    return fig
