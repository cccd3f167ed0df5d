"""derivekit: derivations for the mathematics of deep learning, with steps.

Public names are loaded lazily (see :data:`_EXPORTS`) so that ``import derivekit`` and the
CLI start fast; ``import derivekit as dk; dk.derive(...)`` imports SymPy on first use.
"""

from __future__ import annotations

import importlib

from derivekit.errors import (
    DerivekitError,
    LimitError,
    ParseError,
    ShapeError,
    UnsupportedError,
)

__version__ = "0.1.0"

# public name -> module that defines it (the order is __all__'s)
_EXPORTS: dict[str, str] = {
    "parse": "derivekit.parsing.parse",
    "sigmoid": "derivekit.parsing.functions",
    "relu": "derivekit.parsing.functions",
    "leaky_relu": "derivekit.parsing.functions",
    "softplus": "derivekit.parsing.functions",
    "silu": "derivekit.parsing.functions",
    "gelu": "derivekit.parsing.functions",
    "elu": "derivekit.parsing.functions",
    "logsumexp": "derivekit.parsing.functions",
    "softmax": "derivekit.parsing.functions",
    "derive": "derivekit.calculus.derive",
    "gradient": "derivekit.calculus.derive",
    "jacobian": "derivekit.calculus.derive",
    "hessian": "derivekit.calculus.derive",
    "implicit": "derivekit.calculus.derive",
    "Step": "derivekit.calculus.steps",
    "Derivation": "derivekit.calculus.steps",
    "MatrixOfDerivations": "derivekit.calculus.steps",
    "compile": "derivekit.numeric.compiled",
    "gradcheck": "derivekit.numeric.compiled",
    "GradCheck": "derivekit.numeric.compiled",
    "verify": "derivekit.numeric.verify",
    "Verdict": "derivekit.numeric.verify",
    "matrix_gradient": "derivekit.matrix.gradient",
    "MatrixDerivation": "derivekit.matrix.gradient",
    "verify_backprop": "derivekit.matrix.gradient",
    "backprop": "derivekit.matrix.networks",
    "gradflow": "derivekit.matrix.gradient_flow",
    "BackpropVerdict": "derivekit.matrix.claimcheck",
    "matrix_jacobian": "derivekit.matrix.jacobian",
    "matrix_hessian": "derivekit.matrix.jacobian",
    "minimize": "derivekit.optim.optimizers",
    "Trajectory": "derivekit.optim.optimizers",
    "dot": "derivekit.linalg.operations",
    "matmul": "derivekit.linalg.operations",
    "eig": "derivekit.linalg.eigen",
    "pca": "derivekit.linalg.pca",
    "transpose": "derivekit.linalg.operations",
    "norm": "derivekit.linalg.operations",
    "det": "derivekit.linalg.operations",
    "inv": "derivekit.linalg.operations",
    "rank": "derivekit.linalg.operations",
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

