"""Result arrays a compiled function hands out, taken back once the caller has let go of them.

A large fresh result costs more than its arithmetic: the system maps and zeroes new pages on
first touch (for a 49-entry gradient on 10⁵ points, 39 MB, about a third of the call). A
:class:`ResultPool` keeps the last few results it returned and gives one back for the next
call only when nothing outside the pool refers to it any more: no variable, container or
view (a view holds its base), which CPython's reference count tells exactly. So a training
loop ``g = grad(X)`` alternates between two arrays, and a result the caller still holds is
never written into.
"""

from __future__ import annotations

import sys

import numpy as np

#: results smaller than this are cheap to allocate; larger ones are not kept (memory held)
MIN_BYTES = 1 << 20
MAX_BYTES = 1 << 28
KEEP = 2  # a loop holds the previous result while the next is computed


def _references(array: np.ndarray) -> int:
    return sys.getrefcount(array)


def _unreferenced_count() -> int:
    """What :func:`_references` reads for an array held only by a pool's list (measured, so
    that it stays right on interpreters that count borrowed references differently)."""
    held = [np.empty(1)]
    for array in held:
        return _references(array)
    raise AssertionError  # pragma: no cover


_FREE = _unreferenced_count()


class ResultPool:
    """Up to :data:`KEEP` result arrays, reused when unreferenced (see the module's text)."""

    def __init__(self) -> None:
        self._arrays: list[np.ndarray] = []

    def empty(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of ``shape`` and ``dtype``: a kept one nobody
        else holds, or a new one (kept when its size is worth keeping)."""
        dtype = np.dtype(dtype)
        for array in self._arrays:
            if array.shape == shape and array.dtype == dtype and _references(array) <= _FREE:
                return array
        array = np.empty(shape, dtype=dtype)
        if MIN_BYTES <= array.nbytes <= MAX_BYTES:
            self._arrays = [a for a in self._arrays if a.shape == shape and a.dtype == dtype]
            self._arrays = (self._arrays + [array])[-KEEP:]
        return array

    def clear(self) -> None:
        """Let go of the kept arrays (their memory returns when the caller drops them too)."""
        self._arrays = []
