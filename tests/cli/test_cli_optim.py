"""``derivekit descend`` and ``derivekit fit`` through ``derivekit.cli.main``.

Exit codes: 0 success, 1 when a run diverged, 2 on usage or parse errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from derivekit.cli import main
from derivekit.cli.optim import ProgressBar


def test_descend_default_adam(capsys):
    assert main(["descend", "x^2 + 10*y^2", "--start", "x=1,y=1", "--lr", "0.1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Adam (adam, as torch.optim.Adam) on x² + 10y²")
    assert "m₁ = β₁·m₀ + (1 − β₁)·g = 0.9·0 + 0.1·2 = 0.2" in out
    assert "x₁ = x₀ − α·m̂₁/(√v̂₁ + ε) = 1 − 0.1·2/(√4 + 1e−08) = 0.9" in out
    assert "update 3" not in out  # --worked defaults to 2


def test_descend_gd_worked_step(capsys):
    assert main(["descend", "x^2", "--start", "x=1", "--method", "gd", "--lr", "0.1", "--steps", "10"]) == 0
    out = capsys.readouterr().out
    assert "x₁ = x₀ − α·g = 1 − 0.1·2 = 0.8" in out and "reached the maximum of 10 steps" in out


def test_descend_compare_methods(capsys):
    code = main(["descend", "x^2 + 10*y^2", "--start", "x=1,y=1", "--compare", "gd,momentum,adam",
                 "--lr", "0.05", "--steps", "100"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "descent on x² + 10y²"
    assert [line.split()[0] for line in lines[3:6]] == ["gd", "momentum", "adam"]


def test_descend_json(capsys):
    assert main(["descend", "x^2 + y^2", "--start", "x=1,y=2", "--method", "nesterov", "--steps", "5",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "nesterov" and data["hyper"]["momentum"] == 0.9
    assert np.array(data["points"]).shape == (6, 2)


@pytest.mark.parametrize("fmt, marker", [("latex", r"\begin{tabular}"), ("markdown", "| step |")])
def test_descend_other_formats(capsys, fmt, marker):
    assert main(["descend", "x^2", "--start", "x=1", "--format", fmt, "--steps", "3"]) == 0
    assert marker in capsys.readouterr().out


def test_descend_divergence_exits_1_with_advice(capsys):
    code = main(["descend", "x^2 + 10*y^2", "--start", "x=1,y=1", "--method", "gd", "--lr", "0.5"])
    assert code == 1
    captured = capsys.readouterr()
    assert "diverged at step 10" in captured.out and "try a smaller one, e.g. lr=0.05" in captured.out
    assert "gd diverged" in captured.err and "--lr" in captured.err
    assert "nan" not in captured.out


def test_descend_learning_rate_comparison(capsys):
    code = main(["descend", "x^2 + 10*y^2", "--start", "x=1,y=1", "--method", "gd", "--lrs", "0.0025,0.05,0.2",
                 "--steps", "50"])
    assert code == 1  # the too-large rate diverges
    out = capsys.readouterr().out
    assert [line.split()[1] for line in out.splitlines()[3:6]] == ["0.0025", "0.05", "0.2"]


def test_descend_options_reach_the_rule(capsys):
    assert main(["descend", "x^2", "--start", "x=1", "--method", "adam", "--betas", "0.5,0.9", "--eps", "1e-6",
                 "--steps", "2", "--format", "json", "--schedule", "exponential", "--gamma", "0.5"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hyper"]["betas"] == [0.5, 0.9] and data["hyper"]["eps"] == 1e-6
    assert data["learning_rates"] == [0.01, 0.005]


def test_descend_plot(tmp_path, capsys):
    path = tmp_path / "paths.png"
    assert main(["descend", "x^2 + 10*y^2", "--start", "x=1,y=1", "--compare", "gd,adam", "--lr", "0.05",
                 "--steps", "30", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "plot saved" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["descend", "x^2 +", "--start", "x=1"], "error"),
    (["descend", "x^2 + y^2", "--start", "x=1"], "no value for y"),
    (["descend", "x^2", "--start", "x:1"], "cannot read 'x:1' as NAME=VALUE"),
    (["descend", "x^2"], "start point is needed"),
    (["descend", "x^2", "--start", "x=1", "--method", "adma"], "did you mean 'adam'"),
    (["descend", "x^2", "--start", "x=1", "--method", "gd", "--betas", "0.9,0.9"], "no option betas"),
    (["descend", "x^2", "--start", "x=1", "--plot", "out.jpg"], ".png, .svg or .pdf"),
    (["descend", "x^2", "--start", "x=1", "--lrs", "0.1,abc"], "--lrs"),
    (["fit", "--data", "/no/such/file.csv"], "no such CSV file"),
])
def test_usage_and_parse_errors_exit_2(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_unknown_option_exits_2(capsys):
    assert main(["descend", "x^2", "--bogus"]) == 2


def test_fit_builtin_linear_matches_lstsq(capsys):
    assert main(["fit", "--steps", "400"]) == 0
    out = capsys.readouterr().out
    assert "built-in linear dataset (seed 0)" in out
    assert "least squares (numpy.linalg.lstsq)" in out
    gap = float(out.split("max |θ − θ*| = ")[1].split()[0])
    assert gap < 1e-6


def test_fit_csv_logistic_minibatch(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = (X @ [1.5, -2.0] + 0.3 + 0.3 * rng.normal(size=120) > 0).astype(int)
    lines = ["hours,score,extra,passed"] + [f"{a:.4f},{b:.4f},7,{t}" for (a, b), t in zip(X, y)]
    path = tmp_path / "exam.csv"
    path.write_text("\n".join(lines) + "\n")
    argv = ["fit", "--data", str(path), "--model", "logistic", "--target", "passed", "--features", "hours,score",
            "--method", "minibatch", "--batch-size", "16", "--lr", "0.5", "--steps", "300", "--seed", "3"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "w_hours" in out and "w_score" in out and "w_extra" not in out
    assert "batch_size=16" in out
    accuracy = float(out.split("training accuracy: ")[1].split()[0])
    assert accuracy > 0.85
    assert main(argv) == 0
    assert capsys.readouterr().out == out  # same seed, same run


def test_fit_compare_json(capsys):
    assert main(["fit", "--compare", "gd,momentum", "--steps", "50", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in data["runs"]] == ["gd", "momentum"]


def test_progress_bar_only_on_a_terminal_after_a_delay():
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    quiet = io.StringIO()
    bar = ProgressBar("gd", stream=quiet, delay=0.0)
    bar(5, 10)
    bar.close()
    assert quiet.getvalue() == ""  # not a terminal
    term = Terminal()
    slow = ProgressBar("gd", stream=term, delay=3600.0)
    slow(5, 10)
    assert term.getvalue() == ""  # a short run draws nothing
    shown = ProgressBar("gd", stream=term, delay=0.0)
    shown(10, 10)
    assert "10/10" in term.getvalue() and "#" * 30 in term.getvalue()
    shown.close()
    assert term.getvalue().endswith("\r")


def test_fit_mlp_on_the_builtin_nonlinear_data(capsys):
    assert main(["fit", "--model", "mlp", "--method", "adam", "--lr", "0.05", "--steps", "600", "--worked", "0"]) == 0
    out = capsys.readouterr().out
    assert "MLP x:2 -> linear:8 -> tanh -> linear:1" in out and "built-in nonlinear dataset" in out
    assert "(33 parameters)" in out
    assert float(out.split("R² on the training data: ")[1].split()[0]) > 0.9
