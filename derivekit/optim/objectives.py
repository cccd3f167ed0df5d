"""What :func:`derivekit.minimize` descends: symbolic objectives and objectives on data.

* :class:`SymbolicObjective`: any expression in several variables (``x^2 + 10*y^2``,
  Rosenbrock); its gradient is derived by derivekit's fast path and compiled together with
  the loss, sharing common subexpressions.
* :class:`LinearRegression` (mean squared error, as ``torch.nn.MSELoss``) and
  :class:`LogisticRegression` (binary cross-entropy on σ(z), as ``torch.nn.BCEWithLogitsLoss``)
  on a :class:`Dataset` read from CSV (:func:`load_csv`) or made by the seeded generator
  :func:`make_dataset`. Parameters are one weight per feature, ``w_<feature>``, then ``b``.

Every objective offers ``value(θ)``, ``value_and_grad(θ, rows=None)`` (``rows``: the
indices of a mini-batch), ``start_vector(start)``, ``sampler(batch_size, seed)`` and
``describe(fmt)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from derivekit.errors import DerivekitError

__all__ = ["as_objective", "SymbolicObjective", "LinearRegression", "LogisticRegression", "Dataset",
           "load_csv", "make_dataset", "BatchSampler", "MODELS"]


class Objective:
    """The shared protocol. Subclasses set ``names`` and implement ``value_and_grad``."""

    names: tuple[str, ...] = ()

    def value(self, theta: np.ndarray) -> float:
        return self.value_and_grad(theta)[0]

    def value_and_grad(self, theta, rows=None) -> tuple[float, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def value_grid(self, *axes: np.ndarray) -> np.ndarray:
        """J on a grid of 2-D points (``axes``: arrays of one shape, one per parameter)."""
        flat = np.stack([np.ravel(a) for a in axes], axis=1)
        with np.errstate(all="ignore"):
            return np.array([self.value(p) for p in flat]).reshape(np.shape(axes[0]))

    def default_start(self) -> np.ndarray | None:
        return None

    def start_vector(self, start) -> np.ndarray:
        """``start`` (dict by name, sequence in ``names`` order, or None) as a float vector."""
        names = self.names
        # the hint serves both doors: the command line (--start x=1,y=1) and Python (start={...})
        example = ("{" + ", ".join(f"'{n}': 1" for n in names[:4]) + "}"
                   + f" (on the command line: --start {','.join(f'{n}=1' for n in names[:4])})")
        if start is None:
            default = self.default_start()
            if default is None:
                raise DerivekitError(f"a start point is needed for {', '.join(names)}",
                                     hint=f"pass start={example}")
            return default
        if isinstance(start, dict):
            given = {str(k): v for k, v in start.items()}
            missing = [n for n in names if n not in given]
            extra = [k for k in given if k not in names]
            if extra:
                raise DerivekitError(f"the start point names {', '.join(extra)}, which the objective does not "
                                     f"have", hint=f"its variables are {', '.join(names)}")
            if missing:
                default = self.default_start()
                if default is None:
                    raise DerivekitError(f"the start point has no value for {', '.join(missing)}",
                                         hint=f"pass start={example}")
                given.update({n: default[names.index(n)] for n in missing})
            values = [given[n] for n in names]
        else:
            values = list(np.ravel(np.asarray(start, dtype=float)))
            if len(values) != len(names):
                raise DerivekitError(f"the start point has {len(values)} values, the objective "
                                     f"{len(names)} variables ({', '.join(names)})", hint=f"pass start={example}")
        try:
            vector = np.array([float(v) for v in values])
        except (TypeError, ValueError) as exc:
            raise DerivekitError(f"the start point must be numbers ({exc})", hint=f"pass start={example}") from None
        if not np.all(np.isfinite(vector)):
            raise DerivekitError("the start point must be finite numbers", hint=f"pass start={example}")
        return vector

    def sampler(self, batch_size: int | None, seed: int):
        """A mini-batch index source, or None for full-batch gradients."""
        return None

    def describe(self, fmt: str = "text") -> str:  # pragma: no cover - abstract
        raise NotImplementedError


# --- symbolic objectives ------------------------------------------------------------------------

def _compile_objective(expr, variables):
    """(value_and_grad(θ) -> (float, ndarray), value_grid(*axes) -> ndarray, gradient exprs).

    The gradient comes from derivekit's symengine fast path; loss and gradient are compiled
    into one function (``math`` backend, one point) so they share subexpressions, and the loss
    alone into a NumPy function for grids."""
    from derivekit.calculus.fastdiff import gradient_vector
    from derivekit.numeric.compiled import compile as compile_expr
    gradient = list(gradient_vector(expr, variables))
    point_fn = compile_expr([expr, *gradient], variables, backend="math", cse=True).math_function
    grid_fn = compile_expr(expr, variables, backend="numpy")

    def value_and_grad(theta, rows=None):
        values = point_fn(*theta.tolist())
        return float(values[0]), np.array(values[1:], dtype=float)

    return value_and_grad, grid_fn, gradient


class SymbolicObjective(Objective):
    """J(θ) given as an expression; ``wrt`` fixes the variables' order (default: by name)."""

    def __init__(self, expr, wrt=None):
        import sympy as sp

        from derivekit.numeric.compiled import as_expr, as_symbols, ordered_args
        expr = as_expr(expr, "objective")
        if not isinstance(expr, sp.Expr):
            raise DerivekitError(f"the objective must be a scalar expression, got {type(expr).__name__}",
                                 hint="e.g. minimize('x^2 + 10*y^2', start={'x': 1, 'y': 1})")
        variables = list(as_symbols(wrt, [expr]) if wrt is not None else ordered_args(expr))
        left = sorted(s.name for s in expr.free_symbols - set(variables))
        if left:
            raise DerivekitError(f"the objective also depends on {', '.join(left)}",
                                 hint="list every variable in wrt, or substitute numbers for constants")
        if not variables:
            raise DerivekitError("the objective has no variables to descend on",
                                 hint="write it in terms of variables, e.g. 'x^2 + 10*y^2'")
        self.expr = expr
        self.variables = variables
        self.names = tuple(s.name for s in variables)
        self.value_and_grad, self._grid, self.gradient = _compile_objective(expr, variables)

    def value(self, theta):
        return self.value_and_grad(theta)[0]

    def value_grid(self, *axes):
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(self._grid(*axes), dtype=float), np.shape(axes[0]))

    def describe(self, fmt="text"):
        from derivekit.render.printing import to_latex, to_text
        return to_latex(self.expr) if fmt == "latex" else to_text(self.expr)


# --- data ---------------------------------------------------------------------------------------

@dataclass
class Dataset:
    """Features ``X`` (m, d), target ``y`` (m,), the feature names and where it came from."""

    X: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]
    target: str = "y"
    source: str = ""
    true_params: dict[str, float] = field(default_factory=dict)
    #: what the reader decided on the user's behalf (ID-like columns skipped)
    notes: tuple[str, ...] = ()


def load_csv(path, target: str, features=None, *, skip_ids: bool = True) -> Dataset:
    """Read a CSV file with a header row; ``target`` and ``features`` name its columns
    (``features`` defaults to every other column, less the columns that look like row IDs
    (:mod:`derivekit.columns`) when ``skip_ids``; ``notes`` then says which). The file is
    streamed with the row and byte caps of :mod:`derivekit.limits` (``MAX_CSV_ROWS``,
    ``MAX_CSV_BYTES``)."""
    from derivekit import files, limits
    path = Path(path)
    hint = "check the path, or leave --data out to use the built-in dataset"
    rows = files.csv_rows(path, max_rows=limits.MAX_CSV_ROWS, header_rows=1, hint=hint)
    first = next(rows, None)
    header = [h.strip() for h in first[1]] if first else []
    if not header:
        raise DerivekitError(f"{path} is empty", hint="the first line must name the columns, e.g. x1,x2,y")
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    chosen = bool(features)
    features = list(features) if features else [h for h in header if h != target]
    for column in [target, *features]:
        if column not in header:
            listed = ("its columns are " + ", ".join(header) if files.looks_like_csv(path)
                      else f"its first line has {len(header)} field(s); is it a CSV file?")
            raise DerivekitError(f"{path} has no column {column!r}", hint=listed)
    index = {name: header.index(name) for name in header}
    wanted = [index[name] for name in [*features, target]]
    values: list[list[float]] = []
    for line, row in rows:
        parsed = []
        for c, i in enumerate(wanted):
            cell = row[i].strip() if i < len(row) else ""
            number = files.finite_cell(cell)
            if number is None:
                name = [*features, target][c]
                quote = files.quote_cell(path, cell)
                raise DerivekitError(f"{path}, line {line}, column {name!r}"
                                     + (f":{quote}" if quote else "") + " is not a finite number",
                                     hint="every feature and target cell must be a finite number")
            parsed.append(number)
        values.append(parsed)
    if not values:
        raise DerivekitError(f"{path} has a header but no rows of data")
    table = np.array(values, dtype=float)
    notes: tuple[str, ...] = ()
    if skip_ids and not chosen:
        from derivekit.columns import id_columns, skipped_note
        skipped = id_columns(features, table[:, :-1])
        if skipped and len(skipped) < len(features):
            keep = [j for j, name in enumerate(features) if name not in skipped] + [len(features)]
            table, features = table[:, keep], [name for name in features if name not in skipped]
            notes = (skipped_note(skipped, "--features"),)
    return Dataset(table[:, :-1], table[:, -1], tuple(features), target, str(path), notes=notes)


#: built-in dataset kinds, and the one each model fits
DATASETS = ("linear", "logistic", "nonlinear")
DATASET_FOR_MODEL = {"linear": "linear", "logistic": "logistic", "mlp": "nonlinear"}


def make_dataset(kind: str = "linear", samples: int = 200, features: int = 2, noise: float = 0.1,
                 seed: int = 0) -> Dataset:
    """A seeded synthetic dataset: x ~ N(0, 1), z = x·w + b with w = (2, −3, 1, −1, …)/…
    and b = 0.5. linear: y = z + noise·N(0, 1); logistic: y ~ Bernoulli(σ(z));
    nonlinear: y = sin(z) + noise·N(0, 1) (for the MLP)."""
    if kind not in DATASETS:
        raise DerivekitError(f"unknown dataset kind {kind!r}", hint="use " + ", ".join(DATASETS))
    if samples < 2 or features < 1:
        raise DerivekitError("the built-in dataset needs at least 2 samples and 1 feature")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, features))
    w = np.array([(2.0, -3.0, 1.0, -1.0)[i % 4] / (1 + i // 4) for i in range(features)])
    b = 0.5
    z = X @ w + b
    if kind == "logistic":
        y = (rng.random(samples) < _sigmoid(z)).astype(float)
    else:
        y = (z if kind == "linear" else np.sin(z)) + noise * rng.standard_normal(samples)
    names = tuple(f"x{i + 1}" for i in range(features))
    truth = {**{f"w_{n}": float(v) for n, v in zip(names, w)}, "b": b} if kind != "nonlinear" else {}
    return Dataset(X, y, names, "y", f"built-in {kind} dataset (seed {seed})", truth)


class BatchSampler:
    """Mini-batches of row indices: a seeded permutation per epoch, cut into ``batch_size``
    pieces (the last one shorter, as torch's DataLoader with ``shuffle=True``)."""

    def __init__(self, rows: int, batch_size: int, seed: int):
        self.rows, self.batch_size = rows, batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(rows)
        self.position = 0
        self.epoch = 0

    def __call__(self) -> np.ndarray:
        if self.position >= self.rows:
            self.order = self.rng.permutation(self.rows)
            self.position = 0
            self.epoch += 1
        batch = self.order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        return batch


def _sigmoid(z):
    from derivekit.parsing.functions import NUMPY_IMPLEMENTATIONS
    return NUMPY_IMPLEMENTATIONS["sigmoid"](z)


class DataObjective(Objective):
    """A model on a :class:`Dataset` with parameters ``w_<feature>`` … and ``b``."""

    loss_text = ""
    loss_latex = ""

    def __init__(self, data: Dataset):
        X, y = np.asarray(data.X, dtype=float), np.asarray(data.y, dtype=float)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise DerivekitError(f"X must be (rows, features) and y (rows,), got {X.shape} and {y.shape}")
        self.data, self.X, self.y = data, X, y
        self.names = tuple(f"w_{f}" for f in data.features) + ("b",)

    def default_start(self):
        return np.zeros(len(self.names))

    def sampler(self, batch_size, seed):
        if batch_size is None or batch_size >= len(self.y):
            return None
        if batch_size < 1:
            raise DerivekitError(f"batch_size must be at least 1, got {batch_size}")
        return BatchSampler(len(self.y), int(batch_size), seed)

    def _rows(self, rows):
        return (self.X, self.y) if rows is None else (self.X[rows], self.y[rows])

    def describe(self, fmt="text"):
        m = len(self.y)
        if fmt == "latex":
            return self.loss_latex + rf",\ m = {m}"
        return f"{self.loss_text}, m = {m} rows of {self.data.source or 'data'}"


class LinearRegression(DataObjective):
    """J(w, b) = (1/m)·Σᵢ (xᵢ·w + b − yᵢ)²  (mean squared error, as torch.nn.MSELoss);
    ∇_w J = (2/m)·Xᵀr,  ∂J/∂b = (2/m)·Σᵢ rᵢ  with residuals r = Xw + b − y."""

    loss_text = "J(w, b) = (1/m)·Σᵢ (xᵢ·w + b − yᵢ)²"
    loss_latex = r"\frac{1}{m}\sum_{i} (x_i^\top w + b - y_i)^{2}"

    def value_and_grad(self, theta, rows=None):
        X, y = self._rows(rows)
        residual = X @ theta[:-1]
        residual += theta[-1] - y
        scale = 2.0 / len(y)
        grad = np.empty_like(theta)
        grad[:-1] = residual @ X
        grad[-1] = residual.sum()
        grad *= scale
        return float(residual @ residual) / len(y), grad

    def least_squares(self) -> np.ndarray:
        """The exact minimiser (``numpy.linalg.lstsq`` on [X, 1])."""
        design = np.column_stack([self.X, np.ones(len(self.y))])
        return np.linalg.lstsq(design, self.y, rcond=None)[0]


class LogisticRegression(DataObjective):
    """J(w, b) = (1/m)·Σᵢ [log(1 + e^{zᵢ}) − yᵢzᵢ], zᵢ = xᵢ·w + b  (binary cross-entropy of
    σ(z), as torch.nn.BCEWithLogitsLoss);  ∇_w J = (1/m)·Xᵀ(σ(z) − y),  ∂J/∂b = mean(σ(z) − y)."""

    loss_text = "J(w, b) = (1/m)·Σᵢ [log(1 + e^zᵢ) − yᵢ·zᵢ], zᵢ = xᵢ·w + b"
    loss_latex = r"\frac{1}{m}\sum_{i} \left[\log(1 + e^{z_i}) - y_i z_i\right],\ z_i = x_i^\top w + b"

    def __init__(self, data: Dataset):
        super().__init__(data)
        if not np.all((self.y == 0) | (self.y == 1)):
            raise DerivekitError(f"logistic regression needs a 0/1 target; {data.target!r} has other values",
                                 hint="use --model linear for a numeric target")

    def value_and_grad(self, theta, rows=None):
        X, y = self._rows(rows)
        z = X @ theta[:-1] + theta[-1]
        loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
        error = _sigmoid(z) - y
        grad = np.empty_like(theta)
        grad[:-1] = error @ X
        grad[-1] = error.sum()
        grad /= len(y)
        return loss, grad


class MLPRegression(DataObjective):
    """A one-hidden-layer network x → linear:H → activation → linear:1 with the mean squared
    error of :mod:`derivekit.matrix.networks` (J = (1/2m)·Σᵢ (ŷᵢ − yᵢ)²), whose backprop derives and
    compiles the loss and every parameter gradient. Parameters ``W1[i,j]``, ``b1[i]``,
    ``W2[0,j]``, ``b2``; they start at seeded random values (N(0, 1/fan-in) weights, zero
    biases), since all-zero weights would keep the hidden units identical."""

    def __init__(self, data: Dataset, hidden: int = 8, activation: str = "tanh", seed: int = 0):
        super().__init__(data)
        from derivekit.matrix.networks import ACTIVATIONS
        if activation not in ACTIVATIONS or hidden < 1:
            raise DerivekitError(f"cannot build an MLP with {hidden} hidden units of {activation!r}",
                                 hint="use --hidden ≥ 1 and an activation among " + ", ".join(ACTIVATIONS))
        d = self.X.shape[1]
        self.spec = f"x:{d} -> linear:{hidden} -> {activation} -> linear:1 -> mse"
        self.shapes = {"W1": (hidden, d), "b1": (hidden, 1), "W2": (1, hidden), "b2": (1, 1)}
        self.names = tuple(
            f"{p}[{i},{j}]" if p.startswith("W") else (f"{p}[{i}]" if shape[0] > 1 else p)
            for p, shape in self.shapes.items() for i in range(shape[0]) for j in range(shape[1]))
        self.seed = seed
        self._programs: dict[int, tuple] = {}

    def default_start(self):
        rng = np.random.default_rng(self.seed)
        parts = [rng.standard_normal(shape) / np.sqrt(shape[1]) if name.startswith("W") else np.zeros(shape)
                 for name, shape in self.shapes.items()]
        return np.concatenate([p.ravel() for p in parts])

    def _program(self, rows: int):
        """(loss, gradients) compiled for a batch of ``rows`` columns (cached per size)."""
        if rows not in self._programs:
            from derivekit.matrix.evaluate import compile_node
            from derivekit.matrix.networks import backprop
            net = backprop(self.spec, batch=rows, check=False)
            self._programs[rows] = (compile_node(net.loss),
                                    [compile_node(net.gradients[name].expanded) for name in self.shapes])
        return self._programs[rows]

    def value_and_grad(self, theta, rows=None):
        X, y = self._rows(rows)
        loss_fn, grad_fns = self._program(len(y))
        env, offset = {"X": X.T, "Y": y[None, :]}, 0
        for name, (r, c) in self.shapes.items():
            env[name] = theta[offset:offset + r * c].reshape(r, c)
            offset += r * c
        grads = [np.broadcast_to(fn(env), self.shapes[name]).ravel() for fn, name in zip(grad_fns, self.shapes)]
        return float(np.asarray(loss_fn(env)).ravel()[0]), np.concatenate(grads)

    def describe(self, fmt="text"):
        m = len(self.y)
        if fmt == "latex":
            from derivekit.render.printing import latex_prose
            return (rf"\frac{{1}}{{2m}}\sum_i (\hat y_i - y_i)^2,\ "
                    + latex_prose(f"MLP {self.spec.removesuffix(' -> mse')}".replace(' -> ', ' → ')) + rf",\ m = {m}")
        return (f"J = (1/2m)·Σᵢ (ŷᵢ − yᵢ)², ŷ from the MLP {self.spec.removesuffix(' -> mse')}, "
                f"m = {m} rows of {self.data.source or 'data'}")


#: model name -> objective class
MODELS = {"linear": LinearRegression, "logistic": LogisticRegression, "mlp": MLPRegression}


def as_objective(objective, wrt=None) -> Objective:
    """An :class:`Objective` from an expression (text, LaTeX, SymPy) or an objective."""
    if isinstance(objective, Objective):
        return objective
    return SymbolicObjective(objective, wrt=wrt)


def fit_objective(model: str, data: Dataset, **options) -> DataObjective:
    """The objective for ``model`` on ``data``; ``options`` go to the model (MLP: ``hidden``,
    ``activation``, ``seed``)."""
    if model not in MODELS:
        raise DerivekitError(f"unknown model {model!r}", hint="use " + ", ".join(MODELS))
    return MODELS[model](data, **options)
