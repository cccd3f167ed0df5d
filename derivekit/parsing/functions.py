"""The deep-learning function library as SymPy functions.

Each class states its definition, carries its textbook derivative in ``fdiff`` (so that
``sympy.diff`` and derivekit's step engine agree), its LaTeX name, and a rewrite into
elementary functions (used to check equality). Their numerically stable NumPy and ``math``
implementations for lambdify are in :mod:`derivekit.parsing.stable`, also reachable here as
``NUMPY_IMPLEMENTATIONS`` / ``MATH_IMPLEMENTATIONS``.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import ArgumentIndexError


class DLFunction(sp.Function):
    """Common behaviour: a LaTeX name, a Unicode name, and real-valuedness on reals."""

    latex_name: str = ""
    unicode_name: str = ""
    is_dl_function = True

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(a) for a in self._shown_args())
        name = self.latex_name or rf"\operatorname{{{type(self).__name__}}}"
        body = rf"{name}\left({args}\right)"
        return body if exp is None else rf"{body}^{{{exp}}}"

    #: trailing parameter values not printed when at their default (e.g. a = 1/100)
    default_params: tuple = ()

    def _shown_args(self):
        args = list(self.args)
        if self.default_params and len(args) > 1 and tuple(args[1:]) == self.default_params:
            args = args[:1]
        return args

    def _eval_evalf(self, prec):
        if all(a.is_number for a in self.args):
            return self.rewrite(sp.exp)._eval_evalf(prec)

    def _eval_is_real(self):
        return all(a.is_real for a in self.args) or None

    def _eval_is_finite(self):
        return all(a.is_finite for a in self.args) or None


class sigmoid(DLFunction):
    """σ(z) = 1/(1 + e^(−z)); σ′(z) = σ(z)(1 − σ(z))."""

    latex_name = r"\sigma"
    unicode_name = "σ"

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return sp.S.Half
        if z is sp.S.Infinity:
            return sp.S.One
        if z is sp.S.NegativeInfinity:
            return sp.S.Zero

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sp.exp(-z))

    def _eval_is_positive(self):
        return self.args[0].is_real or None


class relu(DLFunction):
    """ReLU(z) = max(0, z); ReLU′(z) = H(z), the step function (1 for z > 0, 0 for z < 0;
    the kink at z = 0 has no derivative, and the convention H(0) = 0 is used)."""

    latex_name = r"\operatorname{ReLU}"
    unicode_name = "ReLU"

    @classmethod
    def eval(cls, z):
        if z.is_number and z.is_extended_real:
            return sp.Max(0, z)

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, z, **kwargs):
        return sp.Max(0, z)

    _eval_rewrite_as_exp = _eval_rewrite_as_Max

    def _eval_is_nonnegative(self):
        return self.args[0].is_real or None


class _IdentityForPositive(DLFunction):
    """f(z, p) = z for z > 0 and ``negative(z, p)`` otherwise, p a parameter with a default.

    Subclasses state the negative branch and its two partial derivatives; the kink at
    z = 0 takes the negative branch's slope by convention.
    """

    nargs = (1, 2)

    @staticmethod
    def negative(z, p):
        raise NotImplementedError

    @staticmethod
    def negative_dz(z, p):
        raise NotImplementedError

    @staticmethod
    def negative_dp(z, p):
        raise NotImplementedError

    @classmethod
    def eval(cls, z, p=None):
        if p is None:
            return cls(z, *cls.default_params)
        if z.is_number and z.is_extended_real:
            return z if z.is_positive else cls.negative(z, p)

    def fdiff(self, argindex=1):
        z, p = self.args
        if argindex == 1:
            return sp.Piecewise((1, z > 0), (self.negative_dz(z, p), True))
        if argindex == 2:
            return sp.Piecewise((0, z > 0), (self.negative_dp(z, p), True))
        raise ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_Piecewise(self, z, p, **kwargs):
        return sp.Piecewise((z, z > 0), (self.negative(z, p), True))

    def _eval_rewrite_as_exp(self, z, p, **kwargs):
        return self._eval_rewrite_as_Piecewise(z, p)


class leaky_relu(_IdentityForPositive):
    """LeakyReLU(z, a) = z for z > 0, a·z otherwise (a = 0.01 by default);
    its derivative is 1 for z > 0 and a for z < 0 (kink at 0, convention a)."""

    latex_name = r"\operatorname{LeakyReLU}"
    unicode_name = "LeakyReLU"
    default_params = (sp.Rational(1, 100),)

    @staticmethod
    def negative(z, slope):
        return slope * z

    @staticmethod
    def negative_dz(z, slope):
        return slope

    @staticmethod
    def negative_dp(z, slope):
        return z


class softplus(DLFunction):
    """softplus(z) = log(1 + e^z); softplus′(z) = σ(z)."""

    latex_name = r"\operatorname{softplus}"
    unicode_name = "softplus"

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return sp.log(2)

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return sp.log(1 + sp.exp(z))

    _eval_rewrite_as_log = _eval_rewrite_as_exp


class silu(DLFunction):
    """SiLU(z) = swish(z) = z·σ(z); SiLU′(z) = σ(z)(1 + z(1 − σ(z)))."""

    latex_name = r"\operatorname{SiLU}"
    unicode_name = "SiLU"

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return sp.S.Zero

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        z = self.args[0]
        return sigmoid(z) * (1 + z * (1 - sigmoid(z)))

    def _eval_rewrite_as_sigmoid(self, z, **kwargs):
        return z * sigmoid(z)

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return z / (1 + sp.exp(-z))


class gelu(DLFunction):
    """GELU(z) = z·Φ(z), Φ(z) = (1 + erf(z/√2))/2 the standard normal CDF;
    GELU′(z) = Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π)."""

    latex_name = r"\operatorname{GELU}"
    unicode_name = "GELU"

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return sp.S.Zero

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        z = self.args[0]
        cdf = (1 + sp.erf(z / sp.sqrt(2))) / 2
        pdf = sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)
        return cdf + z * pdf

    def _eval_rewrite_as_erf(self, z, **kwargs):
        return z * (1 + sp.erf(z / sp.sqrt(2))) / 2

    _eval_rewrite_as_exp = _eval_rewrite_as_erf


class elu(_IdentityForPositive):
    """ELU(z, a) = z for z > 0, a(e^z − 1) otherwise (a = 1 by default);
    ELU′(z) = 1 for z > 0, a·e^z otherwise."""

    latex_name = r"\operatorname{ELU}"
    unicode_name = "ELU"
    default_params = (sp.S.One,)

    @staticmethod
    def negative(z, alpha):
        return alpha * (sp.exp(z) - 1)

    @staticmethod
    def negative_dz(z, alpha):
        return alpha * sp.exp(z)

    @staticmethod
    def negative_dp(z, alpha):
        return sp.exp(z) - 1


class softmax(DLFunction):
    """softmax(i, z₁, …, zₙ) = e^(z_i) / Σ_j e^(z_j), the i-th (1-based) softmax output;
    ∂softmax_i/∂z_j = softmax_i (δ_ij − softmax_j)."""

    latex_name = r"\operatorname{softmax}"
    unicode_name = "softmax"

    @classmethod
    def eval(cls, index, *zs):
        if not zs:
            raise TypeError("softmax needs an index and at least one input")
        if not (index.is_Integer and 1 <= int(index) <= len(zs)):
            raise TypeError(f"softmax index must be an integer from 1 to {len(zs)}")

    @property
    def index(self) -> int:
        return int(self.args[0])

    @property
    def inputs(self) -> tuple:
        return self.args[1:]

    def fdiff(self, argindex=1):
        if argindex == 1 or argindex > len(self.args):
            raise ArgumentIndexError(self, argindex)
        j = argindex - 1
        kronecker = 1 if j == self.index else 0
        return self * (kronecker - softmax(j, *self.inputs))

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(a) for a in self.inputs)
        body = rf"\operatorname{{softmax}}\left({args}\right)_{{{self.index}}}"
        return body if exp is None else rf"\left({body}\right)^{{{exp}}}"

    def _eval_rewrite_as_exp(self, index, *zs, **kwargs):
        return sp.exp(zs[int(index) - 1]) / sp.Add(*[sp.exp(z) for z in zs])

    def _eval_is_positive(self):
        return all(z.is_real for z in self.inputs) or None


class logsumexp(DLFunction):
    """LSE(z₁, …, zₙ) = log Σ_j e^(z_j); ∂LSE/∂z_i = softmax_i(z)."""

    latex_name = r"\operatorname{LSE}"
    unicode_name = "LSE"

    @classmethod
    def eval(cls, *zs):
        if not zs:
            raise TypeError("logsumexp needs at least one input")
        if len(zs) == 1:
            return zs[0]

    def fdiff(self, argindex=1):
        if not 1 <= argindex <= len(self.args):
            raise ArgumentIndexError(self, argindex)
        return softmax(argindex, *self.args)

    def _eval_rewrite_as_exp(self, *zs, **kwargs):
        return sp.log(sp.Add(*[sp.exp(z) for z in zs]))

    _eval_rewrite_as_log = _eval_rewrite_as_exp


#: name -> class, for parsers and printers
DL_FUNCTIONS: dict[str, type[DLFunction]] = {
    cls.__name__: cls
    for cls in (sigmoid, relu, leaky_relu, softplus, silu, gelu, elu, softmax, logsumexp)
}


def to_elementary(expr: sp.Basic) -> sp.Basic:
    """Rewrite every DL function into exp/log/erf/Piecewise/Max (for equality checks)."""
    return expr.replace(lambda e: isinstance(e, DLFunction), lambda e: e.rewrite(sp.exp))


def __getattr__(name: str):
    # The NumPy/math implementations live in derivekit.parsing.stable so that symbolic work
    # (and a cold ``derivekit diff``) never imports NumPy.
    if name in ("NUMPY_IMPLEMENTATIONS", "MATH_IMPLEMENTATIONS"):
        from derivekit.parsing import stable
        return getattr(stable, name)
    raise AttributeError(f"module 'derivekit.parsing.functions' has no attribute {name!r}")
