"""``derivekit diff | grad | jacobian | hessian`` through ``derivekit.cli.main``."""

import json
import time

import pytest

from derivekit import cli
from derivekit.cli import calculus as cli_calculus


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_diff_text_with_steps(capsys):
    code, out, err = run(capsys, "diff", "sigmoid(w*x + b)", "--wrt", "w")
    assert code == 0 and err == ""
    assert out.startswith("∂/∂w σ(w·x + b)\n")
    assert "1. Chain rule: " in out and "where u₁ = w·x + b" in out
    assert out.rstrip().endswith("∂/∂w σ(w·x + b) = x·σ(w·x + b)·(1 − σ(w·x + b))")


def test_diff_no_steps_prints_the_same_result_as_with_steps(capsys):
    # regression: --no-steps took the untidied fast path and printed another form
    expr = "-log(exp(z_1)/(exp(z_1) + exp(z_2)))"
    _, with_steps, _ = run(capsys, "diff", "--wrt", "z_1", "--", expr)
    code, without, _ = run(capsys, "diff", "--wrt", "z_1", "--no-steps", "--", expr)
    assert code == 0
    assert without.strip() == with_steps.strip().splitlines()[-1]
    assert without.strip().endswith("= −softmax(z₁, z₂)₂")


def test_diff_no_steps_and_one_variable_default(capsys):
    code, out, _ = run(capsys, "diff", "x^3", "--no-steps")
    assert (code, out) == (0, "d/dx x³ = 3x²\n")


def test_diff_order_and_prime_notation(capsys):
    code, out, _ = run(capsys, "diff", "x^3", "--order", "2", "--no-steps", "--notation", "prime")
    assert (code, out) == (0, "(x³)″ = 6x\n")


def test_diff_latex_and_markdown(capsys):
    code, out, _ = run(capsys, "diff", "sigmoid(w*x + b)", "--wrt", "w", "--format", "latex")
    # LaTeX for a document: the steps as list items (sentences wrap), equations as displays
    assert code == 0 and out.startswith("\\noindent\\textbf{Differentiate}") and r"\frac{\partial}{\partial w}" in out
    assert "\\begin{itemize}" in out and "\\text{" not in out
    code, out, _ = run(capsys, "diff", "sigmoid(w*x + b)", "--wrt", "w", "--format", "markdown")
    assert code == 0 and out.startswith("**Differentiate**") and "$$" in out


def test_diff_json_parses(capsys):
    code, out, _ = run(capsys, "diff", "sigmoid(w*x + b)", "--wrt", "w", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["schema"] == "derivekit.derivation/1"
    assert data["result"]["text"] == "x·σ(w·x + b)·(1 − σ(w·x + b))"
    assert data["steps"][0]["rule"] == "chain"


def test_latex_input(capsys):
    code, out, _ = run(capsys, "diff", r"\sigma(w x + b)", "--wrt", "w", "--no-steps")
    assert (code, out) == (0, "∂/∂w σ(w·x + b) = x·σ(w·x + b)·(1 − σ(w·x + b))\n")


def test_grad_and_hessian(capsys):
    code, out, _ = run(capsys, "grad", "x^2*y", "--wrt", "x,y", "--no-steps")
    assert code == 0 and out.splitlines()[-2:] == ["∇f = ⎡2x·y⎤", "     ⎣x²  ⎦"]
    code, out, _ = run(capsys, "hessian", "x^2*y + y^3", "--wrt", "x,y", "--no-steps")
    assert code == 0 and "H = ⎡2y  2x⎤" in out and "    ⎣2x  6y⎦" in out


def test_jacobian_takes_semicolons_or_several_arguments(capsys):
    _, joined, _ = run(capsys, "jacobian", "x*y; x + y", "--wrt", "x,y", "--no-steps")
    _, separate, _ = run(capsys, "jacobian", "x*y", "x + y", "--wrt", "x,y", "--no-steps")
    assert joined == separate and "J = ⎡y  x⎤" in joined


def test_grad_defaults_to_every_variable_alphabetically(capsys):
    code, out, _ = run(capsys, "grad", "w*x + b", "--format", "json", "--no-steps")
    assert code == 0 and [v["text"] for v in json.loads(out)["wrt"]] == ["b", "w", "x"]


@pytest.mark.parametrize("argv, message", [
    (["diff", "sigmoud(x)", "--wrt", "x"], "sigmoid"),                 # parse error with a hint
    (["diff", "w*x + b"], "--wrt"),                                     # which variable?
    (["diff", "x*y", "--wrt", "x,y"], "derivekit grad"),
    (["diff", "x^2", "--wrt", "x", "--order", "0"], "--order"),
    (["diff", "x^2", "--wrt", "x+1"], "not a variable"),
    (["diff", "x^2", "--format", "html"], "invalid choice"),           # argparse
    (["jacobian", " ; ", "--wrt", "x"], "no expression"),
    (["diff", "--wrt", "x"], "goes after '--'"),                        # no expression at all
])
def test_usage_and_parse_errors_exit_2_with_a_message(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err


def test_expressions_starting_with_minus_need_no_double_dash(capsys):
    # "-y*log(p) - …" (every cross-entropy) used to be read by argparse as an unknown option
    code, out, err = run(capsys, "diff", "-x^2", "--wrt", "x", "--no-steps")
    assert code == 0 and err == "" and out.strip() == "d/dx (−x²) = −2x"
    bce = "-y*log(sigmoid(w*x+b)) - (1-y)*log(1-sigmoid(w*x+b))"
    code, out, _ = run(capsys, "diff", bce, "--wrt", "w", "--no-steps")
    assert code == 0 and out.strip().endswith("= x·(σ(w·x + b) − y)")
    code, out, _ = run(capsys, "jacobian", "-x + y", "x*y", "--wrt", "x,y", "--format", "json", "--no-steps")
    assert code == 0 and [e["text"] for e in json.loads(out)["exprs"]] == ["y − x", "x·y"]
    code, out, _ = run(capsys, "check", "x^2", "--claim", "-2*x", "--wrt", "x")
    assert code == 1 and "sign error" in out
    code, out, _ = run(capsys, "diff", "--no-steps", "--", "-x^2")   # the '--' form still works
    assert code == 0 and "−2x" in out
    code, _, err = run(capsys, "diff", "x^2", "--order", "-1")
    assert code == 2 and "--order must be at least 1" in err


def test_help_lists_examples(capsys):
    code, out, _ = run(capsys, "jacobian", "--help")
    assert code == 0 and "separated by ';'" in out and 'derivekit jacobian "x*y" "x + y"' in out
    code, out, _ = run(capsys, "diff", "--help")
    assert code == 0 and "--notation" in out and "--timeout" in out


def test_the_deadline_stops_long_work(capsys, monkeypatch):
    def slow(args):
        time.sleep(5)

    monkeypatch.setattr(cli_calculus, "compute", slow)
    code, out, err = run(capsys, "diff", "x^2", "--timeout", "0.2")
    assert code == 2 and "deadline" in err and "--timeout" in err


def test_output_survives_an_ascii_terminal(monkeypatch):
    import io

    raw = io.BytesIO()
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(raw, encoding="ascii"))
    cli_calculus._write("d/dx x² = 2x\n")
    assert raw.getvalue().decode("utf-8") == "d/dx x² = 2x\n"


def test_an_expression_starting_with_minus_goes_after_double_dash(capsys):
    code, out, _ = run(capsys, "diff", "--no-steps", "--", "-x^2")
    assert (code, out) == (0, "d/dx (−x²) = −2x\n")


def test_no_steps_hides_the_steps_but_keeps_the_textbook_result(capsys):
    from derivekit.cli import main

    assert main(["grad", "log(1 + exp(w*x + b))", "--wrt", "w,b", "--no-steps"]) == 0
    out = capsys.readouterr().out
    assert "x·σ(w·x + b)" in out and "Chain rule" not in out
