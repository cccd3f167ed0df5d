"""Cold start of ``derivekit diff`` and the cost of rendering, against references measured in
the same run.

    .venv/bin/python benchmarks/bench_cli.py [--repeat 7]

1. Wall time of a fresh ``python -m derivekit diff "sigmoid(w*x + b)" --wrt w`` process
   (README's example; budget 1.0 s), next to a bare interpreter and ``import sympy``, which
   no derivation can avoid. Best and median of ``repeat`` runs: on a busy machine the median
   grows, the best much less.
2. Import time on that path by package (``python -X importtime``).
3. Rendering the binary cross-entropy derivation in each format, warm.

Prints Markdown for docs/benchmarks.md; no figure here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_EXAMPLE = ["-m", "derivekit", "diff", "sigmoid(w*x + b)", "--wrt", "w"]
BCE = "-(y*log(sigmoid(w*x + b)) + (1 - y)*log(1 - sigmoid(w*x + b)))"


def process_times(args: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds of ``repeat`` fresh processes. CPU time barely
    moves when other work shares the machine; wall time is what a user waits."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def import_time_by_package() -> list[tuple[str, float]]:
    """Import time on the README example's path, summed by top-level package (self times,
    so nested imports are not counted twice), largest first."""
    err = subprocess.run([sys.executable, "-X", "importtime", *README_EXAMPLE], cwd=ROOT,
                         check=True, capture_output=True, text=True).stderr
    totals: dict[str, float] = {}
    for line in err.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        totals[package] = totals.get(package, 0.0) + int(parts[0]) / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1])


def render_times(repeat: int) -> list[tuple[str, float]]:
    sys.path.insert(0, str(ROOT))
    from derivekit.calculus.derive import derive

    d = derive(BCE, "w")
    rows = []
    for fmt in ("text", "latex", "markdown", "dict"):
        best = min(_timed(lambda: d._render(fmt)) for _ in range(repeat))
        rows.append((fmt, best))
    return rows


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    cases = [("`python -c pass`", ["-c", "pass"]),
             ("`python -c 'import sympy'`", ["-c", "import sympy"]),
             ("`derivekit diff \"sigmoid(w*x + b)\" --wrt w`", README_EXAMPLE)]
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| process | wall, best | wall, median | CPU, best |\n|---|---:|---:|---:|")
    for label, argv_ in cases:
        walls, cpus = process_times(argv_, args.repeat)
        print(f"| {label} | {min(walls):.2f} s | {statistics.median(walls):.2f} s | {min(cpus):.2f} s |")
    print("\n| imports of the README example, by package | time |\n|---|---:|")
    packages = import_time_by_package()
    for name, seconds in packages[:6]:
        print(f"| `{name}` | {seconds * 1e3:.0f} ms |")
    rest = sum(seconds for _, seconds in packages[6:])
    print(f"| everything else ({len(packages) - 6} packages) | {rest * 1e3:.0f} ms |")
    print("\n| render the cross-entropy derivation (17 steps), warm | time |\n|---|---:|")
    for fmt, seconds in render_times(args.repeat):
        print(f"| {fmt} | {seconds * 1e3:.1f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
