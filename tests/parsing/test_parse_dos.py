"""Regex and compute denial of service in the parser: linear-time patterns, no eager big
integer work, and a deadline on every parse."""

from __future__ import annotations

import pytest
import sympy as sp

import derivekit as dk
from derivekit import limits
from derivekit.errors import DerivekitError, LimitError
from derivekit.parsing import latex


@pytest.mark.parametrize("spaces", [2_000, 15_000])
def test_higher_derivative_with_long_space_runs_is_read_quickly(spaces):
    """The old pattern backtracked about as n^3.8 here (minutes at 2,000 spaces); under a
    5 s deadline the answer must still come."""
    x, y = sp.symbols("x y")
    with limits.deadline(5):
        assert dk.parse(r"\frac{d^2" + " " * spaces + r"y}{dx^2}", syntax="latex") \
            == sp.Derivative(y, (x, 2))
        with pytest.raises(DerivekitError, match="cannot differentiate"):
            dk.parse(r"\frac{d^2" + " " * spaces + r"{x}}{dx^2}", syntax="latex")
        assert latex._strip_trailing_punctuation("x" + " " * spaces + "y") == "x" + " " * spaces + "y"


@pytest.mark.parametrize("text, expected", [
    (r"\frac{\partial^{2} f}{\partial x \partial y}", "Derivative(f, y, x)"),
    (r"\frac{d^2}{dx^2} x^3", "Derivative(x**3, (x, 2))"),
    (r"\frac{\partial^3  g }{\partial x^2 \partial y}", "Derivative(g, y, (x, 2))"),
    (r"\frac{\partial L}{\partial w_1 }", "Derivative(L, w_1)"),
])
def test_derivative_notation_still_reads(text, expected):
    assert str(dk.parse(text, syntax="latex")) == expected


@pytest.mark.parametrize("text", [r"(10^{50})!", r"\binom{10^{50}}{10^{25}}", r"(1001)!",
                                  r"\binom{10^{6}}{5000}"])
def test_huge_factorials_and_binomials_are_refused_not_computed(text):
    with limits.deadline(5), pytest.raises(LimitError, match="too large to compute exactly"):
        dk.parse(text, syntax="latex")


@pytest.mark.parametrize("text, value", [(r"5!", 120), (r"\binom{5}{2}", 10),
                                         (r"\binom{10^{50}}{2}", 10**50 * (10**50 - 1) // 2),
                                         (r"(1000)!", sp.factorial(1000))])
def test_small_factorials_and_binomials_are_computed(text, value):
    assert dk.parse(text, syntax="latex") == value


def test_parse_has_a_deadline(monkeypatch):
    import time

    from derivekit.parsing import text as text_front
    monkeypatch.setattr(limits, "PARSE_DEADLINE_S", 0.2)
    monkeypatch.setattr(text_front, "parse_text", lambda source: time.sleep(5))
    with pytest.raises(LimitError, match="deadline"):
        dk.parse("x + 1", syntax="text")
