"""The "explain it like an interview" mode: rule, why, result and pitfall, built from the
derivation and the rule registry."""

from __future__ import annotations

import json

import pytest

from derivekit.cli import main

import derivekit.explain as explain_module
from derivekit import rules


@pytest.mark.parametrize("topic", list(explain_module.EXPLAIN_TOPICS))
def test_every_topic_explains_from_its_derivation(topic):
    from derivekit.derive import derive
    from derivekit.printing import to_text
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
    from derivekit.printing import to_text
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
