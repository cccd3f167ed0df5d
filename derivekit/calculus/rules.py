"""The differentiation rules: their English (:data:`RULES`) and one small function each.

Every rule is a function ``rule(expr, var, ctx) -> Step`` whose docstring states the maths.
The function for an expression is chosen by its head (class) in :data:`HEAD_RULES`,
looking up the class's MRO so that subclasses (``AppliedUndef``, the deep-learning
library) find their entry. One-argument functions share one rule function driven by
:data:`FUNCTION_DERIVATIVES`; teaching derivekit a new function's derivative is one entry
there plus its English in :data:`RULES`.

A rule differentiates its sub-expressions through ``ctx.derive`` (memoised: a repeated
sub-derivation is derived once and later occurrences refer to it) and names inner
functions with ``ctx.name_for`` (u₁, u₂, … distinct within one derivation).

Variables are taken to be real: d|u|/du = sign(u), and jumps (sign, Heaviside) have
derivative 0 away from the jump.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Protocol

import sympy as sp
from sympy.core.function import AppliedUndef, ArgumentIndexError

from derivekit.calculus.steps import Rule, Step
from derivekit.errors import NeedsMatrixEngine, UnsupportedError
from derivekit.parsing import functions as dl


class Context(Protocol):
    """What a rule needs from the derivation it is part of (see ``derivekit.calculus.derive``)."""

    def derive(self, expr: sp.Expr, var: sp.Symbol) -> Step: ...

    def name_for(self, inner: sp.Expr) -> sp.Symbol: ...


RuleFunction = Callable[[sp.Expr, sp.Symbol, Context], Step]


# --- the English, written once per rule --------------------------------------------------
# Each formula in a sentence is one ``$…$`` span (``$d/d{name} {outer} = {outer_derivative}$``):
# the renderers print it whole, as one math run in LaTeX and Markdown (render/walk.py).
# Glue inside a span is written in Unicode (·, −, ², √(…), σ′); outside it, English only.

def _rule(name, title, statement, statement_text, explanation) -> Rule:
    return Rule(name, title, statement, statement_text, explanation)


_GENERAL_RULES = [
    _rule("constant", "Constant rule", r"\frac{d}{dx} c = 0", "d/dx c = 0",
          "{expr} does not depend on {var}, so its derivative is 0."),
    _rule("variable", "Variable rule", r"\frac{d}{dx} x = 1", "d/dx x = 1",
          "The derivative of {var} with respect to itself is 1."),
    _rule("constant_multiple", "Constant multiple rule",
          r"\frac{d}{dx}\left(c f\right) = c \frac{df}{dx}", "d/dx (c·f) = c·df/dx",
          "The constant factor {constant} stays, and multiplies the derivative of {rest}."),
    _rule("sum", "Sum rule", r"\frac{d}{dx}\left(f + g\right) = \frac{df}{dx} + \frac{dg}{dx}",
          "d/dx (f + g) = df/dx + dg/dx",
          "The derivative of a sum (or difference) is the sum of the derivatives of its {count} terms."),
    _rule("power", "Power rule", r"\frac{d}{dx} x^{n} = n x^{n-1}", "d/dx xⁿ = n·xⁿ⁻¹",
          "Bring down the exponent {n} and lower it by one."),
    _rule("sqrt", "Square root rule", r"\frac{d}{dx} \sqrt{x} = \frac{1}{2\sqrt{x}}",
          "d/dx √x = 1/(2√x)",
          "A square root is the power 1/2, so its derivative is $1/(2{expr})$."),
    _rule("product", "Product rule",
          r"\frac{d}{dx}\left(f g\right) = \frac{df}{dx} g + f \frac{dg}{dx}",
          "d/dx (f·g) = f′·g + f·g′",
          "Name the factors {pieces}, with derivatives {derivatives}. Differentiate one "
          "factor at a time, keeping the others: {terms}; the derivative is their sum."),
    _rule("quotient", "Quotient rule",
          r"\frac{d}{dx}\frac{f}{g} = \frac{f' g - f g'}{g^{2}}", "d/dx (f/g) = (f′·g − f·g′)/g²",
          "Name the numerator and the denominator {pieces}, with derivatives {derivatives}; "
          "then ${formula} = [({top})·({denominator}) − ({numerator})·({bottom})] / "
          "({denominator})²$."),
    _rule("chain", "Chain rule",
          r"\frac{d}{dx} f(g(x)) = f'(g(x))\, g'(x)", "d/dx f(g(x)) = f′(g(x))·g′(x)",
          "Substitute ${name} = {inner}$: the derivative is $d/d{name} {outer} = {outer_derivative}$, "
          "evaluated at ${name} = {inner}$, times $d{name}/d{var} = {inner_derivative}$."),
    _rule("multivariable_chain", "Multivariable chain rule",
          r"\frac{d}{dx} f(z_1, \dots, z_n) = \sum_j \frac{\partial f}{\partial z_j} \frac{dz_j}{dx}",
          "d/dx f(z₁, …, zₙ) = Σⱼ ∂f/∂zⱼ · dzⱼ/dx",
          "{function} has several arguments: add up each partial derivative times the derivative of its argument."),
    _rule("exp", "Exponential rule", r"\frac{d}{dx} e^{x} = e^{x}", "d/dx eˣ = eˣ",
          "The exponential function is its own derivative."),
    _rule("exponential", "General exponential rule", r"\frac{d}{dx} a^{x} = a^{x} \log a",
          "d/dx aˣ = aˣ·log a",
          "A constant base {base} raised to the variable gives itself times $log {base}$ (the "
          "natural logarithm, ln)."),
    _rule("log", "Logarithm rule", r"\frac{d}{dx} \log x = \frac{1}{x}", "d/dx log x = 1/x",
          "log is the natural logarithm (ln, base e) throughout; for ${var} > 0$ its derivative "
          "is $1/{var}$."),
    _rule("log_base", "Logarithm to another base",
          r"\frac{d}{dx} \log_b x = \frac{1}{x \log b}", "d/dx log_b x = 1/(x·log b)",
          "$log_{base}$ is the natural log divided by the constant $log {base}$, so differentiate "
          "log and divide by $log {base}$."),
    _rule("log_diff", "Logarithmic differentiation",
          r"\frac{d}{dx} f^{g} = f^{g}\left(g' \log f + g \frac{f'}{f}\right)",
          "d/dx f^g = f^g·(g′·log f + g·f′/f)",
          "Both base and exponent depend on {var}: with {y_equation}, take natural logs, "
          "{log_equation}, differentiate, and multiply by {y}."),
    _rule("abs", "Absolute value rule", r"\frac{d}{dx} |x| = \operatorname{sgn}(x)",
          "d/dx |x| = sgn(x)",
          "$|{var}|$ has slope $sgn({var})$, the sign function ($−1$ for negative and $+1$ for positive "
          "arguments); the kink at {kink} has no derivative."),
    _rule("sign", "Sign function rule", r"\frac{d}{dx} \operatorname{sgn}(x) = 0 \quad (x \ne 0)",
          "d/dx sgn(x) = 0 (x ≠ 0)",
          "sgn, the sign function, is constant on each side of its jump at {kink}, so its derivative is 0 away from the jump."),
    _rule("heaviside", "Step function rule", r"\frac{d}{dx} H(x) = 0 \quad (x \ne 0)",
          "d/dx H(x) = 0 (x ≠ 0)",
          "The step function $H$ ($1$ for a positive argument, $0$ for a negative one) is flat on "
          "each side of its jump at {kink}, so its derivative is 0 "
          "away from it (as a distribution it is $δ$)."),
    _rule("piecewise", "Piecewise rule",
          r"\frac{d}{dx} \begin{cases} f_i & c_i \end{cases} = \begin{cases} f_i' & c_i \end{cases}",
          "d/dx {fᵢ if cᵢ} = {fᵢ′ if cᵢ}",
          "Differentiate each of the {count} pieces on its own region; at the boundaries the "
          "derivative may not exist."),
    _rule("max", "Maximum rule",
          r"\frac{d}{dx}\max(f, g) = \begin{cases} f' & f > g \\ g' & f < g \end{cases}",
          "d/dx max(f, g) = f′ where f > g, g′ where f < g",
          "The derivative follows the {which} argument, picked out by the step function $H$ "
          "($H(t) = 1$ for $t > 0$ and $0$ for $t < 0$); at the kink, {kink}, it does not exist, "
          "and the convention $H(0) = 0$ is used there, as for $ReLU′$."),
    _rule("min", "Minimum rule",
          r"\frac{d}{dx}\min(f, g) = \begin{cases} f' & f < g \\ g' & f > g \end{cases}",
          "d/dx min(f, g) = f′ where f < g, g′ where f > g",
          "The derivative follows the {which} argument, picked out by the step function $H$ "
          "($H(t) = 1$ for $t > 0$ and $0$ for $t < 0$); at the kink, {kink}, it does not exist, "
          "and the convention $H(0) = 0$ is used there."),
    _rule("abstract_function", "Unknown function",
          r"\frac{d}{dx} f(x) = f'(x)", "d/dx f(x) = f′(x)",
          "{function} is not specified, so its derivative is kept symbolic as {result}."),
    _rule("function", "Known derivative",
          r"\frac{d}{dx} f(x) = f'(x)", "d/dx f(x) = f′(x)",
          "SymPy knows the derivative of {function}: it is {result}."),
    _rule("symbolic_derivative", "Derivative of a derivative",
          r"\frac{d}{dx} \frac{d^{n} f}{dx^{n}} = \frac{d^{n+1} f}{dx^{n+1}}",
          "d/dx (dⁿf/dxⁿ) = dⁿ⁺¹f/dxⁿ⁺¹",
          "{expr} is already a derivative of an unknown function; differentiating again raises its order."),
    _rule("sum_inside", "Derivative of a sum over an index",
          r"\frac{d}{dx} \sum_{i} f_i = \sum_{i} \frac{df_i}{dx}",
          "d/dx Σᵢ fᵢ = Σᵢ dfᵢ/dx",
          "{var} is the same in every term of the sum over {index}, so differentiate the "
          "summand and keep the sum."),
    _rule("sum_index", "One term of a sum over an index",
          r"\frac{\partial}{\partial x_k} \sum_{i} f(x_i) = f'(x_k)",
          "∂/∂xₖ Σᵢ f(xᵢ) = f′(xₖ)",
          "Only the term ${index} = {value}$ of the sum contains {var} (for ${low} ≤ {value} ≤ "
          "{high}$); every other term is constant, so the derivative is that term's."),
    _rule("implicit", "Implicit differentiation",
          r"F(x, y) = 0 \implies \frac{dy}{dx} = -\frac{F_x}{F_y}",
          "F(x, y) = 0 ⇒ dy/dx = −F_x/F_y",
          "Differentiate $F = {expr} = 0$ with respect to {var}, treating {dependent} as a function of "
          "{var}, and solve: $d{dependent}/d{var} = −F_{var}/F_{dependent}$."),
]


@dataclass(frozen=True)
class FunctionDerivative:
    """One function's entry: its rule name and its derivative at an application ``f(u)``.

    ``derivative`` receives the application itself (so σ′ can be written σ(u)(1 − σ(u)) and
    parameters such as LeakyReLU's slope are at hand) and returns f′(u). ``kink`` gives the
    point where f is not differentiable, stated in the step, or None.
    """

    rule: str
    derivative: Callable[[sp.Expr], sp.Expr]
    kink: Callable[[sp.Expr], sp.Basic] | None = None


def _at_zero(application: sp.Expr) -> sp.Basic:
    return sp.Eq(application.args[0], 0, evaluate=False)


def _own_fdiff(application: sp.Expr) -> sp.Expr:
    return application.fdiff(1)


#: class -> (derivative); the English lives in RULES under the same name
FUNCTION_DERIVATIVES: dict[type, FunctionDerivative] = {
    sp.exp: FunctionDerivative("exp", lambda f: f),
    sp.log: FunctionDerivative("log", lambda f: 1 / f.args[0]),
    sp.sin: FunctionDerivative("sin", lambda f: sp.cos(f.args[0])),
    sp.cos: FunctionDerivative("cos", lambda f: -sp.sin(f.args[0])),
    sp.tan: FunctionDerivative("tan", lambda f: sp.sec(f.args[0]) ** 2),
    sp.cot: FunctionDerivative("cot", lambda f: -sp.csc(f.args[0]) ** 2),
    sp.sec: FunctionDerivative("sec", lambda f: sp.sec(f.args[0]) * sp.tan(f.args[0])),
    sp.csc: FunctionDerivative("csc", lambda f: -sp.csc(f.args[0]) * sp.cot(f.args[0])),
    sp.asin: FunctionDerivative("asin", lambda f: 1 / sp.sqrt(1 - f.args[0] ** 2)),
    sp.acos: FunctionDerivative("acos", lambda f: -1 / sp.sqrt(1 - f.args[0] ** 2)),
    sp.atan: FunctionDerivative("atan", lambda f: 1 / (1 + f.args[0] ** 2)),
    sp.acot: FunctionDerivative("acot", lambda f: -1 / (1 + f.args[0] ** 2)),
    sp.asec: FunctionDerivative("asec", _own_fdiff),
    sp.acsc: FunctionDerivative("acsc", _own_fdiff),
    sp.sinh: FunctionDerivative("sinh", lambda f: sp.cosh(f.args[0])),
    sp.cosh: FunctionDerivative("cosh", lambda f: sp.sinh(f.args[0])),
    sp.tanh: FunctionDerivative("tanh", lambda f: 1 - f ** 2),
    sp.coth: FunctionDerivative("coth", lambda f: 1 - f ** 2),
    sp.sech: FunctionDerivative("sech", lambda f: -f * sp.tanh(f.args[0])),
    sp.csch: FunctionDerivative("csch", lambda f: -f * sp.coth(f.args[0])),
    sp.asinh: FunctionDerivative("asinh", lambda f: 1 / sp.sqrt(f.args[0] ** 2 + 1)),
    sp.acosh: FunctionDerivative("acosh", _own_fdiff),  # 1/(√(u−1)√(u+1)): right for u < −1 too
    sp.atanh: FunctionDerivative("atanh", lambda f: 1 / (1 - f.args[0] ** 2)),
    sp.acoth: FunctionDerivative("acoth", lambda f: 1 / (1 - f.args[0] ** 2)),
    sp.erf: FunctionDerivative("erf", _own_fdiff),
    sp.Abs: FunctionDerivative("abs", lambda f: sp.sign(f.args[0]), _at_zero),
    sp.sign: FunctionDerivative("sign", lambda f: sp.S.Zero, _at_zero),
    sp.Heaviside: FunctionDerivative("heaviside", lambda f: sp.S.Zero, _at_zero),
    dl.sigmoid: FunctionDerivative("sigmoid", lambda f: f * (1 - f)),
    dl.softplus: FunctionDerivative("softplus", lambda f: dl.sigmoid(f.args[0])),
    dl.relu: FunctionDerivative("relu", _own_fdiff, _at_zero),
    dl.leaky_relu: FunctionDerivative("leaky_relu", _own_fdiff, _at_zero),
    dl.elu: FunctionDerivative("elu", _own_fdiff, _at_zero),
    dl.silu: FunctionDerivative("silu", _own_fdiff),
    dl.gelu: FunctionDerivative("gelu", _own_fdiff),
}

_FUNCTION_RULES = [
    _rule("sin", "Sine rule", r"\frac{d}{dx}\sin x = \cos x", "d/dx sin x = cos x",
          "The derivative of sine is cosine."),
    _rule("cos", "Cosine rule", r"\frac{d}{dx}\cos x = -\sin x", "d/dx cos x = −sin x",
          "The derivative of cosine is minus sine."),
    _rule("tan", "Tangent rule", r"\frac{d}{dx}\tan x = \sec^{2} x", "d/dx tan x = sec²x",
          "The derivative of tangent is secant squared."),
    _rule("cot", "Cotangent rule", r"\frac{d}{dx}\cot x = -\csc^{2} x", "d/dx cot x = −csc²x",
          "The derivative of cotangent is minus cosecant squared."),
    _rule("sec", "Secant rule", r"\frac{d}{dx}\sec x = \sec x \tan x", "d/dx sec x = sec x·tan x",
          "The derivative of secant is secant times tangent."),
    _rule("csc", "Cosecant rule", r"\frac{d}{dx}\csc x = -\csc x \cot x",
          "d/dx csc x = −csc x·cot x", "The derivative of cosecant is minus cosecant times cotangent."),
    _rule("asin", "Arcsine rule", r"\frac{d}{dx}\arcsin x = \frac{1}{\sqrt{1 - x^{2}}}",
          "d/dx arcsin x = 1/√(1 − x²)", "The derivative of arcsine is {result}, for $−1 < {var} < 1$ (arcsin is defined "
          "on $[−1, 1]$ and has no derivative at $±1$)."),
    _rule("acos", "Arccosine rule", r"\frac{d}{dx}\arccos x = -\frac{1}{\sqrt{1 - x^{2}}}",
          "d/dx arccos x = −1/√(1 − x²)", "The derivative of arccosine is {result}, for $−1 < {var} < 1$ (arccos is defined "
          "on $[−1, 1]$ and has no derivative at $±1$)."),
    _rule("atan", "Arctangent rule", r"\frac{d}{dx}\arctan x = \frac{1}{1 + x^{2}}",
          "d/dx arctan x = 1/(1 + x²)", "The derivative of arctangent is {result}, for every real {var}."),
    _rule("acot", "Arccotangent rule", r"\frac{d}{dx}\operatorname{arccot} x = -\frac{1}{1 + x^{2}}",
          "d/dx arccot x = −1/(1 + x²)", "The derivative of arccotangent is {result}, for every real {var}."),
    _rule("asec", "Arcsecant rule", r"\frac{d}{dx}\operatorname{arcsec} x = \frac{1}{x^{2}\sqrt{1 - x^{-2}}}",
          "d/dx arcsec x = 1/(x²√(1 − 1/x²))", "The derivative of arcsecant is {result}, for $|{var}| > 1$ (arcsec is "
          "defined for $|{var}| ≥ 1$ and has no derivative at $±1$)."),
    _rule("acsc", "Arccosecant rule", r"\frac{d}{dx}\operatorname{arccsc} x = -\frac{1}{x^{2}\sqrt{1 - x^{-2}}}",
          "d/dx arccsc x = −1/(x²√(1 − 1/x²))", "The derivative of arccosecant is {result}, for $|{var}| > 1$ (arccsc "
          "is defined for $|{var}| ≥ 1$ and has no derivative at $±1$)."),
    _rule("sinh", "Hyperbolic sine rule", r"\frac{d}{dx}\sinh x = \cosh x", "d/dx sinh x = cosh x",
          "The derivative of sinh is cosh."),
    _rule("cosh", "Hyperbolic cosine rule", r"\frac{d}{dx}\cosh x = \sinh x", "d/dx cosh x = sinh x",
          "The derivative of cosh is sinh."),
    _rule("tanh", "Hyperbolic tangent rule", r"\frac{d}{dx}\tanh x = 1 - \tanh^{2} x",
          "d/dx tanh x = 1 − tanh²x",
          "From ${expr} = {definition}$, the quotient rule gives ${derivation} = {result}$, "
          "since $cosh² − sinh² = 1$."),
    _rule("coth", "Hyperbolic cotangent rule", r"\frac{d}{dx}\coth x = 1 - \coth^{2} x",
          "d/dx coth x = 1 − coth²x", "The derivative of coth is $1 − coth²$."),
    _rule("sech", "Hyperbolic secant rule", r"\frac{d}{dx}\operatorname{sech} x = -\operatorname{sech} x \tanh x",
          "d/dx sech x = −sech x·tanh x", "The derivative of sech is $−sech·tanh$."),
    _rule("csch", "Hyperbolic cosecant rule", r"\frac{d}{dx}\operatorname{csch} x = -\operatorname{csch} x \coth x",
          "d/dx csch x = −csch x·coth x", "The derivative of csch is $−csch·coth$."),
    _rule("asinh", "Inverse hyperbolic sine rule", r"\frac{d}{dx}\operatorname{arsinh} x = \frac{1}{\sqrt{x^{2} + 1}}",
          "d/dx arsinh x = 1/√(x² + 1)", "The derivative of arsinh is {result}, for every real {var}."),
    _rule("acosh", "Inverse hyperbolic cosine rule",
          r"\frac{d}{dx}\operatorname{arcosh} x = \frac{1}{\sqrt{x - 1}\,\sqrt{x + 1}}",
          "d/dx arcosh x = 1/(√(x − 1)·√(x + 1))",
          "The derivative of arcosh is $1/(√({var} − 1)√({var} + 1))$, which is $1/√({var}² − 1)$ "
          "for ${var} > 1$ (arcosh is defined for ${var} ≥ 1$)."),
    _rule("atanh", "Inverse hyperbolic tangent rule", r"\frac{d}{dx}\operatorname{artanh} x = \frac{1}{1 - x^{2}}",
          "d/dx artanh x = 1/(1 − x²)", "The derivative of artanh is {result}, for $−1 < {var} < 1$ (where artanh is defined)."),
    _rule("acoth", "Inverse hyperbolic cotangent rule", r"\frac{d}{dx}\operatorname{arcoth} x = \frac{1}{1 - x^{2}}",
          "d/dx arcoth x = 1/(1 − x²)", "The derivative of arcoth is {result}, for $|{var}| > 1$ (where arcoth is defined)."),
    _rule("erf", "Error function rule", r"\frac{d}{dx}\operatorname{erf} x = \frac{2}{\sqrt{\pi}} e^{-x^{2}}",
          "d/dx erf x = (2/√π)·e^(−x²)", "The derivative of erf is the Gaussian {result}."),
    _rule("sigmoid", "Sigmoid rule", r"\sigma'(x) = \sigma(x)\left(1 - \sigma(x)\right)",
          "σ′(x) = σ(x)(1 − σ(x))",
          "From ${expr} = {definition}$, the chain rule gives ${derivation} = {result}$: the "
          "logistic sigmoid's derivative is $σ(1 − σ)$."),
    _rule("softplus", "Softplus rule", r"\frac{d}{dx}\operatorname{softplus}(x) = \sigma(x)",
          "d/dx softplus(x) = σ(x)",
          "From ${expr} = {definition}$, the chain rule gives ${derivation} = {result}$, the "
          "sigmoid."),
    _rule("relu", "ReLU rule",
          r"\frac{d}{dx}\operatorname{ReLU}(x) = H(x) = \begin{cases} 1 & x > 0 \\ 0 & x < 0 \end{cases}",
          "d/dx ReLU(x) = H(x): 1 for x > 0, 0 for x < 0",
          "$ReLU({var}) = max(0, {var})$ has slope $H({var})$, the step function: $1$ for ${var} > 0$ "
          "and $0$ for ${var} < 0$; at the kink, {kink}, it has "
          "no derivative (the convention $H(0) = 0$ is used)."),
    _rule("leaky_relu", "Leaky ReLU rule",
          r"\frac{d}{dx}\operatorname{LeakyReLU}(x) = \begin{cases} 1 & x > 0 \\ a & x < 0 \end{cases}",
          "d/dx LeakyReLU(x) = 1 for x > 0, a for x < 0",
          "Leaky ReLU has slope $1$ for ${var} > 0$ and its leak slope for ${var} < 0$; at the kink, {kink}, "
          "the convention is the leak slope."),
    _rule("elu", "ELU rule",
          r"\frac{d}{dx}\operatorname{ELU}(x) = \begin{cases} 1 & x > 0 \\ \alpha e^{x} & x \le 0 \end{cases}",
          "d/dx ELU(x) = 1 for x > 0, α·eˣ for x ≤ 0",
          "ELU has slope $1$ for ${var} > 0$ and $α·exp({var})$ below; the kink is at {kink}."),
    _rule("silu", "SiLU (swish) rule",
          r"\frac{d}{dx}\operatorname{SiLU}(x) = \sigma(x)\left(1 + x\left(1 - \sigma(x)\right)\right)",
          "d/dx SiLU(x) = σ(x)(1 + x(1 − σ(x)))",
          "$SiLU({var}) = {var}·σ({var})$; the product rule with $σ′ = σ(1 − σ)$ gives {result}."),
    _rule("gelu", "GELU rule", r"\frac{d}{dx}\operatorname{GELU}(x) = \Phi(x) + x\,\varphi(x)",
          "d/dx GELU(x) = Φ(x) + x·φ(x)",
          "$GELU({var}) = {var}·Φ({var})$ with $Φ$ the standard normal CDF and $φ$ its density, so "
          "its derivative is $Φ({var}) + {var}·φ({var})$."),
    _rule("logsumexp", "Log-sum-exp rule",
          r"\frac{\partial}{\partial z_i} \log \sum_j e^{z_j} = \operatorname{softmax}(z)_i",
          "∂/∂zᵢ log Σⱼ e^(zⱼ) = softmax(z)ᵢ",
          "The partial derivative of log-sum-exp in each argument is that argument's softmax weight."),
    _rule("softmax", "Softmax rule",
          r"\frac{\partial \operatorname{softmax}_i}{\partial z_j} = \operatorname{softmax}_i\left(\delta_{ij} - \operatorname{softmax}_j\right)",
          "∂softmaxᵢ/∂zⱼ = softmaxᵢ·(δᵢⱼ − softmaxⱼ)",
          "Each output $sᵢ = softmax(z)ᵢ$ depends on every input: $∂sᵢ/∂zⱼ = sᵢ(δᵢⱼ − sⱼ)$, where "
          "$δᵢⱼ$ is $1$ when $i = j$ and $0$ otherwise."),
]

#: every rule's identity and English, keyed by rule name
RULES: dict[str, Rule] = {rule.name: rule for rule in _GENERAL_RULES + _FUNCTION_RULES}


# --- small helpers -----------------------------------------------------------------------

def _depends(expr: sp.Basic, var: sp.Symbol) -> bool:
    """``expr`` contains ``var``, directly or as a term of a sum over an index
    (Σᵢ xᵢ² contains x₂ and x_k)."""
    if expr.has(var):
        return True
    return any(_indexed_terms(node.function, [limit[0] for limit in node.limits], var)
               for node in expr.atoms(sp.Sum))


def _name_parts(symbol: sp.Symbol) -> tuple[str, str] | None:
    """``x_i`` -> (``x``, ``i``); a name without a subscript -> None."""
    head, underscore, sub = symbol.name.partition("_")
    return (head, sub.strip("{}")) if underscore and head and sub else None


def _indexed_terms(body: sp.Basic, indices: list[sp.Symbol], var: sp.Symbol) -> list[sp.Symbol]:
    """The symbols of a summand that name ``var`` for some value of an index: with var = x₂
    or x_k, the summand's x_i, x_{i+1} or x_ij (same head, an index in the subscript)."""
    parts = _name_parts(var)
    if parts is None:
        return []
    indices = {index.name for index in indices}
    found = []
    for symbol in body.free_symbols:
        own = _name_parts(symbol)
        if own and own[0] == parts[0] and symbol != var and any(i in own[1] for i in indices):
            found.append(symbol)
    return found


def _step(rule: str, expr, var, result, substeps=(), facts=(), **detail) -> Step:
    return Step(rule=rule, expr=expr, var=var, result=result, substeps=tuple(substeps),
                facts=tuple(facts), detail=detail)


# --- the rules -----------------------------------------------------------------------------

def constant_rule(expr, var, ctx) -> Step:
    """d/dx c = 0 for any c free of x (numbers, other symbols, their combinations)."""
    return _step("constant", expr, var, sp.S.Zero)


def variable_rule(expr, var, ctx) -> Step:
    """d/dx x = 1."""
    return _step("variable", expr, var, sp.S.One)


def sum_rule(expr: sp.Add, var, ctx) -> Step:
    """d/dx (f₁ + … + fₙ) = f₁′ + … + fₙ′ (differences are sums with a −1 factor)."""
    substeps = [ctx.derive(term, var) for term in expr.args]
    result = sp.Add(*[s.result for s in substeps])
    return _step("sum", expr, var, result, substeps, count=len(expr.args))


def _split_constant_factor(expr: sp.Mul, var) -> tuple[sp.Expr, sp.Expr]:
    constant, rest = expr.as_independent(var, as_Add=False)
    return constant, rest


def _denominator_factors(factors, var) -> tuple[list, list]:
    """Split dependent factors into numerator ones and denominator bases^(−exponent)."""
    numerator, denominator = [], []
    for factor in factors:
        base, exponent = factor.as_base_exp()
        if exponent.is_Number and exponent.is_negative and not isinstance(factor, sp.exp):
            denominator.append(base ** (-exponent))
        else:
            numerator.append(factor)
    return numerator, denominator


def mul_rule(expr: sp.Mul, var, ctx) -> Step:
    """Dispatch a product: constant multiple, logarithm to a base, quotient, or product."""
    constant, rest = _split_constant_factor(expr, var)
    if constant != 1:
        if isinstance(rest, sp.log) and _is_log_base_factor(constant):
            return log_base_rule(expr, var, ctx)
        return constant_multiple_rule(expr, var, ctx)
    numerator, denominator = _denominator_factors(expr.args, var)
    if numerator and denominator:
        return quotient_rule(expr, var, ctx)
    return product_rule(expr, var, ctx)


def constant_multiple_rule(expr: sp.Mul, var, ctx) -> Step:
    """d/dx (c·f) = c·f′ for c free of x."""
    constant, rest = _split_constant_factor(expr, var)
    inner = ctx.derive(rest, var)
    return _step("constant_multiple", expr, var, constant * inner.result, [inner],
                 constant=constant, rest=rest)


def _is_log_base_factor(constant: sp.Expr) -> bool:
    base, exponent = constant.as_base_exp()
    return exponent == -1 and isinstance(base, sp.log) and not base.free_symbols


def log_base_rule(expr: sp.Mul, var, ctx) -> Step:
    """d/dx log_b(u) = d/dx [ln u / ln b] = u′/(u ln b)."""
    constant, rest = _split_constant_factor(expr, var)
    base = (1 / constant).args[0]
    inner = ctx.derive(rest, var)
    return _step("log_base", expr, var, constant * inner.result, [inner], base=base,
                 constant=constant, rest=rest)


def product_rule(expr: sp.Mul, var, ctx) -> Step:
    """d/dx (f₁ f₂ ⋯ fₙ) = Σᵢ fᵢ′ ∏_{j≠i} fⱼ: the factors are named (f, g, …), their
    derivatives given, and each term f′·g, f·g′ shown as written before it is added."""
    factors = expr.args
    substeps = [ctx.derive(f, var) for f in factors]
    names = _piece_names(len(factors))
    terms, shown, labelled = [], [], []
    cancellation = {}
    for i, step in enumerate(substeps):
        others = factors[:i] + factors[i + 1:]
        terms.append(step.result * sp.Mul(*others))
        shown.append(_held_product(*factors[:i], step.result, *factors[i + 1:]))  # as labelled
        labels = [names[j].primed() if j == i else names[j] for j in range(len(factors))]
        labelled.append(sp.Eq(sp.Mul(*labels, evaluate=False), shown[-1], evaluate=False))
        if not cancellation:
            cancellation = _term_cancellation(step.result, sp.Mul(*others))
    return _step("product", expr, var, sp.Add(*terms), substeps, count=len(factors),
                 assembled=sp.Add(*shown, evaluate=False),
                 pieces=[sp.Eq(n, f, evaluate=False) for n, f in zip(names, factors)],
                 derivatives=[sp.Eq(n.primed(), s.result, evaluate=False)
                              for n, s in zip(names, substeps)],
                 terms=labelled, **cancellation)


class PieceName(sp.Symbol):
    """A name for a factor in the product rule's sentence (f, g, f′): printed as itself in
    text, and with an ASCII prime in LaTeX."""

    def primed(self) -> PieceName:
        return PieceName(self.name + "′")

    def _derivekit_text(self, printer):
        return self.name

    def _latex(self, printer):
        return self.name.replace("′", "'")


def _piece_names(count: int) -> list[PieceName]:
    """f, g (h, k) as textbooks name the factors of a product; f₁ … fₙ beyond four."""
    if count <= 4:
        return [PieceName(n) for n in "fghk"[:count]]
    return [PieceName(f"f_{i}") for i in range(1, count + 1)]


def _term_cancellation(derivative: sp.Expr, others: sp.Expr) -> dict:
    """The detail of the cancellation inside one product-rule term fᵢ′·(the rest), when one
    side divides by a factor the other multiplies by (x·(1/x) = 1 in (x·log x)′), else {}."""
    for divides, multiplies in ((derivative, others), (others, derivative)):
        cancelled = cancelled_factor(divides, multiplies)
        if cancelled is not None:
            return {"cancelled": cancelled, "outer_at": divides, "inner_derivative": multiplies,
                    "simplified": derivative * others, "reason": ""}
    return {}


def _held_product(*factors) -> sp.Expr:
    """f′·g as written, before SymPy multiplies it out (a factor 1 left out, 0 kept whole)."""
    kept = [f for f in factors if f != 1]
    if any(f == 0 for f in kept):
        return sp.S.Zero
    return kept[0] if len(kept) == 1 else sp.Mul(*kept, evaluate=False)


def quotient_rule(expr: sp.Mul, var, ctx) -> Step:
    """d/dx (f/g) = (f′g − fg′)/g², for a product whose factors include negative powers."""
    numerator_factors, denominator_factors = _denominator_factors(expr.args, var)
    numerator, denominator = sp.Mul(*numerator_factors), sp.Mul(*denominator_factors)
    top, bottom = ctx.derive(numerator, var), ctx.derive(denominator, var)
    result = (top.result * denominator - numerator * bottom.result) / denominator ** 2
    f, g = _piece_names(2)
    return _step("quotient", expr, var, result, [top, bottom], numerator=numerator,
                 denominator=denominator, top=top.result, bottom=bottom.result,
                 pieces=[sp.Eq(f, numerator, evaluate=False), sp.Eq(g, denominator, evaluate=False)],
                 derivatives=[sp.Eq(f.primed(), top.result, evaluate=False),
                              sp.Eq(g.primed(), bottom.result, evaluate=False)],
                 formula=(f.primed() * g - f * g.primed()) / g**2)


def pow_rule(expr: sp.Pow, var, ctx) -> Step:
    """Dispatch a power: power/sqrt rule (constant exponent), a^x (constant base), or
    logarithmic differentiation (both depend on x)."""
    base, exponent = expr.base, expr.exp  # not as_base_exp(): it turns (1/2)^u into 2^(−u)
    base_varies, exponent_varies = _depends(base, var), _depends(exponent, var)
    if base_varies and exponent_varies:
        return log_diff_rule(expr, var, ctx)
    if exponent_varies:
        return _with_chain(expr, exponent, var, ctx, _exponential_outer)
    return _with_chain(expr, base, var, ctx, _power_outer)


def _power_outer(expr: sp.Pow, var) -> Step:
    """d/dx xⁿ = n xⁿ⁻¹ (any constant n: negative, fractional; n = 1/2 is √x)."""
    base, n = expr.base, expr.exp
    result = n * base ** (n - 1)
    rule = "sqrt" if n == sp.S.Half else "power"
    return _step(rule, expr, var, result, n=n)


def _exponential_outer(expr: sp.Pow, var) -> Step:
    """d/dx aˣ = aˣ ln a for a constant base a > 0."""
    base = expr.base
    return _step("exponential", expr, var, expr * sp.log(base), base=base)


def log_diff_rule(expr: sp.Pow, var, ctx) -> Step:
    """y = f^g ⇒ ln y = g·ln f ⇒ y′ = f^g·(g·ln f)′ (logarithmic differentiation)."""
    base, exponent = expr.base, expr.exp
    log_form = exponent * sp.log(base)
    inner = ctx.derive(log_form, var)
    # the name for the function must not be one of its variables
    y = next(sp.Symbol(n) for n in ("y", "F", "Y", "φ", "ψ") if sp.Symbol(n) not in expr.free_symbols)
    return _step("log_diff", expr, var, expr * inner.result, [inner], log_form=log_form,
                 y=y, y_equation=sp.Eq(y, expr, evaluate=False),
                 log_equation=sp.Eq(sp.log(y), log_form, evaluate=False))


def _function_outer(expr: sp.Expr, var) -> Step:
    """d/du f(u) from the function's entry in FUNCTION_DERIVATIVES."""
    entry = _function_entry(type(expr))
    detail = {}
    if entry.kink is not None:
        detail["kink"] = entry.kink(expr)
    if entry.rule in OWN_DERIVATIONS:
        detail["definition"], detail["derivation"] = OWN_DERIVATIONS[entry.rule](expr.args[0])
    return _step(entry.rule, expr, var, entry.derivative(expr), **detail)


def _sigmoid_derivation(u):
    """σ(u) = 1/(1 + e^(−u)); the chain rule gives e^(−u)/(1 + e^(−u))² = σ(u)(1 − σ(u))."""
    return 1 / (1 + sp.exp(-u)), sp.exp(-u) / (1 + sp.exp(-u)) ** 2


def _tanh_derivation(u):
    """tanh u = sinh u/cosh u; the quotient rule gives (cosh² u − sinh² u)/cosh² u = 1 − tanh² u."""
    return sp.sinh(u) / sp.cosh(u), (sp.cosh(u) ** 2 - sp.sinh(u) ** 2) / sp.cosh(u) ** 2


def _softplus_derivation(u):
    """softplus(u) = ln(1 + eᵘ); the chain rule gives eᵘ/(1 + eᵘ) = σ(u)."""
    return sp.log(1 + sp.exp(u)), sp.exp(u) / (1 + sp.exp(u))


#: what those rules say when the derivation is not shown (a later use, or ``brief=True``)
BRIEF_EXPLANATIONS = {
    "sigmoid": "The logistic sigmoid's derivative is $σ(1 − σ)$.",
    "tanh": "The derivative of tanh is $1 − tanh²$.",
    "softplus": "$softplus({var}) = log(1 + exp({var}))$, whose derivative is the sigmoid $σ({var})$.",
}

#: deep-learning functions whose rule shows where its derivative comes from: (definition,
#: the derivative of the definition before it is recognised)
OWN_DERIVATIONS = {"sigmoid": _sigmoid_derivation, "tanh": _tanh_derivation,
                   "softplus": _softplus_derivation}


def _function_entry(cls: type) -> FunctionDerivative:
    for klass in cls.__mro__:
        if klass in FUNCTION_DERIVATIVES:
            return FUNCTION_DERIVATIVES[klass]
    raise KeyError(cls)


def function_rule(expr: sp.Expr, var, ctx) -> Step:
    """d/dx f(g(x)) = f′(g(x))·g′(x) for a one-argument function with a known derivative
    (parameters such as LeakyReLU's slope are constants here)."""
    first, *params = expr.args
    if any(_depends(p, var) for p in params):
        return multivariable_rule(expr, var, ctx)
    return _with_chain(expr, first, var, ctx, _function_outer)


def _with_chain(expr, inner, var, ctx, outer_rule, outer_at_inner=None) -> Step:
    """Apply ``outer_rule`` directly when ``inner`` is the variable itself, else the chain
    rule: name ``u = inner``, differentiate the outer function in u and ``inner`` in x.
    ``outer_at_inner`` is f′(inner) when substituting back into f′(u) is not valid (an
    unknown f, whose f′ at a compound argument is a ``Subs``)."""
    if inner == var:
        return outer_rule(expr, var)
    name = ctx.name_for(inner)
    outer = expr.xreplace({inner: name})
    outer_step = outer_rule(outer, name)
    inner_step = ctx.derive(inner, var)
    if outer_at_inner is None:
        outer_at_inner = _substitute_back(outer_step.result, name, inner, expr)
    result = outer_at_inner * inner_step.result
    cancelled = cancelled_factor(outer_at_inner, inner_step.result)
    extra = {} if cancelled is None else {"cancelled": cancelled, "outer_at": outer_at_inner,
                                          "simplified": result,
                                          "reason": _cancellation_reason(cancelled)}
    return _step("chain", expr, var, result, [outer_step, inner_step], facts=[(name, inner)],
                 outer=outer, inner=inner, name=name, outer_derivative=outer_step.result,
                 inner_derivative=inner_step.result,
                 product=sp.Mul(outer_at_inner, inner_step.result, evaluate=False), **extra)


#: the sentence a chain step adds when f′(g) divides by a factor that g′ multiplies by (and
#: a product step, when one term's factors do): the cancellation is the step's insight
#: (σ′/σ = 1 − σ in the BCE gradient, x·(1/x) = 1 in (x·log x)′), so it is said
CANCELLATION = ("Here {cancelled} cancels: it divides in {outer_at} and multiplies in "
                "{inner_derivative}, so the product is {simplified}{reason}.")


def _cancellation_reason(cancelled: sp.Expr) -> str:
    """Why it cancels, for the cancellations a student should recognise by name."""
    from derivekit.parsing.functions import sigmoid
    if isinstance(cancelled, sigmoid):
        return " (as $σ′/σ = 1 − σ$, because $σ′ = σ(1 − σ)$)"
    if isinstance(1 - cancelled, sigmoid):
        return " (as $(1 − σ)′/(1 − σ) = −σ$, because $σ′ = σ(1 − σ)$)"
    return ""


def cancelled_factor(outer: sp.Expr, inner: sp.Expr) -> sp.Expr | None:
    """The factors that ``outer`` divides by and ``inner`` multiplies by (σ(z) in
    1/σ(z) · xσ(z)(1 − σ(z))), or None: they cancel in the chain rule's product."""
    divides = {}
    for factor in sp.Mul.make_args(outer):
        base, power = factor.as_base_exp()
        if power.is_Integer and power < 0 and not base.is_number:
            divides[base] = -power
    common = sp.S.One
    for factor in sp.Mul.make_args(inner):
        base, power = factor.as_base_exp()
        if base in divides and power.is_Integer and power > 0:
            common *= base ** min(power, divides[base])
    return None if common == 1 else common


def multivariable_rule(expr: sp.Expr, var, ctx, rule: str | None = None, **detail) -> Step:
    """d/dx f(z₁, …, zₙ) = Σⱼ ∂f/∂zⱼ · dzⱼ/dx, with ∂f/∂zⱼ from the function's ``fdiff``
    (logsumexp → softmax, softmax's Jacobian, Max/Min, unknown functions)."""
    substeps, terms, partials = [], [], []
    for index, arg in enumerate(expr.args, start=1):
        if not _depends(arg, var):
            continue
        try:
            partial = expr.fdiff(index)
        except ArgumentIndexError:  # e.g. H(x, h0): SymPy has no ∂/∂h0
            raise UnsupportedError(f"no derivative of {expr.func.__name__} with respect to its "
                                   f"argument {index} ({arg})",
                                   hint="keep that argument a constant, or differentiate with "
                                        "respect to another variable") from None
        inner = ctx.derive(arg, var)
        substeps.append(inner)
        partials.append(partial)
        terms.append(partial * inner.result)
    name = rule or "multivariable_chain"
    return _step(name, expr, var, sp.Add(*terms), substeps, function=expr.func,
                 partials=partials, **detail)


def max_min_rule(expr, var, ctx) -> Step:
    """d/dx max(f, g) follows the larger argument (f′ where f > g, g′ where f < g); the
    derivative does not exist where the arguments tie (the kink)."""
    rule = "max" if isinstance(expr, sp.Max) else "min"
    if len(expr.args) == 2:
        first, second = expr.args
        if first.is_number:  # max(0, z): say "z = 0", not "0 = z"
            first, second = second, first
        kink = sp.Eq(first, second, evaluate=False)
    else:
        kink = "two arguments tie"
    which = ("larger" if rule == "max" else "smaller") if len(expr.args) == 2 else \
        ("largest" if rule == "max" else "smallest")
    return multivariable_rule(expr, var, ctx, rule, kink=kink, which=which)


def logsumexp_rule(expr, var, ctx) -> Step:
    """∂/∂zᵢ LSE(z) = softmax(z)ᵢ, combined by the multivariable chain rule."""
    return multivariable_rule(expr, var, ctx, "logsumexp")


def softmax_rule(expr, var, ctx) -> Step:
    """∂softmaxᵢ/∂zⱼ = softmaxᵢ(δᵢⱼ − softmaxⱼ), combined by the multivariable chain rule."""
    return multivariable_rule(expr, var, ctx, "softmax", index=expr.args[0])


def abstract_function_rule(expr, var, ctx) -> Step:
    """d/dx f(g(x)) = f′(g(x))·g′(x) with f′ kept symbolic (as sympy.diff writes it:
    Derivative(f(x), x), or Subs(Derivative(f(ξ), ξ), ξ, g(x)) for a compound argument)."""
    if len(expr.args) == 1:
        return _with_chain(expr, expr.args[0], var, ctx, _abstract_outer, expr.fdiff(1))
    return multivariable_rule(expr, var, ctx)


def _substitute_back(derivative, name, inner, expr):
    """f′(u) with u = inner put back. A derivative SymPy left unevaluated in u (of |eᵘ|,
    say) is worked out first: a Derivative with respect to a compound ``inner`` cannot
    exist, and SymPy raises ValueError building one."""
    if derivative.has(sp.Derivative):
        derivative = derivative.doit()
    try:
        return derivative.xreplace({name: inner})
    except ValueError:
        raise UnsupportedError(f"cannot apply the chain rule to {expr}: the outer "
                               "function's derivative stays unevaluated",
                               hint="rewrite the expression, e.g. without the absolute value "
                                    "of a positive function") from None


def _abstract_outer(expr, var) -> Step:
    """d/dx f(x) = f′(x), kept as ``Derivative(f(x), x)``."""
    return _step("abstract_function", expr, var, expr.fdiff(1), function=expr.func)


def known_function_rule(expr, var, ctx) -> Step:
    """d/dx f(g(x)) = f′(g(x))·g′(x) for any other SymPy function, with f′ from its own
    ``fdiff`` (atan2, gamma, …): rarer functions need no entry of their own."""
    if len(expr.args) == 1:
        return _with_chain(expr, expr.args[0], var, ctx, _known_outer)
    return multivariable_rule(expr, var, ctx)


def _known_outer(expr, var) -> Step:
    return _step("function", expr, var, expr.fdiff(1), function=expr.func)


def symbolic_derivative_rule(expr, var, ctx) -> Step:
    """d/dx (dⁿf/dxⁿ) = dⁿ⁺¹f/dxⁿ⁺¹ for derivatives (and their substitutions) of unknown
    functions, which stay symbolic."""
    return _step("symbolic_derivative", expr, var, sp.diff(expr, var))


def piecewise_rule(expr: sp.Piecewise, var, ctx) -> Step:
    """d/dx {fᵢ if cᵢ} = {fᵢ′ if cᵢ}, piece by piece (boundaries may have no derivative)."""
    substeps = [ctx.derive(piece, var) for piece, _ in expr.args]
    result = sp.Piecewise(*[(s.result, cond) for s, (_, cond) in zip(substeps, expr.args)])
    return _step("piecewise", expr, var, result, substeps, count=len(expr.args))


def index_sum_rule(expr: sp.Sum, var, ctx) -> Step:
    """d/dx Σᵢ fᵢ = Σᵢ dfᵢ/dx when x is the same in every term; ∂/∂x_k Σᵢ f(xᵢ) = f′(x_k)
    when x_k is the term i = k (a ≤ k ≤ b assumed, and stated). Other index patterns
    (x_{i+1}, a name both inside and outside the index) are refused with a hint."""
    # Σ_j Σ_i f: the outer sum (over the last limit) of the inner one
    body = sp.Sum(expr.function, *expr.limits[:-1]) if len(expr.limits) > 1 else expr.function
    index, low, high = expr.limits[-1]
    indexed = _indexed_terms(body, [index], var)
    if not indexed:
        inner = ctx.derive(body, var)
        result = sp.Sum(inner.result, (index, low, high)) if inner.result != 0 else sp.S.Zero
        return _step("sum_inside", expr, var, result, [inner], index=index)
    value = _index_value(index, var, indexed)
    if _depends(body, var):  # also through an inner sum's index: Σ_j Σ_i (x_i + x_j)
        raise UnsupportedError(
            f"{var} appears in the sum {expr} both as a term x_{index} and on its own",
            hint=f"give the sum numeric bounds (e.g. {index} from 1 to 3) so derivekit expands "
                 "it, or use a different name for the fixed variable")
    from derivekit.parsing.parse import substitute_index
    term = substitute_index(body, index, value)
    inner = ctx.derive(term, var)
    return _step("sum_index", expr, var, inner.result, [inner], index=index, value=value,
                 low=low, high=high)


def _index_value(index: sp.Symbol, var: sp.Symbol, indexed: list[sp.Symbol]) -> sp.Basic:
    """The index value at which the summand's x_i is ``var`` (x₂ -> 2, x_k -> k)."""
    head, sub = _name_parts(var)
    exact = [s for s in indexed if _name_parts(s)[1] == index.name]
    if len(exact) != len(indexed) or not re.fullmatch(r"[A-Za-z]|\d+", sub):
        shown = ", ".join(sorted(s.name for s in indexed))
        raise UnsupportedError(
            f"cannot tell which term of the sum over {index} holds {var} (the summand has "
            f"{shown})",
            hint=f"write the summand with {head}_{index} only, or give the sum numeric bounds "
                 f"(e.g. {index} from 1 to 3) so derivekit expands it")
    return sp.Integer(sub) if sub.isdigit() else sp.Symbol(sub)


def norm_rule(expr, var, ctx) -> Step:
    """‖v‖ of a vector has no scalar derivative here: refused, naming the matrix engine."""
    refuse_vector_norms(expr)
    raise AssertionError("unreachable")  # refuse_vector_norms always raises for a Norm


def refuse_vector_norms(expr: sp.Basic) -> None:
    """Raise :class:`NeedsMatrixEngine` when ``expr`` holds a norm ‖v‖ (of a vector: the
    parser turns a norm of a number into |·|), spelling the same loss for ``matgrad``."""
    from derivekit.parsing.parse import Norm
    norms = list(expr.atoms(Norm))
    if not norms:
        return
    source = matrix_spelling(expr)
    vectors = sorted({s.name for n in norms for s in n.free_symbols})
    others = sorted(s.name for s in expr.free_symbols if s.name not in vectors)
    shapes = ",".join([f"{v}=nx1" for v in vectors] + [f"{o}=1x1" for o in others])
    wrt = vectors[0] if vectors else "x"
    command = f'derivekit matgrad "{source}" --wrt {wrt} --shapes {shapes}'
    raise NeedsMatrixEngine(
        f"‖{norms[0].args[0]}‖ is the norm of a vector, which the scalar engine cannot differentiate",
        hint=f"use the matrix engine: {command} (or dk.matrix_gradient with the same text)",
        matrix_source=source)


def matrix_spelling(expr: sp.Basic) -> str:
    """``expr`` in the matrix language: ‖v‖² -> ``norm2(v)``, ‖v‖ -> ``sqrt(norm2(v))``."""
    from derivekit.parsing.parse import Norm
    norm2 = sp.Function("norm2")
    squared = expr.replace(lambda e: e.is_Pow and isinstance(e.base, Norm) and e.exp.is_even,
                           lambda e: norm2(e.base.args[0]) ** (e.exp / 2))
    plain = squared.replace(lambda e: isinstance(e, Norm),
                            lambda e: sp.sqrt(norm2(e.args[0])))
    return sp.sstr(plain)


#: expression head (class) -> rule function; the MRO is searched, so subclasses inherit
HEAD_RULES: dict[type, RuleFunction] = {
    sp.Add: sum_rule,
    sp.Mul: mul_rule,
    sp.Pow: pow_rule,
    sp.Piecewise: piecewise_rule,
    sp.Max: max_min_rule,
    sp.Min: max_min_rule,
    dl.logsumexp: logsumexp_rule,
    dl.softmax: softmax_rule,
    AppliedUndef: abstract_function_rule,
    sp.Derivative: symbolic_derivative_rule,
    sp.Subs: symbolic_derivative_rule,
    sp.Sum: index_sum_rule,
    **{cls: function_rule for cls in FUNCTION_DERIVATIVES},
    sp.Function: known_function_rule,  # the fallback: found last in any function's MRO
}


def rule_for(expr: sp.Basic) -> RuleFunction:
    """The rule function for ``expr``'s head, or a clear error naming the head."""
    from derivekit.parsing.parse import Norm
    if isinstance(expr, Norm):
        return norm_rule
    for klass in type(expr).__mro__:
        if klass in HEAD_RULES:
            return HEAD_RULES[klass]
    raise UnsupportedError(
        f"no differentiation rule for {type(expr).__name__} (in {expr})",
        hint="rewrite it with supported functions (see docs/rules.md), or use sympy.diff directly")


def apply_rule(expr: sp.Expr, var: sp.Symbol, ctx: Context) -> Step:
    """One step for d expr/d var: constant, variable, or the rule for ``expr``'s head."""
    if expr == var:
        return variable_rule(expr, var, ctx)
    if not _depends(expr, var):
        return constant_rule(expr, var, ctx)
    return rule_for(expr)(expr, var, ctx)
