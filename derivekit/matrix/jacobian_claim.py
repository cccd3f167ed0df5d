"""Checking a claimed Jacobian or Hessian: ``dk.verify_backprop(..., kind="jacobian")`` and
``derivekit check-backprop --jacobian`` (or ``--hessian``).

The correct matrix comes from :func:`~derivekit.matrix.jacobian.matrix_jacobian` or
:func:`~derivekit.matrix.jacobian.matrix_hessian`, which check it against central differences
before returning it. The claim (text or LaTeX, with optional ``name = expr`` lines such as
``s = softmax(z)``) must have its shape, ∂f/∂xᵀ being m×n for an m×1 f and an n×1 x, and is
compared with it at random inputs that respect the declared structure; a point where either
is not finite is no sample, and too few finite points is "cannot check", never a pass.

A wrong claim is diagnosed by the checks of :data:`DIAGNOSES` (one small function each,
tried in order), then by the single-edit search of :mod:`derivekit.matrix.diagnose`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from derivekit.errors import (
    AmbiguousShapeError,
    ParseError,
    ShapeError,
    UnsupportedError,
)
from derivekit.limits import deadline
from derivekit.matrix.assumptions import declaration
from derivekit.matrix.claimcheck import TOLERANCE, BackpropVerdict, _common_ratio
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
)
from derivekit.matrix.expr import Node, fmt_shape, neg, ones, tidy, transpose
from derivekit.matrix.parse import parse_program
from derivekit.matrix.printers import name_text, to_text
from derivekit.matrix.shapes import annotate, resolve_shapes

#: error classes of derivative claims that the gradient's table (diagnose.CLASSES) lacks
DERIVATIVE_CLASSES: dict[str, str] = {
    "transposed_jacobian": "the transpose of the Jacobian",
    "missing_term": "a term missing",
    "term_sign": "a term with the wrong sign",
}


def label(kind: str, wrt: str) -> str:
    """What the claim stands for: ``∂f/∂zᵀ`` or ``∇²L``."""
    w = name_text(wrt)
    return f"∂f/∂{w}ᵀ" if kind == "jacobian" else f"∇²L = ∂²L/∂{w}∂{w}ᵀ"


@dataclass
class _Points:
    """The random inputs compared on, with the expected and claimed values at each."""

    seeds: list
    envs: list
    expected: list
    claimed: list


# --- diagnoses: each returns (error class, words) or None --------------------------------------

def _terms(node: Node) -> list[Node]:
    """The signed terms of a sum: A − B + C → [A, −B, C]."""
    if node.op == "add":
        return _terms(node.args[0]) + _terms(node.args[1])
    if node.op == "sub":
        return _terms(node.args[0]) + [neg(t) for t in _terms(node.args[1])]
    return [node]


def _matches(points: _Points, fn: Callable[[dict], np.ndarray], shape) -> bool:
    for env, claimed in zip(points.envs, points.claimed):
        want = np.broadcast_to(fn(env), shape)
        if not finite(want) or not relative_error(want, claimed) <= TOLERANCE:
            return False
    return True


def transposed(expected: Node, points: _Points, what: str):
    """Jᵀ for J: the denominator layout, a row per entry of x instead of a row per entry of f."""
    if expected.shape[0] != expected.shape[1]:
        return None
    fn = compile_node(tidy(transpose(expected)))
    if _matches(points, fn, expected.shape):
        words = ("∂f/∂xᵀ has one row per entry of f and one column per entry of x; yours is "
                 "∂fᵀ/∂x, the denominator layout")
        return "transposed_jacobian", words
    return None


def missing_or_flipped_term(expected: Node, points: _Points, what: str):
    """expected = Σ tᵢ; the claim is Σ tᵢ without one term, or with one term's sign flipped."""
    terms = _terms(expected)
    if len(terms) < 2:
        return None
    for term in terms:
        t = compile_node(tidy(term))
        values = [np.broadcast_to(t(env), expected.shape) for env in points.envs]
        for factor, cls in ((1.0, "missing_term"), (2.0, "term_sign")):
            if all(finite(v) and relative_error(e - factor * v, c) <= TOLERANCE
                   for e, v, c in zip(points.expected, values, points.claimed)):
                text = to_text(tidy(term))
                words = (f"the term {text} of {what} is missing" if cls == "missing_term" else
                         f"the term {text} of {what} has the wrong sign (yours has "
                         f"{to_text(tidy(neg(term)))})")
                return cls, words
    return None


def constant_ratio(expected: Node, points: _Points, what: str, dims=()):
    ratio = _common_ratio(points.expected, points.claimed)
    if ratio is None:
        return None
    cls, words = classify_ratio(ratio, dims)
    return cls, words.replace("the expected gradient", what)


#: the derivative-specific diagnoses, tried in this order
DIAGNOSES = (constant_ratio, transposed, missing_or_flipped_term)


# --- the check ------------------------------------------------------------------------------

def _derive(expr, wrt, shapes, kind, syntax, assume):
    from derivekit.matrix.jacobian import matrix_hessian, matrix_jacobian
    derive = matrix_jacobian if kind == "jacobian" else matrix_hessian
    return derive(expr, wrt, shapes, syntax=syntax, timeout=None, assume=assume)


def _parse_claim(claim, syntax, known, dims):
    from derivekit.matrix.printers import to_numpy_text
    node = getattr(claim, "node", claim)
    if isinstance(node, Node):
        claim, syntax = to_numpy_text(node), "text"
    program = parse_program(claim, syntax, known_names=list(known) + list(dims))
    definitions = {n: e for n, e in program if n is not None}
    exprs = [e for n, e in program if n is None]
    if not exprs and program:
        exprs = [definitions.pop(program[-1][0])]
    if len(exprs) != 1:
        raise ParseError("the claim must be one expression (plus optional 'name = expr' lines)",
                         hint="e.g. s = softmax(z); diag(s) - s@s.T")
    return exprs[0], definitions


def check_derivative_claim(expr, claim, wrt: str, shapes, *, kind: str = "jacobian",
                           seeds=(0, 1, 2), syntax: str = "auto", diagnose: bool = True,
                           timeout: float | None = 10.0, assume=None) -> BackpropVerdict:
    """Check a claimed Jacobian ∂f/∂xᵀ of a column-valued ``expr`` (``kind="jacobian"``) or a
    claimed Hessian of a scalar ``expr`` (``kind="hessian"``) with respect to the column
    ``wrt``. Returns a :class:`~derivekit.matrix.claimcheck.BackpropVerdict` whose ``kind``
    says which."""
    from derivekit.matrix.gradient import MatExpr
    seeds = tuple(seeds)
    what = "the Jacobian" if kind == "jacobian" else "the Hessian"

    def cannot(reason, m=None, claim_expr=None):
        return BackpropVerdict(False, reason, "cannot_check", m.result if m is not None else None,
                               float("nan"), claim=claim_expr, wrt=wrt, derivation=m, checked=False,
                               kind=kind, assumptions=dict(getattr(m, "declared", {}) or {}))

    with deadline(timeout):
        try:
            m = _derive(expr, wrt, shapes, kind, syntax, assume)
        except CannotCheckError as exc:
            return cannot(exc.reason + (f"; {exc.hint}" if exc.hint else ""))
        if m.shapes[wrt][1] != 1:
            r, c = m.shapes[wrt]
            raise UnsupportedError(
                f"a claimed Hessian by the matrix {wrt} ({r}×{c}) is ∂²L/∂vec({wrt})∂vec({wrt})ᵀ, "
                f"a Kronecker form, and the matrix language has no ⊗ to write it in",
                hint=f"check the gradient instead (check-backprop without --hessian), or declare "
                     f"{wrt} as {r * c}×1 (vec of {wrt}) and write the loss in terms of it")
        dims = resolve_shapes(shapes)[1]
        known = dict(m.shapes)  # the claim uses the expression's names (and its own definitions)

        def verdict(ok, words, cls, err, **kw):
            return BackpropVerdict(ok, words, cls, m.result, err, wrt=wrt, derivation=m,
                                   kind=kind, assumptions=dict(m.declared), show_named=False, **kw)

        raw, definitions = _parse_claim(claim, syntax, known, dims)
        try:
            node = annotate(raw, known, definitions, dims=dims, infer=False, want=m.shape)[0]
        except AmbiguousShapeError as exc:
            return cannot(f"{exc.message}{': ' + exc.hint if exc.hint else ''}", m)
        except ShapeError as exc:
            words = exc.message + (f": {exc.hint}" if exc.hint else "")
            hit = _search(raw, definitions, known, dims, m, _expected_points(m, seeds), wrt) \
                if diagnose else None
            if hit is None:
                return verdict(False, words, "shape", np.inf)
            edit, fixed = hit
            head = DERIVATIVE_CLASSES.get(edit.error_class) or CLASSES.get(edit.error_class)
            sep = " " if words.endswith("?") else ". "
            return verdict(False, f"{words}{sep}Diagnosis: {head} — {edit.words}; with that change "
                                  f"the claim is right.", edit.error_class, np.inf,
                           fix=MatExpr(tidy(fixed)))
        claim_expr = MatExpr(node)
        shape = m.shape
        if node.shape == (1, 1) != shape and not node.names() and not any(
                n.op == "eye" for n in node.walk()):  # a number (0): that constant matrix
            node = Node("mul", (node, ones(shape)), None, shape)
        if node.shape != shape:
            if kind == "jacobian":
                rows = m.expr.shape[0]
                words = (f"the claim is {fmt_shape(node.shape)}, but {what} ∂f/∂{name_text(wrt)}ᵀ of "
                         f"the {rows}×1 f by the {shape[1]}×1 {name_text(wrt)} is {fmt_shape(shape)}, "
                         f"one row per entry of f")
            else:
                words = (f"the claim is {fmt_shape(node.shape)}, but {what} of a scalar by the "
                         f"{shape[0]}×1 {name_text(wrt)} is {fmt_shape(shape)}")
            cls = "shape"
            if node.shape == shape[::-1]:
                cls, words = "transposed_jacobian", words + (
                    "; yours has the shape of its transpose ∂fᵀ/∂x (the denominator layout)")
            return verdict(False, words + ".", cls, np.inf, claim=claim_expr)
        found = _expected_points(m, seeds)
        if len(found.envs) < len(seeds):
            return cannot(f"{what} is finite at only {len(found.envs)} random inputs, fewer than the "
                          f"{len(seeds)} asked for", m, claim_expr)
        points, dropped = _with_claim(found, node, shape, len(seeds))
        if len(points.envs) < len(seeds):
            return cannot(f"the claim is not finite (NaN or ±inf) at {dropped} of the "
                          f"{len(found.envs)} random inputs where {what} is, leaving "
                          f"{len(points.envs)} to compare on, fewer than the {len(seeds)} asked for",
                          m, claim_expr)
        errors = [relative_error(e, c) for e, c in zip(points.expected, points.claimed)]
        worst = max(errors)
        assumed = m.assumption_text()
        if worst <= TOLERANCE:
            words = f"the claim matches {what} {label(kind, wrt)} on {len(seeds)} random inputs"
            return verdict(True, words + (f", assuming {assumed}" if assumed else ""), None, worst,
                           claim=claim_expr, seeds=tuple(points.seeds))
        bad = int(np.argmax(errors))
        counter = {"seed": points.seeds[bad],
                   "inputs": {n: points.envs[bad][n].round(6).tolist() for n in m.shapes},
                   "claimed": np.asarray(points.claimed[bad]).round(6).tolist(),
                   "expected": np.asarray(points.expected[bad]).round(6).tolist()}

        def wrong(cls, words, **kw):
            head = DERIVATIVE_CLASSES.get(cls) or CLASSES.get(cls, cls)
            return verdict(False, f"{head}: {words}.", cls, worst, counterexample=counter,
                           claim=claim_expr, seeds=tuple(points.seeds), **kw)

        if diagnose:
            for check in DIAGNOSES:
                found = (check(m.result.node, points, what, sorted(dims.items()))
                         if check is constant_ratio else check(m.result.node, points, what))
                if found is not None:
                    return wrong(*found)
            symmetric = _holds_if_symmetric(m, node, seeds)
            if symmetric:
                names = ", ".join(name_text(n) for n in symmetric)
                declare = declaration({**m.declared, **{n: "symmetric" for n in symmetric}})
                return wrong("assumed_symmetric",
                             f"yours equals {what} when {names} {'is' if len(symmetric) == 1 else 'are'} "
                             f"symmetric, but not in general; if so, declare it with --assume \"{declare}\"")
            hit = _search(raw, definitions, known, dims, m, points, wrt)
            if hit is not None:
                edit, fixed = hit
                return wrong(edit.error_class, edit.words, fix=MatExpr(tidy(fixed)))
        return verdict(False, f"the claim disagrees with {what} {to_text(m.result.node)}, and no "
                              f"single edit (transpose, sign, constant, a missing term) repairs it",
                       "unknown", worst, counterexample=counter, claim=claim_expr,
                       seeds=tuple(points.seeds))


def _expected_points(m, seeds) -> _Points:
    """Random inputs where the expected matrix is finite: twice as many as the seeds, so that
    points where the claim is not finite can be dropped (:func:`_with_claim`)."""
    expected_fn = compile_node(m.result.node)
    values: dict[int, np.ndarray] = {}

    def accept(env, _rng) -> bool:
        want = np.broadcast_to(expected_fn(env), m.shape)
        if not finite(want):
            return False
        values[id(env)] = want
        return True

    points, _ = draw_points(m.shapes, domains(m.expr, m.declared), seeds, accept,
                            need=2 * len(tuple(seeds)))
    envs = [env for _, env in points]
    return _Points([s for s, _ in points], envs, [values[id(e)] for e in envs], [])


def _with_claim(points: _Points, claim: Node, shape, want: int) -> tuple[_Points, int]:
    """The first ``want`` points where the claim is finite too, and how many were dropped."""
    fn = compile_node(claim)
    keep, dropped = [], 0
    with np.errstate(all="ignore"):
        for i, env in enumerate(points.envs):
            try:
                value = np.broadcast_to(fn(env), shape)
            except (FloatingPointError, np.linalg.LinAlgError, ValueError):
                value = None
            if value is None or not finite(value):
                dropped += 1
                continue
            keep.append((i, value))
    keep = keep[:want]
    return _Points([points.seeds[i] for i, _ in keep], [points.envs[i] for i, _ in keep],
                   [points.expected[i] for i, _ in keep], [v for _, v in keep]), dropped


def _holds_if_symmetric(m, claim: Node, seeds) -> list[str] | None:
    """The undeclared square inputs that, made symmetric, make the claim right (2A for the
    Hessian of xᵀAx), or None."""
    square = [n for n, (r, c) in m.shapes.items()
              if r == c > 1 and n != m.wrt and n not in m.declared]
    if not square:
        return None
    kinds = {**domains(m.expr, m.declared), **{n: "symmetric" for n in square}}
    expected_fn, claim_fn = compile_node(m.result.node), compile_node(claim)
    errors = []

    def accept(env, _rng) -> bool:
        want = np.broadcast_to(expected_fn(env), m.shape)
        got = np.broadcast_to(claim_fn(env), m.shape)
        if not finite(want, got):
            return False
        errors.append(relative_error(want, got))
        return True

    points, _ = draw_points(m.shapes, kinds, [100 + s for s in seeds], accept)
    if len(points) < len(tuple(seeds)) or not max(errors) <= TOLERANCE:
        return None
    return square


def _search(raw: Node, definitions, known, dims, m, points: _Points, wrt: str):
    """The single edit of :mod:`derivekit.matrix.diagnose` that repairs the claim, as
    (edit, typed fixed claim), or None."""

    def typed(n: Node) -> Node:
        return annotate(n, known, definitions, dims=dims, infer=False, want=m.shape)[0]

    def text(n: Node) -> str:
        try:
            return to_text(typed(n))
        except Exception:  # an edited tree that does not type: its raw spelling
            try:
                return to_text(n)
            except Exception:
                return "?"

    def shape(n: Node):
        try:
            return typed(n).shape
        except (ShapeError, ValueError):
            return None

    def matches(candidate: Node) -> bool:
        try:
            node = typed(candidate)
        except (ShapeError, ValueError, ParseError):
            return False
        if node.shape != m.shape:
            return False
        try:
            fn = compile_node(node)
            return all(finite(v := np.broadcast_to(fn(env), m.shape)) and
                       relative_error(e, v) <= TOLERANCE
                       for env, e in zip(points.envs, points.expected))
        except (KeyError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            return False

    ctx = Context(activations=(), dims=tuple(sorted(dims.items())), text=text, shape=shape, wrt=wrt)
    with np.errstate(all="ignore"):
        edit = search(raw, matches, ctx)
    if edit is None:
        return None
    return edit, typed(edit.claim)


__all__ = ["DERIVATIVE_CLASSES", "DIAGNOSES", "check_derivative_claim", "label"]
