"""Printing matrix expressions: Unicode text (``2(Wx + b − y)xᵀ``), LaTeX, and NumPy spelling.

One precedence-driven walk per format, dispatching on the node's op through a table.
Precedences: 1 sum, 2 negation, 3 Hadamard/division, 4 product, 5 postfix (ᵀ, ⁻¹), 6 atom.
"""

from __future__ import annotations

import re

import numpy as np

from derivekit.matrix.expr import SCALAR, AxisSpec, Const, Node, vector_axis

_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "theta": "θ",
          "lambda": "λ", "lam": "λ", "mu": "μ", "eta": "η", "rho": "ρ", "tau": "τ", "phi": "φ",
          "psi": "ψ", "omega": "ω", "xi": "ξ", "sigma": "σ", "Sigma": "Σ", "Delta": "Δ",
          "Lambda": "Λ", "Theta": "Θ", "Phi": "Φ", "Omega": "Ω", "nu": "ν", "kappa": "κ",
          "zeta": "ζ"}
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPT = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")


def split_name(name: str) -> tuple[str, str, bool]:
    """``"W_2"``/``"W2"`` -> ("W", "2", hat?); ``"yhat"`` -> ("y", "", True)."""
    hat = False
    if name.endswith("hat") and len(name) > 3:
        name, hat = name[:-3].rstrip("_"), True
    m = re.fullmatch(r"([A-Za-z\u0370-\u03ff]+?)_?(\d+|_[A-Za-z0-9]+)?", name)
    if not m:
        return name, "", hat
    base, sub = m.group(1), (m.group(2) or "").lstrip("_")
    return base, sub, hat


def name_text(name: str) -> str:
    base, sub, hat = split_name(name)
    base = _GREEK.get(base, base)
    if hat:
        base += "\u0302"
    if sub.isdigit():
        return base + sub.translate(_SUBSCRIPT)
    return base + (f"_{sub}" if sub else "")


def name_latex(name: str, bold: bool) -> str:
    base, sub, hat = split_name(name)
    if base in _GREEK:
        base = "\\" + ("lambda" if base == "lam" else base)
        core = rf"\boldsymbol{{{base}}}" if bold else base
    else:  # a scalar name of several letters is one upright name (eps, not e·p·s), read back whole
        core = rf"\mathbf{{{base}}}" if bold else (rf"\mathrm{{{base}}}" if len(base) > 1 else base)
    if hat:
        core = rf"\hat{{{core}}}"
    return core + (f"_{{{sub}}}" if sub else "")


def const_text(c: Const) -> str:
    if c.coeff is None:
        return f"{c.value:.6g}"
    num, den = c.coeff.numerator, c.coeff.denominator
    top = [str(abs(num))] if abs(num) != 1 or not any(p > 0 for _, p in c.dims) else []
    bottom = [str(den)] if den != 1 else []
    for name, power in c.dims:
        part = name if abs(power) == 1 else f"{name}{str(abs(power)).translate(_SUPERSCRIPT)}"
        (top if power > 0 else bottom).append(part)
    text = "".join(top) or "1"
    if bottom:
        text += "/" + ("".join(bottom) if len(bottom) == 1 else "(" + "".join(bottom) + ")")
    return ("−" if num < 0 else "") + text


def const_latex(c: Const) -> str:
    if c.coeff is None:  # positional: LaTeX has no 1e-05, and a reader would see the letter e
        return np.format_float_positional(float(f"{c.value:.6g}"), trim="-")
    num, den = c.coeff.numerator, c.coeff.denominator
    top = [str(abs(num))] if abs(num) != 1 or not any(p > 0 for _, p in c.dims) else []
    bottom = [str(den)] if den != 1 else []
    for name, power in c.dims:
        name = name_latex(name, bold=False)  # eps as one name, not e·p·s
        part = name if abs(power) == 1 else f"{name}^{{{abs(power)}}}"
        (top if power > 0 else bottom).append(part)
    text = " ".join(top) or "1"
    if bottom:
        text = rf"\frac{{{text}}}{{{' '.join(bottom)}}}"
    return ("-" if num < 0 else "") + text


_FUNC_TEXT = {"sigmoid": "σ", "sigmoid_prime": "σ′", "tanh": "tanh", "tanh_prime": "tanh′",
              "relu": "ReLU", "relu_prime": "ReLU′", "leaky_relu": "LeakyReLU",
              "leaky_relu_prime": "LeakyReLU′", "softplus": "softplus", "exp": "exp",
              "log": "log", "sqrt": "√"}
_FUNC_LATEX = {"sigmoid": r"\sigma", "sigmoid_prime": r"\sigma'", "tanh": r"\tanh",
               "tanh_prime": r"\tanh'", "relu": r"\operatorname{ReLU}",
               "relu_prime": r"\operatorname{ReLU}'", "leaky_relu": r"\operatorname{LeakyReLU}",
               "leaky_relu_prime": r"\operatorname{LeakyReLU}'",
               "softplus": r"\operatorname{softplus}", "exp": r"\exp", "log": r"\log",
               "sqrt": r"\sqrt"}
_RED_TEXT = {"variance": "var", "sum": "sum", "mean": "mean", "trace": "tr", "det": "det", "logdet": "log det",
             "softmax": "softmax", "log_softmax": "log softmax", "logsumexp": "LSE"}
_RED_LATEX = {"variance": r"\operatorname{var}", "sum": r"\operatorname{sum}", "mean": r"\operatorname{mean}",
              "trace": r"\operatorname{tr}", "det": r"\det", "logdet": r"\log\det",
              "softmax": r"\operatorname{softmax}", "log_softmax": r"\log\operatorname{softmax}",
              "logsumexp": r"\operatorname{LSE}"}


def axis_keywords(n: Node) -> list[str]:
    """The ``axis=``/``keepdims=`` a softmax-family node needs to be read back as itself:
    none for a vector along its own axis; ``keepdims=True`` for a per-row logsumexp (r×1)."""
    attr, arg = n.attr, n.args[0]
    if isinstance(attr, AxisSpec):  # an untyped (parsed) call
        out = [] if attr.axis is None else [f"axis={attr.axis}"]
        return out + (["keepdims=True"] if attr.keepdims else [])
    if attr is None or arg.shape is None:
        return []
    if 1 in arg.shape and attr == vector_axis(arg.shape):
        return []
    out = [f"axis={attr}"]
    if n.op == "logsumexp" and attr == 1 and n.shape[1] == 1 and n.shape[0] > 1:
        out.append("keepdims=True")
    return out


_CMP_TEXT = {">": ">", "<": "<", ">=": "≥", "<=": "≤"}
_CMP_LATEX = {">": ">", "<": "<", ">=": r"\geq", "<=": r"\leq"}


def _edge(node: Node | None, side: int) -> Node | None:
    """The leaf or call printed at the left (side 0) or right (side −1) end of a product."""
    while node is not None and node.op in ("matmul", "juxt", "mul", "T", "rowsum", "colsum"):
        if node.op == "mul" and node.args[0].shape != SCALAR and node.args[0].op != "const":
            return None  # a Hadamard product is bracketed
        if node.op in ("T",) and side == -1:
            return None  # ends in ᵀ
        node = node.args[side] if node.op not in ("T", "rowsum", "colsum") else node.args[0]
    return node


def _wordy(node: Node | None) -> bool:
    """Does ``node`` print as a word of two or more letters at its edge?"""
    if node is None:
        return False
    if node.op in ("var", "ref"):
        base, _, _ = split_name(node.attr)
        return len(base) >= 2 and base not in _GREEK
    if node.op == "func":
        name = _FUNC_TEXT.get(node.attr, node.attr)
        return len(name) >= 2 and name[:2].isalpha()
    return node.op in ("sum", "mean", "trace", "det", "logdet", "softmax", "log_softmax",
                       "logsumexp", "diag", "diagonal", "softmax_ce", "bce_logits", "maximum", "minimum",
                       "where", "variance", "std", "norm", "batchmean")


def exponent_text(e: float) -> str:
    """An exponent as written: 2, 0.5, −1 (integers without a decimal point)."""
    return str(int(e)) if float(e).is_integer() else repr(float(e))


def _is_norm(n: Node) -> bool:
    """√‖X‖², which prints as the norm ‖X‖ (Frobenius for a matrix)."""
    return n.attr == "sqrt" and n.args[0].op == "norm2"


def _norm_subscript(n: Node, matrix: str, vector: str = "") -> str:
    shape = n.args[0].args[0].shape
    return matrix if shape is not None and min(shape) > 1 else vector


def _carries_superscript(node: Node) -> bool:
    """Whether ``node`` prints with a superscript of its own (‖X‖², Xᵀ, X⁻¹, X²), so that a
    power of it needs brackets."""
    return node.op in ("norm2", "T", "inv", "pow")


class _Printer:
    """Shared walk; subclasses give the notation."""

    def __init__(self, adjoint_names: dict | None = None):
        self.adjoint_names = adjoint_names or {}

    def wrap(self, node: Node, min_prec: int, bracket: bool = False) -> str:
        """``node`` printed, in brackets when it binds looser than ``min_prec``; with
        ``bracket``, a Hadamard product gets square brackets (``[(W₂ᵀδ₂) ⊙ σ′(z₁)]xᵀ``)."""
        text, prec = self.go(node)
        if prec < min_prec:
            return self.paren(text, square=bracket and prec == 3 and node.op == "mul")
        return text

    def go(self, node: Node) -> tuple[str, int]:
        return getattr(self, "p_" + node.op)(node)


class TextPrinter(_Printer):
    def paren(self, text, square=False):
        return f"[{text}]" if square else f"({text})"

    def p_var(self, n):
        return name_text(n.attr), 6

    p_ref = p_var

    def p_adj(self, n):
        name = n.attr
        if re.fullmatch(r"z_?\d+", name):
            return "δ" + name.lstrip("z_").translate(_SUBSCRIPT), 6
        if name in ("z",):
            return "δ", 6
        return f"∂L/∂{name_text(name)}", 3

    def p_const(self, n):
        text = const_text(n.attr)
        return text, (6 if re.fullmatch(r"[\d.]+|[A-Za-z]", text) else 3 if "/" in text else 2
                      if text.startswith("−") else 6)

    def p_ones(self, n):
        if n.shape is None or n.shape[1] == 1:
            return "𝟙", 6
        if n.shape[0] == 1:
            return "𝟙ᵀ", 5
        return "𝟙𝟙ᵀ", 4

    def p_eye(self, n):
        return "I", 6

    def p_zeros(self, n):
        return "0", 6

    def p_add(self, n):
        return f"{self.wrap(n.args[0], 1)} + {self.wrap(n.args[1], 1)}", 1

    def p_sub(self, n):
        return f"{self.wrap(n.args[0], 1)} − {self.wrap(n.args[1], 2)}", 1

    def p_neg(self, n):
        return f"−{self.wrap(n.args[0], 3)}", 2

    def juxtapose(self, left: str, right: str, left_node: Node | None = None,
                  right_node: Node | None = None) -> str:
        """Write a product by juxtaposition, with a '·' where two words would run together
        (W·diag(v), 2·3) but not between one-letter names (Wx)."""
        if left and right and left[-1].isalnum() and right[0].isalnum() and (
                _wordy(_edge(left_node, -1)) or _wordy(_edge(right_node, 0))):
            return f"{left}·{right}"
        if left and right and left[-1].isdigit() and right[0].isdigit() and "𝟙" not in (left[-1], right[0]):
            return f"{left}·{right}"
        return left + right

    def p_matmul(self, n):
        return self.juxtapose(self.wrap(n.args[0], 4, True), self.wrap(n.args[1], 4, True),
                              n.args[0], n.args[1]), 4

    def p_juxt(self, n):
        return self.p_matmul(n)

    def p_mul(self, n):
        a, b = n.args
        if a.op == "const" or (a.shape == SCALAR and b.shape != SCALAR):
            left = self.wrap(a, 6) if a.op != "const" else self.wrap(a, 4)
            if a.op == "const" and const_text(a.attr).startswith("−"):
                return f"−{self.juxtapose(const_text(-a.attr), self.wrap(b, 4, True), a, b)}", 2
            if a.op == "const" and "/" in const_text(a.attr):
                left = f"({const_text(a.attr)})"
            return self.juxtapose(left, self.wrap(b, 4, True), a, b), 4
        return f"{self.wrap(a, 5)} ⊙ {self.wrap(b, 5)}", 3

    def p_div(self, n):
        return f"{self.wrap(n.args[0], 4)} / {self.wrap(n.args[1], 5)}", 3

    def p_T(self, n):
        inner = n.args[0]
        if inner.op == "inv":
            return f"{self.wrap(inner.args[0], 6)}⁻ᵀ", 5
        return f"{self.wrap(inner, 6)}ᵀ", 5

    def p_inv(self, n):
        return f"{self.wrap(n.args[0], 6)}⁻¹", 5

    def p_pow(self, n):
        sup = exponent_text(n.attr).translate(_SUPERSCRIPT)
        base = self.wrap(n.args[0], 6)
        if _carries_superscript(n.args[0]):  # ‖X‖² to the power −½ is (‖X‖²)⁻⁰·⁵, not ‖X‖²⁻⁰·⁵
            base = self.paren(base)
        return f"{base}{sup}", 5

    def p_func(self, n):
        if _is_norm(n):
            return f"‖{self.wrap(n.args[0].args[0], 0)}‖{_norm_subscript(n, '_F')}", 6
        return f"{_FUNC_TEXT.get(n.attr, n.attr)}({self.wrap(n.args[0], 0)})", 6

    def p_norm2(self, n):
        return f"‖{self.wrap(n.args[0], 0)}‖²", 6

    def p_rowsum(self, n):
        return self.juxtapose(self.wrap(n.args[0], 4, True), "𝟙", n.args[0], None), 4

    def p_colsum(self, n):
        return "𝟙ᵀ" + self.wrap(n.args[0], 4, True), 4

    def p_softmax_ce(self, n):
        keys = "".join(", " + k for k in axis_keywords(n))
        return f"CE(softmax({self.wrap(n.args[0], 0)}{keys}), {self.wrap(n.args[1], 0)})", 6

    def p_bce_logits(self, n):
        return f"BCE(σ({self.wrap(n.args[0], 0)}), {self.wrap(n.args[1], 0)})", 6

    def reduction(self, n):
        name = _RED_TEXT.get(n.op, n.op)
        keys = "".join(", " + k for k in axis_keywords(n))
        return f"{name}({self.wrap(n.args[0], 0)}{keys})", 6

    p_sum = p_mean = p_trace = p_det = p_logdet = p_softmax = p_log_softmax = p_logsumexp = reduction
    p_variance = p_std = p_norm = reduction

    def p_maximum(self, n):
        return f"max({self.wrap(n.args[0], 0)}, {self.wrap(n.args[1], 0)})", 6

    def p_minimum(self, n):
        return f"min({self.wrap(n.args[0], 0)}, {self.wrap(n.args[1], 0)})", 6

    def p_cmp(self, n):
        return f"𝟙[{self.wrap(n.args[0], 1)} {_CMP_TEXT[n.attr]} {self.wrap(n.args[1], 1)}]", 6

    def p_where(self, n):
        return "where(" + ", ".join(self.wrap(a, 0) for a in n.args) + ")", 6

    def p_batchmean(self, n):
        return f"mean over the batch of {self.wrap(n.args[0], 0)}", 6

    def p_meanaxis(self, n):
        return f"mean({self.wrap(n.args[0], 0)})", 6

    def p_diag(self, n):
        return f"diag({self.wrap(n.args[0], 0)})", 6

    p_diagonal = p_diag  # diag(M) of a square M is its diagonal, as in NumPy

    def p_kron(self, n):
        return f"{self.wrap(n.args[0], 4)} ⊗ {self.wrap(n.args[1], 4)}", 3


class LatexPrinter(_Printer):
    def paren(self, text, square=False):
        return rf"\left[{text}\right]" if square else rf"\left({text}\right)"

    def p_var(self, n):
        bold = n.shape is None or n.shape != SCALAR
        return name_latex(n.attr, bold), 6

    p_ref = p_var

    def p_adj(self, n):
        name = n.attr
        if re.fullmatch(r"z_?\d+", name):
            return rf"\boldsymbol{{\delta}}_{{{name.lstrip('z_')}}}", 6
        if name == "z":
            return r"\boldsymbol{\delta}", 6
        return rf"\frac{{\partial L}}{{\partial {name_latex(name, n.shape != SCALAR)}}}", 6

    def p_const(self, n):
        text = const_latex(n.attr)
        return text, 2 if text.startswith("-") else 6

    def p_ones(self, n):
        if n.shape is None or n.shape[1] == 1:
            return r"\mathbf{1}", 6
        if n.shape[0] == 1:
            return r"\mathbf{1}^\top", 5
        return r"\mathbf{1}\mathbf{1}^\top", 4

    def p_eye(self, n):
        return r"\mathbf{I}", 6

    def p_zeros(self, n):
        return r"\mathbf{0}", 6

    def p_add(self, n):
        return f"{self.wrap(n.args[0], 1)} + {self.wrap(n.args[1], 2)}", 1

    def p_sub(self, n):
        return f"{self.wrap(n.args[0], 1)} - {self.wrap(n.args[1], 2)}", 1

    def p_neg(self, n):
        return f"-{self.wrap(n.args[0], 3)}", 2

    def p_matmul(self, n):
        return f"{self.wrap(n.args[0], 4, True)} {self.wrap(n.args[1], 4, True)}", 4

    p_juxt = p_matmul

    def p_mul(self, n):
        a, b = n.args
        if a.op == "const" or (a.shape == SCALAR and b.shape != SCALAR):
            right = self.wrap(b, 4, True)
            if b.op == "colsum":  # c(𝟙ᵀX), not (c𝟙ᵀ)X when read back
                right = self.paren(right)
            if a.op == "const" and a.attr.value < 0:
                return f"-{const_latex(-a.attr)} {right}", 2
            return f"{self.wrap(a, 6)} {right}", 4
        return rf"{self.wrap(a, 5)} \odot {self.wrap(b, 5)}", 3

    def p_div(self, n):
        if n.args[1].shape == SCALAR:  # a division by a scalar is an ordinary fraction
            return rf"\frac{{{self.wrap(n.args[0], 0)}}}{{{self.wrap(n.args[1], 0)}}}", 6
        return rf"{self.wrap(n.args[0], 4)} \oslash {self.wrap(n.args[1], 5)}", 3

    def p_T(self, n):
        inner = n.args[0]
        if inner.op == "inv":
            return f"{self.wrap(inner.args[0], 6)}^{{-\\top}}", 5
        return f"{self.wrap(inner, 6)}^\\top", 5

    def p_inv(self, n):
        return f"{self.wrap(n.args[0], 6)}^{{-1}}", 5

    def p_pow(self, n):
        base = self.wrap(n.args[0], 6)
        if _carries_superscript(n.args[0]):  # one superscript per base: no x^2^3 in LaTeX
            base = self.paren(base)
        circ = "" if n.shape == SCALAR else "\\circ "  # a scalar's power is the ordinary one
        return f"{base}^{{{circ}{exponent_text(n.attr)}}}", 5

    def p_func(self, n):
        name = _FUNC_LATEX.get(n.attr, rf"\operatorname{{{n.attr}}}")
        if _is_norm(n):
            inner = self.wrap(n.args[0].args[0], 0)
            return rf"\left\|{inner}\right\|{_norm_subscript(n, '_F', '_2')}", 6
        if n.attr == "sqrt":
            return rf"\sqrt{{{self.wrap(n.args[0], 0)}}}", 6
        return rf"{name}\left({self.wrap(n.args[0], 0)}\right)", 6

    def p_norm2(self, n):
        return rf"\left\|{self.wrap(n.args[0], 0)}\right\|_2^2", 6

    def p_rowsum(self, n):
        return rf"{self.wrap(n.args[0], 4, True)} \mathbf{{1}}", 4

    def p_colsum(self, n):
        return rf"\mathbf{{1}}^\top {self.wrap(n.args[0], 4, True)}", 4

    def p_softmax_ce(self, n):
        keys = "".join(", " + _latex_keyword(k) for k in axis_keywords(n))
        return (rf"\operatorname{{CE}}\left(\operatorname{{softmax}}\left({self.wrap(n.args[0], 0)}"
                rf"{keys}\right), {self.wrap(n.args[1], 0)}\right)"), 6

    def p_bce_logits(self, n):
        return (rf"\operatorname{{BCE}}\left(\sigma\left({self.wrap(n.args[0], 0)}\right), "
                rf"{self.wrap(n.args[1], 0)}\right)"), 6

    def reduction(self, n):
        keys = "".join(", " + _latex_keyword(k) for k in axis_keywords(n))
        name = _RED_LATEX.get(n.op, rf"\operatorname{{{n.op}}}")
        return rf"{name}\left({self.wrap(n.args[0], 0)}{keys}\right)", 6

    p_sum = p_mean = p_trace = p_det = p_logdet = p_softmax = p_log_softmax = p_logsumexp = reduction
    p_variance = p_std = p_norm = reduction

    def p_maximum(self, n):
        return rf"\max\left({self.wrap(n.args[0], 0)}, {self.wrap(n.args[1], 0)}\right)", 6

    def p_minimum(self, n):
        return rf"\min\left({self.wrap(n.args[0], 0)}, {self.wrap(n.args[1], 0)}\right)", 6

    def p_cmp(self, n):
        return (rf"\mathbb{{1}}\left[{self.wrap(n.args[0], 1)} {_CMP_LATEX[n.attr]} "
                rf"{self.wrap(n.args[1], 1)}\right]"), 6

    def p_where(self, n):
        return (r"\operatorname{where}\left(" + ", ".join(self.wrap(a, 0) for a in n.args)
                + r"\right)"), 6

    def p_batchmean(self, n):
        return rf"\operatorname{{mean}}\left({self.wrap(n.args[0], 0)}\right)", 6

    def p_meanaxis(self, n):
        return rf"\operatorname{{mean}}\left({self.wrap(n.args[0], 0)}\right)", 6

    def p_diag(self, n):
        return rf"\operatorname{{diag}}\left({self.wrap(n.args[0], 0)}\right)", 6

    p_diagonal = p_diag

    def p_kron(self, n):
        return rf"{self.wrap(n.args[0], 4)} \otimes {self.wrap(n.args[1], 4)}", 3


class NumpyPrinter(_Printer):
    """NumPy spelling, readable back by :mod:`derivekit.matrix.parse` (precedence: 1 sum,
    3 product, 4 negation, 5 power, 6 postfix/atom)."""

    def paren(self, text, square=False):
        return f"({text})"

    def p_var(self, n):
        return n.attr, 6

    p_ref = p_var

    def p_adj(self, n):
        return f"dL_d{n.attr}", 6

    def p_const(self, n):
        c = n.attr
        if c.coeff is not None and c.dims:
            text = const_text(c).replace("−", "-").replace("·", "*")
            return (f"({text})" if not re.fullmatch(r"[A-Za-z]+", text) else text), 6
        if c.coeff is not None and c.coeff.denominator != 1:
            return f"({c.coeff.numerator}/{c.coeff.denominator})", 6 if c.value >= 0 else 4
        text = f"{c.value:.12g}"
        return text, 6 if c.value >= 0 else 4

    def p_ones(self, n):
        return "ones", 6

    def p_eye(self, n):
        return "I", 6

    def p_zeros(self, n):
        return "(0*ones)", 6

    def binary(symbol, prec):  # noqa: N805
        def method(self, n):
            return f"{self.wrap(n.args[0], prec)} {symbol} {self.wrap(n.args[1], prec + 1)}", prec
        return method

    p_add = binary("+", 1)
    p_sub = binary("-", 1)
    p_matmul = binary("@", 3)
    p_mul = binary("*", 3)
    p_div = binary("/", 3)
    p_juxt = binary("&", 3)

    def p_neg(self, n):
        return f"-{self.wrap(n.args[0], 4)}", 4

    def p_T(self, n):
        return f"{self.wrap(n.args[0], 6)}.T", 6

    def p_pow(self, n):
        e = n.attr
        return f"{self.wrap(n.args[0], 6)}**{int(e) if float(e).is_integer() else e}", 5

    def p_func(self, n):
        return f"{n.attr}({self.wrap(n.args[0], 0)})", 6

    def p_rowsum(self, n):
        return f"sum({self.wrap(n.args[0], 0)}, axis=1, keepdims=True)", 6

    def p_colsum(self, n):
        return f"sum({self.wrap(n.args[0], 0)}, axis=0)", 6

    def p_meanaxis(self, n):
        return f"mean({self.wrap(n.args[0].args[0], 0)}, axis={1 if n.args[0].op == 'rowsum' else 0})", 6

    def generic(self, n):
        keys = axis_keywords(n) if n.op in _KEYWORDED else []
        return f"{n.op}({', '.join([self.wrap(a, 0) for a in n.args] + keys)})", 6

    p_sum = p_mean = p_trace = p_det = p_logdet = p_inv = p_norm2 = generic
    p_softmax = p_log_softmax = p_logsumexp = p_softmax_ce = p_bce_logits = p_diag = generic
    def p_diagonal(self, n):
        return f"diag({self.wrap(n.args[0], 0)})", 6

    def p_kron(self, n):
        return f"np.kron({self.wrap(n.args[0], 0)}, {self.wrap(n.args[1], 0)})", 6

    p_maximum = p_minimum = p_where = p_std = p_norm = generic

    def p_variance(self, n):
        return "var" + self.generic(n)[0][len("variance"):], 6

    def p_cmp(self, n):
        return f"({self.wrap(n.args[0], 1)} {n.attr} {self.wrap(n.args[1], 1)})", 6

    def p_batchmean(self, n):
        return f"batchmean({self.wrap(n.args[0], 0)})", 6


_KEYWORDED = ("sum", "mean", "variance", "std", "norm", "softmax", "log_softmax", "logsumexp",
              "softmax_ce")


def _latex_keyword(keyword: str) -> str:
    """``axis=1`` -> ``\\text{axis}=1`` (read back by the LaTeX front)."""
    name, value = keyword.split("=")
    if not value.lstrip("-").isdigit():
        value = rf"\text{{{value}}}"
    return rf"\text{{{name}}}={value}"


def to_text(node: Node) -> str:
    return TextPrinter().go(node)[0]


def to_latex(node: Node) -> str:
    return LatexPrinter().go(node)[0]


def to_numpy_text(node: Node) -> str:
    return NumpyPrinter().go(node)[0]
