"""What matgrad prints reads back as a claim: every result of the backprop corpus, pasted into
verify_backprop in its NumPy form (the line matgrad prints for --claim) and in its LaTeX form."""

from __future__ import annotations

import pytest

import derivekit as dk
from tests.matrix.backprop_corpus import CASES

RESULTS = []
for _case in CASES:
    RESULTS.append((_case, dk.matrix_gradient(_case.loss, wrt=_case.wrt, shapes=_case.shapes,
                                              assume=_case.assume)))


@pytest.mark.parametrize("case, m", RESULTS, ids=[c.id for c, _ in RESULTS])
def test_the_numpy_form_reads_back(case, m):
    assert f"as NumPy (paste into --claim): {m.result.numpy}" in m.to_text()
    verdict = dk.verify_backprop(case.loss, m.result.numpy, case.wrt, case.shapes, assume=case.assume)
    assert verdict.ok, verdict.diagnosis


@pytest.mark.parametrize("case, m", RESULTS, ids=[c.id for c, _ in RESULTS])
def test_the_latex_form_reads_back(case, m):
    verdict = dk.verify_backprop(case.loss, m.result.to_latex(), case.wrt, case.shapes,
                                 assume=case.assume)
    if not verdict.checked:
        # an outer product of ones loses its size in LaTeX: "cannot check", never "wrong"
        assert "cannot tell the size of 𝟙" in verdict.diagnosis and "NumPy" in verdict.diagnosis
        return
    assert verdict.ok, verdict.diagnosis
