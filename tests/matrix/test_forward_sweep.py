"""Forward mode for everything reverse mode handles: for every operation of the reverse-mode
rule table (and every elementwise function it differentiates), a column-valued use of it is
given to ``matrix_jacobian``. Each case says what must happen: "ok" (the Jacobian matches
torch.autograd.functional.jacobian at random points) or "refuse" (a DerivekitError whose
hint says what to write). A new reverse rule without a case here fails the coverage test."""

from __future__ import annotations

import numpy as np
import pytest

from derivekit.errors import DerivekitError
from derivekit.matrix.adjoints import DERIVATIVES, RULES
from derivekit.matrix.jacobian import matrix_jacobian

torch = pytest.importorskip("torch")
F = torch.nn.functional

SHAPES = {"x": (4, 1), "u": (4, 1), "y": (4, 1), "A": (4, 4), "B": (4, 4), "r": (1, 4),
          "W": (3, 4), "c": (1, 1), "P": (4, 4)}


def _softmax(t):
    return torch.softmax(t, dim=0)


def _pd(e, x):
    """P + xxᵀ for a positive definite P: invertible with a positive determinant."""
    return e["P"] + x @ x.T


#: (op covered, expression of x, torch reference f(x, env), "ok" or "refuse")
CASES = [
    ("matmul", "W@x", lambda x, e: e["W"] @ x, "ok"),
    ("matmul", "(x@y.T)@u", lambda x, e: (x @ e["y"].T) @ e["u"], "ok"),
    ("matmul", "(A + x@y.T)@u", lambda x, e: (e["A"] + x @ e["y"].T) @ e["u"], "ok"),
    ("matmul", "(x*A)@u", lambda x, e: (x * e["A"]) @ e["u"], "ok"),
    ("matmul", "(A*x.T)@u", lambda x, e: (e["A"] * x.T) @ e["u"], "ok"),
    ("matmul", "(x@y.T).T@u", lambda x, e: (x @ e["y"].T).T @ e["u"], "ok"),
    ("matmul", "(x.T@x)*x", lambda x, e: (x.T @ x) * x, "ok"),
    ("matmul", "sigmoid(x@y.T)@u", None, "refuse"),
    ("add", "x + u", lambda x, e: x + e["u"], "ok"),
    ("add", "x + c", lambda x, e: x + e["c"], "ok"),
    ("sub", "A@x - x", lambda x, e: e["A"] @ x - x, "ok"),
    ("mul", "x * u * x", lambda x, e: x * e["u"] * x, "ok"),
    ("mul", "(u.T@x) * x", lambda x, e: (e["u"].T @ x) * x, "ok"),
    ("div", "x / (1 + x**2)", lambda x, e: x / (1 + x ** 2), "ok"),
    ("div", "x / sum(exp(x))", lambda x, e: x / torch.exp(x).sum(), "ok"),
    ("neg", "-(A@x)", lambda x, e: -(e["A"] @ x), "ok"),
    ("T", "(x.T@A).T", lambda x, e: (x.T @ e["A"]).T, "ok"),
    ("T", "(x.T * r).T", lambda x, e: (x.T * e["r"]).T, "ok"),
    ("pow", "x**3", lambda x, e: x ** 3, "ok"),
    ("pow", "(1 + x**2)**(-1/2)", lambda x, e: (1 + x ** 2) ** -0.5, "ok"),
    ("sum", "sum(x * x) * u", lambda x, e: (x * x).sum() * e["u"], "ok"),
    ("sum", "sum(x@x.T) * u", lambda x, e: (x @ x.T).sum() * e["u"], "ok"),
    ("mean", "mean(x) * x", lambda x, e: x.mean() * x, "ok"),
    ("mean", "mean(x@u.T) * x", lambda x, e: (x @ e["u"].T).mean() * x, "ok"),
    ("rowsum", "sum(x@u.T, axis=1, keepdims=True)",
     lambda x, e: (x @ e["u"].T).sum(dim=1, keepdim=True), "ok"),
    ("colsum", "sum(u@x.T, axis=0, keepdims=True).T",
     lambda x, e: (e["u"] @ x.T).sum(dim=0, keepdim=True).T, "ok"),
    ("trace", "trace(x@x.T) * u", lambda x, e: torch.trace(x @ x.T) * e["u"], "ok"),
    ("trace", "trace(A@x@u.T) * x", lambda x, e: torch.trace(e["A"] @ x @ e["u"].T) * x, "ok"),
    ("det", "det(P + x@x.T) * u",
     lambda x, e: torch.det(_pd(e, x)) * e["u"], "ok"),
    ("logdet", "logdet(P + x@x.T) * u",
     lambda x, e: torch.logdet(_pd(e, x)) * e["u"], "ok"),
    ("inv", "sum(inv(P + x@x.T)) * u",
     lambda x, e: torch.inverse(_pd(e, x)).sum() * e["u"], "ok"),
    ("inv", "inv(P + x@x.T)@u", None, "refuse"),
    ("norm2", "norm2(A@x - u) * x", lambda x, e: ((e["A"] @ x - e["u"]) ** 2).sum() * x, "ok"),
    ("norm2", "norm2(x@y.T - A) * u", lambda x, e: ((x @ e["y"].T - e["A"]) ** 2).sum() * e["u"], "ok"),
    ("softmax", "softmax(A@x)", lambda x, e: _softmax(e["A"] @ x), "ok"),
    ("log_softmax", "log_softmax(x)", lambda x, e: torch.log_softmax(x, dim=0), "ok"),
    ("logsumexp", "logsumexp(x) * u", lambda x, e: torch.logsumexp(x, dim=0) * e["u"], "ok"),
    ("softmax_ce", "softmax_ce(x, y) * u",
     lambda x, e: -(e["y"] * torch.log_softmax(x, dim=0)).sum() * e["u"], "ok"),
    ("bce_logits", "bce_logits(x, y) * u",
     lambda x, e: (F.softplus(x) - e["y"] * x).sum() * e["u"], "ok"),
    ("maximum", "maximum(x, A@x)", lambda x, e: torch.maximum(x, e["A"] @ x), "ok"),
    ("minimum", "minimum(x, 0.5)", lambda x, e: torch.minimum(x, torch.tensor(0.5, dtype=x.dtype)), "ok"),
    ("cmp", "(x > 0) * x", lambda x, e: (x > 0).to(x.dtype) * x, "ok"),
    ("where", "where(x > 0, x, 2*x)", lambda x, e: torch.where(x > 0, x, 2 * x), "ok"),
    ("diag", "diag(x)@u", lambda x, e: torch.diagflat(x) @ e["u"], "ok"),
    ("diag", "diag(u)@(A@x)", lambda x, e: torch.diagflat(e["u"]) @ (e["A"] @ x), "ok"),
    ("diagonal", "diag(x@x.T)", lambda x, e: torch.diagonal(x @ x.T).reshape(-1, 1), "ok"),
    ("diagonal", "diag(sigmoid(x@u.T))", lambda x, e: torch.sigmoid(x * e["u"]), "ok"),
    ("diagonal", "diag(inv(P + x@x.T))", None, "refuse"),
    ("func", "sigmoid(A@x)", lambda x, e: torch.sigmoid(e["A"] @ x), "ok"),
    ("func", "tanh(x@u.T)@y", lambda x, e: torch.tanh(x @ e["u"].T) @ e["y"], "refuse"),
]

#: elementwise functions: (name, torch reference)
FUNCS = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.01), "softplus": F.softplus, "exp": torch.exp,
    "abs": torch.abs, "log": torch.log, "sqrt": torch.sqrt,
}


def _env(seed):
    rng = np.random.default_rng(seed)
    env = {n: rng.standard_normal(s) for n, s in SHAPES.items()}
    env["y"] = np.eye(4)[:, [seed % 4]]  # a target: one-hot, as softmax_ce's target is
    env["P"] = env["A"] @ env["A"].T + np.eye(4)  # positive definite: det, logdet and inv are finite
    return env


def _torch_jacobian(fn, env):
    t = {n: torch.tensor(v, dtype=torch.float64) for n, v in env.items()}
    return torch.autograd.functional.jacobian(lambda x: fn(x, t).reshape(-1), t["x"]).reshape(
        -1, SHAPES["x"][0]).numpy()


def _check(text, fn, env_fn=_env):
    j = matrix_jacobian(text, "x", SHAPES)
    for seed in (0, 1, 2):
        env = env_fn(seed)
        got = j.evaluate({n: env[n] for n in j.shapes})
        want = _torch_jacobian(fn, env)
        assert np.all(np.isfinite(got)) and np.all(np.isfinite(want))
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg=text)
    return j


@pytest.mark.parametrize("op, text, fn, outcome", CASES, ids=[c[1] for c in CASES])
def test_every_reverse_rule_has_a_forward_answer(op, text, fn, outcome):
    if outcome == "ok":
        _check(text, fn)
        return
    with pytest.raises(DerivekitError) as info:
        matrix_jacobian(text, "x", SHAPES)
    assert info.value.hint and "vec" in info.value.hint, str(info.value)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_every_elementwise_function_has_a_forward_rule(name):
    ref = FUNCS[name]

    def positive(seed):  # log and sqrt need a positive argument: x² + 1
        return _env(seed)

    text = f"{name}(x**2 + 1)" if name in ("log", "sqrt") else f"{name}(A@x)"
    fn = (lambda x, e: ref(x ** 2 + 1)) if name in ("log", "sqrt") else (lambda x, e: ref(e["A"] @ x))
    _check(text, fn, positive)


def test_the_sweep_covers_every_reverse_rule_and_function():
    assert set(RULES) <= {c[0] for c in CASES}
    assert set(DERIVATIVES) | {"log", "sqrt"} <= set(FUNCS)
    assert {c[3] for c in CASES} == {"ok", "refuse"}


def test_a_matrix_valued_factor_is_refused_with_the_vec_form():
    with pytest.raises(DerivekitError) as info:
        matrix_jacobian("sigmoid(x@y.T)@u", "x", SHAPES)
    assert "3-D array" in info.value.message
    assert "vec(A u) = (uᵀ ⊗ I) vec(A)" in info.value.hint


def test_rebracketing_is_named_among_the_rules():
    j = matrix_jacobian("(A + x@y.T)@u", "x", SHAPES)
    assert "re-bracketing" in j.to_text()
    assert j.result.to_text() == "(yᵀu)I"


# --- a generated corpus with matrix-valued intermediates --------------------------------------

def _column(rng, d):
    """A random column of x (3×1) whose subterms may be matrices depending on x, as
    (matrix-language text, torch function of the environment)."""
    if d == 0:
        return [("x", lambda e: e["x"]), ("u", lambda e: e["u"]), ("(A@x)", lambda e: e["A"] @ e["x"]),
                ("(x + u)", lambda e: e["x"] + e["u"])][rng.integers(4)]
    k = rng.integers(10)
    at, a = _column(rng, d - 1)
    if k == 0:
        return f"sigmoid({at})", lambda e: torch.sigmoid(a(e))
    if k == 1:
        mt, m = _matrix(rng, d - 1)
        return f"(({mt})@{at})", lambda e: m(e) @ a(e)
    if k == 2:
        bt, b = _column(rng, d - 1)
        return f"({at} * {bt})", lambda e: a(e) * b(e)
    if k == 3:
        return f"softmax({at})", lambda e: torch.softmax(a(e), dim=0)
    if k == 4:
        mt, m = _matrix(rng, d - 1)
        return f"diag({mt})", lambda e: torch.diagonal(m(e)).reshape(-1, 1)
    if k == 5:
        mt, m = _matrix(rng, d - 1)
        return f"(trace({mt}) * {at})", lambda e: torch.trace(m(e)) * a(e)
    if k == 6:
        mt, m = _matrix(rng, d - 1)
        return f"(({mt}).T@{at})", lambda e: m(e).T @ a(e)
    if k == 7:
        mt, m = _matrix(rng, d - 1)
        return f"sum({mt}, axis=1, keepdims=True)", lambda e: m(e).sum(dim=1, keepdim=True)
    if k == 8:
        return f"(({at}).T * r).T", lambda e: (a(e).T * e["r"]).T
    return f"tanh({at})", lambda e: torch.tanh(a(e))


def _matrix(rng, d):
    """A random 3×3 matrix of x, as (text, torch function)."""
    if d <= 0:
        return [("A", lambda e: e["A"]), ("(x@u.T)", lambda e: e["x"] @ e["u"].T),
                ("(A*x)", lambda e: e["A"] * e["x"]), ("(A*x.T)", lambda e: e["A"] * e["x"].T)][
            rng.integers(4)]
    k = rng.integers(5)
    mt, m = _matrix(rng, d - 1)
    if k == 0:
        at, a = _column(rng, d - 1)
        return f"({mt} + {at}@u.T)", lambda e: m(e) + a(e) @ e["u"].T
    if k == 1:
        nt, n = _matrix(rng, d - 1)
        return f"({mt}@{nt})", lambda e: m(e) @ n(e)
    if k == 2:
        return f"sigmoid({mt})", lambda e: torch.sigmoid(m(e))
    if k == 3:
        return f"({mt}).T", lambda e: m(e).T
    return f"(-{mt})", lambda e: -m(e)


FUZZ_SHAPES = {"x": (3, 1), "u": (3, 1), "A": (3, 3), "r": (1, 3)}


@pytest.mark.parametrize("seed", range(30))
def test_random_matrix_valued_intermediates_match_torch_or_are_refused(seed):
    rng = np.random.default_rng(seed)
    text, fn = _column(rng, 1 + seed % 3)
    try:
        j = matrix_jacobian(text, "x", FUZZ_SHAPES)
    except DerivekitError as exc:
        assert exc.hint and "internal check" not in exc.message, (text, exc.message)
        return
    for s in (0, 1):
        g = np.random.default_rng(s)
        env = {n: g.standard_normal(shape) for n, shape in FUZZ_SHAPES.items()}
        t = {n: torch.tensor(v, dtype=torch.float64) for n, v in env.items()}
        want = torch.autograd.functional.jacobian(lambda x, t=t: fn({**t, "x": x}).reshape(-1),
                                                  t["x"]).reshape(-1, 3).numpy()
        np.testing.assert_allclose(j.evaluate({n: env[n] for n in j.shapes}), want,
                                   rtol=1e-6, atol=1e-9, err_msg=text)


def test_the_generated_corpus_exercises_both_outcomes():
    outcomes = set()
    for seed in range(30):
        text, _ = _column(np.random.default_rng(seed), 1 + seed % 3)
        try:
            matrix_jacobian(text, "x", FUZZ_SHAPES)
            outcomes.add("ok")
        except DerivekitError:
            outcomes.add("refused")
    assert outcomes == {"ok", "refused"}
