"""``derivekit diff | grad | jacobian | hessian``: derivatives with steps from the command line.

One module serves the four commands; :func:`add_arguments` reads which one from the
parser's ``prog`` ("derivekit diff" …). Everything heavy (SymPy, the parser, the step
engine) is imported inside :func:`run`, so ``--help`` and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import re
import sys

DEFAULT_TIMEOUT_S = 10.0

_EXAMPLES = {
    "diff": [
        'derivekit diff "sigmoid(w*x + b)" --wrt w',
        'derivekit diff "x^3*sin(x)" --wrt x --order 2',
        'derivekit diff "\\sigma(w x + b)" --wrt w --format latex',
        'derivekit diff "log(1 + exp(z))" --format json --no-steps',
    ],
    "grad": [
        'derivekit grad "log(1 + exp(w*x + b))" --wrt w,b',
        'derivekit grad "x^2 + 10*y^2" --format markdown',
    ],
    "jacobian": [
        'derivekit jacobian "x*y; x + y" --wrt x,y',
        'derivekit jacobian "x*y" "x + y" --wrt x,y --format latex',
    ],
    "hessian": [
        'derivekit hessian "x^2*y + y^3" --wrt x,y',
    ],
}

_NOTES = {
    "diff": "Without --wrt, an expression in one variable is differentiated in that variable.\n"
            "An expression that starts with '-' goes after '--': derivekit diff -- \"-x^2\"",
    "grad": "Without --wrt, the gradient is taken in every variable, in alphabetical order.",
    "jacobian": "Give the functions as one argument separated by ';' or as several arguments.\n"
                "Without --wrt, every variable is used, in alphabetical order.",
    "hessian": "Without --wrt, every variable is used, in alphabetical order.",
}


def _command(parser: argparse.ArgumentParser) -> str:
    name = parser.prog.split()[-1]
    return name if name in _EXAMPLES else "diff"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    command = _command(parser)
    parser.set_defaults(command=command)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (_NOTES[command] + "\n\nexamples:\n"
                     + "\n".join(f"  {example}" for example in _EXAMPLES[command]))
    _hint_on_leading_minus(parser)
    if command == "jacobian":
        parser.add_argument("expr", nargs="+", metavar="EXPR",
                            help="the functions, as 'f1; f2' or as separate arguments")
    else:
        parser.add_argument("expr", metavar="EXPR", help="expression, plain text or LaTeX")
    several = command != "diff"
    parser.add_argument("--wrt", metavar="VARS" if several else "VAR",
                        help="variables, comma-separated (e.g. w,b)" if several
                        else "the variable to differentiate in (e.g. w)")
    if command == "diff":
        parser.add_argument("--order", type=int, default=1, metavar="N",
                            help="differentiate N times (default 1)")
        parser.add_argument("--plot", metavar="FILE",
                            help="also draw f, f′ and the tangent line (.png or .svg; one variable)")
        parser.add_argument("--at", type=float, default=1.0, metavar="X",
                            help="where --plot draws the tangent (default 1)")
    parser.add_argument("--format", choices=("text", "latex", "markdown", "json"), default="text",
                        help="output format (default text)")
    parser.add_argument("--notation", choices=("leibniz", "prime"), default="leibniz",
                        help="d/dx and ∂/∂x (default), or f′")
    parser.add_argument("--no-steps", action="store_true", help="print the result only")
    parser.add_argument("--brief", action="store_true",
                        help="state the derivatives of σ, tanh and softplus without deriving them")
    parser.add_argument("--syntax", choices=("auto", "text", "latex"), default="auto",
                        help="input syntax (default auto: LaTeX when it contains a backslash)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                        help=f"give up after this long (default {DEFAULT_TIMEOUT_S:g}; at most "
                             "3600; 0: that longest limit)")


def _hint_on_leading_minus(parser: argparse.ArgumentParser) -> None:
    """argparse reads "-x^2" as an unknown option; say how to pass it."""
    report = parser.error

    def error(message: str):
        if "EXPR" in message or "unrecognized arguments: -" in message:
            message += ("\nhint: give the expression; one that starts with '-' goes after '--', "
                        f'e.g. {parser.prog} --wrt x -- "-x^2"')
        report(message)

    parser.error = error


def _split_functions(sources: list[str]) -> list[str]:
    parts = [part.strip() for source in sources for part in source.split(";")]
    return [part for part in parts if part]


def _variables(text: str | None, exprs, syntax: str, *, one: bool):
    """The symbols named in ``--wrt``, matched by name to the symbols in ``exprs``."""
    from derivekit.errors import DerivekitError
    from derivekit.parsing.parse import parse

    present = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    if not text:
        if one and len(present) != 1:
            names = ", ".join(s.name for s in present) or "no variables"
            raise DerivekitError(f"the expression has {names}",
                                 hint="say which variable to differentiate in with --wrt, e.g. --wrt x")
        if not present:
            raise DerivekitError("the expression has no variables", hint="name them with --wrt x,y")
        return present[:1] if one else present
    by_name = {s.name: s for s in present}
    chosen = []
    for name in (n.strip() for n in text.split(",")):
        if not name:
            continue
        symbol = by_name.get(name)
        if symbol is None:
            symbol = parse(name, syntax=syntax)
            if not symbol.is_Symbol:
                raise DerivekitError(f"--wrt names {name!r}, which is not a variable",
                                     hint="give variable names separated by commas, e.g. --wrt w,b")
        chosen.append(symbol)
    if not chosen:
        raise DerivekitError("--wrt is empty", hint="give variable names, e.g. --wrt w,b")
    if one and len(chosen) > 1:
        raise DerivekitError("diff takes one variable",
                             hint="use 'derivekit grad' for several, or --order for repeated derivatives")
    return chosen


#: NumPy matrix spelling that the scalar parser does not read: @, .T, norms, traces, methods
_MATRIX_SYNTAX = re.compile(r"@|\.T\b|\b(?:norm2?|trace|det|logdet|inv)\s*\(|\.(?:dot|sum|mean)\s*\("
                            r"|\b(?:np|torch)\.")
_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\b(?!\s*\()")


def _refuse_matrix_syntax(source: str, args: argparse.Namespace) -> None:
    """A matrix expression given to diff/grad: say exactly which command reads it."""
    found = _MATRIX_SYNTAX.search(source)
    if not found or args.syntax == "latex":
        return
    from derivekit.errors import UnsupportedError
    names = list(dict.fromkeys(n for n in _NAME.findall(source) if n not in ("np", "torch", "T", "axis")))
    wrt = (args.wrt or "").split(",")[0].strip() or next((n for n in names if n[:1].isupper()),
                                                          names[0] if names else "W")
    shapes = _inferable_shapes(source, wrt) or (
        ",".join(f"{n}={'ROWSxCOLS' if n[:1].isupper() else 'ROWSx1'}" for n in names) or "W=3x4")
    raise UnsupportedError(
        f"{source!r} is a matrix expression (it uses {found.group(0).strip()!r}); derivekit "
        f"{args.command} differentiates scalar expressions",
        hint=f'use the matrix engine, with each name\'s shape (sizes may be numbers or names):\n'
             f'  derivekit matgrad "{source}" --wrt {wrt} --shapes {shapes}')


def _inferable_shapes(source: str, wrt: str) -> str | None:
    """A --shapes value from which the matrix engine infers every other shape (the wrt
    name as an m×n matrix, or an n×1 vector), if one of them works for ``source``."""
    from derivekit.errors import DerivekitError
    from derivekit.limits import deadline
    from derivekit.matrix.gradient import matrix_gradient
    from derivekit.matrix.shapes import parse_shapes
    guesses = (f"{wrt}=mxn", f"{wrt}=nxn", f"{wrt}=nx1")
    for guess in guesses if wrt[:1].isupper() else guesses[::-1]:
        try:
            with deadline(3.0):
                matrix_gradient(source, wrt=wrt, shapes=parse_shapes(guess))
            return guess
        except (DerivekitError, TypeError, ValueError, ArithmeticError):
            continue
    return None


def compute(args: argparse.Namespace):
    """The Derivation or MatrixOfDerivations the command asks for."""
    from derivekit.calculus.derive import derive, gradient, hessian, jacobian
    from derivekit.errors import DerivekitError
    from derivekit.parsing.parse import parse

    sources = _split_functions(args.expr) if args.command == "jacobian" else [args.expr]
    if not sources:
        raise DerivekitError("no expression given", hint='e.g. derivekit jacobian "x*y; x + y"')
    for source in sources:
        _refuse_matrix_syntax(source, args)
    exprs = [parse(source, syntax=args.syntax) for source in sources]
    # The engine decides by size (steps unless the input is huge); --no-steps only hides
    # them, so the result is the same textbook form either way. When the steps would be
    # too large (a high --order swells the expression), --no-steps takes the fast path.
    from derivekit.errors import LimitError

    if args.command == "diff":
        (var,) = _variables(args.wrt, exprs, args.syntax, one=True)
        if args.order < 1:
            raise DerivekitError(f"--order must be at least 1, not {args.order}")
        operation = lambda steps: derive(exprs[0], var, args.order, steps=steps)  # noqa: E731
    else:
        variables = _variables(args.wrt, exprs, args.syntax, one=False)
        if args.command == "grad":
            operation = lambda steps: gradient(exprs[0], variables, steps=steps)  # noqa: E731
        elif args.command == "jacobian":
            operation = lambda steps: jacobian(exprs, variables, steps=steps)  # noqa: E731
        else:
            operation = lambda steps: hessian(exprs[0], variables, steps=steps)  # noqa: E731
    try:
        return operation(None)
    except LimitError as exc:
        if not args.no_steps or "step-by-step" not in str(exc):
            raise
        return operation(False)


def run(args: argparse.Namespace) -> int:
    from derivekit.limits import deadline

    settings = {"notation": args.notation, "steps": not args.no_steps, "brief": args.brief}
    if args.format == "latex":  # for a document: sentences that wrap, equations that break
        settings["document"] = True
    if args.format == "text" and sys.stdout.isatty():  # wrap sentences to the terminal
        import shutil
        settings["width"] = shutil.get_terminal_size().columns - 1
    from derivekit.limits import MAX_TIMEOUT_S, timeout_seconds
    seconds = MAX_TIMEOUT_S if args.timeout == 0 else timeout_seconds(args.timeout, "--timeout")
    with deadline(seconds):
        result = compute(args)
        output = result.render(args.format, **settings)
        if getattr(args, "plot", None):
            _plot(args, result)
    _write(output if output.endswith("\n") else output + "\n")
    return 0


def _plot(args: argparse.Namespace, derivation) -> None:
    """``diff --plot FILE``: f, its derivative and the tangent at ``--at``."""
    from derivekit.errors import DerivekitError
    from derivekit.parsing.parse import parse
    from derivekit.plots.tangent import samples, tangent_figure

    if args.order != 1:
        raise DerivekitError("--plot draws a first derivative", hint="leave out --order")
    data = samples(parse(args.expr, syntax=args.syntax), derivation.result, derivation.wrt, args.at)
    tangent_figure(data, args.plot)


def _write(text: str) -> None:
    """Print ``text``; on a terminal that cannot show σ, ² or ∂, write UTF-8 bytes rather
    than fail (use --format latex or json for pure ASCII)."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
