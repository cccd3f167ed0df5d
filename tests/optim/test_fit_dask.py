"""``dk.minimize(…, engine="dask")`` and ``fit --engine dask``: trajectories equal to the
in-memory engine's, seeded mini-batches drawn from blocks, a large generated CSV checked
against the normal equations accumulated while writing it, and a local Dask cluster."""

import numpy as np
import pytest

pytest.importorskip("dask.dataframe")

import derivekit as dk  # noqa: E402
from derivekit.cli import main  # noqa: E402
from derivekit.errors import DerivekitError  # noqa: E402
from derivekit.optim.fit_dask import BlockBatches, csv_objective  # noqa: E402
from derivekit.optim.objectives import (  # noqa: E402
    LinearRegression,
    LogisticRegression,
    make_dataset,
)


def write_csv(path, data, ids=False):
    names = list(data.features) + [data.target]
    table = np.column_stack([data.X, data.y])
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join((["id"] if ids else []) + names) + "\n")
        for i, row in enumerate(table):
            handle.write(",".join(([str(i + 1)] if ids else []) + [f"{float(v):.17g}" for v in row]) + "\n")
    return str(path)


MODELS = {"linear": LinearRegression, "logistic": LogisticRegression}


CASES = [(seed, model, method) for seed in range(4) for model in ("linear", "logistic")
         for method in ("gd", "momentum", "adam")]


@pytest.mark.parametrize("seed, model, method", [
    case if i % 4 == 0 else pytest.param(*case, marks=pytest.mark.slow) for i, case in enumerate(CASES)])
def test_full_batch_trajectories_equal_the_numpy_engine(tmp_path, seed, model, method):
    rng = np.random.default_rng(seed)
    data = make_dataset(model, samples=int(rng.integers(300, 2500)), features=int(rng.integers(1, 5)), seed=seed)
    path = write_csv(tmp_path / "d.csv", data)
    dense = dk.minimize(MODELS[model](data), method=method, lr=0.05, steps=60)
    with csv_objective(path, model, "y", blocksize=int(rng.integers(8_000, 30_000))) as streamed:
        assert len(streamed.parts) > 1
        run = dk.minimize(streamed, method=method, lr=0.05, steps=60)
    assert run.points.shape == dense.points.shape
    np.testing.assert_allclose(run.points, dense.points, rtol=0, atol=1e-10)
    np.testing.assert_allclose(run.losses, dense.losses, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method, batch", [("sgd", None), ("minibatch", None), ("adam", 50)])
def test_mini_batches_on_one_block_are_the_numpy_engines_draws(method, batch):
    data = make_dataset("linear", samples=400, features=3, seed=2)
    dense = dk.minimize(LinearRegression(data), method=method, lr=0.01, steps=120, batch_size=batch, seed=5)
    run = dk.minimize(LinearRegression(data), method=method, lr=0.01, steps=120, batch_size=batch, seed=5,
                      engine="dask")
    np.testing.assert_allclose(run.points, dense.points, rtol=0, atol=1e-10)
    assert run.batch_size == dense.batch_size


def test_mini_batches_from_several_blocks_cover_every_row_once_an_epoch(tmp_path):
    data = make_dataset("linear", samples=700, features=2, seed=4)
    data.X[:, 0] = np.arange(700)  # a feature that names its row
    path = write_csv(tmp_path / "d.csv", data)
    with csv_objective(path, "linear", "y", features=["x1", "x2"], blocksize=6_000) as streamed:
        assert len(streamed.parts) > 2
        draws = BlockBatches(streamed, 32, seed=9)
        seen = []
        while draws.epoch == 0:
            seen.extend(draws()[0][:, 0].astype(int).tolist())
        seen = seen[:-len(draws.X[draws.order[:32]])]  # the first batch of epoch 1
        assert sorted(seen) == list(range(700))
        again = BlockBatches(streamed, 32, seed=9)
        first = [again()[0][:, 0].tolist() for _ in range(5)]
        repeat = BlockBatches(streamed, 32, seed=9)
        assert first == [repeat()[0][:, 0].tolist() for _ in range(5)]
        other = [BlockBatches(streamed, 32, seed=10)()[0][:, 0].tolist()]
        assert other != first[:1]


def test_minibatch_on_several_blocks_is_seeded_and_descends(tmp_path):
    data = make_dataset("linear", samples=900, features=3, seed=6)
    path = write_csv(tmp_path / "d.csv", data)
    with csv_objective(path, "linear", "y", blocksize=10_000) as streamed:
        assert len(streamed.parts) > 2
        runs = [dk.minimize(streamed, method="minibatch", lr=0.05, steps=40, seed=1) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].points, runs[1].points)
    assert np.all(np.isfinite(runs[0].losses)) and runs[0].losses[-1] < 0.1 * runs[0].losses[0]


def test_refusals_say_what_to_write(tmp_path):
    data = make_dataset("linear", samples=50, features=2, seed=0)
    path = write_csv(tmp_path / "d.csv", data)
    with pytest.raises(DerivekitError, match="linear and logistic"):
        csv_objective(path, "mlp", "y")
    with pytest.raises(DerivekitError, match="0/1 target"):
        csv_objective(path, "logistic", "y")
    with pytest.raises(DerivekitError, match="no column 'label'"):
        csv_objective(path, "linear", "label")
    with pytest.raises(DerivekitError, match="also listed as a feature"):
        csv_objective(path, "linear", "y", features="x1,y")
    with pytest.raises(DerivekitError, match="data objectives"):
        dk.minimize("x^2 + y^2", start={"x": 1, "y": 1}, engine="dask")
    with pytest.raises(DerivekitError, match="unknown engine"):
        dk.minimize(LinearRegression(data), engine="ray")


def test_cli_fit_engine_dask(tmp_path, capsys):
    data = make_dataset("linear", samples=800, features=2, seed=3)
    path = write_csv(tmp_path / "d.csv", data, ids=True)
    out = tmp_path / "predictions.csv"
    assert main(["fit", "--data", path, "--engine", "dask", "--steps", "300", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "least squares (normal equations summed over the blocks)" in text and "w_id" not in text
    assert "skipped the ID-like column 'id'" in text
    predictions = np.loadtxt(out, skiprows=1)
    assert predictions.shape == (800,)
    exact = LinearRegression(data).least_squares()
    np.testing.assert_allclose(predictions, data.X @ exact[:-1] + exact[-1], atol=1e-3)
    assert main(["fit", "--engine", "dask"]) == 2
    assert "--data" in capsys.readouterr().err
    assert main(["fit", "--data", path, "--out", str(tmp_path / "p.csv")]) == 2
    assert "--engine dask" in capsys.readouterr().err
    assert main(["fit", "--data", path, "--engine", "dask", "--out", str(out)]) == 2
    assert "not written over" in capsys.readouterr().err
    assert main(["fit", "--data", path, "--engine", "dask", "--lr", "5", "--steps", "50"]) == 1


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1", dashboard_address=None) as local:
        yield local


def test_a_local_cluster_gives_the_same_trajectory(tmp_path, cluster, capsys):
    data = make_dataset("logistic", samples=1500, features=3, seed=8)
    path = write_csv(tmp_path / "d.csv", data)
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    dense = dk.minimize(LogisticRegression(data), method="adam", lr=0.05, steps=15)
    with csv_objective(path, "logistic", "y", scheduler=address, blocksize=20_000) as streamed:
        assert "cluster" in streamed.engine.where and len(streamed.parts) > 1
        run = dk.minimize(streamed, method="adam", lr=0.05, steps=15)
    np.testing.assert_allclose(run.points, dense.points, rtol=0, atol=1e-10)
    on_cluster = dk.minimize(LogisticRegression(data), method="adam", lr=0.05, steps=15, engine="dask",
                             scheduler=address)
    np.testing.assert_allclose(on_cluster.points, dense.points, rtol=0, atol=1e-10)
    assert main(["fit", "--data", path, "--model", "logistic", "--engine", "dask", "--scheduler", address,
                 "--steps", "5"]) == 0
    assert "training accuracy" in capsys.readouterr().out


def _generate(path, n, seed, chunk=100_000):
    """n rows of y = x·w + b + noise; returns the least-squares answer from the normal
    equations accumulated while writing (independent of the engine's blocks)."""
    rng = np.random.default_rng(seed)
    w, b = np.array([1.5, -2.0, 0.25]), 0.75
    gram, moment = np.zeros((4, 4)), np.zeros(4)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("x1,x2,x3,y\n")
        for start in range(0, n, chunk):
            X = rng.standard_normal((min(chunk, n - start), 3))
            y = X @ w + b + 0.3 * rng.standard_normal(len(X))
            np.savetxt(handle, np.column_stack([X, y]), fmt="%.17g", delimiter=",")
            design = np.column_stack([X, np.ones(len(X))])
            gram += design.T @ design
            moment += design.T @ y
    return np.linalg.solve(gram, moment)


@pytest.mark.parametrize("rows", [100_000, pytest.param(1_000_000, marks=pytest.mark.slow)])
def test_a_large_generated_csv_fits_the_normal_equations_written_with_it(tmp_path, rows):
    path = tmp_path / "big.csv"
    exact = _generate(path, rows, seed=rows)
    with csv_objective(str(path), "linear", "y") as streamed:
        assert streamed.rows == rows
        run = dk.minimize(streamed, method="gd", lr=0.3, steps=200, grad_tol=1e-10)
        assert run.converged
        np.testing.assert_allclose(run.points[-1], exact, atol=1e-8)
        line = streamed.summary_lines(run.points[-1])[0]
        assert "max |θ − θ*|" in line
