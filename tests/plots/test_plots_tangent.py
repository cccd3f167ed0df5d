"""f, f′ and the tangent line: the drawn derivative agrees with finite differences of the
drawn function, and ``derivekit diff --plot`` writes the figure."""

import numpy as np
import pytest

import derivekit as dk
from derivekit.cli import main
from derivekit.errors import DerivekitError
from derivekit.plots.tangent import samples


@pytest.mark.parametrize("source,at", [("x^3 - 2*x", 1.0), ("sigmoid(3*x)", -0.5), ("log(1 + x^2)", 2.0),
                                       ("tanh(x)*sin(x)", 0.3), ("1/x", 1.5)])
def test_drawn_derivative_matches_finite_differences(source, at):
    expr = dk.parse(source)
    (var,) = expr.free_symbols
    data = samples(expr, dk.derive(expr, var).result, var, at)
    fn = dk.compile(expr, [var])
    eps = 1e-6
    with np.errstate(all="ignore"):
        central = (fn(data.xs + eps) - fn(data.xs - eps)) / (2 * eps)
    ok = np.isfinite(central) & np.isfinite(data.fprime) & (np.abs(data.xs) > 0.2)
    assert ok.sum() > 200 and np.allclose(data.f[ok], fn(data.xs[ok]))
    assert np.allclose(central[ok], data.fprime[ok], rtol=1e-4, atol=1e-5)
    # the tangent touches f at x0 with f's slope there
    assert data.f0 == pytest.approx(float(fn(at)))
    assert data.slope == pytest.approx((float(fn(at + eps)) - float(fn(at - eps))) / (2 * eps), rel=1e-4)


def test_one_variable_only():
    expr = dk.parse("x*y")
    x = sorted(expr.free_symbols, key=lambda s: s.name)[0]
    with pytest.raises(DerivekitError, match="alone"):
        samples(expr, dk.derive(expr, x).result, x)


def test_diff_plot_writes_the_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "tangent.svg"
    assert main(["diff", "x^3 - 2*x", "--plot", str(out), "--at", "1"]) == 0
    assert out.read_text().lstrip().startswith("<?xml") and "3x² − 2" in capsys.readouterr().out
    assert main(["diff", "x*y", "--wrt", "x", "--plot", str(tmp_path / "t.png")]) == 2
    assert main(["diff", "x^3", "--plot", str(tmp_path / "t.txt")]) == 2


@pytest.mark.parametrize("source,at", [("x^3 - 2*x", None), ("sigmoid(3*x)", -0.5), ("log(1 + x^2)", 2.0)])
def test_derivation_plot_is_the_cli_figure_and_shows_inline(source, at, tmp_path):
    """``Derivation.plot(at)`` in Jupyter: the figure ``diff --plot`` draws (same curves),
    its tangent has f's finite-difference slope at x₀, and it renders as PNG inline."""
    pytest.importorskip("matplotlib")
    expr = dk.parse(source)
    (var,) = expr.free_symbols
    derivation = dk.derive(expr, var)
    fig = derivation.plot(at=at)
    x0 = 1.0 if at is None else at
    data = samples(expr, derivation.result, var, x0)
    f_line, fp_line, tangent_line = fig.axes[0].get_lines()[:3]
    assert np.array_equal(f_line.get_xdata(), data.xs)
    assert np.allclose(f_line.get_ydata(), data.f, equal_nan=True)
    assert np.allclose(fp_line.get_ydata(), data.fprime, equal_nan=True)
    fn, eps = dk.compile(expr, [var]), 1e-6
    slope = (float(fn(x0 + eps)) - float(fn(x0 - eps))) / (2 * eps)
    xs, ys = tangent_line.get_xdata(), tangent_line.get_ydata()
    assert np.allclose(ys, float(fn(x0)) + slope * (xs - x0), rtol=1e-4, atol=1e-4)
    assert fig._repr_png_().startswith(b"\x89PNG")
    out = derivation.plot(at=at, path=tmp_path / "t.svg")
    assert (tmp_path / "t.svg").read_text().lstrip().startswith("<?xml") and out is not None


def test_derivation_plot_refuses_what_it_cannot_draw():
    pytest.importorskip("matplotlib")
    with pytest.raises(DerivekitError, match="first derivative"):
        dk.derive("x^3", "x", order=2).plot()
    expr = dk.parse("x*y")
    x = sorted(expr.free_symbols, key=lambda s: s.name)[0]
    with pytest.raises(DerivekitError, match="alone"):
        dk.derive(expr, x).plot()
