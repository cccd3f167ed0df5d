"""A CSV read in blocks with ``dask.dataframe``, for the ``dask`` engine of ``pca`` and ``fit``.

Data past memory is Dask's job, not ours: this module only opens the CSV lazily with the
NumPy engine's column rules, runs Dask computations on the chosen scheduler, and holds the
one-pass statistics (count, mean, scatter matrix) that both engines' users need, merged
block by block in a tree.

It sits at the top level because two wings read CSV blocks with it: ``linalg/pca_dask.py``
and ``optim/fit_dask.py``; linalg may not import optim (nor numeric), and optim may not
import linalg, so the one reader lives below both. It imports only ``errors``, ``files`` (the
cell rule) and ``columns`` (the ID-column rules) of derivekit. Dask is an optional extra (``pip install "derivekit[dask]"``).

Column rules (as the NumPy engine): a first row with a non-number is the header; without
one, columns are named 1, 2, …. Given columns are used as given. Otherwise every column is
used except the excluded ones (the target of a fit) and ID-like columns, which are skipped
and reported, by the NumPy engine's rules (:mod:`derivekit.columns`): a header named like an
identifier (``id``, ``index``, ``row``, ``*_id``), or integers k, k+1, …, k+n−1, one per row,
found from the statistics pass. Empty, NaN and infinite cells are refused, as non-numbers are.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from derivekit.columns import named_like_an_id
from derivekit.errors import DerivekitError
from derivekit.files import finite_cell

#: bytes of CSV text per block (about 8 000 rows of 21 numbers). Parsing a block takes several
#: times its size while it runs (text, tokens, columns, array, the thread's allocator), so
#: this keeps the blocks in flight near 40 MB whatever the file's size (4 MB blocks: 60 MB,
#: 16 MB blocks: 160 MB, measured); the per-block overhead is still small
DEFAULT_BLOCKSIZE = 2_000_000
#: threads of Dask's local scheduler: more cores would hold more blocks in memory at once
LOCAL_THREADS = max(1, min(4, os.cpu_count() or 1))
#: blocks merged per node of the reduction tree
FAN_IN = 8
#: a scheduler address as distributed writes it: [scheme://]host[:port]
_ADDRESS = re.compile(r"^((tcp|tls|ws|wss|ucx|inproc)://)?[A-Za-z0-9_.\-\[\]:%]+(:\d+)?/?$")
#: what pandas says about a cell or a row it cannot read (other errors are not the data's)
_PARSE_ERRORS = ("could not convert", "Unable to parse", "Error tokenizing", "Mismatched dtypes",
                 "invalid literal", "cannot safely convert")
INSTALL_HINT = 'install the extra: pip install "derivekit[dask]"'


def require_dask():
    """``dask`` and ``dask.dataframe``, or a DerivekitError saying how to install them."""
    try:
        import dask
        import dask.dataframe  # noqa: F401
    except ImportError:
        raise DerivekitError("the dask engine needs dask[dataframe], which is not installed",
                             hint=INSTALL_HINT + ", or leave out --engine dask") from None
    return dask


def looks_like_id(name: str) -> str | None:
    """Why a column header names an identifier rather than a measurement, or None (the
    NumPy engine's rule, :func:`derivekit.columns.named_like_an_id`)."""
    return named_like_an_id(name, np.empty(0))


# --------------------------------------------------------------------------- the scheduler

class Engine:
    """Where Dask computations run: Dask's local threaded scheduler (``address=None``) or
    an existing cluster (a scheduler address such as ``tcp://127.0.0.1:8786``, or a
    ``distributed.Client``). A progress bar is drawn on stderr for computations longer than
    a second when stderr is a terminal, and never when it is piped."""

    def __init__(self, address: Any = None, progress: bool = True):
        self.dask = require_dask()
        self.client = None
        self._own_client = False
        self.progress = progress
        if address is None:
            self.where = "Dask's local threaded scheduler"
            return
        try:
            from distributed import Client
        except ImportError:
            raise DerivekitError("--scheduler needs dask's distributed package, which is not "
                                 "installed", hint=INSTALL_HINT) from None
        if isinstance(address, Client):
            self.client = address
        else:
            if not _ADDRESS.match(str(address)):  # checked here: a Client that fails to parse
                raise DerivekitError(  # its address still hangs at exit, closing itself
                    f"{address!r} is not a Dask scheduler address",
                    hint="write it as tcp://HOST:PORT, e.g. --scheduler tcp://127.0.0.1:8786")
            try:
                self.client = Client(str(address), timeout="10s", set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise DerivekitError(f"cannot reach a Dask scheduler at {address!r} ({exc})",
                                     hint="start one with `dask scheduler` and workers with "
                                          "`dask worker ADDRESS`, or leave out --scheduler to "
                                          "run on this machine") from None
            self._own_client = True
        self.where = f"the Dask cluster at {self.client.scheduler.address}"

    def compute(self, *collections):
        """``dask.compute`` on this engine's scheduler; a bad cell becomes a DerivekitError."""
        kwargs = self.compute_kwargs()
        with self._progress_bar():
            try:
                return self.dask.compute(*collections, **kwargs)
            except ValueError as exc:  # pandas: a cell that is not a number, a ragged row
                if not any(marker in str(exc) for marker in _PARSE_ERRORS):
                    raise
                raise DerivekitError(f"cannot read the CSV: {_first_line(exc)}",
                                     hint="give every row the same fields and choose numeric "
                                          "columns (--columns, --features)") from None

    def compute_kwargs(self) -> dict:
        if self.client is not None:
            return {"scheduler": self.client}
        return {"scheduler": "threads", "num_workers": LOCAL_THREADS}

    def _progress_bar(self):
        if not (self.progress and self.client is None and _is_terminal(sys.stderr)):
            return contextlib.nullcontext()
        from dask.diagnostics import ProgressBar
        return ProgressBar(minimum=1.0, out=sys.stderr)

    def close(self) -> None:
        if self._own_client and self.client is not None:
            self.client.close()
            self.client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _is_terminal(stream) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def output_path(out: str | Path) -> Path:
    """``out`` as a new CSV file to write per-row results into, checked before any work:
    an existing file is never written over, and the folder must exist."""
    path = Path(out)
    if path.suffix.lower() != ".csv":
        raise DerivekitError(f"per-row results are written as CSV, not to {path.name!r}",
                             hint="name the file .csv")
    if path.exists() or path.is_symlink():
        raise DerivekitError(f"{path} exists; it is not written over",
                             hint="remove it or give another --out name")
    if not path.parent.is_dir():
        raise DerivekitError(f"no folder {path.parent} to write {path.name} into",
                             hint="create the folder first, or give another --out path")
    return path


# --------------------------------------------------------------------------- the table

@dataclass
class CsvTable:
    """A CSV opened lazily: ``frame`` is a dask DataFrame of all its columns, in blocks of
    about ``blocksize`` bytes, ``columns`` (float64) those used, in order (:func:`block_array`
    takes them from a block); ``header`` says whether the first row named them; ``named_ids``
    are the columns skipped for their ID-like names, with the reason."""

    path: Path
    all_columns: tuple[str, ...]
    columns: tuple[str, ...]
    header: bool
    frame: Any
    named_ids: dict[str, str]
    chosen: bool  # columns were given, so no ID-like column is skipped by its values

    @property
    def blocks(self) -> int:
        return self.frame.npartitions

    def head(self, rows: int) -> np.ndarray:
        """The first ``rows`` rows of the used columns (reads the first block only)."""
        return block_array(self.frame.head(rows, npartitions=1, compute=True), self.columns)


def block_array(frame, columns) -> np.ndarray:
    """The used ``columns`` of one block, as a new float array."""
    return frame[list(columns)].to_numpy(dtype=float, copy=True)


def _is_number(cell: str) -> bool:
    return finite_cell(cell) is not None  # the NumPy engine's rule, so a header is read alike


def _first_row(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.reader(handle):
            if any(cell.strip() for cell in row):
                return [cell.strip() for cell in row]
    raise DerivekitError(f"{path} is empty", hint="give a CSV with one sample per row")


def open_csv(path: str | Path, columns: list[str] | None = None, exclude: tuple[str, ...] = (),
             blocksize: int | str = DEFAULT_BLOCKSIZE, option: str = "--columns",
             also: tuple[str, ...] = ()) -> CsvTable:
    """Open ``path`` lazily with the module's column rules; ``option`` is the flag that
    chooses columns, for the hints. ``also`` (a fit's target) is appended to the chosen
    columns, never skipped."""
    require_dask()
    import dask.dataframe as dd
    path = Path(path)
    if not path.is_file():
        raise DerivekitError(f"no such file: {path}", hint="check the path given to --data")
    try:
        first = _first_row(path)
    except UnicodeDecodeError:
        raise DerivekitError(f"{path} is not UTF-8 text", hint="save the CSV as UTF-8") from None
    header = not all(_is_number(cell) for cell in first)
    names = tuple(first) if header else tuple(str(i + 1) for i in range(len(first)))
    if len(set(names)) != len(names):
        raise DerivekitError(f"{path} names a column twice", hint="give every column its own name")
    absent = [c for c in also if c not in names]
    if absent:
        raise DerivekitError(f"{path} has no column {', '.join(map(repr, absent))}",
                             hint=f"its columns are: {', '.join(names)}")
    if columns:
        missing = [c for c in columns if c not in names]
        if missing:
            raise DerivekitError(f"{path} has no column {', '.join(map(repr, missing))}",
                                 hint=f"its columns are: {', '.join(names)}")
        picked, named_ids = tuple(columns), {}
    else:
        candidates = [c for c in names if c not in exclude]
        named_ids = {c: looks_like_id(c) for c in candidates if header and looks_like_id(c)}
        picked = tuple(c for c in candidates if c not in named_ids)
    if not picked:
        raise DerivekitError(f"{path} has no columns left to use", hint=f"choose them with {option}")
    picked = picked + tuple(c for c in also if c not in picked)
    # Every column is read (no usecols): with usecols pandas silently drops a row's extra
    # fields, where reading them all makes a ragged row an error. Unused columns stay text.
    try:  # dask reads a sample of the first block now, the rest when computing
        frame = dd.read_csv(str(path), blocksize=blocksize, header=0 if header else None,
                            names=list(names), skip_blank_lines=True, encoding="utf-8-sig",
                            dtype={c: "float64" if c in picked else "object" for c in names})
    except (ValueError, TypeError) as exc:
        raise DerivekitError(f"cannot read {path} as numbers: {_first_line(exc.__cause__ or exc)}",
                             hint=f"choose numeric columns with {option}") from None
    return CsvTable(path, names, picked, header, frame, named_ids, bool(columns))


# --------------------------------------------------------------------------- one-pass statistics

@dataclass
class Moments:
    """Count, mean and scatter matrix M = Σ (x − mean)(x − mean)ᵀ of a block of rows, with
    what the column rules need: non-finite cells per column, whether each column holds
    integers only, and its minimum and maximum."""

    n: int
    mean: np.ndarray
    scatter: np.ndarray
    nonfinite: np.ndarray
    integral: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, block: np.ndarray) -> "Moments":
        """The moments of ``block`` (rows × columns); it is centred in place, so pass a copy."""
        block = np.asarray(block, dtype=float)
        d = block.shape[1]
        nonfinite = np.array([np.count_nonzero(~np.isfinite(block[:, j])) for j in range(d)])
        if not len(block) or nonfinite.any():
            zeros = np.zeros(d)
            return cls(len(block), zeros, np.zeros((d, d)), nonfinite, np.ones(d, bool),
                       np.full(d, np.inf), np.full(d, -np.inf))
        # column by column, so that no temporary is the size of the block
        integral = np.array([bool(np.all(np.mod(block[:, j], 1.0) == 0)) for j in range(d)])
        low, high = block.min(axis=0), block.max(axis=0)
        mean = block.mean(axis=0)
        block -= mean
        return cls(len(block), mean, block.T @ block, nonfinite, integral, low, high)

    def merge(self, other: "Moments") -> "Moments":
        """Chan, Golub and LeVeque's pairwise update: with δ = mean_b − mean_a and
        n = n_a + n_b, mean = mean_a + δ·n_b/n and M = M_a + M_b + δδᵀ·n_a·n_b/n. Exact in
        exact arithmetic, and stable: no sum of squares about zero is ever subtracted."""
        n = self.n + other.n
        if self.n and other.n:
            delta = other.mean - self.mean
            mean = self.mean + delta * (other.n / n)
            scatter = self.scatter + other.scatter + np.outer(delta, delta) * (self.n * other.n / n)
        else:  # an empty block changes nothing
            mean, scatter = (self.mean, self.scatter) if self.n else (other.mean, other.scatter)
        return Moments(n, mean, scatter, self.nonfinite + other.nonfinite,
                       self.integral & other.integral, np.minimum(self.low, other.low),
                       np.maximum(self.high, other.high))

    def row_numbers(self) -> np.ndarray:
        """Columns whose values look like the integers k, k+1, …, k+n−1, one per row (the
        NumPy engine's rule, :func:`derivekit.columns.numbers_the_rows`): integers spanning
        exactly n−1 with the run's mean and sum of squares, which n integers in that range
        reach only by taking each value once."""
        n = self.n
        if n < 3:
            return np.zeros_like(self.integral)
        run = self.integral & (self.high - self.low == n - 1)
        mean_ok = np.abs(self.mean - (self.low + self.high) / 2) <= 1e-9 * np.maximum(1, np.abs(self.high))
        spread = n * (n * n - 1) / 12  # Σ (x − mean)² of a run of n consecutive integers
        spread_ok = np.abs(np.diag(self.scatter) - spread) <= 1e-9 * spread
        return run & mean_ok & spread_ok


def _moments_of_frame(frame, columns) -> Moments:
    return Moments.of(block_array(frame, columns))


def tree_reduce(parts: list, merge: Callable):
    """One delayed value merging ``parts`` (delayed values) :data:`FAN_IN` at a time."""
    from dask import delayed

    def merge_all(*items):
        out = items[0]
        for item in items[1:]:
            out = merge(out, item)
        return out

    level = list(parts)
    while len(level) > 1:
        level = [delayed(merge_all)(*level[i:i + FAN_IN]) for i in range(0, len(level), FAN_IN)]
    return level[0]


def moments(table: CsvTable, engine: Engine) -> Moments:
    """The table's :class:`Moments` in one pass over its blocks (a tree reduction)."""
    from dask import delayed
    parts = [delayed(_moments_of_frame)(block, table.columns) for block in table.frame.to_delayed()]
    (result,) = engine.compute(tree_reduce(parts, Moments.merge))
    check_finite(table, result)
    return result


def check_finite(table: CsvTable, stats: Moments) -> None:
    bad = [f"{c} ({k})" for c, k in zip(table.columns, stats.nonfinite) if k]
    if bad:
        raise DerivekitError(f"{table.path} has empty, NaN or infinite cells in column "
                             f"{', '.join(bad)}", hint="drop or fill them first")
    if stats.n < 1:
        raise DerivekitError(f"{table.path} has no rows of data")


def id_columns_by_value(table: CsvTable, stats: Moments, columns: int | None = None) -> dict[str, str]:
    """{name: reason} for the columns (the first ``columns`` of them) that hold row numbers,
    skipped unless the columns were chosen."""
    if table.chosen:
        return {}
    flags = stats.row_numbers()
    return {c: f"its values are the integers {int(stats.low[j])}..{int(stats.high[j])}, one per row"
            for j, c in enumerate(table.columns[:columns]) if flags[j]}
