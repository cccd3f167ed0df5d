"""Row reduction and cofactors, recorded operation by operation.

:func:`gauss_jordan` reduces a matrix to reduced row-echelon form and returns the row
operations it used (``R₂ ← R₂ − 3·R₁``), so inverse and rank steps can show them.
Exact matrices (integers, fractions, symbols) pivot on the first non-zero entry and stay
exact; floating-point matrices use partial pivoting (largest |entry|) and a tolerance.
:func:`minor` and :func:`cofactor_sign` serve the determinant's cofactor expansion.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derivekit.linalg.input import has_floats
from derivekit.linalg.steps import tex, txt

FLOAT_TOLERANCE = 1e-12  # relative to the largest |entry|: smaller pivots count as zero

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(n: int) -> str:
    return str(n).translate(_SUB)


@dataclass(frozen=True)
class RowOp:
    """One elementary row operation, written in text and LaTeX."""

    text: str
    latex: str


@dataclass(frozen=True)
class Reduction:
    """The result of :func:`gauss_jordan`: the reduced matrix, its pivots and the operations."""

    reduced: sp.Matrix
    pivots: tuple[int, ...]
    ops: tuple[RowOp, ...]
    swaps: int
    exact: bool


def _is_zero(value: sp.Expr, exact: bool, scale: float) -> bool:
    if exact:
        if value.is_zero is None:
            return sp.simplify(value) == 0
        return bool(value.is_zero)
    return abs(complex(value)) <= FLOAT_TOLERANCE * scale


def _tidy(value: sp.Expr) -> sp.Expr:
    return sp.cancel(value) if value.free_symbols else value


def gauss_jordan(matrix: sp.MatrixBase, *, columns: int | None = None) -> Reduction:
    """Reduce ``matrix`` to reduced row-echelon form, pivoting only in its first ``columns``."""
    m = sp.Matrix(matrix)
    exact = not has_floats(m)
    scale = max((abs(complex(x)) for x in m), default=1.0) if not exact else 1.0
    scale = scale or 1.0
    columns = m.cols if columns is None else columns
    ops: list[RowOp] = []
    pivots: list[int] = []
    swaps = 0
    row = 0
    for col in range(columns):
        if row >= m.rows:
            break
        candidates = [r for r in range(row, m.rows) if not _is_zero(m[r, col], exact, scale)]
        if not candidates:
            if not exact:
                for r in range(row, m.rows):
                    m[r, col] = sp.Integer(0)
            continue
        pick = candidates[0] if exact else max(candidates, key=lambda r: abs(complex(m[r, col])))
        if pick != row:
            m.row_swap(pick, row)
            swaps += 1
            ops.append(RowOp(f"R{subscript(row + 1)} ↔ R{subscript(pick + 1)}",
                             rf"R_{{{row + 1}}} \leftrightarrow R_{{{pick + 1}}}"))
        pivot = m[row, col]
        if pivot != 1:
            m[row, :] = (m[row, :] / pivot).applyfunc(_tidy)
            ops.append(RowOp(f"R{subscript(row + 1)} ← R{subscript(row + 1)} / ({txt(pivot)})",
                             rf"R_{{{row + 1}}} \leftarrow R_{{{row + 1}}} / \left({tex(pivot)}\right)"))
        for r in range(m.rows):
            factor = m[r, col]
            if r == row or _is_zero(factor, exact, scale):
                if r != row and not exact:
                    m[r, col] = sp.Integer(0)
                continue
            m[r, :] = (m[r, :] - factor * m[row, :]).applyfunc(_tidy)
            ops.append(RowOp(f"R{subscript(r + 1)} ← R{subscript(r + 1)} − ({txt(factor)})·R{subscript(row + 1)}",
                             rf"R_{{{r + 1}}} \leftarrow R_{{{r + 1}}} - \left({tex(factor)}\right) R_{{{row + 1}}}"))
        pivots.append(col)
        row += 1
    return Reduction(m, tuple(pivots), tuple(ops), swaps, exact)


def minor(matrix: sp.MatrixBase, i: int, j: int) -> sp.Matrix:
    """``matrix`` without row ``i`` and column ``j``."""
    return sp.Matrix(matrix).minor_submatrix(i, j)


def cofactor_sign(i: int, j: int) -> int:
    return -1 if (i + j) % 2 else 1
