"""The diagnosis confusion table: how each labelled wrong claim in the project's mutation
corpora is classified, and whether every right claim is accepted.

    python scripts/diagnosis_table.py            # the default corpora (a few minutes)
    python scripts/diagnosis_table.py --markdown # also print the docs/numeric.md table

Scalar claims: the mutation corpus of tests/numeric/test_verify_mutations.py (every 2nd
derivative × its mutants) and its generated product/quotient-rule slips. Matrix claims: the
backprop corpus's labelled wrong claims (tests/matrix/backprop_corpus.py) and the slips
generated from its right claims (tests/matrix/test_diagnose_slips.py). The labels come from
how each wrong claim was built, independently of the diagnosis code.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import sympy as sp  # noqa: E402

import derivekit as dk  # noqa: E402


def scalar_rows(step: int) -> tuple[list[tuple[str, str]], Counter]:
    from numeric import test_verify_mutations as m
    rows, right = [], Counter()
    for _, f, v in m.CORPUS[::step]:
        expected = sp.diff(f, v)
        right["scalar"] += 1
        right["scalar accepted"] += dk.verify(f, dk.derive(f, v).result, v, timeout=1.0).ok
        for kind, claim in m.mutants(f, v, expected):
            if m._same(claim, expected):
                continue
            if m._coincides_with_earlier_class(kind, f, v, claim, expected):
                right["ambiguous"] += 1  # equal to an earlier class's slip: either name is fair
                continue
            rows.append((kind, dk.verify(f, claim, v, timeout=0.5).error_class or "accepted"))
    for kind, f, claim in m.rule_slip_corpus(60):
        expected = sp.diff(f, m.x)
        if m._same(claim, expected):
            continue
        if m._coincides_with_earlier_class(kind, f, m.x, claim, expected):
            right["ambiguous"] += 1
            continue
        rows.append((kind, dk.verify(f, claim, m.x, timeout=0.5).error_class or "accepted"))
    return rows, right


def matrix_rows() -> tuple[list[tuple[str, str]], Counter]:
    from matrix.backprop_corpus import CASES
    from matrix.test_diagnose_slips import GENERATED
    rows, right = [], Counter()
    for case in CASES:
        verdict = dk.verify_backprop(case.loss, case.right, case.wrt, case.shapes, assume=case.assume)
        right["matrix"] += 1
        right["matrix accepted"] += bool(verdict.ok)
        for label, claim in case.wrong:
            labels = label if isinstance(label, tuple) else (label,)
            w = dk.verify_backprop(case.loss, claim, case.wrt, case.shapes, assume=case.assume)
            got = "accepted" if w.ok else (w.error_class or "unknown")
            rows.append((got if got in labels else labels[0], got))
    for case, label, claim in GENERATED:
        w = dk.verify_backprop(case.loss, claim, case.wrt, case.shapes, assume=case.assume)
        rows.append((label, "accepted" if w.ok else (w.error_class or "unknown")))
    return rows, right


def table(rows: list[tuple[str, str]]) -> list[str]:
    labels = sorted({label for label, _ in rows})
    confusion = Counter(rows)
    lines = ["| slip (label) | claims | diagnosed as that slip | diagnosed otherwise |", "|---|---|---|---|"]
    for label in labels:
        total = sum(n for (a, _), n in confusion.items() if a == label)
        hit = confusion[(label, label)]
        other = ", ".join(f"{got} {n}" for (a, got), n in sorted(confusion.items())
                          if a == label and got != label) or "—"
        lines.append(f"| `{label}` | {total} | {hit} | {other} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=2, help="every STEP-th scalar derivative")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    scalar, right_s = scalar_rows(args.step)
    matrix, right_m = matrix_rows()
    rows = scalar + matrix
    hits = sum(a == b for a, b in rows)
    print(f"wrong claims: {len(rows)} ({len(scalar)} scalar, {len(matrix)} matrix); "
          f"right class: {hits} ({hits / len(rows):.1%})")
    print(f"right claims accepted: scalar {right_s['scalar accepted']}/{right_s['scalar']}, "
          f"matrix {right_m['matrix accepted']}/{right_m['matrix']}; left out as ambiguous (the "
          f"mutant equals an earlier class's slip): {right_s['ambiguous']}")
    for line in table(rows):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
