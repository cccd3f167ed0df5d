"""Optimizers: closed forms, torch reference numbers, convergence, divergence, stopping,
schedules, reproducible sampling, and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import derivekit as dk
from derivekit.errors import DerivekitError
from derivekit.optim.objectives import (
    LinearRegression,
    LogisticRegression,
    make_dataset,
)
from derivekit.optim.optimizers import METHODS, SCHEDULES, compare, minimize

# --- closed forms -------------------------------------------------------------------------

@pytest.mark.parametrize("a, lr, theta0", [(6.0, 0.05, 2.0), (1.0, 0.3, -1.5), (4.0, 0.45, 1.0)])
def test_gd_on_a_quadratic_follows_the_geometric_sequence(a, lr, theta0):
    # J = a/2·θ², ∇J = aθ  ⇒  θ_k = (1 − αa)^k θ₀
    t = minimize(f"{a / 2}*t^2", {"t": theta0}, method="gd", lr=lr, steps=25, grad_tol=None)
    k = np.arange(26)
    assert np.allclose(t.points[:, 0], (1 - lr * a) ** k * theta0, rtol=1e-12, atol=1e-300)
    assert np.allclose(t.losses, a / 2 * t.points[:, 0] ** 2, rtol=1e-12)
    assert np.allclose(t.grad_norms, abs(a * t.points[:, 0]), rtol=1e-12)


def _momentum_matrix(a, lr, mu, nesterov):
    # state (θ, b): b' = μb + aθ;  θ' = θ − α b'  (heavy ball)
    #                               θ' = θ − α(aθ + μ b')  (torch's Nesterov)
    if nesterov:
        return np.array([[1 - lr * a * (1 + mu), -lr * mu * mu], [a, mu]])
    return np.array([[1 - lr * a, -lr * mu], [a, mu]])


@pytest.mark.parametrize("method", ["momentum", "nesterov"])
@pytest.mark.parametrize("a, lr, mu", [(2.0, 0.1, 0.9), (10.0, 0.02, 0.5), (1.0, 0.5, 0.99)])
def test_momentum_and_nesterov_follow_their_linear_recurrence(method, a, lr, mu):
    steps, theta0 = 30, 1.0
    t = minimize(f"{a / 2}*t^2", {"t": theta0}, method=method, lr=lr, steps=steps, momentum=mu,
                 grad_tol=None)
    matrix = _momentum_matrix(a, lr, mu, method == "nesterov")
    expected = [np.linalg.matrix_power(matrix, k) @ np.array([theta0, 0.0]) for k in range(steps + 1)]
    assert np.allclose(t.points[:, 0], [e[0] for e in expected], rtol=1e-10, atol=1e-12)


def test_heavy_ball_second_order_recurrence():
    # θ_{k+1} = (1 + μ − αa)θ_k − μθ_{k−1}
    a, lr, mu = 3.0, 0.1, 0.8
    p = minimize(f"{a / 2}*t^2", {"t": 1.0}, method="momentum", lr=lr, momentum=mu, steps=20,
                 grad_tol=None).points[:, 0]
    assert np.allclose(p[2:], (1 + mu - lr * a) * p[1:-1] - mu * p[:-2], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("method", ["adam", "adamw"])
@pytest.mark.parametrize("lr", [1e-3, 0.01, 0.3])
def test_adam_first_step_has_magnitude_lr(method, lr):
    # m̂₁ = g, v̂₁ = g², so Δθ = α g/(|g| + ε) ≈ ±α in every coordinate with g ≠ 0
    start = {"x": 1.5, "y": -0.2, "z": 3.0}
    t = minimize("x^2 + 10*y^2 + exp(z) + x*y", start, method=method, lr=lr, steps=1,
                 **({"weight_decay": 0.0} if method == "adamw" else {}))
    step = np.abs(t.points[1] - t.points[0])
    assert np.allclose(step, lr, rtol=1e-6)


# --- torch reference numbers -------------------------------------------------------------------
# Three updates of J(x, y) = x² + 10y² + xy from (1, −2) (float64). Computed once by running
# torch 2.13.0 (CPU) locally: p = torch.tensor([1., -2.], dtype=torch.float64,
# requires_grad=True); opt = torch.optim.<Class>([p], **kwargs); three times
# {opt.zero_grad(); f(p).backward(); opt.step()}. torch is not needed to run this test.
TORCH_REFERENCE = {
    "gd": ({"lr": 0.04}, [(1.0, -0.43999999999999995), (0.9376, -0.12799999999999997),
                          (0.867712, -0.063104)]),
    "momentum": ({"lr": 0.04}, [(1.0, -0.43999999999999995), (0.9376, 1.276), (0.755392, 1.762096)]),
    "nesterov": ({"lr": 0.04}, [(1.0, 0.9639999999999999), (0.774736, 0.68632),
                                (0.508782208, 0.064401664)]),
    "adagrad": ({"lr": 0.1}, [(1.0, -1.9000000000002564), (0.9000000001, -1.8311739568084793),
                              (0.929761353490924, -1.7758280620090379)]),
    "rmsprop": ({"lr": 0.1}, [(1.0, -1.000000002564103), (9.999999062149101e-08, -0.5602499824486151),
                              (0.490640016379705, -0.30803311957012985)]),
    "adam": ({"lr": 0.1}, [(1.0, -1.900000000025641), (0.9255863281643529, -1.8001717510522295),
                           (0.8453142913982408, -1.7006324951660277)]),
    "adamw": ({"lr": 0.1}, [(0.999, -1.898000000025641), (0.923587328164353, -1.7962778943052187),
                            (0.8424171693795484, -1.6949536841477053)]),
    # weight_decay=0.1 (L2 added to the gradient, as torch does for SGD and Adam)
    "gd+wd": ({"lr": 0.04, "weight_decay": 0.1},
              [(0.996, -0.43199999999999983), (0.929616, -0.12451199999999997),
               (0.856508736, -0.06158899199999998)]),
    "adam+wd": ({"lr": 0.1, "weight_decay": 0.1},
                [(0.900000009999999, -1.9000000000255102), (0.8407351501462775, -1.8001612987892903),
                 (0.818248673913516, -1.700609481331788)]),
}


@pytest.mark.parametrize("case", sorted(TORCH_REFERENCE))
def test_three_updates_match_torch(case):
    options, expected = TORCH_REFERENCE[case]
    method = case.split("+")[0]
    t = minimize("x^2 + 10*y^2 + x*y", {"x": 1.0, "y": -2.0}, method=method, steps=3, grad_tol=None,
                 **options)
    assert t.names == ("x", "y")
    assert np.allclose(t.points[1:], expected, rtol=1e-12, atol=1e-12)


def test_against_torch_when_installed():
    torch = pytest.importorskip("torch")
    data = make_dataset("logistic", samples=64, features=3, seed=5)
    objective = LogisticRegression(data)
    X, y = torch.tensor(data.X), torch.tensor(data.y)
    classes = {"gd": (torch.optim.SGD, {}), "nesterov": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
               "rmsprop": (torch.optim.RMSprop, {}), "adagrad": (torch.optim.Adagrad, {}),
               "adam": (torch.optim.Adam, {}), "adamw": (torch.optim.AdamW, {})}
    for method, (cls, kwargs) in classes.items():
        params = torch.zeros(4, dtype=torch.float64, requires_grad=True)
        opt = cls([params], lr=0.05, **kwargs)
        for _ in range(40):
            opt.zero_grad()
            z = X @ params[:3] + params[3]
            torch.nn.functional.binary_cross_entropy_with_logits(z, y).backward()
            opt.step()
        ours = minimize(objective, method=method, lr=0.05, steps=40, grad_tol=None)
        assert np.allclose(ours.points[-1], params.detach().numpy(), rtol=1e-10, atol=1e-12), method


@pytest.mark.parametrize("schedule", ["constant", "step", "exponential", "cosine"])
def test_against_torch_with_schedules_and_weight_decay(schedule):
    # every rule, with non-default hyper-parameters and L2 / decoupled decay, under each
    # schedule, follows torch.optim + torch.optim.lr_scheduler to rounding
    torch = pytest.importorskip("torch")
    sched = {"constant": (None, {}),
             "step": (lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5),
                      {"step_size": 10, "gamma": 0.5}),
             "exponential": (lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.97), {"gamma": 0.97}),
             "cosine": (lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=40), {"T_max": 40})}
    make_scheduler, options = sched[schedule]
    cases = [("momentum", torch.optim.SGD, {"momentum": 0.5, "weight_decay": 0.1}),
             ("nesterov", torch.optim.SGD, {"momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
             ("adagrad", torch.optim.Adagrad, {"weight_decay": 0.05}),
             ("rmsprop", torch.optim.RMSprop, {"alpha": 0.9, "weight_decay": 0.05}),
             ("adam", torch.optim.Adam, {"weight_decay": 0.1, "betas": (0.8, 0.99)}),
             ("adamw", torch.optim.AdamW, {"weight_decay": 0.3, "betas": (0.8, 0.99)})]
    for method, cls, kwargs in cases:
        p = torch.tensor([2.0, -1.5], dtype=torch.float64, requires_grad=True)
        opt = cls([p], lr=0.02, **kwargs)
        scheduler = make_scheduler(opt) if make_scheduler else None
        points = [p.detach().numpy().copy()]
        for _ in range(40):
            opt.zero_grad()
            (3 * (p[0] - 1) ** 2 + 10 * p[1] ** 2 + p[0] * p[1] + 0.1 * p[0] ** 4).backward()
            opt.step()
            points.append(p.detach().numpy().copy())
            if scheduler:
                scheduler.step()
        ours = minimize("3*(x-1)^2 + 10*y^2 + x*y + 0.1*x^4", {"x": 2.0, "y": -1.5}, method=method, lr=0.02,
                        steps=40, grad_tol=None, schedule=schedule, schedule_options=options,
                        **{k: v for k, v in kwargs.items() if k != "nesterov"})
        assert np.allclose(ours.points, np.array(points), rtol=1e-10, atol=1e-12), (method, schedule)


# --- convergence and divergence ------------------------------------------------------------

CONVEX = "x^2 + 10*y^2 + x*y"  # positive definite, minimum 0 at the origin

GOOD_RATES = {"gd": 0.05, "sgd": 0.05, "minibatch": 0.05, "momentum": 0.01, "nesterov": 0.01,
              "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05, "adamw": 0.05}


@pytest.mark.parametrize("method", METHODS)
def test_each_method_converges_on_a_convex_quadratic(method):
    t = minimize(CONVEX, {"x": 1.0, "y": -2.0}, method=method, lr=GOOD_RATES[method], steps=3000)
    assert not t.diverged
    assert t.final_loss < 1e-4 * t.losses[0]
    # AdamW's decoupled decay pulls towards 0, the minimiser here, so all end near the origin
    assert np.max(np.abs(t.points[-1])) < 1e-2


@pytest.mark.parametrize("method", METHODS)
def test_each_method_converges_on_logistic_regression(method):
    objective = LogisticRegression(make_dataset("logistic", samples=300, features=2, seed=1))
    t = minimize(objective, method=method, lr=GOOD_RATES[method] * 4, steps=600, seed=0)
    assert not t.diverged
    assert t.final_loss < 0.75 * t.losses[0]


@pytest.mark.parametrize("method", METHODS)
def test_each_method_reports_divergence_at_a_too_large_rate(method):
    # steep convex objective: a step of 1000 overflows exp
    t = minimize("exp(x) + exp(-x) + exp(y) + exp(-y)", {"x": 1.0, "y": -0.5}, method=method,
                 lr=1000.0, steps=200)
    assert t.diverged and not t.converged
    assert "too large" in t.reason and "lr=100" in t.reason
    assert np.all(np.isfinite(t.points)) and np.all(np.isfinite(t.losses))
    assert "nan" not in t.to_text() and "inf" not in t.to_text().replace("infinite", "")


@pytest.mark.parametrize("method", ["gd", "momentum", "nesterov"])
def test_growing_loss_is_reported_before_overflow(method):
    t = minimize(CONVEX, {"x": 1.0, "y": -2.0}, method=method, lr=0.3, steps=1000)
    assert t.diverged
    assert t.steps == 10 and "grew for 10 steps" in t.reason
    assert "lr=0.03" in t.reason


def test_adam_far_above_its_start_is_divergence():
    t = minimize(CONVEX, {"x": 1.0, "y": -2.0}, method="adam", lr=100.0, steps=300)
    assert t.diverged and "far above its start" in t.reason


def test_patience_controls_how_long_growth_is_tolerated():
    t = minimize(CONVEX, {"x": 1.0, "y": -2.0}, method="gd", lr=0.3, steps=1000, patience=4)
    assert t.diverged and t.steps == 4


def test_a_slowly_oscillating_but_convergent_run_is_not_divergence():
    t = minimize("(1-x)^2 + 100*(y-x^2)^2", {"x": -1.0, "y": 1.0}, method="momentum", lr=1e-3, steps=4000)
    assert not t.diverged and t.final_loss < 1e-6


# --- stopping ---------------------------------------------------------------------------------

def test_gradient_tolerance_stops_with_converged():
    t = minimize("x^2", {"x": 1.0}, method="gd", lr=0.1, steps=1000, grad_tol=1e-6)
    assert t.converged and not t.diverged
    assert t.grad_norms[-1] <= 1e-6 < t.grad_norms[-2]
    assert "grad_tol" in t.reason
    assert t.points.shape == (t.steps + 1, 1) and t.losses.shape == (t.steps + 1,)
    assert t.learning_rates.shape == (t.steps,)


def test_loss_change_tolerance_stops_with_converged():
    t = minimize("x^2", {"x": 1.0}, method="gd", lr=0.01, steps=5000, grad_tol=None, loss_tol=1e-3)
    assert t.converged and "loss_tol" in t.reason
    changes = np.abs(np.diff(t.losses)) / np.maximum(np.maximum(t.losses[:-1], t.losses[1:]), 1.0)
    assert changes[-1] <= 1e-3 and np.all(changes[:-1] > 1e-3)


def test_max_steps_is_neither_converged_nor_diverged():
    t = minimize("x^2 + y^2", {"x": 1, "y": 2}, method="gd", lr=1e-3, steps=7)
    assert not t.converged and not t.diverged
    assert t.points.shape == (8, 2) and "maximum of 7 steps" in t.reason


def test_zero_steps_records_the_start():
    t = minimize("x^2 + y^2", {"x": 1, "y": 2}, steps=0)
    assert t.points.tolist() == [[1.0, 2.0]] and t.losses.tolist() == [5.0]


def test_start_at_the_minimum_converges_immediately():
    t = minimize("x^2", {"x": 0.0}, method="adam")
    assert t.converged and t.steps == 0


# --- schedules -------------------------------------------------------------------------------

@pytest.mark.parametrize("schedule, options, formula", [
    ("constant", {}, lambda k: 0.1),
    ("step", {"step_size": 3, "gamma": 0.5}, lambda k: 0.1 * 0.5 ** (k // 3)),
    ("exponential", {"gamma": 0.9}, lambda k: 0.1 * 0.9 ** k),
    ("cosine", {}, lambda k: 0.1 * (1 + math.cos(math.pi * k / 10)) / 2),
    ("cosine", {"eta_min": 0.01, "T_max": 5}, lambda k: 0.01 + 0.09 * (1 + math.cos(math.pi * k / 5)) / 2),
])
def test_schedules_follow_their_closed_forms(schedule, options, formula):
    t = minimize("x^2", {"x": 1.0}, method="gd", lr=0.1, steps=10, grad_tol=None, schedule=schedule,
                 schedule_options=options)
    assert np.allclose(t.learning_rates, [formula(k) for k in range(10)], rtol=1e-14)
    # the rate is the one used: x_{k+1} = (1 − 2α_k) x_k
    assert np.allclose(t.points[1:, 0], np.cumprod(1 - 2 * t.learning_rates), rtol=1e-12)


def test_schedule_defaults_match_torch_names():
    assert set(SCHEDULES) == {"constant", "step", "exponential", "cosine"}
    t = minimize("x^2", {"x": 1.0}, method="gd", lr=0.1, steps=8, grad_tol=None, schedule="step")
    assert np.allclose(t.learning_rates, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001, 1e-4, 1e-4])


# --- data: sampling and least squares ------------------------------------------------------------

def test_linear_regression_matches_lstsq():
    objective = LinearRegression(make_dataset("linear", samples=500, features=3, seed=2))
    t = minimize(objective, method="gd", lr=0.2, steps=5000, grad_tol=1e-11)
    assert t.converged
    assert np.allclose(t.points[-1], objective.least_squares(), atol=1e-6, rtol=0)


@pytest.mark.parametrize("method, batch", [("sgd", 1), ("minibatch", 32), ("adam", 16)])
def test_stochastic_runs_are_reproducible_for_a_seed(method, batch):
    objective = LinearRegression(make_dataset("linear", samples=100, features=2, seed=3))
    runs = [minimize(objective, method=method, lr=0.01, steps=150, batch_size=batch, seed=s)
            for s in (7, 7, 8)]
    assert np.array_equal(runs[0].points, runs[1].points)
    assert not np.allclose(runs[0].points, runs[2].points)
    assert runs[0].batch_size == batch


def test_minibatch_gets_close_to_least_squares():
    objective = LinearRegression(make_dataset("linear", samples=400, features=2, seed=4))
    t = minimize(objective, method="minibatch", lr=0.05, steps=2000, seed=1,
                 schedule="cosine")
    assert np.allclose(t.points[-1], objective.least_squares(), atol=2e-2)


def test_sgd_method_defaults_to_one_row_and_full_batch_for_gd():
    objective = LinearRegression(make_dataset("linear", samples=50, features=1, seed=0))
    assert minimize(objective, method="sgd", steps=3).batch_size == 1
    assert minimize(objective, method="minibatch", steps=3).batch_size == 32
    assert minimize(objective, method="gd", steps=3).batch_size is None
    # a batch as large as the data is full-batch gradient descent
    full = minimize(objective, method="gd", lr=0.1, steps=20, grad_tol=None)
    same = minimize(objective, method="minibatch", lr=0.1, steps=20, batch_size=50, grad_tol=None)
    assert np.array_equal(full.points, same.points)


# --- API and errors ----------------------------------------------------------------------------

def test_public_names():
    t = dk.minimize("x^2 + 10*y^2", start={"x": 1, "y": 1}, method="adam", lr=0.01, steps=200)
    assert isinstance(t, dk.Trajectory)
    assert t.points.shape == (201, 2) and t.losses.shape == (201,)
    assert t.converged is False and t.diverged is False
    assert t.final_loss < t.losses[0]


def test_start_as_sequence_and_wrt_order():
    a = minimize("x^2 + 10*y^2", [1.0, 2.0], wrt=["y", "x"], method="gd", lr=0.01, steps=3)
    assert a.names == ("y", "x") and a.points[0].tolist() == [1.0, 2.0]


def test_compare_runs_each_method():
    c = compare(CONVEX, "gd, momentum,adam", start={"x": 1, "y": -2}, lr=0.01, steps=50)
    assert [r.method for r in c] == ["gd", "momentum", "adam"]
    assert c["adam"].method == "adam" and c.best in c.runs
    per_method = compare(CONVEX, ["gd", "adam"], start={"x": 1, "y": -2}, lr={"gd": 0.05, "adam": 0.1}, steps=5)
    assert [r.lr for r in per_method] == [0.05, 0.1]


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "adma"}, "did you mean 'adam'"),
    ({"method": "gd", "betas": (0.9, 0.99)}, "has no option betas"),
    ({"schedule": "linear"}, "unknown schedule"),
    ({"lr": -1.0}, "positive"),
    ({"steps": -3}, "steps"),
    ({"start": None}, "start point is needed"),
    ({"start": {"x": 1}}, "no value for y"),
    ({"start": {"x": 1, "y": 1, "z": 0}}, "does not have"),
    ({"start": [1, 2, 3]}, "3 values"),
])
def test_errors_say_what_to_do(kwargs, message):
    kwargs = {"start": {"x": 1.0, "y": 1.0}, **kwargs}
    with pytest.raises(DerivekitError, match=message):
        minimize("x^2 + y^2", **kwargs)


def test_start_outside_the_domain_is_an_error_not_divergence():
    with pytest.raises(DerivekitError, match="start point"):
        minimize("log(x)", {"x": -1.0})
