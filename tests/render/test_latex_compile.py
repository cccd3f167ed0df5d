"""Compile for real: every rule's LaTeX in one document, and the curriculum notes as a PDF
whose text (pdftotext) holds the derived results. Skipped only when no LaTeX engine is on
PATH (CI installs one: see .ci/run)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from derivekit.render import latexdoc
from derivekit.study import notes

pytestmark = pytest.mark.skipif(
    latexdoc.find_engine() is None or shutil.which("pdftotext") is None,
    reason="no LaTeX engine (latexmk/pdflatex) or pdftotext on PATH: "
           "apt-get install latexmk texlive-latex-base texlive-latex-recommended "
           "texlive-fonts-recommended poppler-utils")


def rule_corpus():
    """One or more expressions exercising each rule of the registry, as (expr, wrt)."""
    import sympy as sp

    from derivekit.parsing import functions

    x, y = sp.symbols("x y")
    f = sp.Function("f")
    return [
        ("5", "x"), ("x", "x"), ("3*x", "x"), ("x + x^2", "x"), ("x^3", "x"), ("sqrt(x)", "x"),
        ("x*sin(x)", "x"), ("sin(x)/(x^2 + 1)", "x"), ("sin(x^2)", "x"), ("exp(x)", "x"),
        ("2^x", "x"), ("log(x)", "x"), ("log(x, 2)", "x"), ("x^x", "x"), ("abs(x)", "x"),
        (sp.sign(x) * x**2, "x"), (sp.Heaviside(x), "x"),
        (sp.Piecewise((x**2, x < 0), (x, True)), "x"), ("max(x, x^2)", "x"),
        ("min(x, 1 - x)", "x"), ("f(x^2)", "x"), (sp.Derivative(f(x), x), "x"),
        ("sin(x)", "x"), ("cos(x)", "x"), ("tan(x)", "x"), (sp.cot(x), "x"), (sp.sec(x), "x"),
        (sp.csc(x), "x"), ("asin(x)", "x"), ("acos(x)", "x"), ("atan(x)", "x"),
        (sp.acot(x), "x"), (sp.asec(x), "x"), (sp.acsc(x), "x"), ("sinh(x)", "x"),
        ("cosh(x)", "x"), ("tanh(x)", "x"), (sp.coth(x), "x"), (sp.sech(x), "x"),
        (sp.csch(x), "x"), (sp.asinh(x), "x"), (sp.acosh(x), "x"), (sp.atanh(x), "x"),
        (sp.acoth(x), "x"), (sp.erf(x), "x"), (sp.gamma(x), "x"),
        ("sigmoid(w*x + b)", "w"), ("softplus(x)", "x"),
        ("relu(x)", "x"), ("leaky_relu(x)", "x"), ("leaky_relu(x, x^2)", "x"), ("elu(x)", "x"),
        ("silu(x)", "x"), ("gelu(x)", "x"), ("logsumexp(x, y)", "x"),
        (functions.softmax(1, x, y), "x"),
        ("-(y*log(sigmoid(w*x + b)) + (1 - y)*log(1 - sigmoid(w*x + b)))", "w"),
        ("log(exp(z_1) + exp(z_2))", "z_1"),
        (r"\sum_{i=1}^{n} x_i^2", "x_k"), ("sum((y_i - w*x_i)^2, i, 1, n)", "w"),
    ]


@pytest.fixture(scope="module")
def rules_document(tmp_path_factory):
    """Every rule's statement, then each corpus derivation in document (align*), inline
    (aligned) and prime-notation form, plus gradient, Jacobian, Hessian and implicit outputs."""
    from derivekit.calculus import rules
    from derivekit.calculus.derive import derive, gradient, hessian, implicit, jacobian
    used: set[str] = set()
    body = []
    for rule in rules.RULES.values():
        body.append(rf"\subsection*{{{latexdoc.escape_text(rule.title)}}}" + "\n"
                    + f"${rule.statement}$")
    body.append(r"\section{Derivations}")
    for expr, wrt in rule_corpus():
        d = derive(expr, wrt)
        used.update(name for step in d.steps for name in step.rules_used)
        body += [notes.result_latex(d), latexdoc.display_math(d.to_latex()),
                 latexdoc.display_math(d.to_latex(notation="prime"))]
    for extra in (gradient("log(1 + exp(w*x + b))", ["w", "b"]),
                  jacobian(["x*y", "x + y"], ["x", "y"]),
                  hessian("x^2*y + y^3", ["x", "y"]),
                  implicit("x^2 + y^2 = 1", "x", "y")):
        used.update(n for step in getattr(extra, "steps", ()) for n in step.rules_used)
        body += [notes.result_latex(extra), latexdoc.display_math(extra.to_latex())]
    source = latexdoc.document("\n\n".join(body), title="Every rule")
    pdf = tmp_path_factory.mktemp("rules") / "rules.pdf"
    return source, pdf, used, rules.RULES


def test_corpus_exercises_every_rule(rules_document):
    _, _, used, registry = rules_document
    assert not set(registry) - used, f"rules with no example in the corpus: {set(registry) - used}"


def test_every_rule_output_compiles(rules_document):
    source, pdf, _, _ = rules_document
    latexdoc.compile_pdf(source, pdf)  # raises with LaTeX's error lines on any error
    assert pdf.stat().st_size > 1000


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture(scope="module")
def curriculum_pdf(tmp_path_factory):
    doc = notes.load("examples/curriculum.md")
    folder = tmp_path_factory.mktemp("curriculum")
    out = folder / "curriculum.pdf"
    notes.build("examples/curriculum.md", "pdf", out, log=folder / "curriculum.log")
    return doc, out, _pdf_text(out)


#: how far past the margin a line may run before a compile test fails (LaTeX's own warning
#: starts at \hfuzz = 0.1 pt; a few points are invisible in print)
OVERFULL_LIMIT_PT = 10.0


def _wide_boxes(log_path) -> list[str]:
    text = log_path.read_text(errors="replace")
    assert "Output written on" in text, "the log is not a finished LaTeX run"
    return [f"{pt:.1f} pt {where}" for pt, where in latexdoc.overfull_boxes(text, OVERFULL_LIMIT_PT)]


def test_curriculum_pdf_has_no_line_past_the_margin(curriculum_pdf):
    _, path, _ = curriculum_pdf
    assert _wide_boxes(path.with_suffix(".log")) == []


def long_results():
    """Results whose LaTeX runs long: BCE∘σ, a softmax cross-entropy matrix gradient, a
    Jacobian and a Hessian of long entries, a 6×6 Hessian, an 8-entry gradient and a drill
    answer (a level-3 chain-rule problem, derived), a check of a wrong claim."""
    import random

    from derivekit.calculus.derive import derive, gradient, hessian, jacobian
    from derivekit.matrix.gradient import matrix_gradient
    from derivekit.numeric.verify import verify
    from derivekit.study.drill import chain_rule

    xs = [f"x{i}" for i in range(1, 7)]
    ring = " + ".join(f"{a}*{b}*exp({a} - {b})" for a, b in zip(xs, xs[1:] + xs[:1]))
    linear = " + ".join(f"w{i}*x{i}" for i in range(1, 9))
    drill = chain_rule(random.Random(3), 3).prompt.split(":", 1)[1].strip()
    return {
        "BCE of a sigmoid": derive("-(y*log(sigmoid(w*x+b)) + (1-y)*log(1-sigmoid(w*x+b)))", "w"),
        "softmax cross-entropy": matrix_gradient("softmax_ce(W2@tanh(W1@x + b1) + b2, y)", "W1",
                                                 shapes="W1=5x4, x=4x1, b1=5x1, W2=3x5, b2=3x1, y=3x1"),
        "Jacobian": jacobian(["sigmoid(w1*x1 + w2*x2 + w3*x3 + b)*tanh(w1*x1 - w2*x2)",
                              "log(1 + exp(w1*x1 + w2*x2 + w3*x3))*x1*x2*x3"], ["w1", "w2", "w3"]),
        "Hessian": hessian("x^3*y^2*z + sin(x*y*z)*exp(x + y + z) + log(1 + x^2 + y^2 + z^2)",
                           ["x", "y", "z"]),
        "6x6 Hessian": hessian(ring, xs, steps=False),
        "8-entry gradient": gradient(f"log(1 + exp({linear}))*tanh(w1*w2*w3)",
                                     [f"w{i}" for i in range(1, 9)], steps=False),
        "drill answer": derive(drill, "x"),
        "a wrong claim about BCE": verify("-(y*log(sigmoid(w*x+b)) + (1-y)*log(1-sigmoid(w*x+b)))",
                                          "2*x*(sigmoid(w*x+b) - y)", "w"),
    }


def test_long_results_stay_inside_the_margins(tmp_path):
    """Each long result as the notes show it, and as ``--format latex`` prints it, in one
    document: no line runs more than 10 pt into the margin."""
    from derivekit.calculus.steps import Derivation, MatrixOfDerivations
    from derivekit.matrix.gradient import MatrixDerivation

    body = []
    for title, result in long_results().items():
        body += [rf"\section{{{latexdoc.escape_text(title)}}}", notes.result_latex(result)]
        if isinstance(result, (Derivation, MatrixOfDerivations)):  # as --format latex prints it
            body.append(result.to_latex(document=True))
        elif isinstance(result, MatrixDerivation):  # matgrad --format latex: an aligned block
            body.append(latexdoc.display_math(result.to_latex()))
    log = tmp_path / "long.log"
    latexdoc.compile_pdf(latexdoc.document("\n\n".join(body)), tmp_path / "long.pdf", log=log)
    assert _wide_boxes(log) == []


def test_the_width_estimate_follows_tex(tmp_path):
    """texbreak.math_width against the width TeX sets each corpus formula at: within the
    margin the line budget assumes (LINE_EM is ~15% under a standard article's line)."""
    import re

    from derivekit.calculus.derive import derive
    from derivekit.render import texbreak

    formulas = [derive(expr, wrt).to_latex(steps=False).split("\n")[1].replace("&=", "=")
                for expr, wrt in rule_corpus()]
    body = "\n".join(rf"\setbox0\hbox{{$\displaystyle {f}$}}\typeout{{WIDTH=\the\wd0}}"
                      for f in formulas) + "\nWidths measured."  # a page, or no PDF is written
    log = tmp_path / "widths.log"
    latexdoc.compile_pdf(latexdoc.document(body), tmp_path / "widths.pdf", log=log)
    widths = [float(w) for w in re.findall(r"WIDTH=([0-9.]+)pt", log.read_text())]
    assert len(widths) == len(formulas)
    em = 10.95  # pt, at the document's 11 pt
    ratios = [w / (texbreak.math_width(f) * em) for f, w in zip(formulas, widths) if w > 30]
    assert ratios and all(0.7 < r < 1.18 for r in ratios), sorted(ratios)


def _squash(text: str) -> str:
    return "".join(text.split()).replace("−", "-").replace("’", "'")


def test_curriculum_pdf_holds_the_derived_results(curriculum_pdf):
    doc, path, text = curriculum_pdf
    assert path.read_bytes().startswith(b"%PDF")
    squashed = _squash(text)
    for topic in doc.topics:  # each topic's section heading is in the PDF
        assert _squash(topic.title) in squashed, topic.title
    assert "Interview prep" in text and "Backpropagation" in text
    # derived results, as pdftotext extracts typeset math
    assert "32" in text                                   # [1,2,3]·[4,5,6]
    assert "xσ(wx+b)(1-σ(wx+b))" in squashed               # the sigmoid neuron
    assert "x(σ(wx+b)-y)" in squashed or "(σ(wx+b)-y)x" in squashed   # BCE cancels to this
    assert "x2ex+2xex" in squashed or "x(x+2)ex" in squashed or "2xex+x2ex" in squashed
    # a result's heading stands on its own line: its first step starts below it
    lines = [line.strip() for line in text.splitlines()]
    assert "Matrix product AB" in lines


def test_every_result_type_latex_compiles(tmp_path):
    """Each topic kind's result (verdicts, matrix gradients, networks, gradient flow, eigen,
    PCA, trajectories …): its to_latex(), its Jupyter _repr_latex_ and its notes form, in one
    document."""
    from derivekit.study.topics import TOPIC_KINDS, run_topic
    body = []
    for name, kind in TOPIC_KINDS.items():
        result = run_topic(name, dict(kind.example))
        body += [rf"\section{{{latexdoc.escape_text(name)}}}",
                 latexdoc.display_math(result.to_latex()),
                 latexdoc.display_math(result._repr_latex_()), notes.result_latex(result)]
    assert body, "no topic kind available"
    pdf = latexdoc.compile_pdf(latexdoc.document("\n\n".join(body)), tmp_path / "kinds.pdf")
    assert pdf.stat().st_size > 1000


def test_broken_random_equations_compile_inside_the_margins(tmp_path):
    """The texbreak corpus (random sums and products of σ, tanh, log …) broken to a third of
    the line: every display compiles (each line's \\left/\\right pair) and none runs wide."""
    from test_texbreak import CORPUS

    from derivekit.render import texbreak

    body = "\n".join(texbreak.break_equation(r"\frac{d}{d x} f", tex, 16.0) for tex in CORPUS)
    log = tmp_path / "broken.log"
    latexdoc.compile_pdf(latexdoc.document(body), tmp_path / "broken.pdf", log=log)
    assert _wide_boxes(log) == []


BCE = "-(y*log(sigmoid(w*x+b)) + (1-y)*log(1-sigmoid(w*x+b)))"
#: one long case per command that has --format latex (diff/grad/jacobian/hessian: above)
COMMAND_CASES = {
    "check, a wrong BCE claim": ["check", BCE, "--wrt", "w", "--claim", "(sigmoid(w*x+b)-y)"],
    "check, a gradient": ["check", "log(1+exp(w1*x1+w2*x2+w3*x3+w4*x4+b))", "--wrt", "w1,w2,w3,w4,b",
                          "--claim", "[" + ", ".join(f"{v}*sigmoid(w1*x1+w2*x2+w3*x3+w4*x4+b)"
                                                     for v in ("x1", "x2", "x3", "x4", "2")) + "]"],
    "gradcheck, a wrong claim": ["gradcheck", "x^2*y*log(1+exp(x*y))", "--wrt", "x,y",
                                 "--claim", "[2*x*y*log(1+exp(x*y)), x^2]"],
    "matgrad": ["matgrad", "softmax_ce(W2@tanh(W1@x + b1) + b2, y)", "--wrt", "W1", "--shapes",
                "W1=5x4,x=4x1,b1=5x1,W2=3x5,b2=3x1,y=3x1"],
    "matgrad, four layers": ["matgrad", "norm2(W4@relu(W3@tanh(W2@sigmoid(W1@x + b1) + b2) + b3) + b4 - y)",
                             "--wrt", "W1", "--shapes", ("W1=5x4,x=4x1,b1=5x1,W2=6x5,b2=6x1,W3=6x6,b3=6x1,"
                                                        "W4=3x6,b4=3x1,y=3x1")],
    "backprop": ["backprop", "x:16 -> linear:32 -> relu -> linear:32 -> tanh -> linear:10 -> softmax_ce",
                 "--batch", "64"],
    "check-backprop": ["check-backprop", "norm2(W2@tanh(W1@x + b1) + b2 - y)", "--wrt", "W1", "--claim",
                       "2*(W2.T@(W2@tanh(W1@x+b1)+b2-y))@x.T", "--shapes",
                       "W1=5x4,x=4x1,b1=5x1,W2=3x5,b2=3x1,y=3x1"],
    "check-backprop, a wrong claim": ["check-backprop", "norm2(W2@tanh(W1@x + b1) + b2 - y)", "--wrt", "W1",
                                      "--claim", "(W2.T@(W2@tanh(W1@x+b1)+b2-y))@x.T", "--shapes",
                                      "W1=5x4,x=4x1,b1=5x1,W2=3x5,b2=3x1,y=3x1"],
    "check-backprop, a Jacobian": ["check-backprop", "softmax(z)", "--wrt", "z", "--jacobian", "--claim",
                                   "diag(softmax(z)) - softmax(z)@softmax(z).T", "--shapes", "z=4x1"],
    "gradflow": ["gradflow", "--depth", "8", "--width", "16", "--activation", "sigmoid"],
    "descend": ["descend", ("log(1+exp(-(w1+2*w2+3*w3+4*w4+b))) + 0.5*(w1^2+w2^2+w3^2+w4^2)"
                            "*sigmoid(w1*w2*w3*w4) + tanh(w1-w2+w3-w4)^2"), "--start",
                "w1=0.123456,w2=-1.234567,w3=2.345678,w4=-3.456789,b=0.5", "--method", "adamw",
                "--lr", "0.01", "--schedule", "cosine", "--steps", "50"],
    "descend, compared": ["descend", "x^2 + 10*y^2", "--start", "x=1,y=1", "--steps", "50",
                          "--compare", "gd,momentum,nesterov,adagrad,rmsprop,adam,adamw"],
    "fit": ["fit", "--model", "logistic", "--method", "gd", "--steps", "50"],
    "dot": ["dot", "[1,2,3,4,5,6,7,8]", "[4,5,6,7,8,9,10,11]"],
    "matmul": ["matmul", "[[1,2,3,4],[3,4,5,6],[1,2,3,4]]", "[[5,1,2],[6,1,2],[7,1,2],[8,1,2]]"],
    "det": ["det", "[[1,2,3,4,5],[2,3,4,5,1],[3,4,5,1,2],[4,5,1,2,3],[5,1,2,3,41]]"],
    "inv": ["inv", "[[2,1,1,3],[1,3,2,1],[1,0,0,2],[5,1,1,1]]"],
    "rank": ["rank", "[[1,2,3,4,5,6],[2,4,6,8,10,12],[1,0,1,0,1,0],[3,1,4,1,5,9]]"],
    "norm": ["norm", "[[1,2,3],[4,5,6]]"],
    "eig": ["eig", "[[4,1,2],[1,3,0],[2,0,5]]"],
    "pca": ["pca", "gaussian3d", "--k", "2", "--standardize"],
    "explain": ["explain", "log(1+exp(w1*x1+w2*x2+w3*x3))*tanh(w1*x1-w2*x2)*sigmoid(w3*x3+b)",
                "--wrt", "w1"],
}


def _section_at(source: str, line: int) -> str:
    """The title of the section that line ``line`` of ``source`` is in."""
    titles = [m.group(1) for m in re.finditer(r"\\section\{([^}]*)\}", "\n".join(source.splitlines()[:line]))]
    return titles[-1] if titles else "(preamble)"


def test_every_command_latex_stays_inside_the_margins(tmp_path, capsys):
    """What each command prints with --format latex, as it is (a bare math fragment in
    display math), one section each in one document: it compiles and no line runs more than
    10 pt into the margin. The log names each wide box's line, and so its command."""
    from derivekit.cli import main

    body = []
    for title, argv in COMMAND_CASES.items():
        code = main([*argv, "--format", "latex"])
        out = capsys.readouterr().out
        assert code in (0, 1) and out.strip(), (title, code)
        body += [rf"\section{{{latexdoc.escape_text(title)}}}", latexdoc.display_math(out)]
    source = latexdoc.document("\n\n".join(body))
    log = tmp_path / "commands.log"
    latexdoc.compile_pdf(source, tmp_path / "commands.pdf", log=log)
    text = log.read_text(errors="replace")
    assert "Output written on" in text
    wide = [f"{_section_at(source, int(m.group(1)))}: {pt:.0f} pt {where}"
            for pt, where in latexdoc.overfull_boxes(text, OVERFULL_LIMIT_PT)
            for m in [re.search(r"lines? (\d+)", where)] if m]
    unplaced = [w for _pt, w in latexdoc.overfull_boxes(text, OVERFULL_LIMIT_PT) if not re.search(r"lines? \d+", w)]
    assert wide == [] and unplaced == []
