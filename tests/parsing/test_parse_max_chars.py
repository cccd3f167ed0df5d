"""``dk.parse(text, max_chars=N)`` and ``limits.input_cap``: a raised input cap for trusted
text (a generated expression), with its token cap and parse deadline, and clear errors for
values that are not a cap."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import derivekit as dk
from derivekit import limits
from derivekit.errors import DerivekitError, LimitError
from derivekit.parsing.parse import InputLimitError


def rosenbrock_text(n: int) -> str:
    """Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², i = 0 … n−2, as a user's generator writes it."""
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))


def rosenbrock_gradient(x: np.ndarray) -> np.ndarray:
    """The closed form: ∂/∂xᵢ = −400xᵢ(xᵢ₊₁ − xᵢ²) − 2(1 − xᵢ) + 200(xᵢ − xᵢ₋₁²)."""
    g = np.zeros_like(x)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


BIG = rosenbrock_text(1000)


def test_the_generated_input_is_the_issues_size():
    assert len(BIG) == 38_630


def test_the_default_cap_refuses_it_and_says_how_to_raise_the_cap():
    with pytest.raises(InputLimitError) as caught:
        dk.parse(BIG)
    assert "38,630 characters" in caught.value.message
    assert "max_chars=" in caught.value.hint and "--max-chars" in caught.value.hint


def test_a_raised_cap_parses_it_and_its_gradient_is_right():
    expr = dk.parse(BIG, max_chars=50_000)
    names = [f"x{i}" for i in range(1000)]
    gradient = dk.gradient(expr, names).result
    assert gradient.shape == (1000, 1)
    point = np.random.default_rng(15).uniform(-1.5, 1.5, size=1000)
    symbols = [next(s for s in expr.free_symbols if s.name == n) for n in names]
    values = dk.compile(gradient, symbols, backend="numpy", cse=False)(*point)
    np.testing.assert_allclose(values.ravel(), rosenbrock_gradient(point), rtol=1e-12, atol=1e-9)
    # and the default still refuses it afterwards: the raised cap was for that call only
    with pytest.raises(InputLimitError):
        dk.parse(BIG)


def test_the_token_cap_grows_with_a_raised_cap():
    dense = "+".join(["x"] * 6_000)  # 11,999 characters, 11,999 tokens: over 5,000 tokens
    with pytest.raises(InputLimitError, match="tokens") as caught:
        dk.parse(dense)
    assert "--max-chars" in caught.value.hint
    assert dk.parse(dense, max_chars=30_000) == 6_000 * sp.Symbol("x")
    assert limits.input_limits(30_000) == (30_000, 15_000)
    assert limits.input_limits() == (limits.MAX_INPUT_CHARS, limits.MAX_TOKENS)


def test_a_lower_cap_is_a_cap_too():
    with pytest.raises(InputLimitError, match="over the limit of 5"):
        dk.parse("x + y + z", max_chars=5)
    assert dk.parse("x + y", max_chars=5) == sp.Symbol("x") + sp.Symbol("y")


@pytest.mark.parametrize("value", [0, -1, -50_000, limits.MAX_CHARS_CEILING + 1, 10**12,
                                   1.5, 50_000.0, "50000", True, None.__class__])
def test_values_that_are_not_a_cap_are_clear_errors(value):
    with pytest.raises(DerivekitError, match="max_chars must be"):
        dk.parse("x", max_chars=value)
    with pytest.raises(LimitError):
        limits.input_cap(value)


def test_the_ceiling_itself_is_accepted():
    assert limits.input_limits(limits.MAX_CHARS_CEILING)[0] == limits.MAX_CHARS_CEILING
    assert limits.parse_deadline_s(limits.MAX_CHARS_CEILING) == limits.MAX_TIMEOUT_S


def test_an_enclosing_deadline_still_cuts_a_long_parse():
    with pytest.raises(LimitError, match="deadline"):
        with limits.deadline(0.05):
            dk.parse(BIG, max_chars=50_000)


def test_input_cap_raises_the_cap_for_text_passed_to_the_api():
    text = rosenbrock_text(530)  # 20,310 characters: just over the default
    assert len(text) > limits.MAX_INPUT_CHARS
    with pytest.raises(InputLimitError):
        dk.gradient(text, ["x0", "x1"])
    with limits.input_cap(25_000):
        result = dk.gradient(text, ["x0", "x1"], steps=False).result
    x0, x1, x2 = sp.symbols("x0 x1 x2")
    assert sp.expand(result[0] - (-400 * x0 * (x1 - x0**2) - 2 * (1 - x0))) == 0
    assert sp.expand(result[1] - (-400 * x1 * (x2 - x1**2) - 2 * (1 - x1) + 200 * (x1 - x0**2))) == 0
    with pytest.raises(InputLimitError):  # the cap is back after the block
        dk.parse(text)


def test_a_swallowed_alarm_fires_again():
    """The deadline's first alarm can land where Python only reports an exception (a gc
    callback, a __del__): that cut a long parse in no time here once. It fires again."""
    import time
    swallowed = []
    with pytest.raises(LimitError, match="deadline"):
        with limits.deadline(0.05):
            try:
                time.sleep(2)
            except BaseException as exc:  # noqa: BLE001 - what a gc callback does to it
                swallowed.append(exc)
            end = time.monotonic() + 2
            while time.monotonic() < end:
                time.sleep(0.001)
    assert swallowed
