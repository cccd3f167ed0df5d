"""Matrix input is read as written or refused: text around a LaTeX environment, entries
that are not finite, and numbers past the digit limit are clear errors, never dropped."""

from __future__ import annotations

import numpy as np
import pytest

import derivekit as dk
from derivekit.cli import main
from derivekit.errors import DerivekitError

PM = r"\begin{pmatrix} %s \end{pmatrix}"


@pytest.mark.parametrize("command, text", [
    ("det", PM % r"x & 1 \\ 1 & x" + "^{1000}"),
    ("det", PM % r"2 & 0 \\ 0 & 2" + "^{3} + 5"),
    ("inv", PM % r"2 & 0 \\ 0 & 2" + "^{-1}"),
    ("eig", "2 " + PM % r"2 & 0 \\ 0 & 2"),
    ("det", PM % r"1 & 0 \\ 0 & 1" + " " + PM % r"2 & 0 \\ 0 & 2"),
])
def test_text_around_a_latex_matrix_is_refused(command, text, capsys):
    assert main([command, text]) == 2
    assert "text around its matrix environment" in capsys.readouterr().err


@pytest.mark.parametrize("text", [PM % r"2 & 1 \\ 0 & 2", "$A = " + PM % r"2 & 1 \\ 0 & 2" + "$.",
                                  r"\left(\begin{matrix} 2 & 1 \\ 0 & 2 \end{matrix}\right)"])
def test_the_matrix_alone_with_delimiters_is_read(text):
    assert dk.det(text).result == 4


@pytest.mark.parametrize("text", ["[[inf,1],[1,2]]", "[[nan,1],[1,2]]", "[[1e999,1],[1,2]]",
                                  "[[oo,1],[1,2]]", "[[" + "9" * 5000 + ",1],[1,2]]"])
@pytest.mark.parametrize("command", ["eig", "det", "inv"])
def test_non_finite_and_huge_entries_are_refused(text, command, capsys):
    assert main([command, text]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


@pytest.mark.parametrize("value", [np.array([[np.inf, 1.0], [1.0, 2.0]]), [[float("nan"), 1], [1, 2]],
                                   np.array([[1j * np.inf, 1], [1, 2]])])
def test_non_finite_arrays_are_refused(value):
    with pytest.raises(DerivekitError, match="infinite or NaN|remove NaN"):
        dk.eig(value)
