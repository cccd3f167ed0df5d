"""--steps is capped, and a run allocates its history as it goes: asking for the maximum
number of steps costs nothing when the run converges early."""

from __future__ import annotations

import tracemalloc

import pytest

from derivekit import limits
from derivekit.errors import LimitError
from derivekit.optim.optimizers import minimize


def test_steps_over_the_cap_are_refused():
    with pytest.raises(LimitError, match="over the limit"):
        minimize("x^2", {"x": 1.0}, method="gd", lr=0.1, steps=limits.MAX_STEPS + 1)


def test_history_is_not_allocated_up_front():
    """The old loop built a list of every step's learning rate and an array of every
    step's point before the first update (tens of MB here, gigabytes at 10⁹ steps)."""
    minimize("x^2", {"x": 1.0}, method="gd", lr=0.5, steps=5)  # compile once, outside
    tracemalloc.start()
    try:
        run = minimize("x^2", {"x": 1.0}, method="gd", lr=0.5, steps=limits.MAX_STEPS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.converged and run.steps <= 3
    assert peak < 2_000_000, f"peak {peak:,} bytes"
    assert len(run.learning_rates) == run.steps
