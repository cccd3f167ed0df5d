"""``derivekit diff | grad | jacobian | hessian``: derivatives with steps from the command line.

One module serves the four commands; :func:`add_arguments` reads which one from the
parser's ``prog`` ("derivekit diff" …). Everything heavy (SymPy, the parser, the step
engine) is imported inside :func:`run`, so ``--help`` and usage errors answer at once.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--format", choices=("text", "latex", "markdown", "json"), default="text",
                        help="output format (default text)")
    parser.add_argument("--notation", choices=("leibniz", "prime"), default="leibniz",
                        help="d/dx and ∂/∂x (default), or f′")
    parser.add_argument("--no-steps", action="store_true", help="print the result only")
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


def compute(args: argparse.Namespace):
    """The Derivation or MatrixOfDerivations the command asks for."""
    from derivekit.calculus.derive import derive, gradient, hessian, jacobian
    from derivekit.errors import DerivekitError
    from derivekit.parsing.parse import parse

    sources = _split_functions(args.expr) if args.command == "jacobian" else [args.expr]
    if not sources:
        raise DerivekitError("no expression given", hint='e.g. derivekit jacobian "x*y; x + y"')
    exprs = [parse(source, syntax=args.syntax) for source in sources]
    # The engine decides by size (steps unless the input is huge); --no-steps only hides
    # them, so the result is the same textbook form either way.
    steps = None
    if args.command == "diff":
        (var,) = _variables(args.wrt, exprs, args.syntax, one=True)
        if args.order < 1:
            raise DerivekitError(f"--order must be at least 1, not {args.order}")
        return derive(exprs[0], var, args.order, steps=steps)
    variables = _variables(args.wrt, exprs, args.syntax, one=False)
    if args.command == "grad":
        return gradient(exprs[0], variables, steps=steps)
    if args.command == "jacobian":
        return jacobian(exprs, variables, steps=steps)
    return hessian(exprs[0], variables, steps=steps)


def run(args: argparse.Namespace) -> int:
    from derivekit.limits import deadline

    settings = {"notation": args.notation, "steps": not args.no_steps}
    if args.format == "text" and sys.stdout.isatty():  # wrap sentences to the terminal
        import shutil
        settings["width"] = shutil.get_terminal_size().columns - 1
    from derivekit.limits import MAX_TIMEOUT_S, timeout_seconds
    seconds = MAX_TIMEOUT_S if args.timeout == 0 else timeout_seconds(args.timeout, "--timeout")
    with deadline(seconds):
        result = compute(args)
        output = result.render(args.format, **settings)
    _write(output if output.endswith("\n") else output + "\n")
    return 0


def _write(text: str) -> None:
    """Print ``text``; on a terminal that cannot show σ, ² or ∂, write UTF-8 bytes rather
    than fail (use --format latex or json for pure ASCII)."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
