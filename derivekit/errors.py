"""The error types every derivekit failure is reported as.

All derive from :class:`DerivekitError`, itself a :class:`ValueError`, so callers can catch
one type. Messages say what went wrong, where, and what to do instead.
"""

from __future__ import annotations


class DerivekitError(ValueError):
    """Base class of every error derivekit raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}\nhint: {hint}")


class ParseError(DerivekitError):
    """Input text could not be read. ``position`` is a 0-based character offset (or None)."""

    def __init__(self, message: str, *, source: str | None = None, position: int | None = None,
                 hint: str | None = None):
        self.source = source
        self.position = position
        text = message
        if source is not None and position is not None:
            line = source if len(source) <= 120 else source[max(0, position - 60): position + 60]
            offset = position if len(source) <= 120 else min(position, 60)
            text = f"{message} at position {position}\n  {line}\n  {' ' * offset}^"
        super().__init__(text, hint=hint)


class LimitError(DerivekitError):
    """Input or work exceeded a safety limit (size, nesting, exponent, or deadline)."""


class UnsupportedError(DerivekitError):
    """The request is well-formed but derivekit has no rule for it."""


class ShapeError(DerivekitError):
    """Matrix or vector shapes do not fit together."""


class AmbiguousShapeError(ShapeError):
    """The shapes could fit, but the text does not say which size a 𝟙 or I has: nothing is
    wrong with the maths, so a claim written this way cannot be checked, not rejected."""


class NeedsMatrixEngine(UnsupportedError):
    """The input is vector or matrix calculus (a norm of a vector, ``@``, ``.T``), which the
    scalar engine cannot differentiate. ``matrix_source`` is the same loss spelled in the
    matrix language (``0.5*norm2(x)``) when derivekit could write it, else None; a caller
    such as the CLI may route the request to :func:`derivekit.matrix_gradient` with it."""

    def __init__(self, message: str, *, hint: str | None = None,
                 matrix_source: str | None = None):
        self.matrix_source = matrix_source
        super().__init__(message, hint=hint)
