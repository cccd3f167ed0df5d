"""Gradient descent and its variants: :func:`minimize` → :class:`Trajectory`.

The optimizers are a table (:data:`RULES`) of small classes, one per method. Each states its
update in its docstring, performs it in ``step`` (vectorised, in place) and writes the same
update out with numbers in ``explain``, so the formula lives in one place. Semantics and
default hyper-parameters follow ``torch.optim`` (SGD, Adagrad, RMSprop, Adam, AdamW): a run
checked against PyTorch gives the same numbers. ``weight_decay`` (L2, ``g ← g + λθ``) is
applied by the loop for every rule except AdamW, whose decay is decoupled, as in torch.

Learning-rate schedules are the closed forms of torch's ``StepLR``, ``ExponentialLR`` and
``CosineAnnealingLR``, stepped once per update (:data:`SCHEDULES`).

Stopping: ``steps`` updates at most; earlier when the gradient norm falls to ``grad_tol``
or the relative loss change to ``loss_tol`` (converged); earlier still when the run
diverges (a non-finite loss or gradient; a loss above its start that grew for ``patience``
updates in a row; or a loss more than max(|J₀|, 1) above its start J₀ for ``patience``
updates in a row), with a message that suggests a smaller learning rate.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from derivekit import limits
from derivekit.errors import DerivekitError, LimitError
from derivekit.optim.trajectory import (
    GRADIENT_NORM,
    Comparison,
    Trajectory,
    WorkedStep,
    reason_text,
)

__all__ = ["minimize", "compare", "Trajectory", "Comparison", "RULES", "METHODS", "SCHEDULES"]


# --- update rules ---------------------------------------------------------------------------

class UpdateRule:
    """One optimizer. ``t`` is the 1-based update count, ``g`` the gradient at θ."""

    title = ""
    torch_name = ""
    formula_text = ""
    formula_latex = ""
    defaults: dict = {}
    state_names: tuple[str, ...] = ()

    def init_state(self, n: int) -> dict[str, np.ndarray]:
        return {name: np.zeros(n) for name in self.state_names}

    def step(self, theta, g, lr, state, t, hp) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def explain(self, w, c) -> list[str]:  # pragma: no cover - abstract
        """The update of one coordinate with numbers, as lines written by writer ``w``."""
        raise NotImplementedError


class GradientDescent(UpdateRule):
    """θ ← θ − α·g  (torch.optim.SGD with momentum=0)."""

    title = "gradient descent"
    torch_name = "SGD"
    formula_text = "θ ← θ − α·∇J(θ)"
    formula_latex = r"\theta \leftarrow \theta - \alpha \nabla J(\theta)"

    def step(self, theta, g, lr, state, t, hp):
        theta -= lr * g

    def explain(self, w, c):
        return [w.eq(w.param(c.name, c.t), [w.param(c.name, c.t - 1), "-", w.sym("alpha"), "*", "g"],
                     [w.num(c.theta0), "-", w.num(c.lr), "*", w.num(c.g)], c.theta1)]


class Momentum(UpdateRule):
    """b ← μ·b + g;  θ ← θ − α·b  (torch.optim.SGD with momentum=μ, dampening=0)."""

    title = "gradient descent with momentum"
    torch_name = "SGD(momentum)"
    formula_text = "b ← μ·b + ∇J(θ);  θ ← θ − α·b"
    formula_latex = r"b \leftarrow \mu b + \nabla J(\theta),\quad \theta \leftarrow \theta - \alpha b"
    defaults = {"momentum": 0.9}
    state_names = ("b",)

    @staticmethod
    def advance_velocity(state, g, hp) -> np.ndarray:
        """b ← μ·b + g, in place; returns b."""
        b = state["b"]
        b *= hp["momentum"]
        b += g
        return b

    @staticmethod
    def velocity_line(w, c) -> str:
        return w.eq(w.var("b", c.t), [w.sym("mu"), "*", w.var("b", c.t - 1), "+", "g"],
                    [w.num(c.hp["momentum"]), "*", w.num(c.before["b"]), "+", w.num(c.g)], c.after["b"])

    def step(self, theta, g, lr, state, t, hp):
        theta -= lr * self.advance_velocity(state, g, hp)

    def explain(self, w, c):
        return [
            self.velocity_line(w, c),
            w.eq(w.param(c.name, c.t), [w.param(c.name, c.t - 1), "-", w.sym("alpha"), "*", w.var("b", c.t)],
                 [w.num(c.theta0), "-", w.num(c.lr), "*", w.num(c.after["b"])], c.theta1),
        ]


class Nesterov(Momentum):
    """b ← μ·b + g;  θ ← θ − α·(g + μ·b)  (torch.optim.SGD with momentum=μ, nesterov=True)."""

    title = "Nesterov accelerated gradient"
    torch_name = "SGD(nesterov)"
    formula_text = "b ← μ·b + ∇J(θ);  θ ← θ − α·(∇J(θ) + μ·b)"
    formula_latex = (r"b \leftarrow \mu b + \nabla J(\theta),\quad "
                     r"\theta \leftarrow \theta - \alpha\left(\nabla J(\theta) + \mu b\right)")

    def step(self, theta, g, lr, state, t, hp):
        b = self.advance_velocity(state, g, hp)
        theta -= lr * (g + hp["momentum"] * b)

    def explain(self, w, c):
        mu = c.hp["momentum"]
        return [
            self.velocity_line(w, c),
            w.eq(w.param(c.name, c.t),
                 [w.param(c.name, c.t - 1), "-", w.sym("alpha"), "*", "(", "g", "+", w.sym("mu"), "*",
                  w.var("b", c.t), ")"],
                 [w.num(c.theta0), "-", w.num(c.lr), "*", "(", w.num(c.g), "+", w.num(mu), "*",
                  w.num(c.after["b"]), ")"], c.theta1),
        ]


class Adagrad(UpdateRule):
    """s ← s + g²;  θ ← θ − α·g/(√s + ε)  (torch.optim.Adagrad, eps=1e-10)."""

    title = "AdaGrad"
    torch_name = "Adagrad"
    formula_text = "s ← s + g²;  θ ← θ − α·g/(√s + ε)"
    formula_latex = (r"s \leftarrow s + g^{2},\quad "
                     r"\theta \leftarrow \theta - \alpha\, g / \left(\sqrt{s} + \varepsilon\right)")
    defaults = {"eps": 1e-10}
    state_names = ("s",)

    def step(self, theta, g, lr, state, t, hp):
        s = state["s"]
        s += g * g
        theta -= lr * g / (np.sqrt(s) + hp["eps"])

    def explain(self, w, c):
        s0, s1 = c.before["s"], c.after["s"]
        return [
            w.eq(w.var("s", c.t), [w.var("s", c.t - 1), "+", w.sq("g")],
                 [w.num(s0), "+", w.sq(w.num(c.g))], s1),
            _root_scaled_update(w, c, "s", s1),
        ]


def _root_scaled_update(w, c, name: str, accumulated: float):
    """θ_t = θ_(t−1) − α·g/(√a_t + ε) for the accumulator ``name`` (AdaGrad's s,
    RMSProp's v), written with symbols and then with this step's numbers."""
    return w.eq(w.param(c.name, c.t),
                [w.param(c.name, c.t - 1), "-", w.sym("alpha"), "*", "g", "/", "(",
                 w.sqrt(w.var(name, c.t)), "+", w.sym("eps"), ")"],
                [w.num(c.theta0), "-", w.num(c.lr), "*", w.num(c.g), "/", "(",
                 w.sqrt(w.num(accumulated)), "+", w.num(c.hp["eps"]), ")"], c.theta1)


class RMSprop(UpdateRule):
    """v ← ρ·v + (1 − ρ)·g²;  θ ← θ − α·g/(√v + ε)
    (torch.optim.RMSprop: ρ is torch's ``alpha`` = 0.99, eps=1e-8)."""

    title = "RMSProp"
    torch_name = "RMSprop"
    formula_text = "v ← ρ·v + (1 − ρ)·g²;  θ ← θ − α·g/(√v + ε)"
    formula_latex = (r"v \leftarrow \rho v + (1 - \rho) g^{2},\quad "
                     r"\theta \leftarrow \theta - \alpha\, g / \left(\sqrt{v} + \varepsilon\right)")
    defaults = {"alpha": 0.99, "eps": 1e-8}
    state_names = ("v",)

    def step(self, theta, g, lr, state, t, hp):
        v, rho = state["v"], hp["alpha"]
        v *= rho
        v += (1 - rho) * g * g
        theta -= lr * g / (np.sqrt(v) + hp["eps"])

    def explain(self, w, c):
        rho, v0, v1 = c.hp["alpha"], c.before["v"], c.after["v"]
        return [
            w.eq(w.var("v", c.t), [w.sym("rho"), "*", w.var("v", c.t - 1), "+", "(", "1", "-", w.sym("rho"),
                                   ")", "*", w.sq("g")],
                 [w.num(rho), "*", w.num(v0), "+", w.num(1 - rho), "*", w.sq(w.num(c.g))], v1),
            _root_scaled_update(w, c, "v", v1),
        ]


class Adam(UpdateRule):
    """m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  m̂ = m/(1 − β₁ᵗ);  v̂ = v/(1 − β₂ᵗ);
    θ ← θ − α·m̂/(√v̂ + ε)  (torch.optim.Adam: betas=(0.9, 0.999), eps=1e-8 outside the root)."""

    title = "Adam"
    torch_name = "Adam"
    formula_text = ("m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  "
                    "θ ← θ − α·m̂/(√v̂ + ε),  m̂ = m/(1 − β₁ᵗ),  v̂ = v/(1 − β₂ᵗ)")
    formula_latex = (r"m \leftarrow \beta_1 m + (1 - \beta_1) g,\quad "
                     r"v \leftarrow \beta_2 v + (1 - \beta_2) g^{2},\quad "
                     r"\theta \leftarrow \theta - \alpha\, \hat{m} / \left(\sqrt{\hat{v}} + \varepsilon\right),"
                     r"\quad \hat{m} = \frac{m}{1 - \beta_1^{t}},\ \hat{v} = \frac{v}{1 - \beta_2^{t}}")
    defaults = {"betas": (0.9, 0.999), "eps": 1e-8}
    state_names = ("m", "v")

    def step(self, theta, g, lr, state, t, hp):
        (beta1, beta2), m, v = hp["betas"], state["m"], state["v"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        # torch's arithmetic: step_size = α/(1 − β₁ᵗ), denom = √v/√(1 − β₂ᵗ) + ε
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + hp["eps"]
        theta -= (lr / (1 - beta1 ** t)) * m / denom

    def explain(self, w, c, theta_name=None):
        (beta1, beta2), eps, t = c.hp["betas"], c.hp["eps"], c.t
        m0, m1, v0, v1 = c.before["m"], c.after["m"], c.before["v"], c.after["v"]
        m_hat, v_hat = m1 / (1 - beta1 ** t), v1 / (1 - beta2 ** t)
        start = theta_name or w.param(c.name, t - 1)
        start_value = c.theta0 if theta_name is None else c.decayed
        return [
            w.eq(w.var("m", t), [w.sym("beta1"), "*", w.var("m", t - 1), "+", "(", "1", "-", w.sym("beta1"),
                                 ")", "*", "g"],
                 [w.num(beta1), "*", w.num(m0), "+", w.num(1 - beta1), "*", w.num(c.g)], m1),
            w.eq(w.var("v", t), [w.sym("beta2"), "*", w.var("v", t - 1), "+", "(", "1", "-", w.sym("beta2"),
                                 ")", "*", w.sq("g")],
                 [w.num(beta2), "*", w.num(v0), "+", w.num(1 - beta2), "*", w.sq(w.num(c.g))], v1),
            w.eq(w.var("m̂", t), [w.var("m", t), "/", "(", "1", "-", w.power(w.sym("beta1"), t), ")"],
                 [w.num(m1), "/", "(", "1", "-", w.power(w.num(beta1), t), ")"], m_hat),
            w.eq(w.var("v̂", t), [w.var("v", t), "/", "(", "1", "-", w.power(w.sym("beta2"), t), ")"],
                 [w.num(v1), "/", "(", "1", "-", w.power(w.num(beta2), t), ")"], v_hat),
            w.eq(w.param(c.name, t), [start, "-", w.sym("alpha"), "*", w.var("m̂", t), "/", "(",
                                      w.sqrt(w.var("v̂", t)), "+", w.sym("eps"), ")"],
                 [w.num(start_value), "-", w.num(c.lr), "*", w.num(m_hat), "/", "(", w.sqrt(w.num(v_hat)),
                  "+", w.num(eps), ")"], c.theta1),
        ]


class AdamW(Adam):
    """θ ← θ − α·λ·θ (decoupled weight decay), then the Adam update
    (torch.optim.AdamW: weight_decay λ=0.01, betas=(0.9, 0.999), eps=1e-8)."""

    title = "AdamW"
    torch_name = "AdamW"
    formula_text = "θ ← θ − α·λ·θ;  then Adam: " + Adam.formula_text
    formula_latex = r"\theta \leftarrow \theta - \alpha\lambda\theta;\ \text{then Adam: }" + Adam.formula_latex
    defaults = {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2}
    decoupled_decay = True

    def step(self, theta, g, lr, state, t, hp):
        theta *= 1 - lr * hp["weight_decay"]
        super().step(theta, g, lr, state, t, hp)

    def explain(self, w, c, theta_name=None):
        lam = c.hp["weight_decay"]
        c.decayed = c.theta0 * (1 - c.lr * lam)
        primed = w.param(c.name, c.t - 1, prime=True)
        decay = w.eq(primed, [w.param(c.name, c.t - 1), "-", w.sym("alpha"), "*", w.sym("lambda"), "*",
                              w.param(c.name, c.t - 1)],
                     [w.num(c.theta0), "-", w.num(c.lr), "*", w.num(lam), "*", w.num(c.theta0)], c.decayed)
        return [decay] + super().explain(w, c, theta_name=primed)


#: method name -> (rule, default batch size on data: None = all rows)
RULES: dict[str, tuple[UpdateRule, int | None]] = {
    "gd": (GradientDescent(), None),
    "sgd": (GradientDescent(), 1),
    "minibatch": (GradientDescent(), 32),
    "momentum": (Momentum(), None),
    "nesterov": (Nesterov(), None),
    "adagrad": (Adagrad(), None),
    "rmsprop": (RMSprop(), None),
    "adam": (Adam(), None),
    "adamw": (AdamW(), None),
}
METHODS = tuple(RULES)
_ALIASES = {"batch": "gd", "sgd-momentum": "momentum", "nag": "nesterov", "mini-batch": "minibatch"}


def _rule_for(method: str) -> tuple[str, UpdateRule, int | None]:
    key = _ALIASES.get(method.lower(), method.lower())
    if key not in RULES:
        import difflib
        close = difflib.get_close_matches(key, METHODS, n=1)
        raise DerivekitError(f"unknown method {method!r}" + (f" — did you mean {close[0]!r}?" if close else ""),
                             hint="use one of " + ", ".join(METHODS))
    rule, batch = RULES[key]
    return key, rule, batch


# --- learning-rate schedules ----------------------------------------------------------------

def _constant(lr, k, steps, opts):
    """α_k = α."""
    return lr


def _step(lr, k, steps, opts):
    """α_k = α·γ^⌊k/step_size⌋ (torch StepLR; step_size defaults to steps/4, γ to 0.1)."""
    return lr * opts.get("gamma", 0.1) ** (k // max(1, int(opts.get("step_size", max(1, steps // 4)))))


def _exponential(lr, k, steps, opts):
    """α_k = α·γ^k (torch ExponentialLR; γ defaults to 0.99)."""
    return lr * opts.get("gamma", 0.99) ** k


def _cosine(lr, k, steps, opts):
    """α_k = η_min + (α − η_min)(1 + cos(πk/T))/2 (torch CosineAnnealingLR; T = steps, η_min = 0)."""
    eta_min, t_max = opts.get("eta_min", 0.0), opts.get("T_max", steps)
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * k / max(1, t_max))) / 2


SCHEDULES: dict[str, Callable] = {"constant": _constant, "step": _step,
                                  "exponential": _exponential, "cosine": _cosine}


# --- the loop -------------------------------------------------------------------------------

def _hyper(method: str, rule: UpdateRule, options: dict) -> dict:
    allowed = dict(rule.defaults)
    allowed.setdefault("weight_decay", 0.0)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise DerivekitError(f"method {method!r} has no option {', '.join(unknown)}",
                             hint="its options are " + ", ".join(sorted(allowed)))
    hp = {**allowed, **options}
    if "betas" in hp:
        try:
            hp["betas"] = tuple(float(b) for b in hp["betas"])
        except (TypeError, ValueError):
            raise DerivekitError(f"betas must be two numbers, not {hp['betas']!r}",
                                 hint="e.g. --betas 0.9,0.999") from None
        if len(hp["betas"]) != 2 or not all(0 <= b < 1 for b in hp["betas"]):
            raise DerivekitError(f"betas must be two numbers in [0, 1), not "
                                 f"{', '.join(f'{b:g}' for b in hp['betas'])}",
                                 hint="e.g. --betas 0.9,0.999: each is a moving average's decay")
    for name, value in hp.items():
        if name != "betas" and isinstance(value, (int, float)) and not math.isfinite(value):
            raise DerivekitError(f"{name} must be a finite number, not {value}")
    return hp


def _too_large(lr: float) -> str:
    return (f"the learning rate lr={lr:g} is too large for this objective — "
            f"try a smaller one, e.g. lr={lr / 10:g}")


def _non_finite(k: int, what: str, rates) -> tuple[bool, bool, str]:
    if not k:
        raise DerivekitError(f"at the start point {what}", hint="start inside the objective's domain")
    return False, True, f"diverged at step {k}: {what}; {_too_large(rates[k - 1])}"


def _stopping(k, loss, prev, first, sq, rising, far_above, patience, grad_tol, loss_tol, rates):
    """Why the run stops at step ``k`` (converged, diverged, reason with its formulas marked
    ``$…$``), or None to go on."""
    if rising >= patience and loss > first:
        return False, True, (f"diverged at step {k}: the loss grew for {rising} steps in a row, from "
                             f"{first:.6g} at the start to {loss:.6g}; {_too_large(rates[k - 1])}")
    if far_above >= patience:
        return False, True, (f"diverged at step {k}: the loss has stayed far above its start ({first:.6g}) "
                             f"for {far_above} steps, now {loss:.6g}; {_too_large(rates[k - 1])}")
    if grad_tol is not None and sq <= grad_tol * grad_tol:
        return True, False, (f"converged at step {k}: ${GRADIENT_NORM} = {math.sqrt(sq):.3g} ≤ {grad_tol:g}$ "
                             "(grad_tol)")
    if loss_tol is not None and k:
        change = abs(prev - loss) / max(abs(prev), abs(loss), 1.0)
        if change <= loss_tol:
            return True, False, (f"converged at step {k}: the relative loss change "
                                 f"${change:.3g} ≤ {loss_tol:g}$ (loss_tol)")
    return None


def _failure(exc: Exception) -> str:
    """What a failed ``math`` evaluation means, in words."""
    if isinstance(exc, OverflowError):
        return "overflowed (a value passed the largest float)"
    if isinstance(exc, ZeroDivisionError):
        return "divided by zero"
    return f"left its domain ({exc})"


def minimize(objective, start=None, method: str = "adam", lr: float = 0.01, steps: int = 200, *,
             schedule: str = "constant", schedule_options: dict | None = None,
             grad_tol: float | None = 1e-8, loss_tol: float | None = None, patience: int = 10,
             batch_size: int | None = None, seed: int = 0, wrt=None, worked_steps: int = 3,
             progress: Callable[[int, int], None] | None = None, engine: str = "numpy",
             scheduler=None, **options) -> Trajectory:
    """Run ``method`` on ``objective`` from ``start`` and return the :class:`Trajectory`.

    ``objective``: an expression (text, LaTeX or SymPy) whose gradient derivekit derives and
    compiles, or a data objective from :mod:`derivekit.optim.objectives` (linear or logistic
    regression). ``start``: ``{"x": 1, "y": 1}`` or a sequence in ``wrt`` order (data
    objectives default to zeros). ``method``: one of :data:`METHODS`; ``options`` are the
    method's hyper-parameters with torch's names (``momentum``, ``betas``, ``eps``,
    ``alpha``, ``weight_decay``). On data, ``batch_size`` rows are drawn per update from a
    ``seed``-ed generator that reshuffles every epoch (``sgd``: 1, ``minibatch``: 32,
    others: all rows). ``schedule`` (with ``schedule_options``) sets the rate of each update.
    The run stops early, converged, when ‖∇J‖ ≤ ``grad_tol`` or the relative loss change is
    ≤ ``loss_tol``; diverged as described in the module docstring (``patience`` steps).
    The first ``worked_steps`` updates are kept for rendering with numbers.
    ``progress(k, steps)`` is called after each update.

    ``engine="dask"`` runs a data objective on Dask (:mod:`derivekit.optim.fit_dask`): each
    full-batch step is one map-reduce over the data's blocks, mini-batches are drawn from
    blocks; ``scheduler`` is a Dask cluster's address (default: Dask's local scheduler).
    For a CSV past memory, pass ``fit_dask.csv_objective(path, model, target=…)``.
    """
    from derivekit.optim.objectives import as_objective
    if engine != "numpy" or scheduler is not None:
        from derivekit.optim.fit_dask import streamed
        on_dask = streamed(objective, engine, scheduler)
        try:
            return minimize(on_dask, start, method, lr, steps, schedule=schedule,
                            schedule_options=schedule_options, grad_tol=grad_tol, loss_tol=loss_tol,
                            patience=patience, batch_size=batch_size, seed=seed, wrt=wrt,
                            worked_steps=worked_steps, progress=progress, **options)
        finally:
            if on_dask is not objective:  # made here from an in-memory objective
                on_dask.close()
    key, rule, method_batch = _rule_for(method)
    if schedule not in SCHEDULES:
        raise DerivekitError(f"unknown schedule {schedule!r}", hint="use one of " + ", ".join(SCHEDULES))
    if not (isinstance(steps, int) and steps >= 0):
        raise DerivekitError(f"steps must be a whole number ≥ 0, got {steps!r}")
    if steps > limits.MAX_STEPS:
        raise LimitError(f"{steps:,} steps is over the limit of {limits.MAX_STEPS:,}",
                         hint="the run stops early when it converges; ask for at most "
                              f"{limits.MAX_STEPS:,} steps, or raise derivekit.limits.MAX_STEPS")
    if not (lr > 0 and math.isfinite(lr)):
        raise DerivekitError(f"the learning rate must be a positive number, got {lr!r}")
    hp = _hyper(key, rule, options)
    schedule_options = dict(schedule_options or {})
    lr_at = SCHEDULES[schedule]
    objective = as_objective(objective, wrt=wrt)
    theta = objective.start_vector(start)
    n = theta.size

    sampler = objective.sampler(batch_size or method_batch, seed)
    coupled_decay = hp.get("weight_decay", 0.0) if not getattr(rule, "decoupled_decay", False) else 0.0
    state = rule.init_state(n)
    # the history grows as the run goes: a run that converges early allocates only its steps
    points: list[np.ndarray] = []
    losses: list[float] = []
    grad_squares: list[float] = []
    rates: list[float] = []
    worked: list[WorkedStep] = []
    value_and_grad = objective.value_and_grad
    grad_tol_sq = -1.0 if grad_tol is None else grad_tol * grad_tol
    prev = far_limit = math.inf
    rising = far_above = 0
    stop = None  # (converged, diverged, reason) once the run ends early
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            try:
                loss, g = value_and_grad(theta)
            except (OverflowError, ZeroDivisionError, ValueError) as exc:
                stop = _non_finite(k, f"the loss {_failure(exc)}", rates)
                break
            sq = g.dot(g)
            if not math.isfinite(loss + sq):
                what = f"the loss became {loss}" if not math.isfinite(loss) else "the gradient became infinite"
                stop = _non_finite(k, what, rates)
                break
            points.append(theta.copy())
            losses.append(loss)
            grad_squares.append(sq)
            rising = rising + 1 if loss > prev else 0
            far_above = far_above + 1 if loss > far_limit else 0
            if rising >= patience or far_above >= patience or sq <= grad_tol_sq or loss_tol is not None:
                stop = _stopping(k, loss, prev, losses[0], float(sq), rising, far_above, patience, grad_tol,
                                 loss_tol, rates)
                if stop is not None:
                    break
            if k == steps:
                break
            if not k:
                far_limit = loss + max(abs(loss), 1.0)
            prev = loss
            rate = lr_at(lr, k, steps, schedule_options)
            rates.append(rate)
            grad = g
            if sampler is not None:
                grad = g = value_and_grad(theta, sampler())[1]
            if coupled_decay:
                g = g + coupled_decay * theta
            if k < worked_steps:
                before = {name: array.copy() for name, array in state.items()}
                theta_before = theta.copy()
                rule.step(theta, g, rate, state, k + 1, hp)
                worked.append(WorkedStep(k + 1, rate, theta_before, grad.copy(), g.copy(), before,
                                         {name: array.copy() for name, array in state.items()},
                                         theta.copy()))
            else:
                rule.step(theta, g, rate, state, k + 1, hp)
            if progress is not None:
                progress(k + 1, steps)
    converged, diverged, marked = stop or (False, False, f"reached the maximum of {steps} steps")
    taken = len(losses)
    return Trajectory(
        names=objective.names, points=np.array(points, dtype=float).reshape(taken, n), losses=np.array(losses, dtype=float),
        grad_norms=np.sqrt(np.array(grad_squares, dtype=float)), learning_rates=np.array(rates[:max(taken - 1, 0)]),
        method=key, rule=rule, hyper=hp, lr=lr, schedule=schedule, converged=converged,
        diverged=diverged, reason=reason_text(marked), marked_reason=marked, worked=worked, objective=objective,
        batch_size=None if sampler is None else sampler.batch_size, seed=seed,
        coupled_decay=coupled_decay)


def compare(objective, methods, start=None, **kwargs) -> Comparison:
    """Run each method in ``methods`` (list or comma-separated text) with the same settings.

    ``lr`` may be one number or a dict ``{method: lr}`` for per-method learning rates."""
    from derivekit.optim.objectives import as_objective
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    if not methods:
        raise DerivekitError("no methods to compare", hint="e.g. methods=['gd', 'momentum', 'adam']")
    objective = as_objective(objective, wrt=kwargs.pop("wrt", None))
    lr = kwargs.pop("lr", 0.01)
    runs = [minimize(objective, start, method=m, lr=lr.get(m, 0.01) if isinstance(lr, dict) else lr, **kwargs)
            for m in methods]
    return Comparison(runs)
