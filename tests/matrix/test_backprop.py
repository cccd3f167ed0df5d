"""dk.backprop (MLP specs) and dk.gradflow (vanishing/exploding gradients)."""

import numpy as np
import pytest

import derivekit as dk
from derivekit.errors import ParseError
from derivekit.matrix.evaluate import _softmax


def sig(z):
    return 1 / (1 + np.exp(-z))


def test_two_layer_softmax_ce_spec():
    net = dk.backprop("x:4 -> linear:8 -> sigmoid -> linear:3 -> softmax_ce")
    assert [i.name for i in net.forward] == ["z1", "a1", "z2"]
    deltas = {z: e for z, e in net.deltas}
    from derivekit.matrix.printers import to_text
    assert to_text(deltas["z2"]) == "softmax(z₂) − y"
    assert to_text(deltas["z1"]) == "(W₂ᵀδ₂) ⊙ σ′(z₁)"
    grads = {n: to_text(g.named) for n, g in net.gradients.items()}
    assert grads == {"W1": "δ₁xᵀ", "b1": "δ₁", "W2": "δ₂a₁ᵀ", "b2": "δ₂"}
    assert net.ok
    # numbers against a hand-written NumPy backprop
    rng = np.random.default_rng(0)
    env = {"x": rng.standard_normal((4, 1)), "W1": rng.standard_normal((8, 4)),
           "b1": rng.standard_normal((8, 1)), "W2": rng.standard_normal((3, 8)),
           "b2": rng.standard_normal((3, 1)), "y": np.eye(3)[:, [1]]}
    z1 = env["W1"] @ env["x"] + env["b1"]
    a1 = sig(z1)
    d2 = _softmax(env["W2"] @ a1 + env["b2"]) - env["y"]
    d1 = (env["W2"].T @ d2) * a1 * (1 - a1)
    got = net.evaluate(env)
    assert np.allclose(got["W2"], d2 @ a1.T) and np.allclose(got["b2"], d2)
    assert np.allclose(got["W1"], d1 @ env["x"].T) and np.allclose(got["b1"], d1)


def test_batched_three_layer_spec_sums_biases():
    net = dk.backprop("x:4x16 -> linear:8 -> tanh -> linear:6 -> relu -> linear:1 -> sigmoid -> bce")
    from derivekit.matrix.printers import to_text
    grads = {n: to_text(g.named) for n, g in net.gradients.items()}
    assert grads["b1"] == "δ₁𝟙" and grads["W3"] == "δ₃a₂ᵀ"
    assert to_text(dict(net.deltas)["z3"]) == "(1/N)(σ(z₃) − Y)"
    assert net.ok and net.shapes["X"] == (4, 16)


def test_mse_spec_and_formats():
    net = dk.backprop("x:4 -> linear:8 -> sigmoid -> linear:1 -> mse")
    text = net.to_text()
    assert "δ₂ = z₂ − y" in text and "δ₁ = (W₂ᵀδ₂) ⊙ σ′(z₁)" in text
    assert "numeric check" in text
    assert net.to_latex().startswith("\\begin{aligned}")
    assert "**δ recursion**" in net.to_markdown()
    d = net.to_dict()
    assert d["check_ok"] and len(d["gradients"]) == 4


@pytest.mark.parametrize("spec, message", [
    ("linear:3 -> mse", "input size"),
    ("x:4 -> linear:3 -> sigmod -> mse", "did you mean 'sigmoid'"),
    ("x:4 -> linear:3", "must end with a loss"),
    ("x:4 -> linear:3 -> relu -> softmax_ce", "logits"),
    ("x:4 -> linear:1 -> bce", "sigmoid"),
    ("x:4 -> mse -> linear:2", "after the loss"),
])
def test_spec_errors(spec, message):
    with pytest.raises(ParseError, match=message):
        dk.backprop(spec)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"])
def test_every_activation_passes_the_numeric_check(act):
    assert dk.backprop(f"x:3x5 -> linear:4 -> {act} -> linear:2 -> mse").ok


def test_gradflow_sigmoid_vanishes_tanh_relu_survive():
    cmp = dk.gradflow(depth=10, width=32, init="xavier", seed=0, compare=True)
    status = {r.activation: r.status for r in cmp.runs}
    assert status == {"sigmoid": "vanishing", "tanh": "stable", "relu": "stable"}
    sigmoid = cmp.runs[0]
    assert sigmoid.per_layer_factor <= sigmoid.bound_factor
    assert "1/4" in sigmoid.explanation()
    assert "vanishing" in cmp.to_text()


def test_gradflow_explodes_with_normal_init_relu():
    assert dk.gradflow(depth=10, width=32, activation="relu", init="normal").status == "exploding"


def test_gradflow_is_reproducible_and_rendered():
    a = dk.gradflow(seed=3)
    b = dk.gradflow(seed=3)
    assert np.array_equal(a.grad_norms, b.grad_norms)
    assert "| layer |" in a.to_markdown()
    assert a.to_dict()["status"] == a.status


def test_gradflow_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from derivekit.plots.gradflow import plot_gradflow
    out = tmp_path / "flow.png"
    plot_gradflow(dk.gradflow(depth=5, compare=True), str(out))
    assert out.stat().st_size > 1000


def test_gradflow_bad_arguments():
    with pytest.raises(dk.DerivekitError, match="activation"):
        dk.gradflow(activation="swish")
