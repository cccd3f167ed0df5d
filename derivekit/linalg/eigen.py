"""Eigenvalues and eigenvectors with steps (``dk.eig``).

Two routes, chosen by :func:`choose_route` and stated in the result:

* **symbolic** for small exact or symbolic matrices: form A − λI, expand the characteristic
  polynomial det(A − λI), solve it with algebraic multiplicities, find each null space
  (geometric multiplicities, defective cases), verify Av = λv, then diagonalise;
* **numeric** for larger or floating-point matrices: ``numpy.linalg.eigh`` when A is
  symmetric (real eigenvalues, orthonormal eigenvectors), ``numpy.linalg.eig`` otherwise,
  with the residual ‖Av − λv‖ of every pair.

Numeric eigenvectors are unit length with the sign (phase) fixed so that each vector's
largest-|entry| is real and positive. Symbolic eigenvectors are SymPy's null-space basis
(one free entry set to 1), as ``sympy.Matrix.eigenvects`` gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from derivekit.errors import DerivekitError, UnsupportedError
from derivekit.limits import deadline
from derivekit.linalg.input import (
    has_floats,
    is_numeric,
    read_matrix,
    read_numeric,
    to_numpy,
)
from derivekit.linalg.rowops import subscript
from derivekit.linalg.steps import (
    LinalgStep,
    StepsResult,
    format_number,
    labelled_grid,
    number_text,
    step_prose,
    tex,
    to_jsonable,
    txt,
)

LAMBDA = sp.Symbol("lambda")
SYMBOLIC_MAX_SIZE = 4  # largest matrix the symbolic route takes
MAX_SHOWN_SIZE = 6  # numeric eigenvectors are printed up to this size
CLUSTER_TOLERANCE = 1e-8  # numeric eigenvalues closer than this (relative) are one eigenvalue
SYMBOLIC_DEADLINE_S = 20.0
MAX_SHOWN_OPS = 8  # an orthonormal Q is shown when its entries are this simple


@dataclass(frozen=True)
class Eigenspace:
    """One distinct eigenvalue with its multiplicities and eigenspace basis (columns)."""

    value: Any
    algebraic: int
    geometric: int
    basis: tuple[Any, ...]

    @property
    def defective(self) -> bool:
        return self.geometric < self.algebraic


@dataclass(eq=False)
class EigenDecomposition(StepsResult):
    """The eigenvalues and eigenvectors of ``matrix``, the route taken, and the steps.

    ``eigenvalues`` lists each eigenvalue as often as its algebraic multiplicity (SymPy values
    on the symbolic route, a NumPy array on the numeric one). ``eigenvectors`` holds one
    eigenvector per column, in the order of ``eigenspaces``; a defective matrix has fewer
    columns than rows. ``residuals[i]`` is ‖A vᵢ − λᵢ vᵢ‖ (numeric route).
    """

    matrix: Any
    route: str
    reason: str
    eigenvalues: Any
    eigenvectors: Any
    eigenspaces: list[Eigenspace]
    symmetric: bool
    diagonalizable: bool
    characteristic_polynomial: sp.Expr | None = None
    residuals: np.ndarray | None = None
    spectral_radius: Any = None
    P: Any = None
    D: Any = None
    steps: list[LinalgStep] = field(default_factory=list)
    heading = "Eigenvalues and eigenvectors"

    def plot(self, path=None, force: bool = False):
        """For a real 2×2 matrix, draw the unit circle's image and the eigenvectors to
        ``path`` (needs the ``plot`` extra) and return the path; without a path, return the
        figure, which Jupyter shows inline."""
        from derivekit.plots.linalg import plot_eig
        return plot_eig(self, path, force)

    @property
    def pairs(self) -> list[tuple[Any, Any]]:
        """(λ, v) for every eigenvector, v as a column (SymPy) or 1-D array (NumPy)."""
        return [(space.value, vector) for space in self.eigenspaces for vector in space.basis]

    @property
    def max_residual(self) -> float | None:
        return None if self.residuals is None else float(np.max(self.residuals))

    @property
    def answer_text(self) -> str:
        parts = []
        for space in self.eigenspaces:
            vectors = ", ".join(_vector_text(v) for v in space.basis)
            mult = f" (×{space.algebraic})" if space.algebraic > 1 else ""
            parts.append(f"λ = {txt(space.value)}{mult}: {vectors}")
        return "; ".join(parts)

    @property
    def answer_latex(self) -> str:
        return r",\quad ".join(
            rf"\lambda = {tex(space.value)}: " + ", ".join(_vector_tex(v) for v in space.basis)
            for space in self.eigenspaces)

    def _payload(self) -> dict[str, Any]:
        return {
            "route": self.route, "reason": self.reason,
            "matrix": to_jsonable(self.matrix),
            "eigenvalues": to_jsonable(list(self.eigenvalues)),
            "eigenvalues_approx": [_approx_number(v) for v in self.eigenvalues],
            "eigenspaces": [{"value": to_jsonable(s.value), "algebraic_multiplicity": s.algebraic,
                             "geometric_multiplicity": s.geometric,
                             "basis": [to_jsonable(_flat(v)) for v in s.basis]}
                            for s in self.eigenspaces],
            "symmetric": self.symmetric, "diagonalizable": self.diagonalizable,
            "characteristic_polynomial": None if self.characteristic_polynomial is None
            else str(self.characteristic_polynomial),
            "residuals": None if self.residuals is None else self.residuals.tolist(),
            "spectral_radius": to_jsonable(self.spectral_radius),
        }


def _approx_number(value: Any) -> float | dict:
    """A float, or {"re", "im"} for a complex value, of an exact or numeric eigenvalue."""
    try:
        number = complex(sp.N(value, 17)) if isinstance(value, sp.Basic) else complex(value)
    except TypeError:  # symbolic: no number
        return str(value)
    return number.real if number.imag == 0 else {"re": number.real, "im": number.imag}


def _flat(v: Any) -> list:
    return list(v) if isinstance(v, sp.MatrixBase) else np.asarray(v).tolist()


def _vector_text(v: Any) -> str:
    return "[" + ", ".join(txt(x) for x in _flat(v)) + "]" if isinstance(v, sp.MatrixBase) else txt(np.asarray(v))


def _vector_tex(v: Any) -> str:
    entries = list(v) if isinstance(v, sp.MatrixBase) else list(np.asarray(v))
    return r"\begin{bmatrix}" + r" \\ ".join(tex(x) for x in entries) + r"\end{bmatrix}"


# --------------------------------------------------------------------------- entry point

def eig(matrix: Any, method: str = "auto") -> EigenDecomposition:
    """Eigen-decomposition with steps. ``method``: "auto", "symbolic" or "numeric".

    ``matrix`` may be text (``"[[2,1],[1,2]]"``, LaTeX ``bmatrix``), a NumPy array, nested
    lists or a SymPy Matrix; it must be square.
    """
    if method not in ("auto", "symbolic", "numeric"):
        raise DerivekitError(f"unknown method '{method}'", hint="use auto, symbolic or numeric")
    array = read_numeric(matrix)
    if array is not None and array.ndim == 2 and array.shape[0] > SYMBOLIC_MAX_SIZE and method != "symbolic":
        _check_square(array.shape)
        return numeric_eig(array, f"$A$ is ${array.shape[0]}×{array.shape[0]}$, larger than "
                                  f"${SYMBOLIC_MAX_SIZE}×{SYMBOLIC_MAX_SIZE}$: its characteristic polynomial "
                                  "has degree above 4, which has no general root formula (Abel–Ruffini)")
    A = read_matrix(matrix, "A")
    _check_square(A.shape)
    if LAMBDA in A.free_symbols:
        raise DerivekitError("the matrix uses the symbol lambda, which eig keeps for eigenvalues",
                             hint="rename that symbol")
    route, reason = choose_route(A, method)
    if route == "numeric":
        return numeric_eig(to_numpy(A), reason, exact=A if not has_floats(A) else None)
    with deadline(SYMBOLIC_DEADLINE_S):
        return symbolic_eig(A, reason)


def _check_square(shape: tuple[int, ...]) -> None:
    if len(shape) != 2 or shape[0] != shape[1]:
        from derivekit.errors import ShapeError
        raise ShapeError(f"A is {'×'.join(map(str, shape))}, but eigenvalues need a square matrix",
                         hint="for a non-square matrix, use the SVD or the eigenvalues of AᵀA")


def choose_route(A: sp.Matrix, method: str = "auto") -> tuple[str, str]:
    """("symbolic" | "numeric", the reason in one sentence, its formulas marked ``$…$``)."""
    n = A.rows
    symbols = not is_numeric(A)
    if method == "numeric":
        if symbols:
            raise UnsupportedError("the numeric route needs numbers, but A has symbols",
                                   hint="substitute values or use method='symbolic'")
        return "numeric", "the numeric route was requested"
    if symbols:
        if n > SYMBOLIC_MAX_SIZE:
            raise UnsupportedError(f"symbolic eigenvalues of a {n}×{n} matrix are out of reach "
                                   "(no root formula above degree 4)",
                                   hint="substitute numbers for the symbols to use the numeric route")
        if method != "symbolic":
            factors = sp.factor_list(_char_poly(A), LAMBDA)[1]
            hard = [f for f, _ in factors if sp.degree(f, LAMBDA) > 2]
            if hard:
                raise UnsupportedError(
                    "the characteristic polynomial has a factor of degree "
                    f"{sp.degree(hard[0], LAMBDA)} in λ with symbolic coefficients "
                    f"({txt(sp.expand(hard[0]))}); its roots by Cardano's or Ferrari's formula "
                    "are unreadable", hint="substitute numbers for some symbols, or pass "
                                           "method='symbolic' to try anyway")
        return "symbolic", "$A$ has symbolic entries, so the eigenvalues are found exactly"
    if method == "symbolic":
        if n > SYMBOLIC_MAX_SIZE:
            raise UnsupportedError(f"the symbolic route takes matrices up to {SYMBOLIC_MAX_SIZE}×"
                                   f"{SYMBOLIC_MAX_SIZE}", hint="use method='numeric'")
        return "symbolic", "the symbolic route was requested"
    if has_floats(A):
        return "numeric", ("$A$ has floating-point entries, so exact root formulas would only "
                           "restate rounding; numeric LAPACK routines are used")
    if n > SYMBOLIC_MAX_SIZE:
        return "numeric", (f"$A$ is ${n}×{n}$: its characteristic polynomial has degree ${n} > 4$, "
                           "which has no general root formula (Abel–Ruffini)")
    poly = sp.Poly(_char_poly(A), LAMBDA)
    if any(sp.degree(factor, LAMBDA) > 2 for factor, _ in poly.factor_list()[1]):
        return "numeric", ("the characteristic polynomial has an irreducible factor of degree 3 "
                           "or 4, whose exact roots are unreadable nested radicals; numeric "
                           "LAPACK routines give them to full precision")
    return "symbolic", (f"$A$ is a small (${n}×{n}$) exact matrix whose characteristic polynomial "
                        "factors into linear and quadratic pieces, so the eigenvalues are exact")


def _char_poly(A: sp.Matrix) -> sp.Expr:
    return sp.expand((A - LAMBDA * sp.eye(A.rows)).det(method="berkowitz"))


# --------------------------------------------------------------------------- symbolic route

def _zero(expr: sp.Expr) -> bool:
    """Zero test for row reduction: exact for symbols, 60-digit numeric for numbers."""
    if expr.is_Number:
        return expr == 0
    if not expr.free_symbols:  # algebraic numbers of modest height: 60 digits decide
        return abs(complex(sp.N(expr, 60))) < 1e-45
    if expr.is_zero is not None:
        return bool(expr.is_zero)
    expr = sp.expand(expr)
    return expr == 0 or sp.simplify(expr) == 0


def symbolic_eig(A: sp.Matrix, reason: str) -> EigenDecomposition:
    from derivekit.linalg.operations import det  # the determinant's own cofactor steps
    n = A.rows
    shifted = A - LAMBDA * sp.eye(n)
    steps = [LinalgStep(
        "Route: symbolic", f"Exact eigenvalues with steps: {reason}.",
        rf"A = {tex(A)}", labelled_grid("A", A))]
    steps.append(LinalgStep(
        "Form $A − λI$", "An eigenvector $v ≠ 0$ satisfies $A v = λv$, i.e. $(A − λI)v = 0$, which "
        "has a non-zero solution exactly when $A − λI$ is singular.",
        rf"A - \lambda I = {tex(shifted)}", labelled_grid("A − λI", shifted)))

    poly_det = det(shifted)
    poly = sp.expand(poly_det.result)
    factored = sp.factor(poly, LAMBDA) if A.free_symbols else sp.factor(poly)
    detail_step = poly_det.steps[0] if n == 2 else poly_det.steps[1] if len(poly_det.steps) > 2 else None
    detail_text = detail_step.text.replace("det A", "det(A − λI)", 1) if detail_step is not None else ""
    detail_latex = detail_step.latex.replace(r"\det A", r"\det(A - \lambda I)", 1) + r" \\ " \
        if detail_step is not None and n == 2 else ""
    same = factored == poly
    steps.append(LinalgStep(
        "Characteristic polynomial",
        "Setting $det(A − λI) = 0$ gives a degree-$n$ polynomial in $λ$ whose roots are the "
        "eigenvalues" + (", expanding the determinant " + ("by $a·d − b·c$." if n == 2 else "by cofactors.")
           if detail_text else "."),
        detail_latex + rf"p(\lambda) = \det(A - \lambda I) = {sp.latex(poly)}" + ("" if same else f" = {sp.latex(factored)}"),
        (detail_text + "\n" if detail_text else "") + f"p(λ) = det(A − λI) = {txt(poly)}"
        + ("" if same else f" = {txt(factored)}")))

    roots, hard = _eigenvalues(poly, symbolic=bool(A.free_symbols))
    values = _order_values(list(roots))
    root_lines = [f"λ = {txt(v)}" + (f"  (algebraic multiplicity {roots[v]})") for v in values]
    steps.append(LinalgStep(
        "Solve $p(λ) = 0$",
        "The roots of the characteristic polynomial are the eigenvalues; a root repeated $k$ "
        "times has algebraic multiplicity $k$.",
        r"\begin{aligned}" + r" \\ ".join(rf"&\lambda = {tex(v)} \quad (\text{{multiplicity }} {roots[v]})"
                                          for v in values) + r"\end{aligned}",
        "\n".join(root_lines)))

    spaces: list[Eigenspace] = []
    for value in values:
        if value in hard:
            space, step = _hard_root_eigenvector(A, value, hard[value])
            spaces.append(space)
            steps.append(step)
            continue
        M = (A - value * sp.eye(n)).applyfunc(sp.expand)
        basis = _null_space(M, A, value)
        reduced, _ = M.rref(iszerofunc=_zero, simplify=True)
        if not reduced.free_symbols:
            reduced = reduced.applyfunc(sp.radsimp)
        space = Eigenspace(value, roots[value], len(basis), tuple(basis))
        spaces.append(space)
        defect = (f" It is defective: only {space.geometric} independent eigenvector"
                  f"{'s' if space.geometric != 1 else ''} for algebraic multiplicity "
                  f"{space.algebraic}.") if space.defective else ""
        steps.append(LinalgStep(
            f"Eigenvectors for $λ = {txt(value)}$",
            f"Solve $(A − λI)v = 0$ by row reduction; the free variables give a basis of the "
            f"eigenspace, whose dimension {space.geometric} is the geometric multiplicity.{defect}",
            rf"A - {_paren_tex(value)} I = {tex(M)} \;\to\; \operatorname{{rref}} = {tex(reduced)}"
            rf" \;\Rightarrow\; v \in \operatorname{{span}}\left\{{{', '.join(tex(v) for v in basis)}\right\}}",
            labelled_grid(f"A − {_paren(value)}I", M) + "\n" + labelled_grid("rref", reduced)
            + "\n" + "eigenvectors: " + ", ".join(_vector_text(v) for v in basis)))

    checks_text, checks_tex = [], []
    for space in spaces:
        for v in space.basis:
            Av = (A * v).applyfunc(sp.expand)
            exact_root = space.value in hard  # checked exactly modulo its factor already
            if not exact_root and not all(_zero(x) for x in (Av - space.value * v)):
                raise DerivekitError(f"internal check failed: Av ≠ λv for λ = {space.value}",
                                     hint="please report this input")
            Av_show = Av.applyfunc(sp.simplify) if Av.free_symbols else Av \
                if Av.has(sp.Float, sp.CRootOf) else Av.applyfunc(sp.radsimp)
            checks_text.append(f"A{_vector_text(v)} = {_vector_text(Av_show)} = {_paren(space.value)}·"
                               f"{_vector_text(v)} ✓")
            checks_tex.append(rf"A{_vector_tex(v)} = {_vector_tex(Av_show)} = {_paren_tex(space.value)}"
                              rf"{_vector_tex(v)}")
    steps.append(LinalgStep(
        "Check $A v = λv$", "Multiplying each eigenvector by $A$ only scales it by its eigenvalue.",
        r"\begin{aligned}" + r" \\ ".join(f"&{line}" for line in checks_tex) + r"\end{aligned}",
        "\n".join(checks_text)))

    symmetric = A == A.T
    diagonalizable = not any(space.defective for space in spaces)
    P = D = None
    if diagonalizable:
        P = sp.Matrix.hstack(*[v for space in spaces for v in space.basis])
        D = sp.diag(*[space.value for space in spaces for _ in space.basis])
        steps.append(_diagonalisation_step(P, D, symmetric, bool(A.free_symbols)))
    else:
        steps.append(LinalgStep(
            "Not diagonalisable",
            "Some eigenvalue has fewer independent eigenvectors than its multiplicity, so there "
            "are not $n$ independent eigenvectors and no $P$ with $A = P D P⁻¹$ exists (the Jordan form "
            "takes its place).",
            r"\sum_\lambda \dim E_\lambda = " + str(sum(s.geometric for s in spaces)) + f" < {n}",
            f"Σ dim E_λ = {sum(s.geometric for s in spaces)} < {n}"))

    radius = _spectral_radius([s.value for s in spaces])
    steps.append(_stability_step(radius))
    eigenvalues = [space.value for space in spaces for _ in range(space.algebraic)]
    vectors = sp.Matrix.hstack(*[v for space in spaces for v in space.basis])
    return EigenDecomposition(A, "symbolic", step_prose(reason, "text"), eigenvalues, vectors, spaces, bool(symmetric),
                              diagonalizable, poly, None, radius, P, D, steps)


def _eigenvalues(poly: sp.Expr, symbolic: bool) -> tuple[dict, dict]:
    """{root: multiplicity}, and {root: its irreducible factor} for roots of degree-3+ factors.

    Numeric matrices are factored over the rationals: linear and quadratic factors give
    radicals; the roots of an irreducible cubic or quartic factor are given to 30 digits
    instead of as unreadable Cardano/Ferrari radicals (their eigenvectors stay exact
    polynomials in λ, see :func:`_hard_root_eigenvector`).
    """
    roots: dict = {}
    hard: dict = {}
    if symbolic:
        roots = sp.roots(sp.Poly(poly, LAMBDA))
        if sum(roots.values()) < sp.degree(poly, LAMBDA):
            raise UnsupportedError("SymPy finds no closed form for all roots of the characteristic "
                                   "polynomial", hint="substitute numbers for the symbols")
        return roots, hard
    for factor, multiplicity in sp.Poly(poly, LAMBDA).factor_list()[1]:
        if factor.degree() <= 2:
            for root, m in sp.roots(factor).items():
                roots[root] = roots.get(root, 0) + m * multiplicity
        else:
            for root in factor.nroots(n=30):  # 30 digits; exact CRootOf refinement is slow
                roots[root] = multiplicity
                hard[root] = factor
    return roots, hard


def _hard_root_eigenvector(A: sp.Matrix, value: sp.Expr, factor: sp.Poly):
    """Eigenvector for a simple root of an irreducible factor f: a column of adj(A − λI),
    reduced modulo f(λ), so its entries are short polynomials in λ."""
    n = A.rows
    adjugate = (A - LAMBDA * sp.eye(n)).adjugate()
    column = None
    for j in range(n):
        reduced = [sp.Poly(adjugate[i, j], LAMBDA).rem(factor).as_expr() for i in range(n)]
        if any(entry != 0 for entry in reduced):
            column = sp.Matrix(reduced)
            break
    if column is None:  # pragma: no cover - impossible for a simple root
        raise DerivekitError(f"could not find eigenvectors for λ = {value}",
                             hint="use method='numeric'")
    residual = ((A - LAMBDA * sp.eye(n)) * column).applyfunc(
        lambda entry: sp.Poly(entry, LAMBDA).rem(factor).as_expr())
    if residual != sp.zeros(n, 1):  # pragma: no cover - the adjugate identity guarantees it
        raise DerivekitError("internal check failed: adjugate column is not an eigenvector")
    vector = column.subs(LAMBDA, value).applyfunc(lambda x: sp.N(sp.expand(x), 30))
    space = Eigenspace(value, 1, 1, (vector,))
    step = LinalgStep(
        f"Eigenvectors for $λ = {txt(value)}$",
        f"This $λ$ is a root of the irreducible factor ${txt(factor.as_expr())}$, a simple root, "
        "so $A − λI$ has rank $n − 1$ and any non-zero column of its adjugate $adj(A − λI)$ is an "
        "eigenvector, because $(A − λI)·adj(A − λI) = det(A − λI)·I = 0$. Its entries are "
        "reduced modulo the factor; $λ$ is known to 30 digits and shown to 6.",
        rf"v = {tex(column)}\Big|_{{\lambda = {tex(value)}}} = {tex(vector)}",
        labelled_grid("v(λ)", column) + "\n" + f"eigenvectors: {_vector_text(vector)}")
    return space, step


def _paren_tex(value: sp.Expr) -> str:
    s = tex(value)
    return rf"\left({s}\right)" if " " in s or s.startswith(("-", "−")) else s


def _paren(value: sp.Expr) -> str:
    s = txt(value)
    return f"({s})" if " " in s or s.startswith(("-", "−")) else s


def _order_values(values: list[sp.Expr]) -> list[sp.Expr]:
    """Numeric eigenvalues largest real part first; symbolic ones in SymPy's default order."""
    if all(v.is_number for v in values):
        approx = {v: complex(sp.N(v, 20)) for v in values}
        return sorted(values, key=lambda v: (-approx[v].real, -approx[v].imag))
    return sorted(values, key=sp.default_sort_key)


def _null_space(M: sp.Matrix, A: sp.Matrix, value: sp.Expr) -> list[sp.Matrix]:
    basis = M.nullspace(simplify=True, iszerofunc=_zero)
    if not basis:  # zero-testing missed the singularity: take SymPy's own eigenvectors
        for ref_value, _, vectors in A.eigenvects(simplify=True):
            if _zero(ref_value - value):
                basis = vectors
                break
    if not basis:
        raise DerivekitError(f"could not find eigenvectors for λ = {value}",
                             hint="try method='numeric' with numbers substituted")
    return [v.applyfunc(_tidy_entry) for v in basis]


def _tidy_entry(x: sp.Expr) -> sp.Expr:
    if x.is_Rational:
        return x
    if x.free_symbols:
        return sp.simplify(x)
    tidy = sp.radsimp(sp.expand(x))
    return tidy if sp.count_ops(tidy) <= sp.count_ops(x) else x


def _diagonalisation_step(P, D, symmetric: bool, symbolic: bool) -> LinalgStep:
    if symmetric:
        statement = ("$A$ is symmetric, so by the spectral theorem its eigenvalues are real"
                     + (" (for real symbols)" if symbolic else "")
                     + " and eigenvectors of different eigenvalues are orthogonal: normalised, "
                     "they form an orthogonal $Q$ with $A = Q Λ Qᵀ$.")
    else:
        statement = ("$A$ has $n$ independent eigenvectors, so with them as the columns of $P$ and "
                     "the eigenvalues on the diagonal of $D$, $A = P D P⁻¹$.")
    if symmetric and not symbolic and isinstance(P, sp.MatrixBase) and not P.has(sp.CRootOf):
        Q = sp.Matrix.hstack(*sp.GramSchmidt([P[:, j] for j in range(P.cols)], True))
        Q = Q.applyfunc(sp.radsimp)
        if max(sp.count_ops(x) for x in Q) > MAX_SHOWN_OPS:  # unreadable radicals: show P
            return LinalgStep("Diagonalise (spectral theorem)", statement + " ($Q$ is $P$ with its "
                              "columns divided by their lengths.)",
                              rf"A = P D P^{{-1}},\quad P = {tex(P)},\quad D = {tex(D)}",
                              "A = PDP⁻¹ with\n" + labelled_grid("P", P) + "\n" + labelled_grid("D", D))
        return LinalgStep("Diagonalise (spectral theorem)", statement,
                          rf"A = Q \Lambda Q^\top,\quad Q = {tex(Q)},\quad \Lambda = {tex(D)}",
                          "A = QΛQᵀ with\n" + labelled_grid("Q", Q) + "\n" + labelled_grid("Λ", D))
    if isinstance(P, np.ndarray):
        if symmetric and np.iscomplexobj(P):
            statement = ("$A$ is Hermitian (equal to its conjugate transpose), so by the spectral "
                         "theorem its eigenvalues are real and its unit eigenvectors form a "
                         "unitary $Q$ with $A = Q Λ Qᴴ$.")
            return LinalgStep("Diagonalise", statement, r"A = Q \Lambda Q^{H}", "A = QΛQᴴ")
        return LinalgStep("Diagonalise", statement,
                          r"A = P D P^{-1}" if not symmetric else r"A = Q \Lambda Q^\top",
                          "A = PDP⁻¹" if not symmetric else "A = QΛQᵀ")
    return LinalgStep("Diagonalise", statement,
                      rf"A = P D P^{{-1}},\quad P = {tex(P)},\quad D = {tex(D)}",
                      "A = PDP⁻¹ with\n" + labelled_grid("P", P) + "\n" + labelled_grid("D", D))


def _spectral_radius(values: list) -> Any:
    if all(isinstance(v, (complex, float, np.number)) for v in values):
        return float(max(abs(complex(v)) for v in values))
    if all(v.is_number for v in values):
        moduli = [sp.Abs(v) for v in values]
        best = max(moduli, key=lambda m: float(m))
        return best if best.is_Float else sp.radsimp(best)
    return None


def _stability_step(radius: Any) -> LinalgStep:
    why = ("In a linear recurrence $hₜ = A hₜ₋₁$ (the linear part of a recurrent network) the "
           "component along an eigenvector grows like $λᵗ$, and backpropagation through $t$ steps "
           "multiplies gradients by $Aᵀ$ once per step: $ρ(A) > 1$ makes them explode, $ρ(A) < 1$ makes "
           "them vanish.")
    if radius is None:
        return LinalgStep("Stability: spectral radius", why + " With symbolic entries, $ρ(A)$ "
                          "depends on the symbols' values.",
                          r"\rho(A) = \max_i |\lambda_i|", "ρ(A) = max |λᵢ|")
    value = float(radius)
    verdict = ("so repeated products explode" if value > 1 + 1e-12 else
               "so repeated products vanish" if value < 1 - 1e-12 else
               "exactly 1: repeated products neither explode nor vanish along the largest eigenvector")
    return LinalgStep("Stability: spectral radius", f"{why} Here $ρ(A) = {txt(radius)}$, {verdict}.",
                      rf"\rho(A) = \max_i |\lambda_i| = {tex(radius)}",
                      f"ρ(A) = max |λᵢ| = {txt(radius)}"
                      + (f" ≈ {format_number(value, 4)}" if isinstance(radius, sp.Basic)
                         and not radius.is_Rational and not radius.has(sp.Float) else ""))


# --------------------------------------------------------------------------- numeric route

def numeric_eig(array: np.ndarray, reason: str, exact: sp.Matrix | None = None) -> EigenDecomposition:
    """The numeric route; ``exact`` (an exact copy of A, if any) adds the polynomial step."""
    A = np.asarray(array)
    n = A.shape[0]
    scale = float(np.max(np.abs(A))) or 1.0
    real = not np.iscomplexobj(A)
    symmetric = bool(np.allclose(A, A.conj().T, rtol=0.0, atol=1e-12 * scale))  # or Hermitian
    if symmetric:
        values, vectors = np.linalg.eigh((A + A.conj().T) / 2)
        order = np.argsort(-values, kind="stable")
        kind = "symmetric" if real else "Hermitian"
        solver = (f"numpy.linalg.eigh, because A is {kind}: it guarantees real eigenvalues and "
                  "orthonormal eigenvectors and is faster and more accurate than the general solver")
    else:
        values, vectors = np.linalg.eig(A)
        order = np.lexsort((-values.imag, -values.real))
        solver = ("numpy.linalg.eig, because A is not symmetric: its eigenvalues may be complex and "
                  "its eigenvectors need not be orthogonal")
        if np.all(np.abs(values.imag) <= 1e-12 * scale):
            values = values.real
            if np.all(np.abs(vectors.imag) <= 1e-12):
                vectors = vectors.real
    values, vectors = values[order], _fix_signs(vectors[:, order])
    residuals = np.linalg.norm(A @ vectors - vectors * values, axis=0)
    steps = [LinalgStep("Route: numeric", f"Numeric eigen-decomposition, because {reason}.",
                        rf"A \in \mathbb{{R}}^{{{n} \times {n}}}" if real else
                        rf"A \in \mathbb{{C}}^{{{n} \times {n}}}",
                        labelled_grid("A", A) if n <= MAX_SHOWN_SIZE else f"A is {n}×{n}")]
    if exact is not None and n <= SYMBOLIC_MAX_SIZE:
        poly = _char_poly(exact)
        steps.append(LinalgStep(
            "Characteristic polynomial",
            "The eigenvalues are the roots of $det(A − λI)$; this polynomial has no readable exact "
            "roots, so they are computed numerically.",
            rf"p(\lambda) = \det(A - \lambda I) = {sp.latex(sp.factor(poly))}",
            f"p(λ) = det(A − λI) = {txt(sp.factor(poly))}"))
    steps.append(LinalgStep("Solver", f"Using {solver}.",
                            r"\texttt{numpy.linalg.eigh}(A)" if symmetric else r"\texttt{numpy.linalg.eig}(A)",
                            "numpy.linalg.eigh(A)" if symmetric else "numpy.linalg.eig(A)"))
    spaces = _cluster(values, vectors, scale)
    shown = n <= MAX_SHOWN_SIZE
    value_lines = [f"λ{subscript(i + 1)} = {txt(v)}" for i, v in enumerate(values)] if shown else \
        [f"{n} eigenvalues from {txt(values[0])} down to {txt(values[-1])}"]
    steps.append(LinalgStep(
        "Eigenvalues", "Sorted from the largest real part down"
        + ("; repeated ones are grouped as one eigenvalue with its multiplicity." if
           any(s.algebraic > 1 for s in spaces) else "."),
        r",\ ".join(rf"\lambda_{{{i + 1}}} = {tex(v)}" for i, v in enumerate(values[:MAX_SHOWN_SIZE])),
        "\n".join(value_lines)))
    if shown:
        steps.append(LinalgStep(
            "Eigenvectors", "Column $i$ pairs with $λᵢ$; each has unit length, with the sign fixed so "
            "its largest-magnitude entry is positive.",
            rf"V = {tex(vectors)}", labelled_grid("V", vectors)))
    steps.append(LinalgStep(
        "Residuals", "How well each pair satisfies $A v = λv$ in floating point; values near "
        "machine precision times the size of $A$ (here about "
        f"${number_text(np.finfo(float).eps * scale * n, 2)}$) mean the pairs are accurate.",
        rf"\max_i \|A v_i - \lambda_i v_i\| = {format_number(float(residuals.max()), 3)}",
        "\n".join(f"‖Av{subscript(i + 1)} − λ{subscript(i + 1)}v{subscript(i + 1)}‖ = "
                  f"{number_text(float(r), 3)}"
                  for i, r in enumerate(residuals[:MAX_SHOWN_SIZE]))
        + ("" if shown else f"\nmax over all {n}: {number_text(float(residuals.max()), 3)}")))
    condition = float(np.linalg.cond(vectors)) if not symmetric else 1.0
    diagonalizable = condition < 1e8 and not any(s.defective for s in spaces)
    if diagonalizable:
        steps.append(_diagonalisation_step(vectors, np.diag(values), symmetric, False))
    else:
        steps.append(LinalgStep(
            "Not diagonalisable (numerically)",
            f"The eigenvector matrix is nearly singular (condition number {condition:.2g}): "
            "eigenvectors of a repeated eigenvalue are almost parallel, the sign of a defective "
            "matrix, so $A = P D P⁻¹$ is unreliable or impossible.",
            rf"\kappa(V) = {condition:.2g}", f"cond(V) = {condition:.2g}"))
    radius = float(np.max(np.abs(values)))
    steps.append(_stability_step(radius))
    eigenvalues = values
    return EigenDecomposition(A, "numeric-eigh" if symmetric else "numeric-eig", step_prose(reason, "text"),
                              eigenvalues, vectors, spaces, symmetric, diagonalizable, None,
                              residuals, radius, vectors if diagonalizable else None,
                              np.diag(values) if diagonalizable else None, steps)


def _fix_signs(vectors: np.ndarray) -> np.ndarray:
    """Scale each column so its largest-|entry| is real and positive (unit length kept)."""
    vectors = vectors.copy()
    for j in range(vectors.shape[1]):
        column = vectors[:, j]
        k = int(np.argmax(np.abs(column)))
        if column[k] != 0:
            phase = column[k] / abs(column[k])
            vectors[:, j] = column / phase
    if np.iscomplexobj(vectors) and np.all(np.abs(vectors.imag) <= 1e-14):
        vectors = vectors.real
    return vectors


def _cluster(values: np.ndarray, vectors: np.ndarray, scale: float) -> list[Eigenspace]:
    spaces: list[Eigenspace] = []
    i = 0
    while i < len(values):
        j = i + 1
        while j < len(values) and abs(values[j] - values[i]) <= CLUSTER_TOLERANCE * scale:
            j += 1
        group = vectors[:, i:j]
        geometric = int(np.linalg.matrix_rank(group, tol=1e-6)) if j - i > 1 else 1
        value = values[i] if j - i == 1 else np.mean(values[i:j])
        spaces.append(Eigenspace(value.item() if hasattr(value, "item") else value, j - i,
                                 geometric, tuple(group[:, k] for k in range(j - i))))
        i = j
    return spaces


__all__ = ["eig", "EigenDecomposition", "Eigenspace", "choose_route", "symbolic_eig", "numeric_eig",
           ]
