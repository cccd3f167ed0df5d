"""MathML: every rule's output converts cleanly, and nothing but whitelisted MathML gets out."""

import json
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("latex2mathml")

from derivekit.web.mathml import ELEMENTS, mathml, prose  # noqa: E402


def _latex_strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("latex", "markdown") and isinstance(value, str):
                yield key, value
            else:
                yield from _latex_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _latex_strings(item)


def _rules(steps):
    for step in steps:
        yield step["rule"]
        yield from _rules(step.get("substeps") or [])


def _assert_clean(markup: str):
    tree = ET.fromstring(f"<root>{markup}</root>")
    for node in tree.iter():
        tag = node.tag.split("}")[-1]
        assert tag in ELEMENTS | {"root", "code"}, tag
        assert not any(name.startswith("on") or name in ("href", "src", "style") for name in node.attrib)


@pytest.mark.parametrize("count", [20, pytest.param(300, marks=pytest.mark.slow)])
def test_every_rule_in_a_seeded_corpus_becomes_mathml(count):
    """All LaTeX of random derivations (over the rule table) converts to well-formed MathML
    rather than the escaped-source fallback."""
    from derivekit.calculus.derive import derive
    from derivekit.calculus.exprgen import X, corpus

    fallbacks, converted, rules = [], 0, set()
    for expr in corpus(count, seed=13):
        try:
            d = derive(expr, X)
        except Exception:  # noqa: BLE001 - the engine's own refusals are not this test's subject
            continue
        payload = json.loads(d.render("json"))
        rules |= set(_rules(payload["steps"]))
        for kind, text in _latex_strings(payload):
            markup = str(prose(text) if kind == "markdown" else mathml(text))
            _assert_clean(markup)
            if '<code class="latex">' in markup:
                fallbacks.append(text)
            converted += 1
    assert converted > 10 * count and len(rules) >= 12, sorted(rules)
    assert len(fallbacks) <= converted // 100, fallbacks[:5]


@pytest.mark.parametrize("latex,needles", [
    (r"\sigma\left(w x + b\right)", ["<mi>σ</mi>"]), (r"\hat{y}", ["<mover", "<mi>y</mi>"]),
    (r"\mathbf{x}^\top", ["<mi>𝐱</mi>", "<mo>⊤</mo>"]), (r"\mathbf{A} \odot \mathbf{B}", ["<mo>⊙</mo>"]),
    (r"\mathbb{1}", ['mathvariant="double-struck"']),
    (r"\left[\begin{matrix}1\\2\end{matrix}\right]", ["<mtable>", "<mtr>"]),
    (r"\frac{\partial L}{\partial \mathbf{W}}", ["<mfrac>", "∂"]), (r"\operatorname{tr}\left(X\right)", ["tr"]),
    (r"\left\|\mathbf{W} \mathbf{x}\right\|_2^2", ["<msubsup>"]), (r"u_{1}", ["<msub>"]),
])
def test_dl_notation_comes_out_right(latex, needles):
    out = str(mathml(latex))
    _assert_clean(out)
    assert out.startswith("<math")
    for needle in needles:
        assert needle in out, (needle, out)


def test_matrix_forms_become_mathml():
    import derivekit as dk
    cases = [("norm2(W@x + b - y)", "W", {"W": (3, 4), "x": (4, 1), "b": (3, 1), "y": (3, 1)}),
             ("sum(sigmoid(W@x) * y)", "W", {"W": (3, 4), "x": (4, 1), "y": (3, 1)}),
             ("-sum(y*log(softmax(z)))", "z", {"z": (3, 1), "y": (3, 1)}),
             ("logdet(X)", "X", {"X": (3, 3)}), ("trace(A@X@B)", "X", {"A": (2, 3), "X": (3, 4), "B": (4, 2)})]
    for loss, wrt, shapes in cases:
        latex = dk.matrix_gradient(loss, wrt=wrt, shapes=shapes).to_latex()
        for line in [part for part in latex.replace("\\\\", "\n").split("\n") if part.strip()][:3]:
            _assert_clean(str(mathml(line.replace("&", ""))))


@pytest.mark.parametrize("latex", [
    r"\text{<script>alert(1)</script>}", r"\text{<img src=x onerror=alert(1)>}", r"\text{a & b}",
    r"\href{javascript:alert(1)}{x}", "</math><script>alert(1)</script>", r"\mathrm{<b>}",
])
def test_markup_in_latex_never_leaves_as_markup(latex):
    out = str(mathml(latex))
    _assert_clean(out)
    assert "<script" not in out and "<img" not in out and "javascript:" not in out.split("latex")[0]


def test_prose_escapes_outside_math():
    out = str(prose("a <b>bold</b> claim: $x^{2}$"))
    assert "&lt;b&gt;" in out and "<msup>" in out
