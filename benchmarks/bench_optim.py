"""Per-step overhead of ``dk.minimize`` over a hand-written NumPy loop, in one process.

    .venv/bin/python benchmarks/bench_optim.py [--repeat 7]

Each reference loop does what a user would write by hand — evaluate the loss and gradient,
record θ and the loss, stop when ‖∇J‖ ≤ 1e-8, update — with the same compiled loss-and-gradient
function, so the ratio
is the cost of derivekit's bookkeeping (gradient norms, stopping and divergence checks,
schedule, worked-step snapshots). Reported: best-of-``repeat`` CPU time per step (BLAS on one
thread, the three loops measured in turn each round, so that machine load hits all alike)
and the ratio;
the last column compares with a bare loop that has no stopping test at all. The issue's
budget is ≤ 1.5×.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread: CPU time then measures one core's work

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derivekit.optim.objectives import LinearRegression, SymbolicObjective, make_dataset  # noqa: E402
from derivekit.optim.optimizers import minimize  # noqa: E402


def best_times(functions, repeat: int) -> list[float]:
    """Best-of-``repeat`` CPU time of each function, measured interleaved (round by round) so
    that every one meets the same machine load."""
    best = [math.inf] * len(functions)
    for _ in range(repeat):
        for i, fn in enumerate(functions):
            start = time.process_time()
            fn()
            best[i] = min(best[i], time.process_time() - start)
    return best


def hand_gd(value_and_grad, theta0, lr, steps, tol=1e-8):
    """Plain gradient descent that records θ_k and J(θ_k) and stops when ‖∇J‖ ≤ tol, as
    ``minimize`` does with its default ``grad_tol``."""
    theta = theta0.copy()
    points = np.empty((steps + 1, theta.size))
    losses = np.empty(steps + 1)
    for k in range(steps + 1):
        loss, g = value_and_grad(theta)
        points[k] = theta
        losses[k] = loss
        if k == steps or (tol is not None and math.sqrt(g @ g) <= tol):
            break
        theta -= lr * g
    return points, losses


def hand_adam(value_and_grad, theta0, lr, steps, beta1=0.9, beta2=0.999, eps=1e-8, tol=1e-8):
    theta = theta0.copy()
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    points = np.empty((steps + 1, theta.size))
    losses = np.empty(steps + 1)
    for k in range(steps + 1):
        loss, g = value_and_grad(theta)
        points[k] = theta
        losses[k] = loss
        if k == steps or (tol is not None and math.sqrt(g @ g) <= tol):
            break
        t = k + 1
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        theta -= (lr / (1 - beta1 ** t)) * m / (np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps)
    return points, losses


def case(label, objective, start, lr, steps, repeat):
    out = []
    for method, hand in (("gd", hand_gd), ("adam", hand_adam)):
        theta0 = objective.start_vector(start)
        bare, reference, ours = best_times([
            lambda: hand(objective.value_and_grad, theta0, lr, steps, tol=None),
            lambda: hand(objective.value_and_grad, theta0, lr, steps),
            lambda: minimize(objective, start, method=method, lr=lr, steps=steps)], repeat)
        # same numbers, or the comparison is meaningless
        points, _ = hand(objective.value_and_grad, theta0, lr, steps)
        run = minimize(objective, start, method=method, lr=lr, steps=steps)
        assert run.steps == steps, run.reason
        assert np.allclose(run.points, points, rtol=1e-12, atol=1e-12), method
        out.append((label, method, steps, reference / steps * 1e6, ours / steps * 1e6, ours / reference,
                    ours / bare))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)

    rows = []
    two_d = SymbolicObjective("(1 - x)^2 + 100*(y - x^2)^2")
    rows += case("2-variable Rosenbrock", two_d, {"x": -1.0, "y": 1.0}, 1e-4, 5000, args.repeat)
    quad = SymbolicObjective("x^2 + 10*y^2")
    rows += case("2-variable quadratic", quad, {"x": 1.0, "y": 1.0}, 1e-3, 3000, args.repeat)
    data = make_dataset("linear", samples=args.rows, features=5, seed=0)
    regression = LinearRegression(data)
    rows += case(f"linear regression, {args.rows:,} rows × 5 features", regression, None, 0.01, 200,
                 args.repeat)

    print(f"{'objective':46} {'method':6} {'steps':>5} {'loop µs/step':>12} {'minimize µs/step':>16} "
          f"{'ratio':>5} {'vs bare loop':>12}")
    for label, method, steps, ref, ours, ratio, bare_ratio in rows:
        print(f"{label:46} {method:6} {steps:5d} {ref:12.2f} {ours:16.2f} {ratio:5.2f} {bare_ratio:12.2f}")
    worst = max(r[5] for r in rows)
    print(f"\nworst ratio {worst:.2f} (budget 1.5); 'vs bare loop': against a loop without the "
          f"gradient-norm stopping test")
    return 0 if worst <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
