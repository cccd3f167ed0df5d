"""The LaTeX of every matrix result in the project's matrix corpora (the Cookbook table, the
language cases, the textbook forms, Jacobians and Hessians) compiles with a real engine.
Skipped only when no LaTeX engine is on PATH (CI installs one: see .ci/run)."""

from __future__ import annotations

import pytest
from test_jacobian_forward import KRON, LOGISTIC
from test_jacobian_forward import SHAPES as FORWARD_SHAPES
from test_language import CASES
from test_matrix import COOKBOOK
from test_matrix_tidy import SHAPES as TIDY_SHAPES
from test_matrix_tidy import TEXTBOOK

import derivekit as dk
from derivekit.matrix.jacobian import matrix_hessian, matrix_jacobian
from derivekit.render import latexdoc

pytestmark = pytest.mark.skipif(latexdoc.find_engine() is None,
                                reason="no LaTeX engine (latexmk/pdflatex) on PATH: apt-get "
                                       "install latexmk texlive-latex-base texlive-latex-recommended")

EXTRA = [("norm2(X)**0.5", "X"), ("trace(X.T@X)**(-1)", "X"),
         ("norm2(x)**(1/2) + norm2(X)**(-2)", "X"), ("sum(diag(M) * v)", "M"),
         ("v.T @ diag(v) @ v", "v"), ("sum(sqrt(exp(X@w))**3)", "w")]


def matrix_results():
    """(label, LaTeX) for every matrix result of the corpora."""
    out = []
    for loss, wrt, shapes, *_ in COOKBOOK:
        out.append((loss, dk.matrix_gradient(loss, wrt=wrt, shapes=shapes).to_latex()))
    for loss, wrt, shapes, *_ in CASES:
        out.append((loss, dk.matrix_gradient(loss, wrt=wrt, shapes=shapes).to_latex()))
    for loss, wrt, *_ in TEXTBOOK:
        m = dk.matrix_gradient(loss, wrt=wrt, shapes=TIDY_SHAPES)
        out += [(loss, m.to_latex()), (loss, m.result.to_latex())]
    for loss, wrt in EXTRA:
        out.append((loss, dk.matrix_gradient(loss, wrt=wrt, shapes=TIDY_SHAPES).to_latex()))
    for source, wrt in (("softmax(z)", "z"), ("exp(z)/sum(exp(z))", "z"),
                        ("log_softmax(z)", "z"), ("sigmoid(W@x)", "x"), ("tanh(W@x)", "x"),
                        ("(z@x.T)@b", "x")):
        out.append((source, matrix_jacobian(source, wrt, FORWARD_SHAPES).to_latex()))
    for loss, wrt in [(loss, "w") for loss in LOGISTIC] + [("logsumexp(x)", "x"), ("x.T@A@x", "x")]:
        out.append((loss, matrix_hessian(loss, wrt, FORWARD_SHAPES).to_latex()))
    out.append(("sum(log(sigmoid(X@w)))", matrix_hessian("sum(log(sigmoid(X@w)))", "w",
                                                         FORWARD_SHAPES).to_latex()))
    out.append(("x.T@A@x, A symmetric", matrix_hessian("x.T@A@x", "x", FORWARD_SHAPES,
                                                       assume="A: symmetric").to_latex()))
    for loss, shapes, *_ in KRON:
        out.append((loss, matrix_hessian(loss, "X", shapes).to_latex()))
    return out


def test_every_matrix_result_latex_compiles(tmp_path):
    results = matrix_results()
    assert len(results) > 60
    body = [rf"\noindent {latexdoc.escape_text(label)}" + "\n" + latexdoc.display_math(latex)
            for label, latex in results]
    for label, latex in results:
        assert "^2^" not in latex, label  # the double superscript of issue 16
    pdf = tmp_path / "matrix.pdf"
    latexdoc.compile_pdf(latexdoc.document("\n\n".join(body), title="Matrix results"), pdf)
    assert pdf.stat().st_size > 1000
