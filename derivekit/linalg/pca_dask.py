"""PCA of a CSV past memory, on Dask (``dk.pca(path, engine="dask")``, ``pca --engine dask``).

The method: one pass over the file's blocks gives each block's count, mean and scatter
matrix, merged in a tree (:class:`derivekit.dask_blocks.Moments`, Chan's pairwise update) into
the exact mean and covariance; from there the steps are the NumPy engine's: the same
``eigh``, order and sign rule (:func:`derivekit.linalg.pca.principal_axes`). Only the d×d
statistics and a few rows are ever in memory. With few features (d ≪ n, the usual CSV) the
covariance is the cheap route, O(n·d²) in one pass; no tall-skinny QR is needed.

What needs every row is not kept: the reconstruction error and mean squared error follow
from the covariance exactly (the lost fraction is Σ_{i>k} λᵢ / Σλ; the MSE is
(n − 1)/(n·d) · Σⱼ sⱼ²·[(I − P) C (I − P)]ⱼⱼ with P = WₖᵀWₖ), the scores of the first rows are
shown, and the scores of all rows are written to a CSV file on request (``out``), in a
second pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from derivekit.columns import skipped_note
from derivekit.dask_blocks import (
    DEFAULT_BLOCKSIZE,
    Engine,
    id_columns_by_value,
    moments,
    open_csv,
    output_path,
)
from derivekit.errors import DerivekitError
from derivekit.linalg.pca import (
    SHOWN_ROWS,
    SMALL_FEATURES,
    PCAResult,
    components_to_keep,
    principal_axes,
)
from derivekit.linalg.rowops import subscript
from derivekit.linalg.steps import (
    LinalgStep,
    array_latex,
    format_number,
    labelled_grid,
    number_text,
)

METHOD = "covariance"  # the one route: exact streamed covariance, then eigh


@dataclass(eq=False)
class StreamedPCAResult(PCAResult):
    """A :class:`PCAResult` whose ``data``, ``transformed`` and ``reconstruction`` hold the
    first rows only; ``n_samples`` is the file's row count."""

    n_samples: int = 0
    blocks: int = 0
    where: str = ""
    skipped: dict[str, str] = field(default_factory=dict)  # ID-like columns: why each
    scores_file: str | None = None
    method: str = METHOD

    def plot(self, path=None):
        raise DerivekitError("a plot of every row is not drawn from the dask engine",
                             hint="write the scores with out='scores.csv' (--out) and plot those")

    def _payload(self) -> dict[str, Any]:
        payload = super()._payload()
        payload.update({
            "n_samples": self.n_samples, "engine": "dask", "method": self.method,
            "blocks": self.blocks, "scheduler": self.where, "skipped_columns": list(self.skipped),
            "transformed_rows_shown": len(self.transformed), "scores_file": self.scores_file})
        return payload


def pca_dask(data: Any, k: int | None = None, *, standardize: bool = False,
             columns: list[str] | None = None, scheduler: Any = None, out: str | None = None,
             blocksize: int | str = DEFAULT_BLOCKSIZE) -> StreamedPCAResult:
    """PCA of the CSV file ``data`` read in blocks by Dask; arguments as :func:`dk.pca`."""
    if not isinstance(data, (str, Path)) or not str(data).lower().endswith(".csv"):
        raise DerivekitError("the dask engine reads a CSV file",
                             hint="pass the file's path (FILE.csv), or use the numpy engine "
                                  "for arrays and built-in datasets")
    out_path = output_path(out) if out is not None else None
    table = open_csv(data, columns, blocksize=blocksize)
    with Engine(scheduler) as engine:
        stats = moments(table, engine)
        ids = id_columns_by_value(table, stats)
        keep = [j for j, c in enumerate(table.columns) if c not in ids]
        names = tuple(table.columns[j] for j in keep)
        if not keep:
            raise DerivekitError(f"{table.path} has only ID-like columns", hint="choose columns with --columns")
        n, d = stats.n, len(keep)
        k = components_to_keep(n, d, k)
        mean = stats.mean[keep]
        covariance = stats.scatter[np.ix_(keep, keep)] / (n - 1)
        scale = None
        if standardize:
            scale = np.sqrt(np.diag(covariance))
            constant = [names[j] for j in np.flatnonzero(scale == 0)]
            if constant:
                raise DerivekitError(f"cannot standardise: column {', '.join(constant)} is constant",
                                     hint="drop constant columns or run without --standardize")
            covariance = covariance / np.outer(scale, scale)
        eigenvalues, all_components = principal_axes(covariance)
        W = all_components[:k]
        total = float(eigenvalues.sum())
        ratio = eigenvalues / total if total > 0 else np.zeros_like(eigenvalues)
        error = float(eigenvalues[k:].sum() / total) if total > 0 else 0.0
        mse = _reconstruction_mse(covariance, W, scale, n)

        head = table.head(SHOWN_ROWS)[:, keep]
        Z = _scores(head, mean, scale, W)
        reconstruction = (Z @ W) * scale + mean if scale is not None else Z @ W + mean
        if out_path is not None:
            _write_scores(table, names, mean, scale, W, out_path, engine)
        result = StreamedPCAResult(
            head, names, str(table.path), k, standardize, mean, scale, covariance, eigenvalues,
            all_components, W, eigenvalues[:k], ratio[:k], Z, reconstruction, error, mse,
            n_samples=n, blocks=table.blocks, where=engine.where,
            skipped={**table.named_ids, **ids}, scores_file=None if out_path is None else str(out_path))
    result.steps = _steps(result)
    return result


def _reconstruction_mse(covariance, W, scale, n) -> float:
    """Mean squared error per entry, in original units, from the covariance alone."""
    d = covariance.shape[0]
    residual = np.eye(d) - W.T @ W
    per_feature = np.diag(residual @ covariance @ residual)
    if scale is not None:
        per_feature = per_feature * scale**2
    return float(max(per_feature.sum(), 0.0) * (n - 1) / (n * d))


def _scores(block: np.ndarray, mean, scale, W) -> np.ndarray:
    centred = block - mean
    if scale is not None:
        centred = centred / scale
    return centred @ W.T


def _scores_frame(frame, mean, scale, W, header):
    import pandas as pd
    return pd.DataFrame(_scores(frame.to_numpy(dtype=float), mean, scale, W), columns=header)


def _write_scores(table, names, mean, scale, W, path: Path, engine: Engine) -> None:
    """Every row's scores, one block at a time, into one CSV file (a second pass)."""
    import pandas as pd
    header = [f"PC{i + 1}" for i in range(len(W))]
    meta = pd.DataFrame({h: pd.Series(dtype=float) for h in header})
    scores = table.frame[list(names)].map_partitions(_scores_frame, mean, scale, W, header, meta=meta)
    scores.to_csv(str(path), single_file=True, index=False, compute_kwargs=engine.compute_kwargs())


# --------------------------------------------------------------------------- the steps

def _vec(array: np.ndarray) -> str:
    return "[" + ", ".join(number_text(float(x), 4) for x in array) + "]"


def _steps(r: StreamedPCAResult) -> list[LinalgStep]:
    n, d, shown_rows = r.n_samples, len(r.columns), len(r.data)
    skipped = f" {skipped_note(r.skipped, '--columns')};" if r.skipped else ""
    steps = [LinalgStep(
        "The data", f"{{source}}: {n} samples (rows) × {d} features ({{columns}}), read "
        f"by Dask in {r.blocks} block{'s' if r.blocks > 1 else ''} on {{where}};{{skipped}} the "
        f"first {shown_rows} rows are shown.",
        rf"X \in \mathbb{{R}}^{{{n} \times {d}}},\quad X = {array_latex(r.data, shown_rows)}",
        labelled_grid(f"X (first {shown_rows} rows)", r.data) + f"\n… {n - shown_rows} more rows",
        literals=(("source", r.source), ("columns", ", ".join(r.columns)), ("where", r.where),
                  ("skipped", skipped)))]
    steps.append(LinalgStep(
        "Mean and covariance in one pass",
        "Each block gives its row count, mean $m_b$ and scatter matrix "
        "$M_b = Σ (x − m_b)(x − m_b)ᵀ$; blocks merge in a tree by Chan's update "
        "$M = M_a + M_b + δδᵀ·n_a·n_b/n$ ($δ$ the difference of the two means), which is exact "
        f"and never subtracts large sums of squares. Then $μ$ is the mean and $C = M / (n − 1)$ "
        f"with $n − 1 = {n - 1}$.",
        rf"\mu = {array_latex(r.mean[None, :])},\quad C = \frac{{M}}{{{n - 1}}}",
        f"μ = {_vec(r.mean)}"))
    if r.standardize:
        steps.append(LinalgStep(
            "Standardise", "Divide each centred feature by its sample standard deviation "
            "$sⱼ = √(Cⱼⱼ)$, so the covariance becomes the correlation matrix $Cⱼₗ / (sⱼ sₗ)$.",
            rf"s = {array_latex(r.scale[None, :])},\quad C_{{jl}} \leftarrow \frac{{C_{{jl}}}}{{s_j s_l}}",
            f"s = {_vec(r.scale)}"))
    steps.append(LinalgStep(
        "Covariance matrix", "Entry $(i, j)$ is how features $i$ and $j$ vary together"
        + (" (after standardising)." if r.standardize else "."),
        "C = " + (array_latex(r.covariance) if d <= SMALL_FEATURES else rf"\text{{{d}×{d}}}"),
        labelled_grid("C", r.covariance) if d <= SMALL_FEATURES else
        f"C is {d}×{d}; its diagonal (the variances) sums to {format_number(float(np.trace(r.covariance)), 6)}"))
    shown = min(d, SMALL_FEATURES)
    lines = [f"λ{subscript(i + 1)} = {number_text(float(r.eigenvalues[i]), 6)},  w{subscript(i + 1)} = "
             f"{_vec(r.all_components[i])}" for i in range(shown)] + ([f"… {d - shown} more"] if d > shown else [])
    steps.append(LinalgStep(
        "Eigen-decomposition of $C$", "As the NumPy engine: numpy.linalg.eigh of the symmetric "
        "$C$, sorted largest first, each direction's sign fixed so its largest-magnitude loading "
        "is positive.",
        r"C = W^\top \Lambda W,\quad " + r",\ ".join(
            rf"\lambda_{{{i + 1}}} = {format_number(float(r.eigenvalues[i]), 6)}" for i in range(shown)),
        "\n".join(lines)))
    total = float(r.eigenvalues.sum())
    ratio_all = r.eigenvalues / total if total > 0 else r.eigenvalues
    cumulative = np.cumsum(ratio_all)
    steps.append(LinalgStep(
        "Explained variance", f"Each eigenvalue's share of the total variance $Σλ = {format_number(total, 6)}$.",
        r"\text{ratio}_i = \frac{\lambda_i}{\sum_j \lambda_j}:\quad " + r",\ ".join(
            f"{100 * x:.2f}\\%" for x in ratio_all[:shown]),
        "\n".join(f"PC{i + 1}: {100 * ratio_all[i]:.2f}%  (cumulative {100 * cumulative[i]:.2f}%)"
                  for i in range(shown))))
    where = (f"all {n} rows are written to {r.scores_file} in a second pass" if r.scores_file
             else "the first rows are shown; write all of them with --out FILE.csv")
    steps.append(LinalgStep(
        f"Project onto {r.k} component{'s' if r.k > 1 else ''}",
        f"The scores $T = X_c Wₖᵀ$ form a ${n}×{r.k}$ matrix; {{where}}.",
        rf"T = X_c W_k^\top = {array_latex(r.transformed, shown_rows)}",
        labelled_grid(f"T (first {shown_rows} rows)", r.transformed), literals=(("where", where),)))
    steps.append(LinalgStep(
        "Reconstruction error, from the covariance",
        "Without revisiting the rows: the fraction of variance lost is the discarded "
        "eigenvalues' share, and the mean squared error per entry is "
        "$(n − 1)/(n·d) · Σⱼ sⱼ²·[(I − P) C (I − P)]ⱼⱼ$ with $P = Wₖᵀ Wₖ$.",
        rf"\frac{{\sum_{{i>{r.k}}} \lambda_i}}{{\sum_i \lambda_i}} = {r.reconstruction_error:.6g},\quad "
        rf"\text{{MSE}} = {r.reconstruction_mse:.6g}",
        f"Σ_(i>{r.k}) λᵢ / Σλ = {number_text(r.reconstruction_error)}\n"
        f"mean squared error per entry (original units) = {number_text(r.reconstruction_mse)}"))
    return steps
