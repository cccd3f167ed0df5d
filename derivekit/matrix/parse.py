"""Reading matrix expressions: an eval-free lark grammar for NumPy spelling, and a LaTeX
front that normalises matrix-form LaTeX into that spelling.

``parse_matrix("2*(W@x + b - y)@x.T")`` returns an untyped :class:`~derivekit.matrix.expr.Node`
tree (shapes are checked later by :func:`derivekit.matrix.shapes.annotate`).
``parse_program("z1 = W1@x + b1; a1 = sigmoid(z1); norm2(a1 - y)")`` also reads named
definitions. LaTeX (``\\mathbf{W}\\mathbf{x} + \\mathbf{b}``, ``^\\top``, ``\\odot``,
``\\|\\cdot\\|_2^2``, ``\\operatorname{tr}``) is rewritten by :func:`latex_to_text` first.
"""

from __future__ import annotations

import difflib
import re

from lark import Lark, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from derivekit.errors import ParseError
from derivekit.limits import MAX_INPUT_CHARS, MAX_NESTING
from derivekit.matrix.expr import AxisSpec, Const, Node

GRAMMAR = r"""
?start: stmt
?stmt: cmp
     | NAME "=" cmp                  -> define
?cmp: expr
    | expr CMP expr                  -> compare
?expr: term
     | expr "+" term                 -> add
     | expr "-" term                 -> sub
?term: factor
     | term "@" factor               -> matmul
     | term "*" factor               -> mul
     | term "/" factor               -> div
     | term "&" factor               -> juxt
?factor: power
       | "-" factor                  -> neg
       | "+" factor
?power: postfix
      | postfix ("**" | "^") factor  -> pow
?postfix: atom
        | postfix TRANSPOSE          -> transpose
        | postfix "." NAME "(" [arg ("," arg)*] ")" -> method
?atom: NUMBER                        -> number
     | NAME                          -> name
     | NAME "(" [arg ("," arg)*] ")" -> call
     | "(" cmp ")"
     | "[" cmp "]"
?arg: cmp
    | NAME "=" cmp                   -> kwarg
CMP: ">=" | "<=" | ">" | "<"
TRANSPOSE: /\.T(?![A-Za-z0-9_])/ | "ᵀ"
NAME: /(?:(?:np|numpy|torch|F|nn|functional|linalg|special|scipy)\.)+(?=[A-Za-z_][A-Za-z0-9_]*\s*\()[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_\u0370-\u03ff\U0001d7d9][A-Za-z0-9_\u0370-\u03ff\u2032]*/
NUMBER: /\d+(\.\d*)?([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?/
%import common.WS
%ignore WS
"""

_PARSER = None


def _parser() -> Lark:
    """The LALR parser, built on first use (no on-disk cache: lark's cache is a pickle in the
    shared temp folder, which another local user could plant)."""
    global _PARSER
    if _PARSER is None:
        _PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)
    return _PARSER

#: text function name -> (node op, attr); elementwise functions use op "func"
FUNCTIONS: dict[str, tuple[str, str | None]] = {
    **{name: ("func", name) for name in (
        "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "exp", "log", "sqrt", "abs", "sign",
        "sigmoid_prime", "tanh_prime", "relu_prime", "leaky_relu_prime")},
    "ln": ("func", "log"), "σ": ("func", "sigmoid"), "dsigmoid": ("func", "sigmoid_prime"),
    "sigmoid′": ("func", "sigmoid_prime"), "σ′": ("func", "sigmoid_prime"),
    "dtanh": ("func", "tanh_prime"), "tanh′": ("func", "tanh_prime"),
    "drelu": ("func", "relu_prime"), "relu′": ("func", "relu_prime"),
    "step": ("func", "relu_prime"), "heaviside": ("func", "relu_prime"),
    "sum": ("sum", None), "mean": ("mean", None), "var": ("variance", None), "std": ("std", None),
    "norm": ("norm", None), "trace": ("trace", None), "tr": ("trace", None),
    "det": ("det", None), "logdet": ("logdet", None), "inv": ("inv", None),
    "norm2": ("norm2", None), "softmax": ("softmax", None), "log_softmax": ("log_softmax", None),
    "logsumexp": ("logsumexp", None), "softmax_ce": ("softmax_ce", None),
    "cross_entropy": ("softmax_ce", None), "bce_logits": ("bce_logits", None),
    "bce_with_logits": ("bce_logits", None),
    "binary_cross_entropy_with_logits": ("bce_logits", None), "transpose": ("T", None),
    "square": ("pow", None), "rowsum": ("rowsum", None), "colsum": ("colsum", None),
    "diag": ("diag", None), "diagflat": ("diag", None), "diagonal": ("diagonal", None),
    "maximum": ("maximum", None), "minimum": ("minimum", None), "max": ("maximum", None),
    "min": ("minimum", None), "where": ("where", None), "dot": ("matmul", None),
    "matmul": ("matmul", None), "mm": ("matmul", None),
}
_ARITY = {"softmax_ce": 2, "bce_logits": 2, "maximum": 2, "minimum": 2, "where": 3, "matmul": 2}
#: ops that take axis= (or dim=); those marked True also take keepdims=
_AXIS_KEYWORDS = {"sum": True, "mean": True, "variance": True, "std": True, "norm": True,
                  "logsumexp": True, "softmax": False, "log_softmax": False, "softmax_ce": False}
#: the prefixes read as "the function of that library": np., numpy., torch., F., …
_PREFIXES = ("np", "numpy", "torch", "F", "nn", "functional", "linalg", "special", "scipy")


#: prefixes that are also plausible matrix names (F.dot(x) is a method of F)
_ALSO_MATRIX_NAMES = ("F",)
#: the functions of torch.nn.functional that derivekit reads
_FUNCTIONAL = {"softmax", "log_softmax", "relu", "sigmoid", "tanh", "softplus", "leaky_relu",
               "cross_entropy", "binary_cross_entropy_with_logits", "logsumexp"}


def _node(op, args=(), attr=None, meta=None) -> Node:
    return Node(op, tuple(args), attr, None)


def _constant_exponent(node: Node) -> float | None:
    """The value of an exponent built from numbers with + − * / (``(1/2)``, ``(-1)``),
    or None when it involves a name or a function."""
    if node.op == "const":
        return node.attr.value
    values = [_constant_exponent(a) for a in node.args]
    if not node.args or None in values:
        return None
    if node.op == "neg":
        return -values[0]
    folds = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
             "mul": lambda a, b: a * b, "juxt": lambda a, b: a * b,
             "div": lambda a, b: a / b if b != 0 else None}
    fold = folds.get(node.op)
    return None if fold is None or len(values) != 2 else fold(*values)


class _ToNode(Transformer):
    def __init__(self, source: str, offset: int):
        super().__init__()
        self.source = source
        self.offset = offset

    def _error(self, message, meta, hint=None):
        pos = getattr(meta, "start_pos", None)
        raise ParseError(message, source=self.source, position=pos, hint=hint)

    def number(self, items):
        return Node("const", (), Const.of(float(items[0])), (1, 1))

    def name(self, items):
        text = str(items[0])
        if text in ("I",):
            return Node("eye", (), None, None)
        if text in ("ones", "𝟙", "one"):
            return Node("ones", (), None, None)
        return Node("var", (), text, None)

    @v_args(meta=True)
    def call(self, meta, items):
        prefix, fname = _split_prefix(str(items[0]))
        args = [a for a in items[1:] if a is not None]
        if len(prefix) == 1 and prefix[0] in _ALSO_MATRIX_NAMES and fname not in _FUNCTIONAL:
            # F.dot(x), F.sum(axis=0): a method of a matrix named F, not torch.nn.functional
            return self._apply(meta, (), fname, [Node("var", (), prefix[0], None)] + args,
                               method=True)
        return self._apply(meta, prefix, fname, args)

    @v_args(meta=True)
    def method(self, meta, items):
        """``X.sum(axis=0)``, ``X.T.dot(G)``: the method of the receiver, as the function."""
        receiver, fname = items[0], str(items[1])
        if "." in fname:
            self._error(f"unknown method '.{fname}'", meta)
        if fname == "transpose" and len(items) == 2:
            return Node("T", (receiver,), None, None)
        return self._apply(meta, (), fname, [receiver] + [a for a in items[2:] if a is not None],
                           method=True)

    def _apply(self, meta, prefix, fname, args, method=False):
        positional = [a for a in args if not (isinstance(a, tuple) and a[0] == "kw")]
        keywords = {a[1]: a[2] for a in args if isinstance(a, tuple) and a[0] == "kw"}
        torch = bool(prefix) and prefix[0] in ("torch", "F", "nn", "functional")
        shown = ".".join(prefix + (fname,))
        if fname not in FUNCTIONS:
            close = difflib.get_close_matches(fname, FUNCTIONS, n=1)
            self._error(f"unknown {'method' if method else 'function'} '{shown}'", meta,
                        hint=f"did you mean '{close[0]}'?" if close else
                        "known: " + ", ".join(sorted(FUNCTIONS)))
        op, attr = FUNCTIONS[fname]
        if fname in ("max", "min") and (prefix or method or len(positional) != 2):
            word = "maximum" if fname == "max" else "minimum"
            self._error(f"{shown} with {len(positional)} argument(s) is a reduction over an "
                        f"axis, which derivekit does not differentiate", meta,
                        hint=f"for the elementwise {word} (ReLU is max(0, Z)) write "
                             f"{word}(A, B) or np.{word}(Z, 0)")
        if op in _AXIS_KEYWORDS:
            return self._axis_call(meta, shown, op, positional, keywords, torch)
        arity = _ARITY.get(op, 1)
        if len(positional) != arity:
            self._error(f"{shown} takes {arity} argument{'s' if arity > 1 else ''}, "
                        f"got {len(positional)}", meta)
        if keywords:
            self._error(f"{shown} takes no keyword argument "
                        f"({', '.join(k + '=' for k in keywords)})", meta,
                        hint="keywords are read only where they change the maths: axis=, "
                             "dim=, keepdims= and ddof= on reductions and softmax")
        if op == "bce_logits" and torch:
            # PyTorch's default reduction is the mean over every entry
            return Node("batchmean", (Node(op, tuple(positional), None, None), positional[0]),
                        "all", None)
        if op == "pow":
            return Node("pow", (positional[0],), 2.0, None)
        if op == "func":
            return Node("func", (positional[0],), attr, None)
        return Node(op, tuple(positional), None, None)

    def _axis_call(self, meta, shown, op, positional, keywords, torch):
        """A reduction or softmax with NumPy's (or PyTorch's) keywords, as an untyped node
        whose attr is an :class:`AxisSpec`; shapes decide the rest."""
        arity = 2 if op == "softmax_ce" else 1
        if len(positional) == arity + 1 and op != "softmax_ce":
            if "axis" in keywords or "dim" in keywords:
                self._error(f"{shown}: the axis is given twice", meta)
            keywords["axis"] = positional.pop()
        if len(positional) != arity:
            self._error(f"{shown} takes {arity} argument{'s' if arity > 1 else ''} (and axis=), "
                        f"got {len(positional)}", meta)
        if "axis" in keywords and "dim" in keywords:
            self._error(f"{shown}: give axis= or dim= (PyTorch's name), not both", meta)
        allowed = {"axis", "dim"}
        if _AXIS_KEYWORDS[op]:
            allowed |= {"keepdims", "keepdim"}
        if op in ("variance", "std"):
            allowed |= {"ddof", "correction", "unbiased"}
        unknown = sorted(set(keywords) - allowed)
        if unknown:
            self._error(f"{shown} does not take {', '.join(k + '=' for k in unknown)}", meta,
                        hint=f"{shown} takes " + ", ".join(k + "=" for k in sorted(allowed)))
        axis_node = keywords.get("axis", keywords.get("dim"))
        axis = None if axis_node is None or _is_none(axis_node) else self._int(axis_node, "axis", meta)
        keep = keywords.get("keepdims", keywords.get("keepdim"))
        keepdims = False if keep is None else self._bool(keep, "keepdims", meta)
        ddof = None
        if op in ("variance", "std"):
            given = [k for k in ("ddof", "correction", "unbiased") if k in keywords]
            if len(given) > 1:
                self._error(f"{shown}: give one of ddof=, correction=, unbiased=", meta)
            if given == ["unbiased"]:
                ddof = 1 if self._bool(keywords["unbiased"], "unbiased", meta) else 0
            elif given:
                ddof = self._int(keywords[given[0]], given[0], meta)
                if ddof < 0:
                    self._error(f"{shown}: {given[0]} must be 0 or more", meta)
            else:
                ddof = 1 if torch else 0   # NumPy divides by n, PyTorch by n − 1
        spec = AxisSpec(axis, keepdims, ddof, torch)
        return Node(op, tuple(positional), spec, None)

    def _int(self, node, what, meta) -> int:
        value = None
        if node.op == "const":
            value = node.attr.value
        elif node.op == "neg" and node.args[0].op == "const":
            value = -node.args[0].attr.value
        if value is None or not float(value).is_integer():
            self._error(f"{what}= needs a whole number", meta,
                        hint="axis=0 (down the rows: per column) or axis=1 (along a row: per "
                             "row); negative axes count from the end")
        return int(value)

    def _bool(self, node, what, meta) -> bool:
        if node.op == "var" and node.attr in ("True", "False"):
            return node.attr == "True"
        if node.op == "const" and node.attr.value in (0.0, 1.0):
            return node.attr.value == 1.0
        self._error(f"{what}= needs True or False", meta)

    @v_args(meta=True)
    def compare(self, meta, items):
        return Node("cmp", (items[0], items[2]), str(items[1]), None)

    def kwarg(self, items):
        return ("kw", str(items[0]), items[1])

    @v_args(meta=True)
    def pow(self, meta, items):
        base, exponent = items
        value = _constant_exponent(exponent)
        if value is None:
            self._error("only a constant exponent is supported (elementwise power)", meta,
                        hint="write a number or a constant fraction: x**2, x**0.5, x**(1/2), "
                             "x**(-1)")
        if abs(value) > 1000:
            self._error("exponent too large", meta)
        return Node("pow", (base,), float(value), None)

    def transpose(self, items):
        return Node("T", (items[0],), None, None)

    def neg(self, items):
        return Node("neg", (items[0],), None, None)

    def define(self, items):
        return ("define", str(items[0]), items[1])

    def _binary(op):  # noqa: N805 - small factory
        def method(self, items):
            return Node(op, (items[0], items[1]), None, None)
        return method

    add = _binary("add")
    sub = _binary("sub")
    matmul = _binary("matmul")
    mul = _binary("mul")
    div = _binary("div")
    juxt = _binary("juxt")


def _is_none(node: Node) -> bool:
    return node.op == "var" and node.attr == "None"


def _split_prefix(name: str) -> tuple[tuple[str, ...], str]:
    """``"np.linalg.norm"`` -> (("np", "linalg"), "norm")."""
    *prefix, base = name.split(".")
    return tuple(prefix), base


def _strip_np(name: str) -> str:
    return _split_prefix(name)[1]


def is_latex(source: str) -> bool:
    return "\\" in source


def _check_limits(source: str) -> None:
    if len(source) > MAX_INPUT_CHARS:
        from derivekit.errors import LimitError
        raise LimitError(f"input of {len(source)} characters exceeds the limit of {MAX_INPUT_CHARS}")
    depth = max_depth = 0
    for ch in source:
        depth += ch in "([{"
        depth -= ch in ")]}"
        max_depth = max(max_depth, depth)
    if max_depth > MAX_NESTING:
        from derivekit.errors import LimitError
        raise LimitError(f"brackets nest {max_depth} deep, over the limit of {MAX_NESTING}")


def _parse_statement(text: str, original: str):
    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as exc:
        raise ParseError(f"unexpected character {text[exc.pos_in_stream]!r}", source=text,
                         position=exc.pos_in_stream,
                         hint="write products with @ (matrix) or * (elementwise), transpose "
                              "with .T") from None
    except UnexpectedEOF:
        raise ParseError("the expression ends too early", source=text, position=len(text),
                         hint="check for a missing operand or closing bracket") from None
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise ParseError("the expression ends too early", source=text, position=len(text),
                             hint="check for a missing operand or closing bracket") from None
        pos = exc.token.start_pos if exc.token.start_pos is not None else len(text)
        got = repr(str(exc.token))
        raise ParseError(f"unexpected {got}", source=text, position=pos,
                         hint="check the operators and brackets around here") from None
    except UnexpectedInput as exc:  # pragma: no cover - other lark failures
        raise ParseError(str(exc).splitlines()[0], source=text) from None
    try:
        return _ToNode(text, 0).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ParseError):
            raise exc.orig_exc from None
        raise  # pragma: no cover


def parse_program(source: str, syntax: str = "auto", known_names=()) -> list[tuple[str | None, Node]]:
    """Read ``name = expr`` definitions and expressions separated by ';' or new lines."""
    if not isinstance(source, str):
        raise ParseError(f"expected a string, got {type(source).__name__}")
    _check_limits(source)
    if syntax == "latex" or (syntax == "auto" and is_latex(source)):
        pieces = [p for p in re.split(r";|\\\\|\n", source) if p.strip()]
        pieces = [latex_to_text(p, known_names) for p in pieces]
    else:
        pieces = [p for p in re.split(r"[;\n]", source) if p.strip()]
    if not pieces:
        raise ParseError("the expression is empty", hint='write e.g. "norm2(W@x - y)"')
    out = []
    for piece in pieces:
        item = _parse_statement(piece.strip(), source)
        if isinstance(item, tuple):
            out.append((item[1], item[2]))
        else:
            out.append((None, item))
    return out


def parse_matrix(source: str, syntax: str = "auto", known_names=()) -> Node:
    """Parse one matrix expression (no definitions) into an untyped tree."""
    program = parse_program(source, syntax, known_names)
    if len(program) != 1 or program[0][0] is not None:
        raise ParseError("expected one expression, got definitions",
                         hint="use parse_program for 'name = expr' lines")
    return program[0][1]


# --- LaTeX front ------------------------------------------------------------------------

_TOKEN = re.compile(r"\\[A-Za-z]+|\\[|{}!,;: ]|[A-Za-z]|\d+(?:\.\d+)?|\S", re.S)
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "theta", "lambda", "mu", "eta", "rho",
          "tau", "phi", "psi", "omega", "xi", "zeta", "nu", "kappa", "Sigma", "Delta", "Lambda",
          "Theta", "Phi", "Omega", "sigma"}
_FONT = {"mathbf", "boldsymbol", "bm", "mathrm", "mathit", "text", "mathsf", "mathbb", "vec",
         "hat", "bar", "tilde", "operatorname", "mathcal"}
_LATEX_FUNCS = {"exp": "exp", "log": "log", "ln": "log", "tanh": "tanh", "det": "det",
                "tr": "trace", "Tr": "trace", "trace": "trace", "softmax": "softmax",
                "sigmoid": "sigmoid", "ReLU": "relu", "relu": "relu", "softplus": "softplus",
                "LSE": "logsumexp", "logsumexp": "logsumexp", "sum": "sum", "mean": "mean",
                "CE": "softmax_ce", "inv": "inv", "logdet": "logdet", "max": "maximum",
                "min": "minimum", "where": "where", "var": "var", "std": "std", "norm": "norm",
                "log_softmax": "log_softmax", "sign": "sign", "abs": "abs", "diag": "diag"}
_PRIMED = {"sigmoid": "sigmoid_prime", "tanh": "tanh_prime", "relu": "relu_prime"}
_IGNORED = {"left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr", "displaystyle",
            "limits", "\\,", "\\;", "\\!", "\\:", "\\ "}
_OPS = {"odot": "*", "oslash": "/", "circ": "*", "cdot": "&", "times": "&", "ast": "*", "geq": ">=",
        "ge": ">=", "leq": "<=", "le": "<=", "gt": ">", "lt": "<"}


class _Latex:
    """A small recursive-descent reader from LaTeX tokens to NumPy-spelling text."""

    def __init__(self, source: str, known_names):
        self.source = source
        self.tokens = _TOKEN.findall(source)
        self.i = 0
        self.known = {n.replace("_", "") for n in known_names}

    def peek(self, k=0):
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def error(self, message, hint=None):
        raise ParseError(f"LaTeX: {message}", source=self.source, hint=hint)

    def group_text(self) -> str:
        """Raw letters of a {...} group or a single token (for names and subscripts)."""
        tok = self.take()
        if tok == "{":
            parts = []
            while self.peek() not in ("}", None):
                t = self.take()
                if t.startswith("\\") and t[1:] in _FONT:
                    parts.append(self.group_text())
                else:
                    parts.append(t.lstrip("\\"))
            self.take()
            return "".join(parts)
        if tok is None:
            self.error("a group ends too early")
        return tok.lstrip("\\")

    def sequence(self, stop=()) -> str:
        """Operands and operators up to a stop token; juxtaposed operands joined by '&'."""
        out: list[str] = []
        last_operand = False
        while True:
            tok = self.peek()
            if tok is None or tok in stop:
                break
            if tok.startswith("\\") and (tok[1:] in _IGNORED or tok in _IGNORED):
                self.take()
                continue
            if tok in ("+", "-", "/", "*", "=", ",", ">", "<"):
                self.take()
                if tok in (">", "<") and self.peek() == "=":
                    self.take()
                    tok += "="
                out.append(", " if tok == "," else f" {'&' if tok == '*' else tok} ")
                last_operand = False
                continue
            if tok.startswith("\\") and tok[1:] in _OPS:
                self.take()
                out.append(f" {_OPS[tok[1:]]} ")
                last_operand = False
                continue
            operand = self.operand()
            if operand is None:
                continue
            if last_operand:
                out.append(" & ")
            out.append(operand)
            last_operand = True
        return "".join(out)

    def operand(self) -> str | None:
        base = self.atom()
        if base is None:
            return None
        return self.postfix(base)

    def postfix(self, base: str) -> str:
        while True:
            tok = self.peek()
            if tok == "_":
                self.take()
                sub = self.group_text()
                if re.fullmatch(r"[A-Za-z0-9]+", sub) and re.fullmatch(r"[A-Za-z0-9_]+", base):
                    base = base + sub
                # other subscripts (‖·‖_2, ‖·‖_F) are dropped
            elif tok == "^":
                self.take()
                base = self.superscript(base)
            elif tok in ("'", "\\prime"):
                self.take()
                base = base + "′"
            else:
                return base

    def superscript(self, base: str) -> str:
        start = self.i
        sup = self.group_text()
        sup = sup.replace(" ", "")
        if sup in ("top", "T", "intercal", "mathsfT", "\\top", "tr"):
            return f"{base}.T"
        if sup == "prime":
            return base + "′"
        layer = re.fullmatch(r"[(\[](\d+)[)\]]", sup)
        if layer and re.fullmatch(r"[A-Za-z0-9_]+", base):  # W^{(2)}, W^{[2]}: the layer index
            return base + layer.group(1)
        circ = re.fullmatch(r"circ(-?\d+(\.\d+)?)", sup)
        if circ:  # the elementwise power A^{∘k}
            return f"{base}**({circ.group(1)})"
        if sup == "-1":
            return f"inv({base})"
        if sup in ("-top", "-T"):
            return f"inv({base}).T"
        if re.fullmatch(r"-?\d+(\.\d+)?", sup):
            return f"{base}**{sup}" if not sup.startswith("-") else f"{base}**({sup})"
        self.i = start
        self.error(f"unsupported superscript '^{sup}'",
                   hint="use ^\\top, ^{-1} or a number")

    def atom(self) -> str | None:
        tok = self.take()
        while tok is not None and tok.startswith("\\") and (tok[1:] in _IGNORED or tok in _IGNORED):
            tok = self.take()
        if tok is None:
            self.error("an operand is missing at the end")
        if tok in ("(", "["):
            inner = self.sequence(stop=(")" if tok == "(" else "]",))
            self.take()
            return f"({inner})"
        if tok == "{":
            inner = self.sequence(stop=("}",))
            self.take()
            return f"({inner})"
        if tok in ("\\|", "\\lVert", "\\Vert", "|") and tok != "|":
            inner = self.sequence(stop=("\\|", "\\rVert", "\\Vert"))
            self.take()
            squared = False
            while self.peek() in ("_", "^"):
                mark = self.take()
                text = self.group_text()
                if mark == "^":
                    if text != "2":
                        self.error(f"norm to the power {text}", hint="use \\|x\\|^2")
                    squared = True
            return f"norm2({inner})" if squared else f"sqrt(norm2({inner}))"
        if tok == "|":
            self.error("|·| is ambiguous here", hint="write \\det or \\|·\\|^2")
        if re.fullmatch(r"\d+(\.\d+)?", tok):
            return tok
        if tok == "\\sqrt":
            return f"sqrt({self._braced()})"
        if tok == "\\frac":
            num = self._braced()
            den = self._braced()
            return f"(({num})/({den}))"
        if tok in ("\\mathbf", "\\boldsymbol", "\\bm", "\\mathrm", "\\mathit", "\\vec",
                   "\\mathsf", "\\hat", "\\bar", "\\tilde", "\\mathbb", "\\mathcal"):
            text = self.group_text()
            if text == "1" and self._next_real() == "[":
                # 𝟙[A > B]: the indicator of a comparison
                while self.peek() != "[":
                    self.take()
                self.take()
                inner = self.sequence(stop=("]",))
                self.take()
                return f"({inner})"
            if text == "1":
                return "ones"
            if text in ("I",):
                return "I"
            if tok == "\\hat":
                text += "hat"
            return self._name_or_func(text)
        if tok in ("\\operatorname", "\\text"):
            return self._name_or_func(self.group_text())
        if tok.startswith("\\"):
            name = tok[1:]
            if name in ("log", "ln") and self.peek() == "\\det":
                self.take()
                return self._call("logdet")
            if name == "sigma":
                return self._call("sigmoid")
            if name in _LATEX_FUNCS:
                return self._call(_LATEX_FUNCS[name])
            if name in _GREEK:
                return name
            if name == "top":
                return None
            self.error(f"unsupported command {tok}")
        if re.fullmatch(r"[A-Za-z]", tok):
            # a run of letters: one name when known (or a function), else single letters
            run = tok
            while self.peek() and re.fullmatch(r"[A-Za-z]", self.peek()):
                run += self.take()
            if run in _LATEX_FUNCS and len(run) > 1:
                return self._call(_LATEX_FUNCS[run])
            if len(run) == 1 or run in self.known:
                return run
            self.i -= len(run) - 1
            return run[0]
        if tok in (")", "]", "}"):
            self.error(f"unbalanced '{tok}'")
        self.error(f"unexpected '{tok}'")

    def _next_real(self):
        """The next token that is not spacing or sizing (\\left, \\big, …)."""
        j = self.i
        while j < len(self.tokens) and self.tokens[j].startswith("\\") and (
                self.tokens[j][1:] in _IGNORED or self.tokens[j] in _IGNORED):
            j += 1
        return self.tokens[j] if j < len(self.tokens) else None

    def _braced(self) -> str:
        if self.peek() != "{":
            return self.operand() or ""
        self.take()
        inner = self.sequence(stop=("}",))
        self.take()
        return inner

    def _name_or_func(self, text: str) -> str:
        if text in _LATEX_FUNCS:
            return self._call(_LATEX_FUNCS[text])
        return text

    def _call(self, fname: str) -> str:
        primed = False
        while self.peek() in ("'", "^") and (self.peek() == "'" or self.peek(1) in ("\\prime", "{")):
            if self.peek() == "'":
                self.take()
                primed = True
            else:
                save = self.i
                self.take()
                sup = self.group_text()
                if sup in ("prime", "\\prime"):
                    primed = True
                else:
                    self.i = save
                    break
        if primed:
            if fname not in _PRIMED:
                self.error(f"no derivative name for {fname}′")
            fname = _PRIMED[fname]
        arg = self.operand()
        if arg is None:
            self.error(f"{fname} needs an argument")
        if not arg.startswith("("):
            arg = f"({arg})"
        return f"{fname}{arg}"


def latex_to_text(source: str, known_names=()) -> str:
    """Normalise matrix-form LaTeX into derivekit's NumPy spelling (juxtaposition as '&')."""
    reader = _Latex(source.strip().strip("$"), known_names)
    text = reader.sequence()
    if reader.peek() is not None:
        reader.error(f"unbalanced '{reader.peek()}'")
    return text
