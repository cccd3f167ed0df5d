"""``--format latex`` of the commands that are not derivations (check, gradcheck, the linear
algebra, descend): LaTeX for a document's body, whose prose wraps (paragraphs, list items in
text mode) and whose formulas are displays, never ``\\text{}`` rows of an ``aligned`` block.
That they stay inside the margins once compiled: tests/render/test_latex_compile.py."""

from __future__ import annotations

import re

from derivekit.cli import main

BCE = "-(y*log(sigmoid(w*x+b)) + (1-y)*log(1-sigmoid(w*x+b)))"


def _latex(capsys, *argv: str) -> tuple[int, str]:
    code = main([*argv, "--format", "latex"])
    return code, capsys.readouterr().out


def _count_steps(steps: list[dict]) -> int:
    return sum(1 + _count_steps(s["substeps"]) for s in steps)


def test_check_of_a_wrong_claim_is_paragraphs_then_the_derivation_as_list_items(capsys):
    from derivekit.calculus.derive import derive

    code, out = _latex(capsys, "check", BCE, "--wrt", "w", "--claim", "(sigmoid(w*x+b)-y)")
    assert code == 1
    assert r"\begin{aligned}" not in out and r"\text{" not in out.split(r"\begin{itemize}")[0]
    for label in ("Diagnosis:", "Counterexample:", "Checks:", "Expected:"):
        assert rf"\textbf{{{label}}}" in out, label
    assert "missing chain-rule factor" in out
    # the claim and the expected derivative: displays broken to the line (BCE's left side is long)
    assert out.count(r"\begin{multline*}") >= 2
    steps = _count_steps(derive(BCE, "w").to_dict()["steps"])
    assert len(re.findall(r"\\item\[\\textbf\{\d+\.\}\]", out)) == steps


def test_check_of_a_gradient_names_f_once_and_shows_each_partial_derivative(capsys):
    code, out = _latex(capsys, "check", "x1*w1 + x2*w2", "--wrt", "w1,w2", "--claim", "[x1, 2*x2]",
                       "--no-steps")
    assert code == 1
    assert out.count(r"\frac{\partial f}{\partial w_{1}} = x_{1}") == 2  # claimed, expected
    assert r"\frac{\partial f}{\partial w_{2}} = 2 x_{2}" in out
    assert r"\frac{\partial f}{\partial w_{2}} = x_{2}" in out
    assert "f = " in out and r"\nabla" not in out


def test_check_without_steps_and_of_a_right_claim(capsys):
    code, out = _latex(capsys, "check", "x^2", "--claim", "2*x", "--no-steps")
    assert code == 0
    assert out.startswith(r"\noindent\textbf{\ensuremath{\checkmark} correct}")
    assert "itemize" not in out and "Diagnosis" not in out


def test_the_python_api_keeps_the_notebook_form_unless_asked_for_a_document():
    from derivekit.numeric.verify import verify

    verdict = verify("x^2", "3*x", "x")
    assert verdict.to_latex().startswith(r"\times\ \text{claimed}")
    assert verdict.to_latex(document=True).startswith(r"\noindent\textbf{")


def test_gradcheck_is_prose_and_a_text_table(capsys):
    code, out = _latex(capsys, "gradcheck", "x^2*y", "--wrt", "x,y", "--claim", "[2*x*y, x]")
    assert code == 1
    assert r"\begin{tabular}{lrrl}" in out and r"\text{" not in out
    assert re.search(r"^y & \S+ & \S+ & FAIL \\\\$", out, re.MULTILINE)
    assert re.search(r"^\\par\\noindent y: analytic -?[0-9.]+ vs numeric", out, re.MULTILINE)


def test_linear_algebra_steps_are_list_items_with_their_mathematics_as_displays(capsys):
    from derivekit.linalg.eigen import eig

    code, out = _latex(capsys, "eig", "[[4,1,2],[1,3,0],[2,0,5]]")
    assert code == 0
    steps = eig("[[4,1,2],[1,3,0],[2,0,5]]").steps
    assert len(re.findall(r"\\item\[\\textbf\{\d+\.\}\]", out)) == len(steps)
    assert r"\begin{array}{l}" not in out and r"\textbf{Result}" in out


def test_a_comparison_of_methods_is_two_text_tables(capsys):
    code, out = _latex(capsys, "descend", "x^2 + 10*y^2", "--start", "x=1,y=1", "--steps", "20",
                       "--compare", "gd,adam")
    assert code == 0
    assert out.count(r"\begin{tabular}") == 2 and r"\begin{array}" not in out
