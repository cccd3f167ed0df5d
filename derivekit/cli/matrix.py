"""The matrix-calculus commands: ``matgrad``, ``backprop``, ``check-backprop`` and ``gradflow``.

One module serves all four; :func:`add_arguments` reads the command from ``parser.prog``
("derivekit matgrad") and stores it as the hidden default ``matrix_command``.

    derivekit matgrad "norm2(W@x + b - y)" --wrt W --shapes W=3x4,x=4x1,b=3x1,y=3x1
    derivekit matgrad "x.T@A@x" --wrt x --shapes A=3x3,x=3x1 --hessian
    derivekit backprop "x:4 -> linear:8 -> sigmoid -> linear:3 -> softmax_ce"
    derivekit check-backprop "norm2(W@x - y)" --wrt W --claim "2*(W@x - y)@x.T" --shapes W=3x4,x=4x1,y=3x1
    derivekit check-backprop "softmax(z)" --wrt z --jacobian --claim "diag(softmax(z)) - softmax(z)@softmax(z).T" --shapes z=4x1
    derivekit gradflow --depth 10 --width 32 --activation sigmoid [--compare] [--plot flow.png]

Exit codes: 0 success (or a right claim), 1 a wrong claim (a shape-inconsistent claim
included), 2 usage, parse or shape errors in the input, or a check that cannot be made (too
few random inputs give finite values).
"""

from __future__ import annotations

import argparse
import sys

FORMATS = ("text", "latex", "markdown", "json")
SHAPES_HELP = "shapes as NAME=ROWSxCOLS or NAME:ROWSxCOLS, comma-separated (W=3x4,x=4x1); " \
              "sizes may be names (X=dxN, given distinct values) and a named size may be set " \
              "(N=5); a constant has a decimal point or an exponent (eps=1e-5)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    command = parser.prog.split()[-1]
    parser.set_defaults(matrix_command=command)
    if command in ("matgrad", "check-backprop"):
        parser.add_argument("loss", help="scalar loss in NumPy spelling (norm2(W@x + b - y)) or "
                                         "LaTeX; 'name = expr;' lines define intermediates")
        parser.add_argument("--wrt", required=True, help="the matrix to differentiate by, e.g. W")
        parser.add_argument("--shapes", required=True, help=SHAPES_HELP)
        parser.add_argument("--syntax", choices=("auto", "text", "latex"), default="auto",
                            help="input syntax (auto: LaTeX when the text contains a backslash)")
        parser.add_argument("--assume", default=None, metavar="NAME: KIND, ...",
                            help='structure of inputs, e.g. "Y: one-hot rows, A: symmetric" (kinds: '
                                 'one-hot rows, one-hot columns, symmetric, positive definite, '
                                 'invertible, positive, probabilities); random inputs respect it')
    if command in ("matgrad", "check-backprop"):
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--jacobian", action="store_true",
                          help="the Jacobian ∂f/∂xᵀ of a column-valued expression (e.g. sigmoid(W@x)) "
                               "by a column vector")
        kind.add_argument("--hessian", action="store_true",
                          help="the Hessian ∂²L/∂x∂xᵀ of a scalar loss by a column vector "
                               "(x.T@A@x gives A + Aᵀ)")
    if command == "check-backprop":
        parser.add_argument("--claim", required=True,
                            help="your gradient, e.g. \"2*(W@x - y)@x.T\"; may use the loss's "
                                 "names (z1, a1), δs (delta2) and 'name = expr;' lines; with "
                                 "--jacobian or --hessian your Jacobian or Hessian, e.g. "
                                 "\"diag(softmax(z)) - softmax(z)@softmax(z).T\"")
        parser.add_argument("--seeds", type=int, default=3, help="random inputs to compare on (default 3)")
    if command == "backprop":
        parser.add_argument("spec", help='network, e.g. "x:4 -> linear:8 -> sigmoid -> linear:3 -> '
                                         'softmax_ce" (x:4x32 for a batch of 32)')
        parser.add_argument("--batch", type=int, default=None, help="batch size N (default: one example)")
    if command == "gradflow":
        parser.add_argument("--depth", type=int, default=10, help="number of layers (default 10)")
        parser.add_argument("--width", type=int, default=32, help="units per layer (default 32)")
        parser.add_argument("--activation", choices=("sigmoid", "tanh", "relu"), default="sigmoid")
        parser.add_argument("--init", choices=("normal", "xavier", "he"), default="xavier",
                            help="weight initialisation (default xavier)")
        parser.add_argument("--compare", action="store_true",
                            help="compare sigmoid, tanh and relu with the same seed")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--batch", type=int, default=64, help="random examples (default 64)")
        parser.add_argument("--plot", metavar="FILE.png", help="write a figure of the gradient norms")
        parser.add_argument("--force", action="store_true", help="overwrite an existing plot file")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    if command != "gradflow":
        parser.add_argument("--timeout", type=float, default=10.0, help="seconds before giving up")


def run(args: argparse.Namespace) -> int:
    command = args.matrix_command
    if command == "matgrad":
        from derivekit.matrix.gradient import matrix_gradient
        if args.jacobian or args.hessian:
            from derivekit.matrix.jacobian import matrix_hessian, matrix_jacobian
            derive = matrix_jacobian if args.jacobian else matrix_hessian
        else:
            derive = matrix_gradient
        result = derive(args.loss, args.wrt, args.shapes, syntax=args.syntax, timeout=args.timeout,
                        assume=args.assume)
        print(result.render(args.format))
        return 0
    if command == "backprop":
        from derivekit.matrix.networks import backprop
        result = backprop(args.spec, batch=args.batch, timeout=args.timeout)
        print(result.render(args.format))
        return 0
    if command == "check-backprop":
        from derivekit.matrix.gradient import verify_backprop
        if args.seeds < 1 or args.seeds > 50:
            print("derivekit check-backprop: error: --seeds must be 1 to 50", file=sys.stderr)
            return 2
        verdict = verify_backprop(args.loss, args.claim, args.wrt, args.shapes,
                                  seeds=tuple(range(args.seeds)), syntax=args.syntax,
                                  timeout=args.timeout, assume=args.assume,
                                  kind="jacobian" if args.jacobian else "hessian" if args.hessian
                                  else "gradient")
        document = {"document": True} if args.format == "latex" else {}  # prose that wraps
        args.exit_code = 0 if verdict.ok else (1 if verdict.checked else 2)  # kept if the pipe closes
        print(verdict.render(args.format, **document))
        return args.exit_code
    from derivekit.matrix.gradient_flow import gradflow
    result = gradflow(depth=args.depth, width=args.width, activation=args.activation,
                      init=args.init, seed=args.seed, batch=args.batch, compare=args.compare)
    print(result.render(args.format))
    if args.plot:
        from derivekit.plots.gradflow import plot_gradflow
        plot_gradflow(result, args.plot, args.force)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0
