"""Objectives: symbolic gradients, data losses and gradients (checked by independent routes),
CSV loading, the built-in dataset and the mini-batch sampler."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derivekit.errors import DerivekitError
from derivekit.optim.objectives import (
    BatchSampler,
    LinearRegression,
    LogisticRegression,
    SymbolicObjective,
    as_objective,
    load_csv,
    make_dataset,
)


def _finite_difference(objective, theta, h=1e-6):
    out = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        out[i] = (objective.value(theta + e) - objective.value(theta - e)) / (2 * h)
    return out


def test_symbolic_objective_gradient_matches_sympy_diff():
    x, y = sp.symbols("x y")
    expr = (1 - x) ** 2 + 100 * (y - x ** 2) ** 2 + sp.exp(x * y)
    objective = SymbolicObjective("(1 - x)^2 + 100*(y - x^2)^2 + exp(x*y)")
    assert objective.names == ("x", "y")
    rng = np.random.default_rng(0)
    for theta in rng.normal(size=(5, 2)):
        loss, grad = objective.value_and_grad(theta)
        point = {x: theta[0], y: theta[1]}
        assert loss == pytest.approx(float(expr.subs(point)), rel=1e-12)
        expected = [float(sp.diff(expr, v).subs(point)) for v in (x, y)]
        assert np.allclose(grad, expected, rtol=1e-12)


def test_symbolic_objective_with_dl_functions_and_latex():
    objective = as_objective(r"\log(1 + e^{-w}) + \frac{1}{2} w^2")
    loss, grad = objective.value_and_grad(np.array([0.3]))
    assert loss == pytest.approx(np.log1p(np.exp(-0.3)) + 0.045)
    assert grad[0] == pytest.approx(-1 / (1 + np.exp(0.3)) + 0.3)
    sig = as_objective("sigmoid(w) + relu(w - 1)")
    assert sig.value_and_grad(np.array([2.0]))[1][0] == pytest.approx(
        1 / (1 + np.exp(-2)) * (1 - 1 / (1 + np.exp(-2))) + 1)


def test_symbolic_grid_evaluation_is_vectorised():
    objective = SymbolicObjective("x^2 + 10*y^2")
    gx, gy = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 3))
    assert np.allclose(objective.value_grid(gx, gy), gx ** 2 + 10 * gy ** 2)


@pytest.mark.parametrize("source, message", [("3 + 4", "no variables"), ("x^2 + a*y", None)])
def test_symbolic_objective_errors(source, message):
    if message:
        with pytest.raises(DerivekitError, match=message):
            SymbolicObjective(source)
    else:
        with pytest.raises(DerivekitError, match="also depends on a"):
            SymbolicObjective(source, wrt="x,y")


@pytest.mark.parametrize("model", [LinearRegression, LogisticRegression])
def test_data_gradients_match_finite_differences(model):
    data = make_dataset("linear" if model is LinearRegression else "logistic", samples=80, features=3, seed=1)
    objective = model(data)
    theta = np.array([0.3, -0.2, 0.5, 0.1])
    loss, grad = objective.value_and_grad(theta)
    assert np.allclose(grad, _finite_difference(objective, theta), rtol=1e-6, atol=1e-8)
    rows = np.array([3, 10, 11, 50])
    sub = model(type(data)(data.X[rows], data.y[rows], data.features))
    assert np.allclose(objective.value_and_grad(theta, rows)[1], sub.value_and_grad(theta)[1])


def test_losses_match_their_textbook_formulas():
    data = make_dataset("logistic", samples=50, features=2, seed=2)
    theta = np.array([0.7, -1.1, 0.2])
    z = data.X @ theta[:2] + theta[2]
    p = 1 / (1 + np.exp(-z))
    bce = -np.mean(data.y * np.log(p) + (1 - data.y) * np.log(1 - p))
    assert LogisticRegression(data).value(theta) == pytest.approx(bce, rel=1e-12)
    mse = np.mean((z - data.y) ** 2)
    assert LinearRegression(data).value(theta) == pytest.approx(mse, rel=1e-12)


def test_logistic_loss_is_stable_for_large_logits():
    data = make_dataset("logistic", samples=20, features=1, seed=0)
    loss, grad = LogisticRegression(data).value_and_grad(np.array([1e4, 0.0]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


def test_parameter_names_and_default_start():
    objective = LinearRegression(make_dataset("linear", samples=10, features=2))
    assert objective.names == ("w_x1", "w_x2", "b")
    assert objective.start_vector(None).tolist() == [0.0, 0.0, 0.0]
    assert objective.start_vector({"b": 2}).tolist() == [0.0, 0.0, 2.0]


def test_make_dataset_is_seeded():
    a, b, c = (make_dataset("linear", samples=30, seed=s) for s in (1, 1, 2))
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    logistic = make_dataset("logistic", samples=200, seed=0)
    assert set(np.unique(logistic.y)) == {0.0, 1.0}
    assert logistic.true_params == {"w_x1": 2.0, "w_x2": -3.0, "b": 0.5}


def test_load_csv_with_named_columns(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_text("area,rooms,price,id\n50,2,100,1\n80,3,160,2\n\n65,2,131,3\n")
    data = load_csv(path, target="price", features="area,rooms")
    assert data.features == ("area", "rooms") and data.target == "price"
    assert data.X.tolist() == [[50, 2], [80, 3], [65, 2]] and data.y.tolist() == [100, 160, 131]
    every = load_csv(path, target="price")  # the row-ID column is skipped, and said so
    assert every.features == ("area", "rooms") and "'id'" in every.notes[0]
    assert load_csv(path, target="price", skip_ids=False).features == ("area", "rooms", "id")
    assert LinearRegression(data).names == ("w_area", "w_rooms", "b")


@pytest.mark.parametrize("text, kwargs, message", [
    ("a,b\n1,2\n", {"target": "y"}, "(?s)no column 'y'.*columns are a, b"),
    ("a,y\n1,2\n3,x\n", {"target": "y"}, "line 3, column 'y': 'x' is not a number"),
    ("a,y\n", {"target": "y"}, "no rows"),
    ("", {"target": "y"}, "empty"),
])
def test_load_csv_errors(tmp_path, text, kwargs, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(DerivekitError, match=message):
        load_csv(path, **kwargs)


def test_missing_csv_file(tmp_path):
    with pytest.raises(DerivekitError, match="cannot read"):
        load_csv(tmp_path / "nope.csv", target="y")


def test_logistic_needs_a_binary_target():
    with pytest.raises(DerivekitError, match="0/1 target"):
        LogisticRegression(make_dataset("linear", samples=10))


def test_sampler_shuffles_every_epoch_and_covers_every_row():
    sampler = BatchSampler(10, 4, seed=3)
    epochs = [np.concatenate([sampler() for _ in range(3)]) for _ in range(3)]
    for epoch in epochs:
        assert sorted(epoch.tolist()) == list(range(10))
    assert not np.array_equal(epochs[0], epochs[1])
    again = BatchSampler(10, 4, seed=3)
    assert np.array_equal(np.concatenate([again() for _ in range(3)]), epochs[0])
    assert sampler.epoch == 2


# --- the MLP (backprop from derivekit.matrix.networks) -----------------------------------------------

def test_mlp_gradient_matches_finite_differences():
    from derivekit.optim.objectives import MLPRegression
    objective = MLPRegression(make_dataset("nonlinear", samples=40, features=2, seed=3), hidden=4)
    assert len(objective.names) == 4 * 2 + 4 + 4 + 1
    assert objective.names[:2] == ("W1[0,0]", "W1[0,1]") and objective.names[-1] == "b2"
    theta = objective.default_start() + 0.1
    loss, grad = objective.value_and_grad(theta)
    assert np.allclose(grad, _finite_difference(objective, theta), rtol=1e-5, atol=1e-8)
    # the loss is (1/2m)·Σ (ŷ − y)², computed here by hand
    W1, b1 = theta[:8].reshape(4, 2), theta[8:12].reshape(4, 1)
    W2, b2 = theta[12:16].reshape(1, 4), theta[16]
    prediction = (W2 @ np.tanh(W1 @ objective.X.T + b1) + b2).ravel()
    assert loss == pytest.approx(np.mean((prediction - objective.y) ** 2) / 2, rel=1e-12)
    rows = np.array([0, 5, 7])  # a mini-batch of another size compiles its own program
    assert objective.value_and_grad(theta, rows)[1].shape == grad.shape


def test_mlp_fits_a_nonlinear_target():
    from derivekit.optim.objectives import MLPRegression
    from derivekit.optim.optimizers import minimize
    objective = MLPRegression(make_dataset("nonlinear", samples=200, features=1, seed=0), hidden=8)
    t = minimize(objective, method="adam", lr=0.05, steps=600)
    assert t.final_loss < 0.1 * t.losses[0]
    again = minimize(objective, method="minibatch", lr=0.1, steps=100, seed=4)
    assert np.array_equal(again.points, minimize(objective, method="minibatch", lr=0.1, steps=100, seed=4).points)


def test_mlp_rejects_an_unknown_activation():
    from derivekit.optim.objectives import MLPRegression
    with pytest.raises(DerivekitError, match="activation"):
        MLPRegression(make_dataset("nonlinear", samples=10), activation="swoosh")
