"""Eigen-decomposition with steps (derivekit.linalg.eigen, dk.eig)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

import derivekit as dk
from derivekit.errors import DerivekitError, ShapeError, UnsupportedError

a, b, c = sp.symbols("a b c")


def _assert_pairs_hold(A: np.ndarray, result, tol: float = 1e-9) -> None:
    scale = max(1.0, float(np.abs(A).max()))
    for value, vector in result.pairs:
        v = np.asarray(vector, dtype=complex).ravel()
        assert np.linalg.norm(v) > 0
        assert np.linalg.norm(A @ v - complex(value) * v) <= tol * scale * np.linalg.norm(v)


def _same_eigenspaces(result, reference) -> None:
    """Our symbolic eigenspaces equal SymPy's eigenvects: values, multiplicities, spans."""
    assert len(result.eigenspaces) == len(reference)
    for value, algebraic, vectors in reference:
        matches = [s for s in result.eigenspaces if _equal(s.value, value)]
        assert len(matches) == 1, f"eigenvalue {value} missing"
        space = matches[0]
        assert space.algebraic == algebraic and space.geometric == len(vectors)
        joined = sp.Matrix.hstack(*space.basis, *vectors)
        if joined.free_symbols:
            assert joined.applyfunc(sp.simplify).rank(simplify=True) == len(vectors)
        else:  # exact radicals vs CRootOf: compare numerically at high precision
            numeric = np.array(joined.evalf(30).tolist(), dtype=complex)
            assert np.linalg.matrix_rank(numeric, tol=1e-9 * np.abs(numeric).max()) == len(vectors)


def _equal(x: sp.Expr, y: sp.Expr) -> bool:
    if x.free_symbols or y.free_symbols:
        return sp.simplify(x - y) == 0
    return abs(complex(sp.N(x - y, 30))) < 1e-20


# --------------------------------------------------------------------------- numeric route

@pytest.mark.parametrize("seed", range(10))
def test_random_symmetric_matrices_use_eigh_and_satisfy_av_equals_lambda_v(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 12))
    M = rng.normal(size=(n, n))
    A = (M + M.T) / 2
    result = dk.eig(A)
    assert result.route == "numeric-eigh" and result.symmetric
    assert np.all(np.diff(result.eigenvalues) <= 0)  # largest first
    assert np.allclose(result.eigenvectors.T @ result.eigenvectors, np.eye(n), atol=1e-10)
    assert np.allclose(np.sort(result.eigenvalues), np.linalg.eigvalsh(A), atol=1e-10)
    assert result.max_residual < 1e-10
    _assert_pairs_hold(A, result)


@pytest.mark.parametrize("seed", range(10))
def test_random_non_symmetric_matrices_use_eig_with_small_residuals(seed):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(2, 10))
    A = rng.normal(size=(n, n))
    result = dk.eig(A)
    assert result.route == "numeric-eig" and not result.symmetric
    assert np.allclose(np.sort_complex(np.asarray(result.eigenvalues, dtype=complex)),
                       np.sort_complex(np.linalg.eigvals(A)), atol=1e-9)
    assert result.residuals.shape == (n,) and result.max_residual < 1e-9
    _assert_pairs_hold(A, result)
    assert "Residuals" in result.to_text() and "numpy.linalg.eig" in result.to_text()


def test_numeric_eigenvectors_follow_the_sign_convention():
    result = dk.eig(np.array([[2.0, -1.0], [-1.0, 2.0]]))
    for j in range(2):
        column = result.eigenvectors[:, j]
        assert column[np.argmax(np.abs(column))] > 0
        assert np.linalg.norm(column) == pytest.approx(1.0)


def test_numeric_complex_eigenvalues_of_a_rotation():
    theta = 0.3
    A = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    result = dk.eig(A)
    assert result.route == "numeric-eig"
    assert np.allclose(sorted(np.asarray(result.eigenvalues).imag), [-np.sin(theta), np.sin(theta)])
    assert result.spectral_radius == pytest.approx(1.0)
    _assert_pairs_hold(A, result)


def test_numeric_route_flags_a_defective_matrix():
    result = dk.eig(np.array([[1.0, 1.0], [0.0, 1.0]]))
    assert not result.diagonalizable
    assert "Not diagonalisable" in result.to_text()


# --------------------------------------------------------------------------- symbolic route

@pytest.mark.parametrize("seed", range(25))
def test_symbolic_steps_match_sympy_eigenvects_on_random_integer_matrices(seed):
    rng = np.random.default_rng(seed)
    n = 2 if seed < 15 else 3
    A = sp.Matrix(rng.integers(-4, 5, size=(n, n)).tolist())
    result = dk.eig(A, method="symbolic")
    assert result.route == "symbolic"
    _same_eigenspaces(result, A.eigenvects())
    _assert_pairs_hold(np.array(A.tolist(), dtype=float), result, tol=1e-8)


@pytest.mark.parametrize("matrix", [
    sp.Matrix([[a, b], [b, c]]), sp.Matrix([[a, 1, 0], [1, a, 1], [0, 1, a]]),
    sp.Matrix([[a, b, 0], [b, a, 0], [0, 0, c]]), sp.Matrix([[1, a], [0, 2]]),
])
def test_symbolic_entries_match_sympy_eigenvects(matrix):
    result = dk.eig(matrix)
    assert result.route == "symbolic" and "symbolic entries" in result.reason
    _same_eigenspaces(result, matrix.eigenvects())


def test_the_symbolic_steps_in_order():
    result = dk.eig("[[2, 1], [1, 2]]")
    titles = [step.title for step in result.steps]
    assert titles[:4] == ["Route: symbolic", "Form A − λI", "Characteristic polynomial", "Solve p(λ) = 0"]
    assert titles[4].startswith("Eigenvectors for λ = 3") and "Check A v = λv" in titles
    text = result.to_text()
    assert "p(λ) = det(A − λI) = λ² − 4λ + 3 = (λ − 3)·(λ − 1)" in text
    assert "A[1, 1] = [3, 3] = 3·[1, 1] ✓" in text
    assert "spectral theorem" in text and "ρ(A) = max |λᵢ| = 3" in text
    assert result.eigenvalues == [3, 1]
    assert result.eigenvectors == sp.Matrix([[1, -1], [1, 1]])
    assert sp.expand(result.characteristic_polynomial - (LAMBDA() ** 2 - 4 * LAMBDA() + 3)) == 0
    assert result.P * result.D * result.P.inv() == sp.Matrix([[2, 1], [1, 2]])


def LAMBDA():
    from derivekit.linalg.eigen import LAMBDA as symbol
    return symbol


def test_defective_matrix_is_stated():
    result = dk.eig("[[2, 1, 0], [0, 2, 0], [0, 0, 3]]")
    space = next(s for s in result.eigenspaces if s.value == 2)
    assert (space.algebraic, space.geometric) == (2, 1) and space.defective
    assert not result.diagonalizable and result.P is None
    text = result.to_text()
    assert "defective" in text and "Not diagonalisable" in text
    assert result.eigenvalues == [3, 2, 2]


def test_repeated_eigenvalue_that_is_not_defective():
    result = dk.eig("[[2, 1, 1], [1, 2, 1], [1, 1, 2]]")
    space = next(s for s in result.eigenspaces if s.value == 1)
    assert (space.algebraic, space.geometric) == (2, 2) and result.diagonalizable


def test_complex_eigenvalues_symbolically():
    result = dk.eig("[[0, -1], [1, 0]]")
    assert set(result.eigenvalues) == {sp.I, -sp.I}
    assert result.spectral_radius == 1
    _same_eigenspaces(result, sp.Matrix([[0, -1], [1, 0]]).eigenvects())


# --------------------------------------------------------------------------- route choice

def test_route_choice_is_explained():
    assert dk.eig("[[2.5, 1], [1, 2]]").route == "numeric-eigh"
    assert "floating-point" in dk.eig("[[2.5, 1], [1, 2]]").reason
    big = dk.eig(np.diag([1, 2, 3, 4, 5]))
    assert big.route == "numeric-eigh" and "Abel–Ruffini" in big.reason
    cubic = dk.eig("[[1, 2, 3], [4, 5, 6], [7, 8, 10]]")
    assert cubic.route == "numeric-eig" and "degree 3 or 4" in cubic.reason
    assert "Characteristic polynomial" in [s.title for s in cubic.steps]
    forced = dk.eig("[[1, 2, 3], [4, 5, 6], [7, 8, 10]]", method="symbolic")
    assert forced.route == "symbolic" and len(forced.eigenvalues) == 3


@pytest.mark.parametrize("source", [
    "[[2, 1], [1, 2]]", r"\begin{bmatrix} 2 & 1 \\ 1 & 2 \end{bmatrix}", [[2, 1], [1, 2]],
    np.array([[2, 1], [1, 2]]), sp.Matrix([[2, 1], [1, 2]]),
])
def test_input_forms(source):
    assert dk.eig(source).eigenvalues == [3, 1]


def test_errors():
    with pytest.raises(ShapeError, match="square"):
        dk.eig("[[1, 2, 3], [4, 5, 6]]")
    with pytest.raises(UnsupportedError, match="5×5"):
        dk.eig(sp.Matrix(5, 5, lambda i, j: a if i == j else i + j))
    with pytest.raises(DerivekitError, match="lambda"):
        dk.eig("[[lambda, 1], [1, 2]]")
    with pytest.raises(UnsupportedError, match="symbols"):
        dk.eig("[[a, 1], [1, 2]]", method="numeric")


def test_renderers_walk_the_same_steps():
    result = dk.eig("[[2, 1], [1, 2]]")
    data = json.loads(result.to_json())
    assert data["route"] == "symbolic" and data["eigenvalues"] == [3, 1]
    assert [s["title"] for s in data["steps"]] == [s.title for s in result.steps]
    assert data["eigenspaces"][0]["basis"] == [[1, 1]]
    assert "\\lambda" in result.to_latex() and "$$" in result.to_markdown()
    numeric = json.loads(dk.eig(np.array([[0.0, -1.0], [1.0, 0.0]])).to_json())
    assert numeric["route"] == "numeric-eig" and len(numeric["residuals"]) == 2


def test_stability_note_for_a_recurrent_weight_matrix():
    vanishing = dk.eig("[[0.5, 0.1], [0.1, 0.4]]")
    assert vanishing.spectral_radius < 1 and "vanish." in vanishing.to_text()
    exploding = dk.eig("[[2, 0], [0, 1/2]]")
    assert exploding.spectral_radius == 2 and "explode." in exploding.to_text()


def test_symbolic_cubic_is_refused_with_a_way_out():
    with pytest.raises(UnsupportedError, match="degree 3 in λ") as info:
        dk.eig("[[a, b, c], [b, a, b], [c, b, 1]]")
    assert "method='symbolic'" in str(info.value)


def test_hermitian_matrices_use_eigh():
    A = np.array([[2.0, 1 - 1j], [1 + 1j, 3.0]])
    result = dk.eig(A)
    assert result.route == "numeric-eigh" and np.allclose(result.eigenvalues, [4.0, 1.0])
    assert "Hermitian" in result.to_text() and "A = QΛQᴴ" in result.to_text()
    _assert_pairs_hold(A, result)


def test_four_by_four_exact_matrix_goes_symbolic():
    A = sp.Matrix([[2, 1, 0, 0], [1, 2, 0, 0], [0, 0, 3, 1], [0, 0, 1, 3]])
    result = dk.eig(A)
    assert result.route == "symbolic" and result.eigenvalues == [4, 3, 2, 1]
    _same_eigenspaces(result, A.eigenvects())


def test_json_layout_is_versioned():
    assert dk.eig("[[2, 1], [1, 2]]").to_dict()["schema"] == "derivekit.linalg/1"


def test_symbolic_three_by_three_with_steps():
    # its speed (budget 1 s) is measured by benchmarks/bench_linalg.py, never asserted here
    from sympy.core.cache import clear_cache
    clear_cache()
    result = dk.eig("[[a, b, 0], [b, a, 0], [0, 0, 1]]")
    text = result.to_text() + result.to_latex()
    assert "Characteristic polynomial" in text
    a, b = sp.symbols("a b")
    assert {sp.simplify(v) for v in result.eigenvalues} == {a - b, a + b, sp.Integer(1)}
