"""Data for PCA: the built-in seeded datasets and a small CSV reader.

Built-ins are correlated Gaussians drawn with a fixed seed, so every run (and every page of
the docs) shows the same numbers:

* ``gaussian2d``: 200 points, 2 features (x, y) with correlation ≈ 0.8;
* ``gaussian3d``: 200 points, 3 features (x, y, z), most variance in one direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from derivekit.errors import DerivekitError

DEFAULT_DATASET = "gaussian2d"


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
    The file is streamed: more than :data:`derivekit.limits.MAX_CSV_ROWS` rows or
    :data:`derivekit.limits.MAX_CSV_BYTES` bytes stop the reading with a clear error.
    """
    from derivekit import files, limits
    path = Path(path)
    hint = "check the path given to --data"
    rows = list(files.csv_rows(path, max_rows=limits.MAX_CSV_ROWS, header_rows=1, what="file", hint=hint))
    if not rows:
        raise DerivekitError(f"{path} is empty", hint="give a CSV with one sample per row")
    first = rows[0][1]
    header = None if all(_is_number(cell) for cell in first) else [c.strip() for c in first]
    body = rows[1:] if header else rows
    if len(body) > limits.MAX_CSV_ROWS:
        raise DerivekitError(f"{path} has more than {limits.MAX_CSV_ROWS:,} rows, the limit",
                             hint="use a sample of the rows, or raise derivekit.limits.MAX_CSV_ROWS")
    names = header or [str(i + 1) for i in range(len(first))]
    if columns:
        missing = [c for c in columns if c not in names]
        if missing:
            listed = (f"its columns are: {', '.join(names)}" if files.looks_like_csv(path)
                      else f"it has {len(names)} column(s)")
            raise DerivekitError(f"{path} has no column {', '.join(map(repr, missing))}",
                                 hint=listed)
        picks = [names.index(c) for c in columns]
    else:
        picks = list(range(len(names)))
    data = np.empty((len(body), len(picks)))
    for i, (line, row) in enumerate(body):
        if len(row) != len(names):
            raise DerivekitError(f"{path}, line {line}: {len(row)} fields, "
                                 f"expected {len(names)}", hint="give every row the same fields")
        for j, pick in enumerate(picks):
            cell = row[pick].strip()
            if not _is_number(cell):
                column = names[pick] if files.looks_like_csv(path) else str(pick + 1)
                quote = files.quote_cell(path, cell)
                raise DerivekitError(f"{path}, line {line}, column {column!r}"
                                     + (f":{quote}" if quote else "") + " is not a finite number",
                                     hint="choose numeric columns with --columns; every cell "
                                          "must be a finite number written in at most "
                                          f"{files.MAX_CELL_CHARS} characters")
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
    from derivekit.files import finite_cell
    return finite_cell(cell) is not None
