"""A compiled function's results: a large one is reused only after the caller let go of it."""

import numpy as np
import pytest
import sympy as sp

from derivekit.numeric.compiled import compile_gradient
from derivekit.numeric.result_pool import KEEP, MIN_BYTES, ResultPool

x, y = sp.symbols("x y")
W = sp.symbols("w0:12")
LOSS = sum(sp.tanh(w * x + y) ** 2 for w in W)  # 12 gradient rows
N = 20_000  # 12 rows × 20,000 × 8 bytes: past MIN_BYTES, so kept


@pytest.fixture(scope="module")
def grad():
    return compile_gradient(LOSS, list(W), args=[*W, x, y], backend="numpy")


def _inputs(seed):
    rng = np.random.default_rng(seed)
    return [*rng.normal(size=len(W)), rng.normal(size=N), rng.normal(size=N)]


def _address(array):
    return array.__array_interface__["data"][0]


def test_a_dropped_result_is_reused(grad):
    first = _address(grad(*_inputs(0)))
    assert _address(grad(*_inputs(1))) == first


def test_a_held_result_is_never_written_into(grad):
    kept = grad(*_inputs(0))
    snapshot = kept.copy()
    for seed in range(1, 2 * KEEP + 2):
        other = grad(*_inputs(seed))
        assert not np.shares_memory(other, kept)
    np.testing.assert_array_equal(kept, snapshot)


def test_a_held_view_or_container_keeps_its_base(grad):
    row = grad(*_inputs(0))[3]
    box = [grad(*_inputs(1))]
    row_before, box_before = row.copy(), box[0].copy()
    for seed in range(2, 6):
        grad(*_inputs(seed))
    np.testing.assert_array_equal(row, row_before)
    np.testing.assert_array_equal(box[0], box_before)


def test_a_training_loop_gets_right_values_every_step(grad):
    fresh = compile_gradient(LOSS, list(W), args=[*W, x, y], backend="numpy")
    g = None
    addresses = set()
    for seed in range(6):
        g = grad(*_inputs(seed))
        addresses.add(_address(g))
        fresh._results.clear()
        np.testing.assert_allclose(g, fresh(*_inputs(seed)), rtol=0, atol=0)
    assert len(addresses) <= KEEP  # the loop alternates between kept arrays


def test_small_results_are_not_kept():
    pool = ResultPool()
    small = pool.empty((4, 10), float)
    assert small.nbytes < MIN_BYTES and pool._arrays == []
    del small
    big = pool.empty((MIN_BYTES // 8,), float)
    address = _address(big)
    del big
    assert _address(pool.empty((MIN_BYTES // 8,), float)) == address
    assert _address(pool.empty((MIN_BYTES // 8 + 1,), float)) != address  # another shape
