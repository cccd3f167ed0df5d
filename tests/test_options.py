"""Option values written as text: lists, numbers and name=value points."""

import pytest

from derivekit.errors import DerivekitError
from derivekit.options import parse_assignments, parse_int, parse_number, split_list


def test_lists_numbers_and_points():
    assert split_list("w, b ,c") == ["w", "b", "c"]
    assert split_list("x*y; x + y", ";") == ["x*y", "x + y"]
    assert parse_number(" 1e-3 ") == 0.001 and parse_int("12") == 12
    assert parse_assignments("x=1, y=-0.5") == {"x": 1.0, "y": -0.5}


@pytest.mark.parametrize("text", ["__import__('os')", "nan", "inf", "1/2", ""])
def test_numbers_are_never_evaluated_and_must_be_finite(text):
    with pytest.raises(DerivekitError, match="as a number"):
        parse_number(text)


@pytest.mark.parametrize("text", ["x", "=1", "x=one"])
def test_bad_points_say_how_to_write_them(text):
    with pytest.raises(DerivekitError):
        parse_assignments(text)


def test_whole_numbers():
    with pytest.raises(DerivekitError, match="whole number"):
        parse_int("2.5")
