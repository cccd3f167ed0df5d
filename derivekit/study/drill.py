"""Interview drills: seeded practice problems by topic and difficulty, answers checked.

Each row of :data:`DRILL_TOPICS` is a generator ``make(rng, difficulty) -> Problem``. A
:class:`Problem` carries its prompt, the expected answer, a hint (the rule to apply), a
``check(answer) -> Feedback`` built on ``dk.verify`` / ``dk.verify_backprop`` or a numeric
comparison, and ``solution()`` giving the full steps. :class:`DrillSession` deals problems from
a seed, keeps the score, and :func:`run_interactive` drives one on any pair of streams.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass, field
from typing import Callable

from derivekit.errors import DerivekitError


@dataclass
class Feedback:
    ok: bool
    message: str
    readable: bool = True  # False: the answer could not be read, so it is not scored


@dataclass
class Problem:
    topic: str
    difficulty: int
    prompt: str
    expected: Callable[[], str]
    hint: str
    check: Callable[[str], Feedback]
    solution: Callable[[], str]
    answer_form: str = "an expression"


# --------------------------------------------------------------------------------------------
# checkers


def derivative_checker(expr: str, wrt):
    """Check a claimed derivative (or gradient, with ``wrt`` a list) with ``dk.verify``."""
    def check(answer: str) -> Feedback:
        from derivekit.numeric.verify import verify
        claim = split_answer(answer) if isinstance(wrt, list) else answer
        if "=" in answer:
            return Feedback(False, "could not read your answer: write the derivative itself, "
                            "not an equation (e.g. 2*x, not f'(x) = 2*x)", readable=False)
        try:
            verdict = verify(expr, claim, wrt)
        except DerivekitError as exc:
            return Feedback(False, f"could not read your answer: {exc.message}", readable=False)
        return Feedback(bool(verdict.ok), "correct" if verdict.ok else verdict.diagnosis)
    return check


def backprop_checker(loss: str, wrt: str, shapes: dict):
    def check(answer: str) -> Feedback:
        from derivekit.matrix.gradient import verify_backprop
        try:
            verdict = verify_backprop(loss, answer, wrt, shapes)
        except DerivekitError as exc:
            return Feedback(False, f"could not read your answer: {exc.message}", readable=False)
        return Feedback(bool(verdict.ok), "correct" if verdict.ok else verdict.diagnosis)
    return check


def numbers_checker(expected: list[float], ordered: bool = True, rel: float = 1e-3,
                    abs_tol: float = 1e-3):
    """Compare a list of numbers (plain text or LaTeX, e.g. ``3/4``, ``\\frac34``, ``0.75``)."""
    def check(answer: str) -> Feedback:
        try:
            got = read_numbers(answer)
        except DerivekitError as exc:
            return Feedback(False, f"could not read your answer: {exc.message}", readable=False)
        if len(got) != len(expected):
            return Feedback(False, f"expected {len(expected)} number(s), got {len(got)}")
        def close(x, y):
            return abs(x - y) <= abs_tol + rel * abs(y)

        if ordered:
            wrong = [i for i, (x, y) in enumerate(zip(got, expected)) if not close(x, y)]
            if not wrong:
                return Feedback(True, "correct")
            i = wrong[0]
            return Feedback(False, f"{fmt(got[i])} is not right" + (
                " (check the sign)" if close(-got[i], expected[i]) else ""))
        # any order: match each given number with a distinct expected one, so a right value
        # is never blamed for a wrong one beside it
        unused = list(expected)
        unmatched = []
        for x in got:
            match = next((j for j, y in enumerate(unused) if close(x, y)), None)
            if match is None:
                unmatched.append(x)
            else:
                unused.pop(match)
        if not unmatched:
            return Feedback(True, "correct")
        values = ", ".join(fmt(x) for x in unmatched)
        sign = " (check the sign)" if all(any(close(-x, y) for y in unused) for x in unmatched) else ""
        return Feedback(False, f"{values} {'is' if len(unmatched) == 1 else 'are'} not right{sign}")
    return check


_LATEX_MATRIX = re.compile(r"^\\begin\{([bpvBV]?matrix)\}(.*)\\end\{\1\}$", re.S)


def _encloses(text: str, open_: str, close: str) -> bool:
    """Whether ``text`` is one bracketed group: its first character's partner is its last."""
    if not (text.startswith(open_) and text.endswith(close)):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0:
            return i == len(text) - 1
    return False


def split_answer(answer: str) -> list[str]:
    """``"[2x, y]"``, ``"(2x, y)"``, ``"2x; y"``, ``"2x, y"`` or a LaTeX ``bmatrix``/``pmatrix``
    (or ``\\left( … \\right)``) → one entry per component."""
    text = answer.strip().strip("$").strip()
    text = re.sub(r"\\left\s*([(\[])", r"\1", text)
    text = re.sub(r"\\right\s*([)\]])", r"\1", text).strip()
    matrix = _LATEX_MATRIX.match(text)
    if matrix:  # rows split by \\ and columns by &: each cell is one component
        text = ";".join(cell.strip() for row in re.split(r"\\\\", matrix.group(2))
                        for cell in row.split("&") if cell.strip())
    elif _encloses(text, "[", "]") or (_encloses(text, "(", ")") and _top_level(text[1:-1], ",")):
        text = text[1:-1]
    sep = ";" if ";" in text else ","
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _top_level(text: str, sep: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == sep and depth == 0:
            return True
    return False


def read_numbers(answer: str) -> list[float]:
    """Parse each component with ``dk.parse`` (never eval) and evaluate it to a float; a
    trailing ``%`` (or LaTeX ``\\%``) divides by 100, so ``75%`` reads as 0.75."""
    from derivekit.parsing.parse import parse
    values = []
    for part in split_answer(answer):
        percent = re.fullmatch(r"(.+?)\s*\\?%", part.strip())
        expr = parse(percent.group(1)) / 100 if percent else parse(part)
        if not getattr(expr, "is_number", False):
            raise DerivekitError(f"'{part}' is not a number", hint="answer with numbers, e.g. 0.8")
        value = complex(expr.evalf())
        if abs(value.imag) > 1e-12:
            raise DerivekitError(f"'{part}' is not a real number")
        values.append(value.real)
    return values


def fmt(x: float) -> str:
    return f"{x:.6g}"


def par(x: float) -> str:
    """A number as a factor: negatives in parentheses, as in 2·(−1)."""
    return f"({fmt(x)})" if x < 0 else fmt(x)


def derivation_steps(expr: str, wrt) -> Callable[[], str]:
    def solution() -> str:
        from derivekit.calculus.derive import derive, gradient
        if isinstance(wrt, list):
            return gradient(expr, wrt=wrt, steps=True).to_text()
        return derive(expr, wrt).to_text()
    return solution


# --------------------------------------------------------------------------------------------
# generators, one per topic


def chain_rule(rng: random.Random, level: int) -> Problem:
    a, b = rng.randint(2, 5), rng.randint(1, 6)
    outers = [("sin({})", "cos(g)"), ("exp({})", "exp(g)"), ("log({})", "1/g"),
              ("({})^3", "3 g²"), ("sqrt({})", "1/(2√g)"), ("cos({})", "−sin(g)")]
    outer, derivative = rng.choice(outers)
    if level == 1:
        inner = f"{a}*x + {b}"
    elif level == 2:
        inner = f"x^2 + {a}*x + {b}"
    else:
        middle, _ = rng.choice([o for o in outers if o[0] != outer])
        inner = middle.format(f"{a}*x")
    if outer.startswith(("log", "sqrt")) and level == 3:
        inner = f"exp({a}*x) + {b}"
    expr = outer.format(inner)
    hint = (f"Chain rule: d/dx f(g(x)) = f′(g(x))·g′(x). Here the outer function is "
            f"{outer.format('g')} with f′ = {derivative}, and the inner one is g = {inner}"
            + (" — itself a composition, so apply the rule twice." if level == 3 else "."))
    return Problem("chain_rule", level, f"Differentiate with respect to x:  {expr}",
                   _expected(expr, "x"), hint, derivative_checker(expr, "x"),
                   derivation_steps(expr, "x"), "an expression in x")


ACTIVATION_FACTS = {
    "sigmoid": "σ′(z) = σ(z)(1 − σ(z))", "tanh": "tanh′(z) = 1 − tanh²(z)",
    "softplus": "softplus′(z) = σ(z)", "relu": "ReLU′(z) = 1 for z > 0, 0 for z < 0",
    "silu": "SiLU′(z) = σ(z) + z σ(z)(1 − σ(z))", "elu": "ELU′(z) = 1 for z > 0, eᶻ for z < 0",
}


def activations(rng: random.Random, level: int) -> Problem:
    name = rng.choice(["sigmoid", "tanh", "softplus"])
    if level == 1:
        expr, wrt = f"{name}(z)", "z"
        hint = f"Use the activation's textbook derivative: {ACTIVATION_FACTS[name]}."
    elif level == 2:
        expr, wrt = f"{name}(w*x + b)", "w"
        hint = (f"{ACTIVATION_FACTS[name]}, then the chain rule: the inner z = wx + b has "
                f"∂z/∂w = x.")
    else:
        expr, wrt = f"({name}(w*x + b) - y)^2", "w"
        hint = (f"Squared error: d/dw (a − y)² = 2(a − y)·∂a/∂w with a = {name}(wx + b); "
                f"{ACTIVATION_FACTS[name]} and ∂(wx + b)/∂w = x.")
    return Problem("activations", level, f"Differentiate with respect to {wrt}:  {expr}",
                   _expected(expr, wrt), hint, derivative_checker(expr, wrt),
                   derivation_steps(expr, wrt), f"an expression in {wrt} (σ is sigmoid)")


def partial_derivatives(rng: random.Random, level: int) -> Problem:
    a, b, c = rng.randint(2, 5), rng.randint(2, 5), rng.randint(1, 4)
    if level == 1:
        expr = f"{a}*x^2*y + {b}*y^{c + 1}"
        wrt = rng.choice(["x", "y"])
        hint = (f"Partial derivative: treat every variable other than {wrt} as a constant, then "
                f"use the power rule.")
        return Problem("gradients", level, f"Find ∂f/∂{wrt} for f(x, y) = {expr}",
                       _expected(expr, wrt), hint, derivative_checker(expr, wrt),
                       derivation_steps(expr, wrt), "an expression in x and y")
    if level == 2:
        expr, wrt = f"x^2*y + {a}*exp(x*y)", ["x", "y"]
        hint = ("The gradient lists one partial derivative per variable; for exp(xy) use the "
                "chain rule, ∂(xy)/∂x = y and ∂(xy)/∂y = x.")
    elif rng.random() < 0.5:
        expr, wrt = "-(y*log(sigmoid(w*x + b)) + (1 - y)*log(1 - sigmoid(w*x + b)))", ["w", "b"]
        hint = ("Binary cross-entropy of σ(z), z = wx + b: ∂L/∂z = σ(z) − y (the σ′ cancels), "
                "then ∂z/∂w = x and ∂z/∂b = 1.")
    else:
        expr, wrt = f"(w*x + b - y)^2 + {a}*w^2/2", ["w", "b"]
        hint = ("Squared error plus L2 penalty: ∂/∂w (wx + b − y)² = 2(wx + b − y)·x, "
                "∂/∂b gives 2(wx + b − y)·1, and the penalty adds its own w-derivative.")
    names = ", ".join(wrt)
    return Problem("gradients", level, f"Find the gradient (∂f/∂{wrt[0]}; ∂f/∂{wrt[1]}) of "
                   f"f({names}) = {expr}", _expected(expr, wrt), hint,
                   derivative_checker(expr, wrt), derivation_steps(expr, wrt),
                   "one expression per variable, separated by ';'")


def matrix_backprop(rng: random.Random, level: int) -> Problem:
    m, n = rng.sample([2, 3, 4, 5], 2)
    if level == 1:
        loss, wrt, shapes = "a.T@x", "x", {"a": (n, 1), "x": (n, 1)}
        expected, hint = "a", "∂(aᵀx)/∂x = a: each x_i appears once, multiplied by a_i."
    elif level == 2:
        loss, wrt = "norm2(W@x - y)", "W"
        shapes = {"W": (m, n), "x": (n, 1), "y": (m, 1)}
        expected = "2*(W@x - y)@x.T"
        hint = ("Let r = Wx − y. ∂‖r‖²/∂r = 2r, and for r = Wx the gradient with respect to W "
                "is the upstream gradient times xᵀ (shapes: (m×1)(1×n) = m×n).")
    else:
        loss, wrt = "norm2(sigmoid(W@x) - y)", "W"
        shapes = {"W": (m, n), "x": (n, 1), "y": (m, 1)}
        expected = "(2*(sigmoid(W@x) - y)*sigmoid(W@x)*(1 - sigmoid(W@x)))@x.T"
        hint = ("Backprop: with z = Wx and a = σ(z), δ = ∂L/∂z = 2(a − y) ⊙ σ′(z), where "
                "σ′(z) = σ(z)(1 − σ(z)) elementwise; then ∂L/∂W = δxᵀ.")
    dims = ", ".join(f"{k}: {r}×{c}" for k, (r, c) in shapes.items())
    def solution() -> str:
        from derivekit.matrix.gradient import matrix_gradient
        return matrix_gradient(loss, wrt=wrt, shapes=shapes).to_text()
    return Problem("matrix", level, f"Find ∂L/∂{wrt} in matrix form for L = {loss}  ({dims})",
                   _const(expected), hint, backprop_checker(loss, wrt, shapes), solution,
                   "a matrix expression (@ for products, .T for transpose, * elementwise)")


def eigenvalues(rng: random.Random, level: int) -> Problem:
    import sympy as sp
    if level == 1:
        l1, l2, b = rng.randint(-3, 6), rng.randint(-3, 6), rng.randint(1, 5)
        matrix = [[l1, b], [0, l2]]
        hint = "A triangular matrix's eigenvalues are its diagonal entries (det(A − λI) factors)."
    elif level == 2:
        a, b = rng.randint(1, 5), rng.randint(1, 4)
        matrix, (l1, l2) = [[a, b], [b, a]], (a + b, a - b)
        hint = ("Symmetric [[a, b], [b, a]]: λ² − tr(A)λ + det(A) = 0 with tr = 2a, "
                "det = a² − b², so λ = a ± b (eigenvectors [1, 1] and [1, −1]).")
    else:
        l1, l2 = rng.sample(range(-3, 7), 2)
        p, q = rng.randint(1, 2), rng.choice((0, 1))
        # A = P diag(l1, l2) P⁻¹ with det P = 1 keeps the entries integers
        P = sp.Matrix([[1, p], [q, 1 + p * q]])
        matrix = (P * sp.diag(l1, l2) * P.inv()).tolist()
        hint = ("Characteristic polynomial of a 2×2 matrix: λ² − tr(A)λ + det(A) = 0; solve "
                "the quadratic. Check: the eigenvalues sum to the trace and multiply to det.")
    text = str([[int(v) for v in row] for row in matrix]).replace(" ", "")
    values = [float(v) for v in sp.Matrix(matrix).eigenvals(multiple=True)]
    def solution() -> str:
        from derivekit.linalg.eigen import eig
        return eig(text).to_text()
    return Problem("eigen", level, f"Find the eigenvalues of A = {text}",
                   _const(", ".join(fmt(v) for v in sorted(values, reverse=True))), hint,
                   numbers_checker(values, ordered=False), solution,
                   "the eigenvalues, separated by commas (any order)")


def pca_concepts(rng: random.Random, level: int) -> Problem:
    if level == 1:
        values = sorted(rng.sample(range(1, 10), 2), reverse=True)
        prompt = (f"The covariance matrix of centred 2-D data has eigenvalues {values}. What "
                  "fraction of the variance does the first principal component explain?")
        answer = values[0] / sum(values)
        hint = "Explained variance ratio of component i: λᵢ / Σⱼ λⱼ."
        steps = f"ratio = {values[0]} / ({' + '.join(map(str, values))}) = {fmt(answer)}"
    elif level == 2:
        values = sorted(rng.sample(range(1, 20), 4), reverse=True)
        total = sum(values)
        target = rng.choice((0.8, 0.9))
        cumulative, answer = 0.0, 0
        for answer, v in enumerate(values, start=1):
            cumulative += v
            if cumulative / total >= target:
                break
        prompt = (f"A covariance matrix has eigenvalues {values}. How many principal components "
                  f"are needed to keep at least {target:.0%} of the variance?")
        hint = "Sort eigenvalues descending and add ratios λᵢ/Σλ until the total passes the target."
        ratios = [sum(values[:i + 1]) / total for i in range(len(values))]
        steps = "cumulative ratios: " + ", ".join(fmt(r) for r in ratios) + f" → k = {answer}"
    else:
        a, b = rng.randint(2, 6), rng.randint(1, 3)
        if b >= a:
            a, b = b + 1, b
        prompt = (f"Data has covariance matrix [[{a}, {b}], [{b}, {a}]]. What fraction of the "
                  "variance does the first principal component explain?")
        answer = (a + b) / (2 * a)
        hint = ("Eigenvalues of [[a, b], [b, a]] are a + b and a − b; the ratio is the larger one "
                "over the trace 2a.")
        steps = f"λ = {a} ± {b} → ratio = {a + b} / {2 * a} = {fmt(answer)}"
    return Problem("pca", level, prompt, _const(fmt(answer)), hint, numbers_checker([answer]),
                   lambda: steps, "a number")


def descent_arithmetic(rng: random.Random, level: int) -> Problem:
    a = rng.randint(1, 4)
    ax2 = "x²" if a == 1 else f"{a}x²"
    x0 = rng.choice((1, 2, -1, 3))
    lr = rng.choice((0.1, 0.05, 0.2))
    if level == 1:
        g = 2 * a * x0
        x1 = x0 - lr * g
        prompt = (f"Gradient descent on f(x) = {ax2} from x₀ = {x0} with learning rate "
                  f"α = {lr}. What is x₁?")
        hint = "θ_new = θ_old − α ∇f(θ_old); here f′(x) = " + f"{2 * a}x."
        steps = f"f′({x0}) = {2 * a}·{par(x0)} = {g}; x₁ = {x0} − {lr}·{par(g)} = {fmt(x1)}"
        return Problem("descent", level, prompt, _const(fmt(x1)), hint, numbers_checker([x1]),
                       lambda: steps, "a number")
    if level == 2:
        b, y0 = rng.randint(2, 6), rng.choice((1, -1, 2))
        gx, gy = 2 * a * x0, 2 * b * y0
        x1, y1 = x0 - lr * gx, y0 - lr * gy
        prompt = (f"One gradient-descent step on f(x, y) = {ax2} + {b}y² from (x, y) = "
                  f"({x0}, {y0}) with α = {lr}. Give x₁, y₁.")
        hint = f"∇f = ({2 * a}x, {2 * b}y); subtract α times it from each coordinate."
        steps = (f"∇f({x0}, {y0}) = ({gx}, {gy}); x₁ = {x0} − {lr}·{par(gx)} = {fmt(x1)}, "
                 f"y₁ = {y0} − {lr}·{par(gy)} = {fmt(y1)}")
        return Problem("descent", level, prompt, _const(f"{fmt(x1)}, {fmt(y1)}"), hint,
                       numbers_checker([x1, y1]), lambda: steps, "two numbers, x₁, y₁")
    mu = rng.choice((0.9, 0.5))
    g0 = 2 * a * x0
    v1 = g0
    x1 = x0 - lr * v1
    g1 = 2 * a * x1
    v2 = mu * v1 + g1
    x2 = x1 - lr * v2
    prompt = (f"SGD with momentum μ = {mu} (PyTorch form v ← μv + g, θ ← θ − αv, v₀ = 0) on "
              f"f(x) = {ax2} from x₀ = {x0}, α = {lr}. What is x₂ after two steps?")
    hint = "Step 1: v₁ = g₀, x₁ = x₀ − αv₁. Step 2: v₂ = μv₁ + g₁ with g₁ = f′(x₁), x₂ = x₁ − αv₂."
    steps = (f"g₀ = {fmt(g0)}, v₁ = {fmt(v1)}, x₁ = {fmt(x1)}; g₁ = {fmt(g1)}, "
             f"v₂ = {mu}·{par(v1)} + {par(g1)} = {fmt(v2)}, x₂ = {fmt(x1)} − {lr}·{par(v2)} "
             f"= {fmt(x2)}")
    return Problem("descent", level, prompt, _const(fmt(x2)), hint, numbers_checker([x2]),
                   lambda: steps, "a number")


def _expected(expr: str, wrt) -> Callable[[], str]:
    """The expected answer as derivekit derives it (plain text), computed on demand."""
    def expected() -> str:
        from derivekit.calculus.derive import derive, gradient
        if isinstance(wrt, list):
            return "; ".join(str(entry) for entry in gradient(expr, wrt=wrt).result)
        return str(derive(expr, wrt).result)
    return expected


def _const(text: str) -> Callable[[], str]:
    return lambda: text


@dataclass(frozen=True)
class DrillTopic:
    name: str
    summary: str
    make: Callable[[random.Random, int], Problem]
    module: str


DRILL_TOPICS: dict[str, DrillTopic] = {t.name: t for t in [
    DrillTopic("chain_rule", "derivatives of compositions", chain_rule, "derivekit.numeric.verify"),
    DrillTopic("activations", "σ, tanh, softplus and losses built on them", activations,
               "derivekit.numeric.verify"),
    DrillTopic("gradients", "partial derivatives and gradients", partial_derivatives,
               "derivekit.numeric.verify"),
    DrillTopic("matrix", "matrix gradients and backprop in matrix form", matrix_backprop,
               "derivekit.matrix.gradient"),
    DrillTopic("eigen", "eigenvalues of 2×2 matrices", eigenvalues, "derivekit.parsing.parse"),
    DrillTopic("pca", "explained variance and choosing k", pca_concepts, "derivekit.parsing.parse"),
    DrillTopic("descent", "gradient-descent and momentum update arithmetic", descent_arithmetic,
               "derivekit.parsing.parse"),
]}
TOPIC_ALIASES = {"chain": "chain_rule", "activation": "activations", "partial": "gradients",
                 "partials": "gradients", "gradient": "gradients", "backprop": "matrix",
                 "matrix_gradients": "matrix", "eigenvalues": "eigen", "eig": "eigen",
                 "gd": "descent", "gradient_descent": "descent", "optim": "descent"}


def drill_topic(name: str) -> DrillTopic:
    key = name.strip().lower().replace("-", "_")
    key = TOPIC_ALIASES.get(key, key)
    if key not in DRILL_TOPICS:
        import difflib
        close = difflib.get_close_matches(key, DRILL_TOPICS, n=1)
        raise DerivekitError(f"unknown drill topic '{name}'",
                             hint=(f"did you mean '{close[0]}'? " if close else "")
                             + "topics: " + ", ".join(DRILL_TOPICS))
    return DRILL_TOPICS[key]


# --------------------------------------------------------------------------------------------
# a session: problems from a seed, and the score


@dataclass
class Score:
    """Per problem: solved (True) or answered wrongly so far (False); retries do not add up."""

    results: dict[int, bool] = field(default_factory=dict)
    hints: int = 0
    revealed: int = 0
    skipped: int = 0

    @property
    def correct(self) -> int:
        return sum(self.results.values())

    @property
    def attempted(self) -> int:
        return len(self.results)

    def record(self, index: int, ok: bool) -> None:
        self.results[index] = self.results.get(index, False) or ok

    def summary(self) -> str:
        extras = []
        if self.hints:
            extras.append(f"{self.hints} hint{'s' * (self.hints != 1)} used")
        if self.revealed:
            extras.append(f"{self.revealed} solution{'s' * (self.revealed != 1)} shown")
        if self.skipped:
            extras.append(f"{self.skipped} skipped")
        tail = f" ({', '.join(extras)})" if extras else ""
        return f"Score: {self.correct}/{self.attempted} correct{tail}"


@dataclass
class DrillSession:
    """Deals ``count`` problems; problem *i* depends only on (seed, topic, difficulty, i)."""

    topic: str | None = None
    difficulty: int = 1
    seed: int = 0
    count: int = 1
    score: Score = field(default_factory=Score)

    def __post_init__(self):
        if self.difficulty not in (1, 2, 3):
            raise DerivekitError(f"difficulty must be 1, 2 or 3, not {self.difficulty}")
        if self.count < 1:
            raise DerivekitError("--count must be at least 1")
        self.topics = [drill_topic(self.topic)] if self.topic else list(DRILL_TOPICS.values())

    def problem(self, index: int) -> Problem:
        rng = random.Random(f"{self.seed}:{self.topic}:{self.difficulty}:{index}")
        topic = self.topics[0] if len(self.topics) == 1 else rng.choice(self.topics)
        return topic.make(rng, self.difficulty)

    def problems(self):
        return [self.problem(i) for i in range(self.count)]

    def answer(self, index: int, text: str) -> Feedback:
        """Check an answer to problem ``index`` and score it (unreadable answers are not)."""
        feedback = self.problem(index).check(text)
        if feedback.readable:
            self.score.record(index, feedback.ok)
        return feedback


HELP_LINE = "Answer, or type 'hint', 'steps' (full solution), 'skip' or 'quit'."


def run_interactive(session: DrillSession, stdin, stdout) -> Score:
    """Ask each problem on ``stdout``, read answers and commands from ``stdin`` line by line.

    ``hint`` shows the rule to apply; ``steps`` shows the full solution and moves on;
    ``skip`` moves on; ``quit`` (or end of input) ends the session. A wrong answer can be
    retried. The score is printed at the end and returned.
    """
    def say(text: str = "") -> None:
        print(text, file=stdout, flush=True)

    terminal = hasattr(stdin, "isatty") and stdin.isatty()
    echo = not terminal  # show scripted input in the transcript

    def read_line() -> str:
        if terminal and stdin is sys.stdin and stdout is sys.stdout:
            try:
                return input("> ") + "\n"   # line editing and history where readline exists
            except EOFError:
                return ""
        print("> ", end="", file=stdout, flush=True)
        return stdin.readline()

    for index in range(session.count):
        problem = session.problem(index)
        say(f"Problem {index + 1}/{session.count} [{problem.topic}, difficulty "
            f"{problem.difficulty}]")
        say(problem.prompt)
        say(f"({problem.answer_form}.) {HELP_LINE}")
        done = False
        while not done:
            line = read_line()
            if echo and line:
                print(line.rstrip("\n"), file=stdout)
            if not line:
                say()
                say(session.score.summary())
                return session.score
            text = line.strip()
            command = text.lower()
            if not text:
                continue
            if command in ("hint", "h", "?"):
                session.score.hints += 1
                say("Hint: " + problem.hint)
            elif command in ("steps", "s", "solution", "show"):
                session.score.revealed += 1
                say(problem.solution())
                done = True
            elif command in ("skip", "next"):
                session.score.skipped += 1
                say("Skipped.")
                done = True
            elif command in ("quit", "q", "exit"):
                say(session.score.summary())
                return session.score
            else:
                feedback = session.answer(index, text)
                if feedback.ok:
                    say("Correct!")
                    done = True
                elif not feedback.readable:
                    say(feedback.message + " — try again.")
                else:
                    say("Not quite: " + feedback.message)
                    say("Try again, or type 'hint' or 'steps'.")
        say()
    say(session.score.summary())
    return session.score
