"""Figures: each kind renders to a valid, non-empty PNG and SVG."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from derivekit.errors import DerivekitError  # noqa: E402
from derivekit.optim.objectives import LinearRegression, make_dataset  # noqa: E402
from derivekit.optim.optimizers import compare, minimize  # noqa: E402
from derivekit.plots import optim as plot_optim  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 5000


def _check_svg(path):
    text = path.read_text()
    assert "<svg" in text[:2000] and text.rstrip().endswith("</svg>") and len(text) > 5000


@pytest.fixture(scope="module")
def runs():
    return compare("x^2 + 10*y^2", ["gd", "momentum", "adam"], start={"x": 1, "y": 1}, lr=0.05, steps=40).runs


def test_loss_curves_png_and_svg(runs, tmp_path):
    plot_optim.plot_losses(runs, path=tmp_path / "loss.png")
    plot_optim.plot_losses(runs, path=tmp_path / "loss.svg")
    _check_png(tmp_path / "loss.png")
    _check_svg(tmp_path / "loss.svg")


def test_contour_with_paths(runs, tmp_path):
    fig = plot_optim.plot_contour(runs, path=tmp_path / "contour.png")
    _check_png(tmp_path / "contour.png")
    assert len(fig.axes[0].get_lines()) >= 3 * len(runs)  # path, start and end per run


def test_learning_rate_comparison(tmp_path):
    fig = plot_optim.plot_lr_comparison("x^2 + 10*y^2", {"x": 1, "y": 1}, method="gd", steps=50,
                                        path=tmp_path / "lr.svg")
    _check_svg(tmp_path / "lr.svg")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 3 and "diverged" in labels[-1] and "diverged" not in labels[1]


def test_explicit_rates_and_a_diverging_run(tmp_path):
    plot_optim.plot_lr_comparison("x^2", {"x": 1}, method="gd", lrs=[0.01, 0.4, 1.5], steps=30,
                                  path=tmp_path / "lr.png")
    _check_png(tmp_path / "lr.png")


def test_trajectory_plot_method_and_data_objective(tmp_path):
    objective = LinearRegression(make_dataset("linear", samples=50, features=1))
    t = minimize(objective, method="gd", lr=0.1, steps=50)
    t.plot("contour", path=tmp_path / "fit.png")
    _check_png(tmp_path / "fit.png")
    fig = t.plot()
    assert fig.axes[0].get_yscale() == "log"


def test_errors(runs, tmp_path):
    with pytest.raises(DerivekitError, match=r"\.png, \.svg or \.pdf"):
        plot_optim.plot_losses(runs, path=tmp_path / "x.jpg")
    three = minimize("x^2 + y^2 + z^2", {"x": 1, "y": 1, "z": 1}, method="gd", lr=0.1, steps=3)
    with pytest.raises(DerivekitError, match="exactly 2 parameters"):
        three.plot("contour")
    with pytest.raises(DerivekitError, match="unknown plot kind"):
        three.plot("surface")


def test_figures_show_inline_in_jupyter(runs):
    # Jupyter calls _repr_png_; pyplot (which would register a formatter) is never imported
    fig = plot_optim.plot_losses(runs)
    png = fig._repr_png_()
    assert png[:8] == PNG_MAGIC and len(png) > 5000
