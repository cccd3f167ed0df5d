"""Peak memory and time of ``pca``/``fit --engine dask`` against the NumPy engine.

    python benchmarks/bench_dask.py [--rows 3000000] [--numpy-rows 1000000] [--steps 20]

Generates a CSV of ``--rows`` rows × 21 columns (20 features x1…x20 and a target y = x·w + b
+ noise, about 0.8 GB at 3·10⁶ rows) in a temporary folder, then runs each command as its own
process under GNU time (``/usr/bin/time -v``; Debian's ``time`` package) and reads the peak
resident set size and the wall and CPU times. The NumPy engine reads the whole file into
memory (PCA refuses more than 10⁶ rows), so the time comparison runs both engines on a
``--numpy-rows`` file. Prints a Markdown table; nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FEATURES = 20


def generate(path: Path, rows: int, seed: int = 0, chunk: int = 200_000) -> None:
    rng = np.random.default_rng(seed)
    w = rng.uniform(-2, 2, FEATURES)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join([f"x{i + 1}" for i in range(FEATURES)] + ["y"]) + "\n")
        for start in range(0, rows, chunk):
            X = rng.standard_normal((min(chunk, rows - start), FEATURES))
            y = X @ w + 0.5 + 0.1 * rng.standard_normal(len(X))
            np.savetxt(handle, np.column_stack([X, y]), fmt="%.9g", delimiter=",")


def measure(args: list[str]) -> dict:
    """Run ``python -m derivekit ARGS`` under GNU time: peak RSS (MB), wall and CPU seconds."""
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "derivekit", *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    report = done.stderr
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1)) / 1024
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", report).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", report).group(1))
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", report).group(1)
    wall = sum(float(part) * 60**i for i, part in enumerate(reversed(clock.split(":"))))
    return {"rss": rss, "wall": wall, "cpu": user + system, "code": done.returncode}


def commands(path: Path, steps: int, engine: str) -> dict[str, list[str]]:
    extra = ["--engine", "dask"] if engine == "dask" else []
    return {
        "pca": ["pca", str(path), "--k", "2", "--no-steps", *extra],
        "fit": ["fit", "--data", str(path), "--steps", str(steps), "--worked", "0", "--rows", "3",
                "--grad-tol", "0", *extra],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--numpy-rows", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--skip-numpy", action="store_true")
    options = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        sys.exit("needs GNU time: apt-get install time")
    folder = Path(tempfile.mkdtemp(prefix="derivekit-bench-dask-"))
    try:
        big = folder / "big.csv"
        generate(big, options.rows)
        size = big.stat().st_size / 2**20
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print(f"{big.name}: {options.rows} rows × {FEATURES + 1} columns, {size:.0f} MB\n")
        print("| command | rows | file MB | peak RSS MB | RSS / file | wall s | CPU s | exit |")
        print("|---|---|---|---|---|---|---|---|")
        for name, args in commands(big, options.steps, "dask").items():
            r = measure(args)
            print(f"| `{name} --engine dask` | {options.rows} | {size:.0f} | {r['rss']:.0f} | "
                  f"{r['rss'] / size:.2f} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['code']} |", flush=True)
        if not options.skip_numpy:
            small = folder / "small.csv"
            generate(small, options.numpy_rows, seed=1)
            small_size = small.stat().st_size / 2**20
            for name in ("pca", "fit"):
                runs = {engine: measure(commands(small, options.steps, engine)[name])
                        for engine in ("numpy", "dask")}
                for engine, r in runs.items():
                    label = f"`{name}`" + (" --engine dask" if engine == "dask" else " (numpy)")
                    print(f"| {label} | {options.numpy_rows} | {small_size:.0f} | {r['rss']:.0f} | "
                          f"{r['rss'] / small_size:.2f} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['code']} |",
                          flush=True)
                print(f"| {name}: dask / numpy wall time | | | | | "
                      f"{runs['dask']['wall'] / runs['numpy']['wall']:.2f}× | | |", flush=True)
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
