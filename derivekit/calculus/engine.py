"""The step engine: memoised application of the rule table, one :class:`Engine` per derivation.

The engine is the ``Context`` the rules of :mod:`derivekit.calculus.rules` call back into: it
derives sub-expressions (memoised on (expression, variable), so a repeated compound
sub-derivation becomes a ``ref`` step), and hands out substitution names u₁, u₂, … that the
input does not already use.
"""

from __future__ import annotations

import itertools
from typing import Iterable

import sympy as sp

from derivekit.calculus.rules import apply_rule
from derivekit.calculus.steps import Step
from derivekit.errors import LimitError
from derivekit.limits import check_deadline

#: the most nodes one expression may have for a step-by-step derivation
MAX_STEP_NODES = 4_000


def node_count(expr: sp.Basic, cap: int) -> int:
    """Nodes in ``expr``'s tree, counting up to ``cap`` (cheap for huge inputs)."""
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if count > cap:
            break
    return count


class Engine:
    """One derivation's state: the memo of sub-derivations, labels, and substitution names.

    Implements the ``Context`` the rules use. Share one engine across the entries of a
    matrix so that common sub-derivations are derived once.
    """

    def __init__(self, exprs: Iterable[sp.Basic]):
        self._memo: dict[tuple[sp.Expr, sp.Symbol], Step] = {}
        self._names: dict[sp.Expr, sp.Symbol] = {}
        self._taken = {s.name for e in exprs for s in e.free_symbols}
        self._name_counter = itertools.count(1)
        self._label_counter = itertools.count(1)
        self.labelled: dict[str, Step] = {}

    def derive(self, expr: sp.Expr, var: sp.Symbol) -> Step:
        """The step for d expr/d var; a repeat of a compound sub-derivation is a ``ref``."""
        check_deadline()
        key = (expr, var)
        done = self._memo.get(key)
        if done is None:
            done = apply_rule(expr, var, self)
            self._memo[key] = done
            return done
        if not done.substeps:
            return done  # one-line rules (x′ = 1, c′ = 0) are simply repeated
        if done.label is None:
            done.label = f"S{next(self._label_counter)}"
            self.labelled[done.label] = done
        return Step(rule=done.rule, expr=expr, var=var, result=done.result,
                    detail=dict(done.detail), ref=done.label)

    def name_for(self, inner: sp.Expr) -> sp.Symbol:
        """u₁, u₂, …: one name per distinct inner expression, never one the input uses."""
        if inner not in self._names:
            while True:
                name = f"u_{next(self._name_counter)}"
                if name not in self._taken:
                    break
            self._names[inner] = sp.Symbol(name)
        return self._names[inner]

    def root(self, expr: sp.Expr, var: sp.Symbol) -> Step:
        """The top step of d expr/d var, noting the other symbols held constant."""
        if node_count(expr, MAX_STEP_NODES) > MAX_STEP_NODES:
            raise LimitError(f"the expression has more than {MAX_STEP_NODES} nodes, too many "
                             "for a step-by-step derivation",
                             hint="ask for the result without steps (steps=False, or --no-steps)")
        step = self.derive(expr, var)
        constants = sorted((s for s in expr.free_symbols if s != var), key=sp.default_sort_key)
        if constants and "constants" not in step.detail:
            step.detail["constants"] = constants  # a partial derivative: say what is held fixed
        return step

