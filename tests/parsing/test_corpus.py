"""Every line of ../shared/corpus/latex_dl.tsv parses to its intended meaning.

The corpus lives beside the clone (CI puts shared/ at ../shared); the test is skipped only
when the file is absent. Each id has its expected SymPy expression below, with the
representation choices documented in docs/parsing.md: vectors are plain symbols (the dot
product and transpose read as scalar products), norms are ``Norm(x)``, and a sum without
bounds runs from 1 to ``N_<index>``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from derivekit.parsing.functions import relu, sigmoid
from derivekit.parsing.parse import Norm, parse

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "latex_dl.tsv"

S = sp.Symbol
w, x, b, z, y, K, n, mu, sigma = (S(name) for name in "w x b z y K n mu sigma".split())
yhat, i, j = S("yhat"), S("i"), S("j")

EXPECTED = {
    "sig_frac": 1 / (1 + sp.exp(-(w * x + b))),
    "sig_exp": 1 / (1 + sp.exp(-z)),
    "sig_z": sigmoid(z),
    "sig_prime": sigmoid(x) * (1 - sigmoid(x)),
    "tanh": sp.tanh(x),
    "softmax": sp.exp(S("z_i")) / sp.Sum(sp.exp(S("z_j")), (j, 1, K)),
    "ce_binary": -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat)),
    "mse": sp.Sum((S("y_i") - S("yhat_i"))**2, (i, 1, n)) / n,
    "norm_sq": Norm(x)**2,
    "dot_cdot": w * x + b,
    "transpose_top": w * x,
    "greek": S("alpha") * S("beta") + S("gamma"),
    "hat": yhat - y,
    "partial": sp.Derivative(x**2, x),
    "deriv_d": sp.Derivative(sigmoid(x), x),
    "bmatrix": sp.Matrix([[1, 2], [3, 4]]),
    "relu": relu(x),
    "max0": sp.Max(0, x),
    "exp_brace": sp.exp(x),
    "exp_nobrace": sp.exp(x),
    "ln": sp.log(1 + sp.exp(x)),
    "log": sp.log(x),
    "implicit": w * x + b,
    "w_ij": S("w_ij") * S("x_j"),
    "sum_ij": sp.Sum(S("w_ij") * S("x_i") * S("x_j"), (j, 1, S("N_j")), (i, 1, S("N_i"))),
    "gauss": sp.exp(-(x - mu)**2 / (2 * sigma**2)) / sp.sqrt(2 * sp.pi * sigma**2),
    "frac_short": x**2 / 2,
    "sig_compound": sigmoid(w * x + b),
}


def corpus_lines() -> list[tuple[str, str, str]]:
    if not CORPUS.exists():
        return []
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            ident, latex, meaning = line.split("\t")
            rows.append((ident, latex, meaning))
    return rows


LINES = corpus_lines()
pytestmark = pytest.mark.skipif(not LINES, reason=f"corpus not found at {CORPUS}")


@pytest.mark.parametrize("ident, latex, meaning", LINES, ids=[row[0] for row in LINES])
def test_corpus_line_parses_to_its_meaning(ident, latex, meaning):
    assert ident in EXPECTED, f"new corpus line {ident!r}: add its meaning ({meaning}) here"
    result = parse(latex, syntax="latex")
    assert result == EXPECTED[ident], f"{latex} -> {result}, meant {meaning}"


@pytest.mark.parametrize("ident, latex, meaning",
                         [row for row in LINES if "\\" in row[1] or "^{" in row[1]],
                         ids=[row[0] for row in LINES if "\\" in row[1] or "^{" in row[1]])
def test_corpus_line_is_auto_detected_as_latex(ident, latex, meaning):
    assert parse(latex) == EXPECTED[ident]


def test_sigma_is_a_function_when_called_and_a_symbol_otherwise():
    by_id = {row[0]: row[1] for row in LINES}
    assert parse(by_id["sig_compound"]).func is sigmoid
    gauss = parse(by_id["gauss"])
    assert sigma in gauss.free_symbols and not gauss.atoms(sigmoid)


def test_hat_symbol_is_distinct_from_the_plain_one():
    by_id = {row[0]: row[1] for row in LINES}
    assert parse(by_id["hat"]).free_symbols == {yhat, y}
