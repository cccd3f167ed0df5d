"""The expression printers: Unicode text and LaTeX in textbook form."""

import pytest
import sympy as sp

from derivekit.errors import DerivekitError
from derivekit.parsing.functions import leaky_relu, relu, sigmoid, softmax
from derivekit.render.printing import (
    check_settings,
    derivative_latex,
    derivative_text,
    latex_printer,
    latex_prose,
    merge_text_runs,
    text_printer,
    to_latex,
    to_text,
)

w, x, y, b = sp.symbols("w x y b")
z = w * x + b
f, g = sp.Function("f"), sp.Function("g")

TEXT_CASES = [
    (x * sigmoid(z) * (1 - sigmoid(z)), "x·σ(w·x + b)·(1 − σ(w·x + b))"),
    (sigmoid(z) - y, "σ(w·x + b) − y"),
    (x**2 + 2 * x + 1, "x² + 2x + 1"),
    (1 - x, "1 − x"),
    (-x - 1, "−x − 1"),
    (sp.sqrt(x + 1), "√(x + 1)"),
    (1 / sp.sqrt(x), "1/√x"),
    (x / 2, "x/2"),
    (3 * x / (2 * y), "3x/(2y)"),
    (1 / (x + 1) ** 2, "1/(x + 1)²"),
    (x * sp.exp(-x) / (x + 1), "x·exp(−x)/(x + 1)"),
    (x ** sp.Rational(3, 2), "x^(3/2)"),
    (x ** (y + 1), "x^(y + 1)"),
    (sp.Symbol("u1") * sp.Symbol("x_ij"), "u₁·xᵢⱼ"),
    (sp.Symbol("alpha_1") + sp.Symbol("theta_hat"), "α₁ + θ̂"),
    (y * sp.log(sigmoid(z)) + (1 - y) * sp.log(1 - sigmoid(z)),
     "y·log(σ(w·x + b)) + (1 − y)·log(1 − σ(w·x + b))"),
    (relu(x), "ReLU(x)"),
    (leaky_relu(x), "LeakyReLU(x)"),
    (softmax(1, x, y), "softmax(x, y)₁"),
    (sp.Abs(x), "|x|"),
    (sp.Heaviside(x, 0), "H(x)"),
    (sp.Max(0, x), "max(0, x)"),
    (sp.Piecewise((1, x > 0), (0, True)), "{1 if x > 0; 0 otherwise}"),
    (1 - sp.tanh(x) ** 2, "1 − tanh(x)²"),
    (sp.pi * sp.E, "e·π"),
    (sp.Float(-1.5), "−1.5"),
    (y * x ** (y - 1), "y·x^(y − 1)"),
    (sp.sqrt(2) * x * sp.exp(-x**2 / 2), "√2·x·exp(−x²/2)"),
    (2 * sp.pi * x, "2π·x"),
    (sp.Rational(-1, 2), "−1/2"),
]


@pytest.mark.parametrize("expr, expected", TEXT_CASES, ids=[c[1] for c in TEXT_CASES])
def test_unicode_text_in_textbook_form(expr, expected):
    assert to_text(expr) == expected


def test_text_matrix_is_a_bracketed_grid():
    assert to_text(sp.Matrix([[x, x * y], [1, y**2]])).splitlines() == ["⎡x  x·y⎤", "⎣1  y² ⎦"]


def test_ln_notation_follows_sympy_setting():
    assert to_text(sp.log(x)) == "log(x)"
    assert to_text(sp.log(x), ln_notation=True) == "ln(x)"
    assert to_latex(sp.log(x), ln_notation=True) == r"\ln{\left(x \right)}"


def test_abstract_function_derivatives():
    # an unknown derivative is named with primes in either notation, as textbooks do
    chain = sp.diff(f(g(x)), x)
    assert to_text(chain) == to_text(chain, notation="prime") == "f′(g(x))·g′(x)"
    assert to_text(sp.diff(f(x), x, 2)) == "f″(x)"
    assert to_latex(sp.diff(f(x), x)) == r"f'\left(x\right)"
    # several arguments: a partial derivative operator
    assert to_text(sp.Derivative(f(x, y), x)) == "∂₁f(x, y)"  # reads back: parse("∂₁f(x, y)")
    assert to_text(sp.Derivative(f(x, y), x, y, y)) == "∂³/∂x∂y² f(x, y)"


LATEX_CASES = [
    (x * sigmoid(z) * (1 - sigmoid(z)),
     r"x \sigma\left(w x + b\right) \left(1 - \sigma\left(w x + b\right)\right)"),
    (sigmoid(z) - y, r"\sigma\left(w x + b\right) - y"),
    (-2 * x * sigmoid(z), r"- 2 x \sigma\left(z\right)".replace("z", "w x + b")),
    (-x * (y + 1) * sigmoid(x), r"- x \left(y + 1\right) \sigma\left(x\right)"),
    (sp.Heaviside(x, 0), r"H\left(x\right)"),
    (sp.Symbol("y_hat"), r"\hat{y}"),
]


@pytest.mark.parametrize("expr, expected", LATEX_CASES, ids=[c[1] for c in LATEX_CASES])
def test_latex_in_textbook_form(expr, expected):
    assert to_latex(expr) == expected


def test_sympy_order_setting_turns_textbook_order_off():
    assert to_text(w * x + b) == "w·x + b"
    assert to_text(w * x + b, order="lex") == "b + w·x"
    assert to_latex(w * x + b, order="lex") == "b + w x"


def test_derivative_operators():
    p = text_printer(check_settings({}))
    assert derivative_text(x**2, x, 1, p, partial=False, notation="leibniz") == "d/dx x²"
    assert derivative_text(z, w, 2, p, partial=True, notation="leibniz") == "∂²/∂w² (w·x + b)"
    assert derivative_text(x**2, x, 2, p, partial=False, notation="prime") == "(x²)″"
    assert derivative_text(x, x, 1, p, partial=False, notation="prime") == "x′"
    assert derivative_text(1 / (x + 1), x, 1, p, partial=False, notation="leibniz") == "d/dx (1/(x + 1))"
    assert derivative_text(z, w, 1, p, partial=True, notation="prime") == "∂_w (w·x + b)"
    # a variable on its own: the fraction form, dy/dx and ∂b/∂w
    assert derivative_text(y, x, 1, p, partial=False, notation="leibniz") == "dy/dx"
    assert derivative_text(b, w, 2, p, partial=True, notation="leibniz") == "∂²b/∂w²"
    lp = latex_printer(check_settings({}))
    assert derivative_latex(x**2, x, 1, lp, partial=False, notation="leibniz") == r"\frac{d}{d x} x^{2}"
    assert derivative_latex(z, w, 2, lp, partial=True, notation="leibniz") == \
        r"\frac{\partial^{2}}{\partial w^{2}} \left(w x + b\right)"
    assert derivative_latex(x**2, x, 1, lp, partial=False, notation="prime") == r"\left(x^{2}\right)'"
    assert derivative_latex(y, x, 1, lp, partial=False, notation="leibniz") == r"\frac{d y}{d x}"
    assert derivative_latex(sp.log(x) / x, x, 1, lp, partial=False, notation="leibniz") == \
        r"\frac{d}{d x} \frac{\log{\left(x \right)}}{x}"  # a lone fraction needs no brackets
    roman = latex_printer(check_settings({"diff_operator": "rd"}))
    assert derivative_latex(x**2, x, 1, roman, partial=False, notation="leibniz") == \
        r"\frac{\mathrm{d}}{\mathrm{d} x} x^{2}"


def test_unknown_settings_say_what_is_known():
    with pytest.raises(DerivekitError, match="unknown rendering setting 'colour'") as info:
        to_text(x, colour="red")
    assert "notation" in str(info.value)
    with pytest.raises(DerivekitError, match="leibniz"):
        to_text(x, notation="newton")


def test_latex_prose_keeps_specials_and_unicode_out_of_text_mode():
    tex = latex_prose("σ′ = σ(1 − σ); 50% & x₁ ≤ y²")
    assert tex == (r"\sigma '\text{ = }\sigma \text{(1 }-\text{ }\sigma \text{); 50}\%\text{ }\&"
                   r"\text{ x}_{1}\text{ }\le \text{ y}^{2}")
    assert latex_prose("±") + "x" == r"\pm x"  # a control word never runs into what follows
    # modifier letters become scripts, and scripts in a row join (no "Double subscript")
    assert latex_prose("eᵘ x₁₂ xᵢⱼ") == r"\text{e}^{u}\text{ x}_{12}\text{ x}_{ij}"
    assert merge_text_runs(r"\text{a }\text{b}x\text{c}\text{d}") == r"\text{a b}x\text{cd}"


def test_a_sum_over_something_is_bracketed_once():
    import sympy as sp

    from derivekit.render.printing import to_text
    x = sp.Symbol("x")
    assert to_text((x**2 + 1) / sp.sin(x)) == "(x² + 1)/sin(x)"


def test_prose_puts_combining_accents_over_their_letter():
    from derivekit.render.printing import latex_prose
    tex = latex_prose("X̂ = T Wₖ + μ; m̂, σ̂")
    assert tex.isascii()
    assert r"\hat{X}" in tex and r"\hat{m}" in tex and r"\hat{\sigma}" in tex


def test_prose_power_is_a_superscript_not_a_logical_and():
    # issue 14: the softmax sentence rendered e^(z_i) as e \wedge (z_i)
    from derivekit.render.printing import latex_prose
    tex = latex_prose("Recognise softmax: e^(zᵢ)/Σⱼ e^(zⱼ) = softmax(z)ᵢ")
    assert r"\wedge" not in tex and "^{" in tex and r"\text{z}_{i}" in tex
    assert r"\wedge" not in latex_prose("a^b")
