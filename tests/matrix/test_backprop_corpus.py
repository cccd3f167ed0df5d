"""The backprop corpus (tests/matrix/backprop_corpus.py) against torch.autograd and
against verify_backprop's verdicts.

Every derived gradient must equal torch.autograd's in float64 on random inputs that respect
the declared assumptions; every right claim must pass, every wrong one must fail with its
error class."""

import numpy as np
import pytest

import derivekit as dk
from derivekit.matrix.assumptions import parse_assumptions
from tests.matrix.backprop_corpus import CASES, Case, draw_inputs


def _params(cases):
    return [pytest.param(case, id=case.id) for case in cases]


def test_corpus_is_large_and_covers_both_layouts_and_every_topic():
    assert len(CASES) >= 40
    assert {c.layout for c in CASES} == {"R", "C"}
    topics = {c.name.split("-")[0] for c in CASES}
    assert {"affine", "relu", "softmax", "svm", "batchnorm", "layernorm", "logreg", "tanh",
            "attention", "rnn"} <= topics
    for topic in ("affine", "relu", "softmax", "svm", "batchnorm", "layernorm", "logreg", "tanh",
                  "attention", "rnn"):
        assert {c.layout for c in CASES if c.name.startswith(topic)} == {"R", "C"}, topic
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", _params(CASES))
def test_derived_gradient_equals_torch_autograd(case: Case):
    torch = pytest.importorskip("torch")
    m = dk.matrix_gradient(case.loss, case.wrt, case.shapes, assume=case.assume)
    assume = parse_assumptions(case.assume, m.shapes)
    for seed in range(3):
        values = draw_inputs(m.shapes, assume, np.random.default_rng(1000 + seed))
        tensors = {n: torch.tensor(v, dtype=torch.float64, requires_grad=(n == case.wrt))
                   for n, v in values.items()}
        loss = case.torch(tensors)
        (want,) = torch.autograd.grad(loss, [tensors[case.wrt]])
        got = m.evaluate(values)
        assert np.all(np.isfinite(got)), case.id
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-7, atol=1e-9, err_msg=case.id)


@pytest.mark.parametrize("case", _params(CASES))
def test_right_claim_passes_and_wrong_claims_are_named(case: Case):
    v = dk.verify_backprop(case.loss, case.right, case.wrt, case.shapes, assume=case.assume)
    assert v.ok and v.checked, f"{case.id}: {v.diagnosis}"
    for cls, claim in case.wrong:
        allowed = cls if isinstance(cls, tuple) else (cls,)
        w = dk.verify_backprop(case.loss, claim, case.wrt, case.shapes, assume=case.assume)
        assert not w.ok and w.checked, f"{case.id}: {claim} passed"
        assert w.error_class in allowed, f"{case.id}: {claim}: {w.error_class}: {w.diagnosis}"
