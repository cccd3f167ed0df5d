"""``dk.pca(…, engine="dask")`` and ``pca --engine dask``: the same answer as the NumPy
engine on generated data, statistics of a large generated CSV, a local Dask cluster."""

import json

import numpy as np
import pytest

pytest.importorskip("dask.dataframe")

import derivekit as dk  # noqa: E402
from derivekit.cli import main  # noqa: E402
from derivekit.errors import DerivekitError  # noqa: E402
from derivekit.linalg.pca_dask import pca_dask  # noqa: E402


def write_csv(path, data, names, ids=False):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join((["id"] if ids else []) + list(names)) + "\n")
        for i, row in enumerate(data):
            cells = ([str(i + 1)] if ids else []) + [f"{float(v):.17g}" for v in row]
            handle.write(",".join(cells) + "\n")
    return str(path)


def random_data(seed, n, d):
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((d, d)) * rng.uniform(0.2, 3, size=d)
    return rng.standard_normal((n, d)) @ mixing + rng.uniform(-50, 50, size=d)


def same_up_to_sign(a, b, tol):
    for u, v in zip(a, b):
        assert min(np.max(np.abs(u - v)), np.max(np.abs(u + v))) <= tol


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("standardize", [False, True])
def test_equals_the_numpy_engine_on_generated_data(tmp_path, seed, standardize):
    rng = np.random.default_rng(100 + seed)
    n, d = int(rng.integers(50, 3000)), int(rng.integers(2, 7))
    X = random_data(seed, n, d)
    path = write_csv(tmp_path / "data.csv", X, [f"f{j}" for j in range(d)])
    k = int(rng.integers(1, d + 1))
    dense = dk.pca(X, k, standardize=standardize)
    streamed = pca_dask(path, k, standardize=standardize, blocksize=int(rng.integers(2_000, 40_000)))
    assert streamed.blocks >= 1 and streamed.n_samples == n
    same_up_to_sign(streamed.components, dense.components, 1e-10)
    same_up_to_sign(streamed.all_components, dense.all_components, 1e-10)
    scale = max(1.0, float(dense.eigenvalues[0]))
    np.testing.assert_allclose(streamed.eigenvalues, dense.eigenvalues, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(streamed.mean, dense.mean, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(streamed.covariance, dense.covariance, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(streamed.explained_variance_ratio, dense.explained_variance_ratio, atol=1e-10)
    assert streamed.reconstruction_error == pytest.approx(dense.reconstruction_error, abs=1e-10)
    assert streamed.reconstruction_mse == pytest.approx(dense.reconstruction_mse, rel=1e-8, abs=1e-10)
    np.testing.assert_allclose(streamed.transformed, dense.transformed[:len(streamed.transformed)],
                               atol=1e-8 * max(1.0, float(np.max(np.abs(dense.transformed)))))


def test_scores_written_to_a_file_equal_the_numpy_engine(tmp_path):
    X = random_data(7, 1500, 4)
    path = write_csv(tmp_path / "data.csv", X, list("abcd"))
    out = tmp_path / "scores.csv"
    result = pca_dask(path, 3, out=str(out), blocksize=10_000)
    assert result.blocks > 1 and result.scores_file == str(out)
    scores = np.loadtxt(out, delimiter=",", skiprows=1)
    dense = dk.pca(X, 3)
    np.testing.assert_allclose(scores, dense.transformed, atol=1e-9)
    with pytest.raises(DerivekitError, match="not written over"):
        pca_dask(path, 3, out=str(out))


def test_id_columns_are_skipped_and_chosen_columns_are_kept(tmp_path):
    X = random_data(3, 400, 3)
    named = write_csv(tmp_path / "named.csv", X, ["a", "b", "c"], ids=True)
    assert pca_dask(named).columns == ("a", "b", "c")
    assert tuple(pca_dask(named).skipped) == ("id",)
    numbered = np.column_stack([np.arange(1, 401), X])  # row numbers under a plain name
    path = write_csv(tmp_path / "numbered.csv", numbered, ["n", "a", "b", "c"])
    result = pca_dask(path)
    assert result.columns == ("a", "b", "c") and tuple(result.skipped) == ("n",)
    assert "1..400" in result.skipped["n"]
    shuffled = numbered.copy()
    shuffled[:, 0] = np.random.default_rng(0).permutation(400) + 1  # still one number per row
    assert tuple(pca_dask(write_csv(tmp_path / "shuffled.csv", shuffled, ["n", "a", "b", "c"])).skipped) == ("n",)
    repeated = numbered.copy()
    repeated[:, 0] = np.r_[1, 1, np.arange(3, 400), 400]  # 1..400 but 2 missing, 1 twice
    assert not pca_dask(write_csv(tmp_path / "repeated.csv", repeated, ["n", "a", "b", "c"])).skipped
    np.testing.assert_allclose(result.eigenvalues, dk.pca(X).eigenvalues, rtol=1e-10)
    assert pca_dask(path, columns=["n", "a"]).columns == ("n", "a")


@pytest.mark.parametrize("text, message", [
    ("a,b\n1,2\n3,x\n", "not convert|as numbers"),
    ("a,b\n1,2\n3,\n4,5\n", "NaN or infinite"),
    ("a,b\n1,2\n3,nan\n4,5\n", "NaN or infinite"),
    ("a,b\n1,2\n", "at least 2 samples"),
    ("a,b\n1,2\n3,4\n5,6,7\n", "fields|tokenizing"),
])
def test_bad_files_are_refused_clearly(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DerivekitError, match=message):
        pca_dask(str(path))


def test_refusals_say_what_to_write(tmp_path):
    path = write_csv(tmp_path / "d.csv", random_data(1, 30, 2), ["a", "b"])
    with pytest.raises(DerivekitError, match="reads a CSV file"):
        dk.pca([[1, 2], [3, 4]], engine="dask")
    with pytest.raises(DerivekitError, match="no column 'z'"):
        dk.pca(path, engine="dask", columns=["a", "z"])
    with pytest.raises(DerivekitError, match="k = 3"):
        dk.pca(path, 3, engine="dask")
    with pytest.raises(DerivekitError, match="unknown engine"):
        dk.pca(path, engine="spark")
    with pytest.raises(DerivekitError, match="dask engine"):
        dk.pca(path, out=str(tmp_path / "s.csv"))
    with pytest.raises(DerivekitError, match="not a Dask scheduler address"):
        dk.pca(path, engine="dask", scheduler="nonsense://host")


def test_cli_pca_engine_dask_summarises_rows_in_json(tmp_path, capsys):
    X = random_data(5, 600, 3)
    path = write_csv(tmp_path / "d.csv", X, ["a", "b", "c"], ids=True)
    out = tmp_path / "scores.csv"
    assert main(["pca", path, "--engine", "dask", "--format", "json", "--out", str(out)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["engine"] == "dask" and payload["method"] == "covariance"
    assert payload["n_samples"] == 600 and len(payload["transformed"]) == payload["transformed_rows_shown"] == 5
    assert payload["skipped_columns"] == ["id"] and payload["scores_file"] == str(out)
    np.testing.assert_allclose(payload["components"], dk.pca(X).components, atol=1e-10)
    assert len(out.read_text().splitlines()) == 601
    assert main(["pca", path, "--engine", "dask", "--plot", str(tmp_path / "p.png")]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["pca", path, "--out", str(tmp_path / "t.csv")]) == 2
    assert "--engine dask" in capsys.readouterr().err


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1", dashboard_address=None) as local:
        yield local


def test_a_local_cluster_gives_the_same_components(tmp_path, cluster, capsys):
    X = random_data(11, 2000, 4)
    path = write_csv(tmp_path / "d.csv", X, list("abcd"))
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    result = dk.pca(path, 2, engine="dask", scheduler=address)
    assert "cluster" in result.where
    same_up_to_sign(result.components, dk.pca(X, 2).components, 1e-10)
    assert main(["pca", path, "--engine", "dask", "--scheduler", address, "--no-steps"]) == 0
    assert "PC1" in capsys.readouterr().out


def _generate(path, n, seed, chunk=100_000):
    """Write n rows of a correlated Gaussian and return (mean, covariance) computed while
    writing, from sums about the true mean (independent of the engine's merge)."""
    rng = np.random.default_rng(seed)
    true_mean = np.array([3.0, -1.0, 10.0, 0.5])
    mixing = np.array([[2.0, 0, 0, 0], [1.0, 1.0, 0, 0], [0.5, -0.3, 0.7, 0], [0.1, 0.2, 0.3, 0.4]])
    s1, s2 = np.zeros(4), np.zeros((4, 4))
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("a,b,c,d\n")
        for start in range(0, n, chunk):
            rows = rng.standard_normal((min(chunk, n - start), 4)) @ mixing.T + true_mean
            np.savetxt(handle, rows, fmt="%.17g", delimiter=",")
            centred = rows - true_mean
            s1 += centred.sum(axis=0)
            s2 += centred.T @ centred
    mean = true_mean + s1 / n
    return mean, (s2 - np.outer(s1, s1) / n) / (n - 1)


@pytest.mark.parametrize("rows", [100_000, pytest.param(1_000_000, marks=pytest.mark.slow)])
def test_a_large_generated_csv_matches_the_statistics_written_with_it(tmp_path, rows):
    path = tmp_path / "big.csv"
    mean, covariance = _generate(path, rows, seed=rows)
    result = pca_dask(str(path), 4)
    assert result.n_samples == rows and result.blocks >= 1
    np.testing.assert_allclose(result.mean, mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result.covariance, covariance, rtol=1e-9, atol=1e-12)
    values, vectors = np.linalg.eigh(covariance)
    np.testing.assert_allclose(result.eigenvalues, values[::-1], rtol=1e-9)
    same_up_to_sign(result.components, vectors[:, ::-1].T, 1e-7)


def test_a_progress_bar_only_on_a_terminal(monkeypatch):
    import io
    import sys

    from dask.diagnostics import ProgressBar

    from derivekit.dask_blocks import Engine

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not isinstance(Engine()._progress_bar(), ProgressBar)
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert isinstance(Engine()._progress_bar(), ProgressBar)
    assert not isinstance(Engine(progress=False)._progress_bar(), ProgressBar)
