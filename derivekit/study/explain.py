""""Explain it like an interview": a short spoken-style answer built from a derivation.

For a topic (a row of :data:`EXPLAIN_TOPICS`, or any expression with a variable) derivekit
derives the example, then says what rule it uses (the rule registry's own title and
statement), why it applies (the root step's explanation), the result, and a pitfall worth
raising in an interview. Nothing here re-derives by hand: rules and result come from the
:class:`~derivekit.calculus.steps.Derivation`.

A few topics are not derivatives but results: ``eigen`` (``dk.eig``), ``pca`` (``dk.pca``)
and ``gd_update`` (``dk.minimize``). Their rows are :class:`ResultTopic`; the explanation
(:class:`ResultExplanation`) is written from the result object's own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derivekit.display import Displayable
from derivekit.errors import DerivekitError


@dataclass(frozen=True)
class ExplainTopic:
    expr: str
    wrt: str
    what: str
    pitfall: str


SIGMOID_PITFALL = ("σ′(z) = σ(z)(1 − σ(z)) is at most ¼ (at z = 0) and tends to 0 when |z| is "
                   "large. A saturated neuron passes almost no gradient, and L stacked sigmoid "
                   "layers multiply L factors of at most ¼ — the vanishing-gradient problem.")

EXPLAIN_TOPICS: dict[str, ExplainTopic] = {
    "sigmoid": ExplainTopic("sigmoid(w*x + b)", "w", "the weight gradient of a sigmoid neuron",
                            SIGMOID_PITFALL),
    "tanh": ExplainTopic("tanh(w*x + b)", "w", "the weight gradient of a tanh neuron",
                         "tanh′ = 1 − tanh² is at most 1 and tanh is zero-centred, so it trains "
                         "better than σ, but it still saturates for large |z|. Writing "
                         "1 + tanh² is the classic sign slip."),
    "relu": ExplainTopic("relu(w*x + b)", "w", "the weight gradient of a ReLU unit",
                         "ReLU′ is 1 for z > 0 and 0 for z < 0, with no derivative at the kink "
                         "z = 0 (frameworks use 0). It does not saturate for z > 0, which helps "
                         "against vanishing gradients, but a unit whose z stays negative gets "
                         "zero gradient for good: a dying ReLU."),
    "softplus": ExplainTopic("softplus(w*x + b)", "w", "the weight gradient of a softplus unit",
                             "softplus′ = σ, a smooth ReLU; compute log(1 + eᶻ) stably "
                             "(max(z, 0) + log(1 + e^(−|z|))) or it overflows for large z."),
    "softmax": ExplainTopic("log(exp(z_1) + exp(z_2) + exp(z_3))", "z_1",
                            "the derivative of log-sum-exp, which is where softmax comes from",
                            "∂LSE/∂zᵢ = softmax(z)ᵢ. Compute it with the maximum subtracted "
                            "first, or exp overflows; and with cross-entropy on top, the "
                            "gradient collapses to softmax(z) − y, which frameworks fuse into one "
                            "numerically stable operation."),
    "cross_entropy": ExplainTopic(
        "-(y*log(sigmoid(w*x + b)) + (1 - y)*log(1 - sigmoid(w*x + b)))", "w",
        "the gradient of binary cross-entropy through a sigmoid output",
        "The σ′ factor cancels, leaving (σ(z) − y)x: the gradient stays large when the model is "
        "confidently wrong. With squared error instead, σ′ stays in and a saturated wrong "
        "output barely learns. Compute log σ(z) stably as −softplus(−z)."),
    "mse": ExplainTopic("(w*x + b - y)^2", "w", "the gradient of squared error for a linear model",
                        "Do not drop the factor 2 (or the 1/N of a mean) — it rescales the "
                        "learning rate. With a sigmoid output the gradient carries σ′ and can "
                        "vanish; prefer cross-entropy for classification."),
    "chain_rule": ExplainTopic("exp(sin(x^2))", "x", "the derivative of a three-layer composition",
                               "Each layer of nesting contributes one factor; forgetting an inner "
                               "derivative is the most common slip. Backprop is this rule applied "
                               "from the output inwards, reusing each upstream product."),
    "product_rule": ExplainTopic("x^2*exp(x)", "x", "the derivative of a product",
                                 "(fg)′ = f′g + fg′, not f′g′. With n factors every term "
                                 "differentiates exactly one factor."),
    "quotient_rule": ExplainTopic("x/(1 + x^2)", "x", "the derivative of a quotient",
                                  "The numerator is f′g − fg′ in that order; swapping it flips "
                                  "the sign. Often simpler: write f·g⁻¹ and use the product rule."),
    "vanishing_gradients": ExplainTopic(
        "sigmoid(sigmoid(sigmoid(x)))", "x", "gradient flow through three stacked sigmoids",
        "Each layer contributes a factor σ′ ≤ ¼, so three layers give at most 1/64 and L layers "
        "(¼·‖W‖)^L: gradients vanish. When weights are large the product explodes instead. "
        "Fixes: ReLU-family activations, Xavier/He initialisation, residual connections, "
        "normalisation, and gradient clipping for explosions."),
    "l2_regularization": ExplainTopic(
        "(w*x - y)^2 + lambda*w^2", "w", "squared error with an L2 penalty (weight decay)",
        "The penalty adds 2λw to the gradient, shrinking weights each step. With Adam this is "
        "not the same as weight decay — that is why AdamW decouples it."),
    "gradient_descent": ExplainTopic(
        "x^2 + 10*y^2", "y", "one coordinate of the gradient on an ill-conditioned quadratic",
        "The update is θ ← θ − α∇J(θ). On a quadratic with curvature a, plain gradient descent "
        "is stable only for α < 2/a, so the steepest direction (here 20 for y) caps the learning "
        "rate while the flat direction crawls: zig-zagging. Momentum and Adam fix much of it."),
}


@dataclass(frozen=True)
class ResultTopic:
    """A topic explained from a computed result: ``build()`` returns the result and
    ``say(result)`` the (what, idea, why, result) sentences plus a sentence with the result's
    numbers that is appended to the fixed ``pitfall``."""
    what: str
    pitfall: str
    build: object
    say: object


def _eigen_result():
    from derivekit.linalg.eigen import eig
    return eig("[[2,1],[1,2]]")


def _matrix_text(matrix) -> str:
    from derivekit.linalg.steps import txt
    return "[" + ", ".join("[" + ", ".join(txt(x) for x in matrix.row(i)) + "]"
                           for i in range(matrix.rows)) + "]"


def _say_eigen(e) -> tuple[list[str], str]:
    import sympy as sp

    from derivekit.linalg.eigen import LAMBDA, _vector_text
    from derivekit.linalg.steps import txt
    A = e.matrix
    poly = e.characteristic_polynomial
    pairs = "; ".join(f"λ = {txt(value)} with v = {_vector_text(v)}" for value, v in e.pairs)
    value, v = e.pairs[0]
    check = f"A·{_vector_text(v)} = {_vector_text(A * v)} = {txt(value)}·{_vector_text(v)}"
    why = ("A is symmetric, so by the spectral theorem its eigenvalues are real and eigenvectors "
           "of different eigenvalues are orthogonal: A = QΛQᵀ." if e.symmetric else
           "A is not symmetric, so the eigenvalues may be complex and the eigenvectors need not "
           "be orthogonal.")
    sentences = [
        f"So, we want the eigenvalues and eigenvectors of A = {_matrix_text(A)}: the directions "
        "A only stretches, Av = λv.",
        "The key idea: (A − λI)v = 0 has a non-zero v only when A − λI is singular, so the "
        f"eigenvalues are the roots of the characteristic polynomial det(A − λI) = "
        f"{txt(poly)} = {txt(sp.factor(poly, LAMBDA))}.",
        f"Why it applies: {why}",
        f"Putting it together: {pairs}. Check: {check}. The spectral radius is "
        f"ρ(A) = max |λ| = {txt(e.spectral_radius)}."]
    rho = float(sp.N(e.spectral_radius)) if isinstance(e.spectral_radius, sp.Basic) \
        else float(e.spectral_radius)
    fate = "explode" if rho > 1 else "vanish" if rho < 1 else "neither explode nor vanish"
    extra = (f" As a recurrent weight matrix this A has ρ = {txt(e.spectral_radius)}, so its "
             f"gradients would {fate}.")
    return sentences, extra


def _pca_result():
    from derivekit.linalg.pca import pca
    return pca()


def _say_pca(r) -> tuple[list[str], str]:
    from derivekit.linalg.steps import format_number, number_text
    n, d = r.data.shape

    def vec(a):
        return "(" + ", ".join(number_text(float(x), 4) for x in a) + ")"

    cov = "[" + ", ".join(vec(row)[1:-1].join("[]") for row in r.covariance) + "]"
    lambdas = ", ".join(f"λ{_sub(i + 1)} = {format_number(float(x), 4)}"
                        for i, x in enumerate(r.eigenvalues))
    pcs = "; ".join(f"PC{i + 1} = {vec(c)} explains {100 * float(ratio):.1f}% of the variance"
                    for i, (c, ratio) in enumerate(zip(r.components, r.explained_variance_ratio)))
    sentences = [
        f"So, we want the principal components of the {r.source}: {n} samples × {d} features "
        f"({', '.join(r.columns)}).",
        f"The key idea: centre each feature (μ = {vec(r.mean)}), form the sample covariance "
        f"C = XcᵀXc / (n − 1) with n − 1 = {n - 1}, here C = {cov}, and eigen-decompose it: "
        "the eigenvectors are the principal directions and the eigenvalues the variances "
        "along them.",
        "Why it applies: C is symmetric and positive semi-definite, so its eigenvalues are real "
        "and non-negative and its eigenvectors orthonormal; the top eigenvector maximises the "
        "variance wᵀCw over unit vectors w.",
        f"Putting it together: {lambdas} of a total {format_number(float(r.eigenvalues.sum()), 4)}; "
        f"{pcs}. Projecting, T = Xc Wₖᵀ: the first sample scores "
        f"{vec(r.transformed[0])}."]
    return sentences, ""


def _gd_result(lr: float = 0.02):
    from derivekit.optim.optimizers import minimize
    return minimize(GD_OBJECTIVE, GD_START, method="sgd", lr=lr, steps=GD_STEPS)


GD_OBJECTIVE, GD_START, GD_STEPS = "x^2 + 10*y^2", {"x": 1, "y": 1}, 50
GD_TOO_LARGE = 0.11  # above 2/20, the stability limit of the y direction


def _say_gd(t) -> tuple[list[str], str]:
    from derivekit.optim.trajectory import TextWriter
    w = TextWriter()
    step, lines = t._worked_lines(w)[0]

    def point(k):
        return "(" + ", ".join(w.num(float(x), bare=True) for x in t.points[k]) + ")"

    names = ", ".join(t.names)
    sentences = [
        f"So, we want one gradient-descent update on J({names}) = {t._objective_text('text')} "
        f"from θ₀ = {point(0)} with learning rate α = {w.num(step.lr, bare=True)}.",
        f"The rule: {t.rule.formula_text}, i.e. θ₁ = θ₀ − α∇J(θ₀): step against the gradient, "
        "the direction of steepest increase.",
        "Why it applies: to first order J(θ − α∇J) ≈ J(θ) − α‖∇J‖², which is smaller for a "
        "small enough α.",
        f"Putting it together: ∇J(θ₀) = {'(' + ', '.join(w.num(float(g), bare=True) for g in step.grad) + ')'}, "
        f"so {'; '.join(line for line in lines if not line.startswith('g ='))}. "
        f"J falls from {w.num(float(t.losses[0]), bare=True)} to {w.num(float(t.losses[1]), bare=True)}, "
        f"and after {t.steps} steps θ = {point(-1)} with J = {w.num(t.final_loss, bare=True)} "
        f"({t.reason})."]
    big = _gd_result(GD_TOO_LARGE)
    return sentences, f" Here, with α = {GD_TOO_LARGE:g} the same run {big.reason}."


def _sub(i: int) -> str:
    from derivekit.linalg.rowops import subscript
    return subscript(i)


EXPLAIN_TOPICS["eigen"] = ResultTopic(
    "the eigenvalues and eigenvectors of a small symmetric matrix",
    "The spectral radius ρ(W) = max |λ| governs a linear recurrence hₜ = W hₜ₋₁: backprop "
    "through T steps multiplies by Wᵀ T times, so gradients scale like ρ(W)^T — exploding "
    "when ρ > 1 and vanishing when ρ < 1 (hence orthogonal initialisation, gradient clipping, "
    "LSTMs). And eigenvectors are only defined up to scale and sign.",
    _eigen_result, _say_eigen)
EXPLAIN_TOPICS["pca"] = ResultTopic(
    "principal component analysis of the built-in seeded dataset",
    "Forgetting to centre makes the first component point at the mean instead of along the "
    "spread; features on different scales (metres vs millimetres) must be standardised or the "
    "largest-unit feature dominates. Divide by n − 1 for the sample covariance, and remember a "
    "component's sign is arbitrary: w and −w are the same direction.",
    _pca_result, _say_pca)
EXPLAIN_TOPICS["gd_update"] = ResultTopic(
    "one gradient-descent update with the numbers",
    "Too large a learning rate diverges: on a quadratic with curvature a, gradient descent is "
    "stable only for α < 2/a, so the steepest direction caps the rate.",
    _gd_result, _say_gd)

EXPLAIN_ALIASES = {"eig": "eigen", "eigenvalues": "eigen", "eigenvectors": "eigen",
                   "eigenvalue": "eigen", "spectral_radius": "eigen",
                   "principal_components": "pca", "gd_step": "gd_update", "update": "gd_update",
                   "learning_rate": "gd_update", "bce": "cross_entropy", "logistic": "cross_entropy", "chain": "chain_rule",
                   "product": "product_rule", "quotient": "quotient_rule",
                   "vanishing": "vanishing_gradients", "exploding_gradients": "vanishing_gradients",
                   "l2": "l2_regularization", "weight_decay": "l2_regularization",
                   "gd": "gradient_descent", "logsumexp": "softmax", "lse": "softmax",
                   "squared_error": "mse", "backprop": "chain_rule"}

#: pitfalls for an arbitrary expression, chosen by the functions it contains (first match)
PITFALLS_BY_FUNCTION = (
    ("sigmoid", SIGMOID_PITFALL),
    ("tanh", EXPLAIN_TOPICS["tanh"].pitfall),
    ("relu", EXPLAIN_TOPICS["relu"].pitfall),
    ("softplus", EXPLAIN_TOPICS["softplus"].pitfall),
    ("log", "log needs a positive argument, and log of a probability that underflows to 0 gives "
            "−∞: add an ε or work in log space."),
    ("sqrt", "√ has an infinite slope at 0, so gradients blow up near it: add an ε inside."),
    ("exp", "exp overflows in float32 above about 88; shift arguments (e.g. by the maximum)."),
)
DEFAULT_PITFALL = ("Forgetting an inner derivative is the classic slip: every nested function "
                   "contributes one factor.")
def _lower_title(title: str) -> str:
    """A title inside a sentence: "Chain rule" → "chain rule", but "ReLU rule" and "BCE"
    keep their capitals (a first word with another capital is a name)."""
    word = title.split(" ", 1)[0]
    if any(c.isupper() for c in word[1:]):
        return title
    return title[0].lower() + title[1:]


def _named(title: str) -> str:
    """A rule's title as a noun phrase: "the chain rule", but "logarithmic differentiation"
    and "implicit differentiation" (methods, named without an article)."""
    lowered = _lower_title(title)
    return lowered if title.endswith("differentiation") else f"the {lowered}"


#: rules too basic to name as "the rule" when a more telling one is used too
BASIC_RULES = ("constant", "variable", "sum", "constant_multiple", "difference", "identity")


def _rule_records(derivation) -> list:
    """The registry records of the rules a derivation uses, the telling ones first."""
    from derivekit.calculus.rules import RULES
    names = []
    for step in derivation.steps:
        names += [n for n in step.rules_used if n not in names]
    telling = [n for n in names if not any(n == b or n.startswith(b + "_") for b in BASIC_RULES)]
    return [RULES[n] for n in (telling or names) if n in RULES]


def _fill(template: str, step, fmt: str) -> str:
    """A rule's explanation sentence with its placeholders filled in ``fmt`` by the
    renderers' own template filler (each ``$…$`` formula printed as one math run)."""
    from derivekit.render.printing import check_settings
    from derivekit.render.walk import DocumentWriter, TextWriter, fill_template
    values = {"expr": step.expr, "var": step.var, "result": step.result, **step.detail}
    writer = (DocumentWriter if fmt == "latex" else TextWriter)(check_settings({}))
    return fill_template(template, values, writer)


def _expr_text(expr) -> str:
    """Readable Unicode text for an expression, by the renderers' own printer."""
    from derivekit.render.printing import to_text
    return to_text(expr)


def _expr_latex(expr) -> str:
    from derivekit.render.printing import to_latex
    return to_latex(expr)


@dataclass(eq=False)
class Explanation(Displayable):
    topic: str
    what: str
    derivation: object
    pitfall: str
    rules: list = field(default_factory=list)

    @property
    def why(self) -> str:
        return self._why("text")

    def _why(self, fmt: str) -> str:
        """The explanation sentence of the first step applying the lead rule."""
        from derivekit.calculus.rules import RULES
        lead = self.rules[0].name if self.rules else self.derivation.steps[0].rule
        steps = [step for root in self.derivation.steps for step in root.walk()]
        step = next((st for st in steps if st.rule == lead and not st.ref), steps[0])
        rule = RULES.get(step.rule)
        return _fill(rule.explanation, step, fmt) if rule else ""

    def _repr_latex_(self) -> str:
        """Jupyter's LaTeX view is maths only: the derivation (the prose is in Markdown)."""
        return self.derivation._repr_latex_()

    def _rules_sentence(self) -> str:
        if not self.rules:
            return "Only the basic rules (constants, sums, powers) are needed."
        first, *others = self.rules
        text = f"The key rule is {_named(first.title)}: {first.statement_text}."
        if others:
            text += " It also uses " + "; ".join(
                f"{_named(r.title)}, {r.statement_text}" for r in others) + "."
        return text

    def _render(self, fmt: str, **settings):
        d = self.derivation
        if fmt == "dict":
            return {"type": "explanation", "topic": self.topic, "what": self.what,
                    "expr": str(d.expr), "wrt": str(d.wrt),
                    "rules": [{"name": r.name, "title": r.title, "statement": r.statement_text}
                              for r in self.rules],
                    "why": self._why("text"), "result": str(d.result), "pitfall": self.pitfall}
        if fmt == "latex":
            from derivekit.render.latexdoc import escape_text
            from derivekit.render.texbreak import break_display
            rules = "; ".join(f"{escape_text(r.title)}, ${r.statement}$" for r in self.rules)
            return "\n\n".join([
                rf"\textbf{{What we are doing.}} {escape_text(_capital(self.what))}: "
                rf"$\frac{{\partial}}{{\partial {_expr_latex(d.wrt)}}}\left({_expr_latex(d.expr)}\right)$.",
                rf"\textbf{{The rule.}} {rules}.",
                rf"\textbf{{Why it applies.}} {self._why('latex')}",
                "\\textbf{The result.}\n" + break_display(_expr_latex(d.result)),  # cut to the line
                rf"\textbf{{Pitfall.}} {escape_text(self.pitfall)}"])
        expr, wrt, result = _expr_text(d.expr), _expr_text(d.wrt), _expr_text(d.result)
        partial = bool(d.expr.free_symbols - {d.wrt})
        rules = "; ".join(f"{r.title}, {r.statement_text}" for r in self.rules)
        if fmt == "markdown":
            return "\n\n".join([
                f"**What we are doing.** {_capital(self.what)}: "
                f"$\\frac{{\\partial}}{{\\partial {_expr_latex(d.wrt)}}}\\left({_expr_latex(d.expr)}\\right)$.",
                f"**The rule.** {rules}.", f"**Why it applies.** {self._why('text')}",
                f"**The result.** $${_expr_latex(d.result)}$$", f"**Pitfall.** {self.pitfall}"])
        return "\n".join([
            f"Explain it like an interview: {self.topic}",
            "",
            f"So, we want {self.what}: the {'partial ' if partial else ''}derivative of {expr} "
            f"with respect to {wrt}.",
            self._rules_sentence(),
            f"Why it applies: {self._why('text')}",
            f"Putting it together: {'∂/∂' if partial else 'd/d'}{wrt} [{expr}] = {result}.",
            f"A pitfall worth raising: {self.pitfall}"])


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def topic_names() -> list[str]:
    return list(EXPLAIN_TOPICS)


@dataclass(eq=False)
class ResultExplanation(Displayable):
    """An explanation written from a result (eigen-decomposition, PCA, descent run):
    ``sentences`` are the what / idea / why / result lines, all numbers from ``result``."""
    topic: str
    what: str
    result: object
    sentences: list
    pitfall: str

    HEADINGS = ("What we are doing.", "The idea.", "Why it applies.", "The result.")

    def _repr_latex_(self) -> str:
        """Jupyter's LaTeX view is maths only: the result's own steps."""
        return self.result._repr_latex_()

    def _parts(self) -> list[tuple[str, str]]:
        prefixes = ("So, we want ", "The key idea: ", "The rule: ", "Why it applies: ",
                    "Putting it together: ")
        parts = []
        for heading, sentence in zip(self.HEADINGS, self.sentences):
            for prefix in prefixes:
                if sentence.startswith(prefix):
                    sentence = sentence[len(prefix):]
                    sentence = _capital(sentence) if sentence[:1].isascii() else sentence
            parts.append((heading, sentence))
        return parts + [("Pitfall.", self.pitfall)]

    def _render(self, fmt: str, **settings):
        if fmt == "dict":
            return {"type": "explanation", "topic": self.topic, "what": self.what,
                    "result_type": type(self.result).__name__,
                    "sentences": list(self.sentences), "pitfall": self.pitfall}
        if fmt == "markdown":
            return "\n\n".join(f"**{h}** {s}" for h, s in self._parts())
        if fmt == "latex":
            from derivekit.render.latexdoc import escape_text
            from derivekit.render.printing import latex_prose
            return "\n\n".join(rf"\textbf{{{escape_text(h)}}} ${latex_prose(s)}$"
                                for h, s in self._parts())
        return "\n".join([f"Explain it like an interview: {self.topic}", "", *self.sentences,
                          f"A pitfall worth raising: {self.pitfall}"])


def explain(topic: str, wrt: str | None = None) -> Explanation | ResultExplanation:
    """Explain a named topic (see :data:`EXPLAIN_TOPICS`) or an expression with ``wrt``."""
    from derivekit.calculus.derive import derive
    key = topic.strip().lower().replace("-", "_").replace(" ", "_")
    key = EXPLAIN_ALIASES.get(key, key)
    if key in EXPLAIN_TOPICS and wrt is None:
        entry = EXPLAIN_TOPICS[key]
        if isinstance(entry, ResultTopic):
            result = entry.build()
            sentences, extra = entry.say(result)
            return ResultExplanation(key, entry.what, result, sentences, entry.pitfall + extra)
        derivation = derive(entry.expr, entry.wrt)
        return Explanation(key, entry.what, derivation, entry.pitfall, _rule_records(derivation))
    if wrt is None:
        expr, wrt = _in_one_variable(topic, key)
    else:
        expr = topic
    derivation = derive(expr, wrt)
    names = {type(f).__name__.lower() for f in derivation.expr.atoms(_function_class())}
    pitfall = next((text for name, text in PITFALLS_BY_FUNCTION if name in names), DEFAULT_PITFALL)
    return Explanation(topic, "this derivative", derivation, pitfall, _rule_records(derivation))


def _in_one_variable(text: str, key: str):
    """``text`` read as an expression, and its one variable (as ``diff`` does without --wrt);
    a topic name that is not one, or an expression in several variables, is refused with
    what to write."""
    import difflib
    import re

    from derivekit.parsing.parse import parse
    try:
        expr = parse(text)
        names = sorted(s.name for s in expr.free_symbols)
    except DerivekitError:
        names = None
    a_word = re.fullmatch(r"[a-z_]+", key) is not None  # "sigmod": a misspelt topic, not x
    if names is not None and len(names) == 1 and not a_word:
        return expr, names[0]
    if names and len(names) > 1:
        raise DerivekitError(f"'{text}' has the variables {', '.join(names)}",
                             hint=f"say which to differentiate in, e.g. derivekit explain "
                                  f"\"{text}\" --wrt {names[0]}")
    close = difflib.get_close_matches(key, EXPLAIN_TOPICS, n=1)
    raise DerivekitError(f"unknown topic '{text}'",
                         hint=(f"did you mean '{close[0]}'? " if close else "")
                         + "topics: " + ", ".join(EXPLAIN_TOPICS)
                         + "; or give an expression, e.g. derivekit explain \"tanh(3*x)\"")


def _function_class():
    import sympy as sp
    return sp.Function
