"""Prose math goes through the math printer, never character by character (issue 14).

A rule's sentence marks each formula with ``$…$``; every writer prints the whole formula as
one math run. Checked on every rule's sentence over a derivation corpus (the issue's cases,
one derivation per rule, a seeded random corpus): in document LaTeX and Markdown no formula
is split into text and math fragments, every math run is well-formed LaTeX (and the whole
lot compiles), and the plain text says what it said before.
"""

from __future__ import annotations

import random
import re
import string

import pytest
import sympy as sp
from latex_check import latex_problems
from test_latex_compile import rule_corpus

from derivekit.calculus import rules
from derivekit.calculus.derive import derive, implicit
from derivekit.errors import DerivekitError
from derivekit.parsing.functions import sigmoid
from derivekit.parsing.parse import parse
from derivekit.render import latexdoc
from derivekit.render.layouts import rewrite_description
from derivekit.render.printing import check_settings, to_latex, to_text, unicode_math_latex
from derivekit.render.walk import (
    MATH_SPAN,
    DocumentWriter,
    LatexWriter,
    MarkdownWriter,
    TextWriter,
    Walk,
    fill_template,
    sentence,
)

#: the 18 first-contact cases of issue 14 (and the neighbours it names)
ISSUE_CASES = [
    ("-(y*log(sigmoid(w*x+b)) + (1-y)*log(1-sigmoid(w*x+b)))", "w"),
    ("1/(1+exp(-(w*x+b)))", "w"), ("x^x", "x"), ("x*exp(-x^2/2)", "x"),
    ("sqrt(1+x^2)/x", "x"), ("exp(z1)/(exp(z1)+exp(z2)+exp(z3))", "z1"),
    ("exp(z2)/(exp(z1)+exp(z2)+exp(z3))", "z1"), ("exp(z1)/(exp(z1)+exp(z2))", "z1"),
    ("(w*x+b-y)^2", "b"), ("(w*x+b-y)^2", "w"), ("exp(-z)/(1+exp(-z))", "z"),
    ("tanh(3*x)", "x"), ("abs(x)", "x"), ("asin(2*x)", "x"), ("max(x, 0)", "x"),
    ("sin(x)*cos(x)", "x"), ("x^2*sin(x)", "x"), ("sin(x^2)/x", "x"),
    ("log(1 + exp(w*x + b))", "w"), ("sigmoid(w*x + b)", "w"), ("x/(1 + x^2)", "x"),
    ("relu(x)", "x"), ("acosh(2*x)", "x"), ("log(x, 2)", "x"), ("softplus(3*x)", "x"),
]

X = sp.symbols("x y w b")
UNARY = [sp.sin, sp.exp, sp.log, sp.tanh, sigmoid, sp.sqrt, sp.Abs, sp.atan,
         lambda u: u**2, lambda u: 1 / (1 + u**2), lambda u: u**-1]


def random_expression(rng: random.Random, depth: int) -> sp.Expr:
    if depth == 0 or rng.random() < 0.15:
        return rng.choice(X) * rng.choice([1, 1, 2, -3])
    if rng.random() < 0.45:
        return rng.choice(UNARY)(random_expression(rng, depth - 1))
    parts = [random_expression(rng, depth - 1) for _ in range(rng.randint(2, 3))]
    return sp.Add(*parts) if rng.random() < 0.4 else sp.Mul(*parts)


def random_corpus(n: int = 30, seed: int = 14) -> list[tuple[sp.Expr, str]]:
    rng = random.Random(seed)
    cases = []
    while len(cases) < n:
        expr = random_expression(rng, rng.randint(2, 3))
        if expr.has(X[0]):
            cases.append((expr, "x"))
    return cases


def _derivations():
    out = []
    for expr, wrt in ISSUE_CASES + rule_corpus() + random_corpus():
        try:
            out.append(derive(expr, wrt))
        except DerivekitError:  # a refusal is another test's business
            continue
    return out + [implicit("x^2 + y^2 = 1", "x", "y"), implicit("x*y + sin(y) = x", "x", "y")]


@pytest.fixture(scope="module")
def derivations():
    return _derivations()


def _views(views):
    for view in views:
        yield view
        yield from _views(view.children)


def sentences(derivation, writer_class, **settings) -> list[tuple[str, str]]:
    """(rule, sentence) of every step, in ``writer_class``'s format."""
    writer = writer_class(check_settings(settings))
    walk = Walk()
    return [(view.step.rule, sentence(view, writer))
            for view in _views(walk.derivation(derivation).steps) if not view.step.ref]


def _templates() -> dict[str, str]:
    found = {f"RULES[{name}]": rule.explanation for name, rule in rules.RULES.items()}
    found.update({f"BRIEF[{name}]": text for name, text in rules.BRIEF_EXPLANATIONS.items()})
    found["CANCELLATION"] = rules.CANCELLATION
    for cancelled in (sigmoid(X[0]), 1 - sigmoid(X[0])):
        found[f"reason({cancelled})"] = rules._cancellation_reason(cancelled)
    return found


#: formula glue that must not stand in prose: it belongs inside a $…$ formula
_PROSE_GLUE = re.compile(r"d/d|[·²√=≤≥±σδΦφ′]|\]/|\)²|1/\(|1/\{|[−+]\d|\d/\{|\}/")


@pytest.mark.parametrize("name, template", sorted(_templates().items()))
def test_every_formula_in_a_template_is_one_span(name, template):
    parts = template.split(MATH_SPAN)
    assert len(parts) % 2 == 1, f"{name}: an unclosed $ in {template!r}"
    for prose in parts[::2]:
        assert not _PROSE_GLUE.search(prose), f"{name}: formula glue in prose {prose!r}"
    for formula in parts[1::2]:
        assert formula.strip(), f"{name}: an empty formula"


def _runs(tex: str) -> tuple[list[str], list[str]]:
    """(prose pieces, math runs) of text-mode LaTeX or Markdown with ``$…$`` math."""
    parts = re.split(r"(?<!\\)\$", tex)
    assert len(parts) % 2 == 1, f"unbalanced $ in {tex!r}"
    return parts[::2], parts[1::2]


#: what may stand between two math runs: prose (a word or a comma); pure glue means a
#: formula was cut in pieces
_GLUE_ONLY = re.compile(r"\s*(?:[=()\[\]/+\-^·−]|\\cdot|\\\*|d/d|d|∂)*\s*")


def _assert_not_split(rule: str, tex: str, fmt: str):
    prose, math = _runs(tex)
    for between in prose[1:-1]:  # " (" opens a parenthetical after a formula: prose
        assert between == " (" or not _GLUE_ONLY.fullmatch(between), \
            f"{rule} ({fmt}): formula split around {between!r}: {tex}"
    for piece in prose:
        assert not re.search(r"(?<![A-Za-z])d/d\s*$|(?<![A-Za-z])d$", piece.rstrip("\\")), \
            f"{rule} ({fmt}): an operator d/d left in prose: {tex}"
    for run in math:
        assert not re.fullmatch(r"\s*(?:[-+=/()\[\]']|\\cdot|\^\{\d\}|\\left.|\\right.)*\s*", run), \
            f"{rule} ({fmt}): a math run of glue only, ${run}$, in {tex}"
        assert latex_problems(run) == [], f"{rule} ({fmt}): {latex_problems(run)} in ${run}$"
        assert run.isascii(), f"{rule} ({fmt}): Unicode inside math ${run}$"
        assert r"\text" not in run and "d/d" not in run, f"{rule} ({fmt}): prose inside ${run}$"
        assert not re.search(r"\^\{[^{}]*\}\s*\^|_\{[^{}]*\}\s*_", run), \
            f"{rule} ({fmt}): a double script in ${run}$"


def test_corpus_uses_every_rule_with_a_sentence(derivations):
    used = {rule for d in derivations for rule, _ in sentences(d, TextWriter)}
    assert set(rules.RULES) - used == set()


def tidy_sentences(derivation, writer_class) -> list[tuple[str, str]]:
    """("tidy", sentence) of each tidying move (its description is a template too)."""
    writer = writer_class(check_settings({}))
    return [("tidy", rewrite_description(rw, writer)) for rw in derivation.rewrites]


def test_document_latex_never_splits_a_formula(derivations):
    for d in derivations:
        for brief in (False, True):
            for rule, tex in sentences(d, DocumentWriter, brief=brief) + tidy_sentences(d, DocumentWriter):
                _assert_not_split(rule, tex, "document LaTeX")


def test_markdown_never_splits_a_formula(derivations):
    for d in derivations:
        for rule, md in sentences(d, MarkdownWriter) + tidy_sentences(d, MarkdownWriter):
            _assert_not_split(rule, md, "Markdown")
            prose, _ = _runs(md)
            for piece in prose:
                assert not re.search(r"[·²√=σδ′±]|−\d", piece), f"{rule}: math in prose {piece!r}: {md}"


def test_math_mode_latex_has_no_text_inside_a_formula(derivations):
    """to_latex() (notebooks): prose in \\text runs, each formula whole between them."""
    for d in derivations:
        for rule, tex in sentences(d, LatexWriter):
            assert latex_problems(tex) == []
            for run in re.findall(r"\\text\{([^{}]*)\}", tex):
                assert not re.search(r"d/d|[=/·−^]\s*$|^\s*[=/·−^]", run), \
                    f"{rule}: formula glue {run!r} as text in {tex}"


def _legacy_text(template: str, values: dict, writer) -> str:
    """The sentence as it was filled before spans: fields as values, glue as written."""
    out = []
    for literal, name, _spec, _conv in string.Formatter().parse(template.replace(MATH_SPAN, "")):
        out.append(literal)
        if name is not None:
            out.append(writer.value(values[name]) if name in values else "{" + name + "}")
    return "".join(out)


def test_text_says_what_it_said_before_up_to_brackets(derivations):
    """Plain text keeps its meaning: the same words and formulas as filling the template
    with its $ removed; only brackets around a lone name or number may go (x², not (x)²)."""
    def squash(text):
        return re.sub(r"[\s()$]", "", text)

    for d in derivations:
        writer = TextWriter(check_settings({}))
        for view in _views(Walk().derivation(d).steps):
            step = view.step
            if step.ref or view.rule is None:
                continue
            text = sentence(view, writer)
            assert "$" not in text and "\\" not in text, text
            values = {**step.detail, "expr": step.expr, "var": step.var, "result": step.result}
            if "reason" in values:
                values["reason"] = values["reason"].replace(MATH_SPAN, "")
            template = view.rule.explanation
            if "definition" in step.detail and not view.first_use:
                template = rules.BRIEF_EXPLANATIONS.get(step.rule, template)
            legacy = _legacy_text(template, values, writer)
            assert squash(legacy) in squash(text), (legacy, text)


def test_chain_rule_operators_are_fractions_in_latex():
    d = derive("sin(x^2)/x", "x")
    chain = dict(sentences(d, DocumentWriter))["chain"]
    assert r"$\frac{d}{d u_{1}} \sin{\left(u_{1} \right)} = \cos{\left(u_{1} \right)}$" in chain
    assert r"$\frac{d u_{1}}{d x} = 2 x$" in chain
    assert "d/d" not in chain
    quotient = dict(sentences(d, MarkdownWriter))["quotient"]
    assert quotient.count("$") == 10 and r"\cdot x - (\sin{\left(x^{2} \right)})\cdot 1] / x^{2}$" in quotient
    text = dict(sentences(d, TextWriter))["chain"]
    assert "the derivative is d/du₁ sin(u₁) = cos(u₁), evaluated at u₁ = x², times du₁/dx = 2x." in text


def test_every_sentence_compiles_in_one_document(derivations, tmp_path):
    if latexdoc.find_engine() is None:
        pytest.skip("no LaTeX engine on PATH")
    body = []
    for d in derivations[:60]:
        body += [r"\item " + tex for _, tex in sentences(d, DocumentWriter)]
    source = latexdoc.document("\\begin{itemize}\n" + "\n".join(body) + "\n\\end{itemize}",
                               title="Every sentence")
    pdf = tmp_path / "sentences.pdf"
    latexdoc.compile_pdf(source, pdf)  # raises with LaTeX's error lines on any error
    assert pdf.stat().st_size > 1000


# --- the pieces ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("σ(1 − σ)", r"\sigma \left(1 - \sigma \right)"),
    ("cosh² − sinh² = 1", r"\cosh ^{2} - \sinh ^{2} = 1"),
    ("−sech·tanh", r"-\operatorname{sech}\cdot \tanh"),
    ("∂sᵢ/∂zⱼ = sᵢ(δᵢⱼ − sⱼ)", r"\partial s_{i}/\partial z_{j} = s_{i}\left(\delta _{ij} - s_{j}\right)"),
    ("1/√(1 − x²)", r"1/\sqrt{1 - x^{2}}"),
    ("[−1, 1]", r"\left[-1, 1\right]"),
])
def test_unicode_formula_glue_as_latex(text, expected):
    tex = unicode_math_latex(text)
    assert tex == expected and latex_problems(tex) == []


def test_a_compound_value_gets_brackets_before_a_script():
    a, b = "\ue000", "\ue001"
    tex = unicode_math_latex(f"1/√({a}² − 1) + {b}²", {a: "x + 1", b: "u_{1}"}, frozenset({a}))
    assert tex == r"1/\sqrt{\left(x + 1\right)^{2} - 1} + u_{1}^{2}"
    assert unicode_math_latex(f"log_{b}", {b: "2"}) == r"\log _{2}"


def test_a_missing_field_in_a_formula_is_shown_not_fatal():
    values = {"var": sp.Symbol("x")}
    assert fill_template("slope $1/{var} + {nope}$.", values, TextWriter(check_settings({}))) \
        == "slope 1/x + {nope}."
    tex = fill_template("slope $1/{var} + {nope}$.", values, DocumentWriter(check_settings({})))
    assert tex.startswith("slope $1/x + ") and latex_problems(tex) == []


def _random_factor(rng: random.Random) -> sp.Expr:
    x = X[0]
    return rng.choice([x, 2 * x, -3 * x, x + 1, sp.cos(x), 1 / x, x**2, sp.exp(-x), 2 * x * sp.sin(x),
                       1 / (x + 1) ** 2, sp.Rational(1, 2)])


@pytest.mark.parametrize("seed", range(40))
def test_a_held_product_prints_its_factors_with_a_dot_and_reads_back(seed):
    """f′·g as the product rule writes it: never "2 x x"; what is printed parses back to the
    product's value (text and LaTeX)."""
    rng = random.Random(seed)
    factors = [_random_factor(rng) for _ in range(rng.randint(2, 3))]
    held = sp.Mul(*factors, evaluate=False)
    value = sp.Mul(*factors)
    tex, text = to_latex(held), to_text(held)
    assert not re.search(r"\d \d|[a-z] \d", tex.replace(r"\cdot", "")), tex
    for printed, syntax in ((tex, "latex"), (text, "text")):
        back = parse(printed, syntax=syntax)
        assert sp.simplify(back - value) == 0, (printed, back, value)
