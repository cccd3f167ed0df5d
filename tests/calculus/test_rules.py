"""The rule table: every rule has its English, is reachable, and gives sympy.diff's answer."""

from __future__ import annotations

import string

import pytest
import sympy as sp

from derivekit.calculus.derive import derive
from derivekit.calculus.engine import Engine
from derivekit.calculus.rules import (
    FUNCTION_DERIVATIVES,
    HEAD_RULES,
    RULES,
    apply_rule,
    rule_for,
)
from derivekit.errors import UnsupportedError
from derivekit.parsing import functions as dl

x, y, a = sp.symbols("x y a", real=True)
f = sp.Function("f")

#: rule name -> an expression whose derivative in x uses it
EXAMPLES = {
    "constant": y**2, "variable": x, "constant_multiple": 3 * x**2, "sum": x + sp.sin(x),
    "power": x**5, "sqrt": sp.sqrt(x), "product": x * sp.exp(x) * sp.sin(x),
    "quotient": sp.sin(x) / x, "chain": sp.sin(x**2), "exp": sp.exp(x), "exponential": 2**x,
    "log": sp.log(x), "log_base": sp.log(x, 2), "log_diff": x**x,
    "sin": sp.sin(x), "cos": sp.cos(x), "tan": sp.tan(x), "cot": sp.cot(x), "sec": sp.sec(x),
    "csc": sp.csc(x), "asin": sp.asin(x), "acos": sp.acos(x), "atan": sp.atan(x),
    "acot": sp.acot(x), "asec": sp.asec(x), "acsc": sp.acsc(x), "sinh": sp.sinh(x),
    "cosh": sp.cosh(x), "tanh": sp.tanh(x), "coth": sp.coth(x), "sech": sp.sech(x),
    "csch": sp.csch(x), "asinh": sp.asinh(x), "acosh": sp.acosh(x), "atanh": sp.atanh(x),
    "acoth": sp.acoth(x), "erf": sp.erf(x), "abs": sp.Abs(x), "sign": sp.sign(x),
    "heaviside": sp.Heaviside(x), "piecewise": sp.Piecewise((x**2, x > 0), (x, True)),
    "max": sp.Max(x, y), "min": sp.Min(x, y), "abstract_function": f(x),
    "symbolic_derivative": sp.Derivative(f(x), x), "multivariable_chain": sp.Function("g")(x, x**2),
    "sigmoid": dl.sigmoid(x), "softplus": dl.softplus(x), "relu": dl.relu(x),
    "leaky_relu": dl.leaky_relu(x), "elu": dl.elu(x), "silu": dl.silu(x), "gelu": dl.gelu(x),
    "logsumexp": dl.logsumexp(x, y), "softmax": dl.softmax(1, x, y), "function": sp.gamma(x),
    "sum_inside": sp.Sum(sp.Symbol("i") * x**2, (sp.Symbol("i"), 1, sp.Symbol("n"))),
}
#: where the step engine deliberately differs from sympy.diff (distributions at a jump)
AWAY_FROM_THE_JUMP = {"sign", "heaviside"}


def test_every_rule_has_english():
    for name, rule in RULES.items():
        assert rule.name == name
        assert rule.title and rule.statement and rule.statement_text and rule.explanation
        assert rule.explanation.endswith(".")


def test_every_function_entry_has_a_rule():
    for cls, entry in FUNCTION_DERIVATIVES.items():
        assert entry.rule in RULES, cls
        assert cls in HEAD_RULES


def test_every_rule_except_implicit_has_an_example():
    # sum_index differentiates by a subscripted x_k, which sympy.diff cannot check: it has
    # its own tests against written-out sums (test_index_sums.py)
    assert set(RULES) - set(EXAMPLES) == {"implicit", "sum_index"}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rule_is_used_and_agrees_with_sympy(name):
    expr = EXAMPLES[name]
    d = derive(expr, x)
    used = {step.rule for root in d.steps for step in root.walk()}
    assert name in used
    expected = sp.diff(expr, x)
    if name in AWAY_FROM_THE_JUMP:
        expected = expected.replace(sp.DiracDelta, lambda *args: 0)
    difference = dl.to_elementary(d.result - expected)
    assert difference == 0 or sp.simplify(difference) == 0 or all(
        abs(difference.evalf(30, subs={x: v, y: 0.3})) < 1e-20 for v in (0.31, 0.77, 0.53))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_explanations_fill_from_the_step_detail(name):
    d = derive(EXAMPLES[name], x)
    for root in d.steps:
        for step in root.walk():
            fields = {field for _, field, _, _ in string.Formatter().parse(RULES[step.rule].explanation)
                      if field}
            available = {"expr", "var", "result", *step.detail}
            assert fields <= available, (step.rule, fields - available)


def test_kinks_are_stated():
    for expr in (dl.relu(x), sp.Abs(x), sp.Max(x, y), dl.leaky_relu(x)):
        root = derive(expr, x).steps[0]
        assert "kink" in root.detail


def test_dispatch_is_by_head_and_subclasses_inherit():
    assert rule_for(sp.sin(x)) is HEAD_RULES[sp.sin]
    assert rule_for(f(x)) is HEAD_RULES[sp.core.function.AppliedUndef]


def test_unknown_head_is_a_clear_error():
    integral = sp.Integral(sp.sin(x * y), (x, 0, 1))
    with pytest.raises(UnsupportedError, match="Integral"):
        apply_rule(integral, y, Engine([integral]))


def test_functions_without_an_entry_use_their_own_fdiff():
    class Mystery(sp.Function):
        def fdiff(self, argindex=1):
            return sp.cos(self.args[0])
    d = derive(Mystery(x**2), x)
    assert d.steps[0].rule == "chain"
    assert d.steps[0].substeps[0].rule == "function"
    assert d.result == 2 * x * sp.cos(x**2)


def test_chain_names_are_distinct_and_avoid_the_inputs_names():
    u1 = sp.Symbol("u_1")
    d = derive(sp.sin(sp.exp(x**2 + u1)), x)
    names = [name for step in d.steps[0].walk() for name, _ in step.facts]
    assert u1 not in names
    assert len(names) == len(set(names)) == 2


def test_abstract_function_matches_sympy_structurally():
    assert derive(f(x**2), x).result == sp.diff(f(x**2), x)
    assert derive(f(x), x).result == sp.Derivative(f(x), x)
