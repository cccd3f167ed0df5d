"""Products, norms, determinant, inverse, rank and the matrix reader (derivekit.linalg.operations)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import sympy as sp

import derivekit as dk
from derivekit.errors import DerivekitError, ParseError, ShapeError
from derivekit.linalg.input import read_matrix, read_vector

a, b, c, d = sp.symbols("a b c d")


# --------------------------------------------------------------------------- reading input

@pytest.mark.parametrize("source", [
    "[[1, 2], [3, 4]]", "[1, 2; 3, 4]", " [ [1,2] , [3,4] ] ",
    r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}", r"\begin{pmatrix}1&2\\3&4\\\end{pmatrix}",
    np.array([[1, 2], [3, 4]]), [[1, 2], [3, 4]], ((1, 2), (3, 4)), sp.Matrix([[1, 2], [3, 4]]),
])
def test_every_input_form_gives_the_same_matrix(source):
    assert read_matrix(source) == sp.Matrix([[1, 2], [3, 4]])


def test_symbolic_and_expression_entries_go_through_the_parser():
    assert read_matrix("[[a, b], [c, d]]") == sp.Matrix([[a, b], [c, d]])
    assert read_matrix("[[x^2, sqrt(2)], [1/2, -3]]") == sp.Matrix(
        [[sp.Symbol("x") ** 2, sp.sqrt(2)], [sp.Rational(1, 2), -3]])
    assert read_matrix(r"\begin{bmatrix} \frac{1}{2} & \alpha \\ 0 & 1 \end{bmatrix}")[0, 0] == sp.Rational(1, 2)


def test_vectors_stand_up_as_columns():
    assert read_vector("[1, 2, 3]") == sp.Matrix([1, 2, 3])
    assert read_vector("[[1, 2, 3]]") == sp.Matrix([1, 2, 3])
    assert read_vector(np.arange(3)) == sp.Matrix([0, 1, 2])


@pytest.mark.parametrize("source, error, fragment", [
    ("[[1, 2], [3]]", ShapeError, "not rectangular"),
    ("[1,, 2]", ParseError, "empty entry"),
    ("[[1, 2]", ParseError, "never closed"),
    ("1, 2", ParseError, "should start with '['"),
    ("[[1, 2], 3]", ShapeError, "mixes rows"),
    ("[[1,2] [3,4]]", ParseError, "missing ','"),
    ("[(1, 2]", ParseError, "closed by"),
    ("[[1, 2+], [3, 4]]", ParseError, "entry '2+'"),
    ("[]", ShapeError, "empty"),
])
def test_bad_text_says_what_is_wrong(source, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        read_matrix(source, vector_as="column")


def test_space_separated_numbers_get_a_comma_hint():
    with pytest.raises(ParseError) as info:
        read_matrix("[4 5 6]", vector_as="column")
    assert "separate entries with commas" in info.value.hint
    with pytest.raises(ParseError) as info:      # an expression keeps the parser's own hint
        read_matrix("[4 x 6]", vector_as="column")
    assert "separate entries with commas" not in (info.value.hint or "")


def test_user_text_is_never_evaluated():
    with pytest.raises(DerivekitError):
        read_matrix("[[__import__('os').system('echo hacked')]]")


def test_parse_error_points_into_the_whole_matrix_text():
    with pytest.raises(ParseError) as info:
        read_matrix("[[1, 2+], [3, 4]]")
    assert info.value.position == 7


# --------------------------------------------------------------------------- dot product

def test_textbook_dot_product_is_32_with_the_worked_sum():
    result = dk.dot([1, 2, 3], [4, 5, 6])
    assert result.result == 32
    assert "u·v = 1·4 + 2·5 + 3·6 = 32" in result.to_text()
    assert result.norm_u == sp.sqrt(14) and result.norm_v == sp.sqrt(77)
    assert float(result.cosine) == pytest.approx(32 / np.sqrt(14 * 77))
    assert "u \\cdot v" in result.to_latex()


def test_dot_product_meaning_and_edge_cases():
    assert "orthogonal" in dk.dot("[1, 0]", "[0, 2]").to_text()
    assert "opposite" in dk.dot("[1, 1]", "[-1, -1.1]").to_text()
    zero = dk.dot("[0, 0]", "[1, 2]")
    assert zero.result == 0 and zero.cosine is None and "undefined" in zero.to_text()


def test_symbolic_dot_product():
    result = dk.dot("[a, b]", "[c, d]")
    assert sp.expand(result.result - (a * c + b * d)) == 0


def test_dot_shape_mismatch_names_both_sizes():
    with pytest.raises(ShapeError, match="3 entries but v has 2 entries"):
        dk.dot("[1, 2, 3]", "[1, 2]")


# --------------------------------------------------------------------------- matrix product

@pytest.mark.parametrize("seed", range(6))
def test_matmul_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    m, n, p = rng.integers(1, 6, size=3)
    A, B = rng.integers(-9, 10, size=(m, n)), rng.integers(-9, 10, size=(n, p))
    result = dk.matmul(A, B)
    assert np.array_equal(np.array(result.result.tolist(), dtype=int), A @ B)
    assert f"({m}×{n})({n}×{p}) = {m}×{p}" in result.to_text()


def test_matmul_works_entries_one_by_one_for_small_results():
    text = dk.matmul("[[1,2],[3,4]]", "[5, 6]").to_text()
    assert "c₁₁ = 1·5 + 2·6 = 17" in text and "c₂₁ = 3·5 + 4·6 = 39" in text


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ShapeError, match=r"A \(2×3\) by B \(2×2\)"):
        dk.matmul(np.ones((2, 3)), np.ones((2, 2)))


def test_matmul_large_result_is_summarised():
    result = dk.matmul(np.ones((5, 5), dtype=int), np.ones((5, 5), dtype=int))
    assert "too many to list" in result.to_text()


# --------------------------------------------------------------------------- transpose, norms

def test_transpose():
    result = dk.transpose("[[1, 2, 3], [4, 5, 6]]")
    assert result.result == sp.Matrix([[1, 4], [2, 5], [3, 6]])
    assert "2×3 matrix becomes 3×2" in result.to_text()


@pytest.mark.parametrize("kind, reference", [
    (1, lambda x: np.linalg.norm(x, 1)), (2, lambda x: np.linalg.norm(x)),
    ("inf", lambda x: np.linalg.norm(x, np.inf)),
])
def test_vector_norms_match_numpy(kind, reference):
    x = np.array([3, -4, 12, 1])
    assert float(dk.norm(x, kind).result) == pytest.approx(reference(x))


def test_frobenius_norm_and_unsupported_matrix_norm():
    M = np.array([[1, 2], [3, 4]])
    result = dk.norm(M)
    assert result.kind == "fro" and result.result == sp.sqrt(30)
    with pytest.raises(DerivekitError, match="fro"):
        dk.norm(M, 1)


# --------------------------------------------------------------------------- determinant

@pytest.mark.parametrize("seed", range(8))
def test_determinant_matches_sympy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    A = rng.integers(-5, 6, size=(n, n))
    result = dk.det(A)
    assert result.result == sp.Matrix(A).det()
    expected = {1: "entry", 2: "2x2 rule"}.get(n, "cofactor expansion" if n <= 4 else "row reduction")
    assert result.method == expected


def test_cofactor_expansion_uses_the_line_with_most_zeros():
    result = dk.det("[[1, 2, 3], [0, 5, 0], [7, 8, 9]]")
    assert result.result == -60
    assert "Expand along row 2" in result.to_text()


def test_symbolic_determinant():
    assert sp.expand(dk.det("[[a, b], [c, d]]").result - (a * d - b * c)) == 0
    M = sp.Matrix([[a, 1, 0], [1, a, 1], [0, 1, a]])
    assert sp.expand(dk.det(M).result - M.det()) == 0


def test_determinant_needs_a_square_matrix():
    with pytest.raises(ShapeError, match="2×3"):
        dk.det("[[1, 2, 3], [4, 5, 6]]")


# --------------------------------------------------------------------------- inverse and rank

@pytest.mark.parametrize("seed", range(8))
def test_inverse_matches_sympy(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 6))
    A = rng.integers(-4, 5, size=(n, n)) + 6 * np.eye(n, dtype=int)
    result = dk.inv(A)
    assert result.result == sp.Matrix(A).inv()
    assert result.method == ("reciprocal" if n == 1 else "adjugate" if n <= 3 else "Gauss-Jordan")
    assert "A·A⁻¹ = I" in result.to_text()


def test_gauss_jordan_lists_row_operations():
    text = dk.inv([[2, 1, 0, 0], [1, 2, 1, 0], [0, 1, 2, 1], [0, 0, 1, 2]]).to_text()
    assert "[A | I]" in text and "R₂ ← R₂ − (1)·R₁" in text


def test_float_inverse_matches_numpy():
    A = np.random.default_rng(7).normal(size=(5, 5)) + 5 * np.eye(5)
    result = dk.inv(A)
    assert np.allclose(np.array(result.result.tolist(), dtype=float), np.linalg.inv(A), atol=1e-10)


def test_symbolic_inverse():
    result = dk.inv("[[a, b], [c, d]]")
    expected = sp.Matrix([[d, -b], [-c, a]]) / (a * d - b * c)
    assert (result.result - expected).applyfunc(sp.simplify) == sp.zeros(2, 2)


def test_singular_matrix_has_no_inverse():
    with pytest.raises(DerivekitError, match="singular"):
        dk.inv("[[1, 2], [2, 4]]")
    with pytest.raises(DerivekitError, match="singular"):
        dk.inv(np.ones((5, 5), dtype=int))


@pytest.mark.parametrize("seed", range(6))
def test_rank_matches_numpy_on_low_rank_matrices(seed):
    rng = np.random.default_rng(seed)
    r, m, n = int(rng.integers(1, 4)), int(rng.integers(3, 6)), int(rng.integers(3, 6))
    A = rng.integers(-3, 4, size=(m, r)) @ rng.integers(-3, 4, size=(r, n))
    assert dk.rank(A).result == np.linalg.matrix_rank(A)
    assert dk.rank(A.astype(float) / 7).result == np.linalg.matrix_rank(A)


def test_rank_reports_pivots_and_nullity():
    result = dk.rank("[[1, 2, 3], [2, 4, 6], [1, 0, 1]]")
    assert result.result == 2 and result.pivots == (0, 1)
    assert "dim null A = 1" in result.to_text()


# --------------------------------------------------------------------------- rendering

@pytest.mark.parametrize("make", [
    lambda: dk.dot("[1, 2]", "[3, 4]"), lambda: dk.matmul("[[1, 2]]", "[[3], [4]]"),
    lambda: dk.det("[[1, 2], [3, 4]]"), lambda: dk.inv("[[1, 2], [3, 4]]"),
    lambda: dk.rank("[[1, 2], [2, 4]]"), lambda: dk.norm("[3, 4]"), lambda: dk.transpose("[[1, 2]]"),
])
def test_every_result_renders_in_every_format(make):
    result = make()
    assert result.to_text().startswith(result.heading)
    assert result.to_latex().startswith("\\begin{array}")
    assert result.to_markdown().startswith("### ")
    data = json.loads(result.to_json())
    assert data["steps"] and all({"title", "explanation", "latex", "text"} <= set(s) for s in data["steps"])
    assert result._repr_latex_().startswith("$$")


def test_large_symbolic_requests_are_refused_or_kept_polynomial():
    from derivekit.errors import UnsupportedError
    M = sp.Matrix(5, 5, lambda i, j: sp.Symbol(f"m{i}{j}"))
    result = dk.det(M)
    assert result.method == "Berkowitz" and sp.expand(result.result - M.det(method="berkowitz")) == 0
    with pytest.raises(UnsupportedError, match="5×5"):
        dk.inv(M)


def test_latex_output_is_plain_ascii_for_every_engine():
    results = [dk.dot("[1, 2, 3]", "[4, 5, 6]"), dk.det("[[2, 0, 1], [1, 3, 2], [1, 1, 2]]"),
               dk.inv(np.eye(4, dtype=int) * 2), dk.rank("[[1, 2], [2, 4]]"),
               dk.eig("[[1, 2, 3], [4, 5, 6], [7, 8, 10]]"), dk.eig("[[2, 1], [1, 2]]"),
               dk.pca([[1, 2], [3, 4], [5, 7]], 1, standardize=True)]
    for result in results:
        assert result.to_latex().isascii(), type(result).__name__


# --------------------------------------------------------------------------- properties

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_MATRIX_TEXT = st.text(alphabet="[]();,. 0123456789-+*/^abxe\\&{}", max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_MATRIX_TEXT)
def test_reader_either_reads_or_raises_a_derivekit_error(source):
    try:
        matrix = read_matrix(source, vector_as="column")
    except DerivekitError:
        return
    assert isinstance(matrix, sp.MatrixBase) and matrix.rows >= 1 and matrix.cols >= 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=12), st.data())
def test_dot_and_norms_agree_with_numpy(u, data):
    v = data.draw(st.lists(st.integers(-50, 50), min_size=len(u), max_size=len(u)))
    result = dk.dot(u, v)
    assert result.result == int(np.dot(u, v))
    assert float(result.norm_u) == pytest.approx(np.linalg.norm(u))
    text = dk.dot(str(u), str(v)).to_text()
    assert f"= {int(np.dot(u, v))}\n".replace("-", "−") in text


def test_large_numeric_inputs_take_fast_exact_or_lapack_paths():
    rng = np.random.default_rng(11)
    ints = rng.integers(-9, 10, size=(40, 40))
    product = dk.matmul(ints, ints)
    assert np.array_equal(np.array(product.result.tolist(), dtype=np.int64), ints @ ints)
    assert product.answer_text.startswith("AB = (40×40) [[")
    floats = rng.normal(size=(12, 12))
    assert dk.det(floats).method == "LU"
    assert float(dk.det(floats).result) == pytest.approx(np.linalg.det(floats))
    inverse = dk.inv(floats)
    assert inverse.method == "LU" and "max |A·A⁻¹ − I|" in inverse.to_text()
    assert np.allclose(np.array(inverse.result.tolist(), dtype=float), np.linalg.inv(floats))
    low_rank = rng.normal(size=(10, 3)) @ rng.normal(size=(3, 9))
    result = dk.rank(low_rank)
    assert result.result == 3 and result.pivots == () and "Singular values" in result.to_text()
    assert "\\ddots" in inverse.to_latex()


@pytest.mark.slow
def test_latex_output_compiles_with_pdflatex(tmp_path):
    import shutil
    import subprocess
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    results = [dk.dot("[1,2,3]", "[4,5,6]"), dk.matmul("[[1,2],[3,4]]", "[5,6]"),
               dk.det("[[2,0,1],[1,3,2],[1,1,2]]"), dk.inv("[[1,2],[3,4]]"),
               dk.inv(np.eye(4, dtype=int) * 2), dk.rank("[[1,2],[2,4]]"), dk.norm("[3,-4]"),
               dk.eig("[[2,1],[1,2]]"), dk.eig("[[2,1,0],[0,2,0],[0,0,3]]"), dk.eig("[[a,b],[b,a]]"),
               dk.eig("[[1,2,3],[4,5,6],[7,8,10]]"),
               dk.eig("[[4,2,2],[3,-2,-1],[-3,-4,-1]]", method="symbolic"),
               dk.pca(k=1), dk.inv(np.random.default_rng(0).normal(size=(8, 8)))]
    body = "\n".join("\\[\n" + r.to_latex() + "\n\\]" for r in results)
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n"
        "\\usepackage[landscape,margin=1cm]{geometry}\n\\begin{document}\n\\tiny\n"
        + body + "\n\\end{document}\n")
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
