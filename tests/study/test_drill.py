"""Interview drills: seeded problems, answer checking, hints and steps, the score, and the
CLI both interactive (scripted stdin) and non-interactive (--answer)."""

from __future__ import annotations

import io

import pytest

from derivekit.cli import main
from derivekit.errors import DerivekitError
from derivekit.study import drill

TOPICS = list(drill.DRILL_TOPICS)
LEVELS = (1, 2, 3)



@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("level", LEVELS)
def test_problems_are_reproducible_and_vary(topic, level):
    prompts = [drill.DrillSession(topic, level, seed).problem(0).prompt for seed in range(6)]
    again = [drill.DrillSession(topic, level, seed).problem(0).prompt for seed in range(6)]
    assert prompts == again
    problem = drill.DrillSession(topic, level, 0).problem(0)
    assert problem.topic == topic and problem.difficulty == level
    assert problem.hint and problem.prompt and problem.answer_form


def test_seeds_give_different_problems():
    for topic in TOPICS:
        prompts = {drill.DrillSession(topic, 2, seed).problem(0).prompt for seed in range(8)}
        assert len(prompts) > 1, topic


@pytest.mark.parametrize("topic", ["eigen", "pca", "descent"])
@pytest.mark.parametrize("level", LEVELS)
def test_numeric_answers_are_checked(topic, level):
    for seed in range(4):
        problem = drill.DrillSession(topic, level, seed).problem(0)
        assert problem.check(problem.expected()).ok, (problem.prompt, problem.expected())
        wrong = ", ".join(str(float(v) + 0.5) for v in drill.read_numbers(problem.expected()))
        feedback = problem.check(wrong)
        assert not feedback.ok and feedback.readable
        assert problem.solution()


def test_numbers_accept_latex_and_fractions_but_never_code():
    check = drill.numbers_checker([0.75])
    assert check("3/4").ok and check(r"\frac{3}{4}").ok and check("0.75").ok
    assert "check the sign" in drill.numbers_checker([2.0])("-2").message
    unreadable = check("__import__('os').system('echo hi')")
    assert not unreadable.ok and not unreadable.readable


@pytest.mark.parametrize("topic", ["chain_rule", "activations", "gradients"])
@pytest.mark.parametrize("level", LEVELS)
def test_derivative_answers_are_checked_with_verify(topic, level):
    problem = drill.DrillSession(topic, level, 3).problem(0)
    assert problem.check(problem.expected()).ok, (problem.prompt, problem.expected())
    wrong = problem.check("0; 0" if ";" in problem.expected() else "2")
    assert not wrong.ok and wrong.message
    assert "Rule" in problem.solution() or "rule" in problem.solution()


@pytest.mark.parametrize("level", LEVELS)
def test_matrix_answers_are_checked_with_verify_backprop(level):
    problem = drill.DrillSession("matrix", level, 1).problem(0)
    feedback = problem.check(problem.expected())
    assert feedback.ok, (problem.prompt, feedback.message)
    if level > 1:
        assert not problem.check("2*(W@x - y)@x.T*3").ok
    assert problem.solution()


def test_descent_arithmetic_agrees_with_minimize():
    import re

    from derivekit.optim.optimizers import minimize
    for seed in range(4):
        problem = drill.DrillSession("descent", 1, seed).problem(0)
        a = re.search(r"f\(x\) = (\d*)x²", problem.prompt).group(1) or "1"
        x0 = float(re.search(r"x₀ = (-?\d+)", problem.prompt).group(1))
        lr = float(re.search(r"α = ([\d.]+\d)", problem.prompt).group(1))
        t = minimize(f"{a}*x^2", start={"x": x0}, method="gd", lr=lr, steps=1)
        assert t.points[1][0] == pytest.approx(drill.read_numbers(problem.expected())[0])


def test_unknown_topic_and_bad_difficulty_are_clear_errors():
    with pytest.raises(DerivekitError, match="did you mean 'eigen'"):
        drill.DrillSession("eigne")
    with pytest.raises(DerivekitError, match="difficulty must be 1, 2 or 3"):
        drill.DrillSession("eigen", difficulty=4)
    assert drill.drill_topic("backprop").name == "matrix"


def test_split_answer():
    assert drill.split_answer("[2*x*y, x^2 + 1]") == ["2*x*y", "x^2 + 1"]
    assert drill.split_answer("max(x, y); 2") == ["max(x, y)", "2"]
    assert drill.split_answer("f(a, b), c") == ["f(a, b)", "c"]


def drive(session, script: str) -> str:
    out = io.StringIO()
    drill.run_interactive(session, io.StringIO(script), out)
    return out.getvalue()


def test_interactive_hint_then_wrong_then_right():
    session = drill.DrillSession("descent", 1, seed=0, count=2)
    first, second = session.problem(0), session.problem(1)
    text = drive(session, f"hint\n999\n{first.expected()}\nsteps\n")
    assert "Problem 1/2 [descent, difficulty 1]" in text and first.prompt in text
    assert "Hint: " + first.hint in text
    assert "Not quite: 999 is not right" in text
    assert "Correct!" in text
    assert second.prompt in text and second.solution() in text
    assert session.score.correct == 1 and session.score.attempted == 1
    assert text.rstrip().endswith("Score: 1/1 correct (1 hint used, 1 solution shown)")


def test_interactive_skip_quit_and_end_of_input():
    text = drive(drill.DrillSession("pca", 1, seed=2, count=3), "skip\nquit\n")
    assert "Skipped." in text and "Problem 2/3" in text and "Problem 3/3" not in text
    assert text.rstrip().endswith("Score: 0/0 correct (1 skipped)")
    text = drive(drill.DrillSession("eigen", 2, seed=1, count=2), "")
    assert "Problem 1/2" in text and text.rstrip().endswith("Score: 0/0 correct")


def test_interactive_unreadable_answer_is_not_scored():
    session = drill.DrillSession("descent", 1, seed=0)
    text = drive(session, "2 +\n" + session.problem(0).expected() + "\n")
    assert "could not read your answer" in text and "try again" in text
    assert session.score.attempted == 1 and session.score.correct == 1


def test_cli_interactive_from_stdin(monkeypatch, capsys):
    expected = drill.DrillSession("descent", 2, seed=5).problem(0).expected()
    monkeypatch.setattr("sys.stdin", io.StringIO(f"hint\n{expected}\n"))
    assert main(["drill", "--topic", "descent", "--difficulty", "2", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "Hint:" in out and "Correct!" in out and "Score: 1/1 correct (1 hint used)" in out


def test_cli_answer_non_interactive(capsys):
    session = drill.DrillSession("eigen", 3, seed=7)
    right = session.problem(0).expected()
    assert main(["drill", "--topic", "eigen", "--difficulty", "3", "--seed", "7",
                 "--answer", right]) == 0
    out = capsys.readouterr().out
    assert "Correct!" in out and "Score: 1/1 correct" in out and "Hint" not in out
    assert main(["drill", "--topic", "eigen", "--difficulty", "3", "--seed", "7",
                 "--answer", "1000", "--steps"]) == 1
    out = capsys.readouterr().out
    assert "Not quite" in out and "Hint: " in out and "Solution:" in out
    assert main(["drill", "--topic", "nope", "--answer", "1"]) == 2
    assert "unknown drill topic" in capsys.readouterr().err
    assert main(["drill", "--list"]) == 0
    assert "chain_rule" in capsys.readouterr().out


def test_cli_several_answers(capsys):
    session = drill.DrillSession("pca", 2, seed=3, count=2)
    answers = [session.problem(i).expected() for i in range(2)]
    argv = ["drill", "--topic", "pca", "--difficulty", "2", "--seed", "3", "--count", "2"]
    assert main(argv + ["--answer", answers[0], "--answer", answers[1]]) == 0
    assert "Score: 2/2 correct" in capsys.readouterr().out


def test_latex_answers_and_diagnoses():
    problem = drill.DrillSession("activations", 2, 0).problem(0)
    assert problem.prompt.endswith("sigmoid(w*x + b)")
    assert problem.check(r"x\,\sigma(wx+b)\left(1-\sigma(wx+b)\right)").ok
    wrong = problem.check("x*sigmoid(w*x + b)")
    assert not wrong.ok and "σ′" in wrong.message       # σ used where σ′ was needed
    problem = drill.DrillSession("matrix", 2, 0).problem(0)
    assert problem.check(r"2(\mathbf{W}\mathbf{x} - \mathbf{y})\mathbf{x}^\top").ok
    misplaced = problem.check("2*x.T@(W@x - y)")
    assert not misplaced.ok and "wrong side" in misplaced.message


def test_two_variable_descent_hint_states_the_gradient_plainly():
    problem = drill.DrillSession("descent", 2, seed=2).problem(0)
    assert "f(x, y) = x² + 6y²" in problem.prompt
    assert problem.hint.startswith("∇f = (2x, 12y);") and "2·1x" not in problem.hint
    assert problem.solution().startswith("∇f(-1, 1) = (-2, 12);")


def test_unordered_answers_blame_only_the_wrong_values():
    check = drill.numbers_checker([2.0, 5.0], ordered=False)
    assert check("5, 7").message == "7 is not right"          # 5 is an eigenvalue
    assert check("7, 5").message == "7 is not right"
    assert check("1, 3").message == "1, 3 are not right"
    assert check("-2, 5").message == "-2 is not right (check the sign)"
    assert check("5, 2").ok and check("2, 5").ok
    assert not drill.numbers_checker([2.0, 2.0], ordered=False)("2, 5").ok


@pytest.mark.parametrize("answer", [
    r"\begin{bmatrix} 2xy + 4ye^{xy} \\ x^2 + 4xe^{xy} \end{bmatrix}",
    r"$\begin{pmatrix} 2xy + 4ye^{xy} \\ x^2 + 4xe^{xy} \end{pmatrix}$",
    r"\left(2xy + 4ye^{xy}, x^2 + 4xe^{xy}\right)",
    "(2*x*y + 4*y*exp(x*y), x^2 + 4*x*exp(x*y))",
])
def test_gradient_answers_in_latex_vector_forms(answer):
    check = drill.derivative_checker("x^2*y + 4*exp(x*y)", ["x", "y"])
    assert check(answer).ok
    assert drill.split_answer("(x+1)*(x+2)") == ["(x+1)*(x+2)"]   # one product, not a tuple
    assert drill.split_answer("[a, b]*[c]") == ["[a, b]*[c]"]


def test_percentages_read_as_fractions():
    assert drill.read_numbers("75%") == pytest.approx([0.75])
    assert drill.read_numbers(r"75\%, 12.5 %") == pytest.approx([0.75, 0.125])
    problem = drill.DrillSession("pca", 3, seed=1).problem(0)
    assert problem.check("75%").ok and not problem.check("0.75%").ok
