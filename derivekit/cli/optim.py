"""``derivekit descend`` and ``derivekit fit``: gradient descent from the command line.

One module serves both commands; :func:`add_arguments` tells them apart by ``parser.prog``.

Exit codes: 0 when every run converged or used its steps, 1 when a run diverged (the
message says so and suggests a smaller learning rate), 2 on usage or parse errors.
"""

from __future__ import annotations

import argparse
import sys
import time

from derivekit.errors import DerivekitError

FORMATS = ("text", "latex", "markdown", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    fitting = parser.prog.endswith("fit")
    parser.set_defaults(command="fit" if fitting else "descend")
    if fitting:
        parser.add_argument("data_file", nargs="?", metavar="FILE.csv", help="the same as --data")
        parser.add_argument("--data", metavar="FILE.csv",
                            help="CSV file with a header row (default: a built-in seeded dataset); "
                                 "columns that look like row IDs are skipped unless named in --features")
        parser.add_argument("--model", choices=("linear", "logistic", "mlp"), default="linear",
                            help="linear regression (MSE), logistic regression (BCE), or a one-hidden-"
                                 "layer MLP (MSE, backprop from derivekit.matrix.networks); default linear")
        parser.add_argument("--hidden", type=int, default=8, help="MLP hidden units (default 8)")
        parser.add_argument("--activation", default="tanh", help="MLP activation (default tanh)")
        parser.add_argument("--target", default="y", help="the target column (default y)")
        parser.add_argument("--features", help="feature columns, comma-separated (default: all others)")
        parser.add_argument("--samples", type=int, default=200, help="rows of the built-in dataset (200)")
        parser.add_argument("--noise", type=float, default=0.1, help="noise of the built-in dataset (0.1)")
        parser.add_argument("--batch-size", type=int,
                            help="rows per update (default: sgd 1, minibatch 32, others all rows)")
        from derivekit.cli.dispatch import add_engine_arguments
        add_engine_arguments(parser, "linear and logistic models; ", "prediction")  # optim/fit_dask.py
    else:
        parser.add_argument("expr", help='the objective, e.g. "x^2 + 10*y^2" or LaTeX')
        parser.add_argument("--start", help="start point, e.g. x=1,y=1")
        parser.add_argument("--wrt", help="the variables in order, comma-separated (default: by name)")
    parser.add_argument("--method", default="gd" if fitting else "adam",
                        help="gd, sgd, minibatch, momentum, nesterov, adagrad, rmsprop, adam, adamw "
                             f"(default {'gd' if fitting else 'adam'})")
    parser.add_argument("--compare", metavar="M1,M2,...", help="run several methods and compare them")
    parser.add_argument("--lrs", metavar="A1,A2,...",
                        help="run the method at several learning rates and compare them")
    parser.add_argument("--lr", type=float, default=0.1 if fitting else 0.01,
                        help=f"learning rate α (default {0.1 if fitting else 0.01})")
    parser.add_argument("--steps", type=int, default=500 if fitting else 200,
                        help=f"maximum number of updates (default {500 if fitting else 200})")
    parser.add_argument("--schedule", default="constant", choices=("constant", "step", "exponential", "cosine"),
                        help="learning-rate schedule (default constant)")
    parser.add_argument("--gamma", type=float, help="decay factor of the step/exponential schedule")
    parser.add_argument("--step-size", type=int, help="updates between decays of the step schedule")
    parser.add_argument("--momentum", type=float, help="μ for momentum/nesterov (default 0.9)")
    parser.add_argument("--betas", help="β₁,β₂ for adam/adamw (default 0.9,0.999)")
    parser.add_argument("--eps", type=float, help="ε (torch defaults: adam 1e-8, rmsprop 1e-8, adagrad 1e-10)")
    parser.add_argument("--alpha", type=float, help="RMSprop's smoothing constant ρ (default 0.99)")
    parser.add_argument("--weight-decay", type=float, help="λ: L2 penalty (adamw: decoupled decay, default 0.01)")
    parser.add_argument("--grad-tol", type=float, default=1e-8, help="stop when ‖∇J‖ ≤ this (default 1e-8)")
    parser.add_argument("--loss-tol", type=float, help="stop when the relative loss change ≤ this")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampling and the built-in dataset (0)")
    parser.add_argument("--worked", type=int, default=1 if fitting else 2,
                        help="updates written out with numbers (default %(default)s)")
    parser.add_argument("--rows", type=int, default=11, help="rows of the progress table (default 11)")
    parser.add_argument("--plot", metavar="FILE", help="save a figure (.png, .svg or .pdf)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing plot file")
    parser.add_argument("--plot-kind", choices=("auto", "loss", "contour"), default="auto",
                        help="loss curves or a contour with paths (auto: contour for 2 variables)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")


def _options(args) -> dict:
    options = {"momentum": args.momentum, "eps": args.eps, "alpha": args.alpha, "weight_decay": args.weight_decay}
    if args.betas:
        try:
            beta1, beta2 = (float(b) for b in args.betas.split(","))
        except ValueError:
            raise DerivekitError(f"cannot read --betas {args.betas!r}", hint="write --betas 0.9,0.999") from None
        options["betas"] = (beta1, beta2)
    return {k: v for k, v in options.items() if v is not None}


def _schedule_options(args) -> dict:
    opts = {"gamma": args.gamma, "step_size": args.step_size}
    return {k: v for k, v in opts.items() if v is not None}


class ProgressBar:
    """A one-line bar on stderr, drawn only when stderr is a terminal and only once a run has
    taken longer than ``delay`` seconds (short runs print nothing)."""

    def __init__(self, label: str, stream=None, delay: float = 1.0, width: int = 30):
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label, self.delay, self.width = label, delay, width
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.shown = False

    def __call__(self, k: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < self.delay or (now - self.drawn_at < 0.1 and k < total):
            return
        self.drawn_at, self.shown = now, True
        filled = int(self.width * k / max(total, 1))
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {k}/{total}")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * (len(self.label) + self.width + 30) + "\r")
            self.stream.flush()


def _runs(objective, start, args, settings, batch_size=None):
    """One run per (method, lr) in ``settings``."""
    from derivekit.optim.optimizers import minimize
    runs = []
    for method, lr in settings:
        bar = ProgressBar(f"{method} lr={lr:g}")
        try:
            runs.append(minimize(objective, start, method=method, lr=lr, steps=args.steps,
                                 schedule=args.schedule, schedule_options=_schedule_options(args),
                                 grad_tol=args.grad_tol, loss_tol=args.loss_tol, batch_size=batch_size,
                                 seed=args.seed, worked_steps=args.worked, progress=bar,
                                 **_options(args)))
        finally:
            bar.close()
    return runs


def _objective(args):
    if getattr(args, "streamed", None) is not None:  # fit --engine dask
        return args.streamed, None
    if args.command == "fit":
        from derivekit.optim.objectives import (
            DATASET_FOR_MODEL,
            fit_objective,
            load_csv,
            make_dataset,
        )
        if args.data_file and args.data and args.data_file != args.data:
            raise DerivekitError(f"two data files given ({args.data_file!r} and --data {args.data!r})",
                                 hint="give one")
        args.data = args.data or args.data_file
        data = (load_csv(args.data, args.target, args.features) if args.data
                else make_dataset(DATASET_FOR_MODEL[args.model], samples=args.samples, noise=args.noise,
                                  seed=args.seed))
        options = {"hidden": args.hidden, "activation": args.activation, "seed": args.seed} \
            if args.model == "mlp" else {}
        return fit_objective(args.model, data, **options), None
    from derivekit.optim.objectives import SymbolicObjective
    from derivekit.options import parse_assignments
    start = parse_assignments(args.start) if args.start is not None else None
    objective = SymbolicObjective(args.expr, wrt=args.wrt)
    if start is None and objective.default_start() is None:
        names = objective.names
        raise DerivekitError(f"a start point is needed for {', '.join(names)}",
                             hint=f"give one with --start {','.join(f'{n}=1' for n in names)}")
    return objective, start


def _fit_summary(objective, run) -> list[str]:
    """For a fit: the exact least-squares answer (linear), the accuracy (logistic) or R² (MLP)."""
    import numpy as np

    from derivekit.optim.objectives import LinearRegression, LogisticRegression
    from derivekit.optim.trajectory import TextWriter
    number = TextWriter().num
    names = objective.names
    lines = []
    theta = run.points[-1]
    if hasattr(objective, "summary_lines"):  # fit --engine dask: sums over the blocks
        return objective.summary_lines(theta)
    if isinstance(objective, LinearRegression):
        exact = objective.least_squares()
        gap = float(np.max(np.abs(run.points[-1] - exact)))
        lines.append("least squares (numpy.linalg.lstsq): "
                     + ", ".join(f"{n} = {number(v, bare=True)}" for n, v in zip(names, exact)) + f";  max |θ − θ*| = {gap:.3g}")
    elif isinstance(objective, LogisticRegression):
        accuracy = float(np.mean(((objective.X @ theta[:-1] + theta[-1]) > 0) == (objective.y == 1)))
        lines.append(f"training accuracy: {accuracy:.3f}")
    else:  # the MLP: how much of y's variance the fit explains
        residual = 2 * objective.value(theta) * len(objective.y)  # J = (1/2m)·Σ r²
        total = float(np.sum((objective.y - objective.y.mean()) ** 2))
        lines.append(f"R² on the training data: {1 - residual / total:.3f}")
    if objective.data.true_params:
        lines.append("true parameters of the built-in data: "
                     + ", ".join(f"{n} = {number(v, bare=True)}" for n, v in objective.data.true_params.items()))
    return lines


def _settings(args) -> list[tuple[str, float]]:
    """(method, lr) pairs: --compare gives methods, --lrs gives rates; both give all pairs."""
    methods = [m.strip() for m in (args.compare or args.method).split(",") if m.strip()]
    if not methods:
        raise DerivekitError("no method given", hint="e.g. --compare gd,momentum,adam")
    rates = [args.lr]
    if args.lrs:
        try:
            rates = [float(r) for r in args.lrs.split(",") if r.strip()]
        except ValueError:
            raise DerivekitError(f"cannot read --lrs {args.lrs!r}", hint="write --lrs 0.001,0.01,0.1") from None
        if not rates or min(rates) <= 0:
            raise DerivekitError("--lrs needs positive learning rates", hint="write --lrs 0.001,0.01,0.1")
    return [(method, lr) for method in methods for lr in rates]


def _run_on_dask(args: argparse.Namespace) -> int:
    """``fit --engine dask``: :func:`run` on a CSV read in blocks, closed afterwards."""
    if not args.data:
        raise DerivekitError("--engine dask reads a CSV file", hint="give --data FILE.csv")
    if args.plot and args.plot_kind == "contour":
        raise DerivekitError("a contour plot evaluates the loss on a grid, a pass over the data per point",
                             hint="use --plot-kind loss with --engine dask")
    args.plot_kind = "loss"
    from derivekit.dask_blocks import output_path
    from derivekit.optim.fit_dask import csv_objective
    if args.out:
        output_path(args.out)
    with csv_objective(args.data, args.model, args.target, args.features,
                       scheduler=args.scheduler) as args.streamed:
        return run(args)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "engine", "numpy") == "dask" and getattr(args, "streamed", None) is None:
        return _run_on_dask(args)
    if getattr(args, "engine", "numpy") != "dask" and (getattr(args, "scheduler", None) or getattr(args, "out", None)):
        raise DerivekitError("--scheduler and --out belong to the dask engine", hint="add --engine dask")
    if args.steps < 0:
        raise DerivekitError("--steps must be ≥ 0")
    if args.lr <= 0:
        raise DerivekitError("--lr must be positive", hint="e.g. --lr 0.01")
    if args.worked < 0 or args.rows < 1:
        raise DerivekitError("--worked must be ≥ 0 and --rows ≥ 1")
    if args.plot:  # a path that cannot be written fails before the work
        from derivekit.plots.optim import check_path
        check_path(args.plot, args.force)
    objective, start = _objective(args)
    batch_size = getattr(args, "batch_size", None)
    settings = _settings(args)
    runs = _runs(objective, start, args, settings, batch_size)
    several = len(runs) > 1 or bool(args.compare or args.lrs)
    document = {"document": True} if args.format == "latex" else {}  # wrapping prose, broken displays
    if several:
        from derivekit.optim.trajectory import Comparison
        result = Comparison(runs)
        output = result.render(args.format, **document)
    else:
        result = runs[0]
        output = result.render(args.format, worked=args.worked, rows=args.rows, **document)
    if args.command == "fit" and args.format in ("text", "markdown"):
        output += "\n\n" + "\n".join(_fit_summary(objective, result.best if several else result))
    data_notes = getattr(getattr(objective, "data", None), "notes", ())
    if data_notes and args.format in ("text", "markdown"):
        output = "\n".join(f"note: {n}" for n in data_notes) + "\n\n" + output
    elif data_notes:
        print("\n".join(f"derivekit {args.command}: note: {n}" for n in data_notes), file=sys.stderr)
    print(output)
    if getattr(args, "out", None):  # fit --engine dask: every row's prediction, in a pass over the blocks
        objective.write_predictions((result.best if several else result).points[-1], args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.plot:
        from derivekit.plots import optim as plot_optim
        kind = args.plot_kind
        if kind == "auto":
            kind = "contour" if len(objective.names) == 2 else "loss"
        plot_optim.plot(runs, kind=kind, path=args.plot, force=args.force)
        print(f"plot saved to {args.plot}", file=sys.stderr)
    diverged = [r.method for r in runs if r.diverged]
    if diverged:
        print(f"derivekit {args.command}: {', '.join(diverged)} diverged — see the message above; "
              f"try a smaller --lr", file=sys.stderr)
        return 1
    return 0
