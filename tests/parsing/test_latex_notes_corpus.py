"""LaTeX as people write it in deep-learning notes (tests/parsing/latex_notes_corpus.tsv).

Every line either parses to its intended meaning, stated in the plain-text language and
read by the independent lark front (or as a derivative, a matrix, a set of names), or is
refused with a message whose text names the fix. The corpus is beyond the shared one
(../shared/corpus/latex_dl.tsv, tested in test_corpus.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from derivekit.errors import ParseError
from derivekit.parsing.parse import parse

CORPUS = Path(__file__).with_name("latex_notes_corpus.tsv")


def corpus_rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            ident, latex, expected, kind = line.split("\t")
            rows.append((ident, latex, expected, kind))
    return rows


ROWS = corpus_rows()
KINDS = ("same", "derivative", "matrix", "symbols", "refuse")


def meaning(expected: str, kind: str):
    """The intended meaning, built from plain text (never the LaTeX front)."""
    if kind == "same":
        return parse(expected, syntax="text")
    if kind == "derivative":
        body, var = expected.split("|")
        return sp.Derivative(parse(body, syntax="text"), sp.Symbol(var))
    if kind == "matrix":
        return sp.Matrix([[parse(entry, syntax="text") for entry in row.split(",")]
                          for row in expected.split(";")])
    raise AssertionError(kind)


def test_corpus_is_large_and_well_formed():
    assert len(ROWS) >= 60
    assert {kind for *_, kind in ROWS} <= set(KINDS)
    assert len({ident for ident, *_ in ROWS}) == len(ROWS), "ids must be unique"
    assert sum(kind == "refuse" for *_, kind in ROWS) >= 8


@pytest.mark.parametrize("ident, latex, expected, kind",
                         [row for row in ROWS if row[3] != "refuse"], ids=lambda v: str(v)[:40])
def test_line_parses_to_its_meaning(ident, latex, expected, kind):
    result = parse(latex, syntax="latex")
    if kind == "symbols":
        assert {s.name for s in result.free_symbols} == set(expected.split()), result
    else:
        assert result == meaning(expected, kind), f"{latex} -> {result}"


@pytest.mark.parametrize("ident, latex, fix, kind",
                         [row for row in ROWS if row[3] == "refuse"], ids=lambda v: str(v)[:40])
def test_line_is_refused_naming_the_fix(ident, latex, fix, kind):
    with pytest.raises(ParseError) as caught:
        parse(latex, syntax="latex")
    error = caught.value
    assert error.hint, f"{latex}: a refusal must say what to write"
    assert fix in str(error), f"{latex}: the refusal should mention {fix!r}, got:\n{error}"
