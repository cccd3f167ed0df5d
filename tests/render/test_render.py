"""The renderers: text, LaTeX, Markdown and dict output of derivations and matrices.

The first half renders hand-made step trees (tests/render_fixtures.py) with a small rule
table, so it tests the renderers alone; the second half renders the step engine's output.
"""

import importlib
import json
import re

import pytest
import sympy as sp
from latex_check import latex_problems, math_blocks
from render_fixtures import (
    FAKE_RULES,
    gradient_matrix,
    rewritten_derivation,
    sigmoid_derivation,
    w,
    x,
)

from derivekit.calculus.steps import Derivation, Step
from derivekit.errors import DerivekitError
from derivekit.render import walk as render


@pytest.fixture
def fake_rules(monkeypatch):
    monkeypatch.setattr(render, "_load_rules", lambda: FAKE_RULES)


# --- hand-made trees -----------------------------------------------------------------------

def test_text_is_a_numbered_indented_tree_with_sentences_and_facts(fake_rules):
    text = sigmoid_derivation().to_text()
    lines = text.splitlines()
    assert lines[0] == "∂/∂w σ(w·x + b)"
    assert "1. Chain rule: ∂/∂w σ(w·x + b) = x·σ(w·x + b)·(1 − σ(w·x + b))" in lines
    assert "   Substitute u₁ = w·x + b: differentiate σ(u₁) at u₁, times du₁/dw." in lines
    assert "   where u₁ = w·x + b" in lines
    assert "   2. Sigmoid rule: d/du₁ σ(u₁) = σ(u₁)·(1 − σ(u₁))" in lines  # d: one variable
    assert "      4. Constant multiple rule: ∂/∂w (w·x) = x" in lines       # depth 2
    assert lines[-1] == "∂/∂w σ(w·x + b) = x·σ(w·x + b)·(1 − σ(w·x + b))"


def test_rewrites_are_listed_before_the_result(fake_rules):
    text = rewritten_derivation().to_text()
    assert text.index("Tidy into textbook form:") < text.index("Result:")
    assert "   collect the factor x: " in text


def test_no_steps_gives_the_result_only(fake_rules):
    assert sigmoid_derivation().to_text(steps=False) == \
        "∂/∂w σ(w·x + b) = x·σ(w·x + b)·(1 − σ(w·x + b))"
    assert sigmoid_derivation().to_dict(steps=False)["steps"] == []


def test_prime_notation(fake_rules):
    text = sigmoid_derivation().to_text(notation="prime")
    assert "2. Sigmoid rule: (σ(u₁))′ = σ(u₁)·(1 − σ(u₁))" in text
    assert "∂_w σ(w·x + b) = " in text  # a partial derivative keeps its variable
    assert r"\left(\sigma\left(u_{1}\right)\right)'" in sigmoid_derivation().to_latex(notation="prime")


def test_shared_sub_derivation_is_shown_once_then_referenced(fake_rules):
    m = gradient_matrix()
    text = m.to_text()
    assert text.count("σ′ = σ(1 − σ), so the derivative of σ(u₁)") == 1
    assert "7. Sigmoid rule: d/du₁ σ(u₁) = σ(u₁)·(1 − σ(u₁))  (derived above, step 2)" in text
    steps = m.to_dict()["entries"][1][0]["steps"][0]["substeps"]
    assert steps[0]["ref"] == "s1" and steps[0]["ref_number"] == 2 and steps[0]["substeps"] == []
    assert "(derived above, step 2)" in m.to_markdown()
    assert r"\text{7. Sigmoid rule (derived above, step 2)}" in m.to_latex()


def test_matrix_shows_the_matrix_then_each_entry(fake_rules):
    text = gradient_matrix().to_text()
    assert text.splitlines()[0] == "Gradient of σ(w·x + b) with respect to w, b"
    assert "∇f = ⎡x·σ(w·x + b)·(1 − σ(w·x + b))⎤" in text
    assert text.index("Entry 1: ∂/∂w") < text.index("Entry 2: ∂/∂b")


def test_missing_rule_and_missing_detail_degrade_gracefully(monkeypatch):
    monkeypatch.setattr(render, "_load_rules", lambda: {"sum": FAKE_RULES["sum"]})
    step = Step("mystery", x**2, x, 2 * x, detail={})
    d = Derivation(x**2, x, 1, (Step("sum", x**2 + 1, x, 2 * x, substeps=(step,)),), 2 * x, 2 * x)
    text = d.to_text()
    assert "Differentiate each of the {count} terms & add." in text  # the gap is visible
    assert "2. Mystery: d/dx x² = 2x" in text and "Apply the rule 'mystery'." in text


def test_latex_environments(fake_rules):
    tex = sigmoid_derivation().to_latex()
    assert tex.startswith("\\begin{aligned}\n") and tex.endswith("\n\\end{aligned}")
    assert r"\frac{\partial}{\partial w} \sigma\left(w x + b\right) &= x \sigma" in tex
    assert r"\frac{d}{d u_{1}} \sigma\left(u_{1}\right) &= " in tex
    assert r" terms }\&\text{ add.}" in tex  # & escaped, or it would be a column
    doc = sigmoid_derivation().to_latex(document=True)
    # a document's steps: list items with text-mode sentences, each equation a display
    assert doc.startswith("\\noindent\\textbf{Differentiate}\n\\[\n") and doc.endswith("\n\\]")
    assert "\\text{" not in doc and "aligned" not in doc
    assert "\\item[\\textbf{1.}] \\textbf{Chain rule.} Substitute $u_{1}$ = $w x + b$:" in doc
    assert "\\[\n\\frac{d}{d u_{1}} \\sigma\\left(u_{1}\\right) = " in doc
    assert " terms \\& add." in doc  # & escaped in text mode too
    assert doc.count("\\begin{itemize}") == doc.count("\\end{itemize}") >= 2


def test_markdown_is_prose_with_math_blocks(fake_rules):
    md = sigmoid_derivation().to_markdown()
    assert md.startswith(r"**Differentiate** $\frac{\partial}{\partial w} \sigma\left(w x + b\right)$")
    assert "- **1. Chain rule.** Substitute $u_{1}$ = $w x + b$:" in md
    # each equation a paragraph of its own, lists nested by four spaces
    assert "\n\n    $$\\frac{\\partial}{\\partial w} \\sigma\\left(w x + b\\right) = x " in md
    assert "\n    - **2. Sigmoid rule.**" in md
    assert "\n        - **4. Constant multiple rule.**" in md
    assert md.count("$$") % 2 == 0 and "\n\n\n" not in md


def test_markdown_reads_as_nested_lists_with_display_maths_in_python_markdown(fake_rules):
    """mkdocs' reader (Python-Markdown with arithmatex) finds every formula and the nesting."""
    markdown = pytest.importorskip("markdown")
    pytest.importorskip("pymdownx")
    html = markdown.markdown(sigmoid_derivation().to_markdown(), extensions=["pymdownx.arithmatex"],
                             extension_configs={"pymdownx.arithmatex": {"generic": True}})
    outside_maths = re.sub(r'<(span|div) class="arithmatex">.*?</\1>', "", html, flags=re.S)
    assert "$" not in outside_maths and "<code>" not in html and "<em>" not in html
    assert html.count('<div class="arithmatex">') == 6  # five step equations and the result
    assert re.search(r"<ul>\s*<li>.*<ul>\s*<li>.*<ul>\s*<li>", html, flags=re.S)  # three levels


def test_dict_is_json_ready_and_follows_the_schema(fake_rules):
    data = rewritten_derivation().to_dict()
    json.dumps(data)
    assert data["schema"] == render.SCHEMA
    assert data["kind"] == "derivative" and data["order"] == 1 and data["notation"] == "leibniz"
    assert set(data["result"]) == {"text", "latex", "sympy"}
    assert data["result"]["sympy"] == "x*(1 - sigmoid(b + w*x))*sigmoid(b + w*x)"
    assert sp.sympify(data["wrt"]["sympy"]) == w
    root = data["steps"][0]
    assert {"number", "rule", "title", "statement", "explanation", "derivative", "expr", "var",
            "result", "facts", "detail", "label", "ref", "ref_number", "substeps"} <= set(root)
    assert root["rule"] == "chain" and root["title"] == "Chain rule"
    assert set(root["explanation"]) == {"text", "latex", "markdown"}
    assert root["facts"] == [{"symbol": {"text": "u₁", "latex": "u_{1}", "sympy": "u1"},
                              "value": {"text": "w·x + b", "latex": "w x + b", "sympy": "b + w*x"}}]
    assert root["detail"]["name"]["text"] == "u₁"
    assert [s["number"] for s in root["substeps"]] == [2, 3]
    assert data["rewrites"][0]["description"] == "collect the factor x"
    matrix = gradient_matrix().to_dict()
    assert matrix["kind"] == "gradient" and matrix["shape"] == [2, 1]
    assert len(matrix["entries"]) == 2 and matrix["entries"][0][0]["kind"] == "derivative"
    json.dumps(matrix)


def test_jupyter_hooks(fake_rules):
    d = sigmoid_derivation()
    assert d._repr_markdown_().startswith("**Differentiate**")
    latex = d._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    m = gradient_matrix()
    assert m._repr_markdown_().startswith("**Gradient**")
    assert m._repr_latex_().startswith("$$\\begin{aligned}")


def test_render_refuses_unknown_formats_and_objects(fake_rules):
    with pytest.raises(DerivekitError, match="unknown format"):
        render.render(sigmoid_derivation(), "html")
    with pytest.raises(DerivekitError, match="Derivation"):
        render.render(x, "text")


def test_rendering_never_differentiates_or_simplifies(fake_rules, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a renderer tried to differentiate or simplify")

    monkeypatch.setattr(sp.Expr, "diff", refuse)
    monkeypatch.setattr(sp.Basic, "simplify", refuse)
    monkeypatch.setattr(sp, "diff", refuse)
    monkeypatch.setattr(sp, "simplify", refuse)
    for obj in (rewritten_derivation(), gradient_matrix()):
        for fmt in render.FORMATS:
            render.render(obj, fmt)


def _all_latex(obj) -> list[str]:
    """Every LaTeX string a rendering of ``obj`` emits, in every format and notation."""
    out = []
    for notation in ("leibniz", "prime"):
        out.append(obj.to_latex(notation=notation))
        out.append(obj.to_latex(notation=notation, document=True))
        out += math_blocks(obj.to_markdown(notation=notation))

        def collect(node):
            if isinstance(node, dict):
                out.extend(v for k, v in node.items() if k == "latex" and isinstance(v, str))
                for v in node.values():
                    collect(v)
            elif isinstance(node, list):
                for v in node:
                    collect(v)
        collect(obj.to_dict(notation=notation))
    return out


def test_every_latex_string_of_the_fixtures_is_balanced(fake_rules):
    for obj in (rewritten_derivation(), gradient_matrix()):
        for tex in _all_latex(obj):
            assert latex_problems(tex) == [], tex


def test_latex_checker_finds_problems():
    assert latex_problems(r"\frac{a}{b") == ["unclosed {"]
    assert latex_problems(r"\left( x") == ["unclosed left"]
    assert latex_problems(r"\begin{aligned} x \end{align*}")[0].startswith(r"\end{align*}")
    assert latex_problems(r"\{ \left( \frac{a}{b} \right) \}") == []


# --- the step engine's output --------------------------------------------------------------

CORPUS = [
    ("sigmoid(w*x + b)", "w", 1),
    ("-(y*log(sigmoid(w*x + b)) + (1 - y)*log(1 - sigmoid(w*x + b)))", "w", 1),
    ("log(exp(z1) + exp(z2))", "z1", 1),
    ("x^3*sin(x)", "x", 2),
    ("log(x)/x", "x", 1),
    ("x^x", "x", 1),
    ("2^x + exp(3*x)", "x", 1),
    ("log(x, 2)", "x", 1),
    ("sqrt(x^2 + 1)", "x", 1),
    ("tanh(x) + asin(x) + cosh(x)", "x", 1),
    ("abs(x) + max(x, 0) + relu(x)", "x", 1),
    ("softplus(x) + gelu(x) + silu(x) + elu(x) + leaky_relu(x)", "x", 1),
    ("f(g(x))", "x", 1),
    ("1/(1 + x^2)", "x", 1),
    ("logsumexp(a, b)", "a", 1),
]


@pytest.fixture(scope="module")
def engine():
    return importlib.import_module("derivekit.calculus.derive")  # the module (dk.derive is the function)


@pytest.fixture(scope="module")
def derivations(engine):
    return [engine.derive(src, var, order) for src, var, order in CORPUS]


def test_engine_output_renders_in_every_format(derivations):
    for d in derivations:
        text = d.to_text()
        assert text.splitlines()[-1].endswith(d.to_text(steps=False).split(" = ", 1)[1])
        json.dumps(d.to_dict())


def test_every_rule_sentence_is_filled(derivations):
    placeholder = re.compile(r"\{[A-Za-z_]\w*\}")

    def steps(node):
        for step in node["steps"] if "steps" in node else node["substeps"]:
            yield step
            yield from steps(step)

    for d in derivations:
        for step in steps(d.to_dict()):
            if step["explanation"]:
                assert not placeholder.search(step["explanation"]["text"]), step["explanation"]["text"]


def test_every_latex_string_of_the_engine_output_is_balanced(engine, derivations):
    objects = derivations + [engine.gradient("log(1 + exp(w*x + b))", wrt=["w", "b"]),
                             engine.jacobian(["x*y", "x + y"], wrt=["x", "y"]),
                             engine.hessian("x^2*y + y^3", wrt=["x", "y"])]
    for obj in objects:
        for tex in _all_latex(obj):
            assert latex_problems(tex) == [], tex
        assert obj.to_latex(document=True).isascii()  # pdflatex needs no Unicode set-up


def test_readme_example_in_textbook_form(engine):
    d = engine.derive("sigmoid(w*x + b)", "w")
    assert d.to_text(steps=False) == "∂/∂w σ(w·x + b) = x·σ(w·x + b)·(1 − σ(w·x + b))"
    assert d.to_latex(steps=False) == (
        "\\begin{aligned}\n\\frac{\\partial}{\\partial w} \\sigma\\left(w x + b\\right) &= "
        "x \\sigma\\left(w x + b\\right) \\left(1 - \\sigma\\left(w x + b\\right)\\right)\n\\end{aligned}")


def test_hessian_shows_first_derivatives_then_entries(engine):
    text = engine.hessian("x^2*y + y^3", wrt=["x", "y"]).to_text()
    assert "H = ⎡2y  2x⎤" in text
    assert text.index("First derivative 1: ∂/∂x (x²·y + y³)") < text.index("Entry (1, 1): ∂/∂x (2x·y)")


def test_rewrite_descriptions_print_their_detail_as_math(fake_rules):
    from derivekit.calculus.steps import Rewrite

    d = sigmoid_derivation()
    before, after = x**2 * w + x**2, x**2 * (w + 1)
    rewrites = (Rewrite("Factor out the common factor x**2", before, after, detail={"factor": x**2}),
                Rewrite("Take out {factor} again", before, after, detail={"factor": x**2}))
    d = Derivation(d.expr, d.wrt, 1, d.steps, d.raw_result, d.result, rewrites=rewrites)
    assert "Factor out the common factor x²: " in d.to_text()
    assert "Take out x² again: " in d.to_text()
    assert r"\text{Tidy: Factor out the common factor }x^{2}" in d.to_latex()
    assert "- Factor out the common factor $x^{2}$: " in d.to_markdown()


def test_implicit_differentiation_reads_dy_dx(engine):
    d = engine.implicit("x^2 + y^2 - 1", "x", "y")
    text = d.to_text()
    assert text.startswith("dy/dx\n") and text.endswith("\ndy/dx = −x/y")
    assert "1. Implicit differentiation: dy/dx = −x/y" in text
    assert d.to_dict()["derivative"]["latex"] == r"\frac{d y}{d x}"


@pytest.mark.parametrize("settings", [
    {"order": "lex"}, {"order": "none"}, {"ln_notation": True}, {"diff_operator": "rd"},
    {"mul_symbol": "dot"}, {"notation": "prime", "document": True},
])
def test_sympy_printer_settings_pass_through(derivations, settings):
    for d in derivations[:6]:
        assert d.to_text(**settings)
        for tex in (d.to_latex(**settings), *math_blocks(d.to_markdown(**settings))):
            assert latex_problems(tex) == [], tex
    text = derivations[0].to_latex(**settings)
    if "diff_operator" in settings:
        assert r"\frac{\mathrm{d}}{\mathrm{d} u_{1}}" in text
    if "mul_symbol" in settings:
        assert r"x \cdot \sigma" in text


def test_every_rule_sentence_renders_in_every_format():
    """Each rule's English, its fields filled with a symbol, gives balanced, ASCII-only
    LaTeX (pdflatex needs no Unicode set-up) and Markdown without stray placeholders."""
    import string as string_module

    from derivekit.calculus.rules import RULES

    t = sp.Symbol("t")
    for name, rule in RULES.items():
        fields = {f for _, f, _, _ in string_module.Formatter().parse(rule.explanation) if f}
        step = Step(name, sp.sin(t), t, sp.cos(t), detail={f: sp.Symbol("q") for f in fields})
        d = Derivation(step.expr, t, 1, (step,), step.result, step.result)
        latex = d.to_latex()
        assert latex_problems(latex) == [], (name, latex)
        assert latex.isascii(), (name, [ch for ch in latex if not ch.isascii()])
        for tex in math_blocks(d.to_markdown()):
            assert latex_problems(tex) == [], (name, tex)
        assert not re.search(r"\{[A-Za-z_]\w*\}", d.to_dict()["steps"][0]["explanation"]["text"])


def test_matrix_entries_without_steps_are_not_repeated(fake_rules):
    from derivekit.calculus.steps import MatrixOfDerivations

    entries = ((Derivation(x * w, w, 1, (), x, x),), (Derivation(x * w, x, 1, (), w, w),))
    m = MatrixOfDerivations("gradient", (x * w,), (w, x), entries, sp.Matrix([[x], [w]]))
    assert m.to_text() == "Gradient of w·x with respect to w, x\n\n∇f = ⎡x⎤\n     ⎣w⎦"
    assert "Entry" not in m.to_markdown() and "Entry" not in m.to_latex()


def test_text_sentences_wrap_to_a_width_without_breaking_a_formula(fake_rules):
    text = sigmoid_derivation().to_text(width=40)
    assert "\u00a0" not in text
    assert "   Substitute u₁ = w·x + b:\n   differentiate σ(u₁) at u₁, times" in text
    sentence_lines = [line for line in text.splitlines() if not line.lstrip()[:1].isdigit()
                      and "=" not in line and "∂" not in line]
    assert all(len(line) <= 40 for line in sentence_lines), sentence_lines
    assert "\u00a0" not in json.dumps(sigmoid_derivation().to_dict(width=40), ensure_ascii=False)
