"""Numerical derivatives by finite differences, each method one batched call.

Every method builds all its perturbed points first and evaluates the function once on the
whole batch (the function is a NumPy-compiled callable that broadcasts), so a gradient in
N variables costs one call on 2N·n points, not 2N Python calls.

===================  ==========================================  ============  ==============
method               formula                                     default step  error
===================  ==========================================  ============  ==============
``central``          (f(x+h·eᵢ) − f(x−h·eᵢ)) / 2h                1e-6          O(h²) + ε/h
``complex``          Im f(x + i·h·eᵢ) / h   (analytic f only)    1e-20         ~1e-15 relative
``richardson``       (4·D(h/2) − D(h)) / 3, D the central one    1e-3          O(h⁴) + ε/h
``random_direction`` (f(x+h·u) − f(x−h·u)) / 2h vs ∇f·u          1e-6          as central
===================  ==========================================  ============  ==============

``central`` and ``random_direction`` follow ``torch.autograd.gradcheck`` (its
``fast_mode`` is the random-direction check).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .errors import DerivekitError

METHODS = ("central", "complex", "richardson", "random_direction")
DEFAULT_STEP = {"central": 1e-6, "complex": 1e-20, "richardson": 1e-3, "random_direction": 1e-6}


def _batched(points: np.ndarray, wrt: list[int], offsets: list[float], dtype=float) -> np.ndarray:
    """Columns ``(K, len(offsets)·N, n)``: for each wrt variable i and offset o, the points
    with coordinate wrt[i] moved by o. Returned as one array per input variable."""
    n, k = points.shape
    m = len(offsets)
    cols = np.empty((k, len(wrt) * m, n), dtype=dtype)
    cols[:] = points.T[:, None, :]
    rows = np.arange(len(wrt) * m)
    variables = np.repeat(np.asarray(wrt, dtype=int), m)
    cols[variables, rows, :] += np.tile(np.asarray(offsets, dtype=dtype), len(wrt))[:, None]
    return cols


def _call(f: Callable, cols: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(f(*cols))


def central(f: Callable, points: np.ndarray, wrt: list[int], h: float) -> np.ndarray:
    """∂f/∂x_i at each point, shape ``(len(wrt), n)``, by central differences."""
    v = _call(f, _batched(points, wrt, [h, -h]))
    return (v[0::2] - v[1::2]) / (2 * h)


def richardson(f: Callable, points: np.ndarray, wrt: list[int], h: float) -> np.ndarray:
    """Central differences at h and h/2 combined to cancel the h² error term."""
    v = _call(f, _batched(points, wrt, [h, -h, h / 2, -h / 2]))
    coarse = (v[0::4] - v[1::4]) / (2 * h)
    fine = (v[2::4] - v[3::4]) / h
    return (4 * fine - coarse) / 3


def complex_step(f: Callable, points: np.ndarray, wrt: list[int], h: float) -> np.ndarray:
    """Im f(x + i·h·e_i) / h: no subtraction, so no cancellation error, for analytic f."""
    v = _call(f, _batched(points, wrt, [1j * h], dtype=complex))
    if not np.iscomplexobj(v):
        raise DerivekitError("the function dropped the imaginary part of its input",
                             hint="use method='central' for this expression")
    return v.imag / h


def directional(f: Callable, points: np.ndarray, directions: np.ndarray, h: float) -> np.ndarray:
    """(f(x + h·u) − f(x − h·u)) / 2h for each direction u (rows of ``directions``, over
    all K inputs), at each point: shape ``(len(directions), n)``."""
    n, k = points.shape
    d = len(directions)
    cols = np.empty((k, 2 * d, n))
    cols[:] = points.T[:, None, :]
    cols[:, 0::2, :] += h * directions.T[:, :, None]
    cols[:, 1::2, :] -= h * directions.T[:, :, None]
    v = _call(f, cols)
    return (v[0::2] - v[1::2]) / (2 * h)


# --- complex-safe implementations for the complex step ----------------------------------
# The stable real implementations in derivekit.functions cast to float; these keep the
# imaginary part. Kinks use the sign of the real part (the complex-step convention).

def _c_sigmoid(z):
    z = np.asarray(z, dtype=complex)
    pos = z.real >= 0
    e = np.exp(np.where(pos, -z, z))
    return np.where(pos, 1 / (1 + e), e / (1 + e))


def _c_softplus(z):
    z = np.asarray(z, dtype=complex)
    pos = z.real >= 0
    return np.where(pos, z, 0) + np.log1p(np.exp(np.where(pos, -z, z)))


def _c_logsumexp(*zs):
    stacked = np.stack(np.broadcast_arrays(*[np.asarray(z, dtype=complex) for z in zs]))
    shift = np.max(stacked.real, axis=0)
    return shift + np.log(np.sum(np.exp(stacked - shift), axis=0))


def _c_softmax(index, *zs):
    stacked = np.stack(np.broadcast_arrays(*[np.asarray(z, dtype=complex) for z in zs]))
    weights = np.exp(stacked - np.max(stacked.real, axis=0))
    return weights[int(index) - 1] / np.sum(weights, axis=0)


def _c_where_positive(z, then, otherwise):
    z = np.asarray(z, dtype=complex)
    return np.where(z.real > 0, then(z), otherwise(z))


def _not_analytic(name):
    def fail(*args):
        raise DerivekitError(f"the complex step cannot evaluate {name}",
                             hint="use method='central' or 'richardson' for this expression")
    return fail


COMPLEX_IMPLEMENTATIONS = {
    "sigmoid": _c_sigmoid,
    "softplus": _c_softplus,
    "silu": lambda z: np.asarray(z, dtype=complex) * _c_sigmoid(z),
    "relu": lambda z: _c_where_positive(z, lambda u: u, lambda u: 0 * u),
    "leaky_relu": lambda z, slope=0.01: _c_where_positive(z, lambda u: u, lambda u: slope * u),
    "elu": lambda z, alpha=1.0: _c_where_positive(z, lambda u: u, lambda u: alpha * np.expm1(u)),
    "logsumexp": _c_logsumexp,
    "softmax": _c_softmax,
    "Abs": lambda z: np.asarray(z, dtype=complex) * np.sign(np.real(z)),
    "abs": lambda z: np.asarray(z, dtype=complex) * np.sign(np.real(z)),
    "erf": _not_analytic("erf"),
    "gelu": _not_analytic("GELU (it uses erf)"),
    "DiracDelta": lambda z, k=0: np.zeros_like(np.asarray(z, dtype=complex)),
}


def complex_modules() -> list:
    return [COMPLEX_IMPLEMENTATIONS, "numpy"]
