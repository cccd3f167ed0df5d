"""``derivekit check`` (is my derivative right?) and ``derivekit gradcheck`` (finite
differences), thin layers over :func:`derivekit.numeric.verify.verify` and
:func:`derivekit.numeric.finitediff.gradcheck`. One module serves both; ``parser.prog`` says which.

Exit codes: 0 right, 1 wrong, 2 usage or parse error (raised as DerivekitError) or cannot
check (too few points where everything is finite, or an undecidable abstract claim).
"""

from __future__ import annotations

import argparse
import re

from derivekit.errors import DerivekitError
from derivekit.options import parse_assignments

FORMATS = ("text", "latex", "markdown", "json")


def _command(parser: argparse.ArgumentParser) -> str:
    return parser.prog.split()[-1]


#: argparse reads "-2*w*x" or "-sin(x)" as an unknown option; a math expression starting
#: with a minus sign is a value here (real options are still recognised first)
_VALUE_STARTING_WITH_MINUS = re.compile(r"^-[^-]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = _VALUE_STARTING_WITH_MINUS
    parser.add_argument("expr", help="the function, in plain text or LaTeX")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random points")
    if _command(parser) == "check":
        parser.add_argument("--claim", action="append", required=True,
                            help="your derivative; for a gradient either one --claim per variable "
                                 "or one list such as \"[x*y, x^2]\"")
        parser.add_argument("--wrt", help="the variable, or variables as x,y (default: the expression's "
                                           "variable, when it has only one)")
        parser.add_argument("--points", type=int, default=10, help="random points compared (at least 10)")
        parser.add_argument("--timeout", type=float, default=2.0,
                            help="seconds allowed for symbolic simplification")
        parser.add_argument("--no-steps", action="store_true", help="omit the correct derivation")
        parser.set_defaults(command="check")
    else:
        parser.add_argument("--claim", action="append",
                            help="the gradient to check (default: derivekit's own), as for check")
        parser.add_argument("--wrt", help="variables as x,y (default: all, by name)")
        parser.add_argument("--method", default="central",
                            choices=("central", "complex", "richardson", "random_direction"))
        parser.add_argument("--eps", type=float, help="finite-difference step (default per method)")
        parser.add_argument("--atol", type=float, default=1e-5)
        parser.add_argument("--rtol", type=float, default=1e-3)
        parser.add_argument("--at", action="append",
                            help="a point as x=1,y=-0.5 (repeat for several; default: random points)")
        parser.add_argument("--points", type=int, default=10, help="random points when --at is not given")
        parser.set_defaults(command="gradcheck")


def _claim(values: list[str] | None):
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


def _only_variable(source: str) -> str:
    """The variable of a one-variable expression (as ``derivekit diff`` guesses it)."""
    from derivekit.numeric.compiled import as_expr
    names = sorted(s.name for s in as_expr(source).free_symbols)
    if len(names) == 1:
        return names[0]
    listed = ", ".join(names) or "no variables"
    raise DerivekitError(f"the expression has {listed}, so --wrt is needed",
                         hint=f"say which variable with --wrt, e.g. --wrt {names[0] if names else 'x'}"
                              + (f", or --wrt {','.join(names)} for the gradient" if len(names) > 1 else ""))


def run(args: argparse.Namespace) -> int:
    if args.command == "check":
        from derivekit.numeric.verify import verify
        verdict = verify(args.expr, _claim(args.claim), args.wrt or _only_variable(args.expr), points=args.points,
                         seed=args.seed, timeout=args.timeout)
        settings = {"document": True} if args.format == "latex" else {}  # wrapping prose, broken displays
        args.exit_code = 0 if verdict.ok else (1 if verdict.decided else 2)  # kept if the pipe closes
        print(verdict.render(args.format, steps=not args.no_steps, **settings))
        return args.exit_code
    from derivekit.numeric.compiled import gradcheck
    at = [parse_assignments(p) for p in args.at] if args.at else None
    result = gradcheck(args.expr, _claim(args.claim), at=at, wrt=args.wrt, method=args.method,
                       eps=args.eps, atol=args.atol, rtol=args.rtol, n_points=args.points, seed=args.seed)
    settings = {"document": True} if args.format == "latex" else {}
    args.exit_code = 0 if result.ok else (1 if result.decided else 2)  # kept if the pipe closes
    print(result.render(args.format, **settings))
    return args.exit_code
