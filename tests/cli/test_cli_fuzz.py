"""Fuzz the command line: every subcommand in COMMANDS, driven with random and garbage
arguments (random text, each parser's own options with random values, unicode, huge
numbers, empty strings), exits 0, 1 or 2 and never prints a traceback.

Each call runs under a deadline (:class:`derivekit.limits.deadline`); a call that runs
past it counts as slow, not as a failure (the hardening work caps resources). The default
run is a few examples per command; ``-m slow`` runs many more.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivekit.cli.dispatch import COMMANDS, build_parser, main
from derivekit.errors import LimitError
from derivekit.limits import deadline

#: seconds each fuzzed call may run
CALL_DEADLINE_S = 2.0

EXPRESSIONS = ["x^2", "sigmoid(w*x + b)", "f(x)*g(x)", "f'(x)", r"\sigma'(z)", "log(x)", "x*y",
               "norm2(W@x - y)", "W@x", "[1,2,3]", "[[1,2],[3,4]]", "1/0", "x^^2", "((((x", "0",
               "sqrt(-1)", "exp(exp(exp(x)))", "x -> linear:2 -> mse", "x:4 -> linear:3 -> sigmoid -> mse"]
PLAUSIBLE = ["x", "x,y", "w,b", "W", "x=1", "x=1,y=-0.5", "W=3x4,x=4x1", "3x4", "2", "-1", "0.5",
             "1e308", "-1e-320", "nan", "inf", "-inf", "1e999", "99999999999999999999", "text",
             "json", "latex", "markdown", "gd", "adam", "sgd", "sigmoid", "chain_rule", "--", "-",
             "examples/study_hours.csv", "nofile.csv", "out.png", "out.svg", "out.txt", ""]

huge_numbers = st.one_of(st.integers(-10**30, 10**30), st.floats(allow_nan=True, allow_infinity=True)).map(str)
values = st.one_of(st.sampled_from(EXPRESSIONS), st.sampled_from(PLAUSIBLE), huge_numbers,
                   st.text(max_size=12), st.text(alphabet="σ∂∇ᵀ⊙²′√∞αβ→\\{}^_[]()@.,;=-+*/ x", max_size=16))


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


@st.composite
def argv_for(draw, name: str) -> list[str]:
    """Positional values, then options of the command's own parser with random (sometimes
    valid) values, with the occasional unknown option or stray token."""
    parser, _ = build_parser(name)
    tokens = [name] + draw(st.lists(values, max_size=2))
    for action in draw(st.lists(st.sampled_from(_options(parser)), max_size=4)):
        tokens.append(draw(st.sampled_from(action.option_strings)))
        if action.nargs == 0:
            continue
        if action.choices and draw(st.booleans()):
            tokens.append(str(draw(st.sampled_from(list(action.choices)))))
        else:
            tokens.append(draw(values))
    if draw(st.integers(0, 5)) == 0:
        tokens.insert(draw(st.integers(1, len(tokens))), draw(st.sampled_from(["--bogus", "--", "-", "--debug=1"])))
    return tokens


@contextlib.contextmanager
def _in_scratch_directory():
    """Files that a fuzzed --plot or --out writes land in a throwaway directory."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        examples = os.path.join(scratch, "examples")
        os.symlink(os.path.join(here, "examples"), examples)
        os.chdir(scratch)
        try:
            yield
        finally:
            os.chdir(here)


@contextlib.contextmanager
def _stdin(text: str):
    """An interactive command (drill) reads this instead of the terminal."""
    import sys
    saved, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


@contextlib.contextmanager
def _no_server():
    """serve with good arguments runs until stopped: check everything up to the start, but do
    not start a server (nor open a browser) for each fuzzed call."""
    from unittest import mock
    with mock.patch("uvicorn.run", lambda *a, **k: None), mock.patch("webbrowser.open", lambda *a, **k: True), \
            mock.patch("threading.Timer"):  # --open's delayed browser start
        yield


def run_one(argv: list[str]) -> tuple[int | None, str]:
    """(exit code, or None when the deadline cut the call; everything printed)."""
    out, err = io.StringIO(), io.StringIO()
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _in_scratch_directory(), \
            _stdin(""), _no_server():
        try:
            with deadline(CALL_DEADLINE_S):
                code = main(argv)
        except LimitError:
            code = None
    return code, out.getvalue() + err.getvalue()


def check(argv: list[str]) -> None:
    code, printed = run_one(argv)
    assert "Traceback" not in printed, (argv, printed[-2000:])
    assert "internal error" not in printed, (argv, printed[-2000:])
    assert code in (None, 0, 1, 2), (argv, code, printed[-2000:])


FAST = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_fuzzed_arguments_never_crash(name):
    FAST(given(argv_for(name))(lambda argv: check(argv)))()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_fuzzed_arguments_never_crash_long(name):
    SLOW(given(argv_for(name))(lambda argv: check(argv)))()


@pytest.mark.parametrize("argv", [
    ["check", "f(x)*g(x)", "--claim", "f(x)*g'(x) + f'(x)*g(x)", "--wrt", "x"],
    ["gradcheck", "x", "--eps", "nan"],
    ["gradcheck", "x", "--eps", "0"],
    ["check", "x", "--claim", "", "--wrt", "x"],
    ["diff", ""],
    ["grad", "W@x"],
    ["check", "x^2", "--wrt", "x^2", "--claim", "x=1"],   # found by the fuzz: an equation as claim
    ["check", "x^2", "--wrt", "x^2", "--claim", "2*x"],   # and an expression as a variable name
    ["matgrad", "x^2", "--wrt", "x^2", "--timeout", "-1", "--shapes", "x^2"],
    ["drill"],                                           # reads stdin: here an empty one
    ["fit", "--seed", "-1"],
    ["gradcheck", "x^2", "--points", "100000000000"],
    ["gradcheck", "x^2", "--points", "-3"],
    ["gradcheck", "x^2", "--atol", "nan"],
    ["check", "x^2", "--claim", "2*x", "--points", "1e12"],
    ["check", "x^2", "--claim", "2*x", "--seed", "-5"],
])
def test_known_crashers_stay_fixed(argv):
    check(argv)
    code, _ = run_one(argv)
    assert code in (0, 2)


def test_an_internal_error_is_one_line_and_exit_3(monkeypatch, capsys):
    import derivekit.cli.numeric as numeric
    monkeypatch.setattr(numeric, "run", lambda args: 1 / 0)
    assert main(["check", "x", "--claim", "1", "--wrt", "x"]) == 3
    err = capsys.readouterr().err
    assert "please report" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["check", "x", "--claim", "1", "--wrt", "x", "--debug"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err
