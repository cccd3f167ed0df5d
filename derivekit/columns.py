"""Which columns of a data table are row identifiers rather than features.

A CSV often opens with a column that numbers its rows (``id``, ``student``: 1, 2, 3 …).
Taken as a feature, it gives a meaningless weight (fit) or a leading principal component
(PCA). :data:`ID_RULES` names each sign of an identifier, one small function per rule;
:func:`id_column_reason` returns the first that fits, in words for the output.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

#: header names that mark a row identifier: id, ID, idx, index, row, key, user_id, StudentId …
ID_NAME = re.compile(r"^(id|idx|index|row|rownum|row_?number|row_?id|key|uuid|no\.?|#)$"
                     r"|[_\s-]id$|[a-z]Id$|^id[_\s-]", re.IGNORECASE)


def named_like_an_id(name: str, values: np.ndarray) -> str | None:
    """The header says so: ``id``, ``index``, ``row``, ``*_id`` …"""
    return f"its name {name!r} marks a row identifier" if ID_NAME.search(name.strip()) else None


def numbers_the_rows(name: str, values: np.ndarray) -> str | None:
    """Integer values, one per row, forming a run k, k+1, …, k+n−1 (1..n, 0..n−1): the rows'
    numbers, not a measurement."""
    v = np.asarray(values, dtype=float)
    if len(v) < 3 or not np.all(np.isfinite(v)) or not np.all(v == np.round(v)):
        return None
    ordered = np.sort(v)
    if np.all(np.diff(ordered) == 1):
        return f"its values are the integers {int(ordered[0])}..{int(ordered[-1])}, one per row"
    return None


#: tried in order; the first that fits says why a column is an identifier
ID_RULES: list[Callable[[str, np.ndarray], str | None]] = [named_like_an_id, numbers_the_rows]


def id_column_reason(name: str, values: np.ndarray) -> str | None:
    """Why column ``name`` (with ``values``) looks like a row ID, or None."""
    for rule in ID_RULES:
        reason = rule(name, values)
        if reason:
            return reason
    return None


def id_columns(names: Sequence[str], table: np.ndarray) -> dict[str, str]:
    """{name: reason} for the columns of ``table`` (rows are samples) that look like row IDs."""
    out = {}
    for j, name in enumerate(names):
        reason = id_column_reason(name, table[:, j])
        if reason:
            out[name] = reason
    return out


def skipped_note(skipped: dict[str, str], option: str) -> str:
    """One sentence for the output: which columns were skipped, why, and how to keep them."""
    parts = [f"{name!r}: {why}" for name, why in skipped.items()]
    word = "column" if len(parts) == 1 else "columns"
    return (f"skipped the ID-like {word} {'; '.join(parts)} (name the columns with {option} "
            "to choose them yourself)")
