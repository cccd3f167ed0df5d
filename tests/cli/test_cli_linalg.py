"""The linear-algebra commands: dot, matmul, det, inv, eig, pca (derivekit.cli.linalg)."""

from __future__ import annotations

import json

import pytest

from derivekit.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_dot_prints_the_worked_sum(capsys):
    code, out, _ = run(capsys, "dot", "[1,2,3]", "[4,5,6]")
    assert code == 0
    assert "u·v = 1·4 + 2·5 + 3·6 = 32" in out and out.rstrip().endswith("Result: u·v = 32")


def test_dot_shape_mismatch_exits_2(capsys):
    code, out, err = run(capsys, "dot", "[1,2,3]", "[4,5]")
    assert code == 2 and out == ""
    assert "u has 3 entries but v has 2 entries" in err and "hint:" in err


def test_matmul(capsys):
    code, out, _ = run(capsys, "matmul", "[[1,2],[3,4]]", "[[5],[6]]")
    assert code == 0 and "(2×2)(2×1) = 2×1" in out and "c₁₁ = 1·5 + 2·6 = 17" in out
    code, _, err = run(capsys, "matmul", "[[1,2,3]]", "[[1,2]]")
    assert code == 2 and "A (1×3) by B (1×2)" in err


def test_det_and_inv(capsys):
    code, out, _ = run(capsys, "det", "[[1,2],[3,4]]")
    assert code == 0 and "det A = ad − bc = 1·4 − 2·3 = −2" in out
    code, out, _ = run(capsys, "inv", "[[1,2],[3,4]]", "--format", "json")
    assert code == 0 and json.loads(out)["result"] == [[-2, 1], ["3/2", "-1/2"]]
    code, _, err = run(capsys, "inv", "[[1,2],[2,4]]")
    assert code == 2 and "singular" in err
    code, _, err = run(capsys, "det", "[[1,2,3],[4,5,6]]")
    assert code == 2 and "square" in err


def test_eig_text(capsys):
    code, out, _ = run(capsys, "eig", "[[2,1],[1,2]]")
    assert code == 0
    assert "Route: symbolic" in out and "(λ − 3)·(λ − 1)" in out
    assert "Result: λ = 3: [1, 1]; λ = 1: [−1, 1]" in out


@pytest.mark.parametrize("fmt, marker", [("latex", "\\noindent\\textbf{Eigenvalues"), ("markdown", "### "),
                                         ("text", "Eigenvalues and eigenvectors")])
def test_eig_formats(capsys, fmt, marker):
    code, out, _ = run(capsys, "eig", "[[2,1],[1,2]]", "--format", fmt)
    assert code == 0 and out.startswith(marker)


def test_eig_json_and_methods(capsys):
    code, out, _ = run(capsys, "eig", "[[2,1],[1,2]]", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["eigenvalues"] == [3, 1] and data["route"] == "symbolic"
    code, out, _ = run(capsys, "eig", "[[2,1],[1,2]]", "--method", "numeric", "--format", "json")
    data = json.loads(out)
    assert data["route"] == "numeric-eigh" and max(data["residuals"]) < 1e-12


def test_eig_latex_input_and_errors(capsys):
    code, out, _ = run(capsys, "eig", r"\begin{pmatrix} 0 & -1 \\ 1 & 0 \end{pmatrix}")
    assert code == 0 and "λ = i" in out
    code, out, err = run(capsys, "eig", "[[2,1],[1,2]")
    assert code == 2 and out == "" and "never closed" in err
    code, _, err = run(capsys, "eig", "[[1,2,3],[4,5,6]]")
    assert code == 2 and "square" in err
    code, _, _ = run(capsys, "eig", "[[1,2],[3,4]]", "--method", "bogus")
    assert code == 2


def test_eig_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "eig.png"
    code, _, err = run(capsys, "eig", "[[2,1],[1,3]]", "--plot", str(path))
    assert code == 0 and path.read_bytes().startswith(PNG_MAGIC) and "wrote" in err


def test_pca_default_dataset(capsys):
    code, out, _ = run(capsys, "pca", "--k", "1")
    assert code == 0
    assert "built-in dataset 'gaussian2d'" in out and "n − 1 = 199" in out
    assert "Result: PC1 = (0.7753, 0.6316) explains 91.3% of the variance" in out


def test_pca_json_standardize(capsys):
    code, out, _ = run(capsys, "pca", "--data", "gaussian3d", "--k", "2", "--standardize",
                       "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["standardize"] and data["k"] == 2
    assert all(abs(data["covariance"][i][i] - 1) < 1e-12 for i in range(3))


def test_pca_csv_with_columns_and_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    csv = tmp_path / "points.csv"
    csv.write_text("height,weight,name\n1.6,60,a\n1.7,72,b\n1.8,80,c\n1.75,77,d\n1.65,63,e\n")
    plot = tmp_path / "pca.png"
    code, out, err = run(capsys, "pca", "--data", str(csv), "--columns", "height,weight",
                         "--k", "1", "--standardize", "--plot", str(plot))
    assert code == 0 and "5 samples (rows) × 2 features (height, weight)" in out
    assert plot.read_bytes().startswith(PNG_MAGIC) and "wrote" in err


def test_pca_errors_exit_2(capsys, tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("a,b\n1,2\n3,4\n5,7\n")
    code, _, err = run(capsys, "pca", "--data", str(csv), "--columns", "a,z")
    assert code == 2 and "no column 'z'" in err and "its columns are: a, b" in err
    code, _, err = run(capsys, "pca", "--k", "5")
    assert code == 2 and "between 1 and 2" in err
    code, _, err = run(capsys, "pca", "--data", "nosuchset")
    assert code == 2 and "gaussian2d" in err
    code, _, _ = run(capsys, "pca", "--k", "one")
    assert code == 2


def test_no_steps_prints_the_answer_alone(capsys):
    code, out, _ = run(capsys, "pca", "--k", "1", "--no-steps")
    assert code == 0 and "Centre" not in out
    assert out.strip().endswith("PC1 = (0.7753, 0.6316) explains 91.3% of the variance; "
                                "reconstruction loses 8.7%")
    code, out, _ = run(capsys, "eig", "[[2,1],[1,2]]", "--no-steps", "--format", "json")
    data = json.loads(out)
    assert code == 0 and "steps" not in data and data["eigenvalues"] == [3, 1]


def test_rank_transpose_and_norm_commands(capsys):
    code, out, _ = run(capsys, "rank", "[[1,2],[2,4]]")
    assert code == 0 and "(1 operation)" in out and "pivots sit in column 1;" in out
    assert out.rstrip().endswith("Result: rank A = 1")
    code, out, _ = run(capsys, "transpose", "[[1,2,3],[4,5,6]]")
    assert code == 0 and out.rstrip().endswith("Aᵀ = [[1, 4], [2, 5], [3, 6]]")
    code, out, _ = run(capsys, "norm", "[3,4]", "--kind", "1")
    assert code == 0 and "|3| + |4| = 7" in out
    code, out, _ = run(capsys, "norm", "[3,4]")
    assert code == 0 and out.rstrip().endswith("= 5")
    code, out, _ = run(capsys, "norm", "[[1,2],[3,4]]")
    assert code == 0 and "√30" in out
    code, _, err = run(capsys, "norm", "[[1,2],[3,4]]", "--kind", "2")
    assert code == 2 and "kind='fro'" in err


def test_pca_takes_the_csv_as_a_positional_argument(capsys, tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("a,b,c\n1,2,0\n3,4,1\n5,7,0\n2,2,1\n")
    code, positional, _ = run(capsys, "pca", str(csv), "--columns", "a,b", "--no-steps")
    assert code == 0
    code, flagged, _ = run(capsys, "pca", "--data", str(csv), "--columns", "a,b", "--no-steps")
    assert code == 0 and positional == flagged
    code, _, err = run(capsys, "pca", str(csv), "--data", "gaussian2d")
    assert code == 2 and "two data sources" in err


def test_standardised_pca_reconstruction_undoes_the_scaling(capsys):
    code, out, _ = run(capsys, "pca", "--data", "gaussian3d", "--standardize", "--k", "1")
    assert code == 0 and "(T Wₖ)·s + μ (undoing the standardisation)" in out
    code, out, _ = run(capsys, "pca", "--data", "gaussian3d", "--k", "1")
    assert code == 0 and "back, T Wₖ + μ, keeps" in out
