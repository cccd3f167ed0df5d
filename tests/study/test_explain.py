"""The "explain it like an interview" mode: rule, why, result and pitfall, built from the
derivation and the rule registry."""

from __future__ import annotations

import json

import pytest

import derivekit.study.explain as explain_module
from derivekit.calculus import rules
from derivekit.cli import main


@pytest.mark.parametrize("topic", [name for name, entry in explain_module.EXPLAIN_TOPICS.items()
                                   if isinstance(entry, explain_module.ExplainTopic)])
def test_every_topic_explains_from_its_derivation(topic):
    from derivekit.calculus.derive import derive
    from derivekit.render.printing import to_text
    entry = explain_module.EXPLAIN_TOPICS[topic]
    e = explain_module.explain(topic)
    assert e.derivation.result == derive(entry.expr, entry.wrt).result
    text = e.to_text()
    assert to_text(e.derivation.result) in text            # the result
    assert entry.pitfall in text                            # the pitfall
    assert e.rules and e.rules[0].title.lower() in text.lower()   # the rule, from the registry
    assert "Why it applies: " in text and "{" not in e.why  # every placeholder filled
    for fmt in ("markdown", "latex"):
        assert e.render(fmt).count("Pitfall") == 1
    assert json.loads(e.to_json())["pitfall"] == entry.pitfall


def test_sigmoid_names_the_chain_and_sigmoid_rules_and_the_quarter_bound():
    e = explain_module.explain("sigmoid")
    names = [r.name for r in e.rules]
    assert names[:2] == ["chain", "sigmoid"]
    assert "σ′(x) = σ(x)(1 − σ(x))" in e.to_text()
    assert "¼" in e.pitfall and "vanishing" in e.pitfall


def test_cross_entropy_result_shows_the_cancellation():
    from derivekit.render.printing import to_text
    e = explain_module.explain("bce")
    assert "σ" in to_text(e.derivation.result) and "y" in to_text(e.derivation.result)
    assert "cancels" in e.pitfall


def test_an_expression_gets_a_pitfall_by_its_functions():
    e = explain_module.explain("relu(3*x - 1)", wrt="x")
    assert "dying ReLU" in e.pitfall
    assert explain_module.explain("x^3 + 2*x", wrt="x").pitfall == explain_module.DEFAULT_PITFALL


def test_cli_explain(capsys):
    assert main(["explain", "sigmoid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Explain it like an interview: sigmoid")
    assert main(["explain", "tanh(2*x)", "--wrt", "x", "--format", "markdown"]) == 0
    assert "**Pitfall.**" in capsys.readouterr().out
    assert main(["explain", "sigmod"]) == 2
    assert "did you mean 'sigmoid'" in capsys.readouterr().err
    assert main(["explain", "--list"]) == 0
    assert "vanishing_gradients" in capsys.readouterr().out
    assert main(["explain"]) == 2


# --- topics explained from a computed result (dk.eig, dk.pca, dk.minimize) ---------------

RESULT_TOPICS = ["eigen", "pca", "gd_update"]


def test_result_topics_are_listed_and_render_in_every_format():
    assert set(RESULT_TOPICS) <= set(explain_module.topic_names())
    for topic in RESULT_TOPICS:
        e = explain_module.explain(topic)
        entry = explain_module.EXPLAIN_TOPICS[topic]
        text = e.to_text()
        assert text.startswith(f"Explain it like an interview: {topic}")
        assert entry.pitfall in text and "{" not in text
        for fmt in ("markdown", "latex"):
            assert e.render(fmt).count("Pitfall") == 1
        assert json.loads(e.to_json())["pitfall"] == e.pitfall


def test_eigen_uses_the_real_decomposition():
    import numpy as np
    import sympy as sp

    from derivekit.linalg.eigen import LAMBDA, eig
    e = explain_module.explain("eigenvalues")            # an alias
    assert e.topic == "eigen"
    text = e.to_text()
    result = eig("[[2,1],[1,2]]")
    assert sp.expand(e.result.characteristic_polynomial - result.characteristic_polynomial) == 0
    A = np.array([[2.0, 1.0], [1.0, 2.0]])
    values, vectors = np.linalg.eigh(A)                    # independently: 1 and 3
    assert sorted(float(v) for v in e.result.eigenvalues) == pytest.approx(values)
    assert "λ² − 4λ + 3" in text and "(λ − 3)·(λ − 1)" in text
    assert sp.Poly(result.characteristic_polynomial, LAMBDA).all_coeffs() == [1, -4, 3]
    assert "λ = 3 with v = [1, 1]" in text and "λ = 1 with v = [−1, 1]" in text
    for value, v in e.result.pairs:                        # the shown pairs satisfy Av = λv
        assert np.allclose(A @ np.array(v, dtype=float).ravel(), float(value) * np.array(v, dtype=float).ravel())
    assert "A·[1, 1] = [3, 3] = 3·[1, 1]" in text
    assert f"ρ(A) = max |λ| = {max(abs(values)):g}" in text
    assert "exploding when ρ > 1" in text and "vanishing when ρ < 1" in text
    assert "would explode" in text


def test_pca_uses_the_real_run_on_the_builtin_dataset():
    import numpy as np

    from derivekit.linalg.datasets import builtin
    from derivekit.linalg.steps import format_number, number_text
    e = explain_module.explain("pca")
    text = e.to_text()
    X = builtin().data                                     # independently, with NumPy
    n = X.shape[0]
    Xc = X - X.mean(axis=0)
    C = np.cov(X, rowvar=False)                            # n − 1
    values, vectors = np.linalg.eigh(C)
    values, vectors = values[::-1], vectors[:, ::-1]
    ratio = values / values.sum()
    assert np.allclose(e.result.covariance, C) and np.allclose(e.result.eigenvalues, values)
    assert f"n − 1 = {n - 1}" in text
    assert number_text(float(C[0, 1]), 4) in text
    for i, (value, r) in enumerate(zip(values, ratio)):
        assert f"λ{'₁₂'[i]} = {format_number(float(value), 4)}" in text
        assert f"PC{i + 1} = (" in text and f"explains {100 * r:.1f}% of the variance" in text
    for component, vector in zip(e.result.components, vectors.T):   # same up to sign
        assert np.allclose(component, vector) or np.allclose(component, -vector)
        assert "(" + ", ".join(number_text(float(x), 4) for x in component) + ")" in text
    scores = Xc[0] @ e.result.components.T
    assert "(" + ", ".join(number_text(float(x), 4) for x in scores) + ")" in text
    assert "centre" in e.pitfall and "standardised" in e.pitfall and "sign" in e.pitfall


def test_gd_update_shows_the_first_step_with_its_numbers():
    import numpy as np

    from derivekit.optim.optimizers import minimize
    e = explain_module.explain("gd_update")
    text = e.to_text()
    t = e.result
    step = t.worked[0]
    theta0 = np.array([1.0, 1.0])
    grad = np.array([2 * theta0[0], 20 * theta0[1]])      # ∇(x² + 10y²), by hand
    assert np.allclose(step.grad, grad)
    theta1 = theta0 - step.lr * grad
    assert np.allclose(t.points[1], theta1)
    assert f"x₁ = x₀ − α·g = 1 − {step.lr:g}·2 = {theta1[0]:g}" in text
    assert f"y₁ = y₀ − α·g = 1 − {step.lr:g}·20 = {theta1[1]:g}" in text
    assert "∇J(θ₀) = (2, 20)" in text
    big = minimize("x^2 + 10*y^2", {"x": 1, "y": 1}, method="sgd",
                   lr=explain_module.GD_TOO_LARGE, steps=explain_module.GD_STEPS)
    assert big.diverged and big.reason in text
    assert "α < 2/a" in text


def test_cli_explain_result_topics(capsys):
    assert main(["explain", "eigen"]) == 0
    assert "λ = 3 with v = [1, 1]" in capsys.readouterr().out
    assert main(["explain", "pca", "--format", "markdown"]) == 0
    assert "**Pitfall.**" in capsys.readouterr().out
    assert main(["explain", "gd_update", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["topic"] == "gd_update"
    assert main(["explain", "--list"]) == 0
    listing = capsys.readouterr().out
    assert all(topic in listing for topic in RESULT_TOPICS)


@pytest.mark.parametrize("topic", explain_module.topic_names())
def test_every_topic_reads_as_english(topic):
    # issue 14: "uses the reLU rule", "has the gradient collapses to"; no mixed spellings
    text = explain_module.explain(topic).to_text()
    assert "reLU" not in text and "has the gradient collapses" not in text
    assert not ("sgn" in text and "sign(" in text)
    assert "{" not in text


def test_a_capitalised_name_keeps_its_capitals_inside_a_sentence():
    assert explain_module._lower_title("ReLU rule") == "ReLU rule"
    assert explain_module._lower_title("Chain rule") == "chain rule"
    assert "the ReLU rule" in explain_module.explain("relu").to_text()


@pytest.mark.parametrize("source, wanted, unwanted", [
    ("x^x", ["The key rule is logarithmic differentiation", "with y = x^x", "log(y) = x·log(x)"],
     ["the logarithmic differentiation", "ln y", "ln f", "ln x"]),
    ("asin(2*x)", ["d/dx arcsin x", "d/dx [arcsin(2x)] = 2/√(1 − 4x²)"], ["asin"]),
    ("max(x, 0)", ["step function H (H(t) = 1 for t > 0"], []),
    ("tanh(3*x)", ["d/dx [tanh(3x)] = 3(1 − tanh(3x)²)"], ["3 − 3tanh(3x)²."]),
])
def test_expression_explanations_keep_one_spelling(source, wanted, unwanted):
    # issue 14: one spelling each (log, arcsin), H defined where used, "logarithmic
    # differentiation" named without an article
    text = explain_module.explain(source, wrt="x").to_text().split("\n", 1)[1]  # after the
    for piece in wanted:  # heading, which repeats the input as typed
        assert piece in text, (piece, text)
    for piece in unwanted:
        assert piece not in text, (piece, text)


def test_an_expression_in_one_variable_needs_no_wrt():
    from derivekit.errors import DerivekitError
    from derivekit.study.explain import explain

    assert explain("tanh(3*x)").render("text") == explain("tanh(3*x)", "x").render("text")
    with pytest.raises(DerivekitError, match="did you mean 'sigmoid'"):
        explain("sigmod")  # a misspelt topic, not the variable sigmod
    with pytest.raises(DerivekitError, match="variables b, w, x") as info:
        explain("w*x + b")
    assert '--wrt b' in info.value.hint
