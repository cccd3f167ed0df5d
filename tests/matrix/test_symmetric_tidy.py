"""Declared symmetry reaches the matrix tidying: with ``assume="A: symmetric"`` (or positive
definite) ∇ xᵀAx is 2Ax and its Hessian 2A, the move named after the declaration; without
it, (A + Aᵀ)x and A + Aᵀ. Every result is compared here with torch on symmetric samples."""

from __future__ import annotations

import numpy as np
import pytest

import derivekit as dk
from derivekit.matrix.jacobian import matrix_hessian

torch = pytest.importorskip("torch")

SHAPES = {"x": (3, 1), "y": (3, 1), "A": (3, 3), "X": (3, 2)}

#: (loss, wrt, declared form, undeclared form, torch loss of (wrt value, env))
CASES = [
    ("x.T@A@x", "x", "2Ax", "(A + Aᵀ)x", lambda v, e: (v.T @ e["A"] @ v).sum()),
    ("y.T@A@x", "x", "Ay", "Aᵀy", lambda v, e: (e["y"].T @ e["A"] @ v).sum()),
    ("trace(X.T@A@X)", "X", "2AX", "(A + Aᵀ)X", lambda v, e: torch.trace(v.T @ e["A"] @ v)),
]


def _symmetric_env(seed):
    rng = np.random.default_rng(seed)
    env = {n: rng.standard_normal(s) for n, s in SHAPES.items()}
    env["A"] = (env["A"] + env["A"].T) / 2
    return env


def _torch_grad(fn, env, wrt):
    t = {n: torch.tensor(v, dtype=torch.float64) for n, v in env.items()}
    v = t[wrt].clone().requires_grad_(True)
    fn(v, t).backward()
    return v.grad.numpy()


@pytest.mark.parametrize("kind", ["symmetric", "positive definite"])
@pytest.mark.parametrize("loss, wrt, declared, plain, fn", CASES)
def test_declared_symmetry_tidies_the_gradient(loss, wrt, declared, plain, fn, kind):
    m = dk.matrix_gradient(loss, wrt, SHAPES, assume=f"A: {kind}")
    assert m.result.to_text() == declared
    rules = [a.move.rule for a in m.moves]
    assert any(r.startswith("A is symmetric (declared): ") for r in rules), rules
    assert m.check.ok and "A is symmetric" in m.check.assumed
    for seed in (0, 1):
        env = _symmetric_env(seed)
        np.testing.assert_allclose(m.evaluate({n: env[n] for n in m.shapes}),
                                   _torch_grad(fn, env, wrt), rtol=1e-10, atol=1e-12)
    assert dk.matrix_gradient(loss, wrt, SHAPES).result.to_text() == plain


def test_the_declared_form_is_wrong_without_the_declaration():
    """2Ax is the gradient only for a symmetric A: at a general A it differs, so the symmetric
    samples are what make the declared result pass its check."""
    m = dk.matrix_gradient("x.T@A@x", "x", SHAPES, assume="A: symmetric")
    rng = np.random.default_rng(7)
    env = {n: rng.standard_normal(s) for n, s in SHAPES.items()}
    want = _torch_grad(CASES[0][4], env, "x")
    assert not np.allclose(m.evaluate({n: env[n] for n in m.shapes}), want)


def test_hessian_of_a_quadratic_form_with_and_without_the_declaration():
    h = matrix_hessian("x.T@A@x", "x", SHAPES, assume="A: symmetric")
    assert h.result.to_text() == "2A" and "assuming A is symmetric" in h.to_text()
    assert "A is symmetric (declared): A + Aᵀ = 2A" in h.to_text()
    env = _symmetric_env(3)
    np.testing.assert_allclose(h.evaluate({"x": env["x"], "A": env["A"]}), 2 * env["A"])
    assert matrix_hessian("x.T@A@x", "x", SHAPES).result.to_text() == "A + Aᵀ"


def test_a_structural_symmetry_keeps_its_own_rule():
    m = dk.matrix_gradient("norm2(X.T@X)", "X", SHAPES)
    assert all("declared" not in a.move.rule for a in m.moves)
