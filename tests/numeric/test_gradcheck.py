"""dk.gradcheck: methods, tolerances, points in the domain, reports."""

import json

import numpy as np
import pytest
import sympy as sp

import derivekit as dk
from derivekit.errors import DerivekitError
from derivekit.numeric import finitediff
from derivekit.numeric.sampling import domain_conditions, sample_points
from derivekit.parsing.functions import relu, sigmoid, softplus

x, y, w, b = sp.symbols("x y w b")

SMOOTH = [sigmoid(w * x + b) * x, sp.log(x**2 + 1) * sp.exp(-y), softplus(x * y) + sp.tanh(x),
          x**3 * y - 2 * y**2, sp.sin(x) * sp.cos(y)]


@pytest.mark.parametrize("method", finitediff.METHODS)
@pytest.mark.parametrize("expr", SMOOTH, ids=str)
def test_derivekit_gradient_passes_every_method(expr, method):
    result = dk.gradcheck(expr, None, method=method)
    assert result.ok, result.to_text()


def test_complex_step_reaches_machine_precision():
    result = dk.gradcheck(sp.exp(x) * sp.sin(y) / (2 + sp.cos(x)), None, method="complex")
    assert result.max_rel_error < 1e-13


def test_richardson_beats_central_at_the_same_large_step():
    e = sp.exp(2 * x) * sp.sin(3 * x)
    coarse = dk.gradcheck(e, None, method="central", eps=1e-3)
    fine = dk.gradcheck(e, None, method="richardson", eps=1e-3)
    assert fine.max_abs_error < coarse.max_abs_error / 100


def test_torch_defaults():
    result = dk.gradcheck(x**2, None)
    assert (result.eps, result.atol, result.rtol) == (1e-6, 1e-5, 1e-3)


def test_wrong_claim_names_the_failing_component():
    result = dk.gradcheck(x**2 * y, [2 * x * y, x**2 + 1], wrt=[x, y])
    assert not result.ok
    assert result.failing == ["y"]
    assert result.abs_errors["x"] < 1e-6 and result.abs_errors["y"] == pytest.approx(1.0, rel=1e-6)
    assert "y: analytic" in result.to_text()


def test_claim_as_text_and_as_callable():
    assert dk.gradcheck("x^2*y", "[2*x*y, x^2]", wrt="x,y").ok
    assert dk.gradcheck("x^2*y", lambda x, y: [2 * x * y, x**2], wrt="x,y").ok
    assert not dk.gradcheck("x^2*y", lambda x, y: [x * y, x**2], wrt="x,y").ok


def test_claim_with_wrong_length_is_reported():
    with pytest.raises(DerivekitError, match="one component per wrt"):
        dk.gradcheck(x * y, [y], wrt="x, y")


def test_user_points_in_several_forms():
    by_dict = dk.gradcheck(x**2 * y, None, at={"x": [1.0, 2.0], "y": 3.0})
    assert by_dict.points.shape == (2, 2)
    assert by_dict.point_dicts()[1] == {"x": 2.0, "y": 3.0}
    by_list = dk.gradcheck(x**2 * y, None, at=[{"x": 1.0, "y": 2.0}, {"x": -1.0, "y": 0.5}])
    assert len(by_list.points) == 2
    by_array = dk.gradcheck(x**2 * y, None, at=np.array([1.0, 2.0]))
    assert by_array.ok
    with pytest.raises(DerivekitError, match="no value for y"):
        dk.gradcheck(x * y, None, at={"x": 1.0})


def test_non_wrt_symbols_are_held_fixed_inputs():
    result = dk.gradcheck(sigmoid(w * x + b), None, wrt="w, b")
    assert result.components == ("w", "b")
    assert result.point_names == ("w", "b", "x")


def test_random_direction_catches_a_wrong_gradient():
    result = dk.gradcheck(x**2 * y, [2 * x * y, 2 * x], wrt="x, y", method="random_direction")
    assert not result.ok and result.components[0] == "direction 1"


def test_sampled_points_respect_the_domain():
    e = sp.log(x) + sp.sqrt(y) + relu(x - 1) + sp.Abs(y - 0.5) + 1 / (x - 1.5)
    pts = sample_points([e], (x, y), 50, seed=3)
    assert (pts[:, 0] > 0.05).all() and (pts[:, 1] > 0.05).all()
    assert (np.abs(pts[:, 0] - 1) > 0.05).all() and (np.abs(pts[:, 1] - 0.5) > 0.05).all()
    assert (np.abs(pts[:, 0] - 1.5) > 0.05).all()


def test_domain_conditions_come_from_the_rule_table():
    kinds = {(c.kind, c.expr) for c in domain_conditions([sp.log(x) + relu(y) + sp.asin(x / 3)])}
    assert ("positive", x) in kinds and ("away_from_zero", y) in kinds
    assert ("inside_unit", x / 3) in kinds


def test_gradcheck_across_a_kink_is_avoided():
    assert dk.gradcheck(relu(x) + sp.Abs(x - 1) * y, None).ok


def test_no_points_in_the_domain_says_what_to_do():
    with pytest.raises(DerivekitError, match="at="):
        dk.gradcheck(sp.log(-x**2 - 1), None)


def test_central_differences_run_as_one_batched_call():
    calls = []

    def f(*cols):
        calls.append(cols[0].shape)
        return sum(c**2 for c in cols)

    pts = np.ones((3, 5))
    out = finitediff.central(f, pts, list(range(5)), 1e-6)
    assert len(calls) == 1 and calls[0] == (10, 3)
    np.testing.assert_allclose(out, 2.0, rtol=1e-8)


def test_report_renders_in_every_format():
    result = dk.gradcheck(x**2 * y, [2 * x * y, 3 * x], wrt="x, y")
    for fmt in ("text", "markdown", "latex"):
        assert "y" in result.render(fmt)
    data = json.loads(result.to_json())
    assert data["ok"] is False and data["failing"] == ["y"]


def test_complex_step_refuses_erf_with_a_hint():
    with pytest.raises(DerivekitError, match="central"):
        dk.gradcheck(sp.erf(x), None, method="complex")


def test_unknown_method_lists_choices():
    with pytest.raises(DerivekitError, match="richardson"):
        dk.gradcheck(x, None, method="forward")
