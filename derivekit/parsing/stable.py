"""Numerically stable NumPy and ``math`` implementations of the DL functions, keyed by the
SymPy function's name, for ``lambdify(..., modules=[NUMPY_IMPLEMENTATIONS, "numpy"])``.

Exponentials only ever see non-positive arguments (sigmoid, softplus, ELU) or are shifted by
the maximum (logsumexp, softmax), so |z| = 1000 gives neither overflow warnings nor nan.
"""

from __future__ import annotations

import math

import numpy as np


def _np_sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _np_softplus(z):
    z = np.asarray(z, dtype=float)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _np_relu(z):
    return np.maximum(np.asarray(z, dtype=float), 0.0)


def _np_leaky_relu(z, slope=0.01):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, slope * z)


def _np_elu(z, alpha=1.0):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def _np_silu(z):
    return np.asarray(z, dtype=float) * _np_sigmoid(z)


_np_erf_ufunc = np.frompyfunc(math.erf, 1, 1)


def _np_erf(z):
    z = np.asarray(z, dtype=float)
    return np.asarray(_np_erf_ufunc(z), dtype=float)


def _np_gelu(z):
    z = np.asarray(z, dtype=float)
    return 0.5 * z * (1.0 + _np_erf(z / math.sqrt(2.0)))


def _np_logsumexp(*zs):
    stacked = np.stack(np.broadcast_arrays(*[np.asarray(z, dtype=float) for z in zs]))
    shift = np.max(stacked, axis=0)
    return shift + np.log(np.sum(np.exp(stacked - shift), axis=0))


def _np_softmax(index, *zs):
    stacked = np.stack(np.broadcast_arrays(*[np.asarray(z, dtype=float) for z in zs]))
    weights = np.exp(stacked - np.max(stacked, axis=0))
    return weights[int(index) - 1] / np.sum(weights, axis=0)


def _math_sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _math_softplus(z):
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _math_logsumexp(*zs):
    shift = max(zs)
    return shift + math.log(sum(math.exp(z - shift) for z in zs))


def _math_softmax(index, *zs):
    shift = max(zs)
    weights = [math.exp(z - shift) for z in zs]
    return weights[int(index) - 1] / sum(weights)


#: lambdify namespaces: function name -> stable implementation
NUMPY_IMPLEMENTATIONS = {
    "sigmoid": _np_sigmoid, "softplus": _np_softplus, "relu": _np_relu,
    "leaky_relu": _np_leaky_relu, "elu": _np_elu, "silu": _np_silu, "gelu": _np_gelu,
    "logsumexp": _np_logsumexp, "softmax": _np_softmax, "erf": _np_erf,
}

MATH_IMPLEMENTATIONS = {
    "sigmoid": _math_sigmoid,
    "softplus": _math_softplus,
    "relu": lambda z: max(z, 0.0),
    "leaky_relu": lambda z, slope=0.01: z if z > 0 else slope * z,
    "elu": lambda z, alpha=1.0: z if z > 0 else alpha * math.expm1(z),
    "silu": lambda z: z * _math_sigmoid(z),
    "gelu": lambda z: 0.5 * z * (1.0 + math.erf(z / math.sqrt(2.0))),
    "logsumexp": _math_logsumexp,
    "softmax": _math_softmax,
    "erf": math.erf,
}
