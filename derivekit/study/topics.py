"""Topic kinds: what a study-notes block (or a drill, or a test) can ask derivekit to work out.

Each row of :data:`TOPIC_KINDS` names a kind, the keys its block takes, the derivekit module
that does the work, and ``run(fields) -> result``, a few lines calling the public API. Results
are :class:`~derivekit.display.Displayable`, so every output format comes from their own
renderers. Field values are the strings written in the notes file; the helpers below turn
them into lists, shapes and numbers. Modules are imported inside ``run`` so that a notes file
only loads what it uses.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from derivekit.display import Displayable
from derivekit.errors import DerivekitError
from derivekit.options import (
    parse_assignments,
    parse_bool,
    parse_int,
    parse_number,
    split_list,
)


@dataclass(frozen=True)
class TopicKind:
    """One kind of topic: ``main`` is the key the block opens with (the kind's own name)."""

    name: str
    summary: str
    api: str  # "module:function" doing the work (public names: "derivekit:derive")
    run: Callable[[dict[str, str]], Displayable]
    title: Callable[[dict[str, str]], str]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    example: dict[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.name, *self.required, *self.optional, "title")

    @property
    def module(self) -> str:
        return self.api.split(":")[0]



def _public(name: str):
    """A public derivekit function (``dk.NAME``), imported on first use from the module the
    package's export table names (``derivekit.calculus.derive`` the module is not ``dk.derive``)."""
    from derivekit import _EXPORTS
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def _claim(text: str):
    """A claim: one expression, or one per variable separated by ``;``."""
    parts = split_list(text, ";")
    return parts[0] if len(parts) == 1 else parts


def _wrt(fields: dict[str, str]):
    names = split_list(fields["wrt"])
    return names[0] if len(names) == 1 else names


# --------------------------------------------------------------------------------------------
# runners: one per kind, each a call into the public API


def _derivative(f):
    return _public("derive")(f["derivative"], f["wrt"].strip(),
                                              order=parse_int(f.get("order", "1"), "order"))


def _gradient(f):
    return _public("gradient")(f["gradient"], wrt=split_list(f["wrt"]))


def _jacobian(f):
    return _public("jacobian")(split_list(f["jacobian"], ";"),
                                                wrt=split_list(f["wrt"]))


def _hessian(f):
    return _public("hessian")(f["hessian"], wrt=split_list(f["wrt"]))


def _check(f):
    return _public("verify")(f["check"], _claim(f["claim"]), _wrt(f))


def _matrix_gradient(f):
    return _public("matrix_gradient")(
        f["matrix_gradient"], wrt=f["wrt"].strip(), shapes=f["shapes"])


def _check_backprop(f):
    return _public("verify_backprop")(
        f["check_backprop"], f["claim"], f["wrt"].strip(), f["shapes"])


def _backprop(f):
    return _public("backprop")(f["backprop"])


def _gradflow(f):
    options = {"activation": f["gradflow"].strip()}
    if "depth" in f:
        options["depth"] = parse_int(f["depth"], "depth")
    if "width" in f:
        options["width"] = parse_int(f["width"], "width")
    if "init" in f:
        options["init"] = f["init"].strip()
    if "seed" in f:
        options["seed"] = parse_int(f["seed"], "seed")
    return _public("gradflow")(**options)


def _dot(f):
    return _public("dot")(f["dot"], f["with"])


def _matmul(f):
    return _public("matmul")(f["matmul"], f["with"])


def _eigen(f):
    return _public("eig")(f["eigen"])


def _pca(f):
    """``pca:`` takes rows of numbers (``[[1, 2], [3, 4], …]``) or what ``dk.pca`` reads
    itself (a CSV path, a built-in dataset's name)."""
    data = f["pca"].strip()
    if data.startswith("["):
        import json

        import numpy as np
        try:
            data = np.array(json.loads(data), dtype=float)
        except (ValueError, TypeError):
            raise DerivekitError("cannot read the PCA data as rows of numbers",
                                 hint="write e.g. pca: [[2.5, 2.4], [0.5, 0.7], [2.2, 2.9]]"
                                 ) from None
    columns = split_list(f["columns"]) if "columns" in f else None
    standardize = parse_bool(f["standardize"], "standardize") if "standardize" in f else False
    return _public("pca")(data, k=parse_int(f.get("k", "1"), "k"), standardize=standardize,
                          columns=columns)


def _descent(f):
    methods = split_list(f.get("methods", "gd"))
    settings = dict(start=parse_assignments(f["start"]),
                    lr=parse_number(f.get("lr", "0.1"), "the learning rate"),
                    steps=parse_int(f.get("steps", "50"), "steps"))
    if len(methods) == 1:
        return _public("minimize")(f["descent"], method=methods[0], **settings)
    from derivekit.optim.optimizers import compare
    return compare(f["descent"], methods, **settings)


def _short(text: str, width: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


TOPIC_KINDS: dict[str, TopicKind] = {kind.name: kind for kind in [
    TopicKind("derivative", "derivative with steps (dk.derive)", "derivekit:derive", _derivative,
              lambda f: f"Derivative of {_short(f['derivative'])} with respect to {f['wrt']}",
              required=("wrt",), optional=("order",),
              example={"derivative": "sigmoid(w*x + b)", "wrt": "w"}),
    TopicKind("gradient", "gradient with steps (dk.gradient)", "derivekit:gradient", _gradient,
              lambda f: f"Gradient of {_short(f['gradient'])}", required=("wrt",),
              example={"gradient": "log(1 + exp(w*x + b))", "wrt": "w, b"}),
    TopicKind("jacobian", "Jacobian of expressions separated by ';'", "derivekit:jacobian",
              _jacobian, lambda f: f"Jacobian of {_short(f['jacobian'])}", required=("wrt",),
              example={"jacobian": "x*y; x + y", "wrt": "x, y"}),
    TopicKind("hessian", "Hessian matrix (dk.hessian)", "derivekit:hessian", _hessian,
              lambda f: f"Hessian of {_short(f['hessian'])}", required=("wrt",),
              example={"hessian": "x^2*y + y^3", "wrt": "x, y"}),
    TopicKind("check", "check a hand derivation (dk.verify); several claims separated by ';'",
              "derivekit:verify", _check,
              lambda f: f"Checking a claimed derivative of {_short(f['check'])}",
              required=("claim", "wrt"),
              example={"check": "sigmoid(w*x)", "claim": "sigmoid(w*x)", "wrt": "w"}),
    TopicKind("matrix_gradient", "matrix-form gradient with backprop steps (dk.matrix_gradient)",
              "derivekit:matrix_gradient", _matrix_gradient,
              lambda f: f"Matrix gradient of {_short(f['matrix_gradient'])} with respect to "
                        f"{f['wrt']}",
              required=("wrt", "shapes"),
              example={"matrix_gradient": "norm2(W@x + b - y)", "wrt": "W",
                       "shapes": "W=3x4, x=4x1, b=3x1, y=3x1"}),
    TopicKind("check_backprop", "check a hand-derived matrix gradient (dk.verify_backprop)",
              "derivekit:verify_backprop", _check_backprop,
              lambda f: f"Checking a claimed backprop gradient of {_short(f['check_backprop'])}",
              required=("claim", "wrt", "shapes"),
              example={"check_backprop": "norm2(W@x - y)", "claim": "2*(W@x - y)@x.T",
                       "wrt": "W", "shapes": "W=3x4, x=4x1, y=3x1"}),
    TopicKind("backprop", "forward equations, δ recursion and parameter gradients of an MLP",
              "derivekit:backprop", _backprop, lambda f: f"Backpropagation through {f['backprop']}",
              example={"backprop": "x:4 -> linear:8 -> sigmoid -> linear:1 -> mse"}),
    TopicKind("gradflow", "per-layer gradient norms in a deep MLP (vanishing/exploding)",
              "derivekit:gradflow", _gradflow,
              lambda f: f"Gradient flow through a deep {f['gradflow']} network",
              optional=("depth", "width", "init", "seed"),
              example={"gradflow": "sigmoid", "depth": "10", "width": "32"}),
    TopicKind("dot", "dot product with steps", "derivekit:dot", _dot,
              lambda f: f"Dot product of {f['dot']} and {f['with']}", required=("with",),
              example={"dot": "[1, 2, 3]", "with": "[4, 5, 6]"}),
    TopicKind("matmul", "matrix product with steps", "derivekit:matmul", _matmul,
              lambda f: f"Matrix product {f['matmul']} times {f['with']}", required=("with",),
              example={"matmul": "[[1, 2], [3, 4]]", "with": "[[5], [6]]"}),
    TopicKind("eigen", "eigenvalues and eigenvectors with steps (dk.eig)", "derivekit:eig",
              _eigen, lambda f: f"Eigen-decomposition of {f['eigen']}",
              example={"eigen": "[[2, 1], [1, 2]]"}),
    TopicKind("pca", "principal component analysis with steps (dk.pca)", "derivekit:pca",
              _pca, lambda f: f"PCA with k = {f.get('k', '1')}",
              optional=("k", "columns", "standardize"),
              example={"pca": "[[2.5, 2.4], [0.5, 0.7], [2.2, 2.9], [1.9, 2.2], [3.1, 3.0]]",
                       "k": "1"}),
    TopicKind("descent", "gradient descent; several methods give a comparison (dk.minimize)",
              "derivekit:minimize", _descent,
              lambda f: f"Gradient descent on {_short(f['descent'])}",
              required=("start",), optional=("methods", "lr", "steps"),
              example={"descent": "x^2 + 10*y^2", "start": "x=1, y=1",
                       "methods": "gd, momentum, adam", "lr": "0.05", "steps": "50"}),
]}


def topic_kind(name: str) -> TopicKind:
    """Look up a kind by name, with a suggestion for a near miss."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in TOPIC_KINDS:
        return TOPIC_KINDS[key]
    import difflib
    close = difflib.get_close_matches(key, TOPIC_KINDS, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise DerivekitError(f"unknown topic kind '{name}'",
                         hint=hint + "known kinds: " + ", ".join(TOPIC_KINDS))


def run_topic(kind_name: str, fields: dict[str, str]) -> Displayable:
    """Validate ``fields`` for the kind and run it."""
    kind = topic_kind(kind_name)
    fields = {**fields, kind.name: fields.get(kind.name, fields.get(kind_name, ""))}
    unknown = [k for k in fields if k not in kind.keys and k != kind_name]
    if unknown:
        raise DerivekitError(f"{kind.name} topics take no '{unknown[0]}' key",
                             hint="its keys are: " + ", ".join(kind.keys))
    missing = [k for k in (kind.name, *kind.required) if not fields.get(k, "").strip()]
    if missing:
        raise DerivekitError(f"{kind.name} topic is missing '{missing[0]}'",
                             hint="e.g. " + "; ".join(f"{k}: {v}" for k, v in kind.example.items()))
    return kind.run(fields)


def topic_title(kind_name: str, fields: dict[str, str]) -> str:
    kind = topic_kind(kind_name)
    return fields.get("title") or kind.title({**fields, kind.name: fields.get(kind_name, "")})
