"""gradcheck refuses settings that cannot give an answer, and caps its points."""

from __future__ import annotations

import pytest

from derivekit import limits
from derivekit.cli import main
from derivekit.errors import DerivekitError
from derivekit.numeric.finitediff import gradcheck


@pytest.mark.parametrize("option", [["--eps", "0"], ["--eps", "nan"], ["--eps", "inf"],
                                    ["--eps", "-1e-6"], ["--points", "0"],
                                    ["--points", "100000000"], ["--atol", "nan"]])
def test_bad_gradcheck_settings_are_usage_errors(option, capsys):
    assert main(["gradcheck", "x^2", *option]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_a_point_outside_the_domain_cannot_be_checked(capsys):
    assert main(["gradcheck", "log(x)", "--at", "x=-1"]) == 2
    captured = capsys.readouterr()
    assert "cannot check" in captured.out and "Traceback" not in captured.err


def test_points_are_capped_before_any_allocation():
    with pytest.raises(DerivekitError, match=f"between 1 and {limits.MAX_POINTS}"):
        gradcheck("x^2", n_points=limits.MAX_POINTS + 1)
    assert gradcheck("x^2", n_points=3).ok


def test_a_failing_point_with_nan_is_reported_not_a_traceback():
    """A point where the claim is NaN is no sample (checks never pass on non-finite values):
    it is dropped and the report says so; the finite point still decides."""
    result = gradcheck("x^2", "sqrt(x - 10)", at={"x": [1.0, 20.0]})
    assert not result.ok
    text = result.render("text")
    assert "1 of 2 point(s) dropped" in text and "at x = 20" in text


def test_check_points_are_capped_too(capsys):
    assert main(["check", "x^2", "--claim", "2*x", "--wrt", "x", "--points", "100000000"]) == 2
    assert f"between 1 and {limits.MAX_POINTS}" in capsys.readouterr().err
