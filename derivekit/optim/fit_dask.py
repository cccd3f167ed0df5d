"""Linear and logistic regression on a CSV past memory, on Dask (``fit --engine dask``,
``dk.minimize(…, engine="dask")``).

The CSV is read once in blocks by ``dask.dataframe``; in the same pass each block is saved
as a NumPy file in a spill folder (a later pass costs a read, not a parse: about ten times
less than Parquet through dask.dataframe here) and gives its statistics for the checks. A
:class:`StreamedObjective` then offers what :func:`derivekit.minimize` asks of any data
objective:

* the full-batch loss and gradient are one map-reduce per step: every block evaluates the
  in-memory model's own ``value_and_grad`` (:class:`LinearRegression`,
  :class:`LogisticRegression`) and returns its sums, which merge in a tree; J = ΣJ_b·m_b / m
  and ∇J = Σ∇J_b·m_b / m;
* mini-batches (``sgd``, ``minibatch``, or ``batch_size``) come from :class:`BlockBatches`:
  blocks in a seeded order, each one loaded alone and cut into batches by a seeded
  permutation of its rows. On data of one block this is exactly the in-memory engine's
  :class:`BatchSampler`, draw for draw.

The optimiser loop is :func:`minimize`'s own, so its semantics are the in-memory engine's.
Only the statistics and one block are in memory at a time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from derivekit.dask_blocks import (
    DEFAULT_BLOCKSIZE,
    Engine,
    Moments,
    block_array,
    id_columns_by_value,
    open_csv,
    tree_reduce,
)
from derivekit.errors import DerivekitError
from derivekit.optim.objectives import (
    Dataset,
    DataObjective,
    LinearRegression,
    LogisticRegression,
    Objective,
)

#: the models the dask engine fits, by name: each block runs the in-memory model's math
MODELS = {"linear": LinearRegression, "logistic": LogisticRegression}


def _array(part) -> np.ndarray:
    """A block as a float array: a spilled block's file, or an array given."""
    return np.load(part) if isinstance(part, str) else np.asarray(part, dtype=float)


def _sums(part, theta, model, keep, features):
    """One block's (m_b·J_b, m_b·∇J_b, m_b)."""
    block = _array(part)
    if not len(block):
        return 0.0, np.zeros_like(theta), 0
    loss, grad = model(Dataset(block[:, keep], block[:, -1], features)).value_and_grad(theta)
    return loss * len(block), grad * len(block), len(block)


def _add(a, b):
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def _gram(part, keep):
    """[X, 1]ᵀ[X, 1] and [X, 1]ᵀy of one block, for the exact least-squares answer."""
    block = _array(part)
    design = np.column_stack([block[:, keep], np.ones(len(block))])
    return design.T @ design, design.T @ block[:, -1], 0


def _hits(part, theta, keep):
    """Rows of one block that a logistic model classifies right (z > 0 ⇔ y = 1)."""
    block = _array(part)
    z = block[:, keep] @ theta[:-1] + theta[-1]
    return int(np.sum((z > 0) == (block[:, -1] == 1))), 0, 0


def _spill(frame, columns, path: str) -> Moments:
    """Save one CSV block's ``columns`` as a NumPy file and return its moments (the checks
    need them)."""
    block = block_array(frame, columns)
    np.save(path, block)
    return Moments.of(block)  # centres the block in place, after saving it


class StreamedObjective(Objective):
    """A linear or logistic model on data held in blocks (``parts``: NumPy block files, or
    delayed arrays, whose last column is the target and whose ``keep`` columns are the
    features); parameters ``w_<feature>`` …, then ``b``."""

    def __init__(self, model: str, parts: list, lengths: list[int], features: tuple[str, ...],
                 keep: list[int], target: str, source: str, engine: Engine,
                 spill: Path | None = None, skipped: dict[str, str] | None = None):
        if model not in MODELS:
            raise DerivekitError(f"the dask engine fits {' and '.join(MODELS)} models, not {model!r}",
                                 hint="use --model linear or --model logistic, or the numpy engine")
        self.model_name, self.model = model, MODELS[model]
        self.parts, self.lengths = parts, lengths
        self.rows = int(sum(lengths))
        self.features, self.keep, self.target = features, keep, target
        self.source, self.engine, self.spill, self.skipped = source, engine, spill, skipped or {}
        self.names = tuple(f"w_{f}" for f in features) + ("b",)
        self.loss_text, self.loss_latex = self.model.loss_text, self.model.loss_latex
        self._block: tuple[int, np.ndarray] | None = None

    # --- what minimize asks of an objective
    def default_start(self):
        return np.zeros(len(self.names))

    def value_and_grad(self, theta, rows=None):
        if rows is not None:  # a mini-batch (X, y) from BlockBatches
            return self.model(Dataset(rows[0], rows[1], self.features)).value_and_grad(theta)
        from dask import delayed
        tasks = [delayed(_sums)(part, theta, self.model, self.keep, self.features) for part in self.parts]
        (total,) = self.engine.compute(tree_reduce(tasks, _add))
        loss, grad, m = total
        return float(loss / m), grad / m

    def sampler(self, batch_size, seed):
        if batch_size is None or batch_size >= self.rows:
            return None
        if batch_size < 1:
            raise DerivekitError(f"batch_size must be at least 1, got {batch_size}")
        return BlockBatches(self, int(batch_size), seed)

    def describe(self, fmt="text"):
        blocks = f"{len(self.parts)} block{'s' if len(self.parts) > 1 else ''}"
        if self.skipped:
            from derivekit.columns import skipped_note
            blocks += "; " + skipped_note(self.skipped, "--features")
        if fmt == "latex":
            return self.loss_latex + rf",\ m = {self.rows}"
        return f"{self.loss_text}, m = {self.rows} rows of {self.source} (Dask, {blocks})"

    # --- blocks, the closing summary, cleaning up
    def block(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Block ``i`` as (X, y) in memory (the last one asked for is kept)."""
        if self._block is None or self._block[0] != i:
            part = self.parts[i]
            self._block = (i, _array(part if isinstance(part, str) else self.engine.compute(part)[0]))
        data = self._block[1]
        return data[:, self.keep], data[:, -1]

    def summary_lines(self, theta: np.ndarray) -> list[str]:
        """The exact least-squares answer (linear) or the training accuracy (logistic)."""
        from dask import delayed
        if self.model is LinearRegression:
            tasks = [delayed(_gram)(part, self.keep) for part in self.parts]
            (gram, moment, _), = self.engine.compute(tree_reduce(tasks, _add))
            exact = np.linalg.lstsq(gram, moment, rcond=None)[0]
            gap = float(np.max(np.abs(theta - exact)))
            return ["least squares (normal equations summed over the blocks): "
                    + ", ".join(f"{n} = {v:.6g}" for n, v in zip(self.names, exact))
                    + f";  max |θ − θ*| = {gap:.3g}"]
        tasks = [delayed(_hits)(part, theta, self.keep) for part in self.parts]
        (hits, _, _), = self.engine.compute(tree_reduce(tasks, _add))
        return [f"training accuracy: {hits / self.rows:.3f}"]

    def write_predictions(self, theta: np.ndarray, out: str | Path) -> Path:
        """Every row's prediction (linear: ŷ = x·w + b; logistic: P(y = 1) = σ(x·w + b)) into
        the new CSV file ``out``, block by block."""
        from derivekit.dask_blocks import output_path
        from derivekit.optim.objectives import _sigmoid
        path = output_path(out)
        header = "prediction" if self.model is LinearRegression else "probability"
        with path.open("w", encoding="utf-8") as handle:
            handle.write(header + "\n")
            for i in range(len(self.parts)):
                X, _ = self.block(i)
                z = X @ theta[:-1] + theta[-1]
                np.savetxt(handle, z if self.model is LinearRegression else _sigmoid(z), fmt="%.17g")
        return path

    def close(self) -> None:
        self.engine.close()
        if self.spill is not None:
            shutil.rmtree(self.spill, ignore_errors=True)
            self.spill = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BlockBatches:
    """Mini-batches drawn from blocks with a seed: blocks in a seeded order each epoch
    (``default_rng([seed, 1])``), one block in memory at a time, its rows in a seeded
    permutation (``default_rng(seed)``) cut into ``batch_size`` pieces (the last one of a
    block shorter). With a single block it draws exactly what :class:`BatchSampler` draws."""

    def __init__(self, objective: StreamedObjective, batch_size: int, seed):
        self.objective, self.batch_size = objective, batch_size
        self.rng = np.random.default_rng(seed)
        self.block_rng = np.random.default_rng(None if seed is None else [seed, 1])
        self.blocks = [i for i, m in enumerate(objective.lengths) if m]
        self.queue: list[int] = []
        self.epoch = -1
        self._next_block()

    def _next_block(self) -> None:
        if not self.queue:
            self.epoch += 1
            self.queue = ([int(i) for i in self.block_rng.permutation(self.blocks)]
                          if len(self.blocks) > 1 else list(self.blocks))
        self.X, self.y = self.objective.block(self.queue.pop(0))
        self.order = self.rng.permutation(len(self.y))
        self.position = 0

    def __call__(self) -> tuple[np.ndarray, np.ndarray]:
        if self.position >= len(self.y):
            self._next_block()
        batch = self.order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        return self.X[batch], self.y[batch]


# --------------------------------------------------------------------------- building one

def csv_objective(path: str | Path, model: str = "linear", target: str = "y", features=None, *,
                  scheduler: Any = None, blocksize: int | str = DEFAULT_BLOCKSIZE,
                  spill_dir: str | Path | None = None) -> StreamedObjective:
    """A :class:`StreamedObjective` for ``model`` on the CSV at ``path``: ``target`` and
    ``features`` name its columns (features default to every other column, ID-like ones
    skipped). The CSV is parsed once into NumPy block files under ``spill_dir`` (default: a
    temporary folder, removed by ``close()``; on a cluster of several machines give a folder
    that every worker sees). Close the objective when done (or use it in a ``with`` block)."""
    if model not in MODELS:
        raise DerivekitError(f"the dask engine fits {' and '.join(MODELS)} models, not {model!r}",
                             hint="use --model linear or --model logistic, or the numpy engine")
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    if features and target in features:
        raise DerivekitError(f"the target {target!r} is also listed as a feature",
                             hint="leave it out of --features")
    table = open_csv(path, list(features) if features else None, exclude=(target,),
                     blocksize=blocksize, option="--features", also=(target,))
    engine = Engine(scheduler)
    spill = Path(tempfile.mkdtemp(prefix="derivekit-dask-", dir=spill_dir))
    try:
        from dask import delayed
        parts = [str(spill / f"block{i:06d}.npy") for i in range(table.blocks)]
        saved = [delayed(_spill)(block, table.columns, part)
                 for block, part in zip(table.frame.to_delayed(), parts)]
        stats, lengths = engine.compute(tree_reduce(saved, Moments.merge), [s.n for s in saved])
        return _objective(model, table, stats, list(lengths), parts, target, engine, spill)
    except BaseException:
        engine.close()
        shutil.rmtree(spill, ignore_errors=True)
        raise


def _objective(model, table, stats, lengths, parts, target, engine, spill) -> StreamedObjective:
    columns = table.columns  # the features, then the target
    bad = [f"{c} ({k})" for c, k in zip(columns, stats.nonfinite) if k]
    if bad:
        raise DerivekitError(f"{table.path} has empty, NaN or infinite cells in column {', '.join(bad)}",
                             hint="drop or fill them first")
    if stats.n < 1:
        raise DerivekitError(f"{table.path} has a header but no rows of data")
    by_value = id_columns_by_value(table, stats, columns=len(columns) - 1)  # not the target
    keep = [j for j, c in enumerate(columns[:-1]) if c not in by_value]
    if not keep:
        raise DerivekitError(f"{table.path} has no feature columns left", hint="choose them with --features")
    if model == "logistic" and not (stats.integral[-1] and stats.low[-1] >= 0 and stats.high[-1] <= 1):
        raise DerivekitError(f"logistic regression needs a 0/1 target; {target!r} has other values",
                             hint="use --model linear for a numeric target")
    features = tuple(columns[j] for j in keep)
    return StreamedObjective(model, parts, lengths, features, keep, target, str(table.path), engine,
                             spill, {**table.named_ids, **by_value})


def dataset_objective(objective: DataObjective, *, scheduler: Any = None,
                      rows_per_block: int | None = None) -> StreamedObjective:
    """The dask engine on an in-memory data objective (its rows split into blocks of
    ``rows_per_block``, default: one block per 100 000 rows): what ``dk.minimize(…,
    engine="dask")`` does with a :class:`LinearRegression` or :class:`LogisticRegression`."""
    from dask import delayed
    model = next((name for name, cls in MODELS.items() if type(objective) is cls), None)
    if model is None:
        raise DerivekitError(f"the dask engine runs linear and logistic regression, not "
                             f"{type(objective).__name__}", hint="use engine='numpy'")
    table = np.column_stack([objective.X, objective.y])
    size = rows_per_block or 100_000
    blocks = [table[i:i + size] for i in range(0, len(table), size)]
    engine = Engine(scheduler)
    parts = [delayed(block, traverse=False) for block in blocks]
    return StreamedObjective(model, parts, [len(b) for b in blocks], objective.data.features,
                             list(range(objective.X.shape[1])), objective.data.target,
                             objective.data.source or "data", engine)


def streamed(objective: Any, engine: str, scheduler: Any = None) -> StreamedObjective:
    """What ``dk.minimize(objective, engine=…, scheduler=…)`` runs on."""
    if engine not in ("numpy", "dask"):
        raise DerivekitError(f"unknown engine {engine!r}", hint="use engine='numpy' or engine='dask'")
    if engine == "numpy":
        raise DerivekitError("scheduler= belongs to the dask engine", hint="add engine='dask'")
    if isinstance(objective, StreamedObjective):
        return objective
    if isinstance(objective, DataObjective):
        return dataset_objective(objective, scheduler=scheduler)
    raise DerivekitError("engine='dask' runs data objectives: linear or logistic regression on a CSV",
                         hint="build one with derivekit.optim.fit_dask.csv_objective('data.csv', "
                              "'linear', target='y'); a formula is minimised in memory")
