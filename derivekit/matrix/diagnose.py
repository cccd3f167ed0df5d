"""Diagnosing a wrong backprop claim by searching single edits of its expression tree.

Each edit generator below stands for one error class that students make. An edit that
turns the claim into one matching the correct gradient (numerically, on every seed) names
the mistake. Generators run in table order, cheapest and most specific first; the first
match wins. Edits are made on the parsed (untyped) tree, so a claim that does not even
type-check (a transposed factor with pairwise-distinct sizes) can still be repaired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from derivekit.matrix.expr import Const, Node

#: error class -> plain-words headline
CLASSES: dict[str, str] = {
    "transposed_factor": "a transposed factor",
    "missing_activation_derivative": "a missing elementwise activation derivative",
    "activation_instead_of_derivative": "the activation used instead of its derivative",
    "missing_factor_2": "a missing factor 2",
    "missing_1_over_N": "a missing 1/N",
    "wrong_sign": "the wrong sign",
    "constant_off": "a constant factor off",
    "bias_not_summed": "the bias gradient not summed over the batch",
    "xt_wrong_side": "xᵀ on the wrong side",
    "extra_factor": "an extra factor",
    "wrong_activation_derivative": "the derivative of the wrong activation, or at the wrong layer",
    "norm_statistics_constant": "the mean and variance treated as constants",
    "softmax_jacobian_dropped": "the softmax Jacobian dropped",
    "target_missing": "the target term missing",
    "regulariser_missing": "the regulariser's gradient missing",
    "assumed_symmetric": "a result that holds only for a symmetric matrix",
    "needs_assumption": "a result that holds only under an undeclared assumption",
    "cannot_check": "nothing to compare: too few random inputs give finite values",
    "shape": "a shape mismatch",
    "unknown": "a mistake that no single edit explains",
}

_DERIVATIVE = {"sigmoid": "sigmoid_prime", "tanh": "tanh_prime", "relu": "relu_prime",
               "leaky_relu": "leaky_relu_prime"}


@dataclass(frozen=True)
class Edit:
    error_class: str
    words: str          # what the edit changes, in plain words
    claim: Node         # the edited (untyped) claim


@dataclass(frozen=True)
class Context:
    """What the search knows about the loss: activation sites (f, z name, a name or None)
    and named sizes (N -> 5)."""

    activations: tuple[tuple[str, str, str | None], ...]
    dims: tuple[tuple[str, int], ...]
    text: Callable[[Node], str]
    shape: Callable[[Node], tuple | None] = lambda node: None
    #: names of normalised intermediates x̂ = (x − μ)/√(σ² + ε)
    normalised: tuple[str, ...] = ()
    #: softmax intermediates (name, axis: 0, 1 or None)
    softmaxes: tuple[tuple[str, int | None], ...] = ()
    #: target inputs (y, Y): inputs a loss compares the prediction with
    targets: tuple[str, ...] = ()
    #: the variable differentiated, and the loss's numeric constants (regulariser weights)
    wrt: str = ""
    loss_constants: tuple[float, ...] = ()


def _paths(node: Node, path=()) -> Iterator[tuple[tuple[int, ...], Node]]:
    yield path, node
    for i, arg in enumerate(node.args):
        yield from _paths(arg, path + (i,))


def _replace(node: Node, path: tuple[int, ...], new: Node) -> Node:
    if not path:
        return new
    args = list(node.args)
    args[path[0]] = _replace(args[path[0]], path[1:], new)
    return Node(node.op, tuple(args), node.attr, node.shape)


def _const(value: float, c: Const | None = None) -> Node:
    return Node("const", (), c or Const.of(value), (1, 1))


def _raw(op, *args, attr=None) -> Node:
    return Node(op, tuple(args), attr, None)


def _is_input(node: Node) -> bool:
    """x, X, a₁, h (possibly transposed or scaled): the layer input that a weight gradient
    multiplies by on the right."""
    if node.op in ("T", "neg"):
        return _is_input(node.args[0])
    if node.op in ("mul", "div", "juxt"):
        return any(_is_input(a) for a in node.args)
    return node.op in ("var", "ref") and str(node.attr)[:1] in "xXaAhH"


def _product(node: Node) -> Node | None:
    """The matrix product under a sign or a scalar factor, if the node is one."""
    if node.op in ("matmul", "juxt"):
        return node
    if node.op == "neg":
        return _product(node.args[0])
    if node.op == "mul":
        return _product(node.args[1]) or _product(node.args[0])
    return None


def whole_transposed(claim: Node, ctx: Context) -> Iterator[Edit]:
    product = _product(claim)
    if product is not None and any(_is_input(a) for a in product.args):
        yield Edit("xt_wrong_side", "the whole product is transposed: the factors are in the wrong order",
                   _raw("T", claim))
    else:
        # X⁻¹ for X⁻ᵀ: no product to reorder, the result itself needs its transpose
        yield Edit("transposed_factor", "the whole result should be transposed", _raw("T", claim))


#: batch sums: column-major batches are columns (δ𝟙, rowsum), row-major ones rows (𝟙ᵀδ, colsum)
_BATCH_SUMS = (("rowsum", "sum the columns over the batch (δ𝟙)"),
               ("colsum", "sum the rows over the batch (𝟙ᵀδ)"))


def summed_over_batch(claim: Node, ctx: Context) -> Iterator[Edit]:
    for op, words in _BATCH_SUMS:
        yield Edit("bias_not_summed", words, _raw(op, claim))
    for op, words in _BATCH_SUMS:
        for name, size in ctx.dims:
            yield Edit("bias_not_summed", f"{words.split(' (')[0]} and divide by {name}",
                       _raw("mul", _const(1.0 / size, Const.dim(name, size).reciprocal()),
                            _raw(op, claim)))


def swapped_products(claim: Node, ctx: Context) -> Iterator[Edit]:
    for path, node in _paths(claim):
        if node.op in ("matmul", "juxt"):
            a, b = node.args
            cls = "xt_wrong_side" if (_is_input(a) or _is_input(b)) else "transposed_factor"
            yield Edit(cls, f"swap the factors of {ctx.text(node)}", _replace(claim, path, _raw(node.op, b, a)))
            # the transpose on the wrong factor: δᵀx for δxᵀ (and aᵀB for aBᵀ)
            plain_a, plain_b = _strip_transpose(a), _strip_transpose(b)
            if plain_a is not None and plain_b is None:
                moved = _raw(node.op, plain_a, _raw("T", b))
                yield Edit(cls, f"the transpose belongs on {ctx.text(b)}, not on {ctx.text(plain_a)}: "
                                f"{ctx.text(moved)}", _replace(claim, path, moved))
            if plain_b is not None and plain_a is None:
                moved = _raw(node.op, _raw("T", a), plain_b)
                yield Edit(cls, f"the transpose belongs on {ctx.text(a)}, not on {ctx.text(plain_b)}: "
                                f"{ctx.text(moved)}", _replace(claim, path, moved))


def _strip_transpose(node: Node) -> Node | None:
    """``node`` without its outer transpose (Aᵀ, −Aᵀ, 2Aᵀ, (2/N)Aᵀ → A, −A, 2A, (2/N)A), or None."""
    if node.op == "T":
        return node.args[0]
    if node.op == "neg":
        inner = _strip_transpose(node.args[0])
        return None if inner is None else _raw("neg", inner)
    if node.op in ("mul", "juxt") and not any(n.op == "T" for n in node.args[0].walk()):
        inner = _strip_transpose(node.args[1])
        return None if inner is None else _raw(node.op, node.args[0], inner)
    return None


def toggled_transposes(claim: Node, ctx: Context) -> Iterator[Edit]:
    for path, node in _paths(claim):
        if node.op == "T":
            yield Edit("transposed_factor", f"{ctx.text(node)} should not be transposed",
                       _replace(claim, path, node.args[0]))
        elif node.op in ("var", "ref") or (node.args and node.op not in ("const",)):
            if node.op in ("const", "ones", "eye"):
                continue
            yield Edit("transposed_factor", f"{ctx.text(node)} should be transposed",
                       _replace(claim, path, _raw("T", node)))


def activation_for_derivative(claim: Node, ctx: Context) -> Iterator[Edit]:
    for path, node in _paths(claim):
        if node.op == "func" and node.attr in _DERIVATIVE:
            fixed = _raw("func", node.args[0], attr=_DERIVATIVE[node.attr])
            yield Edit("activation_instead_of_derivative",
                       f"{ctx.text(node)} should be its derivative {ctx.text(fixed)}",
                       _replace(claim, path, fixed))
        if node.op in ("var", "ref"):
            for f, z, a in ctx.activations:
                if a is not None and node.attr == a and f in _DERIVATIVE:
                    fixed = _raw("func", _raw("var", attr=z), attr=_DERIVATIVE[f])
                    yield Edit("activation_instead_of_derivative",
                               f"{ctx.text(node)} = {ctx.text(_raw('func', _raw('var', attr=z), attr=f))}"
                               f" should be its derivative {ctx.text(fixed)}",
                               _replace(claim, path, fixed))


def inserted_derivative(claim: Node, ctx: Context) -> Iterator[Edit]:
    for f, z, _a in ctx.activations:
        if f not in _DERIVATIVE:
            continue
        factor = _raw("func", _raw("var", attr=z), attr=_DERIVATIVE[f])
        want = ctx.shape(_raw("var", attr=z))
        for path, node in sorted(_paths(claim), key=lambda pn: pn[1].size()):
            if node.op in ("const",) or (want is not None and ctx.shape(node) not in (want, None)):
                continue
            yield Edit("missing_activation_derivative",
                       f"multiply {ctx.text(node)} elementwise by {ctx.text(factor)}",
                       _replace(claim, path, _raw("mul", node, factor)))


def _constants(ctx: Context):
    yield 2.0, Const.of(2.0), "missing_factor_2", "a factor 2 is missing"
    yield -1.0, Const.of(-1.0), "wrong_sign", "the sign is wrong"
    for name, size in ctx.dims:
        c = Const.dim(name, size).reciprocal()
        yield 1.0 / size, c, "missing_1_over_N", f"the factor 1/{name} is missing"
        yield 2.0 / size, c * Const.of(2.0), "missing_1_over_N", f"the factor 2/{name} is missing"
    yield 0.5, Const.of(0.5), "constant_off", "there is an extra factor 2"
    for name, size in ctx.dims:
        yield float(size), Const.dim(name, size), "constant_off", f"there is an extra factor {name}"


def swapped_derivatives(claim: Node, ctx: Context) -> Iterator[Edit]:
    """f′(z) where the network has g at z, or f′ taken at another layer's z."""
    primes = sorted(set(_DERIVATIVE.values()))
    z_names = sorted({z for _, z, _ in ctx.activations})
    for path, node in _paths(claim):
        if node.op != "func" or node.attr not in primes:
            continue
        for other in primes:
            if other != node.attr:
                fixed = _raw("func", node.args[0], attr=other)
                yield Edit("wrong_activation_derivative",
                           f"{ctx.text(node)} should be {ctx.text(fixed)}", _replace(claim, path, fixed))
        arg = node.args[0]
        if arg.op in ("var", "ref") and arg.attr in z_names:
            for z in z_names:
                if z != arg.attr:
                    fixed = _raw("func", _raw("var", attr=z), attr=node.attr)
                    yield Edit("wrong_activation_derivative",
                               f"{ctx.text(node)} is taken at the wrong layer: {ctx.text(fixed)}",
                               _replace(claim, path, fixed))


def scaled_subterms(claim: Node, ctx: Context) -> Iterator[Edit]:
    for path, node in _paths(claim):
        if not path or node.op == "const":
            continue
        for value, c, cls, words in _constants(ctx):
            yield Edit(cls, f"in {ctx.text(node)}: {words}",
                       _replace(claim, path, _raw("mul", _const(value, c), node)))


def dropped_factors(claim: Node, ctx: Context) -> Iterator[Edit]:
    for path, node in _paths(claim):
        if node.op in ("matmul", "mul", "juxt"):
            for keep, drop in ((0, 1), (1, 0)):
                yield Edit("extra_factor", f"the factor {ctx.text(node.args[drop])} does not belong",
                           _replace(claim, path, node.args[keep]))


def inner_sums(claim: Node, ctx: Context) -> Iterator[Edit]:
    for op, _words in _BATCH_SUMS:
        for path, node in _paths(claim):
            if path and node.args:
                yield Edit("bias_not_summed", f"sum {ctx.text(node)} over the batch",
                           _replace(claim, path, _raw(op, node)))


def _var(name: str) -> Node:
    return _raw("var", attr=name)


#: averages along one axis: (op, words); a dim's 1/n turns a sum into a mean
_AXIS_SUMS = (("colsum", "over the rows"), ("rowsum", "over the columns"))


def _averages(ctx: Context):
    """(function building the mean of a node along an axis, words)."""
    yield (lambda n: _raw("mean", n)), "over all entries"
    for op, words in _AXIS_SUMS:
        for name, size in ctx.dims:
            c = Const.dim(name, size).reciprocal()
            yield (lambda n, op=op, c=c, size=size: _raw("mul", _const(1.0 / size, c), _raw(op, n))), \
                f"{words} ({name} of them)"


def norm_statistics_paths(claim: Node, ctx: Context) -> Iterator[Edit]:
    """Batch or layer norm differentiated with μ and σ² held constant: for x̂ = (x − μ)/σ
    the claim is C = ∂L/∂x̂ / σ, the path through x̂ alone. Adding the paths through μ and σ²
    gives ∂L/∂x = C − mean(C) − x̂ ⊙ mean(C ⊙ x̂), the means taken along the normalised axis."""
    for xh in ctx.normalised:
        for mean, words in _averages(ctx):
            fixed = _raw("sub", _raw("sub", claim, mean(claim)),
                         _raw("mul", _var(xh), mean(_raw("mul", claim, _var(xh)))))
            yield Edit("norm_statistics_constant",
                       f"μ and σ² depend on the input too, and their paths were dropped: "
                       f"with C = {ctx.text(claim)}, the gradient is C − mean(C) − {xh} ⊙ mean(C ⊙ {xh}), "
                       f"the means taken {words}", fixed)


def softmax_jacobian(claim: Node, ctx: Context) -> Iterator[Edit]:
    """Attention (or any softmax A = softmax(S)) differentiated as if ∂A/∂S were the identity:
    the claim uses ∂L/∂A where ∂L/∂S = A ⊙ (∂L/∂A − rowsum(∂L/∂A ⊙ A)) belongs (the softmax
    Jacobian diag(a) − aaᵀ applied row by row, or column by column for axis 0)."""
    for a, axis in ctx.softmaxes:
        want = ctx.shape(_var(a))
        op = {1: "rowsum", 0: "colsum"}.get(axis, "sum")
        for path, node in sorted(_paths(claim), key=lambda pn: pn[1].size()):
            if node.op == "const" or (want is not None and ctx.shape(node) not in (want, None)):
                continue
            fixed = _raw("mul", _var(a), _raw("sub", node, _raw(op, _raw("mul", node, _var(a)))))
            yield Edit("softmax_jacobian_dropped",
                       f"{ctx.text(node)} is ∂L/∂{a}; the softmax's input needs "
                       f"{ctx.text(fixed)}, i.e. {a} ⊙ (dA − {op}(dA ⊙ {a}))",
                       _replace(claim, path, fixed))


def target_subtracted(claim: Node, ctx: Context) -> Iterator[Edit]:
    """The target forgotten: softmax(Z) (or σ(z), the prediction) where the loss's gradient
    is prediction − Y, the derivative of cross-entropy (or of ½‖ŷ − y‖²) at the logits."""
    for y in ctx.targets:
        want = ctx.shape(_var(y))
        for path, node in sorted(_paths(claim), key=lambda pn: pn[1].size()):
            if node.op == "const" or node.attr == y or (want is not None and ctx.shape(node) not in (want, None)):
                continue
            fixed = _raw("sub", node, _var(y))
            yield Edit("target_missing", f"{ctx.text(node)} should be {ctx.text(fixed)}", _replace(claim, path, fixed))


def target_score_path(claim: Node, ctx: Context) -> Iterator[Edit]:
    """The target term forgotten in a multiclass hinge: with margins Sⱼ − S_y + 1, the
    correct-class score S_y = rowsum(S ⊙ Y) depends on W too, so ∂L/∂S = P − Y ⊙ rowsum(P)
    (P the margin mask); the claim stops at P. Column layout sums over axis 0 (colsum)."""
    for y in ctx.targets:
        want = ctx.shape(_var(y))
        for path, node in sorted(_paths(claim), key=lambda pn: pn[1].size()):
            if node.op == "const" or node.attr == y or (want is not None and ctx.shape(node) not in (want, None)):
                continue
            for op, axis in (("rowsum", "its row"), ("colsum", "its column")):
                fixed = _raw("sub", node, _raw("mul", _var(y), _raw(op, node)))
                yield Edit("target_missing",
                           f"the correct-class score in each margin depends on the weights too: "
                           f"{ctx.text(node)} should be {ctx.text(fixed)}, the target's entry "
                           f"taking minus the sum of {axis}",
                           _replace(claim, path, fixed))


def regulariser_added(claim: Node, ctx: Context) -> Iterator[Edit]:
    """The regulariser's gradient forgotten: L = data term + λ‖w‖² has ∂L/∂w = (data
    gradient) + 2λw; the claim stops at the data gradient."""
    if not ctx.wrt:
        return
    for c in dict.fromkeys(ctx.loss_constants):
        for k, how in ((2 * c, f"2·{c:g}, from d/dw {c:g}‖w‖² = 2·{c:g}w"), (c, f"{c:g}")):
            term = _raw("mul", _const(k), _var(ctx.wrt))
            yield Edit("regulariser_missing",
                       f"add {k:g}·{ctx.wrt} ({how})",
                       _raw("add", claim, term))


#: the search order: one generator per kind of single edit
EDIT_GENERATORS: tuple[Callable[[Node, Context], Iterator[Edit]], ...] = (
    summed_over_batch, whole_transposed, swapped_products, toggled_transposes,
    activation_for_derivative, inserted_derivative, swapped_derivatives, scaled_subterms,
    dropped_factors, inner_sums, target_subtracted, target_score_path, regulariser_added,
    softmax_jacobian,
    norm_statistics_paths,
)


def classify_ratio(ratio: float, dims) -> tuple[str, str] | None:
    """Name a constant factor c with expected = c · claim."""
    def near(a, b):
        return abs(a - b) <= 1e-6 * max(1.0, abs(b))
    if near(ratio, 2.0):
        return "missing_factor_2", ("the expected gradient is 2 × yours: the 2 from differentiating "
                                    "the square is missing")
    if near(ratio, -1.0):
        return "wrong_sign", "the expected gradient is the negative of yours"
    for name, size in dims:
        for k in (1, 2):
            if near(ratio, k / size):
                return "missing_1_over_N", (f"the expected gradient is {'2' if k == 2 else '1'}/{name} × "
                                            f"yours: the loss averages over the batch of {name} = {size}")
        if near(ratio, float(size)):
            return "constant_off", f"yours has an extra factor 1/{name} ({name} = {size})"
    if near(ratio, 0.5):
        return "constant_off", "yours has an extra factor 2 (the expected gradient is half of yours)"
    if near(ratio, -2.0):
        return "wrong_sign", "the expected gradient is −2 × yours: wrong sign and a missing 2"
    return "constant_off", f"the expected gradient is {ratio:.6g} × yours"


def search(claim: Node, matches: Callable[[Node], bool], ctx: Context, budget: int = 4000) -> Edit | None:
    """The first single edit of ``claim`` for which ``matches`` holds, or None."""
    tried = 0
    seen: set[Node] = set()
    for generator in EDIT_GENERATORS:
        for edit in generator(claim, ctx):
            if edit.claim in seen:
                continue
            seen.add(edit.claim)
            tried += 1
            if tried > budget:
                return None
            if matches(edit.claim):
                return edit
    return None


def relative_error(expected: np.ndarray, claimed: np.ndarray) -> float:
    scale = max(float(np.linalg.norm(expected)), float(np.linalg.norm(claimed)), 1e-12)
    return float(np.linalg.norm(expected - claimed)) / scale
