"""``--max-chars N`` on the commands that read an expression: trusted text past the default
cap is read, the time limit still cuts it, and bad values are usage errors (exit 2)."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from derivekit import limits
from derivekit.cli import main
from derivekit.cli.dispatch import COMMANDS, EXPRESSION_COMMANDS


def rosenbrock_text(n: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))


TEXT = rosenbrock_text(530)  # 20,310 characters: just over the default cap


def test_the_default_cap_refuses_with_a_hint_naming_max_chars(capsys):
    assert main(["grad", TEXT, "--wrt", "x0,x1", "--no-steps"]) == 2
    err = capsys.readouterr().err
    assert "over the limit of 20,000" in err and "--max-chars N" in err


def test_max_chars_reads_it_and_derives_the_gradient(capsys):
    code = main(["grad", TEXT, "--wrt", "x0,x1", "--no-steps", "--format", "json",
                 "--max-chars", "25000"])
    out = capsys.readouterr().out
    assert code == 0, out
    result = json.loads(out)
    assert result["shape"] == [2, 1]
    # ∂/∂x₀ = −400x₀(x₁ − x₀²) − 2(1 − x₀), checked by the parser's reading of the printed result
    from derivekit import parse
    first = parse(result["result"]["sympy"].replace("Matrix([[", "").split("]")[0])
    x0, x1 = sorted(first.free_symbols, key=lambda s: s.name)
    assert sp.expand(first - (-400 * x0 * (x1 - x0**2) - 2 * (1 - x0))) == 0
    # the raised cap was for that command only
    assert main(["grad", TEXT, "--wrt", "x0", "--no-steps"]) == 2
    assert limits.input_limits() == (limits.MAX_INPUT_CHARS, limits.MAX_TOKENS)


def test_gradcheck_takes_max_chars_too(capsys):
    assert main(["gradcheck", TEXT, "--wrt", "x0,x5", "--max-chars", "25000", "--points", "10"]) == 0


def test_the_time_limit_still_applies(capsys):
    assert main(["grad", rosenbrock_text(1000), "--no-steps", "--max-chars", "50000",
                 "--timeout", "0.05"]) == 2
    assert "deadline" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-5", "10000001", "1e9"])
def test_bad_values_are_usage_errors(value, capsys):
    assert main(["diff", "x^2", "--wrt", "x", f"--max-chars={value}"]) == 2
    assert "max-chars" in capsys.readouterr().err


def test_a_lower_cap_refuses_longer_input(capsys):
    assert main(["diff", "x^2 + x^3", "--wrt", "x", "--max-chars", "5"]) == 2
    assert "over the limit of 5" in capsys.readouterr().err


def test_only_commands_that_parse_expressions_take_it(capsys):
    assert EXPRESSION_COMMANDS <= set(COMMANDS)
    assert main(["dot", "[1,2]", "[3,4]", "--max-chars", "50000"]) == 2
    assert "unrecognized arguments: --max-chars" in capsys.readouterr().err
    for name in sorted(EXPRESSION_COMMANDS):
        assert main([name, "--help"]) == 0
        assert "--max-chars N" in capsys.readouterr().out
