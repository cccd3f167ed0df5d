"""Benchmarks for linear algebra (issue 6).

    python benchmarks/bench_linalg.py            # print the table
    python benchmarks/bench_linalg.py --write    # also update docs/benchmarks.md

1. ``dk.pca`` on a seeded 10⁵ × 50 matrix against a plain NumPy SVD PCA (centre, thin SVD,
   project) in the same process; target ratio ≤ 1.5. The two must agree (components up to
   the documented sign, explained variance to 1e-10 relative) or the script fails.
2. ``dk.eig`` symbolic steps for 3×3 matrices; target ≤ 1 s. Each run clears SymPy's cache
   so earlier runs cannot answer later ones.

Times are the best of several runs (``time.perf_counter``), interleaved between the two sides.
BLAS runs on one thread unless ``OPENBLAS_NUM_THREADS`` says otherwise (see below).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from pathlib import Path

# One BLAS thread unless told otherwise: on a small shared machine, BLAS threads spinning
# against other work distort both sides of the comparison (set OPENBLAS_NUM_THREADS to change).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import derivekit as dk  # noqa: E402

SECTION = "## Linear algebra (issue 6)"
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def svd_pca(X: np.ndarray, k: int):
    """The reference: plain NumPy PCA through the thin SVD of the centred data."""
    mean = X.mean(axis=0)
    Xc = X - mean
    _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    components = Vt[:k]
    scores = Xc @ components.T
    variance = s**2 / (X.shape[0] - 1)
    return components, variance[:k], variance[:k] / variance.sum(), scores


def seeded_data(n: int = 100_000, d: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d)) * np.linspace(3.0, 0.1, d)
    return rng.normal(size=(n, d)) @ mixing + rng.normal(size=d)


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_pca(repeats: int = 5, k: int = 10) -> dict:
    X = seeded_data()
    ours_times, ref_times = [], []
    for _ in range(repeats):  # interleaved so drift hits both sides alike
        ours_times.append(best_of(lambda: dk.pca(X, k), 1))
        ref_times.append(best_of(lambda: svd_pca(X, k), 1))
    ours, ref = dk.pca(X, k), svd_pca(X, k)
    signs = np.sign(np.sum(ours.components * ref[0], axis=1))
    component_gap = float(np.max(np.abs(ours.components - ref[0] * signs[:, None])))
    variance_gap = float(np.max(np.abs(ours.explained_variance - ref[1]) / ref[1]))
    if component_gap > 1e-8 or variance_gap > 1e-10:
        raise SystemExit(f"PCA routes disagree: components {component_gap:.2e}, "
                         f"variance {variance_gap:.2e}")
    return {"shape": X.shape, "k": k, "ours": min(ours_times), "reference": min(ref_times),
            "ratio": min(ours_times) / min(ref_times), "component_gap": component_gap,
            "variance_gap": variance_gap}


def bench_symbolic_eig(repeats: int = 3) -> list[dict]:
    a, b = sp.symbols("a b")
    cases = {
        "[[a, 1, 0], [1, a, 1], [0, 1, a]]": sp.Matrix([[a, 1, 0], [1, a, 1], [0, 1, a]]),
        "[[a, b, 0], [b, a, 0], [0, 0, 1]]": sp.Matrix([[a, b, 0], [b, a, 0], [0, 0, 1]]),
        "[[2, 1, 1], [1, 2, 1], [1, 1, 2]]": sp.Matrix([[2, 1, 1], [1, 2, 1], [1, 1, 2]]),
        "[[2, 1, 0], [0, 2, 0], [0, 0, 3]] (defective)": sp.Matrix([[2, 1, 0], [0, 2, 0], [0, 0, 3]]),
        "[[4, 2, 2], [3, -2, -1], [-3, -4, -1]] (irreducible cubic, method='symbolic')":
            sp.Matrix([[4, 2, 2], [3, -2, -1], [-3, -4, -1]]),
    }
    rows = []
    for label, matrix in cases.items():
        def once():
            sp.core.cache.clear_cache()
            result = dk.eig(matrix, method="symbolic")
            result.to_text(), result.to_latex()  # rendering is part of "steps"
            assert result.route == "symbolic"
        rows.append({"matrix": label, "seconds": best_of(once, repeats)})
    return rows


def table(pca: dict, eig_rows: list[dict]) -> str:
    n, d = pca["shape"]
    lines = [
        SECTION, "",
        f"Measured by `python benchmarks/bench_linalg.py --write` on {platform.machine()} "
        f"({os.cpu_count()} cores), Python {platform.python_version()}, NumPy {np.__version__}, "
        f"SymPy {sp.__version__}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}. "
        "Best of several runs; ratios are against a reference run in the same process.", "",
        f"**PCA, {n:,} × {d}, k = {pca['k']}** (target: ≤ 1.5× a plain NumPy SVD PCA)", "",
        "| route | time | ratio |", "|---|---|---|",
        f"| `dk.pca` (covariance + `eigh`, with steps and reconstruction) | {pca['ours'] * 1e3:.0f} ms "
        f"| {pca['ratio']:.2f}× |",
        f"| NumPy reference (centre, thin SVD, project) | {pca['reference'] * 1e3:.0f} ms | 1.00× |", "",
        f"Agreement: components up to sign within {pca['component_gap']:.1e}, explained "
        f"variance within {pca['variance_gap']:.1e} (relative).", "",
        "**Symbolic eigen-decomposition with steps, 3×3** (target: ≤ 1 s; SymPy cache cleared "
        "before each run, rendering included)", "",
        "| matrix | time |", "|---|---|",
    ]
    lines += [f"| `{row['matrix']}` | {row['seconds'] * 1e3:.0f} ms |" for row in eig_rows]
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path = DOC) -> None:
    """Replace this section in docs/benchmarks.md (or append it), leaving others untouched."""
    existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(existing):
        updated = pattern.sub(lambda _: text + "\n", existing, count=1)
    else:
        updated = existing.rstrip("\n") + "\n\n" + text
    path.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    pca = bench_pca()
    eig_rows = bench_symbolic_eig()
    text = table(pca, eig_rows)
    print(text)
    if args.write:
        write_section(text)
        print(f"updated {DOC}")
    ok = pca["ratio"] <= 1.5 and all(row["seconds"] <= 1.0 for row in eig_rows)
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
