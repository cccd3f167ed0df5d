"""Trajectory and Comparison rendering: worked updates with numbers, tables, every format."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from derivekit.optim.optimizers import METHODS, compare, minimize
from derivekit.parsing.parse import parse


def _gd():
    return minimize("x^2", {"x": 1.0}, method="gd", lr=0.1, steps=5)


def test_first_update_is_worked_out_with_numbers():
    text = _gd().to_text()
    assert "x₁ = x₀ − α·g = 1 − 0.1·2 = 0.8" in text
    assert "g = ∂J/∂x(θ₀) = 2" in text
    assert "x₂ = x₁ − α·g = 0.8 − 0.1·1.6 = 0.64" in text
    assert "update: θ ← θ − α·∇J(θ)" in text
    assert "torch.optim.SGD" in text


def test_latex_and_markdown_show_the_same_update():
    t = _gd()
    latex = t.to_latex()
    assert r"x_{1} = x_{0} - \alpha \cdot g = 1 - 0.1 \cdot 2 = 0.8" in latex
    assert latex.startswith(r"\begin{aligned}") and latex.count("{") == latex.count("}")
    markdown = t.to_markdown()
    assert r"x_{1} = x_{0} - \alpha \cdot g = 1 - 0.1 \cdot 2 = 0.8" in markdown
    assert "| step | x | J | ‖∇J‖ |" in markdown
    assert t._repr_latex_().startswith("$$")


@pytest.mark.parametrize("method", METHODS)
def test_worked_values_are_the_recorded_points(method):
    t = minimize("x^2 + 3*y^2 + x*y", {"x": 1.0, "y": -0.5}, method=method, lr=0.05, steps=4,
                 worked_steps=3)
    data = t.to_dict()
    assert [w["t"] for w in data["worked"]] == [1, 2, 3]
    for worked in data["worked"]:
        step = worked["t"]
        for i, name in enumerate(t.names):
            sub = str(step).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
            line = next(line for line in worked["text"] if line.startswith(f"{name}{sub} ="))
            shown = float(line.rsplit("= ", 1)[1].replace("−", "-"))
            assert shown == pytest.approx(t.points[step][i], rel=1e-5, abs=1e-12)
            # every intermediate equality holds: the numeric expression evaluates to its value
            numeric = line.split(" = ")[-2].replace("−", "-").replace("·", "*")
            numeric = re.sub(r"√([\d.e+-]+)", r"sqrt(\1)", numeric)
            numeric = re.sub(r"([¹²³⁴⁵⁶⁷⁸⁹])", lambda m: f"^{'¹²³⁴⁵⁶⁷⁸⁹'.index(m[1]) + 1}", numeric)
            # six significant digits per shown number: allow their rounding, not more
            assert float(parse(numeric)) == pytest.approx(shown, rel=1e-4, abs=1e-5)


def test_dict_is_json_ready_and_complete():
    t = minimize("x^2 + 10*y^2", {"x": 1, "y": 1}, method="adam", lr=0.1, steps=20)
    data = json.loads(t.to_json())
    assert data["type"] == "trajectory" and data["method"] == "adam"
    assert data["torch"] == "torch.optim.Adam" and data["hyper"]["betas"] == [0.9, 0.999]
    assert len(data["points"]) == 21 and len(data["losses"]) == 21 and len(data["learning_rates"]) == 20
    assert data["start"] == {"x": 1.0, "y": 1.0}
    assert data["converged"] is False and data["diverged"] is False and data["reason"]
    assert data["worked"][0]["latex"][0].startswith("g = ")


def test_worked_and_rows_settings():
    t = minimize("x^2", {"x": 1.0}, method="gd", lr=0.01, steps=100)
    assert "update 1" not in t.to_text(worked=0)
    assert "update 2" not in t.to_text(worked=1) and "update 1" in t.to_text(worked=1)
    table = t.to_text(rows=5).split("\n\n")[-1].splitlines()
    assert len(table) == 1 + 5 and table[-1].split()[0] == "100"


def test_diverged_run_renders_without_nan():
    t = minimize("exp(x) + exp(-x)", {"x": 1.0}, method="gd", lr=1000.0)
    for fmt in ("text", "markdown", "latex", "json"):
        out = t.render(fmt)
        assert "nan" not in out.lower()
    assert "diverged" in t.to_text() and "too large" in t.to_text()


def test_weight_decay_shows_in_the_gradient_line():
    t = minimize("x^2", {"x": 1.0}, method="momentum", lr=0.1, steps=2, weight_decay=0.5)
    assert "g = ∂J/∂x(θ₀) + λ·x₀ = 2 + 0.5·1 = 2.5" in t.to_text()


def test_data_objective_renders():
    from derivekit.optim.objectives import LinearRegression, make_dataset
    t = minimize(LinearRegression(make_dataset("linear", samples=40, features=2)), method="sgd", steps=5)
    text = t.to_text()
    assert "w_x1₁ = w_x1₀ − α·g" in text and "batch_size=1" in text and "m = 40 rows" in text
    assert "g = ∂J_B/∂w_x1(θ₀)" in text and "mini-batch of 1 row " in text  # a batch gradient, said so
    assert r"w_{x1}^{(1)}" in t.to_latex()


def test_comparison_renders_in_every_format():
    c = compare("x^2 + 10*y^2", ["gd", "momentum", "adam"], start={"x": 1, "y": 1}, lr=0.05, steps=30)
    text = c.to_text()
    lines = text.splitlines()
    assert lines[0] == "descent on x² + 10y²"
    assert lines[2].split()[:4] == ["method", "lr", "steps", "final"]
    assert [line.split()[0] for line in lines[3:6]] == ["gd", "momentum", "adam"]
    assert "| method | lr |" in c.to_markdown()
    assert c.to_latex().startswith(r"\begin{array}")
    data = json.loads(c.to_json())
    assert data["type"] == "comparison" and [r["method"] for r in data["runs"]] == ["gd", "momentum", "adam"]
