"""The computations the web page and its JSON API offer: one row per endpoint.

Each row names the CLI command that computes it and which of that command's arguments a
request may set, under the CLI's own names. Nothing else reaches argparse: an unknown
parameter is refused, options that name files (``--plot``, ``--data FILE``, ``-o``) are not
in any row, and values go after ``--name=`` or ``--`` so none is read as an option.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derivekit.errors import DerivekitError
from derivekit.limits import MAX_INPUT_CHARS


class RequestError(DerivekitError):
    """The request itself is malformed (unknown or missing parameter, wrong kind of value):
    answered 400, like a parse error."""


MAX_VALUE_CHARS = MAX_INPUT_CHARS  # one value: the parser's own input limit
MAX_LIST_ITEMS = 20


@dataclass(frozen=True)
class Endpoint:
    """``derivekit <command> POSITIONALS --option=value …  --format json`` as a request."""

    command: str
    positionals: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()          # store_true options: "1", "true", "on" set them
    repeated: tuple[str, ...] = ()       # append options (a list in JSON, repeated keys in a query)
    fixed: tuple[str, ...] = ()          # arguments the server adds
    variadic: bool = False               # the last positional takes several values
    required: tuple[str, ...] = field(default=())

    @property
    def names(self) -> set[str]:
        return set(self.positionals) | set(self.options) | set(self.flags) | set(self.repeated)


_LINALG_OUT = ("format",)
ENDPOINTS: dict[str, Endpoint] = {
    "derive": Endpoint("diff", ("expr",), ("wrt", "order", "notation", "syntax"), ("no_steps",),
                       required=("expr",)),
    "grad": Endpoint("grad", ("expr",), ("wrt", "notation", "syntax"), ("no_steps",), required=("expr",)),
    "jacobian": Endpoint("jacobian", ("expr",), ("wrt", "notation", "syntax"), ("no_steps",),
                         variadic=True, required=("expr",)),
    "hessian": Endpoint("hessian", ("expr",), ("wrt", "notation", "syntax"), ("no_steps",),
                        required=("expr",)),
    "check": Endpoint("check", ("expr",), ("wrt", "seed", "points"), ("no_steps",), ("claim",),
                      required=("expr", "claim", "wrt")),
    "gradcheck": Endpoint("gradcheck", ("expr",), ("wrt", "method", "eps", "atol", "rtol", "points", "seed"),
                          (), ("claim", "at"), required=("expr",)),
    "matgrad": Endpoint("matgrad", ("loss",), ("wrt", "shapes", "syntax", "assume"), ("jacobian", "hessian"),
                        required=("loss", "wrt", "shapes")),
    "check-backprop": Endpoint("check-backprop", ("loss",), ("wrt", "shapes", "syntax", "assume", "claim",
                                                             "seeds"), ("jacobian", "hessian"),
                               required=("loss", "wrt", "shapes", "claim")),
    "backprop": Endpoint("backprop", ("spec",), ("batch",), required=("spec",)),
    "gradflow": Endpoint("gradflow", (), ("depth", "width", "activation", "init", "seed", "batch"),
                         ("compare",)),
    "descend": Endpoint("descend", ("expr",), (
        "start", "wrt", "method", "compare", "lrs", "lr", "steps", "schedule", "gamma", "step_size",
        "momentum", "betas", "eps", "alpha", "weight_decay", "seed", "worked", "rows"),
        required=("expr",)),
    "dot": Endpoint("dot", ("u", "v"), (), ("no_steps",), required=("u", "v")),
    "matmul": Endpoint("matmul", ("a", "b"), (), ("no_steps",), required=("a", "b")),
    "det": Endpoint("det", ("matrix",), (), ("no_steps",), required=("matrix",)),
    "inv": Endpoint("inv", ("matrix",), (), ("no_steps",), required=("matrix",)),
    "rank": Endpoint("rank", ("matrix",), (), ("no_steps",), required=("matrix",)),
    "transpose": Endpoint("transpose", ("matrix",), (), ("no_steps",), required=("matrix",)),
    "norm": Endpoint("norm", ("x",), ("kind",), ("no_steps",), required=("x",)),
    "eig": Endpoint("eig", ("matrix",), ("method",), ("no_steps",), required=("matrix",)),
    # data: a built-in dataset's name, or CSV text the worker writes to a file of its own
    "pca": Endpoint("pca", (), ("k", "columns"), ("standardize", "no_steps")),
}

PCA_DATASETS = ("gaussian2d", "gaussian3d")
TRUE = {"1", "true", "on", "yes"}


def _text(name: str, value) -> str:
    if isinstance(value, bool):
        value = "1" if value else "0"
    if isinstance(value, (int, float)):
        value = repr(value)
    if not isinstance(value, str):
        raise RequestError(f"parameter {name!r} must be a string or a number",
                             hint=f'e.g. "{name}": "x^2"')
    if len(value) > MAX_VALUE_CHARS:
        raise RequestError(f"parameter {name!r} is {len(value)} characters long; "
                             f"at most {MAX_VALUE_CHARS} are read")
    if "\x00" in value:
        raise RequestError(f"parameter {name!r} contains a NUL character")
    return value


def _values(name: str, value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_LIST_ITEMS:
        raise RequestError(f"parameter {name!r} has {len(items)} values; at most {MAX_LIST_ITEMS}")
    return [_text(name, item) for item in items]


def argv_for(name: str, params: dict, output: str = "json") -> list[str]:
    """The CLI arguments (without the command) that ``params`` ask of endpoint ``name``.

    Raises DerivekitError for an unknown endpoint or parameter, a missing required one, or a
    value of the wrong kind; never lets a value be read as an option.
    """
    endpoint = ENDPOINTS.get(name)
    if endpoint is None:
        raise RequestError(f"unknown computation {name!r}", hint="one of: " + ", ".join(ENDPOINTS))
    params = {k: v for k, v in params.items() if v not in (None, "", [])}
    extra = {"format"} | ({"data", "csv"} if name == "pca" else set())
    unknown = sorted(set(params) - endpoint.names - extra)
    if unknown:
        raise RequestError(f"unknown parameter {unknown[0]!r} for {name}",
                             hint="parameters: " + ", ".join(sorted(endpoint.names)))
    missing = [r for r in endpoint.required if r not in params]
    if missing:
        raise RequestError(f"missing parameter {missing[0]!r}",
                             hint=f"{name} needs " + ", ".join(endpoint.required))
    argv: list[str] = []
    for option in endpoint.options:
        if option in params:
            (value,) = _values(option, params[option])[-1:]
            argv.append(f"--{option.replace('_', '-')}={value}")
    for option in endpoint.repeated:
        for value in _values(option, params.get(option, [])):
            argv.append(f"--{option.replace('_', '-')}={value}")
    for flag in endpoint.flags:
        if flag in params and _values(flag, params[flag])[-1].lower() in TRUE:
            argv.append(f"--{flag.replace('_', '-')}")
    if output not in ("json", "text", "latex", "markdown"):
        raise RequestError(f"unknown output format {output!r}", hint="json, text, latex or markdown")
    argv.append(f"--format={output}")
    positionals: list[str] = []
    for position in endpoint.positionals:
        if position in params:
            values = _values(position, params[position])
            positionals += values if endpoint.variadic else values[-1:]
    return argv + ["--"] + positionals if endpoint.positionals else argv


def pca_source(params: dict) -> tuple[str | None, str | None]:
    """(built-in dataset name, CSV text) for a PCA request; a path on disk is never accepted."""
    data, csv = params.get("data") or None, params.get("csv") or None
    if data is not None and _text("data", data) not in PCA_DATASETS:
        raise RequestError(f"unknown dataset {data!r}",
                             hint="choose " + " or ".join(PCA_DATASETS) + ", or upload a CSV file")
    if csv is not None:
        csv = _text("csv", csv)
    return data, csv
