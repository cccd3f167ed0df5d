"""Speed of the step engine and the symengine fast path (issue 2), against references
measured in the same process.

    python benchmarks/bench_derive.py            # all measurements, printed as a table
    python benchmarks/bench_derive.py --quick    # skip the slow SymPy references
    python benchmarks/bench_derive.py --markdown # also print the docs/benchmarks.md section

Targets (issue 2): BCE-of-σ steps ≤ 50 ms warm; Hessian of a 49-parameter MLP loss ≤ 100 ms
(fast path; ``sympy.hessian`` takes seconds); gradient of N-dimensional Rosenbrock for
N = 1000 ≤ 1.5 s, growing near-linearly; a cold ``derivekit diff`` process ≤ 1.0 s.
Wall time and CPU time are both reported: on a shared machine CPU time is the steadier one.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sympy as sp  # noqa: E402

from derivekit.calculus.derive import derive, gradient, hessian  # noqa: E402
from derivekit.parsing.functions import sigmoid  # noqa: E402


def timed(function, repeat: int = 1, fresh_cache: bool = True) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds) over ``repeat`` calls.

    With ``fresh_cache`` SymPy's cache is cleared before each call, so a repeat does not
    find its own work memoised (modules stay imported: "warm" means a warm process)."""
    walls, cpus = [], []
    for _ in range(repeat):
        if fresh_cache:
            sp.core.cache.clear_cache()
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


# --- the workloads -----------------------------------------------------------------------

def bce_of_sigmoid() -> tuple[sp.Expr, sp.Symbol]:
    w, x, b, y = sp.symbols("w x b y")
    s = sigmoid(w * x + b)
    return -(y * sp.log(s) + (1 - y) * sp.log(1 - s)), w


def mlp_loss() -> tuple[sp.Expr, list[sp.Symbol]]:
    """MSE of a 4-8-1 sigmoid network on one sample, written out elementwise: 49 parameters."""
    xs, y = sp.symbols("x1:5"), sp.Symbol("y")
    W = [[sp.Symbol(f"W_{j}{i}") for i in range(1, 5)] for j in range(1, 9)]
    b = [sp.Symbol(f"b_{j}") for j in range(1, 9)]
    v, c = [sp.Symbol(f"v_{j}") for j in range(1, 9)], sp.Symbol("c")
    hidden = [sigmoid(sum(W[j][i] * xs[i] for i in range(4)) + b[j]) for j in range(8)]
    output = sigmoid(sum(v[j] * hidden[j] for j in range(8)) + c)
    params = [w for row in W for w in row] + b + v + [c]
    return (output - y) ** 2, params


def rosenbrock(n: int) -> tuple[sp.Expr, list[sp.Symbol]]:
    xs = list(sp.symbols(f"x1:{n + 1}"))
    terms = [100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1)]
    return sp.Add(*terms), xs


# --- the measurements --------------------------------------------------------------------

def bench_bce(rows: list) -> None:
    expr, w = bce_of_sigmoid()
    derive(expr, w)  # warm the process: imports, first-use set-up
    wall, cpu = timed(lambda: derive(expr, w), repeat=20)
    ref_wall, ref_cpu = timed(lambda: sp.diff(expr, w), repeat=20)
    hot_wall, _ = timed(lambda: derive(expr, w), repeat=20, fresh_cache=False)
    rows.append(("BCE of σ(wx+b), d/dw with steps and tidying (warm process)", wall, cpu, "≤ 50 ms",
                 f"{wall / ref_wall:.1f}× sympy.diff ({ref_wall * 1e3:.2f} ms, no steps); "
                 f"{hot_wall * 1e3:.1f} ms with SymPy's cache hot"))


def bench_mlp_hessian(rows: list, quick: bool) -> None:
    loss, params = mlp_loss()
    hessian(loss, params)  # warm
    wall, cpu = timed(lambda: hessian(loss, params), repeat=15)
    if quick:
        note = "reference skipped (--quick)"
    else:
        sp.core.cache.clear_cache()
        ref_wall, _ = timed(lambda: sp.hessian(loss, params))
        note = f"sympy.hessian {ref_wall:.2f} s → {ref_wall / wall:.0f}× faster"
    rows.append(("Hessian, 4-8-1 sigmoid MLP MSE, 49×49 (fast path)", wall, cpu, "≤ 100 ms", note))


def bench_rosenbrock(rows: list, quick: bool) -> None:
    sizes = (100, 200, 400, 1000)
    times = {}
    for n in sizes:
        expr, xs = rosenbrock(n)
        if n == sizes[0]:
            gradient(expr, xs)  # warm the process once
        wall, cpu = timed(lambda: gradient(expr, xs), repeat=5)
        times[n] = cpu  # CPU time: steadier than wall time on a shared machine
        note = f"CPU {cpu / times[sizes[0]]:.1f}× N={sizes[0]} for {n // sizes[0]}× N"
        if not quick and n <= 200:
            ref_wall, _ = timed(lambda: [sp.diff(expr, v) for v in xs])
            note += f"; per-variable sympy.diff {ref_wall:.2f} s ({ref_wall / wall:.0f}×)"
        target = "≤ 1.5 s" if n == 1000 else ""
        rows.append((f"Rosenbrock gradient, N = {n}", wall, cpu, target, note))
        names = [v.name for v in xs]  # the path a user takes: variables given as names
        by_name_wall, by_name_cpu = timed(lambda: gradient(expr, names), repeat=5)
        rows.append((f"Rosenbrock gradient, N = {n}, variables as names", by_name_wall, by_name_cpu,
                     "≤ 1.2× symbols", f"CPU {by_name_cpu / cpu:.2f}× the same call with Symbols"))


def bench_cold_cli(rows: list) -> None:
    """A fresh ``python -m derivekit diff`` process, against a bare interpreter start."""
    def run(args) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu

    command = ["-m", "derivekit", "diff", "sigmoid(w*x + b)", "--wrt", "w"]
    samples = [run(command) for _ in range(5)]
    bare = [run(["-c", "pass"]) for _ in range(5)]
    sympy_import = [run(["-c", "import sympy"]) for _ in range(5)]
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    rows.append(("cold `python -m derivekit diff \"sigmoid(w*x + b)\" --wrt w`", wall, cpu, "≤ 1.0 s",
                 f"bare python {statistics.median(b[0] for b in bare) * 1e3:.0f} ms; "
                 f"python -c 'import sympy' {statistics.median(s[0] for s in sympy_import) * 1e3:.0f} ms"))


def machine() -> str:
    import numpy
    import symengine
    return (f"{platform.machine()} ({os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f}), Python {platform.python_version()}, SymPy {sp.__version__}, "
            f"symengine {symengine.__version__}, NumPy {numpy.__version__}")


def format_time(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the slow SymPy references")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table too")
    parser.add_argument("--no-cli", action="store_true", help="skip the cold-process measurement")
    args = parser.parse_args(argv)
    rows: list = []
    bench_bce(rows)
    bench_mlp_hessian(rows, args.quick)
    bench_rosenbrock(rows, args.quick)
    if not args.no_cli:
        bench_cold_cli(rows)
    print(machine())
    for name, wall, cpu, target, note in rows:
        print(f"{name:62s} wall {format_time(wall):>10s}  cpu {format_time(cpu):>10s}  {target:9s} {note}")
    if args.markdown:
        print("\n| workload | wall | CPU | target | reference (same process) |\n|---|---|---|---|---|")
        for name, wall, cpu, target, note in rows:
            print(f"| {name} | {format_time(wall)} | {format_time(cpu)} | {target} | {note} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
