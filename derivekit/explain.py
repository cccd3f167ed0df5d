""""Explain it like an interview": a short spoken-style answer built from a derivation.

For a topic (a row of :data:`EXPLAIN_TOPICS`, or any expression with a variable) derivekit
derives the example, then says what rule it uses (the rule registry's own title and
statement), why it applies (the root step's explanation), the result, and a pitfall worth
raising in an interview. Nothing here re-derives by hand: rules and result come from the
:class:`~derivekit.steps.Derivation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .display import Displayable
from .errors import DerivekitError


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
                            "first, or exp overflows; and softmax with cross-entropy has the "
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
EXPLAIN_ALIASES = {"bce": "cross_entropy", "logistic": "cross_entropy", "chain": "chain_rule",
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
#: rules too basic to name as "the rule" when a more telling one is used too
BASIC_RULES = ("constant", "variable", "sum", "constant_multiple", "difference", "identity")


def _rule_records(derivation) -> list:
    """The registry records of the rules a derivation uses, the telling ones first."""
    from .rules import RULES
    names = []
    for step in derivation.steps:
        names += [n for n in step.rules_used if n not in names]
    telling = [n for n in names if not any(n == b or n.startswith(b + "_") for b in BASIC_RULES)]
    return [RULES[n] for n in (telling or names) if n in RULES]


def _fill(template: str, step, fmt: str) -> str:
    """A rule's explanation sentence with its placeholders filled in ``fmt``."""
    import sympy as sp
    values = {"expr": step.expr, "var": step.var, "result": step.result, **step.detail}

    def show(v):
        if isinstance(v, (list, tuple)):
            return ", ".join(show(x) for x in v)
        if isinstance(v, sp.Basic):
            return f"${_expr_latex(v)}$" if fmt == "latex" else _expr_text(v)
        return str(v)

    class Missing(dict):
        def __missing__(self, key):
            return "{" + key + "}"

    try:
        return template.format_map(Missing({k: show(v) for k, v in values.items()}))
    except (ValueError, IndexError):
        return template


def _expr_text(expr) -> str:
    """Readable Unicode text for an expression, by the renderers' own printer."""
    from .printing import to_text
    return to_text(expr)


def _expr_latex(expr) -> str:
    from .printing import to_latex
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
        from .rules import RULES
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
        text = f"The key rule is the {first.title[0].lower() + first.title[1:]}: " \
               f"{first.statement_text}."
        if others:
            text += " It also uses " + "; ".join(
                f"the {r.title[0].lower() + r.title[1:]}, {r.statement_text}" for r in others) + "."
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
            from .latexdoc import escape_text
            rules = "; ".join(f"{escape_text(r.title)}, ${r.statement}$" for r in self.rules)
            return "\n\n".join([
                rf"\textbf{{What we are doing.}} {escape_text(_capital(self.what))}: "
                rf"$\frac{{\partial}}{{\partial {_expr_latex(d.wrt)}}}\left({_expr_latex(d.expr)}\right)$.",
                rf"\textbf{{The rule.}} {rules}.",
                rf"\textbf{{Why it applies.}} {self._why('latex')}",
                rf"\textbf{{The result.}} $\displaystyle {_expr_latex(d.result)}$.",
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


def explain(topic: str, wrt: str | None = None) -> Explanation:
    """Explain a named topic (see :data:`EXPLAIN_TOPICS`) or an expression with ``wrt``."""
    from .derive import derive
    key = topic.strip().lower().replace("-", "_").replace(" ", "_")
    key = EXPLAIN_ALIASES.get(key, key)
    if key in EXPLAIN_TOPICS and wrt is None:
        entry = EXPLAIN_TOPICS[key]
        derivation = derive(entry.expr, entry.wrt)
        return Explanation(key, entry.what, derivation, entry.pitfall, _rule_records(derivation))
    if wrt is None:
        import difflib
        close = difflib.get_close_matches(key, EXPLAIN_TOPICS, n=1)
        raise DerivekitError(f"unknown topic '{topic}'",
                             hint=(f"did you mean '{close[0]}'? " if close else "")
                             + "topics: " + ", ".join(EXPLAIN_TOPICS)
                             + "; or give an expression with --wrt, e.g. "
                               "derivekit explain \"tanh(3*x)\" --wrt x")
    derivation = derive(topic, wrt)
    names = {type(f).__name__.lower() for f in derivation.expr.atoms(_function_class())}
    pitfall = next((text for name, text in PITFALLS_BY_FUNCTION if name in names), DEFAULT_PITFALL)
    return Explanation(topic, "this derivative", derivation, pitfall, _rule_records(derivation))


def _function_class():
    import sympy as sp
    return sp.Function
