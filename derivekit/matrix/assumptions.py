"""Structure of an input that a gradient (or a claim) depends on: one-hot rows, symmetric,
positive definite, ... Declared by the user (``--assume "Y: one-hot rows, A: symmetric"``,
``assume=`` in the API) or implied by the loss (the target of ``softmax_ce`` is one-hot
along the class axis). Each kind is one row of :data:`KINDS`: how to draw a random value
with that structure, and how to say it in words.

A verdict that holds only under an assumption names it, with the text to declare it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from derivekit.errors import DerivekitError


def _gaussian(r, c, rng):
    # entries of size 1/√cols keep products like Wx of order one at any size
    return rng.standard_normal((r, c)) / np.sqrt(max(c, 1) if r > 1 else 1)


def _one_hot_columns(r, c, rng):
    value = np.zeros((r, c))
    value[rng.integers(0, r, c), np.arange(c)] = 1.0
    return value


def _symmetric(r, c, rng):
    a = _gaussian(r, c, rng)
    return (a + a.T) / 2 if r == c else a


def _positive_definite(r, c, rng):
    if r != c:
        return _gaussian(r, c, rng)
    a = rng.standard_normal((r, r)) / np.sqrt(r)
    return a @ a.T + 0.5 * np.eye(r)


@dataclass(frozen=True)
class Kind:
    """One kind of structure: ``key`` (as written after ``name:``), the words for a verdict
    (``{name}`` filled in), and a sampler ``draw(rows, cols, rng) -> ndarray``."""

    key: str
    words: str
    draw: Callable
    square: bool = False     # only for square matrices
    spellings: tuple[str, ...] = ()


#: every structure that sampling knows, in the order tried when a claim is diagnosed
KINDS: dict[str, Kind] = {k.key: k for k in [
    Kind("one-hot rows", "each row of {name} is one-hot",
         lambda r, c, rng: _one_hot_columns(c, r, rng).T,
         spellings=("onehot rows", "one hot rows", "one-hot-rows", "onehot_rows", "rows one-hot")),
    Kind("one-hot columns", "each column of {name} is one-hot", _one_hot_columns,
         spellings=("onehot columns", "one hot columns", "one-hot cols", "onehot cols",
                    "one-hot-columns", "onehot_cols", "columns one-hot")),
    Kind("symmetric", "{name} is symmetric", _symmetric, square=True),
    Kind("positive definite", "{name} is symmetric positive definite", _positive_definite,
         square=True, spellings=("spd", "pd", "positive-definite", "symmetric positive definite")),
    Kind("invertible", "{name} is invertible",
         lambda r, c, rng: np.eye(r) + 0.3 * rng.standard_normal((r, c)) / np.sqrt(r), square=True),
    Kind("positive", "the entries of {name} are positive",
         lambda r, c, rng: rng.uniform(0.5, 2.0, (r, c)), spellings=("positive entries",)),
    Kind("probabilities", "the entries of {name} lie in (0, 1)",
         lambda r, c, rng: rng.uniform(0.05, 0.95, (r, c)),
         spellings=("unit", "in (0, 1)", "in (0,1)", "probability")),
]}

#: the names the older code used for inferred domains
_ALIASES = {"onehot": "one-hot columns", "onehot_rows": "one-hot rows", "unit": "probabilities"}


def kind(key: str) -> Kind | None:
    """The :class:`Kind` for ``key`` (or an older alias); None for plain Gaussian inputs."""
    return KINDS.get(_ALIASES.get(key, key)) if key else None


def draw(key: str | None, rows: int, cols: int, rng) -> np.ndarray:
    """A random ``rows × cols`` value with the structure ``key`` (Gaussian when None)."""
    k = kind(key) if key else None
    if k is None or (k.square and rows != cols):
        return _gaussian(rows, cols, rng)
    return k.draw(rows, cols, rng)


def describe(name: str, key: str) -> str:
    """``each row of Y is one-hot``."""
    from derivekit.matrix.printers import name_text
    k = kind(key)
    return k.words.format(name=name_text(name)) if k else f"{name_text(name)} is {key}"


def declaration(assumptions: dict[str, str]) -> str:
    """The ``--assume`` text that declares ``assumptions``: ``Y: one-hot rows, A: symmetric``."""
    return ", ".join(f"{name}: {kind(key).key if kind(key) else key}"
                     for name, key in assumptions.items())


def _lookup(text: str) -> str | None:
    words = re.sub(r"\s+", " ", text.strip().lower().replace("_", " "))
    for k in KINDS.values():
        if words == k.key or words in k.spellings or words.replace("-", " ") in (
                k.key.replace("-", " "), *(s.replace("-", " ") for s in k.spellings)):
            return k.key
    return None


def _bare_one_hot(name: str, words: str, shapes) -> str:
    """"one-hot" alone: the only axis a vector has; a matrix must say which."""
    shape = (shapes or {}).get(name)
    if shape is not None and shape[1] == 1:
        return "one-hot columns"
    if shape is not None and shape[0] == 1:
        return "one-hot rows"
    raise DerivekitError(f"'{name}: {words.strip()}' does not say along which axis {name} is one-hot",
                         hint=f'write "{name}: one-hot rows" (one class per row, PyTorch layout) or '
                              f'"{name}: one-hot columns" (one class per column)')


#: the kinds that make a matrix symmetric (Aᵀ = A), which matrix tidying may use
SYMMETRIC_KINDS = ("symmetric", "positive definite")


def symmetric_names(declared: dict[str, str]) -> frozenset[str]:
    """The names ``declared`` symmetric (positive definite included)."""
    return frozenset(n for n, k in (declared or {}).items() if k in SYMMETRIC_KINDS)


def parse_assumptions(spec, shapes: dict[str, tuple[int, int]] | None = None) -> dict[str, str]:
    """Read ``"Y: one-hot rows, A: symmetric"`` (or a dict name -> kind) into name -> kind
    key. Unknown kinds, unknown names and a square-only kind on a non-square input are
    refused with what to write instead."""
    if not spec:
        return {}
    if isinstance(spec, dict):
        items = [(str(n), str(v)) for n, v in spec.items()]
    else:
        items = []
        for part in re.split(r"[,;]", str(spec)):
            if not part.strip():
                continue
            if ":" not in part:
                raise DerivekitError(f"cannot read the assumption '{part.strip()}'",
                                     hint='write NAME: KIND, e.g. --assume "Y: one-hot rows, A: symmetric"')
            name, _, words = part.partition(":")
            items.append((name.strip(), words.strip()))
    known = ", ".join(KINDS)
    out: dict[str, str] = {}
    for name, words in items:
        key = _lookup(words)
        if key is None and words.strip().lower().replace(" ", "-") in ("one-hot", "onehot"):
            key = _bare_one_hot(name, words, shapes)
        if key is None:
            raise DerivekitError(f"unknown assumption '{words}' on {name}",
                                 hint=f"known: {known}")
        if shapes is not None and name not in shapes:
            raise DerivekitError(f"the assumption on '{name}' names no input of the loss",
                                 hint="inputs: " + ", ".join(sorted(shapes)))
        if shapes is not None and KINDS[key].square and shapes[name][0] != shapes[name][1]:
            r, c = shapes[name]
            raise DerivekitError(f"{name} is declared {key}, but it is {r}×{c}, not square",
                                 hint=f"'{key}' needs a square matrix")
        out[name] = key
    return out
