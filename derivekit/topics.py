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

from .display import Displayable
from .errors import DerivekitError


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

    def available(self) -> bool:
        """Whether the function doing this kind's work can be imported."""
        module, name = self.api.split(":")
        try:
            if module == "derivekit":
                _public(name)
            else:
                getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError, KeyError):
            return False
        return True


# --------------------------------------------------------------------------------------------
# field helpers: notes files hold strings


def split_list(text: str, sep: str = ",") -> list[str]:
    """``"w, b"`` → ``["w", "b"]``."""
    return [part.strip() for part in text.split(sep) if part.strip()]


def parse_shapes(text: str) -> dict[str, tuple[int, ...]]:
    """``"W=3x4, x=4x1"`` → ``{"W": (3, 4), "x": (4, 1)}``."""
    shapes = {}
    for item in split_list(text):
        name, sep, dims = item.partition("=")
        try:
            if not sep:
                raise ValueError
            shapes[name.strip()] = tuple(int(d) for d in dims.lower().replace("×", "x").split("x"))
        except ValueError:
            raise DerivekitError(f"cannot read the shape '{item}'",
                                 hint="write shapes as NAME=ROWSxCOLS, e.g. W=3x4, x=4x1") from None
    return shapes


def parse_number(text: str, what: str = "number") -> float:
    """A plain decimal number (``0.1``, ``1e-3``, ``-2``); nothing is evaluated."""
    try:
        return float(text.strip())
    except ValueError:
        raise DerivekitError(f"cannot read {what} '{text}' as a number",
                             hint="write a decimal number such as 0.1 or 1e-3") from None


def parse_int(text: str, what: str = "integer") -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise DerivekitError(f"cannot read {what} '{text}' as a whole number",
                             hint="write digits only, e.g. 2") from None


def parse_assignments(text: str) -> dict[str, float]:
    """``"x=1, y=-0.5"`` → ``{"x": 1.0, "y": -0.5}``."""
    values = {}
    for item in split_list(text):
        name, sep, value = item.partition("=")
        if not sep:
            raise DerivekitError(f"cannot read the start point '{item}'",
                                 hint="write NAME=VALUE pairs, e.g. x=1, y=1")
        values[name.strip()] = parse_number(value, f"the value of {name.strip()}")
    return values


def _public(name: str):
    """A public derivekit function (``dk.NAME``), imported on first use from the module the
    package's export table names (``derivekit.derive`` the module is not ``dk.derive``)."""
    from . import _EXPORTS
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
        f["matrix_gradient"], wrt=f["wrt"].strip(), shapes=parse_shapes(f["shapes"]))


def _check_backprop(f):
    return _public("verify_backprop")(
        f["check_backprop"], f["claim"], f["wrt"].strip(), parse_shapes(f["shapes"]))


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
    return _public("pca")(data, k=parse_int(f.get("k", "1"), "k"))


def _descent(f):
    minimize = _public("minimize")
    methods = split_list(f.get("methods", "gd"))
    start = parse_assignments(f["start"])
    lr = parse_number(f.get("lr", "0.1"), "the learning rate")
    steps = parse_int(f.get("steps", "50"), "steps")
    runs = {m: minimize(f["descent"], start=dict(start), method=m, lr=lr, steps=steps)
            for m in methods}
    if len(runs) == 1:
        return next(iter(runs.values()))
    return DescentComparison(f["descent"], start, lr, steps, runs)


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
              _pca, lambda f: f"PCA with k = {f.get('k', '1')}", optional=("k",),
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
    if not kind.available():
        raise DerivekitError(f"{kind.name} topics need {kind.api}, which cannot be imported",
                             hint="reinstall derivekit (pip install -e .)")
    return kind.run(fields)


def topic_title(kind_name: str, fields: dict[str, str]) -> str:
    kind = topic_kind(kind_name)
    return fields.get("title") or kind.title({**fields, kind.name: fields.get(kind_name, "")})


# --------------------------------------------------------------------------------------------
# a result type of this module: several optimisers on one objective


@dataclass(eq=False)
class DescentComparison(Displayable):
    """Several :class:`~derivekit.optim.Trajectory` runs on the same objective and start."""

    objective: str
    start: dict[str, float]
    lr: float
    steps: int
    runs: dict[str, Any]

    def _repr_latex_(self) -> str:
        """Maths-mode table for Jupyter (``to_latex`` is document prose with a tabular)."""
        cells = [[r["method"], str(r["steps"]), f"{r['final_loss']:.6g}", r["status"]]
                 for r in self.rows()]
        body = r" \\ ".join(" & ".join(rf"\text{{{c}}}" for c in row) for row in cells)
        return (r"$$\begin{array}{lrrl}\text{method} & \text{steps} & \text{final loss} & "
                r"\text{status} \\ \hline " + body + r"\end{array}$$")

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for method, t in self.runs.items():
            status = "diverged" if t.diverged else ("converged" if t.converged else "max steps")
            rows.append({"method": method, "steps": int(len(t.losses) - 1),
                         "final_loss": float(t.losses[-1]),
                         "final_point": [float(v) for v in t.points[-1]], "status": status})
        return rows

    def _render(self, fmt: str, **settings):
        rows = self.rows()
        start = ", ".join(f"{k} = {v:g}" for k, v in self.start.items())
        if fmt == "dict":
            return {"type": "descent_comparison", "objective": self.objective,
                    "start": self.start, "lr": self.lr, "steps": self.steps, "runs": rows}
        cells = [(r["method"], str(r["steps"]), f"{r['final_loss']:.6g}",
                  "(" + ", ".join(f"{v:.4g}" for v in r["final_point"]) + ")", r["status"])
                 for r in rows]
        head = ("method", "steps", "final loss", "final point", "status")
        if fmt == "text":
            widths = [max(len(c[i]) for c in [head, *cells]) for i in range(len(head))]
            line = lambda c: "  ".join(x.ljust(w) for x, w in zip(c, widths)).rstrip()  # noqa: E731
            return "\n".join([f"Minimising {self.objective} from {start}, lr = {self.lr:g}",
                              line(head), *map(line, cells)])
        if fmt == "markdown":
            lines = [f"Minimising `{self.objective}` from {start}, learning rate {self.lr:g}:",
                     "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(c) + " |" for c in cells]
            return "\n".join(lines)
        from .latexdoc import escape_text
        body = " \\\\\n".join(" & ".join(escape_text(x) for x in c) for c in cells)
        return ("Minimising \\texttt{" + escape_text(self.objective) + "} from "
                + escape_text(start) + f", learning rate {self.lr:g}:\n\n"
                "\\begin{center}\\begin{tabular}{lrrll}\\toprule\n"
                + " & ".join(head) + " \\\\\\midrule\n" + body + " \\\\\n"
                "\\bottomrule\\end{tabular}\\end{center}")
