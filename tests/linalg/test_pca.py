"""PCA with steps (derivekit.linalg.pca, dk.pca), datasets and plots."""

from __future__ import annotations

import json

import numpy as np
import pytest

import derivekit as dk
from derivekit.errors import DerivekitError, ShapeError
from derivekit.linalg.datasets import builtin, read_csv
from derivekit.linalg.pca import flip_signs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _svd_pca(X: np.ndarray, k: int, standardize: bool = False):
    """An independent reference: SVD of the centred data, sign rule applied by hand."""
    Xc = X - X.mean(axis=0)
    if standardize:
        Xc = Xc / Xc.std(axis=0, ddof=1)
    _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    magnitude = np.abs(Vt)  # documented rule: first entry of largest |loading| (ties 1e-9)
    pivots = np.argmax(magnitude >= magnitude.max(axis=1, keepdims=True) * (1 - 1e-9), axis=1)
    Vt = Vt * np.sign(Vt[np.arange(len(Vt)), pivots])[:, None]
    variance = s**2 / (X.shape[0] - 1)
    return Vt[:k], variance[:k], variance[:k] / variance.sum(), Xc @ Vt[:k].T


def _random_data(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(20, 300)), int(rng.integers(2, 8))
    mixing = rng.normal(size=(d, d)) * rng.uniform(0.2, 3.0, size=d)
    return rng.normal(size=(n, d)) @ mixing + rng.normal(size=d) * 5


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("standardize", [False, True])
def test_pca_matches_an_independent_svd(seed, standardize):
    X = _random_data(seed)
    k = int(np.random.default_rng(seed).integers(1, X.shape[1] + 1))
    components, variance, ratio, scores = _svd_pca(X, k, standardize)
    result = dk.pca(X, k, standardize=standardize)
    assert np.allclose(result.components, components, atol=1e-8)
    assert np.allclose(result.explained_variance, variance, rtol=0, atol=1e-10 * max(1, variance[0]))
    assert np.allclose(result.explained_variance_ratio, ratio, rtol=0, atol=1e-10)
    assert np.allclose(result.transformed, scores, atol=1e-7 * np.abs(scores).max())


def test_sign_convention_largest_loading_is_positive():
    for seed in range(5):
        result = dk.pca(_random_data(seed), 2)
        for row in result.all_components:
            assert row[np.argmax(np.abs(row))] > 0
    flipped = flip_signs(np.array([[0.6, -0.8], [-0.8, -0.6]]))
    assert np.allclose(flipped, [[-0.6, 0.8], [0.8, 0.6]])


def test_covariance_uses_n_minus_1_and_standardising_gives_correlation():
    X = _random_data(3)
    assert np.allclose(dk.pca(X, 1).covariance, np.cov(X, rowvar=False))
    assert np.allclose(dk.pca(X, 1, standardize=True).covariance, np.corrcoef(X, rowvar=False))


def test_reconstruction_error_is_the_discarded_variance():
    X = _random_data(5)
    d = X.shape[1]
    for k in range(1, d + 1):
        result = dk.pca(X, k)
        discarded = result.eigenvalues[k:].sum() / result.eigenvalues.sum()
        assert result.reconstruction_error == pytest.approx(discarded, abs=1e-10)
    full = dk.pca(X, d)
    assert np.allclose(full.reconstruction, X) and full.reconstruction_mse < 1e-20


def test_builtin_datasets_are_seeded_and_the_default():
    first, second = builtin("gaussian2d"), builtin("gaussian2d")
    assert np.array_equal(first.data, second.data) and first.data.shape == (200, 2)
    default = dk.pca()
    assert default.data.shape == (200, 2) and "gaussian2d" in default.source
    assert np.corrcoef(first.data, rowvar=False)[0, 1] > 0.7
    assert dk.pca("gaussian3d", 2).components.shape == (2, 3)
    with pytest.raises(DerivekitError, match="gaussian2d, gaussian3d"):
        builtin("nope")


def test_csv_input(tmp_path):
    path = tmp_path / "data.csv"
    X = _random_data(7)[:, :3]
    rows = ["a,b,c,label"] + [f"{x:.17g},{y:.17g},{z:.17g},pt{i}" for i, (x, y, z) in enumerate(X)]
    path.write_text("\n".join(rows) + "\n")
    data = read_csv(path, ["a", "c"])
    assert data.columns == ("a", "c") and np.allclose(data.data, X[:, [0, 2]])
    result = dk.pca(str(path), 1, columns=["a", "b", "c"])
    assert np.allclose(result.explained_variance, _svd_pca(X, 1)[1])
    with pytest.raises(DerivekitError, match="its columns are: a, b, c, label"):
        read_csv(path, ["z"])
    with pytest.raises(DerivekitError, match="'pt0' is not a finite number"):
        read_csv(path)
    with pytest.raises(DerivekitError, match="no such file"):
        read_csv(tmp_path / "missing.csv")


def test_other_input_forms():
    rows = [[1, 2], [3, 4], [5, 7], [2, 1]]
    reference = dk.pca(np.array(rows, dtype=float), 1)
    for form in (rows, "[[1, 2], [3, 4], [5, 7], [2, 1]]"):
        assert np.allclose(dk.pca(form, 1).components, reference.components)


def test_bad_requests_say_what_to_do():
    with pytest.raises(ShapeError, match="between 1 and 2"):
        dk.pca([[1, 2], [3, 4], [5, 6]], 3)
    with pytest.raises(ShapeError, match="at least 2 samples"):
        dk.pca([[1, 2]], 1)
    with pytest.raises(DerivekitError, match="column x2 is constant"):
        dk.pca([[1, 2], [3, 2], [5, 2]], 1, standardize=True)
    with pytest.raises(DerivekitError, match="NaN"):
        dk.pca(np.array([[1.0, np.nan], [2.0, 3.0]]), 1)


def test_steps_show_numbers_for_small_data_and_summaries_for_large():
    small = dk.pca([[1, 2], [3, 4], [5, 7], [2, 1]], 1).to_text()
    assert "μ = [2.75, 3.5]" in small and "n − 1 = 3" in small and "Cross-check with the SVD" in small
    large = dk.pca(np.random.default_rng(0).normal(size=(5000, 12)), 3)
    text = large.to_text()
    assert "first 5 rows" in text and "4995 more rows" in text and "C is 12×12" in text
    assert "Cross-check with the SVD" not in text
    titles = [s.title for s in large.steps]
    assert titles[:3] == ["The data", "Centre", "Covariance matrix"]
    assert "Standardise" in [s.title for s in dk.pca(k=1, standardize=True).steps]


def test_renderers():
    result = dk.pca(k=1)
    data = json.loads(result.to_json())
    assert data["k"] == 1 and len(data["explained_variance_ratio"]) == 1
    assert data["transformed_rows_shown"] == 5 and len(data["transformed"]) == 5
    assert result.to_latex().startswith("\\begin{array}") and "$$" in result.to_markdown()
    assert "explains 91.3% of the variance" in result.to_text()


# --------------------------------------------------------------------------- plots

def _is_png(path) -> bool:
    content = path.read_bytes()
    return len(content) > 1000 and content.startswith(PNG_MAGIC)


def test_pca_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from derivekit.plots.linalg import plot_pca
    for name, k in (("gaussian2d", 1), ("gaussian3d", 2)):
        path = tmp_path / f"{name}.png"
        plot_pca(dk.pca(name, k, standardize=(k == 2)), path)
        assert _is_png(path)
    assert _is_png(dk.pca(k=1).plot(tmp_path / "method.png"))
    one_feature = tmp_path / "one.png"
    plot_pca(dk.pca(np.arange(10.0)[:, None] ** 1.5, 1), one_feature)
    assert _is_png(one_feature)


def test_eig_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from derivekit.plots.linalg import plot_eig
    for i, matrix in enumerate(("[[2, 1], [1, 3]]", np.array([[0.0, -1.0], [1.0, 0.0]]))):
        path = tmp_path / f"eig{i}.png"
        plot_eig(dk.eig(matrix), path)
        assert _is_png(path)
    assert _is_png(dk.eig("[[2, 1], [1, 2]]").plot(tmp_path / "method.png"))
    with pytest.raises(DerivekitError, match="2×2"):
        plot_eig(dk.eig("[[1, 0, 0], [0, 2, 0], [0, 0, 3]]"), tmp_path / "x.png")


def test_plots_without_a_path_are_inline_figures_and_leave_the_backend_alone():
    matplotlib = pytest.importorskip("matplotlib")
    backend = matplotlib.get_backend()
    for result in (dk.pca(k=1), dk.eig("[[2, 1], [1, 3]]")):
        figure = result.plot()
        png = figure._repr_png_()  # what Jupyter calls to show it inline
        assert png.startswith(PNG_MAGIC) and len(png) > 1000
    assert matplotlib.get_backend() == backend
