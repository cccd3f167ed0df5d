"""Principal component analysis with steps (``dk.pca``).

The route: centre the data (optionally standardise it), form the sample covariance
C = XcᵀXc / (n − 1), eigen-decompose it with ``numpy.linalg.eigh`` (C is symmetric), sort by
eigenvalue, then project onto the top k eigenvectors and reconstruct. For n ≫ d this is
faster than an SVD of the n×d data (one pass to form the d×d covariance) and gives the same
components and variances.

Sign convention: an eigenvector is only defined up to sign, so each component is flipped to
make its largest-|loading| entry positive, as scikit-learn's ``svd_flip`` does for
components (ties go to the first entry). Standardising divides by the sample standard
deviation (n − 1), so the covariance of standardised data is exactly the correlation matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from derivekit.errors import DerivekitError, ShapeError
from derivekit.linalg.datasets import Dataset, builtin, read_csv
from derivekit.linalg.input import read_matrix, read_numeric, to_numpy
from derivekit.linalg.rowops import subscript
from derivekit.linalg.steps import (
    LinalgStep,
    StepsResult,
    array_latex,
    format_number,
    labelled_grid,
    number_text,
    to_jsonable,
)

SMALL_ROWS = 12  # data with at most this many rows is shown in full
SMALL_FEATURES = 6  # covariance and components are shown in full up to this many features
SHOWN_ROWS = 5  # rows shown from larger data
SVD_CHECK_MAX_ENTRIES = 20_000  # the SVD cross-check step runs up to this data size


@dataclass(eq=False)
class PCAResult(StepsResult):
    """PCA of ``data`` (n×d) onto ``k`` components.

    ``components`` is k×d (rows are unit principal directions); ``transformed`` is n×k;
    ``explained_variance`` / ``explained_variance_ratio`` have length k; ``eigenvalues`` and
    ``all_components`` cover all d directions. ``reconstruction`` is in the original units.
    ``reconstruction_error`` is the fraction of (standardised, if chosen) variance lost,
    ‖Xc − X̂c‖²_F / ‖Xc‖²_F; ``reconstruction_mse`` is the mean squared error per entry in the
    original units.
    """

    data: np.ndarray
    columns: tuple[str, ...]
    source: str
    k: int
    standardize: bool
    mean: np.ndarray
    scale: np.ndarray | None
    covariance: np.ndarray
    eigenvalues: np.ndarray
    all_components: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    transformed: np.ndarray
    reconstruction: np.ndarray
    reconstruction_error: float
    reconstruction_mse: float
    steps: list[LinalgStep] = field(default_factory=list)
    heading = "Principal component analysis"

    def plot(self, path=None, force: bool = False):
        """Write the scree plot, the data with component arrows and the PC scores to ``path``
        (needs the ``plot`` extra) and return the path; without a path, return the figure,
        which Jupyter shows inline."""
        from derivekit.plots.linalg import plot_pca
        return plot_pca(self, path, force)

    @property
    def answer_text(self) -> str:
        parts = [f"PC{i + 1} = {_direction_text(c, self.columns)} explains "
                 f"{100 * r:.1f}% of the variance" for i, (c, r) in
                 enumerate(zip(self.components, self.explained_variance_ratio))]
        return "; ".join(parts) + (f"; reconstruction loses {100 * self.reconstruction_error:.1f}%")

    @property
    def answer_latex(self) -> str:
        return r",\quad ".join(
            rf"\mathrm{{PC}}_{{{i + 1}}} = {array_latex(c[:, None])}\ ({100 * r:.1f}\%)"
            for i, (c, r) in enumerate(zip(self.components, self.explained_variance_ratio)))

    def _payload(self) -> dict[str, Any]:
        small = self.data.shape[0] <= SMALL_ROWS
        return {
            "source": self.source, "columns": list(self.columns), "n_samples": self.data.shape[0],
            "n_features": self.data.shape[1], "k": self.k, "standardize": self.standardize,
            "mean": self.mean.tolist(), "scale": None if self.scale is None else self.scale.tolist(),
            "covariance": self.covariance.tolist(), "eigenvalues": self.eigenvalues.tolist(),
            "components": self.components.tolist(),
            "explained_variance": self.explained_variance.tolist(),
            "explained_variance_ratio": self.explained_variance_ratio.tolist(),
            "reconstruction_error": self.reconstruction_error,
            "reconstruction_mse": self.reconstruction_mse,
            "transformed": to_jsonable(self.transformed if small else self.transformed[:SHOWN_ROWS]),
            "transformed_rows_shown": self.data.shape[0] if small else SHOWN_ROWS,
        }


def _direction_text(vector: np.ndarray, columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(number_text(float(x), 4) for x in vector) + ")"


# --------------------------------------------------------------------------- entry point

def load_data(data: Any = None, columns: list[str] | None = None) -> Dataset:
    """``data`` as a :class:`Dataset`: None (the default built-in), a built-in's name, a CSV
    path, a NumPy array, nested lists, a SymPy matrix or matrix text."""
    if data is None:
        return builtin()
    if isinstance(data, Dataset):
        return data
    if isinstance(data, str) and not data.lstrip().startswith(("[", "\\")):
        if data.endswith(".csv") or "/" in data or "\\" in data:
            return read_csv(data, columns)
        return builtin(data)
    array = read_numeric(data)
    if array is None:
        array = to_numpy(read_matrix(data, "data", vector_as="column"))
    if np.iscomplexobj(array):
        raise DerivekitError("PCA needs real data, but the data has complex entries")
    array = np.asarray(array, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ShapeError(f"data must be 2-D (samples × features), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise DerivekitError("the data has NaN or infinite entries", hint="drop or fill them first")
    names = tuple(columns) if columns and len(columns) == array.shape[1] else \
        tuple(f"x{j + 1}" for j in range(array.shape[1]))
    return Dataset(array, names, f"a {array.shape[0]}×{array.shape[1]} array")


def pca(data: Any = None, k: int | None = None, *, standardize: bool = False,
        columns: list[str] | None = None, engine: str = "numpy", scheduler: Any = None,
        out: str | None = None) -> PCAResult:
    """PCA with steps. ``data``: samples in rows (see :func:`load_data`); ``k`` defaults to
    min(2, d). ``standardize`` scales each feature to unit sample variance first.

    ``engine="dask"`` reads a CSV file in blocks with Dask instead of into memory
    (:mod:`derivekit.linalg.pca_dask`): ``scheduler`` is a Dask cluster's address (default:
    Dask's local scheduler) and ``out`` a CSV file for the scores of every row."""
    if engine not in ("numpy", "dask"):
        raise DerivekitError(f"unknown engine {engine!r}", hint="use engine='numpy' or engine='dask'")
    if engine == "dask":
        from derivekit.linalg.pca_dask import pca_dask
        return pca_dask(data, k, standardize=standardize, columns=columns, scheduler=scheduler, out=out)
    if scheduler is not None or out is not None:
        raise DerivekitError("scheduler= and out= belong to the dask engine",
                             hint="add engine='dask' (data past memory), or leave them out")
    dataset = load_data(data, columns)
    X = dataset.data
    n, d = X.shape
    k = components_to_keep(n, d, k)

    mean = X.mean(axis=0)
    Xc = X - mean
    scale = None
    if standardize:
        scale = Xc.std(axis=0, ddof=1)
        constant = [dataset.columns[j] for j in np.flatnonzero(scale == 0)]
        if constant:
            raise DerivekitError(f"cannot standardise: column {', '.join(constant)} is constant",
                                 hint="drop constant columns or run without --standardize")
        Xc = Xc / scale
    covariance = Xc.T @ Xc / (n - 1)
    eigenvalues, all_components = principal_axes(covariance)
    W = all_components[:k]
    Z = Xc @ W.T
    Xc_hat = Z @ W
    total = float(eigenvalues.sum())
    ratio = eigenvalues / total if total > 0 else np.zeros_like(eigenvalues)
    residual = Xc - Xc_hat
    error = float(np.einsum("ij,ij->", residual, residual) / np.einsum("ij,ij->", Xc, Xc)) \
        if total > 0 else 0.0
    reconstruction = Xc_hat * scale + mean if scale is not None else Xc_hat + mean
    mse = float(np.mean((reconstruction - X) ** 2))

    result = PCAResult(X, dataset.columns, dataset.source, k, standardize, mean, scale,
                       covariance, eigenvalues, all_components, W, eigenvalues[:k], ratio[:k], Z,
                       reconstruction, error, mse)
    result.steps = _steps(result, Xc)
    return result


def components_to_keep(n: int, d: int, k) -> int:
    """``k`` (default: 2, or d if fewer) checked against n samples and d features."""
    if n < 2:
        raise ShapeError(f"PCA needs at least 2 samples, got {n}",
                         hint="rows are samples and columns are features")
    k = min(2, d) if k is None else int(k)
    if not 1 <= k <= d:
        raise ShapeError(f"k = {k} components asked for, but the data has {d} features",
                         hint=f"choose k between 1 and {d}")
    return k


def principal_axes(covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(eigenvalues, components) of a covariance matrix, largest first: ``eigh`` (C is
    symmetric), eigenvalues clipped at 0 (rounding), each component's sign by
    :func:`flip_signs`. Both engines call this, so they agree step for step."""
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    return np.clip(values[order], 0.0, None), flip_signs(vectors[:, order].T)


TIE_TOLERANCE = 1e-9  # |loadings| this close (relatively) count as tied


def flip_signs(components: np.ndarray) -> np.ndarray:
    """Flip each row so its largest-|entry| is positive (scikit-learn's svd_flip rule).

    When several entries tie for the largest magnitude (within :data:`TIE_TOLERANCE`, as
    for standardised 2-feature data, whose components are (±1, ±1)/√2), the first of them
    decides, so rounding noise cannot flip the sign between runs or routes.
    """
    rows = np.arange(components.shape[0])
    magnitude = np.abs(components)
    near_max = magnitude >= magnitude.max(axis=1, keepdims=True) * (1 - TIE_TOLERANCE)
    pivots = np.argmax(near_max, axis=1)
    signs = np.sign(components[rows, pivots])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


# --------------------------------------------------------------------------- the steps

def _rows_text(label: str, array: np.ndarray) -> str:
    if array.shape[0] <= SMALL_ROWS:
        return labelled_grid(label, array)
    return (labelled_grid(f"{label} (first {SHOWN_ROWS} rows)", array[:SHOWN_ROWS])
            + f"\n… {array.shape[0] - SHOWN_ROWS} more rows")


def _vec(array: np.ndarray) -> str:
    return "[" + ", ".join(number_text(float(x), 4) for x in array) + "]"


def _steps(r: PCAResult, Xc: np.ndarray) -> list[LinalgStep]:
    n, d = r.data.shape
    cols = ", ".join(r.columns)
    small = n <= SMALL_ROWS
    steps = [LinalgStep(
        "The data", f"{{source}}: {n} samples (rows) × {d} features ({{columns}})"
        + ("." if small else f"; the first {SHOWN_ROWS} rows are shown."),
        rf"X \in \mathbb{{R}}^{{{n} \times {d}}},\quad X = {array_latex(r.data, SHOWN_ROWS if not small else n)}",
        _rows_text("X", r.data), literals=(("source", r.source), ("columns", cols)))]
    steps.append(LinalgStep(
        "Centre", "Subtract each feature's mean, so the principal directions describe spread "
        "around the centre of the data rather than its position.",
        rf"\mu = {array_latex(r.mean[None, :])},\quad X_c = X - \mathbf{{1}}\mu^\top",
        f"μ = {_vec(r.mean)}\n" + (_rows_text("Xc", r.data - r.mean))))
    if r.standardize:
        steps.append(LinalgStep(
            "Standardise", "Divide each centred feature by its sample standard deviation (with $n − 1$), "
            "so features in different units weigh equally; the covariance becomes the "
            "correlation matrix.",
            rf"s = {array_latex(r.scale[None, :])},\quad Z_{{ij}} = (X_{{ij}} - \mu_j)/s_j",
            f"s = {_vec(r.scale)}\n" + _rows_text("Xc (standardised)", Xc)))
    cov_text = labelled_grid("C", r.covariance) if d <= SMALL_FEATURES else \
        f"C is {d}×{d}; its diagonal (the variances) sums to {format_number(float(np.trace(r.covariance)), 6)}"
    steps.append(LinalgStep(
        "Covariance matrix", f"$C = X_cᵀ X_c / (n − 1)$ with $n − 1 = {n - 1}$ (the unbiased sample "
        "covariance); entry $(i, j)$ is how features $i$ and $j$ vary together.",
        rf"C = \frac{{X_c^\top X_c}}{{{n - 1}}}" + (f" = {array_latex(r.covariance)}" if d <= SMALL_FEATURES else ""),
        cov_text))
    shown = min(d, SMALL_FEATURES)
    comp_lines = [f"λ{subscript(i + 1)} = {number_text(float(r.eigenvalues[i]), 6)},  w{subscript(i + 1)} = "
                  f"{_vec(r.all_components[i])}" for i in range(shown)]
    if d > shown:
        comp_lines.append(f"… {d - shown} more")
    steps.append(LinalgStep(
        "Eigen-decomposition of $C$", "$C$ is symmetric, so numpy.linalg.eigh gives real eigenvalues "
        "(the variances along each direction) and orthonormal eigenvectors (the principal "
        "directions), sorted largest first. Each direction's sign is fixed so its "
        "largest-magnitude loading is positive.",
        r"C = W^\top \Lambda W,\quad " + r",\ ".join(
            rf"\lambda_{{{i + 1}}} = {format_number(float(r.eigenvalues[i]), 6)}" for i in range(shown)),
        "\n".join(comp_lines)))
    ratio_all = r.eigenvalues / r.eigenvalues.sum() if r.eigenvalues.sum() > 0 else r.eigenvalues
    cumulative = np.cumsum(ratio_all)
    steps.append(LinalgStep(
        "Explained variance", "Each eigenvalue's share of the total variance "
        f"$Σλ = {format_number(float(r.eigenvalues.sum()), 6)}$ is the fraction of the data's spread "
        "that its component captures.",
        r"\text{ratio}_i = \frac{\lambda_i}{\sum_j \lambda_j}:\quad " + r",\ ".join(
            f"{100 * x:.2f}\\%" for x in ratio_all[:shown]),
        "\n".join(f"PC{i + 1}: {100 * ratio_all[i]:.2f}%  (cumulative {100 * cumulative[i]:.2f}%)"
                  for i in range(shown))))
    steps.append(LinalgStep(
        f"Project onto {r.k} component{'s' if r.k > 1 else ''}",
        f"The scores are the coordinates of each centred sample along the top {r.k} "
        f"direction{'s' if r.k > 1 else ''}: $T = X_c Wₖᵀ$, a ${n}×{r.k}$ matrix.",
        rf"T = X_c W_k^\top = {array_latex(r.transformed, SHOWN_ROWS if not small else n)}",
        _rows_text("T", r.transformed)))
    lost = 1.0 - float(cumulative[r.k - 1]) if r.eigenvalues.sum() > 0 else 0.0
    steps.append(LinalgStep(
        "Reconstruct and measure the error",
        ("Mapping the scores back, $(T Wₖ)·s + μ$ (undoing the standardisation), keeps only "
         if r.scale is not None else "Mapping the scores back, $T Wₖ + μ$, keeps only ")
        + "the top components; the fraction of variance lost equals the discarded eigenvalues' share.",
        rf"\frac{{\|X_c - \hat X_c\|_F^2}}{{\|X_c\|_F^2}} = {r.reconstruction_error:.6g}"
        rf" = \frac{{\sum_{{i>{r.k}}} \lambda_i}}{{\sum_i \lambda_i}} = {lost:.6g},\quad "
        rf"\text{{MSE}} = {r.reconstruction_mse:.6g}",
        f"‖Xc − X̂c‖²_F / ‖Xc‖²_F = {number_text(r.reconstruction_error)} = Σ_(i>{r.k}) λᵢ / Σλ = "
        f"{number_text(lost)}\n"
        f"mean squared error per entry (original units) = {number_text(r.reconstruction_mse)}"))
    if r.data.size <= SVD_CHECK_MAX_ENTRIES:
        singular = np.linalg.svd(Xc, compute_uv=False)
        from_svd = singular**2 / (n - 1)
        gap = float(np.max(np.abs(from_svd - r.eigenvalues[:len(from_svd)])))
        steps.append(LinalgStep(
            "Cross-check with the SVD", "The same variances come from the singular values of the "
            "centred data, $λᵢ = σᵢ² / (n − 1)$, without forming $C$.",
            rf"\max_i \left|\frac{{\sigma_i^2}}{{n-1}} - \lambda_i\right| = {gap:.2g}",
            f"max |σᵢ²/(n − 1) − λᵢ| = {number_text(gap, 2)}"))
    return steps
