"""Breaking long display equations (render/texbreak) and the document layout of derivations:
only line breaks are added, every line pairs its own delimiters, lines keep to the width
where the formula has places to break, and lists never nest past LaTeX's limit."""

from __future__ import annotations

import itertools
import random
import re

import pytest
import sympy as sp
from latex_check import latex_problems

from derivekit.parsing.functions import sigmoid
from derivekit.parsing.parse import parse
from derivekit.render import texbreak
from derivekit.render.printing import latex_printer
from derivekit.render.walk import text_mode_prose

X = sp.symbols("x y w b z_1 z_2 a")
UNARY = [sp.sin, sp.exp, sp.log, sp.tanh, sigmoid, lambda u: u**2, lambda u: 1 / (1 + u**2)]


def random_expression(rng: random.Random, depth: int) -> sp.Expr:
    if depth == 0 or rng.random() < 0.15:
        return rng.choice(X) * rng.choice([1, 1, 2, -3])
    if rng.random() < 0.4:
        return rng.choice(UNARY)(random_expression(rng, depth - 1))
    parts = [random_expression(rng, depth - 1) for _ in range(rng.randint(2, 4))]
    return sp.Add(*parts) if rng.random() < 0.5 else sp.Mul(*parts)


def corpus(n: int = 100, seed: int = 14) -> list[str]:
    rng = random.Random(seed)
    printer = latex_printer({})
    return [printer.doprint(random_expression(rng, rng.randint(2, 4))) for _ in range(n)]


def _squash(tex: str) -> str:
    """``tex`` without spaces, ``\\cdot`` (a break between factors adds one) and braces (a
    function's braced argument, ``\\log{\\left(…\\right)}``, loses them when opened; each
    line's braces are checked apart)."""
    return re.sub(r"\s|\\cdot|[{}]", "", tex)


def _lines(display: str) -> list[str]:
    body = re.sub(r"^\\begin\{multline\*\}\n|\n\\end\{multline\*\}$|^\\\[\n|\n\\\]$", "", display)
    return body.split(" \\\\\n")


def _unbroken(display: str) -> str:
    """The formula a broken display sets, with the added breaks taken out again."""
    joined = " ".join(_lines(display))
    return joined.replace(r" \right. \left. ", " ").replace(r"\right. \left. ", "")


CORPUS = corpus()


@pytest.mark.parametrize("tex", CORPUS, ids=[f"formula{i}" for i in range(len(CORPUS))])
def test_cuts_give_the_formula_back(tex):
    assert "".join(texbreak.terms(tex)) == tex
    assert "".join(texbreak.factors(tex)) == tex
    assert _squash(texbreak.discretionary_times(tex).replace("\\*", "")) == _squash(tex)


@pytest.mark.parametrize("tex", CORPUS, ids=[f"formula{i}" for i in range(len(CORPUS))])
def test_a_broken_equation_is_the_same_equation_in_lines_that_pair(tex):
    display = texbreak.break_equation(r"\frac{d}{d x} f", tex, 20.0)
    unbroken = _unbroken(display)
    if _squash(unbroken) != _squash(r"\frac{d}{d x} f = " + tex):
        # a wide quotient N/D is written (1/D)·N, a wide power e^X as exp(X): the same value,
        # read back by the parser
        lhs, rhs = texbreak.split_relation(unbroken)
        assert _squash(lhs) == _squash(r"\frac{d}{d x} f") and (r"\frac{1}{" in rhs or r"\exp" in rhs)
        assert _same_value(parse(rhs, syntax="latex"), parse(tex, syntax="latex")), display
    for line in _lines(display):  # \left and \right, braces: paired within each line
        assert latex_problems(line) == [], (line, display)
    if display.startswith("\\begin{multline*}"):
        assert len(_lines(display)) >= 2


def _same_value(a: sp.Expr, b: sp.Expr) -> bool:
    """Equal structurally, or at three random points (finite values only)."""
    if a == b:
        return True
    rng = random.Random(0)
    for _ in range(3):
        point = {s: sp.Float(rng.uniform(0.2, 0.9)) for s in a.free_symbols | b.free_symbols}
        va, vb = complex(a.evalf(subs=point)), complex(b.evalf(subs=point))
        if not (abs(va) < 1e300 and abs(vb) < 1e300) or abs(va - vb) > 1e-9 * (1 + abs(va)):
            return False
    return True


def test_lines_keep_to_the_width_where_the_formula_can_break():
    rng = random.Random(5)
    printer = latex_printer({})
    for _ in range(60):
        # a sum of short products: every piece fits, so every line must
        terms = [sp.Mul(*[rng.choice(UNARY)(rng.choice(X)) for _ in range(rng.randint(1, 3))])
                 for _ in range(rng.randint(4, 12))]
        tex = printer.doprint(sp.Add(*terms))
        display = texbreak.break_equation("L", tex, 18.0)
        for line in _lines(display):
            assert texbreak.math_width(line) <= 18.0 + 1e-9, (line, display)


def test_a_wide_product_opens_its_bracket_across_lines():
    tex = (r"x \sigma\left(w x + b\right) \left(\tanh{\left(w x - b \right)} \left(1 - "
           r"\sigma\left(w x + b\right)\right) - \tanh^{2}{\left(w x - b \right)} + 1\right)")
    display = texbreak.break_equation(r"\frac{\partial}{\partial w} f", tex, 14.0)
    assert r"\right." in display and r"\left." in display
    assert _squash(_unbroken(display)) == _squash(r"\frac{\partial}{\partial w} f = " + tex)


def test_short_equations_stay_on_one_line_and_a_sum_is_never_cut_inside_a_sum():
    assert texbreak.break_equation("y", "x + 1", 30.0) == "\\[\ny = x + 1\n\\]"
    tex = r"\sum_{i=1}^{n} x_{i} \left(a + b\right)"
    assert texbreak.factors(tex) == [r"\sum_{i=1}^{n} x_{i} ", r"\left(a + b\right)"]
    assert texbreak.factors(r"\frac{d}{d x} f g") == [r"\frac{d}{d x} f ", "g"]
    assert texbreak.terms(r"- a - \left(b + c\right) + d") == ["- a ", r"- \left(b + c\right) ", "+ d"]


def test_matrix_width_is_its_columns():
    one = texbreak.math_width(r"\left[\begin{matrix}x\end{matrix}\right]")
    six = texbreak.math_width(r"\left[\begin{matrix}x & x & x & x & x & x\end{matrix}\right]")
    assert six > 5 * one - 1


def test_prose_for_a_document_is_ascii_text_with_its_symbols_as_math():
    assert text_mode_prose("50% & $x_1 {a} #") == r"50\% \& \$x\_1 \{a\} \#"
    assert text_mode_prose("σ(1 − σ)") == r"$\sigma $(1 $-$ $\sigma $)"
    assert text_mode_prose("e^(zᵢ) — “q”") == r"e$^{\text{z}_{i}}$ --- ``q''"
    assert text_mode_prose("𝟙 ∈ ℝ").isascii()


def _max_list_depth(tex: str) -> int:
    depth = deepest = 0
    for m in re.finditer(r"\\(begin|end)\{itemize\}", tex):
        depth += 1 if m.group(1) == "begin" else -1
        deepest = max(deepest, depth)
        assert depth >= 0
    assert depth == 0
    return deepest


def test_document_layout_nests_at_most_four_lists_and_shows_every_step():
    from derivekit.calculus.derive import derive
    from derivekit.render.layouts import MAX_LIST_DEPTH

    d = derive("log(1 + exp(sin(cos(tanh(sigmoid(x^2 + 1))))))", "x")
    doc = d.to_latex(document=True)
    assert _max_list_depth(doc) <= MAX_LIST_DEPTH
    numbers = [int(n) for n in re.findall(r"\\item\[\\textbf\{(\d+)\.\}\]", doc)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 8
    assert doc.isascii() and "\\text{" not in doc.replace("\\text{z}", "")
    assert latex_problems(doc) == []


def test_a_wide_power_of_e_becomes_exp_of_a_bracket_that_breaks():
    exponent = " + ".join(rf"\tanh{{\left(w_{{{i}}} x \right)}}" for i in range(1, 9))
    display = texbreak.break_equation("y", f"e^{{{exponent}}}", 16.0)
    assert display.startswith("\\begin{multline*}") and r"y = \exp\left(" in display
    assert _squash(_unbroken(display)) == _squash(rf"y = \exp\left({exponent}\right)")
    assert all(latex_problems(line) == [] for line in _lines(display))


def test_overfull_boxes_reads_widths_and_context_from_a_log():
    from derivekit.render.latexdoc import overfull_boxes

    log = ("Overfull \\hbox (37.44736pt too wide) in paragraph at lines 1004--1006\n"
           "[]\\OT1/cmr/bx/n/10.95 6. Sig-moid rule.\n\n"
           "Overfull \\hbox (3.9pt too wide) detected at line 12\n[] []\n"
           "Overfull \\vbox (99.0pt too high) has occurred while \\output is active\n")
    boxes = overfull_boxes(log, 10.0)
    assert len(boxes) == 1 and boxes[0][0] == pytest.approx(37.44736)
    assert boxes[0][1].startswith("in paragraph at lines 1004--1006: ") and "Sig-moid" in boxes[0][1]
    assert [pt for pt, _ in overfull_boxes(log)] == [pytest.approx(37.44736), pytest.approx(3.9)]


def _display_lines(display: str) -> list[str]:
    body = re.sub(r"^\\begin\{gather\*\}\n|\n\\end\{gather\*\}$|^\\\[\n|\n\\\]$", "", display)
    return body.split(" \\\\\n")


def _chain_sides(tex: str) -> list[str]:
    """``a = b = c`` cut at its top-level ``=``: [a, b, c]."""
    cuts = [i for i, ch in texbreak._top_level(tex) if ch == "="]
    bounds = [-1, *cuts, len(tex)]
    return [tex[a + 1:b].strip() for a, b in itertools.pairwise(bounds)]


def _same_side(broken: str, original: str) -> bool:
    if _squash(broken) == _squash(original):
        return True
    # a wide quotient written (1/D)·N or a power e^X written exp(X): the same value
    return _same_value(parse(broken, syntax="latex"), parse(original, syntax="latex"))


@pytest.mark.parametrize("i", range(0, 90, 3), ids=lambda i: f"chain{i}")
def test_a_broken_display_keeps_its_chains_and_parts_apart_in_lines_that_pair(i):
    """A fragment ``f = A = B,\\quad g = C`` of random formulas, cut to 20 em unless it fits:
    every line pairs its delimiters, the ``\\quad`` part starts a line of its own (its left
    side may stand alone when its right side cannot start there), and each chain read
    back (its lines joined, the added breaks taken out) has the same sides in order."""
    a, b, c = CORPUS[i], CORPUS[i + 1], CORPUS[i + 2]
    display = texbreak.break_display(rf"f = {a} = {b},\quad g = {c}", 20.0)
    lines = _display_lines(display)
    for line in lines:
        assert latex_problems(line) == [], (line, display)
    if len(lines) == 1:  # it fits as it is
        assert lines[0] == rf"f = {a} = {b},\quad g = {c}"
        return
    starts = [k for k, line in enumerate(lines) if re.match(r"g( =|$)", line)]
    assert len(starts) == 1, display
    for chain, sides in ((lines[:starts[0]], ["f", a, b]), (lines[starts[0]:], ["g", c])):
        joined = " ".join(chain).replace(r" \right. \left. ", " ").replace(r"\right. \left. ", "")
        got = _chain_sides(joined)
        assert len(got) == len(sides) and all(map(_same_side, got, sides)), display


def test_a_display_of_short_pieces_keeps_to_the_width_and_a_short_one_stays_whole():
    rng = random.Random(8)
    printer = latex_printer({})
    for _ in range(40):
        terms = [printer.doprint(sp.Mul(*[rng.choice(UNARY)(rng.choice(X)) for _ in range(rng.randint(1, 2))]))
                 for _ in range(rng.randint(3, 9))]
        tex = "L = " + " + ".join(terms) + " = " + " + ".join(reversed(terms))
        for line in _display_lines(texbreak.break_display(tex, 18.0)):
            assert texbreak.math_width(line) <= 18.0 + 1e-9, (line, tex)
    assert texbreak.break_display("a = b,\\quad c = d", 18.0) == "\\[\na = b,\\quad c = d\n\\]"
    rows = texbreak.break_display(r"\det A = 1 \\ \operatorname{adj} A = B", 18.0)
    assert rows == "\\begin{gather*}\n\\det A = 1 \\\\\n\\operatorname{adj} A = B\n\\end{gather*}"
