"""Tidying a raw derivative into textbook form, one recorded rewrite at a time.

:func:`tidy` tries targeted moves (recognise σ and softmax, cancel, factor, expand) and keeps
a move only when it makes the result shorter; each kept move is a
:class:`~derivekit.calculus.steps.Rewrite` naming what it did, so the renderers can show it.
A blanket ``sympy.simplify`` is never used: it turns σ′ into cosh forms.
"""

from __future__ import annotations

from collections import Counter
from math import prod

import sympy as sp

from derivekit.calculus.steps import Rewrite
from derivekit.limits import check_deadline

#: tidying is skipped when the result's arithmetic skeleton (functions and roots frozen)
#: has more operations than this: textbook tidying is for textbook-sized results
MAX_TIDY_OPS = 48
#: ``cancel`` (one fraction, common factors cancelled) is tried up to this size: it is the
#: costliest move (polynomial gcds over every frozen function)
MAX_CANCEL_OPS = 24
MAX_CANCEL_GENERATORS = 4
#: expansion is tried only when it would give at most this many terms (estimated first)
MAX_EXPANDED_TERMS = 40


def _atomize(expr: sp.Expr) -> tuple[sp.Expr, dict[sp.Dummy, sp.Expr]]:
    """Replace every non-arithmetic sub-expression (function applications, roots and other
    non-integer powers, Piecewise, Derivative, …) by a dummy, so algebraic rewrites never
    touch function arguments and stay cheap."""
    atoms: dict[sp.Expr, sp.Dummy] = {}

    def visit(node):
        if node.is_Atom:
            return node
        if isinstance(node, (sp.Add, sp.Mul)) or (isinstance(node, sp.Pow) and node.exp.is_Integer):
            return node.func(*[visit(arg) for arg in node.args])
        if isinstance(node, sp.exp):  # e^(2u) is (e^u)²: one atom, so e^u·e^u and e^(2u) meet
            power, rest = node.args[0].as_coeff_Mul()
            if power.is_Integer and power != 1 and rest != 1:
                return visit(sp.exp(rest)) ** power
        if isinstance(node, sp.Pow) and node.exp.is_Rational and node.exp.q == 2 \
                and node.exp.p != 1:  # B^(−1/2) is (√B)^(−1): one atom, so √B/√B meet
            return visit(sp.sqrt(node.base)) ** node.exp.p
        if node not in atoms:
            atoms[node] = sp.Dummy("a")
        return atoms[node]

    skeleton = visit(expr)
    return skeleton, {dummy: node for node, dummy in atoms.items()}


def _score(expr: sp.Expr) -> int:
    """Smaller is tidier: the operation count."""
    return sp.count_ops(expr)


def _factor_out(expr: sp.Expr) -> sp.Expr:
    """Common factors of a sum's terms pulled out (x·a + x·b → x(a + b), 2a − 4b → 2(a − 2b));
    other forms unchanged. Shallow on purpose: ``factor_terms`` recurses and costs more."""
    if not isinstance(expr, sp.Add):
        return expr
    coefficients, powers = [], []
    for term in expr.args:
        coefficient, rest = term.as_coeff_Mul()
        coefficients.append(coefficient)
        powers.append(rest.as_powers_dict())
    common = sp.S.One
    for base in set.intersection(*(set(p) for p in powers)):
        exponents = [p[base] for p in powers]
        if all(e.is_Rational and e.is_positive for e in exponents):
            common *= base ** min(exponents)
    if common == 1:
        return expr  # a bare number would be distributed again by SymPy: 2(a + b) = 2a + 2b
    if all(c.is_Rational for c in coefficients):
        numerators = sp.igcd(*[abs(c.p) for c in coefficients])
        denominators = sp.ilcm(*[c.q for c in coefficients])
        sign = -1 if all(c.is_negative for c in coefficients) else 1
        common *= sp.Rational(sign * numerators, denominators)
    return common * sp.Add(*[term / common for term in expr.args])


def _path_cost(path: list[tuple[str, sp.Expr]]) -> int:
    """A rewrite must pay for itself: one operation per path that changes the raw form, so
    x²cos x + 2x sin x is not refactored as x(x cos x + 2 sin x) to save one operation.
    Factoring after an expansion or a cancellation is free (that is where (σ − y)·x comes
    from)."""
    return 0 if path[0][0] in ("raw", "content") else 1  # a number moved out of a bracket is free


def _has_fraction_of_sums(expr: sp.Expr) -> bool:
    return any(t.is_Pow and t.exp.is_negative and isinstance(t.base, sp.Add)
               for t in sp.preorder_traversal(expr))


def _expansion_terms(expr: sp.Expr) -> int:
    """An upper estimate of the terms ``expand`` would produce (numerators and denominators
    alike), found without expanding: sums add, products multiply, powers multiply out."""
    if isinstance(expr, sp.Add):
        return sum(_expansion_terms(a) for a in expr.args)
    if isinstance(expr, sp.Mul):
        return prod(_expansion_terms(a) for a in expr.args)
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer:
        return _expansion_terms(expr.base) ** min(abs(int(expr.exp)), 64)
    return 1


def _has_expandable_product(expr: sp.Expr) -> bool:
    return any(isinstance(t, (sp.Mul, sp.Pow)) and any(isinstance(a, sp.Add) for a in t.args)
               for t in sp.preorder_traversal(expr))


def _cancelled_terms(before: sp.Expr, after: sp.Expr) -> list[sp.Expr]:
    """Monomials that appear when ``before`` is expanded term by term but cancel in ``after``."""
    coefficients: Counter = Counter()
    for term in sp.Add.make_args(before):
        for piece in sp.Add.make_args(sp.expand(term)):
            coefficient, monomial = piece.as_coeff_Mul()
            coefficients[monomial] += coefficient
    survivors = {piece.as_coeff_Mul()[1] for piece in sp.Add.make_args(after)}
    return [m for m, c in coefficients.items() if c == 0 and m not in survivors and m != 1]


def _common_factor(expanded: sp.Expr, factored: sp.Expr) -> sp.Expr | None:
    """The factor pulled out by ``factor_terms`` (``x`` in x·(σ − y)), if it is a product."""
    if isinstance(factored, sp.Mul):
        outer = [f for f in factored.args if not isinstance(f, sp.Add)]
        if outer:
            return sp.Mul(*outer)
    return None


def _recognise_softmax(expr: sp.Expr) -> sp.Expr:
    """Rewrite e^(zᵢ)/(e^(z₁) + … + e^(zₙ)) as softmax(i, z₁, …, zₙ) wherever it occurs."""
    from derivekit.parsing.functions import softmax

    def is_exp_sum(node):
        return isinstance(node, sp.Add) and len(node.args) > 1 and all(
            isinstance(t, sp.exp) for t in node.args)

    def numerator_exps(factors, skip):
        """(index, input, count) for each e^(k·zᵢ) or (e^(zᵢ))^k factor, k a positive integer."""
        found = []
        for k, factor in enumerate(factors):
            if k == skip:
                continue
            base, power = (factor, sp.S.One) if isinstance(factor, sp.exp) else factor.as_base_exp()
            if isinstance(base, sp.exp) and power.is_Integer and power > 0:
                coefficient, argument = base.args[0].as_coeff_Mul()
                if coefficient.is_Integer and coefficient > 0:
                    found.append((k, argument, int(coefficient * power)))
        return found

    def complement_ratio(numerator, inputs):
        """c(1 − Σⱼ softmaxⱼ) for c·(Σ e^z − Σⱼ e^(zⱼ))/Σ e^z: a sum of c·e^(zᵢ) over most
        of the inputs (−(e^(z₁) + e^(z₃))/Σ is softmax₂ − 1), else None."""
        if not isinstance(numerator, sp.Add):
            return None
        coefficients = set()
        covered = []
        for term in numerator.args:
            c, rest = term.as_coeff_Mul()
            if not isinstance(rest, sp.exp) or rest.args[0] not in inputs or rest.args[0] in covered:
                return None
            coefficients.add(c)
            covered.append(rest.args[0])
        left = [k for k, z in enumerate(inputs) if z not in covered]
        if len(coefficients) != 1 or not left or len(left) >= len(covered):
            return None
        (c,) = coefficients
        return c * (1 - sp.Add(*[softmax(k + 1, *inputs) for k in left]))

    def rewrite(node):
        if not isinstance(node, sp.Mul):
            return node
        factors = list(node.args)
        for i, factor in enumerate(factors):
            base, exponent = factor.as_base_exp()
            if not (exponent.is_Integer and -4 <= exponent < 0) or not is_exp_sum(base):
                continue
            inputs = [t.args[0] for t in base.args]
            if exponent == -1:
                for j, numerator in enumerate(factors):
                    complement = complement_ratio(numerator, inputs)
                    if j != i and complement is not None:
                        rest = [f for k, f in enumerate(factors) if k not in (i, j)]
                        return sp.Mul(complement, *rest)
                # (Σ e^z·e^(zᵢ) − e^(2zᵢ))·e^(−zᵢ)/Σ e^z, the quotient rule's form of
                # 1 − softmaxᵢ: the exponential factors multiplied out first
                symbols = set().union(*(z.free_symbols for z in inputs))
                involved = [k for k, f in enumerate(factors)
                            if k != i and f.has(sp.exp) and f.free_symbols <= symbols]
                if len(involved) > 1 and _expansion_terms(sp.Mul(*[factors[k] for k in involved])) \
                        <= MAX_EXPANDED_TERMS:
                    complement = complement_ratio(
                        sp.expand(sp.Mul(*[factors[k] for k in involved])), inputs)
                    if complement is not None:
                        rest = [f for k, f in enumerate(factors) if k != i and k not in involved]
                        return sp.Mul(complement, *rest)
            if exponent < -1:
                # e^(zᵢ)(Σ e^z − e^(zᵢ))/(Σ e^z)² is softmaxᵢ(1 − softmaxᵢ), for any n classes
                for j, numerator in enumerate(factors):
                    complement = complement_ratio(numerator, inputs) if j != i else None
                    if complement is not None:
                        rest = [f for k, f in enumerate(factors) if k not in (i, j)]
                        inner = sp.Mul(*rest, base ** (exponent + 1))
                        return sp.Mul(complement, rewrite(inner) if isinstance(inner, sp.Mul) else inner)
            matched = [m for m in numerator_exps(factors, i) if m[1] in inputs]
            if sum(count for _, _, count in matched) != -exponent:
                continue  # e^(zᵢ)·e^(zⱼ)/(Σ e^z)² is softmaxᵢ·softmaxⱼ; a partial match is left
            used = {k for k, _, _ in matched}
            rest = [f for k, f in enumerate(factors) if k != i and k not in used]
            ratios = [softmax(inputs.index(arg) + 1, *inputs) ** count for _, arg, count in matched]
            return sp.Mul(*ratios, *rest)
        return node

    return expr.replace(lambda n: isinstance(n, sp.Mul), rewrite)


def _sigmoid_complete(recognised: sp.Expr, before: sp.Expr) -> bool:
    """True when recognising σ left no e^(k·v) for the recognised arguments v behind: a
    half-recognised mix of σ and exponentials is no tidier than the exponentials alone."""
    from derivekit.parsing.functions import sigmoid
    arguments = {s.args[0] for s in recognised.atoms(sigmoid)} - {s.args[0] for s in before.atoms(sigmoid)}
    for node in recognised.atoms(sp.exp):
        for v in arguments:
            if (node.args[0] / v).is_number:
                return False
    return True


def _recognise_sigmoid(expr: sp.Expr) -> sp.Expr:
    """Rewrite e^v/(1 + e^v) as σ(v) and 1/(1 + e^v) as 1 − σ(v) (or σ(u) when v = −u),
    wherever they occur: what the logistic function's derivative chains produce."""
    from derivekit.parsing.functions import sigmoid

    def exponent_of(base):
        """v when ``base`` is 1 + e^v, else None."""
        if isinstance(base, sp.Add) and len(base.args) == 2 and sp.S.One in base.args:
            other = base.args[0] if base.args[1] == 1 else base.args[1]
            if isinstance(other, sp.exp):
                return other.args[0]
        return None

    def complement(v):
        """1/(1 + e^v) written with σ of a positively-signed argument."""
        return sigmoid(-v) if v.could_extract_minus_sign() else 1 - sigmoid(v)

    def rewrite_product(factors: list) -> list | None:
        """The factors with one 1/(1 + e^v)ⁿ (and a matching e^v) rewritten, or None."""
        for i, factor in enumerate(factors):
            base, power = factor.as_base_exp()
            v = exponent_of(base)
            if v is None or not (power.is_Integer and power < 0):
                continue
            rest, count = factors[:i] + factors[i + 1:], int(-power)
            if sp.exp(v) in rest:
                rest.remove(sp.exp(v))
                logistic = 1 - complement(v) if v.could_extract_minus_sign() else sigmoid(v)
                return [logistic, complement(v) ** (count - 1), *rest]
            return [complement(v) ** count, *rest]
        return None

    def walk(node):
        """Top-down, so a product is seen whole before its 1/(1 + e^v) factor alone."""
        if node.is_Atom:
            return node
        if isinstance(node, (sp.Mul, sp.Pow)):
            factors = rewrite_product(list(sp.Mul.make_args(node)))
            if factors is not None:
                return walk(sp.Mul(*factors))
        args = [walk(arg) for arg in node.args]
        return node if args == list(node.args) else node.func(*args)

    return walk(expr)


def _plain(expr: sp.Expr) -> str:
    return sp.sstr(expr)


def tidy(raw: sp.Expr, order: int = 1, wrt: sp.Symbol | None = None) -> tuple[sp.Expr, list[Rewrite]]:
    """Bring ``raw`` into textbook form; return it and the rewrites that got there.

    1. recognise softmax, e^(zᵢ)/Σⱼ e^(zⱼ), before and after tidying the algebra
       (:func:`_tidy_algebra`: expand, cancel, factor out, or leave); when recognising it
       first changed something, the route that tidies the algebra first is tried too and the
       tidier result kept (−log softmax₁ needs the cancellation before the softmax shows);
    2. recognise the sigmoid, e^v/(1 + e^v) = σ(v), and tidy the algebra once more; the
       route that expands a quotient's numerator before recognising σ is tried too
       (e^(−z)/(1 + e^(−z)) gives −e^(−z)/(1 + e^(−z))², which is −σ(z)(1 − σ(z)));
    3. for two classes, softmax₂ = 1 − softmax₁ (or the other way round when ``wrt``, the
       variable differentiated, is z₂: the diagonal entry keeps its own class).

    The result is never longer (in operations, :func:`_score`) than ``raw``.
    """
    current, rewrites = _tidy_softmax(raw, order, softmax_first=True)
    if rewrites and rewrites[0].before is raw and "softmax" in rewrites[0].description:
        other, other_rewrites = _tidy_softmax(raw, order, softmax_first=False)
        if _score(other) < _score(current):
            current, rewrites = other, other_rewrites
    current = _sigmoid_route(current, rewrites, order)
    numerator, denominator = sp.fraction(raw)
    if denominator != 1 and raw.has(sp.exp) and _expansion_terms(numerator) <= MAX_EXPANDED_TERMS:
        expanded = sp.expand(numerator, power_base=False, power_exp=False, log=False) / denominator
        if expanded != raw:
            other_rewrites = [Rewrite("Expand the numerator", raw, expanded, order=order)]
            other = _sigmoid_route(expanded, other_rewrites, order)
            if other.has(sigmoid_function()) and _score(other) < _score(current):
                current, rewrites = other, other_rewrites
    if _score(current) > _score(raw):
        return raw, []  # tidying never makes a result longer
    outside = _number_out(current)
    if outside is not current:
        rewrites.append(Rewrite(f"Take the common factor {outside.args[0]} out", current, outside,
                                order=order))
        current = outside
    paired = _two_class_softmax(current, wrt)  # s₁s₂ → s₁(1 − s₁): two operations for the textbook's form
    if paired != current and _score(paired) <= _score(raw):
        from derivekit.parsing.functions import softmax
        gone = sorted(current.atoms(softmax) - paired.atoms(softmax), key=sp.default_sort_key)
        kept = [s.func(3 - int(s.index), *s.inputs) for s in gone]
        rewrites.append(Rewrite("For two classes the probabilities add up to 1: {identities}",
                                current, paired, order=order,
                                detail={"identities": [sp.Eq(g, 1 - k, evaluate=False)
                                                       for g, k in zip(gone, kept)]}))
        current = paired
    return current, rewrites


def _number_out(expr: sp.Expr) -> sp.Expr:
    """2b + 2wx − 2y as 2(b + wx − y), held unevaluated (SymPy would distribute the 2 again),
    when that is shorter; the same tidy whichever variable was differentiated. Else ``expr``."""
    if not isinstance(expr, sp.Add):
        return expr
    content, primitive = expr.primitive()
    if all(term.could_extract_minus_sign() for term in expr.args):
        content, primitive = -content, -primitive
    if content == 1 or not isinstance(primitive, sp.Add):
        return expr
    factored = sp.Mul(content, primitive, evaluate=False)
    return factored if _score(factored) <= _score(expr) else expr


def sigmoid_function():
    from derivekit.parsing.functions import sigmoid
    return sigmoid


def _sigmoid_route(current: sp.Expr, rewrites: list[Rewrite], order: int) -> sp.Expr:
    """σ recognised in ``current`` (when it leaves no exponential of its argument behind),
    then the algebra tidied; appends the moves taken."""
    recognised = _recognise_sigmoid(current)
    if recognised != current and _sigmoid_complete(recognised, current):
        rewrites.append(Rewrite("Recognise the sigmoid: {identities}", current, recognised,
                                order=order,
                                detail={"identities": _sigmoid_identities(current, recognised)}))
        current = _tidy_algebra(recognised, rewrites, order)
    return current


def _sigmoid_identities(before: sp.Expr, after: sp.Expr) -> list[sp.Eq]:
    """The identities used, written with the argument and the sign of the exponent the
    expression has (exp(−z)/(exp(−z) + 1) = 1 − σ(z)), so that no placeholder is left
    undefined."""
    sigmoid = sigmoid_function()
    new = sorted({s.args[0] for s in after.atoms(sigmoid)} - {s.args[0] for s in before.atoms(sigmoid)},
                 key=sp.default_sort_key)
    identities = []
    for v in new:
        if before.has(sp.exp(-v)):
            identities += [sp.Eq(sp.exp(-v) / (sp.exp(-v) + 1), 1 - sigmoid(v), evaluate=False),
                           sp.Eq(1 / (sp.exp(-v) + 1), sigmoid(v), evaluate=False)]
        else:
            identities += [sp.Eq(sp.exp(v) / (sp.exp(v) + 1), sigmoid(v), evaluate=False),
                           sp.Eq(1 / (sp.exp(v) + 1), 1 - sigmoid(v), evaluate=False)]
    return identities


def _two_class_softmax(expr: sp.Expr, wrt: sp.Symbol | None = None) -> sp.Expr:
    """softmax(z₁, z₂)₁·softmax(z₁, z₂)₂ written sᵢ(1 − sᵢ), keeping the class whose input
    is the variable differentiated (∂s₂/∂z₂ = s₂(1 − s₂)), else the lower index: with two
    classes the probabilities sum to 1, and the diagonal form is the textbook's. A negative
    product is the off-diagonal −sᵢsⱼ and stays."""
    from derivekit.parsing.functions import softmax

    def rewrite(node):
        if node.could_extract_minus_sign():
            return node  # −s₁s₂ is the off-diagonal entry ∂s₁/∂z₂, already textbook
        pairs = [f for f in node.args if isinstance(f, softmax) and len(f.args) == 3]
        for first in pairs:
            for second in pairs:
                if first.args[1:] == second.args[1:] and first.args[0] < second.args[0]:
                    if wrt is not None and second.inputs[int(second.index) - 1] == wrt:
                        first, second = second, first
                    rest = list(node.args)
                    rest.remove(second)
                    return sp.Mul(*rest, 1 - first)
        return node

    return expr.replace(lambda n: isinstance(n, sp.Mul), rewrite)


def _softmax_rewrite(before: sp.Expr, after: sp.Expr, order: int) -> Rewrite:
    """Recognising softmax, with the identity written for the expression's own inputs
    (exp(z₁)/(exp(z₁) + exp(z₂)) = softmax(z₁, z₂)₁), printed as math in every format."""
    from derivekit.parsing.functions import softmax
    new = sorted(after.atoms(softmax) - before.atoms(softmax), key=sp.default_sort_key)
    identities = []
    for s in new[:3]:
        total = sp.Add(*[sp.exp(z) for z in s.inputs])
        mine = sp.exp(s.inputs[int(s.index) - 1])
        identities.append(sp.Eq(mine / total, s, evaluate=False))
        if after.has(1 - s) and not before.has(1 - s):  # the rest of the sum: 1 − sᵢ
            identities.append(sp.Eq((total - mine) / total, 1 - s, evaluate=False))
    if not identities or identities == [sp.Eq(before, after, evaluate=False)]:
        return Rewrite("Recognise softmax", before, after, order=order)  # the line says it
    return Rewrite("Recognise softmax: {identities}", before, after, order=order,
                   detail={"identities": identities})


def _tidy_softmax(raw: sp.Expr, order: int, softmax_first: bool) -> tuple[sp.Expr, list[Rewrite]]:
    """Softmax recognised (first, if asked, and after the algebra) and the algebra tidied."""
    rewrites: list[Rewrite] = []
    current = raw
    if softmax_first:
        recognised = _recognise_softmax(current)
        if recognised != current:
            rewrites.append(_softmax_rewrite(current, recognised, order))
            current = recognised
    current = _tidy_algebra(current, rewrites, order)
    recognised = _recognise_softmax(current)  # the algebra can bring e^(zᵢ)/Σⱼ e^(zⱼ) out
    if recognised != current:
        rewrites.append(_softmax_rewrite(current, recognised, order))
        current = _tidy_algebra(recognised, rewrites, order)
    return current, rewrites


def _tidy_algebra(current: sp.Expr, rewrites: list[Rewrite], order: int) -> sp.Expr:
    """The tidiest of a few algebraic forms of ``current``; appends the moves taken.

    Candidates (on the arithmetic skeleton, function applications frozen): the form as it
    is, its expansion (terms that cancel are named), the expansion with common factors
    pulled out, the expansion with the terms in each softmaxᵢ collected (the multi-class
    cross-entropy's softmaxᵢ·Σyₖ − yᵢ), and — for quotients — the numerator expanded over the same denominator, or
    one fraction with common factors cancelled. The
    tidiest by operation count wins, where rewriting at all costs one operation
    (:func:`_path_cost`); ties keep the less rewritten form, so σ(u)(1 − σ(u)) stays as is.
    """
    from derivekit.parsing.functions import softmax
    check_deadline()
    skeleton, atoms = _atomize(current)
    size = sp.count_ops(skeleton)
    if size > MAX_TIDY_OPS:
        return current

    def back(e):
        return e.xreplace(atoms)

    paths = [[("raw", skeleton)], [("factor", _factor_out(skeleton))]]
    if isinstance(skeleton, sp.Mul) and any(isinstance(f, sp.Add) for f in skeleton.args):
        # 2x(σ − y)σ(1 − σ), not x(2σ − 2y)σ(1 − σ): a sum factor's common number in front
        paths.append([("content", _content_out(skeleton))])
    if _has_expandable_product(skeleton) and _expansion_terms(skeleton) <= MAX_EXPANDED_TERMS:
        expanded = sp.expand(skeleton, power_base=False, power_exp=False, log=False)
        if sp.count_ops(expanded) <= 2 * size + 10:  # an expansion that blows up never wins
            paths += [[("expand", expanded)], [("expand", expanded), ("factor", _factor_out(expanded))]]
            # softmax₁(y₁ + y₂ + y₃) − y₁, the cross-entropy's gradient: terms in softmaxᵢ gathered
            ratios = [d for d, node in atoms.items() if isinstance(node, softmax)]
            if ratios and isinstance(expanded, sp.Add):
                paths.append([("expand", expanded), ("collect", sp.collect(expanded, ratios))])
    numerator, denominator = sp.fraction(skeleton)
    if denominator != 1 and _has_expandable_product(numerator) \
            and _expansion_terms(numerator) <= MAX_EXPANDED_TERMS:
        tidier = sp.expand(numerator, power_base=False, power_exp=False, log=False) / denominator
        paths += [[("numerator", tidier)], [("numerator", tidier), ("factor", _factor_out(tidier))]]
    if (size <= MAX_CANCEL_OPS and len(skeleton.free_symbols) <= MAX_CANCEL_GENERATORS
            and _has_fraction_of_sums(skeleton)):
        cancelled = sp.cancel(skeleton)
        if sp.count_ops(cancelled) <= 2 * size + 10:
            paths.append([("cancel", cancelled), ("factor", _factor_out(cancelled))])
    if (size <= MAX_CANCEL_OPS and len(skeleton.free_symbols) <= MAX_CANCEL_GENERATORS
            and isinstance(skeleton, (sp.Add, sp.Mul)) and any(
                isinstance(t, sp.Pow) and t.exp.is_Integer and t.exp > 1
                for t in sp.preorder_traversal(skeleton))):
        # σ(1 − σ)(1 − 2σ) out of 2σ³ − 3σ² + σ: the second derivatives of σ and friends
        paths.append([("polynomial", _leading_ones_positive(sp.factor(skeleton)))])
    # scored with the frozen pieces put back: a repeated H(9x + 3y) costs its full length
    radicands = {d: node.base for d, node in atoms.items() if isinstance(node, sp.Pow)
                 and node.exp == sp.S.Half and node.base.is_rational_function()}
    if radicands and size <= MAX_CANCEL_OPS and _has_fraction(skeleton):
        # 1/√(x²+1)·x² − √(x²+1) over one denominator, (√(x²+1))² = x² + 1 used
        paths.append([("radical", _over_radicals(skeleton, radicands))])
    elif size <= MAX_CANCEL_OPS and isinstance(skeleton, sp.Add) and _has_fraction(skeleton):
        paths.append([("together", sp.together(skeleton))])
    best = min(paths, key=lambda path: (_score(back(path[-1][1])) + _path_cost(path), len(path)))
    previous = skeleton
    for move, value in best:
        if value == previous or move == "raw":
            continue
        rewrites.append(_describe(move, previous, value, back, order))
        previous = value
    return back(previous) if previous is not skeleton else current


def _has_fraction(expr: sp.Expr) -> bool:
    return any(t.is_Pow and t.exp.is_negative for t in sp.preorder_traversal(expr))


def _over_radicals(skeleton: sp.Expr, radicands: dict) -> sp.Expr:
    """``skeleton`` over one denominator, each (√B)^k with |k| ≥ 2 written B^(k // 2)·√B^(k % 2)
    and the numerator expanded: x²/√(x²+1) − √(x²+1) = (x² − (x² + 1))/√(x²+1) = −1/√(x²+1)."""
    def reduce(expr):
        return expr.replace(
            lambda n: isinstance(n, sp.Pow) and n.base in radicands and n.exp.is_Integer
            and abs(n.exp) >= 2,
            lambda n: radicands[n.base] ** (int(n.exp) // 2) * n.base ** (int(n.exp) % 2))
    numerator, denominator = sp.fraction(sp.together(skeleton))
    numerator = sp.expand(reduce(sp.expand(numerator)))
    return _factor_out(numerator) / reduce(denominator)


def _content_out(product: sp.Mul) -> sp.Expr:
    """The product with each sum factor's common number moved in front: x(2σ − 2y) → 2x(σ − y)."""
    number, factors = sp.S.One, []
    for factor in product.args:
        if isinstance(factor, sp.Add):
            content, factor = factor.primitive()
            number *= content
        factors.append(factor)
    return sp.Mul(number, *factors)


def _leading_ones_positive(expr: sp.Expr) -> sp.Expr:
    """(1 − s)(1 − 2s) rather than (s − 1)(2s − 1): each factor c − v with c < 0 of an odd
    power is negated, the signs collected in front."""
    if not isinstance(expr, sp.Mul):
        return expr
    sign, factors = 1, []
    for factor in expr.args:
        base, power = factor.as_base_exp()
        if isinstance(base, sp.Add) and power.is_Integer and base.as_coeff_Add()[0].is_negative:
            factor = (-base) ** power
            sign *= (-1) ** int(power)
        factors.append(factor)
    return sign * sp.Mul(*factors)


def _factor_sentence(before: sp.Expr, back) -> tuple[str, dict]:
    """The factoring move named for what it factors: a polynomial, a rational function, or
    one in frozen pieces such as exp(z1) (never "polynomial" for a quotient of exponentials);
    with the pieces as ``detail``, so that they are printed as math."""
    numerator, denominator = sp.fraction(before)
    pieces = sorted((back(d) for d in before.free_symbols if back(d) != d), key=sp.default_sort_key)
    if not pieces:
        return ("Factor the polynomial" if denominator == 1
                else "Factor numerator and denominator"), {}
    if denominator == 1:
        return "Factor, treating {pieces} as unknowns", {"pieces": pieces}
    return "Factor numerator and denominator, treating {pieces} as unknowns", {"pieces": pieces}


def _describe(move: str, before, after, back, order: int) -> Rewrite:
    """One Rewrite with its description written out (and its pieces in ``detail``)."""
    if move == "expand":
        gone = _cancelled_terms(before, after)
        if gone:
            # each ±term is one formula ($…$), so ± is printed with its term as math
            names = ", ".join(f"$±{{cancelled_{k}}}$" for k in range(len(gone)))
            text = f"Expand the products; the terms {names} cancel"
            return Rewrite(text, back(before), back(after), order=order,
                           detail={"cancelled": [back(m) for m in gone],
                                   **{f"cancelled_{k}": back(m) for k, m in enumerate(gone)}})
        return Rewrite("Expand the products", back(before), back(after), order=order)
    if move == "factor":
        factor = _common_factor(before, after)
        if factor is not None:
            return Rewrite(f"Factor out the common factor {_plain(back(factor))}", back(before),
                           back(after), order=order, detail={"factor": back(factor)})
        return Rewrite("Collect common factors", back(before), back(after), order=order)
    if move == "numerator":
        return Rewrite("Expand the numerator", back(before), back(after), order=order)
    if move == "content":
        return Rewrite("Take the common number out of each bracket", back(before), back(after),
                       order=order)
    if move == "collect":
        from derivekit.parsing.functions import softmax
        gathered = [back(f) for term in sp.Add.make_args(after) if isinstance(term, sp.Mul)
                    and any(isinstance(f, sp.Add) for f in term.args)
                    for f in term.args if isinstance(back(f), softmax)]
        names = ", ".join(_plain(g) for g in gathered) or "softmax"
        return Rewrite(f"Collect the terms in {names}", back(before), back(after), order=order,
                       detail={"collected": gathered})
    if move == "polynomial":
        text, detail = _factor_sentence(before, back)
        return Rewrite(text, back(before), back(after), order=order, detail=detail)
    if move == "radical":
        roots = sorted((back(d) for d in before.free_symbols if d in after.free_symbols
                        and isinstance(back(d), sp.Pow) and back(d).exp == sp.S.Half),
                       key=sp.default_sort_key)
        squares = [sp.Eq(sp.Pow(r, 2, evaluate=False), r.base, evaluate=False) for r in roots]
        text = "Write over a common denominator" + (" and use {squares}" if squares else "")
        return Rewrite(text, back(before), back(after), order=order,
                       detail={"squares": squares} if squares else {})
    if move == "together":
        return Rewrite("Write over a common denominator", back(before), back(after), order=order)
    return Rewrite("Write as one fraction and cancel common factors", back(before), back(after),
                   order=order)

