"""derivekit: derivations for the mathematics of deep learning, with steps.

Public names are loaded lazily (see :data:`_EXPORTS`) so that ``import derivekit`` and the
CLI start fast; ``import derivekit as dk; dk.derive(...)`` imports SymPy on first use.
"""

from __future__ import annotations

import importlib
import sys
import types

from .errors import DerivekitError, LimitError, ParseError, ShapeError, UnsupportedError

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # parsing and the function library
    "parse": "derivekit.parse",
    "sigmoid": "derivekit.functions", "relu": "derivekit.functions",
    "leaky_relu": "derivekit.functions", "softplus": "derivekit.functions",
    "silu": "derivekit.functions", "gelu": "derivekit.functions", "elu": "derivekit.functions",
    "logsumexp": "derivekit.functions", "softmax": "derivekit.functions",
    # the step engine
    "derive": "derivekit.derive", "gradient": "derivekit.derive",
    "jacobian": "derivekit.derive", "hessian": "derivekit.derive",
    "implicit": "derivekit.derive",
    "Step": "derivekit.steps", "Derivation": "derivekit.steps",
    "MatrixOfDerivations": "derivekit.steps",
    # numeric layer
    "compile": "derivekit.numeric", "gradcheck": "derivekit.numeric",
    "GradCheck": "derivekit.numeric", "verify": "derivekit.verify", "Verdict": "derivekit.verify",
    # matrix calculus and networks
    "matrix_gradient": "derivekit.matrix", "MatrixDerivation": "derivekit.matrix",
    "verify_backprop": "derivekit.matrix", "backprop": "derivekit.networks",
    "gradflow": "derivekit.gradient_flow", "BackpropVerdict": "derivekit.claimcheck",
    "matrix_jacobian": "derivekit.matjacobian", "matrix_hessian": "derivekit.matjacobian",
    # optimisation
    "minimize": "derivekit.optim", "Trajectory": "derivekit.optim",
    # linear algebra
    "dot": "derivekit.linalg", "matmul": "derivekit.linalg", "eig": "derivekit.linalg",
    "pca": "derivekit.linalg", "transpose": "derivekit.linalg", "norm": "derivekit.linalg",
    "det": "derivekit.linalg", "inv": "derivekit.linalg", "rank": "derivekit.linalg",
}

__all__ = ["DerivekitError", "LimitError", "ParseError", "ShapeError", "UnsupportedError",
           "__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'derivekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)


class _Package(types.ModuleType):
    """The package module, guarding public functions named like their own module.

    ``import derivekit.derive`` ends by binding the submodule as the package attribute
    ``derive``, which would shadow the public function ``dk.derive``; bind the function
    instead (``from derivekit.derive import gradient`` is unaffected).
    """

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and value.__name__ == _EXPORTS.get(name) \
                and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
