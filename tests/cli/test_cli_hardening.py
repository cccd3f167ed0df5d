"""Each traceback cause of issue 12 is now a clear error (exit 2) or a right answer."""

from __future__ import annotations

import pytest

from derivekit.cli import main

SIN_199 = "sin(" * 199 + "x" + ")" * 199
TOWER_120 = "^".join(["x"] * 120)

CASES = {
    "tower diff": (["diff", TOWER_120], 2, "nested too deeply"),
    "sin gradcheck": (["gradcheck", SIN_199], 2, "nested too deeply"),
    "gradcheck f(x)": (["gradcheck", "f(x)"], 2, "f has no values"),
    "gradcheck norm(x)": (["gradcheck", "norm(x)"], 2, "cannot check"),
    "descend f(x)": (["descend", "f(x)", "--start", "x=1"], 2, "undefined function"),
    "descend norm(x)": (["descend", "norm(x)", "--start", "x=1"], 2, "cannot evaluate"),
    "timeout inf": (["diff", "x^2", "--timeout", "inf"], 2, "--timeout must be"),
    "abs exp min relu": (["diff", "|exp(min(1, relu(x)))|"], 2, "cannot apply the chain rule"),
    "drill equation": (["drill", "--answer", "x = 1"], 1, "not an equation"),
    "drill huge": (["drill", "--answer", "10^999*x"], 1, "too large for floating point"),
    "fit betas": (["fit", "--method", "adam", "--betas", "2,2"], 2, "betas must be two numbers"),
    "descend steps": (["descend", "x^2", "--start", "x=1", "--steps", "1000000000"], 2,
                      "over the limit"),
}


@pytest.fixture
def python_recursion_limit():
    """Python's default recursion limit, which the deep cases reach. Importing IPython (as
    the docs tests do) raises it to 3000 for the rest of the process; there the same inputs
    run into the deadline (tower) or get a right answer (sin), both without a traceback."""
    import sys
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(before)


@pytest.mark.parametrize("name", list(CASES))
def test_former_traceback_is_a_clear_message(name, capsys, python_recursion_limit):
    argv, code, message = CASES[name]
    assert main(argv) == code
    captured = capsys.readouterr()
    assert message in captured.out + captured.err
    assert "Traceback" not in captured.err


def test_heaviside_power_prints_in_latex(capsys):
    assert main(["diff", "exp(relu(x))", "--order", "2", "--format", "latex"]) == 0
    assert r"H\left(x\right)^{2}" in capsys.readouterr().out
