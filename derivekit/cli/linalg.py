"""The linear-algebra commands: ``dot``, ``matmul``, ``transpose``, ``norm``, ``det``, ``inv``,
``rank``, ``eig`` and ``pca``.

One module serves them all; :func:`add_arguments` reads the command from ``parser.prog``
("derivekit eig") and stores it as the hidden default ``linalg_command``.

    derivekit dot "[1,2,3]" "[4,5,6]"
    derivekit matmul "[[1,2],[3,4]]" "[[5],[6]]"
    derivekit det "[[1,2],[3,4]]"        derivekit inv "[[1,2],[3,4]]"
    derivekit rank "[[1,2],[2,4]]"       derivekit transpose "[[1,2,3],[4,5,6]]"
    derivekit norm "[3,4]" [--kind 1|2|inf|fro]
    derivekit eig "[[2,1],[1,2]]" [--method auto|symbolic|numeric] [--plot eig.png]
    derivekit pca [--data file.csv --columns a,b] [--k 1] [--standardize] [--plot out.png]
    derivekit pca big.csv --engine dask [--scheduler tcp://HOST:8786] [--out scores.csv]
"""

from __future__ import annotations

import argparse
import sys

FORMATS = ("text", "latex", "markdown", "json")
MATRIX_HELP = 'a matrix as text "[[1,2],[3,4]]", "[1, 2; 3, 4]" or LaTeX "\\begin{bmatrix}...\\end{bmatrix}"'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    command = parser.prog.split()[-1]
    parser.set_defaults(linalg_command=command)
    if command == "dot":
        parser.add_argument("u", help='first vector, e.g. "[1,2,3]"')
        parser.add_argument("v", help='second vector, e.g. "[4,5,6]"')
    elif command == "matmul":
        parser.add_argument("a", help="left factor: " + MATRIX_HELP + " (a flat list is a row)")
        parser.add_argument("b", help="right factor (a flat list is a column vector)")
    elif command in ("det", "inv"):
        parser.add_argument("matrix", help="a square matrix: " + MATRIX_HELP)
    elif command in ("rank", "transpose"):
        parser.add_argument("matrix", help="a matrix: " + MATRIX_HELP + " (a flat list is a column)")
    elif command == "norm":
        parser.add_argument("x", help='a vector "[3,4]" or a matrix: ' + MATRIX_HELP)
        parser.add_argument("--kind", default=None,
                            help="1, 2 or inf for vectors (default 2); fro for matrices (their default)")
    elif command == "eig":
        parser.add_argument("matrix", help="a square matrix: " + MATRIX_HELP)
        parser.add_argument("--method", choices=("auto", "symbolic", "numeric"), default="auto",
                            help="symbolic steps, numeric LAPACK, or auto (default) to choose")
        parser.add_argument("--plot", metavar="FILE.png",
                            help="draw the unit circle's image and the eigenvectors (2×2 only)")
        parser.add_argument("--force", action="store_true", help="overwrite an existing plot file")
    elif command == "pca":
        parser.add_argument("data_file", nargs="?", metavar="FILE.csv|NAME",
                            help="the same as --data")
        parser.add_argument("--data", metavar="FILE.csv|NAME",
                            help="CSV file (samples in rows) or a built-in dataset name "
                                 "(gaussian2d, gaussian3d); default: gaussian2d")
        parser.add_argument("--columns", metavar="A,B,...", help="CSV columns to use (default: all)")
        parser.add_argument("--k", type=int, default=None,
                            help="number of components to keep (default: min(2, features))")
        parser.add_argument("--standardize", "--standardise", action="store_true",
                            help="scale every feature to unit variance first")
        parser.add_argument("--plot", metavar="FILE.png",
                            help="write a scree plot and the projection with component arrows")
        parser.add_argument("--force", action="store_true", help="overwrite an existing plot file")
        from derivekit.cli.dispatch import add_engine_arguments
        add_engine_arguments(parser, "", "scores")  # data past memory: linalg/pca_dask.py
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument("--no-steps", dest="steps", action="store_false",
                        help="print the answer without the steps")


def run(args: argparse.Namespace) -> int:
    plot_path = getattr(args, "plot", None)
    if plot_path:  # a path that cannot be written fails before the work
        from derivekit.plots.optim import check_path
        check_path(plot_path, args.force)
    result = _compute(args)
    settings = {"document": True} if args.format == "latex" else {}  # wrapping prose, broken displays
    print(result.render(args.format, steps=args.steps, **settings))
    if plot_path:
        from derivekit.plots import linalg as plot_linalg
        draw = plot_linalg.plot_pca if args.linalg_command == "pca" else plot_linalg.plot_eig
        written = draw(result, plot_path, args.force)
        print(f"wrote {written}", file=sys.stderr)
    return 0


def _compute(args: argparse.Namespace):
    command = args.linalg_command
    if command == "pca":
        from derivekit.linalg.pca import pca
        columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
        if args.data_file and args.data and args.data_file != args.data:
            from derivekit.errors import DerivekitError
            raise DerivekitError(f"two data sources given ({args.data_file!r} and --data "
                                 f"{args.data!r}): give one")
        if args.engine != "dask" and (args.scheduler or args.out):
            from derivekit.errors import DerivekitError
            raise DerivekitError("--scheduler and --out belong to the dask engine", hint="add --engine dask")
        if args.engine == "dask" and args.plot:
            from derivekit.errors import DerivekitError
            raise DerivekitError("--plot draws every row, which --engine dask does not keep",
                                 hint="write the scores with --out FILE.csv and plot those")
        return pca(args.data_file or args.data, args.k, standardize=args.standardize, columns=columns,
                   engine=args.engine, scheduler=args.scheduler, out=args.out)
    from derivekit.linalg import operations as linalg
    if command == "dot":
        return linalg.dot(args.u, args.v)
    if command == "matmul":
        return linalg.matmul(args.a, args.b)
    if command == "det":
        return linalg.det(args.matrix)
    if command == "inv":
        return linalg.inv(args.matrix)
    if command == "rank":
        return linalg.rank(args.matrix)
    if command == "transpose":
        return linalg.transpose(args.matrix)
    if command == "norm":
        return linalg.norm(args.x, args.kind)
    from derivekit.linalg.eigen import eig
    return eig(args.matrix, method=args.method)
