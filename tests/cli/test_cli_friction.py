"""What a new user met in the first hour, each pinned by a command-line test."""

import shlex

import pytest

from derivekit.cli.dispatch import main

STUDY = "examples/study_hours.csv"


def run(capsys, line: str) -> tuple[int, str, str]:
    code = main(shlex.split(line))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


@pytest.mark.parametrize("line, wrt", [
    ('grad "norm2(W@x - y)" --wrt W', "W"),
    ('diff "x.T@A@x"', "A"),
    ('grad "x.T@A@x" --wrt x', "x"),
    ('grad "np.sum(W*x)"', "W"),
])
def test_matrix_syntax_in_grad_and_diff_names_the_matgrad_line_to_type(capsys, line, wrt):
    code, _, err = run(capsys, line)
    assert code == 2 and "matrix expression" in err
    suggested = err.split("\n  derivekit ", 1)[1].strip()
    assert suggested.startswith("matgrad ") and f"--wrt {wrt}" in suggested
    # the suggested command line runs as typed
    code, out, _ = run(capsys, suggested)
    assert code == 0 and "∂L/∂" in out


def test_check_guesses_wrt_for_one_variable_and_asks_for_several(capsys):
    code, out, _ = run(capsys, 'check "x^3" --claim "3*x^2"')
    assert code == 0 and "correct" in out
    code, _, err = run(capsys, 'check "x*y" --claim "y"')
    assert code == 2 and "--wrt" in err and "x,y" in err


def test_fit_takes_the_csv_positionally_like_pca(capsys):
    code, out, _ = run(capsys, f"fit {STUDY} --target score --lr 0.001 --steps 5")
    assert code == 0 and STUDY in out
    code, _, err = run(capsys, f"fit {STUDY} --data other.csv --target score")
    assert code == 2 and "two data files" in err


def test_fit_and_pca_skip_the_row_id_column_and_say_so(capsys):
    code, out, _ = run(capsys, f"fit {STUDY} --target score --lr 0.001 --steps 5")
    assert "skipped the ID-like column 'student'" in out and "w_student" not in out
    assert "w_hours" in out
    code, out, _ = run(capsys, f"fit {STUDY} --target score --features student,hours --lr 0.001 --steps 5")
    assert "w_student" in out and "skipped" not in out  # named columns are kept
    code, out, _ = run(capsys, f"pca {STUDY} --k 1")
    assert code == 0 and "skipped the ID-like column 'student'" in out
    assert "(hours, sleep, score, passed)" in out


def test_id_rules():
    import numpy as np

    from derivekit.columns import id_column_reason
    assert id_column_reason("student", np.arange(1, 41)[::-1])
    assert id_column_reason("user_id", np.array([7.0, 3.0, 9.0]))
    assert id_column_reason("hours", np.array([1.5, 2.0, 3.0])) is None
    assert id_column_reason("rooms", np.array([2.0, 3.0, 2.0, 4.0])) is None
    assert id_column_reason("idle_time", np.array([0.5, 0.7, 0.1])) is None


def test_descend_start_hint_is_command_line_syntax(capsys):
    code, _, err = run(capsys, 'descend "x^2 + 10*y^2"')
    assert code == 2 and "--start x=1,y=1" in err and "{" not in err


def test_readme_names_the_plot_extra_where_plots_first_appear():
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    first_plot = min(i for i in (text.find("--plot"), text.find(".plot(")) if i >= 0)
    assert 'pip install "derivekit[plot]"' in text[: first_plot + 2000]


def test_diff_high_order_with_no_steps_takes_the_fast_path(capsys):
    code, out, err = run(capsys, 'diff "sigmoid(tanh(sin(x^2)*exp(x)))" --order 5 --no-steps')
    assert code == 0 and "no-steps" not in err and out.startswith("d⁵/dx⁵")
    code, _, err = run(capsys, 'diff "sigmoid(tanh(sin(x^2)*exp(x)))" --order 5')
    assert code == 2 and "--no-steps" in err  # with steps asked for, the hint is right
