"""Linear-algebra and optimiser sentences print each formula as one math run (issue 14).

Every step's title and sentence marks its formulas ``$…$``; in document LaTeX and Markdown no
formula is split into text and math fragments (no run of glue only, like ``$-$`` or
``$\\lambda $``, between formula letters), every run is well-formed, the plain text has no
``$``, and one document of them all compiles.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from latex_check import latex_problems
from test_prose_math import _assert_not_split, _runs

import derivekit as dk
from derivekit.linalg.steps import step_prose
from derivekit.render import latexdoc


def _random_matrix(rng: random.Random, n: int, floats: bool = False):
    if floats:
        return np.round(np.array([[rng.uniform(-3, 3) for _ in range(n)] for _ in range(n)]), 3)
    return [[rng.randint(-4, 4) for _ in range(n)] for _ in range(n)]


def _results():
    """Every linear-algebra operation on a few hand-picked and seeded random inputs."""
    out = [dk.eig("[[2,1],[1,2]]"), dk.eig("[[1,1],[0,1]]"), dk.eig("[[0,-1],[1,0]]"),
           dk.eig("[[a,b],[b,a]]"), dk.eig("[[1,2,0],[0,3,0],[2,-4,2]]"),
           dk.eig("[[1,2,3],[4,5,6],[7,8,10]]"), dk.eig(np.array([[0.5, 0.2], [0.1, 0.9]])),
           dk.det("[[1,2],[3,4]]"), dk.det("[[1,2,3],[0,1,4],[5,6,0]]"), dk.det("[[a,b],[c,d]]"),
           dk.det(np.eye(5) * 2.5), dk.det([[i + j * j for i in range(5)] for j in range(5)]),
           dk.inv("[[1,2],[3,4]]"), dk.inv("[[a,b],[c,d]]"), dk.inv(np.array([[2.0, 1.0], [1.0, 3.0]])),
           dk.rank("[[1,2],[2,4]]"), dk.rank(np.array([[1.0, 2.0], [2.0, 4.0000001]])),
           dk.dot("[1,2,3]", "[4,5,6]"), dk.dot("[0,0]", "[1,2]"), dk.dot("[1,0]", "[-1,0]"),
           dk.matmul("[[1,2],[3,4]]", "[[5],[6]]"), dk.matmul(np.ones((7, 7)), np.ones((7, 7))),
           dk.norm("[3,4]"), dk.norm("[3,-4]", 1), dk.norm("[3,-4]", "inf"), dk.norm("[[1,2],[3,4]]"),
           dk.transpose("[[1,2,3],[4,5,6]]"),
           dk.pca(k=1), dk.pca(k=2, standardize=True)]
    rng = random.Random(14)
    for n in (2, 2, 3, 3):
        m = _random_matrix(rng, n)
        for op in (dk.eig, dk.det, dk.rank):
            out.append(op(m))
        try:
            out.append(dk.inv(m))
        except dk.DerivekitError:  # singular: another test's business
            pass
    out.append(dk.eig(_random_matrix(rng, 3, floats=True)))
    return out


def _dask_results(folder):
    """The Dask engine's steps on a small CSV (whose name has a $: the user's words)."""
    rng = np.random.default_rng(14)
    data = rng.normal(size=(40, 3)) @ np.array([[2.0, 0.3, 0.1], [0.0, 1.0, 0.2], [0.0, 0.0, 0.5]])
    csv = folder / "cost$s.csv"
    csv.write_text("a,b,c\n" + "\n".join(",".join(f"{x:.4f}" for x in row) for row in data) + "\n")
    return [dk.pca(str(csv), k=1, engine="dask"),
            dk.pca(str(csv), k=2, standardize=True, engine="dask", out=str(folder / "scores.csv"))]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return _results() + _dask_results(tmp_path_factory.mktemp("dask"))


def _pieces(results, fmt):
    for result in results:
        for step in result.steps:
            yield step.title, step_prose(step.marked_title, fmt)
            yield step.title, step.sentence(fmt)


#: a Greek letter, an operator or a script that stands in prose: it belongs in a $…$ formula
_PROSE_GLUE = re.compile(r"[λΛσρκμΣ·²ᵀ⁻¹≠≤≥←↔=√∞‖ᵢⱼₖ]|\b[A-Z][A-Za-z]?\s*[−+]\s*\w")


def test_every_formula_in_a_step_is_marked(results):
    for result in results:
        for step in result.steps:
            for marked in (step.marked_title, step.marked_explanation):
                parts = marked.split("$")
                assert len(parts) % 2 == 1, f"an unclosed $ in {marked!r}"
                for prose in parts[::2]:
                    assert not _PROSE_GLUE.search(prose), f"formula glue in prose {prose!r} of {marked!r}"
                assert all(f.strip() for f in parts[1::2]), f"an empty formula in {marked!r}"


@pytest.mark.parametrize("fmt", ["document", "markdown"])
def test_no_formula_is_split(results, fmt):
    for title, tex in _pieces(results, fmt):
        _assert_not_split(title, tex, fmt)
        for piece in _runs(tex)[0]:
            assert not re.search(r"[−·²λσ≠]", piece), f"{title}: math in prose {piece!r}: {tex}"


def test_the_issue_sentence_is_one_run_per_formula():
    step = dk.eig("[[2,1],[1,2]]").steps[1]
    tex = re.sub(r" +", " ", step.sentence("document"))
    assert tex.startswith("An eigenvector $v \\ne 0$ satisfies $A v = \\lambda v$, i.e. "
                          "$(A - \\lambda I)v = 0$, which has a non-zero solution"), tex
    assert step_prose(step.marked_title, "document") == "Form $A - \\lambda I$"
    assert step.explanation.startswith("An eigenvector v ≠ 0 satisfies A v = λv, i.e. (A − λI)v = 0")
    assert "$" not in step.title + step.explanation


def test_math_mode_latex_keeps_formulas_out_of_text(results):
    for title, tex in _pieces(results, "latex"):
        assert latex_problems(tex) == [], (title, tex)
        if title == "The data":  # the data's own name ("n=200") is the user's words
            continue
        for run in re.findall(r"\\text\{([^{}]*)\}", tex):
            assert not re.search(r"[=−·]|\s[-+]\s", run), f"{title}: formula glue {run!r} as text in {tex}"


def test_plain_text_and_dict_have_no_markers(results):
    for result in results:
        text = result.to_text().replace("cost$s", "")  # the user's file name keeps its $
        assert "$" not in text and "\\" not in text
        assert "$" not in getattr(result, "reason", "")  # eig's route reason, as words
        for step in result.to_dict()["steps"]:
            assert "$" not in step["title"] and "$" not in step["explanation"].replace("cost$s", "")


def _trajectories():
    return [dk.minimize("x^2+10*y^2", start={"x": 1, "y": 1}, method=m, lr=lr, steps=s, loss_tol=tol)
            for m, lr, s, tol in (("adam", 0.1, 2000, None), ("sgd", 0.05, 400, 1e-6),
                                  ("momentum", 0.05, 50, None), ("sgd", 0.2, 50, None))]


def test_optimiser_prose_is_one_run_per_formula():
    for run in _trajectories():
        doc = run.to_latex(document=True)
        for line in doc.splitlines():
            if line.startswith(r"\par\noindent") or r"\hline" in line:
                for between in _runs(line)[0][1:-1]:
                    assert between.strip() not in ("", "J"), f"split formula in {line}"
        assert r"$\|\nabla J\|$" in doc
        md = run.to_markdown()
        assert "‖∇J‖" not in md.split("|")[0]


def test_every_sentence_compiles_in_one_document(results, tmp_path):
    if latexdoc.find_engine() is None:
        pytest.skip("no LaTeX engine on PATH")
    body = [result.to_latex(document=True) for result in results]
    body += [run.to_latex(document=True) for run in _trajectories()[:2]]
    source = latexdoc.document("\n\\par\\medskip\n".join(body), title="Linear algebra sentences")
    pdf = tmp_path / "linalg.pdf"
    latexdoc.compile_pdf(source, pdf)  # raises with LaTeX's error lines on any error
    assert pdf.stat().st_size > 1000


def test_the_users_words_are_prose_even_with_dollars():
    from derivekit.linalg.steps import LinalgStep
    step = LinalgStep("The data", "{source}: a $2×3$ matrix {{x}}", "", "",
                      literals=(("source", "costs $5 and $6 {x}"),))
    assert step.explanation == "costs $5 and $6 {x}: a 2×3 matrix {x}"
    assert step.sentence("document") == r"costs \$5 and \$6 \{x\}: a $2\times 3$ matrix \{x\}"
    assert step.sentence("markdown") == r"costs \$5 and \$6 {x}: a $2\times 3$ matrix {x}"


def test_an_unmarked_reason_still_renders():
    run = _trajectories()[0]
    import dataclasses
    assert run.converged and r"$\|\nabla J\| = " in run.reason_in("document")
    plain = dataclasses.replace(run, marked_reason="")
    assert plain.reason_in("document").startswith("converged at step")
    assert "$" not in run.reason and run.reason_in("text") == run.reason
