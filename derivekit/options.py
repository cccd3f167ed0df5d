"""Reading option values written as text (command-line flags, study-notes fields):
lists, numbers and ``name=value`` points. Nothing is evaluated; bad text gets a
:class:`~derivekit.errors.DerivekitError` saying how to write it.
"""

from __future__ import annotations

import math

from derivekit.errors import DerivekitError


def split_list(text: str, sep: str = ",") -> list[str]:
    """``"w, b"`` → ``["w", "b"]``."""
    return [part.strip() for part in text.split(sep) if part.strip()]


def parse_number(text: str, what: str = "number") -> float:
    """A finite decimal number (``0.1``, ``1e-3``, ``-2``)."""
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DerivekitError(f"cannot read {what} '{text.strip()}' as a number",
                             hint="write a finite decimal number such as 0.1 or 1e-3")
    return value


def parse_int(text: str, what: str = "integer") -> int:
    """A whole number written in digits."""
    try:
        return int(text.strip())
    except ValueError:
        raise DerivekitError(f"cannot read {what} '{text.strip()}' as a whole number",
                             hint="write digits only, e.g. 2") from None


def parse_assignments(text: str) -> dict[str, float]:
    """A point: ``"x=1, y=-0.5"`` → ``{"x": 1.0, "y": -0.5}``."""
    values = {}
    for item in split_list(text):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise DerivekitError(f"cannot read '{item}' as NAME=VALUE",
                                 hint="write the point as name=value pairs, e.g. x=1, y=-0.5")
        values[name.strip()] = parse_number(value, f"the value of {name.strip()}")
    return values


def parse_bool(text: str, what: str = "option") -> bool:
    """``yes``/``no``, ``true``/``false``, ``on``/``off`` or ``1``/``0``."""
    value = text.strip().lower()
    if value in ("yes", "true", "on", "1"):
        return True
    if value in ("no", "false", "off", "0"):
        return False
    raise DerivekitError(f"cannot read {what} '{text.strip()}' as yes or no",
                         hint="write yes or no")
