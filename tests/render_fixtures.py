"""Hand-made derivations for the renderer tests: built directly from Step objects, with a
small rule table, so the renderers are tested apart from the step engine."""

from __future__ import annotations

import sympy as sp

from derivekit.calculus.steps import (
    Derivation,
    MatrixOfDerivations,
    Rewrite,
    Rule,
    Step,
)
from derivekit.parsing.functions import sigmoid

w, x, b, y = sp.symbols("w x b y")
u1 = sp.Symbol("u1")
z = w * x + b

FAKE_RULES = {
    "chain": Rule("chain", "Chain rule", r"\frac{d}{dx} f(g(x)) = f'(g(x))\, g'(x)",
                  "d/dx f(g(x)) = f′(g(x))·g′(x)",
                  "Substitute {name} = {inner}: differentiate {outer} at {name}, times d{name}/d{var}."),
    "sigmoid": Rule("sigmoid", "Sigmoid rule", r"\sigma' = \sigma (1 - \sigma)", "σ′ = σ(1 − σ)",
                    "σ′ = σ(1 − σ), so the derivative of {expr} is {result}."),
    "sum": Rule("sum", "Sum rule", "", "", "Differentiate each of the {count} terms & add."),
    "constant_multiple": Rule("constant_multiple", "Constant multiple rule", "", "",
                              "The constant {constant} stays."),
    "variable": Rule("variable", "Variable rule", "", "", "The derivative of {var} is 1."),
    "constant": Rule("constant", "Constant rule", "", "", "{expr} does not depend on {var}."),
}


def _leaf(rule, expr, var, result, **detail):
    return Step(rule, expr, var, result, detail=detail)


def inner_steps(var=w):
    wx = _leaf("constant_multiple", w * x, var, x if var == w else w, constant=x if var == w else w)
    const = _leaf("constant", b, var, sp.S.Zero)
    if var == b:
        wx = _leaf("constant", w * x, var, sp.S.Zero)
        const = _leaf("variable", b, var, sp.S.One)
    return Step("sum", z, var, wx.result + const.result, substeps=(wx, const), detail={"count": 2})


def sigmoid_derivation(var=w, label=None, ref=None) -> Derivation:
    """d/dw σ(w·x + b), shaped as the step engine shapes it."""
    outer = Step("sigmoid", sigmoid(u1), u1, sigmoid(u1) * (1 - sigmoid(u1)), label=label, ref=ref)
    inner = inner_steps(var)
    raw = sigmoid(z) * (1 - sigmoid(z)) * inner.result
    root = Step("chain", sigmoid(z), var, raw, substeps=(outer, inner), facts=((u1, z),),
                detail={"name": u1, "inner": z, "outer": sigmoid(u1), "outer_derivative": outer.result})
    return Derivation(sigmoid(z), var, 1, (root,), raw, raw)


def gradient_matrix() -> MatrixOfDerivations:
    """∇ σ(w·x + b) over (w, b): the σ′ sub-derivation is shared."""
    shared_outer = Step("sigmoid", sigmoid(u1), u1, sigmoid(u1) * (1 - sigmoid(u1)), label="s1")
    dw = sigmoid_derivation(w, ref="s1")
    db = sigmoid_derivation(b, ref="s1")
    result = sp.Matrix([[dw.result], [db.result]])
    return MatrixOfDerivations("gradient", (sigmoid(z),), (w, b), ((dw,), (db,)), result,
                               shared={"s1": shared_outer})


def rewritten_derivation() -> Derivation:
    d = sigmoid_derivation()
    tidy = x * sigmoid(z) * (1 - sigmoid(z))
    return Derivation(d.expr, d.wrt, 1, d.steps, d.raw_result, tidy,
                      rewrites=(Rewrite("collect the factor x", d.raw_result, tidy),))
