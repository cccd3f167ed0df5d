"""dk.parse: the plain-text grammar, the LaTeX front, errors with positions, round trips."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import derivekit as dk
from derivekit.errors import LimitError, ParseError
from derivekit.parsing.functions import (
    elu,
    gelu,
    leaky_relu,
    logsumexp,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
)
from derivekit.parsing.parse import InputLimitError, Norm, parse, to_text_source

x, y, z, w, b, a = sp.symbols("x y z w b a")
f, g = sp.Function("f"), sp.Function("g")


def same(source, expected, syntax="auto"):
    result = parse(source, syntax=syntax)
    assert result == expected, f"{source!r} -> {result!r}, expected {expected!r}"
    return result


# --- plain text -------------------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    ("x + y - z", x + y - z),
    ("x*y/z", x * y / z),
    ("x^2", x**2), ("x**2", x**2), ("2^3^2", sp.Integer(512)),
    ("-x^2", -x**2), ("x^-1", 1 / x), ("--x", x), ("+x", x), ("x*-y", -x * y),
    ("-(x+1)*y", sp.Mul(-1, x + 1, y)), ("a - -b", a + b), ("2^-x", 2**-x),
    ("2x", 2 * x), ("2(x+1)", 2 * (x + 1)), ("(a)(b)", a * b), ("2 x y", 2 * x * y),
    ("x^2 y", x**2 * y), ("(x+1)(x-1)", (x + 1) * (x - 1)), ("[x+1]^2", (x + 1)**2),
    ("1/2x", x / 2), ("a/b/z", a / (b * z)),
    ("0.25", sp.Rational(1, 4)), (".5", sp.Rational(1, 2)), ("1e-3", sp.Rational(1, 1000)),
    ("2.5e2", sp.Integer(250)), ("3.", sp.Integer(3)),
    ("e", sp.E), ("E", sp.E), ("e^x", sp.exp(x)), ("pi", sp.pi), ("π", sp.pi),
    ("x·y", x * y), ("x × y", x * y), ("a − b", a - b),
    ("x = y^2", sp.Eq(x, y**2)),
    ("|x|", sp.Abs(x)), ("||x| - 1|", sp.Abs(sp.Abs(x) - 1)), ("x*|y|^2", x * sp.Abs(y)**2),
])
def test_text_operators_numbers_constants(source, expected):
    same(source, expected)


@pytest.mark.parametrize("source, expected", [
    ("x²", x**2), ("x⁻¹", 1 / x), ("x²y", x**2 * y), ("θ₁²", sp.Symbol("theta_1")**2),
    ("√x", sp.sqrt(x)), ("1/(2√x)", 1 / (2 * sp.sqrt(x))), ("√(x+1)", sp.sqrt(x + 1)),
    ("x₁₂", sp.Symbol("x_12")), ("sgn(x)", sp.sign(x)),
    ("x·σ(w·x + b)·(1 − σ(w·x + b))", x * sigmoid(w * x + b) * (1 - sigmoid(w * x + b))),
    ("2tanh(x)·(1 − tanh(x)²) + log(x)·sgn(x) + |x|/x − 2/x³",
     2 * sp.tanh(x) * (1 - sp.tanh(x)**2) + sp.log(x) * sp.sign(x) + sp.Abs(x) / x - 2 / x**3),
    ("LeakyReLU(z) + ReLU(z)", leaky_relu(z) + relu(z)),
])
def test_derivekit_unicode_output_reads_back(source, expected):
    """Text as derivekit's renderers print it (superscripts, subscripts, √, ·, −, σ, |x|)."""
    same(source, expected)


def test_numbers_with_many_leading_zeros_or_a_long_exponent():
    assert parse("0" * 5_000 + "1") == 1
    with pytest.raises(InputLimitError, match="exponent"):
        parse("1e" + "9" * 5_000)


def test_decimals_are_exact_rationals():
    result = parse("0.1 + 0.2")
    assert result == sp.Rational(3, 10) and result.is_Rational


@pytest.mark.parametrize("source, name", [
    ("w_1", "w_1"), ("x_ij", "x_ij"), ("W_{12}", "W_12"), ("alpha", "alpha"),
    ("theta", "theta"), ("θ", "theta"), ("θ_1", "theta_1"), ("xy", "xy"), ("wx", "wx"),
    ("sigma", "sigma"), ("x2", "x2"), ("lambda", "lambda"),
])
def test_names_are_single_plain_symbols_never_split(source, name):
    result = parse(source)
    assert result == sp.Symbol(name) and result.assumptions0 == sp.Symbol(name).assumptions0


@pytest.mark.parametrize("source, expected", [
    ("exp(x)", sp.exp(x)), ("log(x)", sp.log(x)), ("ln(x)", sp.log(x)),
    ("log(x, 2)", sp.log(x, 2)), ("sqrt(x)", sp.sqrt(x)), ("abs(x)", sp.Abs(x)),
    ("sin(x)+cos(x)+tan(x)", sp.sin(x) + sp.cos(x) + sp.tan(x)),
    ("asin(x)+acos(x)+atan(x)", sp.asin(x) + sp.acos(x) + sp.atan(x)),
    ("arcsin(x)+arctan(x)", sp.asin(x) + sp.atan(x)),
    ("sinh(x)+cosh(x)+tanh(x)", sp.sinh(x) + sp.cosh(x) + sp.tanh(x)),
    ("sigmoid(w*x + b)", sigmoid(w * x + b)), ("σ(x)", sigmoid(x)), ("sigma(x)", sigmoid(x)),
    ("relu(x)", relu(x)), ("ReLU(x)", relu(x)), ("leaky_relu(x)", leaky_relu(x)),
    ("leaky_relu(x, 0.2)", leaky_relu(x, sp.Rational(1, 5))), ("softplus(x)", softplus(x)),
    ("silu(x)", silu(x)), ("swish(x)", silu(x)), ("gelu(x)", gelu(x)), ("GELU(x)", gelu(x)),
    ("elu(x)", elu(x)), ("max(0, x)", sp.Max(0, x)), ("min(x, y)", sp.Min(x, y)),
    ("logsumexp(x, y)", logsumexp(x, y)), ("softmax(1, x, y)", softmax(1, x, y)),
    ("f(x)", f(x)), ("g(x, y)", g(x, y)), ("f_1(x)", sp.Function("f_1")(x)),
    ("log_2(x)", sp.log(x, 2)), ("log_b(x)", sp.log(x, b)),
    ("f(x)^2", f(x)**2), ("2sigmoid(x)", 2 * sigmoid(x)), ("sigmoid (x)", sigmoid(x)),
])
def test_text_function_calls(source, expected):
    same(source, expected)


U = sp.Dummy("u", dummy_index=271828)
t_ = sp.Symbol("t")


@pytest.mark.parametrize("source, expected", [
    ("f'(x)", sp.Derivative(f(x), x)), ("g''(t)", sp.Derivative(g(t_), (t_, 2))),
    ("sigmoid'(z)", sp.Derivative(sigmoid(z), z)), ("σ'(z)", sp.Derivative(sigmoid(z), z)),
    ("sigmoid'(w*x + b)", sp.Subs(sp.Derivative(sigmoid(U), U), U, w * x + b)),
    (r"\sigma'(wx + b)", sp.Subs(sp.Derivative(sigmoid(U), U), U, w * x + b)),
    (r"\operatorname{ReLU}'(x)", sp.Derivative(relu(x), x)),
    (r"\tanh'(x)", sp.Derivative(sp.tanh(x), x)),
    (r"f'{\left(x \right)}", sp.Derivative(f(x), x)),
])
def test_primes_on_calls_are_derivatives(source, expected):
    result = same(source, expected)
    assert result.doit() == expected.doit()


@pytest.mark.parametrize("source, syntax", [
    ("x'", "text"), ("f'(x, y)", "text"), ("f" + "'" * 4 + "(x)", "text"),
    ("x'", "latex"), ("y'(t)", "latex"), (r"\alpha'", "latex")])
def test_primes_elsewhere_are_errors_not_dropped(source, syntax):
    with pytest.raises(ParseError, match="prime|quotes"):
        parse(source, syntax=syntax)


def test_sigma_call_is_sigmoid_but_bare_sigma_is_a_symbol():
    assert parse("sigma(x) + sigma") == sigmoid(x) + sp.Symbol("sigma")


# --- errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("source, position, words", [
    ("sigmoud(x)", 0, "did you mean sigmoid"),
    ("x + relux(y)", 4, "did you mean relu"),
    ("x(y + 1)", 0, "product"),
    ("(x + 1", 0, "closing ')'"),
    ("x + 1)", 5, "opening '('"),
    ("(x]", 2, "close it with ')'"),
    ("x +", 3, "complete"),
    ("2 3", 2, "* between two numbers"),
    ("x $ y", 2, "use + - * / ^"),
    ("log(x, 2, 3)", 0, "log(x, 2)"),
    ("sigmoid(x, y)", 0, "sigmoid(x)"),
    ("softmax(x, y)", 0, "softmax(1, z1"),
    ("x / 0", 4, "not be 0"),
    ("0^-1", 1, "must not be 0"),
    ("", 0, "write an expression"),
    ("   ", 0, "write an expression"),
    ("x_", 1, "subscripts"),
    ("sin x", 0, "sin(x)"),
    ("2 + exp", 4, "exp(x)"),
    ("u(1 - u)", 0, "u*(...)"),
    ("f()", 0, "f(x)"),
    ("2|x|", 1, "2*|x|"),
])
def test_text_errors_have_position_and_hint(source, position, words):
    with pytest.raises(ParseError) as info:
        parse(source)
    assert info.value.position == position
    assert words in (info.value.hint or ""), info.value.hint
    assert isinstance(info.value, dk.DerivekitError)


def test_bad_arguments():
    with pytest.raises(ParseError):
        parse(3)  # type: ignore[arg-type]
    with pytest.raises(ParseError, match="unknown syntax"):
        parse("x", syntax="python")


def test_limit_errors_are_parse_errors_and_limit_errors():
    with pytest.raises(InputLimitError) as info:
        parse("2^2000")
    assert isinstance(info.value, ParseError) and isinstance(info.value, LimitError)
    assert info.value.position == 1


# --- LaTeX ------------------------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    (r"\sigma(z)", sigmoid(z)), (r"\sigma\left(wx + b\right)", sigmoid(w * x + b)),
    (r"\sigma^2", sp.Symbol("sigma")**2), (r"\sigma(x)(1-\sigma(x))", sigmoid(x) * (1 - sigmoid(x))),
    (r"\log(x)", sp.log(x)), (r"\log x", sp.log(x)), (r"\ln(x)", sp.log(x)),
    (r"\log_2 x", sp.log(x, 2)), (r"\exp(x)", sp.exp(x)), (r"e^{x}", sp.exp(x)),
    (r"\mathrm{e}^{x}", sp.exp(x)),
    (r"\mathbf{w}", w), (r"\boldsymbol{\theta}", sp.Symbol("theta")),
    (r"\mathbf{W}\mathbf{x} + \mathbf{b}", sp.Symbol("W") * x + b),
    (r"\hat{y}", sp.Symbol("yhat")), (r"\hat{y}_i", sp.Symbol("yhat_i")),
    (r"\bar{x}", sp.Symbol("xbar")), (r"\tilde{x}", sp.Symbol("xtilde")),
    (r"\operatorname{ReLU}(x)", relu(x)), (r"\mathrm{ReLU}(x)", relu(x)),
    (r"\operatorname{softplus}(x)", softplus(x)), (r"\operatorname{GELU}(x)", gelu(x)),
    (r"\operatorname{SiLU}(x)", silu(x)), (r"\operatorname{LeakyReLU}(x, 0.1)",
                                             leaky_relu(x, sp.Rational(1, 10))),
    (r"\operatorname{ELU}(x)", elu(x)), (r"\operatorname{LSE}(x, y)", logsumexp(x, y)),
    (r"\max(0, x)", sp.Max(0, x)), (r"\max(0, wx + b)", sp.Max(0, w * x + b)),
    (r"\frac{\partial}{\partial x} x^2", sp.Derivative(x**2, x)),
    (r"\frac{d}{dx} \sigma(x)", sp.Derivative(sigmoid(x), x)),
    (r"\frac{\partial L}{\partial w}", sp.Derivative(sp.Symbol("L"), w)),
    (r"\frac{\partial L}{\partial w_1}", sp.Derivative(sp.Symbol("L"), sp.Symbol("w_1"))),
    (r"\frac{\partial L}{\partial \theta}", sp.Derivative(sp.Symbol("L"), sp.Symbol("theta"))),
    (r"\frac{\partial L}{\partial \mathbf{w}}", sp.Derivative(sp.Symbol("L"), w)),
    (r"\frac{\partial L}{\partial \hat{y}}", sp.Derivative(sp.Symbol("L"), sp.Symbol("yhat"))),
    (r"\frac{\partial L}{\partial W_{ij}}", sp.Derivative(sp.Symbol("L"), sp.Symbol("W_ij"))),
    (r"\frac{d}{d\theta} \sigma(\theta)", sp.Derivative(sigmoid(sp.Symbol("theta")), sp.Symbol("theta"))),
    (r"\frac{dy}{dx}", sp.Derivative(y, x)), (r"\frac{1}{d_1}", 1 / sp.Symbol("d_1")),
    (r"x_{\alpha}", sp.Symbol("x_alpha")),
    (r"a^{[l]} = \sigma(z^{[l]})", sp.Eq(sp.Symbol("a^[l]"), sigmoid(sp.Symbol("z^[l]")))),
    (r"\hat{y}^{(i)} - y^{(i)}", sp.Symbol("yhat^(i)") - sp.Symbol("y^(i)")),
    (r"\mathbf{W}^{[2]}_{jk} a^{[1]}_k", sp.Symbol("W^[2]_jk") * sp.Symbol("a^[1]_k")),
    (r"\frac{\partial L}{\partial z^{[l]}}", sp.Derivative(sp.Symbol("L"), sp.Symbol("z^[l]"))),
    (r"x^{2} + x^{(2)}", x**2 + sp.Symbol("x^(2)")),
    (r"\frac{\partial^2}{\partial x^2} x^3", sp.Derivative(x**3, (x, 2))),
    (r"\frac{d^2}{dx^2} \sigma(x)", sp.Derivative(sigmoid(x), (x, 2))),
    (r"\frac{\partial^2 f}{\partial x \partial y}", sp.Derivative(sp.Symbol("f"), y, x)),
    (r"\|x\|^2", Norm(x)**2), (r"\left\| W \right\|", Norm(sp.Symbol("W"))),
    (r"\lVert w \rVert_2^2", Norm(w)**2), (r"\lambda \|w\|^2", sp.Symbol("lambda") * Norm(w)**2),
    (r"a \cdot b", a * b), (r"a \times b", a * b), (r"\frac12", sp.Rational(1, 2)),
    (r"\frac1n", 1 / sp.Symbol("n")), (r"\dfrac{1}{2}x", x / 2), (r"\sqrt2", sp.sqrt(2)),
    (r"\sqrt[3]{x}", sp.root(x, 3)), (r"3.5x", sp.Rational(7, 2) * x),
    (r"w_{ij}", sp.Symbol("w_ij")), (r"x_{12}", sp.Symbol("x_12")),
    (r"\alpha \beta + \gamma", sp.Symbol("alpha") * sp.Symbol("beta") + sp.Symbol("gamma")),
    (r"\sin^2(x) + \cos^{2}{\left(x \right)}", sp.sin(x)**2 + sp.cos(x)**2),
    (r"\sin{\left(3 \right)} y", sp.sin(3) * y), (r"\max(0, \max(x, y))", sp.Max(0, x, y)),
    (r"\sigma^2(x - \mu)", sp.Symbol("sigma")**2 * (x - sp.Symbol("mu"))),
    (r"f{\left(x \right)}", f(x)), (r"(f(x))^{2}", f(x)**2), (r"f^{2}{\left(x \right)}", f(x)**2),
    (r"\lambda(w_1^2 + w_2^2)", sp.Symbol("lambda") * (sp.Symbol("w_1")**2 + sp.Symbol("w_2")**2)),
    (r"\phi(x)", sp.Symbol("phi") * x),
    (r"f(wx + b)", f(w * x + b)), (r"g(x, y)", g(x, y)),
    (r"\mathbf{w}^\top \mathbf{x}", w * x), (r"x^{T} y", x * y), (r"a \odot b", a * b),
    (r"\text{loss}", sp.Symbol("loss")), (r"\mathrm{x2} + \text{W1}", sp.Symbol("x2") + sp.Symbol("W1")),
    (r"2(x+1)", 2 * (x + 1)), (r"0.5(a+b)", (a + b) / 2), (r"x^2(1-x)", x**2 * (1 - x)),
    (r"\sigma(2(x+1))", sigmoid(2 * x + 2)), (r"\sigma(x)(1-\sigma(x))^2", sigmoid(x) * (1 - sigmoid(x))**2),
    (r"$\sigma(x)$", sigmoid(x)), (r"$$x^2$$", x**2), (r"\[ x^2 \]", x**2), (r"\( x \)", x),
    (r"\begin{equation} x^2 \end{equation}", x**2), (r"\frac{1}{2} x^2 \,.", x**2 / 2),
    (r"x^2,", x**2), (r"\mathcal{L}", sp.Symbol("L")), (r"\displaystyle \frac{1}{2}\, x", x / 2),
    (r"\begin{pmatrix} x & 1 \end{pmatrix}", sp.Matrix([[x, 1]])),
    (r"\theta = \theta - \eta g", sp.Eq(sp.Symbol("theta"), sp.Symbol("theta") - sp.Symbol("eta") * sp.Symbol("g"))),
])
def test_latex_normalisation(source, expected):
    same(source, expected, syntax="latex")


def test_latex_sum_without_bounds_runs_from_1_to_N_index():
    i = sp.Symbol("i")
    assert parse(r"\sum_i x_i") == sp.Sum(sp.Symbol("x_i"), (i, 1, sp.Symbol("N_i")))


def test_auto_detection_and_explicit_syntax():
    assert parse("e^{x}") == sp.exp(x)  # a braced superscript means LaTeX
    assert parse("wx + b") == sp.Symbol("wx") + b  # plain text never splits names
    assert parse("wx + b", syntax="latex") == w * x + b
    assert parse("x^2", syntax="text") == x**2


@pytest.mark.parametrize("source, position, words", [
    (r"\operatorname{sigmoud}(x)", 14, "did you mean sigmoid"),
    (r"\sigmoud(x)", 0, r"did you mean \sigma"),
    (r"\mathrm{eval}(1)", 8, "abstract function"),
    (r"\operatorname{ReLU} x", 14, r"\operatorname{ReLU}(x)"),
    (r"\sigma(x, y)", 6, "sigmoid(x)"),
    (r"\frac{1}{2", 8, "closing '}'"),
    (r"f'(x, y)", 2, r"\frac{\partial}{\partial x}"),
    (r"\frac{\partial^3 L}{\partial w^2}", 20, "agree"),
    (r"x + \text{dkph0x}", 10, "rename"),
    (r"\sigmay", 0, r"\sigma y"),
    (r"x \loge^{x}", 2, r"\log e"),
    (r"\thetax", 0, r"\theta x"),
    (r"f^{-1}(x)", 0, "inverse functions are not supported"),
    (r"g^{ -1 }(x)", 0, "1/g(x)"),
    (r"\frac{1}{2} + \leq x", 14, "check braces and commands"),
    (r"\sigma(x) + 3 \cdot \cdot y", 20, "check braces and commands"),
])
def test_latex_errors_have_position_and_hint(source, position, words):
    with pytest.raises(ParseError) as info:
        parse(source, syntax="latex")
    assert info.value.position == position
    assert words in (info.value.hint or ""), info.value.hint


@pytest.mark.parametrize("source", [r"x \in \{1, 2\}", r"\frac{}{}", r"\left( x", r"x^", r"\begin{bmatrix}"])
def test_latex_failures_are_parse_errors(source):
    with pytest.raises(ParseError):
        parse(source)


# --- round trip -------------------------------------------------------------------------

LEAVES = [x, y, sp.Symbol("w_1"), sp.Symbol("theta"), sp.Integer(2), sp.Integer(3),
          sp.Rational(1, 2), sp.pi, sp.E]
UNARY = [sp.exp, sp.log, sp.sqrt, sp.Abs, sp.sin, sp.cos, sp.tanh, sp.atan, sigmoid, relu,
         softplus, silu, gelu, elu, leaky_relu, f]


ALLOWED_HEADS = set(UNARY) | {sp.Max, type(f(x))}


def random_expression(rng: random.Random, depth: int) -> sp.Basic:
    """A random real expression over the supported vocabulary (no zoo/nan/I)."""
    while True:
        try:
            expr = _random_expression(rng, depth)
        except (TypeError, ValueError):  # e.g. Max of a non-real number
            continue
        functions = {type(call) for call in expr.atoms(sp.Function)}
        if not expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I) and functions <= ALLOWED_HEADS:
            return expr


def _random_expression(rng: random.Random, depth: int) -> sp.Basic:
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(LEAVES)
    kind = rng.choice(["add", "mul", "pow", "unary", "unary", "max", "div", "neg"])
    left, right = _random_expression(rng, depth - 1), _random_expression(rng, depth - 1)
    if kind == "add":
        return left + right
    if kind == "mul":
        return left * right
    if kind == "div":
        return left / right if right != 0 else left
    if kind == "neg":
        return -left
    if kind == "pow":
        return left ** rng.choice([2, 3, -1, sp.Rational(1, 2), y])
    if kind == "max":
        return sp.Max(left, right)
    return rng.choice(UNARY)(left)


def reads_back(expr: sp.Basic) -> bool:
    """parse(to_text_source(expr)) is expr: structurally, or (where SymPy's automatic
    canonicalisation is not idempotent, e.g. 3*(2 + 2*E) vs 6 + 6*E) identically zero apart."""
    parsed = parse(to_text_source(expr), syntax="text")
    canonical = expr.doit()  # e.g. an unevaluated Abs(Abs(x)) from the generator is Abs(x)
    return parsed in (expr, canonical) or sp.expand(parsed - canonical) == 0


def test_seeded_round_trip_through_text():
    rng = random.Random(20261125)
    for _ in range(200):
        expr = random_expression(rng, 4)
        assert reads_back(expr), to_text_source(expr)


def test_seeded_round_trip_through_sympy_latex():
    """What SymPy's (and so derivekit's) LaTeX printer writes reads back: \\sin{\\left(x
    \\right)} y, \\operatorname{atan}^{3}{\\left(y \\right)}, nested \\max, f{\\left(x \\right)}."""
    rng = random.Random(7)
    for _ in range(80):
        expr = random_expression(rng, 3)
        parsed = parse(sp.latex(expr), syntax="latex")
        assert parsed == expr or sp.expand(parsed - expr) == 0, sp.latex(expr)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_hypothesis_round_trip_through_text(seed):
    expr = random_expression(random.Random(seed), 3)
    assert reads_back(expr), to_text_source(expr)


# --- cost -------------------------------------------------------------------------------

def test_import_is_light():
    """Importing loads neither lark nor latex2sympy/ANTLR; a text parse loads lark only."""
    code = ("import sys, importlib\n"
            "p = importlib.import_module('derivekit.parsing.parse')\n"
            "loaded = lambda *names: any(m.split('.')[0] in names for m in sys.modules)\n"
            "print(loaded('lark'), loaded('latex2sympy2_extended', 'antlr4'))\n"
            "p.parse('sigmoid(w*x + b)')\n"
            "print(loaded('lark'), loaded('latex2sympy2_extended', 'antlr4'))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "True", "False"]


def test_dk_parse_works_even_after_the_submodule_is_imported():
    import derivekit.parsing.parse  # noqa: F401 - binds the submodule as the package attribute
    assert dk.parse("x + 1") == x + 1
    assert dk.parse(r"\sigma(x)", syntax="latex") == sigmoid(x)


# --- the examples in docs/parsing.md ----------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "parsing.md"


def documented_examples() -> list[tuple[str, dict, str]]:
    """(source, keyword arguments, printed output) for each ``>>> dk.parse(...)`` in the docs."""
    if not DOCS.exists():
        return []
    examples, lines = [], DOCS.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if not line.startswith(">>> dk.parse("):
            continue
        call = ast.parse(line[4:], mode="eval").body
        source = ast.literal_eval(call.args[0])
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
        output = []
        for following in lines[index + 1:]:
            if following.startswith(">>>") or following.startswith("```"):
                break
            output.append(following)
        examples.append((source, kwargs, "\n".join(output)))
    return examples


@pytest.mark.parametrize("source, kwargs, output", documented_examples())
def test_docs_examples_print_what_they_show(source, kwargs, output):
    try:
        shown = repr(parse(source, **kwargs))
    except ParseError as error:
        shown = f"{type(error).__name__}: {error}"
    assert shown == output
