"""Vectors and matrices with steps: dot and matrix products, transpose, norms, determinant,
inverse and rank.

Every function accepts text (``"[1, 2, 3]"``, ``"[[1,2],[3,4]]"``, LaTeX ``bmatrix``), NumPy
arrays, nested lists or SymPy matrices, and returns a result dataclass holding the answer and
the steps that reach it (see :mod:`derivekit.linalg.steps` for the renderers). Shapes that do
not fit raise :class:`~derivekit.errors.ShapeError` naming both shapes.

``eig`` lives in :mod:`derivekit.linalg.eigen` and ``pca`` in :mod:`derivekit.linalg.pca`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from derivekit.errors import DerivekitError, ShapeError, UnsupportedError
from derivekit.limits import DEFAULT_DEADLINE_S, deadline
from derivekit.linalg.input import (
    has_floats,
    is_numeric,
    read_matrix,
    read_vector,
    to_numpy,
)
from derivekit.linalg.rowops import cofactor_sign, gauss_jordan, minor, subscript
from derivekit.linalg.steps import (
    LinalgStep,
    StepsResult,
    format_number,
    labelled_grid,
    matrix_answer_latex,
    matrix_answer_text,
    number_text,
    shape_latex,
    shape_text,
    tex,
    to_jsonable,
    txt,
)

MAX_SHOWN_TERMS = 8  # longer sums are shown as first terms … last term
MAX_ENTRYWISE = 16  # product entries worked one by one up to this many
MAX_COFACTOR_SIZE = 4  # determinants up to 4×4 by cofactor expansion
MAX_LISTED_OPS = 30  # row operations listed one by one up to this many
NUMERIC_PRODUCT_SIZE = 4_096  # m·n·p from which numeric products skip SymPy arithmetic
MAX_FLOAT_STEPS_SIZE = 6  # float matrices above this size go to LAPACK (det, inv, rank)

__all__ = ["dot", "matmul", "transpose", "norm", "det", "inv", "rank",
           "DotProduct", "MatrixProduct", "Transpose", "Norm", "Determinant", "Inverse", "Rank"]


# --------------------------------------------------------------------------- small helpers

def _with_deadline(function):
    """Run ``function`` under the default deadline (symbolic entries can make work explode)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with deadline(DEFAULT_DEADLINE_S):
            return function(*args, **kwargs)
    return wrapper


def _paren_text(x: sp.Expr) -> str:
    s = txt(x)
    return f"({s})" if (x.is_Add or s.startswith(("-", "−"))) else s


def _paren_tex(x: sp.Expr) -> str:
    s = tex(x)
    return rf"\left({s}\right)" if (x.is_Add or s.startswith(("-", "−"))) else s


def _products(pairs: list[tuple[sp.Expr, sp.Expr]]) -> tuple[str, str]:
    """``1·4 + 2·5 + 3·6`` (text, LaTeX), shortened with … for long sums."""
    shown = pairs if len(pairs) <= MAX_SHOWN_TERMS else pairs[:3] + [None] + pairs[-1:]
    texts, latexes = [], []
    for pair in shown:
        if pair is None:
            texts.append("…")
            latexes.append(r"\cdots")
        else:
            texts.append(f"{_paren_text(pair[0])}·{_paren_text(pair[1])}")
            latexes.append(rf"{_paren_tex(pair[0])} \cdot {_paren_tex(pair[1])}")
    return " + ".join(texts), " + ".join(latexes)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _tidy(value: sp.Expr) -> sp.Expr:
    return sp.expand(value) if value.free_symbols else value


def _approx(value: sp.Expr) -> str:
    """`` ≈ 3.742`` when ``value`` is an exact irrational number, else empty."""
    if value.is_number and not value.is_Rational and not value.is_Float:
        return f" ≈ {txt(sp.Float(value.evalf(6), 4))}"
    return ""


def _vector_text(v: sp.MatrixBase) -> str:
    return "[" + ", ".join(txt(x) for x in v) + "]"


def _vector_tex(v: sp.MatrixBase) -> str:
    return r"\begin{bmatrix}" + r" \\ ".join(tex(x) for x in v) + r"\end{bmatrix}"


# --------------------------------------------------------------------------- dot product

@dataclass(eq=False)
class DotProduct(StepsResult):
    """``u·v`` with its meaning as similarity. ``cosine``/``angle`` are None for a zero vector."""

    u: sp.Matrix
    v: sp.Matrix
    result: sp.Expr
    norm_u: sp.Expr
    norm_v: sp.Expr
    cosine: sp.Expr | None
    angle: sp.Expr | None
    steps: list[LinalgStep] = field(default_factory=list)
    heading = "Dot product u·v"

    @property
    def answer_text(self) -> str:
        return f"u·v = {txt(self.result)}"

    @property
    def answer_latex(self) -> str:
        return rf"u \cdot v = {tex(self.result)}"

    def _payload(self) -> dict[str, Any]:
        return {"u": to_jsonable(list(self.u)), "v": to_jsonable(list(self.v)),
                "result": to_jsonable(self.result), "norm_u": to_jsonable(self.norm_u),
                "norm_v": to_jsonable(self.norm_v), "cosine": to_jsonable(self.cosine),
                "angle_radians": to_jsonable(self.angle)}


@_with_deadline
def dot(u: Any, v: Any) -> DotProduct:
    """The dot product ``u·v = Σ uᵢvᵢ`` with steps, norms, cosine similarity and angle."""
    u_vec, v_vec = read_vector(u, "u"), read_vector(v, "v")
    if u_vec.rows != v_vec.rows:
        raise ShapeError(f"u has {_count(u_vec.rows, 'entry')} but v has {_count(v_vec.rows, 'entry')}".replace("entrys", "entries"),
                         hint="a dot product needs two vectors of the same length")
    pairs = list(zip(u_vec, v_vec))
    result = _tidy(sum((a * b for a, b in pairs), sp.Integer(0)))
    sum_text, sum_tex = _products(pairs)
    steps = [LinalgStep(
        "Multiply matching entries and add",
        f"The dot product pairs entry $i$ of $u$ with entry $i$ of $v$, multiplies each pair and adds "
        f"the {len(pairs)} products.",
        rf"u \cdot v = \sum_{{i=1}}^{{{len(pairs)}}} u_i v_i = {sum_tex} = {tex(result)}",
        f"u·v = {sum_text} = {txt(result)}")]

    norms = []
    for name, vec in (("u", u_vec), ("v", v_vec)):
        squares = sum((x**2 if x.is_real is not False else abs(x)**2 for x in vec), sp.Integer(0))
        value = sp.sqrt(_tidy(squares))
        norms.append(value)
        shown = vec if len(vec) <= MAX_SHOWN_TERMS else None
        inner_text = (" + ".join(f"{_paren_text(x)}²" for x in shown) if shown is not None
                      else f"Σ {name}ᵢ²")
        inner_tex = (" + ".join(f"{_paren_tex(x)}^2" for x in shown) if shown is not None
                     else rf"\sum_i {name}_i^2")
        steps.append(LinalgStep(
            f"Length of ${name}$",
            f"The Euclidean norm of ${name}$ is the square root of the sum of its squared entries.",
            rf"\|{name}\| = \sqrt{{{inner_tex}}} = {tex(value)}",
            f"‖{name}‖ = √({inner_text}) = {txt(value)}{_approx(value)}"))
    norm_u, norm_v = norms

    cosine = angle = None
    if norm_u.is_zero or norm_v.is_zero:
        steps.append(LinalgStep(
            "Cosine similarity", "One vector has length $0$, so it has no direction and the angle "
            "between the vectors is undefined.", r"\|u\|\,\|v\| = 0", "‖u‖‖v‖ = 0"))
    else:
        cosine = sp.radsimp(result / (norm_u * norm_v)) if not result.free_symbols else \
            result / (norm_u * norm_v)
        angle = sp.acos(cosine)
        meaning = _similarity_meaning(cosine)
        angle_text = angle_tex = ""
        if cosine.is_number:
            radians = float(sp.re(angle.evalf()))
            angle_text = (f"; θ = arccos({number_text(float(cosine), 4)}) ≈ {radians:.4g} rad = "
                          f"{math.degrees(radians):.4g}°")
            angle_tex = rf",\quad \theta \approx {radians:.4g}\ \text{{rad}} = {math.degrees(radians):.4g}^\circ"
        steps.append(LinalgStep(
            "Cosine similarity and angle",
            "Dividing $u·v$ by both lengths leaves the cosine of the angle between the vectors, "
            f"a similarity score from $−1$ to $1${meaning}.",
            rf"\cos\theta = \frac{{u \cdot v}}{{\|u\|\,\|v\|}} = \frac{{{tex(result)}}}"
            rf"{{{tex(norm_u)} \cdot {tex(norm_v)}}} = {tex(cosine)}{angle_tex}",
            f"cos θ = u·v / (‖u‖‖v‖) = {_paren_text(result)} / ({txt(norm_u)}·{txt(norm_v)}) = "
            f"{txt(cosine)}{_approx(cosine)}{angle_text}"))
    return DotProduct(u_vec, v_vec, result, norm_u, norm_v, cosine, angle, steps)


def _similarity_meaning(cosine: sp.Expr) -> str:
    if not cosine.is_number:
        return ""
    c = float(cosine)
    if abs(c) < 1e-12:
        return "; here it is $0$, so the vectors are orthogonal (perpendicular)"
    if c > 0.9:
        return "; here it is close to $1$, so the vectors point in nearly the same direction"
    if c < -0.9:
        return "; here it is close to $−1$, so the vectors point in nearly opposite directions"
    return "; here it is positive, so the vectors lean the same way" if c > 0 else \
        "; here it is negative, so the vectors lean opposite ways"


# --------------------------------------------------------------------------- matrix product

@dataclass(eq=False)
class MatrixProduct(StepsResult):
    """``A @ B`` with the shape rule and, for small results, each entry worked out."""

    a: sp.Matrix
    b: sp.Matrix
    result: sp.Matrix
    steps: list[LinalgStep] = field(default_factory=list)
    heading = "Matrix product AB"

    @property
    def answer_text(self) -> str:
        return f"AB = {matrix_answer_text(self.result)}"

    @property
    def answer_latex(self) -> str:
        return f"AB = {matrix_answer_latex(self.result)}"

    def _payload(self) -> dict[str, Any]:
        return {"a": to_jsonable(self.a), "b": to_jsonable(self.b),
                "shape": list(self.result.shape), "result": to_jsonable(self.result)}


@_with_deadline
def matmul(a: Any, b: Any) -> MatrixProduct:
    """The product ``AB``: shape rule (m×n)(n×p) = m×p, then entry (i, j) = row i · column j.

    A 1-D first operand is read as a row vector and a 1-D second operand as a column vector,
    as NumPy's ``@`` does.
    """
    A = read_matrix(a, "A", vector_as="row")
    B = read_matrix(b, "B", vector_as="column")
    (m, n), (n2, p) = A.shape, B.shape
    if n != n2:
        raise ShapeError(f"cannot multiply A ({m}×{n}) by B ({n2}×{p}): A has {_count(n, 'column')} "
                         f"but B has {_count(n2, 'row')}",
                         hint="(m×n)(n×p) = m×p needs A's columns to equal B's rows; "
                              "transposing one operand may be what you meant")
    result = _numeric_product(A, B)
    if result is None:
        result = (A * B).applyfunc(_tidy)
    steps = [LinalgStep(
        "Check the shapes",
        f"A product $(m×n)(n×p)$ is defined when the inner sizes agree; here they are both {n}, "
        f"so the result is ${m}×{p}$.",
        rf"({shape_latex((m, n))})({shape_latex((n, p))}) = {shape_latex((m, p))}",
        f"({shape_text((m, n))})({shape_text((n, p))}) = {shape_text((m, p))}")]
    if m * p <= MAX_ENTRYWISE:
        lines_text, lines_tex = [], []
        for i in range(m):
            for j in range(p):
                s_text, s_tex = _products([(A[i, k], B[k, j]) for k in range(n)])
                lines_text.append(f"c{subscript(i + 1)}{subscript(j + 1)} = {s_text} = {txt(result[i, j])}")
                lines_tex.append(rf"c_{{{i + 1}{j + 1}}} = {s_tex} = {tex(result[i, j])}")
        steps.append(LinalgStep(
            "Work out each entry",
            "Entry $(i, j)$ of $A B$ is the dot product of row $i$ of $A$ with column $j$ of $B$.",
            r"\begin{aligned}" + r" \\ ".join(f"&{line}" for line in lines_tex) + r"\end{aligned}",
            "\n".join(lines_text)))
    else:
        steps.append(LinalgStep(
            "Work out each entry",
            f"Each of the {m * p} entries is row $i$ of $A$ dotted with column $j$ of $B$, a sum of {n} "
            "products; they are computed but too many to list.",
            rf"c_{{ij}} = \sum_{{k=1}}^{{{n}}} a_{{ik}} b_{{kj}}", f"cᵢⱼ = Σₖ aᵢₖ bₖⱼ  (k = 1..{n})"))
    steps.append(LinalgStep("Assemble the result", f"The entries form the ${m}×{p}$ matrix $A B$.",
                            f"AB = {tex(result)}", labelled_grid("AB", result)))
    return MatrixProduct(A, B, result, steps)


def _numeric_product(A: sp.Matrix, B: sp.Matrix) -> sp.Matrix | None:
    """A large product of integers (exact, Python ints) or floats (NumPy); None otherwise."""
    if A.rows * A.cols * B.cols < NUMERIC_PRODUCT_SIZE:
        return None
    if all(x.is_Integer for x in A) and all(x.is_Integer for x in B):
        left = np.array([[int(x) for x in A.row(i)] for i in range(A.rows)], dtype=object)
        right = np.array([[int(x) for x in B.row(i)] for i in range(B.rows)], dtype=object)
        return sp.Matrix((left @ right).tolist())
    if is_numeric(A) and is_numeric(B) and (has_floats(A) or has_floats(B)):
        left, right = to_numpy(A), to_numpy(B)
        if np.iscomplexobj(left) or np.iscomplexobj(right):
            return None
        return sp.Matrix((left @ right).tolist())
    return None


# --------------------------------------------------------------------------- transpose

@dataclass(eq=False)
class Transpose(StepsResult):
    """``Aᵀ``: rows become columns."""

    a: sp.Matrix
    result: sp.Matrix
    steps: list[LinalgStep] = field(default_factory=list)
    heading = "Transpose Aᵀ"

    @property
    def answer_text(self) -> str:
        return f"Aᵀ = {matrix_answer_text(self.result)}"

    @property
    def answer_latex(self) -> str:
        return rf"A^\top = {matrix_answer_latex(self.result)}"

    def _payload(self) -> dict[str, Any]:
        return {"a": to_jsonable(self.a), "result": to_jsonable(self.result)}


def transpose(a: Any) -> Transpose:
    """The transpose ``Aᵀ`` with ``(Aᵀ)ᵢⱼ = Aⱼᵢ``; a 1-D input is read as a column."""
    A = read_matrix(a, "A", vector_as="column")
    result = A.T
    steps = [LinalgStep(
        "Swap rows and columns",
        f"Row $i$ of $A$ becomes column $i$ of $Aᵀ$, so the ${shape_text(A.shape)}$ matrix becomes "
        f"${shape_text(result.shape)}$.",
        rf"(A^\top)_{{ij}} = A_{{ji}},\quad A^\top = {tex(result)}",
        "(Aᵀ)ᵢⱼ = Aⱼᵢ\n" + labelled_grid("Aᵀ", result))]
    return Transpose(A, result, steps)


# --------------------------------------------------------------------------- norms

_NORM_NAMES = {"1": "L1 norm", "2": "L2 (Euclidean) norm", "inf": "L∞ (max) norm",
               "fro": "Frobenius norm"}


@dataclass(eq=False)
class Norm(StepsResult):
    """A vector norm (L1, L2, L∞) or a matrix's Frobenius norm."""

    x: sp.Matrix
    kind: str
    result: sp.Expr
    steps: list[LinalgStep] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return _NORM_NAMES[self.kind]

    @property
    def symbol(self) -> str:
        return {"1": "‖x‖₁", "2": "‖x‖₂", "inf": "‖x‖∞", "fro": "‖A‖_F"}[self.kind]

    @property
    def answer_text(self) -> str:
        return f"{self.symbol} = {txt(self.result)}{_approx(self.result)}"

    @property
    def answer_latex(self) -> str:
        sub = {"1": "1", "2": "2", "inf": r"\infty", "fro": "F"}[self.kind]
        name = "A" if self.kind == "fro" else "x"
        return rf"\|{name}\|_{{{sub}}} = {tex(self.result)}"

    def _payload(self) -> dict[str, Any]:
        return {"kind": self.kind, "x": to_jsonable(self.x), "result": to_jsonable(self.result)}


@_with_deadline
def norm(x: Any, kind: str | int | float | None = None) -> Norm:
    """``kind``: 1, 2 or "inf" for vectors (default 2); "fro" for matrices (their default)."""
    M = read_matrix(x, "x", vector_as="column")
    is_vector = M.cols == 1 or M.rows == 1
    key = {None: "2" if is_vector else "fro", 1: "1", 2: "2", math.inf: "inf", "1": "1", "2": "2",
           "l1": "1", "l2": "2", "inf": "inf", "max": "inf", "fro": "fro", "frobenius": "fro"}
    kind_key = key.get(kind.lower() if isinstance(kind, str) else kind)
    if kind_key is None:
        raise DerivekitError(f"unknown norm '{kind}'", hint="use 1, 2, 'inf' or 'fro'")
    if not is_vector and kind_key != "fro":
        raise UnsupportedError(f"the {_NORM_NAMES[kind_key]} of a {shape_text(M.shape)} matrix "
                               "is not supported", hint="use kind='fro' for matrices")
    entries = list(M)
    shown = entries if len(entries) <= MAX_SHOWN_TERMS else None

    def join(fmt_text, fmt_tex, sep=" + "):
        if shown is None:
            return "…", r"\cdots"
        return sep.join(fmt_text(e) for e in shown), sep.join(fmt_tex(e) for e in shown)

    if kind_key == "1":
        result = _tidy(sum((abs(e) for e in entries), sp.Integer(0)))
        body_text, body_tex = join(lambda e: f"|{txt(e)}|", lambda e: rf"\left|{tex(e)}\right|")
        steps = [LinalgStep("Add the absolute values",
                            "The L1 norm adds the absolute value of every entry (the taxicab length).",
                            rf"\|x\|_1 = \sum_i |x_i| = {body_tex} = {tex(result)}",
                            f"‖x‖₁ = Σ|xᵢ| = {body_text} = {txt(result)}")]
    elif kind_key == "inf":
        result = sp.Max(*[abs(e) for e in entries])
        body_text, body_tex = join(lambda e: f"|{txt(e)}|", lambda e: rf"\left|{tex(e)}\right|", ", ")
        steps = [LinalgStep("Take the largest absolute value",
                            "The $L∞$ norm is the largest absolute entry.",
                            rf"\|x\|_\infty = \max_i |x_i| = \max({body_tex}) = {tex(result)}",
                            f"‖x‖∞ = max|xᵢ| = max({body_text}) = {txt(result)}")]
    else:
        squares = _tidy(sum((e**2 if e.is_real is not False else abs(e)**2 for e in entries),
                            sp.Integer(0)))
        result = sp.sqrt(squares)
        body_text, body_tex = join(lambda e: f"{_paren_text(e)}²", lambda e: f"{_paren_tex(e)}^2")
        what = "every entry of the matrix" if kind_key == "fro" else "the entries"
        label, label_tex = ("‖A‖_F", r"\|A\|_F") if kind_key == "fro" else ("‖x‖₂", r"\|x\|_2")
        steps = [LinalgStep("Square, add, take the square root",
                            f"This norm is the square root of the sum of the squares of {what}"
                            + (" (the vector norm of $A$ read as one long vector)." if kind_key == "fro"
                               else " (Pythagoras in $n$ dimensions)."),
                            rf"{label_tex} = \sqrt{{{body_tex}}} = \sqrt{{{tex(squares)}}} = {tex(result)}",
                            f"{label} = √({body_text}) = √{_paren_text(squares)} = {txt(result)}"
                            f"{_approx(result)}")]
    return Norm(M, kind_key, result, steps)


# --------------------------------------------------------------------------- determinant

@dataclass(eq=False)
class Determinant(StepsResult):
    """``det A`` by cofactor expansion (up to 4×4) or by row reduction."""

    a: sp.Matrix
    result: sp.Expr
    method: str
    steps: list[LinalgStep] = field(default_factory=list)
    heading = "Determinant det A"

    @property
    def answer_text(self) -> str:
        return f"det A = {txt(self.result)}"

    @property
    def answer_latex(self) -> str:
        return rf"\det A = {tex(self.result)}"

    def _payload(self) -> dict[str, Any]:
        return {"a": to_jsonable(self.a), "method": self.method, "result": to_jsonable(self.result)}


def _square(a: Any, what: str) -> sp.Matrix:
    A = read_matrix(a, "A")
    if A.rows != A.cols:
        raise ShapeError(f"A is {shape_text(A.shape)}, but {what} needs a square matrix",
                         hint="only square (n×n) matrices have one")
    return A


@_with_deadline
def det(a: Any) -> Determinant:
    """The determinant: ad − bc for 2×2, cofactor expansion up to 4×4, row reduction beyond."""
    A = _square(a, "a determinant")
    n = A.rows
    if n == 1:
        result = A[0, 0]
        steps = [LinalgStep("A $1×1$ matrix", "The determinant of a $1×1$ matrix is its one entry.",
                            rf"\det A = {tex(result)}", f"det A = {txt(result)}")]
        return Determinant(A, result, "entry", steps)
    if n == 2:
        a_, b_, c_, d_ = A
        result = _tidy(a_ * d_ - b_ * c_)
        steps = [LinalgStep(
            "The $2×2$ rule", "For a $2×2$ matrix, $det A$ is the product of the diagonal minus "
            "the product of the off-diagonal: $a·d − b·c$.",
            rf"\det A = ad - bc = {_paren_tex(a_)} \cdot {_paren_tex(d_)} - {_paren_tex(b_)} \cdot "
            rf"{_paren_tex(c_)} = {tex(result)}",
            f"det A = ad − bc = {_paren_text(a_)}·{_paren_text(d_)} − {_paren_text(b_)}·"
            f"{_paren_text(c_)} = {txt(result)}")]
        return Determinant(A, result, "2x2 rule", steps)
    if n <= MAX_COFACTOR_SIZE:
        return _cofactor_determinant(A)
    return _row_reduction_determinant(A)


def _best_line(A: sp.Matrix) -> tuple[str, int]:
    """The row or column with the most zeros (row 1 on ties)."""
    best = ("row", 0, -1)
    for kind in ("row", "column"):
        for k in range(A.rows):
            line = A.row(k) if kind == "row" else A.col(k)
            zeros = sum(1 for x in line if x == 0)
            if zeros > best[2]:
                best = (kind, k, zeros)
    return best[0], best[1]


def _cofactor_determinant(A: sp.Matrix) -> Determinant:
    n = A.rows
    kind, k = _best_line(A)
    positions = [(k, j) for j in range(n)] if kind == "row" else [(i, k) for i in range(n)]
    index = "j" if kind == "row" else "i"
    fixed = f"{k + 1}"
    formula_tex = (rf"\det A = \sum_{{{index}=1}}^{{{n}}} (-1)^{{"
                   + (rf"{fixed}+j}} a_{{{fixed}j}} M_{{{fixed}j}}" if kind == "row"
                      else rf"i+{fixed}}} a_{{i{fixed}}} M_{{i{fixed}}}"))
    formula_text = (f"det A = Σⱼ (−1)^({fixed}+j) a{subscript(k + 1)}ⱼ M{subscript(k + 1)}ⱼ"
                    if kind == "row" else
                    f"det A = Σᵢ (−1)^(i+{fixed}) aᵢ{subscript(k + 1)} Mᵢ{subscript(k + 1)}")
    steps = [LinalgStep(
        f"Expand along {kind} {k + 1}",
        f"Cofactor (Laplace) expansion along {kind} {k + 1}, the {kind} with the most zeros: "
        "each entry times its signed minor, the determinant of what is left after deleting that "
        "entry's row and column.",
        formula_tex, formula_text)]
    terms, lines_text, lines_tex = [], [], []
    for i, j in positions:
        entry = A[i, j]
        sign = cofactor_sign(i, j)
        label = f"{subscript(i + 1)}{subscript(j + 1)}"
        if entry == 0:
            lines_text.append(f"a{label} = 0, so its term is 0")
            lines_tex.append(rf"a_{{{i + 1}{j + 1}}} = 0 \Rightarrow \text{{term}} = 0")
            terms.append(sp.Integer(0))
            continue
        sub = minor(A, i, j)
        minor_value = det(sub).result
        term = _tidy(sign * entry * minor_value)
        terms.append(term)
        sign_text = "+" if sign > 0 else "−"
        lines_text.append(f"({sign_text}1)·{_paren_text(entry)}·det{txt(sub)} = ({sign_text}1)·"
                          f"{_paren_text(entry)}·{_paren_text(minor_value)} = {txt(term)}")
        lines_tex.append(rf"(-1)^{{{i + 1}+{j + 1}}} \cdot {_paren_tex(entry)} \cdot \det{tex(sub)}"
                         rf" = {'' if sign > 0 else '-'}{_paren_tex(entry)} \cdot "
                         rf"{_paren_tex(minor_value)} = {tex(term)}")
    steps.append(LinalgStep(
        "Signed minors", f"Each minor is a ${n - 1}×{n - 1}$ determinant"
        + (", worked with $a·d − b·c$." if n == 3 else ", itself expanded by cofactors."),
        r"\begin{aligned}" + r" \\ ".join(f"&{line}" for line in lines_tex) + r"\end{aligned}",
        "\n".join(lines_text)))
    result = _tidy(sum(terms, sp.Integer(0)))
    steps.append(LinalgStep(
        "Add the terms", "The determinant is the sum of the signed terms.",
        rf"\det A = {' + '.join(_paren_tex(t) for t in terms)} = {tex(result)}",
        f"det A = {' + '.join(_paren_text(t) for t in terms)} = {txt(result)}"))
    _check_equal(result, A.det(), "determinant")
    return Determinant(A, result, "cofactor expansion", steps)


def _row_reduction_determinant(A: sp.Matrix) -> Determinant:
    n = A.rows
    if not is_numeric(A):  # elimination would divide by symbolic pivots: stay polynomial
        result = _tidy(A.det(method="berkowitz"))
        steps = [LinalgStep(
            "Division-free expansion", f"Cofactor expansion of a ${n}×{n}$ matrix has "
            f"{math.factorial(n)} terms and elimination would divide by symbolic pivots, so "
            "the Berkowitz algorithm computes the determinant as a polynomial in the entries.",
            rf"\det A = {tex(result)}", f"det A = {txt(result)}")]
        return Determinant(A, result, "Berkowitz", steps)
    if has_floats(A):
        array = to_numpy(A)
        value = np.linalg.det(array)
        result = sp.Float(float(value)) if not np.iscomplexobj(value) else \
            sp.Float(value.real) + sp.I * sp.Float(value.imag)
        steps = [LinalgStep(
            "LU factorisation", f"A ${n}×{n}$ floating-point matrix: numpy.linalg.det factors "
            "$P A = L U$ with partial pivoting; $det A$ is the product of $U$'s diagonal, with the "
            "sign of the row permutation $P$.",
            rf"\det A = \det(P)^{{-1}} \prod_i u_{{ii}} = {tex(result)}",
            f"det A = ±Π uᵢᵢ = {txt(result)}")]
        return Determinant(A, result, "LU", steps)
    reduction = gauss_jordan(A)
    if len(reduction.pivots) < n:
        result = sp.Integer(0)
        explanation = (f"Row reduction finds only {len(reduction.pivots)} pivots for {n} rows, so "
                       "the rows are linearly dependent and the determinant is $0$.")
    else:
        result = _tidy(A.det(method="bareiss"))
        explanation = ("Row reduction to triangular form: the determinant is the product of the "
                       f"pivots, with the sign flipped for each of the {reduction.swaps} row swaps.")
    steps = [LinalgStep(
        "Row reduce", f"Cofactor expansion of a ${n}×{n}$ matrix has {math.factorial(n)} terms, so "
        "elimination is used instead. " + explanation,
        rf"\det A = (-1)^{{\text{{swaps}}}} \prod_i u_{{ii}} = {tex(result)}",
        f"det A = (−1)^swaps · Π uᵢᵢ = {txt(result)}")]
    return Determinant(A, result, "row reduction", steps)


def _check_equal(ours: sp.Expr, reference: sp.Expr, what: str) -> None:
    """Every symbolic result is checked against SymPy before it is shown."""
    difference = sp.expand(ours - reference)
    if difference != 0 and not (difference.is_number and abs(complex(difference)) < 1e-9 * (1 + abs(complex(reference)))) \
            and sp.simplify(difference) != 0:
        raise DerivekitError(f"internal check failed: the {what} steps give {ours}, SymPy gives "
                             f"{reference}", hint="please report this input")


# --------------------------------------------------------------------------- inverse

@dataclass(eq=False)
class Inverse(StepsResult):
    """``A⁻¹`` by the adjugate (up to 3×3, and symbolic 4×4) or Gauss–Jordan elimination."""

    a: sp.Matrix
    result: sp.Matrix
    determinant: sp.Expr
    method: str
    steps: list[LinalgStep] = field(default_factory=list)
    heading = "Inverse A⁻¹"

    @property
    def answer_text(self) -> str:
        return f"A⁻¹ = {matrix_answer_text(self.result)}"

    @property
    def answer_latex(self) -> str:
        return f"A^{{-1}} = {matrix_answer_latex(self.result)}"

    def _payload(self) -> dict[str, Any]:
        return {"a": to_jsonable(self.a), "method": self.method,
                "determinant": to_jsonable(self.determinant), "result": to_jsonable(self.result)}


@_with_deadline
def inv(a: Any) -> Inverse:
    """The inverse with steps; raises :class:`DerivekitError` when A is singular."""
    A = _square(a, "an inverse")
    n = A.rows
    symbolic = not is_numeric(A)
    if symbolic and n > MAX_COFACTOR_SIZE:
        raise UnsupportedError(f"the symbolic inverse of a {n}×{n} matrix is too large to show "
                               f"(each entry is a ratio of degree-{n - 1} and degree-{n} polynomials)",
                               hint="substitute numbers for the symbols")
    if n <= 3 or (symbolic and n <= MAX_COFACTOR_SIZE):
        determinant = det(A)
        if determinant.result == 0:
            raise _singular(A)
        steps = list(determinant.steps)
        if n == 1:
            result = sp.Matrix([[1 / A[0, 0]]])
            method = "reciprocal"
        else:
            cof = sp.Matrix(n, n, lambda i, j: _tidy(cofactor_sign(i, j) * minor(A, i, j).det()) if n > 1 else 1)
            adj = cof.T
            result = (adj / determinant.result).applyfunc(sp.cancel if symbolic else (lambda x: x))
            method = "adjugate"
            steps.append(LinalgStep(
                "Cofactors and adjugate",
                "Cofactor $Cᵢⱼ$ is $(−1)^(i+j)$ times the minor $Mᵢⱼ$; the adjugate is the transpose of "
                "the cofactor matrix.",
                rf"C = {tex(cof)},\quad \operatorname{{adj}} A = C^\top = {tex(adj)}",
                labelled_grid("C", cof) + "\n" + labelled_grid("adj A", adj)))
            steps.append(LinalgStep(
                "Divide by the determinant",
                "$A⁻¹ = adj A / det A$" + (", valid wherever $det A ≠ 0$." if symbolic else "."),
                rf"A^{{-1}} = \frac{{1}}{{{tex(determinant.result)}}} \operatorname{{adj}} A = {tex(result)}",
                labelled_grid("A⁻¹", result)))
        det_value = determinant.result
    elif has_floats(A) and n > MAX_FLOAT_STEPS_SIZE:
        result, det_value, steps = _lapack_inverse(A)
        method = "LU"
    else:
        result, det_value, steps = _gauss_jordan_inverse(A)
        method = "Gauss-Jordan"
    steps.append(_inverse_check(A, result, symbolic))
    return Inverse(A, result, det_value, method, steps)


def _inverse_check(A: sp.Matrix, inverse: sp.Matrix, symbolic: bool) -> LinalgStep:
    """A·A⁻¹ = I: exactly for exact matrices, as a residual for floating-point ones."""
    if has_floats(A) or has_floats(inverse):
        array = to_numpy(A)
        residual = float(np.max(np.abs(array @ to_numpy(inverse) - np.eye(A.rows))))
        return LinalgStep("Check", "Multiplying back gives the identity up to rounding; the "
                          "largest entry of $A·A⁻¹ − I$ measures the error.",
                          rf"\max_{{ij}} |(A A^{{-1}} - I)_{{ij}}| = {residual:.2g}",
                          f"max |A·A⁻¹ − I| = {residual:.2g}")
    check = (A * inverse).applyfunc(sp.cancel if symbolic else (lambda x: x))
    if not all(sp.simplify(x) == 0 if symbolic else x == 0 for x in (check - sp.eye(A.rows))):
        raise DerivekitError("internal check failed: A·A⁻¹ is not the identity",
                             hint="please report this input")
    return LinalgStep("Check", "Multiplying back gives the identity, so the inverse is right.",
                      r"A A^{-1} = I", "A·A⁻¹ = I ✓")


def _singular(A: sp.Matrix) -> DerivekitError:
    return DerivekitError("A is singular (det A = 0, its rows are linearly dependent), so it has "
                          "no inverse", hint="check its rank with dk.rank; for least squares use "
                                             "the pseudo-inverse (numpy.linalg.pinv)")


def _lapack_inverse(A: sp.Matrix):
    array = to_numpy(A)
    condition = float(np.linalg.cond(array))
    if not np.isfinite(condition) or condition > 1 / np.finfo(float).eps:
        raise _singular(A)
    inverse = np.linalg.inv(array)
    steps = [LinalgStep(
        "LU factorisation", f"A ${A.rows}×{A.rows}$ floating-point matrix: numpy.linalg.inv "
        "factors $P A = L U$ with partial pivoting and solves for each column of the identity. The "
        f"condition number $κ(A) = {condition:.3g}$ says about {max(0, int(np.log10(condition)))} "
        "of the 16 significant digits may be lost.",
        rf"\kappa(A) = \|A\|\,\|A^{{-1}}\| = {condition:.3g}", f"cond(A) = {condition:.3g}")]
    det_value = sp.Float(float(np.linalg.det(array)))
    return sp.Matrix(inverse.tolist()), det_value, steps


def _gauss_jordan_inverse(A: sp.Matrix):
    n = A.rows
    augmented = A.row_join(sp.eye(n))
    reduction = gauss_jordan(augmented, columns=n)
    if len(reduction.pivots) < n:
        raise _singular(A)
    result = reduction.reduced[:, n:]
    ops_text = [op.text for op in reduction.ops]
    ops_tex = [op.latex for op in reduction.ops]
    if len(ops_text) > MAX_LISTED_OPS:
        ops_text = ops_text[:MAX_LISTED_OPS] + [f"… ({len(reduction.ops) - MAX_LISTED_OPS} more)"]
        ops_tex = ops_tex[:MAX_LISTED_OPS] + [r"\cdots"]
    pivoting = ("the first non-zero pivot in each column (exact arithmetic)" if reduction.exact
                else "the largest pivot in each column (partial pivoting, for stability)")
    steps = [
        LinalgStep("Augment with the identity",
                   "Write $[A | I]$; row operations that turn $A$ into $I$ turn $I$ into $A⁻¹$.",
                   rf"\left[\,A \mid I\,\right] = {tex(augmented)}",
                   labelled_grid("[A | I]", augmented)),
        LinalgStep("Row reduce (Gauss–Jordan)",
                   f"Eliminate column by column, choosing {pivoting}; {len(reduction.ops)} "
                   "operations in all.",
                   r"\begin{aligned}" + r" \\ ".join(f"&{op}" for op in ops_tex) + r"\end{aligned}",
                   "\n".join(ops_text)),
        LinalgStep("Read off the inverse", "The left block is now $I$, so the right block is $A⁻¹$.",
                   rf"\left[\,I \mid A^{{-1}}\,\right],\quad A^{{-1}} = {tex(result)}",
                   labelled_grid("A⁻¹", result)),
    ]
    det_value = A.det(method="bareiss") if reduction.exact else sp.Float(float(np.linalg.det(to_numpy(A))))
    return result, det_value, steps


# --------------------------------------------------------------------------- rank

@dataclass(eq=False)
class Rank(StepsResult):
    """The rank: the number of pivots in row-echelon form."""

    a: sp.Matrix
    result: int
    pivots: tuple[int, ...]  # empty on the SVD route (floating-point matrices above 6×6)
    reduced: sp.Matrix | None
    steps: list[LinalgStep] = field(default_factory=list)
    heading = "Rank of A"

    @property
    def answer_text(self) -> str:
        return f"rank A = {self.result}"

    @property
    def answer_latex(self) -> str:
        return rf"\operatorname{{rank}} A = {self.result}"

    def _payload(self) -> dict[str, Any]:
        return {"a": to_jsonable(self.a), "result": self.result,
                "pivot_columns": [p + 1 for p in self.pivots],
                "reduced": None if self.reduced is None else to_jsonable(self.reduced)}


@_with_deadline
def rank(a: Any) -> Rank:
    """The rank by Gauss–Jordan elimination, with the pivot columns and rank–nullity."""
    A = read_matrix(a, "A", vector_as="column")
    if has_floats(A) and max(A.shape) > MAX_FLOAT_STEPS_SIZE:
        return _svd_rank(A)
    reduction = gauss_jordan(A)
    r = len(reduction.pivots)
    pivots_text = ", ".join(str(p + 1) for p in reduction.pivots) or "none"
    tolerance = "" if reduction.exact else \
        " Entries are floating-point, so pivots smaller than $10⁻¹²$ times the largest entry count as $0$."
    steps = [
        LinalgStep("Reduce to row-echelon form",
                   f"Row operations do not change the rank, so reduce $A$ ({len(reduction.ops)} "
                   f"operation{'' if len(reduction.ops) == 1 else 's'}).{tolerance}",
                   rf"\operatorname{{rref}}(A) = {tex(reduction.reduced)}",
                   labelled_grid("rref(A)", reduction.reduced)),
        LinalgStep("Count the pivots",
                   f"The pivots sit in column{'' if r == 1 else 's'} {pivots_text}; their number is the rank, and by "
                   f"rank–nullity the null space has dimension ${A.cols} − {r} = {A.cols - r}$.",
                   rf"\operatorname{{rank}} A = {r},\quad \dim\operatorname{{null}} A = {A.cols - r}",
                   f"rank A = {r}, dim null A = {A.cols - r}"),
    ]
    return Rank(A, r, reduction.pivots, reduction.reduced, steps)


def _svd_rank(A: sp.Matrix) -> Rank:
    """Rank of a larger floating-point matrix: singular values above NumPy's tolerance."""
    array = to_numpy(A)
    singular = np.linalg.svd(array, compute_uv=False)
    tolerance = float(singular.max() * max(array.shape) * np.finfo(float).eps) if singular.size else 0.0
    r = int(np.sum(singular > tolerance))
    shown = ", ".join(format_number(float(x), 4) for x in singular[:8]) + (" …" if len(singular) > 8 else "")
    steps = [
        LinalgStep("Singular values", "For a floating-point matrix, rounding makes exact pivots "
                   "meaningless; the rank is the number of singular values above the tolerance "
                   "$σ_max · max(m, n) · ε$, with $ε$ the machine epsilon (numpy.linalg.matrix_rank's "
                   "rule).",
                   rf"\sigma = ({shown}),\quad \text{{tol}} = {tolerance:.3g}",
                   f"σ = ({shown}), tol = {tolerance:.3g}"),
        LinalgStep("Count", f"{r} singular values exceed the tolerance; by rank–nullity the null "
                   f"space has dimension ${A.cols} − {r} = {A.cols - r}$.",
                   rf"\operatorname{{rank}} A = {r},\quad \dim\operatorname{{null}} A = {A.cols - r}",
                   f"rank A = {r}, dim null A = {A.cols - r}"),
    ]
    return Rank(A, r, (), None, steps)
