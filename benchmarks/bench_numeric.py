"""Numeric-layer speed, as ratios against a reference measured in the same process.

    .venv/bin/python benchmarks/bench_numeric.py [--repeat 7] [--quick] [--ratio-runs K]

1. Gradient cost over function cost (NumPy, 10⁵ samples), with and without cse, on a
   depth-10 sigmoid chain and on a 4-8-1 MLP squared loss (49 parameters).
2. Single-point gradient, ``math`` backend, against ``jax.jit(jax.grad(f))``.
3. 10⁶-point NumPy batch gradient against ``jax.jit(jax.vmap(jax.grad(f)))``.
4. Central-difference check of a 1000-variable gradient (one batched call).
5. ``dk.verify`` on a textbook-size expression (logistic-regression loss gradient).
6. ``dk.gradcheck`` of Rosenbrock in N = 100, 200, 400, 1000 variables, derivation included,
   against ``dk.gradient`` alone (``--only-gradcheck`` runs this section alone).

7. Plain text past the default input cap: Rosenbrock_N written out (N = 1000: 38,630
   characters) through ``dk.parse(text, max_chars=…)`` and ``derivekit grad … --max-chars``
   (``--only-max-chars`` runs this section alone).

``--ratio-runs K`` runs section 1 alone, K times in a row (is the ratio held across runs?).

jax is optional (``pip install jax``): without it, comparisons 2 and 3 print "skipped".
Times are best-of-``repeat`` CPU time of this process (``time.process_time``), which is
steadier than wall time on a shared machine; no figure here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derivekit.numeric import finitediff  # noqa: E402
from derivekit.numeric.compiled import compile, compile_gradient, gradient_exprs  # noqa: E402
from derivekit.parsing.functions import sigmoid  # noqa: E402

try:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
except ImportError:  # optional
    jax = None


def best(fn, repeat: int, number: int = 1, clock=time.process_time) -> float:
    times = []
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            fn()
        times.append((clock() - start) / number)
    return min(times)


def interleaved(reference, candidate, repeat: int) -> tuple[float, float]:
    """Best times of two callables measured alternately (so load changes hit both)."""
    ref, cand = [], []
    for _ in range(repeat):
        for fn, out in ((reference, ref), (candidate, cand)):
            start = time.process_time()
            fn()
            out.append(time.process_time() - start)
    return min(ref), min(cand)


def fmt_time(t: float) -> str:
    return f"{t * 1e6:.1f} µs" if t < 1e-3 else f"{t * 1e3:.2f} ms"


# --- the workloads -------------------------------------------------------------------------

def sigmoid_chain(depth: int = 10):
    """z₀ = x, z_k = σ(w_k·z_{k−1}); f = z_depth; parameters w₁…w_depth."""
    x = sp.Symbol("x")
    ws = sp.symbols(f"w1:{depth + 1}")
    z = x
    for w in ws:
        z = sigmoid(w * z)
    return z, list(ws), [x]


def mlp_loss(n_in: int = 4, n_hidden: int = 8):
    """(W₂·σ(W₁x + b₁) + b₂ − y)² for a n_in-n_hidden-1 network."""
    xs = sp.symbols(f"x1:{n_in + 1}")
    W1 = sp.Matrix(n_hidden, n_in, sp.symbols(f"W1_0:{n_hidden * n_in}"))
    b1 = sp.Matrix(sp.symbols(f"b1_0:{n_hidden}"))
    W2 = sp.Matrix(1, n_hidden, sp.symbols(f"W2_0:{n_hidden}"))
    b2, y = sp.symbols("b2 y")
    hidden = (W1 * sp.Matrix(xs) + b1).applyfunc(sigmoid)
    loss = ((W2 * hidden)[0] + b2 - y) ** 2
    params = list(W1) + list(b1) + list(W2) + [b2]
    return loss, params, list(xs) + [y]


def jax_mlp(n_in: int = 4, n_hidden: int = 8):
    def loss(p, xv, y):
        W1 = p[: n_hidden * n_in].reshape(n_hidden, n_in)
        b1 = p[n_hidden * n_in: n_hidden * n_in + n_hidden]
        W2 = p[n_hidden * n_in + n_hidden: n_hidden * n_in + 2 * n_hidden]
        b2 = p[-1]
        return (jnp.dot(W2, jax.nn.sigmoid(W1 @ xv + b1)) + b2 - y) ** 2
    return loss


def jax_chain(depth: int = 10):
    def f(ws, x):
        z = x
        for k in range(depth):
            z = jax.nn.sigmoid(ws[k] * z)
        return z
    return f


# --- 1. gradient / function ratio ------------------------------------------------------------

def ratio_rows(repeat: int, samples: int, with_out: bool = True, without_cse: bool = True):
    """(workload, cse, mode, function time, gradient time): each pair measured in alternation
    in this process. Mode "fresh" drops each result at once (``f(*values)`` in a timing
    loop), "loop" holds it until the next call's result replaces it (``g = grad(X)`` in a
    training loop), "all kept" holds the last four (so every call needs new memory: the
    compiled function's pool keeps two), "out=" writes into arrays allocated once."""
    rows = []
    rng = np.random.default_rng(0)
    for name, (expr, params, data) in {"sigmoid chain, depth 10": sigmoid_chain(),
                                       "4-8-1 MLP squared loss": mlp_loss()}.items():
        args = params + data
        values = [rng.normal(scale=0.5) for _ in params] + [rng.normal(size=samples) for _ in data]
        f = compile(expr, args, backend="numpy")
        for cse in (True, False) if without_cse else (True,):
            g = compile_gradient(expr, params, args=args, backend="numpy", cse=cse)
            t_f, t_g = interleaved(lambda: f(*values), lambda: g(*values), repeat)
            rows.append((name, cse, "fresh", t_f, t_g))
            if with_out and cse:  # the result held until the next call replaces it, as in
                held_f, held_g = [None], [None]  # `g = grad(X)` in a loop
                t_f, t_g = interleaved(lambda: held_f.__setitem__(0, f(*values)),
                                       lambda: held_g.__setitem__(0, g(*values)), repeat)
                rows.append((name, cse, "loop", t_f, t_g))
                kept_f, kept_g = [], []  # every result still held: each call needs new memory
                t_f, t_g = interleaved(lambda: _keep(kept_f, f(*values)),
                                       lambda: _keep(kept_g, g(*values)), repeat)
                rows.append((name, cse, "all kept", t_f, t_g))
                del held_f, held_g, kept_f, kept_g
            if with_out and cse:
                f_out, g_out = f(*values), g(*values)
                t_f, t_g = interleaved(lambda: f(*values, out=f_out), lambda: g(*values, out=g_out), repeat)
                rows.append((name, cse, "out=", t_f, t_g))
    return rows


def _keep(results: list, result) -> None:
    """Hold ``result`` with the few before it (more than a compiled function's pool keeps)."""
    results.append(result)
    del results[:-4]


def print_ratio_runs(repeat: int, samples: int, runs: int) -> int:
    """``--ratio-runs K``: section 1 with cse only, K times in a row, one line per run."""
    print(f"gradient / function cost, NumPy backend, {samples:,} samples, cse on, {runs} runs "
          f"(best of {repeat} alternated CPU times each)")
    print("| run | workload | mode | function | gradient | ratio |\n|---:|---|---|---:|---:|---:|")
    for run in range(1, runs + 1):
        for name, _, mode, t_f, t_g in ratio_rows(repeat, samples, without_cse=False):
            print(f"| {run} | {name} | {mode} | {fmt_time(t_f)} | {fmt_time(t_g)} | {t_g / t_f:.2f}× |")
    return 0


# --- 2. single point: math backend vs jax.jit(grad) ----------------------------------------------

def single_point_rows(repeat: int):
    rows = []
    rng = np.random.default_rng(1)
    for name, (expr, params, data), jax_f in [
            ("sigmoid chain, depth 10 (10 vars)", sigmoid_chain(), jax_chain() if jax else None),
            ("4-8-1 MLP loss (49 vars)", mlp_loss(), jax_mlp() if jax else None),
            ("8-10-1 MLP loss (101 vars)", mlp_loss(8, 10), jax_mlp(8, 10) if jax else None)]:
        args = params + data
        values = [float(v) for v in rng.normal(scale=0.5, size=len(args))]
        g = compile_gradient(expr, params, args=args, backend="math")
        t_ours = best(lambda: g(*values), repeat, number=2000)
        t_jax = None
        if jax is not None:
            p = np.array(values[: len(params)])
            rest = values[len(params):]
            jg = jax.jit(jax.grad(jax_f))
            jax_args = (p, rest[0]) if "chain" in name else (p, np.array(rest[:-1]), rest[-1])
            theirs = np.asarray(jg(*jax_args))
            assert np.allclose(np.array(g(*values)), theirs, rtol=1e-9), name
            call = (lambda: jg(*jax_args).block_until_ready())
            t_jax = best(call, repeat, number=2000)
        rows.append((name, len(params), t_ours, t_jax))
    return rows


# --- 3. 10⁶ points: NumPy batch vs jax.jit(vmap(grad)) ------------------------------------------

def batch_rows(repeat: int, samples: int):
    rows = []
    rng = np.random.default_rng(2)
    for name, (expr, params, data), jax_f in [
            ("sigmoid chain, depth 10", sigmoid_chain(), jax_chain() if jax else None),
            ("4-8-1 MLP loss", mlp_loss(), jax_mlp() if jax else None)]:
        args = params + data
        pvals = rng.normal(scale=0.5, size=len(params))
        dvals = [rng.normal(size=samples) for _ in data]
        g = compile_gradient(expr, params, args=args, backend="numpy")
        ours_call = (lambda: g(*pvals, *dvals))
        t_ours = (best(ours_call, repeat), best(ours_call, repeat, clock=time.perf_counter))
        t_jax = None
        if jax is not None:
            if "chain" in name:
                jg = jax.jit(jax.vmap(jax.grad(jax_f), in_axes=(None, 0)))
                call = (lambda: jg(pvals, dvals[0]).block_until_ready())
            else:
                xs = np.stack(dvals[:-1], axis=1)
                jg = jax.jit(jax.vmap(jax.grad(jax_f), in_axes=(None, 0, 0)))
                call = (lambda: jg(pvals, xs, dvals[-1]).block_until_ready())
            theirs = np.asarray(call())
            ours = g(*pvals, *dvals)
            assert np.allclose(ours[:, :1000].T, theirs[:1000], rtol=1e-8, atol=1e-12), name
            t_jax = (best(call, repeat), best(call, repeat, clock=time.perf_counter))
        rows.append((name, t_ours, t_jax))
    return rows


# --- 4. 1000-variable central-difference check ---------------------------------------------------

def fd_rows(repeat: int, n: int = 1000):
    xs = sp.symbols(f"x0:{n}")
    expr = sum(sp.log(1 + sp.exp(xs[i] * xs[i + 1])) + xs[i] ** 2 / 2 for i in range(n - 1))
    t0 = time.perf_counter()
    f = compile(expr, xs, backend="numpy", cse=False)
    grads = gradient_exprs(expr, xs)
    g = compile(grads, xs, backend="numpy")
    t_setup = time.perf_counter() - t0
    point = np.random.default_rng(3).uniform(-1, 1, size=(1, n))
    wrt = list(range(n))

    def check():
        numeric = finitediff.central(f, point, wrt, 1e-6)
        analytic = g(*point.T)
        return np.all(np.abs(analytic - numeric) <= 1e-5 + 1e-3 * np.abs(numeric))

    assert check()
    t_check = best(check, repeat)
    t_f = best(lambda: f(*point.T), repeat)
    return n, t_setup, t_check, t_f


# --- 5. verify on a textbook-size expression --------------------------------------------------

def verify_rows(repeat: int):
    from sympy.core.cache import clear_cache

    import derivekit as dk
    cases = [
        ("logistic loss, ∇ w.r.t. (w, b)", "-y*log(sigmoid(w*x + b)) - (1 - y)*log(1 - sigmoid(w*x + b))",
         "[(sigmoid(w*x + b) - y)*x, sigmoid(w*x + b) - y]", "w, b"),
        ("σ(wx+b), missing chain factor", "sigmoid(w*x + b)", "sigmoid(w*x+b)*(1 - sigmoid(w*x+b))", "w"),
    ]
    rows = []
    for name, f, claim, wrt in cases:
        dk.verify(f, claim, wrt)  # imports and first-use set-up
        warm = best(lambda: dk.verify(f, claim, wrt), repeat)

        def cold():
            clear_cache()
            dk.verify(f, claim, wrt)
        rows.append((name, dk.verify(f, claim, wrt).ok, warm, best(cold, repeat)))
    return rows


def rosenbrock(n: int):
    xs = list(sp.symbols(f"x1:{n + 1}"))
    return sp.Add(*[100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1)]), xs


def gradcheck_rows(repeat: int, sizes=(100, 200, 400, 1000)):
    """``dk.gradcheck(rosenbrock_N)`` (derivation, compilation, sampling, the central check)
    against ``dk.gradient`` alone, each from a cleared SymPy cache, best CPU time of ``repeat``."""
    import derivekit as dk

    def cold(fn):
        def run():
            sp.core.cache.clear_cache()
            fn()
        return run

    rows = []
    for n in sizes:
        expr, xs = rosenbrock(n)
        dk.gradcheck(expr)  # warm the process: imports, first lambdify
        t_derive = best(cold(lambda: dk.gradient(expr, xs)), repeat)
        t_check = best(cold(lambda: dk.gradcheck(expr)), repeat)
        rows.append((n, t_derive, t_check))
    return rows


def rosenbrock_text(n: int) -> str:
    """Rosenbrock in x0 … x(n−1) as plain text, as a generator writes it (N = 1000: 38,630 chars)."""
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))


def max_chars_rows(repeat: int, sizes=(100, 200, 400, 1000)):
    """Plain text past the default cap: ``dk.parse(text, max_chars=…)`` and ``dk.gradient``
    of the result (best CPU time of ``repeat``, SymPy cache cleared), and the command a user
    runs, ``derivekit grad TEXT --no-steps --max-chars … --timeout 600`` (one process each; its CPU time
    from ``getrusage``, output to /dev/null)."""
    import resource
    import subprocess

    import derivekit as dk
    rows = []
    for n in sizes:
        text = rosenbrock_text(n)
        cap = 50_000
        names = [f"x{i}" for i in range(n)]

        def parse():
            sp.core.cache.clear_cache()
            return dk.parse(text, max_chars=cap)
        expr = parse()
        t_parse = best(parse, repeat)

        def derive():
            sp.core.cache.clear_cache()
            dk.gradient(expr, names)
        t_derive = best(derive, repeat)
        cli = []
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "derivekit", "grad", text, "--no-steps",
                                   "--max-chars", str(cap), "--timeout", "600"], stdout=subprocess.DEVNULL,
                                  cwd=Path(__file__).resolve().parents[1])
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            assert done.returncode == 0, n
            cli.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall))
        rows.append((n, len(text), t_parse, t_derive, min(cli)))
    return rows


def print_max_chars(repeat: int) -> int:
    print("\n7. plain text past the default cap: Rosenbrock_N as text (CPU; the CLI row is one "
          "process: start-up, parse, derive, print)")
    print("| N | characters | dk.parse(…, max_chars=…) | dk.gradient | derivekit grad --max-chars (CPU) "
          "| (wall) |\n|---:|---:|---:|---:|---:|---:|")
    for n, chars, t_parse, t_derive, (cli_cpu, cli_wall) in max_chars_rows(repeat):
        print(f"| {n} | {chars:,} | {fmt_time(t_parse)} | {fmt_time(t_derive)} | {cli_cpu:.2f} s "
              f"| {cli_wall:.2f} s |")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10⁴ / 10⁵ samples instead of 10⁵ / 10⁶")
    parser.add_argument("--only-gradcheck", action="store_true", help="run section 6 alone")
    parser.add_argument("--only-max-chars", action="store_true", help="run section 7 alone")
    parser.add_argument("--ratio-runs", type=int, metavar="K",
                        help="run section 1 (cse on) K times in a row, and nothing else")
    args = parser.parse_args(argv)
    if args.only_gradcheck:
        return print_gradcheck(args.repeat)
    if args.only_max_chars:
        return print_max_chars(min(args.repeat, 3))
    small, large = (10**4, 10**5) if args.quick else (10**5, 10**6)
    if args.ratio_runs:
        return print_ratio_runs(args.repeat, small, args.ratio_runs)
    print(f"numpy {np.__version__}, sympy {sp.__version__}, jax {jax.__version__ if jax else 'not installed'}")

    print(f"\n1. gradient / function cost, NumPy backend, {small:,} samples")
    print("| workload | cse | result | function | gradient | ratio |\n|---|---|---|---:|---:|---:|")
    for name, cse, mode, t_f, t_g in ratio_rows(args.repeat, small):
        print(f"| {name} | {'on' if cse else 'off'} | {mode} | {fmt_time(t_f)} | {fmt_time(t_g)} "
              f"| {t_g / t_f:.2f}× |")

    print("\n2. single-point gradient: math backend vs jax.jit(jax.grad)")
    print("| workload | vars | derivekit (math) | jax.jit(grad) | jax / derivekit |\n|---|---:|---:|---:|---:|")
    for name, nvars, t_ours, t_jax in single_point_rows(args.repeat):
        jx = fmt_time(t_jax) if t_jax else "skipped (jax not installed)"
        ratio = f"{t_jax / t_ours:.2f}×" if t_jax else "–"
        print(f"| {name} | {nvars} | {fmt_time(t_ours)} | {jx} | {ratio} |")

    print(f"\n3. batch gradient on {large:,} points: NumPy vs jax.jit(vmap(grad)), CPU time and wall time")
    print("| workload | derivekit CPU | jax CPU | derivekit / jax (CPU) | derivekit wall | jax wall "
          "| derivekit / jax (wall) |\n|---|---:|---:|---:|---:|---:|---:|")
    for name, t_ours, t_jax in batch_rows(args.repeat if not args.quick else 3, large):
        if t_jax:
            print(f"| {name} | {fmt_time(t_ours[0])} | {fmt_time(t_jax[0])} | {t_ours[0] / t_jax[0]:.2f}× "
                  f"| {fmt_time(t_ours[1])} | {fmt_time(t_jax[1])} | {t_ours[1] / t_jax[1]:.2f}× |")
        else:
            print(f"| {name} | {fmt_time(t_ours[0])} | skipped (jax not installed) | – "
                  f"| {fmt_time(t_ours[1])} | – | – |")

    n, t_setup, t_check, t_f = fd_rows(args.repeat)
    print(f"\n4. central-difference check of a {n}-variable gradient (compiled once in {t_setup:.1f} s)")
    print(f"| check (2N = {2 * n} perturbed points, one call) | one function call on 1 point | ratio |\n|---:|---:|---:|")
    print(f"| {fmt_time(t_check)} | {fmt_time(t_f)} | {t_check / t_f:.0f}× |")

    print("\n5. dk.verify on textbook-size expressions (budget 200 ms)")
    print("| case | ok | warm SymPy cache | cold SymPy cache |\n|---|---|---:|---:|")
    for name, ok, warm, cold in verify_rows(args.repeat):
        print(f"| {name} | {ok} | {fmt_time(warm)} | {fmt_time(cold)} |")
    print_gradcheck(args.repeat)
    return print_max_chars(min(args.repeat, 3))


def print_gradcheck(repeat: int) -> int:
    print("\n6. dk.gradcheck(rosenbrock_N), derivation included, against the derivation alone (CPU)")
    print("| N | dk.gradient | dk.gradcheck | gradcheck / gradient | gradcheck vs N = 100 |\n|---:|---:|---:|---:|---:|")
    rows = gradcheck_rows(min(repeat, 3))
    for n, t_derive, t_check in rows:
        print(f"| {n} | {fmt_time(t_derive)} | {fmt_time(t_check)} | {t_check / t_derive:.2f}× "
              f"| {t_check / rows[0][2]:.1f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
