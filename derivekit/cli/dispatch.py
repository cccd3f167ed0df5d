"""The ``derivekit`` command: a thin dispatcher over the public API.

Each subcommand lives in the module named in :data:`COMMANDS`, imported only when used so
that a cold ``derivekit diff`` stays fast. A command module provides::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...   # 0 ok, 1 math found wrong, 2 usage

Exit codes (:data:`EXIT_CODES`): 0 right or done; 1 claim wrong or run diverged; 2 usage
error, parse error or cannot check (every ``DerivekitError``); 3 internal error, reported in
one line with "please report" (``--debug``, accepted by every subcommand, shows the
traceback). No other traceback reaches the user.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: what each exit code means; the docs and the fuzz test read this table
EXIT_CODES = {
    0: "right, or done",
    1: "the claim is wrong, or the run diverged",
    2: "usage error, parse error, or the check cannot decide",
    3: "internal error (a bug in derivekit: please report it; --debug shows the traceback)",
}

# name -> (module, one-line help, example)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "diff": ("derivekit.cli.calculus", "derivative with steps",
             'derivekit diff "sigmoid(w*x + b)" --wrt w'),
    "grad": ("derivekit.cli.calculus", "gradient with steps",
             'derivekit grad "log(1 + exp(w*x + b))" --wrt w,b'),
    "jacobian": ("derivekit.cli.calculus", "Jacobian of several expressions",
                 'derivekit jacobian "x*y; x + y" --wrt x,y'),
    "hessian": ("derivekit.cli.calculus", "Hessian matrix",
                'derivekit hessian "x^2*y + y^3" --wrt x,y'),
    "check": ("derivekit.cli.numeric", "check a hand-derived derivative or gradient",
              'derivekit check "sigmoid(w*x)" --claim "sigmoid(w*x)" --wrt w'),
    "gradcheck": ("derivekit.cli.numeric", "finite-difference gradient check",
                  'derivekit gradcheck "x^2*y" --wrt x,y'),
    "matgrad": ("derivekit.cli.matrix", "matrix-form gradient with backprop steps",
                'derivekit matgrad "norm2(W@x + b - y)" --wrt W --shapes W=3x4,x=4x1,b=3x1,y=3x1'),
    "backprop": ("derivekit.cli.matrix", "derive backprop for an MLP spec",
                 'derivekit backprop "x:4 -> linear:8 -> sigmoid -> linear:1 -> mse"'),
    "check-backprop": ("derivekit.cli.matrix", "check a hand-derived matrix gradient",
                       'derivekit check-backprop "norm2(W@x - y)" --wrt W --claim "2*(W@x - y)@x.T" '
                       '--shapes W=3x4,x=4x1,y=3x1'),
    "gradflow": ("derivekit.cli.matrix", "vanishing/exploding gradients in a deep MLP",
                 "derivekit gradflow --depth 10 --width 32 --activation sigmoid"),
    "descend": ("derivekit.cli.optim", "gradient descent and its variants on an expression",
                'derivekit descend "x^2 + 10*y^2" --start x=1,y=1 --method adam --lr 0.1'),
    "fit": ("derivekit.cli.optim", "fit linear/logistic regression by gradient descent",
            "derivekit fit --model linear --method gd"),
    "dot": ("derivekit.cli.linalg", "dot product with steps", 'derivekit dot "[1,2,3]" "[4,5,6]"'),
    "matmul": ("derivekit.cli.linalg", "matrix product with steps",
               'derivekit matmul "[[1,2],[3,4]]" "[[5],[6]]"'),
    "det": ("derivekit.cli.linalg", "determinant with cofactor steps", 'derivekit det "[[1,2],[3,4]]"'),
    "inv": ("derivekit.cli.linalg", "inverse with steps", 'derivekit inv "[[1,2],[3,4]]"'),
    "rank": ("derivekit.cli.linalg", "rank by row reduction, with pivots and nullity",
             'derivekit rank "[[1,2],[2,4]]"'),
    "transpose": ("derivekit.cli.linalg", "transpose of a matrix",
                  'derivekit transpose "[[1,2,3],[4,5,6]]"'),
    "norm": ("derivekit.cli.linalg", "vector (L1, L2, max) or Frobenius norm with steps",
             'derivekit norm "[3,4]" --kind 2'),
    "eig": ("derivekit.cli.linalg", "eigenvalues and eigenvectors with steps",
            'derivekit eig "[[2,1],[1,2]]"'),
    "pca": ("derivekit.cli.linalg", "principal component analysis with steps", "derivekit pca --k 1"),
    "notes": ("derivekit.cli.study", "render a study-notes file to Markdown, LaTeX or PDF",
              "derivekit notes examples/curriculum.md --pdf"),
    "drill": ("derivekit.cli.study", "interview practice problems",
              "derivekit drill --topic chain_rule --seed 1"),
    "explain": ("derivekit.cli.study", "interview-style explanation of a topic",
                "derivekit explain sigmoid"),
    "serve": ("derivekit.cli.web", "the local web page (needs the web extra)", "derivekit serve --open"),
}


def _top_help() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: derivekit COMMAND [options]   (derivekit COMMAND --help for details)", "",
             "commands:"]
    for name, (_, summary, _) in COMMANDS.items():
        lines.append(f"  {name.ljust(width)}  {summary}")
    lines += ["", "examples:"] + [f"  {ex}" for _, _, ex in list(COMMANDS.values())[:4]]
    return "\n".join(lines)


def add_engine_arguments(parser: argparse.ArgumentParser, models: str, rows: str) -> None:
    """``--engine``, ``--scheduler`` and ``--out`` of the commands that read data past memory
    (the dask engine); ``models`` says what the engine covers, ``rows`` what ``--out`` holds."""
    parser.add_argument("--engine", choices=("numpy", "dask"), default="numpy",
                        help="numpy (default: the CSV in memory) or dask (read in blocks; "
                             f"{models}needs the dask extra)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --engine dask: a Dask cluster's scheduler, e.g. "
                             "tcp://10.0.0.5:8786 (default: Dask's local scheduler)")
    parser.add_argument("--out", metavar="FILE.csv",
                        help=f"with --engine dask: write every row's {rows} to this CSV file")


#: the commands that read an expression with the parser (dk.parse), so take --max-chars
EXPRESSION_COMMANDS = frozenset({"diff", "grad", "jacobian", "hessian", "check", "gradcheck",
                                 "descend"})


def add_max_chars_argument(parser: argparse.ArgumentParser) -> None:
    """``--max-chars N``: raise the input cap for trusted text (a generated expression)."""
    from derivekit.limits import MAX_CHARS_CEILING, MAX_INPUT_CHARS
    parser.add_argument("--max-chars", type=int, metavar="N",
                        help=f"read expressions up to N characters (default {MAX_INPUT_CHARS:,}; "
                             f"at most {MAX_CHARS_CEILING:,}), for trusted input such as a "
                             "generated expression; the time limit still applies")


def build_parser(name: str):
    """Return (parser, module) for subcommand ``name``."""
    module_name, summary, example = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(
        prog=f"derivekit {name}", description=summary, epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(parser)
    return parser, module


def _math_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """argv with expressions that start with '-' ("-y*log(p)", "-x") kept away from argparse's
    option matching: an option's value becomes ``--opt=value``, and when a positional starts
    with '-', all positionals go after '--' in their order. Tokens that name (or abbreviate)
    one of the parser's options, and everything after a '--' the user wrote, are left as is."""
    options = parser._option_string_actions  # noqa: SLF001 - argparse's own option table
    if "--" in argv:
        return argv

    def is_math(token: str) -> bool:
        return (len(token) > 1 and token.startswith("-") and not token.startswith("--")
                and not any(o.startswith(token.split("=")[0]) for o in options))

    flags, positionals, i, merged = [], [], 0, False
    while i < len(argv):
        token = argv[i]
        action = options.get(token)
        if action is not None and action.nargs is None and i + 1 < len(argv) and is_math(argv[i + 1]):
            flags.append(f"{token}={argv[i + 1]}")
            i, merged = i + 2, True
            continue
        if action is not None and action.nargs is None and i + 1 < len(argv):  # --opt value
            flags += [token, argv[i + 1]]
            i += 2
            continue
        if token.startswith("-") and not is_math(token):
            flags.append(token)
        else:
            positionals.append(token)
        i += 1
    if any(is_math(p) for p in positionals):
        return flags + ["--"] + positionals
    return flags + positionals if merged else argv


def _check_common_options(args: argparse.Namespace) -> None:
    """Options several commands share, checked once: a --timeout is a finite number ≥ 0,
    a --seed an integer ≥ 0 (what NumPy's generators take)."""
    import math

    from derivekit.errors import DerivekitError
    seed = getattr(args, "seed", None)
    if isinstance(seed, int) and seed < 0:
        raise DerivekitError(f"--seed must be a whole number ≥ 0, not {seed}", hint="e.g. --seed 0")
    timeout = getattr(args, "timeout", None)
    if timeout is not None and not (math.isfinite(timeout) and timeout >= 0):
        raise DerivekitError(f"--timeout must be a number of seconds ≥ 0, not {timeout:g}",
                             hint="e.g. --timeout 10")


def _take_debug(argv: list[str]) -> tuple[list[str], bool]:
    """argv without ``--debug`` (a global option, accepted anywhere before a ``--``)."""
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end]
    return [a for i, a in enumerate(argv) if i >= end or a != "--debug"], debug


def _internal_error(name: str, exc: BaseException, debug: bool) -> int:
    """One line and "please report" (the traceback with --debug): exit 3."""
    if debug:
        import traceback
        traceback.print_exception(exc)
    what = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    print(f"derivekit {name}: internal error ({what[:300]}); this is a bug, please report it "
          f"with the command line{'' if debug else ' (rerun with --debug for the traceback)'}",
          file=sys.stderr)
    return 3


def main(argv: list[str] | None = None) -> int:
    argv, debug = _take_debug(list(sys.argv[1:] if argv is None else argv))
    try:
        return _main(argv, debug)
    except KeyboardInterrupt:
        print("derivekit: interrupted", file=sys.stderr)
        return 130
    except RecursionError as exc:  # deep input that slipped past the limits
        print("derivekit: error: the input is nested too deeply to process\n"
              "hint: split it into smaller expressions", file=sys.stderr)
        if debug:
            import traceback
            traceback.print_exception(exc)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback
        return _internal_error(argv[0] if argv else "", exc, debug)


def _main(argv: list[str], debug: bool) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_top_help())
        return 0 if argv else 2
    if argv[0] == "--version":
        from derivekit import __version__
        print(f"derivekit {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        import difflib
        close = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        print(f"derivekit: unknown command '{name}'{hint}\n\n{_top_help()}", file=sys.stderr)
        return 2
    parser, module = build_parser(name)
    parser.add_argument("--debug", action="store_true",
                        help="on an internal error, show the Python traceback")
    if name in EXPRESSION_COMMANDS:
        add_max_chars_argument(parser)
    try:
        args = parser.parse_args(_math_arguments(parser, argv[1:]))
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    args.debug = debug
    from derivekit.errors import DerivekitError
    try:
        _check_common_options(args)
        from derivekit.limits import input_cap
        with input_cap(getattr(args, "max_chars", None), "--max-chars"):
            code = int(module.run(args))
        sys.stdout.flush()  # a reader that stopped early shows here, not at interpreter exit
        return code
    except DerivekitError as exc:
        print(f"derivekit {name}: error: {exc}", file=sys.stderr)
        if debug:
            import traceback
            traceback.print_exception(exc)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        # a check's verdict is decided before it is printed: a wrong claim stays exit 1
        return getattr(args, "exit_code", 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
