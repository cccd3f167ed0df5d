"""Issue 14's matrix slips, generated from every right claim of the backprop corpus.

Each transform below applies one slip to a right claim's text (dropping −Y, or the hinge's
−Y ⊙ rowsum(P), dropping the
regulariser's λw, using ∂L/∂A for the softmax's input, not summing a row-layout bias, holding
a normalisation's statistics constant); every mutant that differs from the right claim must be
rejected with the slip's class. The transforms are textual, so the corpus grows with the
backprop corpus, and they are written independently of diagnose.py's edit generators.
"""

from __future__ import annotations

import re

import pytest

import derivekit as dk
from tests.matrix.backprop_corpus import CASES


def _drop_target(claim: str):
    """softmax(Z) − Y → softmax(Z): the target term forgotten."""
    for pattern in (r"(?<!\(1) - Y\)", r"(?<!\(1) - y\)"):  # (1 − Y) is a mask, not the target term
        if re.search(pattern, claim):
            yield "target_missing", re.sub(pattern, ")", claim, count=1)


def _drop_hinge_target(claim: str):
    """P − Y ⊙ rowsum(P) → P: the multiclass hinge's path through the correct-class score
    forgotten (its target term)."""
    m = re.search(r"\((\w+) - ([Yy])\*(rowsum|colsum|sum)\(\1\)\)", claim)
    if m:
        yield "target_missing", claim.replace(m.group(0), m.group(1))


def _drop_regulariser(claim: str):
    """data gradient + 2λw → data gradient."""
    m = re.search(r" \+ [0-9.]+\*w$", claim)
    if m:
        yield "regulariser_missing", claim[:m.start()]


def _drop_softmax_jacobian(claim: str):
    """dS = A ⊙ (dA − rowsum(dA ⊙ A)) replaced by dA itself."""
    m = re.search(r"dS = A\*\(dA - (rowsum|colsum)\(dA\*A\)\); ", claim)
    if m:
        yield "softmax_jacobian_dropped", claim.replace(m.group(0), "").replace("dS", "dA")


def _bias_not_summed(claim: str):
    """colsum(δ) / δ.sum(axis=0) → δ: the row-layout bias gradient left per example."""
    m = re.fullmatch(r"(.*)colsum\((.*)\)", claim)
    if m and "colsum" not in m.group(2) and "rowsum" not in m.group(2):
        yield "bias_not_summed", f"{m.group(1)}({m.group(2)})" if m.group(1) else m.group(2)
    m = re.fullmatch(r"(.*)\.sum\(axis=0(, keepdims=True)?\)", claim)
    if m:
        yield "bias_not_summed", m.group(1)


SLIPS = (_drop_target, _drop_hinge_target, _drop_regulariser, _drop_softmax_jacobian, _bias_not_summed)


def generated():
    out = []
    for case in CASES:
        for slip in SLIPS:
            for cls, claim in slip(case.right):
                if claim != case.right:
                    out.append((case, cls, claim))
    return out


GENERATED = generated()


def test_the_generated_slips_cover_every_class():
    classes = {cls for _, cls, _ in GENERATED}
    assert classes == {"target_missing", "regulariser_missing", "softmax_jacobian_dropped",
                       "bias_not_summed"}, classes
    assert len(GENERATED) >= 25, len(GENERATED)


@pytest.mark.parametrize("case, cls, claim",
                         [pytest.param(c, k, s, id=f"{c.id}-{k}") for c, k, s in GENERATED])
def test_generated_slip_is_named(case, cls, claim):
    w = dk.verify_backprop(case.loss, claim, case.wrt, case.shapes, assume=case.assume)
    assert not w.ok and w.checked, f"{case.id}: {claim} passed"
    assert w.error_class == cls, f"{case.id}: {claim}: {w.error_class}: {w.diagnosis}"


NORM_CASES = [c for c in CASES if c.name.split("-")[0] in ("batchnorm", "layernorm")
              and c.wrt in ("X", "x")]


@pytest.mark.parametrize("case", NORM_CASES, ids=[c.id for c in NORM_CASES])
@pytest.mark.parametrize("claim", ["g*G/sqrt(v + 0.00001)", "G*g/sqrt(v + 0.00001)",
                                   "(g*G)*(1/sqrt(v + 0.00001))"])
def test_norm_with_constant_statistics_is_named(case, claim):
    if "eps" in case.shapes:
        claim = claim.replace("0.00001", "eps").replace("sqrt", "np.sqrt")
    w = dk.verify_backprop(case.loss, claim, case.wrt, case.shapes, assume=case.assume)
    assert w.error_class == "norm_statistics_constant", w.diagnosis
    assert "paths were dropped" in w.diagnosis


def test_the_issue_14_examples_read_as_the_slip():
    from tests.matrix.backprop_corpus import _att_r, ATT_R, _bn_r, BN_R, _ce_r, CE_R, _lr_r, LR_R
    cases = [
        (_bn_r, "g*G/sqrt(v + 0.00001)", "X", BN_R, "the mean and variance treated as constants"),
        (_att_r, "dA = G@V.T; 0.5*X.T@(dA@K)", "Wq", ATT_R, "the softmax Jacobian dropped"),
        (_ce_r, "(1/N)*X.T@softmax(Z, axis=1)", "W", CE_R, "should be softmax(Z, axis=1) − Y"),
        (_lr_r, "(1/N)*X.T@(sigmoid(X@w + b) - y)", "w", LR_R, "add 0.1·w"),
        ("(1/N)*norm2(X@W + b - Y)", "(2/N)*(X@W + b - Y)", "b", "X=NxD,W=DxC,b=1xC,Y=NxC", "𝟙ᵀδ"),
    ]
    for loss, claim, wrt, shapes, words in cases:
        w = dk.verify_backprop(loss, claim, wrt, shapes)
        assert not w.ok and words in w.diagnosis, w.diagnosis


# --- generated families: regularised losses and attention at several scales ----------------

def _regularised():
    """(loss, right, data-only claim, wrt, shapes) for λ‖w‖² added to several data terms."""
    out = []
    for lam in (0.01, 0.05, 0.3, 1.5):
        k = f"{2 * lam:g}"
        out += [
            (f"(1/N)*norm2(X@w - y) + {lam}*norm2(w)", f"(2/N)*X.T@(X@w - y) + {k}*w",
             "(2/N)*X.T@(X@w - y)", "w", "X=NxD,w=Dx1,y=Nx1"),
            (f"(1/N)*bce_logits(X@w + b, y) + {lam}*norm2(w)", f"(1/N)*X.T@(sigmoid(X@w + b) - y) + {k}*w",
             "(1/N)*X.T@(sigmoid(X@w + b) - y)", "w", "X=NxD,w=Dx1,b=1x1,y=Nx1"),
            (f"(1/N)*bce_logits(w.T@X + b, y) + {lam}*norm2(w)", f"(1/N)*X@(sigmoid(w.T@X + b) - y).T + {k}*w",
             "(1/N)*X@(sigmoid(w.T@X + b) - y).T", "w", "w=Dx1,X=DxN,b=1x1,y=1xN"),
        ]
    return out


@pytest.mark.parametrize("loss, right, slipped, wrt, shapes", _regularised())
def test_forgotten_regulariser_is_named(loss, right, slipped, wrt, shapes):
    assert dk.verify_backprop(loss, right, wrt, shapes, assume="y: probabilities").ok
    w = dk.verify_backprop(loss, slipped, wrt, shapes, assume="y: probabilities")
    assert w.error_class == "regulariser_missing", w.diagnosis


def _attention():
    out = []
    for scale in (0.25, 0.5, 1.0, 2.0):
        rl = f"Q = X@Wq; K = X@Wk; V = X@Wv; A = softmax({scale}*Q@K.T, axis=1); sum(G*(A@V))"
        cl = f"Q = Wq@X; K = Wk@X; V = Wv@X; A = softmax({scale}*K.T@Q, axis=0); sum(G*(V@A))"
        out += [
            (rl, "Wq", "X=Tx4,Wq=4xE,Wk=4xE,Wv=4xE,G=TxE", "dA = G@V.T; dS = A*(dA - rowsum(dA*A)); "
             f"{scale}*X.T@(dS@K)", f"dA = G@V.T; {scale}*X.T@(dA@K)"),
            (rl, "Wk", "X=Tx4,Wq=4xE,Wk=4xE,Wv=4xE,G=TxE", "dA = G@V.T; dS = A*(dA - rowsum(dA*A)); "
             f"{scale}*X.T@(dS.T@Q)", f"dA = G@V.T; {scale}*X.T@(dA.T@Q)"),
            (cl, "Wq", "X=4xT,Wq=Ex4,Wk=Ex4,Wv=Ex4,G=ExT", "dA = V.T@G; dS = A*(dA - colsum(dA*A)); "
             f"{scale}*(K@dS)@X.T", f"dA = V.T@G; {scale}*(K@dA)@X.T"),
        ]
    return out


@pytest.mark.parametrize("loss, wrt, shapes, right, slipped", _attention())
def test_dropped_softmax_jacobian_is_named(loss, wrt, shapes, right, slipped):
    assert dk.verify_backprop(loss, right, wrt, shapes).ok
    w = dk.verify_backprop(loss, slipped, wrt, shapes)
    assert w.error_class == "softmax_jacobian_dropped", w.diagnosis
