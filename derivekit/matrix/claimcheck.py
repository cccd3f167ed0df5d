"""Checking a hand-derived matrix gradient: :func:`check_claim` behind
``dk.verify_backprop`` and ``derivekit check-backprop``.

The correct gradient comes from :func:`derivekit.matrix.gradient.matrix_gradient` (itself checked
against finite differences). The claim, text or LaTeX, may use the loss's variables, its
named intermediates (z₁, a₁, …), δ names (``delta2``: ∂L/∂z₂ unless the claim defines it)
and its own ``name = expr`` lines. It is compared numerically on several random inputs. A
wrong claim is diagnosed by :mod:`derivekit.matrix.diagnose`; where the claim defines
δs, the first stage that disagrees is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from derivekit.display import Displayable
from derivekit.errors import AmbiguousShapeError, ShapeError
from derivekit.limits import deadline
from derivekit.matrix.assumptions import KINDS, declaration, describe
from derivekit.matrix.diagnose import (
    CLASSES,
    Context,
    classify_ratio,
    relative_error,
    search,
)
from derivekit.matrix.evaluate import (
    CannotCheckError,
    compile_node,
    domains,
    draw_points,
    finite,
    sample,
)
from derivekit.matrix.expr import Node, fmt_shape, substitute, tidy
from derivekit.matrix.parse import parse_program
from derivekit.matrix.printers import name_latex, name_text, to_text
from derivekit.matrix.shapes import annotate

TOLERANCE = 1e-7


@dataclass(eq=False)
class BackpropVerdict(Displayable):
    """The outcome of checking a claimed matrix gradient.

    ``ok``; ``diagnosis`` (plain words); ``error_class`` (a key of
    :data:`derivekit.matrix.diagnose.CLASSES`, None when right); ``counterexample``
    (inputs where claim and truth differ, or None); ``expected`` (the correct gradient, a
    :class:`~derivekit.matrix.gradient.MatExpr`); ``max_rel_error`` over the seeds; ``fix`` (the
    corrected claim when one edit repairs it); ``stage`` (the first wrong δ, if named).
    """

    ok: bool
    diagnosis: str
    error_class: str | None
    expected: Any
    max_rel_error: float
    counterexample: dict | None = None
    claim: Any = None
    fix: Any = None
    stage: str | None = None
    stage_expected: Any = None
    show_named: bool = True
    wrt: str = ""
    seeds: tuple = ()
    derivation: Any = field(default=None, repr=False)
    checked: bool = True
    assumptions: dict = field(default_factory=dict)
    kind: str = "gradient"   # what was claimed: "gradient", "jacobian" or "hessian"

    def __bool__(self) -> bool:
        return self.ok

    @property
    def status(self) -> str:
        """"right", "wrong" or "cannot check" (too few finite points to compare on)."""
        return "right" if self.ok else ("wrong" if self.checked else "cannot check")

    def _render(self, fmt: str, **settings):
        head = {"right": "correct", "wrong": "wrong", "cannot check": "cannot check"}[self.status]
        wrt = name_text(self.wrt)
        lhs = _LHS[self.kind].format(w=wrt)
        if fmt == "dict":
            return {"ok": self.ok, "kind": self.kind, "status": self.status, "checked": self.checked,
                    "assumptions": dict(self.assumptions),
                    "error_class": self.error_class, "diagnosis": self.diagnosis,
                    "stage": self.stage, "max_rel_error": _finite(self.max_rel_error),
                    "expected": self.expected.to_dict() if self.expected is not None else None,
                    "claim": self.claim.to_dict() if self.claim is not None else None,
                    "fix": self.fix.to_dict() if self.fix is not None else None,
                    "counterexample": self.counterexample, "seeds": list(self.seeds)}
        if fmt == "latex":
            return self._latex(head, settings.get("document", False))
        lines = [f"{head}: {self.diagnosis}"]
        if self.stage is not None and not self.ok:
            stage = name_text(self.stage)
            if self.claim is not None:
                lines.append(f"  claimed   {stage} = {self.claim.to_text()}")
            if self.stage_expected is not None:
                lines.append(f"  expected  {stage} = {self.stage_expected.to_text()}")
            if self.fix is not None:
                lines.append(f"  fixed     {stage} = {self.fix.to_text()}")
            return "\n".join(lines) if fmt == "text" else \
                "**" + head + "**: " + self.diagnosis + "\n\n```\n" + "\n".join(lines[1:]) + "\n```"
        if self.claim is not None:
            lines.append(f"  claimed   {lhs} = {self.claim.to_text()}")
        if self.expected is not None:
            lines.append(f"  expected  {lhs} = {self.expected.to_text()}")
            named = getattr(self.derivation, "named_result", None)
            if named is not None and named.node != self.expected.node and self.show_named:
                lines.append(f"            ∂L/∂{wrt} = {named.to_text()}   (in the loss's names)")
        if self.fix is not None and not self.ok:
            lines.append(f"  fixed     {lhs} = {self.fix.to_text()}")
        if np.isfinite(self.max_rel_error):
            lines.append(f"  max relative error over {len(self.seeds)} random inputs: "
                         f"{self.max_rel_error:.2g}")
        text = "\n".join(lines)
        if fmt == "markdown":
            return "**" + head + "**: " + self.diagnosis + "\n\n```\n" + "\n".join(lines[1:]) + "\n```"
        return text


    def _latex_rows(self) -> list[tuple[str, str]]:
        """(label, right-hand side) for what the LaTeX shows: the claim, the expected
        derivative (at the named stage, if one is), the one-edit fix."""
        wrong = not self.ok
        rows = []
        if self.claim is not None:
            rows.append(("claimed", self.claim.to_latex()))
        expected = self.stage_expected if self.stage is not None and wrong else self.expected
        if expected is not None and (wrong or self.claim is None):
            rows.append(("expected", expected.to_latex()))
        if self.fix is not None and wrong:
            rows.append(("fixed", self.fix.to_latex()))
        return rows

    def _latex(self, head: str, document: bool) -> str:
        """The verdict in LaTeX: in a notebook one ``aligned`` block (MathJax), in a
        document (``document=True``) paragraphs that wrap and displays broken to the line."""
        from derivekit.render import docblocks
        from derivekit.render.printing import latex_prose

        if self.stage is not None and not self.ok:
            lhs = name_latex(self.stage, bold=True)
        else:
            lhs = _LHS_LATEX[self.kind].format(w=name_latex(self.wrt, bold=False))
        rows = self._latex_rows()
        error = (f"max relative error over {len(self.seeds)} random inputs: "
                 f"{self.max_rel_error:.2g}") if np.isfinite(self.max_rel_error) else ""
        if document:
            out = [docblocks.heading(head + ":") + " " + docblocks.prose(self.diagnosis)]
            for label, rhs in rows:
                out.append(docblocks.labelled(label.capitalize(), ""))
                out.append(docblocks.equation(lhs, rhs))
            if error:
                out.append(docblocks.labelled("Check", error))
            return "\n".join(out)
        lines = [rf"&{latex_prose(head + ': ' + self.diagnosis)}"]
        lines += [rf"&{latex_prose(label)}\quad {lhs} = {rhs}" for label, rhs in rows]
        if error:
            lines.append(rf"&{latex_prose(error)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


#: the left-hand side a verdict prints, per kind of claim ({w}: the variable)
_LHS = {"gradient": "∂L/∂{w}", "jacobian": "∂f/∂{w}ᵀ", "hessian": "∇²L"}
_LHS_LATEX = {"gradient": r"\frac{{\partial L}}{{\partial {w}}}",
              "jacobian": r"\frac{{\partial f}}{{\partial {w}^\top}}",
              "hessian": r"\frac{{\partial^2 L}}{{\partial {w} \partial {w}^\top}}"}


def _finite(x: float):
    return float(x) if np.isfinite(x) else None


_DELTA = re.compile(r"(?:delta|δ|d|dz|dL_dz)_?(\d*)")


class _Setting:
    """Random inputs, the loss's intermediates and the expected values, per point.

    Points are drawn where the loss, the gradient and every adjoint are finite (a point
    where one is not is no sample); twice as many as the seeds asked for, so that points
    where the claim is not finite can be dropped too (:meth:`keep`)."""

    def __init__(self, m, seeds, kinds=None):
        self.m = m
        self.want = len(tuple(seeds))
        self.intermediates = {i.name: i for i in m.sweep.intermediates}
        kinds = domains(m.loss, m.declared) if kinds is None else kinds
        compiled = [(i.name, compile_node(i.expanded)) for i in m.sweep.intermediates]
        adjoints = {name: compile_node(m.sweep.expand(expr)) for name, expr in m.sweep.adjoints.items()}
        expected = compile_node(m.result.node)
        loss = compile_node(m.loss)
        found: dict[int, tuple] = {}

        def accept(env, _rng) -> bool:
            if not finite(loss(env)):
                return False
            for name, fn in compiled:
                env[name] = fn(env)
            value = np.broadcast_to(expected(env), m.shape)
            adjoint_values = {n: fn(env) for n, fn in adjoints.items()}
            if not finite(value, *adjoint_values.values()):
                return False
            found[id(env)] = (value, adjoint_values)
            return True

        points, self.draws = draw_points(m.shapes, kinds, seeds, accept, need=2 * self.want)
        self.seeds = [seed for seed, _ in points]
        self.envs = [env for _, env in points]
        self.expected_values = [found[id(env)][0] for env in self.envs]
        self.adjoint_values = [found[id(env)][1] for env in self.envs]

    def enough(self) -> bool:
        return len(self.envs) >= self.want

    def keep(self, indices) -> None:
        """Keep only the points at ``indices`` (in that order)."""
        indices = list(indices)
        for attr in ("seeds", "envs", "expected_values", "adjoint_values"):
            values = getattr(self, attr)
            setattr(self, attr, [values[i] for i in indices])

    def refs(self) -> dict[str, tuple[int, int]]:
        return {name: i.body.shape for name, i in self.intermediates.items()}

    def delta_aliases(self) -> dict[str, str]:
        """``delta2``/``δ2``/``d2``/``dz2`` -> ``z2`` for every z with an adjoint."""
        out = {}
        for name, inter in self.intermediates.items():
            if inter.kind != "z" or name not in self.m.sweep.adjoints:
                continue
            k = re.sub(r"^[zZ]_?", "", name)
            for prefix in ("delta", "δ", "dz", "d", "delta_", "dL_dz"):
                out[prefix + k] = name
        return out


def _parse_claim(claim, syntax, known_names):
    from derivekit.matrix.printers import to_numpy_text
    node = getattr(claim, "node", claim)
    if isinstance(node, Node):  # a MatExpr or a tree: read back its NumPy spelling
        claim, syntax = to_numpy_text(node), "text"
    program = parse_program(claim, syntax, known_names)
    definitions = [(n, e) for n, e in program if n is not None]
    exprs = [e for n, e in program if n is None]
    if not exprs:
        exprs = [definitions.pop()[1]]
    if len(exprs) != 1:
        from derivekit.errors import ParseError
        raise ParseError("the claim must be one expression (plus optional 'name = expr' lines)")
    return definitions, exprs[0]


def _cannot_check(reason: str, wrt: str, expected=None, m=None, claim=None) -> BackpropVerdict:
    return BackpropVerdict(False, reason, "cannot_check", expected, float("nan"), claim=claim,
                           wrt=wrt, derivation=m, checked=False,
                           assumptions=m.assumptions if m is not None else {})


def check_claim(loss, claim, wrt, shapes, *, seeds=(0, 1, 2), syntax="auto", diagnose=True,
                timeout=10.0, assume=None) -> BackpropVerdict:
    from derivekit.matrix.gradient import MatExpr, matrix_gradient
    seeds = tuple(seeds)
    with deadline(timeout):
        try:
            m = matrix_gradient(loss, wrt, shapes, syntax=syntax, assume=assume)
        except CannotCheckError as exc:
            return _cannot_check(exc.reason + (f"; {exc.hint}" if exc.hint else ""), wrt)
        setting = _Setting(m, seeds)
        if not setting.enough():
            return _cannot_check(
                f"the loss or its gradient is finite at only {len(setting.envs)} of "
                f"{setting.draws} random inputs, fewer than the {len(seeds)} asked for",
                wrt, MatExpr(m.result.node), m)
        dims = dict(_dims_of(shapes))
        known = dict(m.shapes)
        known_names = list(known) + list(dims) + list(setting.intermediates)
        definitions, raw = _parse_claim(claim, syntax, known_names)
        aliases = setting.delta_aliases()
        refs = setting.refs()
        used = {n.attr for _, e in definitions for n in e.walk() if n.op == "var"} | \
            {n.attr for n in raw.walk() if n.op == "var"}
        defined = {name for name, _ in definitions}
        alias_used = {a: aliases[a] for a in used if a in aliases and a not in defined and a not in known}
        for alias, z in alias_used.items():
            refs[alias] = refs[z]
            for i, env in enumerate(setting.envs):
                env[alias] = setting.adjoint_values[i][z]
        expected = MatExpr(m.result.node)
        claim_refs: dict[str, tuple[int, int]] = {}

        def typed(node: Node, extra_refs) -> Node:
            return annotate(node, known, dims=dims, refs={**refs, **extra_refs}, infer=False)[0]

        # a claim written without the loss's names is answered without them too
        plain = not (used & (set(setting.intermediates) | set(aliases) | defined))
        expand_map = {("ref", n): i.expanded for n, i in setting.intermediates.items()}

        def shown(node: Node) -> Node:
            return tidy(substitute(node, expand_map)) if plain else node

        def partly_typed(node: Node) -> Node:
            """``node`` typed where its sub-terms can be (so (2/N)Xᵀ prints as a scalar times
            a matrix, not (2 / N) ⊙ Xᵀ), raw above the term whose shapes do not fit."""
            try:
                return shown(typed(node, claim_refs))
            except (ShapeError, ValueError):
                return Node(node.op, tuple(partly_typed(a) for a in node.args), node.attr, None)

        def text(node: Node) -> str:
            try:
                return to_text(shown(typed(node, claim_refs)))
            except (ShapeError, ValueError):
                try:
                    return to_text(partly_typed(node))
                except Exception:  # a mixed tree that does not print: the raw text
                    return _raw_text(node)

        def shape(node: Node):
            try:
                return typed(node, claim_refs).shape
            except (ShapeError, ValueError):
                return None

        ctx = Context(activations=_activation_sites(m), dims=tuple(sorted(dims.items())), text=text,
                      shape=shape, wrt=wrt, **_slip_sites(m))

        def verdict(ok, words, cls, err, **kw):
            return BackpropVerdict(ok, words, cls, expected, err, wrt=wrt,
                                   seeds=tuple(setting.seeds[:len(seeds)]), derivation=m,
                                   show_named=not plain, assumptions=m.assumptions, **kw)

        def drop_nonfinite(values, what: str):
            """Keep the points where the claim's ``values`` are finite; None, or a
            cannot-check verdict when fewer than the seeds asked for remain."""
            good = [i for i, v in enumerate(values) if finite(v)]
            total = len(values)
            if len(good) < total:
                setting.keep(good)
                values[:] = [values[i] for i in good]
            if len(good) < len(seeds):
                return _cannot_check(
                    f"{what} is not finite (NaN or ±inf) at {total - len(good)} of the {total} random "
                    f"inputs where the loss and its gradient are, leaving {len(good)} to compare on, "
                    f"fewer than the {len(seeds)} asked for", wrt, expected, m)
            return None

        # the claim's own definitions, in order; report the first δ stage that disagrees
        for name, body in definitions:
            try:
                node = typed(body, claim_refs)
            except AmbiguousShapeError as exc:
                return _cannot_check(_ambiguous(exc), wrt, MatExpr(m.result.node), m)
            except ShapeError as exc:
                fix = _search_fix(body, ctx, setting, lambda n: typed(n, claim_refs), None) if diagnose else None
                return _shape_verdict(verdict, exc, fix, stage=name)
            with np.errstate(all="ignore"):
                values = [compile_node(node)(env) for env in setting.envs]
            refused = drop_nonfinite(values, f"your {name_text(name)}")
            if refused is not None:
                return refused
            z = aliases.get(name)
            if z is not None and z in m.sweep.adjoints:
                want = [a[z] for a in setting.adjoint_values]
                err = max(relative_error(w, v) if w.shape == v.shape else np.inf
                          for w, v in zip(want, values))
                if not err <= TOLERANCE:
                    zshape = setting.intermediates[z].body.shape
                    adj_text = to_text(m.sweep.adjoints[z])
                    words = (f"the first stage that disagrees is {name_text(name)} = "
                             f"{to_text(node)}; expected ∂L/∂{name_text(z)} = {adj_text}")
                    fix = None
                    cls = "unknown"
                    ratio = _common_ratio(want, values) if all(
                        w.shape == v.shape for w, v in zip(want, values)) else None
                    if ratio is not None:
                        cls, why = classify_ratio(ratio, sorted(dims.items()))
                        words += f" — {CLASSES[cls]}: {why}"
                    elif diagnose:
                        hit = _search_fix(body, ctx, setting,
                                          lambda n: typed(n, claim_refs), want, zshape)
                        if hit is not None:
                            cls, fix = hit[0].error_class, hit[1]
                            words += f" — {CLASSES[cls]}: {hit[0].words}"
                    return verdict(False, words, cls, err, stage=name,
                                   stage_expected=MatExpr(m.sweep.adjoints[z]),
                                   claim=MatExpr(node), fix=MatExpr(tidy(fix)) if fix is not None else None)
            claim_refs[name] = node.shape
            for env, value in zip(setting.envs, values):
                env[name] = value

        def type_final(n: Node) -> Node:
            return typed(n, claim_refs)

        try:
            node = type_final(raw)
        except AmbiguousShapeError as exc:
            return _cannot_check(_ambiguous(exc), wrt, MatExpr(m.result.node), m)
        except ShapeError as exc:
            fix = _search_fix(raw, ctx, setting, type_final, None) if diagnose else None
            return _shape_verdict(verdict, exc, _shown_fix(fix, shown))
        claim_expr = MatExpr(node)
        if node.shape != m.shape:
            words = (f"the claim is {fmt_shape(node.shape)}, but ∂L/∂{name_text(wrt)} must have "
                     f"the shape of {name_text(wrt)}, {fmt_shape(m.shape)}")
            hit = _shown_fix(_search_fix(raw, ctx, setting, type_final, None) if diagnose else None, shown)
            if hit is not None:
                edit, fixed = hit
                return verdict(False, f"{words}. Diagnosis: {CLASSES[edit.error_class]} — {edit.words}.",
                               edit.error_class, np.inf, claim=claim_expr, fix=MatExpr(tidy(fixed)))
            return verdict(False, words + ".", "shape", np.inf, claim=claim_expr)
        fn = compile_node(node)
        with np.errstate(all="ignore"):
            values = [np.broadcast_to(fn(env), m.shape) for env in setting.envs]
        refused = drop_nonfinite(values, "the claim")
        if refused is not None:
            refused.claim = claim_expr
            return refused
        setting.keep(range(len(seeds)))
        values = values[:len(seeds)]
        errors = [relative_error(e, v) for e, v in zip(setting.expected_values, values)]
        worst = max(errors)
        assumed = m.assumption_text()
        if worst <= TOLERANCE:
            words = f"the claim matches ∂L/∂{name_text(wrt)} on {len(seeds)} random inputs"
            if assumed:
                words += f", assuming {assumed}"
            return verdict(True, words, None, worst, claim=claim_expr)
        bad = int(np.argmax(errors))
        counter = _counterexample(setting, bad, values[bad], setting.seeds[bad])
        # a constant factor is found directly from the ratio
        ratio = _common_ratio(setting.expected_values, values)
        if ratio is not None:
            cls, words = classify_ratio(ratio, sorted(dims.items()))
            return verdict(False, f"{CLASSES[cls]}: {words}.", cls, worst, counterexample=counter,
                           claim=claim_expr)
        if diagnose:
            hit = _shown_fix(_search_fix(raw, ctx, setting, type_final, None), shown)
            if hit is not None:
                edit, fixed = hit
                return verdict(False, f"{CLASSES[edit.error_class]}: {edit.words}.",
                               edit.error_class, worst, counterexample=counter, claim=claim_expr,
                               fix=MatExpr(tidy(fixed)))
        symmetric = _holds_if_symmetric(m, node, wrt, seeds) if diagnose else None
        if symmetric:
            names = ", ".join(name_text(n) for n in symmetric)
            declare = declaration({n: "symmetric" for n in symmetric})
            return verdict(False, f"{CLASSES['assumed_symmetric']}: yours equals ∂L/∂{name_text(wrt)} "
                                  f"when {names} {'is' if len(symmetric) == 1 else 'are'} symmetric, "
                                  f"but not in general (e.g. xᵀAx gives (A + Aᵀ)x, not 2Ax); if "
                                  f"{'it is' if len(symmetric) == 1 else 'they are'}, declare it "
                                  f"with --assume \"{declare}\"",
                           "assumed_symmetric", worst, counterexample=counter, claim=claim_expr)
        needed = _holds_under_assumption(m, node, wrt, len(seeds)) if diagnose else None
        if needed is not None:
            name, key = needed
            declare = declaration({**m.declared, name: key})
            return verdict(False, f"right when {describe(name, key)}: declare it with "
                                  f"--assume \"{declare}\" (without it, yours differs from "
                                  f"∂L/∂{name_text(wrt)})", "needs_assumption", worst,
                           counterexample=counter, claim=claim_expr)
        return verdict(False, "the claim disagrees with the correct gradient, and no single edit "
                              "(transpose, order, activation derivative, constant, batch sum) "
                              "repairs it", "unknown", worst, counterexample=counter, claim=claim_expr)


def _holds_under_assumption(m, claim: Node, wrt: str, count: int) -> tuple[str, str] | None:
    """The first (input, kind) of :data:`~derivekit.matrix.assumptions.KINDS` under which the
    claim equals the derived gradient at ``count`` finite random points, or None. Inputs
    already declared, ``wrt`` and intermediate names are left alone."""
    if not claim.names() <= set(m.shapes):
        return None
    expected, claimed = compile_node(m.result.node), compile_node(claim)
    loss = compile_node(m.loss)
    forward = [(i.name, compile_node(i.expanded)) for i in m.sweep.intermediates]
    base = domains(m.loss, m.declared)
    for name, (r, c) in m.shapes.items():
        if name == wrt or name in m.declared or r * c == 1:
            continue
        for key, k in KINDS.items():
            if (k.square and (r != c)) or base.get(name) == key or key == "invertible":
                continue
            errors = []

            def accept(env, _rng, errors=errors) -> bool:
                for inter, fn in forward:  # the claim may use the loss's names (z, a)
                    env[inter] = fn(env)
                want = np.broadcast_to(expected(env), m.shape)
                got = np.broadcast_to(claimed(env), m.shape)
                if not finite(loss(env), want, got):
                    return False
                errors.append(relative_error(want, got))
                return True

            try:
                points, _ = draw_points(m.shapes, {**base, name: key}, range(100, 100 + count),
                                        accept)
            except (KeyError, FloatingPointError, np.linalg.LinAlgError):
                continue
            if len(points) == count and max(errors) <= TOLERANCE:
                return name, key
    return None


def _holds_if_symmetric(m, claim: Node, wrt: str, seeds) -> list[str] | None:
    """The square inputs (other than ``wrt``) that, made symmetric, make the claim right; None
    when there are none, the claim uses intermediate names, or it is wrong even then."""
    square = [n for n, (r, c) in m.shapes.items() if r == c > 1 and n != wrt]
    if not square or not claim.names() <= set(m.shapes):
        return None
    expected, claimed = compile_node(m.result.node), compile_node(claim)
    kinds = domains(m.loss, m.declared)
    try:
        with np.errstate(all="ignore"):
            for seed in seeds:
                env = sample(m.shapes, kinds, np.random.default_rng(seed))
                for n in square:
                    env[n] = (env[n] + env[n].T) / 2
                err = relative_error(np.broadcast_to(expected(env), m.shape),
                                     np.broadcast_to(claimed(env), m.shape))
                if not err <= TOLERANCE:  # NaN included
                    return None
    except (KeyError, ValueError, FloatingPointError, np.linalg.LinAlgError):
        return None
    return square


def _dims_of(shapes):
    from derivekit.matrix.shapes import resolve_shapes
    return resolve_shapes(shapes)[1].items()


def _raw_text(node: Node) -> str:
    try:
        return to_text(node)
    except Exception:  # pragma: no cover - raw trees always print
        return "?"


def _activation_sites(m) -> tuple:
    sites = []
    for inter in m.sweep.intermediates:
        body = inter.body
        if body.op == "func" and body.args[0].op == "ref":
            sites.append((body.attr, body.args[0].attr, inter.name))
    for inter in m.sweep.intermediates:
        for n in inter.body.walk():
            if n.op == "func" and n.args[0].op == "ref" and not any(
                    s[1] == n.args[0].attr and s[0] == n.attr for s in sites):
                sites.append((n.attr, n.args[0].attr, None))
    for n in m.sweep.root.walk():
        if n.op == "func" and n.args[0].op == "ref" and not any(
                s[1] == n.args[0].attr and s[0] == n.attr for s in sites):
            sites.append((n.attr, n.args[0].attr, None))
    return tuple(sites)


def _slip_sites(m) -> dict:
    """Where the slips of :mod:`derivekit.matrix.diagnose` can happen in this loss: normalised
    intermediates, softmaxes, targets and the numeric constants (regulariser weights)."""
    normalised, softmaxes = [], []
    for inter in m.sweep.intermediates:
        body = inter.body
        if body.op == "div" and any(n.op == "func" and n.attr == "sqrt" for n in body.args[1].walk()):
            normalised.append(inter.name)
        if body.op == "softmax":
            softmaxes.append((inter.name, body.attr))
    nodes = [n for inter in m.sweep.intermediates for n in inter.body.walk()] + list(m.sweep.root.walk())
    constants = tuple(float(n.attr.value) for n in nodes if n.op == "const" and not n.attr.dims)
    targets = tuple(name for name in m.shapes if name[:1] in "yY")  # the usual names for targets
    return {"normalised": tuple(normalised), "softmaxes": tuple(softmaxes), "targets": targets,
            "loss_constants": constants}


def _common_ratio(expected, values) -> float | None:
    ratios = []
    for e, v in zip(expected, values):
        denom = float(np.vdot(v, v))
        if denom < 1e-18 or not np.all(np.isfinite(v)):
            return None
        c = float(np.vdot(e, v)) / denom
        if relative_error(e, c * v) > 1e-7:
            return None
        ratios.append(c)
    if max(ratios) - min(ratios) > 1e-6 * max(1.0, abs(ratios[0])):
        return None
    return ratios[0]


def _search_fix(raw: Node, ctx, setting, type_fn, want=None, want_shape=None):
    """Search single edits; return (edit, typed fixed claim) or None."""
    target_shape = want_shape or setting.m.shape
    targets = want if want is not None else setting.expected_values

    def matches(candidate: Node) -> bool:
        try:
            node = type_fn(candidate)
        except (ShapeError, ValueError):
            return False
        if node.shape != target_shape:
            return False
        try:
            fn = compile_node(node)
            for env, t in zip(setting.envs, targets):
                value = fn(env)
                # a candidate that is not finite where it is tested is no fix (√(−(var + ε)))
                if not finite(value) or not relative_error(t, value) <= TOLERANCE:
                    return False
        except (KeyError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            return False
        return True

    with np.errstate(all="ignore"):
        edit = search(raw, matches, ctx)
    if edit is None:
        return None
    return edit, type_fn(edit.claim)


def _shown_fix(hit, shown):
    return None if hit is None else (hit[0], shown(hit[1]))


def _ambiguous(exc: ShapeError) -> str:
    return (f"{exc.message}{': ' + exc.hint if exc.hint else ''}; write the claim in NumPy "
            "spelling (matgrad prints it as 'as NumPy (paste into --claim)'), where sums say their axis")


def _shape_verdict(verdict, exc: ShapeError, hit, stage=None):
    words = exc.message
    if exc.hint:
        words += f": {exc.hint}"
    words = words.rstrip(".?") + ("?" if words.endswith("?") else "")
    if hit is not None:
        edit, fixed = hit
        from derivekit.matrix.gradient import MatExpr
        sep = " " if words.endswith("?") else ". "
        return verdict(False, f"{words}{sep}Diagnosis: {CLASSES[edit.error_class]} — {edit.words}; "
                              f"with that change the claim is right.", edit.error_class, np.inf,
                       fix=MatExpr(tidy(fixed)), stage=stage)
    return verdict(False, words, "shape", np.inf, stage=stage)


def _counterexample(setting, index, claimed, seed) -> dict:
    env = setting.envs[index]
    inputs = {n: env[n].round(6).tolist() for n in setting.m.shapes}
    return {"seed": seed, "inputs": inputs,
            "claimed": np.asarray(claimed).round(6).tolist(),
            "expected": np.asarray(setting.expected_values[index]).round(6).tolist()}
