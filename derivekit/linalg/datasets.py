"""Data for PCA: the built-in seeded datasets and a small CSV reader.

Built-ins are correlated Gaussians drawn with a fixed seed, so every run (and every page of
the docs) shows the same numbers:

* ``gaussian2d``: 200 points, 2 features (x, y) with correlation ≈ 0.8;
* ``gaussian3d``: 200 points, 3 features (x, y, z), most variance in one direction.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from derivekit.errors import DerivekitError

DEFAULT_DATASET = "gaussian2d"
MAX_CSV_ROWS = 1_000_000


@dataclass(frozen=True)
class Dataset:
    """A data matrix (rows are samples) with its column names and where it came from."""

    data: np.ndarray
    columns: tuple[str, ...]
    source: str


_BUILTINS = {
    "gaussian2d": (np.array([2.0, 1.0]), np.array([[3.0, 2.0], [2.0, 2.0]]), ("x", "y")),
    "gaussian3d": (np.array([1.0, 0.0, -1.0]),
                   np.array([[4.0, 2.0, 0.6], [2.0, 3.0, 0.5], [0.6, 0.5, 1.0]]), ("x", "y", "z")),
}


def builtin_names() -> list[str]:
    return sorted(_BUILTINS)


def builtin(name: str = DEFAULT_DATASET, n: int = 200, seed: int = 0) -> Dataset:
    """A built-in correlated Gaussian sample (deterministic for a given ``seed``)."""
    if name not in _BUILTINS:
        raise DerivekitError(f"unknown dataset '{name}'",
                             hint=f"built-in datasets: {', '.join(builtin_names())}")
    mean, cov, columns = _BUILTINS[name]
    rng = np.random.default_rng(seed)
    data = rng.multivariate_normal(mean, cov, size=n, method="cholesky")
    return Dataset(data, columns, f"built-in dataset '{name}' (n={n}, seed={seed})")


def read_csv(path: str | Path, columns: list[str] | None = None, *, skip_ids: bool = True) -> Dataset:
    """Read numeric columns from a CSV file; a first row with non-numbers is the header.

    ``columns`` picks columns by header name (or 1-based number when there is no header).
    Without ``columns``, columns that look like row IDs (:mod:`derivekit.columns`: named
    ``id``…, or the integers 1..n) are skipped when ``skip_ids``, and the source says so.
    """
    path = Path(path)
    if not path.is_file():
        raise DerivekitError(f"no such file: {path}", hint="check the path given to --data")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if not rows:
        raise DerivekitError(f"{path} is empty", hint="give a CSV with one sample per row")
    header = None if all(_is_number(cell) for cell in rows[0]) else [c.strip() for c in rows[0]]
    body = rows[1:] if header else rows
    if len(body) > MAX_CSV_ROWS:
        raise DerivekitError(f"{path} has {len(body)} rows; the limit is {MAX_CSV_ROWS}")
    names = header or [str(i + 1) for i in range(len(rows[0]))]
    if columns:
        missing = [c for c in columns if c not in names]
        if missing:
            raise DerivekitError(f"{path} has no column {', '.join(map(repr, missing))}",
                                 hint=f"its columns are: {', '.join(names)}")
        picks = [names.index(c) for c in columns]
    else:
        picks = list(range(len(names)))
    data = np.empty((len(body), len(picks)))
    for i, row in enumerate(body):
        if len(row) != len(names):
            raise DerivekitError(f"{path}, line {i + 1 + bool(header)}: {len(row)} fields, "
                                 f"expected {len(names)}", hint="give every row the same fields")
        for j, pick in enumerate(picks):
            cell = row[pick].strip()
            if not _is_number(cell):
                raise DerivekitError(f"{path}, line {i + 1 + bool(header)}, column "
                                     f"'{names[pick]}': '{cell}' is not a number",
                                     hint="choose numeric columns with --columns")
            data[i, j] = float(cell)
    kept, source = tuple(names[p] for p in picks), str(path)
    if skip_ids and not columns and header:
        from derivekit.columns import id_columns, skipped_note
        skipped = id_columns(kept, data)
        if skipped and len(skipped) < len(kept):
            keep = [j for j, name in enumerate(kept) if name not in skipped]
            data, kept = data[:, keep], tuple(kept[j] for j in keep)
            source += f" [{skipped_note(skipped, '--columns')}]"
    return Dataset(data, kept, source)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return cell.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")
